//! Amounts never go through binary floating point on the way out, and come back exactly.

use std::str::FromStr;

use prestalink_commerce::Amount;
use proptest::prelude::*;
use rust_decimal::Decimal;

proptest! {
    /// PrestaShop amounts: up to 12 integer digits, 6 decimals, either sign.
    #[test]
    fn prestashop_amounts_round_trip_exactly(units in -999_999_999_999i64..=999_999_999_999i64, micros in 0u32..1_000_000) {
        let text = format!("{units}.{micros:06}");
        let amount = Amount::from_str(&text).unwrap();
        let json = serde_json::to_string(&amount).unwrap();
        // The JSON token is the exact decimal (trailing zeros dropped), never an f64 rendering.
        prop_assert_eq!(Decimal::from_str(&json).unwrap(), amount.0);
        // Reading it back as a string is exact whatever the digits.
        let back: Amount = serde_json::from_str(&format!("\"{json}\"")).unwrap();
        prop_assert_eq!(back, amount);
    }

    /// Numbers read back exactly up to 15 significant digits (serde_json without arbitrary
    /// precision hands them over as f64).
    #[test]
    fn numbers_with_15_digits_read_back_exactly(units in -999_999_999i64..=999_999_999i64, micros in 0u32..1_000_000) {
        let amount = Amount::from_str(&format!("{units}.{micros:06}")).unwrap();
        let back: Amount = serde_json::from_str(&serde_json::to_string(&amount).unwrap()).unwrap();
        prop_assert_eq!(back, amount);
    }
}
