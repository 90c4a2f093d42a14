//! One sync run: read the resources the requested data types need (reference data first),
//! then map and write each data type, recording a sync run per data type.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use prestalink_commerce::{DataType, Support};
use prestalink_mapping::sources::sources;
use prestalink_mapping::{MapOptions, RecordSet};
use prestalink_store::{Checkpoint, ConnectionStatus, Store, SyncCounts, SyncStatus};
use prestalink_webservice::client::Client;
use prestalink_webservice::query::{Display, Query};
use prestalink_webservice::record::Record;
use prestalink_webservice::Format;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tracing::Instrument;

use crate::catalog::{self, SourceResource};
use crate::checkpoint::Kind;
use crate::error::{FailureReason, SyncError};
use crate::fetch::Fetcher;
use crate::map::MapOutcome;
use crate::options::SyncOptions;
use crate::progress::ProgressEvent;
use crate::read::{read_resource, reads_in_full, ReadOutcome, PS_DATE};

/// Data types mapped at once (see `Engine::run`): two, one per core of a small host; more
/// would only queue on SQLite's single writer.
const MAP_TASKS: usize = 2;

/// Everything the steps of one run share.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) fetcher: Fetcher,
    pub(crate) db: Store,
    pub(crate) connection_id: String,
    pub(crate) run_id: String,
    pub(crate) options: SyncOptions,
    pub(crate) progress: Option<UnboundedSender<ProgressEvent>>,
    pub(crate) store_url: String,
    timezone: Mutex<Option<Tz>>,
    /// The shop's clock minus ours, read once per run and shared by every scope.
    /// Set by the first read that asks; reads that ask meanwhile wait for that request
    /// instead of each sending their own (at the start of a run a dozen reference reads
    /// ask at once: they sent a dozen clock requests, one at a time while the pacer probed).
    clock_offset: Arc<tokio::sync::OnceCell<TimeDelta>>,
    /// Held while the learned database lag is read and raised, so that resources read at
    /// the same time do not overwrite each other's larger value.
    pub(crate) lag_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Ctx {
    /// The shop's current local time: its own clock (PrestaShop's `Access-Time` header, else
    /// HTTP `Date`) in its time zone (PS_TIMEZONE, once configurations are read). `None`
    /// while the time zone is unknown: watermarks are then not advanced.
    pub(crate) async fn shop_now(&self) -> Option<NaiveDateTime> {
        let zone = self.timezone().await?;
        let clock = self.server_clock().await.unwrap_or_else(Utc::now);
        Some(clock.with_timezone(&zone).naive_local())
    }

    /// The shop's offset from UTC now (PS_TIMEZONE: +1 h for Paris in winter), once
    /// configurations are read.
    pub(crate) async fn shop_utc_offset(&self) -> Option<TimeDelta> {
        use chrono::Offset;
        let zone = self.timezone().await?;
        let offset = zone.offset_from_utc_datetime(&Utc::now().naive_utc()).fix();
        Some(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
    }

    async fn timezone(&self) -> Option<Tz> {
        if let Some(zone) = *self.timezone.lock().expect("timezone lock") {
            return Some(zone);
        }
        let configurations: Vec<Record> = crate::map::live(
            self.db
                .list_raw_as(&self.connection_id, "configurations", None, 100_000)
                .await
                .ok()?,
        );
        // The global PS_TIMEZONE, as the mapping and the diagnosis read it (the connection
        // reads the store as a whole, not one shop).
        let zone: Tz = prestalink_webservice::configuration::timezone(&configurations, None, None)?
            .parse()
            .ok()?;
        *self.timezone.lock().expect("timezone lock") = Some(zone);
        Some(zone)
    }

    /// The shop's clock: read once per run from a cheap request's headers, then ours plus
    /// the difference (the headers have a one-second resolution; watermarks look back 15
    /// minutes). One request per run instead of one per resource read.
    async fn server_clock(&self) -> Option<DateTime<Utc>> {
        // A failed read sets nothing: the next caller asks again.
        let offset = self
            .clock_offset
            .get_or_try_init(|| async {
                let clock = self.read_server_clock().await.ok_or(())?;
                Ok::<_, ()>(clock - Utc::now())
            })
            .await
            .ok()?;
        Some(Utc::now() + *offset)
    }

    /// The shop's clock from a cheap request's headers ([`Fetcher::unsampled`]).
    async fn read_server_clock(&self) -> Option<DateTime<Utc>> {
        let query = Query::list("languages")
            .ok()?
            .display(Display::Fields(vec!["id".into()]))
            .ok()?
            .limit(0, 1);
        let client = self.fetcher.client();
        let raw = self
            .fetcher
            .unsampled(client.get_raw(&query, Format::Json, None))
            .await;
        let raw = raw.ok()?;
        let header = |name: &str| raw.headers.get(name)?.to_str().ok().map(str::to_string);
        if let Some(ts) = header("Access-Time").and_then(|t| t.trim().parse::<i64>().ok()) {
            return Utc.timestamp_opt(ts, 0).single();
        }
        header("Date")
            .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
            .map(|d| d.with_timezone(&Utc))
    }

    /// The same context with its own request count, for one resource read at the same time
    /// as others.
    pub(crate) fn scoped(&self) -> Ctx {
        Ctx {
            fetcher: self.fetcher.scoped(),
            db: self.db.clone(),
            connection_id: self.connection_id.clone(),
            run_id: self.run_id.clone(),
            options: self.options.clone(),
            progress: self.progress.clone(),
            store_url: self.store_url.clone(),
            timezone: Mutex::new(*self.timezone.lock().expect("timezone lock")),
            clock_offset: self.clock_offset.clone(),
            lag_lock: self.lag_lock.clone(),
        }
    }

    /// Saves a checkpoint on its own, stamped with this run's id.
    pub(crate) async fn save_checkpoint(&self, checkpoint: Checkpoint) -> Result<(), SyncError> {
        let checkpoint = Checkpoint {
            run_id: Some(self.run_id.clone()),
            ..checkpoint
        };
        self.db
            .save_checkpoint(&self.connection_id, &checkpoint, Utc::now())
            .await?;
        Ok(())
    }

    /// Marks deleted every live record of a data type (its key, e.g. `commerce-orders` or
    /// `raw-<resource>`) whose id is not in `ids`.
    pub(crate) async fn mark_commerce_deleted_except(
        &self,
        data_type: &str,
        ids: &[String],
    ) -> Result<u64, SyncError> {
        let gone = self
            .db
            .mark_deleted_except(
                &self.connection_id,
                prestalink_store::RecordSet::Commerce(data_type),
                ids,
                Utc::now(),
            )
            .await?;
        Ok(gone.len() as u64)
    }

    /// Mapping options for this connection at `now`.
    pub(crate) fn map_options(&self, now: DateTime<Utc>) -> MapOptions {
        let mut opts = MapOptions::new(now);
        opts.language = self.options.language;
        opts.store_url = Some(self.store_url.clone());
        opts.rules = self.options.rules.clone();
        opts
    }
}

/// How a data type's part of a run ended (in JSON: `completed`, `failed`, `notSupported`
/// or `PermissionsError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DataTypeStatus {
    /// Read and mapped.
    #[serde(rename = "completed")]
    Completed,
    /// A resource could not be read, or the mapping failed (see the report's `error`).
    #[serde(rename = "failed")]
    Failed,
    /// PrestaShop has no such data.
    #[serde(rename = "notSupported")]
    NotSupported,
    /// The Webservice key may not read what the data type needs: nothing was read.
    #[serde(rename = "PermissionsError")]
    PermissionsError,
}

