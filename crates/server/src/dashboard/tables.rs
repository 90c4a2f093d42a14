//! The pages of the record tables (transactions, orders, customers): one form, one table,
//! one pager and one CSV link, drawn the same way for each from [`super::table`]'s
//! parameters and [`super::rows`]' rows; each table only says its columns and cells.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono_tz::Tz;
use maud::{html, Markup};

use super::pages::{connection_of, locale, nav, page_head, texts, SignedIn, COMPANIES};
use super::rows::{CustomerRow, OrderRow, TransactionRow};
use super::table::{
    self, local_time, Filter, FilterError, TableParams, TableRow, TableSpec, CUSTOMERS, ORDERS,
    PAGE_SIZE, TRANSACTIONS,
};
use super::text::{self, PagesText, RecordsText};
use crate::numbers::Numbers;
use crate::state::AppState;
use crate::web::csrf::CsrfToken;
use crate::web::i18n::Lang;
use crate::web::layout;
use crate::web::respond;

/// A column of a table.
pub struct Column {
    /// Its heading.
    pub label: &'static str,
    /// The field a click on the heading sorts by.
    pub sort: Option<&'static str>,
    /// Right-aligned figures.
    pub numeric: bool,
}

fn col(label: &'static str) -> Column {
    Column {
        label,
        sort: None,
        numeric: false,
    }
}

/// The words that differ between tables.
pub struct TableWords {
    /// The page's title.
    pub title: &'static str,
    /// Shown when no row matches.
    pub empty: &'static str,
    /// `{count} orders`.
    pub results: &'static str,
    /// Examples of the query language for this table.
    pub query_hint: &'static str,
}

/// What a cell needs: where the connection's pages are, how to write numbers and dates.
pub struct Cells<'a> {
    /// `/dashboard/companies/{c}/connections/{k}`.
    pub base: &'a str,
    /// Numbers in the page's language.
    pub n: &'a Numbers,
    /// The pages' words.
    pub t: &'a PagesText,
    /// The records' words.
    pub r: &'a RecordsText,
    /// The shop's time zone.
    pub tz: Option<Tz>,
}

/// A row the table pages can draw.
pub trait Rendered: TableRow {
    /// What the table reads and how it is filtered and sorted.
    const SPEC: &'static TableSpec;
    /// The words of the table's page.
    fn words(lang: Lang) -> TableWords;
    /// The table's columns.
    fn columns(t: &'static PagesText, r: &'static RecordsText) -> Vec<Column>;
    /// The row's cells, one per column.
    fn cells(&self, cx: &Cells<'_>) -> Vec<Markup>;
}

/// The link to an order's page.
pub fn order_href(base: &str, order_id: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect();
    format!("{base}/orders/{id}")
}

/// The link to the order (or orders) with a reference.
pub fn reference_href(base: &str, reference: &str) -> String {
    let r: String = url::form_urlencoded::byte_serialize(reference.as_bytes()).collect();
    format!("{base}/orders/reference/{r}")
}

impl Rendered for TransactionRow {
    const SPEC: &'static TableSpec = &TRANSACTIONS;

    fn words(lang: Lang) -> TableWords {
        let t = texts(lang);
        TableWords {
            title: t.transactions,
            empty: t.no_transactions,
            results: t.results,
            query_hint: t.query_hint,
        }
    }

    fn columns(t: &'static PagesText, _: &'static RecordsText) -> Vec<Column> {
        vec![
            Column {
                sort: Some("sourceCreatedDate"),
                ..col(t.date)
            },
            col(t.kind),
            Column {
                sort: Some("totalAmount"),
                numeric: true,
                ..col(t.amount)
            },
            col(t.currency),
            col(t.method),
            col(t.order),
        ]
    }

    fn cells(&self, cx: &Cells<'_>) -> Vec<Markup> {
        let kind = match self.kind.as_str() {
            "Refund" => cx.t.refund,
            "Payment" => cx.t.payment,
            other => other,
        };
        let order_link = match (&self.order_id, self.order.is_empty()) {
            (Some(id), _) => Some(order_href(cx.base, id)),
            (None, false) => Some(reference_href(cx.base, &self.order)),
            (None, true) => None,
        };
        vec![
            html! { (local_time(&self.date, cx.tz)) },
            html! { (kind) },
            html! { (cx.n.number(self.amount, 2)) },
            html! { (self.currency) },
            html! { (self.method) },
            html! {
                @if let Some(href) = order_link { a href=(href) { (self.order) } } @else { (self.order) }
            },
        ]
    }
}

impl Rendered for OrderRow {
    const SPEC: &'static TableSpec = &ORDERS;

