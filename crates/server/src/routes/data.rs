//! The data of a connection: pages of a data type's records (`query`, `orderBy`), one record,
//! the single `commerce-info` object, and raw PrestaShop resources.

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::response::Response;
use prestalink_commerce::{json_schema, DataType, Support};
use prestalink_store::{JsonTable, Query};

use crate::error::{ApiError, ApiResult, ErrorMessage};
use crate::extract::{ApiQuery, Paging};
use crate::links::{json_response, page_response, records_page_response};
use crate::routes::owned_or_404;
use crate::schema_paths::check_fields;
use crate::state::AppState;

/// The data type named in the path, or 404 (unknown, or not provided by PrestaShop).
fn data_type(name: &str) -> ApiResult<DataType> {
    let dt = DataType::from_str(name).map_err(|_| {
        let known: Vec<&str> = DataType::ALL.iter().map(|d| d.key()).collect();
        ApiError::not_found(format!(
            "Unknown data type {name}; the data types are {}",
            known.join(", ")
        ))
    })?;
    if dt.support() == Support::NotSupported {
        return Err(ApiError::not_found(format!(
            "Datatype {} not supported by platform PrestaShop",
            dt.key()
        )));
    }
    Ok(dt)
}

/// A data type's record schema, generated once (building it took 3-4 % of the CPU of a
/// page under load).
fn record_schema(dt: DataType) -> &'static serde_json::Value {
    static SCHEMAS: std::sync::OnceLock<Vec<(DataType, serde_json::Value)>> =
        std::sync::OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        DataType::ALL
            .iter()
            .map(|d| (*d, json_schema(*d)))
            .collect()
    });
    &all.iter()
        .find(|(d, _)| *d == dt)
        .expect("every data type has a schema")
        .1
}

/// 409 when the data type was never requested for the connection.
async fn requested(state: &AppState, connection_id: &str, dt: DataType) -> ApiResult<()> {
    if state.known_requested(connection_id, dt.key()) {
        return Ok(());
    }
    if state
        .store
        .data_type_requested(connection_id, dt.key())
        .await?
    {
        state.remember_requested(connection_id, dt.key());
        Ok(())
    } else {
        Err(ApiError::conflict(format!(
            "The data set has not been requested: queue a sync of {} first \
             (POST /companies/{{companyId}}/data/queue/{})",
            dt.key(),
            dt.key()
        ))
        .with_code(409))
    }
}

/// A page of a data type's records (or the `commerce-info` object).
#[utoipa::path(get, path = "/companies/{companyId}/connections/{connectionId}/data/{dataType}", tag = "Data",
    params(("companyId" = String, Path, description = "Company id"),
           ("connectionId" = String, Path, description = "Connection id"),
           ("dataType" = String, Path, description = "commerce-customers, commerce-orders, … or commerce-info"),
           Paging),
    responses((status = 200, description = "A page of records (`results` follow the data type's schema, see components), or the commerce-info object", body = Object),
              (status = 400, body = ErrorMessage), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage),
              (status = 409, body = ErrorMessage, description = "The data set has not been requested")))]
pub async fn list(
    State(state): State<AppState>,
    Path((company_id, connection_id, data_type_name)): Path<(String, String, String)>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Response> {
    owned_or_404(&state, &company_id, &connection_id).await?;
    let dt = data_type(&data_type_name)?;
    requested(&state, &connection_id, dt).await?;
    if dt == DataType::CompanyInfo {
        return single(&state, &connection_id, dt, None).await;
    }
    let query = paging.to_query()?;
    check_fields(record_schema(dt), &paging)?;
    let page = state
        .store
        .records_page(&connection_id, dt.key(), &query)
        .await?;
    let path = format!(
        "/companies/{company_id}/connections/{connection_id}/data/{}",
        dt.key()
    );
    Ok(records_page_response(&path, &paging, &page))
}

async fn single(
    state: &AppState,
    connection_id: &str,
    dt: DataType,
    id: Option<&str>,
) -> ApiResult<Response> {
    let text = match id {
        Some(id) => state.store.record_json(connection_id, dt.key(), id).await?,
        None => {
            let page = state
                .store
                .records_page(
                    connection_id,
                    dt.key(),
                    &Query {
                        page_size: 1,
                        ..Query::default()
                    },
                )
                .await?;
            (page.len > 0).then_some(page.joined)
        }
    };
    match text {
        Some(text) => Ok(json_response(text)),
        None => Err(ApiError::not_found(match id {
            Some(id) => format!("No {} record with id {id}", dt.key()),
            None => format!("No {} record yet: the sync has not written it", dt.key()),
        })),
    }
}

/// One record of a data type.
#[utoipa::path(get, path = "/companies/{companyId}/connections/{connectionId}/data/{dataType}/{recordId}", tag = "Data",
    params(("companyId" = String, Path, description = "Company id"),
           ("connectionId" = String, Path, description = "Connection id"),
           ("dataType" = String, Path, description = "commerce-orders, …"),
           ("recordId" = String, Path, description = "Record id")),
    responses((status = 200, description = "The record (its data type's schema)", body = Object),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage),
              (status = 409, body = ErrorMessage)))]
pub async fn one(
    State(state): State<AppState>,
    Path((company_id, connection_id, data_type_name, record_id)): Path<(
        String,
        String,
        String,
        String,
    )>,
) -> ApiResult<Response> {
    owned_or_404(&state, &company_id, &connection_id).await?;
    let dt = data_type(&data_type_name)?;
    requested(&state, &connection_id, dt).await?;
    single(&state, &connection_id, dt, Some(&record_id)).await
}

/// A page of a raw PrestaShop resource (including add-on module resources), as read.
#[utoipa::path(get, path = "/companies/{companyId}/connections/{connectionId}/data/raw/{resource}", tag = "Data",
    params(("companyId" = String, Path, description = "Company id"),
           ("connectionId" = String, Path, description = "Connection id"),
           ("resource" = String, Path, description = "A Webservice resource: orders, order_details, a module's resource…"),
           Paging),
    responses((status = 200, description = "A page of raw records", body = Object),
              (status = 400, body = ErrorMessage), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn raw(
    State(state): State<AppState>,
    Path((company_id, connection_id, resource)): Path<(String, String, String)>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Response> {
    owned_or_404(&state, &company_id, &connection_id).await?;
    if resource.is_empty()
        || resource.len() > 64
        || !resource
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(ApiError::not_found(format!(
            "No raw resource named {resource:?}"
        )));
    }
    let query = paging.to_query()?;
    let table = JsonTable {
        from: "(SELECT connection_id, resource, source_id AS id, data, \
               fetched_at AS modified_date, deleted FROM raw_records) AS t"
            .to_string(),
        scope: "connection_id = $1 AND resource = $2".to_string(),
        binds: vec![&connection_id, &resource],
    };
    let (page, total) = state.store.json_table_page(&table, &query).await?;
    if total == 0 && page.page_number == 1 && query.query.is_none() {
        return Err(ApiError::not_found(format!(
            "No raw records of {resource} for this connection (never read, or not a resource of this store)"
        )));
    }
    let path = format!("/companies/{company_id}/connections/{connection_id}/data/raw/{resource}");
    Ok(page_response(&path, &paging, &page, &page.results, total))
}
