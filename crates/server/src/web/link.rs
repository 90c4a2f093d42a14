//! The Link page, `/link/{companyId}`: the address the API gives a client for each company
//! (`redirect`). The merchant learns how to create a Webservice key, enters the store's
//! address and the key, and the page runs the same diagnosis as `POST …/connections`
//! (same private-address guard), then shows the outcome in the merchant's words: connected
//! (with warnings and their fixes), a redirect to confirm, missing permissions to accept,
//! or a failure with its fix. Plain form posts: it works without JavaScript.
//!
//! The key is never written back into a page. Between two steps (a redirect to confirm,
//! missing permissions to accept) it waits in memory under a random attempt id for at most
//! 15 minutes, and is used once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{html, Markup};
use prestalink_store::{Company, ConnectionStatus};
use prestalink_webservice::diagnose::{
    diagnose, Diagnosis, DiagnosisCode, WarningCode, DATA_TYPE_SOURCES,
};
use rand::RngCore;
use serde::Deserialize;

use super::csrf::CsrfToken;
use super::i18n::{data_type_label, diagnosis_text, fill, warning_text, Lang};
use super::layout::page;
use super::{form_expired, not_found, respond, server_error};
use crate::routes::connections::{diagnose_options, link_checked, MAX_FIELD};
use crate::state::AppState;

/// How long a step between two form posts waits for the merchant.
const ATTEMPT_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Most attempts kept at once (the oldest go first beyond it).
const MAX_ATTEMPTS: usize = 10_000;

/// What a pending attempt waits for.
enum Stage {
    /// The store redirects: confirm to connect where it redirects.
    Redirect,
    /// The store can be read but not everything: accept to link with what there is.
    MissingPermissions(Box<Diagnosis>),
}

/// A link attempt between two posts.
struct Attempt {
    company_id: String,
    store_url: String,
    key: String,
    stage: Stage,
    created: Instant,
}

/// Link attempts waiting for a confirmation, by random id.
#[derive(Default)]
pub struct Attempts(Mutex<HashMap<String, Attempt>>);

impl Attempts {
    fn put(&self, attempt: Attempt) -> String {
        let mut id = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut id);
        let id = hex::encode(id);
        let mut map = self.0.lock().expect("lock");
        map.retain(|_, a| a.created.elapsed() < ATTEMPT_LIFETIME);
        if map.len() >= MAX_ATTEMPTS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, a)| a.created)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(id.clone(), attempt);
        id
    }

    /// Takes (and so ends) an attempt of this company that has not expired.
    fn take(&self, id: &str, company_id: &str) -> Option<Attempt> {
        let mut map = self.0.lock().expect("lock");
        let attempt = map.remove(id)?;
        if attempt.company_id != company_id || attempt.created.elapsed() >= ATTEMPT_LIFETIME {
            return None;
        }
        Some(attempt)
    }
}

/// The form: the store's address and the key.
#[derive(Debug, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    store_url: String,
    #[serde(default)]
    webservice_key: String,
}

/// An answer to a step: `confirm` / `cancel` for a redirect, `continue` / `back` for
/// missing permissions.
#[derive(Debug, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    attempt: String,
    #[serde(default)]
    choice: String,
}

/// Which field a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    StoreUrl,
    Key,
}

/// What the form shows above its fields.
enum Notice {
    /// Nothing.
    None,
    /// Fields left empty (or too long).
    Invalid(Vec<Field>),
    /// A diagnosis that did not connect.
    Failed(Box<Diagnosis>),
    /// A plain message (a cancelled redirect, an expired step).
    Info(&'static str),
}

/// Everything the Link page needs to be drawn.
struct Context<'a> {
    lang: Lang,
    company: &'a Company,
    client: String,
    csrf: &'a CsrfToken,
    linked_store: Option<String>,
}

