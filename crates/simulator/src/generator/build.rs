//! Building rows by field name, and the number and date formats PrestaShop stores.
//!
//! The generator and churn write fields by their names so they do not depend on the
//! order or the JSON kind of a field in [`crate::resources`]: the builder converts a
//! value to the field's [`Kind`] (an `Int` field gets a number, a `Str` field its text, a
//! `Lang` field one translation per installed language).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use crate::resources::{resource, RESOURCES};
use crate::schema::{Kind, Resource};
use crate::store::{Row, Store, Table, Value};

/// PrestaShop's "unset" date-time.
pub const NO_DATE: &str = "0000-00-00 00:00:00";
/// PrestaShop's "unset" date.
pub const NO_DAY: &str = "0000-00-00";

/// Fields the generator tried to set that the resource tables do not have, as
/// `resource.field`. Filled instead of panicking so that one missing field in
/// [`crate::resources`] cannot break every test of the workspace; a test asserts it stays empty.
static MISSING: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();

fn note_missing(resource: &str, field: &str) {
    let set = MISSING.get_or_init(|| Mutex::new(BTreeSet::new()));
    if let Ok(mut set) = set.lock() {
        set.insert(format!("{resource}.{field}"));
    }
}

/// Fields the generator wrote that the resource schemas lack (see [`MISSING`]).
#[cfg(test)]
pub fn missing_fields() -> Vec<String> {
    MISSING
        .get()
        .and_then(|m| m.lock().ok().map(|s| s.iter().cloned().collect()))
        .unwrap_or_default()
}

/// The schema of a resource the generator writes; panics on an unknown name (a generator bug).
pub fn schema(name: &str) -> &'static Resource {
    static BY_NAME: OnceLock<HashMap<&'static str, &'static Resource>> = OnceLock::new();
    let map = BY_NAME.get_or_init(|| RESOURCES.iter().map(|r| (r.name, r)).collect());
    map.get(name)
        .copied()
        .or_else(|| resource(name))
        .unwrap_or_else(|| panic!("no resource named {name}"))
}

/// The table of a resource, created empty on first use.
pub fn table<'s>(store: &'s mut Store, name: &str) -> &'s mut Table {
    let res = schema(name);
    store
        .tables
        .entry(res.name)
        .or_insert_with(|| Table::new(res))
}

/// Prefix of translated text in a language (`[FR] ` for French, as in the recordings).
pub fn lang_prefix(lang: u32) -> &'static str {
    match lang {
        1 => "",
        2 => "[FR] ",
        3 => "[ES] ",
        4 => "[DE] ",
        5 => "[IT] ",
        _ => "[XX] ",
    }
}

/// Fills one row by field names. Setting fields in schema order is fastest: the lookup
/// starts after the last field set.
pub struct RowBuilder<'l> {
    res: &'static Resource,
    row: Row,
    cursor: usize,
    langs: &'l [u32],
}

/// A value given to an association entry, converted to the entry field's kind.
#[derive(Debug, Clone)]
pub enum Av {
    I(i64),
    S(String),
}

impl<'l> RowBuilder<'l> {
    /// An empty row of `resource` with the given id.
    pub fn new(resource: &str, id: u64, langs: &'l [u32]) -> Self {
        let res = schema(resource);
        RowBuilder {
            res,
            row: Row::empty(res, id, langs.len()),
            cursor: 0,
            langs,
        }
    }

    /// Continue filling an existing row.
    pub fn edit(resource: &str, row: Row, langs: &'l [u32]) -> Self {
        RowBuilder {
            res: schema(resource),
            row,
            cursor: 0,
            langs,
        }
    }

    fn index(&mut self, name: &str) -> Option<usize> {
        let fields = self.res.fields;
        let n = fields.len();
        for k in 0..n {
            let i = (self.cursor + k) % n;
            if fields[i].name == name {
                self.cursor = i + 1;
                return Some(i);
            }
        }
        note_missing(self.res.name, name);
        None
    }

    fn put(&mut self, name: &str, make: impl FnOnce(Kind, usize) -> Value) -> &mut Self {
        if let Some(i) = self.index(name) {
            let kind = self.res.fields[i].kind;
            self.row.values[i] = make(kind, self.langs.len());
        }
        self
    }

    /// Text; a multilingual field gets it translated (`[FR] text` in French).
    pub fn text(&mut self, name: &str, text: &str) -> &mut Self {
        let langs = self.langs;
        self.put(name, |kind, n| match kind {
            Kind::Lang => Value::Lang(langs.iter().map(|&l| translate(l, text)).collect()),
            _ => Value::of_kind(kind, text, n),
        })
    }

    /// Owned text for a single-language field (avoids a copy on hot paths).
    pub fn string(&mut self, name: &str, text: String) -> &mut Self {
        self.put(name, |kind, n| match kind {
            Kind::Str => Value::Str(text),
            _ => Value::of_kind(kind, &text, n),
        })
    }

