//! Churn: the changes a live shop goes through (new orders, state changes, refunds, new
//! and edited customers, stock and combination edits that do not bump the product's
//! `date_upd`, deleted products), applied to a [`Store`] while it is being read.
//!
//! Every operation keeps the store coherent the way PrestaShop does (an order comes with
//! its details, carrier, history and cart; a paid state records the payment; stock goes
//! down) and reports exactly which rows it created, updated or deleted, so sync tests can
//! check that an incremental sync picked each of them up. Given its seed and the same
//! store, a [`Churn`] makes the same changes.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::generator::build::{fmt_local, get_int, get_money, get_text, schema, table, RowBuilder};
use crate::generator::catalog::{delete_products, link_categories, Catalog};
use crate::generator::orders::{
    add_slip, carrier_ids, change_state, detail_ids, insert_order, plan_order, remaining_lines,
    Pay, Seq,
};
use crate::generator::people::{write_customer, Person};
use crate::generator::reference::{country_by_id, order_state, state, PAYMENT_MODULES};
use crate::generator::{Ctx, HISTORY_SECS};
use crate::store::{Store, Value};

/// Ids of rows a churn step or operation created, updated and deleted, per resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChurnReport {
    /// Rows that did not exist before.
    pub created: BTreeMap<&'static str, BTreeSet<u64>>,
    /// Existing rows whose content changed (not counting rows created in the same report).
    pub updated: BTreeMap<&'static str, BTreeSet<u64>>,
    /// Rows that no longer exist.
    pub deleted: BTreeMap<&'static str, BTreeSet<u64>>,
}

impl ChurnReport {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.deleted.is_empty()
    }

    /// Number of row changes of every kind.
    pub fn len(&self) -> usize {
        [&self.created, &self.updated, &self.deleted]
            .iter()
            .flat_map(|m| m.values())
            .map(BTreeSet::len)
            .sum()
    }

    /// Ids created in a resource.
    pub fn created_in(&self, resource: &str) -> Vec<u64> {
        Self::ids(&self.created, resource)
    }

    /// Ids updated in a resource.
    pub fn updated_in(&self, resource: &str) -> Vec<u64> {
        Self::ids(&self.updated, resource)
    }

    /// Ids deleted in a resource.
    pub fn deleted_in(&self, resource: &str) -> Vec<u64> {
        Self::ids(&self.deleted, resource)
    }

    fn ids(map: &BTreeMap<&'static str, BTreeSet<u64>>, resource: &str) -> Vec<u64> {
        map.get(resource)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    fn create(&mut self, resource: &'static str, id: u64) {
        self.created.entry(resource).or_default().insert(id);
    }

    fn update(&mut self, resource: &'static str, id: u64) {
        if !self.created.get(resource).is_some_and(|s| s.contains(&id)) {
            self.updated.entry(resource).or_default().insert(id);
        }
    }

    fn delete(&mut self, resource: &'static str, id: u64) {
        if let Some(s) = self.created.get_mut(resource) {
            s.remove(&id);
        }
        if let Some(s) = self.updated.get_mut(resource) {
            s.remove(&id);
        }
        self.deleted.entry(resource).or_default().insert(id);
    }

    /// Adds another report's changes to this one.
    pub fn merge(&mut self, other: ChurnReport) {
        for (r, ids) in other.created {
            ids.into_iter().for_each(|id| self.create(r, id));
        }
        for (r, ids) in other.updated {
            ids.into_iter().for_each(|id| self.update(r, id));
        }
        for (r, ids) in other.deleted {
            ids.into_iter().for_each(|id| self.delete(r, id));
        }
        for m in [&mut self.created, &mut self.updated, &mut self.deleted] {
            m.retain(|_, s| !s.is_empty());
        }
    }
}

