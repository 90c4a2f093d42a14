//! Raw PrestaShop records and mapped commerce records: idempotent page writes (only changed
//! content is written, together with its checkpoint, in one transaction), deletion marks,
//! reads and the API's paged queries.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{QueryBuilder, Row};

use crate::checkpoints::{save_checkpoint_sql, Checkpoint};
use crate::error::{Result, StoreError};
use crate::hash::content_hash;
use crate::query::{Page, Query};
use crate::raw_links::stored_raw;
use crate::time::format_timestamp;
use crate::{on_pool, Db, Dialect, IdList, Store};

/// Rows per multi-row INSERT: 7 parameters each stays far below both engines' limits.
const INSERT_CHUNK: usize = 500;

/// One PrestaShop record as read, by its id within its resource.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// PrestaShop id (as text).
    pub source_id: String,
    /// The id (or reference) of the record this one belongs to, e.g. an order detail's
    /// `id_order`, so that a page of orders finds its rows by index (see
    /// [`Store::list_raw_by_parent`]).
    pub parent_key: Option<String>,
    /// The decoded record tree.
    pub data: Value,
}

/// A raw record already in its stored form: its JSON text (without NUL characters) and the
/// [`content_hash`] of that JSON, computed by the caller in one pass over the record (the
/// sync encodes received records straight from their tree, without a `Value` in between).
/// [`EncodedRaw::from`] a [`RawRecord`] gives the same text and hash as writing the
/// `RawRecord` itself.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedRaw {
    /// PrestaShop id (as text).
    pub source_id: String,
    /// See [`RawRecord::parent_key`].
    pub parent_key: Option<String>,
    /// The record's JSON text, as stored.
    pub json: String,
    /// [`content_hash`] of the record.
    pub content_hash: String,
}

impl From<&RawRecord> for EncodedRaw {
    fn from(r: &RawRecord) -> EncodedRaw {
        let (data, json) = without_nul(&r.data);
        EncodedRaw {
            source_id: r.source_id.clone(),
            parent_key: r.parent_key.clone(),
            json,
            content_hash: content_hash(&data, &[]),
        }
    }
}

/// One mapped commerce record. The store sets `modifiedDate` in `data` when it writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommerceRecord {
    /// The record's id in the commerce model.
    pub id: String,
    /// The record in the commerce model's JSON form (an object).
    pub data: Value,
    /// When the record last changed in PrestaShop (offset-qualified ISO 8601), if known.
    pub source_modified_date: Option<String>,
}

/// What a page write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertStats {
    /// Records that did not exist before.
    pub inserted: u64,
    /// Records whose content changed, or that were deleted and came back.
    pub updated: u64,
    /// Records whose content was already stored as is (nothing written).
    pub unchanged: u64,
}

impl UpsertStats {
    /// Records actually written.
    pub fn written(&self) -> u64 {
        self.inserted + self.updated
    }

    fn add(&mut self, other: UpsertStats) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// Which records: raw ones of a PrestaShop resource, or commerce ones of a data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSet<'a> {
    /// Raw records of a resource, e.g. `orders`.
    Raw(&'a str),
    /// Commerce records of a data type, e.g. `commerce-orders`.
    Commerce(&'a str),
}

impl RecordSet<'_> {
    fn table(&self) -> (&'static str, &'static str, &'static str, &str) {
        match self {
            RecordSet::Raw(resource) => ("raw_records", "resource", "source_id", resource),
            RecordSet::Commerce(data_type) => ("commerce_records", "data_type", "id", data_type),
        }
    }
}

/// Everything one page of a sync writes, applied in a single transaction: a crash leaves
/// either all of it (records and checkpoints) or none.
#[derive(Debug, Clone, Default)]
pub struct PageWrite<'a> {
    /// Raw records, grouped by resource.
    pub raw: Vec<(&'a str, &'a [RawRecord])>,
    /// Commerce records, grouped by data type.
    pub commerce: Vec<(&'a str, &'a [CommerceRecord])>,
    /// Checkpoints to save with them.
    pub checkpoints: Vec<&'a Checkpoint>,
}

/// What a [`PageWrite`] did, for raw and commerce records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageWriteStats {
    /// Raw records.
    pub raw: UpsertStats,
    /// Commerce records.
    pub commerce: UpsertStats,
}

