//! One sync of a connection at a time: the engine holds the connection's sync lease (a row
//! in the store, like a worker's job lease) for the whole run and renews it; a second sync
//! waits up to `SyncOptions::lease_wait` and then stops with `SyncInProgress`.

use std::time::Duration;

use chrono::Utc;
use prestalink_store::{Store, StoreError, SyncLease};

use crate::engine::Ctx;
use crate::error::SyncError;

/// How long a lease lasts without renewal: a sync killed with -9 blocks the next one for
/// at most this long.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(60);
/// How often a held lease is renewed, and a held one polled while waiting.
const RENEW_EVERY: Duration = Duration::from_secs(15);
const POLL_EVERY: Duration = Duration::from_millis(500);

/// This machine's name (as leases record their holder).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

/// Who this process is, in the lease row (shown to a second sync).
fn owner(run_id: &str) -> String {
    format!(
        "pid {} on {}, run {run_id}",
        std::process::id(),
        host_name()
    )
}

/// Whether `owner` (as [`owner`] writes it) is a process of this machine that no longer
/// runs: a sync killed with -9 leaves its lease behind, and the next sync on the same
/// machine need not wait for it to expire. Only where `/proc` shows processes (Linux);
/// elsewhere the lease expires after [`LEASE_TTL`].
fn is_dead_local_process(owner: &str) -> bool {
    let Some(rest) = owner.strip_prefix("pid ") else {
        return false;
    };
    let Some((pid, rest)) = rest.split_once(" on ") else {
        return false;
    };
    let host = rest.split(", run ").next().unwrap_or_default();
    let proc_root = std::path::Path::new("/proc/self");
    host == host_name()
        && proc_root.exists()
        && pid.parse::<u32>().is_ok()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Takes the connection's lease, waiting up to `lease_wait` while another sync holds it.
pub(crate) async fn acquire(ctx: &Ctx) -> Result<SyncLease, SyncError> {
    acquire_for(
        &ctx.db,
        &ctx.connection_id,
        &ctx.run_id,
        ctx.options.lease_wait,
    )
    .await
}

/// [`acquire`] for `connection_id`, as `run` (a run id, or what else names the holder).
pub(crate) async fn acquire_for(
    db: &Store,
    connection_id: &str,
    run: &str,
    lease_wait: Duration,
) -> Result<SyncLease, SyncError> {
    let owner = owner(run);
    let deadline = tokio::time::Instant::now() + lease_wait;
    loop {
        match db
            .acquire_sync_lease(connection_id, &owner, LEASE_TTL, Utc::now())
            .await
        {
            Ok(lease) => return Ok(lease),
            Err(StoreError::SyncInProgress { owner: holder, .. })
                if is_dead_local_process(&holder) =>
            {
                tracing::info!(%holder, "taking over the sync lease of a process that died");
                let taken = db
                    .take_over_sync_lease(connection_id, &holder, &owner, LEASE_TTL, Utc::now())
                    .await?;
                if let Some(lease) = taken {
                    return Ok(lease);
                }
            }
            Err(StoreError::SyncInProgress { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(POLL_EVERY).await;
            }
            Err(e) => return Err(SyncError::Database(e)),
        }
    }
}

/// Renews the lease until it is lost (never returns while it is held); the error says so.
pub(crate) async fn keep(db: &Store, lease: &SyncLease) -> SyncError {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        match db.renew_sync_lease(lease, LEASE_TTL, Utc::now()).await {
            Ok(true) => {}
            Ok(false) => {
                return SyncError::Database(StoreError::SyncInProgress {
                    connection_id: lease.connection_id.clone(),
                    owner: "another process (this sync's lease expired and was taken over)"
                        .to_string(),
                    expires_at: "?".to_string(),
                })
            }
            // A passing database error: try again at the next renewal, before the TTL ends.
            Err(e) => tracing::warn!(error = %e, "sync lease renewal failed"),
        }
    }
}

/// Gives a lease back: [`Guard::release`] at the end of a run, or, when the run is dropped
/// before it ends, a task spawned by `Drop` (a lease that cannot be released expires).
pub(crate) struct Guard {
    db: Store,
    lease: Option<SyncLease>,
}

impl Guard {
    pub(crate) fn new(db: Store, lease: SyncLease) -> Guard {
        Guard {
            db,
            lease: Some(lease),
        }
    }

    /// Releases the lease now.
    pub(crate) async fn release(mut self) {
        if let Some(lease) = self.lease.take() {
            release(&self.db, &lease).await;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let db = self.db.clone();
            runtime.spawn(async move { release(&db, &lease).await });
        }
    }
}

async fn release(db: &Store, lease: &SyncLease) {
    if let Err(e) = db.release_sync_lease(lease).await {
        tracing::warn!(error = %e, "the sync lease could not be released; it expires");
    }
}
