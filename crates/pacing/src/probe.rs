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
const SOLO_SAMPLES: u32 = 2;
/// Completions of any kind after which a probe gives up (requests may keep failing).
const MAX_COMPLETIONS: u32 = SOLO_SAMPLES + 4;
/// Shortest time between the end of a probe and an early one.
const MIN_GAP: Duration = Duration::from_secs(5);

/// Probe schedule and state.
#[derive(Debug, Clone)]
pub(crate) struct Prober {
    every: Duration,
    active: Option<Active>,
    next_at: Instant,
    last_end: Option<Instant>,
    round: u64,
}

#[derive(Debug, Clone, Copy)]
struct Active {
    started_at: Instant,
    solo: u32,
    completions: u32,
}

impl Prober {
    /// A schedule probing every `every`, with the first probe due at `now`.
    pub fn new(every: Duration, now: Instant) -> Self {
        Prober {
            every,
            active: None,
            next_at: now,
            last_end: None,
            round: 0,
        }
    }

    /// Whether a probe is running (the pacer then allows one request in flight).
    pub fn active(&self) -> bool {
        self.active.is_some()
    }

    /// When the running probe started, if one is running.
    pub fn started_at(&self) -> Option<Instant> {
        self.active.map(|a| a.started_at)
    }

    /// The current probe round; solo samples are tagged with it.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Starts a probe if one is due. Returns true when one started.
    pub fn poll(&mut self, now: Instant) -> bool {
        if self.active.is_none() && now >= self.next_at {
            self.active = Some(Active {
                started_at: now,
                solo: 0,
                completions: 0,
            });
            self.round += 1;
            return true;
        }
        false
    }

    /// Asks for an early probe: an unmeasured page size showed up.
    pub fn request(&mut self, now: Instant) {
        let earliest = self.last_end.map_or(now, |t| t + MIN_GAP);
        self.next_at = self.next_at.min(earliest.max(now));
    }

    /// A request completed during the probe (`solo`: it ran alone and succeeded).
    /// Returns true when this ended the probe.
    pub fn on_completion(&mut self, solo: bool, now: Instant) -> bool {
        let Some(active) = self.active.as_mut() else {
            return false;
        };
        active.completions += 1;
        if solo {
            active.solo += 1;
        }
        if active.solo >= SOLO_SAMPLES || active.completions >= MAX_COMPLETIONS {
            self.active = None;
            self.last_end = Some(now);
            self.next_at = now + self.every;
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
        let every = Duration::from_secs(30);
        let mut p = Prober::new(every, t0);
        assert!(p.poll(t0));
        assert_eq!(p.round(), 1);
        assert!(!p.on_completion(true, t0 + Duration::from_secs(1)));
        assert!(p.on_completion(true, t0 + Duration::from_secs(2)));
        assert!(!p.active());
        assert!(!p.poll(t0 + Duration::from_secs(31)));
        assert!(p.poll(t0 + Duration::from_secs(32)));
        assert_eq!(p.round(), 2);
        for i in 0..2 {
            p.on_completion(true, t0 + Duration::from_secs(33 + i));
        }
        // Early probe: not before MIN_GAP after the last one ended (t0 + 34 s).
        p.request(t0 + Duration::from_secs(35));
        assert!(!p.poll(t0 + Duration::from_secs(38)));
        assert!(p.poll(t0 + Duration::from_secs(39)));
    }

    #[test]
    fn gives_up_when_no_solo_sample_arrives() {
        let t0 = Instant::now();
        let mut p = Prober::new(Duration::from_secs(30), t0);
        p.poll(t0);
        let ended: Vec<bool> = (0..MAX_COMPLETIONS)
            .map(|_| p.on_completion(false, t0))
            .collect();
        assert_eq!(ended.iter().filter(|e| **e).count(), 1);
        assert!(*ended.last().unwrap());
        assert!(!p.active());
    }
}
