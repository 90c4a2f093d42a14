//! The capacity model: what a PHP host does with the requests it is sent.
//!
//! - **Workers** (PHP-FPM `pm.max_children`, [`WorkerPool`]): a request takes a worker for
//!   its whole life; when every worker is busy the others wait in a FIFO queue.
//! - **Cores** ([`SharedCores`]): the busy workers share the host's cores (processor
//!   sharing): with more busy workers than cores each one progresses at `cores / busy` of
//!   real time. A small shop runs more workers than cores (Debian's default pool is 5
//!   children, on 1–2 cores), so load slows every request down, shoppers' included, long
//!   before anything queues.
//! - **The database** is a second resource: a request's work is split into PHP work and
//!   database work. On one machine (`db_cores: None`) both run on the same cores; a separate
//!   database server has its own cores, which can be the bottleneck of a big shop.
//! - **Costs**: every request pays a fixed cost (PHP bootstrap, authentication, SQL count)
//!   and a cost per record, each split into PHP and database parts:
//!   `work = base + per_full_record × weight(resource) × (n + (f − 1) × max(0, n − 100))`,
//!   where an id-list entry weighs 1/70 of a full order and records past the 100th of a page
//!   cost `f` = 1.6× (a real store's marginal cost per order rises on big pages).
//!
//! A host under load degrades as PHP does: latency grows, nothing is refused with 429/503.
//! The laptop profile is calibrated against a real PrestaShop 8.1.2 on a 2-core machine
//! (the simulator's README, "Calibration against a real store").

mod pool;
mod sharing;

use std::fmt;
use std::ops::Add;
use std::str::FromStr;
use std::time::Duration;

use crate::api::Cost;

pub use pool::{WorkerPool, WorkerSlot};
pub use sharing::SharedCores;

/// A named hosting size with calibrated numbers (see the README's profile table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// A real PrestaShop 8.1.2 on a 2-core machine (PHP-FPM's default 5 children, MariaDB on
    /// the same cores), calibrated against one (see the README's calibration section).
    Laptop,
    /// Cheap shared hosting: 2 children on a contended CPU (2.5× slower), 40 ms per request.
    SharedHosting,
    /// A small VPS: 4 cores, 5 children, the database on the same cores.
    Vps,
    /// A dedicated server: 12 faster cores, 24 children, a separate 8-core database server.
    Dedicated,
    /// A load-balanced cluster: 48 fast cores, 96 children, a 16-core database server.
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

/// Work of one request on each resource, in host time (seconds of one core).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// CPU time of the PHP worker (PrestaShop's code, rendering).
    pub php: Duration,
    /// CPU time of the database server (MariaDB) for the request's queries.
    pub db: Duration,
}

impl Work {
    /// No work at all.
    pub const ZERO: Work = Work {
        php: Duration::ZERO,
        db: Duration::ZERO,
    };

    /// PHP and database work together (what one request takes alone on an idle host).
    pub fn total(self) -> Duration {
        self.php + self.db
    }

    /// Both parts multiplied by `f`.
    pub fn mul_f64(self, f: f64) -> Work {
        Work {
            php: self.php.mul_f64(f),
            db: self.db.mul_f64(f),
        }
    }
}

impl Add for Work {
    type Output = Work;

    fn add(self, other: Work) -> Work {
        Work {
            php: self.php + other.php,
            db: self.db + other.db,
        }
    }
}

