//! Connection diagnosis: probe a store once, work around what can be worked around (ws_key when
//! the Authorization header is stripped, dispatcher.php when URL rewriting is off), and say in
//! the merchant's terms what is wrong and how to fix it.

use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::client::{AuthMode, Client, Connection, ResponseMeta, UrlMode};
use crate::decode::ResourceIndex;
use crate::error::{Error, Format, HtmlKind};
use crate::key::WebserviceKey;
use crate::query::{Display, Filter, Query};
use crate::record::Record;
use crate::store_url::StoreUrl;

/// Which PrestaShop resources each commerce data type reads (from the commerce model).
pub const DATA_TYPE_SOURCES: &[(&str, &[&str])] = &[
    ("commerce-info", &["configurations", "shops", "shop_urls"]),
    (
        "commerce-customers",
        &["customers", "addresses", "countries", "states"],
    ),
    (
        "commerce-orders",
        &[
            "orders",
            "order_details",
            "order_payments",
            "order_slip",
            "order_carriers",
            "order_cart_rules",
            "order_states",
            "currencies",
            "addresses",
            "countries",
            "carriers",
        ],
    ),
    (
        "commerce-payments",
        &["order_payments", "orders", "order_states", "currencies"],
    ),
    ("commerce-paymentMethods", &["orders", "order_payments"]),
    (
        "commerce-products",
        &[
            "products",
            "combinations",
            "product_option_values",
            "product_options",
            "categories",
            "stock_availables",
            "taxes",
            "tax_rule_groups",
            "currencies",
        ],
    ),
    ("commerce-productCategories", &["categories"]),
    (
        "commerce-taxComponents",
        &["taxes", "tax_rule_groups", "tax_rules"],
    ),
    ("commerce-transactions", &["order_payments", "order_slip"]),
    ("commerce-locations", &["shops", "configurations", "stores"]),
];

/// Where keys are managed, as the back office names it.
const WEBSERVICE_PAGE: &str = "Advanced Parameters > Webservice";

/// Options of a diagnosis.
#[derive(Debug, Clone)]
pub struct DiagnoseOptions {
    /// The merchant confirmed that the store URL may be replaced by where it redirects.
    pub accept_redirect: bool,
    /// Accept a TLS certificate that does not verify (self-signed).
    pub accept_invalid_certs: bool,
    /// Certificate authorities to trust besides the bundled roots and the operating system's
    /// store (`--ca-file`, `SSL_CERT_FILE`).
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Time limit for each request.
    pub timeout: Duration,
    /// Preferred record format for the connection that results.
    pub format: Format,
    /// Reach public addresses only: every connection the diagnosis makes (and the one it
    /// returns) refuses loopback, private, link-local, cloud metadata and other non-public
    /// addresses ([`Connection::public_only`]); a store that points to one ends with
    /// [`DiagnosisCode::ForbiddenAddress`]. Off by default; servers that accept store URLs
    /// from their API clients turn it on.
    pub public_only: bool,
    /// Who reads, in the `User-Agent` of every request ([`Connection::reader`]).
    pub reader: Option<String>,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            accept_redirect: false,
            accept_invalid_certs: false,
            extra_roots: Vec::new(),
            timeout: Duration::from_secs(15),
            format: Format::Json,
            public_only: false,
            reader: None,
        }
    }
}

/// The outcome of a diagnosis, as a stable machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisCode {
    /// The store can be read (warnings may apply).
    Connected,
    /// The store URL redirects; the destination needs the merchant's confirmation.
    RedirectNeedsConfirmation,
    /// The store URL is not usable.
    InvalidUrl,
    /// The key is malformed.
    InvalidKeyFormat,
    /// The host cannot be found or refuses connections.
    Unreachable,
    /// The store does not answer in time.
    Timeout,
    /// The TLS handshake failed (e.g. self-signed certificate).
    TlsError,
    /// An https:// address whose port speaks plain HTTP.
    PlainHttp,
    /// No PrestaShop Webservice at this address.
    NotPrestashop,
    /// A firewall or security filter blocks the requests.
    Blocked,
    /// A maintenance page answers.
    Maintenance,
    /// The Webservice is switched off in the back office.
    WebserviceDisabled,
    /// The key is unknown or inactive.
    InvalidKey,
    /// The key can read none of the commerce resources.
    NoPermission,
    /// The server failed (5xx, unreadable answer).
    ServerError,
    /// The store address points to a private or local network address, which this
    /// prestalink may not connect to ([`DiagnoseOptions::public_only`]).
    ForbiddenAddress,
}

impl DiagnosisCode {
    /// The code as it appears in JSON (`connected`, `tls_error`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosisCode::Connected => "connected",
            DiagnosisCode::RedirectNeedsConfirmation => "redirect_needs_confirmation",
            DiagnosisCode::InvalidUrl => "invalid_url",
            DiagnosisCode::InvalidKeyFormat => "invalid_key_format",
            DiagnosisCode::Unreachable => "unreachable",
            DiagnosisCode::Timeout => "timeout",
            DiagnosisCode::TlsError => "tls_error",
            DiagnosisCode::PlainHttp => "plain_http",
            DiagnosisCode::NotPrestashop => "not_prestashop",
            DiagnosisCode::Blocked => "blocked",
            DiagnosisCode::Maintenance => "maintenance",
            DiagnosisCode::WebserviceDisabled => "webservice_disabled",
            DiagnosisCode::InvalidKey => "invalid_key",
            DiagnosisCode::NoPermission => "no_permission",
            DiagnosisCode::ServerError => "server_error",
            DiagnosisCode::ForbiddenAddress => "forbidden_address",
        }
    }
}

