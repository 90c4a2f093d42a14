//! Sending one Webservice read through the pacer, with retries for what can heal.
//!
//! The client never retries by itself; here every attempt takes a pacer permit (so retries
//! count against the shop's capacity like any request), reports how it went, and waits a
//! back-off with jitter before the next one. Errors that cannot heal (a rejected key, a
//! missing permission, a bad query) are returned at once.

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
use rand::Rng;

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
            let result = AbortOnDrop(task).await;
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
                    tokio::time::sleep(backoff(attempt, error.retry_after())).await;
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

/// A spawned request that is cancelled with the future awaiting it (a reader dropped
/// mid-request gives its pacer permit back instead of leaving the request running).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|joined| match joined {
                Ok(value) => value,
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Only when the runtime shuts down, with nobody left to see it.
                Err(e) => panic!("a Webservice request task was cancelled: {e}"),
            })
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
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

/// Exponential back-off with full jitter: 0.25 s, 0.5 s, 1 s … capped at 8 s, never less
/// than the server's `Retry-After`. Jitter keeps concurrent retries from arriving together.
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let cap = Duration::from_millis(250u64 << attempt.min(5)).min(Duration::from_secs(8));
    let jittered = cap.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
    retry_after.map_or(jittered, |r| r.max(jittered))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        assert!(backoff(1, None) <= Duration::from_millis(500));
        assert!(backoff(10, None) <= Duration::from_secs(8));
        assert!(backoff(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    }

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
}
