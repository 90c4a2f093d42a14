//! The catalog: a category tree, product options (Size, Color, Dimension), products simple
//! and with combinations, and stock per product, combination and shop.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::build::{get_int, get_money, get_text, schema, table, Av, RowBuilder, NO_DAY};
use super::reference::MANUFACTURERS;
use super::{mess, Ctx};
use crate::store::{Row, Store, Value};

/// (id, parent, name, active). 12 has a parent that does not exist (a real-data mess).
pub const CATEGORIES: &[(u64, u64, &str, bool)] = &[
    (1, 0, "Root", true),
    (2, 1, "Home", true),
    (3, 2, "Clothes", true),
    (4, 3, "Men", true),
    (5, 3, "Women", true),
    (6, 2, "Accessories", true),
    (7, 6, "Stationery", true),
    (8, 6, "Home Accessories", true),
    (9, 2, "Art", true),
    (10, 2, "Books", true),
    (11, 3, "Kids", true),
    (12, 999, "Archived imports", false),
];

/// Option groups: (id, name, group_type, values as (name, color)).
/// An option group: id, name, group_type, values as (name, color).
type OptionGroup = (
    u64,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const OPTIONS: &[OptionGroup] = &[
    (
        1,
        "Size",
        "select",
        &[("S", ""), ("M", ""), ("L", ""), ("XL", "")],
    ),
    (
        2,
        "Color",
        "color",
        &[
            ("White", "#ffffff"),
            ("Black", "#434A54"),
            ("Red", "#E84C3D"),
            ("Blue", "#5D9CEC"),
            ("Green", "#A0D468"),
            ("Grey", "#AAB2BD"),
        ],
    ),
    (
        3,
        "Dimension",
        "select",
        &[("40x60cm", ""), ("60x90cm", ""), ("80x120cm", "")],
    ),
];

/// How a kind of product varies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variation {
    None,
    Size,
    Color,
    SizeColor,
    Dimension,
}

/// Product kinds: (category, nouns, variation, price range in cents, tax group).
/// A kind of product: category, nouns, variation, price range in cents, tax group.
type ProductKind = (u64, &'static [&'static str], Variation, (i64, i64), u64);

const KINDS: &[ProductKind] = &[
    (
        4,
        &["T-shirt", "Polo shirt", "Hoodie", "Jacket"],
        Variation::SizeColor,
        (1900, 8900),
        1,
    ),
    (
        5,
        &["Sweater", "Dress", "Blouse", "Cardigan"],
        Variation::SizeColor,
        (2400, 9900),
        1,
    ),
    (
        11,
        &["Kids T-shirt", "Pyjamas", "Raincoat"],
        Variation::Size,
        (1200, 3900),
        1,
    ),
    (
        7,
        &["Notebook", "Planner", "Sketchbook", "Pen set"],
        Variation::Color,
        (500, 2500),
        1,
    ),
    (
        8,
        &["Mug", "Cushion", "Candle", "Tote bag"],
        Variation::Color,
        (900, 3500),
        1,
    ),
    (
        9,
        &["Framed poster", "Art print", "Canvas"],
        Variation::Dimension,
        (2900, 9900),
        2,
    ),
    (
        10,
        &["Cookbook", "Travel guide", "Novel", "E-book"],
        Variation::None,
        (900, 3900),
        3,
    ),
    (10, &["Magazine"], Variation::None, (400, 900), 4),
];

const MOTIFS: &[&str] = &[
    "Hummingbird",
    "Mountain fox",
    "Brown bear",
    "Today is a good day",
    "The best is yet to come",
    "Adventure begins",
    "Lighthouse",
    "Lavender field",
    "Northern lights",
    "Paper crane",
    "Olive branch",
    "Wild horse",
];

const COLLECTIONS: &[&str] = &[
    "Premium", "Eco", "Classic", "Slim fit", "Winter", "Summer", "Vintage",
];

