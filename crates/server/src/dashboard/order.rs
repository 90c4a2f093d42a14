//! An order's page: its summary, lines, other charges, payments, refunds (credit slips from
//! `commerce-transactions`), delivery and invoice addresses and status history (from the
//! raw PrestaShop rows kept next to the mapped records), and the raw order as read.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use maud::{html, Markup};
use prestalink_store::{Query, Store, StoredRecord, MAX_PAGE_SIZE};
use prestalink_webservice::record::Record;
use serde_json::Value;

use super::pages::{connection_of, locale, nav, page_head, texts, SignedIn, COMPANIES};
use super::table::{local_time, quote};
use super::tables::{order_href, shop_timezone};
use super::text::{self, PagesText, RecordsText};
use crate::numbers::Numbers;
use crate::state::AppState;
use crate::web::csrf::CsrfToken;
use crate::web::i18n::Lang;
use crate::web::{layout, respond};

/// One row of the order's status history.
struct HistoryEntry {
    date: String,
    state: String,
}

/// An address as the order page shows it: its lines.
type AddressLines = Vec<String>;

/// What the order page shows besides the order record itself.
struct OrderExtras {
    refunds: Vec<StoredRecord>,
    delivery: Option<AddressLines>,
    invoice: Option<AddressLines>,
    history: Vec<HistoryEntry>,
    raw: Option<Value>,
}

fn raw_record(data: &Value) -> Option<Record> {
    serde_json::from_value(data.clone()).ok()
}

