//! `prestalink check` and `sync` (the real binary) against a real PrestaShop 8.1.2 and its
//! hosting variants, when `PRESTALINK_TEST_PRESTASHOP` points at one (see
//! `prestalink_testkit::real_store`); each test prints "skipped" otherwise.

use std::process::Command;

use prestalink_testkit::{real_store, RealStore};
use serde_json::Value;

struct Outcome {
    exit: i32,
    json: Value,
    stderr: String,
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
                    .filter_map(|w| w["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn prestalink(args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(args)
        .env_remove("PRESTALINK_MASTER_KEY")
        .env_remove("SSL_CERT_FILE")
        .output()
        .expect("prestalink runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    for key in ["PRESTASHOPTESTREADKEY", "PRESTASHOPTESTLIMITKEY"] {
        assert!(
            !stdout.contains(key) && !stderr.contains(key),
            "a key leaked"
        );
    }
    Outcome {
        exit: output.status.code().expect("exit code"),
        json,
        stderr,
    }
}

fn check(url: &str, key: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["check", "--url", url, "--key", key, "--json"];
    args.extend_from_slice(extra);
    prestalink(&args)
}

fn store() -> Option<RealStore> {
    real_store()
}

#[test]
fn item1_address_without_scheme_connects_over_http_and_https_names_plain_http() {
    let Some(store) = store() else { return };
    let authority = store.authority().to_string();
    let out = check(&authority, store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["storeUrl"], format!("http://{authority}/"));
    assert!(
        out.warnings().contains(&"insecure_http".to_owned()),
        "{}",
        out.json
    );

    let out = check(&format!("https://{authority}"), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (3, "plain_http"), "{}", out.json);
    let fix = out.json["fix"].as_str().unwrap();
    assert!(fix.contains(&format!("http://{authority}/")), "{fix}");
    assert!(!fix.contains("--insecure-tls"), "{fix}");
}

#[test]
fn item3_lower_case_key_and_pasted_ws_key_are_accepted() {
    let Some(store) = store() else { return };
    for key in [
        store.read_key.to_lowercase(),
        format!("ws_key={}", store.read_key),
        format!("?ws_key={}", store.read_key.to_lowercase()),
    ] {
        let out = check(&store.base_url, &key, &[]);
        assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    }
}

#[test]
fn item4_limit_key_check_names_missing_data_types_and_sync_reads_nothing_for_them() {
    let Some(store) = store() else { return };
    let out = check(&store.base_url, store.limit_key, &[]);
    assert_eq!((out.exit, out.code()), (5, "connected"), "{}", out.json);
    for dt in ["commerce-orders", "commerce-products"] {
        assert!(
            out.stderr.contains(&format!("{dt} (needs")),
            "{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("PermissionsError"), "{}", out.stderr);

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("limit.db");
    let out = prestalink(&[
        "sync",
        "--url",
        &store.base_url,
        "--key",
        store.limit_key,
        "--db",
        db.to_str().unwrap(),
        "--data-types",
        "commerce-orders,commerce-products",
        "--json",
    ]);
    assert_eq!(out.exit, 4, "{}\n{}", out.json, out.stderr);
    for dt in ["commerce-orders", "commerce-products"] {
        let report = &out.json["dataTypes"][dt];
        assert_eq!(report["status"], "PermissionsError", "{}", out.json);
        assert_eq!(report["records"], 0, "{}", out.json);
        assert_eq!(report["requests"], 0, "{}", out.json);
    }
    let requests = out.json["requests"].as_u64().unwrap();
    eprintln!(
        "limit-key sync of orders and products: {requests} requests after the diagnosis, {:.2} s",
        out.json["seconds"].as_f64().unwrap_or_default()
    );
    // At most the shop-clock probe; no resource is read.
    assert!(requests <= 1, "{}", out.json);
}

#[test]
fn variant_1_stripped_authorization_falls_back_to_ws_key() {
    let Some(store) = store() else { return };
    let out = check(&store.variant(1), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["authMode"], "ws_key", "{}", out.json);
    assert!(out.warnings().contains(&"auth_header_stripped".to_owned()));
}

#[test]
fn variant_2_redirect_needs_confirmation() {
    let Some(store) = store() else { return };
    let out = check(&store.variant(2), store.read_key, &[]);
    assert_eq!(
        (out.exit, out.code()),
        (3, "redirect_needs_confirmation"),
        "{}",
        out.json
    );
    let out = check(&store.variant(2), store.read_key, &["--accept-redirect"]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["storeUrl"], format!("{}/", store.base_url));
}

#[test]
fn variant_3_no_url_rewriting_uses_the_dispatcher() {
    let Some(store) = store() else { return };
    let out = check(&store.variant(3), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["urlMode"], "dispatcher", "{}", out.json);
    assert!(out.warnings().contains(&"url_rewriting_off".to_owned()));
}

#[test]
fn variant_4_not_prestashop() {
    let Some(store) = store() else { return };
    let out = check(&store.variant(4), store.read_key, &[]);
    assert_eq!(
        (out.exit, out.code()),
        (3, "not_prestashop"),
        "{}",
        out.json
    );
}

#[test]
fn item1_without_a_port_a_closed_443_falls_back_to_port_80() {
    let Some(store) = store() else { return };
    let host = store
        .authority()
        .rsplit_once(':')
        .map_or(store.authority(), |(h, _)| h)
        .to_string();
    // The store's Apache answers on port 80 (its default site); 443 must be closed here.
    if std::net::TcpStream::connect((host.as_str(), 443)).is_ok() {
        eprintln!("skipped: {host}:443 is open on this machine");
        return;
    }
    if std::net::TcpStream::connect((host.as_str(), 80)).is_err() {
        eprintln!("skipped: nothing answers on {host}:80");
        return;
    }
    let out = check(&host, store.read_key, &[]);
    // Port 80 was asked, not "connection refused on 443": the default site is not a shop.
    assert_eq!(
        out.json["storeUrl"],
        format!("http://{host}/"),
        "{}",
        out.json
    );
    assert_ne!(out.code(), "unreachable", "{}", out.json);
}
