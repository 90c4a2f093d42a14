//! The crate's one error type. Each variant carries what a person needs to act on it; URLs in it
//! are already redacted (no key).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::key::KeyProblem;

/// One error entry as PrestaShop reports it (`<error><code/><message/></error>` or
/// `{"code":…,"message":…}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PsError {
    /// PrestaShop's numeric error code (e.g. 22 = Webservice disabled, 26 = resource not allowed).
    pub code: u32,
    /// PrestaShop's message, as sent.
    pub message: String,
}

impl fmt::Display for PsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// Formats a list of PrestaShop errors for a message.
pub(crate) struct PsErrors<'a>(pub &'a [PsError]);

impl fmt::Display for PsErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// What kind of HTML page answered where the Webservice was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HtmlKind {
    /// A web application firewall, bot protection or access-denied page (usually 403).
    Firewall,
    /// A maintenance page ("under maintenance", "back soon"), usually 503.
    Maintenance,
    /// A "not found" page from the web server: no `/api` route at this address.
    NotFound,
    /// Any other web page: the address does not serve a PrestaShop Webservice.
    OtherPage,
}

/// The format a body was expected in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `text/xml` (PrestaShop's default).
    Xml,
    /// `application/json` (`output_format=JSON`).
    Json,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Xml => "XML",
            Format::Json => "JSON",
        })
    }
}

