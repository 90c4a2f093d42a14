//! `/webhooks`: create (the signing secret is shown in that answer only), list, read and
//! delete consumers, and list a consumer's deliveries with their outcome.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use prestalink_store::{WebhookAttempt, WebhookConsumer, WebhookDelivery, WEBHOOK_PENDING};
use prestalink_webservice::address_guard::{check_literal_host, forbidden_reason};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::signing::new_secret;
use super::EVENT_TYPES;
use crate::error::{ApiError, ApiResult, ErrorMessage};
use crate::extract::{ApiJson, ApiQuery, Paging};
use crate::links::{page_links, PageLinks};
use crate::state::AppState;

/// Most consumers a server keeps.
pub const MAX_CONSUMERS: u32 = 50;
/// Longest consumer URL.
pub const MAX_URL_LENGTH: usize = 2048;
/// Largest page of deliveries.
pub const MAX_DELIVERIES_PAGE: i64 = 1000;
/// How long resolving a consumer's host may take at creation.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// An event type a consumer can subscribe to (`*`: every one).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum WebhookEventType {
    /// A company was created.
    #[serde(rename = "company.created")]
    CompanyCreated,
    /// A company was deleted.
    #[serde(rename = "company.deleted")]
    CompanyDeleted,
    /// A connection's store was checked and can be read.
    #[serde(rename = "connection.connected")]
    ConnectionConnected,
    /// A connection's key stopped working (the connection is `Deauthorized`).
    #[serde(rename = "connection.failed")]
    ConnectionFailed,
    /// A connection was deleted.
    #[serde(rename = "connection.deleted")]
    ConnectionDeleted,
    /// A sync of a connection ended (every data type it read, with its outcome).
    #[serde(rename = "read.completed")]
    ReadCompleted,
    /// A sync that read data types for the first time ended (those data types).
    #[serde(rename = "read.completed.initial")]
    ReadCompletedInitial,
    /// Every event type.
    #[serde(rename = "*")]
    All,
}

/// A webhook consumer to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookConsumerRequest {
    /// Where events are POSTed: an absolute URL starting with `http://` or `https://`, of at
    /// most 2,048 characters.
    #[schema(
        max_length = 2048,
        pattern = "^https?://",
        example = "https://example.com/prestalink-events"
    )]
    pub url: String,
    /// The event types to receive (at least one; `*` for all).
    #[schema(value_type = Vec<WebhookEventType>, min_items = 1)]
    pub event_types: Vec<String>,
    /// Create it disabled (no events are queued for it); default `false`.
    pub disabled: Option<bool>,
}

/// A webhook consumer (Codat's `WebhookConsumer`); its secret is never shown again.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConsumerView {
    /// Consumer id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it receives.
    #[schema(value_type = Vec<WebhookEventType>)]
    pub event_types: Vec<String>,
    /// Whether events are no longer queued for it.
    pub disabled: bool,
    /// When it was created.
    pub created: String,
}

/// A consumer just created, with its signing secret (shown in this answer only; its `Debug`
/// output hides it).
#[derive(Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhookConsumer {
    /// Consumer id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it receives.
    #[schema(value_type = Vec<WebhookEventType>)]
    pub event_types: Vec<String>,
    /// Whether events are no longer queued for it.
    pub disabled: bool,
    /// When it was created.
    pub created: String,
    /// The Standard Webhooks signing secret (`whsec_` and the base64 of 32 random bytes).
    /// Keep it: it is not shown again.
    pub secret: String,
}

impl std::fmt::Debug for CreatedWebhookConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhookConsumer")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("disabled", &self.disabled)
            .field("created", &self.created)
            .field("secret", &"whsec_…")
            .finish()
    }
}

/// The consumers (at most 50).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookConsumerList {
    /// Every consumer, oldest first.
    pub results: Vec<WebhookConsumerView>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttemptView {
    /// When it started.
    pub at: String,
    /// The consumer's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

/// A delivery of one event to one consumer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryView {
    /// Delivery id.
    pub id: i64,
    /// The message id (the `webhook-id` header and the body's `id`), the same for every
    /// attempt and every consumer of the event.
    pub message_id: String,
    /// The event type.
    pub event_type: String,
    /// `pending` (to be tried again), `delivered` (the consumer answered 2xx) or `failed`
    /// (no retry left).
    #[schema(example = "delivered")]
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last attempt, if the consumer answered.
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<WebhookAttemptView>,
    /// The message sent (`{id, eventType, generatedDate, payload}`).
    #[schema(value_type = Object)]
    pub message: Value,
    /// When the event was queued.
    pub created: String,
    /// When it was delivered or given up.
    pub completed_at: Option<String>,
}

