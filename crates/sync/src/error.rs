//! Errors of the sync engine.

use prestalink_webservice::error::Error as WsError;

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
    /// A resource this data type needs could not be read.
    #[error("{resource} could not be read: {reason}")]
    SourceFailed {
        /// The resource.
        resource: String,
        /// Why.
        reason: String,
    },
    /// The failure of a pass that mapped several data types together (see family.rs),
    /// reported by each of them after the first.
    #[error("{0}")]
    Shared(String),
    /// Mapping could not run at all (e.g. an unknown time zone in PS_TIMEZONE).
    #[error("mapping: {0}")]
    Mapping(#[from] prestalink_mapping::MappingError),
    /// The run stopped at a checkpoint because its `yield_signal` was cancelled (its
    /// worker's time slice ended): everything read so far is written with its checkpoint,
    /// and the next run goes on from there. Not a failure.
    #[error("yielded at a checkpoint (time slice over); the next run resumes from there")]
    Yielded,
}

impl SyncError {
    /// True for errors that no retry will heal and that mean the connection must be
    /// re-linked: the key was rejected or the Webservice switched off.
    pub fn needs_relink(&self) -> bool {
        matches!(
            self,
            SyncError::Webservice(
                WsError::KeyRejected { .. }
                    | WsError::WebserviceDisabled { .. }
                    | WsError::CredentialsNotReceived { .. }
            )
        )
    }

    /// True when the store could not be reached at all (DNS, refused, TLS, redirect).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            SyncError::Webservice(
                WsError::Dns { .. }
                    | WsError::ConnectionRefused { .. }
                    | WsError::Tls { .. }
                    | WsError::PlainHttp { .. }
                    | WsError::Redirect { .. }
                    | WsError::Timeout { .. }
                    | WsError::ForbiddenAddress { .. }
            )
        )
    }
}
