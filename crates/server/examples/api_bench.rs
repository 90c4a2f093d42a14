//! API load benchmark: pages of 100 `commerce-orders` (with and without a `query`), uniform
//! over every page including the deepest, read by `wrk` on loopback from a store of 100,000
//! orders, on SQLite and PostgreSQL, then again while a sync writes to the same database.
//! Prints a report; nothing asserts a speed.
//!
//! ```text
//! apt-get install -y wrk
//! cargo build --release -p prestalink-server --example api_bench
//! target/release/examples/api_bench --engines sqlite,postgres --orders 100000 \
//!     --db /var/tmp/api_bench.db --reuse
//! ```
//!
//! Loading: a simulated PrestaShop (time scale 0) with `--orders` orders is synced into the
//! database, `commerce-orders` only (the orders bring their customers, addresses, details,
//! payments… as raw records). With `--reuse` an existing load (SQLite file at `--db`,
//! PostgreSQL schema `--pg-schema`) is kept and reused; without it the database is rebuilt.
//! Then `Store::refresh_statistics`, and the database is settled (see [`settle`]).
//!
//! Measuring: the API runs in this process (`prestalink_server::start`, no sync workers, as
//! `prestalink serve` does on the multi-threaded runtime and mimalloc); `wrk` runs in a child
//! process with a Lua script that asks for a uniformly random page (1 to the last page of the
//! query) with `Authorization: Bearer`. Each scenario runs for `--duration` seconds after a
//! 3-second warm-up; between runs the benchmark waits until the server has answered the
//! requests `wrk` left in flight. "during sync" (`--writers other,same`, both by default): a
//! store changing `--churn` times per second is synced incrementally in a loop (lookback 2 s,
//! no safety-net sweep: see [`writer_request`]), in this process and on the same store as the
//! API (as the server's own workers would), for the whole measurement. With `other`, it is a
//! second simulated store (`--writer-orders` orders) linked as another connection of the same
//! database: the pages read stay valid. With `same`, it is the loaded store itself (the same
//! seed and size, served again at the address the connection was linked with), so every write
//! the sync commits changes the very list of orders the pages are read from. The syncs that
//! ended during a run and the order records written during it (their `modifiedDate`) are
//! reported. Queries run `--query-duration` seconds: their pages are slow enough that a short
//! run completes few. Before the load runs, single requests at chosen depths show what one page
//! costs alone.
//!
//! The machine's cores are shared by everything: `wrk`, the API, the database (PostgreSQL's
//! server too) and, during the sync scenarios, the simulated store and the sync. The last
//! column, "other CPU", is the share of the machine other work used during the run (all CPU
//! time but this process's, its children's and PostgreSQL's): a run with more than a few
//! percent was disturbed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::Utc;
use prestalink_commerce::DataType;
use prestalink_pacing::{Caps, Pace};
use prestalink_server::ServerConfig;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::{MasterKeySource, Query, Store, StoreOptions};
use prestalink_sync::{sync_store, SyncOptions, SyncRequest};
use prestalink_webservice::diagnose::DiagnoseOptions;

/// As `prestalink serve`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORDERS: &str = "commerce-orders";
const PAGE_SIZE: u64 = 100;
const USAGE: &str = "usage: api_bench [--engines sqlite,postgres] [--orders N] [--db PATH] \
[--pg URL] [--pg-schema NAME] [--reuse] [--duration SECONDS] [--query-duration SECONDS] \
[--connections N] [--threads N] \
[--query TEXT] [--writer-orders N] [--writers other,same] [--churn PER_SECOND] [--no-sync] \
[--scenarios unfiltered,query] [--no-probe] [--no-settle]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// What the sync that runs during the "during sync" scenarios writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterKind {
    /// Another connection of the same database.
    Other,
    /// The connection the pages are read from.
    Same,
}

impl WriterKind {
    fn label(self) -> &'static str {
        match self {
            WriterKind::Other => "another connection",
            WriterKind::Same => "the same connection",
        }
    }
}

