//! The job queue of scale-out deployments: workers claim sync jobs with leases. On
//! PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so workers never wait on each other;
//! on SQLite the claim is one atomic statement. A partial unique index keeps at most one
//! running job per connection, so one store is read by one worker at a time.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::records::parse_json;
use crate::time::format_timestamp;
use crate::{on_pool, Db, Store};

/// State of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `run_after` and a free worker.
    Queued,
    /// Leased by a worker until `lease_expires_at`.
    Running,
    /// Done.
    Completed,
    /// Given up.
    Failed,
}

impl JobStatus {
    fn parse(text: &str) -> Self {
        match text {
            "running" => JobStatus::Running,
            "completed" => JobStatus::Completed,
            "failed" => JobStatus::Failed,
            _ => JobStatus::Queued,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// The connection it works on.
    pub connection_id: String,
    /// What to do, e.g. `sync`.
    pub kind: String,
    /// Parameters (opaque JSON).
    pub payload: Value,
    /// State.
    pub status: JobStatus,
    /// Not before this time.
    pub run_after: String,
    /// The worker holding the lease.
    pub lease_owner: Option<String>,
    /// When the lease ends unless renewed.
    pub lease_expires_at: Option<String>,
    /// How many times it was claimed.
    pub attempts: i64,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// How many times the job was taken over from a worker that stopped renewing its lease.
    pub takeovers: i64,
}

impl Job {
    /// Whether the claim that returned this job took it over from a worker whose lease had
    /// expired (a killed worker, a lost machine).
    pub fn taken_over(&self) -> bool {
        self.status == JobStatus::Running
            && self
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with(TAKEOVER))
    }
}

/// How a claim that takes over an expired lease begins `last_error`.
const TAKEOVER: &str = "taken over: the lease of ";

/// What [`Store::queue_stats`] counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    /// Jobs waiting (due or not).
    pub queued: u64,
    /// Queued jobs whose time has come.
    pub due: u64,
    /// Jobs leased by a worker.
    pub running: u64,
    /// Running jobs whose lease ended without renewal (their worker died): the next claim
    /// takes them over.
    pub expired_leases: u64,
    /// Jobs given up.
    pub failed: u64,
    /// How long the oldest due job has waited, in seconds.
    pub oldest_due_secs: Option<f64>,
}

const JOB_COLUMNS: &str = "id, connection_id, kind, payload, status, run_after, lease_owner, \
                           lease_expires_at, attempts, last_error, takeovers";