/// A warning: the store can be read, but something should be fixed or known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// The server strips the Authorization header; the key goes in the URL instead.
    AuthHeaderStripped,
    /// `/api/` does not exist; `dispatcher.php` is used instead.
    UrlRewritingOff,
    /// The key cannot read some resources; some data types will be incomplete.
    MissingPermissions,
    /// PrestaShop older than 8.0 (unmaintained; no conditional reads).
    OldVersion,
    /// The store is reached over plain HTTP.
    InsecureHttp,
}

/// One warning with its explanation and fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable code.
    pub code: WarningCode,
    /// What is going on.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// A redirect that was seen (and, when confirmed, followed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redirect {
    /// The store URL that was given.
    pub from: String,
    /// The store URL it redirects to.
    pub to: String,
}

/// A resource the key cannot read and the data types that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MissingPermission {
    /// The PrestaShop resource (`orders`).
    pub resource: String,
    /// The data types that read it (`commerce-orders`, …).
    pub data_types: Vec<String>,
}

/// An installed language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LanguageInfo {
    /// `id_lang`.
    pub id: u64,
    /// ISO code (`en`).
    pub iso_code: String,
    /// Name (`English (English)`).
    pub name: String,
    /// Whether the language is active.
    pub active: bool,
    /// Whether it is the shop's default language (`PS_LANG_DEFAULT`).
    pub default: bool,
}

/// A shop of the (multi)store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopInfo {
    /// `id_shop`.
    pub id: u64,
    /// Shop name.
    pub name: String,
}

/// The result of [`diagnose()`]: what works, what does not, and how to fix it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    /// Whether the store can be read.
    pub ok: bool,
    /// Stable outcome code.
    pub code: DiagnosisCode,
    /// What was found, in the merchant's terms.
    pub message: String,
    /// What to do (absent when nothing is to be done).
    pub fix: Option<String>,
    /// The normalized (and, after a confirmed redirect, updated) store URL.
    pub store_url: Option<String>,
    /// The redirect that was seen.
    pub redirect: Option<Redirect>,
    /// How the key is sent.
    pub auth_mode: Option<AuthMode>,
    /// Which URL form works.
    pub url_mode: Option<UrlMode>,
    /// PrestaShop version (`PSWS-Version`).
    pub version: Option<String>,
    /// Resources the key may use, with their methods.
    pub resources: IndexMap<String, Vec<&'static str>>,
    /// Resources prestalink needs that the key cannot read.
    pub missing_permissions: Vec<MissingPermission>,
    /// Warnings (the store can still be read).
    pub warnings: Vec<Warning>,
    /// Installed languages.
    pub languages: Vec<LanguageInfo>,
    /// Shops.
    pub shops: Vec<ShopInfo>,
    /// `PS_TIMEZONE`.
    pub timezone: Option<String>,
    /// ISO code of the default currency (`PS_CURRENCY_DEFAULT`).
    pub currency: Option<String>,
    /// The resolved connection, when the store can be read (for the sync engine).
    #[serde(skip)]
    pub connection: Option<Connection>,
}

impl Diagnosis {
    fn new() -> Diagnosis {
        Diagnosis {
            ok: false,
            code: DiagnosisCode::ServerError,
            message: String::new(),
            fix: None,
            store_url: None,
            redirect: None,
            auth_mode: None,
            url_mode: None,
            version: None,
            resources: IndexMap::new(),
            missing_permissions: Vec::new(),
            warnings: Vec::new(),
            languages: Vec::new(),
            shops: Vec::new(),
            timezone: None,
            currency: None,
            connection: None,
        }
    }

    fn fail(mut self, code: DiagnosisCode, message: String, fix: String) -> Diagnosis {
        self.ok = false;
        self.code = code;
        self.message = message;
        self.fix = Some(fix);
        self
    }

    fn warn(&mut self, code: WarningCode, message: String, fix: String) {
        if !self.warnings.iter().any(|w| w.code == code) {
            self.warnings.push(Warning { code, message, fix });
        }
    }
}

/// Probes the store behind `url` with `key` and explains the outcome. Never fails: every
/// problem becomes a [`Diagnosis`] with a code, a message and a fix.
pub async fn diagnose(url: &str, key: &str, options: &DiagnoseOptions) -> Diagnosis {
    let diagnosis = Diagnosis::new();
    let store_url = match StoreUrl::parse(url) {
        Ok(store_url) => store_url,
        Err(e) => {
            let (code, message, fix) = explain(&e, "");
            return diagnosis.fail(code, message, fix);
        }
    };
    let mut diagnosis = diagnosis;
    diagnosis.store_url = Some(store_url.to_string());
    let key = match WebserviceKey::parse(key) {
        Ok(key) => key,
        Err(e) => {
            let (code, message, fix) = explain(&e, &store_url.host());
            return diagnosis.fail(code, message, fix);
        }
    };
    let assumed_https = !StoreUrl::scheme_given(url);
    match discover(store_url, key, options, assumed_https, &mut diagnosis).await {
        Ok((client, index, meta)) => describe(diagnosis, client, index, meta).await,
        Err(e) => {
            let host = diagnosis
                .store_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let (code, message, fix) = explain(&e, &host);
            diagnosis.fail(code, message, fix)
        }
    }
}

/// Resolves a working connection (redirects when confirmed, auth mode, URL form) without
/// describing the store: what the sync engine calls before reading.
pub async fn connect(
    url: &StoreUrl,
    key: &WebserviceKey,
    options: &DiagnoseOptions,
) -> Result<Client, Error> {
    let mut scratch = Diagnosis::new();
    discover(url.clone(), key.clone(), options, false, &mut scratch)
        .await
        .map(|(client, _, _)| client)
}

