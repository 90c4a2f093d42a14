//! Sending one Webservice read through the pacer, with retries for what can heal.
//!
//! The client never retries by itself; here every attempt takes a pacer permit (so retries
//! count against the shop's capacity like any request) and reports how it went. The wait
//! before a retry is the pacer's alone: [`Pacer::acquire`] sleeps the retry's back-off
//! (exponential, with jitter) and honours a `Retry-After` as a pause of the whole host.
//! Errors that cannot heal (a rejected key, a missing permission, a bad query) are
//! returned at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prestalink_pacing::{
    Attempt, BackpressureKind, Outcome, Pacer, Permit, ResourceClass, ServerTiming,
};
use prestalink_webservice::client::{Client, Page};
use prestalink_webservice::error::Error as WsError;
use prestalink_webservice::query::Query;
use prestalink_webservice::Format;
use tokio_util::task::AbortOnDropHandle;

/// Sends reads for one sync run and counts them.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
    pacer: Pacer,
    max_attempts: u32,
    requests: Arc<AtomicU64>,
    /// Requests of this scope (one resource's read), counted besides the run's total.
    scope: Arc<AtomicU64>,
    /// Reads sent again after a transient failure, over the whole run.
    retries: Arc<AtomicU64>,
}

impl Fetcher {
    /// A fetcher over a client and the store host's pacer; `max_attempts` ≥ 1.
    pub fn new(client: Client, pacer: Pacer, max_attempts: u32) -> Fetcher {
        Fetcher {
            client,
            pacer,
            max_attempts: max_attempts.max(1),
            requests: Arc::new(AtomicU64::new(0)),
            scope: Arc::new(AtomicU64::new(0)),
            retries: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The same fetcher with its own count of requests (the run's total keeps counting), so
    /// that resources read at the same time each know their own requests.
    pub fn scoped(&self) -> Fetcher {
        Fetcher {
            scope: Arc::new(AtomicU64::new(0)),
            ..self.clone()
        }
    }

    /// Requests sent through this scope.
    pub fn scope_requests(&self) -> u64 {
        self.scope.load(Ordering::Relaxed)
    }

    /// Reads sent again after a transient failure, over the whole run (every scope).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The client (for reads outside the pacer, such as the shop's clock).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The pacer.
    pub fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    /// Sends a side request outside [`Fetcher::get`] (the shop's clock, its newest
    /// visitors): through the pacer like every request (on a 2-worker shop one more request
    /// in flight is a shopper waiting) and counted in the run's total, but released without
    /// a latency sample (a one-id answer says little about the shop) and never retried.
    pub(crate) async fn unsampled<T>(&self, send: impl std::future::Future<Output = T>) -> T {
        let permit = self.permit(ResourceClass::IdList).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let answer = send.await;
        drop(permit);
        answer
    }

    /// Requests sent so far, retries included.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Waits for a first-attempt permit of `class` (its page size decides the next page).
    pub async fn permit(&self, class: ResourceClass) -> Permit {
        self.pacer.acquire(class, Attempt::First).await
    }

    /// Sends `query`, retrying what can heal. `permit` is the first attempt's permit when the
    /// caller already holds one (it sized the page from it).
    pub async fn get(
        &self,
        class: ResourceClass,
        query: &Query,
        permit: Option<Permit>,
    ) -> Result<Page, WsError> {
        self.get_in(class, query, permit, None).await
    }

    /// [`Fetcher::get`] in a given format instead of the connection's (schemas must be read
    /// as XML: PrestaShop 8's JSON drops their empty fields).
    pub async fn get_in(
        &self,
        class: ResourceClass,
        query: &Query,
        permit: Option<Permit>,
        format: Option<Format>,
    ) -> Result<Page, WsError> {
        let mut permit = permit;
        let mut attempt = 0u32;
        loop {
            let held = match permit.take() {
                Some(p) => p,
                None if attempt == 0 => self.pacer.acquire(class, Attempt::First).await,
                None => self.pacer.acquire(class, Attempt::Retry(attempt)).await,
            };
            self.requests.fetch_add(1, Ordering::Relaxed);
            self.scope.fetch_add(1, Ordering::Relaxed);
            // The request runs as its own task: its latency is timed, and the pacer told,
            // the moment the answer is decoded, not when the reader (busy writing or
            // mapping on its own task) next looks at it, which read as latency on a fast
            // shop and made the pacer see a knee that was ours. On a multi-threaded
            // runtime another thread decodes meanwhile; on one thread (the CLI's default)
            // the answer waits at most for the step the thread is on (a page's preparation
            // for writing, a few ms), which a window's median does not count.
            let client = self.client.clone();
            let owned = query.clone();
            let task = tokio::spawn(tracing::Instrument::in_current_span(async move {
                let started = Instant::now();
                let result = match format {
                    Some(format) => client.get_as(&owned, format).await,
                    None => client.get(&owned).await,
                };
                let latency = started.elapsed();
                match &result {
                    Ok(page) => {
                        let records = match &page.document {
                            prestalink_webservice::decode::Document::List { records, .. } => {
                                records.len()
                            }
                            _ => 1,
                        };
                        let timing = page.meta.execution_time.and_then(|secs| {
                            let execution = Duration::try_from_secs_f64(secs).ok()?;
                            Some(ServerTiming {
                                response: page.meta.elapsed,
                                execution,
                            })
                        });
                        tracing::debug!(
                            ?class,
                            resource = owned.resource().map(|r| r.as_str()).unwrap_or(""),
                            records,
                            latency_ms = latency.as_secs_f64() * 1e3,
                            execution_ms = timing.map(|t| t.execution.as_secs_f64() * 1e3),
                            "webservice page"
                        );
                        held.complete(Outcome::Success {
                            latency,
                            records,
                            bytes: page.meta.bytes as usize,
                            timing,
                        });
                    }
                    Err(error) => held.complete(outcome_of(error, latency)),
                }
                result
            }));
            // Aborted when this future is dropped: a reader dropped mid-request gives its
            // pacer permit back instead of leaving the request running.
            let result = match AbortOnDropHandle::new(task).await {
                Ok(result) => result,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Only when the runtime shuts down, with nobody left to see it.
                Err(e) => panic!("a Webservice request task was cancelled: {e}"),
            };
            self.record_metrics(result.is_ok());
            match result {
                Ok(page) => return Ok(page),
                Err(error) => {
                    attempt += 1;
                    if !retryable(&error) || attempt >= self.max_attempts {
                        return Err(error);
                    }
                    tracing::debug!(%error, attempt, "retrying a Webservice read");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    // No sleep here: the next `acquire` with `Attempt::Retry` waits the
                    // back-off (and any `Retry-After` pause the outcome set).
                }
            }
        }
    }
}

impl Fetcher {
    /// Requests to stores by outcome, and the pacer's concurrency per store host, through
    /// the `metrics` facade (a no-op unless a recorder is installed, as the server does).
    fn record_metrics(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        metrics::counter!("prestalink_store_requests_total", "outcome" => outcome).increment(1);
        let host = self.client.connection().store_url.host();
        metrics::gauge!("prestalink_pacer_concurrency", "store" => host)
            .set(self.pacer.snapshot().limit as f64);
    }
}

/// Whether a failed read may succeed if sent again: what the client calls transient, plus
/// bodies that could not be decoded (a truncated answer, a stray invalid character) and
/// empty answers, which PrestaShop produces under load or on a one-off encoding failure.
pub fn retryable(error: &WsError) -> bool {
    error.is_transient() || matches!(error, WsError::Decode { .. })
}

/// What a failed read tells the pacer about the shop's load.
fn outcome_of(error: &WsError, latency: Duration) -> Outcome {
    let kind = match error {
        WsError::Timeout { .. } => Some(BackpressureKind::Timeout),
        WsError::Transport { .. } | WsError::ConnectionRefused { .. } => {
            Some(BackpressureKind::Reset)
        }
        WsError::Html { status: 503, .. } | WsError::Status { status: 503, .. } => {
            Some(BackpressureKind::Status503)
        }
        WsError::Status { status: 429, .. } | WsError::Html { status: 429, .. } => {
            Some(BackpressureKind::Status429)
        }
        WsError::Html { .. } => Some(BackpressureKind::Html),
        WsError::Status { status, .. } | WsError::Api { status, .. } if *status >= 500 => {
            Some(BackpressureKind::Status5xx)
        }
        _ => None,
    };
    match kind {
        Some(kind) => Outcome::Backpressure {
            kind,
            latency,
            retry_after: error.retry_after(),
        },
        None => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_signals_are_backpressure_and_client_errors_are_not() {
        let timeout = WsError::Timeout {
            url: "u".into(),
            after: Duration::from_secs(1),
        };
        assert!(matches!(
            outcome_of(&timeout, Duration::ZERO),
            Outcome::Backpressure {
                kind: BackpressureKind::Timeout,
                ..
            }
        ));
        let not_found = WsError::NotFound { url: "u".into() };
        assert_eq!(outcome_of(&not_found, Duration::ZERO), Outcome::Failed);
        assert!(!retryable(&not_found));
        assert!(retryable(&timeout));
    }

    /// A read of a resource that always answers 500, sent three times: the time it takes
    /// is the pacer's back-off for the two retries plus three quick answers. When the
    /// fetcher slept a back-off of its own before the pacer's (as it did), the first retry
    /// alone added at least 250 ms more.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_retry_waits_one_back_off() {
        use prestalink_simulator::faults::Faults;
        use prestalink_simulator::generator::GenConfig;
        use prestalink_simulator::server::{Simulator, SimulatorConfig};
        use prestalink_webservice::client::Connection;
        use prestalink_webservice::key::WebserviceKey;
        use prestalink_webservice::store_url::StoreUrl;

        let sim = Simulator::start(SimulatorConfig {
            gen: GenConfig {
                orders: 10,
                customers: 5,
                products: 5,
                ..GenConfig::default()
            },
            faults: Faults {
                fail: vec!["customers".into()],
                ..Faults::default()
            },
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        let connection = Connection::new(
            StoreUrl::parse(&sim.base_url()).unwrap(),
            WebserviceKey::parse(sim.key()).unwrap(),
        );
        let pacer = Pacer::new(
            prestalink_pacing::Pace::Max,
            prestalink_pacing::Caps::default(),
            None,
        );
        let fetcher = Fetcher::new(Client::new(connection).unwrap(), pacer.clone(), 3);
        let query = Query::list("customers").unwrap();
        let started = Instant::now();
        let result = fetcher.get(ResourceClass::Full, &query, None).await;
        let elapsed = started.elapsed();
        sim.shutdown().await;
        assert!(result.is_err(), "the broken resource fails: {result:?}");
        assert_eq!(fetcher.requests(), 3);
        assert_eq!(fetcher.retries(), 2);
        let backoff = pacer.snapshot().retry_backoff;
        // Retry 1 waits 250-500 ms, retry 2 500-1000 ms (the pacer's jitter).
        assert!(
            backoff >= Duration::from_millis(750),
            "the pacer waited the retries' back-off: {backoff:?}"
        );
        assert!(elapsed >= backoff, "{elapsed:?} < {backoff:?}");
        assert!(
            elapsed < backoff + Duration::from_millis(250),
            "the retries waited {elapsed:?}, more than the pacer's back-off {backoff:?} and \
             three answers: a second back-off was slept"
        );
    }
}
