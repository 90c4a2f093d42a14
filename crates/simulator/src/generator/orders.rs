//! Orders and everything PrestaShop writes with them: carts, order details (the
//! `order_rows` association), carriers, cart rules, state histories, payments (linked by
//! reference), invoices and credit slips.
//!
//! Money follows PrestaShop with `round_type` 2 (round per line) and `round_mode` 2
//! (half up): unit prices keep 6 decimals, line and order totals are rounded to cents, and
//! `total_paid_tax_incl = total_products_wt + total_shipping_tax_incl +
//! total_wrapping_tax_incl − total_discounts_tax_incl`.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::build::{
    convert, get_int, get_money, get_text, money, rate_text, round2, schema, table, with_tax, Av,
    RowBuilder, NO_DATE,
};
use super::catalog::{Catalog, Sellable};
use super::people::{People, Person};
use super::reference::{
    order_state, shop_group, state, tax_rate, Carrier, Country, Currency, CARRIERS, CART_RULES,
    CURRENCIES, PAYMENT_MODULES,
};
use super::{mess, Ctx};
use crate::store::{Row, Store, Value};

/// One order line before it is written.
#[derive(Debug, Clone)]
pub struct Line {
    pub product: u64,
    pub attribute: u64,
    pub name: String,
    pub reference: String,
    pub ean13: String,
    /// Catalog price in the order currency, tax excluded (millionths).
    pub unit_excl: i64,
    pub wholesale: i64,
    /// Tax rate applied, thousandths of a percent (20 % = 20_000).
    pub rate: i64,
    pub tax_group: u64,
    pub qty: i64,
    pub weight: i64,
}

impl Line {
    /// A line selling `qty` of a catalog item to a delivery country in a currency.
    pub fn of(item: &Sellable, qty: i64, country: &Country, currency: &Currency) -> Line {
        Line {
            product: item.product,
            attribute: item.attribute,
            name: item.name.clone(),
            reference: item.reference.clone(),
            ean13: item.ean13.clone(),
            unit_excl: convert(item.price, currency.rate),
            wholesale: item.wholesale,
            rate: tax_rate(item.tax_group, country),
            tax_group: item.tax_group,
            qty,
            weight: item.weight,
        }
    }

    fn unit_incl(&self) -> i64 {
        with_tax(self.unit_excl, self.rate)
    }

    fn total_excl(&self) -> i64 {
        round2(self.unit_excl * self.qty)
    }

    fn total_incl(&self) -> i64 {
        round2(self.unit_incl() * self.qty)
    }
}

/// An order before it is written.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub reference: String,
    pub id_cart: u64,
    pub id_customer: u64,
    pub id_address_delivery: u64,
    pub id_address_invoice: u64,
    pub currency: &'static Currency,
    pub id_lang: u32,
    pub id_shop: u32,
    pub carrier: &'static Carrier,
    /// Shipping tax excluded, in the order currency.
    pub shipping_excl: i64,
    pub carrier_rate: i64,
    pub wrapping_excl: i64,
    /// Cart rule (id, per mille off the products).
    pub discount: Option<(u64, i64)>,
    pub module: &'static str,
    pub payment: &'static str,
    pub secure_key: String,
    pub note: String,
    pub lines: Vec<Line>,
    /// Shop-local date of validation.
    pub date_add: String,
}

/// Totals of an order, in its currency (millionths, rounded to cents).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub products: i64,
    pub products_wt: i64,
    pub shipping_excl: i64,
    pub shipping_incl: i64,
    pub wrapping_excl: i64,
    pub wrapping_incl: i64,
    pub discounts_excl: i64,
    pub discounts_incl: i64,
    pub paid_excl: i64,
    pub paid_incl: i64,
}

impl NewOrder {
    /// The order's totals, as PrestaShop computes them with per-line rounding.
    pub fn totals(&self) -> Totals {
        let products: i64 = self.lines.iter().map(Line::total_excl).sum();
        let products_wt: i64 = self.lines.iter().map(Line::total_incl).sum();
        let shipping_excl = round2(self.shipping_excl);
        let shipping_incl = round2(with_tax(shipping_excl, self.carrier_rate));
        let wrapping_excl = round2(self.wrapping_excl);
        let wrapping_incl = round2(with_tax(wrapping_excl, self.carrier_rate));
        let (discounts_excl, discounts_incl) = match self.discount {
            Some((_, permille)) => (
                round2(products * permille / 1000),
                round2(products_wt * permille / 1000),
            ),
            None => (0, 0),
        };
        Totals {
            products,
            products_wt,
            shipping_excl,
            shipping_incl,
            wrapping_excl,
            wrapping_incl,
            discounts_excl,
            discounts_incl,
            paid_excl: products + shipping_excl + wrapping_excl - discounts_excl,
            paid_incl: products_wt + shipping_incl + wrapping_incl - discounts_incl,
        }
    }
}

/// Running invoice and delivery numbers (PrestaShop keeps them in configuration).
#[derive(Debug, Clone, Copy, Default)]
pub struct Seq {
    pub invoice: i64,
    pub delivery: i64,
}

impl Seq {
    /// The highest numbers already used in a store.
    pub fn from_store(store: &Store) -> Seq {
        let mut seq = Seq::default();
        if let Some(t) = store.table("orders") {
            for row in t.rows.values() {
                seq.invoice = seq.invoice.max(get_int(row, t.resource, "invoice_number"));
                seq.delivery = seq
                    .delivery
                    .max(get_int(row, t.resource, "delivery_number"));
            }
        }
        seq
    }
}

/// What a state change into a paid state does about payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pay {
    /// Record one payment of the order's own total.
    Own,
    /// Record one payment of this amount (the whole reference of a split order).
    Amount(i64),
    /// Record none (another order of the same reference carries the payment).
    Skip,
}

