//! JSON rendering as WebserviceOutputJSON builds its array and `json_encode`s it: PHP's
//! escaping (`\/`, raw UTF-8), typed values, the `[]` empty list and the single-record
//! falsy-field filter of 8.x.

use super::display::Selection;
use super::listing::Schema;
use super::params::Language;
use super::push_int;
use crate::api::Version;
use crate::resources::list_node;
use crate::schema::Resource;
use crate::store::{Row, Value};

/// Appends `s` as a JSON string the way PHP's `json_encode(…, JSON_UNESCAPED_UNICODE)`
/// writes it: `/` escaped, control characters as `\u00XX`, other characters raw.
pub fn push_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'/' => Some("\\/"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0x00..=0x1f => None,
            // U+2028 and U+2029 (E2 80 A8/A9) stay escaped even with JSON_UNESCAPED_UNICODE.
            0xe2 if bytes.get(i + 1) == Some(&0x80)
                && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                Some(if bytes[i + 2] == 0xa8 {
                    "\\u2028"
                } else {
                    "\\u2029"
                })
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        let len = match escape {
            Some(e) => {
                out.push_str(e);
                if b == 0xe2 {
                    3
                } else {
                    1
                }
            }
            None => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
                1
            }
        };
        i += len;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Everything the JSON renderers need besides the rows.
pub struct Ctx<'a> {
    /// The resource being rendered.
    pub resource: &'static Resource,
    /// Languages to render multilingual values in.
    pub languages: &'a [Language],
    /// Version being simulated (8.x drops falsy single-record fields).
    pub version: Version,
}

/// `{"orders":[{"id":1},…]}`, or `[]` when empty.
pub fn list_minimal(ctx: &Ctx, rows: &[&Row], out: &mut String) {
    if rows.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push_str("{\"");
    out.push_str(list_node(ctx.resource));
    out.push_str("\":[");
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"id\":");
        push_int(out, row.id as i64);
        out.push('}');
    }
    out.push_str("]}");
}

/// `{"orders":[{…},…]}` with the selected fields, or `[]` when empty.
pub fn list_records(ctx: &Ctx, rows: &[&Row], sel: &Selection, out: &mut String) {
    if rows.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push_str("{\"");
    out.push_str(list_node(ctx.resource));
    out.push_str("\":[");
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        record(ctx, row, sel, false, out);
    }
    out.push_str("]}");
}

/// `{"order":{…}}`; from 8.x on, top-level falsy values (`0`, `""`, `"0"`, null) are
/// dropped by the `array_filter` in WebserviceOutputJSON::overrideContent.
pub fn single(ctx: &Ctx, row: &Row, sel: &Selection, out: &mut String) {
    out.push_str("{\"");
    out.push_str(ctx.resource.singular);
    out.push_str("\":");
    record(ctx, row, sel, ctx.version >= Version::V8_1_2, out);
    out.push('}');
}

/// One record object; `drop_falsy` applies PHP `array_filter` to its top level.
fn record(ctx: &Ctx, row: &Row, sel: &Selection, drop_falsy: bool, out: &mut String) {
    let r = ctx.resource;
    out.push('{');
    let mut first = true;
    let mut key = |out: &mut String, name: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
    };
    if sel.id && !(drop_falsy && row.id == 0) {
        key(out, "id");
        push_int(out, row.id as i64);
    }
    for (i, field) in r.fields.iter().enumerate() {
        if !sel.fields[i] {
            continue;
        }
        let value = &row.values[i];
        if drop_falsy && falsy(value, ctx.languages) {
            continue;
        }
        key(out, field.name);
        push_value(ctx, value, out);
    }
    let shown = r
        .associations
        .iter()
        .enumerate()
        .filter(|(ai, _)| sel.assocs[*ai].is_some() && !row.assocs[*ai].is_empty());
    let mut opened = false;
    for (ai, assoc) in shown {
        let mask = sel.assocs[ai].as_deref().unwrap_or(&[]);
        if !opened {
            key(out, "associations");
            out.push('{');
            opened = true;
        } else {
            out.push(',');
        }
        out.push('"');
        out.push_str(assoc.name);
        out.push_str("\":[");
        for (n, entry) in row.assocs[ai].iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push('{');
            let mut first_field = true;
            for (fi, field) in assoc.fields.iter().enumerate() {
                if !mask[fi] {
                    continue;
                }
                if !first_field {
                    out.push(',');
                }
                first_field = false;
                out.push('"');
                out.push_str(field.name);
                out.push_str("\":");
                push_value(ctx, &entry[fi], out);
            }
            out.push('}');
        }
        out.push(']');
    }
    if opened {
        out.push('}');
    }
    out.push('}');
}

