//! Upsert and query throughput of the store, printed as a small report.
//!
//! ```text
//! cargo run --release -p prestalink-store --example upsert_bench [-- DATABASE [RECORDS]]
//! ```
//! DATABASE is a SQLite path (default: a temporary file) or a `postgres://` URL (a
//! temporary schema is created and dropped). Pages of 500 commerce records of about 2 KB
//! JSON are written with their checkpoint, as a sync writes them: first new, then
//! unchanged (the content-hash skip), then all changed.

use std::time::Instant;

use chrono::Utc;
use prestalink_store::{
    Checkpoint, CommerceRecord, MasterKeySource, PageWrite, Query, Store, StoreOptions,
};
use serde_json::{json, Value};

const PAGE: usize = 500;

fn order(id: usize, version: u32) -> CommerceRecord {
    let lines: Vec<Value> = (0..4)
        .map(|l| {
            json!({
                "id": format!("{}", id * 10 + l),
                "quantity": l + 1,
                "unitPrice": 12.5 + l as f64,
                "totalAmount": (12.5 + l as f64) * (l + 1) as f64 * 1.2,
                "taxPercentage": 20,
                "productRef": {"id": format!("{}", 100 + l), "name": format!("Hummingbird printed t-shirt variant {l}")},
                "productVariantRef": {"id": format!("{}", 1000 + l), "name": "Size - S, Color - White"},
                "taxes": [{"taxComponentRef": {"id": "1", "name": "TVA FR 20%"}, "rate": 0.2}]
            })
        })
        .collect();
    let data = json!({
        "id": id.to_string(),
        "orderNumber": format!("XKBKNABJK{id}"),
        "country": "FRA",
        "currency": "EUR",
        "status": if matches!(id % 3, 0) { "Pending" } else { "Paid" },
        "totalAmount": (id % 1000) as f64 + 0.5 + f64::from(version),
        "totalTaxAmount": 12.3,
        "totalDiscount": 0,
        "customerRef": {"id": format!("{}", id % 500), "name": "Jane Doe"},
        "locationRef": {"id": "1"},
        "orderLineItems": lines,
        "payments": [{"id": format!("{id}"), "amount": 61.8, "currency": "EUR", "type": "Card", "status": "Paid"}],
        "serviceCharges": [{"type": "Shipping", "totalAmount": 8.4, "description": "My carrier"}],
        "createdDate": "2024-05-01T10:00:00+02:00",
        "sourceModifiedDate": "2024-05-02T10:00:00+02:00",
        "supplementalData": {"conversion_rate": 1.0, "version": version}
    });
    CommerceRecord {
        id: id.to_string(),
        data,
        source_modified_date: None,
    }
}

async fn pass(store: &Store, conn: &str, total: usize, version: u32, label: &str) {
    let started = Instant::now();
    let mut written = 0;
    for first in (0..total).step_by(PAGE) {
        let records: Vec<_> = (first..(first + PAGE).min(total))
            .map(|i| order(i + 1, version))
            .collect();
        let mut checkpoint = Checkpoint::new("orders", "full");
        checkpoint.last_id = Some(records.last().unwrap().id.clone());
        let page = PageWrite {
            commerce: vec![("commerce-orders", &records)],
            checkpoints: vec![&checkpoint],
            ..Default::default()
        };
        written += store
            .write_page(conn, &page, Utc::now())
            .await
            .unwrap()
            .commerce
            .written();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  {label:<22} {total:>7} records in {secs:>6.2} s = {:>8.0} records/s ({written} written)",
        total as f64 / secs
    );
}

async fn timed_query(store: &Store, conn: &str, query: Query, label: &str) {
    let started = Instant::now();
    let page = store
        .query_records(conn, "commerce-orders", &query)
        .await
        .unwrap();
    println!(
        "  {label:<46} {:>7.1} ms ({} of {} results)",
        started.elapsed().as_secs_f64() * 1000.0,
        page.results.len(),
        page.total_results
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let location = args.next();
    let total: usize = args.next().map(|n| n.parse().unwrap()).unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let schema = format!("bench_{}", std::process::id());
    let (url, options) = match &location {
        Some(url) if url.starts_with("postgres") => (
            url.clone(),
            StoreOptions {
                master_key: MasterKeySource::Bytes([7; 32]),
                postgres_schema: Some(schema.clone()),
                ..Default::default()
            },
        ),
        other => (
            other
                .clone()
                .unwrap_or_else(|| dir.path().join("bench.db").to_string_lossy().into_owned()),
            StoreOptions {
                master_key: MasterKeySource::Bytes([7; 32]),
                ..Default::default()
            },
        ),
    };
    let store = Store::open_with(&url, options).await.unwrap();
    let company = store.create_company("Bench", Utc::now()).await.unwrap();
    let conn = store
        .create_or_get_connection(
            &company.id,
            &format!("https://bench-{}.example", std::process::id()),
            "BENCHBENCHBENCHBENCHBENCHBENCH12",
            Utc::now(),
        )
        .await
        .unwrap()
        .id;
    let size = order(1, 0).data.to_string().len();
    println!(
        "store upsert benchmark: {:?}, {total} commerce records of {size} bytes JSON, pages of {PAGE} with a checkpoint",
        store.dialect()
    );
    pass(&store, &conn, total, 0, "insert (new)").await;
    pass(&store, &conn, total, 0, "unchanged (skipped)").await;
    pass(&store, &conn, total, 1, "update (all changed)").await;
    let started = Instant::now();
    store.refresh_statistics().await.unwrap();
    println!(
        "  refresh_statistics     {:>7.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let q = |query: &str, order: Option<&str>| Query {
        query: Some(query.to_string()).filter(|q| !q.is_empty()),
        order_by: order.map(str::to_string),
        ..Query::default()
    };
    timed_query(&store, &conn, q("", None), "page 1, default order").await;
    timed_query(
        &store,
        &conn,
        q("status=Paid&&totalAmount>500", None),
        "status=Paid&&totalAmount>500",
    )
    .await;
    timed_query(
        &store,
        &conn,
        q("customerRef.id=42", Some("-totalAmount")),
        "customerRef.id=42, orderBy -totalAmount",
    )
    .await;
    timed_query(
        &store,
        &conn,
        q("orderNumber~NABJK12", None),
        "orderNumber~NABJK12",
    )
    .await;
    store.close().await;
    // PRESTALINK_BENCH_KEEP=1 keeps the PostgreSQL schema for inspection (EXPLAIN …).
    if url.starts_with("postgres") && std::env::var_os("PRESTALINK_BENCH_KEEP").is_none() {
        use sqlx::Connection as _;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut c)
            .await
            .unwrap();
    }
}
