//! API keys: every endpoint but `/healthz` needs one, sent as Codat clients send it
//! (`Authorization: Basic <base64 of the key>`) or as `Authorization: Bearer <key>`. Keys are
//! compared by their SHA-256 hashes in constant time; a wrong key is a 401 that does not say
//! whether such a key exists.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Paths that answer without a key.
fn is_public(path: &str) -> bool {
    path == "/healthz"
}

/// The key in an `Authorization` header, if it has one of the accepted forms.
fn presented_key(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        // Some HTTP clients send Basic credentials as `user:password`: take the key from
        // either side of an empty one.
        let key = match text.split_once(':') {
            Some((k, "")) | Some(("", k)) => k.to_string(),
            _ => text,
        };
        return Some(key);
    }
    None
}

fn unauthorized() -> Response {
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "Unauthorized: send a valid API key as 'Authorization: Basic <base64 of the key>' or \
         'Authorization: Bearer <key>' (create one with 'prestalink api-key create')",
    )
    .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Basic realm=\"prestalink\", Bearer"),
    );
    response
}

/// Whether `digest` is one of `hashes`, compared with every one in constant time.
fn matches_any(hashes: &[[u8; 32]], digest: &[u8; 32]) -> bool {
    let mut matched = subtle::Choice::from(0u8);
    for hash in hashes {
        matched |= hash.ct_eq(digest);
    }
    bool::from(matched)
}

/// Middleware: lets the request through only with an active API key.
pub async fn require_api_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_public(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(key) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(presented_key)
    else {
        return unauthorized();
    };
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    let hashes = match state.api_key_hashes(false).await {
        Ok(h) => h,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let mut found = matches_any(&hashes, &digest);
    if !found {
        // A key created since the list was read: one indexed look-up of its hash, and the
        // list is read again when it is there.
        match state.store.api_key_hash_active(&hex::encode(digest)).await {
            Ok(true) => {
                found = true;
                let _ = state.api_key_hashes(true).await;
            }
            Ok(false) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if found {
        next.run(request).await
    } else {
        unauthorized()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_basic_and_bearer() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("plk_abc");
        assert_eq!(
            presented_key(&format!("Basic {b64}")).as_deref(),
            Some("plk_abc")
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode("plk_abc:");
        assert_eq!(
            presented_key(&format!("basic {b64}")).as_deref(),
            Some("plk_abc")
        );
        assert_eq!(presented_key("Bearer plk_abc").as_deref(), Some("plk_abc"));
        assert_eq!(presented_key("Basic %%%"), None);
        assert_eq!(presented_key("Token plk_abc"), None);
    }
}
