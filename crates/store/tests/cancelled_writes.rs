//! A write cancelled half-way (an API client that disconnects, a `select!`, a timeout, a sync
//! stopped with its worker) leaves nothing behind: its connection goes back to the pool
//! outside any transaction, so the next write on it is committed and seen by others.
//!
//! On PostgreSQL, sqlx (0.8.6 and 0.9.1) counts a transaction only once the server has
//! answered `BEGIN`: a write cancelled in that window gave its connection back inside a
//! transaction nothing ended, and single statements run on it afterwards were never
//! committed (transact-rs/sqlx#4393; the pull operation's update that hung `link_page`).

mod common;

use std::time::Duration;

use common::{at, connection, on_both_engines, Location, KEY};
use prestalink_store::{CommerceRecord, MasterKeySource, Store, StoreOptions};
use serde_json::json;

fn order(id: u32) -> CommerceRecord {
    CommerceRecord {
        id: id.to_string(),
        data: json!({"id": id.to_string(), "totalAmount": f64::from(id), "status": "Paid"}),
        source_modified_date: None,
    }
}

/// The test's database through a pool of one connection, so that the write after a
/// cancelled one runs on the connection the cancelled one gave back.
async fn one_connection(location: &Location) -> Store {
    let options = |schema: Option<String>| StoreOptions {
        master_key: MasterKeySource::Bytes(KEY),
        postgres_schema: schema,
        max_connections: Some(1),
        ..Default::default()
    };
    match location {
        Location::Sqlite { path, .. } => Store::open_with(path.to_str().unwrap(), options(None)),
        Location::Postgres { url, schema } => Store::open_with(url, options(Some(schema.clone()))),
    }
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_cancelled_at_any_point_leave_no_transaction_open() {
    on_both_engines("cancelled_writes", |t| async move {
        let conn = connection(&t.store).await;
        let store = one_connection(&t.location).await;
        let mut cancelled = 0;
        for i in 0..400u32 {
            // Cancelled after 0 to 2 ms: before, during and after the BEGIN round trip.
            let wait = Duration::from_micros(u64::from(i % 100) * 20);
            let page = [order(i % 40)];
            let write =
                store.upsert_commerce_page(&conn, "commerce-orders", &page, None, at(i.into()));
            if tokio::time::timeout(wait, write).await.is_err() {
                cancelled += 1;
            }
            // A single statement on the same connection: committed at once, seen by
            // another pool.
            let company = tokio::time::timeout(
                Duration::from_secs(20),
                store.create_company(&format!("after write {i}"), at(1_000)),
            )
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{}: a write waited behind a transaction left open",
                    t.engine()
                )
            })
            .unwrap();
            let seen = t.store.get_company(&company.id).await.unwrap();
            assert!(
                seen.is_some(),
                "{}: the company written after write {i} is not committed (its connection was \
                 left inside a transaction)",
                t.engine()
            );
        }
        assert!(cancelled > 0, "{}: no write was cancelled", t.engine());
        store.close().await;
        t
    })
    .await;
}
