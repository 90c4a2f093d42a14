//! Sync control: refresh every data type, queue one, the data status per data type, and the
//! history of pull operations.

use std::collections::BTreeMap;
use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use prestalink_commerce::{DataType, Support};
use prestalink_store::{ConnectionStatus, Dataset};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorMessage};
use crate::extract::{ApiQuery, Paging};
use crate::links::page_response;
use crate::routes::company_or_404;
use crate::schema_paths::{check_fields, object_schema};
use crate::state::AppState;
use crate::worker::{self, Trigger};

/// A pull operation (Codat's `PullOperation`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullOperation {
    /// Its id (`datasetId`).
    pub id: String,
    /// The company.
    pub company_id: String,
    /// The connection read.
    pub connection_id: String,
    /// The data type.
    pub data_type: String,
    /// `Queued`, `Fetching`, `Mapping`, `Complete`, `FetchError`, `AuthError`, `InternalError`,
    /// `Cancelled` or `NotSupported`.
    pub status: String,
    /// What the status means here.
    pub status_description: Option<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// When it was requested.
    pub requested: String,
    /// When it ended.
    pub completed: Option<String>,
    /// 0 to 100.
    pub progress: i64,
    /// Whether it completed.
    pub is_completed: bool,
    /// Whether it failed.
    pub is_errored: bool,
}

impl From<&Dataset> for PullOperation {
    fn from(d: &Dataset) -> Self {
        PullOperation {
            id: d.id.clone(),
            company_id: d.company_id.clone(),
            connection_id: d.connection_id.clone(),
            data_type: d.data_type.clone(),
            status: d.status.clone(),
            status_description: d.status_description.clone(),
            error_message: d.error_message.clone(),
            requested: d.requested.clone(),
            completed: d.completed.clone(),
            progress: d.progress,
            is_completed: d.status == "Complete",
            is_errored: d.status.ends_with("Error"),
        }
    }
}

/// The data status of one data type (Codat's `DataStatus`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataStatusView {
    /// The data type.
    pub data_type: String,
    /// When its last successful sync completed.
    pub last_successful_sync: Option<String>,
    /// The status of its latest pull operation.
    pub current_status: String,
    /// The latest pull operation.
    pub latest_sync_id: Option<String>,
    /// The latest successful pull operation.
    pub latest_successful_sync_id: Option<String>,
}

/// Which connection a queued sync reads.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// The connection; optional when the company has one linked connection.
    pub connection_id: Option<String>,
}

/// Queues a sync of every data type of every linked connection of the company.
#[utoipa::path(post, path = "/companies/{companyId}/data/all", tag = "Sync",
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 204, description = "Queued"), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage),
              (status = 409, body = ErrorMessage, description = "No linked connection")))]
pub async fn all(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
) -> ApiResult<StatusCode> {
    let company = company_or_404(&state, &company_id).await?;
    let linked: Vec<_> = state
        .store
        .list_connections(Some(&company_id))
        .await?
        .into_iter()
        .filter(|c| c.status == ConnectionStatus::Linked)
        .collect();
    if linked.is_empty() {
        return Err(ApiError::conflict(
            "The company has no linked connection: link a store first (POST /companies/{companyId}/connections)",
        ));
    }
    for c in linked {
        worker::queue_sync(&state, &company, &c.id, &DataType::ALL, Trigger::Manual).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Queues a sync of one data type.
#[utoipa::path(post, path = "/companies/{companyId}/data/queue/{dataType}", tag = "Sync",
    params(("companyId" = String, Path, description = "Company id"),
           ("dataType" = String, Path, description = "The data type, e.g. commerce-orders"),
           QueueParams),
    responses((status = 200, body = PullOperation), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage),
              (status = 409, body = ErrorMessage, description = "DatasetAlreadyInProgress, or the connection is not linked")))]
