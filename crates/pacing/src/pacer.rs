//! The pacer: one per store host, shared by every reader of that host.
//!
//! It ties the decisions together: the concurrency [`Controller`], one [`PageSizer`] and one
//! [`Baseline`] per resource class, the [`Prober`], and the hard caps (a concurrency ceiling,
//! a minimum spacing between request starts for the rate cap, a global pause for
//! `Retry-After`). All state sits behind one mutex that is never held across an await;
//! callers wait in a FIFO queue whose first member is woken whenever a slot may have opened.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::baseline::Baseline;
use crate::controller::{Change, Controller, StartSeq};
use crate::outcome::{Attempt, BackpressureKind, Outcome, ResourceClass, ServerTiming};
use crate::pace::{Caps, Pace, Pinned};
use crate::page_size::{Page, PageSizer};
use crate::probe::Prober;
use crate::settings::{
    BaselineSettings, ClassSettings, ClassSnapshot, PacerSettings, PacerSnapshot,
};
use crate::shoppers::Shoppers;

/// Longest `Retry-After` honoured; a longer one (a firewall ban) is the caller's to report.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// First retry back-off; doubles per retry.
const RETRY_BASE: Duration = Duration::from_millis(500);
/// Longest retry back-off.
const RETRY_CAP: Duration = Duration::from_secs(30);
/// Weight of a new sample in the retry latency average.
const RETRY_EWMA: f64 = 0.2;
/// Weight of a new solo sample in the idle transport estimate (answer time minus the shop's
/// `Execution-Time`).
const TRANSPORT_EWMA: f64 = 0.3;
/// Smallest expected answer time a queue ratio is computed against: PHP reports
/// `Execution-Time` in milliseconds, and below this a millisecond of jitter reads as load.
const MIN_EXPECTED_ANSWER: Duration = Duration::from_millis(2);

/// Adaptive pacing for one store host. Cheap to clone; clones share one state.
#[derive(Clone)]
pub struct Pacer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pacer").field(&self.snapshot()).finish()
    }
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is complete
        // before anything that could panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a permit remembers about its request.
#[derive(Debug, Clone, Copy)]
struct Started {
    class: ResourceClass,
    attempt: Attempt,
    page_size: usize,
    /// Start order, for the controller.
    seq: StartSeq,
    /// No other request was in flight when this one started.
    alone: bool,
    /// The overlap generation at start; if it moved, another request overlapped this one.
    generation: u64,
}

struct State {
    pace: Pace,
    /// `Caps::pinned`: concurrency and page sizes never change, nothing is probed.
    pinned: bool,
    min_spacing: Option<Duration>,
    controller: Controller,
    pages: [PageSizer; 3],
    baselines: [Baseline; 3],
    last_latency: [Option<Duration>; 3],
    /// Idle time of an answer beyond the shop's `Execution-Time` (network, PHP bootstrap
    /// before the timer starts), in seconds, from solo samples.
    transport: Option<f64>,
    prober: Prober,
    /// Requests started up to this one started before the current probe.
    probe_boundary: StartSeq,
    in_flight: usize,
    /// Callers waiting in `acquire` by ticket, served in order, with how to wake each.
    queue: BTreeMap<u64, Arc<Notify>>,
    next_ticket: u64,
    generation: u64,
    /// No request starts before this: the rate caps' spacing, set at each start, and the
    /// pace's rest after an answer (`PaceProfile::rest`), set at its completion.
    next_start_at: Option<Instant>,
    /// Rate limit learned from 429 answers (a firewall's), as a spacing between starts.
    rate_limit: RateLimit,
    paused_until: Option<Instant>,
    completed: u64,
    backpressure: u64,
    retry_latency: Option<f64>,
    /// Time retries waited for their back-off, in all.
    retry_backoff: Duration,
    rng: u64,
    shoppers: Shoppers,
}

