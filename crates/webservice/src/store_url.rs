//! The store URL as a type: accepts what merchants paste and normalizes it to the shop's base
//! address (scheme, host, port and the folder PrestaShop is installed in, ending with `/`).

use std::fmt;

use url::{Host, Url};

use crate::error::Error;

/// The normalized base address of a PrestaShop store, e.g. `https://shop.example/` or
/// `https://example.com/shop/`. The Webservice lives at `<base>api/` or
/// `<base>webservice/dispatcher.php`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StoreUrl(Url);

impl StoreUrl {
    /// Parses what a merchant pasted: a bare host (`shop.example`, https assumed), a front-office
    /// or back-office page, an `/api/…` or `dispatcher.php` URL; spaces around it, an upper-case
    /// scheme and international domain names are fine. Query, fragment and everything from the
    /// `api`, `webservice`, `*.php` or `admin…` path segment on are dropped.
    pub fn parse(input: &str) -> Result<StoreUrl, Error> {
        let reject = |reason: String| Error::InvalidStoreUrl {
            input: shown_input(input),
            reason,
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(reject("no store address was given".into()));
        }
        if let Some(c) = trimmed
            .chars()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            return Err(reject(format!(
                "it contains {c:?}; a web address has no spaces or control characters"
            )));
        }
        if let Some((scheme, rest)) = trimmed.split_once(':') {
            let slashes = rest.len() - rest.trim_start_matches(['/', '\\']).len();
            let is_web =
                scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            if is_web && (slashes != 2 || !rest.starts_with("//")) {
                let scheme = scheme.to_ascii_lowercase();
                let host = rest.trim_start_matches(['/', '\\']);
                return Err(reject(format!(
                    "the slashes after '{scheme}:' are wrong; write two forward slashes: \
                     {scheme}://{host}"
                )));
            }
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_owned()
        } else if trimmed.starts_with("//") {
            format!("https:{trimmed}")
        } else {
            format!("https://{trimmed}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| reject(describe_parse_error(e)))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(reject(format!(
                "it uses the scheme '{}'; a store address starts with https:// or http://",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(reject(
                "it contains a user name or key before '@'; give the address without it and the \
                 Webservice key separately"
                    .into(),
            ));
        }
        match url.host() {
            None => return Err(reject("it has no host name".into())),
            Some(Host::Domain(domain)) => {
                let domain = domain.trim_end_matches('.');
                if domain != "localhost" && !domain.contains('.') {
                    return Err(reject(format!(
                        "'{domain}' is not a complete domain name (for example shop.example.com)"
                    )));
                }
                if domain.split('.').any(str::is_empty) {
                    return Err(reject(format!("'{domain}' has an empty label")));
                }
            }
            Some(_) => {}
        }
        let base_path = base_path(url.path());
        url.set_path(&base_path);
        url.set_query(None);
        url.set_fragment(None);
        Ok(StoreUrl(url))
    }

    /// Whether `input` names its scheme (`http://…`, `https://…`); without one, https is
    /// assumed and [`crate::diagnose::diagnose`] falls back to http when the port speaks it.
    pub fn scheme_given(input: &str) -> bool {
        let input = input.trim().to_ascii_lowercase();
        input.starts_with("http://") || input.starts_with("https://")
    }

    /// The same address over plain http (the port kept if one was given, else 80).
    pub fn with_http(&self) -> StoreUrl {
        let mut url = self.0.clone();
        let port = url.port();
        let _ = url.set_scheme("http");
        let _ = url.set_port(port);
        StoreUrl(url)
    }

    /// Whether the address gives a port (`host:8080`).
    pub fn has_port(&self) -> bool {
        self.0.port().is_some()
    }

    /// The base address as a `Url` (always ends with `/`).
    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// The host name (punycode for international names) or IP address.
    pub fn host(&self) -> String {
        self.0.host_str().unwrap_or_default().to_owned()
    }

    /// Whether the store is reached over HTTPS.
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        match self.0.host() {
            Some(Host::Domain(d)) => d == "localhost",
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }

