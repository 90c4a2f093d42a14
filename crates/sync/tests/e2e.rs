//! End-to-end: the sync engine against the simulator over HTTP, into SQLite and (when
//! `PRESTALINK_TEST_POSTGRES` is set) PostgreSQL, compared record by record and field by
//! field with the simulator's ground truth.

use chrono::Utc;
use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::churn::Churn;
use prestalink_simulator::faults::Faults;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::Store;
use prestalink_sync::{sync_store, FailureReason, SyncOptions, SyncReport, SyncRequest};
use prestalink_testkit::{difference, ground_truth, synced, TestDb};
use prestalink_webservice::diagnose::DiagnoseOptions;

fn request(sim: &Simulator, options: SyncOptions) -> SyncRequest {
    SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions::default(),
        options,
        pace: Pace::Balanced,
        caps: Caps::default(),
    }
}

async fn sync(db: &Store, sim: &Simulator, options: SyncOptions) -> SyncReport {
    sync_store(db, &request(sim, options), None)
        .await
        .expect("the store can be linked and synced")
        .report
}

/// The simulator's data mapped directly, as linked under the connection's store URL.
async fn expected(
    db: &TestDb,
    sim: &Simulator,
    report: &SyncReport,
) -> prestalink_testkit::Records {
    let connection = db
        .store
        .get_connection(&report.connection_id)
        .await
        .unwrap()
        .expect("the connection exists");
    let store = sim.store();
    let store = store.read().unwrap();
    ground_truth(&store, &sim.base_url(), &connection.store_url).unwrap()
}

async fn assert_matches_ground_truth(db: &TestDb, sim: &Simulator, report: &SyncReport) {
    let expected = expected(db, sim, report).await;
    let actual = synced(&db.store, &report.connection_id).await.unwrap();
    if let Some(diff) = difference(&expected, &actual) {
        panic!(
            "{}: the synced data differs from the store:\n{diff}",
            db.engine
        );
    }
    assert!(
        expected["commerce-orders"].len() > 10,
        "the store has orders"
    );
}

/// Shop-local now, as the churn needs it.
fn shop_now(sim: &Simulator) -> chrono::NaiveDateTime {
    let store = sim.store();
    let zone: chrono_tz::Tz = store.read().unwrap().timezone.parse().unwrap();
    Utc::now().with_timezone(&zone).naive_local()
}

