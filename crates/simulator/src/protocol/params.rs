//! The query string as WebserviceRequest sees it in `$_GET`: `filter[field]` keys become a
//! nested array, a repeated key keeps its first position and its last value, and the
//! `language` parameter is resolved with PrestaShop's own (quirky) rules.

use crate::errors::PsError;

/// One `filter[...]` parameter, in query order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterParam<'a> {
    /// The field name between the first brackets.
    pub field: &'a str,
    /// The raw value, or `None` when the key nests deeper (`filter[a][b]`), which
    /// PrestaShop reads as a linked-table filter.
    pub value: Option<&'a str>,
}

/// The parameters the Webservice reads, borrowed from the request.
#[derive(Debug, Clone, Default)]
pub struct Params<'a> {
    /// `display`, when present with a plain value.
    pub display: Option<&'a str>,
    /// True when the query has a `display` key at all (the JSON single-record wrapper
    /// quirk tests `array_key_exists('display', $_GET)`).
    pub has_display_key: bool,
    /// `filter[field]=value` parameters.
    pub filters: Vec<FilterParam<'a>>,
    /// `sort` value.
    pub sort: Option<&'a str>,
    /// `limit` value.
    pub limit: Option<&'a str>,
    /// `language` value.
    pub language: Option<&'a str>,
    /// `date` is set and not PHP-empty (`""` and `"0"` are empty).
    pub date: bool,
    /// `schema` value.
    pub schema: Option<&'a str>,
    /// `id_shop` value (shop context).
    pub id_shop: Option<&'a str>,
    /// `id_group_shop` value (shop group context).
    pub id_group_shop: Option<&'a str>,
}

impl<'a> Params<'a> {
    /// Reads the decoded `(key, value)` pairs of a request.
    pub fn parse(pairs: &'a [(String, String)]) -> Params<'a> {
        let mut p = Params::default();
        for (key, value) in pairs {
            let value = value.as_str();
            let (base, rest) = match key.find('[') {
                Some(i) => (&key[..i], Some(&key[i..])),
                None => (key.as_str(), None),
            };
            if base == "display" {
                p.has_display_key = true;
            }
            match (base, rest) {
                ("filter", Some(rest)) => p.push_filter(rest, value),
                ("display", None) => p.display = Some(value),
                ("display", Some(_)) => p.display = None,
                ("sort", None) => p.sort = Some(value),
                ("limit", None) => p.limit = Some(value),
                ("language", None) => p.language = Some(value),
                ("date", None) => p.date = !(value.is_empty() || value == "0"),
                ("schema", None) => p.schema = Some(value),
                ("id_shop", None) => p.id_shop = Some(value),
                ("id_group_shop", None) => p.id_group_shop = Some(value),
                _ => {}
            }
        }
        p
    }

    /// Adds `filter[field]=value`; `rest` starts at the first `[`.
    fn push_filter(&mut self, rest: &'a str, value: &'a str) {
        // PHP takes the text up to the first `]` as the key; without one the whole key
        // is a plain (non-array) name and the parameter is not a filter.
        let Some(close) = rest.find(']') else { return };
        let field = &rest[1..close];
        let nested = rest[close + 1..].starts_with('[');
        let value = if nested { None } else { Some(value) };
        match self.filters.iter_mut().find(|f| f.field == field) {
            Some(existing) => existing.value = value,
            None => self.filters.push(FilterParam { field, value }),
        }
    }
}

/// One requested language: where its values sit in `Value::Lang`, and the id as
/// PrestaShop carries it (JSON renders a string id when it came from a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    /// Index into [`crate::store::Store::languages`].
    pub index: usize,
    /// The id text as rendered (`id="…"` in XML).
    pub id: String,
    /// True when the id is a PHP string (JSON renders `"id":"1"` rather than `"id":1`).
    pub quoted: bool,
}

