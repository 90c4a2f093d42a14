//! A connection's commerce overview page: the period form, key figures, the charts with
//! their tables, top products, new and returning customers, sales by country. The figures
//! come from [`Store::overview`] (summed in the database); the charts from [`crate::charts`].

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use prestalink_store::overview::{Grain, Overview, Period, ProductTotal, ShopBasics};
use prestalink_store::Store;
use serde::Deserialize;

use super::text::{self, OverviewText};
use crate::charts::{self, Chart, DataTable, MethodText, TimeText};
use crate::numbers::{NumberLocale, Numbers};

/// The overview's query string: `period` (`30`, `90`, `365` or `custom` with `from` and
/// `to`, YYYY-MM-DD) and `grain` (`day`, `week`, `month`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OverviewParams {
    /// Preset or `custom`.
    pub period: Option<String>,
    /// First day of a custom period.
    pub from: Option<String>,
    /// Last day of a custom period.
    pub to: Option<String>,
    /// Bucket width of the time series.
    pub grain: Option<String>,
}

/// The period form as understood, with errors tied to their fields.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodChoice {
    /// `30`, `90`, `365` or `custom`.
    pub preset: String,
    /// The period shown.
    pub period: Period,
    /// The grain shown.
    pub grain: Grain,
    /// What was typed in `from` (echoed back).
    pub from_text: String,
    /// What was typed in `to`.
    pub to_text: String,
    /// Error of the `from` field.
    pub from_error: Option<&'static str>,
    /// Error of the `to` field.
    pub to_error: Option<&'static str>,
}

impl PeriodChoice {
    /// Reads the form; an invalid custom period falls back to the last 30 days, with the
    /// reason on its field.
    pub fn parse(
        params: &OverviewParams,
        timezone: Option<&str>,
        now: DateTime<Utc>,
        t: &OverviewText,
    ) -> PeriodChoice {
        let preset = params.period.as_deref().unwrap_or("30");
        let days = |preset: &str| match preset {
            "90" => Some(90),
            "365" => Some(365),
            "30" => Some(30),
            _ => None,
        };
        let day = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        let mut choice = PeriodChoice {
            preset: "30".to_string(),
            period: Period::last_days(30, timezone, now),
            grain: Grain::Day,
            from_text: params.from.clone().unwrap_or_default(),
            to_text: params.to.clone().unwrap_or_default(),
            from_error: None,
            to_error: None,
        };
        if let Some(n) = days(preset) {
            choice.preset = preset.to_string();
            choice.period = Period::last_days(n, timezone, now);
        } else if preset == "custom" {
            let (from, to) = (day(&params.from), day(&params.to));
            choice.from_error = from.is_none().then_some(t.invalid_date);
            choice.to_error = to.is_none().then_some(t.invalid_date);
            if let (Some(from), Some(to)) = (from, to) {
                match Period::new(from, to) {
                    Ok(period) => {
                        choice.preset = "custom".to_string();
                        choice.period = period;
                    }
                    Err(_) => choice.to_error = Some(t.invalid_period),
                }
            } else {
                choice.preset = "custom".to_string();
            }
        }
        if choice.from_text.is_empty() {
            choice.from_text = choice.period.from.to_string();
        }
        if choice.to_text.is_empty() {
            choice.to_text = choice.period.to.to_string();
        }
        let default_grain = match choice.period.days() {
            0..=62 => Grain::Day,
            63..=200 => Grain::Week,
            _ => Grain::Month,
        };
        choice.grain = params
            .grain
            .as_deref()
            .and_then(Grain::parse)
            .unwrap_or(default_grain);
        choice
    }
}

/// Everything the overview page shows.
pub struct OverviewView {
    /// The shop.
    pub basics: ShopBasics,
    /// The period form.
    pub choice: PeriodChoice,
    /// The figures.
    pub overview: Overview,
    /// The charts: revenue and orders, refunds, payments by method.
    pub charts: Vec<Chart>,
    /// Numbers in the page's language.
    pub numbers: Numbers,
}

