//! Fairness of the job queue, on SQLite and (with `PRESTALINK_TEST_POSTGRES`) PostgreSQL:
//! a long sync yields after its time slice so a small store's job runs in between; a store
//! that keeps failing backs off exponentially without holding a worker; two stores on one
//! host never run at once, across two servers' workers.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prestalink_server::{RunningServer, ServerConfig};
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::Store;
use prestalink_testkit::{difference, ground_truth, synced, TestDb};
use serde_json::{json, Value};

fn config() -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        allow_private_stores: true,
        scheduler_tick: Duration::from_millis(200),
        workers: 1,
        ..ServerConfig::default()
    }
}

fn store_of(seed: u64, orders: u32) -> SimulatorConfig {
    SimulatorConfig {
        gen: GenConfig {
            seed,
            languages: 1,
            orders,
            customers: (orders / 4).max(10),
            products: 30,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn new(store: &Store, server: &RunningServer) -> Api {
        let (_, key) = store
            .create_api_key("fairness", chrono::Utc::now())
            .await
            .unwrap();
        Api {
            http: reqwest::Client::new(),
            base: server.base_url(),
            key,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        common::call(&self.http, &self.base, &self.key, method, path, body).await
    }

    /// A company linked to the store at `url`; returns (company id, connection id).
    async fn link(&self, name: &str, url: &str, key: &str) -> (String, String) {
        let (status, company) = self
            .call(
                reqwest::Method::POST,
                "/companies",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201, "{company}");
        let company = company["id"].as_str().unwrap().to_string();
        let (status, connection) = self
            .call(
                reqwest::Method::POST,
                &format!("/companies/{company}/connections"),
                Some(json!({"storeUrl": url, "webserviceKey": key})),
            )
            .await;
        assert_eq!(status, 201, "{connection}");
        (company, connection["id"].as_str().unwrap().to_string())
    }

    async fn history(&self, company: &str) -> Vec<Value> {
        let (status, page) = self
            .call(
                reqwest::Method::GET,
                &format!("/companies/{company}/data/history?pageSize=500"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page["results"].as_array().cloned().unwrap_or_default()
    }

    /// Whether every pull operation of the company has ended.
    async fn settled(&self, company: &str) -> bool {
        let history = self.history(company).await;
        !history.is_empty()
            && history.iter().all(|d| {
                !matches!(
                    d["status"].as_str(),
                    Some("Queued" | "Fetching" | "Mapping")
                )
            })
    }

    async fn wait_settled(&self, company: &str, limit: Duration) {
        let started = Instant::now();
        while !self.settled(company).await {
            assert!(
                started.elapsed() < limit,
                "syncs of {company} still running after {limit:?}: {:?}",
                self.history(company).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn assert_ground_truth(store: &Store, sim: &Simulator, connection: &str) {
    let linked = store.get_connection(connection).await.unwrap().unwrap();
    let expected = {
        let shop = sim.store();
        let shop = shop.read().unwrap();
        ground_truth(&shop, &sim.base_url(), &linked.store_url).unwrap()
    };
    let actual = synced(store, connection).await.unwrap();
    if let Some(diff) = difference(&expected, &actual) {
        panic!("{connection} differs from its ground truth: {diff}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_sync_yields_after_its_slice_and_a_small_store_runs_in_between() {
    for db in TestDb::all("fairness_slice").await.unwrap() {
        // A slow shop (shared hosting, at half its service times) with many orders, and a
        // small fast one. (At a fifth, reads without an id listing and in long pages finished
        // the big store before the small one was claimed.)
        let mut big = store_of(11, 800);
        let mut capacity = Capacity::profile(Profile::SharedHosting);
        capacity.time_scale = 0.5;
        big.capacity = capacity;
        let big = Simulator::start(big).await.unwrap();
        let small = Simulator::start(store_of(12, 40)).await.unwrap();
        let server = prestalink_server::start(
            db.store.clone(),
            ServerConfig {
                job_slice: Duration::from_secs(2),
                ..config()
            },
        )
        .await
        .unwrap();
        let api = Api::new(&db.store, &server).await;

        // One worker: the big store's first link is claimed at once; the small store is
        // linked while it runs.
        let (big_company, big_connection) = api.link("Big", &big.base_url(), big.key()).await;
        let started = Instant::now();
        while db.store.running_jobs().await.unwrap().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(20), "never claimed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (small_company, small_connection) =
            api.link("Small", &small.base_url(), small.key()).await;

        let limit = Duration::from_secs(150);
        let started = Instant::now();
        let mut small_done_while_big_ran = None;
        loop {
            let small_done = api.settled(&small_company).await;
            let big_done = api.settled(&big_company).await;
            if small_done && small_done_while_big_ran.is_none() {
                small_done_while_big_ran = Some(!big_done);
            }
            if small_done && big_done {
                break;
            }
            if started.elapsed() > limit {
                panic!(
                    "{}: syncs not done after {limit:?}: jobs {:?}; big {:?}; small {:?}",
                    db.engine,
                    db.store.running_jobs().await,
                    api.history(&big_company).await.len(),
                    api.history(&small_company).await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            small_done_while_big_ran,
            Some(true),
            "{}: the small store waited for the big one to finish",
            db.engine
        );
        // The big store's job was claimed again after each yield, and its pull
        // operations end complete: nothing was lost across the slices.
        let big_datasets = db.store.latest_datasets(&big_connection).await.unwrap();
        let job = big_datasets
            .iter()
            .find_map(|d| d.job_id)
            .expect("the big sync's job");
        let job = db.store.get_job(job).await.unwrap();
        assert!(
            job.attempts >= 2,
            "{}: the big sync never yielded ({job:?})",
            db.engine
        );
        for d in big_datasets.iter().chain(
            db.store
                .latest_datasets(&small_connection)
                .await
                .unwrap()
                .iter(),
        ) {
            assert!(
                d.status == "Complete" || d.status == "NotSupported",
                "{}: {} ended {}",
                db.engine,
                d.data_type,
                d.status
            );
        }
        assert_ground_truth(&db.store, &big, &big_connection).await;
        assert_ground_truth(&db.store, &small, &small_connection).await;

        server.shutdown().await;
        big.shutdown().await;
        small.shutdown().await;
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_backs_off_without_blocking_the_queue() {
    for db in TestDb::all("fairness_backoff").await.unwrap() {
        let failing_config = store_of(21, 30);
        let failing = Simulator::start(failing_config.clone()).await.unwrap();
        let addr: SocketAddr = failing.addr();
        let healthy = Simulator::start(store_of(22, 30)).await.unwrap();
        let server = prestalink_server::start(
            db.store.clone(),
            ServerConfig {
                backoff_min: Duration::from_secs(1),
                backoff_max: Duration::from_secs(2),
                job_retries: 2,
                ..config()
            },
        )
        .await
        .unwrap();
        let api = Api::new(&db.store, &server).await;
        let (failing_company, failing_connection) = api
            .link("Failing", &failing.base_url(), failing.key())
            .await;
        let (healthy_company, _) = api
            .link("Healthy", &healthy.base_url(), healthy.key())
            .await;
        api.wait_settled(&failing_company, Duration::from_secs(60))
            .await;
        api.wait_settled(&healthy_company, Duration::from_secs(60))
            .await;
        assert!(db.store.sync_failures().await.unwrap().is_empty());

        // The shop goes away; a sync is asked for.
        failing.shutdown().await;
        let (status, op) = api
            .call(
                reqwest::Method::POST,
                &format!("/companies/{failing_company}/data/queue/commerce-orders"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200, "{op}");
        let op_id = op["id"].as_str().unwrap().to_string();

        // Each failure in a row is counted, and the next attempt waits 1 s, then 2 s
        // (doubled, capped at 2 s); meanwhile the pull operation stays in progress.
        let mut seen: BTreeMap<i64, (Instant, Option<String>)> = BTreeMap::new();
        let started = Instant::now();
        let mut healthy_ran_meanwhile = false;
        loop {
            let failures = db.store.sync_failures().await.unwrap();
            if let Some(f) = failures.first() {
                assert_eq!(f.connection_id, failing_connection);
                seen.entry(f.failures)
                    .or_insert_with(|| (Instant::now(), f.backoff_until.clone()));
                if f.failures == 1 && !healthy_ran_meanwhile {
                    // The healthy store's sync runs while the failing one waits.
                    let (status, op) = api
                        .call(
                            reqwest::Method::POST,
                            &format!("/companies/{healthy_company}/data/queue/commerce-orders"),
                            Some(json!({})),
                        )
                        .await;
                    assert_eq!(status, 200, "{op}");
                    api.wait_settled(&healthy_company, Duration::from_secs(30))
                        .await;
                    let now = db.store.sync_failures().await.unwrap();
                    assert_eq!(
                        now[0].failures, 1,
                        "{}: the healthy store's sync waited for the failing store's back-off",
                        db.engine
                    );
                    healthy_ran_meanwhile = true;
                }
            }
            let history = api.history(&failing_company).await;
            let op = history.iter().find(|d| d["id"] == op_id.as_str()).unwrap();
            if op["status"] == "FetchError" {
                // The last failure may have been counted after the read above: look again.
                if let Some(f) = db.store.sync_failures().await.unwrap().first() {
                    seen.entry(f.failures)
                        .or_insert_with(|| (Instant::now(), f.backoff_until.clone()));
                }
                break;
            }
            assert!(
                matches!(op["status"].as_str(), Some("Queued" | "Fetching")),
                "{}: {op}",
                db.engine
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{}: still retrying: {op}",
                db.engine
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(healthy_ran_meanwhile);
        // 1 attempt and 2 retries: three failures in a row, 1 s then 2 s apart at least.
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 3],
            "{}",
            db.engine
        );
        let gap = |a: i64, b: i64| seen[&b].0.duration_since(seen[&a].0);
        assert!(gap(1, 2) >= Duration::from_millis(900), "{:?}", gap(1, 2));
        assert!(gap(2, 3) >= Duration::from_millis(1900), "{:?}", gap(2, 3));
        assert!(seen[&3].1.is_some(), "no back-off time recorded");

        // The shop comes back: the next sync succeeds and the count starts again.
        let failing = Simulator::start(SimulatorConfig {
            listen: addr,
            ..failing_config
        })
        .await
        .unwrap();
        let (status, op) = api
            .call(
                reqwest::Method::POST,
                &format!("/companies/{failing_company}/data/queue/commerce-orders"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, 200, "{op}");
        api.wait_settled(&failing_company, Duration::from_secs(60))
            .await;
        let history = api.history(&failing_company).await;
        let op = history.iter().find(|d| d["id"] == op["id"]).unwrap();
        assert_eq!(op["status"], "Complete", "{op}");
        assert!(
            db.store.sync_failures().await.unwrap().is_empty(),
            "{}: failures not reset by a success",
            db.engine
        );

        server.shutdown().await;
        failing.shutdown().await;
        healthy.shutdown().await;
        db.cleanup().await.unwrap();
    }
}

type Log = Arc<Mutex<Vec<(Instant, Option<String>)>>>;

/// The time span of each job's requests, from the User-Agent (`… (job N; worker …)`).
fn spans(log: &Log) -> BTreeMap<String, (Instant, Instant)> {
    let mut out: BTreeMap<String, (Instant, Instant)> = BTreeMap::new();
    for (at, agent) in log.lock().unwrap().iter() {
        let Some(job) = agent
            .as_deref()
            .and_then(|a| a.split("(job ").nth(1))
            .and_then(|rest| rest.split(';').next())
        else {
            continue;
        };
        let span = out.entry(job.to_string()).or_insert((*at, *at));
        span.0 = span.0.min(*at);
        span.1 = span.1.max(*at);
    }
    out
}

fn overlaps(spans: &BTreeMap<String, (Instant, Instant)>) -> bool {
    let list: Vec<_> = spans.values().collect();
    list.iter()
        .enumerate()
        .any(|(i, a)| list.iter().skip(i + 1).any(|b| a.0 <= b.1 && b.0 <= a.1))
}

/// Two companies link one shop under two names (`127.0.0.1` and `localhost`, one address):
/// two stores on one host. Returns the request log's job spans once both syncs ended.
async fn two_stores_on_one_host(
    db: &TestDb,
    jobs_per_host: u32,
) -> BTreeMap<String, (Instant, Instant)> {
    let mut shop = store_of(31, 300);
    let mut capacity = Capacity::profile(Profile::Laptop);
    capacity.time_scale = 1.0;
    shop.capacity = capacity;
    let sim = Simulator::start(shop).await.unwrap();
    let log: Log = Arc::default();
    let hook = log.clone();
    sim.after_each_answer(Box::new(move |request, _| {
        hook.lock()
            .unwrap()
            .push((Instant::now(), request.user_agent.clone()));
    }));
    // Two servers (two processes' workers, one database), one worker each.
    let per_host = ServerConfig {
        jobs_per_host,
        ..config()
    };
    let first = prestalink_server::start(db.store.clone(), per_host.clone())
        .await
        .unwrap();
    let second = prestalink_server::start(db.store.clone(), per_host)
        .await
        .unwrap();
    let api = Api::new(&db.store, &first).await;
    let other_api = Api::new(&db.store, &second).await;
    let port = sim.addr().port();
    let (status, _) = api.call(reqwest::Method::GET, "/companies", None).await;
    assert_eq!(status, 200);
    // Each store is linked through its own server, so that each server's worker hears of
    // its job at once: a worker told of nothing looks for work once a second, and by then
    // the first worker may have finished the first sync and claimed the second itself.
    let (a, _) = api
        .link("A", &format!("http://127.0.0.1:{port}"), sim.key())
        .await;
    let (b, _) = other_api
        .link("B", &format!("http://localhost:{port}"), sim.key())
        .await;
    api.wait_settled(&a, Duration::from_secs(120)).await;
    api.wait_settled(&b, Duration::from_secs(120)).await;
    first.shutdown().await;
    second.shutdown().await;
    sim.shutdown().await;
    spans(&log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_host_never_run_at_once_across_workers() {
    for db in TestDb::all("fairness_host").await.unwrap() {
        // Without a limit the two workers read the host at once (the test can see it)…
        let free = two_stores_on_one_host(&db, 0).await;
        assert!(free.len() >= 2, "{}: {free:?}", db.engine);
        assert!(
            overlaps(&free),
            "{}: without a limit the two syncs did not overlap, the test proves nothing: {free:?}",
            db.engine
        );
        db.cleanup().await.unwrap();
    }
    for db in TestDb::all("fairness_host_limited").await.unwrap() {
        // …with one job per host they take turns.
        let limited = two_stores_on_one_host(&db, 1).await;
        assert!(limited.len() >= 2, "{}: {limited:?}", db.engine);
        assert!(
            !overlaps(&limited),
            "{}: two jobs read one host at once: {limited:?}",
            db.engine
        );
        db.cleanup().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_prunes_old_sync_history() {
    for db in TestDb::all("fairness_retention").await.unwrap() {
        let sim = Simulator::start(store_of(41, 10)).await.unwrap();
        let server = prestalink_server::start(
            db.store.clone(),
            ServerConfig {
                history_days: 30,
                workers: 0,
                ..config()
            },
        )
        .await
        .unwrap();
        let api = Api::new(&db.store, &server).await;
        let (_, connection) = api.link("Old", &sim.base_url(), sim.key()).await;
        // A job finished 40 days ago (older than the 30 kept) and one finished today.
        let long_ago = chrono::Utc::now() - chrono::Duration::days(40);
        let lease = chrono::Duration::seconds(60);
        let mut ids = Vec::new();
        for when in [long_ago, chrono::Utc::now()] {
            let id = db
                .store
                .enqueue_job(&connection, "test", &json!({}), when, when)
                .await
                .unwrap();
            let mut job = None;
            while job
                .as_ref()
                .is_none_or(|j: &prestalink_store::Job| j.id != id)
            {
                // The first link's job (no workers here) is claimed and finished too.
                job = db.store.claim_job("t", lease, when).await.unwrap();
                let j = job.as_ref().expect("a job to claim");
                db.store.complete_job(j.id, "t", when).await.unwrap();
            }
            ids.push(id);
        }
        // The scheduler prunes at its first tick, which may have run before these jobs
        // existed, then every 10 minutes of the server's clock.
        server.state().clock.advance(chrono::Duration::minutes(11));
        let started = Instant::now();
        while db.store.get_job(ids[0]).await.is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{}: the old job was not pruned",
                db.engine
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(db.store.get_job(ids[1]).await.is_ok(), "{}", db.engine);
        server.shutdown().await;
        sim.shutdown().await;
        db.cleanup().await.unwrap();
    }
}