/// A value by its variant: number, string, null, or the language form.
fn push_value(ctx: &Ctx, value: &Value, out: &mut String) {
    match value {
        Value::Int(n) => push_int(out, *n),
        Value::Str(s) => push_string(out, s),
        Value::Null => out.push_str("null"),
        Value::Lang(values) => {
            let text = |l: &Language| values.get(l.index).map_or("", String::as_str);
            if let [only] = ctx.languages {
                push_string(out, text(only));
                return;
            }
            out.push('[');
            for (n, lang) in ctx.languages.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str("{\"id\":");
                if lang.quoted {
                    push_string(out, &lang.id);
                } else {
                    out.push_str(&lang.id);
                }
                out.push_str(",\"value\":");
                push_string(out, text(lang));
                out.push('}');
            }
            out.push(']');
        }
    }
}

/// PHP truthiness of a rendered value (a multilingual value is an array unless only one
/// language is shown).
fn falsy(value: &Value, languages: &[Language]) -> bool {
    let text_falsy = |s: &str| s.is_empty() || s == "0";
    match value {
        Value::Int(n) => *n == 0,
        Value::Str(s) => text_falsy(s),
        Value::Null => true,
        Value::Lang(v) => match languages {
            [only] => text_falsy(v.get(only.index).map_or("", String::as_str)),
            _ => false,
        },
    }
}

/// `schema=blank|synopsis` in JSON: every value null (so 8.x drops them all and only the
/// associations remain), as recorded for orders.
pub fn schema(ctx: &Ctx, kind: Schema, out: &mut String) {
    let r = ctx.resource;
    let keep_nulls = ctx.version < Version::V8_1_2;
    out.push_str("{\"");
    out.push_str(r.singular);
    out.push_str("\":");
    let mut parts: Vec<String> = Vec::new();
    if keep_nulls {
        if kind == Schema::Blank {
            parts.push("\"id\":null".to_string());
        }
        for f in r.fields {
            parts.push(format!("\"{}\":null", f.name));
        }
    }
    if !r.associations.is_empty() {
        let mut assoc = String::from("\"associations\":{");
        for (n, a) in r.associations.iter().enumerate() {
            if n > 0 {
                assoc.push(',');
            }
            assoc.push('"');
            assoc.push_str(a.name);
            assoc.push_str("\":[{");
            let fields: Vec<String> = a
                .fields
                .iter()
                .map(|f| format!("\"{}\":null", f.name))
                .collect();
            assoc.push_str(&fields.join(","));
            assoc.push_str("}]");
        }
        assoc.push('}');
        parts.push(assoc);
    }
    if parts.is_empty() {
        // PHP encodes an emptied array as a list.
        out.push_str("[]");
    } else {
        out.push('{');
        out.push_str(&parts.join(","));
        out.push('}');
    }
    out.push('}');
}

/// The 1.7.8 root listing: a JSON list of the resource names the key may use.
pub fn root_names<'r>(names: impl Iterator<Item = &'r str>, out: &mut String) {
    out.push('[');
    for (n, name) in names.enumerate() {
        if n > 0 {
            out.push(',');
        }
        push_string(out, name);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_php() {
        let mut out = String::new();
        push_string(&mut out, "a/b \"c\" \\ é\u{1}\n\u{2028}");
        assert_eq!(out, r#""a\/b \"c\" \\ é\u0001\n\u2028""#);
    }

    #[test]
    fn falsiness() {
        let two = super::super::params::all_languages(&[1, 2]);
        assert!(falsy(&Value::Str("0".into()), &two));
        assert!(falsy(&Value::Int(0), &two));
        assert!(falsy(&Value::Null, &two));
        assert!(!falsy(&Value::Str("0.000000".into()), &two));
        assert!(!falsy(
            &Value::Lang(vec![String::new(), String::new()]),
            &two
        ));
        let second = [two[1].clone()];
        assert!(falsy(
            &Value::Lang(vec!["x".into(), String::new()]),
            &second
        ));
        assert!(!falsy(
            &Value::Lang(vec![String::new(), "x".into()]),
            &second
        ));
    }
}
