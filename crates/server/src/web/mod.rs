//! The pages people use in a browser, served by the same process as the API: the Link page
//! (merchants connect their store) and the assets the pages share. Pages are HTML drawn with
//! `maud` (checked at compile time, every value escaped), in English and French, and work
//! without JavaScript. They are not API endpoints: they are not in `/openapi.json` and do not
//! take API keys.
//!
//! - [`layout::page`]: the shell (skip link, landmarks, language switch, stylesheet).
//! - [`i18n`]: the language of a request ([`i18n::Lang`] is an extractor) and the messages.
//! - [`assets`]: CSS (and any script) built into the binary, under content-hashed URLs.
//! - [`csrf`]: the token every form carries.
//! - [`respond`], [`not_found`], [`form_expired`], [`server_error`]: page answers.

pub mod assets;
pub mod csrf;
pub mod i18n;
pub mod layout;
pub mod link;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use crate::state::AppState;
use i18n::Lang;

/// What the pages keep between requests.
pub struct PageState {
    /// Signs the forms' CSRF tokens.
    pub csrf: csrf::CsrfSecret,
    /// Link attempts waiting for the merchant's confirmation.
    pub link_attempts: link::Attempts,
}

impl PageState {
    /// Fresh state with a random CSRF secret.
    pub fn new() -> PageState {
        PageState {
            csrf: csrf::CsrfSecret::random(),
            link_attempts: link::Attempts::default(),
        }
    }
}

impl Default for PageState {
    fn default() -> Self {
        PageState::new()
    }
}

/// The pages' routes. Routes added before the `route_layer` calls get a CSRF token and the
/// language cookie; assets are added after, so they stay cacheable and cookie-free.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/link/{companyId}", get(link::show).post(link::submit))
        .route(
            "/link/{companyId}/step",
            get(link::step_page).post(link::step),
        )
        .merge(crate::dashboard::router())
        .route_layer(from_fn_with_state(state, csrf::token_cookie))
        .route_layer(from_fn(remember_language))
        .route("/assets/{file}", get(assets::serve))
}

/// Middleware: `?lang=xx` also sets the `lang` cookie, so the choice holds on the next pages
/// and form posts.
async fn remember_language(request: Request, next: Next) -> Response {
    let chosen = request.uri().query().and_then(Lang::from_query);
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let cookie = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            i18n::LANG_COOKIE,
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A page answer: the HTML with headers that keep it out of caches and frames and allow
/// only this server's own styles and scripts.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A page with a heading and one paragraph.
fn message_page(lang: Lang, status: StatusCode, title: &str, text: &str) -> Response {
    let body = html! {
        h1 { (title) }
        div class="result result-error" role="alert" { p { (text) } }
    };
    respond(status, layout::page(lang, title, &[], body))
}

/// 404 page with a message.
pub fn not_found(lang: Lang, message: &str) -> Response {
    message_page(
        lang,
        StatusCode::NOT_FOUND,
        lang.t().common.not_found_title,
        message,
    )
}

/// 403 page for a form without a valid CSRF token.
pub fn form_expired(lang: Lang) -> Response {
    let t = &lang.t().common;
    message_page(
        lang,
        StatusCode::FORBIDDEN,
        t.form_expired_title,
        t.form_expired_body,
    )
}

/// 500 page; the error goes to the log, not to the page.
pub fn server_error(lang: Lang, error: impl std::fmt::Display) -> Response {
    tracing::error!(error = %error, "page failed");
    let t = &lang.t().common;
    message_page(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        t.server_error_title,
        t.server_error_body,
    )
}