async fn context<'a>(
    state: &AppState,
    lang: Lang,
    company: &'a Company,
    csrf: &'a CsrfToken,
) -> Result<Context<'a>, Response> {
    let profile = state
        .store
        .get_profile()
        .await
        .map_err(|e| server_error(lang, e))?;
    let client = if profile.name.trim().is_empty() {
        lang.t().link.default_client.to_string()
    } else {
        profile.name
    };
    let linked_store = state
        .store
        .list_connections(Some(&company.id))
        .await
        .map_err(|e| server_error(lang, e))?
        .into_iter()
        .find(|c| c.status == ConnectionStatus::Linked)
        .map(|c| c.store_url);
    Ok(Context {
        lang,
        company,
        client,
        csrf,
        linked_store,
    })
}

async fn company(state: &AppState, lang: Lang, company_id: &str) -> Result<Company, Response> {
    match state.store.get_company(company_id).await {
        Ok(Some(company)) => Ok(company),
        Ok(None) => Err(not_found(lang, lang.t().common.company_not_found)),
        Err(e) => Err(server_error(lang, e)),
    }
}

/// `GET /link/{companyId}`: the guidance and the form.
pub async fn show(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
) -> Result<Response, Response> {
    let company = company(&state, lang, &company_id).await?;
    let cx = context(&state, lang, &company, &csrf).await?;
    Ok(respond(StatusCode::OK, link_page(&cx, "", Notice::None)))
}

/// `POST /link/{companyId}`: checks the store and links it, or says why not.
pub async fn submit(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<LinkForm>,
) -> Result<Response, Response> {
    let company = company(&state, lang, &company_id).await?;
    if !csrf.matches(&form.csrf) {
        return Err(form_expired(lang));
    }
    let cx = context(&state, lang, &company, &csrf).await?;
    let url = form.store_url.trim();
    let key = form.webservice_key.trim();
    let mut invalid = Vec::new();
    if url.is_empty() || url.len() > MAX_FIELD {
        invalid.push(Field::StoreUrl);
    }
    if key.is_empty() || key.len() > MAX_FIELD {
        invalid.push(Field::Key);
    }
    if !invalid.is_empty() {
        let shown = if url.len() > MAX_FIELD { "" } else { url };
        return Ok(respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            link_page(&cx, shown, Notice::Invalid(invalid)),
        ));
    }
    let diagnosis = diagnose(url, key, &diagnose_options(&state, false)).await;
    outcome(&state, &cx, url, key, diagnosis).await
}

/// `POST /link/{companyId}/step`: the merchant's answer to a redirect or to missing
/// permissions.
pub async fn step(
    State(state): State<AppState>,
    Path(company_id): Path<String>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<StepForm>,
) -> Result<Response, Response> {
    let company = company(&state, lang, &company_id).await?;
    if !csrf.matches(&form.csrf) {
        return Err(form_expired(lang));
    }
    let cx = context(&state, lang, &company, &csrf).await?;
    let t = &lang.t().link;
    let Some(attempt) = state.pages.link_attempts.take(&form.attempt, &company.id) else {
        return Ok(respond(
            StatusCode::CONFLICT,
            link_page(&cx, "", Notice::Info(t.expired)),
        ));
    };
    match (attempt.stage, form.choice.as_str()) {
        (Stage::Redirect, "confirm") => {
            let diagnosis = diagnose(
                &attempt.store_url,
                &attempt.key,
                &diagnose_options(&state, true),
            )
            .await;
            outcome(&state, &cx, &attempt.store_url, &attempt.key, diagnosis).await
        }
        (Stage::Redirect, _) => Ok(respond(
            StatusCode::OK,
            link_page(&cx, &attempt.store_url, Notice::Info(t.redirect_cancelled)),
        )),
        (Stage::MissingPermissions(diagnosis), "continue") => {
            linked(&state, &cx, &attempt.store_url, &attempt.key, &diagnosis).await
        }
        (Stage::MissingPermissions(_), _) => Ok(respond(
            StatusCode::OK,
            link_page(&cx, &attempt.store_url, Notice::None),
        )),
    }
}