/// PHP `is_numeric`: optional surrounding whitespace, sign, digits, one dot, exponent.
pub fn php_is_numeric(s: &str) -> bool {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let t = t.trim_end_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// PHP `(int)` of a string: leading whitespace, sign and digits; anything else gives 0.
pub fn php_int(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = t
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(t.len());
    let mut n: i64 = 0;
    for b in t[..end].bytes() {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// WebserviceRequest::filterLanguage followed by the "none left" check: the languages a
/// `language=` parameter selects among the installed ones, or the errors (78–81) it causes.
pub fn select_languages(param: &str, installed: &[u32]) -> Result<Vec<Language>, Vec<PsError>> {
    let mut errors = Vec::new();
    let requested = requested_languages(param, &mut errors);
    let mut out = Vec::new();
    if let Some(requested) = requested {
        for (id, quoted) in requested {
            let numeric = php_int(&id);
            if let Some(index) = installed.iter().position(|&l| i64::from(l) == numeric) {
                out.push(Language { index, id, quoted });
            }
        }
    }
    if out.is_empty() {
        errors.push(PsError::new(81, "language is not available"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Every installed language, as PrestaShop uses them when `language` is absent.
pub fn all_languages(installed: &[u32]) -> Vec<Language> {
    installed
        .iter()
        .enumerate()
        .map(|(index, id)| Language {
            index,
            id: id.to_string(),
            quoted: false,
        })
        .collect()
}

/// The ids `language=` asks for, with whether each is a PHP string; `None` on a syntax error.
fn requested_languages(param: &str, errors: &mut Vec<PsError>) -> Option<Vec<(String, bool)>> {
    if php_is_numeric(param) {
        return Some(vec![(php_int(param).to_string(), false)]);
    }
    if !(param.starts_with('[') && param.ends_with(']') && param.len() >= 2) {
        errors.push(PsError::new(79, "language value is wrong"));
        return None;
    }
    let has_bar = param.contains('|');
    let has_comma = param.contains(',');
    let mut ids: Vec<(String, bool)> = Vec::new();
    if has_bar != has_comma {
        let values = param.replace(['[', ']'], "");
        if has_bar {
            ids = values.split('|').map(|v| (v.to_string(), true)).collect();
        } else {
            let bounds: Vec<&str> = values.split(',').collect();
            if bounds.len() != 2 {
                errors.push(PsError::new(
                    78,
                    "A range value for a language must contains only 2 values",
                ));
                return None;
            }
            // `for ($i = "a"; $i <= "b"; ++$i)`: the first id stays a string.
            let (from, to) = (php_int(bounds[0]), php_int(bounds[1]));
            let mut i = from;
            while i <= to && ids.len() < 1000 {
                ids.push((
                    if i == from {
                        bounds[0].to_string()
                    } else {
                        i.to_string()
                    },
                    i == from,
                ));
                i += 1;
            }
        }
    } else if let Some(last_digit) = bracketed_digits_last(param) {
        // `#\[(\d)+\]#`: the capture holds the last repeated digit only.
        ids.push((last_digit.to_string(), true));
    }
    // `array_search(false, $numeric, true)` is falsy when the first entry is the bad one.
    if ids
        .iter()
        .position(|(v, _)| !php_is_numeric(v))
        .is_some_and(|i| i > 0)
    {
        errors.push(PsError::new(80, "Language ID must be numeric"));
        return None;
    }
    Some(ids)
}

/// The last digit of the first `[digits]` group in `s`, as `preg_match('#\[(\d)+\]#')` captures it.
fn bracketed_digits_last(s: &str) -> Option<char> {
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'[' {
            continue;
        }
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 && bytes.get(i + 1 + digits) == Some(&b']') {
            return Some(char::from(bytes[i + digits]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_keep_first_position_and_last_value() {
        let q = pairs(&[
            ("filter[id]", "[1]"),
            ("filter[name]", "x"),
            ("filter[id]", "[2]"),
            ("filter[a][b]", "1"),
            ("filter", "ignored"),
        ]);
        let p = Params::parse(&q);
        let got: Vec<_> = p.filters.iter().map(|f| (f.field, f.value)).collect();
        assert_eq!(
            got,
            vec![("id", Some("[2]")), ("name", Some("x")), ("a", None)]
        );
    }

    #[test]
    fn date_uses_php_emptiness_and_display_key_is_remembered() {
        let q = pairs(&[("date", "0"), ("display", "")]);
        let p = Params::parse(&q);
        assert!(!p.date);
        assert!(p.has_display_key);
        assert_eq!(p.display, Some(""));
        assert!(Params::parse(&pairs(&[("date", "yes")])).date);
    }

    #[test]
    fn php_numbers() {
        assert!(php_is_numeric("12"));
        assert!(php_is_numeric(" 1.5 "));
        assert!(php_is_numeric("-3e2"));
        assert!(!php_is_numeric("1a"));
        assert!(!php_is_numeric(""));
        assert!(!php_is_numeric("."));
        assert_eq!(php_int("5abc"), 5);
        assert_eq!(php_int(" -7"), -7);
        assert_eq!(php_int("abc"), 0);
    }

    #[test]
    fn language_forms() {
        let installed = [1, 2];
        let ids = |p: &str| -> Vec<(String, bool)> {
            select_languages(p, &installed)
                .unwrap()
                .into_iter()
                .map(|l| (l.id, l.quoted))
                .collect()
        };
        assert_eq!(ids("2"), vec![("2".into(), false)]);
        assert_eq!(ids("[1|2]"), vec![("1".into(), true), ("2".into(), true)]);
        assert_eq!(ids("[1,2]"), vec![("1".into(), true), ("2".into(), false)]);
        assert_eq!(ids("[12]"), vec![("2".into(), true)]);
        assert_eq!(ids("[9|1]"), vec![("1".into(), true)]);
        // The first entry escapes the numeric check (array_search returns index 0).
        assert_eq!(ids("[a|1]"), vec![("1".into(), true)]);
        let codes = |p: &str| -> Vec<u32> {
            select_languages(p, &installed)
                .unwrap_err()
                .iter()
                .map(|e| e.code)
                .collect()
        };
        assert_eq!(codes("9"), vec![81]);
        assert_eq!(codes("abc"), vec![79, 81]);
        assert_eq!(codes("[1|a]"), vec![80, 81]);
        assert_eq!(codes("[1,2,3]"), vec![78, 81]);
        assert_eq!(codes("[2,1]"), vec![81]);
    }
}
