//! The overview's charts, drawn on the server as SVG by `plotters` (its SVG backend only:
//! text is emitted as `<text>` elements, so no system font is read): revenue and orders over
//! time, refunds over time, payments by method.
//!
//! Axis labels are written in the page's language and the shop's currency ([`Numbers`]).
//! Each bucket or bar carries a `<title>` (its values, shown on hover and read by screen
//! readers), and each chart comes with a [`DataTable`] of the same numbers, to be shown
//! below it as its text alternative.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use prestalink_store::overview::{Bucket, Grain, MethodTotal};

use crate::numbers::{NumberLocale, Numbers};

/// Width of a chart in SVG user units (it scales with its box).
pub const WIDTH: u32 = 760;
/// Height of a chart.
pub const HEIGHT: u32 = 300;

/// Font size of labels: plotters' SVG backend writes `size / 1.24`, so this gives 12.
const LABEL_SIZE: f64 = 15.0;

const BAR: RGBColor = RGBColor(31, 95, 160);
const LINE: RGBColor = RGBColor(214, 95, 0);
const REFUND: RGBColor = RGBColor(170, 40, 60);
const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// A chart and its text alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The element id of the chart (its table is `{id}-table`).
    pub id: String,
    /// The chart's title.
    pub title: String,
    /// The SVG document (`<svg role="img" …>…</svg>`), to be embedded as is.
    pub svg: String,
    /// The same numbers as a table.
    pub table: DataTable,
}

/// The numbers of a chart as a table: a caption, column headers and formatted cells.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTable {
    /// What the table shows.
    pub caption: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of formatted cells, one cell per header.
    pub rows: Vec<Vec<String>>,
}

/// The words of a time chart, in the page's language.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeText {
    /// Chart title.
    pub title: String,
    /// Header of the period column ("Week of").
    pub period: String,
    /// Name of the amount drawn as bars ("Revenue").
    pub amount: String,
    /// Name of the count drawn as a line ("Orders").
    pub count: String,
}

/// The words of the payments chart.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodText {
    /// Chart title.
    pub title: String,
    /// Header of the method column.
    pub method: String,
    /// Header of the payments count column.
    pub count: String,
    /// Header of the amount column.
    pub amount: String,
    /// Name shown for payments without a method.
    pub unknown: String,
}

/// Something went wrong while drawing (a plotters error, as text).
#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

fn drawing<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError(format!("{e:?}"))
}

/// One bucket of a time chart.
struct Point {
    /// The bucket in full (hover titles, the table): `12 Mar 2026`, `Mar 2026`.
    label: String,
    /// The bucket on the axis: `12 Mar`, `Mar 2026`.
    axis: String,
    amount: f64,
    count: u64,
}

/// Revenue (bars) and orders (line) per bucket.
pub fn revenue_and_orders(
    buckets: &[Bucket],
    grain: Grain,
    numbers: &Numbers,
    text: &TimeText,
) -> Result<Chart, ChartError> {
    let points: Vec<Point> = buckets
        .iter()
        .map(|b| Point {
            label: bucket_label(b, grain, numbers.locale()),
            axis: axis_label(b, grain, numbers.locale()),
            amount: b.revenue,
            count: b.orders,
        })
        .collect();
    time_chart("revenue-chart", &points, numbers, text, BAR)
}

/// Refunded amount (bars) and number of refunds (line) per bucket.
pub fn refunds_over_time(
    buckets: &[Bucket],
    grain: Grain,
    numbers: &Numbers,
    text: &TimeText,
) -> Result<Chart, ChartError> {
    let points: Vec<Point> = buckets
        .iter()
        .map(|b| Point {
            label: bucket_label(b, grain, numbers.locale()),
            axis: axis_label(b, grain, numbers.locale()),
            amount: b.refunded,
            count: b.refunds,
        })
        .collect();
    time_chart("refunds-chart", &points, numbers, text, REFUND)
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

fn month_name(month0: u32, locale: NumberLocale) -> &'static str {
    let names = match locale {
        NumberLocale::En => &MONTHS_EN,
        NumberLocale::Fr => &MONTHS_FR,
    };
    names[month0 as usize % 12]
}

/// A bucket in full, in the page's language: its first day (`2 Nov 2026`, `2 nov. 2026`),
/// or its month (`Nov 2026`, `nov. 2026`).
pub fn bucket_label(bucket: &Bucket, grain: Grain, locale: NumberLocale) -> String {
    use chrono::Datelike;
    let d = bucket.start;
    match grain {
        Grain::Month => format!("{} {}", month_name(d.month0(), locale), d.year()),
        Grain::Day | Grain::Week => long_date(d, locale),
    }
}