/// `assumed_https`: the address was given without a scheme; when its https port speaks plain
/// HTTP (or, without a port, 443 is closed), http is tried before giving up.
async fn discover(
    store_url: StoreUrl,
    key: WebserviceKey,
    options: &DiagnoseOptions,
    assumed_https: bool,
    diagnosis: &mut Diagnosis,
) -> Result<(Client, ResourceIndex, ResponseMeta), Error> {
    let mut original = store_url.clone();
    let mut https_error: Option<Error> = None;
    let mut connection = Connection::new(store_url, key);
    connection.format = options.format;
    connection.timeout = options.timeout;
    connection.connect_timeout = options.timeout;
    connection.accept_invalid_certs = options.accept_invalid_certs;
    connection.extra_roots = options.extra_roots.clone();
    connection.public_only = options.public_only;
    connection.reader = options.reader.clone();
    let mut stripped = false;
    let mut dispatcher = false;
    let mut hops = 0;
    let mut folders_tried = 0;
    let result = loop {
        let client = Client::new(connection.clone())?;
        match client.resources().await {
            Ok((index, meta)) => break Ok((client, index, meta)),
            // No scheme was given and https does not answer as https: try http, as a browser
            // would, with the insecure_http warning that describe() adds.
            // (An untrusted certificate is never a reason to fall back: that is what an
            // attacker in the middle would cause.)
            Err(e @ (Error::PlainHttp { .. } | Error::ConnectionRefused { .. }))
                if assumed_https
                    && https_error.is_none()
                    && connection.store_url.is_https()
                    && (matches!(e, Error::PlainHttp { .. })
                        || !connection.store_url.has_port()) =>
            {
                connection.store_url = connection.store_url.with_http();
                original = connection.store_url.clone();
                https_error = Some(e);
            }
            // http did not answer either: the https failure is the one to explain.
            Err(Error::ConnectionRefused { .. } | Error::Dns { .. } | Error::Timeout { .. })
                if https_error.is_some() && hops == 0 =>
            {
                break Err(https_error.take().expect("checked"));
            }
            Err(Error::Redirect { to, status, .. }) => {
                let target = StoreUrl::parse(&to).map_err(|_| Error::Status {
                    status,
                    excerpt: format!("it redirects to an address that is not a shop: {to}"),
                    url: connection.store_url.to_string(),
                    retry_after: None,
                })?;
                diagnosis.redirect = Some(Redirect {
                    from: original.to_string(),
                    to: target.to_string(),
                });
                if !options.accept_redirect {
                    break Err(Error::Redirect {
                        from: original.to_string(),
                        to: target.to_string(),
                        status,
                    });
                }
                hops += 1;
                if target == connection.store_url || hops > 5 {
                    break Err(Error::Status {
                        status,
                        excerpt: format!("the Webservice keeps redirecting (to {to})"),
                        url: connection.store_url.to_string(),
                        retry_after: None,
                    });
                }
                // Credentials go only to the confirmed destination from now on.
                connection.store_url = target;
            }
            Err(Error::CredentialsNotReceived { .. })
                if connection.auth_mode == AuthMode::Basic =>
            {
                stripped = true;
                connection.auth_mode = AuthMode::WsKey;
            }
            Err(Error::Html {
                kind: HtmlKind::NotFound | HtmlKind::OtherPage,
                ..
            })
            | Err(Error::Status { status: 404, .. })
                if connection.url_mode == UrlMode::Rewrite =>
            {
                dispatcher = true;
                connection.url_mode = UrlMode::Dispatcher;
            }
            // Neither form exists in this folder: a pasted front-office folder such as `/en/`
            // (language prefix) is not where PrestaShop is installed; try the enclosing ones.
            Err(
                e @ (Error::Html {
                    kind: HtmlKind::NotFound | HtmlKind::OtherPage,
                    ..
                }
                | Error::Status { status: 404, .. }),
            ) => match connection.store_url.parent() {
                Some(parent) if folders_tried < 3 => {
                    folders_tried += 1;
                    connection.store_url = parent;
                    connection.url_mode = UrlMode::Rewrite;
                    dispatcher = false;
                }
                _ => break Err(e),
            },
            Err(e) => break Err(e),
        }
    };
    diagnosis.store_url = Some(match &result {
        Ok(_) => connection.store_url.to_string(),
        // On failure, show the address that was given (or confirmed), not the last folder tried.
        Err(_) if folders_tried > 0 => diagnosis
            .redirect
            .as_ref()
            .map_or(original.to_string(), |r| r.to.clone()),
        Err(_) => connection.store_url.to_string(),
    });
    let reached_prestashop = match &result {
        Ok(_) => true,
        Err(e) => !matches!(
            e,
            Error::Html { .. }
                | Error::Status { .. }
                | Error::Timeout { .. }
                | Error::Dns { .. }
                | Error::ConnectionRefused { .. }
                | Error::Tls { .. }
                | Error::PlainHttp { .. }
                | Error::Transport { .. }
                | Error::ForbiddenAddress { .. }
                | Error::Redirect { .. }
                | Error::Decode { .. }
        ),
    };
    if stripped {
        let (message, fix) = warning_text(WarningCode::AuthHeaderStripped, &[]);
        diagnosis.warn(WarningCode::AuthHeaderStripped, message, fix);
    }
    if dispatcher && reached_prestashop {
        let (message, fix) = warning_text(WarningCode::UrlRewritingOff, &[]);
        diagnosis.warn(WarningCode::UrlRewritingOff, message, fix);
    }
    if reached_prestashop {
        diagnosis.auth_mode = Some(connection.auth_mode);
        diagnosis.url_mode = Some(connection.url_mode);
    }
    result
}

