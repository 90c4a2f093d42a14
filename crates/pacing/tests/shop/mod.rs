//! A simulated PrestaShop for scenario tests, run on tokio's paused clock.
//!
//! The model: `workers` PHP-FPM children take requests from one FIFO queue; the running
//! ones share `cpus` CPUs equally (processor sharing), so up to `cpus` requests run at full
//! speed and beyond that every running request, shoppers' included, slows down in
//! proportion. A request costs `overhead + per_record * records` of CPU. This is what the
//! recordings of a real 8.1.2 store show: on 2 CPUs, throughput levels off at 2 in flight
//! and latency then grows with the load; nothing is refused.
//!
//! Everything is driven by tokio's paused clock, so a scenario of minutes runs in
//! milliseconds and gives the same result on every run.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prestalink_pacing::{Attempt, BackpressureKind, Outcome, Pacer, PacerSnapshot, ResourceClass};
use rand::{Rng, SeedableRng};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Costs and capacity of a simulated shop.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// CPUs shared by the running requests.
    pub cpus: f64,
    /// PHP-FPM children; requests beyond them queue.
    pub workers: usize,
    /// CPU time of a request before any record (PrestaShop's bootstrap).
    pub overhead: Duration,
    /// CPU time per record, per class in `ResourceClass::ALL` order.
    pub per_record: [Duration; 3],
    /// Pages above this many records answer 500 (PHP's memory limit), if set.
    pub fail_above: Option<usize>,
    /// The client gives up after this long.
    pub client_timeout: Duration,
    /// Spread of page costs: each page's cost is multiplied by a log-normal factor of mean 1
    /// and this sigma (real pages differ: orders with more lines, cold caches).
    pub jitter: f64,
    /// A firewall in front of the shop: beyond this many requests in the last second it
    /// answers 429 with this `Retry-After`, without reaching PHP.
    pub firewall: Option<(usize, Duration)>,
}

impl Profile {
    /// A shop like the recorded 8.1.2 store: 8 ms per request, full orders 0.45 ms each.
    pub fn with_cpus(cpus: f64, workers: usize) -> Profile {
        Profile {
            cpus,
            workers,
            overhead: Duration::from_millis(8),
            per_record: [
                Duration::from_micros(20),
                Duration::from_micros(450),
                Duration::from_micros(1500),
            ],
            fail_above: None,
            client_timeout: Duration::from_secs(30),
            jitter: 0.2,
            firewall: None,
        }
    }
}

enum Msg {
    Job {
        work: f64,
        done: oneshot::Sender<()>,
    },
    SetCpus(f64),
}

struct Job {
    remaining: f64,
    done: Option<oneshot::Sender<()>>,
}

/// What the shop saw.
#[derive(Debug, Default)]
pub struct Stats {
    /// Start times of our requests.
    pub starts: Vec<Instant>,
    /// Most of our requests at the shop at once.
    pub max_ours: usize,
    /// Shopper latency divided by their unloaded latency.
    pub shopper_inflation: Vec<f64>,
    /// Requests the firewall turned away.
    pub refused: usize,
}

/// Handle to a running simulated shop.
#[derive(Clone)]
pub struct Shop {
    profile: Profile,
    tx: mpsc::UnboundedSender<Msg>,
    ours: Arc<AtomicUsize>,
    rng: Arc<Mutex<rand_chacha::ChaCha8Rng>>,
    pub stats: Arc<Mutex<Stats>>,
}

