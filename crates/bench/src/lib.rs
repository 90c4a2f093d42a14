//! `prestalink bench`: how fast prestalink reads a shop, and what it costs the shop's
//! customers, against the capacity bound and against how other connectors read.
//!
//! Per capacity profile (`laptop` … `cluster`), one simulated shop with a steady storefront
//! load (the simulator's shopper probe at a fraction of its workers, 20 % by default). Its
//! idle storefront latency is measured first; then each reader does one full read while the
//! storefront is measured again:
//!
//! - prestalink (`balanced`, `polite`, `max`): `prestalink sync --full --pace P` into a fresh
//!   SQLite file, then the commerce records in the file are compared with the simulator's
//!   ground truth (`prestalink_testkit::ground_truth`);
//! - the baselines `fixed-1x50` and `fixed-rate` ([`baseline`]), which must receive every id
//!   of the simulator's tables exactly once.
//!
//! Every reader runs in a child process (the same executable), so its CPU time and peak
//! memory (`wait4`) are its own and not the simulator's ([`child`]). The capacity bound T*
//! is the time the same reads would take with all of the shop's workers and the cheapest
//! page sizes, from the simulator's cost model ([`bound`]). Speed is reported, never asserted.
//!
//! Against a real shop ([`real_shop`], `--store`), the same measurement with the storefront
//! probed over HTTP ([`storefront`]); [`calibrate`] measures the figures the simulator's
//! capacity model is calibrated on, on a real shop and on a simulated one.

pub mod baseline;
pub mod bound;
pub mod calibrate;
pub mod child;
pub mod host;
pub mod real_shop;
pub mod report;
pub mod runner;
pub mod storefront;
mod text;

pub use baseline::{read_store, Baseline, Received};
pub use bound::{capacity_bound, Bound};
pub use comfy_table;
pub use report::{plain_table, table, targets, targets_line, RunRow, Target};
pub use runner::{run, sync_resources, BenchConfig, Reader};
pub use text::text_table;
