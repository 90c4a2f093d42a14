//! `prestalink worker`: sync workers and the scheduler on a shared database, without the
//! API: run any number of them, on any number of machines, against one PostgreSQL (the
//! scale-out deployment; see the README's "Scale out" section). Its listener answers only
//! `/healthz` and `/metrics`. Stops gracefully on Ctrl-C or SIGTERM: a running sync stops
//! at its last checkpoint and its job returns to the queue, the scheduler role is released.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use prestalink_pacing::Pace;
use prestalink_server::ServerConfig;

/// Arguments of `prestalink worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Database: a postgres:// URL shared with the other workers and `serve` replicas (a
    /// SQLite file works for one process, as `serve` does).
    #[arg(long, env = "PRESTALINK_DB", hide_env_values = true)]
    pub db: String,
    /// Where `/healthz` and `/metrics` are served (no API key: keep it private).
    #[arg(
        long,
        env = "PRESTALINK_WORKER_LISTEN",
        default_value = "127.0.0.1:8801"
    )]
    pub listen: SocketAddr,
    /// Syncs this process runs at once (1 to 64).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub workers: u8,
    /// How long a claimed job is held without renewal (seconds): a worker that dies loses
    /// its jobs to the others after this long. Renewed every third of it.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub lease: u64,
    /// How often the scheduler looks for due syncs (seconds).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub scheduler_tick: u64,
    /// Read stores on loopback, private or link-local addresses. Only for self-hosted setups
    /// where every API user is trusted.
    #[arg(long)]
    pub allow_private_stores: bool,
    /// Let webhooks be sent to loopback or private addresses.
    #[arg(long)]
    pub allow_private_webhooks: bool,
    /// Database connections this process opens at most (PostgreSQL's `max_connections`,
    /// 100 by default, is shared by every worker and `serve` replica).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..=256))]
    pub db_pool: u32,
    /// How hard syncs read the shops: polite, balanced or max.
    #[arg(long, default_value = "balanced")]
    pub pace: Pace,
    #[command(flatten)]
    pub queue: super::queue_args::QueueArgs,
}

/// Runs `prestalink worker`.
pub fn run(args: WorkerArgs) -> ExitCode {
    super::on_runtime(true, work(args))
}

async fn work(args: WorkerArgs) -> ExitCode {
    let options = prestalink_store::StoreOptions {
        max_connections: Some(args.db_pool),
        max_read_connections: Some(2),
        ..prestalink_store::StoreOptions::default()
    };
    let store = match prestalink_store::Store::open_with(&args.db, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", super::open_error(&args.db, &e));
            return ExitCode::FAILURE;
        }
    };
    let config = args.queue.apply(ServerConfig {
        listen: args.listen,
        api: false,
        allow_private_stores: args.allow_private_stores,
        allow_private_webhooks: args.allow_private_webhooks,
        workers: usize::from(args.workers),
        lease: Duration::from_secs(args.lease),
        scheduler_tick: Duration::from_secs(args.scheduler_tick),
        pace: args.pace,
        ..ServerConfig::default()
    });
    let server = match prestalink_server::start(store, config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "prestalink worker ({} syncs at once, {}): metrics on {}/metrics",
        args.workers,
        server.state().process_id,
        server.base_url()
    );
    server.run_until_signal().await;
    println!("stopped");
    ExitCode::SUCCESS
}
