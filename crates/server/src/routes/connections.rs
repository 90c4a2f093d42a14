//! `/companies/{companyId}/connections`: link a store (the same diagnosis as `prestalink
//! check`), list, read, unlink or give a new key, delete.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use prestalink_store::{Company, ConnectionStatus};
use prestalink_sync::connection_settings;
use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions, Diagnosis, DiagnosisCode};
use prestalink_webservice::Format;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorMessage};
use crate::extract::{ApiJson, ApiQuery, Paging};
use crate::links::{ids_of, page_response};
use crate::routes::{company_or_404, connection_or_404};
use crate::schema_paths::{check_fields, object_schema};
use crate::state::AppState;
use crate::views::{connection_view, ConnectionView};
use crate::{webhooks, worker};

/// Longest store URL or key accepted.
pub(crate) const MAX_FIELD: usize = 2048;

/// A store to link.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionRequest {
    /// The shop's address, as in the browser (`https://shop.example`).
    #[schema(min_length = 1, max_length = 2048)]
    pub store_url: String,
    /// The Webservice key (back office: Advanced Parameters > Webservice).
    #[schema(min_length = 1, max_length = 2048)]
    pub webservice_key: String,
    /// Use the address the store redirects to (after the merchant confirmed it).
    #[serde(default)]
    pub accept_redirect: bool,
}

/// Changes to a connection: `status: "Unlinked"` to stop syncing it, `"Linked"` to check it
/// again and resume, or a new `webserviceKey` (checked before it replaces the old one).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionUpdate {
    /// `Unlinked` or `Linked`.
    pub status: Option<String>,
    /// A new Webservice key.
    #[schema(max_length = 2048)]
    pub webservice_key: Option<String>,
}

/// The diagnosis settings of this server (the Link page uses the same: same private-address
/// guard, same time limit).
pub(crate) fn diagnose_options(state: &AppState, accept_redirect: bool) -> DiagnoseOptions {
    DiagnoseOptions {
        accept_redirect,
        timeout: Duration::from_secs(30),
        format: Format::Json,
        public_only: !state.config.allow_private_stores,
        ..DiagnoseOptions::default()
    }
}

/// The answer to a diagnosis that did not connect: 409 for a redirect to confirm, 422 with
/// the diagnosis otherwise.
fn refused(diagnosis: &Diagnosis) -> ApiError {
    let body = json!({
        "code": diagnosis.code,
        "message": diagnosis.message,
        "fix": diagnosis.fix,
        "redirect": diagnosis.redirect,
        "missingPermissions": diagnosis.missing_permissions,
    });
    let status = if diagnosis.code == DiagnosisCode::RedirectNeedsConfirmation {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let message = match &diagnosis.fix {
        Some(fix) => format!("{} {}", diagnosis.message, fix),
        None => diagnosis.message.clone(),
    };
    ApiError::new(status, message).with_extra(body)
}

fn check_lengths(url: &str, key: &str) -> ApiResult<()> {
    if url.trim().is_empty() || url.len() > MAX_FIELD {
        return Err(ApiError::invalid(
            "storeUrl",
            "storeUrl must have 1 to 2048 characters",
        ));
    }
    if key.trim().is_empty() || key.len() > MAX_FIELD {
        return Err(ApiError::invalid(
            "webserviceKey",
            "webserviceKey must have 1 to 2048 characters",
        ));
    }
    Ok(())
}

/// Links a store: checks it (auth mode, URL form, redirects, permissions), stores the
/// connection with its key encrypted, and queues the first syncs.
#[utoipa::path(post, path = "/companies/{companyId}/connections", tag = "Connections",
    request_body = ConnectionRequest,
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 201, body = ConnectionView, description = "Linked"),
              (status = 200, body = ConnectionView, description = "Already linked: the existing connection"),
              (status = 400, body = ErrorMessage), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage),
              (status = 409, body = ErrorMessage, description = "The store redirects: confirm with acceptRedirect"),
              (status = 413, body = ErrorMessage), (status = 415, body = ErrorMessage),
              (status = 422, body = ErrorMessage, description = "The store cannot be read: code, message, fix")))]
pub async fn create(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    ApiJson(body): ApiJson<ConnectionRequest>,
) -> ApiResult<Response> {
    let company = company_or_404(&state, &company_id).await?;
    check_lengths(&body.store_url, &body.webservice_key)?;
    let options = diagnose_options(&state, body.accept_redirect);
    let diagnosis = diagnose(&body.store_url, &body.webservice_key, &options).await;
    if !diagnosis.ok {
        return Err(refused(&diagnosis));
    }
    let (connection, existed) = link_checked(
        &state,
        &company,
        &body.store_url,
        &body.webservice_key,
        &diagnosis,
    )
    .await?;
    let view = connection_view(&state.store, &state.base_url, &connection).await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view)).into_response())
}

/// Stores a store that passed its diagnosis as a connection of `company` (key encrypted),
/// marks it linked and, when it is new, queues its first syncs. Returns the connection and
/// whether it existed before. Shared by the API and the Link page.
pub(crate) async fn link_checked(
    state: &AppState,
    company: &Company,
    given_url: &str,
    given_key: &str,
    diagnosis: &Diagnosis,
) -> ApiResult<(prestalink_store::Connection, bool)> {
    let store_url = diagnosis
        .store_url
        .clone()
        .unwrap_or_else(|| given_url.trim().to_string());
    let existed = state
        .store
        .list_connections(Some(&company.id))
        .await?
        .into_iter()
        .any(|c| c.store_url == store_url);
    let now = state.clock.now();
    let key = diagnosis
        .connection
        .as_ref()
        .map(|c| c.key.expose().to_string())
        .unwrap_or_else(|| given_key.trim().to_string());
    let connection = state
        .store
        .create_or_get_connection(&company.id, &store_url, &key, now)
        .await?;
    link(state, company, &connection.id, diagnosis).await?;
    if !existed {
        worker::queue_first_link(state, company, &connection.id).await?;
    }
    let connection = state
        .store
        .get_connection(&connection.id)
        .await?
        .expect("just linked");
    Ok((connection, existed))
}

