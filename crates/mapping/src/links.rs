//! [`OrderLinks`]: the rows that belong to orders (details, payments, credit slips,
//! carriers, cart rules, history), grouped so an order finds its own.

use std::collections::HashMap;

use prestalink_webservice::record::Record;

use crate::fields::Fields;
use crate::records::RecordSet;
use crate::sources::parent_field;

/// The rows of one order, borrowed from a [`RecordSet`] (through [`OrderLinks`]) or from
/// the caller's own lists (an incremental sync reading one order's rows).
#[derive(Debug, Clone, Default)]
pub struct OrderChildren<'a> {
    /// order_details of the order (line totals, taxes, reductions).
    pub details: &'a [&'a Record],
    /// order_payments of the order's reference (may be shared with split orders).
    pub payments: &'a [&'a Record],
    /// Credit slips (order_slip) of the order.
    pub slips: &'a [&'a Record],
    /// order_carriers of the order.
    pub carriers: &'a [&'a Record],
    /// order_cart_rules of the order (discounts).
    pub cart_rules: &'a [&'a Record],
    /// order_histories of the order (state changes).
    pub histories: &'a [&'a Record],
}

/// Indexes of order-owned rows by order id (and payments by order reference).
#[derive(Debug, Default)]
pub struct OrderLinks<'a> {
    details: HashMap<u64, Vec<&'a Record>>,
    payments: HashMap<&'a str, Vec<&'a Record>>,
    slips: HashMap<u64, Vec<&'a Record>>,
    carriers: HashMap<u64, Vec<&'a Record>>,
    cart_rules: HashMap<u64, Vec<&'a Record>>,
    histories: HashMap<u64, Vec<&'a Record>>,
    orders_by_reference: HashMap<&'a str, Vec<&'a Record>>,
    orders_by_id: HashMap<u64, &'a Record>,
}

/// The field that ties rows of `resource` to their order (or orders), as the sync stores it.
fn parent(resource: &str) -> &'static str {
    parent_field(resource).expect("order rows have a parent field")
}

fn by_order<'a>(records: &'a [Record], resource: &'static str) -> HashMap<u64, Vec<&'a Record>> {
    let mut map: HashMap<u64, Vec<&'a Record>> = HashMap::new();
    for r in records {
        if let Some(order) = Fields::new(r, resource).id_ref(parent(resource)) {
            map.entry(order).or_default().push(r);
        }
    }
    for rows in map.values_mut() {
        rows.sort_by_key(|r| r.id());
        rows.dedup_by_key(|r| r.id()); // a row read twice (overlapping pages) counts once
    }
    map
}

fn rows_of<'s, 'a>(map: &'s HashMap<u64, Vec<&'a Record>>, id: u64) -> &'s [&'a Record] {
    map.get(&id).map_or(&[], Vec::as_slice)
}

impl<'a> OrderLinks<'a> {
    /// Indexes the order-owned resources of a record set.
    pub fn build(records: &'a RecordSet) -> Self {
        let mut payments: HashMap<&'a str, Vec<&'a Record>> = HashMap::new();
        for r in records.records("order_payments") {
            if let Some(reference) = Fields::new(r, "order_payments").text(parent("order_payments"))
            {
                payments.entry(reference).or_default().push(r);
            }
        }
        for rows in payments.values_mut() {
            rows.sort_by_key(|r| r.id());
            rows.dedup_by_key(|r| r.id());
        }
        let mut orders_by_reference: HashMap<&'a str, Vec<&'a Record>> = HashMap::new();
        let mut orders_by_id = HashMap::new();
        for r in records.records("orders") {
            if let Some(reference) = Fields::new(r, "orders").text(parent("orders")) {
                orders_by_reference.entry(reference).or_default().push(r);
            }
            if let Some(id) = r.id() {
                orders_by_id.insert(id, r);
            }
        }
        OrderLinks {
            details: by_order(records.records("order_details"), "order_details"),
            payments,
            slips: by_order(records.records("order_slip"), "order_slip"),
            carriers: by_order(records.records("order_carriers"), "order_carriers"),
            cart_rules: by_order(records.records("order_cart_rules"), "order_cart_rules"),
            histories: by_order(records.records("order_histories"), "order_histories"),
            orders_by_reference,
            orders_by_id,
        }
    }

    /// The rows of one order.
    pub fn children(&self, order: &Record) -> OrderChildren<'_> {
        let id = order.id().unwrap_or(0);
        let get = |map| rows_of(map, id);
        let reference = Fields::new(order, "orders").text("reference");
        OrderChildren {
            details: get(&self.details),
            payments: reference
                .and_then(|r| self.payments.get(r))
                .map_or(&[][..], Vec::as_slice),
            slips: get(&self.slips),
            carriers: get(&self.carriers),
            cart_rules: get(&self.cart_rules),
            histories: get(&self.histories),
        }
    }

    /// Orders sharing a reference (several when PrestaShop split a cart), in id order.
    pub fn orders_with_reference(&self, reference: &str) -> Vec<&'a Record> {
        let mut orders = self
            .orders_by_reference
            .get(reference)
            .cloned()
            .unwrap_or_default();
        orders.sort_by_key(|r| r.id());
        orders.dedup_by_key(|r| r.id());
        orders
    }

    /// An order by id.
    pub fn order(&self, id: u64) -> Option<&'a Record> {
        self.orders_by_id.get(&id).copied()
    }
}
