//! `prestalink api-key create|list|revoke`: the keys of the REST API. A key is shown once, at
//! creation; the database keeps its SHA-256 hash only.

use std::process::ExitCode;

use chrono::Utc;

/// Arguments of `prestalink api-key`.
#[derive(Debug, clap::Args)]
pub struct ApiKeyArgs {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "PRESTALINK_DB",
        hide_env_values = true,
        default_value = "prestalink.db",
        global = true
    )]
    pub db: String,
    #[command(subcommand)]
    pub action: Action,
}

/// What to do with API keys.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a key and print it (it is shown only this once).
    Create {
        /// What the key is for (shown by `list`).
        #[arg(long, default_value = "default")]
        name: String,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id: requests with it are refused within a second.
    Revoke {
        /// The key's id, as `list` shows it.
        id: String,
    },
}

/// Runs `prestalink api-key`.
pub fn run(args: ApiKeyArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let store = match prestalink_store::Store::open(&args.db).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {}", super::open_error(&args.db, &e));
                return ExitCode::FAILURE;
            }
        };
        let code = match args.action {
            Action::Create { name } => match store.create_api_key(&name, Utc::now()).await {
                Ok((info, key)) => {
                    eprintln!(
                        "API key {} ({}) created; it is shown only once:",
                        info.id, info.name
                    );
                    println!("{key}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            },
            Action::List => match store.list_api_keys().await {
                Ok(keys) => {
                    let mut table = prestalink_bench::plain_table(
                        &["id", "name", "ends", "created", "revoked"],
                        &[],
                    );
                    for k in keys {
                        table.add_row(vec![
                            k.id,
                            k.name,
                            k.hint,
                            k.created_at,
                            k.revoked_at.unwrap_or_else(|| "-".into()),
                        ]);
                    }
                    println!("{}", table.trim_fmt());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            },
            Action::Revoke { id } => match store.revoke_api_key(&id, Utc::now()).await {
                Ok(true) => {
                    println!("revoked {id}");
                    ExitCode::SUCCESS
                }
                Ok(false) => {
                    eprintln!(
                        "error: no active API key with id {id} (see `prestalink api-key list`)"
                    );
                    ExitCode::from(2)
                }
                Err(e) => fail(e),
            },
        };
        store.close().await;
        code
    })
}

fn fail(e: prestalink_store::StoreError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