impl DataTypeStatus {
    /// The status as the JSON report writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DataTypeStatus::Completed => "completed",
            DataTypeStatus::Failed => "failed",
            DataTypeStatus::NotSupported => "notSupported",
            DataTypeStatus::PermissionsError => PERMISSIONS_ERROR,
        }
    }

    /// Whether the data type ended as well as it can (completed, or not supported).
    pub fn is_done(self) -> bool {
        matches!(
            self,
            DataTypeStatus::Completed | DataTypeStatus::NotSupported
        )
    }
}

impl std::fmt::Display for DataTypeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the JSON form (`status == "completed"`).
impl PartialEq<&str> for DataTypeStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The outcome of one data type in a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTypeReport {
    /// How it ended.
    pub status: DataTypeStatus,
    /// Commerce records mapped in this run.
    pub records: u64,
    /// Commerce records written (new or changed).
    pub written: u64,
    /// Commerce records marked deleted.
    pub deleted: u64,
    /// Requests made for the resources this data type is read from.
    pub requests: u64,
    /// Why it failed (or, when not supported, why nothing was read); in JSON its text.
    pub error: Option<FailureReason>,
    /// Source records that could not be mapped (the others were).
    pub mapping_failures: u64,
    /// The first few of them (20 at most).
    pub mapping_failure_samples: Vec<crate::map::MappingFailure>,
    /// Warnings (references to deleted rows, unresolved values).
    pub warnings: u64,
}

/// The outcome of reading one resource.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceReport {
    /// The resource.
    pub resource: String,
    /// Whether it was read in full.
    pub full: bool,
    /// Records received.
    pub records: u64,
    /// Raw records written (new or changed).
    pub written: u64,
    /// Raw records marked deleted.
    pub deleted: u64,
    /// Requests made, retries included.
    pub requests: u64,
    /// Why it failed; in JSON its text.
    pub error: Option<FailureReason>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// The connection synced.
    pub connection_id: String,
    /// This run's id.
    pub run_id: String,
    /// Per data type.
    pub data_types: BTreeMap<String, DataTypeReport>,
    /// Per resource, in reading order.
    pub resources: Vec<ResourceReport>,
    /// Requests made in all.
    pub requests: u64,
    /// Wall time.
    pub seconds: f64,
    /// Set when the store could not be reached or read at all (`error` in JSON, its text).
    #[serde(rename = "error")]
    pub fatal: Option<FailureReason>,
}

