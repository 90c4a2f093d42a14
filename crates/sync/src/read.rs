//! Reading PrestaShop resources into raw records: full reads by id ranges, incremental reads
//! by `date_upd` watermark, append-only reads by id, children of changed parents, and
//! deletion reconciliation. Every page is written with its checkpoint in one transaction.

use std::collections::{BTreeMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use prestalink_pacing::{Permit, ResourceClass};
use prestalink_store::{Checkpoint, RawRecord, RecordSet as StoredSet};
use prestalink_webservice::client::Page;
use prestalink_webservice::decode::Document;
use prestalink_webservice::query::{Direction, Display, Filter, Query, Schema};
use prestalink_webservice::record::Record;
use prestalink_webservice::Format;
use serde_json::json;

use crate::catalog::{Incremental, SourceResource, Weight};
use crate::engine::Ctx;
use crate::error::SyncError;
use crate::progress::{Stage, StageProgress};

/// Format of PrestaShop dates (`date_upd`), shop-local.
pub(crate) const PS_DATE: &str = "%Y-%m-%d %H:%M:%S";

/// Checkpoint kinds.
const FULL: &str = "full";
const INCREMENTAL: &str = "incremental";
const RECONCILE: &str = "reconcile";

/// What reading one resource did.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadOutcome {
    /// Records received.
    pub records: u64,
    /// Raw records written (new or changed).
    pub written: u64,
    /// Raw records marked deleted.
    pub deleted: u64,
    /// Whether this run read the resource in full.
    pub full: bool,
    /// Ids received (for children of changed parents), only for incremental reads.
    pub changed_ids: Vec<u64>,
    /// Parent keys of the records received (the orders a new credit slip belongs to), only
    /// for incremental reads.
    pub changed_parents: Vec<String>,
}

fn class(weight: Weight) -> ResourceClass {
    match weight {
        Weight::Light => ResourceClass::IdList,
        Weight::Full => ResourceClass::Full,
        Weight::Heavy => ResourceClass::Heavy,
    }
}

/// Reads one resource, fully or incrementally as its checkpoints allow.
pub(crate) async fn read_resource(
    ctx: &Ctx,
    res: &'static SourceResource,
    parent_changes: Option<&ReadOutcome>,
) -> Result<ReadOutcome, SyncError> {
    let mut progress = StageProgress::new(
        Stage::Read(res.name.to_string()),
        ctx.progress.clone(),
        &ctx.fetcher,
        ctx.fetcher.scope_requests(),
    );
    let result = read_resource_inner(ctx, res, parent_changes, &mut progress).await;
    progress.finish(
        ctx.fetcher.scope_requests(),
        result.as_ref().err().map(ToString::to_string),
    );
    result
}

async fn read_resource_inner(
    ctx: &Ctx,
    res: &'static SourceResource,
    parent_changes: Option<&ReadOutcome>,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    let display = display_for(ctx, res).await?;
    let full_cp = ctx
        .db
        .get_checkpoint(&ctx.connection_id, res.name, FULL)
        .await?;
    if must_read_full(ctx, res, full_cp.as_ref()) {
        return read_full(ctx, res, &display, full_cp, progress).await;
    }
    let reconcile = reconcile_due(ctx, res).await?;
    let mut outcome = match res.incremental {
        Incremental::DateUpd => read_since_watermark(ctx, res, &display, progress).await?,
        Incremental::AppendOnly => read_appended(ctx, res, &display, progress).await?,
        Incremental::ChildrenOf(_, field) => match parent_changes {
            Some(parent) if parent.full => {
                let cp = ctx
                    .db
                    .get_checkpoint(&ctx.connection_id, res.name, FULL)
                    .await?;
                return read_full(ctx, res, &display, cp, progress).await;
            }
            Some(parent) => {
                read_children(ctx, res, &display, field, &parent.changed_ids, progress).await?
            }
            None => ReadOutcome::default(),
        },
        Incremental::Whole | Incremental::Sweep => unreachable!("read in full above"),
    };
    if reconcile && !matches!(res.incremental, Incremental::ChildrenOf(..)) {
        let ids = list_ids(ctx, res).await?;
        outcome.deleted += mark_gone(ctx, res, &ids, &HashSet::new()).await?;
    }
    Ok(outcome)
}