impl Pacer {
    /// A pacer for one store host at `pace`, never exceeding `caps`, starting from the
    /// settings saved by a previous run if any (otherwise from one request in flight and
    /// the default page sizes). Rate caps that are not positive and finite are ignored.
    pub fn new(pace: Pace, caps: Caps, start: Option<PacerSettings>) -> Pacer {
        let now = Instant::now();
        let profile = pace.profile();
        let start = start.unwrap_or_default();
        let ceiling = caps
            .max_concurrency
            .map_or(profile.ceiling, |c| c.clamp(1, profile.ceiling));
        let (limit, slow_start) = match start.concurrency {
            0 => (1, true),
            n => (n, false),
        };
        let pinned = caps.pinned.map(|p| Pinned {
            concurrency: p.concurrency.max(1),
            page_size: p.page_size.max(1),
        });
        let (ceiling, limit, slow_start) = match pinned {
            Some(p) => (p.concurrency, p.concurrency, false),
            None => (ceiling, limit, slow_start),
        };
        let pages = ResourceClass::ALL.map(|class| match pinned {
            // Id lists are cheap per record: every pace reads them in the largest pages.
            Some(_) if class == ResourceClass::IdList => PageSizer::pinned(
                crate::page_size::bounds(class).2,
                profile.target_request_time,
            ),
            Some(p) => PageSizer::pinned(p.page_size, profile.target_request_time),
            None => {
                let saved = start.class(class).page_size;
                PageSizer::new(
                    class,
                    profile.target_request_time,
                    caps.max_page_size,
                    (saved > 0).then_some(saved),
                )
            }
        });
        let baselines = ResourceClass::ALL.map(|class| match start.class(class).baseline {
            Some(b) => Baseline::restored(
                b.overhead_secs,
                b.per_record_secs,
                pages[class.index()].size(),
            ),
            None => Baseline::default(),
        });
        let min_spacing = caps
            .max_requests_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        let state = State {
            pace,
            pinned: pinned.is_some(),
            min_spacing,
            controller: Controller::new(profile, ceiling, limit, slow_start),
            pages,
            baselines,
            last_latency: [None; 3],
            transport: None,
            prober: Prober::new(profile.probe_every, now),
            probe_boundary: 0,
            in_flight: 0,
            queue: BTreeMap::new(),
            next_ticket: 0,
            generation: 0,
            next_start_at: None,
            rate_limit: RateLimit::default(),
            paused_until: None,
            completed: 0,
            backpressure: 0,
            retry_latency: None,
            retry_backoff: Duration::ZERO,
            rng: 0x9E37_79B9_7F4A_7C15,
            shoppers: Shoppers::Unknown,
        };
        Pacer {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
            }),
        }
    }

    /// Waits until a request of `class` may be sent: a retry first waits its back-off,
    /// then every request waits for a `Retry-After` pause to end, a free slot under the
    /// current limit, and its turn under the rate cap. Cancel-safe: dropping the future
    /// gives nothing up.
    pub async fn acquire(&self, class: ResourceClass, attempt: Attempt) -> Permit {
        if let Attempt::Retry(n) = attempt {
            let delay = {
                let mut state = self.shared.lock();
                let delay = state.retry_delay(n);
                state.retry_backoff += delay;
                delay
            };
            tokio::time::sleep(delay).await;
        }
        let waiting = Waiting::new(&self.shared);
        let wake = Arc::clone(&waiting.wake);
        loop {
            // `notify_one` stores a wake-up if it comes before this await: none is lost.
            let notified = wake.notified();
            tokio::pin!(notified);
            let attempt_start = {
                let mut state = self.shared.lock();
                if state.queue.first_key_value().map(|(t, _)| *t) == Some(waiting.ticket) {
                    state.try_start(class, attempt, Instant::now())
                } else {
                    // Someone queued earlier goes first.
                    Err(None)
                }
            };
            let wake_at = match attempt_start {
                Ok(started) => {
                    // Leaving the queue wakes the next in line, who may start too.
                    drop(waiting);
                    return Permit {
                        shared: Arc::clone(&self.shared),
                        started,
                        done: false,
                    };
                }
                Err(wake_at) => wake_at,
            };
            match wake_at {
                Some(at) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// The page size to ask for now for `class` (a permit carries the size it was issued).
    pub fn page_size(&self, class: ResourceClass) -> usize {
        self.shared.lock().pages[class.index()].size()
    }

    /// What this pacer learned, to save for the store and pass to the next run.
    pub fn settings(&self) -> PacerSettings {
        let s = self.shared.lock();
        let mut settings = PacerSettings {
            concurrency: s.controller.saved_limit(),
            ..Default::default()
        };
        for class in ResourceClass::ALL {
            let i = class.index();
            *settings.class_mut(class) = ClassSettings {
                page_size: s.pages[i].size(),
                baseline: s.baselines[i].fit().map(|(a, b)| BaselineSettings {
                    overhead_secs: a,
                    per_record_secs: b,
                }),
            };
        }
        settings
    }

    /// The current state, for progress and benchmark output.
    pub fn snapshot(&self) -> PacerSnapshot {
        let s = self.shared.lock();
        let now = Instant::now();
        PacerSnapshot {
            pace: s.pace,
            limit: s.effective_limit(),
            learned_limit: s.controller.limit(),
            knee: s.controller.knee(),
            in_flight: s.in_flight,
            waiting: s.queue.len(),
            probing: s.prober.active(),
            paused_for: s.paused_until.filter(|t| *t > now).map(|t| t - now),
            latency_ratio: s.controller.last_ratio(),
            classes: ResourceClass::ALL.map(|class| {
                let i = class.index();
                let page_size = s.pages[i].size();
                ClassSnapshot {
                    class,
                    page_size,
                    baseline: s.baselines[i].extrapolate(page_size),
                    last_latency: s.last_latency[i],
                }
            }),
            completed: s.completed,
            backpressure: s.backpressure,
            retry_latency: s.retry_latency.map(Duration::from_secs_f64),
            retry_backoff: s.retry_backoff,
            learned_rate: s.rate_limit.rate(),
            shoppers: s.shoppers,
        }
    }

    /// Whether the pacer keeps a share of the shop for its storefront's visitors while they
    /// are there: balanced does, unless pinned (`Caps::pinned`) or capped to one request.
    /// Worth watching the visitors ([`crate::ShopperWatch`]) only then.
    pub fn watches_shoppers(&self) -> bool {
        let s = self.shared.lock();
        s.pace == Pace::Balanced && !s.pinned && s.controller.ceiling() > 1
    }

    /// Tells the pacer whether shoppers are on the storefront ([`crate::ShopperWatch`]):
    /// balanced keeps its share of the shop's capacity for them unless they are known to be
    /// absent. Polite runs one request whatever it is told, and max keeps nothing back.
    pub fn set_shoppers(&self, shoppers: Shoppers) {
        let mut s = self.shared.lock();
        if s.shoppers == shoppers {
            return;
        }
        s.shoppers = shoppers;
        tracing::debug!(
            ?shoppers,
            limit = s.controller.limit(),
            knee = ?s.controller.knee(),
            "pacer: storefront visitors"
        );
        let change = s
            .controller
            .set_shoppers_absent(shoppers == Shoppers::Absent);
        log_change(change, "shoppers", 0.0, s.controller.knee());
        if matches!(change, Change::Grew { .. }) {
            s.wake_first();
        }
    }
}

/// The right to send one request. Report how it went with [`Permit::complete`]; dropping it
/// without completing means the request was cancelled, which frees the slot and teaches
/// the pacer nothing.
#[must_use = "a permit holds a slot until completed or dropped"]
pub struct Permit {
    shared: Arc<Shared>,
    started: Started,
    done: bool,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("class", &self.started.class)
            .field("page_size", &self.started.page_size)
            .finish()
    }
}

impl Permit {
    /// The page size this request should ask for.
    pub fn page_size(&self) -> usize {
        self.started.page_size
    }

    /// The class this permit was acquired for.
    pub fn class(&self) -> ResourceClass {
        self.started.class
    }

    /// Reports how the request ended and frees its slot.
    pub fn complete(mut self, outcome: Outcome) {
        self.done = true;
        self.release(Some(outcome));
    }

    fn release(&self, outcome: Option<Outcome>) {
        let mut state = self.shared.lock();
        state.finish(self.started, outcome, Instant::now());
        state.wake_first();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            self.release(None);
        }
    }
}

