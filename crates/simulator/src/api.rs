//! The boundary between the HTTP server (auth, hosting, capacity, faults) and the
//! Webservice logic (resources, queries, rendering). The server authenticates the key and
//! builds an [`ApiRequest`]; [`crate::protocol::respond`] answers it from a [`crate::store::Store`].

/// Output format, chosen by `Io-Format` / `Output-Format` headers, then `output_format` /
/// `io_format` query parameters (value exactly `JSON`; anything else is XML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// Content-Type header PrestaShop sends for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml;charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// The PrestaShop version being simulated; switches version-dependent behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    /// 1.7.8: no falsy-field dropping in single-record JSON, JSON root listing works, no PATCH.
    V1_7_8,
    /// 8.1.2 (the recorded fixtures): falsy fields dropped, JSON root listing is a 500, PATCH exists.
    V8_1_2,
    /// 9.0: as 8.1.2, without the advanced-stock resources.
    V9_0,
}

impl Version {
    /// Value of the `PSWS-Version` header.
    pub fn header(self) -> &'static str {
        match self {
            Version::V1_7_8 => "1.7.8.11",
            Version::V8_1_2 => "8.1.2",
            Version::V9_0 => "9.0.0",
        }
    }

    pub fn parse(s: &str) -> Option<Version> {
        match s {
            "1.7.8" | "1.7" | "1.7.8.11" => Some(Version::V1_7_8),
            "8.1.2" | "8" | "8.1" => Some(Version::V8_1_2),
            "9.0" | "9" | "9.0.0" => Some(Version::V9_0),
            _ => None,
        }
    }
}

/// HTTP methods the Webservice knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What a key may do: `resources: None` = every resource, `Some(list)` = only those; `methods`
/// apply to each allowed resource. The default is a read-only key on everything (GET and
/// HEAD), like the recorded store's KEY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub resources: Option<Vec<String>>,
    pub methods: Vec<Method>,
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions {
            resources: None,
            methods: vec![Method::Get, Method::Head],
        }
    }
}

impl Permissions {
    /// True when the key may use `resource` at all.
    pub fn allows(&self, resource: &str) -> bool {
        self.resources
            .as_ref()
            .is_none_or(|list| list.iter().any(|r| r == resource))
    }

    /// True when the key may use `method` on `resource`.
    pub fn allows_method(&self, resource: &str, method: Method) -> bool {
        self.allows(resource) && self.methods.contains(&method)
    }
}

/// An authenticated request to the Webservice.
#[derive(Debug, Clone)]
pub struct ApiRequest<'a> {
    pub method: Method,
    /// `None` for the root listing (`/api/`).
    pub resource: Option<&'a str>,
    /// The id segment as sent (may be non-numeric).
    pub id: Option<&'a str>,
    /// Decoded query parameters other than `url`, `ws_key`, `output_format`, `io_format`,
    /// in order (e.g. `("filter[id]", "[1,5]")`, `("display", "full")`).
    pub params: &'a [(String, String)],
    pub format: Format,
    /// Scheme, host and base path, e.g. `http://127.0.0.1:8080` (used in `xlink:href`).
    pub base_url: &'a str,
    pub version: Version,
    pub permissions: &'a Permissions,
}

/// How expensive a request was for the capacity model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// Records rendered.
    pub records: usize,
    /// True when records were rendered in full (`display=full` or a single GET) rather than as ids.
    pub full: bool,
}

/// The Webservice's answer, before headers the server adds (PSWS-Version, Content-Sha1, …).
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    /// `None` sends no Content-Type (the empty-body 404).
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
    pub cost: Cost,
}