/// Tables whose new rows an operation reports by comparing next ids before and after.
const GROWING: &[&str] = &[
    "orders",
    "order_details",
    "order_carriers",
    "order_cart_rules",
    "order_histories",
    "order_payments",
    "order_invoices",
    "order_slip",
    "carts",
    "customers",
    "addresses",
];

/// Next ids of the growing tables, to report what an operation created.
struct Mark(Vec<(&'static str, u64)>);

impl Mark {
    fn take(store: &mut Store) -> Mark {
        Mark(
            GROWING
                .iter()
                .map(|name| {
                    let t = table(store, name);
                    (t.resource.name, t.next_id())
                })
                .collect(),
        )
    }

    fn created_since(&self, store: &mut Store, report: &mut ChurnReport) {
        for &(name, before) in &self.0 {
            let t = table(store, name);
            for id in t.rows.range(before..).map(|(id, _)| *id) {
                report.create(name, id);
            }
        }
    }
}

/// Makes realistic changes to a store, deterministically from its seed.
#[derive(Debug, Clone)]
pub struct Churn {
    rng: ChaCha8Rng,
    /// Invoice and delivery numbers in use, with the orders' (next id, count) they were
    /// read at: rescanning 100k orders for every state change would dominate churn.
    seq: Option<((u64, usize), Seq)>,
}

impl Churn {
    /// A churn whose random choices come from `seed`.
    pub fn new(seed: u64) -> Churn {
        Churn {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0xC4A5_0000_0000_0001),
            seq: None,
        }
    }

    /// One round of `changes` realistic operations at shop-local time `now`; returns what
    /// changed. Operations that find nothing to act on (e.g. no order to advance) are
    /// replaced by a new order, so a step changes something whenever the store can sell.
    pub fn step(&mut self, store: &mut Store, now: NaiveDateTime, changes: usize) -> ChurnReport {
        let mut report = ChurnReport::default();
        for _ in 0..changes {
            let roll = self.rng.gen_range(0..1000);
            let r = match roll {
                0..=349 => self.new_order(store, now),
                350..=649 => self.advance_some_order(store, now),
                650..=749 => self.change_some_stock(store),
                750..=799 => self.change_some_combination(store),
                800..=869 => self.add_customer(store, now),
                870..=939 => self.update_some_customer(store, now),
                940..=974 => self.refund_some_order(store, now),
                975..=994 => self.reprice_some_product(store, now),
                _ => self.delete_some_product(store),
            };
            let r = if r.is_empty() {
                self.new_order(store, now)
            } else {
                r
            };
            report.merge(r);
        }
        report
    }

    /// A new order by an existing customer, validated at `now` in the first state of its
    /// payment module (paid right away for card modules), with stock decremented.
    pub fn new_order(&mut self, store: &mut Store, now: NaiveDateTime) -> ChurnReport {
        let mut report = ChurnReport::default();
        let ctx = ctx_for(store, now);
        let Some(person) = self.pick_customer(store) else {
            return report;
        };
        let products = self.pick_products(store, person.shop, 6);
        let catalog = Catalog::from_products(store, &products);
        let total: u32 = PAYMENT_MODULES[..PAYMENT_MODULES.len() - 1]
            .iter()
            .map(|m| m.3)
            .sum();
        let mut x = self.rng.gen_range(0..total);
        let mut module = PAYMENT_MODULES[0];
        for m in &PAYMENT_MODULES[..PAYMENT_MODULES.len() - 1] {
            if x < m.3 {
                module = *m;
                break;
            }
            x -= m.3;
        }
        let cart = table(store, "carts").next_id();
        let Some(mut order) = plan_order(
            &ctx,
            &catalog,
            &person,
            ctx.now,
            cart,
            (module.0, module.1),
            false,
            true,
            &mut self.rng,
        ) else {
            return report;
        };
        order.date_add = fmt_local(now);
        let mark = Mark::take(store);
        let mut seq = self.seq(store);
        let (id, _) = insert_order(store, &order);
        change_state(store, id, module.2, &order.date_add, 0, &mut seq, Pay::Own);
        self.keep_seq(store, seq);
        for line in &order.lines {
            for sid in decrement_stock(store, line.product, line.attribute, order.id_shop, line.qty)
            {
                report.update("stock_availables", sid);
            }
        }
        mark.created_since(store, &mut report);
        report
    }

    /// Moves an order to `new_state` at `now`: adds an order_history row, bumps the order's
    /// `date_upd`, and records payment, invoice or delivery number as the state requires.
    /// Returns an empty report for an unknown order or state.
    pub fn update_order_state(
        &mut self,
        store: &mut Store,
        order: u64,
        new_state: u32,
        now: NaiveDateTime,
    ) -> ChurnReport {
        let mut report = ChurnReport::default();
        if order_state(new_state).is_none() {
            return report;
        }
        // Rows a state change may touch besides the order: its lines and carrier rows
        // (invoice id, tracking number).
        let touched = |store: &Store| -> Vec<(&'static str, u64, Option<crate::store::Row>)> {
            let mut rows = Vec::new();
            let Some(o) = store.table("orders").and_then(|t| t.rows.get(&order)) else {
                return rows;
            };
            for d in detail_ids(o) {
                let row = store
                    .table("order_details")
                    .and_then(|t| t.rows.get(&d))
                    .cloned();
                rows.push(("order_details", d, row));
            }
            for c in carrier_ids(store, order) {
                let row = store
                    .table("order_carriers")
                    .and_then(|t| t.rows.get(&c))
                    .cloned();
                rows.push(("order_carriers", c, row));
            }
            rows
        };
        let before = touched(store);
        let mark = Mark::take(store);
        let mut seq = self.seq(store);
        // Each paid order records its own payment, which keeps the payments of a reference
        // equal to its orders' total_paid_real.
        if !change_state(
            store,
            order,
            new_state,
            &fmt_local(now),
            1,
            &mut seq,
            Pay::Own,
        ) {
            return report;
        }
        self.keep_seq(store, seq);
        report.update("orders", order);
        mark.created_since(store, &mut report);
        for ((name, id, old), (_, _, new)) in before.into_iter().zip(touched(store)) {
            if old != new {
                report.update(name, id);
            }
        }
        report
    }

    /// Deletes a product as PrestaShop does: its combinations and stock rows go too, order
    /// lines keep pointing at it, categories no longer list it.
    pub fn delete_product(&mut self, store: &mut Store, product: u64) -> ChurnReport {
        let mut report = ChurnReport::default();
        if !store
            .table("products")
            .is_some_and(|t| t.rows.contains_key(&product))
        {
            return report;
        }
        let before = |store: &Store, name: &str| -> BTreeSet<u64> {
            store
                .table(name)
                .map(|t| t.rows.keys().copied().collect())
                .unwrap_or_default()
        };
        let combos = before(store, "combinations");
        let stock = before(store, "stock_availables");
        let categories_before: BTreeMap<u64, _> = store
            .table("categories")
            .map(|t| t.rows.iter().map(|(id, r)| (*id, r.clone())).collect())
            .unwrap_or_default();
        delete_products(store, &BTreeSet::from([product]));
        link_categories(store);
        report.delete("products", product);
        for (name, ids) in [("combinations", combos), ("stock_availables", stock)] {
            let after = before(store, name);
            for id in ids.difference(&after) {
                report.delete(schema(name).name, *id);
            }
        }
        if let Some(t) = store.table("categories") {
            for (id, row) in &t.rows {
                if categories_before.get(id) != Some(row) {
                    report.update("categories", *id);
                }
            }
        }
        report
    }

    /// Sets the quantity of a product's (`attribute` 0) or combination's stock in a shop
    /// without touching the product (PrestaShop does not bump `date_upd` for stock). For a
    /// combination, the product-level row becomes the sum of its combinations, as in PrestaShop.
    pub fn change_stock_silently(
        &mut self,
        store: &mut Store,
        product: u64,
        attribute: u64,
        shop: u32,
        quantity: i64,
    ) -> ChurnReport {
        let mut report = ChurnReport::default();
        let sr = schema("stock_availables");
        let Some(qi) = sr.field_index("quantity") else {
            return report;
        };
        let t = table(store, "stock_availables");
        let mut product_row = None;
        let mut sum = 0;
        let mut changed = None;
        let mut found = false;
        for (id, row) in t.rows.iter_mut() {
            if get_int(row, sr, "id_product") != product as i64
                || get_int(row, sr, "id_shop") != shop as i64
            {
                continue;
            }
            let attr = get_int(row, sr, "id_product_attribute") as u64;
            if attr == attribute {
                if row.values[qi] != Value::Int(quantity) {
                    row.values[qi] = Value::Int(quantity);
                    changed = Some(*id);
                }
                found = true;
            }
            if attr == 0 {
                product_row = Some(*id);
            } else {
                sum += row.values[qi].as_int().unwrap_or(0);
            }
        }
        if !found {
            return report;
        }
        if let Some(id) = changed {
            report.update("stock_availables", id);
        }
        if attribute != 0 {
            if let Some(row) = product_row.and_then(|pid| t.rows.get_mut(&pid)) {
                if row.values[qi] != Value::Int(sum) {
                    row.values[qi] = Value::Int(sum);
                    report.update("stock_availables", row.id);
                }
            }
        }
        report
    }

    /// Changes a combination's price impact (millionths, tax excluded) without bumping its
    /// product's `date_upd`, as PrestaShop does for combination edits.
    pub fn change_combination_silently(
        &mut self,
        store: &mut Store,
        combination: u64,
        price_impact: i64,
    ) -> ChurnReport {
        let mut report = ChurnReport::default();
        let langs = store.languages.clone();
        let Some(row) = table(store, "combinations").rows.remove(&combination) else {
            return report;
        };
        let old = row.clone();
        let mut b = RowBuilder::edit("combinations", row, &langs);
        b.money("price", price_impact);
        let row = b.row();
        if row != old {
            report.update("combinations", combination);
        }
        table(store, "combinations").rows.insert(combination, row);
        report
    }

    /// A partial credit slip at `now` refunding one unit of an order's first line not yet
    /// refunded (the order itself is not touched, as in PrestaShop). Empty report when the
    /// order is unpaid, fully refunded, or the amount would exceed what was paid.
    pub fn add_credit_slip(
        &mut self,
        store: &mut Store,
        order: u64,
        now: NaiveDateTime,
    ) -> ChurnReport {
        let mut report = ChurnReport::default();
        let Some(&(detail, _)) = remaining_lines(store, order).first() else {
            return report;
        };
        if let Some(slip) = add_slip(store, order, &[(detail, 1)], false, true, &fmt_local(now)) {
            report.create("order_slip", slip);
            report.update("order_details", detail);
        }
        report
    }

    /// A new customer (registered or guest) with one or two addresses, created at `now`.
    pub fn add_customer(&mut self, store: &mut Store, now: NaiveDateTime) -> ChurnReport {
        let mut report = ChurnReport::default();
        let ctx = ctx_for(store, now);
        let id = table(store, "customers").next_id();
        let mut next_address = table(store, "addresses").next_id();
        let mark = Mark::take(store);
        let person = write_customer(store, &ctx, id, ctx.now, &mut self.rng, &mut next_address);
        // Dates are `now` exactly, even inside a DST gap where `now` has no instant.
        let date = fmt_local(now);
        let langs = store.languages.clone();
        set_dates(store, &langs, "customers", id, &date, true);
        for (aid, _) in &person.addresses {
            set_dates(store, &langs, "addresses", *aid, &date, true);
        }
        mark.created_since(store, &mut report);
        report
    }

    /// Edits a customer at `now` (newsletter opt-in and note), bumping `date_upd`.
    pub fn update_customer(
        &mut self,
        store: &mut Store,
        customer: u64,
        now: NaiveDateTime,
    ) -> ChurnReport {
        let mut report = ChurnReport::default();
        let langs = store.languages.clone();
        let cr = schema("customers");
        let Some(row) = table(store, "customers").rows.remove(&customer) else {
            return report;
        };
        let subscribed = get_text(&row, cr, "newsletter") == "1";
        let date = fmt_local(now);
        let mut b = RowBuilder::edit("customers", row, &langs);
        b.flag("newsletter", !subscribed)
            .text(
                "note",
                if subscribed {
                    "Unsubscribed by phone"
                } else {
                    "Subscribed at the counter"
                },
            )
            .text("date_upd", &date);
        table(store, "customers").rows.insert(customer, b.row());
        report.update("customers", customer);
        report
    }

    /// Changes a product's price at `now`, bumping its `date_upd` (an ordinary product edit).
    pub fn update_product_price(
        &mut self,
        store: &mut Store,
        product: u64,
        price: i64,
        now: NaiveDateTime,
    ) -> ChurnReport {
        let mut report = ChurnReport::default();
        let langs = store.languages.clone();
        let Some(row) = table(store, "products").rows.remove(&product) else {
            return report;
        };
        let mut b = RowBuilder::edit("products", row, &langs);
        b.money("price", price).text("date_upd", &fmt_local(now));
        table(store, "products").rows.insert(product, b.row());
        report.update("products", product);
        report
    }

    fn advance_some_order(&mut self, store: &mut Store, now: NaiveDateTime) -> ChurnReport {
        let or = schema("orders");
        let last = table(store, "orders").next_id();
        for _ in 0..8 {
            let id = last.saturating_sub(self.rng.gen_range(1..=500)).max(1);
            let Some(row) = store.table("orders").and_then(|t| t.rows.get(&id)) else {
                continue;
            };
            let next = match get_int(row, or, "current_state") as u32 {
                state::AWAITING_CHECK | state::AWAITING_WIRE => state::PAYMENT_ACCEPTED,
                state::PAYMENT_ACCEPTED | state::REMOTE_PAYMENT | state::BACKORDER_PAID => {
                    state::PROCESSING
                }
                state::PROCESSING | state::AWAITING_COD => state::SHIPPED,
                state::SHIPPED => state::DELIVERED,
                _ => continue,
            };
            return self.update_order_state(store, id, next, now);
        }
        ChurnReport::default()
    }

    fn change_some_stock(&mut self, store: &mut Store) -> ChurnReport {
        let sr = schema("stock_availables");
        let Some((product, attribute, shop)) =
            self.random_row(store, "stock_availables").map(|row| {
                (
                    get_int(row, sr, "id_product") as u64,
                    get_int(row, sr, "id_product_attribute") as u64,
                    get_int(row, sr, "id_shop") as u32,
                )
            })
        else {
            return ChurnReport::default();
        };
        // Restock the product row only when it has no combinations (otherwise it is a sum).
        let pr = schema("products");
        let has_combinations = attribute == 0
            && store
                .table("products")
                .and_then(|t| t.rows.get(&product))
                .zip(pr.association_index("combinations"))
                .is_some_and(|(row, i)| !row.assocs[i].is_empty());
        if has_combinations {
            return ChurnReport::default();
        }
        let qty = self.rng.gen_range(0..250);
        self.change_stock_silently(store, product, attribute, shop, qty)
    }

    fn change_some_combination(&mut self, store: &mut Store) -> ChurnReport {
        let Some(id) = self.random_row(store, "combinations").map(|r| r.id) else {
            return ChurnReport::default();
        };
        let cr = schema("combinations");
        let current = store
            .table("combinations")
            .and_then(|t| t.rows.get(&id))
            .map_or(0, |r| get_money(r, cr, "price"));
        let impact = current
            + self.rng.gen_range(1..=5) * 500_000 * if self.rng.gen_bool(0.5) { 1 } else { -1 };
        self.change_combination_silently(store, id, impact)
    }

    fn update_some_customer(&mut self, store: &mut Store, now: NaiveDateTime) -> ChurnReport {
        let Some(id) = self.random_row(store, "customers").map(|r| r.id) else {
            return ChurnReport::default();
        };
        self.update_customer(store, id, now)
    }

    fn refund_some_order(&mut self, store: &mut Store, now: NaiveDateTime) -> ChurnReport {
        let or = schema("orders");
        let last = table(store, "orders").next_id();
        for _ in 0..8 {
            let id = last.saturating_sub(self.rng.gen_range(1..=2_000)).max(1);
            let delivered = store
                .table("orders")
                .and_then(|t| t.rows.get(&id))
                .is_some_and(|r| get_int(r, or, "current_state") == state::DELIVERED as i64);
            if delivered {
                let r = self.add_credit_slip(store, id, now);
                if !r.is_empty() {
                    return r;
                }
            }
        }
        ChurnReport::default()
    }

    fn reprice_some_product(&mut self, store: &mut Store, now: NaiveDateTime) -> ChurnReport {
        let pr = schema("products");
        let Some((id, price)) = self
            .random_row(store, "products")
            .map(|r| (r.id, get_money(r, pr, "price")))
        else {
            return ChurnReport::default();
        };
        let delta = self.rng.gen_range(1..=5) * 1_000_000;
        let new_price = if price > delta + 1_000_000 && self.rng.gen_bool(0.4) {
            price - delta
        } else {
            price + delta
        };
        self.update_product_price(store, id, new_price, now)
    }

    fn delete_some_product(&mut self, store: &mut Store) -> ChurnReport {
        // Keep a catalog to sell from.
        if store.table("products").is_none_or(|t| t.rows.len() < 10) {
            return ChurnReport::default();
        }
        let Some(id) = self.random_row(store, "products").map(|r| r.id) else {
            return ChurnReport::default();
        };
        self.delete_product(store, id)
    }

    fn random_row<'s>(
        &mut self,
        store: &'s Store,
        resource: &str,
    ) -> Option<&'s crate::store::Row> {
        let t = store.table(resource)?;
        if t.rows.is_empty() {
            return None;
        }
        // A random id, then the row at or after it: O(log n) in a big store.
        let last = t.next_id();
        let k = self.rng.gen_range(0..last.max(1));
        t.rows
            .range(k..)
            .next()
            .or_else(|| t.rows.range(..k).next_back())
            .map(|(_, row)| row)
    }

    /// A live customer with their live addresses, found from a random address (a
    /// customer's addresses have neighbouring ids, as PrestaShop writes them together).
    fn pick_customer(&mut self, store: &Store) -> Option<Person> {
        let cr = schema("customers");
        let ar = schema("addresses");
        let addresses = store.table("addresses")?;
        for _ in 0..16 {
            let a = self.random_row(store, "addresses")?;
            let customer = get_int(a, ar, "id_customer") as u64;
            let Some(row) = store.table("customers").and_then(|t| t.rows.get(&customer)) else {
                continue;
            };
            if get_text(row, cr, "deleted") == "1" {
                continue;
            }
            let live: Vec<_> = addresses
                .rows
                .range(a.id.saturating_sub(4)..=a.id + 4)
                .map(|(_, r)| r)
                .filter(|r| get_int(r, ar, "id_customer") == customer as i64)
                .filter(|r| get_text(r, ar, "deleted") != "1")
                .filter_map(|r| {
                    country_by_id(get_int(r, ar, "id_country") as u64).map(|c| (r.id, c))
                })
                .collect();
            if live.is_empty() {
                continue;
            }
            return Some(Person {
                id: row.id,
                shop: get_int(row, cr, "id_shop").max(1) as u32,
                lang: get_int(row, cr, "id_lang").max(1) as u32,
                secure_key: get_text(row, cr, "secure_key").into_owned(),
                created: 0,
                addresses: live,
            });
        }
        None
    }

    /// Up to `n` distinct random active products sold in a shop.
    fn pick_products(&mut self, store: &Store, shop: u32, n: usize) -> Vec<u64> {
        let pr = schema("products");
        let mut ids = Vec::new();
        for _ in 0..n * 3 {
            if ids.len() >= n {
                break;
            }
            let Some(row) = self.random_row(store, "products") else {
                break;
            };
            let sold_here = row.shops.is_empty() || row.shops.contains(&shop);
            if sold_here && get_text(row, pr, "active") == "1" && !ids.contains(&row.id) {
                ids.push(row.id);
            }
        }
        ids
    }

    /// Invoice and delivery numbers in use (cached while only this churn changes orders).
    fn seq(&mut self, store: &Store) -> Seq {
        let key = orders_key(store);
        match self.seq {
            Some((k, seq)) if k == key => seq,
            _ => Seq::from_store(store),
        }
    }

    fn keep_seq(&mut self, store: &Store, seq: Seq) {
        self.seq = Some((orders_key(store), seq));
    }
}

