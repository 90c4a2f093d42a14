//! A typed builder for Webservice reads: resource, id, display, filters, sort, limit, date,
//! language, shop, schema, plus raw parameters for what it does not know (`price[…]`, modules).
//!
//! Filter semantics follow PrestaShop's SQLUtils: `[a|b]` is a list (OR), `[a,b]` is an inclusive
//! range, `>[v]` / `<[v]` are strict, `![a|b]` excludes, `[v]%` / `%[v]` / `%[v]%` are LIKE.
//! PrestaShop has no escape syntax, so values that would change meaning (`|`, `,`, `[`, `]`, `%`)
//! are refused with an explanation instead of being sent.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::Error;

/// A resource name (`orders`, `order_details`, a module's `my_module_things`): lower-case ASCII
/// letters, digits and `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceName(String);

impl ResourceName {
    /// Parses a resource name.
    pub fn parse(name: &str) -> Result<ResourceName, Error> {
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if valid {
            Ok(ResourceName(name.to_owned()))
        } else {
            Err(Error::InvalidQuery {
                reason: format!(
                    "'{name}' is not a resource name (lower-case letters, digits and _ only)"
                ),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which fields to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Display {
    /// `display=full`: every field and association.
    Full,
    /// `display=[a,b,assoc[x,y]]`: the named fields (an association as `name[sub,…]`).
    Fields(Vec<String>),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `_ASC`.
    Asc,
    /// `_DESC`.
    Desc,
}

/// A filter on one field, with PrestaShop's semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `[v]`: equal.
    Equals(String),
    /// `[a|b|c]`: equal to any (a list, not a range).
    AnyOf(Vec<String>),
    /// `[a,b]`: between a and b inclusive (numbers and dates only).
    Between(String, String),
    /// `>[v]`: strictly greater.
    GreaterThan(String),
    /// `<[v]`: strictly less.
    LessThan(String),
    /// `![a|b]`: different from all.
    NoneOf(Vec<String>),
    /// `[v]%`: begins with.
    BeginsWith(String),
    /// `%[v]`: ends with.
    EndsWith(String),
    /// `%[v]%`: contains.
    Contains(String),
}

/// Which shop(s) a read applies to in a multistore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopScope {
    /// `id_shop=N`.
    Shop(u32),
    /// `id_shop=all`.
    All,
    /// `id_shop_group=N`.
    Group(u32),
}

/// `schema=blank` or `schema=synopsis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// An empty record template.
    Blank,
    /// The template with `required`, `format`, `maxSize`… attributes.
    Synopsis,
}

/// Which languages multilingual fields are returned in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Language {
    /// `language=N`.
    One(u32),
    /// `language=[1|3]`.
    AnyOf(Vec<u32>),
}

/// One Webservice read: `GET <resource>[/<id>]?…`, or the root listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    resource: Option<ResourceName>,
    id: Option<u64>,
    params: Vec<(String, String)>,
}

/// Characters that go percent-encoded in a parameter value. Brackets, `|`, `,`, `:` and `!`
/// stay readable (PrestaShop's own examples and logs show them raw).
const VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/');

impl Query {
    /// The root listing (`GET /api/`): resources and methods the key may use.
    pub fn root() -> Query {
        Query::default()
    }

    /// A list read of `resource` (ids only unless [`display`](Query::display) says otherwise).
    pub fn list(resource: &str) -> Result<Query, Error> {
        Ok(Query {
            resource: Some(ResourceName::parse(resource)?),
            ..Query::default()
        })
    }

    /// One record by id (`GET /api/orders/5`). Note: in 8.x JSON this drops falsy fields; a
    /// list read filtered on the id keeps them.
    pub fn one(resource: &str, id: u64) -> Result<Query, Error> {
        Ok(Query {
            resource: Some(ResourceName::parse(resource)?),
            id: Some(id),
            ..Query::default()
        })
    }

    /// The resource, `None` for the root listing.
    pub fn resource(&self) -> Option<&ResourceName> {
        self.resource.as_ref()
    }

    /// The record id, for a single read.
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// The parameters in the order they are sent (names and values unencoded).
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// `display=full` or `display=[…]`. Field names are checked (letters, digits, `_`, and one
    /// level of `assoc[sub,…]`).
    pub fn display(mut self, display: Display) -> Result<Query, Error> {
        let value = match display {
            Display::Full => "full".to_owned(),
            Display::Fields(fields) => {
                if fields.is_empty() {
                    return Err(invalid("display needs at least one field"));
                }
                for field in &fields {
                    check_display_field(field)?;
                }
                format!("[{}]", fields.join(","))
            }
        };
        self.set("display", value);
        Ok(self)
    }

