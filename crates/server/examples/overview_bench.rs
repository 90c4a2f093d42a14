//! Overview benchmark: server time to render the dashboard's commerce overview page (the
//! figures summed in the database, the SVG charts, the HTML) of a 100,000-order store, and
//! the page's size, on SQLite and PostgreSQL. Prints a report; nothing asserts a speed.
//!
//! ```text
//! cargo build --release -p prestalink-server --example overview_bench
//! target/release/examples/overview_bench --engines sqlite,postgres --orders 100000 \
//!     --db /var/tmp/overview_bench.db --reuse
//! ```
//!
//! Loading: a simulated PrestaShop (time scale 0) with `--orders` orders over two years in
//! two shops (so that some orders are in other currencies; the connection reads shop 1,
//! about 80 % of them) is synced (`commerce-info`, `commerce-orders`, `commerce-payments`,
//! `commerce-transactions`, `Pace::Max`); then `Store::refresh_statistics`. With `--reuse`
//! an existing load (SQLite file at `--db`, PostgreSQL schema `--pg-schema`) is kept.
//!
//! Measuring: for each period and grain the page is rendered `--runs` times in this process
//! (`dashboard::overview::render`, what the dashboard's route answers: store queries, charts,
//! HTML) after one warm-up render; the median and the slowest are reported with the HTML's
//! size. "Now" is the simulated data's own now (2026-11-28), so the periods hold data
//! whatever the date of the run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::TimeZone;
use prestalink_commerce::DataType;
use prestalink_pacing::{Caps, Pace};
use prestalink_server::dashboard::overview::{render, OverviewParams};
use prestalink_server::numbers::NumberLocale;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::{MasterKeySource, Store, StoreOptions};
use prestalink_sync::{sync_store, SyncOptions, SyncRequest};
use prestalink_webservice::diagnose::DiagnoseOptions;

/// As `prestalink serve`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: overview_bench [--engines sqlite,postgres] [--orders N] \
[--db PATH] [--pg URL] [--pg-schema NAME] [--reuse] [--runs N] [--html-dir DIR]";

struct Args {
    engines: Vec<String>,
    orders: u32,
    db: PathBuf,
    pg: String,
    pg_schema: String,
    reuse: bool,
    runs: usize,
    html_dir: Option<PathBuf>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        engines: vec!["sqlite".to_string()],
        orders: 100_000,
        db: std::env::temp_dir().join("overview_bench.db"),
        pg: "postgres://postgres@127.0.0.1:5432/test".to_string(),
        pg_schema: "overview_bench".to_string(),
        reuse: false,
        runs: 7,
        html_dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--engines" => args.engines = value()?.split(',').map(str::to_string).collect(),
            "--orders" => args.orders = value()?.parse()?,
            "--db" => args.db = PathBuf::from(value()?),
            "--pg" => args.pg = value()?,
            "--pg-schema" => args.pg_schema = value()?,
            "--reuse" => args.reuse = true,
            "--runs" => args.runs = value()?.parse()?,
            "--html-dir" => args.html_dir = Some(PathBuf::from(value()?)),
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other}\n{USAGE}"),
        }
    }
    for engine in &args.engines {
        if engine != "sqlite" && engine != "postgres" {
            bail!("unknown engine {engine}: sqlite or postgres");
        }
    }
    Ok(args)
}

async fn open_store(engine: &str, args: &Args) -> anyhow::Result<Store> {
    let master_key = MasterKeySource::Bytes([7u8; 32]);
    if engine == "sqlite" {
        if !args.reuse {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", args.db.display()));
            }
        }
        let options = StoreOptions {
            master_key,
            ..StoreOptions::default()
        };
        return Ok(Store::open_with(&args.db.display().to_string(), options).await?);
    }
    if !args.reuse {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&args.pg).await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", args.pg_schema))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
    }
    let options = StoreOptions {
        master_key,
        postgres_schema: Some(args.pg_schema.clone()),
        ..StoreOptions::default()
    };
    Ok(Store::open_with(&args.pg, options).await?)
}

/// The loaded connection, if any.
async fn loaded_connection(store: &Store) -> anyhow::Result<Option<String>> {
    for company in store.list_companies().await? {
        if let Some(c) = store
            .list_connections(Some(&company.id))
            .await?
            .into_iter()
            .next()
        {
            return Ok(Some(c.id));
        }
    }
    Ok(None)
}