/// A stored raw record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRaw<T = Value> {
    /// PrestaShop id.
    pub source_id: String,
    /// The record it belongs to (see [`RawRecord::parent_key`]).
    pub parent_key: Option<String>,
    /// The record tree, as JSON or decoded straight into `T` (see [`Store::list_raw_as`]).
    pub data: T,
    /// Hash of `data` (see [`content_hash`]).
    pub content_hash: String,
    /// When this content was first read.
    pub fetched_at: String,
    /// Whether the record is gone from the store.
    pub deleted: bool,
}

/// A stored commerce record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRecord {
    /// The record's id.
    pub id: String,
    /// The record, with `modifiedDate` set by the store.
    pub data: Value,
    /// Hash of `data` without `modifiedDate`.
    pub content_hash: String,
    /// When prestalink last wrote a change to it (UTC).
    pub modified_date: String,
    /// When it last changed in PrestaShop.
    pub source_modified_date: Option<String>,
    /// Whether it is gone from the store.
    pub deleted: bool,
}

/// A record prepared for writing.
struct Prepared {
    id: String,
    data: String,
    hash: String,
    source_modified_date: Option<String>,
    parent_key: Option<String>,
}

/// Keeps the last occurrence of each id (a page may repeat one), in first-seen order.
fn dedup_last<T>(records: &[T], id: impl Fn(&T) -> &str) -> Vec<&T> {
    dedup_last_indices(records, id)
        .into_iter()
        .map(|i| &records[i])
        .collect()
}

/// The indices [`dedup_last`] keeps.
fn dedup_last_indices<T>(records: &[T], id: impl Fn(&T) -> &str) -> Vec<usize> {
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        last.insert(id(record), i);
    }
    let mut seen = HashSet::new();
    records
        .iter()
        .filter(|r| seen.insert(id(r)))
        .map(|r| last[id(r)])
        .collect()
}

fn prepare_raw(records: &[RawRecord]) -> Vec<Prepared> {
    dedup_last(records, |r| &r.source_id)
        .into_iter()
        .map(|r| encoded(EncodedRaw::from(r)))
        .collect()
}

fn encoded(r: EncodedRaw) -> Prepared {
    Prepared {
        id: r.source_id,
        hash: r.content_hash,
        data: r.json,
        source_modified_date: None,
        parent_key: r.parent_key,
    }
}

/// [`prepare_raw`] for records already encoded: kept as they are (the last of each id).
fn prepare_encoded(records: Vec<EncodedRaw>) -> Vec<Prepared> {
    let keep = dedup_last_indices(&records, |r| &r.source_id);
    if keep.len() == records.len() {
        // No id repeated: kept in order.
        return records.into_iter().map(encoded).collect();
    }
    let mut slots: Vec<Option<EncodedRaw>> = records.into_iter().map(Some).collect();
    keep.into_iter()
        .filter_map(|i| slots[i].take())
        .map(encoded)
        .collect()
}

/// The record and its JSON text without NUL characters, which PostgreSQL's JSONB cannot
/// hold (a shop's dirty text must not stop a sync); removed on both engines alike.
fn without_nul(data: &Value) -> (Cow<'_, Value>, String) {
    let data = nul_free(data);
    let text = data.to_string();
    (data, text)
}

/// `data`, or a copy of it with the NUL characters of its strings and keys removed.
fn nul_free(data: &Value) -> Cow<'_, Value> {
    fn has_nul(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    fn strip(value: &mut Value) {
        match value {
            Value::String(s) => s.retain(|c| c != '\0'),
            Value::Array(items) => items.iter_mut().for_each(strip),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (mut key, mut item) in entries {
                    key.retain(|c| c != '\0');
                    strip(&mut item);
                    map.insert(key, item);
                }
            }
            _ => {}
        }
    }
    if !has_nul(data) {
        return Cow::Borrowed(data);
    }
    let mut clean = data.clone();
    strip(&mut clean);
    Cow::Owned(clean)
}

/// A commerce record's JSON text with `modifiedDate` set to `modified`: the same text as
/// inserting the key into the object and serializing it (in its place if the record has
/// one, else last), without copying the record first.
fn with_modified_date(data: &Value, modified: &str) -> String {
    struct WithModified<'a>(&'a serde_json::Map<String, Value>, &'a str);
    impl serde::Serialize for WithModified<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let had = self.0.contains_key(MODIFIED_DATE);
            let mut map = s.serialize_map(Some(self.0.len() + usize::from(!had)))?;
            for (key, value) in self.0 {
                if key == MODIFIED_DATE {
                    map.serialize_entry(key, self.1)?;
                } else {
                    map.serialize_entry(key, value)?;
                }
            }
            if !had {
                map.serialize_entry(MODIFIED_DATE, self.1)?;
            }
            map.end()
        }
    }
    match data {
        Value::Object(map) => {
            serde_json::to_string(&WithModified(map, modified)).expect("JSON values serialize")
        }
        other => other.to_string(),
    }
}

