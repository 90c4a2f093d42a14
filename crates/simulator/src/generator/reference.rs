//! Reference data: languages, shops, currencies, zones, countries, states, order states,
//! carriers, taxes, customer groups, cart rules, configuration and physical stores.
//! Values follow a stock PrestaShop 8.1 install (order states copied from the recordings).

use super::build::{rate_text, RowBuilder, NO_DATE};
use super::Ctx;
use crate::store::Store;

/// One of PrestaShop's standard order states and its flags.
#[derive(Debug, Clone, Copy)]
pub struct OrderState {
    /// `order_states` id.
    pub id: u32,
    /// English name (other languages get it prefixed, e.g. `[FR] `).
    pub name: &'static str,
    /// E-mail template.
    pub template: &'static str,
    /// Back-office colour.
    pub color: &'static str,
    /// Payment module owning the state (`ps_checkpayment` for "Awaiting check payment").
    pub module_name: &'static str,
    /// An e-mail is sent to the customer.
    pub send_email: bool,
    /// Reaching it creates the invoice.
    pub invoice: bool,
    /// The order counts as validated (`orders.valid`).
    pub logable: bool,
    /// Reaching it numbers the delivery slip.
    pub delivery: bool,
    /// The parcel has left (a tracking number is set).
    pub shipped: bool,
    /// Reaching it records the payment.
    pub paid: bool,
    /// The invoice PDF is attached to the e-mail.
    pub pdf_invoice: bool,
}

/// Order state ids of a stock install.
pub mod state {
    /// Awaiting check payment (ps_checkpayment).
    pub const AWAITING_CHECK: u32 = 1;
    /// Payment accepted.
    pub const PAYMENT_ACCEPTED: u32 = 2;
    /// Processing in progress.
    pub const PROCESSING: u32 = 3;
    /// Shipped.
    pub const SHIPPED: u32 = 4;
    /// Delivered.
    pub const DELIVERED: u32 = 5;
    /// Canceled.
    pub const CANCELED: u32 = 6;
    /// Refunded.
    pub const REFUNDED: u32 = 7;
    /// Payment error.
    pub const PAYMENT_ERROR: u32 = 8;
    /// On backorder (paid).
    pub const BACKORDER_PAID: u32 = 9;
    /// Awaiting bank wire payment (ps_wirepayment).
    pub const AWAITING_WIRE: u32 = 10;
    /// Remote payment accepted.
    pub const REMOTE_PAYMENT: u32 = 11;
    /// On backorder (not paid).
    pub const BACKORDER_UNPAID: u32 = 12;
    /// Awaiting cash-on-delivery validation (ps_cashondelivery).
    pub const AWAITING_COD: u32 = 13;
}

const fn os(
    id: u32,
    name: &'static str,
    template: &'static str,
    color: &'static str,
    module_name: &'static str,
    flags: [bool; 7],
) -> OrderState {
    let [send_email, invoice, logable, delivery, shipped, paid, pdf_invoice] = flags;
    OrderState {
        id,
        name,
        template,
        color,
        module_name,
        send_email,
        invoice,
        logable,
        delivery,
        shipped,
        paid,
        pdf_invoice,
    }
}

/// The 13 standard order states, with the flags of the recorded 8.1.2 store
/// (`[send_email, invoice, logable, delivery, shipped, paid, pdf_invoice]`).
pub const ORDER_STATES: &[OrderState] = &[
    os(
        1,
        "Awaiting check payment",
        "cheque",
        "#34209E",
        "ps_checkpayment",
        [true, false, false, false, false, false, false],
    ),
    os(
        2,
        "Payment accepted",
        "payment",
        "#3498D8",
        "",
        [true, true, true, false, false, true, true],
    ),
    os(
        3,
        "Processing in progress",
        "preparation",
        "#3498D8",
        "",
        [true, true, true, true, false, true, false],
    ),
    os(
        4,
        "Shipped",
        "shipped",
        "#01B887",
        "",
        [true, true, true, true, true, true, false],
    ),
    os(
        5,
        "Delivered",
        "",
        "#01B887",
        "",
        [false, true, true, true, true, true, false],
    ),
    os(
        6,
        "Canceled",
        "order_canceled",
        "#2C3E50",
        "",
        [true, false, false, false, false, false, false],
    ),
    os(
        7,
        "Refunded",
        "refund",
        "#01B887",
        "",
        [true, true, false, false, false, false, false],
    ),
    os(
        8,
        "Payment error",
        "payment_error",
        "#E74C3C",
        "",
        [true, false, false, false, false, false, false],
    ),
    os(
        9,
        "On backorder (paid)",
        "outofstock",
        "#3498D8",
        "",
        [true, true, false, false, false, true, false],
    ),
    os(
        10,
        "Awaiting bank wire payment",
        "bankwire",
        "#34209E",
        "ps_wirepayment",
        [true, false, false, false, false, false, false],
    ),
    os(
        11,
        "Remote payment accepted",
        "payment",
        "#3498D8",
        "",
        [true, true, true, false, false, true, false],
    ),
    os(
        12,
        "On backorder (not paid)",
        "outofstock",
        "#34209E",
        "",
        [true, false, false, false, false, false, false],
    ),
    os(
        13,
        "Awaiting Cash On Delivery validation",
        "cashondelivery",
        "#34209E",
        "ps_cashondelivery",
        [false, false, false, false, false, false, false],
    ),
];

