//! What the pacer learned (saved per store, the next run's starting point) and what it shows
//! (progress and benchmark output).

use std::time::Duration;

use crate::outcome::ResourceClass;
use crate::pace::Pace;
use crate::shoppers::Shoppers;

/// The unloaded latency model of a class: `overhead + per_record * records`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BaselineSettings {
    /// Fixed cost of one request, in seconds.
    pub overhead_secs: f64,
    /// Cost of one record, in seconds.
    pub per_record_secs: f64,
}

/// What was learned about one resource class.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ClassSettings {
    /// The last page size (0 = not learned: the class default is used).
    #[serde(default)]
    pub page_size: usize,
    /// The unloaded latency model, once measured.
    #[serde(default)]
    pub baseline: Option<BaselineSettings>,
}

/// The last good settings for one store; serialise them with serde and pass them back to
/// [`crate::Pacer::new`] on the next run.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct PacerSettings {
    /// The concurrency limit (0 = not learned).
    #[serde(default)]
    pub concurrency: usize,
    /// Id lists.
    #[serde(default)]
    pub id_list: ClassSettings,
    /// Full records.
    #[serde(default)]
    pub full: ClassSettings,
    /// Heavy records.
    #[serde(default)]
    pub heavy: ClassSettings,
}

impl PacerSettings {
    /// The settings of one class.
    pub fn class(&self, class: ResourceClass) -> &ClassSettings {
        match class {
            ResourceClass::IdList => &self.id_list,
            ResourceClass::Full => &self.full,
            ResourceClass::Heavy => &self.heavy,
        }
    }

    /// The settings of one class, mutably.
    pub fn class_mut(&mut self, class: ResourceClass) -> &mut ClassSettings {
        match class {
            ResourceClass::IdList => &mut self.id_list,
            ResourceClass::Full => &mut self.full,
            ResourceClass::Heavy => &mut self.heavy,
        }
    }
}

/// The state of one class, for display.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ClassSnapshot {
    /// Which class.
    pub class: ResourceClass,
    /// The page size asked for now.
    pub page_size: usize,
    /// The unloaded latency of a page of that size, once measured.
    pub baseline: Option<Duration>,
    /// Latency of the last successful first attempt.
    pub last_latency: Option<Duration>,
}

/// The pacer's state at one moment, for progress and benchmark output (serialisable for a
/// JSON report).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PacerSnapshot {
    /// The pace in use.
    pub pace: Pace,
    /// Requests allowed in flight now (1 while probing).
    pub limit: usize,
    /// The learned limit outside probes.
    pub learned_limit: usize,
    /// The shop's knee as last measured (the concurrency where its latency started to
    /// grow); the learned limit stays the pace's storefront reserve below it.
    pub knee: Option<usize>,
    /// Requests in flight.
    pub in_flight: usize,
    /// Callers waiting in [`crate::Pacer::acquire`].
    pub waiting: usize,
    /// Whether the unloaded latency is being re-measured.
    pub probing: bool,
    /// Remaining pause ordered by a `Retry-After`.
    pub paused_for: Option<Duration>,
    /// The last decision window's latency ratio: median of queue waits (answer against the
    /// shop's `Execution-Time`), or mean of latency / unloaded latency.
    pub latency_ratio: Option<f64>,
    /// Per class, in [`ResourceClass::ALL`] order.
    pub classes: [ClassSnapshot; 3],
    /// Requests completed with an outcome.
    pub completed: u64,
    /// Of which back-pressure.
    pub backpressure: u64,
    /// Moving average of the latency of retries, kept apart from first attempts.
    pub retry_latency: Option<Duration>,
    /// Time retries waited for their back-off in [`crate::Pacer::acquire`], in all (the
    /// only back-off a retry waits: the sync's fetcher adds none of its own).
    pub retry_backoff: Duration,
    /// Requests per second allowed after the host answered 429, if it did.
    pub learned_rate: Option<f64>,
    /// Whether shoppers are on the storefront, as last told ([`crate::Pacer::set_shoppers`]).
    pub shoppers: Shoppers,
}

impl PacerSnapshot {
    /// The state of one class.
    pub fn class(&self, class: ResourceClass) -> &ClassSnapshot {
        &self.classes[class.index()]
    }
}
