//! Invariants of generated stores and of churn: determinism, money that adds up, orders
//! whose rows are their details, payments matching references, histories ending at the
//! current state, stock for every product and combination per shop, associations that
//! match the tables, and the deliberate mess.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};

use super::build::{get_int, get_money, get_text, missing_fields, parse_local, NO_DATE};
use super::{generate, mess, GenConfig};
use crate::churn::Churn;
use crate::store::{Row, Store, Value};

fn rows<'s>(store: &'s Store, name: &str) -> impl Iterator<Item = &'s Row> {
    store.table(name).into_iter().flat_map(|t| t.rows.values())
}

fn text(store: &Store, name: &str, row: &Row, field: &str) -> String {
    get_text(row, store.table(name).expect("table").resource, field).into_owned()
}

fn int(store: &Store, name: &str, row: &Row, field: &str) -> i64 {
    get_int(row, store.table(name).expect("table").resource, field)
}

fn amount(store: &Store, name: &str, row: &Row, field: &str) -> i64 {
    get_money(row, store.table(name).expect("table").resource, field)
}

fn assoc<'r>(store: &Store, name: &str, row: &'r Row, assoc: &str) -> &'r [Vec<Value>] {
    let i = store
        .table(name)
        .expect("table")
        .resource
        .association_index(assoc)
        .expect("association");
    &row.assocs[i]
}

fn assoc_ids(store: &Store, name: &str, row: &Row, a: &str) -> Vec<u64> {
    assoc(store, name, row, a)
        .iter()
        .filter_map(|e| e.first().and_then(Value::as_int))
        .map(|v| v as u64)
        .collect()
}

fn has(store: &Store, name: &str, id: u64) -> bool {
    store.table(name).is_some_and(|t| t.rows.contains_key(&id))
}

/// Every coherence rule the generator and churn promise; returns the violations.
fn violations(store: &Store) -> Vec<String> {
    let mut v = Vec::new();
    orders_are_coherent(store, &mut v);
    payments_match_references(store, &mut v);
    histories_end_at_current_state(store, &mut v);
    slips_are_bounded(store, &mut v);
    catalog_is_coherent(store, &mut v);
    v.truncate(20);
    v
}

fn orders_are_coherent(store: &Store, v: &mut Vec<String>) {
    let mut details_by_order: BTreeMap<u64, Vec<&Row>> = BTreeMap::new();
    for d in rows(store, "order_details") {
        details_by_order
            .entry(int(store, "order_details", d, "id_order") as u64)
            .or_default()
            .push(d);
    }
    for o in rows(store, "orders") {
        let id = o.id;
        let lines = assoc(store, "orders", o, "order_rows");
        let details = details_by_order.get(&id).cloned().unwrap_or_default();
        if lines.len() != details.len() || lines.is_empty() {
            v.push(format!(
                "order {id}: {} rows, {} details",
                lines.len(),
                details.len()
            ));
            continue;
        }
        for (line, d) in lines.iter().zip(&details) {
            if line[0].as_int() != Some(d.id as i64)
                || line[1].as_int() != Some(int(store, "order_details", d, "product_id"))
                || line[3].as_int() != Some(int(store, "order_details", d, "product_quantity"))
                || line[11].as_text() != text(store, "order_details", d, "unit_price_tax_incl")
            {
                v.push(format!(
                    "order {id}: row {:?} differs from detail {}",
                    line[0], d.id
                ));
            }
        }
        let sum = |f: &str| {
            details
                .iter()
                .map(|d| amount(store, "order_details", d, f))
                .sum::<i64>()
        };
        let a = |f: &str| amount(store, "orders", o, f);
        if sum("total_price_tax_excl") != a("total_products")
            || sum("total_price_tax_incl") != a("total_products_wt")
        {
            v.push(format!("order {id}: products totals differ from details"));
        }
        let incl =
            a("total_products_wt") + a("total_shipping_tax_incl") + a("total_wrapping_tax_incl")
                - a("total_discounts_tax_incl");
        let excl =
            a("total_products") + a("total_shipping_tax_excl") + a("total_wrapping_tax_excl")
                - a("total_discounts_tax_excl");
        if incl != a("total_paid_tax_incl")
            || a("total_paid") != incl
            || excl != a("total_paid_tax_excl")
        {
            v.push(format!("order {id}: paid totals do not add up"));
        }
        for f in [
            "total_paid",
            "total_paid_tax_incl",
            "total_products_wt",
            "total_shipping_tax_incl",
        ] {
            if a(f) % 10_000 != 0 {
                v.push(format!("order {id}: {f} not rounded to cents"));
            }
        }
        let added = text(store, "orders", o, "date_add");
        let updated = text(store, "orders", o, "date_upd");
        if parse_local(&added).is_none() || updated < added {
            v.push(format!("order {id}: dates {added} / {updated}"));
        }
        let invoiced = int(store, "orders", o, "invoice_number") != 0;
        if invoiced == (text(store, "orders", o, "invoice_date") == NO_DATE) {
            v.push(format!("order {id}: invoice number and date disagree"));
        }
        if !has(store, "carts", int(store, "orders", o, "id_cart") as u64) {
            v.push(format!("order {id}: no cart"));
        }
    }
    let invoices: BTreeSet<u64> = rows(store, "order_invoices")
        .map(|r| int(store, "order_invoices", r, "id_order") as u64)
        .collect();
    for o in rows(store, "orders") {
        if (int(store, "orders", o, "invoice_number") != 0) != invoices.contains(&o.id) {
            v.push(format!("order {}: invoice row mismatch", o.id));
        }
    }
}

