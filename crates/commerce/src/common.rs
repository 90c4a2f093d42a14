//! Shapes shared by several records: references, addresses, phone numbers, web links,
//! supplemental data and the timestamp types.

use chrono::{DateTime, FixedOffset, Utc};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A date and time with the offset it was recorded at (`2024-12-01T20:41:44+01:00`).
pub type Timestamp = DateTime<FixedOffset>;

/// A UTC date and time (`2024-12-01T19:41:44Z`), used for when prestalink wrote a record.
pub type UtcTimestamp = DateTime<Utc>;

/// A reference to another record by id, with its display name when known
/// (customerRef, productRef, productVariantRef, paymentMethodRef, taxComponentRef).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordRef {
    /// Id of the referenced record.
    pub id: String,
    /// Name of the referenced record at the time of the reference.
    pub name: Option<String>,
}

/// A reference to a [`crate::Location`] (the PrestaShop shop a record belongs to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationRef {
    /// Id of the location.
    pub id: String,
}

/// Kind of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AddressType {
    /// Where invoices go.
    Billing,
    /// Where goods go.
    Delivery,
    /// An address attached to an order.
    Order,
    /// Where stock is held.
    Inventory,
    /// Not known.
    Unknown,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Kind of address.
    #[serde(rename = "type")]
    pub address_type: AddressType,
    /// First line.
    pub line1: Option<String>,
    /// Second line.
    pub line2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State, province or region name.
    pub region: Option<String>,
    /// ISO 3166 alpha-3 country code.
    pub country: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
}

/// Kind of a phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PhoneType {
    /// The main number.
    Primary,
    /// A fixed line.
    Landline,
    /// A mobile phone.
    Mobile,
    /// A fax line.
    Fax,
    /// Not known.
    Unknown,
}

/// A phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    /// The number as entered.
    pub number: String,
    /// Kind of number.
    #[serde(rename = "type")]
    pub phone_type: PhoneType,
}

/// Kind of a web link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WebLinkType {
    /// The store's web site.
    Website,
    /// A social network page.
    Social,
    /// Not known.
    Unknown,
}

/// A web link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebLink {
    /// The URL.
    pub url: String,
    /// Kind of link.
    #[serde(rename = "type")]
    pub link_type: WebLinkType,
}

/// Source data that has no place in the standard fields (other languages, PrestaShop-only
/// fields, extra fields of add-on modules), kept so nothing the merchant has is lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupplementalData {
    /// Values by key.
    pub content: IndexMap<String, serde_json::Value>,
}

impl SupplementalData {
    /// Empty, with room for `n` values (saves regrowing when the count is known).
    pub fn with_capacity(n: usize) -> Self {
        SupplementalData {
            content: IndexMap::with_capacity(n),
        }
    }

    /// Adds one value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) {
        self.content.insert(key.into(), value.into());
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.content.is_empty()
    }
}
