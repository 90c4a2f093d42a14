//! Webhook consumers (a URL, the event types it wants, a signing secret encrypted with the
//! master key) and the queue of their deliveries: one row per event per consumer, kept in
//! the database so that a delivery survives a restart, claimed by a sender with a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one atomic statement on SQLite) so that two
//! server processes on one database never send the same attempt twice.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::crypto::MasterKey;
use crate::error::{Result, StoreError};
use crate::records::parse_json_as;
use crate::time::format_timestamp;
use crate::{new_id, on_pool, Db, Store};

/// Status of a delivery still to be (re)tried.
pub const WEBHOOK_PENDING: &str = "pending";
/// Status of a delivery a consumer accepted (answered 2xx).
pub const WEBHOOK_DELIVERED: &str = "delivered";
/// Status of a delivery given up after its last retry.
pub const WEBHOOK_FAILED: &str = "failed";

/// A webhook consumer, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConsumer {
    /// Random UUID.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The event types it receives (`*` for all).
    pub event_types: Vec<String>,
    /// When it was created.
    pub created_at: String,
    /// Whether events are no longer queued for it.
    pub disabled: bool,
}

/// One attempt at a delivery, as kept in its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttempt {
    /// When the attempt started.
    pub at: String,
    /// The consumer's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// A delivery of one event to one consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// Row id.
    pub id: i64,
    /// The consumer.
    pub consumer_id: String,
    /// The message id (`webhook-id`), the same for every attempt.
    pub message_id: String,
    /// The event type.
    pub event_type: String,
    /// The body sent (JSON text).
    pub payload: String,
    /// [`WEBHOOK_PENDING`], [`WEBHOOK_DELIVERED`] or [`WEBHOOK_FAILED`].
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (meaningful while pending).
    pub next_attempt_at: String,
    /// Until when a sender holds it (while an attempt is in flight).
    pub lease_until: Option<String>,
    /// The HTTP status of the last attempt, if the consumer answered.
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<WebhookAttempt>,
    /// When the event was queued.
    pub created_at: String,
    /// When it was delivered or given up.
    pub completed_at: Option<String>,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The consumer accepted it.
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// No retry is left.
    Failed,
}

const CONSUMER_COLUMNS: &str = "id, url, event_types, created_at, disabled";
const DELIVERY_COLUMNS: &str = "id, consumer_id, message_id, event_type, payload, status, \
    attempts, next_attempt_at, lease_until, last_status_code, last_error, attempt_log, \
    created_at, completed_at";

impl Store {
    /// The master key that seals webhook secrets.
    pub(crate) fn webhook_sealing_key(&self) -> Result<&MasterKey> {
        self.master_key.as_ref().ok_or(StoreError::MasterKeyMissing)
    }

    /// Creates a consumer with its signing secret (encrypted at rest), unless `limit`
    /// consumers exist already (`None` then). A disabled consumer gets no events.
    pub async fn create_webhook_consumer(
        &self,
        url: &str,
        event_types: &[String],
        secret: &str,
        disabled: bool,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookConsumer>> {
        let consumer = WebhookConsumer {
            id: new_id(),
            url: url.to_string(),
            event_types: event_types.to_vec(),
            created_at: format_timestamp(now),
            disabled,
        };
        let sealed = self.webhook_sealing_key()?.encrypt(secret, &consumer.id);
        let event_types = serde_json::Value::from(event_types.to_vec()).to_string();
        let inserted = on_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO webhook_consumers (id, url, event_types, secret_ciphertext, \
                 created_at, disabled) SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE (SELECT COUNT(*) FROM webhook_consumers) < $7",
            )
            .bind(&consumer.id)
            .bind(&consumer.url)
            .bind(&event_types)
            .bind(&sealed)
            .bind(&consumer.created_at)
            .bind(disabled)
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok((inserted == 1).then_some(consumer))
    }