/// The standard order state with this id.
pub fn order_state(id: u32) -> Option<&'static OrderState> {
    ORDER_STATES.iter().find(|s| s.id == id)
}

/// A country of the generated store (PrestaShop's stock ids).
#[derive(Debug, Clone, Copy)]
pub struct Country {
    /// `countries` id.
    pub id: u64,
    /// ISO 3166-1 alpha-2 code.
    pub iso: &'static str,
    /// English name.
    pub name: &'static str,
    /// `zones` id.
    pub zone: u64,
    /// International dialling prefix.
    pub call_prefix: i64,
    /// PrestaShop's postcode pattern (`NNNNN`, `LNL NLN`).
    pub zip_format: &'static str,
    /// Addresses there need a state (US, Canada).
    pub contains_states: bool,
    /// Member of the EU VAT area: French VAT applies to deliveries there.
    pub eu: bool,
    /// Enabled in the shop (Australia is not).
    pub active: bool,
    /// (city, postcode, id_state) samples for addresses.
    pub cities: &'static [(&'static str, &'static str, u64)],
}

#[allow(clippy::too_many_arguments)]
const fn country(
    id: u64,
    iso: &'static str,
    name: &'static str,
    zone: u64,
    call_prefix: i64,
    zip_format: &'static str,
    eu: bool,
    cities: &'static [(&'static str, &'static str, u64)],
) -> Country {
    Country {
        id,
        iso,
        name,
        zone,
        call_prefix,
        zip_format,
        contains_states: matches!(id, 4 | 21),
        eu,
        active: id != 24,
        cities,
    }
}

/// Id of France, the shop's country.
pub const FRANCE: u64 = 8;

/// Countries with PrestaShop's ids and ISO 3166 alpha-2 codes.
pub const COUNTRIES: &[Country] = &[
    country(
        1,
        "DE",
        "Germany",
        1,
        49,
        "NNNNN",
        true,
        &[
            ("Berlin", "10115", 0),
            ("München", "80331", 0),
            ("Hamburg", "20095", 0),
        ],
    ),
    country(
        2,
        "AT",
        "Austria",
        1,
        43,
        "NNNN",
        true,
        &[("Wien", "1010", 0)],
    ),
    country(
        3,
        "BE",
        "Belgium",
        1,
        32,
        "NNNN",
        true,
        &[("Bruxelles", "1000", 0), ("Liège", "4000", 0)],
    ),
    country(
        4,
        "CA",
        "Canada",
        2,
        1,
        "LNL NLN",
        false,
        &[
            ("Toronto", "M5V 2T6", 9),
            ("Montréal", "H2X 1Y4", 10),
            ("Vancouver", "V6B 1A1", 11),
        ],
    ),
    country(
        6,
        "ES",
        "Spain",
        1,
        34,
        "NNNNN",
        true,
        &[("Madrid", "28001", 0), ("Barcelona", "08001", 0)],
    ),
    country(
        8,
        "FR",
        "France",
        1,
        33,
        "NNNNN",
        true,
        &[
            ("Paris", "75011", 0),
            ("Lyon", "69003", 0),
            ("Marseille", "13001", 0),
            ("Bordeaux", "33000", 0),
            ("Lille", "59000", 0),
            ("Nantes", "44000", 0),
            ("Toulouse", "31000", 0),
            ("Strasbourg", "67000", 0),
        ],
    ),
    country(
        10,
        "IT",
        "Italy",
        1,
        39,
        "NNNNN",
        true,
        &[("Roma", "00184", 0), ("Milano", "20121", 0)],
    ),
    country(
        12,
        "LU",
        "Luxemburg",
        1,
        352,
        "NNNN",
        true,
        &[("Luxembourg", "1009", 0)],
    ),
    country(
        13,
        "NL",
        "Netherlands",
        1,
        31,
        "NNNN LL",
        true,
        &[("Amsterdam", "1012 AB", 0)],
    ),
    country(
        15,
        "PT",
        "Portugal",
        1,
        351,
        "NNNN-NNN",
        true,
        &[("Lisboa", "1100-148", 0)],
    ),
    country(
        17,
        "GB",
        "United Kingdom",
        7,
        44,
        "",
        false,
        &[("London", "SW1A 1AA", 0), ("Manchester", "M1 1AE", 0)],
    ),
    country(
        19,
        "CH",
        "Switzerland",
        7,
        41,
        "NNNN",
        false,
        &[("Genève", "1201", 0), ("Zürich", "8001", 0)],
    ),
    country(
        21,
        "US",
        "United States",
        2,
        1,
        "NNNNN",
        false,
        &[
            ("Birmingham", "35203", 1),
            ("Anchorage", "99501", 2),
            ("Phoenix", "85001", 3),
            ("San Francisco", "94103", 4),
            ("Miami", "33135", 5),
            ("New York", "10001", 6),
            ("Austin", "73301", 7),
            ("Seattle", "98101", 8),
        ],
    ),
    country(
        24,
        "AU",
        "Australia",
        5,
        61,
        "NNNN",
        false,
        &[("Sydney", "2000", 0)],
    ),
];

