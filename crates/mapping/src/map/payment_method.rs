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

#[derive(Clone, serde::Serialize, serde::Deserialize)]
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
/// large store page by page. It serializes, so that a sync can keep it between runs and
/// skip the census when no order or payment changed.
#[derive(Default, Clone, serde::Serialize, serde::Deserialize)]
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

    /// Adds what another census saw after this one's: the same census as if `later`'s
    /// orders and payments had been fed to this one after its own (first-seen order, names
    /// and their order, uses and last use alike). A sync counts its orders and its payments
    /// in separate passes and merges them.
    pub fn merge(&mut self, later: PaymentMethodCensus) {
        for (id, seen) in later.seen {
            match self.seen.get_mut(&id) {
                None => {
                    self.seen.insert(id, seen);
                }
                Some(entry) => {
                    entry.uses += seen.uses;
                    if entry.name.is_none() {
                        entry.name = seen.name;
                    }
                    for name in seen.names {
                        if !entry.names.contains(&name) {
                            entry.names.push(name);
                        }
                    }
                    if seen.last > entry.last {
                        entry.last = seen.last;
                    }
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use prestalink_webservice::record::FieldValue;

    fn record(fields: &[(&str, &str)]) -> Record {
        let mut r = Record::default();
        for (k, v) in fields {
            r.fields
                .insert(k.to_string(), FieldValue::Text(v.to_string()));
        }
        r
    }

    #[test]
    fn a_merged_census_equals_one_fed_everything_in_order() {
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let refs = ReferenceData::default();
        let orders = [
            record(&[
                ("id", "1"),
                ("module", "ps_wirepayment"),
                ("payment", "Bank wire"),
                ("date_add", "2025-06-01 10:00:00"),
            ]),
            record(&[
                ("id", "2"),
                ("module", "ps_checkpayment"),
                ("payment", "Check"),
                ("date_add", "2024-01-01 10:00:00"),
            ]),
            record(&[
                ("id", "3"),
                ("module", "ps_wirepayment"),
                ("payment", "Wire"),
                ("date_add", "2023-01-01 10:00:00"),
            ]),
        ];
        let payments = [
            (
                record(&[
                    ("id", "1"),
                    ("payment_method", "Bank wire"),
                    ("date_add", "2025-12-01 10:00:00"),
                ]),
                Some("ps_wirepayment"),
            ),
            (
                record(&[
                    ("id", "2"),
                    ("payment_method", "Card"),
                    ("date_add", "2025-02-01 10:00:00"),
                ]),
                None,
            ),
            (
                record(&[
                    ("id", "3"),
                    ("payment_method", "Virement"),
                    ("date_add", "2022-02-01 10:00:00"),
                ]),
                Some("ps_wirepayment"),
            ),
            (
                record(&[("id", "4"), ("payment_method", "Check"), ("date_add", "")]),
                Some("ps_checkpayment"),
            ),
        ];
        let feed =
            |census: &mut PaymentMethodCensus, o: &[Record], p: &[(Record, Option<&str>)]| {
                for order in o {
                    census.add_order(order, &refs, &opts).unwrap();
                }
                for (payment, module) in p {
                    census.add_payment(payment, *module, &refs, &opts).unwrap();
                }
            };
        let json =
            |census: PaymentMethodCensus| serde_json::to_value(census.finish(&opts)).unwrap();
        let mut whole = PaymentMethodCensus::default();
        feed(&mut whole, &orders, &payments);
        let expected = json(whole);
        assert_eq!(expected.as_array().unwrap().len(), 3, "{expected}");
        // Orders in one census and payments in another, or split anywhere.
        for split in 0..=orders.len() + payments.len() {
            let (mut first, mut second) = (
                PaymentMethodCensus::default(),
                PaymentMethodCensus::default(),
            );
            if split <= orders.len() {
                feed(&mut first, &orders[..split], &[]);
                feed(&mut second, &orders[split..], &payments);
            } else {
                feed(&mut first, &orders, &payments[..split - orders.len()]);
                feed(&mut second, &[], &payments[split - orders.len()..]);
            }
            first.merge(second);
            assert_eq!(json(first), expected, "split at {split}");
        }
    }

    #[test]
    fn a_census_kept_as_json_finishes_as_the_original() {
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let refs = ReferenceData::default();
        let mut census = PaymentMethodCensus::default();
        for (id, module, payment, date) in [
            ("1", "ps_wirepayment", "Bank wire", "2025-06-01 10:00:00"),
            ("2", "ps_checkpayment", "Check", ""),
            ("3", "ps_wirepayment", "Wire", "2023-01-01 10:00:00"),
        ] {
            let order = record(&[
                ("id", id),
                ("module", module),
                ("payment", payment),
                ("date_add", date),
            ]);
            census.add_order(&order, &refs, &opts).unwrap();
        }
        let kept: PaymentMethodCensus =
            serde_json::from_value(serde_json::to_value(&census).unwrap()).unwrap();
        let json = |c: PaymentMethodCensus| serde_json::to_value(c.finish(&opts)).unwrap();
        let original = json(census);
        assert_eq!(original.as_array().unwrap().len(), 2);
        assert_eq!(json(kept), original);
    }
}
