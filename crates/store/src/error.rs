//! The one error type of the store.

use crate::query::QueryError;

/// Everything that can go wrong in the store, each variant saying what a person can do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or path could not be understood.
    #[error("invalid database location {location:?}: {reason}")]
    InvalidLocation {
        /// What was given.
        location: String,
        /// Why it was refused.
        reason: String,
    },
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("could not apply the database migrations: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// No master key is configured, so Webservice keys cannot be encrypted or decrypted.
    #[error(
        "no master key: set PRESTALINK_MASTER_KEY (32 bytes, hex or base64) or give a key file \
         path; PostgreSQL deployments must configure one explicitly"
    )]
    MasterKeyMissing,
    /// The master key given is malformed, or its file cannot be read or created.
    #[error("invalid master key ({source_desc}): {reason}")]
    MasterKeyInvalid {
        /// Where the key came from (environment variable or file path).
        source_desc: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored Webservice key was encrypted with another master key, or was tampered with.
    #[error(
        "cannot decrypt the Webservice key of connection {connection_id}: it was encrypted with \
         master key {stored_fingerprint}, the current master key is {current_fingerprint}"
    )]
    KeyDecryption {
        /// The connection whose key failed.
        connection_id: String,
        /// Fingerprint of the master key that encrypted it.
        stored_fingerprint: String,
        /// Fingerprint of the master key in use.
        current_fingerprint: String,
    },
    /// A row that must exist does not.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of thing (company, connection, sync run, job).
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A query given by an API client is invalid (see [`QueryError`] for the position).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// Paging parameters out of range.
    #[error("invalid paging: {0}")]
    Paging(String),
    /// A record field name that cannot be looked up (only letters, digits and `_`).
    #[error("'{0}' is not a record field name")]
    InvalidField(String),
    /// An overview period that ends before it starts.
    #[error("invalid period: {0}")]
    InvalidPeriod(String),
    /// Stored JSON could not be decoded (a bug or a manual edit of the database).
    #[error("stored JSON in {what} is invalid: {source}")]
    Json {
        /// Which column.
        what: &'static str,
        /// Decoder error.
        source: serde_json::Error,
    },
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
