//! The scheduler: every `scheduler_tick`, queues a sync of each data type of each linked
//! connection whose `syncSchedule` (hours) has passed since its last pull operation was
//! requested, unless one is queued or running. Runs in every server process; with several
//! processes on one database, two may queue the same due sync once (the job queue still
//! runs them one after the other).

use std::collections::HashMap;

use chrono::Duration as ChronoDuration;
use prestalink_commerce::{DataType, Support};
use prestalink_store::{ConnectionStatus, DATASET_ACTIVE};

use crate::error::ApiResult;
use crate::state::{sleep_or_stop, AppState};
use crate::worker::{queue_sync, Trigger};

/// Runs until the server stops.
pub async fn run(state: AppState) {
    let wake = tokio::sync::Notify::new();
    loop {
        sleep_or_stop(&state, state.config.scheduler_tick, &wake).await;
        if state.is_stopping() {
            break;
        }
        if let Err(e) = tick(&state).await {
            tracing::warn!(error = %e.message, "the scheduler could not run");
        }
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
                tracing::info!(connection = %connection.id, count = due.len(), "scheduled sync due");
                queue_sync(state, &company, &connection.id, &due, Trigger::Schedule).await?;
            }
        }
    }
    Ok(())
}
