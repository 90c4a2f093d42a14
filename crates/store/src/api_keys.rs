//! API keys of the REST API: stored as SHA-256 hashes, shown in clear once (at creation),
//! revoked by id. Checking a presented key is the server's job (constant-time comparison of
//! hashes, see [`Store::active_api_key_hashes`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::error::Result;
use crate::time::format_timestamp;
use crate::{new_id, on_pool, Store};

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    /// Random UUID, used to revoke it.
    pub id: String,
    /// What it is for, as given at creation.
    pub name: String,
    /// The key's last four characters.
    pub hint: String,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// The SHA-256 of an API key, hex-encoded: what the store keeps.
pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random API key: `plk_` and 48 hex digits (192 bits).
fn new_api_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("plk_{}", hex::encode(bytes))
}

impl Store {
    /// Creates an API key; returns its description and the key in clear (shown once).
    pub async fn create_api_key(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<(ApiKeyInfo, String)> {
        let key = new_api_key();
        let info = ApiKeyInfo {
            id: new_id(),
            name: name.to_string(),
            hint: key[key.len() - 4..].to_string(),
            created_at: format_timestamp(now),
            revoked_at: None,
        };
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO api_keys (id, name, key_hash, key_hint, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&info.id)
            .bind(&info.name)
            .bind(api_key_hash(&key))
            .bind(&info.hint)
            .bind(&info.created_at)
            .execute(pool)
            .await?;
        });
        Ok((info, key))
    }

    /// Every API key, oldest first.
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT id, name, key_hint, created_at, revoked_at FROM api_keys \
                 ORDER BY created_at, id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(ApiKeyInfo {
                        id: r.try_get(0)?,
                        name: r.try_get(1)?,
                        hint: r.try_get(2)?,
                        created_at: r.try_get(3)?,
                        revoked_at: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }

    /// Revokes a key by id; `false` when no active key has that id.
    pub async fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        on_pool!(&self.db, pool => {
            let done = sqlx::query(
                "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(format_timestamp(now))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Whether a key with this hash exists and is not revoked.
    pub async fn api_key_hash_active(&self, hash: &str) -> Result<bool> {
        on_pool!(&self.db, pool => {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
            )
            .bind(hash)
            .fetch_optional(pool)
            .await?;
            Ok(found.is_some())
        })
    }

    /// The hashes of the keys not revoked, for the server to compare presented keys with.
    pub async fn active_api_key_hashes(&self) -> Result<Vec<String>> {
        on_pool!(&self.db, pool => {
            let hashes: Vec<String> =
                sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE revoked_at IS NULL")
                    .fetch_all(pool)
                    .await?;
            Ok(hashes)
        })
    }
}
