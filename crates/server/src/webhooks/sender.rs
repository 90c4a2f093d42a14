//! The sender: claims due deliveries from the database (with a lease, so that several server
//! processes on one PostgreSQL never send the same attempt twice), POSTs each message signed
//! per Standard Webhooks, and records the attempt: delivered on a 2xx answer, otherwise
//! retried after the next wait of the schedule (±20 % jitter) or, once the schedule is
//! exhausted, failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prestalink_store::{format_timestamp, WebhookAttempt, WebhookDelivery, WebhookOutcome};
use prestalink_webservice::address_guard::{
    check_literal_host, find_forbidden, PublicOnlyResolver,
};
use rand::Rng;
use tokio::task::JoinSet;

use super::signing;
use crate::config::ServerConfig;
use crate::state::{sleep_or_stop, AppState};

/// Attempts in flight at once in one process.
const MAX_IN_FLIGHT: usize = 16;
/// Longest wait between two looks at the queue (other processes queue events too, and tests
/// move the clock).
const POLL: Duration = Duration::from_secs(1);
/// Shortest wait, so that a race never turns into a busy loop.
const MIN_WAIT: Duration = Duration::from_millis(20);
/// Longest error text kept per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// Sends queued deliveries until the server stops; attempts in flight then finish (each
/// within the attempt time limit) and are recorded.
pub async fn run(state: AppState) {
    let client = match client(&state.config) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks cannot be sent: the HTTP client cannot be built");
            return;
        }
    };
    let lease = chrono::Duration::from_std(state.config.webhook_timeout + Duration::from_secs(60))
        .unwrap_or_else(|_| chrono::Duration::minutes(5));
    let mut in_flight = JoinSet::new();
    while !state.is_stopping() {
        let mut db_failed = false;
        while in_flight.len() < MAX_IN_FLIGHT && !state.is_stopping() {
            match state
                .store
                .claim_webhook_delivery(lease, state.clock.now())
                .await
            {
                Ok(Some(delivery)) => {
                    in_flight.spawn(attempt(state.clone(), client.clone(), delivery));
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries cannot be claimed");
                    db_failed = true;
                    break;
                }
            }
        }
        let wait = if db_failed || in_flight.len() >= MAX_IN_FLIGHT {
            POLL
        } else {
            until_next_due(&state).await
        };
        tokio::select! {
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = sleep_or_stop(&state, wait, &state.events_queued) => {}
        }
    }
    while in_flight.join_next().await.is_some() {}
}

/// How long until the next pending delivery is due, between [`MIN_WAIT`] and [`POLL`].
async fn until_next_due(state: &AppState) -> Duration {
    let due = match state.store.next_webhook_due().await {
        Ok(Some(due)) => due,
        Ok(None) => return POLL,
        Err(e) => {
            tracing::warn!(error = %e, "webhook queue cannot be read");
            return POLL;
        }
    };
    let Ok(due) = DateTime::parse_from_rfc3339(&due) else {
        return POLL;
    };
    (due.with_timezone(&Utc) - state.clock.now())
        .to_std()
        .unwrap_or(Duration::ZERO)
        .clamp(MIN_WAIT, POLL)
}

/// The HTTP client of deliveries: no redirects, no proxy, the attempt time limit, and
/// (unless private webhooks are allowed) a resolver that hands out public addresses only.
fn client(config: &ServerConfig) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.webhook_timeout)
        .connect_timeout(config.webhook_timeout.min(Duration::from_secs(10)))
        .no_proxy()
        .pool_max_idle_per_host(2)
        .user_agent(concat!("prestalink-webhooks/", env!("CARGO_PKG_VERSION")));
    if !config.allow_private_webhooks {
        builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
    }
    builder.build()
}