/// A random order reference: nine capital letters, like PrestaShop's.
pub fn reference(rng: &mut impl Rng) -> String {
    (0..9).map(|_| rng.gen_range(b'A'..=b'Z') as char).collect()
}

/// Writes an order, its details, carrier, cart rule and (if absent) its cart; the order
/// has no state yet: apply the first one with [`change_state`]. Returns the order id.
pub fn insert_order(store: &mut Store, o: &NewOrder) -> (u64, Totals) {
    let langs = store.languages.clone();
    let t = o.totals();
    let id = table(store, "orders").next_id();
    let conversion = money(o.currency.rate);
    if !table(store, "carts").rows.contains_key(&o.id_cart) {
        insert_cart(store, &langs, o);
    }
    let first_detail = table(store, "order_details").next_id();
    let mut rows: Vec<Vec<(&str, Av)>> = Vec::with_capacity(o.lines.len());
    for (detail_id, line) in (first_detail..).zip(&o.lines) {
        insert_detail(store, &langs, detail_id, id, o.id_shop, line);
        rows.push(vec![
            ("id", Av::I(detail_id as i64)),
            ("product_id", Av::I(line.product as i64)),
            ("product_attribute_id", Av::I(line.attribute as i64)),
            ("product_quantity", Av::I(line.qty)),
            ("product_name", Av::S(line.name.clone())),
            ("product_reference", Av::S(line.reference.clone())),
            ("product_ean13", Av::S(line.ean13.clone())),
            ("product_isbn", Av::S(String::new())),
            ("product_upc", Av::S(String::new())),
            ("product_price", Av::S(money(line.unit_excl))),
            ("id_customization", Av::I(0)),
            ("unit_price_tax_incl", Av::S(money(line.unit_incl()))),
            ("unit_price_tax_excl", Av::S(money(line.unit_excl))),
        ]);
    }
    let row_refs: Vec<&[(&str, Av)]> = rows.iter().map(|r| &r[..]).collect();
    let mut b = RowBuilder::new("orders", id, &langs);
    b.int("id_address_delivery", o.id_address_delivery as i64)
        .int("id_address_invoice", o.id_address_invoice as i64)
        .int("id_cart", o.id_cart as i64)
        .int("id_currency", o.currency.id as i64)
        .int("id_lang", o.id_lang as i64)
        .int("id_customer", o.id_customer as i64)
        .int("id_carrier", o.carrier.id as i64)
        .int("current_state", 0)
        .text("module", o.module)
        .int("invoice_number", 0)
        .text("invoice_date", NO_DATE)
        .int("delivery_number", 0)
        .text("delivery_date", NO_DATE)
        .flag("valid", false)
        .text("date_add", &o.date_add)
        .text("date_upd", &o.date_add)
        .text("shipping_number", "")
        .text("note", &o.note)
        .int("id_shop_group", shop_group(o.id_shop) as i64)
        .int("id_shop", o.id_shop as i64)
        .text("secure_key", &o.secure_key)
        .text("payment", o.payment)
        .flag("recyclable", false)
        .flag("gift", o.wrapping_excl > 0)
        .text(
            "gift_message",
            if o.wrapping_excl > 0 {
                "Happy birthday!"
            } else {
                ""
            },
        )
        .flag("mobile_theme", false)
        .money("total_discounts", t.discounts_incl)
        .money("total_discounts_tax_incl", t.discounts_incl)
        .money("total_discounts_tax_excl", t.discounts_excl)
        .money("total_paid", t.paid_incl)
        .money("total_paid_tax_incl", t.paid_incl)
        .money("total_paid_tax_excl", t.paid_excl)
        .money("total_paid_real", 0)
        .money("total_products", t.products)
        .money("total_products_wt", t.products_wt)
        .money("total_shipping", t.shipping_incl)
        .money("total_shipping_tax_incl", t.shipping_incl)
        .money("total_shipping_tax_excl", t.shipping_excl)
        .string("carrier_tax_rate", rate_text(o.carrier_rate))
        .money("total_wrapping", t.wrapping_incl)
        .money("total_wrapping_tax_incl", t.wrapping_incl)
        .money("total_wrapping_tax_excl", t.wrapping_excl)
        .int("round_mode", 2)
        .int("round_type", 2)
        .string("conversion_rate", conversion)
        .text("reference", &o.reference)
        .assoc("order_rows", &row_refs);
    b.insert(store);

    let weight: i64 = o.lines.iter().map(|l| l.weight * l.qty).sum();
    let oc = table(store, "order_carriers").next_id();
    let mut c = RowBuilder::new("order_carriers", oc, &langs);
    c.int("id_order", id as i64)
        .int("id_carrier", o.carrier.id as i64)
        .int("id_order_invoice", 0)
        .money("weight", weight)
        .money("shipping_cost_tax_excl", t.shipping_excl)
        .money("shipping_cost_tax_incl", t.shipping_incl)
        .text("tracking_number", "")
        .text("date_add", &o.date_add);
    c.insert(store);

    if let Some((rule, _)) = o.discount {
        let name = CART_RULES
            .iter()
            .find(|r| r.0 == rule)
            .map_or("Discount", |r| r.2);
        let ocr = table(store, "order_cart_rules").next_id();
        let mut r = RowBuilder::new("order_cart_rules", ocr, &langs);
        r.int("id_order", id as i64)
            .int("id_cart_rule", rule as i64)
            .int("id_order_invoice", 0)
            .text("name", name)
            .money("value", t.discounts_incl)
            .money("value_tax_excl", t.discounts_excl)
            .flag("free_shipping", false)
            .flag("deleted", false);
        r.insert(store);
    }
    (id, t)
}

