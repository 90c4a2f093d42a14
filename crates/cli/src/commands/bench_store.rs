//! `prestalink bench --store URL --key KEY [--storefront URL,…]`: what a sync costs a real
//! shop (`prestalink_bench::real_shop`), and `--calibrate`: that shop's page times and
//! throughput next to a simulated profile's (`prestalink_bench::calibrate`).

use std::process::ExitCode;
use std::time::Duration;

use prestalink_bench::calibrate::{measure, side_by_side, CalibrationConfig, Target};
use prestalink_bench::host::{load_average, shop_cpu, ShopCpu};
use prestalink_bench::real_shop::{self, RealShopConfig};
use prestalink_bench::Reader;
use prestalink_pacing::Pace;
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};

use super::bench::BenchArgs;

/// How long the idle storefront is probed by default.
const IDLE: Duration = Duration::from_secs(20);

fn store_url(store: &str) -> String {
    store.trim_end_matches('/').to_string()
}

fn storefront_pages(store: &str, args: &BenchArgs) -> Vec<String> {
    if args.storefront.is_empty() {
        vec![format!("{}/", store_url(store))]
    } else {
        args.storefront.clone()
    }
}

/// Runs the readers against the shop with its storefront probed.
pub async fn real_shop(store: &str, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let readers = if args.readers.is_empty() {
        vec![
            Reader::Prestalink(Pace::Balanced),
            Reader::Prestalink(Pace::Polite),
            Reader::Prestalink(Pace::Max),
        ]
    } else {
        args.readers
            .iter()
            .map(|r| r.parse::<Reader>())
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?
    };
    anyhow::ensure!(
        args.probe_rate.is_finite() && args.probe_rate >= 0.0,
        "--probe-rate must be 0 (no storefront load) or above"
    );
    let config = RealShopConfig {
        url: store_url(store),
        key: args.key.clone().unwrap_or_default(),
        storefront: storefront_pages(store, args),
        readers,
        probe_rate: args.probe_rate,
        idle: args
            .idle_seconds
            .map_or(IDLE, |s| Duration::from_secs_f64(s.max(0.5))),
        data_types: args.data_types.clone(),
        seed: args.seed,
        exe: std::env::current_exe()?,
        logs: args.logs.clone(),
    };
    let json = args.json;
    if !json {
        println!(
            "prestalink bench --store {}: this loads the shop. Storefront: {} ({} visits/s); idle {:.0} s{}",
            config.url,
            config.storefront.join(", "),
            config.probe_rate,
            config.idle.as_secs_f64(),
            load_average().map_or(String::new(), |l| format!("; load average {:.2}", l.0)),
        );
    }
    let (idle, rows) = real_shop::run(
        &config,
        |idle| {
            if json {
                let out = serde_json::json!({ "idle": idle });
                println!("{out}");
            } else {
                eprintln!(
                    "  idle storefront: p50 {:.1} ms, p95 {:.1} ms ({} visits)",
                    idle.p50_ms, idle.p95_ms, idle.visits
                );
            }
        },
        |row| {
            if json {
                println!("{}", serde_json::to_string(row).expect("serializes"));
            } else {
                eprintln!(
                    "  {}: {:.1} s, {} requests, inflation {:.2}",
                    row.reader, row.wall_seconds, row.requests, row.inflation_p95
                );
            }
        },
    )
    .await?;
    if !json {
        print!("\n{}", real_shop::table(&idle, &rows));
        for row in rows.iter().filter(|r| r.note.is_some()) {
            println!(
                "note {}: {}",
                row.reader,
                row.note.as_deref().unwrap_or_default()
            );
        }
    }
    Ok(if rows.iter().all(|r| r.completed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Measures the shop, then a simulator of the profile with as much data, side by side.
pub async fn calibrate(store: &str, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let profile = if args.profile == "all" {
        Profile::Laptop
    } else {
        args.profile
            .parse::<Profile>()
            .map_err(anyhow::Error::msg)?
    };
    let url = store_url(store);
    let key = args.key.clone().unwrap_or_default();
    let config = CalibrationConfig::default();
    let storefront = storefront_pages(store, args).into_iter().next();
    let local_cpu = shop_cpu;
    let real = measure(
        &Target {
            name: "real".into(),
            url: url.clone(),
            key: key.clone(),
            storefront,
            cpu: &local_cpu,
        },
        &config,
    )
    .await?;
    let counts = store_counts(&url, &key).await?;
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            orders: counts.0.max(1),
            customers: counts.1.max(1),
            products: counts.2.max(1),
            ..GenConfig::default()
        },
        capacity: Capacity {
            time_scale: 1.0,
            ..Capacity::profile(profile)
        },
        ..SimulatorConfig::default()
    })
    .await?;
    let counters_cpu = || {
        let c = sim.counters();
        Some(ShopCpu {
            php: c.php_cpu,
            db: c.db_cpu,
            web: Duration::ZERO,
        })
    };
    let simulated = measure(
        &Target {
            name: profile.name().into(),
            url: sim.base_url(),
            key: sim.key().to_string(),
            storefront: Some(format!("{}/", sim.base_url())),
            cpu: &counters_cpu,
        },
        &config,
    )
    .await;
    sim.shutdown().await;
    let simulated = simulated?;
    if args.json {
        let out = serde_json::json!({ "real": real, "simulated": simulated });
        println!("{out}");
    } else {
        println!(
            "calibration: {url} ({} orders, {} customers, {} products) against the {} profile",
            counts.0, counts.1, counts.2, profile
        );
        println!(
            "load average (1 min): real {} → {}, simulated {} → {}",
            load(real.load.0),
            load(real.load.1),
            load(simulated.load.0),
            load(simulated.load.1)
        );
        print!("{}", side_by_side(&real, &simulated));
    }
    Ok(ExitCode::SUCCESS)
}

fn load(l: Option<f64>) -> String {
    l.map_or("-".to_string(), |l| format!("{l:.2}"))
}

/// Orders, customers and products of the store (its id lists).
async fn store_counts(url: &str, key: &str) -> anyhow::Result<(u32, u32, u32)> {
    let client = reqwest::Client::new();
    let mut counts = [0u32; 3];
    for (n, resource) in ["orders", "customers", "products"].iter().enumerate() {
        let body = client
            .get(format!(
                "{url}/api/{resource}?display=[id]&output_format=JSON"
            ))
            .basic_auth(key, Some(""))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        counts[n] = prestalink_bench::calibrate::count_records(&body) as u32;
    }
    Ok((counts[0], counts[1], counts[2]))
}
