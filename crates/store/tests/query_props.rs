//! Property tests of the query language: any text parses or fails cleanly; generated valid
//! queries compile for both dialects and run without a database error on both engines.

mod common;

use common::{at, connection, postgres_store, sqlite_store, TestStore};
use prestalink_store::query::{compile_filter, compile_order_by, Dialect, OrderBy, QueryExpr};
use prestalink_store::{CommerceRecord, Query, StoreError};
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_parses_or_errors_with_a_position_inside_it(text in ".{0,60}") {
        match QueryExpr::parse(&text) {
            Ok(expr) => {
                for dialect in [Dialect::Sqlite, Dialect::Postgres] {
                    let _ = compile_filter(expr.expr(), dialect, 1);
                }
            }
            Err(e) => prop_assert!(e.position >= 1 && e.position <= text.chars().count() + 1),
        }
        if let Ok(order) = OrderBy::parse(&text) {
            let _ = compile_order_by(Some(&order), Dialect::Sqlite);
        }
    }

    #[test]
    fn query_like_text_never_panics(text in "[a-z.{}&|=!~<>'\" 0-9\\\\-]{0,40}") {
        let _ = QueryExpr::parse(&text);
        let _ = OrderBy::parse(&text);
    }

    #[test]
    fn generated_queries_compile_for_both_dialects(q in query()) {
        let parsed = QueryExpr::parse(&q);
        prop_assert!(parsed.is_ok(), "{q}: {:?}", parsed.err());
        let parsed = parsed.unwrap();
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let compiled = compile_filter(parsed.expr(), dialect, 3);
            prop_assert!(compiled.is_ok(), "{q}: {:?}", compiled.err());
            let compiled = compiled.unwrap();
            // Every placeholder has its value, and no value is inlined.
            let placeholders = (3..3 + compiled.params.len()).all(|n| compiled.sql.contains(&format!("${n}")));
            prop_assert!(placeholders, "{}", compiled.sql);
        }
    }
}

fn field() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "id",
        "status",
        "totalAmount",
        "customerRef.id",
        "customerRef.name",
        "isGiftCard",
        "note",
        "modifiedDate",
        "a.b.c_d",
    ])
    .prop_map(str::to_string)
}

fn comparable_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z][A-Za-z0-9 _:@/-]{0,10}[A-Za-z0-9]".prop_map(|s| s),
        (-1000i32..1000, 0u8..3).prop_map(|(n, d)| if d == 0 {
            n.to_string()
        } else {
            format!("{n}.{d}")
        }),
        "[^\\\\'\\x00]{0,8}".prop_map(|s| format!("'{s}'")),
        "[a-z\"'\\\\%_ ]{0,8}"
            .prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))),
        Just("2024-01-01T00:00:00Z".to_string()),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            field(),
            prop::sample::select(vec!["=", "!=", "~", ">", "<", ">=", "<="]),
            comparable_value()
        )
            .prop_map(|(f, o, v)| format!("{f}{o}{v}")),
        (
            field(),
            prop::sample::select(vec!["=", "!="]),
            prop::sample::select(vec!["true", "false", "null"])
        )
            .prop_map(|(f, o, v)| format!("{f} {o} {v}")),
    ]
}

fn query() -> impl Strategy<Value = String> {
    condition().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}&&{b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.prop_map(|a| format!("{{ {a} }}")),
        ]
    })
}

async fn seeded(t: &TestStore) -> String {
    let conn = connection(&t.store).await;
    let records: Vec<_> = [
        json!({"id": "1", "status": "Paid", "totalAmount": 10.5, "customerRef": {"id": "3", "name": "A"},
               "isGiftCard": false, "note": null}),
        json!({"id": "2", "status": "Pending", "totalAmount": "20.00", "customerRef": {"id": 4},
               "isGiftCard": true, "a": {"b": {"c_d": [1]}}}),
        json!({"id": "3", "status": 5, "totalAmount": "n/a", "customerRef": "x", "note": "50%"}),
    ]
    .into_iter()
    .map(|data| CommerceRecord {
        id: data["id"].as_str().unwrap().into(),
        data,
        source_modified_date: None,
    })
    .collect();
    t.store
        .upsert_commerce_page(&conn, "commerce-orders", &records, None, at(1))
        .await
        .unwrap();
    conn
}

/// Generated queries run on real engines without a database error, with the same results.
#[test]
fn generated_queries_run_on_both_engines_with_the_same_results() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sqlite, sqlite_conn, pg) = runtime.block_on(async {
        let sqlite = sqlite_store().await;
        let conn = seeded(&sqlite).await;
        let pg = match postgres_store("query_props").await {
            Some(pg) => {
                let c = seeded(&pg).await;
                Some((pg, c))
            }
            None => {
                eprintln!("PostgreSQL part skipped ({} not set)", common::PG_ENV);
                None
            }
        };
        (sqlite, conn, pg)
    });
    let config = ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    runner
        .run(&(query(), prop::option::of(field())), |(q, order)| {
            let request = Query {
                query: Some(q.clone()),
                order_by: order.map(|f| format!("-{f}")),
                include_deleted: true,
                ..Query::default()
            };
            let run = |t: &TestStore, conn: &str| {
                runtime.block_on(t.store.query_records(conn, "commerce-orders", &request))
            };
            let ids =
                |r: Result<prestalink_store::Page<prestalink_store::StoredRecord>, StoreError>| {
                    r.map(|p| p.results.into_iter().map(|r| r.id).collect::<Vec<_>>())
                        .map_err(|e| e.to_string())
                };
            let lite = ids(run(&sqlite, &sqlite_conn));
            prop_assert!(lite.is_ok(), "{q}: {:?}", lite);
            if let Some((pg, pg_conn)) = &pg {
                let post = ids(run(pg, pg_conn));
                prop_assert_eq!(&lite, &post, "{}", q);
            }
            Ok(())
        })
        .unwrap();
    if let Some((pg, _)) = pg {
        runtime.block_on(async {
            pg.store.close().await;
            if let common::Location::Postgres { url, schema } = &pg.location {
                use sqlx::Connection as _;
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        });
    }
}
