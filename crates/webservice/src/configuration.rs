//! PrestaShop's configuration scopes: which of a setting's values a shop sees (its own, else
//! its shop group's, else the global one), and so the shop's time zone (`PS_TIMEZONE`). The
//! sync engine (its shop clock), the mapping and the diagnosis all follow this one rule.

use crate::record::Record;

/// Where a configuration value applies: one shop, one shop group, or everywhere (`0`, `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scope {
    /// The shop (`id_shop`), `0` for none.
    pub shop: u64,
    /// The shop group (`id_shop_group`), `0` for none.
    pub shop_group: u64,
}

impl Scope {
    /// The scope of a `configurations` record (an empty or absent id is `0`).
    pub fn of(record: &Record) -> Scope {
        let id = |field: &str| {
            record
                .text(field)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        Scope {
            shop: id("id_shop"),
            shop_group: id("id_shop_group"),
        }
    }
}

/// The value a shop sees among one setting's `values`: the shop's own, else its group's
/// (`group`: the shop's group), else the global one, else the first. `shop` `None` (or
/// `0`): the global value.
pub fn pick<T>(
    values: &[T],
    scope: impl Fn(&T) -> Scope,
    shop: Option<u64>,
    group: Option<u64>,
) -> Option<&T> {
    let shop = shop.unwrap_or(0);
    let group = group.unwrap_or(0);
    values
        .iter()
        .find(|v| shop != 0 && scope(v).shop == shop)
        .or_else(|| {
            values.iter().find(|v| {
                let s = scope(v);
                group != 0 && s.shop == 0 && s.shop_group == group
            })
        })
        .or_else(|| values.iter().find(|v| scope(v) == Scope::default()))
        .or_else(|| values.first())
}

/// The value of the setting `name` a shop sees among `configurations` records (trimmed;
/// `None` when absent or empty).
pub fn value<'a>(
    configurations: &'a [Record],
    name: &str,
    shop: Option<u64>,
    group: Option<u64>,
) -> Option<&'a str> {
    let rows: Vec<&Record> = configurations
        .iter()
        .filter(|r| r.text("name").map(str::trim) == Some(name))
        .collect();
    pick(&rows, |r| Scope::of(r), shop, group)
        .and_then(|r| r.text("value"))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The time zone (`PS_TIMEZONE`, an IANA name) a shop sees.
pub fn timezone(configurations: &[Record], shop: Option<u64>, group: Option<u64>) -> Option<&str> {
    value(configurations, "PS_TIMEZONE", shop, group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FieldValue;

    fn config(name: &str, value: &str, shop: &str, group: &str) -> Record {
        let mut r = Record::default();
        for (k, v) in [
            ("name", name),
            ("value", value),
            ("id_shop", shop),
            ("id_shop_group", group),
        ] {
            r.fields.insert(k.into(), FieldValue::Text(v.into()));
        }
        r
    }

    #[test]
    fn a_shop_sees_its_own_value_then_its_groups_then_the_global_one() {
        let rows = [
            config("PS_TIMEZONE", "Europe/Berlin", "2", "1"),
            config("PS_TIMEZONE", "Europe/Lisbon", "", "3"),
            config("PS_TIMEZONE", "Europe/Paris", "0", "0"),
            config("PS_SHOP_NAME", "Shop", "", ""),
        ];
        assert_eq!(timezone(&rows, None, None), Some("Europe/Paris"));
        assert_eq!(timezone(&rows, Some(2), Some(1)), Some("Europe/Berlin"));
        assert_eq!(timezone(&rows, Some(5), Some(3)), Some("Europe/Lisbon"));
        assert_eq!(timezone(&rows, Some(6), Some(1)), Some("Europe/Paris"));
        // Without a global row, the first one.
        assert_eq!(timezone(&rows[..2], None, None), Some("Europe/Berlin"));
        assert_eq!(value(&rows, "PS_SHOP_NAME", Some(2), None), Some("Shop"));
        assert_eq!(value(&rows, "PS_LANG_DEFAULT", None, None), None);
    }
}
