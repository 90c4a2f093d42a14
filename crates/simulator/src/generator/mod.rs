//! The data generator: a coherent, deterministic PrestaShop store of any size, with the
//! mess real stores have (deleted products and customers still referenced by orders,
//! split orders, odd payment modules, text that breaks naive XML, DST-ambiguous times).
//!
//! Everything derives from [`GenConfig`]: the same configuration gives an identical
//! [`Store`], including its dates, which are spread over two years before
//! [`GenConfig::now`] (a fixed date, never the wall clock).

pub(crate) mod build;
pub(crate) mod catalog;
pub mod mess;
pub(crate) mod orders;
pub(crate) mod people;
pub mod reference;
#[cfg(test)]
mod tests;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::store::Store;

/// What to generate. The CLI maps `--orders N --customers N --products N` onto it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Seed of every random choice; the same seed gives the same store.
    pub seed: u64,
    /// Installed languages (ids 1..=N; 2 is French, its texts prefixed `[FR] `).
    pub languages: u32,
    /// Shops (ids 1..=N); more than one makes a multistore.
    pub shops: u32,
    /// Orders over the two-year history (about 1 % of them split in two sharing a reference).
    pub orders: u32,
    /// Customers (about 15 % guests, 2 % deleted after ordering).
    pub customers: u32,
    /// Products (simple or with combinations; about 3 % deleted after being ordered).
    pub products: u32,
    /// IANA time zone of the shop (PS_TIMEZONE); every date is local to it.
    pub timezone: String,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            languages: 1,
            shops: 1,
            orders: 200,
            customers: 60,
            products: 40,
            timezone: "Europe/Paris".to_string(),
        }
    }
}

impl GenConfig {
    /// The shop-local "now" of the generated data: the latest date any record carries.
    /// Fixed (2026-11-28 10:00:00), so generation never depends on the wall clock.
    pub fn now(&self) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 28)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("valid constant date")
    }

    /// The time zone, or UTC when the name is not an IANA zone.
    pub fn tz(&self) -> Tz {
        self.timezone.parse().unwrap_or(Tz::UTC)
    }
}

/// Shared generation context: languages, shops, time zone and the time span.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// Installed language ids.
    pub langs: Vec<u32>,
    /// Shop ids.
    pub shops: Vec<u32>,
    /// The shop's time zone.
    pub tz: Tz,
    /// Its IANA name (PS_TIMEZONE).
    pub tz_name: String,
    /// "Now" as a UTC instant (unix seconds).
    pub now: i64,
    /// Start of the order history (two years before now), unix seconds.
    pub start: i64,
}

/// Length of the generated history.
pub const HISTORY_SECS: i64 = 730 * 86_400;

impl Ctx {
    /// The context of a configuration.
    pub fn new(cfg: &GenConfig) -> Ctx {
        let tz = cfg.tz();
        let local_now = cfg.now();
        let now = tz
            .from_local_datetime(&local_now)
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_else(|| local_now.and_utc().timestamp());
        Ctx {
            langs: (1..=cfg.languages.max(1)).collect(),
            shops: (1..=cfg.shops.max(1)).collect(),
            tz,
            tz_name: tz.name().to_string(),
            now,
            start: now - HISTORY_SECS,
        }
    }

    /// Shop-local text of a UTC instant.
    pub fn local(&self, secs: i64) -> String {
        build::fmt_instant(&self.tz, secs)
    }
}

/// Date the shop was installed (reference data's date_add): 60 days before the history.
pub(crate) fn fmt_base_date(ctx: &Ctx) -> String {
    ctx.local(ctx.start - 60 * 86_400)
}

/// A random stream for one part of the generation, so that e.g. the catalog does not
/// change when only the number of orders changes.
pub(crate) fn stream(seed: u64, part: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Generates a whole store from a configuration (deterministic: same config, same store).
pub fn generate(cfg: &GenConfig) -> Store {
    let ctx = Ctx::new(cfg);
    let mut store = Store {
        languages: ctx.langs.clone(),
        shops: ctx.shops.clone(),
        shop_name: reference::shop_name(1),
        timezone: ctx.tz_name.clone(),
        tables: Default::default(),
    };
    reference::write(&mut store, &ctx);
    let doomed_products = catalog::write(&mut store, &ctx, cfg.products, &mut stream(cfg.seed, 1));
    let people = people::write(&mut store, &ctx, cfg.customers, &mut stream(cfg.seed, 2));
    let catalog = catalog::Catalog::from_store(&store, &doomed_products);
    orders::write_history(
        &mut store,
        &ctx,
        &catalog,
        &people,
        cfg.orders,
        &mut stream(cfg.seed, 3),
    );
    catalog::delete_products(&mut store, &doomed_products);
    catalog::link_categories(&mut store);
    people::delete_customers(&mut store, &people.doomed);
    for name in GENERATED {
        build::table(&mut store, name);
    }
    store
}

/// Every resource the generator fills; each has a table, possibly empty (e.g. no orders).
pub const GENERATED: &[&str] = &[
    "addresses",
    "carriers",
    "cart_rules",
    "carts",
    "categories",
    "combinations",
    "configurations",
    "countries",
    "currencies",
    "customers",
    "groups",
    "languages",
    "manufacturers",
    "order_carriers",
    "order_cart_rules",
    "order_details",
    "order_histories",
    "order_invoices",
    "order_payments",
    "order_slip",
    "order_states",
    "orders",
    "product_option_values",
    "product_options",
    "products",
    "shop_groups",
    "shop_urls",
    "shops",
    "states",
    "stock_availables",
    "stores",
    "suppliers",
    "tax_rule_groups",
    "tax_rules",
    "taxes",
    "zones",
];
