//! Sync runs (one row per data type per run: status, counts, error, timings) and the data
//! status derived from them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::time::format_timestamp;
use crate::{on_pool, Store};

/// State of a sync run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    /// In progress (or interrupted and not yet noticed, see [`Store::interrupt_running_runs`]).
    Running,
    /// Finished: the data type is complete as of this run.
    Completed,
    /// Stopped by an error (see `error`).
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl SyncStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Running => "running",
            SyncStatus::Completed => "completed",
            SyncStatus::Failed => "failed",
            SyncStatus::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "completed" => SyncStatus::Completed,
            "failed" => SyncStatus::Failed,
            "cancelled" => SyncStatus::Cancelled,
            _ => SyncStatus::Running,
        }
    }
}

/// Counters of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounts {
    /// Records read from the shop.
    pub records_read: i64,
    /// Records written (changed or new).
    pub records_written: i64,
    /// HTTP requests made.
    pub requests: i64,
}

/// One data type's part of a sync run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRun {
    /// Row id.
    pub id: i64,
    /// The run this belongs to (shared by the data types synced together).
    pub run_id: String,
    /// The connection synced.
    pub connection_id: String,
    /// The data type, e.g. `commerce-orders`.
    pub data_type: String,
    /// Current state.
    pub status: SyncStatus,
    /// Counters so far.
    pub counts: SyncCounts,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// When it started.
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Last progress report.
    pub updated_at: String,
}

/// Codat-style data status of one data type of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataStatus {
    /// The data type.
    pub data_type: String,
    /// State of the latest run.
    pub current_status: SyncStatus,
    /// When the latest completed run finished.
    pub last_successful_sync: Option<String>,
    /// The latest run's id.
    pub latest_sync_id: String,
    /// The latest completed run's id.
    pub latest_successful_sync_id: Option<String>,
    /// The latest run's error, if it failed.
    pub latest_error: Option<String>,
}

const RUN_COLUMNS: &str = "id, run_id, connection_id, data_type, status, records_read, \
                           records_written, requests, error, started_at, finished_at, updated_at";

/// The message of runs found `running` by a later process.
pub const INTERRUPTED: &str = "interrupted: the process stopped before the run finished";

impl Store {
    /// Records the start of `data_type`'s part of run `run_id`; returns its row id.
    pub async fn start_sync_run(
        &self,
        connection_id: &str,
        run_id: &str,
        data_type: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO sync_runs (run_id, connection_id, data_type, status, records_read, \
                 records_written, requests, started_at, updated_at) \
                 VALUES ($1, $2, $3, 'running', 0, 0, 0, $4, $4) RETURNING id",
            )
            .bind(run_id)
            .bind(connection_id)
            .bind(data_type)
            .bind(&now)
            .fetch_one(pool)
            .await?;
            Ok(id)
        })
    }

    /// Updates a running run's counters.
    pub async fn record_sync_progress(
        &self,
        id: i64,
        counts: &SyncCounts,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.update_run(id, None, counts, None, now).await
    }

    /// Ends a run with its final status, counters and error.
    pub async fn finish_sync_run(
        &self,
        id: i64,
        status: SyncStatus,
        counts: &SyncCounts,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.update_run(id, Some(status), counts, error, now).await
    }

    async fn update_run(
        &self,
        id: i64,
        status: Option<SyncStatus>,
        counts: &SyncCounts,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now = format_timestamp(now);
        let finished = status.is_some().then(|| now.clone());
        let affected = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_runs SET status = COALESCE($2, status), records_read = $3, \
                 records_written = $4, requests = $5, error = COALESCE($6, error), \
                 finished_at = COALESCE($7, finished_at), updated_at = $8 WHERE id = $1",
            )
            .bind(id)
            .bind(status.map(SyncStatus::as_str))
            .bind(counts.records_read)
            .bind(counts.records_written)
            .bind(counts.requests)
            .bind(error)
            .bind(finished)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "sync run",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Marks the connection's runs still `running` as failed with [`INTERRUPTED`]: call
    /// before resuming after a crash. Returns how many there were.
    pub async fn interrupt_running_runs(
        &self,
        connection_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            let done = sqlx::query(
                "UPDATE sync_runs SET status = 'failed', error = $2, finished_at = $3, \
                 updated_at = $3 WHERE connection_id = $1 AND status = 'running'",
            )
            .bind(connection_id)
            .bind(INTERRUPTED)
            .bind(&now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// A run by row id.
    pub async fn get_sync_run(&self, id: i64) -> Result<Option<SyncRun>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| read_run(&r)).transpose()
        })
    }

    /// The connection's runs, newest first, at most `limit`.
    pub async fn list_sync_runs(&self, connection_id: &str, limit: u32) -> Result<Vec<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE connection_id = $1 ORDER BY id DESC LIMIT $2"
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).bind(i64::from(limit)).fetch_all(pool).await?;
            rows.iter().map(read_run).collect()
        })
    }

    /// The latest run of each data type of a connection, by data type.
    pub async fn latest_sync_runs(&self, connection_id: &str) -> Result<Vec<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE id IN (SELECT MAX(id) FROM sync_runs \
             WHERE connection_id = $1 GROUP BY data_type) ORDER BY data_type{}",
            self.binary_collation()
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter().map(read_run).collect()
        })
    }

    /// Data status per data type: current state and last successful sync.
    pub async fn data_status(&self, connection_id: &str) -> Result<Vec<DataStatus>> {
        let latest = self.latest_sync_runs(connection_id).await?;
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE id IN (SELECT MAX(id) FROM sync_runs \
             WHERE connection_id = $1 AND status = 'completed' GROUP BY data_type)"
        );
        let successful: Vec<SyncRun> = on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(connection_id).fetch_all(pool).await?;
            rows.iter().map(read_run).collect::<Result<Vec<_>>>()?
        });
        Ok(latest
            .into_iter()
            .map(|run| {
                let good = successful.iter().find(|s| s.data_type == run.data_type);
                DataStatus {
                    current_status: run.status,
                    last_successful_sync: good.and_then(|g| g.finished_at.clone()),
                    latest_sync_id: run.run_id.clone(),
                    latest_successful_sync_id: good.map(|g| g.run_id.clone()),
                    latest_error: run.error.clone(),
                    data_type: run.data_type,
                }
            })
            .collect())
    }
}

fn read_run<R: Row>(row: &R) -> Result<SyncRun>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(4)?;
    Ok(SyncRun {
        id: row.try_get(0)?,
        run_id: row.try_get(1)?,
        connection_id: row.try_get(2)?,
        data_type: row.try_get(3)?,
        status: SyncStatus::parse(&status),
        counts: SyncCounts {
            records_read: row.try_get(5)?,
            records_written: row.try_get(6)?,
            requests: row.try_get(7)?,
        },
        error: row.try_get(8)?,
        started_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
        updated_at: row.try_get(11)?,
    })
}
