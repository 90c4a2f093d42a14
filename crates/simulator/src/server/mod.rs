//! The simulator's HTTP server: a PrestaShop host on a loopback port, with its web server
//! (Apache pages, redirects, firewall), its PHP workers (capacity model) and the Webservice
//! dispatcher (authentication, headers) in front of [`crate::protocol::respond`].
//!
//! - [`hosting`]: misconfigurations and the web server's own pages.
//! - [`request`]: routes, query parameters, output format, key extraction.
//! - [`handler`]: one request from arrival to answer (queue, auth, respond, faults, headers).
//! - [`background`]: churn and the steady shopper load.
//! - [`tls`]: the self-signed certificate.

mod background;
mod handler;
pub mod hosting;
mod request;
mod tls;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::api::{Permissions, Version};
use crate::capacity::{Capacity, Host};
use crate::counters::{Counters, CountersSnapshot};
use crate::faults::{FaultInjector, Faults};
use crate::generator::{generate, GenConfig};
use crate::store::Store;

pub use hosting::{Hosting, WafSpec};

/// The Webservice key every simulator accepts unless told otherwise: 32 characters A–Z0–9,
/// read-only on every resource (printed by `prestalink simulate`).
pub const DEFAULT_KEY: &str = "PSLINKSIMULATOR0DEFAULTKEY000001";

/// Everything a simulated shop is made of.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The store to generate (ignored by [`Simulator::start_with_store`]).
    pub gen: GenConfig,
    /// PrestaShop version to imitate.
    pub version: Version,
    /// Webservice keys and what each may do; the first is [`Simulator::key`].
    pub keys: Vec<(String, Permissions)>,
    /// Hosting misconfigurations.
    pub hosting: Hosting,
    /// Cores, workers, the database, costs, time scale, max_execution_time.
    pub capacity: Capacity,
    /// Injected faults.
    pub faults: Faults,
    /// Store changes per second applied by a background [`crate::churn::Churn`] (0 = none).
    pub churn_per_second: f64,
    /// Steady storefront load as a fraction of the host's capacity (0 = none).
    pub shopper_load: f64,
    /// Time zone of the database's clock (IANA name), for dates written by SQL (`NOW()`)
    /// rather than by PrestaShop's PHP (which writes them in PS_TIMEZONE). When set, the
    /// background churn alternates: one step at PHP's clock, the next at the database's.
    /// `None`: the database runs in the shop's time zone.
    pub db_timezone: Option<String>,
}

impl Default for SimulatorConfig {
    /// Loopback port 0, the default store, 8.1.2, one read-only [`DEFAULT_KEY`], healthy
    /// hosting, [`Capacity::default`] (4 cores, 5 workers, no delays), no faults, no churn.
    fn default() -> Self {
        SimulatorConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            gen: GenConfig::default(),
            version: Version::V8_1_2,
            keys: vec![(DEFAULT_KEY.to_string(), Permissions::default())],
            hosting: Hosting::default(),
            capacity: Capacity::default(),
            faults: Faults::default(),
            churn_per_second: 0.0,
            shopper_load: 0.0,
            db_timezone: None,
        }
    }
}

/// State shared by every connection of one simulator.
#[derive(Debug)]
pub(crate) struct Shared {
    pub hosting: Hosting,
    pub waf: Option<hosting::Waf>,
    pub version: Version,
    pub keys: Vec<(String, Permissions)>,
    pub store: Arc<RwLock<Store>>,
    pub capacity: Mutex<Capacity>,
    /// The PHP workers, the cores and the database's cores.
    pub machine: Host,
    pub counters: Counters,
    pub faults: FaultInjector,
    /// `http://127.0.0.1:PORT` (or https), used for xlinks.
    pub base_url: String,
    /// Host and port as Apache prints them in its pages.
    pub host: String,
    pub port: u16,
    /// The database's time zone (see [`SimulatorConfig::db_timezone`]).
    pub db_timezone: Option<String>,
    /// Called after each Webservice answer is rendered, with the store write-locked (see
    /// [`Simulator::after_each_answer`]).
    pub after_answer: HookSlot,
    /// Storefront visits whose guest is not in the store yet: counted without a lock (a
    /// visit must not wait behind the readers' store locks), added when `guests` is asked.
    pub new_guests: std::sync::atomic::AtomicU64,
}

/// The slot of the [`AfterAnswer`] hook (a closure, which has no `Debug`).
#[derive(Default)]
pub(crate) struct HookSlot(pub Mutex<Option<AfterAnswer>>);

impl std::fmt::Debug for HookSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = self.0.lock().map(|h| h.is_some()).unwrap_or(false);
        f.debug_tuple("HookSlot").field(&set).finish()
    }
}

/// A test's hook run after a Webservice answer is rendered and before it is sent: the
/// request's resource and parameters, and the store to change (write-locked), so a test can
/// make a change land exactly between two pages of a reader.
pub type AfterAnswer = Box<dyn FnMut(&AnsweredRequest, &mut Store) + Send>;

/// What [`AfterAnswer`] hooks see of a request.
#[derive(Debug, Clone)]
pub struct AnsweredRequest {
    /// The resource (`stock_availables`), `None` for the root listing.
    pub resource: Option<String>,
    /// The Webservice parameters (`filter[id]`, `display`, `limit`…), decoded.
    pub params: Vec<(String, String)>,
    /// The request's `User-Agent` (prestalink names the job that reads there).
    pub user_agent: Option<String>,
}

impl Shared {
    pub(crate) fn capacity(&self) -> Capacity {
        self.capacity.lock().expect("capacity lock").clone()
    }
}

