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
use super::transactions::{self, TransactionRow, TransactionsParams, PAGE_SIZE};
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
const COMPANIES: &str = "/dashboard/companies";

fn locale(lang: Lang) -> NumberLocale {
    NumberLocale::from_code(lang.code())
}

fn texts(lang: Lang) -> &'static PagesText {
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

fn nav<'a>(t: &'a PagesText, current: &str) -> Vec<NavItem<'a>> {
    vec![NavItem {
        href: COMPANIES,
        label: t.companies,
        current: current == COMPANIES,
    }]
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
async fn connection_of(
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
            let body = html! {
                div class="page-head" {
                    p class="breadcrumb" { a href=(COMPANIES) { (t.companies) } }
                    (sign_out_form(t, &csrf))
                }
                (overview_page::body(&view, &action, locale(lang)))
            };
            respond(StatusCode::OK, layout::page(lang, title, &nav(t, ""), body))
        }
        Err(e) => crate::web::server_error(lang, e),
    }
}

// ---- transactions ----

/// `GET …/transactions`: payments and refunds, filtered, sorted and paged; `format=csv`
/// downloads every row of the filter.
pub async fn transactions(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id)): Path<(String, String)>,
    Query(params): Query<TransactionsParams>,
) -> Response {
    if let Err(page) = connection_of(&state, lang, &company_id, &connection_id).await {
        return page;
    }
    if params.format.as_deref() == Some("csv") {
        return match transactions::csv(&state.store, &connection_id, &params).await {
            Ok(bytes) => (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"transactions-{connection_id}.csv\""),
                    ),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
    }
    let t = texts(lang);
    let basics = match state.store.shop_basics(&connection_id).await {
        Ok(b) => b,
        Err(e) => return crate::web::server_error(lang, e),
    };
    let n = Numbers::new(locale(lang), basics.currency.as_deref());
    let base = format!("{COMPANIES}/{company_id}/connections/{connection_id}/transactions");
    let (rows, total, error) = match params.api_query(params.page(), PAGE_SIZE) {
        Ok(q) => match state
            .store
            .query_records(&connection_id, "commerce-transactions", &q)
            .await
        {
            Ok(page) => (
                page.results
                    .iter()
                    .map(TransactionRow::of)
                    .collect::<Vec<_>>(),
                page.total_results,
                None,
            ),
            Err(e) => (Vec::new(), 0, Some(("query", e.to_string()))),
        },
        Err(e) => (Vec::new(), 0, Some((e.field, e.reason))),
    };
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let page = u64::from(params.page()).min(pages);
    let body = html! {
        div class="page-head" {
            p class="breadcrumb" { a href=(COMPANIES) { (t.companies) } }
            (sign_out_form(t, &csrf))
        }
        h1 { (t.transactions) @if let Some(name) = &basics.name { " · " (name) } }
        form method="get" action=(base) class="filters" {
            fieldset {
                legend { (t.filter) }
                (field("from", text::overview(locale(lang)).from, "date", params.from.as_deref(), &error))
                (field("to", text::overview(locale(lang)).to, "date", params.to.as_deref(), &error))
                div class="field" {
                    label for="type" { (t.kind) }
                    select id="type" name="type" {
                        option value="" { (t.all) }
                        option value="Payment" selected[params.kind.as_deref() == Some("Payment")] { (t.payment) }
                        option value="Refund" selected[params.kind.as_deref() == Some("Refund")] { (t.refund) }
                    }
                }
                (field("method", t.method, "text", params.method.as_deref(), &error))
                (field("query", t.query, "text", params.query.as_deref(), &error))
                p class="hint" id="query-hint" { (t.query_hint) }
                input type="hidden" name="sort" value=(params.sort());
                button type="submit" { (t.filter) }
            }
        }
        p aria-live="polite" { (t.results.replace("{count}", &n.count(total))) }
        p { a href={ (base) "?" (params.link(None, None, true)) } download { (t.download_csv) } }
        @if rows.is_empty() {
            p { (t.no_transactions) }
        } @else {
            table class="data" id="transactions" {
                thead { tr {
                    th scope="col" aria-sort=(sort_state(&params, "sourceCreatedDate")) {
                        a href={ (base) "?" (params.link(None, Some(toggle(&params, "sourceCreatedDate")), false)) } { (t.date) }
                    }
                    th scope="col" { (t.kind) }
                    th scope="col" class="num" aria-sort=(sort_state(&params, "totalAmount")) {
                        a href={ (base) "?" (params.link(None, Some(toggle(&params, "totalAmount")), false)) } { (t.amount) }
                    }
                    th scope="col" { (t.currency) }
                    th scope="col" { (t.method) }
                    th scope="col" { (t.order) }
                } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.date) }
                            td { (if r.kind == "Refund" { t.refund } else if r.kind == "Payment" { t.payment } else { r.kind.as_str() }) }
                            td class="num" { (n.number(r.amount, 2)) }
                            td { (r.currency) }
                            td { (r.method) }
                            td { (r.order) }
                        }
                    }
                }
            }
        }
        nav class="pager" aria-label=(t.page_of.replace("{page}", &page.to_string()).replace("{pages}", &pages.to_string())) {
            @if page > 1 {
                a rel="prev" href={ (base) "?" (params.link(Some(page as u32 - 1), None, false)) } { (t.previous) }
            }
            span { (t.page_of.replace("{page}", &page.to_string()).replace("{pages}", &pages.to_string())) }
            @if page < pages {
                a rel="next" href={ (base) "?" (params.link(Some(page as u32 + 1), None, false)) } { (t.next) }
            }
        }
    };
    respond(
        StatusCode::OK,
        layout::page(lang, t.transactions, &nav(t, ""), body),
    )
}

