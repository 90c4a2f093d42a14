//! Sync workers: queue syncs (one job per connection and request, one pull operation per
//! data type), claim jobs with a lease they renew while the sync runs, run the sync through
//! `prestalink_sync::sync_connection`, and record each data type's outcome. At most one job
//! runs per connection (the job queue's unique index), so one store is read by one worker.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Duration as ChronoDuration;
use prestalink_commerce::{DataType, Support};
use prestalink_pacing::Caps;
use prestalink_store::{Company, ConnectionStatus, Dataset, DatasetUpdate, Job};
use prestalink_sync::{
    needed_resources, needs_relink, sync_connection, DataTypeStatus, LinkError, ProgressEvent,
    Stage, SyncOptions, SyncRequest,
};
use prestalink_webservice::diagnose::DiagnoseOptions;
use prestalink_webservice::Format;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::error::ApiResult;
use crate::state::{sleep_or_stop, AppState};
use crate::webhooks;

/// Why a sync was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Asked for through the API.
    Manual,
    /// Due by the sync schedule.
    Schedule,
    /// The connection was just linked.
    FirstLink,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::FirstLink => "firstLink",
        }
    }
}

/// Queues a sync of `data_types` for a connection: one job, one pull operation per data type
/// not already queued or running. Data types PrestaShop cannot provide get a `NotSupported`
/// pull operation at once. Returns the pull operations created.
pub async fn queue_sync(
    state: &AppState,
    company: &Company,
    connection_id: &str,
    data_types: &[DataType],
    trigger: Trigger,
) -> ApiResult<Vec<Dataset>> {
    queue_sync_seen(state, company, connection_id, data_types, trigger, None).await
}

/// The latest pull operation's id of each data type (by key) as a scheduler saw it when
/// it decided that they were due; `None` for a data type never requested.
pub type SeenLatest = HashMap<String, Option<String>>;

/// [`queue_sync`] for a scheduler that decided on `seen`: once its job is queued (held,
/// so nobody claims it), the connection's latest pull operations are read again, and if
/// any differs from `seen` another process queued and ran a sync in the meantime (the
/// first link, say, while the scheduler's tick was reading): the job is withdrawn and
/// the next tick decides afresh. With the advisory lock of `enqueue_job_once` this makes
/// a schedule queue once, whichever processes race.
pub async fn queue_sync_seen(
    state: &AppState,
    company: &Company,
    connection_id: &str,
    data_types: &[DataType],
    trigger: Trigger,
    seen: Option<&SeenLatest>,
) -> ApiResult<Vec<Dataset>> {
    let _serial = state.queue_lock.lock().await;
    let store = &state.store;
    let now = state.clock.now();
    let active: Vec<String> = store
        .active_datasets(connection_id)
        .await?
        .into_iter()
        .map(|d| d.data_type)
        .collect();
    let mut created = Vec::new();
    let mut wanted = Vec::new();
    for dt in data_types {
        if dt.support() != Support::Supported {
            if trigger != Trigger::Schedule {
                let d = store
                    .create_dataset(
                        &company.id,
                        connection_id,
                        dt.key(),
                        "NotSupported",
                        trigger.as_str(),
                        false,
                        None,
                        now,
                    )
                    .await?;
                let update = DatasetUpdate {
                    status_description: Some("PrestaShop has no such data"),
                    progress: Some(100),
                    completed: true,
                    ..DatasetUpdate::default()
                };
                store.update_dataset(&d.id, &update, now).await?;
                created.push(store.get_dataset(&d.id).await?.unwrap_or(d));
            }
            continue;
        }
        if !active.iter().any(|a| a == dt.key()) && !wanted.contains(dt) {
            wanted.push(*dt);
        }
    }
    if wanted.is_empty() {
        return Ok(created);
    }
    let keys: Vec<&str> = wanted.iter().map(|d| d.key()).collect();
    // The job is held back until its pull operations exist: a worker (of any process) that
    // claimed it earlier would run it without the pull operations created after its claim,
    // and they would stay `Queued` for ever. Released below; a process that dies before
    // releasing it leaves it to run after the hold.
    let payload = json!({ "dataTypes": keys });
    let hold = now + ChronoDuration::hours(1);
    let job_id = if matches!(trigger, Trigger::Schedule | Trigger::FirstLink) {
        // A scheduled sync waits while any sync of the connection is queued or running (its
        // data types come due again at the next tick after it ends). A first link finds
        // one only when a scheduler (of any process) saw the new connection first, with
        // nothing synced yet: that sync reads what the first link would.
        match store
            .enqueue_job_once(connection_id, "sync", &payload, hold, now)
            .await?
        {
            Some(id) => id,
            None => return Ok(created),
        }
    } else {
        store
            .enqueue_job(connection_id, "sync", &payload, hold, now)
            .await?
    };
    if let Some(seen) = seen {
        let latest = store.latest_datasets(connection_id).await?;
        let moved = wanted.iter().any(|dt| {
            let now_latest = latest
                .iter()
                .find(|d| d.data_type == dt.key())
                .map(|d| d.id.clone());
            seen.get(dt.key()).is_none_or(|was| *was != now_latest)
        });
        if moved && store.withdraw_queued_job(job_id).await? {
            tracing::info!(
                connection = %connection_id,
                "a sync was queued elsewhere meanwhile; the scheduled one is withdrawn"
            );
            return Ok(created);
        }
    }
    for dt in wanted {
        let initial = !store.data_type_requested(connection_id, dt.key()).await?;
        created.push(
            store
                .create_dataset(
                    &company.id,
                    connection_id,
                    dt.key(),
                    "Queued",
                    trigger.as_str(),
                    initial,
                    Some(job_id),
                    now,
                )
                .await?,
        );
    }
    // A scheduled sync of a store whose syncs keep failing waits for the end of its
    // back-off, in the queue (other jobs go first meanwhile).
    let mut release_at = now;
    if trigger == Trigger::Schedule {
        if let Some(until) = store.backoff_until(connection_id).await? {
            if let Ok(until) = chrono::DateTime::parse_from_rfc3339(&until) {
                release_at = release_at.max(until.with_timezone(&chrono::Utc));
            }
        }
    }
    store.release_job(job_id, release_at).await?;
    state.jobs_queued.notify_one();
    Ok(created)
}

