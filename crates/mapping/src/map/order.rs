//! `commerce-orders` from `orders` (with `order_rows`) and the order's own rows
//! (order_details, order_payments, order_slip, order_carriers, order_cart_rules,
//! order_histories).
//!
//! Money is taken as PrestaShop computed and rounded it (its 6-decimal strings), never
//! recomputed, except a line total when its order_detail was not read: then unit price ×
//! quantity, rounded to the currency's precision.

use prestalink_commerce::{
    Amount, DiscountAllocation, Order, OrderLineItem, OrderPayment, PaymentStatus, PaymentType,
    ServiceCharge, ServiceChargeType, SupplementalData, Timestamp,
};
use prestalink_webservice::record::Record;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::json;

use super::{checked_ref, extra_fields, location_ref, tax_allocations};
use crate::error::{Mapped, MappingError, Warning};
use crate::fields::Fields;
use crate::links::OrderChildren;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// Where the order ships to: country and state ids of its delivery address.
#[derive(Clone, Copy, Default)]
struct Destination {
    country: u64,
    state: u64,
}

/// Maps one order. Fails only when the order has no id or a money field is not a number.
pub fn map_order(
    order: &Record,
    children: &OrderChildren<'_>,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Order>, MappingError> {
    let f = Fields::new(order, "orders");
    let id = f.id()?;
    let clock = &refs.clock;
    let mut warnings = Vec::new();

    let currency_id = f.id_ref("id_currency");
    let currency = refs.currency_code(currency_id);
    if currency.is_none() {
        warnings.push(Warning::Unresolved {
            field: "currency",
            detail: format!("currency id {currency_id:?} is not a known ISO 4217 currency"),
        });
    }
    let precision = currency_id
        .and_then(|c| refs.currencies.get(&c))
        .map_or(2, |c| c.precision);
    let shop = f.id_ref("id_shop");
    let destination = destination(refs, &f, &mut warnings);

    let total_amount = f.amount("total_paid_tax_incl")?;
    let total_tax_amount = total_amount - f.amount("total_paid_tax_excl")?;
    let mut total_refund = Amount::ZERO;
    for slip in children.slips {
        let s = Fields::new(slip, "order_slip");
        total_refund = total_refund
            - s.amount("total_products_tax_incl")?
            - s.amount("total_shipping_tax_incl")?;
    }

    let no_detail = Record::default();
    let details: Vec<(Option<u64>, &Record)> =
        children.details.iter().map(|d| (d.id(), *d)).collect();
    let mut order_line_items = Vec::new();
    for row in order.association("order_rows") {
        let row_id = row.id();
        let detail = details
            .iter()
            .find(|(id, _)| row_id.is_some() && *id == row_id);
        let (detail, has_detail) = match detail {
            Some((_, d)) => (*d, true),
            None => (&no_detail, false),
        };
        let place = LinePlace {
            shop,
            destination,
            precision,
        };
        order_line_items.push(line_item(
            row,
            detail,
            has_detail,
            refs,
            place,
            &mut warnings,
        )?);
    }

    let state = f.id_ref("current_state").unwrap_or(0);
    let status = payment_status(refs, opts, state, &mut warnings);
    let module = f.string("module");
    let payment_type = payment_type(opts, module.as_deref(), f.text("payment"));
    let mut payments = Vec::new();
    for p in children.payments {
        payments.push(order_payment(
            p,
            refs,
            opts,
            status,
            payment_type,
            module.as_deref(),
        )?);
    }

    let service_charges = service_charges(&f, refs, destination)?;

    let customer_ref = f.id_ref("id_customer").map(|c| {
        let name = refs.customer_names.get(&c).cloned();
        checked_ref(refs, &mut warnings, "customerRef", "customers", c, name)
    });
    if customer_ref.is_none() {
        warnings.push(Warning::Unresolved {
            field: "customerRef",
            detail: "order has no customer (id_customer 0)".to_string(),
        });
    }

    let created_date = clock.field(&f, "date_add")?;
    let source_modified_date = clock.field(&f, "date_upd")?.or(created_date);
    let closed_date = closed_date(refs, opts, &f, state, children)?;

    let mut data = SupplementalData::with_capacity(24);
    supplemental(&f, refs, state, children, &mut data)?;
    extra_fields(opts, refs, "orders", order, &mut data);

    Ok(Mapped {
        record: Order {
            id: id.to_string(),
            order_number: f.string("reference"),
            country: refs.country_alpha3(Some(destination.country).filter(|&c| c != 0)),
            currency,
            created_date,
            closed_date,
            total_amount,
            total_refund,
            total_tax_amount,
            total_discount: f.amount("total_discounts_tax_excl")?,
            total_gratuity: Amount::ZERO,
            order_line_items,
            payments,
            service_charges,
            location_ref: location_ref(shop),
            customer_ref,
            modified_date: Some(opts.now),
            source_modified_date,
            supplemental_data: data,
        },
        warnings,
    })
}

