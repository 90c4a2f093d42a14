//! The page-size decision for one resource class: how many records one request asks for.
//!
//! Large pages amortise the fixed cost of a PrestaShop request, but a page must finish far
//! below PHP's `max_execution_time` (30 s by default) even on a loaded shop, and a large page
//! that hits PHP's memory limit answers 500. So:
//! - grow x1.5 after two full pages in a row at the current size whose larger successor is
//!   predicted (from the unloaded model) to stay within the pace's target request time, and
//!   whose observed latency was within the target too;
//! - halve at once after a timeout or a 5xx on a page larger than the minimum (and stay
//!   below 3/4 of the failed size for the next 1000 pages, so that a memory limit is not hit
//!   again and again), after a page slower than 3x the target (a loaded shop should not be
//!   handed long requests), and when the unloaded model says the page alone costs 2x the
//!   target;
//! - stay within the class's bounds and the user's `--max-page-size`.

use std::time::Duration;

use crate::outcome::ResourceClass;

/// Growth step: large enough to reach the target in a few steps, small enough to stay within
/// the baseline model's trusted range (x2) of the last measured size.
const GROWTH: f64 = 1.5;
/// Full pages at the current size needed before growing.
const STREAK_TO_GROW: u32 = 2;
/// A page slower than this many targets shrinks the page size (a loaded shop may stretch a
/// page by the pace's tolerated inflation, up to ~2x; beyond, the page itself is too big).
const TOO_SLOW: f64 = 3.0;
/// A page whose unloaded latency exceeds this many targets shrinks the page size.
const TOO_LARGE: f64 = 2.0;
/// Pages after a failure (timeout, 5xx) before sizes near the failed one are tried again.
const FORGET_FAILURE_AFTER: u32 = 1000;

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

/// One successful page, as the page-size controller sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    /// The page size the request was issued with.
    pub issued: usize,
    /// Records in the answer.
    pub records: usize,
    /// Observed latency.
    pub latency: Duration,
    /// Unloaded latency the model predicts for this page, if known.
    pub unloaded: Option<Duration>,
    /// Unloaded latency the model predicts for [`PageSizer::next_size`], if known.
    pub unloaded_next: Option<Duration>,
    /// One fast page is enough to grow (it was measured alone, during a probe).
    pub eager: bool,
}