/// Country by id.
pub fn country_by_id(id: u64) -> Option<&'static Country> {
    COUNTRIES.iter().find(|c| c.id == id)
}

/// (id, id_country, iso_code, name) of states of the US and Canada.
pub const STATES: &[(u64, u64, &str, &str)] = &[
    (1, 21, "AL", "Alabama"),
    (2, 21, "AK", "Alaska"),
    (3, 21, "AZ", "Arizona"),
    (4, 21, "CA", "California"),
    (5, 21, "FL", "Florida"),
    (6, 21, "NY", "New York"),
    (7, 21, "TX", "Texas"),
    (8, 21, "WA", "Washington"),
    (9, 4, "ON", "Ontario"),
    (10, 4, "QC", "Quebec"),
    (11, 4, "BC", "British Columbia"),
];

const ZONES: &[&str] = &[
    "Europe",
    "North America",
    "Asia",
    "Africa",
    "Oceania",
    "South America",
    "Europe (non-EU)",
    "Central America/Antilla",
];

/// A currency: id, ISO code, numeric code, name, symbol, conversion rate (millionths).
#[derive(Debug, Clone, Copy)]
pub struct Currency {
    /// `currencies` id.
    pub id: u64,
    /// ISO 4217 code.
    pub iso: &'static str,
    /// ISO 4217 numeric code.
    pub numeric: &'static str,
    /// English name.
    pub name: &'static str,
    /// Symbol.
    pub symbol: &'static str,
    /// Conversion rate from the default currency, in millionths.
    pub rate: i64,
    /// Soft-deleted (no orders use it).
    pub deleted: bool,
}

/// EUR is the default currency; USD and GBP are used by some orders; CHF was deleted.
pub const CURRENCIES: &[Currency] = &[
    Currency {
        id: 1,
        iso: "EUR",
        numeric: "978",
        name: "Euro",
        symbol: "€",
        rate: 1_000_000,
        deleted: false,
    },
    Currency {
        id: 2,
        iso: "USD",
        numeric: "840",
        name: "US Dollar",
        symbol: "$",
        rate: 1_080_000,
        deleted: false,
    },
    Currency {
        id: 3,
        iso: "GBP",
        numeric: "826",
        name: "British Pound",
        symbol: "£",
        rate: 860_000,
        deleted: false,
    },
    Currency {
        id: 4,
        iso: "CHF",
        numeric: "756",
        name: "Swiss Franc",
        symbol: "CHF",
        rate: 940_000,
        deleted: true,
    },
];

/// A carrier: price tax excluded (millionths, in EUR), tax group, and whether it is deleted.
#[derive(Debug, Clone, Copy)]
pub struct Carrier {
    /// `carriers` id.
    pub id: u64,
    /// `id_reference`: shared by the versions of one carrier.
    pub reference: u64,
    /// Name.
    pub name: &'static str,
    /// Delivery delay text (multilingual).
    pub delay: &'static str,
    /// Shipping price tax excluded, in millionths of the default currency.
    pub price: i64,
    /// Replaced by a newer version (still referenced by old orders).
    pub deleted: bool,
    /// Carrier module (`external_module_name`), empty for a core carrier.
    pub module: &'static str,
}

