//! `prestalink bench --store URL --key KEY --storefront URL,…` against a small simulated
//! shop (its storefront is the simulator's shopper page), and against the real store when
//! `PRESTALINK_TEST_PRESTASHOP` is set. Both bounded: a tiny store or one data type, a
//! second or two of idle probing.

use std::process::Command;

use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};
use prestalink_testkit::real_store;
use serde_json::Value;

/// Runs `prestalink bench ARGS…` off the runtime's threads: exit code, stdout, stderr.
async fn bench(args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_prestalink"))
            .arg("bench")
            .args(&args)
            .output()
            .expect("prestalink runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// The idle object and the rows of a `--json` run.
fn json_lines(stdout: &str) -> (Value, Vec<Value>) {
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let idle = lines
        .iter()
        .find_map(|l| l.get("idle").cloned())
        .expect("an idle line");
    let rows = lines
        .into_iter()
        .filter(|l| l.get("reader").is_some())
        .collect();
    (idle, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_store_measures_a_simulated_shop_and_its_storefront() {
    // Storefront pages of about 4 ms and Webservice pages of 1.3 ms and more.
    let capacity = Capacity {
        time_scale: 0.1,
        ..Capacity::profile(Profile::Laptop)
    };
    let shopper_page = capacity.scaled(capacity.shopper_work().total());
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            orders: 60,
            customers: 20,
            products: 20,
            ..GenConfig::default()
        },
        capacity,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let url = sim.base_url();
    let storefront = format!("{url}/shopper,{url}/");
    let args = [
        "--store",
        url.as_str(),
        "--key",
        sim.key(),
        "--storefront",
        storefront.as_str(),
        "--idle-seconds",
        "1",
        "--probe-rate",
        "20",
        "--readers",
        "max,polite",
        "--json",
    ];
    let (code, stdout, stderr) = bench(&args).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (idle, rows) = json_lines(&stdout);
    assert!(idle["visits"].as_u64().unwrap() >= 5, "{idle}");
    let idle_p95 = idle["p95Ms"].as_f64().unwrap();
    let page_ms = shopper_page.as_secs_f64() * 1000.0;
    assert!(
        idle["p50Ms"].as_f64().unwrap() >= 0.9 * page_ms,
        "a shopper page takes {page_ms} ms: {idle}"
    );
    let readers: Vec<&str> = rows.iter().map(|r| r["reader"].as_str().unwrap()).collect();
    assert_eq!(readers, ["max", "polite"]);
    let served = sim.counters();
    let storefront_served: u64 = served.by_resource["storefront"].values().sum();
    let webservice_served = served.requests - storefront_served;
    let mut reported = 0;
    let mut visits = idle["visits"].as_u64().unwrap();
    for row in &rows {
        assert_eq!(row["completed"], true, "{row}");
        let requests = row["requests"].as_u64().unwrap();
        assert!(requests > 10, "a full sync makes many requests: {row}");
        reported += requests;
        assert!(row["wallSeconds"].as_f64().unwrap() > 0.0);
        let (p50, p95) = (
            row["p50Ms"].as_f64().unwrap(),
            row["p95Ms"].as_f64().unwrap(),
        );
        assert!(p50 > 0.0 && p95 >= p50, "{row}");
        let inflation = row["inflationP95"].as_f64().unwrap();
        assert!((inflation - p95 / idle_p95).abs() < 1e-6, "{row}");
        assert!(row["readerCpuSeconds"].as_f64().unwrap() > 0.0);
        visits += row["visits"].as_u64().unwrap();
    }
    // The readers' own counts leave out their diagnosis requests; the shop saw every one.
    assert!(
        webservice_served >= reported,
        "the shop served {webservice_served} requests, the readers reported {reported}"
    );
    assert!(
        storefront_served >= visits,
        "every measured visit reached the storefront ({storefront_served} < {visits})"
    );

    // The table, and a storefront that does not answer is an error, not a number.
    let text = [
        "--store",
        url.as_str(),
        "--key",
        sim.key(),
        "--idle-seconds",
        "0.5",
        "--probe-rate",
        "20",
        "--readers",
        "max",
    ];
    let (code, stdout, stderr) = bench(&text).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("this loads the shop"), "{stdout}");
    assert!(stdout.contains("(idle storefront)") && stdout.contains("p95 inflation"));
    let missing = format!("{url}/no-such-page");
    let bad = [
        "--store",
        url.as_str(),
        "--key",
        sim.key(),
        "--storefront",
        missing.as_str(),
        "--idle-seconds",
        "0.5",
        "--probe-rate",
        "20",
    ];
    let (code, _, stderr) = bench(&bad).await;
    assert_ne!(code, 0);
    assert!(stderr.contains("no storefront visit succeeded"), "{stderr}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_store_measures_the_real_store() {
    let Some(store) = real_store() else { return };
    let _lock = store.shared_lock();
    let home = format!("{}/", store.base_url);
    let args = [
        "--store",
        store.base_url.as_str(),
        "--key",
        store.read_key,
        "--storefront",
        home.as_str(),
        "--idle-seconds",
        "2",
        "--probe-rate",
        "4",
        "--readers",
        "max",
        "--data-types",
        "commerce-info",
        "--json",
    ];
    let (code, stdout, stderr) = bench(&args).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (idle, rows) = json_lines(&stdout);
    assert!(idle["visits"].as_u64().unwrap() >= 1, "{idle}");
    assert!(idle["p50Ms"].as_f64().unwrap() > 0.0);
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["reader"], "max");
    assert_eq!(row["completed"], true, "{row}");
    assert!(row["requests"].as_u64().unwrap() >= 1, "{row}");
    assert!(row["wallSeconds"].as_f64().unwrap() > 0.0);
}
