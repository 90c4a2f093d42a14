//! Linking a store and syncing it in one call: what the CLI (`prestalink sync`, `demo`) and,
//! later, the server's scheduler do. Diagnoses the store (auth mode, URL form, redirects),
//! creates or reuses the connection (key encrypted at rest), restores the pacer's last good
//! settings, runs the engine and saves the pacer's settings for next time.

use chrono::Utc;
use prestalink_pacing::{Caps, Pace, Pacer, PacerSettings};
use prestalink_store::{ConnectionStatus, Store};
use prestalink_webservice::client::Client;
use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions, Diagnosis, DiagnosisCode};
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::{Engine, SyncReport};
use crate::error::SyncError;
use crate::options::SyncOptions;
use crate::progress::ProgressEvent;

/// The name of the company connections are filed under when none is given.
pub const DEFAULT_COMPANY: &str = "Default company";

/// What to sync, and how.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    /// Store URL as the merchant gave it.
    pub url: String,
    /// Webservice key.
    pub key: String,
    /// Diagnosis options (redirect confirmation, TLS, timeouts, format).
    pub diagnose: DiagnoseOptions,
    /// The run's options.
    pub options: SyncOptions,
    /// Pace of the pacer.
    pub pace: Pace,
    /// User caps of the pacer.
    pub caps: Caps,
}

/// Why a store could not be linked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The diagnosis says the store cannot be read; it says why and what to fix.
    #[error("{}", .0.message)]
    NotReadable(Box<Diagnosis>),
    /// The sync itself failed (database).
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The database failed while linking.
    #[error("database: {0}")]
    Database(#[from] prestalink_store::StoreError),
}

/// The outcome of [`sync_store`]: the diagnosis that linked the store, and the run's report.
#[derive(Debug)]
pub struct Linked {
    /// How the store was reached (warnings included).
    pub diagnosis: Diagnosis,
    /// The sync run.
    pub report: SyncReport,
}

/// Diagnoses the store, links it in `db` and runs a sync.
pub async fn sync_store(
    db: &Store,
    request: &SyncRequest,
    progress: Option<UnboundedSender<ProgressEvent>>,
) -> Result<Linked, LinkError> {
    let mut diagnosis = diagnose(&request.url, &request.key, &request.diagnose).await;
    let connection = match (diagnosis.ok, diagnosis.connection.take()) {
        (true, Some(connection)) => connection,
        _ => return Err(LinkError::NotReadable(Box::new(diagnosis))),
    };
    let store_url = diagnosis
        .store_url
        .clone()
        .unwrap_or_else(|| request.url.trim().to_string());
    let company = match db
        .list_companies()
        .await?
        .into_iter()
        .find(|c| c.name == DEFAULT_COMPANY)
    {
        Some(company) => company,
        None => db.create_company(DEFAULT_COMPANY, Utc::now()).await?,
    };
    // The key as parsed (upper case, a pasted `ws_key=` prefix dropped), not as typed.
    let linked = db
        .create_or_get_connection(&company.id, &store_url, connection.key.expose(), Utc::now())
        .await?;
    db.set_connection_settings(&linked.id, &connection_settings(&diagnosis), Utc::now())
        .await?;
    let report = run_engine(
        db, &linked, connection, &diagnosis, request, progress, false,
    )
    .await?;
    Ok(Linked { diagnosis, report })
}

/// What is remembered of a diagnosis with the connection (shown by the API as
/// `connectionInfo`).
pub fn connection_settings(diagnosis: &Diagnosis) -> serde_json::Value {
    serde_json::json!({
        "storeUrl": diagnosis.store_url,
        "authMode": diagnosis.auth_mode,
        "urlMode": diagnosis.url_mode,
        "version": diagnosis.version,
        "timezone": diagnosis.timezone,
        "currency": diagnosis.currency,
        "languages": diagnosis.languages,
        "shops": diagnosis.shops,
        "warnings": diagnosis.warnings,
        "missingPermissions": diagnosis.missing_permissions,
    })
}

/// Runs the engine on a linked connection with the pacer's remembered settings, planned
/// from the diagnosis: resources the key may not read are never requested.
async fn run_engine(
    db: &Store,
    linked: &prestalink_store::Connection,
    connection: prestalink_webservice::client::Connection,
    diagnosis: &Diagnosis,
    request: &SyncRequest,
    progress: Option<UnboundedSender<ProgressEvent>>,
    lease_held: bool,
) -> Result<SyncReport, SyncError> {
    let start: Option<PacerSettings> = linked
        .pacer_settings
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let pacer = Pacer::new(request.pace, request.caps, start);
    let store_url = connection.store_url.to_string();
    let client = Client::new(connection).map_err(SyncError::from)?;
    let mut options = request.options.clone();
    options.unreadable = unreadable_resources(diagnosis);
    let mut engine = Engine::new(client, pacer, db.clone(), &linked.id, &store_url, options);
    if let Some(sender) = progress {
        engine = engine.with_progress(sender);
    }
    if lease_held {
        engine = engine.with_held_lease();
    }
    engine.run().await
}

