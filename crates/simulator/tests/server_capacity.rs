//! The capacity model over HTTP: W workers serve W requests at once and queue the rest
//! (checked with the counters), max_execution_time, live capacity changes, the shopper probe.
//! Processor sharing itself is unit-tested on tokio's paused clock (`src/capacity/`).

mod server_support;

use std::time::Duration;

use prestalink_simulator::capacity::Capacity;
use server_support::*;

fn slow_capacity(workers: usize, base_ms: u64) -> Capacity {
    Capacity {
        workers,
        base: Duration::from_millis(base_ms),
        time_scale: 1.0,
        ..Capacity::default()
    }
}

async fn burst(sim: &prestalink_simulator::Simulator, n: usize, path: &str) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let url = format!("{}{path}", sim.base_url());
        let key = basic(sim.key());
        tasks.push(tokio::spawn(async move {
            client()
                .get(url)
                .header("authorization", key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn workers_serve_at_once_and_the_rest_queue() {
    let sim = start(|c| c.capacity = slow_capacity(2, 150)).await;
    let statuses = burst(&sim, 6, "/api/languages").await;
    assert!(
        statuses.iter().all(|s| *s == 200),
        "load degrades, it never refuses"
    );
    let c = sim.counters();
    assert_eq!(c.max_in_service, 2, "two PHP workers");
    assert!(
        c.max_queued >= 3,
        "the others waited (max queued {})",
        c.max_queued
    );
    assert_eq!(c.queue_wait.count, 6);
    assert!(
        c.queue_wait.max >= Duration::from_millis(250),
        "{:?}",
        c.queue_wait
    );
    assert_eq!(c.worker_busy.len(), 2);
    assert!(c.busy_total() >= Duration::from_millis(6 * 150));
    sim.shutdown().await;
}

#[tokio::test]
async fn set_capacity_changes_the_workers_live() {
    let sim = start(|c| c.capacity = slow_capacity(1, 120)).await;
    burst(&sim, 3, "/api/languages").await;
    assert_eq!(sim.counters().max_in_service, 1);
    sim.reset_counters();
    sim.set_capacity(slow_capacity(3, 120));
    burst(&sim, 3, "/api/languages").await;
    let c = sim.counters();
    assert_eq!(c.max_in_service, 3);
    assert_eq!(c.requests, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn exceeding_max_execution_time_is_an_empty_500() {
    let sim = start(|c| {
        c.capacity = Capacity {
            workers: 2,
            base: Duration::from_millis(1),
            per_full_record: Duration::from_millis(2),
            max_execution_time: Duration::from_millis(20),
            time_scale: 1.0,
            ..Capacity::default()
        }
    })
    .await;
    let small = get(&sim, "/api/orders?display=full&limit=0,2").await;
    assert_eq!(small.status(), 200);
    let big = get(&sim, "/api/orders?display=full&limit=0,30").await;
    assert_eq!(big.status(), 500);
    assert_eq!(header(&big, "content-type"), "text/html; charset=utf-8");
    assert!(big.bytes().await.unwrap().is_empty());
    let c = sim.counters();
    assert_eq!(c.faults["timeout"], 1);
    assert_eq!(c.count("orders", 500), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_shopper_probe_takes_a_worker_and_records_its_latency() {
    let sim = start(|c| {
        c.capacity = Capacity {
            shopper: Duration::from_millis(30),
            time_scale: 1.0,
            base: Duration::ZERO,
            ..Capacity::default()
        }
    })
    .await;
    let r = client()
        .get(format!("{}/shopper", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = sim.counters();
    assert_eq!(c.shopper.count, 1);
    assert!(
        c.shopper.p50 >= Duration::from_millis(25),
        "{:?}",
        c.shopper
    );
    assert_eq!(c.count("storefront", 200), 1);
    assert!(c.busy_total() >= Duration::from_millis(30));
    sim.shutdown().await;
}

#[tokio::test]
async fn background_shopper_load_keeps_workers_busy() {
    let sim = start(|c| {
        c.capacity = Capacity {
            workers: 2,
            shopper: Duration::from_millis(20),
            time_scale: 1.0,
            ..Capacity::default()
        };
        c.shopper_load = 0.5;
    })
    .await;
    // 0.5 × 2 workers (fewer than the 4 cores) / (20 + 20 ms) = 25 visits per second.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let c = sim.counters();
    assert!(c.shopper.count >= 10, "{} visits", c.shopper.count);
    assert_eq!(c.requests, 0, "background visits are not HTTP requests");
    sim.shutdown().await;
}

#[tokio::test]
async fn counters_sum_records_and_bytes() {
    let sim = start(|_| {}).await;
    let r = get(
        &sim,
        "/api/orders?display=full&limit=0,5&output_format=JSON",
    )
    .await;
    let len = r.bytes().await.unwrap().len() as u64;
    let c = sim.counters();
    assert_eq!(c.records, 5);
    assert_eq!(c.bytes, len);
    assert_eq!(c.count("orders", 200), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn churn_changes_the_store_while_serving() {
    let sim = start(|c| c.churn_per_second = 100.0).await;
    let before = sim.store().read().unwrap().clone();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sim.counters().churn_changes > 0, "the churn task ran");
    let after = sim.store().read().unwrap().clone();
    let changed: Vec<&str> = after
        .tables
        .iter()
        .filter(|(name, t)| before.tables.get(*name).is_none_or(|b| b.rows != t.rows))
        .map(|(name, _)| *name)
        .collect();
    assert!(!changed.is_empty(), "some table changed");
    let r = get(&sim, "/api/orders?output_format=JSON").await;
    assert_eq!(r.status(), 200, "serving goes on while the store changes");
    sim.shutdown().await;
}

/// With a database time zone, churn dates rows both ways: by PHP's clock in PS_TIMEZONE
/// (UTC+10 here) and by the database's (UTC), ten hours apart.
#[tokio::test]
async fn churn_dates_rows_by_php_and_by_the_database_clock() {
    let sim = start(|c| {
        c.churn_per_second = 100.0;
        c.gen.timezone = "Australia/Brisbane".into();
        c.db_timezone = Some("UTC".into());
    })
    .await;
    let first_new = sim
        .store()
        .read()
        .unwrap()
        .table("orders")
        .unwrap()
        .next_id();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (php, sql) = (sim.shop_now(), sim.db_now());
    assert!(
        (599..=600).contains(&(php - sql).num_minutes()),
        "{php} {sql}"
    );
    let schema = prestalink_simulator::resources::resource("orders").unwrap();
    let dates: Vec<chrono::NaiveDateTime> = sim
        .store()
        .read()
        .unwrap()
        .table("orders")
        .unwrap()
        .rows
        .range(first_new..)
        .map(|(_, row)| {
            let text = row.get(schema, "date_add").unwrap().as_text().into_owned();
            chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").unwrap()
        })
        .collect();
    let near = |clock: chrono::NaiveDateTime| {
        dates
            .iter()
            .filter(|d| (clock - **d).num_seconds().abs() < 60)
            .count()
    };
    assert!(
        near(php) > 0 && near(sql) > 0 && near(php) + near(sql) == dates.len(),
        "new orders dated by both clocks: {dates:?} (PHP {php}, database {sql})"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_client_giving_up_in_the_queue_frees_its_place() {
    let sim = start(|c| c.capacity = slow_capacity(1, 200)).await;
    let url = format!("{}/api/languages", sim.base_url());
    let first = {
        let (url, key) = (url.clone(), basic(sim.key()));
        tokio::spawn(async move { client().get(url).header("authorization", key).send().await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let impatient = client()
        .get(&url)
        .header("authorization", basic(sim.key()))
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(impatient.unwrap_err().is_timeout());
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    assert_eq!(
        get(&sim, "/api/languages").await.status(),
        200,
        "the worker was not leaked"
    );
    let c = sim.counters();
    assert_eq!(c.requests, 2, "the abandoned request was never answered");
    assert_eq!(c.queue_wait.count, 2);
    assert_eq!(c.max_in_service, 1);
    sim.shutdown().await;
}