impl Shop {
    /// Starts the shop's event loop on the current runtime.
    pub fn start(profile: Profile) -> Shop {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(profile, rx));
        Shop {
            profile,
            tx,
            ours: Arc::new(AtomicUsize::new(0)),
            rng: Arc::new(Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(1))),
            stats: Arc::default(),
        }
    }

    /// Changes the CPUs available from now on (a noisy neighbour arriving or leaving).
    pub fn set_cpus(&self, cpus: f64) {
        let _ = self.tx.send(Msg::SetCpus(cpus));
    }

    async fn work(&self, work: Duration) {
        let (done, rx) = oneshot::channel();
        let _ = self.tx.send(Msg::Job {
            work: work.as_secs_f64(),
            done,
        });
        let _ = rx.await;
    }

    /// One of our page requests, answered as the sync engine would report it.
    pub async fn page(&self, class: ResourceClass, records: usize) -> Outcome {
        let start = Instant::now();
        if let Some((per_second, retry_after)) = self.profile.firewall {
            if self.firewall_refuses(start, per_second) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                return Outcome::Backpressure {
                    kind: BackpressureKind::Status429,
                    latency: start.elapsed(),
                    retry_after: Some(retry_after),
                };
            }
        }
        {
            let now_ours = self.ours.fetch_add(1, Ordering::SeqCst) + 1;
            let mut stats = self.stats.lock().unwrap();
            stats.starts.push(start);
            stats.max_ours = stats.max_ours.max(now_ours);
        }
        let p = self.profile;
        let too_large = p.fail_above.is_some_and(|max| records > max);
        let work = if too_large {
            // Dies of its memory limit half way.
            p.overhead + p.per_record[class_index(class)] * (records as u32 / 2)
        } else {
            p.overhead + p.per_record[class_index(class)] * records as u32
        };
        let work = work.mul_f64(self.jitter_factor());
        let finished = tokio::time::timeout(p.client_timeout, self.work(work)).await;
        self.ours.fetch_sub(1, Ordering::SeqCst);
        let latency = start.elapsed();
        match finished {
            Err(_) => Outcome::Backpressure {
                kind: BackpressureKind::Timeout,
                latency,
                retry_after: None,
            },
            Ok(()) if too_large => Outcome::Backpressure {
                kind: BackpressureKind::Status5xx,
                latency,
                retry_after: None,
            },
            Ok(()) => Outcome::Success {
                latency,
                records,
                bytes: records * 1000,
                // Processor sharing: a loaded CPU makes the work itself slower, nothing
                // waits for a worker. The latency model alone judges this shop.
                timing: None,
            },
        }
    }

    fn firewall_refuses(&self, now: Instant, per_second: usize) -> bool {
        let mut stats = self.stats.lock().unwrap();
        let recent = stats
            .starts
            .iter()
            .rev()
            .take_while(|t| now - **t < Duration::from_secs(1))
            .count();
        if recent >= per_second {
            stats.refused += 1;
        }
        recent >= per_second
    }

    fn jitter_factor(&self) -> f64 {
        let sigma = self.profile.jitter;
        let mut rng = self.rng.lock().unwrap();
        let (u1, u2): (f64, f64) = (rng.gen_range(1e-9..1.0), rng.gen_range(0.0..1.0));
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        (sigma * z - sigma * sigma / 2.0).exp()
    }

    /// Shoppers arriving at random (Poisson, `per_second`) each costing `cost` of CPU; their
    /// latency inflation is recorded in `stats` until the returned task is aborted.
    pub fn shoppers(
        &self,
        per_second: f64,
        cost: Duration,
        seed: u64,
    ) -> tokio::task::JoinHandle<()> {
        let shop = self.clone();
        tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            loop {
                let u: f64 = rng.gen_range(1e-9..1.0);
                tokio::time::sleep(Duration::from_secs_f64(-u.ln() / per_second)).await;
                let shop = shop.clone();
                tokio::spawn(async move {
                    let start = Instant::now();
                    shop.work(cost).await;
                    let inflation = start.elapsed().as_secs_f64() / cost.as_secs_f64();
                    shop.stats.lock().unwrap().shopper_inflation.push(inflation);
                });
            }
        })
    }
}

pub fn class_index(class: ResourceClass) -> usize {
    ResourceClass::ALL.iter().position(|c| *c == class).unwrap()
}

