//! A connection's commerce overview for the dashboard: sales, refunds, payments, products,
//! customers and countries over a period of shop-local days, summed in the database.
//!
//! The sums read rollups that triggers keep in step with the commerce records (migrations
//! 0013 and 0030), never the records' JSON: orders per day, payments and refunds per day,
//! product lines per month (the period's partial months from the lines themselves), and the
//! customers' orders with each customer's first and previous order day. A year of a
//! 100,000-order store is a few thousand rollup rows and one index range of its orders.
//! What each figure means:
//!
//! - **orders, gross sales**: valid orders (PrestaShop's `valid`: not cancelled, no payment
//!   error) placed in the period, by their `createdDate` in the shop's time zone; their
//!   `totalAmount` (tax, shipping and wrapping included, discounts deducted);
//! - **refunds**: credit slips (`commerce-transactions` of type `Refund`) issued in the
//!   period, by `sourceCreatedDate`, as a positive amount;
//! - **net sales** = gross sales − refunds; **average order value** = gross sales / orders;
//!   **refund rate** = refunds / gross sales;
//! - **payments by method**: `commerce-payments` recorded in the period, by payment method;
//! - **top products**: lines of the period's valid orders, by product, tax included;
//! - **new vs returning**: the customers of the period's valid orders; new when their first
//!   valid order ever falls in the period;
//! - **countries**: the period's valid orders by delivery country.
//!
//! Every amount is in the shop's default currency: an amount in another currency is divided
//! by its record's own `conversionRate` (PrestaShop's rate of that currency to the default
//! one at the time), and [`Overview::converted`] counts the records that needed it.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::{on_pool, Store};

/// Products listed in each top list.
pub const TOP_PRODUCTS: usize = 10;

/// The width of the buckets of the time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One bucket per day.
    Day,
    /// One bucket per ISO week (Monday to Sunday).
    Week,
    /// One bucket per calendar month.
    Month,
}

impl Grain {
    /// Parses `day`, `week` or `month`.
    pub fn parse(text: &str) -> Option<Grain> {
        match text {
            "day" => Some(Grain::Day),
            "week" => Some(Grain::Week),
            "month" => Some(Grain::Month),
            _ => None,
        }
    }

    /// `day`, `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
        }
    }

    /// The first day of the bucket `day` falls in.
    pub fn bucket_start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Grain::Day => day,
            Grain::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Grain::Month => day.with_day(1).expect("day 1 exists"),
        }
    }

    /// The first day of the bucket after the one starting at `start`.
    fn next_start(self, start: NaiveDate) -> NaiveDate {
        match self {
            Grain::Day => start + Duration::days(1),
            Grain::Week => start + Duration::days(7),
            Grain::Month => {
                let (y, m) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).expect("valid month")
            }
        }
    }
}

/// Shop-local days `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
}

impl Period {
    /// A period from `from` to `to` (included); an error when `to` is before `from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period> {
        if to < from {
            return Err(StoreError::InvalidPeriod(format!(
                "it ends ({to}) before it starts ({from})"
            )));
        }
        Ok(Period { from, to })
    }

    /// The last `days` days up to today in the shop's time zone (`timezone`, IANA; UTC when
    /// unknown or not a time zone).
    pub fn last_days(days: u32, timezone: Option<&str>, now: DateTime<Utc>) -> Period {
        let today = shop_today(timezone, now);
        Period {
            from: today - Duration::days(i64::from(days.max(1)) - 1),
            to: today,
        }
    }

    /// Number of days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// Today's date in the shop's time zone (UTC when unknown).
pub fn shop_today(timezone: Option<&str>, now: DateTime<Utc>) -> NaiveDate {
    match timezone.and_then(|tz| tz.parse::<chrono_tz::Tz>().ok()) {
        Some(tz) => now.with_timezone(&tz).date_naive(),
        None => now.date_naive(),
    }
}

/// What the overview needs to know about the shop (from its `commerce-info` record).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopBasics {
    /// The shop's name.
    pub name: Option<String>,
    /// ISO 4217 code of the shop's default currency.
    pub currency: Option<String>,
    /// IANA time zone of the shop (PS_TIMEZONE).
    pub timezone: Option<String>,
}

