//! How much a reader inflates storefront latency: an in-process simulator (default profile
//! vps at time scale 1) with a steady shopper load, swept with `display=full` pages of 100
//! orders at several concurrencies; prints the shoppers' p50/p95 for each.
//!
//! ```text
//! cargo run --release -p prestalink-simulator --example shopper_bench -- [PROFILE] [LOAD] [ORDERS]
//! ```

use std::time::{Duration, Instant};

use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};

/// Read all orders in pages of 100 with `concurrency` requests in flight; returns the time.
async fn sweep(sim: &Simulator, orders: usize, concurrency: usize) -> Duration {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut offset = 0;
    loop {
        while tasks.len() < concurrency && offset < orders {
            let url = format!(
                "{}/api/orders?display=full&sort=[id_ASC]&limit={offset},100&output_format=JSON",
                sim.base_url()
            );
            let req = client.get(url).basic_auth(sim.key(), Some(""));
            tasks.spawn(async move { req.send().await.expect("request").bytes().await.is_ok() });
            offset += 100;
        }
        if tasks.join_next().await.is_none() {
            break;
        }
    }
    started.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let profile: Profile = args
        .first()
        .map_or(Ok(Profile::Vps), |s| s.parse())
        .map_err(anyhow::Error::msg)?;
    let load: f64 = args.get(1).map_or(Ok(0.2), |s| s.parse())?;
    let orders: u32 = args.get(2).map_or(Ok(5_000), |s| s.parse())?;
    let cfg = SimulatorConfig {
        gen: GenConfig {
            orders,
            ..GenConfig::default()
        },
        capacity: Capacity::profile(profile),
        shopper_load: load,
        ..SimulatorConfig::default()
    };
    let sim = Simulator::start(cfg).await?;
    println!(
        "profile {profile}, {} workers, shopper load {load}, {orders} orders",
        sim.capacity().workers
    );
    sim.reset_counters();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = sim.counters().shopper;
    println!(
        "no reader:       shopper p50 {:6.1} ms  p95 {:6.1} ms  ({} visits)",
        ms(idle.p50),
        ms(idle.p95),
        idle.count
    );
    for concurrency in [1, 2, 4, 8] {
        sim.reset_counters();
        let took = sweep(&sim, orders as usize, concurrency).await;
        let c = sim.counters();
        println!(
            "reader at {concurrency}:     shopper p50 {:6.1} ms  p95 {:6.1} ms  ({} visits); sweep {:.1} s = {:.0} orders/s",
            ms(c.shopper.p50),
            ms(c.shopper.p95),
            c.shopper.count,
            took.as_secs_f64(),
            orders as f64 / took.as_secs_f64()
        );
    }
    sim.shutdown().await;
    Ok(())
}
