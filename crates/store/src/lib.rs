//! Storage for prestalink: one schema on SQLite (the embedded default: one file, WAL) and on
//! PostgreSQL (many stores, many workers).
//!
//! The store keeps companies and connections (Webservice keys encrypted with AES-256-GCM),
//! raw PrestaShop records and mapped commerce records (each with a content hash so that a
//! record is written only when it changed), per-resource checkpoints, sync runs and data
//! status, and a job queue for workers. It answers the API's paged queries with the Codat
//! query language compiled to SQL. It knows nothing about HTTP or PrestaShop.
//!
//! Entry point: [`Store::open`].

mod api_keys;
mod checkpoints;
mod connections;
pub mod crypto;
mod datasets;
mod error;
mod hash;
mod jobs;
mod key_check;
pub mod overview;
mod paging;
pub mod query;
mod raw_links;
mod record_pages;
mod records;
mod retention;
mod runs;
mod settings;
mod sync_leases;
mod time;
mod webhooks;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, PgPool, SqlitePool};

pub use api_keys::{api_key_hash, ApiKeyInfo};
pub use checkpoints::Checkpoint;
pub use connections::{Company, Connection, ConnectionOwner, ConnectionStatus};
pub use crypto::{MasterKey, MasterKeySource, MASTER_KEY_ENV};
pub use datasets::{ConnectionError, Dataset, DatasetUpdate, DATASET_ACTIVE};
pub use error::{Result, StoreError};
pub use hash::content_hash;
pub use jobs::{host_key, Job, JobStatus, QueueStats, SyncFailures};
pub use key_check::Rotation;
pub use overview::{Grain, Overview, Period, ShopBasics};
pub use paging::{JsonPage, JsonTable};
pub use query::{Dialect, Page, Query, QueryError, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use raw_links::{RawHash, RawKey};
pub use record_pages::{PageFreshness, RecordsPage};
pub use records::{
    CommerceRecord, EncodedRaw, PageWrite, PageWriteStats, RawPages, RawRecord, RecordSet,
    StoredRaw, StoredRecord, UpsertStats,
};
pub use retention::Pruned;
pub use runs::{DataStatus, SyncCounts, SyncRun, SyncStatus, INTERRUPTED};
pub use settings::{Profile, SyncSetting, PROFILE_SCOPE};
pub use sync_leases::SyncLease;
pub use time::format_timestamp;
pub use webhooks::{
    WebhookAttempt, WebhookConsumer, WebhookDelivery, WebhookOutcome, WEBHOOK_DELIVERED,
    WEBHOOK_FAILED, WEBHOOK_PENDING,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How to open a store beyond its location.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    /// Where the master key for Webservice keys comes from.
    pub master_key: MasterKeySource,
    /// Pool size; defaults to 4 on SQLite (one writer at a time anyway) and 10 on PostgreSQL.
    pub max_connections: Option<u32>,
    /// Size of the separate pool that serves the API's record pages (opened lazily; default
    /// 4). Syncs hold the main pool's connections for whole page transactions; pages read
    /// from a pool of their own do not queue behind them.
    pub max_read_connections: Option<u32>,
    /// PostgreSQL only: use (and create if missing) this schema instead of `public`. Lets
    /// several prestalink instances, or parallel tests, share one database.
    pub postgres_schema: Option<String>,
    /// Open only a database that exists (commands that read, like `export`): a missing
    /// SQLite file is [`StoreError::DatabaseMissing`] instead of a new, empty database.
    pub must_exist: bool,
    /// Refuse to open without a master key ([`StoreError::MasterKeyMissing`]), checked before
    /// anything is written: for commands that store Webservice keys (`sync`, `serve`).
    pub require_master_key: bool,
}

/// The database schemes `--db` accepts, for messages.
pub const SUPPORTED_LOCATIONS: &str =
    "a SQLite file path (e.g. prestalink.db), sqlite://PATH, or postgres://USER@HOST:PORT/DATABASE";

/// The database behind a store.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code on whichever pool the store has; `$pool` is bound to it.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// A handle on the database; cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
    /// The API's record pages read through this pool (record_pages.rs): on a file database
    /// or PostgreSQL a second pool on the same database, so that a sync holding the main
    /// pool's connections does not make pages wait; an in-memory SQLite database has only
    /// `db`.
    pub(crate) reads: Db,
    pub(crate) master_key: Option<MasterKey>,
    /// Ordered keys of the API's record queries (record_pages.rs), shared by the clones.
    pub(crate) key_lists: std::sync::Arc<record_pages::KeyLists>,
}