fn payments_match_references(store: &Store, v: &mut Vec<String>) {
    let mut real: BTreeMap<String, i64> = BTreeMap::new();
    for o in rows(store, "orders") {
        *real
            .entry(text(store, "orders", o, "reference"))
            .or_default() += amount(store, "orders", o, "total_paid_real");
    }
    let mut paid: BTreeMap<String, i64> = BTreeMap::new();
    for p in rows(store, "order_payments") {
        let r = text(store, "order_payments", p, "order_reference");
        if !real.contains_key(&r) {
            v.push(format!("payment {}: no order with reference {r}", p.id));
        }
        *paid.entry(r).or_default() += amount(store, "order_payments", p, "amount");
    }
    for (r, total) in &real {
        if paid.get(r).copied().unwrap_or(0) != *total {
            v.push(format!(
                "reference {r}: payments {:?} vs total_paid_real {total}",
                paid.get(r)
            ));
        }
    }
}

fn histories_end_at_current_state(store: &Store, v: &mut Vec<String>) {
    let mut last: BTreeMap<u64, i64> = BTreeMap::new();
    for h in rows(store, "order_histories") {
        last.insert(
            int(store, "order_histories", h, "id_order") as u64,
            int(store, "order_histories", h, "id_order_state"),
        );
    }
    for o in rows(store, "orders") {
        if last.get(&o.id) != Some(&int(store, "orders", o, "current_state")) {
            v.push(format!(
                "order {}: history ends at {:?}",
                o.id,
                last.get(&o.id)
            ));
        }
    }
}

fn slips_are_bounded(store: &Store, v: &mut Vec<String>) {
    let mut refunded: BTreeMap<u64, i64> = BTreeMap::new();
    for s in rows(store, "order_slip") {
        let order = int(store, "order_slip", s, "id_order") as u64;
        *refunded.entry(order).or_default() += amount(store, "order_slip", s, "amount");
        let Some(o) = store.table("orders").and_then(|t| t.rows.get(&order)) else {
            v.push(format!("slip {}: no order", s.id));
            continue;
        };
        let details: BTreeSet<u64> = assoc_ids(store, "orders", o, "order_rows")
            .into_iter()
            .collect();
        for e in assoc(store, "order_slip", s, "order_slip_details") {
            if !e
                .get(1)
                .and_then(Value::as_int)
                .is_some_and(|d| details.contains(&(d as u64)))
            {
                v.push(format!("slip {}: detail of another order", s.id));
            }
        }
    }
    for (order, total) in refunded {
        let paid = store
            .table("orders")
            .and_then(|t| t.rows.get(&order))
            .map_or(0, |o| amount(store, "orders", o, "total_paid_tax_incl"));
        if total > paid {
            v.push(format!("order {order}: refunded {total} > paid {paid}"));
        }
    }
}