fn config(gen: GenConfig) -> SimulatorConfig {
    SimulatorConfig {
        gen,
        ..SimulatorConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_equals_the_ground_truth() {
    for (languages, shops) in [(1, 1), (2, 2)] {
        let sim = Simulator::start(config(GenConfig {
            seed: 11,
            languages,
            shops,
            orders: 300,
            customers: 80,
            products: 40,
            ..GenConfig::default()
        }))
        .await
        .unwrap();
        for db in TestDb::all("full_sync").await.unwrap() {
            let report = sync(&db.store, &sim, SyncOptions::default()).await;
            assert!(report.all_completed(), "{report:#?}");
            assert_matches_ground_truth(&db, &sim, &report).await;
            // A second full sync of an unchanged store writes nothing.
            let again = sync(
                &db.store,
                &sim,
                SyncOptions {
                    full: true,
                    ..SyncOptions::default()
                },
            )
            .await;
            let written: u64 = again.data_types.values().map(|d| d.written).sum();
            assert_eq!(
                written, 0,
                "{}: nothing changed, nothing written",
                db.engine
            );
            // A customer deleted in the shop and another edited: a full sync marks the
            // first deleted (a row written before the read began that it did not receive)
            // and keeps the second (rewritten by the read).
            let (gone, edited) = {
                let now = shop_now(&sim);
                let store = sim.store();
                let mut store = store.write().unwrap();
                let table = store.table_mut("customers").unwrap();
                let gone = *table.rows.keys().nth(3).unwrap();
                let edited = *table.rows.keys().nth(5).unwrap();
                table.rows.remove(&gone);
                Churn::new(1).update_customer(&mut store, edited, now);
                (gone.to_string(), edited.to_string())
            };
            let third = sync(
                &db.store,
                &sim,
                SyncOptions {
                    full: true,
                    ..SyncOptions::default()
                },
            )
            .await;
            assert!(third.all_completed(), "{third:#?}");
            let customers =
                &synced(&db.store, &report.connection_id).await.unwrap()["commerce-customers"];
            assert!(!customers.contains_key(&gone), "{}", db.engine);
            assert!(customers.contains_key(&edited), "{}", db.engine);
            assert_matches_ground_truth(&db, &sim, &third).await;
            db.cleanup().await.unwrap();
        }
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_sync_after_churn_equals_the_ground_truth_and_reads_less() {
    let sim = Simulator::start(config(GenConfig {
        seed: 5,
        languages: 2,
        orders: 1500,
        customers: 300,
        products: 60,
        ..GenConfig::default()
    }))
    .await
    .unwrap();
    for db in TestDb::all("incremental").await.unwrap() {
        let full = sync(&db.store, &sim, SyncOptions::default()).await;
        assert!(full.all_completed(), "{full:#?}");
        {
            let now = shop_now(&sim);
            let store = sim.store();
            let mut store = store.write().unwrap();
            let mut churn = Churn::new(99);
            let product = *store.table("products").unwrap().rows.keys().nth(3).unwrap();
            churn.delete_product(&mut store, product);
            churn.step(&mut store, now, 30);
        }
        // Deletions are reconciled on this incremental sync (every sync with 1).
        let every_sync = SyncOptions {
            reconcile_every: 1,
            ..SyncOptions::default()
        };
        let incremental = sync(&db.store, &sim, every_sync).await;
        assert!(incremental.all_completed(), "{incremental:#?}");
        assert_matches_ground_truth(&db, &sim, &incremental).await;
        let read = |r: &SyncReport| r.resources.iter().map(|r| r.records).sum::<u64>();
        assert!(
            read(&incremental) * 3 < read(&full),
            "{}: incremental read {} records, full {}",
            db.engine,
            read(&incremental),
            read(&full)
        );
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_fail_only_the_broken_resource() {
    let faults = Faults {
        server_error: 0.05,
        reset: 0.02,
        truncate: 0.02,
        bad_char: 0.02,
        fail: vec!["order_carriers".into()],
        seed: 3,
        ..Faults::default()
    };
    let sim = Simulator::start(SimulatorConfig {
        faults,
        ..config(GenConfig {
            seed: 8,
            orders: 400,
            ..GenConfig::default()
        })
    })
    .await
    .unwrap();
    let db = TestDb::sqlite().await.unwrap();
    let options = SyncOptions {
        max_attempts: 8,
        ..SyncOptions::default()
    };
    let report = sync(&db.store, &sim, options).await;
    let orders = &report.data_types["commerce-orders"];
    assert_eq!(orders.status, "failed");
    assert!(
        orders
            .error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("order_carriers")),
        "the failure names the broken resource: {orders:?}"
    );
    assert!(
        matches!(
            &orders.error,
            Some(FailureReason::SourceFailed { resource, .. }) if resource == "order_carriers"
        ),
        "the failure is the broken resource's: {orders:?}"
    );
    for (name, d) in &report.data_types {
        if name != "commerce-orders" && name != "commerce-disputes" {
            assert_eq!(d.status, "completed", "{name}: {d:?}");
        }
    }
    // Everything that completed is exactly the store's data.
    let mut expected = expected(&db, &sim, &report).await;
    let mut actual = synced(&db.store, &report.connection_id).await.unwrap();
    expected.remove("commerce-orders");
    actual.remove("commerce-orders");
    if let Some(diff) = difference(&expected, &actual) {
        panic!("faults changed the synced data:\n{diff}");
    }
    db.cleanup().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_are_found_on_every_nth_incremental_sync() {
    let sim = Simulator::start(config(GenConfig {
        seed: 21,
        orders: 100,
        ..GenConfig::default()
    }))
    .await
    .unwrap();
    let db = TestDb::sqlite().await.unwrap();
    // The safety-net sweep finds deletions in its slice too; off here, so that this test
    // measures the reconciliation's cadence alone.
    let options = SyncOptions {
        reconcile_every: 3,
        sweep_every: 0,
        ..SyncOptions::default()
    };
    let full = sync(&db.store, &sim, options.clone()).await;
    let customer = {
        let store = sim.store();
        let mut store = store.write().unwrap();
        let table = store.table_mut("customers").unwrap();
        let id = *table.rows.keys().nth(2).unwrap();
        table.rows.remove(&id);
        id.to_string()
    };
    let live = |records: &prestalink_testkit::Records| {
        records["commerce-customers"].contains_key(&customer)
    };
    for run in 1..=3 {
        let report = sync(&db.store, &sim, options.clone()).await;
        assert!(report.all_completed(), "{report:#?}");
        let synced = synced(&db.store, &full.connection_id).await.unwrap();
        assert_eq!(
            live(&synced),
            run < 3,
            "run {run}: the deleted customer is found on the 3rd incremental sync"
        );
    }
    assert_matches_ground_truth(&db, &sim, &full).await;
    db.cleanup().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payment_method_census_is_kept_until_an_order_or_payment_changes() {
    let sim = Simulator::start(config(GenConfig {
        seed: 23,
        orders: 200,
        customers: 60,
        products: 40,
        ..GenConfig::default()
    }))
    .await
    .unwrap();
    let db = TestDb::sqlite().await.unwrap();
    let full = sync(&db.store, &sim, SyncOptions::default()).await;
    assert!(full.all_completed(), "{full:#?}");
    assert_matches_ground_truth(&db, &sim, &full).await;
    let conn = full.connection_id.clone();
    // The census is kept; a mark in it shows whether the next pass counted again.
    let mut cp = db
        .store
        .get_checkpoint(&conn, "commerce-paymentMethods", "census")
        .await
        .unwrap()
        .expect("the census is kept");
    let cursor = cp.cursor.as_mut().expect("with the census");
    let (method, seen) = cursor["census"]["seen"]
        .as_object_mut()
        .expect("methods seen")
        .iter_mut()
        .next()
        .expect("one method at least");
    let method = method.clone();
    let uses = seen["uses"].as_u64().unwrap();
    seen["uses"] = (uses + 1000).into();
    db.store
        .save_checkpoint(&conn, &cp, Utc::now())
        .await
        .unwrap();
    let times_seen = |records: &prestalink_testkit::Records| {
        records["commerce-paymentMethods"][&method]["supplementalData"]["content"]["timesSeen"]
            .as_u64()
    };

    // Nothing changed: the kept census is finished again, no order is read.
    let unchanged = sync(&db.store, &sim, SyncOptions::default()).await;
    assert!(unchanged.all_completed(), "{unchanged:#?}");
    let actual = synced(&db.store, &conn).await.unwrap();
    assert_eq!(times_seen(&actual), Some(uses + 1000), "the kept census");

    // An order changes: every order and payment is counted again.
    {
        let now = shop_now(&sim);
        let store = sim.store();
        let mut store = store.write().unwrap();
        Churn::new(3).step(&mut store, now, 20);
    }
    let changed = sync(&db.store, &sim, SyncOptions::default()).await;
    assert!(changed.all_completed(), "{changed:#?}");
    assert_matches_ground_truth(&db, &sim, &changed).await;
    let actual = synced(&db.store, &conn).await.unwrap();
    assert!(times_seen(&actual).unwrap() < uses + 1000, "counted again");
    db.cleanup().await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_census_updated_from_the_changed_orders_equals_a_recount() {
    let sim = Simulator::start(config(GenConfig {
        seed: 29,
        orders: 300,
        customers: 80,
        products: 40,
        ..GenConfig::default()
    }))
    .await
    .unwrap();
    for db in TestDb::all("census_update").await.unwrap() {
        let full = sync(&db.store, &sim, SyncOptions::default()).await;
        assert!(full.all_completed(), "{full:#?}");
        let conn = full.connection_id.clone();
        let churn = |seed: u64, changes: usize| {
            let now = shop_now(&sim);
            let store = sim.store();
            let mut store = store.write().unwrap();
            let mut churn = Churn::new(seed);
            churn.new_order(&mut store, now);
            churn.step(&mut store, now, changes);
        };
        // Deletions (churn deletes products too) are reconciled on every sync.
        let every_sync = SyncOptions {
            reconcile_every: 1,
            ..SyncOptions::default()
        };
        // A few orders and payments change each time: the census equals the ground truth's
        // (a count of every order and payment).
        for round in 0..3 {
            churn(40 + round, 10);
            let report = sync(&db.store, &sim, every_sync.clone()).await;
            assert!(report.all_completed(), "{report:#?}");
            assert_matches_ground_truth(&db, &sim, &report).await;
        }

        // The census was updated from its ledger, not counted again: a use of a method no
        // row names, slipped into the kept ledger, is still counted after orders changed.
        let mut cp = db
            .store
            .get_checkpoint(&conn, "commerce-paymentMethods", "census-ledger")
            .await
            .unwrap()
            .expect("the ledger is kept");
        let cursor = cp.cursor.as_mut().expect("with the ledger");
        let mut ledger: serde_json::Value =
            serde_json::from_str(cursor["ledger"].as_str().expect("as JSON text")).unwrap();
        let namings = ledger["namings"].as_array_mut().unwrap();
        namings.push(serde_json::json!({"id": "phantom", "name": "Phantom", "label": null}));
        let naming = namings.len() - 1;
        ledger["payments"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!([999_999, naming, null]));
        cursor["ledger"] = ledger.to_string().into();
        db.store
            .save_checkpoint(&conn, &cp, Utc::now())
            .await
            .unwrap();
        churn(50, 10);
        let report = sync(&db.store, &sim, every_sync.clone()).await;
        assert!(report.all_completed(), "{report:#?}");
        let actual = synced(&db.store, &conn).await.unwrap();
        assert!(
            actual["commerce-paymentMethods"].contains_key("phantom"),
            "{}: the kept ledger was updated",
            db.engine
        );
        // A full sync counts every row again.
        let recount = sync(
            &db.store,
            &sim,
            SyncOptions {
                full: true,
                ..SyncOptions::default()
            },
        )
        .await;
        assert!(recount.all_completed(), "{recount:#?}");
        assert_matches_ground_truth(&db, &sim, &recount).await;
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}