    /// Every consumer, oldest first.
    pub async fn list_webhook_consumers(&self) -> Result<Vec<WebhookConsumer>> {
        let sql =
            format!("SELECT {CONSUMER_COLUMNS} FROM webhook_consumers ORDER BY created_at, id");
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(read_consumer).collect()
        })
    }

    /// A consumer by id.
    pub async fn get_webhook_consumer(&self, id: &str) -> Result<Option<WebhookConsumer>> {
        let sql = format!("SELECT {CONSUMER_COLUMNS} FROM webhook_consumers WHERE id = $1");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| read_consumer(&r)).transpose()
        })
    }

    /// Deletes a consumer with its deliveries; `false` when there is none with that id.
    pub async fn delete_webhook_consumer(&self, id: &str) -> Result<bool> {
        on_pool!(&self.db, pool => {
            let done = sqlx::query("DELETE FROM webhook_consumers WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// A consumer's signing secret in clear, for signing deliveries. Never log it.
    pub async fn webhook_consumer_secret(&self, id: &str) -> Result<String> {
        let master_key = self.webhook_sealing_key()?;
        let sealed: Option<Vec<u8>> = on_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT secret_ciphertext FROM webhook_consumers WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let sealed = sealed.ok_or_else(|| StoreError::NotFound {
            what: "webhook consumer",
            id: id.to_string(),
        })?;
        master_key
            .decrypt(&sealed, id)
            .ok_or_else(|| StoreError::MasterKeyInvalid {
                source_desc: format!("master key {}", master_key.fingerprint()),
                reason: format!(
                    "cannot decrypt the signing secret of webhook consumer {id}: it was \
                     encrypted with another master key; delete the consumer and create it again"
                ),
            })
    }

    /// Queues an event for every consumer subscribed to `event_type` (or to `*`) and not
    /// disabled, due at once; returns how many deliveries were queued.
    pub async fn queue_webhook_event(
        &self,
        event_type: &str,
        message_id: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let subscribed = match self.db {
            Db::Sqlite(_) => {
                "EXISTS (SELECT 1 FROM json_each(event_types) WHERE value = $2 OR value = '*')"
            }
            Db::Postgres(_) => {
                "(event_types::jsonb @> jsonb_build_array($2::text) \
                 OR event_types::jsonb @> '[\"*\"]'::jsonb)"
            }
        };
        let sql = format!(
            "INSERT INTO webhook_deliveries (consumer_id, message_id, event_type, payload, status, \
             attempts, next_attempt_at, attempt_log, created_at) \
             SELECT id, $1, $2, $3, '{WEBHOOK_PENDING}', 0, $4, '[]', $4 FROM webhook_consumers \
             WHERE disabled = $5 AND {subscribed}"
        );
        on_pool!(&self.db, pool => {
            let done = sqlx::query(&sql)
                .bind(message_id)
                .bind(event_type)
                .bind(payload)
                .bind(format_timestamp(now))
                .bind(false)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// Claims the next due delivery (or one whose sender's lease ran out) until `now + lease`.
    /// `None` when nothing is due. The claimed delivery's `lease_until` is the token that
    /// [`Store::record_webhook_attempt`] checks.
    pub async fn claim_webhook_delivery(
        &self,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookDelivery>> {
        let lock = match self.db {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = $1 WHERE id = (SELECT d.id \
             FROM webhook_deliveries d WHERE d.status = '{WEBHOOK_PENDING}' \
             AND d.next_attempt_at <= $2 AND (d.lease_until IS NULL OR d.lease_until <= $2) \
             ORDER BY d.next_attempt_at, d.id LIMIT 1{lock}) \
             AND status = '{WEBHOOK_PENDING}' RETURNING {DELIVERY_COLUMNS}"
        );
        let until = format_timestamp(now + lease);
        let now = format_timestamp(now);
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql)
                .bind(&until)
                .bind(&now)
                .fetch_optional(pool)
                .await?;
            row.map(|r| read_delivery(&r)).transpose()
        })
    }

    /// Records an attempt at a delivery claimed by [`Store::claim_webhook_delivery`] (as it was
    /// claimed) and what follows it; `false` when the lease was lost (another sender claimed it
    /// after the lease ran out), in which case nothing is written.
    pub async fn record_webhook_attempt(
        &self,
        claimed: &WebhookDelivery,
        attempt: &WebhookAttempt,
        outcome: WebhookOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let Some(lease) = claimed.lease_until.as_deref() else {
            return Ok(false);
        };
        let mut log = claimed.attempt_log.clone();
        log.push(attempt.clone());
        let log = serde_json::to_string(&log).map_err(|source| StoreError::Json {
            what: "webhook_deliveries.attempt_log",
            source,
        })?;
        let now = format_timestamp(now);
        let (status, next, completed) = match outcome {
            WebhookOutcome::Delivered => (
                WEBHOOK_DELIVERED,
                claimed.next_attempt_at.clone(),
                Some(now),
            ),
            WebhookOutcome::RetryAt(at) => (WEBHOOK_PENDING, format_timestamp(at), None),
            WebhookOutcome::Failed => (WEBHOOK_FAILED, claimed.next_attempt_at.clone(), Some(now)),
        };
        on_pool!(&self.db, pool => {
            let done = sqlx::query(
                "UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, \
                 next_attempt_at = $5, lease_until = NULL, last_status_code = $6, last_error = $7, \
                 attempt_log = $8, completed_at = $9 \
                 WHERE id = $1 AND lease_until = $2 AND attempts = $3 AND status = 'pending'",
            )
            .bind(claimed.id)
            .bind(lease)
            .bind(claimed.attempts)
            .bind(status)
            .bind(&next)
            .bind(attempt.status_code)
            .bind(&attempt.error)
            .bind(&log)
            .bind(&completed)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// When the next pending delivery comes due (its attempt time, or the end of the lease
    /// of one in flight), if any is pending.
    pub async fn next_webhook_due(&self) -> Result<Option<String>> {
        on_pool!(&self.db, pool => {
            let due: Option<String> = sqlx::query_scalar(
                "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
                 THEN lease_until ELSE next_attempt_at END) FROM webhook_deliveries \
                 WHERE status = 'pending'",
            )
            .fetch_one(pool)
            .await?;
            Ok(due)
        })
    }

    /// A delivery by id.
    pub async fn get_webhook_delivery(&self, id: i64) -> Result<Option<WebhookDelivery>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
        on_pool!(&self.db, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|r| read_delivery(&r)).transpose()
        })
    }

    /// A page (from 1) of a consumer's deliveries, newest first, and how many it has.
    pub async fn webhook_deliveries_page(
        &self,
        consumer_id: &str,
        page: u32,
        page_size: u32,
    ) -> Result<(Vec<WebhookDelivery>, u64)> {
        if page < 1 || page_size < 1 {
            return Err(StoreError::Paging(
                "page and pageSize start at 1".to_string(),
            ));
        }
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE consumer_id = $1 \
             ORDER BY id DESC LIMIT $2 OFFSET $3"
        );
        let offset = i64::from(page - 1) * i64::from(page_size);
        on_pool!(&self.db, pool => {
            let total: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE consumer_id = $1")
                    .bind(consumer_id)
                    .fetch_one(pool)
                    .await?;
            let rows = sqlx::query(&sql)
                .bind(consumer_id)
                .bind(i64::from(page_size))
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let deliveries = rows.iter().map(read_delivery).collect::<Result<Vec<_>>>()?;
            Ok((deliveries, total.max(0) as u64))
        })
    }
}

fn read_consumer<R: Row>(row: &R) -> Result<WebhookConsumer>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let event_types: String = row.try_get(2)?;
    Ok(WebhookConsumer {
        id: row.try_get(0)?,
        url: row.try_get(1)?,
        event_types: parse_json_as(&event_types, "webhook_consumers.event_types")?,
        created_at: row.try_get(3)?,
        disabled: row.try_get(4)?,
    })
}

fn read_delivery<R: Row>(row: &R) -> Result<WebhookDelivery>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let log: String = row.try_get(11)?;
    Ok(WebhookDelivery {
        id: row.try_get(0)?,
        consumer_id: row.try_get(1)?,
        message_id: row.try_get(2)?,
        event_type: row.try_get(3)?,
        payload: row.try_get(4)?,
        status: row.try_get(5)?,
        attempts: row.try_get(6)?,
        next_attempt_at: row.try_get(7)?,
        lease_until: row.try_get(8)?,
        last_status_code: row.try_get(9)?,
        last_error: row.try_get(10)?,
        attempt_log: parse_json_as(&log, "webhook_deliveries.attempt_log")?,
        created_at: row.try_get(12)?,
        completed_at: row.try_get(13)?,
    })
}
