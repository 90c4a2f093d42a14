//! Pages of a data type's records for the API, served by key.
//!
//! A query (filter, order, deleted or not) over one connection's data type is resolved once
//! into the ordered list of its matching rows' keys (rowids on SQLite, ids on PostgreSQL),
//! read in a single aggregated statement. Any page of it is then a slice of that list,
//! fetched by primary key and aggregated into one row: page 900 of 1,000 costs what page 1
//! costs, and `totalResults` is the list's length, from the same snapshot as the page.
//!
//! The list is cached in memory (`quick_cache`, bounded by weight) with the value of
//! `record_versions.version` it was built at. That counter moves in the same transaction as
//! every write to the data type's records (records.rs), so the page statement, which reads
//! the counter together with the page's rows, serves a page only from a list that is still
//! exact; otherwise the list is rebuilt, once for all the requests waiting on it, in a read
//! snapshot shared with the page it serves. A write by another process moves the same
//! counter, so several processes on one database stay exact.
//!
//! While a sync writes, the counter moves every few hundred milliseconds, and a list that
//! evaluates a filter over every record (100,000 orders: about half a second on SQLite) would
//! make every reader wait for its rebuild. [`PageFreshness`] bounds that wait: a page whose
//! list is out of date waits up to `wait` for the rebuild (one per list, in the background);
//! if the rebuild takes longer, the page is served from the previous list (its records read
//! now, their membership and order as of that list) provided that list was last known exact
//! (built, or a page served exact from it) less than `max_stale` ago, or was when its rebuild
//! started: a page is then at most `max_stale` plus one rebuild behind the writes. A list
//! that has not been known exact for longer is always waited for. [`PageFreshness::EXACT`],
//! the store's default, never serves an out-of-date list.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::error::Result;
use crate::paging::{bind_params, check_paging, compile, Compiled};
use crate::query::{Dialect, Query};
use crate::{Db, Store};

/// Weight budget of the cached key lists (about this many bytes of keys).
const KEY_LIST_BUDGET: u64 = 64 * 1024 * 1024;

/// Tries before a page is read from a fresh snapshot without its list being cached.
const STALE_TRIES: usize = 3;

/// One page of a data type's records, with the total of the query's matching records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsPage {
    /// The page's records as JSON texts joined by commas: the inside of a JSON array.
    pub joined: String,
    /// How many records the page holds.
    pub len: usize,
    /// 1-based page number.
    pub page_number: u32,
    /// Requested page size.
    pub page_size: u32,
    /// Whether a page follows this one.
    pub has_next: bool,
    /// Records matching the query, over all pages.
    pub total_results: u64,
}

/// How long an API page may wait for its key list to catch up with writes, and how old a
/// list it may be served from instead (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFreshness {
    /// How long a page waits for its list's rebuild before it is served from the previous
    /// list.
    pub wait: Duration,
    /// How long ago a previous list may have been last known exact (its snapshot, or a page
    /// served exact from it) to serve a page; `0`: never.
    pub max_stale: Duration,
}

impl PageFreshness {
    /// Every page from a list that includes every write committed before the page was read.
    pub const EXACT: PageFreshness = PageFreshness {
        wait: Duration::ZERO,
        max_stale: Duration::ZERO,
    };
}

impl Default for PageFreshness {
    fn default() -> Self {
        PageFreshness::EXACT
    }
}

/// The ordered keys of one query's matching records, as of `version`.
#[derive(Debug)]
pub(crate) struct KeyList {
    version: Option<i64>,
    keys: Keys,
    /// When the list was last known to hold every write: its snapshot, then each page
    /// served exact from it (milliseconds since [`epoch`]). A write that overtook it came
    /// later, so a page served from it is at most this old behind the writes.
    exact_at: AtomicU64,
}

impl KeyList {
    fn new(version: Option<i64>, keys: Keys, snapshot: Instant) -> KeyList {
        KeyList {
            version,
            keys,
            exact_at: AtomicU64::new(millis(snapshot)),
        }
    }

    fn exact_at(&self) -> Instant {
        epoch() + Duration::from_millis(self.exact_at.load(AtomicOrdering::Relaxed))
    }
}

/// The instant key-list times count from.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis(at: Instant) -> u64 {
    at.saturating_duration_since(epoch()).as_millis() as u64
}

