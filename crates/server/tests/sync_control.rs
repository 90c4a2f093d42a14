//! Sync control through the API: queueing and its conflicts, data never requested, the
//! scheduler on a test clock, a key revoked on the store, unlinking and relinking, and a
//! graceful shutdown that puts the running sync back in the queue.

mod common;

use std::time::{Duration, Instant};

use common::{small_store, test_config, Harness};
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_testkit::TestDb;
use serde_json::{json, Value};

async fn history(h: &Harness, company_id: &str) -> Vec<Value> {
    let (status, page) = h
        .get(&format!(
            "/companies/{company_id}/data/history?pageSize=5000"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    page["results"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queueing_conflicts_and_data_never_requested() {
    let mut config = test_config();
    config.workers = 0;
    let h = Harness::start(TestDb::sqlite().await.unwrap(), small_store(7), config).await;
    let (_, company) = h.post("/companies", json!({"name": "Queue"})).await;
    let company_id = company["id"].as_str().unwrap();
    let settings = json!({"settings": [{"dataType": "commerce-products", "fetchOnFirstLink": false, "syncSchedule": 0}]});
    let (status, _) = h
        .post(&format!("/companies/{company_id}/syncSettings"), settings)
        .await;
    assert_eq!(status, 204);
    let (_, got) = h
        .get(&format!("/companies/{company_id}/syncSettings"))
        .await;
    assert_eq!(got["overridesDefaults"], true);
    let products = got["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dataType"] == "commerce-products")
        .unwrap()
        .clone();
    assert_eq!(
        (
            products["fetchOnFirstLink"].clone(),
            products["syncSchedule"].clone()
        ),
        (json!(false), json!(0))
    );

    let (status, connection) = h
        .post(
            &format!("/companies/{company_id}/connections"),
            json!({"storeUrl": h.sim.base_url(), "webserviceKey": h.sim.key()}),
        )
        .await;
    assert_eq!(status, 201, "{connection}");
    let connection_id = connection["id"].as_str().unwrap();
    // First link: 9 data types queued (products not), disputes NotSupported at once.
    let queued = history(&h, company_id).await;
    assert_eq!(queued.len(), 10, "{queued:?}");
    assert!(queued.iter().all(|d| d["dataType"] != "commerce-products"));
    assert_eq!(queued.iter().filter(|d| d["status"] == "Queued").count(), 9);

    let data = format!("/companies/{company_id}/connections/{connection_id}/data");
    let (status, body) = h.get(&format!("{data}/commerce-products")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .starts_with("The data set has not been requested"));
    let (status, op) = h
        .post(
            &format!("/companies/{company_id}/data/queue/commerce-products"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{op}");
    assert_eq!(
        (op["status"].as_str(), op["dataType"].as_str()),
        (Some("Queued"), Some("commerce-products"))
    );
    let (status, body) = h
        .post(
            &format!(
                "/companies/{company_id}/data/queue/commerce-products?connectionId={connection_id}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "DatasetAlreadyInProgress");
    let (status, _) = h
        .post(
            &format!("/companies/{company_id}/data/queue/commerce-disputes"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = h
        .post(
            &format!("/companies/{company_id}/data/queue/commerce-nope"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    // Everything is already queued: data/all adds only the NotSupported record.
    let (status, _) = h
        .post(&format!("/companies/{company_id}/data/all"), json!({}))
        .await;
    assert_eq!(status, 204);
    assert_eq!(history(&h, company_id).await.len(), 12);

    // Unlink, and queueing is refused; link again with a wrong key: 422; with the key: Linked.
    let path = format!("/companies/{company_id}/connections/{connection_id}");
    let (status, c) = h
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"status": "Unlinked"})),
        )
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("Unlinked")));
    let (status, _) = h
        .post(
            &format!(
                "/companies/{company_id}/data/queue/commerce-orders?connectionId={connection_id}"
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, body) = h
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"webserviceKey": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"})),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_key")));
    let (status, c) = h
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"status": "Linked"})),
        )
        .await;
    assert_eq!((status, c["status"].as_str()), (200, Some("Linked")), "{c}");
    let (status, _) = h
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"status": "Bogus"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, list) = h.get(&format!("/companies/{company_id}/connections")).await;
    assert_eq!((status, list["totalResults"].as_u64()), (200, Some(1)));
    let (status, _) = h.call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, _) = h.get(&path).await;
    assert_eq!(status, 404);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_syncs_again_when_the_schedule_is_due() {
    for db in TestDb::all("api_scheduler").await.unwrap() {
        let h = Harness::start(db, small_store(8), test_config()).await;
        let (company, _) = h.linked_company("Scheduled").await;
        let company_id = company["id"].as_str().unwrap();
        h.settled(company_id, Duration::from_secs(120)).await;
        let first = history(&h, company_id).await.len();
        assert_eq!(first, 11);
        // Five scheduler ticks later nothing is due yet (every 24 hours by default).
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(history(&h, company_id).await.len(), first);
        h.server.state().clock.advance(chrono::Duration::hours(25));
        let started = Instant::now();
        while history(&h, company_id).await.len() < first + 10 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the scheduler did not queue the due syncs"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let status = h.settled(company_id, Duration::from_secs(120)).await;
        assert_eq!(
            history(&h, company_id).await.len(),
            first + 10,
            "each due data type once"
        );
        assert_eq!(status["commerce-orders"]["currentStatus"], "Complete");
        h.stop().await;
    }
}