/// Syncs a simulated store of `orders` orders: the data types the overview reads.
async fn load(store: &Store, orders: u32) -> anyhow::Result<String> {
    let started = Instant::now();
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            seed: 1,
            languages: 2,
            shops: 2,
            orders,
            customers: (orders / 4).max(20),
            products: (orders / 50).max(40),
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await?;
    eprintln!(
        "  simulated store of {orders} orders generated in {:.1} s; syncing",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let request = SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions {
            timeout: Duration::from_secs(60),
            public_only: false,
            ..DiagnoseOptions::default()
        },
        options: SyncOptions {
            data_types: vec![
                DataType::CompanyInfo,
                DataType::Orders,
                DataType::Payments,
                DataType::Transactions,
            ],
            ..SyncOptions::default()
        },
        pace: Pace::Max,
        caps: Caps::default(),
    };
    let linked = sync_store(store, &request, None).await;
    sim.shutdown().await;
    let linked = linked.map_err(|e| anyhow::anyhow!("the load sync failed: {e}"))?;
    if !linked.report.all_completed() {
        bail!("the load did not complete: {:?}", linked.report.data_types);
    }
    eprintln!(
        "  loaded in {:.1} s ({} requests)",
        started.elapsed().as_secs_f64(),
        linked.report.requests
    );
    store.refresh_statistics().await?;
    loaded_connection(store)
        .await?
        .context("the load left no connection")
}

async fn run_engine(engine: &str, args: &Args) -> anyhow::Result<()> {
    eprintln!("{engine}:");
    let store = open_store(engine, args).await?;
    let connection = match loaded_connection(&store).await? {
        Some(c) if args.reuse => {
            eprintln!("  reusing the loaded store");
            c
        }
        _ => load(&store, args.orders).await?,
    };
    let orders = store.count_records(&connection).await?;
    let orders = orders
        .iter()
        .find(|(t, _)| t == "commerce-orders")
        .map(|(_, n)| *n)
        .unwrap_or(0);
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .unwrap();
    for (period, grain) in [
        ("30", "day"),
        ("90", "week"),
        ("365", "month"),
        ("365", "week"),
        ("365", "day"),
    ] {
        let params = OverviewParams {
            period: Some(period.to_string()),
            grain: Some(grain.to_string()),
            ..OverviewParams::default()
        };
        let action = "/dashboard/overview";
        let warm = render(&store, &connection, &params, NumberLocale::En, now, action).await?;
        let mut times = Vec::new();
        let mut size = warm.len();
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            let html = render(&store, &connection, &params, NumberLocale::En, now, action).await?;
            times.push(started.elapsed());
            size = html.len();
        }
        times.sort();
        if let Some(dir) = &args.html_dir {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join(format!("{engine}-{period}-{grain}.html")), &warm)?;
        }
        // The store's sums alone (what the page spends in the database).
        let basics = store.shop_basics(&connection).await?;
        let choice = prestalink_server::dashboard::overview::PeriodChoice::parse(
            &params,
            basics.timezone.as_deref(),
            now,
            prestalink_server::dashboard::text::overview(NumberLocale::En),
        );
        let mut sums = Vec::new();
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            store
                .overview(
                    &connection,
                    choice.period,
                    choice.grain,
                    basics.currency.as_deref(),
                )
                .await?;
            sums.push(started.elapsed());
        }
        sums.sort();
        let view = prestalink_server::dashboard::overview::load(
            &store,
            &connection,
            &params,
            NumberLocale::En,
            now,
        )
        .await?;
        println!(
            "| {engine} | {orders} | last {period} days | {grain} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            view.overview.orders,
            ms(times[times.len() / 2]),
            ms(sums[sums.len() / 2]),
            ms(*times.last().expect("runs")),
            size as f64 / 1024.0
        );
    }
    store.close().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    println!("| engine | orders in store | period | grain | orders in period | median ms | sums median ms | max ms | HTML KiB |");
    println!("|---|---:|---|---|---:|---:|---:|---:|---:|");
    for engine in &args.engines {
        run_engine(engine, &args).await?;
    }
    Ok(())
}
