//! The benchmark's correctness checks on a tiny store at time scale 0: the baselines receive
//! every id of the simulator's tables exactly once, a real sync matches the ground truth with
//! the same check the benchmark uses, and the checks do see a lost record.

use std::collections::BTreeMap;
use std::time::Duration;

use prestalink_bench::runner::{id_check, record_check};
use prestalink_bench::{read_store, sync_resources, Baseline};
use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_sync::{sync_store, SyncOptions, SyncRequest};
use prestalink_testkit::{ground_truth, source_records, synced, TestDb};
use prestalink_webservice::diagnose::DiagnoseOptions;

async fn tiny_shop() -> Simulator {
    Simulator::start(SimulatorConfig {
        gen: GenConfig {
            orders: 120,
            customers: 30,
            products: 20,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await
    .unwrap()
}

fn table_ids(sim: &Simulator) -> BTreeMap<String, Vec<u64>> {
    let store = sim.store();
    let store = store.read().unwrap();
    let source = source_records(&store, &sim.base_url()).unwrap();
    sync_resources()
        .into_iter()
        .map(|name| {
            let ids = source.records(name).iter().filter_map(|r| r.id()).collect();
            (name.to_string(), ids)
        })
        .collect()
}

#[tokio::test]
async fn baselines_receive_every_id_once() {
    let sim = tiny_shop().await;
    let expected = table_ids(&sim);
    assert!(expected["orders"].len() == 120);
    for baseline in [Baseline::FIXED_1X50, Baseline::FIXED_RATE] {
        // Time scale 0.001 turns 5 requests/s into 5000/s: the limiter runs, quickly.
        let got = read_store(
            &sim.base_url(),
            sim.key(),
            &sync_resources(),
            baseline,
            0.001,
        )
        .await
        .unwrap();
        assert!(got.fatal.is_none(), "{:?}", got.fatal);
        assert_eq!(id_check(&expected, &got.ids), (0, 0), "{baseline:?}");
        // Offset pages: at least one request per page of every resource.
        let pages: u64 = expected
            .values()
            .map(|ids| ids.len() as u64 / baseline.page + 1)
            .sum();
        assert!(got.requests >= pages, "{} < {pages}", got.requests);
        // The check sees a lost and a duplicated record.
        let mut damaged = got.ids.clone();
        let orders = damaged.get_mut("orders").unwrap();
        let first = orders.remove(0);
        orders.push(orders[0]);
        assert_eq!(id_check(&expected, &damaged), (1, 1));
        assert!(!damaged["orders"].contains(&first));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_full_sync_matches_the_ground_truth_record_for_record() {
    let sim = tiny_shop().await;
    let db = TestDb::sqlite().await.unwrap();
    let request = SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions {
            timeout: Duration::from_secs(30),
            ..DiagnoseOptions::default()
        },
        options: SyncOptions {
            full: true,
            ..SyncOptions::default()
        },
        pace: Pace::Balanced,
        caps: Caps::default(),
    };
    let linked = sync_store(&db.store, &request, None).await.unwrap();
    assert!(linked.report.all_completed());
    let connection = db
        .store
        .get_connection(&linked.report.connection_id)
        .await
        .unwrap()
        .unwrap();
    let expected = {
        let store = sim.store();
        let store = store.read().unwrap();
        ground_truth(&store, &sim.base_url(), &connection.store_url).unwrap()
    };
    let mut actual = synced(&db.store, &connection.id).await.unwrap();
    assert_eq!(record_check(&expected, &actual), (0, 0, 0));
    // The check sees a missing, an extra and a changed record.
    let orders = actual.get_mut("commerce-orders").unwrap();
    let (id, mut record) = orders.pop_first().unwrap();
    record["note"] = serde_json::json!("changed");
    let (_, other) = orders.pop_last().unwrap();
    let next = orders.keys().next().unwrap().clone();
    orders.insert(next, record);
    orders.insert(format!("{id}-copy"), other);
    assert_eq!(record_check(&expected, &actual), (2, 1, 1));
    db.cleanup().await.unwrap();
    sim.shutdown().await;
}
