//! Benchmark of the data generator and churn: generation time, rows and resident memory
//! per store size, and churn throughput. Run with
//! `cargo run --release -p prestalink-simulator --example generate_bench -- 20000 100000`.

use std::time::Instant;

use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::{generate, GenConfig};

/// Resident set size of this process in MiB (Linux; 0 elsewhere).
fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

/// CPU time (user + system) of this process in seconds (Linux; 0 elsewhere): on a shared
/// machine it says more than wall time.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) / 100.0
}

fn main() {
    let sizes: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![20_000, 100_000]
    } else {
        sizes
    };
    println!(
        "orders  customers  products  generate_s  cpu_s   rows      rss_mib  churn_changes_per_s"
    );
    for orders in sizes {
        let cfg = GenConfig {
            orders,
            customers: orders / 4,
            products: (orders / 50).max(40),
            languages: 2,
            ..GenConfig::default()
        };
        let before = rss_mib();
        let cpu = cpu_s();
        let start = Instant::now();
        let mut store = generate(&cfg);
        let took = start.elapsed().as_secs_f64();
        let cpu = cpu_s() - cpu;
        let rss = rss_mib() - before;
        let rows: usize = store.tables.values().map(|t| t.rows.len()).sum();
        let mut churn = Churn::new(1);
        let now = cfg.now() + chrono::Duration::hours(1);
        let start = Instant::now();
        let changes = 2_000;
        churn.step(&mut store, now, changes);
        let per_s = changes as f64 / start.elapsed().as_secs_f64();
        println!(
            "{orders:<7} {:<10} {:<9} {took:<11.3} {cpu:<7.2} {rows:<9} {rss:<8.0} {per_s:.0}",
            cfg.customers, cfg.products
        );
        drop(store);
    }
}
