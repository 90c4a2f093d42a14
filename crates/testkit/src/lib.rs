//! Test helpers shared by end-to-end tests and benchmarks (never used by production code):
//! the simulator's ground truth mapped into the commerce model, what a database holds, and
//! a comparison that names the first difference.

use std::collections::BTreeMap;

use prestalink_commerce::{DataType, Support};
use prestalink_mapping::{map_data_type, MapOptions, RecordSet, ReferenceData};
use prestalink_simulator::api::{ApiRequest, Format as SimFormat, Method, Permissions, Version};
use prestalink_simulator::protocol::respond;
use prestalink_simulator::store::Store as SimStore;
use prestalink_store::{Query, Store, MAX_PAGE_SIZE};
use prestalink_webservice::decode::{decode, Document};
use prestalink_webservice::Format;
use serde_json::Value;

/// Commerce records by data type key, then by id, without `modifiedDate` (which says when
/// prestalink wrote them, not what they are).
pub type Records = BTreeMap<String, BTreeMap<String, Value>>;

/// Every record of every resource the sync reads, rendered by the simulator as PrestaShop
/// would (`display=full`, JSON) and decoded by the real decoder.
pub fn source_records(store: &SimStore, base_url: &str) -> anyhow::Result<RecordSet> {
    let mut set = RecordSet::new();
    let permissions = Permissions::default();
    let params = vec![("display".to_string(), "full".to_string())];
    for res in prestalink_sync::catalog::RESOURCES {
        let request = ApiRequest {
            method: Method::Get,
            resource: Some(res.name),
            id: None,
            params: &params,
            format: SimFormat::Json,
            base_url,
            version: Version::V8_1_2,
            permissions: &permissions,
        };
        let response = respond(store, &request);
        anyhow::ensure!(
            response.status == 200,
            "{} answered {}",
            res.name,
            response.status
        );
        set.mark_read(res.name);
        match decode(&response.body, Format::Json, u64::MAX)? {
            Document::List { records, .. } => set.extend(res.name, records),
            _ => anyhow::bail!("{} is not a list", res.name),
        }
    }
    Ok(set)
}

/// The simulator's data mapped directly (no HTTP, no database, no paging): what a sync of
/// it must end up with. `store_url` is the URL the connection was linked with.
pub fn ground_truth(store: &SimStore, base_url: &str, store_url: &str) -> anyhow::Result<Records> {
    let set = source_records(store, base_url)?;
    let mut opts = MapOptions::new(chrono::Utc::now());
    opts.store_url = Some(store_url.to_string());
    let refs = ReferenceData::build(&set, &opts)?;
    let mut out = Records::new();
    for dt in DataType::ALL {
        if dt.support() == Support::NotSupported {
            continue;
        }
        let batch = map_data_type(dt, &set, &refs, &opts)?;
        let records = batch
            .records
            .iter()
            .map(|r| {
                let value = normalize(serde_json::to_value(r).expect("serializes"));
                (r.id().to_string(), value)
            })
            .collect();
        out.insert(dt.key().to_string(), records);
    }
    Ok(out)
}

/// The live (not deleted) commerce records of a connection.
pub async fn synced(db: &Store, connection_id: &str) -> anyhow::Result<Records> {
    let mut out = Records::new();
    for dt in DataType::ALL {
        if dt.support() == Support::NotSupported {
            continue;
        }
        let mut records = BTreeMap::new();
        let mut page = 1;
        loop {
            let query = Query {
                page,
                page_size: MAX_PAGE_SIZE,
                ..Query::default()
            };
            let result = db.query_records(connection_id, dt.key(), &query).await?;
            let n = result.results.len();
            for r in result.results {
                records.insert(r.id, normalize(r.data));
            }
            if n < MAX_PAGE_SIZE as usize {
                break;
            }
            page += 1;
        }
        out.insert(dt.key().to_string(), records);
    }
    Ok(out)
}

