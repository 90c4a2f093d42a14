//! The payment-method census: every payment method the store's orders and payments name,
//! how often and when last.
//!
//! A full pass counts every order and payment and keeps, beside the census, its
//! [`CensusLedger`] (each row's entry). An incremental pass reuses the kept census when no
//! order or payment changed since the last pass, and otherwise reads only the rows that
//! changed (and the payments whose first order by reference may have changed with them),
//! sets their entries in the ledger and counts the census from the ledger: the census a
//! count of every row would give, without reading every row.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use prestalink_commerce::DataType;
use prestalink_mapping::{
    Batch, CensusEntry, CensusLedger, CensusRow, Failure, MapOptions, MappingError,
    PaymentMethodCensus, ReferenceData,
};
use prestalink_store::{Checkpoint, RawKey, Store, StoredRaw};
use prestalink_webservice::record::Record;

use crate::engine::Ctx;
use crate::error::SyncError;

/// Checkpoint kind of the census kept after a pass (`cursor`: the census, the pass's
/// start, the module rules it was counted with and which ledger it was counted from).
const CENSUS: &str = "census";

/// Checkpoint kind of the census's ledger (`cursor`: when it was counted, and the ledger as
/// one JSON text: parsed straight into the ledger, not into a JSON tree of every row).
const LEDGER: &str = "census-ledger";

/// The rows a census is counted from, as the store holds them: the database in a sync, a
/// fake one in tests.
pub(crate) trait CensusRows {
    /// Keys of the rows of `resource` written (changed or deleted) since `since`.
    async fn changed(&self, resource: &'static str, since: &str) -> Result<Vec<RawKey>, SyncError>;
    /// Keys of the rows of `resource` (deleted ones too) whose parent key is one of `keys`.
    async fn keys_by_parent(
        &self,
        resource: &'static str,
        keys: &[String],
    ) -> Result<Vec<RawKey>, SyncError>;
    /// The rows of `resource` with the given ids (deleted ones too).
    async fn by_ids(
        &self,
        resource: &'static str,
        ids: &[String],
    ) -> Result<Vec<StoredRaw<Record>>, SyncError>;
    /// The rows of `resource` (deleted ones too) whose parent key is one of `keys`.
    async fn by_parent(
        &self,
        resource: &'static str,
        keys: &[String],
    ) -> Result<Vec<StoredRaw<Record>>, SyncError>;
}

/// A connection's rows in the database.
pub(crate) struct StoredRows<'a> {
    pub(crate) db: &'a Store,
    pub(crate) connection_id: &'a str,
}

impl CensusRows for StoredRows<'_> {
    async fn changed(&self, resource: &'static str, since: &str) -> Result<Vec<RawKey>, SyncError> {
        Ok(self
            .db
            .all_raw_keys_changed_since(self.connection_id, resource, since)
            .await?)
    }

    async fn keys_by_parent(
        &self,
        resource: &'static str,
        keys: &[String],
    ) -> Result<Vec<RawKey>, SyncError> {
        Ok(self
            .db
            .list_raw_keys_by_parent(self.connection_id, resource, keys)
            .await?)
    }

    async fn by_ids(
        &self,
        resource: &'static str,
        ids: &[String],
    ) -> Result<Vec<StoredRaw<Record>>, SyncError> {
        Ok(self
            .db
            .get_raw_many_as(self.connection_id, resource, ids)
            .await?)
    }

    async fn by_parent(
        &self,
        resource: &'static str,
        keys: &[String],
    ) -> Result<Vec<StoredRaw<Record>>, SyncError> {
        Ok(self
            .db
            .list_raw_by_parent_as(self.connection_id, resource, keys)
            .await?)
    }
}

/// A census being counted: the census itself, the ledger of its rows (`None` once a row
/// had no numeric id: such a census is counted again next time rather than updated) and
/// the rows that could not be counted.
pub(crate) struct Count {
    census: PaymentMethodCensus,
    ledger: Option<CensusLedger>,
    failures: Vec<Failure>,
}

impl Default for Count {
    fn default() -> Self {
        Count {
            census: PaymentMethodCensus::default(),
            ledger: Some(CensusLedger::default()),
            failures: Vec::new(),
        }
    }
}

