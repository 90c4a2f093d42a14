//! The Codat query language, orderBy and paging against real data, with the same expected
//! results on SQLite and PostgreSQL.

mod common;

use common::{at, connection, on_both_engines};
use prestalink_store::{CommerceRecord, Query, RecordSet, Store, StoreError};
use serde_json::json;

const ORDERS: &str = "commerce-orders";

/// Eight orders covering numbers, numeric strings, nesting, booleans, nulls and gaps.
fn orders() -> Vec<CommerceRecord> {
    let rows = vec![
        json!({"id": "1", "status": "Paid", "totalAmount": 120.5, "currency": "EUR",
               "customerRef": {"id": "7", "name": "Ann O'Brien"}, "isGiftCard": false,
               "note": null, "orderNumber": "000123", "amountText": "100.50",
               "createdDate": "2024-01-05T10:00:00+01:00"}),
        json!({"id": "2", "status": "Pending", "totalAmount": 45, "currency": "USD",
               "customerRef": {"id": "8", "name": "Bob Smith"}, "isGiftCard": true,
               "note": "leave at door", "orderNumber": "XKBK", "amountText": "9.99",
               "createdDate": "2024-02-10T08:30:00+01:00"}),
        json!({"id": "3", "status": "Paid", "totalAmount": 300, "currency": "EUR",
               "customerRef": {"id": "7", "name": "Ann O'Brien"}, "isGiftCard": false,
               "note": "50% off_code", "orderNumber": "123", "amountText": "1000",
               "createdDate": "2024-03-01T00:00:00+01:00"}),
        json!({"id": "4", "status": "Cancelled", "totalAmount": 0, "currency": "EUR",
               "customerRef": {"id": "9", "name": "Émile Zola"},
               "createdDate": "2023-12-31T23:59:59+01:00"}),
        json!({"id": "5", "totalAmount": -10.25, "currency": "GBP",
               "customerRef": {"id": "8", "name": "Bob Smith"}, "isGiftCard": false,
               "amountText": "n/a", "createdDate": "2024-02-01T00:00:00+01:00"}),
        json!({"id": "10", "status": "Paid", "totalAmount": 99.99, "currency": "EUR",
               "customerRef": {"id": "10"}, "note": "", "amountText": "+.5",
               "createdDate": "2024-04-01T12:00:00+02:00"}),
        json!({"id": "11", "status": "paid", "totalAmount": 100, "currency": "USD",
               "customerRef": {"id": "7", "name": "ann o'brien"}, "isGiftCard": true,
               "createdDate": "2024-05-01T12:00:00+02:00"}),
        json!({"id": "12", "status": "Pending", "totalAmount": 1000, "currency": "EUR",
               "customerRef": {"id": "8", "name": "Bob Smith"},
               "createdDate": "2024-06-01T12:00:00+02:00"}),
    ];
    rows.into_iter()
        .map(|data| CommerceRecord {
            id: data["id"].as_str().unwrap().to_string(),
            data,
            source_modified_date: None,
        })
        .collect()
}

async fn seeded(store: &Store) -> String {
    let conn = connection(store).await;
    let all = orders();
    // Records 1-5 written first, the rest later: two distinct modifiedDate values.
    store
        .upsert_commerce_page(&conn, ORDERS, &all[..5], None, at(100))
        .await
        .unwrap();
    store
        .upsert_commerce_page(&conn, ORDERS, &all[5..], None, at(200))
        .await
        .unwrap();
    // A deleted order and another data type that must never show up.
    let gone = CommerceRecord {
        id: "13".into(),
        data: json!({"id": "13", "status": "Paid", "totalAmount": 5}),
        source_modified_date: None,
    };
    store
        .upsert_commerce_page(&conn, ORDERS, &[gone], None, at(200))
        .await
        .unwrap();
    store
        .mark_deleted(&conn, RecordSet::Commerce(ORDERS), &["13".into()], at(300))
        .await
        .unwrap();
    let customer = CommerceRecord {
        id: "1".into(),
        data: json!({"id": "1", "status": "Paid"}),
        source_modified_date: None,
    };
    store
        .upsert_commerce_page(&conn, "commerce-customers", &[customer], None, at(1))
        .await
        .unwrap();
    conn
}

async fn ids(store: &Store, conn: &str, query: Query) -> Vec<String> {
    let page = store.query_records(conn, ORDERS, &query).await.unwrap();
    page.results.into_iter().map(|r| r.id).collect()
}

