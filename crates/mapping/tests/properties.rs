//! Property tests on generated stores: order totals add up within PrestaShop's rounding,
//! every mapped record validates against its JSON Schema, and every reference points to a
//! record that exists or is reported as pointing to a deleted source row.

mod common;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::OnceLock;

use common::simulator::read_store;
use common::{map_everything, options};
use prestalink_commerce::{
    json_schema, Amount, CommerceRecord, DataType, Order, TransactionSourceType,
};
use prestalink_mapping::{Batch, Warning};
use prestalink_simulator::generator::{generate, GenConfig};
use prestalink_webservice::Format;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn validators() -> &'static HashMap<DataType, jsonschema::Validator> {
    static VALIDATORS: OnceLock<HashMap<DataType, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        DataType::ALL
            .into_iter()
            .map(|t| {
                (
                    t,
                    jsonschema::validator_for(&json_schema(t)).expect("valid schema"),
                )
            })
            .collect()
    })
}

fn config() -> impl Strategy<Value = (GenConfig, bool)> {
    (
        any::<u64>(),
        1u32..=2,
        1u32..=2,
        4u32..=30,
        3u32..=12,
        3u32..=8,
        any::<bool>(),
    )
        .prop_map(
            |(seed, languages, shops, orders, customers, products, xml)| {
                let cfg = GenConfig {
                    seed,
                    languages,
                    shops,
                    orders,
                    customers,
                    products,
                    timezone: "Europe/Paris".to_string(),
                };
                (cfg, xml)
            },
        )
}

fn mapped(cfg: &GenConfig, xml: bool) -> Vec<(DataType, Batch)> {
    let store = generate(cfg);
    let format = if xml { Format::Xml } else { Format::Json };
    let shop = (cfg.shops > 1).then_some("all");
    map_everything(&read_store(&store, format, shop), &options())
}

fn supplemental_amount(order: &Order, key: &str) -> Decimal {
    let text = order.supplemental_data.content[key]
        .as_str()
        .expect("amount kept as text");
    Decimal::from_str(text).unwrap()
}

/// Lines + shipping + wrapping − discounts (tax included) = total, within one cent per line
/// and charge (PrestaShop rounds per item, per line or on the total, as round_type says).
fn check_totals(order: &Order) -> Result<(), TestCaseError> {
    let lines: Amount = order.order_line_items.iter().map(|l| l.total_amount).sum();
    let charges: Amount = order.service_charges.iter().map(|c| c.total_amount).sum();
    let discounts = supplemental_amount(order, "totalDiscountsTaxIncl");
    let computed = lines.0 + charges.0 - discounts;
    let tolerance = Decimal::new(1, 2) * Decimal::from(order.order_line_items.len() + 2);
    prop_assert!(
        (computed - order.total_amount.0).abs() <= tolerance,
        "order {}: lines {} + charges {} - discounts {} = {} but total is {}",
        order.id,
        lines,
        charges,
        discounts,
        computed,
        order.total_amount
    );
    Ok(())
}

/// Ids of the mapped records by data type key, plus product variant ids under `variants`.
fn ids(batches: &[(DataType, Batch)]) -> HashMap<&'static str, HashSet<String>> {
    let mut ids: HashMap<&'static str, HashSet<String>> = HashMap::new();
    for (t, b) in batches {
        ids.entry(t.key())
            .or_default()
            .extend(b.records.iter().map(|r| r.id().to_string()));
        for r in &b.records {
            if let CommerceRecord::Product(p) = r {
                let variants = ids.entry(VARIANTS).or_default();
                variants.extend(p.variants.iter().map(|v| v.id.clone()));
            }
        }
    }
    ids
}

/// Key of the product variant ids in [`ids`].
const VARIANTS: &str = "variants";

struct RefCheck<'a> {
    ids: &'a HashMap<&'static str, HashSet<String>>,
    deleted: HashSet<(String, &'static str, String)>,
}

