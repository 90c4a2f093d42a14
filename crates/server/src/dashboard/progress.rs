//! The sync progress page: what the engine reports while this server runs a connection's
//! sync (records per resource and data type, rate, ETA, requests, retries, the pacer's
//! concurrency and page sizes, from [`super::live`]), then the stored runs per data type.
//!
//! The live part (`#live`) is also served alone (`?part=live`); a small built-in script
//! (`progress.js`) fetches it every two seconds and swaps it in, so the figures move without
//! reloading the page. Without JavaScript the refresh link reloads the page.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup, PreEscaped};
use prestalink_pacing::ResourceClass;
use prestalink_store::{Connection, Dataset, SyncRun, SyncStatus};
use serde::Deserialize;

use super::live::LiveSync;
use super::pages::{connection_of, locale, nav, page_head, texts, SignedIn, COMPANIES};
use super::text::{self, PagesText, RecordsText};
use crate::numbers::Numbers;
use crate::state::AppState;
use crate::web::csrf::CsrfToken;
use crate::web::i18n::Lang;
use crate::web::{assets, layout, respond};

/// The page's query: `part=live` for the live part alone.
#[derive(Debug, Default, Deserialize)]
pub struct ProgressParams {
    part: Option<String>,
}

/// `GET …/progress`: the connection's latest sync, live while this server runs it.
pub async fn progress(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id)): Path<(String, String)>,
    Query(params): Query<ProgressParams>,
) -> Response {
    let connection = match connection_of(&state, lang, &company_id, &connection_id).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let (runs, datasets) = match tokio::try_join!(
        state.store.latest_sync_runs(&connection_id),
        state.store.latest_datasets(&connection_id)
    ) {
        Ok(found) => found,
        Err(e) => return crate::web::server_error(lang, e),
    };
    let live = state.live.get(&connection_id);
    let base = format!("{COMPANIES}/{company_id}/connections/{connection_id}");
    let part = live_part(
        &state,
        lang,
        &base,
        &connection,
        live.as_ref(),
        &runs,
        &datasets,
    );
    if params.part.as_deref() == Some("live") {
        return respond(StatusCode::OK, part);
    }
    let t = texts(lang);
    let r = text::records(locale(lang));
    let body = html! {
        (page_head(t, &csrf, &base, "progress", lang))
        h1 { (t.progress) " · " (connection.store_url) }
        p class="hint" { (r.live_note) " " a href={ (base) "/progress" } id="refresh" { (t.refresh) } }
        (part)
        script src=(assets::url("progress.js")) defer {}
    };
    respond(
        StatusCode::OK,
        layout::page(lang, t.progress, &nav(t, ""), body),
    )
}

fn live_part(
    state: &AppState,
    lang: Lang,
    base: &str,
    connection: &Connection,
    live: Option<&LiveSync>,
    runs: &[SyncRun],
    datasets: &[Dataset],
) -> Markup {
    let t = texts(lang);
    let r = text::records(locale(lang));
    let n = Numbers::new(locale(lang), None);
    let running = live.is_some_and(|l| l.finished.is_none())
        || runs.iter().any(|r| r.status == SyncStatus::Running);
    html! {
        div id="live" data-src={ (base) "/progress?part=live" } data-running=(running) {
            p id="sync-state" role="status" { (if running { t.running } else { t.idle }) }
            @match live {
                Some(l) => (live_figures(t, r, &n, l)),
                None => {
                    p { (r.live_none) }
                    (saved_pacer(t, &n, connection))
                }
            }
            h2 id="stored-heading" { (r.stored_heading) }
            (stored_runs(state, t, &n, runs, datasets))
        }
    }
}

