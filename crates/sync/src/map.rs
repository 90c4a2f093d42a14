//! Mapping raw records into commerce records, page by page from the database, so memory
//! stays flat however large the store: each page of orders (customers, products…) is
//! mapped with just the rows that belong to it (found by parent key) plus the reference data.
//!
//! A full pass maps every raw record and marks commerce records whose source is gone as
//! deleted; an incremental pass maps only what changed since the last pass: records whose
//! raw content changed, and the parents of changed rows (an order whose credit slip or
//! payment is new, a product whose stock changed silently).

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use prestalink_commerce::{DataType, Support};
use prestalink_mapping::{
    map_data_type, Batch, MapOptions, PaymentMethodCensus, RecordSet, ReferenceData,
};
use prestalink_store::{
    Checkpoint, CommerceRecord as StoredCommerce, RawKey, RecordSet as StoredSet, StoredRaw,
};
use prestalink_webservice::record::Record;

use crate::engine::Ctx;
use crate::error::SyncError;
use crate::progress::{Stage, StageProgress};

/// Checkpoint kind of a data type's last mapping pass (`watermark_utc` = when it started).
pub(crate) const MAPPED: &str = "mapped";

/// What mapping one data type did.
#[derive(Debug, Clone, Default)]
pub struct MapOutcome {
    /// Commerce records mapped.
    pub records: u64,
    /// Commerce records written (new or changed).
    pub written: u64,
    /// Commerce records marked deleted.
    pub deleted: u64,
    /// Source records that could not be mapped, the first 20.
    pub failures: Vec<MappingFailure>,
    /// Number of source records that could not be mapped.
    pub failure_count: u64,
    /// Number of warnings (references to deleted rows, unresolved values).
    pub warning_count: u64,
}

/// A source record that could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingFailure {
    /// The PrestaShop resource it was read from.
    pub resource: String,
    /// Its id, when it has one.
    pub raw_id: Option<String>,
    /// Why it could not be mapped.
    pub reason: String,
}

/// How a data type's records are put together.
enum Shape {
    /// Mapped whole from the reference data: small data types (company, locations, tax
    /// components, categories).
    Whole,
    /// Mapped page by page from the primary resources, each page with its related rows.
    Paged(&'static [&'static str]),
    /// Payment methods: a census of every order and payment, streamed page by page.
    Census,
}

fn shape(data_type: DataType) -> Shape {
    match data_type {
        DataType::Orders => Shape::Paged(&["orders"]),
        DataType::Customers => Shape::Paged(&["customers"]),
        DataType::Products => Shape::Paged(&["products"]),
        DataType::Payments => Shape::Paged(&["order_payments"]),
        DataType::Transactions => Shape::Paged(&["order_payments", "order_slip"]),
        DataType::PaymentMethods => Shape::Census,
        _ => Shape::Whole,
    }
}

/// The commerce id of the record mapped from a raw record of `resource`.
fn commerce_id(data_type: DataType, resource: &str, raw_id: &str) -> String {
    match (data_type, resource) {
        (DataType::Transactions, "order_payments") => format!("payment-{raw_id}"),
        (DataType::Transactions, "order_slip") => format!("refund-{raw_id}"),
        _ => raw_id.to_string(),
    }
}

/// The record trees of stored raw records (read with the store's `*_as` readers, which
/// decode the stored text straight into records), deleted ones left out.
pub(crate) fn live(records: Vec<StoredRaw<Record>>) -> Vec<Record> {
    records
        .into_iter()
        .filter(|r| !r.deleted)
        .map(|r| r.data)
        .collect()
}

