//! The concurrency decision: how many requests may be in flight at the store host.
//!
//! AIMD on latency, as in Vector's adaptive concurrency and TCP congestion control:
//! - Completions are grouped in windows of about one round of permits (`limit` samples,
//!   at least 6 so that a few slow pages do not decide alone: pages vary by ~20 %). A
//!   sample is a latency ratio: the answer against the shop's own `Execution-Time` plus the
//!   idle transport (a wait for a worker), or, without that header, latency / unloaded
//!   latency of a page of the same size. A window's signal is the median of the first kind,
//!   the mean of the second.
//! - Grow by one (~10 % on large limits; doubling during slow start, until the first sign
//!   of load) when the ratio stayed at or below `grow_below` AND the limit was binding: some
//!   moment of the window had `limit` requests in flight. A limit nobody used says nothing
//!   about the shop.
//! - Shrink multiplicatively: x0.75 when the ratio reaches `shrink_above`, x0.5 on
//!   back-pressure (429, 503, 5xx, timeouts, resets, firewall pages), since those mean the
//!   shop is already past its knee. Requests in flight are never cancelled; the lower limit
//!   takes effect as they finish.
//! - Like CUBIC, remember where congestion happened: growing back to that limit waits for
//!   three good windows, so a shop whose knee lies between two limits runs mostly at the
//!   lower one. A clean window at or above it forgets it (the shop got stronger).
//! - Slow start doubles only while the ratio is in the lower half of the growth band, and
//!   grows x1.5 in the upper half, so it overshoots the knee by less.
//! - One congestion event causes one decrease: signals from requests that started before the
//!   last decrease describe the old limit and are ignored, and the first window after a
//!   decrease does not shrink on latency (it waits behind the queue the old limit left at the
//!   shop). After a decrease the limit holds
//!   for two windows, so a shop sitting right at the knee alternates rarely rather than
//!   every window.
//! - Leave the storefront its share. The first congestion of a run shows where the shop's
//!   knee is: the congested limit divided by its latency ratio (W workers running c > W
//!   requests answer c / W times slower), and never below the last limit that ran clean
//!   (clean meaning fewer than a quarter of its samples past the back-off threshold, as
//!   well as its signal: the median overlooks a third of the pages queueing).
//!   Two windows in a row in the hold band at a limit in use mark the knee too: that limit.
//!   From then on requests are granted up to the knee minus the pace's storefront reserve
//!   (balanced: a third of the knee, at least one worker; max: none), so shoppers find a
//!   free worker instead of queueing behind a page of orders. Without this a 2-worker shop would run 2 reads at once: nothing in the
//!   reads' own latency shows it (they only slow down from the third request on), but
//!   every shopper then waits for a read to finish. The knee is forgotten, and measured
//!   again, after each probe of the schedule (every 30-120 s depending on the pace), so a
//!   shop that got stronger is used; a knee marked from the hold band is never below the
//!   one forgotten (only a congestion lowers it).
//! - Slow start grows by one up to 4, then doubles: a small shop's knee (2-4 workers) is
//!   found one request past it, not four.

use crate::pace::{Pace, PaceProfile};

/// Multiplier applied when latency shows queueing.
const LATENCY_DECREASE: f64 = 0.75;
/// Multiplier applied on back-pressure.
const BACKPRESSURE_DECREASE: f64 = 0.5;
/// Smallest window, in samples.
const MIN_WINDOW: usize = 6;
/// Growth outside slow start is `limit / ADDITIVE_DIVISOR` (at least 1) per window: +1 up
/// to 20, then ~10 % per window, so a 32-CPU shop is reached in seconds rather than a minute,
/// while small shops still probe their knee one request at a time.
const ADDITIVE_DIVISOR: usize = 10;
/// Good windows to wait before growing back to the limit of the last decrease.
const PLATEAU_WINDOWS: u32 = 3;
/// Windows to wait after a decrease before growing again.
const HOLDOFF_WINDOWS: u32 = 2;
/// Below this limit slow start grows by one request per window instead of doubling.
const SLOW_START_STEP_BELOW: usize = 4;

/// What a signal did to the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Change {
    /// Nothing changed (window still open, stale signal, or ratio in the hold band).
    Hold,
    /// The limit went up.
    Grew { from: usize, to: usize },
    /// The limit went down.
    Shrank { from: usize, to: usize },
}

#[derive(Debug, Clone, Default)]
struct Window {
    ratios: Vec<f64>,
    /// Samples measured as a wait for a worker (the shop's own timing).
    queue_samples: usize,
    max_in_flight: usize,
}

