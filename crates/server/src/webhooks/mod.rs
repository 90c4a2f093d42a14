//! Webhooks (placeholder being replaced: consumers, signed deliveries, retries).

use axum::Router;
use prestalink_store::{Company, Dataset};

use crate::state::AppState;

/// The OpenAPI document of the webhook routes (merged into the API's).
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct ApiDoc;

/// Routes of `/webhooks`.
pub fn routes() -> Router<AppState> {
    Router::new()
}

/// Queues `company.created` / `company.deleted`.
pub async fn emit_company_event(_state: &AppState, _event_type: &str, _company: &Company) {}

/// Queues `connection.connected` / `connection.failed` / `connection.deleted`.
pub async fn emit_connection_event(
    _state: &AppState,
    _event_type: &str,
    _company: &Company,
    _connection_id: &str,
    _detail: serde_json::Value,
) {
}

/// Queues `read.completed` (and `read.completed.initial` when a data type was read for the
/// first time) for the pull operations of one finished sync job.
pub async fn emit_read_completed(_state: &AppState, _company: &Company, _datasets: &[Dataset]) {}

/// Sends queued deliveries until the server stops.
pub async fn run_sender(_state: AppState) {}
