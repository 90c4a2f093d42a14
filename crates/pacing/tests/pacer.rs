//! The pacer's contract with the sync engine, driven by scripted outcomes on tokio's paused
//! clock: caps, Retry-After, back-off, shrinking without cancelling, saved settings.

use std::time::Duration;

use prestalink_pacing::{
    Attempt, BackpressureKind, Caps, Outcome, Pace, Pacer, PacerSettings, ResourceClass,
    ServerTiming,
};
use tokio::time::{timeout, Instant};

const FULL: ResourceClass = ResourceClass::Full;

fn ok(latency_ms: u64, records: usize) -> Outcome {
    Outcome::Success {
        latency: Duration::from_millis(latency_ms),
        records,
        bytes: records * 900,
        timing: None,
    }
}

fn pushback(kind: BackpressureKind, retry_after: Option<Duration>) -> Outcome {
    Outcome::Backpressure {
        kind,
        latency: Duration::from_millis(100),
        retry_after,
    }
}

/// Answers requests one at a time until the start-of-run probe is over.
async fn finish_probe(pacer: &Pacer) {
    for _ in 0..100 {
        if !pacer.snapshot().probing && pacer.snapshot().completed > 0 {
            return;
        }
        let permit = pacer.acquire(FULL, Attempt::First).await;
        let n = permit.page_size();
        tokio::time::sleep(Duration::from_millis(100)).await;
        permit.complete(ok(100, n));
    }
    panic!("the probe never ended: {:?}", pacer.snapshot());
}

fn restored(concurrency: usize) -> Option<PacerSettings> {
    Some(PacerSettings {
        concurrency,
        ..Default::default()
    })
}

#[tokio::test(start_paused = true)]
async fn starts_one_at_a_time_then_opens_up() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), None);
    let first = pacer.acquire(FULL, Attempt::First).await;
    assert!(pacer.snapshot().probing);
    assert!(
        timeout(Duration::from_secs(5), pacer.acquire(FULL, Attempt::First))
            .await
            .is_err(),
        "a second request must wait while the first measures the idle shop"
    );
    let n = first.page_size();
    first.complete(ok(100, n));
    finish_probe(&pacer).await;
    let snapshot = pacer.snapshot();
    assert_eq!(snapshot.limit, 2, "slow start opens to 2 after the probe");
    assert_eq!(
        pacer.page_size(FULL),
        1000,
        "fast pages grew to the class maximum"
    );
    assert!(snapshot.class(FULL).baseline.is_some());
}

#[tokio::test(start_paused = true)]
async fn backpressure_shrinks_the_limit_without_cancelling_requests_in_flight() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), restored(8));
    finish_probe(&pacer).await;
    let mut permits = Vec::new();
    for _ in 0..8 {
        permits.push(pacer.acquire(FULL, Attempt::First).await);
    }
    assert_eq!(pacer.snapshot().in_flight, 8);
    permits
        .pop()
        .unwrap()
        .complete(pushback(BackpressureKind::Status503, None));
    let snapshot = pacer.snapshot();
    assert_eq!((snapshot.limit, snapshot.in_flight), (4, 7));
    // The 7 others go on; a new request waits until fewer than 4 are in flight.
    let waiter = {
        let pacer = pacer.clone();
        tokio::spawn(async move { pacer.acquire(FULL, Attempt::First).await })
    };
    for _ in 0..3 {
        permits
            .pop()
            .unwrap()
            .complete(pushback(BackpressureKind::Status503, None));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
    }
    assert_eq!(
        pacer.snapshot().limit,
        4,
        "one congestion event, one decrease"
    );
    let n = permits[0].page_size();
    permits.pop().unwrap().complete(ok(100, n));
    let permit = timeout(Duration::from_secs(1), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pacer.snapshot().in_flight, 4);
    drop(permit);
}