/// Queues the data types whose settings say `fetchOnFirstLink`.
pub async fn queue_first_link(
    state: &AppState,
    company: &Company,
    connection_id: &str,
) -> ApiResult<Vec<Dataset>> {
    let settings = crate::routes::settings::effective(state, &company.id).await?;
    // Data types PrestaShop cannot provide are recorded as `NotSupported` at once.
    let data_types: Vec<DataType> = settings
        .iter()
        .filter_map(|s| Some((s.data_type.parse::<DataType>().ok()?, s.fetch_on_first_link)))
        .filter(|(dt, fetch)| *fetch || dt.support() != Support::Supported)
        .map(|(dt, _)| dt)
        .collect();
    queue_sync(
        state,
        company,
        connection_id,
        &data_types,
        Trigger::FirstLink,
    )
    .await
}

/// A worker: claims due jobs and runs them until the server stops.
pub async fn run(state: AppState, n: usize) {
    let worker = format!("{}-{n}", state.process_id);
    loop {
        if state.is_stopping() {
            break;
        }
        let lease =
            ChronoDuration::from_std(state.config.lease).unwrap_or(ChronoDuration::minutes(2));
        let per_host = Some(state.config.jobs_per_host).filter(|n| *n > 0);
        match state
            .store
            .claim_job_limited(&worker, lease, state.clock.now(), per_host)
            .await
        {
            Ok(Some(job)) => {
                metrics::counter!("prestalink_jobs_claimed_total").increment(1);
                if job.taken_over() {
                    metrics::counter!("prestalink_job_takeovers_total").increment(1);
                    tracing::warn!(
                        job = job.id,
                        connection = %job.connection_id,
                        detail = job.last_error.as_deref().unwrap_or_default(),
                        "took over a job whose worker stopped renewing its lease; it resumes from its checkpoints"
                    );
                }
                // Every line of the job (the sync's own span adds its run id) names the
                // connection and the job.
                let span = tracing::info_span!(
                    "job",
                    job = job.id,
                    connection = %job.connection_id,
                    worker = %worker
                );
                tracing::Instrument::instrument(run_job(&state, &worker, job), span).await
            }
            Ok(None) => sleep_or_stop(&state, Duration::from_secs(1), &state.jobs_queued).await,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim a job");
                sleep_or_stop(&state, Duration::from_secs(2), &state.jobs_queued).await;
            }
        }
    }
}