/// Ancestors of a category from Home down to it (Root excluded), e.g. `[2, 3, 4]`.
pub fn category_path(id: u64) -> Vec<u64> {
    let mut path = vec![id];
    let mut cur = id;
    while let Some(&(_, parent, _, _)) = CATEGORIES.iter().find(|c| c.0 == cur) {
        if parent <= 1 || !CATEGORIES.iter().any(|c| c.0 == parent) {
            break;
        }
        path.push(parent);
        cur = parent;
    }
    path.reverse();
    path
}

fn level_depth(id: u64) -> i64 {
    match id {
        1 => 0,
        2 => 1,
        _ => category_path(id).len() as i64,
    }
}

/// Writes categories, options, products, combinations and stock; returns the ids of the
/// products that will be deleted once orders reference them.
pub fn write(store: &mut Store, ctx: &Ctx, products: u32, rng: &mut ChaCha8Rng) -> BTreeSet<u64> {
    categories(store, ctx);
    options(store, ctx);
    let mut next_combination = 1u64;
    let mut plans = Vec::with_capacity(products as usize);
    for id in 1..=products as u64 {
        plans.push(plan_product(
            ctx,
            id,
            products as u64,
            rng,
            &mut next_combination,
        ));
    }
    // One combination without option values (seen in real stores after a bad import).
    if let Some(p) = plans.iter_mut().rev().find(|p| !p.combinations.is_empty()) {
        p.combinations.push(CombinationPlan {
            id: next_combination,
            values: Vec::new(),
            impact: 0,
        });
    }
    let mut next_stock = 1u64;
    for p in &plans {
        let bundle = pack_contents(&plans, p);
        write_product(store, ctx, p, &bundle, rng, &mut next_stock);
    }
    choose_doomed(&plans, rng)
}

fn categories(store: &mut Store, ctx: &Ctx) {
    let date = super::fmt_base_date(ctx);
    for &(id, parent, name, active) in CATEGORIES {
        let position = CATEGORIES
            .iter()
            .filter(|c| c.1 == parent && c.0 < id)
            .count();
        let slug = slugify(name);
        let mut b = RowBuilder::new("categories", id, &ctx.langs);
        b.int("id_parent", parent as i64)
            .int("level_depth", level_depth(id))
            .int("nb_products_recursive", 0)
            .flag("active", active)
            .int("id_shop_default", 1)
            .flag("is_root_category", id == 2)
            .int("position", position as i64)
            .text("date_add", &date)
            .text("date_upd", &date)
            .text("name", name)
            .slug("link_rewrite", &slug)
            .text(
                "description",
                if id > 2 { "<p>Our selection.</p>" } else { "" },
            )
            .same("additional_description", "")
            .same("meta_title", "")
            .same("meta_description", "")
            .same("meta_keywords", "")
            .shops(&ctx.shops);
        b.insert(store);
    }
}

fn options(store: &mut Store, ctx: &Ctx) {
    let mut value_id = 0u64;
    for (pos, &(id, name, group_type, values)) in OPTIONS.iter().enumerate() {
        let first = value_id + 1;
        for (vpos, &(vname, color)) in values.iter().enumerate() {
            value_id += 1;
            let mut v = RowBuilder::new("product_option_values", value_id, &ctx.langs);
            v.int("id_attribute_group", id as i64)
                .text("color", color)
                .int("position", vpos as i64)
                .text("name", vname)
                .shops(&ctx.shops);
            v.insert(store);
        }
        let ids: Vec<u64> = (first..=value_id).collect();
        let mut b = RowBuilder::new("product_options", id, &ctx.langs);
        b.flag("is_color_group", group_type == "color")
            .text("group_type", group_type)
            .int("position", pos as i64)
            .text("name", name)
            .text("public_name", name)
            .assoc_ids("product_option_values", &ids)
            .shops(&ctx.shops);
        b.insert(store);
    }
}

/// Id of an option value: group (1-based) and position in it.
fn value_id(group: usize, pos: usize) -> u64 {
    OPTIONS[..group - 1]
        .iter()
        .map(|o| o.3.len() as u64)
        .sum::<u64>()
        + pos as u64
        + 1
}

