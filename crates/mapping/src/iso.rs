//! ISO codes: PrestaShop stores ISO 3166 alpha-2 country codes and ISO 4217 currency codes;
//! the model wants alpha-3 countries and checked currencies.

/// ISO 3166-1 alpha-3 code of an alpha-2 code (`FR` → `FRA`), `None` when unknown.
pub fn country_alpha3(alpha2: &str) -> Option<&'static str> {
    let code = alpha2.trim();
    if code.len() != 2 {
        return None;
    }
    celes::Country::from_alpha2(code).ok().map(|c| c.alpha3)
}

/// The ISO 4217 code when `code` is one (`usd` → `USD`), `None` otherwise.
pub fn currency_code(code: &str) -> Option<&'static str> {
    iso_currency::Currency::from_code(&code.trim().to_ascii_uppercase()).map(|c| c.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_and_currencies() {
        assert_eq!(country_alpha3("FR"), Some("FRA"));
        assert_eq!(country_alpha3("us"), Some("USA"));
        assert_eq!(country_alpha3("GB"), Some("GBR"));
        assert_eq!(country_alpha3("XX"), None);
        assert_eq!(country_alpha3(""), None);
        assert_eq!(currency_code("eur"), Some("EUR"));
        assert_eq!(currency_code("ABC"), None);
    }
}
