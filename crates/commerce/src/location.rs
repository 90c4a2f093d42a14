//! `commerce-locations` and `commerce-taxComponents`: places the store sells from and the
//! taxes it charges.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::common::{Address, SupplementalData, Timestamp, UtcTimestamp};

/// A place the store sells from: a PrestaShop shop or a physical store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    /// Identifier (`<shop id>` for shops, `store-<id>` for physical stores).
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Address.
    pub address: Option<Address>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the record last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else.
    pub supplemental_data: SupplementalData,
}

/// A tax the store charges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxComponent {
    /// Identifier (PrestaShop tax id).
    pub id: String,
    /// Name in the reading language.
    pub name: String,
    /// Rate as a fraction (20% is `0.2`).
    pub rate: Option<Amount>,
    /// True when the tax applies on top of other taxes (rule behavior "one after another").
    pub is_compound: Option<bool>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the record last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else.
    pub supplemental_data: SupplementalData,
}
