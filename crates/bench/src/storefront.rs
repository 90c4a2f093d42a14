//! Storefront probes: visits to a shop's front-office pages arriving at random (Poisson, a
//! given rate), each timed from request to the last byte of the page. They stand for the
//! shop's customers: how long their pages take while a reader runs, against how long they
//! take when nobody reads.
//!
//! Visits do not wait for each other (a slow page does not delay the next arrival), and each
//! visit fetches one of the given pages in turn.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prestalink_simulator::counters::{Histogram, LatencySummary};
use rand::{Rng, SeedableRng};

/// A visit that takes longer than this counts as failed.
pub const VISIT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the probes measured.
#[derive(Debug, Clone, Default)]
pub struct Probed {
    /// Latency of the visits that got a 2xx page.
    pub latency: LatencySummary,
    /// Visits that failed (an error status, a timeout, a refused connection).
    pub failed: u64,
}

#[derive(Default)]
struct Tally {
    histogram: Histogram,
    failed: u64,
}

/// Poisson storefront visits until stopped.
pub struct Probes {
    tally: Arc<Mutex<Tally>>,
    task: tokio::task::JoinHandle<()>,
}

impl Probes {
    /// Starts visiting `pages` at `per_second` on average (`seed` fixes the arrivals).
    pub fn start(pages: Vec<String>, per_second: f64, seed: u64) -> anyhow::Result<Probes> {
        anyhow::ensure!(!pages.is_empty(), "no storefront page to probe");
        anyhow::ensure!(
            per_second.is_finite() && per_second > 0.0,
            "the probe rate must be above 0"
        );
        let client = reqwest::Client::builder()
            .timeout(VISIT_TIMEOUT)
            .user_agent("prestalink-bench storefront probe")
            .build()?;
        let tally: Arc<Mutex<Tally>> = Arc::default();
        let task = tokio::spawn(visit_forever(
            client,
            pages,
            per_second,
            seed,
            tally.clone(),
        ));
        Ok(Probes { tally, task })
    }

    /// Stops the arrivals and returns what the visits measured (visits still running are
    /// left out).
    pub fn stop(self) -> Probed {
        self.task.abort();
        let tally = self.tally.lock().expect("probe lock");
        Probed {
            latency: tally.histogram.summary(),
            failed: tally.failed,
        }
    }
}

async fn visit_forever(
    client: reqwest::Client,
    pages: Vec<String>,
    per_second: f64,
    seed: u64,
    tally: Arc<Mutex<Tally>>,
) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut visits = tokio::task::JoinSet::new();
    for n in 0usize.. {
        let u: f64 = rng.gen_range(1e-9..1.0);
        tokio::time::sleep(Duration::from_secs_f64(-u.ln() / per_second)).await;
        while visits.try_join_next().is_some() {}
        let url = pages[n % pages.len()].clone();
        let (client, tally) = (client.clone(), tally.clone());
        visits.spawn(async move {
            let started = Instant::now();
            let ok = match client.get(&url).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                _ => false,
            };
            let mut tally = tally.lock().expect("probe lock");
            if ok {
                tally.histogram.record(started.elapsed());
            } else {
                tally.failed += 1;
            }
        });
    }
}

/// Probes `pages` for `duration` with nothing else going on.
pub async fn probe_for(
    pages: &[String],
    per_second: f64,
    seed: u64,
    duration: Duration,
) -> anyhow::Result<Probed> {
    let probes = Probes::start(pages.to_vec(), per_second, seed)?;
    tokio::time::sleep(duration).await;
    Ok(probes.stop())
}
