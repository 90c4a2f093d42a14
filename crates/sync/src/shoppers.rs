//! Watching the storefront's visitors while a balanced run reads (see
//! [`prestalink_pacing::ShopperWatch`]): the newest guest and cart ids, every few seconds,
//! tell the pacer whether to keep a share of the shop free for shoppers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prestalink_pacing::{Pacer, ShopperWatch, Shoppers};
use prestalink_webservice::{Direction, Display, Error as WsError, Query};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument;

use crate::fetch::Fetcher;

/// The resources whose newest id rises with visitors: guests (a visitor without the shop's
/// cookie) and carts (a product added to a cart).
const WATCHED: [&str; 2] = ["guests", "carts"];

/// Watches while it lives; when dropped (the run's reads ended), the watch stops and the
/// pacer forgets what it said.
pub(crate) struct Watching {
    _task: AbortOnDropHandle<()>,
    pacer: Pacer,
    live: Live,
}

/// Whether the watch may still tell the pacer: the task tells it holding this lock, and
/// the drop clears it under the lock before resetting the pacer, so that a reading
/// finishing on another thread meanwhile cannot set a state after the reset.
type Live = Arc<Mutex<bool>>;

impl Drop for Watching {
    fn drop(&mut self) {
        *self.live.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.pacer.set_shoppers(Shoppers::Unknown);
    }
}

/// Tells the pacer `shoppers` unless the watch was dropped.
fn tell(live: &Live, pacer: &Pacer, shoppers: Shoppers) {
    let live = live.lock().unwrap_or_else(|e| e.into_inner());
    if *live {
        pacer.set_shoppers(shoppers);
    }
}

/// Starts watching for a pacer that uses it ([`Pacer::watches_shoppers`]); `None` otherwise.
/// Resources the key may not read (`unreadable`, from the diagnosis) are not asked for.
pub(crate) fn watch(fetcher: &Fetcher, unreadable: &[String]) -> Option<Watching> {
    if !fetcher.pacer().watches_shoppers() {
        return None;
    }
    let readable: Vec<&'static str> = WATCHED
        .into_iter()
        .filter(|r| !unreadable.iter().any(|u| u == r))
        .collect();
    if readable.is_empty() {
        return None;
    }
    let live: Live = Arc::new(Mutex::new(true));
    let task = tokio::spawn(
        run(
            fetcher.clone(),
            readable,
            live.clone(),
            ShopperWatch::FIRST_EVERY,
            ShopperWatch::EVERY,
        )
        .in_current_span(),
    );
    Some(Watching {
        _task: AbortOnDropHandle::new(task),
        pacer: fetcher.pacer().clone(),
        live,
    })
}

/// Reads the newest ids every `first_every` while nothing is known, then every `every`.
async fn run(
    fetcher: Fetcher,
    watched: Vec<&'static str>,
    live: Live,
    first_every: Duration,
    every: Duration,
) {
    let mut watch = ShopperWatch::new();
    // Positions in the watch's readings stay those of `watched`; a resource that cannot be
    // read for good (no permission, no such resource) is no longer asked.
    let mut readable = vec![true; watched.len()];
    loop {
        let started = tokio::time::Instant::now();
        let mut newest = vec![None; watched.len()];
        for (i, resource) in watched.iter().enumerate() {
            if !readable[i] {
                continue;
            }
            match newest_id(&fetcher, resource).await {
                Ok(id) => newest[i] = id,
                Err(e) if !e.is_transient() => {
                    tracing::debug!(resource, error = %e, "not watching storefront visitors there");
                    readable[i] = false;
                }
                Err(_) => {}
            }
        }
        if !readable.contains(&true) {
            tell(&live, fetcher.pacer(), Shoppers::Unknown);
            return;
        }
        let shoppers = watch.observe(Instant::now(), &newest);
        tell(&live, fetcher.pacer(), shoppers);
        // The next reading a period after this one started, never sooner than now: a
        // reading that waited long (a Retry-After pause, a full pacer) is not followed by
        // the ones it missed.
        let period = if shoppers == Shoppers::Unknown {
            first_every
        } else {
            every
        };
        tokio::time::sleep_until(started + period).await;
    }
}

