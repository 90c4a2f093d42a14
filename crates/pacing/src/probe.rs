//! When to re-measure the unloaded latency.
//!
//! Under steady load every request shares the shop with ours, so the lowest latency seen
//! drifts up with the load and would hide it (the "creeping baseline" of latency-based
//! control). Like BBR's ProbeRTT, the pacer therefore lets the in-flight requests drain now
//! and then and sends a few requests alone: those are the unloaded latency. A probe starts
//! at the beginning of a run, every `probe_every` of the pace, and sooner (but not within
//! `MIN_GAP` of the previous one) when a class pages at a size no probe has measured.

use std::time::Duration;

use tokio::time::Instant;

/// Solo samples that end a probe.
const SOLO_SAMPLES: u32 = 4;
/// Completions that were not solo successes after which a probe gives up (requests may keep
/// failing, or the caller may never send one alone).
const MAX_OTHERS: u32 = 4;
/// Solo pages at a size still growing after which a probe ends anyway (growing from the
/// smallest to the largest page size takes about 20).
const MAX_GROWING: u32 = 30;
/// Shortest time between the end of a probe and an early one.
const MIN_GAP: Duration = Duration::from_secs(5);

/// Probe schedule and state.
#[derive(Debug, Clone)]
pub(crate) struct Prober {
    every: Duration,
    active: Option<Active>,
    next_at: Instant,
    /// When the next probe of the schedule is due (early probes do not move it).
    periodic_at: Instant,
    /// Whether the last probe to end was one of the schedule.
    last_scheduled: bool,
    last_end: Option<Instant>,
    round: u64,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    solo: u32,
    growing: u32,
    others: u32,
    scheduled: bool,
}

impl Prober {
    /// A schedule probing every `every`, with the first probe due at `now`.
    pub fn new(every: Duration, now: Instant) -> Self {
        Prober {
            every,
            active: None,
            next_at: now,
            periodic_at: now,
            last_scheduled: false,
            last_end: None,
            round: 0,
        }
    }

    /// Whether a probe is running (the pacer then allows one request in flight).
    pub fn active(&self) -> bool {
        self.active.is_some()
    }

    /// The current probe round; solo samples are tagged with it.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Starts a probe if one is due. Returns true when one started.
    pub fn poll(&mut self, now: Instant) -> bool {
        if self.active.is_none() && now >= self.next_at {
            self.active = Some(Active {
                solo: 0,
                growing: 0,
                others: 0,
                scheduled: now >= self.periodic_at,
            });
            self.round += 1;
            return true;
        }
        false
    }

    /// Whether the last probe to end was one of the schedule (every `probe_every`, and the
    /// start of a run), not an early one asked for by an unmeasured page size.
    pub fn last_scheduled(&self) -> bool {
        self.last_scheduled
    }

    /// Asks for an early probe: an unmeasured page size showed up.
    pub fn request(&mut self, now: Instant) {
        let earliest = self.last_end.map_or(now, |t| t + MIN_GAP);
        self.next_at = self.next_at.min(earliest.max(now));
    }

    /// A request completed during the probe (`solo`: it ran alone and succeeded;
    /// `settled`: it was a full page at its class's current size, which is not about to
    /// grow). Returns true when this ended the probe. A probe lasts while page sizes grow,
    /// so that the size the page controller settles on at the start of a run gets its
    /// unloaded latency measured by several pages.
    pub fn on_completion(&mut self, solo: bool, settled: bool, now: Instant) -> bool {
        let Some(active) = self.active.as_mut() else {
            return false;
        };
        match (solo, settled) {
            (true, true) => active.solo += 1,
            (true, false) => active.growing += 1,
            (false, _) => active.others += 1,
        }
        if active.solo >= SOLO_SAMPLES
            || active.growing >= MAX_GROWING
            || active.others >= MAX_OTHERS
        {
            // An early probe that reached the schedule's due time (or nearly) counts as the
            // scheduled one, so the two do not run back to back.
            let scheduled = active.scheduled || now + MIN_GAP >= self.periodic_at;
            self.active = None;
            self.last_end = Some(now);
            self.last_scheduled = scheduled;
            if scheduled {
                self.periodic_at = now + self.every;
            }
            self.next_at = self.periodic_at.max(now);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_at_start_then_every_interval_and_early_on_request() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut p = Prober::new(Duration::from_secs(30), t0);
        assert!(p.poll(t0));
        assert_eq!(p.round(), 1);
        for i in 1..SOLO_SAMPLES {
            assert!(!p.on_completion(true, true, at(i as u64)));
        }
        // A page at a size still growing does not count.
        assert!(!p.on_completion(true, false, at(2)));
        assert!(p.on_completion(true, true, at(4)));
        assert!(!p.active());
        assert!(!p.poll(at(33)));
        assert!(p.poll(at(34)));
        assert_eq!(p.round(), 2);
        for _ in 0..SOLO_SAMPLES {
            p.on_completion(true, true, at(36));
        }
        assert!(!p.active());
        // Early probe: not before MIN_GAP after the last one ended (t0 + 36 s).
        assert!(p.last_scheduled());
        p.request(at(37));
        assert!(!p.poll(at(40)));
        assert!(p.poll(at(41)));
        for _ in 0..SOLO_SAMPLES {
            p.on_completion(true, true, at(42));
        }
        // An early probe says so, and leaves the schedule where it was (36 s + 30 s).
        assert!(!p.last_scheduled());
        assert!(!p.poll(at(65)));
        assert!(p.poll(at(66)));
        for _ in 0..SOLO_SAMPLES {
            p.on_completion(true, true, at(67));
        }
        // An early probe ending within MIN_GAP of the due time counts as the scheduled one:
        // no second probe right after it.
        p.request(at(80));
        assert!(p.poll(at(94)));
        for _ in 0..SOLO_SAMPLES {
            p.on_completion(true, true, at(95));
        }
        assert!(p.last_scheduled());
        assert!(!p.poll(at(96)));
        assert!(p.poll(at(125)));
    }

    #[test]
    fn ends_when_page_sizes_keep_growing_for_too_long() {
        let t0 = Instant::now();
        let mut p = Prober::new(Duration::from_secs(30), t0);
        p.poll(t0);
        for _ in 1..MAX_GROWING {
            assert!(!p.on_completion(true, false, t0));
        }
        assert!(p.on_completion(true, false, t0));
    }

    #[test]
    fn gives_up_when_no_solo_sample_arrives() {
        let t0 = Instant::now();
        let mut p = Prober::new(Duration::from_secs(30), t0);
        p.poll(t0);
        let ended: Vec<bool> = (0..MAX_OTHERS)
            .map(|_| p.on_completion(false, true, t0))
            .collect();
        assert_eq!(ended.iter().filter(|e| **e).count(), 1);
        assert!(*ended.last().unwrap());
        assert!(!p.active());
    }
}
