//! `commerce-taxComponents` from `taxes`, with `isCompound` from the tax rules that use them.

use prestalink_commerce::{Amount, SupplementalData, TaxComponent};
use prestalink_webservice::record::Record;
use rust_decimal::Decimal;

use super::translations;
use crate::error::{Mapped, MappingError};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// Maps one tax. Its rate becomes a fraction (20.000 → 0.2).
pub fn map_tax(
    tax: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<TaxComponent>, MappingError> {
    let f = Fields::new(tax, "taxes");
    let id = f.id()?;
    let rate = f.amount("rate")?;
    let rules = refs
        .tax_rules
        .iter()
        .flat_map(|(group, rules)| rules.iter().map(move |r| (*group, r)));
    let mut groups: Vec<u64> = Vec::new();
    let mut compound = false;
    for (group, rule) in rules.filter(|(_, r)| r.tax == id) {
        compound |= rule.behavior == 2;
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups.sort_unstable();
    let name = refs
        .localized(tax, "name")
        .map(str::to_string)
        .ok_or_else(|| MappingError::MissingField {
            resource: "taxes",
            id: id.to_string(),
            field: "name",
        })?;
    let mut data = SupplementalData::default();
    data.insert("active", f.flag("active"));
    data.insert("deleted", f.flag("deleted"));
    data.insert("ratePercent", rate.to_string());
    if !groups.is_empty() {
        let named: Vec<serde_json::Value> = groups
            .iter()
            .map(|g| serde_json::json!({"id": g.to_string(), "name": refs.tax_rule_groups.get(g)}))
            .collect();
        data.insert("taxRulesGroups", named);
    }
    translations(refs, tax, &["name"], &mut data);
    Ok(Mapped {
        record: TaxComponent {
            id: id.to_string(),
            name,
            rate: Some(Amount((rate.0 / Decimal::ONE_HUNDRED).normalize())),
            is_compound: (!refs.tax_rules.is_empty()).then_some(compound),
            modified_date: Some(opts.now),
            source_modified_date: groups
                .iter()
                .filter_map(|g| refs.tax_rule_group_updated.get(g).copied().flatten())
                .max(),
            supplemental_data: data,
        },
        warnings: Vec::new(),
    })
}
