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
use crate::{on_pool, Db, Dialect, Store};

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
    /// Failed attempts retried after a back-off ([`Store::retry_job`]).
    pub failures: i64,
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

/// A connection whose syncs keep failing (see [`Store::note_sync_failure`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncFailures {
    /// The connection.
    pub connection_id: String,
    /// Its store.
    pub store_url: String,
    /// Syncs that failed in a row.
    pub failures: i64,
    /// Its next attempt waits until then.
    pub backoff_until: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
}

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
                           lease_expires_at, attempts, last_error, takeovers, failures";

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
        let host = self.store_host(connection_id).await?;
        on_pool!(&self.db, pool => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO jobs (connection_id, kind, payload, status, run_after, attempts, \
                 created_at, updated_at, host) \
                 VALUES ($1, $2, $3, 'queued', $4, 0, $5, $5, $6) RETURNING id",
            )
            .bind(connection_id)
            .bind(kind)
            .bind(payload.to_string())
            .bind(format_timestamp(run_after))
            .bind(&now)
            .bind(&host)
            .fetch_one(pool)
            .await?;
            Ok(id)
        })
    }

    /// Queues a job unless the connection already has one of the same `kind` queued or
    /// running (what a scheduler wants); returns the new id, or `None` when one is pending.
    /// On PostgreSQL the check and the insert hold a transaction-scoped advisory lock on
    /// the connection, so two processes queueing at once (the scheduler in one, a first
    /// link in another) cannot both insert; SQLite's write transaction runs alone anyway.
    pub async fn enqueue_job_once(
        &self,
        connection_id: &str,
        kind: &str,
        payload: &Value,
        run_after: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        const INSERT_ONCE: &str = "INSERT INTO jobs (connection_id, kind, payload, status, \
             run_after, attempts, created_at, updated_at, host) SELECT $1, $2, $3, 'queued', $4, \
             0, $5, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE connection_id = $1 AND \
             kind = $2 AND status IN ('queued', 'running')) RETURNING id";
        let now = format_timestamp(now);
        let host = self.store_host(connection_id).await?;
        let payload = payload.to_string();
        let run_after = format_timestamp(run_after);
        let is_pg = self.dialect() == Dialect::Postgres;
        on_pool!(&self.db, pool => {
            // Safe to cancel (see `crate::begin`): a first link whose client went away must
            // not leave a pooled connection inside this transaction.
            let mut tx = crate::begin(pool, self.begin_write()).await?;
            if is_pg {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(format!("job-once:{connection_id}:{kind}"))
                    .execute(&mut *tx)
                    .await?;
            }
            let id: Option<i64> = sqlx::query_scalar(INSERT_ONCE)
                .bind(connection_id)
                .bind(kind)
                .bind(&payload)
                .bind(&run_after)
                .bind(&now)
                .bind(&host)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Deletes job `job_id` if it is still queued and no pull operation names it: a job
    /// queued on a stale view (see the scheduler) withdrawn before anyone could claim it.
    /// `true` when it was deleted.
    pub async fn withdraw_queued_job(&self, job_id: i64) -> Result<bool> {
        let done = on_pool!(&self.db, pool => {
            sqlx::query(
                "DELETE FROM jobs WHERE id = $1 AND status = 'queued' \
                 AND NOT EXISTS (SELECT 1 FROM datasets WHERE job_id = $1)",
            )
            .bind(job_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Claims the next due job (or one whose lease expired) for `worker` for `lease`, skipping
    /// connections another worker is reading. `None` when nothing is claimable now.
    pub async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<Job>> {
        self.claim_job_limited(worker, lease, now, None).await
    }

    /// [`Store::claim_job`], and with `per_host = Some(n)` at most `n` jobs running at once
    /// for stores on one host (the store URL's host), across every worker of the database:
    /// a job whose host is full is skipped (it stays queued, later jobs go first), and the
    /// claimed job takes a free slot `0..n` of its host. Two claims that race for one slot
    /// (PostgreSQL, `READ COMMITTED`) meet on the unique index of running (host, slot): the
    /// loser tries again, a few times, and otherwise finds nothing this time.
    pub async fn claim_job_limited(
        &self,
        worker: &str,
        lease: Duration,
        now: DateTime<Utc>,
        per_host: Option<u32>,
    ) -> Result<Option<Job>> {
        let takeover = self.claim_sql(per_host, true);
        let queued = self.claim_sql(per_host, false);
        let expires = format_timestamp(now + lease);
        let now = format_timestamp(now);
        for _ in 0..3 {
            let result = on_pool!(&self.db, pool => {
                let mut found = Ok(None);
                for sql in [&takeover, &queued] {
                    found = sqlx::query(sql)
                        .bind(worker)
                        .bind(&expires)
                        .bind(&now)
                        .fetch_optional(pool)
                        .await;
                    if !matches!(found, Ok(None)) {
                        break;
                    }
                }
                found.map(|row| row.map(|r| read_job(&r)).transpose())
            });
            match result {
                Ok(job) => return job,
                // Two workers raced for two jobs of the same connection, or for the same
                // slot of a host: this one lost; the next try sees the winner's row.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// The claim statement ($1 worker, $2 lease end, $3 now): of a running job whose lease
    /// expired (`takeover`), else of the first due queued job. Two statements rather than
    /// one with an `OR`: each walks its own partial index in order and stops at the first
    /// claimable row (with the `OR`, PostgreSQL scanned and sorted every due job: 88 ms per
    /// claim at 10,000 due jobs).
    fn claim_sql(&self, per_host: Option<u32>, takeover: bool) -> String {
        let (candidates, order) = if takeover {
            (
                "j.status = 'running' AND j.lease_expires_at < $3",
                "j.lease_expires_at, j.id",
            )
        } else {
            (
                "j.status = 'queued' AND j.run_after <= $3",
                "j.run_after, j.id",
            )
        };
        let lock = match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let (slot, host_filter) = match per_host {
            Some(n) => {
                let slots: Vec<String> = (0..n.max(1)).map(|i| format!("({i})")).collect();
                let slots = slots.join(", ");
                (
                    format!(
                        "(SELECT MIN(s.column1) FROM (VALUES {slots}) s WHERE NOT EXISTS \
                         (SELECT 1 FROM jobs h WHERE h.host = jobs.host AND h.status = 'running' \
                         AND h.host_slot = s.column1 AND h.id <> jobs.id))"
                    ),
                    format!(
                        " AND (j.host IS NULL OR (SELECT COUNT(*) FROM jobs h WHERE h.host = j.host \
                         AND h.status = 'running' AND h.id <> j.id) < {})",
                        n.max(1)
                    ),
                )
            }
            None => ("NULL".to_string(), String::new()),
        };
        format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
             attempts = attempts + 1, updated_at = $3, host_slot = {slot}, \
             takeovers = takeovers + CASE WHEN status = 'running' THEN 1 ELSE 0 END, \
             last_error = CASE WHEN status = 'running' THEN '{TAKEOVER}' || lease_owner || \
             ' expired at ' || lease_expires_at ELSE last_error END \
             WHERE id = (SELECT j.id FROM jobs j \
             WHERE {candidates} \
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.connection_id = j.connection_id \
             AND r.status = 'running' AND r.id <> j.id){host_filter} \
             ORDER BY {order} LIMIT 1{lock}) RETURNING {JOB_COLUMNS}"
        )
    }

    /// The query plan of the claim of a queued job on PostgreSQL (`EXPLAIN`, not run).
    pub async fn explain_claim(&self, per_host: Option<u32>, now: DateTime<Utc>) -> Result<String> {
        let sql = format!("EXPLAIN {}", self.claim_sql(per_host, false));
        let now = format_timestamp(now);
        let lines: Vec<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(&sql)
                .bind("explain")
                .bind(&now)
                .bind(&now)
                .fetch_all(pool)
                .await?
        });
        Ok(lines.join("\n"))
    }

    /// The host a connection's store runs on, for per-host limits: the address its name
    /// resolves to (the lowest IPv4 address, else the lowest IPv6 one; two shops of one
    /// shared-hosting server share it whatever their names) with the port, or the name
    /// itself when it does not resolve within 2 s. `None` without connection.
    async fn store_host(&self, connection_id: &str) -> Result<Option<String>> {
        let url: Option<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT store_url FROM connections WHERE id = $1")
                .bind(connection_id)
                .fetch_optional(pool)
                .await?
        });
        let Some(url) = url.and_then(|u| url::Url::parse(&u).ok()) else {
            return Ok(None);
        };
        let Some(name) = url.host_str().map(str::to_ascii_lowercase) else {
            return Ok(None);
        };
        let port = url.port_or_known_default().unwrap_or(0);
        Ok(Some(host_key(&name, port).await))
    }

    /// Counts one more failed sync of a connection in a row, remembers `error` and that its
    /// next attempt waits until `backoff_until`; returns the failures in a row so far
    /// (this one included). The caller computes `backoff_until` from that count, see
    /// [`Store::sync_failures`].
    pub async fn note_sync_failure(&self, connection_id: &str, error: &str) -> Result<u32> {
        let n: i64 = on_pool!(&self.db, pool => {
            sqlx::query_scalar(
                "UPDATE connections SET consecutive_failures = consecutive_failures + 1, \
                 last_failure = $2 WHERE id = $1 RETURNING consecutive_failures",
            )
            .bind(connection_id)
            .bind(error)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0)
        });
        Ok(n.clamp(0, i64::from(u32::MAX)) as u32)
    }

    /// Sets when a failing connection's next attempt may run.
    pub async fn set_backoff_until(&self, connection_id: &str, until: DateTime<Utc>) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("UPDATE connections SET backoff_until = $2 WHERE id = $1")
                .bind(connection_id)
                .bind(format_timestamp(until))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A sync of the connection succeeded: its failures in a row start again from zero.
    pub async fn reset_sync_failures(&self, connection_id: &str) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE connections SET consecutive_failures = 0, backoff_until = NULL, \
                 last_failure = NULL WHERE id = $1 AND consecutive_failures <> 0",
            )
            .bind(connection_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Connections whose last syncs failed, most failures first: (connection, failures in
    /// a row, next attempt not before, last error).
    pub async fn sync_failures(&self) -> Result<Vec<SyncFailures>> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT id, store_url, consecutive_failures, backoff_until, last_failure \
                 FROM connections WHERE consecutive_failures > 0 \
                 ORDER BY consecutive_failures DESC, id",
            )
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(SyncFailures {
                    connection_id: r.try_get(0)?,
                    store_url: r.try_get(1)?,
                    failures: r.try_get(2)?,
                    backoff_until: r.try_get(3)?,
                    last_error: r.try_get(4)?,
                });
            }
            Ok(out)
        })
    }

    /// When a connection's next attempt may run, if it is backing off.
    pub async fn backoff_until(&self, connection_id: &str) -> Result<Option<String>> {
        on_pool!(&self.db, pool => {
            let until: Option<Option<String>> = sqlx::query_scalar(
                "SELECT backoff_until FROM connections WHERE id = $1",
            )
            .bind(connection_id)
            .fetch_optional(pool)
            .await?;
            Ok(until.flatten())
        })
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

    /// A failed attempt to be tried again from `retry_at` (the connection's back-off): the
    /// job goes back to the queue with one more failure counted. `false` if `worker` no
    /// longer holds the job.
    pub async fn retry_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.update_leased(
            job_id,
            worker,
            "status = 'queued', last_error = $3, run_after = $4, lease_owner = NULL, \
             lease_expires_at = NULL, failures = failures + 1",
            &[Some(error.to_string()), Some(format_timestamp(retry_at))],
            now,
        )
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

/// `ip:port` of the address `name` resolves to (see `store_host`), or `name:port`.
pub async fn host_key(name: &str, port: u16) -> String {
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return std::net::SocketAddr::new(ip, port).to_string();
    }
    let lookup = tokio::net::lookup_host((bare, port));
    match tokio::time::timeout(std::time::Duration::from_secs(2), lookup).await {
        Ok(Ok(addrs)) => {
            let addrs: Vec<std::net::SocketAddr> = addrs.collect();
            let v4 = addrs.iter().filter(|a| a.is_ipv4()).min();
            match v4.or_else(|| addrs.iter().min()) {
                Some(addr) => addr.to_string(),
                None => format!("{bare}:{port}"),
            }
        }
        _ => format!("{bare}:{port}"),
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
        failures: row.try_get(11)?,
    })
}
