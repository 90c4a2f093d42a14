//! `prestalink bench`: reads simulated shops of each capacity profile with prestalink's paces
//! and with two fixed baselines, and prints wall time against the capacity bound T*,
//! storefront latency, CPU and memory, and the targets met or missed
//! (`prestalink_bench`). With `--store`, the same measurement against a real shop (which it
//! loads); with `--calibrate`, that shop's page times and throughput next to a simulated
//! profile's. Exit 0 when every run finished, 1 otherwise.

use std::process::ExitCode;
use std::time::Duration;

use prestalink_bench::{
    read_store, sync_resources, table, targets, targets_line, BenchConfig, Reader,
};
use prestalink_simulator::capacity::Profile;

/// Arguments of `prestalink bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Capacity profile: laptop, shared-hosting, vps, dedicated, cluster, or all.
    #[arg(long, default_value = "all")]
    pub profile: String,
    /// Orders in the simulated store (customers = orders / 4, products = orders / 20).
    #[arg(long, default_value_t = 2000)]
    pub orders: u32,
    /// Readers, comma-separated (balanced, polite, max, fixed-1x50, fixed-rate); by default
    /// balanced, polite, the baselines, and max on cluster (with --store: balanced, polite,
    /// max).
    #[arg(long, value_delimiter = ',')]
    pub readers: Vec<String>,
    /// Multiplies the simulated shop's service times (and the baselines' request rate).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Storefront load as a fraction of the shop's workers.
    #[arg(long, default_value_t = 0.2)]
    pub shopper_load: f64,
    /// Seconds the idle storefront is measured per profile (default: about 150 visits, 2-20 s;
    /// with --store, 20 s).
    #[arg(long)]
    pub idle_seconds: Option<f64>,
    /// Seed of the simulated store and shoppers.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print one JSON object per run (and one per profile's targets) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Keep each reader's standard error in DIR/<profile>-<reader>.log; with
    /// PRESTALINK_LOG=prestalink_pacing=debug it shows every pacing decision.
    #[arg(long, value_name = "DIR")]
    pub logs: Option<std::path::PathBuf>,
    /// A real shop to measure instead of simulated ones: its URL (needs --key). This LOADS
    /// THE SHOP: every reader reads it in full while its storefront is probed.
    #[arg(
        long,
        value_name = "URL",
        requires = "key",
        conflicts_with = "reader_child"
    )]
    pub store: Option<String>,
    /// The Webservice key of --store (read access to what the readers read).
    #[arg(long)]
    pub key: Option<String>,
    /// Storefront pages of --store to probe, comma-separated (default: its home page).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "URL[,URL…]",
        requires = "store"
    )]
    pub storefront: Vec<String>,
    /// Storefront visits per second during --store runs (Poisson arrivals); 0 runs the
    /// readers with no storefront load (their wall time and the shop's CPU alone).
    #[arg(long, default_value_t = 2.0)]
    pub probe_rate: f64,
    /// Data types the --store prestalink readers sync, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', requires = "store")]
    pub data_types: Vec<String>,
    /// With --store: measure the shop's page times at 1 request in flight and its throughput
    /// at 1, 2, 4 and 8 in flight, then the same on a simulator of --profile (laptop when
    /// all) with as many orders, customers and products, and print them side by side.
    #[arg(long, requires = "store")]
    pub calibrate: bool,
    /// Internal: run one baseline reader against --url/--key and print what it received.
    #[arg(long, hide = true, requires_all = ["url", "key"])]
    pub reader_child: Option<String>,
    /// Internal (with --reader-child): the store URL.
    #[arg(long, hide = true)]
    pub url: Option<String>,
}

/// Runs `prestalink bench`.
pub fn run(args: BenchArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(reader) = &args.reader_child {
        return runtime.block_on(reader_child(reader, &args));
    }
    if let Some(store) = &args.store {
        let result = if args.calibrate {
            runtime.block_on(super::bench_store::calibrate(store, &args))
        } else {
            runtime.block_on(super::bench_store::real_shop(store, &args))
        };
        return match result {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::exit::EXIT_BAD_ARGUMENTS);
        }
    };
    if !args.json {
        println!(
            "prestalink bench: {} orders, time scale {}, shopper load {:.0} %",
            config.orders,
            config.time_scale,
            config.shopper_load * 100.0,
        );
    }
    let json = args.json;
    let result = runtime.block_on(prestalink_bench::run(&config, |row| {
        if json {
            println!("{}", serde_json::to_string(row).expect("serializes"));
        } else {
            eprintln!(
                "  {} / {}: {:.1} s, wall/T* {:.2}, inflation {:.2}",
                row.profile, row.reader, row.wall_seconds, row.wall_over_t_star, row.inflation_p95
            );
        }
    }));
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if !json {
        print!("\n{}", table(&rows));
    }
    for profile in &config.profiles {
        let t = targets(profile.name(), &rows);
        if json {
            let out = serde_json::json!({ "profile": profile.name(), "targets": t });
            println!("{out}");
        } else {
            println!("{}", targets_line(profile.name(), &t));
        }
    }
    if !json {
        for row in rows.iter().filter(|r| r.note.is_some()) {
            println!(
                "note {} / {}: {}",
                row.profile,
                row.reader,
                row.note.as_deref().unwrap_or_default()
            );
        }
    }
    if rows.iter().all(|r| r.completed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn config(args: &BenchArgs) -> Result<BenchConfig, String> {
    let profiles = if args.profile == "all" {
        Profile::ALL.to_vec()
    } else {
        args.profile
            .split(',')
            .map(|p| p.trim().parse::<Profile>())
            .collect::<Result<_, _>>()?
    };
    let readers = if args.readers.is_empty() {
        None
    } else {
        Some(
            args.readers
                .iter()
                .map(|r| r.parse::<Reader>())
                .collect::<Result<_, _>>()?,
        )
    };
    if args.time_scale.is_nan() || args.time_scale <= 0.0 {
        return Err("--time-scale must be above 0 (the storefront load needs it)".into());
    }
    if !(0.0..1.0).contains(&args.shopper_load) {
        return Err("--shopper-load must be in [0, 1)".into());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    Ok(BenchConfig {
        profiles,
        readers,
        orders: args.orders.max(1),
        time_scale: args.time_scale,
        shopper_load: args.shopper_load,
        idle: args
            .idle_seconds
            .map(|s| Duration::from_secs_f64(s.max(0.5))),
        seed: args.seed,
        exe,
        logs: args.logs.clone(),
    })
}

/// The hidden child mode: one baseline read, its result as JSON on standard output.
async fn reader_child(reader: &str, args: &BenchArgs) -> ExitCode {
    let baseline = match reader.parse::<Reader>().ok().and_then(Reader::baseline) {
        Some(b) => b,
        None => {
            eprintln!("error: {reader} is not a baseline reader");
            return ExitCode::from(super::exit::EXIT_BAD_ARGUMENTS);
        }
    };
    let url = args.url.as_deref().unwrap_or_default();
    let key = args.key.as_deref().unwrap_or_default();
    match read_store(url, key, &sync_resources(), baseline, args.time_scale).await {
        Ok(received) => {
            println!("{}", serde_json::to_string(&received).expect("serializes"));
            if received.fatal.is_some() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
