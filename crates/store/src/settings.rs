//! The client's profile (name, redirect URL of the Link page) and sync settings per data
//! type: the profile's defaults (scope `""`) and each company's own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::Result;
use crate::time::format_timestamp;
use crate::{on_pool, Store};

/// The profile scope of sync settings (the defaults of every company).
pub const PROFILE_SCOPE: &str = "";

/// How and when one data type is synced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSetting {
    /// The data type, e.g. `commerce-orders`.
    pub data_type: String,
    /// Synced as soon as a connection is linked.
    pub fetch_on_first_link: bool,
    /// Hours between scheduled syncs; 0 turns the schedule off.
    pub sync_schedule: i64,
    /// Records before this instant are not wanted (informative: PrestaShop reads are full).
    pub sync_from_utc: Option<String>,
}

/// The client's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The client application's name, shown on the Link page.
    pub name: String,
    /// Where the Link page sends the merchant after linking (`{companyId}` and
    /// `{connectionId}` are replaced; query parameters are added otherwise).
    pub redirect_url: Option<String>,
    /// When it last changed.
    pub updated_at: Option<String>,
}

impl Store {
    /// The profile (a default one when never set).
    pub async fn get_profile(&self) -> Result<Profile> {
        on_pool!(&self.db, pool => {
            let row = sqlx::query("SELECT name, redirect_url, updated_at FROM profile WHERE id = 1")
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(r) => Profile { name: r.try_get(0)?, redirect_url: r.try_get(1)?, updated_at: r.try_get(2)? },
                None => Profile { name: "prestalink".to_string(), redirect_url: None, updated_at: None },
            })
        })
    }

    /// Replaces the profile.
    pub async fn put_profile(
        &self,
        name: &str,
        redirect_url: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Profile> {
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO profile (id, name, redirect_url, updated_at) VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 redirect_url = excluded.redirect_url, updated_at = excluded.updated_at",
            )
            .bind(name)
            .bind(redirect_url)
            .bind(&now)
            .execute(pool)
            .await?;
        });
        self.get_profile().await
    }

    /// The sync settings stored for a scope ([`PROFILE_SCOPE`] or a company id), by data type.
    pub async fn get_sync_settings(&self, scope: &str) -> Result<Vec<SyncSetting>> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT data_type, fetch_on_first_link, sync_schedule_hours, sync_from_utc \
                 FROM sync_settings WHERE scope = $1 ORDER BY data_type",
            )
            .bind(scope)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(SyncSetting {
                        data_type: r.try_get(0)?,
                        fetch_on_first_link: r.try_get(1)?,
                        sync_schedule: r.try_get(2)?,
                        sync_from_utc: r.try_get(3)?,
                    })
                })
                .collect()
        })
    }

    /// Replaces a scope's settings for the data types given (others keep theirs).
    pub async fn put_sync_settings(&self, scope: &str, settings: &[SyncSetting]) -> Result<()> {
        on_pool!(&self.db, pool => {
            let mut tx = crate::begin(pool, "BEGIN").await?;
            for s in settings {
                sqlx::query(
                    "INSERT INTO sync_settings (scope, data_type, fetch_on_first_link, \
                     sync_schedule_hours, sync_from_utc) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (scope, data_type) DO UPDATE SET \
                     fetch_on_first_link = excluded.fetch_on_first_link, \
                     sync_schedule_hours = excluded.sync_schedule_hours, \
                     sync_from_utc = excluded.sync_from_utc",
                )
                .bind(scope)
                .bind(&s.data_type)
                .bind(s.fetch_on_first_link)
                .bind(s.sync_schedule)
                .bind(&s.sync_from_utc)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