fn destination(refs: &ReferenceData, f: &Fields<'_>, warnings: &mut Vec<Warning>) -> Destination {
    let Some(address_id) = f.id_ref("id_address_delivery") else {
        return Destination::default();
    };
    match refs.addresses.get(&address_id) {
        Some(address) => {
            let a = Fields::new(address, "addresses");
            Destination {
                country: a.id_ref("id_country").unwrap_or(0),
                state: a.id_ref("id_state").unwrap_or(0),
            }
        }
        None => {
            if !refs.addresses.is_empty() {
                warnings.push(Warning::DeletedSource {
                    field: "country",
                    resource: "addresses",
                    id: address_id.to_string(),
                });
            }
            Destination::default()
        }
    }
}

fn round(value: Decimal, precision: u32) -> Decimal {
    value.round_dp_with_strategy(precision, RoundingStrategy::MidpointAwayFromZero)
}

/// What a line takes from its order: shop, destination and the currency's precision.
#[derive(Clone, Copy)]
struct LinePlace {
    shop: Option<u64>,
    destination: Destination,
    precision: u32,
}

fn line_item(
    row: &Record,
    detail: &Record,
    has_detail: bool,
    refs: &ReferenceData,
    place: LinePlace,
    warnings: &mut Vec<Warning>,
) -> Result<OrderLineItem, MappingError> {
    let LinePlace {
        shop,
        destination,
        precision,
    } = place;
    let r = Fields::new(row, "order_rows");
    let d = Fields::new(detail, "order_details");
    let id = r.id()?;
    let quantity = r.amount("product_quantity")?;
    let (total_amount, total_excl, unit_price) = if has_detail {
        (
            d.amount("total_price_tax_incl")?,
            d.amount("total_price_tax_excl")?,
            d.amount("unit_price_tax_excl")?,
        )
    } else {
        let unit_incl = r.amount("unit_price_tax_incl")?;
        let unit_excl = r.amount("unit_price_tax_excl")?;
        (
            Amount(round(unit_incl.0 * quantity.0, precision)),
            Amount(round(unit_excl.0 * quantity.0, precision)),
            unit_excl,
        )
    };

    let mut taxes = Vec::new();
    for t in detail.association("taxes") {
        let Some(tax_id) = Fields::new(t, "taxes").id_ref("id_tax").or_else(|| t.id()) else {
            continue;
        };
        let tax = refs.taxes.get(&tax_id);
        taxes.push(prestalink_commerce::TaxComponentAllocation {
            tax_component_ref: checked_ref(
                refs,
                warnings,
                "taxComponentRef",
                "taxes",
                tax_id,
                tax.map(|t| t.name.clone()),
            ),
            rate: tax.map(|t| t.rate),
        });
    }
    if taxes.is_empty() {
        if let Some(group) = d.id_ref("id_tax_rules_group") {
            let rules = refs.applicable_taxes(group, destination.country, destination.state);
            taxes = tax_allocations(refs, &rules);
        }
    }
    let tax_percentage = if taxes.iter().any(|t| t.rate.is_some()) {
        Some(taxes.iter().filter_map(|t| t.rate).sum())
    } else if !total_excl.0.is_zero() {
        Some(Amount(
            ((total_amount.0 / total_excl.0 - Decimal::ONE) * Decimal::ONE_HUNDRED).round_dp(3),
        ))
    } else {
        None
    };

    let product_name = r.string("product_name");
    let product_ref = r.id_ref("product_id").map(|p| {
        checked_ref(
            refs,
            warnings,
            "productRef",
            "products",
            p,
            product_name.clone(),
        )
    });
    let product_variant_ref = r.id_ref("product_attribute_id").map(|v| {
        checked_ref(
            refs,
            warnings,
            "productVariantRef",
            "combinations",
            v,
            product_name.clone(),
        )
    });

    let mut discount_allocations = Vec::new();
    if has_detail {
        let percent = d.amount("reduction_percent")?;
        let amount = d.amount("reduction_amount_tax_excl")?;
        let before = d.amount("product_price")?;
        let reduction = (before - unit_price).0 * quantity.0;
        if (!percent.0.is_zero() || !amount.0.is_zero()) && reduction > Decimal::ZERO {
            let name = if percent.0.is_zero() {
                "Price reduction".to_string()
            } else {
                format!("Price reduction {percent}%")
            };
            discount_allocations.push(DiscountAllocation {
                name: Some(name),
                total_amount: Amount(round(reduction, precision)),
            });
        }
    }

    let mut data = SupplementalData::with_capacity(8);
    for (key, field) in [
        ("productReference", "product_reference"),
        ("ean13", "product_ean13"),
        ("upc", "product_upc"),
        ("isbn", "product_isbn"),
    ] {
        if let Some(v) = r.text(field) {
            data.insert(key, v);
        }
    }
    if let Some(c) = r.id_ref("id_customization") {
        data.insert("customizationId", c.to_string());
    }
    if has_detail {
        data.insert("totalPriceTaxExcl", json_amount(total_excl));
        for (key, field) in [
            ("quantityRefunded", "product_quantity_refunded"),
            ("quantityReturned", "product_quantity_return"),
        ] {
            if let Some(v) = d.text(field).filter(|v| *v != "0") {
                data.insert(key, v);
            }
        }
    } else {
        data.insert("lineTotalsComputed", true);
    }

    Ok(OrderLineItem {
        id: id.to_string(),
        quantity,
        tax_percentage,
        total_amount,
        total_tax_amount: total_amount - total_excl,
        unit_price,
        taxes,
        product_ref,
        product_variant_ref,
        discount_allocations,
        location_ref: location_ref(shop),
        supplemental_data: data,
    })
}

