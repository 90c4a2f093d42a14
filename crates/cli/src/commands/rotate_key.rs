//! `prestalink rotate-master-key`: re-encrypts the database's secrets (Webservice keys,
//! webhook secrets) under a new master key, deliberately. A different master key given by
//! mistake is refused at open ("does not match this database"), never used to re-encrypt.

use std::path::PathBuf;
use std::process::ExitCode;

use prestalink_store::{MasterKey, Store, StoreError, StoreOptions};

use super::exit::{EXIT_FAILURE, EXIT_NOT_FOUND};

/// Arguments of `prestalink rotate-master-key`.
#[derive(Debug, clap::Args)]
pub struct RotateKeyArgs {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "PRESTALINK_DB",
        hide_env_values = true,
        default_value = "prestalink.db"
    )]
    pub db: String,
    /// The new master key's file (64 hex digits or base64 of 32 bytes); created with a
    /// random key (mode 0600) if it does not exist. The current key is the usual one:
    /// PRESTALINK_MASTER_KEY, or the SQLite database's <file>.key.
    #[arg(long, value_name = "FILE")]
    pub new_key_file: PathBuf,
}

/// Runs `prestalink rotate-master-key`.
pub fn run(args: RotateKeyArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(rotate(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", super::open_error(&args.db, &e));
            ExitCode::from(match e {
                StoreError::DatabaseMissing { .. } => EXIT_NOT_FOUND,
                _ => EXIT_FAILURE,
            })
        }
    }
}

async fn rotate(args: &RotateKeyArgs) -> Result<(), StoreError> {
    let options = StoreOptions {
        must_exist: true,
        require_master_key: true,
        ..StoreOptions::default()
    };
    let store = Store::open_with(&args.db, options).await?;
    let new = MasterKey::load_or_create_file(&args.new_key_file)?;
    let old = store
        .master_key_fingerprint()
        .unwrap_or_default()
        .to_string();
    if new.fingerprint() == old {
        eprintln!("the database is already encrypted with master key {old}; nothing to do");
        return Ok(());
    }
    let rotation = store.rotate_master_key(&new).await?;
    let key_file = store.master_key_file().map(std::path::Path::to_path_buf);
    store.close().await;
    eprintln!(
        "re-encrypted {} Webservice key(s) and {} webhook secret(s): master key {old} -> {}",
        rotation.connection_keys,
        rotation.webhook_secrets,
        new.fingerprint()
    );
    match key_file {
        // The database's own key file: it now holds the new key.
        Some(path) => {
            let text = std::fs::read_to_string(&args.new_key_file).map_err(|e| {
                StoreError::MasterKeyInvalid {
                    source_desc: format!("key file {}", args.new_key_file.display()),
                    reason: e.to_string(),
                }
            })?;
            MasterKey::replace_file(&path, &text)?;
            eprintln!("{} now holds the new master key", path.display());
        }
        None => eprintln!(
            "from now on set PRESTALINK_MASTER_KEY to the key in {} (the old key no longer \
             opens this database)",
            args.new_key_file.display()
        ),
    }
    Ok(())
}
