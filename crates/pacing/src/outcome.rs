//! What the caller tells the pacer: which kind of request, which attempt, and how it went.

use std::time::Duration;

/// The cost class of a request; each class has its own page size and unloaded latency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceClass {
    /// Id lists (`display` absent or `[id]`): cheap per record.
    IdList,
    /// Full records (`display=full`) of ordinary resources.
    Full,
    /// Records that drag many associations along, such as orders: the costliest per record.
    Heavy,
}

impl ResourceClass {
    /// Every class, in index order.
    pub const ALL: [ResourceClass; 3] = [
        ResourceClass::IdList,
        ResourceClass::Full,
        ResourceClass::Heavy,
    ];

    pub(crate) fn index(self) -> usize {
        match self {
            ResourceClass::IdList => 0,
            ResourceClass::Full => 1,
            ResourceClass::Heavy => 2,
        }
    }
}

/// Whether a request is a first attempt or a retry; retries wait a back-off first and their
/// latency is kept apart (a retried page says little about the shop's normal speed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The first time this request is sent.
    First,
    /// The n-th retry (1 for the first retry).
    Retry(u32),
}

/// A sign that the shop, or something in front of it, is overloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackpressureKind {
    /// HTTP 429 Too Many Requests (a proxy or firewall rate limit).
    Status429,
    /// HTTP 503 Service Unavailable (a proxy, or PHP-FPM out of workers).
    Status503,
    /// Any other 5xx; on a large page often PHP's time or memory limit.
    Status5xx,
    /// No answer within the client's timeout.
    Timeout,
    /// The connection was reset or closed before an answer.
    Reset,
    /// An HTML page where XML or JSON was expected (a firewall or challenge page).
    Html,
}

/// How long the shop says it worked on a request against how long the answer took: the
/// difference is the wait for a free PHP worker (plus a steady network and bootstrap cost),
/// whatever the resource and page size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServerTiming {
    /// From sending the request to the end of the body, before decoding.
    pub response: Duration,
    /// PrestaShop's `Execution-Time` header: the time a worker spent on the request.
    pub execution: Duration,
}

/// How one request ended, reported through [`crate::Permit::complete`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The shop answered with data.
    Success {
        /// Time from sending the request to the end of the body.
        latency: Duration,
        /// Records in the answer (may be fewer than the page size on the last page).
        records: usize,
        /// Bytes of the body, for reporting.
        bytes: usize,
        /// The shop's own account of the request, when it gave one.
        timing: Option<ServerTiming>,
    },
    /// The shop or a proxy pushed back.
    Backpressure {
        /// What kind of push-back.
        kind: BackpressureKind,
        /// Time until the failure was known.
        latency: Duration,
        /// The `Retry-After` the answer carried, if any; every request waits for it.
        retry_after: Option<Duration>,
    },
    /// An error that says nothing about load (4xx, decoding errors); ignored by the pacer.
    Failed,
}