impl SyncReport {
    /// True when every supported data type completed.
    pub fn all_completed(&self) -> bool {
        self.fatal.is_none() && self.data_types.values().all(|d| d.status.is_done())
    }
}

/// A sync of one connection.
pub struct Engine {
    ctx: Ctx,
    /// The connection's sync lease when the caller already holds it (and renews and
    /// releases it): [`crate::sync_connection`] takes it before its first request.
    held: bool,
}

impl Engine {
    /// An engine for `connection_id`, reading through `client` paced by the store host's
    /// `pacer`, writing to `db`.
    pub fn new(
        client: Client,
        pacer: prestalink_pacing::Pacer,
        db: Store,
        connection_id: &str,
        store_url: &str,
        options: SyncOptions,
    ) -> Engine {
        let fetcher = Fetcher::new(client, pacer, options.max_attempts);
        Engine {
            held: false,
            ctx: Ctx {
                fetcher,
                db,
                connection_id: connection_id.to_string(),
                run_id: new_run_id(),
                options,
                progress: None,
                store_url: store_url.to_string(),
                timezone: Mutex::new(None),
                clock_offset: Arc::default(),
                lag_lock: Arc::new(tokio::sync::Mutex::new(())),
            },
        }
    }

    /// Sends progress events to `sender` while running.
    pub fn with_progress(mut self, sender: UnboundedSender<ProgressEvent>) -> Engine {
        self.ctx.progress = Some(sender);
        self
    }

    /// The caller holds the connection's sync lease for the whole run (takes it before any
    /// request, renews it, releases it): the run neither takes nor releases it.
    pub(crate) fn with_held_lease(mut self) -> Engine {
        self.held = true;
        self
    }

    /// This run's id.
    pub fn run_id(&self) -> &str {
        &self.ctx.run_id
    }

    /// Runs the sync. Database failures end the run with an error; everything else is in the
    /// report (failed resources fail only the data types that need them).
    pub async fn run(self) -> Result<SyncReport, SyncError> {
        // Every line the run logs (its tasks too) carries the connection and the run id.
        let span = tracing::info_span!(
            "sync_run",
            connection = %self.ctx.connection_id,
            run = %self.ctx.run_id
        );
        self.run_in_span().instrument(span).await
    }

    async fn run_in_span(self) -> Result<SyncReport, SyncError> {
        if self.held {
            return self.run_leased().await;
        }
        let lease = crate::lease::acquire(&self.ctx).await?;
        // Released when the run ends, and also when the run is dropped half-way (a server
        // stopping at a checkpoint): the guard gives the lease back either way.
        let guard = crate::lease::Guard::new(self.ctx.db.clone(), lease.clone());
        let renewal = crate::lease::keep(&self.ctx.db, &lease);
        let result = tokio::select! {
            result = self.run_leased() => result,
            lost = renewal => Err(lost),
        };
        guard.release().await;
        result
    }

