//! `commerce-payments` from `order_payments`, with the status of the order(s) they pay.
//! Payments link to orders by `order_reference`; one reference can span split orders.

use prestalink_commerce::{Payment, PaymentStatus, RecordRef, SupplementalData};
use prestalink_webservice::record::Record;

use super::location_ref;
use super::order::payment_status;
use crate::error::{Mapped, MappingError, Warning};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// The payment method of a payment: the module where known (from the rules table, or the
/// order's module), else the method name as given. Returns the reference and the module.
pub(crate) fn method_ref(
    opts: &MapOptions,
    method_name: Option<&str>,
    order_module: Option<&str>,
) -> Option<RecordRef> {
    if let Some(m) = method_name.and_then(|n| opts.rules.payment_module(n)) {
        return Some(RecordRef {
            id: m.module.clone(),
            name: Some(m.name.clone()),
        });
    }
    if let Some(module) = order_module {
        let name = opts
            .rules
            .payment_module(module)
            .map(|m| m.name.clone())
            .or_else(|| method_name.map(str::to_string));
        return Some(RecordRef {
            id: module.to_string(),
            name,
        });
    }
    method_name.map(|n| RecordRef {
        id: n.to_string(),
        name: Some(n.to_string()),
    })
}

/// Maps one order payment; `orders` are the orders with its `order_reference` (empty when
/// they were deleted or not read: the status is then `Unknown`).
pub fn map_payment(
    payment: &Record,
    orders: &[&Record],
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Payment>, MappingError> {
    let f = Fields::new(payment, "order_payments");
    let id = f.id()?;
    let mut warnings = Vec::new();
    let first = orders.first().map(|o| Fields::new(o, "orders"));
    let status = match &first {
        Some(o) => payment_status(
            refs,
            opts,
            o.id_ref("current_state").unwrap_or(0),
            &mut warnings,
        ),
        None => {
            if let Some(reference) = f.text("order_reference") {
                warnings.push(Warning::DeletedSource {
                    field: "orderReference",
                    resource: "orders",
                    id: reference.to_string(),
                });
            }
            PaymentStatus::Unknown
        }
    };
    let module = first.as_ref().and_then(|o| o.text("module"));
    let created = refs.clock.field(&f, "date_add")?;

    let mut data = SupplementalData::default();
    for (key, field) in [
        ("orderReference", "order_reference"),
        ("transactionId", "transaction_id"),
        ("cardBrand", "card_brand"),
        ("cardExpiration", "card_expiration"),
    ] {
        if let Some(v) = f.text(field) {
            data.insert(key, v);
        }
    }
    data.insert("conversionRate", f.amount("conversion_rate")?.to_string());
    let order_ids: Vec<String> = orders
        .iter()
        .filter_map(|o| o.id())
        .map(|i| i.to_string())
        .collect();
    if !order_ids.is_empty() {
        data.insert("orderIds", order_ids);
    }

    Ok(Mapped {
        record: Payment {
            id: id.to_string(),
            amount: f.amount("amount")?,
            currency: refs.currency_code(f.id_ref("id_currency")),
            payment_method_ref: method_ref(opts, f.text("payment_method"), module),
            status,
            due_date: None,
            payment_provider: module.map(str::to_string),
            location_ref: location_ref(first.as_ref().and_then(|o| o.id_ref("id_shop"))),
            created_date: created,
            modified_date: Some(opts.now),
            source_modified_date: created,
            supplemental_data: data,
        },
        warnings,
    })
}