#[derive(Debug, Clone)]
struct Args {
    engines: Vec<Engine>,
    orders: u32,
    db: Option<PathBuf>,
    pg: String,
    pg_schema: String,
    reuse: bool,
    duration: u64,
    query_duration: u64,
    connections: u32,
    threads: u32,
    query: String,
    writer_orders: u32,
    writers: Vec<WriterKind>,
    churn: f64,
    sync_scenarios: bool,
    scenarios: Vec<String>,
    probes: bool,
    settle: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        engines: vec![Engine::Sqlite],
        orders: 100_000,
        db: None,
        pg: "postgres://postgres@127.0.0.1:5432/test".to_string(),
        pg_schema: "api_bench".to_string(),
        reuse: false,
        duration: 10,
        query_duration: 30,
        connections: 32,
        threads: 2,
        query: "totalAmount>100".to_string(),
        writer_orders: 5_000,
        writers: vec![WriterKind::Other, WriterKind::Same],
        churn: 200.0,
        sync_scenarios: true,
        scenarios: vec!["unfiltered".to_string(), "query".to_string()],
        probes: true,
        settle: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--engines" => {
                args.engines = value()?
                    .split(',')
                    .map(|e| match e.trim() {
                        "sqlite" => Ok(Engine::Sqlite),
                        "postgres" => Ok(Engine::Postgres),
                        other => bail!("unknown engine {other}: sqlite or postgres"),
                    })
                    .collect::<anyhow::Result<_>>()?
            }
            "--orders" => args.orders = value()?.parse()?,
            "--db" => args.db = Some(PathBuf::from(value()?)),
            "--pg" => args.pg = value()?,
            "--pg-schema" => args.pg_schema = value()?,
            "--reuse" => args.reuse = true,
            "--duration" => args.duration = value()?.parse()?,
            "--query-duration" => args.query_duration = value()?.parse()?,
            "--connections" => args.connections = value()?.parse()?,
            "--threads" => args.threads = value()?.parse()?,
            "--query" => args.query = value()?,
            "--writer-orders" => args.writer_orders = value()?.parse()?,
            "--writers" => {
                args.writers = value()?
                    .split(',')
                    .map(|w| match w.trim() {
                        "other" => Ok(WriterKind::Other),
                        "same" => Ok(WriterKind::Same),
                        other => bail!("unknown writer {other}: other or same"),
                    })
                    .collect::<anyhow::Result<_>>()?
            }
            "--churn" => args.churn = value()?.parse()?,
            "--no-sync" => args.sync_scenarios = false,
            "--scenarios" => {
                args.scenarios = value()?.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = args
                    .scenarios
                    .iter()
                    .find(|s| *s != "unfiltered" && *s != "query")
                {
                    bail!("unknown scenario {bad}: unfiltered or query");
                }
            }
            "--no-probe" => args.probes = false,
            "--no-settle" => args.settle = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    if args.reuse && args.db.is_none() && args.engines.contains(&Engine::Sqlite) {
        bail!("--reuse needs --db PATH for SQLite (the default database is a temporary file)");
    }
    Ok(args)
}

/// Simulated stores run on a runtime of their own, as if they were another machine's
/// process (they still share this machine's cores).
struct SimHost {
    rt: Option<tokio::runtime::Runtime>,
}

impl SimHost {
    fn new() -> anyhow::Result<SimHost> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("simulator")
            .enable_all()
            .build()?;
        Ok(SimHost { rt: Some(rt) })
    }

    fn handle(&self) -> &tokio::runtime::Runtime {
        self.rt.as_ref().expect("running")
    }

    async fn start(&self, cfg: SimulatorConfig) -> anyhow::Result<Simulator> {
        self.handle().spawn(Simulator::start(cfg)).await?
    }

    async fn stop(&self, sim: Simulator) {
        let _ = self.handle().spawn(sim.shutdown()).await;
    }
}