/// The state of a list's background rebuild, as its waiters see it.
#[derive(Debug, Clone)]
enum Rebuild {
    Running,
    /// The new list is in the cache.
    Done,
    Failed,
}

#[derive(Debug)]
enum Keys {
    /// SQLite rowids.
    Rowids(Vec<i64>),
    /// PostgreSQL record ids.
    Ids(Vec<String>),
}

impl Keys {
    fn len(&self) -> usize {
        match self {
            Keys::Rowids(k) => k.len(),
            Keys::Ids(k) => k.len(),
        }
    }
}

#[derive(Clone)]
struct KeyListWeight;

impl Weighter<String, Arc<KeyList>> for KeyListWeight {
    fn weight(&self, key: &String, list: &Arc<KeyList>) -> u64 {
        let keys = match &list.keys {
            Keys::Rowids(k) => k.len() * 8,
            Keys::Ids(k) => k.iter().map(|id| id.len() + 24).sum(),
        };
        (key.len() + keys + 64) as u64
    }
}

/// The store's cache of key lists.
pub(crate) struct KeyLists {
    cache: Cache<String, Arc<KeyList>, KeyListWeight>,
    /// Background rebuilds of out-of-date lists, one per cache key, with when each started.
    rebuilds: Mutex<HashMap<String, (Instant, tokio::sync::watch::Receiver<Rebuild>)>>,
    freshness: Mutex<PageFreshness>,
}

impl std::fmt::Debug for KeyLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLists")
            .field("entries", &self.cache.len())
            .field("weight", &self.cache.weight())
            .finish()
    }
}

impl Default for KeyLists {
    fn default() -> Self {
        KeyLists {
            cache: Cache::with_weighter(1024, KEY_LIST_BUDGET, KeyListWeight),
            rebuilds: Mutex::new(HashMap::new()),
            freshness: Mutex::new(PageFreshness::EXACT),
        }
    }
}

/// What a page statement found: the version now, and the page if it was read.
struct Fetched {
    version: Option<i64>,
    joined: String,
    rows: i64,
}

/// Statements of one query.
struct Statements {
    /// Version and ordered keys, in one row.
    keys: String,
    /// Version, joined page and its row count, in one row, for keys bound as `$3`.
    page: String,
}

fn statements(dialect: Dialect, c: &Compiled) -> Statements {
    let version =
        "(SELECT version FROM record_versions WHERE connection_id = $1 AND data_type = $2)";
    match dialect {
        // The subquery's order reaches group_concat: SQLite does not flatten an ordered
        // subquery into an aggregate (tested by `pages_follow_every_order`).
        Dialect::Sqlite => Statements {
            keys: format!(
                "SELECT {version}, (SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM \
                 commerce_records WHERE connection_id = $1 AND data_type = $2{} ORDER BY {}))",
                c.filter, c.order
            ),
            page: format!(
                "SELECT {version}, (SELECT group_concat(data, ',') FROM (SELECT r.data FROM \
                 json_each($3) AS k JOIN commerce_records AS r ON r.rowid = k.value \
                 WHERE r.connection_id = $1 AND r.data_type = $2 ORDER BY k.key)), \
                 (SELECT COUNT(*) FROM json_each($3) AS k JOIN commerce_records AS r \
                 ON r.rowid = k.value WHERE r.connection_id = $1 AND r.data_type = $2)"
            ),
        },
        Dialect::Postgres => Statements {
            keys: format!(
                "SELECT {version}, (SELECT array_agg(id ORDER BY {}) FROM commerce_records \
                 WHERE connection_id = $1 AND data_type = $2{})",
                c.order, c.filter
            ),
            page: format!(
                "SELECT {version}, string_agg(r.data::text, ',' ORDER BY k.n), COUNT(r.id) \
                 FROM unnest($3::text[]) WITH ORDINALITY AS k(id, n) JOIN commerce_records AS r \
                 ON r.connection_id = $1 AND r.data_type = $2 AND r.id = k.id"
            ),
        },
    }
}