fn catalog_is_coherent(store: &Store, v: &mut Vec<String>) {
    let mut stock: BTreeMap<(u64, u64, u64), u64> = BTreeMap::new();
    for s in rows(store, "stock_availables") {
        let key = (
            int(store, "stock_availables", s, "id_product") as u64,
            int(store, "stock_availables", s, "id_product_attribute") as u64,
            int(store, "stock_availables", s, "id_shop") as u64,
        );
        if stock.insert(key, s.id).is_some() {
            v.push(format!("stock {key:?} twice"));
        }
    }
    let mut combos: BTreeMap<u64, Vec<&Row>> = BTreeMap::new();
    for c in rows(store, "combinations") {
        combos
            .entry(int(store, "combinations", c, "id_product") as u64)
            .or_default()
            .push(c);
    }
    for p in rows(store, "products") {
        let mine = combos.get(&p.id).cloned().unwrap_or_default();
        let ids: Vec<u64> = mine.iter().map(|c| c.id).collect();
        if assoc_ids(store, "products", p, "combinations") != ids {
            v.push(format!("product {}: combinations association", p.id));
        }
        let mut values: Vec<u64> = mine
            .iter()
            .flat_map(|c| assoc_ids(store, "combinations", c, "product_option_values"))
            .collect();
        values.sort_unstable();
        values.dedup();
        if assoc_ids(store, "products", p, "product_option_values") != values {
            v.push(format!("product {}: option values association", p.id));
        }
        for shop in &p.shops {
            for attr in std::iter::once(0).chain(ids.iter().copied()) {
                if !stock.contains_key(&(p.id, attr, *shop as u64)) {
                    v.push(format!(
                        "product {} attr {attr} shop {shop}: no stock row",
                        p.id
                    ));
                }
            }
        }
        for e in assoc(store, "products", p, "stock_availables") {
            let (id, attr) = (
                e[0].as_int().unwrap_or(0) as u64,
                e[1].as_int().unwrap_or(-1) as u64,
            );
            if stock.get(&(p.id, attr, p.shops[0] as u64)) != Some(&id) {
                v.push(format!("product {}: stock association {id}/{attr}", p.id));
            }
        }
        let maker = int(store, "products", p, "id_manufacturer") as u64;
        let maker_name = store
            .table("manufacturers")
            .and_then(|t| t.rows.get(&maker))
            .map(|m| text(store, "manufacturers", m, "name"));
        if maker_name.as_deref() != Some(text(store, "products", p, "manufacturer_name").as_str()) {
            v.push(format!(
                "product {}: manufacturer {maker} {maker_name:?}",
                p.id
            ));
        }
        if !has(
            store,
            "suppliers",
            int(store, "products", p, "id_supplier") as u64,
        ) {
            v.push(format!("product {}: no supplier", p.id));
        }
        for c in assoc_ids(store, "products", p, "categories") {
            if !has(store, "categories", c) {
                v.push(format!("product {}: category {c} missing", p.id));
            }
        }
    }
    for c in rows(store, "categories") {
        for p in assoc_ids(store, "categories", c, "products") {
            let listed = store
                .table("products")
                .and_then(|t| t.rows.get(&p))
                .map(|p| assoc_ids(store, "products", p, "categories"));
            if !listed.is_some_and(|l| l.contains(&c.id)) {
                v.push(format!("category {}: lists product {p} not in it", c.id));
            }
        }
    }
}

fn cfg(orders: u32) -> GenConfig {
    GenConfig {
        orders,
        customers: (orders / 3).max(30),
        products: 60,
        ..GenConfig::default()
    }
}

#[test]
fn same_config_gives_the_same_store_and_another_seed_another() {
    let a = generate(&cfg(300));
    let b = generate(&cfg(300));
    let c = generate(&GenConfig {
        seed: 7,
        ..cfg(300)
    });
    assert_eq!(
        a.tables.keys().collect::<Vec<_>>(),
        b.tables.keys().collect::<Vec<_>>()
    );
    for (name, t) in &a.tables {
        assert_eq!(t.rows, b.tables[name].rows, "table {name} differs");
    }
    assert_ne!(a.tables["orders"].rows, c.tables["orders"].rows);
    assert_ne!(a.tables["customers"].rows, c.tables["customers"].rows);
}

#[test]
fn generated_store_is_coherent() {
    let store = generate(&cfg(2_000));
    assert_eq!(violations(&store), Vec::<String>::new());
    assert_eq!(store.tables["orders"].rows.len(), 2_000);
    assert!(
        missing_fields().is_empty(),
        "fields missing from resources: {:?}",
        missing_fields()
    );
}

