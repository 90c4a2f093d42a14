//! `commerce-products` from `products`, their `combinations` (one variant each, or one
//! variant for a product without combinations), option values, stock and taxes.

use prestalink_commerce::{
    Amount, InventoryLocation, LocationRef, Product, ProductInventory, ProductPrice,
    ProductVariant, ProductVariantStatus, SupplementalData, Timestamp,
};
use prestalink_webservice::record::Record;
use serde_json::json;

use super::category::ancestors;
use super::translations;
use crate::error::{Mapped, MappingError, Warning};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// What every variant of a product shares.
struct Base<'a> {
    product: Fields<'a>,
    name: Option<String>,
    price: Amount,
    vat: Option<Amount>,
    tax_enabled: bool,
    shipping_required: bool,
    status: ProductVariantStatus,
    currency: Option<String>,
    created: Option<Timestamp>,
    modified: Option<Timestamp>,
}

/// Maps one product with its variants.
pub fn map_product(
    product: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Product>, MappingError> {
    let f = Fields::new(product, "products");
    let id = f.id()?;
    let mut warnings = Vec::new();
    let created = refs.clock.field(&f, "date_add")?;
    let tax_group = f.id_ref("id_tax_rules_group");
    let vat = tax_group.map(|g| {
        let country = refs
            .config("PS_COUNTRY_DEFAULT", opts.shop)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        refs.applicable_taxes(g, country, 0)
            .iter()
            .filter_map(|r| refs.taxes.get(&r.tax).map(|t| t.rate))
            .sum::<Amount>()
    });
    let virtual_product = f.flag("is_virtual")
        || f.text("type") == Some("virtual")
        || f.text("product_type") == Some("virtual");
    let base = Base {
        product: f,
        name: refs.localized(product, "name").map(str::to_string),
        price: f.amount("price")?,
        vat: vat.filter(|_| refs.tax_rules.contains_key(&tax_group.unwrap_or(0))),
        tax_enabled: tax_group.is_some(),
        shipping_required: !virtual_product,
        status: if f.flag("active") {
            ProductVariantStatus::Published
        } else {
            ProductVariantStatus::Unpublished
        },
        currency: refs.default_currency(opts.shop),
        created,
        modified: refs.clock.field(&f, "date_upd")?.or(created),
    };

    let combinations = refs.combinations.get(&id).map(Vec::as_slice).unwrap_or(&[]);
    let listed = product.association("combinations");
    let mut variants = Vec::new();
    if !combinations.is_empty() {
        for c in combinations {
            variants.push(combination_variant(&base, c, refs, opts)?);
        }
    } else if !listed.is_empty() {
        warnings.push(Warning::Unresolved {
            field: "variants",
            detail: "the product's combinations were not read; variants carry ids only".to_string(),
        });
        for c in listed {
            variants.push(combination_variant(&base, c, refs, opts)?);
        }
    } else {
        variants.push(simple_variant(&base, id, refs, opts));
    }

    let default_category = f.id_ref("id_category_default");
    let categorization = default_category.and_then(|c| {
        let (chain, _) = ancestors(refs, c);
        let names: Vec<&str> = chain
            .iter()
            .filter_map(|a| refs.categories.get(a).map(|c| c.name.as_str()))
            .collect();
        (!names.is_empty()).then(|| names.join(" - "))
    });

    let mut data = SupplementalData::default();
    for (key, field) in [
        ("reference", "reference"),
        ("manufacturerName", "manufacturer_name"),
        ("productType", "product_type"),
        ("condition", "condition"),
        ("visibility", "visibility"),
        ("weight", "weight"),
    ] {
        if let Some(v) = f.text(field) {
            data.insert(key, v);
        }
    }
    if let Some(c) = default_category {
        data.insert("defaultCategoryId", c.to_string());
    }
    let categories: Vec<String> = product
        .association("categories")
        .iter()
        .filter_map(Record::id)
        .map(|c| c.to_string())
        .collect();
    if !categories.is_empty() {
        data.insert("categoryIds", categories);
    }
    if let Some(short) = refs
        .localized(product, "description_short")
        .and_then(crate::text::plain_text)
    {
        data.insert("shortDescription", short);
    }
    translations(
        refs,
        product,
        &["name", "description_short", "link_rewrite"],
        &mut data,
    );
    super::extra_fields(opts, refs, "products", product, &mut data);

    Ok(Mapped {
        record: Product {
            id: id.to_string(),
            name: base.name.clone(),
            description: refs
                .localized(product, "description")
                .and_then(crate::text::plain_text),
            categorization,
            is_gift_card: false,
            variants,
            created_date: created,
            modified_date: Some(opts.now),
            source_modified_date: base.modified,
            supplemental_data: data,
        },
        warnings,
    })
}

fn inventory(
    refs: &ReferenceData,
    opts: &MapOptions,
    product: u64,
    attribute: u64,
) -> Option<ProductInventory> {
    let rows = refs.stock.get(&(product, attribute))?;
    let fallback_shop = opts.shop.or_else(|| refs.shops.keys().min().copied());
    let mut locations: Vec<InventoryLocation> = Vec::new();
    for row in rows {
        let shop = if row.shop == 0 {
            fallback_shop
        } else {
            Some(row.shop)
        };
        let Some(shop) = shop else { continue };
        locations.push(InventoryLocation {
            location_ref: LocationRef {
                id: shop.to_string(),
            },
            quantity: row.quantity,
        });
    }
    locations.sort_by(|a, b| a.location_ref.id.cmp(&b.location_ref.id));
    Some(ProductInventory {
        total_quantity: rows.iter().map(|r| r.quantity).sum(),
        locations,
    })
}

fn barcode(f: &Fields<'_>) -> Option<String> {
    f.string("ean13")
        .or_else(|| f.string("upc"))
        .or_else(|| f.string("isbn"))
}

fn simple_variant(
    base: &Base<'_>,
    id: u64,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> ProductVariant {
    let f = base.product;
    ProductVariant {
        id: id.to_string(),
        name: base.name.clone(),
        sku: f.string("reference"),
        barcode: barcode(&f),
        unit_of_measure: f.string("unity"),
        vat_percentage: base.vat,
        is_tax_enabled: base.tax_enabled,
        shipping_required: base.shipping_required,
        status: base.status,
        prices: vec![ProductPrice {
            currency: base.currency.clone(),
            unit_price: base.price,
        }],
        inventory: inventory(refs, opts, id, 0),
        created_date: base.created,
        modified_date: Some(opts.now),
        source_modified_date: base.modified,
        supplemental_data: SupplementalData::default(),
    }
}

fn combination_variant(
    base: &Base<'_>,
    combination: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<ProductVariant, MappingError> {
    let c = Fields::new(combination, "combinations");
    let id = c.id()?;
    let product_id = base.product.id()?;
    let mut options = Vec::new();
    let mut labels = Vec::new();
    for v in combination.association("product_option_values") {
        let Some(value_id) = v.id() else { continue };
        let value = refs.option_values.get(&value_id);
        let group = value.and_then(|v| refs.option_groups.get(&v.group));
        if let (Some(value), Some(group)) = (value, group) {
            labels.push(format!("{group} = {}", value.name));
        }
        options.push(json!({
            "id": value_id.to_string(),
            "group": group,
            "value": value.map(|v| v.name.clone()),
        }));
    }
    let name = match (&base.name, labels.is_empty()) {
        (Some(n), false) => Some(format!("{n} ({})", labels.join(", "))),
        (n, _) => n.clone(),
    };
    let mut data = SupplementalData::default();
    if !options.is_empty() {
        data.insert("optionValues", options);
    }
    for (key, field) in [
        ("weightImpact", "weight"),
        ("minimalQuantity", "minimal_quantity"),
    ] {
        if let Some(v) = c.text(field) {
            data.insert(key, v);
        }
    }
    if c.flag("default_on") {
        data.insert("isDefault", true);
    }
    Ok(ProductVariant {
        id: id.to_string(),
        name,
        sku: c
            .string("reference")
            .or_else(|| base.product.string("reference")),
        barcode: barcode(&c).or_else(|| barcode(&base.product)),
        unit_of_measure: base.product.string("unity"),
        vat_percentage: base.vat,
        is_tax_enabled: base.tax_enabled,
        shipping_required: base.shipping_required,
        status: base.status,
        prices: vec![ProductPrice {
            currency: base.currency.clone(),
            unit_price: base.price + c.amount("price")?,
        }],
        inventory: inventory(refs, opts, product_id, id),
        created_date: base.created,
        modified_date: Some(opts.now),
        source_modified_date: base.modified,
        supplemental_data: data,
    })
}
