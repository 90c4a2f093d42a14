//! The profile (name, Link redirect URL) and sync settings: the profile's defaults and each
//! company's own, per data type (`fetchOnFirstLink`, `syncSchedule` in hours, `syncFromUtc`).

use std::str::FromStr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use prestalink_commerce::{DataType, Support};
use prestalink_store::{SyncSetting, PROFILE_SCOPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorMessage};
use crate::extract::ApiJson;
use crate::routes::company_or_404;
use crate::state::AppState;

/// Longest schedule: a year.
const MAX_SCHEDULE_HOURS: i64 = 24 * 366;

/// The client's profile.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileView {
    /// The client application's name, shown on the Link page.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Where the Link page sends the merchant after linking, with `companyId`,
    /// `connectionId` and `statusCode` added.
    #[schema(max_length = 2048)]
    pub redirect_url: Option<String>,
}

/// One data type's settings (Codat's `SyncSetting`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSettingView {
    /// The data type.
    pub data_type: String,
    /// Synced as soon as a connection is linked.
    pub fetch_on_first_link: bool,
    /// Hours between scheduled syncs (0: no schedule).
    #[schema(minimum = 0, maximum = 8784)]
    pub sync_schedule: i64,
    /// Informative: PrestaShop's resources are read in full on the first sync.
    pub sync_from_utc: Option<String>,
    /// Codat's field; always false.
    #[serde(default)]
    pub is_locked: bool,
}

/// Settings of the profile or of a company.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSettingsView {
    /// The company, for a company's settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// The client, for the profile's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// One per data type.
    pub settings: Vec<SyncSettingView>,
    /// Whether a company's settings replace the profile's.
    pub overrides_defaults: bool,
}

/// New settings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncSettingsRequest {
    /// Settings of the data types to change (others keep theirs).
    pub settings: Vec<SyncSettingView>,
}

/// Every data type's default: fetched on first link, synced every 24 hours (Codat's default).
fn defaults() -> Vec<SyncSetting> {
    DataType::ALL
        .iter()
        .map(|dt| SyncSetting {
            data_type: dt.key().to_string(),
            fetch_on_first_link: dt.support() == Support::Supported,
            sync_schedule: if dt.support() == Support::Supported {
                24
            } else {
                0
            },
            sync_from_utc: None,
        })
        .collect()
}

/// `overrides` applied over `base`, by data type.
fn merged(base: Vec<SyncSetting>, overrides: Vec<SyncSetting>) -> Vec<SyncSetting> {
    base.into_iter()
        .map(|b| {
            overrides
                .iter()
                .find(|o| o.data_type == b.data_type)
                .cloned()
                .unwrap_or(b)
        })
        .collect()
}

/// The settings in force for a company (its own over the profile's over the defaults).
pub async fn effective(state: &AppState, company_id: &str) -> ApiResult<Vec<SyncSetting>> {
    let profile = merged(
        defaults(),
        state.store.get_sync_settings(PROFILE_SCOPE).await?,
    );
    Ok(merged(
        profile,
        state.store.get_sync_settings(company_id).await?,
    ))
}

fn view(settings: Vec<SyncSetting>) -> Vec<SyncSettingView> {
    settings
        .into_iter()
        .map(|s| SyncSettingView {
            data_type: s.data_type,
            fetch_on_first_link: s.fetch_on_first_link,
            sync_schedule: s.sync_schedule,
            sync_from_utc: s.sync_from_utc,
            is_locked: false,
        })
        .collect()
}

fn parse(request: SyncSettingsRequest) -> ApiResult<Vec<SyncSetting>> {
    if request.settings.len() > 64 {
        return Err(ApiError::invalid("settings", "at most 64 settings"));
    }
    request
        .settings
        .into_iter()
        .map(|s| {
            let dt = DataType::from_str(&s.data_type).map_err(|_| {
                ApiError::invalid(
                    "settings.dataType",
                    format!("Unknown data type {}", s.data_type),
                )
            })?;
            if !(0..=MAX_SCHEDULE_HOURS).contains(&s.sync_schedule) {
                return Err(ApiError::invalid(
                    "settings.syncSchedule",
                    format!("syncSchedule must be 0 to {MAX_SCHEDULE_HOURS} hours"),
                ));
            }
            if let Some(from) = &s.sync_from_utc {
                if chrono::DateTime::parse_from_rfc3339(from).is_err() {
                    return Err(ApiError::invalid(
                        "settings.syncFromUtc",
                        "syncFromUtc must be an ISO 8601 date and time, e.g. 2024-01-01T00:00:00Z",
                    ));
                }
            }
            Ok(SyncSetting {
                data_type: dt.key().to_string(),
                fetch_on_first_link: s.fetch_on_first_link,
                sync_schedule: s.sync_schedule,
                sync_from_utc: s.sync_from_utc,
            })
        })
        .collect()
}

