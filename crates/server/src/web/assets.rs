//! Static assets built into the binary (`include_str!`), served under a URL that carries a
//! hash of their content, with a one-year immutable cache: a new build changes the URL, so
//! browsers never use a stale file. Nothing comes from a CDN.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One built-in file.
pub struct Asset {
    /// Name without the hash (`app.css`).
    pub name: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The content.
    pub body: &'static str,
}

/// Every built-in asset. Pages link them with [`url`].
pub static ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/app.css"),
    },
    Asset {
        name: "progress.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/progress.js"),
    },
];

/// Each asset with its hashed file name (`app.3f2a9c0d1e4b5a67.css`).
static HASHED: LazyLock<Vec<(String, &'static Asset)>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            let hash = hex::encode(&digest[..8]);
            let hashed = match asset.name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{}.{hash}", asset.name),
            };
            (hashed, asset)
        })
        .collect()
});

/// The URL of a built-in asset (`/assets/app.3f2a9c0d1e4b5a67.css`).
///
/// # Panics
/// When `name` is not in [`ASSETS`] (a programming error, caught by any page test).
pub fn url(name: &str) -> String {
    let (hashed, _) = HASHED
        .iter()
        .find(|(_, asset)| asset.name == name)
        .unwrap_or_else(|| panic!("no built-in asset named {name}"));
    format!("/assets/{hashed}")
}

/// `GET /assets/{file}`: the asset whose hashed name is `file`, cached for a year; 404 for
/// any other name (an old hash included).
pub async fn serve(Path(file): Path<String>) -> Response {
    match HASHED.iter().find(|(hashed, _)| *hashed == file) {
        Some((_, asset)) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            asset.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_a_content_hash() {
        let css = url("app.css");
        assert!(css.starts_with("/assets/app."), "{css}");
        assert!(css.ends_with(".css"));
        assert_eq!(css.len(), "/assets/app..css".len() + 16);
    }
}