/// A caller's place in the FIFO queue of `acquire`; leaves the queue when dropped, also when
/// the caller's future is. Without a queue a reader that just finished a request would take
/// the freed slot again before woken waiters run, and starve the other resource classes.
/// Only the first in line is woken when something changes (a slot frees, a probe ends), so
/// the cost of an event does not grow with the number of waiting readers.
struct Waiting<'a> {
    shared: &'a Shared,
    ticket: u64,
    wake: Arc<Notify>,
}

impl<'a> Waiting<'a> {
    fn new(shared: &'a Shared) -> Self {
        let mut state = shared.lock();
        state.next_ticket += 1;
        let ticket = state.next_ticket;
        let wake = Arc::new(Notify::new());
        state.queue.insert(ticket, Arc::clone(&wake));
        Waiting {
            shared,
            ticket,
            wake,
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        let was_first = state.queue.first_key_value().map(|(t, _)| *t) == Some(self.ticket);
        state.queue.remove(&self.ticket);
        if was_first {
            // The next in line may be able to start too.
            state.wake_first();
        }
    }
}

/// Balanced and polite pages: time per request, in request overheads (see `page_target`).
const PAGE_OVERHEADS: f64 = 20.0;
/// ... or this many per request in flight when more: large shops read with many requests
/// amortise the fixed cost further.
const PAGE_OVERHEADS_PER_IN_FLIGHT: f64 = 2.5;
/// Short pages still hold this many records.
const MIN_SHORT_PAGE_RECORDS: f64 = 10.0;

impl State {
    /// Wakes the first caller in line, if any, to check whether it may start.
    fn wake_first(&self) {
        if let Some((_, wake)) = self.queue.first_key_value() {
            wake.notify_one();
        }
    }

