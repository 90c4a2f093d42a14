//! kill -9 at random moments while pages are written: each restart resumes from the
//! checkpoint saved with the last committed page, and the end result equals a clean run.
//!
//! The writer runs in a child process (this test binary, filtered to the ignored
//! `crash_writer_child` entry, which does nothing unless the parent's environment is set).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{at, connection, on_both_engines, Location, TestStore};
use prestalink_store::{
    Checkpoint, CommerceRecord, MasterKeySource, PageWrite, Query, RawRecord, RecordSet, Store,
    StoreOptions, SyncCounts, SyncStatus,
};
use rand::Rng;
use serde_json::{json, Value};

const TOTAL: u32 = 4000;
const PAGE: u32 = 40;
const ENV_DB: &str = "PRESTALINK_CRASH_DB";
const ENV_SCHEMA: &str = "PRESTALINK_CRASH_SCHEMA";
const ENV_CONN: &str = "PRESTALINK_CRASH_CONNECTION";

/// The "shop": deterministic records by id, about 1 KB each.
fn source(id: u32) -> (RawRecord, CommerceRecord) {
    let lines: Vec<Value> = (0..(id % 5 + 1))
        .map(|l| json!({"id": id * 10 + l, "product_name": format!("Product {l} of order {id}"), "qty": l + 1}))
        .collect();
    let raw = json!({"id": id, "reference": format!("REF{id:06}"), "total_paid": format!("{}.{:02}", id * 3, id % 100),
                     "order_rows": lines, "padding": "x".repeat(600)});
    let commerce = json!({"id": id.to_string(), "orderNumber": format!("REF{id:06}"),
                          "totalAmount": f64::from(id * 3) + f64::from(id % 100) / 100.0,
                          "orderLineItems": lines.len()});
    (
        RawRecord {
            parent_key: None,
            source_id: id.to_string(),
            data: raw,
        },
        CommerceRecord {
            id: id.to_string(),
            data: commerce,
            source_modified_date: None,
        },
    )
}

/// What the sync engine does per page: read after the checkpoint, write page + checkpoint.
/// `pause` stands for the time a real sync waits on the shop between pages.
async fn sync_to_end(store: &Store, conn: &str, pause: Duration) {
    store
        .interrupt_running_runs(conn, chrono::Utc::now())
        .await
        .unwrap();
    let run = store
        .start_sync_run(conn, "run", "commerce-orders", chrono::Utc::now())
        .await
        .unwrap();
    let mut counts = SyncCounts::default();
    loop {
        let checkpoint = store.get_checkpoint(conn, "orders", "full").await.unwrap();
        let after: u32 = checkpoint
            .and_then(|c| c.last_id)
            .map(|id| id.parse().unwrap())
            .unwrap_or(0);
        if after >= TOTAL {
            break;
        }
        let last = (after + PAGE).min(TOTAL);
        let (raw, commerce): (Vec<_>, Vec<_>) = (after + 1..=last).map(source).unzip();
        let mut next = Checkpoint::new("orders", "full");
        next.last_id = Some(last.to_string());
        next.cursor = Some(json!({"pageSize": PAGE}));
        let page = PageWrite {
            raw: vec![("orders", &raw)],
            commerce: vec![("commerce-orders", &commerce)],
            checkpoints: vec![&next],
        };
        let stats = store
            .write_page(conn, &page, chrono::Utc::now())
            .await
            .unwrap();
        counts.records_read += raw.len() as i64;
        counts.records_written += stats.commerce.written() as i64;
        counts.requests += 1;
        store
            .record_sync_progress(run, &counts, chrono::Utc::now())
            .await
            .unwrap();
        tokio::time::sleep(pause).await;
    }
    store
        .finish_sync_run(
            run,
            SyncStatus::Completed,
            &counts,
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
}

/// Entry point of the child process; a no-op when not started by the parent test.
#[tokio::test]
#[ignore = "started by killed_writers_resume_to_the_same_data as a child process"]
async fn crash_writer_child() {
    let (Ok(db), Ok(conn)) = (std::env::var(ENV_DB), std::env::var(ENV_CONN)) else {
        return;
    };
    let options = StoreOptions {
        master_key: MasterKeySource::None,
        postgres_schema: std::env::var(ENV_SCHEMA).ok(),
        ..Default::default()
    };
    let store = Store::open_with(&db, options).await.unwrap();
    sync_to_end(&store, &conn, Duration::from_millis(6)).await;
}

/// Every commerce record's id, hash and data without `modifiedDate`, plus the raw hashes.
async fn snapshot(store: &Store, conn: &str) -> (Vec<(String, String, Value)>, Vec<String>) {
    let query = Query {
        page_size: 5000,
        ..Query::default()
    };
    let page = store
        .query_records(conn, "commerce-orders", &query)
        .await
        .unwrap();
    let commerce = page
        .results
        .into_iter()
        .map(|mut r| {
            r.data.as_object_mut().unwrap().remove("modifiedDate");
            (r.id, r.content_hash, r.data)
        })
        .collect();
    let mut raw = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = store
            .list_raw(conn, "orders", after.as_deref(), 500)
            .await
            .unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.source_id.clone());
        raw.extend(
            batch
                .into_iter()
                .map(|r| format!("{}:{}", r.source_id, r.content_hash)),
        );
    }
    (commerce, raw)
}

