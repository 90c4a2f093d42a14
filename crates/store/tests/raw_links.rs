//! Raw records by parent key, by id list and by change time (what mapping reads).

mod common;

use common::{at, connection, on_both_engines};
use prestalink_store::{RawKey, RawRecord, RecordSet};
use serde_json::json;

fn detail(id: u32, order: u32) -> RawRecord {
    RawRecord {
        source_id: id.to_string(),
        parent_key: Some(order.to_string()),
        data: json!({"id": id, "id_order": order, "product_quantity": id % 3 + 1}),
    }
}

#[tokio::test]
async fn raw_records_are_found_by_parent_id_list_and_change_time() {
    on_both_engines("raw_links", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        // Order 1 has details 1, 2, 10; order 2 has 3; order 3 has none.
        let page = vec![detail(10, 1), detail(1, 1), detail(2, 1), detail(3, 2)];
        store
            .upsert_raw_page(&conn, "order_details", &page, None, at(10))
            .await
            .unwrap();
        let other = vec![RawRecord {
            source_id: "1".into(),
            parent_key: Some("1".into()),
            data: json!({"id": 1}),
        }];
        store
            .upsert_raw_page(&conn, "order_payments", &other, None, at(10))
            .await
            .unwrap();

        let of_order_1 = store
            .list_raw_by_parent(&conn, "order_details", &["1".to_string(), "3".to_string()])
            .await
            .unwrap();
        let ids: Vec<_> = of_order_1.iter().map(|r| r.source_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "10"], "{}", t.engine());
        assert!(of_order_1
            .iter()
            .all(|r| r.parent_key.as_deref() == Some("1")));
        assert!(store
            .list_raw_by_parent(&conn, "order_details", &[])
            .await
            .unwrap()
            .is_empty());

        let many = store
            .get_raw_many(
                &conn,
                "order_details",
                &["3".to_string(), "10".to_string(), "404".to_string()],
            )
            .await
            .unwrap();
        let ids: Vec<_> = many.iter().map(|r| r.source_id.as_str()).collect();
        assert_eq!(ids, ["3", "10"]);
        assert_eq!(many[0].data["id_order"], json!(2));

        // Detail 2 changes, detail 3 is deleted: both are "changed since" 10 s.
        store
            .upsert_raw_page(
                &conn,
                "order_details",
                &[
                    detail(2, 1),
                    RawRecord {
                        data: json!({"id": 2, "id_order": 1, "product_quantity": 9}),
                        ..detail(2, 1)
                    },
                ],
                None,
                at(20),
            )
            .await
            .unwrap();
        store
            .mark_deleted(
                &conn,
                RecordSet::Raw("order_details"),
                &["3".to_string()],
                at(30),
            )
            .await
            .unwrap();
        let changed = store
            .list_raw_changed_since(&conn, "order_details", "2025-01-01T00:00:10.000Z", None, 10)
            .await
            .unwrap();
        let ids: Vec<_> = changed
            .iter()
            .map(|r| (r.source_id.as_str(), r.deleted))
            .collect();
        assert_eq!(ids, [("2", false), ("3", true)], "{}", t.engine());
        let after = store
            .list_raw_changed_since(
                &conn,
                "order_details",
                "2025-01-01T00:00:10.000Z",
                Some("2"),
                10,
            )
            .await
            .unwrap();
        assert_eq!(after.len(), 1);
        let live = store
            .list_raw_ids_by_parent(&conn, "order_details", &["1".to_string(), "2".to_string()])
            .await
            .unwrap();
        assert_eq!(live, ["1", "2", "10"]);

        // The keys-only readers see the same records as the full ones, in the same order,
        // with the same parents and deletion marks.
        let keys = |records: &[prestalink_store::StoredRaw]| -> Vec<RawKey> {
            records
                .iter()
                .map(|r| RawKey {
                    source_id: r.source_id.clone(),
                    parent_key: r.parent_key.clone(),
                    deleted: r.deleted,
                })
                .collect()
        };
        for after in [None, Some("2")] {
            let changed = store
                .list_raw_changed_since(
                    &conn,
                    "order_details",
                    "2025-01-01T00:00:10.000Z",
                    after,
                    10,
                )
                .await
                .unwrap();
            let changed_keys = store
                .list_raw_keys_changed_since(
                    &conn,
                    "order_details",
                    "2025-01-01T00:00:10.000Z",
                    after,
                    10,
                )
                .await
                .unwrap();
            assert_eq!(changed_keys, keys(&changed), "{}", t.engine());
        }
        let parents = ["1".to_string(), "2".to_string(), "3".to_string()];
        let by_parent = store
            .list_raw_by_parent(&conn, "order_details", &parents)
            .await
            .unwrap();
        let key_list = store
            .list_raw_keys_by_parent(&conn, "order_details", &parents)
            .await
            .unwrap();
        assert_eq!(key_list, keys(&by_parent), "{}", t.engine());
        assert!(key_list.iter().any(|k| k.deleted), "detail 3 is deleted");
        assert!(store
            .list_raw_keys_by_parent(&conn, "order_details", &[])
            .await
            .unwrap()
            .is_empty());

        // Hashes, deletion marks and one field of the records asked for, without their data.
        let asked = [
            "3".to_string(),
            "10".to_string(),
            "2".to_string(),
            "404".to_string(),
        ];
        let full = store
            .get_raw_many(&conn, "order_details", &asked)
            .await
            .unwrap();
        let hashes = store
            .list_raw_hashes(&conn, "order_details", &asked, "id_order")
            .await
            .unwrap();
        let ids: Vec<_> = hashes.iter().map(|h| h.source_id.as_str()).collect();
        assert_eq!(ids, ["2", "3", "10"], "{}", t.engine());
        for (h, r) in hashes.iter().zip(&full) {
            assert_eq!(h.source_id, r.source_id);
            assert_eq!(h.content_hash, r.content_hash, "{}", t.engine());
            assert_eq!(h.deleted, r.deleted);
        }
        assert!(hashes.iter().all(|h| h.field.is_none()), "no fields object");
        let order = RawRecord {
            source_id: "7".into(),
            parent_key: None,
            data: json!({"fields": {"id": "7", "date_upd": "2025-01-02 03:04:05"}}),
        };
        store
            .upsert_raw_page(&conn, "orders", &[order], None, at(40))
            .await
            .unwrap();
        let dated = store
            .list_raw_hashes(&conn, "orders", &["7".to_string()], "date_upd")
            .await
            .unwrap();
        assert_eq!(dated.len(), 1);
        assert_eq!(
            dated[0].field.as_deref(),
            Some("2025-01-02 03:04:05"),
            "{}",
            t.engine()
        );
        assert!(store
            .list_raw_hashes(&conn, "order_details", &asked, "id_order; DROP")
            .await
            .is_err());
        t
    })
    .await;
}