fn insert_cart(store: &mut Store, langs: &[u32], o: &NewOrder) {
    let rows: Vec<[(&str, Av); 5]> = o
        .lines
        .iter()
        .map(|l| {
            [
                ("id_product", Av::I(l.product as i64)),
                ("id_product_attribute", Av::I(l.attribute as i64)),
                ("id_address_delivery", Av::I(o.id_address_delivery as i64)),
                ("id_customization", Av::I(0)),
                ("quantity", Av::I(l.qty)),
            ]
        })
        .collect();
    let refs: Vec<&[(&str, Av)]> = rows.iter().map(|r| &r[..]).collect();
    let mut b = RowBuilder::new("carts", o.id_cart, langs);
    b.int("id_address_delivery", o.id_address_delivery as i64)
        .int("id_address_invoice", o.id_address_invoice as i64)
        .int("id_currency", o.currency.id as i64)
        .int("id_customer", o.id_customer as i64)
        .int("id_guest", 0)
        .int("id_lang", o.id_lang as i64)
        .int("id_shop_group", shop_group(o.id_shop) as i64)
        .int("id_shop", o.id_shop as i64)
        .int("id_carrier", o.carrier.id as i64)
        .flag("recyclable", false)
        .flag("gift", o.wrapping_excl > 0)
        .text("gift_message", "")
        .flag("mobile_theme", false)
        .string(
            "delivery_option",
            format!("{{\"{}\":\"{},\"}}", o.id_address_delivery, o.carrier.id),
        )
        .text("secure_key", &o.secure_key)
        .flag("allow_seperated_package", false)
        .text("date_add", &o.date_add)
        .text("date_upd", &o.date_add)
        .assoc("cart_rows", &refs);
    b.insert(store);
}

fn insert_detail(store: &mut Store, langs: &[u32], id: u64, order: u64, shop: u32, l: &Line) {
    let taxes: Vec<u64> = if l.rate > 0 {
        vec![l.tax_group]
    } else {
        Vec::new()
    };
    let mut b = RowBuilder::new("order_details", id, langs);
    b.int("id_order", order as i64)
        .int("product_id", l.product as i64)
        .int("product_attribute_id", l.attribute as i64)
        .int("product_quantity_reinjected", 0)
        .text("group_reduction", "0.00")
        .int("discount_quantity_applied", 0)
        .text("download_hash", "")
        .text("download_deadline", NO_DATE)
        .int("id_order_invoice", 0)
        .int("id_warehouse", 0)
        .int("id_shop", shop as i64)
        .int("id_customization", 0)
        .text("product_name", &l.name)
        .int("product_quantity", l.qty)
        .int("product_quantity_in_stock", l.qty)
        .int("product_quantity_return", 0)
        .int("product_quantity_refunded", 0)
        .money("product_price", l.unit_excl)
        .text("reduction_percent", "0.00")
        .money("reduction_amount", 0)
        .money("reduction_amount_tax_incl", 0)
        .money("reduction_amount_tax_excl", 0)
        .money("product_quantity_discount", 0)
        .text("product_ean13", &l.ean13)
        .text("product_isbn", "")
        .text("product_upc", "")
        .text("product_mpn", "")
        .text("product_reference", &l.reference)
        .text("product_supplier_reference", "")
        .money("product_weight", l.weight)
        .int("tax_computation_method", 0)
        .int("id_tax_rules_group", l.tax_group as i64)
        .money("ecotax", 0)
        .text("ecotax_tax_rate", "0.000")
        .int("download_nb", 0)
        .money("unit_price_tax_incl", l.unit_incl())
        .money("unit_price_tax_excl", l.unit_excl)
        .money("total_price_tax_incl", l.total_incl())
        .money("total_price_tax_excl", l.total_excl())
        .money("total_shipping_price_tax_excl", 0)
        .money("total_shipping_price_tax_incl", 0)
        .money("purchase_supplier_price", l.wholesale)
        .money("original_product_price", l.unit_excl)
        .money("original_wholesale_price", l.wholesale)
        .money("total_refunded_tax_excl", 0)
        .money("total_refunded_tax_incl", 0)
        .assoc_ids("taxes", &taxes);
    b.insert(store);
}

/// Moves an order to a new state as PrestaShop's OrderHistory does: adds the history
/// row, sets `current_state`, `valid` and `date_upd`, and on the first paid state records
/// the payment (per `pay`) and `total_paid_real`, on the first invoice state creates the
/// invoice, on the first delivery state numbers the delivery slip.
/// Returns false when the order or the state does not exist.
pub fn change_state(
    store: &mut Store,
    order: u64,
    new_state: u32,
    date: &str,
    employee: i64,
    seq: &mut Seq,
    pay: Pay,
) -> bool {
    let Some(os) = order_state(new_state) else {
        return false;
    };
    let langs = store.languages.clone();
    let orders = schema("orders");
    let Some(row) = table(store, "orders").rows.remove(&order) else {
        return false;
    };
    let total = get_money(&row, orders, "total_paid_tax_incl");
    let paid_real = get_money(&row, orders, "total_paid_real");
    let has_invoice = get_int(&row, orders, "invoice_number") != 0;
    let has_delivery = get_int(&row, orders, "delivery_number") != 0;
    let mut b = RowBuilder::edit("orders", row, &langs);
    b.int("current_state", new_state as i64)
        .flag("valid", os.logable)
        .text("date_upd", date);
    if os.delivery && !has_delivery {
        seq.delivery += 1;
        b.int("delivery_number", seq.delivery)
            .text("delivery_date", date);
    }
    let mut invoice = None;
    if os.invoice && !has_invoice {
        seq.invoice += 1;
        invoice = Some(seq.invoice);
        b.int("invoice_number", seq.invoice)
            .text("invoice_date", date);
    }
    let mut payment = None;
    if os.paid && paid_real == 0 {
        b.money("total_paid_real", total);
        payment = match pay {
            Pay::Own => Some(total),
            Pay::Amount(a) => Some(a),
            Pay::Skip => None,
        };
    }
    let row = b.row();
    if let Some(amount) = payment {
        insert_payment(store, &langs, &row, amount, date);
    }
    if let Some(number) = invoice {
        insert_invoice(store, &langs, &row, number, date);
    }
    if os.shipped {
        set_tracking(store, &row);
    }
    table(store, "orders").rows.insert(order, row);
    let hid = table(store, "order_histories").next_id();
    let mut h = RowBuilder::new("order_histories", hid, &langs);
    h.int("id_employee", employee)
        .int("id_order_state", new_state as i64)
        .int("id_order", order as i64)
        .text("date_add", date);
    h.insert(store);
    true
}