    /// Adds `filter[field]=…`. A second filter on the same field replaces the first.
    pub fn filter(mut self, field: &str, filter: Filter) -> Result<Query, Error> {
        check_field(field)?;
        let value = match &filter {
            Filter::Equals(v) => format!("[{}]", single(field, v)?),
            Filter::AnyOf(values) => format!("[{}]", list(field, values)?),
            Filter::NoneOf(values) => format!("![{}]", list(field, values)?),
            Filter::Between(a, b) => {
                let (a, b) = (single(field, a)?, single(field, b)?);
                for v in [a, b] {
                    if !v.chars().all(|c| c.is_ascii_digit() || ".:- ".contains(c)) || v.is_empty()
                    {
                        return Err(invalid(format!(
                            "filter on '{field}': a range works only on numbers and dates, '{v}' is neither"
                        )));
                    }
                }
                format!("[{a},{b}]")
            }
            Filter::GreaterThan(v) => format!(">[{}]", single(field, v)?),
            Filter::LessThan(v) => format!("<[{}]", single(field, v)?),
            Filter::BeginsWith(v) => format!("[{}]%", single(field, v)?),
            Filter::EndsWith(v) => format!("%[{}]", single(field, v)?),
            Filter::Contains(v) => format!("%[{}]%", single(field, v)?),
        };
        self.set(&format!("filter[{field}]"), value);
        Ok(self)
    }

    /// Adds a sort key (`sort=[a_ASC,b_DESC]`); keys accumulate in order.
    pub fn sort(mut self, field: &str, direction: Direction) -> Result<Query, Error> {
        check_field(field)?;
        let key = format!(
            "{field}_{}",
            match direction {
                Direction::Asc => "ASC",
                Direction::Desc => "DESC",
            }
        );
        let value = match self.get("sort") {
            Some(existing) => format!("{},{key}]", existing.trim_end_matches(']')),
            None => format!("[{key}]"),
        };
        self.set("sort", value);
        Ok(self)
    }

    /// `limit=offset,count` (`limit=count` when the offset is 0).
    pub fn limit(mut self, offset: u64, count: u64) -> Query {
        let value = if offset == 0 {
            count.to_string()
        } else {
            format!("{offset},{count}")
        };
        self.set("limit", value);
        self
    }

    /// `date=1`: needed to filter or sort on `date_add` / `date_upd`.
    pub fn with_dates(mut self) -> Query {
        self.set("date", "1".into());
        self
    }

    /// `language=N` or `language=[a|b]`.
    pub fn language(mut self, language: Language) -> Query {
        let value = match language {
            Language::One(id) => id.to_string(),
            Language::AnyOf(ids) => format!(
                "[{}]",
                ids.iter().map(u32::to_string).collect::<Vec<_>>().join("|")
            ),
        };
        self.set("language", value);
        self
    }

    /// `id_shop=N`, `id_shop=all` or `id_shop_group=N`.
    pub fn shop(mut self, scope: ShopScope) -> Query {
        match scope {
            ShopScope::Shop(id) => self.set("id_shop", id.to_string()),
            ShopScope::All => self.set("id_shop", "all".into()),
            ShopScope::Group(id) => self.set("id_shop_group", id.to_string()),
        }
        self
    }

    /// `schema=blank` or `schema=synopsis`.
    pub fn schema(mut self, schema: Schema) -> Query {
        let value = match schema {
            Schema::Blank => "blank",
            Schema::Synopsis => "synopsis",
        };
        self.set("schema", value.into());
        self
    }

    /// Any other parameter, sent as given (encoded): `price[p][use_tax]`, module parameters.
    /// The client's own parameters (`ws_key`, `output_format`, `io_format`, `url`) are refused.
    pub fn param(mut self, name: &str, value: &str) -> Result<Query, Error> {
        let reserved = ["ws_key", "output_format", "io_format", "url", "ps_method"];
        if name.is_empty() || reserved.iter().any(|r| name.eq_ignore_ascii_case(r)) {
            return Err(invalid(format!(
                "parameter '{name}' is set by the client itself, not by a query"
            )));
        }
        if name.contains(['&', '=', '#']) || name.chars().any(char::is_control) {
            return Err(invalid(format!("'{name}' is not a parameter name")));
        }
        self.set(name, value.into());
        Ok(self)
    }

    /// The path below `/api/` (`orders`, `orders/5`, or empty for the root listing).
    pub fn path(&self) -> String {
        match (&self.resource, self.id) {
            (None, _) => String::new(),
            (Some(r), None) => r.to_string(),
            (Some(r), Some(id)) => format!("{r}/{id}"),
        }
    }

    /// The encoded query string of this query's parameters (without `?`).
    pub fn encoded_params(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: String) {
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.params.push((name.to_owned(), value)),
        }
    }
}

/// Percent-encodes a parameter name or value the way the Webservice expects it.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, VALUE).to_string()
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidQuery {
        reason: reason.into(),
    }
}

