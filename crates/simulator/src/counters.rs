//! What the simulated host saw: requests by resource and status, bytes, busy time per
//! worker, modelled CPU time of PHP and the database, queue waits, peak concurrency, injected faults and storefront (shopper) latency.
//! Benchmarks and pacing tests read these instead of timing things themselves.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// A latency histogram with logarithmic buckets (5 % wide, 1 µs to ~20 min), cheap to record
/// into and good enough for percentiles.
#[derive(Debug, Clone)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    total: Duration,
    max: Duration,
}

const BUCKET_GROWTH: f64 = 1.05;
const BUCKETS: usize = 430;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: vec![0; BUCKETS],
            count: 0,
            total: Duration::ZERO,
            max: Duration::ZERO,
        }
    }
}

impl Histogram {
    fn bucket(d: Duration) -> usize {
        let us = d.as_secs_f64() * 1e6;
        if us <= 1.0 {
            return 0;
        }
        ((us.ln() / BUCKET_GROWTH.ln()).ceil() as usize).min(BUCKETS - 1)
    }

    /// Upper bound of a bucket.
    fn bound(i: usize) -> Duration {
        Duration::from_secs_f64(BUCKET_GROWTH.powi(i as i32) / 1e6)
    }

    /// Record one observation.
    pub fn record(&mut self, d: Duration) {
        self.buckets[Self::bucket(d)] += 1;
        self.count += 1;
        self.total += d;
        self.max = self.max.max(d);
    }

    /// The value below which a fraction `q` (0..=1) of observations fall (bucket upper bound,
    /// capped at the maximum seen).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::bound(i).min(self.max);
            }
        }
        self.max
    }

    /// Count, mean and percentiles.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            mean: if self.count == 0 {
                Duration::ZERO
            } else {
                self.total / self.count as u32
            },
            p50: self.quantile(0.50),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
            max: self.max,
            total: self.total,
        }
    }
}

/// Summary of a latency distribution.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: Duration,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Sum of all observations.
    pub total: Duration,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default)]
pub struct CountersSnapshot {
    /// Every HTTP request answered (or aborted), PHP or not.
    pub requests: u64,
    /// Requests by resource (`api` for the root listing, `storefront` for shopper pages,
    /// `-` for answers of the web server itself) and HTTP status (0 = connection aborted).
    pub by_resource: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Requests by HTTP status (0 = connection aborted without an answer).
    pub by_status: BTreeMap<u16, u64>,
    /// Body bytes sent (as announced; truncated bodies count what was meant to be sent).
    pub bytes: u64,
    /// Records rendered by the Webservice (the `Cost` of each answer).
    pub records: u64,
    /// Time each worker spent serving requests, by worker number.
    pub worker_busy: Vec<Duration>,
    /// Modelled CPU time of the PHP workers (scaled: seconds of one core), storefront
    /// included.
    pub php_cpu: Duration,
    /// Modelled CPU time of the database (scaled), storefront included.
    pub db_cpu: Duration,
    /// Time PHP requests waited for a free worker.
    pub queue_wait: LatencySummary,
    /// Time PHP requests held a worker (modelled service time, or real time when larger).
    pub service: LatencySummary,
    /// Most requests in service at once (bounded by the workers).
    pub max_in_service: usize,
    /// Most PHP requests waiting for a worker at once.
    pub max_queued: usize,
    /// Most HTTP requests being handled at once (queued + in service + web-server answers).
    pub max_in_flight: usize,
    /// Storefront page latency, queueing included (the shopper probe and background load).
    pub shopper: LatencySummary,
    /// Faults injected, by kind (`500`, `reset`, `truncate`, `badchar`, `empty`, `slow`,
    /// `fail`, `waf`, `timeout`).
    pub faults: BTreeMap<String, u64>,
    /// Row changes (created, updated, deleted) applied by the background churn.
    pub churn_changes: u64,
}

impl CountersSnapshot {
    /// Requests that reached a resource with the given status.
    pub fn count(&self, resource: &str, status: u16) -> u64 {
        self.by_resource
            .get(resource)
            .and_then(|m| m.get(&status))
            .copied()
            .unwrap_or(0)
    }

    /// Total busy time of all workers.
    pub fn busy_total(&self) -> Duration {
        self.worker_busy.iter().sum()
    }
}

#[derive(Debug, Default)]
struct Inner {
    snap: CountersSnapshot,
    queue_wait: Histogram,
    service: Histogram,
    shopper: Histogram,
    in_service: usize,
    queued: usize,
    in_flight: usize,
}

/// Live counters, shared by every connection of one simulator.
#[derive(Debug, Default)]
pub struct Counters {
    inner: Mutex<Inner>,
}

