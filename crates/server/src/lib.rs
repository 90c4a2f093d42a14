//! The REST API server of prestalink: a Codat-shaped API (companies, connections, data,
//! sync control, sync settings, webhooks) over the store, with the scheduler and the sync
//! workers that keep every connection current, in one process.
//!
//! Entry point: [`start`], which binds the listener and returns a [`RunningServer`].

mod auth;
pub mod charts;
pub mod clock;
pub mod config;
pub mod dashboard;
mod error;
mod extract;
mod links;
mod metrics;
pub mod numbers;
mod openapi;
mod routes;
mod scheduler;
mod schema_paths;
mod state;
mod views;
pub mod web;
mod webhooks;
mod worker;

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;
use prestalink_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use clock::Clock;
pub use config::{ServerConfig, DEFAULT_PAGE_FRESHNESS};
pub use error::{ApiError, ErrorMessage};
pub use state::AppState;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A random UUID v4 (correlation ids, message ids).
pub(crate) fn random_id() -> String {
    prestalink_store::new_id()
}

/// The whole API, and the pages, as a router on `state`. The API's routes need an API key;
/// the pages ([`web`]) are merged beside them, outside that guard, and do their own checks.
pub fn app(state: AppState) -> Router {
    let api = routes::router()
        .merge(webhooks::routes())
        .fallback(|| async {
            ApiError::not_found("No such endpoint; see /openapi.json for the API's paths")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "This endpoint does not accept that method; see /openapi.json",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_api_key,
        ));
    web::router(state.clone())
        .merge(api)
        .layer(axum::middleware::from_fn(metrics::track_http))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                axum::response::IntoResponse::into_response(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server failed while answering; the failure was logged",
                ))
            },
        ))
        .with_state(state)
}

/// A server started by [`start`].
pub struct RunningServer {
    addr: SocketAddr,
    state: AppState,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The shared state (tests: the store and the clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops gracefully: no new requests; requests in flight finish; a running sync stops at
    /// its last checkpoint and its job returns to the queue; webhook sending stops.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Runs until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        wait_for_signal().await;
        tracing::info!("stopping: finishing requests and checkpointing syncs");
        self.shutdown().await;
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Binds the listener and starts the API, the scheduler, the sync workers and the webhook
/// sender on `store`.
pub async fn start(store: Store, config: ServerConfig) -> anyhow::Result<RunningServer> {
    metrics::install();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let base_url = config
        .public_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("http://{addr}"));
    let (stop, stopping) = watch::channel(false);
    store.set_page_freshness(config.page_freshness);
    let state = AppState::new(store, config, base_url, stopping);
    let mut tasks = Vec::new();
    let router = if state.config.api {
        app(state.clone())
    } else {
        routes::service_router(state.clone())
    };
    let mut stop_rx = state.stopping.clone();
    tasks.push(tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the API server stopped");
        }
    }));
    tasks.push(tokio::spawn(scheduler::run(state.clone())));
    for n in 0..state.config.workers {
        tasks.push(tokio::spawn(worker::run(state.clone(), n)));
    }
    tasks.push(tokio::spawn(webhooks::run_sender(state.clone())));
    Ok(RunningServer {
        addr,
        state,
        stop,
        tasks,
    })
}