/// A page of deliveries in Codat's paging envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDeliveryPage {
    /// The deliveries, newest first.
    pub results: Vec<WebhookDeliveryView>,
    /// This page's number, from 1.
    pub page_number: u32,
    /// Deliveries per page.
    pub page_size: u32,
    /// Deliveries of the consumer.
    pub total_results: u64,
    /// Links to this page and its neighbours.
    #[serde(rename = "_links")]
    pub links: PageLinks,
}

/// Paging of the deliveries.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeliveryPaging {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 4294967295_i64)]
    pub page: Option<i64>,
    /// Deliveries per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub page_size: Option<i64>,
}

fn consumer_view(c: WebhookConsumer) -> WebhookConsumerView {
    WebhookConsumerView {
        id: c.id,
        url: c.url,
        event_types: c.event_types,
        disabled: c.disabled,
        created: c.created_at,
    }
}

fn attempt_view(a: WebhookAttempt) -> WebhookAttemptView {
    WebhookAttemptView {
        at: a.at,
        status_code: a.status_code,
        error: a.error,
        duration_ms: a.duration_ms,
    }
}

fn delivery_view(d: WebhookDelivery) -> WebhookDeliveryView {
    let pending = d.status == WEBHOOK_PENDING;
    WebhookDeliveryView {
        id: d.id,
        message_id: d.message_id,
        event_type: d.event_type,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: pending.then_some(d.next_attempt_at),
        last_status_code: d.last_status_code,
        last_error: d.last_error,
        attempt_log: d.attempt_log.into_iter().map(attempt_view).collect(),
        message: serde_json::from_str(&d.payload).unwrap_or(Value::Null),
        created: d.created_at,
        completed_at: d.completed_at,
    }
}