    /// One request in flight while probing, the learned limit otherwise.
    fn effective_limit(&self) -> usize {
        if self.prober.active() {
            1
        } else {
            self.controller.limit()
        }
    }

    /// Starts a request if everything allows it; otherwise says until when to wait
    /// (`None`: until a slot frees).
    fn try_start(
        &mut self,
        class: ResourceClass,
        attempt: Attempt,
        now: Instant,
    ) -> Result<Started, Option<Instant>> {
        if let Some(until) = self.paused_until {
            if until > now {
                return Err(Some(until));
            }
            self.paused_until = None;
        }
        if !self.pinned && self.prober.poll(now) {
            self.probe_boundary = self.controller.starts();
            tracing::debug!(
                limit = self.controller.limit(),
                "pacer: probing the unloaded latency"
            );
        }
        if self.in_flight >= self.effective_limit() {
            return Err(None);
        }
        if let Some(at) = self.next_start_at.filter(|at| *at > now) {
            return Err(Some(at));
        }
        self.rate_limit.on_start(now);
        let spacing = match (self.min_spacing, self.rate_limit.spacing(now)) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.next_start_at = spacing.map(|d| now + d);
        let alone = self.in_flight == 0;
        if !alone {
            // Everything in flight now overlaps another request.
            self.generation += 1;
        }
        self.in_flight += 1;
        let seq = self.controller.on_start(self.in_flight);
        Ok(Started {
            seq,
            class,
            attempt,
            page_size: self.pages[class.index()].size(),
            alone,
            generation: self.generation,
        })
    }

    fn finish(&mut self, started: Started, outcome: Option<Outcome>, now: Instant) {
        self.in_flight -= 1;
        let Some(outcome) = outcome else {
            return;
        };
        self.completed += 1;
        let solo = started.alone && started.generation == self.generation;
        let retry = matches!(started.attempt, Attempt::Retry(_));
        match outcome {
            Outcome::Success {
                latency,
                records,
                timing,
                ..
            } if !retry => {
                self.on_first_success(started, latency, records, timing, solo, now);
                return;
            }
            Outcome::Success { latency, .. } => self.note_retry_latency(latency),
            Outcome::Backpressure {
                kind,
                latency,
                retry_after,
            } => {
                if retry {
                    self.note_retry_latency(latency);
                }
                self.on_backpressure(started, kind, retry_after, now);
            }
            Outcome::Failed => {}
        }
        self.probe_completion(started, false, true, now);
    }

    /// Whether the pacer reads as max does now: at max, or balanced while nobody is on the
    /// storefront (nobody to slow down: pages as long as max's, no one-at-a-time probes of
    /// new page sizes once the shop's timing is known, the growth band of max; see
    /// `Controller::set_shoppers_absent`).
    fn reads_as_max(&self) -> bool {
        match self.pace {
            Pace::Max => true,
            Pace::Balanced => self.shoppers == Shoppers::Absent,
            Pace::Polite => false,
        }
    }

