//! `prestalink demo`: starts a simulated PrestaShop store, links it and syncs it into an
//! embedded SQLite file, changes the store and syncs again incrementally, then shows a few
//! records. Needs nothing but this binary.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_sync::{SyncOptions, SyncRequest};
use prestalink_webservice::diagnose::DiagnoseOptions;
use prestalink_webservice::Format;

/// Arguments of `prestalink demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// SQLite file to sync into (replaced if it exists).
    #[arg(long, default_value = "prestalink-demo.db")]
    pub db: String,
    /// Orders in the simulated store.
    #[arg(long, default_value_t = 2000)]
    pub orders: u32,
    /// Installed languages in the simulated store.
    #[arg(long, default_value_t = 2)]
    pub languages: u32,
    /// Seed of the simulated store.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(demo(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    remove_database(&args.db)?;
    let config = SimulatorConfig {
        gen: GenConfig {
            seed: args.seed,
            languages: args.languages,
            orders: args.orders,
            customers: (args.orders / 4).max(20),
            products: (args.orders / 20).clamp(20, 400),
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    };
    let sim = Simulator::start(config).await?;
    println!(
        "Simulated PrestaShop store at {} (key {}), {} orders, {} languages",
        sim.base_url(),
        sim.key(),
        args.orders,
        args.languages
    );
    let request = SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions {
            timeout: Duration::from_secs(30),
            format: Format::Json,
            ..DiagnoseOptions::default()
        },
        options: SyncOptions::default(),
        pace: Pace::Balanced,
        caps: Caps::default(),
    };
    println!("\n== full sync into {}", args.db);
    let code = super::sync::sync(&args.db, &request, false).await;
    if code != ExitCode::SUCCESS {
        sim.shutdown().await;
        return Ok(code);
    }

    let report = {
        let store = sim.store();
        let mut store = store.write().expect("store lock");
        let zone: chrono_tz::Tz = store.timezone.parse().unwrap_or(chrono_tz::UTC);
        let now = Utc::now().with_timezone(&zone).naive_local();
        Churn::new(args.seed).step(&mut store, now, 40)
    };
    println!(
        "\n== the store changed ({} changes: new and updated orders, stock, customers…); incremental sync",
        report.len()
    );
    let code = super::sync::sync(&args.db, &request, false).await;
    sim.shutdown().await;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    println!(
        "\nDone. Export records with: prestalink export --db {} --data-type commerce-orders",
        args.db
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes a previous demo database (and its WAL, shared-memory and key files).
fn remove_database(db: &str) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", ".key"] {
        let path = format!("{db}{suffix}");
        if Path::new(&path).exists() {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
