//! Hosting misconfigurations and the web server's own pages (Apache 2.4 on Debian, as in
//! the recordings of hosts 8081–8084): what a reader meets before PHP runs, or instead of it.

use std::str::FromStr;
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The `Server` header of every answer.
pub const SERVER: &str = "Apache/2.4.71 (Debian)";

/// How the shop is hosted; every field can be combined with the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hosting {
    /// The `Authorization` header never reaches PHP (CGI/FastCGI without `CGIPassAuth`):
    /// Basic auth gets the plain 401, `?ws_key=` works (recorded host 8081).
    pub auth_header_stripped: bool,
    /// Every request is redirected (301) to this base URL with the same path and query
    /// (recorded host 8082).
    pub redirect_to: Option<String>,
    /// No URL rewriting: `/api/…` is an Apache 404, `/webservice/dispatcher.php` works (8083).
    pub no_rewrite: bool,
    /// The Webservice is switched off in the back office (503 code 22 with a key).
    pub webservice_disabled: bool,
    /// A web application firewall answering some requests with an HTML 403.
    pub waf: Option<WafSpec>,
    /// The host shows a maintenance page (HTML 503 with `Retry-After`) for every request.
    pub maintenance: bool,
    /// The URL is a plain website, not PrestaShop: `/` is HTML 200, the rest Apache 404 (8084).
    pub not_prestashop: bool,
    /// Serve HTTPS with a self-signed certificate.
    pub tls: bool,
}

/// `Retry-After` seconds on the maintenance page.
pub const MAINTENANCE_RETRY_AFTER: u64 = 600;

/// What a web application firewall (ModSecurity-style) blocks. Syntax of `--waf=SPEC`:
/// comma-separated `rate=P` (a random fraction of requests), `wskey` (any URL carrying
/// `ws_key`), `like` (a `filter[...]` value containing `%`), `pattern=TEXT` (the raw path
/// and query contain TEXT, case-insensitive; repeatable), `seed=N`. `--waf` alone is `rate=0.1`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WafSpec {
    /// Fraction of all requests blocked at random.
    pub rate: f64,
    /// Block every URL that carries `ws_key`.
    pub ws_key: bool,
    /// Block `filter[...]` values containing `%` (LIKE searches).
    pub like: bool,
    /// Block URLs containing any of these (lower-case) texts.
    pub patterns: Vec<String>,
    /// Seed of the random draws.
    pub seed: u64,
}

/// The spec used by `--waf` without a value.
pub const DEFAULT_WAF_SPEC: &str = "rate=0.1";

impl FromStr for WafSpec {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut w = WafSpec {
            seed: 11,
            ..WafSpec::default()
        };
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.split_once('=') {
                None if item == "wskey" => w.ws_key = true,
                None if item == "like" => w.like = true,
                Some(("rate", v)) => {
                    w.rate = v
                        .parse()
                        .ok()
                        .filter(|p: &f64| (0.0..=1.0).contains(p))
                        .ok_or_else(|| format!("waf rate={v}: expected a probability 0..1"))?
                }
                Some(("pattern", v)) if !v.is_empty() => w.patterns.push(v.to_lowercase()),
                Some(("seed", v)) => {
                    w.seed = v
                        .parse()
                        .map_err(|_| format!("waf seed={v}: expected an integer"))?
                }
                _ => {
                    return Err(format!(
                        "waf rule {item:?}: expected rate=P, wskey, like, pattern=TEXT or seed=N"
                    ))
                }
            }
        }
        Ok(w)
    }
}

/// A firewall with its rules and its random draws.
#[derive(Debug)]
pub struct Waf {
    /// The rules.
    pub spec: WafSpec,
    rng: Mutex<ChaCha8Rng>,
}

impl Waf {
    /// A firewall applying `spec`.
    pub fn new(spec: WafSpec) -> Self {
        let rng = ChaCha8Rng::seed_from_u64(spec.seed);
        Waf {
            spec,
            rng: Mutex::new(rng),
        }
    }

    /// True when the firewall blocks a request for `raw_path_and_query` whose decoded query
    /// parameters are `params`.
    pub fn blocks(&self, raw_path_and_query: &str, params: &[(String, String)]) -> bool {
        let s = &self.spec;
        if s.ws_key && params.iter().any(|(k, _)| k == "ws_key") {
            return true;
        }
        if s.like
            && params
                .iter()
                .any(|(k, v)| k.starts_with("filter[") && v.contains('%'))
        {
            return true;
        }
        if !s.patterns.is_empty() {
            let lower = raw_path_and_query.to_lowercase();
            let decoded = percent_encoding::percent_decode_str(&lower).decode_utf8_lossy();
            if s.patterns
                .iter()
                .any(|p| lower.contains(p.as_str()) || decoded.contains(p.as_str()))
            {
                return true;
            }
        }
        s.rate > 0.0 && self.rng.lock().expect("waf rng").gen::<f64>() < s.rate
    }
}