/// Fills in everything a readable store tells about itself.
async fn describe(
    mut d: Diagnosis,
    client: Client,
    index: ResourceIndex,
    meta: ResponseMeta,
) -> Diagnosis {
    let connection = client.connection().clone();
    if !connection.store_url.is_https() {
        let (message, fix) = warning_text(WarningCode::InsecureHttp, &[]);
        d.warn(WarningCode::InsecureHttp, message, fix);
    }
    d.version = meta.ps_version.filter(|v| v != "0");
    if let Some(version) = &d.version {
        if is_older_than_8(version) {
            let (message, fix) = warning_text(WarningCode::OldVersion, &[version]);
            d.warn(WarningCode::OldVersion, message, fix);
        }
    }
    d.resources = index
        .resources
        .iter()
        .map(|(name, methods)| (name.clone(), methods.names()))
        .collect();
    d.missing_permissions = missing_permissions(&index);
    let needed: Vec<&str> = needed_resources();
    if !needed.iter().any(|r| index.can_read(r)) {
        return d.fail(
            DiagnosisCode::NoPermission,
            "The key is valid, but it may not read any of the data prestalink needs (orders, \
             customers, products, …)."
                .into(),
            format!(
                "In the back office open {WEBSERVICE_PAGE}, edit this key and tick the View (GET) \
                 column for: {}. Then save.",
                needed.join(", ")
            ),
        );
    }
    if !d.missing_permissions.is_empty() {
        let resources: Vec<&str> = d
            .missing_permissions
            .iter()
            .map(|m| m.resource.as_str())
            .collect();
        let mut lost: Vec<&str> = d
            .missing_permissions
            .iter()
            .flat_map(|m| m.data_types.iter().map(String::as_str))
            .collect();
        lost.sort_unstable();
        lost.dedup();
        let (message, fix) = warning_text(
            WarningCode::MissingPermissions,
            &[&resources.join(", "), &lost.join(", ")],
        );
        d.warn(WarningCode::MissingPermissions, message, fix);
    }
    read_store_facts(&mut d, &client, &index).await;
    let shop = index
        .shop_name
        .clone()
        .unwrap_or_else(|| connection.store_url.host());
    d.ok = true;
    d.code = DiagnosisCode::Connected;
    d.message = format!(
        "Connected to {shop}{}. The key can read {} of the {} resources prestalink uses.",
        d.version
            .as_ref()
            .map(|v| format!(" (PrestaShop {v})"))
            .unwrap_or_default(),
        needed.iter().filter(|r| index.can_read(r)).count(),
        needed.len()
    );
    d.fix = match d
        .warnings
        .iter()
        .find(|w| w.code == WarningCode::MissingPermissions)
    {
        Some(missing) => Some(missing.fix.clone()),
        None if !d.warnings.is_empty() => Some(
            "Nothing is required to read the store; each warning says what would improve it."
                .into(),
        ),
        None => None,
    };
    d.connection = Some(connection);
    d
}

/// The message and fix of a warning; `details` are what it names (OldVersion: the version;
/// MissingPermissions: the resources, then the data types lost).
fn warning_text(code: WarningCode, details: &[&str]) -> (String, String) {
    let detail = |i: usize| details.get(i).copied().unwrap_or("…");
    match code {
        WarningCode::AuthHeaderStripped => (
            "Your web server removes the Authorization header before it reaches PrestaShop, so \
             prestalink sends the key in the address (ws_key=…) instead. This works, but the key \
             can end up in server logs."
                .into(),
            "Let the header through: on Apache add the line 'CGIPassAuth On' to the .htaccess \
             file of the shop (or 'SetEnvIf Authorization \"(.*)\" HTTP_AUTHORIZATION=$1'), or in \
             the back office open Advanced Parameters > Webservice, set 'Enable CGI mode for PHP' \
             to Yes and save (PrestaShop then adds the HTTP_AUTHORIZATION rule to .htaccess)."
                .into(),
        ),
        WarningCode::UrlRewritingOff => (
            "URL rewriting is off on your server (the address /api/ does not exist), so \
             prestalink uses /webservice/dispatcher.php, which gives the same data."
                .into(),
            "Nothing is required. To use the usual /api/ address, enable Apache mod_rewrite \
             (with AllowOverride All), then in the back office open Shop Parameters > Traffic & \
             SEO, turn on Friendly URL and save to regenerate .htaccess."
                .into(),
        ),
        WarningCode::MissingPermissions => {
            let resources = detail(0);
            (
                format!(
                    "The key cannot read {resources}, so these data types will be missing \
                     (a sync reports them PermissionsError and reads nothing for them): {}.",
                    detail(1)
                ),
                format!(
                    "In the back office open {WEBSERVICE_PAGE}, edit this key and tick the View \
                     (GET) column for: {resources}. Then save."
                ),
            )
        }
        WarningCode::OldVersion => (
            format!(
                "PrestaShop {} is older than 8.0: it no longer receives fixes, and its \
                 Webservice cannot tell unchanged data apart (no Local-Content-Sha1), so every \
                 sync re-reads more.",
                detail(0)
            ),
            "Reading works. Upgrade PrestaShop to 8 or later (back office: Advanced Parameters \
             > Information shows the version; use the 1-Click Upgrade module)."
                .into(),
        ),
        WarningCode::InsecureHttp => (
            "The shop is reached over http://, so the Webservice key and your data travel \
             unencrypted."
                .into(),
            "Use the https:// address of the shop; if it has no certificate, ask your host for \
             one (most offer a free Let's Encrypt certificate)."
                .into(),
        ),
    }
}

/// One line of the troubleshooting table: a code, an example of its message and its fix,
/// produced by the same functions as a real diagnosis (see [`troubleshooting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TroubleshootingEntry {
    /// The code as it appears in JSON.
    pub code: &'static str,
    /// Whether the store cannot be read (a failure) or can (a warning, or `connected`).
    pub failure: bool,
    /// An example of the message.
    pub message: String,
    /// Its fix.
    pub fix: String,
}

impl WarningCode {
    /// Every warning code.
    pub const ALL: [WarningCode; 5] = [
        WarningCode::AuthHeaderStripped,
        WarningCode::UrlRewritingOff,
        WarningCode::MissingPermissions,
        WarningCode::OldVersion,
        WarningCode::InsecureHttp,
    ];