#[test]
fn split_orders_share_a_reference_and_one_payment() {
    let store = generate(&cfg(1_000));
    let mut by_ref: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for o in rows(&store, "orders") {
        by_ref
            .entry(text(&store, "orders", o, "reference"))
            .or_default()
            .push(o.id);
    }
    let split: Vec<&String> = by_ref
        .iter()
        .filter(|(_, ids)| ids.len() == 2)
        .map(|(r, _)| r)
        .collect();
    assert!(split.len() >= 5, "{} split orders", split.len());
    let paid_split = split
        .iter()
        .filter(|r| {
            rows(&store, "order_payments")
                .filter(|p| text(&store, "order_payments", p, "order_reference") == ***r)
                .count()
                == 1
        })
        .count();
    assert!(paid_split >= 3);
}

#[test]
fn orders_carry_states_payments_invoices_slips_and_currencies() {
    let store = generate(&cfg(2_000));
    let states: BTreeSet<i64> = rows(&store, "orders")
        .map(|o| int(&store, "orders", o, "current_state"))
        .collect();
    // Long-lived states hold orders at any time; every state but 12 was passed through.
    for s in [1, 5, 6, 7, 10] {
        assert!(states.contains(&s), "no order in state {s}: {states:?}");
    }
    let passed: BTreeSet<i64> = rows(&store, "order_histories")
        .map(|h| int(&store, "order_histories", h, "id_order_state"))
        .collect();
    assert_eq!(
        passed,
        (1..=13).filter(|s| *s != 12).collect::<BTreeSet<i64>>()
    );
    assert!(store.tables["order_invoices"].rows.len() > 1_000);
    let partial = rows(&store, "order_slip")
        .filter(|s| int(&store, "order_slip", s, "partial") == 1)
        .count();
    let full = rows(&store, "order_slip").count() - partial;
    assert!(partial > 0 && full > 0, "partial {partial}, full {full}");
    let foreign = rows(&store, "orders")
        .filter(|o| int(&store, "orders", o, "id_currency") != 1)
        .count();
    assert!(
        foreign > 20 && foreign < 400,
        "{foreign} orders in another currency"
    );
    assert!(
        rows(&store, "orders").any(|o| text(&store, "orders", o, "conversion_rate") == "1.080000")
    );
    assert!(rows(&store, "order_payments").any(|p| !text(
        &store,
        "order_payments",
        p,
        "transaction_id"
    )
    .is_empty()));
    assert!(rows(&store, "orders").any(|o| amount(&store, "orders", o, "total_discounts") > 0));
    assert!(rows(&store, "orders").any(|o| amount(&store, "orders", o, "total_wrapping") > 0));
    assert!(
        rows(&store, "orders").any(|o| text(&store, "orders", o, "carrier_tax_rate") == "0.000")
    );
    assert!(!store.tables["order_cart_rules"].rows.is_empty());
}

