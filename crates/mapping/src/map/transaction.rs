//! `commerce-transactions`: one `Payment` per order payment and one `Refund` per credit slip
//! (order_slip), ids prefixed by kind (`payment-12`, `refund-3`).

use prestalink_commerce::{
    SupplementalData, Transaction, TransactionSourceRef, TransactionSourceType, TransactionType,
};
use prestalink_webservice::record::Record;

use super::checked_ref;
use crate::error::{Mapped, MappingError, Warning};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// The transaction of an order payment; its source is the payment.
pub fn map_payment_transaction(
    payment: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Transaction>, MappingError> {
    let f = Fields::new(payment, "order_payments");
    let id = f.id()?;
    let date = refs.clock.field(&f, "date_add")?;
    let mut data = SupplementalData::default();
    if let Some(r) = f.text("order_reference") {
        data.insert("orderReference", r);
    }
    Ok(Mapped {
        record: Transaction {
            id: format!("payment-{id}"),
            total_amount: f.amount("amount")?,
            currency: refs.currency_code(f.id_ref("id_currency")),
            transaction_type: TransactionType::Payment,
            sub_type: f.string("payment_method"),
            transaction_source_ref: Some(TransactionSourceRef {
                id: id.to_string(),
                source_type: TransactionSourceType::Payment,
            }),
            created_date: date.map(|d| d.to_utc()),
            source_created_date: date,
            modified_date: Some(opts.now),
            source_modified_date: date,
            supplemental_data: data,
        },
        warnings: Vec::new(),
    })
}

/// The refund of a credit slip: its amount (products and shipping, tax included) as a
/// negative total in the order's currency; its source is the order. `order` is `None` when
/// the order was not read or deleted: the currency is then unknown.
pub fn map_refund_transaction(
    slip: &Record,
    order: Option<&Record>,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Transaction>, MappingError> {
    let f = Fields::new(slip, "order_slip");
    let id = f.id()?;
    let mut warnings = Vec::new();
    let total = f.amount("total_products_tax_incl")? + f.amount("total_shipping_tax_incl")?;
    let created = refs.clock.field(&f, "date_add")?;
    let currency =
        order.and_then(|o| refs.currency_code(Fields::new(o, "orders").id_ref("id_currency")));
    let source = f.id_ref("id_order").map(|o| {
        let r = checked_ref(
            refs,
            &mut warnings,
            "transactionSourceRef",
            "orders",
            o,
            None,
        );
        TransactionSourceRef {
            id: r.id,
            source_type: TransactionSourceType::Order,
        }
    });
    if order.is_none() && source.is_some() && !refs.known_ids.contains_key("orders") {
        warnings.push(Warning::Unresolved {
            field: "currency",
            detail: "the credit slip's order was not read".to_string(),
        });
    }
    let partial = f.flag("partial");
    let mut data = SupplementalData::default();
    data.insert("orderSlipType", f.text("order_slip_type").unwrap_or("0"));
    data.insert("partial", partial);
    data.insert(
        "totalProductsTaxExcl",
        f.amount("total_products_tax_excl")?.to_string(),
    );
    data.insert(
        "totalShippingTaxExcl",
        f.amount("total_shipping_tax_excl")?.to_string(),
    );
    data.insert("conversionRate", f.amount("conversion_rate")?.to_string());
    Ok(Mapped {
        record: Transaction {
            id: format!("refund-{id}"),
            total_amount: -total,
            currency,
            transaction_type: TransactionType::Refund,
            sub_type: Some(
                if partial {
                    "partial_credit_slip"
                } else {
                    "credit_slip"
                }
                .to_string(),
            ),
            transaction_source_ref: source,
            created_date: created.map(|d| d.to_utc()),
            source_created_date: created,
            modified_date: Some(opts.now),
            source_modified_date: refs.clock.field(&f, "date_upd")?.or(created),
            supplemental_data: data,
        },
        warnings,
    })
}