/// Identifies a request by the order it started in; the controller uses it to tell signals
/// about the current limit from signals about an older one.
pub(crate) type StartSeq = u64;

/// The limit and the state needed to move it.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    profile: PaceProfile,
    ceiling: usize,
    limit: usize,
    slow_start: bool,
    window: Window,
    /// Requests started so far.
    starts: StartSeq,
    /// Samples from requests started up to this one belong to a closed window.
    window_boundary: StartSeq,
    /// Back-pressure from requests started up to this one was answered by the last decrease.
    decrease_boundary: Option<StartSeq>,
    holdoff: u32,
    /// Consecutive windows in the hold band.
    in_band: u32,
    last_ratio: Option<f64>,
    /// The limit of the last window that showed no congestion.
    good_limit: Option<usize>,
    /// The limit the last increase started from: it ran a clean, binding window, so the
    /// knee is at least there (a clean window at the current limit may be followed by a
    /// congested one at the same limit, so `good_limit` alone can say nothing below it).
    grew_from: Option<usize>,
    /// The limit at the last decrease, until a clean window runs at or above it.
    congested_at: Option<usize>,
    /// Good windows spent waiting below `congested_at`.
    plateau: u32,
    /// The knee measured at the last congestion: grants stop `reserve(knee)` below it.
    knee: Option<usize>,
    /// The knee the last probe of the schedule forgot: knees marked from the hold band are
    /// never below it (only a congestion can lower a knee), or each probe would mark the
    /// reserve's own limit as the knee and cut a third again.
    forgotten_knee: Option<usize>,
    /// The first window after a decrease is still closing: its requests queue behind what
    /// the old limit (and the customers who arrived meanwhile) left at the shop.
    settling: bool,
    /// Nobody is on the storefront (see `shoppers`): no share of the knee is kept for them.
    shoppers_absent: bool,
    /// The limit when shoppers were last seen leaving, capped to the reserve's: where it
    /// returns when they come back with no knee known.
    limit_when_present: Option<usize>,
}

impl Controller {
    /// A controller starting at `start` (clamped to `1..=ceiling`); `slow_start` doubles the
    /// limit per good window until the first sign of load.
    pub fn new(profile: PaceProfile, ceiling: usize, start: usize, slow_start: bool) -> Self {
        let ceiling = ceiling.max(1);
        Controller {
            profile,
            ceiling,
            limit: start.clamp(1, ceiling),
            slow_start,
            window: Window::default(),
            starts: 0,
            window_boundary: 0,
            decrease_boundary: None,
            holdoff: 0,
            in_band: 0,
            last_ratio: None,
            good_limit: None,
            grew_from: None,
            congested_at: None,
            plateau: 0,
            knee: None,
            forgotten_knee: None,
            settling: false,
            shoppers_absent: false,
            limit_when_present: None,
        }
    }

    /// The current limit: how many requests may be in flight.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most requests this controller ever allows.
    pub fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// The knee measured at the last congestion, if any.
    pub fn knee(&self) -> Option<usize> {
        self.knee
    }

    /// The highest limit allowed while the knee is known: the knee minus the pace's
    /// storefront reserve, at least one.
    fn cap(&self) -> usize {
        match self.knee.filter(|_| self.profile.storefront_reserve > 0.0) {
            Some(_) if self.shoppers_absent => self.ceiling,
            Some(knee) => {
                let reserve = (knee as f64 * self.profile.storefront_reserve).ceil() as usize;
                knee.saturating_sub(reserve).max(1)
            }
            None => self.ceiling,
        }
    }

    /// The profile whose growth band is in force: the pace's, or max's while nobody is on
    /// the storefront.
    fn band(&self) -> PaceProfile {
        if self.shoppers_absent {
            Pace::Max.profile()
        } else {
            self.profile
        }
    }

    /// Grow only while a window's ratio is at or below this ([`Controller::band`]).
    fn grow_below(&self) -> f64 {
        self.band().grow_below.max(self.profile.grow_below)
    }

    /// Shrink when a window's ratio is at or above this ([`Controller::band`]).
    fn shrink_above(&self) -> f64 {
        self.band().shrink_above.max(self.profile.shrink_above)
    }

