//! `prestalink`: the command-line entry point. Each subcommand lives in `commands/` and only
//! parses arguments, calls the library crates and formats their results.

use clap::{CommandFactory, Parser, Subcommand};

mod commands;

use commands::exit::{
    EXIT_BAD_ARGUMENTS as BAD, EXIT_FAILURE as FAIL, EXIT_MISSING_DATA_TYPES as MISSING,
    EXIT_NOT_FOUND as NOT_FOUND, EXIT_PARTIAL as PARTIAL, EXIT_SUCCESS as OK,
    EXIT_SYNC_IN_PROGRESS as BUSY, EXIT_UNREADABLE as UNREADABLE,
};
use commands::help::after_help;

/// mimalloc instead of glibc's allocator: a sync allocates and frees many small strings
/// (decoded fields, JSON text), and glibc's malloc/free took ~30 % of a sync's CPU
/// (`perf`, 10,000-order store); mimalloc halves that cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Connect to a PrestaShop store through its Webservice, read its commerce data into a
/// unified model and keep it current.
#[derive(Parser)]
#[command(name = "prestalink", version, about,
          after_help = after_help(&[OK, FAIL, BAD, UNREADABLE, PARTIAL, MISSING, BUSY, NOT_FOUND],
              &["PRESTALINK_DB", "PRESTALINK_MASTER_KEY", "PRESTALINK_KEY", "PRESTALINK_LOG",
                "PRESTALINK_THREADS", "SSL_CERT_FILE"], true))]
struct Cli {
    /// Format of the diagnostics `PRESTALINK_LOG` turns on: `text`, or `json` (one object a
    /// line, with the span fields: a sync's connection, job and run id on every line).
    #[arg(long, global = true, env = "PRESTALINK_LOG_FORMAT", default_value = "text",
          value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe a store (URL + Webservice key) and say what works, what does not, and how to fix it.
    #[command(after_help = after_help(&[OK, BAD, UNREADABLE, MISSING],
        &["PRESTALINK_KEY", "PRESTALINK_LOG", "SSL_CERT_FILE"], true))]
    Check(commands::check::CheckArgs),
    /// Link a store (URL + Webservice key) and bring its data up to date in the database.
    #[command(after_help = after_help(&[OK, FAIL, BAD, UNREADABLE, PARTIAL, BUSY],
        &["PRESTALINK_DB", "PRESTALINK_MASTER_KEY", "PRESTALINK_KEY", "PRESTALINK_LOG",
          "PRESTALINK_THREADS", "SSL_CERT_FILE"], true))]
    Sync(Box<commands::sync::SyncArgs>),
    /// Write the commerce records of one data type (JSON lines, JSON or CSV).
    #[command(after_help = after_help(&[OK, FAIL, BAD, NOT_FOUND],
        &["PRESTALINK_DB", "PRESTALINK_LOG"], true))]
    Export(commands::export::ExportArgs),
    /// Serve the REST API (Codat-shaped) with its scheduler and sync workers until Ctrl-C.
    #[command(after_help = after_help(&[OK, FAIL],
        &["PRESTALINK_DB", "PRESTALINK_MASTER_KEY", "PRESTALINK_LOG"], true))]
    Serve(Box<commands::serve::ServeArgs>),
    /// Run sync workers and the scheduler on a shared database, without the API (scale-out).
    #[command(after_help = after_help(&[OK, FAIL],
        &["PRESTALINK_DB", "PRESTALINK_MASTER_KEY", "PRESTALINK_LOG"], true))]
    Worker(Box<commands::worker::WorkerArgs>),
    /// Show the job queue, the process running the scheduler and the jobs being run.
    #[command(after_help = after_help(&[OK, FAIL],
        &["PRESTALINK_DB", "PRESTALINK_LOG"], false))]
    Status(commands::status::StatusArgs),
    /// Create, list or revoke API keys of the REST API.
    #[command(after_help = after_help(&[OK, FAIL, BAD],
        &["PRESTALINK_DB", "PRESTALINK_MASTER_KEY", "PRESTALINK_LOG"], false))]
    ApiKey(commands::api_key::ApiKeyArgs),
    /// Re-encrypt the stored Webservice keys and webhook secrets under a new master key.
    #[command(after_help = after_help(&[OK, FAIL, BAD, NOT_FOUND],
        &["PRESTALINK_DB", "PRESTALINK_MASTER_KEY", "PRESTALINK_LOG"], false))]
    RotateMasterKey(commands::rotate_key::RotateKeyArgs),
    /// Start a simulated store, sync it into a SQLite file, change it, sync again.
    #[command(after_help = after_help(&[OK, FAIL, BAD],
        &["PRESTALINK_LOG"], true))]
    Demo(commands::demo::DemoArgs),
    /// Serve a simulated PrestaShop store (Webservice, hosting faults, capacity) until Ctrl-C.
    #[command(after_help = after_help(&[OK, FAIL, BAD], &["PRESTALINK_LOG"], false))]
    Simulate(Box<commands::simulate::SimulateArgs>),
    /// Benchmark reading simulated shops of each capacity profile against fixed baselines.
    #[command(after_help = after_help(&[OK, FAIL, BAD], &["PRESTALINK_LOG"], false))]
    Bench(Box<commands::bench::BenchArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = after_help(&[OK, BAD], &[], false))]
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page (or write one per command into a directory).
    #[command(after_help = after_help(&[OK, FAIL, BAD, NOT_FOUND], &[], false))]
    Man(commands::completions::ManArgs),
}

/// Diagnostics on standard error when `PRESTALINK_LOG` is set, with `RUST_LOG`'s syntax
/// (`PRESTALINK_LOG=prestalink_pacing=debug` shows every pacing decision). Off by default:
/// the commands' own output is what a user reads.
fn init_logging(format: &str) {
    let Ok(spec) = std::env::var("PRESTALINK_LOG") else {
        return;
    };
    match tracing_subscriber::EnvFilter::try_new(&spec) {
        Ok(filter) if format == "json" => {
            let _ = tracing_subscriber::fmt()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init();
        }
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
    let cli = Cli::parse();
    init_logging(&cli.log_format);
    match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Sync(args) => commands::sync::run(*args),
        Command::Export(args) => commands::export::run(args),
        Command::Serve(args) => commands::serve::run(*args),
        Command::Worker(args) => commands::worker::run(*args),
        Command::Status(args) => commands::status::run(args),
        Command::ApiKey(args) => commands::api_key::run(args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Simulate(args) => commands::simulate::run(*args),
        Command::Bench(args) => commands::bench::run(*args),
        Command::RotateMasterKey(args) => commands::rotate_key::run(args),
        Command::Completions(args) => commands::completions::completions(args, Cli::command()),
        Command::Man(args) => commands::completions::man(args, Cli::command()),
    }
}