#[test]
fn the_deliberate_mess_is_there() {
    let store = generate(&cfg(2_000));
    let lines: Vec<u64> = rows(&store, "order_details")
        .map(|d| int(&store, "order_details", d, "product_id") as u64)
        .collect();
    let orders_gone_product: BTreeSet<i64> = rows(&store, "order_details")
        .filter(|d| {
            !has(
                &store,
                "products",
                int(&store, "order_details", d, "product_id") as u64,
            )
        })
        .map(|d| int(&store, "order_details", d, "id_order"))
        .collect();
    assert!(lines.iter().any(|p| !has(&store, "products", *p)));
    let share = orders_gone_product.len() as f64 / 2_000.0;
    assert!(
        (0.005..0.05).contains(&share),
        "{share} of orders reference deleted products"
    );
    let gone_customer = rows(&store, "orders")
        .filter(|o| {
            !has(
                &store,
                "customers",
                int(&store, "orders", o, "id_customer") as u64,
            )
        })
        .count();
    let share = gone_customer as f64 / 2_000.0;
    assert!(
        (0.003..0.06).contains(&share),
        "{share} of orders reference deleted customers"
    );
    assert!(rows(&store, "combinations").any(|c| assoc(
        &store,
        "combinations",
        c,
        "product_option_values"
    )
    .is_empty()));
    assert!(rows(&store, "categories").any(|c| {
        let parent = int(&store, "categories", c, "id_parent") as u64;
        parent != 0 && !has(&store, "categories", parent)
    }));
    assert!(rows(&store, "orders").any(|o| text(&store, "orders", o, "module") == "xyzpay_legacy"));
    let references: Vec<String> = rows(&store, "products")
        .map(|p| text(&store, "products", p, "reference"))
        .collect();
    assert!(references.iter().any(String::is_empty));
    let distinct: BTreeSet<&String> = references.iter().filter(|r| !r.is_empty()).collect();
    assert!(
        distinct.len() < references.iter().filter(|r| !r.is_empty()).count(),
        "no duplicate reference"
    );
    let mut all_text = String::new();
    for (name, fields) in [
        (
            "products",
            &["name", "description", "description_short"][..],
        ),
        ("orders", &["note"][..]),
        ("addresses", &["address2", "other"][..]),
        ("customers", &["note", "company"][..]),
    ] {
        for r in rows(&store, name) {
            for f in fields {
                all_text.push_str(&text(&store, name, r, f));
            }
        }
    }
    for needle in [
        mess::VERTICAL_TAB,
        mess::START_OF_HEADING,
        mess::UNIT_SEPARATOR,
        mess::CDATA_END,
        "&",
        "<",
        mess::EMOJI,
        mess::RTL,
    ] {
        assert!(all_text.contains(needle), "no {needle:?} in texts");
    }
    assert!(rows(&store, "carriers").any(|c| text(&store, "carriers", c, "deleted") == "1"));
    assert!(rows(&store, "orders").any(|o| int(&store, "orders", o, "id_carrier") == 3));
}

#[test]
fn dates_are_local_spread_over_two_years_and_some_fall_in_the_dst_overlap() {
    let c = cfg(3_000);
    let store = generate(&c);
    let tz = c.tz();
    let now = c.now();
    let mut ambiguous = 0;
    let mut first = now;
    for o in rows(&store, "orders") {
        let added = parse_local(&text(&store, "orders", o, "date_add")).expect("date");
        assert!(added <= now);
        first = first.min(added);
        match tz.from_local_datetime(&added) {
            chrono::LocalResult::None => {
                panic!("order {} at a non-existent local time {added}", o.id)
            }
            chrono::LocalResult::Ambiguous(..) => ambiguous += 1,
            chrono::LocalResult::Single(_) => {}
        }
    }
    assert!(ambiguous >= 2, "{ambiguous} orders in a fall-back hour");
    let at = |h: u32| {
        rows(&store, "orders")
            .filter_map(|o| parse_local(&text(&store, "orders", o, "date_add")))
            .filter(|t| t.hour() == h)
            .count()
    };
    assert!(
        at(20) > 3 * at(4),
        "evenings ({}) should be busier than nights ({})",
        at(20),
        at(4)
    );
    let half = now - chrono::Duration::days(365);
    let recent = rows(&store, "orders")
        .filter_map(|o| parse_local(&text(&store, "orders", o, "date_add")))
        .filter(|t| *t > half)
        .count();
    assert!(
        recent > 1_600,
        "a growing shop has more orders in its last year: {recent}"
    );
    assert!((now - first).num_days() > 700, "history starts {first}");
    for d in rows(&store, "orders").map(|o| text(&store, "orders", o, "date_upd")) {
        assert!(parse_local(&d).is_some());
    }
    // Another zone, another fall-back date (first Sunday of November in New York).
    let ny = GenConfig {
        timezone: "America/New_York".into(),
        ..cfg(3_000)
    };
    let store = generate(&ny);
    let tz = ny.tz();
    let ambiguous = rows(&store, "orders")
        .filter_map(|o| parse_local(&text(&store, "orders", o, "date_add")))
        .filter(|t| {
            matches!(
                tz.from_local_datetime(t),
                chrono::LocalResult::Ambiguous(..)
            )
        })
        .count();
    assert!(
        ambiguous >= 2,
        "{ambiguous} New York orders in a fall-back hour"
    );
    let utc = generate(&GenConfig {
        timezone: "UTC".into(),
        ..cfg(200)
    });
    assert_eq!(utc.timezone, "UTC");
    let cfg_row = rows(&utc, "configurations")
        .find(|r| text(&utc, "configurations", r, "name") == "PS_TIMEZONE")
        .expect("PS_TIMEZONE");
    assert_eq!(text(&utc, "configurations", cfg_row, "value"), "UTC");
}

