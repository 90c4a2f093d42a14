//! Reading PrestaShop resources into raw records: full reads by id ranges, incremental reads
//! by `date_upd` watermark, append-only reads by id, children of changed parents, and
//! deletion reconciliation. Every page is written with its checkpoint in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use prestalink_pacing::{Permit, ResourceClass};
use prestalink_store::{Checkpoint, EncodedRaw, RecordSet as StoredSet};
use prestalink_webservice::client::Page;
use prestalink_webservice::decode::Document;
use prestalink_webservice::query::{Direction, Display, Filter, Query, Schema};
use prestalink_webservice::record::Record;
use prestalink_webservice::Format;

use crate::catalog::{Incremental, SourceResource, Weight};
use crate::checkpoint::{Cursor, Kind, CLOCK};
use crate::engine::Ctx;
use crate::error::SyncError;
use crate::progress::{Stage, StageProgress};

pub(crate) use crate::checkpoint::PS_DATE;
/// The largest believable lag between two clocks of one shop: time zones span UTC−12 to
/// UTC+14. A changed row whose `date_upd` is older than this was changed without bumping it.
const MAX_LAG_SECS: i64 = 26 * 3600;
/// Time zone offsets are whole quarter hours: a learned lag is rounded up to one.
const LAG_STEP_SECS: i64 = 15 * 60;

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
    let full_cp = ctx.cursor(res.name, Kind::Full).await?;
    if must_read_full(ctx, res, full_cp.as_ref()) {
        return read_full(ctx, res, &display, full_cp, progress).await;
    }
    let reconcile = reconcile_due(ctx, res).await?;
    let mut outcome = match res.incremental {
        Incremental::DateUpd => {
            let (mut outcome, from) = read_since_watermark(ctx, res, &display, progress).await?;
            // The watermark is saved: a failed sweep must not fail the read, or the children
            // of the rows read above (order_details of changed orders) would never be read.
            if ctx.options.sweep_every > 0 {
                if let Err(error) =
                    sweep_slice(ctx, res, &display, from, &mut outcome, progress).await
                {
                    tracing::warn!(
                        resource = res.name,
                        %error,
                        "the safety-net sweep failed; its slice is swept again next sync"
                    );
                }
            }
            outcome
        }
        Incremental::AppendOnly => read_appended(ctx, res, &display, progress).await?,
        Incremental::ChildrenOf(_, field) => match parent_changes {
            Some(parent) if parent.full => {
                let cp = ctx.cursor(res.name, Kind::Full).await?;
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
        outcome.deleted += mark_gone(ctx, res, 0, &ids, None).await?;
    }
    Ok(outcome)
}

/// Whether this run reads `res` in full whatever its parent's read finds: a full sync, or
/// no completed full read yet (a new connection, or one killed mid-read). Children of
/// changed parents that are read in full do not wait for their parent's read.
pub(crate) async fn reads_in_full(ctx: &Ctx, res: &SourceResource) -> Result<bool, SyncError> {
    let full_cp = ctx.cursor(res.name, Kind::Full).await?;
    Ok(must_read_full(ctx, res, full_cp.as_ref()))
}

/// Whether `res` is read in full, given its full-read checkpoint: on a full sync, for
/// resources only ever read whole or swept, and until a full read has completed.
fn must_read_full(ctx: &Ctx, res: &SourceResource, full_cp: Option<&Cursor>) -> bool {
    let completed = matches!(
        full_cp,
        Some(Cursor::Full {
            complete: Some(true),
            ..
        })
    );
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

/// A full read: ask for the highest id, fetch the id space up to it in ranges (concurrently,
/// as the pacer allows), resume after the last contiguous range a killed run wrote, then
/// mark what is gone.
async fn read_full(
    ctx: &Ctx,
    res: &'static SourceResource,
    display: &Display,
    checkpoint: Option<Cursor>,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    // An unfinished full read of an earlier run resumes after its contiguous prefix.
    let resume_after = match &checkpoint {
        Some(Cursor::Full {
            complete: Some(false),
            last_id: Some(last_id),
            ..
        }) if !ctx.options.full => *last_id,
        _ => 0,
    };
    // Captured before reading: rows changed during the read are newer than it.
    let watermark = ctx.shop_now().await;
    // No listing of every id first: PrestaShop builds an object per listed id, so a listing
    // costs the shop about half a full read (measured on 8.1.2: 0.12-0.23 ms per id against
    // 0.46 per full order detail), a third of a full sync's shop time in all. The id space up
    // to the highest id is read in ranges instead.
    let max_id = highest_id(ctx, res).await?;
    progress.set_total(
        max_id.saturating_sub(resume_after),
        ctx.fetcher.scope_requests(),
    );
    let unfinished = Cursor::Full {
        last_id: None,
        watermark: None,
        complete: Some(false),
    };
    let template = Checkpoint {
        run_id: Some(ctx.run_id.clone()),
        ..unfinished.stored(res.name)
    };
    // Rows written from here on are this read's changes (`fetched_at` after it).
    let started =
        prestalink_store::format_timestamp(Utc::now() - chrono::Duration::milliseconds(1));
    let fetched = read_ranges(ctx, res, display, max_id, resume_after, &template, progress).await?;
    progress.set_total(fetched.records, ctx.fetcher.scope_requests());
    // Stored rows above the resumed prefix that the read did not receive are gone (those of
    // the prefix were read by the run that wrote it; the incremental reconciliation checks
    // them later).
    let deleted = mark_gone(ctx, res, resume_after, &fetched.received, Some(&started)).await?;
    let mut reread = ReadOutcome::default();
    if let (Incremental::Sweep, Some(field), Some(cp)) =
        (res.incremental, res.parent_field, &checkpoint)
    {
        // A swept resource that belongs to a parent (stock and combinations of a product):
        // rows of one product span pages, and a product changed while the pages were read
        // would be mapped from rows of before (earlier pages) and after (later pages) the
        // change. The rows of every product with a changed row are read again together
        // (`filter[id_product]=[…]`, a product's rows in one answer at ordinary page sizes)
        // before any product is mapped.
        let was_complete = matches!(
            cp,
            Cursor::Full {
                complete: Some(true),
                ..
            }
        );
        if was_complete && !ctx.options.full {
            let parents = changed_parents_since(ctx, res, &started).await?;
            if !parents.is_empty() {
                reread = read_children(ctx, res, display, field, &parents, progress).await?;
            }
        }
    }
    let max_id = fetched.received.last().copied().unwrap_or(resume_after);
    let done = Cursor::Full {
        last_id: Some(max_id),
        watermark,
        complete: Some(true),
    };
    let incremental = Cursor::Incremental {
        last_id: Some(max_id),
        watermark,
    };
    ctx.save_cursor(res.name, &done).await?;
    ctx.save_cursor(res.name, &incremental).await?;
    Ok(ReadOutcome {
        records: fetched.records + reread.records,
        written: fetched.written + reread.written,
        deleted: deleted + reread.deleted,
        full: true,
        ..ReadOutcome::default()
    })
}

/// The parents (`parent_key`, as ids) of the raw rows of `res` written after `since`.
async fn changed_parents_since(
    ctx: &Ctx,
    res: &SourceResource,
    since: &str,
) -> Result<Vec<u64>, SyncError> {
    let mut parents: Vec<u64> = ctx
        .db
        .all_raw_keys_changed_since(&ctx.connection_id, res.name, since)
        .await?
        .iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| r.parent_key.as_deref()?.trim().parse::<u64>().ok())
        .collect();
    parents.sort_unstable();
    parents.dedup();
    Ok(parents)
}

/// What fetching id ranges did.
#[derive(Debug, Default)]
struct Fetched {
    records: u64,
    written: u64,
    /// The ids received, in order.
    received: Vec<u64>,
}

/// Pages received but not yet written, at most: reading runs ahead of the database by this
/// much and no more, so memory stays bounded when the shop answers faster than we write.
const MAX_PENDING_PAGES: usize = 2;

/// The highest id of `res` (0 when it has none): one `display=[id]` record, sorted down.
async fn highest_id(ctx: &Ctx, res: &SourceResource) -> Result<u64, SyncError> {
    let query = Query::list(res.name)?
        .display(Display::Fields(vec!["id".into()]))?
        .sort("id", Direction::Desc)?
        .limit(0, 1);
    let page = ctx.fetcher.get(ResourceClass::IdList, &query, None).await?;
    Ok(records_of(res, page)?
        .iter()
        .filter_map(Record::id)
        .max()
        .unwrap_or(0))
}

/// Where the id space stands: ranges still to read (split remainders first), ranges read,
/// and how dense the ids are, to size the next range.
#[derive(Debug)]
struct IdSpace {
    /// The next id no range has covered yet.
    next: u64,
    /// The highest id to read.
    max: u64,
    /// Remainders of ranges whose answer was a full page: `[first, last]`, read before new
    /// ranges so that the contiguous prefix advances.
    remainders: Vec<(u64, u64)>,
    /// Ranges read, by first id → last id, not yet joined to the contiguous prefix.
    covered: BTreeMap<u64, u64>,
    /// Every id up to this one has been read.
    contiguous: u64,
    /// Records received and ids covered by ranges that came back short (no remainder).
    records: u64,
    span: u64,
}

impl IdSpace {
    fn new(after: u64, max: u64) -> IdSpace {
        IdSpace {
            next: after + 1,
            max,
            remainders: Vec::new(),
            covered: BTreeMap::new(),
            contiguous: after,
            records: 0,
            span: 0,
        }
    }

    fn has_next(&self) -> bool {
        !self.remainders.is_empty() || self.next <= self.max
    }

    /// The next range to ask for pages of `size` records: as many ids as the density seen
    /// so far says hold `size` records (ids deleted in bulk leave gaps), at least `size`.
    fn take(&mut self, size: usize) -> Option<(u64, u64)> {
        if let Some(range) = self.remainders.pop() {
            return Some(range);
        }
        if self.next > self.max {
            return None;
        }
        let size = size.max(1) as u64;
        let density = if self.span >= size && self.records > 0 {
            (self.records as f64 / self.span as f64).clamp(0.001, 1.0)
        } else {
            1.0
        };
        let width = ((size as f64 / density).ceil() as u64).max(size);
        let first = self.next;
        let last = first.saturating_add(width - 1).min(self.max);
        self.next = last + 1;
        Some((first, last))
    }

    /// The answer for `[first, last]` asked with page size `limit`: `ids` received, in
    /// order. A full page may have left records in the range: the rest is queued.
    fn received(&mut self, first: u64, last: u64, limit: usize, ids: &[u64]) {
        let done_to = match ids.last() {
            Some(&top) if ids.len() >= limit && top < last => {
                self.remainders.push((top + 1, last));
                top
            }
            _ => {
                self.records += ids.len() as u64;
                self.span += last - first + 1;
                last
            }
        };
        self.covered.insert(first, done_to);
        while let Some(to) = self.covered.remove(&(self.contiguous + 1)) {
            self.contiguous = to;
        }
    }
}

/// Reads the id space `(after, max_id]` of `res` in id ranges (`filter[id]=[a,b]`),
/// concurrently as the pacer allows; writes the pages in order of arrival, each write with
/// the checkpoint of the contiguous prefix read so far (a killed run resumes after it).
async fn read_ranges(
    ctx: &Ctx,
    res: &'static SourceResource,
    display: &Display,
    max_id: u64,
    resume_after: u64,
    template: &Checkpoint,
    progress: &mut StageProgress,
) -> Result<Fetched, SyncError> {
    let class = class(res.weight);
    let mut fetched = Fetched::default();
    let mut in_flight = FuturesUnordered::new();
    let mut space = IdSpace::new(resume_after, max_id);
    let mut failure: Option<SyncError> = None;
    // Received pages waiting for the writer, each with the checkpoint valid once it is written.
    let mut pending: Vec<(Vec<Record>, Checkpoint)> = Vec::new();
    let mut writing: Option<BoxFuture<'_, Result<(u64, u64), SyncError>>> = None;
    loop {
        if writing.is_none() && !pending.is_empty() {
            let batch = std::mem::take(&mut pending);
            writing = Some(Box::pin(write_batch(ctx, res, batch)));
        }
        let can_start = space.has_next() && failure.is_none() && pending.len() < MAX_PENDING_PAGES;
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
            Some((first, last, limit, result)) = in_flight.next() => {
                let result: Result<Vec<Record>, SyncError> = result;
                match result {
                    Err(e) => { failure.get_or_insert(e); }
                    Ok(records) => {
                        let mut ids: Vec<u64> = records.iter().filter_map(Record::id).collect();
                        ids.sort_unstable();
                        ids.dedup();
                        space.received(first, last, limit, &ids);
                        fetched.received.extend(ids);
                        let checkpoint = Checkpoint {
                            last_id: Some(space.contiguous.to_string()),
                            ..template.clone()
                        };
                        pending.push((records, checkpoint));
                    }
                }
            }
            permit = ctx.fetcher.permit(class), if can_start => {
                let limit = permit.page_size().max(1);
                if let Some((first, last)) = space.take(limit) {
                    let future = fetch_range(ctx, res, display, class, first, last, limit, permit);
                    in_flight.push(async move { (first, last, limit, future.await) });
                }
            }
            // Nothing in flight, nothing to write (a queued page starts a write above).
            else => break,
        }
    }
    match failure {
        Some(e) => Err(e),
        None => {
            fetched.received.sort_unstable();
            fetched.received.dedup();
            Ok(fetched)
        }
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
    let raw: Vec<EncodedRaw> = records
        .into_iter()
        .filter_map(|record| raw_record(res, record))
        .collect();
    write_raw_records(ctx, res, raw, checkpoint).await
}

/// A received record as it is stored: secrets dropped, parent key set, encoded (JSON text
/// and content hash, see `encode.rs`); `None` without id.
fn raw_record(res: &SourceResource, mut record: Record) -> Option<EncodedRaw> {
    let id = record.id()?;
    for secret in res.secret_fields {
        record.fields.shift_remove(*secret);
    }
    let parent_key = res
        .parent_field
        .and_then(|f| record.text(f))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    Some(crate::encode::encode(id.to_string(), parent_key, record))
}

/// Writes raw records, with an optional checkpoint, in one transaction; returns how many
/// were new or changed.
async fn write_raw_records(
    ctx: &Ctx,
    res: &SourceResource,
    raw: Vec<EncodedRaw>,
    checkpoint: Option<&Checkpoint>,
) -> Result<u64, SyncError> {
    let stats = ctx
        .db
        .upsert_encoded_raw_page(&ctx.connection_id, res.name, raw, checkpoint, Utc::now())
        .await?;
    // A checkpoint: the page is committed with it, so a run asked to yield stops here.
    // Not in reference data, which every run reads again in full: a run that yielded
    // there would redo it next time and, on a slow shop with a short slice, never get
    // further.
    if checkpoint.is_some() && !res.reference && ctx.options.yield_signal.is_cancelled() {
        return Err(SyncError::Yielded);
    }
    Ok(stats.written())
}

/// Marks deleted the stored raw rows of `res` with ids above `after` that are not in
/// `present` (sorted: the ids the shop has). With `written_before` (a full read that began
/// then), only rows written before it are candidates (those written since were received),
/// streamed in one pass; without, chunk by chunk of the id space.
async fn mark_gone(
    ctx: &Ctx,
    res: &SourceResource,
    after: u64,
    present: &[u64],
    written_before: Option<&str>,
) -> Result<u64, SyncError> {
    const RANGE: usize = 5000;
    let mut after: Option<String> = (after > 0).then(|| after.to_string());
    if let Some(before) = written_before {
        let has = |id: &str| {
            id.parse::<u64>()
                .is_ok_and(|id| present.binary_search(&id).is_ok())
        };
        let gone = ctx
            .db
            .raw_ids_gone(&ctx.connection_id, res.name, after.as_deref(), before, has)
            .await?;
        return mark_deleted_ids(ctx, res, gone).await;
    }
    let mut deleted = 0;
    let mut chunks = present.chunks(RANGE).peekable();
    loop {
        let chunk = chunks.next().unwrap_or(&[]);
        let last_chunk = chunks.peek().is_none();
        // The range ends at this chunk's last id, or runs to the end for the last chunk.
        let up_to = (!last_chunk)
            .then(|| chunk.last().map(u64::to_string))
            .flatten();
        let present: HashSet<String> = chunk.iter().map(u64::to_string).collect();
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
    mark_deleted_ids(ctx, res, gone).await
}

/// Marks deleted the stored raw rows of `res` with the ids `gone`.
async fn mark_deleted_ids(
    ctx: &Ctx,
    res: &SourceResource,
    gone: Vec<String>,
) -> Result<u64, SyncError> {
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
    let runs = match ctx.cursor_or_empty(res.name, Kind::Reconcile).await? {
        Cursor::Reconcile { runs } => runs,
        _ => 0,
    } + 1;
    let every = u64::from(ctx.options.reconcile_every.max(1));
    let due = runs % every == 0;
    ctx.save_cursor(res.name, &Cursor::Reconcile { runs })
        .await?;
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

/// Rows changed since the last watermark (minus the lookback, widened by the database's
/// lag behind PHP's clock), then the new watermark. Returns the `date_upd` the read started
/// from (`None`: every row was read).
async fn read_since_watermark(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    progress: &mut StageProgress,
) -> Result<(ReadOutcome, Option<NaiveDateTime>), SyncError> {
    let (last_id, previous) = incremental(ctx, res).await?;
    let now = ctx.shop_now().await;
    let lookback =
        chrono::Duration::from_std(ctx.options.lookback).unwrap_or_default() + db_lag(ctx).await?;
    let from = previous.map(|w| w - lookback);
    let filters: Vec<(&str, Filter)> = match from {
        Some(from) => vec![(
            "date_upd",
            Filter::GreaterThan(from.format(PS_DATE).to_string()),
        )],
        None => Vec::new(),
    };
    let outcome = read_filtered(ctx, res, display, &filters, true, 0, progress).await?;
    let cp = Cursor::Incremental {
        last_id,
        watermark: now.or(previous),
    };
    ctx.save_cursor(res.name, &cp).await?;
    Ok((outcome, from))
}

/// How far behind PHP's clock the database's clock may date rows (`date_upd = NOW()` from
/// a module, an ERP bridge or an import script): the larger of what the sweep learned on
/// this connection and the shop's offset east of UTC (a database in UTC, the default of
/// most hosts and cloud databases, writes NOW() that much behind a shop in UTC+1).
pub(crate) async fn db_lag(ctx: &Ctx) -> Result<chrono::Duration, SyncError> {
    let learned = learned_lag_secs(ctx).await?;
    let east_of_utc = ctx
        .shop_utc_offset()
        .await
        .map_or(0, |o| o.num_seconds().max(0));
    Ok(chrono::Duration::seconds(learned.max(east_of_utc)))
}

async fn learned_lag_secs(ctx: &Ctx) -> Result<i64, SyncError> {
    Ok(match ctx.cursor_or_empty(CLOCK, Kind::DbLag).await? {
        Cursor::DbLag { lag_secs } => lag_secs,
        _ => 0,
    })
}

/// Keeps a lag seen by the sweep (rounded up to a quarter hour) when it is larger than the
/// one learned so far, for the next reads of this connection.
async fn learn_lag(ctx: &Ctx, lag: chrono::Duration) -> Result<(), SyncError> {
    let secs = (lag.num_seconds() + LAG_STEP_SECS - 1) / LAG_STEP_SECS * LAG_STEP_SECS;
    let _learning = ctx.lag_lock.lock().await;
    if secs <= learned_lag_secs(ctx).await? {
        return Ok(());
    }
    tracing::info!(
        lag_secs = secs,
        "rows are dated behind the shop's clock (a database clock in another time zone): \
         incremental reads now look back that much further"
    );
    ctx.save_cursor(CLOCK, &Cursor::DbLag { lag_secs: secs })
        .await
}

/// The safety net of a resource read by `date_upd`: one slice of its id range (the next of
/// `sweep_every`, in turn, the last one open-ended so new ids are covered) read in full and
/// compared with the stored rows by content hash. Changed rows are written and counted as
/// changed (their children are read again); rows the `date_upd` read missed (dated before
/// `from`) teach how far behind the database's clock dates them; stored rows of the slice
/// that the shop no longer has are marked deleted. Every row is visited once per
/// `sweep_every` incremental syncs, and no sync reads more than a slice.
async fn sweep_slice(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    from: Option<NaiveDateTime>,
    outcome: &mut ReadOutcome,
    progress: &mut StageProgress,
) -> Result<(), SyncError> {
    let every = u64::from(ctx.options.sweep_every.max(1));
    let (slice, top) = match ctx.cursor_or_empty(res.name, Kind::Sweep).await? {
        Cursor::Sweep { slice, top } => (slice % every, top),
        _ => (0, None),
    };
    // The round's boundaries are frozen when its first slice starts: ids that grow during
    // the round fall in its open-ended last slice, and every id is seen within the round.
    let frozen = top.filter(|_| slice > 0);
    let known_top = match frozen {
        Some(top) => top,
        None => incremental(ctx, res)
            .await?
            .0
            .unwrap_or(0)
            .max(outcome.changed_ids.iter().copied().max().unwrap_or(0)),
    };
    // Ids in (lo, hi]; the last slice has no upper end.
    let lo = known_top * slice / every;
    let hi = (slice + 1 < every).then(|| known_top * (slice + 1) / every);
    let now = ctx.shop_now().await;
    let class = class(res.weight);
    let mut last = lo;
    let mut present: HashSet<String> = HashSet::new();
    let mut largest_lag: Option<chrono::Duration> = None;
    let mut missed = 0u64;
    let mut seen: HashSet<u64> = outcome.changed_ids.iter().copied().collect();
    loop {
        let first = last + 1;
        let filter = match hi {
            Some(hi) if first > hi => break,
            Some(hi) if first == hi => Filter::Equals(hi.to_string()),
            Some(hi) => Filter::Between(first.to_string(), hi.to_string()),
            None => Filter::GreaterThan(last.to_string()),
        };
        let permit = ctx.fetcher.permit(class).await;
        let size = permit.page_size().max(1);
        let query = Query::list(res.name)?
            .display(display.clone())?
            .filter("id", filter)?
            .sort("id", Direction::Asc)?
            .limit(0, size as u64);
        let page = ctx.fetcher.get(class, &query, Some(permit)).await?;
        let records = records_of(res, page)?;
        if records.iter().any(|r| {
            r.id()
                .is_none_or(|id| id <= last || hi.is_some_and(|hi| id > hi))
        }) {
            return Err(SyncError::FilterIgnored {
                resource: res.name.to_string(),
                filter: format!(
                    "filter[id]=[{first},{}]",
                    hi.map_or("∞".into(), |h| h.to_string())
                ),
            });
        }
        let n = records.len();
        let dates: HashMap<u64, Option<NaiveDateTime>> = records
            .iter()
            .filter_map(|r| {
                let date = r.text("date_upd").and_then(crate::engine::parse_shop_date);
                Some((r.id()?, date))
            })
            .collect();
        let raw: Vec<EncodedRaw> = records
            .into_iter()
            .filter_map(|r| raw_record(res, r))
            .collect();
        if let Some(max) = raw
            .iter()
            .filter_map(|r| r.source_id.parse::<u64>().ok())
            .max()
        {
            last = max;
        }
        let ids: Vec<String> = raw.iter().map(|r| r.source_id.clone()).collect();
        // The stored rows' hashes and date_upd only: their records are not parsed.
        let stored: HashMap<String, (String, bool, Option<NaiveDateTime>)> = ctx
            .db
            .list_raw_hashes(&ctx.connection_id, res.name, &ids, "date_upd")
            .await?
            .into_iter()
            .map(|r| {
                let date = r.field.as_deref().and_then(crate::engine::parse_shop_date);
                (r.source_id, (r.content_hash, r.deleted, date))
            })
            .collect();
        for r in &raw {
            present.insert(r.source_id.clone());
            let unchanged = stored
                .get(&r.source_id)
                .is_some_and(|(hash, deleted, _)| !deleted && *hash == r.content_hash);
            if unchanged {
                continue;
            }
            let Ok(id) = r.source_id.parse::<u64>() else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            outcome.changed_ids.push(id);
            outcome.changed_parents.extend(r.parent_key.clone());
            // Missed by this run's date_upd read: dated before where it started. Only a row
            // whose date_upd moved forward since it was stored tells the clock that wrote
            // it: a row changed without touching date_upd (a product's quantity on a sale,
            // a script) keeps an old date that says nothing of the lag, and a row new to
            // the store may carry any date (an import of old orders).
            let before = stored.get(&r.source_id).and_then(|(_, _, d)| *d);
            if let (Some(from), Some(Some(date)), Some(now)) = (from, dates.get(&id), now) {
                if *date <= from {
                    missed += 1;
                }
                if *date <= from && before.is_some_and(|b| *date > b) {
                    let lag = now - *date;
                    if lag <= chrono::Duration::seconds(MAX_LAG_SECS) {
                        largest_lag = largest_lag.max(Some(lag));
                    }
                }
            }
        }
        outcome.records += n as u64;
        outcome.written += write_raw_records(ctx, res, raw, None).await?;
        progress.advance(n as u64, ctx.fetcher.scope_requests());
        if n < size {
            break;
        }
    }
    let stored = ctx
        .db
        .list_raw_ids_in_range(
            &ctx.connection_id,
            res.name,
            (lo > 0).then(|| lo.to_string()).as_deref(),
            hi.map(|h| h.to_string()).as_deref(),
        )
        .await?;
    outcome.deleted += mark_deleted_unless(ctx, res, stored, &present).await?;
    if missed > 0 {
        tracing::info!(
            resource = res.name,
            missed,
            "the safety-net sweep found rows that the date_upd read missed"
        );
    }
    if let Some(lag) = largest_lag {
        learn_lag(ctx, lag).await?;
    }
    let next = Cursor::Sweep {
        slice: (slice + 1) % every,
        top: Some(known_top),
    };
    ctx.save_cursor(res.name, &next).await
}

/// The incremental reads' checkpoint of `res`: the last id seen and the watermark.
async fn incremental(
    ctx: &Ctx,
    res: &SourceResource,
) -> Result<(Option<u64>, Option<NaiveDateTime>), SyncError> {
    Ok(
        match ctx.cursor_or_empty(res.name, Kind::Incremental).await? {
            Cursor::Incremental { last_id, watermark } => (last_id, watermark),
            _ => (None, None),
        },
    )
}

/// Rows added after the last id seen (payments, histories, carriers: rows PrestaShop only
/// appends), then the new last id.
async fn read_appended(
    ctx: &Ctx,
    res: &SourceResource,
    display: &Display,
    progress: &mut StageProgress,
) -> Result<ReadOutcome, SyncError> {
    let (last_id, watermark) = incremental(ctx, res).await?;
    let outcome = read_filtered(
        ctx,
        res,
        display,
        &[],
        false,
        last_id.unwrap_or(0),
        progress,
    )
    .await?;
    if let Some(&max) = outcome.changed_ids.iter().max() {
        let cp = Cursor::Incremental {
            last_id: Some(max),
            watermark,
        };
        ctx.save_cursor(res.name, &cp).await?;
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

#[cfg(test)]
mod id_space_tests {
    use super::IdSpace;

    #[test]
    fn dense_ids_are_read_in_ranges_of_one_page() {
        let mut space = IdSpace::new(0, 250);
        assert_eq!(space.take(100), Some((1, 100)));
        assert_eq!(space.take(100), Some((101, 200)));
        assert_eq!(space.take(100), Some((201, 250)));
        assert_eq!(space.take(100), None);
        assert!(!space.has_next());
    }

    #[test]
    fn sparse_ids_widen_the_next_ranges() {
        let mut space = IdSpace::new(0, 100_000);
        let (first, last) = space.take(100).unwrap();
        // Every tenth id exists.
        let ids: Vec<u64> = (first..=last).filter(|id| id % 10 == 0).collect();
        space.received(first, last, 100, &ids);
        assert_eq!(space.take(100), Some((101, 1100)));
    }

    #[test]
    fn a_full_page_queues_the_rest_of_its_range_and_the_prefix_waits_for_it() {
        let mut space = IdSpace::new(10, 1000);
        let a = space.take(100).unwrap();
        let b = space.take(100).unwrap();
        assert_eq!((a, b), ((11, 110), (111, 210)));
        // The second range answers first, short: not contiguous yet.
        space.received(111, 210, 100, &[150, 160]);
        assert_eq!(space.contiguous, 10);
        // The first answers a full page of 3 (limit 3) ending at 40: 41..=110 is queued.
        space.received(11, 110, 3, &[20, 30, 40]);
        assert_eq!(space.contiguous, 40);
        assert_eq!(space.take(100), Some((41, 110)));
        space.received(41, 110, 100, &[50]);
        assert_eq!(space.contiguous, 210);
        // 3 records in 170 ids: the next range is as wide as what is left.
        assert_eq!(space.take(100), Some((211, 1000)));
    }

    #[test]
    fn an_empty_resource_has_nothing_to_read() {
        let mut space = IdSpace::new(0, 0);
        assert!(!space.has_next());
        assert_eq!(space.take(100), None);
    }
}

#[cfg(test)]
mod tests {
    use prestalink_simulator::churn::Churn;
    use prestalink_simulator::generator::GenConfig;
    use prestalink_webservice::record::Record;

    use super::*;
    use crate::catalog::source;
    use crate::engine::testing::harness;

    fn gen() -> GenConfig {
        GenConfig {
            seed: 4,
            orders: 40,
            customers: 25,
            products: 10,
            ..GenConfig::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_resource_is_read_in_full_then_only_what_changed() {
        let h = harness(gen()).await;
        let ctx = &h.ctx;
        // The shop's time zone (its watermarks) comes from its configuration.
        read_resource(ctx, source("configurations").unwrap(), None)
            .await
            .unwrap();
        let customers = source("customers").unwrap();
        let ids = h.shop_ids("customers");
        let full = read_resource(ctx, customers, None).await.unwrap();
        assert!(full.full);
        assert_eq!(
            (full.records, full.written),
            (ids.len() as u64, ids.len() as u64)
        );
        let stored = ctx
            .db
            .list_ids(&ctx.connection_id, StoredSet::Raw("customers"), false)
            .await
            .unwrap();
        assert_eq!(stored.len(), ids.len());

        // Nothing changed: read incrementally, nothing written.
        let again = read_resource(ctx, customers, None).await.unwrap();
        assert!(!again.full);
        assert_eq!(again.written, 0);

        // Two customers edited: those two are written, and fewer rows read than in full.
        let edited = [ids[1], ids[7]];
        {
            let now = h.shop_now();
            let store = h.sim.store();
            let mut store = store.write().unwrap();
            let mut churn = Churn::new(1);
            for id in edited {
                churn.update_customer(&mut store, id, now);
            }
        }
        let changed = read_resource(ctx, customers, None).await.unwrap();
        assert!(!changed.full);
        assert_eq!(changed.written, 2);
        assert!(changed.records < ids.len() as u64, "{changed:?}");
        let rows = ctx
            .db
            .get_raw_many_as::<Record>(
                &ctx.connection_id,
                "customers",
                &edited.map(|id| id.to_string()),
            )
            .await
            .unwrap();
        let notes: Vec<&str> = rows.iter().filter_map(|r| r.data.text("note")).collect();
        assert_eq!(notes.len(), 2);
        assert!(notes
            .iter()
            .all(|n| n.contains("by phone") || n.contains("counter")));
        h.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn children_of_changed_parents_are_read_by_parent() {
        let h = harness(gen()).await;
        let ctx = &h.ctx;
        let details = source("order_details").unwrap();
        let full = read_resource(ctx, details, None).await.unwrap();
        assert!(full.full);
        let all = h.shop_ids("order_details").len() as u64;
        assert_eq!(full.written, all);
        // The details of two orders, as a changed parent's read names them.
        let orders = h.shop_ids("orders");
        let parent = ReadOutcome {
            changed_ids: vec![orders[0], orders[3]],
            ..ReadOutcome::default()
        };
        let children = read_resource(ctx, details, Some(&parent)).await.unwrap();
        assert!(!children.full);
        assert_eq!(children.written, 0, "nothing changed in them");
        let expected = {
            let store = h.sim.store();
            let store = store.read().unwrap();
            let res = prestalink_simulator::resources::resource("order_details").unwrap();
            store
                .table("order_details")
                .unwrap()
                .rows
                .values()
                .filter(|r| {
                    let order = r.get(res, "id_order").map(|v| v.as_text().to_string());
                    [orders[0], orders[3]]
                        .map(|o| o.to_string())
                        .iter()
                        .any(|o| Some(o) == order.as_ref())
                })
                .count() as u64
        };
        assert!(expected > 0);
        assert_eq!(children.records, expected);
        h.finish().await;
    }
}