/// Marks a checked connection linked and remembers what the check found.
async fn link(
    state: &AppState,
    company: &Company,
    connection_id: &str,
    diagnosis: &Diagnosis,
) -> ApiResult<()> {
    let now = state.clock.now();
    let store = &state.store;
    store
        .set_connection_settings(connection_id, &connection_settings(diagnosis), now)
        .await?;
    store
        .set_connection_status(connection_id, ConnectionStatus::Linked, None, now)
        .await?;
    store.resolve_connection_errors(connection_id, now).await?;
    let detail = json!({"warnings": diagnosis.warnings.iter().map(|w| w.code).collect::<Vec<_>>()});
    webhooks::emit_connection_event(
        state,
        "connection.connected",
        company,
        connection_id,
        detail,
    )
    .await;
    Ok(())
}

/// Lists a company's connections, a page at a time.
#[utoipa::path(get, path = "/companies/{companyId}/connections", tag = "Connections",
    params(("companyId" = String, Path, description = "Company id"), Paging),
    responses((status = 200, description = "A page of connections (`results` are Connections)", body = Object),
              (status = 400, body = ErrorMessage), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn list(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Response> {
    company_or_404(&state, &company_id).await?;
    let query = paging.to_query()?;
    check_fields(
        &object_schema(&["id", "status", "storeUrl", "created"]),
        &paging,
    )?;
    let table = state.store.connections_table(&company_id);
    let (page, total) = state.store.json_table_page(&table, &query).await?;
    let mut results = Vec::new();
    for id in ids_of(&page) {
        if let Some(c) = state.store.get_connection(&id).await? {
            let view = connection_view(&state.store, &state.base_url, &c).await?;
            results.push(serde_json::to_string(&view).unwrap_or_default());
        }
    }
    let path = format!("/companies/{company_id}/connections");
    Ok(page_response(&path, &paging, &page, &results, total))
}

/// One connection.
#[utoipa::path(get, path = "/companies/{companyId}/connections/{connectionId}", tag = "Connections",
    params(("companyId" = String, Path, description = "Company id"),
           ("connectionId" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn get(
    State(state): State<AppState>,
    Path((company_id, connection_id)): Path<(String, String)>,
) -> ApiResult<Json<ConnectionView>> {
    let connection = connection_or_404(&state, &company_id, &connection_id).await?;
    Ok(Json(
        connection_view(&state.store, &state.base_url, &connection).await?,
    ))
}

/// Unlinks a connection, links it again, or gives it a new key.
#[utoipa::path(patch, path = "/companies/{companyId}/connections/{connectionId}", tag = "Connections",
    request_body = ConnectionUpdate,
    params(("companyId" = String, Path, description = "Company id"),
           ("connectionId" = String, Path, description = "Connection id")),
    responses((status = 200, body = ConnectionView), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage),
              (status = 409, body = ErrorMessage), (status = 413, body = ErrorMessage),
              (status = 415, body = ErrorMessage), (status = 422, body = ErrorMessage)))]
pub async fn update(
    State(state): State<AppState>,
    Path((company_id, connection_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ConnectionUpdate>,
) -> ApiResult<Json<ConnectionView>> {
    let company = company_or_404(&state, &company_id).await?;
    let connection = connection_or_404(&state, &company_id, &connection_id).await?;
    let now = state.clock.now();
    match (body.status.as_deref(), body.webservice_key.as_deref()) {
        (Some("Unlinked"), None) => {
            state
                .store
                .set_connection_status(&connection_id, ConnectionStatus::Unlinked, Some("unlinked through the API"), now)
                .await?;
        }
        (status, key) if matches!(status, None | Some("Linked")) && (status.is_some() || key.is_some()) => {
            let key = match key {
                Some(k) => {
                    check_lengths(&connection.store_url, k)?;
                    k.trim().to_string()
                }
                None => state.store.decrypt_key(&connection_id).await?,
            };
            let diagnosis = diagnose(&connection.store_url, &key, &diagnose_options(&state, false)).await;
            if !diagnosis.ok {
                return Err(refused(&diagnosis));
            }
            let key = diagnosis
                .connection
                .as_ref()
                .map(|c| c.key.expose().to_string())
                .unwrap_or(key);
            state.store.set_connection_key(&connection_id, &key, now).await?;
            link(&state, &company, &connection_id, &diagnosis).await?;
        }
        _ => {
            return Err(ApiError::invalid(
                "status",
                "send {\"status\": \"Unlinked\"}, {\"status\": \"Linked\"} or {\"webserviceKey\": \"…\"}",
            ))
        }
    }
    get(State(state), Path((company_id, connection_id))).await
}

/// Deletes a connection with its records and key.
#[utoipa::path(delete, path = "/companies/{companyId}/connections/{connectionId}", tag = "Connections",
    params(("companyId" = String, Path, description = "Company id"),
           ("connectionId" = String, Path, description = "Connection id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn delete(
    State(state): State<AppState>,
    Path((company_id, connection_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let company = company_or_404(&state, &company_id).await?;
    connection_or_404(&state, &company_id, &connection_id).await?;
    state.store.delete_connection(&connection_id).await?;
    state.forget_owned();
    webhooks::emit_connection_event(
        &state,
        "connection.deleted",
        &company,
        &connection_id,
        json!({}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