const MODIFIED_DATE: &str = "modifiedDate";

fn prepare_commerce(records: &[CommerceRecord], modified: &str) -> Vec<Prepared> {
    dedup_last(records, |r| &r.id)
        .into_iter()
        .map(|r| {
            let data = nul_free(&r.data);
            let hash = content_hash(&data, &[MODIFIED_DATE]);
            let source_modified_date = r.source_modified_date.clone().or_else(|| {
                r.data
                    .get("sourceModifiedDate")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            Prepared {
                id: r.id.clone(),
                data: with_modified_date(&data, modified),
                hash,
                source_modified_date,
                parent_key: None,
            }
        })
        .collect()
}

/// Moves a data type's `record_versions` counter; run in the transaction of every write
/// that changes its commerce records, so that the API's cached key lists see it
/// (record_pages.rs).
const BUMP_RECORD_VERSION: &str =
    "INSERT INTO record_versions (connection_id, data_type, version) \
     VALUES ($1, $2, 1) ON CONFLICT (connection_id, data_type) \
     DO UPDATE SET version = record_versions.version + 1 RETURNING version";

/// Upserts one group of prepared records inside the transaction `$tx`.
macro_rules! upsert_group {
    ($store:expr, $tx:expr, $connection_id:expr, $set:expr, $prepared:expr, $now:expr) => {{
        let store: &Store = $store;
        let (table, kind_col, id_col, kind) = $set.table();
        let prepared: Vec<Prepared> = $prepared;
        let is_commerce = matches!($set, RecordSet::Commerce(_));
        let mut stats = UpsertStats::default();
        let is_pg = store.dialect() == Dialect::Postgres;
        // SQLite: look the page's hashes up first (index lookups through json_each are
        // cheap), then write only new and changed records. PostgreSQL: one upsert per chunk
        // whose WHERE skips unchanged rows and whose RETURNING tells inserts from updates;
        // a lookup by id list there was planned as a scan of the whole connection on freshly
        // loaded tables (160 ms per page of 500 at 20 000 rows).
        let mut changed: Vec<&Prepared> = Vec::new();
        if is_pg {
            changed.extend(prepared.iter());
        } else {
            let mut existing: HashMap<String, (String, bool)> = HashMap::new();
            for chunk in prepared.chunks(INSERT_CHUNK) {
                let ids: Vec<String> = chunk.iter().map(|p| p.id.clone()).collect();
                let sql = format!(
                    "SELECT {id_col}, content_hash, deleted FROM {table} \
                     WHERE connection_id = $1 AND {kind_col} = $2 AND {}",
                    store.in_id_list(id_col, "$3")
                );
                let rows = sqlx::query(&sql)
                    .bind($connection_id)
                    .bind(kind)
                    .bind(IdList::new(&ids))
                    .fetch_all(&mut *$tx)
                    .await?;
                for row in rows {
                    existing.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
                }
            }
            for p in &prepared {
                match existing.get(&p.id) {
                    None => {
                        stats.inserted += 1;
                        changed.push(p);
                    }
                    Some((hash, deleted)) if hash != &p.hash || *deleted => {
                        stats.updated += 1;
                        changed.push(p);
                    }
                    Some(_) => stats.unchanged += 1,
                }
            }
        }
        for chunk in changed.chunks(INSERT_CHUNK) {
            let (time_cols, time_updates) = if is_commerce {
                (
                    "modified_date, source_modified_date",
                    "modified_date = excluded.modified_date, \
                     source_modified_date = excluded.source_modified_date",
                )
            } else {
                (
                    "fetched_at, parent_key",
                    "fetched_at = excluded.fetched_at, parent_key = excluded.parent_key",
                )
            };
            let mut builder = QueryBuilder::new(format!(
                "INSERT INTO {table} (connection_id, {kind_col}, {id_col}, data, content_hash, \
                 deleted, {time_cols}) "
            ));
            builder.push_values(chunk, |mut b, p| {
                b.push_bind($connection_id)
                    .push_bind(kind)
                    .push_bind(p.id.as_str())
                    .push_bind(p.data.as_str());
                if is_pg {
                    b.push_unseparated("::jsonb");
                }
                b.push_bind(p.hash.as_str()).push_bind(false).push_bind($now);
                if is_commerce {
                    b.push_bind(p.source_modified_date.as_deref());
                } else {
                    b.push_bind(p.parent_key.as_deref());
                }
            });
            builder.push(format!(
                " ON CONFLICT (connection_id, {kind_col}, {id_col}) DO UPDATE SET \
                 data = excluded.data, content_hash = excluded.content_hash, \
                 deleted = excluded.deleted, {time_updates}"
            ));
            if is_pg {
                builder.push(format!(
                    " WHERE {table}.content_hash <> excluded.content_hash OR {table}.deleted \
                     RETURNING (xmax = 0) AS inserted"
                ));
                let rows = builder.build().fetch_all(&mut *$tx).await?;
                let mut inserted = 0;
                for row in &rows {
                    if row.try_get::<bool, _>(0)? {
                        inserted += 1;
                    }
                }
                stats.inserted += inserted;
                stats.updated += rows.len() as u64 - inserted;
                stats.unchanged += (chunk.len() - rows.len()) as u64;
            } else {
                builder.build().execute(&mut *$tx).await?;
            }
        }
        Ok::<UpsertStats, StoreError>(stats)
    }};
}

impl Store {
    /// Writes a page: raw and commerce records (only those whose content changed) and the
    /// checkpoints, in one transaction. `now` becomes `modifiedDate` of changed records.
    pub async fn write_page(
        &self,
        connection_id: &str,
        page: &PageWrite<'_>,
        now: DateTime<Utc>,
    ) -> Result<PageWriteStats> {
        let raw = page
            .raw
            .iter()
            .map(|(resource, records)| (*resource, prepare_raw(records)))
            .collect();
        self.write_prepared(connection_id, raw, &page.commerce, &page.checkpoints, now)
            .await
    }

    /// [`Store::write_page`] with the raw records prepared.
    async fn write_prepared(
        &self,
        connection_id: &str,
        raw: Vec<(&str, Vec<Prepared>)>,
        commerce: &[(&str, &[CommerceRecord])],
        checkpoints: &[&Checkpoint],
        now: DateTime<Utc>,
    ) -> Result<PageWriteStats> {
        let now_text = format_timestamp(now);
        let mut stats = PageWriteStats::default();
        // Data types written, with the version their write moved them to and the records
        // given (those written among them), for the API's key lists.
        let mut moved: Vec<(&str, i64, &[CommerceRecord])> = Vec::new();
        let mut raw = raw;
        on_pool!(&self.db, pool => {
            let mut tx = crate::begin(pool, self.begin_write()).await?;
            for (resource, prepared) in std::mem::take(&mut raw) {
                let set = RecordSet::Raw(resource);
                let s = upsert_group!(self, tx, connection_id, set, prepared, &now_text)?;
                stats.raw.add(s);
            }
            for (data_type, records) in commerce {
                let set = RecordSet::Commerce(data_type);
                let prepared = prepare_commerce(records, &now_text);
                let s = upsert_group!(self, tx, connection_id, set, prepared, &now_text)?;
                if s.written() > 0 {
                    let version: i64 = sqlx::query_scalar(BUMP_RECORD_VERSION)
                        .bind(connection_id)
                        .bind(*data_type)
                        .fetch_one(&mut *tx)
                        .await?;
                    moved.push((*data_type, version, *records));
                }
                stats.commerce.add(s);
            }
            for checkpoint in checkpoints {
                let (sql, binds) = save_checkpoint_sql(connection_id, checkpoint, &now_text);
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(b);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        for (data_type, version, records) in moved {
            let ids = records.iter().map(|r| r.id.as_str());
            self.records_moved(connection_id, data_type, version, ids);
        }
        Ok(stats)
    }

    /// Writes one page of encoded raw records of `resource` (see [`EncodedRaw`]), with its
    /// checkpoint if given, atomically: [`Store::upsert_raw_page`] without encoding again.
    pub async fn upsert_encoded_raw_page(
        &self,
        connection_id: &str,
        resource: &str,
        records: Vec<EncodedRaw>,
        checkpoint: Option<&Checkpoint>,
        now: DateTime<Utc>,
    ) -> Result<UpsertStats> {
        let checkpoints: Vec<&Checkpoint> = checkpoint.into_iter().collect();
        let raw = vec![(resource, prepare_encoded(records))];
        Ok(self
            .write_prepared(connection_id, raw, &[], &checkpoints, now)
            .await?
            .raw)
    }

    /// Writes one page of raw records of `resource`, with its checkpoint if given, atomically.
    pub async fn upsert_raw_page(
        &self,
        connection_id: &str,
        resource: &str,
        records: &[RawRecord],
        checkpoint: Option<&Checkpoint>,
        now: DateTime<Utc>,
    ) -> Result<UpsertStats> {
        let page = PageWrite {
            raw: vec![(resource, records)],
            checkpoints: checkpoint.into_iter().collect(),
            ..Default::default()
        };
        Ok(self.write_page(connection_id, &page, now).await?.raw)
    }

    /// Writes one page of commerce records of `data_type`, with its checkpoint if given,
    /// atomically; `modifiedDate` moves to `now` only for records whose content changed.
    pub async fn upsert_commerce_page(
        &self,
        connection_id: &str,
        data_type: &str,
        records: &[CommerceRecord],
        checkpoint: Option<&Checkpoint>,
        now: DateTime<Utc>,
    ) -> Result<UpsertStats> {
        let page = PageWrite {
            commerce: vec![(data_type, records)],
            checkpoints: checkpoint.into_iter().collect(),
            ..Default::default()
        };
        Ok(self.write_page(connection_id, &page, now).await?.commerce)
    }

    /// Ids in a record set, in natural order (numeric ids numerically); deleted ones only when
    /// asked.
    pub async fn list_ids(
        &self,
        connection_id: &str,
        set: RecordSet<'_>,
        include_deleted: bool,
    ) -> Result<Vec<String>> {
        let (table, kind_col, id_col, kind) = set.table();
        let filter = if include_deleted {
            ""
        } else {
            " AND deleted = FALSE"
        };
        let sql = format!(
            "SELECT {id_col} FROM {table} WHERE connection_id = $1 AND {kind_col} = $2{filter} \
             ORDER BY length({id_col}), {id_col}{}",
            self.binary_collation()
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).bind(kind).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(r.try_get::<String, _>(0)?)).collect()
        })
    }

    /// Marks the given ids deleted (those not already so); returns how many changed. For
    /// commerce records `modifiedDate` moves to `now`, since a deletion is a change.
    pub async fn mark_deleted(
        &self,
        connection_id: &str,
        set: RecordSet<'_>,
        ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let (table, kind_col, id_col, kind) = set.table();
        let now_text = format_timestamp(now);
        let touch = match (set, self.dialect()) {
            // A deletion is a change: it moves `fetched_at`, so incremental mapping sees it.
            (RecordSet::Raw(_), _) => ", fetched_at = $4".to_string(),
            (RecordSet::Commerce(_), Dialect::Sqlite) => ", modified_date = $4, \
                data = CASE WHEN json_type(data) = 'object' \
                THEN json_set(data, '$.modifiedDate', $4) ELSE data END"
                .to_string(),
            (RecordSet::Commerce(_), Dialect::Postgres) => ", modified_date = $4, \
                data = CASE WHEN jsonb_typeof(data) = 'object' \
                THEN jsonb_set(data, '{modifiedDate}', to_jsonb(CAST($4 AS text))) ELSE data END"
                .to_string(),
        };
        let sql = format!(
            "UPDATE {table} SET deleted = TRUE{touch} WHERE connection_id = $1 AND {kind_col} = $2 \
             AND deleted = FALSE AND {}",
            self.in_id_list(id_col, "$3")
        );
        let mut changed = 0;
        let mut version = 0;
        on_pool!(&self.db, pool => {
            let mut tx = crate::begin(pool, self.begin_write()).await?;
            for chunk in ids.chunks(INSERT_CHUNK * 4) {
                let ids = IdList::new(chunk);
                let done = sqlx::query(&sql)
                    .bind(connection_id)
                    .bind(kind)
                    .bind(ids)
                    .bind(&now_text)
                    .execute(&mut *tx)
                    .await?;
                changed += done.rows_affected();
            }
            if let (RecordSet::Commerce(data_type), true) = (set, changed > 0) {
                version = sqlx::query_scalar(BUMP_RECORD_VERSION)
                    .bind(connection_id)
                    .bind(data_type)
                    .fetch_one(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        if let (RecordSet::Commerce(data_type), true) = (set, changed > 0) {
            self.records_moved(
                connection_id,
                data_type,
                version,
                ids.iter().map(String::as_str),
            );
        }
        Ok(changed)
    }

    /// Deletion reconciliation: marks deleted every live record of the set whose id is not in
    /// `seen_ids` (the complete list of ids the shop has now). Returns the ids marked.
    pub async fn mark_deleted_except(
        &self,
        connection_id: &str,
        set: RecordSet<'_>,
        seen_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let seen: HashSet<&str> = seen_ids.iter().map(String::as_str).collect();
        let gone: Vec<String> = self
            .list_ids(connection_id, set, false)
            .await?
            .into_iter()
            .filter(|id| !seen.contains(id.as_str()))
            .collect();
        self.mark_deleted(connection_id, set, &gone, now).await?;
        Ok(gone)
    }

    /// One raw record, deleted or not.
    pub async fn get_raw(
        &self,
        connection_id: &str,
        resource: &str,
        source_id: &str,
    ) -> Result<Option<StoredRaw>> {
        let sql = format!(
            "SELECT {} FROM raw_records \
             WHERE connection_id = $1 AND resource = $2 AND source_id = $3",
            self.raw_columns()
        );
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(source_id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(stored_raw).transpose()
        })
    }

    /// Raw records of a resource after `after_id` in natural id order, `limit` at a time:
    /// for re-mapping stored data without reading the shop again. Deleted ones are skipped.
    pub async fn list_raw(
        &self,
        connection_id: &str,
        resource: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredRaw>> {
        self.list_raw_as(connection_id, resource, after_id, limit)
            .await
    }

    /// Every live raw record of `resource`, page by page in natural id order (keyset paging
    /// with [`Store::list_raw_as`]): `while let Some(page) = pages.next::<T>().await? {…}`.
    pub fn raw_pages<'a>(
        &'a self,
        connection_id: &'a str,
        resource: &'a str,
        page_size: u32,
    ) -> RawPages<'a> {
        RawPages {
            store: self,
            connection_id,
            resource,
            page_size,
            after: None,
        }
    }

    /// [`Store::list_raw`] with each record decoded straight into `T` (the sync's record
    /// trees), which saves building a JSON `Value` first: about a tenth of a full sync's CPU.
    pub async fn list_raw_as<T: serde::de::DeserializeOwned>(
        &self,
        connection_id: &str,
        resource: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredRaw<T>>> {
        let sql = format!(
            "SELECT {} FROM raw_records \
             WHERE connection_id = $1 AND resource = $2 AND deleted = FALSE{} \
             ORDER BY length(source_id), source_id{} LIMIT $4",
            self.raw_columns(),
            self.after_in_natural_order(after_id, "$3"),
            self.binary_collation()
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(stored_raw).collect()
        })
    }

    /// One commerce record, deleted or not.
    pub async fn get_record(
        &self,
        connection_id: &str,
        data_type: &str,
        id: &str,
    ) -> Result<Option<StoredRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS_PREFIX}{}, {RECORD_COLUMNS_SUFFIX} FROM commerce_records \
             WHERE connection_id = $1 AND data_type = $2 AND id = $3",
            self.json_column("data")
        );
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql)
                .bind(connection_id)
                .bind(data_type)
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.map(|row| stored_record(&row)).transpose()
        })
    }

    /// One page of commerce records of a data type, filtered by the Codat query language and
    /// ordered by `orderBy`, entirely in SQL.
    pub async fn query_records(
        &self,
        connection_id: &str,
        data_type: &str,
        query: &Query,
    ) -> Result<Page<StoredRecord>> {
        crate::paging::check_paging(query)?;
        let dialect = self.dialect();
        let c = crate::paging::compile(query, dialect, 3)?;
        let next = c.params.len() + 3;
        let select_sql = format!(
            "SELECT {RECORD_COLUMNS_PREFIX}{}, {RECORD_COLUMNS_SUFFIX} FROM commerce_records \
             WHERE connection_id = $1 AND data_type = $2{} ORDER BY {} LIMIT ${next} OFFSET ${}",
            self.json_column("data"),
            c.filter,
            c.order,
            next + 1
        );
        let offset = i64::from(query.page - 1) * i64::from(query.page_size);
        let total = self
            .count_matching_records(connection_id, data_type, query)
            .await?;
        let results = on_pool!(&self.db, pool => {
            let select = sqlx::query(&select_sql).bind(connection_id).bind(data_type);
            let rows = crate::paging::bind_params!(select, &c.params, dialect)
                .bind(i64::from(query.page_size))
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(stored_record).collect::<Result<Vec<_>>>()?
        });
        Ok(Page {
            results,
            page_number: query.page,
            page_size: query.page_size,
            total_results: total,
        })
    }

    /// How many live commerce records of each data type a connection has.
    pub async fn count_records(&self, connection_id: &str) -> Result<Vec<(String, u64)>> {
        let sql = "SELECT data_type, COUNT(*) FROM commerce_records \
                   WHERE connection_id = $1 AND deleted = FALSE GROUP BY data_type ORDER BY data_type";
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)? as u64)))
                .collect()
        })
    }

    /// ` COLLATE "C"` on PostgreSQL so text orders byte-wise as on SQLite.
    pub(crate) fn binary_collation(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " COLLATE \"C\"",
        }
    }
}

