//! `commerce-payments`, `commerce-paymentMethods` and `commerce-transactions`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::common::{RecordRef, SupplementalData, Timestamp, UtcTimestamp};

/// Status of a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum PaymentStatus {
    /// Awaiting payment.
    Pending,
    /// Authorized, not yet captured.
    Authorized,
    /// Paid.
    Paid,
    /// The payment failed.
    Failed,
    /// The order was cancelled.
    Cancelled,
    /// Not known.
    Unknown,
}

/// A payment received for one or more orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// Identifier (PrestaShop order payment id).
    pub id: String,
    /// Amount paid.
    pub amount: Amount,
    /// ISO 4217 currency code of the amount.
    pub currency: Option<String>,
    /// The payment method used.
    pub payment_method_ref: Option<RecordRef>,
    /// Status, from the current state of the order(s) paid.
    pub status: PaymentStatus,
    /// When the payment is due.
    pub due_date: Option<Timestamp>,
    /// The payment module.
    pub payment_provider: Option<String>,
    /// The shop of the order(s) paid.
    pub location_ref: Option<crate::common::LocationRef>,
    /// When the payment was recorded.
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the payment last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (transaction id, card brand, order reference…).
    pub supplemental_data: SupplementalData,
}

/// Status of a payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PaymentMethodStatus {
    /// Not known.
    Unknown,
    /// In use.
    Active,
    /// No longer used.
    Archived,
}

/// A way customers pay (a payment module, or a method named by payments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    /// Identifier (the module name where known, else the method name as given).
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Whether it is in use.
    pub status: PaymentMethodStatus,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the method was last seen used in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (payment type, names seen…).
    pub supplemental_data: SupplementalData,
}

/// Kind of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TransactionType {
    /// Money received.
    Payment,
    /// Money given back.
    Refund,
    /// Money paid out to the merchant.
    Payout,
    /// A payout that failed.
    FailedPayout,
    /// Money moved between accounts.
    Transfer,
    /// A fee for a payment.
    PaymentFee,
    /// A fee given back.
    PaymentFeeRefund,
    /// Not known.
    Unknown,
}

/// Kind of record a transaction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TransactionSourceType {
    /// A fee.
    Fee,
    /// An order.
    Order,
    /// A payment.
    Payment,
    /// A service charge.
    ServiceCharge,
    /// Not known.
    Unknown,
}

/// The record a transaction comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionSourceRef {
    /// Id of the source record.
    pub id: String,
    /// Kind of the source record.
    #[serde(rename = "type")]
    pub source_type: TransactionSourceType,
}

/// A movement of money: a payment received or a refund (credit slip) given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// Identifier, prefixed by kind (`payment-12`, `refund-3`).
    pub id: String,
    /// Amount; negative for refunds.
    pub total_amount: Amount,
    /// ISO 4217 currency code of the amount.
    pub currency: Option<String>,
    /// Kind of transaction.
    #[serde(rename = "type")]
    pub transaction_type: TransactionType,
    /// PrestaShop's own kind (payment method, or credit slip type).
    pub sub_type: Option<String>,
    /// Where it comes from.
    pub transaction_source_ref: Option<TransactionSourceRef>,
    /// When prestalink first wrote the transaction.
    pub created_date: Option<UtcTimestamp>,
    /// When the transaction happened in PrestaShop.
    pub source_created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the transaction last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else.
    pub supplemental_data: SupplementalData,
}