impl RefCheck<'_> {
    fn new<'a>(
        ids: &'a HashMap<&'static str, HashSet<String>>,
        batches: &[(DataType, Batch)],
    ) -> RefCheck<'a> {
        let mut deleted = HashSet::new();
        for (_, b) in batches {
            for (record, w) in &b.warnings {
                if let Warning::DeletedSource { field, id, .. } = w {
                    deleted.insert((record.clone(), *field, id.clone()));
                }
            }
        }
        RefCheck { ids, deleted }
    }

    fn check(
        &self,
        record: &str,
        field: &'static str,
        target: &str,
        id: &str,
    ) -> Result<(), TestCaseError> {
        let exists = self.ids.get(target).is_some_and(|s| s.contains(id));
        let reported = self
            .deleted
            .contains(&(record.to_string(), field, id.to_string()));
        prop_assert!(
            exists || reported,
            "{record}.{field} → {id}: neither a {target} record nor reported deleted"
        );
        Ok(())
    }
}

fn check_references(batches: &[(DataType, Batch)]) -> Result<(), TestCaseError> {
    let ids = ids(batches);
    let refs = RefCheck::new(&ids, batches);
    for (_, b) in batches {
        for r in &b.records {
            match r {
                CommerceRecord::Order(o) => {
                    if let Some(c) = &o.customer_ref {
                        refs.check(&o.id, "customerRef", DataType::Customers.key(), &c.id)?;
                    }
                    if let Some(l) = &o.location_ref {
                        refs.check(&o.id, "locationRef", DataType::Locations.key(), &l.id)?;
                    }
                    for line in &o.order_line_items {
                        if let Some(p) = &line.product_ref {
                            refs.check(&o.id, "productRef", DataType::Products.key(), &p.id)?;
                        }
                        if let Some(v) = &line.product_variant_ref {
                            refs.check(&o.id, "productVariantRef", VARIANTS, &v.id)?;
                        }
                        for t in &line.taxes {
                            refs.check(
                                &o.id,
                                "taxComponentRef",
                                DataType::TaxComponents.key(),
                                &t.tax_component_ref.id,
                            )?;
                        }
                    }
                    for c in &o.service_charges {
                        for t in &c.taxes {
                            refs.check(
                                &o.id,
                                "taxComponentRef",
                                DataType::TaxComponents.key(),
                                &t.tax_component_ref.id,
                            )?;
                        }
                    }
                }
                CommerceRecord::Payment(p) => {
                    if let Some(m) = &p.payment_method_ref {
                        refs.check(
                            &p.id,
                            "paymentMethodRef",
                            DataType::PaymentMethods.key(),
                            &m.id,
                        )?;
                    }
                    if let Some(l) = &p.location_ref {
                        refs.check(&p.id, "locationRef", DataType::Locations.key(), &l.id)?;
                    }
                }
                CommerceRecord::Transaction(t) => {
                    let source = t
                        .transaction_source_ref
                        .as_ref()
                        .expect("every transaction has a source");
                    let target = match source.source_type {
                        TransactionSourceType::Payment => DataType::Payments.key(),
                        TransactionSourceType::Order => DataType::Orders.key(),
                        other => {
                            return Err(TestCaseError::fail(format!("unexpected source {other:?}")))
                        }
                    };
                    refs.check(&t.id, "transactionSourceRef", target, &source.id)?;
                }
                CommerceRecord::Customer(c) => {
                    if let Some(l) = &c.location_ref {
                        refs.check(&c.id, "locationRef", DataType::Locations.key(), &l.id)?;
                    }
                }
                CommerceRecord::Product(p) => {
                    for v in &p.variants {
                        for l in v.inventory.iter().flat_map(|i| &i.locations) {
                            refs.check(
                                &p.id,
                                "locationRef",
                                DataType::Locations.key(),
                                &l.location_ref.id,
                            )?;
                        }
                    }
                }
                CommerceRecord::ProductCategory(c) => {
                    for a in &c.ancestor_refs {
                        refs.check(
                            &c.id,
                            "ancestorRefs",
                            DataType::ProductCategories.key(),
                            &a.id,
                        )?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn generated_stores_map_correctly((cfg, xml) in config()) {
        let batches = mapped(&cfg, xml);
        for (t, b) in &batches {
            prop_assert!(b.failures.is_empty(), "{t}: {:?}", b.failures);
            let validator = &validators()[t];
            for r in &b.records {
                let json = r.to_json_string();
                let back = CommerceRecord::from_json(*t, &json).expect("reads back");
                prop_assert!(&back == r, "{t} {} does not read back identically", r.id());
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
                prop_assert!(errors.is_empty(), "{t} {} does not validate: {errors:?}", r.id());
                if let CommerceRecord::Order(o) = r {
                    check_totals(o)?;
                }
            }
        }
        check_references(&batches)?;
    }
}