/// Maps one data type; `full` maps everything, else only what changed since the last pass.
pub(crate) async fn map_type(
    ctx: &Ctx,
    data_type: DataType,
    reference: &RecordSet,
    full: bool,
) -> Result<MapOutcome, SyncError> {
    let mut progress = StageProgress::new(
        Stage::Map(data_type.key().to_string()),
        ctx.progress.clone(),
        &ctx.fetcher,
        ctx.fetcher.requests(),
    );
    let result = map_type_inner(ctx, data_type, reference, full, &mut progress).await;
    progress.finish(
        ctx.fetcher.requests(),
        result.as_ref().err().map(ToString::to_string),
    );
    result
}

async fn map_type_inner(
    ctx: &Ctx,
    data_type: DataType,
    reference: &RecordSet,
    full: bool,
    progress: &mut StageProgress,
) -> Result<MapOutcome, SyncError> {
    if data_type.support() == Support::NotSupported {
        return Ok(MapOutcome::default());
    }
    let started = Utc::now();
    let previous = ctx
        .db
        .get_checkpoint(&ctx.connection_id, data_type.key(), MAPPED)
        .await?
        .and_then(|cp| cp.watermark_utc);
    let since = if full { None } else { previous };
    let opts = ctx.map_options(started);
    let mut outcome = MapOutcome::default();
    match shape(data_type) {
        Shape::Whole => {
            let refs = ReferenceData::build(reference, &opts)?;
            let batch = map_data_type(data_type, reference, &refs, &opts)?;
            write_all(ctx, data_type, batch, &mut outcome, progress).await?;
        }
        Shape::Census => {
            let refs = ReferenceData::build(reference, &opts)?;
            let kept = match &since {
                Some(since) => kept_census(ctx, since, &opts).await?,
                None => None,
            };
            let (census, failures) = match kept {
                Some(census) => (census, Vec::new()),
                None => payment_method_census(ctx, &refs, &opts).await?,
            };
            let batch = finish_census(ctx, census, failures, &opts, started).await?;
            write_all(ctx, data_type, batch, &mut outcome, progress).await?;
        }
        Shape::Paged(primaries) => {
            // The reference lookups, built once; each page adds its own rows' lookups.
            let base = ReferenceData::build(reference, &opts)?;
            let mut mapped_ids = Vec::new();
            for &primary in primaries {
                match &since {
                    None => {
                        let mut pages = ctx.db.raw_pages(
                            &ctx.connection_id,
                            primary,
                            ctx.options.map_page as u32,
                        );
                        while let Some(page) = pages.next().await? {
                            let records = live(page);
                            let ids = map_page(
                                ctx,
                                data_type,
                                primary,
                                records,
                                &base,
                                &opts,
                                &mut outcome,
                                progress,
                            )
                            .await?;
                            mapped_ids.extend(ids);
                        }
                    }
                    Some(since) => {
                        let changed = changed_primaries(ctx, data_type, primary, since).await?;
                        let ids: Vec<String> =
                            changed.into_iter().map(|id| id.to_string()).collect();
                        for chunk in ids.chunks(ctx.options.map_page.max(1)) {
                            let stored = ctx
                                .db
                                .get_raw_many_as(&ctx.connection_id, primary, chunk)
                                .await?;
                            let gone: Vec<String> = stored
                                .iter()
                                .filter(|r| r.deleted)
                                .map(|r| commerce_id(data_type, primary, &r.source_id))
                                .collect();
                            if !gone.is_empty() {
                                outcome.deleted += ctx
                                    .db
                                    .mark_deleted(
                                        &ctx.connection_id,
                                        StoredSet::Commerce(data_type.key()),
                                        &gone,
                                        Utc::now(),
                                    )
                                    .await?;
                            }
                            map_page(
                                ctx,
                                data_type,
                                primary,
                                live(stored),
                                &base,
                                &opts,
                                &mut outcome,
                                progress,
                            )
                            .await?;
                        }
                    }
                }
            }
            if since.is_none() {
                outcome.deleted += ctx
                    .mark_commerce_deleted_except(data_type.key(), &mapped_ids)
                    .await?;
            }
        }
    }
    ctx.save_checkpoint(Checkpoint {
        watermark_utc: Some(prestalink_store::format_timestamp(started)),
        ..Checkpoint::new(data_type.key(), MAPPED)
    })
    .await?;
    Ok(outcome)
}

