//! Pages of JSON documents for the API, straight from SQL: the records of a data type (their
//! stored JSON text is passed through, never parsed), and the API's own objects (companies,
//! connections, pull operations) built as JSON by the database, so that one query language
//! and one `orderBy` serve them all.
//!
//! Pages of records themselves are served by key (record_pages.rs).

use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::query::{
    compile_filter, compile_order_by, CompiledSql, Dialect, OrderBy, Query, QueryExpr, SqlParam,
    MAX_PAGE_SIZE,
};
use crate::{on_pool, Store};

/// One page of JSON documents, each the raw JSON text of one result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonPage {
    /// The documents of this page, as JSON text.
    pub results: Vec<String>,
    /// 1-based page number.
    pub page_number: u32,
    /// Requested page size.
    pub page_size: u32,
    /// Whether a page follows this one.
    pub has_next: bool,
}

/// A table of JSON documents the API pages through: a SQL table expression with the columns
/// `id`, `data` (JSON text on SQLite, JSONB on PostgreSQL), `modified_date` and `deleted`,
/// restricted by `scope` (a condition on `$1`, `$2`… bound to `binds`).
#[derive(Debug, Clone)]
pub struct JsonTable<'a> {
    /// `FROM` clause (a table or a parenthesized select with an alias).
    pub from: String,
    /// Condition limiting the rows to the caller's (e.g. `company_id = $1`).
    pub scope: String,
    /// Values of the scope's placeholders.
    pub binds: Vec<&'a str>,
}

/// Filter and order compiled for one query.
pub(crate) struct Compiled {
    /// ` AND …` conditions (the live-record condition included unless deleted are wanted).
    pub(crate) filter: String,
    /// Values of the filter's placeholders.
    pub(crate) params: Vec<SqlParam>,
    /// `ORDER BY` keys.
    pub(crate) order: String,
}

/// Page from 1, page size from 1 to [`MAX_PAGE_SIZE`].
pub(crate) fn check_paging(query: &Query) -> Result<()> {
    if query.page < 1 {
        return Err(StoreError::Paging("page starts at 1".to_string()));
    }
    if query.page_size < 1 || query.page_size > MAX_PAGE_SIZE {
        return Err(StoreError::Paging(format!(
            "pageSize must be between 1 and {MAX_PAGE_SIZE}, got {}",
            query.page_size
        )));
    }
    Ok(())
}

/// A query's filter (placeholders from `first_param`) and order, compiled for `dialect`.
pub(crate) fn compile(query: &Query, dialect: Dialect, first_param: usize) -> Result<Compiled> {
    let order = query
        .order_by
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(OrderBy::parse)
        .transpose()?;
    let mut filter = String::new();
    let mut params = Vec::new();
    if let Some(text) = query.query.as_deref().filter(|t| !t.trim().is_empty()) {
        let parsed = QueryExpr::parse(text)?;
        let CompiledSql { sql, params: p } = compile_filter(parsed.expr(), dialect, first_param)?;
        filter = format!(" AND {sql}");
        params = p;
    }
    if !query.include_deleted {
        filter.push_str(" AND deleted = FALSE");
    }
    Ok(Compiled {
        filter,
        params,
        order: compile_order_by(order.as_ref(), dialect),
    })
}

/// Binds the compiled parameters in order (numbers as floats on SQLite, text on PostgreSQL).
macro_rules! bind_params {
    ($q:expr, $params:expr, $dialect:expr) => {{
        let mut q = $q;
        for param in $params {
            match param {
                $crate::query::SqlParam::Text(text) => q = q.bind(text.clone()),
                $crate::query::SqlParam::Number(number) => {
                    if $dialect == $crate::query::Dialect::Sqlite {
                        q = q.bind(number.parse::<f64>().unwrap_or(f64::NAN));
                    } else {
                        q = q.bind(number.clone());
                    }
                }
            }
        }
        q
    }};
}
pub(crate) use bind_params;

