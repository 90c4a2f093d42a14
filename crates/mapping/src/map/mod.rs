//! One module per data type: functions from raw PrestaShop records (plus [`ReferenceData`]
//! and [`MapOptions`]) to commerce records.

pub mod category;
pub mod company;
pub mod customer;
pub mod dispute;
pub mod location;
pub mod order;
pub mod payment;
pub mod payment_method;
pub mod product;
pub mod raw;
pub mod tax;
pub mod transaction;

use prestalink_commerce::{
    Address, AddressType, LocationRef, RecordRef, SupplementalData, TaxComponentAllocation,
};
use prestalink_webservice::record::Record;

use crate::error::Warning;
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::{ReferenceData, TaxRuleInfo};

/// The locationRef of a shop id.
pub(crate) fn location_ref(shop: Option<u64>) -> Option<LocationRef> {
    shop.map(|id| LocationRef { id: id.to_string() })
}

/// A reference to a row of `resource`, warning when that resource was read and the row is
/// not in it (deleted since). The reference keeps the raw id either way.
pub(crate) fn checked_ref(
    refs: &ReferenceData,
    warnings: &mut Vec<Warning>,
    field: &'static str,
    resource: &'static str,
    id: u64,
    name: Option<String>,
) -> RecordRef {
    if refs.is_missing(resource, id) {
        warnings.push(Warning::DeletedSource {
            field,
            resource,
            id: id.to_string(),
        });
    }
    RecordRef {
        id: id.to_string(),
        name,
    }
}

/// Copies the extra fields the rules ask for into supplementalData under `extraFields`.
pub(crate) fn extra_fields(
    opts: &MapOptions,
    refs: &ReferenceData,
    resource: &str,
    record: &Record,
    data: &mut SupplementalData,
) {
    let wanted = opts.rules.extra_fields(resource);
    if wanted.is_empty() {
        return;
    }
    let mut extra = serde_json::Map::new();
    for field in wanted {
        if crate::modules::SECRET_FIELDS.contains(&field.as_str()) {
            continue;
        }
        if let Some(value) = record.fields.get(field) {
            let text = value.text_in(refs.reading_language).to_string();
            extra.insert(field.clone(), serde_json::Value::String(text));
        }
    }
    if !extra.is_empty() {
        data.insert("extraFields", serde_json::Value::Object(extra));
    }
}

/// A postal address from an `addresses` (or `stores`) record.
pub(crate) fn address(
    refs: &ReferenceData,
    record: &Record,
    resource: &'static str,
    kind: AddressType,
) -> Address {
    let f = Fields::new(record, resource);
    let text = |field: &str| refs.localized(record, field).map(str::to_string);
    Address {
        address_type: kind,
        line1: text("address1"),
        line2: text("address2"),
        city: text("city"),
        region: f
            .id_ref("id_state")
            .and_then(|s| refs.states.get(&s).cloned()),
        country: refs.country_alpha3(f.id_ref("id_country")),
        postal_code: f.string("postcode"),
    }
}

/// Tax allocations for rules that apply, with each tax's name and rate (percent).
pub(crate) fn tax_allocations(
    refs: &ReferenceData,
    rules: &[&TaxRuleInfo],
) -> Vec<TaxComponentAllocation> {
    rules
        .iter()
        .map(|rule| {
            let tax = refs.taxes.get(&rule.tax);
            TaxComponentAllocation {
                tax_component_ref: RecordRef {
                    id: rule.tax.to_string(),
                    name: tax.map(|t| t.name.clone()),
                },
                rate: tax.map(|t| t.rate),
            }
        })
        .collect()
}

/// Adds the other languages' values of multilingual fields under `translations`.
pub(crate) fn translations(
    refs: &ReferenceData,
    record: &Record,
    fields: &[&str],
    data: &mut SupplementalData,
) {
    if let Some(t) = refs.translations(record, fields) {
        data.insert("translations", t);
    }
}