    /// The code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::AuthHeaderStripped => "auth_header_stripped",
            WarningCode::UrlRewritingOff => "url_rewriting_off",
            WarningCode::MissingPermissions => "missing_permissions",
            WarningCode::OldVersion => "old_version",
            WarningCode::InsecureHttp => "insecure_http",
        }
    }
}

impl DiagnosisCode {
    /// Every diagnosis code.
    pub const ALL: [DiagnosisCode; 16] = [
        DiagnosisCode::Connected,
        DiagnosisCode::RedirectNeedsConfirmation,
        DiagnosisCode::InvalidUrl,
        DiagnosisCode::InvalidKeyFormat,
        DiagnosisCode::Unreachable,
        DiagnosisCode::Timeout,
        DiagnosisCode::TlsError,
        DiagnosisCode::PlainHttp,
        DiagnosisCode::NotPrestashop,
        DiagnosisCode::Blocked,
        DiagnosisCode::Maintenance,
        DiagnosisCode::WebserviceDisabled,
        DiagnosisCode::InvalidKey,
        DiagnosisCode::NoPermission,
        DiagnosisCode::ServerError,
        DiagnosisCode::ForbiddenAddress,
    ];
}

/// Every diagnosis code and warning with an example message and its fix, each produced by
/// [`explain`] or the warning texts from a typical cause: what the README's troubleshooting
/// section is generated from, so that it cannot drift from what `check` says.
pub fn troubleshooting() -> Vec<TroubleshootingEntry> {
    let url = "https://shop.example/api/".to_string();
    let html = |status: u16, kind: HtmlKind, title: &str| Error::Html {
        status,
        kind,
        title: title.into(),
        url: url.clone(),
        retry_after: None,
    };
    let causes: Vec<Error> = vec![
        Error::Redirect {
            from: "http://shop.example/".into(),
            to: "https://www.shop.example/".into(),
            status: 301,
        },
        StoreUrl::parse("http:/shop.example").expect_err("a malformed address"),
        WebserviceKey::parse("ABC").expect_err("a short key"),
        Error::Dns {
            host: "shop.example".into(),
            detail: "failed to lookup address information".into(),
        },
        Error::ConnectionRefused {
            host: "shop.example".into(),
            port: 443,
            detail: "Connection refused (os error 111)".into(),
        },
        Error::Timeout {
            url: url.clone(),
            after: Duration::from_secs(15),
        },
        Error::Tls {
            host: "shop.example".into(),
            detail: "invalid peer certificate: UnknownIssuer".into(),
        },
        Error::PlainHttp {
            host: "shop.example".into(),
            port: 8080,
        },
        html(404, HtmlKind::NotFound, "Not Found"),
        html(403, HtmlKind::Firewall, "Access denied"),
        html(503, HtmlKind::Maintenance, "We'll be back soon"),
        Error::WebserviceDisabled { url: url.clone() },
        Error::KeyRejected {
            errors: vec![crate::error::PsError {
                code: 20,
                message: "Authentication key does not exist".into(),
            }],
        },
        Error::NotPermitted {
            resource: None,
            errors: Vec::new(),
        },
        html(502, HtmlKind::OtherPage, "Bad Gateway"),
        Error::ForbiddenAddress {
            host: "shop.example".into(),
            address: std::net::IpAddr::from([10, 0, 0, 5]),
            reason: "private network",
        },
    ];
    let mut entries = vec![TroubleshootingEntry {
        code: DiagnosisCode::Connected.as_str(),
        failure: false,
        message: "Connected to <shop> (PrestaShop <version>). The key can read <n> of the <m> \
                  resources prestalink uses."
            .into(),
        fix: "Nothing; each warning below says what would improve the connection.".into(),
    }];
    for cause in &causes {
        let (code, message, fix) = explain(cause, "shop.example");
        entries.push(TroubleshootingEntry {
            code: code.as_str(),
            failure: true,
            message,
            fix,
        });
    }
    let examples: [&[&str]; 5] = [
        &[],
        &[],
        &[
            "order_details, order_states",
            "commerce-orders, commerce-payments",
        ],
        &["1.7.8.11"],
        &[],
    ];
    for (code, details) in WarningCode::ALL.into_iter().zip(examples) {
        let (message, fix) = warning_text(code, details);
        entries.push(TroubleshootingEntry {
            code: code.as_str(),
            failure: false,
            message,
            fix,
        });
    }
    entries
}

fn needed_resources() -> Vec<&'static str> {
    let mut needed: Vec<&str> = DATA_TYPE_SOURCES
        .iter()
        .flat_map(|(_, r)| r.iter().copied())
        .collect();
    needed.sort_unstable();
    needed.dedup();
    needed
}

/// Each resource a data type needs that the key cannot read, with the data types it serves.
pub fn missing_permissions(index: &ResourceIndex) -> Vec<MissingPermission> {
    needed_resources()
        .into_iter()
        .filter(|r| !index.can_read(r))
        .map(|resource| MissingPermission {
            resource: resource.to_owned(),
            data_types: DATA_TYPE_SOURCES
                .iter()
                .filter(|(_, sources)| sources.contains(&resource))
                .map(|(data_type, _)| (*data_type).to_owned())
                .collect(),
        })
        .collect()
}

fn is_older_than_8(version: &str) -> bool {
    let major = version
        .split('.')
        .next()
        .and_then(|p| p.trim().parse::<u32>().ok());
    major.is_some_and(|major| major < 8)
}

