//! Raw records by the record they belong to, by id lists, and by change time: what the
//! sync engine needs to map a page of orders with its own rows, and to map only what
//! changed since its last pass, without loading a whole resource.

use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::error::Result;
use crate::records::{parse_json_as, StoredRaw};
use crate::{on_pool, IdList, Store};

/// Runs `$sql` once per chunk of at most 1,000 of `$values`, binding the connection, the
/// resource and the chunk as `$1`, `$2`, `$3`, and collects every answered row decoded by
/// `$decode` (an expression of `$row`, compiled for each engine's row type).
macro_rules! rows_by_id_chunks {
    ($store:expr, $sql:expr, $connection_id:expr, $resource:expr, $values:expr, |$row:ident| $decode:expr) => {{
        let mut out = Vec::new();
        for chunk in $values.chunks(1000) {
            let list = IdList::new(chunk);
            on_pool!(&$store.db, pool => {
                let rows = sqlx::query(&$sql)
                    .bind($connection_id)
                    .bind($resource)
                    .bind(list)
                    .fetch_all(pool)
                    .await?;
                for $row in &rows {
                    out.push($decode);
                }
            });
        }
        out
    }};
}

impl Store {
    /// Raw records of `resource` whose parent key is one of `keys` (deleted ones included;
    /// check [`StoredRaw::deleted`]), in id order.
    pub async fn list_raw_by_parent(
        &self,
        connection_id: &str,
        resource: &str,
        keys: &[String],
    ) -> Result<Vec<StoredRaw>> {
        self.list_raw_by_parent_as(connection_id, resource, keys)
            .await
    }

    /// [`Store::list_raw_by_parent`], decoded straight into `T`.
    pub async fn list_raw_by_parent_as<T: DeserializeOwned>(
        &self,
        connection_id: &str,
        resource: &str,
        keys: &[String],
    ) -> Result<Vec<StoredRaw<T>>> {
        self.raw_where(connection_id, resource, "parent_key", keys)
            .await
    }