#[tokio::test]
async fn killed_writers_resume_to_the_same_data() {
    on_both_engines("crash_resume", |t: TestStore| async move {
        let conn = connection(&t.store).await;
        let (db, schema) = match &t.location {
            Location::Sqlite { path, .. } => (path.display().to_string(), None),
            Location::Postgres { url, schema } => (url.clone(), Some(schema.clone())),
        };
        let mut kills = 0;
        let mut mid_run_kills = 0;
        let mut progress = None;
        let mut rng = rand::thread_rng();
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "writer never finished"
            );
            let mut command = Command::new(std::env::current_exe().unwrap());
            command
                .args([
                    "crash_writer_child",
                    "--exact",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env(ENV_DB, &db)
                .env(ENV_CONN, &conn)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Some(schema) = &schema {
                command.env(ENV_SCHEMA, schema);
            }
            let mut child = command.spawn().unwrap();
            // Early rounds die quickly; later ones get longer so the run ends.
            let budget = rng.gen_range(30..120) + kills * 20;
            std::thread::sleep(Duration::from_millis(budget));
            match child.try_wait().unwrap() {
                Some(status) => {
                    assert!(status.success(), "writer failed on {}", t.engine());
                    break;
                }
                None => {
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    kills += 1;
                    // A kill between the first and the last page is a crash mid-run.
                    let now = t
                        .store
                        .get_checkpoint(&conn, "orders", "full")
                        .await
                        .unwrap()
                        .and_then(|c| c.last_id);
                    if now != progress && now.as_deref() != Some(&*TOTAL.to_string()) {
                        mid_run_kills += 1;
                    }
                    eprintln!("kill {kills} after {budget} ms at checkpoint {now:?}");
                    progress = now;
                }
            }
        }
        assert!(
            mid_run_kills >= 2,
            "only {mid_run_kills} of {kills} kills fell mid-run: no crash was exercised"
        );
        let checkpoint = t
            .store
            .get_checkpoint(&conn, "orders", "full")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(checkpoint.last_id, Some(TOTAL.to_string()));
        let ids = t
            .store
            .list_ids(&conn, RecordSet::Commerce("commerce-orders"), false)
            .await
            .unwrap();
        assert_eq!(ids.len(), TOTAL as usize);
        let status = t.store.data_status(&conn).await.unwrap();
        assert_eq!(status[0].current_status, SyncStatus::Completed);

        // A clean, uninterrupted run of the same shop, under another company.
        let company = t.store.create_company("Clean", at(0)).await.unwrap();
        let clean = t
            .store
            .create_or_get_connection(
                &company.id,
                "https://clean.example",
                "CLEANCLEANCLEANCLEANCLEANCLEAN12",
                at(0),
            )
            .await
            .unwrap()
            .id;
        sync_to_end(&t.store, &clean, Duration::ZERO).await;
        let (crashed_commerce, crashed_raw) = snapshot(&t.store, &conn).await;
        let (clean_commerce, clean_raw) = snapshot(&t.store, &clean).await;
        assert_eq!(crashed_commerce.len(), TOTAL as usize);
        assert!(
            crashed_commerce == clean_commerce,
            "commerce records differ on {}",
            t.engine()
        );
        assert!(
            crashed_raw == clean_raw,
            "raw records differ on {}",
            t.engine()
        );
        eprintln!(
            "{}: {kills} kills ({mid_run_kills} mid-run), resumed to identical data",
            t.engine()
        );
        t
    })
    .await;
}
