//! The commerce overview: figures from hand-made records (two currencies, an invalid order,
//! a refund, a returning customer), kept in step with writes, updates, deletion marks and
//! a deleted connection, on both engines.

mod common;

use chrono::NaiveDate;
use common::{at, connection, on_both_engines};
use prestalink_store::overview::Grain;
use prestalink_store::{CommerceRecord, Period, RecordSet};
use serde_json::{json, Value};

fn record(id: &str, data: Value) -> CommerceRecord {
    CommerceRecord {
        id: id.to_string(),
        data,
        source_modified_date: None,
    }
}

/// An order: `lines` are (product id, quantity, line total). One argument per field keeps
/// the table of orders below readable as a table.
#[allow(clippy::too_many_arguments)]
fn order(
    id: &str,
    created: &str,
    total: f64,
    currency: &str,
    rate: &str,
    customer: &str,
    valid: bool,
    lines: &[(&str, f64, f64)],
) -> CommerceRecord {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q, t)| {
            json!({"id": format!("{id}-{p}"), "quantity": q, "totalAmount": t,
                   "productRef": {"id": p, "name": format!("Product {p}")}})
        })
        .collect();
    record(
        id,
        json!({"id": id, "createdDate": created, "totalAmount": total, "currency": currency,
               "country": if currency == "GBP" { "GBR" } else { "FRA" },
               "customerRef": {"id": customer}, "orderLineItems": lines,
               "supplementalData": {"content": {"conversionRate": rate, "valid": valid}}}),
    )
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[tokio::test]
async fn overview_sums_orders_refunds_payments_products_and_customers() {
    on_both_engines("overview_sums", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(
                &conn,
                "commerce-info",
                &[record(
                    "1",
                    json!({"companyName": "Shop", "baseCurrency": "EUR",
                           "supplementalData": {"content": {"timezone": "Europe/Paris"}}}),
                )],
                None,
                at(1),
            )
            .await
            .unwrap();
        let orders = [
            // Before the period: customer c1's first order.
            order("1", "2026-10-30T10:00:00+01:00", 50.0, "EUR", "1", "c1", true, &[("p1", 1.0, 50.0)]),
            // Late evening local time on Nov 1 (Nov 1 in the shop, whatever UTC says).
            order("2", "2026-11-01T23:30:00+01:00", 100.0, "EUR", "1", "c1", true, &[("p1", 2.0, 60.0), ("p2", 1.0, 40.0)]),
            order("3", "2026-11-03T09:00:00+01:00", 86.0, "GBP", "0.86", "c2", true, &[("p2", 4.0, 86.0)]),
            // Cancelled: not counted anywhere.
            order("4", "2026-11-04T09:00:00+01:00", 999.0, "EUR", "1", "c3", false, &[("p3", 9.0, 999.0)]),
            order("5", "2026-11-10T12:00:00+01:00", 30.0, "EUR", "1", "c2", true, &[("p3", 1.0, 30.0)]),
            // After the period.
            order("6", "2026-12-01T12:00:00+01:00", 70.0, "EUR", "1", "c4", true, &[("p1", 1.0, 70.0)]),
        ];
        store
            .upsert_commerce_page(&conn, "commerce-orders", &orders, None, at(2))
            .await
            .unwrap();
        let transactions = [
            record("refund-1", json!({"type": "Refund", "totalAmount": -17.2, "currency": "GBP",
                "subType": "credit_slip", "sourceCreatedDate": "2026-11-05T10:00:00+01:00",
                "supplementalData": {"content": {"conversionRate": "0.86"}}})),
            // Payments come from commerce-payments, not from their transactions.
            record("payment-1", json!({"type": "Payment", "totalAmount": 100.0, "currency": "EUR",
                "subType": "Stripe", "sourceCreatedDate": "2026-11-01T23:30:00+01:00"})),
        ];
        store
            .upsert_commerce_page(&conn, "commerce-transactions", &transactions, None, at(3))
            .await
            .unwrap();
        let payments = [
            record("1", json!({"amount": 100.0, "currency": "EUR", "paymentMethodRef": {"name": "Stripe"},
                "createdDate": "2026-11-01T23:30:00+01:00", "supplementalData": {"content": {"conversionRate": "1"}}})),
            record("2", json!({"amount": 86.0, "currency": "GBP", "paymentMethodRef": {"name": "Bank wire"},
                "createdDate": "2026-11-03T09:00:00+01:00", "supplementalData": {"content": {"conversionRate": "0.86"}}})),
            record("3", json!({"amount": 30.0, "currency": "EUR", "paymentMethodRef": {"name": "Stripe"},
                "createdDate": "2026-11-10T12:00:00+01:00", "supplementalData": {"content": {"conversionRate": "1"}}})),
        ];
        store
            .upsert_commerce_page(&conn, "commerce-payments", &payments, None, at(4))
            .await
            .unwrap();

        let basics = store.shop_basics(&conn).await.unwrap();
        assert_eq!(basics.currency.as_deref(), Some("EUR"));
        assert_eq!(basics.timezone.as_deref(), Some("Europe/Paris"));

        let period = Period::new(day("2026-11-01"), day("2026-11-30")).unwrap();
        let o = store
            .overview(&conn, period, Grain::Week, Some("EUR"))
            .await
            .unwrap();
        let engine = t.engine();
        // Orders 2, 3 (86 GBP / 0.86 = 100 EUR) and 5.
        assert_eq!(o.orders, 3, "{engine}");
        assert!(close(o.gross_sales, 230.0), "{engine}: {}", o.gross_sales);
        assert!(close(o.refunds, 20.0), "{engine}: {}", o.refunds);
        assert!(close(o.net_sales, 210.0), "{engine}");
        assert!(close(o.average_order_value.unwrap(), 230.0 / 3.0), "{engine}");
        assert!(close(o.refund_rate.unwrap(), 20.0 / 230.0), "{engine}");
        assert_eq!((o.converted.orders, o.converted.refunds, o.converted.payments), (1, 1, 1), "{engine}");
        // Weeks starting Oct 26 (clipped to Nov 1), Nov 2, 9, 16, 23, 30.
        let starts: Vec<String> = o.buckets.iter().map(|b| b.start.to_string()).collect();
        assert_eq!(starts, ["2026-11-01", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"], "{engine}");
        assert_eq!(o.buckets[0].orders, 1);
        assert!(close(o.buckets[1].revenue, 100.0) && o.buckets[1].refunds == 1, "{engine}: {:?}", o.buckets[1]);
        assert!(close(o.buckets[1].refunded, 20.0));
        assert_eq!(o.buckets[2].orders, 1);
        let methods: Vec<(Option<&str>, u64, f64)> = o
            .payments_by_method
            .iter()
            .map(|m| (m.method.as_deref(), m.count, (m.amount * 100.0).round() / 100.0))
            .collect();
        assert_eq!(methods, [(Some("Stripe"), 2, 130.0), (Some("Bank wire"), 1, 100.0)], "{engine}");
        // p2: 40 + 86/0.86 = 140 over 5 units; p1: 60 over 2; p3: 30 over 1 (the cancelled
        // order's 9 units are not counted).
        let by_revenue: Vec<&str> = o.top_by_revenue.iter().map(|p| p.product_id.as_deref().unwrap()).collect();
        assert_eq!(by_revenue, ["p2", "p1", "p3"], "{engine}");
        assert!(close(o.top_by_revenue[0].revenue, 140.0) && close(o.top_by_revenue[0].units, 5.0));
        assert_eq!(o.top_by_revenue[0].name.as_deref(), Some("Product p2"));
        let by_units: Vec<&str> = o.top_by_units.iter().map(|p| p.product_id.as_deref().unwrap()).collect();
        assert_eq!(by_units, ["p2", "p1", "p3"], "{engine}");
        // c1 ordered before the period (returning); c2 first ordered in it (new).
        assert_eq!((o.new_customers.customers, o.new_customers.orders), (1, 2), "{engine}");
        assert!(close(o.new_customers.revenue, 130.0));
        assert_eq!((o.returning_customers.customers, o.returning_customers.orders), (1, 1), "{engine}");
        let countries: Vec<(Option<&str>, u64)> = o.countries.iter().map(|c| (c.country.as_deref(), c.orders)).collect();
        assert_eq!(countries, [(Some("FRA"), 2), (Some("GBR"), 1)], "{engine}");

        // Periods with partial months (products: whole months from their rollup, the days
        // around them from the lines). Oct 15 to Dec 15 holds orders 1, 2, 3, 5 and 6.
        let wide = Period::new(day("2026-10-15"), day("2026-12-15")).unwrap();
        let o = store.overview(&conn, wide, Grain::Month, Some("EUR")).await.unwrap();
        let products: Vec<(&str, f64, f64)> = o
            .top_by_revenue
            .iter()
            .map(|p| (p.product_id.as_deref().unwrap(), p.units, (p.revenue * 100.0).round() / 100.0))
            .collect();
        assert_eq!(products, [("p1", 4.0, 180.0), ("p2", 5.0, 140.0), ("p3", 1.0, 30.0)], "{engine}");
        assert_eq!((o.orders, o.buckets.len()), (5, 3), "{engine}");
        // c1, c2 and c4 all first ordered in it.
        assert_eq!((o.new_customers.customers, o.new_customers.orders), (3, 5), "{engine}");
        assert!(close(o.new_customers.revenue, 350.0), "{engine}: {:?}", o.new_customers);
        assert_eq!(o.returning_customers, Default::default(), "{engine}");
        // From Oct 31, c1 (first order Oct 30) is returning, counted once.
        let later = Period::new(day("2026-10-31"), day("2026-12-15")).unwrap();
        let o = store.overview(&conn, later, Grain::Week, Some("EUR")).await.unwrap();
        assert_eq!((o.returning_customers.customers, o.returning_customers.orders), (1, 1), "{engine}");
        assert_eq!((o.new_customers.customers, o.new_customers.orders), (2, 3), "{engine}");
        let units: f64 = o.top_by_units.iter().map(|p| p.units).sum();
        assert_eq!(units, 9.0, "{engine}: p1 3 (orders 2, 6), p2 5, p3 1");
        // Without a whole month, all from the lines: Nov 2 to Nov 29 holds orders 3 and 5.
        let inside = Period::new(day("2026-11-02"), day("2026-11-29")).unwrap();
        let o = store.overview(&conn, inside, Grain::Day, Some("EUR")).await.unwrap();
        let by_revenue: Vec<&str> = o.top_by_revenue.iter().map(|p| p.product_id.as_deref().unwrap()).collect();
        assert_eq!(by_revenue, ["p2", "p3"], "{engine}");
        assert_eq!((o.new_customers.customers, o.returning_customers.customers), (1, 0), "{engine}");

        // An update moves the order's figures; a deletion mark removes them.
        let mut changed = orders[4].clone();
        changed.data["totalAmount"] = json!(45.0);
        store
            .upsert_commerce_page(&conn, "commerce-orders", &[changed], None, at(5))
            .await
            .unwrap();
        store
            .mark_deleted(&conn, RecordSet::Commerce("commerce-transactions"), &["refund-1".to_string()], at(6))
            .await
            .unwrap();
        store
            .mark_deleted(&conn, RecordSet::Commerce("commerce-orders"), &["2".to_string()], at(6))
            .await
            .unwrap();
        let o = store
            .overview(&conn, period, Grain::Month, Some("EUR"))
            .await
            .unwrap();
        assert_eq!(o.orders, 2, "{engine}");
        assert!(close(o.gross_sales, 145.0), "{engine}: {}", o.gross_sales);
        assert!(close(o.refunds, 0.0), "{engine}");
        assert_eq!(o.refund_rate, Some(0.0));
        assert_eq!(o.buckets.len(), 1);
        // c1's only order left is before the period: c2 is the only customer, new.
        assert_eq!((o.new_customers.customers, o.returning_customers.customers), (1, 0), "{engine}");

        // An empty period has no averages; a deleted connection leaves no rows behind.
        let empty = Period::new(day("2020-01-01"), day("2020-01-31")).unwrap();
        let o = store.overview(&conn, empty, Grain::Day, Some("EUR")).await.unwrap();
        assert_eq!((o.orders, o.average_order_value, o.refund_rate), (0, None, None));
        assert_eq!(o.buckets.len(), 31);
        store.delete_connection(&conn).await.unwrap();
        let left = store.overview(&conn, period, Grain::Day, Some("EUR")).await.unwrap();
        assert_eq!((left.orders, left.payments_by_method.len()), (0, 0), "{engine}");
        t
    })
    .await;
}

#[tokio::test]
async fn records_of_odd_shapes_are_written_and_counted_as_far_as_they_go() {
    on_both_engines("overview_odd", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let odd = [
            // Lines that are not a list, amounts as text, no date, a rate that is not a number.
            record("1", json!({"orderLineItems": 3, "totalAmount": "12.5", "createdDate": "2026-11-02T10:00:00Z"})),
            record("2", json!({"orderLineItems": "x", "totalAmount": {"a": 1}, "createdDate": null})),
            record("3", json!({"createdDate": "2026-11-02", "totalAmount": 7,
                               "supplementalData": {"content": {"conversionRate": "abc"}}})),
            record("4", json!([1, 2, 3])),
        ];
        store
            .upsert_commerce_page(&conn, "commerce-orders", &odd, None, at(1))
            .await
            .unwrap();
        let period = Period::new(day("2026-11-01"), day("2026-11-30")).unwrap();
        let o = store.overview(&conn, period, Grain::Day, None).await.unwrap();
        assert_eq!(o.orders, 2, "{}", t.engine());
        assert!(close(o.gross_sales, 19.5), "{}: {}", t.engine(), o.gross_sales);
        assert!(o.top_by_revenue.is_empty());
        t
    })
    .await;
}

