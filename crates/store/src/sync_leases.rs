//! One sync of a connection at a time (migration 0011): the syncing process holds a lease
//! row, renewed while it runs, as workers hold job leases (jobs.rs). A second sync of the
//! same connection finds the row and waits or stops with [`StoreError::SyncInProgress`]; a
//! lease whose holder died expires and is taken over, so a killed sync never blocks the
//! next one for longer than the lease.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::time::format_timestamp;
use crate::{on_pool, Store};

/// A held sync lease: renew it while the sync runs, release it at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLease {
    /// The connection synced.
    pub connection_id: String,
    /// Who holds it (host name and process id, plus a random suffix).
    pub owner: String,
}

impl Store {
    /// Takes the connection's sync lease for `ttl` if it is free, expired or already
    /// `owner`'s; [`StoreError::SyncInProgress`] (naming the holder) otherwise.
    pub async fn acquire_sync_lease(
        &self,
        connection_id: &str,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<SyncLease> {
        let expires = format_timestamp(now + ttl);
        let now = format_timestamp(now);
        let taken = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO sync_leases (connection_id, owner, expires_at, acquired_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id) DO UPDATE SET \
                 owner = excluded.owner, expires_at = excluded.expires_at, \
                 acquired_at = excluded.acquired_at \
                 WHERE sync_leases.expires_at < $4 OR sync_leases.owner = $2",
            )
            .bind(connection_id)
            .bind(owner)
            .bind(&expires)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if taken == 1 {
            return Ok(SyncLease {
                connection_id: connection_id.to_string(),
                owner: owner.to_string(),
            });
        }
        let holder: Option<(String, String)> = on_pool!(&self.db, pool => {
            let row = sqlx::query("SELECT owner, expires_at FROM sync_leases WHERE connection_id = $1")
                .bind(connection_id)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
                None => None,
            }
        });
        let (owner, expires_at) = holder.unwrap_or_else(|| ("?".into(), "?".into()));
        Err(StoreError::SyncInProgress {
            connection_id: connection_id.to_string(),
            owner,
            expires_at,
        })
    }

    /// Takes over a lease held by `stale_owner` (a process known to be dead) for `owner`;
    /// `None` when `stale_owner` no longer holds it.
    pub async fn take_over_sync_lease(
        &self,
        connection_id: &str,
        stale_owner: &str,
        owner: &str,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<SyncLease>> {
        let expires = format_timestamp(now + ttl);
        let now = format_timestamp(now);
        let taken = on_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sync_leases SET owner = $3, expires_at = $4, acquired_at = $5 \
                 WHERE connection_id = $1 AND owner = $2",
            )
            .bind(connection_id)
            .bind(stale_owner)
            .bind(owner)
            .bind(&expires)
            .bind(&now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok((taken == 1).then(|| SyncLease {
            connection_id: connection_id.to_string(),
            owner: owner.to_string(),
        }))
    }

    /// Extends a held lease; `false` when it was lost (expired and taken by another sync).
    pub async fn renew_sync_lease(
        &self,
        lease: &SyncLease,
        ttl: Duration,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let expires = format_timestamp(now + ttl);
        let renewed = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE sync_leases SET expires_at = $3 WHERE connection_id = $1 AND owner = $2")
                .bind(&lease.connection_id)
                .bind(&lease.owner)
                .bind(&expires)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(renewed == 1)
    }

    /// Gives a lease back (a no-op when it was lost).
    pub async fn release_sync_lease(&self, lease: &SyncLease) -> Result<()> {
        on_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM sync_leases WHERE connection_id = $1 AND owner = $2")
                .bind(&lease.connection_id)
                .bind(&lease.owner)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