/// A job's lease renewed often while its sync writes: the renewal runs beside the sync. When
/// it ran in a `select!` body, a renewal that came while the sync's future stood inside a
/// SQLite write transaction waited for its own task's lock until the 30 s busy timeout, once
/// per collision (a first-link sync that takes seconds took minutes, and `link_page` and the
/// demo's stop hung under load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frequent_lease_renewals_do_not_stall_a_sync_that_writes() {
    let mut config = test_config();
    config.workers = 1;
    // Renewed every 100 ms: dozens of renewals land inside the sync's write transactions.
    config.lease = Duration::from_millis(300);
    let mut sim = small_store(12);
    sim.gen.orders = 1_500;
    sim.gen.customers = 300;
    let h = Harness::start(TestDb::sqlite().await.unwrap(), sim, config).await;
    let (company, _) = h.linked_company("Renewed").await;
    let company_id = company["id"].as_str().unwrap();
    // Seconds on a quiet machine; each stalled renewal would cost 30 s.
    let status = h.settled(company_id, Duration::from_secs(100)).await;
    assert_eq!(
        status["commerce-orders"]["currentStatus"], "Complete",
        "{status}"
    );
    let connection = h.db.store.list_connections(Some(company_id)).await.unwrap();
    let orders = h
        .all_records(company_id, &connection[0].id, "commerce-orders")
        .await;
    assert_eq!(orders.len(), 1_500);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_on_the_store_deauthorizes_the_connection() {
    let h = Harness::start(
        TestDb::sqlite().await.unwrap(),
        small_store(9),
        test_config(),
    )
    .await;
    let (company, connection) = h.linked_company("Revoked").await;
    let company_id = company["id"].as_str().unwrap();
    let connection_id = connection["id"].as_str().unwrap();
    h.settled(company_id, Duration::from_secs(120)).await;
    // The merchant deletes the key: the same store answers on the same address, with another key.
    let data = h.sim.store().read().unwrap().clone();
    let addr = h.sim.addr();
    let Harness {
        sim,
        server,
        db,
        key,
        http,
        base,
    } = h;
    sim.shutdown().await;
    let replaced = Simulator::start_with_store(
        SimulatorConfig {
            listen: addr,
            keys: vec![(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456".to_string(),
                Default::default(),
            )],
            ..small_store(9)
        },
        data,
    )
    .await
    .unwrap();
    let h = Harness {
        sim: replaced,
        server,
        db,
        key,
        http,
        base,
    };
    let (status, op) = h
        .post(
            &format!("/companies/{company_id}/data/queue/commerce-orders"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{op}");
    h.settled(company_id, Duration::from_secs(60)).await;
    let (_, op) = h
        .get(&format!(
            "/companies/{company_id}/data/history/{}",
            op["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(op["status"], "AuthError", "{op}");
    assert_eq!(op["isErrored"], true);
    let (_, c) = h
        .get(&format!(
            "/companies/{company_id}/connections/{connection_id}"
        ))
        .await;
    assert_eq!(c["status"], "Deauthorized", "{c}");
    let errors = c["dataConnectionErrors"].as_array().unwrap();
    assert_eq!(errors[0]["statusCode"], "invalid_key", "{c}");
    // The scheduler leaves a deauthorized connection alone; queueing says why.
    let (status, body) = h
        .post(
            &format!("/companies/{company_id}/data/queue/commerce-orders"),
            json!({}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_mid_sync_puts_the_job_back_and_the_next_server_finishes_it() {
    let mut slow = small_store(10);
    slow.capacity = Capacity {
        time_scale: 1.0,
        ..Capacity::profile(Profile::SharedHosting)
    };
    let db = TestDb::sqlite().await.unwrap();
    let h = Harness::start(db, slow, test_config()).await;
    let (company, connection) = h.linked_company("Interrupted").await;
    let company_id = company["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    while !history(&h, &company_id)
        .await
        .iter()
        .any(|d| d["status"] == "Fetching")
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sync did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let Harness {
        sim,
        server,
        db,
        key,
        http,
        ..
    } = h;
    let store = server.state().store.clone();
    let stop = Instant::now();
    server.shutdown().await;
    assert!(
        stop.elapsed() < Duration::from_secs(10),
        "shutdown took {:?}",
        stop.elapsed()
    );
    let runs = store
        .data_status(connection["id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(
        runs.iter().any(|r| r.last_successful_sync.is_none()),
        "the sync had finished before the shutdown"
    );
    // The pull operations wait in the queue again.
    let waiting = store
        .active_datasets(connection["id"].as_str().unwrap())
        .await
        .unwrap();
    assert!(
        !waiting.is_empty() && waiting.iter().all(|d| d.status == "Queued"),
        "{waiting:?}"
    );

    sim.set_capacity(Capacity::default());
    let server = prestalink_server::start(store.clone(), test_config())
        .await
        .unwrap();
    let base = server.base_url();
    let h = Harness {
        sim,
        server,
        db,
        key,
        http,
        base,
    };
    let status = h.settled(&company_id, Duration::from_secs(120)).await;
    for (dt, s) in status.as_object().unwrap() {
        let want = if dt == "commerce-disputes" {
            "NotSupported"
        } else {
            "Complete"
        };
        assert_eq!(s["currentStatus"], want, "{dt}: {status}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_types_the_key_may_not_read_are_permissions_errors_and_nothing_is_read() {
    let limited = prestalink_simulator::api::Permissions {
        resources: Some(vec!["orders".into(), "customers".into()]),
        ..Default::default()
    };
    let sim = SimulatorConfig {
        keys: vec![("LIMITEDKEY0000000000000000000003".to_string(), limited)],
        ..small_store(12)
    };
    let h = Harness::start(TestDb::sqlite().await.unwrap(), sim, test_config()).await;
    let (company, _) = h.linked_company("Limited").await;
    let company_id = company["id"].as_str().unwrap();
    let status = h.settled(company_id, Duration::from_secs(120)).await;
    assert_eq!(
        status["commerce-products"]["currentStatus"], "PermissionsError",
        "{status}"
    );
    let datasets = history(&h, company_id).await;
    let products = datasets
        .iter()
        .find(|d| d["dataType"] == "commerce-products")
        .expect("a products pull");
    assert_eq!(products["status"], "PermissionsError", "{products}");
    let counters = h.sim.counters();
    assert!(
        !counters.by_resource.contains_key("orders"),
        "orders were read for data types that cannot be written: {:?}",
        counters.by_resource
    );
    h.stop().await;
}