/// Reads the few facts the check reports: configuration values, languages, shops, currency.
async fn read_store_facts(d: &mut Diagnosis, client: &Client, index: &ResourceIndex) {
    let fields = |names: &[&str]| Display::Fields(names.iter().map(|s| (*s).to_owned()).collect());
    let configurations = async {
        if !index.can_read("configurations") {
            return None;
        }
        let names = [
            "PS_TIMEZONE",
            "PS_CURRENCY_DEFAULT",
            "PS_LANG_DEFAULT",
            "PS_SHOP_NAME",
        ];
        let query = Query::list("configurations")
            .and_then(|q| q.display(fields(&["id", "name", "value", "id_shop", "id_shop_group"])))
            .and_then(|q| {
                q.filter(
                    "name",
                    Filter::AnyOf(names.iter().map(|s| (*s).to_owned()).collect()),
                )
            })
            .ok()?;
        read(client, &query).await
    };
    let languages = async {
        if !index.can_read("languages") {
            return None;
        }
        let query = Query::list("languages")
            .and_then(|q| q.display(fields(&["id", "name", "iso_code", "active"])))
            .ok()?;
        read(client, &query).await
    };
    let shops = async {
        if !index.can_read("shops") {
            return None;
        }
        let query = Query::list("shops")
            .and_then(|q| q.display(fields(&["id", "name"])))
            .ok()?;
        read(client, &query).await
    };
    // Every currency (a handful of rows), read alongside the rest instead of after
    // PS_CURRENCY_DEFAULT is known: one round trip fewer.
    let currencies = async {
        if !index.can_read("currencies") {
            return None;
        }
        let query = Query::list("currencies")
            .and_then(|q| q.display(fields(&["id", "iso_code"])))
            .ok()?;
        read(client, &query).await
    };
    let (configurations, languages, shops, currencies) =
        futures::join!(configurations, languages, shops, currencies);
    let configuration =
        |name: &str| global_value(configurations.as_deref().unwrap_or_default(), name);
    d.timezone = configuration("PS_TIMEZONE");
    let default_language = configuration("PS_LANG_DEFAULT").and_then(|v| v.parse::<u64>().ok());
    d.languages = languages
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            let id = r.id()?;
            Some(LanguageInfo {
                id,
                iso_code: r.text("iso_code").unwrap_or_default().to_owned(),
                name: r.text("name").unwrap_or_default().to_owned(),
                active: r.text("active") == Some("1"),
                default: default_language == Some(id),
            })
        })
        .collect();
    d.shops = shops
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(ShopInfo {
                id: r.id()?,
                name: r.text("name").unwrap_or_default().to_owned(),
            })
        })
        .collect();
    let currency_id = configuration("PS_CURRENCY_DEFAULT").and_then(|v| v.parse::<u64>().ok());
    d.currency = currencies
        .unwrap_or_default()
        .iter()
        .find(|r| r.id().is_some() && r.id() == currency_id)
        .and_then(|r| r.text("iso_code"))
        .map(str::to_owned);
}

async fn read(client: &Client, query: &Query) -> Option<Vec<Record>> {
    match client.get(query).await {
        Ok(page) => Some(page.into_records()),
        Err(e) => {
            tracing::warn!(resource = ?query.resource().map(|r| r.to_string()), error = %e, "check could not read");
            None
        }
    }
}

/// A configuration value: the store-wide row (no shop, no group) if there is one, else the first.
fn global_value(records: &[Record], name: &str) -> Option<String> {
    let rows: Vec<&Record> = records
        .iter()
        .filter(|r| r.text("name") == Some(name))
        .collect();
    crate::configuration::pick(&rows, |r| crate::configuration::Scope::of(r), None, None)
        .and_then(|r| r.text("value"))
        .map(str::to_owned)
}