/// `GET /link/{companyId}/step` (the language switch or a reload on a step's page): back to
/// the form, with the query (`?lang=`) kept. A step cannot be shown again: its attempt is
/// used by the answer.
pub async fn step_page(Path(company_id): Path<String>, uri: axum::http::Uri) -> Response {
    let company: String = url::form_urlencoded::byte_serialize(company_id.as_bytes()).collect();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/link/{company}{query}"))],
    )
        .into_response()
}

/// What follows a diagnosis: a step to confirm, the form with the failure, or the link.
async fn outcome(
    state: &AppState,
    cx: &Context<'_>,
    url: &str,
    key: &str,
    diagnosis: Diagnosis,
) -> Result<Response, Response> {
    if !diagnosis.ok {
        if let (DiagnosisCode::RedirectNeedsConfirmation, Some(redirect)) =
            (diagnosis.code, &diagnosis.redirect)
        {
            let to = redirect.to.clone();
            let attempt = state.pages.link_attempts.put(Attempt {
                company_id: cx.company.id.clone(),
                store_url: url.to_string(),
                key: key.to_string(),
                stage: Stage::Redirect,
                created: Instant::now(),
            });
            return Ok(respond(StatusCode::OK, redirect_page(cx, &attempt, &to)));
        }
        let shown = diagnosis
            .redirect
            .as_ref()
            .map_or(url.to_string(), |r| r.to.clone());
        return Ok(respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            link_page(cx, &shown, Notice::Failed(Box::new(diagnosis))),
        ));
    }
    if !diagnosis.missing_permissions.is_empty() {
        let store_url = diagnosis
            .store_url
            .clone()
            .unwrap_or_else(|| url.to_string());
        let body = missing_page(cx, &diagnosis);
        let attempt = state.pages.link_attempts.put(Attempt {
            company_id: cx.company.id.clone(),
            store_url,
            key: key.to_string(),
            stage: Stage::MissingPermissions(Box::new(diagnosis)),
            created: Instant::now(),
        });
        return Ok(respond(StatusCode::OK, body(&attempt)));
    }
    linked(state, cx, url, key, &diagnosis).await
}

/// Links the checked store; then sends the merchant to the client's redirect URL, or shows
/// "You are connected" (always, when there are warnings to read first).
async fn linked(
    state: &AppState,
    cx: &Context<'_>,
    url: &str,
    key: &str,
    diagnosis: &Diagnosis,
) -> Result<Response, Response> {
    let (connection, _) = link_checked(state, cx.company, url, key, diagnosis)
        .await
        .map_err(|e| server_error(cx.lang, e.message))?;
    let profile = state
        .store
        .get_profile()
        .await
        .map_err(|e| server_error(cx.lang, e))?;
    let next = profile
        .redirect_url
        .as_deref()
        .and_then(|template| client_redirect(template, &cx.company.id, &connection.id));
    let warnings: Vec<_> = diagnosis
        .warnings
        .iter()
        .filter(|w| w.code != WarningCode::MissingPermissions)
        .collect();
    if let (Some(next), true) = (&next, warnings.is_empty()) {
        return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, next.clone())]).into_response());
    }
    Ok(respond(
        StatusCode::OK,
        connected_page(cx, &connection.store_url, diagnosis, next.as_deref()),
    ))
}

/// The client's redirect URL for a new connection: `{companyId}` and `{connectionId}` are
/// replaced; when the template has neither, they are added as query parameters; and
/// `statusCode=200` is added.
pub fn client_redirect(template: &str, company_id: &str, connection_id: &str) -> Option<String> {
    let placeholders = template.contains("{companyId}") || template.contains("{connectionId}");
    let filled = template
        .replace("{companyId}", company_id)
        .replace("{connectionId}", connection_id);
    let mut url = url::Url::parse(&filled).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    {
        let mut query = url.query_pairs_mut();
        if !placeholders {
            query.append_pair("companyId", company_id);
            query.append_pair("connectionId", connection_id);
        }
        query.append_pair("statusCode", "200");
    }
    Some(url.to_string())
}