/// Ids of primary records to map again since `since`: those whose raw content changed (or
/// were deleted), and the parents of changed rows that belong to them.
async fn changed_primaries(
    ctx: &Ctx,
    data_type: DataType,
    primary: &str,
    since: &str,
) -> Result<BTreeSet<u64>, SyncError> {
    let mut ids = BTreeSet::new();
    // Only keys are read: which records changed and whom they belong to, not their data.
    let changed = |resource: &'static str| async move {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = ctx
                .db
                .list_raw_keys_changed_since(
                    &ctx.connection_id,
                    resource,
                    since,
                    after.as_deref(),
                    2000,
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.source_id.clone());
            all.extend(page);
        }
        Ok::<_, SyncError>(all)
    };
    for r in changed(static_name(primary)).await? {
        ids.extend(r.source_id.parse::<u64>().ok());
    }
    let by_parent_id: &[&'static str] = match (data_type, primary) {
        (DataType::Orders, _) => &[
            "order_details",
            "order_cart_rules",
            "order_histories",
            "order_slip",
            "order_carriers",
        ],
        (DataType::Customers, _) => &["addresses"],
        (DataType::Products, _) => &["combinations", "stock_availables"],
        _ => &[],
    };
    for child in by_parent_id {
        for r in changed(child).await? {
            ids.extend(r.parent_key.as_deref().and_then(|k| k.parse::<u64>().ok()));
        }
    }
    // Payments belong to orders by reference: a new payment changes its orders, and an
    // order's new state changes its payments' status.
    let references = |records: Vec<RawKey>| -> Vec<String> {
        records
            .into_iter()
            .filter_map(|r| r.parent_key)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect()
    };
    // The ids of `resource`'s records (deleted ones too) that belong to one of `refs`.
    let ids_by_parent = |resource: &'static str, refs: Vec<String>| async move {
        let mut out = Vec::new();
        for chunk in refs.chunks(500) {
            let keys = ctx
                .db
                .list_raw_keys_by_parent(&ctx.connection_id, resource, chunk)
                .await?;
            out.extend(keys.iter().filter_map(|r| r.source_id.parse::<u64>().ok()));
        }
        Ok::<_, SyncError>(out)
    };
    match (data_type, primary) {
        (DataType::Orders, _) => {
            // Orders show their customer's name: a renamed or deleted customer changes them.
            let customers: Vec<String> = changed("customers")
                .await?
                .into_iter()
                .map(|r| r.source_id)
                .collect();
            let orders = ctx
                .db
                .list_raw_ids_by_field(&ctx.connection_id, "orders", "id_customer", &customers)
                .await?;
            ids.extend(orders.iter().filter_map(|id| id.parse::<u64>().ok()));
            let refs = references(changed("order_payments").await?);
            ids.extend(ids_by_parent("orders", refs).await?);
        }
        (DataType::Payments | DataType::Transactions, "order_payments") => {
            let refs = references(changed("orders").await?);
            ids.extend(ids_by_parent("order_payments", refs).await?);
        }
        _ => {}
    }
    Ok(ids)
}

fn static_name(resource: &str) -> &'static str {
    crate::catalog::source(resource).map_or("orders", |r| r.name)
}

/// Maps one page of primary records with their related rows, and writes the result.
/// Returns the commerce ids mapped.
#[allow(clippy::too_many_arguments)]
async fn map_page(
    ctx: &Ctx,
    data_type: DataType,
    primary: &str,
    records: Vec<Record>,
    base: &ReferenceData,
    opts: &MapOptions,
    outcome: &mut MapOutcome,
    progress: &mut StageProgress,
) -> Result<Vec<String>, SyncError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let set = page_set(ctx, data_type, primary, records).await?;
    let refs = ReferenceData::for_page(base, &set);
    let batch = map_data_type(data_type, &set, &refs, opts)?;
    let mapped: Vec<String> = batch.records.iter().map(|r| r.id().to_string()).collect();
    write_batch(ctx, data_type, batch, outcome, progress).await?;
    Ok(mapped)
}

