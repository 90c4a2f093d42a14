//! One request from arrival to answer: the web server's own answers (maintenance,
//! redirect, firewall, 404), then a PHP worker (FIFO queue) whose work shares the host's
//! cores and the database's ([`crate::capacity`]), the dispatcher's authentication,
//! [`crate::protocol::respond`], faults and PrestaShop's headers.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use sha1::{Digest, Sha1};

use super::hosting::{self, SERVER, UNAUTHORIZED_BODY, WWW_AUTHENTICATE};
use super::request::{self, Route};
use super::Shared;
use crate::api::{ApiRequest, ApiResponse, Format, Permissions, Version};
use crate::capacity::{Capacity, Work, WorkerSlot};
use crate::errors::{error_body, error_response, PsError};
use crate::faults::{insert_bad_char, Fault};

/// Response body type of the server.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// The connection is closed without an answer (an injected reset).
#[derive(Debug)]
pub struct Aborted;

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by the simulated host")
    }
}

impl std::error::Error for Aborted {}

const HTML_LATIN1: &str = "text/html; charset=iso-8859-1";
const HTML_UTF8: &str = "text/html; charset=utf-8";

/// An answer before it becomes an HTTP response.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Announce the whole body, send half of it, then fail the connection.
    truncate: bool,
}

impl Answer {
    fn new(status: u16, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Answer {
        let mut a = Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
            truncate: false,
        };
        if let Some(ct) = content_type {
            a.headers.push(("content-type", ct.to_string()));
        }
        a
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("server", SERVER);
        for (name, value) in &self.headers {
            builder = builder.header(*name, value.as_str());
        }
        // Apache closes the connection after these statuses (ap_status_drops_connection).
        if matches!(
            self.status,
            400 | 408 | 411 | 413 | 414 | 417 | 500 | 501 | 503
        ) {
            builder = builder.header("connection", "close");
        }
        let body = if self.truncate {
            builder = builder.header("content-length", self.body.len().to_string());
            let half_len = self.body.len() / 2;
            let half = Bytes::from(self.body).slice(..half_len);
            // Send the first half, let hyper flush it with the headers, then fail: the client
            // sees a 200 whose body stops short of its Content-Length.
            let first = futures::stream::iter([Ok(Frame::data(half))]);
            let failure = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(std::io::Error::other(
                    "body truncated by the simulated host",
                ))
            });
            BodyExt::boxed(StreamBody::new(first.chain(failure)))
        } else {
            Full::new(Bytes::from(self.body))
                .map_err(|never| match never {})
                .boxed()
        };
        builder.body(body).expect("valid response")
    }
}

/// Serve one request (the hyper service). `Err` closes the connection without an answer.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Aborted> {
    let arrival = Instant::now();
    let head = req.method() == hyper::Method::HEAD;
    let mut in_flight = InFlight::start(&shared);
    let (label, answer) = answer(&shared, &req, arrival).await;
    in_flight.done = true;
    match answer {
        Some(a) => {
            let sent = if head { 0 } else { a.body.len() };
            shared.counters.request_finished(&label, a.status, sent);
            Ok(a.into_response())
        }
        None => {
            shared.counters.request_finished(&label, 0, 0);
            Err(Aborted)
        }
    }
}

/// Counts a request in flight; a request dropped before its answer (the client went away)
/// leaves the in-flight count without being counted as answered.
struct InFlight<'a> {
    shared: &'a Shared,
    done: bool,
}

impl<'a> InFlight<'a> {
    fn start(shared: &'a Shared) -> Self {
        shared.counters.request_started();
        InFlight {
            shared,
            done: false,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.shared.counters.request_abandoned();
        }
    }
}