#[tokio::test(start_paused = true)]
async fn retry_after_pauses_every_request() {
    let pacer = Pacer::new(Pace::Max, Caps::default(), restored(4));
    finish_probe(&pacer).await;
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(pushback(
        BackpressureKind::Status503,
        Some(Duration::from_secs(10)),
    ));
    assert_eq!(pacer.snapshot().paused_for, Some(Duration::from_secs(10)));
    assert_eq!(
        pacer.snapshot().learned_rate,
        None,
        "only a 429 names a rate limit"
    );
    let start = Instant::now();
    let _a = pacer.acquire(FULL, Attempt::First).await;
    let _b = pacer.acquire(ResourceClass::IdList, Attempt::First).await;
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert_eq!(pacer.snapshot().paused_for, None);
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_for_retry_after_then_caps_the_request_rate() {
    let pacer = Pacer::new(Pace::Max, Caps::default(), restored(4));
    finish_probe(&pacer).await;
    // Ten quick requests in one second, then a 429.
    for _ in 0..10 {
        let permit = pacer.acquire(FULL, Attempt::First).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        permit.complete(ok(100, 1000));
    }
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(pushback(
        BackpressureKind::Status429,
        Some(Duration::from_secs(3)),
    ));
    let rate = pacer.snapshot().learned_rate.expect("a 429 caps the rate");
    assert!(rate < 10.0, "{rate}");
    let start = Instant::now();
    let mut starts = Vec::new();
    for _ in 0..5 {
        drop(pacer.acquire(FULL, Attempt::First).await);
        starts.push(start.elapsed());
    }
    assert_eq!(starts[0], Duration::from_secs(3));
    for pair in starts.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs_f64(0.99 / rate),
            "{starts:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn retries_wait_an_exponential_backoff_and_are_timed_apart() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), restored(4));
    finish_probe(&pacer).await;
    let before = pacer.snapshot().class(FULL).last_latency;
    for (n, low, high) in [(1, 250, 500), (3, 1000, 2000), (10, 15_000, 30_000)] {
        let start = Instant::now();
        let permit = pacer.acquire(FULL, Attempt::Retry(n)).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(low) && waited <= Duration::from_millis(high),
            "retry {n} waited {waited:?}"
        );
        permit.complete(ok(5000, 1));
    }
    let snapshot = pacer.snapshot();
    assert_eq!(snapshot.retry_latency, Some(Duration::from_secs(5)));
    assert_eq!(
        snapshot.class(FULL).last_latency,
        before,
        "retries are not first attempts"
    );
}