/// Drops what depends on when a record was written rather than on what it is:
/// `modifiedDate`, at every level (nested payments and variants carry one too).
pub fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "modifiedDate")
                .map(|(k, v)| (k, normalize(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

/// `None` when both hold the same records, else a description of the first differences.
pub fn difference(expected: &Records, actual: &Records) -> Option<String> {
    let mut out = Vec::new();
    for (dt, want) in expected {
        let empty = BTreeMap::new();
        let got = actual.get(dt).unwrap_or(&empty);
        let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        let changed: Vec<&String> = want
            .iter()
            .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
            .map(|(k, _)| k)
            .collect();
        if !missing.is_empty() {
            out.push(format!(
                "{dt}: {} missing, e.g. {:?}",
                missing.len(),
                &missing[..missing.len().min(5)]
            ));
        }
        if !extra.is_empty() {
            out.push(format!(
                "{dt}: {} extra, e.g. {:?}",
                extra.len(),
                &extra[..extra.len().min(5)]
            ));
        }
        if let Some(id) = changed.first() {
            out.push(format!(
                "{dt}: {} differ, e.g. {id}:\n  expected {}\n  actual   {}",
                changed.len(),
                want[*id],
                got[*id]
            ));
        }
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

/// Environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "PRESTALINK_TEST_POSTGRES";

/// A database for one test: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// schema (dropped by [`TestDb::cleanup`]).
pub struct TestDb {
    /// The open store.
    pub store: Store,
    /// `sqlite` or `postgres`, for messages.
    pub engine: &'static str,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// The master key tests encrypt Webservice keys with.
pub const TEST_MASTER_KEY: [u8; 32] = [7u8; 32];

impl TestDb {
    /// A fresh SQLite database.
    pub async fn sqlite() -> anyhow::Result<TestDb> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("prestalink.db");
        let store = Store::open_with(
            path.to_str().expect("utf-8 path"),
            prestalink_store::StoreOptions {
                master_key: prestalink_store::MasterKeySource::Bytes(TEST_MASTER_KEY),
                ..Default::default()
            },
        )
        .await?;
        Ok(TestDb {
            store,
            engine: "sqlite",
            _dir: Some(dir),
            postgres: None,
        })
    }

    /// A fresh PostgreSQL schema when `PRESTALINK_TEST_POSTGRES` is set; `None` (and a
    /// printed notice) otherwise.
    pub async fn postgres(test: &str) -> anyhow::Result<Option<TestDb>> {
        let Some(url) = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()) else {
            eprintln!("{test}: PostgreSQL part skipped ({PG_ENV} not set)");
            return Ok(None);
        };
        let schema = format!(
            "e2e_{}_{}_{}",
            test.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(24)
                .collect::<String>()
                .to_lowercase(),
            std::process::id(),
            rand::random::<u32>()
        );
        let store = Store::open_with(
            &url,
            prestalink_store::StoreOptions {
                master_key: prestalink_store::MasterKeySource::Bytes(TEST_MASTER_KEY),
                postgres_schema: Some(schema.clone()),
                ..Default::default()
            },
        )
        .await?;
        Ok(Some(TestDb {
            store,
            engine: "postgres",
            _dir: None,
            postgres: Some((url, schema)),
        }))
    }

    /// SQLite always, PostgreSQL when configured.
    pub async fn all(test: &str) -> anyhow::Result<Vec<TestDb>> {
        let mut dbs = vec![TestDb::sqlite().await?];
        dbs.extend(TestDb::postgres(test).await?);
        Ok(dbs)
    }

    /// Closes the store and drops a PostgreSQL schema.
    pub async fn cleanup(self) -> anyhow::Result<()> {
        self.store.close().await;
        if let Some((url, schema)) = &self.postgres {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(url).await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }
}

/// A fresh, empty PostgreSQL database (not just a schema) for a test that hands a URL to
/// another process, such as the `prestalink` binary. Dropped by [`ScratchDatabase::drop_now`].
pub struct ScratchDatabase {
    /// URL of the new database.
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// Creates the database when `PRESTALINK_TEST_POSTGRES` is set; `None` (and a printed
    /// notice) otherwise.
    pub async fn create(test: &str) -> anyhow::Result<Option<ScratchDatabase>> {
        use sqlx::Connection as _;
        let Some(admin_url) = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()) else {
            eprintln!("{test}: PostgreSQL part skipped ({PG_ENV} not set)");
            return Ok(None);
        };
        let name = format!(
            "pl_{}_{}_{}",
            test.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(20)
                .collect::<String>()
                .to_lowercase(),
            std::process::id(),
            rand::random::<u32>()
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let mut url = url_with_database(&admin_url, &name)?;
        url.shrink_to_fit();
        Ok(Some(ScratchDatabase {
            url,
            admin_url,
            name,
        }))
    }

    /// Drops the database (closing other sessions on it first).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&self.admin_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await?;
        Ok(())
    }
}

/// `url` with its database path replaced by `database`.
fn url_with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// The master key as `PRESTALINK_MASTER_KEY` takes it (64 hex digits).
pub fn test_master_key_hex() -> String {
    TEST_MASTER_KEY.iter().map(|b| format!("{b:02x}")).collect()
}

/// The variable that points tests at a real PrestaShop 8.1.2 (its base URL, e.g.
/// `http://127.0.0.1:7080`), installed by `../shared/prestashop/install.sh --variants`.
pub const PRESTASHOP_ENV: &str = "PRESTALINK_TEST_PRESTASHOP";

/// A real PrestaShop store and its Webservice keys (see `../shared/prestashop/README.md`).
/// Its hosting variants listen on the next four ports.
#[derive(Debug, Clone)]
pub struct RealStore {
    /// Base URL, e.g. `http://127.0.0.1:7080` (no trailing slash).
    pub base_url: String,
    /// GET and HEAD on every resource.
    pub read_key: &'static str,
    /// Every method on every resource.
    pub full_key: &'static str,
    /// GET on `orders` and `customers` only.
    pub limit_key: &'static str,
}

impl RealStore {
    /// The store's host and port (`127.0.0.1:7080`).
    pub fn authority(&self) -> &str {
        self.base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, rest)| rest)
            .trim_end_matches('/')
    }

    /// The base URL of variant `offset` (1: Authorization stripped, 2: redirect to the
    /// store, 3: no URL rewriting, 4: not PrestaShop).
    pub fn variant(&self, offset: u16) -> String {
        let authority = self.authority();
        let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "80"));
        let port: u16 = port.parse().unwrap_or(80);
        let scheme = self.base_url.split_once("://").map_or("http", |(s, _)| s);
        format!("{scheme}://{host}:{}", port + offset)
    }
}