/// The newest id of `resource` (`None` when it has no rows): one id, sorted by id
/// descending ([`Fetcher::unsampled`]).
pub(crate) async fn newest_id(fetcher: &Fetcher, resource: &str) -> Result<Option<u64>, WsError> {
    let query = Query::list(resource)?
        .display(Display::Fields(vec!["id".into()]))?
        .sort("id", Direction::Desc)?
        .limit(0, 1);
    let page = fetcher.unsampled(fetcher.client().get(&query)).await?;
    Ok(page.into_records().first().and_then(|r| r.id()))
}

#[cfg(test)]
mod tests {
    use prestalink_pacing::{Caps, Pace};
    use prestalink_simulator::generator::GenConfig;

    use super::*;
    use crate::engine::testing::harness;

    async fn visit(base_url: &str) {
        let page = reqwest::get(format!("{base_url}/")).await.unwrap();
        assert_eq!(page.status(), 200);
    }

    async fn shoppers_become(pacer: &Pacer, wanted: Shoppers, within: Duration) {
        let started = Instant::now();
        while pacer.snapshot().shoppers != wanted {
            assert!(
                started.elapsed() < within,
                "still {:?} after {within:?}",
                pacer.snapshot().shoppers
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn storefront_visits_raise_the_newest_guest_and_the_pacer_is_told() {
        let h = harness(GenConfig {
            orders: 5,
            customers: 3,
            products: 3,
            ..Default::default()
        })
        .await;
        let fetcher = &h.ctx.fetcher;
        let before = newest_id(fetcher, "guests").await.unwrap().unwrap_or(0);
        let requests = fetcher.requests();
        for _ in 0..3 {
            visit(&h.sim.base_url()).await;
        }
        assert_eq!(
            newest_id(fetcher, "guests").await.unwrap(),
            Some(before + 3)
        );
        assert_eq!(
            fetcher.requests(),
            requests + 1,
            "counted in the run's requests"
        );
        newest_id(fetcher, "carts").await.unwrap();
        // A resource the shop does not have is no passing failure: it is not asked again.
        let missing = newest_id(fetcher, "no_such_things").await.unwrap_err();
        assert!(!missing.is_transient(), "{missing}");

        // Watched every 100 ms: nobody comes for 6 s, then one visitor.
        let pacer = fetcher.pacer().clone();
        let every = Duration::from_millis(100);
        let live: Live = Arc::new(Mutex::new(true));
        let task = tokio::spawn(run(
            fetcher.clone(),
            WATCHED.to_vec(),
            live.clone(),
            every,
            every,
        ));
        let watching = Watching {
            _task: AbortOnDropHandle::new(task),
            pacer: pacer.clone(),
            live,
        };
        assert_eq!(pacer.snapshot().shoppers, Shoppers::Unknown);
        shoppers_become(&pacer, Shoppers::Absent, Duration::from_secs(15)).await;
        visit(&h.sim.base_url()).await;
        shoppers_become(&pacer, Shoppers::Present, Duration::from_secs(5)).await;
        // The run's reads end: the pacer forgets.
        drop(watching);
        assert_eq!(pacer.snapshot().shoppers, Shoppers::Unknown);

        // Only balanced watches, and not when the key may read neither resource.
        assert!(watch(fetcher, &[]).is_some());
        assert!(watch(fetcher, &["guests".into(), "carts".into()]).is_none());
        for caps in [
            Caps {
                pinned: Some("2x100".parse().unwrap()),
                ..Caps::default()
            },
            Caps {
                max_concurrency: Some(1),
                ..Caps::default()
            },
        ] {
            let pinned = Fetcher::new(
                fetcher.client().clone(),
                Pacer::new(Pace::Balanced, caps, None),
                1,
            );
            assert!(watch(&pinned, &[]).is_none());
        }
        for pace in [Pace::Max, Pace::Polite] {
            let other = Fetcher::new(
                fetcher.client().clone(),
                Pacer::new(pace, Caps::default(), None),
                1,
            );
            assert!(watch(&other, &[]).is_none(), "{pace}");
        }
        h.finish().await;
    }
}