/// When the retry that follows attempt number `made` (from 1) is due, or `None` when the
/// schedule is exhausted. The n-th retry is due at the delivery's creation plus the first n
/// waits, ±20 % of the n-th wait (so jitter does not add up: the default schedule's last
/// retry comes at least 25.6 hours after the event), and never sooner than 80 % of the n-th
/// wait after `now` (so a sender that was stopped for a while does not retry in a burst).
pub fn retry_at(
    retries: &[Duration],
    made: i64,
    created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let n = usize::try_from(made).ok().filter(|n| *n >= 1)?;
    let wait = *retries.get(n - 1)?;
    let nominal: Duration = retries[..n].iter().sum();
    let jitter = rand::thread_rng().gen_range(-0.2..=0.2);
    let offset = nominal.as_secs_f64() + wait.as_secs_f64() * jitter;
    let scheduled = created + chrono::Duration::milliseconds((offset * 1000.0) as i64);
    let earliest = now + chrono::Duration::milliseconds((wait.as_secs_f64() * 800.0) as i64);
    Some(scheduled.max(earliest))
}

/// Makes one attempt at a claimed delivery and records it.
async fn attempt(state: AppState, client: reqwest::Client, delivery: WebhookDelivery) {
    let started_at = state.clock.now();
    let started = Instant::now();
    let result = match state
        .store
        .get_webhook_consumer(&delivery.consumer_id)
        .await
    {
        Ok(Some(consumer)) if consumer.disabled => Err(Err("the consumer is disabled".to_string())),
        Ok(Some(consumer)) => send(&state, &client, &consumer.url, &delivery)
            .await
            .map_err(Ok),
        // Deleted meanwhile: its deliveries went with it.
        Ok(None) => return,
        Err(e) => Err(Ok(format!("the database failed: {e}"))),
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    // `Err(Err(_))`: fails for good; `Err(Ok(_))`: may be retried.
    let (status_code, error, retry) = match result {
        Ok(code) if (200..300).contains(&code) => (Some(i64::from(code)), None, false),
        Ok(code) => {
            let note = if (300..400).contains(&code) {
                " (redirects are not followed)"
            } else {
                ""
            };
            (
                Some(i64::from(code)),
                Some(format!("HTTP {code}{note}")),
                true,
            )
        }
        Err(Ok(error)) => (None, Some(error), true),
        Err(Err(error)) => (None, Some(error), false),
    };
    let made = delivery.attempts + 1;
    let outcome = match (&error, retry) {
        (None, _) => WebhookOutcome::Delivered,
        (Some(_), true) => {
            let now = state.clock.now();
            let created = DateTime::parse_from_rfc3339(&delivery.created_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            match retry_at(&state.config.webhook_retries, made, created, now) {
                Some(at) => WebhookOutcome::RetryAt(at),
                None => WebhookOutcome::Failed,
            }
        }
        (Some(_), false) => WebhookOutcome::Failed,
    };
    let record = WebhookAttempt {
        at: format_timestamp(started_at),
        status_code,
        error: error.map(|e| e.chars().take(MAX_ERROR_CHARS).collect()),
        duration_ms,
    };
    match state
        .store
        .record_webhook_attempt(&delivery, &record, outcome, state.clock.now())
        .await
    {
        Ok(true) => {
            let label = match outcome {
                WebhookOutcome::Delivered => "delivered",
                WebhookOutcome::RetryAt(_) => "retrying",
                WebhookOutcome::Failed => "failed",
            };
            metrics::counter!("prestalink_webhook_deliveries_total", "outcome" => label)
                .increment(1);
            let (delivery_id, consumer, event_type) =
                (delivery.id, &delivery.consumer_id, &delivery.event_type);
            match outcome {
                WebhookOutcome::Delivered => {
                    tracing::debug!(
                        delivery_id,
                        consumer,
                        event_type,
                        attempt = made,
                        "webhook delivered"
                    );
                }
                WebhookOutcome::RetryAt(at) => {
                    tracing::info!(delivery_id, consumer, event_type, attempt = made,
                        error = record.error.as_deref().unwrap_or_default(),
                        retry_at = %format_timestamp(at), "webhook attempt failed; retrying later");
                }
                WebhookOutcome::Failed => {
                    tracing::warn!(
                        delivery_id,
                        consumer,
                        event_type,
                        attempt = made,
                        error = record.error.as_deref().unwrap_or_default(),
                        "webhook delivery failed for good"
                    );
                }
            }
        }
        Ok(false) => {
            tracing::debug!(
                delivery_id = delivery.id,
                "webhook attempt not recorded: the lease was lost"
            );
        }
        Err(e) => {
            tracing::warn!(delivery_id = delivery.id, error = %e, "webhook attempt not recorded");
        }
    }
}

/// POSTs the message; the consumer's HTTP status, or why there is none.
async fn send(
    state: &AppState,
    client: &reqwest::Client,
    url: &str,
    delivery: &WebhookDelivery,
) -> Result<u16, String> {
    let url = url::Url::parse(url).map_err(|e| format!("the consumer's URL is invalid: {e}"))?;
    if !state.config.allow_private_webhooks {
        check_literal_host(&url).map_err(|e| {
            format!(
                "{} is a {} address, to which webhooks are not sent",
                e.address, e.reason
            )
        })?;
    }
    let secret = state
        .store
        .webhook_consumer_secret(&delivery.consumer_id)
        .await
        .map_err(|e| format!("the message cannot be signed: {e}"))?;
    // Wall-clock time, not the server's (test) clock: receivers compare it with their own
    // clock to refuse replays.
    let timestamp = Utc::now().timestamp();
    let signature = signing::signature(&secret, &delivery.message_id, timestamp, &delivery.payload)
        .ok_or_else(|| {
            "the message cannot be signed: the stored secret is malformed".to_string()
        })?;
    drop(secret);
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &delivery.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|e| describe(&e, state.config.webhook_timeout))?;
    Ok(response.status().as_u16())
}

/// A sending error in words, without the URL (it may hold credentials).
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} ms", timeout.as_millis());
    }
    if let Some(forbidden) = find_forbidden(error) {
        return format!(
            "{} resolves to {} ({}), to which webhooks are not sent",
            forbidden.host, forbidden.address, forbidden.reason
        );
    }
    let mut text = if error.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        let part = e.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
    }

    fn secs(at: DateTime<Utc>) -> f64 {
        (at - t0()).num_milliseconds() as f64 / 1000.0
    }

    #[test]
    fn retries_follow_the_schedule_with_jitter_then_stop() {
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        for _ in 0..200 {
            let first = retry_at(&schedule, 1, t0(), t0()).unwrap();
            assert!((4.0..=6.0).contains(&secs(first)), "{first}");
            let second = retry_at(&schedule, 2, t0(), first).unwrap();
            assert!((245.0..=365.0).contains(&secs(second)), "{second}");
            assert!(secs(second) - secs(first) >= 240.0);
        }
        assert_eq!(retry_at(&schedule, 3, t0(), t0()), None);
        assert_eq!(retry_at(&schedule, 0, t0(), t0()), None);
    }

    #[test]
    fn the_default_schedule_retries_for_more_than_24_hours() {
        let schedule = crate::config::default_webhook_retries();
        for _ in 0..500 {
            // Every attempt takes the whole 15 s time limit, or none at all.
            for took in [0, 15] {
                let mut now = t0();
                let mut last = t0();
                for made in 1..=schedule.len() as i64 {
                    let at = retry_at(&schedule, made, t0(), now).unwrap();
                    assert!(at > last);
                    last = at;
                    now = at + chrono::Duration::seconds(took);
                }
                assert_eq!(
                    retry_at(&schedule, schedule.len() as i64 + 1, t0(), now),
                    None
                );
                assert!(
                    secs(last) >= 24.0 * 3600.0,
                    "last retry after {} h",
                    secs(last) / 3600.0
                );
            }
        }
    }

    #[test]
    fn a_late_sender_does_not_retry_in_a_burst() {
        let schedule = crate::config::default_webhook_retries();
        let late = t0() + chrono::Duration::days(3);
        let at = retry_at(&schedule, 2, t0(), late).unwrap();
        assert!(at >= late + chrono::Duration::seconds(240), "{at}");
    }
}
