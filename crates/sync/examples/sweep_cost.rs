//! What the safety-net sweep adds to an incremental sync: a simulated shop of the
//! benchmark's large size (20,000 orders, 5,000 customers, 400 products by default) is synced
//! in full into SQLite, then each of `sweep_every` rounds changes it a little (churn) and runs
//! one incremental sync with the sweep and, on a copy of the same changes, one without it.
//! Prints requests, records and seconds per incremental sync of each, and their difference.
//!
//! `cargo run -p prestalink-sync --example sweep_cost [ORDERS] [TIME_SCALE]` (time scale 0:
//! the shop answers without modelled delay, so seconds are this machine's work; 1: a VPS).

use std::time::Instant;

use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_sync::{sync_store, SyncOptions, SyncReport, SyncRequest};
use prestalink_testkit::TestDb;
use prestalink_webservice::diagnose::DiagnoseOptions;

async fn sync(db: &prestalink_store::Store, sim: &Simulator, options: SyncOptions) -> SyncReport {
    let request = SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions::default(),
        options,
        pace: Pace::Balanced,
        caps: Caps::default(),
    };
    let report = sync_store(db, &request, None).await.expect("sync").report;
    assert!(report.all_completed(), "{report:#?}");
    report
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let orders: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let time_scale: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0.0);
    let capacity = Capacity {
        time_scale,
        ..Capacity::profile(Profile::Vps)
    };
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            seed: 20,
            languages: 2,
            orders,
            customers: orders / 4,
            products: (orders / 50).max(40),
            ..GenConfig::default()
        },
        capacity,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let with = TestDb::sqlite().await.unwrap();
    let without = TestDb::sqlite().await.unwrap();
    let every = SyncOptions::default().sweep_every;
    let swept = SyncOptions::default();
    let unswept = SyncOptions {
        sweep_every: 0,
        ..SyncOptions::default()
    };
    let started = Instant::now();
    let full = sync(&with.store, &sim, swept.clone()).await;
    println!(
        "full sync: {} requests, {:.1} s (wall {:.1} s)",
        full.requests,
        full.seconds,
        started.elapsed().as_secs_f64()
    );
    sync(&without.store, &sim, unswept.clone()).await;
    let mut churn = Churn::new(5);
    let (mut sum_with, mut sum_without) = ((0u64, 0u64, 0f64), (0u64, 0u64, 0f64));
    println!("round | with sweep: requests records s | without: requests records s");
    for round in 1..=every {
        {
            let now = sim.shop_now();
            let store = sim.store();
            let mut store = store.write().unwrap();
            churn.step(&mut store, now, 40);
        }
        let a = sync(&with.store, &sim, swept.clone()).await;
        let b = sync(&without.store, &sim, unswept.clone()).await;
        let records = |r: &SyncReport| r.resources.iter().map(|r| r.records).sum::<u64>();
        println!(
            "{round:>5} | {:>8} {:>8} {:>6.2} | {:>8} {:>8} {:>6.2}",
            a.requests,
            records(&a),
            a.seconds,
            b.requests,
            records(&b),
            b.seconds
        );
        sum_with = (
            sum_with.0 + a.requests,
            sum_with.1 + records(&a),
            sum_with.2 + a.seconds,
        );
        sum_without = (
            sum_without.0 + b.requests,
            sum_without.1 + records(&b),
            sum_without.2 + b.seconds,
        );
    }
    let n = f64::from(every);
    println!(
        "mean per incremental sync: with sweep {:.1} requests, {:.0} records, {:.2} s; \
         without {:.1} requests, {:.0} records, {:.2} s; sweep adds {:.1} requests, {:.2} s",
        sum_with.0 as f64 / n,
        sum_with.1 as f64 / n,
        sum_with.2 / n,
        sum_without.0 as f64 / n,
        sum_without.1 as f64 / n,
        sum_without.2 / n,
        (sum_with.0 as f64 - sum_without.0 as f64) / n,
        (sum_with.2 - sum_without.2) / n,
    );
    with.cleanup().await.unwrap();
    without.cleanup().await.unwrap();
    sim.shutdown().await;
}
