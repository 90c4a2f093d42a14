//! Settings of the job queue shared by `prestalink serve` and `prestalink worker`: time
//! slices, per-host limits, back-off of failing stores and retention of sync history.

use std::time::Duration;

use prestalink_server::ServerConfig;

/// Queue settings (the same on every process of a deployment).
#[derive(Debug, Clone, clap::Args)]
pub struct QueueArgs {
    /// A job's time slice (seconds): a sync that runs longer yields at its next checkpoint
    /// and its job goes back to the queue behind the jobs already due (0: no slice).
    #[arg(long, env = "PRESTALINK_JOB_SLICE", default_value_t = 600)]
    pub job_slice: u64,
    /// Jobs running at once for stores on one host, across every worker (0: no limit).
    #[arg(long, env = "PRESTALINK_JOBS_PER_HOST", default_value_t = 1)]
    pub jobs_per_host: u32,
    /// Back-off of a store whose syncs keep failing: the first retry waits this long
    /// (seconds), each further failure in a row doubles it…
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub backoff_min: u64,
    /// …up to this long (seconds).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub backoff_max: u64,
    /// Retries of a failing job before its pull operations report the failure.
    #[arg(long, default_value_t = 3)]
    pub job_retries: u32,
    /// Sync history (finished jobs, pull operations, sync runs) kept, in days (0: all);
    /// the latest of each data type is always kept.
    #[arg(long, env = "PRESTALINK_HISTORY_DAYS", default_value_t = 90)]
    pub history_days: u32,
}

impl QueueArgs {
    /// `config` with these settings.
    pub fn apply(&self, config: ServerConfig) -> ServerConfig {
        ServerConfig {
            job_slice: Duration::from_secs(self.job_slice),
            jobs_per_host: self.jobs_per_host,
            backoff_min: Duration::from_secs(self.backoff_min),
            backoff_max: Duration::from_secs(self.backoff_max.max(self.backoff_min)),
            job_retries: self.job_retries,
            history_days: self.history_days,
            ..config
        }
    }
}
