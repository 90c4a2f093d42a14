//! The PrestaShop resources a sync reads, and how each can be read incrementally.
//!
//! PrestaShop gives timestamps to some resources only (see the reference document, §5):
//! `date_upd` on orders, customers, addresses, products, categories, credit slips, …;
//! `date_add` only on payments, histories and order carriers (append-only rows); nothing on
//! order details, stock, combinations and most reference data. Each resource's strategy
//! follows from that.

/// How a resource is kept current between full syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incremental {
    /// `filter[date_upd]=>[watermark − lookback]&date=1`: rows changed since the last run.
    DateUpd,
    /// Append-only rows with `date_add` and growing ids: read ids above the last seen id,
    /// plus a `date_add` lookback for rows inserted out of order.
    AppendOnly,
    /// No timestamp, but owned by a parent that has one: re-read the children of changed
    /// parents (`order_details` of changed orders).
    ChildrenOf(&'static str, &'static str),
    /// No timestamp at all and changed silently (stock, combinations): a cheap sweep of
    /// every row, compared by content hash, so only real changes are written.
    Sweep,
    /// Small reference data: re-read whole on every run (a handful of requests).
    Whole,
}

/// Load class of a read, for the pacer (ids, full records, heavy records with associations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Light,
    Full,
    Heavy,
}

/// One resource the sync reads.
#[derive(Debug, Clone, Copy)]
pub struct SourceResource {
    pub name: &'static str,
    pub incremental: Incremental,
    pub weight: Weight,
    /// Fields never requested (secrets). When non-empty the resource is read with an explicit
    /// `display=[…]` list built from its schema, so the secrets are not even sent.
    pub secret_fields: &'static [&'static str],
    /// Reference data is read before transactional data, because mapping needs it.
    pub reference: bool,
    /// The field that ties a row to the row it belongs to (`id_order` of an order detail,
    /// `order_reference` of a payment, `reference` of an order), stored as the raw record's
    /// parent key so that mapping can find an order's rows without loading everything
    /// (named in [`prestalink_mapping::sources::parent_field`]).
    pub parent_field: Option<&'static str>,
}

const fn r(name: &'static str, incremental: Incremental, weight: Weight) -> SourceResource {
    SourceResource {
        name,
        incremental,
        weight,
        secret_fields: &[],
        reference: false,
        parent_field: prestalink_mapping::sources::parent_field(name),
    }
}

const fn reference(name: &'static str) -> SourceResource {
    SourceResource {
        name,
        incremental: Incremental::Whole,
        weight: Weight::Full,
        secret_fields: &[],
        reference: true,
        parent_field: None,
    }
}

/// Every resource the sync knows, reference data first, in reading order.
pub static RESOURCES: &[SourceResource] = &[
    reference("languages"),
    reference("shop_groups"),
    reference("shops"),
    reference("shop_urls"),
    reference("configurations"),
    reference("currencies"),
    reference("zones"),
    reference("countries"),
    reference("states"),
    reference("order_states"),
    reference("carriers"),
    reference("taxes"),
    reference("tax_rule_groups"),
    reference("tax_rules"),
    reference("product_options"),
    reference("product_option_values"),
    reference("groups"),
    reference("stores"),
    SourceResource {
        incremental: Incremental::DateUpd,
        ..reference("categories")
    },
    r("products", Incremental::DateUpd, Weight::Heavy),
    r("combinations", Incremental::Sweep, Weight::Full),
    r("stock_availables", Incremental::Sweep, Weight::Light),
    SourceResource {
        secret_fields: &["passwd", "secure_key", "reset_password_token"],
        ..r("customers", Incremental::DateUpd, Weight::Full)
    },
    r("addresses", Incremental::DateUpd, Weight::Full),
    SourceResource {
        secret_fields: &["secure_key"],
        ..r("orders", Incremental::DateUpd, Weight::Heavy)
    },
    // Rows that change an order without touching its date_upd come before the order's
    // details, so that the details of their orders are read again too: a credit slip
    // updates the refunded quantities of the order's details.
    r("order_slip", Incremental::DateUpd, Weight::Full),
    r("order_histories", Incremental::AppendOnly, Weight::Light),
    r("order_carriers", Incremental::AppendOnly, Weight::Full),
    r("order_payments", Incremental::AppendOnly, Weight::Full),
    r("order_details", ORDER_CHILD, Weight::Full),
    r("order_cart_rules", ORDER_CHILD, Weight::Light),
];

const ORDER_CHILD: Incremental = Incremental::ChildrenOf("orders", "id_order");

/// The catalogue entry of a resource.
pub fn source(name: &str) -> Option<&'static SourceResource> {
    RESOURCES.iter().find(|r| r.name == name)
}

/// A resource an add-on module adds (named in the user's rules file), read whole and kept
/// as raw copies. Names are interned: each distinct name is allocated once per process.
pub fn extra(name: &str) -> &'static SourceResource {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static EXTRA: OnceLock<Mutex<HashMap<String, &'static SourceResource>>> = OnceLock::new();
    let mut map = EXTRA
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .expect("extra resources lock");
    map.entry(name.to_string()).or_insert_with(|| {
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        Box::leak(Box::new(SourceResource {
            name,
            incremental: Incremental::Whole,
            weight: Weight::Full,
            secret_fields: &[],
            reference: false,
            parent_field: None,
        }))
    })
}

/// The data type key under which raw copies of an add-on module's resource are stored.
pub fn raw_copy_key(resource: &str) -> String {
    format!("raw-{resource}")
}