/// A page of primary records with the rows mapping them needs (an order's details,
/// payments, addresses and customer; a customer's addresses; a product's combinations and
/// stock; a payment's orders), read by parent key or id. The reference resources are not
/// in it: their lookups come from the run's [`ReferenceData`] (see
/// [`ReferenceData::for_page`]).
pub(crate) async fn page_set(
    ctx: &Ctx,
    data_type: DataType,
    primary: &str,
    records: Vec<Record>,
) -> Result<RecordSet, SyncError> {
    let mut set = RecordSet::new();
    let ids: Vec<String> = records
        .iter()
        .filter_map(Record::id)
        .map(|i| i.to_string())
        .collect();
    let texts = |field: &str| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| r.text(field))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v != "0")
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let db = &ctx.db;
    let conn = ctx.connection_id.as_str();
    match (data_type, primary) {
        (DataType::Orders, _) => {
            for child in [
                "order_details",
                "order_cart_rules",
                "order_histories",
                "order_slip",
                "order_carriers",
            ] {
                set.extend(
                    child,
                    live(db.list_raw_by_parent_as(conn, child, &ids).await?),
                );
            }
            let refs = texts("reference");
            set.extend(
                "order_payments",
                live(
                    db.list_raw_by_parent_as(conn, "order_payments", &refs)
                        .await?,
                ),
            );
            let mut addresses = texts("id_address_delivery");
            addresses.extend(texts("id_address_invoice"));
            set.extend(
                "addresses",
                live(db.get_raw_many_as(conn, "addresses", &addresses).await?),
            );
            // Orders show their customer's name.
            let customers = texts("id_customer");
            set.extend(
                "customers",
                live(db.get_raw_many_as(conn, "customers", &customers).await?),
            );
        }
        (DataType::Customers, _) => {
            set.extend(
                "addresses",
                live(db.list_raw_by_parent_as(conn, "addresses", &ids).await?),
            );
        }
        (DataType::Products, _) => {
            for child in ["combinations", "stock_availables"] {
                set.extend(
                    child,
                    live(db.list_raw_by_parent_as(conn, child, &ids).await?),
                );
            }
        }
        (DataType::Payments | DataType::Transactions, "order_payments") => {
            let refs = texts("order_reference");
            set.extend(
                "orders",
                live(db.list_raw_by_parent_as(conn, "orders", &refs).await?),
            );
        }
        (DataType::Transactions, "order_slip") => {
            let orders = texts("id_order");
            set.extend(
                "orders",
                live(db.get_raw_many_as(conn, "orders", &orders).await?),
            );
        }
        _ => {}
    }
    set.extend(primary, records);
    Ok(set)
}

/// Writes the complete set of a data type's records and marks every other record of the
/// data type deleted.
pub(crate) async fn write_all(
    ctx: &Ctx,
    data_type: DataType,
    batch: Batch,
    outcome: &mut MapOutcome,
    progress: &mut StageProgress,
) -> Result<(), SyncError> {
    let ids: Vec<String> = batch.records.iter().map(|r| r.id().to_string()).collect();
    write_batch(ctx, data_type, batch, outcome, progress).await?;
    outcome.deleted += ctx
        .mark_commerce_deleted_except(data_type.key(), &ids)
        .await?;
    Ok(())
}