/// Sums over one bucket of the time series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// First day of the bucket within the period.
    pub start: NaiveDate,
    /// Valid orders placed.
    pub orders: u64,
    /// Their total (gross sales).
    pub revenue: f64,
    /// Credit slips issued.
    pub refunds: u64,
    /// Their total, positive.
    pub refunded: f64,
}

/// Payments of one method.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodTotal {
    /// The payment method's name (`None` when the payment names none).
    pub method: Option<String>,
    /// Number of payments.
    pub count: u64,
    /// Their total.
    pub amount: f64,
}

/// Sales of one product.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductTotal {
    /// The product's id (`None` for lines without a product).
    pub product_id: Option<String>,
    /// The product's name as sold (the first in byte order when lines differ).
    pub name: Option<String>,
    /// Units sold.
    pub units: f64,
    /// Line totals, tax included.
    pub revenue: f64,
}

/// Customers of the period, new or returning.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroup {
    /// Distinct customers.
    pub customers: u64,
    /// Their valid orders in the period.
    pub orders: u64,
    /// The total of those orders.
    pub revenue: f64,
}

/// Sales to one country.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountryTotal {
    /// ISO 3166 alpha-3 code (`None` when the order has no delivery country).
    pub country: Option<String>,
    /// Valid orders.
    pub orders: u64,
    /// Their total.
    pub revenue: f64,
}

/// How many records were converted from another currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Converted {
    /// Orders of the period in another currency (or with a rate other than 1).
    pub orders: u64,
    /// Refunds of the period in another currency.
    pub refunds: u64,
    /// Payments of the period in another currency.
    pub payments: u64,
}

impl Converted {
    /// Whether any amount of the overview was converted.
    pub fn any(&self) -> bool {
        self.orders + self.refunds + self.payments > 0
    }
}

/// The overview of one connection over one period. See the module documentation for what
/// each figure means.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The period.
    pub period: Period,
    /// The grain of [`Overview::buckets`].
    pub grain: Grain,
    /// The currency of every amount (the shop's default), when known.
    pub currency: Option<String>,
    /// Valid orders placed in the period.
    pub orders: u64,
    /// Their total.
    pub gross_sales: f64,
    /// Refunds issued in the period (positive).
    pub refunds: f64,
    /// Gross sales minus refunds.
    pub net_sales: f64,
    /// Gross sales per order (`None` without orders).
    pub average_order_value: Option<f64>,
    /// Refunds over gross sales (`None` without sales).
    pub refund_rate: Option<f64>,
    /// Records converted from another currency.
    pub converted: Converted,
    /// The time series, one bucket per grain step from the period's start to its end.
    pub buckets: Vec<Bucket>,
    /// Payments by method, largest total first.
    pub payments_by_method: Vec<MethodTotal>,
    /// Products by revenue, largest first ([`TOP_PRODUCTS`] at most).
    pub top_by_revenue: Vec<ProductTotal>,
    /// Products by units, most first ([`TOP_PRODUCTS`] at most).
    pub top_by_units: Vec<ProductTotal>,
    /// Customers whose first valid order is in the period.
    pub new_customers: CustomerGroup,
    /// Customers who had ordered before the period.
    pub returning_customers: CustomerGroup,
    /// Sales by delivery country, largest total first.
    pub countries: Vec<CountryTotal>,
}

/// One day's sums, before they are put into buckets.
struct DayRow {
    day: NaiveDate,
    count: u64,
    amount: f64,
    converted: u64,
}

/// Records of the period in another currency: a rate other than 1, or a currency other than
/// the shop's (`$4`), from a rollup's `rate_one` and `currency_key` (`''` for none, else
/// `'='` and the code) and its count column.
fn converted(count: &str) -> String {
    format!(
        "CAST(SUM(CASE WHEN NOT rate_one OR coalesce({}, $4) <> $4 THEN {count} ELSE 0 END) \
         AS BIGINT)",
        decoded("currency_key")
    )
}

/// The value of a rollup's key column: `''` stands for NULL, `'='` prefixes a value.
fn decoded(key: &str) -> String {
    format!("CASE WHEN {key} = '' THEN NULL ELSE substr({key}, 2) END")
}

