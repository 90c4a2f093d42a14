//! Progress events: what a running sync reports to the CLI (progress bars) and, later, the
//! API. Events are sent on an unbounded channel and never block the sync.

use std::time::{Duration, Instant};

use prestalink_pacing::PacerSnapshot;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::fetch::Fetcher;

/// What a progress event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", content = "name", rename_all = "camelCase")]
pub enum Stage {
    /// Reading a PrestaShop resource.
    Read(String),
    /// Mapping and writing a commerce data type.
    Map(String),
}

/// One progress report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressEvent {
    /// The resource or data type.
    pub stage: Stage,
    /// Records handled so far.
    pub records: u64,
    /// Records expected in all, when known (a full read lists ids first).
    pub total: Option<u64>,
    /// Requests sent so far for this stage.
    pub requests: u64,
    /// Records per second since the stage started.
    pub rate: f64,
    /// Estimated time to finish, when the total is known and the rate is positive.
    pub eta_seconds: Option<f64>,
    /// True on the stage's last event.
    pub finished: bool,
    /// Why the stage failed, on a failed stage's last event.
    pub error: Option<String>,
    /// Reads of the whole run sent again after a transient failure, so far.
    pub retries: u64,
    /// The store host's pacer when the event was sent (concurrency, page sizes).
    pub pacer: PacerSnapshot,
}

/// Sends the events of one stage, computing rate and ETA.
#[derive(Debug)]
pub(crate) struct StageProgress {
    stage: Stage,
    sender: Option<UnboundedSender<ProgressEvent>>,
    fetcher: Fetcher,
    started: Instant,
    records: u64,
    total: Option<u64>,
    requests_at_start: u64,
}

impl StageProgress {
    pub(crate) fn new(
        stage: Stage,
        sender: Option<UnboundedSender<ProgressEvent>>,
        fetcher: &Fetcher,
        requests_at_start: u64,
    ) -> Self {
        StageProgress {
            stage,
            sender,
            fetcher: fetcher.clone(),
            started: Instant::now(),
            records: 0,
            total: None,
            requests_at_start,
        }
    }

    pub(crate) fn set_total(&mut self, total: u64, requests_now: u64) {
        self.total = Some(total);
        self.send(requests_now, false, None);
    }

    pub(crate) fn advance(&mut self, records: u64, requests_now: u64) {
        self.records += records;
        self.send(requests_now, false, None);
    }

    pub(crate) fn finish(&mut self, requests_now: u64, error: Option<String>) {
        self.send(requests_now, true, error);
    }

    fn send(&self, requests_now: u64, finished: bool, error: Option<String>) {
        let Some(sender) = &self.sender else { return };
        let elapsed = self.started.elapsed().max(Duration::from_millis(1));
        let rate = self.records as f64 / elapsed.as_secs_f64();
        let eta_seconds = match self.total {
            Some(total) if rate > 0.0 && !finished => {
                Some(total.saturating_sub(self.records) as f64 / rate)
            }
            _ => None,
        };
        let _ = sender.send(ProgressEvent {
            stage: self.stage.clone(),
            records: self.records,
            total: self.total,
            requests: requests_now.saturating_sub(self.requests_at_start),
            rate,
            eta_seconds,
            finished,
            error,
            retries: self.fetcher.retries(),
            pacer: self.fetcher.pacer().snapshot(),
        });
    }
}
