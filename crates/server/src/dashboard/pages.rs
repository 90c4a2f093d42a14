//! The dashboard's pages and form posts: sign-in, companies with their connections and data
//! status (sync and unlink buttons go through the API's own handlers), a connection's
//! overview and its transactions (table and CSV).

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::CookieJar;
use maud::{html, Markup};
use prestalink_store::{Connection, ConnectionStatus};
use serde::Deserialize;

use super::overview::{self as overview_page, OverviewParams};
use super::session::{self, SESSION_COOKIE};
use super::text::{self, PagesText};
use crate::extract::ApiJson;
use crate::numbers::{NumberLocale, Numbers};
use crate::routes;
use crate::state::AppState;
use crate::web::csrf::CsrfToken;
use crate::web::i18n::Lang;
use crate::web::layout::{self, NavItem};
use crate::web::respond;

/// Where the dashboard starts (the sign-in form, or the companies when signed in).
pub const HOME: &str = "/dashboard";
pub(super) const COMPANIES: &str = "/dashboard/companies";

pub(super) fn locale(lang: Lang) -> NumberLocale {
    NumberLocale::from_code(lang.code())
}

pub(super) fn texts(lang: Lang) -> &'static PagesText {
    text::pages(locale(lang))
}

/// A request from a signed-in person: a valid session cookie whose API key is still active.
/// Other requests are sent to the sign-in form.
pub struct SignedIn;

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        let hash = jar
            .get(SESSION_COOKIE)
            .and_then(|c| session::verify(c.value(), state.clock.now()));
        match hash {
            Some(h) if state.store.api_key_hash_active(&h).await.unwrap_or(false) => Ok(SignedIn),
            _ => Err(Redirect::to(HOME).into_response()),
        }
    }
}

pub(super) fn nav<'a>(t: &'a PagesText, current: &str) -> Vec<NavItem<'a>> {
    vec![NavItem {
        href: COMPANIES,
        label: t.companies,
        current: current == COMPANIES,
    }]
}

/// The head of a connection's pages: the way back to the companies, the connection's pages
/// (the current one marked) and the sign-out button.
pub(super) fn page_head(
    t: &PagesText,
    csrf: &CsrfToken,
    connection_base: &str,
    current: &str,
    lang: Lang,
) -> Markup {
    let r = text::records(locale(lang));
    let pages = [
        ("overview", t.overview),
        ("transactions", t.transactions),
        ("orders", r.orders),
        ("customers", r.customers),
        ("progress", t.progress),
    ];
    html! {
        div class="page-head" {
            p class="breadcrumb" { a href=(COMPANIES) { (t.companies) } }
            (sign_out_form(t, csrf))
        }
        nav class="sub-nav" aria-label=(t.connection) {
            ul {
                @for (slug, label) in pages {
                    li { a href={ (connection_base) "/" (slug) } aria-current=[(slug == current).then_some("page")] { (label) } }
                }
            }
        }
    }
}

fn sign_out_form(t: &PagesText, csrf: &CsrfToken) -> Markup {
    html! {
        form class="sign-out" method="post" action="/dashboard/sign-out" {
            (csrf.field())
            button type="submit" class="link-button" { (t.sign_out) }
        }
    }
}

// ---- sign-in ----

/// `GET /dashboard`: the sign-in form, or the companies when already signed in.
pub async fn home(
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    jar: CookieJar,
) -> Response {
    let signed = match jar
        .get(SESSION_COOKIE)
        .and_then(|c| session::verify(c.value(), state.clock.now()))
    {
        Some(h) => state.store.api_key_hash_active(&h).await.unwrap_or(false),
        None => false,
    };
    if signed {
        return Redirect::to(COMPANIES).into_response();
    }
    sign_in_page(lang, &csrf, None, StatusCode::OK)
}

fn sign_in_page(lang: Lang, csrf: &CsrfToken, error: Option<&str>, status: StatusCode) -> Response {
    let t = texts(lang);
    let body = html! {
        h1 { (t.sign_in_title) }
        p { (t.sign_in_intro) }
        div aria-live="polite" {
            @if let Some(e) = error {
                div class="result result-error" role="alert" { p id="key-error" { (e) } }
            }
        }
        form method="post" action=(HOME) class="sign-in" {
            (csrf.field())
            div class="field" {
                label for="key" { (t.api_key) }
                p class="hint" id="key-hint" { (t.api_key_hint) }
                input type="password" id="key" name="key" required autocomplete="off"
                    spellcheck="false"
                    aria-describedby=(if error.is_some() { "key-hint key-error" } else { "key-hint" })
                    aria-invalid=[error.map(|_| "true")];
            }
            button type="submit" { (t.sign_in) }
        }
    };
    respond(status, layout::page(lang, t.sign_in_title, &[], body))
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    csrf: String,
    key: String,
}

