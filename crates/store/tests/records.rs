//! Idempotent page writes, checkpoints in the same transaction, deletion marks.

mod common;

use common::{at, connection, on_both_engines};
use prestalink_store::{
    Checkpoint, CommerceRecord, PageWrite, RawRecord, RecordSet, StoreError, UpsertStats,
};
use serde_json::{json, Value};

fn order(id: u32, total: f64) -> CommerceRecord {
    CommerceRecord {
        id: id.to_string(),
        data: json!({"id": id.to_string(), "totalAmount": total, "status": "Paid",
                     "sourceModifiedDate": "2024-12-31T10:00:00+01:00"}),
        source_modified_date: None,
    }
}

fn stats(inserted: u64, updated: u64, unchanged: u64) -> UpsertStats {
    UpsertStats {
        inserted,
        updated,
        unchanged,
    }
}

#[tokio::test]
async fn commerce_records_are_written_only_when_their_content_changes() {
    on_both_engines("commerce_idempotent", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let page: Vec<_> = (1..=3).map(|i| order(i, 10.0 * f64::from(i))).collect();
        let s = store
            .upsert_commerce_page(&conn, "commerce-orders", &page, None, at(10))
            .await
            .unwrap();
        assert_eq!(s, stats(3, 0, 0), "{}", t.engine());

        // The same page again, with keys in another order: nothing written.
        let reordered: Vec<_> = page
            .iter()
            .map(|r| {
                let text = format!(
                    r#"{{"status":"Paid","sourceModifiedDate":"2024-12-31T10:00:00+01:00","totalAmount":{},"id":"{}"}}"#,
                    r.data["totalAmount"], r.id
                );
                CommerceRecord {
                    data: serde_json::from_str(&text).unwrap(),
                    ..r.clone()
                }
            })
            .collect();
        let s = store
            .upsert_commerce_page(&conn, "commerce-orders", &reordered, None, at(20))
            .await
            .unwrap();
        assert_eq!(s, stats(0, 0, 3), "{}", t.engine());

        // One changed record: only its modifiedDate moves.
        let mut changed = page.clone();
        changed[1] = order(2, 99.5);
        let s = store
            .upsert_commerce_page(&conn, "commerce-orders", &changed, None, at(30))
            .await
            .unwrap();
        assert_eq!(s, stats(0, 1, 2));
        let one = store.get_record(&conn, "commerce-orders", "1").await.unwrap().unwrap();
        let two = store.get_record(&conn, "commerce-orders", "2").await.unwrap().unwrap();
        assert_eq!(one.modified_date, "2025-01-01T00:00:10.000Z");
        assert_eq!(one.data["modifiedDate"], json!("2025-01-01T00:00:10.000Z"));
        assert_eq!(two.modified_date, "2025-01-01T00:00:30.000Z");
        assert_eq!(two.data["modifiedDate"], json!("2025-01-01T00:00:30.000Z"));
        assert_eq!(two.data["totalAmount"], json!(99.5));
        assert_eq!(two.source_modified_date.as_deref(), Some("2024-12-31T10:00:00+01:00"));
        assert!(!two.deleted);

        // Other data types and connections are separate.
        assert!(store.get_record(&conn, "commerce-customers", "1").await.unwrap().is_none());
        t
    })
    .await;
}

#[tokio::test]
async fn raw_records_keep_their_hash_and_a_page_may_repeat_an_id() {
    on_both_engines("raw_upsert", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let raw = |id: &str, v: Value| RawRecord {
            parent_key: None,
            source_id: id.into(),
            data: v,
        };
        let page = vec![
            raw("7", json!({"id": 7, "reference": "OLD"})),
            raw(
                "8",
                json!({"id": 8, "reference": "B", "associations": {"order_rows": [1, 2]}}),
            ),
            raw("7", json!({"id": 7, "reference": "NEW"})),
        ];
        let s = store
            .upsert_raw_page(&conn, "orders", &page, None, at(1))
            .await
            .unwrap();
        assert_eq!(s, stats(2, 0, 0), "{}", t.engine());
        let seven = store.get_raw(&conn, "orders", "7").await.unwrap().unwrap();
        assert_eq!(seven.data["reference"], json!("NEW"));
        assert_eq!(seven.fetched_at, "2025-01-01T00:00:01.000Z");
        assert_eq!(seven.content_hash.len(), 64);
        let s = store
            .upsert_raw_page(&conn, "orders", &page[..2], None, at(2))
            .await
            .unwrap();
        assert_eq!(s, stats(0, 1, 1));
        let eight = store.get_raw(&conn, "orders", "8").await.unwrap().unwrap();
        assert_eq!(
            eight.fetched_at, "2025-01-01T00:00:01.000Z",
            "unchanged: not rewritten"
        );
        assert_eq!(eight.data["associations"]["order_rows"], json!([1, 2]));
        let seven = store.get_raw(&conn, "orders", "7").await.unwrap().unwrap();
        assert_eq!(seven.data["reference"], json!("OLD"));
        assert_eq!(seven.fetched_at, "2025-01-01T00:00:02.000Z");
        t
    })
    .await;
}