/// A running simulated PrestaShop. Dropping it without [`Simulator::shutdown`] stops the
/// server too (its tasks are aborted).
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    certificate_pem: Option<String>,
}

impl Simulator {
    /// Generate the store of `cfg.gen` and serve it.
    pub async fn start(cfg: SimulatorConfig) -> anyhow::Result<Simulator> {
        let gen = cfg.gen.clone();
        let store = tokio::task::spawn_blocking(move || generate(&gen))
            .await
            .context("the store generator panicked")?;
        Simulator::start_with_store(cfg, store).await
    }

    /// Serve a given store (tests build small ones by hand).
    pub async fn start_with_store(cfg: SimulatorConfig, store: Store) -> anyhow::Result<Simulator> {
        anyhow::ensure!(!cfg.keys.is_empty(), "the simulator needs at least one key");
        let listener = TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        let mut addr = listener.local_addr()?;
        if addr.ip().is_unspecified() {
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        let (tls, certificate_pem) = if cfg.hosting.tls {
            let (acceptor, pem) = tls::self_signed()?;
            (Some(acceptor), Some(pem))
        } else {
            (None, None)
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            waf: cfg.hosting.waf.clone().map(hosting::Waf::new),
            hosting: cfg.hosting.clone(),
            version: cfg.version,
            keys: cfg.keys.clone(),
            store: Arc::new(RwLock::new(store)),
            machine: Host::new(&cfg.capacity),
            capacity: Mutex::new(cfg.capacity.clone()),
            counters: Counters::default(),
            faults: FaultInjector::new(cfg.faults.clone()),
            base_url: format!("{scheme}://{addr}"),
            host: addr.ip().to_string(),
            port: addr.port(),
            db_timezone: cfg.db_timezone.clone(),
            after_answer: HookSlot::default(),
            new_guests: Default::default(),
        });
        let (shutdown, stop) = watch::channel(false);
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, shared.clone(), tls, stop));
        if cfg.churn_per_second > 0.0 {
            let seed = cfg.gen.seed;
            tasks.spawn(background::churn(
                shared.clone(),
                seed,
                cfg.churn_per_second,
                cfg.db_timezone.clone(),
            ));
        }
        if cfg.shopper_load > 0.0 {
            tasks.spawn(background::shopper_load(
                shared.clone(),
                cfg.shopper_load,
                cfg.gen.seed,
            ));
        }
        Ok(Simulator {
            shared,
            addr,
            shutdown,
            tasks,
            certificate_pem,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS): the shop URL a merchant would enter.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The first configured key.
    pub fn key(&self) -> &str {
        &self.shared.keys[0].0
    }

    /// Every configured key with its permissions.
    pub fn keys(&self) -> &[(String, Permissions)] {
        &self.shared.keys
    }

    /// The ground truth being served; tests may change it while the server runs.
    pub fn store(&self) -> Arc<RwLock<Store>> {
        self.shared.store.clone()
    }

    /// Shop-local now (PS_TIMEZONE), as PrestaShop's PHP writes dates. Takes the store's
    /// read lock: call it before write-locking the store.
    pub fn shop_now(&self) -> chrono::NaiveDateTime {
        let zone = self
            .shared
            .store
            .read()
            .expect("store lock")
            .timezone
            .clone();
        background::local_now(&zone)
    }

    /// The database's local now, as SQL `NOW()` writes dates: in
    /// [`SimulatorConfig::db_timezone`], or the shop's time zone when none is set (then, like
    /// [`Simulator::shop_now`], call it before write-locking the store).
    pub fn db_now(&self) -> chrono::NaiveDateTime {
        match &self.shared.db_timezone {
            Some(zone) => background::local_now(zone),
            None => self.shop_now(),
        }
    }

    /// Runs `hook` after every Webservice answer is rendered (before it is sent), with the
    /// store write-locked; replaces the previous hook. Tests use it to change the store at
    /// an exact point of a read (between two pages of a sweep).
    pub fn after_each_answer(&self, hook: AfterAnswer) {
        *self.shared.after_answer.0.lock().expect("hook lock") = Some(hook);
    }

    /// Removes the hook set by [`Simulator::after_each_answer`].
    pub fn clear_after_each_answer(&self) {
        *self.shared.after_answer.0.lock().expect("hook lock") = None;
    }

    /// A copy of the counters.
    pub fn counters(&self) -> CountersSnapshot {
        self.shared.counters.snapshot()
    }

    /// Zero the counters.
    pub fn reset_counters(&self) {
        self.shared.counters.reset()
    }

    /// The capacity in force.
    pub fn capacity(&self) -> Capacity {
        self.shared.capacity()
    }

    /// Change the capacity while serving (a noisy neighbour, a scale-up): new requests get
    /// the new service times, the worker count and the cores change at once (busy extra
    /// workers finish).
    pub fn set_capacity(&self, c: Capacity) {
        self.shared.machine.resize(&c);
        *self.shared.capacity.lock().expect("capacity lock") = c;
    }

    /// The self-signed certificate (PEM) when serving HTTPS, for clients that want to trust it.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// Stop accepting, close every connection and background task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Accept connections until shut down; each connection is served by hyper (HTTP/1.1,
/// keep-alive), over TLS when configured.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            a = listener.accept() => a,
        };
        while conns.try_join_next().is_some() {}
        let Ok((tcp, _)) = accepted else {
            // Out of file descriptors and the like: wait a little instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        conns.spawn(async move {
            let service =
                hyper::service::service_fn(move |req| handler::handle(shared.clone(), req));
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                }
            }
        });
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_key_is_well_formed() {
        assert_eq!(DEFAULT_KEY.len(), 32);
        assert!(DEFAULT_KEY
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }
}
