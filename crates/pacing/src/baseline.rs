//! The unloaded latency of one resource class, as a function of the records in a page.
//!
//! Pages of different sizes cost different times, so a latency means nothing alone; it is
//! compared with what the same page costs on an idle shop. That cost is modelled as
//! `overhead + per_record * records` (PrestaShop boots for ~8 ms, then pays per record),
//! fitted by least squares through "solo" samples: requests that ran while no other request
//! of ours was in flight, so that our own load did not inflate them. Solo samples come from
//! the start of a run and from probes. A point is trusted only near where it was measured
//! (within a factor 2 of its page size): far extrapolation of a 2-parameter fit is too rough
//! to decide on.

use std::time::Duration;

/// Points measured at most this many probe rounds ago are kept; older ones describe a shop
/// that may have changed since.
const ROUNDS_KEPT: u64 = 4;
/// At most this many page sizes are remembered per class; the fit needs only a few.
const MAX_POINTS: usize = 8;
/// A point predicts latency for pages within this factor of its own size.
const TRUST_FACTOR: f64 = 2.0;

/// Weight of a new probe round's mean against what older rounds measured at one page size.
const NEW_ROUND_WEIGHT: f64 = 0.5;

/// One measured page size: the mean solo latency of its latest round, blended with what
/// older rounds measured.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    records: usize,
    round: u64,
    /// Mean and count of the latest round's samples.
    mean: f64,
    samples: u32,
    /// The latency older rounds gave, if any.
    before: Option<f64>,
}

impl Point {
    fn new(records: usize, latency: f64, round: u64, before: Option<f64>) -> Point {
        Point {
            records,
            round,
            mean: latency,
            samples: 1,
            before,
        }
    }

    /// The unloaded latency of this page size, in seconds.
    fn latency(&self) -> f64 {
        match self.before {
            Some(before) => (1.0 - NEW_ROUND_WEIGHT) * before + NEW_ROUND_WEIGHT * self.mean,
            None => self.mean,
        }
    }
}

/// The unloaded latency model of one class.
#[derive(Debug, Clone, Default)]
pub(crate) struct Baseline {
    points: Vec<Point>,
}

impl Baseline {
    /// A model restored from saved settings, valid around `page_size`; later measurements
    /// replace it.
    pub fn restored(overhead: f64, per_record: f64, page_size: usize) -> Baseline {
        let mut baseline = Baseline::default();
        for records in [page_size, (page_size / 2).max(1)] {
            baseline.points.push(Point::new(
                records,
                overhead + per_record * records as f64,
                0,
                None,
            ));
        }
        baseline.points.dedup_by_key(|p| p.records);
        baseline
    }

    /// Records a solo sample taken during probe round `round`. Within one round the samples
    /// are averaged (real pages vary by ±20 %; a minimum would sit below the typical page
    /// and make an idle shop look loaded); a new round's mean is blended half and half with
    /// the older value, so the model follows the shop up as well as down within two rounds
    /// without jumping on one odd probe.
    pub fn add_solo(&mut self, records: usize, latency: Duration, round: u64) {
        let latency = latency.as_secs_f64();
        self.points
            .retain(|p| p.round + ROUNDS_KEPT > round || p.records == records);
        match self.points.iter_mut().find(|p| p.records == records) {
            Some(p) if p.round == round => {
                p.samples += 1;
                p.mean += (latency - p.mean) / p.samples as f64;
            }
            Some(p) => *p = Point::new(records, latency, round, Some(p.latency())),
            None => {
                if self.points.len() >= MAX_POINTS {
                    let oldest = (0..self.points.len())
                        .min_by_key(|&i| self.points[i].round)
                        .unwrap_or(0);
                    self.points.remove(oldest);
                }
                self.points.push(Point::new(records, latency, round, None));
            }
        }
    }

    /// The fitted `(overhead, per_record)` in seconds, or `None` before any solo sample.
    pub fn fit(&self) -> Option<(f64, f64)> {
        match self.points.as_slice() {
            [] => None,
            [only] => Some(single_point_fit(only.records, only.latency())),
            points => Some(least_squares(points)),
        }
    }

    /// The unloaded latency of a page of `records`, if a measured point is close enough to
    /// trust the model there.
    pub fn expected(&self, records: usize) -> Option<Duration> {
        let n = records.max(1) as f64;
        let near = self.points.iter().any(|p| {
            let m = p.records.max(1) as f64;
            n <= m * TRUST_FACTOR && m <= n * TRUST_FACTOR
        });
        if !near {
            return None;
        }
        let (a, b) = self.fit()?;
        Some(Duration::from_secs_f64((a + b * records as f64).max(1e-6)))
    }

    /// The unloaded latency the model predicts for `records`, trusted or not; used only to
    /// decide whether a larger page would still be fast.
    pub fn extrapolate(&self, records: usize) -> Option<Duration> {
        let (a, b) = self.fit()?;
        Some(Duration::from_secs_f64((a + b * records as f64).max(1e-6)))
    }
}

