//! Fault injection: the ways real PrestaShop hosts fail a reader, at chosen rates,
//! deterministic for a seed (the n-th request always gets the same draw).
//!
//! Syntax of `--faults SPEC`: comma-separated items, each optional:
//!
//! | item | effect |
//! |---|---|
//! | `500=P` | answer 500 with a PrestaShop error document (a PHP warning, code 3) |
//! | `reset=P` | close the connection without any answer |
//! | `truncate=P` | announce the full `Content-Length`, send half the body, close |
//! | `badchar=P` | insert a character XML forbids (`\x0b`) or an invalid UTF-8 byte (JSON) into the body |
//! | `empty=P` | answer 200 with an empty body (PHP's `json_encode` failed) |
//! | `slow=P:DUR` | hold the worker `DUR` longer (`2s`, `500ms`), a slow query |
//! | `fail=RESOURCE` | that resource always answers 500 with an empty body (a broken override's fatal error); repeatable |
//! | `seed=N` | seed of the draws (default 7) |
//!
//! `P` is a probability in 0..=1. `500`, `reset`, `truncate`, `badchar` and `empty` exclude each
//! other (one draw picks at most one; their sum must be ≤ 1); `slow` is drawn separately.
//! Example: `500=0.05,reset=0.01,truncate=0.01,badchar=0.01,empty=0.01,slow=0.02:2s,fail=order_details,seed=7`.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One fault that replaces or damages an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 with a PrestaShop error document.
    ServerError,
    /// Connection closed without an answer.
    Reset,
    /// Body cut short of its announced length.
    Truncate,
    /// An invalid character in the body.
    BadChar,
    /// 200 with an empty body.
    Empty,
    /// The resource is broken (fatal error): 500, empty body.
    BrokenResource,
}

impl Fault {
    /// Name used in the spec and in the counters.
    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError => "500",
            Fault::Reset => "reset",
            Fault::Truncate => "truncate",
            Fault::BadChar => "badchar",
            Fault::Empty => "empty",
            Fault::BrokenResource => "fail",
        }
    }
}

/// The fault rates of a simulator (all zero by default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Faults {
    /// Probability of a 500 with a PrestaShop error document.
    pub server_error: f64,
    /// Probability of a connection closed without an answer.
    pub reset: f64,
    /// Probability of a body cut short of its Content-Length.
    pub truncate: f64,
    /// Probability of an invalid character inserted into the body.
    pub bad_char: f64,
    /// Probability of an empty 200 body.
    pub empty: f64,
    /// Probability and extra duration, in real time (not scaled by the time scale, so a
    /// slow answer is slow even when the capacity model is switched off).
    pub slow: Option<(f64, Duration)>,
    /// Resources that always fail.
    pub fail: Vec<String>,
    /// Seed of the draws.
    pub seed: u64,
}

impl Faults {
    /// True when no fault can ever be injected.
    pub fn is_none(&self) -> bool {
        self.server_error + self.reset + self.truncate + self.bad_char + self.empty == 0.0
            && self.slow.is_none_or(|(p, _)| p == 0.0)
            && self.fail.is_empty()
    }
}

/// Parse `2s`, `500ms`, `1.5s` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad duration {s:?}: expected e.g. 2s or 500ms"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("bad duration {s:?}: must be ≥ 0"));
    }
    Ok(Duration::from_secs_f64(v * unit))
}

fn probability(key: &str, v: &str) -> Result<f64, String> {
    let p: f64 = v
        .parse()
        .map_err(|_| format!("{key}={v}: expected a probability such as 0.05"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("{key}={v}: a probability must be between 0 and 1"));
    }
    Ok(p)
}

impl FromStr for Faults {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut f = Faults {
            seed: 7,
            ..Faults::default()
        };
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("fault {item:?}: expected KIND=VALUE"))?;
            match key {
                "500" => f.server_error = probability(key, value)?,
                "reset" => f.reset = probability(key, value)?,
                "truncate" => f.truncate = probability(key, value)?,
                "badchar" => f.bad_char = probability(key, value)?,
                "empty" => f.empty = probability(key, value)?,
                "slow" => {
                    let (p, d) = value
                        .split_once(':')
                        .ok_or_else(|| format!("slow={value}: expected P:DURATION, e.g. 0.02:2s"))?;
                    f.slow = Some((probability(key, p)?, parse_duration(d)?));
                }
                "fail" => f.fail.push(value.to_string()),
                "seed" => {
                    f.seed = value
                        .parse()
                        .map_err(|_| format!("seed={value}: expected an integer"))?
                }
                _ => {
                    return Err(format!(
                        "unknown fault {key:?}: expected 500, reset, truncate, badchar, empty, slow, fail or seed"
                    ))
                }
            }
        }
        let sum = f.server_error + f.reset + f.truncate + f.bad_char + f.empty;
        if sum > 1.0 + 1e-9 {
            return Err(format!(
                "the rates of 500, reset, truncate, badchar and empty add up to {sum}, more than 1"
            ));
        }
        Ok(f)
    }
}