impl Store {
    /// The shop's name, default currency and time zone, from the connection's
    /// `commerce-info` record (all `None` before it was synced).
    pub async fn shop_basics(&self, connection_id: &str) -> Result<ShopBasics> {
        let record = match self.get_record(connection_id, "commerce-info", "1").await? {
            Some(r) if !r.deleted => Some(r.data),
            _ => self.first_info(connection_id).await?,
        };
        let Some(data) = record else {
            return Ok(ShopBasics::default());
        };
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        Ok(ShopBasics {
            name: text(&data["companyName"]),
            currency: text(&data["baseCurrency"]),
            timezone: text(&data["supplementalData"]["content"]["timezone"]),
        })
    }

    /// Any live `commerce-info` record of the connection (a multi-shop connection's info
    /// may carry another id than `1`).
    async fn first_info(&self, connection_id: &str) -> Result<Option<serde_json::Value>> {
        let sql = format!(
            "SELECT {} FROM commerce_records WHERE connection_id = $1 \
             AND data_type = 'commerce-info' AND deleted = FALSE ORDER BY id LIMIT 1",
            self.json_column("data")
        );
        let text: Option<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(&sql).bind(connection_id).fetch_optional(pool).await?
        });
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Json {
                what: "commerce_records.data",
                source: e,
            })
        })
        .transpose()
    }

    /// The commerce overview of a connection over `period`, its time series in `grain`
    /// buckets, amounts in `currency` (the shop's default; see the module documentation).
    pub async fn overview(
        &self,
        connection_id: &str,
        period: Period,
        grain: Grain,
        currency: Option<&str>,
    ) -> Result<Overview> {
        let from = period.from.to_string();
        let to = period.to.to_string();
        let args = (connection_id, from.as_str(), to.as_str(), currency);
        let (orders, refunds, methods, products, customers, countries) = tokio::try_join!(
            self.order_days(args),
            self.refund_days(args),
            self.payment_methods(args),
            self.products(args),
            self.customer_groups(args),
            self.countries(args),
        )?;
        let (payments_by_method, converted_payments) = methods;
        let gross_sales: f64 = orders.iter().map(|d| d.amount).sum();
        let order_count: u64 = orders.iter().map(|d| d.count).sum();
        let refunded: f64 = -refunds.iter().map(|d| d.amount).sum::<f64>();
        let converted = Converted {
            orders: orders.iter().map(|d| d.converted).sum(),
            refunds: refunds.iter().map(|d| d.converted).sum(),
            payments: converted_payments,
        };
        let buckets = buckets(period, grain, &orders, &refunds);
        let (top_by_revenue, top_by_units) = top_products(products);
        let (new_customers, returning_customers) = customers;
        Ok(Overview {
            period,
            grain,
            currency: currency.map(str::to_string),
            orders: order_count,
            gross_sales,
            refunds: refunded,
            net_sales: gross_sales - refunded,
            average_order_value: (order_count > 0).then(|| gross_sales / order_count as f64),
            refund_rate: (gross_sales != 0.0).then(|| refunded / gross_sales),
            converted,
            buckets,
            payments_by_method,
            top_by_revenue,
            top_by_units,
            new_customers,
            returning_customers,
            countries,
        })
    }

    /// Valid orders per shop-local day.
    async fn order_days(&self, args: Args<'_>) -> Result<Vec<DayRow>> {
        let sql = format!(
            "SELECT local_date, CAST(SUM(orders) AS BIGINT), SUM(amount), {} \
             FROM overview_order_days WHERE connection_id = $1 AND local_date >= $2 \
             AND local_date <= $3 GROUP BY local_date",
            converted("orders")
        );
        self.day_rows(&sql, args).await
    }

    /// Refunds per shop-local day (negative amounts).
    async fn refund_days(&self, args: Args<'_>) -> Result<Vec<DayRow>> {
        let sql = format!(
            "SELECT local_date, CAST(SUM(records) AS BIGINT), SUM(amount), {} \
             FROM overview_money_days WHERE connection_id = $1 AND kind = 'Refund' \
             AND local_date >= $2 AND local_date <= $3 GROUP BY local_date",
            converted("records")
        );
        self.day_rows(&sql, args).await
    }

    async fn day_rows(&self, sql: &str, (c, from, to, currency): Args<'_>) -> Result<Vec<DayRow>> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(sql)
                .bind(c)
                .bind(from)
                .bind(to)
                .bind(currency)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    let day: String = r.try_get(0)?;
                    Ok(DayRow {
                        day: parse_day(&day)?,
                        count: r.try_get::<i64, _>(1)? as u64,
                        amount: r.try_get::<Option<f64>, _>(2)?.unwrap_or(0.0),
                        converted: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0) as u64,
                    })
                })
                .collect()
        })
    }

    /// Payments per method, largest total first; and how many were converted.
    async fn payment_methods(
        &self,
        (c, from, to, currency): Args<'_>,
    ) -> Result<(Vec<MethodTotal>, u64)> {
        let sql = format!(
            "SELECT {}, CAST(SUM(records) AS BIGINT), SUM(amount), {} \
             FROM overview_money_days WHERE connection_id = $1 AND kind = 'Payment' \
             AND local_date >= $2 AND local_date <= $3 GROUP BY method_key",
            decoded("method_key"),
            converted("records")
        );
        let mut converted = 0;
        let mut methods: Vec<MethodTotal> = on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql)
                .bind(c)
                .bind(from)
                .bind(to)
                .bind(currency)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    converted += r.try_get::<Option<i64>, _>(3)?.unwrap_or(0) as u64;
                    Ok(MethodTotal {
                        method: r.try_get(0)?,
                        count: r.try_get::<i64, _>(1)? as u64,
                        amount: r.try_get::<Option<f64>, _>(2)?.unwrap_or(0.0),
                    })
                })
                .collect::<Result<_>>()?
        });
        methods.sort_by(|a, b| {
            b.amount
                .total_cmp(&a.amount)
                .then_with(|| a.method.cmp(&b.method))
        });
        Ok((methods, converted))
    }

    /// Every product sold in the period's valid orders: the period's whole months from their
    /// rollup, the days before the first whole month and after the last from the lines.
    async fn products(&self, (c, from, to, _): Args<'_>) -> Result<Vec<ProductTotal>> {
        // Lines from day `lo` to day `hi` (placeholders): one index range each.
        let lines = |lo: &str, hi: &str| {
            format!(
                "SELECT product_id, product_name, quantity, total_amount / conversion_rate \
                 AS revenue FROM overview_lines WHERE connection_id = $1 \
                 AND local_date >= {lo} AND local_date <= {hi} AND valid"
            )
        };
        let months = whole_months(Period::new(parse_day(from)?, parse_day(to)?)?);
        let sql = match months {
            None => format!(
                "SELECT product_id, MIN(product_name), SUM(quantity), SUM(revenue) \
                 FROM ({}) AS l GROUP BY product_id",
                lines("$2", "$3")
            ),
            // $4, $5: the first and last whole month (YYYY-MM); $6: the day before the
            // first; $7: the day after the last.
            Some(_) => format!(
                "SELECT product_id, MIN(product_name), SUM(quantity), SUM(revenue) FROM ( \
                   SELECT {} AS product_id, {} AS product_name, units AS quantity, revenue \
                   FROM overview_product_months WHERE connection_id = $1 \
                   AND month >= $4 AND month <= $5 \
                   UNION ALL {} UNION ALL {}) AS l GROUP BY product_id",
                decoded("product_key"),
                decoded("name_key"),
                lines("$2", "$6"),
                lines("$7", "$3"),
            ),
        };
        let month_text = |d: NaiveDate| d.format("%Y-%m").to_string();
        let (first, last, before, after) = match months {
            Some((first, last)) => (
                month_text(first),
                month_text(last),
                (first - Duration::days(1)).to_string(),
                Grain::Month.next_start(last).to_string(),
            ),
            None => Default::default(),
        };
        on_pool!(&self.db, pool => {
            let mut query = sqlx::query(&sql).bind(c).bind(from).bind(to);
            if months.is_some() {
                query = query
                    .bind(first.as_str())
                    .bind(last.as_str())
                    .bind(before.as_str())
                    .bind(after.as_str());
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(ProductTotal {
                        product_id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        units: r.try_get::<Option<f64>, _>(2)?.unwrap_or(0.0),
                        revenue: r.try_get::<Option<f64>, _>(3)?.unwrap_or(0.0),
                    })
                })
                .collect()
        })
    }

    /// The period's customers: (new, returning).
    async fn customer_groups(
        &self,
        (c, from, to, _): Args<'_>,
    ) -> Result<(CustomerGroup, CustomerGroup)> {
        // A customer is counted once, at their first order of the period: the one whose
        // previous order is before the period (or that has none).
        let sql = "SELECT CASE WHEN first_date >= $2 THEN 1 ELSE 0 END AS is_new, \
                   CAST(SUM(CASE WHEN prev_date IS NULL OR prev_date < $2 THEN 1 ELSE 0 END) \
                     AS BIGINT), \
                   COUNT(*), SUM(amount) FROM overview_customer_orders \
                   WHERE connection_id = $1 AND local_date >= $2 AND local_date <= $3 \
                   GROUP BY CASE WHEN first_date >= $2 THEN 1 ELSE 0 END";
        let mut new = CustomerGroup::default();
        let mut returning = CustomerGroup::default();
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(sql).bind(c).bind(from).bind(to).fetch_all(pool).await?;
            for r in &rows {
                let group = CustomerGroup {
                    customers: r.try_get::<Option<i64>, _>(1)?.unwrap_or(0) as u64,
                    orders: r.try_get::<i64, _>(2)? as u64,
                    revenue: r.try_get::<Option<f64>, _>(3)?.unwrap_or(0.0),
                };
                if r.try_get::<i32, _>(0)? == 1 {
                    new = group;
                } else {
                    returning = group;
                }
            }
        });
        Ok((new, returning))
    }

    /// Valid orders by delivery country, largest total first.
    async fn countries(&self, (c, from, to, _): Args<'_>) -> Result<Vec<CountryTotal>> {
        let sql = format!(
            "SELECT {}, CAST(SUM(orders) AS BIGINT), SUM(amount) \
             FROM overview_order_days WHERE connection_id = $1 AND local_date >= $2 \
             AND local_date <= $3 GROUP BY country_key",
            decoded("country_key")
        );
        let mut countries: Vec<CountryTotal> = on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).bind(c).bind(from).bind(to).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(CountryTotal {
                        country: r.try_get(0)?,
                        orders: r.try_get::<i64, _>(1)? as u64,
                        revenue: r.try_get::<Option<f64>, _>(2)?.unwrap_or(0.0),
                    })
                })
                .collect::<Result<_>>()?
        });
        countries.sort_by(|a, b| {
            b.revenue
                .total_cmp(&a.revenue)
                .then_with(|| a.country.cmp(&b.country))
        });
        Ok(countries)
    }
}