struct CombinationPlan {
    id: u64,
    values: Vec<u64>,
    impact: i64,
}

struct ProductPlan {
    id: u64,
    name: String,
    description: String,
    short: String,
    reference: String,
    ean13: String,
    category: u64,
    tax_group: u64,
    price: i64,
    wholesale: i64,
    weight: i64,
    is_virtual: bool,
    active: bool,
    shops: Vec<u32>,
    combinations: Vec<CombinationPlan>,
    date_add: i64,
    date_upd: i64,
}

fn plan_product(
    ctx: &Ctx,
    id: u64,
    count: u64,
    rng: &mut ChaCha8Rng,
    next_combination: &mut u64,
) -> ProductPlan {
    let &(category, nouns, variation, (lo, hi), tax_group) = KINDS.choose(rng).expect("kinds");
    let noun = nouns.choose(rng).expect("nouns");
    let motif = MOTIFS.choose(rng).expect("motifs");
    let collection = COLLECTIONS.choose(rng).expect("collections");
    let mut name = format!("{motif} {} - {collection} {id}", noun.to_lowercase());
    let mut description = format!(
        "<p>The {motif} {} from our {collection} collection: designed in Lyon, made to last.</p>",
        noun.to_lowercase()
    );
    let mut short = format!("<p>{collection} quality {}.</p>", noun.to_lowercase());
    mess::product_text(id, count, &mut name, &mut description, &mut short);
    // Prices end in .90 like most shops; stored with 6 decimals.
    let price = (rng.gen_range(lo / 100..=hi / 100) * 100 + 90) * 10_000;
    let wholesale = price * rng.gen_range(30..55) / 100 / 10_000 * 10_000;
    let reference = mess::product_reference(id);
    let ean13 = if id.is_multiple_of(2) {
        format!("20000{id:07}0")
    } else {
        String::new()
    };
    let is_virtual = *noun == "E-book";
    let shops = if ctx.shops.len() > 1 && id.is_multiple_of(5) {
        vec![1]
    } else {
        ctx.shops.clone()
    };
    let simple = variation == Variation::None || rng.gen_bool(0.2);
    let mut combinations = Vec::new();
    if !simple {
        for (values, impact) in variation_values(variation, rng) {
            combinations.push(CombinationPlan {
                id: *next_combination,
                values,
                impact,
            });
            *next_combination += 1;
        }
    }
    // The catalog was entered during the 55 days after install, before the first order.
    let date_add = ctx.start - 60 * 86_400 + (id as i64 * 55 * 86_400) / count.max(1) as i64;
    let date_upd = rng.gen_range(date_add..=ctx.now - 3_600);
    ProductPlan {
        id,
        name,
        description,
        short,
        reference,
        ean13,
        category,
        tax_group,
        price,
        wholesale,
        weight: if is_virtual {
            0
        } else {
            rng.gen_range(1..=30) * 100_000
        },
        is_virtual,
        active: !id.is_multiple_of(29),
        shops,
        combinations,
        date_add,
        date_upd,
    }
}

/// Option value sets and price impacts of a product's combinations.
fn variation_values(variation: Variation, rng: &mut ChaCha8Rng) -> Vec<(Vec<u64>, i64)> {
    let sizes = |rng: &mut ChaCha8Rng| {
        let n = rng.gen_range(2..=4usize);
        (0..n).collect::<Vec<_>>()
    };
    let colors = |rng: &mut ChaCha8Rng, n: usize| {
        let mut all: Vec<usize> = (0..OPTIONS[1].3.len()).collect();
        all.shuffle(rng);
        all.truncate(n);
        all.sort_unstable();
        all
    };
    let size_impact = |s: usize| if s == 3 { 2_000_000 } else { 0 };
    match variation {
        Variation::None => Vec::new(),
        Variation::Size => sizes(rng)
            .into_iter()
            .map(|s| (vec![value_id(1, s)], size_impact(s)))
            .collect(),
        Variation::Color => {
            let n = rng.gen_range(2..=3);
            colors(rng, n)
                .into_iter()
                .map(|c| (vec![value_id(2, c)], 0))
                .collect()
        }
        Variation::SizeColor => {
            let n = rng.gen_range(1..=2);
            let cs = colors(rng, n);
            let ss = sizes(rng);
            cs.iter()
                .flat_map(|&c| {
                    ss.iter()
                        .map(move |&s| (vec![value_id(1, s), value_id(2, c)], size_impact(s)))
                })
                .collect()
        }
        Variation::Dimension => (0..3)
            .map(|d| (vec![value_id(3, d)], d as i64 * 20_000_000))
            .collect(),
    }
}