/// The answer and the counter label (resource, `api`, `storefront` or `-` for the web server).
async fn answer(
    sh: &Shared,
    req: &Request<Incoming>,
    arrival: Instant,
) -> (String, Option<Answer>) {
    let web = |a: Answer| ("-".to_string(), Some(a));
    let h = &sh.hosting;
    let path = req.uri().path();
    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let params = request::parse_query(req.uri().query());
    if h.maintenance {
        return web(
            Answer::new(503, Some(HTML_UTF8), hosting::maintenance_page())
                .header("retry-after", hosting::MAINTENANCE_RETRY_AFTER.to_string()),
        );
    }
    if let Some(target) = &h.redirect_to {
        let location = format!("{}{}", target.trim_end_matches('/'), path_and_query);
        let page = hosting::moved_page(&location, &sh.host, sh.port);
        return web(Answer::new(301, Some(HTML_LATIN1), page).header("location", location));
    }
    if let Some(waf) = &sh.waf {
        if waf.blocks(path_and_query, &params) {
            sh.counters.fault("waf");
            return web(Answer::new(
                403,
                Some(HTML_LATIN1),
                hosting::forbidden_page(&sh.host, sh.port),
            ));
        }
    }
    let not_found = || {
        Answer::new(
            404,
            Some(HTML_LATIN1),
            hosting::not_found_page(&sh.host, sh.port),
        )
    };
    if h.not_prestashop {
        return web(if path == "/" {
            Answer::new(200, Some("text/html"), hosting::NOT_PRESTASHOP_HOME)
        } else {
            not_found()
        });
    }
    match request::route(path, &params) {
        Route::NotFound => web(not_found()),
        Route::Webservice {
            rewritten: true, ..
        } if h.no_rewrite => web(not_found()),
        Route::Storefront => {
            shopper_visit(sh, arrival).await;
            let name = sh.store.read().expect("store lock").shop_name.clone();
            (
                "storefront".to_string(),
                Some(Answer::new(200, Some(HTML_UTF8), storefront_page(&name))),
            )
        }
        Route::Webservice { url, .. } => webservice(sh, req, &url, &params).await,
    }
}

fn storefront_page(shop_name: &str) -> String {
    let name = shop_name.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{name}</title>\n\
         <meta name=\"generator\" content=\"PrestaShop\">\n</head>\n<body id=\"index\">\n\
         <h1>{name}</h1>\n<p>Popular products</p>\n</body>\n</html>\n"
    )
}

/// A worker held by one request; releasing it records the busy time.
struct InService<'a> {
    sh: &'a Shared,
    slot: Option<WorkerSlot>,
    started: Instant,
    records: usize,
}

impl<'a> InService<'a> {
    /// Queue for a worker (FIFO) and take it.
    async fn acquire(sh: &'a Shared) -> InService<'a> {
        let queued = Instant::now();
        sh.counters.enqueued();
        let mut waiting = Waiting { sh, done: false };
        let slot = sh.machine.pool.acquire().await;
        waiting.done = true;
        let started = Instant::now();
        sh.counters.dequeued(started - queued);
        InService {
            sh,
            slot: Some(slot),
            started,
            records: 0,
        }
    }

    /// Runs `work` (scaled) on the host's cores and the database's while holding the
    /// worker, and counts it as the host's CPU time.
    async fn run(&self, cap: &Capacity, work: Work) {
        self.sh.machine.run(cap, work).await;
        self.sh.counters.cpu(work);
    }
}

/// A request in the worker queue; dropped while still waiting, it leaves the queue count.
struct Waiting<'a> {
    sh: &'a Shared,
    done: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.sh.counters.queue_abandoned();
        }
    }
}

impl Drop for InService<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.sh
                .counters
                .served(slot.index(), self.started.elapsed(), self.records);
        }
    }
}

/// One storefront page: a worker for the shopper's work; the latency from `arrival` is
/// recorded.
pub(crate) async fn shopper_visit(sh: &Shared, arrival: Instant) {
    // A visitor without the shop's cookie, as every simulated visit is: PrestaShop creates
    // a guest for it (see `add_new_guests`).
    sh.new_guests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let cap = sh.capacity();
    let worker = InService::acquire(sh).await;
    worker.run(&cap, cap.scaled_work(cap.shopper_work())).await;
    drop(worker);
    sh.counters.shopper(arrival.elapsed());
}