impl Count {
    fn record(
        &mut self,
        resource: &'static str,
        record: &Record,
        row: fn(u64) -> CensusRow,
        entry: Result<Option<CensusEntry>, MappingError>,
    ) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                self.failures.push(Failure::new(
                    resource,
                    record.text("id").map(str::to_string),
                    &e,
                ));
                None
            }
        };
        if let Some(entry) = &entry {
            self.census.add(entry);
        }
        match record.id() {
            Some(id) => {
                if let Some(ledger) = &mut self.ledger {
                    ledger.set(row(id), entry);
                }
            }
            None => self.ledger = None,
        }
    }

    /// Counts an order.
    pub(crate) fn order(&mut self, order: &Record, refs: &ReferenceData, opts: &MapOptions) {
        let entry = CensusEntry::of_order(order, refs, opts);
        self.record("orders", order, CensusRow::Order, entry);
    }

    /// Counts payments, each with the module of the first order (lowest id) of its
    /// reference among `orders`.
    pub(crate) fn payments<'a>(
        &mut self,
        payments: &[Record],
        orders: impl IntoIterator<Item = &'a Record>,
        refs: &ReferenceData,
        opts: &MapOptions,
    ) {
        let mut orders: Vec<&Record> = orders.into_iter().collect();
        orders.sort_by_key(|o| o.id());
        let mut modules: HashMap<&str, Option<&str>> = HashMap::new();
        for order in orders {
            if let Some(reference) = order.text("reference") {
                modules
                    .entry(reference.trim())
                    .or_insert_with(|| order.text("module"));
            }
        }
        for payment in payments {
            let module = payment
                .text("order_reference")
                .and_then(|r| modules.get(r.trim()))
                .and_then(|m| *m);
            let entry = CensusEntry::of_payment(payment, module, refs, opts);
            self.record("order_payments", payment, CensusRow::Payment, entry);
        }
    }
}

