-- Fairness of the job queue (issue 18).
--
-- Back-off: a connection's syncs that failed in a row (the store unreachable, pages that
-- cannot be read, prestalink failing) and the time before which its next attempt waits.
-- Reset by a sync that succeeds.
ALTER TABLE connections ADD COLUMN consecutive_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN backoff_until TEXT;
ALTER TABLE connections ADD COLUMN last_failure TEXT;

-- Per-host limits: the store's host (from its URL) and, while the job runs, the slot it
-- holds among the host's `jobs per host` slots. Two workers claiming jobs of one host at
-- once pick the same free slot: the unique index lets one of them have it.
ALTER TABLE jobs ADD COLUMN host TEXT;
ALTER TABLE jobs ADD COLUMN host_slot BIGINT;
CREATE UNIQUE INDEX jobs_one_slot_per_host ON jobs (host, host_slot) WHERE status = 'running';

-- The claim's two ways in: due queued jobs in queue order, and running jobs by lease end
-- (takeovers). The old (status, run_after) index served neither without a filter.
CREATE INDEX jobs_queued_due ON jobs (run_after, id) WHERE status = 'queued';
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE status = 'running';

-- Retention: finished jobs and sync runs by age.
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE status IN ('completed', 'failed');
CREATE INDEX sync_runs_finished ON sync_runs (finished_at);
CREATE INDEX datasets_completed ON datasets (completed);

-- Failed attempts of a job that were retried after a back-off (its claims also count
-- yields and takeovers, so `attempts` cannot tell).
ALTER TABLE jobs ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
