//! The transactions table (payments and refunds, `commerce-transactions`): the filters of the
//! form (shop-local date range, type, method, a query in the API's query language) become
//! one API query, so the table, its pages and its CSV download are exactly what
//! `GET …/data/commerce-transactions?query=…&orderBy=…` answers.

use chrono::{Duration, NaiveDate};
use prestalink_store::{Query, Store, StoredRecord, MAX_PAGE_SIZE};
use serde::Deserialize;
use serde_json::Value;

/// Rows per page of the table.
pub const PAGE_SIZE: u32 = 50;

/// The orders the table can be sorted in (`orderBy` values of the API).
pub const SORTS: [&str; 4] = [
    "-sourceCreatedDate",
    "sourceCreatedDate",
    "-totalAmount",
    "totalAmount",
];

/// The form and links of the table, as query string parameters.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct TransactionsParams {
    /// First shop-local day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last shop-local day.
    pub to: Option<String>,
    /// `Payment` or `Refund` (empty: both).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The method (`subType`), exactly.
    pub method: Option<String>,
    /// A query in the API's language, and-ed with the filters.
    pub query: Option<String>,
    /// One of [`SORTS`].
    pub sort: Option<String>,
    /// 1-based page.
    pub page: Option<u32>,
    /// `csv` to download every row of the filter.
    pub format: Option<String>,
}

/// A filter the form cannot turn into a query, with the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The form field (`from`, `to`, `method`).
    pub field: &'static str,
    /// What is wrong, in English for logs; pages show their own words.
    pub reason: String,
}

impl TransactionsParams {
    /// The sort in use (the newest first unless another known one is asked for).
    pub fn sort(&self) -> &str {
        self.sort
            .as_deref()
            .filter(|s| SORTS.contains(s))
            .unwrap_or(SORTS[0])
    }

    /// The page asked for (1 when missing or 0).
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    /// The API query text of the filters, `None` when there is no filter.
    pub fn query_text(&self) -> Result<Option<String>, FilterError> {
        let mut parts = Vec::new();
        let day = |text: &Option<String>,
                   field: &'static str|
         -> Result<Option<NaiveDate>, FilterError> {
            match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| FilterError {
                        field,
                        reason: format!("{t:?} is not a date (YYYY-MM-DD)"),
                    }),
            }
        };
        // sourceCreatedDate carries the shop's offset: its text orders by shop-local time.
        if let Some(from) = day(&self.from, "from")? {
            parts.push(format!("sourceCreatedDate>={}", quote(&from.to_string())?));
        }
        if let Some(to) = day(&self.to, "to")? {
            let next = to + Duration::days(1);
            parts.push(format!("sourceCreatedDate<{}", quote(&next.to_string())?));
        }
        if let Some(kind @ ("Payment" | "Refund")) = self.kind.as_deref() {
            parts.push(format!("type={kind}"));
        }
        if let Some(method) = self.method.as_deref().filter(|m| !m.trim().is_empty()) {
            let quoted = quote(method).map_err(|mut e| {
                e.field = "method";
                e
            })?;
            parts.push(format!("subType={quoted}"));
        }
        if let Some(q) = self
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
        {
            parts.push(format!("{{{q}}}"));
        }
        Ok((!parts.is_empty()).then(|| parts.join("&&")))
    }

    /// The API query of one page of the table.
    pub fn api_query(&self, page: u32, page_size: u32) -> Result<Query, FilterError> {
        Ok(Query {
            page,
            page_size,
            order_by: Some(self.sort().to_string()),
            query: self.query_text()?,
            include_deleted: false,
        })
    }

    /// These parameters as a query string, with another page or sort.
    pub fn link(&self, page: Option<u32>, sort: Option<&str>, csv: bool) -> String {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("from", &self.from),
            ("to", &self.to),
            ("type", &self.kind),
            ("method", &self.method),
            ("query", &self.query),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                form.append_pair(name, v);
            }
        }
        form.append_pair("sort", sort.unwrap_or(self.sort()));
        if let Some(page) = page {
            form.append_pair("page", &page.to_string());
        }
        if csv {
            form.append_pair("format", "csv");
        }
        form.finish()
    }
}

/// A value quoted for the query language (`"…"`, or `'…'` when it holds a `"`).
fn quote(value: &str) -> Result<String, FilterError> {
    if !value.contains('"') {
        Ok(format!("\"{value}\""))
    } else if !value.contains('\'') {
        Ok(format!("'{value}'"))
    } else {
        Err(FilterError {
            field: "query",
            reason: "a value cannot hold both kinds of quotes".to_string(),
        })
    }
}