/// Carriers; 3 is the old version of 4 (same `id_reference`), deleted when it was edited.
pub const CARRIERS: &[Carrier] = &[
    Carrier {
        id: 1,
        reference: 1,
        name: "Click and collect",
        delay: "Pick up in-store",
        price: 0,
        deleted: false,
        module: "",
    },
    Carrier {
        id: 2,
        reference: 2,
        name: "My carrier",
        delay: "Delivery next day!",
        price: 7_000_000,
        deleted: false,
        module: "",
    },
    Carrier {
        id: 3,
        reference: 3,
        name: "Colissimo",
        delay: "2-3 days",
        price: 5_900_000,
        deleted: true,
        module: "",
    },
    Carrier {
        id: 4,
        reference: 3,
        name: "Colissimo",
        delay: "2-3 days",
        price: 6_500_000,
        deleted: false,
        module: "",
    },
    Carrier {
        id: 5,
        reference: 5,
        name: "DHL Express",
        delay: "24-48h worldwide",
        price: 14_900_000,
        deleted: false,
        module: "dhlexpress",
    },
];

/// Tax rule groups: (id, name, rate in thousandths of a percent, deleted). Group g uses tax g.
pub const TAX_GROUPS: &[(u64, &str, i64, bool)] = &[
    (1, "FR Taux standard (20%)", 20_000, false),
    (2, "FR Taux réduit (10%)", 10_000, false),
    (3, "FR Taux réduit (5.5%)", 5_500, false),
    (4, "FR Taux super réduit (2.1%)", 2_100, false),
    (5, "FR Taux standard 19.6% (until 2013)", 19_600, true),
];

/// Rate of a tax rule group for a delivery country (French VAT in the EU, none elsewhere).
pub fn tax_rate(group: u64, country: &Country) -> i64 {
    if !country.eu {
        return 0;
    }
    TAX_GROUPS.iter().find(|g| g.0 == group).map_or(0, |g| g.2)
}

/// Cart rules: (id, code, name, discount per mille).
pub const CART_RULES: &[(u64, &str, &str, i64)] = &[
    (1, "WELCOME10", "Welcome offer -10%", 100),
    (2, "SUMMER5", "Summer sale -5%", 50),
];

/// Customer groups: (id, name).
pub const GROUPS: &[(u64, &str)] = &[(1, "Visitor"), (2, "Guest"), (3, "Customer")];

/// Payment modules: (module, label shown in orders.payment, first state, weight).
/// The last one is deliberately unknown to any mapping table.
pub const PAYMENT_MODULES: &[(&str, &str, u32, u32)] = &[
    (
        "ps_checkpayment",
        "Payment by check",
        state::AWAITING_CHECK,
        20,
    ),
    ("ps_wirepayment", "Bank transfer", state::AWAITING_WIRE, 20),
    (
        "ps_cashondelivery",
        "Cash on delivery (COD)",
        state::AWAITING_COD,
        8,
    ),
    ("stripe_official", "Stripe", state::PAYMENT_ACCEPTED, 26),
    ("ps_checkout", "PayPal", state::REMOTE_PAYMENT, 26),
    (
        "xyzpay_legacy",
        "XyzPay instalments (legacy)",
        state::PAYMENT_ACCEPTED,
        0,
    ),
];

/// Name of shop `k` (shop 1's is the store's name).
pub fn shop_name(k: u32) -> String {
    if k == 1 {
        "Maison Lumière".to_string()
    } else {
        format!("Maison Lumière {k}")
    }
}

/// Shop group of shop `k`: shops 1 and 2 in group 1, further shops in group 2.
pub fn shop_group(k: u32) -> u64 {
    if k <= 2 {
        1
    } else {
        2
    }
}

/// Writes every reference table.
pub(crate) fn write(store: &mut Store, ctx: &Ctx) {
    languages(store, ctx);
    shops(store, ctx);
    currencies(store, ctx);
    geography(store, ctx);
    order_states(store, ctx);
    carriers(store, ctx);
    taxes(store, ctx);
    groups(store, ctx);
    cart_rules(store, ctx);
    configurations(store, ctx);
    stores(store, ctx);
    brands(store, ctx);
}

