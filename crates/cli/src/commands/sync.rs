//! `prestalink sync`: link a store (or reuse its connection) and bring its data up to date
//! in the database. Exit 0 when every data type completed, 4 when some failed (including
//! data types the key may not read), 3 when the store could not be reached or read, 6 when
//! another sync of the connection is running, 2 for bad arguments.

use std::process::ExitCode;
use std::time::Duration;

use prestalink_commerce::DataType;
use prestalink_mapping::ModuleRules;
use prestalink_pacing::{Caps, Pace};
use prestalink_store::{StoreError, StoreOptions};
use prestalink_sync::{sync_store, LinkError, SyncError, SyncOptions, SyncReport, SyncRequest};
use prestalink_webservice::diagnose::{DiagnoseOptions, DiagnosisCode};
use prestalink_webservice::Format;

use super::exit::{
    EXIT_BAD_ARGUMENTS, EXIT_FAILURE, EXIT_PARTIAL, EXIT_SYNC_IN_PROGRESS, EXIT_UNREADABLE,
};

/// Arguments of `prestalink sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The shop's address, as in the browser (e.g. https://shop.example.com).
    #[arg(long)]
    pub url: String,
    /// The Webservice key (back office: Advanced Parameters > Webservice).
    #[arg(long, env = "PRESTALINK_KEY", hide_env_values = true)]
    pub key: String,
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "PRESTALINK_DB",
        hide_env_values = true,
        default_value = "prestalink.db"
    )]
    pub db: String,
    /// Data types to sync, comma-separated (e.g. commerce-orders,commerce-customers); all by default.
    #[arg(long, value_delimiter = ',', value_parser = super::help::data_type_parser())]
    pub data_types: Vec<String>,
    /// Read everything again instead of only what changed.
    #[arg(long)]
    pub full: bool,
    /// Use the address the shop redirects to, after you checked it is your shop.
    #[arg(long)]
    pub accept_redirect: bool,
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
    /// How hard to read the shop: polite, balanced or max (see README, "Pacing").
    #[arg(long, default_value = "balanced")]
    pub pace: Pace,
    /// Never more requests in flight than this (1 to 256).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_concurrency: Option<u16>,
    /// Never more requests started per second than this (more than 0, at most 10000).
    #[arg(long, value_parser = super::help::positive_rate)]
    pub max_requests_per_second: Option<f64>,
    /// Never more records per page than this (1 to 100000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_page_size: Option<u32>,
    /// No pacing: exactly C requests in flight and pages of P records (id lists 5000),
    /// whatever the shop's latency (`CxP`, e.g. `2x500`; for comparing fixed settings with
    /// the pacer).
    #[arg(long, value_name = "CxP")]
    pub pinned: Option<prestalink_pacing::Pinned>,
    /// When another sync of the same connection is running, wait up to this many seconds
    /// for it to finish; 0 stops at once with exit code 6.
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub wait: u64,
    /// Add-on module rules (TOML): payment modules, order state rules, module resources
    /// to copy raw, extra fields (see README, "Add-on modules").
    #[arg(long, value_name = "FILE")]
    pub modules: Option<String>,
    /// Seconds to wait for each answer of the shop.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Threads for decoding, mapping and hashing (SQLite has its own). One is the lightest
    /// and as fast where the shop is the limit; more help a very large, fast shop read
    /// from a machine with cores to spare.
    #[arg(long, env = "PRESTALINK_THREADS", hide_env_values = true, default_value_t = 1,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: u16,
    /// Print one JSON object instead of progress bars and a summary.
    #[arg(long)]
    pub json: bool,
}

/// Runs `prestalink sync`.
pub fn run(args: SyncArgs) -> ExitCode {
    let data_types = match parse_data_types(&args.data_types) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_ARGUMENTS);
        }
    };
    let tls = match args.tls.resolve("sync") {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_ARGUMENTS);
        }
    };
    let rules = match &args.modules {
        None => ModuleRules::builtin(),
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| ModuleRules::from_toml(&text).map_err(|e| e.to_string()))
        {
            Ok(rules) => rules,
            Err(e) => {
                eprintln!("error: the module rules file {path} cannot be used: {e}");
                return ExitCode::from(EXIT_BAD_ARGUMENTS);
            }
        },
    };
    // One thread by default: a sync mostly waits for the shop, and SQLite runs on sqlx's
    // own threads. The multi-threaded runtime's hand-offs between workers cost more than
    // they overlap: on the bench's 2,000-order store it used 2.1 CPU s on cluster and 2.9
    // on laptop, one thread 1.6 and 2.2, with the same wall time (2.3 s on cluster) and
    // half the context switches. Where the reader's CPU is the limit (10,000 orders from
    // the simulator at time scale 0) one thread took ~5 % longer.
    let built = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(args.threads))
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let request = SyncRequest {
        url: args.url.clone(),
        key: args.key.clone(),
        diagnose: DiagnoseOptions {
            accept_redirect: args.accept_redirect,
            accept_invalid_certs: tls.insecure,
            extra_roots: tls.extra_roots,
            timeout: Duration::from_secs(args.timeout),
            public_only: false,
            reader: None,
            format: Format::Json,
        },
        options: SyncOptions {
            data_types,
            full: args.full,
            rules,
            lease_wait: Duration::from_secs(args.wait),
            ..SyncOptions::default()
        },
        pace: args.pace,
        caps: Caps {
            max_concurrency: args.max_concurrency.map(usize::from),
            max_requests_per_second: args.max_requests_per_second,
            max_page_size: args.max_page_size.map(|n| n as usize),
            pinned: args.pinned,
        },
    };
    runtime.block_on(sync(&args.db, &request, args.json))
}