/// Connection, first day, last day, shop currency.
type Args<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);

fn parse_day(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| StoreError::InvalidPeriod(format!("{text:?} is not a day (YYYY-MM-DD)")))
}

/// The first and last calendar month wholly inside `period` (their first days), if any.
fn whole_months(period: Period) -> Option<(NaiveDate, NaiveDate)> {
    let first = match period.from.day() {
        1 => period.from,
        _ => Grain::Month.next_start(Grain::Month.bucket_start(period.from)),
    };
    // The month before the one of the day after the period.
    let after = Grain::Month.bucket_start(period.to + Duration::days(1));
    let last = Grain::Month.bucket_start(after - Duration::days(1));
    (first <= last).then_some((first, last))
}

/// The time series: every bucket of the period, empty ones included.
fn buckets(period: Period, grain: Grain, orders: &[DayRow], refunds: &[DayRow]) -> Vec<Bucket> {
    let mut series: BTreeMap<NaiveDate, Bucket> = BTreeMap::new();
    let mut start = grain.bucket_start(period.from);
    while start <= period.to {
        let shown = start.max(period.from);
        series.insert(
            start,
            Bucket {
                start: shown,
                orders: 0,
                revenue: 0.0,
                refunds: 0,
                refunded: 0.0,
            },
        );
        start = grain.next_start(start);
    }
    for d in orders {
        if let Some(b) = series.get_mut(&grain.bucket_start(d.day)) {
            b.orders += d.count;
            b.revenue += d.amount;
        }
    }
    for d in refunds {
        if let Some(b) = series.get_mut(&grain.bucket_start(d.day)) {
            b.refunds += d.count;
            b.refunded -= d.amount;
        }
    }
    series.into_values().collect()
}

