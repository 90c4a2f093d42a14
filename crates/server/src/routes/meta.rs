//! Service endpoints: `/healthz` (no key needed), `/metrics` (Prometheus text) and
//! `/openapi.json` (generated from the handlers' types).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorMessage};
use crate::state::AppState;

/// Health of the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
}

/// Whether the server and its database answer (no API key needed).
#[utoipa::path(get, path = "/healthz", tag = "Service", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorMessage)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(Health {
            status: "ok".to_string(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database does not answer",
            )
            .into_response()
        }
    }
}

/// Metrics in Prometheus' text format.
#[utoipa::path(get, path = "/metrics", tag = "Service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
              (status = 401, body = ErrorMessage)))]
pub async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
        .into_response()
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "Service",
    responses((status = 200, description = "OpenAPI 3.1", body = Object), (status = 401, body = ErrorMessage)))]
pub async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}