    /// Whether shoppers are on the storefront. While nobody is, the storefront's reserve is
    /// not kept and the pace reads as max does (past the knee, every CPU busy: there is no
    /// one to slow down); the limit goes straight back to the knee, a capacity the shop
    /// showed, and grows from there. The knee is frozen meanwhile: measured in max's band it
    /// would sit past the shop's capacity. When shoppers come back the limit drops at once
    /// (requests in flight finish) to the reserve's cap below the knee, or, when no knee is
    /// known (never measured, or forgotten by a probe meanwhile), to the limit it had when
    /// they left.
    pub fn set_shoppers_absent(&mut self, absent: bool) -> Change {
        if absent == self.shoppers_absent {
            return Change::Hold;
        }
        let from = self.limit;
        let reserved = self.profile.storefront_reserve > 0.0;
        if absent {
            self.limit_when_present = Some(self.limit.min(self.cap()));
            self.shoppers_absent = true;
            if let Some(knee) = self.knee.filter(|_| reserved) {
                self.limit = self.limit.max(knee.min(self.ceiling));
            }
            // The hold after a decrease and the plateau below a congested limit were decided
            // in the pace's own band; in max's they said nothing. Growth resumes at once.
            self.congested_at = None;
            self.holdoff = 0;
            self.plateau = 0;
        } else {
            self.shoppers_absent = false;
            let before = self.limit_when_present.take().unwrap_or(self.limit);
            self.limit = match self.knee.filter(|_| reserved) {
                Some(_) => self.limit.min(self.cap()),
                None => self.limit.min(before),
            };
            // What ran clean in max's band is no floor for a knee measured in the pace's.
            self.grew_from = None;
            self.good_limit = self.good_limit.map(|good| good.min(self.limit));
            // Requests started at the old limit still queue at the shop, and the window's
            // samples were taken past the pace's band: they describe the other limit.
            self.settling = true;
            self.decrease_boundary = Some(self.starts);
            self.restart_window();
        }
        // Going absent keeps the open window: its samples ran at or below the limit now
        // allowed, and a window clean in the pace's band is clean in max's.
        match self.limit.cmp(&from) {
            std::cmp::Ordering::Greater => Change::Grew {
                from,
                to: self.limit,
            },
            std::cmp::Ordering::Less => Change::Shrank {
                from,
                to: self.limit,
            },
            std::cmp::Ordering::Equal => Change::Hold,
        }
    }

    /// The limit worth starting the next run with: the last one that ran a window without
    /// congestion, unless the limit is lower now (a late decrease is kept, an unconfirmed
    /// growth is not).
    pub fn saved_limit(&self) -> usize {
        self.good_limit
            .map_or(self.limit, |good| good.min(self.limit))
    }

    /// The latency ratio of the last closed window (its mean, or its median for queue waits).
    pub fn last_ratio(&self) -> Option<f64> {
        self.last_ratio
    }

    /// Notes that a request started with `in_flight` requests (itself included) in flight;
    /// returns its start sequence number, to pass back with its signals.
    pub fn on_start(&mut self, in_flight: usize) -> StartSeq {
        self.window.max_in_flight = self.window.max_in_flight.max(in_flight);
        self.starts += 1;
        self.starts
    }

    /// Requests started so far; a request's start sequence is at most this.
    pub fn starts(&self) -> StartSeq {
        self.starts
    }

    /// Forgets the open window; samples from requests started before now are ignored
    /// (used after a probe, whose solo requests say nothing about the limit).
    pub fn restart_window(&mut self) {
        self.window = Window::default();
        self.window_boundary = self.starts;
    }

    /// A probe ended. Its solo requests ran at a limit of one with no queueing, so at the
    /// start of a run (slow start, limit 1) they count as slow start's first good window.
    /// After a probe of the schedule (`forget_knee`) the knee is forgotten: the limit may
    /// grow past the storefront's reserve again until the next congestion measures it. An
    /// early probe, which measures a new page size, keeps it: forgetting it there let a
    /// 2-worker shop be read with both workers again 4 s after its knee was measured.
    pub fn on_probe_end(&mut self, forget_knee: bool) -> Change {
        self.restart_window();
        // The probe drained every request: no old queue to settle, no band to continue.
        self.settling = false;
        self.in_band = 0;
        if forget_knee {
            // Time to measure the knee again: growth resumes from the current limit.
            self.forgotten_knee = self.knee.take().or(self.forgotten_knee);
            self.grew_from = None;
        }
        if self.slow_start && self.limit == 1 && self.ceiling > 1 {
            self.limit = 2;
            return Change::Grew { from: 1, to: 2 };
        }
        Change::Hold
    }

    /// A latency ratio from the request started as `started`.
    pub fn on_latency(&mut self, started: StartSeq, ratio: f64) -> Change {
        self.on_ratio(started, ratio, false)
    }

