//! `commerce-paymentMethods`: the distinct payment modules and methods seen in orders
//! (`module`, `payment`) and order payments (`payment_method`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, FixedOffset};
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
    /// Counts one use of a payment method.
    pub fn add(&mut self, entry: &CensusEntry) {
        self.note(
            &entry.naming.id,
            &entry.naming.name,
            entry.naming.label.as_deref(),
            entry.when,
        );
    }

    fn note(
        &mut self,
        id: &str,
        name: &Option<String>,
        label: Option<&str>,
        when: Option<Timestamp>,
    ) {
        if !self.seen.contains_key(id) {
            self.seen.insert(
                id.to_string(),
                Seen {
                    name: None,
                    last: None,
                    names: Vec::new(),
                    uses: 0,
                },
            );
        }
        let entry = self.seen.get_mut(id).expect("inserted above");
        entry.uses += 1;
        if entry.name.is_none() {
            entry.name.clone_from(name);
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
        if let Some(entry) = CensusEntry::of_order(order, refs, opts)? {
            self.add(&entry);
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
        if let Some(entry) = CensusEntry::of_payment(payment, order_module, refs, opts)? {
            self.add(&entry);
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

/// A payment method as one order or payment names it: the method's id and name, and the
/// label the row shows (an order's `payment`, a payment's `payment_method`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
struct Naming {
    id: String,
    name: Option<String>,
    label: Option<String>,
}

/// What one order or one payment adds to a census: the method it names and when it was used.
#[derive(Debug, Clone, PartialEq)]
pub struct CensusEntry {
    naming: Naming,
    when: Option<Timestamp>,
}

impl CensusEntry {
    /// The entry of an order (`None` when it names no method).
    pub fn of_order(
        order: &Record,
        refs: &ReferenceData,
        opts: &MapOptions,
    ) -> Result<Option<Self>, MappingError> {
        let f = Fields::new(order, "orders");
        let when = refs.clock.field(&f, "date_add")?;
        Ok(
            method_ref(opts, f.text("payment"), f.text("module")).map(|r| CensusEntry {
                naming: Naming {
                    id: r.id,
                    name: r.name,
                    label: f.text("payment").map(str::to_string),
                },
                when,
            }),
        )
    }

    /// The entry of an order payment; `order_module` is the module of the first order
    /// (lowest id) with the payment's reference, when there is one.
    pub fn of_payment(
        payment: &Record,
        order_module: Option<&str>,
        refs: &ReferenceData,
        opts: &MapOptions,
    ) -> Result<Option<Self>, MappingError> {
        let f = Fields::new(payment, "order_payments");
        let when = refs.clock.field(&f, "date_add")?;
        Ok(
            method_ref(opts, f.text("payment_method"), order_module).map(|r| CensusEntry {
                naming: Naming {
                    id: r.id,
                    name: r.name,
                    label: f.text("payment_method").map(str::to_string),
                },
                when,
            }),
        )
    }
}

/// Which row of the store a census entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CensusRow {
    /// An order, by id.
    Order(u64),
    /// An order payment, by id.
    Payment(u64),
}

/// One row's use in a [`CensusLedger`]: the index of its naming and its date.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Use {
    naming: u32,
    when: Option<Timestamp>,
}

/// The census entry of every order and payment, by row: what a census is counted from,
/// kept so that a sync can update its census from the orders and payments that changed
/// instead of counting every one again. [`CensusLedger::census`] is the census of the
/// orders in id order and then the payments in id order, as a count of the whole store
/// feeds them. The namings (a few per store) are kept once, each row refers to one.
#[derive(Debug, Clone, Default)]
pub struct CensusLedger {
    namings: Vec<Naming>,
    index: HashMap<Naming, u32>,
    orders: BTreeMap<u64, Use>,
    payments: BTreeMap<u64, Use>,
}

impl CensusLedger {
    /// Sets what `row` adds to the census: its entry, or nothing (`None`: the row is
    /// deleted, names no method or could not be counted).
    pub fn set(&mut self, row: CensusRow, entry: Option<CensusEntry>) {
        let (rows, id) = match row {
            CensusRow::Order(id) => (&mut self.orders, id),
            CensusRow::Payment(id) => (&mut self.payments, id),
        };
        let Some(entry) = entry else {
            rows.remove(&id);
            return;
        };
        let naming = match self.index.get(&entry.naming) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.namings.len()).expect("fewer than 2^32 namings");
                self.namings.push(entry.naming.clone());
                self.index.insert(entry.naming, i);
                i
            }
        };
        rows.insert(
            id,
            Use {
                naming,
                when: entry.when,
            },
        );
    }

    /// Number of rows with an entry.
    pub fn len(&self) -> usize {
        self.orders.len() + self.payments.len()
    }

    /// Whether no row has an entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The census of every row's entry: orders in id order, then payments in id order.
    pub fn census(&self) -> PaymentMethodCensus {
        let mut census = PaymentMethodCensus::default();
        for u in self.orders.values().chain(self.payments.values()) {
            let n = &self.namings[u.naming as usize];
            census.note(&n.id, &n.name, n.label.as_deref(), u.when);
        }
        census
    }
}