    /// The same text in every language (symbols, templates, empty values).
    pub fn same(&mut self, name: &str, text: &str) -> &mut Self {
        self.put(name, |kind, n| Value::of_kind(kind, text, n))
    }

    /// A URL slug: `fr-slug` in French, as PrestaShop's translated link_rewrite.
    pub fn slug(&mut self, name: &str, slug: &str) -> &mut Self {
        let langs = self.langs;
        self.put(name, |kind, n| match kind {
            Kind::Lang => Value::Lang(
                langs
                    .iter()
                    .map(|&l| match l {
                        1 => slug.to_string(),
                        _ => format!("{}-{slug}", lang_code(l)),
                    })
                    .collect(),
            ),
            _ => Value::of_kind(kind, slug, n),
        })
    }

    /// SQL NULL (e.g. `customers.website` when never set).
    pub fn null(&mut self, name: &str) -> &mut Self {
        self.put(name, |_, _| Value::Null)
    }

    /// An integer (a string of it for a text field).
    pub fn int(&mut self, name: &str, v: i64) -> &mut Self {
        self.put(name, |kind, n| match kind {
            Kind::Int => Value::Int(v),
            Kind::Str => Value::Str(v.to_string()),
            Kind::Lang => Value::of_kind(kind, &v.to_string(), n),
        })
    }

    /// A flag of an object PrestaShop had already loaded (and typed) before the Webservice
    /// rendered it: a JSON number even in a text field, where rows read from the database
    /// render `"1"`/`"0"` (on a real 8.1.2, group 1's `show_prices` is `1`, the others `"1"`).
    pub fn cached_flag(&mut self, name: &str, on: bool) -> &mut Self {
        self.put(name, |_, _| Value::Int(i64::from(on)))
    }

    /// A value as PrestaShop's getter returns it, whatever the field's kind (a product
    /// without a cover has `id_default_image` `""`, where a cover's id is an int).
    pub fn value(&mut self, name: &str, v: Value) -> &mut Self {
        self.put(name, |_, _| v)
    }

    /// An amount in millionths, written `%.6f` as PrestaShop stores decimals.
    pub fn money(&mut self, name: &str, micros: i64) -> &mut Self {
        self.string(name, money(micros))
    }

    /// A boolean flag: `"1"`/`"0"` (or 1/0 for an integer field).
    pub fn flag(&mut self, name: &str, on: bool) -> &mut Self {
        self.int(name, i64::from(on))
    }

    /// An association's entries, each given by entry field name.
    pub fn assoc(&mut self, name: &str, entries: &[&[(&str, Av)]]) -> &mut Self {
        let Some(ai) = self.res.association_index(name) else {
            note_missing(self.res.name, name);
            return self;
        };
        let fields = self.res.associations[ai].fields;
        self.row.assocs[ai] = entries
            .iter()
            .map(|entry| {
                fields
                    .iter()
                    .map(|f| {
                        let given = entry.iter().find(|(n, _)| *n == f.name).map(|(_, v)| v);
                        match (given, f.kind) {
                            (Some(Av::I(i)), Kind::Int) => Value::Int(*i),
                            (Some(Av::I(i)), _) => Value::Str(i.to_string()),
                            (Some(Av::S(s)), kind) => Value::of_kind(kind, s, 1),
                            (None, kind) => Value::empty(kind, 1),
                        }
                    })
                    .collect()
            })
            .collect();
        self
    }

    /// An association whose entries are ids only (`categories`, `groups`, …).
    pub fn assoc_ids(&mut self, name: &str, ids: &[u64]) -> &mut Self {
        let entries: Vec<[(&str, Av); 1]> =
            ids.iter().map(|&id| [("id", Av::I(id as i64))]).collect();
        let refs: Vec<&[(&str, Av)]> = entries.iter().map(|e| &e[..]).collect();
        self.assoc(name, &refs)
    }

    /// Shops the row is associated with (`<table>_shop`).
    pub fn shops(&mut self, shops: &[u32]) -> &mut Self {
        self.row.shops = shops.to_vec();
        self
    }

    /// The finished row.
    pub fn row(self) -> Row {
        self.row
    }

    /// Insert the row into its table (replacing a row with the same id).
    pub fn insert(self, store: &mut Store) -> u64 {
        let id = self.row.id;
        let name = self.res.name;
        table(store, name).rows.insert(id, self.row);
        id
    }
}

/// ISO code used in translated slugs.
fn lang_code(lang: u32) -> &'static str {
    match lang {
        2 => "fr",
        3 => "es",
        4 => "de",
        5 => "it",
        _ => "xx",
    }
}

