//! `commerce-productCategories` from `categories`: ancestors from the `id_parent` chain,
//! top first and the immediate parent last, the root (id_parent 0) excluded.

use prestalink_commerce::{AncestorRef, ProductCategory, SupplementalData};
use prestalink_webservice::record::Record;

use super::translations;
use crate::error::{Mapped, MappingError, Warning};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// The ancestors of a category (ids, top first), and the first missing parent if the chain
/// is broken. Stops on cycles.
pub(crate) fn ancestors(refs: &ReferenceData, parent: u64) -> (Vec<u64>, Option<u64>) {
    let mut chain = Vec::new();
    let mut current = parent;
    while current != 0 && !chain.contains(&current) {
        match refs.categories.get(&current) {
            Some(c) if c.parent == 0 => break, // the root
            Some(c) => {
                chain.push(current);
                current = c.parent;
            }
            None => {
                chain.reverse();
                return (chain, Some(current));
            }
        }
    }
    chain.reverse();
    (chain, None)
}

/// Maps one category.
pub fn map_category(
    category: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<ProductCategory>, MappingError> {
    let f = Fields::new(category, "categories");
    let id = f.id()?;
    let mut warnings = Vec::new();
    let parent = f.id_ref("id_parent").unwrap_or(0);
    let (chain, missing) = ancestors(refs, parent);
    let mut data = SupplementalData::default();
    if let Some(m) = missing {
        warnings.push(Warning::DeletedSource {
            field: "ancestorRefs",
            resource: "categories",
            id: m.to_string(),
        });
        data.insert("missingParentId", m.to_string());
    }
    data.insert("active", f.flag("active"));
    if f.flag("is_root_category") {
        data.insert("isRootCategory", true);
    }
    translations(refs, category, &["name", "link_rewrite"], &mut data);
    let has_children = if !category.association("categories").is_empty() {
        Some(true)
    } else if !refs.categories.is_empty() {
        Some(refs.category_children.get(&id).copied().unwrap_or(0) > 0)
    } else {
        None
    };
    let created = refs.clock.field(&f, "date_add")?;
    Ok(Mapped {
        record: ProductCategory {
            id: id.to_string(),
            name: refs.localized(category, "name").map(str::to_string),
            ancestor_refs: chain
                .into_iter()
                .map(|a| AncestorRef {
                    id: a.to_string(),
                    ref_type: "ProductCategory".to_string(),
                })
                .collect(),
            has_children,
            modified_date: Some(opts.now),
            source_modified_date: refs.clock.field(&f, "date_upd")?.or(created),
            supplemental_data: data,
        },
        warnings,
    })
}