async fn load_extras(
    store: &Store,
    connection_id: &str,
    order_id: &str,
) -> anyhow::Result<OrderExtras> {
    let refunds_query = Query {
        page: 1,
        page_size: MAX_PAGE_SIZE,
        order_by: Some("sourceCreatedDate".to_string()),
        query: Some(format!(
            "type=Refund&&transactionSourceRef.id={}",
            quote(order_id).map_err(|e| anyhow::anyhow!(e.reason))?
        )),
        include_deleted: false,
    };
    let refunds = store
        .query_records(connection_id, "commerce-transactions", &refunds_query)
        .await?
        .results;
    let raw = store.get_raw(connection_id, "orders", order_id).await?;
    let order = raw.as_ref().and_then(|r| raw_record(&r.data));
    let mut delivery = None;
    let mut invoice = None;
    if let Some(order) = &order {
        let ids: Vec<String> = ["id_address_delivery", "id_address_invoice"]
            .iter()
            .filter_map(|f| order.text(f).map(str::to_string))
            .collect();
        let addresses = store.get_raw_many(connection_id, "addresses", &ids).await?;
        let countries: Vec<String> = addresses
            .iter()
            .filter_map(|a| raw_record(&a.data)?.text("id_country").map(str::to_string))
            .collect();
        let countries = store
            .get_raw_many(connection_id, "countries", &countries)
            .await?;
        let lines_of = |field: &str| -> Option<AddressLines> {
            let id = order.text(field)?;
            let address = raw_record(&addresses.iter().find(|a| a.source_id == id)?.data)?;
            let country = address.text("id_country").and_then(|c| {
                let found = countries.iter().find(|k| k.source_id == c)?;
                raw_record(&found.data)?.text("name").map(str::to_string)
            });
            let join = |fields: &[&str]| {
                fields
                    .iter()
                    .filter_map(|f| address.text(f))
                    .filter(|v| !v.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let lines: Vec<String> = [
                join(&["firstname", "lastname"]),
                join(&["company"]),
                join(&["address1"]),
                join(&["address2"]),
                join(&["postcode", "city"]),
                country.unwrap_or_default(),
                join(&["phone"]),
            ]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
            Some(lines)
        };
        delivery = lines_of("id_address_delivery");
        invoice = lines_of("id_address_invoice");
    }
    let histories = store
        .list_raw_by_parent(connection_id, "order_histories", &[order_id.to_string()])
        .await?;
    let histories: Vec<Record> = histories
        .iter()
        .filter(|h| !h.deleted)
        .filter_map(|h| raw_record(&h.data))
        .collect();
    let state_ids: Vec<String> = histories
        .iter()
        .filter_map(|h| h.text("id_order_state").map(str::to_string))
        .collect();
    let states = store
        .get_raw_many(connection_id, "order_states", &state_ids)
        .await?;
    let mut history: Vec<HistoryEntry> = histories
        .iter()
        .map(|h| {
            let id = h.text("id_order_state").unwrap_or_default();
            let state = states
                .iter()
                .find(|s| s.source_id == id)
                .and_then(|s| raw_record(&s.data))
                .and_then(|s| s.text("name").map(str::to_string))
                .unwrap_or_else(|| format!("#{id}"));
            HistoryEntry {
                date: h.text("date_add").unwrap_or_default().to_string(),
                state,
            }
        })
        .collect();
    history.sort_by(|a, b| a.date.cmp(&b.date));
    Ok(OrderExtras {
        refunds,
        delivery,
        invoice,
        history,
        raw: raw.map(|r| r.data),
    })
}

/// `GET …/orders/{orderId}`: the order's page.
pub async fn order(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Extension(csrf): Extension<CsrfToken>,
    Path((company_id, connection_id, order_id)): Path<(String, String, String)>,
) -> Response {
    if let Err(page) = connection_of(&state, lang, &company_id, &connection_id).await {
        return page;
    }
    let r = text::records(locale(lang));
    let record = match state
        .store
        .get_record(&connection_id, "commerce-orders", &order_id)
        .await
    {
        Ok(Some(record)) => record,
        Ok(None) => return crate::web::not_found(lang, r.order_not_found),
        Err(e) => return crate::web::server_error(lang, e),
    };
    let (basics, extras) = match tokio::try_join!(
        async { Ok::<_, anyhow::Error>(state.store.shop_basics(&connection_id).await?) },
        load_extras(&state.store, &connection_id, &order_id)
    ) {
        Ok(found) => found,
        Err(e) => return crate::web::server_error(lang, e),
    };
    let t = texts(lang);
    let d = &record.data;
    let currency = d["currency"].as_str();
    let n = Numbers::new(locale(lang), currency);
    let tz = shop_timezone(&basics);
    let base = format!("{COMPANIES}/{company_id}/connections/{connection_id}");
    let number = d["orderNumber"].as_str().unwrap_or(&record.id);
    let title = r.order_title.replace("{number}", number);
    let body = html! {
        (page_head(t, &csrf, &base, "orders", lang))
        h1 { (title) }
        (summary(t, r, &n, d, tz))
        (lines(r, &n, d))
        (payments(t, r, &n, d, tz))
        (refunds(t, r, &n, &extras.refunds))
        (addresses(r, &extras))
        (history(t, r, &extras.history))
        section aria-labelledby="raw-heading" {
            h2 id="raw-heading" { (r.raw) }
            p class="hint" { (r.raw_hint) }
            @match &extras.raw {
                Some(raw) => pre class="raw" id="raw" tabindex="0" aria-labelledby="raw-heading" {
                    (serde_json::to_string_pretty(raw).unwrap_or_default())
                },
                None => p { (r.raw_missing) },
            }
        }
    };
    respond(
        StatusCode::OK,
        layout::page(lang, &title, &nav(t, ""), body),
    )
}

/// `GET …/orders/reference/{reference}`: the order with that reference (payments know their
/// order by reference only); the orders table filtered by it when several orders share it
/// (one cart split by carrier).
pub async fn order_by_reference(
    _: SignedIn,
    State(state): State<AppState>,
    lang: Lang,
    Path((company_id, connection_id, reference)): Path<(String, String, String)>,
) -> Response {
    if let Err(page) = connection_of(&state, lang, &company_id, &connection_id).await {
        return page;
    }
    let r = text::records(locale(lang));
    let Ok(quoted) = quote(&reference) else {
        return crate::web::not_found(lang, r.order_not_found);
    };
    let query = Query {
        page: 1,
        page_size: 2,
        order_by: None,
        query: Some(format!("orderNumber={quoted}")),
        include_deleted: false,
    };
    let base = format!("{COMPANIES}/{company_id}/connections/{connection_id}");
    match state
        .store
        .query_records(&connection_id, "commerce-orders", &query)
        .await
    {
        Ok(page) if page.total_results == 1 => {
            Redirect::to(&order_href(&base, &page.results[0].id)).into_response()
        }
        Ok(page) if page.total_results > 1 => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("query", &format!("orderNumber={quoted}"));
            Redirect::to(&format!("{base}/orders?{}", form.finish())).into_response()
        }
        Ok(_) => crate::web::not_found(lang, r.order_not_found),
        Err(e) => crate::web::server_error(lang, e),
    }
}

fn amount(n: &Numbers, v: &Value) -> String {
    v.as_f64().map(|v| n.number(v, 2)).unwrap_or_default()
}

fn summary(
    t: &PagesText,
    r: &RecordsText,
    n: &Numbers,
    d: &Value,
    tz: Option<chrono_tz::Tz>,
) -> Markup {
    let content = &d["supplementalData"]["content"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    html! {
        section aria-labelledby="summary-heading" {
            h2 id="summary-heading" { (r.summary) }
            dl class="facts" id="summary" {
                div { dt { (r.placed) } dd { (local_time(d["createdDate"].as_str().unwrap_or_default(), tz)) } }
                div { dt { (r.state) } dd id="order-state" { (text(&content["currentState"]["name"])) } }
                div { dt { (r.customer) } dd { (text(&d["customerRef"]["name"])) } }
                div { dt { (r.country) } dd { (text(&d["country"])) } }
                div { dt { (t.currency) } dd { (text(&d["currency"])) } }
                div { dt { (r.total) } dd id="order-total" { (amount(n, &d["totalAmount"])) } }
                div { dt { (r.total_tax) } dd { (amount(n, &d["totalTaxAmount"])) } }
                div { dt { (r.total_discount) } dd { (amount(n, &d["totalDiscount"])) } }
                div { dt { (r.refunded) } dd { (amount(n, &d["totalRefund"])) } }
                div { dt { (r.conversion_rate) } dd { (text(&content["conversionRate"])) } }
                div { dt { (r.payment_module) } dd { (text(&content["paymentName"])) } }
            }
        }
    }
}

fn lines(r: &RecordsText, n: &Numbers, d: &Value) -> Markup {
    let items = d["orderLineItems"].as_array().cloned().unwrap_or_default();
    let charges = d["serviceCharges"].as_array().cloned().unwrap_or_default();
    html! {
        section aria-labelledby="lines-heading" {
            h2 id="lines-heading" { (r.lines) }
            @if items.is_empty() { p { (r.none) } } @else {
                div class="table-scroll" tabindex="0" role="region" aria-labelledby="lines-heading" {
                    table class="data" id="lines" {
                        thead { tr {
                            th scope="col" { (r.product) }
                            th scope="col" { (r.variant) }
                            th scope="col" class="num" { (r.quantity) }
                            th scope="col" class="num" { (r.unit_price) }
                            th scope="col" class="num" { (r.tax_rate) }
                            th scope="col" class="num" { (r.line_total) }
                        } }
                        tbody {
                            @for l in &items {
                                tr data-id=(l["id"].as_str().unwrap_or_default()) {
                                    td { (l["productRef"]["name"].as_str().unwrap_or_default()) }
                                    td { (l["productVariantRef"]["name"].as_str().filter(|v| Some(*v) != l["productRef"]["name"].as_str()).unwrap_or_default()) }
                                    td class="num" { (amount(n, &l["quantity"])) }
                                    td class="num" { (amount(n, &l["unitPrice"])) }
                                    td class="num" { @if let Some(p) = l["taxPercentage"].as_f64() { (n.number(p, 2)) " %" } }
                                    td class="num" { (amount(n, &l["totalAmount"])) }
                                }
                            }
                        }
                    }
                }
            }
            @if !charges.is_empty() {
                h3 { (r.shipping) }
                table class="data" id="charges" {
                    thead { tr {
                        th scope="col" { (r.product) }
                        th scope="col" { (r.payment_type) }
                        th scope="col" class="num" { (r.line_total) }
                    } }
                    tbody {
                        @for c in &charges {
                            tr {
                                td { (c["description"].as_str().unwrap_or_default()) }
                                td { (c["type"].as_str().unwrap_or_default()) }
                                td class="num" { (amount(n, &c["totalAmount"])) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn payments(
    t: &PagesText,
    r: &RecordsText,
    n: &Numbers,
    d: &Value,
    tz: Option<chrono_tz::Tz>,
) -> Markup {
    let payments = d["payments"].as_array().cloned().unwrap_or_default();
    html! {
        section aria-labelledby="payments-heading" {
            h2 id="payments-heading" { (r.payments) }
            @if payments.is_empty() { p { (r.none) } } @else {
                div class="table-scroll" tabindex="0" role="region" aria-labelledby="payments-heading" {
                    table class="data" id="payments" {
                        thead { tr {
                            th scope="col" { (t.date) }
                            th scope="col" { (r.provider) }
                            th scope="col" { (r.payment_type) }
                            th scope="col" { (r.payment_status) }
                            th scope="col" class="num" { (t.amount) }
                            th scope="col" { (t.currency) }
                        } }
                        tbody {
                            @for p in &payments {
                                tr data-id=(p["id"].as_str().unwrap_or_default()) {
                                    td { (local_time(p["createdDate"].as_str().unwrap_or_default(), tz)) }
                                    td { (p["paymentProvider"].as_str().unwrap_or_default()) }
                                    td { (p["type"].as_str().unwrap_or_default()) }
                                    td { (p["status"].as_str().unwrap_or_default()) }
                                    td class="num" { (amount(n, &p["amount"])) }
                                    td { (p["currency"].as_str().unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn refunds(t: &PagesText, r: &RecordsText, n: &Numbers, refunds: &[StoredRecord]) -> Markup {
    html! {
        section aria-labelledby="refunds-heading" {
            h2 id="refunds-heading" { (r.refunds) }
            @if refunds.is_empty() { p { (r.none) } } @else {
                table class="data" id="refunds" {
                    thead { tr {
                        th scope="col" { (t.date) }
                        th scope="col" { (t.method) }
                        th scope="col" class="num" { (t.amount) }
                        th scope="col" { (t.currency) }
                    } }
                    tbody {
                        @for x in refunds {
                            tr data-id=(x.id) {
                                td { (x.data["sourceCreatedDate"].as_str().unwrap_or_default()) }
                                td { (x.data["subType"].as_str().unwrap_or_default()) }
                                td class="num" { (amount(n, &x.data["totalAmount"])) }
                                td { (x.data["currency"].as_str().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn addresses(r: &RecordsText, extras: &OrderExtras) -> Markup {
    let block = |label: &str, lines: &Option<AddressLines>| {
        html! {
            div class="address" {
                h3 { (label) }
                @match lines {
                    Some(lines) => address { @for (i, l) in lines.iter().enumerate() { @if i > 0 { br; } (l) } },
                    None => p class="hint" { (r.address_not_read) },
                }
            }
        }
    };
    html! {
        section aria-labelledby="addresses-heading" {
            h2 id="addresses-heading" { (r.addresses) }
            div class="addresses" {
                (block(r.delivery_address, &extras.delivery))
                (block(r.invoice_address, &extras.invoice))
            }
        }
    }
}

fn history(t: &PagesText, r: &RecordsText, history: &[HistoryEntry]) -> Markup {
    html! {
        section aria-labelledby="history-heading" {
            h2 id="history-heading" { (r.history) }
            @if history.is_empty() { p { (r.none) } } @else {
                table class="data" id="history" {
                    thead { tr { th scope="col" { (t.date) } th scope="col" { (r.state) } } }
                    tbody {
                        @for h in history { tr { td { (h.date) } td { (h.state) } } }
                    }
                }
            }
        }
    }
}