/// Manufacturers and suppliers: (id, name). Products use ids 1 and 2 of each.
pub const MANUFACTURERS: &[(u64, &str)] = &[(1, "Studio Design"), (2, "Graphic Corner")];
/// Suppliers: (id, name).
pub const SUPPLIERS: &[(u64, &str)] = &[(1, "Fashion Supplier"), (2, "Accessories and Co")];

fn brands(store: &mut Store, ctx: &Ctx) {
    let date = super::fmt_base_date(ctx);
    for (resource, list) in [("manufacturers", MANUFACTURERS), ("suppliers", SUPPLIERS)] {
        for &(id, name) in list {
            let mut b = RowBuilder::new(resource, id, &ctx.langs);
            b.flag("active", true)
                .text("link_rewrite", &super::catalog::slugify(name))
                .text("name", name)
                .text("date_add", &date)
                .text("date_upd", &date)
                .text("description", "")
                .same("meta_title", "")
                .same("meta_description", "")
                .same("meta_keywords", "")
                .shops(&ctx.shops);
            if resource == "manufacturers" {
                b.same("short_description", "");
            }
            b.insert(store);
        }
    }
}

fn languages(store: &mut Store, ctx: &Ctx) {
    const KNOWN: &[(&str, &str, &str, &str, &str)] = &[
        ("English (English)", "en", "en-US", "en-us", "m/d/Y"),
        ("Français (French)", "fr", "fr-FR", "fr-fr", "d/m/Y"),
        ("Español (Spanish)", "es", "es-ES", "es-es", "d/m/Y"),
        ("Deutsch (German)", "de", "de-DE", "de-de", "d.m.Y"),
        ("Italiano (Italian)", "it", "it-IT", "it-it", "d/m/Y"),
    ];
    for &id in &ctx.langs {
        let (name, iso, locale, code, fmt) = KNOWN
            .get(id as usize - 1)
            .copied()
            .unwrap_or(("Language", "xx", "xx-XX", "xx-xx", "Y-m-d"));
        let mut b = RowBuilder::new("languages", id as u64, &ctx.langs);
        b.text("name", name)
            .text("iso_code", iso)
            .text("locale", locale)
            .text("language_code", code)
            .flag("active", true)
            .flag("is_rtl", false)
            .text("date_format_lite", fmt)
            .text("date_format_full", &format!("{fmt} H:i:s"))
            .shops(&ctx.shops);
        b.insert(store);
    }
}

fn shops(store: &mut Store, ctx: &Ctx) {
    let groups: &[(u64, &str)] = if ctx.shops.len() > 2 {
        &[(1, "Default"), (2, "Outlets")]
    } else {
        &[(1, "Default")]
    };
    for &(id, name) in groups {
        let mut b = RowBuilder::new("shop_groups", id, &ctx.langs);
        b.text("name", name)
            .text("color", "")
            .flag("share_customer", false)
            .flag("share_order", false)
            .flag("share_stock", false)
            .flag("active", true)
            .flag("deleted", false);
        b.insert(store);
    }
    for &k in &ctx.shops {
        let mut b = RowBuilder::new("shops", k as u64, &ctx.langs);
        b.int("id_shop_group", shop_group(k) as i64)
            .int("id_category", 2)
            .flag("active", true)
            .flag("deleted", false)
            .text("name", &shop_name(k))
            .text("color", "")
            .text("theme_name", "classic");
        b.insert(store);
        let mut u = RowBuilder::new("shop_urls", k as u64, &ctx.langs);
        u.int("id_shop", k as i64)
            .flag("active", true)
            .flag("main", true)
            .text("domain", "localhost")
            .text("domain_ssl", "localhost")
            .text("physical_uri", "/")
            .text(
                "virtual_uri",
                &if k == 1 {
                    String::new()
                } else {
                    format!("shop{k}/")
                },
            );
        u.insert(store);
    }
}

fn currencies(store: &mut Store, ctx: &Ctx) {
    for c in CURRENCIES {
        let mut b = RowBuilder::new("currencies", c.id, &ctx.langs);
        b.text("names", c.name)
            .text("name", c.name)
            .same("symbol", c.symbol)
            .text("iso_code", c.iso)
            .text("numeric_iso_code", c.numeric)
            .int("precision", 2)
            .money("conversion_rate", c.rate)
            .flag("deleted", c.deleted)
            .flag("active", !c.deleted)
            .flag("unofficial", false)
            .flag("modified", false)
            .same("pattern", "")
            .shops(&ctx.shops);
        b.insert(store);
    }
}

