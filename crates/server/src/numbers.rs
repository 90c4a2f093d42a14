//! Amounts, counts and rates written for a reader in English or French: digit grouping and
//! decimal mark from `num-format`'s CLDR locales, currency symbols from `iso_currency`
//! (`€1,234.56` in English, `1 234,56 €` in French).

use num_format::{Locale, ToFormattedString};

/// The number conventions of a page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumberLocale {
    /// English: `1,234.56`, symbol before the amount.
    #[default]
    En,
    /// French: `1 234,56`, symbol after the amount.
    Fr,
}

impl NumberLocale {
    /// The conventions of a language code (`fr`, `fr-CA`, `en`…); English for others.
    pub fn from_code(code: &str) -> NumberLocale {
        if code.to_ascii_lowercase().starts_with("fr") {
            NumberLocale::Fr
        } else {
            NumberLocale::En
        }
    }

    fn cldr(self) -> &'static Locale {
        match self {
            NumberLocale::En => &Locale::en,
            NumberLocale::Fr => &Locale::fr,
        }
    }
}

/// Formats numbers for one language and one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbers {
    locale: NumberLocale,
    /// The ISO 4217 code of amounts (`None`: amounts are written without a currency).
    currency: Option<String>,
    symbol: Option<String>,
}

impl Numbers {
    /// Numbers in `locale`, amounts in `currency` (ISO 4217).
    pub fn new(locale: NumberLocale, currency: Option<&str>) -> Numbers {
        let symbol = currency.map(|code| {
            iso_currency::Currency::from_code(code)
                .map(|c| c.symbol().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| code.to_string())
        });
        Numbers {
            locale,
            currency: currency.map(str::to_string),
            symbol,
        }
    }

    /// The language's conventions.
    pub fn locale(&self) -> NumberLocale {
        self.locale
    }

    /// The currency code of amounts, if known.
    pub fn currency(&self) -> Option<&str> {
        self.currency.as_deref()
    }

    /// An amount with cents and the currency: `€1,234.56`, `1 234,56 €`.
    pub fn amount(&self, value: f64) -> String {
        self.with_symbol(value, &self.decimal(value.abs(), 2))
    }

    /// An amount rounded to units, for axis labels: `€1,235`, `1 235 €`.
    pub fn amount_whole(&self, value: f64) -> String {
        self.with_symbol(value, &self.decimal(value.abs(), 0))
    }

    /// A count: `12,345`, `12 345`.
    pub fn count(&self, value: u64) -> String {
        value.to_formatted_string(self.locale.cldr())
    }

    /// A number with `decimals` decimals (units sold may be fractional).
    pub fn number(&self, value: f64, decimals: u32) -> String {
        let text = self.decimal(value.abs(), decimals);
        if value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
            format!("{}{text}", self.locale.cldr().minus_sign())
        } else {
            text
        }
    }

    /// A ratio as a percentage with one decimal: `12.5%`, `12,5 %`.
    pub fn percent(&self, ratio: f64) -> String {
        let text = self.number(ratio * 100.0, 1);
        match self.locale {
            NumberLocale::En => format!("{text}%"),
            NumberLocale::Fr => format!("{text}\u{a0}%"),
        }
    }

    /// `value` (not negative) with `decimals` decimals, grouped and marked as the locale does.
    fn decimal(&self, value: f64, decimals: u32) -> String {
        let scale = 10u128.pow(decimals);
        let scaled = (value * scale as f64).round();
        let scaled = if scaled.is_finite() && scaled >= 0.0 {
            scaled as u128
        } else {
            0
        };
        let whole = (scaled / scale).to_formatted_string(self.locale.cldr());
        if decimals == 0 {
            whole
        } else {
            let fraction = scaled % scale;
            format!(
                "{whole}{}{fraction:0width$}",
                self.locale.cldr().decimal(),
                width = decimals as usize
            )
        }
    }

    fn with_symbol(&self, value: f64, digits: &str) -> String {
        let minus = if value < 0.0 && digits.chars().any(|c| c.is_ascii_digit() && c != '0') {
            self.locale.cldr().minus_sign()
        } else {
            ""
        };
        match (&self.symbol, self.locale) {
            (None, _) => format!("{minus}{digits}"),
            (Some(s), NumberLocale::En) if s.chars().count() == 1 => format!("{minus}{s}{digits}"),
            (Some(s), NumberLocale::En) => format!("{minus}{s}\u{a0}{digits}"),
            (Some(s), NumberLocale::Fr) => format!("{minus}{digits}\u{a0}{s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_language() {
        let en = Numbers::new(NumberLocale::En, Some("EUR"));
        assert_eq!(en.amount(1234.5), "€1,234.50");
        assert_eq!(en.amount(-0.004), "€0.00");
        assert_eq!(en.amount(-12.0), "-€12.00");
        assert_eq!(en.amount_whole(1234567.6), "€1,234,568");
        let fr = Numbers::new(NumberLocale::Fr, Some("EUR"));
        assert_eq!(fr.amount(1234.5), "1\u{202f}234,50\u{a0}€");
        assert_eq!(fr.percent(0.125), "12,5\u{a0}%");
        assert_eq!(en.percent(0.125), "12.5%");
        assert_eq!(fr.count(12345), "12\u{202f}345");
        let usd = Numbers::new(NumberLocale::Fr, Some("USD"));
        assert_eq!(usd.amount(5.0), "5,00\u{a0}$");
        // A code without a known symbol is written as is, apart from the digits.
        let unknown = Numbers::new(NumberLocale::En, Some("XQQ"));
        assert_eq!(unknown.amount(5.0), "XQQ\u{a0}5.00");
        let none = Numbers::new(NumberLocale::En, None);
        assert_eq!(none.amount(5.0), "5.00");
    }
}
