//! `filter[field]=…` values, parsed as WebserviceRequest::getSQLRetrieveFilter builds its SQL,
//! and matched the way MySQL would evaluate that SQL (numeric columns compare as numbers,
//! text columns with a case-insensitive collation that ignores trailing spaces).

use std::cmp::Ordering;

/// One filter condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `%[x]`, `[x]%`, `%[x]%`: SQL `LIKE` with `%` and `_` wildcards.
    Like(String),
    /// `[a|b]`: equal to any value.
    AnyOf(Vec<String>),
    /// `[a,b]` with both sides made of digits, `.`, `:`, `-` and spaces: inclusive range.
    Between(String, String),
    /// `[v]`: equality.
    Eq(String),
    /// `>[v]`: strictly greater.
    Gt(String),
    /// `<[v]`: strictly smaller.
    Lt(String),
    /// `![a|b]`: different from every value.
    NoneOf(Vec<String>),
    /// A value without brackets: `LIKE` when it is a number, `=` otherwise.
    Bare(String),
    /// Brackets with another prefix (`x[1]`): PrestaShop adds no condition.
    Ignored,
}

impl Cond {
    /// Parses a filter value with the regex `^(.*)\[(.*)\](.*)$`.
    pub fn parse(value: &str) -> Cond {
        let Some((before, inner, after)) = split_brackets(value) else {
            return Cond::Bare(value.to_string());
        };
        if before == "%" || after == "%" {
            return Cond::Like(format!("{before}{inner}{after}"));
        }
        match (before, after) {
            ("", "") => {
                if inner.find('|').is_some_and(|i| i > 0) {
                    Cond::AnyOf(inner.split('|').map(str::to_string).collect())
                } else if let Some((a, b)) = range_bounds(inner) {
                    let (a, b) = if php_sort_less(b, a) { (b, a) } else { (a, b) };
                    Cond::Between(a.to_string(), b.to_string())
                } else {
                    Cond::Eq(inner.to_string())
                }
            }
            (">", _) => Cond::Gt(inner.to_string()),
            ("<", _) => Cond::Lt(inner.to_string()),
            ("!", _) => Cond::NoneOf(inner.split('|').map(str::to_string).collect()),
            _ => Cond::Ignored,
        }
    }

    /// True when a stored value (as text) satisfies the condition; `numeric` tells
    /// whether the column compares as a number.
    pub fn matches(&self, stored: &str, numeric: bool) -> bool {
        let cmp = |operand: &str| compare_sql(stored, operand, numeric);
        match self {
            Cond::Like(pattern) => like(stored, pattern),
            Cond::AnyOf(values) => values.iter().any(|v| cmp(v) == Ordering::Equal),
            Cond::Between(lo, hi) => cmp(lo) != Ordering::Less && cmp(hi) != Ordering::Greater,
            Cond::Eq(v) => cmp(v) == Ordering::Equal,
            Cond::Gt(v) => cmp(v) == Ordering::Greater,
            Cond::Lt(v) => cmp(v) == Ordering::Less,
            Cond::NoneOf(values) => values.iter().all(|v| cmp(v) != Ordering::Equal),
            Cond::Bare(v) => {
                if is_php_float(v) {
                    like(stored, v)
                } else {
                    cmp(v) == Ordering::Equal
                }
            }
            Cond::Ignored => true,
        }
    }
}

/// `^(.*)\[(.*)\](.*)$` with greedy groups: the last `[` before the last `]`.
/// `.` does not match a newline, so values with one never match.
fn split_brackets(value: &str) -> Option<(&str, &str, &str)> {
    if value.contains('\n') {
        return None;
    }
    let close = value.rfind(']')?;
    let open = value[..close].rfind('[')?;
    Some((&value[..open], &value[open + 1..close], &value[close + 1..]))
}

/// `^([\d\.:\-\s]+),([\d\.:\-\s]+)$`.
fn range_bounds(inner: &str) -> Option<(&str, &str)> {
    let (a, b) = inner.split_once(',')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | ':' | '-') || c.is_whitespace())
    };
    (ok(a) && ok(b)).then_some((a, b))
}

/// PHP 8 `sort()` order of two strings: numerically when both are numeric, else bytewise.
fn php_sort_less(a: &str, b: &str) -> bool {
    use super::params::php_is_numeric;
    if php_is_numeric(a) && php_is_numeric(b) {
        mysql_number(a) < mysql_number(b)
    } else {
        a < b
    }
}

/// Validate::isFloat: `(string)(float)$v == $v` under PHP 8's loose comparison, which
/// holds for numeric strings.
fn is_php_float(v: &str) -> bool {
    super::params::php_is_numeric(v)
}

/// The number MySQL reads from a string: its longest numeric prefix, 0 when there is none.
pub fn mysql_number(s: &str) -> f64 {
    let t = s.trim_start();
    let bytes = t.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    if end < bytes.len() && bytes[end] == b'.' {
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end == digits_start || (end == digits_start + 1 && bytes[digits_start] == b'.') {
        return 0.0;
    }
    let mut num_end = end;
    if end < bytes.len() && matches!(bytes[end], b'e' | b'E') {
        let mut e = end + 1;
        if e < bytes.len() && matches!(bytes[e], b'+' | b'-') {
            e += 1;
        }
        let exp_digits = e;
        while e < bytes.len() && bytes[e].is_ascii_digit() {
            e += 1;
        }
        if e > exp_digits {
            num_end = e;
        }
    }
    t[..num_end].parse().unwrap_or(0.0)
}

/// True when a stored text is a plain number (a DECIMAL or INT column value).
pub fn looks_numeric(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|&b| b == b'.').count() <= 1
        && t != "."
}