fn check_field(field: &str) -> Result<(), Error> {
    let ok = !field.is_empty()
        && field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "'{field}' is not a field name (letters, digits and _ only)"
        )))
    }
}

fn check_display_field(field: &str) -> Result<(), Error> {
    match field.split_once('[') {
        None => check_field(field),
        Some((association, rest)) => {
            check_field(association)?;
            let inner = rest
                .strip_suffix(']')
                .ok_or_else(|| invalid(format!("display field '{field}' lacks its closing ]")))?;
            for sub in inner.split(',') {
                check_field(sub)?;
            }
            Ok(())
        }
    }
}

/// A value inside one pair of brackets: nothing PrestaShop would read as syntax.
fn single<'a>(field: &str, value: &'a str) -> Result<&'a str, Error> {
    if let Some(c) = value.chars().find(|c| "|,[]%".contains(*c)) {
        return Err(invalid(format!(
            "filter on '{field}': the value '{value}' contains '{c}', which PrestaShop reads as filter \
             syntax and cannot escape; filter on a shorter value without it"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "filter on '{field}': the value contains a control character"
        )));
    }
    Ok(value)
}

fn list(field: &str, values: &[String]) -> Result<String, Error> {
    if values.is_empty() {
        return Err(invalid(format!(
            "filter on '{field}': a list filter needs at least one value"
        )));
    }
    let checked = values
        .iter()
        .map(|v| single(field, v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(checked.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builds_the_recorded_queries() {
        let q = Query::list("orders")
            .unwrap()
            .display(Display::Fields(vec![
                "id".into(),
                "reference".into(),
                "date_upd".into(),
            ]))
            .unwrap()
            .with_dates()
            .sort("date_upd", Direction::Asc)
            .unwrap()
            .filter(
                "date_upd",
                Filter::Between("2026-01-01 00:00:00".into(), "2026-01-31 23:59:59".into()),
            )
            .unwrap();
        assert_eq!(
            q.encoded_params(),
            "display=[id,reference,date_upd]&date=1&sort=[date_upd_ASC]&filter[date_upd]=[2026-01-01%2000:00:00,2026-01-31%2023:59:59]"
        );
        let q = Query::list("orders")
            .unwrap()
            .filter("current_state", Filter::AnyOf(vec!["4".into(), "6".into()]))
            .unwrap()
            .sort("current_state", Direction::Asc)
            .unwrap()
            .sort("id", Direction::Desc)
            .unwrap()
            .limit(10, 3);
        assert_eq!(
            q.encoded_params(),
            "filter[current_state]=[4|6]&sort=[current_state_ASC,id_DESC]&limit=10,3"
        );
        let q = Query::list("customers")
            .unwrap()
            .filter("email", Filter::Contains("obrien".into()))
            .unwrap()
            .filter("id", Filter::GreaterThan("5".into()))
            .unwrap()
            .language(Language::AnyOf(vec![1, 3]))
            .shop(ShopScope::All)
            .schema(Schema::Synopsis);
        assert_eq!(
            q.encoded_params(),
            "filter[email]=%25[obrien]%25&filter[id]=%3E[5]&language=[1|3]&id_shop=all&schema=synopsis"
        );
        assert_eq!(Query::one("orders", 5).unwrap().path(), "orders/5");
        assert_eq!(Query::root().path(), "");
    }

    #[test]
    fn refuses_what_prestashop_would_misread() {
        let q = || Query::list("orders").unwrap();
        let msg = |r: Result<Query, Error>| r.unwrap_err().to_string();
        assert!(msg(q().filter("reference", Filter::Equals("A|B".into()))).contains("'|'"));
        assert!(msg(q().filter("reference", Filter::Equals("A,B".into()))).contains("','"));
        assert!(
            msg(q().filter("id", Filter::Between("a".into(), "b".into())))
                .contains("numbers and dates")
        );
        assert!(msg(q().filter("id", Filter::AnyOf(vec![]))).contains("at least one"));
        assert!(msg(q().filter("id;drop", Filter::Equals("1".into()))).contains("not a field"));
        assert!(msg(q().param("ws_key", "x")).contains("client itself"));
        assert!(msg(Query::list("Orders")).contains("not a resource"));
        assert!(msg(q().display(Display::Fields(vec!["a[b".into()]))).contains("closing"));
    }

    proptest! {
        #[test]
        fn any_accepted_value_round_trips_through_encoding(value in "\\PC{0,20}") {
            let q = Query::list("orders").unwrap();
            if let Ok(q) = q.filter("reference", Filter::Equals(value.clone())) {
                let encoded = q.encoded_params();
                let raw = encoded.strip_prefix("filter[reference]=").unwrap();
                let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().unwrap();
                prop_assert_eq!(decoded, format!("[{value}]"));
                prop_assert!(!raw.contains('&') && !raw.contains('#') && !raw.contains(' '));
            }
        }
    }
}