/// A pack's items as (product, combination or 0, quantity): a simple, physical product
/// whose id is 3 modulo 5 is a pack of the two products before it (the demo catalogue has one pack, of a
/// combination and a simple product, 5 of each).
fn pack_contents(plans: &[ProductPlan], p: &ProductPlan) -> Vec<(u64, u64, i64)> {
    if p.is_virtual || !p.combinations.is_empty() || p.id % 5 != 3 {
        return Vec::new();
    }
    plans
        .iter()
        .filter(|q| q.id < p.id)
        .rev()
        .take(2)
        .map(|q| {
            (
                q.id,
                q.combinations.first().map_or(0, |c| c.id),
                1 + (q.id % 5) as i64,
            )
        })
        .collect()
}

fn write_product(
    store: &mut Store,
    ctx: &Ctx,
    p: &ProductPlan,
    bundle: &[(u64, u64, i64)],
    rng: &mut ChaCha8Rng,
    next_stock: &mut u64,
) {
    let default_combination = p.combinations.first().map_or(0, |c| c.id);
    // Stock: per shop, the product row then one per combination.
    let mut stock_entries = Vec::new();
    for &shop in &p.shops {
        let quantities: Vec<i64> = p.combinations.iter().map(|_| stock_quantity(rng)).collect();
        let product_qty = if p.combinations.is_empty() {
            stock_quantity(rng)
        } else {
            quantities.iter().sum()
        };
        let rows = std::iter::once((0u64, product_qty))
            .chain(p.combinations.iter().map(|c| c.id).zip(quantities));
        for (attribute, qty) in rows {
            let id = *next_stock;
            *next_stock += 1;
            write_stock(store, ctx, id, p.id, attribute, shop, qty);
            if shop == p.shops[0] {
                stock_entries.push((id, attribute));
            }
        }
    }
    let images = product_images(p.id);
    for (i, c) in p.combinations.iter().enumerate() {
        // A combination shows one of its product's pictures (none when the product has none).
        let combination_images: Vec<u64> = images
            .get(i % images.len().max(1))
            .copied()
            .into_iter()
            .collect();
        let mut b = RowBuilder::new("combinations", c.id, &ctx.langs);
        b.int("id_product", p.id as i64)
            .string(
                "ean13",
                if p.ean13.is_empty() {
                    String::new()
                } else {
                    format!("201{:09}0", c.id)
                },
            )
            .text("isbn", "")
            .text("upc", "")
            .text("mpn", "")
            .string(
                "reference",
                if p.reference.is_empty() {
                    String::new()
                } else {
                    format!("{}-{}", p.reference, c.id)
                },
            )
            .text("supplier_reference", "")
            .money("wholesale_price", 0)
            .money("price", c.impact)
            .money("ecotax", 0)
            .money("weight", 0)
            .money("unit_price_impact", 0)
            .int("minimal_quantity", 1)
            .int("low_stock_threshold", 0)
            .flag("low_stock_alert", false)
            .text(
                "default_on",
                if c.id == default_combination { "1" } else { "" },
            )
            .text("available_date", NO_DAY)
            .same("available_now", "")
            .same("available_later", "")
            .assoc_ids("product_option_values", &c.values)
            .assoc_ids("images", &combination_images)
            .shops(&p.shops);
        b.insert(store);
    }
    let mut values: Vec<u64> = p
        .combinations
        .iter()
        .flat_map(|c| c.values.iter().copied())
        .collect();
    values.sort_unstable();
    values.dedup();
    let combination_ids: Vec<u64> = p.combinations.iter().map(|c| c.id).collect();
    let path = category_path(p.category);
    let stock: Vec<[(&str, Av); 2]> = stock_entries
        .iter()
        .map(|&(id, attr)| {
            [
                ("id", Av::I(id as i64)),
                ("id_product_attribute", Av::I(attr as i64)),
            ]
        })
        .collect();
    let stock_refs: Vec<&[(&str, Av)]> = stock.iter().map(|e| &e[..]).collect();
    // Features (1 Composition, 2 Property, as in the demo catalogue), for two products in three.
    let features: Vec<[(&str, Av); 2]> = if p.id.is_multiple_of(3) {
        Vec::new()
    } else {
        vec![
            [
                ("id", Av::I(1)),
                ("id_feature_value", Av::I(1 + (p.id % 5) as i64)),
            ],
            [
                ("id", Av::I(2)),
                ("id_feature_value", Av::I(6 + (p.id % 3) as i64)),
            ],
        ]
    };
    let feature_refs: Vec<&[(&str, Av)]> = features.iter().map(|e| &e[..]).collect();
    let is_pack = !bundle.is_empty();
    let bundle_entries: Vec<[(&str, Av); 3]> = bundle
        .iter()
        .map(|&(id, attribute, quantity)| {
            [
                ("id", Av::I(id as i64)),
                ("id_product_attribute", Av::I(attribute as i64)),
                ("quantity", Av::I(quantity)),
            ]
        })
        .collect();
    let bundle_refs: Vec<&[(&str, Av)]> = bundle_entries.iter().map(|e| &e[..]).collect();
    let product_type = if p.is_virtual {
        "virtual"
    } else if is_pack {
        "pack"
    } else if p.combinations.is_empty() {
        "standard"
    } else {
        "combinations"
    };
    let slug = slugify(&p.name);
    let mut b = RowBuilder::new("products", p.id, &ctx.langs);
    b.int("id_manufacturer", 1 + (p.id % 2) as i64)
        .int("id_supplier", 1 + (p.id % 2) as i64)
        .int("id_category_default", p.category as i64)
        // Not a column: PrestaShop 8.1.2 renders the unset property as JSON null.
        .null("new")
        .int("cache_default_attribute", default_combination as i64)
        .value(
            "id_default_image",
            images
                .first()
                .map_or(Value::str(""), |&i| Value::Int(i as i64)),
        )
        .int("id_default_combination", default_combination as i64)
        .int("id_tax_rules_group", p.tax_group as i64)
        .int("position_in_category", p.id as i64)
        .text("manufacturer_name", MANUFACTURERS[(p.id % 2) as usize].1)
        .int("quantity", 0)
        .text(
            "type",
            if p.is_virtual {
                "virtual"
            } else if is_pack {
                "pack"
            } else {
                "simple"
            },
        )
        .int("id_shop_default", 1)
        .text("reference", &p.reference)
        .text("supplier_reference", "")
        .text("location", "")
        .money("width", 0)
        .money("height", 0)
        .money("depth", 0)
        .money("weight", p.weight)
        .flag("quantity_discount", false)
        .text("ean13", &p.ean13)
        .text("isbn", "")
        .text("upc", "")
        .text("mpn", "")
        .flag("cache_is_pack", is_pack)
        .flag("cache_has_attachments", false)
        .flag("is_virtual", p.is_virtual)
        .int("state", 1)
        .int("additional_delivery_times", 1)
        .same("delivery_in_stock", "")
        .same("delivery_out_stock", "")
        .text("product_type", product_type)
        .flag("on_sale", false)
        .flag("online_only", false)
        .money("ecotax", 0)
        .int("minimal_quantity", 1)
        .int("low_stock_threshold", 0)
        .flag("low_stock_alert", false)
        .money("price", p.price)
        .money("wholesale_price", p.wholesale)
        .text("unity", "")
        .money("unit_price", 0)
        .money("unit_price_ratio", 0)
        .money("additional_shipping_cost", 0)
        .int("customizable", 0)
        .int("text_fields", 0)
        .int("uploadable_files", 0)
        .flag("active", p.active)
        .text("redirect_type", "301-category")
        .int("id_type_redirected", 0)
        .flag("available_for_order", true)
        .text("available_date", NO_DAY)
        .flag("show_condition", false)
        .text("condition", "new")
        .flag("show_price", true)
        .flag("indexed", true)
        .text("visibility", "both")
        .flag("advanced_stock_management", false)
        .string("date_add", ctx.local(p.date_add))
        .string("date_upd", ctx.local(p.date_upd))
        .int("pack_stock_type", 3)
        .same("meta_description", "")
        .same("meta_keywords", "")
        .same("meta_title", "")
        .slug("link_rewrite", &slug)
        .text("name", &p.name)
        .text("description", &p.description)
        .text("description_short", &p.short)
        .same("available_now", "")
        .same("available_later", "")
        .assoc_ids("categories", &path)
        .assoc_ids("images", &images)
        .assoc_ids("combinations", &combination_ids)
        .assoc_ids("product_option_values", &values)
        .assoc("product_features", &feature_refs)
        .assoc("stock_availables", &stock_refs)
        .assoc("product_bundle", &bundle_refs)
        .shops(&p.shops);
    b.insert(store);
}