impl Drop for SimHost {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn sim_config(seed: u64, orders: u32, churn_per_second: f64) -> SimulatorConfig {
    SimulatorConfig {
        gen: GenConfig {
            seed,
            languages: 2,
            orders,
            customers: (orders / 4).max(20),
            products: (orders / 50).max(40),
            ..GenConfig::default()
        },
        churn_per_second,
        ..SimulatorConfig::default()
    }
}

fn orders_request(sim: &Simulator) -> SyncRequest {
    SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions {
            timeout: Duration::from_secs(60),
            public_only: false,
            ..DiagnoseOptions::default()
        },
        options: SyncOptions {
            data_types: vec![DataType::Orders],
            ..SyncOptions::default()
        },
        pace: Pace::Max,
        caps: Caps::default(),
    }
}

/// The writer's incremental syncs: a lookback of 2 s instead of 15 min and no safety-net
/// sweep. The store changes `--churn` orders a second, so with the default lookback every
/// sync would read again each order changed in the last 15 minutes (at 200 a second, most
/// of the store) and write almost none of them (their content is unchanged); the sweep
/// would read another eighth of the store. Both only read, and a sync that reads for
/// minutes leaves the measured runs without writes. This way each sync reads what changed
/// since the previous one and writes it: the run measures pages while records are written.
fn writer_request(sim: &Simulator) -> SyncRequest {
    let mut request = orders_request(sim);
    request.options.lookback = Duration::from_secs(2);
    request.options.sweep_every = 0;
    request
}

/// Opens the engine's store; without `--reuse`, from an empty database.
async fn open_store(
    engine: Engine,
    args: &Args,
    sqlite_path: &Path,
) -> anyhow::Result<(Store, String)> {
    let master_key = MasterKeySource::Bytes([7u8; 32]);
    match engine {
        Engine::Sqlite => {
            if !args.reuse {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", sqlite_path.display()));
                }
            }
            let location = sqlite_path.display().to_string();
            let store = Store::open_with(
                &location,
                StoreOptions {
                    master_key,
                    ..StoreOptions::default()
                },
            )
            .await?;
            Ok((store, location))
        }
        Engine::Postgres => {
            if !args.reuse {
                use sqlx::Connection;
                let mut admin = sqlx::PgConnection::connect(&args.pg).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", args.pg_schema))
                    .execute(&mut admin)
                    .await?;
                admin.close().await?;
            }
            let store = Store::open_with(
                &args.pg,
                StoreOptions {
                    master_key,
                    postgres_schema: Some(args.pg_schema.clone()),
                    ..StoreOptions::default()
                },
            )
            .await?;
            Ok((store, format!("{} (schema {})", args.pg, args.pg_schema)))
        }
    }
}

/// The company and connection holding the loaded orders: the oldest connection of the
/// company `sync_store` links into.
async fn main_connection(store: &Store) -> anyhow::Result<Option<(String, String)>> {
    let Some(company) = store
        .list_companies()
        .await?
        .into_iter()
        .find(|c| c.name == "Default company")
    else {
        return Ok(None);
    };
    let connection = store
        .list_connections(Some(&company.id))
        .await?
        .into_iter()
        .next();
    Ok(connection.map(|c| (company.id, c.id)))
}

async fn count_orders(store: &Store, connection_id: &str) -> anyhow::Result<u64> {
    Ok(store
        .count_matching_records(connection_id, ORDERS, &Query::default())
        .await?)
}