/// Text as shown in a language: English as is, others prefixed like the recordings.
pub fn translate(lang: u32, text: &str) -> String {
    if text.is_empty() || lang == 1 {
        return text.to_string();
    }
    let mut s = String::with_capacity(text.len() + 5);
    s.push_str(lang_prefix(lang));
    s.push_str(text);
    s
}

/// `%.6f` of an amount held in millionths (PrestaShop's decimal(20,6)).
pub fn money(micros: i64) -> String {
    let mut s = String::with_capacity(14);
    if micros < 0 {
        s.push('-');
    }
    let a = micros.unsigned_abs();
    let _ = write!(s, "{}.{:06}", a / 1_000_000, a % 1_000_000);
    s
}

/// Parses a decimal string (`"106.440000"`, `"-3.5"`) into millionths; bad text is 0.
pub fn parse_money(text: &str) -> i64 {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let whole: i64 = int.parse().unwrap_or(0);
    // Six decimals, padded with zeros, extra ones truncated.
    let f = frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(6)
        .fold(0i64, |f, c| f * 10 + c.to_digit(10).unwrap_or(0) as i64);
    let v = whole * 1_000_000 + f;
    if neg {
        -v
    } else {
        v
    }
}

/// Rounds millionths to cents, half away from zero (PrestaShop's PS_ROUND_HALF_UP).
pub fn round2(micros: i64) -> i64 {
    let sign = micros.signum();
    let a = micros.abs();
    sign * ((a + 5_000) / 10_000 * 10_000)
}

/// Applies a tax rate given in thousandths of a percent (20 % = 20_000) to an amount.
pub fn with_tax(micros: i64, rate_milli: i64) -> i64 {
    let num = micros as i128 * (100_000 + rate_milli as i128);
    ((num + 50_000) / 100_000) as i64
}

/// Multiplies an amount by a rate given in millionths (conversion rates), rounded to 1e-6.
pub fn convert(micros: i64, rate_micros: i64) -> i64 {
    ((micros as i128 * rate_micros as i128 + 500_000) / 1_000_000) as i64
}

/// A tax rate as PrestaShop renders it (`"20.000"`).
pub fn rate_text(rate_milli: i64) -> String {
    format!("{}.{:03}", rate_milli / 1000, rate_milli % 1000)
}

/// `YYYY-MM-DD HH:MM:SS` of a shop-local date-time.
pub fn fmt_local(t: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    let mut s = String::with_capacity(19);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    s
}

/// Shop-local text of a UTC instant (unix seconds) in the shop's time zone.
pub fn fmt_instant(tz: &Tz, secs: i64) -> String {
    match tz.timestamp_opt(secs, 0) {
        chrono::LocalResult::Single(t) => fmt_local(t.naive_local()),
        chrono::LocalResult::Ambiguous(t, _) => fmt_local(t.naive_local()),
        chrono::LocalResult::None => NO_DATE.to_string(),
    }
}

/// Parses PrestaShop's date-time text (`None` for `0000-00-00 00:00:00` or garbage).
#[cfg(test)]
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}

/// Reads a named field of a row as text (empty when the schema lacks it).
pub fn get_text<'r>(row: &'r Row, resource: &Resource, field: &str) -> std::borrow::Cow<'r, str> {
    row.get(resource, field)
        .map(Value::as_text)
        .unwrap_or(std::borrow::Cow::Borrowed(""))
}

/// Reads a named field of a row as an integer (0 when absent or not a number).
pub fn get_int(row: &Row, resource: &Resource, field: &str) -> i64 {
    row.get(resource, field)
        .and_then(Value::as_int)
        .unwrap_or(0)
}

/// Reads a named money field of a row, in millionths.
pub fn get_money(row: &Row, resource: &Resource, field: &str) -> i64 {
    parse_money(&get_text(row, resource, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_and_parses_six_decimals() {
        assert_eq!(money(106_440_000), "106.440000");
        assert_eq!(money(-5_000), "-0.005000");
        assert_eq!(parse_money("106.44"), 106_440_000);
        assert_eq!(parse_money("-0.005000"), -5_000);
        assert_eq!(parse_money("x"), 0);
    }

    #[test]
    fn rounding_is_half_up_to_cents() {
        assert_eq!(round2(37_085_000), 37_090_000);
        assert_eq!(round2(37_084_999), 37_080_000);
        assert_eq!(round2(-37_085_000), -37_090_000);
        assert_eq!(with_tax(30_900_000, 20_000), 37_080_000);
        assert_eq!(rate_text(5_500), "5.500");
        assert_eq!(convert(10_000_000, 1_080_000), 10_800_000);
    }

    #[test]
    fn translation_prefixes_other_languages() {
        assert_eq!(translate(1, "Shirt"), "Shirt");
        assert_eq!(translate(2, "Shirt"), "[FR] Shirt");
        assert_eq!(translate(2, ""), "");
    }
}