impl Store {
    /// One page of a data type's records as stored JSON text, filtered by the query language
    /// and ordered by `orderBy` (ties by id), with the total of matching records. Any page
    /// costs the same: see the module's documentation.
    pub async fn records_page(
        &self,
        connection_id: &str,
        data_type: &str,
        query: &Query,
    ) -> Result<RecordsPage> {
        check_paging(query)?;
        let dialect = self.dialect();
        let c = compile(query, dialect, 3)?;
        let s = statements(dialect, &c);
        let cache_key = format!(
            "{connection_id}\u{1f}{data_type}\u{1f}{}\u{1f}{:?}\u{1f}{}",
            c.filter, c.params, c.order
        );
        let freshness = *self.key_lists.freshness.lock().unwrap();
        let mut waited = false;
        for _ in 0..STALE_TRIES {
            let list = match self
                .key_lists
                .cache
                .get_value_or_guard_async(&cache_key)
                .await
            {
                Ok(list) => list,
                Err(guard) => {
                    // This request builds the list; the others asking for it wait.
                    let (list, page) = self
                        .build_and_read(connection_id, data_type, &c, &s, query)
                        .await?;
                    let _ = guard.insert(list);
                    return Ok(page);
                }
            };
            let fetched = self
                .read_page(connection_id, data_type, &s.page, &list.keys, query)
                .await?;
            if fetched.version == list.version
                && fetched.rows as usize == page_keys(&list.keys, query).len()
            {
                list.exact_at
                    .fetch_max(millis(Instant::now()), AtomicOrdering::Relaxed);
                return Ok(page_of(
                    fetched.joined,
                    fetched.rows as usize,
                    list.keys.len(),
                    query,
                ));
            }
            // Written since the list was last exact. It may still serve if that was less than
            // `max_stale` ago, or was when the rebuild that replaces it started: a page is
            // then at most `max_stale` plus one rebuild behind the writes.
            if freshness.max_stale.is_zero() {
                // Drop it (unless already replaced) and retry.
                self.key_lists
                    .cache
                    .remove_if(&cache_key, |cached| Arc::ptr_eq(cached, &list));
                continue;
            }
            let exact_at = list.exact_at();
            let young = exact_at.elapsed() < freshness.max_stale
                || self
                    .key_lists
                    .rebuilds
                    .lock()
                    .unwrap()
                    .get(&cache_key)
                    .is_some_and(|(started, _)| {
                        started.saturating_duration_since(exact_at) < freshness.max_stale
                    });
            if young && waited {
                return Ok(stale_page(fetched, &list, query));
            }
            let mut rx = self.rebuild(&cache_key, connection_id, data_type, &c, &s.keys);
            let done = async {
                rx.wait_for(|r| !matches!(r, Rebuild::Running))
                    .await
                    .map(|r| r.clone())
                    .unwrap_or(Rebuild::Failed)
            };
            let outcome = if young {
                waited = true;
                match tokio::time::timeout(freshness.wait, done).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Ok(stale_page(fetched, &list, query)),
                }
            } else {
                done.await
            };
            if matches!(outcome, Rebuild::Failed) {
                break;
            }
        }
        // Writes keep landing between list and page: read both from one snapshot, uncached.
        let (_, page) = self
            .build_and_read(connection_id, data_type, &c, &s, query)
            .await?;
        Ok(page)
    }

    /// Sets how long API pages wait for their key lists to catch up with writes (shared by
    /// this store's clones). The store's default is [`PageFreshness::EXACT`].
    pub fn set_page_freshness(&self, freshness: PageFreshness) {
        *self.key_lists.freshness.lock().unwrap() = freshness;
    }

    /// The rebuild of `cache_key`'s list: the one running, or one started now in the
    /// background. Its result replaces the cached list.
    fn rebuild(
        &self,
        cache_key: &str,
        connection_id: &str,
        data_type: &str,
        c: &Compiled,
        keys_sql: &str,
    ) -> tokio::sync::watch::Receiver<Rebuild> {
        let mut rebuilds = self.key_lists.rebuilds.lock().unwrap();
        if let Some((_, rx)) = rebuilds.get(cache_key) {
            return rx.clone();
        }
        let (tx, rx) = tokio::sync::watch::channel(Rebuild::Running);
        rebuilds.insert(cache_key.to_string(), (Instant::now(), rx.clone()));
        drop(rebuilds);
        let store = self.clone();
        let (cache_key, connection_id, data_type) = (
            cache_key.to_string(),
            connection_id.to_string(),
            data_type.to_string(),
        );
        let (params, keys_sql) = (c.params.clone(), keys_sql.to_string());
        tokio::spawn(async move {
            let built = store
                .build_list(&connection_id, &data_type, &params, &keys_sql)
                .await;
            let outcome = match built {
                Ok(list) => {
                    store.key_lists.cache.insert(cache_key.clone(), list);
                    Rebuild::Done
                }
                Err(e) => {
                    tracing::warn!("rebuilding an API page's key list failed: {e}");
                    Rebuild::Failed
                }
            };
            store.key_lists.rebuilds.lock().unwrap().remove(&cache_key);
            let _ = tx.send(outcome);
        });
        rx
    }

    /// Reads a query's key list alone (one statement, one snapshot).
    async fn build_list(
        &self,
        connection_id: &str,
        data_type: &str,
        params: &[crate::query::SqlParam],
        keys_sql: &str,
    ) -> Result<Arc<KeyList>> {
        let built = Instant::now();
        let (version, keys) = match &self.db {
            Db::Sqlite(pool) => {
                let (version, rowids) =
                    keys_sqlite(pool, connection_id, data_type, keys_sql, params).await?;
                (version, Keys::Rowids(rowids))
            }
            Db::Postgres(pool) => {
                let (version, ids) =
                    keys_postgres(pool, connection_id, data_type, keys_sql, params).await?;
                (version, Keys::Ids(ids))
            }
        };
        Ok(Arc::new(KeyList::new(version, keys, built)))
    }

    /// Builds a query's key list and reads the page from it, in one read snapshot.
    async fn build_and_read(
        &self,
        connection_id: &str,
        data_type: &str,
        c: &Compiled,
        s: &Statements,
        query: &Query,
    ) -> Result<(Arc<KeyList>, RecordsPage)> {
        let built = Instant::now();
        let (version, keys, fetched) = match &self.db {
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let (version, rowids) =
                    keys_sqlite(&mut *tx, connection_id, data_type, &s.keys, &c.params).await?;
                let k = slice(&rowids, query);
                let fetched = fetch_sqlite(&mut *tx, connection_id, data_type, &s.page, k).await?;
                let keys = Keys::Rowids(rowids);
                tx.commit().await?;
                (version, keys, fetched)
            }
            Db::Postgres(pool) => {
                let mut tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await?;
                let (version, ids) =
                    keys_postgres(&mut *tx, connection_id, data_type, &s.keys, &c.params).await?;
                let fetched = fetch_postgres(
                    &mut *tx,
                    connection_id,
                    data_type,
                    &s.page,
                    slice(&ids, query),
                )
                .await?;
                let keys = Keys::Ids(ids);
                tx.commit().await?;
                (version, keys, fetched)
            }
        };
        let total = keys.len();
        let page = page_of(fetched.joined, fetched.rows as usize, total, query);
        Ok((Arc::new(KeyList::new(version, keys, built)), page))
    }

    /// Reads a page from a cached key list, with the version now.
    async fn read_page(
        &self,
        connection_id: &str,
        data_type: &str,
        sql: &str,
        keys: &Keys,
        query: &Query,
    ) -> Result<Fetched> {
        match (&self.db, page_keys(keys, query)) {
            (Db::Sqlite(pool), PageKeys::Rowids(k)) => {
                fetch_sqlite(pool, connection_id, data_type, sql, k).await
            }
            (Db::Postgres(pool), PageKeys::Ids(k)) => {
                fetch_postgres(pool, connection_id, data_type, sql, k).await
            }
            _ => unreachable!("key lists are built by the store's own engine"),
        }
    }
}

