//! `commerce-products` and `commerce-productCategories`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::common::{LocationRef, SupplementalData, Timestamp, UtcTimestamp};

/// A product sold by the store, with one variant per combination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Identifier (PrestaShop product id).
    pub id: String,
    /// Name in the reading language.
    pub name: Option<String>,
    /// Description as plain text.
    pub description: Option<String>,
    /// Default category path, joined with " - " (`Home - Clothes - Men`).
    pub categorization: Option<String>,
    /// True for gift cards.
    pub is_gift_card: bool,
    /// The variants: one per combination, or one for a product without combinations.
    pub variants: Vec<ProductVariant>,
    /// When the product was created.
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the product last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (other languages, manufacturer, categories…).
    pub supplemental_data: SupplementalData,
}

/// Whether a variant is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ProductVariantStatus {
    /// Not known.
    Unknown,
    /// On sale.
    Published,
    /// Not on sale.
    Unpublished,
}

/// One sellable form of a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductVariant {
    /// Identifier (combination id, or the product id for a product without combinations).
    pub id: String,
    /// Name with the option values (`Product (Size = XL, Color = Black)`).
    pub name: Option<String>,
    /// Stock keeping unit (reference).
    pub sku: Option<String>,
    /// Barcode (EAN-13, else UPC, else ISBN).
    pub barcode: Option<String>,
    /// Unit the price is for.
    pub unit_of_measure: Option<String>,
    /// VAT rate, in percent.
    pub vat_percentage: Option<Amount>,
    /// Whether tax applies.
    pub is_tax_enabled: bool,
    /// Whether the variant must be shipped (false for virtual products).
    pub shipping_required: bool,
    /// Whether it is on sale.
    pub status: ProductVariantStatus,
    /// Prices, tax excluded.
    pub prices: Vec<ProductPrice>,
    /// Stock.
    pub inventory: Option<ProductInventory>,
    /// When the variant was created.
    pub created_date: Option<Timestamp>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the variant last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (option values, weight…).
    pub supplemental_data: SupplementalData,
}

/// A price of a variant in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPrice {
    /// ISO 4217 currency code.
    pub currency: Option<String>,
    /// Unit price, tax excluded.
    pub unit_price: Amount,
}

/// Stock of a variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductInventory {
    /// Total quantity across locations.
    pub total_quantity: Amount,
    /// Quantity per location.
    pub locations: Vec<InventoryLocation>,
}

/// Stock of a variant at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryLocation {
    /// The location (shop).
    pub location_ref: LocationRef,
    /// Quantity in stock there.
    pub quantity: Amount,
}

/// A category of products.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductCategory {
    /// Identifier (PrestaShop category id).
    pub id: String,
    /// Name in the reading language.
    pub name: Option<String>,
    /// Ancestors from the top (root excluded), the immediate parent last.
    pub ancestor_refs: Vec<AncestorRef>,
    /// Whether other categories have this one as parent.
    pub has_children: Option<bool>,
    /// When prestalink last wrote the record.
    pub modified_date: Option<UtcTimestamp>,
    /// When the category last changed in PrestaShop.
    pub source_modified_date: Option<Timestamp>,
    /// Everything else (other languages, active flag, missing parent…).
    pub supplemental_data: SupplementalData,
}

/// A reference to an ancestor category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AncestorRef {
    /// Id of the category.
    pub id: String,
    /// Always `ProductCategory`.
    #[serde(rename = "type")]
    pub ref_type: String,
}
