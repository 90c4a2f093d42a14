//! The page-size decision for one resource class: how many records one request asks for.
//!
//! Large pages amortise the fixed cost of a PrestaShop request, but a page must finish far
//! below PHP's `max_execution_time` (30 s by default) even on a loaded shop, and a large page
//! that hits PHP's memory limit answers 500. So:
//! - grow x1.5 after two full pages in a row at the current size whose larger successor is
//!   predicted (from the unloaded model) to stay within the pace's target request time, and
//!   whose observed latency was within the target too;
//! - halve at once after a timeout or a 5xx on a page larger than the minimum, and after a
//!   page slower than 3x the target (a loaded shop should not be handed long requests);
//! - stay within the class's bounds and the user's `--max-page-size`.

use std::time::Duration;

use crate::outcome::ResourceClass;

/// Growth step: large enough to reach the target in a few steps, small enough to stay within
/// the baseline model's trusted range (x2) of the last measured size.
const GROWTH: f64 = 1.5;
/// Full pages at the current size needed before growing.
const STREAK_TO_GROW: u32 = 2;
/// A page slower than this many targets shrinks the page size.
const TOO_SLOW: f64 = 3.0;

/// Page-size bounds and starting size of a class: `(min, start, max)`.
/// Id lists are cheap per record, so they start large; heavy records such as orders with
/// their associations cost ~1 ms each on a healthy shop, so they start small.
pub(crate) fn bounds(class: ResourceClass) -> (usize, usize, usize) {
    match class {
        ResourceClass::IdList => (100, 1000, 5000),
        ResourceClass::Full => (5, 100, 1000),
        ResourceClass::Heavy => (1, 50, 500),
    }
}

/// The page size of one class and its growth streak.
#[derive(Debug, Clone)]
pub(crate) struct PageSizer {
    min: usize,
    max: usize,
    size: usize,
    streak: u32,
    target: Duration,
}

impl PageSizer {
    /// A sizer for `class` aiming at `target` per request, starting from `start` (or the
    /// class default), capped by `cap`.
    pub fn new(
        class: ResourceClass,
        target: Duration,
        cap: Option<usize>,
        start: Option<usize>,
    ) -> Self {
        let (min, default_start, max) = bounds(class);
        let max = cap.map_or(max, |c| c.clamp(1, max));
        let min = min.min(max);
        PageSizer {
            min,
            max,
            size: start.unwrap_or(default_start).clamp(min, max),
            streak: 0,
            target,
        }
    }

    /// The page size to ask for now.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the size is not about to grow: no fast page is counted towards a growth.
    pub fn settled(&self) -> bool {
        self.streak == 0
    }

    /// The size the next growth step would ask for.
    pub fn next_size(&self) -> usize {
        ((self.size as f64 * GROWTH).ceil() as usize).clamp(self.min, self.max)
    }

    /// A successful page of `records` issued at size `issued`, which took `latency`;
    /// `predicted_next` is the unloaded latency predicted for [`Self::next_size`].
    /// `eager`: one fast page is enough to grow (the page was measured alone, during a
    /// probe). Returns true when the size changed.
    pub fn on_success(
        &mut self,
        issued: usize,
        records: usize,
        latency: Duration,
        predicted_next: Option<Duration>,
        eager: bool,
    ) -> bool {
        if latency.as_secs_f64() > self.target.as_secs_f64() * TOO_SLOW {
            return self.shrink_from(issued);
        }
        if self.size >= self.max {
            self.streak = 0;
            return false;
        }
        if issued != self.size || records < issued {
            // A stale size, or the last page of a resource: says nothing about a larger page.
            return false;
        }
        let predicted = predicted_next
            .unwrap_or_else(|| latency.mul_f64(self.next_size() as f64 / self.size.max(1) as f64));
        if latency <= self.target && predicted <= self.target {
            self.streak += 1;
        } else {
            self.streak = 0;
        }
        if self.streak >= STREAK_TO_GROW || (eager && self.streak > 0) {
            self.size = self.next_size();
            self.streak = 0;
            return true;
        }
        false
    }

    /// A timeout or 5xx on a page issued at size `issued`. Returns true when the size changed.
    pub fn on_failure(&mut self, issued: usize) -> bool {
        self.shrink_from(issued)
    }

    fn shrink_from(&mut self, issued: usize) -> bool {
        self.streak = 0;
        let to = (issued / 2).clamp(self.min, self.max).min(self.size);
        let changed = to != self.size;
        self.size = to;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Duration {
        Duration::from_millis(x)
    }

    #[test]
    fn grows_while_pages_are_fast_up_to_the_class_maximum() {
        let mut p = PageSizer::new(ResourceClass::Full, ms(1000), None, None);
        assert_eq!(p.size(), 100);
        let mut sizes = vec![];
        for _ in 0..20 {
            let s = p.size();
            // 0.5 ms per record: 1000 records take 0.5 s, always within a 1 s target.
            let lat = ms(s as u64 / 2);
            p.on_success(s, s, lat, None, false);
            sizes.push(p.size());
        }
        assert_eq!(&sizes[..4], &[100, 150, 150, 225]);
        assert_eq!(*sizes.last().unwrap(), 1000);
    }

    #[test]
    fn settles_where_the_next_step_would_exceed_the_target() {
        let mut p = PageSizer::new(ResourceClass::Heavy, ms(1000), None, None);
        for _ in 0..40 {
            let s = p.size();
            // 10 ms per record: the target allows 100 records.
            p.on_success(
                s,
                s,
                ms(10 * s as u64),
                Some(ms(10 * p.next_size() as u64)),
                false,
            );
        }
        assert!((50..=100).contains(&p.size()), "{}", p.size());
    }

    #[test]
    fn partial_and_stale_pages_do_not_grow() {
        let mut p = PageSizer::new(ResourceClass::Full, ms(1000), None, None);
        for _ in 0..5 {
            p.on_success(100, 40, ms(10), None, false);
            p.on_success(50, 50, ms(10), None, false);
        }
        assert_eq!(p.size(), 100);
    }

    #[test]
    fn halves_after_a_timeout_or_500_and_after_very_slow_pages() {
        let mut p = PageSizer::new(ResourceClass::Full, ms(1000), None, Some(800));
        assert!(p.on_failure(800));
        assert_eq!(p.size(), 400);
        // A late failure of an older, smaller page still shrinks from that page's size.
        assert!(p.on_failure(300));
        assert_eq!(p.size(), 150);
        // A failure of a page larger than the current one does not grow it back.
        assert!(!p.on_failure(800));
        assert_eq!(p.size(), 150);
        assert!(p.on_success(150, 150, ms(3500), None, false));
        assert_eq!(p.size(), 75);
        for _ in 0..10 {
            p.on_failure(p.size());
        }
        assert_eq!(p.size(), 5, "never below the class minimum");
    }

    #[test]
    fn user_cap_bounds_every_size() {
        let mut p = PageSizer::new(ResourceClass::IdList, ms(1000), Some(40), None);
        assert_eq!(p.size(), 40);
        for _ in 0..10 {
            p.on_success(40, 40, ms(1), None, false);
        }
        assert_eq!(p.size(), 40);
        let p = PageSizer::new(ResourceClass::Full, ms(1000), Some(5000), Some(3000));
        assert_eq!(p.size(), 1000);
    }
}
