//! PrestaShop dates are written in the shop's time zone (`PS_TIMEZONE`) without an offset.
//! [`ShopClock`] turns them into offset-qualified timestamps, resolving daylight-saving gaps
//! and overlaps as PHP does, and reads `0000-00-00 00:00:00` as null.

use chrono::{Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use prestalink_commerce::Timestamp;

use crate::error::MappingError;
use crate::fields::Fields;

/// A date text that is not PrestaShop's `YYYY-MM-DD HH:MM:SS` (nor `YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a PrestaShop date")]
pub struct NotADate;

/// The shop's time zone, converting shop-local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopClock {
    tz: Tz,
}

impl ShopClock {
    /// A clock for an IANA time zone name such as `Europe/Paris` (PrestaShop's PS_TIMEZONE).
    pub fn new(name: &str) -> Result<Self, MappingError> {
        name.trim()
            .parse::<Tz>()
            .map(|tz| ShopClock { tz })
            .map_err(|_| MappingError::UnknownTimeZone(name.to_string()))
    }

    /// The time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Converts a shop-local `YYYY-MM-DD HH:MM:SS` (or `YYYY-MM-DD`) to a timestamp.
    /// Returns `Ok(None)` for PrestaShop's zero date, [`NotADate`] for anything unparsable.
    ///
    /// - A time that occurs twice (clocks go back) is the first occurrence (the earlier
    ///   instant, with the summer offset), which is what PHP's `DateTime` picks.
    /// - A time that does not exist (clocks go forward) is moved forward by the gap, as PHP
    ///   does: `02:30` on a spring-forward night in Paris becomes `03:30+02:00`.
    pub fn local(&self, text: &str) -> Result<Option<Timestamp>, NotADate> {
        let text = text.trim();
        if text.is_empty() || text.starts_with("0000-00-00") {
            return Ok(None);
        }
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
            })
            .map_err(|_| NotADate)?;
        Ok(Some(self.resolve(naive)))
    }

    fn resolve(&self, naive: NaiveDateTime) -> Timestamp {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => t.fixed_offset(),
            LocalResult::Ambiguous(first, _) => first.fixed_offset(),
            LocalResult::None => {
                // In a gap: take the offset in force just before it, as PHP does.
                let mut probe = naive;
                for _ in 0..16 {
                    probe -= Duration::minutes(15);
                    if let LocalResult::Single(before) | LocalResult::Ambiguous(before, _) =
                        self.tz.from_local_datetime(&probe)
                    {
                        let offset = *before.fixed_offset().offset();
                        let utc = naive - Duration::seconds(i64::from(offset.local_minus_utc()));
                        return self.tz.from_utc_datetime(&utc).fixed_offset();
                    }
                }
                // No zone has gaps over four hours; read as UTC rather than fail.
                self.tz.from_utc_datetime(&naive).fixed_offset()
            }
        }
    }

    /// A date field of a record: `Ok(None)` when absent or zero, an error naming the record
    /// and field when unparsable.
    pub fn field(
        &self,
        fields: &Fields<'_>,
        field: &'static str,
    ) -> Result<Option<Timestamp>, MappingError> {
        match fields.text(field) {
            None => Ok(None),
            Some(text) => self.local(text).map_err(|_| MappingError::InvalidDate {
                resource: fields.resource,
                id: fields.raw_id(),
                field,
                value: text.to_string(),
            }),
        }
    }
}

impl Default for ShopClock {
    /// UTC, PrestaShop's own default when PS_TIMEZONE is unset.
    fn default() -> Self {
        ShopClock { tz: Tz::UTC }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> ShopClock {
        ShopClock::new("Europe/Paris").unwrap()
    }

    #[test]
    fn zero_dates_are_null() {
        assert_eq!(paris().local("0000-00-00 00:00:00"), Ok(None));
        assert_eq!(paris().local("0000-00-00"), Ok(None));
        assert_eq!(paris().local(""), Ok(None));
        assert!(paris().local("yesterday").is_err());
    }

    #[test]
    fn ordinary_dates_get_the_zone_offset() {
        let winter = paris().local("2024-01-15 10:00:00").unwrap().unwrap();
        assert_eq!(winter.to_rfc3339(), "2024-01-15T10:00:00+01:00");
        let summer = paris().local("2024-07-15 10:00:00").unwrap().unwrap();
        assert_eq!(summer.to_rfc3339(), "2024-07-15T10:00:00+02:00");
    }

    #[test]
    fn gap_moves_forward_like_php() {
        let t = paris().local("2024-03-31 02:30:00").unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-31T03:30:00+02:00");
    }

    #[test]
    fn overlap_takes_the_first_occurrence() {
        let t = paris().local("2024-10-27 02:30:00").unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2024-10-27T02:30:00+02:00");
    }

    #[test]
    fn unknown_zone_is_an_error() {
        assert!(ShopClock::new("Mars/Olympus").is_err());
        assert_eq!(ShopClock::default().tz(), Tz::UTC);
    }
}