    /// Ids of the live raw records of `resource` whose parent key is one of `keys`.
    pub async fn list_raw_ids_by_parent(
        &self,
        connection_id: &str,
        resource: &str,
        keys: &[String],
    ) -> Result<Vec<String>> {
        Ok(self
            .list_raw_keys_by_parent(connection_id, resource, keys)
            .await?
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|r| r.source_id)
            .collect())
    }

    /// The keys of the raw records of `resource` whose parent key is one of `keys` (deleted
    /// ones included), in natural id order: [`Store::list_raw_by_parent`] without the
    /// records' data, which is neither selected nor parsed.
    pub async fn list_raw_keys_by_parent(
        &self,
        connection_id: &str,
        resource: &str,
        keys: &[String],
    ) -> Result<Vec<RawKey>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM raw_records{} WHERE connection_id = $1 AND resource = $2 \
             AND {} ORDER BY length(source_id), source_id{}",
            self.raw_lookup_index("parent_key"),
            self.in_id_list("parent_key", "$3"),
            self.binary_collation()
        );
        Ok(rows_by_id_chunks!(
            self,
            sql,
            connection_id,
            resource,
            keys,
            |row| raw_key(row)?
        ))
    }

    /// Raw records of `resource` with the given ids (deleted ones included).
    pub async fn get_raw_many(
        &self,
        connection_id: &str,
        resource: &str,
        ids: &[String],
    ) -> Result<Vec<StoredRaw>> {
        self.get_raw_many_as(connection_id, resource, ids).await
    }

    /// [`Store::get_raw_many`], decoded straight into `T`.
    pub async fn get_raw_many_as<T: DeserializeOwned>(
        &self,
        connection_id: &str,
        resource: &str,
        ids: &[String],
    ) -> Result<Vec<StoredRaw<T>>> {
        self.raw_where(connection_id, resource, "source_id", ids)
            .await
    }

    /// Ids of the live raw records of `resource` whose record field `field` (a top-level
    /// field of the record tree, e.g. an order's `id_customer`) is one of `values`. Scans the
    /// resource's records: meant for occasional lookups (orders of customers that changed).
    pub async fn list_raw_ids_by_field(
        &self,
        connection_id: &str,
        resource: &str,
        field: &str,
        values: &[String],
    ) -> Result<Vec<String>> {
        if !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || field.is_empty() {
            return Err(crate::error::StoreError::InvalidField(field.to_string()));
        }
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let extract = match self.dialect() {
            crate::Dialect::Sqlite => format!("json_extract(data, '$.fields.{field}')"),
            crate::Dialect::Postgres => format!("(data #>> '{{fields,{field}}}')"),
        };
        let sql = format!(
            "SELECT source_id FROM raw_records WHERE connection_id = $1 AND resource = $2 \
             AND deleted = FALSE AND {}",
            self.in_id_list(&extract, "$3")
        );
        Ok(rows_by_id_chunks!(
            self,
            sql,
            connection_id,
            resource,
            values,
            |row| row.try_get::<String, _>(0)?
        ))
    }

    /// Ids of the live raw records of `resource` after `after_id` (exclusive) up to
    /// `up_to_id` (inclusive, `None` = no end), in natural id order: a deletion check can
    /// walk a resource range by range instead of holding every id at once.
    pub async fn list_raw_ids_in_range(
        &self,
        connection_id: &str,
        resource: &str,
        after_id: Option<&str>,
        up_to_id: Option<&str>,
    ) -> Result<Vec<String>> {
        let collate = self.binary_collation();
        let up_to = match up_to_id {
            Some(_) => format!(
                " AND (length(source_id) < length($4) OR (length(source_id) = length($4) \
                 AND source_id{collate} <= $4))"
            ),
            None => " AND $4 IS NULL".to_string(),
        };
        let sql = format!(
            "SELECT source_id FROM raw_records WHERE connection_id = $1 AND resource = $2 \
             AND deleted = FALSE{}{up_to} ORDER BY length(source_id), source_id{collate}",
            self.after_in_natural_order(after_id, "$3")
        );
        on_pool!(&self.db, pool => {
            let ids: Vec<String> = sqlx::query_scalar(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(after_id)
                .bind(up_to_id)
                .fetch_all(pool)
                .await?;
            Ok(ids)
        })
    }

    /// The live raw rows of `resource` after `after_id` (natural id order) that were last
    /// written before `written_before` and that `present` says the shop no longer has: what
    /// a full read that began at `written_before` looks for once it has received everything
    /// (the rows it wrote, it received). The rows are streamed in one pass over the
    /// `fetched_at` index; only the gone ids are kept. On a first sync there are none to
    /// visit; the walk over every stored id it replaces visited all the rows the read had
    /// just written (962k rows, 13 s of 100,000 orders' first sync). Timestamps are each
    /// writer's own clock: the hosts of one database keep their clocks in step, as their
    /// job leases already require.
    pub async fn raw_ids_gone(
        &self,
        connection_id: &str,
        resource: &str,
        after_id: Option<&str>,
        written_before: &str,
        present: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>> {
        use futures::TryStreamExt;
        let sql = format!(
            "SELECT source_id FROM raw_records{} WHERE connection_id = $1 AND resource = $2 \
             AND fetched_at < $4 AND deleted = FALSE{}",
            self.fetched_index(),
            self.after_in_natural_order(after_id, "$3")
        );
        let mut gone = Vec::new();
        on_pool!(&self.db, pool => {
            let mut ids = sqlx::query_scalar::<_, String>(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(after_id)
                .bind(written_before)
                .fetch(pool);
            while let Some(id) = ids.try_next().await? {
                if !present(&id) {
                    gone.push(id);
                }
            }
        });
        Ok(gone)
    }

    /// On SQLite, the `fetched_at` index named: SQLite would rather walk the natural-order
    /// index for an id range (then every row is visited); the `fetched_at` index finds the
    /// few old rows.
    fn fetched_index(&self) -> &'static str {
        self.sqlite_only(" INDEXED BY raw_records_fetched")
    }

    /// `clause` on SQLite (an index hint), nothing on PostgreSQL, which plans with its own
    /// statistics.
    fn sqlite_only(&self, clause: &'static str) -> &'static str {
        match self.dialect() {
            crate::Dialect::Sqlite => clause,
            crate::Dialect::Postgres => "",
        }
    }

    /// Raw records of `resource` written or deleted after `since` (a UTC timestamp as the
    /// store formats them), after `after_id` in natural id order, `limit` at a time.
    pub async fn list_raw_changed_since(
        &self,
        connection_id: &str,
        resource: &str,
        since: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StoredRaw>> {
        let sql = self.changed_since_sql(&self.raw_columns(), after_id);
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(since)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(stored_raw).collect()
        })
    }

    /// The statement of [`Store::list_raw_changed_since`] selecting `columns`.
    fn changed_since_sql(&self, columns: &str, after_id: Option<&str>) -> String {
        format!(
            "SELECT {columns} FROM raw_records \
             WHERE connection_id = $1 AND resource = $2 AND fetched_at > $3{} \
             ORDER BY length(source_id), source_id{} LIMIT $5",
            self.after_in_natural_order(after_id, "$4"),
            self.binary_collation()
        )
    }

    /// The content hash, deletion mark and one top-level record field (`field`, e.g.
    /// `date_upd`, as text) of the raw records of `resource` with the given ids (deleted
    /// ones included), in natural id order: what comparing received records with stored
    /// ones needs, without selecting and parsing the records' JSON.
    pub async fn list_raw_hashes(
        &self,
        connection_id: &str,
        resource: &str,
        ids: &[String],
        field: &str,
    ) -> Result<Vec<RawHash>> {
        if !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || field.is_empty() {
            return Err(crate::error::StoreError::InvalidField(field.to_string()));
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let extract = match self.dialect() {
            crate::Dialect::Sqlite => format!("json_extract(data, '$.fields.{field}')"),
            crate::Dialect::Postgres => format!("(data #>> '{{fields,{field}}}')"),
        };
        let sql = format!(
            "SELECT source_id, content_hash, deleted, {extract} FROM raw_records{} \
             WHERE connection_id = $1 AND resource = $2 AND {} \
             ORDER BY length(source_id), source_id{}",
            self.raw_lookup_index("source_id"),
            self.in_id_list("source_id", "$3"),
            self.binary_collation()
        );
        Ok(rows_by_id_chunks!(
            self,
            sql,
            connection_id,
            resource,
            ids,
            |row| RawHash {
                source_id: row.try_get(0)?,
                content_hash: row.try_get(1)?,
                deleted: row.try_get(2)?,
                field: row.try_get(3)?,
            }
        ))
    }

    /// The keys of the raw records of `resource` written or deleted after `since`:
    /// [`Store::list_raw_changed_since`] without the records' data, for callers that need
    /// only which records changed (and their parents).
    pub async fn list_raw_keys_changed_since(
        &self,
        connection_id: &str,
        resource: &str,
        since: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RawKey>> {
        let sql = self.changed_since_sql(KEY_COLUMNS, after_id);
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(since)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(raw_key).collect()
        })
    }

    /// Every key [`Store::list_raw_keys_changed_since`] lists, read page by page.
    pub async fn all_raw_keys_changed_since(
        &self,
        connection_id: &str,
        resource: &str,
        since: &str,
    ) -> Result<Vec<RawKey>> {
        const PAGE: u32 = 2000;
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .list_raw_keys_changed_since(connection_id, resource, since, after.as_deref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.source_id.clone());
            all.extend(page);
        }
        Ok(all)
    }

    /// Raw records of `resource` whose `column` is one of `values`, in natural id order.
    async fn raw_where<T: DeserializeOwned>(
        &self,
        connection_id: &str,
        resource: &str,
        column: &str,
        values: &[String],
    ) -> Result<Vec<StoredRaw<T>>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let sql = self.raw_where_sql(column);
        Ok(rows_by_id_chunks!(
            self,
            sql,
            connection_id,
            resource,
            values,
            |row| stored_raw(row)?
        ))
    }
}