/// Writes a mapped batch and counts its failures and warnings.
pub(crate) async fn write_batch(
    ctx: &Ctx,
    data_type: DataType,
    batch: Batch,
    outcome: &mut MapOutcome,
    progress: &mut StageProgress,
) -> Result<(), SyncError> {
    for failure in batch.failures {
        tracing::warn!(
            data_type = data_type.key(),
            resource = failure.resource,
            raw_id = failure.raw_id.as_deref().unwrap_or("?"),
            reason = %failure.reason,
            "a record could not be mapped"
        );
        outcome.failure_count += 1;
        if outcome.failures.len() < 20 {
            outcome.failures.push(MappingFailure {
                resource: failure.resource.to_string(),
                raw_id: failure.raw_id,
                reason: failure.reason,
            });
        }
    }
    outcome.warning_count += batch.warnings.len() as u64;
    let records: Vec<StoredCommerce> = batch
        .records
        .iter()
        .map(|record| {
            let data = serde_json::to_value(record).expect("commerce records serialize");
            let source_modified_date = data
                .get("sourceModifiedDate")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            StoredCommerce {
                id: record.id().to_string(),
                data,
                source_modified_date,
            }
        })
        .collect();
    let n = records.len() as u64;
    for chunk in records.chunks(500) {
        let stats = ctx
            .db
            .upsert_commerce_page(&ctx.connection_id, data_type.key(), chunk, None, Utc::now())
            .await?;
        outcome.written += stats.written();
    }
    outcome.records += n;
    progress.advance(n, ctx.fetcher.requests());
    Ok(())
}

