//! Scale-out benchmark on PostgreSQL (`PRESTALINK_TEST_POSTGRES`): the queue's claim latency
//! at 1,000 and 10,000 due jobs (with the claim's plan), then small stores synced per minute
//! by 1, 2 and 4 workers from a queue of first-link syncs of up to 1,000 simulated stores
//! served by this process (each simulator with the laptop capacity model at time scale
//! 1, so every request costs the shop 8 ms or more and the shops, not this CPU, bound a
//! worker), with the PostgreSQL transactions and statements per job. Bounded: each worker
//! count runs for `--window` seconds.
//!
//! Statements are counted by `pg_stat_statements` (in PostgreSQL's contrib), which the server
//! must preload; without it the column says so and only transactions are counted:
//!
//! ```text
//! psql -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
//! pg_ctlcluster --skip-systemctl-redirect 15 main restart
//! ```
//!
//! ```text
//! PRESTALINK_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//!   cargo run --release -p prestalink-server --example scale_bench -- --stores 1000 --window 40
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use prestalink_server::ServerConfig;
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::{MasterKeySource, Store, StoreOptions};
use prestalink_testkit::{ScratchDatabase, TEST_MASTER_KEY};
use serde_json::json;

struct Args {
    stores: usize,
    window: u64,
    workers: Vec<usize>,
    claims: usize,
    skip_claims: bool,
    skip_throughput: bool,
}

fn args() -> Args {
    let mut out = Args {
        stores: 1000,
        window: 40,
        workers: vec![1, 2, 4],
        claims: 300,
        skip_claims: false,
        skip_throughput: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--stores" => out.stores = it.next().and_then(|v| v.parse().ok()).unwrap_or(1000),
            "--window" => out.window = it.next().and_then(|v| v.parse().ok()).unwrap_or(40),
            "--claims" => out.claims = it.next().and_then(|v| v.parse().ok()).unwrap_or(300),
            "--workers" => {
                out.workers = it
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|v| v.parse().ok())
                    .collect()
            }
            "--skip-claims" => out.skip_claims = true,
            "--skip-throughput" => out.skip_throughput = true,
            other => panic!("unknown argument {other}"),
        }
    }
    out
}

async fn open(url: &str, pool: u32) -> anyhow::Result<Store> {
    Ok(Store::open_with(
        url,
        StoreOptions {
            master_key: MasterKeySource::Bytes(TEST_MASTER_KEY),
            max_connections: Some(pool),
            ..StoreOptions::default()
        },
    )
    .await?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Process CPU time (user + system) from /proc, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime 11, stime 12 (clock ticks, 100 Hz).
    (ticks(11) + ticks(12)) / 100.0
}

async fn claims(args: &Args) -> anyhow::Result<()> {
    let scratch = ScratchDatabase::create("scale_bench_claim")
        .await?
        .context("set PRESTALINK_TEST_POSTGRES")?;
    let store = open(&scratch.url, 16).await?;
    let now = Utc::now();
    let company = store.create_company("Claims", now).await?;
    let lease = chrono::Duration::seconds(120);
    let mut connections: Vec<String> = Vec::new();
    println!("## Claim latency (PostgreSQL, --jobs-per-host 1, one worker claiming)");
    println!();
    println!("| due jobs | median | p95 | max |");
    println!("|---:|---:|---:|---:|");
    for target in [1_000usize, 10_000] {
        // Connections on distinct hosts (IP literals: no DNS), one due job each.
        let mut tasks = tokio::task::JoinSet::new();
        for i in connections.len()..target {
            let store = store.clone();
            let company = company.id.clone();
            tasks.spawn(async move {
                let url = format!("https://10.{}.{}.1", i / 250, i % 250);
                let c = store
                    .create_or_get_connection(
                        &company,
                        &url,
                        "BENCHKEY0000000000000000000000000",
                        now,
                    )
                    .await?;
                store
                    .enqueue_job(&c.id, "sync", &json!({}), now, now)
                    .await?;
                Ok::<_, anyhow::Error>(c.id)
            });
            if tasks.len() >= 16 {
                connections.push(tasks.join_next().await.unwrap()??);
            }
        }
        while let Some(id) = tasks.join_next().await {
            connections.push(id??);
        }
        sqlx_analyze(&scratch.url).await?;
        let mut times = Vec::with_capacity(args.claims);
        for _ in 0..args.claims {
            let at = Utc::now();
            let started = Instant::now();
            let job = store
                .claim_job_limited("bench", lease, at, Some(1))
                .await?
                .context("a due job")?;
            times.push(started.elapsed());
            // Back in the queue (due now): the number of due jobs stays `target`.
            store
                .fail_job(job.id, "bench", "bench", Some(at), at)
                .await?;
        }
        times.sort();
        println!(
            "| {target} | {:.2} ms | {:.2} ms | {:.2} ms |",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0,
            times.last().unwrap().as_secs_f64() * 1000.0
        );
        if target == 10_000 {
            println!();
            println!("Plan of the claim at 10,000 due jobs:");
            println!("```text");
            println!("{}", store.explain_claim(Some(1), Utc::now()).await?);
            println!("```");
        }
    }
    store.close().await;
    scratch.drop_now().await?;
    Ok(())
}

async fn sqlx_analyze(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("ANALYZE jobs").execute(&mut conn).await?;
    Ok(())
}

async fn db_counter(url: &str, sql: &str) -> anyhow::Result<i64> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    Ok(sqlx::query_scalar(sql).fetch_one(&mut conn).await?)
}

