//! Errors of the sync engine.

use std::fmt;

use prestalink_webservice::error::Error as WsError;

use crate::engine::PERMISSIONS_ERROR;

/// What a run that yielded says.
const YIELDED: &str = "yielded at a checkpoint (time slice over); the next run resumes from there";

/// Why a resource, a data type or a whole run could not be synced.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The store could not be read (after retries, for errors that can heal).
    #[error(transparent)]
    Webservice(#[from] WsError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] prestalink_store::StoreError),
    /// PrestaShop ignored a filter: its answer contains rows outside it. Reading on would
    /// risk writing the wrong rows, so the resource stops here.
    #[error("PrestaShop ignored {filter} on {resource}: the answer contains rows outside it (a module override may be altering the Webservice)")]
    FilterIgnored {
        /// The resource read.
        resource: String,
        /// The filter that was not applied.
        filter: String,
    },
    /// The answer had an unexpected shape.
    #[error("unexpected answer for {resource}: {detail}")]
    Unexpected {
        /// The resource read.
        resource: String,
        /// What was wrong.
        detail: String,
    },
    /// The failure of a pass that mapped several data types together (see family.rs),
    /// reported by each of them after the first.
    #[error("{0}")]
    Shared(Box<FailureReason>),
    /// Mapping could not run at all (e.g. an unknown time zone in PS_TIMEZONE).
    #[error("mapping: {0}")]
    Mapping(#[from] prestalink_mapping::MappingError),
    /// The run stopped at a checkpoint because its `yield_signal` was cancelled (its
    /// worker's time slice ended): everything read so far is written with its checkpoint,
    /// and the next run goes on from there. Not a failure.
    #[error("{YIELDED}")]
    Yielded,
}

impl SyncError {
    /// True for errors that no retry will heal and that mean the connection must be
    /// re-linked: the key was rejected or the Webservice switched off.
    pub fn needs_relink(&self) -> bool {
        matches!(self, SyncError::Webservice(e) if WebserviceFailure::of(e) == WebserviceFailure::Relink)
    }

    /// True when the store could not be reached at all (DNS, refused, TLS, redirect).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SyncError::Webservice(e) if WebserviceFailure::of(e) == WebserviceFailure::Unreachable)
    }
}

/// What a failed Webservice read means for the run, decided once from the client's error
/// (and kept with the failure, so that nothing has to read it back from the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebserviceFailure {
    /// No retry heals it and the connection must be linked again: the key was rejected, the
    /// Webservice switched off, or the key never reached PrestaShop. Ends the run.
    Relink,
    /// The store could not be reached at all (DNS, refused, TLS, plain HTTP, redirect,
    /// timeout, forbidden address). Ends the run when nothing else could be read either.
    Unreachable,
    /// The key may not read the resource (PrestaShop errors 25, 26, 132).
    NotPermitted,
    /// Any other failed read: an error answer, an HTML page, an answer that could not be
    /// decoded, a 404.
    Other,
}

impl WebserviceFailure {
    /// The category of a client error.
    pub fn of(error: &WsError) -> WebserviceFailure {
        match error {
            WsError::KeyRejected { .. }
            | WsError::WebserviceDisabled { .. }
            | WsError::CredentialsNotReceived { .. } => WebserviceFailure::Relink,
            WsError::Dns { .. }
            | WsError::ConnectionRefused { .. }
            | WsError::Tls { .. }
            | WsError::PlainHttp { .. }
            | WsError::Redirect { .. }
            | WsError::Timeout { .. }
            | WsError::ForbiddenAddress { .. } => WebserviceFailure::Unreachable,
            WsError::NotPermitted { .. } => WebserviceFailure::NotPermitted,
            _ => WebserviceFailure::Other,
        }
    }
}

/// Why a resource could not be read, or a data type (or a whole run) could not be synced.
/// Reports carry it; JSON reports and the database get its text ([`Display`], also what
/// [`serde::Serialize`] writes), which is the text these failures always had.
///
/// [`Display`]: std::fmt::Display
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureReason {
    /// A Webservice read failed (after retries, for errors that can heal).
    Webservice {
        /// What the failure means for the run.
        kind: WebserviceFailure,
        /// The client's message.
        message: String,
    },
    /// PrestaShop ignored a filter: its answer contains rows outside it.
    FilterIgnored {
        /// The resource read.
        resource: String,
        /// The filter that was not applied.
        filter: String,
    },
    /// The answer had an unexpected shape.
    Unexpected {
        /// The resource read.
        resource: String,
        /// What was wrong.
        detail: String,
    },
    /// A resource this one is read by (a child's parent), or this data type is built from,
    /// could not be read.
    SourceFailed {
        /// The resource that could not be read.
        resource: String,
        /// Why.
        reason: Box<FailureReason>,
    },
    /// Mapping could not run at all (e.g. an unknown time zone in PS_TIMEZONE).
    Mapping(prestalink_mapping::MappingError),
    /// The database failed: reported to the other data types of a mapping pass whose first
    /// data type carries the error itself (which ends the run).
    Database {
        /// The store's message.
        message: String,
    },
    /// The step stopped at a checkpoint because the run was asked to yield.
    Yielded,
    /// PrestaShop has no data for this data type.
    NotSupported {
        /// The data type's key.
        data_type: String,
    },
    /// The Webservice key may not read these resources, which the data type needs: nothing
    /// was read for it.
    PermissionsError {
        /// The resources to allow.
        resources: Vec<String>,
    },
    /// The data type was not mapped, although nothing it needs failed.
    NotMapped,
}

