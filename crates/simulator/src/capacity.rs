//! The capacity model: how many requests a simulated PHP host serves at once (PHP-FPM
//! children), how long each one takes, and the FIFO queue the others wait in.
//!
//! Service time is `base + per_full_record × weight(resource) × records`, where an id-list
//! entry costs 1/70 of a full record. It is calibrated on the recorded PrestaShop 8.1.2
//! store (`shared/fixtures/README.md`, 2-core machine, full orders in JSON):
//!
//! | orders/page | recorded | model (laptop) |
//! |---:|---:|---:|
//! | 10 | 11 ms | 11.0 ms |
//! | 50 | 22 ms | 22.2 ms |
//! | 100 | 36 ms | 36.2 ms |
//! | 250 | 101 ms | 103 ms |
//! | 500 | 222 ms | 215 ms |
//! | 1000 | 448 ms | 439 ms |
//!
//! Records past the 100th of a page cost 1.6× (the recording's marginal cost per order rises
//! from 0.28 ms to ~0.45 ms on big pages). A host under load degrades as PHP does: requests
//! wait for a free worker and latency grows; the model never refuses with 429/503.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::api::Cost;

/// A named hosting size with calibrated numbers (see the README's profile table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The recording machine: 2 PHP workers on 2 cores, 8.2 ms base, 0.28 ms per full order.
    Laptop,
    /// Cheap shared hosting: 2 workers on a contended CPU (2.5× slower), 40 ms base.
    SharedHosting,
    /// A small VPS: 4 workers, same per-record speed as the recording machine.
    Vps,
    /// A dedicated server: 12 workers on faster cores (0.2 ms per full order).
    Dedicated,
    /// A load-balanced cluster: 48 workers on fast cores.
    Cluster,
}

impl Profile {
    /// Every profile, in size order.
    pub const ALL: [Profile; 5] = [
        Profile::Laptop,
        Profile::SharedHosting,
        Profile::Vps,
        Profile::Dedicated,
        Profile::Cluster,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Laptop => "laptop",
            Profile::SharedHosting => "shared-hosting",
            Profile::Vps => "vps",
            Profile::Dedicated => "dedicated",
            Profile::Cluster => "cluster",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown profile {s:?}: expected laptop, shared-hosting, vps, dedicated or cluster")
            })
    }
}

/// The capacity of the simulated host. Durations are in "host time"; they are multiplied by
/// `time_scale` before the server waits (0 = no artificial delay at all).
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// Requests served at once (PHP-FPM `pm.max_children`); the rest queue in FIFO order.
    pub workers: usize,
    /// Fixed cost of every PHP request (bootstrap, auth, SQL count).
    pub base: Duration,
    /// Cost of one full order with its associations (the reference record).
    pub per_full_record: Duration,
    /// Records after this many in one page cost `large_page_factor` times more.
    pub large_page_threshold: usize,
    /// Extra cost factor for records past `large_page_threshold`.
    pub large_page_factor: f64,
    /// Cost of one storefront page (the shopper probe and background shopper load).
    pub shopper: Duration,
    /// Multiplier applied to every modelled duration; 0 disables waiting.
    pub time_scale: f64,
    /// PHP's `max_execution_time` in host time; a request whose service time exceeds it
    /// fails with a PHP fatal error (500).
    pub max_execution_time: Duration,
}

/// Cost of an id-list entry relative to a full order (the real store lists 20,000 order ids in
/// 50–65 ms; one full order is 0.28 ms).
pub const ID_ENTRY_FRACTION: f64 = 1.0 / 70.0;

impl Capacity {
    /// The numbers of a profile, at time scale 1.
    pub fn profile(profile: Profile) -> Capacity {
        let ms = Duration::from_micros;
        let (workers, base, per, shopper) = match profile {
            Profile::Laptop => (2, ms(8_200), ms(280), ms(80_000)),
            Profile::SharedHosting => (2, ms(40_000), ms(700), ms(250_000)),
            Profile::Vps => (4, ms(8_200), ms(280), ms(80_000)),
            Profile::Dedicated => (12, ms(5_000), ms(200), ms(50_000)),
            Profile::Cluster => (48, ms(5_000), ms(200), ms(50_000)),
        };
        Capacity {
            workers,
            base,
            per_full_record: per,
            large_page_threshold: 100,
            large_page_factor: 1.6,
            shopper,
            time_scale: 1.0,
            max_execution_time: Duration::from_secs(30),
        }
    }