    /// A latency ratio measured as the wait for a free worker (the shop's `Execution-Time`
    /// against the answer time); see [`median`] for how a window of them is read.
    pub fn on_queue_ratio(&mut self, started: StartSeq, ratio: f64) -> Change {
        self.on_ratio(started, ratio, true)
    }

    fn on_ratio(&mut self, started: StartSeq, ratio: f64, queue: bool) -> Change {
        if started <= self.window_boundary {
            return Change::Hold;
        }
        self.window.ratios.push(ratio);
        self.window.queue_samples += usize::from(queue);
        if self.window.ratios.len() < self.limit.max(MIN_WINDOW) {
            return Change::Hold;
        }
        let signal = if self.window.queue_samples * 2 > self.window.ratios.len() {
            median(&mut self.window.ratios)
        } else {
            self.window.ratios.iter().sum::<f64>() / self.window.ratios.len() as f64
        };
        // A floor for the knee needs a window where our own requests did not queue: the
        // median passes over a queue that holds a third of them (3 in flight on 2 workers
        // read 1.08 by the median in the benchmark), and that limit then floored the knee
        // at 3, so a 2-worker shop was read 2 at a time with shoppers waiting behind 200 ms
        // pages. A quarter of the samples past the back-off threshold is such a queue; one
        // page in six behind a customer is not (the mean would count it).
        let queued = self
            .window
            .ratios
            .iter()
            .filter(|&&r| r >= self.shrink_above())
            .count();
        let clean = queued * 4 < self.window.ratios.len();
        let binding = self.window.max_in_flight >= self.limit;
        self.last_ratio = Some(signal);
        self.restart_window();
        let settling = std::mem::take(&mut self.settling);
        if signal >= self.shrink_above() {
            if settling {
                // The queue the old limit left behind, not the new limit's: a second
                // decrease here measured knees of one worker on a 4-worker shop.
                self.holdoff = self.holdoff.saturating_sub(1);
                return Change::Hold;
            }
            return self.decrease(LATENCY_DECREASE, Some(signal));
        }
        if binding {
            if clean {
                self.good_limit = Some(self.limit);
            }
            if self.congested_at.is_some_and(|c| self.limit >= c) {
                // The level that was congested ran a clean window: the shop has changed.
                self.congested_at = None;
            }
        }
        if self.holdoff > 0 {
            self.holdoff -= 1;
            return Change::Hold;
        }
        if signal > self.grow_below() {
            // Near the knee: hold. Slow start ends after two such windows in a row: one may
            // be noise, or a baseline measured a few percent low.
            self.in_band += 1;
            if self.in_band >= 2 {
                self.slow_start = false;
                if binding
                    && self.knee.is_none()
                    && self.profile.storefront_reserve > 0.0
                    && !self.shoppers_absent
                {
                    self.in_band = 0;
                    // Two windows in a row near the knee, at a limit in use: this is the
                    // knee. Leave the storefront its share as after a congestion; holding
                    // here instead kept a 16-CPU shop at 19 requests with customers 1.2-1.3x
                    // slower for as long as the read lasted.
                    self.knee = Some(self.limit.max(self.forgotten_knee.unwrap_or(0)));
                    let from = self.limit;
                    self.limit = self.limit.min(self.cap());
                    if self.limit < from {
                        self.congested_at = Some(from);
                        return Change::Shrank {
                            from,
                            to: self.limit,
                        };
                    }
                }
            }
            return Change::Hold;
        }
        self.in_band = 0;
        if !binding || self.limit >= self.ceiling {
            return Change::Hold;
        }
        if self.knee.is_some() && self.limit >= self.cap() {
            // At the storefront's reserve: stay until the next probe forgets the knee.
            return Change::Hold;
        }
        let from = self.limit;
        let quiet = signal <= 1.0 + (self.grow_below() - 1.0) / 2.0;
        let to = match (self.slow_start, quiet) {
            (true, _) if from < SLOW_START_STEP_BELOW => from + 1,
            (true, true) => from * 2,
            (true, false) => from + (from / 2).max(1),
            (false, _) => from + (from / ADDITIVE_DIVISOR).max(1),
        };
        if let Some(congested) = self.congested_at.filter(|c| to >= *c) {
            // Growing back to where the shop was congested: wait on the plateau first, so a
            // shop sitting between two limits spends most of its time at the lower one.
            self.plateau += 1;
            if self.plateau < PLATEAU_WINDOWS {
                return Change::Hold;
            }
            self.plateau = 0;
            self.limit = to.min(congested).min(self.ceiling);
        } else {
            self.limit = to.min(self.ceiling);
        }
        if clean {
            self.grew_from = Some(from);
        }
        Change::Grew {
            from,
            to: self.limit,
        }
    }