/// The options of a sync run by the server.
fn sync_request(
    state: &AppState,
    data_types: Vec<DataType>,
    job: &Job,
    worker: &str,
    yield_signal: CancellationToken,
) -> SyncRequest {
    SyncRequest {
        url: String::new(),
        key: String::new(),
        diagnose: DiagnoseOptions {
            timeout: Duration::from_secs(30),
            format: Format::Json,
            public_only: !state.config.allow_private_stores,
            // In the shop's access log: which job of which worker made a request.
            reader: Some(format!("job {}; worker {worker}", job.id)),
            ..DiagnoseOptions::default()
        },
        options: SyncOptions {
            data_types,
            // A `prestalink sync` of the same connection may be running: wait for it a while
            // (the job goes back to the queue if it does not end).
            lease_wait: Duration::from_secs(30),
            // Cancelled when the job's time slice ends: the sync stops at its next
            // checkpoint and the job goes back to the queue.
            yield_signal,
            ..SyncOptions::default()
        },
        pace: state.config.pace,
        caps: Caps::default(),
    }
}

async fn set_all(state: &AppState, datasets: &[Dataset], update: &DatasetUpdate<'_>) {
    let now = state.clock.now();
    for d in datasets {
        if let Err(e) = state.store.update_dataset(&d.id, update, now).await {
            tracing::warn!(error = %e, dataset = %d.id, "cannot update a pull operation");
        }
    }
}