/// A day in the page's language: `2 Nov 2026`, `2 nov. 2026`.
pub fn long_date(day: chrono::NaiveDate, locale: NumberLocale) -> String {
    use chrono::Datelike;
    format!(
        "{} {} {}",
        day.day(),
        month_name(day.month0(), locale),
        day.year()
    )
}

/// A bucket on a time axis: its first day without the year (`2 Nov`), or its month.
fn axis_label(bucket: &Bucket, grain: Grain, locale: NumberLocale) -> String {
    use chrono::Datelike;
    let d = bucket.start;
    match grain {
        Grain::Month => bucket_label(bucket, grain, locale),
        Grain::Day | Grain::Week => format!("{} {}", d.day(), month_name(d.month0(), locale)),
    }
}

fn time_chart(
    id: &str,
    points: &[Point],
    numbers: &Numbers,
    text: &TimeText,
    color: RGBColor,
) -> Result<Chart, ChartError> {
    let n = points.len().max(1);
    // A segmented `0..last` has a segment per value of `0..=last`: `n - 1` gives one per
    // bucket and no empty one on the right (plotters cannot map a one-value range, so a
    // single bucket keeps an empty segment).
    let last = if n > 1 { n - 1 } else { 1 };
    let max_amount = axis_max(points.iter().map(|p| p.amount));
    let max_count = axis_max(points.iter().map(|p| p.count as f64));
    let mut svg = String::new();
    let mut hits = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(86)
            .right_y_label_area_size(56)
            .build_cartesian_2d((0..last).into_segmented(), 0f64..max_amount)
            .map_err(drawing)?
            .set_secondary_coord((0..last).into_segmented(), 0f64..max_count);
        let label_of = |v: &SegmentValue<usize>| match v {
            SegmentValue::Exact(i) | SegmentValue::CenterOf(i) => {
                points.get(*i).map(|p| p.axis.clone()).unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v: &f64| numbers.amount_whole(*v))
            .label_style(("sans-serif", LABEL_SIZE).into_font().color(&INK))
            .draw()
            .map_err(drawing)?;
        chart
            .configure_secondary_axes()
            .y_labels(6)
            .y_label_formatter(&|v: &f64| {
                if v.fract() == 0.0 {
                    numbers.number(*v, 0)
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", LABEL_SIZE).into_font().color(&LINE))
            .axis_style(LINE)
            .draw()
            .map_err(drawing)?;
        let margin = if n > 60 { 0 } else { 2 };
        let bars = Histogram::vertical(&chart)
            .style(color.filled())
            .margin(margin)
            // Empty buckets draw no bar (a year of days is mostly empty for refunds).
            .data(
                points
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.amount != 0.0)
                    .map(|(i, p)| (i, p.amount)),
            );
        chart.draw_series(bars).map_err(drawing)?;
        chart
            .draw_secondary_series(LineSeries::new(
                points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (SegmentValue::CenterOf(i), p.count as f64)),
                LINE.stroke_width(2),
            ))
            .map_err(drawing)?;
        for (i, p) in points.iter().enumerate() {
            let (x0, top) = chart.backend_coord(&(SegmentValue::Exact(i), max_amount));
            let (x1, bottom) = chart.backend_coord(&(SegmentValue::Exact(i + 1), 0.0));
            let tip = format!(
                "{}: {} {}, {} {}",
                p.label,
                text.amount,
                numbers.amount(p.amount),
                text.count,
                numbers.count(p.count)
            );
            hits.push_str(&hit_rect(x0, top, x1 - x0, bottom - top, &tip));
        }
        root.present().map_err(drawing)?;
    }
    let table = DataTable {
        caption: text.title.clone(),
        headers: vec![text.period.clone(), text.amount.clone(), text.count.clone()],
        rows: points
            .iter()
            .map(|p| {
                vec![
                    p.label.clone(),
                    numbers.amount(p.amount),
                    numbers.count(p.count),
                ]
            })
            .collect(),
    };
    Ok(Chart {
        id: id.to_string(),
        title: text.title.clone(),
        svg: accessible(svg, id, &text.title, &hits),
        table,
    })
}

/// Payments by method: one horizontal bar per method, the largest at the top.
pub fn payments_by_method(
    methods: &[MethodTotal],
    numbers: &Numbers,
    text: &MethodText,
) -> Result<Chart, ChartError> {
    let id = "payments-chart";
    let names: Vec<String> = methods
        .iter()
        .map(|m| m.method.clone().unwrap_or_else(|| text.unknown.clone()))
        .collect();
    let m = methods.len().max(1);
    // Index 0 is drawn at the bottom: the largest method (first) gets the top row.
    let row_of = |i: usize| m - 1 - i;
    let max_amount = axis_max(methods.iter().map(|p| p.amount));
    let height = (HEIGHT / 2).max(60 + 34 * m as u32);
    let mut svg = String::new();
    let mut hits = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        // One row per method on a continuous axis (a segmented one adds an empty row).
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(48)
            .x_label_area_size(30)
            .y_label_area_size(190)
            .build_cartesian_2d(0f64..max_amount, 0f64..m as f64)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(6)
            .y_labels(0)
            .x_label_formatter(&|v: &f64| numbers.amount_whole(*v))
            .label_style(("sans-serif", LABEL_SIZE).into_font().color(&INK))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(methods.iter().enumerate().map(|(i, p)| {
                let r = row_of(i) as f64;
                Rectangle::new([(0.0, r + 0.2), (p.amount, r + 0.8)], BAR.filled())
            }))
            .map_err(drawing)?;
        let label_style = ("sans-serif", LABEL_SIZE)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, name) in names.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(0.0, row_of(i) as f64 + 0.5));
            root.draw(&Text::new(
                shorten(name, 28),
                (x - 8, y),
                label_style.clone(),
            ))
            .map_err(drawing)?;
        }
        for (i, (method, name)) in methods.iter().zip(&names).enumerate() {
            let r = row_of(i) as f64;
            let (left, y0) = chart.backend_coord(&(0.0, r + 1.0));
            let (right, y1) = chart.backend_coord(&(max_amount, r));
            let tip = format!(
                "{name}: {} ({} {})",
                numbers.amount(method.amount),
                numbers.count(method.count),
                text.count
            );
            hits.push_str(&hit_rect(left, y0, right - left, y1 - y0, &tip));
        }
        root.present().map_err(drawing)?;
    }
    let table = DataTable {
        caption: text.title.clone(),
        headers: vec![text.method.clone(), text.count.clone(), text.amount.clone()],
        rows: methods
            .iter()
            .zip(&names)
            .map(|(m, name)| {
                vec![
                    name.clone(),
                    numbers.count(m.count),
                    numbers.amount(m.amount),
                ]
            })
            .collect(),
    };
    Ok(Chart {
        id: id.to_string(),
        title: text.title.clone(),
        svg: accessible(svg, id, &text.title, &hits),
        table,
    })
}

