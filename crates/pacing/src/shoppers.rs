//! Whether shoppers are on the storefront now, from the shop's own count of visitors.
//!
//! A reader cannot tell shoppers from its own page times: on a real 2-core PrestaShop,
//! storefront visits at 2 per second changed its page times by under 3 % at one request in
//! flight. The shop counts its visitors, though: PrestaShop creates a guest (`ps_guest`,
//! the Webservice's `guests`) for each visitor that arrives without its cookie, and a cart
//! (`carts`) for each one who adds a product; Webservice requests create neither. The
//! newest id of either, read every few seconds, rises while shoppers arrive and stands still
//! while nobody is there. A returning visitor whose cookie is still valid creates no guest
//! until it adds to a cart, so the signal sees new visits, not every page view.
//!
//! Balanced keeps a share of the shop's capacity free for shoppers only while they are
//! there (or while nobody knows): a shop nobody visits is read as fast as its knee allows.

use std::time::{Duration, Instant};

/// What the reader knows of the storefront's visitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shoppers {
    /// Not watched (the key may not read guests), or not watched for long enough yet:
    /// treated as present.
    #[default]
    Unknown,
    /// A new visitor arrived within [`ShopperWatch::PRESENT_FOR`].
    Present,
    /// No new visitor in the last [`ShopperWatch::QUIET_AFTER`] at least.
    Absent,
}

/// Decides [`Shoppers`] from readings of the newest visitor ids (guests, carts) over time.
#[derive(Debug, Clone, Default)]
pub struct ShopperWatch {
    /// The newest id seen of each watched resource, by its position in the readings.
    newest: Vec<Option<u64>>,
    /// When the first reading that read an id came.
    since: Option<Instant>,
    /// When the last reading that read an id came: readings that fail (a shop too busy to
    /// answer) are no sign of a still shop.
    last_read: Option<Instant>,
    /// When an id last rose.
    last_rise: Option<Instant>,
}

impl ShopperWatch {
    /// How often to read the newest ids once something is known: a request of one id every
    /// 5 s is a few milliseconds of a PHP worker, well under 1 % of one core.
    pub const EVERY: Duration = Duration::from_secs(5);
    /// How often to read them while nothing is known yet (the start of a run, read with
    /// the reserve kept): every 2 s, so that a still shop is known after 6 s.
    pub const FIRST_EVERY: Duration = Duration::from_secs(2);
    /// Watched this long with no new visitor: nobody is there. A storefront with a new
    /// visitor every few seconds is seen at once; one with a visitor a minute is read as
    /// still between visitors, and gets its reserve back at the next visitor.
    pub const QUIET_AFTER: Duration = Duration::from_secs(6);
    /// A new visitor counts as present this long after it arrived: a visit lasts minutes,
    /// and new ones follow it on a shop that has any traffic.
    pub const PRESENT_FOR: Duration = Duration::from_secs(120);
    /// Absent holds only while the last reading that read an id is at most this old.
    pub const STALE_AFTER: Duration = Duration::from_secs(15);

    /// A watch with no readings yet.
    pub fn new() -> ShopperWatch {
        ShopperWatch::default()
    }

    /// One reading at `now`: the newest id of each watched resource, in a fixed order
    /// (`None` for a resource that could not be read this time, or that has no rows).
    /// Returns what is known afterwards.
    pub fn observe(&mut self, now: Instant, newest: &[Option<u64>]) -> Shoppers {
        if newest.iter().any(Option::is_some) {
            self.since.get_or_insert(now);
            self.last_read = Some(now);
        }
        if self.newest.len() < newest.len() {
            self.newest.resize(newest.len(), None);
        }
        for (seen, id) in self.newest.iter_mut().zip(newest) {
            if let Some(id) = *id {
                // The first id seen of a resource is where it stands, not a visitor; ids are
                // never reused (MySQL auto-increment), so any rise is a new row.
                if seen.is_some_and(|s| id > s) {
                    self.last_rise = Some(now);
                }
                *seen = Some(seen.map_or(id, |s| s.max(id)));
            }
        }
        self.state(now)
    }

