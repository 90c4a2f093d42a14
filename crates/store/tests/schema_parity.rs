//! The SQLite and PostgreSQL migrations define the same tables, columns, nullability,
//! primary keys and indexes (only the spelling of types differs).

mod common;

use std::collections::BTreeMap;

use common::{postgres_store, sqlite_store, Location, PG_ENV};
use sqlx::{Connection as _, Row};

/// table → column → (kind, not null, primary key position)
type Schema = BTreeMap<String, BTreeMap<String, (String, bool, i64)>>;

fn kind_of(declared: &str) -> String {
    let t = declared.to_lowercase();
    match t.as_str() {
        "text" => "text",
        "integer" | "bigint" | "int8" | "bigserial" => "integer",
        "boolean" | "bool" => "boolean",
        "blob" | "bytea" => "bytes",
        "jsonb" => "text",
        "real" | "double precision" | "float8" => "real",
        other => panic!("unexpected column type {other}"),
    }
    .to_string()
}

async fn sqlite_schema(path: &std::path::Path) -> (Schema, Vec<String>) {
    let mut conn = common::sqlite_connection(path).await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let rows = sqlx::query(&format!("PRAGMA table_info({table})"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let columns = rows
            .iter()
            .map(|r| {
                let name: String = r.get("name");
                let declared: String = r.get("type");
                let pk: i64 = r.get("pk");
                // SQLite's INTEGER PRIMARY KEY is implicitly not null.
                let not_null = r.get::<i64, _>("notnull") == 1 || pk > 0;
                (name, (kind_of(&declared), not_null, pk))
            })
            .collect();
        schema.insert(table, columns);
    }
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    (schema, indexes)
}

async fn postgres_schema(url: &str, schema_name: &str) -> (Schema, Vec<String>) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text, \
         COALESCE(k.ordinal_position, 0)::bigint AS pk \
         FROM information_schema.columns c \
         LEFT JOIN information_schema.table_constraints t ON t.table_schema = c.table_schema \
           AND t.table_name = c.table_name AND t.constraint_type = 'PRIMARY KEY' \
         LEFT JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name \
           AND k.table_schema = c.table_schema AND k.column_name = c.column_name \
         WHERE c.table_schema = $1 AND c.table_name <> '_sqlx_migrations'",
    )
    .bind(schema_name)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for r in rows {
        let table: String = r.get(0);
        let column: String = r.get(1);
        let declared: String = r.get(2);
        let nullable: String = r.get(3);
        let pk: i64 = r.get(4);
        schema
            .entry(table)
            .or_default()
            .insert(column, (kind_of(&declared), nullable == "NO", pk));
    }
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = $1 \
         AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key' \
         AND tablename <> '_sqlx_migrations' ORDER BY indexname",
    )
    .bind(schema_name)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    (schema, indexes)
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let sqlite = sqlite_store().await;
    let Location::Sqlite { path, .. } = &sqlite.location else {
        unreachable!()
    };
    let (lite, lite_indexes) = sqlite_schema(path).await;
    assert!(lite.contains_key("commerce_records") && lite.contains_key("jobs"));
    assert_eq!(
        lite["commerce_records"]["id"],
        ("text".to_string(), true, 3),
        "primary key (connection_id, data_type, id)"
    );
    let Some(pg) = postgres_store("schema_parity").await else {
        eprintln!("schema parity: PostgreSQL part skipped ({PG_ENV} not set)");
        return;
    };
    let Location::Postgres { url, schema } = &pg.location else {
        unreachable!()
    };
    let (post, post_indexes) = postgres_schema(url, schema).await;
    assert_eq!(lite, post);
    // SQLite names UNIQUE constraints' indexes itself (sqlite_autoindex_*, sql IS NULL).
    assert_eq!(lite_indexes, post_indexes);
    pg.store.close().await;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut conn)
        .await
        .unwrap();
}
