//! The API's pages of records, served by key from cached key lists (record_pages.rs), equal
//! the plain OFFSET pages of `query_records` for every query, order, page size and page,
//! and stay equal after writes, including writes through another handle on the database.

mod common;

use common::{at, connection, on_both_engines, KEY};
use prestalink_store::{CommerceRecord, MasterKeySource, Query, RecordSet, Store};
use serde_json::{json, Value};

const ORDERS: &str = "commerce-orders";

/// Orders 1..=n written in a scrambled order, with amounts, statuses and gaps in fields.
fn orders(n: u64) -> Vec<CommerceRecord> {
    let mut ids: Vec<u64> = (1..=n).collect();
    // A fixed permutation: writing order differs from every sort order tested.
    ids.sort_by_key(|id| (id * 7919) % 263);
    ids.into_iter()
        .map(|id| {
            let status = ["Paid", "Pending", "Cancelled"][(id % 3) as usize];
            let mut data = json!({
                "id": id.to_string(),
                "totalAmount": ((id * 37) % 101) as f64 / 4.0,
                "status": status,
            });
            if id % 11 == 0 {
                data["status"] = Value::Null;
            }
            if id % 13 == 0 {
                data.as_object_mut().unwrap().remove("totalAmount");
            }
            CommerceRecord {
                id: id.to_string(),
                data,
                source_modified_date: None,
            }
        })
        .collect()
}

fn query(q: Option<&str>, order_by: Option<&str>, page: u32, page_size: u32) -> Query {
    Query {
        query: q.map(str::to_string),
        order_by: order_by.map(str::to_string),
        page,
        page_size,
        ..Query::default()
    }
}

/// The ids of a page served by key, and its total.
async fn keyed(store: &Store, conn: &str, q: &Query) -> (Vec<String>, u64, bool) {
    let page = store.records_page(conn, ORDERS, q).await.unwrap();
    let docs: Vec<Value> = serde_json::from_str(&format!("[{}]", page.joined)).unwrap();
    assert_eq!(docs.len(), page.len);
    let ids = docs
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    (ids, page.total_results, page.has_next)
}

/// The same page by OFFSET (the reference).
async fn offset(store: &Store, conn: &str, q: &Query) -> (Vec<String>, u64, bool) {
    let page = store.query_records(conn, ORDERS, q).await.unwrap();
    let ids: Vec<String> = page.results.iter().map(|r| r.id.clone()).collect();
    let has_next = u64::from(q.page) * u64::from(q.page_size) < page.total_results;
    (ids, page.total_results, has_next)
}

async fn assert_same(store: &Store, conn: &str, q: &Query, engine: &str) {
    let got = keyed(store, conn, q).await;
    let want = offset(store, conn, q).await;
    assert_eq!(got, want, "{engine}: {q:?}");
}

const SHAPES: &[(Option<&str>, Option<&str>)] = &[
    (None, None),
    (Some("totalAmount>10"), None),
    (None, Some("-totalAmount")),
    (None, Some("status,-totalAmount")),
    (Some("status=Paid||totalAmount<5"), Some("totalAmount")),
    (Some("status=Nothing"), None),
];

#[tokio::test]
async fn pages_follow_every_order() {
    on_both_engines("record_pages_orders", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(230), None, at(10))
            .await
            .unwrap();
        for (q, order_by) in SHAPES {
            for size in [1, 7, 100] {
                let total = offset(store, &conn, &query(*q, *order_by, 1, size)).await.1;
                let last = (total as u32).div_ceil(size).max(1) + 1;
                // First pages, a middle one, the last ones and one past the end; for page size
                // 1 a sample, to keep the test short.
                let pages: Vec<u32> = if size == 1 {
                    vec![1, 2, last / 2, last - 1, last]
                } else {
                    (1..=last).collect()
                };
                for page in pages {
                    assert_same(store, &conn, &query(*q, *order_by, page, size), t.engine()).await;
                }
            }
        }
        t
    })
    .await;
}