fn host_of(diagnosis: &Diagnosis, given: &str) -> String {
    diagnosis
        .store_url
        .as_deref()
        .unwrap_or(given)
        .parse::<url::Url>()
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| given.to_string())
}

/// The field a failed diagnosis is about, for `aria-describedby` and `aria-invalid`.
fn field_of(code: DiagnosisCode) -> Option<Field> {
    use DiagnosisCode as C;
    match code {
        C::InvalidKeyFormat | C::InvalidKey | C::NoPermission => Some(Field::Key),
        C::WebserviceDisabled | C::Connected => None,
        _ => Some(Field::StoreUrl),
    }
}

/// The Link page: guidance, then the form with its notice.
fn link_page(cx: &Context, store_url: &str, notice: Notice) -> Markup {
    let t = &cx.lang.t().link;
    let common = &cx.lang.t().common;
    let client = cx.client.as_str();
    let action = format!("/link/{}", cx.company.id);
    let (invalid, failed_field) = match &notice {
        Notice::Invalid(fields) => (fields.clone(), None),
        Notice::Failed(d) => (Vec::new(), field_of(d.code)),
        _ => (Vec::new(), None),
    };
    let describe = |field: Field, hint: &str, error: &str| {
        let mut ids = vec![hint.to_string()];
        if invalid.contains(&field) {
            ids.push(error.to_string());
        }
        if failed_field == Some(field) {
            ids.push("link-result".to_string());
        }
        ids.join(" ")
    };
    let url_invalid = invalid.contains(&Field::StoreUrl) || failed_field == Some(Field::StoreUrl);
    let key_invalid = invalid.contains(&Field::Key) || failed_field == Some(Field::Key);
    let body = html! {
        h1 { (t.title) }
        p class="lead" { (fill(t.intro, &[("client", client)])) }
        @if let Some(store) = &cx.linked_store {
            p class="notice" { (fill(t.already_linked, &[("store", store)])) }
        }
        div class="columns" {
            section class="guide" aria-labelledby="steps-heading" {
                h2 id="steps-heading" { (t.steps_heading) }
                ol class="steps" {
                    @for step in &t.steps {
                        li { (fill(step, &[("client", client)])) }
                    }
                }
                h3 id="resources-heading" { (t.resources_heading) }
                p { (t.resources_intro) }
                table class="resources" aria-labelledby="resources-heading" {
                    thead { tr { th scope="col" { (t.col_data) } th scope="col" { (t.col_resources) } } }
                    tbody {
                        @for (data_type, resources) in DATA_TYPE_SOURCES {
                            tr {
                                th scope="row" { (data_type_label(cx.lang, data_type)) }
                                td {
                                    @for (i, resource) in resources.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        code { (resource) }
                                    }
                                }
                            }
                        }
                    }
                }
                h3 { (t.key_use_heading) }
                p { (t.key_use_body) }
                h3 { (t.revoke_heading) }
                p { (t.revoke_body) }
            }
            section class="card form-card" aria-labelledby="form-heading" {
                h2 id="form-heading" { (t.form_heading) }
                div id="link-result" class="result-region" aria-live="polite" {
                    (notice_block(cx, store_url, &notice))
                }
                form method="post" action=(action) class="link-form" {
                    (cx.csrf.field())
                    div class="field" {
                        label for="store_url" { (t.store_url_label) " " span class="req" { "(" (common.required) ")" } }
                        p class="hint" id="store_url-hint" { (t.store_url_hint) }
                        @if invalid.contains(&Field::StoreUrl) {
                            p class="field-error" id="store_url-error" { (t.store_url_missing) }
                        }
                        input id="store_url" name="store_url" type="text" inputmode="url"
                            autocomplete="url" spellcheck="false" required
                            value=(store_url)
                            aria-invalid=[url_invalid.then_some("true")]
                            aria-describedby=(describe(Field::StoreUrl, "store_url-hint", "store_url-error"));
                    }
                    div class="field" {
                        label for="webservice_key" { (t.key_label) " " span class="req" { "(" (common.required) ")" } }
                        p class="hint" id="webservice_key-hint" { (t.key_hint) }
                        @if invalid.contains(&Field::Key) {
                            p class="field-error" id="webservice_key-error" { (t.key_missing) }
                        }
                        input id="webservice_key" name="webservice_key" type="password"
                            autocomplete="off" spellcheck="false" autocapitalize="off" required
                            aria-invalid=[key_invalid.then_some("true")]
                            aria-describedby=(describe(Field::Key, "webservice_key-hint", "webservice_key-error"));
                    }
                    button type="submit" class="button primary" { (t.submit) }
                }
            }
        }
    };
    page(cx.lang, t.title, &[], body)
}