    /// Host time to serve one Webservice answer of `resource` with `cost`, before scaling.
    pub fn service_time(&self, resource: Option<&str>, cost: Cost) -> Duration {
        let n = cost.records as f64;
        let extra = cost.records.saturating_sub(self.large_page_threshold) as f64;
        let effective = n + (self.large_page_factor - 1.0) * extra;
        let weight = if cost.full {
            resource.map_or(ID_ENTRY_FRACTION, resource_weight)
        } else {
            ID_ENTRY_FRACTION
        };
        self.base + self.per_full_record.mul_f64(weight * effective)
    }

    /// `d` multiplied by the time scale: what the server actually waits.
    pub fn scaled(&self, d: Duration) -> Duration {
        if self.time_scale <= 0.0 {
            Duration::ZERO
        } else {
            d.mul_f64(self.time_scale)
        }
    }
}

impl Default for Capacity {
    /// A VPS (4 workers) with time scale 0: tests run at full speed, the queue still applies.
    fn default() -> Self {
        Capacity {
            time_scale: 0.0,
            ..Capacity::profile(Profile::Vps)
        }
    }
}

/// Cost of one full record of a resource relative to a full order with its order rows.
/// Products and categories with associations are as heavy as orders; single-object
/// resources are a third; small reference and history rows a fifth.
pub fn resource_weight(resource: &str) -> f64 {
    match resource {
        "orders" | "carts" | "categories" => 1.0,
        "products" => 1.2,
        "customers" | "addresses" | "order_details" | "combinations" | "order_slip"
        | "cart_rules" | "manufacturers" | "suppliers" | "employees" | "order_invoices"
        | "customer_threads" => 0.35,
        _ => 0.2,
    }
}

/// A FIFO pool of worker slots whose size can change while requests are being served.
/// Slot numbers are stable so busy time can be counted per worker.
#[derive(Debug)]
pub struct WorkerPool {
    state: Mutex<PoolState>,
}

#[derive(Debug)]
struct PoolState {
    workers: usize,
    free: BTreeSet<usize>,
    held: BTreeSet<usize>,
    waiters: VecDeque<oneshot::Sender<WorkerSlot>>,
}

/// A held worker slot; dropping it frees the worker for the next queued request.
#[derive(Debug)]
pub struct WorkerSlot {
    pool: Arc<WorkerPool>,
    index: usize,
    armed: bool,
}

impl WorkerSlot {
    /// The worker's number, `0..workers`.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for WorkerSlot {
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            self.pool.release(self.index);
        }
    }
}

impl WorkerPool {
    /// A pool of `workers` slots (at least one).
    pub fn new(workers: usize) -> Arc<WorkerPool> {
        let workers = workers.max(1);
        Arc::new(WorkerPool {
            state: Mutex::new(PoolState {
                workers,
                free: (0..workers).collect(),
                held: BTreeSet::new(),
                waiters: VecDeque::new(),
            }),
        })
    }

    /// Wait for a free worker, first come first served.
    pub async fn acquire(self: &Arc<Self>) -> WorkerSlot {
        let rx = {
            let mut st = self.state.lock().expect("pool lock");
            if let Some(index) = st.free.pop_first() {
                st.held.insert(index);
                return WorkerSlot {
                    pool: self.clone(),
                    index,
                    armed: true,
                };
            }
            let (tx, rx) = oneshot::channel();
            st.waiters.push_back(tx);
            rx
        };
        // Senders are only dropped by the pool itself, after handing over a slot.
        rx.await
            .expect("worker pool dropped while a request waited")
    }

    /// Requests waiting for a worker right now.
    pub fn queued(&self) -> usize {
        let st = self.state.lock().expect("pool lock");
        st.waiters.iter().filter(|w| !w.is_closed()).count()
    }

    /// Workers serving a request right now.
    pub fn busy(&self) -> usize {
        self.state.lock().expect("pool lock").held.len()
    }