/// Reads the figures of a connection for the request's period and draws the charts.
pub async fn load(
    store: &Store,
    connection_id: &str,
    params: &OverviewParams,
    locale: NumberLocale,
    now: DateTime<Utc>,
) -> anyhow::Result<OverviewView> {
    let t = text::overview(locale);
    let basics = store.shop_basics(connection_id).await?;
    let choice = PeriodChoice::parse(params, basics.timezone.as_deref(), now, t);
    let overview = store
        .overview(
            connection_id,
            choice.period,
            choice.grain,
            basics.currency.as_deref(),
        )
        .await?;
    let numbers = Numbers::new(locale, basics.currency.as_deref());
    let period_header = match choice.grain {
        Grain::Day => t.period_day,
        Grain::Week => t.period_week,
        Grain::Month => t.period_month,
    };
    let revenue = charts::revenue_and_orders(
        &overview.buckets,
        overview.grain,
        &numbers,
        &TimeText {
            title: t.revenue_chart.to_string(),
            period: period_header.to_string(),
            amount: t.revenue.to_string(),
            count: t.orders.to_string(),
        },
    )?;
    let refunds = charts::refunds_over_time(
        &overview.buckets,
        overview.grain,
        &numbers,
        &TimeText {
            title: t.refunds_chart.to_string(),
            period: period_header.to_string(),
            amount: t.refunded.to_string(),
            count: t.refund_count.to_string(),
        },
    )?;
    let payments = charts::payments_by_method(
        &overview.payments_by_method,
        &numbers,
        &MethodText {
            title: t.payments_chart.to_string(),
            method: t.method.to_string(),
            count: t.payments.to_string(),
            amount: t.amount.to_string(),
            unknown: t.unknown_method.to_string(),
        },
    )?;
    Ok(OverviewView {
        basics,
        choice,
        overview,
        charts: vec![revenue, refunds, payments],
        numbers,
    })
}

/// The whole overview page of a connection as HTML in the pages' layout: what the
/// dashboard's route answers (and what `examples/overview_bench.rs` times).
pub async fn render(
    store: &Store,
    connection_id: &str,
    params: &OverviewParams,
    locale: NumberLocale,
    now: DateTime<Utc>,
    action: &str,
) -> anyhow::Result<String> {
    let view = load(store, connection_id, params, locale, now).await?;
    let lang = match locale {
        NumberLocale::En => crate::web::i18n::Lang::En,
        NumberLocale::Fr => crate::web::i18n::Lang::Fr,
    };
    let title = text::overview(locale).title;
    let page = crate::web::layout::page(lang, title, &[], body(&view, action, locale));
    Ok(page.into_string())
}

