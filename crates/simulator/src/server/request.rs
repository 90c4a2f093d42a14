//! Reading an HTTP request the way Apache and PrestaShop's dispatcher do: which route it
//! takes, its query parameters, the output format, the method and the key it carries.

use base64::Engine;
use hyper::header::HeaderMap;

use crate::api::{Format, Method};

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The Webservice, with the `url` path after `/api/` (or dispatcher.php's `url=`):
    /// `""` = root listing, `orders`, `orders/5`.
    Webservice { url: String, rewritten: bool },
    /// A storefront page (`/` or `/shopper`): the shopper probe.
    Storefront,
    /// Anything else: Apache's 404.
    NotFound,
}

/// Decoded query parameters, in order (`application/x-www-form-urlencoded` rules).
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// First value of a parameter.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The route of a path (`params` holds the decoded query, for dispatcher.php's `url`).
pub fn route(path: &str, params: &[(String, String)]) -> Route {
    if path == "/api" || path.starts_with("/api/") {
        let url = path["/api".len()..].trim_start_matches('/');
        let url = percent_encoding::percent_decode_str(url).decode_utf8_lossy();
        return Route::Webservice {
            url: url.into_owned(),
            rewritten: true,
        };
    }
    match path {
        "/webservice/dispatcher.php" => Route::Webservice {
            url: param(params, "url").unwrap_or("").to_string(),
            rewritten: false,
        },
        "/" | "/shopper" | "/index.php" => Route::Storefront,
        _ => Route::NotFound,
    }
}

/// Resource and id segments of a dispatcher `url` (`orders/5` → `orders`, `5`); empty
/// segments count as absent.
pub fn split_url(url: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = url.split('/');
    let resource = parts.next().filter(|s| !s.is_empty());
    let id = parts.next().filter(|s| !s.is_empty());
    (resource, id)
}

/// The output format: headers `Io-Format` then `Output-Format`, then parameters
/// `output_format` then `io_format`; the first one present decides, and only `JSON` is JSON.
pub fn format(headers: &HeaderMap, params: &[(String, String)]) -> Format {
    let chosen = headers
        .get("io-format")
        .or_else(|| headers.get("output-format"))
        .and_then(|v| v.to_str().ok())
        .or_else(|| param(params, "output_format"))
        .or_else(|| param(params, "io_format"));
    if chosen == Some("JSON") {
        Format::Json
    } else {
        Format::Xml
    }
}

/// The Webservice method: `ps_method=` overrides the HTTP method; `Err` carries a method
/// PrestaShop does not know (answered with code 23).
pub fn method(http: &hyper::Method, params: &[(String, String)]) -> Result<Method, String> {
    let name = param(params, "ps_method").unwrap_or(http.as_str());
    match name {
        "GET" => Ok(Method::Get),
        "HEAD" => Ok(Method::Head),
        "POST" => Ok(Method::Post),
        "PUT" => Ok(Method::Put),
        "PATCH" => Ok(Method::Patch),
        "DELETE" => Ok(Method::Delete),
        other => Err(other.to_string()),
    }
}

/// The key as the dispatcher reads it: the user part of Basic `Authorization` (unless the
/// host strips that header), else `?ws_key=`; `None` when neither is present.
pub fn key(
    headers: &HeaderMap,
    params: &[(String, String)],
    header_stripped: bool,
) -> Option<String> {
    let basic = (!header_stripped)
        .then(|| headers.get(hyper::header::AUTHORIZATION))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(basic_user);
    basic.or_else(|| param(params, "ws_key").map(str::to_string))
}

/// The user of a `Basic` credential (`PHP_AUTH_USER`): the decoded text before `:`.
fn basic_user(header: &str) -> Option<String> {
    let (scheme, value) = header.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(text.split(':').next().unwrap_or("").to_string())
}

/// Parameters the dispatcher consumes itself and does not pass on to the request.
pub fn webservice_params(params: &[(String, String)]) -> Vec<(String, String)> {
    params
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "url" | "ws_key" | "output_format" | "io_format" | "ps_method"
            )
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn routes() {
        let p = parse_query(Some("url=orders/5&display=full"));
        assert_eq!(
            route("/webservice/dispatcher.php", &p),
            Route::Webservice {
                url: "orders/5".into(),
                rewritten: false
            }
        );
        assert_eq!(
            route("/api/", &[]),
            Route::Webservice {
                url: "".into(),
                rewritten: true
            }
        );
        assert_eq!(split_url("orders/5"), (Some("orders"), Some("5")));
        assert_eq!(split_url("orders/"), (Some("orders"), None));
        assert_eq!(split_url(""), (None, None));
        assert_eq!(route("/shopper", &[]), Route::Storefront);
        assert_eq!(route("/admin", &[]), Route::NotFound);
    }

    #[test]
    fn format_precedence() {
        let p = parse_query(Some("output_format=JSON"));
        assert_eq!(format(&HeaderMap::new(), &p), Format::Json);
        assert_eq!(
            format(&headers(&[("output-format", "XML")]), &p),
            Format::Xml
        );
        assert_eq!(
            format(
                &headers(&[("io-format", "JSON"), ("output-format", "XML")]),
                &[]
            ),
            Format::Json
        );
        assert_eq!(
            format(&HeaderMap::new(), &parse_query(Some("output_format=json"))),
            Format::Xml
        );
        assert_eq!(
            format(&HeaderMap::new(), &parse_query(Some("io_format=JSON"))),
            Format::Json
        );
    }

    #[test]
    fn basic_takes_precedence_over_ws_key() {
        let b = base64::engine::general_purpose::STANDARD.encode("BASICKEY:");
        let h = headers(&[("authorization", &format!("Basic {b}"))]);
        let p = parse_query(Some("ws_key=URLKEY"));
        assert_eq!(key(&h, &p, false).as_deref(), Some("BASICKEY"));
        assert_eq!(key(&h, &p, true).as_deref(), Some("URLKEY"));
        assert_eq!(key(&h, &[], true), None);
        assert_eq!(key(&HeaderMap::new(), &[], false), None);
        let empty = base64::engine::general_purpose::STANDARD.encode(":");
        let h = headers(&[("authorization", &format!("Basic {empty}"))]);
        assert_eq!(key(&h, &[], false).as_deref(), Some(""));
    }

    #[test]
    fn ps_method_overrides() {
        let p = parse_query(Some("ps_method=DELETE"));
        assert_eq!(method(&hyper::Method::GET, &p), Ok(Method::Delete));
        assert_eq!(method(&hyper::Method::OPTIONS, &[]), Err("OPTIONS".into()));
        assert_eq!(
            webservice_params(&parse_query(Some("url=x&display=full&ws_key=k"))).len(),
            1
        );
    }
}
