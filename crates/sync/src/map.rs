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
use prestalink_mapping::sources::{sources, By, Primary, Shape};
use prestalink_mapping::{map_data_type, Batch, MapOptions, RecordSet, ReferenceData};
use prestalink_store::{CommerceRecord as StoredCommerce, RecordSet as StoredSet, StoredRaw};
use prestalink_webservice::record::Record;

use crate::checkpoint::{Cursor, Kind};
use crate::engine::Ctx;
use crate::error::SyncError;
use crate::progress::{Stage, StageProgress};

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
    // Changes since the last pass's start, as the store dates rows (its timestamp text).
    let since = match ctx.cursor(data_type.key(), Kind::Mapped).await? {
        Some(Cursor::Mapped { at }) if !full => Some(prestalink_store::format_timestamp(at)),
        _ => None,
    };
    let opts = ctx.map_options(started);
    let mut outcome = MapOutcome::default();
    match sources(data_type).shape {
        Shape::Whole => {
            let refs = ReferenceData::build(reference, &opts)?;
            let batch = map_data_type(data_type, reference, &refs, &opts)?;
            write_all(ctx, data_type, batch, &mut outcome, progress).await?;
        }
        Shape::Census => {
            let refs = ReferenceData::build(reference, &opts)?;
            let batch =
                crate::census::payment_methods(ctx, &refs, &opts, since.as_deref(), started)
                    .await?;
            write_all(ctx, data_type, batch, &mut outcome, progress).await?;
        }
        Shape::Paged(primaries) => {
            // The reference lookups, built once; each page adds its own rows' lookups.
            let base = ReferenceData::build(reference, &opts)?;
            let mut mapped_ids = Vec::new();
            for primary in primaries {
                match &since {
                    None => {
                        let mut pages = ctx.db.raw_pages(
                            &ctx.connection_id,
                            primary.resource,
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
                        let changed = changed_primaries(ctx, primary, since).await?;
                        let ids: Vec<String> =
                            changed.into_iter().map(|id| id.to_string()).collect();
                        for chunk in ids.chunks(ctx.options.map_page.max(1)) {
                            let stored = ctx
                                .db
                                .get_raw_many_as(&ctx.connection_id, primary.resource, chunk)
                                .await?;
                            let gone: Vec<String> = stored
                                .iter()
                                .filter(|r| r.deleted)
                                .map(|r| commerce_id(data_type, primary.resource, &r.source_id))
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
    ctx.save_cursor(data_type.key(), &Cursor::Mapped { at: started })
        .await?;
    Ok(outcome)
}

/// Ids of primary records to map again since `since`: those whose raw content changed (or
/// were deleted), and those of changed linked rows that [`Link::remaps`].
///
/// [`Link::remaps`]: prestalink_mapping::sources::Link::remaps
async fn changed_primaries(
    ctx: &Ctx,
    primary: &Primary,
    since: &str,
) -> Result<BTreeSet<u64>, SyncError> {
    let mut ids = BTreeSet::new();
    // Only keys are read: which records changed and whom they belong to, not their data.
    let changed = |resource: &'static str| async move {
        ctx.db
            .all_raw_keys_changed_since(&ctx.connection_id, resource, since)
            .await
            .map_err(SyncError::from)
    };
    for r in changed(primary.resource).await? {
        ids.extend(r.source_id.parse::<u64>().ok());
    }
    for link in primary.links.iter().filter(|l| l.remaps) {
        let rows = changed(link.resource).await?;
        match link.by {
            // Rows that belong to a primary record: their parent key is its id.
            By::ParentKey("id") => {
                for r in rows {
                    ids.extend(r.parent_key.as_deref().and_then(|k| k.parse::<u64>().ok()));
                }
            }
            // Rows that share a field with primary records (payments and orders by
            // reference): the primaries whose parent key is that field's value.
            By::ParentKey(_) => {
                let keys: Vec<String> = rows
                    .into_iter()
                    .filter_map(|r| r.parent_key)
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect();
                for chunk in keys.chunks(500) {
                    let found = ctx
                        .db
                        .list_raw_keys_by_parent(&ctx.connection_id, primary.resource, chunk)
                        .await?;
                    ids.extend(found.iter().filter_map(|r| r.source_id.parse::<u64>().ok()));
                }
            }
            // Rows a primary record names by id (an order's customer): the primaries whose
            // field names a changed one.
            By::Id(fields) => {
                let changed: Vec<String> = rows.into_iter().map(|r| r.source_id).collect();
                for field in fields {
                    let found = ctx
                        .db
                        .list_raw_ids_by_field(
                            &ctx.connection_id,
                            primary.resource,
                            field,
                            &changed,
                        )
                        .await?;
                    ids.extend(found.iter().filter_map(|id| id.parse::<u64>().ok()));
                }
            }
        }
    }
    Ok(ids)
}

/// Maps one page of primary records with their related rows, and writes the result.
/// Returns the commerce ids mapped.
#[allow(clippy::too_many_arguments)]
async fn map_page(
    ctx: &Ctx,
    data_type: DataType,
    primary: &Primary,
    records: Vec<Record>,
    base: &ReferenceData,
    opts: &MapOptions,
    outcome: &mut MapOutcome,
    progress: &mut StageProgress,
) -> Result<Vec<String>, SyncError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let set = page_set(ctx, primary, records).await?;
    let refs = ReferenceData::for_page(base, &set);
    let batch = map_data_type(data_type, &set, &refs, opts)?;
    let mapped: Vec<String> = batch.records.iter().map(|r| r.id().to_string()).collect();
    write_batch(ctx, data_type, batch, outcome, progress).await?;
    Ok(mapped)
}

/// A page of primary records with the rows mapping them needs (its [`Primary::links`]: an
/// order's details, payments, addresses and customer; a customer's addresses; a product's
/// combinations and stock; a payment's orders), read by parent key or id. The reference
/// resources are not in it: their lookups come from the run's [`ReferenceData`] (see
/// [`ReferenceData::for_page`]).
pub(crate) async fn page_set(
    ctx: &Ctx,
    primary: &Primary,
    records: Vec<Record>,
) -> Result<RecordSet, SyncError> {
    let mut set = RecordSet::new();
    let ids: Vec<String> = records
        .iter()
        .filter_map(Record::id)
        .map(|i| i.to_string())
        .collect();
    // The distinct values of fields of the page's records, "0" (none) left out.
    let texts = |fields: &[&str]| -> Vec<String> {
        fields
            .iter()
            .flat_map(|field| records.iter().filter_map(|r| r.text(field)))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty() && v != "0")
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let db = &ctx.db;
    let conn = ctx.connection_id.as_str();
    for link in primary.links {
        let rows = match link.by {
            By::ParentKey("id") => db.list_raw_by_parent_as(conn, link.resource, &ids).await?,
            By::ParentKey(field) => {
                db.list_raw_by_parent_as(conn, link.resource, &texts(&[field]))
                    .await?
            }
            By::Id(fields) => {
                db.get_raw_many_as(conn, link.resource, &texts(fields))
                    .await?
            }
        };
        set.extend(link.resource, live(rows));
    }
    set.extend(primary.resource, records);
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

#[cfg(test)]
mod tests {
    use prestalink_simulator::generator::GenConfig;
    use prestalink_simulator::store::Value;
    use prestalink_testkit::difference;

    use super::*;
    use crate::engine::testing::{harness, Harness};
    use crate::engine::{load_reference, needed_resources};
    use crate::read::read_resource;

    /// Reads every resource `data_type` needs (reference data first, as a run does).
    async fn read_all(h: &Harness, data_type: DataType) {
        for res in needed_resources(&[data_type]) {
            read_resource(&h.ctx, res, None).await.unwrap();
        }
    }

    async fn assert_synced(h: &Harness, data_type: DataType) {
        let (expected, actual) = h.expected_and_synced(data_type).await;
        assert!(!expected[data_type.key()].is_empty());
        if let Some(diff) = difference(&expected, &actual) {
            panic!("{data_type}: {diff}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn customers_are_mapped_in_full_then_those_whose_rows_changed() {
        let h = harness(GenConfig {
            seed: 6,
            orders: 20,
            customers: 30,
            products: 8,
            ..GenConfig::default()
        })
        .await;
        let ctx = &h.ctx;
        let customers = DataType::Customers;
        read_all(&h, customers).await;
        let reference = load_reference(ctx).await.unwrap();
        let full = map_type(ctx, customers, &reference, false).await.unwrap();
        assert_eq!(full.records, h.shop_ids("customers").len() as u64);
        assert_eq!(full.failure_count, 0);
        assert_synced(&h, customers).await;

        // Nothing read since: nothing mapped.
        let none = map_type(ctx, customers, &reference, false).await.unwrap();
        assert_eq!((none.records, none.written), (0, 0));

        // An address moves to another city: its customer alone is mapped again.
        let address = h.shop_ids("addresses")[2];
        {
            let res = prestalink_simulator::resources::resource("addresses").unwrap();
            let now = h.shop_now().format(crate::read::PS_DATE).to_string();
            let store = h.sim.store();
            let mut store = store.write().unwrap();
            let row = store
                .table_mut("addresses")
                .unwrap()
                .rows
                .get_mut(&address)
                .unwrap();
            row.set(res, "city", Value::str("Quimper"));
            row.set(res, "date_upd", Value::str(now));
        }
        let read = read_resource(ctx, crate::catalog::source("addresses").unwrap(), None)
            .await
            .unwrap();
        assert_eq!(read.written, 1);
        let changed = map_type(ctx, customers, &reference, false).await.unwrap();
        assert_eq!((changed.records, changed.written), (1, 1), "{changed:?}");
        assert_synced(&h, customers).await;
        h.finish().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_set_holds_the_rows_the_primary_links_find() {
        let h = harness(GenConfig {
            seed: 7,
            orders: 30,
            customers: 15,
            products: 8,
            ..GenConfig::default()
        })
        .await;
        let ctx = &h.ctx;
        read_all(&h, DataType::Orders).await;
        let orders = live(
            ctx.db
                .list_raw_as::<Record>(&ctx.connection_id, "orders", None, 5)
                .await
                .unwrap(),
        );
        assert_eq!(orders.len(), 5);
        let primary = sources(DataType::Orders).primary("orders").unwrap();
        let set = page_set(ctx, primary, orders.clone()).await.unwrap();
        let text = |r: &Record, f: &str| r.text(f).unwrap_or_default().trim().to_string();
        let ids: BTreeSet<String> = orders.iter().map(|o| text(o, "id")).collect();
        let refs: BTreeSet<String> = orders.iter().map(|o| text(o, "reference")).collect();
        // Children by order id.
        let details = set.records("order_details");
        assert!(!details.is_empty());
        assert!(details.iter().all(|d| ids.contains(&text(d, "id_order"))));
        let stored_details = ctx
            .db
            .list_raw_ids_by_parent(
                &ctx.connection_id,
                "order_details",
                &ids.iter().cloned().collect::<Vec<_>>(),
            )
            .await
            .unwrap();
        assert_eq!(details.len(), stored_details.len());
        // Payments by reference; addresses and customers by id.
        assert!(set
            .records("order_payments")
            .iter()
            .all(|p| refs.contains(&text(p, "order_reference"))));
        let customers: BTreeSet<String> = orders.iter().map(|o| text(o, "id_customer")).collect();
        let found: BTreeSet<String> = set
            .records("customers")
            .iter()
            .map(|c| text(c, "id"))
            .collect();
        assert_eq!(found, customers);
        let addresses: BTreeSet<String> = orders
            .iter()
            .flat_map(|o| {
                [
                    text(o, "id_address_delivery"),
                    text(o, "id_address_invoice"),
                ]
            })
            .collect();
        let found: BTreeSet<String> = set
            .records("addresses")
            .iter()
            .map(|a| text(a, "id"))
            .collect();
        assert_eq!(found, addresses);
        assert_eq!(set.records("orders").len(), 5);
        h.finish().await;
    }
}