/// Parses `--data-types` (empty = all).
pub fn parse_data_types(list: &[String]) -> Result<Vec<DataType>, String> {
    if list.is_empty() {
        return Ok(DataType::ALL.to_vec());
    }
    list.iter()
        .map(|name| name.trim().parse::<DataType>().map_err(|e| e.to_string()))
        .collect()
}

/// Opens the database, syncs and prints the outcome; returns the exit code.
pub async fn sync(db: &str, request: &SyncRequest, json: bool) -> ExitCode {
    // The master key is checked before anything is written (PostgreSQL has no key file).
    let options = StoreOptions {
        require_master_key: true,
        ..StoreOptions::default()
    };
    let store = match prestalink_store::Store::open_with(db, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", super::open_error(db, &e));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let ui = tokio::spawn(super::progress_ui::render(receiver, !json));
    let result = sync_store(&store, request, Some(sender)).await;
    let _ = ui.await;
    store.close().await;
    match result {
        Ok(linked) => {
            for warning in &linked.diagnosis.warnings {
                if !json {
                    eprintln!("warning: {}", warning.message);
                }
            }
            print_report(&linked.report, json);
            exit_code(&linked.report)
        }
        Err(LinkError::NotReadable(diagnosis)) => {
            if json {
                let out = serde_json::json!({
                    "connectionId": null,
                    "code": diagnosis.code,
                    "error": diagnosis.message,
                    "fix": diagnosis.fix,
                });
                println!("{out}");
            } else {
                eprintln!("error: {}", diagnosis.message);
                if let Some(fix) = &diagnosis.fix {
                    eprintln!("fix: {fix}");
                }
            }
            match diagnosis.code {
                DiagnosisCode::InvalidUrl | DiagnosisCode::InvalidKeyFormat => {
                    ExitCode::from(EXIT_BAD_ARGUMENTS)
                }
                _ => ExitCode::from(EXIT_UNREADABLE),
            }
        }
        Err(LinkError::Sync(SyncError::Database(e @ StoreError::SyncInProgress { .. }))) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_SYNC_IN_PROGRESS)
        }
        Err(LinkError::Sync(SyncError::Database(e)) | LinkError::Database(e))
            if e.is_read_only() =>
        {
            let path = db
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            eprintln!(
                "error: {}",
                StoreError::ReadOnly {
                    path: path.to_string()
                }
            );
            ExitCode::from(EXIT_FAILURE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// 0 when every data type completed, 4 when some failed, 3 when nothing could be read.
pub fn exit_code(report: &SyncReport) -> ExitCode {
    if report.fatal.is_some() {
        ExitCode::from(EXIT_UNREADABLE)
    } else if report.all_completed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_PARTIAL)
    }
}

/// Prints the report as one JSON object (the report's own serialization: every data type
/// and resource, with the mapping failures' samples) or as a table.
pub fn print_report(report: &SyncReport, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string(report).expect("a sync report serializes")
        );
        return;
    }
    println!(
        "connection {}  run {}  {} requests in {:.1} s",
        report.connection_id, report.run_id, report.requests, report.seconds
    );
    let mut table = prestalink_bench::plain_table(
        &[
            "data type",
            "status",
            "records",
            "written",
            "deleted",
            "requests",
        ],
        &[2, 3, 4, 5],
    );
    for (name, d) in &report.data_types {
        table.add_row(vec![
            name.clone(),
            d.status.to_string(),
            d.records.to_string(),
            d.written.to_string(),
            d.deleted.to_string(),
            d.requests.to_string(),
        ]);
    }
    println!("{}", table.trim_fmt());
    for (name, d) in &report.data_types {
        if let Some(error) = &d.error {
            println!("{name}: {error}");
        }
        if d.mapping_failures > 0 {
            println!(
                "{name}: {} source records could not be mapped:",
                d.mapping_failures
            );
            for failure in &d.mapping_failure_samples {
                println!(
                    "  {} {}: {}",
                    failure.resource,
                    failure.raw_id.as_deref().unwrap_or("?"),
                    failure.reason
                );
            }
        }
    }
    if let Some(fatal) = &report.fatal {
        println!("the store could not be read: {fatal}");
    }
}
