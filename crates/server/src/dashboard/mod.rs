//! The dashboard: pages for the people who use the data (companies, their connections and
//! sync status, a connection's commerce overview, transactions, orders, customers).
//!
//! - [`overview`]: the commerce overview page (figures from the store, charts from
//!   [`crate::charts`]).
//! - [`table`], [`rows`], [`tables`]: the record tables (transactions, orders, customers):
//!   filters as one API query, rows, pages and CSV.
//! - [`order`]: an order's page.
//! - [`progress`], [`live`]: the sync progress page and what running syncs report.
//! - [`text`]: the dashboard's words in English and French.

pub mod live;
pub mod order;
pub mod overview;
pub mod pages;
pub mod progress;
pub mod rows;
pub mod session;
pub mod table;
pub mod tables;
pub mod text;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The dashboard's routes (merged into the pages' router, which gives them the CSRF token
/// and the language cookie).
pub fn router() -> Router<AppState> {
    const CONNECTION: &str = "/dashboard/companies/{companyId}/connections/{connectionId}";
    Router::new()
        .route(pages::HOME, get(pages::home).post(pages::sign_in))
        .route("/dashboard/sign-out", post(pages::sign_out))
        .route("/dashboard/companies", get(pages::companies))
        .route(&format!("{CONNECTION}/overview"), get(pages::overview))
        .route(
            &format!("{CONNECTION}/transactions"),
            get(tables::table::<rows::TransactionRow>),
        )
        .route(
            &format!("{CONNECTION}/orders"),
            get(tables::table::<rows::OrderRow>),
        )
        .route(
            &format!("{CONNECTION}/orders/reference/{{reference}}"),
            get(order::order_by_reference),
        )
        .route(
            &format!("{CONNECTION}/orders/{{orderId}}"),
            get(order::order),
        )
        .route(
            &format!("{CONNECTION}/customers"),
            get(tables::table::<rows::CustomerRow>),
        )
        .route(&format!("{CONNECTION}/progress"), get(progress::progress))
        .route(&format!("{CONNECTION}/sync"), post(pages::queue_sync))
        .route(&format!("{CONNECTION}/unlink"), post(pages::unlink))
}