#[test]
fn two_languages_translate_with_a_prefix() {
    let store = generate(&GenConfig {
        languages: 2,
        ..cfg(100)
    });
    assert_eq!(store.languages, vec![1, 2]);
    let p = rows(&store, "products").next().expect("product");
    let pr = store.tables["products"].resource;
    let Some(Value::Lang(names)) = p.get(pr, "name") else {
        panic!("name is not multilingual")
    };
    assert_eq!(names.len(), 2);
    assert_eq!(names[1], format!("[FR] {}", names[0]));
    let Some(Value::Lang(slugs)) = p.get(pr, "link_rewrite") else {
        panic!("no slug")
    };
    assert_eq!(slugs[1], format!("fr-{}", slugs[0]));
    assert_eq!(store.tables["languages"].rows.len(), 2);
    let one = generate(&cfg(10));
    let Some(Value::Lang(names)) = rows(&one, "products")
        .next()
        .expect("product")
        .get(pr, "name")
    else {
        panic!()
    };
    assert_eq!(names.len(), 1);
}

#[test]
fn multishop_scopes_rows_and_orders_follow_their_customer() {
    let store = generate(&GenConfig {
        shops: 3,
        ..cfg(1_000)
    });
    assert_eq!(violations(&store), Vec::<String>::new());
    assert_eq!(store.tables["shops"].rows.len(), 3);
    assert_eq!(store.tables["shop_groups"].rows.len(), 2);
    let shops: BTreeSet<i64> = rows(&store, "orders")
        .map(|o| int(&store, "orders", o, "id_shop"))
        .collect();
    assert_eq!(shops, BTreeSet::from([1, 2, 3]));
    for o in rows(&store, "orders") {
        let shop = int(&store, "orders", o, "id_shop");
        assert_eq!(
            int(&store, "orders", o, "id_shop_group"),
            if shop <= 2 { 1 } else { 2 }
        );
        if let Some(c) = store.tables["customers"]
            .rows
            .get(&(int(&store, "orders", o, "id_customer") as u64))
        {
            assert_eq!(int(&store, "customers", c, "id_shop"), shop);
        }
        for d in assoc_ids(&store, "orders", o, "order_rows") {
            let product = int(
                &store,
                "order_details",
                &store.tables["order_details"].rows[&d],
                "product_id",
            ) as u64;
            if let Some(p) = store.tables["products"].rows.get(&product) {
                assert!(
                    p.shops.contains(&(shop as u32)),
                    "order {} sells product {product} outside shop {shop}",
                    o.id
                );
            }
        }
    }
    assert!(rows(&store, "products").any(|p| p.shops == vec![1]));
    assert!(rows(&store, "products").any(|p| p.shops == vec![1, 2, 3]));
    let per_shop_names = rows(&store, "configurations")
        .filter(|r| text(&store, "configurations", r, "name") == "PS_SHOP_NAME")
        .count();
    assert_eq!(per_shop_names, 4);
}

#[test]
fn empty_and_tiny_configs_generate() {
    let store = generate(&GenConfig {
        orders: 0,
        customers: 0,
        products: 0,
        ..GenConfig::default()
    });
    assert!(store.tables["order_states"].rows.len() == 13);
    for name in super::GENERATED {
        assert!(store.table(name).is_some(), "no table {name}");
    }
    assert!(store.tables["orders"].rows.is_empty());
    let tiny = generate(&GenConfig {
        orders: 3,
        customers: 1,
        products: 1,
        ..GenConfig::default()
    });
    assert_eq!(violations(&tiny), Vec::<String>::new());
}

fn now_after(store: &Store, minutes: i64) -> NaiveDateTime {
    let last = rows(store, "orders")
        .filter_map(|o| parse_local(&text(store, "orders", o, "date_upd")))
        .max()
        .expect("orders");
    last.max(GenConfig::default().now()) + chrono::Duration::minutes(minutes)
}