/// The real store when `PRESTALINK_TEST_PRESTASHOP` is set; `None` (and a printed
/// "skipped" line) otherwise.
pub fn real_store() -> Option<RealStore> {
    match std::env::var(PRESTASHOP_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => Some(RealStore {
            base_url: url.trim().trim_end_matches('/').to_string(),
            read_key: "PRESTASHOPTESTREADKEY00000000001",
            full_key: "PRESTASHOPTESTFULLKEY00000000001",
            limit_key: "PRESTASHOPTESTLIMITKEY0000000001",
        }),
        None => {
            eprintln!("skipped: {PRESTASHOP_ENV} not set");
            None
        }
    }
}

/// Runs SQL on the real store's MariaDB database `database` as the shop's own user (the
/// `mysql` client, as `../shared/prestashop/README.md` says): its output, tab-separated
/// columns and one line a row, without the trailing newline; `None` when the client fails.
pub fn shop_sql(database: &str, sql: &str) -> Option<String> {
    let out = std::process::Command::new("mysql")
        .args([
            "-uprestashop",
            "-pprestashop",
            "-N",
            "-B",
            database,
            "-e",
            sql,
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// Held by a test while it relies on the real store's settings (the Webservice switched on):
/// shared between such tests, exclusive for a test that changes them. A file lock in the
/// temporary directory, per store, so that test binaries and threads serialize alike.
pub struct StoreLock {
    _file: std::fs::File,
}

impl RealStore {
    fn lock_file(&self) -> std::fs::File {
        let name = self.authority().replace([':', '/', '.'], "_");
        let path = std::env::temp_dir().join(format!("prestalink-real-store-{name}.lock"));
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("lock file {}: {e}", path.display()))
    }

    /// Waits until no test is changing the store's settings, and keeps others from doing
    /// so until the lock is dropped.
    pub fn shared_lock(&self) -> StoreLock {
        let file = self.lock_file();
        file.lock_shared().expect("shared lock on the real store");
        StoreLock { _file: file }
    }

    /// Waits until no other real-store test runs, for a test that changes the store's
    /// settings (and puts them back before dropping the lock).
    pub fn exclusive_lock(&self) -> StoreLock {
        let file = self.lock_file();
        file.lock().expect("exclusive lock on the real store");
        StoreLock { _file: file }
    }
}
