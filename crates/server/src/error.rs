//! Errors of the API in Codat's envelope: `{statusCode, service, error, correlationId,
//! validation, canBeRetried, detailedErrorCode}` on every answer that is not 2xx.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use prestalink_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// One validation problem of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationItem {
    /// The field or parameter concerned.
    pub item_id: String,
    /// What is wrong with it.
    pub message: String,
    /// Always `validation`.
    pub validator_name: String,
}

/// Validation details of a 400/422 answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Validation {
    /// Errors.
    pub errors: Vec<ValidationItem>,
    /// Warnings.
    pub warnings: Vec<ValidationItem>,
}

/// Codat's error envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorMessage {
    /// The HTTP status code.
    pub status_code: u16,
    /// Always `PublicApi`.
    pub service: String,
    /// What went wrong and, where it helps, what to do.
    pub error: String,
    /// Identifies this answer in the server's log.
    pub correlation_id: String,
    /// Field-level problems, for invalid requests.
    pub validation: Option<Validation>,
    /// Whether sending the same request again may succeed.
    pub can_be_retried: String,
    /// A stable code for the failure, where one exists.
    pub detailed_error_code: u32,
}

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The message.
    pub message: String,
    /// Field-level problems.
    pub validation: Vec<ValidationItem>,
    /// Stable code (0 when none).
    pub detailed_code: u32,
    /// Extra fields merged into the envelope (e.g. a diagnosis or a redirect).
    pub extra: Option<Box<serde_json::Value>>,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            validation: Vec::new(),
            detailed_code: 0,
            extra: None,
        }
    }

    /// 400 with a message naming the problem.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 400 naming the parameter or field at fault.
    pub fn invalid(item: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        let mut e = ApiError::bad_request(message.clone());
        e.validation.push(ValidationItem {
            item_id: item.to_string(),
            message,
            validator_name: "validation".to_string(),
        });
        e
    }

    /// 404 for a missing thing.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 409.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    /// Adds fields to the envelope.
    pub fn with_extra(mut self, extra: serde_json::Value) -> ApiError {
        self.extra = Some(Box::new(extra));
        self
    }

    /// Sets the detailed error code.
    pub fn with_code(mut self, code: u32) -> ApiError {
        self.detailed_code = code;
        self
    }

    fn can_be_retried(&self) -> &'static str {
        match self.status.as_u16() {
            429 | 500..=599 => "Unknown",
            409 => "Unknown",
            _ => "False",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let correlation_id = crate::random_id();
        if self.status.is_server_error() {
            tracing::error!(%correlation_id, status = self.status.as_u16(), error = %self.message, "request failed");
        }
        let envelope = ErrorMessage {
            status_code: self.status.as_u16(),
            service: "PublicApi".to_string(),
            error: self.message.clone(),
            correlation_id,
            can_be_retried: self.can_be_retried().to_string(),
            detailed_error_code: self.detailed_code,
            validation: (!self.validation.is_empty()).then(|| Validation {
                errors: self.validation.clone(),
                warnings: Vec::new(),
            }),
        };
        let mut body = serde_json::to_value(&envelope).unwrap_or_default();
        if let (Some(serde_json::Value::Object(extra)), serde_json::Value::Object(map)) =
            (self.extra.map(|e| *e), &mut body)
        {
            for (k, v) in extra {
                map.entry(k).or_insert(v);
            }
        }
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Query(q) => ApiError::invalid("query", q.to_string()),
            StoreError::Paging(p) => ApiError::invalid("pageSize", p),
            StoreError::InvalidField(f) => {
                ApiError::invalid("query", format!("'{f}' is not a field name"))
            }
            StoreError::InvalidPeriod(p) => ApiError::invalid("period", p),
            StoreError::NotFound { what, id } => {
                ApiError::not_found(format!("{what} {id} not found"))
            }
            // A company or connection deleted by another request while this one ran.
            StoreError::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                ApiError::not_found("The company or connection no longer exists")
            }
            StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                ApiError::conflict(
                    "Another request changed the same resource at the same time; try again",
                )
            }
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The database failed to answer; try again later",
                )
            }
        }
    }
}

/// Result alias of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
