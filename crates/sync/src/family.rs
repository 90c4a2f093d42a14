//! One mapping pass for the data types built from orders and their rows: orders, payments,
//! transactions and payment methods. Mapped one by one, each read every order (payments,
//! transactions and the payment-method census read them again by reference), so a full
//! sync decoded every stored order four times and every payment four times. In one pass a
//! page of orders (with its rows) yields its orders and the orders' census entries, and a
//! page of payments (with their orders) yields its payments, their transactions and their
//! census entries: each stored row is decoded once per pass that needs it.
//!
//! Only a full mapping of two or more of these data types goes through here; an
//! incremental one maps only what changed, data type by data type (see `map.rs`).

use std::collections::HashMap;

use chrono::Utc;
use prestalink_commerce::DataType;
use prestalink_mapping::sources::{sources, Primary};
use prestalink_mapping::{map_data_type, Batch, RecordSet, ReferenceData};
use prestalink_webservice::record::Record;

use crate::census::Count;
use crate::checkpoint::{Cursor, Kind};
use crate::engine::Ctx;
use crate::error::{FailureReason, SyncError};
use crate::map::{live, page_set, write_all, write_batch, MapOutcome};
use crate::progress::{Stage, StageProgress};

/// The data types mapped from orders and their rows.
pub(crate) const ORDER_FAMILY: [DataType; 4] = [
    DataType::Orders,
    DataType::Payments,
    DataType::Transactions,
    DataType::PaymentMethods,
];

/// One data type of the pass: its progress, outcome and the commerce ids it mapped.
struct Member {
    progress: StageProgress,
    outcome: MapOutcome,
    mapped: Vec<String>,
}

/// Maps `types` (members of [`ORDER_FAMILY`]) in full, in one pass over the stored orders,
/// payments and credit slips. Each data type gets its outcome, its progress events and its
/// `mapped` checkpoint as if mapped alone; a failure fails every data type of the pass.
pub(crate) async fn map_order_family(
    ctx: &Ctx,
    types: &[DataType],
    reference: &RecordSet,
) -> Vec<(DataType, Result<MapOutcome, SyncError>)> {
    let mut members: HashMap<DataType, Member> = types
        .iter()
        .map(|&dt| {
            let progress = StageProgress::new(
                Stage::Map(dt.key().to_string()),
                ctx.progress.clone(),
                &ctx.fetcher,
                ctx.fetcher.requests(),
            );
            let member = Member {
                progress,
                outcome: MapOutcome::default(),
                mapped: Vec::new(),
            };
            (dt, member)
        })
        .collect();
    let result = pass(ctx, &mut members, reference).await;
    let reason = result.as_ref().err().map(FailureReason::from);
    let error = reason.as_ref().map(ToString::to_string);
    let mut result = result.err();
    let mut out = Vec::new();
    for &dt in types {
        let mut member = members.remove(&dt).expect("every member has a state");
        member
            .progress
            .finish(ctx.fetcher.requests(), error.clone());
        // The first data type carries the error itself (a database error ends the run),
        // the others its reason.
        let outcome = match (result.take(), &reason) {
            (Some(e), _) => Err(e),
            (None, Some(reason)) => Err(SyncError::Shared(Box::new(reason.clone()))),
            (None, None) => Ok(member.outcome),
        };
        out.push((dt, outcome));
    }
    out
}

