//! Helpers shared by the server tests: a small simulator, fixtures, a client.
#![allow(dead_code)]

use base64::Engine;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};

/// The recorded 8.1.2 store's scaled directory.
pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/prestashop-8.1.2/two-languages-scaled/"
);

/// A recorded body.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// A recorded body as text, with the recording host's port replaced by `port`.
pub fn fixture_on_port(name: &str, recorded_port: u16, port: u16) -> String {
    String::from_utf8(fixture(name))
        .unwrap()
        .replace(&format!("Port {recorded_port}"), &format!("Port {port}"))
        .replace(
            &format!("127.0.0.1:{recorded_port}"),
            &format!("127.0.0.1:{port}"),
        )
}

/// A small store: fast to generate, enough rows to page through.
pub fn small_config() -> SimulatorConfig {
    SimulatorConfig {
        gen: GenConfig {
            orders: 30,
            customers: 10,
            products: 8,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

/// Start a simulator with a small store and `tweak` applied to its configuration.
pub async fn start(tweak: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut cfg = small_config();
    tweak(&mut cfg);
    Simulator::start(cfg).await.expect("simulator starts")
}

/// A client that does not follow redirects (to see the 301s).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `Authorization: Basic base64(KEY:)`.
pub fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

/// A header's value as text ("" when absent).
pub fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// GET `path` with the simulator's key as Basic auth.
pub async fn get(sim: &Simulator, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", sim.base_url()))
        .header("authorization", basic(sim.key()))
        .send()
        .await
        .expect("request")
}
