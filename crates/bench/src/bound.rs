//! The capacity bound T*: how long the reads of a full sync would take if every one of the
//! shop's workers served them all the time, each resource read with its cheapest page size.
//!
//! For each resource `r` with `n` records, the shop serves one id listing (ids only, weight
//! 1/70 of a full order) and the full records (weight `resource_weight(r)`). A page of `p`
//! records costs `work(p) = base + per_full_record × weight × (p + 0.6 × max(0, p − 100))`
//! ([`Capacity::work`], PHP and database parts); reading `n` records in pages of `p` costs
//! `⌊n/p⌋ × work(p) + work(n mod p)`, and the best `p` is the one minimising that among
//! pages whose service stays within `max_execution_time`. Then
//!
//! ```text
//! W  = Σ_r (best listing work(r) + best full work(r))
//! T* = time_scale × busy_bound(W)
//! ```
//!
//! where [`Capacity::busy_bound`] spreads `W` over the host with every resource busy: the
//! cores (or the workers, when fewer), and a separate database server's cores.
//!
//! T* ignores what a single request's latency adds at the end of a resource, the storefront's
//! share of the workers (a steady 20 % shopper load leaves 80 %, so even a perfect reader sees
//! wall / T* ≥ 1.25) and everything on the client's side (decoding, mapping, writing).

use std::time::Duration;

use prestalink_simulator::api::Cost;
use prestalink_simulator::capacity::{Capacity, Work};

/// The bound and what it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// T*, in real (scaled) seconds.
    pub seconds: f64,
    /// Total work of the reads (PHP + database), in host (unscaled) seconds.
    pub work_seconds: f64,
    /// Per resource: (name, records, best listing page, best full page).
    pub resources: Vec<(String, usize, usize, usize)>,
}

/// T* for reading `records` (resource name, record count) from a shop of `capacity`.
pub fn capacity_bound(capacity: &Capacity, records: &[(String, usize)]) -> Bound {
    let mut work = Work::ZERO;
    let mut resources = Vec::new();
    for (name, n) in records {
        let (list_cost, list_page) = cheapest(capacity, name, *n, false);
        let (full_cost, full_page) = cheapest(capacity, name, *n, true);
        work = work + list_cost + full_cost;
        resources.push((name.clone(), *n, list_page, full_page));
    }
    Bound {
        seconds: capacity.busy_bound(work).as_secs_f64() * capacity.time_scale,
        work_seconds: work.total().as_secs_f64(),
        resources,
    }
}

/// The cheapest way to read `n` records of `resource` (`full` records or ids only): the total
/// work (PHP and database) and the page size that gives it. An empty resource still costs
/// one request.
pub fn cheapest(capacity: &Capacity, resource: &str, n: usize, full: bool) -> (Work, usize) {
    let work = |records: usize| capacity.work(Some(resource), Cost { records, full });
    if n == 0 {
        return (work(0), 1);
    }
    let mut best = (Work::ZERO, 1);
    let mut best_total = Duration::MAX;
    for page in 1..=n {
        let one = work(page);
        if one.php > capacity.max_execution_time && page > 1 {
            break;
        }
        let full_pages = (n / page) as f64;
        let rest = n % page;
        let total = one.mul_f64(full_pages) + if rest > 0 { work(rest) } else { Work::ZERO };
        if total.total() < best_total {
            best_total = total.total();
            best = (total, page);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use prestalink_simulator::capacity::Profile;

    #[test]
    fn orders_read_best_in_pages_of_one_hundred_on_the_laptop() {
        // Past 100 records a page costs 1.6x per record; the laptop's fixed cost is less
        // than 60 records' extra cost, so 100 is the cheapest page for full orders.
        let cap = Capacity::profile(Profile::Laptop);
        let (cost, page) = cheapest(&cap, "orders", 2000, true);
        assert_eq!(page, 100);
        let one = cap.work(
            Some("orders"),
            Cost {
                records: 100,
                full: true,
            },
        );
        assert!(cost.total().abs_diff(one.total() * 20) < Duration::from_micros(1));
    }

    #[test]
    fn id_lists_read_best_in_one_page() {
        let cap = Capacity::profile(Profile::Vps);
        let (_, page) = cheapest(&cap, "orders", 5000, false);
        assert_eq!(page, 5000);
    }

    #[test]
    fn bound_divides_by_cores_and_scales() {
        let records = vec![
            ("orders".to_string(), 1000),
            ("order_details".to_string(), 3000),
        ];
        let laptop = Capacity {
            time_scale: 0.5,
            ..Capacity::profile(Profile::Laptop)
        };
        let vps = Capacity {
            time_scale: 0.5,
            ..Capacity::profile(Profile::Vps)
        };
        let a = capacity_bound(&laptop, &records);
        let b = capacity_bound(&vps, &records);
        // Same costs, twice the cores (both with 5 workers).
        assert!((a.seconds / b.seconds - 2.0).abs() < 1e-6);
        assert!((a.seconds - a.work_seconds * 0.5 / 2.0).abs() < 1e-6);
        assert_eq!(a.resources.len(), 2);
    }

    #[test]
    fn pages_stay_within_max_execution_time() {
        let cap = Capacity {
            max_execution_time: Duration::from_millis(100),
            ..Capacity::profile(Profile::SharedHosting)
        };
        let (_, page) = cheapest(&cap, "order_histories", 100_000, true);
        assert!(
            cap.work(
                Some("order_histories"),
                Cost {
                    records: page,
                    full: true
                }
            )
            .php <= cap.max_execution_time
        );
    }
}