    fn words(lang: Lang) -> TableWords {
        let r = text::records(locale(lang));
        TableWords {
            title: r.orders,
            empty: r.no_orders,
            results: r.order_results,
            query_hint: r.order_query_hint,
        }
    }

    fn columns(t: &'static PagesText, r: &'static RecordsText) -> Vec<Column> {
        vec![
            Column {
                sort: Some("createdDate"),
                ..col(r.placed)
            },
            Column {
                sort: Some("orderNumber"),
                ..col(r.number)
            },
            col(r.customer),
            col(r.country),
            col(r.state),
            Column {
                sort: Some("totalAmount"),
                numeric: true,
                ..col(r.total)
            },
            Column {
                numeric: true,
                ..col(r.refunded)
            },
            col(t.currency),
            Column {
                numeric: true,
                ..col(r.lines)
            },
        ]
    }

    fn cells(&self, cx: &Cells<'_>) -> Vec<Markup> {
        let number = if self.number.is_empty() {
            &self.id
        } else {
            &self.number
        };
        vec![
            html! { (local_time(&self.date, cx.tz)) },
            html! { a href=(order_href(cx.base, &self.id)) { (number) } },
            html! { (self.customer) },
            html! { (self.country) },
            html! { (self.state) },
            html! { (cx.n.number(self.total, 2)) },
            html! { (cx.n.number(self.refunded, 2)) },
            html! { (self.currency) },
            html! { (cx.n.count(self.lines as u64)) },
        ]
    }
}

impl Rendered for CustomerRow {
    const SPEC: &'static TableSpec = &CUSTOMERS;

    fn words(lang: Lang) -> TableWords {
        let r = text::records(locale(lang));
        TableWords {
            title: r.customers,
            empty: r.no_customers,
            results: r.customer_results,
            query_hint: r.customer_query_hint,
        }
    }

    fn columns(_: &'static PagesText, r: &'static RecordsText) -> Vec<Column> {
        vec![
            Column {
                sort: Some("customerName"),
                ..col(r.name)
            },
            Column {
                sort: Some("emailAddress"),
                ..col(r.email)
            },
            col(r.phone),
            col(r.city),
            col(r.guest),
            Column {
                sort: Some("createdDate"),
                ..col(r.created)
            },
            col(r.orders),
        ]
    }

    fn cells(&self, cx: &Cells<'_>) -> Vec<Markup> {
        let query = format!("customerRef.id=\"{}\"", self.id.replace('"', ""));
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("query", &query);
        let orders = format!("{}/orders?{}", cx.base, form.finish());
        vec![
            html! { (self.name) },
            html! { (self.email) },
            html! { (self.phone) },
            html! { (self.city) },
            html! { (if self.guest { cx.r.yes } else { cx.r.no }) },
            html! { (local_time(&self.date, cx.tz)) },
            html! { a href=(orders) aria-label={ (cx.r.their_orders) " · " (self.name) } { (cx.r.their_orders) } },
        ]
    }
}

type Ids = Path<(String, String)>;

/// `GET …/transactions`, `…/orders`, `…/customers`: the table of `R` (payments and
/// refunds; orders, each linked to its page; customers, each linked to their orders),
/// filtered, sorted and paged; `format=csv` downloads every row of the filter.
pub async fn table<R: Rendered + 'static>(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id)): Ids,
    Query(params): Query<TableParams>,
) -> Response {
    let ids = (company_id.as_str(), connection_id.as_str());
    table_page::<R>(&state, lang, &csrf, ids, &params, &R::words(lang)).await
}

/// The shop's time zone, when known and valid.
pub fn shop_timezone(basics: &prestalink_store::ShopBasics) -> Option<Tz> {
    basics.timezone.as_deref().and_then(|z| z.parse().ok())
}