impl Store {
    /// How many of a data type's records match the query (paging ignored).
    pub async fn count_matching_records(
        &self,
        connection_id: &str,
        data_type: &str,
        query: &Query,
    ) -> Result<u64> {
        let dialect = self.dialect();
        let c = compile(query, dialect, 3)?;
        let sql = format!(
            "SELECT COUNT(*) FROM commerce_records WHERE connection_id = $1 AND data_type = $2{}",
            c.filter
        );
        let total: i64 = on_pool!(&self.db, pool => {
            let q = sqlx::query_scalar::<_, i64>(&sql).bind(connection_id).bind(data_type);
            bind_params!(q, &c.params, dialect).fetch_one(pool).await?
        });
        Ok(total as u64)
    }

    /// One page of a [`JsonTable`] with its total count.
    pub async fn json_table_page(
        &self,
        table: &JsonTable<'_>,
        query: &Query,
    ) -> Result<(JsonPage, u64)> {
        check_paging(query)?;
        let dialect = self.dialect();
        let first = table.binds.len() + 1;
        let c = compile(query, dialect, first)?;
        let where_sql = format!("WHERE {}{}", table.scope, c.filter);
        let next = first + c.params.len();
        let data = match dialect {
            Dialect::Sqlite => "data",
            Dialect::Postgres => "data::text",
        };
        let select = format!(
            "SELECT {data} FROM {} {where_sql} ORDER BY {} LIMIT ${next} OFFSET ${}",
            table.from,
            c.order,
            next + 1
        );
        let count = format!("SELECT COUNT(*) FROM {} {where_sql}", table.from);
        let limit = i64::from(query.page_size) + 1;
        let offset = i64::from(query.page - 1) * i64::from(query.page_size);
        let (mut results, total): (Vec<String>, i64) = on_pool!(&self.db, pool => {
            let mut s = sqlx::query_scalar::<_, String>(&select);
            let mut n = sqlx::query_scalar::<_, i64>(&count);
            for b in &table.binds {
                s = s.bind(*b);
                n = n.bind(*b);
            }
            let s = bind_params!(s, &c.params, dialect).bind(limit).bind(offset);
            let n = bind_params!(n, &c.params, dialect);
            (s.fetch_all(pool).await?, n.fetch_one(pool).await?)
        });
        let has_next = results.len() > query.page_size as usize;
        results.truncate(query.page_size as usize);
        Ok((
            JsonPage {
                results,
                page_number: query.page,
                page_size: query.page_size,
                has_next,
            },
            total as u64,
        ))
    }

    /// The stored JSON text of one record (deleted or not), without parsing it.
    pub async fn record_json(
        &self,
        connection_id: &str,
        data_type: &str,
        id: &str,
    ) -> Result<Option<String>> {
        let sql = format!(
            "SELECT {} FROM commerce_records WHERE connection_id = $1 AND data_type = $2 AND id = $3",
            self.json_column("data")
        );
        on_pool!(&self.db, pool => {
            let row: Option<String> = sqlx::query_scalar(&sql)
                .bind(connection_id)
                .bind(data_type)
                .bind(id)
                .fetch_optional(pool)
                .await?;
            Ok(row)
        })
    }

    /// Whether the connection has ever stored a record of a data type, or run a sync of it.
    pub async fn data_type_requested(&self, connection_id: &str, data_type: &str) -> Result<bool> {
        on_pool!(&self.db, pool => {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(1 AS BIGINT) FROM sync_runs WHERE connection_id = $1 AND data_type = $2 \
                 UNION ALL SELECT CAST(1 AS BIGINT) FROM datasets WHERE connection_id = $1 AND data_type = $2 \
                 LIMIT 1",
            )
            .bind(connection_id)
            .bind(data_type)
            .fetch_optional(pool)
            .await?;
            Ok(found.is_some())
        })
    }
}
