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
//! (built, or a page served exact from it) less than `max_stale` ago, or its rebuild started
//! less than `max_stale` after that or after the list was built: a page is then at most
//! `max_stale` plus two rebuilds behind the writes. When the writes since the list are known
//! (made through this store), it counts as behind only from the first of them, however long
//! ago it was last read. Those writes are also merged into it: its rebuild filters again
//! only the records written (see [`Statements`]). A list that has not been known exact for
//! longer, with no rebuild started soon after it, is always waited for (the first read after
//! a quiet spell). [`PageFreshness::EXACT`],
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

/// Lists read this recently are rebuilt in the background after writes: a client paging
/// through a list reads it continually. Rebuilding a filtered list evaluates its filter over
/// every record (seconds on 100,000 orders while a sync runs), which slows the pages being
/// read meanwhile: api_bench's unfiltered pages reached p99 656 ms while the query list
/// last read 45 s earlier was rebuilt after each write (RECENTLY_READ was 5 minutes).
const RECENTLY_READ: Duration = Duration::from_secs(30);

/// Tries before a page is read from a fresh snapshot without its list being cached.
const STALE_TRIES: usize = 3;

/// The writes remembered per data type for merging them into lists: at most this many
/// writes, and this many record ids over them. A list older than what is remembered is
/// rebuilt in full.
const WRITE_LOG_ENTRIES: usize = 1024;
const WRITE_LOG_IDS: usize = 500_000;

/// The record ids the writes to one data type of one connection (made through this store)
/// touched, by the value of `record_versions.version` each write moved it to.
#[derive(Debug, Default)]
struct WriteLog {
    /// Ordered by version, with when each write was known committed.
    entries: std::collections::VecDeque<(i64, Vec<String>, Instant)>,
    ids: usize,
}

impl WriteLog {
    fn push(&mut self, version: i64, ids: Vec<String>) {
        self.ids += ids.len();
        let at = self.entries.partition_point(|(v, _, _)| *v < version);
        self.entries.insert(at, (version, ids, Instant::now()));
        while self.entries.len() > WRITE_LOG_ENTRIES || self.ids > WRITE_LOG_IDS {
            let Some((_, dropped, _)) = self.entries.pop_front() else {
                break;
            };
            self.ids -= dropped.len();
        }
    }

    /// The ids written after `version`, with the version they bring the data type to, when
    /// every write since is remembered (one write moves the counter by one).
    fn since(&self, version: i64) -> Option<(i64, Vec<String>)> {
        let start = self.entries.partition_point(|(v, _, _)| *v <= version);
        let mut expected = version + 1;
        let mut ids = std::collections::BTreeSet::new();
        for (v, written, _) in self.entries.range(start..) {
            if *v != expected {
                return None;
            }
            ids.extend(written.iter().map(String::as_str));
            expected += 1;
        }
        if expected == version + 1 {
            return None;
        }
        Some((expected - 1, ids.into_iter().map(str::to_string).collect()))
    }

    /// When the first write after `version` was made, if it is remembered: a list exact at
    /// `version` has been behind the writes since then.
    fn behind_since(&self, version: i64) -> Option<Instant> {
        let at = self.entries.partition_point(|(v, _, _)| *v <= version);
        match self.entries.get(at) {
            Some((v, _, when)) if *v == version + 1 => Some(*when),
            _ => None,
        }
    }
}

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
    /// When the list was built: a rebuild that replaces it started soon after is the
    /// next link of a chain of rebuilds that follow the writes, however long each takes.
    installed: Instant,
    /// When a page was last asked of it (milliseconds since [`epoch`]): writes rebuild
    /// the lists read lately in the background ([`Store::records_moved`]).
    read_at: AtomicU64,
    recipe: Arc<Recipe>,
}

/// What a list is built from.
#[derive(Debug)]
struct Recipe {
    connection_id: String,
    data_type: String,
    params: Vec<crate::query::SqlParam>,
    keys_sql: String,
    /// The list after writes: its previous keys bound after the params, the ids written
    /// since after those (see [`Statements::merge`]).
    merge_sql: Option<String>,
}