/// A decimal for supplementalData (JSON has no exact decimal there: kept as a string).
fn json_amount(a: Amount) -> serde_json::Value {
    serde_json::Value::String(a.to_string())
}

/// Payment status of an order state, by the rules; unknown states report `Unknown`.
pub(crate) fn payment_status(
    refs: &ReferenceData,
    opts: &MapOptions,
    state: u64,
    warnings: &mut Vec<Warning>,
) -> PaymentStatus {
    match refs.order_states.get(&state) {
        Some(s) => opts
            .rules
            .payment_status(state, &s.template, s.paid, &s.module_name),
        None => {
            let by_id = opts.rules.payment_status(state, "", false, "");
            if by_id == PaymentStatus::Unknown {
                warnings.push(Warning::Unresolved {
                    field: "status",
                    detail: format!("order state {state} is unknown"),
                });
            }
            by_id
        }
    }
}

/// Payment type from the module (or, failing that, the payment name); unknown modules map
/// to `Unknown`, never fail.
pub(crate) fn payment_type(
    opts: &MapOptions,
    module: Option<&str>,
    payment: Option<&str>,
) -> PaymentType {
    module
        .and_then(|m| opts.rules.payment_module(m))
        .or_else(|| payment.and_then(|p| opts.rules.payment_module(p)))
        .map_or(PaymentType::Unknown, |m| m.payment_type)
}

fn order_payment(
    p: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
    status: PaymentStatus,
    order_type: PaymentType,
    module: Option<&str>,
) -> Result<OrderPayment, MappingError> {
    let f = Fields::new(p, "order_payments");
    let method = f.text("payment_method");
    let payment_type = match method.and_then(|m| opts.rules.payment_module(m)) {
        Some(m) => m.payment_type,
        None => order_type,
    };
    let created = refs.clock.field(&f, "date_add")?;
    Ok(OrderPayment {
        id: f.id()?.to_string(),
        amount: f.amount("amount")?,
        currency: refs.currency_code(f.id_ref("id_currency")),
        payment_type,
        status,
        payment_provider: module.map(str::to_string),
        due_date: None,
        created_date: created,
        modified_date: Some(opts.now),
        source_modified_date: created,
    })
}

fn service_charges(
    f: &Fields<'_>,
    refs: &ReferenceData,
    destination: Destination,
) -> Result<Vec<ServiceCharge>, MappingError> {
    let mut charges = Vec::new();
    let shipping_incl = f.amount("total_shipping_tax_incl")?;
    let carrier = f.id_ref("id_carrier");
    if carrier.is_some() || !shipping_incl.0.is_zero() {
        let info = carrier.and_then(|c| refs.carriers.get(&c));
        let taxes = info
            .filter(|c| c.tax_rules_group != 0)
            .map(|c| {
                let rules = refs.applicable_taxes(
                    c.tax_rules_group,
                    destination.country,
                    destination.state,
                );
                tax_allocations(refs, &rules)
            })
            .unwrap_or_default();
        charges.push(ServiceCharge {
            description: Some(info.map_or_else(|| "Shipping".to_string(), |c| c.name.clone())),
            total_amount: shipping_incl,
            tax_amount: shipping_incl - f.amount("total_shipping_tax_excl")?,
            tax_percentage: f.opt_amount("carrier_tax_rate")?,
            taxes,
            quantity: Amount::from(1),
            charge_type: ServiceChargeType::Shipping,
        });
    }
    let wrapping_incl = f.amount("total_wrapping_tax_incl")?;
    if !wrapping_incl.0.is_zero() {
        charges.push(ServiceCharge {
            description: Some("Gift wrapping".to_string()),
            total_amount: wrapping_incl,
            tax_amount: wrapping_incl - f.amount("total_wrapping_tax_excl")?,
            tax_percentage: None,
            taxes: Vec::new(),
            quantity: Amount::from(1),
            charge_type: ServiceChargeType::Generic,
        });
    }
    Ok(charges)
}