#[tokio::test(start_paused = true)]
async fn rate_cap_spaces_request_starts() {
    let caps = Caps {
        max_requests_per_second: Some(4.0),
        ..Caps::default()
    };
    let pacer = Pacer::new(Pace::Max, caps, restored(16));
    finish_probe(&pacer).await;
    let mut starts = Vec::new();
    let mut permits = Vec::new();
    for _ in 0..12 {
        permits.push(pacer.acquire(FULL, Attempt::First).await);
        starts.push(Instant::now());
    }
    for pair in starts.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(250),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn concurrency_and_page_size_caps_hold() {
    let caps = Caps {
        max_concurrency: Some(3),
        max_page_size: Some(200),
        ..Caps::default()
    };
    let pacer = Pacer::new(Pace::Max, caps, restored(50));
    finish_probe(&pacer).await;
    assert_eq!(pacer.snapshot().limit, 3);
    assert_eq!(pacer.page_size(FULL), 200);
    assert_eq!(pacer.page_size(ResourceClass::IdList), 200);
    let held: Vec<_> = [
        pacer.acquire(FULL, Attempt::First).await,
        pacer.acquire(FULL, Attempt::First).await,
        pacer.acquire(FULL, Attempt::First).await,
    ]
    .into();
    assert!(
        timeout(Duration::from_secs(60), pacer.acquire(FULL, Attempt::First))
            .await
            .is_err()
    );
    drop(held);
}

#[tokio::test(start_paused = true)]
async fn timeouts_and_500s_halve_the_page_but_4xx_teach_nothing() {
    let pacer = Pacer::new(Pace::Max, Caps::default(), restored(4)); // long pages
    finish_probe(&pacer).await;
    assert_eq!(pacer.page_size(FULL), 1000);
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(pushback(BackpressureKind::Timeout, None));
    assert_eq!(pacer.page_size(FULL), 500);
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(pushback(BackpressureKind::Status5xx, None));
    assert_eq!(pacer.page_size(FULL), 250);
    let (limit, completed) = (pacer.snapshot().learned_limit, pacer.snapshot().completed);
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(Outcome::Failed);
    assert_eq!(pacer.page_size(FULL), 250);
    assert_eq!(pacer.snapshot().learned_limit, limit);
    assert_eq!(pacer.snapshot().completed, completed + 1);
}

#[tokio::test(start_paused = true)]
async fn dropped_permits_free_their_slot_and_count_for_nothing() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), None);
    let permit = pacer.acquire(FULL, Attempt::First).await;
    drop(permit);
    let snapshot = pacer.snapshot();
    assert_eq!((snapshot.in_flight, snapshot.completed), (0, 0));
    // The slot is free again, and a cancelled acquire leaves no waiter behind.
    let _permit = timeout(Duration::from_secs(1), pacer.acquire(FULL, Attempt::First))
        .await
        .unwrap();
    assert!(
        timeout(Duration::from_secs(1), pacer.acquire(FULL, Attempt::First))
            .await
            .is_err()
    );
    assert_eq!(pacer.snapshot().waiting, 0);
}

#[tokio::test(start_paused = true)]
async fn settings_survive_serde_and_start_the_next_run() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), restored(6));
    finish_probe(&pacer).await;
    let saved = pacer.settings();
    assert_eq!(saved.concurrency, 6);
    assert_eq!(saved.full.page_size, 1000);
    let baseline = saved.full.baseline.expect("measured during the probe");
    assert!((baseline.overhead_secs + 1000.0 * baseline.per_record_secs - 0.1).abs() < 0.01);

    let json = serde_json::to_string(&saved).unwrap();
    let back: PacerSettings = serde_json::from_str(&json).unwrap();
    assert_eq!(back.concurrency, saved.concurrency);
    assert_eq!(back.full.page_size, saved.full.page_size);
    let next = Pacer::new(Pace::Balanced, Caps::default(), Some(back));
    assert_eq!(next.snapshot().learned_limit, 6);
    assert_eq!(next.page_size(FULL), 1000);
    let restored = next.snapshot().class(FULL).baseline.unwrap();
    assert!((restored.as_secs_f64() - 0.1).abs() < 0.01, "{restored:?}");
    // A polite run never starts above its own ceiling, whatever was saved.
    let polite = Pacer::new(Pace::Polite, Caps::default(), Some(saved));
    assert_eq!(polite.snapshot().learned_limit, 1);
    // Empty or partial saved settings fall back to defaults.
    let partial: PacerSettings = serde_json::from_str(r#"{"concurrency":3}"#).unwrap();
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), Some(partial));
    assert_eq!(pacer.page_size(FULL), 100);
}

#[tokio::test(start_paused = true)]
async fn only_requests_that_ran_alone_measure_the_idle_shop() {
    let pacer = Pacer::new(Pace::Max, Caps::default(), restored(4)); // long pages
    finish_probe(&pacer).await;
    let idle = pacer.snapshot().class(FULL).baseline.unwrap();
    // Two requests that overlapped, both slow: they say nothing about the idle shop.
    let a = pacer.acquire(FULL, Attempt::First).await;
    let b = pacer.acquire(FULL, Attempt::First).await;
    let n = a.page_size();
    a.complete(ok(10_000, n));
    b.complete(ok(10_000, n));
    assert_eq!(pacer.snapshot().class(FULL).baseline, Some(idle));
    // One that ran alone does, even outside a probe.
    let c = pacer.acquire(FULL, Attempt::First).await;
    c.complete(ok(10_000, n));
    assert!(pacer.snapshot().class(FULL).baseline.unwrap() > idle);
}

