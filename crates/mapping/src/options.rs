//! Per-connection mapping options.

use prestalink_commerce::UtcTimestamp;

use crate::modules::ModuleRules;

/// How a connection's records are mapped.
#[derive(Debug, Clone)]
pub struct MapOptions {
    /// Reading language id; `None` uses the shop's PS_LANG_DEFAULT.
    pub language: Option<u32>,
    /// Time zone override (IANA name); `None` uses the store's PS_TIMEZONE.
    pub timezone: Option<String>,
    /// The shop a single-shop connection reads (`id_shop`); `None` for all shops. Used for
    /// shop-scoped configuration values and the company record.
    pub shop: Option<u64>,
    /// Public URL of the store, for webLinks and sourceUrls when shop_urls are not read.
    pub store_url: Option<String>,
    /// Add-on module rules (built-in table plus the user file).
    pub rules: ModuleRules,
    /// The write time stamped as `modifiedDate` on every record; also "now" for deciding
    /// whether a payment method is still in use.
    pub now: UtcTimestamp,
}

impl MapOptions {
    /// Options with the built-in rules, the store's own language and time zone, all shops.
    pub fn new(now: UtcTimestamp) -> Self {
        MapOptions {
            language: None,
            timezone: None,
            shop: None,
            store_url: None,
            rules: ModuleRules::builtin(),
            now,
        }
    }
}