/// The resources a sync may read (the catalogue's, and add-on modules' extras) that the
/// diagnosed key may not: PrestaShop's root listing names only what a key may use.
pub fn unreadable_resources(diagnosis: &Diagnosis) -> Vec<String> {
    crate::catalog::RESOURCES
        .iter()
        .map(|r| r.name)
        .filter(|name| {
            !diagnosis
                .resources
                .get(*name)
                .is_some_and(|methods| methods.contains(&"GET"))
        })
        .map(str::to_string)
        .collect()
}

/// The resources `data_type` needs that are in `unreadable`: when any, a sync reports the
/// data type `PermissionsError` and reads nothing for it.
pub fn forbidden_sources(
    data_type: prestalink_commerce::DataType,
    unreadable: &[String],
) -> Vec<&'static str> {
    prestalink_mapping::sources::sources(data_type)
        .resources()
        .into_iter()
        .filter(|s| unreadable.iter().any(|u| u == s))
        .collect()
}

/// Whether a failed diagnosis means the key no longer works (the merchant must re-link),
/// rather than a passing failure of the host.
pub fn needs_relink(code: DiagnosisCode) -> bool {
    matches!(
        code,
        DiagnosisCode::InvalidKey
            | DiagnosisCode::InvalidKeyFormat
            | DiagnosisCode::NoPermission
            | DiagnosisCode::WebserviceDisabled
    )
}

/// Syncs an already linked connection (what the server's workers do): checks the store
/// again with the stored key, marks the connection `Deauthorized` (with a connection error)
/// when the key no longer works, and runs the engine. `request.url` and `request.key` are
/// ignored: the connection's own are used.
///
/// The connection's sync lease is taken before the first request (the diagnosis) and held
/// to the end, so two processes never read one store at once: a worker that took over a job
/// whose previous worker is still alive (a lease that expired under load, a network cut)
/// waits here for that worker to notice and stop.
pub async fn sync_connection(
    db: &Store,
    connection_id: &str,
    request: &SyncRequest,
    progress: Option<UnboundedSender<ProgressEvent>>,
) -> Result<Linked, LinkError> {
    let holder = prestalink_store::new_id();
    let lease =
        crate::lease::acquire_for(db, connection_id, &holder, request.options.lease_wait).await?;
    let guard = crate::lease::Guard::new(db.clone(), lease.clone());
    let result = tokio::select! {
        result = sync_connection_leased(db, connection_id, request, progress) => result,
        lost = crate::lease::keep(db, &lease) => Err(LinkError::Sync(lost)),
    };
    guard.release().await;
    result
}

async fn sync_connection_leased(
    db: &Store,
    connection_id: &str,
    request: &SyncRequest,
    progress: Option<UnboundedSender<ProgressEvent>>,
) -> Result<Linked, LinkError> {
    let linked = db.get_connection(connection_id).await?.ok_or_else(|| {
        prestalink_store::StoreError::NotFound {
            what: "connection",
            id: connection_id.to_string(),
        }
    })?;
    let key = db.decrypt_key(connection_id).await?;
    let mut options = request.diagnose.clone();
    options.accept_redirect = false;
    let mut diagnosis = diagnose(&linked.store_url, &key, &options).await;
    let now = Utc::now();
    let connection = match (diagnosis.ok, diagnosis.connection.take()) {
        (true, Some(connection)) => connection,
        _ => {
            db.add_connection_error(
                connection_id,
                diagnosis.code.as_str(),
                if needs_relink(diagnosis.code) {
                    "Unauthorized"
                } else {
                    "Unavailable"
                },
                &diagnosis.message,
                now,
            )
            .await?;
            if needs_relink(diagnosis.code) {
                db.set_connection_status(
                    connection_id,
                    ConnectionStatus::Deauthorized,
                    Some(&diagnosis.message),
                    now,
                )
                .await?;
            }
            return Err(LinkError::NotReadable(Box::new(diagnosis)));
        }
    };
    if linked.status != ConnectionStatus::Linked {
        db.set_connection_status(connection_id, ConnectionStatus::Linked, None, now)
            .await?;
        db.resolve_connection_errors(connection_id, now).await?;
    }
    db.set_connection_settings(connection_id, &connection_settings(&diagnosis), now)
        .await?;
    let report = run_engine(db, &linked, connection, &diagnosis, request, progress, true).await?;
    if report.fatal.is_some() {
        if let Some(after) = db.get_connection(connection_id).await? {
            if after.status == ConnectionStatus::Deauthorized {
                db.add_connection_error(
                    connection_id,
                    "invalid_key",
                    "Unauthorized",
                    after
                        .status_reason
                        .as_deref()
                        .unwrap_or("the key was refused"),
                    Utc::now(),
                )
                .await?;
            }
        }
    }
    Ok(Linked { diagnosis, report })
}