async fn pass(
    ctx: &Ctx,
    members: &mut HashMap<DataType, Member>,
    reference: &RecordSet,
) -> Result<(), SyncError> {
    let started = Utc::now();
    let opts = ctx.map_options(started);
    let census_wanted = members.contains_key(&DataType::PaymentMethods);
    let global = ReferenceData::build(reference, &opts)?;
    let conn = ctx.connection_id.as_str();
    let page_size = ctx.options.map_page as u32;

    // Orders, and the census entries of orders.
    let mut census = Count::default();
    if members.contains_key(&DataType::Orders) || census_wanted {
        let mut pages = ctx.db.raw_pages(conn, "orders", page_size);
        while let Some(page) = pages.next::<Record>().await? {
            let orders = live(page);
            if census_wanted {
                for order in &orders {
                    census.order(order, &global, &opts);
                }
            }
            if let Some(member) = members.get_mut(&DataType::Orders) {
                if orders.is_empty() {
                    continue;
                }
                let set = page_set(ctx, primary(DataType::Orders, "orders"), orders).await?;
                let refs = ReferenceData::for_page(&global, &set);
                let batch = map_data_type(DataType::Orders, &set, &refs, &opts)?;
                write_member(ctx, DataType::Orders, member, batch).await?;
            }
        }
    }

    // Payments, their transactions, and the census entries of payments.
    let wants_payments = members.contains_key(&DataType::Payments)
        || members.contains_key(&DataType::Transactions)
        || census_wanted;
    if wants_payments {
        let mut pages = ctx.db.raw_pages(conn, "order_payments", page_size);
        while let Some(page) = pages.next::<Record>().await? {
            let payments = live(page);
            if payments.is_empty() {
                continue;
            }
            let set =
                page_set(ctx, primary(DataType::Payments, "order_payments"), payments).await?;
            if census_wanted {
                add_payments_to_census(ctx, &set, &global, &opts, &mut census).await?;
            }
            let mapped_here = members.contains_key(&DataType::Payments)
                || members.contains_key(&DataType::Transactions);
            if !mapped_here {
                continue;
            }
            let refs = ReferenceData::for_page(&global, &set);
            for dt in [DataType::Payments, DataType::Transactions] {
                if let Some(member) = members.get_mut(&dt) {
                    let batch = map_data_type(dt, &set, &refs, &opts)?;
                    write_member(ctx, dt, member, batch).await?;
                }
            }
        }
    }

    // Refunds (credit slips) of transactions.
    if let Some(member) = members.get_mut(&DataType::Transactions) {
        let mut pages = ctx.db.raw_pages(conn, "order_slip", page_size);
        while let Some(page) = pages.next::<Record>().await? {
            let slips = live(page);
            if slips.is_empty() {
                continue;
            }
            let set = page_set(ctx, primary(DataType::Transactions, "order_slip"), slips).await?;
            let refs = ReferenceData::for_page(&global, &set);
            let batch = map_data_type(DataType::Transactions, &set, &refs, &opts)?;
            write_member(ctx, DataType::Transactions, member, batch).await?;
        }
    }

    if let Some(member) = members.get_mut(&DataType::PaymentMethods) {
        let batch = crate::census::finish(ctx, census, &opts, started).await?;
        write_all(
            ctx,
            DataType::PaymentMethods,
            batch,
            &mut member.outcome,
            &mut member.progress,
        )
        .await?;
    }

    for (&dt, member) in members.iter_mut() {
        if dt != DataType::PaymentMethods {
            member.outcome.deleted += ctx
                .mark_commerce_deleted_except(dt.key(), &member.mapped)
                .await?;
        }
        ctx.save_cursor(dt.key(), &Cursor::Mapped { at: started })
            .await?;
    }
    Ok(())
}

/// The primary resource `resource` of `data_type`.
fn primary(data_type: DataType, resource: &str) -> &'static Primary {
    sources(data_type)
        .primary(resource)
        .expect("a primary resource of the data type")
}

async fn write_member(
    ctx: &Ctx,
    data_type: DataType,
    member: &mut Member,
    batch: Batch,
) -> Result<(), SyncError> {
    member
        .mapped
        .extend(batch.records.iter().map(|r| r.id().to_string()));
    write_batch(
        ctx,
        data_type,
        batch,
        &mut member.outcome,
        &mut member.progress,
    )
    .await
}

/// Counts a page of payments (in `set`, with the orders of their references) in the census:
/// each payment with the module of the first order (lowest id) of its reference.
async fn add_payments_to_census(
    ctx: &Ctx,
    set: &RecordSet,
    refs: &ReferenceData,
    opts: &prestalink_mapping::MapOptions,
    census: &mut Count,
) -> Result<(), SyncError> {
    let payments = set.records("order_payments");
    // The page's orders were looked up by the payments' references, leaving out "0" (no
    // order has it in PrestaShop); a shop that has one still gets it, as the census did.
    let mut extra = Vec::new();
    if payments
        .iter()
        .any(|p| p.text("order_reference").map(str::trim) == Some("0"))
    {
        extra = live(
            ctx.db
                .list_raw_by_parent_as(&ctx.connection_id, "orders", &["0".to_string()])
                .await?,
        );
    }
    census.payments(
        payments,
        set.records("orders").iter().chain(&extra),
        refs,
        opts,
    );
    Ok(())
}

/// Maps `types`: members of [`ORDER_FAMILY`] mapped in full in one pass when there are two
/// or more of them, every other case data type by data type (incremental mappings map only
/// what changed, each since its own last pass).
pub(crate) async fn map_together(
    ctx: &Ctx,
    types: &[DataType],
    reference: &RecordSet,
    full: bool,
) -> Vec<(DataType, Result<MapOutcome, SyncError>)> {
    if types.len() >= 2 && types.iter().all(|dt| ORDER_FAMILY.contains(dt)) {
        let mut all_full = full;
        if !all_full {
            all_full = true;
            for dt in types {
                match ctx.cursor(dt.key(), Kind::Mapped).await {
                    Ok(Some(_)) => all_full = false,
                    Ok(None) => {}
                    Err(e) => {
                        let reason = FailureReason::from(&e);
                        let mut e = Some(e);
                        return types
                            .iter()
                            .map(|&dt| {
                                let err = e
                                    .take()
                                    .unwrap_or_else(|| SyncError::Shared(Box::new(reason.clone())));
                                (dt, Err(err))
                            })
                            .collect();
                    }
                }
            }
        }
        if all_full {
            return map_order_family(ctx, types, reference).await;
        }
    }
    let mut out = Vec::new();
    for &dt in types {
        out.push((dt, crate::map::map_type(ctx, dt, reference, full).await));
    }
    out
}