impl KeyList {
    fn new(version: Option<i64>, keys: Keys, snapshot: Instant, recipe: Arc<Recipe>) -> KeyList {
        let now = Instant::now();
        KeyList {
            version,
            keys,
            exact_at: AtomicU64::new(millis(snapshot)),
            installed: now,
            read_at: AtomicU64::new(millis(now)),
            recipe,
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

type RebuildEntry = (
    Instant,
    tokio::sync::watch::Receiver<Rebuild>,
    Arc<tokio::sync::Notify>,
);

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
    /// Background rebuilds of out-of-date lists, one per cache key, with when each started
    /// (or is to start), and what starts a delayed one at once.
    rebuilds: Mutex<HashMap<String, RebuildEntry>>,
    freshness: Mutex<PageFreshness>,
    /// Rebuilds started by readers that found their list out of date.
    rebuilt_for_reads: AtomicU64,
    /// Rebuilds started after writes ([`Store::records_moved`]).
    rebuilt_for_writes: AtomicU64,
    /// Rebuilds that merged the writes into the previous list.
    merged: AtomicU64,
    /// The writes made through this store, per `connection_id\u{1f}data_type\u{1f}`.
    writes: Mutex<HashMap<String, WriteLog>>,
}

impl KeyLists {
    /// What `read` finds in the write log of a connection's data type, if it has one.
    fn write_log<T>(
        &self,
        connection_id: &str,
        data_type: &str,
        read: impl FnOnce(&WriteLog) -> Option<T>,
    ) -> Option<T> {
        read(
            self.writes
                .lock()
                .unwrap()
                .get(&list_prefix(connection_id, data_type))?,
        )
    }
}

/// The start of the cache keys of a connection's data type, and the key of its write log.
fn list_prefix(connection_id: &str, data_type: &str) -> String {
    format!("{connection_id}\u{1f}{data_type}\u{1f}")
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
            rebuilt_for_reads: AtomicU64::new(0),
            rebuilt_for_writes: AtomicU64::new(0),
            merged: AtomicU64::new(0),
            writes: Mutex::new(HashMap::new()),
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
    /// Version and ordered keys, in one row, from a previous list's keys and the ids of the
    /// records written since (bound after the query's params): the previous members not
    /// written keep their place in the filter (a filter reads only its record), so only the
    /// written records are filtered again; the members are then ordered again. On 100,000
    /// orders with a filter on a field of the JSON this avoids evaluating it on every record
    /// (1.1 s alone on SQLite, 0.12 s merged) after each page a sync writes. The previous
    /// members are recognised in the index that serves the order, without reading their
    /// rows (SQLite seeks a row only when a column outside the index is needed). `None`
    /// without a filter: the whole list is then read from that index faster (60 ms).
    merge: Option<String>,
}

fn statements(dialect: Dialect, c: &Compiled, filtered: bool) -> Statements {
    let version =
        "(SELECT version FROM record_versions WHERE connection_id = $1 AND data_type = $2)";
    let previous = 3 + c.params.len();
    let written = previous + 1;
    match dialect {
        // The subquery's order reaches group_concat: SQLite does not flatten an ordered
        // subquery into an aggregate (tested by `pages_follow_every_order`).
        Dialect::Sqlite => Statements {
            keys: format!(
                "SELECT {version}, (SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM \
                 commerce_records WHERE connection_id = $1 AND data_type = $2{} ORDER BY {}))",
                c.filter, c.order
            ),
            // One pass over the page's keys joins, concatenates and counts.
            page: format!(
                "SELECT {version}, group_concat(data, ','), COUNT(*) FROM (SELECT r.data FROM \
                 json_each($3) AS k JOIN commerce_records AS r ON r.rowid = k.value \
                 WHERE r.connection_id = $1 AND r.data_type = $2 ORDER BY k.key)"
            ),
            merge: filtered.then(|| {
                format!(
                    "SELECT {version}, (SELECT group_concat(rowid, ',') FROM (SELECT rowid \
                     FROM commerce_records WHERE connection_id = $1 AND data_type = $2 AND \
                     CASE WHEN id IN (SELECT value FROM json_each(${written})) THEN (1{}) \
                     ELSE rowid IN (SELECT value FROM json_each(${previous})) END \
                     ORDER BY {}))",
                    c.filter, c.order
                )
            }),
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
            merge: filtered.then(|| {
                format!(
                    "SELECT {version}, (SELECT array_agg(id ORDER BY {}) FROM commerce_records \
                     WHERE connection_id = $1 AND data_type = $2 AND \
                     CASE WHEN id IN (SELECT unnest(${written}::text[])) THEN (TRUE{}) \
                     ELSE id IN (SELECT unnest(${previous}::text[])) END)",
                    c.order, c.filter
                )
            }),
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
        let filtered = query.query.as_deref().is_some_and(|t| !t.trim().is_empty());
        let s = statements(dialect, &c, filtered);
        // Starts with the list prefix: writes find the lists of what they wrote by it.
        let cache_key = format!(
            "{}{}\u{1f}{:?}\u{1f}{}",
            list_prefix(connection_id, data_type),
            c.filter,
            c.params,
            c.order
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
            list.read_at
                .store(millis(Instant::now()), AtomicOrdering::Relaxed);
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
            // `max_stale` ago, or when the rebuild that replaces it started less than
            // `max_stale` after the list was last exact or was built: a page is then at most
            // `max_stale` plus two rebuilds behind the writes (the list's own, which began at
            // its snapshot, and the one replacing it). Counting from the build as well keeps
            // the chain of rebuilds that follows a sync's writes serving after `wait` even
            // when one rebuild takes longer than `max_stale` under load (api_bench: query
            // pages p99 680 ms, max 1.0 s on SQLite while the sync wrote the connection read).
            if freshness.max_stale.is_zero() {
                // Drop it (unless already replaced) and retry.
                self.key_lists
                    .cache
                    .remove_if(&cache_key, |cached| Arc::ptr_eq(cached, &list));
                continue;
            }
            let exact_at = list.exact_at();
            // How long the list has been behind, when the writes since are known: a list
            // last read long ago but written to only now is only now behind (the first
            // reader after a quiet spell waited for a whole rebuild: api_bench's unfiltered
            // pages reached 1.1 s while a sync wrote the connection read).
            let behind_since = list.version.and_then(|version| {
                self.key_lists
                    .write_log(connection_id, data_type, |log| log.behind_since(version))
            });
            let young = exact_at.elapsed() < freshness.max_stale
                || behind_since.is_some_and(|since| since.elapsed() < freshness.max_stale)
                || self
                    .key_lists
                    .rebuilds
                    .lock()
                    .unwrap()
                    .get(&cache_key)
                    .is_some_and(|(started, _, _)| {
                        started.saturating_duration_since(exact_at.max(list.installed))
                            < freshness.max_stale
                    });
            if young && waited {
                return Ok(stale_page(fetched, &list, query));
            }
            let mut rx = self.rebuild(&cache_key, list.recipe.clone(), Duration::ZERO);
            let done = async {
                rx.wait_for(|r| !matches!(r, Rebuild::Running))
                    .await
                    .map(|r| r.clone())
                    .unwrap_or(Rebuild::Failed)
            };
            let waiting = Instant::now();
            let outcome = if young {
                waited = true;
                match tokio::time::timeout(freshness.wait, done).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Ok(stale_page(fetched, &list, query)),
                }
            } else {
                let outcome = done.await;
                tracing::debug!(
                    list_age_ms = exact_at.elapsed().as_millis() as u64,
                    waited_ms = waiting.elapsed().as_millis() as u64,
                    "an API page waited for its key list's rebuild in full"
                );
                outcome
            };
            if matches!(outcome, Rebuild::Failed) {
                break;
            }
        }
        // Writes keep landing between list and page: read both from one snapshot, uncached.
        tracing::debug!("an API page reads its key list and page in one snapshot");
        let (_, page) = self
            .build_and_read(connection_id, data_type, &c, &s, query)
            .await?;
        Ok(page)
    }

    /// How many background rebuilds merged the writes into the previous list instead of
    /// reading the whole list again.
    pub fn key_list_merges(&self) -> u64 {
        self.key_lists.merged.load(AtomicOrdering::Relaxed)
    }

    /// How many key lists were rebuilt in the background so far: (started by a reader that
    /// found its list out of date, started after a write to lists read lately).
    pub fn key_list_rebuilds(&self) -> (u64, u64) {
        (
            self.key_lists
                .rebuilt_for_reads
                .load(AtomicOrdering::Relaxed),
            self.key_lists
                .rebuilt_for_writes
                .load(AtomicOrdering::Relaxed),
        )
    }

    /// Sets how long API pages wait for their key lists to catch up with writes (shared by
    /// this store's clones). The store's default is [`PageFreshness::EXACT`].
    pub fn set_page_freshness(&self, freshness: PageFreshness) {
        *self.key_lists.freshness.lock().unwrap() = freshness;
    }

    /// Called after a write moved a data type's records: the lists of it that were read in the
    /// last [`RECENTLY_READ`] are rebuilt in the background, `max_stale / 2` later (a sync's
    /// next writes join the same rebuild), so that the first reader after the writes finds
    /// a list less than one rebuild old instead of waiting for one. Only with a
    /// [`PageFreshness`] that allows stale lists (the server's), and only for writes made
    /// through this store (another process's writes are caught by the readers).
    /// The ids are copied only when some list may use them.
    pub(crate) fn records_moved<'a>(
        &self,
        connection_id: &str,
        data_type: &str,
        version: i64,
        ids: impl IntoIterator<Item = &'a str>,
    ) {
        let max_stale = self.key_lists.freshness.lock().unwrap().max_stale;
        if max_stale.is_zero() || self.key_lists.cache.is_empty() {
            return;
        }
        let prefix = list_prefix(connection_id, data_type);
        self.key_lists
            .writes
            .lock()
            .unwrap()
            .entry(prefix.clone())
            .or_default()
            .push(version, ids.into_iter().map(str::to_string).collect());
        let recent = millis(Instant::now()).saturating_sub(RECENTLY_READ.as_millis() as u64);
        for (cache_key, list) in self.key_lists.cache.iter() {
            if cache_key.starts_with(&prefix)
                && list.read_at.load(AtomicOrdering::Relaxed) >= recent
            {
                let _ = self.rebuild(&cache_key, list.recipe.clone(), max_stale / 2);
            }
        }
    }

    /// The rebuild of `cache_key`'s list: the one running (or scheduled), or one started
    /// now in the background after `delay`. Its result replaces the cached list.
    fn rebuild(
        &self,
        cache_key: &str,
        recipe: Arc<Recipe>,
        delay: Duration,
    ) -> tokio::sync::watch::Receiver<Rebuild> {
        let mut rebuilds = self.key_lists.rebuilds.lock().unwrap();
        if let Some((_, rx, start_now)) = rebuilds.get(cache_key) {
            if delay.is_zero() {
                // A reader: a rebuild scheduled after a write starts now.
                start_now.notify_one();
            }
            return rx.clone();
        }
        let (tx, rx) = tokio::sync::watch::channel(Rebuild::Running);
        let start_now = Arc::new(tokio::sync::Notify::new());
        rebuilds.insert(
            cache_key.to_string(),
            (Instant::now() + delay, rx.clone(), start_now.clone()),
        );
        drop(rebuilds);
        let counter = if delay.is_zero() {
            &self.key_lists.rebuilt_for_reads
        } else {
            &self.key_lists.rebuilt_for_writes
        };
        counter.fetch_add(1, AtomicOrdering::Relaxed);
        let store = self.clone();
        let cache_key = cache_key.to_string();
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = start_now.notified() => {}
                }
            }
            let started = Instant::now();
            let built = store.merge_or_build(&cache_key, recipe).await;
            tracing::debug!(
                took_ms = started.elapsed().as_millis() as u64,
                "rebuilt an API page's key list"
            );
            let outcome = match built {
                Ok(list) => {
                    // The new list was read when the old one was, not when it was built.
                    if let Some(old) = store.key_lists.cache.peek(&cache_key) {
                        let read_at = old.read_at.load(AtomicOrdering::Relaxed);
                        list.read_at.store(read_at, AtomicOrdering::Relaxed);
                    }
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

    /// The list of `cache_key` as of now: the cached list with the writes made since merged
    /// into it when every one of them is known (made through this store), else built anew.
    async fn merge_or_build(&self, cache_key: &str, recipe: Arc<Recipe>) -> Result<Arc<KeyList>> {
        let old = self.key_lists.cache.peek(cache_key);
        let since = old.as_ref().and_then(|old| {
            let version = old.version?;
            self.key_lists
                .write_log(&recipe.connection_id, &recipe.data_type, |log| {
                    log.since(version)
                })
        });
        if let (Some(old), Some((upto, written)), Some(sql)) =
            (old, since, recipe.merge_sql.as_deref())
        {
            let snapshot = Instant::now();
            let (version, keys) = self.merge_list(&recipe, sql, &old.keys, &written).await?;
            if version == Some(upto) {
                self.key_lists.merged.fetch_add(1, AtomicOrdering::Relaxed);
                return Ok(Arc::new(KeyList::new(version, keys, snapshot, recipe)));
            }
            // Written meanwhile, or by another process: the merge may miss records.
            tracing::debug!("a key list's merge was overtaken by writes; building it anew");
        }
        self.build_list(recipe).await
    }

    /// A list's keys after the writes to `written`, from its previous `keys`.
    async fn merge_list(
        &self,
        recipe: &Recipe,
        merge_sql: &str,
        keys: &Keys,
        written: &[String],
    ) -> Result<(Option<i64>, Keys)> {
        let Recipe {
            connection_id,
            data_type,
            params,
            ..
        } = recipe;
        match (&self.reads, keys) {
            (Db::Sqlite(pool), Keys::Rowids(previous)) => {
                let q = sqlx::query_as::<_, (Option<i64>, Option<String>)>(merge_sql)
                    .bind(connection_id)
                    .bind(data_type);
                let (version, text) = bind_params!(q, params, Dialect::Sqlite)
                    .bind(rowid_array(previous))
                    .bind(serde_json::to_string(written).expect("a list of strings serializes"))
                    .fetch_one(pool)
                    .await?;
                Ok((version, Keys::Rowids(parse_rowids(text.as_deref())?)))
            }
            (Db::Postgres(pool), Keys::Ids(previous)) => {
                let q = sqlx::query_as::<_, (Option<i64>, Option<Vec<String>>)>(merge_sql)
                    .bind(connection_id)
                    .bind(data_type);
                let (version, ids) = bind_params!(q, params, Dialect::Postgres)
                    .bind(previous)
                    .bind(written)
                    .fetch_one(pool)
                    .await?;
                Ok((version, Keys::Ids(ids.unwrap_or_default())))
            }
            _ => unreachable!("key lists are built by the store's own engine"),
        }
    }

    /// Reads a query's key list alone (one statement, one snapshot).
    async fn build_list(&self, recipe: Arc<Recipe>) -> Result<Arc<KeyList>> {
        let Recipe {
            connection_id,
            data_type,
            params,
            keys_sql,
            ..
        } = &*recipe;
        let built = Instant::now();
        let (version, keys) = match &self.reads {
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
        Ok(Arc::new(KeyList::new(version, keys, built, recipe)))
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
        let (version, keys, fetched) = match &self.reads {
            Db::Sqlite(pool) => {
                let mut tx = crate::begin(pool, "BEGIN").await?;
                let (version, rowids) =
                    keys_sqlite(&mut *tx, connection_id, data_type, &s.keys, &c.params).await?;
                let k = slice(&rowids, query);
                let fetched = fetch_sqlite(&mut *tx, connection_id, data_type, &s.page, k).await?;
                let keys = Keys::Rowids(rowids);
                tx.commit().await?;
                (version, keys, fetched)
            }
            Db::Postgres(pool) => {
                let mut tx =
                    crate::begin(pool, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
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
        let recipe = Arc::new(Recipe {
            connection_id: connection_id.to_string(),
            data_type: data_type.to_string(),
            params: c.params.clone(),
            keys_sql: s.keys.clone(),
            merge_sql: s.merge.clone(),
        });
        Ok((Arc::new(KeyList::new(version, keys, built, recipe)), page))
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
        match (&self.reads, page_keys(keys, query)) {
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