fn live_figures(t: &PagesText, r: &RecordsText, n: &Numbers, l: &LiveSync) -> Markup {
    let page = |class| -> String {
        l.pacer
            .as_ref()
            .map(|p| n.count(p.class(class).page_size as u64))
            .unwrap_or_else(|| "—".to_string())
    };
    let figure = |value: Option<u64>| value.map_or_else(|| "—".to_string(), |v| n.count(v));
    let pacer = l.pacer.as_ref();
    let seconds = |s: f64| r.seconds.replace("{n}", &n.number(s, 0));
    html! {
        h2 id="live-heading" { (r.live_heading) }
        p {
            (r.started) " " (l.started.format("%Y-%m-%d %H:%M:%S UTC"))
            @if l.finished.is_some() { " · " (r.live_finished) }
        }
        dl class="kpis" id="pacer" {
            div class="kpi" { dt { (t.concurrency) } dd id="pacer-concurrency" { (figure(pacer.map(|p| p.limit as u64))) } }
            div class="kpi" { dt { (r.in_flight) } dd id="pacer-in-flight" { (figure(pacer.map(|p| p.in_flight as u64))) } }
            div class="kpi" { dt { (r.page_size_ids) } dd id="page-size-ids" { (page(ResourceClass::IdList)) } }
            div class="kpi" { dt { (r.page_size_records) } dd id="page-size-records" { (page(ResourceClass::Full)) } }
            div class="kpi" { dt { (r.page_size_heavy) } dd id="page-size-heavy" { (page(ResourceClass::Heavy)) } }
            div class="kpi" { dt { (r.retries) } dd id="retries" { (n.count(l.retries)) } }
            div class="kpi" { dt { (r.backpressure) } dd id="backpressure" { (figure(pacer.map(|p| p.backpressure))) } }
        }
        div class="table-scroll" tabindex="0" role="region" aria-labelledby="live-heading" {
            table class="data" id="live-steps" {
                thead { tr {
                    th scope="col" { (r.step) }
                    th scope="col" { (t.status) }
                    th scope="col" class="num" { (t.records) }
                    th scope="col" class="num" { (r.expected) }
                    th scope="col" class="num" { (t.requests) }
                    th scope="col" class="num" { (t.rate) }
                    th scope="col" class="num" { (t.eta) }
                } }
                tbody {
                    @for s in &l.stages {
                        tr data-step={ (if s.read { "read-" } else { "map-" }) (s.name) } {
                            th scope="row" { (if s.read { r.reading } else { r.mapping }.replace("{name}", &s.name)) }
                            td { (if s.error.is_some() { r.failed } else if s.finished { r.done } else { r.in_progress }) }
                            td class="num records" { (n.count(s.records)) }
                            td class="num" { (figure(s.total)) }
                            td class="num" { (n.count(s.requests)) }
                            td class="num" { (n.number(s.rate, 1)) }
                            td class="num" { (s.eta_seconds.filter(|_| !s.finished).map(seconds).unwrap_or_else(|| "—".to_string())) }
                        }
                    }
                }
            }
        }
    }
}

/// The pacer's settings as the last sync saved them (when no sync ran in this process).
fn saved_pacer(t: &PagesText, n: &Numbers, connection: &Connection) -> Markup {
    let pacer: prestalink_pacing::PacerSettings = connection
        .pacer_settings
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let shown = |v: usize| {
        if v == 0 {
            "—".to_string()
        } else {
            n.count(v as u64)
        }
    };
    html! {
        dl class="kpis" {
            div class="kpi" { dt { (t.concurrency) } dd id="pacer-concurrency" { (shown(pacer.concurrency)) } }
            div class="kpi" { dt { (t.page_size) } dd id="pacer-page-size" { (shown(pacer.full.page_size)) } }
        }
    }
}

fn stored_runs(
    state: &AppState,
    t: &PagesText,
    n: &Numbers,
    runs: &[SyncRun],
    datasets: &[Dataset],
) -> Markup {
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
    html! {
        div class="table-scroll" tabindex="0" role="region" aria-labelledby="stored-heading" {
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
                    @for r in runs {
                        @let elapsed = seconds_between(&r.started_at, r.finished_at.as_deref());
                        @let rate = if elapsed > 0.0 { r.counts.records_read as f64 / elapsed } else { 0.0 };
                        @let dataset = datasets.iter().find(|d| d.data_type == r.data_type);
                        @let percent = dataset.map(|d| d.progress).unwrap_or(0);
                        @let eta = (r.status == SyncStatus::Running && percent > 0 && percent < 100)
                            .then(|| elapsed * (100 - percent) as f64 / percent as f64);
                        tr {
                            th scope="row" { (r.data_type) }
                            td { (format!("{:?}", r.status)) }
                            td class="num" { (n.count(r.counts.records_read.max(0) as u64)) }
                            td class="num" { (n.count(r.counts.records_written.max(0) as u64)) }
                            td class="num" { (n.count(r.counts.requests.max(0) as u64)) }
                            td class="num" { (n.number(rate, 1)) }
                            td class="num" { (percent) (PreEscaped("&nbsp;")) "%" }
                            td class="num" { (eta.map(|s| format!("{} s", n.number(s, 0))).unwrap_or_else(|| "—".to_string())) }
                        }
                    }
                }
            }
        }
    }
}
