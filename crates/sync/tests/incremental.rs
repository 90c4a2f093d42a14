//! Incremental syncs that miss nothing: rows dated by the database's clock instead of
//! PrestaShop's PHP (`date_upd = NOW()` with the database in another time zone), rows changed
//! without any timestamp, and a product's stock changed while the stock sweep reads it.
//! Each test compares the synced data with the simulator's ground truth.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::resources;
use prestalink_simulator::server::{AnsweredRequest, Simulator, SimulatorConfig};
use prestalink_simulator::store::{Store as SimStore, Value};
use prestalink_store::Store;
use prestalink_sync::{sync_store, SyncOptions, SyncReport, SyncRequest};
use prestalink_testkit::{difference, ground_truth, synced, TestDb};
use prestalink_webservice::diagnose::DiagnoseOptions;

fn request(sim: &Simulator, options: SyncOptions, caps: Caps) -> SyncRequest {
    SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions::default(),
        options,
        pace: Pace::Balanced,
        caps,
    }
}

async fn sync_with(db: &Store, sim: &Simulator, options: SyncOptions, caps: Caps) -> SyncReport {
    let request = request(sim, options, caps);
    let report = sync_store(db, &request, None)
        .await
        .expect("the store can be linked and synced")
        .report;
    assert!(report.all_completed(), "{report:#?}");
    report
}

async fn sync(db: &Store, sim: &Simulator, options: SyncOptions) -> SyncReport {
    sync_with(db, sim, options, Caps::default()).await
}

/// What differs between the synced data and the simulator's store, if anything.
async fn diff(db: &TestDb, sim: &Simulator, report: &SyncReport) -> Option<String> {
    let connection = db
        .store
        .get_connection(&report.connection_id)
        .await
        .unwrap()
        .expect("the connection exists");
    let expected = {
        let store = sim.store();
        let store = store.read().unwrap();
        ground_truth(&store, &sim.base_url(), &connection.store_url).unwrap()
    };
    let actual = synced(&db.store, &report.connection_id).await.unwrap();
    assert!(
        expected["commerce-orders"].len() > 10,
        "the store has orders"
    );
    difference(&expected, &actual)
}

fn simulator(seed: u64, timezone: &str, db_timezone: Option<&str>) -> SimulatorConfig {
    SimulatorConfig {
        gen: GenConfig {
            seed,
            orders: 200,
            customers: 60,
            products: 30,
            timezone: timezone.to_string(),
            ..GenConfig::default()
        },
        db_timezone: db_timezone.map(str::to_string),
        ..SimulatorConfig::default()
    }
}

/// Churn written both ways, as on a real shop: PrestaShop's PHP dates rows in PS_TIMEZONE,
/// modules and scripts writing `date_upd = NOW()` date them by the database's clock (UTC
/// here, hours behind a shop east of UTC). One incremental sync sees all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_dated_by_php_or_by_a_utc_database_are_seen_by_the_next_incremental_sync() {
    for (seed, zone) in [(31, "Europe/Paris"), (32, "Australia/Brisbane")] {
        let sim = Simulator::start(simulator(seed, zone, Some("UTC")))
            .await
            .unwrap();
        for db in TestDb::all("clocks").await.unwrap() {
            let options = SyncOptions {
                reconcile_every: 1,
                ..SyncOptions::default()
            };
            sync(&db.store, &sim, options.clone()).await;
            for round in 0..2u64 {
                let (php, sql) = (sim.shop_now(), sim.db_now());
                assert!(
                    php - sql >= chrono::Duration::minutes(55),
                    "{zone}: {php} {sql}"
                );
                {
                    let store = sim.store();
                    let mut store = store.write().unwrap();
                    let mut churn = Churn::new(seed * 10 + round);
                    let by_php = churn.step(&mut store, php, 25);
                    let by_sql = churn.step(&mut store, sql, 25);
                    assert!(
                        !by_sql.updated_in("customers").is_empty()
                            || !by_sql.updated_in("orders").is_empty()
                    );
                    assert!(by_php.len() > 10);
                }
                let report = sync(&db.store, &sim, options.clone()).await;
                if let Some(diff) = diff(&db, &sim, &report).await {
                    panic!(
                        "{} {zone}, round {round}: one incremental sync missed changes:\n{diff}",
                        db.engine
                    );
                }
            }
            db.cleanup().await.unwrap();
        }
        sim.shutdown().await;
    }
}

