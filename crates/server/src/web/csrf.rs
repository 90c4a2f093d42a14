//! Protection of the pages' forms against cross-site request forgery: a signed double-submit
//! token. Every page response carries a `plk_csrf` cookie (HttpOnly, SameSite=Strict) holding
//! a random nonce and its HMAC-SHA256 under a per-process secret; forms repeat the token in
//! a hidden field, and a POST is accepted only when the field equals a cookie this server
//! signed. Another site can neither read the cookie nor plant one that verifies.
//!
//! Use: a GET handler takes `Extension<CsrfToken>` and puts [`CsrfToken::field`] in its form;
//! the POST handler takes the same extension and calls [`CsrfToken::matches`] with the
//! submitted `csrf` field, answering [`super::form_expired`] when it does not match.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use maud::{html, Markup};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// The cookie that holds the token.
pub const CSRF_COOKIE: &str = "plk_csrf";
/// The form field that repeats it.
pub const CSRF_FIELD: &str = "csrf";

/// The secret tokens are signed with: random, per process.
pub struct CsrfSecret([u8; 32]);

impl CsrfSecret {
    /// A fresh random secret.
    pub fn random() -> CsrfSecret {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        CsrfSecret(secret)
    }

    fn mac(&self, nonce: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"prestalink csrf v1|");
        mac.update(nonce);
        mac.finalize().into_bytes().into()
    }

    /// A new token: `nonce.signature`, both base64url.
    pub fn mint(&self) -> String {
        let mut nonce = [0u8; 18];
        rand::thread_rng().fill_bytes(&mut nonce);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}", b64.encode(nonce), b64.encode(self.mac(&nonce)))
    }

    /// Whether `token` was signed with this secret.
    pub fn verifies(&self, token: &str) -> bool {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let Some((nonce, signature)) = token.split_once('.') else {
            return false;
        };
        let (Ok(nonce), Ok(signature)) = (b64.decode(nonce), b64.decode(signature)) else {
            return false;
        };
        bool::from(self.mac(&nonce).as_slice().ct_eq(&signature))
    }
}

/// The request's verified token (from its cookie, or minted for it), for forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(String);

impl CsrfToken {
    /// The token.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// The hidden form field that repeats the token.
    pub fn field(&self) -> Markup {
        html! { input type="hidden" name=(CSRF_FIELD) value=(self.0); }
    }

    /// Whether a submitted form field carries this request's token (compared in constant
    /// time). A request that came without a valid cookie got a fresh token, which no form
    /// can carry yet: it never matches.
    pub fn matches(&self, submitted: &str) -> bool {
        !submitted.is_empty() && bool::from(self.0.as_bytes().ct_eq(submitted.as_bytes()))
    }
}

/// Middleware of the pages: gives every request a [`CsrfToken`] (its cookie's, when this
/// server signed it; a new one otherwise, set as a cookie on the response).
pub async fn token_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let secret = &state.pages.csrf;
    let jar = CookieJar::from_headers(request.headers());
    let existing = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|t| secret.verifies(t));
    let (token, fresh) = match existing {
        Some(token) => (token, false),
        None => (secret.mint(), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    if fresh {
        let cookie = Cookie::build((CSRF_COOKIE, token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_signed_by_this_secret_verify() {
        let secret = CsrfSecret::random();
        let token = secret.mint();
        assert!(secret.verifies(&token));
        assert!(!CsrfSecret::random().verifies(&token));
        let (nonce, _) = token.split_once('.').unwrap();
        assert!(!secret.verifies(&format!("{nonce}.AAAA")));
        assert!(!secret.verifies("garbage"));
        assert!(!secret.verifies(""));
    }

    #[test]
    fn a_form_must_repeat_the_token() {
        let token = CsrfToken(CsrfSecret::random().mint());
        assert!(token.matches(&token.0.clone()));
        assert!(!token.matches(""));
        assert!(!token.matches("x"));
    }
}