#[tokio::test]
async fn migration_0030_fills_the_rollups_of_a_database_written_before_it() {
    on_both_engines("overview_backfill", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let orders: Vec<CommerceRecord> = (0..40)
            .map(|i| {
                let created = format!("2026-{:02}-{:02}T10:00:00+01:00", 9 + i % 3, 1 + i % 28);
                // A rate of 0.5 keeps every sum exact, whatever the order of the additions.
                let (currency, rate) = if i % 5 == 0 { ("GBP", "0.5") } else { ("EUR", "1") };
                let customer = format!("c{}", i % 7);
                let product = format!("p{}", i % 4);
                order(&i.to_string(), &created, 10.0 + f64::from(i), currency, rate, &customer,
                      i % 9 != 0, &[(product.as_str(), 1.0 + f64::from(i % 3), 5.0 + f64::from(i))])
            })
            .collect();
        store.upsert_commerce_page(&conn, "commerce-orders", &orders, None, at(1)).await.unwrap();
        let payments: Vec<CommerceRecord> = (0..20)
            .map(|i| {
                record(&i.to_string(), json!({"amount": 10.0 + f64::from(i), "currency": "EUR",
                    "paymentMethodRef": {"name": if i % 2 == 0 { "Card" } else { "Wire" }},
                    "createdDate": format!("2026-10-{:02}T10:00:00+01:00", 1 + i)}))
            })
            .collect();
        store.upsert_commerce_page(&conn, "commerce-payments", &payments, None, at(2)).await.unwrap();
        let refund = record("r1", json!({"type": "Refund", "totalAmount": -7.5, "currency": "EUR",
            "subType": "credit_slip", "sourceCreatedDate": "2026-10-20T10:00:00+01:00"}));
        store.upsert_commerce_page(&conn, "commerce-transactions", &[refund], None, at(3)).await.unwrap();
        let period = Period::new(day("2026-09-10"), day("2026-11-20")).unwrap();
        let written = store.overview(&conn, period, Grain::Week, Some("EUR")).await.unwrap();
        assert!(written.orders > 20 && written.new_customers.customers > 0, "{written:?}");

        // The database as migration 0013 left it: no rollups, 0013's indexes.
        let mut undo: Vec<&str> = vec![
            "DROP TABLE overview_order_days",
            "DROP TABLE overview_money_days",
            "DROP TABLE overview_product_months",
            "DROP TABLE overview_customer_orders",
            "DELETE FROM _sqlx_migrations WHERE version IN (30, 31)",
            "CREATE INDEX overview_orders_day ON overview_orders (connection_id, local_date, valid, total_amount, conversion_rate, currency, country, customer_id)",
            "CREATE INDEX overview_orders_customer ON overview_orders (connection_id, customer_id, valid, local_date)",
            "CREATE INDEX overview_money_day ON overview_money (connection_id, kind, local_date, method, amount, conversion_rate, currency)",
        ];
        match t.engine() {
            "sqlite" => undo.extend([
                "DROP TRIGGER overview_rollup_order_insert",
                "DROP TRIGGER overview_rollup_order_delete",
                "DROP TRIGGER overview_rollup_line_insert",
                "DROP TRIGGER overview_rollup_line_delete",
                "DROP TRIGGER overview_rollup_money_insert",
                "DROP TRIGGER overview_rollup_money_delete",
            ]),
            _ => undo.extend([
                "DROP TRIGGER overview_rollup_orders ON overview_orders",
                "DROP TRIGGER overview_rollup_lines ON overview_lines",
                "DROP TRIGGER overview_rollup_money ON overview_money",
                "DROP FUNCTION overview_rollup_orders()",
                "DROP FUNCTION overview_rollup_lines()",
                "DROP FUNCTION overview_rollup_money()",
                "DROP FUNCTION overview_customer_refresh(TEXT, TEXT)",
            ]),
        }
        store.close().await;
        t.execute(&undo).await;
        let store = t.reopen(prestalink_store::MasterKeySource::Bytes(common::KEY)).await;
        let filled = store.overview(&conn, period, Grain::Week, Some("EUR")).await.unwrap();
        assert_eq!(filled, written, "{}", t.engine());
        store.close().await;
        t
    })
    .await;
}