/// What to do to one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    /// The fault replacing or damaging the answer, if any.
    pub fault: Option<Fault>,
    /// Extra time to hold the worker.
    pub slow: Option<Duration>,
}

/// Draws faults for successive requests from a seeded generator.
#[derive(Debug)]
pub struct FaultInjector {
    spec: Faults,
    rng: Mutex<ChaCha8Rng>,
}

impl FaultInjector {
    /// An injector for `spec`, seeded with `spec.seed`.
    pub fn new(spec: Faults) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(spec.seed);
        FaultInjector {
            spec,
            rng: Mutex::new(rng),
        }
    }

    /// The spec this injector draws from.
    pub fn spec(&self) -> &Faults {
        &self.spec
    }

    /// Decide the fate of the next answer, for `resource` (`None` = root listing).
    pub fn decide(&self, resource: Option<&str>) -> Decision {
        if self.spec.is_none() {
            return Decision::default();
        }
        let (roll, slow_roll) = {
            let mut rng = self.rng.lock().expect("fault rng");
            (rng.gen::<f64>(), rng.gen::<f64>())
        };
        let s = &self.spec;
        let slow = s.slow.filter(|(p, _)| slow_roll < *p).map(|(_, d)| d);
        if resource.is_some_and(|r| s.fail.iter().any(|f| f == r)) {
            return Decision {
                fault: Some(Fault::BrokenResource),
                slow,
            };
        }
        let mut edge = 0.0;
        let mut fault = None;
        for (p, kind) in [
            (s.server_error, Fault::ServerError),
            (s.reset, Fault::Reset),
            (s.truncate, Fault::Truncate),
            (s.bad_char, Fault::BadChar),
            (s.empty, Fault::Empty),
        ] {
            edge += p;
            if roll < edge {
                fault = Some(kind);
                break;
            }
        }
        Decision { fault, slow }
    }
}

/// Damage a body with a character a strict parser rejects: `\x0b` (forbidden in XML 1.0)
/// inside the first CDATA section, or an invalid UTF-8 byte (a raw Latin-1 `é`) inside the
/// first JSON string. Bodies without either get the byte appended.
pub fn insert_bad_char(body: &[u8]) -> Vec<u8> {
    let find = |needle: &[u8]| body.windows(needle.len()).position(|w| w == needle);
    let (at, bad): (usize, &[u8]) = if let Some(i) = find(b"<![CDATA[") {
        (i + 9, b"\x0b")
    } else if let Some(i) = find(b":\"") {
        (i + 2, b"\xe9")
    } else {
        (body.len(), b"\xe9")
    };
    let mut out = Vec::with_capacity(body.len() + 1);
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(bad);
    out.extend_from_slice(&body[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let f: Faults =
            "500=0.05,reset=0.01,truncate=0.01,badchar=0.01,empty=0.01,slow=0.02:2s,fail=order_details,seed=9"
                .parse()
                .unwrap();
        assert_eq!(f.server_error, 0.05);
        assert_eq!(f.slow, Some((0.02, Duration::from_secs(2))));
        assert_eq!(f.fail, vec!["order_details".to_string()]);
        assert_eq!(f.seed, 9);
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "500=2",
            "reset",
            "slow=0.1",
            "boom=0.1",
            "500=0.6,reset=0.6",
            "slow=0.1:xs",
        ] {
            assert!(bad.parse::<Faults>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rate_one_always_faults_and_draws_are_deterministic() {
        let inj = FaultInjector::new("truncate=1".parse().unwrap());
        for _ in 0..50 {
            assert_eq!(inj.decide(Some("orders")).fault, Some(Fault::Truncate));
        }
        let spec: Faults = "500=0.3,reset=0.2,seed=3".parse().unwrap();
        let a = FaultInjector::new(spec.clone());
        let b = FaultInjector::new(spec);
        let da: Vec<_> = (0..200).map(|_| a.decide(Some("orders"))).collect();
        let db: Vec<_> = (0..200).map(|_| b.decide(Some("orders"))).collect();
        assert_eq!(da, db);
        let errors = da
            .iter()
            .filter(|d| d.fault == Some(Fault::ServerError))
            .count();
        assert!((30..=90).contains(&errors), "{errors} of 200 at rate 0.3");
    }

    #[test]
    fn broken_resource_only_hits_that_resource() {
        let inj = FaultInjector::new("fail=order_details".parse().unwrap());
        assert_eq!(
            inj.decide(Some("order_details")).fault,
            Some(Fault::BrokenResource)
        );
        assert_eq!(inj.decide(Some("orders")).fault, None);
    }

    #[test]
    fn bad_char_breaks_xml_and_utf8() {
        let xml = insert_bad_char(b"<a><![CDATA[x]]></a>");
        assert_eq!(xml, b"<a><![CDATA[\x0bx]]></a>");
        let json = insert_bad_char(b"{\"a\":\"x\"}");
        assert!(std::str::from_utf8(&json).is_err());
    }
}
