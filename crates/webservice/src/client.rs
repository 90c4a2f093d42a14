//! The HTTP client: one resolved [`Connection`] (where and how to talk to the store) and the
//! reads the sync engine makes through it. No hidden retries and no redirects: the caller's
//! pacer decides what to repeat, and [`crate::diagnose::connect`] decides auth mode and URL form once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::{Bytes, BytesMut};
use reqwest::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::address_guard::{check_literal_host, find_forbidden, PublicOnlyResolver};
use crate::decode::{self, Document, ResourceIndex, DEFAULT_MAX_BODY_BYTES};
use crate::error::{Error, Format, HtmlKind, PsError};
use crate::key::WebserviceKey;
use crate::query::Query;
use crate::redact::{redact_text, redact_url};
use crate::store_url::StoreUrl;

/// How the key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// `Authorization: Basic base64(KEY:)`, the recommended form.
    Basic,
    /// `?ws_key=KEY`, for servers that strip the Authorization header.
    WsKey,
}

/// Which URL form reaches the Webservice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlMode {
    /// `/api/<resource>?…` (needs URL rewriting).
    Rewrite,
    /// `/webservice/dispatcher.php?url=<resource>&…` (works without URL rewriting).
    Dispatcher,
}

/// Everything needed to talk to one store, as resolved by [`crate::diagnose::connect`] or set by hand.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The store's base address.
    pub store_url: StoreUrl,
    /// The Webservice key.
    pub key: WebserviceKey,
    /// How the key is sent.
    pub auth_mode: AuthMode,
    /// Which URL form is used.
    pub url_mode: UrlMode,
    /// The preferred body format for records (the root listing is always read as XML, since
    /// PrestaShop 8 cannot render it in JSON).
    pub format: Format,
    /// Cap on one response body, in bytes.
    pub max_body_bytes: u64,
    /// Time limit for one whole request.
    pub timeout: Duration,
    /// Time limit for establishing the connection.
    pub connect_timeout: Duration,
    /// Accept TLS certificates that do not verify (self-signed); off by default.
    pub accept_invalid_certs: bool,
    /// Certificate authorities trusted besides the bundled roots and the operating system's
    /// trust store (`--ca-file`, `SSL_CERT_FILE`): a shop behind a private CA.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Reach public addresses only (off by default): the store host may not be or resolve to a
    /// loopback, private, link-local (cloud metadata), carrier-grade NAT, multicast or
    /// reserved address, checked on every connection (see [`crate::address_guard`]); proxies
    /// from the environment are not used. For servers that connect to store URLs their API
    /// clients submit.
    pub public_only: bool,
    /// Who reads, added to the `User-Agent` (`prestalink/0.1.0 (job 12, worker …)`), so a
    /// shop's access log tells which sync made a request; `None`: the bare product name.
    pub reader: Option<String>,
}

impl Connection {
    /// A connection with the defaults: Basic auth, `/api/` URLs, JSON records, 64 MiB body
    /// cap, 30 s request and 10 s connect time limits, certificates verified, any address.
    pub fn new(store_url: StoreUrl, key: WebserviceKey) -> Connection {
        Connection {
            store_url,
            key,
            auth_mode: AuthMode::Basic,
            url_mode: UrlMode::Rewrite,
            format: Format::Json,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            accept_invalid_certs: false,
            extra_roots: Vec::new(),
            public_only: false,
            reader: None,
        }
    }

    /// The `User-Agent` of this connection's requests.
    pub fn user_agent(&self) -> String {
        let product = concat!("prestalink/", env!("CARGO_PKG_VERSION"));
        match &self.reader {
            Some(reader) => format!(
                "{product} ({})",
                reader.replace(['(', ')', '\r', '\n'], " ")
            ),
            None => product.to_string(),
        }
    }