    /// The time per request pages of class `i` aim at, and the largest page that fits in
    /// it. At the balanced and polite paces pages aim at `PAGE_OVERHEADS × overhead` (the
    /// overhead being the fixed cost of a PrestaShop request: ~8-10 ms of PHP bootstrap), so
    /// the fixed cost is a twentieth of a page's time, or at 2.5 overheads per request in
    /// flight when that is more (large shops, ~1 s pages from ~50 in flight), within the
    /// pace's target. Earlier rules kept pages at 2.5 overheads per request in flight, for a
    /// model in which a shopper waits for a whole page when every PHP worker is busy. Real small shops run
    /// more PHP-FPM workers than cores (5 by default) and the storefront shares the CPUs
    /// with the reader instead of queueing: on a real PrestaShop 8.1.2 with 20,000 orders
    /// (2 cores), such short pages took 6,292 requests and 170 s of the shop's CPU for a full
    /// read that 836 requests of 500 records did with 135 s, for the same storefront
    /// latency (p95 ×1.05 at one request in flight either way). Max keeps the pace's target,
    /// and so does balanced while it reads as max.
    fn page_target(&self, i: usize) -> (Duration, Option<usize>) {
        let as_max = self.reads_as_max();
        let pace = if as_max { Pace::Max } else { self.pace };
        let target = pace.profile().target_request_time;
        let short = !as_max;
        match self.baselines[i].fit() {
            Some((overhead, per_record)) if short && overhead > 0.0 && per_record > 0.0 => {
                let limit = self.controller.limit() as f64;
                // Never fewer than `MIN_SHORT_PAGE_RECORDS` per page: where records are costly
                // the page is long however few it holds, and splitting it only adds overheads.
                let floor = overhead + MIN_SHORT_PAGE_RECORDS * per_record;
                let overheads = PAGE_OVERHEADS.max(PAGE_OVERHEADS_PER_IN_FLIGHT * limit);
                let short = Duration::from_secs_f64((overheads * overhead).max(floor)).min(target);
                let fits = ((short.as_secs_f64() - overhead) / per_record)
                    .floor()
                    .max(1.0);
                (short, Some(fits as usize))
            }
            _ => (target, None),
        }
    }

    fn on_first_success(
        &mut self,
        started: Started,
        latency: Duration,
        records: usize,
        timing: Option<ServerTiming>,
        solo: bool,
        now: Instant,
    ) {
        let i = started.class.index();
        self.last_latency[i] = Some(latency);
        let rest = self.pace.profile().rest;
        if rest > 0.0 && !self.pinned {
            // The next start waits for the rest as for the rate cap's spacing.
            let until = now + latency.mul_f64(rest);
            self.next_start_at = Some(self.next_start_at.map_or(until, |t| t.max(until)));
        }
        let expected = self.baselines[i].expected(records);
        if solo {
            self.baselines[i].add_solo(records, latency, self.prober.round());
            // Transport is learned during probes only: at one request in flight every
            // request is solo, and waits behind customers would creep into it and hide
            // queueing.
            if let Some(t) = timing.filter(|_| self.prober.active()) {
                let x = t.response.saturating_sub(t.execution).as_secs_f64();
                self.transport = Some(ewma(self.transport, x, TRANSPORT_EWMA));
            }
        } else if expected.is_none()
            && records == self.pages[i].size()
            && !(self.reads_as_max() && timing.is_some() && self.transport.is_some())
        {
            // Paging at a size no probe measured: the latency cannot be judged yet. Max
            // judges by the shop's own timing when it has it (the queue ratio needs no idle
            // model): on a real 8.1.2 such probes, one request at a time while pages grew,
            // took 10 of max's 42.5 s, against 35.8 s for two requests of 1000 pinned.
            self.prober.request(now);
        }
        if self.pinned {
            return;
        }
        let (target, fits) = self.page_target(i);
        self.pages[i].set_target(target, fits);
        let next = self.pages[i].next_size();
        let resized = self.pages[i].on_success(Page {
            issued: started.page_size,
            records,
            latency,
            unloaded: self.baselines[i].expected(records),
            unloaded_next: self.baselines[i].extrapolate(next),
            // While probing, every page is measured alone: the size may grow after each.
            eager: self.prober.active() && solo,
        });
        if resized {
            tracing::debug!(class = ?started.class, page_size = self.pages[i].size(), "pacer: page size");
        }
        if self.prober.active() {
            let settled = !resized
                && self.pages[i].settled()
                && records == started.page_size
                && started.page_size == self.pages[i].size();
            self.probe_completion(started, solo, settled, now);
        } else if let Some((ratio, queue)) = self
            .queue_ratio(timing)
            .map(|r| (r, true))
            .or_else(|| expected.map(|e| (latency.as_secs_f64() / e.as_secs_f64(), false)))
        {
            let (change, signal) = if queue {
                (self.controller.on_queue_ratio(started.seq, ratio), "queue")
            } else {
                (self.controller.on_latency(started.seq, ratio), "latency")
            };
            // The window's ratio decided, not this request's.
            let window = self.controller.last_ratio().unwrap_or(ratio);
            log_change(change, signal, window, self.controller.knee());
        }
    }

