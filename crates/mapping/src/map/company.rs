//! `commerce-info`: the company from configuration (PS_SHOP_*), the shop and its URLs.

use indexmap::IndexMap;
use prestalink_commerce::{
    CompanyInfo, PhoneNumber, PhoneType, SupplementalData, WebLink, WebLinkType,
};

use super::location::{shop_address, SHOP_DETAILS};
use crate::error::{Mapped, MappingError};
use crate::options::MapOptions;
use crate::reference::ReferenceData;

/// Maps the company of a connection (the shop in `opts.shop`, else the lowest shop id).
pub fn map_company(
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<Mapped<CompanyInfo>, MappingError> {
    let shop = opts.shop.or_else(|| refs.shops.keys().min().copied());
    let name = refs
        .config("PS_SHOP_NAME", shop)
        .map(str::to_string)
        .or_else(|| shop.and_then(|s| refs.shops.get(&s).cloned()))
        .ok_or(MappingError::MissingField {
            resource: "configurations",
            id: "PS_SHOP_NAME".to_string(),
            field: "value",
        })?;
    let mut urls: Vec<String> = shop
        .and_then(|s| refs.shop_urls.get(&s).cloned())
        .unwrap_or_default();
    if let Some(url) = &opts.store_url {
        if !urls.contains(url) {
            urls.push(url.clone());
        }
    }
    let mut source_urls = IndexMap::new();
    if let Some(main) = urls.first() {
        source_urls.insert("store".to_string(), main.clone());
        source_urls.insert(
            "webservice".to_string(),
            format!("{}/api/", main.trim_end_matches('/')),
        );
    }
    let mut data = SupplementalData::default();
    data.insert("timezone", refs.clock.tz().name());
    if let Some(s) = shop {
        data.insert("shopId", s.to_string());
    }
    data.insert("readingLanguage", refs.language_code(refs.reading_language));
    let languages: Vec<String> = refs.languages.iter().map(|l| l.iso_code.clone()).collect();
    if !languages.is_empty() {
        data.insert("languages", languages);
    }
    Ok(Mapped {
        record: CompanyInfo {
            id: shop.map_or_else(|| "1".to_string(), |s| s.to_string()),
            company_name: name,
            company_legal_name: refs.config("PS_SHOP_DETAILS", shop).map(str::to_string),
            addresses: shop_address(refs, shop).into_iter().collect(),
            phone_numbers: refs
                .config("PS_SHOP_PHONE", shop)
                .map(|p| PhoneNumber {
                    number: p.to_string(),
                    phone_type: PhoneType::Primary,
                })
                .into_iter()
                .collect(),
            web_links: urls
                .into_iter()
                .map(|url| WebLink {
                    url,
                    link_type: WebLinkType::Website,
                })
                .collect(),
            base_currency: refs.default_currency(shop),
            email_address: refs.config("PS_SHOP_EMAIL", shop).map(str::to_string),
            commerce_platform_ref: "prestashop".to_string(),
            source_urls,
            created_date: None,
            modified_date: Some(opts.now),
            source_modified_date: refs.config_updated(
                &[&SHOP_DETAILS[..], &["PS_CURRENCY_DEFAULT", "PS_TIMEZONE"]].concat(),
                shop,
            ),
            supplemental_data: data,
        },
        warnings: Vec::new(),
    })
}
