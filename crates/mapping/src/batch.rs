//! Mapping every record of a data type at once: what a full sync, the simulator tests and
//! the benchmark use. A record that cannot be mapped is reported and never stops the others.

use prestalink_commerce::{CommerceRecord, DataType};
use prestalink_webservice::record::Record;

use crate::error::{Failure, Mapped, MappingError, Warning};
use crate::links::OrderLinks;
use crate::map;
use crate::options::MapOptions;
use crate::records::RecordSet;
use crate::reference::ReferenceData;

/// The outcome of mapping one data type.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Mapped records, in source order.
    pub records: Vec<CommerceRecord>,
    /// Caveats, with the id of the commerce record they belong to.
    pub warnings: Vec<(String, Warning)>,
    /// Records that could not be mapped.
    pub failures: Vec<Failure>,
}

impl Batch {
    fn push<T>(
        &mut self,
        resource: &'static str,
        source: Option<&Record>,
        result: Result<Mapped<T>, MappingError>,
        wrap: impl FnOnce(T) -> CommerceRecord,
    ) {
        match result {
            Ok(mapped) => {
                let record = wrap(mapped.record);
                let id = record.id().to_string();
                self.warnings
                    .extend(mapped.warnings.into_iter().map(|w| (id.clone(), w)));
                self.records.push(record);
            }
            Err(e) => {
                let raw_id = source.and_then(|r| r.text("id")).map(str::to_string);
                self.failures.push(Failure::new(resource, raw_id, &e));
            }
        }
    }
}

/// Maps every record of a data type found in `records`. Errors only for a data type
/// PrestaShop does not have (disputes: [`MappingError::NotSupported`]).
pub fn map_data_type(
    data_type: DataType,
    records: &RecordSet,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Batch, MappingError> {
    let mut batch = Batch::default();
    match data_type {
        DataType::CompanyInfo => {
            batch.push(
                "configurations",
                None,
                map::company::map_company(refs, opts),
                CommerceRecord::CompanyInfo,
            );
        }
        DataType::Customers => {
            for r in records.records("customers") {
                batch.push(
                    "customers",
                    Some(r),
                    map::customer::map_customer(r, refs, opts),
                    CommerceRecord::Customer,
                );
            }
        }
        DataType::Orders => {
            let links = OrderLinks::build(records);
            for r in records.records("orders") {
                let children = links.children(r);
                let result = map::order::map_order(r, &children, refs, opts);
                batch.push("orders", Some(r), result, |o| {
                    CommerceRecord::Order(Box::new(o))
                });
            }
        }
        DataType::Payments => {
            let links = OrderLinks::build(records);
            for r in records.records("order_payments") {
                let orders = r
                    .text("order_reference")
                    .map(|reference| links.orders_with_reference(reference.trim()))
                    .unwrap_or_default();
                let result = map::payment::map_payment(r, &orders, refs, opts);
                batch.push("order_payments", Some(r), result, CommerceRecord::Payment);
            }
        }
        DataType::PaymentMethods => {
            match map::payment_method::map_payment_methods(records, refs, opts) {
                Ok(methods) => batch
                    .records
                    .extend(methods.into_iter().map(CommerceRecord::PaymentMethod)),
                Err(e) => batch.failures.push(Failure::new("orders", None, &e)),
            }
        }
        DataType::Products => {
            for r in records.records("products") {
                batch.push(
                    "products",
                    Some(r),
                    map::product::map_product(r, refs, opts),
                    CommerceRecord::Product,
                );
            }
        }
        DataType::ProductCategories => {
            for r in records.records("categories") {
                let result = map::category::map_category(r, refs, opts);
                batch.push(
                    "categories",
                    Some(r),
                    result,
                    CommerceRecord::ProductCategory,
                );
            }
        }
        DataType::TaxComponents => {
            for r in records.records("taxes") {
                batch.push(
                    "taxes",
                    Some(r),
                    map::tax::map_tax(r, refs, opts),
                    CommerceRecord::TaxComponent,
                );
            }
        }
        DataType::Transactions => {
            let links = OrderLinks::build(records);
            for r in records.records("order_payments") {
                let result = map::transaction::map_payment_transaction(r, refs, opts);
                batch.push(
                    "order_payments",
                    Some(r),
                    result,
                    CommerceRecord::Transaction,
                );
            }
            for r in records.records("order_slip") {
                let order = r
                    .text("id_order")
                    .and_then(|o| o.trim().parse().ok())
                    .and_then(|o| links.order(o));
                let result = map::transaction::map_refund_transaction(r, order, refs, opts);
                batch.push("order_slip", Some(r), result, CommerceRecord::Transaction);
            }
        }
        DataType::Locations => {
            for r in records.records("shops") {
                batch.push(
                    "shops",
                    Some(r),
                    map::location::map_shop(r, refs, opts),
                    CommerceRecord::Location,
                );
            }
            for r in records.records("stores") {
                batch.push(
                    "stores",
                    Some(r),
                    map::location::map_store(r, refs, opts),
                    CommerceRecord::Location,
                );
            }
        }
        DataType::Disputes => {
            map::dispute::map_disputes()?;
        }
    }
    Ok(batch)
}
