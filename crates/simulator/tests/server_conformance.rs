//! Every request of the recorded store's `index.tsv`, replayed against the simulator with
//! the matching hosting configuration: the status and the headers that matter (which are
//! present, and the values of the stable ones) must be those recorded.

mod server_support;

use std::collections::BTreeMap;

use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::options::parse_key;
use prestalink_simulator::{Simulator, SimulatorConfig};
use server_support::*;

const LIMITKEY: &str = "LIMITEDKEY0000000000000000000001";

/// Headers whose presence is compared.
const PRESENCE: &[&str] = &[
    "access-time",
    "x-powered-by",
    "psws-version",
    "execution-time",
    "content-sha1",
    "content-type",
    "www-authenticate",
    "location",
    "connection",
];

/// Headers whose value is compared too.
const VALUES: &[&str] = &[
    "x-powered-by",
    "psws-version",
    "content-type",
    "www-authenticate",
    "connection",
];

struct Row {
    file: String,
    method: String,
    url: String,
    status: u16,
    auth: String,
    note: String,
}

fn rows() -> Vec<Row> {
    let index = String::from_utf8(fixture("index.tsv")).unwrap();
    index
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Row {
                file: f[0].to_string(),
                method: f[1].to_string(),
                url: f[2].to_string(),
                status: f[3].parse().unwrap(),
                auth: f[4].to_string(),
                note: f.get(7).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// Recorded headers, lower-cased names.
fn recorded_headers(file: &str) -> BTreeMap<String, String> {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    String::from_utf8(fixture(&format!("{stem}.headers")))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_lowercase(), v.trim().to_string()))
        .collect()
}

/// True when `/api/{resource}/{id}…` names a row the store has (or is not a single-row URL).
fn store_has(store: &prestalink_simulator::store::Store, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    let mut parts = path.trim_start_matches("/api/").split('/');
    match (
        parts.next(),
        parts.next().and_then(|id| id.parse::<u64>().ok()),
    ) {
        (Some(resource), Some(id)) => store
            .table(resource)
            .is_some_and(|t| t.rows.contains_key(&id)),
        _ => true,
    }
}

fn base_config() -> SimulatorConfig {
    let mut cfg = SimulatorConfig {
        gen: GenConfig {
            orders: 20_000,
            customers: 5_000,
            products: 400,
            languages: 2,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    };
    cfg.keys
        .push(parse_key(&format!("{LIMITKEY}:orders,customers")).unwrap());
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_requests_get_the_recorded_status_and_headers() {
    let healthy = Simulator::start(base_config()).await.unwrap();
    let store = healthy.store().read().unwrap().clone();
    let with = |tweak: &dyn Fn(&mut SimulatorConfig)| {
        let mut cfg = base_config();
        tweak(&mut cfg);
        let store = store.clone();
        async move { Simulator::start_with_store(cfg, store).await.unwrap() }
    };
    let healthy_url = healthy.base_url();
    let disabled = with(&|c| c.hosting.webservice_disabled = true).await;
    let stripped = with(&|c| c.hosting.auth_header_stripped = true).await;
    let redirect = with(&|c| c.hosting.redirect_to = Some(healthy_url.clone())).await;
    let no_rewrite = with(&|c| c.hosting.no_rewrite = true).await;
    let not_ps = with(&|c| c.hosting.not_prestashop = true).await;

    let mut failures = Vec::new();
    let mut missing = Vec::new();
    let mut compared = 0;
    for row in rows() {
        let rest = row.url.trim_start_matches("http://127.0.0.1:");
        let (port, path) = rest.split_at(4);
        let sim = match port {
            "8080" if row.note.contains("PS_WEBSERVICE=0") => &disabled,
            "8080" => &healthy,
            "8081" => &stripped,
            "8082" => &redirect,
            "8083" => &no_rewrite,
            "8084" => &not_ps,
            other => panic!("unknown recorded host {other}"),
        };
        let real_key = |k: &str| match k {
            "KEY" => sim.key().to_string(),
            "LIMITKEY" => LIMITKEY.to_string(),
            "UNKNOWNKEY" => "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ".to_string(),
            "WRONGFORMATKEY" => "bad-key!".to_string(),
            other => panic!("unknown key placeholder {other}"),
        };
        let path = path
            .replace("ws_key=KEY", &format!("ws_key={}", real_key("KEY")))
            .replace("ws_key=WRONGFORMATKEY", "ws_key=bad-key!");
        let method = reqwest::Method::from_bytes(row.method.as_bytes()).unwrap();
        let mut req = client().request(method, format!("{}{path}", sim.base_url()));
        if let Some(k) = row.auth.strip_prefix("basic:") {
            req = req.header("authorization", basic(&real_key(k)));
        }
        if row.file.contains("output_format_header") {
            req = req.header("output-format", "JSON");
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        if status == 404 && row.status == 200 && !store_has(&store, &path) {
            // The recorded id is not in the generated store: a data difference, not the server's.
            missing.push(row.file.clone());
            continue;
        }
        if status != row.status {
            failures.push(format!(
                "{}: status {status}, recorded {}",
                row.file, row.status
            ));
            continue;
        }
        compared += 1;
        let recorded = recorded_headers(&row.file);
        for name in PRESENCE {
            let ours = r
                .headers()
                .get(*name)
                .map(|v| v.to_str().unwrap().to_string());
            let theirs = recorded.get(*name).cloned();
            let presence_differs = ours.is_some() != theirs.is_some();
            if presence_differs || (VALUES.contains(name) && ours != theirs) {
                failures.push(format!(
                    "{}: {name} ours {ours:?}, recorded {theirs:?}",
                    row.file
                ));
            }
        }
        if let (Some(ours), Some(theirs)) = (r.headers().get("location"), recorded.get("location"))
        {
            let theirs =
                theirs.replace("127.0.0.1:8080", healthy_url.trim_start_matches("http://"));
            if ours.to_str().unwrap() != theirs {
                failures.push(format!(
                    "{}: location {ours:?}, recorded {theirs}",
                    row.file
                ));
            }
        }
    }
    for sim in [healthy, disabled, stripped, redirect, no_rewrite, not_ps] {
        sim.shutdown().await;
    }
    eprintln!("recorded ids absent from the generated store: {missing:?}");
    assert!(missing.len() <= 12, "too many rows skipped: {missing:?}");
    assert!(compared > 200, "only {compared} rows compared");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
