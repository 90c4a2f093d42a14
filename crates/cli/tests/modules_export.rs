//! `prestalink sync --modules FILE` then `prestalink export`: add-on module rules reach the
//! mapping (a payment module the built-in table does not know), module resources are copied
//! raw and exported, and commerce records export as JSON lines, JSON and CSV.

use std::path::Path;
use std::process::Command;

use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};

fn prestalink(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(args)
        .output()
        .expect("prestalink runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_rules_and_raw_copies_flow_through_sync_and_export() {
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            seed: 4,
            orders: 400,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let (orders, manufacturers) = {
        let store = sim.store();
        let store = store.read().unwrap();
        (
            store.table("orders").unwrap().rows.len(),
            store.table("manufacturers").unwrap().rows.len(),
        )
    };
    assert!(manufacturers > 0, "the store has manufacturers to copy");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("modules.db");
    let rules = dir.path().join("modules.toml");
    std::fs::write(
        &rules,
        r#"
[[payment_modules]]
module = "xyzpay_legacy"
name = "XyzPay"
type = "OnlineCard"
aliases = ["XyzPay instalments (legacy)"]

[[extra_resources]]
resource = "manufacturers"
"#,
    )
    .unwrap();
    let url = sim.base_url();
    let (ok, stdout, stderr) = tokio::task::block_in_place(|| {
        prestalink(&[
            "sync",
            "--url",
            &url,
            "--key",
            sim.key(),
            "--db",
            path(&db),
            "--json",
            "--modules",
            path(&rules),
        ])
    });
    assert!(ok, "sync succeeds: {stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["dataTypes"]["raw-manufacturers"]["status"],
        "completed"
    );
    assert_eq!(
        report["dataTypes"]["raw-manufacturers"]["records"],
        manufacturers as u64
    );

    let export = |data_type: &str, format: &str| {
        let (ok, stdout, stderr) = prestalink(&[
            "export",
            "--db",
            path(&db),
            "--data-type",
            data_type,
            "--format",
            format,
        ]);
        assert!(ok, "export {data_type} {format}: {stderr}");
        stdout
    };
    let copies = tokio::task::block_in_place(|| export("raw-manufacturers", "jsonl"));
    assert_eq!(copies.lines().count(), manufacturers);
    for line in copies.lines() {
        let copy: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(copy["resource"], "manufacturers");
        assert!(copy["fields"]["name"].is_string(), "{copy}");
    }

    let methods: serde_json::Value = serde_json::from_str(&tokio::task::block_in_place(|| {
        export("commerce-paymentMethods", "json")
    }))
    .unwrap();
    let xyz = methods
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "xyzpay_legacy")
        .expect("the module from the rules file is a payment method");
    assert_eq!(xyz["name"], "XyzPay");

    let csv = tokio::task::block_in_place(|| export("commerce-orders", "csv"));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "totalAmount"), "{headers:?}");
    assert_eq!(reader.records().count(), orders);

    let (ok, _, stderr) = tokio::task::block_in_place(|| {
        prestalink(&["export", "--db", path(&db), "--data-type", "commerce-nope"])
    });
    assert!(!ok && stderr.contains("unknown data type"), "{stderr}");
    sim.shutdown().await;
}
