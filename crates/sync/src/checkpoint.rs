//! The sync's checkpoints, typed: ids are `u64`, shop-local watermarks `NaiveDateTime`,
//! mapping passes `DateTime<Utc>`. They are stored as they always were (the store's
//! [`Checkpoint`] rows: a kind name, ids and dates as text, the rest in the JSON cursor), so
//! databases written before read the same.

use chrono::{DateTime, NaiveDateTime, Utc};
use prestalink_store::Checkpoint;
use serde_json::json;

use crate::engine::Ctx;
use crate::error::SyncError;

/// Format of PrestaShop dates (`date_upd`), shop-local.
pub(crate) const PS_DATE: &str = "%Y-%m-%d %H:%M:%S";

/// The resource name under which the learned database lag is kept (one per connection).
pub(crate) const CLOCK: &str = "clock";

/// Which checkpoint of a resource (or data type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Full,
    Incremental,
    Reconcile,
    Sweep,
    DbLag,
    Mapped,
}

impl Kind {
    /// The kind's stored name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Incremental => "incremental",
            Kind::Reconcile => "reconcile",
            Kind::Sweep => "sweep",
            Kind::DbLag => "db_lag",
            Kind::Mapped => "mapped",
        }
    }
}

/// One checkpoint's content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cursor {
    /// A full read of a resource: every row up to `last_id` is written; `complete` once the
    /// whole list is (`None` in a checkpoint that never said), `watermark` (shop-local)
    /// when the completed read started.
    Full {
        last_id: Option<u64>,
        watermark: Option<NaiveDateTime>,
        complete: Option<bool>,
    },
    /// Incremental reads: the last id seen (rows only ever appended) and the `date_upd`
    /// watermark (shop-local).
    Incremental {
        last_id: Option<u64>,
        watermark: Option<NaiveDateTime>,
    },
    /// Incremental reads since deletions were last reconciled.
    Reconcile { runs: u64 },
    /// The safety-net sweep's next slice, and the top id of the round it belongs to.
    Sweep { slice: u64, top: Option<u64> },
    /// How far behind PHP's clock the database dates rows, as learned on the connection.
    DbLag { lag_secs: i64 },
    /// When the last mapping pass of a data type started.
    Mapped { at: DateTime<Utc> },
}

fn id(text: Option<&str>) -> Option<u64> {
    text?.trim().parse().ok()
}

fn local(text: Option<&str>) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text?, PS_DATE).ok()
}

fn local_text(at: Option<NaiveDateTime>) -> Option<String> {
    at.map(|w| w.format(PS_DATE).to_string())
}

impl Cursor {
    /// Its kind.
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Cursor::Full { .. } => Kind::Full,
            Cursor::Incremental { .. } => Kind::Incremental,
            Cursor::Reconcile { .. } => Kind::Reconcile,
            Cursor::Sweep { .. } => Kind::Sweep,
            Cursor::DbLag { .. } => Kind::DbLag,
            Cursor::Mapped { .. } => Kind::Mapped,
        }
    }

    /// A kind's content when nothing was saved yet.
    pub(crate) fn empty(kind: Kind) -> Cursor {
        match kind {
            Kind::Full => Cursor::Full {
                last_id: None,
                watermark: None,
                complete: None,
            },
            Kind::Incremental => Cursor::Incremental {
                last_id: None,
                watermark: None,
            },
            Kind::Reconcile => Cursor::Reconcile { runs: 0 },
            Kind::Sweep => Cursor::Sweep {
                slice: 0,
                top: None,
            },
            Kind::DbLag => Cursor::DbLag { lag_secs: 0 },
            Kind::Mapped => Cursor::Mapped {
                at: DateTime::<Utc>::MIN_UTC,
            },
        }
    }

    /// A stored checkpoint of `kind` read back (`None` when it says nothing usable: a
    /// mapping pass without a readable start).
    pub(crate) fn read(kind: Kind, cp: &Checkpoint) -> Option<Cursor> {
        let cursor = cp.cursor.as_ref();
        let field = |name: &str| cursor.map(|c| &c[name]);
        Some(match kind {
            Kind::Full => Cursor::Full {
                last_id: id(cp.last_id.as_deref()),
                watermark: local(cp.watermark_local.as_deref()),
                complete: field("complete").and_then(serde_json::Value::as_bool),
            },
            Kind::Incremental => Cursor::Incremental {
                last_id: id(cp.last_id.as_deref()),
                watermark: local(cp.watermark_local.as_deref()),
            },
            Kind::Reconcile => Cursor::Reconcile {
                runs: field("runs")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
            },
            Kind::Sweep => Cursor::Sweep {
                slice: field("slice")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0),
                top: field("top").and_then(serde_json::Value::as_u64),
            },
            Kind::DbLag => Cursor::DbLag {
                lag_secs: field("lagSecs")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0),
            },
            Kind::Mapped => Cursor::Mapped {
                at: DateTime::parse_from_rfc3339(cp.watermark_utc.as_deref()?)
                    .ok()?
                    .with_timezone(&Utc),
            },
        })
    }

    /// The stored form, for `resource`.
    pub(crate) fn stored(&self, resource: &str) -> Checkpoint {
        let mut cp = Checkpoint::new(resource, self.kind().name());
        match self {
            Cursor::Full {
                last_id,
                watermark,
                complete,
            } => {
                cp.last_id = last_id.map(|id| id.to_string());
                cp.watermark_local = local_text(*watermark);
                cp.cursor = complete.map(|complete| json!({ "complete": complete }));
            }
            Cursor::Incremental { last_id, watermark } => {
                cp.last_id = last_id.map(|id| id.to_string());
                cp.watermark_local = local_text(*watermark);
            }
            Cursor::Reconcile { runs } => cp.cursor = Some(json!({ "runs": runs })),
            Cursor::Sweep { slice, top } => {
                cp.cursor = Some(json!({ "slice": slice, "top": top }));
            }
            Cursor::DbLag { lag_secs } => cp.cursor = Some(json!({ "lagSecs": lag_secs })),
            Cursor::Mapped { at } => {
                cp.watermark_utc = Some(prestalink_store::format_timestamp(*at));
            }
        }
        cp
    }
}