fn insert_payment(store: &mut Store, langs: &[u32], order: &Row, amount: i64, date: &str) {
    let r = schema("orders");
    let module = get_text(order, r, "module");
    let card = matches!(module.as_ref(), "stripe_official" | "ps_checkout");
    let id = table(store, "order_payments").next_id();
    let mut b = RowBuilder::new("order_payments", id, langs);
    b.string(
        "order_reference",
        get_text(order, r, "reference").into_owned(),
    )
    .int("id_currency", get_int(order, r, "id_currency"))
    .money("amount", amount)
    .string("payment_method", get_text(order, r, "payment").into_owned())
    .string(
        "conversion_rate",
        get_text(order, r, "conversion_rate").into_owned(),
    )
    .string(
        "transaction_id",
        if card {
            format!("pi_3P{:020}", order.id.wrapping_mul(7_919))
        } else {
            String::new()
        },
    )
    .string(
        "card_number",
        if card {
            format!("**** {:04}", order.id % 10_000)
        } else {
            String::new()
        },
    )
    .text(
        "card_brand",
        if card {
            ["Visa", "Mastercard", "American Express"][(order.id % 3) as usize]
        } else {
            ""
        },
    )
    .text("card_expiration", if card { "12/28" } else { "" })
    .text("card_holder", "")
    .text("date_add", date)
    .int("id_employee", 0);
    b.insert(store);
}

fn insert_invoice(store: &mut Store, langs: &[u32], order: &Row, number: i64, date: &str) {
    let r = schema("orders");
    let id = table(store, "order_invoices").next_id();
    let copy = |f: &str| get_money(order, r, f);
    let mut b = RowBuilder::new("order_invoices", id, langs);
    b.int("id_order", order.id as i64)
        .int("number", number)
        .int("delivery_number", get_int(order, r, "delivery_number"))
        .string(
            "delivery_date",
            get_text(order, r, "delivery_date").into_owned(),
        )
        .money("total_discount_tax_excl", copy("total_discounts_tax_excl"))
        .money("total_discount_tax_incl", copy("total_discounts_tax_incl"))
        .money("total_paid_tax_excl", copy("total_paid_tax_excl"))
        .money("total_paid_tax_incl", copy("total_paid_tax_incl"))
        .money("total_products", copy("total_products"))
        .money("total_products_wt", copy("total_products_wt"))
        .money("total_shipping_tax_excl", copy("total_shipping_tax_excl"))
        .money("total_shipping_tax_incl", copy("total_shipping_tax_incl"))
        .int("shipping_tax_computation_method", 0)
        .money("total_wrapping_tax_excl", copy("total_wrapping_tax_excl"))
        .money("total_wrapping_tax_incl", copy("total_wrapping_tax_incl"))
        .text(
            "shop_address",
            "Maison Lumière, 12 rue des Lilas, 69003 Lyon, France",
        )
        .text("note", "")
        .text("date_add", date);
    b.insert(store);
    // The order's lines and carrier now belong to the invoice.
    let detail_ids = detail_ids(order);
    let dr = schema("order_details");
    if let Some(i) = dr.field_index("id_order_invoice") {
        let details = table(store, "order_details");
        for d in detail_ids {
            if let Some(row) = details.rows.get_mut(&d) {
                row.values[i] = Value::Int(id as i64);
            }
        }
    }
    let cr = schema("order_carriers");
    if let Some(ii) = cr.field_index("id_order_invoice") {
        for k in carrier_ids(store, order.id) {
            if let Some(c) = table(store, "order_carriers").rows.get_mut(&k) {
                c.values[ii] = Value::Int(id as i64);
            }
        }
    }
}

/// Ids of an order's order_carriers rows. They are written with their order, so the row
/// usually has the order's id; otherwise the table is scanned.
pub fn carrier_ids(store: &Store, order: u64) -> Vec<u64> {
    let cr = schema("order_carriers");
    let Some(carriers) = store.table("order_carriers") else {
        return Vec::new();
    };
    let mine = |c: &Row| get_int(c, cr, "id_order") == order as i64;
    if carriers.rows.get(&order).is_some_and(mine) {
        return vec![order];
    }
    carriers
        .rows
        .iter()
        .filter(|(_, c)| mine(c))
        .map(|(k, _)| *k)
        .collect()
}

/// Gives an order's parcels a tracking number when it ships (not for in-store pickup).
fn set_tracking(store: &mut Store, order: &Row) {
    let carrier = get_int(order, schema("orders"), "id_carrier");
    let tracking = match carrier {
        1 => return,
        3 | 4 => format!("6A{:011}", order.id),
        5 => format!("JD{:018}", order.id * 7_919),
        _ => format!("MC{:010}", order.id),
    };
    let cr = schema("order_carriers");
    let Some(ti) = cr.field_index("tracking_number") else {
        return;
    };
    for k in carrier_ids(store, order.id) {
        if let Some(c) = table(store, "order_carriers").rows.get_mut(&k) {
            if c.values[ti].as_text().is_empty() {
                c.values[ti] = Value::Str(tracking.clone());
            }
        }
    }
}

