//! Linking a store and syncing it in one call: what the CLI (`prestalink sync`, `demo`) and,
//! later, the server's scheduler do. Diagnoses the store (auth mode, URL form, redirects),
//! creates or reuses the connection (key encrypted at rest), restores the pacer's last good
//! settings, runs the engine and saves the pacer's settings for next time.

use chrono::Utc;
use prestalink_pacing::{Caps, Pace, Pacer, PacerSettings};
use prestalink_store::Store;
use prestalink_webservice::client::Client;
use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions, Diagnosis};
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
    let linked = db
        .create_or_get_connection(&company.id, &store_url, &request.key, Utc::now())
        .await?;
    let settings = serde_json::json!({
        "authMode": diagnosis.auth_mode,
        "urlMode": diagnosis.url_mode,
        "version": diagnosis.version,
        "timezone": diagnosis.timezone,
        "currency": diagnosis.currency,
        "languages": diagnosis.languages.len(),
        "shops": diagnosis.shops.len(),
    });
    db.set_connection_settings(&linked.id, &settings, Utc::now())
        .await?;
    let start: Option<PacerSettings> = linked
        .pacer_settings
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let pacer = Pacer::new(request.pace, request.caps, start);
    let client = Client::new(connection).map_err(SyncError::from)?;
    let mut engine = Engine::new(
        client,
        pacer,
        db.clone(),
        &linked.id,
        &store_url,
        request.options.clone(),
    );
    if let Some(sender) = progress {
        engine = engine.with_progress(sender);
    }
    let report = engine.run().await?;
    Ok(Linked { diagnosis, report })
}