/// The page's content (what goes inside the layout's `<main>`). `action` is the page's own
/// path (the form submits to it).
pub fn body(view: &OverviewView, action: &str, locale: NumberLocale) -> Markup {
    let t = text::overview(locale);
    let o = &view.overview;
    let n = &view.numbers;
    let fill = |template: &str, values: &[(&str, String)]| {
        values.iter().fold(template.to_string(), |s, (k, v)| {
            s.replace(&format!("{{{k}}}"), v)
        })
    };
    html! {
        h1 { (t.title) @if let Some(name) = &view.basics.name { " · " (name) } }
        (period_form(&view.choice, action, t))
        p class="period-note" {
            (fill(t.showing, &[
                ("from", charts::long_date(o.period.from, locale)),
                ("to", charts::long_date(o.period.to, locale)),
                ("timezone", view.basics.timezone.clone().unwrap_or_else(|| "UTC".to_string())),
            ]))
            " "
            @match &o.currency {
                Some(c) => { (fill(t.currency_note, &[("currency", c.clone())])) }
                None => { (t.no_currency) }
            }
        }
        @if o.converted.any() {
            p class="note converted-note" {
                (fill(t.converted_note, &[
                    ("orders", n.count(o.converted.orders)),
                    ("refunds", n.count(o.converted.refunds)),
                    ("payments", n.count(o.converted.payments)),
                ]))
            }
        }
        section aria-labelledby="kpis-title" {
            h2 id="kpis-title" { (t.kpis) }
            dl class="kpis" {
                (kpi("kpi-gross", t.gross_sales, n.amount(o.gross_sales)))
                (kpi("kpi-refunds", t.refunds, n.amount(o.refunds)))
                (kpi("kpi-net", t.net_sales, n.amount(o.net_sales)))
                (kpi("kpi-orders", t.orders, n.count(o.orders)))
                (kpi("kpi-aov", t.average_order_value,
                     o.average_order_value.map(|v| n.amount(v)).unwrap_or_else(|| t.not_applicable.to_string())))
                (kpi("kpi-refund-rate", t.refund_rate,
                     o.refund_rate.map(|v| n.percent(v)).unwrap_or_else(|| t.not_applicable.to_string())))
            }
            p class="hint" { (t.definitions) }
        }
        @for chart in &view.charts {
            (chart_section(chart, t))
        }
        div class="columns" {
            (products_table("top-revenue", t.top_by_revenue, &o.top_by_revenue, n, t))
            (products_table("top-units", t.top_by_units, &o.top_by_units, n, t))
        }
        div class="columns" {
            section aria-labelledby="customers-title" {
                h2 id="customers-title" { (t.customers) }
                table class="data" {
                    thead { tr {
                        th scope="col" { (t.customer_kind) }
                        th scope="col" class="num" { (t.customer_count) }
                        th scope="col" class="num" { (t.orders) }
                        th scope="col" class="num" { (t.revenue) }
                    } }
                    tbody {
                        @for (label, group) in [(t.new_customers, &o.new_customers), (t.returning_customers, &o.returning_customers)] {
                            tr {
                                th scope="row" { (label) }
                                td class="num" { (n.count(group.customers)) }
                                td class="num" { (n.count(group.orders)) }
                                td class="num" { (n.amount(group.revenue)) }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="countries-title" {
                h2 id="countries-title" { (t.countries) }
                @if o.countries.is_empty() {
                    p { (t.nothing) }
                } @else {
                    table class="data" {
                        thead { tr {
                            th scope="col" { (t.country) }
                            th scope="col" class="num" { (t.orders) }
                            th scope="col" class="num" { (t.revenue) }
                        } }
                        tbody {
                            @for c in &o.countries {
                                tr {
                                    th scope="row" { (c.country.as_deref().unwrap_or(t.unknown_country)) }
                                    td class="num" { (n.count(c.orders)) }
                                    td class="num" { (n.amount(c.revenue)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn kpi(id: &str, label: &str, value: String) -> Markup {
    html! {
        div class="kpi" {
            dt { (label) }
            dd id=(id) { (value) }
        }
    }
}

fn period_form(choice: &PeriodChoice, action: &str, t: &OverviewText) -> Markup {
    let presets = [
        ("30", t.last_30),
        ("90", t.last_90),
        ("365", t.last_365),
        ("custom", t.custom),
    ];
    let grains = [
        (Grain::Day, t.day),
        (Grain::Week, t.week),
        (Grain::Month, t.month),
    ];
    html! {
        form class="period-form" method="get" action=(action) {
            fieldset {
                legend { (t.period_legend) }
                div class="field" {
                    label for="period" { (t.period_label) }
                    select id="period" name="period" {
                        @for (value, label) in presets {
                            option value=(value) selected[choice.preset == value] { (label) }
                        }
                    }
                }
                (date_field("from", t.from, &choice.from_text, choice.from_error))
                (date_field("to", t.to, &choice.to_text, choice.to_error))
                div class="field" {
                    label for="grain" { (t.grain_label) }
                    select id="grain" name="grain" {
                        @for (grain, label) in grains {
                            option value=(grain.as_str()) selected[choice.grain == grain] { (label) }
                        }
                    }
                }
                button type="submit" { (t.apply) }
            }
        }
    }
}

fn date_field(name: &str, label: &str, value: &str, error: Option<&str>) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        div class="field" {
            label for=(name) { (label) }
            input type="date" id=(name) name=(name) value=(value)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| error_id.as_str())];
            @if let Some(e) = error {
                p class="field-error" id=(error_id) { (e) }
            }
        }
    }
}

fn chart_section(chart: &Chart, t: &OverviewText) -> Markup {
    html! {
        section class="chart-section" aria-labelledby={ (chart.id) "-heading" } {
            h2 id={ (chart.id) "-heading" } { (chart.title) }
            figure id=(chart.id) class="chart-figure" {
                (maud::PreEscaped(&chart.svg))
            }
            details {
                summary { (t.show_table) }
                (data_table(&chart.table, &format!("{}-table", chart.id)))
            }
        }
    }
}

/// A chart's numbers as a table; the first column heads its rows, the others are numbers.
pub fn data_table(table: &DataTable, id: &str) -> Markup {
    html! {
        table class="data" id=(id) {
            caption { (table.caption) }
            thead { tr {
                @for (i, h) in table.headers.iter().enumerate() {
                    th scope="col" class=[(i > 0).then_some("num")] { (h) }
                }
            } }
            tbody {
                @for row in &table.rows {
                    tr {
                        @for (i, cell) in row.iter().enumerate() {
                            @if i == 0 {
                                th scope="row" { (cell) }
                            } @else {
                                td class="num" { (cell) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn products_table(
    id: &str,
    title: &str,
    products: &[ProductTotal],
    n: &Numbers,
    t: &OverviewText,
) -> Markup {
    html! {
        section aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { (title) }
            @if products.is_empty() {
                p { (t.nothing) }
            } @else {
                table class="data" id=(id) {
                    thead { tr {
                        th scope="col" { (t.product) }
                        th scope="col" class="num" { (t.units) }
                        th scope="col" class="num" { (t.revenue) }
                    } }
                    tbody {
                        @for p in products {
                            tr {
                                th scope="row" { (p.name.as_deref().or(p.product_id.as_deref()).unwrap_or(t.unknown_product)) }
                                td class="num" { (n.number(p.units, if p.units.fract() == 0.0 { 0 } else { 2 })) }
                                td class="num" { (n.amount(p.revenue)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn params(period: &str, from: &str, to: &str, grain: Option<&str>) -> OverviewParams {
        OverviewParams {
            period: Some(period.to_string()),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            grain: grain.map(str::to_string),
        }
    }

    #[test]
    fn the_period_form_is_read_with_errors_on_their_fields() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let t = text::overview(NumberLocale::En);
        let c = PeriodChoice::parse(&OverviewParams::default(), Some("Europe/Paris"), now, t);
        assert_eq!(
            (c.preset.as_str(), c.period.days(), c.grain),
            ("30", 30, Grain::Day)
        );
        let c = PeriodChoice::parse(&params("365", "", "", None), None, now, t);
        assert_eq!((c.period.days(), c.grain), (365, Grain::Month));
        let c = PeriodChoice::parse(
            &params("custom", "2026-01-01", "2026-01-31", Some("week")),
            None,
            now,
            t,
        );
        assert_eq!(
            (c.preset.as_str(), c.period.days(), c.grain),
            ("custom", 31, Grain::Week)
        );
        let c = PeriodChoice::parse(
            &params("custom", "2026-02-01", "2026-01-31", None),
            None,
            now,
            t,
        );
        assert_eq!(c.to_error, Some(t.invalid_period));
        assert_eq!(c.period.days(), 30, "falls back to the last 30 days");
        let c = PeriodChoice::parse(
            &params("custom", "yesterday", "2026-01-31", None),
            None,
            now,
            t,
        );
        assert_eq!((c.from_error, c.to_error), (Some(t.invalid_date), None));
        assert_eq!(c.from_text, "yesterday", "what was typed is shown again");
    }
}