#[tokio::test(start_paused = true)]
async fn waiting_callers_are_served_in_arrival_order() {
    let pacer = Pacer::new(Pace::Polite, Caps::default(), None);
    let held = pacer.acquire(FULL, Attempt::First).await;
    let heavy = {
        let pacer = pacer.clone();
        tokio::spawn(async move { pacer.acquire(ResourceClass::Heavy, Attempt::First).await })
    };
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(pacer.snapshot().waiting, 1);
    // The reader that just finished asks again at once: the earlier waiter goes first.
    held.complete(Outcome::Failed);
    assert!(
        timeout(Duration::from_secs(1), pacer.acquire(FULL, Attempt::First))
            .await
            .is_err()
    );
    let permit = heavy.await.unwrap();
    assert_eq!(permit.class(), ResourceClass::Heavy);
    assert_eq!(pacer.snapshot().waiting, 0);
}

#[tokio::test(start_paused = true)]
async fn firewall_pages_and_resets_shrink_concurrency_but_not_pages() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), restored(8));
    finish_probe(&pacer).await;
    for (kind, limit) in [(BackpressureKind::Html, 4), (BackpressureKind::Reset, 2)] {
        let permit = pacer.acquire(FULL, Attempt::First).await;
        permit.complete(pushback(kind, None));
        assert_eq!(pacer.snapshot().learned_limit, limit, "{kind:?}");
        assert_eq!(pacer.page_size(FULL), 1000, "{kind:?}");
        assert_eq!(pacer.snapshot().learned_rate, None, "{kind:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn rate_caps_that_are_not_positive_are_ignored() {
    for rate in [0.0, -3.0, f64::NAN, f64::INFINITY] {
        let caps = Caps {
            max_requests_per_second: Some(rate),
            ..Caps::default()
        };
        let pacer = Pacer::new(Pace::Max, caps, restored(4));
        finish_probe(&pacer).await;
        let start = Instant::now();
        let _held: Vec<_> = [
            pacer.acquire(FULL, Attempt::First).await,
            pacer.acquire(FULL, Attempt::First).await,
            pacer.acquire(FULL, Attempt::First).await,
        ]
        .into();
        assert_eq!(start.elapsed(), Duration::ZERO, "rate {rate}");
    }
}

#[tokio::test(start_paused = true)]
async fn snapshots_serialise_for_reports() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), None);
    finish_probe(&pacer).await;
    let json = serde_json::to_value(pacer.snapshot()).unwrap();
    assert_eq!(json["pace"], "balanced");
    assert_eq!(json["limit"], 2);
    assert_eq!(json["classes"][1]["class"], "full");
    assert_eq!(json["classes"][1]["page_size"], 1000);
}

/// A page the shop worked on for `execution_ms`, answered after `response_ms`.
fn timed(response_ms: u64, execution_ms: u64, records: usize) -> Outcome {
    Outcome::Success {
        latency: Duration::from_millis(response_ms + 2),
        records,
        bytes: records * 900,
        timing: Some(ServerTiming {
            response: Duration::from_millis(response_ms),
            execution: Duration::from_millis(execution_ms),
        }),
    }
}