/// The block above the form: a failure with its diagnosis and fix, or a message.
fn notice_block(cx: &Context, given_url: &str, notice: &Notice) -> Markup {
    let t = &cx.lang.t().link;
    match notice {
        Notice::None => html! {},
        Notice::Invalid(_) => html! {},
        Notice::Info(text) => {
            html! { div class="result result-info" role="status" { p { (text) } } }
        }
        Notice::Failed(diagnosis) => {
            let (heading, message, fix) = diagnosis_text(cx.lang, diagnosis.code);
            let host = host_of(diagnosis, given_url);
            let english = cx.lang == Lang::En;
            html! {
                div class="result result-error" role="alert" data-code=(diagnosis.code.as_str()) {
                    p class="kicker" { (t.failed_heading) }
                    h3 { (heading) }
                    @if english {
                        p { (diagnosis.message) }
                        @if let Some(fix) = &diagnosis.fix {
                            p { strong { (t.what_to_do) } " " (fix) }
                        }
                    } @else {
                        p { (fill(message, &[("host", &host)])) }
                        p { strong { (t.what_to_do) } " " (fill(fix, &[("host", &host)])) }
                        details {
                            summary { (t.details) }
                            p lang="en" { (diagnosis.message) }
                            @if let Some(fix) = &diagnosis.fix { p lang="en" { (fix) } }
                        }
                    }
                    p class="code" { "Code: " code { (diagnosis.code.as_str()) } }
                }
            }
        }
    }
}

/// "Your store address redirects to …. Connect to that address instead?"
fn redirect_page(cx: &Context, attempt: &str, to: &str) -> Markup {
    let t = &cx.lang.t().link;
    let action = format!("/link/{}/step", cx.company.id);
    let body = html! {
        h1 { (t.title) }
        section class="card narrow" aria-labelledby="redirect-heading" {
            h2 id="redirect-heading" { (t.redirect_heading) }
            div id="link-result" class="result result-question" role="status" aria-live="polite" {
                p { (fill(t.redirect_question, &[("to", to)])) }
            }
            form method="post" action=(action) class="actions" {
                (cx.csrf.field())
                input type="hidden" name="attempt" value=(attempt);
                button type="submit" name="choice" value="confirm" class="button primary" { (t.confirm) }
                button type="submit" name="choice" value="cancel" class="button" { (t.cancel) }
            }
        }
    };
    page(cx.lang, t.redirect_heading, &[], body)
}

