//! Sync benchmark (issue 5): full sync of a simulated store at time scale 0, then an
//! incremental sync after 1 % churn, each run by the real `prestalink sync` binary in a child
//! process so that its peak memory and CPU are its own (the simulator runs in this process).
//!
//! ```text
//! cargo build --release -p prestalink && cargo run --release -p prestalink --example sync_bench -- 10000 100000
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};

struct Run {
    seconds: f64,
    peak_mib: f64,
    cpu_seconds: f64,
    report: serde_json::Value,
}

/// Runs `prestalink sync` and measures it with `wait4` (peak RSS, user + system CPU).
fn run_sync(binary: &Path, sim: &Simulator, db: &Path) -> Run {
    let started = Instant::now();
    let child = Command::new(binary)
        .args([
            "sync",
            "--url",
            &sim.base_url(),
            "--key",
            sim.key(),
            "--json",
        ])
        .arg("--db")
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("prestalink starts");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).expect("report");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, with valid pointers to locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Run {
        seconds,
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        report: serde_json::from_str(&out).unwrap_or_else(|_| panic!("a JSON report: {out}")),
    }
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
    println!(
        "{:>8} {:>6} {:>9} {:>10} {:>9} {:>8} {:>8} {:>9} | {:>8} {:>8} {:>9}",
        "orders",
        "sync",
        "seconds",
        "records",
        "rec/s",
        "peak MiB",
        "CPU s",
        "db MiB",
        "requests",
        "records",
        "records/s"
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
        let full = tokio::task::block_in_place(|| run_sync(&binary, &sim, &db));
        let n = records(&full.report);
        println!(
            "{orders:>8} {:>6} {:>9.2} {n:>10} {:>9.0} {:>8.1} {:>8.2} {:>9.1} | {:>8} {:>8} {:>9}",
            "full",
            full.seconds,
            n as f64 / full.seconds,
            full.peak_mib,
            full.cpu_seconds,
            file_mib(&db),
            full.report["requests"],
            "",
            ""
        );
        // 1 % churn: new and updated orders, stock and combination changes, customers…
        let churn = {
            let store = sim.store();
            let mut store = store.write().unwrap();
            let zone: chrono_tz::Tz = store.timezone.parse().unwrap();
            let now = chrono::Utc::now().with_timezone(&zone).naive_local();
            Churn::new(5).step(&mut store, now, (orders / 100) as usize)
        };
        let incremental = tokio::task::block_in_place(|| run_sync(&binary, &sim, &db));
        let m = records(&incremental.report);
        println!(
            "{orders:>8} {:>6} {:>9.2} {m:>10} {:>9.0} {:>8.1} {:>8.2} {:>9.1} | {:>8} ({} rows changed)",
            "incr",
            incremental.seconds,
            m as f64 / incremental.seconds,
            incremental.peak_mib,
            incremental.cpu_seconds,
            file_mib(&db),
            incremental.report["requests"],
            churn.len()
        );
        sim.shutdown().await;
    }
}
