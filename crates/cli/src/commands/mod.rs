//! One module per subcommand, and what they share (exit codes, help texts, TLS options).
pub mod api_key;
pub mod bench;
pub mod bench_store;
pub mod check;
pub mod completions;
pub mod demo;
pub mod exit;
pub mod export;
pub mod help;
pub mod progress_ui;
pub mod queue_args;
pub mod rotate_key;
pub mod serve;
pub mod simulate;
pub mod status;
pub mod sync;
pub mod tls;
pub mod worker;

use std::future::Future;
use std::process::ExitCode;

use prestalink_store::StoreError;

/// Runs a command's `work` on a new Tokio runtime (multi-threaded for long-running
/// processes, one thread otherwise); a runtime that cannot start is a failure, said once.
pub fn on_runtime(multi_thread: bool, work: impl Future<Output = ExitCode>) -> ExitCode {
    let built = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    match built {
        Ok(runtime) => runtime.block_on(work),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A database that could not be opened, as one line: errors that name the location already
/// are shown as they are, others get it in front.
pub fn open_error(db: &str, error: &StoreError) -> String {
    match error {
        StoreError::InvalidLocation { .. }
        | StoreError::DatabaseMissing { .. }
        | StoreError::CannotOpen { .. }
        | StoreError::ReadOnly { .. }
        | StoreError::Unreachable { .. }
        | StoreError::MasterKeyMissing
        | StoreError::MasterKeyInvalid { .. }
        | StoreError::MasterKeyMismatch { .. } => error.to_string(),
        other => format!("cannot open the database {db}: {other}"),
    }
}
