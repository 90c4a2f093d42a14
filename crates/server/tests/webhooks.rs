//! Webhooks end to end: a real server, a receiver on 127.0.0.1 that records what it gets
//! (and fails when told to), signatures checked with the `standardwebhooks` crate (an
//! implementation independent of the server's), retries, a restart with deliveries pending,
//! the consumers API, the private-address guard, the events of a real sync, and the
//! claim/lease queue on SQLite and (when `PRESTALINK_TEST_POSTGRES` is set) PostgreSQL.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use prestalink_server::{RunningServer, ServerConfig};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::{
    MasterKeySource, Store, StoreOptions, WebhookAttempt, WebhookOutcome, WEBHOOK_DELIVERED,
    WEBHOOK_PENDING,
};
use prestalink_testkit::TestDb;
use serde_json::{json, Value};
use standardwebhooks::Webhook;

const MASTER_KEY: [u8; 32] = [9u8; 32];

// ---------------------------------------------------------------------------------------
// A receiver of webhooks.

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name}"))
            .to_str()
            .unwrap()
            .to_string()
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: Mutex<Vec<Received>>,
    /// Answer 500 to this many requests first.
    fail_first: AtomicUsize,
}

/// A webhook receiver on 127.0.0.1.
#[derive(Clone)]
struct Receiver {
    state: Arc<ReceiverState>,
    addr: SocketAddr,
    task: Arc<tokio::task::JoinHandle<()>>,
}