/// One row of the table and of the CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRow {
    /// The transaction's id (`payment-12`, `refund-3`).
    pub id: String,
    /// When it happened, in the shop's time (`sourceCreatedDate`).
    pub date: String,
    /// `Payment` or `Refund`.
    pub kind: String,
    /// Amount (negative for refunds).
    pub amount: f64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Payment method or credit slip kind (`subType`).
    pub method: String,
    /// The order's reference (payments) or id (refunds).
    pub order: String,
    /// The order's id when known (refunds point to their order), for a link.
    pub order_id: Option<String>,
}

impl TransactionRow {
    /// The row of a stored `commerce-transactions` record.
    pub fn of(record: &StoredRecord) -> TransactionRow {
        let d = &record.data;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let source_is_order = d["transactionSourceRef"]["type"] == "Order";
        let order_id = source_is_order
            .then(|| d["transactionSourceRef"]["id"].as_str().map(str::to_string))
            .flatten();
        let order = match d["supplementalData"]["content"]["orderReference"].as_str() {
            Some(reference) => reference.to_string(),
            None => order_id.clone().unwrap_or_default(),
        };
        TransactionRow {
            id: record.id.clone(),
            date: text(&d["sourceCreatedDate"]),
            kind: text(&d["type"]),
            amount: d["totalAmount"].as_f64().unwrap_or(0.0),
            currency: text(&d["currency"]),
            method: text(&d["subType"]),
            order,
            order_id,
        }
    }
}

/// Every transaction matching the filters as CSV (header first), read a page of
/// [`MAX_PAGE_SIZE`] at a time.
pub async fn csv(
    store: &Store,
    connection_id: &str,
    params: &TransactionsParams,
) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "id", "date", "type", "amount", "currency", "method", "order",
    ])?;
    for page in 1.. {
        let query = params
            .api_query(page, MAX_PAGE_SIZE)
            .map_err(|e| anyhow::anyhow!(e.reason))?;
        let found = store
            .query_records(connection_id, "commerce-transactions", &query)
            .await?;
        for record in &found.results {
            let row = TransactionRow::of(record);
            writer.write_record([
                row.id.as_str(),
                row.date.as_str(),
                row.kind.as_str(),
                &row.amount.to_string(),
                row.currency.as_str(),
                row.method.as_str(),
                row.order.as_str(),
            ])?;
        }
        if u64::from(page) * u64::from(MAX_PAGE_SIZE) >= found.total_results {
            break;
        }
    }
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> TransactionsParams {
        TransactionsParams {
            from: Some("2026-11-01".to_string()),
            to: Some("2026-11-30".to_string()),
            kind: Some("Refund".to_string()),
            method: Some("Cash \"COD\"".to_string()),
            query: Some("totalAmount<-10||currency=GBP".to_string()),
            sort: Some("-totalAmount".to_string()),
            page: Some(3),
            format: None,
        }
    }

    #[test]
    fn filters_become_one_api_query() {
        let q = params().api_query(3, 50).unwrap();
        assert_eq!(
            q.query.as_deref(),
            Some(
                "sourceCreatedDate>=\"2026-11-01\"&&sourceCreatedDate<\"2026-12-01\"&&type=Refund\
                 &&subType='Cash \"COD\"'&&{totalAmount<-10||currency=GBP}"
            )
        );
        assert_eq!(q.order_by.as_deref(), Some("-totalAmount"));
        // The query parses in the API's language.
        prestalink_store::query::QueryExpr::parse(q.query.as_deref().unwrap()).unwrap();
        assert_eq!(TransactionsParams::default().query_text().unwrap(), None);
    }

    #[test]
    fn bad_filters_name_their_field_and_unknown_sorts_fall_back() {
        let mut p = params();
        p.from = Some("1 Nov".to_string());
        assert_eq!(p.query_text().unwrap_err().field, "from");
        p.from = None;
        p.method = Some("a\"b'c".to_string());
        assert_eq!(p.query_text().unwrap_err().field, "method");
        p.sort = Some("password".to_string());
        assert_eq!(p.sort(), "-sourceCreatedDate");
    }

    #[test]
    fn links_keep_the_filters() {
        let link = params().link(Some(4), None, true);
        assert!(link.contains("from=2026-11-01"), "{link}");
        assert!(link.contains("page=4") && link.contains("format=csv"));
        assert!(link.contains("sort=-totalAmount"));
    }
}