/// A product's pictures (`ps_image` ids, the first is the cover): two per product, none
/// for one product in seven (shops have products without pictures).
fn product_images(product: u64) -> Vec<u64> {
    if product.is_multiple_of(7) {
        Vec::new()
    } else {
        vec![2 * product - 1, 2 * product]
    }
}

fn stock_quantity(rng: &mut ChaCha8Rng) -> i64 {
    match rng.gen_range(0..100) {
        0..=4 => 0,
        5 => -2, // oversold
        _ => rng.gen_range(1..300),
    }
}

/// Writes one stock_availables row.
pub fn write_stock(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    product: u64,
    attribute: u64,
    shop: u32,
    qty: i64,
) {
    let mut b = RowBuilder::new("stock_availables", id, &ctx.langs);
    b.int("id_product", product as i64)
        .int("id_product_attribute", attribute as i64)
        .int("id_shop", shop as i64)
        .int("id_shop_group", 0)
        .int("quantity", qty)
        .flag("depends_on_stock", false)
        .int("out_of_stock", 2)
        .text("location", "");
    b.insert(store);
}

/// About 3 % of the products (at least one when there are three or more), among simple
/// ones without deliberate text mess, to be deleted after orders referenced them.
fn choose_doomed(plans: &[ProductPlan], rng: &mut ChaCha8Rng) -> BTreeSet<u64> {
    if plans.len() < 3 {
        return BTreeSet::new();
    }
    let mut eligible: Vec<u64> = plans
        .iter()
        .filter(|p| p.combinations.is_empty() && !mess::is_messy_product(p.id, plans.len() as u64))
        .map(|p| p.id)
        .collect();
    eligible.shuffle(rng);
    let n = (plans.len() * 3 / 100).max(1).min(eligible.len());
    eligible.into_iter().take(n).collect()
}