/// Runs one sync job to its end (or to the server's stop, when it goes back to the queue).
async fn run_job(state: &AppState, worker: &str, job: Job) {
    let store = &state.store;
    let datasets = store.datasets_of_job(job.id).await.unwrap_or_default();
    let connection = store
        .get_connection(&job.connection_id)
        .await
        .ok()
        .flatten();
    let company = match &connection {
        Some(c) => store.get_company(&c.company_id).await.ok().flatten(),
        None => None,
    };
    let (Some(connection), Some(company)) = (connection, company) else {
        let _ = store.complete_job(job.id, worker, state.clock.now()).await;
        return;
    };
    if connection.status != ConnectionStatus::Linked {
        let (status, text) = match connection.status {
            ConnectionStatus::Deauthorized => (
                "AuthError",
                "The connection is deauthorized: link it again with a working key",
            ),
            _ => ("Cancelled", "The connection is unlinked"),
        };
        let update = DatasetUpdate {
            status: Some(status),
            error_message: Some(text),
            completed: true,
            ..DatasetUpdate::default()
        };
        set_all(state, &datasets, &update).await;
        let _ = store.complete_job(job.id, worker, state.clock.now()).await;
        metrics::counter!("prestalink_syncs_total", "outcome" => "cancelled").increment(1);
        return;
    }
    let data_types: Vec<DataType> = job
        .payload
        .get("dataTypes")
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let fetching = DatasetUpdate {
        status: Some("Fetching"),
        status_description: Some("Reading the store"),
        ..DatasetUpdate::default()
    };
    set_all(state, &datasets, &fetching).await;

    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    state.live.start(&connection.id, state.clock.now());
    let progress = tokio::spawn(tracing::Instrument::in_current_span(track_progress(
        state.clone(),
        connection.id.clone(),
        datasets.clone(),
        needed_resources(&data_types).len(),
        receiver,
    )));
    let yield_signal = CancellationToken::new();
    let request = sync_request(state, data_types, &job, worker, yield_signal.clone());
    let host = url::Url::parse(&connection.store_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let in_progress = metrics::gauge!("prestalink_syncs_in_progress", "host" => host);
    in_progress.increment(1.0);
    let mut sync = Box::pin(sync_connection(
        store,
        &connection.id,
        &request,
        Some(sender),
    ));
    // The lease is renewed beside the sync, never in a `select!` body: a body that awaits
    // leaves the other branches unpolled, and when the sync's future stood inside a SQLite
    // write transaction the renewal waited for a lock its own task held (up to the 30 s busy
    // timeout, each time), stalling the sync, the API's writes and the server's stop.
    let lease = ChronoDuration::from_std(state.config.lease).unwrap_or(ChronoDuration::minutes(2));
    let renewal = async {
        let mut renew = tokio::time::interval(state.config.lease / 3);
        renew.tick().await;
        loop {
            renew.tick().await;
            match store
                .renew_lease(job.id, worker, lease, state.clock.now())
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        job = job.id,
                        "lost the job's lease (another worker took it over); stopping"
                    );
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "cannot renew a lease"),
            }
        }
    };
    let mut stopping = state.stopping.clone();
    let mut lost = false;
    tokio::pin!(renewal);
    // The job's time slice: when it ends the sync is asked to yield (a synchronous body:
    // the loop goes on polling the sync, which stops at its next checkpoint).
    let slice = state.config.job_slice;
    let slice_timer = tokio::time::sleep(if slice.is_zero() {
        Duration::from_secs(u64::from(u32::MAX))
    } else {
        slice
    });
    tokio::pin!(slice_timer);
    let mut sliced = slice.is_zero();
    let outcome = loop {
        tokio::select! {
            result = &mut sync => break Some(result),
            () = &mut renewal => {
                lost = true;
                break None;
            }
            _ = async { let _ = stopping.wait_for(|s| *s).await; } => break None,
            () = &mut slice_timer, if !sliced => {
                sliced = true;
                yield_signal.cancel();
            }
        }
    };
    // A sync that did not finish is dropped here: every page it wrote is committed with its
    // checkpoint, so the next worker resumes from there. Dropping it also closes the
    // progress channel.
    drop(sync);
    in_progress.decrement(1.0);
    if lost {
        // The pull operations are the new holder's: no progress of ours may land after its.
        progress.abort();
    }
    let _ = progress.await;
    state.live.finish(&connection.id, state.clock.now());
    let now = state.clock.now();
    if lost {
        // The job and its pull operations are the new holder's now: touch nothing.
        metrics::counter!("prestalink_syncs_total", "outcome" => "lease_lost").increment(1);
        return;
    }
    let busy = matches!(
        &outcome,
        Some(Err(LinkError::Sync(prestalink_sync::SyncError::Database(
            prestalink_store::StoreError::SyncInProgress { .. }
        ))))
    );
    if busy {
        // Another process still reads this store (a `prestalink sync`, or a worker whose job
        // this one took over and that has not noticed yet): try again shortly.
        let _ = store.requeue_datasets_of_job(job.id).await;
        let _ = store
            .fail_job(
                job.id,
                worker,
                "another sync of this connection was running; tried again shortly",
                Some(now + ChronoDuration::seconds(10)),
                now,
            )
            .await;
        metrics::counter!("prestalink_syncs_total", "outcome" => "busy").increment(1);
        return;
    }
    let yielded = matches!(
        &outcome,
        Some(Err(LinkError::Sync(prestalink_sync::SyncError::Yielded)))
    );
    if yielded {
        // Its time slice is over: back in the queue at once, behind the jobs already due,
        // its pull operations still in progress; the next claim resumes from the
        // checkpoints.
        tracing::info!(job = job.id, slice = ?state.config.job_slice, "the sync yielded after its time slice; the job is queued again");
        let _ = store
            .requeue_datasets_of_job_with(
                job.id,
                "Waiting for a worker (the sync yielded after its time slice and resumes from its checkpoints)",
            )
            .await;
        let _ = store
            .fail_job(
                job.id,
                worker,
                "yielded after its time slice; resumes from its checkpoints",
                Some(now),
                now,
            )
            .await;
        metrics::counter!("prestalink_syncs_total", "outcome" => "yielded").increment(1);
        state.jobs_queued.notify_one();
        return;
    }
    let Some(result) = outcome else {
        let _ = store.requeue_datasets_of_job(job.id).await;
        let _ = store
            .fail_job(
                job.id,
                worker,
                "stopped with the server; resumes from its checkpoints",
                Some(now),
                now,
            )
            .await;
        metrics::counter!("prestalink_syncs_total", "outcome" => "interrupted").increment(1);
        return;
    };
    match sync_failure(state, &connection.id, &result).await {
        Some(error) => {
            let failures = store
                .note_sync_failure(&connection.id, &error)
                .await
                .unwrap_or(1);
            let until = now + backoff_delay(&state.config, failures);
            let _ = store.set_backoff_until(&connection.id, until).await;
            metrics::counter!("prestalink_sync_failures_total").increment(1);
            if job.failures < i64::from(state.config.job_retries) {
                // Tried again after the back-off, without holding a worker meanwhile: the
                // job waits in the queue, others go first.
                tracing::warn!(
                    job = job.id,
                    failures,
                    retry_at = %prestalink_store::format_timestamp(until),
                    %error,
                    "the sync failed; the job is queued again after a back-off"
                );
                let description = format!(
                    "Retrying at {} ({failures} failed syncs in a row; last: {error})",
                    prestalink_store::format_timestamp(until)
                );
                let _ = store
                    .requeue_datasets_of_job_with(job.id, &description)
                    .await;
                let _ = store.retry_job(job.id, worker, &error, until, now).await;
                metrics::counter!("prestalink_syncs_total", "outcome" => "retry").increment(1);
                return;
            }
        }
        None => {
            let _ = store.reset_sync_failures(&connection.id).await;
        }
    }
    let outcome_label = record_outcome(state, &company, &connection.id, &datasets, result).await;
    metrics::counter!("prestalink_syncs_total", "outcome" => outcome_label).increment(1);
    let _ = store.complete_job(job.id, worker, state.clock.now()).await;
    let finished: Vec<Dataset> = {
        let mut out = Vec::new();
        for d in &datasets {
            if let Ok(Some(d)) = store.get_dataset(&d.id).await {
                out.push(d);
            }
        }
        out
    };
    webhooks::emit_read_completed(state, &company, &finished).await;
}