pub async fn queue(
    State(state): State<AppState>,
    Path((company_id, data_type_name)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> ApiResult<Json<PullOperation>> {
    let company = company_or_404(&state, &company_id).await?;
    let dt = DataType::from_str(&data_type_name)
        .map_err(|_| ApiError::not_found(format!("Unknown data type {data_type_name}")))?;
    if dt.support() == Support::NotSupported {
        return Err(ApiError::not_found(format!(
            "Datatype {} not supported by platform PrestaShop",
            dt.key()
        )));
    }
    let connections = state.store.list_connections(Some(&company_id)).await?;
    let connection =
        match &params.connection_id {
            Some(id) => connections.iter().find(|c| &c.id == id).ok_or_else(|| {
                ApiError::not_found(format!(
                    "Connection {id} not found for company {company_id}"
                ))
            })?,
            None => {
                let linked: Vec<_> = connections
                    .iter()
                    .filter(|c| c.status == ConnectionStatus::Linked)
                    .collect();
                match linked.as_slice() {
                    [one] => *one,
                    [] => return Err(ApiError::conflict("The company has no linked connection")),
                    _ => return Err(ApiError::invalid(
                        "connectionId",
                        "The company has several linked connections: say which with ?connectionId=",
                    )),
                }
            }
        };
    if connection.status != ConnectionStatus::Linked {
        return Err(ApiError::conflict(format!(
            "Connection {} is {}: link it again before syncing",
            connection.id,
            connection.status.as_str()
        )));
    }
    if let Some(active) = state
        .store
        .active_datasets(&connection.id)
        .await?
        .into_iter()
        .find(|d| d.data_type == dt.key())
    {
        return Err(ApiError::conflict(format!(
            "DatasetAlreadyInProgress: a sync of {} is already {} for connection {} (dataset {})",
            dt.key(),
            active.status.to_lowercase(),
            connection.id,
            active.id
        ))
        .with_extra(json!({"code": "DatasetAlreadyInProgress", "datasetId": active.id})));
    }
    let queued =
        worker::queue_sync(&state, &company, &connection.id, &[dt], Trigger::Manual).await?;
    let dataset = queued
        .first()
        .ok_or_else(|| ApiError::conflict("DatasetAlreadyInProgress"))?;
    Ok(Json(PullOperation::from(dataset)))
}

/// The data status of each data type of the company.
#[utoipa::path(get, path = "/companies/{companyId}/dataStatus", tag = "Sync",
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 200, body = BTreeMap<String, DataStatusView>), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn status(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
) -> ApiResult<Json<BTreeMap<String, DataStatusView>>> {
    company_or_404(&state, &company_id).await?;
    let mut out: BTreeMap<String, DataStatusView> = BTreeMap::new();
    for c in state.store.list_connections(Some(&company_id)).await? {
        // Syncs run outside the server (`prestalink sync`) have runs but no pull operations.
        for run in state.store.data_status(&c.id).await? {
            let current = match run.current_status {
                prestalink_store::SyncStatus::Completed => "Complete",
                prestalink_store::SyncStatus::Running => "Fetching",
                prestalink_store::SyncStatus::Cancelled => "Cancelled",
                // A data type the key may not read (its run's error says so first).
                prestalink_store::SyncStatus::Failed
                    if run
                        .latest_error
                        .as_deref()
                        .is_some_and(|e| e.starts_with(prestalink_sync::PERMISSIONS_ERROR)) =>
                {
                    prestalink_sync::PERMISSIONS_ERROR
                }
                prestalink_store::SyncStatus::Failed => "FetchError",
            };
            out.entry(run.data_type.clone()).or_insert(DataStatusView {
                data_type: run.data_type,
                last_successful_sync: run.last_successful_sync,
                current_status: current.to_string(),
                latest_sync_id: Some(run.latest_sync_id),
                latest_successful_sync_id: run.latest_successful_sync_id,
            });
        }
        let complete = state.store.latest_complete_datasets(&c.id).await?;
        for d in state.store.latest_datasets(&c.id).await? {
            let good = complete.iter().find(|g| g.data_type == d.data_type);
            let view = DataStatusView {
                data_type: d.data_type.clone(),
                last_successful_sync: good.and_then(|g| g.completed.clone()),
                current_status: d.status.clone(),
                latest_sync_id: Some(d.id.clone()),
                latest_successful_sync_id: good.map(|g| g.id.clone()),
            };
            let newer = out
                .get(&d.data_type)
                .map(|v| {
                    v.latest_sync_id.is_none()
                        || view.last_successful_sync >= v.last_successful_sync
                })
                .unwrap_or(true);
            if newer {
                out.insert(d.data_type.clone(), view);
            }
        }
    }
    Ok(Json(out))
}

/// The company's pull operations, newest first by default, a page at a time.
#[utoipa::path(get, path = "/companies/{companyId}/data/history", tag = "Sync",
    params(("companyId" = String, Path, description = "Company id"), Paging),
    responses((status = 200, description = "A page of pull operations (`results` are PullOperations)", body = Object),
              (status = 400, body = ErrorMessage), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn history(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Response> {
    company_or_404(&state, &company_id).await?;
    let mut query = paging.to_query()?;
    check_fields(
        &object_schema(&[
            "id",
            "companyId",
            "connectionId",
            "dataType",
            "status",
            "statusDescription",
            "errorMessage",
            "requested",
            "completed",
            "progress",
            "isCompleted",
            "isErrored",
        ]),
        &paging,
    )?;
    if query
        .order_by
        .as_deref()
        .is_none_or(|o| o.trim().is_empty())
    {
        query.order_by = Some("-requested".to_string());
    }
    let table = state.store.datasets_table(&company_id);
    let (page, total) = state.store.json_table_page(&table, &query).await?;
    let path = format!("/companies/{company_id}/data/history");
    Ok(page_response(&path, &paging, &page, &page.results, total))
}

/// One pull operation.
#[utoipa::path(get, path = "/companies/{companyId}/data/history/{datasetId}", tag = "Sync",
    params(("companyId" = String, Path, description = "Company id"),
           ("datasetId" = String, Path, description = "Pull operation id")),
    responses((status = 200, body = PullOperation), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn dataset(
    State(state): State<AppState>,
    Path((company_id, dataset_id)): Path<(String, String)>,
) -> ApiResult<Json<PullOperation>> {
    company_or_404(&state, &company_id).await?;
    let d = state
        .store
        .get_dataset(&dataset_id)
        .await?
        .filter(|d| d.company_id == company_id)
        .ok_or_else(|| ApiError::not_found(format!("Pull operation {dataset_id} not found")))?;
    Ok(Json(PullOperation::from(&d)))
}