/// The guests of the storefront visits counted since the last call: PrestaShop creates one
/// per visitor without its cookie (`ps_guest`, the Webservice's `guests`), which a reader
/// watches to tell whether anyone is on the storefront; Webservice requests create none.
/// Only the newest is stored, with the id the last of them would have had (ids are never
/// reused, so the gaps are guests that are not kept): a long run of visits costs one row
/// per `guests` request, not one per visit.
fn add_new_guests(sh: &Shared) {
    let visits = sh.new_guests.swap(0, std::sync::atomic::Ordering::Relaxed);
    if visits == 0 {
        return;
    }
    let mut store = sh.store.write().expect("store lock");
    let languages = store.languages.len();
    let table = crate::generator::build::table(&mut store, "guests");
    let id = table.next_id() + visits - 1;
    let row = crate::store::Row::empty(table.resource, id, languages);
    table.rows.insert(id, row);
}

/// A Webservice request: worker, dispatcher, respond, faults, headers.
async fn webservice(
    sh: &Shared,
    req: &Request<Incoming>,
    url: &str,
    params: &[(String, String)],
) -> (String, Option<Answer>) {
    let (resource, id) = request::split_url(url);
    if resource == Some("guests") {
        add_new_guests(sh);
    }
    let label = resource.unwrap_or("api").to_string();
    let cap = sh.capacity();
    let mut worker = InService::acquire(sh).await;
    let format = request::format(req.headers(), params);
    let key = request::key(req.headers(), params, sh.hosting.auth_header_stripped);
    let permissions = match authenticate(sh, key.as_deref(), format) {
        Ok(p) => p,
        Err(answer) => {
            worker.run(&cap, cap.scaled_work(cap.request_base())).await;
            return (label, Some(answer));
        }
    };
    let call = Call {
        method: request::method(req.method(), params),
        resource: resource.map(str::to_string),
        id: id.map(str::to_string),
        params: request::webservice_params(params),
        format,
        base_url: sh.base_url.clone(),
        version: sh.version,
        permissions,
    };
    let store = sh.store.clone();
    let started = Instant::now();
    let answered = super::AnsweredRequest {
        resource: call.resource.clone(),
        params: call.params.clone(),
        user_agent: req
            .headers()
            .get(hyper::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let response =
        tokio::task::spawn_blocking(move || call.run(&store.read().expect("store lock")))
            .await
            .expect("the Webservice renderer panicked");
    let render = started.elapsed();
    if let Some(hook) = sh.after_answer.0.lock().expect("hook lock").as_mut() {
        hook(&answered, &mut sh.store.write().expect("store lock"));
    }
    worker.records = response.cost.records;

    let work = cap.scaled_work(cap.work(resource, response.cost));
    // The real rendering stands for part of the PHP work.
    let php_left = |php: Duration| php.saturating_sub(render);
    let limit = cap.scaled(cap.max_execution_time);
    if !work.php.is_zero() && work.php > limit {
        // PHP stops the script: "Maximum execution time of N seconds exceeded". Output is
        // buffered until the end, so with display_errors off the answer is an empty 500,
        // like the recorded fatal error of /api/?output_format=JSON.
        sh.counters.fault("timeout");
        let until_limit = Work {
            php: php_left(limit),
            db: work.db,
        };
        worker.run(&cap, until_limit).await;
        return (label, Some(Answer::new(500, Some(HTML_UTF8), Vec::new())));
    }
    let decision = sh.faults.decide(resource);
    let left = Work {
        php: php_left(work.php),
        db: work.db,
    };
    worker.run(&cap, left).await;
    if let Some(extra) = decision.slow {
        sh.counters.fault("slow");
        tokio::time::sleep(extra).await;
    }
    // PrestaShop's Execution-Time is the script's wall time: sharing the cores counts.
    let exec = worker.started.elapsed().max(render);
    drop(worker);
    let local_sha1 = req
        .headers()
        .get("local-content-sha1")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let answer = match decision.fault {
        None => Some(prestashop_answer(
            sh.version,
            response,
            exec,
            local_sha1.as_deref(),
        )),
        Some(fault) => apply_fault(sh, fault, format, response, exec),
    };
    (label, answer)
}

/// The owned parts of an [`ApiRequest`], moved to the blocking pool for rendering.
struct Call {
    method: Result<crate::api::Method, String>,
    resource: Option<String>,
    id: Option<String>,
    params: Vec<(String, String)>,
    format: Format,
    base_url: String,
    version: Version,
    permissions: Permissions,
}

impl Call {
    fn run(&self, store: &crate::store::Store) -> ApiResponse {
        let method = match &self.method {
            Ok(m) => *m,
            Err(name) => {
                let err = PsError::new(23, format!("Method {name} is not valid"));
                return error_response(405, self.format, &[err]);
            }
        };
        let req = ApiRequest {
            method,
            resource: self.resource.as_deref(),
            id: self.id.as_deref(),
            params: &self.params,
            format: self.format,
            base_url: &self.base_url,
            version: self.version,
            permissions: &self.permissions,
        };
        crate::protocol::respond(store, &req)
    }
}

/// The dispatcher's checks, in its order: a key at all, webservice enabled, key format,
/// key known. Failures carry `PSWS-Version: 0` and `WWW-Authenticate` as recorded.
fn authenticate(sh: &Shared, key: Option<&str>, format: Format) -> Result<Permissions, Answer> {
    let Some(key) = key else {
        return Err(Answer::new(401, Some(HTML_UTF8), UNAUTHORIZED_BODY)
            .header("www-authenticate", WWW_AUTHENTICATE));
    };
    let error = |status: u16, errors: &[PsError], www: bool| {
        let mut a = Answer::new(status, None, error_body(format, errors));
        if www {
            a = a.header("www-authenticate", WWW_AUTHENTICATE);
        }
        let mut a = with_ps_headers(a, "0", "0".to_string());
        a.headers
            .push(("content-type", format.content_type().to_string()));
        a
    };
    if sh.hosting.webservice_disabled {
        let msg = "The PrestaShop webservice is disabled. Please activate it in the PrestaShop Back Office";
        return Err(error(503, &[PsError::new(22, msg)], false));
    }
    if key.is_empty() {
        return Err(error(
            401,
            &[PsError::new(17, "Authentication key is empty")],
            true,
        ));
    }
    if key.chars().count() != 32 {
        return Err(error(
            401,
            &[PsError::new(18, "Invalid authentication key format")],
            true,
        ));
    }
    match sh.keys.iter().find(|(k, _)| k == key) {
        Some((_, permissions)) => Ok(permissions.clone()),
        None => Err(error(
            401,
            &[
                PsError::new(20, "Authentification key is not active"),
                PsError::new(21, "No permission for this authentication key"),
            ],
            true,
        )),
    }
}

/// `Access-Time`, `X-Powered-By`, `PSWS-Version`, `Execution-Time`, in the recorded order.
fn with_ps_headers(mut a: Answer, version: &str, execution_time: String) -> Answer {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    a.headers.push(("access-time", now.to_string()));
    a.headers
        .push(("x-powered-by", "PrestaShop Webservice".to_string()));
    a.headers.push(("psws-version", version.to_string()));
    a.headers.push(("execution-time", execution_time));
    a
}

/// Seconds as PHP prints `round($t, 3)`: `0.05`, `0.003`, `4.231`, `0`.
fn php_seconds(d: Duration) -> String {
    let ms = (d.as_secs_f64() * 1000.0).round() / 1000.0;
    format!("{ms}")
}

fn sha1_hex(body: &[u8]) -> String {
    hex::encode(Sha1::digest(body))
}

/// A normal Webservice answer with its headers; `Content-Sha1` on 2xx only, and 304 with no
/// body when `Local-Content-Sha1` matches (8.x and later). An empty 500 is a PHP fatal
/// error and has none of the Webservice headers.
fn prestashop_answer(
    version: Version,
    r: ApiResponse,
    exec: Duration,
    local_sha1: Option<&str>,
) -> Answer {
    if r.status == 500 && r.body.is_empty() {
        // A PHP fatal error: the script died before returnOutput sent any Webservice header
        // (recorded for `/api/?output_format=JSON` on 8.1.2).
        return Answer::new(500, r.content_type, Vec::new());
    }
    let mut a = with_ps_headers(
        Answer::new(r.status, None, r.body),
        version.header(),
        php_seconds(exec),
    );
    if (200..300).contains(&r.status) {
        let sha1 = sha1_hex(&a.body);
        if version >= Version::V8_1_2 && local_sha1 == Some(sha1.as_str()) {
            a.status = 304;
            a.body.clear();
        }
        a.headers.push(("content-sha1", sha1));
    }
    if let Some(ct) = r.content_type {
        if a.status != 304 {
            a.headers.push(("content-type", ct.to_string()));
        }
    }
    a
}

/// Replace or damage an answer with an injected fault; `None` resets the connection.
fn apply_fault(
    sh: &Shared,
    fault: Fault,
    format: Format,
    r: ApiResponse,
    exec: Duration,
) -> Option<Answer> {
    let version = sh.version;
    let applies = match fault {
        Fault::Empty => r.status == 200,
        Fault::BadChar | Fault::Truncate => !r.body.is_empty(),
        _ => true,
    };
    if !applies {
        return Some(prestashop_answer(version, r, exec, None));
    }
    sh.counters.fault(fault.name());
    Some(match fault {
        Fault::Reset => return None,
        Fault::BrokenResource => Answer::new(500, Some(HTML_UTF8), Vec::new()),
        Fault::ServerError => {
            let warning = PsError::new(
                3,
                "[PHP Warning #2] mysqli::query(): MySQL server has gone away (/var/www/prestashop/classes/db/DbMySQLi.php, line 136)",
            );
            prestashop_answer(version, error_response(500, format, &[warning]), exec, None)
        }
        Fault::Empty => prestashop_answer(
            version,
            ApiResponse {
                body: Vec::new(),
                ..r
            },
            exec,
            None,
        ),
        Fault::BadChar => {
            let body = insert_bad_char(&r.body);
            prestashop_answer(version, ApiResponse { body, ..r }, exec, None)
        }
        Fault::Truncate => {
            let mut a = prestashop_answer(version, r, exec, None);
            a.truncate = true;
            a
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_seconds_like_php() {
        assert_eq!(php_seconds(Duration::from_millis(50)), "0.05");
        assert_eq!(php_seconds(Duration::from_micros(3_100)), "0.003");
        assert_eq!(php_seconds(Duration::from_millis(4231)), "4.231");
        assert_eq!(php_seconds(Duration::ZERO), "0");
    }

    #[test]
    fn sha1_matches_recording() {
        // v8081_wskey_json: body and its recorded Content-Sha1.
        let body = br#"{"orders":[{"id":1},{"id":2},{"id":3}]}"#;
        assert_eq!(sha1_hex(body), "e851034e26dcefa455338faa9d6e77d2943ffa8f");
    }

    #[test]
    fn local_sha1_gives_304() {
        let r = ApiResponse {
            status: 200,
            content_type: Some("application/json"),
            body: b"[]".to_vec(),
            cost: Default::default(),
        };
        let sha = sha1_hex(b"[]");
        let a = prestashop_answer(Version::V8_1_2, r.clone(), Duration::ZERO, Some(&sha));
        assert_eq!(a.status, 304);
        assert!(a.body.is_empty());
        let a = prestashop_answer(Version::V1_7_8, r, Duration::ZERO, Some(&sha));
        assert_eq!(a.status, 200);
    }
}
