//! Customers (registered and guests) and their addresses.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::build::{schema, table, RowBuilder, NO_DATE};
use super::reference::{shop_group, Country, COUNTRIES};
use super::{mess, Ctx};
use crate::store::{Store, Value};

const FIRST_NAMES: &[&str] = &[
    "Oliver",
    "David",
    "William",
    "Emma",
    "Chloé",
    "Léa",
    "Lucas",
    "Hugo",
    "Jade",
    "Louise",
    "Gabriel",
    "Manon",
    "Noah",
    "Sophie",
    "Jean-Pierre",
    "Amélie",
    "Mohamed",
    "Fatima",
    "Ana",
    "Giulia",
    "Lukas",
    "Hannah",
    "Siobhan",
    "Zoë",
    "Björn",
    "Camille",
    "Inès",
    "Thomas",
];

const LAST_NAMES: &[&str] = &[
    "Roberts",
    "Schneider",
    "Clark",
    "Martin",
    "Bernard",
    "Dubois",
    "Durand",
    "Lefèvre",
    "Moreau",
    "O'Brien",
    "Müller",
    "García",
    "Rossi",
    "Nguyễn",
    "Ødegaard",
    "Smith",
    "Petit",
    "Leroy",
    "Fontaine",
    "De la Fuente",
    "Van Dijk",
    "Kowalski",
    "Haddad",
    "Costa",
];

const STREETS: &[&str] = &[
    "rue de la Paix",
    "avenue Victor Hugo",
    "boulevard Voltaire",
    "Hauptstraße",
    "Calle Mayor",
    "Via Roma",
    "High Street",
    "Main Street",
    "rue du Commerce",
    "Kerkstraat",
];

/// Relative weights of delivery countries (by PrestaShop id).
const COUNTRY_WEIGHTS: &[(u64, u32)] = &[
    (8, 62),
    (1, 6),
    (3, 5),
    (6, 4),
    (10, 4),
    (13, 2),
    (12, 1),
    (15, 1),
    (2, 1),
    (17, 5),
    (19, 2),
    (21, 5),
    (4, 2),
];

/// A customer as orders need it.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: u64,
    pub shop: u32,
    pub lang: u32,
    pub secure_key: String,
    /// Creation instant (unix seconds).
    pub created: i64,
    /// Address ids with their country.
    pub addresses: Vec<(u64, &'static Country)>,
}

/// The generated customers, in id (and creation) order.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub list: Vec<Person>,
    /// Customers deleted after their orders were placed (about 2 %).
    pub doomed: BTreeSet<u64>,
}

/// A 32-hex-digit key like PrestaShop's md5 secure keys.
pub fn secure_key(rng: &mut impl Rng) -> String {
    format!("{:016x}{:016x}", rng.gen::<u64>(), rng.gen::<u64>())
}

/// Picks a country by the weights above.
pub fn pick_country(rng: &mut impl Rng) -> &'static Country {
    let total: u32 = COUNTRY_WEIGHTS.iter().map(|w| w.1).sum();
    let mut x = rng.gen_range(0..total);
    for &(id, w) in COUNTRY_WEIGHTS {
        if x < w {
            return COUNTRIES
                .iter()
                .find(|c| c.id == id)
                .expect("weighted country exists");
        }
        x -= w;
    }
    &COUNTRIES[0]
}