fn customer_ids(sim: &Simulator) -> Vec<u64> {
    let store = sim.store();
    let store = store.read().unwrap();
    store
        .table("customers")
        .unwrap()
        .rows
        .keys()
        .copied()
        .collect()
}

/// A database whose clock is further behind than the shop's offset from UTC (a database in
/// New York behind a shop in Paris: 6 hours, where UTC would be 1), and a change that bumps
/// no timestamp at all: the safety-net sweep sees both within `sweep_every` incremental syncs,
/// and learns the lag so that the next such change is seen by the next sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_catches_other_clocks_and_silent_changes_and_learns_the_lag() {
    let sim = Simulator::start(simulator(41, "Europe/Paris", Some("America/New_York")))
        .await
        .unwrap();
    let every = 4u32;
    for db in TestDb::all("sweep").await.unwrap() {
        let options = SyncOptions {
            sweep_every: every,
            ..SyncOptions::default()
        };
        let customers = customer_ids(&sim);
        let (behind, silent, later) = (customers[5], customers[customers.len() / 2], customers[9]);
        // The silently changed row was last edited 20 hours ago: its old date says nothing
        // of the database's clock and must not be learned as a 20-hour lag.
        {
            let edited = (sim.shop_now() - chrono::Duration::hours(20))
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            let store = sim.store();
            let mut store = store.write().unwrap();
            set_text(&mut store, "customers", silent, "date_upd", &edited);
        }
        let full = sync(&db.store, &sim, options.clone()).await;
        {
            let sql = sim.db_now();
            let store = sim.store();
            let mut store = store.write().unwrap();
            let mut churn = Churn::new(7);
            churn.update_customer(&mut store, behind, sql);
            // A script that changes a row without touching date_upd.
            let date = text(&store, "customers", silent, "date_upd");
            churn.update_customer(&mut store, silent, sql);
            set_text(&mut store, "customers", silent, "date_upd", &date);
        }
        let mut seen_after = None;
        for run in 1..=every {
            let report = sync(&db.store, &sim, options.clone()).await;
            if diff(&db, &sim, &report).await.is_none() {
                seen_after = Some(run);
                break;
            }
        }
        let run = seen_after
            .unwrap_or_else(|| panic!("{}: not seen within {every} incremental syncs", db.engine));
        eprintln!("{}: seen after {run} incremental sync(s)", db.engine);
        let lag = db
            .store
            .get_checkpoint(&full.connection_id, "clock", "db_lag")
            .await
            .unwrap()
            .and_then(|cp| cp.cursor?["lagSecs"].as_i64())
            .unwrap_or(0);
        assert!(
            (6 * 3600..7 * 3600).contains(&lag),
            "{}: the 6-hour lag was learned, not the 20 hours since the silent row's last \
             edit (got {lag} s)",
            db.engine
        );
        // Learned: the next row dated by the database's clock is seen at once.
        {
            let sql = sim.db_now();
            let store = sim.store();
            let mut store = store.write().unwrap();
            Churn::new(8).update_customer(&mut store, later, sql);
        }
        let report = sync(&db.store, &sim, options.clone()).await;
        if let Some(diff) = diff(&db, &sim, &report).await {
            panic!(
                "{}: the learned lag did not widen the read:\n{diff}",
                db.engine
            );
        }
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}

fn text(store: &SimStore, resource: &str, id: u64, field: &str) -> String {
    let resource_schema = resources::resource(resource).unwrap();
    let row = &store.table(resource).unwrap().rows[&id];
    row.get(resource_schema, field)
        .unwrap()
        .as_text()
        .into_owned()
}

fn set_text(store: &mut SimStore, resource: &str, id: u64, field: &str, value: &str) {
    let resource_schema = resources::resource(resource).unwrap();
    let row = store
        .table_mut(resource)
        .unwrap()
        .rows
        .get_mut(&id)
        .unwrap();
    row.set(resource_schema, field, Value::str(value));
}

/// Renames every carrier of the shop (reference data that orders show).
fn rename_every_carrier(sim: &Simulator) {
    let store = sim.store();
    let mut store = store.write().unwrap();
    let ids: Vec<u64> = store
        .table("carriers")
        .unwrap()
        .rows
        .keys()
        .copied()
        .collect();
    assert!(!ids.is_empty());
    for id in ids {
        let renamed = format!("{} (renamed)", text(&store, "carriers", id, "name"));
        set_text(&mut store, "carriers", id, "name", &renamed);
    }
}

