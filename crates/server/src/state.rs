//! What every handler and background task shares: the store, the configuration, the clock,
//! and small caches (API key hashes, data types requested).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prestalink_store::Store;
use tokio::sync::{watch, Notify};

use crate::clock::Clock;
use crate::config::ServerConfig;

/// The API key hashes and when they were read.
type KeyList = (Instant, Arc<Vec<[u8; 32]>>);

/// Shared state of one server; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The fields behind [`AppState`].
pub struct Inner {
    /// The database.
    pub store: Store,
    /// Settings.
    pub config: ServerConfig,
    /// The clock schedules and leases read.
    pub clock: Clock,
    /// The base URL links are built on (`http://127.0.0.1:8800`).
    pub base_url: String,
    /// Wakes the sync workers when a job is queued.
    pub jobs_queued: Notify,
    /// Wakes the webhook sender when an event is queued.
    pub events_queued: Notify,
    /// Serializes queueing, so that two requests cannot queue the same data type twice.
    pub queue_lock: tokio::sync::Mutex<()>,
    /// Turns true when the server is asked to stop.
    pub stopping: watch::Receiver<bool>,
    /// What the pages (Link page, dashboard) keep: CSRF secret, pending link attempts.
    pub pages: crate::web::PageState,
    /// What the syncs this process runs report while they run (the progress page).
    pub live: crate::dashboard::live::LiveSyncs,
    /// Who this process is in leases (`pid 4242 on web-1, 3f9a…`): its workers add `-N`.
    pub process_id: String,
    api_keys: Mutex<Option<KeyList>>,
    requested: Mutex<HashSet<String>>,
    /// Company and connection pairs found to belong together, with when.
    owned: Mutex<std::collections::HashMap<String, Instant>>,
}

/// How long a connection found to belong to its company is trusted without asking the
/// database again. A data page then costs one statement instead of two; a connection deleted
/// by another server process answers 404 here at most this late (its records are already
/// gone: its pages are empty meanwhile). Deletions through this process forget at once.
const OWNED_FOR: Duration = Duration::from_secs(1);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// New state for a server.
    pub fn new(
        store: Store,
        config: ServerConfig,
        base_url: String,
        stopping: watch::Receiver<bool>,
    ) -> AppState {
        let clock = config.clock.clone();
        AppState(Arc::new(Inner {
            store,
            config,
            clock,
            base_url,
            jobs_queued: Notify::new(),
            events_queued: Notify::new(),
            queue_lock: tokio::sync::Mutex::new(()),
            stopping,
            pages: crate::web::PageState::new(),
            live: crate::dashboard::live::LiveSyncs::default(),
            process_id: format!(
                "pid {} on {}, {}",
                std::process::id(),
                prestalink_sync::host_name(),
                &crate::random_id()[..8]
            ),
            api_keys: Mutex::new(None),
            requested: Mutex::new(HashSet::new()),
            owned: Mutex::new(std::collections::HashMap::new()),
        }))
    }

    /// The SHA-256 hashes of the active API keys, re-read from the database at most every
    /// `api_key_cache` (so a revoked key stops working within that time); with `fresh`,
    /// re-read now.
    pub async fn api_key_hashes(
        &self,
        fresh: bool,
    ) -> Result<Arc<Vec<[u8; 32]>>, prestalink_store::StoreError> {
        if let Some((at, hashes)) = self.api_keys.lock().expect("lock").as_ref() {
            let limit = if fresh {
                Duration::ZERO
            } else {
                self.config.api_key_cache
            };
            if at.elapsed() < limit {
                return Ok(hashes.clone());
            }
        }
        let hashes: Vec<[u8; 32]> = self
            .store
            .active_api_key_hashes()
            .await?
            .iter()
            .filter_map(|h| hex::decode(h).ok()?.try_into().ok())
            .collect();
        let hashes = Arc::new(hashes);
        *self.api_keys.lock().expect("lock") = Some((Instant::now(), hashes.clone()));
        Ok(hashes)
    }

    /// Whether a data type of a connection is known to have been requested (synced or
    /// queued). Once true it stays true for as long as the connection exists, and handlers
    /// look the connection up first, so a positive answer is kept without expiry.
    pub fn known_requested(&self, connection_id: &str, data_type: &str) -> bool {
        self.requested
            .lock()
            .expect("lock")
            .contains(&format!("{connection_id}|{data_type}"))
    }

    /// Remembers that a data type of a connection was requested.
    pub fn remember_requested(&self, connection_id: &str, data_type: &str) {
        let mut requested = self.requested.lock().expect("lock");
        if requested.len() >= 100_000 {
            requested.clear();
        }
        requested.insert(format!("{connection_id}|{data_type}"));
    }

    /// Whether the connection was found to belong to the company less than [`OWNED_FOR`] ago.
    pub fn known_owned(&self, company_id: &str, connection_id: &str) -> bool {
        self.owned
            .lock()
            .expect("lock")
            .get(&format!("{company_id}|{connection_id}"))
            .is_some_and(|at| at.elapsed() < OWNED_FOR)
    }

    /// Remembers that the connection belongs to the company.
    pub fn remember_owned(&self, company_id: &str, connection_id: &str) {
        let mut owned = self.owned.lock().expect("lock");
        if owned.len() >= 10_000 {
            owned.retain(|_, at| at.elapsed() < OWNED_FOR);
        }
        owned.insert(format!("{company_id}|{connection_id}"), Instant::now());
    }

    /// Forgets every pair (a company or a connection was deleted).
    pub fn forget_owned(&self) {
        self.owned.lock().expect("lock").clear();
    }

    /// Whether the server is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }
}

/// How long to sleep before polling again, shortened when the server stops.
pub async fn sleep_or_stop(state: &AppState, wait: Duration, notify: &Notify) {
    let mut stopping = state.stopping.clone();
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = notify.notified() => {}
        _ = async { let _ = stopping.wait_for(|s| *s).await; } => {}
    }
}
