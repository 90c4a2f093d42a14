//! Lists: WebserviceRequest::manageFilters (schema, filters, display, sort, limit, checked in
//! that order) and the SQL it builds, executed over a table's rows.

use std::cmp::Ordering;

use super::display::{Display, Selection};
use super::filter::{looks_numeric, mysql_number, Cond};
use super::params::{php_int, Language, Params};
use crate::errors::PsError;
use crate::schema::{Kind, Resource};
use crate::store::{Row, Table, Value};

/// Which schema a `schema=` parameter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Every field empty, `id` included.
    Blank,
    /// Field attributes (`required`, `maxSize`, `format`…), no `id`.
    Synopsis,
}

/// A validated list request.
#[derive(Debug, Clone)]
pub enum Plan {
    /// `schema=blank|synopsis`: no filtering at all.
    Schema(Schema),
    /// Filter, sort, page and render with `display`.
    List(ListPlan),
}

/// The parts of a list request once validated.
#[derive(Debug, Clone)]
pub struct ListPlan {
    /// Per filter: the field (`None` = `id`) and its condition.
    pub filters: Vec<(FieldRef, Cond)>,
    /// Fields and associations to render.
    pub display: Display,
    /// ORDER BY keys with `true` for ascending.
    pub sort: Vec<(FieldRef, bool)>,
    /// `(offset, count)`; `None` = no LIMIT.
    pub limit: Option<(usize, Option<usize>)>,
}

/// A field of the resource, or its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRef {
    /// The record id.
    Id,
    /// A field, by index in the resource's fields.
    Field(usize),
}

/// Validates a list request in PrestaShop's order. Errors are returned as PrestaShop
/// stacks them (without the PHP warnings that follow, which the caller adds).
pub fn plan(resource: &Resource, params: &Params) -> Result<Plan, PsError> {
    let available = available_filters(resource, params.date);
    if let Some(schema) = params.schema {
        return match schema {
            "blank" => Ok(Plan::Schema(Schema::Blank)),
            "synopsis" => Ok(Plan::Schema(Schema::Synopsis)),
            _ => Err(PsError::new(
                28,
                "Please select a schema of type 'synopsis' to get the whole schema informations (which fields are required, which kind of content...) or 'blank' to get an empty schema to fill before using POST request",
            )),
        };
    }
    let mut filters = Vec::new();
    for f in &params.filters {
        if f.field == "sort" || f.field == "limit" {
            continue;
        }
        let is_available = available.contains(&f.field);
        let lang_field = resource
            .field_index(f.field)
            .filter(|&i| resource.fields[i].kind == Kind::Lang);
        if !is_available {
            match (f.value, lang_field) {
                (Some(v), Some(i)) if !v.is_empty() => {
                    filters.push((FieldRef::Field(i), Cond::parse(v)));
                    continue;
                }
                (None, _) => {
                    return Err(PsError::new(
                        31,
                        "There is no existing linked table for this resource",
                    ))
                }
                _ => {
                    return Err(did_you_mean(
                        "This filter does not exist",
                        f.field,
                        &available,
                        32,
                    ))
                }
            }
        }
        let Some(value) = f.value else {
            // A nested value on a known field: PrestaShop builds no usable condition.
            continue;
        };
        if value.is_empty() {
            return Err(PsError::new(
                33,
                format!("The filter \"{}\" is malformed.", f.field),
            ));
        }
        let field = field_ref(resource, f.field);
        if let FieldRef::Field(i) = field {
            if resource.fields[i].not_filterable {
                return Err(PsError::new(
                    34,
                    format!(
                        "The field \"{}\" is dynamic. It is not possible to filter GET query with this field.",
                        f.field
                    ),
                ));
            }
        }
        filters.push((field, Cond::parse(value)));
    }
    let display = match params.display {
        Some(d) => Display::parse(d, resource)?,
        None => Display::Minimal,
    };
    let sort = match params.sort {
        Some(s) => parse_sort(s, resource, &available)?,
        None => Vec::new(),
    };
    let limit = match params.limit {
        Some(l) => Some(parse_limit(l)?),
        None => None,
    };
    Ok(Plan::List(ListPlan {
        filters,
        display,
        sort,
        limit,
    }))
}