fn apache_page(title: &str, heading: &str, text: &str, host: &str, port: u16) -> String {
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n\
         <html><head>\n<title>{title}</title>\n</head><body>\n<h1>{heading}</h1>\n<p>{text}</p>\n<hr>\n\
         <address>{SERVER} Server at {host} Port {port}</address>\n</body></html>\n"
    )
}

/// Apache's 404 page (`text/html; charset=iso-8859-1`), byte-identical to the recordings.
pub fn not_found_page(host: &str, port: u16) -> String {
    apache_page(
        "404 Not Found",
        "Not Found",
        "The requested URL was not found on this server.",
        host,
        port,
    )
}

/// Apache's 301 page for `location` (HTML-escaped in the link), as recorded on host 8082.
pub fn moved_page(location: &str, host: &str, port: u16) -> String {
    let href = location
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    apache_page(
        "301 Moved Permanently",
        "Moved Permanently",
        &format!("The document has moved <a href=\"{href}\">here</a>."),
        host,
        port,
    )
}

/// The 403 page Apache serves when ModSecurity denies a request.
pub fn forbidden_page(host: &str, port: u16) -> String {
    apache_page(
        "403 Forbidden",
        "Forbidden",
        "You don't have permission to access this resource.",
        host,
        port,
    )
}

/// A hosting provider's maintenance page (HTML 503).
pub fn maintenance_page() -> String {
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
     <title>Site under maintenance</title>\n</head>\n<body>\n<h1>We'll be back soon</h1>\n\
     <p>This website is undergoing scheduled maintenance. Please try again later.</p>\n\
     </body>\n</html>\n"
        .to_string()
}

/// The home page of the plain website of host 8084, byte-identical to the recording.
pub const NOT_PRESTASHOP_HOME: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Acme Plumbing &amp; Heating</title>\n</head>\n<body>\n<h1>Acme Plumbing &amp; Heating</h1>\n<p>Family-run plumbers since 1987. Call us on 555-0100.</p>\n<p>This is a plain static website, not a PrestaShop store.</p>\n</body>\n</html>\n";

/// The text/html body of the dispatcher's 401 without credentials.
pub const UNAUTHORIZED_BODY: &str = "401 Unauthorized";

/// The `WWW-Authenticate` header of every authentication failure.
pub const WWW_AUTHENTICATE: &str = "Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\"";

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/prestashop-8.1.2/two-languages-scaled/"
    );

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}{name}")).expect("fixture")
    }

    #[test]
    fn pages_match_the_recordings() {
        assert_eq!(
            not_found_page("127.0.0.1", 8083),
            fixture("v8083_api_404.html")
        );
        assert_eq!(
            moved_page(
                "http://127.0.0.1:8080/api/orders?display=[id]&limit=0,3&output_format=JSON",
                "127.0.0.1",
                8082
            ),
            fixture("v8082_redirect_orders.html")
        );
        assert_eq!(NOT_PRESTASHOP_HOME, fixture("v8084_root.html"));
        assert_eq!(UNAUTHORIZED_BODY, fixture("err_no_auth.html"));
    }

    #[test]
    fn waf_rules() {
        let params = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        let w = Waf::new("wskey,like".parse().unwrap());
        assert!(w.blocks("/api/orders?ws_key=X", &params("ws_key", "X")));
        assert!(w.blocks("/api/customers", &params("filter[email]", "%@x.com")));
        assert!(!w.blocks("/api/orders", &params("display", "full")));
        let w = Waf::new("pattern=union select".parse().unwrap());
        assert!(w.blocks("/api/orders?filter[x]=1%20UNION%20SELECT", &[]));
        let w = Waf::new(DEFAULT_WAF_SPEC.parse().unwrap());
        let blocked = (0..1000).filter(|_| w.blocks("/api/orders", &[])).count();
        assert!(
            (50..=150).contains(&blocked),
            "{blocked} of 1000 at rate 0.1"
        );
        assert!("rate=3".parse::<WafSpec>().is_err());
    }
}