/// The ids `[a,b]` (or `[a]`) of a `filter[id]` parameter.
fn id_range(request: &AnsweredRequest) -> Option<(u64, u64)> {
    let (_, value) = request.params.iter().find(|(k, _)| k == "filter[id]")?;
    let inner = value.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u64>().ok());
    let first = parts.next()??;
    let last = parts.next().flatten().unwrap_or(first);
    Some((first, last))
}

/// The stock race: every combination of one product changes at once while the stock sweep
/// is between two of the pages holding that product's rows. The product must be mapped from
/// all its rows as they are after the change, not from earlier pages' old rows and later
/// pages' new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_changed_between_two_sweep_pages_is_mapped_from_rows_all_written() {
    let sim = Simulator::start(simulator(51, "Europe/Paris", None))
        .await
        .unwrap();
    // The product with the most combinations, and its combination stock rows in shop 1.
    let (product, rows) = {
        let store = sim.store();
        let store = store.read().unwrap();
        let sr = resources::resource("stock_availables").unwrap();
        let int = |row: &prestalink_simulator::store::Row, f: &str| {
            row.get(sr, f).and_then(Value::as_int).unwrap_or(0)
        };
        let mut by_product: std::collections::BTreeMap<u64, Vec<(u64, u64)>> = Default::default();
        for (id, row) in &store.table("stock_availables").unwrap().rows {
            if int(row, "id_product_attribute") != 0 && int(row, "id_shop") == 1 {
                by_product
                    .entry(int(row, "id_product") as u64)
                    .or_default()
                    .push((*id, int(row, "id_product_attribute") as u64));
            }
        }
        by_product
            .into_iter()
            .max_by_key(|(_, rows)| rows.len())
            .unwrap()
    };
    assert!(
        rows.len() >= 4,
        "product {product} has {} combinations",
        rows.len()
    );
    let (first_row, last_row) = (rows[0].0, rows[rows.len() - 1].0);
    // Pages of 3 records, one request at a time: the product's rows span pages.
    let caps = Caps {
        max_concurrency: Some(1),
        max_page_size: Some(3),
        ..Caps::default()
    };
    for db in TestDb::all("stock_race").await.unwrap() {
        let full = sync_with(&db.store, &sim, SyncOptions::default(), caps).await;
        assert!(diff(&db, &sim, &full).await.is_none());
        let fired = Arc::new(AtomicBool::new(false));
        let hook_fired = fired.clone();
        let changes = rows.clone();
        sim.after_each_answer(Box::new(move |request, store| {
            let full_records = request
                .params
                .iter()
                .any(|(k, v)| k == "display" && v == "full");
            if request.resource.as_deref() != Some("stock_availables") || !full_records {
                return;
            }
            let Some((a, b)) = id_range(request) else {
                return;
            };
            // After the page with the product's first row and before the one with its last.
            if a <= first_row
                && first_row <= b
                && b < last_row
                && !hook_fired.swap(true, Ordering::SeqCst)
            {
                let mut churn = Churn::new(3);
                let sr = resources::resource("stock_availables").unwrap();
                for (id, attribute) in &changes {
                    let quantity = store.table("stock_availables").unwrap().rows[id]
                        .get(sr, "quantity")
                        .and_then(Value::as_int)
                        .unwrap_or(0);
                    churn.change_stock_silently(store, product, *attribute, 1, quantity + 7);
                }
            }
        }));
        let report = sync_with(&db.store, &sim, SyncOptions::default(), caps).await;
        sim.clear_after_each_answer();
        assert!(
            fired.load(Ordering::SeqCst),
            "{}: the change landed between two pages of the sweep",
            db.engine
        );
        if let Some(diff) = diff(&db, &sim, &report).await {
            panic!(
                "{}: product {product} was mapped from stock rows of before and after the change:\n{diff}",
                db.engine
            );
        }
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}