async fn table_page<R: Rendered + 'static>(
    state: &AppState,
    lang: Lang,
    csrf: &CsrfToken,
    (company_id, connection_id): (&str, &str),
    params: &TableParams,
    words: &TableWords,
) -> Response {
    let spec = R::SPEC;
    let title = words.title;
    if let Err(page) = connection_of(state, lang, company_id, connection_id).await {
        return page;
    }
    let basics = match state.store.shop_basics(connection_id).await {
        Ok(b) => b,
        Err(e) => return crate::web::server_error(lang, e),
    };
    let tz = shop_timezone(&basics);
    if params.format.as_deref() == Some("csv") {
        return match table::csv_body::<R>(
            state.store.clone(),
            connection_id.to_string(),
            spec,
            params.clone(),
        )
        .await
        {
            Ok(body) => (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{}-{connection_id}.csv\"", spec.slug),
                    ),
                ],
                body,
            )
                .into_response(),
            Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        };
    }
    let t = texts(lang);
    let r = text::records(locale(lang));
    let n = Numbers::new(locale(lang), basics.currency.as_deref());
    let connection_base = format!("{COMPANIES}/{company_id}/connections/{connection_id}");
    let base = format!("{connection_base}/{}", spec.slug);
    let (rows, total, page, error): (Vec<R>, u64, u32, Option<FilterError>) =
        match table::page::<R>(&state.store, connection_id, spec, params).await {
            Ok(Ok(page)) => (page.rows, page.total, page.page, None),
            Ok(Err(e)) => (Vec::new(), 0, 1, Some(e)),
            Err(e) => return crate::web::server_error(lang, e),
        };
    let error = error.map(|e| (e.field, e.reason));
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let page = u64::from(page);
    let page_label = t
        .page_of
        .replace("{page}", &page.to_string())
        .replace("{pages}", &pages.to_string());
    let cx = Cells {
        base: &connection_base,
        n: &n,
        t,
        r,
        tz,
    };
    let columns = R::columns(t, r);
    let o = text::overview(locale(lang));
    let body = html! {
        (page_head(t, csrf, &connection_base, spec.slug, lang))
        h1 id="table-heading" { (title) @if let Some(name) = &basics.name { " · " (name) } }
        form method="get" action=(base) class="filters" {
            fieldset {
                legend { (t.filter) }
                (field("from", o.from, "date", params.from.as_deref(), &error))
                (field("to", o.to, "date", params.to.as_deref(), &error))
                @if spec.filters.contains(&Filter::Kind) {
                    div class="field" {
                        label for="type" { (t.kind) }
                        select id="type" name="type" {
                            option value="" { (t.all) }
                            option value="Payment" selected[params.kind.as_deref() == Some("Payment")] { (t.payment) }
                            option value="Refund" selected[params.kind.as_deref() == Some("Refund")] { (t.refund) }
                        }
                    }
                }
                @if spec.filters.contains(&Filter::Method) {
                    (field("method", t.method, "text", params.method.as_deref(), &error))
                }
                (field("query", t.query, "text", params.query.as_deref(), &error))
                p class="hint" id="query-hint" { (words.query_hint) }
                input type="hidden" name="sort" value=(params.sort(spec));
                button type="submit" { (t.filter) }
            }
        }
        p aria-live="polite" id="results" { (words.results.replace("{count}", &n.count(total))) }
        p { a href={ (base) "?" (params.link(spec, None, None, true)) } download id="csv" { (t.download_csv) } }
        @if rows.is_empty() {
            p { (words.empty) }
        } @else {
            div class="table-scroll" tabindex="0" role="region" aria-labelledby="table-heading" {
                table class="data" id=(spec.slug) {
                    thead { tr {
                        @for c in &columns {
                            @if let Some(field) = c.sort {
                                th scope="col" class=[c.numeric.then_some("num")] aria-sort=(params.sort_state(spec, field)) {
                                    a href={ (base) "?" (params.link(spec, None, Some(&params.toggle(spec, field)), false)) } { (c.label) }
                                }
                            } @else {
                                th scope="col" class=[c.numeric.then_some("num")] { (c.label) }
                            }
                        }
                    } }
                    tbody {
                        @for row in &rows {
                            tr {
                                @for (c, cell) in columns.iter().zip(row.cells(&cx)) {
                                    td class=[c.numeric.then_some("num")] { (cell) }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav class="pager" aria-label=(page_label) {
            @if page > 1 {
                a rel="prev" href={ (base) "?" (params.link(spec, Some(page as u32 - 1), None, false)) } { (t.previous) }
            }
            span { (page_label) }
            @if page < pages {
                a rel="next" href={ (base) "?" (params.link(spec, Some(page as u32 + 1), None, false)) } { (t.next) }
            }
        }
    };
    respond(StatusCode::OK, layout::page(lang, title, &nav(t, ""), body))
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
