//! The dashboard: pages for the people who use the data (companies, their connections and
//! sync status, a connection's commerce overview, transactions, orders, customers).
//!
//! - [`overview`]: the commerce overview page (figures from the store, charts from
//!   [`crate::charts`]).
//! - [`text`]: the dashboard's words in English and French.

pub mod overview;
pub mod pages;
pub mod session;
pub mod text;
pub mod transactions;

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
            get(pages::transactions),
        )
        .route(&format!("{CONNECTION}/progress"), get(pages::progress))
        .route(&format!("{CONNECTION}/sync"), post(pages::queue_sync))
        .route(&format!("{CONNECTION}/unlink"), post(pages::unlink))
}