/// A URL slug of a name (lowercase ASCII words joined by `-`).
pub fn slugify(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

/// One thing an order line can sell: a product, or one of its combinations.
#[derive(Debug, Clone)]
pub struct Sellable {
    pub product: u64,
    /// Combination id, 0 for a product without combinations.
    pub attribute: u64,
    /// Name as order lines store it: `Product - Size : M, Color : Black`.
    pub name: String,
    pub reference: String,
    pub ean13: String,
    /// Price tax excluded in the default currency, in millionths (base + impact).
    pub price: i64,
    pub wholesale: i64,
    pub tax_group: u64,
    pub weight: i64,
    pub shops: Vec<u32>,
    /// Product to be deleted after the history is generated.
    pub doomed: bool,
}

/// What orders can sell, read back from the store's catalog tables.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub items: Vec<Sellable>,
    /// Per shop (index = shop id − 1): indices of items sold there and not doomed.
    pub live: Vec<Vec<usize>>,
    /// Per shop: indices of doomed items.
    pub doomed: Vec<Vec<usize>>,
}

impl Catalog {
    /// Reads the sellable items of a store (active or not); `doomed` marks products that
    /// the generator will delete.
    pub fn from_store(store: &Store, doomed: &BTreeSet<u64>) -> Catalog {
        let (Some(products), Some(combinations)) =
            (store.table("products"), store.table("combinations"))
        else {
            return Catalog::default();
        };
        let value_names = option_value_names(store);
        let cr = combinations.resource;
        let mut by_product: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (id, row) in &combinations.rows {
            by_product
                .entry(get_int(row, cr, "id_product") as u64)
                .or_default()
                .push(*id);
        }
        let mut items = Vec::new();
        for (id, row) in &products.rows {
            let combos = by_product.get(id).map_or(&[][..], |v| &v[..]);
            items.extend(sellables(
                store,
                row,
                combos,
                &value_names,
                doomed.contains(id),
            ));
        }
        Catalog::of_items(store, items)
    }

