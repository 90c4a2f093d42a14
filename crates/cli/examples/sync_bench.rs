//! Sync benchmark (issue 5): full sync of a simulated store at time scale 0, then an
//! incremental sync after 1 % churn, then one with nothing changed, each run by the real `prestalink sync` binary in a child
//! process so that its peak memory and CPU are its own (the simulator runs in this process).
//!
//! ```text
//! cargo build --release -p prestalink && cargo run --release -p prestalink --example sync_bench -- 10000 100000
//! ```

use std::path::{Path, PathBuf};

use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};

struct Run {
    seconds: f64,
    peak_mib: f64,
    cpu_seconds: f64,
    report: serde_json::Value,
}

/// Runs `prestalink sync` in a child process, measured by the benchmark crate's runner
/// (peak memory is the child's own VmHWM, CPU from wait4).
fn run_sync(binary: &Path, sim: &Simulator, db: &Path, log: &Path) -> Run {
    let args: Vec<String> = [
        "sync",
        "--url",
        &sim.base_url(),
        "--key",
        sim.key(),
        "--json",
        "--db",
        db.to_str().expect("utf-8 path"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = prestalink_bench::child::run_child(binary, &args, log).expect("prestalink runs");
    assert_eq!(run.code, Some(0), "sync failed: {}", run.stderr_tail);
    Run {
        seconds: run.wall.as_secs_f64(),
        peak_mib: run.peak_rss as f64 / (1024.0 * 1024.0),
        cpu_seconds: run.cpu.as_secs_f64(),
        report: serde_json::from_str(&run.stdout)
            .unwrap_or_else(|_| panic!("a JSON report: {}", run.stdout)),
    }
}

/// With `SYNC_BENCH_KEEP=DIR`, keeps each run's JSON report and log there
/// (`<orders>-<sync>.json`, `.log`; the sync logs what `PRESTALINK_LOG` asks for).
fn keep(orders: u32, sync: &str, run: &Run, log: &Path) {
    let Some(dir) = std::env::var_os("SYNC_BENCH_KEEP").map(PathBuf::from) else {
        return;
    };
    std::fs::create_dir_all(&dir).expect("SYNC_BENCH_KEEP is a directory");
    let report = serde_json::to_string_pretty(&run.report).expect("a report");
    std::fs::write(dir.join(format!("{orders}-{sync}.json")), report).expect("report kept");
    let _ = std::fs::copy(log, dir.join(format!("{orders}-{sync}.log")));
}

fn file_mib(db: &Path) -> f64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
        .map(|m| m.len() as f64)
        .sum::<f64>()
        / (1024.0 * 1024.0)
}

fn records(report: &serde_json::Value) -> u64 {
    report["dataTypes"]
        .as_object()
        .map(|d| d.values().filter_map(|v| v["records"].as_u64()).sum())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("order counts"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let binary: PathBuf = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("prestalink");
    assert!(
        binary.exists(),
        "build the binary first: cargo build --release -p prestalink"
    );
    let mut table = prestalink_bench::plain_table(
        &[
            "orders",
            "sync",
            "seconds",
            "records",
            "rec/s",
            "peak MiB",
            "CPU s",
            "db MiB",
            "requests",
            "rows changed",
            "load 1m",
        ],
        &[0, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    for orders in sizes {
        let sim = Simulator::start(SimulatorConfig {
            gen: GenConfig {
                seed: 1,
                languages: 2,
                orders,
                customers: orders / 4,
                products: (orders / 50).max(40),
                ..GenConfig::default()
            },
            ..SimulatorConfig::default()
        })
        .await
        .expect("simulator");
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bench.db");
        let log = dir.path().join("sync.log");
        let full = tokio::task::block_in_place(|| run_sync(&binary, &sim, &db, &log));
        keep(orders, "full", &full, &log);
        let n = records(&full.report);
        table.add_row(row(orders, "full", &full, n, &db, None));
        eprintln!("{orders} orders: full sync {:.2} s", full.seconds);
        // 1 % churn: new and updated orders, stock and combination changes, customers…
        let churn = {
            let store = sim.store();
            let mut store = store.write().unwrap();
            let zone: chrono_tz::Tz = store.timezone.parse().unwrap();
            let now = chrono::Utc::now().with_timezone(&zone).naive_local();
            Churn::new(5).step(&mut store, now, (orders / 100) as usize)
        };
        let incremental = tokio::task::block_in_place(|| run_sync(&binary, &sim, &db, &log));
        keep(orders, "incr", &incremental, &log);
        let m = records(&incremental.report);
        table.add_row(row(orders, "incr", &incremental, m, &db, Some(churn.len())));
        eprintln!(
            "{orders} orders: incremental sync {:.2} s",
            incremental.seconds
        );
        // Nothing changed since: what an incremental sync costs when there is nothing to do.
        let again = tokio::task::block_in_place(|| run_sync(&binary, &sim, &db, &log));
        keep(orders, "same", &again, &log);
        let k = records(&again.report);
        table.add_row(row(orders, "same", &again, k, &db, Some(0)));
        sim.shutdown().await;
    }
    println!("{}", table.trim_fmt());
}

/// One line of the table: a run, its database and the rows the churn changed before it.
fn row(
    orders: u32,
    sync: &str,
    run: &Run,
    records: u64,
    db: &Path,
    changed: Option<usize>,
) -> Vec<String> {
    vec![
        orders.to_string(),
        sync.to_string(),
        format!("{:.2}", run.seconds),
        records.to_string(),
        format!("{:.0}", records as f64 / run.seconds),
        format!("{:.1}", run.peak_mib),
        format!("{:.2}", run.cpu_seconds),
        format!("{:.1}", file_mib(db)),
        run.report["requests"].to_string(),
        changed.map_or_else(String::new, |n| n.to_string()),
        load_average(),
    ]
}

/// The machine's one-minute load average when the run ended (the machine is shared: a
/// figure measured under load says so).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