impl Store {
    /// The statement of [`Store::raw_where`].
    fn raw_where_sql(&self, column: &str) -> String {
        format!(
            "SELECT {} FROM raw_records{} WHERE connection_id = $1 AND resource = $2 AND {} \
             ORDER BY length(source_id), source_id{}",
            self.raw_columns(),
            self.raw_lookup_index(column),
            self.in_id_list(column, "$3"),
            self.binary_collation()
        )
    }

    /// The query plans (SQLite's `EXPLAIN QUERY PLAN` details, PostgreSQL's `EXPLAIN`) of
    /// the lookups of raw rows by parent keys and by ids that mapping makes for every
    /// page, on this database as it is now (its statistics or their absence).
    pub async fn explain_raw_lookups(&self) -> Result<Vec<String>> {
        let mut plans = Vec::new();
        for column in ["parent_key", "source_id"] {
            let sql = self.raw_where_sql(column);
            let ids = IdList::new(&["1".to_string(), "2".to_string()]);
            let plan: Vec<String> = match &self.db {
                crate::Db::Sqlite(pool) => sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind("explain")
                    .bind("explain")
                    .bind(ids)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<String, _>(3))
                    .collect::<std::result::Result<_, _>>()?,
                crate::Db::Postgres(pool) => {
                    sqlx::query_scalar(&format!("EXPLAIN {sql}"))
                        .bind("explain")
                        .bind("explain")
                        .bind(ids)
                        .fetch_all(pool)
                        .await?
                }
            };
            plans.push(plan.join("\n"));
        }
        Ok(plans)
    }

    /// On SQLite, the index a lookup of raw rows by a list of `column` values (`parent_key`
    /// or `source_id`) must use. Without statistics (a new database, all through its first
    /// sync: `PRAGMA optimize` analyzes at the next open) SQLite chose the natural-order
    /// index to spare the `ORDER BY` its sort, and so scanned every row of the resource for
    /// each page's few: a first sync of 100,000 orders spent 76 s of its 130 in the
    /// children's lookups (81 µs per row found), quadratic in the store's size.
    fn raw_lookup_index(&self, column: &str) -> &'static str {
        self.sqlite_only(match column {
            "parent_key" => " INDEXED BY raw_records_parent",
            // The primary key's index (connection_id, resource, source_id).
            "source_id" => " INDEXED BY sqlite_autoindex_raw_records_1",
            _ => "",
        })
    }

    /// The columns [`stored_raw`] reads, in its order.
    pub(crate) fn raw_columns(&self) -> String {
        format!(
            "source_id, {}, content_hash, fetched_at, deleted, parent_key",
            self.json_column("data")
        )
    }

    /// ` AND` the row comes after the id bound at `placeholder` in natural id order (length,
    /// then bytes), or nothing when there is no such id (the placeholder is bound to NULL).
    pub(crate) fn after_in_natural_order(
        &self,
        after_id: Option<&str>,
        placeholder: &str,
    ) -> String {
        match after_id {
            Some(_) => format!(
                " AND (length(source_id) > length({placeholder}) OR (length(source_id) = \
                 length({placeholder}) AND source_id{} > {placeholder}))",
                self.binary_collation()
            ),
            None => format!(" AND {placeholder} IS NULL"),
        }
    }
}