/// The event types, checked: known names or `*`, at least one, no duplicates kept; what is
/// wrong with them otherwise.
fn check_event_types(types: &[String]) -> Result<Vec<String>, String> {
    if types.is_empty() {
        return Err(format!(
            "eventTypes must name at least one of {}, or *",
            EVENT_TYPES.join(", ")
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for t in types {
        if t != "*" && !EVENT_TYPES.contains(&t.as_str()) {
            let shown: String = t.chars().take(100).collect();
            return Err(format!(
                "'{shown}' is not an event type; use {} or *",
                EVENT_TYPES.join(", ")
            ));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

/// The URL, checked: absolute http(s), at most 2,048 characters, and (unless the server
/// allows private webhooks) not on a loopback, private or link-local address; what is wrong
/// with it otherwise.
async fn check_url(state: &AppState, text: &str) -> Result<url::Url, String> {
    if text.chars().count() > MAX_URL_LENGTH {
        return Err(format!("url must have at most {MAX_URL_LENGTH} characters"));
    }
    if !(text.starts_with("http://") || text.starts_with("https://")) {
        return Err("url must be an absolute URL starting with http:// or https://".to_string());
    }
    let url = url::Url::parse(text)
        .map_err(|e| format!("url must be an absolute http or https URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().unwrap_or_default().is_empty() {
        return Err("url must be an absolute http or https URL with a host".to_string());
    }
    if state.config.allow_private_webhooks {
        return Ok(url);
    }
    let private = |detail: String| {
        format!(
            "{detail}: webhooks may not be sent to loopback, private or link-local addresses \
             (a server for local tests can allow them)"
        )
    };
    if let Err(e) = check_literal_host(&url) {
        return Err(private(format!("{} is a {} address", e.address, e.reason)));
    }
    if let Some(url::Host::Domain(host)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        // A name that does not resolve now is accepted: every delivery resolves it again and
        // connects to its public addresses only.
        let resolved =
            tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port))).await;
        if let Ok(Ok(addresses)) = resolved {
            let addresses: Vec<IpAddr> = addresses.map(|a| a.ip()).collect();
            if let Some(first) = addresses.first() {
                if addresses.iter().all(|ip| forbidden_reason(*ip).is_some()) {
                    let reason = forbidden_reason(*first).unwrap_or("private");
                    return Err(private(format!("{host} resolves to {first} ({reason})")));
                }
            }
        }
    }
    Ok(url)
}

/// The consumer, or 404.
async fn consumer_or_404(state: &AppState, id: &str) -> ApiResult<WebhookConsumer> {
    state
        .store
        .get_webhook_consumer(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Webhook consumer {id} not found")))
}

/// Creates a webhook consumer. The answer holds its signing secret, which is not shown again.
#[utoipa::path(post, path = "/webhooks", tag = "Webhooks", request_body = WebhookConsumerRequest,
    responses((status = 201, body = CreatedWebhookConsumer), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage),
              (status = 409, description = "50 consumers exist already", body = ErrorMessage),
              (status = 413, body = ErrorMessage), (status = 415, body = ErrorMessage)))]
pub async fn create_consumer(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<WebhookConsumerRequest>,
) -> ApiResult<Response> {
    let event_types =
        check_event_types(&body.event_types).map_err(|m| ApiError::invalid("eventTypes", m))?;
    let url = check_url(&state, &body.url)
        .await
        .map_err(|m| ApiError::invalid("url", m))?;
    let secret = new_secret();
    let created = state
        .store
        .create_webhook_consumer(
            url.as_str(),
            &event_types,
            &secret,
            body.disabled.unwrap_or(false),
            MAX_CONSUMERS,
            state.clock.now(),
        )
        .await?;
    let Some(c) = created else {
        return Err(ApiError::conflict(format!(
            "There are {MAX_CONSUMERS} webhook consumers already, the most a server keeps; \
             delete one first"
        )));
    };
    tracing::info!(consumer = %c.id, "webhook consumer created");
    let body = CreatedWebhookConsumer {
        id: c.id,
        url: c.url,
        event_types: c.event_types,
        disabled: c.disabled,
        created: c.created_at,
        secret,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Lists the webhook consumers (at most 50, so in one answer).
#[utoipa::path(get, path = "/webhooks", tag = "Webhooks",
    responses((status = 200, body = WebhookConsumerList), (status = 401, body = ErrorMessage)))]
pub async fn list_consumers(State(state): State<AppState>) -> ApiResult<Json<WebhookConsumerList>> {
    let results = state
        .store
        .list_webhook_consumers()
        .await?
        .into_iter()
        .map(consumer_view)
        .collect();
    Ok(Json(WebhookConsumerList { results }))
}

/// One webhook consumer (without its secret).
#[utoipa::path(get, path = "/webhooks/{webhookId}", tag = "Webhooks",
    params(("webhookId" = String, Path, description = "Webhook consumer id")),
    responses((status = 200, body = WebhookConsumerView), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn get_consumer(
    State(state): State<AppState>,
    Path(webhook_id): Path<String>,
) -> ApiResult<Json<WebhookConsumerView>> {
    Ok(Json(consumer_view(
        consumer_or_404(&state, &webhook_id).await?,
    )))
}

/// Deletes a webhook consumer with its deliveries (pending ones are not sent).
#[utoipa::path(delete, path = "/webhooks/{webhookId}", tag = "Webhooks",
    params(("webhookId" = String, Path, description = "Webhook consumer id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorMessage),
              (status = 404, body = ErrorMessage)))]
pub async fn delete_consumer(
    State(state): State<AppState>,
    Path(webhook_id): Path<String>,
) -> ApiResult<StatusCode> {
    if !state.store.delete_webhook_consumer(&webhook_id).await? {
        return Err(ApiError::not_found(format!(
            "Webhook consumer {webhook_id} not found"
        )));
    }
    tracing::info!(consumer = %webhook_id, "webhook consumer deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A consumer's deliveries, newest first, with every attempt and its outcome.
#[utoipa::path(get, path = "/webhooks/{webhookId}/deliveries", tag = "Webhooks",
    params(("webhookId" = String, Path, description = "Webhook consumer id"), DeliveryPaging),
    responses((status = 200, body = WebhookDeliveryPage), (status = 400, body = ErrorMessage),
              (status = 401, body = ErrorMessage), (status = 404, body = ErrorMessage)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Path(webhook_id): Path<String>,
    ApiQuery(paging): ApiQuery<DeliveryPaging>,
) -> ApiResult<Json<WebhookDeliveryPage>> {
    let page = paging.page.unwrap_or(1);
    if page < 1 || page > i64::from(u32::MAX) {
        return Err(ApiError::invalid("page", "page must be 1 or more"));
    }
    let page_size = paging.page_size.unwrap_or(100);
    if !(1..=MAX_DELIVERIES_PAGE).contains(&page_size) {
        return Err(ApiError::invalid(
            "pageSize",
            format!("pageSize must be between 1 and {MAX_DELIVERIES_PAGE}"),
        ));
    }
    let (page, page_size) = (page as u32, page_size as u32);
    consumer_or_404(&state, &webhook_id).await?;
    let (deliveries, total) = state
        .store
        .webhook_deliveries_page(&webhook_id, page, page_size)
        .await?;
    let has_next = u64::from(page) * u64::from(page_size) < total;
    let path = format!("/webhooks/{webhook_id}/deliveries");
    let links = page_links(&path, &Paging::default(), page, page_size, has_next);
    Ok(Json(WebhookDeliveryPage {
        results: deliveries.into_iter().map(delivery_view).collect(),
        page_number: page,
        page_size,
        total_results: total,
        links,
    }))
}