/// The shop's event loop: processor sharing among the first `workers` jobs of the queue.
async fn run(profile: Profile, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut cpus = profile.cpus;
    let mut jobs: VecDeque<Job> = VecDeque::new();
    let mut last = Instant::now();
    loop {
        let running = jobs.len().min(profile.workers);
        let rate = if running > 0 {
            (cpus / running as f64).min(1.0)
        } else {
            0.0
        };
        let next_done = jobs
            .iter()
            .take(running)
            .map(|j| j.remaining)
            .fold(f64::INFINITY, f64::min);
        let deadline = last
            + Duration::from_secs_f64(if running > 0 {
                next_done / rate
            } else {
                3600.0
            });
        tokio::select! {
            msg = rx.recv() => {
                advance(&mut jobs, running, rate, &mut last);
                match msg {
                    Some(Msg::Job { work, done }) => jobs.push_back(Job { remaining: work, done: Some(done) }),
                    Some(Msg::SetCpus(c)) => cpus = c,
                    None => return,
                }
            }
            _ = tokio::time::sleep_until(deadline), if running > 0 => {
                advance(&mut jobs, running, rate, &mut last);
            }
        }
        // Finished jobs leave; the queue moves up in order.
        jobs.retain_mut(|j| {
            if j.remaining <= 1e-6 {
                if let Some(done) = j.done.take() {
                    let _ = done.send(());
                }
                false
            } else {
                true
            }
        });
    }
}

fn advance(jobs: &mut VecDeque<Job>, running: usize, rate: f64, last: &mut Instant) {
    let now = Instant::now();
    let dt = (now - *last).as_secs_f64();
    for job in jobs.iter_mut().take(running) {
        job.remaining -= dt * rate;
    }
    *last = now;
}

/// One sample of the pacer's state.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Duration,
    pub snapshot: PacerSnapshot,
}

/// Samples the pacer every `every` until aborted.
pub fn monitor(
    pacer: &Pacer,
    every: Duration,
) -> (Arc<Mutex<Vec<Sample>>>, tokio::task::JoinHandle<()>) {
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let (pacer, out) = (pacer.clone(), samples.clone());
    let start = Instant::now();
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            out.lock().unwrap().push(Sample {
                at: start.elapsed(),
                snapshot: pacer.snapshot(),
            });
        }
    });
    (samples, task)
}

/// Reads `total` records of `class` with `readers` concurrent readers, the way the sync
/// engine does: acquire, ask for the permit's page size, report, retry failed pages.
/// Returns the wall time.
pub async fn read_all(
    pacer: &Pacer,
    shop: &Shop,
    class: ResourceClass,
    total: usize,
    readers: usize,
) -> Duration {
    let start = Instant::now();
    let left = Arc::new(AtomicUsize::new(total));
    let mut tasks = Vec::new();
    for _ in 0..readers {
        let (pacer, shop, left) = (pacer.clone(), shop.clone(), left.clone());
        tasks.push(tokio::spawn(async move {
            let mut attempt = Attempt::First;
            loop {
                let permit = pacer.acquire(class, attempt).await;
                let want = permit.page_size();
                let got = take(&left, want);
                if got == 0 {
                    return; // Nothing left: the permit is dropped, i.e. cancelled.
                }
                let outcome = shop.page(class, got).await;
                if let Outcome::Backpressure { .. } = outcome {
                    left.fetch_add(got, Ordering::SeqCst);
                    attempt = match attempt {
                        Attempt::First => Attempt::Retry(1),
                        Attempt::Retry(n) => Attempt::Retry(n + 1),
                    };
                } else {
                    attempt = Attempt::First;
                }
                permit.complete(outcome);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    start.elapsed()
}

fn take(left: &AtomicUsize, want: usize) -> usize {
    let mut current = left.load(Ordering::SeqCst);
    loop {
        let got = current.min(want);
        match left.compare_exchange(current, current - got, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return got,
            Err(now) => current = now,
        }
    }
}

/// Values of `f` over the samples taken in `[from, to)`.
pub fn during(
    samples: &[Sample],
    from: Duration,
    to: Duration,
    f: impl Fn(&PacerSnapshot) -> f64,
) -> Vec<f64> {
    samples
        .iter()
        .filter(|s| s.at >= from && s.at < to)
        .map(|s| f(&s.snapshot))
        .collect()
}

/// The mean of `xs`.
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// The `q` quantile of `xs` (0..=1).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}
