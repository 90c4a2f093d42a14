//! A faithful simulator of the PrestaShop Webservice (`/api`), for tests, demos and benchmarks.
//!
//! It generates a coherent store, renders it as a real PrestaShop renders it (XML and JSON,
//! with every quirk), and serves it over HTTP with the hosting misconfigurations, capacity
//! model and faults that real shops show.

pub mod api;
pub mod capacity;
pub mod churn;
pub mod counters;
pub mod errors;
pub mod faults;
pub mod generator;
pub mod options;
pub mod protocol;
pub mod resources;
pub mod schema;
pub mod server;
pub mod store;
pub use server::{Simulator, SimulatorConfig, DEFAULT_KEY};
