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
    /// A SQLite database that must exist (a reading command) does not.
    #[error(
        "the database {path} does not exist: check --db (or PRESTALINK_DB), or create it with \
         `prestalink sync --db {path} …`"
    )]
    DatabaseMissing {
        /// The path given.
        path: String,
    },
    /// SQLite cannot open or create the database file.
    #[error("cannot open the database {path}: {reason}; {fix}")]
    CannotOpen {
        /// The path given.
        path: String,
        /// What failed.
        reason: String,
        /// What to do.
        fix: String,
    },
    /// The SQLite file, or its directory, is read-only.
    #[error(
        "the database {path} is read-only: give yourself write access to the file and to its \
         directory (SQLite writes {path}-wal and {path}-shm next to it), or copy it somewhere \
         writable"
    )]
    ReadOnly {
        /// The path given.
        path: String,
    },
    /// The PostgreSQL server cannot be reached.
    #[error("cannot reach PostgreSQL at {address}: {reason}")]
    Unreachable {
        /// host:port.
        address: String,
        /// Why (connection refused, unknown host, …).
        reason: String,
    },
    /// No master key is configured, so Webservice keys cannot be encrypted or decrypted.
    #[error(
        "no master key: set PRESTALINK_MASTER_KEY to 32 random bytes as 64 hex digits or \
         base64 (e.g. `export PRESTALINK_MASTER_KEY=$(openssl rand -hex 32)`, and keep it: it \
         decrypts the stored Webservice keys). A SQLite database gets one in <database \
         file>.key automatically; PostgreSQL needs the variable"
    )]
    MasterKeyMissing,
    /// The master key given is not the one this database's secrets were encrypted with.
    #[error(
        "the master key {current_fingerprint} does not match this database (its secrets were \
         encrypted with master key {stored_fingerprint}): use the original key \
         (PRESTALINK_MASTER_KEY or the <database file>.key file), or re-encrypt deliberately \
         with `prestalink rotate-master-key`"
    )]
    MasterKeyMismatch {
        /// Fingerprint of the key the database was sealed with.
        stored_fingerprint: String,
        /// Fingerprint of the key given.
        current_fingerprint: String,
    },
    /// Another process is syncing this connection.
    #[error(
        "connection {connection_id} is being synced by another process ({owner}, lease until \
         {expires_at}); wait for it to finish, or use --wait"
    )]
    SyncInProgress {
        /// The connection.
        connection_id: String,
        /// Who holds the lease (host and process id).
        owner: String,
        /// When the lease ends unless renewed.
        expires_at: String,
    },
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

impl StoreError {
    /// Whether SQLite refused a write because the database file (or its directory) is
    /// read-only (SQLITE_READONLY, code 8, and its extended codes).
    pub fn is_read_only(&self) -> bool {
        match self {
            StoreError::ReadOnly { .. } => true,
            StoreError::Database(sqlx::Error::Database(e)) => e
                .code()
                .and_then(|c| c.parse::<u32>().ok())
                .is_some_and(|c| c & 0xff == 8),
            _ => false,
        }
    }
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
