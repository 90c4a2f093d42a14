//! The three paces a user can choose and the hard caps they can set.
//!
//! A pace is a set of constants for the controllers. The constants are chosen against a
//! shop whose latency grows with the load it carries (a PrestaShop under load slows down,
//! it does not refuse): the ratio "current latency / unloaded latency" tells how much of the
//! shop's capacity is in use. Roughly, on a shop with C CPUs each busy with one request,
//! running `c > C` requests makes every request `c / C` times slower, shoppers included.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How hard prestalink may push a store; chosen per run (`--pace`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// One request at a time, short pages, backs off at the first sign of queueing.
    Polite,
    /// Uses the shop's spare capacity but keeps it from queueing (the default).
    #[default]
    Balanced,
    /// Keeps the shop saturated, accepting that its storefront slows down meanwhile.
    Max,
}

/// A `--pace` value that is not one of `polite`, `balanced`, `max`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown pace `{0}`: expected polite, balanced or max")]
pub struct UnknownPace(pub String);

impl FromStr for Pace {
    type Err = UnknownPace;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "polite" => Ok(Pace::Polite),
            "balanced" => Ok(Pace::Balanced),
            "max" => Ok(Pace::Max),
            _ => Err(UnknownPace(s.to_string())),
        }
    }
}

impl fmt::Display for Pace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pace::Polite => "polite",
            Pace::Balanced => "balanced",
            Pace::Max => "max",
        })
    }
}

/// Polite's pause after each answer, in multiples of its latency.
const POLITE_REST: f64 = 0.5;

/// Hard limits set by the user; the pacer never exceeds them, whatever it measures.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Caps {
    /// Most requests in flight at once (`--max-concurrency`).
    pub max_concurrency: Option<usize>,
    /// Most requests started per second (`--max-requests-per-second`).
    pub max_requests_per_second: Option<f64>,
    /// Largest page, in records, for every resource class (`--max-page-size`).
    pub max_page_size: Option<usize>,
    /// No pacing at all: exactly this many requests in flight and records per page (id
    /// lists: the largest id page, 5000, as every pace ends up using), whatever the shop's
    /// latency says (`--pinned CxP`). For benchmarks that compare the pacer with fixed
    /// settings; back-pressure still honours `Retry-After`.
    #[serde(default)]
    pub pinned: Option<Pinned>,
}

/// Fixed settings that replace the pacer's decisions ([`Caps::pinned`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pinned {
    /// Requests in flight (at least 1).
    pub concurrency: usize,
    /// Records per page of full records (at least 1).
    pub page_size: usize,
}

/// A `--pinned` value that is not `CxP` with two positive integers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pinned setting `{0}`: expected CONCURRENCYxPAGE_SIZE, e.g. 2x500")]
pub struct InvalidPinned(pub String);

impl FromStr for Pinned {
    type Err = InvalidPinned;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidPinned(s.to_string());
        let (c, p) = s.trim().split_once(['x', 'X']).ok_or_else(bad)?;
        let concurrency: usize = c.trim().parse().map_err(|_| bad())?;
        let page_size: usize = p.trim().parse().map_err(|_| bad())?;
        if concurrency == 0 || page_size == 0 {
            return Err(bad());
        }
        Ok(Pinned {
            concurrency,
            page_size,
        })
    }
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.concurrency, self.page_size)
    }
}

/// The constants of one pace, read by the controllers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PaceProfile {
    /// Highest concurrency this pace ever uses, before user caps.
    pub ceiling: usize,
    /// Share of the measured knee (the concurrency where the shop's latency started to
    /// grow) left to the storefront: requests are granted up to `knee − ⌈knee × share⌉`.
    pub storefront_reserve: f64,
    /// Grow only while the latency ratio of a window is at or below this.
    pub grow_below: f64,
    /// Shrink when the latency ratio of a window is at or above this.
    pub shrink_above: f64,
    /// Time per request the page-size controller aims at, unloaded.
    pub target_request_time: Duration,
    /// How often the unloaded baseline is measured again.
    pub probe_every: Duration,
    /// After each answer, no request starts for this many times its latency: the shop
    /// works for the reader at most `1 / (1 + rest)` of the time.
    pub rest: f64,
}

