//! `prestalink`: the command-line entry point. Each subcommand lives in `commands/` and only
//! parses arguments, calls the library crates and formats their results.

use clap::{Parser, Subcommand};

mod commands;

/// mimalloc instead of glibc's allocator: a sync allocates and frees many small strings
/// (decoded fields, JSON text), and glibc's malloc/free took ~30 % of a sync's CPU
/// (`perf`, 10,000-order store); mimalloc halves that cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connect to a PrestaShop store through its Webservice, read its commerce data into a
/// unified model and keep it current.
#[derive(Parser)]
#[command(name = "prestalink", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe a store (URL + Webservice key) and say what works, what does not, and how to fix it.
    Check(commands::check::CheckArgs),
    /// Link a store (URL + Webservice key) and bring its data up to date in the database.
    Sync(Box<commands::sync::SyncArgs>),
    /// Write the commerce records of one data type (JSON lines, JSON or CSV).
    Export(commands::export::ExportArgs),
    /// Serve the REST API (Codat-shaped) with its scheduler and sync workers until Ctrl-C.
    Serve(Box<commands::serve::ServeArgs>),
    /// Create, list or revoke API keys of the REST API.
    ApiKey(commands::api_key::ApiKeyArgs),
    /// Start a simulated store, sync it into a SQLite file, change it, sync again.
    Demo(commands::demo::DemoArgs),
    /// Serve a simulated PrestaShop store (Webservice, hosting faults, capacity) until Ctrl-C.
    Simulate(Box<commands::simulate::SimulateArgs>),
    /// Benchmark reading simulated shops of each capacity profile against fixed baselines.
    Bench(Box<commands::bench::BenchArgs>),
}

/// Diagnostics on standard error when `PRESTALINK_LOG` is set, with `RUST_LOG`'s syntax
/// (`PRESTALINK_LOG=prestalink_pacing=debug` shows every pacing decision). Off by default:
/// the commands' own output is what a user reads.
fn init_logging() {
    let Ok(spec) = std::env::var("PRESTALINK_LOG") else {
        return;
    };
    match tracing_subscriber::EnvFilter::try_new(&spec) {
        Ok(filter) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .try_init();
        }
        Err(e) => eprintln!(
            "warning: PRESTALINK_LOG={spec:?} is not a valid filter ({e}); logging is off"
        ),
    }
}

fn main() -> std::process::ExitCode {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Sync(args) => commands::sync::run(*args),
        Command::Export(args) => commands::export::run(args),
        Command::Serve(args) => commands::serve::run(*args),
        Command::ApiKey(args) => commands::api_key::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Simulate(args) => commands::simulate::run(*args),
        Command::Bench(args) => commands::bench::run(*args),
    }
}