const RECORD_COLUMNS_PREFIX: &str = "id, ";
const RECORD_COLUMNS_SUFFIX: &str = "content_hash, modified_date, source_modified_date, deleted";

fn stored_record<R: Row>(row: &R) -> Result<StoredRecord>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredRecord {
        id: row.try_get(0)?,
        data: parse_json(row.try_get(1)?, "commerce_records.data")?,
        content_hash: row.try_get(2)?,
        modified_date: row.try_get(3)?,
        source_modified_date: row.try_get(4)?,
        deleted: row.try_get(5)?,
    })
}

/// Pages of a resource's live raw records, from [`Store::raw_pages`].
#[derive(Debug)]
pub struct RawPages<'a> {
    store: &'a Store,
    connection_id: &'a str,
    resource: &'a str,
    page_size: u32,
    after: Option<String>,
}

impl RawPages<'_> {
    /// The next page, each record decoded into `T`; `None` after the last one.
    pub async fn next<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<Option<Vec<StoredRaw<T>>>> {
        let page = self
            .store
            .list_raw_as(
                self.connection_id,
                self.resource,
                self.after.as_deref(),
                self.page_size,
            )
            .await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = Some(last.source_id.clone());
        Ok(Some(page))
    }
}

pub(crate) fn parse_json(text: String, what: &'static str) -> Result<Value> {
    parse_json_as(&text, what)
}