fn geography(store: &mut Store, ctx: &Ctx) {
    for (i, name) in ZONES.iter().enumerate() {
        let mut b = RowBuilder::new("zones", i as u64 + 1, &ctx.langs);
        b.text("name", name).flag("active", true).shops(&ctx.shops);
        b.insert(store);
    }
    for c in COUNTRIES {
        let mut b = RowBuilder::new("countries", c.id, &ctx.langs);
        b.int("id_zone", c.zone as i64)
            .int("id_currency", 0)
            .int("call_prefix", c.call_prefix)
            .text("iso_code", c.iso)
            .flag("active", c.active)
            .flag("contains_states", c.contains_states)
            .flag("need_identification_number", false)
            .flag("need_zip_code", true)
            .text("zip_code_format", c.zip_format)
            .flag("display_tax_label", c.eu)
            .text("name", c.name)
            .shops(&ctx.shops);
        b.insert(store);
    }
    for &(id, id_country, iso, name) in STATES {
        let mut b = RowBuilder::new("states", id, &ctx.langs);
        b.int("id_zone", 2)
            .int("id_country", id_country as i64)
            .text("iso_code", iso)
            .text("name", name)
            .flag("active", true);
        b.insert(store);
    }
}

fn order_states(store: &mut Store, ctx: &Ctx) {
    for s in ORDER_STATES {
        let mut b = RowBuilder::new("order_states", s.id as u64, &ctx.langs);
        b.flag("unremovable", true)
            .flag("delivery", s.delivery)
            .flag("hidden", false)
            .flag("send_email", s.send_email)
            .text("module_name", s.module_name)
            .flag("invoice", s.invoice)
            .text("color", s.color)
            .flag("logable", s.logable)
            .flag("shipped", s.shipped)
            .flag("paid", s.paid)
            .flag("pdf_delivery", false)
            .flag("pdf_invoice", s.pdf_invoice)
            .flag("deleted", false)
            .text("name", s.name)
            .same("template", s.template);
        b.insert(store);
    }
}

fn carriers(store: &mut Store, ctx: &Ctx) {
    for (pos, c) in CARRIERS.iter().enumerate() {
        let mut b = RowBuilder::new("carriers", c.id, &ctx.langs);
        b.flag("deleted", c.deleted)
            .flag("is_module", !c.module.is_empty())
            .int("id_tax_rules_group", 1)
            .int("id_reference", c.reference as i64)
            .text("name", c.name)
            .flag("active", !c.deleted)
            .flag("is_free", c.price == 0)
            .text(
                "url",
                if c.module.is_empty() {
                    ""
                } else {
                    "https://www.dhl.com/track?id=@"
                },
            )
            .flag("shipping_handling", c.price != 0)
            .flag("shipping_external", !c.module.is_empty())
            .flag("range_behavior", false)
            .int("shipping_method", if c.price == 0 { 1 } else { 2 })
            .int("max_width", 0)
            .int("max_height", 0)
            .int("max_depth", 0)
            .money("max_weight", 0)
            .int("grade", 0)
            .text("external_module_name", c.module)
            .flag("need_range", !c.module.is_empty())
            .int("position", pos as i64)
            .text("delay", c.delay)
            .shops(&ctx.shops);
        b.insert(store);
    }
}

fn taxes(store: &mut Store, ctx: &Ctx) {
    let date = super::fmt_base_date(ctx);
    let mut rule_id = 0;
    for &(id, name, rate, deleted) in TAX_GROUPS {
        let mut t = RowBuilder::new("taxes", id, &ctx.langs);
        t.text("rate", &rate_text(rate))
            .flag("active", !deleted)
            .flag("deleted", deleted)
            .text("name", &format!("TVA FR {}%", trim_rate(rate)));
        t.insert(store);
        let mut g = RowBuilder::new("tax_rule_groups", id, &ctx.langs);
        g.text("name", name)
            .flag("active", !deleted)
            .flag("deleted", deleted)
            .text("date_add", &date)
            .text("date_upd", &date)
            .shops(&ctx.shops);
        g.insert(store);
        for c in COUNTRIES.iter().filter(|c| c.eu) {
            rule_id += 1;
            let mut r = RowBuilder::new("tax_rules", rule_id, &ctx.langs);
            r.int("id_tax_rules_group", id as i64)
                .int("id_state", 0)
                .int("id_country", c.id as i64)
                .text("zipcode_from", "0")
                .text("zipcode_to", "0")
                .int("id_tax", id as i64)
                .int("behavior", 0)
                .text("description", "");
            r.insert(store);
        }
    }
}