fn filter(q: &str) -> Query {
    Query {
        query: Some(q.to_string()),
        ..Query::default()
    }
}

fn order_by(o: &str) -> Query {
    Query {
        order_by: Some(o.to_string()),
        ..Query::default()
    }
}

/// (query, ids expected in default order)
const CASES: &[(&str, &[&str])] = &[
    ("status=Paid", &["1", "3", "10"]),
    ("status=\"Paid\"", &["1", "3", "10"]),
    ("status!=Paid", &["2", "4", "5", "11", "12"]),
    ("totalAmount>100", &["1", "3", "12"]),
    ("totalAmount>=100", &["1", "3", "11", "12"]),
    ("totalAmount<0", &["5"]),
    ("totalAmount<=0", &["4", "5"]),
    ("totalAmount=45", &["2"]),
    ("totalAmount=45.0", &["2"]),
    ("totalAmount<50 || currency=USD", &["2", "4", "5", "11"]),
    (
        "{status=Paid||status=Pending}&&customerRef.id=7",
        &["1", "3"],
    ),
    (
        "status=Paid||status=Pending&&customerRef.id=8",
        &["1", "2", "3", "10", "12"],
    ),
    (
        "{ status = Paid || status = Pending } && { currency = EUR }",
        &["1", "3", "10", "12"],
    ),
    ("customerRef.name~brien", &["1", "3", "11"]),
    ("customerRef.name~'O\\'B'", &["1", "3", "11"]),
    ("note~%", &["3"]),
    ("note~_", &["3"]),
    ("note~door", &["2"]),
    ("orderNumber=000123", &["1", "3"]),
    ("orderNumber='000123'", &["1"]),
    ("orderNumber~123", &["1", "3"]),
    ("amountText>99", &["1", "3"]),
    ("amountText<1", &["10"]),
    ("amountText=n/a", &["5"]),
    ("isGiftCard=true", &["2", "11"]),
    ("isGiftCard=false", &["1", "3", "5"]),
    ("isGiftCard!=true", &["1", "3", "4", "5", "10", "12"]),
    ("note=null", &["1", "4", "5", "11", "12"]),
    ("note!=null", &["2", "3", "10"]),
    ("note=''", &["10"]),
    ("createdDate>2024-02-01", &["2", "3", "5", "10", "11", "12"]),
    (
        "createdDate>=2024-02-01T00:00:00+01:00&&createdDate<2024-04",
        &["2", "3", "5"],
    ),
    ("modifiedDate>2025-01-01T00:02:00Z", &["10", "11", "12"]),
    ("modifiedDate<2025-01-01T00:01:40.000Z", &[]),
    (
        "modifiedDate<=2025-01-01T00:01:40.000Z",
        &["1", "2", "3", "4", "5"],
    ),
    ("id>4", &["5", "10", "11", "12"]),
    ("id=10", &["10"]),
    ("id~1", &["1", "10", "11", "12"]),
    ("customerRef.id>=9", &["4", "10"]),
    ("missing.field=1", &[]),
    (
        "missing.field!=1",
        &["1", "2", "3", "4", "5", "10", "11", "12"],
    ),
    ("customerRef=7", &[]),
];

#[tokio::test]
async fn queries_select_the_same_records_on_both_engines() {
    on_both_engines("query_cases", |t| async move {
        let conn = seeded(&t.store).await;
        for (q, expected) in CASES {
            let got = ids(&t.store, &conn, filter(q)).await;
            assert_eq!(got, *expected, "query {q:?} on {}", t.engine());
            let page = t
                .store
                .query_records(&conn, ORDERS, &filter(q))
                .await
                .unwrap();
            assert_eq!(page.total_results, expected.len() as u64, "{q}");
        }
        t
    })
    .await;
}

