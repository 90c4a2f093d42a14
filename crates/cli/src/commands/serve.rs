//! `prestalink serve`: the REST API (Codat-shaped), the scheduler and the sync workers, on
//! the store, until Ctrl-C or SIGTERM (graceful: requests finish, a running sync stops at a
//! checkpoint and returns to the queue).

use std::net::SocketAddr;
use std::process::ExitCode;

use prestalink_pacing::Pace;
use prestalink_server::ServerConfig;

/// Arguments of `prestalink serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "PRESTALINK_DB",
        hide_env_values = true,
        default_value = "prestalink.db"
    )]
    pub db: String,
    /// Address and port to listen on.
    #[arg(long, env = "PRESTALINK_LISTEN", default_value = "127.0.0.1:8800")]
    pub listen: SocketAddr,
    /// The address clients reach the server at, for the links it returns (default: http://LISTEN).
    #[arg(long, env = "PRESTALINK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Let API clients link stores on loopback, private or link-local addresses. Only for
    /// self-hosted setups where every API user is trusted.
    #[arg(long)]
    pub allow_private_stores: bool,
    /// Let webhooks be sent to loopback or private addresses.
    #[arg(long)]
    pub allow_private_webhooks: bool,
    /// Sync workers in this process (1 to 64; --no-workers for none).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=64))]
    pub workers: u8,
    /// Serve the API only: no sync workers in this process.
    #[arg(long)]
    pub no_workers: bool,
    /// How hard syncs read the shops: polite, balanced or max.
    #[arg(long, default_value = "balanced")]
    pub pace: Pace,
    #[command(flatten)]
    pub queue: super::queue_args::QueueArgs,
}

/// Runs `prestalink serve`.
pub fn run(args: ServeArgs) -> ExitCode {
    super::on_runtime(true, serve(args))
}

async fn serve(args: ServeArgs) -> ExitCode {
    let store = match prestalink_store::Store::open(&args.db).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", super::open_error(&args.db, &e));
            return ExitCode::FAILURE;
        }
    };
    let config = args.queue.apply(ServerConfig {
        listen: args.listen,
        public_url: args.public_url,
        allow_private_stores: args.allow_private_stores,
        allow_private_webhooks: args.allow_private_webhooks,
        workers: if args.no_workers {
            0
        } else {
            usize::from(args.workers)
        },
        pace: args.pace,
        ..ServerConfig::default()
    });
    let keys = store.list_api_keys().await.unwrap_or_default();
    let server = match prestalink_server::start(store, config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "prestalink API on {} (database {})",
        server.base_url(),
        args.db
    );
    if keys.iter().all(|k| k.revoked_at.is_some()) {
        println!(
            "No API key yet: create one with `prestalink api-key create --db {} --name NAME`",
            args.db
        );
    }
    server.run_until_signal().await;
    println!("stopped");
    ExitCode::SUCCESS
}
