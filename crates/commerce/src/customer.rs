//! `commerce-customers`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Address, SupplementalData, Timestamp, UtcTimestamp};

/// A person or business that bought, or may buy, from the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Identifier (PrestaShop customer id).
    pub id: String,
    /// "firstname lastname".
    pub customer_name: Option<String>,
    /// E-mail address.
    pub email_address: Option<String>,
    /// First address phone (mobile first).
    pub phone: Option<String>,
    /// Postal addresses.
    pub addresses: Vec<Address>,
    /// Free-text note kept by the merchant.
    pub note: Option<String>,
    /// ISO 4217 code of the currency the customer buys in by default (the shop's).
    pub default_currency: Option<String>,
    /// The shop the customer registered in (PrestaShop `id_shop`).
    pub location_ref: Option<crate::common::LocationRef>,
    /// When the customer was created.
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the record last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (company, groups, newsletter, guest flag…).
    pub supplemental_data: SupplementalData,
}