/// The top of an axis: the largest value rounded up to 1, 2, 2.5 or 5 times a power of ten
/// (1 for an empty or all-zero series, so the axis still draws).
fn axis_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0, f64::max);
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * power)
}

/// A transparent rectangle over a bucket or bar whose `<title>` tells its values on hover.
fn hit_rect(x: i32, y: i32, width: i32, height: i32, tip: &str) -> String {
    format!(
        "<rect x=\"{x}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill-opacity=\"0\">\
         <title>{}</title></rect>",
        width.max(1),
        height.max(1),
        quick_xml::escape::escape(tip)
    )
}

/// The SVG with its role, accessible name (`<title>`), a `chart` class and the hover
/// rectangles drawn last (on top).
fn accessible(svg: String, id: &str, title: &str, hits: &str) -> String {
    let body_start = svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e + 1));
    let Some(body_start) = body_start else {
        return svg;
    };
    let end = svg.rfind("</svg>").unwrap_or(svg.len());
    let open = &svg[..body_start - 1];
    format!(
        "{} role=\"img\" class=\"chart\" aria-labelledby=\"{id}-title\" \
         aria-describedby=\"{id}-table\"><title id=\"{id}-title\">{}</title>{}\
         <g class=\"hits\">{hits}</g></svg>",
        open.trim_end(),
        quick_xml::escape::escape(title),
        &svg[body_start..end]
    )
}

