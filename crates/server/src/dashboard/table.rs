//! The dashboard's record tables (transactions, orders, customers): the filters of a table's
//! form (shop-local date range, the table's own filters, a query in the API's query
//! language) become one API query, so a table, its pages and its CSV download are exactly
//! what `GET …/data/{dataType}?query=…&orderBy=…` answers. Paging, sorting and filtering
//! run in the database through [`Store::query_records`]; the CSV is read a page at a time.

use chrono::{DateTime, Duration, NaiveDate};
use chrono_tz::Tz;
use prestalink_store::{Query, Store, StoredRecord, MAX_PAGE_SIZE};
use serde::Deserialize;

/// Rows per page of a table.
pub const PAGE_SIZE: u32 = 50;

/// A filter besides the date range and the query that a table's form offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `type`: `Payment` or `Refund` (transactions).
    Kind,
    /// `subType`, exactly (transactions' payment method).
    Method,
}

/// What a table shows and how its form maps onto the API.
#[derive(Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// The data type read (`commerce-orders`).
    pub data_type: &'static str,
    /// The page's path below the connection (`orders`), also the CSV's file name.
    pub slug: &'static str,
    /// The field the date range filters on and the default sort. It must carry the shop's
    /// own offset (`2024-12-13T17:43:00+01:00`, as the mapping writes `createdDate` of orders
    /// and customers and `sourceCreatedDate` of transactions): its text then starts with the
    /// shop-local day, so plain `YYYY-MM-DD` bounds select whole shop-local days.
    pub date_field: &'static str,
    /// Fields the table may be sorted by (each both ways).
    pub sort_fields: &'static [&'static str],
    /// The form's other filters.
    pub filters: &'static [Filter],
}

/// Payments and refunds (`commerce-transactions`).
pub static TRANSACTIONS: TableSpec = TableSpec {
    data_type: "commerce-transactions",
    slug: "transactions",
    date_field: "sourceCreatedDate",
    sort_fields: &["sourceCreatedDate", "totalAmount"],
    filters: &[Filter::Kind, Filter::Method],
};

/// Orders (`commerce-orders`).
pub static ORDERS: TableSpec = TableSpec {
    data_type: "commerce-orders",
    slug: "orders",
    date_field: "createdDate",
    sort_fields: &["createdDate", "orderNumber", "totalAmount"],
    filters: &[],
};

/// Customers (`commerce-customers`).
pub static CUSTOMERS: TableSpec = TableSpec {
    data_type: "commerce-customers",
    slug: "customers",
    date_field: "createdDate",
    sort_fields: &["createdDate", "customerName", "emailAddress"],
    filters: &[],
};

/// A table's form and links, as query string parameters.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct TableParams {
    /// First shop-local day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last shop-local day.
    pub to: Option<String>,
    /// `Payment` or `Refund` (empty: both), for [`Filter::Kind`].
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The method (`subType`), exactly, for [`Filter::Method`].
    pub method: Option<String>,
    /// A query in the API's language, and-ed with the filters.
    pub query: Option<String>,
    /// A sort field of the table, `-` first for descending.
    pub sort: Option<String>,
    /// 1-based page.
    pub page: Option<u32>,
    /// `csv` to download every row of the filter.
    pub format: Option<String>,
}

/// A filter the form cannot turn into a query, with the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The form field (`from`, `to`, `method`, `query`).
    pub field: &'static str,
    /// What is wrong, in English for logs; pages show their own words.
    pub reason: String,
}

impl TableParams {
    /// The sort in use: one of the table's fields either way, else the newest first.
    pub fn sort(&self, spec: &TableSpec) -> String {
        match self.sort.as_deref() {
            Some(s) if spec.sort_fields.contains(&s.strip_prefix('-').unwrap_or(s)) => {
                s.to_string()
            }
            _ => format!("-{}", spec.date_field),
        }
    }