/// The distinct trimmed `order_reference`s of payments (a payment's orders are found by it).
fn references(payments: &[Record]) -> Vec<String> {
    payments
        .iter()
        .filter_map(|p| p.text("order_reference"))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn live(records: Vec<StoredRaw<Record>>) -> Vec<Record> {
    crate::map::live(records)
}

/// Counts payments with the orders of their references, read from `rows`.
async fn count_payments(
    rows: &impl CensusRows,
    count: &mut Count,
    payments: &[Record],
    refs: &ReferenceData,
    opts: &MapOptions,
) -> Result<(), SyncError> {
    let orders = live(rows.by_parent("orders", &references(payments)).await?);
    count.payments(payments, &orders, refs, opts);
    Ok(())
}

/// Counts every order and payment of the connection, page by page so that memory stays flat.
async fn count_all(ctx: &Ctx, refs: &ReferenceData, opts: &MapOptions) -> Result<Count, SyncError> {
    let mut count = Count::default();
    let conn = ctx.connection_id.as_str();
    let mut orders = ctx.db.raw_pages(conn, "orders", 2000);
    while let Some(page) = orders.next::<Record>().await? {
        for order in live(page) {
            count.order(&order, refs, opts);
        }
    }
    let rows = StoredRows {
        db: &ctx.db,
        connection_id: conn,
    };
    let mut payments = ctx.db.raw_pages(conn, "order_payments", 2000);
    while let Some(page) = payments.next::<Record>().await? {
        count_payments(&rows, &mut count, &live(page), refs, opts).await?;
    }
    Ok(count)
}

/// Sets in `ledger` the entries of the orders and payments written since `since`, and of
/// the payments of changed orders' references (their first order's module may have
/// changed), reading only those rows and the orders of those payments' references.
/// Returns `None` when nothing changed, else the rows that could not be counted (and
/// `ledger` `None` when a changed row has no numeric id).
pub(crate) async fn update(
    rows: &impl CensusRows,
    ledger: CensusLedger,
    since: &str,
    refs: &ReferenceData,
    opts: &MapOptions,
    page: usize,
) -> Result<Option<Count>, SyncError> {
    let changed_orders = rows.changed("orders", since).await?;
    let changed_payments = rows.changed("order_payments", since).await?;
    if changed_orders.is_empty() && changed_payments.is_empty() {
        return Ok(None);
    }
    let mut count = Count {
        census: PaymentMethodCensus::default(),
        ledger: Some(ledger),
        failures: Vec::new(),
    };
    // Ids in natural order, as strings: how the store keys them.
    let natural = |ids: BTreeSet<(usize, String)>| -> Vec<String> {
        ids.into_iter().map(|(_, id)| id).collect()
    };
    let key = |id: String| (id.len(), id);
    let order_references: Vec<String> = changed_orders
        .iter()
        .filter_map(|k| k.parent_key.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let orders = natural(
        changed_orders
            .into_iter()
            .map(|k| key(k.source_id))
            .collect(),
    );
    let mut payment_ids: BTreeSet<(usize, String)> = changed_payments
        .into_iter()
        .map(|k| key(k.source_id))
        .collect();
    for chunk in order_references.chunks(page.max(1)) {
        let keys = rows.keys_by_parent("order_payments", chunk).await?;
        payment_ids.extend(keys.into_iter().map(|k| key(k.source_id)));
    }
    let payments = natural(payment_ids);

    for chunk in orders.chunks(page.max(1)) {
        let stored = rows.by_ids("orders", chunk).await?;
        clear_missing(&mut count, chunk, &stored, CensusRow::Order);
        for order in live(stored) {
            count.order(&order, refs, opts);
        }
    }
    for chunk in payments.chunks(page.max(1)) {
        let stored = rows.by_ids("order_payments", chunk).await?;
        clear_missing(&mut count, chunk, &stored, CensusRow::Payment);
        count_payments(rows, &mut count, &live(stored), refs, opts).await?;
    }
    Ok(Some(count))
}

/// Removes from the ledger the rows of `ids` that are deleted or no longer stored.
fn clear_missing(
    count: &mut Count,
    ids: &[String],
    stored: &[StoredRaw<Record>],
    row: fn(u64) -> CensusRow,
) {
    let live: BTreeSet<&str> = stored
        .iter()
        .filter(|r| !r.deleted)
        .map(|r| r.source_id.as_str())
        .collect();
    for id in ids.iter().filter(|id| !live.contains(id.as_str())) {
        match id.trim().parse::<u64>() {
            Ok(n) => {
                if let Some(ledger) = &mut count.ledger {
                    ledger.set(row(n), None);
                }
            }
            Err(_) => count.ledger = None,
        }
    }
}

/// The module rules, as a census kept between runs records them: a census counted under
/// other rules (payment modules renamed or added) is counted again.
fn rules_fingerprint(opts: &MapOptions) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(format!("{:?}", opts.rules).as_bytes()))
}

/// The census of the last pass, and when the ledger it was counted from was counted.
struct Kept {
    census: PaymentMethodCensus,
    ledger_at: Option<String>,
}

/// The census of the last pass (started at `since`), when it was counted with the same
/// module rules.
async fn kept_census(ctx: &Ctx, since: &str, opts: &MapOptions) -> Result<Option<Kept>, SyncError> {
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
    let Ok(census) = serde_json::from_value(cursor["census"].clone()) else {
        return Ok(None);
    };
    Ok(Some(Kept {
        census,
        ledger_at: cursor["ledger"].as_str().map(str::to_string),
    }))
}

/// The ledger counted at `at`, when it is still the one kept.
async fn kept_ledger(ctx: &Ctx, at: &str) -> Result<Option<CensusLedger>, SyncError> {
    let Some(cp) = ctx
        .db
        .get_checkpoint(&ctx.connection_id, DataType::PaymentMethods.key(), LEDGER)
        .await?
    else {
        return Ok(None);
    };
    let Some(cursor) = cp.cursor else {
        return Ok(None);
    };
    if cursor["at"].as_str() != Some(at) {
        return Ok(None);
    }
    Ok(cursor["ledger"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok()))
}

