//! Runs the same test body on SQLite (always) and on PostgreSQL (when
//! `PRESTALINK_TEST_POSTGRES` holds a URL), each in a fresh database or schema.

#![allow(dead_code)]

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use prestalink_store::{MasterKeySource, Store, StoreOptions};
use sqlx::Connection as _;

/// Environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "PRESTALINK_TEST_POSTGRES";

/// A test master key.
pub const KEY: [u8; 32] = [42u8; 32];

/// Where a test store lives, so a test can reopen it or reach it with plain SQL.
pub enum Location {
    /// A SQLite file in a temporary directory.
    Sqlite {
        /// The database file.
        path: std::path::PathBuf,
        /// Keeps the directory alive.
        _dir: tempfile::TempDir,
    },
    /// A PostgreSQL schema.
    Postgres {
        /// Server URL.
        url: String,
        /// Schema created for this test.
        schema: String,
    },
}

/// A store opened for a test and where it lives.
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// Where it lives.
    pub location: Location,
}

impl TestStore {
    /// `sqlite` or `postgres`, for assertion messages.
    pub fn engine(&self) -> &'static str {
        match self.location {
            Location::Sqlite { .. } => "sqlite",
            Location::Postgres { .. } => "postgres",
        }
    }

    /// Reopens the same database with other options.
    pub async fn reopen(&self, master_key: MasterKeySource) -> Store {
        self.try_reopen(master_key).await.unwrap()
    }

    /// [`TestStore::reopen`], returning the error when the store refuses to open.
    #[allow(dead_code)]
    pub async fn try_reopen(
        &self,
        master_key: MasterKeySource,
    ) -> Result<Store, prestalink_store::StoreError> {
        match &self.location {
            Location::Sqlite { path, .. } => {
                Store::open_with(
                    path.to_str().unwrap(),
                    StoreOptions {
                        master_key,
                        ..Default::default()
                    },
                )
                .await
            }
            Location::Postgres { url, schema } => {
                Store::open_with(
                    url,
                    StoreOptions {
                        master_key,
                        postgres_schema: Some(schema.clone()),
                        ..Default::default()
                    },
                )
                .await
            }
        }
    }

    /// Runs plain SQL statements on the database, outside the store (to inject faults).
    pub async fn execute(&self, statements: &[&str]) {
        match &self.location {
            Location::Sqlite { path, .. } => {
                let mut conn = sqlite_connection(path).await;
                for s in statements {
                    sqlx::query(s).execute(&mut conn).await.unwrap();
                }
            }
            Location::Postgres { url, schema } => {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(&format!("SET search_path TO {schema}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                for s in statements {
                    sqlx::query(s).execute(&mut conn).await.unwrap();
                }
            }
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A plain SQLite connection to the file at `path` (created if missing), outside the store.
pub async fn sqlite_connection(path: &std::path::Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap()
}

/// The store in the SQLite file at `path` (created if missing), with the test master key.
pub async fn open_sqlite(path: &std::path::Path) -> Store {
    Store::open_with(
        path.to_str().unwrap(),
        StoreOptions {
            master_key: MasterKeySource::Bytes(KEY),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// A fresh SQLite store in a temporary directory.
pub async fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prestalink.db");
    let store = open_sqlite(&path).await;
    TestStore {
        store,
        location: Location::Sqlite { path, _dir: dir },
    }
}

/// A fresh PostgreSQL store in its own schema, if `PRESTALINK_TEST_POSTGRES` is set.
pub async fn postgres_store(test: &str) -> Option<TestStore> {
    let url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
    let schema = format!(
        "t_{}_{}_{}_{}",
        test.to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(30)
            .collect::<String>(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        rand::random::<u16>()
    );
    let store = Store::open_with(
        &url,
        StoreOptions {
            master_key: MasterKeySource::Bytes(KEY),
            postgres_schema: Some(schema.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Some(TestStore {
        store,
        location: Location::Postgres { url, schema },
    })
}

/// Runs `body` on SQLite, then on PostgreSQL when configured (printing that it was skipped
/// otherwise). PostgreSQL schemas are dropped after a passing run.
pub async fn on_both_engines<F, Fut>(test: &str, body: F)
where
    F: Fn(TestStore) -> Fut,
    Fut: Future<Output = TestStore>,
{
    let done = body(sqlite_store().await).await;
    done.store.close().await;
    match postgres_store(test).await {
        Some(pg) => {
            let done = body(pg).await;
            done.store.close().await;
            if let Location::Postgres { url, schema } = &done.location {
                let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        }
        None => eprintln!("{test}: PostgreSQL part skipped ({PG_ENV} not set)"),
    }
}

/// A fixed instant plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
}

/// A company and a connection to write records under; returns the connection id.
pub async fn connection(store: &Store) -> String {
    let company = store.create_company("Test shop", at(0)).await.unwrap();
    store
        .create_or_get_connection(
            &company.id,
            "https://shop.example",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456",
            at(0),
        )
        .await
        .unwrap()
        .id
}
