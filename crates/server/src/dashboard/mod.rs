//! The dashboard: pages for the people who use the data (companies, their connections and
//! sync status, a connection's commerce overview, transactions, orders, customers).
//!
//! - [`overview`]: the commerce overview page (figures from the store, charts from
//!   [`crate::charts`]).
//! - [`text`]: the dashboard's words in English and French.

pub mod overview;
pub mod session;
pub mod text;
pub mod transactions;