/// Everything that can go wrong talking to a PrestaShop Webservice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store address is not usable.
    #[error("'{input}' is not a usable store address: {reason}")]
    InvalidStoreUrl {
        /// What was given (trimmed, at most 200 characters).
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The Webservice key is malformed.
    #[error("the Webservice key is malformed: {problem}")]
    InvalidKeyFormat {
        /// Which rule it breaks.
        problem: KeyProblem,
    },
    /// A query cannot be expressed in PrestaShop's query language.
    #[error("invalid Webservice query: {reason}")]
    InvalidQuery {
        /// What is wrong and how to express it instead.
        reason: String,
    },
    /// No answer within the time limit.
    #[error("{url} did not answer within {}s", after.as_secs_f32())]
    Timeout {
        /// The requested URL (redacted).
        url: String,
        /// The time limit that was reached.
        after: Duration,
    },
    /// The host name does not resolve.
    #[error("the host name {host} could not be found (DNS): {detail}")]
    Dns {
        /// The host name.
        host: String,
        /// The resolver's message.
        detail: String,
    },
    /// Nothing listens on the port, or the connection was refused or reset.
    #[error("the connection to {host}:{port} was refused: {detail}")]
    ConnectionRefused {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The operating system's message.
        detail: String,
    },
    /// An https:// address whose port answers plain HTTP: the TLS handshake got an HTTP
    /// answer back ("received corrupt message of type InvalidContentType").
    #[error("{host}:{port} answers plain HTTP, not HTTPS")]
    PlainHttp {
        /// The host.
        host: String,
        /// The port.
        port: u16,
    },
    /// The TLS handshake failed (untrusted, expired or mismatched certificate, protocol error).
    #[error("the secure (TLS) connection to {host} failed: {detail}")]
    Tls {
        /// The host.
        host: String,
        /// The TLS library's message (e.g. "invalid peer certificate: UnknownIssuer").
        detail: String,
    },
    /// The store address points to a loopback, private, link-local or otherwise non-public
    /// address, and the connection may reach public addresses only
    /// ([`crate::Connection::public_only`]; see [`crate::address_guard`]).
    #[error("{}", crate::address_guard::ForbiddenAddress { host: host.clone(), address: *address, reason })]
    ForbiddenAddress {
        /// The host of the store URL (a name, or the IP address itself).
        host: String,
        /// The forbidden address it points to.
        address: IpAddr,
        /// Why the address is refused ("loopback", "private network", …).
        reason: &'static str,
    },
    /// Another transport failure (connection dropped mid-answer, protocol error).
    #[error("the request to {url} failed: {detail}")]
    Transport {
        /// The requested URL (redacted).
        url: String,
        /// What failed.
        detail: String,
    },
    /// The server redirected; redirects are never followed without confirmation.
    #[error("{from} redirects ({status}) to {to}")]
    Redirect {
        /// The requested URL (redacted).
        from: String,
        /// The `Location` it points to (redacted).
        to: String,
        /// The 3xx status.
        status: u16,
    },
    /// PrestaShop answered 401 with its plain-text page although a key was sent: the
    /// `Authorization` header (or the `ws_key` parameter) did not reach it.
    #[error("PrestaShop at {url} received no key (401 Unauthorized although the key was sent)")]
    CredentialsNotReceived {
        /// The requested URL (redacted).
        url: String,
    },
    /// The Webservice is switched off (PrestaShop error 22).
    #[error("the PrestaShop Webservice is disabled (error 22) at {url}")]
    WebserviceDisabled {
        /// The requested URL (redacted).
        url: String,
    },
    /// The key is unknown, inactive, or (per PrestaShop) malformed: errors 17, 18, 20, 21.
    #[error("PrestaShop rejected the key: {}", PsErrors(errors))]
    KeyRejected {
        /// PrestaShop's errors.
        errors: Vec<PsError>,
    },
    /// The key may not use this resource or method (errors 25, 26, 132).
    #[error("the key is not allowed to do this: {}", PsErrors(errors))]
    NotPermitted {
        /// The resource that was requested, when known.
        resource: Option<String>,
        /// PrestaShop's errors.
        errors: Vec<PsError>,
    },
    /// PrestaShop answered with error codes (bad filter, unknown resource, PHP warnings…).
    #[error("PrestaShop answered {status}: {}", PsErrors(errors))]
    Api {
        /// HTTP status.
        status: u16,
        /// PrestaShop's errors.
        errors: Vec<PsError>,
        /// The `Retry-After` delay, when sent.
        retry_after: Option<Duration>,
    },
    /// PrestaShop answered 404 without a body: the record does not exist.
    #[error("{url} does not exist (404)")]
    NotFound {
        /// The requested URL (redacted).
        url: String,
    },
    /// An HTML page answered where the Webservice was expected.
    #[error("{url} answered {status} with an HTML page ({kind:?}: {title})")]
    Html {
        /// HTTP status.
        status: u16,
        /// What the page looks like.
        kind: HtmlKind,
        /// The page's `<title>` or first heading, when found.
        title: String,
        /// The requested URL (redacted).
        url: String,
        /// The `Retry-After` delay, when sent.
        retry_after: Option<Duration>,
    },
    /// An unexpected status without a PrestaShop error body (5xx, 429 from a proxy…).
    #[error("{url} answered {status}{}", if excerpt.is_empty() { String::new() } else { format!(": {excerpt}") })]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of the body, when any (redacted).
        excerpt: String,
        /// The requested URL (redacted).
        url: String,
        /// The `Retry-After` delay, when sent.
        retry_after: Option<Duration>,
    },
    /// The body exceeded the configured size cap.
    #[error("the answer of {url} is larger than the {limit} bytes allowed")]
    BodyTooLarge {
        /// The requested URL (redacted).
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The body could not be decoded.
    #[error("the {format} answer could not be read{}: {detail}", at.map(|p| format!(" at byte {p}")).unwrap_or_default())]
    Decode {
        /// Which format was decoded.
        format: Format,
        /// What was wrong.
        detail: String,
        /// Byte offset of the problem, when known.
        at: Option<u64>,
    },
}

impl From<crate::address_guard::ForbiddenAddress> for Error {
    fn from(f: crate::address_guard::ForbiddenAddress) -> Error {
        Error::ForbiddenAddress {
            host: f.host,
            address: f.address,
            reason: f.reason,
        }
    }
}

impl Error {
    /// The server's requested delay before retrying (`Retry-After`), when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. }
            | Error::Html { retry_after, .. }
            | Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether retrying the same request later may succeed (timeouts, dropped connections,
    /// 5xx, 429). The client never retries by itself; the caller's pacer decides.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Transport { .. } | Error::ConnectionRefused { .. } => {
                true
            }
            Error::Status { status, .. } | Error::Html { status, .. } => {
                *status == 429 || *status >= 500
            }
            Error::Api { status, errors, .. } => {
                *status >= 500 && errors.iter().all(|e| (2..=15).contains(&e.code))
            }
            _ => false,
        }
    }
}