    /// The page asked for (1 when missing or 0).
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    /// The API query text of the filters, `None` when there is no filter.
    pub fn query_text(&self, spec: &TableSpec) -> Result<Option<String>, FilterError> {
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
        // The date field's text is compared byte-wise and starts with the shop-local day:
        // `>= "2026-10-01"` keeps `2026-10-01T00:00:00+02:00`, `< "2026-11-01"` keeps
        // `2026-10-31T23:59:59+01:00`, whatever the offset.
        let bound = |d: NaiveDate| d.to_string();
        let field = spec.date_field;
        if let Some(from) = day(&self.from, "from")? {
            parts.push(format!("{field}>={}", quote(&bound(from))?));
        }
        if let Some(to) = day(&self.to, "to")? {
            let next = to + Duration::days(1);
            parts.push(format!("{field}<{}", quote(&bound(next))?));
        }
        if spec.filters.contains(&Filter::Kind) {
            if let Some(kind @ ("Payment" | "Refund")) = self.kind.as_deref() {
                parts.push(format!("type={kind}"));
            }
        }
        if spec.filters.contains(&Filter::Method) {
            if let Some(method) = self.method.as_deref().filter(|m| !m.trim().is_empty()) {
                let quoted = quote(method).map_err(|mut e| {
                    e.field = "method";
                    e
                })?;
                parts.push(format!("subType={quoted}"));
            }
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
    pub fn api_query(
        &self,
        spec: &TableSpec,
        page: u32,
        page_size: u32,
    ) -> Result<Query, FilterError> {
        Ok(Query {
            page,
            page_size,
            order_by: Some(self.sort(spec)),
            query: self.query_text(spec)?,
            include_deleted: false,
        })
    }

    /// These parameters as a query string, with another page or sort, or for the CSV.
    pub fn link(
        &self,
        spec: &TableSpec,
        page: Option<u32>,
        sort: Option<&str>,
        csv: bool,
    ) -> String {
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
        form.append_pair("sort", sort.unwrap_or(&self.sort(spec)));
        if let Some(page) = page {
            form.append_pair("page", &page.to_string());
        }
        if csv {
            form.append_pair("format", "csv");
        }
        form.finish()
    }

    /// `aria-sort` of a column sorted by `field`.
    pub fn sort_state(&self, spec: &TableSpec, field: &str) -> &'static str {
        let sort = self.sort(spec);
        if sort == field {
            "ascending"
        } else if sort.strip_prefix('-') == Some(field) {
            "descending"
        } else {
            "none"
        }
    }

    /// The sort a click on a column's heading asks for: the other way when it is the sort
    /// in use, otherwise descending for dates and amounts, ascending for texts.
    pub fn toggle(&self, spec: &TableSpec, field: &str) -> String {
        let sort = self.sort(spec);
        if sort == field {
            format!("-{field}")
        } else if sort.strip_prefix('-') == Some(field) {
            field.to_string()
        } else if field.ends_with("Date") || field.ends_with("Amount") {
            format!("-{field}")
        } else {
            field.to_string()
        }
    }
}

/// A timestamp of a record (RFC 3339) as shop-local `YYYY-MM-DD HH:MM`; the text itself when
/// it does not parse.
pub fn local_time(text: &str, timezone: Option<Tz>) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => match timezone {
            Some(tz) => t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            None => t.format("%Y-%m-%d %H:%M").to_string(),
        },
        Err(_) => text.to_string(),
    }
}

/// A value quoted for the query language (`"…"`, or `'…'` when it holds a `"`).
pub fn quote(value: &str) -> Result<String, FilterError> {
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

/// One row of a table, read from a stored record, with its CSV columns.
pub trait TableRow: Sized {
    /// The CSV's header.
    const CSV_HEADER: &'static [&'static str];
    /// The row of a stored record.
    fn of(record: &StoredRecord) -> Self;
    /// The CSV fields, in [`TableRow::CSV_HEADER`]'s order (values as the API has them).
    fn csv_fields(&self) -> Vec<String>;
}

/// One page of a table.
pub struct TablePage<R> {
    /// The rows.
    pub rows: Vec<R>,
    /// Records matching the filters.
    pub total: u64,
    /// The page shown: the one asked for, or the last one when that is past the end.
    pub page: u32,
}

/// The page of rows asked for by the filters; past the last page, the last page.
pub async fn page<R: TableRow>(
    store: &Store,
    connection_id: &str,
    spec: &TableSpec,
    params: &TableParams,
) -> anyhow::Result<Result<TablePage<R>, FilterError>> {
    let mut page = params.page();
    loop {
        let query = match params.api_query(spec, page, PAGE_SIZE) {
            Ok(q) => q,
            Err(e) => return Ok(Err(e)),
        };
        let found = match store
            .query_records(connection_id, spec.data_type, &query)
            .await
        {
            Ok(found) => found,
            Err(prestalink_store::StoreError::Query(e)) => {
                return Ok(Err(FilterError {
                    field: "query",
                    reason: e.to_string(),
                }))
            }
            Err(e) => return Err(e.into()),
        };
        let last = u32::try_from(found.total_results.div_ceil(u64::from(PAGE_SIZE)).max(1))
            .unwrap_or(u32::MAX);
        // Strictly smaller each time round, so this ends even while records change.
        if page > last {
            page = last;
            continue;
        }
        return Ok(Ok(TablePage {
            rows: found.results.iter().map(R::of).collect(),
            total: found.total_results,
            page,
        }));
    }
}

