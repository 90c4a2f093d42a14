//! Queries for the API: paging, orderBy and the Codat query language, compiled to SQL.

mod parse;
mod sql;

pub use parse::{
    Condition, Direction, Expr, FieldPath, Literal, Operator, OrderBy, QueryError, QueryExpr,
};
pub use sql::{compile_filter, compile_order_by, CompiledSql, Dialect, SqlParam};

use serde::Serialize;

/// Largest page size the API accepts.
pub const MAX_PAGE_SIZE: u32 = 5000;
/// Page size when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// A request for one page of records, as the API receives it (texts still unparsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// 1-based page number.
    pub page: u32,
    /// Records per page, 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// `orderBy`, e.g. `-modifiedDate`.
    pub order_by: Option<String>,
    /// `query`, e.g. `status=Paid&&totalAmount>100`.
    pub query: Option<String>,
    /// Whether records deleted in the store are returned too.
    pub include_deleted: bool,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            order_by: None,
            query: None,
            include_deleted: false,
        }
    }
}

/// One page of results in Codat's shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The records of this page.
    pub results: Vec<T>,
    /// 1-based page number.
    pub page_number: u32,
    /// Requested page size.
    pub page_size: u32,
    /// Records matching the query across all pages.
    pub total_results: u64,
}