/// What identifies a stored raw record and ties it to its parent, without its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawKey {
    /// PrestaShop id.
    pub source_id: String,
    /// The record it belongs to (see [`crate::RawRecord::parent_key`]).
    pub parent_key: Option<String>,
    /// Whether the record is gone from the store.
    pub deleted: bool,
}

/// A stored raw record's content hash, deletion mark and one field, without its data (see
/// [`Store::list_raw_hashes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHash {
    /// PrestaShop id.
    pub source_id: String,
    /// Hash of the stored record.
    pub content_hash: String,
    /// Whether the record is gone from the store.
    pub deleted: bool,
    /// The field asked for, as text (`None` when the record has no such field or it is null).
    pub field: Option<String>,
}

/// The columns [`raw_key`] reads, in its order.
const KEY_COLUMNS: &str = "source_id, parent_key, deleted";

/// A raw record's key from a row selected with [`KEY_COLUMNS`].
fn raw_key<R: Row>(row: &R) -> Result<RawKey>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(RawKey {
        source_id: row.try_get(0)?,
        parent_key: row.try_get(1)?,
        deleted: row.try_get(2)?,
    })
}

/// A stored raw record from a row selected with [`Store::raw_columns`].
pub(crate) fn stored_raw<R: Row, T: DeserializeOwned>(row: &R) -> Result<StoredRaw<T>>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredRaw {
        source_id: row.try_get(0)?,
        // Parsed from the row's own bytes (no copy of the text first).
        data: parse_json_as(row.try_get::<&str, _>(1)?, "raw_records.data")?,
        content_hash: row.try_get(2)?,
        fetched_at: row.try_get(3)?,
        deleted: row.try_get(4)?,
        parent_key: row.try_get(5)?,
    })
}