/// Ids of an order's details, from its `order_rows` association.
pub fn detail_ids(order: &Row) -> Vec<u64> {
    let r = schema("orders");
    r.association_index("order_rows")
        .map(|i| {
            order.assocs[i]
                .iter()
                .filter_map(|e| e.first().and_then(Value::as_int))
                .map(|id| id as u64)
                .collect()
        })
        .unwrap_or_default()
}

/// Writes a credit slip for `(order_detail id, quantity)` pairs, plus shipping if asked,
/// and records the refunded quantities and amounts on the details. Returns `None` (and
/// writes nothing) when the order is unpaid, a quantity exceeds what is left to refund,
/// or the amount would exceed what was paid and not yet refunded.
pub fn add_slip(
    store: &mut Store,
    order: u64,
    lines: &[(u64, i64)],
    shipping: bool,
    partial: bool,
    date: &str,
) -> Option<u64> {
    let langs = store.languages.clone();
    let orders = schema("orders");
    let details = schema("order_details");
    let o = store.table("orders")?.rows.get(&order)?.clone();
    if get_money(&o, orders, "total_paid_real") == 0 || lines.is_empty() {
        return None;
    }
    let all_details = detail_ids(&o);
    let mut refunded_before = 0;
    for d in &all_details {
        if let Some(row) = store.table("order_details").and_then(|t| t.rows.get(d)) {
            refunded_before += get_money(row, details, "total_refunded_tax_incl");
        }
    }
    let mut entries = Vec::new();
    let (mut excl, mut incl) = (0i64, 0i64);
    for &(d, q) in lines {
        if !all_details.contains(&d) || q <= 0 {
            return None;
        }
        let row = store.table("order_details")?.rows.get(&d)?;
        let left = get_int(row, details, "product_quantity")
            - get_int(row, details, "product_quantity_refunded");
        if q > left {
            return None;
        }
        let e = round2(get_money(row, details, "unit_price_tax_excl") * q);
        let i = round2(get_money(row, details, "unit_price_tax_incl") * q);
        excl += e;
        incl += i;
        entries.push((d, q, e, i));
    }
    let (ship_excl, ship_incl) = if shipping {
        (
            get_money(&o, orders, "total_shipping_tax_excl"),
            get_money(&o, orders, "total_shipping_tax_incl"),
        )
    } else {
        (0, 0)
    };
    let amount = incl + ship_incl;
    if amount + refunded_before > get_money(&o, orders, "total_paid_tax_incl") {
        return None;
    }
    let id = table(store, "order_slip").next_id();
    for &(d, q, e, i) in &entries {
        let row = table(store, "order_details").rows.remove(&d)?;
        let qty = get_int(&row, details, "product_quantity_refunded") + q;
        let re = get_money(&row, details, "total_refunded_tax_excl") + e;
        let ri = get_money(&row, details, "total_refunded_tax_incl") + i;
        let mut b = RowBuilder::edit("order_details", row, &langs);
        b.int("product_quantity_refunded", qty)
            .money("total_refunded_tax_excl", re)
            .money("total_refunded_tax_incl", ri);
        table(store, "order_details").rows.insert(d, b.row());
    }
    let slip_details: Vec<[(&str, Av); 5]> = entries
        .iter()
        .map(|&(d, q, e, i)| {
            [
                ("id", Av::I(id as i64)),
                ("id_order_detail", Av::I(d as i64)),
                ("product_quantity", Av::I(q)),
                ("amount_tax_excl", Av::S(money(e))),
                ("amount_tax_incl", Av::S(money(i))),
            ]
        })
        .collect();
    let refs: Vec<&[(&str, Av)]> = slip_details.iter().map(|r| &r[..]).collect();
    let mut b = RowBuilder::new("order_slip", id, &langs);
    b.int("id_customer", get_int(&o, orders, "id_customer"))
        .int("id_order", order as i64)
        .string(
            "conversion_rate",
            get_text(&o, orders, "conversion_rate").into_owned(),
        )
        .money("total_products_tax_excl", excl)
        .money("total_products_tax_incl", incl)
        .money("total_shipping_tax_excl", ship_excl)
        .money("total_shipping_tax_incl", ship_incl)
        .money("amount", amount)
        .flag("shipping_cost", shipping)
        .money("shipping_cost_amount", ship_incl)
        .flag("partial", partial)
        .text("date_add", date)
        .text("date_upd", date)
        .int("order_slip_type", 0)
        .assoc("order_slip_details", &refs);
    b.insert(store);
    Some(id)
}

