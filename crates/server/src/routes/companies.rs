//! `/companies`: create, list (paged, queryable), read, replace, update, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorMessage};
use crate::extract::{ApiJson, ApiQuery, Paging};
use crate::links::{ids_of, page_response};
use crate::routes::company_or_404;
use crate::schema_paths::{check_fields, object_schema};
use crate::state::AppState;
use crate::views::{company_view, CompanyView};
use crate::webhooks;

/// Longest company name or description.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2000;

/// A company to create or replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanyRequest {
    /// Name (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Description (at most 2,000 characters).
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Tags: string values by name (at most 50).
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub tags: Option<serde_json::Map<String, Value>>,
}

/// Changes to a company (absent fields keep their value).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanyUpdate {
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New description.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// New tags.
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub tags: Option<serde_json::Map<String, Value>>,
}

fn check(
    name: &str,
    description: Option<&str>,
    tags: Option<&serde_json::Map<String, Value>>,
) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::invalid(
            "name",
            format!("name must have 1 to {MAX_NAME} characters"),
        ));
    }
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(ApiError::invalid(
            "description",
            format!("description must have at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if let Some(tags) = tags {
        if tags.len() > 50 || tags.values().any(|v| !v.is_string()) {
            return Err(ApiError::invalid(
                "tags",
                "tags must be at most 50 string values",
            ));
        }
    }
    Ok(())
}

fn company_fields() -> Value {
    object_schema(&["id", "name", "description", "tags", "created"])
}

/// Creates a company.
#[utoipa::path(post, path = "/companies", tag = "Companies", request_body = CompanyRequest,
    responses((status = 201, body = CompanyView), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 413, body = ErrorMessage),
              (status = 415, body = ErrorMessage)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CompanyRequest>,
) -> ApiResult<Response> {
    check(&body.name, body.description.as_deref(), body.tags.as_ref())?;
    let tags = Value::Object(body.tags.unwrap_or_default());
    let company = state
        .store
        .create_company_with(
            body.name.trim(),
            body.description.as_deref(),
            &tags,
            state.clock.now(),
        )
        .await?;
    let view = company_view(&state.store, &state.base_url, &company).await?;
    webhooks::emit_company_event(&state, "company.created", &company).await;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// Lists companies, a page at a time.
#[utoipa::path(get, path = "/companies", tag = "Companies", params(Paging),
    responses((status = 200, description = "A page of companies (`results` are Companies)", body = Object),
              (status = 400, body = ErrorMessage), (status = 401, body = ErrorMessage)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> ApiResult<Response> {
    let query = paging.to_query()?;
    check_fields(&company_fields(), &paging)?;
    let (page, total) = state
        .store
        .json_table_page(&state.store.companies_table(), &query)
        .await?;
    let mut results = Vec::with_capacity(page.results.len());
    for id in ids_of(&page) {
        if let Some(company) = state.store.get_company(&id).await? {
            let view = company_view(&state.store, &state.base_url, &company).await?;
            results.push(serde_json::to_string(&view).unwrap_or_default());
        }
    }
    Ok(page_response("/companies", &paging, &page, &results, total))
}

/// One company.
#[utoipa::path(get, path = "/companies/{companyId}", tag = "Companies",
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 200, body = CompanyView), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn get(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
) -> ApiResult<Json<CompanyView>> {
    let company = company_or_404(&state, &company_id).await?;
    Ok(Json(
        company_view(&state.store, &state.base_url, &company).await?,
    ))
}

/// Replaces a company's name, description and tags.
#[utoipa::path(put, path = "/companies/{companyId}", tag = "Companies", request_body = CompanyRequest,
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 200, body = CompanyView), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage),
              (status = 413, body = ErrorMessage), (status = 415, body = ErrorMessage)))]
pub async fn replace(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    ApiJson(body): ApiJson<CompanyRequest>,
) -> ApiResult<Json<CompanyView>> {
    company_or_404(&state, &company_id).await?;
    check(&body.name, body.description.as_deref(), body.tags.as_ref())?;
    let tags = Value::Object(body.tags.unwrap_or_default());
    state
        .store
        .update_company(
            &company_id,
            body.name.trim(),
            body.description.as_deref(),
            &tags,
        )
        .await?;
    get(State(state), Path(company_id)).await
}

/// Changes some of a company's fields.
#[utoipa::path(patch, path = "/companies/{companyId}", tag = "Companies", request_body = CompanyUpdate,
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 200, body = CompanyView), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage),
              (status = 413, body = ErrorMessage), (status = 415, body = ErrorMessage)))]
pub async fn update(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    ApiJson(body): ApiJson<CompanyUpdate>,
) -> ApiResult<Json<CompanyView>> {
    let company = company_or_404(&state, &company_id).await?;
    let name = body.name.unwrap_or(company.name);
    let description = body.description.or(company.description);
    let tags = match body.tags {
        Some(t) => Some(t),
        None => company.tags.as_object().cloned(),
    };
    check(&name, description.as_deref(), tags.as_ref())?;
    let tags = Value::Object(tags.unwrap_or_default());
    state
        .store
        .update_company(&company_id, name.trim(), description.as_deref(), &tags)
        .await?;
    get(State(state), Path(company_id)).await
}

/// Deletes a company with its connections, records and keys.
#[utoipa::path(delete, path = "/companies/{companyId}", tag = "Companies",
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
) -> ApiResult<StatusCode> {
    let company = company_or_404(&state, &company_id).await?;
    state.store.delete_company(&company_id).await?;
    state.forget_owned();
    webhooks::emit_company_event(&state, "company.deleted", &company).await;
    Ok(StatusCode::NO_CONTENT)
}