const XACTS: &str = "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database \
                     WHERE datname = current_database()";
/// Statements run in this database so far, from `pg_stat_statements` (`None` when the server
/// does not preload it). The counting connections' own statements are a handful per row.
async fn statements(url: &str) -> Option<i64> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.ok()?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut conn)
        .await
        .ok()?;
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(calls), 0)::bigint FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_one(&mut conn)
    .await
    .ok()
}

/// The statements run most often in this database since the counters were reset, with
/// their calls per completed job.
async fn top_statements(url: &str, jobs: i64) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT calls::bigint, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY calls DESC LIMIT 12",
    )
    .fetch_all(&mut conn)
    .await?;
    println!();
    println!("Statements run most often, per completed job ({jobs} jobs):");
    println!();
    println!("| per job | statement |");
    println!("|---:|---|");
    for (calls, query) in rows {
        let mut text: String = query.chars().take(110).collect();
        if text.len() < query.len() {
            text.push('…');
        }
        println!(
            "| {:.1} | `{}` |",
            calls as f64 / jobs.max(1) as f64,
            text.replace('|', "\\|")
        );
    }
    Ok(())
}

const COMPLETED: &str = "SELECT COUNT(*) FROM jobs WHERE status = 'completed'";

fn shop(i: usize) -> SimulatorConfig {
    let mut capacity = Capacity::profile(Profile::Laptop);
    capacity.time_scale = 1.0;
    SimulatorConfig {
        gen: GenConfig {
            seed: 1000 + i as u64,
            languages: 1,
            orders: 20,
            customers: 10,
            products: 10,
            ..GenConfig::default()
        },
        capacity,
        ..SimulatorConfig::default()
    }
}