    /// The full URL of a query in this connection's URL form and auth mode (contains the key
    /// in `ws_key` mode: never log it, use [`redact_url`]).
    pub fn url_for(&self, query: &Query, format: Format) -> Url {
        let mut params = Vec::new();
        let mut url = match self.url_mode {
            UrlMode::Rewrite => self.store_url.api_url(&query.path()),
            UrlMode::Dispatcher => {
                params.push(format!("url={}", crate::query::encode(&query.path())));
                self.store_url.dispatcher_url()
            }
        };
        let encoded = query.encoded_params();
        if !encoded.is_empty() {
            params.push(encoded);
        }
        if format == Format::Json {
            params.push("output_format=JSON".into());
        }
        if self.auth_mode == AuthMode::WsKey {
            params.push(format!("ws_key={}", self.key.expose()));
        }
        url.set_query((!params.is_empty()).then(|| params.join("&")).as_deref());
        url
    }
}

/// What every response carries besides its body.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseMeta {
    /// The requested URL, redacted.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// Body size in bytes.
    pub bytes: u64,
    /// Time from sending the request to the end of the body.
    pub elapsed: Duration,
    /// `Content-Sha1`, for conditional requests (`Local-Content-Sha1`).
    pub content_sha1: Option<String>,
    /// `PSWS-Version` (the PrestaShop version; `0` before authentication).
    pub ps_version: Option<String>,
    /// `Execution-Time` in seconds, as PrestaShop measured it.
    pub execution_time: Option<f64>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Retry-After`, when sent.
    pub retry_after: Option<Duration>,
    /// Whether `X-Powered-By: PrestaShop Webservice` or `PSWS-Version` was present.
    pub from_prestashop: bool,
}

/// A raw response: status, headers and body bytes, uninterpreted.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Metadata.
    pub meta: ResponseMeta,
    /// All response headers.
    pub headers: HeaderMap,
    /// The body (at most the connection's cap).
    pub body: Bytes,
}

impl RawResponse {
    /// Builds a raw response from its parts (recorded responses, tests, other transports).
    pub fn from_parts(
        url: &str,
        status: u16,
        headers: HeaderMap,
        body: Bytes,
        elapsed: Duration,
    ) -> RawResponse {
        RawResponse {
            meta: meta(url.to_owned(), status, &headers, body.len() as u64, elapsed),
            headers,
            body,
        }
    }
}

/// A decoded response.
#[derive(Debug, Clone)]
pub struct Page {
    /// The decoded body.
    pub document: Document,
    /// Metadata.
    pub meta: ResponseMeta,
}

impl Page {
    /// The records of the page (empty for the root listing).
    pub fn into_records(self) -> Vec<crate::record::Record> {
        self.document.into_records()
    }
}

/// The result of a conditional read.
#[derive(Debug, Clone)]
pub enum Conditional {
    /// The content changed (or the server ignores `Local-Content-Sha1`).
    Changed(Page),
    /// `304 Not Modified`: the content still has the given `Content-Sha1`.
    NotModified(ResponseMeta),
}

/// A cheaply cloneable Webservice client bound to one [`Connection`].
#[derive(Debug, Clone)]
pub struct Client {
    connection: Arc<Connection>,
    http: reqwest::Client,
}

impl Client {
    /// A client for an already resolved connection (no request is made). With
    /// [`Connection::public_only`], a store URL whose host is a forbidden IP address is refused
    /// here ([`Error::ForbiddenAddress`]), and host names are resolved by
    /// [`PublicOnlyResolver`], which fails every request to a name that points only to
    /// forbidden addresses. Every request of a client goes to its store URL's host (URLs are
    /// built from it and redirects are never followed), so checking an IP host once is enough.
    pub fn new(connection: Connection) -> Result<Client, Error> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(connection.timeout)
            .connect_timeout(connection.connect_timeout)
            .danger_accept_invalid_certs(connection.accept_invalid_certs)
            .user_agent(connection.user_agent());
        // Bundled roots (webpki-roots) and the operating system's store (rustls-native-certs)
        // are both on through reqwest's features; private CAs come on top.
        for root in &connection.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if connection.public_only {
            check_literal_host(connection.store_url.as_url())?;
            // A proxy would connect on our behalf to an address we never checked.
            builder = builder
                .no_proxy()
                .dns_resolver(Arc::new(PublicOnlyResolver));
        }
        let http = builder.build().map_err(|e| Error::Transport {
            url: connection.store_url.to_string(),
            detail: format!("cannot set up the HTTP client: {e}"),
        })?;
        Ok(Client {
            connection: Arc::new(connection),
            http,
        })
    }

    /// The connection this client uses.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Reads and decodes a query in the connection's preferred format.
    pub async fn get(&self, query: &Query) -> Result<Page, Error> {
        self.get_as(query, self.format_for(query)).await
    }

    /// Reads and decodes a query in the given format.
    pub async fn get_as(&self, query: &Query, format: Format) -> Result<Page, Error> {
        let raw = self.get_raw(query, format, None).await?;
        let document = interpret(&raw, &self.connection.key)?;
        Ok(Page {
            document,
            meta: raw.meta,
        })
    }

    /// Reads a query unless its content still has `content_sha1` (`Local-Content-Sha1`).
    pub async fn get_if_changed(
        &self,
        query: &Query,
        content_sha1: &str,
    ) -> Result<Conditional, Error> {
        let raw = self
            .get_raw(query, self.format_for(query), Some(content_sha1))
            .await?;
        if raw.meta.status == 304 {
            return Ok(Conditional::NotModified(raw.meta));
        }
        let document = interpret(&raw, &self.connection.key)?;
        Ok(Conditional::Changed(Page {
            document,
            meta: raw.meta,
        }))
    }

    /// The root listing: resources and methods this key may use.
    pub async fn resources(&self) -> Result<(ResourceIndex, ResponseMeta), Error> {
        let page = self.get_as(&Query::root(), Format::Xml).await?;
        match page.document {
            Document::Index(index) => Ok((index, page.meta)),
            _ => Err(Error::Decode {
                format: Format::Xml,
                detail: "the root listing is not an <api> element".into(),
                at: None,
            }),
        }
    }

    /// Sends a GET and returns the raw answer whatever its status (for resources the typed
    /// layer does not know, and for diagnosis). Only transport failures and the body cap are
    /// errors here.
    pub async fn get_raw(
        &self,
        query: &Query,
        format: Format,
        content_sha1: Option<&str>,
    ) -> Result<RawResponse, Error> {
        let connection = &self.connection;
        let url = connection.url_for(query, format);
        if connection.public_only {
            // Already checked in `new` (the host never changes); kept next to the request so
            // that no future URL form can bypass it.
            check_literal_host(&url)?;
        }
        let shown = redact_url(&url);
        let mut request = self.http.get(url.clone());
        if connection.auth_mode == AuthMode::Basic {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:", connection.key.expose()));
            let mut value = HeaderValue::from_str(&format!("Basic {token}"))
                .expect("base64 is a valid header value");
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        if let Some(sha1) = content_sha1 {
            request = request.header("Local-Content-Sha1", sha1);
        }
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&e, &url, connection))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(length) = response.content_length() {
            if length > connection.max_body_bytes {
                return Err(Error::BodyTooLarge {
                    url: shown,
                    limit: connection.max_body_bytes,
                });
            }
        }
        let body = read_capped(response, &url, connection).await?;
        let elapsed = started.elapsed();
        let meta = meta(shown, status, &headers, body.len() as u64, elapsed);
        tracing::debug!(url = %meta.url, status, bytes = meta.bytes, elapsed_ms = elapsed.as_millis() as u64, "webservice GET");
        Ok(RawResponse {
            meta,
            headers,
            body,
        })
    }

    fn format_for(&self, query: &Query) -> Format {
        if query.resource().is_none() {
            Format::Xml
        } else {
            self.connection.format
        }
    }
}

async fn read_capped(
    mut response: reqwest::Response,
    url: &Url,
    connection: &Connection,
) -> Result<Bytes, Error> {
    // Sized once from Content-Length when the server sends it (checked against the cap
    // before): a page of 1,000 orders is megabytes, and growing the buffer by doubling
    // copied it several times over, each time into fresh memory the kernel had to zero.
    // At most 16 MiB up front: a server that declares a large body and sends little costs
    // no more than that.
    let expected = response
        .content_length()
        .filter(|&n| n <= connection.max_body_bytes)
        .unwrap_or(0)
        .min(16 << 20);
    let mut body = BytesMut::with_capacity(expected as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > connection.max_body_bytes {
                    return Err(Error::BodyTooLarge {
                        url: redact_url(url),
                        limit: connection.max_body_bytes,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Err(e) => return Err(transport_error(&e, url, connection)),
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
}

fn meta(
    url: String,
    status: u16,
    headers: &HeaderMap,
    bytes: u64,
    elapsed: Duration,
) -> ResponseMeta {
    let ps_version = header(headers, "psws-version");
    let powered = header(headers, "x-powered-by").is_some_and(|v| v.contains("PrestaShop"));
    ResponseMeta {
        url,
        status,
        bytes,
        elapsed,
        content_sha1: header(headers, "content-sha1"),
        from_prestashop: powered || ps_version.is_some(),
        ps_version,
        execution_time: header(headers, "execution-time").and_then(|v| v.parse().ok()),
        content_type: header(headers, CONTENT_TYPE.as_str()),
        retry_after: header(headers, RETRY_AFTER.as_str())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs),
    }
}

/// Turns a transport failure into the variant that says what to check.
fn transport_error(e: &reqwest::Error, url: &Url, connection: &Connection) -> Error {
    if let Some(forbidden) = find_forbidden(e) {
        return forbidden.clone().into();
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(0);
    let shown = redact_url(url);
    let mut chain = Vec::new();
    let mut refused = false;
    let mut timed_out = e.is_timeout();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(current) = source {
        chain.push(current.to_string());
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            refused |= matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
            );
            timed_out |= io.kind() == std::io::ErrorKind::TimedOut;
        }
        source = current.source();
    }
    let innermost = chain.last().cloned().unwrap_or_default();
    let all = chain.join(": ").to_ascii_lowercase();
    let detail = redact_text(&innermost, connection.key.expose());
    if timed_out {
        return Error::Timeout {
            url: shown,
            after: connection.timeout,
        };
    }
    if all.contains("dns error")
        || all.contains("failed to lookup address")
        || all.contains("name or service not known")
    {
        return Error::Dns { host, detail };
    }
    let tls_words = [
        "certificate",
        "tls",
        "handshake",
        "ssl",
        "corrupt message",
        "invalidcontenttype",
    ];
    if url.scheme() == "https"
        && (all.contains("invalidcontenttype") || all.contains("corrupt message"))
    {
        return Error::PlainHttp { host, port };
    }
    if url.scheme() == "https" && tls_words.iter().any(|w| all.contains(w)) {
        return Error::Tls { host, detail };
    }
    if refused || e.is_connect() {
        return Error::ConnectionRefused { host, port, detail };
    }
    Error::Transport {
        url: shown,
        detail: redact_text(&chain.join(": "), connection.key.expose()),
    }
}

/// What a body looks like, judged from its first bytes and content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Empty,
    Xml,
    Json,
    Html,
    Text,
}

fn body_kind(body: &[u8], content_type: Option<&str>) -> BodyKind {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return BodyKind::Empty;
    };
    let head =
        String::from_utf8_lossy(&body[start..body.len().min(start + 512)]).to_ascii_lowercase();
    if head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.contains("<html")
        || head.contains("<head")
        || head.contains("<body")
    {
        return BodyKind::Html;
    }
    if head.starts_with("<?xml") || head.starts_with("<prestashop") {
        return BodyKind::Xml;
    }
    if head.starts_with('{') || head.starts_with('[') {
        return BodyKind::Json;
    }
    if head.starts_with('<') {
        let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
        return if content_type.contains("xml") {
            BodyKind::Xml
        } else {
            BodyKind::Html
        };
    }
    BodyKind::Text
}

fn html_title(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    for (open, close) in [("<title", "</title>"), ("<h1", "</h1>")] {
        if let Some(start) = lower.find(open) {
            if let Some(gt) = lower[start..].find('>') {
                let from = start + gt + 1;
                if let Some(end) = lower[from..].find(close) {
                    let title = text[from..from + end]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    if !title.is_empty() {
                        return title.chars().take(120).collect();
                    }
                }
            }
        }
    }
    String::new()
}

fn html_kind(status: u16, body: &[u8]) -> HtmlKind {
    let lower = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]).to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    // Words of challenge and deny pages (Cloudflare, Sucuri, ModSecurity, hosting WAFs); a
    // 502 page that merely mentions Cloudflare is a server error, not a firewall.
    let challenge = [
        "access denied",
        "captcha",
        "just a moment",
        "attention required",
        "request rejected",
        "bot protection",
        "mod_security",
        "modsecurity",
        "sucuri",
        "firewall",
    ];
    let maintenance = [
        "maintenance",
        "back soon",
        "temporarily unavailable",
        "be right back",
    ];
    let denied = matches!(status, 401 | 403 | 406 | 429);
    if denied || has(&challenge) && !has(&maintenance) {
        HtmlKind::Firewall
    } else if has(&maintenance) {
        HtmlKind::Maintenance
    } else if status == 404 || status == 410 {
        HtmlKind::NotFound
    } else {
        HtmlKind::OtherPage
    }
}

fn excerpt(body: &[u8], key: &WebserviceKey) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    redact_text(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
        key.expose(),
    )
}

/// Interprets a raw answer: the decoded document on success, the precise error otherwise.
pub fn interpret(raw: &RawResponse, key: &WebserviceKey) -> Result<Document, Error> {
    let meta = &raw.meta;
    let status = meta.status;
    let url = meta.url.clone();
    if (300..400).contains(&status) && status != 304 {
        let location = raw
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let to = Url::parse(&url)
            .ok()
            .and_then(|base| base.join(location).ok())
            .map(|u| redact_url(&u))
            .unwrap_or_else(|| redact_text(location, key.expose()));
        return Err(Error::Redirect {
            from: url,
            to,
            status,
        });
    }
    let kind = body_kind(&raw.body, meta.content_type.as_deref());
    let decoded = match kind {
        BodyKind::Xml => Some(decode::decode(&raw.body, Format::Xml, u64::MAX)),
        BodyKind::Json => Some(decode::decode(&raw.body, Format::Json, u64::MAX)),
        _ => None,
    };
    if (200..300).contains(&status) {
        return match (kind, decoded) {
            (_, Some(Ok(Document::Errors(errors)))) => Err(api_error(status, errors, meta)),
            (_, Some(result)) => result,
            (BodyKind::Html, None) => Err(Error::Html {
                status,
                kind: html_kind(status, &raw.body),
                title: html_title(&raw.body),
                url,
                retry_after: meta.retry_after,
            }),
            (BodyKind::Empty, None) => Err(Error::Decode {
                format: Format::Json,
                detail: "the body is empty (PrestaShop sends an empty body when it cannot encode a record, e.g. invalid UTF-8; read it as XML instead)".into(),
                at: None,
            }),
            (_, None) => Err(Error::Decode {
                format: Format::Xml,
                detail: format!("the body is neither XML nor JSON: {}", excerpt(&raw.body, key)),
                at: None,
            }),
        };
    }
    if let Some(Ok(Document::Errors(errors))) = decoded {
        return Err(api_error(status, errors, meta));
    }
    let realm = raw
        .headers
        .get(WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match (status, kind) {
        (401, BodyKind::Text | BodyKind::Empty) if realm.contains("PrestaShop Webservice") => {
            Err(Error::CredentialsNotReceived { url })
        }
        (404, BodyKind::Empty) if meta.from_prestashop => Err(Error::NotFound { url }),
        (_, BodyKind::Html) | (401 | 403, _) => Err(Error::Html {
            status,
            kind: html_kind(status, &raw.body),
            title: html_title(&raw.body),
            url,
            retry_after: meta.retry_after,
        }),
        _ => Err(Error::Status {
            status,
            excerpt: excerpt(&raw.body, key),
            url,
            retry_after: meta.retry_after,
        }),
    }
}

fn api_error(status: u16, errors: Vec<PsError>, meta: &ResponseMeta) -> Error {
    let has = |code: u32| errors.iter().any(|e| e.code == code);
    if has(22) {
        return Error::WebserviceDisabled {
            url: meta.url.clone(),
        };
    }
    if has(17) || has(18) || has(20) || (status == 401 && has(21) && errors.len() > 1) {
        return Error::KeyRejected { errors };
    }
    if has(21) || has(25) || has(26) || has(132) {
        let resource = errors.iter().find_map(|e| {
            let start = e.message.find("type \"")? + 6;
            let end = e.message[start..].find('"')?;
            Some(e.message[start..start + end].to_owned())
        });
        return Error::NotPermitted { resource, errors };
    }
    Error::Api {
        status,
        errors,
        retry_after: meta.retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(mode: AuthMode, url_mode: UrlMode) -> Connection {
        let mut c = Connection::new(
            StoreUrl::parse("https://shop.example/boutique/").unwrap(),
            WebserviceKey::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").unwrap(),
        );
        c.auth_mode = mode;
        c.url_mode = url_mode;
        c
    }

    #[test]
    fn html_pages_are_told_apart() {
        let page = |title: &str| {
            format!("<!DOCTYPE html><html><head><title>{title}</title></head><body></body></html>")
        };
        assert_eq!(
            html_kind(403, page("403 Forbidden").as_bytes()),
            HtmlKind::Firewall
        );
        assert_eq!(
            html_kind(401, page("Restricted area").as_bytes()),
            HtmlKind::Firewall
        );
        assert_eq!(
            html_kind(503, page("Just a moment...").as_bytes()),
            HtmlKind::Firewall
        );
        assert_eq!(
            html_kind(200, page("Attention Required! | Cloudflare").as_bytes()),
            HtmlKind::Firewall
        );
        assert_eq!(
            html_kind(503, page("Site under maintenance").as_bytes()),
            HtmlKind::Maintenance
        );
        assert_eq!(
            html_kind(404, page("Page not found").as_bytes()),
            HtmlKind::NotFound
        );
        assert_eq!(
            html_kind(502, page("502 Bad gateway | cloudflare").as_bytes()),
            HtmlKind::OtherPage
        );
        assert_eq!(
            html_kind(200, page("My blog").as_bytes()),
            HtmlKind::OtherPage
        );
        assert_eq!(
            html_title(page("  Hello\n  world ").as_bytes()),
            "Hello world"
        );
    }

    #[test]
    fn urls_in_every_form() {
        let q = Query::list("orders").unwrap().limit(0, 3);
        let c = connection(AuthMode::Basic, UrlMode::Rewrite);
        assert_eq!(
            c.url_for(&q, Format::Json).as_str(),
            "https://shop.example/boutique/api/orders?limit=3&output_format=JSON"
        );
        assert_eq!(
            c.url_for(&Query::root(), Format::Xml).as_str(),
            "https://shop.example/boutique/api/"
        );
        let c = connection(AuthMode::WsKey, UrlMode::Dispatcher);
        let url = c.url_for(&q, Format::Xml);
        assert_eq!(
            url.as_str(),
            "https://shop.example/boutique/webservice/dispatcher.php?url=orders&limit=3&ws_key=ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
        );
        assert!(!redact_url(&url).contains("ABCDEFGH"));
    }
}