/// Runs `rounds` rounds of `limit` requests at once, each page costing the shop
/// `execution(i)` ms and answered `wait` ms later than that (+1 ms of transport).
async fn timed_rounds(pacer: &Pacer, rounds: usize, wait: u64, execution: impl Fn(usize) -> u64) {
    for round in 0..rounds {
        let limit = pacer.snapshot().limit;
        let mut permits = Vec::new();
        for _ in 0..limit {
            permits.push(pacer.acquire(FULL, Attempt::First).await);
        }
        for (i, permit) in permits.into_iter().enumerate() {
            let n = permit.page_size();
            let exec = execution(round * 31 + i);
            permit.complete(timed(exec + 1 + wait, exec, n));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_shops_execution_time_tells_queueing_from_costly_pages() {
    let pacer = Pacer::new(Pace::Balanced, Caps::default(), None);
    // The idle shop: 100 ms pages answered 1 ms after the shop finished them.
    for _ in 0..100 {
        if !pacer.snapshot().probing && pacer.snapshot().completed > 0 {
            break;
        }
        let permit = pacer.acquire(FULL, Attempt::First).await;
        let n = permit.page_size();
        permit.complete(timed(101, 100, n));
    }
    // Pages of the same class and size cost 1x to 6x as much (order histories next to
    // products), with no wait for a worker: by the class's idle model they would read as
    // congestion; the shop's own timing shows none, and the limit keeps growing.
    timed_rounds(&pacer, 12, 0, |i| [100, 600, 250, 100, 400][i % 5]).await;
    let grown = pacer.snapshot().limit;
    assert!(
        grown >= 8,
        "limit {grown}: costly pages were taken for load"
    );
    // Now every answer waits twice its work for a worker: queueing, whatever the cost.
    timed_rounds(&pacer, 2, 0, |_| 0).await;
    timed_rounds(&pacer, 3, 400, |_| 200).await;
    let snapshot = pacer.snapshot();
    assert!(snapshot.limit < grown, "{snapshot:?}");
    assert!(snapshot.knee.is_some(), "{snapshot:?}");
}

#[tokio::test(start_paused = true)]
async fn pinned_settings_hold_whatever_the_shop_answers() {
    let caps = Caps {
        pinned: Some("3x700".parse().expect("valid")),
        ..Caps::default()
    };
    let pacer = Pacer::new(Pace::Balanced, caps, None);
    // No slow start, no probe: three requests at once from the first one.
    let mut held = Vec::new();
    for _ in 0..3 {
        let permit = pacer.acquire(FULL, Attempt::First).await;
        assert_eq!(permit.page_size(), 700);
        held.push(permit);
    }
    assert!(
        timeout(Duration::from_secs(60), pacer.acquire(FULL, Attempt::First))
            .await
            .is_err(),
        "a fourth request waits"
    );
    // Latencies that would shrink any pace, then back-pressure: nothing moves.
    for permit in held.drain(..) {
        permit.complete(ok(20_000, 700));
    }
    for _ in 0..30 {
        let permit = pacer.acquire(FULL, Attempt::First).await;
        permit.complete(ok(20_000, 700));
    }
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(pushback(BackpressureKind::Timeout, None));
    let snapshot = pacer.snapshot();
    assert_eq!(snapshot.limit, 3);
    assert!(!snapshot.probing);
    for class in [FULL, ResourceClass::Heavy] {
        assert_eq!(pacer.page_size(class), 700);
    }
    assert_eq!(pacer.page_size(ResourceClass::IdList), 5000);
}

#[tokio::test(start_paused = true)]
async fn polite_rests_after_each_answer_for_half_its_latency() {
    let pacer = Pacer::new(Pace::Polite, Caps::default(), None);
    finish_probe(&pacer).await;
    let permit = pacer.acquire(FULL, Attempt::First).await;
    permit.complete(ok(400, 100));
    let answered = Instant::now();
    let next = pacer.acquire(FULL, Attempt::First).await;
    let waited = answered.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_millis(250),
        "waited {waited:?}"
    );
    drop(next);
    // Balanced does not rest.
    let balanced = Pacer::new(Pace::Balanced, Caps::default(), None);
    finish_probe(&balanced).await;
    let permit = balanced.acquire(FULL, Attempt::First).await;
    permit.complete(ok(400, 100));
    let answered = Instant::now();
    drop(balanced.acquire(FULL, Attempt::First).await);
    assert_eq!(answered.elapsed(), Duration::ZERO);
}