    /// `<base>api/<path>` (the rewritten URL form).
    pub fn api_url(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        url.set_path(&format!("{}api/{}", self.0.path(), path));
        url
    }

    /// `<base>webservice/dispatcher.php` (the form that works without URL rewriting).
    pub fn dispatcher_url(&self) -> Url {
        let mut url = self.0.clone();
        url.set_path(&format!("{}webservice/dispatcher.php", self.0.path()));
        url
    }

    /// The enclosing folder (`https://x/shop/en/` → `https://x/shop/`), `None` at the host root.
    /// Used when the Webservice is not found under a pasted front-office folder such as `/en/`.
    pub fn parent(&self) -> Option<StoreUrl> {
        let path = self.0.path().trim_end_matches('/');
        let cut = path.rfind('/')?;
        let mut url = self.0.clone();
        url.set_path(&format!("{}/", &path[..cut]));
        Some(StoreUrl(url))
    }

    /// Whether `other` is on the same scheme, host and port (where credentials may be sent).
    pub fn same_origin(&self, other: &Url) -> bool {
        self.0.origin() == other.origin()
    }
}

/// The input as it may be shown back: trimmed, at most 200 characters, without a key pasted
/// into it (`KEY@host`, `ws_key=KEY`).
fn shown_input(input: &str) -> String {
    let mut shown = crate::redact::redact_text(input.trim(), "");
    let authority_start = shown.find("://").map_or(0, |i| i + 3);
    let authority_end = shown[authority_start..]
        .find(['/', '?', '#'])
        .map_or(shown.len(), |i| authority_start + i);
    if let Some(at) = shown[authority_start..authority_end].rfind('@') {
        shown.replace_range(
            authority_start..authority_start + at,
            crate::redact::REDACTED,
        );
    }
    shown.chars().take(200).collect()
}

/// Keeps the folder PrestaShop is installed in: the path up to the first segment that belongs
/// to PrestaShop itself (`api`, `webservice`, a `.php` script, the `admin…` back-office folder).
fn base_path(path: &str) -> String {
    let mut kept = Vec::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let lower = segment.to_ascii_lowercase();
        let page = [".php", ".html", ".htm", ".asp", ".aspx", ".jsp"]
            .iter()
            .any(|ext| lower.ends_with(ext));
        if lower == "api" || lower == "webservice" || page || lower.starts_with("admin") {
            break;
        }
        kept.push(segment);
    }
    let mut out = String::from("/");
    for segment in kept {
        out.push_str(segment);
        out.push('/');
    }
    out
}

fn describe_parse_error(error: url::ParseError) -> String {
    use url::ParseError::*;
    match error {
        EmptyHost => "it has no host name".into(),
        InvalidPort => "its port is not a number between 1 and 65535".into(),
        InvalidIpv4Address | InvalidIpv6Address => "its IP address is malformed".into(),
        InvalidDomainCharacter => {
            "its host name contains characters not allowed in a domain".into()
        }
        IdnaError => "its international domain name cannot be converted (IDNA)".into(),
        other => format!("it is not a web address ({other})"),
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({})", self.0)
    }
}