/// Bytes of a SQLite file its read connections map into memory (SQLite caps it at 2 GiB).
const SQLITE_READ_MMAP: u64 = 2 << 30;

impl Store {
    /// Opens (creating if needed) a store and applies migrations: `postgres://…` or
    /// `postgresql://…` is PostgreSQL; `sqlite://…`, `sqlite:…` or a plain file path is SQLite.
    pub async fn open(url_or_path: &str) -> Result<Store> {
        Self::open_with(url_or_path, StoreOptions::default()).await
    }

    /// [`Store::open`] with explicit options.
    pub async fn open_with(url_or_path: &str, options: StoreOptions) -> Result<Store> {
        if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
            Self::open_postgres(url_or_path, options).await
        } else if let Some(scheme) = foreign_scheme(url_or_path) {
            Err(StoreError::InvalidLocation {
                location: redact_url(url_or_path),
                reason: format!(
                    "{scheme}:// is not a supported database; use {SUPPORTED_LOCATIONS}"
                ),
            })
        } else {
            Self::open_sqlite(url_or_path, options).await
        }
    }

    async fn open_sqlite(location: &str, options: StoreOptions) -> Result<Store> {
        let invalid = |reason: String| StoreError::InvalidLocation {
            location: location.to_string(),
            reason,
        };
        let (connect, file) = if location.starts_with("sqlite:") {
            let connect =
                SqliteConnectOptions::from_str(location).map_err(|e| invalid(e.to_string()))?;
            let in_memory = location.contains(":memory:") || location.contains("mode=memory");
            let file = (!in_memory).then(|| connect.get_filename().to_path_buf());
            (connect, file)
        } else if location.is_empty() {
            return Err(invalid("empty path".to_string()));
        } else {
            let path = PathBuf::from(location);
            (SqliteConnectOptions::new().filename(&path), Some(path))
        };
        let exists = match file.as_deref() {
            Some(path) => check_sqlite_path(path, options.must_exist)?,
            None => true,
        };
        // The master key before the database: nothing is created or written when it is
        // missing or malformed. Reading commands never create a key file.
        let master_key =
            MasterKey::resolve(&options.master_key, file.as_deref(), !options.must_exist)?;
        if options.require_master_key && master_key.is_none() {
            return Err(StoreError::MasterKeyMissing);
        }
        if let (Some(path), false) = (file.as_deref(), exists) {
            create_private_file(path)?;
        }
        let connect = connect
            .create_if_missing(!options.must_exist)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable against process crashes (kill -9) in WAL mode; only a power
            // loss can drop the last commits, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            // 32 KiB pages for new files (an existing file keeps its own): records are JSON
            // documents of 1-5 KB, which 4 KiB pages split into overflow chains. On the
            // bench's 2,000-order store a full sync made 222,000 system calls with 4 KiB
            // pages (65,000 page reads, 60,000 page writes) and 83,000 with 32 KiB (8,000
            // and 9,000); the file is 16 % smaller.
            .page_size(32768)
            // Statement journals (each multi-row upsert keeps one, to undo itself alone) in
            // memory: SQLite spills them to a temporary file past 64 KiB, two 32 KiB pages,
            // so most page writes of a sync went through a file (`subjournalPageIfRequired`
            // was 2.1 % of a 10,000-order sync's CPU under perf).
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(4))
            .connect_with(connect.clone())
            .await
            .map_err(|e| sqlite_error(e, location))?;
        SQLITE_MIGRATIONS.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(e) => sqlite_error(e, location),
            other => StoreError::Migration(other),
        })?;
        // Readers never write: `query_only` makes any attempt an error instead of a writer
        // lock taken behind the sync's back. They read the file through a memory map: an API
        // page of 100 orders (about 200 KB of records) was otherwise copied from the kernel's
        // page cache by `pread` (8 % of the API's CPU under wrk, perf) before SQLite read it.
        let reads = match file {
            Some(_) => SqlitePoolOptions::new()
                .max_connections(options.max_read_connections.unwrap_or(4))
                .connect_lazy_with(
                    connect
                        .create_if_missing(false)
                        .pragma("query_only", "ON")
                        .pragma("mmap_size", SQLITE_READ_MMAP.to_string()),
                ),
            None => pool.clone(),
        };
        let store = Store {
            db: Db::Sqlite(pool),
            reads: Db::Sqlite(reads),
            master_key,
            key_lists: Default::default(),
        };
        store.verify_master_key().await?;
        Ok(store)
    }

    async fn open_postgres(url: &str, options: StoreOptions) -> Result<Store> {
        let invalid = |reason: String| StoreError::InvalidLocation {
            location: redact_url(url),
            reason,
        };
        // Plan every statement for its parameters: a generic plan cached while a table was
        // still small keeps scanning it sequentially once it is large (seen as 60 ms instead
        // of 1 ms per page lookup).
        let master_key = MasterKey::resolve(&options.master_key, None, true)?;
        if options.require_master_key && master_key.is_none() {
            return Err(StoreError::MasterKeyMissing);
        }
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|e| invalid(e.to_string()))?
            .options([("plan_cache_mode", "force_custom_plan")])
            // A transaction left idle (a task holding one that is no longer polled, a driver
            // bug like the one `begin` works around) is ended by the server after 2 minutes
            // instead of holding its row locks until the process exits. Page writes go
            // from statement to statement in microseconds.
            .options([("idle_in_transaction_session_timeout", "120s")]);
        if let Some(schema) = &options.postgres_schema {
            let valid = !schema.is_empty()
                && schema.len() <= 63
                && schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && !schema.as_bytes()[0].is_ascii_digit();
            if !valid {
                return Err(invalid(format!(
                    "schema name {schema:?} must be lowercase letters, digits and '_'"
                )));
            }
        }
        // One direct connection first: a closed port or an unknown host fails at once with
        // its cause, where the pool would wait out its acquire timeout (30 s) and say only
        // that it timed out.
        let probe = sqlx::PgConnection::connect_with(&connect)
            .await
            .map_err(|e| postgres_unreachable(e, url))?;
        probe.close().await.ok();
        if let Some(schema) = &options.postgres_schema {
            let mut admin = sqlx::PgConnection::connect_with(&connect).await?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
            connect = connect.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(10))
            .connect_with(connect.clone())
            .await?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        let reads = PgPoolOptions::new()
            .max_connections(options.max_read_connections.unwrap_or(4))
            .connect_lazy_with(connect);
        let store = Store {
            db: Db::Postgres(pool),
            reads: Db::Postgres(reads),
            master_key,
            key_lists: Default::default(),
        };
        store.verify_master_key().await?;
        Ok(store)
    }

    /// Which engine this store runs on.
    pub fn dialect(&self) -> Dialect {
        match self.db {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        on_pool!(&self.reads, pool => pool.close().await);
        on_pool!(&self.db, pool => pool.close().await)
    }

    /// Refreshes the query planner's statistics (`VACUUM (ANALYZE)` of the records and `ANALYZE`
    /// of raw records on PostgreSQL, `PRAGMA optimize`
    /// on SQLite). Call after a large sync: right after a first load the planner still
    /// believes the tables are empty and sorts whole data types instead of reading an index.
    pub async fn refresh_statistics(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query("PRAGMA optimize=0x10002").execute(pool).await?;
            }
            Db::Postgres(pool) => {
                // VACUUM as well for the records the API pages through: it fills the
                // visibility map, without which a deep page was planned as a sequential scan
                // and a sort (page 900 of a 100,000-order store: 411 ms, 21 ms after).
                sqlx::query("VACUUM (ANALYZE) commerce_records")
                    .execute(pool)
                    .await?;
                sqlx::query("ANALYZE raw_records").execute(pool).await?;
                // The overview's rows (migration 0013) are summed from their covering
                // indexes, which needs the visibility map too (index-only scans).
                sqlx::query(
                    "VACUUM (ANALYZE) overview_orders, overview_lines, overview_money, \
                     overview_order_days, overview_money_days, overview_product_months, \
                     overview_customer_orders",
                )
                .execute(pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The key file the master key was read from (`None` when it came from
    /// `PRESTALINK_MASTER_KEY`, from bytes, or there is none).
    pub fn master_key_file(&self) -> Option<&std::path::Path> {
        self.master_key.as_ref().and_then(MasterKey::file)
    }

    /// Fingerprint of the master key in use, if any (safe to log).
    pub fn master_key_fingerprint(&self) -> Option<&str> {
        self.master_key.as_ref().map(MasterKey::fingerprint)
    }

    /// The statement that starts a write transaction: SQLite takes the write lock at once
    /// (`IMMEDIATE`), so a transaction that reads before it writes cannot fail to upgrade.
    pub(crate) fn begin_write(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "BEGIN IMMEDIATE",
            Db::Postgres(_) => "BEGIN",
        }
    }

    /// A `data` column read back as text.
    pub(crate) fn json_column(&self, column: &str) -> String {
        match self.db {
            Db::Sqlite(_) => column.to_string(),
            Db::Postgres(_) => format!("{column}::text"),
        }
    }

    /// `column` is one of the ids of the [`IdList`] bound at `placeholder`.
    pub(crate) fn in_id_list(&self, column: &str, placeholder: &str) -> String {
        match self.db {
            Db::Sqlite(_) => format!("{column} IN (SELECT value FROM json_each({placeholder}))"),
            // A bound text[] is a constant in the (custom) plan: an index condition with
            // statistics, a hashed filter without (15 ms instead of 160 ms for 500 ids against
            // 20 000 freshly loaded rows).
            Db::Postgres(_) => format!("{column} = ANY({placeholder})"),
        }
    }
}

/// `pool.begin_with(statement)`, safe to cancel. sqlx's PostgreSQL driver (0.8.6, and 0.9.1
/// still) counts a transaction only once the server has answered its `BEGIN`: a caller
/// cancelled in between (an API client that disconnects, a `select!`, a timeout, a sync
/// stopped with its worker) gave the connection back to the pool inside a transaction that
/// nothing ended. The next borrowers' statements ran in it, unseen by the others and holding
/// their row locks for good: a pull operation's update then waited forever behind one of
/// them (transact-rs/sqlx#4393). Here the `BEGIN` round trip runs as a task of its own, which
/// a cancelled caller leaves to finish: the transaction it yields is then dropped, and
/// rolled back, like any other. (SQLite's driver rolls back a `BEGIN` nobody received.)
pub(crate) async fn begin<DB>(
    pool: &sqlx::Pool<DB>,
    statement: &'static str,
) -> Result<sqlx::Transaction<'static, DB>>
where
    DB: sqlx::Database,
    sqlx::Transaction<'static, DB>: Send,
{
    let pool = pool.clone();
    match tokio::spawn(async move { pool.begin_with(statement).await }).await {
        Ok(begun) => Ok(begun?),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A list of ids bound as one parameter: JSON text on SQLite (read with `json_each`), a
/// `text[]` on PostgreSQL. See [`Store::in_id_list`].
pub(crate) struct IdList {
    json: String,
    items: Vec<String>,
}

impl IdList {
    pub(crate) fn new(items: &[String]) -> Self {
        IdList {
            json: serde_json::Value::from(items.to_vec()).to_string(),
            items: items.to_vec(),
        }
    }
}

impl sqlx::Type<sqlx::Sqlite> for IdList {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for IdList {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.json.clone(), buf)
    }
}

impl sqlx::Type<sqlx::Postgres> for IdList {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Vec<String> as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for IdList {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <Vec<String> as sqlx::Encode<'_, sqlx::Postgres>>::encode_by_ref(&self.items, buf)
    }
}

/// A random identifier in UUID v4 form (companies, connections, messages, correlation ids).
pub fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The scheme of a location like `mysql://…` that is neither PostgreSQL nor SQLite.
fn foreign_scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once("://")?;
    let valid = !scheme.is_empty()
        && scheme.as_bytes()[0].is_ascii_alphabetic()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    (valid && scheme != "sqlite").then_some(scheme)
}

/// Checks a SQLite database path before SQLite opens it: a directory, a missing directory or
/// (with `must_exist`) a missing file is an error naming the path. Returns whether it exists.
fn check_sqlite_path(path: &std::path::Path, must_exist: bool) -> Result<bool> {
    let shown = path.display().to_string();
    if path.is_dir() {
        return Err(StoreError::InvalidLocation {
            location: shown.clone(),
            reason: format!(
                "{shown} is a directory; give a database file path, e.g. {}",
                path.join("prestalink.db").display()
            ),
        });
    }
    if path.exists() {
        return Ok(true);
    }
    if must_exist {
        return Err(StoreError::DatabaseMissing { path: shown });
    }
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            return Err(StoreError::InvalidLocation {
                location: shown,
                reason: format!(
                    "directory {} does not exist; create it or choose another path",
                    dir.display()
                ),
            });
        }
    }
    Ok(false)
}