/// Checks that a report says exactly what changed between two stores.
fn report_is_exact(before: &Store, after: &Store, report: &crate::churn::ChurnReport) {
    for (name, ids) in &report.created {
        for id in ids {
            assert!(has(after, name, *id), "created {name} {id} missing");
            assert!(
                !has(before, name, *id),
                "created {name} {id} existed before"
            );
        }
    }
    for (name, ids) in &report.deleted {
        for id in ids {
            assert!(!has(after, name, *id), "deleted {name} {id} still there");
            assert!(has(before, name, *id), "deleted {name} {id} never existed");
        }
    }
    for (name, ids) in &report.updated {
        for id in ids {
            let old = before.tables[name].rows.get(id);
            let new = after.tables[name].rows.get(id);
            assert!(
                old.is_some() && new.is_some(),
                "{name} {id} updated but absent"
            );
            assert_ne!(old, new, "{name} {id} reported updated but unchanged");
        }
    }
    for (name, t) in &after.tables {
        for (id, row) in &t.rows {
            if before.tables.get(name).and_then(|b| b.rows.get(id)) != Some(row) {
                let said =
                    report.created_in(name).contains(id) || report.updated_in(name).contains(id);
                assert!(said, "{name} {id} changed silently");
            }
        }
    }
}

#[test]
fn churn_keeps_invariants_and_reports_what_changed() {
    let mut store = generate(&cfg(500));
    let mut churn = Churn::new(3);
    let mut total = crate::churn::ChurnReport::default();
    for k in 0..20 {
        let before = store.clone();
        let now = now_after(&store, 5 + k);
        let report = churn.step(&mut store, now, 25);
        assert!(!report.is_empty());
        report_is_exact(&before, &store, &report);
        total.merge(report);
    }
    assert_eq!(violations(&store), Vec::<String>::new());
    for name in [
        "orders",
        "order_histories",
        "order_details",
        "customers",
        "order_payments",
    ] {
        assert!(!total.created_in(name).is_empty(), "no {name} created");
    }
    for name in [
        "orders",
        "stock_availables",
        "customers",
        "combinations",
        "products",
    ] {
        assert!(!total.updated_in(name).is_empty(), "no {name} updated");
    }
    assert!(rows(&store, "order_carriers").any(|c| !text(
        &store,
        "order_carriers",
        c,
        "tracking_number"
    )
    .is_empty()));
}

#[test]
fn churn_is_deterministic() {
    let base = generate(&cfg(200));
    let now = now_after(&base, 10);
    let (mut a, mut b) = (base.clone(), base);
    let ra = Churn::new(9).step(&mut a, now, 40);
    let rb = Churn::new(9).step(&mut b, now, 40);
    assert_eq!(ra, rb);
    for (name, t) in &a.tables {
        assert_eq!(t.rows, b.tables[name].rows);
    }
}

#[test]
fn stock_and_combination_changes_do_not_bump_the_product() {
    let mut store = generate(&cfg(100));
    let mut churn = Churn::new(1);
    let cr = store.tables["combinations"].resource;
    let combination = store.tables["combinations"]
        .rows
        .values()
        .next()
        .expect("a combination")
        .clone();
    let product = get_int(&combination, cr, "id_product") as u64;
    let before = store.tables["products"].rows[&product].clone();
    let r = churn.change_stock_silently(&mut store, product, combination.id, 1, 77);
    assert_eq!(r.updated_in("stock_availables").len(), 2);
    let sr = store.tables["stock_availables"].resource;
    let rows_of: Vec<&Row> = store.tables["stock_availables"]
        .rows
        .values()
        .filter(|s| {
            get_int(s, sr, "id_product") == product as i64 && get_int(s, sr, "id_shop") == 1
        })
        .collect();
    let combo_sum: i64 = rows_of
        .iter()
        .filter(|s| get_int(s, sr, "id_product_attribute") != 0)
        .map(|s| get_int(s, sr, "quantity"))
        .sum();
    let product_row = rows_of
        .iter()
        .find(|s| get_int(s, sr, "id_product_attribute") == 0)
        .expect("product row");
    assert_eq!(get_int(product_row, sr, "quantity"), combo_sum);
    assert!(rows_of
        .iter()
        .any(
            |s| get_int(s, sr, "id_product_attribute") == combination.id as i64
                && get_int(s, sr, "quantity") == 77
        ));
    let r = churn.change_combination_silently(&mut store, combination.id, 3_500_000);
    assert_eq!(r.updated_in("combinations"), vec![combination.id]);
    assert_eq!(
        get_text(
            &store.tables["combinations"].rows[&combination.id],
            cr,
            "price"
        ),
        "3.500000"
    );
    assert_eq!(store.tables["products"].rows[&product], before);
}

