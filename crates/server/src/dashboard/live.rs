//! What the syncs this process runs report while they run (the sync engine's progress
//! events: records per resource and data type, rate, ETA, requests, retries, the pacer's
//! concurrency and page sizes), kept in memory per connection for the progress page.
//!
//! Only syncs run by this process's workers are seen here; a sync run by a separate
//! `prestalink worker` shows on the page through its stored pull operations only.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use prestalink_pacing::PacerSnapshot;
use prestalink_sync::{ProgressEvent, Stage};

/// The live state of every connection whose sync this process ran (the latest per
/// connection, kept after it ends so the page shows how it finished).
#[derive(Debug, Default)]
pub struct LiveSyncs(Mutex<HashMap<String, LiveSync>>);

/// One connection's latest sync as its progress events told it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSync {
    /// When the sync started.
    pub started: DateTime<Utc>,
    /// When it ended (`None` while it runs).
    pub finished: Option<DateTime<Utc>>,
    /// Stages in the order they first reported.
    pub stages: Vec<StageState>,
    /// Reads sent again after a transient failure.
    pub retries: u64,
    /// The pacer as last reported.
    pub pacer: Option<PacerSnapshot>,
    /// Progress events received (grows while the sync reports).
    pub events: u64,
}

/// One resource read or data type mapped.
#[derive(Debug, Clone, PartialEq)]
pub struct StageState {
    /// `true` for a read of a PrestaShop resource, `false` for mapping a data type.
    pub read: bool,
    /// The resource (`orders`) or data type (`commerce-orders`).
    pub name: String,
    /// Records handled so far.
    pub records: u64,
    /// Records expected, when known.
    pub total: Option<u64>,
    /// Requests sent for this stage.
    pub requests: u64,
    /// Records per second since the stage started.
    pub rate: f64,
    /// Seconds left, when the total is known.
    pub eta_seconds: Option<f64>,
    /// Whether the stage ended.
    pub finished: bool,
    /// Why it failed.
    pub error: Option<String>,
}

impl LiveSyncs {
    /// A sync of `connection_id` starts (replacing the previous one's state).
    pub fn start(&self, connection_id: &str, now: DateTime<Utc>) {
        let sync = LiveSync {
            started: now,
            finished: None,
            stages: Vec::new(),
            retries: 0,
            pacer: None,
            events: 0,
        };
        self.lock().insert(connection_id.to_string(), sync);
    }

    /// Applies one progress event of `connection_id`'s running sync.
    pub fn update(&self, connection_id: &str, event: &ProgressEvent) {
        let mut all = self.lock();
        let Some(sync) = all.get_mut(connection_id) else {
            return;
        };
        let (read, name) = match &event.stage {
            Stage::Read(name) => (true, name),
            Stage::Map(name) => (false, name),
        };
        let state = StageState {
            read,
            name: name.clone(),
            records: event.records,
            total: event.total,
            requests: event.requests,
            rate: event.rate,
            eta_seconds: event.eta_seconds,
            finished: event.finished,
            error: event.error.clone(),
        };
        match sync
            .stages
            .iter_mut()
            .find(|s| s.read == read && &s.name == name)
        {
            Some(existing) => *existing = state,
            None => sync.stages.push(state),
        }
        sync.retries = sync.retries.max(event.retries);
        sync.pacer = Some(event.pacer.clone());
        sync.events += 1;
    }

    /// The sync of `connection_id` ended.
    pub fn finish(&self, connection_id: &str, now: DateTime<Utc>) {
        if let Some(sync) = self.lock().get_mut(connection_id) {
            sync.finished = Some(now);
        }
    }

    /// The latest sync of `connection_id` this process ran, if any.
    pub fn get(&self, connection_id: &str) -> Option<LiveSync> {
        self.lock().get(connection_id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveSync>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prestalink_pacing::{Caps, Pace, Pacer};

    fn event(stage: Stage, records: u64, retries: u64, finished: bool) -> ProgressEvent {
        ProgressEvent {
            stage,
            records,
            total: Some(100),
            requests: 3,
            rate: 12.5,
            eta_seconds: Some(4.0),
            finished,
            error: None,
            retries,
            pacer: Pacer::new(Pace::Balanced, Caps::default(), None).snapshot(),
        }
    }

    #[test]
    fn a_sync_keeps_one_row_per_step_until_the_next_starts() {
        let live = LiveSyncs::default();
        let now = Utc::now();
        live.update("c1", &event(Stage::Read("orders".into()), 10, 0, false));
        assert_eq!(live.get("c1"), None, "no event before the sync starts");
        live.start("c1", now);
        live.update("c1", &event(Stage::Read("orders".into()), 10, 0, false));
        live.update("c1", &event(Stage::Read("orders".into()), 60, 2, false));
        live.update(
            "c1",
            &event(Stage::Map("commerce-orders".into()), 5, 1, false),
        );
        let sync = live.get("c1").unwrap();
        assert_eq!(sync.stages.len(), 2);
        assert_eq!((sync.stages[0].read, sync.stages[0].records), (true, 60));
        assert!(!sync.stages[1].read);
        assert_eq!(sync.retries, 2, "retries count the whole run");
        assert_eq!(sync.events, 3);
        assert!(sync.pacer.is_some() && sync.finished.is_none());
        live.finish("c1", now);
        assert_eq!(live.get("c1").unwrap().finished, Some(now));
        live.start("c1", now);
        assert!(live.get("c1").unwrap().stages.is_empty());
        assert_eq!(live.get("c2"), None);
    }
}
