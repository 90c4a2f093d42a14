//! The baselines: how other connectors read a PrestaShop store. Both read every resource the
//! sync reads with `display=full` and offset paging (`limit=offset,size`, `sort=[id_ASC]`),
//! resource after resource, until a page comes back short, and never adapt:
//!
//! - `fixed-1x50`: one request in flight, pages of 50, no pause (the common open-source
//!   connector);
//! - `fixed-rate`: at most 4 requests in flight and 5 requests per second, pages of 100 (the
//!   common page size of a cautious connector). The rate is in the shop's time: at time scale
//!   `s` it is `5 / s` real requests per second, so it keeps the same relation to the shop's
//!   speed as on a real host.
//!
//! A failed request is sent again (up to 5 attempts, no pause), as those connectors do.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prestalink_webservice::client::Client;
use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions};
use prestalink_webservice::query::{Direction, Display, Query};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// A fixed reading strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    /// Requests in flight.
    pub in_flight: usize,
    /// Records per page.
    pub page: u64,
    /// Requests started per second of shop time (`None` = no limit).
    pub rate: Option<f64>,
}

impl Baseline {
    /// One request in flight, pages of 50, no pause.
    pub const FIXED_1X50: Baseline = Baseline {
        in_flight: 1,
        page: 50,
        rate: None,
    };
    /// At most 4 in flight, 5 requests per second, pages of 100.
    pub const FIXED_RATE: Baseline = Baseline {
        in_flight: 4,
        page: 100,
        rate: Some(5.0),
    };
}

/// What a baseline read received.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Received {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests that failed (and were retried, or gave up).
    pub errors: u64,
    /// Why the read gave up on a resource, if it did.
    pub fatal: Option<String>,
    /// Every record id received, per resource, in arrival order (duplicates kept).
    pub ids: BTreeMap<String, Vec<u64>>,
}

const ATTEMPTS: u32 = 5;

/// Reads `resources` of the store at `url` with `baseline`; `time_scale` converts its rate
/// to real time.
pub async fn read_store(
    url: &str,
    key: &str,
    resources: &[&str],
    baseline: Baseline,
    time_scale: f64,
) -> anyhow::Result<Received> {
    let options = DiagnoseOptions {
        timeout: Duration::from_secs(120),
        ..DiagnoseOptions::default()
    };
    let diagnosis = diagnose(url, key, &options).await;
    let connection = diagnosis
        .connection
        .ok_or_else(|| anyhow::anyhow!("the store cannot be read: {}", diagnosis.message))?;
    let client = Client::new(connection)?;
    let spacing = baseline
        .rate
        .filter(|r| *r > 0.0 && time_scale > 0.0)
        .map(|r| Duration::from_secs_f64(time_scale / r));
    let limiter = Arc::new(Mutex::new(Instant::now()));
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut out = Received::default();
    for &resource in resources {
        let reader = ResourceReader {
            client: client.clone(),
            resource: resource.to_string(),
            page: baseline.page,
            next_offset: Arc::new(AtomicU64::new(0)),
            done: Arc::new(AtomicBool::new(false)),
            spacing,
            limiter: limiter.clone(),
            requests: requests.clone(),
            errors: errors.clone(),
        };
        let tasks: Vec<_> = (0..baseline.in_flight.max(1))
            .map(|_| tokio::spawn(reader.clone().run()))
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            match task.await? {
                Ok(mut got) => ids.append(&mut got),
                Err(e) => {
                    out.fatal.get_or_insert(format!("{resource}: {e}"));
                }
            }
        }
        out.ids.insert(resource.to_string(), ids);
    }
    out.requests = requests.load(Ordering::Relaxed);
    out.errors = errors.load(Ordering::Relaxed);
    Ok(out)
}

/// One resource read by several workers taking consecutive offsets.
#[derive(Clone)]
struct ResourceReader {
    client: Client,
    resource: String,
    page: u64,
    next_offset: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    spacing: Option<Duration>,
    limiter: Arc<Mutex<Instant>>,
    requests: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
}

impl ResourceReader {
    /// Takes the next offset until a page comes back short; returns the ids received.
    async fn run(self) -> anyhow::Result<Vec<u64>> {
        let mut ids = Vec::new();
        while !self.done.load(Ordering::Acquire) {
            let offset = self.next_offset.fetch_add(self.page, Ordering::AcqRel);
            let query = Query::list(&self.resource)?
                .display(Display::Full)?
                .sort("id", Direction::Asc)?
                .limit(offset, self.page);
            let records = self.fetch(&query).await?;
            if (records.len() as u64) < self.page {
                self.done.store(true, Ordering::Release);
            }
            ids.extend(records.iter().filter_map(|r| r.id()));
        }
        Ok(ids)
    }

    async fn fetch(
        &self,
        query: &Query,
    ) -> anyhow::Result<Vec<prestalink_webservice::record::Record>> {
        let mut attempt = 0;
        loop {
            self.pause().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            match self.client.get(query).await {
                Ok(page) => return Ok(page.into_records()),
                Err(e) => {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                    if attempt >= ATTEMPTS {
                        return Err(e.into());
                    }
                }
            }
        }
    }

    /// Waits for the next request slot of the rate limit (request starts spaced evenly).
    async fn pause(&self) {
        let Some(spacing) = self.spacing else { return };
        let start = {
            let mut next = self.limiter.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + spacing;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }
}