/// Stores raw copies of an add-on module's resource (secrets dropped) as records of the
/// data type `raw-<resource>`, so they are queried and exported like commerce records.
pub(crate) async fn copy_raw(ctx: &Ctx, resource: &str) -> Result<MapOutcome, SyncError> {
    let key = crate::catalog::raw_copy_key(resource);
    let mut outcome = MapOutcome::default();
    let mut ids = Vec::new();
    let mut pages = ctx.db.raw_pages(&ctx.connection_id, resource, 1000);
    while let Some(page) = pages.next().await? {
        let mut copies = Vec::new();
        for record in live(page) {
            match prestalink_mapping::map_raw(resource, &record) {
                Ok(copy) => {
                    let mut data = serde_json::Map::new();
                    data.insert("id".into(), copy.id.clone().into());
                    data.insert("resource".into(), copy.resource.into());
                    data.insert("fields".into(), copy.fields);
                    ids.push(copy.id.clone());
                    copies.push(StoredCommerce {
                        id: copy.id,
                        data: serde_json::Value::Object(data),
                        source_modified_date: None,
                    });
                }
                Err(e) => {
                    outcome.failure_count += 1;
                    if outcome.failures.len() < 20 {
                        outcome.failures.push(MappingFailure {
                            resource: resource.to_string(),
                            raw_id: record.text("id").map(str::to_string),
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        let stats = ctx
            .db
            .upsert_commerce_page(&ctx.connection_id, &key, &copies, None, Utc::now())
            .await?;
        outcome.records += copies.len() as u64;
        outcome.written += stats.written();
    }
    outcome.deleted += ctx.mark_commerce_deleted_except(&key, &ids).await?;
    Ok(outcome)
}

/// The payment methods of every order and payment, read page by page so that memory stays
/// flat: each page of payments looks up the orders of its references by parent key.
async fn payment_method_census(
    ctx: &Ctx,
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<(PaymentMethodCensus, Vec<prestalink_mapping::Failure>), SyncError> {
    let mut census = PaymentMethodCensus::default();
    let mut failures = Vec::new();
    let mut fail =
        |resource: &'static str, record: &Record, e: prestalink_mapping::MappingError| {
            failures.push(prestalink_mapping::Failure::new(
                resource,
                record.text("id").map(str::to_string),
                &e,
            ));
        };
    let conn = ctx.connection_id.as_str();
    let mut orders = ctx.db.raw_pages(conn, "orders", 2000);
    while let Some(page) = orders.next().await? {
        for order in live(page) {
            if let Err(e) = census.add_order(&order, refs, opts) {
                fail("orders", &order, e);
            }
        }
    }
    let mut payment_pages = ctx.db.raw_pages(conn, "order_payments", 2000);
    while let Some(page) = payment_pages.next().await? {
        let payments = live(page);
        let references: Vec<String> = payments
            .iter()
            .filter_map(|p| p.text("order_reference"))
            .map(|r| r.trim().to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // Orders come in id order: the first one seen per reference is the lowest id.
        let mut modules: std::collections::HashMap<String, Option<String>> =
            std::collections::HashMap::new();
        for order in live(
            ctx.db
                .list_raw_by_parent_as(conn, "orders", &references)
                .await?,
        ) {
            if let Some(reference) = order.text("reference") {
                modules
                    .entry(reference.trim().to_string())
                    .or_insert_with(|| order.text("module").map(str::to_string));
            }
        }
        for payment in &payments {
            let module = payment
                .text("order_reference")
                .and_then(|r| modules.get(r.trim()))
                .and_then(Option::as_deref);
            if let Err(e) = census.add_payment(payment, module, refs, opts) {
                fail("order_payments", payment, e);
            }
        }
    }
    Ok((census, failures))
}

/// Checkpoint kind of the payment-method census kept after a pass (`cursor`: the census,
/// the pass's start and the module rules it was counted with).
const CENSUS: &str = "census";

/// The module rules, as a census kept between runs records them: a census counted under
/// other rules (payment modules renamed or added) is counted again.
fn rules_fingerprint(opts: &MapOptions) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{:?}", opts.rules).as_bytes()))
}

/// The census of the last pass (started at `since`), when no stored order or payment
/// changed since and the module rules are the same: a sync that changed none of them
/// does not read every order and payment again to count the same methods.
async fn kept_census(
    ctx: &Ctx,
    since: &str,
    opts: &MapOptions,
) -> Result<Option<PaymentMethodCensus>, SyncError> {
    let Some(cp) = ctx
        .db
        .get_checkpoint(&ctx.connection_id, DataType::PaymentMethods.key(), CENSUS)
        .await?
    else {
        return Ok(None);
    };
    let Some(cursor) = cp.cursor else {
        return Ok(None);
    };
    if cursor["at"].as_str() != Some(since)
        || cursor["rules"].as_str() != Some(rules_fingerprint(opts).as_str())
    {
        return Ok(None);
    }
    for resource in ["orders", "order_payments"] {
        let changed = ctx
            .db
            .list_raw_keys_changed_since(&ctx.connection_id, resource, since, None, 1)
            .await?;
        if !changed.is_empty() {
            return Ok(None);
        }
    }
    Ok(serde_json::from_value(cursor["census"].clone()).ok())
}

/// The payment methods of a census, after keeping the census for the next pass (when it
/// had no failures: a pass that reuses it must report what a count would).
pub(crate) async fn finish_census(
    ctx: &Ctx,
    census: PaymentMethodCensus,
    failures: Vec<prestalink_mapping::Failure>,
    opts: &MapOptions,
    started: chrono::DateTime<Utc>,
) -> Result<Batch, SyncError> {
    let cursor = if failures.is_empty() {
        serde_json::json!({
            "at": prestalink_store::format_timestamp(started),
            "rules": rules_fingerprint(opts),
            "census": serde_json::to_value(&census).expect("a census serializes"),
        })
    } else {
        serde_json::Value::Null
    };
    ctx.save_checkpoint(Checkpoint {
        cursor: Some(cursor),
        ..Checkpoint::new(DataType::PaymentMethods.key(), CENSUS)
    })
    .await?;
    Ok(Batch {
        records: census
            .finish(opts)
            .into_iter()
            .map(prestalink_commerce::CommerceRecord::PaymentMethod)
            .collect(),
        warnings: Vec::new(),
        failures,
    })
}
