//! Starts the real API server (port 0) on a test database, next to a simulated PrestaShop
//! store, with an API key; and speaks HTTP to it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use prestalink_server::{RunningServer, ServerConfig};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_testkit::TestDb;
use serde_json::Value;

/// A server, its database, a simulated store and an API key.
pub struct Harness {
    pub sim: Simulator,
    pub server: RunningServer,
    pub db: TestDb,
    pub key: String,
    pub http: reqwest::Client,
    pub base: String,
}

/// A request to `base` + `path` with the API key `key` (Bearer) and a JSON body: the status
/// and the JSON answered (`Null` when the body is empty; a body that is not JSON fails the
/// test).
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http
        .request(method, format!("{base}{path}"))
        .bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered non-JSON ({e}): {text}"))
    };
    (status, value)
}

/// A small simulated store.
pub fn small_store(seed: u64) -> SimulatorConfig {
    SimulatorConfig {
        gen: GenConfig {
            seed,
            languages: 2,
            orders: 240,
            customers: 60,
            products: 30,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

/// Settings for tests: stores and webhooks on loopback allowed, a fast scheduler.
pub fn test_config() -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        allow_private_stores: true,
        allow_private_webhooks: true,
        scheduler_tick: Duration::from_millis(200),
        ..ServerConfig::default()
    }
}

impl Harness {
    /// Starts a simulator and a server on `db`.
    pub async fn start(db: TestDb, sim: SimulatorConfig, config: ServerConfig) -> Harness {
        let sim = Simulator::start(sim).await.expect("simulator starts");
        let (_, key) = db
            .store
            .create_api_key("tests", chrono::Utc::now())
            .await
            .expect("api key");
        let server = prestalink_server::start(db.store.clone(), config)
            .await
            .expect("server starts");
        let base = server.base_url();
        Harness {
            sim,
            server,
            db,
            key,
            http: reqwest::Client::new(),
            base,
        }
    }

    /// A request with the API key (Bearer).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        call(&self.http, &self.base, &self.key, method, path, body).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Every record a connection's data path answers (`commerce-orders`, or with a query
    /// string), read page by page until an empty page.
    pub async fn all_records(&self, company: &str, connection: &str, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let sep = if path.contains('?') { '&' } else { '?' };
            let (status, body) = self
                .get(&format!(
                    "/companies/{company}/connections/{connection}/data/{path}{sep}page={page}&pageSize=500"
                ))
                .await;
            assert_eq!(status, 200, "{body}");
            let results = body["results"].as_array().cloned().unwrap_or_default();
            if results.is_empty() {
                break;
            }
            out.extend(results);
        }
        out
    }

    /// Creates a company and links the simulated store to it; returns (company, connection).
    pub async fn linked_company(&self, name: &str) -> (Value, Value) {
        let (status, company) = self
            .post("/companies", serde_json::json!({"name": name}))
            .await;
        assert_eq!(status, 201, "{company}");
        let id = company["id"].as_str().unwrap().to_string();
        let (status, connection) = self
            .post(
                &format!("/companies/{id}/connections"),
                serde_json::json!({"storeUrl": self.sim.base_url(), "webserviceKey": self.sim.key()}),
            )
            .await;
        assert_eq!(status, 201, "{connection}");
        (company, connection)
    }

    /// Waits until every pull operation of the company has ended; returns the data status.
    pub async fn settled(&self, company_id: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let (status, history) = self
                .get(&format!(
                    "/companies/{company_id}/data/history?pageSize=500"
                ))
                .await;
            assert_eq!(status, 200, "{history}");
            let results = history["results"].as_array().cloned().unwrap_or_default();
            let active = results.iter().any(|d| {
                matches!(
                    d["status"].as_str(),
                    Some("Queued" | "Fetching" | "Mapping")
                )
            });
            if !results.is_empty() && !active {
                return self
                    .get(&format!("/companies/{company_id}/dataStatus"))
                    .await
                    .1;
            }
            assert!(
                started.elapsed() < limit,
                "syncs still running after {limit:?}: {history}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(self) {
        self.server.shutdown().await;
        self.sim.shutdown().await;
        self.db.cleanup().await.expect("cleanup");
    }
}