    /// What is known at `now` from the readings so far.
    pub fn state(&self, now: Instant) -> Shoppers {
        if self
            .last_rise
            .is_some_and(|rise| now.duration_since(rise) < Self::PRESENT_FOR)
        {
            return Shoppers::Present;
        }
        let (Some(since), Some(last_read)) = (self.since, self.last_read) else {
            return Shoppers::Unknown;
        };
        // Still for the quiet time as far as readings that succeeded saw, and lately (a rise
        // needs an earlier reading, so it is never before `since`).
        let quiet_since = self.last_rise.unwrap_or(since);
        if last_read.saturating_duration_since(quiet_since) >= Self::QUIET_AFTER
            && now.saturating_duration_since(last_read) <= Self::STALE_AFTER
        {
            Shoppers::Absent
        } else {
            Shoppers::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn a_still_shop_is_absent_after_the_quiet_time_and_not_before() {
        let t0 = Instant::now();
        let mut w = ShopperWatch::new();
        assert_eq!(w.state(t0), Shoppers::Unknown);
        assert_eq!(w.observe(t0, &[Some(40), Some(7)]), Shoppers::Unknown);
        assert_eq!(
            w.observe(at(t0, 4), &[Some(40), Some(7)]),
            Shoppers::Unknown
        );
        assert_eq!(w.observe(at(t0, 6), &[Some(40), Some(7)]), Shoppers::Absent);
    }

    #[test]
    fn a_new_guest_or_cart_means_present_until_the_visit_is_old() {
        let t0 = Instant::now();
        let mut w = ShopperWatch::new();
        w.observe(t0, &[Some(40), Some(7)]);
        w.observe(at(t0, 10), &[Some(40), Some(7)]);
        // A cart only (a returning visitor adding to cart).
        assert_eq!(
            w.observe(at(t0, 15), &[Some(40), Some(8)]),
            Shoppers::Present
        );
        assert_eq!(
            w.observe(at(t0, 100), &[Some(40), Some(8)]),
            Shoppers::Present
        );
        let same = [Some(40), Some(8)];
        assert_eq!(w.observe(at(t0, 15 + 119), &same), Shoppers::Present);
        assert_eq!(w.observe(at(t0, 15 + 120), &same), Shoppers::Absent);
        // A guest.
        assert_eq!(
            w.observe(at(t0, 200), &[Some(41), Some(8)]),
            Shoppers::Present
        );
    }

    #[test]
    fn unreadable_resources_say_nothing() {
        let t0 = Instant::now();
        let mut w = ShopperWatch::new();
        // Neither could be read: nothing is known however long it lasts.
        w.observe(t0, &[None, None]);
        assert_eq!(w.observe(at(t0, 60), &[None, None]), Shoppers::Unknown);
        // One failed read between two equal ones is no visitor, nor a gap that reads as one.
        let mut w = ShopperWatch::new();
        w.observe(t0, &[Some(5), None]);
        w.observe(at(t0, 5), &[None, None]);
        assert_eq!(w.observe(at(t0, 10), &[Some(5), None]), Shoppers::Absent);
        // The first id of a resource seen late is where it stands, not a visitor.
        assert_eq!(
            w.observe(at(t0, 15), &[Some(5), Some(90)]),
            Shoppers::Absent
        );
    }

    #[test]
    fn failed_readings_are_no_sign_of_a_still_shop() {
        let t0 = Instant::now();
        let mut w = ShopperWatch::new();
        w.observe(t0, &[Some(5), Some(1)]);
        // Nothing read for the quiet time: not known to be still.
        assert_eq!(w.observe(at(t0, 8), &[None, None]), Shoppers::Unknown);
        assert_eq!(w.observe(at(t0, 9), &[Some(5), None]), Shoppers::Absent);
        // Then every reading fails (a shop too busy to answer): absent goes stale.
        assert_eq!(w.observe(at(t0, 20), &[None, None]), Shoppers::Absent);
        assert_eq!(w.observe(at(t0, 25), &[None, None]), Shoppers::Unknown);
    }
}
