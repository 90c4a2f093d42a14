//! The master key's check value (migration 0011): a known text sealed with the master key
//! that encrypted the database's secrets. Opening with another key is
//! [`StoreError::MasterKeyMismatch`] at once, instead of stored keys being silently
//! re-encrypted under it; [`Store::rotate_master_key`] re-encrypts deliberately.

use chrono::Utc;
use sqlx::Row;

use crate::crypto::MasterKey;
use crate::error::{Result, StoreError};
use crate::time::format_timestamp;
use crate::{on_pool, Store};

/// The text sealed as the check value.
const CHECK_TEXT: &str = "prestalink master key check";
/// The associated data it is sealed with (no connection id can be this).
const CHECK_CONTEXT: &str = "master_key_check";

const UPSERT_CHECK: &str = "INSERT INTO master_key_check (id, fingerprint, check_value, \
     created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
     fingerprint = excluded.fingerprint, check_value = excluded.check_value, \
     created_at = excluded.created_at";

/// What [`Store::rotate_master_key`] re-encrypted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rotation {
    /// Webservice keys of connections.
    pub connection_keys: u64,
    /// Signing secrets of webhook consumers.
    pub webhook_secrets: u64,
}

impl Store {
    /// Checks that the store's master key is the one the database was sealed with; records
    /// the check value when there is none yet (a new database, or one from before 0011 whose
    /// connections were all sealed with this key).
    pub(crate) async fn verify_master_key(&self) -> Result<()> {
        let Some(key) = &self.master_key else {
            return Ok(());
        };
        let stored: Option<(String, Vec<u8>)> = on_pool!(&self.db, pool => {
            let row = sqlx::query("SELECT fingerprint, check_value FROM master_key_check WHERE id = 1")
                .fetch_optional(pool)
                .await?;
            match row {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            }
        });
        let mismatch = |stored_fingerprint: String| StoreError::MasterKeyMismatch {
            stored_fingerprint,
            current_fingerprint: key.fingerprint().to_string(),
        };
        if let Some((fingerprint, value)) = stored {
            return match key.decrypt(&value, CHECK_CONTEXT) {
                Some(text) if text == CHECK_TEXT => Ok(()),
                _ => Err(mismatch(fingerprint)),
            };
        }
        // No check value yet: the connections say which key sealed them.
        let other: Option<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT key_fingerprint FROM connections WHERE key_fingerprint <> $1 LIMIT 1")
                .bind(key.fingerprint())
                .fetch_optional(pool)
                .await?
        });
        if let Some(fingerprint) = other {
            return Err(mismatch(fingerprint));
        }
        let sealed = key.encrypt(CHECK_TEXT, CHECK_CONTEXT);
        let now = format_timestamp(Utc::now());
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO master_key_check (id, fingerprint, check_value, created_at) \
                 VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(key.fingerprint())
            .bind(&sealed)
            .bind(&now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Re-encrypts every secret of the database (connection keys, webhook secrets) and the
    /// check value under `new`, in one transaction. Afterwards the database opens only with
    /// `new`: reopen the store with it.
    pub async fn rotate_master_key(&self, new: &MasterKey) -> Result<Rotation> {
        let old = self
            .master_key
            .as_ref()
            .ok_or(StoreError::MasterKeyMissing)?;
        let mut rotation = Rotation::default();
        let now = format_timestamp(Utc::now());
        let sealed_check = new.encrypt(CHECK_TEXT, CHECK_CONTEXT);
        on_pool!(&self.db, pool => {
            let mut tx = crate::begin(pool, "BEGIN").await?;
            let rows = sqlx::query("SELECT id, key_ciphertext, key_fingerprint FROM connections")
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let id: String = row.try_get(0)?;
                let sealed: Vec<u8> = row.try_get(1)?;
                let key = old.decrypt(&sealed, &id).ok_or_else(|| StoreError::KeyDecryption {
                    connection_id: id.clone(),
                    stored_fingerprint: row.try_get(2).unwrap_or_default(),
                    current_fingerprint: old.fingerprint().to_string(),
                })?;
                sqlx::query("UPDATE connections SET key_ciphertext = $1, key_fingerprint = $2 WHERE id = $3")
                    .bind(new.encrypt(&key, &id))
                    .bind(new.fingerprint())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                rotation.connection_keys += 1;
            }
            let rows = sqlx::query("SELECT id, secret_ciphertext FROM webhook_consumers")
                .fetch_all(&mut *tx)
                .await?;
            for row in rows {
                let id: String = row.try_get(0)?;
                let sealed: Vec<u8> = row.try_get(1)?;
                let secret = old.decrypt(&sealed, &id).ok_or_else(|| StoreError::MasterKeyInvalid {
                    source_desc: format!("master key {}", old.fingerprint()),
                    reason: format!("cannot decrypt the signing secret of webhook consumer {id}"),
                })?;
                sqlx::query("UPDATE webhook_consumers SET secret_ciphertext = $1 WHERE id = $2")
                    .bind(new.encrypt(&secret, &id))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                rotation.webhook_secrets += 1;
            }
            sqlx::query(UPSERT_CHECK)
                .bind(new.fingerprint())
                .bind(&sealed_check)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(rotation)
    }
}