/// `20`, `5.5`, `2.1` for a rate in thousandths of a percent.
fn trim_rate(rate: i64) -> String {
    let t = rate_text(rate);
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn groups(store: &mut Store, ctx: &Ctx) {
    let date = super::fmt_base_date(ctx);
    for &(id, name) in GROUPS {
        let mut b = RowBuilder::new("groups", id, &ctx.langs);
        b.text("reduction", "0.00")
            .int("price_display_method", 0)
            .text("date_add", &date)
            .text("date_upd", &date)
            .text("name", name)
            .shops(&ctx.shops);
        // Group 1 (visitors) is loaded by PrestaShop's bootstrap before the Webservice
        // renders it: its cached object holds an int.
        if id == 1 {
            b.cached_flag("show_prices", true);
        } else {
            b.flag("show_prices", true);
        }
        b.insert(store);
    }
}

fn cart_rules(store: &mut Store, ctx: &Ctx) {
    let date = super::fmt_base_date(ctx);
    for &(id, code, name, permille) in CART_RULES {
        let mut b = RowBuilder::new("cart_rules", id, &ctx.langs);
        b.int("id_customer", 0)
            .text("date_from", &date)
            .text("date_to", "2030-12-31 23:59:59")
            .text("description", "")
            .int("quantity", 10_000)
            .int("quantity_per_user", 1)
            .int("priority", 1)
            .flag("partial_use", false)
            .text("code", code)
            .money("minimum_amount", 0)
            .flag("minimum_amount_tax", false)
            .int("minimum_amount_currency", 1)
            .flag("minimum_amount_shipping", false)
            .flag("country_restriction", false)
            .flag("carrier_restriction", false)
            .flag("group_restriction", false)
            .flag("cart_rule_restriction", false)
            .flag("product_restriction", false)
            .flag("shop_restriction", false)
            .flag("free_shipping", false)
            .text(
                "reduction_percent",
                &format!("{}.{:02}", permille / 10, (permille % 10) * 10),
            )
            .money("reduction_amount", 0)
            .flag("reduction_tax", false)
            .int("reduction_currency", 1)
            .int("reduction_product", 0)
            .flag("reduction_exclude_special", false)
            .int("gift_product", 0)
            .int("gift_product_attribute", 0)
            .flag("highlight", false)
            .flag("active", true)
            .text("date_add", &date)
            .text("date_upd", &date)
            .text("name", name)
            .shops(&ctx.shops);
        b.insert(store);
    }
}

/// Store configuration values; the same name appears per shop in a multistore.
fn configurations(store: &mut Store, ctx: &Ctx) {
    let date = super::fmt_base_date(ctx);
    let shop1 = shop_name(1);
    let global: Vec<(&str, String)> = vec![
        ("PS_LANG_DEFAULT", "1".into()),
        ("PS_CURRENCY_DEFAULT", "1".into()),
        ("PS_COUNTRY_DEFAULT", FRANCE.to_string()),
        ("PS_TIMEZONE", ctx.tz_name.clone()),
        ("PS_SHOP_NAME", shop1.clone()),
        ("PS_SHOP_EMAIL", "contact@maison-lumiere.example".into()),
        ("PS_SHOP_ADDR1", "12 rue des Lilas".into()),
        ("PS_SHOP_ADDR2", "Bâtiment B".into()),
        ("PS_SHOP_CITY", "Lyon".into()),
        ("PS_SHOP_CODE", "69003".into()),
        ("PS_SHOP_COUNTRY_ID", FRANCE.to_string()),
        ("PS_SHOP_STATE_ID", "0".into()),
        ("PS_SHOP_PHONE", "+33 4 72 00 00 00".into()),
        ("PS_SHOP_FAX", "".into()),
        (
            "PS_SHOP_DETAILS",
            "SAS Maison Lumière, SIRET 123 456 789 00012".into(),
        ),
        ("PS_SHOP_DOMAIN", "localhost".into()),
        ("PS_SHOP_DOMAIN_SSL", "localhost".into()),
        ("PS_SSL_ENABLED", "0".into()),
        ("PS_WEIGHT_UNIT", "kg".into()),
        ("PS_DIMENSION_UNIT", "cm".into()),
        ("PS_VOLUME_UNIT", "L".into()),
        ("PS_DISTANCE_UNIT", "km".into()),
        ("PS_TAX", "1".into()),
        ("PS_ROUND_TYPE", "2".into()),
        ("PS_PRICE_ROUND_MODE", "2".into()),
        ("PS_STOCK_MANAGEMENT", "1".into()),
        ("PS_ORDER_OUT_OF_STOCK", "0".into()),
        ("PS_WEBSERVICE", "1".into()),
        (
            "PS_MULTISHOP_FEATURE_ACTIVE",
            if ctx.shops.len() > 1 { "1" } else { "0" }.into(),
        ),
        ("PS_OS_PAYMENT", "2".into()),
        ("PS_OS_PREPARATION", "3".into()),
        ("PS_OS_SHIPPING", "4".into()),
        ("PS_OS_DELIVERED", "5".into()),
        ("PS_OS_CANCELED", "6".into()),
        ("PS_OS_REFUND", "7".into()),
        ("PS_OS_ERROR", "8".into()),
    ];
    let mut id = 0;
    for (k, (name, value)) in global.iter().enumerate() {
        id += 1;
        // Like the recordings, some rows never had their dates set.
        let added = if k % 3 == 0 { date.as_str() } else { NO_DATE };
        config_row(store, ctx, id, name, value, None, added, &date);
    }
    if ctx.shops.len() > 1 {
        for &k in &ctx.shops {
            let per_shop = [
                ("PS_SHOP_NAME", shop_name(k)),
                ("PS_SHOP_EMAIL", format!("shop{k}@maison-lumiere.example")),
                ("PS_SHOP_ADDR1", format!("{} avenue Jean Jaurès", 10 + k)),
                (
                    "PS_SHOP_CITY",
                    if k % 2 == 0 { "Paris" } else { "Lyon" }.to_string(),
                ),
                (
                    "PS_SHOP_CODE",
                    if k % 2 == 0 { "75011" } else { "69003" }.to_string(),
                ),
                ("PS_SHOP_PHONE", format!("+33 1 40 00 00 {k:02}")),
                ("PS_SHOP_COUNTRY_ID", FRANCE.to_string()),
            ];
            for (name, value) in per_shop {
                id += 1;
                config_row(store, ctx, id, name, &value, Some(k), &date, &date);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn config_row(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    name: &str,
    value: &str,
    shop: Option<u32>,
    added: &str,
    updated: &str,
) {
    let (group, shop) = match shop {
        Some(k) => (shop_group(k).to_string(), k.to_string()),
        None => (String::new(), String::new()),
    };
    let mut b = RowBuilder::new("configurations", id, &ctx.langs);
    b.text("value", value)
        .text("name", name)
        .text("id_shop_group", &group)
        .text("id_shop", &shop)
        .text("date_add", added)
        .text("date_upd", updated);
    b.insert(store);
}

fn stores(store: &mut Store, ctx: &Ctx) {
    const HOURS: &str = r#"[["09:00 - 19:00"],["09:00 - 19:00"],["09:00 - 19:00"],["09:00 - 19:00"],["09:00 - 19:00"],["10:00 - 18:00"],[""]]"#;
    let date = super::fmt_base_date(ctx);
    let list: &[(&str, &str, &str, &str, &str, &str)] = &[
        (
            "Lumière Lyon Presqu'île",
            "4 rue de la République",
            "69002",
            "Lyon",
            "45.76342000",
            "4.83565000",
        ),
        (
            "Lumière Paris Marais",
            "21 rue des Francs-Bourgeois",
            "75004",
            "Paris",
            "48.85746000",
            "2.36018000",
        ),
        (
            "Lumière Bordeaux",
            "8 cours de l'Intendance",
            "33000",
            "Bordeaux",
            "44.84226000",
            "-0.57577000",
        ),
    ];
    for (i, &(name, addr, code, city, lat, long)) in list.iter().enumerate() {
        let mut b = RowBuilder::new("stores", i as u64 + 1, &ctx.langs);
        b.int("id_country", FRANCE as i64)
            .int("id_state", 0)
            .same("hours", HOURS)
            .text("postcode", code)
            .text("city", city)
            .text("latitude", lat)
            .text("longitude", long)
            .text("phone", &format!("+33 4 78 00 00 0{}", i + 1))
            .text("fax", "")
            .text("email", &format!("store{}@maison-lumiere.example", i + 1))
            .flag("active", i != 2)
            .text("date_add", &date)
            .text("date_upd", &date)
            .text("name", name)
            .text("address1", addr)
            .same("address2", "")
            .same("note", "")
            .shops(&ctx.shops);
        b.insert(store);
    }
}