/// Whether this run reads `res` in full whatever its parent's read finds: a full sync, or
/// no completed full read yet (a new connection, or one killed mid-read). Children of
/// changed parents that are read in full do not wait for their parent's read.
pub(crate) async fn reads_in_full(ctx: &Ctx, res: &SourceResource) -> Result<bool, SyncError> {
    let full_cp = ctx
        .db
        .get_checkpoint(&ctx.connection_id, res.name, FULL)
        .await?;
    Ok(must_read_full(ctx, res, full_cp.as_ref()))
}

/// Whether `res` is read in full, given its full-read checkpoint: on a full sync, for
/// resources only ever read whole or swept, and until a full read has completed.
fn must_read_full(ctx: &Ctx, res: &SourceResource, full_cp: Option<&Checkpoint>) -> bool {
    let completed = full_cp
        .is_some_and(|cp| cp.cursor.as_ref().and_then(|c| c["complete"].as_bool()) == Some(true));
    ctx.options.full
        || !completed
        || matches!(res.incremental, Incremental::Whole | Incremental::Sweep)
}

/// The `display` of a resource: `full`, or, for resources with secrets (customers'
/// password hash and keys), an explicit list of every other field and association read
/// from `schema=blank`, so the secrets are never sent.
async fn display_for(ctx: &Ctx, res: &SourceResource) -> Result<Display, SyncError> {
    if res.secret_fields.is_empty() {
        return Ok(Display::Full);
    }
    let query = Query::list(res.name)?.schema(Schema::Blank);
    let page = ctx
        .fetcher
        .get_in(ResourceClass::IdList, &query, None, Some(Format::Xml))
        .await?;
    let template = match page.document {
        Document::Single { record, .. } => record,
        Document::List { mut records, .. } if records.len() == 1 => records.remove(0),
        other => {
            return Err(SyncError::Unexpected {
                resource: res.name.to_string(),
                detail: format!("schema=blank answered {}", describe(&other)),
            })
        }
    };
    let mut fields: Vec<String> = template
        .fields
        .keys()
        .filter(|f| !res.secret_fields.contains(&f.as_str()))
        .cloned()
        .collect();
    if !fields.iter().any(|f| f == "id") {
        fields.insert(0, "id".to_string());
    }
    for (name, entries) in &template.associations {
        let sub: Vec<&str> = entries
            .first()
            .map(|e| e.fields.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if sub.is_empty() {
            fields.push(format!("{name}[id]"));
        } else {
            fields.push(format!("{name}[{}]", sub.join(",")));
        }
    }
    Ok(Display::Fields(fields))
}

fn describe(document: &Document) -> &'static str {
    match document {
        Document::List { .. } => "a list",
        Document::Single { .. } => "a record",
        Document::Errors(_) => "errors",
        Document::Index(_) => "the root listing",
    }
}