/// Creates a new database file empty with mode 0600: it will hold customer data, and SQLite
/// gives its -wal and -shm files the mode of the database file.
fn create_private_file(path: &std::path::Path) -> Result<()> {
    let shown = path.display().to_string();
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(0o600);
    }
    match create.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::CannotOpen {
            path: shown,
            reason: format!("cannot create it: {e}"),
            fix: "choose a directory you can write to".to_string(),
        }),
    }
}

/// A SQLite failure while opening, with the path and what to do: a read-only file or
/// directory (SQLITE_READONLY, code 8 and its extended codes) or a file SQLite cannot open
/// (SQLITE_CANTOPEN, 14).
fn sqlite_error(error: sqlx::Error, location: &str) -> StoreError {
    let code = match &error {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<u32>().ok()),
        _ => None,
    };
    match code.map(|c| c & 0xff) {
        Some(8) => StoreError::ReadOnly {
            path: location.to_string(),
        },
        Some(14) => StoreError::CannotOpen {
            path: location.to_string(),
            reason: error.to_string(),
            fix: "check that the path is a SQLite file you may read and write, in a directory \
                  you may write to (SQLite creates its -wal file next to it)"
                .to_string(),
        },
        _ => StoreError::Database(error),
    }
}

/// A PostgreSQL server that cannot be reached, named by host and port.
fn postgres_unreachable(error: sqlx::Error, url: &str) -> StoreError {
    let (host, port) = match url::Url::parse(url) {
        Ok(u) => (
            u.host_str().unwrap_or("localhost").to_string(),
            u.port().unwrap_or(5432),
        ),
        Err(_) => ("?".to_string(), 5432),
    };
    let reason = match &error {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running, and on this port?)".to_string()
        }
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Database(_) | sqlx::Error::Tls(_) | sqlx::Error::Configuration(_) => {
            return StoreError::Database(error)
        }
        other => other.to_string(),
    };
    StoreError::Unreachable {
        address: format!("{host}:{port}"),
        reason,
    }
}

/// A database URL with its password hidden, for error messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparseable URL>".to_string(),
    }
}

impl Store {
    /// Whether the database answers (`SELECT 1`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }
}