/// ASCII e-mail part of a name (`Müller` → `muller`, `O'Brien` → `obrien`).
fn mail_part(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'ễ' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' | 'ø' | 'Ø' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Writes `count` customers (about 15 % guests) with one or two addresses each.
pub fn write(store: &mut Store, ctx: &Ctx, count: u32, rng: &mut ChaCha8Rng) -> People {
    let mut people = People::default();
    let mut next_address = 1u64;
    let span = ctx.now - 3_600 - (ctx.start - 60 * 86_400);
    for id in 1..=count as u64 {
        let created = ctx.start - 60 * 86_400
            + span * (id as i64 - 1) / count.max(1) as i64
            + rng.gen_range(0..600);
        let person = write_customer(store, ctx, id, created, rng, &mut next_address);
        people.list.push(person);
    }
    if count >= 3 {
        let mut ids: Vec<u64> = (1..=count as u64).collect();
        ids.shuffle(rng);
        let n = (count as usize * 2 / 100).max(1);
        people.doomed = ids.into_iter().take(n).collect();
    }
    people
}

/// Writes one customer and their addresses, created at `created` (unix seconds).
pub fn write_customer(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    created: i64,
    rng: &mut impl Rng,
    next_address: &mut u64,
) -> Person {
    let first = *FIRST_NAMES.choose(rng).expect("names");
    let last = *LAST_NAMES.choose(rng).expect("names");
    let guest = rng.gen_bool(0.15);
    let shop = if ctx.shops.len() > 1 && rng.gen_bool(0.4) {
        *ctx.shops.choose(rng).expect("shops")
    } else {
        1
    };
    let lang = *ctx.langs.choose(rng).expect("languages");
    let key = secure_key(rng);
    let updated = rng.gen_range(created..=ctx.now.max(created));
    let domain = ["example.org", "example.net", "mail.example.com"][(id % 3) as usize];
    let newsletter = rng.gen_bool(0.4);
    let birthday = if rng.gen_bool(0.5) {
        format!(
            "{}-{:02}-{:02}",
            rng.gen_range(1950..2005),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28)
        )
    } else {
        "0000-00-00".to_string()
    };
    let soft_deleted = id.is_multiple_of(211);
    let group = if guest { 2 } else { 3 };
    let groups: Vec<u64> = if !guest && id.is_multiple_of(10) {
        vec![1, 3]
    } else {
        vec![group]
    };
    let company = match id % 37 {
        0 => "Dupont & Fils".to_string(),
        7 => "Atelier <Nord>".to_string(),
        _ => String::new(),
    };
    let note = if id.is_multiple_of(53) {
        mess::note(id)
    } else {
        String::new()
    };
    let created_text = ctx.local(created);
    let mut b = RowBuilder::new("customers", id, &ctx.langs);
    b.int("id_default_group", group as i64)
        .int("id_lang", lang as i64)
        .string(
            "newsletter_date_add",
            if newsletter {
                created_text.clone()
            } else {
                NO_DATE.to_string()
            },
        )
        .text("ip_registration_newsletter", "")
        .string("last_passwd_gen", created_text.clone())
        .text("secure_key", &key)
        .flag("deleted", soft_deleted)
        .text(
            "passwd",
            if guest {
                ""
            } else {
                "$2y$10$TxRbBc12a1f6KVNnACBdAuban9mm3He2BX7ljmWmr0ziWOmgORF3W"
            },
        )
        .text("lastname", last)
        .text("firstname", first)
        .string(
            "email",
            format!("{}.{}.{id}@{domain}", mail_part(first), mail_part(last)),
        )
        .int("id_gender", rng.gen_range(1..=2))
        .string("birthday", birthday)
        .flag("newsletter", newsletter)
        .flag("optin", rng.gen_bool(0.2))
        .null("website")
        .text("company", &company)
        .null("siret")
        .null("ape")
        .money("outstanding_allow_amount", 0)
        .flag("show_public_prices", false)
        .int("id_risk", 0)
        .int("max_payment_days", 0)
        .flag("active", !soft_deleted)
        .string("note", note)
        .flag("is_guest", guest)
        .int("id_shop", shop as i64)
        .int("id_shop_group", shop_group(shop) as i64)
        .string("date_add", created_text.clone())
        .string("date_upd", ctx.local(updated))
        .null("reset_password_token")
        .null("reset_password_validity")
        .assoc_ids("groups", &groups);
    b.insert(store);

    let mut addresses = Vec::new();
    let n = if rng.gen_bool(0.25) { 2 } else { 1 };
    for k in 0..n {
        let country = pick_country(rng);
        let aid = *next_address;
        *next_address += 1;
        write_address(
            store,
            ctx,
            aid,
            id,
            first,
            last,
            country,
            k,
            &created_text,
            rng,
        );
        addresses.push((aid, country));
    }
    Person {
        id,
        shop,
        lang,
        secure_key: key,
        created,
        addresses,
    }
}

#[allow(clippy::too_many_arguments)]
fn write_address(
    store: &mut Store,
    ctx: &Ctx,
    id: u64,
    customer: u64,
    first: &str,
    last: &str,
    country: &Country,
    k: usize,
    date: &str,
    rng: &mut impl Rng,
) {
    let &(city, postcode, state) = country.cities.choose(rng).expect("cities");
    let street = STREETS.choose(rng).expect("streets");
    let address2 = if id.is_multiple_of(41) {
        mess::note(id)
    } else if rng.gen_bool(0.1) {
        "Apt 4B".to_string()
    } else {
        String::new()
    };
    let phone = format!(
        "+{} {:03} {:03} {:03}",
        country.call_prefix,
        rng.gen_range(100..999),
        rng.gen_range(100..999),
        rng.gen_range(100..999)
    );
    let mut b = RowBuilder::new("addresses", id, &ctx.langs);
    b.int("id_customer", customer as i64)
        .int("id_manufacturer", 0)
        .int("id_supplier", 0)
        .int("id_warehouse", 0)
        .int("id_country", country.id as i64)
        .int("id_state", state as i64)
        .text("alias", if k == 0 { "My address" } else { "Work" })
        .text("company", "")
        .text("lastname", last)
        .text("firstname", first)
        .text("vat_number", "")
        .string("address1", format!("{} {street}", rng.gen_range(1..200)))
        .string("address2", address2)
        .text("postcode", postcode)
        .text("city", city)
        .text(
            "other",
            if id.is_multiple_of(59) {
                "Digicode 4B\u{0b}2"
            } else {
                ""
            },
        )
        .string(
            "phone",
            if rng.gen_bool(0.5) {
                phone.clone()
            } else {
                String::new()
            },
        )
        .string(
            "phone_mobile",
            if rng.gen_bool(0.6) {
                phone
            } else {
                String::new()
            },
        )
        .text("dni", "")
        .flag("deleted", false)
        .text("date_add", date)
        .text("date_upd", date);
    b.insert(store);
}

/// Deletes customers as PrestaShop does when they have orders: the customer row goes,
/// their addresses stay, flagged deleted, because orders point at them.
pub fn delete_customers(store: &mut Store, ids: &BTreeSet<u64>) {
    if ids.is_empty() {
        return;
    }
    for id in ids {
        table(store, "customers").rows.remove(id);
    }
    let ar = schema("addresses");
    let (Some(ci), Some(di)) = (ar.field_index("id_customer"), ar.field_index("deleted")) else {
        return;
    };
    for row in table(store, "addresses").rows.values_mut() {
        if row.values[ci]
            .as_int()
            .is_some_and(|c| ids.contains(&(c as u64)))
        {
            row.values[di] = Value::of_kind(ar.fields[di].kind, "1", 1);
        }
    }
}
