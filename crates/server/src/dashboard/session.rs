//! Signing in to the dashboard with an API key. The session is a cookie (HttpOnly,
//! SameSite=Strict, path `/dashboard`) holding the key's SHA-256 hash (what the store keeps,
//! never the key), an expiry and an HMAC-SHA256 of both under a per-process secret: the
//! server keeps no session table, a restart signs everyone out, and every page checks that
//! the key is still active (a revoked key ends its sessions at once).

use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "plk_session";
/// How long a session lasts.
pub const LIFETIME: Duration = Duration::hours(8);

fn secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut s = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut s);
        s
    })
}

fn signature(key_hash: &str, expires: i64) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret()).expect("any key length");
    mac.update(b"prestalink session v1|");
    mac.update(key_hash.as_bytes());
    mac.update(b"|");
    mac.update(expires.to_string().as_bytes());
    mac.finalize().into_bytes().into()
}

/// The hash the store keeps of an API key (hex SHA-256).
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.trim().as_bytes()))
}

/// A session token for the key with hash `key_hash`: `hash.expiry.signature`.
pub fn mint(key_hash: &str, now: DateTime<Utc>) -> String {
    let expires = (now + LIFETIME).timestamp();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{key_hash}.{expires}.{}",
        b64.encode(signature(key_hash, expires))
    )
}

/// The key hash of a token this process signed and that has not expired.
pub fn verify(token: &str, now: DateTime<Utc>) -> Option<String> {
    let mut parts = token.split('.');
    let (hash, expires, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expires: i64 = expires.parse().ok()?;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .ok()?;
    let good = bool::from(signature(hash, expires).as_slice().ct_eq(&sig));
    (good && now.timestamp() < expires).then(|| hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn only_fresh_tokens_signed_here_verify() {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let hash = key_hash("plk_example");
        let token = mint(&hash, now);
        assert_eq!(verify(&token, now), Some(hash.clone()));
        assert_eq!(verify(&token, now + LIFETIME), None, "expired");
        let other = key_hash("plk_other");
        let forged = token.replacen(&hash, &other, 1);
        assert_eq!(verify(&forged, now), None);
        assert_eq!(verify("garbage", now), None);
        assert_eq!(verify(&format!("{token}.x"), now), None);
        assert!(!token.contains("plk_example"));
    }
}