/// A query's version and ordered rowids, on SQLite.
async fn keys_sqlite<'e, E: sqlx::Executor<'e, Database = sqlx::Sqlite>>(
    executor: E,
    connection_id: &str,
    data_type: &str,
    sql: &str,
    params: &[crate::query::SqlParam],
) -> Result<(Option<i64>, Vec<i64>)> {
    let q = sqlx::query_as::<_, (Option<i64>, Option<String>)>(sql)
        .bind(connection_id)
        .bind(data_type);
    let (version, text) = bind_params!(q, params, Dialect::Sqlite)
        .fetch_one(executor)
        .await?;
    Ok((version, parse_rowids(text.as_deref())?))
}

/// A query's version and ordered record ids, on PostgreSQL.
async fn keys_postgres<'e, E: sqlx::Executor<'e, Database = sqlx::Postgres>>(
    executor: E,
    connection_id: &str,
    data_type: &str,
    sql: &str,
    params: &[crate::query::SqlParam],
) -> Result<(Option<i64>, Vec<String>)> {
    let q = sqlx::query_as::<_, (Option<i64>, Option<Vec<String>>)>(sql)
        .bind(connection_id)
        .bind(data_type);
    let (version, ids) = bind_params!(q, params, Dialect::Postgres)
        .fetch_one(executor)
        .await?;
    Ok((version, ids.unwrap_or_default()))
}

