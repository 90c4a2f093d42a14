//! Webhooks: consumers (`/webhooks`), the events the server emits (`company.created`,
//! `company.deleted`, `connection.connected`, `connection.failed`, `connection.deleted`,
//! `read.completed`, `read.completed.initial`) in Codat's message shape, and their delivery:
//! queued in the database (so they survive a restart), signed per Standard Webhooks, retried
//! with exponential back-off and jitter for more than a day, each attempt recorded.

mod api;
mod events;
mod sender;
pub mod signing;

use axum::routing::get;
use axum::Router;
use prestalink_store::{Company, Dataset};

pub use api::*;

use crate::state::AppState;

/// Every event type, in the order of the documentation.
pub const EVENT_TYPES: [&str; 7] = [
    "company.created",
    "company.deleted",
    "connection.connected",
    "connection.failed",
    "connection.deleted",
    "read.completed",
    "read.completed.initial",
];

/// The OpenAPI document of the webhook routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api::create_consumer,
    api::list_consumers,
    api::get_consumer,
    api::delete_consumer,
    api::list_deliveries,
))]
pub struct ApiDoc;

/// Routes of `/webhooks`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list_consumers).post(create_consumer))
        .route(
            "/webhooks/{webhookId}",
            get(get_consumer).delete(delete_consumer),
        )
        .route("/webhooks/{webhookId}/deliveries", get(list_deliveries))
}

/// Queues `company.created` / `company.deleted`.
pub async fn emit_company_event(state: &AppState, event_type: &str, company: &Company) {
    let payload = serde_json::json!({ "referenceCompany": events::reference_company(company) });
    events::queue(state, event_type, payload).await;
}

/// Queues `connection.connected` / `connection.failed` / `connection.deleted`; `detail`'s
/// fields are added to the payload.
pub async fn emit_connection_event(
    state: &AppState,
    event_type: &str,
    company: &Company,
    connection_id: &str,
    detail: serde_json::Value,
) {
    let payload = events::connection_payload(company, connection_id, detail);
    events::queue(state, event_type, payload).await;
}

/// Queues `read.completed` (and `read.completed.initial` when a data type was read for the
/// first time) for the pull operations of one finished sync job.
pub async fn emit_read_completed(state: &AppState, company: &Company, datasets: &[Dataset]) {
    if datasets.is_empty() {
        return;
    }
    let all: Vec<&Dataset> = datasets.iter().collect();
    events::queue(state, "read.completed", events::read_payload(company, &all)).await;
    let initial: Vec<&Dataset> = datasets.iter().filter(|d| d.initial).collect();
    if !initial.is_empty() {
        let payload = events::read_payload(company, &initial);
        events::queue(state, "read.completed.initial", payload).await;
    }
}

/// Sends queued deliveries until the server stops.
pub async fn run_sender(state: AppState) {
    sender::run(state).await;
}