/// The top products by revenue and by units.
fn top_products(mut products: Vec<ProductTotal>) -> (Vec<ProductTotal>, Vec<ProductTotal>) {
    products.sort_by(|a, b| {
        b.revenue
            .total_cmp(&a.revenue)
            .then_with(|| a.product_id.cmp(&b.product_id))
    });
    let by_revenue = products.iter().take(TOP_PRODUCTS).cloned().collect();
    products.sort_by(|a, b| {
        b.units
            .total_cmp(&a.units)
            .then_with(|| b.revenue.total_cmp(&a.revenue))
            .then_with(|| a.product_id.cmp(&b.product_id))
    });
    products.truncate(TOP_PRODUCTS);
    (by_revenue, products)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn week_buckets_start_on_monday_and_month_on_the_first() {
        // 2026-12-06 is a Sunday.
        assert_eq!(
            Grain::Week.bucket_start(day("2026-12-06")),
            day("2026-11-30")
        );
        assert_eq!(
            Grain::Week.bucket_start(day("2026-11-30")),
            day("2026-11-30")
        );
        assert_eq!(
            Grain::Month.bucket_start(day("2026-12-06")),
            day("2026-12-01")
        );
        assert_eq!(
            Grain::Month.next_start(day("2026-12-01")),
            day("2027-01-01")
        );
    }

    #[test]
    fn every_bucket_of_the_period_is_present_and_sums_land_in_theirs() {
        let period = Period::new(day("2026-11-25"), day("2026-12-08")).unwrap();
        let orders = vec![
            DayRow {
                day: day("2026-11-25"),
                count: 2,
                amount: 10.0,
                converted: 0,
            },
            DayRow {
                day: day("2026-12-07"),
                count: 1,
                amount: 5.5,
                converted: 1,
            },
        ];
        let refunds = vec![DayRow {
            day: day("2026-12-01"),
            count: 1,
            amount: -3.0,
            converted: 0,
        }];
        let weeks = buckets(period, Grain::Week, &orders, &refunds);
        let starts: Vec<String> = weeks.iter().map(|b| b.start.to_string()).collect();
        // The first week is clipped to the period's start.
        assert_eq!(starts, ["2026-11-25", "2026-11-30", "2026-12-07"]);
        assert_eq!((weeks[0].orders, weeks[0].revenue), (2, 10.0));
        assert_eq!((weeks[1].refunds, weeks[1].refunded), (1, 3.0));
        assert_eq!((weeks[2].orders, weeks[2].revenue), (1, 5.5));
        assert_eq!(buckets(period, Grain::Day, &orders, &refunds).len(), 14);
        assert_eq!(buckets(period, Grain::Month, &orders, &refunds).len(), 2);
    }

    #[test]
    fn last_days_end_today_in_the_shop_time_zone() {
        // 23:30 UTC on Dec 6 is already Dec 7 in Paris.
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 23, 30, 0).unwrap();
        let p = Period::last_days(30, Some("Europe/Paris"), now);
        assert_eq!((p.from, p.to), (day("2026-11-08"), day("2026-12-07")));
        assert_eq!(p.days(), 30);
        let utc = Period::last_days(30, Some("Not/AZone"), now);
        assert_eq!(utc.to, day("2026-12-06"));
        assert!(Period::new(day("2026-12-02"), day("2026-12-01")).is_err());
    }

    #[test]
    fn whole_months_are_the_months_inside_the_period() {
        let months = |from: &str, to: &str| {
            whole_months(Period::new(day(from), day(to)).unwrap())
                .map(|(a, b)| (a.to_string(), b.to_string()))
        };
        let some = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(
            months("2025-11-29", "2026-11-28"),
            some("2025-12-01", "2026-10-01")
        );
        assert_eq!(
            months("2026-11-01", "2026-11-30"),
            some("2026-11-01", "2026-11-01")
        );
        assert_eq!(
            months("2025-12-01", "2026-12-31"),
            some("2025-12-01", "2026-12-01")
        );
        assert_eq!(months("2026-11-01", "2026-11-29"), None);
        assert_eq!(months("2026-10-30", "2026-11-28"), None);
        assert_eq!(months("2026-02-15", "2026-03-14"), None);
    }

    #[test]
    fn top_lists_are_cut_and_ordered() {
        let products: Vec<ProductTotal> = (0..15)
            .map(|i| ProductTotal {
                product_id: Some(i.to_string()),
                name: None,
                units: f64::from(15 - i),
                revenue: f64::from(i),
            })
            .collect();
        let (by_revenue, by_units) = top_products(products);
        assert_eq!(by_revenue.len(), TOP_PRODUCTS);
        assert_eq!(by_revenue[0].product_id.as_deref(), Some("14"));
        assert_eq!(by_units[0].product_id.as_deref(), Some("0"));
    }
}