/// Syncs a simulated store of `orders` orders (`commerce-orders` only).
async fn load(store: &Store, sims: &SimHost, orders: u32) -> anyhow::Result<()> {
    let started = Instant::now();
    let sim = sims.start(sim_config(1, orders, 0.0)).await?;
    eprintln!(
        "  simulated store of {orders} orders generated in {:.1} s; syncing commerce-orders",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let linked = sync_store(store, &orders_request(&sim), None).await;
    sims.stop(sim).await;
    let linked = linked.map_err(|e| anyhow::anyhow!("the load sync failed: {e}"))?;
    if !linked.report.all_completed() {
        bail!(
            "the load sync did not complete: {:?}",
            linked.report.data_types
        );
    }
    eprintln!(
        "  loaded in {:.1} s ({} requests)",
        started.elapsed().as_secs_f64(),
        linked.report.requests
    );
    Ok(())
}

/// Brings the database to the state it reaches by itself some time after a load, so that
/// runs right after loading and runs on a reused database compare: SQLite's write-ahead log
/// checkpointed and truncated; on PostgreSQL, `VACUUM (ANALYZE)` of the records (what
/// autovacuum does after a large insert), which sets the visibility map: without it the
/// planner does not use index-only scans for deep pages (`--no-settle` measures that state).
async fn settle(engine: Engine, args: &Args, sqlite_path: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    let started = Instant::now();
    match engine {
        Engine::Sqlite => {
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(sqlite_path);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Engine::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&args.pg).await?;
            sqlx::query(&format!(
                "VACUUM (ANALYZE) {}.commerce_records",
                args.pg_schema
            ))
            .execute(&mut conn)
            .await?;
            conn.close().await?;
        }
    }
    eprintln!(
        "  settled ({}) in {:.1} s",
        match engine {
            Engine::Sqlite => "WAL checkpoint",
            Engine::Postgres => "VACUUM (ANALYZE) commerce_records",
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the background sync did so far.
#[derive(Debug, Clone, Copy, Default)]
struct WriterStats {
    /// Syncs that ended.
    syncs: u64,
    /// Order records the syncs wrote (new, changed or deleted).
    written: u64,
    failures: u64,
    /// Key lists rebuilt in the background during the run by merging the writes into the
    /// previous list, and by reading the whole list again.
    merged: u64,
    rebuilt: u64,
}

/// A connection synced in a loop while its simulated store changes.
struct Writer {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<WriterStats>>,
    task: tokio::task::JoinHandle<()>,
    sim: Simulator,
    connection_id: String,
    /// Whether the writer linked the connection (and removes it when it stops).
    owned: bool,
}

impl Writer {
    /// `main_connection`: the connection the pages are read from.
    async fn start(
        store: &Store,
        sims: &SimHost,
        args: &Args,
        kind: WriterKind,
        main_connection: &str,
    ) -> anyhow::Result<Writer> {
        let started = Instant::now();
        let (sim, orders) = match kind {
            WriterKind::Other => (
                sims.start(sim_config(2, args.writer_orders, args.churn))
                    .await?,
                args.writer_orders,
            ),
            WriterKind::Same => {
                // The loaded store again: same seed, same size, at the address the
                // connection was linked with, so that the sync finds the connection.
                let linked = store
                    .get_connection(main_connection)
                    .await?
                    .context("the loaded connection is gone")?;
                let url = url::Url::parse(&linked.store_url)?;
                let port = url.port_or_known_default().context("no port")?;
                let orders = count_orders(store, main_connection).await? as u32;
                let mut cfg = sim_config(1, orders, args.churn);
                cfg.listen = format!("127.0.0.1:{port}").parse()?;
                (sims.start(cfg).await?, orders)
            }
        };
        let request = writer_request(&sim);
        let first = sync_store(store, &request, None)
            .await
            .map_err(|e| anyhow::anyhow!("the writer's first sync failed: {e}"))?;
        let connection_id = first.report.connection_id.clone();
        let owned = connection_id != main_connection;
        if kind == WriterKind::Same && owned {
            bail!("the writer's store was linked as a new connection, not the loaded one");
        }
        eprintln!(
            "  writer ({}): {orders} orders, first sync in {:.1} s ({} records written); \
             now syncing it in a loop (the store changes {} times a second)",
            kind.label(),
            started.elapsed().as_secs_f64(),
            first
                .report
                .data_types
                .values()
                .map(|d| d.written + d.deleted)
                .sum::<u64>(),
            args.churn
        );
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(WriterStats::default()));
        let task = tokio::spawn({
            let (stop, stats, store) = (stop.clone(), stats.clone(), store.clone());
            async move {
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    match sync_store(&store, &request, None).await {
                        Ok(linked) => {
                            let written: u64 = linked
                                .report
                                .data_types
                                .values()
                                .map(|d| d.written + d.deleted)
                                .sum();
                            eprintln!(
                                "    writer: a sync ended in {:.1} s, {} requests, {written} \
                                 records written",
                                started.elapsed().as_secs_f64(),
                                linked.report.requests
                            );
                            let mut s = stats.lock().unwrap();
                            s.syncs += 1;
                            s.written += written;
                        }
                        Err(e) => {
                            eprintln!("  writer: a sync failed: {e}");
                            stats.lock().unwrap().failures += 1;
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            }
        });
        Ok(Writer {
            stop,
            stats,
            task,
            sim,
            connection_id,
            owned,
        })
    }

    fn stats(&self) -> WriterStats {
        *self.stats.lock().unwrap()
    }

    /// Order records written since `since` (a store timestamp), syncs finished or not: the
    /// store sets `modifiedDate` to the time it writes a record.
    async fn written_since(&self, store: &Store, since: &str) -> anyhow::Result<u64> {
        Ok(store
            .count_matching_records(
                &self.connection_id,
                ORDERS,
                &Query {
                    query: Some(format!("modifiedDate>={since}")),
                    include_deleted: true,
                    ..Query::default()
                },
            )
            .await?)
    }

    /// Stops the loop after its current sync, then removes the connection again if the
    /// writer linked it.
    async fn stop(self, store: &Store, sims: &SimHost) -> anyhow::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        sims.stop(self.sim).await;
        if self.owned {
            store.delete_connection(&self.connection_id).await?;
        }
        Ok(())
    }
}

/// One `wrk` run, from the JSON line its Lua `done()` prints.
#[derive(Debug, Clone, Copy)]
struct WrkResult {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
    /// Other work on the machine during the run, in percent of all cores.
    other_cpu: f64,
}

const WRK_SCRIPT: &str = r#"
local prefix = "@PREFIX@"
local pages = @PAGES@
wrk.headers["Authorization"] = "Bearer @KEY@"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  math.random(); math.random(); math.random()
end
function request()
  return wrk.format("GET", prefix .. math.random(1, pages))
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "API_BENCH {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d,\"status\":%d,\"socket\":%d}\n",
    summary.requests, summary.duration, math.floor(latency:percentile(50)),
    math.floor(latency:percentile(99)), latency.max, e.status,
    e.connect + e.read + e.write + e.timeout))
end
"#;

/// Runs `wrk` for `seconds` against random pages 1..=`pages` of `prefix` + page number.
async fn run_wrk(
    args: &Args,
    base_url: &str,
    prefix: &str,
    pages: u64,
    key: &str,
    seconds: u64,
) -> anyhow::Result<WrkResult> {
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("pages.lua");
    std::fs::write(
        &script,
        WRK_SCRIPT
            .replace("@PREFIX@", prefix)
            .replace("@PAGES@", &pages.to_string())
            .replace("@KEY@", key),
    )?;
    let mut command = Command::new("wrk");
    command
        .arg("-t")
        .arg(args.threads.to_string())
        .arg("-c")
        .arg(args.connections.to_string())
        .arg("-d")
        .arg(format!("{seconds}s"))
        .arg("--timeout")
        .arg("60s")
        .arg("-s")
        .arg(&script)
        .arg(format!("{base_url}/"));
    let before = cpu_ticks();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("cannot run wrk (apt-get install -y wrk)")?;
    let other_cpu = other_cpu_percent(before, cpu_ticks(), started.elapsed().as_secs_f64());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("API_BENCH "))
        .with_context(|| {
            format!(
                "no report from wrk: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok(WrkResult {
        requests: n("requests"),
        seconds: n("duration_us") as f64 / 1e6,
        p50_ms: n("p50_us") as f64 / 1e3,
        p99_ms: n("p99_us") as f64 / 1e3,
        max_ms: n("max_us") as f64 / 1e3,
        errors: n("status") + n("socket"),
        other_cpu,
    })
}

/// CPU time in clock ticks (USER_HZ): the whole machine busy, and the part of it that is
/// this benchmark's own (this process, its waited-for children such as `wrk`, and every
/// `postgres` process). The rest is other work on the machine, which disturbs a run.
#[derive(Debug, Clone, Copy, Default)]
struct CpuTicks {
    busy: u64,
    ours: u64,
}

/// `utime + stime (+ cutime + cstime)` of a `/proc/<pid>/stat` line.
fn stat_ticks(stat: &str, with_children: bool) -> u64 {
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime is field 14, i.e. index 11 after the state (field 3).
    let own = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    let children = f.get(13).copied().unwrap_or(0) + f.get(14).copied().unwrap_or(0);
    own + if with_children { children } else { 0 }
}

fn cpu_ticks() -> CpuTicks {
    let busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?.to_string();
            let v: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            // user nice system idle iowait irq softirq steal
            Some(
                v.iter().take(8).sum::<u64>()
                    - v.get(3).copied().unwrap_or(0)
                    - v.get(4).copied().unwrap_or(0),
            )
        })
        .unwrap_or(0);
    let mut ours = std::fs::read_to_string("/proc/self/stat")
        .map(|s| stat_ticks(&s, true))
        .unwrap_or(0);
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let stat = entry.path().join("stat");
            if let Ok(s) = std::fs::read_to_string(stat) {
                // The postmaster's children times hold the backends and parallel workers
                // that exited during the run.
                if s.contains("(postgres)") {
                    ours += stat_ticks(&s, true);
                }
            }
        }
    }
    CpuTicks { busy, ours }
}