    /// Back-pressure from the request started as `started`.
    pub fn on_backpressure(&mut self, started: StartSeq) -> Change {
        if self.decrease_boundary.is_some_and(|b| started <= b) {
            return Change::Hold;
        }
        self.decrease(BACKPRESSURE_DECREASE, None)
    }

    /// Lowers the limit by `factor`; a decrease caused by latency (the window's ratio in
    /// `knee_ratio`) also records the knee. Back-pressure does not: a stray 500 says nothing
    /// about capacity.
    fn decrease(&mut self, factor: f64, knee_ratio: Option<f64>) -> Change {
        let from = self.limit;
        let lowered = ((from as f64 * factor).floor() as usize).max(1);
        // The limit never goes above the storefront's reserve below the knee (`cap`).
        // The knee is frozen while shoppers are absent (`set_shoppers_absent`).
        let measures = self.profile.storefront_reserve > 0.0 && !self.shoppers_absent;
        if let Some(ratio) = knee_ratio.filter(|_| measures) {
            // A shop with W workers running c > W requests answers c / W times slower:
            // W ≈ c / ratio (shoppers make the ratio higher, the estimate lower: the safe
            // side). A limit below `from` that ran clean is a floor: the last one grown
            // from, or the last clean window's.
            let estimate = (from as f64 / ratio.max(1.0)).floor() as usize;
            let good = [self.good_limit, self.grew_from]
                .into_iter()
                .flatten()
                .filter(|&good| good < from)
                .max()
                .unwrap_or(1);
            self.knee = Some(estimate.max(good).max(1));
            self.forgotten_knee = None;
        }
        self.limit = lowered.min(self.cap());
        self.slow_start = false;
        self.in_band = 0;
        self.holdoff = HOLDOFF_WINDOWS;
        self.decrease_boundary = Some(self.starts);
        self.congested_at = Some(from);
        self.plateau = 0;
        self.settling = true;
        // Grown from before this congestion: it no longer says where the knee is.
        self.grew_from = None;
        self.restart_window();
        if self.limit == from {
            Change::Hold
        } else {
            Change::Shrank {
                from,
                to: self.limit,
            }
        }
    }
}

