//! `commerce-info`: the merchant's company as the store describes it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Address, PhoneNumber, SupplementalData, Timestamp, UtcTimestamp, WebLink};

/// The company behind the store (one record per connection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyInfo {
    /// Identifier (the PrestaShop shop id the connection reads).
    pub id: String,
    /// Trading name (PS_SHOP_NAME).
    pub company_name: String,
    /// Legal details as entered by the merchant (PS_SHOP_DETAILS).
    pub company_legal_name: Option<String>,
    /// Company addresses.
    pub addresses: Vec<Address>,
    /// Company phone numbers.
    pub phone_numbers: Vec<PhoneNumber>,
    /// The store's web addresses.
    pub web_links: Vec<WebLink>,
    /// ISO 4217 code of the store's default currency.
    pub base_currency: Option<String>,
    /// Contact e-mail (PS_SHOP_EMAIL).
    pub email_address: Option<String>,
    /// Always `prestashop`.
    pub commerce_platform_ref: String,
    /// Links into the store by name (`store`, `webservice`).
    pub source_urls: IndexMap<String, String>,
    /// When the company was set up in the store (the oldest known date).
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the record last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (time zone, shop group, other languages…).
    pub supplemental_data: SupplementalData,
}
