//! Per-resource checkpoints: where a full or incremental read of a resource got to, saved
//! in the same transaction as the page it follows, so a killed run resumes exactly there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::error::Result;
use crate::records::parse_json;
use crate::time::format_timestamp;
use crate::{on_pool, Store};

/// The progress of reading one resource of one connection in one kind of read.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// PrestaShop resource (or any name the sync engine uses), e.g. `orders`.
    pub resource: String,
    /// Kind of read, e.g. `full` or `incremental`.
    pub kind: String,
    /// Last id fully written.
    pub last_id: Option<String>,
    /// Watermark in the shop's local time, as PrestaShop filters on it (`date_upd`).
    pub watermark_local: Option<String>,
    /// The same watermark in UTC, if known.
    pub watermark_utc: Option<String>,
    /// The sync run that wrote the checkpoint.
    pub run_id: Option<String>,
    /// Anything else the sync engine needs to resume (opaque JSON).
    pub cursor: Option<Value>,
    /// When it was saved (set by the store; ignored when saving).
    pub updated_at: Option<String>,
}

impl Checkpoint {
    /// An empty checkpoint for `resource` and `kind`.
    pub fn new(resource: impl Into<String>, kind: impl Into<String>) -> Self {
        Checkpoint {
            resource: resource.into(),
            kind: kind.into(),
            ..Default::default()
        }
    }
}

/// The upsert of a checkpoint and its binds, in the same SQL on both engines.
pub(crate) fn save_checkpoint_sql(
    connection_id: &str,
    checkpoint: &Checkpoint,
    now: &str,
) -> (&'static str, Vec<Option<String>>) {
    let sql = "INSERT INTO checkpoints (connection_id, resource, kind, last_id, watermark_local, \
               watermark_utc, run_id, cursor, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
               ON CONFLICT (connection_id, resource, kind) DO UPDATE SET \
               last_id = excluded.last_id, watermark_local = excluded.watermark_local, \
               watermark_utc = excluded.watermark_utc, run_id = excluded.run_id, \
               cursor = excluded.cursor, updated_at = excluded.updated_at";
    let binds = vec![
        Some(connection_id.to_string()),
        Some(checkpoint.resource.clone()),
        Some(checkpoint.kind.clone()),
        checkpoint.last_id.clone(),
        checkpoint.watermark_local.clone(),
        checkpoint.watermark_utc.clone(),
        checkpoint.run_id.clone(),
        checkpoint.cursor.as_ref().map(Value::to_string),
        Some(now.to_string()),
    ];
    (sql, binds)
}

const SELECT: &str = "SELECT resource, kind, last_id, watermark_local, watermark_utc, run_id, \
                      cursor, updated_at FROM checkpoints";

impl Store {
    /// Saves a checkpoint on its own (page writes save theirs with the page).
    pub async fn save_checkpoint(
        &self,
        connection_id: &str,
        checkpoint: &Checkpoint,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (sql, binds) = save_checkpoint_sql(connection_id, checkpoint, &format_timestamp(now));
        on_pool!(&self.db, pool => {
            let mut q = sqlx::query(sql);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(pool).await?;
        });
        Ok(())
    }

    /// The checkpoint of a resource and kind, if any.
    pub async fn get_checkpoint(
        &self,
        connection_id: &str,
        resource: &str,
        kind: &str,
    ) -> Result<Option<Checkpoint>> {
        let sql = format!("{SELECT} WHERE connection_id = $1 AND resource = $2 AND kind = $3");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql)
                .bind(connection_id)
                .bind(resource)
                .bind(kind)
                .fetch_optional(pool)
                .await?;
            row.map(|r| read_checkpoint(&r)).transpose()
        })
    }

    /// All checkpoints of a connection, by resource and kind.
    pub async fn list_checkpoints(&self, connection_id: &str) -> Result<Vec<Checkpoint>> {
        let sql = format!(
            "{SELECT} WHERE connection_id = $1 ORDER BY resource{0}, kind{0}",
            self.binary_collation()
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter().map(read_checkpoint).collect()
        })
    }

    /// Deletes the checkpoint of `kind` of one resource (a data type's last mapping pass,
    /// say, so that its next pass maps in full); `true` when there was one.
    pub async fn clear_checkpoint(
        &self,
        connection_id: &str,
        resource: &str,
        kind: &str,
    ) -> Result<bool> {
        let sql =
            "DELETE FROM checkpoints WHERE connection_id = $1 AND resource = $2 AND kind = $3";
        on_pool!(&self.db, pool => {
            let done = sqlx::query(sql)
                .bind(connection_id)
                .bind(resource)
                .bind(kind)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Deletes checkpoints of a connection: of one resource (all kinds) or, with `None`, all
    /// of them (a full resync from scratch). Returns how many were deleted.
    pub async fn clear_checkpoints(
        &self,
        connection_id: &str,
        resource: Option<&str>,
    ) -> Result<u64> {
        let sql = "DELETE FROM checkpoints WHERE connection_id = $1 \
                   AND ($2 IS NULL OR resource = $2)";
        on_pool!(&self.db, pool => {
            let done = sqlx::query(sql).bind(connection_id).bind(resource).execute(pool).await?;
            Ok(done.rows_affected())
        })
    }
}

fn read_checkpoint<R: Row>(row: &R) -> Result<Checkpoint>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let cursor: Option<String> = row.try_get(6)?;
    Ok(Checkpoint {
        resource: row.try_get(0)?,
        kind: row.try_get(1)?,
        last_id: row.try_get(2)?,
        watermark_local: row.try_get(3)?,
        watermark_utc: row.try_get(4)?,
        run_id: row.try_get(5)?,
        cursor: cursor
            .map(|c| parse_json(c, "checkpoints.cursor"))
            .transpose()?,
        updated_at: row.try_get(7)?,
    })
}