/// Filterable (and sortable) non-multilingual fields: `id` and every field, without
/// `date_add`/`date_upd` unless `date=1`.
fn available_filters(resource: &Resource, date: bool) -> Vec<&'static str> {
    let mut out = vec!["id"];
    for f in resource.fields {
        if f.kind == Kind::Lang || (!date && matches!(f.name, "date_add" | "date_upd")) {
            continue;
        }
        out.push(f.name);
    }
    out
}

fn field_ref(resource: &Resource, name: &str) -> FieldRef {
    match resource.field_index(name) {
        Some(i) => FieldRef::Field(i),
        None => FieldRef::Id,
    }
}

/// `sort=f_ASC` or `sort=[f1_ASC,f2_DESC]`, split on the last `_`.
fn parse_sort(
    value: &str,
    resource: &Resource,
    available: &[&str],
) -> Result<Vec<(FieldRef, bool)>, PsError> {
    let inner = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) if !value.contains('\n') => inner,
        _ => value,
    };
    let i18n: Vec<&str> = resource
        .fields
        .iter()
        .filter(|f| f.kind == Kind::Lang)
        .map(|f| f.name)
        .collect();
    let mut out = Vec::new();
    for part in inner.split(',') {
        let split = part
            .rfind('_')
            .map(|i| (&part[..i], part[i + 1..].to_uppercase()));
        let Some((name, dir)) = split.filter(|(_, d)| d == "ASC" || d == "DESC") else {
            return Err(PsError::new(
                37,
                "The \"sort\" value has to be formed as this example: \"field_ASC\" or '[field_1_DESC,field_2_ASC,field_3_ASC,...]' (\"field\" has to be an available field)",
            ));
        };
        if !available.contains(&name) && !i18n.contains(&name) {
            return Err(PsError::new(
                38,
                format!(
                    "Unable to filter by this field. However, these are available: {}, for i18n fields:{}",
                    available.join(", "),
                    i18n.join(", ")
                ),
            ));
        }
        out.push((field_ref(resource, name), dir == "ASC"));
    }
    Ok(out)
}

/// `limit=N` or `limit=offset,N`, each read with PHP's `(int)`.
fn parse_limit(value: &str) -> Result<(usize, Option<usize>), PsError> {
    let parts: Vec<&str> = value.split(',').collect();
    if parts.len() > 2 {
        return Err(PsError::new(
            39,
            "The \"limit\" value has to be formed as this example: \"5,25\" or \"10\"",
        ));
    }
    let n = |s: &str| usize::try_from(php_int(s).max(0)).unwrap_or(0);
    Ok(match parts.as_slice() {
        [count] => (0, Some(n(count))),
        [offset, count] => (n(offset), Some(n(count))),
        _ => (0, None),
    })
}

/// `setErrorDidYouMean`: the message, the closest candidate and the full list.
pub fn did_you_mean(label: &str, value: &str, candidates: &[&str], code: u32) -> PsError {
    let mut message = format!("{label}. Did you mean: \"{}\"?", closest(value, candidates));
    if candidates.len() > 1 {
        message.push_str(" The full list is: \"");
        message.push_str(&candidates.join("\", \""));
        message.push('"');
    }
    PsError::new(code, message)
}

/// WebserviceRequest::getClosest: smallest Levenshtein distance, ties going to the later
/// candidate, an exact match winning at once.
fn closest<'a>(input: &str, candidates: &[&'a str]) -> &'a str {
    let mut best = "";
    let mut shortest: isize = -1;
    for &word in candidates {
        let lev = levenshtein(input.as_bytes(), word.as_bytes()) as isize;
        if lev == 0 {
            return word;
        }
        if lev <= shortest || shortest < 0 {
            best = word;
            shortest = lev;
        }
    }
    best
}