/// The code, message and fix for an error that stopped the diagnosis.
pub fn explain(error: &Error, host: &str) -> (DiagnosisCode, String, String) {
    use DiagnosisCode as C;
    let at = if host.is_empty() {
        String::new()
    } else {
        format!(" at {host}")
    };
    match error {
        Error::InvalidStoreUrl { input, reason } => (
            C::InvalidUrl,
            format!("The store address '{input}' cannot be used: {reason}."),
            "Enter the address of your shop as it appears in the browser, for example \
             https://shop.example.com (add the folder if PrestaShop is installed in one, e.g. \
             https://example.com/shop)."
                .into(),
        ),
        Error::InvalidKeyFormat { problem } => (
            C::InvalidKeyFormat,
            format!("The Webservice key is malformed: {problem}."),
            format!(
                "Copy the key again from the back office: {WEBSERVICE_PAGE}, column Key (32 \
                 letters and digits). If there is no key yet, click 'Add new webservice key'."
            ),
        ),
        Error::Dns { host, .. } => (
            C::Unreachable,
            format!("The address {host} could not be found (no such domain name)."),
            "Check the spelling of the store address, and that the domain is registered and \
             online (open it in a browser)."
                .into(),
        ),
        Error::ConnectionRefused { host, port, .. } => (
            C::Unreachable,
            format!("Nothing answered at {host} on port {port}: the connection was refused."),
            "Check the address and port. If the shop opens in a browser, its server or a \
             firewall refuses connections from this machine: ask your host to allow it."
                .into(),
        ),
        Error::ForbiddenAddress {
            host,
            address,
            reason,
        } => {
            let literal = crate::address_guard::ForbiddenAddress {
                host: host.clone(),
                address: *address,
                reason,
            }
            .is_literal();
            (
                C::ForbiddenAddress,
                if literal {
                    format!(
                        "The store address {address} is a private or local network address \
                         ({reason}) that prestalink's server may not connect to."
                    )
                } else {
                    format!(
                        "The store address {host} points to {address} ({reason}), a private or \
                         local network address that prestalink's server may not connect to."
                    )
                },
                "Use the shop's public address. If prestalink runs on your own network and you \
                 trust every user of its API, start the server with --allow-private-stores."
                    .into(),
            )
        }
        Error::Transport { detail, .. } => (
            C::Unreachable,
            format!("The connection to the shop{at} failed: {detail}."),
            "Check that the shop opens in a browser and try again; if it keeps failing, ask \
             your host whether connections are dropped."
                .into(),
        ),
        Error::Timeout { after, .. } => (
            C::Timeout,
            format!(
                "The shop{at} did not answer within {} seconds.",
                after.as_secs()
            ),
            "Check that the shop opens in a browser. If it is very slow or overloaded, try \
             again later or ask your host why the server does not respond."
                .into(),
        ),
        Error::PlainHttp { host, port } => (
            C::PlainHttp,
            format!(
                "The address is https://, but {host} on port {port} speaks plain HTTP (the TLS \
                 handshake got an HTTP answer back)."
            ),
            format!(
                "Use http://{host}:{port}/ as the store address (the key then travels \
                 unencrypted), or enable HTTPS on the server and use its HTTPS port."
            ),
        ),
        Error::Tls { host, detail } => (
            C::TlsError,
            format!(
                "The secure connection to {host} failed: its certificate is not trusted \
                 (self-signed, expired or issued for another name). Details: {detail}."
            ),
            "Install a valid certificate for this domain (most hosts offer a free Let's \
             Encrypt certificate in their panel). If the certificate comes from a private \
             certificate authority, trust that authority: --ca-file CA.pem (or SSL_CERT_FILE, \
             or add it to this system's trust store). Only as a last resort for a server you \
             trust, turn verification off with --insecure-tls."
                .into(),
        ),
        Error::Redirect { from, to, .. } => (
            C::RedirectNeedsConfirmation,
            format!(
                "{from} redirects to {to}. prestalink does not follow redirects by itself, \
                 because the key would be sent to another address."
            ),
            format!(
                "If {to} is your shop, use it as the store address (or confirm the redirect: \
                 prestalink check --accept-redirect). If not, check the shop's domain settings \
                 in Shop Parameters > Traffic & SEO and your hosting redirects."
            ),
        ),
        Error::CredentialsNotReceived { .. } => (
            C::InvalidKey,
            "PrestaShop received no key: neither the Authorization header nor the ws_key \
             parameter reach it."
                .into(),
            "Ask your host to pass the Authorization header to PHP ('CGIPassAuth On' on \
             Apache) and not to strip query parameters, or enable 'Enable CGI mode for PHP' in \
             Advanced Parameters > Webservice."
                .into(),
        ),
        Error::WebserviceDisabled { .. } => (
            C::WebserviceDisabled,
            "The PrestaShop Webservice is switched off on this shop.".into(),
            format!(
                "In the back office open {WEBSERVICE_PAGE}, set 'Enable PrestaShop's webservice' \
                 to Yes and save."
            ),
        ),
        Error::KeyRejected { errors } => {
            let inactive = errors.iter().any(|e| e.code == 20);
            (
                C::InvalidKey,
                if inactive {
                    "PrestaShop does not accept this key: it does not exist on this shop, or it \
                     is disabled."
                        .into()
                } else {
                    format!(
                        "PrestaShop rejected the key: {}.",
                        crate::error::PsErrors(errors)
                    )
                },
                format!(
                    "In the back office open {WEBSERVICE_PAGE}: check that the key is listed and \
                     its Status is enabled, then copy it again. Make sure you use the key of this \
                     shop, not of another one."
                ),
            )
        }
        Error::NotPermitted { errors, .. } if errors.iter().any(|e| e.code == 132) => (
            C::NoPermission,
            "The key is valid, but it is not enabled for this shop of your multistore.".into(),
            format!(
                "In the back office open {WEBSERVICE_PAGE}, edit this key and tick this shop \
                 under 'Shop association'. Then save."
            ),
        ),
        Error::NotPermitted { .. } => (
            C::NoPermission,
            "The key is valid, but it has no permission on any resource.".into(),
            format!(
                "In the back office open {WEBSERVICE_PAGE}, edit this key and tick the View (GET) \
                 column for orders, customers, products and the other resources prestalink reads. \
                 Then save."
            ),
        ),
        Error::Html {
            status,
            kind,
            title,
            retry_after,
            ..
        } => {
            let again = retry_after
                .map(|d| {
                    format!(
                        " It asks to retry in {} minute(s).",
                        d.as_secs().div_ceil(60)
                    )
                })
                .unwrap_or_default();
            let page = if title.is_empty() {
                String::new()
            } else {
                format!(" \"{title}\"")
            };
            match kind {
                HtmlKind::Firewall if *status == 401 => (
                    C::Blocked,
                    format!(
                        "The server{at} asks for a password (HTTP authentication{page}) before \
                         PrestaShop is reached."
                    ),
                    "Exclude /api/ and /webservice/ from the password protection (.htpasswd or \
                     your host's 'protected directory' setting). The Webservice key cannot be \
                     sent in its place: the server's password would take precedence."
                        .into(),
                ),
                HtmlKind::Firewall => (
                    C::Blocked,
                    format!(
                        "A firewall or security filter{at} blocked the request (HTTP {status}, page{page})."
                    ),
                    "Allow requests to /api/ (and /webservice/dispatcher.php) from this server in \
                     your firewall, CDN or security module (for example Cloudflare, ModSecurity, a \
                     bot-protection module), or ask your host to."
                        .into(),
                ),
                HtmlKind::Maintenance => (
                    C::Maintenance,
                    format!("The shop{at} shows a maintenance page (HTTP {status}{page}).{again}"),
                    "Try again when the maintenance is over. If only the shop front is meant to be \
                     in maintenance, ask your host to let /api/ through."
                        .into(),
                ),
                HtmlKind::OtherPage if *status >= 500 => (
                    C::ServerError,
                    format!("The server{at} answered with an error page (HTTP {status}{page})."),
                    "Try again later. If it persists, ask your host: the web server or a proxy in \
                     front of PrestaShop fails (see its error log)."
                        .into(),
                ),
                HtmlKind::NotFound | HtmlKind::OtherPage => (
                    C::NotPrestashop,
                    format!(
                        "No PrestaShop Webservice answers{at}: /api/ and \
                         /webservice/dispatcher.php give a web page (HTTP {status}{page})."
                    ),
                    "Enter the address of your PrestaShop shop (its home page). If PrestaShop is \
                     installed in a folder, include it, for example https://example.com/shop."
                        .into(),
                ),
            }
        }
        Error::Decode { detail, .. }
            if detail.contains("not a PrestaShop document")
                || detail.contains("not XML")
                || detail.contains("neither XML nor JSON") =>
        {
            (
                C::NotPrestashop,
                format!("The answer{at} is not a PrestaShop Webservice answer: {detail}."),
                "Enter the address of your PrestaShop shop (its home page), including the folder \
                 it is installed in."
                    .into(),
            )
        }
        Error::Decode { detail, .. } => (
            C::ServerError,
            format!("PrestaShop{at} sent a damaged answer: {detail}."),
            "Try again. If it persists, a module or PHP notices add output to the Webservice, \
             or the server cuts answers short: turn off debug mode (Advanced Parameters > \
             Performance) and check the PHP error log."
                .into(),
        ),
        Error::Status {
            status, excerpt, ..
        } => {
            let detail = if excerpt.is_empty() {
                String::new()
            } else {
                format!(": {excerpt}")
            };
            match status {
                401 | 403 | 406 => (
                    C::Blocked,
                    format!("The server{at} refused the request (HTTP {status}){detail}."),
                    "Allow requests to /api/ from this server in your firewall, CDN or security \
                     module, or remove the password protection from /api/."
                        .into(),
                ),
                404 => (
                    C::NotPrestashop,
                    format!("No PrestaShop Webservice answers{at} (HTTP 404)."),
                    "Enter the address of your PrestaShop shop (its home page), including the \
                     folder it is installed in."
                        .into(),
                ),
                _ => (
                    C::ServerError,
                    format!("The shop{at} answered with an error (HTTP {status}){detail}."),
                    "Try again later. If it persists, check the shop's PHP error log or ask your \
                     host."
                        .into(),
                ),
            }
        }
        Error::Api { status, errors, .. } => (
            C::ServerError,
            format!(
                "The shop{at} answered with an error (HTTP {status}): {}.",
                crate::error::PsErrors(errors)
            ),
            "Try again later. If it persists, check the shop's PHP error log (Advanced \
             Parameters > Logs) or ask your host."
                .into(),
        ),
        Error::NotFound { .. } | Error::BodyTooLarge { .. } | Error::InvalidQuery { .. } => (
            C::ServerError,
            format!("The shop{at} gave an unusable answer: {error}."),
            "Try again later. If it persists, check the shop's PHP error log or ask your host."
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn troubleshooting_covers_every_code_with_its_own_explanation() {
        let entries = super::troubleshooting();
        let mut codes: Vec<&str> = entries.iter().map(|e| e.code).collect();
        // In declaration order; `unreachable` twice (unknown host, refused connection).
        codes.dedup();
        let expected: Vec<&str> = super::DiagnosisCode::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(super::WarningCode::ALL.iter().map(|c| c.as_str()))
            .collect();
        assert_eq!(codes, expected, "every code, in declaration order");
        for e in &entries {
            assert!(e.message.len() > 30 && e.fix.len() > 30, "{e:?}");
        }
        let slashes = entries.iter().find(|e| e.code == "invalid_url").unwrap();
        assert!(slashes.message.contains("slashes"), "{slashes:?}");
    }

    use super::*;
    use crate::decode::Methods;
    use crate::record::FieldValue;

    fn config(name: &str, value: &str, id_shop: &str) -> Record {
        let mut r = Record::default();
        for (k, v) in [("name", name), ("value", value), ("id_shop", id_shop)] {
            r.fields.insert(k.into(), FieldValue::Text(v.into()));
        }
        r
    }

    #[test]
    fn configuration_prefers_the_store_wide_value() {
        let rows = [
            config("PS_TIMEZONE", "Europe/Berlin", "2"),
            config("PS_TIMEZONE", "Europe/Paris", ""),
            config("PS_LANG_DEFAULT", "1", "0"),
        ];
        assert_eq!(
            global_value(&rows, "PS_TIMEZONE").as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(global_value(&rows, "PS_LANG_DEFAULT").as_deref(), Some("1"));
        assert_eq!(global_value(&rows, "PS_SHOP_NAME"), None);
        assert_eq!(
            global_value(&rows[..1], "PS_TIMEZONE").as_deref(),
            Some("Europe/Berlin")
        );
    }

    #[test]
    fn missing_permissions_name_the_data_types_lost() {
        let mut index = ResourceIndex::default();
        let read = Methods {
            get: true,
            head: true,
            ..Methods::default()
        };
        for resource in needed_resources() {
            if resource != "order_slip" {
                index.resources.insert(resource.into(), read);
            }
        }
        index.resources.insert("stores".into(), Methods::default());
        let missing = missing_permissions(&index);
        assert_eq!(
            missing,
            [
                MissingPermission {
                    resource: "order_slip".into(),
                    data_types: vec!["commerce-orders".into(), "commerce-transactions".into()],
                },
                MissingPermission {
                    resource: "stores".into(),
                    data_types: vec!["commerce-locations".into()],
                },
            ]
        );
    }

    #[test]
    fn versions_before_8_are_old() {
        assert!(is_older_than_8("1.7.8.11"));
        assert!(is_older_than_8("1.6.1.24"));
        assert!(!is_older_than_8("8.1.2"));
        assert!(!is_older_than_8("9.0.0"));
        assert!(!is_older_than_8("unknown"));
    }
}