/// The capacity of the simulated host. Durations are in "host time"; they are multiplied by
/// `time_scale` before the server waits (0 = no artificial delay at all).
#[derive(Debug, Clone, PartialEq)]
pub struct Capacity {
    /// CPU cores of the PHP host, shared by the busy workers (processor sharing).
    pub cores: f64,
    /// PHP-FPM children (`pm.max_children`): requests served at once; the rest queue FIFO.
    pub workers: usize,
    /// Cores of a separate database server; `None`: the database runs on the PHP host's
    /// cores (a small shop with MariaDB next to PHP).
    pub db_cores: Option<f64>,
    /// Fixed PHP cost of every request (bootstrap, authentication, building the query).
    pub base: Duration,
    /// Fixed database cost of every request (configuration, the key, the SQL count).
    pub base_db: Duration,
    /// PHP cost of one full order with its associations (the reference record).
    pub per_full_record: Duration,
    /// Database cost of one full order with its associations.
    pub per_full_record_db: Duration,
    /// Records after this many in one page cost `large_page_factor` times more.
    pub large_page_threshold: usize,
    /// Extra cost factor for records past `large_page_threshold`.
    pub large_page_factor: f64,
    /// PHP cost of one storefront page (the shopper probe and background shopper load).
    pub shopper: Duration,
    /// Database cost of one storefront page.
    pub shopper_db: Duration,
    /// Multiplier applied to every modelled duration; 0 disables waiting.
    pub time_scale: f64,
    /// PHP's `max_execution_time` in host time; a request whose PHP work exceeds it fails
    /// with a PHP fatal error (500). Like PHP on Linux, it counts the script's own CPU time:
    /// neither the database's work nor the time spent waiting for a core.
    pub max_execution_time: Duration,
}

/// Cost of an id-list entry relative to a full order (the real store lists 20,000 order ids in
/// 50–65 ms; one full order is 0.28 ms).
pub const ID_ENTRY_FRACTION: f64 = 1.0 / 70.0;

impl Capacity {
    /// The numbers of a profile, at time scale 1.
    pub fn profile(profile: Profile) -> Capacity {
        let us = Duration::from_micros;
        // (cores, workers, db cores, base php/db, per full order php/db, shopper php/db)
        let (cores, workers, db_cores, base, per, shopper) = match profile {
            Profile::Laptop => (
                2.0,
                5,
                None,
                (us(6_800), us(6_200)),
                (us(160), us(120)),
                (us(28_000), us(13_000)),
            ),
            Profile::SharedHosting => (
                2.0,
                2,
                None,
                (us(32_000), us(8_000)),
                (us(420), us(280)),
                (us(190_000), us(60_000)),
            ),
            Profile::Vps => (
                4.0,
                5,
                None,
                (us(6_800), us(6_200)),
                (us(160), us(120)),
                (us(28_000), us(13_000)),
            ),
            Profile::Dedicated => (
                12.0,
                24,
                Some(8.0),
                (us(4_000), us(1_000)),
                (us(120), us(80)),
                (us(38_000), us(12_000)),
            ),
            Profile::Cluster => (
                48.0,
                96,
                Some(16.0),
                (us(4_000), us(1_000)),
                (us(120), us(80)),
                (us(38_000), us(12_000)),
            ),
        };
        Capacity {
            cores,
            workers,
            db_cores,
            base: base.0,
            base_db: base.1,
            per_full_record: per.0,
            per_full_record_db: per.1,
            large_page_threshold: 100,
            large_page_factor: 1.6,
            shopper: shopper.0,
            shopper_db: shopper.1,
            time_scale: 1.0,
            max_execution_time: Duration::from_secs(30),
        }
    }

    /// Host work of one Webservice answer of `resource` with `cost`, before scaling.
    pub fn work(&self, resource: Option<&str>, cost: Cost) -> Work {
        let n = cost.records as f64;
        let extra = cost.records.saturating_sub(self.large_page_threshold) as f64;
        let effective = n + (self.large_page_factor - 1.0) * extra;
        let weight = if cost.full {
            resource.map_or(ID_ENTRY_FRACTION, resource_weight)
        } else {
            ID_ENTRY_FRACTION
        };
        self.request_base()
            + Work {
                php: self.per_full_record.mul_f64(weight * effective),
                db: self.per_full_record_db.mul_f64(weight * effective),
            }
    }

    /// Host time of one Webservice answer on an idle host (PHP and database work), before
    /// scaling.
    pub fn service_time(&self, resource: Option<&str>, cost: Cost) -> Duration {
        self.work(resource, cost).total()
    }

    /// The fixed work of every PHP request (what a failed authentication costs).
    pub fn request_base(&self) -> Work {
        Work {
            php: self.base,
            db: self.base_db,
        }
    }

    /// The work of one storefront page.
    pub fn shopper_work(&self) -> Work {
        Work {
            php: self.shopper,
            db: self.shopper_db,
        }
    }

    /// How many requests the host can serve at full speed at once: its workers or its cores,
    /// whichever is fewer.
    pub fn parallelism(&self) -> f64 {
        (self.workers.max(1) as f64).min(self.cores)
    }