/// Share of the machine's CPU used by other work between two readings, in percent of all
/// cores.
fn other_cpu_percent(before: CpuTicks, after: CpuTicks, seconds: f64) -> f64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let other = after.busy.saturating_sub(before.busy) as f64
        - after.ours.saturating_sub(before.ours) as f64;
    (other.max(0.0) / 100.0) / (seconds * cores) * 100.0
}

/// One line of the report.
struct Row {
    engine: Engine,
    scenario: String,
    result: WrkResult,
    writes: Option<WriterStats>,
}

/// One page alone, at a depth: median and slowest of several requests.
struct Probe {
    engine: Engine,
    label: &'static str,
    page: u64,
    pages: u64,
    median_ms: f64,
    max_ms: f64,
    results: usize,
}

async fn get_page(
    client: &reqwest::Client,
    url: &str,
    key: &str,
) -> anyhow::Result<(f64, serde_json::Value)> {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(key).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    let ms = started.elapsed().as_secs_f64() * 1e3;
    if !status.is_success() {
        bail!("{url}: {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok((ms, serde_json::from_slice(&body)?))
}

/// Waits until the requests `wrk` left behind are answered: the server goes on with the
/// requests in flight when `wrk` closes its connections, and slow ones (filtered deep pages)
/// would run into the next measurement. Done when a first page comes back within 50 ms.
async fn drain(client: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (ms, _) = get_page(client, url, key).await?;
        if ms < 50.0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the server is still busy two minutes after the load stopped");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if started.elapsed() > Duration::from_millis(500) {
        eprintln!(
            "  (waited {:.1} s for the requests left in flight)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

async fn probe(
    client: &reqwest::Client,
    engine: Engine,
    label: &'static str,
    base: &str,
    prefix: &str,
    pages: u64,
    key: &str,
) -> anyhow::Result<Vec<Probe>> {
    let mut depths: Vec<u64> = vec![1, pages / 10, pages / 2, pages * 9 / 10, pages];
    depths.retain(|&p| p >= 1);
    depths.dedup();
    let mut out = Vec::new();
    for page in depths {
        let url = format!("{base}{prefix}{page}");
        let mut times = Vec::new();
        let mut results = 0;
        for _ in 0..7 {
            let (ms, body) = get_page(client, &url, key).await?;
            results = body["results"].as_array().map_or(0, Vec::len);
            times.push(ms);
        }
        times.sort_by(f64::total_cmp);
        out.push(Probe {
            engine,
            label,
            page,
            pages,
            median_ms: times[times.len() / 2],
            max_ms: times[times.len() - 1],
            results,
        });
    }
    Ok(out)
}

async fn bench_engine(
    engine: Engine,
    args: &Args,
    sims: &SimHost,
    rows: &mut Vec<Row>,
    probes: &mut Vec<Probe>,
) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let sqlite_path = args
        .db
        .clone()
        .unwrap_or_else(|| tmp.path().join("api_bench.db"));
    eprintln!("== {}", engine.name());
    let (store, location) = open_store(engine, args, &sqlite_path).await?;
    let mut ids = main_connection(&store).await?;
    if let Some((_, connection)) = &ids {
        let n = count_orders(&store, connection).await?;
        if n == 0 {
            bail!("{location} holds a connection without orders; run without --reuse");
        }
        eprintln!("  reusing {location}: {n} orders");
        if n != u64::from(args.orders) {
            eprintln!(
                "  note: --orders {} asked, the database has {n}",
                args.orders
            );
        }
    } else {
        eprintln!("  loading {} orders into {location}", args.orders);
        load(&store, sims, args.orders).await?;
        ids = main_connection(&store).await?;
    }
    let (company_id, connection_id) = ids.context("no connection after loading")?;
    // Writer connections left by an interrupted run.
    for other in store.list_connections(None).await? {
        if other.id != connection_id {
            eprintln!("  removing connection {} left by an earlier run", other.id);
            store.delete_connection(&other.id).await?;
        }
    }
    store.refresh_statistics().await?;
    if args.settle {
        settle(engine, args, &sqlite_path).await?;
    }
    let total = count_orders(&store, &connection_id).await?;

    let (key_info, key) = store.create_api_key("api_bench", Utc::now()).await?;
    let server = prestalink_server::start(
        store.clone(),
        ServerConfig {
            listen: "127.0.0.1:0".parse()?,
            allow_private_stores: true,
            workers: 0,
            // The scheduler would queue syncs of the loaded connection: never within a run.
            scheduler_tick: Duration::from_secs(86_400),
            ..ServerConfig::default()
        },
    )
    .await?;
    let base = server.base_url();
    let path = format!("/companies/{company_id}/connections/{connection_id}/data/{ORDERS}");
    let encoded: String = url::form_urlencoded::byte_serialize(args.query.as_bytes()).collect();
    let plain_prefix = format!("{path}?pageSize={PAGE_SIZE}&page=");
    let query_prefix = format!("{path}?pageSize={PAGE_SIZE}&query={encoded}&page=");
    let client = reqwest::Client::new();
    let (_, first) = get_page(&client, &format!("{base}{query_prefix}1"), &key).await?;
    let query_total = first["totalResults"].as_u64().unwrap_or(0);
    let plain_pages = total.div_ceil(PAGE_SIZE).max(1);
    let query_pages = query_total.div_ceil(PAGE_SIZE).max(1);
    eprintln!(
        "  {total} orders ({plain_pages} pages); query {:?} matches {query_total} ({query_pages} pages)",
        args.query
    );
    let mut scenarios = vec![
        ("unfiltered", plain_prefix.as_str(), plain_pages),
        ("query", query_prefix.as_str(), query_pages),
    ];
    scenarios.retain(|(label, _, _)| args.scenarios.iter().any(|s| s == label));
    if args.probes {
        for &(label, prefix, pages) in &scenarios {
            probes.extend(probe(&client, engine, label, &base, prefix, pages, &key).await?);
        }
    }
    let drain_url = format!("{base}{plain_prefix}1");
    let duration = |label: &str| {
        if label == "query" {
            args.query_duration
        } else {
            args.duration
        }
    };
    for &(label, prefix, pages) in &scenarios {
        // Warm-up (caches, pool, planner): not reported.
        run_wrk(args, &base, prefix, pages, &key, 3).await?;
        drain(&client, &drain_url, &key).await?;
        let result = run_wrk(args, &base, prefix, pages, &key, duration(label)).await?;
        eprintln!("  {label}: {result:?}");
        rows.push(Row {
            engine,
            scenario: label.to_string(),
            result,
            writes: None,
        });
        drain(&client, &drain_url, &key).await?;
    }
    let writers = if args.sync_scenarios {
        args.writers.clone()
    } else {
        Vec::new()
    };
    for kind in writers {
        let writer = Writer::start(&store, sims, args, kind, &connection_id).await?;
        for &(label, prefix, pages) in &scenarios {
            let before = writer.stats();
            let lists_before = (store.key_list_merges(), store.key_list_rebuilds());
            let since = prestalink_store::format_timestamp(Utc::now());
            let result = run_wrk(args, &base, prefix, pages, &key, duration(label)).await?;
            let after = writer.stats();
            let written = writer.written_since(&store, &since).await?;
            drain(&client, &drain_url, &key).await?;
            let (merged, (reads, writes)) = (store.key_list_merges(), store.key_list_rebuilds());
            let merged = merged - lists_before.0;
            let writes = WriterStats {
                syncs: after.syncs - before.syncs,
                written,
                failures: after.failures - before.failures,
                merged,
                rebuilt: (reads + writes - lists_before.1 .0 - lists_before.1 .1)
                    .saturating_sub(merged),
            };
            eprintln!(
                "  {label} during sync of {}: {result:?} {writes:?}",
                kind.label()
            );
            rows.push(Row {
                engine,
                scenario: format!("{label} during sync of {}", kind.label()),
                result,
                writes: Some(writes),
            });
        }
        writer.stop(&store, sims).await?;
    }
    server.shutdown().await;
    store.revoke_api_key(&key_info.id, Utc::now()).await?;
    store.close().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // RUST_LOG=prestalink_store=debug shows each key-list rebuild and wait.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let args = parse_args()?;
    let wrk = Command::new("wrk").arg("--version").output();
    if wrk.is_err() {
        bail!("wrk is not installed (apt-get install -y wrk)");
    }
    // As `prestalink serve`: the multi-threaded runtime, one worker per core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let sims = SimHost::new()?;
    let mut rows = Vec::new();
    let mut probes = Vec::new();
    for &engine in &args.engines {
        rt.block_on(bench_engine(engine, &args, &sims, &mut rows, &mut probes))?;
    }
    drop(sims);

    println!(
        "\n{} orders, pages of {PAGE_SIZE} uniform over every page, wrk -t{} -c{} for {} s \
         ({} s with the query), query `{}`, {} cores",
        args.orders,
        args.threads,
        args.connections,
        args.duration,
        args.query_duration,
        args.query,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| engine | scenario | pages/s | p50 ms | p99 ms | max ms | errors | sync during the run | other CPU |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---|---:|");
    for row in &rows {
        let r = row.result;
        let writes = match row.writes {
            None => "-".to_string(),
            Some(w) => format!(
                "{} syncs ended, {} orders written, key lists {} merged / {} rebuilt{}",
                w.syncs,
                w.written,
                w.merged,
                w.rebuilt,
                if w.failures > 0 {
                    format!(", {} failed", w.failures)
                } else {
                    String::new()
                }
            ),
        };
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {} | {} | {:.0} % |",
            row.engine.name(),
            row.scenario,
            r.requests as f64 / r.seconds.max(1e-9),
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.errors,
            writes,
            r.other_cpu
        );
    }
    println!(
        "\nOne page alone (no load): median and slowest of 7 requests, milliseconds at the client"
    );
    println!();
    println!("| engine | pages | page | median ms | max ms | results |");
    println!("|---|---|---:|---:|---:|---:|");
    for p in &probes {
        println!(
            "| {} | {} of {} | {} | {:.1} | {:.1} | {} |",
            p.engine.name(),
            p.label,
            p.pages,
            p.page,
            p.median_ms,
            p.max_ms,
            p.results
        );
    }
    Ok(())
}
