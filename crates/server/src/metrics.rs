//! Prometheus metrics (`GET /metrics`), through the `metrics` facade and its Prometheus
//! exporter: HTTP latency by route and status, syncs by outcome, records written, requests
//! to stores and the pacer's concurrency per store (both recorded by the sync and pacing
//! crates), webhook deliveries by outcome.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once (several servers in one test process share it).
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".to_string()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .ok()?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok()?;
        describe();
        Some(handle)
    });
}

fn describe() {
    metrics::describe_histogram!(
        "prestalink_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an API request, by route and status"
    );
    metrics::describe_counter!("prestalink_syncs_total", "Sync jobs ended, by outcome");
    metrics::describe_counter!(
        "prestalink_records_written_total",
        "Commerce records written (new, changed or deleted) by syncs"
    );
    metrics::describe_counter!(
        "prestalink_store_requests_total",
        "Requests made to PrestaShop stores"
    );
    metrics::describe_gauge!(
        "prestalink_pacer_concurrency",
        "Requests the pacer lets run at once, per store host"
    );
    metrics::describe_counter!(
        "prestalink_jobs_claimed_total",
        "Sync jobs claimed by this process's workers"
    );
    metrics::describe_counter!(
        "prestalink_job_takeovers_total",
        "Jobs claimed from a worker whose lease expired (killed, lost, cut off)"
    );
    metrics::describe_gauge!(
        "prestalink_queue_jobs",
        "Jobs in the queue, by state (due, waiting, running, expired lease, failed)"
    );
    metrics::describe_gauge!(
        "prestalink_queue_oldest_due_seconds",
        "How long the oldest due job has waited for a worker"
    );
    metrics::describe_gauge!(
        "prestalink_syncs_in_progress",
        "Syncs this process runs now, per store host"
    );
    metrics::describe_gauge!(
        "prestalink_scheduler_leader",
        "1 while this process runs the scheduler (one process of a deployment does)"
    );
    metrics::describe_counter!(
        "prestalink_webhook_deliveries_total",
        "Webhook delivery attempts, by outcome"
    );
}

/// The metrics in Prometheus' text format.
pub fn render() -> String {
    HANDLE
        .get()
        .and_then(|h| h.as_ref())
        .map(|h| h.render())
        .unwrap_or_default()
}

/// Middleware: times every request under its route pattern (never the raw path, which holds
/// ids) and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().to_string();
    let response = next.run(request).await;
    metrics::histogram!(
        "prestalink_http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}