    /// The run, with this process holding the connection's sync lease: runs still marked
    /// `running` were left by a process that died, never by a sync in progress.
    async fn run_leased(&self) -> Result<SyncReport, SyncError> {
        let ctx = &self.ctx;
        let started = Instant::now();
        let now = Utc::now();
        ctx.db
            .interrupt_running_runs(&ctx.connection_id, now)
            .await?;
        let data_types: Vec<DataType> = ctx.options.data_types.clone();
        // Planned from the diagnosis: a data type that needs a resource the key may not read
        // fails with PermissionsError before anything is read for it.
        let forbidden = |dt: DataType| crate::link::forbidden_sources(dt, &ctx.options.unreadable);
        let readable: Vec<DataType> = data_types
            .iter()
            .copied()
            .filter(|&dt| forbidden(dt).is_empty())
            .collect();
        let mut run_ids = HashMap::new();
        for dt in &data_types {
            if dt.support() == Support::Supported {
                let id = ctx
                    .db
                    .start_sync_run(&ctx.connection_id, &ctx.run_id, dt.key(), now)
                    .await?;
                run_ids.insert(*dt, id);
            }
        }

        let mut resources = needed_resources(&readable);
        resources.retain(|r| !ctx.options.unreadable.iter().any(|u| u == r.name));
        let extras: Vec<&'static SourceResource> = ctx
            .options
            .rules
            .extra_resources
            .iter()
            .map(|e| catalog::extra(&e.resource))
            .collect();
        resources.extend(extras.iter().copied());
        let mut outcomes: HashMap<&'static str, Result<ReadOutcome, FailureReason>> =
            HashMap::new();
        let mut reports = Vec::new();
        let mut fatal: Option<FailureReason> = None;
        let mut independent = Vec::new();
        for res in &resources {
            if matches!(res.incremental, catalog::Incremental::ChildrenOf(..))
                && reads_in_full(ctx, res).await?
            {
                independent.push(res.name);
            }
        }
        // The reference resources that wrote or deleted a row this run.
        let mut reference_changed: BTreeSet<&'static str> = BTreeSet::new();
        // While the shop is read, its newest visitors are watched (balanced only): nobody
        // on the storefront, and balanced may use the capacity it keeps for shoppers.
        let watching_shoppers = crate::shoppers::watch(&ctx.fetcher, &ctx.options.unreadable);
        for wave in waves(&resources, &independent) {
            let reference_only = wave.iter().all(|r| r.reference);
            // The resources of a wave do not depend on each other: they are read at the same
            // time, sharing the pacer (which decides how many requests are in flight).
            let mut reads = Vec::new();
            for res in wave {
                let parent = match res.incremental {
                    catalog::Incremental::ChildrenOf(parent, field) => match outcomes.get(parent) {
                        Some(Ok(outcome)) => Some(with_siblings(outcome, field, &outcomes)),
                        Some(Err(reason)) => {
                            let reason = FailureReason::source_failed(parent, reason);
                            reports.push(failed_report(res, 0, &reason));
                            outcomes.insert(res.name, Err(reason));
                            continue;
                        }
                        None => None,
                    },
                    _ => None,
                };
                reads.push(async move {
                    let scoped = ctx.scoped();
                    let result = read_resource(&scoped, res, parent.as_ref()).await;
                    (res, result, scoped.fetcher.scope_requests())
                });
            }
            let mut yielded = false;
            for (res, result, requests) in futures::future::join_all(reads).await {
                match result {
                    Ok(outcome) => {
                        reports.push(ResourceReport {
                            resource: res.name.to_string(),
                            full: outcome.full,
                            records: outcome.records,
                            written: outcome.written,
                            deleted: outcome.deleted,
                            requests,
                            error: None,
                        });
                        outcomes.insert(res.name, Ok(outcome));
                    }
                    Err(SyncError::Database(e)) => return Err(SyncError::Database(e)),
                    // Asked to yield: the pages read so far are written with their
                    // checkpoints; the next run goes on from them. The wave's other
                    // results are looked at first (a reference change must be recorded).
                    Err(SyncError::Yielded) => yielded = true,
                    Err(e) => {
                        let reason = FailureReason::from(&e);
                        tracing::warn!(resource = res.name, %reason, "resource failed");
                        reports.push(failed_report(res, requests, &reason));
                        outcomes.insert(res.name, Err(reason.clone()));
                        if fatal.is_none() && ends_run(&reason, &reports) {
                            if reason.needs_relink() {
                                ctx.db
                                    .set_connection_status(
                                        &ctx.connection_id,
                                        ConnectionStatus::Deauthorized,
                                        Some(&reason.to_string()),
                                        Utc::now(),
                                    )
                                    .await?;
                            }
                            fatal = Some(reason);
                        }
                    }
                }
            }
            // Reference data changed (a carrier renamed, a tax rate…): the data types whose
            // mapping looks it up map in full at the end of this run, the others only what
            // changed (a category found changed by the sweep remaps products and product
            // categories, not 100,000 orders). The decision is made durable at once, by
            // forgetting those data types' mapping passes, so that a run that yields, fails
            // or dies before it maps leaves it to the run that resumes (which reads the
            // reference data again, finds it unchanged and would otherwise map only what
            // changed). A data type without a kept pass maps in full.
            let newly: Vec<&'static str> = reports
                .iter()
                .filter(|r| r.written > 0 || r.deleted > 0)
                .filter_map(|r| catalog::source(&r.resource).filter(|s| s.reference))
                .map(|s| s.name)
                .filter(|name| !reference_changed.contains(name))
                .collect();
            if !newly.is_empty() {
                for dt in DataType::ALL {
                    if newly.iter().any(|r| sources(dt).reads(r)) {
                        ctx.db
                            .clear_checkpoint(&ctx.connection_id, dt.key(), Kind::Mapped.name())
                            .await?;
                    }
                }
                reference_changed.extend(newly);
            }
            if fatal.is_some() {
                break;
            }
            // Between waves is a checkpoint too (every resource of the wave is written),
            // unless the wave was reference data only (read again in full by every run).
            if yielded || (ctx.options.yield_signal.is_cancelled() && !reference_only) {
                return Err(SyncError::Yielded);
            }
        }
        drop(watching_shoppers);
        // Reports in the catalogue's reading order, whatever order reads finished in.
        reports.sort_by_key(|r| {
            resources
                .iter()
                .position(|res| res.name == r.resource)
                .unwrap_or(usize::MAX)
        });

        let reference = if fatal.is_none() {
            load_reference(ctx).await?
        } else {
            RecordSet::new()
        };
        let requests_of = |dt: DataType| -> u64 {
            reports
                .iter()
                .filter(|r| sources(dt).reads(&r.resource))
                .map(|r| r.requests)
                .sum()
        };

        // The first source of a data type that could not be read: the data type fails with it.
        let failed_source = |dt: DataType| {
            sources(dt)
                .resources()
                .into_iter()
                .find_map(|s| match outcomes.get(s) {
                    Some(Err(reason)) => Some(FailureReason::source_failed(s, reason)),
                    _ => None,
                })
        };
        let reference = Arc::new(reference);
        let full = ctx.options.full;
        // Data types are mapped on tasks of their own, `MAP_TASKS` at a time: mapping is
        // CPU work (decoding stored rows, mapping, hashing) and SQLite work, and the shop is
        // idle by now. On one runtime thread (the CLI's default) the two tasks' SQLite work
        // overlaps with each other's mapping; with `--threads 2` or more their mapping runs
        // side by side too. Orders, payments, transactions and payment methods are mapped
        // together, in one pass over the stored orders and payments when mapped in full.
        let mut mapped: HashMap<DataType, Result<MapOutcome, SyncError>> = HashMap::new();
        if fatal.is_none() {
            let to_map: Vec<DataType> = readable
                .iter()
                .copied()
                .filter(|&dt| dt.support() != Support::NotSupported && failed_source(dt).is_none())
                .collect();
            // The data types built from orders go together, so that a full mapping reads
            // the stored orders and payments once for all of them (see family.rs).
            let (family, alone): (Vec<DataType>, Vec<DataType>) = to_map
                .into_iter()
                .partition(|dt| crate::family::ORDER_FAMILY.contains(dt));
            let mut units: Vec<Vec<DataType>> = Vec::new();
            if !family.is_empty() {
                units.push(family);
            }
            units.extend(alone.into_iter().map(|dt| vec![dt]));
            let mut tasks = futures::stream::iter(units.into_iter().map(|unit| {
                let scoped = ctx.scoped();
                // Each unit sees only the reference resources its data types name (sources):
                // what the selective remap above relies on is then what mapping can use, and
                // a lookup left out of a data type's sources fails the ground-truth tests.
                let named: Vec<&str> = unit
                    .iter()
                    .flat_map(|&dt| sources(dt).resources())
                    .collect();
                let reference = Arc::new(reference.only(&named));
                // Aborted with the run: a run dropped half-way (its job's lease lost, the
                // server stopping) must not go on writing records without its lease.
                let task =
                    tokio_util::task::AbortOnDropHandle::new(tokio::spawn(
                        async move {
                            crate::family::map_together(&scoped, &unit, &reference, full).await
                        }
                        .in_current_span(),
                    ));
                async move { task.await.expect("mapping task panicked") }
            }))
            .buffer_unordered(MAP_TASKS);
            while let Some(outcomes) = tasks.next().await {
                mapped.extend(outcomes);
            }
        }

        let mut data_type_reports = BTreeMap::new();
        for dt in &data_types {
            let dt = *dt;
            let mut report = DataTypeReport {
                status: DataTypeStatus::Completed,
                records: 0,
                written: 0,
                deleted: 0,
                requests: requests_of(dt),
                error: None,
                mapping_failures: 0,
                mapping_failure_samples: Vec::new(),
                warnings: 0,
            };
            if dt.support() == Support::NotSupported {
                report.status = DataTypeStatus::NotSupported;
                report.error = Some(FailureReason::NotSupported {
                    data_type: dt.key().to_string(),
                });
                data_type_reports.insert(dt.key().to_string(), report);
                continue;
            }
            let missing = forbidden(dt);
            if !missing.is_empty() {
                let error = FailureReason::PermissionsError {
                    resources: missing.iter().map(|r| r.to_string()).collect(),
                };
                report.status = DataTypeStatus::PermissionsError;
                if let Some(id) = run_ids.get(&dt) {
                    ctx.db
                        .finish_sync_run(
                            *id,
                            SyncStatus::Failed,
                            &SyncCounts::default(),
                            Some(&error.to_string()),
                            Utc::now(),
                        )
                        .await?;
                }
                report.error = Some(error);
                data_type_reports.insert(dt.key().to_string(), report);
                continue;
            }
            let error = match (&fatal, failed_source(dt)) {
                (Some(reason), _) => Some(reason.clone()),
                (None, Some(reason)) => Some(reason),
                (None, None) => match mapped.remove(&dt) {
                    Some(Ok(outcome)) => {
                        apply(&mut report, outcome);
                        None
                    }
                    Some(Err(SyncError::Database(e))) => return Err(SyncError::Database(e)),
                    Some(Err(e)) => Some(FailureReason::from(&e)),
                    // Every data type without a failed source was mapped above.
                    None => Some(FailureReason::NotMapped),
                },
            };
            let status = if error.is_some() {
                report.status = DataTypeStatus::Failed;
                SyncStatus::Failed
            } else {
                SyncStatus::Completed
            };
            report.error = error;
            if let Some(id) = run_ids.get(&dt) {
                let counts = SyncCounts {
                    records_read: report.records as i64,
                    records_written: report.written as i64,
                    requests: report.requests as i64,
                };
                let error = report.error.as_ref().map(ToString::to_string);
                ctx.db
                    .finish_sync_run(*id, status, &counts, error.as_deref(), Utc::now())
                    .await?;
            }
            data_type_reports.insert(dt.key().to_string(), report);
        }

        for res in &extras {
            let key = catalog::raw_copy_key(res.name);
            let mut report = DataTypeReport {
                status: DataTypeStatus::Completed,
                records: 0,
                written: 0,
                deleted: 0,
                requests: reports
                    .iter()
                    .filter(|r| r.resource == res.name)
                    .map(|r| r.requests)
                    .sum(),
                error: None,
                mapping_failures: 0,
                mapping_failure_samples: Vec::new(),
                warnings: 0,
            };
            let error = match (&fatal, outcomes.get(res.name)) {
                (Some(reason), _) => Some(reason.clone()),
                (None, Some(Err(reason))) => Some(FailureReason::source_failed(res.name, reason)),
                _ => match crate::map::copy_raw(ctx, res.name).await {
                    Ok(outcome) => {
                        apply(&mut report, outcome);
                        None
                    }
                    Err(SyncError::Database(e)) => return Err(SyncError::Database(e)),
                    Err(e) => Some(FailureReason::from(&e)),
                },
            };
            if error.is_some() {
                report.status = DataTypeStatus::Failed;
            }
            report.error = error;
            data_type_reports.insert(key, report);
        }

        if reports.iter().any(|r| r.full && r.written > 1000) {
            // After a large first read, PostgreSQL must learn the tables' new sizes or it
            // plans the API's queries as if they were empty.
            ctx.db.refresh_statistics().await?;
        }
        if fatal.is_none() {
            let settings = serde_json::to_value(ctx.fetcher.pacer().settings())
                .unwrap_or(serde_json::Value::Null);
            ctx.db
                .save_pacer_settings(&ctx.connection_id, &settings, Utc::now())
                .await?;
            if reports.iter().any(|r| r.error.is_none()) {
                ctx.db
                    .set_connection_status(
                        &ctx.connection_id,
                        ConnectionStatus::Linked,
                        None,
                        Utc::now(),
                    )
                    .await?;
            }
        }
        Ok(SyncReport {
            connection_id: ctx.connection_id.clone(),
            run_id: ctx.run_id.clone(),
            data_types: data_type_reports,
            resources: reports,
            requests: ctx.fetcher.requests(),
            seconds: started.elapsed().as_secs_f64(),
            fatal,
        })
    }
}