    /// The current number of workers.
    pub fn workers(&self) -> usize {
        self.state.lock().expect("pool lock").workers
    }

    /// Change the number of workers; extra busy workers retire when their request ends.
    pub fn set_workers(self: &Arc<Self>, workers: usize) {
        let workers = workers.max(1);
        let mut st = self.state.lock().expect("pool lock");
        let old = st.workers;
        st.workers = workers;
        if workers < old {
            st.free.retain(|&i| i < workers);
            return;
        }
        for index in old..workers {
            // A slot still held from before a shrink is handed on when it is released.
            if !st.held.contains(&index) && !st.free.contains(&index) {
                self.give(&mut st, index);
            }
        }
    }

    fn release(self: &Arc<Self>, index: usize) {
        let mut st = self.state.lock().expect("pool lock");
        st.held.remove(&index);
        if index < st.workers {
            self.give(&mut st, index);
        }
    }

    /// Hand slot `index` to the oldest live waiter, or mark it free.
    fn give(self: &Arc<Self>, st: &mut PoolState, index: usize) {
        while let Some(tx) = st.waiters.pop_front() {
            st.held.insert(index);
            let slot = WorkerSlot {
                pool: self.clone(),
                index,
                armed: true,
            };
            match tx.send(slot) {
                Ok(()) => return,
                Err(mut slot) => {
                    // The waiter gave up; take the slot back without re-entering the lock.
                    slot.armed = false;
                    st.held.remove(&index);
                }
            }
        }
        st.free.insert(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(records: usize) -> Cost {
        Cost {
            records,
            full: true,
        }
    }

    #[test]
    fn laptop_matches_recorded_page_times() {
        let c = Capacity::profile(Profile::Laptop);
        for (n, recorded_ms) in [
            (10, 11.0),
            (50, 22.0),
            (100, 36.0),
            (250, 101.0),
            (500, 222.0),
            (1000, 448.0),
        ] {
            let model = c.service_time(Some("orders"), full(n)).as_secs_f64() * 1000.0;
            let err = (model - recorded_ms).abs() / recorded_ms;
            assert!(
                err < 0.05,
                "{n} orders: model {model:.1} ms vs recorded {recorded_ms} ms"
            );
        }
    }

    #[test]
    fn ids_are_cheaper_than_full_customers_cheaper_than_orders() {
        let c = Capacity::profile(Profile::Vps);
        let ids = c.service_time(
            Some("orders"),
            Cost {
                records: 100,
                full: false,
            },
        );
        let customers = c.service_time(Some("customers"), full(100));
        let orders = c.service_time(Some("orders"), full(100));
        assert!(ids < customers && customers < orders);
        let per_id = (ids - c.base).as_secs_f64() / 100.0;
        let per_order = (orders - c.base).as_secs_f64() / 100.0;
        assert!((per_order / per_id - 70.0).abs() < 1.0);
    }

    #[test]
    fn scale_zero_means_no_wait() {
        let c = Capacity::default();
        assert_eq!(c.scaled(Duration::from_secs(5)), Duration::ZERO);
        let c2 = Capacity {
            time_scale: 0.5,
            ..c
        };
        assert_eq!(
            c2.scaled(Duration::from_secs(5)),
            Duration::from_millis(2500)
        );
    }

    #[test]
    fn profiles_parse_by_name() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>().unwrap(), p);
        }
        assert!("mainframe".parse::<Profile>().is_err());
    }

    #[tokio::test]
    async fn pool_queues_in_order_and_resizes() {
        let pool = WorkerPool::new(1);
        let first = pool.acquire().await;
        assert_eq!(first.index(), 0);
        let p2 = pool.clone();
        let waiter = tokio::spawn(async move { p2.acquire().await.index() });
        tokio::task::yield_now().await;
        while pool.queued() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.busy(), 1);
        pool.set_workers(2);
        assert_eq!(
            waiter.await.unwrap(),
            1,
            "the new worker serves the queued request"
        );
        drop(first);
        assert_eq!(pool.busy(), 0);
        pool.set_workers(1);
        let a = pool.acquire().await;
        assert_eq!(a.index(), 0);
        assert_eq!(pool.busy(), 1);
    }
}