/// Ids that grow fast (the customer table doubles between syncs) do not move a sweep round's
/// slice boundaries: every customer stored at the full sync is swept within `sweep_every`
/// incremental syncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_is_swept_within_a_round_while_ids_grow() {
    let sim = Simulator::start(simulator(61, "Europe/Paris", None))
        .await
        .unwrap();
    let every = 4u32;
    for db in TestDb::all("sweep_round").await.unwrap() {
        let options = SyncOptions {
            sweep_every: every,
            ..SyncOptions::default()
        };
        sync(&db.store, &sim, options.clone()).await;
        let stored = customer_ids(&sim);
        let swept: Arc<std::sync::Mutex<Vec<(u64, u64)>>> = Arc::default();
        let hook_swept = swept.clone();
        sim.after_each_answer(Box::new(move |request, _| {
            // The sweep's requests: by id only (the date_upd read pages by id too).
            if request.resource.as_deref() != Some("customers")
                || request.params.iter().any(|(k, _)| k == "filter[date_upd]")
            {
                return;
            }
            let Some((_, value)) = request.params.iter().find(|(k, _)| k == "filter[id]") else {
                return;
            };
            let range = match value.trim().strip_prefix(">[") {
                Some(rest) => rest
                    .strip_suffix(']')
                    .and_then(|n| n.parse::<u64>().ok())
                    .map(|n| (n + 1, u64::MAX)),
                None => id_range(request),
            };
            hook_swept.lock().unwrap().extend(range);
        }));
        for _ in 0..every {
            {
                let now = sim.shop_now();
                let store = sim.store();
                let mut store = store.write().unwrap();
                let mut churn = Churn::new(9);
                for _ in 0..stored.len() {
                    churn.add_customer(&mut store, now);
                }
            }
            sync(&db.store, &sim, options.clone()).await;
        }
        sim.clear_after_each_answer();
        let swept = swept.lock().unwrap().clone();
        let unswept: Vec<u64> = stored
            .iter()
            .copied()
            .filter(|id| !swept.iter().any(|(a, b)| a <= id && id <= b))
            .collect();
        assert!(
            unswept.is_empty(),
            "{}: {} of {} customers not swept in {every} syncs (first {:?}); ranges {swept:?}",
            db.engine,
            unswept.len(),
            stored.len(),
            unswept.first()
        );
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}

/// A stock row added while the stock sweep reads its pages (after the listing) is read by
/// the re-read of its changed product and stays in the store: the listing's deletion check
/// runs before the re-read, so the new row is not taken for one deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_row_added_during_the_sweep_is_not_marked_deleted() {
    let sim = Simulator::start(simulator(71, "Europe/Paris", None))
        .await
        .unwrap();
    // The last combination stock row in shop 1 (on a page read after the first), its
    // product and combination.
    let (template, product, attribute) = {
        let store = sim.store();
        let store = store.read().unwrap();
        let sr = resources::resource("stock_availables").unwrap();
        let int = |row: &prestalink_simulator::store::Row, f: &str| {
            row.get(sr, f).and_then(Value::as_int).unwrap_or(0) as u64
        };
        store
            .table("stock_availables")
            .unwrap()
            .rows
            .iter()
            .rev()
            .find(|(_, row)| int(row, "id_product_attribute") != 0 && int(row, "id_shop") == 1)
            .map(|(id, row)| {
                (
                    *id,
                    int(row, "id_product"),
                    int(row, "id_product_attribute"),
                )
            })
            .unwrap()
    };
    let caps = Caps {
        max_concurrency: Some(1),
        max_page_size: Some(3),
        ..Caps::default()
    };
    for db in TestDb::all("stock_added").await.unwrap() {
        let full = sync_with(&db.store, &sim, SyncOptions::default(), caps).await;
        let added = Arc::new(std::sync::Mutex::new(None));
        let hook_added = added.clone();
        sim.after_each_answer(Box::new(move |request, store| {
            let full_records = request
                .params
                .iter()
                .any(|(k, v)| k == "display" && v == "full");
            if request.resource.as_deref() != Some("stock_availables")
                || !full_records
                || id_range(request).is_none()
            {
                return;
            }
            let mut added = hook_added.lock().unwrap();
            if added.is_some() {
                return;
            }
            // A new row of the product (a copy of one of its rows, under a new id) and a
            // changed quantity, so that the product's rows are read again.
            let table = store.table_mut("stock_availables").unwrap();
            let id = table.next_id();
            let mut row = table.rows[&template].clone();
            row.id = id;
            table.rows.insert(id, row);
            *added = Some(id);
            let quantity = store.table("stock_availables").unwrap().rows[&template]
                .get(resources::resource("stock_availables").unwrap(), "quantity")
                .and_then(Value::as_int)
                .unwrap_or(0);
            Churn::new(4).change_stock_silently(store, product, attribute, 1, quantity + 3);
        }));
        sync_with(&db.store, &sim, SyncOptions::default(), caps).await;
        sim.clear_after_each_answer();
        let added = added.lock().unwrap().expect("the hook added a row");
        let stored = db
            .store
            .get_raw_many(
                &full.connection_id,
                "stock_availables",
                &[added.to_string()],
            )
            .await
            .unwrap();
        assert_eq!(
            stored.len(),
            1,
            "{}: the new row {added} was read",
            db.engine
        );
        assert!(
            !stored[0].deleted,
            "{}: the new row {added} is marked deleted",
            db.engine
        );
        {
            let store = sim.store();
            let mut store = store.write().unwrap();
            store
                .table_mut("stock_availables")
                .unwrap()
                .rows
                .remove(&added);
        }
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}