/// Compares a stored value with a filter operand as MySQL would.
pub fn compare_sql(stored: &str, operand: &str, numeric: bool) -> Ordering {
    if numeric {
        mysql_number(stored)
            .partial_cmp(&mysql_number(operand))
            .unwrap_or(Ordering::Equal)
    } else {
        collate(stored, operand)
    }
}

/// Case-insensitive comparison ignoring trailing spaces (MySQL `_ci` collations, PAD SPACE).
pub fn collate(a: &str, b: &str) -> Ordering {
    let a = a.trim_end_matches(' ');
    let b = b.trim_end_matches(' ');
    let mut x = a.chars().flat_map(char::to_lowercase);
    let mut y = b.chars().flat_map(char::to_lowercase);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c != d => return c.cmp(&d),
            _ => {}
        }
    }
}

/// SQL `LIKE` (case-insensitive): `%` matches any run, `_` one character, `\` escapes.
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let mut p: Vec<(char, bool)> = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                p.extend(n.to_lowercase().map(|l| (l, true)));
                continue;
            }
        }
        p.extend(c.to_lowercase().map(|l| (l, false)));
    }
    // Iterative wildcard matching with backtracking to the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(&('%', false)) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&('_', false)) => {
                ti += 1;
                pi += 1;
            }
            Some(&(c, _)) if c == t[ti] => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&(c, escaped)| c == '%' && !escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            Cond::parse("[4|6]"),
            Cond::AnyOf(vec!["4".into(), "6".into()])
        );
        assert_eq!(
            Cond::parse("[110,100]"),
            Cond::Between("100".into(), "110".into())
        );
        assert_eq!(
            Cond::parse("[2026-01-01 00:00:00,2026-01-31 23:59:59]"),
            Cond::Between("2026-01-01 00:00:00".into(), "2026-01-31 23:59:59".into())
        );
        assert_eq!(Cond::parse("[a,b]"), Cond::Eq("a,b".into()));
        assert_eq!(Cond::parse("[|a]"), Cond::Eq("|a".into()));
        assert_eq!(Cond::parse(">[5]"), Cond::Gt("5".into()));
        assert_eq!(Cond::parse("<[5]"), Cond::Lt("5".into()));
        assert_eq!(
            Cond::parse("![1|2]"),
            Cond::NoneOf(vec!["1".into(), "2".into()])
        );
        assert_eq!(Cond::parse("%[ob]%"), Cond::Like("%ob%".into()));
        assert_eq!(Cond::parse("[ob]%"), Cond::Like("ob%".into()));
        assert_eq!(Cond::parse("x[1]"), Cond::Ignored);
        assert_eq!(Cond::parse("plain"), Cond::Bare("plain".into()));
        assert_eq!(Cond::parse("[[1]]"), Cond::Ignored);
    }

    #[test]
    fn matches_like_mysql() {
        assert!(Cond::parse("[4|6]").matches("6", true));
        assert!(!Cond::parse("[4|6]").matches("5", true));
        assert!(Cond::parse("[100,110]").matches("110", true));
        assert!(Cond::parse("[100,110]").matches("100", true));
        assert!(!Cond::parse("[100,110]").matches("99", true));
        // Numbers compare numerically, not as text.
        assert!(Cond::parse(">[9]").matches("10", true));
        assert!(Cond::parse("[ZFAMMUPLU]").matches("zfammuplu", false));
        assert!(Cond::parse("[abc]").matches("abc  ", false));
        assert!(Cond::parse("%[OBRIEN]%").matches("tom.obrien@example.org", false));
        assert!(!Cond::parse("[ob]%").matches("tom.obrien", false));
        assert!(Cond::parse("![1|2]").matches("3", true));
        assert!(!Cond::parse("![1|2]").matches("2", true));
        assert!(Cond::parse("[2026-11-01,2026-11-30]").matches("2026-11-15 10:00:00", false));
        assert!(!Cond::parse("[2026-11-01,2026-11-30]").matches("2026-11-30 10:00:00", false));
        assert!(Cond::parse("x[1]").matches("anything", false));
    }

    #[test]
    fn like_wildcards() {
        assert!(like("abc", "a_c"));
        assert!(like("abc", "%"));
        assert!(like("", "%"));
        assert!(!like("abc", "ab"));
        assert!(like("a%c", "a\\%c"));
        assert!(!like("abc", "a\\%c"));
        assert!(like("Mississippi", "%iss%pi"));
    }

    #[test]
    fn mysql_numbers() {
        assert_eq!(mysql_number("12abc"), 12.0);
        assert_eq!(mysql_number(" 1.5e2x"), 150.0);
        assert_eq!(mysql_number("abc"), 0.0);
        assert_eq!(mysql_number("-.5"), -0.5);
        assert!(looks_numeric("61.800000"));
        assert!(!looks_numeric("2026-01-01"));
        assert!(!looks_numeric(""));
    }
}