#[tokio::test]
async fn writes_are_seen_at_once() {
    on_both_engines("record_pages_writes", |t| async move {
        let engine = t.engine();
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(120), None, at(10))
            .await
            .unwrap();
        let shapes = [
            query(None, None, 3, 10),
            query(Some("totalAmount>10"), Some("-totalAmount"), 2, 10),
        ];
        for q in &shapes {
            assert_same(store, &conn, q, engine).await;
        }
        // Deletions before the page shift it.
        store
            .mark_deleted(
                &conn,
                RecordSet::Commerce(ORDERS),
                &["2".into(), "3".into(), "40".into()],
                at(20),
            )
            .await
            .unwrap();
        for q in &shapes {
            assert_same(store, &conn, q, engine).await;
        }
        // A change of the sort field moves a record between pages.
        let moved = CommerceRecord {
            id: "50".into(),
            data: json!({"id": "50", "totalAmount": 9999, "status": "Paid"}),
            source_modified_date: None,
        };
        store
            .upsert_commerce_page(&conn, ORDERS, &[moved], None, at(30))
            .await
            .unwrap();
        for q in &shapes {
            assert_same(store, &conn, q, engine).await;
        }
        // Another handle on the same database (another process, in production) writes: this
        // handle's cached key lists must not serve the old pages.
        let other = t.reopen(MasterKeySource::Bytes(KEY)).await;
        let fresh: Vec<CommerceRecord> = (121..=125)
            .map(|id| CommerceRecord {
                id: id.to_string(),
                data: json!({"id": id.to_string(), "totalAmount": 50, "status": "Paid"}),
                source_modified_date: None,
            })
            .collect();
        other
            .upsert_commerce_page(&conn, ORDERS, &fresh, None, at(40))
            .await
            .unwrap();
        other
            .mark_deleted(&conn, RecordSet::Commerce(ORDERS), &["1".into()], at(41))
            .await
            .unwrap();
        other.close().await;
        for q in &shapes {
            assert_same(store, &conn, q, engine).await;
        }
        let last = query(None, None, 13, 10);
        let (ids, total, has_next) = keyed(store, &conn, &last).await;
        assert_eq!(total, 125 - 4, "{engine}");
        assert_eq!(ids, vec!["125".to_string()], "{engine}");
        assert!(!has_next, "{engine}");
        // Records written again, two of them undeleted by it.
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(10)[..3], None, at(50))
            .await
            .unwrap();
        for q in &shapes {
            assert_same(store, &conn, q, engine).await;
        }
        t
    })
    .await;
}

/// With a freshness bound (what the server uses), a page never waits for a rebuild longer
/// than `wait`: it may come from the list before the write, but the list is rebuilt in the
/// background and the write shows without any further write or wait; a list older than
/// `max_stale` is always waited for; a long enough `wait` gives exact pages.
#[tokio::test]
async fn bounded_staleness_catches_up() {
    use prestalink_store::PageFreshness;
    use std::time::Duration;
    on_both_engines("record_pages_fresh", |t| async move {
        let engine = t.engine();
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(60), None, at(10))
            .await
            .unwrap();
        let q = query(Some("totalAmount>10"), Some("-totalAmount"), 1, 10);
        let fresh_orders = |from: u64, n: u64| -> Vec<CommerceRecord> {
            (from..from + n)
                .map(|id| CommerceRecord {
                    id: id.to_string(),
                    data: json!({"id": id.to_string(), "totalAmount": 1000 + id, "status": "Paid"}),
                    source_modified_date: None,
                })
                .collect()
        };

        // No wait, a long bound: the page after a write may be the old one, then catches up.
        store.set_page_freshness(PageFreshness {
            wait: Duration::ZERO,
            max_stale: Duration::from_secs(60),
        });
        let (_, before, _) = keyed(store, &conn, &q).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &fresh_orders(100, 3), None, at(20))
            .await
            .unwrap();
        let (first, total, _) = keyed(store, &conn, &q).await;
        assert!(total == before || total == before + 3, "{engine}: {total}");
        if total == before + 3 {
            assert_eq!(first[..3], ["102", "101", "100"], "{engine}");
        }
        let mut caught_up = false;
        for _ in 0..100 {
            let (ids, total, _) = keyed(store, &conn, &q).await;
            if total == before + 3 {
                assert_eq!(ids[..3], ["102", "101", "100"], "{engine}");
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(caught_up, "{engine}: the list was never rebuilt");

        // A list older than max_stale is waited for, whatever `wait` says.
        store.set_page_freshness(PageFreshness {
            wait: Duration::ZERO,
            max_stale: Duration::from_millis(1),
        });
        let _ = keyed(store, &conn, &q).await;
        // The write's background rebuild must not count as started within max_stale of the
        // read (millisecond clock).
        tokio::time::sleep(Duration::from_millis(10)).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &fresh_orders(200, 2), None, at(30))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (ids, total, _) = keyed(store, &conn, &q).await;
        assert_eq!(total, before + 5, "{engine}");
        assert_eq!(ids[..2], ["201", "200"], "{engine}");

        // A generous wait: exact at once.
        store.set_page_freshness(PageFreshness {
            wait: Duration::from_secs(30),
            max_stale: Duration::from_secs(60),
        });
        let _ = keyed(store, &conn, &q).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &fresh_orders(300, 1), None, at(40))
            .await
            .unwrap();
        assert_same(store, &conn, &q, engine).await;
        t
    })
    .await;
}