/// Reference data that changes (every carrier renamed: orders show their carrier's name)
/// makes the run map every data type in full. A run that yields before it maps (its time
/// slice is over) must leave that to the run that resumes it, which reads the reference
/// data again, finds it as stored and, without a durable record of the change, would map
/// only the orders whose own rows changed: none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_change_is_mapped_by_the_run_that_resumes_a_yielded_one() {
    let sim = Simulator::start(simulator(41, "Europe/Paris", None))
        .await
        .unwrap();
    for db in TestDb::all("reference_yield").await.unwrap() {
        let report = sync(&db.store, &sim, SyncOptions::default()).await;
        assert_eq!(diff(&db, &sim, &report).await, None, "{}", db.engine);
        rename_every_carrier(&sim);
        // Asked to yield from the start: the run stops at its first checkpoint after the
        // reference data, before mapping anything.
        let options = SyncOptions::default();
        options.yield_signal.cancel();
        let request = request(&sim, options, Caps::default());
        match sync_store(&db.store, &request, None).await {
            Err(prestalink_sync::LinkError::Sync(prestalink_sync::SyncError::Yielded)) => {}
            other => panic!("{}: the run did not yield: {other:?}", db.engine),
        }
        let report = sync(&db.store, &sim, SyncOptions::default()).await;
        if let Some(diff) = diff(&db, &sim, &report).await {
            panic!(
                "{}: the run after the yield did not map the renamed carriers:\n{diff}",
                db.engine
            );
        }
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}

/// A reference change remaps the data types whose mapping looks it up, and only those: a
/// category edited remaps product categories and products, not 200 orders or the
/// customers (on 100,000 orders, every category the sweep found changed cost a full remap
/// of everything, 27 CPU s a run); a carrier renamed remaps every order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_change_remaps_only_the_data_types_that_look_it_up() {
    let sim = Simulator::start(simulator(43, "Europe/Paris", None))
        .await
        .unwrap();
    for db in TestDb::all("reference_selective").await.unwrap() {
        let full = sync(&db.store, &sim, SyncOptions::default()).await;
        assert_eq!(diff(&db, &sim, &full).await, None, "{}", db.engine);
        let orders = full.data_types["commerce-orders"].records;
        assert!(orders > 0);
        let now = sim.shop_now().format("%Y-%m-%d %H:%M:%S").to_string();
        {
            let store = sim.store();
            let mut store = store.write().unwrap();
            let id = *store
                .table("categories")
                .unwrap()
                .rows
                .keys()
                .last()
                .unwrap();
            set_text(&mut store, "categories", id, "position", "97");
            set_text(&mut store, "categories", id, "date_upd", &now);
        }
        let edited = sync(&db.store, &sim, SyncOptions::default()).await;
        assert_eq!(diff(&db, &sim, &edited).await, None, "{}", db.engine);
        let categories = edited
            .resources
            .iter()
            .find(|r| r.resource == "categories")
            .unwrap();
        assert_eq!(categories.written, 1, "{}", db.engine);
        let records = |report: &SyncReport, dt: &str| report.data_types[dt].records;
        assert_eq!(records(&edited, "commerce-orders"), 0, "{}", db.engine);
        assert_eq!(records(&edited, "commerce-customers"), 0, "{}", db.engine);
        assert!(records(&edited, "commerce-products") > 0, "{}", db.engine);

        rename_every_carrier(&sim);
        let renamed = sync(&db.store, &sim, SyncOptions::default()).await;
        assert_eq!(diff(&db, &sim, &renamed).await, None, "{}", db.engine);
        assert_eq!(
            records(&renamed, "commerce-orders"),
            orders,
            "{}",
            db.engine
        );
        assert_eq!(records(&renamed, "commerce-customers"), 0, "{}", db.engine);
        db.cleanup().await.unwrap();
    }
    sim.shutdown().await;
}