impl Ctx {
    /// A checkpoint of this connection, typed (`None` when none was saved, or it says
    /// nothing usable).
    pub(crate) async fn cursor(
        &self,
        resource: &str,
        kind: Kind,
    ) -> Result<Option<Cursor>, SyncError> {
        Ok(self
            .db
            .get_checkpoint(&self.connection_id, resource, kind.name())
            .await?
            .and_then(|cp| Cursor::read(kind, &cp)))
    }

    /// A checkpoint of this connection, or its kind's empty content.
    pub(crate) async fn cursor_or_empty(
        &self,
        resource: &str,
        kind: Kind,
    ) -> Result<Cursor, SyncError> {
        Ok(self
            .cursor(resource, kind)
            .await?
            .unwrap_or_else(|| Cursor::empty(kind)))
    }

    /// Saves a checkpoint of this connection (with this run's id).
    pub(crate) async fn save_cursor(
        &self,
        resource: &str,
        cursor: &Cursor,
    ) -> Result<(), SyncError> {
        self.save_checkpoint(cursor.stored(resource)).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;

    /// Each kind's stored form, as the sync wrote it before checkpoints were typed.
    #[test]
    fn checkpoints_are_stored_as_before_and_read_back() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let started = Utc.with_ymd_and_hms(2026, 12, 7, 17, 0, 1).unwrap()
            + chrono::Duration::milliseconds(250);
        let cases = [
            (
                Cursor::Full {
                    last_id: Some(1200),
                    watermark: Some(at),
                    complete: Some(true),
                },
                Checkpoint {
                    last_id: Some("1200".into()),
                    watermark_local: Some("2026-03-29 02:30:00".into()),
                    cursor: Some(json!({ "complete": true })),
                    ..Checkpoint::new("orders", "full")
                },
            ),
            (
                Cursor::Full {
                    last_id: Some(40),
                    watermark: None,
                    complete: Some(false),
                },
                Checkpoint {
                    last_id: Some("40".into()),
                    cursor: Some(json!({ "complete": false })),
                    ..Checkpoint::new("orders", "full")
                },
            ),
            (
                Cursor::Incremental {
                    last_id: Some(7),
                    watermark: Some(at),
                },
                Checkpoint {
                    last_id: Some("7".into()),
                    watermark_local: Some("2026-03-29 02:30:00".into()),
                    ..Checkpoint::new("orders", "incremental")
                },
            ),
            (
                Cursor::Reconcile { runs: 3 },
                Checkpoint {
                    cursor: Some(json!({ "runs": 3 })),
                    ..Checkpoint::new("orders", "reconcile")
                },
            ),
            (
                Cursor::Sweep {
                    slice: 2,
                    top: Some(900),
                },
                Checkpoint {
                    cursor: Some(json!({ "slice": 2, "top": 900 })),
                    ..Checkpoint::new("orders", "sweep")
                },
            ),
            (
                Cursor::DbLag { lag_secs: 3600 },
                Checkpoint {
                    cursor: Some(json!({ "lagSecs": 3600 })),
                    ..Checkpoint::new("orders", "db_lag")
                },
            ),
            (
                Cursor::Mapped { at: started },
                Checkpoint {
                    watermark_utc: Some("2026-12-07T17:00:01.250Z".into()),
                    ..Checkpoint::new("orders", "mapped")
                },
            ),
        ];
        for (cursor, stored) in cases {
            assert_eq!(cursor.stored("orders"), stored);
            assert_eq!(
                serde_json::to_string(&cursor.stored("orders")).unwrap(),
                serde_json::to_string(&stored).unwrap()
            );
            assert_eq!(Cursor::read(cursor.kind(), &stored), Some(cursor));
        }
        // What a checkpoint never said is read as nothing, not as a default that differs.
        let bare = Checkpoint::new("orders", "full");
        assert_eq!(
            Cursor::read(Kind::Full, &bare),
            Some(Cursor::empty(Kind::Full))
        );
        assert_eq!(
            Cursor::read(Kind::Mapped, &Checkpoint::new("commerce-orders", "mapped")),
            None
        );
    }
}
