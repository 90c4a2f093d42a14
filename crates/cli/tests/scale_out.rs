//! Scale-out on PostgreSQL: three `prestalink worker` processes and an API-only server share
//! one database and 200 simulated stores (all served by this test's process). Every store
//! is synced once on first link and once more when its schedule comes due, equals its
//! ground truth, and is never read by two jobs at once (checked from the simulators' request
//! logs, where each request's User-Agent names its job and worker). One worker is killed
//! with SIGKILL mid-run: its jobs are taken over when their leases expire, nothing is lost.

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prestalink_server::ServerConfig;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::{MasterKeySource, Store, StoreOptions};
use prestalink_testkit::{
    difference, ground_truth, synced, test_master_key_hex, ScratchDatabase, TEST_MASTER_KEY,
};
use serde_json::{json, Value};
use sqlx::Row;

/// Stores in the test (`PRESTALINK_SCALE_OUT_STORES` changes it for a quick local run).
fn store_count() -> usize {
    std::env::var("PRESTALINK_SCALE_OUT_STORES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// A small shop: a dozen orders.
fn shop(i: usize) -> SimulatorConfig {
    SimulatorConfig {
        gen: GenConfig {
            seed: 5_000 + i as u64,
            languages: 1,
            orders: 12,
            customers: 6,
            products: 5,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    }
}

/// One request a simulator answered: which store, when, and who asked.
type Log = Arc<Mutex<Vec<(usize, Instant, Option<String>)>>>;

/// The API server, as a client sees it.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn post(&self, path: String, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().await.unwrap())
    }
}

struct Worker {
    child: Child,
    log: std::path::PathBuf,
    /// Where its `/metrics` answers (from the line it prints when it starts).
    metrics: String,
}

/// A failing test must not leave workers behind (each holds database connections).
impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_worker(db_url: &str, dir: &std::path::Path, n: usize) -> Worker {
    let log = dir.join(format!("worker-{n}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args([
            "worker",
            "--db",
            db_url,
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--lease",
            "6",
            "--scheduler-tick",
            "1",
            "--allow-private-stores",
            "--pace",
            "max",
            "--db-pool",
            "4",
        ])
        .env("PRESTALINK_MASTER_KEY", test_master_key_hex())
        .env("PRESTALINK_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("worker log"))
        .spawn()
        .expect("worker starts");
    let mut child = child;
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the worker says where its metrics are");
    let metrics = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no metrics URL in {line:?}"))
        .to_string();
    Worker {
        child,
        log,
        metrics,
    }
}

/// Completed jobs per connection, and jobs in any other state.
async fn jobs(pool: &sqlx::PgPool) -> (BTreeMap<String, i64>, i64) {
    let rows = sqlx::query(
        "SELECT connection_id, COUNT(*) FROM jobs WHERE status = 'completed' GROUP BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let done = rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect();
    let other: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status <> 'completed'")
        .fetch_one(pool)
        .await
        .unwrap();
    (done, other)
}

/// Waits until every connection has `rounds` completed jobs and no other job exists.
async fn wait_for_rounds(
    pool: &sqlx::PgPool,
    connections: usize,
    rounds: i64,
    workers: &mut [Worker],
) {
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let (done, other) = jobs(pool).await;
        let finished = done.values().filter(|n| **n >= rounds).count();
        if finished == connections && other == 0 {
            return;
        }
        for w in workers.iter_mut() {
            if let Ok(Some(status)) = w.child.try_wait() {
                if status.code().is_some() {
                    panic!(
                        "a worker exited ({status}):\n{}",
                        std::fs::read_to_string(&w.log).unwrap_or_default()
                    );
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "round {rounds}: {finished} of {connections} connections done, {other} jobs pending"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_share_the_stores_and_take_over_a_killed_one() {
    let Some(scratch) = ScratchDatabase::create("scale_out").await.unwrap() else {
        return;
    };
    let n = store_count();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with(
        &scratch.url,
        StoreOptions {
            master_key: MasterKeySource::Bytes(TEST_MASTER_KEY),
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let pool = sqlx::PgPool::connect(&scratch.url).await.unwrap();

    // The shops, each logging who reads it.
    let log: Log = Arc::default();
    let mut sims = Vec::with_capacity(n);
    for i in 0..n {
        let sim = Simulator::start(shop(i)).await.expect("simulator starts");
        let log = log.clone();
        sim.after_each_answer(Box::new(move |request, _| {
            log.lock()
                .unwrap()
                .push((i, Instant::now(), request.user_agent.clone()));
        }));
        sims.push(sim);
    }

    // Three workers, and an API-only server (`serve --no-workers`) that links the stores:
    // four processes compete for the scheduler role.
    let mut workers: Vec<Worker> = (0..3)
        .map(|w| spawn_worker(&scratch.url, dir.path(), w))
        .collect();
    let (_, api_key) = store
        .create_api_key("scale-out", chrono::Utc::now())
        .await
        .unwrap();
    let server = prestalink_server::start(
        store.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            allow_private_stores: true,
            workers: 0,
            scheduler_tick: Duration::from_secs(1),
            ..ServerConfig::default()
        },
    )
    .await
    .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        base: server.base_url(),
        key: api_key,
    };
    let mut connection_of: HashMap<usize, String> = HashMap::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
        let mut linking = tokio::task::JoinSet::new();
        for &i in chunk {
            let api = api.clone();
            let url = sims[i].base_url();
            let key = sims[i].key().to_string();
            linking.spawn(async move {
                let (status, company) = api
                    .post("/companies".into(), json!({"name": format!("Shop {i}")}))
                    .await;
                assert_eq!(status, 201, "{company}");
                let id = company["id"].as_str().unwrap().to_string();
                let (status, connection) = api
                    .post(
                        format!("/companies/{id}/connections"),
                        json!({"storeUrl": url, "webserviceKey": key}),
                    )
                    .await;
                assert_eq!(status, 201, "{connection}");
                (i, connection["id"].as_str().unwrap().to_string())
            });
        }
        while let Some(linked) = linking.join_next().await {
            let (i, connection) = linked.unwrap();
            connection_of.insert(i, connection);
        }
    }

    // Kill a worker while it holds a job.
    let victim = workers[0].child.id();
    let marker = format!("pid {victim} on ");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let holding = store
            .running_jobs()
            .await
            .unwrap()
            .iter()
            .filter(|j| {
                j.lease_owner
                    .as_deref()
                    .is_some_and(|o| o.starts_with(&marker))
            })
            .count();
        if holding > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "worker 0 never held a job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    workers[0].child.kill().unwrap();
    workers[0].child.wait().unwrap();
    let mut alive: Vec<Worker> = workers.drain(1..).collect();

    wait_for_rounds(&pool, n, 1, &mut alive).await;
    let takeovers: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(takeovers), 0)::BIGINT FROM jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        takeovers >= 1,
        "the killed worker's jobs were not taken over"
    );

    // The schedule comes due for every connection (requested 25 hours ago; the default
    // schedule is 24 hours): whichever process holds the scheduler role queues each once.
    sqlx::query(
        "UPDATE datasets SET requested = to_char((requested::timestamptz - interval '25 hours') \
         AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
    )
    .execute(&pool)
    .await
    .unwrap();
    wait_for_rounds(&pool, n, 2, &mut alive).await;
    // Give the schedulers a few more ticks: nothing more may be queued.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (done, other) = jobs(&pool).await;
    assert_eq!(other, 0, "jobs left that are not completed");
    assert_eq!(done.len(), n);
    for (connection, count) in &done {
        assert_eq!(
            *count, 2,
            "{connection} synced {count} times for 2 schedules"
        );
    }

    // Every store equals its ground truth, and every data type's last pull is complete.
    for (i, sim) in sims.iter().enumerate() {
        let connection = &connection_of[&i];
        let linked = store.get_connection(connection).await.unwrap().unwrap();
        let expected = {
            let shop = sim.store();
            let shop = shop.read().unwrap();
            ground_truth(&shop, &sim.base_url(), &linked.store_url).unwrap()
        };
        let actual = synced(&store, connection).await.unwrap();
        if let Some(diff) = difference(&expected, &actual) {
            panic!("store {i} differs from its ground truth: {diff}");
        }
        for d in store.latest_datasets(connection).await.unwrap() {
            assert!(
                d.status == "Complete" || d.status == "NotSupported",
                "store {i}: {} ended {}",
                d.data_type,
                d.status
            );
        }
    }

    // No two readers at the same time on one store: group each store's requests by reader
    // (job and worker, from the User-Agent); their time spans may not overlap.
    let entries = log.lock().unwrap().clone();
    let mut spans: BTreeMap<(usize, String), (Instant, Instant)> = BTreeMap::new();
    for (i, at, agent) in entries {
        let Some(reader) = agent.as_deref().and_then(|a| {
            a.split_once('(')
                .map(|(_, r)| r.trim_end_matches(')').to_string())
        }) else {
            continue; // the API's diagnosis when linking, not a sync job
        };
        let span = spans.entry((i, reader)).or_insert((at, at));
        span.0 = span.0.min(at);
        span.1 = span.1.max(at);
    }
    let mut per_store: BTreeMap<usize, Vec<(Instant, Instant, String)>> = BTreeMap::new();
    for ((i, reader), (from, to)) in spans {
        per_store.entry(i).or_default().push((from, to, reader));
    }
    assert_eq!(per_store.len(), n, "some stores were never read by a job");
    let mut readers_seen = 0;
    for (i, mut readers) in per_store {
        readers.sort();
        readers_seen += readers.len();
        for pair in readers.windows(2) {
            assert!(
                pair[1].0 > pair[0].1,
                "store {i} was read by {} and {} at the same time",
                pair[0].2,
                pair[1].2
            );
        }
    }
    assert!(
        readers_seen >= 2 * n,
        "{readers_seen} readers for {n} stores"
    );

    // What operators see: a surviving worker's metrics, and `prestalink status`.
    let metrics = reqwest::get(&alive[0].metrics)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "prestalink_jobs_claimed_total",
        "prestalink_queue_jobs{state=\"due\"} 0",
        "prestalink_scheduler_leader",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
    let status = Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(["status", "--db", &scratch.url, "--json"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["queue"]["due"], 0, "{status}");
    assert_eq!(status["queue"]["running"], 0, "{status}");
    assert_eq!(status["queue"]["failed"], 0, "{status}");
    assert!(status["scheduler"]["owner"].is_string(), "{status}");
    drop(alive);
    server.shutdown().await;
    store.close().await;
    pool.close().await;
    scratch.drop_now().await.unwrap();
}