/// A ledger row as stored: `[id, naming, [unix seconds, UTC offset seconds]]`, the date
/// `null` when there is none. Census dates are whole seconds (shop dates are), which the
/// stored form keeps exactly.
type LedgerRow = (u64, u32, Option<(i64, i32)>);

/// The stored form of a [`CensusLedger`]: the namings in use, and the rows.
#[derive(serde::Serialize, serde::Deserialize)]
struct LedgerForm {
    namings: Vec<Naming>,
    orders: Vec<LedgerRow>,
    payments: Vec<LedgerRow>,
}

impl serde::Serialize for CensusLedger {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Namings no row uses any more are left out, the others renumbered.
        let mut renumbered: Vec<Option<u32>> = vec![None; self.namings.len()];
        let mut namings = Vec::new();
        let mut rows = |from: &BTreeMap<u64, Use>| -> Vec<LedgerRow> {
            from.iter()
                .map(|(&id, u)| {
                    let naming = *renumbered[u.naming as usize].get_or_insert_with(|| {
                        namings.push(self.namings[u.naming as usize].clone());
                        (namings.len() - 1) as u32
                    });
                    let when = u
                        .when
                        .map(|t| (t.timestamp(), t.offset().local_minus_utc()));
                    (id, naming, when)
                })
                .collect()
        };
        let orders = rows(&self.orders);
        let payments = rows(&self.payments);
        LedgerForm {
            namings,
            orders,
            payments,
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for CensusLedger {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let form = LedgerForm::deserialize(deserializer)?;
        let rows = |from: Vec<LedgerRow>| -> Result<BTreeMap<u64, Use>, D::Error> {
            from.into_iter()
                .map(|(id, naming, when)| {
                    if naming as usize >= form.namings.len() {
                        return Err(D::Error::custom("a census row names no known method"));
                    }
                    let when = match when {
                        None => None,
                        Some((secs, offset)) => {
                            let offset = FixedOffset::east_opt(offset)
                                .ok_or_else(|| D::Error::custom("a census date's offset"))?;
                            let utc = DateTime::from_timestamp(secs, 0)
                                .ok_or_else(|| D::Error::custom("a census date"))?;
                            Some(utc.with_timezone(&offset))
                        }
                    };
                    Ok((id, Use { naming, when }))
                })
                .collect()
        };
        let orders = rows(form.orders)?;
        let payments = rows(form.payments)?;
        let index = form
            .namings
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        Ok(CensusLedger {
            namings: form.namings,
            index,
            orders,
            payments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(fields: &[(&str, &str)]) -> Record {
        Record::from_text_fields(fields)
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

    #[test]
    fn a_ledger_counts_the_census_of_its_rows_and_updates_row_by_row() {
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let mut paris = opts.clone();
        paris.timezone = Some("Europe/Paris".into());
        let refs = ReferenceData::build(&Default::default(), &paris).unwrap();
        let order = |id: &str, module: &str, payment: &str, date: &str| {
            record(&[
                ("id", id),
                ("module", module),
                ("payment", payment),
                ("date_add", date),
            ])
        };
        let payment = |id: &str, method: &str, date: &str| {
            record(&[("id", id), ("payment_method", method), ("date_add", date)])
        };
        let mut orders = vec![
            order("1", "ps_wirepayment", "Bank wire", "2025-06-01 10:00:00"),
            order("2", "ps_checkpayment", "Check", "2024-01-01 10:00:00"),
            order("3", "ps_wirepayment", "Wire", "2025-03-30 02:30:00"),
            order("10", "ps_cashondelivery", "Cash", ""),
        ];
        let mut payments = vec![
            (
                payment("1", "Bank wire", "2025-12-01 10:00:00"),
                Some("ps_wirepayment"),
            ),
            (payment("2", "Card", "2025-10-26 02:30:00"), None),
            (
                payment("3", "Virement", "2022-02-01 10:00:00"),
                Some("ps_wirepayment"),
            ),
        ];
        // The census counted from scratch, and the ledger's census, as finished records.
        let counted = |orders: &[Record], payments: &[(Record, Option<&str>)]| {
            let mut census = PaymentMethodCensus::default();
            for o in orders {
                census.add_order(o, &refs, &opts).unwrap();
            }
            for (p, module) in payments {
                census.add_payment(p, *module, &refs, &opts).unwrap();
            }
            serde_json::to_value(census.finish(&opts)).unwrap()
        };
        let of_ledger =
            |ledger: &CensusLedger| serde_json::to_value(ledger.census().finish(&opts)).unwrap();
        let mut ledger = CensusLedger::default();
        // Fed in another order than the census counts them: the ledger orders its rows.
        for (p, module) in payments.iter().rev() {
            let entry = CensusEntry::of_payment(p, *module, &refs, &opts).unwrap();
            ledger.set(CensusRow::Payment(p.id().unwrap()), entry);
        }
        for o in orders.iter().rev() {
            let entry = CensusEntry::of_order(o, &refs, &opts).unwrap();
            ledger.set(CensusRow::Order(o.id().unwrap()), entry);
        }
        let expected = counted(&orders, &payments);
        assert_eq!(expected.as_array().unwrap().len(), 4, "{expected}");
        assert_eq!(of_ledger(&ledger), expected);

        // A changed order, a deleted payment and a new one: only those rows are set again.
        orders[1] = order("2", "ps_wirepayment", "Virement", "2025-12-24 18:00:00");
        let gone = payments.remove(2).0;
        payments.push((
            payment("7", "Cheque", "2025-11-11 11:11:11"),
            Some("ps_checkpayment"),
        ));
        ledger.set(
            CensusRow::Order(2),
            CensusEntry::of_order(&orders[1], &refs, &opts).unwrap(),
        );
        ledger.set(CensusRow::Payment(gone.id().unwrap()), None);
        let (new, module) = &payments[2];
        ledger.set(
            CensusRow::Payment(7),
            CensusEntry::of_payment(new, *module, &refs, &opts).unwrap(),
        );
        let expected = counted(&orders, &payments);
        assert_eq!(of_ledger(&ledger), expected);
        assert_eq!(ledger.len(), 7);

        // Kept as JSON, with the dates' offsets and without namings no row uses any more.
        let json = serde_json::to_string(&ledger).unwrap();
        let kept: CensusLedger = serde_json::from_str(&json).unwrap();
        assert_eq!(of_ledger(&kept), expected);
        assert!(kept.namings.len() < ledger.namings.len(), "{json}");
        assert_eq!(serde_json::to_string(&kept).unwrap(), json);
    }
}