    /// The latency ratio from the shop's own timing: the answer against what it would have
    /// taken with no wait for a worker (`Execution-Time` plus the idle transport). It needs
    /// no model of what a page costs, so pages of a heavy resource are not mistaken for
    /// load: within one class, a page of products costs six times a page of order
    /// histories, and judged by the class's idle model such pages read as queueing (ratios of
    /// 2.5-3.7 at half a 4-worker shop's workers in the benchmark). What it does not see is
    /// a shop whose CPU is shared by more PHP workers than it has cores: there the work
    /// itself slows down. Without the header, the class's idle model judges.
    fn queue_ratio(&self, timing: Option<ServerTiming>) -> Option<f64> {
        let t = timing?;
        let transport = self.transport?;
        let expected =
            (t.execution.as_secs_f64() + transport).max(MIN_EXPECTED_ANSWER.as_secs_f64());
        tracing::trace!(
            response_ms = t.response.as_secs_f64() * 1e3,
            execution_ms = t.execution.as_secs_f64() * 1e3,
            transport_ms = transport * 1e3,
            "pacer: shop timing"
        );
        Some(t.response.as_secs_f64() / expected)
    }

    fn on_backpressure(
        &mut self,
        started: Started,
        kind: BackpressureKind,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        self.backpressure += 1;
        if !self.pinned {
            let change = self.controller.on_backpressure(started.seq);
            log_change(change, "back-pressure", 0.0, self.controller.knee());
        }
        if kind == BackpressureKind::Status429 {
            if let Some(rate) = self.rate_limit.on_429(now) {
                tracing::debug!(
                    rate,
                    "pacer: rate limited by the host, capping the request rate"
                );
            }
        }
        if !self.pinned
            && matches!(
                kind,
                BackpressureKind::Timeout | BackpressureKind::Status5xx
            )
            && self.pages[started.class.index()].on_failure(started.page_size)
        {
            tracing::debug!(class = ?started.class, ?kind, page_size = self.pages[started.class.index()].size(), "pacer: page size cut");
        }
        if let Some(pause) = retry_after {
            let until = now + pause.min(MAX_RETRY_AFTER);
            self.paused_until = Some(self.paused_until.map_or(until, |t| t.max(until)));
            tracing::debug!(?pause, "pacer: pausing for Retry-After");
        }
    }

    fn probe_completion(&mut self, started: Started, solo: bool, settled: bool, now: Instant) {
        // Requests that started before the probe (the drain) do not count towards it.
        if started.seq <= self.probe_boundary {
            return;
        }
        if self.prober.on_completion(solo, settled, now) {
            let forget_knee = self.prober.last_scheduled();
            log_change(
                self.controller.on_probe_end(forget_knee),
                "probe",
                1.0,
                None,
            );
            tracing::debug!(limit = self.controller.limit(), "pacer: probe done");
        }
    }

    fn note_retry_latency(&mut self, latency: Duration) {
        let x = latency.as_secs_f64();
        self.retry_latency = Some(ewma(self.retry_latency, x, RETRY_EWMA));
    }