/// A window of waits for a worker is read by its median. Our requests queueing behind each
/// other inflate most of them; a customer's visit that happened to hold the last free worker
/// inflates one short page 3-4x (a 55 ms wait on a 20 ms page, at 2 requests in flight on a 4-worker
/// shop with 20 % storefront load), which moved the mean past the threshold in one window
/// of six out of ten and pinned the reader to one request. (Latency judged by the idle model keeps the mean: where
/// the work itself slows down, every page slows alike.)
fn median(ratios: &mut [f64]) -> f64 {
    if ratios.is_empty() {
        return 1.0;
    }
    ratios.sort_by(f64::total_cmp);
    let mid = ratios.len() / 2;
    if ratios.len() % 2 == 1 {
        ratios[mid]
    } else {
        (ratios[mid - 1] + ratios[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pace::Pace;

    /// Drives a controller with a scripted list of window ratios (each window: one round of
    /// requests started, then completed); returns the limit after each window.
    fn script(ctrl: &mut Controller, ratios: &[f64], binding: bool) -> Vec<usize> {
        let mut limits = Vec::new();
        for &ratio in ratios {
            let n = ctrl.limit().max(MIN_WINDOW);
            let in_flight = if binding {
                ctrl.limit()
            } else {
                ctrl.limit() - 1
            };
            let started: Vec<StartSeq> = (0..n).map(|_| ctrl.on_start(in_flight)).collect();
            for seq in started {
                ctrl.on_latency(seq, ratio);
            }
            limits.push(ctrl.limit());
        }
        limits
    }

    fn balanced(start: usize, slow_start: bool) -> Controller {
        Controller::new(Pace::Balanced.profile(), 64, start, slow_start)
    }

    fn max(start: usize) -> Controller {
        Controller::new(Pace::Max.profile(), 256, start, false)
    }

    #[test]
    fn slow_start_steps_by_one_to_four_then_doubles() {
        let mut c = balanced(1, true);
        assert_eq!(script(&mut c, &[1.0; 5], true), vec![2, 3, 4, 8, 16]);
        let mut c = balanced(1, true);
        let limits = script(&mut c, &[1.0, 1.0, 1.0, 1.2, 1.0, 1.2, 1.2, 1.0, 1.0], true);
        // One window in the hold band is not enough to end slow start; two in a row are,
        // and mark the knee (8): balanced keeps a third of it free.
        assert_eq!(limits, vec![2, 3, 4, 4, 8, 8, 5, 5, 5]);
        // In the upper half of the growth band, slow start grows x1.5 only.
        let mut c = balanced(8, true);
        assert_eq!(script(&mut c, &[1.08, 1.0], true), vec![12, 24]);
    }

    #[test]
    fn growth_is_proportional_on_large_limits() {
        let mut c = balanced(30, false);
        assert_eq!(script(&mut c, &[1.0; 3], true), vec![33, 36, 39]);
    }

    #[test]
    fn does_not_grow_when_the_limit_is_not_binding() {
        let mut c = balanced(4, false);
        assert_eq!(script(&mut c, &[1.0; 5], false), vec![4; 5]);
    }

    #[test]
    fn a_latency_decrease_measures_the_knee_and_keeps_the_storefront_reserve() {
        // 8 in flight answer 1.6x slower: about 5 workers. Balanced keeps ⌈5/3⌉ = 2 free.
        let mut c = balanced(8, false);
        assert_eq!(script(&mut c, &[1.6], true), vec![3]);
        assert_eq!(c.knee(), Some(5));
        // Clean windows at the reserve's limit do not grow it...
        assert_eq!(script(&mut c, &[1.0; 10], true), vec![3; 10]);
        // ...until a probe forgets the knee, to measure it again.
        c.on_probe_end(true);
        assert_eq!(c.knee(), None);
        assert_eq!(script(&mut c, &[1.0; 2], true), vec![4, 5]);
    }

    #[test]
    fn a_two_worker_shop_is_read_one_page_at_a_time() {
        // Slow start: 1, 2, then 3 in flight answer 1.5x slower (2 workers): read with one.
        let mut c = balanced(1, true);
        assert_eq!(script(&mut c, &[1.0, 1.0, 1.5], true), vec![2, 3, 1]);
        assert_eq!(c.knee(), Some(2));
        // Polite never runs more than one; max keeps nothing back and stays near the knee.
        let mut m = Controller::new(Pace::Max.profile(), 256, 1, true);
        assert_eq!(script(&mut m, &[1.0, 1.0, 1.9], true), vec![2, 3, 2]);
    }

    #[test]
    fn without_shoppers_balanced_reads_as_max_and_gives_the_reserve_back_when_they_come() {
        // The two-worker shop of the test above, read one page at a time...
        let mut c = balanced(1, true);
        assert_eq!(script(&mut c, &[1.0, 1.0, 1.5], true), vec![2, 3, 1]);
        // ...until the shop's visitors are seen still: two at once, at once.
        assert_eq!(c.set_shoppers_absent(true), Change::Grew { from: 1, to: 2 });
        assert_eq!(c.set_shoppers_absent(true), Change::Hold);
        // Then as max: past the knee while the latency stays under +50 % (without waiting
        // for the hold and plateau of the balanced congestion), back at +80 %.
        assert_eq!(script(&mut c, &[1.3; 2], true), vec![3, 4]);
        assert_eq!(script(&mut c, &[1.6, 1.9], true), vec![4, 3]);
        // The knee measured in max's band would be past the shop's capacity: it is kept.
        assert_eq!(c.knee(), Some(2));
        // A shopper arrives: one worker is theirs again, and the window of the other band
        // does not count.
        assert_eq!(
            c.set_shoppers_absent(false),
            Change::Shrank { from: 3, to: 1 }
        );
        assert_eq!(script(&mut c, &[1.0; 3], true), vec![1; 3]);

        // Before any knee is known nothing changes at once; then it grows as max would
        // (+50 % is no congestion to max) and measures no knee...
        let mut fresh = balanced(1, true);
        assert_eq!(fresh.set_shoppers_absent(true), Change::Hold);
        assert_eq!(
            script(&mut fresh, &[1.0, 1.0, 1.5, 1.9], true),
            vec![2, 3, 4, 3]
        );
        assert_eq!(fresh.knee(), None);
        // ...and shoppers coming back find the limit they left.
        assert_eq!(
            fresh.set_shoppers_absent(false),
            Change::Shrank { from: 3, to: 1 }
        );
    }

    #[test]
    fn the_limit_grown_from_is_a_floor_for_the_knee() {
        // 3 -> 4 ran clean; a window at 4 in the hold band, then one 1.5x slower (shoppers
        // took a worker): the estimate 4 / 1.5 = 2 is below 3, which ran clean. Knee 3,
        // reserve 1: read with 2, not 1.
        let mut c = balanced(3, false);
        assert_eq!(script(&mut c, &[1.0, 1.2, 1.5], true), vec![4, 4, 2]);
        assert_eq!(c.knee(), Some(3));
    }

    #[test]
    fn the_window_after_a_decrease_does_not_decrease_again() {
        // 8 -> 6 on a congested window; the next one still drains the old queue: hold.
        // A third congested window shrinks again.
        let mut c = max(8);
        assert_eq!(script(&mut c, &[2.0, 2.0, 2.0], true), vec![6, 6, 4]);
    }

    #[test]
    fn a_window_of_queue_waits_is_read_by_its_median() {
        // One page in six waited for a worker behind a customer: a clean window, the limit
        // grows. Half the window waiting: our own requests queue, decrease.
        let mut c = balanced(4, false);
        let window = |c: &mut Controller, ratios: &[f64]| {
            let seqs: Vec<StartSeq> = ratios.iter().map(|_| c.on_start(4)).collect();
            for (seq, &r) in seqs.into_iter().zip(ratios) {
                c.on_queue_ratio(seq, r);
            }
            c.limit()
        };
        assert_eq!(window(&mut c, &[1.0, 1.05, 3.8, 1.0, 1.02, 1.0]), 5);
        // 5 in flight, median 1.55: knee 4 (grown from: one page behind a customer does not
        // make a window unclean), a third of it kept free.
        assert_eq!(window(&mut c, &[1.6, 1.05, 1.8, 1.0, 1.7, 1.5]), 2);
        assert_eq!(c.knee(), Some(4));
        // Judged by the idle model, the same outlier moves the mean (1.48): decrease.
        let mut c = balanced(4, false);
        let seqs: Vec<StartSeq> = (0..6).map(|_| c.on_start(4)).collect();
        for (seq, r) in seqs.into_iter().zip([1.0, 1.05, 3.8, 1.0, 1.02, 1.0]) {
            c.on_latency(seq, r);
        }
        assert!(c.limit() < 4, "{}", c.limit());
    }

    #[test]
    fn a_window_clean_only_by_its_median_is_no_floor_for_the_knee() {
        // A 2-worker shop: 2 in flight clean, then 3 in flight where a third of the pages
        // wait a full page (median 1.03, mean 1.31): the limit still grows, but 3 is no
        // floor. At 4 the shop answers 2.1x slower: knee 2 (grown from), one request.
        let mut c = balanced(2, true);
        let window = |c: &mut Controller, ratios: &[f64]| {
            let n = c.limit();
            let seqs: Vec<StartSeq> = ratios.iter().map(|_| c.on_start(n)).collect();
            for (seq, &r) in seqs.into_iter().zip(ratios) {
                c.on_queue_ratio(seq, r);
            }
            c.limit()
        };
        assert_eq!(window(&mut c, &[1.0, 1.02, 1.0, 1.01, 1.0, 1.03]), 3);
        assert_eq!(window(&mut c, &[1.0, 1.0, 2.0, 1.05, 1.8, 1.0]), 4);
        assert_eq!(window(&mut c, &[2.1, 2.0, 2.2, 2.1, 2.0, 2.1]), 1);
        assert_eq!(c.knee(), Some(2));
    }

    #[test]
    fn a_probe_does_not_ratchet_the_reserve_down() {
        // Knee 6 from the band, limit 4. The probe forgets it; the band at 4 (customers'
        // waits) must not make 4 the knee and cut a third again.
        let mut c = balanced(6, false);
        assert_eq!(script(&mut c, &[1.2, 1.2], true), vec![6, 4]);
        c.on_probe_end(true);
        assert_eq!(script(&mut c, &[1.2; 4], true), vec![4; 4]);
        assert_eq!(c.knee(), Some(6));
        // A congestion still lowers it: 4 in flight 2x slower, knee 2, one request.
        assert_eq!(script(&mut c, &[2.0], true), vec![1]);
        assert_eq!(c.knee(), Some(2));
    }

    #[test]
    fn back_pressure_alone_does_not_measure_a_knee() {
        let mut c = balanced(8, false);
        let seq = c.on_start(8);
        c.on_backpressure(seq);
        assert_eq!((c.limit(), c.knee()), (4, None));
    }

    #[test]
    fn max_pace_shrinks_on_inflated_latency_then_holds_before_growing() {
        let mut c = max(8);
        let limits = script(&mut c, &[2.0, 1.0, 1.0, 1.0, 1.0], true);
        assert_eq!(limits, vec![6, 6, 6, 7, 7]);
    }

    #[test]
    fn two_windows_in_the_band_between_grow_and_shrink_mark_the_knee() {
        let mut c = balanced(5, false);
        let limits = script(&mut c, &[1.15, 1.2, 1.3, 1.12], true);
        assert_eq!(limits, vec![5, 3, 3, 3]);
        assert_eq!(c.knee(), Some(5));
        // Max keeps nothing back: it holds in the band.
        let mut m = Controller::new(Pace::Max.profile(), 256, 5, false);
        let limits = script(&mut m, &[1.6, 1.7, 1.6, 1.75], true);
        assert_eq!(limits, vec![5; 4]);
        // Not at a limit in use: no knee.
        let mut c = balanced(5, false);
        assert_eq!(script(&mut c, &[1.2; 3], false), vec![5; 3]);
        assert_eq!(c.knee(), None);
    }

    #[test]
    fn backpressure_halves_once_per_congestion_event() {
        let mut c = balanced(16, false);
        let burst: Vec<StartSeq> = (0..16).map(|_| c.on_start(16)).collect();
        assert_eq!(
            c.on_backpressure(burst[0]),
            Change::Shrank { from: 16, to: 8 }
        );
        // Other requests of the same burst, started before the decrease: ignored.
        for &seq in &burst[1..] {
            assert_eq!(c.on_backpressure(seq), Change::Hold);
        }
        assert_eq!(c.limit(), 8);
        // A request started after the decrease that still meets back-pressure: halve again.
        let later = c.on_start(1);
        assert_eq!(c.on_backpressure(later), Change::Shrank { from: 8, to: 4 });
        for _ in 0..5 {
            let seq = c.on_start(1);
            c.on_backpressure(seq);
        }
        assert_eq!(c.limit(), 1, "never below one");
    }

    #[test]
    fn latency_from_requests_started_before_a_decrease_is_ignored() {
        let mut c = balanced(4, false);
        let old: Vec<StartSeq> = (0..10).map(|_| c.on_start(4)).collect();
        c.on_backpressure(old[0]);
        assert_eq!(c.limit(), 2);
        for &seq in &old[1..] {
            // Would shrink again if counted.
            assert_eq!(c.on_latency(seq, 3.0), Change::Hold);
        }
        assert_eq!(c.limit(), 2);
    }

    #[test]
    fn the_start_of_run_probe_counts_as_the_first_window() {
        let mut c = balanced(1, true);
        assert_eq!(c.on_probe_end(true), Change::Grew { from: 1, to: 2 });
        // Later probes leave the limit alone.
        assert_eq!(c.on_probe_end(true), Change::Hold);
        let mut restored = balanced(6, false);
        assert_eq!(restored.on_probe_end(true), Change::Hold);
    }

    #[test]
    fn saves_the_last_limit_that_ran_without_congestion() {
        let mut c = balanced(1, true);
        assert_eq!(c.saved_limit(), 1);
        // 1 -> 2 -> 3 -> 4 -> 8 -> 16; 16 answer 2x slower: knee 8, reserve 3.
        script(&mut c, &[1.0, 1.0, 1.0, 1.0, 1.0, 2.0], true);
        assert_eq!((c.limit(), c.knee()), (5, Some(8)));
        assert_eq!(c.saved_limit(), 5, "8 was good, but the limit is 5 now");
        let mut c = max(8);
        script(&mut c, &[1.0, 2.0], true);
        assert_eq!(c.limit(), 6);
        assert_eq!(c.saved_limit(), 6);
        script(&mut c, &[1.6], true);
        assert_eq!(c.saved_limit(), 6);
        let seq = c.on_start(6);
        c.on_backpressure(seq);
        assert_eq!(c.saved_limit(), 3, "a late decrease is kept");
    }

    #[test]
    fn never_grows_past_the_ceiling() {
        let mut c = Controller::new(Pace::Balanced.profile(), 3, 1, true);
        assert_eq!(script(&mut c, &[1.0; 6], true), vec![2, 3, 3, 3, 3, 3]);
        let c = Controller::new(Pace::Balanced.profile(), 3, 50, false);
        assert_eq!(c.limit(), 3);
    }

    #[test]
    fn max_pace_keeps_growing_where_balanced_stops_at_the_knee() {
        let mut m = Controller::new(Pace::Max.profile(), 256, 8, false);
        let mut b = Controller::new(Pace::Balanced.profile(), 64, 8, false);
        assert_eq!(script(&mut m, &[1.2; 3], true), vec![9, 10, 11]);
        assert_eq!(script(&mut b, &[1.2; 3], true), vec![8, 5, 5]);
    }
}
