//! The dashboard's overview figures equal the API's data: a simulated store in several
//! currencies, with refunds, is synced through the real server; its orders, transactions
//! and payments are read back page by page through the REST API and summed here,
//! independently, and compared with what the store's overview aggregation returns.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::NaiveDate;
use common::{small_store, test_config, Harness};
use prestalink_store::overview::Grain;
use prestalink_store::Period;
use prestalink_testkit::TestDb;
use serde_json::Value;

/// PrestaShop's conversion rate of a record (1 when missing or zero).
fn rate(record: &Value) -> f64 {
    let rate = match &record["supplementalData"]["content"]["conversionRate"] {
        Value::String(s) => s.parse().unwrap_or(1.0),
        Value::Number(n) => n.as_f64().unwrap_or(1.0),
        _ => 1.0,
    };
    if rate == 0.0 {
        1.0
    } else {
        rate
    }
}

fn local_day(record: &Value, field: &str) -> Option<NaiveDate> {
    let text = record[field].as_str()?;
    NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
}

fn amount(record: &Value, field: &str) -> f64 {
    record[field].as_f64().unwrap_or(0.0)
}

fn valid(order: &Value) -> bool {
    order["supplementalData"]["content"]["valid"] != Value::Bool(false)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

/// What the overview must show, computed from the API's records.
#[derive(Debug, Default)]
struct Expected {
    orders: u64,
    gross: f64,
    refunds: f64,
    converted_orders: u64,
    per_bucket: BTreeMap<NaiveDate, (u64, f64, f64)>,
    methods: BTreeMap<String, (u64, f64)>,
    product_revenue: HashMap<String, f64>,
    product_units: HashMap<String, f64>,
    countries: BTreeMap<String, (u64, f64)>,
    new_customers: u64,
    returning_customers: u64,
}

fn expected(
    orders: &[Value],
    transactions: &[Value],
    payments: &[Value],
    currency: &str,
    period: Period,
    grain: Grain,
) -> Expected {
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| d >= period.from && d <= period.to);
    let mut e = Expected::default();
    let mut first_order: HashMap<String, NaiveDate> = HashMap::new();
    let mut period_customers = BTreeSet::new();
    for o in orders.iter().filter(|o| valid(o)) {
        let day = local_day(o, "createdDate");
        let customer = o["customerRef"]["id"].as_str().map(str::to_string);
        if let (Some(c), Some(d)) = (&customer, day) {
            let first = first_order.entry(c.clone()).or_insert(d);
            *first = (*first).min(d);
        }
        if !within(day) {
            continue;
        }
        let r = rate(o);
        let total = amount(o, "totalAmount") / r;
        e.orders += 1;
        e.gross += total;
        if r != 1.0 || o["currency"].as_str().is_some_and(|c| c != currency) {
            e.converted_orders += 1;
        }
        let bucket = e
            .per_bucket
            .entry(grain.bucket_start(day.unwrap()))
            .or_default();
        bucket.0 += 1;
        bucket.1 += total;
        for line in o["orderLineItems"].as_array().unwrap() {
            let product = line["productRef"]["id"].as_str().unwrap_or("").to_string();
            *e.product_revenue.entry(product.clone()).or_default() +=
                amount(line, "totalAmount") / r;
            *e.product_units.entry(product).or_default() += amount(line, "quantity");
        }
        let country = e
            .countries
            .entry(o["country"].as_str().unwrap_or("").to_string())
            .or_default();
        country.0 += 1;
        country.1 += total;
        if let Some(c) = customer {
            period_customers.insert(c);
        }
    }
    for c in &period_customers {
        if first_order[c] >= period.from {
            e.new_customers += 1;
        } else {
            e.returning_customers += 1;
        }
    }
    for t in transactions {
        if t["type"] != "Refund" || !within(local_day(t, "sourceCreatedDate")) {
            continue;
        }
        let refunded = -amount(t, "totalAmount") / rate(t);
        e.refunds += refunded;
        let day = local_day(t, "sourceCreatedDate").unwrap();
        e.per_bucket.entry(grain.bucket_start(day)).or_default().2 += refunded;
    }
    for p in payments {
        if !within(local_day(p, "createdDate")) {
            continue;
        }
        let method = p["paymentMethodRef"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let m = e.methods.entry(method).or_default();
        m.0 += 1;
        m.1 += amount(p, "amount") / rate(p);
    }
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_figures_equal_the_api_data() {
    for db in TestDb::all("overview_api").await.unwrap() {
        let engine = db.engine;
        let mut sim = small_store(14);
        // Two languages and two shops bring orders in GBP and USD.
        sim.gen.languages = 2;
        sim.gen.shops = 2;
        sim.gen.orders = 600;
        sim.gen.customers = 120;
        let h = Harness::start(db, sim, test_config()).await;
        let (company, connection) = h.linked_company("Overview").await;
        let company_id = company["id"].as_str().unwrap();
        let connection_id = connection["id"].as_str().unwrap();
        h.settled(company_id, Duration::from_secs(240)).await;

        let orders = h
            .all_records(company_id, connection_id, "commerce-orders")
            .await;
        let transactions = h
            .all_records(company_id, connection_id, "commerce-transactions")
            .await;
        let payments = h
            .all_records(company_id, connection_id, "commerce-payments")
            .await;
        let (status, info) = h
            .get(&format!(
                "/companies/{company_id}/connections/{connection_id}/data/commerce-info"
            ))
            .await;
        assert_eq!(status, 200, "{info}");
        let currency = info["baseCurrency"].as_str().unwrap().to_string();
        assert!(orders.len() >= 300, "{engine}: {} orders", orders.len());
        assert!(
            transactions.iter().any(|t| t["type"] == "Refund"),
            "{engine}: the store has refunds"
        );

        let store = &h.db.store;
        let basics = store.shop_basics(connection_id).await.unwrap();
        assert_eq!(basics.currency.as_deref(), Some(currency.as_str()));
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (period, grain) in [
            (
                Period::new(day("2024-01-01"), day("2026-12-31")).unwrap(),
                Grain::Month,
            ),
            (
                Period::new(day("2026-06-01"), day("2026-11-28")).unwrap(),
                Grain::Week,
            ),
            (
                Period::new(day("2026-10-01"), day("2026-10-31")).unwrap(),
                Grain::Day,
            ),
        ] {
            let what = format!("{engine} {period:?} {grain:?}");
            let e = expected(&orders, &transactions, &payments, &currency, period, grain);
            let o = store
                .overview(connection_id, period, grain, Some(&currency))
                .await
                .unwrap();
            assert!(e.orders > 0, "{what}: no orders in the period");
            assert_eq!(o.orders, e.orders, "{what}");
            assert!(
                close(o.gross_sales, e.gross),
                "{what}: {} != {}",
                o.gross_sales,
                e.gross
            );
            assert!(
                close(o.refunds, e.refunds),
                "{what}: {} != {}",
                o.refunds,
                e.refunds
            );
            assert!(close(o.net_sales, e.gross - e.refunds), "{what}");
            assert!(
                close(o.average_order_value.unwrap(), e.gross / e.orders as f64),
                "{what}"
            );
            assert_eq!(o.converted.orders, e.converted_orders, "{what}");
            // Every bucket, empty ones included.
            let revenue_total: f64 = o.buckets.iter().map(|b| b.revenue).sum();
            assert!(close(revenue_total, e.gross), "{what}");
            for b in &o.buckets {
                let (count, revenue, refunded) = e
                    .per_bucket
                    .get(&grain.bucket_start(b.start))
                    .copied()
                    .unwrap_or_default();
                assert_eq!(b.orders, count, "{what} {}", b.start);
                assert!(close(b.revenue, revenue), "{what} {}", b.start);
                assert!(close(b.refunded, refunded), "{what} {}", b.start);
            }
            let methods: BTreeMap<String, (u64, f64)> = o
                .payments_by_method
                .iter()
                .map(|m| (m.method.clone().unwrap_or_default(), (m.count, m.amount)))
                .collect();
            assert_eq!(methods.len(), e.methods.len(), "{what}");
            for (name, (count, total)) in &e.methods {
                let got = methods[name];
                assert!(
                    got.0 == *count && close(got.1, *total),
                    "{what} {name}: {got:?}"
                );
            }
            for p in &o.top_by_revenue {
                let id = p.product_id.clone().unwrap_or_default();
                assert!(close(p.revenue, e.product_revenue[&id]), "{what} {id}");
            }
            let best = e.product_revenue.values().cloned().fold(0.0, f64::max);
            assert!(close(o.top_by_revenue[0].revenue, best), "{what}");
            let most = e.product_units.values().cloned().fold(0.0, f64::max);
            assert!(close(o.top_by_units[0].units, most), "{what}");
            for c in &o.countries {
                let (count, total) = e.countries[c.country.as_deref().unwrap_or("")];
                assert!(c.orders == count && close(c.revenue, total), "{what} {c:?}");
            }
            assert_eq!(o.new_customers.customers, e.new_customers, "{what}");
            assert_eq!(
                o.returning_customers.customers, e.returning_customers,
                "{what}"
            );
        }
        // The whole history converts orders in other currencies.
        let all = Period::new(day("2024-01-01"), day("2026-12-31")).unwrap();
        let o = store
            .overview(connection_id, all, Grain::Month, Some(&currency))
            .await
            .unwrap();
        assert!(
            o.converted.orders > 0,
            "{engine}: no order in another currency"
        );
        assert!(o.returning_customers.customers == 0 && o.new_customers.customers > 0);
        h.stop().await;
    }
}