#[test]
fn scripted_operations_keep_the_store_coherent() {
    let mut store = generate(&cfg(300));
    let mut churn = Churn::new(5);
    let now = now_after(&store, 30);
    let or = store.tables["orders"].resource;
    let waiting = store.tables["orders"]
        .rows
        .values()
        .rev()
        .find(|o| matches!(get_int(o, or, "current_state"), 1 | 10))
        .map(|o| o.id)
        .expect("an order awaiting check or wire payment");
    let payments_before = store.tables["order_payments"].rows.len();
    let before = store.clone();
    let r = churn.update_order_state(&mut store, waiting, 2, now);
    report_is_exact(&before, &store, &r);
    assert_eq!(r.updated_in("orders"), vec![waiting]);
    assert_eq!(r.created_in("order_histories").len(), 1);
    assert_eq!(r.created_in("order_payments").len(), 1);
    assert_eq!(
        store.tables["order_payments"].rows.len(),
        payments_before + 1
    );
    let o = &store.tables["orders"].rows[&waiting];
    assert_eq!(get_text(o, or, "date_upd"), super::build::fmt_local(now));
    assert_eq!(get_int(o, or, "current_state"), 2);
    assert_ne!(get_int(o, or, "invoice_number"), 0);

    let before = store.clone();
    let r = churn.new_order(&mut store, now);
    report_is_exact(&before, &store, &r);
    let id = r.created_in("orders")[0];
    assert_eq!(
        get_text(&store.tables["orders"].rows[&id], or, "date_add"),
        super::build::fmt_local(now)
    );
    assert!(!r.created_in("order_details").is_empty());
    assert!(!r.updated_in("stock_availables").is_empty());

    let delivered = store.tables["orders"]
        .rows
        .values()
        .find(|o| get_int(o, or, "current_state") == 5)
        .map(|o| o.id)
        .expect("a delivered order");
    let upd = get_text(&store.tables["orders"].rows[&delivered], or, "date_upd").into_owned();
    let before = store.clone();
    let r = churn.add_credit_slip(&mut store, delivered, now);
    report_is_exact(&before, &store, &r);
    assert_eq!(r.created_in("order_slip").len(), 1);
    assert_eq!(
        get_text(&store.tables["orders"].rows[&delivered], or, "date_upd"),
        upd
    );

    let before = store.clone();
    let r = churn.add_customer(&mut store, now);
    report_is_exact(&before, &store, &r);
    let customer = r.created_in("customers")[0];
    assert!(!r.created_in("addresses").is_empty());
    let r = churn.update_customer(&mut store, customer, now + chrono::Duration::minutes(1));
    assert_eq!(r.updated_in("customers"), vec![customer]);

    let product = *store.tables["products"]
        .rows
        .keys()
        .next()
        .expect("product");
    let before = store.clone();
    let r = churn.delete_product(&mut store, product);
    report_is_exact(&before, &store, &r);
    assert_eq!(r.deleted_in("products"), vec![product]);
    assert!(!r.deleted_in("stock_availables").is_empty());
    assert!(!has(&store, "products", product));
    assert!(churn.delete_product(&mut store, product).is_empty());
    assert_eq!(violations(&store), Vec::<String>::new());
}

#[test]
fn now_is_fixed_and_local() {
    let now = GenConfig::default().now();
    assert_eq!(
        (now.year(), now.month(), now.day(), now.hour()),
        (2026, 11, 28, 10)
    );
}

#[test]
fn invariants_hold_for_many_seeds_and_shapes() {
    for seed in 1..=8u64 {
        let c = GenConfig {
            seed,
            languages: 1 + (seed % 3) as u32,
            shops: 1 + (seed % 2) as u32,
            orders: 150 + 50 * seed as u32,
            customers: 20 + 10 * seed as u32,
            products: 5 + 7 * seed as u32,
            timezone: ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"][seed as usize % 4]
                .to_string(),
        };
        let mut store = generate(&c);
        assert_eq!(violations(&store), Vec::<String>::new(), "seed {seed}");
        let before = store.clone();
        let now = now_after(&store, 1);
        let report = Churn::new(seed).step(&mut store, now, 30);
        report_is_exact(&before, &store, &report);
        assert_eq!(
            violations(&store),
            Vec::<String>::new(),
            "seed {seed} after churn"
        );
    }
}