/// Stored JSON text decoded straight into `T`, without a `Value` in between.
pub(crate) fn parse_json_as<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &'static str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|source| StoreError::Json { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_in_a_page_keep_the_last_version() {
        let records = vec![
            RawRecord {
                source_id: "1".into(),
                parent_key: None,
                data: Value::from(1),
            },
            RawRecord {
                source_id: "2".into(),
                parent_key: None,
                data: Value::from(2),
            },
            RawRecord {
                source_id: "1".into(),
                parent_key: None,
                data: Value::from(3),
            },
        ];
        let kept = prepare_raw(&records);
        assert_eq!(kept.len(), 2);
        assert_eq!((kept[0].id.as_str(), kept[0].data.as_str()), ("1", "3"));
        assert_eq!(kept[1].id, "2");
    }

    #[test]
    fn the_modified_date_is_written_as_inserting_it_would() {
        use serde_json::json;
        for data in [
            json!({"id": "1", "modifiedDate": "old", "total": 2.5}),
            json!({"id": "1", "total": 2.5, "lines": [{"modifiedDate": "kept"}]}),
            json!("not an object"),
        ] {
            let mut expected = data.clone();
            if let Value::Object(map) = &mut expected {
                map.insert(MODIFIED_DATE.into(), Value::String("2025-01-01".into()));
            }
            assert_eq!(
                with_modified_date(&data, "2025-01-01"),
                expected.to_string()
            );
        }
    }

    #[test]
    fn nul_characters_are_removed_from_strings_and_keys_only_when_present() {
        use serde_json::json;
        let clean = json!({"a": ["x", {"b": 1}]});
        assert!(matches!(nul_free(&clean), Cow::Borrowed(_)));
        let dirty = json!({"a\0": ["x\0y", {"b": "\0"}]});
        let fixed = nul_free(&dirty);
        assert_eq!(*fixed, json!({"a": ["xy", {"b": ""}]}));
        let (_, text) = without_nul(&dirty);
        assert!(!text.contains("\\u0000"), "{text}");
    }
}