/// The profile.
#[utoipa::path(get, path = "/profile", tag = "Settings",
    responses((status = 200, body = ProfileView), (status = 401, body = ErrorMessage)))]
pub async fn get_profile(State(state): State<AppState>) -> ApiResult<Json<ProfileView>> {
    let p = state.store.get_profile().await?;
    Ok(Json(ProfileView {
        name: p.name,
        redirect_url: p.redirect_url,
    }))
}

/// Replaces the profile.
#[utoipa::path(put, path = "/profile", tag = "Settings", request_body = ProfileView,
    responses((status = 200, body = ProfileView), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 413, body = ErrorMessage),
              (status = 415, body = ErrorMessage)))]
pub async fn put_profile(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ProfileView>,
) -> ApiResult<Json<ProfileView>> {
    if body.name.trim().is_empty() || body.name.chars().count() > 200 {
        return Err(ApiError::invalid(
            "name",
            "name must have 1 to 200 characters",
        ));
    }
    if let Some(url) = &body.redirect_url {
        let ok = url.len() <= 2048
            && url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(ApiError::invalid(
                "redirectUrl",
                "redirectUrl must be an absolute http(s) URL of at most 2048 characters",
            ));
        }
    }
    let p = state
        .store
        .put_profile(
            body.name.trim(),
            body.redirect_url.as_deref(),
            state.clock.now(),
        )
        .await?;
    Ok(Json(ProfileView {
        name: p.name,
        redirect_url: p.redirect_url,
    }))
}

/// The profile's sync settings (every company's defaults).
#[utoipa::path(get, path = "/profile/syncSettings", tag = "Settings",
    responses((status = 200, body = SyncSettingsView), (status = 401, body = ErrorMessage)))]
pub async fn get_profile_settings(
    State(state): State<AppState>,
) -> ApiResult<Json<SyncSettingsView>> {
    let stored = state.store.get_sync_settings(PROFILE_SCOPE).await?;
    Ok(Json(SyncSettingsView {
        company_id: None,
        client_id: Some("prestalink".to_string()),
        overrides_defaults: false,
        settings: view(merged(defaults(), stored)),
    }))
}

/// Changes the profile's sync settings.
#[utoipa::path(post, path = "/profile/syncSettings", tag = "Settings", request_body = SyncSettingsRequest,
    responses((status = 204, description = "Saved"), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 413, body = ErrorMessage),
              (status = 415, body = ErrorMessage)))]
pub async fn set_profile_settings(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SyncSettingsRequest>,
) -> ApiResult<StatusCode> {
    let settings = parse(body)?;
    state
        .store
        .put_sync_settings(PROFILE_SCOPE, &settings)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A company's sync settings (its own where set, the profile's otherwise).
#[utoipa::path(get, path = "/companies/{companyId}/syncSettings", tag = "Settings",
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 200, body = SyncSettingsView), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn get_company_settings(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
) -> ApiResult<Json<SyncSettingsView>> {
    company_or_404(&state, &company_id).await?;
    let own = state.store.get_sync_settings(&company_id).await?;
    Ok(Json(SyncSettingsView {
        company_id: Some(company_id.clone()),
        client_id: None,
        overrides_defaults: !own.is_empty(),
        settings: view(effective(&state, &company_id).await?),
    }))
}

/// Changes a company's sync settings.
#[utoipa::path(post, path = "/companies/{companyId}/syncSettings", tag = "Settings",
    request_body = SyncSettingsRequest,
    params(("companyId" = String, Path, description = "Company id")),
    responses((status = 204, description = "Saved"), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage),
              (status = 413, body = ErrorMessage), (status = 415, body = ErrorMessage)))]
pub async fn set_company_settings(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    ApiJson(body): ApiJson<SyncSettingsRequest>,
) -> ApiResult<StatusCode> {
    company_or_404(&state, &company_id).await?;
    let settings = parse(body)?;
    state
        .store
        .put_sync_settings(&company_id, &settings)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