/// A full read's deletion check: the ids of a range, or only those written before the
/// read began (what it wrote, it received).
#[tokio::test]
async fn ids_in_a_range_and_those_gone_among_rows_written_before_an_instant() {
    on_both_engines("raw_ids_before", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let early: Vec<RawRecord> = (1..=12).map(|i| detail(i, 1)).collect();
        store
            .upsert_raw_page(&conn, "order_details", &early, None, at(10))
            .await
            .unwrap();
        // 3, 5 and 11 rewritten later (changed), 20 added later; 7 deleted.
        let later = vec![detail(3, 2), detail(5, 2), detail(11, 2), detail(20, 2)];
        store
            .upsert_raw_page(&conn, "order_details", &later, None, at(20))
            .await
            .unwrap();
        store
            .mark_deleted(
                &conn,
                RecordSet::Raw("order_details"),
                &["7".into()],
                at(20),
            )
            .await
            .unwrap();
        let sorted = |mut v: Vec<String>| {
            v.sort_by_key(|s| s.parse::<u32>().unwrap());
            v
        };
        let range = store
            .list_raw_ids_in_range(&conn, "order_details", Some("2"), Some("11"))
            .await
            .unwrap();
        assert_eq!(
            range,
            ["3", "4", "5", "6", "8", "9", "10", "11"],
            "{}",
            t.engine()
        );
        // The shop still has the even ids: of the rows written before 15 s, the odd ones
        // are gone (3, 5 and 11 were written later, 7 is already deleted).
        let written_before = prestalink_store::format_timestamp(at(15));
        let gone = |after: Option<&'static str>| {
            let store = store.clone();
            let conn = conn.clone();
            let written_before = written_before.clone();
            async move {
                sorted(
                    store
                        .raw_ids_gone(&conn, "order_details", after, &written_before, |id| {
                            id.parse::<u32>().unwrap() % 2 == 0
                        })
                        .await
                        .unwrap(),
                )
            }
        };
        assert_eq!(gone(None).await, ["1", "9"], "{}", t.engine());
        assert_eq!(gone(Some("1")).await, ["9"], "{}", t.engine());
        assert_eq!(
            gone(Some("9")).await,
            Vec::<String>::new(),
            "{}",
            t.engine()
        );
        t
    })
    .await;
}

/// Mapping's lookups of a page's children (by parent key) and of records by id use their
/// indexes on a database without statistics, as every database is through its first sync:
/// SQLite otherwise walked the natural-order index to save a sort, visiting every row of
/// the resource for each page (quadratic: 76 of 130 CPU s of a first sync of 100,000 orders).
#[tokio::test]
async fn lookups_by_parent_and_by_id_use_their_indexes_without_statistics() {
    on_both_engines("raw_lookup_plans", |t| async move {
        let conn = connection(&t.store).await;
        let page: Vec<RawRecord> = (1..=300).map(|i| detail(i, i / 3)).collect();
        t.store
            .upsert_raw_page(&conn, "order_details", &page, None, at(10))
            .await
            .unwrap();
        // A new database: no statistics (`PRAGMA optimize` runs when a store closes).
        let plans = t.store.explain_raw_lookups().await.unwrap();
        assert_eq!(plans.len(), 2);
        if t.engine() == "sqlite" {
            assert!(plans[0].contains("raw_records_parent"), "{}", plans[0]);
            assert!(
                plans[1].contains("sqlite_autoindex_raw_records_1"),
                "{}",
                plans[1]
            );
            for plan in &plans {
                assert!(!plan.contains("raw_records_natural"), "{plan}");
            }
        } else {
            // PostgreSQL plans with its own statistics; the plans are there to read.
            assert!(plans.iter().all(|p| p.contains("raw_records")), "{plans:?}");
        }
        t
    })
    .await;
}