/// Byte-wise Levenshtein distance, as PHP's `levenshtein()` computes it.
fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Runs a list plan over the rows visible in the shop context, in MySQL's order.
pub fn select<'t>(
    table: &'t Table,
    plan: &ListPlan,
    languages: &[Language],
    visible: impl Fn(&Row) -> bool,
) -> Vec<&'t Row> {
    let resource = table.resource;
    let keys = order_keys(resource, plan, table.rows.len());
    let (offset, count) = plan.limit.unwrap_or((0, None));
    let matching = table.rows.values().filter(|row| {
        visible(row)
            && plan
                .filters
                .iter()
                .all(|(field, cond)| matches_filter(resource, row, *field, cond, languages))
    });
    let take = count.unwrap_or(usize::MAX);
    match keys.as_slice() {
        // Primary-key order (the BTreeMap's): page while scanning.
        [] | [(FieldRef::Id, true)] => return matching.skip(offset).take(take).collect(),
        [(FieldRef::Id, false)] => {
            let mut rows: Vec<&Row> = matching.collect();
            rows.reverse();
            return rows.into_iter().skip(offset).take(take).collect();
        }
        _ => {}
    }
    let rows: Vec<&Row> = matching.collect();
    let lang = languages.first().map_or(0, |l| l.index);
    let numeric: Vec<bool> = keys
        .iter()
        .map(|(field, _)| column_is_numeric(resource, &rows, *field))
        .collect();
    // One flat key table (row-major) and a permutation sorted over it.
    let width = keys.len();
    let mut table_keys: Vec<SortKey> = Vec::with_capacity(rows.len() * width);
    for row in &rows {
        for ((field, _), &num) in keys.iter().zip(&numeric) {
            table_keys.push(sort_key(row, *field, num, lang));
        }
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (
            &table_keys[a * width..][..width],
            &table_keys[b * width..][..width],
        );
        for (n, &(_, asc)) in keys.iter().enumerate() {
            let ord = ka[n].cmp(&kb[n]);
            if ord != Ordering::Equal {
                return if asc { ord } else { ord.reverse() };
            }
        }
        Ordering::Equal
    });
    order
        .into_iter()
        .skip(offset)
        .take(take)
        .map(|i| rows[i])
        .collect()
}

/// The ORDER BY of a plan: its `sort`, else the order MySQL reads rows in.
fn order_keys(resource: &Resource, plan: &ListPlan, rows: usize) -> Vec<(FieldRef, bool)> {
    if !plan.sort.is_empty() {
        return plan.sort.clone();
    }
    let indexed_filter = plan.filters.iter().find_map(|(field, _)| match field {
        FieldRef::Field(i) if filter_index(resource, resource.fields[*i].name) => Some(*i),
        _ => None,
    });
    match indexed_filter {
        Some(i) => vec![(FieldRef::Field(i), true)],
        None => natural_order(resource, rows)
            .iter()
            .filter_map(|name| resource.field_index(name))
            .map(|i| (FieldRef::Field(i), true))
            .collect(),
    }
}

/// One row's value for one ORDER BY key, ready to compare: NULL sorts first, numeric
/// columns as numbers, text by its case-folded, right-trimmed form.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum SortKey<'a> {
    Null,
    Num(f64),
    Text(std::borrow::Cow<'a, str>),
}

impl Eq for SortKey<'_> {}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.partial_cmp(other).unwrap_or(Ordering::Equal)
    }
}

/// Whether a column sorts numerically: integer columns, and text columns whose values
/// are all numbers (DECIMAL columns such as prices).
fn column_is_numeric(resource: &Resource, rows: &[&Row], field: FieldRef) -> bool {
    let FieldRef::Field(i) = field else {
        return true;
    };
    resource.fields[i].kind == Kind::Int
        || rows.iter().all(|row| match &row.values[i] {
            Value::Str(s) => looks_numeric(s),
            Value::Int(_) | Value::Null => true,
            Value::Lang(_) => false,
        })
}

fn sort_key(row: &Row, field: FieldRef, numeric: bool, lang: usize) -> SortKey<'_> {
    let FieldRef::Field(i) = field else {
        return SortKey::Num(row.id as f64);
    };
    let text: &str = match &row.values[i] {
        Value::Null => return SortKey::Null,
        Value::Int(n) => return SortKey::Num(*n as f64),
        Value::Str(s) => s,
        Value::Lang(values) => values.get(lang).map_or("", String::as_str),
    };
    if numeric {
        return SortKey::Num(mysql_number(text));
    }
    let trimmed = text.trim_end_matches(' ');
    let needs_folding = if trimmed.is_ascii() {
        trimmed.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        trimmed.chars().any(char::is_uppercase)
    };
    if needs_folding {
        SortKey::Text(std::borrow::Cow::Owned(trimmed.to_lowercase()))
    } else {
        SortKey::Text(std::borrow::Cow::Borrowed(trimmed))
    }
}