impl Store {
    /// Queues a job to run from `run_after` on; returns its id.
    pub async fn enqueue_job(
        &self,
        connection_id: &str,
        kind: &str,
        payload: &Value,
        run_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO jobs (connection_id, kind, payload, status, run_after, attempts, \
                 created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, 0, $5, $5) RETURNING id",
            )
            .bind(connection_id)
            .bind(kind)
            .bind(payload.to_string())
            .bind(format_timestamp(run_after))
            .bind(&now)
            .fetch_one(pool)
            .await?;
            Ok(id)
        })
    }

    /// Queues a job unless the connection already has one of the same `kind` queued or
    /// running (what a scheduler wants); returns the new id, or `None` when one is pending.
    /// Two schedulers racing on PostgreSQL can still both insert: run one scheduler.
    pub async fn enqueue_job_once(
        &self,
        connection_id: &str,
        kind: &str,
        payload: &Value,
        run_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (connection_id, kind, payload, status, run_after, attempts, \
                 created_at, updated_at) SELECT $1, $2, $3, 'queued', $4, 0, $5, $5 \
                 WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE connection_id = $1 AND kind = $2 \
                 AND status IN ('queued', 'running')) RETURNING id",
            )
            .bind(connection_id)
            .bind(kind)
            .bind(payload.to_string())
            .bind(format_timestamp(run_after))
            .bind(&now)
            .fetch_optional(pool)
            .await?;
            Ok(id)
        })
    }

    /// Claims the next due job (or one whose lease expired) for `worker` for `lease`, skipping
    /// connections another worker is reading. `None` when nothing is claimable now.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>> {
        let lock = match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
             attempts = attempts + 1, updated_at = $3, \
             takeovers = takeovers + CASE WHEN status = 'running' THEN 1 ELSE 0 END, \
             last_error = CASE WHEN status = 'running' THEN '{TAKEOVER}' || lease_owner || \
             ' expired at ' || lease_expires_at ELSE last_error END \
             WHERE id = (SELECT j.id FROM jobs j \
             WHERE ((j.status = 'queued' AND j.run_after <= $3) \
             OR (j.status = 'running' AND j.lease_expires_at < $3)) \
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.connection_id = j.connection_id \
             AND r.status = 'running' AND r.id <> j.id) \
             ORDER BY j.run_after, j.id LIMIT 1{lock}) RETURNING {JOB_COLUMNS}"
        );
        let expires = format_timestamp(now + lease);
        let now = format_timestamp(now);
        let result = on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql)
                .bind(worker)
                .bind(&expires)
                .bind(&now)
                .fetch_optional(pool)
                .await;
            row.map(|row| row.map(|r| read_job(&r)).transpose())
        });
        match result {
            Ok(job) => job,
            // Two workers raced for two jobs of the same connection: this one lost.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Extends `worker`'s lease on a job; `false` if the worker no longer holds it.
    pub async fn renew_lease(
        &self,
        job_id: i64,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.update_leased(
            job_id,
            worker,
            "lease_expires_at = $3",
            &[Some(format_timestamp(now + lease))],
            now,
        )
        .await
    }

    /// Marks a job done; `false` if `worker` no longer holds it.
    pub async fn complete_job(
        &self,
        job_id: i64,
        worker: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.update_leased(
            job_id,
            worker,
            "status = 'completed', lease_owner = NULL, lease_expires_at = NULL",
            &[],
            now,
        )
        .await
    }

    /// Records a failed attempt: queued again from `retry_at`, or failed for good with
    /// `None`. `false` if `worker` no longer holds the job.
    pub async fn fail_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let assignments = if retry_at.is_some() {
            "status = 'queued', last_error = $3, run_after = $4, lease_owner = NULL, \
             lease_expires_at = NULL"
        } else {
            "status = 'failed', last_error = $3, lease_owner = NULL, lease_expires_at = NULL"
        };
        let mut values = vec![Some(error.to_string())];
        if let Some(at) = retry_at {
            values.push(Some(format_timestamp(at)));
        }
        self.update_leased(job_id, worker, assignments, &values, now)
            .await
    }

    async fn update_leased(
        &self,
        job_id: i64,
        worker: &str,
        assignments: &str,
        values: &[Option<String>],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let now_param = values.len() + 3;
        let sql = format!(
            "UPDATE jobs SET {assignments}, updated_at = ${now_param} \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'"
        );
        on_pool!(&self.db, pool => {
            let mut q = sqlx::query(&sql).bind(job_id).bind(worker);
            for v in values {
                q = q.bind(v.clone());
            }
            let done = q.bind(format_timestamp(now)).execute(pool).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Lets a queued job run from `run_after` on (a job queued held back, released once what
    /// it needs is written); `false` when it is no longer queued.
    pub async fn release_job(&self, job_id: i64, run_after: DateTime<Utc>) -> Result<bool> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE jobs SET run_after = $2 WHERE id = $1 AND status = 'queued'")
                .bind(job_id)
                .bind(format_timestamp(run_after))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// Takes or keeps `role` (the scheduler) for `owner` until `now + ttl`: `true` when
    /// `owner` holds it now (it was free, expired or already `owner`'s), `false` while another
    /// process holds it. A process that plays the role renews it by calling this again
    /// before `ttl` ends; one that dies loses it after `ttl`.
    pub async fn hold_role(
        &self,
        role: &str,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let expires = format_timestamp(now + ttl);
        let now = format_timestamp(now);
        let taken = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO role_leases (role, owner, expires_at, acquired_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (role) DO UPDATE SET \
                 owner = excluded.owner, expires_at = excluded.expires_at, \
                 acquired_at = CASE WHEN role_leases.owner = excluded.owner \
                 THEN role_leases.acquired_at ELSE excluded.acquired_at END \
                 WHERE role_leases.expires_at < $4 OR role_leases.owner = $2",
            )
            .bind(role)
            .bind(owner)
            .bind(&expires)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(taken == 1)
    }

    /// Gives `role` up if `owner` holds it (a process stopping), so another takes it at once.
    pub async fn release_role(&self, role: &str, owner: &str) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM role_leases WHERE role = $1 AND owner = $2")
                .bind(role)
                .bind(owner)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Who holds `role` and until when, if anyone holds it at `now`.
    pub async fn role_holder(
        &self,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, String)>> {
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            let row = sqlx::query(
                "SELECT owner, expires_at FROM role_leases WHERE role = $1 AND expires_at >= $2",
            )
            .bind(role)
            .bind(&now)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            })
        })
    }

    /// The queue at `now`: jobs by state, how many are due, the oldest due job's wait.
    pub async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats> {
        let now_text = format_timestamp(now);
        let (queued, due, running, expired, failed, oldest): (
            i64,
            i64,
            i64,
            i64,
            i64,
            Option<String>,
        ) = on_pool!(&self.db, pool => {
            let row = sqlx::query(
                "SELECT \
                 COUNT(*) FILTER (WHERE status = 'queued'), \
                 COUNT(*) FILTER (WHERE status = 'queued' AND run_after <= $1), \
                 COUNT(*) FILTER (WHERE status = 'running'), \
                 COUNT(*) FILTER (WHERE status = 'running' AND lease_expires_at < $1), \
                 COUNT(*) FILTER (WHERE status = 'failed'), \
                 MIN(CASE WHEN status = 'queued' AND run_after <= $1 THEN run_after END) \
                 FROM jobs",
            )
            .bind(&now_text)
            .fetch_one(pool)
            .await?;
            (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
                row.try_get(5)?,
            )
        });
        let oldest_due_secs = oldest
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| (now - t.with_timezone(&Utc)).num_milliseconds().max(0) as f64 / 1000.0);
        Ok(QueueStats {
            queued: queued as u64,
            due: due as u64,
            running: running as u64,
            expired_leases: expired as u64,
            failed: failed as u64,
            oldest_due_secs,
        })
    }

    /// The jobs being run (leased), oldest claim first.
    pub async fn running_jobs(&self) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'running' ORDER BY updated_at, id"
        );
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(read_job).collect()
        })
    }

    /// A job by id.
    pub async fn get_job(&self, job_id: i64) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row = on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(job_id).fetch_optional(pool).await?;
            row.map(|r| read_job(&r)).transpose()?
        });
        row.ok_or_else(|| StoreError::NotFound {
            what: "job",
            id: job_id.to_string(),
        })
    }
}

fn read_job<R: Row>(row: &R) -> Result<Job>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get(4)?;
    Ok(Job {
        id: row.try_get(0)?,
        connection_id: row.try_get(1)?,
        kind: row.try_get(2)?,
        payload: parse_json(row.try_get(3)?, "jobs.payload")?,
        status: JobStatus::parse(&status),
        run_after: row.try_get(5)?,
        lease_owner: row.try_get(6)?,
        lease_expires_at: row.try_get(7)?,
        attempts: row.try_get(8)?,
        last_error: row.try_get(9)?,
        takeovers: row.try_get(10)?,
    })
}