/// Missing permissions: what will be missing, and "continue anyway". A closure so that the
/// page is drawn before the diagnosis moves into the attempt.
fn missing_page(cx: &Context, diagnosis: &Diagnosis) -> impl FnOnce(&str) -> Markup {
    let t = &cx.lang.t().link;
    let lang = cx.lang;
    let action = format!("/link/{}/step", cx.company.id);
    let csrf = cx.csrf.field();
    let rows: Vec<(String, Vec<&'static str>)> = diagnosis
        .missing_permissions
        .iter()
        .map(|m| {
            (
                m.resource.clone(),
                m.data_types
                    .iter()
                    .map(|d| data_type_label(lang, d))
                    .collect(),
            )
        })
        .collect();
    let warnings = warnings_block(lang, diagnosis);
    move |attempt: &str| {
        let body = html! {
            h1 { (t.title) }
            section class="card narrow" aria-labelledby="missing-heading" {
                h2 id="missing-heading" { (t.missing_heading) }
                div id="link-result" class="result result-warning" role="status" aria-live="polite" {
                    p { (t.missing_intro) }
                    table class="resources" aria-labelledby="missing-heading" {
                        thead { tr { th scope="col" { (t.col_resource) } th scope="col" { (t.col_missing_data) } } }
                        tbody {
                            @for (resource, data) in &rows {
                                tr { th scope="row" { code { (resource) } } td { (data.join(", ")) } }
                            }
                        }
                    }
                    p { (t.missing_fix) }
                }
                (warnings)
                form method="post" action=(action) class="actions" {
                    (csrf)
                    input type="hidden" name="attempt" value=(attempt);
                    button type="submit" name="choice" value="continue" class="button primary" { (t.continue_anyway) }
                    button type="submit" name="choice" value="back" class="button" { (t.fix_key_first) }
                }
            }
        };
        page(lang, t.missing_heading, &[], body)
    }
}

/// The warnings of a readable store (missing permissions apart), each with its fix.
fn warnings_block(lang: Lang, diagnosis: &Diagnosis) -> Markup {
    let t = &lang.t().link;
    let warnings: Vec<_> = diagnosis
        .warnings
        .iter()
        .filter(|w| w.code != WarningCode::MissingPermissions)
        .collect();
    html! {
        @if !warnings.is_empty() {
            section class="warnings" aria-labelledby="warnings-heading" {
                h2 id="warnings-heading" { (t.warnings_heading) }
                ul {
                    @for warning in warnings {
                        @let (heading, message, fix) = warning_text(lang, warning.code);
                        li class="warning" data-code=(serde_json::to_value(warning.code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) {
                            strong { (heading) }
                            @if lang == Lang::En {
                                p { (warning.message) }
                                p { strong { (t.what_to_do) } " " (warning.fix) }
                            } @else {
                                p { (message) }
                                p { strong { (t.what_to_do) } " " (fix) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "You are connected", with the warnings and, when the client has one, the way back.
fn connected_page(cx: &Context, store: &str, diagnosis: &Diagnosis, next: Option<&str>) -> Markup {
    let t = &cx.lang.t().link;
    let body = html! {
        h1 { (t.connected_heading) }
        section class="card narrow" {
            div id="link-result" class="result result-success" role="status" aria-live="polite" {
                p { (fill(t.connected_body, &[("store", store)])) }
            }
            (warnings_block(cx.lang, diagnosis))
            @if let Some(next) = next {
                p { a class="button primary" href=(next) { (fill(t.continue_to, &[("client", &cx.client)])) } }
            }
        }
    };
    page(cx.lang, t.connected_heading, &[], body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_redirect_carries_the_ids() {
        assert_eq!(
            client_redirect("https://app.example/done", "c1", "k2").as_deref(),
            Some("https://app.example/done?companyId=c1&connectionId=k2&statusCode=200")
        );
        assert_eq!(
            client_redirect("https://app.example/c/{companyId}?x=1", "c1", "k2").as_deref(),
            Some("https://app.example/c/c1?x=1&statusCode=200")
        );
        assert_eq!(client_redirect("javascript:alert(1)", "c", "k"), None);
    }

    #[test]
    fn attempts_are_used_once_and_by_their_company() {
        let attempts = Attempts::default();
        let attempt = || Attempt {
            company_id: "c1".into(),
            store_url: "https://shop.example".into(),
            key: "K".into(),
            stage: Stage::Redirect,
            created: Instant::now(),
        };
        let id = attempts.put(attempt());
        assert!(attempts.take(&id, "c2").is_none());
        let id = attempts.put(attempt());
        assert!(attempts.take(&id, "c1").is_some());
        assert!(attempts.take(&id, "c1").is_none());
    }
}