/// `text` cut to `max` characters with an ellipsis (long method names on an axis).
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn buckets() -> Vec<Bucket> {
        (0..7)
            .map(|i| Bucket {
                start: NaiveDate::from_ymd_opt(2026, 11, 2 + i).unwrap(),
                orders: u64::from(i),
                revenue: 1000.0 * f64::from(i) + 0.5,
                refunds: u64::from(i % 2),
                refunded: 10.0 * f64::from(i % 2),
            })
            .collect()
    }

    fn time_text() -> TimeText {
        TimeText {
            title: "Revenue & orders".to_string(),
            period: "Day".to_string(),
            amount: "Revenue".to_string(),
            count: "Orders".to_string(),
        }
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn revenue_chart_is_an_accessible_svg_with_a_title_per_bucket() {
        let numbers = Numbers::new(NumberLocale::En, Some("EUR"));
        let chart = revenue_and_orders(&buckets(), Grain::Day, &numbers, &time_text()).unwrap();
        let svg = &chart.svg;
        assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"revenue-chart-title\">Revenue &amp; orders</title>"));
        assert!(svg.trim_end().ends_with("</svg>"));
        // One hover title per bucket, with its values in the page's language.
        assert_eq!(count(svg, "<title>"), 7);
        assert!(
            svg.contains("<title>8 Nov 2026: Revenue €6,000.50, Orders 6</title>"),
            "{svg}"
        );
        // Axis labels are text elements in the currency (no font was needed to draw them).
        assert!(svg.contains("<text"));
        assert!(svg.contains("\n€4,000\n</text>"), "{svg}");
        // The last bucket reaches the right axis (no empty segment after it): its hover
        // rectangle ends where the plot does (width − margin − right label area).
        let hits = &svg[svg.find("<g class=\"hits\">").unwrap()..];
        let last = &hits[hits.rfind("<rect").unwrap()..];
        let attr = |name: &str| -> i32 {
            let at = last.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            last[at..at + last[at..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        assert!(
            (attr("x") + attr("width") - (760 - 12 - 56)).abs() <= 2,
            "{last}"
        );
        // The bars and the orders line.
        assert!(count(svg, "<rect") >= 7 + 7);
        assert!(svg.contains("<polyline") || svg.contains("<path"));
        // The table says the same.
        assert_eq!(chart.table.headers, ["Day", "Revenue", "Orders"]);
        assert_eq!(chart.table.rows.len(), 7);
        assert_eq!(chart.table.rows[6], ["8 Nov 2026", "€6,000.50", "6"]);
        // The axis names days without the year.
        assert!(svg.contains("\n8 Nov\n</text>"), "{svg}");
    }

    #[test]
    fn french_charts_write_french_numbers() {
        let numbers = Numbers::new(NumberLocale::Fr, Some("EUR"));
        let chart = refunds_over_time(&buckets(), Grain::Week, &numbers, &time_text()).unwrap();
        assert!(chart.svg.contains("Revenue 10,00\u{a0}€"), "{}", chart.svg);
        assert_eq!(chart.table.rows[1][1], "10,00\u{a0}€");
        let month = Bucket {
            start: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            orders: 0,
            revenue: 0.0,
            refunds: 0,
            refunded: 0.0,
        };
        assert_eq!(
            bucket_label(&month, Grain::Month, NumberLocale::Fr),
            "nov. 2026"
        );
        assert_eq!(
            bucket_label(&month, Grain::Month, NumberLocale::En),
            "Nov 2026"
        );
        assert_eq!(
            bucket_label(&month, Grain::Day, NumberLocale::Fr),
            "1 nov. 2026"
        );
    }

    #[test]
    fn payments_chart_escapes_method_names_and_puts_the_largest_on_top() {
        let numbers = Numbers::new(NumberLocale::En, Some("EUR"));
        let methods = vec![
            MethodTotal {
                method: Some("Stripe <card> & co".to_string()),
                count: 3,
                amount: 300.0,
            },
            MethodTotal {
                method: None,
                count: 1,
                amount: 20.0,
            },
        ];
        let text = MethodText {
            title: "Payments by method".to_string(),
            method: "Method".to_string(),
            count: "payments".to_string(),
            amount: "Amount".to_string(),
            unknown: "Unknown".to_string(),
        };
        let chart = payments_by_method(&methods, &numbers, &text).unwrap();
        assert!(!chart.svg.contains("<card>"), "{}", chart.svg);
        assert!(chart
            .svg
            .contains("Stripe &lt;card&gt; &amp; co: €300.00 (3 payments)"));
        assert!(chart
            .svg
            .contains("<title>Unknown: €20.00 (1 payments)</title>"));
        assert_eq!(chart.table.rows[0], ["Stripe <card> & co", "3", "€300.00"]);
        // The first method's hover rectangle is above the second's.
        let y_of = |tip: &str| -> i32 {
            let at = chart.svg.find(&format!("<title>{tip}")).unwrap();
            let rect = chart.svg[..at].rfind("<rect").unwrap();
            let y = &chart.svg[rect..at];
            let y = &y[y.find(" y=\"").unwrap() + 4..];
            y[..y.find('"').unwrap()].parse().unwrap()
        };
        assert!(y_of("Stripe &lt;card") < y_of("Unknown: "), "{}", chart.svg);
        // Two rows, no empty one: the first bar starts right below the chart's top margin.
        assert_eq!(count(&chart.svg, "fill=\"#1F5FA0\""), 2, "{}", chart.svg);
        assert!(y_of("Stripe &lt;card") <= 14, "{}", chart.svg);
    }

    #[test]
    fn empty_series_still_draw() {
        let numbers = Numbers::new(NumberLocale::En, None);
        let chart = revenue_and_orders(&[], Grain::Day, &numbers, &time_text()).unwrap();
        assert!(chart.svg.contains("</svg>"));
        assert!(chart.table.rows.is_empty());
        assert_eq!(axis_max([0.0].into_iter()), 1.0);
        assert_eq!(axis_max([1234.0].into_iter()), 2000.0);
        assert_eq!(axis_max([0.3].into_iter()), 0.5);
    }
}