impl serde::Serialize for StoreUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn norm(input: &str) -> String {
        StoreUrl::parse(input)
            .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
            .to_string()
    }

    fn reason(input: &str) -> String {
        match StoreUrl::parse(input) {
            Err(Error::InvalidStoreUrl { reason, .. }) => reason,
            other => panic!("{input:?} should be rejected, got {other:?}"),
        }
    }

    #[test]
    fn normalizes_what_merchants_paste() {
        assert_eq!(norm("shop.example"), "https://shop.example/");
        assert_eq!(norm("  https://shop.example/  "), "https://shop.example/");
        assert_eq!(norm("HTTPS://Shop.Example"), "https://shop.example/");
        assert_eq!(
            norm("http://shop.example/index.php"),
            "http://shop.example/"
        );
        assert_eq!(norm("https://shop.example/api/"), "https://shop.example/");
        assert_eq!(
            norm("https://shop.example/api/orders?display=full"),
            "https://shop.example/"
        );
        assert_eq!(
            norm("https://shop.example/admin123abc/index.php?controller=AdminOrders&token=x"),
            "https://shop.example/"
        );
        assert_eq!(
            norm("https://example.com/boutique/admin-dev/index.php/sell/orders/"),
            "https://example.com/boutique/"
        );
        assert_eq!(
            norm("https://example.com/shop/webservice/dispatcher.php?url=orders"),
            "https://example.com/shop/"
        );
        assert_eq!(norm("http://127.0.0.1:8080"), "http://127.0.0.1:8080/");
        assert_eq!(norm("localhost:8080/shop"), "https://localhost:8080/shop/");
        assert_eq!(
            norm("https://bücher.example/"),
            "https://xn--bcher-kva.example/"
        );
        assert_eq!(norm("//shop.example/#top"), "https://shop.example/");
        assert_eq!(
            norm("https://shop.example/en/men/1-1-hummingbird-printed-t-shirt.html#/1-size-s"),
            "https://shop.example/en/men/"
        );
        let en = StoreUrl::parse("https://shop.example/shop/en/").unwrap();
        assert_eq!(
            en.parent().unwrap().to_string(),
            "https://shop.example/shop/"
        );
        assert_eq!(
            en.parent().unwrap().parent().unwrap().to_string(),
            "https://shop.example/"
        );
        assert_eq!(en.parent().unwrap().parent().unwrap().parent(), None);
    }

    #[test]
    fn rejects_what_is_not_a_store_address_with_a_reason() {
        assert!(reason("").contains("no store address"));
        assert!(reason("my shop").contains("no spaces"));
        assert!(reason("ftp://shop.example").contains("scheme 'ftp'"));
        assert!(reason("https://KEY@shop.example").contains("separately"));
        match StoreUrl::parse("https://SECRETKEY@shop.example/api/?ws_key=OTHERSECRET x") {
            Err(Error::InvalidStoreUrl { input, .. }) => {
                assert!(
                    !input.contains("SECRETKEY") && !input.contains("OTHERSECRET"),
                    "{input}"
                );
                assert!(input.contains("shop.example"));
            }
            other => panic!("{other:?}"),
        }
        assert!(reason("hello").contains("not a complete domain"));
        assert!(reason("https://shop.example:99999").contains("port"));
        assert!(reason("https://").contains("host"));
        assert!(reason("https://shop..example").contains("empty label"));
    }

    #[test]
    fn builds_webservice_urls_under_the_install_folder() {
        let url = StoreUrl::parse("https://example.com/shop/").unwrap();
        assert_eq!(
            url.api_url("orders").as_str(),
            "https://example.com/shop/api/orders"
        );
        assert_eq!(url.api_url("").as_str(), "https://example.com/shop/api/");
        assert_eq!(
            url.dispatcher_url().as_str(),
            "https://example.com/shop/webservice/dispatcher.php"
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_output_is_a_stable_base(input in "\\PC{0,60}") {
            match StoreUrl::parse(&input) {
                Ok(url) => {
                    let text = url.to_string();
                    prop_assert!(text.starts_with("http://") || text.starts_with("https://"));
                    prop_assert!(text.ends_with('/'));
                    prop_assert!(url.as_url().query().is_none());
                    // Normalizing is idempotent.
                    prop_assert_eq!(StoreUrl::parse(&text).unwrap().to_string(), text);
                }
                Err(Error::InvalidStoreUrl { reason, .. }) => prop_assert!(!reason.is_empty()),
                Err(other) => prop_assert!(false, "unexpected error {:?}", other),
            }
        }

        #[test]
        fn hostile_url_like_input(scheme in "(https?|HTTP|ftp|javascript)?(://)?",
                                  host in "[a-zA-Z0-9.\\-_~%@:\\[\\]]{0,30}",
                                  path in "(/[a-zA-Z0-9.%?#&=]{0,10}){0,4}") {
            let input = format!("{scheme}{host}{path}");
            if let Ok(url) = StoreUrl::parse(&input) {
                prop_assert!(url.as_url().username().is_empty());
                prop_assert!(url.as_url().host_str().is_some());
            }
        }
    }
}