#[tokio::test]
async fn deletions_are_marked_and_undone_when_a_record_comes_back() {
    on_both_engines("deletions", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let page: Vec<_> = (1..=12).map(|i| order(i, 1.0)).collect();
        store
            .upsert_commerce_page(&conn, "commerce-orders", &page, None, at(1))
            .await
            .unwrap();
        let ids = store
            .list_ids(&conn, RecordSet::Commerce("commerce-orders"), false)
            .await
            .unwrap();
        let expected: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected, "natural order: 2 before 10");

        let seen: Vec<String> = (1..=12)
            .filter(|i| i % 3 != 0)
            .map(|i| i.to_string())
            .collect();
        let gone = store
            .mark_deleted_except(&conn, RecordSet::Commerce("commerce-orders"), &seen, at(5))
            .await
            .unwrap();
        assert_eq!(gone, vec!["3", "6", "9", "12"]);
        let live = store
            .list_ids(&conn, RecordSet::Commerce("commerce-orders"), false)
            .await
            .unwrap();
        assert_eq!(live, seen);
        let all = store
            .list_ids(&conn, RecordSet::Commerce("commerce-orders"), true)
            .await
            .unwrap();
        assert_eq!(all.len(), 12);
        let three = store
            .get_record(&conn, "commerce-orders", "3")
            .await
            .unwrap()
            .unwrap();
        assert!(three.deleted);
        assert_eq!(three.modified_date, "2025-01-01T00:00:05.000Z");
        assert_eq!(
            three.data["modifiedDate"],
            json!("2025-01-01T00:00:05.000Z")
        );
        // Marking again changes nothing.
        let again = store
            .mark_deleted(
                &conn,
                RecordSet::Commerce("commerce-orders"),
                &["3".to_string()],
                at(6),
            )
            .await
            .unwrap();
        assert_eq!(again, 0);

        // The same content coming back is an update (it was deleted).
        let s = store
            .upsert_commerce_page(&conn, "commerce-orders", &[order(3, 1.0)], None, at(7))
            .await
            .unwrap();
        assert_eq!(s, stats(0, 1, 0));
        let three = store
            .get_record(&conn, "commerce-orders", "3")
            .await
            .unwrap()
            .unwrap();
        assert!(!three.deleted);

        // Raw records too.
        let raw = vec![RawRecord {
            parent_key: None,
            source_id: "1".into(),
            data: json!({"id": 1}),
        }];
        store
            .upsert_raw_page(&conn, "customers", &raw, None, at(1))
            .await
            .unwrap();
        let n = store
            .mark_deleted(
                &conn,
                RecordSet::Raw("customers"),
                &["1".to_string(), "404".to_string()],
                at(2),
            )
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert!(
            store
                .get_raw(&conn, "customers", "1")
                .await
                .unwrap()
                .unwrap()
                .deleted
        );
        assert!(store
            .list_raw(&conn, "customers", None, 10)
            .await
            .unwrap()
            .is_empty());
        t
    })
    .await;
}

#[tokio::test]
async fn list_raw_pages_through_a_resource_in_id_order() {
    on_both_engines("list_raw", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let page: Vec<_> = [5, 100, 20, 1, 3]
            .iter()
            .map(|i| RawRecord {
                parent_key: None,
                source_id: i.to_string(),
                data: json!({"id": i}),
            })
            .collect();
        store
            .upsert_raw_page(&conn, "products", &page, None, at(1))
            .await
            .unwrap();
        let first = store.list_raw(&conn, "products", None, 2).await.unwrap();
        let ids: Vec<_> = first.iter().map(|r| r.source_id.as_str()).collect();
        assert_eq!(ids, ["1", "3"], "{}", t.engine());
        let rest = store
            .list_raw(&conn, "products", Some("3"), 10)
            .await
            .unwrap();
        let ids: Vec<_> = rest.iter().map(|r| r.source_id.as_str()).collect();
        assert_eq!(ids, ["5", "20", "100"]);
        t
    })
    .await;
}

