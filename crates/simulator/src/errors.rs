//! PrestaShop error bodies, as the Webservice renders them in XML and JSON.

use crate::api::{ApiResponse, Cost, Format};

/// One PrestaShop error: its numeric code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsError {
    pub code: u32,
    pub message: String,
}

impl PsError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        PsError {
            code,
            message: message.into(),
        }
    }
}

/// Render an error document (`<prestashop><errors>…` or `{"errors":[…]}`).
pub fn error_body(format: Format, errors: &[PsError]) -> Vec<u8> {
    match format {
        Format::Json => {
            // PHP's json_encode escapes `/` (file paths in PHP warnings show as `\/`).
            let mut out = String::from("{\"errors\":[");
            for (n, e) in errors.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str("{\"code\":");
                out.push_str(&e.code.to_string());
                out.push_str(",\"message\":");
                crate::protocol::json::push_string(&mut out, &e.message);
                out.push('}');
            }
            out.push_str("]}");
            out.into_bytes()
        }
        Format::Xml => {
            let mut out = String::from(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<errors>\n",
            );
            for e in errors {
                out.push_str("<error>\n<code><![CDATA[");
                out.push_str(&e.code.to_string());
                out.push_str("]]></code>\n<message><![CDATA[");
                out.push_str(&crate::errors::cdata_escape(&e.message));
                out.push_str("]]></message>\n</error>\n");
            }
            out.push_str("</errors>\n</prestashop>\n");
            out.into_bytes()
        }
    }
}

/// An error response with the given HTTP status.
pub fn error_response(status: u16, format: Format, errors: &[PsError]) -> ApiResponse {
    ApiResponse {
        status,
        content_type: Some(format.content_type()),
        body: error_body(format, errors),
        cost: Cost::default(),
    }
}

/// Make text safe inside one CDATA section the way PrestaShop 8 does: a `]]>` inside the
/// value is split across two sections.
pub fn cdata_escape(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains("]]>") {
        std::borrow::Cow::Owned(s.replace("]]>", "]]]]><![CDATA[>"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}
