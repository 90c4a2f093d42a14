//! `commerce-locations`: each shop (id = shop id, the id every `locationRef` uses), with the
//! shop address from its configuration, and each physical store (`store-<id>`).

use prestalink_commerce::{Address, AddressType, Location, SupplementalData};
use prestalink_webservice::record::Record;

use super::{address, translations};
use crate::error::{Mapped, MappingError};
use crate::fields::Fields;
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// Configuration values that make up a shop's address and contact.
pub(crate) const SHOP_DETAILS: [&str; 10] = [
    "PS_SHOP_NAME",
    "PS_SHOP_EMAIL",
    "PS_SHOP_PHONE",
    "PS_SHOP_ADDR1",
    "PS_SHOP_ADDR2",
    "PS_SHOP_CODE",
    "PS_SHOP_CITY",
    "PS_SHOP_COUNTRY_ID",
    "PS_SHOP_STATE_ID",
    "PS_SHOP_DETAILS",
];

/// The shop address from configuration (PS_SHOP_ADDR1, PS_SHOP_CITY…), `None` when unset.
pub(crate) fn shop_address(refs: &ReferenceData, shop: Option<u64>) -> Option<Address> {
    let get = |name: &str| refs.config(name, shop).map(str::to_string);
    let state = get("PS_SHOP_STATE_ID").and_then(|s| s.parse::<u64>().ok());
    let country = get("PS_SHOP_COUNTRY_ID").and_then(|c| c.parse::<u64>().ok());
    let address = Address {
        address_type: AddressType::Billing,
        line1: get("PS_SHOP_ADDR1"),
        line2: get("PS_SHOP_ADDR2"),
        city: get("PS_SHOP_CITY"),
        region: state.and_then(|s| refs.states.get(&s).cloned()),
        country: refs.country_alpha3(country),
        postal_code: get("PS_SHOP_CODE"),
    };
    let empty = address.line1.is_none() && address.city.is_none() && address.country.is_none();
    (!empty).then_some(address)
}

/// Maps one shop.
pub fn map_shop(
    shop: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Location>, MappingError> {
    let f = Fields::new(shop, "shops");
    let id = f.id()?;
    let mut data = SupplementalData::default();
    data.insert("kind", "shop");
    data.insert("active", f.flag("active"));
    if let Some(g) = f.id_ref("id_shop_group") {
        data.insert("shopGroupId", g.to_string());
    }
    if let Some(urls) = refs.shop_urls.get(&id) {
        data.insert("urls", urls.clone());
    }
    Ok(Mapped {
        record: Location {
            id: id.to_string(),
            name: f.string("name"),
            address: shop_address(refs, Some(id)),
            modified_date: Some(opts.now),
            source_modified_date: refs.config_updated(&SHOP_DETAILS, Some(id)),
            supplemental_data: data,
        },
        warnings: Vec::new(),
    })
}

/// Maps one physical store (`stores`).
pub fn map_store(
    store: &Record,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<Location>, MappingError> {
    let f = Fields::new(store, "stores");
    let id = f.id()?;
    let mut data = SupplementalData::default();
    data.insert("kind", "store");
    data.insert("active", f.flag("active"));
    for (key, field) in [
        ("phone", "phone"),
        ("email", "email"),
        ("latitude", "latitude"),
        ("longitude", "longitude"),
    ] {
        if let Some(v) = f.text(field) {
            data.insert(key, v);
        }
    }
    translations(refs, store, &["name", "address1", "address2"], &mut data);
    let created = refs.clock.field(&f, "date_add")?;
    Ok(Mapped {
        record: Location {
            id: format!("store-{id}"),
            name: refs.localized(store, "name").map(str::to_string),
            address: Some(address(refs, store, "stores", AddressType::Inventory)),
            modified_date: Some(opts.now),
            source_modified_date: refs.clock.field(&f, "date_upd")?.or(created),
            supplemental_data: data,
        },
        warnings: Vec::new(),
    })
}