/// A CSV cell that a spreadsheet will not run as a formula: text starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a `'` in front (OWASP's advice on CSV
/// injection). Numbers such as `-12.50` are left as they are: they cannot be formulas, and
/// a refund's amount must stay a number.
pub fn csv_cell(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(value) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// `-12`, `+3.5`: a sign, digits, at most one dot between digits.
fn is_plain_number(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// One page of [`MAX_PAGE_SIZE`] rows of the filters as CSV lines (the header first on page
/// 1), text cells guarded by [`csv_cell`]; `true` when later pages have rows.
pub async fn csv_chunk<R: TableRow>(
    store: &Store,
    connection_id: &str,
    spec: &TableSpec,
    params: &TableParams,
    page: u32,
) -> anyhow::Result<(Vec<u8>, bool)> {
    let query = params
        .api_query(spec, page, MAX_PAGE_SIZE)
        .map_err(|e| anyhow::anyhow!(e.reason))?;
    let found = store
        .query_records(connection_id, spec.data_type, &query)
        .await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    if page == 1 {
        writer.write_record(R::CSV_HEADER)?;
    }
    for record in &found.results {
        let fields = R::of(record).csv_fields();
        writer.write_record(fields.iter().map(|f| csv_cell(f).into_owned()))?;
    }
    let more = u64::from(page) * u64::from(MAX_PAGE_SIZE) < found.total_results;
    Ok((writer.into_inner()?, more))
}

/// Every row matching the filters as a CSV body streamed a page of [`MAX_PAGE_SIZE`] rows at a
/// time, so memory holds one page whatever the table's size. The first page is read before
/// answering, so a filter the database refuses is an error rather than a cut-off download.
/// Pages are read by offset in the table's order (its sort, then id), which is stable while
/// no record is added or removed during the download.
pub async fn csv_body<R: TableRow + 'static>(
    store: Store,
    connection_id: String,
    spec: &'static TableSpec,
    params: TableParams,
) -> anyhow::Result<axum::body::Body> {
    let (first, more) = csv_chunk::<R>(&store, &connection_id, spec, &params, 1).await?;
    let rest = futures::stream::try_unfold(more.then_some(2u32), move |page| {
        let (store, connection_id, params) = (store.clone(), connection_id.clone(), params.clone());
        async move {
            let Some(page) = page else {
                return Ok(None);
            };
            let (chunk, more) = csv_chunk::<R>(&store, &connection_id, spec, &params, page).await?;
            anyhow::Ok(Some((chunk, more.then_some(page + 1))))
        }
    });
    let body = futures::StreamExt::chain(futures::stream::once(async { anyhow::Ok(first) }), rest);
    Ok(axum::body::Body::from_stream(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> TableParams {
        TableParams {
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
        let q = params().api_query(&TRANSACTIONS, 3, 50).unwrap();
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
        assert_eq!(
            TableParams::default().query_text(&TRANSACTIONS).unwrap(),
            None
        );
    }

    #[test]
    fn order_and_customer_days_are_shop_local_date_bounds() {
        // createdDate carries the shop's offset, so a day's last hours (23:30+01:00, which
        // is 22:30Z) stay on that day: the bounds are the local days' text, not UTC instants.
        let q = params().query_text(&ORDERS).unwrap().unwrap();
        assert_eq!(
            q,
            "createdDate>=\"2026-11-01\"&&createdDate<\"2026-12-01\"\
             &&{totalAmount<-10||currency=GBP}"
        );
        prestalink_store::query::QueryExpr::parse(&q).unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            local_time("2026-11-28T09:47:35Z", Some(paris)),
            "2026-11-28 10:47"
        );
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_quoted() {
        for risky in [
            "=HYPERLINK(\"http://x\")",
            "+33 1 23",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "-",
            "-1e5",
            "--1",
        ] {
            assert_eq!(csv_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in [
            "Dupont",
            "a=b",
            "-12.50",
            "+3",
            "12",
            "",
            "jean@example.com",
        ] {
            assert_eq!(csv_cell(safe), safe, "{safe:?}");
        }
    }

    #[test]
    fn bad_filters_name_their_field_and_unknown_sorts_fall_back() {
        let mut p = params();
        p.from = Some("1 Nov".to_string());
        assert_eq!(p.query_text(&TRANSACTIONS).unwrap_err().field, "from");
        p.from = None;
        p.method = Some("a\"b'c".to_string());
        assert_eq!(p.query_text(&TRANSACTIONS).unwrap_err().field, "method");
        p.sort = Some("password".to_string());
        assert_eq!(p.sort(&TRANSACTIONS), "-sourceCreatedDate");
        p.sort = Some("customerName".to_string());
        assert_eq!(p.sort(&CUSTOMERS), "customerName");
        assert_eq!(p.toggle(&CUSTOMERS, "customerName"), "-customerName");
        assert_eq!(p.toggle(&CUSTOMERS, "createdDate"), "-createdDate");
        assert_eq!(p.sort_state(&CUSTOMERS, "customerName"), "ascending");
    }

    #[test]
    fn links_keep_the_filters() {
        let link = params().link(&TRANSACTIONS, Some(4), None, true);
        assert!(link.contains("from=2026-11-01"), "{link}");
        assert!(link.contains("page=4") && link.contains("format=csv"));
        assert!(link.contains("sort=-totalAmount"));
    }
}