/// The life of an order: its states with the instants they were reached.
fn plan_path(
    module_first: u32,
    module: &str,
    t0: i64,
    refundable: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<(u32, i64)> {
    const H: i64 = 3_600;
    let mut path = vec![(module_first, t0)];
    let mut t = t0;
    let mut step = |path: &mut Vec<(u32, i64)>, s: u32, lo: i64, hi: i64, rng: &mut ChaCha8Rng| {
        t += rng.gen_range(lo..=hi);
        path.push((s, t));
    };
    let offline = matches!(module_first, state::AWAITING_CHECK | state::AWAITING_WIRE);
    if offline {
        match rng.gen_range(0..100) {
            // Never paid, canceled by the merchant after a while.
            0..=7 => {
                step(&mut path, state::CANCELED, 5 * 24 * H, 15 * 24 * H, rng);
                return path;
            }
            // Never paid and forgotten: awaiting payment forever.
            8..=11 => return path,
            _ => {}
        }
        step(&mut path, state::PAYMENT_ACCEPTED, H, 72 * H, rng);
    } else if module_first == state::AWAITING_COD {
        step(&mut path, state::SHIPPED, 4 * H, 48 * H, rng);
        step(&mut path, state::DELIVERED, 24 * H, 96 * H, rng);
        return path;
    } else if module == "stripe_official" && rng.gen_bool(0.03) {
        path[0].0 = state::PAYMENT_ERROR;
        return path;
    } else if rng.gen_bool(0.02) {
        path[0].0 = state::BACKORDER_PAID;
        step(&mut path, state::PROCESSING, 48 * H, 240 * H, rng);
        step(&mut path, state::SHIPPED, 2 * H, 48 * H, rng);
        step(&mut path, state::DELIVERED, 24 * H, 96 * H, rng);
        return path;
    }
    step(&mut path, state::PROCESSING, H, 24 * H, rng);
    step(&mut path, state::SHIPPED, 2 * H, 48 * H, rng);
    step(&mut path, state::DELIVERED, 24 * H, 96 * H, rng);
    if refundable && rng.gen_bool(0.02) {
        step(&mut path, state::REFUNDED, 3 * 24 * H, 20 * 24 * H, rng);
    }
    path
}

/// How many orders a shop gets in an hour, relatively: few at night, most in the evening,
/// a little more on Sundays, and growing over the history (0.6× at the start, 1.4× now).
fn hourly_weight(ctx: &Ctx, hour_start: i64) -> f64 {
    use chrono::{Datelike, TimeZone, Timelike};
    let local = ctx.tz.timestamp_opt(hour_start, 0).earliest();
    let (hour, sunday) = local.map_or((12, false), |t| {
        (t.hour(), t.weekday() == chrono::Weekday::Sun)
    });
    let by_hour = match hour {
        0..=5 => 0.15,
        6..=8 => 0.5,
        9..=11 => 1.0,
        12..=17 => 1.1,
        18..=21 => 1.7,
        _ => 0.8,
    };
    let growth = 0.6 + 0.8 * (hour_start - ctx.start) as f64 / (ctx.now - ctx.start).max(1) as f64;
    by_hour * growth * if sunday { 1.25 } else { 1.0 }
}

/// Instants of `n` orders over the history, in id order, following [`hourly_weight`], with
/// two orders forced into each daylight-saving fall-back hour so their local times repeat.
fn order_instants(ctx: &Ctx, n: usize, rng: &mut ChaCha8Rng) -> Vec<i64> {
    let hours = ((ctx.now - 7_200 - ctx.start) / 3_600).max(1) as usize;
    // Cumulative weight at the start of each hour; order i sits at quantile (i + u) / n.
    let mut cumulative = Vec::with_capacity(hours + 1);
    cumulative.push(0.0f64);
    for h in 0..hours {
        let w = hourly_weight(ctx, ctx.start + h as i64 * 3_600);
        cumulative.push(cumulative[h] + w);
    }
    let total = cumulative[hours];
    let mut t: Vec<i64> = (0..n)
        .map(|i| {
            let x = (i as f64 + rng.gen::<f64>()) / n as f64 * total;
            let h = cumulative.partition_point(|&c| c <= x).clamp(1, hours) - 1;
            let width = cumulative[h + 1] - cumulative[h];
            let frac = if width > 0.0 {
                (x - cumulative[h]) / width
            } else {
                0.0
            };
            ctx.start + h as i64 * 3_600 + (frac.clamp(0.0, 0.999) * 3_600.0) as i64
        })
        .collect();
    for fall_back in fall_backs(ctx) {
        let j = t.partition_point(|&x| x < fall_back);
        if j >= 1 && j < n {
            t[j - 1] = fall_back - 1_200; // 02:40 the first time (summer time)
            t[j] = fall_back + 600; // 02:10 the second time (winter time)
        }
    }
    t
}

/// Instants where the shop's UTC offset decreases (clocks go back), within the history.
pub fn fall_backs(ctx: &Ctx) -> Vec<i64> {
    use chrono::{Offset, TimeZone};
    let offset = |s: i64| {
        ctx.tz
            .timestamp_opt(s, 0)
            .single()
            .map_or(0, |t| t.offset().fix().local_minus_utc())
    };
    let mut out = Vec::new();
    let mut s = ctx.start - ctx.start.rem_euclid(3_600);
    let mut prev = offset(s);
    while s < ctx.now {
        let next = s + 3_600;
        let o = offset(next);
        if o < prev {
            out.push(next);
        }
        prev = o;
        s = next;
    }
    out
}

fn pick_module(rng: &mut ChaCha8Rng) -> (&'static str, &'static str, u32) {
    let total: u32 = PAYMENT_MODULES.iter().map(|m| m.3).sum();
    let mut x = rng.gen_range(0..total);
    for &(module, label, first, w) in PAYMENT_MODULES {
        if x < w {
            return (module, label, first);
        }
        x -= w;
    }
    let m = PAYMENT_MODULES[0];
    (m.0, m.1, m.2)
}

/// The unknown payment module (last entry of [`PAYMENT_MODULES`]).
fn unknown_module() -> (&'static str, &'static str, u32) {
    let m = PAYMENT_MODULES[PAYMENT_MODULES.len() - 1];
    (m.0, m.1, m.2)
}

/// Picks a currency for a delivery country.
fn pick_currency(country: &Country, rng: &mut ChaCha8Rng) -> &'static Currency {
    let by_iso = |iso: &str| CURRENCIES.iter().find(|c| c.iso == iso).expect("currency");
    match country.iso {
        "US" | "CA" if rng.gen_bool(0.7) => by_iso("USD"),
        "GB" if rng.gen_bool(0.7) => by_iso("GBP"),
        _ if rng.gen_bool(0.03) => by_iso(if rng.gen_bool(0.5) { "USD" } else { "GBP" }),
        _ => by_iso("EUR"),
    }
}