/// Every id of a resource, in order, read as cheap `display=[id]` pages by id (keyset
/// paging: `filter[id]=>[last]`, never deep offsets).
pub(crate) async fn list_ids(ctx: &Ctx, res: &SourceResource) -> Result<Vec<u64>, SyncError> {
    let mut ids = Vec::new();
    let mut last = 0u64;
    loop {
        let permit = ctx.fetcher.permit(ResourceClass::IdList).await;
        let size = permit.page_size().max(100);
        let query = Query::list(res.name)?
            .display(Display::Fields(vec!["id".into()]))?
            .filter("id", Filter::GreaterThan(last.to_string()))?
            .sort("id", Direction::Asc)?
            .limit(0, size as u64);
        let page = ctx
            .fetcher
            .get(ResourceClass::IdList, &query, Some(permit))
            .await?;
        let got: Vec<u64> = records_of(res, page)?
            .iter()
            .filter_map(Record::id)
            .collect();
        if got.iter().any(|&id| id <= last) {
            return Err(SyncError::FilterIgnored {
                resource: res.name.to_string(),
                filter: format!("filter[id]=>[{last}]"),
            });
        }
        let n = got.len();
        if let Some(&max) = got.iter().max() {
            last = max;
        }
        ids.extend(got);
        if n < size {
            break;
        }
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The records of a list answer; a single record or an error document is unexpected here.
fn records_of(res: &SourceResource, page: Page) -> Result<Vec<Record>, SyncError> {
    match page.document {
        Document::List { records, .. } => Ok(records),
        other => Err(SyncError::Unexpected {
            resource: res.name.to_string(),
            detail: format!(
                "a list was expected, the store answered {}",
                describe(&other)
            ),
        }),
    }
}

/// A full read: list the ids, fetch them in id ranges (concurrently, as the pacer allows),
/// resume after the last contiguous range a killed run wrote, then mark what is gone.
async fn read_full(
    ctx: &Ctx,
    res: &'static SourceResource,
    display: &Display,
    checkpoint: Option<Checkpoint>,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    // An unfinished full read of an earlier run resumes after its contiguous prefix.
    let resume_after = checkpoint
        .as_ref()
        .filter(|cp| cp.cursor.as_ref().and_then(|c| c["complete"].as_bool()) == Some(false))
        .filter(|_| !ctx.options.full)
        .and_then(|cp| cp.last_id.as_deref()?.parse::<u64>().ok())
        .unwrap_or(0);
    // Captured before reading: rows changed during the read are newer than it.
    let watermark = ctx.shop_now().await;
    let ids = list_ids(ctx, res).await?;
    progress.set_total(ids.len() as u64, ctx.fetcher.scope_requests());
    let todo: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|&id| id > resume_after)
        .collect();
    if resume_after > 0 {
        progress.advance(
            (ids.len() - todo.len()) as u64,
            ctx.fetcher.scope_requests(),
        );
    }
    let template = Checkpoint {
        run_id: Some(ctx.run_id.clone()),
        cursor: Some(json!({ "complete": false })),
        ..Checkpoint::new(res.name, FULL)
    };
    let fetched = read_ranges(ctx, res, display, &todo, resume_after, &template, progress).await?;
    drop(todo);
    // Listed ids that did not come back were deleted between the listing and the fetch.
    let deleted = mark_gone(ctx, res, &ids, &fetched.missing).await?;
    let max_id = ids
        .iter()
        .rev()
        .find(|id| !fetched.missing.contains(id))
        .copied()
        .unwrap_or(0);
    let done = Checkpoint {
        last_id: Some(max_id.to_string()),
        watermark_local: watermark.map(|w| w.format(PS_DATE).to_string()),
        cursor: Some(json!({ "complete": true })),
        ..template.clone()
    };
    let incremental = Checkpoint {
        last_id: Some(max_id.to_string()),
        watermark_local: done.watermark_local.clone(),
        ..Checkpoint::new(res.name, INCREMENTAL)
    };
    ctx.save_checkpoint(done).await?;
    ctx.save_checkpoint(incremental).await?;
    Ok(ReadOutcome {
        records: fetched.records,
        written: fetched.written,
        deleted,
        full: true,
        ..ReadOutcome::default()
    })
}

/// What fetching id ranges did.
#[derive(Debug, Default)]
struct Fetched {
    records: u64,
    written: u64,
    /// Listed ids that did not come back (deleted between the listing and the fetch).
    missing: HashSet<u64>,
}

/// Pages received but not yet written, at most: reading runs ahead of the database by this
/// much and no more, so memory stays bounded when the shop answers faster than we write.
const MAX_PENDING_PAGES: usize = 2;

/// Fetches `ids` (sorted) in consecutive ranges `filter[id]=[first,last]`, each sized by the
/// pacer's page size when its permit is granted, several in flight at once. Each range is
/// written with a checkpoint holding the highest id below which every range is written, so
/// a killed run resumes there.
///
/// Writing does not hold up reading: received pages queue for one writer at a time (the
/// database has one writer anyway), and while a write runs, requests in flight are still
/// received and new ones started. Pages that queued up meanwhile go out in one transaction
/// with the newest checkpoint. Writes happen in the order pages arrived, so when a page's
/// checkpoint commits, every page that arrived before it is already written.
async fn read_ranges(
    ctx: &Ctx,
    res: &'static SourceResource,
    display: &Display,
    ids: &[u64],
    resume_after: u64,
    template: &Checkpoint,
    progress: &mut StageProgress,
) -> Result<Fetched, SyncError> {
    let class = class(res.weight);
    let mut fetched = Fetched::default();
    let mut in_flight = FuturesUnordered::new();
    // Ranges received, by start index → end index (exclusive), and the contiguous prefix.
    let mut received: BTreeMap<usize, usize> = BTreeMap::new();
    let mut contiguous = 0usize;
    let mut next = 0usize;
    let mut failure: Option<SyncError> = None;
    // Received pages waiting for the writer, each with the checkpoint valid once it is written.
    let mut pending: Vec<(Vec<Record>, Checkpoint)> = Vec::new();
    let mut writing: Option<BoxFuture<'_, Result<(u64, u64), SyncError>>> = None;
    loop {
        if writing.is_none() && !pending.is_empty() {
            let batch = std::mem::take(&mut pending);
            writing = Some(Box::pin(write_batch(ctx, res, batch)));
        }
        let can_start = next < ids.len() && failure.is_none() && pending.len() < MAX_PENDING_PAGES;
        tokio::select! {
            biased;
            Some(written) = async { Some(writing.as_mut()?.await) }, if writing.is_some() => {
                writing = None;
                match written {
                    Ok((n, stats)) => {
                        fetched.records += n;
                        fetched.written += stats;
                        progress.advance(n, ctx.fetcher.scope_requests());
                    }
                    // A database error ends the read at once: nothing more can be saved.
                    Err(e) => return Err(e),
                }
            }
            Some((start, end, result)) = in_flight.next() => {
                let result: Result<Vec<Record>, SyncError> = result;
                match result {
                    Err(e) => { failure.get_or_insert(e); }
                    Ok(records) => {
                        let returned: HashSet<u64> = records.iter().filter_map(Record::id).collect();
                        fetched.missing.extend(
                            ids[start..end].iter().copied().filter(|id| !returned.contains(id)),
                        );
                        received.insert(start, end);
                        while let Some(end) = received.remove(&contiguous) {
                            contiguous = end;
                        }
                        let last_done = if contiguous == 0 { resume_after } else { ids[contiguous - 1] };
                        let checkpoint = Checkpoint { last_id: Some(last_done.to_string()), ..template.clone() };
                        pending.push((records, checkpoint));
                    }
                }
            }
            permit = ctx.fetcher.permit(class), if can_start => {
                let size = permit.page_size().max(1);
                let start = next;
                let end = (start + size).min(ids.len());
                next = end;
                let (first, last) = (ids[start], ids[end - 1]);
                let count = end - start;
                let future = fetch_range(ctx, res, display, class, first, last, count, permit);
                in_flight.push(async move { (start, end, future.await) });
            }
            // Nothing in flight, nothing to write (a queued page starts a write above).
            else => break,
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(fetched),
    }
}

/// Writes queued pages in one transaction with the last one's checkpoint; returns the
/// records received and how many were new or changed.
async fn write_batch(
    ctx: &Ctx,
    res: &SourceResource,
    batch: Vec<(Vec<Record>, Checkpoint)>,
) -> Result<(u64, u64), SyncError> {
    let checkpoint = batch.last().map(|(_, cp)| cp.clone());
    let records: Vec<Record> = batch.into_iter().flat_map(|(records, _)| records).collect();
    let n = records.len() as u64;
    let written = write_raw(ctx, res, records, checkpoint.as_ref()).await?;
    Ok((n, written))
}

/// Fetches the records with ids in `[first, last]` (at most `count`, the ids listed there).
#[allow(clippy::too_many_arguments)]
async fn fetch_range(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    class: ResourceClass,
    first: u64,
    last: u64,
    count: usize,
    permit: Permit,
) -> Result<Vec<Record>, SyncError> {
    let filter = if first == last {
        Filter::Equals(first.to_string())
    } else {
        Filter::Between(first.to_string(), last.to_string())
    };
    let query = Query::list(res.name)?
        .display(display.clone())?
        .filter("id", filter)?
        .sort("id", Direction::Asc)?
        .limit(0, count as u64);
    let page = ctx.fetcher.get(class, &query, Some(permit)).await?;
    let records = records_of(res, page)?;
    // PrestaShop may ignore a filter it cannot apply: never take its answer on trust.
    if records
        .iter()
        .any(|r| r.id().is_none_or(|id| id < first || id > last))
    {
        return Err(SyncError::FilterIgnored {
            resource: res.name.to_string(),
            filter: format!("filter[id]=[{first},{last}]"),
        });
    }
    Ok(records)
}

/// Writes received records as raw records (secrets dropped), with an optional checkpoint,
/// in one transaction; returns how many were new or changed.
async fn write_raw(
    ctx: &Ctx,
    res: &SourceResource,
    records: Vec<Record>,
    checkpoint: Option<&Checkpoint>,
) -> Result<u64, SyncError> {
    if records.is_empty() && checkpoint.is_none() {
        return Ok(0);
    }
    let raw: Vec<RawRecord> = records
        .into_iter()
        .filter_map(|mut record| {
            let id = record.id()?;
            for secret in res.secret_fields {
                record.fields.shift_remove(*secret);
            }
            let parent_key = res
                .parent_field
                .and_then(|f| record.text(f))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            Some(RawRecord {
                source_id: id.to_string(),
                parent_key,
                data: serde_json::to_value(&record).expect("records serialize"),
            })
        })
        .collect();
    let stats = ctx
        .db
        .upsert_raw_page(&ctx.connection_id, res.name, &raw, checkpoint, Utc::now())
        .await?;
    Ok(stats.written())
}

/// Marks deleted the stored raw records of a resource that the shop no longer has: those
/// not in `listed` (sorted), or listed but `missing` from the answer. Walks the resource
/// range by range, so memory does not grow with the store.
async fn mark_gone(
    ctx: &Ctx,
    res: &SourceResource,
    listed: &[u64],
    missing: &HashSet<u64>,
) -> Result<u64, SyncError> {
    const RANGE: usize = 5000;
    let mut deleted = 0;
    let mut after: Option<String> = None;
    let mut chunks = listed.chunks(RANGE).peekable();
    loop {
        let chunk = chunks.next().unwrap_or(&[]);
        let last_chunk = chunks.peek().is_none();
        // The range ends at this chunk's last id, or runs to the end for the last chunk.
        let up_to = (!last_chunk)
            .then(|| chunk.last().map(u64::to_string))
            .flatten();
        let present: HashSet<String> = chunk
            .iter()
            .filter(|id| !missing.contains(id))
            .map(u64::to_string)
            .collect();
        let stored = ctx
            .db
            .list_raw_ids_in_range(
                &ctx.connection_id,
                res.name,
                after.as_deref(),
                up_to.as_deref(),
            )
            .await?;
        deleted += mark_deleted_unless(ctx, res, stored, &present).await?;
        if last_chunk {
            return Ok(deleted);
        }
        after = up_to;
    }
}

/// Marks deleted the `stored` raw ids of `res` that are not in `present` (what the shop
/// still has); returns how many changed.
async fn mark_deleted_unless(
    ctx: &Ctx,
    res: &SourceResource,
    stored: Vec<String>,
    present: &HashSet<String>,
) -> Result<u64, SyncError> {
    let gone: Vec<String> = stored
        .into_iter()
        .filter(|id| !present.contains(id))
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    Ok(ctx
        .db
        .mark_deleted(
            &ctx.connection_id,
            StoredSet::Raw(res.name),
            &gone,
            Utc::now(),
        )
        .await?)
}

/// Whether this incremental run also reconciles deletions (every Nth run), counting runs.
async fn reconcile_due(ctx: &Ctx, res: &SourceResource) -> Result<bool, SyncError> {
    let mut cp = ctx.checkpoint(res.name, RECONCILE).await?;
    let runs = cp
        .cursor
        .as_ref()
        .and_then(|c| c["runs"].as_u64())
        .unwrap_or(0)
        + 1;
    let every = u64::from(ctx.options.reconcile_every.max(1));
    let due = runs % every == 0;
    cp.cursor = Some(json!({ "runs": runs }));
    ctx.save_checkpoint(cp).await?;
    Ok(due)
}

/// Keyset pages of a filtered list, in id order: `filter[id]=>[last]` (starting after
/// `start_after`) plus the given filters.
async fn read_filtered(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    filters: &[(&str, Filter)],
    with_dates: bool,
    start_after: u64,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    let class = class(res.weight);
    let mut outcome = ReadOutcome::default();
    let mut last = start_after;
    loop {
        let permit = ctx.fetcher.permit(class).await;
        let size = permit.page_size().max(1);
        let mut query = Query::list(res.name)?
            .display(display.clone())?
            .filter("id", Filter::GreaterThan(last.to_string()))?;
        for (field, filter) in filters {
            query = query.filter(field, filter.clone())?;
        }
        if with_dates {
            query = query.with_dates();
        }
        let query = query.sort("id", Direction::Asc)?.limit(0, size as u64);
        let page = ctx.fetcher.get(class, &query, Some(permit)).await?;
        let records = records_of(res, page)?;
        if records.iter().any(|r| r.id().is_none_or(|id| id <= last)) {
            return Err(SyncError::FilterIgnored {
                resource: res.name.to_string(),
                filter: format!("filter[id]=>[{last}]"),
            });
        }
        let n = records.len();
        let ids: Vec<u64> = records.iter().filter_map(Record::id).collect();
        if let Some(&max) = ids.iter().max() {
            last = max;
        }
        if let Some(field) = res.parent_field {
            outcome.changed_parents.extend(
                records
                    .iter()
                    .filter_map(|r| r.text(field))
                    .map(str::to_string),
            );
        }
        outcome.records += n as u64;
        outcome.changed_ids.extend(ids);
        outcome.written += write_raw(ctx, res, records, None).await?;
        progress.advance(n as u64, ctx.fetcher.scope_requests());
        if n < size {
            break;
        }
    }
    Ok(outcome)
}

/// Rows changed since the last watermark (minus the lookback), then the new watermark.
async fn read_since_watermark(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    let cp = ctx.checkpoint(res.name, INCREMENTAL).await?;
    let previous = cp
        .watermark_local
        .as_deref()
        .and_then(|w| NaiveDateTime::parse_from_str(w, PS_DATE).ok());
    let now = ctx.shop_now().await;
    let lookback = chrono::Duration::from_std(ctx.options.lookback).unwrap_or_default();
    let filters: Vec<(&str, Filter)> = match previous {
        Some(w) => vec![(
            "date_upd",
            Filter::GreaterThan((w - lookback).format(PS_DATE).to_string()),
        )],
        None => Vec::new(),
    };
    let outcome = read_filtered(ctx, res, display, &filters, true, 0, progress).await?;
    ctx.save_checkpoint(Checkpoint {
        watermark_local: now
            .map(|w| w.format(PS_DATE).to_string())
            .or(cp.watermark_local.clone()),
        ..cp
    })
    .await?;
    Ok(outcome)
}

/// Rows added after the last id seen (payments, histories, carriers: rows PrestaShop only
/// appends), then the new last id.
async fn read_appended(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    let cp = ctx.checkpoint(res.name, INCREMENTAL).await?;
    let after = cp
        .last_id
        .as_deref()
        .and_then(|id| id.parse::<u64>().ok())
        .unwrap_or(0);
    let outcome = read_filtered(ctx, res, display, &[], false, after, progress).await?;
    if let Some(max) = outcome.changed_ids.iter().max() {
        ctx.save_checkpoint(Checkpoint {
            last_id: Some(max.to_string()),
            ..cp
        })
        .await?;
    }
    Ok(outcome)
}

/// The rows of changed parents (`order_details` of changed orders), batched by parent id;
/// rows of those parents that no longer come back are marked deleted.
async fn read_children(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    field: &str,
    parent_ids: &[u64],
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    let mut outcome = ReadOutcome::default();
    for batch in parent_ids.chunks(ctx.options.children_batch.max(1)) {
        let keys: Vec<String> = batch.iter().map(u64::to_string).collect();
        let filters = vec![(field, Filter::AnyOf(keys.clone()))];
        let part = read_filtered(ctx, res, display, &filters, false, 0, progress).await?;
        let returned: HashSet<String> = part.changed_ids.iter().map(u64::to_string).collect();
        let stored = ctx
            .db
            .list_raw_ids_by_parent(&ctx.connection_id, res.name, &keys)
            .await?;
        outcome.deleted += mark_deleted_unless(ctx, res, stored, &returned).await?;
        outcome.records += part.records;
        outcome.written += part.written;
        outcome.changed_ids.extend(part.changed_ids);
    }
    Ok(outcome)
}