    /// Exponential back-off for the n-th retry, with jitter in [50 %, 100 %] so that
    /// requests failed together do not retry together.
    fn retry_delay(&mut self, n: u32) -> Duration {
        let exp = RETRY_BASE.saturating_mul(1u32 << n.saturating_sub(1).min(16));
        let delay = exp.min(RETRY_CAP);
        // xorshift64: deterministic, cheap, good enough for jitter.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        delay.mul_f64(0.5 + 0.5 * unit)
    }
}

/// An exponentially weighted moving average: `x` weighs `weight` against the average so far
/// (the first sample is the average).
fn ewma(average: Option<f64>, x: f64, weight: f64) -> f64 {
    average.map_or(x, |avg| avg + weight * (x - avg))
}

fn log_change(change: Change, signal: &str, ratio: f64, knee: Option<usize>) {
    match change {
        Change::Hold => {}
        Change::Grew { from, to } => {
            tracing::debug!(from, to, ratio, signal, "pacer: concurrency up")
        }
        Change::Shrank { from, to } => {
            tracing::debug!(from, to, ratio, signal, ?knee, "pacer: concurrency down")
        }
    }
}

/// Window over which the request rate is measured when a 429 arrives.
const RATE_WINDOW: Duration = Duration::from_secs(2);
/// After a 429, the rate is capped to this share of the rate that triggered it.
const RATE_BACKOFF: f64 = 0.8;
/// Without a 429 for this long, the learned rate cap is raised by `RATE_RELAX`.
const RATE_RELAX_EVERY: Duration = Duration::from_secs(30);
/// Factor applied to the learned spacing on each relaxation (about +11 % rate).
const RATE_RELAX: f64 = 0.9;

/// A request rate learned from 429 answers. A 429 names a rate limit (a firewall, a proxy,
/// mod_security), which halving concurrency alone cannot find: with fast pages even one
/// request at a time can exceed it. So the rate of the last seconds, minus 20 %, becomes a
/// cap; it is raised by ~11 % every 30 s without a 429, to follow a limit that was lifted.
#[derive(Debug, Default)]
struct RateLimit {
    recent_starts: std::collections::VecDeque<Instant>,
    spacing: Option<Duration>,
    relax_at: Option<Instant>,
}

impl RateLimit {
    fn on_start(&mut self, now: Instant) {
        while self
            .recent_starts
            .front()
            .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
        {
            self.recent_starts.pop_front();
        }
        self.recent_starts.push_back(now);
    }

    /// A 429 arrived: cap the rate below the current one. Returns the new cap, per second.
    fn on_429(&mut self, now: Instant) -> Option<f64> {
        let first = *self.recent_starts.front()?;
        let window = now.duration_since(first).max(Duration::from_millis(500));
        let rate = self.recent_starts.len() as f64 / window.as_secs_f64();
        let capped = Duration::from_secs_f64(1.0 / (rate * RATE_BACKOFF));
        // Only ever tighten on a 429; a looser measure (requests started before a pause) is
        // not evidence that more is allowed.
        self.spacing = Some(self.spacing.map_or(capped, |s| s.max(capped)));
        self.relax_at = Some(now + RATE_RELAX_EVERY);
        self.rate()
    }

    /// The spacing between starts now, after relaxing it for the time without a 429.
    fn spacing(&mut self, now: Instant) -> Option<Duration> {
        while let (Some(spacing), Some(at)) = (self.spacing, self.relax_at) {
            if now < at {
                break;
            }
            let relaxed = spacing.mul_f64(RATE_RELAX);
            self.spacing = (relaxed >= Duration::from_millis(1)).then_some(relaxed);
            self.relax_at = Some(at + RATE_RELAX_EVERY);
        }
        self.spacing
    }

    fn rate(&self) -> Option<f64> {
        self.spacing.map(|s| 1.0 / s.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_caps_the_rate_below_the_one_that_triggered_it_then_relaxes() {
        let t0 = Instant::now();
        let mut r = RateLimit::default();
        assert_eq!(r.on_429(t0), None, "no rate measured yet");
        // 40 starts over 2 s: 20 per second.
        for i in 0..40 {
            r.on_start(t0 + Duration::from_millis(50 * i));
        }
        let now = t0 + Duration::from_millis(2000);
        let rate = r.on_429(now).unwrap();
        assert!((rate - 16.0).abs() < 0.5, "{rate}");
        assert_eq!(
            r.spacing(now + Duration::from_secs(29)),
            Some(Duration::from_secs_f64(1.0 / rate))
        );
        let relaxed = r.spacing(now + Duration::from_secs(61)).unwrap();
        assert!((1.0 / relaxed.as_secs_f64() - rate / 0.81).abs() < 0.01);
    }
}
