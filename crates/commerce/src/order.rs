//! `commerce-orders`: orders with their line items, payments, service charges, discounts
//! and taxes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::common::{LocationRef, RecordRef, SupplementalData, Timestamp, UtcTimestamp};
use crate::payment::PaymentStatus;

/// An order placed in the store. Amounts are in the order's own `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Identifier (PrestaShop order id).
    pub id: String,
    /// The order reference customers see (several split orders may share it).
    pub order_number: Option<String>,
    /// ISO 3166 alpha-3 code of the delivery country.
    pub country: Option<String>,
    /// ISO 4217 currency code of every amount in the order.
    pub currency: Option<String>,
    /// When the order was placed.
    pub created_date: Option<Timestamp>,
    /// When the order was closed (delivered, or cancelled), when known.
    pub closed_date: Option<Timestamp>,
    /// Total paid, tax, shipping and wrapping included, discounts deducted.
    pub total_amount: Amount,
    /// Total refunded by credit slips, as a negative amount.
    pub total_refund: Amount,
    /// Total tax.
    pub total_tax_amount: Amount,
    /// Total discount, tax excluded.
    pub total_discount: Amount,
    /// Total tips (PrestaShop has none: 0).
    pub total_gratuity: Amount,
    /// The products sold.
    pub order_line_items: Vec<OrderLineItem>,
    /// Payments made against the order.
    pub payments: Vec<OrderPayment>,
    /// Shipping, gift wrapping and other charges.
    pub service_charges: Vec<ServiceCharge>,
    /// The shop the order was placed in.
    pub location_ref: Option<LocationRef>,
    /// The customer who placed the order.
    pub customer_ref: Option<RecordRef>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the order last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (conversion rate, state, round mode, module…).
    pub supplemental_data: SupplementalData,
}

/// One product line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineItem {
    /// Identifier (PrestaShop order detail id).
    pub id: String,
    /// Quantity ordered.
    pub quantity: Amount,
    /// Tax rate of the line, in percent.
    pub tax_percentage: Option<Amount>,
    /// Line total, tax included.
    pub total_amount: Amount,
    /// Tax of the line.
    pub total_tax_amount: Amount,
    /// Unit price, tax excluded.
    pub unit_price: Amount,
    /// Taxes applied to the line.
    pub taxes: Vec<TaxComponentAllocation>,
    /// The product sold (kept even when the product was deleted since).
    pub product_ref: Option<RecordRef>,
    /// The combination sold, when the product has combinations.
    pub product_variant_ref: Option<RecordRef>,
    /// Discounts that reduced this line.
    pub discount_allocations: Vec<DiscountAllocation>,
    /// The shop the line was sold in.
    pub location_ref: Option<LocationRef>,
    /// Everything else (product reference, ean13, refunded quantities…).
    pub supplemental_data: SupplementalData,
}

/// A tax applied to a line or a charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxComponentAllocation {
    /// The tax.
    pub tax_component_ref: RecordRef,
    /// Tax rate, in percent.
    pub rate: Option<Amount>,
}

/// A discount applied to a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscountAllocation {
    /// Name of the discount (cart rule or price reduction).
    pub name: Option<String>,
    /// Amount of the discount, tax excluded (as the order's totalDiscount).
    pub total_amount: Amount,
}

/// Kind of a service charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceChargeType {
    /// Any other charge (PrestaShop gift wrapping).
    Generic,
    /// Delivery.
    Shipping,
    /// Money paid beyond what was owed.
    Overpayment,
    /// Not known.
    Unknown,
}

/// A charge that is not a product: shipping, gift wrapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCharge {
    /// What the charge is for (the carrier's name for shipping).
    pub description: Option<String>,
    /// Total of the charge, tax included.
    pub total_amount: Amount,
    /// Tax of the charge.
    pub tax_amount: Amount,
    /// Tax rate of the charge, in percent.
    pub tax_percentage: Option<Amount>,
    /// Taxes applied to the charge.
    pub taxes: Vec<TaxComponentAllocation>,
    /// Number of times charged.
    pub quantity: Amount,
    /// Kind of charge.
    #[serde(rename = "type")]
    pub charge_type: ServiceChargeType,
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PaymentType {
    /// Cash (on delivery, in store).
    Cash,
    /// Card present.
    Card,
    /// Paid against an invoice.
    Invoice,
    /// Card online.
    OnlineCard,
    /// Swish.
    Swish,
    /// Vipps.
    Vipps,
    /// Mobile payment.
    Mobile,
    /// Store credit or voucher.
    StoreCredit,
    /// PayPal.
    Paypal,
    /// Any other method (check, bank wire…).
    Custom,
    /// Prepaid card.
    Prepaid,
    /// Not known.
    Unknown,
}

/// A payment as summarised inside an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPayment {
    /// Identifier (PrestaShop order payment id).
    pub id: String,
    /// Amount paid.
    pub amount: Amount,
    /// ISO 4217 currency code of the amount.
    pub currency: Option<String>,
    /// How it was paid.
    #[serde(rename = "type")]
    pub payment_type: PaymentType,
    /// Status, from the order's current state.
    pub status: PaymentStatus,
    /// The payment module.
    pub payment_provider: Option<String>,
    /// When the payment is due.
    pub due_date: Option<Timestamp>,
    /// When the payment was recorded.
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the payment last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
}