/// The page size of one class and its growth streak.
#[derive(Debug, Clone)]
pub(crate) struct PageSizer {
    min: usize,
    max: usize,
    size: usize,
    streak: u32,
    target: Duration,
    /// The smallest size that failed (timeout, 5xx) recently; growth stays well below it.
    failed_at: Option<usize>,
    /// Pages since that failure; after `FORGET_FAILURE_AFTER` the size may be tried again.
    since_failure: u32,
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
            failed_at: None,
            since_failure: 0,
        }
    }

    /// A sizer that always asks for `size` records (`Caps::pinned`), outside the class's
    /// bounds if need be.
    pub fn pinned(size: usize, target: Duration) -> Self {
        let size = size.max(1);
        PageSizer {
            min: size,
            max: size,
            size,
            streak: 0,
            target,
            failed_at: None,
            since_failure: 0,
        }
    }

    /// Aims at another time per request from now on; `fits` is the largest page the
    /// unloaded model says fits in it: a larger current size comes down to it at once.
    pub fn set_target(&mut self, target: Duration, fits: Option<usize>) {
        self.target = target;
        if let Some(fits) = fits {
            if fits < self.size {
                self.size = fits.max(self.min);
                self.streak = 0;
            }
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
        let mut next = ((self.size as f64 * GROWTH).ceil() as usize).clamp(self.min, self.max);
        if let Some(failed) = self.failed_at {
            next = next.min(failed * 3 / 4).max(self.size);
        }
        next
    }

    /// A successful page. Returns true when the size changed.
    pub fn on_success(&mut self, page: Page) -> bool {
        let target = self.target.as_secs_f64();
        if let Some(failed) = self.failed_at {
            self.since_failure += 1;
            if self.since_failure >= FORGET_FAILURE_AFTER && page.issued < failed {
                self.failed_at = None;
            }
        }
        let too_slow = page.latency.as_secs_f64() > target * TOO_SLOW;
        let too_large = page
            .unloaded
            .is_some_and(|u| u.as_secs_f64() > target * TOO_LARGE);
        if too_slow || too_large {
            return self.shrink_from(page.issued, false);
        }
        if self.next_size() <= self.size {
            self.streak = 0;
            return false;
        }
        if page.issued != self.size || page.records < page.issued {
            // A stale size, or the last page of a resource: says nothing about a larger page.
            return false;
        }
        let predicted = page.unloaded_next.unwrap_or_else(|| {
            page.latency
                .mul_f64(self.next_size() as f64 / self.size.max(1) as f64)
        });
        if page.latency <= self.target && predicted <= self.target {
            self.streak += 1;
        } else {
            self.streak = 0;
        }
        if self.streak >= STREAK_TO_GROW || (page.eager && self.streak > 0) {
            self.size = self.next_size();
            self.streak = 0;
            return true;
        }
        false
    }

    /// A timeout or 5xx on a page issued at size `issued`. Returns true when the size changed.
    pub fn on_failure(&mut self, issued: usize) -> bool {
        self.shrink_from(issued, true)
    }

    fn shrink_from(&mut self, issued: usize, failed: bool) -> bool {
        self.streak = 0;
        if failed && issued > self.min {
            self.failed_at = Some(self.failed_at.map_or(issued, |f| f.min(issued)));
            self.since_failure = 0;
        }
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

    fn page(
        issued: usize,
        records: usize,
        latency: Duration,
        unloaded_next: Option<Duration>,
    ) -> Page {
        Page {
            issued,
            records,
            latency,
            unloaded: None,
            unloaded_next,
            eager: false,
        }
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
            p.on_success(page(s, s, lat, None));
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
            p.on_success(page(
                s,
                s,
                ms(10 * s as u64),
                Some(ms(10 * p.next_size() as u64)),
            ));
        }
        assert!((50..=100).contains(&p.size()), "{}", p.size());
    }

    #[test]
    fn partial_and_stale_pages_do_not_grow() {
        let mut p = PageSizer::new(ResourceClass::Full, ms(1000), None, None);
        for _ in 0..5 {
            p.on_success(page(100, 40, ms(10), None));
            p.on_success(page(50, 50, ms(10), None));
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
        assert!(p.on_success(page(150, 150, ms(3500), None)));
        assert_eq!(p.size(), 75);
        for _ in 0..10 {
            p.on_failure(p.size());
        }
        assert_eq!(p.size(), 5, "never below the class minimum");
    }

    #[test]
    fn stays_below_a_size_that_failed_then_tries_again_much_later() {
        let mut p = PageSizer::new(ResourceClass::Full, ms(1000), None, Some(400));
        assert!(p.on_failure(400));
        assert_eq!(p.size(), 200);
        let mut sizes = vec![];
        for _ in 0..FORGET_FAILURE_AFTER {
            let s = p.size();
            p.on_success(page(s, s, ms(10), None));
            sizes.push(p.size());
        }
        assert_eq!(*sizes.iter().max().unwrap(), 300, "3/4 of the failed size");
        for _ in 0..10 {
            let s = p.size();
            p.on_success(page(s, s, ms(10), None));
        }
        assert!(
            p.size() > 300,
            "the failure is forgotten after a while: {}",
            p.size()
        );
    }

    #[test]
    fn shrinks_a_page_the_model_says_is_too_costly_even_unloaded() {
        let mut p = PageSizer::new(ResourceClass::Heavy, ms(1000), None, Some(200));
        let mut slow = page(200, 200, ms(2500), None);
        slow.unloaded = Some(ms(2500));
        assert!(p.on_success(slow));
        assert_eq!(p.size(), 100);
        // The same latency without the model (it may be load) is left to the concurrency
        // controller.
        assert!(!p.on_success(page(100, 100, ms(2500), None)));
    }

    #[test]
    fn user_cap_bounds_every_size() {
        let mut p = PageSizer::new(ResourceClass::IdList, ms(1000), Some(40), None);
        assert_eq!(p.size(), 40);
        for _ in 0..10 {
            p.on_success(page(40, 40, ms(1), None));
        }
        assert_eq!(p.size(), 40);
        let p = PageSizer::new(ResourceClass::Full, ms(1000), Some(5000), Some(3000));
        assert_eq!(p.size(), 1000);
    }
}
