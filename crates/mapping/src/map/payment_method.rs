//! `commerce-paymentMethods`: the distinct payment modules and methods seen in orders
//! (`module`, `payment`) and order payments (`payment_method`).

use chrono::Duration;
use indexmap::IndexMap;
use prestalink_commerce::{
    PaymentMethod, PaymentMethodStatus, PaymentType, SupplementalData, Timestamp,
};

use super::payment::method_ref;
use crate::error::MappingError;
use crate::fields::Fields;
use crate::links::OrderLinks;
use crate::options::MapOptions;
use crate::records::RecordSet;
use crate::reference::ReferenceData;
use prestalink_webservice::record::Record;

struct Seen {
    name: Option<String>,
    last: Option<Timestamp>,
    names: Vec<String>,
    uses: u64,
}

/// Collects the payment methods of a store: `Active` when used in the year before
/// `opts.now`, else `Archived`; `Unknown` when no use has a date.
pub fn map_payment_methods(
    records: &RecordSet,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Vec<PaymentMethod>, MappingError> {
    let links = OrderLinks::build(records);
    let mut census = PaymentMethodCensus::default();
    for order in records.records("orders") {
        census.add_order(order, refs, opts)?;
    }
    for payment in records.records("order_payments") {
        let orders = Fields::new(payment, "order_payments")
            .text("order_reference")
            .map(|r| links.orders_with_reference(r))
            .unwrap_or_default();
        let module = orders
            .first()
            .and_then(|o| Fields::new(o, "orders").text("module"));
        census.add_payment(payment, module, refs, opts)?;
    }
    Ok(census.finish(opts))
}

/// The payment methods seen so far, fed a page of orders and payments at a time: what
/// [`map_payment_methods`] does for a whole store in memory, for a sync that streams a
/// large store page by page.
#[derive(Default)]
pub struct PaymentMethodCensus {
    seen: IndexMap<String, Seen>,
}

impl PaymentMethodCensus {
    fn note(
        &mut self,
        id: String,
        name: Option<String>,
        label: Option<&str>,
        when: Option<Timestamp>,
    ) {
        let entry = self.seen.entry(id).or_insert(Seen {
            name: None,
            last: None,
            names: Vec::new(),
            uses: 0,
        });
        entry.uses += 1;
        if entry.name.is_none() {
            entry.name = name;
        }
        if let Some(label) = label {
            if !entry.names.iter().any(|n| n == label) {
                entry.names.push(label.to_string());
            }
        }
        if when > entry.last {
            entry.last = when;
        }
    }

    /// Counts an order's payment module and method.
    pub fn add_order(
        &mut self,
        order: &Record,
        refs: &ReferenceData,
        opts: &MapOptions,
    ) -> Result<(), MappingError> {
        let f = Fields::new(order, "orders");
        let when = refs.clock.field(&f, "date_add")?;
        if let Some(r) = method_ref(opts, f.text("payment"), f.text("module")) {
            self.note(r.id, r.name, f.text("payment"), when);
        }
        Ok(())
    }

    /// Counts an order payment; `order_module` is the module of the first order (lowest id)
    /// with the payment's reference, when there is one.
    pub fn add_payment(
        &mut self,
        payment: &Record,
        order_module: Option<&str>,
        refs: &ReferenceData,
        opts: &MapOptions,
    ) -> Result<(), MappingError> {
        let f = Fields::new(payment, "order_payments");
        let when = refs.clock.field(&f, "date_add")?;
        if let Some(r) = method_ref(opts, f.text("payment_method"), order_module) {
            self.note(r.id, r.name, f.text("payment_method"), when);
        }
        Ok(())
    }

    /// The payment methods, in the order they were first seen.
    pub fn finish(self, opts: &MapOptions) -> Vec<PaymentMethod> {
        let year_ago = opts.now - Duration::days(365);
        self.seen
            .into_iter()
            .map(|(id, s)| {
                let status = match s.last {
                    Some(t) if t >= year_ago => PaymentMethodStatus::Active,
                    Some(_) => PaymentMethodStatus::Archived,
                    None => PaymentMethodStatus::Unknown,
                };
                let mut data = SupplementalData::default();
                let payment_type = opts
                    .rules
                    .payment_module(&id)
                    .map_or(PaymentType::Unknown, |m| m.payment_type);
                data.insert(
                    "paymentType",
                    serde_json::to_value(payment_type).unwrap_or_default(),
                );
                data.insert("namesSeen", s.names);
                data.insert("timesSeen", s.uses);
                PaymentMethod {
                    name: s.name.or_else(|| Some(id.clone())),
                    id,
                    status,
                    modified_date: Some(opts.now),
                    source_modified_date: s.last,
                    supplemental_data: data,
                }
            })
            .collect()
    }
}
