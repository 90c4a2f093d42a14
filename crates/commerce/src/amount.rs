//! Exact decimal numbers for money, rates and quantities.
//!
//! The model never holds money in binary floating point: [`Amount`] wraps a
//! [`rust_decimal::Decimal`] and is written to JSON as an exact number token (`61.8`, not
//! `"61.800000"` nor the nearest `f64`), which is what Codat clients expect.

use std::fmt;
use std::ops::{Add, Neg, Sub};
use std::str::FromStr;

use rust_decimal::Decimal;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A decimal number (an amount of money, a rate, a percentage or a quantity), exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub Decimal);

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// The wrapped decimal.
    pub fn decimal(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Amount(d)
    }
}

impl From<i64> for Amount {
    fn from(i: i64) -> Self {
        Amount(Decimal::from(i))
    }
}

impl FromStr for Amount {
    type Err = rust_decimal::Error;

    /// Parses a plain decimal string such as PrestaShop's `"61.800000"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(s.trim()).map(Amount)
    }
}

impl fmt::Display for Amount {
    /// The shortest exact representation (`61.8`, `0`, `-12.35`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, rhs: Amount) -> Amount {
        Amount(self.0 + rhs.0)
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, rhs: Amount) -> Amount {
        Amount(self.0 - rhs.0)
    }
}

impl Neg for Amount {
    type Output = Amount;
    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, Add::add)
    }
}

impl Serialize for Amount {
    /// Written as a raw JSON number token with the exact decimal digits. Serializers other
    /// than serde_json's see serde_json's raw-value wrapper, so serialize records with
    /// serde_json.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Amount {
    /// Accepts a JSON number or a decimal string. Numbers arrive through serde's `f64`
    /// (serde_json without arbitrary precision) and are read back through their shortest
    /// round-trip representation, which is exact for amounts of up to 15 significant digits.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number or a decimal string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Amount::from_str(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                Amount::from_str(&v.to_string()).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "description": "An exact decimal number (money in the record's currency, a rate or a quantity)."
        })
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_exact_number_tokens() {
        let a: Amount = "61.800000".parse().unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "61.8");
        let z: Amount = "0.000000".parse().unwrap();
        assert_eq!(serde_json::to_string(&z).unwrap(), "0");
        let big: Amount = "123456789012.345678".parse().unwrap();
        assert_eq!(serde_json::to_string(&big).unwrap(), "123456789012.345678");
    }

    #[test]
    fn reads_numbers_and_strings() {
        let a: Amount = serde_json::from_str("61.8").unwrap();
        assert_eq!(a, "61.80".parse().unwrap());
        let b: Amount = serde_json::from_str("\"-12.350000\"").unwrap();
        assert_eq!(b.to_string(), "-12.35");
        let c: Amount = serde_json::from_str("3").unwrap();
        assert_eq!(c, Amount::from(3));
    }
}