/// Picks a carrier for a delivery country at an instant (the old Colissimo before mid-history).
fn pick_carrier(ctx: &Ctx, country: &Country, t: i64, rng: &mut ChaCha8Rng) -> &'static Carrier {
    let by_id = |id: u64| CARRIERS.iter().find(|c| c.id == id).expect("carrier");
    if !country.eu {
        return by_id(if rng.gen_bool(0.7) { 5 } else { 2 });
    }
    if country.iso == "FR" && rng.gen_bool(0.1) {
        return by_id(1);
    }
    if rng.gen_bool(0.5) {
        by_id(2)
    } else if t < ctx.start + super::HISTORY_SECS / 2 {
        by_id(3)
    } else {
        by_id(4)
    }
}

/// Picks an item, favouring the first ones (a few best sellers).
fn pick_item(indices: &[usize], rng: &mut ChaCha8Rng) -> Option<usize> {
    if indices.is_empty() {
        return None;
    }
    let x: f64 = rng.gen();
    let k = ((x * x) * indices.len() as f64) as usize;
    indices.get(k.min(indices.len() - 1)).copied()
}

/// Lines of an order: 1 to 4 distinct items, one of them from doomed products if asked.
pub fn pick_lines(
    catalog: &Catalog,
    shop: u32,
    with_doomed: bool,
    country: &Country,
    currency: &Currency,
    rng: &mut ChaCha8Rng,
) -> Vec<Line> {
    let slot = (shop as usize).saturating_sub(1);
    let live = catalog.live.get(slot).map_or(&[][..], |v| &v[..]);
    let doomed = catalog.doomed.get(slot).map_or(&[][..], |v| &v[..]);
    let n = match rng.gen_range(0..100) {
        0..=49 => 1,
        50..=79 => 2,
        80..=94 => 3,
        _ => 4,
    };
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    if with_doomed {
        if let Some(i) = doomed.choose(rng) {
            chosen.push(*i);
        }
    }
    for _ in 0..n * 2 {
        if chosen.len() >= n {
            break;
        }
        if let Some(i) = pick_item(live, rng) {
            if !chosen.contains(&i) {
                chosen.push(i);
            }
        }
    }
    chosen
        .into_iter()
        .map(|i| {
            let qty = match rng.gen_range(0..100) {
                0..=69 => 1,
                70..=91 => 2,
                _ => 3,
            };
            Line::of(&catalog.items[i], qty, country, currency)
        })
        .collect()
}

/// Shipping cost in the order currency: free above 150 (EUR, tax excluded) except express.
fn shipping_for(carrier: &Carrier, lines: &[Line], currency: &Currency) -> i64 {
    let products: i64 = lines.iter().map(|l| l.unit_excl * l.qty).sum();
    if carrier.id != 5 && products >= convert(150_000_000, currency.rate) {
        0
    } else {
        convert(carrier.price, currency.rate)
    }
}

/// Builds a new order for a customer at an instant, without writing it.
#[allow(clippy::too_many_arguments)]
pub fn plan_order(
    ctx: &Ctx,
    catalog: &Catalog,
    person: &Person,
    t: i64,
    id_cart: u64,
    module: (&'static str, &'static str),
    with_doomed: bool,
    refundable: bool,
    rng: &mut ChaCha8Rng,
) -> Option<NewOrder> {
    let &(delivery, country) = person.addresses.choose(rng)?;
    let invoice = if person.addresses.len() > 1 && rng.gen_bool(0.1) {
        person
            .addresses
            .iter()
            .find(|a| a.0 != delivery)
            .map_or(delivery, |a| a.0)
    } else {
        delivery
    };
    let currency = pick_currency(country, rng);
    let lines = pick_lines(catalog, person.shop, with_doomed, country, currency, rng);
    if lines.is_empty() {
        return None;
    }
    let carrier = pick_carrier(ctx, country, t, rng);
    let shipping_excl = shipping_for(carrier, &lines, currency);
    let carrier_rate = tax_rate(1, country);
    let wrapping_excl = if refundable && rng.gen_bool(0.03) {
        convert(2_000_000, currency.rate)
    } else {
        0
    };
    let discount = if refundable && rng.gen_bool(0.08) {
        let rule = &CART_RULES[rng.gen_range(0..CART_RULES.len())];
        Some((rule.0, rule.3))
    } else {
        None
    };
    Some(NewOrder {
        reference: reference(rng),
        id_cart,
        id_customer: person.id,
        id_address_delivery: delivery,
        id_address_invoice: invoice,
        currency,
        id_lang: person.lang,
        id_shop: person.shop,
        carrier,
        shipping_excl,
        carrier_rate,
        wrapping_excl,
        discount,
        module: module.0,
        payment: module.1,
        secure_key: person.secure_key.clone(),
        note: String::new(),
        lines,
        date_add: ctx.local(t),
    })
}