/// The delay before a connection's next attempt after `failures` failed syncs in a row:
/// `backoff_min` doubled with each further failure, at most `backoff_max`.
pub fn backoff_delay(config: &crate::ServerConfig, failures: u32) -> ChronoDuration {
    use backon::BackoffBuilder;
    let delay = backon::ExponentialBuilder::default()
        .with_min_delay(config.backoff_min)
        .with_max_delay(config.backoff_max)
        .with_factor(2.0)
        .without_max_times()
        .build()
        .nth(failures.clamp(1, 64) as usize - 1)
        .unwrap_or(config.backoff_max);
    ChronoDuration::from_std(delay).unwrap_or(ChronoDuration::hours(1))
}

/// Why a finished sync counts as a failure of the store worth a retry after a back-off
/// (the store unreachable, a resource that could not be read, prestalink failing), or
/// `None`: it succeeded, or it failed in a way no retry heals (a key to link again, a
/// key that may not read a data type).
async fn sync_failure(
    state: &AppState,
    connection_id: &str,
    result: &Result<prestalink_sync::Linked, LinkError>,
) -> Option<String> {
    match result {
        Ok(linked) => {
            let report = &linked.report;
            let failed = report
                .data_types
                .values()
                .find(|r| !r.status.is_done() && r.status != DataTypeStatus::PermissionsError)?;
            let deauthorized = matches!(
                state.store.get_connection(connection_id).await,
                Ok(Some(c)) if c.status == ConnectionStatus::Deauthorized
            );
            if deauthorized {
                return None;
            }
            Some(failed.error.as_ref().or(report.fatal.as_ref()).map_or_else(
                || "the sync did not complete".to_string(),
                ToString::to_string,
            ))
        }
        Err(LinkError::NotReadable(diagnosis)) if needs_relink(diagnosis.code) => None,
        Err(LinkError::NotReadable(diagnosis)) => Some(diagnosis.message.clone()),
        Err(e) => Some(e.to_string()),
    }
}