/// `POST /dashboard`: checks the key; on success sets the session cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<SignInForm>,
) -> Response {
    if !csrf.matches(&form.csrf) {
        return crate::web::form_expired(lang);
    }
    let hash = session::key_hash(&form.key);
    match state.store.api_key_hash_active(&hash).await {
        Ok(true) => {
            let token = session::mint(&hash, state.clock.now());
            let cookie = format!(
                "{SESSION_COOKIE}={token}; Path={HOME}; Max-Age={}; HttpOnly; SameSite=Strict",
                session::LIFETIME.num_seconds()
            );
            let mut response = Redirect::to(COMPANIES).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok(false) => sign_in_page(
            lang,
            &csrf,
            Some(texts(lang).wrong_key),
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => crate::web::server_error(lang, e),
    }
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /dashboard/sign-out`: clears the session cookie.
pub async fn sign_out(
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf.matches(&form.csrf) {
        return crate::web::form_expired(lang);
    }
    let mut response = Redirect::to(HOME).into_response();
    let cookie = format!("{SESSION_COOKIE}=; Path={HOME}; Max-Age=0; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

// ---- companies ----

/// The companies page's query: a search and the outcome of the last action.
#[derive(Debug, Default, Deserialize)]
pub struct CompaniesParams {
    q: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

/// `GET /dashboard/companies`: companies (searchable by name), their connections, status and
/// data status, with sync and unlink buttons.
pub async fn companies(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Query(params): Query<CompaniesParams>,
) -> Response {
    match companies_body(&state, lang, &csrf, &params).await {
        Ok(body) => {
            let t = texts(lang);
            respond(
                StatusCode::OK,
                layout::page(lang, t.companies, &nav(t, COMPANIES), body),
            )
        }
        Err(e) => crate::web::server_error(lang, e),
    }
}

async fn companies_body(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    params: &CompaniesParams,
) -> anyhow::Result<Markup> {
    let t = texts(lang);
    let n = Numbers::new(locale(lang), None);
    let search = params.q.as_deref().unwrap_or("").trim().to_lowercase();
    let companies: Vec<_> = state
        .store
        .list_companies()
        .await?
        .into_iter()
        .filter(|c| search.is_empty() || c.name.to_lowercase().contains(&search))
        .collect();
    let mut sections = Vec::new();
    for company in &companies {
        let mut connections = Vec::new();
        for c in state.store.list_connections(Some(&company.id)).await? {
            connections.push(connection_block(state, t, &n, csrf, &company.id, &c).await?);
        }
        sections.push(html! {
            section class="company" aria-labelledby={ "company-" (company.id) } {
                h2 id={ "company-" (company.id) } { (company.name) }
                @for block in &connections { (block) }
            }
        });
    }
    Ok(html! {
        div class="page-head" {
            h1 { (t.companies) }
            (sign_out_form(t, csrf))
        }
        div aria-live="polite" {
            @if params.done.as_deref() == Some("sync") {
                div class="result result-success" role="status" { p { (t.sync_queued) } }
            }
            @if params.done.as_deref() == Some("unlink") {
                div class="result result-success" role="status" { p { (t.unlinked) } }
            }
            @if let Some(e) = &params.error {
                div class="result result-error" role="alert" { p { (t.action_failed) " " (e) } }
            }
        }
        form method="get" action=(COMPANIES) role="search" class="search" {
            label for="q" { (t.search_label) }
            input type="search" id="q" name="q" value=(params.q.as_deref().unwrap_or(""));
            button type="submit" { (t.search) }
        }
        @if companies.is_empty() {
            p { (t.no_companies) }
        }
        @for s in &sections { (s) }
    })
}

async fn connection_block(
    state: &AppState,
    t: &PagesText,
    n: &Numbers,
    csrf: &CsrfToken,
    company_id: &str,
    c: &Connection,
) -> anyhow::Result<Markup> {
    let base = format!("{COMPANIES}/{company_id}/connections/{}", c.id);
    let runs = state.store.data_status(&c.id).await?;
    let datasets = state.store.latest_datasets(&c.id).await?;
    let complete = state.store.latest_complete_datasets(&c.id).await?;
    let counts = state.store.count_records(&c.id).await?;
    let mut types: Vec<String> = runs
        .iter()
        .map(|r| r.data_type.clone())
        .chain(datasets.iter().map(|d| d.data_type.clone()))
        .collect();
    types.sort();
    types.dedup();
    let heading = format!("conn-{}", c.id);
    Ok(html! {
        article class="connection" aria-labelledby=(heading) {
            h3 id=(heading) {
                (t.connection) " " (c.store_url) " "
                span class={ "status status-" (c.status.as_str().to_lowercase()) } { (c.status.as_str()) }
            }
            @if let Some(reason) = &c.status_reason { p class="hint" { (reason) } }
            div class="actions" {
                a href={ (base) "/overview" } { (t.overview) }
                a href={ (base) "/transactions" } { (t.transactions) }
                a href={ (base) "/orders" } { (text::records(n.locale()).orders) }
                a href={ (base) "/customers" } { (text::records(n.locale()).customers) }
                a href={ (base) "/progress" } { (t.progress) }
                @if c.status == ConnectionStatus::Linked {
                    form method="post" action={ (base) "/sync" } {
                        (csrf.field())
                        button type="submit" { (t.queue_sync) }
                    }
                    form method="post" action={ (base) "/unlink" } {
                        (csrf.field())
                        button type="submit" class="danger" { (t.unlink) }
                    }
                }
            }
            table class="data" {
                thead { tr {
                    th scope="col" { (t.data_type) }
                    th scope="col" { (t.last_success) }
                    th scope="col" { (t.current_status) }
                    th scope="col" class="num" { (t.records) }
                    th scope="col" { (t.last_error) }
                } }
                tbody {
                    @for dt in &types {
                        @let latest = datasets.iter().find(|d| &d.data_type == dt);
                        @let run = runs.iter().find(|r| &r.data_type == dt);
                        @let good = complete.iter().find(|d| &d.data_type == dt).and_then(|d| d.completed.clone())
                            .or_else(|| run.and_then(|r| r.last_successful_sync.clone()));
                        @let count = counts.iter().find(|(k, _)| k == dt).map(|(_, v)| *v).unwrap_or(0);
                        tr {
                            th scope="row" { (dt) }
                            td { (good.unwrap_or_else(|| t.never.to_string())) }
                            td { (latest.map(|d| d.status.clone()).or_else(|| run.map(|r| format!("{:?}", r.current_status))).unwrap_or_default()) }
                            td class="num" { (n.count(count)) }
                            td { (latest.and_then(|d| d.error_message.clone()).or_else(|| run.and_then(|r| r.latest_error.clone())).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    })
}

/// `POST …/sync`: queues a sync of every data type of the company's linked connections,
/// through the API's own handler (`POST /companies/{companyId}/data/all`).
pub async fn queue_sync(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, _connection_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf.matches(&form.csrf) {
        return crate::web::form_expired(lang);
    }
    let outcome = routes::sync::all(State(state), Path(company_id)).await;
    after_action(outcome.map(|_| ()), "sync")
}

/// `POST …/unlink`: unlinks the connection through the API's own handler
/// (`PATCH /companies/{companyId}/connections/{connectionId}` with `status: Unlinked`).
pub async fn unlink(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !csrf.matches(&form.csrf) {
        return crate::web::form_expired(lang);
    }
    let body = routes::connections::ConnectionUpdate {
        status: Some("Unlinked".to_string()),
        webservice_key: None,
    };
    let outcome = routes::connections::update(
        State(state),
        Path((company_id, connection_id)),
        ApiJson(body),
    )
    .await;
    after_action(outcome.map(|_| ()), "unlink")
}

fn after_action(outcome: Result<(), crate::error::ApiError>, done: &str) -> Response {
    let query = match outcome {
        Ok(()) => format!("done={done}"),
        Err(e) => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("error", &e.message);
            form.finish()
        }
    };
    Redirect::to(&format!("{COMPANIES}?{query}")).into_response()
}

/// The company and connection of a page, or a 404 page.
pub(super) async fn connection_of(
    state: &AppState,
    lang: Lang,
    company_id: &str,
    connection_id: &str,
) -> Result<Connection, Response> {
    let found = state
        .store
        .list_connections(Some(company_id))
        .await
        .map_err(|e| crate::web::server_error(lang, e))?
        .into_iter()
        .find(|c| c.id == connection_id);
    found.ok_or_else(|| crate::web::not_found(lang, texts(lang).not_found))
}

// ---- overview ----

/// `GET …/overview`: the connection's commerce overview.
pub async fn overview(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id)): Path<(String, String)>,
    Query(params): Query<OverviewParams>,
) -> Response {
    if let Err(page) = connection_of(&state, lang, &company_id, &connection_id).await {
        return page;
    }
    let action = format!("{COMPANIES}/{company_id}/connections/{connection_id}/overview");
    match overview_page::load(
        &state.store,
        &connection_id,
        &params,
        locale(lang),
        state.clock.now(),
    )
    .await
    {
        Ok(view) => {
            let t = texts(lang);
            let title = text::overview(locale(lang)).title;
            let connection_base = format!("{COMPANIES}/{company_id}/connections/{connection_id}");
            let body = html! {
                (page_head(t, &csrf, &connection_base, "overview", lang))
                (overview_page::body(&view, &action, locale(lang)))
            };
            respond(StatusCode::OK, layout::page(lang, title, &nav(t, ""), body))
        }
        Err(e) => crate::web::server_error(lang, e),
    }
}
