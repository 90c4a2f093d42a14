//! The one timestamp format of the store: UTC, millisecond precision, `Z` suffix.
//!
//! Every timestamp column holds this fixed-width format on both engines, so comparing and
//! ordering them as strings is comparing and ordering them in time.

use chrono::{DateTime, SecondsFormat, Utc};

/// Formats a UTC instant the way the store writes it, e.g. `2024-05-01T12:00:00.000Z`.
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fixed_width_utc_with_millis() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
        assert_eq!(format_timestamp(at), "2024-05-01T12:00:00.000Z");
    }
}
