//! The scheduler: every `scheduler_tick`, queues a sync of each data type of each linked
//! connection whose `syncSchedule` (hours) has passed since its last pull operation was
//! requested, unless one is queued or running. It runs in every `serve` and `worker`
//! process, but only the one holding the `scheduler` role lease (store `hold_role`) queues:
//! the others stand by and take the role over within [`role_ttl`] when the holder stops or
//! dies. Every process also publishes the queue's gauges for its `/metrics`.

use std::collections::HashMap;

use chrono::Duration as ChronoDuration;
use prestalink_commerce::{DataType, Support};
use prestalink_store::{ConnectionStatus, DATASET_ACTIVE};

use crate::error::ApiResult;
use crate::state::{sleep_or_stop, AppState};
use crate::worker::{queue_sync_seen, SeenLatest, Trigger};

/// The role's name in `role_leases`.
const ROLE: &str = "scheduler";

/// How long the scheduler role lasts without renewal: three ticks, at least 10 s.
pub fn role_ttl(tick: std::time::Duration) -> std::time::Duration {
    (tick * 3).max(std::time::Duration::from_secs(10))
}

fn role_ttl_of(state: &AppState) -> ChronoDuration {
    ChronoDuration::from_std(role_ttl(state.config.scheduler_tick))
        .unwrap_or(ChronoDuration::seconds(90))
}

/// Runs until the server stops.
pub async fn run(state: AppState) {
    let wake = tokio::sync::Notify::new();
    let ttl = role_ttl_of(&state);
    let mut leading = false;
    // On the server's clock, which tests move.
    let mut last_prune: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        sleep_or_stop(&state, state.config.scheduler_tick, &wake).await;
        if state.is_stopping() {
            break;
        }
        publish_queue(&state).await;
        let held = state
            .store
            .hold_role(ROLE, &state.process_id, ttl, state.clock.now())
            .await;
        match held {
            Ok(now_leading) => {
                if now_leading != leading {
                    tracing::info!(
                        process = %state.process_id,
                        "{}",
                        if now_leading {
                            "this process now runs the scheduler"
                        } else {
                            "another process runs the scheduler; this one stands by"
                        }
                    );
                }
                leading = now_leading;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the scheduler role; standing by");
                leading = false;
            }
        }
        metrics::gauge!("prestalink_scheduler_leader").set(if leading { 1.0 } else { 0.0 });
        if !leading {
            continue;
        }
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e.message, "the scheduler could not run");
        }
        // Retention, by the role holder only, at most every 10 minutes (and at its first
        // tick), in bounded batches: a backlog is worked off over several passes.
        let now = state.clock.now();
        if state.config.history_days > 0
            && last_prune
                .is_none_or(|at| now - at >= ChronoDuration::seconds(PRUNE_EVERY.as_secs() as i64))
        {
            last_prune = Some(now);
            prune(&state).await;
        }
    }
    if leading {
        let _ = state.store.release_role(ROLE, &state.process_id).await;
    }
}

/// How often the scheduler's holder prunes old sync history.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes sync history older than `history_days` (at most 10 batches of 1,000 rows per
/// table and pass).
async fn prune(state: &AppState) {
    let cutoff = state.clock.now() - ChronoDuration::days(i64::from(state.config.history_days));
    match state.store.prune_history(cutoff, 1000, 10).await {
        Ok(pruned) if pruned.total() > 0 => {
            metrics::counter!("prestalink_history_pruned_total").increment(pruned.total());
            tracing::info!(
                jobs = pruned.jobs,
                pull_operations = pruned.datasets,
                sync_runs = pruned.sync_runs,
                days = state.config.history_days,
                "pruned old sync history"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot prune old sync history"),
    }
}

/// The queue's gauges for `/metrics`.
async fn publish_queue(state: &AppState) {
    match state.store.queue_stats(state.clock.now()).await {
        Ok(q) => {
            let waiting = q.queued.saturating_sub(q.due);
            for (label, value) in [
                ("due", q.due),
                ("waiting", waiting),
                ("running", q.running),
                ("expired_lease", q.expired_leases),
                ("failed", q.failed),
            ] {
                metrics::gauge!("prestalink_queue_jobs", "state" => label).set(value as f64);
            }
            metrics::gauge!("prestalink_queue_oldest_due_seconds")
                .set(q.oldest_due_secs.unwrap_or(0.0));
        }
        Err(e) => tracing::warn!(error = %e, "cannot read the job queue's state"),
    }
}

/// Queues every due sync once.
pub async fn tick(state: &AppState) -> ApiResult<()> {
    let now = state.clock.now();
    for company in state.store.list_companies().await? {
        let settings = crate::routes::settings::effective(state, &company.id).await?;
        for connection in state.store.list_connections(Some(&company.id)).await? {
            if connection.status != ConnectionStatus::Linked {
                continue;
            }
            let latest: HashMap<String, prestalink_store::Dataset> = state
                .store
                .latest_datasets(&connection.id)
                .await?
                .into_iter()
                .map(|d| (d.data_type.clone(), d))
                .collect();
            let due: Vec<DataType> = settings
                .iter()
                .filter(|s| s.sync_schedule > 0)
                .filter_map(|s| {
                    s.data_type
                        .parse::<DataType>()
                        .ok()
                        .map(|dt| (dt, s.sync_schedule))
                })
                .filter(|(dt, _)| dt.support() == Support::Supported)
                .filter(|(dt, hours)| match latest.get(dt.key()) {
                    None => true,
                    Some(d) if DATASET_ACTIVE.contains(&d.status.as_str()) => false,
                    Some(d) => chrono::DateTime::parse_from_rfc3339(&d.requested)
                        .map(|at| {
                            at.with_timezone(&chrono::Utc) + ChronoDuration::hours(*hours) <= now
                        })
                        .unwrap_or(true),
                })
                .map(|(dt, _)| dt)
                .collect();
            if !due.is_empty() {
                // A tick over many connections can outlast the role: renewed before each
                // queueing, and given up at once if another process took it meanwhile.
                if !state
                    .store
                    .hold_role(ROLE, &state.process_id, role_ttl_of(state), now)
                    .await?
                {
                    tracing::info!("another process took the scheduler role during this tick");
                    return Ok(());
                }
                tracing::info!(connection = %connection.id, count = due.len(), "scheduled sync due");
                let seen: SeenLatest = due
                    .iter()
                    .map(|dt| {
                        let id = latest.get(dt.key()).map(|d| d.id.clone());
                        (dt.key().to_string(), id)
                    })
                    .collect();
                queue_sync_seen(
                    state,
                    &company,
                    &connection.id,
                    &due,
                    Trigger::Schedule,
                    Some(&seen),
                )
                .await?;
            }
        }
    }
    Ok(())
}