async fn hook(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    state.requests.lock().unwrap().push(Received {
        headers,
        body,
        at: Instant::now(),
    });
    let failing = state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        Receiver::start_on("127.0.0.1:0".parse().unwrap(), fail_first).await
    }

    async fn start_on(addr: SocketAddr, fail_first: usize) -> Receiver {
        let state = Arc::new(ReceiverState {
            fail_first: AtomicUsize::new(fail_first),
            ..Default::default()
        });
        // The port may have been released a moment ago: try for a while.
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("binding {addr}: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot bind {addr}: {e}"),
            }
        };
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            state,
            addr,
            task: Arc::new(task),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn requests(&self) -> Vec<Received> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests once there are at least `n` (fails after `within`).
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} webhook requests within {within:?}, got {}: {:?}",
                got.len(),
                got.iter()
                    .map(|r| r.json()["eventType"].clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The first request of `event_type`, waiting for it.
    async fn wait_for_event(&self, event_type: &str, within: Duration) -> Received {
        let deadline = Instant::now() + within;
        loop {
            if let Some(r) = self
                .requests()
                .into_iter()
                .find(|r| r.json()["eventType"] == event_type)
            {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no {event_type} within {within:?}; got {:?}",
                self.requests()
                    .iter()
                    .map(|r| r.json()["eventType"].clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stop(&self) {
        self.task.abort();
    }
}

/// Checks a request's signature with the `standardwebhooks` crate.
fn verify(secret: &str, request: &Received) {
    Webhook::new(secret)
        .expect("a Standard Webhooks secret")
        .verify(&request.body, &request.headers)
        .unwrap_or_else(|e| panic!("the signature does not verify: {e:?}"));
}

// ---------------------------------------------------------------------------------------
// The server.

struct Api {
    server: RunningServer,
    key: String,
    http: reqwest::Client,
}

fn config(retries_ms: &[u64]) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        allow_private_webhooks: true,
        webhook_retries: retries_ms
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect(),
        webhook_timeout: Duration::from_secs(5),
        workers: 0,
        ..Default::default()
    }
}

async fn open_sqlite(path: &Path) -> Store {
    Store::open_with(
        path.to_str().unwrap(),
        StoreOptions {
            master_key: MasterKeySource::Bytes(MASTER_KEY),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

impl Api {
    /// Starts a server on `store` with a new API key.
    async fn start(store: Store, config: ServerConfig) -> Api {
        let (_, key) = store.create_api_key("test", Utc::now()).await.unwrap();
        Api::start_with_key(store, config, key).await
    }

    async fn start_with_key(store: Store, config: ServerConfig, key: String) -> Api {
        let server = prestalink_server::start(store, config).await.unwrap();
        Api {
            server,
            key,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.bearer_auth(&self.key).send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Creates a consumer; returns its id and secret.
    async fn consumer(&self, url: &str, event_types: &[&str]) -> (String, String) {
        let (status, body) = self
            .post("/webhooks", json!({"url": url, "eventTypes": event_types}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().unwrap().to_string(),
            body["secret"].as_str().unwrap().to_string(),
        )
    }

    async fn company(&self, name: &str) -> Value {
        let (status, body) = self.post("/companies", json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn deliveries(&self, consumer: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/webhooks/{consumer}/deliveries")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["results"].as_array().unwrap().clone()
    }

    /// The consumer's only delivery once `done` holds for it.
    async fn delivery_when(&self, consumer: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let deliveries = self.deliveries(consumer).await;
            if let [d] = &deliveries[..] {
                if done(d) {
                    return d.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the delivery did not reach the expected state: {deliveries:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

fn ts(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_created_is_delivered_signed_per_standard_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(open_sqlite(&dir.path().join("db")).await, config(&[200])).await;
    let receiver = Receiver::start(0).await;
    let (consumer, secret) = api.consumer(&receiver.url(), &["company.created"]).await;
    let company = api.company("Acme").await;

    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    let request = &got[0];
    // An independent implementation accepts the signature; another secret does not.
    verify(&secret, request);
    let other = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([1u8; 32])
    );
    assert!(Webhook::new(&other)
        .unwrap()
        .verify(&request.body, &request.headers)
        .is_err());
    // A tampered body does not verify either.
    let mut tampered = request.body.to_vec();
    tampered.extend_from_slice(b" ");
    assert!(Webhook::new(&secret)
        .unwrap()
        .verify(&tampered, &request.headers)
        .is_err());

    // Headers per the specification.
    assert!(request.header("webhook-signature").starts_with("v1,"));
    let stamp: i64 = request.header("webhook-timestamp").parse().unwrap();
    assert!((Utc::now().timestamp() - stamp).abs() < 60);
    assert_eq!(request.header("content-type"), "application/json");

    // Codat's message shape.
    let message = request.json();
    assert_eq!(message["eventType"], "company.created");
    assert_eq!(
        message["id"].as_str().unwrap(),
        request.header("webhook-id")
    );
    assert!(ts(&message["generatedDate"]) <= Utc::now());
    let reference = &message["payload"]["referenceCompany"];
    assert_eq!(reference["id"], company["id"]);
    assert_eq!(reference["name"], "Acme");
    assert_eq!(reference["tags"], json!({}));
    assert!(reference.get("description").is_some());
    assert!(reference["createdDate"].is_string());
    let text = String::from_utf8(request.body.to_vec()).unwrap();
    assert!(!text.contains(&secret), "the secret is not in the payload");

    // The delivery is listed with its outcome.
    let d = api
        .delivery_when(&consumer, |d| d["status"] == WEBHOOK_DELIVERED)
        .await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["messageId"], message["id"]);
    assert_eq!(d["eventType"], "company.created");
    assert_eq!(d["lastStatusCode"], 200);
    assert_eq!(d["lastError"], Value::Null);
    assert_eq!(d["nextAttemptAt"], Value::Null);
    assert!(d["completedAt"].is_string());
    assert_eq!(d["message"], message);
    assert_eq!(d["attemptLog"].as_array().unwrap().len(), 1);
    assert_eq!(d["attemptLog"][0]["statusCode"], 200);

    // Only subscribed events are sent: company.deleted is not.
    let (status, _) = api
        .delete(&format!("/companies/{}", company["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(api.deliveries(&consumer).await.len(), 1);

    // Counted in the metrics.
    let response = api
        .http
        .get(api.url("/metrics"))
        .bearer_auth(&api.key)
        .send()
        .await
        .unwrap();
    let metrics = response.text().await.unwrap();
    assert!(
        metrics.contains("prestalink_webhook_deliveries_total{outcome=\"delivered\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains(&secret));
    api.server.shutdown().await;
}

/// The receiver fails twice: the third attempt is delivered, after the schedule's waits.
async fn retries_scenario(store: Store, engine: &str) {
    let api = Api::start(store, config(&[200, 400, 800])).await;
    let receiver = Receiver::start(2).await;
    let (consumer, secret) = api.consumer(&receiver.url(), &["*"]).await;
    api.company("Retry Co").await;

    let got = receiver.wait_for(3, Duration::from_secs(15)).await;
    for r in &got {
        verify(&secret, r);
    }
    let id = got[0].header("webhook-id");
    assert!(
        got.iter().all(|r| r.header("webhook-id") == id),
        "{engine}: one message id"
    );
    // Waits of 200 ms and 400 ms, each with at most 20 % jitter.
    let first_gap = got[1].at - got[0].at;
    let second_gap = got[2].at - got[1].at;
    assert!(
        first_gap >= Duration::from_millis(150),
        "{engine}: {first_gap:?}"
    );
    assert!(
        second_gap >= Duration::from_millis(310),
        "{engine}: {second_gap:?}"
    );

    let d = api
        .delivery_when(&consumer, |d| d["status"] == WEBHOOK_DELIVERED)
        .await;
    assert_eq!(d["attempts"], 3, "{engine}: {d:#}");
    assert_eq!(d["lastStatusCode"], 200);
    assert_eq!(d["lastError"], Value::Null);
    let log = d["attemptLog"].as_array().unwrap();
    let codes: Vec<&Value> = log.iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)], "{engine}");
    assert_eq!(log[0]["error"], "HTTP 500");
    assert_eq!(log[2]["error"], Value::Null);
    assert!(log
        .iter()
        .all(|a| a["durationMs"].is_i64() && a["at"].is_string()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.requests().len(),
        3,
        "{engine}: nothing more is sent"
    );
    api.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_until_delivered() {
    let dir = tempfile::tempdir().unwrap();
    retries_scenario(open_sqlite(&dir.path().join("db")).await, "sqlite").await;
    if let Some(db) = TestDb::postgres("webhook_retries").await.unwrap() {
        retries_scenario(db.store.clone(), "postgres").await;
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_fails_after_the_last_retry() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(open_sqlite(&dir.path().join("db")).await, config(&[100])).await;
    let receiver = Receiver::start(usize::MAX).await;
    let (consumer, _) = api.consumer(&receiver.url(), &["company.created"]).await;
    api.company("Down Co").await;
    let d = api
        .delivery_when(&consumer, |d| d["status"] == "failed")
        .await;
    assert_eq!(d["attempts"], 2, "{d:#}");
    assert_eq!(d["lastStatusCode"], 500);
    assert_eq!(d["lastError"], "HTTP 500");
    assert_eq!(d["nextAttemptAt"], Value::Null);
    assert!(d["completedAt"].is_string());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 2);
    api.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_delivery_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    // A port with nothing listening: the receiver is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook");
    let store = open_sqlite(&path).await;
    let (_, key) = store.create_api_key("test", Utc::now()).await.unwrap();
    // The next retry is an hour away.
    let hour = 3_600_000;
    let api = Api::start_with_key(store.clone(), config(&[hour, hour]), key.clone()).await;
    let (consumer, secret) = api.consumer(&url, &["company.created"]).await;
    api.company("Restart Co").await;
    let before = api.delivery_when(&consumer, |d| d["attempts"] == 1).await;
    assert_eq!(before["status"], WEBHOOK_PENDING);
    assert_eq!(before["lastStatusCode"], Value::Null);
    let error = before["lastError"].as_str().unwrap();
    assert!(error.starts_with("cannot connect"), "{error}");
    assert!(!error.contains("/hook"), "no URL in errors: {error}");
    let next = ts(&before["nextAttemptAt"]) - Utc::now();
    assert!(
        next > chrono::Duration::minutes(45) && next < chrono::Duration::minutes(75),
        "{next:?}"
    );
    api.server.shutdown().await;
    store.close().await;

    // The receiver comes back; a new server on the same database, two hours later.
    let receiver = Receiver::start_on(format!("127.0.0.1:{port}").parse().unwrap(), 0).await;
    let store = open_sqlite(&path).await;
    let api = Api::start_with_key(store, config(&[hour, hour]), key).await;
    api.server.state().clock.advance(chrono::Duration::hours(2));
    let got = receiver.wait_for(1, Duration::from_secs(10)).await;
    verify(&secret, &got[0]);
    assert_eq!(
        got[0].header("webhook-id"),
        before["messageId"].as_str().unwrap()
    );
    let after = api
        .delivery_when(&consumer, |d| d["status"] == WEBHOOK_DELIVERED)
        .await;
    assert_eq!(after["attempts"], 2);
    assert_eq!(after["attemptLog"][0]["statusCode"], Value::Null);
    assert_eq!(after["attemptLog"][1]["statusCode"], 200);
    api.server.shutdown().await;
    receiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_are_validated_bounded_and_never_show_their_secret_again() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(open_sqlite(&dir.path().join("db")).await, config(&[200])).await;

    let (status, created) = api
        .post(
            "/webhooks",
            json!({"url": "https://example.com/hook", "eventTypes": ["company.created", "read.completed"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();
    let key = secret.strip_prefix("whsec_").expect("whsec_ prefix");
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap()
            .len()
            >= 24
    );
    assert_eq!(created["url"], "https://example.com/hook");
    assert_eq!(
        created["eventTypes"],
        json!(["company.created", "read.completed"])
    );
    assert_eq!(created["disabled"], false);
    assert!(created["created"].is_string());

    // Never shown again.
    let (status, one) = api.get(&format!("/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(one.get("secret").is_none(), "{one}");
    assert_eq!(one["id"], created["id"]);
    assert_eq!(one["eventTypes"], created["eventTypes"]);
    let (status, list) = api.get("/webhooks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
    assert!(!one.to_string().contains(secret));
    let (status, page) = api.get(&format!("/webhooks/{id}/deliveries")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["totalResults"], 0);
    assert_eq!(page["pageNumber"], 1);
    assert_eq!(page["pageSize"], 100);
    assert!(page["_links"]["current"]["href"].is_string());

    // Unknown ids.
    for path in [
        "/webhooks/nope".to_string(),
        "/webhooks/nope/deliveries".to_string(),
    ] {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["statusCode"], 404);
    }
    let (status, _) = api.delete("/webhooks/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Bad requests answer 400 in Codat's envelope, naming the field.
    let long = format!("https://example.com/{}", "a".repeat(2048));
    let cases = [
        (
            json!({"url": "ftp://example.com/", "eventTypes": ["*"]}),
            "url",
        ),
        (json!({"url": "not a url", "eventTypes": ["*"]}), "url"),
        (json!({"url": "/relative/hook", "eventTypes": ["*"]}), "url"),
        (json!({"url": "", "eventTypes": ["*"]}), "url"),
        (json!({"url": long, "eventTypes": ["*"]}), "url"),
        (
            json!({"url": "https://example.com/", "eventTypes": []}),
            "eventTypes",
        ),
        (
            json!({"url": "https://example.com/", "eventTypes": ["order.created"]}),
            "eventTypes",
        ),
        (json!({"url": "https://example.com/"}), "body"),
        (
            json!({"url": "https://example.com/", "eventTypes": ["*"], "secret": "x"}),
            "body",
        ),
    ];
    for (body, item) in cases {
        let (status, answer) = api.post("/webhooks", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["statusCode"], 400);
        assert_eq!(
            answer["validation"]["errors"][0]["itemId"], item,
            "{body}: {answer}"
        );
    }
    for query in ["pageSize=0", "pageSize=1001", "page=0", "page=x"] {
        let (status, answer) = api.get(&format!("/webhooks/{id}/deliveries?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
    }

    // Without a key: 401.
    let response = api.http.get(api.url("/webhooks")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);

    // Deleted: 204, then 404.
    let (status, _) = api.delete(&format!("/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.get(&format!("/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // At most 50 consumers.
    let mut ids = Vec::new();
    for n in 0..50 {
        let (id, _) = api
            .consumer(&format!("https://example.com/hook/{n}"), &["*"])
            .await;
        ids.push(id);
    }
    let (status, answer) = api
        .post(
            "/webhooks",
            json!({"url": "https://example.com/one-more", "eventTypes": ["*"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("50"));
    let (_, list) = api.get("/webhooks").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 50);
    let (status, _) = api.delete(&format!("/webhooks/{}", ids[0])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    api.consumer("https://example.com/one-more", &["*"]).await;
    api.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(
        open_sqlite(&dir.path().join("db")).await,
        ServerConfig {
            allow_private_webhooks: false,
            ..config(&[])
        },
    )
    .await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let (status, answer) = api
            .post("/webhooks", json!({"url": url, "eventTypes": ["*"]}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{url}: {answer}");
        assert_eq!(answer["validation"]["errors"][0]["itemId"], "url");
    }

    // Consumers that got in anyway (written straight to the database) are not sent to: the
    // sender checks literal addresses and resolves names to public addresses only.
    let receiver = Receiver::start(0).await;
    let store = &api.server.state().store;
    let port = receiver.addr.port();
    let mut consumers = Vec::new();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
    ] {
        let c = store
            .create_webhook_consumer(
                &url,
                &["*".to_string()],
                "whsec_AAAA",
                false,
                50,
                Utc::now(),
            )
            .await
            .unwrap()
            .unwrap();
        consumers.push(c.id);
    }
    api.company("Guarded Co").await;
    for consumer in &consumers {
        let d = api
            .delivery_when(consumer, |d| d["status"] == "failed")
            .await;
        let error = d["lastError"].as_str().unwrap();
        assert!(error.contains("loopback"), "{error}");
    }
    assert!(receiver.requests().is_empty());
    api.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_emits_connection_and_read_events() {
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            orders: 20,
            customers: 10,
            products: 8,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(
        open_sqlite(&dir.path().join("db")).await,
        ServerConfig {
            workers: 1,
            allow_private_stores: true,
            ..config(&[200])
        },
    )
    .await;
    let receiver = Receiver::start(0).await;
    let (_, secret) = api.consumer(&receiver.url(), &["*"]).await;
    let company = api.company("Sync Co").await;
    let company_id = company["id"].as_str().unwrap();
    let (status, connection) = api
        .post(
            &format!("/companies/{company_id}/connections"),
            json!({"storeUrl": sim.base_url(), "webserviceKey": sim.key()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{connection}");
    let connection_id = connection["id"].as_str().unwrap();

    let connected = receiver
        .wait_for_event("connection.connected", Duration::from_secs(20))
        .await;
    let payload = &connected.json()["payload"];
    assert_eq!(payload["connectionId"], connection_id);
    assert_eq!(payload["referenceCompany"]["id"], company_id);

    let within = Duration::from_secs(90);
    for event in ["read.completed", "read.completed.initial"] {
        let request = receiver.wait_for_event(event, within).await;
        verify(&secret, &request);
        let payload = &request.json()["payload"];
        assert_eq!(payload["referenceCompany"]["name"], "Sync Co");
        let data_types = payload["dataTypes"].as_array().unwrap();
        assert!(!data_types.is_empty(), "{event}: {payload:#}");
        for d in data_types {
            assert_eq!(d["connectionId"], connection_id, "{d}");
            assert!(d["dataType"].is_string(), "{d}");
            assert!(d["recordsModified"].is_i64(), "{d}");
            assert!(d["status"].is_string(), "{d}");
            assert!(d["issues"].is_array(), "{d}");
        }
        let orders = data_types
            .iter()
            .find(|d| d["dataType"] == "commerce-orders")
            .unwrap_or_else(|| panic!("{event}: orders were read: {payload:#}"));
        assert_eq!(orders["status"], "Complete", "{orders}");
        assert!(orders["recordsModified"].as_i64().unwrap() > 0, "{orders}");
    }

    let (status, _) = api
        .delete(&format!(
            "/companies/{company_id}/connections/{connection_id}"
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    receiver
        .wait_for_event("connection.deleted", Duration::from_secs(10))
        .await;
    let (status, _) = api.delete(&format!("/companies/{company_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deleted = receiver
        .wait_for_event("company.deleted", Duration::from_secs(10))
        .await;
    assert_eq!(
        deleted.json()["payload"]["referenceCompany"]["id"],
        company_id
    );
    api.server.shutdown().await;
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// The queue in the store: claims with leases, on both engines.

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

async fn claims_scenario(store: &Store, engine: &str) {
    let lease = chrono::Duration::seconds(60);
    let all = vec!["*".to_string()];
    let secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0";
    let c = store
        .create_webhook_consumer("https://example.com/a", &all, secret, false, 3, at(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.webhook_consumer_secret(&c.id).await.unwrap(), secret);
    let only_companies = store
        .create_webhook_consumer(
            "https://example.com/b",
            &["company.created".to_string()],
            secret,
            false,
            3,
            at(0),
        )
        .await
        .unwrap()
        .unwrap();
    let disabled = store
        .create_webhook_consumer("https://example.com/c", &all, secret, true, 3, at(0))
        .await
        .unwrap()
        .unwrap();
    // The limit.
    assert!(store
        .create_webhook_consumer("https://example.com/d", &all, secret, false, 3, at(0))
        .await
        .unwrap()
        .is_none());

    // Subscriptions: `*` and the exact name; never a disabled consumer.
    assert_eq!(
        store
            .queue_webhook_event("read.completed", "m1", "{}", at(0))
            .await
            .unwrap(),
        1,
        "{engine}"
    );
    assert_eq!(
        store
            .queue_webhook_event("company.created", "m2", "{}", at(0))
            .await
            .unwrap(),
        2,
        "{engine}"
    );
    let (of_disabled, _) = store
        .webhook_deliveries_page(&disabled.id, 1, 10)
        .await
        .unwrap();
    assert!(of_disabled.is_empty());
    let (of_b, total) = store
        .webhook_deliveries_page(&only_companies.id, 1, 10)
        .await
        .unwrap();
    assert_eq!((of_b.len(), total), (1, 1));
    assert_eq!(of_b[0].event_type, "company.created");
    store
        .delete_webhook_consumer(&only_companies.id)
        .await
        .unwrap();

    // Two senders claim at once: one gets m1, the other m2, never the same.
    let (a, b) = tokio::join!(
        store.claim_webhook_delivery(lease, at(1)),
        store.claim_webhook_delivery(lease, at(1))
    );
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_ne!(a.id, b.id, "{engine}");
    assert!(store
        .claim_webhook_delivery(lease, at(2))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.next_webhook_due().await.unwrap().as_deref(),
        a.lease_until.as_deref()
    );

    // `b` is recorded; `a`'s sender stalls past its lease and another takes it over.
    let attempt = |code: Option<i64>| WebhookAttempt {
        at: prestalink_store::format_timestamp(at(1)),
        status_code: code,
        error: code.is_none().then(|| "cannot connect".to_string()),
        duration_ms: 3,
    };
    assert!(store
        .record_webhook_attempt(&b, &attempt(Some(200)), WebhookOutcome::Delivered, at(2))
        .await
        .unwrap());
    let again = store
        .claim_webhook_delivery(lease, at(62))
        .await
        .unwrap()
        .expect("the lease ran out");
    assert_eq!(again.id, a.id, "{engine}");
    assert!(
        !store
            .record_webhook_attempt(&a, &attempt(None), WebhookOutcome::Failed, at(63))
            .await
            .unwrap(),
        "{engine}: the stale sender's record is refused"
    );
    assert!(store
        .record_webhook_attempt(
            &again,
            &attempt(None),
            WebhookOutcome::RetryAt(at(120)),
            at(63)
        )
        .await
        .unwrap());
    assert!(store
        .claim_webhook_delivery(lease, at(100))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.next_webhook_due().await.unwrap(),
        Some(prestalink_store::format_timestamp(at(120)))
    );
    let retried = store
        .claim_webhook_delivery(lease, at(121))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retried.attempts, 1);
    assert_eq!(retried.attempt_log.len(), 1);
    assert!(store
        .record_webhook_attempt(
            &retried,
            &attempt(Some(204)),
            WebhookOutcome::Delivered,
            at(122)
        )
        .await
        .unwrap());
    let done = store.get_webhook_delivery(a.id).await.unwrap().unwrap();
    assert_eq!(done.status, WEBHOOK_DELIVERED);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.last_status_code, Some(204));
    assert_eq!(done.last_error, None);
    assert_eq!(done.attempt_log.len(), 2);
    assert_eq!(
        done.completed_at,
        Some(prestalink_store::format_timestamp(at(122)))
    );
    assert_eq!(done.lease_until, None);
    assert_eq!(store.next_webhook_due().await.unwrap(), None);

    // Many senders drain a queue without ever claiming a delivery twice.
    for n in 0..40 {
        store
            .queue_webhook_event("read.completed", &format!("bulk{n}"), "{}", at(200))
            .await
            .unwrap();
    }
    let claimer = || async {
        let mut ids = Vec::new();
        while let Some(d) = store.claim_webhook_delivery(lease, at(201)).await.unwrap() {
            ids.push(d.id);
        }
        ids
    };
    let (w, x, y, z) = tokio::join!(claimer(), claimer(), claimer(), claimer());
    let claimed: Vec<i64> = [w, x, y, z].concat();
    let unique: HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 40, "{engine}");
    assert_eq!(unique.len(), 40, "{engine}: a delivery was claimed twice");

    // Paging, newest first; deleting the consumer deletes its deliveries.
    let (page, total) = store.webhook_deliveries_page(&c.id, 2, 15).await.unwrap();
    assert_eq!((page.len(), total), (15, 42));
    assert!(page.windows(2).all(|w| w[0].id > w[1].id));
    assert!(store.delete_webhook_consumer(&c.id).await.unwrap());
    assert!(!store.delete_webhook_consumer(&c.id).await.unwrap());
    let (_, total) = store.webhook_deliveries_page(&c.id, 1, 10).await.unwrap();
    assert_eq!(total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deliveries_are_claimed_once_with_leases() {
    let sqlite = TestDb::sqlite().await.unwrap();
    claims_scenario(&sqlite.store, "sqlite").await;
    sqlite.cleanup().await.unwrap();
    // Prints that it was skipped when PRESTALINK_TEST_POSTGRES is not set.
    if let Some(pg) = TestDb::postgres("webhook_claims").await.unwrap() {
        claims_scenario(&pg.store, "postgres").await;
        pg.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let api = Api::start(open_sqlite(&dir.path().join("db")).await, config(&[])).await;
    let (status, doc) = api.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for (path, methods) in [
        ("/webhooks", &["get", "post"][..]),
        ("/webhooks/{webhookId}", &["get", "delete"][..]),
        ("/webhooks/{webhookId}/deliveries", &["get"][..]),
    ] {
        for method in methods {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is documented"
            );
        }
    }
    // Every schema the webhook paths refer to is in the document.
    let text = doc["paths"].to_string();
    let mut refs: Vec<&str> = text
        .split("\"$ref\":\"#/components/schemas/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    refs.sort_unstable();
    refs.dedup();
    for name in [
        "CreatedWebhookConsumer",
        "WebhookDeliveryPage",
        "WebhookConsumerList",
    ] {
        assert!(refs.contains(&name), "{name} is referenced: {refs:?}");
    }
    let schemas = &doc["components"]["schemas"];
    for name in &refs {
        assert!(
            schemas[*name].is_object(),
            "schema {name} is in the document"
        );
    }
    for name in [
        "WebhookDeliveryView",
        "WebhookAttemptView",
        "WebhookEventType",
        "PageLinks",
    ] {
        assert!(
            schemas[name].is_object(),
            "schema {name} is in the document"
        );
    }
    api.server.shutdown().await;
}