/// The page statement for the page's slice of `keys`, on SQLite.
async fn fetch_sqlite<'e, E: sqlx::Executor<'e, Database = sqlx::Sqlite>>(
    executor: E,
    connection_id: &str,
    data_type: &str,
    sql: &str,
    keys: &[i64],
) -> Result<Fetched> {
    let (version, joined, rows) = sqlx::query_as::<_, (Option<i64>, Option<String>, i64)>(sql)
        .bind(connection_id)
        .bind(data_type)
        .bind(rowid_array(keys))
        .fetch_one(executor)
        .await?;
    Ok(Fetched {
        version,
        joined: joined.unwrap_or_default(),
        rows,
    })
}

/// The page statement for the page's slice of `keys`, on PostgreSQL.
async fn fetch_postgres<'e, E: sqlx::Executor<'e, Database = sqlx::Postgres>>(
    executor: E,
    connection_id: &str,
    data_type: &str,
    sql: &str,
    keys: &[String],
) -> Result<Fetched> {
    let (version, joined, rows) = sqlx::query_as::<_, (Option<i64>, Option<String>, i64)>(sql)
        .bind(connection_id)
        .bind(data_type)
        .bind(keys)
        .fetch_one(executor)
        .await?;
    Ok(Fetched {
        version,
        joined: joined.unwrap_or_default(),
        rows,
    })
}

enum PageKeys<'a> {
    Rowids(&'a [i64]),
    Ids(&'a [String]),
}

impl PageKeys<'_> {
    fn len(&self) -> usize {
        match self {
            PageKeys::Rowids(k) => k.len(),
            PageKeys::Ids(k) => k.len(),
        }
    }
}

/// The part of `all` that `query`'s page covers (empty past the end).
fn slice<'a, T>(all: &'a [T], query: &Query) -> &'a [T] {
    let size = query.page_size as usize;
    let start = (query.page as usize - 1)
        .saturating_mul(size)
        .min(all.len());
    &all[start..start.saturating_add(size).min(all.len())]
}

/// The slice of `keys` that `query`'s page covers.
fn page_keys<'a>(keys: &'a Keys, query: &Query) -> PageKeys<'a> {
    match keys {
        Keys::Rowids(k) => PageKeys::Rowids(slice(k, query)),
        Keys::Ids(k) => PageKeys::Ids(slice(k, query)),
    }
}

/// A page read from a list that writes have since overtaken: its records as they are now
/// (those still there), its membership, order and total as of the list.
fn stale_page(fetched: Fetched, list: &KeyList, query: &Query) -> RecordsPage {
    page_of(
        fetched.joined,
        fetched.rows as usize,
        list.keys.len(),
        query,
    )
}

fn page_of(joined: String, len: usize, total: usize, query: &Query) -> RecordsPage {
    let end = (query.page as usize).saturating_mul(query.page_size as usize);
    RecordsPage {
        joined,
        len,
        page_number: query.page,
        page_size: query.page_size,
        has_next: end < total,
        total_results: total as u64,
    }
}

/// `[1,2,3]`: the JSON array `json_each` reads.
fn rowid_array(keys: &[i64]) -> String {
    let mut text = String::with_capacity(keys.len() * 8 + 2);
    text.push('[');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&k.to_string());
    }
    text.push(']');
    text
}

fn parse_rowids(text: Option<&str>) -> Result<Vec<i64>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    text.split(',')
        .map(|k| {
            k.parse::<i64>().map_err(|e| {
                crate::StoreError::Database(sqlx::Error::Protocol(format!(
                    "rowid list from SQLite: {e} in {k:?}"
                )))
            })
        })
        .collect()
}