fn field(
    name: &str,
    label: &str,
    kind: &str,
    value: Option<&str>,
    error: &Option<(&str, String)>,
) -> Markup {
    let failed = error.as_ref().filter(|(f, _)| *f == name);
    let described = match (failed.is_some(), name == "query") {
        (true, true) => Some(format!("{name}-error query-hint")),
        (true, false) => Some(format!("{name}-error")),
        (false, true) => Some("query-hint".to_string()),
        (false, false) => None,
    };
    html! {
        div class="field" {
            label for=(name) { (label) }
            input type=(kind) id=(name) name=(name) value=(value.unwrap_or(""))
                aria-invalid=[failed.map(|_| "true")]
                aria-describedby=[described];
            @if let Some((_, reason)) = failed {
                p class="field-error" id={ (name) "-error" } { (reason) }
            }
        }
    }
}

fn sort_state(params: &TransactionsParams, field: &str) -> &'static str {
    let sort = params.sort();
    if sort == field {
        "ascending"
    } else if sort.strip_prefix('-') == Some(field) {
        "descending"
    } else {
        "none"
    }
}

fn toggle<'a>(params: &TransactionsParams, field: &'a str) -> &'a str {
    let descending = transactions::SORTS
        .iter()
        .find(|s| s.strip_prefix('-') == Some(field))
        .copied();
    if params.sort().strip_prefix('-') == Some(field) {
        transactions::SORTS
            .iter()
            .find(|s| **s == field)
            .copied()
            .unwrap_or(field)
    } else {
        descending.unwrap_or(field)
    }
}

// ---- sync progress ----

/// `GET …/progress`: the connection's latest sync, per data type: status, records read and
/// written, requests, rate, the pull operation's progress and an ETA from it; the pacer's
/// concurrency and page sizes as last saved. Without JavaScript a refresh link reloads it.
pub async fn progress(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id)): Path<(String, String)>,
) -> Response {
    let connection = match connection_of(&state, lang, &company_id, &connection_id).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let t = texts(lang);
    let n = Numbers::new(locale(lang), None);
    let (runs, datasets) = match tokio::try_join!(
        state.store.latest_sync_runs(&connection_id),
        state.store.latest_datasets(&connection_id)
    ) {
        Ok(found) => found,
        Err(e) => return crate::web::server_error(lang, e),
    };
    let pacer: prestalink_pacing::PacerSettings = connection
        .pacer_settings
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let now = state.clock.now();
    let seconds_between = |from: &str, to: Option<&str>| -> f64 {
        let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
        match (
            parse(from),
            to.map(parse).unwrap_or(Some(now.fixed_offset())),
        ) {
            (Some(a), Some(b)) => (b - a).num_milliseconds().max(0) as f64 / 1000.0,
            _ => 0.0,
        }
    };
    let base = format!("{COMPANIES}/{company_id}/connections/{connection_id}");
    let running = runs
        .iter()
        .any(|r| r.status == prestalink_store::SyncStatus::Running);
    let body = html! {
        div class="page-head" {
            p class="breadcrumb" { a href=(COMPANIES) { (t.companies) } }
            (sign_out_form(t, &csrf))
        }
        h1 { (t.progress) " · " (connection.store_url) }
        p {
            (if running { t.running } else { t.idle }) " "
            a href={ (base) "/progress" } id="refresh" { (t.refresh) }
        }
        dl class="kpis" {
            div class="kpi" { dt { (t.concurrency) } dd id="pacer-concurrency" { (if pacer.concurrency == 0 { "—".to_string() } else { n.count(pacer.concurrency as u64) }) } }
            div class="kpi" { dt { (t.page_size) } dd id="pacer-page-size" { (if pacer.full.page_size == 0 { "—".to_string() } else { n.count(pacer.full.page_size as u64) }) } }
        }
        table class="data" id="progress" {
            thead { tr {
                th scope="col" { (t.data_type) }
                th scope="col" { (t.status) }
                th scope="col" class="num" { (t.records_read) }
                th scope="col" class="num" { (t.records_written) }
                th scope="col" class="num" { (t.requests) }
                th scope="col" class="num" { (t.rate) }
                th scope="col" class="num" { (t.progress_percent) }
                th scope="col" class="num" { (t.eta) }
            } }
            tbody {
                @for r in &runs {
                    @let elapsed = seconds_between(&r.started_at, r.finished_at.as_deref());
                    @let rate = if elapsed > 0.0 { r.counts.records_read as f64 / elapsed } else { 0.0 };
                    @let dataset = datasets.iter().find(|d| d.data_type == r.data_type);
                    @let percent = dataset.map(|d| d.progress).unwrap_or(0);
                    @let eta = (r.status == prestalink_store::SyncStatus::Running && percent > 0 && percent < 100)
                        .then(|| elapsed * (100 - percent) as f64 / percent as f64);
                    tr {
                        th scope="row" { (r.data_type) }
                        td { (format!("{:?}", r.status)) }
                        td class="num" { (n.count(r.counts.records_read.max(0) as u64)) }
                        td class="num" { (n.count(r.counts.records_written.max(0) as u64)) }
                        td class="num" { (n.count(r.counts.requests.max(0) as u64)) }
                        td class="num" { (n.number(rate, 1)) }
                        td class="num" { (percent) " %" }
                        td class="num" { (eta.map(|s| format!("{} s", n.number(s, 0))).unwrap_or_else(|| "—".to_string())) }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        layout::page(lang, t.progress, &nav(t, ""), body),
    )
}
