//! The API's routes, one file per area (Codat's sections): companies, connections, data,
//! sync control, settings, and the service endpoints (health, metrics, OpenAPI).

pub mod companies;
pub mod connections;
pub mod data;
pub mod meta;
pub mod settings;
pub mod sync;

use axum::routing::{get, post};
use axum::Router;

use crate::error::ApiError;
use crate::state::AppState;

/// What a worker-only process (`prestalink worker`) serves: `/healthz` and `/metrics`, with
/// no API key (bind it to an address only the monitoring can reach).
pub fn service_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .fallback(|| async {
            ApiError::not_found(
                "A worker serves only /healthz and /metrics; the API is on `prestalink serve`",
            )
        })
        .with_state(state)
}

/// Every route but the webhooks'.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/companies", get(companies::list).post(companies::create))
        .route(
            "/companies/{companyId}",
            get(companies::get)
                .put(companies::replace)
                .patch(companies::update)
                .delete(companies::delete),
        )
        .route(
            "/companies/{companyId}/connections",
            get(connections::list).post(connections::create),
        )
        .route(
            "/companies/{companyId}/connections/{connectionId}",
            get(connections::get)
                .patch(connections::update)
                .delete(connections::delete),
        )
        .route(
            "/companies/{companyId}/connections/{connectionId}/data/{dataType}",
            get(data::list),
        )
        .route(
            "/companies/{companyId}/connections/{connectionId}/data/{dataType}/{recordId}",
            get(data::one),
        )
        .route(
            "/companies/{companyId}/connections/{connectionId}/data/raw/{resource}",
            get(data::raw),
        )
        .route("/companies/{companyId}/data/all", post(sync::all))
        .route(
            "/companies/{companyId}/data/queue/{dataType}",
            post(sync::queue),
        )
        .route("/companies/{companyId}/dataStatus", get(sync::status))
        .route("/companies/{companyId}/data/history", get(sync::history))
        .route(
            "/companies/{companyId}/data/history/{datasetId}",
            get(sync::dataset),
        )
        .route(
            "/profile",
            get(settings::get_profile).put(settings::put_profile),
        )
        .route(
            "/profile/syncSettings",
            get(settings::get_profile_settings).post(settings::set_profile_settings),
        )
        .route(
            "/companies/{companyId}/syncSettings",
            get(settings::get_company_settings).post(settings::set_company_settings),
        )
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(meta::openapi))
}

/// The company, or 404.
pub async fn company_or_404(
    state: &AppState,
    company_id: &str,
) -> Result<prestalink_store::Company, ApiError> {
    state
        .store
        .get_company(company_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Company {company_id} not found")))
}

/// 404 unless the company exists and owns the connection: one statement, for requests that
/// need only to know it (a data page).
pub async fn owned_or_404(
    state: &AppState,
    company_id: &str,
    connection_id: &str,
) -> Result<(), ApiError> {
    if state.known_owned(company_id, connection_id) {
        return Ok(());
    }
    match state
        .store
        .connection_owner(company_id, connection_id)
        .await?
    {
        prestalink_store::ConnectionOwner::Owned => {
            state.remember_owned(company_id, connection_id);
            Ok(())
        }
        prestalink_store::ConnectionOwner::NoCompany => Err(ApiError::not_found(format!(
            "Company {company_id} not found"
        ))),
        prestalink_store::ConnectionOwner::NoConnection => Err(ApiError::not_found(format!(
            "Connection {connection_id} not found for company {company_id}"
        ))),
    }
}

/// The company's connection, or 404.
pub async fn connection_or_404(
    state: &AppState,
    company_id: &str,
    connection_id: &str,
) -> Result<prestalink_store::Connection, ApiError> {
    company_or_404(state, company_id).await?;
    state
        .store
        .get_connection(connection_id)
        .await?
        .filter(|c| c.company_id == company_id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Connection {connection_id} not found for company {company_id}"
            ))
        })
}