/// With one point the split between overhead and per-record cost is unknown; assume the
/// overhead is a tenth of the page (right for pages of ~100 full records on PrestaShop).
fn single_point_fit(records: usize, latency: f64) -> (f64, f64) {
    if records == 0 {
        return (latency, 0.0);
    }
    let overhead = latency * 0.1;
    (overhead, (latency - overhead) / records as f64)
}

/// Least squares for `latency = a + b * records`, constrained to a, b >= 0.
fn least_squares(points: &[Point]) -> (f64, f64) {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.records as f64).sum::<f64>() / n;
    let my = points.iter().map(|p| p.latency()).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.records as f64 - mx).powi(2)).sum();
    let sxy: f64 = points
        .iter()
        .map(|p| (p.records as f64 - mx) * (p.latency() - my))
        .sum();
    if sxx <= f64::EPSILON {
        // All points at one page size.
        return single_point_fit(mx as usize, my);
    }
    let b = sxy / sxx;
    let a = my - b * mx;
    if b < 0.0 {
        // Noise made larger pages look cheaper: treat the cost as flat.
        return (my, 0.0);
    }
    if a < 0.0 {
        // Fit through the origin instead.
        let sxy0: f64 = points.iter().map(|p| p.records as f64 * p.latency()).sum();
        let sxx0: f64 = points.iter().map(|p| (p.records as f64).powi(2)).sum();
        return (0.0, sxy0 / sxx0);
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Duration {
        Duration::from_millis(x)
    }

    #[test]
    fn no_model_before_any_sample() {
        let b = Baseline::default();
        assert_eq!(b.fit(), None);
        assert_eq!(b.expected(100), None);
    }

    #[test]
    fn fits_overhead_and_per_record_cost_from_two_sizes() {
        let mut b = Baseline::default();
        // 8 ms + 0.4 ms per record.
        b.add_solo(100, ms(48), 1);
        b.add_solo(200, ms(88), 1);
        let (a, per) = b.fit().unwrap();
        assert!((a - 0.008).abs() < 1e-9, "{a}");
        assert!((per - 0.0004).abs() < 1e-9, "{per}");
        assert_eq!(b.expected(150), Some(Duration::from_secs_f64(0.068)));
    }

    #[test]
    fn trusts_the_model_only_near_measured_sizes() {
        let mut b = Baseline::default();
        b.add_solo(100, ms(48), 1);
        assert!(b.expected(200).is_some());
        assert!(b.expected(50).is_some());
        assert_eq!(b.expected(201), None);
        assert_eq!(b.expected(49), None);
        assert!(b.extrapolate(1000).is_some());
    }

    fn approx(d: Option<Duration>, want_ms: f64) -> bool {
        d.is_some_and(|d| (d.as_secs_f64() * 1000.0 - want_ms).abs() < 1e-6)
    }

    #[test]
    fn averages_within_a_round_and_blends_a_new_round() {
        let mut b = Baseline::default();
        b.add_solo(100, ms(60), 1);
        b.add_solo(100, ms(50), 1);
        b.add_solo(100, ms(70), 1);
        assert!(approx(b.expected(100), 60.0), "{:?}", b.expected(100));
        // The shop got slower: the next round moves the baseline half way, then further.
        b.add_solo(100, ms(100), 2);
        assert!(approx(b.expected(100), 80.0), "{:?}", b.expected(100));
        b.add_solo(100, ms(120), 2);
        assert!(approx(b.expected(100), 85.0), "{:?}", b.expected(100));
        b.add_solo(100, ms(110), 3);
        assert!(approx(b.expected(100), 97.5), "{:?}", b.expected(100));
    }

    #[test]
    fn forgets_points_from_old_rounds() {
        let mut b = Baseline::default();
        b.add_solo(10, ms(10), 1);
        b.add_solo(100, ms(100), 5);
        // The round-1 point is dropped: only the 100-record point remains.
        assert_eq!(b.expected(10), None);
        assert!(b.expected(100).is_some());
    }

    #[test]
    fn negative_slopes_and_intercepts_are_clamped() {
        let mut b = Baseline::default();
        b.add_solo(100, ms(50), 1);
        b.add_solo(200, ms(40), 1);
        let (a, per) = b.fit().unwrap();
        assert_eq!(per, 0.0);
        assert!((a - 0.045).abs() < 1e-9);

        let mut b = Baseline::default();
        b.add_solo(100, ms(10), 1);
        b.add_solo(200, ms(100), 1);
        let (a, per) = b.fit().unwrap();
        assert_eq!(a, 0.0);
        assert!(per > 0.0);
    }

    #[test]
    fn restored_model_predicts_its_own_values() {
        let b = Baseline::restored(0.008, 0.0004, 100);
        let (a, per) = b.fit().unwrap();
        assert!((a - 0.008).abs() < 1e-9 && (per - 0.0004).abs() < 1e-9);
        assert!(b.expected(100).is_some());
    }
}