/// Writes each pull operation's outcome; returns the sync's outcome for metrics.
async fn record_outcome(
    state: &AppState,
    company: &Company,
    connection_id: &str,
    datasets: &[Dataset],
    result: Result<prestalink_sync::Linked, LinkError>,
) -> &'static str {
    match result {
        Ok(linked) => {
            let report = linked.report;
            let mut all_ok = true;
            for d in datasets {
                let r = report.data_types.get(&d.data_type);
                let (status, description, error) = match r.map(|r| r.status) {
                    Some(DataTypeStatus::Completed) => {
                        ("Complete", "The data type is up to date", None)
                    }
                    Some(DataTypeStatus::NotSupported) => {
                        ("NotSupported", "PrestaShop has no such data", None)
                    }
                    // Codat's status for a data type the key may not read; nothing was read.
                    Some(DataTypeStatus::PermissionsError) => {
                        all_ok = false;
                        (
                            prestalink_sync::PERMISSIONS_ERROR,
                            "The Webservice key may not read what this data type needs",
                            r.and_then(|r| r.error.as_ref().map(ToString::to_string)),
                        )
                    }
                    _ => {
                        all_ok = false;
                        let error = r
                            .and_then(|r| r.error.as_ref())
                            .or(report.fatal.as_ref())
                            .map_or_else(
                                || "the sync did not complete".to_string(),
                                ToString::to_string,
                            );
                        ("FetchError", "The store could not be read", Some(error))
                    }
                };
                let written = r.map(|r| (r.written + r.deleted) as i64).unwrap_or(0);
                metrics::counter!("prestalink_records_written_total").increment(written as u64);
                let update = DatasetUpdate {
                    status: Some(status),
                    status_description: Some(description),
                    error_message: error.as_deref(),
                    progress: Some(100),
                    records_modified: Some(written),
                    run_id: Some(&report.run_id),
                    completed: true,
                };
                let _ = state
                    .store
                    .update_dataset(&d.id, &update, state.clock.now())
                    .await;
            }
            if report.fatal.is_some() {
                connection_failed(state, company, connection_id).await;
            }
            if all_ok {
                "completed"
            } else {
                "partial"
            }
        }
        Err(LinkError::NotReadable(diagnosis)) => {
            let relink = needs_relink(diagnosis.code);
            let message = match &diagnosis.fix {
                Some(fix) => format!("{} {}", diagnosis.message, fix),
                None => diagnosis.message.clone(),
            };
            let update = DatasetUpdate {
                status: Some(if relink { "AuthError" } else { "FetchError" }),
                status_description: Some("The store could not be read"),
                error_message: Some(&message),
                completed: true,
                ..DatasetUpdate::default()
            };
            set_all(state, datasets, &update).await;
            if relink {
                connection_failed(state, company, connection_id).await;
            }
            if relink {
                "auth_error"
            } else {
                "unreachable"
            }
        }
        Err(e) => {
            tracing::error!(error = %e, connection = connection_id, "sync failed");
            let update = DatasetUpdate {
                status: Some("InternalError"),
                error_message: Some("prestalink failed while syncing; the failure was logged and the next sync resumes"),
                completed: true,
                ..DatasetUpdate::default()
            };
            set_all(state, datasets, &update).await;
            "internal_error"
        }
    }
}

/// Emits `connection.failed` when the connection ended up deauthorized.
async fn connection_failed(state: &AppState, company: &Company, connection_id: &str) {
    if let Ok(Some(c)) = state.store.get_connection(connection_id).await {
        if c.status == ConnectionStatus::Deauthorized {
            let detail = json!({"status": "Deauthorized", "reason": c.status_reason});
            webhooks::emit_connection_event(
                state,
                "connection.failed",
                company,
                connection_id,
                detail,
            )
            .await;
        }
    }
}

