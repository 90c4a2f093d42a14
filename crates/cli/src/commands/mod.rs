//! One module per subcommand, and what they share (exit codes, help texts, TLS options).
pub mod api_key;
pub mod bench;
pub mod check;
pub mod completions;
pub mod demo;
pub mod exit;
pub mod export;
pub mod help;
pub mod progress_ui;
pub mod rotate_key;
pub mod serve;
pub mod simulate;
pub mod status;
pub mod sync;
pub mod tls;
pub mod worker;

use prestalink_store::StoreError;

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