    /// The sellable items of some products only (with their combinations, found through
    /// each product's `combinations` association): cheap enough for one order in a big store.
    pub fn from_products(store: &Store, ids: &[u64]) -> Catalog {
        let Some(products) = store.table("products") else {
            return Catalog::default();
        };
        let value_names = option_value_names(store);
        let ci = products.resource.association_index("combinations");
        let mut items = Vec::new();
        for id in ids {
            let Some(row) = products.rows.get(id) else {
                continue;
            };
            let combos: Vec<u64> = ci
                .map(|i| {
                    row.assocs[i]
                        .iter()
                        .filter_map(|e| e.first().and_then(Value::as_int))
                        .map(|c| c as u64)
                        .collect()
                })
                .unwrap_or_default();
            items.extend(sellables(store, row, &combos, &value_names, false));
        }
        Catalog::of_items(store, items)
    }

    fn of_items(store: &Store, items: Vec<Sellable>) -> Catalog {
        let mut live = vec![Vec::new(); store.shops.len()];
        let mut gone = vec![Vec::new(); store.shops.len()];
        for (i, item) in items.iter().enumerate() {
            for &s in &item.shops {
                let Some(slot) = (s as usize).checked_sub(1) else {
                    continue;
                };
                if slot < live.len() {
                    if item.doomed {
                        gone[slot].push(i);
                    } else {
                        live[slot].push(i);
                    }
                }
            }
        }
        Catalog {
            items,
            live,
            doomed: gone,
        }
    }
}

/// Sellable items of one product row: itself, or one per existing combination.
fn sellables(
    store: &Store,
    row: &Row,
    combos: &[u64],
    value_names: &BTreeMap<u64, String>,
    doomed: bool,
) -> Vec<Sellable> {
    let pr = schema("products");
    let cr = schema("combinations");
    let name = get_text(row, pr, "name").into_owned();
    let base = Sellable {
        product: row.id,
        attribute: 0,
        name: name.clone(),
        reference: get_text(row, pr, "reference").into_owned(),
        ean13: get_text(row, pr, "ean13").into_owned(),
        price: get_money(row, pr, "price"),
        wholesale: get_money(row, pr, "wholesale_price"),
        tax_group: get_int(row, pr, "id_tax_rules_group") as u64,
        weight: get_money(row, pr, "weight"),
        shops: if row.shops.is_empty() {
            store.shops.clone()
        } else {
            row.shops.clone()
        },
        doomed,
    };
    let rows = store.table("combinations").map(|t| &t.rows);
    let found: Vec<&Row> = combos
        .iter()
        .filter_map(|cid| rows.and_then(|r| r.get(cid)))
        .collect();
    if found.is_empty() {
        return vec![base];
    }
    found
        .into_iter()
        .map(|c| {
            let labels: Vec<&str> = c
                .assocs
                .first()
                .map(|entries| {
                    entries
                        .iter()
                        .filter_map(|e| e.first().and_then(Value::as_int))
                        .filter_map(|v| value_names.get(&(v as u64)).map(String::as_str))
                        .collect()
                })
                .unwrap_or_default();
            let mut item = base.clone();
            item.attribute = c.id;
            if !labels.is_empty() {
                item.name = format!("{name} - {}", labels.join(", "));
            }
            let cref = get_text(c, cr, "reference");
            if !cref.is_empty() {
                item.reference = cref.into_owned();
            }
            item.price += get_money(c, cr, "price");
            item
        })
        .collect()
}