/// Generates `n` orders over the history with their lives (states, payments, invoices,
/// slips), about 1 % of them split in two orders sharing a reference and a payment.
pub fn write_history(
    store: &mut Store,
    ctx: &Ctx,
    catalog: &Catalog,
    people: &People,
    n: u32,
    rng: &mut ChaCha8Rng,
) {
    let n = n as usize;
    if n == 0 || people.list.is_empty() || catalog.items.is_empty() {
        return;
    }
    let instants = order_instants(ctx, n, rng);
    let mut seq = Seq::default();
    let mut next_cart = 1u64;
    let unknown_at = n / 2;
    let mut i = 0;
    while i < n {
        let t0 = instants[i];
        let person = pick_person(people, t0, rng);
        let split = i % 100 == 37 && i + 1 < n;
        let (module, label, first) = if i == unknown_at || i % 997 == 500 {
            unknown_module()
        } else {
            pick_module(rng)
        };
        let with_doomed = i == 1 || rng.gen_bool(0.02);
        let path = plan_path(first, module, t0, !split, rng);
        let refundable = path.iter().all(|p| p.0 != state::REFUNDED);
        let cart = next_cart;
        next_cart += 1;
        // Some carts were abandoned: their ids are used but no order follows.
        if rng.gen_bool(0.15) {
            next_cart += 1;
        }
        let Some(mut first_order) = plan_order(
            ctx,
            catalog,
            person,
            t0,
            cart,
            (module, label),
            with_doomed,
            refundable,
            rng,
        ) else {
            i += 1;
            continue;
        };
        first_order.note = order_note(i, rng);
        let mut orders = vec![first_order];
        if split {
            let o0 = &orders[0];
            let country = person
                .addresses
                .iter()
                .find(|a| a.0 == o0.id_address_delivery)
                .map(|a| a.1);
            if let Some(country) = country {
                let lines = pick_lines(catalog, person.shop, false, country, o0.currency, rng);
                if !lines.is_empty() {
                    let mut second = o0.clone();
                    second.note = String::new();
                    second.discount = None;
                    second.wrapping_excl = 0;
                    second.shipping_excl = shipping_for(o0.carrier, &lines, o0.currency);
                    second.lines = lines;
                    orders.push(second);
                }
            }
        }
        let written: Vec<(u64, Totals)> = orders.iter().map(|o| insert_order(store, o)).collect();
        let total: i64 = written.iter().map(|w| w.1.paid_incl).sum();
        for (k, &(id, _)) in written.iter().enumerate() {
            let pay = match (written.len(), k) {
                (1, _) => Pay::Own,
                (_, 0) => Pay::Amount(total),
                _ => Pay::Skip,
            };
            live_order(store, ctx, id, &path, &mut seq, pay, rng);
        }
        abandoned_cart(store, ctx, cart + 1, next_cart, person, t0);
        i += orders.len();
    }
}

fn order_note(i: usize, rng: &mut ChaCha8Rng) -> String {
    if i % 97 == 13 {
        mess::note(i as u64)
    } else if rng.gen_bool(0.05) {
        "Please deliver after 6pm".to_string()
    } else {
        String::new()
    }
}

/// A customer who existed at `t`, often a recent one.
fn pick_person<'p>(people: &'p People, t: i64, rng: &mut ChaCha8Rng) -> &'p Person {
    let k = people.list.partition_point(|p| p.created <= t).max(1);
    let recent = (k / 20).max(1);
    let idx = if rng.gen_bool(0.5) {
        rng.gen_range(k - recent..k)
    } else {
        rng.gen_range(0..k)
    };
    &people.list[idx]
}

/// Applies an order's path up to now, with a full credit slip before a refund and, for
/// some delivered orders, a partial one later.
fn live_order(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    path: &[(u32, i64)],
    seq: &mut Seq,
    pay: Pay,
    rng: &mut ChaCha8Rng,
) {
    for (k, &(s, t)) in path.iter().enumerate() {
        if t > ctx.now {
            break;
        }
        let date = ctx.local(t);
        if s == state::REFUNDED {
            let lines = remaining_lines(store, id);
            add_slip(store, id, &lines, true, false, &ctx.local(t - 60));
        }
        change_state(store, id, s, &date, i64::from(k > 0), seq, pay);
    }
    let last = path.iter().rev().find(|p| p.1 <= ctx.now);
    if let Some(&(state::DELIVERED, t)) = last {
        let when = t + rng.gen_range(3..=20) * 86_400;
        if when <= ctx.now && rng.gen_bool(0.015) {
            if let Some(&(d, _)) = remaining_lines(store, id).first() {
                add_slip(store, id, &[(d, 1)], false, true, &ctx.local(when));
            }
        }
    }
}

/// `(detail id, quantity not yet refunded)` of an order's lines.
pub fn remaining_lines(store: &Store, order: u64) -> Vec<(u64, i64)> {
    let Some(o) = store.table("orders").and_then(|t| t.rows.get(&order)) else {
        return Vec::new();
    };
    let dr = schema("order_details");
    detail_ids(o)
        .into_iter()
        .filter_map(|d| {
            let row = store.table("order_details")?.rows.get(&d)?;
            let left = get_int(row, dr, "product_quantity")
                - get_int(row, dr, "product_quantity_refunded");
            (left > 0).then_some((d, left))
        })
        .collect()
}

/// Writes abandoned carts with ids in `from..to` for a customer (carts without orders).
fn abandoned_cart(store: &mut Store, ctx: &Ctx, from: u64, to: u64, person: &Person, t: i64) {
    let langs = store.languages.clone();
    for id in from..to {
        let Some(&(address, _)) = person.addresses.first() else {
            return;
        };
        let date = ctx.local(t - 3_600);
        let mut b = RowBuilder::new("carts", id, &langs);
        b.int("id_address_delivery", address as i64)
            .int("id_address_invoice", address as i64)
            .int("id_currency", 1)
            .int("id_customer", person.id as i64)
            .int("id_guest", 0)
            .int("id_lang", person.lang as i64)
            .int("id_shop_group", shop_group(person.shop) as i64)
            .int("id_shop", person.shop as i64)
            .int("id_carrier", 0)
            .flag("recyclable", false)
            .flag("gift", false)
            .text("gift_message", "")
            .flag("mobile_theme", false)
            .text("delivery_option", "")
            .text("secure_key", &person.secure_key)
            .flag("allow_seperated_package", false)
            .string("date_add", date.clone())
            .string("date_upd", date);
        b.insert(store);
    }
}