impl Pace {
    /// The constants for this pace. Why these values:
    /// - `grow_below` / `shrink_above` bound the latency inflation the pace accepts; between
    ///   them the limit holds still. The band is wide because a window's mean ratio is noisy:
    ///   pages differ by ~20 % and the baseline comes from a handful of probe pages, so it
    ///   can be ~10 % off. Polite and balanced stop growing at +10 %, i.e. at the knee
    ///   where the shop's CPUs are all busy but nothing queues yet; polite backs off from
    ///   +25 %, balanced from +35 % (one request more than the knee on a 4-CPU shop).
    ///   Max grows until +50 % and holds up to +80 %: past the knee, so every CPU stays busy
    ///   through the dips of a decrease; shoppers then wait 1.5-1.8x, which is the price.
    /// - `ceiling`: polite runs one request at a time, whatever the shop (a reader that
    ///   never holds more than one PHP worker); the others are bounded only to keep a wrong
    ///   measurement from running away.
    /// - `storefront_reserve`: once the knee is known, balanced keeps a third of it (at
    ///   least one worker) free for shoppers: on a 2-worker shop it reads one page at a
    ///   time, on a 4-worker shop two. A quarter left a 4-worker shop with 20 % storefront
    ///   load one free worker, and customers' p95 went 1.7x. Max keeps nothing back.
    /// - `target_request_time` is far below PHP's 30 s `max_execution_time` even when the
    ///   shop is loaded 2-3x; larger pages amortise the fixed cost of a request (~8 ms of a
    ///   PrestaShop bootstrap), shorter ones keep a polite reader's footprint small.
    /// - `rest`: polite pauses after each answer for half its latency, so the shop works for
    ///   it two thirds of the time at most. On a real PrestaShop 8.1.2 (2 cores, 20,000
    ///   orders) one request at a time in long pages still inflated the storefront's p95 by
    ///   1.22 (balanced, the same reader without the reserve, 1.28); the pauses give
    ///   shoppers CPU time the reader does not contend for.
    /// - `probe_every`: a probe runs one request at a time for a few pages, which costs
    ///   throughput on a large shop; every 30-120 s keeps that cost at a few percent.
    pub(crate) fn profile(self) -> PaceProfile {
        match self {
            Pace::Polite => PaceProfile {
                ceiling: 1,
                storefront_reserve: 0.5,
                grow_below: 1.10,
                shrink_above: 1.25,
                target_request_time: Duration::from_millis(500),
                probe_every: Duration::from_secs(30),
                rest: POLITE_REST,
            },
            Pace::Balanced => PaceProfile {
                ceiling: 64,
                storefront_reserve: 1.0 / 3.0,
                grow_below: 1.10,
                shrink_above: 1.35,
                target_request_time: Duration::from_secs(1),
                probe_every: Duration::from_secs(60),
                rest: 0.0,
            },
            Pace::Max => PaceProfile {
                ceiling: 256,
                storefront_reserve: 0.0,
                grow_below: 1.50,
                shrink_above: 1.80,
                target_request_time: Duration::from_secs(2),
                probe_every: Duration::from_secs(120),
                rest: 0.0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_paces_and_rejects_others() {
        assert_eq!("polite".parse::<Pace>(), Ok(Pace::Polite));
        assert_eq!("Balanced".parse::<Pace>(), Ok(Pace::Balanced));
        assert_eq!(" max ".parse::<Pace>(), Ok(Pace::Max));
        assert_eq!("fast".parse::<Pace>(), Err(UnknownPace("fast".to_string())));
        for pace in [Pace::Polite, Pace::Balanced, Pace::Max] {
            assert_eq!(pace.to_string().parse::<Pace>(), Ok(pace));
        }
    }

    #[test]
    fn parses_pinned_settings() {
        assert_eq!(
            "2x500".parse::<Pinned>(),
            Ok(Pinned {
                concurrency: 2,
                page_size: 500
            })
        );
        assert_eq!("2x500".parse::<Pinned>().unwrap().to_string(), "2x500");
        for bad in ["0x100", "2x0", "2", "x5", "2x", "ax5", "2x5x1"] {
            assert!(bad.parse::<Pinned>().is_err(), "{bad}");
        }
    }

    #[test]
    fn profiles_are_ordered_from_gentle_to_hard() {
        let (p, b, m) = (
            Pace::Polite.profile(),
            Pace::Balanced.profile(),
            Pace::Max.profile(),
        );
        assert!(p.ceiling < b.ceiling && b.ceiling < m.ceiling);
        assert!(p.shrink_above < b.shrink_above && b.shrink_above < m.shrink_above);
        for x in [p, b, m] {
            assert!(x.grow_below < x.shrink_above);
            assert!(x.target_request_time < Duration::from_secs(10));
        }
    }
}