async fn throughput(args: &Args) -> anyhow::Result<()> {
    let scratch = ScratchDatabase::create("scale_bench_sync")
        .await?
        .context("set PRESTALINK_TEST_POSTGRES")?;
    let pool = 16;
    let store = open(&scratch.url, pool).await?;
    let started = Instant::now();
    let mut sims = Vec::with_capacity(args.stores);
    for i in 0..args.stores {
        sims.push(Simulator::start(shop(i)).await?);
    }
    eprintln!("{} simulators in {:?}", sims.len(), started.elapsed());

    // Linked through an API-only server: every first-link sync waits in the queue.
    let (_, key) = store.create_api_key("bench", Utc::now()).await?;
    let api = prestalink_server::start(
        store.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse()?,
            allow_private_stores: true,
            workers: 0,
            ..ServerConfig::default()
        },
    )
    .await?;
    let http = reqwest::Client::new();
    let base = api.base_url();
    let started = Instant::now();
    for chunk in sims.chunks(25) {
        let mut linking = tokio::task::JoinSet::new();
        for sim in chunk {
            let (http, base, key) = (http.clone(), base.clone(), key.clone());
            let (url, ws_key) = (sim.base_url(), sim.key().to_string());
            linking.spawn(async move {
                let company: serde_json::Value = http
                    .post(format!("{base}/companies"))
                    .bearer_auth(&key)
                    .json(&json!({"name": url}))
                    .send()
                    .await?
                    .json()
                    .await?;
                let id = company["id"].as_str().context("company id")?;
                let status = http
                    .post(format!("{base}/companies/{id}/connections"))
                    .bearer_auth(&key)
                    .json(&json!({"storeUrl": url, "webserviceKey": ws_key}))
                    .send()
                    .await?
                    .status();
                anyhow::ensure!(status.as_u16() == 201, "link answered {status}");
                Ok(())
            });
        }
        while let Some(done) = linking.join_next().await {
            done??;
        }
    }
    eprintln!("{} stores linked in {:?}", sims.len(), started.elapsed());

    println!();
    println!(
        "## First-link syncs of small stores ({} orders, {} customers, {} products each; laptop capacity at time scale 1), {} s per row",
        20, 10, 10, args.window
    );
    println!();
    println!(
        "| workers | stores synced | stores / min | PG transactions / job | PG statements / job | CPU of this process |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut jobs_measured = 0;
    // The top list below counts from here: the linking above is not a job's work.
    if statements(&scratch.url).await.is_some() {
        db_counter(
            &scratch.url,
            "SELECT 0::bigint FROM (SELECT pg_stat_statements_reset()) AS reset",
        )
        .await?;
    }
    for &w in &args.workers {
        let done_before = db_counter(&scratch.url, COMPLETED).await?;
        let xacts_before = db_counter(&scratch.url, XACTS).await?;
        let statements_before = statements(&scratch.url).await;
        let cpu_before = cpu_seconds();
        let started = Instant::now();
        let workers = prestalink_server::start(
            store.clone(),
            ServerConfig {
                listen: "127.0.0.1:0".parse()?,
                allow_private_stores: true,
                api: false,
                workers: w,
                ..ServerConfig::default()
            },
        )
        .await?;
        tokio::time::sleep(Duration::from_secs(args.window)).await;
        let done = db_counter(&scratch.url, COMPLETED).await? - done_before;
        let xacts = db_counter(&scratch.url, XACTS).await? - xacts_before;
        let statements_per_job = match (statements_before, statements(&scratch.url).await) {
            (Some(before), Some(after)) if done > 0 => {
                format!("{:.0}", (after - before) as f64 / done as f64)
            }
            (Some(_), Some(_)) => "-".to_string(),
            _ => "n/a (pg_stat_statements not preloaded)".to_string(),
        };
        jobs_measured += done;
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_before;
        workers.shutdown().await;
        println!(
            "| {w} | {done} | {:.0} | {:.0} | {statements_per_job} | {:.0} % of one core |",
            done as f64 * 60.0 / elapsed,
            if done > 0 {
                xacts as f64 / done as f64
            } else {
                0.0
            },
            cpu * 100.0 / elapsed
        );
        let left = db_counter(
            &scratch.url,
            "SELECT COUNT(*) FROM jobs WHERE status = 'queued'",
        )
        .await?;
        if left == 0 {
            println!("(queue empty: use more --stores)");
            break;
        }
    }
    if statements(&scratch.url).await.is_some() {
        top_statements(&scratch.url, jobs_measured).await?;
    }
    api.shutdown().await;
    for sim in sims {
        sim.shutdown().await;
    }
    store.close().await;
    scratch.drop_now().await?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = args();
    println!(
        "Settings: pool 16 connections, lease 120 s, job slice 600 s, jobs per host 1, pace balanced"
    );
    println!();
    if !args.skip_claims {
        claims(&args).await?;
    }
    if !args.skip_throughput {
        throughput(&args).await?;
    }
    Ok(())
}