#[tokio::test]
async fn a_page_and_its_checkpoint_commit_together_or_not_at_all() {
    on_both_engines("page_atomic", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let raw: Vec<_> = (1..=3)
            .map(|i| RawRecord {
                parent_key: None,
                source_id: i.to_string(),
                data: json!({"id": i}),
            })
            .collect();
        let commerce: Vec<_> = (1..=3).map(|i| order(i, 5.0)).collect();
        let mut checkpoint = Checkpoint::new("orders", "full");
        checkpoint.last_id = Some("3".into());
        checkpoint.run_id = Some("run-1".into());
        checkpoint.cursor = Some(json!({"page": 1}));
        let page = PageWrite {
            raw: vec![("orders", &raw)],
            commerce: vec![("commerce-orders", &commerce)],
            checkpoints: vec![&checkpoint],
        };
        let s = store.write_page(&conn, &page, at(1)).await.unwrap();
        assert_eq!(s.raw, stats(3, 0, 0));
        assert_eq!(s.commerce, stats(3, 0, 0));
        let saved = store
            .get_checkpoint(&conn, "orders", "full")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(saved.last_id.as_deref(), Some("3"));
        assert_eq!(saved.cursor, Some(json!({"page": 1})));
        assert_eq!(
            saved.updated_at.as_deref(),
            Some("2025-01-01T00:00:01.000Z")
        );

        // Make the checkpoint write fail after the records were written in the same
        // transaction: the records must not stay.
        match &t.location {
            common::Location::Sqlite { .. } => {
                t.execute(&[
                    "CREATE TRIGGER fail_checkpoint BEFORE UPDATE ON checkpoints \
                             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                ])
                .await
            }
            common::Location::Postgres { .. } => {
                t.execute(&[
                    "CREATE FUNCTION fail_checkpoint() RETURNS trigger LANGUAGE plpgsql AS \
                     $$BEGIN RAISE EXCEPTION 'injected failure'; END$$",
                    "CREATE TRIGGER fail_checkpoint BEFORE UPDATE ON checkpoints \
                     FOR EACH ROW EXECUTE FUNCTION fail_checkpoint()",
                ])
                .await
            }
        }
        let raw2: Vec<_> = (4..=6)
            .map(|i| RawRecord {
                parent_key: None,
                source_id: i.to_string(),
                data: json!({"id": i}),
            })
            .collect();
        let commerce2: Vec<_> = (1..=6).map(|i| order(i, 7.0)).collect();
        let mut checkpoint2 = checkpoint.clone();
        checkpoint2.last_id = Some("6".into());
        let page2 = PageWrite {
            raw: vec![("orders", &raw2)],
            commerce: vec![("commerce-orders", &commerce2)],
            checkpoints: vec![&checkpoint2],
        };
        let err = store.write_page(&conn, &page2, at(2)).await.unwrap_err();
        assert!(matches!(err, StoreError::Database(_)), "{err}");
        assert!(err.to_string().contains("injected failure"), "{err}");
        assert!(
            store.get_raw(&conn, "orders", "4").await.unwrap().is_none(),
            "{}",
            t.engine()
        );
        let one = store
            .get_record(&conn, "commerce-orders", "1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(one.data["totalAmount"], json!(5.0));
        let saved = store
            .get_checkpoint(&conn, "orders", "full")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(saved.last_id.as_deref(), Some("3"));
        t
    })
    .await;
}

#[tokio::test]
async fn checkpoints_are_per_resource_and_kind() {
    on_both_engines("checkpoints", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let mut full = Checkpoint::new("orders", "full");
        full.last_id = Some("10".into());
        let mut incremental = Checkpoint::new("orders", "incremental");
        incremental.watermark_local = Some("2025-01-01 10:00:00".into());
        incremental.watermark_utc = Some("2025-01-01T09:00:00Z".into());
        let customers = Checkpoint::new("customers", "full");
        for c in [&full, &incremental, &customers] {
            store.save_checkpoint(&conn, c, at(1)).await.unwrap();
        }
        full.last_id = Some("20".into());
        store.save_checkpoint(&conn, &full, at(2)).await.unwrap();
        let all = store.list_checkpoints(&conn).await.unwrap();
        let keys: Vec<_> = all
            .iter()
            .map(|c| (c.resource.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("customers", "full"),
                ("orders", "full"),
                ("orders", "incremental")
            ]
        );
        assert_eq!(all[1].last_id.as_deref(), Some("20"));
        assert_eq!(
            all[2].watermark_utc.as_deref(),
            Some("2025-01-01T09:00:00Z")
        );
        assert_eq!(
            store
                .clear_checkpoints(&conn, Some("orders"))
                .await
                .unwrap(),
            2
        );
        assert!(store
            .get_checkpoint(&conn, "orders", "full")
            .await
            .unwrap()
            .is_none());
        assert_eq!(store.clear_checkpoints(&conn, None).await.unwrap(), 1);
        t
    })
    .await;
}

#[tokio::test]
async fn large_pages_are_written_in_chunks() {
    on_both_engines("large_pages", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let page: Vec<_> = (1..=1203).map(|i| order(i, f64::from(i))).collect();
        let s = store
            .upsert_commerce_page(&conn, "commerce-orders", &page, None, at(1))
            .await
            .unwrap();
        assert_eq!(s, stats(1203, 0, 0), "{}", t.engine());
        let s = store
            .upsert_commerce_page(&conn, "commerce-orders", &page, None, at(2))
            .await
            .unwrap();
        assert_eq!(s, stats(0, 0, 1203));
        let counts = store.count_records(&conn).await.unwrap();
        assert_eq!(counts, vec![("commerce-orders".to_string(), 1203)]);
        let seen: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
        let gone = store
            .mark_deleted_except(&conn, RecordSet::Commerce("commerce-orders"), &seen, at(3))
            .await
            .unwrap();
        assert_eq!(gone.len(), 203);
        t
    })
    .await;
}

