//! Retention of sync history: finished jobs, pull operations and sync runs older than a
//! cutoff are deleted in bounded batches (each `DELETE` touches at most `batch` rows, so
//! neither engine holds its locks long, and PostgreSQL's autovacuum keeps up). The latest
//! pull operation and sync run of each data type of each connection are kept whatever
//! their age: the scheduler and the API's `dataStatus` read them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::time::format_timestamp;
use crate::{on_pool, Store};

/// Rows deleted by [`Store::prune_history`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pruned {
    /// Finished (completed or failed) jobs.
    pub jobs: u64,
    /// Ended pull operations.
    pub datasets: u64,
    /// Finished sync runs.
    pub sync_runs: u64,
}

impl Pruned {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.jobs + self.datasets + self.sync_runs
    }
}

const PRUNE_JOBS: &str = "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs \
     WHERE status IN ('completed', 'failed') AND updated_at < $1 ORDER BY updated_at LIMIT $2)";

const PRUNE_DATASETS: &str = "DELETE FROM datasets WHERE id IN (SELECT d.id FROM datasets d \
     WHERE d.completed IS NOT NULL AND d.completed < $1 AND EXISTS (SELECT 1 FROM datasets n \
     WHERE n.connection_id = d.connection_id AND n.data_type = d.data_type \
     AND n.requested > d.requested) ORDER BY d.completed LIMIT $2)";

const PRUNE_RUNS: &str = "DELETE FROM sync_runs WHERE id IN (SELECT r.id FROM sync_runs r \
     WHERE r.finished_at IS NOT NULL AND r.finished_at < $1 AND EXISTS (SELECT 1 FROM sync_runs n \
     WHERE n.connection_id = r.connection_id AND n.data_type = r.data_type AND n.id > r.id) \
     ORDER BY r.finished_at LIMIT $2)";

impl Store {
    /// Deletes sync history that ended before `cutoff`: at most `batch` rows per statement
    /// and `max_batches` statements per table, so one call is bounded; call again while it
    /// returns full batches.
    pub async fn prune_history(
        &self,
        cutoff: DateTime<Utc>,
        batch: u32,
        max_batches: u32,
    ) -> Result<Pruned> {
        let cutoff = format_timestamp(cutoff);
        let mut pruned = Pruned::default();
        for (sql, count) in [
            (PRUNE_JOBS, &mut pruned.jobs),
            (PRUNE_DATASETS, &mut pruned.datasets),
            (PRUNE_RUNS, &mut pruned.sync_runs),
        ] {
            for _ in 0..max_batches {
                let deleted = on_pool!(&self.db, pool => {
                    sqlx::query(sql)
                        .bind(&cutoff)
                        .bind(i64::from(batch))
                        .execute(pool)
                        .await?
                        .rows_affected()
                });
                *count += deleted;
                if deleted < u64::from(batch) {
                    break;
                }
            }
        }
        Ok(pruned)
    }
}