impl Counters {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().expect("counters lock"))
    }

    /// A request arrived (any path).
    pub fn request_started(&self) {
        self.with(|i| {
            i.in_flight += 1;
            i.snap.max_in_flight = i.snap.max_in_flight.max(i.in_flight);
        });
    }

    /// A request was answered (status 0 = aborted) with `bytes` of body.
    pub fn request_finished(&self, resource: &str, status: u16, bytes: usize) {
        self.with(|i| {
            i.in_flight = i.in_flight.saturating_sub(1);
            i.snap.requests += 1;
            *i.snap
                .by_resource
                .entry(resource.to_string())
                .or_default()
                .entry(status)
                .or_default() += 1;
            *i.snap.by_status.entry(status).or_default() += 1;
            i.snap.bytes += bytes as u64;
        });
    }

    /// A request was dropped before its answer (the client closed the connection).
    pub fn request_abandoned(&self) {
        self.with(|i| i.in_flight = i.in_flight.saturating_sub(1));
    }

    /// A PHP request starts waiting for a worker.
    pub fn enqueued(&self) {
        self.with(|i| {
            i.queued += 1;
            i.snap.max_queued = i.snap.max_queued.max(i.queued);
        });
    }

    /// A PHP request left the queue without getting a worker (its client went away).
    pub fn queue_abandoned(&self) {
        self.with(|i| i.queued = i.queued.saturating_sub(1));
    }

    /// A PHP request got a worker after waiting `wait`.
    pub fn dequeued(&self, wait: Duration) {
        self.with(|i| {
            i.queued = i.queued.saturating_sub(1);
            i.in_service += 1;
            i.snap.max_in_service = i.snap.max_in_service.max(i.in_service);
            i.queue_wait.record(wait);
        });
    }

    /// Worker `worker` finished a request it held for `busy`, having rendered `records`.
    pub fn served(&self, worker: usize, busy: Duration, records: usize) {
        self.with(|i| {
            i.in_service = i.in_service.saturating_sub(1);
            if i.snap.worker_busy.len() <= worker {
                i.snap.worker_busy.resize(worker + 1, Duration::ZERO);
            }
            i.snap.worker_busy[worker] += busy;
            i.snap.records += records as u64;
            i.service.record(busy);
        });
    }

    /// The host did `work` (scaled) for a request.
    pub fn cpu(&self, work: crate::capacity::Work) {
        self.with(|i| {
            i.snap.php_cpu += work.php;
            i.snap.db_cpu += work.db;
        });
    }

    /// A storefront page took `latency` from arrival to answer.
    pub fn shopper(&self, latency: Duration) {
        self.with(|i| i.shopper.record(latency));
    }

    /// A fault of `kind` was injected.
    pub fn fault(&self, kind: &str) {
        self.with(|i| *i.snap.faults.entry(kind.to_string()).or_default() += 1);
    }

    /// The background churn changed `rows` rows.
    pub fn churned(&self, rows: usize) {
        self.with(|i| i.snap.churn_changes += rows as u64);
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> CountersSnapshot {
        self.with(|i| {
            let mut s = i.snap.clone();
            s.queue_wait = i.queue_wait.summary();
            s.service = i.service.summary();
            s.shopper = i.shopper.summary();
            s
        })
    }

    /// Zero every counter (requests in progress keep being tracked).
    pub fn reset(&self) {
        self.with(|i| {
            let live = (i.in_service, i.queued, i.in_flight);
            *i = Inner::default();
            (i.in_service, i.queued, i.in_flight) = live;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles_within_bucket_width() {
        let mut h = Histogram::default();
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        let s = h.summary();
        assert_eq!(s.count, 100);
        let p50 = s.p50.as_secs_f64() * 1000.0;
        let p95 = s.p95.as_secs_f64() * 1000.0;
        assert!((50.0..=52.6).contains(&p50), "p50 {p50}");
        assert!((95.0..=99.8).contains(&p95), "p95 {p95}");
        assert_eq!(s.max, Duration::from_millis(100));
    }

    #[test]
    fn counts_by_resource_and_peaks() {
        let c = Counters::default();
        c.request_started();
        c.request_started();
        c.enqueued();
        c.dequeued(Duration::from_millis(3));
        c.served(1, Duration::from_millis(10), 100);
        c.request_finished("orders", 200, 1234);
        c.request_finished("-", 404, 10);
        let s = c.snapshot();
        assert_eq!(s.requests, 2);
        assert_eq!(s.count("orders", 200), 1);
        assert_eq!(s.by_status[&404], 1);
        assert_eq!(s.bytes, 1244);
        assert_eq!(s.records, 100);
        assert_eq!(s.max_in_flight, 2);
        assert_eq!(s.max_queued, 1);
        assert_eq!(
            s.worker_busy,
            vec![Duration::ZERO, Duration::from_millis(10)]
        );
        c.reset();
        assert_eq!(c.snapshot().requests, 0);
    }
}
