//! Keeping the key out of URLs, log lines and error messages. In `ws_key` mode the key travels in
//! the query string, so every URL that leaves this crate goes through [`redact_url`].

use url::Url;

/// What a redacted key or credential is replaced with.
pub const REDACTED: &str = "REDACTED";

/// The URL with the `ws_key` parameter's value and any user info replaced by `REDACTED`.
pub fn redact_url(url: &Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() {
        let _ = url.set_username(REDACTED);
    }
    if url.password().is_some() {
        let _ = url.set_password(None);
    }
    if let Some(query) = url.query() {
        let redacted = redact_query(query);
        url.set_query(Some(&redacted));
    }
    url.to_string()
}

/// A query string with the value of every `ws_key` parameter replaced by `REDACTED`.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            if name.eq_ignore_ascii_case("ws_key") {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Any text with every occurrence of `secret` replaced by `REDACTED` and every `ws_key=…`
/// value blanked, for messages built from server output or library errors.
pub fn redact_text(text: &str, secret: &str) -> String {
    let mut out = if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, REDACTED)
    };
    let mut search_from = 0;
    while let Some(found) = out[search_from..].to_ascii_lowercase().find("ws_key=") {
        let start = search_from + found + "ws_key=".len();
        let end = out[start..]
            .find(|c: char| {
                c == '&' || c == '#' || c == '"' || c == '\'' || c.is_whitespace() || c == ')'
            })
            .map_or(out.len(), |i| start + i);
        out.replace_range(start..end, REDACTED);
        search_from = start + REDACTED.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_loses_ws_key_and_user_info() {
        let url = Url::parse(
            "https://ABC:x@shop.example/api/orders?display=full&ws_key=SECRET1234&limit=1",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("SECRET1234"));
        assert!(!shown.contains("ABC"));
        assert!(shown.contains("ws_key=REDACTED&limit=1"));
    }

    #[test]
    fn text_loses_key_wherever_it_appears() {
        let text = "error sending request for url (http://h/api/?WS_KEY=SECRETKEY) basic SECRETKEY";
        let shown = redact_text(text, "SECRETKEY");
        assert!(!shown.contains("SECRETKEY"), "{shown}");
        assert!(shown.contains("WS_KEY=REDACTED)"));
        assert_eq!(redact_text("ws_key=", ""), "ws_key=REDACTED");
    }
}
