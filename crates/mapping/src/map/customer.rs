//! `commerce-customers` from `customers` and their `addresses`.
//!
//! Secrets (`passwd`, `secure_key`, `reset_password_token`) are never read: the fields
//! below are taken by name, and the sync requests customers with an explicit `display`.

use prestalink_commerce::{AddressType, Customer, SupplementalData};
use prestalink_webservice::record::Record;

use super::{address, extra_fields, location_ref};
use crate::error::{Mapped, MappingError};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// The customer fields prestalink requests (`display=[…]`): everything it maps, and never
/// a secret.
pub const CUSTOMER_FIELDS: [&str; 20] = [
    "id",
    "id_default_group",
    "id_lang",
    "newsletter",
    "optin",
    "is_guest",
    "active",
    "deleted",
    "company",
    "siret",
    "ape",
    "firstname",
    "lastname",
    "email",
    "note",
    "id_shop",
    "id_shop_group",
    "date_add",
    "date_upd",
    "website",
];

/// Maps one customer with its (not deleted) addresses.
pub fn map_customer(
    customer: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Customer>, MappingError> {
    let f = Fields::new(customer, "customers");
    let id = f.id()?;
    let name = [f.text("firstname"), f.text("lastname")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let address_records: Vec<&Record> = refs
        .customer_addresses
        .get(&id)
        .into_iter()
        .flatten()
        .filter_map(|a| refs.addresses.get(a))
        .collect();
    let phone = address_records.iter().find_map(|a| {
        let a = Fields::new(a, "addresses");
        a.string("phone_mobile").or_else(|| a.string("phone"))
    });
    let shop = f.id_ref("id_shop");
    let created_date = refs.clock.field(&f, "date_add")?;

    let mut data = SupplementalData::default();
    for (key, field) in [
        ("company", "company"),
        ("siret", "siret"),
        ("ape", "ape"),
        ("website", "website"),
    ] {
        if let Some(v) = f.text(field) {
            data.insert(key, v);
        }
    }
    for (key, field) in [
        ("isGuest", "is_guest"),
        ("newsletter", "newsletter"),
        ("optin", "optin"),
        ("active", "active"),
        ("deleted", "deleted"),
    ] {
        data.insert(key, f.flag(field));
    }
    if let Some(group) = f.id_ref("id_default_group") {
        data.insert("defaultGroupId", group.to_string());
    }
    let groups: Vec<String> = customer
        .association("groups")
        .iter()
        .filter_map(Record::id)
        .map(|g| g.to_string())
        .collect();
    if !groups.is_empty() {
        data.insert("groupIds", groups);
    }
    if let Some(lang) = f.id_ref("id_lang") {
        data.insert("language", refs.language_code(lang as u32));
    }
    extra_fields(opts, refs, "customers", customer, &mut data);

    Ok(Mapped {
        record: Customer {
            id: id.to_string(),
            customer_name: (!name.is_empty()).then_some(name),
            email_address: f.string("email"),
            phone,
            addresses: address_records
                .iter()
                .map(|a| address(refs, a, "addresses", AddressType::Unknown))
                .collect(),
            note: f.string("note"),
            default_currency: refs.default_currency(shop.or(opts.shop)),
            location_ref: location_ref(shop),
            created_date,
            modified_date: Some(opts.now),
            source_modified_date: refs.clock.field(&f, "date_upd")?.or(created_date),
            supplemental_data: data,
        },
        warnings: Vec::new(),
    })
}