/// The payment methods of every order and payment: the kept census when none changed since
/// `since` (the last pass's start), the kept ledger updated with the rows that changed, or
/// (a full pass, or nothing usable kept) every row counted. Keeps the census for the next
/// pass.
pub(crate) async fn payment_methods(
    ctx: &Ctx,
    refs: &ReferenceData,
    opts: &MapOptions,
    since: Option<&str>,
    started: DateTime<Utc>,
) -> Result<Batch, SyncError> {
    let kept = match since {
        Some(since) => kept_census(ctx, since, opts).await?.map(|k| (since, k)),
        None => None,
    };
    let mut updated = None;
    if let Some((since, kept)) = kept {
        let ledger = match &kept.ledger_at {
            Some(at) => kept_ledger(ctx, at).await?,
            None => None,
        };
        let rows = StoredRows {
            db: &ctx.db,
            connection_id: &ctx.connection_id,
        };
        match ledger {
            Some(ledger) => {
                match update(&rows, ledger, since, refs, opts, ctx.options.map_page).await? {
                    None => return unchanged(ctx, kept, opts, started).await,
                    Some(count) if count.ledger.is_some() => updated = Some(count),
                    Some(_) => {}
                }
            }
            // No ledger: the kept census is good while nothing changed.
            None => {
                if rows.changed("orders", since).await?.is_empty()
                    && rows.changed("order_payments", since).await?.is_empty()
                {
                    return unchanged(ctx, kept, opts, started).await;
                }
            }
        }
    }
    let count = match updated {
        Some(mut count) => {
            count.census = count.ledger.as_ref().expect("an updated ledger").census();
            count
        }
        None => count_all(ctx, refs, opts).await?,
    };
    finish(ctx, count, opts, started).await
}

/// The kept census finished again, kept for the next pass with the same ledger.
async fn unchanged(
    ctx: &Ctx,
    kept: Kept,
    opts: &MapOptions,
    started: DateTime<Utc>,
) -> Result<Batch, SyncError> {
    save_census(ctx, &kept.census, kept.ledger_at.as_deref(), opts, started).await?;
    Ok(batch(kept.census, Vec::new(), opts))
}

async fn save_census(
    ctx: &Ctx,
    census: &PaymentMethodCensus,
    ledger_at: Option<&str>,
    opts: &MapOptions,
    started: DateTime<Utc>,
) -> Result<(), SyncError> {
    let mut cursor = serde_json::json!({
        "at": prestalink_store::format_timestamp(started),
        "rules": rules_fingerprint(opts),
        "census": serde_json::to_value(census).expect("a census serializes"),
    });
    if let Some(at) = ledger_at {
        cursor["ledger"] = at.into();
    }
    ctx.save_checkpoint(Checkpoint {
        cursor: Some(cursor),
        ..Checkpoint::new(DataType::PaymentMethods.key(), CENSUS)
    })
    .await
}

/// The payment methods of a count, after keeping the census and its ledger for the next
/// pass (when it had no failures: a pass that reuses it must report what a count would).
pub(crate) async fn finish(
    ctx: &Ctx,
    count: Count,
    opts: &MapOptions,
    started: DateTime<Utc>,
) -> Result<Batch, SyncError> {
    if count.failures.is_empty() {
        let mut ledger_at = None;
        if let Some(ledger) = &count.ledger {
            let at = prestalink_store::format_timestamp(started);
            let text = serde_json::to_string(ledger).expect("a ledger serializes");
            ctx.save_checkpoint(Checkpoint {
                cursor: Some(serde_json::json!({ "at": at, "ledger": text })),
                ..Checkpoint::new(DataType::PaymentMethods.key(), LEDGER)
            })
            .await?;
            ledger_at = Some(at);
        }
        save_census(ctx, &count.census, ledger_at.as_deref(), opts, started).await?;
    } else {
        ctx.save_checkpoint(Checkpoint {
            cursor: Some(serde_json::Value::Null),
            ..Checkpoint::new(DataType::PaymentMethods.key(), CENSUS)
        })
        .await?;
    }
    Ok(batch(count.census, count.failures, opts))
}

