//! Codat's paging envelope: `{results, pageNumber, pageSize, totalResults, _links}` with
//! `_links.self/current/next/previous` as hrefs relative to the server.

use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::Paging;

/// A link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    /// Path and query of the linked page.
    pub href: String,
}

/// The links of a page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageLinks {
    /// The list without paging.
    #[serde(rename = "self")]
    pub self_: Link,
    /// This page.
    pub current: Link,
    /// The next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
    /// The previous page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Link>,
}

fn href(path: &str, paging: &Paging, page: u32, page_size: u32) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("page", &page.to_string());
    query.append_pair("pageSize", &page_size.to_string());
    if let Some(q) = paging.query.as_deref().filter(|q| !q.is_empty()) {
        query.append_pair("query", q);
    }
    if let Some(o) = paging.order_by.as_deref().filter(|o| !o.is_empty()) {
        query.append_pair("orderBy", o);
    }
    format!("{path}?{}", query.finish())
}

/// The links of page `page` of `path`.
pub fn page_links(
    path: &str,
    paging: &Paging,
    page: u32,
    page_size: u32,
    has_next: bool,
) -> PageLinks {
    PageLinks {
        self_: Link {
            href: path.to_string(),
        },
        current: Link {
            href: href(path, paging, page, page_size),
        },
        next: has_next.then(|| Link {
            href: href(path, paging, page + 1, page_size),
        }),
        previous: (page > 1).then(|| Link {
            href: href(path, paging, page - 1, page_size),
        }),
    }
}

/// A page in Codat's envelope, with results already serialized (JSON texts).
pub fn page_body(
    results: &[String],
    page: u32,
    page_size: u32,
    total: u64,
    links: &PageLinks,
) -> String {
    let size: usize = results.iter().map(|r| r.len() + 1).sum();
    let mut joined = String::with_capacity(size);
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            joined.push(',');
        }
        joined.push_str(r);
    }
    page_body_joined(&joined, page, page_size, total, links)
}

/// [`page_body`] with the results already joined by commas.
pub fn page_body_joined(
    joined: &str,
    page: u32,
    page_size: u32,
    total: u64,
    links: &PageLinks,
) -> String {
    let mut body = String::with_capacity(joined.len() + 512);
    body.push_str("{\"results\":[");
    body.push_str(joined);
    body.push_str("],\"pageNumber\":");
    body.push_str(&page.to_string());
    body.push_str(",\"pageSize\":");
    body.push_str(&page_size.to_string());
    body.push_str(",\"totalResults\":");
    body.push_str(&total.to_string());
    body.push_str(",\"_links\":");
    body.push_str(&serde_json::to_string(links).unwrap_or_else(|_| "{}".to_string()));
    body.push('}');
    body
}

/// A page answer: `results` (JSON texts) in Codat's envelope with its links.
pub fn page_response(
    path: &str,
    paging: &Paging,
    page: &prestalink_store::JsonPage,
    results: &[String],
    total: u64,
) -> axum::response::Response {
    let links = page_links(
        path,
        paging,
        page.page_number,
        page.page_size,
        page.has_next,
    );
    json_response(page_body(
        results,
        page.page_number,
        page.page_size,
        total,
        &links,
    ))
}

/// A page of a data type's records in Codat's envelope with its links.
pub fn records_page_response(
    path: &str,
    paging: &Paging,
    page: &prestalink_store::RecordsPage,
) -> axum::response::Response {
    let links = page_links(
        path,
        paging,
        page.page_number,
        page.page_size,
        page.has_next,
    );
    json_response(page_body_joined(
        &page.joined,
        page.page_number,
        page.page_size,
        page.total_results,
        &links,
    ))
}

/// The `id` of each document of a page (the API's own tables put it first).
pub fn ids_of(page: &prestalink_store::JsonPage) -> Vec<String> {
    page.results
        .iter()
        .filter_map(|text| {
            let value: serde_json::Value = serde_json::from_str(text).ok()?;
            Some(value.get("id")?.as_str()?.to_string())
        })
        .collect()
}

/// A JSON body from a string already serialized.
pub fn json_response(body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
