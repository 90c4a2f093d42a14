//! Benchmark of the simulator's server: a full `display=full` sweep of all orders in pages
//! of 100, at several concurrencies, printing requests/s, orders/s and the server's counters.
//!
//! ```text
//! cargo run --release -p prestalink-simulator --example sweep_bench -- [ORDERS] [URL KEY]
//! ```
//! Without URL and KEY it starts an in-process simulator (profile vps, time scale 0) with
//! ORDERS orders (default 20,000) and reports its start-up time and this process's RSS; with
//! them it sweeps a running `prestalink simulate`.

use std::time::{Duration, Instant};

use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};

/// Resident set size of this process, from /proc (Linux), in MiB.
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Read every page `limit=offset,100` of orders with `concurrency` requests in flight.
async fn sweep(base: &str, key: &str, orders: usize, concurrency: usize) -> (Duration, usize, u64) {
    let client = reqwest::Client::new();
    let pages: Vec<usize> = (0..orders.div_ceil(100)).collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    let (mut requests, mut bytes) = (0usize, 0u64);
    loop {
        while tasks.len() < concurrency && next < pages.len() {
            let url = format!(
                "{base}/api/orders?display=full&sort=[id_ASC]&limit={},100&output_format=JSON",
                pages[next] * 100
            );
            let req = client.get(url).basic_auth(key, Some(""));
            tasks.spawn(async move {
                let r = req.send().await.expect("request");
                assert_eq!(r.status(), 200);
                r.bytes().await.expect("body").len() as u64
            });
            next += 1;
        }
        match tasks.join_next().await {
            Some(done) => {
                bytes += done.expect("task");
                requests += 1;
            }
            None => break,
        }
    }
    (started.elapsed(), requests, bytes)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders: u32 = args.first().map_or(Ok(20_000), |s| s.parse())?;
    let (sim, base, key) = match (args.get(1), args.get(2)) {
        (Some(url), Some(key)) => (None, url.clone(), key.clone()),
        _ => {
            let cfg = SimulatorConfig {
                gen: GenConfig {
                    orders,
                    ..GenConfig::default()
                },
                capacity: Capacity {
                    time_scale: 0.0,
                    ..Capacity::profile(Profile::Vps)
                },
                ..SimulatorConfig::default()
            };
            let rss_before = rss_mib().unwrap_or(0.0);
            let started = Instant::now();
            let sim = Simulator::start(cfg).await?;
            println!(
                "start-up: {:.2} s for {orders} orders; RSS {:.0} MiB (was {:.0} MiB before)",
                started.elapsed().as_secs_f64(),
                rss_mib().unwrap_or(0.0),
                rss_before
            );
            let (base, key) = (sim.base_url(), sim.key().to_string());
            (Some(sim), base, key)
        }
    };
    let total = orders as usize;
    for concurrency in [1, 2, 4, 8] {
        if let Some(sim) = &sim {
            sim.reset_counters();
        }
        let (elapsed, requests, bytes) = sweep(&base, &key, total, concurrency).await;
        let secs = elapsed.as_secs_f64();
        println!(
            "concurrency {concurrency}: {requests} pages in {secs:.2} s = {:.0} requests/s, {:.0} orders/s, {:.1} MB/s",
            requests as f64 / secs,
            total as f64 / secs,
            bytes as f64 / secs / 1e6
        );
        if let Some(sim) = &sim {
            let c = sim.counters();
            println!(
                "  server: {} records, service p50 {:?} p95 {:?}, queue wait p95 {:?}, max in service {}",
                c.records, c.service.p50, c.service.p95, c.queue_wait.p95, c.max_in_service
            );
        }
    }
    if let Some(rss) = rss_mib() {
        println!("RSS after the sweeps: {rss:.0} MiB");
    }
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    Ok(())
}