/// What identifies the orders table's contents for the [`Seq`] cache.
fn orders_key(store: &Store) -> (u64, usize) {
    store
        .table("orders")
        .map_or((1, 0), |t| (t.next_id(), t.rows.len()))
}

/// The generation context of an existing store at shop-local time `now`.
fn ctx_for(store: &Store, now: NaiveDateTime) -> Ctx {
    let tz: Tz = store.timezone.parse().unwrap_or(Tz::UTC);
    let instant = tz
        .from_local_datetime(&now)
        .earliest()
        .map(|t| t.timestamp())
        // `now` falls in a spring-forward gap: take the instant an hour later, minus an hour.
        .or_else(|| {
            tz.from_local_datetime(&(now + chrono::Duration::hours(1)))
                .earliest()
                .map(|t| t.timestamp() - 3_600)
        })
        .unwrap_or_else(|| now.and_utc().timestamp());
    Ctx {
        langs: store.languages.clone(),
        shops: store.shops.clone(),
        tz,
        tz_name: store.timezone.clone(),
        now: instant,
        start: instant - HISTORY_SECS,
    }
}

/// Takes `qty` from a product's (or combination's) stock in a shop, and from the
/// product-level row of a product with combinations. Returns the stock rows changed.
fn decrement_stock(
    store: &mut Store,
    product: u64,
    attribute: u64,
    shop: u32,
    qty: i64,
) -> Vec<u64> {
    let sr = schema("stock_availables");
    let (Some(qi), Some(pi), Some(ai), Some(si)) = (
        sr.field_index("quantity"),
        sr.field_index("id_product"),
        sr.field_index("id_product_attribute"),
        sr.field_index("id_shop"),
    ) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    for (id, row) in table(store, "stock_availables").rows.iter_mut() {
        if row.values[pi].as_int() != Some(product as i64)
            || row.values[si].as_int() != Some(shop as i64)
        {
            continue;
        }
        let attr = row.values[ai].as_int().unwrap_or(0) as u64;
        if attr == attribute || attr == 0 {
            let q = row.values[qi].as_int().unwrap_or(0);
            row.values[qi] = Value::Int(q - qty);
            changed.push(*id);
        }
    }
    changed
}

/// Sets `date_add` (if asked) and `date_upd` of a row to a shop-local date text.
fn set_dates(store: &mut Store, langs: &[u32], resource: &str, id: u64, date: &str, add: bool) {
    let Some(row) = table(store, resource).rows.remove(&id) else {
        return;
    };
    let mut b = RowBuilder::edit(resource, row, langs);
    if add {
        b.text("date_add", date);
    }
    b.text("date_upd", date);
    table(store, resource).rows.insert(id, b.row());
}