/// With a freshness that allows stale lists (the server's), a write rebuilds the lists read
/// lately in the background, `max_stale / 2` after it: the next reader finds an exact list
/// without starting (or waiting for) a rebuild itself. Lists not read lately, and a store
/// that serves exact pages only, rebuild nothing on writes.
#[tokio::test]
async fn writes_rebuild_lists_read_lately() {
    use prestalink_store::PageFreshness;
    use std::time::Duration;
    on_both_engines("record_pages_moved", |t| async move {
        let engine = t.engine();
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(40), None, at(10))
            .await
            .unwrap();
        let q = query(Some("totalAmount>5"), Some("-totalAmount"), 1, 5);
        let more = |from: u64| -> Vec<CommerceRecord> {
            (from..from + 2)
                .map(|id| CommerceRecord {
                    id: id.to_string(),
                    data: json!({"id": id.to_string(), "totalAmount": 1000 + id}),
                    source_modified_date: None,
                })
                .collect()
        };
        // Exact pages (the store's default): a write starts no rebuild.
        let (_, before, _) = keyed(store, &conn, &q).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &more(100), None, at(20))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(store.key_list_rebuilds().1, 0, "{engine}");
        let (ids, total, _) = keyed(store, &conn, &q).await;
        assert_eq!(
            (total, &ids[..2]),
            (before + 2, &["101".to_string(), "100".to_string()][..]),
            "{engine}"
        );

        store.set_page_freshness(PageFreshness {
            wait: Duration::ZERO,
            max_stale: Duration::from_millis(200),
        });
        let _ = keyed(store, &conn, &q).await;
        let (reads_before, writes_before) = store.key_list_rebuilds();
        store
            .upsert_commerce_page(&conn, ORDERS, &more(200), None, at(30))
            .await
            .unwrap();
        // Long past max_stale: without the write's rebuild this reader would wait for one.
        let mut rebuilt = false;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if store.key_list_rebuilds().1 > writes_before {
                rebuilt = true;
                break;
            }
        }
        assert!(rebuilt, "{engine}: the write rebuilt no list");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (ids, total, _) = keyed(store, &conn, &q).await;
        assert_eq!(total, before + 4, "{engine}");
        assert_eq!(ids[..2], ["201", "200"], "{engine}");
        assert_eq!(
            store.key_list_rebuilds().0,
            reads_before,
            "{engine}: the reader rebuilt"
        );
        assert_same(store, &conn, &q, engine).await;

        // A list not read lately is left alone: another query's list was never read.
        let (_, writes_now) = store.key_list_rebuilds();
        store
            .upsert_commerce_page(&conn, ORDERS, &more(300), None, at(40))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            store.key_list_rebuilds().1,
            writes_now + 1,
            "{engine}: only the read list"
        );
        t
    })
    .await;
}