impl FailureReason {
    /// The failure of `resource`, which `reason` says why could not be read.
    pub fn source_failed(resource: &str, reason: &FailureReason) -> FailureReason {
        FailureReason::SourceFailed {
            resource: resource.to_string(),
            reason: Box::new(reason.clone()),
        }
    }

    /// Whether the connection must be linked again (the key rejected, the Webservice off):
    /// no retry heals it, and the run stops.
    pub fn needs_relink(&self) -> bool {
        self.webservice_failure() == Some(WebserviceFailure::Relink)
    }

    /// Whether the store could not be reached at all.
    pub fn is_unreachable(&self) -> bool {
        self.webservice_failure() == Some(WebserviceFailure::Unreachable)
    }

    /// The category of a failed Webservice read; `None` for every other failure (a source
    /// that failed included: its own failure is in `reason`).
    pub fn webservice_failure(&self) -> Option<WebserviceFailure> {
        match self {
            FailureReason::Webservice { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

impl From<&SyncError> for FailureReason {
    fn from(error: &SyncError) -> FailureReason {
        match error {
            SyncError::Webservice(e) => FailureReason::Webservice {
                kind: WebserviceFailure::of(e),
                message: e.to_string(),
            },
            SyncError::Database(e) => FailureReason::Database {
                message: e.to_string(),
            },
            SyncError::FilterIgnored { resource, filter } => FailureReason::FilterIgnored {
                resource: resource.clone(),
                filter: filter.clone(),
            },
            SyncError::Unexpected { resource, detail } => FailureReason::Unexpected {
                resource: resource.clone(),
                detail: detail.clone(),
            },
            SyncError::Shared(reason) => (**reason).clone(),
            SyncError::Mapping(e) => FailureReason::Mapping(e.clone()),
            SyncError::Yielded => FailureReason::Yielded,
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::Webservice { message, .. } => f.write_str(message),
            FailureReason::FilterIgnored { resource, filter } => write!(
                f,
                "PrestaShop ignored {filter} on {resource}: the answer contains rows outside \
                 it (a module override may be altering the Webservice)"
            ),
            FailureReason::Unexpected { resource, detail } => {
                write!(f, "unexpected answer for {resource}: {detail}")
            }
            FailureReason::SourceFailed { resource, reason } => {
                write!(f, "{resource} could not be read: {reason}")
            }
            FailureReason::Mapping(e) => write!(f, "mapping: {e}"),
            FailureReason::Database { message } => write!(f, "database: {message}"),
            FailureReason::Yielded => f.write_str(YIELDED),
            FailureReason::NotSupported { data_type } => {
                write!(f, "PrestaShop has no data for {data_type}")
            }
            FailureReason::PermissionsError { resources } => {
                let resources = resources.join(", ");
                write!(
                    f,
                    "{PERMISSIONS_ERROR}: the Webservice key may not read {resources}; nothing \
                     was read for this data type. In the back office open Advanced Parameters \
                     > Webservice, edit the key, tick the View (GET) column for {resources} \
                     and save"
                )
            }
            FailureReason::NotMapped => f.write_str("not mapped"),
        }
    }
}

/// Written as its text (reports' `error` fields).
impl serde::Serialize for FailureReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use prestalink_mapping::MappingError;
    use prestalink_webservice::error::PsError;

    use super::*;

    fn key_rejected() -> WsError {
        WsError::KeyRejected {
            errors: vec![PsError {
                code: 18,
                message: "Invalid key".into(),
            }],
        }
    }

    fn timeout() -> WsError {
        WsError::Timeout {
            url: "https://shop.example/api/orders".into(),
            after: Duration::from_secs(30),
        }
    }

    /// The text of each reason made from an engine error, as the error itself wrote it
    /// (and as reports, the CLI and the database always showed it).
    #[test]
    fn reasons_from_errors_keep_the_errors_texts() {
        let cases: Vec<(SyncError, &str)> = vec![
            (
                SyncError::Webservice(key_rejected()),
                "PrestaShop rejected the key: [18] Invalid key",
            ),
            (
                SyncError::Webservice(timeout()),
                "https://shop.example/api/orders did not answer within 30s",
            ),
            (
                SyncError::Database(prestalink_store::StoreError::DatabaseMissing {
                    path: "shop.db".into(),
                }),
                "database: the database shop.db does not exist: check --db (or PRESTALINK_DB), \
                 or create it with `prestalink sync --db shop.db …`",
            ),
            (
                SyncError::FilterIgnored {
                    resource: "orders".into(),
                    filter: "filter[id]=[1,5]".into(),
                },
                "PrestaShop ignored filter[id]=[1,5] on orders: the answer contains rows \
                 outside it (a module override may be altering the Webservice)",
            ),
            (
                SyncError::Unexpected {
                    resource: "orders".into(),
                    detail: "a single record".into(),
                },
                "unexpected answer for orders: a single record",
            ),
            (
                SyncError::Mapping(MappingError::MissingId { resource: "orders" }),
                "mapping: orders record has no numeric id",
            ),
            (
                SyncError::Yielded,
                "yielded at a checkpoint (time slice over); the next run resumes from there",
            ),
            (
                SyncError::Shared(Box::new(FailureReason::Mapping(MappingError::MissingId {
                    resource: "orders",
                }))),
                "mapping: orders record has no numeric id",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
            assert_eq!(FailureReason::from(&error).to_string(), text, "{error:?}");
        }
    }

    /// The texts of the reasons the engine makes itself, as it formatted them.
    #[test]
    fn reasons_of_the_engine_keep_their_texts() {
        let timeout = FailureReason::from(&SyncError::Webservice(timeout()));
        let parent = FailureReason::source_failed("orders", &timeout);
        assert_eq!(
            parent.to_string(),
            "orders could not be read: https://shop.example/api/orders did not answer within 30s"
        );
        // A child whose parent failed, in a data type that needs the child.
        assert_eq!(
            FailureReason::source_failed("order_details", &parent).to_string(),
            "order_details could not be read: orders could not be read: \
             https://shop.example/api/orders did not answer within 30s"
        );
        assert_eq!(
            FailureReason::NotSupported {
                data_type: "commerce-disputes".into()
            }
            .to_string(),
            "PrestaShop has no data for commerce-disputes"
        );
        assert_eq!(
            FailureReason::PermissionsError {
                resources: vec!["orders".into(), "order_details".into()]
            }
            .to_string(),
            "PermissionsError: the Webservice key may not read orders, order_details; nothing \
             was read for this data type. In the back office open Advanced Parameters > \
             Webservice, edit the key, tick the View (GET) column for orders, order_details and \
             save"
        );
        assert_eq!(FailureReason::NotMapped.to_string(), "not mapped");
    }

    #[test]
    fn reasons_serialize_as_their_text() {
        let reason = FailureReason::source_failed(
            "orders",
            &FailureReason::from(&SyncError::Webservice(key_rejected())),
        );
        assert_eq!(
            serde_json::to_value(Some(&reason)).unwrap(),
            serde_json::json!(
                "orders could not be read: PrestaShop rejected the key: [18] Invalid key"
            )
        );
        assert_eq!(
            serde_json::to_value(None::<FailureReason>).unwrap(),
            serde_json::Value::Null
        );
    }

    /// The category is the client error's, kept as data: a message that reads like a
    /// rejected key is not one, and a source that failed is not itself a failed read.
    #[test]
    fn categories_come_from_the_error_not_the_text() {
        let rejected = FailureReason::from(&SyncError::Webservice(key_rejected()));
        assert_eq!(
            rejected.webservice_failure(),
            Some(WebserviceFailure::Relink)
        );
        assert!(rejected.needs_relink() && !rejected.is_unreachable());
        let unreachable = FailureReason::from(&SyncError::Webservice(timeout()));
        assert!(unreachable.is_unreachable() && !unreachable.needs_relink());
        let not_permitted = FailureReason::from(&SyncError::Webservice(WsError::NotPermitted {
            resource: Some("orders".into()),
            errors: vec![],
        }));
        assert_eq!(
            not_permitted.webservice_failure(),
            Some(WebserviceFailure::NotPermitted)
        );
        let lookalike = FailureReason::Webservice {
            kind: WebserviceFailure::Other,
            message: rejected.to_string(),
        };
        assert!(!lookalike.needs_relink());
        let child = FailureReason::source_failed("orders", &rejected);
        assert_eq!(child.webservice_failure(), None);
        assert!(!child.needs_relink());
        // A shared failure keeps the category of the pass's own.
        let shared = SyncError::Shared(Box::new(rejected.clone()));
        assert_eq!(FailureReason::from(&shared), rejected);
    }
}