/// The parent's read outcome, its changed ids extended with the parents of rows read in this
/// run that belong to the same parent (`field`): a new credit slip changes its order's
/// details without changing the order's `date_upd`.
fn with_siblings(
    parent: &ReadOutcome,
    field: &str,
    outcomes: &HashMap<&'static str, Result<ReadOutcome, FailureReason>>,
) -> ReadOutcome {
    let mut out = parent.clone();
    for (name, outcome) in outcomes {
        let same_parent = catalog::source(name).is_some_and(|s| s.parent_field == Some(field));
        if let (true, Ok(sibling)) = (same_parent, outcome) {
            out.changed_ids.extend(
                sibling
                    .changed_parents
                    .iter()
                    .filter_map(|k| k.trim().parse::<u64>().ok()),
            );
        }
    }
    out.changed_ids.sort_unstable();
    out.changed_ids.dedup();
    out
}

fn apply(report: &mut DataTypeReport, outcome: MapOutcome) {
    report.records = outcome.records;
    report.written = outcome.written;
    report.deleted = outcome.deleted;
    report.mapping_failures = outcome.failure_count;
    report.mapping_failure_samples = outcome.failures;
    report.warnings = outcome.warning_count;
}

fn failed_report(res: &SourceResource, requests: u64, reason: &FailureReason) -> ResourceReport {
    ResourceReport {
        resource: res.name.to_string(),
        full: false,
        records: 0,
        written: 0,
        deleted: 0,
        requests,
        error: Some(reason.clone()),
    }
}