/// After writes, the filtered lists read lately are rebuilt by merging the written records
/// into the previous list (only those are filtered again; unfiltered lists are read again
/// whole), and every page of every query and order then equals the OFFSET reference:
/// records that enter, leave, move within the order, are deleted or are new. Readers wait
/// for the rebuilds (a long `wait`), so every page checked is served from a list as of the
/// write.
#[tokio::test]
async fn merged_lists_equal_the_reference() {
    use prestalink_store::PageFreshness;
    use std::time::Duration;
    on_both_engines("record_pages_merged", |t| async move {
        let engine = t.engine();
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(60), None, at(10))
            .await
            .unwrap();
        store.set_page_freshness(PageFreshness {
            wait: Duration::from_secs(30),
            max_stale: Duration::from_millis(100),
        });
        let filtered = SHAPES.iter().filter(|(q, _)| q.is_some()).count() as u64;
        for (q, order) in SHAPES {
            let _ = keyed(store, &conn, &query(*q, *order, 1, 7)).await;
        }
        let record = |id: u64, amount: Value, status: &str| CommerceRecord {
            id: id.to_string(),
            data: json!({"id": id.to_string(), "totalAmount": amount, "status": status}),
            source_modified_date: None,
        };
        let steps: Vec<Vec<CommerceRecord>> = vec![
            // Leave `totalAmount>10` and move to the front of `totalAmount` orders.
            (1..=5).map(|id| record(id, json!(0.5), "Paid")).collect(),
            // Enter it, and move to the front of `-totalAmount`.
            (6..=9)
                .map(|id| record(id, json!(500), "Pending"))
                .collect(),
            // New records, one of them with no amount, and an unchanged-looking status.
            vec![
                record(61, json!(11), "Paid"),
                record(62, Value::Null, "Nothing"),
                record(63, json!("7.25"), "Cancelled"),
            ],
        ];
        for (n, step) in steps.iter().enumerate() {
            let merges = store.key_list_merges();
            store
                .upsert_commerce_page(&conn, ORDERS, step, None, at(20 + n as i64))
                .await
                .unwrap();
            wait_for_merges(store, merges + filtered, engine).await;
            assert_every_shape(store, &conn, engine).await;
        }
        // Deletions leave every list that hides deleted records.
        let merges = store.key_list_merges();
        let gone: Vec<String> = ["6", "10", "61"].map(String::from).to_vec();
        store
            .mark_deleted(&conn, RecordSet::Commerce(ORDERS), &gone, at(40))
            .await
            .unwrap();
        wait_for_merges(store, merges + filtered, engine).await;
        assert_every_shape(store, &conn, engine).await;
        t
    })
    .await;
}

/// Pages 1 to 10 of 7 records of every shape equal the OFFSET reference.
async fn assert_every_shape(store: &Store, conn: &str, engine: &str) {
    for (q, order) in SHAPES {
        for page in 1..=10 {
            assert_same(store, conn, &query(*q, *order, page, 7), engine).await;
        }
    }
}

async fn wait_for_merges(store: &Store, want: u64, engine: &str) {
    for _ in 0..200 {
        if store.key_list_merges() >= want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "{engine}: {} merges, expected {want} (rebuilds {:?})",
        store.key_list_merges(),
        store.key_list_rebuilds()
    );
}

/// A list last read long ago but written to only now is only now behind the writes: the
/// first reader after the write is served from it at once (with a `wait` of zero) instead of
/// waiting for the whole rebuild, and the readers after the rebuild see the write.
#[tokio::test]
async fn a_list_is_behind_from_the_first_write_not_from_its_last_read() {
    use prestalink_store::PageFreshness;
    use std::time::Duration;
    on_both_engines("record_pages_behind", |t| async move {
        let engine = t.engine();
        let store = &t.store;
        let conn = connection(store).await;
        store
            .upsert_commerce_page(&conn, ORDERS, &orders(30), None, at(10))
            .await
            .unwrap();
        store.set_page_freshness(PageFreshness {
            wait: Duration::ZERO,
            max_stale: Duration::from_millis(400),
        });
        let q = query(Some("totalAmount>5"), None, 1, 5);
        let (_, before, _) = keyed(store, &conn, &q).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let new = (100..102)
            .map(|id| CommerceRecord {
                id: id.to_string(),
                data: json!({"id": id.to_string(), "totalAmount": 1000}),
                source_modified_date: None,
            })
            .collect::<Vec<_>>();
        store
            .upsert_commerce_page(&conn, ORDERS, &new, None, at(20))
            .await
            .unwrap();
        let (_, total, _) = keyed(store, &conn, &q).await;
        assert_eq!(
            total, before,
            "{engine}: served from the previous list at once"
        );
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if keyed(store, &conn, &q).await.1 == before + 2 {
                assert_same(store, &conn, &q, engine).await;
                return t;
            }
        }
        panic!("{engine}: the write never reached the list");
    })
    .await;
}
