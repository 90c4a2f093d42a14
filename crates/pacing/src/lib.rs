//! Adaptive pacing for reading one PrestaShop store: how many requests in flight and how
//! large each page, measured while reading.
//!
//! A PrestaShop under load does not refuse, it slows down, so latency is the main signal:
//! the pacer compares each answer's time with the work the shop reports for it
//! (`Execution-Time`: the rest is the wait for a free PHP worker), or, without that header,
//! with what a page of that size costs on an idle shop (re-measured by short probes), grows
//! concurrency while the shop shows no queueing
//! and its limit was in use, shrinks it when latency inflates or anything pushes back (429,
//! 503, 5xx, timeouts, resets, firewall pages), and sizes pages per resource class to a
//! target time far below PHP's 30 s limit. User caps are never exceeded.
//!
//! ```no_run
//! # async fn read() {
//! use std::time::Duration;
//! use prestalink_pacing::{Attempt, Caps, Outcome, Pace, Pacer, ResourceClass};
//!
//! let pacer = Pacer::new(Pace::Balanced, Caps::default(), None);
//! let permit = pacer.acquire(ResourceClass::Full, Attempt::First).await;
//! let limit = permit.page_size();
//! // ... GET /api/orders?display=full&limit=offset,{limit} ...
//! permit.complete(Outcome::Success { latency: Duration::from_millis(420), records: limit, bytes: 1 << 20, timing: None });
//! let to_save = pacer.settings();
//! # }
//! ```
//!
//! One file per mechanism: [`pace`](crate::Pace) (paces and caps), `controller` (the
//! concurrency decision), `page_size` (the page-size decision), `baseline` (unloaded latency
//! per class), `probe` (when to re-measure it), `pacer` (the shared state and the async
//! gate), `settings` (what is saved and shown), `shoppers` (whether anyone is on the storefront).

mod baseline;
mod controller;
mod outcome;
mod pace;
mod pacer;
mod page_size;
mod probe;
mod settings;
mod shoppers;

pub use outcome::{Attempt, BackpressureKind, Outcome, ResourceClass, ServerTiming};
pub use pace::{Caps, InvalidPinned, Pace, Pinned, UnknownPace};
pub use pacer::{Pacer, Permit, MAX_RETRY_AFTER};
pub use settings::{BaselineSettings, ClassSettings, ClassSnapshot, PacerSettings, PacerSnapshot};
pub use shoppers::{ShopperWatch, Shoppers};