    /// The least time `work` (summed over many requests, host time) can take with the whole
    /// host busy, before scaling: PHP on the cores, the database on its own cores or the
    /// same ones, and no request faster than one worker at full speed.
    pub fn busy_bound(&self, work: Work) -> Duration {
        let workers = self.workers.max(1) as f64;
        let per_worker = work.total().div_f64(workers);
        match self.db_cores {
            None => work.total().div_f64(self.parallelism()).max(per_worker),
            Some(db_cores) => work
                .php
                .div_f64(self.parallelism())
                .max(work.db.div_f64(db_cores.max(0.01)))
                .max(per_worker),
        }
    }

    /// `d` multiplied by the time scale: what the server actually waits.
    pub fn scaled(&self, d: Duration) -> Duration {
        if self.time_scale <= 0.0 {
            Duration::ZERO
        } else {
            d.mul_f64(self.time_scale)
        }
    }

    /// `w` multiplied by the time scale.
    pub fn scaled_work(&self, w: Work) -> Work {
        Work {
            php: self.scaled(w.php),
            db: self.scaled(w.db),
        }
    }
}

impl Default for Capacity {
    /// A VPS (4 cores, 5 workers) with time scale 0: tests run at full speed, the queue still
    /// applies.
    fn default() -> Self {
        Capacity {
            time_scale: 0.0,
            ..Capacity::profile(Profile::Vps)
        }
    }
}

/// Cost of one full record of a resource relative to a full order with its order rows.
/// A full product is 10 orders (measured on a real 8.1.2: a page of its 19 demo products,
/// with their combinations, images, features and stock, took 63 ms against 15 ms for a
/// page of 5 orders);
/// categories with associations are as heavy as orders; single-object resources are a
/// third; small reference and history rows a fifth.
pub fn resource_weight(resource: &str) -> f64 {
    match resource {
        "orders" | "carts" | "categories" => 1.0,
        "products" => 10.0,
        "customers" | "addresses" | "order_details" | "combinations" | "order_slip"
        | "cart_rules" | "manufacturers" | "suppliers" | "employees" | "order_invoices"
        | "customer_threads" => 0.35,
        _ => 0.2,
    }
}

/// The host's resources: its PHP workers, its cores and the database server's cores.
#[derive(Debug)]
pub struct Host {
    /// The PHP-FPM children and their FIFO queue.
    pub pool: std::sync::Arc<WorkerPool>,
    /// The PHP host's cores (also the database's when it runs on the same machine).
    pub cores: std::sync::Arc<SharedCores>,
    /// A separate database server's cores (unused when the database shares `cores`).
    pub db: std::sync::Arc<SharedCores>,
}

impl Host {
    /// The resources of `capacity`.
    pub fn new(capacity: &Capacity) -> Host {
        Host {
            pool: WorkerPool::new(capacity.workers),
            cores: SharedCores::new(capacity.cores),
            db: SharedCores::new(capacity.db_cores.unwrap_or(1.0)),
        }
    }

    /// Apply a changed capacity (workers and cores) from now on.
    pub fn resize(&self, capacity: &Capacity) {
        self.pool.set_workers(capacity.workers);
        self.cores.set_cores(capacity.cores);
        if let Some(db) = capacity.db_cores {
            self.db.set_cores(db);
        }
    }

    /// Runs a request's `work` (already scaled, real time) while it holds a worker: its
    /// queries on the database, then its PHP work, each sharing cores with the other busy
    /// requests. On one machine both parts run on the same cores.
    pub async fn run(&self, capacity: &Capacity, work: Work) {
        match capacity.db_cores {
            None => self.cores.run(work.total()).await,
            Some(_) => {
                self.db.run(work.db).await;
                self.cores.run(work.php).await;
            }
        }
    }