/// The order MySQL returns rows in without `ORDER BY`: the secondary index the optimizer
/// reads for `SELECT DISTINCT id` (as recorded on 8.1.2), then the primary key. Small
/// product and combination tables are read in primary-key order.
fn natural_order(resource: &Resource, rows: usize) -> &'static [&'static str] {
    match resource.name {
        "addresses" => &["id_customer"],
        "categories" => &["id_parent"],
        "customers" => &["id_shop", "date_add"],
        "order_histories" => &["id_order"],
        "order_payments" => &["order_reference"],
        "order_slip" => &["id_customer"],
        "order_states" => &["module_name"],
        "combinations" if rows >= 100 => &["id_product", "default_on"],
        "products" if rows >= 100 => &["id_category_default"],
        _ => &[],
    }
}

/// Indexed columns MySQL reads rows through when a filter is on them (rows then come in
/// that column's order), as recorded for `configurations.name`.
fn filter_index(resource: &Resource, field: &str) -> bool {
    matches!(
        (resource.name, field),
        ("configurations", "name") | ("countries", "iso_code")
    )
}

fn matches_filter(
    resource: &Resource,
    row: &Row,
    field: FieldRef,
    cond: &Cond,
    languages: &[Language],
) -> bool {
    match field {
        FieldRef::Id => cond.matches(&row.id.to_string(), true),
        FieldRef::Field(i) => match &row.values[i] {
            Value::Int(n) => cond.matches(&n.to_string(), true),
            Value::Str(s) => {
                cond.matches(s, resource.fields[i].kind == Kind::Int || looks_numeric(s))
            }
            // `col = "x"` is never true for NULL, `col != "x"` neither.
            Value::Null => false,
            Value::Lang(values) => languages
                .iter()
                .any(|l| values.get(l.index).is_some_and(|v| cond.matches(v, false))),
        },
    }
}

/// The selection a plan renders with, or `None` for ids only.
pub fn selection(display: &Display) -> Option<&Selection> {
    match display {
        Display::Minimal => None,
        Display::Fields(sel) => Some(sel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::resource;

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn plan_err(list: &[(&str, &str)]) -> PsError {
        let q = params(list);
        plan(resource("orders").unwrap(), &Params::parse(&q)).unwrap_err()
    }

    #[test]
    fn closest_prefers_the_later_tie_like_php() {
        assert_eq!(closest("nope", &["note", "node"]), "node");
        assert_eq!(closest("orders", &["orders", "order"]), "orders");
        assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
    }

    #[test]
    fn error_codes_in_check_order() {
        assert_eq!(plan_err(&[("schema", "x"), ("filter[nope]", "1")]).code, 28);
        assert_eq!(
            plan_err(&[("filter[nope]", "[1]"), ("display", "[x]")]).code,
            32
        );
        assert_eq!(plan_err(&[("filter[date_upd]", "[1]")]).code, 32);
        assert_eq!(plan_err(&[("filter[id]", "")]).code, 33);
        assert_eq!(plan_err(&[("filter[shipping_number]", "[1]")]).code, 34);
        assert_eq!(plan_err(&[("filter[x][y]", "1")]).code, 31);
        assert_eq!(plan_err(&[("display", "[nope]"), ("sort", "x")]).code, 35);
        assert_eq!(plan_err(&[("sort", "[id]")]).code, 37);
        assert_eq!(plan_err(&[("sort", "[id_UP]")]).code, 37);
        assert_eq!(plan_err(&[("sort", "[date_upd_ASC]")]).code, 38);
        assert_eq!(plan_err(&[("limit", "1,2,3")]).code, 39);
    }

    #[test]
    fn dates_need_date_1() {
        let q = params(&[
            ("date", "1"),
            ("filter[date_upd]", ">[2026-01-01]"),
            ("sort", "date_upd_DESC"),
        ]);
        assert!(plan(resource("orders").unwrap(), &Params::parse(&q)).is_ok());
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("5").unwrap(), (0, Some(5)));
        assert_eq!(parse_limit("10,3").unwrap(), (10, Some(3)));
        assert_eq!(parse_limit("abc").unwrap(), (0, Some(0)));
        assert_eq!(parse_limit("-4").unwrap(), (0, Some(0)));
    }
}
