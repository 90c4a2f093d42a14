//! Extractors whose rejections answer in Codat's error envelope (bad JSON, a body too large,
//! a malformed query string), and the paging parameters every list endpoint takes.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use prestalink_store::query::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

/// Longest `query` or `orderBy` accepted.
pub const MAX_QUERY_LENGTH: usize = 2048;

/// A JSON body; rejections become 400 (bad JSON), 413 (too large) or 415 (not JSON).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The request body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large())
            }
            Err(rejection) => {
                return Err(ApiError::bad_request(format!(
                    "The request body cannot be read: {}",
                    rejection.body_text()
                )))
            }
        };
        // Every body is an object: serde would otherwise build a struct from an array.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Err(ApiError::invalid(
                "body",
                "The request body must be a JSON object",
            ));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json` or any `application/…+json`, parameters (charset) allowed.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "The request body is larger than {} bytes",
            crate::MAX_BODY_BYTES
        ),
    )
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let text = rejection.body_text();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The request body must be JSON, sent with Content-Type: application/json",
        ),
        JsonRejection::JsonDataError(_) => ApiError::invalid("body", text),
        JsonRejection::JsonSyntaxError(_) => ApiError::invalid(
            "body",
            format!("The request body is not valid JSON: {text}"),
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => ApiError::bad_request(format!("The request body cannot be read: {text}")),
    }
}

/// Query-string parameters; a malformed one is a 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::invalid(
                "query string",
                format!("Invalid query string: {}", e.body_text()),
            )),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// Paging, filtering and ordering of a list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Records per page, 1 to 5000 (default 100).
    #[param(minimum = 1, maximum = 5000)]
    pub page_size: Option<i64>,
    /// A filter in Codat's query language, e.g. `totalAmount>100&&status=Paid`.
    #[param(max_length = 2048)]
    pub query: Option<String>,
    /// Field to order by, `-field` for descending.
    #[param(max_length = 2048)]
    pub order_by: Option<String>,
}

impl Paging {
    /// The store's query, with the limits checked.
    pub fn to_query(&self) -> Result<prestalink_store::Query, ApiError> {
        let page = self.page.unwrap_or(1);
        if page < 1 || page > i64::from(u32::MAX) {
            return Err(ApiError::invalid("page", "page must be 1 or more"));
        }
        let page_size = self.page_size.unwrap_or(i64::from(DEFAULT_PAGE_SIZE));
        if page_size < 1 || page_size > i64::from(MAX_PAGE_SIZE) {
            return Err(ApiError::invalid(
                "pageSize",
                format!("pageSize must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        for (name, value) in [("query", &self.query), ("orderBy", &self.order_by)] {
            if value.as_ref().is_some_and(|v| v.len() > MAX_QUERY_LENGTH) {
                return Err(ApiError::invalid(
                    name,
                    format!("{name} is longer than {MAX_QUERY_LENGTH} characters"),
                ));
            }
        }
        Ok(prestalink_store::Query {
            page: page as u32,
            page_size: page_size as u32,
            order_by: self.order_by.clone(),
            query: self.query.clone(),
            include_deleted: false,
        })
    }
}
