//! How a server runs: where it listens, which stores it may reach, how often it schedules,
//! how it retries webhooks.

use std::net::SocketAddr;
use std::time::Duration;

use prestalink_pacing::Pace;
use prestalink_store::PageFreshness;

use crate::clock::Clock;

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen (`127.0.0.1:8800`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// The address clients reach the server at, for links (defaults to `http://<listen>`).
    pub public_url: Option<String>,
    /// Let API clients link stores on loopback, private and link-local addresses (self-hosted
    /// setups and tests). Off by default: the server would otherwise read its own network.
    pub allow_private_stores: bool,
    /// Sync workers in this process (0: none, for API-only replicas).
    pub workers: usize,
    /// Serve the API and the pages (`serve`); `false` for `prestalink worker`, whose
    /// listener answers only `/healthz` and `/metrics`.
    pub api: bool,
    /// How often the scheduler looks for due syncs.
    pub scheduler_tick: Duration,
    /// How long a worker holds a job before it must renew its lease.
    pub lease: Duration,
    /// How long a job runs before its sync yields at its next checkpoint and the job goes
    /// back to the queue behind the jobs already due (a huge store does not hold a worker
    /// for hours while small stores wait).
    pub job_slice: Duration,
    /// At most this many jobs run at once for stores on one host, across every worker of
    /// the database (shared hosting: many shops, one server).
    pub jobs_per_host: u32,
    /// Back-off of a store whose syncs keep failing: the first retry waits `backoff_min`,
    /// each further failure in a row doubles it, up to `backoff_max`.
    pub backoff_min: Duration,
    /// The longest back-off.
    pub backoff_max: Duration,
    /// Retries of one failing job before its pull operations report the failure (the
    /// connection's back-off goes on counting across jobs until a sync succeeds).
    pub job_retries: u32,
    /// Sync history (finished jobs, pull operations, sync runs) older than this many days
    /// is deleted by the scheduler (0 keeps everything). The latest pull operation and
    /// sync run of each data type of each connection are always kept.
    pub history_days: u32,
    /// Waits between webhook delivery attempts; after the last, the delivery has failed.
    pub webhook_retries: Vec<Duration>,
    /// Time limit of one webhook delivery attempt.
    pub webhook_timeout: Duration,
    /// Let webhooks be sent to private addresses (tests); off by default.
    pub allow_private_webhooks: bool,
    /// How long an API key list is trusted before the database is read again.
    pub api_key_cache: Duration,
    /// Pace of the syncs this server runs.
    pub pace: Pace,
    /// How long an API page waits for its key list to catch up with a sync's writes before
    /// it is served from the previous list, and how old that list may be
    /// (`prestalink_store::PageFreshness`): 150 ms and 2 s.
    pub page_freshness: PageFreshness,
    /// The clock (tests move it).
    pub clock: Clock,
}

/// Pages wait at most 150 ms for their list; a list is served at most 2 s after its snapshot.
pub const DEFAULT_PAGE_FRESHNESS: PageFreshness = PageFreshness {
    wait: Duration::from_millis(150),
    max_stale: Duration::from_secs(2),
};

/// The retry schedule of Standard Webhooks senders (Svix): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 10 h: about 27.6 hours in all, each wait with ±20 % jitter.
pub fn default_webhook_retries() -> Vec<Duration> {
    [5, 300, 1800, 7200, 18000, 36000, 36000]
        .into_iter()
        .map(Duration::from_secs)
        .collect()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8800)),
            public_url: None,
            allow_private_stores: false,
            workers: 1,
            api: true,
            scheduler_tick: Duration::from_secs(30),
            lease: Duration::from_secs(120),
            job_slice: Duration::from_secs(600),
            jobs_per_host: 1,
            backoff_min: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            job_retries: 3,
            history_days: 90,
            webhook_retries: default_webhook_retries(),
            webhook_timeout: Duration::from_secs(15),
            allow_private_webhooks: false,
            api_key_cache: Duration::from_secs(1),
            pace: Pace::Balanced,
            page_freshness: DEFAULT_PAGE_FRESHNESS,
            clock: Clock::system(),
        }
    }
}