#[tokio::test]
async fn nul_characters_are_removed_so_a_page_never_fails_on_them() {
    on_both_engines("nul_chars", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let dirty = json!({"id": 1, "name": "Bad\u{0}name", "tags": ["a\u{0}"], "k\u{0}": 1});
        let raw = vec![RawRecord {
            source_id: "1".into(),
            parent_key: None,
            data: dirty.clone(),
        }];
        store
            .upsert_raw_page(&conn, "products", &raw, None, at(1))
            .await
            .unwrap();
        let stored = store
            .get_raw(&conn, "products", "1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.data,
            json!({"id": 1, "name": "Badname", "tags": ["a"], "k": 1})
        );
        let s = store
            .upsert_raw_page(&conn, "products", &raw, None, at(2))
            .await
            .unwrap();
        assert_eq!(s, stats(0, 0, 1), "{}", t.engine());
        let commerce = vec![CommerceRecord {
            id: "1".into(),
            data: dirty,
            source_modified_date: None,
        }];
        let s = store
            .upsert_commerce_page(&conn, "commerce-products", &commerce, None, at(1))
            .await
            .unwrap();
        assert_eq!(s, stats(1, 0, 0));
        let got = store
            .get_record(&conn, "commerce-products", "1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.data["name"], json!("Badname"));
        t
    })
    .await;
}

/// The page size of a SQLite file, read outside the store.
async fn page_size(path: &std::path::Path) -> i64 {
    sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut common::sqlite_connection(path).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn new_sqlite_files_use_large_pages_and_older_files_keep_theirs() {
    // A new file: 32 KiB pages, so a record of a few KB is not an overflow chain.
    let t = common::sqlite_store().await;
    t.store.close().await;
    let common::Location::Sqlite { path, .. } = &t.location else {
        unreachable!("a SQLite store")
    };
    assert_eq!(page_size(path).await, 32768);

    // A file made with SQLite's default 4 KiB pages (as earlier versions did) opens,
    // migrates, takes records and gives them back; its page size does not change.
    let old = path.with_file_name("old.db");
    {
        use sqlx::Connection as _;
        let mut conn = common::sqlite_connection(&old).await;
        for s in [
            "PRAGMA page_size = 4096",
            "PRAGMA journal_mode = WAL",
            "CREATE TABLE made_before (x INTEGER)",
        ] {
            sqlx::query(s).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
    let store = common::open_sqlite(&old).await;
    let conn = connection(&store).await;
    let raw: Vec<RawRecord> = (1..=50)
        .map(|i| RawRecord {
            source_id: i.to_string(),
            parent_key: None,
            data: json!({"fields": {"id": i.to_string(), "note": "x".repeat(6000)}}),
        })
        .collect();
    let s = store
        .upsert_raw_page(&conn, "orders", &raw, None, at(1))
        .await
        .unwrap();
    assert_eq!(s, stats(50, 0, 0));
    let back = store.get_raw(&conn, "orders", "50").await.unwrap().unwrap();
    assert_eq!(back.data, raw[49].data);
    store.close().await;
    assert_eq!(page_size(&old).await, 4096);
}