/// Whether a resource's failure ends the run (when no earlier one did): a failure that
/// needs the connection linked again, or the store unreachable while no resource of the
/// run (`reports`, this failure's included) could be read.
fn ends_run(reason: &FailureReason, reports: &[ResourceReport]) -> bool {
    reason.needs_relink() || (reason.is_unreachable() && reports.iter().all(|r| r.error.is_some()))
}

/// The reading waves: configurations first (the shop's time zone, for watermarks), then
/// the other reference data together, then transactional data together, then the rows of
/// changed parents (which need the parents' and their siblings' outcomes). Children that
/// this run reads in full (`independent`: a full sync, a first sync) go with the
/// transactional wave, since they need nothing from their parents' reads.
fn waves(
    resources: &[&'static SourceResource],
    independent: &[&str],
) -> Vec<Vec<&'static SourceResource>> {
    let rank = |r: &SourceResource| match (r.name, r.reference, r.incremental) {
        ("configurations", _, _) => 0,
        (_, true, _) => 1,
        // Children read in full anyway do not wait for their parent's read.
        (_, false, catalog::Incremental::ChildrenOf(..)) if !independent.contains(&r.name) => 3,
        _ => 2,
    };
    (0..4)
        .map(|wave| {
            resources
                .iter()
                .copied()
                .filter(|r| rank(r) == wave)
                .collect::<Vec<_>>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// The resources the data types are read from, in the catalogue's order (reference data
/// first); reference data is always read, since mapping any data type looks it up.
pub fn needed_resources(data_types: &[DataType]) -> Vec<&'static SourceResource> {
    catalog::RESOURCES
        .iter()
        .filter(|r| r.reference || data_types.iter().any(|dt| sources(*dt).reads(r.name)))
        .collect()
}

/// Every raw record of the reference resources (small: languages, currencies, countries,
/// order states, taxes, categories…), for mapping.
pub(crate) async fn load_reference(ctx: &Ctx) -> Result<RecordSet, SyncError> {
    let mut set = RecordSet::new();
    for res in catalog::RESOURCES.iter().filter(|r| r.reference) {
        set.mark_read(res.name);
        let mut pages = ctx.db.raw_pages(&ctx.connection_id, res.name, 5000);
        // Decoded straight into records, without a `Value` in between.
        while let Some(page) = pages.next::<Record>().await? {
            set.extend(res.name, crate::map::live(page));
        }
    }
    Ok(set)
}

/// The status of a data type the key may not read (Codat's name for it).
pub const PERMISSIONS_ERROR: &str = "PermissionsError";

/// A run id: the start time and a random suffix, sortable.
fn new_run_id() -> String {
    use rand::Rng;
    format!(
        "{}-{:06x}",
        Utc::now().format("%Y%m%dT%H%M%S"),
        rand::thread_rng().gen_range(0..0x100_0000)
    )
}

/// Parses a shop-local PrestaShop date.
pub fn parse_shop_date(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, PS_DATE).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::WebserviceFailure;

    fn wave_of(waves: &[Vec<&'static SourceResource>], name: &str) -> usize {
        waves
            .iter()
            .position(|w| w.iter().any(|r| r.name == name))
            .unwrap_or_else(|| panic!("{name} is in no wave"))
    }

    #[test]
    fn children_wait_for_their_parents_unless_read_in_full() {
        let resources = needed_resources(&[DataType::Orders]);
        let children: Vec<&str> = resources
            .iter()
            .filter(|r| matches!(r.incremental, catalog::Incremental::ChildrenOf(..)))
            .map(|r| r.name)
            .collect();
        assert!(!children.is_empty());
        let incremental = waves(&resources, &[]);
        assert_eq!(wave_of(&incremental, "configurations"), 0);
        for child in &children {
            assert!(wave_of(&incremental, child) > wave_of(&incremental, "orders"));
        }
        let full = waves(&resources, &children);
        for child in &children {
            assert_eq!(wave_of(&full, child), wave_of(&full, "orders"));
        }
        assert_eq!(full.len(), incremental.len() - 1);
    }

    /// A dozen reads asking the shop's clock at once send one request: the others wait for
    /// it (each sent its own before).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_asking_the_shop_clock_at_once_send_one_request() {
        let h = testing::harness(prestalink_simulator::generator::GenConfig {
            orders: 5,
            customers: 3,
            products: 3,
            ..Default::default()
        })
        .await;
        let clock_requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = clock_requests.clone();
        h.sim.after_each_answer(Box::new(move |request, _| {
            let one_id = request.resource.as_deref() == Some("languages")
                && request.params.iter().any(|(k, v)| k == "limit" && v == "1");
            if one_id {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }));
        let mut asking = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let ctx = h.ctx.scoped();
            asking.spawn(async move { ctx.server_clock().await });
        }
        while let Some(clock) = asking.join_next().await {
            let clock = clock.unwrap().expect("the simulator sends its clock");
            assert!((clock - Utc::now()).num_seconds().abs() <= 2, "{clock}");
        }
        assert_eq!(clock_requests.load(std::sync::atomic::Ordering::SeqCst), 1);
        h.sim.clear_after_each_answer();
        h.finish().await;
    }

    fn report(resource: &str, error: Option<FailureReason>) -> ResourceReport {
        ResourceReport {
            resource: resource.to_string(),
            full: false,
            records: 0,
            written: 0,
            deleted: 0,
            requests: 1,
            error,
        }
    }

    /// Whether a failure ends the run is decided from its category, not its text: a
    /// rejected key ends it; the same text from another kind of failure, or in the reason
    /// of a resource whose parent failed, does not; an unreachable store ends it only while
    /// nothing could be read.
    #[test]
    fn a_failure_ends_the_run_by_its_category() {
        let webservice = |kind, message: &str| FailureReason::Webservice {
            kind,
            message: message.to_string(),
        };
        let rejected = webservice(
            WebserviceFailure::Relink,
            "PrestaShop rejected the key: [18] Invalid key",
        );
        let failed = |reason: &FailureReason| vec![report("orders", Some(reason.clone()))];
        assert!(ends_run(&rejected, &failed(&rejected)));
        let lookalike = webservice(WebserviceFailure::Other, &rejected.to_string());
        assert!(!ends_run(&lookalike, &failed(&lookalike)));
        let child = FailureReason::source_failed("orders", &rejected);
        assert!(!ends_run(&child, &failed(&child)));

        let refused = webservice(
            WebserviceFailure::Unreachable,
            "the connection to shop.example:443 was refused: reset",
        );
        assert!(ends_run(&refused, &failed(&refused)));
        let mut some_read = failed(&refused);
        some_read.push(report("languages", None));
        assert!(!ends_run(&refused, &some_read));
        assert!(ends_run(&rejected, &some_read));
    }
}

/// A run's context against an in-process simulated shop and a fresh SQLite store, for the
/// unit tests of the read and mapping steps.
#[cfg(test)]
pub(crate) mod testing {
    use prestalink_pacing::{Caps, Pace, Pacer};
    use prestalink_simulator::generator::GenConfig;
    use prestalink_simulator::server::{Simulator, SimulatorConfig};
    use prestalink_testkit::{ground_truth, synced, Records, TestDb};
    use prestalink_webservice::client::{Client, Connection};
    use prestalink_webservice::key::WebserviceKey;
    use prestalink_webservice::store_url::StoreUrl;

    use super::*;

    pub(crate) struct Harness {
        pub(crate) sim: Simulator,
        pub(crate) db: TestDb,
        pub(crate) ctx: Ctx,
    }

    /// A shop generated from `gen`, linked in a new SQLite store.
    pub(crate) async fn harness(gen: GenConfig) -> Harness {
        let sim = Simulator::start(SimulatorConfig {
            gen,
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        let db = TestDb::sqlite().await.unwrap();
        let company = db.store.create_company("test", Utc::now()).await.unwrap();
        let url = sim.base_url();
        let linked = db
            .store
            .create_or_get_connection(&company.id, &url, sim.key(), Utc::now())
            .await
            .unwrap();
        let connection = Connection::new(
            StoreUrl::parse(&url).unwrap(),
            WebserviceKey::parse(sim.key()).unwrap(),
        );
        let client = Client::new(connection).unwrap();
        let pacer = Pacer::new(Pace::Balanced, Caps::default(), None);
        let engine = Engine::new(
            client,
            pacer,
            db.store.clone(),
            &linked.id,
            &url,
            SyncOptions::default(),
        );
        Harness {
            sim,
            db,
            ctx: engine.ctx,
        }
    }

    impl Harness {
        /// The shop's local time now.
        pub(crate) fn shop_now(&self) -> NaiveDateTime {
            let store = self.sim.store();
            let zone: Tz = store.read().unwrap().timezone.parse().unwrap();
            Utc::now().with_timezone(&zone).naive_local()
        }

        /// Ids of a resource's rows in the shop.
        pub(crate) fn shop_ids(&self, resource: &str) -> Vec<u64> {
            let store = self.sim.store();
            let store = store.read().unwrap();
            store
                .table(resource)
                .unwrap()
                .rows
                .keys()
                .copied()
                .collect()
        }

        /// A data type's records as mapped straight from the shop, and as synced.
        pub(crate) async fn expected_and_synced(&self, data_type: DataType) -> (Records, Records) {
            let key = data_type.key().to_string();
            let expected = {
                let store = self.sim.store();
                let store = store.read().unwrap();
                ground_truth(&store, &self.sim.base_url(), &self.ctx.store_url).unwrap()
            };
            let actual = synced(&self.db.store, &self.ctx.connection_id)
                .await
                .unwrap();
            let only = |mut all: Records| {
                let mut one = Records::new();
                one.insert(key.clone(), all.remove(&key).unwrap_or_default());
                one
            };
            (only(expected), only(actual))
        }

        pub(crate) async fn finish(self) {
            self.db.cleanup().await.unwrap();
            self.sim.shutdown().await;
        }
    }
}