/// Ids of the final states: delivered, cancelled, refunded (from PS_OS_* configuration,
/// else PrestaShop's install ids).
fn final_states(refs: &ReferenceData, opts: &MapOptions) -> [u64; 3] {
    let state = |name: &str, default: u64| {
        refs.config(name, opts.shop)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    [
        state("PS_OS_DELIVERED", 5),
        state("PS_OS_CANCELED", 6),
        state("PS_OS_REFUND", 7),
    ]
}

fn closed_date(
    refs: &ReferenceData,
    opts: &MapOptions,
    f: &Fields<'_>,
    state: u64,
    children: &OrderChildren<'_>,
) -> Result<Option<Timestamp>, MappingError> {
    if state == 0 || !final_states(refs, opts).contains(&state) {
        return Ok(None);
    }
    let entered = children
        .histories
        .iter()
        .rev()
        .find(|h| Fields::new(h, "order_histories").id_ref("id_order_state") == Some(state));
    match entered {
        Some(h) => refs
            .clock
            .field(&Fields::new(h, "order_histories"), "date_add"),
        None => refs.clock.field(f, "date_upd"),
    }
}

fn supplemental(
    f: &Fields<'_>,
    refs: &ReferenceData,
    state: u64,
    children: &OrderChildren<'_>,
    data: &mut SupplementalData,
) -> Result<(), MappingError> {
    data.insert("conversionRate", json_amount(f.amount("conversion_rate")?));
    if state != 0 {
        let name = refs.order_states.get(&state).map(|s| s.name.clone());
        data.insert(
            "currentState",
            json!({"id": state.to_string(), "name": name}),
        );
    }
    for (key, field) in [
        ("paymentModule", "module"),
        ("paymentName", "payment"),
        ("note", "note"),
        ("giftMessage", "gift_message"),
        ("shippingNumber", "shipping_number"),
    ] {
        if let Some(v) = f.text(field) {
            data.insert(key, v);
        }
    }
    // Numbers and flags: 8.x single-record JSON drops them when 0, so absent reads as 0.
    for (key, field) in [("roundMode", "round_mode"), ("roundType", "round_type")] {
        data.insert(key, f.text(field).unwrap_or("0"));
    }
    data.insert("valid", f.flag("valid"));
    if let Some(n) = f.id_ref("invoice_number") {
        data.insert("invoiceNumber", n.to_string());
    }
    for (key, field) in [
        ("invoiceDate", "invoice_date"),
        ("deliveryDate", "delivery_date"),
    ] {
        if let Some(t) = refs.clock.field(f, field)? {
            data.insert(key, t.to_rfc3339());
        }
    }
    for (key, field) in [
        ("totalPaidReal", "total_paid_real"),
        ("totalProductsTaxExcl", "total_products"),
        ("totalProductsTaxIncl", "total_products_wt"),
        ("totalDiscountsTaxIncl", "total_discounts_tax_incl"),
        ("totalShippingTaxExcl", "total_shipping_tax_excl"),
        ("totalWrappingTaxExcl", "total_wrapping_tax_excl"),
    ] {
        data.insert(key, json_amount(f.amount(field)?));
    }
    if !children.cart_rules.is_empty() {
        let mut rules = Vec::new();
        for c in children.cart_rules {
            let r = Fields::new(c, "order_cart_rules");
            rules.push(json!({
                "id": r.raw_id(),
                "cartRuleId": r.id_ref("id_cart_rule").map(|i| i.to_string()),
                "name": r.string("name"),
                "value": json_amount(r.amount("value")?),
                "valueTaxExcl": json_amount(r.amount("value_tax_excl")?),
                "freeShipping": r.flag("free_shipping"),
            }));
        }
        data.insert("cartRules", rules);
    }
    if !children.slips.is_empty() {
        let ids: Vec<String> = children
            .slips
            .iter()
            .map(|s| Fields::new(s, "order_slip").raw_id())
            .collect();
        data.insert("creditSlipIds", ids);
    }
    Ok(())
}