/// `Size : M` labels of option values, by value id.
fn option_value_names(store: &Store) -> BTreeMap<u64, String> {
    let mut groups = BTreeMap::new();
    if let Some(t) = store.table("product_options") {
        for (id, row) in &t.rows {
            groups.insert(*id, get_text(row, t.resource, "public_name").into_owned());
        }
    }
    let mut names = BTreeMap::new();
    if let Some(t) = store.table("product_option_values") {
        for (id, row) in &t.rows {
            let group = get_int(row, t.resource, "id_attribute_group") as u64;
            let gname = groups.get(&group).cloned().unwrap_or_default();
            names.insert(
                *id,
                format!("{gname} : {}", get_text(row, t.resource, "name")),
            );
        }
    }
    names
}

/// Deletes products as PrestaShop does: the product, its combinations and its stock rows
/// go; order lines keep pointing at the product id.
pub fn delete_products(store: &mut Store, ids: &BTreeSet<u64>) {
    if ids.is_empty() {
        return;
    }
    for id in ids {
        table(store, "products").rows.remove(id);
    }
    let cr = schema("combinations");
    table(store, "combinations")
        .rows
        .retain(|_, row| !ids.contains(&(get_int(row, cr, "id_product") as u64)));
    let sr = schema("stock_availables");
    table(store, "stock_availables")
        .rows
        .retain(|_, row| !ids.contains(&(get_int(row, sr, "id_product") as u64)));
}

/// Recomputes each category's `categories` (children) and `products` associations and
/// `nb_products_recursive` from the current products.
pub fn link_categories(store: &mut Store) {
    let pr = schema("products");
    let mut members: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    if let Some(products) = store.table("products") {
        let ci = pr.association_index("categories");
        for (id, row) in &products.rows {
            if let Some(ci) = ci {
                for e in &row.assocs[ci] {
                    if let Some(c) = e.first().and_then(Value::as_int) {
                        members.entry(c as u64).or_default().push(*id);
                    }
                }
            }
        }
    }
    let cat = schema("categories");
    let children_index = cat.association_index("categories");
    let products_index = cat.association_index("products");
    let nb_index = cat.field_index("nb_products_recursive");
    let rows: Vec<(u64, u64)> = table(store, "categories")
        .rows
        .iter()
        .map(|(id, row)| (*id, get_int(row, cat, "id_parent") as u64))
        .collect();
    let total_products = store.table("products").map_or(0, |t| t.rows.len());
    for (id, row) in table(store, "categories").rows.iter_mut() {
        let children: Vec<Vec<Value>> = rows
            .iter()
            .filter(|(_, parent)| parent == id)
            .map(|(child, _)| vec![Value::Int(*child as i64)])
            .collect();
        let products: Vec<Vec<Value>> = members
            .get(id)
            .map(|ps| ps.iter().map(|p| vec![Value::Int(*p as i64)]).collect())
            .unwrap_or_default();
        let nb = if *id == 1 {
            total_products
        } else {
            products.len()
        };
        if let Some(i) = children_index {
            row.assocs[i] = children;
        }
        if let Some(i) = products_index {
            row.assocs[i] = products;
        }
        if let Some(i) = nb_index {
            row.values[i] = Value::Int(nb as i64);
        }
    }
}