    /// Takes a worker (queueing when all are busy), runs `work`, releases the worker.
    pub async fn serve(&self, capacity: &Capacity, work: Work) {
        let _worker = self.pool.acquire().await;
        self.run(capacity, work).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn full(records: usize) -> Cost {
        Cost {
            records,
            full: true,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
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
        let base = c.request_base().total();
        let per_id = (ids - base).as_secs_f64() / 100.0;
        let per_order = (orders - base).as_secs_f64() / 100.0;
        assert!((per_order / per_id - 70.0).abs() < 1.0);
    }

    #[test]
    fn the_fixed_cost_is_amortised_by_the_page_size() {
        // 1,000 orders in pages of 10, 100 and 1,000: the fixed cost is paid 100, 10 and
        // 1 times; past 100 records a page costs 1.6x per record.
        let c = Capacity::profile(Profile::Laptop);
        let read = |page: usize| c.service_time(Some("orders"), full(page)) * (1000 / page) as u32;
        let base = c.request_base().total();
        let per = c.per_full_record + c.per_full_record_db;
        let close = |a: Duration, b: Duration| a.abs_diff(b) < Duration::from_micros(1);
        assert!(close(read(10), base * 100 + per * 1000));
        assert!(close(read(100), base * 10 + per * 1000));
        assert!(close(read(1000), base + per * 100 + per.mul_f64(1.6) * 900));
        assert!(
            read(10) > read(100) * 2,
            "pages of 10 pay the fixed cost 100 times"
        );
        // Per request, the PHP and database parts add up.
        let w = c.work(Some("orders"), full(100));
        assert!(close(w.total(), c.service_time(Some("orders"), full(100))));
        assert!(w.php > w.db && w.db > Duration::ZERO);
    }

    #[test]
    fn the_busy_bound_uses_the_scarcer_of_cores_workers_and_database() {
        let work = Work {
            php: Duration::from_secs(6),
            db: Duration::from_secs(2),
        };
        let laptop = Capacity::profile(Profile::Laptop);
        // 5 workers on 2 cores, the database on the same cores: 8 s of work over 2 cores.
        assert_eq!(laptop.busy_bound(work), Duration::from_secs(4));
        let few_workers = Capacity {
            workers: 1,
            ..laptop.clone()
        };
        assert_eq!(few_workers.busy_bound(work), Duration::from_secs(8));
        let separate = Capacity {
            cores: 6.0,
            workers: 100,
            db_cores: Some(0.5),
            ..laptop
        };
        // PHP 1 s on 6 cores, the database 4 s on its half core.
        assert_eq!(separate.busy_bound(work), Duration::from_secs(4));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_share_the_cores_then_queue_when_every_worker_is_busy() {
        // One core, two workers: two requests of 100 ms share the core and take 200 ms each;
        // the third waits for a worker, then runs alone.
        let c = Capacity {
            cores: 1.0,
            workers: 2,
            db_cores: None,
            time_scale: 1.0,
            ..Capacity::profile(Profile::Laptop)
        };
        let host = Arc::new(Host::new(&c));
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (host, c) = (host.clone(), c.clone());
                tokio::spawn(async move {
                    let work = Work {
                        php: ms(80),
                        db: ms(20),
                    };
                    host.serve(&c, work).await;
                    start.elapsed()
                })
            })
            .collect();
        tokio::time::sleep(ms(10)).await;
        assert_eq!(host.pool.busy(), 2);
        assert_eq!(host.pool.queued(), 1, "the third request queues");
        assert_eq!(host.cores.running(), 2);
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap());
        }
        done.sort();
        let near = |a: Duration, b: Duration| a.abs_diff(b) <= ms(1);
        assert!(near(done[0], ms(200)) && near(done[1], ms(200)), "{done:?}");
        assert!(near(done[2], ms(300)), "{done:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_separate_database_is_a_second_resource() {
        // PHP has cores to spare; the database server's single core is shared by the two
        // requests' queries (50 ms each: 100 ms together), then PHP runs at full speed.
        let c = Capacity {
            cores: 4.0,
            workers: 4,
            db_cores: Some(1.0),
            time_scale: 1.0,
            ..Capacity::profile(Profile::Cluster)
        };
        let host = Arc::new(Host::new(&c));
        let start = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (host, c) = (host.clone(), c.clone());
                tokio::spawn(async move {
                    let work = Work {
                        php: ms(30),
                        db: ms(50),
                    };
                    host.serve(&c, work).await;
                    start.elapsed()
                })
            })
            .collect();
        for t in tasks {
            let took = t.await.unwrap();
            assert!(took.abs_diff(ms(130)) <= ms(1), "{took:?}");
        }
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
}