fn batch(census: PaymentMethodCensus, failures: Vec<Failure>, opts: &MapOptions) -> Batch {
    Batch {
        records: census
            .finish(opts)
            .into_iter()
            .map(prestalink_commerce::CommerceRecord::PaymentMethod)
            .collect(),
        warnings: Vec::new(),
        failures,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use chrono::TimeZone;

    use super::*;

    fn record(fields: &[(&str, &str)]) -> Record {
        Record::from_text_fields(fields)
    }

    /// Orders and payments in memory: which were written since the last pass, and every
    /// row read, by resource and id.
    #[derive(Default)]
    struct FakeRows {
        rows: BTreeMap<(&'static str, u64), StoredRaw<Record>>,
        changed: BTreeSet<(&'static str, u64)>,
        read: RefCell<Vec<(&'static str, u64)>>,
    }

    impl FakeRows {
        /// Stores a row (`None`: marks it deleted), as a sync writing it would.
        fn put(&mut self, resource: &'static str, id: u64, data: Option<Record>) {
            let parent_field = if resource == "orders" {
                "reference"
            } else {
                "order_reference"
            };
            let previous = self.rows.get(&(resource, id)).map(|r| r.data.clone());
            let deleted = data.is_none();
            let data = data.or(previous).expect("a row to delete");
            let row = StoredRaw {
                source_id: id.to_string(),
                parent_key: data.text(parent_field).map(str::to_string),
                data,
                content_hash: String::new(),
                fetched_at: String::new(),
                deleted,
            };
            self.rows.insert((resource, id), row);
            self.changed.insert((resource, id));
        }

        fn live(&self, resource: &str) -> Vec<Record> {
            self.rows
                .iter()
                .filter(|((r, _), row)| *r == resource && !row.deleted)
                .map(|(_, row)| row.data.clone())
                .collect()
        }

        fn key(row: &StoredRaw<Record>) -> RawKey {
            RawKey {
                source_id: row.source_id.clone(),
                parent_key: row.parent_key.clone(),
                deleted: row.deleted,
            }
        }

        fn matching(
            &self,
            resource: &'static str,
            keep: impl Fn(&StoredRaw<Record>) -> bool,
        ) -> Vec<StoredRaw<Record>> {
            self.rows
                .iter()
                .filter(|((r, _), row)| *r == resource && keep(row))
                .map(|(_, row)| row.clone())
                .collect()
        }

        fn log(&self, resource: &'static str, rows: &[StoredRaw<Record>]) {
            self.read.borrow_mut().extend(
                rows.iter()
                    .map(|r| (resource, r.source_id.parse::<u64>().unwrap())),
            );
        }
    }

    impl CensusRows for FakeRows {
        async fn changed(
            &self,
            resource: &'static str,
            _since: &str,
        ) -> Result<Vec<RawKey>, SyncError> {
            Ok(self
                .matching(resource, |r| {
                    self.changed
                        .contains(&(resource, r.source_id.parse().unwrap()))
                })
                .iter()
                .map(Self::key)
                .collect())
        }

        async fn keys_by_parent(
            &self,
            resource: &'static str,
            keys: &[String],
        ) -> Result<Vec<RawKey>, SyncError> {
            let rows = self.matching(resource, |r| {
                r.parent_key.as_ref().is_some_and(|k| keys.contains(k))
            });
            Ok(rows.iter().map(Self::key).collect())
        }

        async fn by_ids(
            &self,
            resource: &'static str,
            ids: &[String],
        ) -> Result<Vec<StoredRaw<Record>>, SyncError> {
            let rows = self.matching(resource, |r| ids.contains(&r.source_id));
            self.log(resource, &rows);
            Ok(rows)
        }

        async fn by_parent(
            &self,
            resource: &'static str,
            keys: &[String],
        ) -> Result<Vec<StoredRaw<Record>>, SyncError> {
            let rows = self.matching(resource, |r| {
                r.parent_key.as_ref().is_some_and(|k| keys.contains(k))
            });
            self.log(resource, &rows);
            Ok(rows)
        }
    }

    const MODULES: [(&str, &str); 4] = [
        ("ps_wirepayment", "Bank wire"),
        ("ps_checkpayment", "Payment by check"),
        ("ps_cashondelivery", "Cash on delivery"),
        ("stripe_official", "Card"),
    ];

    fn order(id: u64, module: usize, day: u32) -> Record {
        let (module, payment) = MODULES[module % MODULES.len()];
        record(&[
            ("id", &id.to_string()),
            // Two orders per reference, as PrestaShop splits a cart between carriers.
            ("reference", &format!("REF{}", id.div_ceil(2))),
            ("module", module),
            ("payment", payment),
            (
                "date_add",
                &format!("2025-{:02}-{:02} 10:00:00", 1 + day % 12, 1 + day % 28),
            ),
        ])
    }

    fn payment(id: u64, reference: u64, method: &str, day: u32) -> Record {
        record(&[
            ("id", &id.to_string()),
            ("order_reference", &format!("REF{reference}")),
            ("payment_method", method),
            (
                "date_add",
                &format!("2025-{:02}-{:02} 12:00:00", 1 + day % 12, 1 + day % 28),
            ),
        ])
    }

    fn recount(rows: &FakeRows, refs: &ReferenceData, opts: &MapOptions) -> serde_json::Value {
        let mut count = Count::default();
        for o in rows.live("orders") {
            count.order(&o, refs, opts);
        }
        let orders = rows.live("orders");
        count.payments(&rows.live("order_payments"), &orders, refs, opts);
        assert!(count.failures.is_empty());
        serde_json::to_value(count.census.finish(opts)).unwrap()
    }

    #[tokio::test]
    async fn an_updated_census_equals_a_recount_and_reads_only_the_changed_rows() {
        let opts = MapOptions::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let mut paris = opts.clone();
        paris.timezone = Some("Europe/Paris".into());
        let refs = ReferenceData::build(&Default::default(), &paris).unwrap();
        let mut rows = FakeRows::default();
        for id in 1..=200u64 {
            rows.put("orders", id, Some(order(id, (id % 3) as usize, id as u32)));
        }
        for id in 1..=100u64 {
            let method = if id % 4 == 0 { "Card" } else { "" };
            rows.put(
                "order_payments",
                id,
                Some(payment(id, id, method, id as u32)),
            );
        }
        let mut full = Count::default();
        for o in rows.live("orders") {
            full.order(&o, &refs, &opts);
        }
        let orders = rows.live("orders");
        full.payments(&rows.live("order_payments"), &orders, &refs, &opts);
        let ledger = full.ledger.clone().expect("every row has an id");
        assert_eq!(
            serde_json::to_value(ledger.census().finish(&opts)).unwrap(),
            serde_json::to_value(full.census.clone().finish(&opts)).unwrap(),
            "the ledger counts what the pass counted"
        );
        // Kept between passes as JSON.
        let ledger: CensusLedger =
            serde_json::from_str(&serde_json::to_string(&ledger).unwrap()).unwrap();

        // Nothing written since: nothing read.
        rows.changed.clear();
        let none = update(&rows, ledger.clone(), "since", &refs, &opts, 50).await;
        assert!(none.unwrap().is_none());
        assert!(rows.read.borrow().is_empty());

        // A few orders and payments change: the first order of reference 5 (orders 9 and
        // 10) pays by card now, so its payment's module changes too; order 150 and
        // payment 7 are deleted, payment 101 is new (a method unseen so far), order 201
        // too (its reference has no payment).
        rows.put("orders", 9, Some(order(9, 3, 300)));
        rows.put("orders", 40, Some(order(40, 2, 17)));
        rows.put("orders", 150, None);
        rows.put("orders", 201, Some(order(201, 0, 364)));
        rows.put("order_payments", 7, None);
        rows.put(
            "order_payments",
            101,
            Some(payment(101, 60, "Gift card", 200)),
        );
        let expected = recount(&rows, &refs, &opts);
        assert_ne!(
            expected,
            serde_json::to_value(ledger.census().finish(&opts)).unwrap(),
            "the changes change the census"
        );
        let count = update(&rows, ledger, "since", &refs, &opts, 2)
            .await
            .unwrap()
            .expect("rows changed");
        assert!(count.failures.is_empty());
        let updated = count.ledger.expect("every row has an id").census();
        assert_eq!(
            serde_json::to_value(updated.finish(&opts)).unwrap(),
            expected
        );

        // Read: the changed orders; the changed payments and the payments of changed
        // orders' references (5: payment 5, 20: payment 20, 75: payment 75, 101: none);
        // the orders of those payments' references.
        let mut read = rows.read.borrow().clone();
        read.sort();
        read.dedup();
        let mut wanted: Vec<(&str, u64)> = [9, 40, 150, 201]
            .into_iter()
            .map(|id| ("orders", id))
            .chain(
                [5, 7, 20, 75, 101]
                    .into_iter()
                    .map(|id| ("order_payments", id)),
            )
            .chain(
                [9, 10, 39, 40, 119, 120, 149, 150]
                    .into_iter()
                    .map(|id| ("orders", id)),
            )
            .collect();
        wanted.sort();
        wanted.dedup();
        assert_eq!(read, wanted);
    }
}
