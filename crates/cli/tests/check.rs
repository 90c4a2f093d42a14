//! `prestalink check` (the real binary) against the simulator in every hosting situation, and
//! against a closed port, an unknown host name and a server that never answers.

use std::time::Duration;

use prestalink_simulator::api::{Permissions, Version};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::hosting::WafSpec;
use prestalink_simulator::{Simulator, SimulatorConfig, DEFAULT_KEY};
use serde_json::Value;

/// A change to a simulator's configuration.
type Configure = Box<dyn FnOnce(&mut SimulatorConfig)>;

/// A key of the right format that no simulator knows.
const UNKNOWN_KEY: &str = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ9";

struct Outcome {
    exit: i32,
    json: Value,
}

impl Outcome {
    fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }

    fn warnings(&self) -> Vec<String> {
        self.json["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .map(|w| w["code"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every failure and warning names a cause and a fix.
    fn assert_explained(&self) {
        assert!(
            self.json["message"].as_str().is_some_and(|m| m.len() > 20),
            "{}",
            self.json
        );
        if !self.json["ok"].as_bool().unwrap() {
            assert!(
                self.json["fix"].as_str().is_some_and(|m| m.len() > 20),
                "{}",
                self.json
            );
        }
        for w in self.json["warnings"].as_array().unwrap() {
            assert!(w["message"].as_str().is_some_and(|m| m.len() > 20), "{w}");
            assert!(w["fix"].as_str().is_some_and(|m| m.len() > 20), "{w}");
        }
    }
}

async fn check(url: &str, key: &str, extra: &[&str]) -> Outcome {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(["check", "--url", url, "--key", key, "--json"])
        .args(extra)
        .output()
        .await
        .expect("run prestalink");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON object ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(
        !stdout.contains(key) || key.len() != 32,
        "the key leaked into the output: {stdout}"
    );
    let outcome = Outcome {
        exit: output.status.code().expect("exit code"),
        json,
    };
    outcome.assert_explained();
    outcome
}

fn small() -> GenConfig {
    GenConfig {
        orders: 20,
        customers: 10,
        products: 8,
        ..GenConfig::default()
    }
}

async fn simulator(configure: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut cfg = SimulatorConfig {
        gen: small(),
        ..SimulatorConfig::default()
    };
    configure(&mut cfg);
    Simulator::start(cfg).await.expect("simulator starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_store_in_json_and_xml() {
    let sim = simulator(|cfg| {
        cfg.gen.languages = 2;
        cfg.gen.timezone = "America/New_York".into();
    })
    .await;
    for format in ["json", "xml"] {
        sim.reset_counters();
        let out = check(&sim.base_url(), sim.key(), &["--format", format]).await;
        let j = &out.json;
        assert_eq!(out.exit, 0, "{j}");
        assert_eq!(out.code(), "connected");
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "ok",
                "code",
                "message",
                "fix",
                "storeUrl",
                "redirect",
                "authMode",
                "urlMode",
                "version",
                "resources",
                "missingPermissions",
                "warnings",
                "languages",
                "shops",
                "timezone",
                "currency"
            ]
        );
        assert_eq!(j["ok"], true);
        assert_eq!(j["authMode"], "basic");
        assert_eq!(j["urlMode"], "rewrite");
        assert_eq!(j["version"], "8.1.2");
        assert_eq!(j["storeUrl"], format!("{}/", sim.base_url()));
        assert_eq!(j["redirect"], Value::Null);
        assert_eq!(j["resources"]["orders"], serde_json::json!(["GET", "HEAD"]));
        assert_eq!(j["missingPermissions"], serde_json::json!([]));
        assert_eq!(out.warnings(), ["insecure_http"], "{format}");
        assert_eq!(j["timezone"], "America/New_York", "{format}");
        assert!(
            j["currency"].as_str().is_some_and(|c| c.len() == 3),
            "{format}: {j}"
        );
        let languages = j["languages"].as_array().unwrap();
        assert_eq!(languages.len(), 2, "{format}: {j}");
        assert_eq!(languages.iter().filter(|l| l["default"] == true).count(), 1);
        assert!(languages
            .iter()
            .all(|l| l["isoCode"].as_str().is_some_and(|c| !c.is_empty())));
        assert_eq!(j["shops"].as_array().unwrap().len(), 1, "{format}: {j}");
        // Reads only what it needs: the root listing, configurations, languages, shops, currency.
        let counters = sim.counters();
        assert!(
            counters.requests <= 5,
            "{format}: {} requests: {:?}",
            counters.requests,
            counters.by_resource
        );
        assert_eq!(counters.by_resource.get("orders"), None);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_output_names_code_and_fix() {
    let sim = simulator(|cfg| cfg.hosting.webservice_disabled = true).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(["check", "--url", &sim.base_url(), "--key", sim.key()])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3));
    assert!(text.starts_with("FAILED [webservice_disabled]"), "{text}");
    assert!(text.contains("Advanced Parameters > Webservice"), "{text}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripped_authorization_header_falls_back_to_ws_key() {
    let sim = simulator(|cfg| cfg.hosting.auth_header_stripped = true).await;
    let out = check(&sim.base_url(), sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["authMode"], "ws_key");
    assert!(out.warnings().contains(&"auth_header_stripped".to_owned()));
    let warning = &out.json["warnings"][0];
    assert!(warning["fix"].as_str().unwrap().contains("CGIPassAuth On"));
    assert!(warning["fix"]
        .as_str()
        .unwrap()
        .contains("HTTP_AUTHORIZATION"));
    // A wrong key behind a stripping server is still a wrong key, with the warning kept.
    let out = check(&sim.base_url(), UNKNOWN_KEY, &[]).await;
    assert_eq!((out.exit, out.code()), (3, "invalid_key"), "{}", out.json);
    assert!(out.warnings().contains(&"auth_header_stripped".to_owned()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_needs_confirmation_then_becomes_the_store_url() {
    let target = simulator(|_| {}).await;
    let source = simulator(|cfg| cfg.hosting.redirect_to = Some(target.base_url())).await;
    let out = check(&source.base_url(), DEFAULT_KEY, &[]).await;
    assert_eq!(
        (out.exit, out.code()),
        (3, "redirect_needs_confirmation"),
        "{}",
        out.json
    );
    assert_eq!(
        out.json["redirect"]["from"],
        format!("{}/", source.base_url())
    );
    assert_eq!(
        out.json["redirect"]["to"],
        format!("{}/", target.base_url())
    );
    // Without confirmation the key never reached the destination.
    assert_eq!(target.counters().requests, 0);

    let out = check(&source.base_url(), DEFAULT_KEY, &["--accept-redirect"]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["storeUrl"], format!("{}/", target.base_url()));
    assert_eq!(
        out.json["redirect"]["to"],
        format!("{}/", target.base_url())
    );
    source.shutdown().await;
    target.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_url_rewriting_uses_the_dispatcher() {
    let sim = simulator(|cfg| cfg.hosting.no_rewrite = true).await;
    let out = check(&sim.base_url(), sim.key(), &["--format", "xml"]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["urlMode"], "dispatcher");
    assert!(out.warnings().contains(&"url_rewriting_off".to_owned()));
    assert!(out.json["timezone"].is_string(), "{}", out.json);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripped_header_and_no_rewrite_together() {
    let sim = simulator(|cfg| {
        cfg.hosting.auth_header_stripped = true;
        cfg.hosting.no_rewrite = true;
    })
    .await;
    let out = check(&sim.base_url(), sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(
        (out.json["authMode"].as_str(), out.json["urlMode"].as_str()),
        (Some("ws_key"), Some("dispatcher"))
    );
    let warnings = out.warnings();
    assert!(
        warnings.contains(&"auth_header_stripped".to_owned())
            && warnings.contains(&"url_rewriting_off".to_owned())
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_of_the_host() {
    let cases: Vec<(&str, Configure)> = vec![
        (
            "webservice_disabled",
            Box::new(|c: &mut SimulatorConfig| c.hosting.webservice_disabled = true),
        ),
        (
            "blocked",
            Box::new(|c: &mut SimulatorConfig| {
                c.hosting.waf = Some(WafSpec {
                    rate: 1.0,
                    ..WafSpec::default()
                })
            }),
        ),
        (
            "maintenance",
            Box::new(|c: &mut SimulatorConfig| c.hosting.maintenance = true),
        ),
        (
            "not_prestashop",
            Box::new(|c: &mut SimulatorConfig| c.hosting.not_prestashop = true),
        ),
        (
            "server_error",
            Box::new(|c: &mut SimulatorConfig| c.faults.server_error = 1.0),
        ),
    ];
    for (expected, configure) in cases {
        let sim = simulator(configure).await;
        let out = check(&sim.base_url(), sim.key(), &[]).await;
        assert_eq!((out.exit, out.code()), (3, expected), "{}", out.json);
        assert_eq!(out.json["ok"], false);
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firewall_blocking_the_ws_key_fallback() {
    let sim = simulator(|cfg| {
        cfg.hosting.auth_header_stripped = true;
        cfg.hosting.waf = Some(WafSpec {
            ws_key: true,
            ..WafSpec::default()
        });
    })
    .await;
    let out = check(&sim.base_url(), sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (3, "blocked"), "{}", out.json);
    assert!(out.warnings().contains(&"auth_header_stripped".to_owned()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_and_their_permissions() {
    let limited = "LIMITEDKEY0000000000000000000001";
    let nothing = "NOTHINGKEY0000000000000000000001";
    let sim = simulator(|cfg| {
        cfg.keys.push((
            limited.into(),
            Permissions {
                resources: Some(vec![
                    "orders".into(),
                    "customers".into(),
                    "configurations".into(),
                ]),
                ..Permissions::default()
            },
        ));
        cfg.keys.push((
            nothing.into(),
            Permissions {
                resources: Some(vec!["images".into()]),
                ..Permissions::default()
            },
        ));
    })
    .await;
    let out = check(&sim.base_url(), UNKNOWN_KEY, &[]).await;
    assert_eq!((out.exit, out.code()), (3, "invalid_key"), "{}", out.json);

    let out = check(&sim.base_url(), nothing, &[]).await;
    assert_eq!((out.exit, out.code()), (3, "no_permission"), "{}", out.json);
    assert!(out.json["fix"].as_str().unwrap().contains("View (GET)"));

    // Readable, but not every data type: exit 5 (0 only for the data types it can read).
    let out = check(&sim.base_url(), limited, &[]).await;
    assert_eq!((out.exit, out.code()), (5, "connected"), "{}", out.json);
    let info = check(
        &sim.base_url(),
        limited,
        &["--data-types", "commerce-paymentMethods"],
    )
    .await;
    assert_eq!(info.exit, 5, "{}", info.json);
    assert!(out.warnings().contains(&"missing_permissions".to_owned()));
    let missing = out.json["missingPermissions"].as_array().unwrap();
    let products = missing
        .iter()
        .find(|m| m["resource"] == "products")
        .expect("products missing");
    assert_eq!(
        products["dataTypes"],
        serde_json::json!(["commerce-products"])
    );
    let currencies = missing
        .iter()
        .find(|m| m["resource"] == "currencies")
        .unwrap();
    assert_eq!(
        currencies["dataTypes"],
        serde_json::json!(["commerce-orders", "commerce-payments", "commerce-products"])
    );
    assert!(!missing.iter().any(|m| m["resource"] == "orders"));
    // What the key can read is still described.
    assert!(out.json["timezone"].is_string());
    assert_eq!(out.json["languages"], serde_json::json!([]));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_front_office_pages_find_the_shop() {
    let sim = simulator(|_| {}).await;
    let product_page = format!(
        "{}/en/men/1-1-hummingbird-printed-t-shirt.html#/1-size-s",
        sim.base_url()
    );
    let out = check(&product_page, sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["storeUrl"], format!("{}/", sim.base_url()));
    assert_eq!(out.json["urlMode"], "rewrite");
    assert!(!out.warnings().contains(&"url_rewriting_off".to_owned()));
    let out = check(
        &format!(
            "{}/admin123xyz/index.php?controller=AdminOrders",
            sim.base_url()
        ),
        sim.key(),
        &[],
    )
    .await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    sim.shutdown().await;

    let sim = simulator(|cfg| cfg.hosting.not_prestashop = true).await;
    let out = check(&format!("{}/en/", sim.base_url()), sim.key(), &[]).await;
    assert_eq!(
        (out.exit, out.code()),
        (3, "not_prestashop"),
        "{}",
        out.json
    );
    assert_eq!(out.json["storeUrl"], format!("{}/en/", sim.base_url()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multistore_lists_every_shop() {
    let sim = simulator(|cfg| cfg.gen.shops = 2).await;
    let out = check(&sim.base_url(), sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    let ids: Vec<u64> = out.json["shops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_version_is_a_warning() {
    let sim = simulator(|cfg| cfg.version = Version::V1_7_8).await;
    let out = check(&sim.base_url(), sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["version"], "1.7.8.11");
    assert!(out.warnings().contains(&"old_version".to_owned()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_tls_needs_explicit_consent() {
    let sim = simulator(|cfg| cfg.hosting.tls = true).await;
    assert!(sim.base_url().starts_with("https://"));
    let out = check(&sim.base_url(), sim.key(), &[]).await;
    assert_eq!((out.exit, out.code()), (3, "tls_error"), "{}", out.json);
    assert!(out.json["fix"].as_str().unwrap().contains("--insecure-tls"));
    let out = check(&sim.base_url(), sim.key(), &["--insecure-tls"]).await;
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert!(!out.warnings().contains(&"insecure_http".to_owned()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_port_unknown_host_and_silent_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let out = check(&format!("http://{closed}"), DEFAULT_KEY, &[]).await;
    assert_eq!((out.exit, out.code()), (3, "unreachable"), "{}", out.json);
    assert!(out.json["message"].as_str().unwrap().contains("refused"));

    let out = check(
        "http://nonexistent.invalid",
        DEFAULT_KEY,
        &["--timeout", "5"],
    )
    .await;
    assert_eq!((out.exit, out.code()), (3, "unreachable"), "{}", out.json);
    assert!(out.json["message"]
        .as_str()
        .unwrap()
        .contains("nonexistent.invalid"));

    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let started = std::time::Instant::now();
    let out = check(&format!("http://{addr}"), DEFAULT_KEY, &["--timeout", "1"]).await;
    assert_eq!((out.exit, out.code()), (3, "timeout"), "{}", out.json);
    assert!(started.elapsed() < Duration::from_secs(10));
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_exit_2() {
    let out = check("not a url", DEFAULT_KEY, &[]).await;
    assert_eq!((out.exit, out.code()), (2, "invalid_url"), "{}", out.json);
    let out = check("https://shop.example", "abc", &[]).await;
    assert_eq!(
        (out.exit, out.code()),
        (2, "invalid_key_format"),
        "{}",
        out.json
    );
    // A lower-case key is upper-cased (PrestaShop accepts it): "abc" is only too short.
    assert!(out.json["message"]
        .as_str()
        .unwrap()
        .contains("3 characters"));
    let out = check("https://shop.example", "ab-c", &[]).await;
    assert!(out.json["message"].as_str().unwrap().contains("'-'"));
    let out = check("https://shop.example", "ABC", &[]).await;
    assert!(out.json["message"]
        .as_str()
        .unwrap()
        .contains("3 characters"));
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(["check", "--url", "https://shop.example"])
        .env_remove("PRESTALINK_KEY")
        .output()
        .await
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(2));
}
