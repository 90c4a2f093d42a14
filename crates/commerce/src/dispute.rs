//! `commerce-disputes`. PrestaShop keeps no chargeback data, so the PrestaShop mapping
//! reports this data type as not supported; the type exists so the model is complete and
//! its schema can be served.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::common::{SupplementalData, Timestamp, UtcTimestamp};
use crate::payment::TransactionSourceRef;

/// Status of a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DisputeStatus {
    /// Opened by the customer.
    Open,
    /// Awaiting the merchant's answer.
    NeedsResponse,
    /// Being reviewed.
    UnderReview,
    /// Decided for the merchant.
    Won,
    /// Decided for the customer.
    Lost,
    /// Closed.
    Closed,
    /// Not known.
    Unknown,
}

/// A customer's dispute of a charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dispute {
    /// Identifier.
    pub id: String,
    /// Disputed amount.
    pub total_amount: Amount,
    /// ISO 4217 currency code of the amount.
    pub currency: Option<String>,
    /// Why the customer disputes.
    pub reason: Option<String>,
    /// Status.
    pub status: DisputeStatus,
    /// When the merchant must answer by.
    pub due_date: Option<Timestamp>,
    /// Transactions disputed.
    pub disputed_transactions: Vec<TransactionSourceRef>,
    /// When the dispute was opened.
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the dispute last changed at the source.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else.
    pub supplemental_data: SupplementalData,
}