#[tokio::test]
async fn order_by_and_paging() {
    on_both_engines("query_order", |t| async move {
        let store = &t.store;
        let conn = seeded(store).await;
        let e = t.engine();
        assert_eq!(
            ids(store, &conn, Query::default()).await,
            ["1", "2", "3", "4", "5", "10", "11", "12"],
            "{e}"
        );
        assert_eq!(
            ids(store, &conn, order_by("-totalAmount")).await,
            ["12", "3", "1", "11", "10", "2", "4", "5"],
            "{e}"
        );
        assert_eq!(
            ids(store, &conn, order_by("totalAmount")).await,
            ["5", "4", "2", "10", "11", "1", "3", "12"],
            "{e}"
        );
        // Missing values first ascending; ties broken by id.
        assert_eq!(
            ids(store, &conn, order_by("customerRef.name")).await,
            ["10", "1", "3", "2", "5", "12", "11", "4"],
            "{e}"
        );
        assert_eq!(
            ids(store, &conn, order_by("-customerRef.name")).await,
            ["4", "11", "2", "5", "12", "1", "3", "10"],
            "{e}"
        );
        // Numeric strings sort as numbers, after missing values and other strings.
        assert_eq!(
            ids(store, &conn, order_by("amountText")).await,
            ["4", "11", "12", "5", "10", "2", "1", "3"],
            "{e}"
        );
        assert_eq!(
            ids(store, &conn, order_by("-modifiedDate,currency")).await,
            ["10", "12", "11", "1", "3", "4", "5", "2"],
            "{e}"
        );
        assert_eq!(
            ids(store, &conn, order_by("isGiftCard")).await,
            ["4", "10", "12", "1", "3", "5", "2", "11"],
            "{e}"
        );

        let page = |n, size| Query {
            page: n,
            page_size: size,
            order_by: Some("-totalAmount".into()),
            query: Some("currency=EUR".into()),
            include_deleted: false,
        };
        let p2 = store
            .query_records(&conn, ORDERS, &page(2, 2))
            .await
            .unwrap();
        assert_eq!(p2.page_number, 2);
        assert_eq!(p2.page_size, 2);
        assert_eq!(p2.total_results, 5);
        let got: Vec<_> = p2.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(got, ["1", "10"], "{e}");
        let p3 = store
            .query_records(&conn, ORDERS, &page(3, 2))
            .await
            .unwrap();
        assert_eq!(p3.results.len(), 1);
        let p9 = store
            .query_records(&conn, ORDERS, &page(9, 2))
            .await
            .unwrap();
        assert!(p9.results.is_empty());
        assert_eq!(p9.total_results, 5);

        let with_deleted = Query {
            include_deleted: true,
            query: Some("status=Paid".into()),
            ..Query::default()
        };
        let p = store
            .query_records(&conn, ORDERS, &with_deleted)
            .await
            .unwrap();
        let got: Vec<_> = p
            .results
            .iter()
            .map(|r| (r.id.as_str(), r.deleted))
            .collect();
        assert_eq!(
            got,
            [("1", false), ("3", false), ("10", false), ("13", true)],
            "{e}"
        );
        assert_eq!(p.results[3].modified_date, "2025-01-01T00:05:00.000Z");
        t
    })
    .await;
}

#[tokio::test]
async fn bad_queries_and_paging_are_clear_errors() {
    on_both_engines("query_errors", |t| async move {
        let store = &t.store;
        let conn = seeded(store).await;
        let err = store
            .query_records(&conn, ORDERS, &filter("status=Paid && && x=1"))
            .await
            .unwrap_err();
        match &err {
            StoreError::Query(q) => assert_eq!(q.position, 16),
            other => panic!("{other}"),
        }
        assert_eq!(
            err.to_string(),
            "unexpected '&' at position 16: expected a field name"
        );
        let err = store
            .query_records(&conn, ORDERS, &filter("totalAmount > true"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Query(ref q) if q.position == 13),
            "{err}"
        );
        let err = store
            .query_records(&conn, ORDERS, &order_by("-"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Query(ref q) if q.position == 2),
            "{err}"
        );
        for (page, page_size) in [(0, 10), (1, 0), (1, 5001)] {
            let q = Query {
                page,
                page_size,
                ..Query::default()
            };
            let err = store.query_records(&conn, ORDERS, &q).await.unwrap_err();
            assert!(matches!(err, StoreError::Paging(_)), "{err}");
        }
        let q = Query {
            page_size: 5000,
            ..Query::default()
        };
        assert_eq!(
            store
                .query_records(&conn, ORDERS, &q)
                .await
                .unwrap()
                .results
                .len(),
            8
        );
        // Values are bound: an injection attempt is just a string that matches nothing.
        let got = ids(store, &conn, filter("status='x\\' OR 1=1 --'")).await;
        assert!(got.is_empty());
        t
    })
    .await;
}