/// Turns progress events into pull-operation progress: reads fill the first half, mapping a
/// data type its second half. Writes at most twice a second per pull operation.
async fn track_progress(
    state: AppState,
    connection_id: String,
    datasets: Vec<Dataset>,
    resources: usize,
    mut events: tokio::sync::mpsc::UnboundedReceiver<ProgressEvent>,
) {
    let mut read_done = 0usize;
    // Per pull operation: when its progress was last written, and what.
    let mut last_write: HashMap<String, (Instant, &str, i64)> = HashMap::new();
    let mut mapping: Vec<String> = Vec::new();
    while let Some(event) = events.recv().await {
        state.live.update(&connection_id, &event);
        let (targets, status, progress): (Vec<&Dataset>, &str, i64) = match &event.stage {
            Stage::Read(_) => {
                if event.finished {
                    read_done += 1;
                }
                let p = (50 * read_done / resources.max(1)).min(50) as i64;
                let fetching = datasets
                    .iter()
                    .filter(|d| !mapping.contains(&d.data_type))
                    .collect();
                (fetching, "Fetching", p)
            }
            Stage::Map(dt) => {
                if !mapping.contains(dt) {
                    mapping.push(dt.clone());
                }
                let share = match event.total {
                    Some(total) if total > 0 => (event.records as f64 / total as f64).min(1.0),
                    _ if event.finished => 1.0,
                    _ => 0.0,
                };
                let p = 50 + (49.0 * share) as i64;
                (
                    datasets.iter().filter(|d| &d.data_type == dt).collect(),
                    "Mapping",
                    p,
                )
            }
        };
        // A data type's mapping that ends is written at once; every other event at most
        // twice a second per pull operation, and only when it changes what was written
        // (each of the ~40 resources a sync reads ends with an event for every pull
        // operation still fetching: written at once, that was 360 of the 1,060 statements
        // a small store's first sync cost the database).
        let ends_mapping = event.finished && matches!(event.stage, Stage::Map(_));
        for d in targets {
            let (unchanged, due) = match last_write.get(&d.id) {
                Some(&(at, s, p)) => (
                    (s, p) == (status, progress),
                    at.elapsed() >= Duration::from_millis(500),
                ),
                None => (false, true),
            };
            if !unchanged && (due || ends_mapping) {
                last_write.insert(d.id.clone(), (Instant::now(), status, progress));
                let update = DatasetUpdate {
                    status: Some(status),
                    progress: Some(progress),
                    ..DatasetUpdate::default()
                };
                let _ = state
                    .store
                    .update_dataset(&d.id, &update, state.clock.now())
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prestalink_store::{MasterKeySource, Store, StoreOptions};

    async fn state() -> (AppState, Company, String, tokio::sync::watch::Sender<bool>) {
        let store = Store::open_with(
            "sqlite::memory:",
            StoreOptions {
                master_key: MasterKeySource::Bytes([7u8; 32]),
                ..StoreOptions::default()
            },
        )
        .await
        .unwrap();
        let now = chrono::Utc::now();
        let company = store.create_company("Seen", now).await.unwrap();
        let connection = store
            .create_or_get_connection(
                &company.id,
                "https://seen.example",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456",
                now,
            )
            .await
            .unwrap()
            .id;
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let state = AppState::new(
            store,
            crate::ServerConfig::default(),
            "http://127.0.0.1:1".into(),
            stopping,
        );
        (state, company, connection, stop)
    }

    async fn jobs(state: &AppState) -> u64 {
        state
            .store
            .queue_stats(state.clock.now())
            .await
            .unwrap()
            .queued
    }

    /// The scheduler saw no pull operation of orders; meanwhile a first link (another
    /// process) queued one and it completed: the scheduled job is withdrawn, not run again.
    #[tokio::test]
    async fn a_schedule_decided_on_a_stale_view_is_withdrawn() {
        let (state, company, connection, _stop) = state().await;
        let mut seen = SeenLatest::new();
        seen.insert(DataType::Orders.key().to_string(), None);
        let other = state
            .store
            .create_dataset(
                &company.id,
                &connection,
                DataType::Orders.key(),
                "Complete",
                "firstLink",
                true,
                None,
                state.clock.now(),
            )
            .await
            .unwrap();
        let created = queue_sync_seen(
            &state,
            &company,
            &connection,
            &[DataType::Orders],
            Trigger::Schedule,
            Some(&seen),
        )
        .await
        .unwrap();
        assert!(created.is_empty(), "{created:?}");
        assert_eq!(jobs(&state).await, 0, "the held job was withdrawn");

        // On the view as it is now, the schedule queues.
        seen.insert(DataType::Orders.key().to_string(), Some(other.id));
        let created = queue_sync_seen(
            &state,
            &company,
            &connection,
            &[DataType::Orders],
            Trigger::Schedule,
            Some(&seen),
        )
        .await
        .unwrap();
        assert_eq!(created.len(), 1);
        assert_eq!(jobs(&state).await, 1);
    }
}
