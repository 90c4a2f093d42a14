//! Background activity of a live shop: data changing (churn) and shoppers browsing the
//! storefront, which compete with a reader for the same PHP workers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::handler::shopper_visit;
use super::Shared;
use crate::churn::Churn;

/// How often churn is applied.
const CHURN_TICK: Duration = Duration::from_millis(100);

/// Apply `per_second` store changes per second with [`Churn::step`], at the shop's local time
/// (PrestaShop's PHP); with a database time zone, every other step is dated by the
/// database's clock instead (a module or script writing `date_upd = NOW()`).
pub(crate) async fn churn(
    shared: Arc<Shared>,
    seed: u64,
    per_second: f64,
    db_timezone: Option<String>,
) {
    let mut churn = Churn::new(seed);
    let mut by_sql = false;
    let mut owed = 0.0;
    let mut tick = tokio::time::interval(CHURN_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        owed += per_second * CHURN_TICK.as_secs_f64();
        let changes = owed.floor() as usize;
        if changes == 0 {
            continue;
        }
        owed -= changes as f64;
        let mut store = shared.store.write().expect("store lock");
        let now = match (&db_timezone, by_sql) {
            (Some(zone), true) => local_now(zone),
            _ => local_now(&store.timezone),
        };
        by_sql = db_timezone.is_some() && !by_sql;
        let report = churn.step(&mut store, now, changes);
        drop(store);
        shared.counters.churned(report.len());
    }
}

/// Now, local to `timezone` (PS_TIMEZONE for PHP's dates, the database's for SQL's).
pub(crate) fn local_now(timezone: &str) -> chrono::NaiveDateTime {
    let utc = chrono::Utc::now();
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc.with_timezone(&tz).naive_local(),
        Err(_) => utc.naive_utc(),
    }
}

/// Storefront visits arriving at random (Poisson) so that they keep `load` of the host busy on
/// average (of its cores, or of its workers when there are fewer); each visit queues for a
/// worker like any request, shares the cores, and records its latency.
pub(crate) async fn shopper_load(shared: Arc<Shared>, load: f64, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5409_9e25);
    loop {
        let cap = shared.capacity();
        let visit = cap.scaled(cap.shopper_work().total());
        if visit.is_zero() {
            // Time scale 0: visits cost nothing, so there is no load to simulate.
            tracing::warn!("--shopper-load needs a time scale above 0; no shopper load");
            return;
        }
        let per_second = load * cap.parallelism() / visit.as_secs_f64();
        let gap = -(1.0 - rng.gen::<f64>()).ln() / per_second;
        tokio::time::sleep(Duration::from_secs_f64(gap)).await;
        let shared = shared.clone();
        tokio::spawn(async move { shopper_visit(&shared, Instant::now()).await });
    }
}
