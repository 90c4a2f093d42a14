//! `prestalink demo`: starts a simulated PrestaShop store, links it and syncs it into an
//! embedded SQLite file, changes the store and syncs again incrementally; then (unless
//! `--once`) serves the API and the pages on a local port, prints the dashboard URL, an API
//! key and the Link page of a second, unlinked company, and keeps the store changing and
//! syncing every few seconds until Ctrl-C. Needs nothing but this binary.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::churn::Churn;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_sync::{SyncOptions, SyncRequest};
use prestalink_webservice::diagnose::DiagnoseOptions;
use prestalink_webservice::Format;

/// Arguments of `prestalink demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// SQLite file to sync into (replaced if it exists).
    #[arg(long, default_value = "prestalink-demo.db")]
    pub db: String,
    /// Orders in the simulated store.
    #[arg(long, default_value_t = 2000)]
    pub orders: u32,
    /// Installed languages in the simulated store.
    #[arg(long, default_value_t = 2)]
    pub languages: u32,
    /// Seed of the simulated store.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Sync twice and exit, instead of serving the API afterwards (for scripts).
    #[arg(long)]
    pub once: bool,
    /// Where the API listens after the syncs (port 0: a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(demo(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    remove_database(&args.db)?;
    let config = SimulatorConfig {
        gen: GenConfig {
            seed: args.seed,
            languages: args.languages,
            orders: args.orders,
            customers: (args.orders / 4).max(20),
            products: (args.orders / 20).clamp(20, 400),
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    };
    let sim = Simulator::start(config).await?;
    println!(
        "Simulated PrestaShop store at {} (key {}), {} orders, {} languages",
        sim.base_url(),
        sim.key(),
        args.orders,
        args.languages
    );
    let request = SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions {
            timeout: Duration::from_secs(30),
            format: Format::Json,
            ..DiagnoseOptions::default()
        },
        options: SyncOptions::default(),
        pace: Pace::Balanced,
        caps: Caps::default(),
    };
    println!("\n== full sync into {}", args.db);
    let code = super::sync::sync(&args.db, &request, false).await;
    if code != ExitCode::SUCCESS {
        sim.shutdown().await;
        return Ok(code);
    }

    let report = {
        let store = sim.store();
        let mut store = store.write().expect("store lock");
        let zone: chrono_tz::Tz = store.timezone.parse().unwrap_or(chrono_tz::UTC);
        let now = Utc::now().with_timezone(&zone).naive_local();
        Churn::new(args.seed).step(&mut store, now, 40)
    };
    println!(
        "\n== the store changed ({} changes: new and updated orders, stock, customers…); incremental sync",
        report.len()
    );
    let code = super::sync::sync(&args.db, &request, false).await;
    if code != ExitCode::SUCCESS || args.once {
        sim.shutdown().await;
        if code == ExitCode::SUCCESS {
            println!(
                "\nDone. Export records with: prestalink export --db {} --data-type commerce-orders",
                args.db
            );
        }
        return Ok(code);
    }
    serve(&args, sim).await
}

/// How often the simulated store changes and is synced again while the demo serves.
const DEMO_TICK: Duration = Duration::from_secs(5);

/// After the syncs: serves the API and the pages on the demo database, keeps the simulated
/// store changing and syncing every few seconds (through the API), until Ctrl-C.
async fn serve(args: &DemoArgs, sim: Simulator) -> anyhow::Result<ExitCode> {
    let store = prestalink_store::Store::open(&args.db).await?;
    let (_, key) = store.create_api_key("demo", Utc::now()).await?;
    let company = store
        .list_companies()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the demo sync linked no company"))?;
    let connection = store
        .list_connections(Some(&company.id))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the demo sync linked no connection"))?;
    let config = prestalink_server::ServerConfig {
        listen: args.listen,
        // The simulated store runs on this machine's loopback address.
        allow_private_stores: true,
        ..prestalink_server::ServerConfig::default()
    };
    // A second company, not linked yet: its Link page is where a merchant would connect.
    let unlinked = store
        .create_company_with(
            "Demo shop to link",
            Some("Open its Link page to connect a store"),
            &serde_json::json!({}),
            Utc::now(),
        )
        .await?;
    let server = prestalink_server::start(store, config).await?;
    let api = server.base_url();
    let orders = format!(
        "{api}/companies/{}/connections/{}/data/commerce-orders?pageSize=5",
        company.id, connection.id
    );
    println!("\n== the API serves the demo database at {api}");
    println!("API key (shown once): {key}");
    println!("Try: curl -H 'Authorization: Bearer {key}' '{orders}'");
    println!(
        "     curl -H 'Authorization: Bearer {key}' {api}/companies/{}/dataStatus",
        company.id
    );
    println!("OpenAPI: {api}/openapi.json");
    println!(
        "Link page of a second, unlinked company: {api}/link/{}",
        unlinked.id
    );
    println!(
        "     (to link the simulated store there: address {}, key {})",
        sim.base_url(),
        sim.key()
    );
    println!(
        "The store keeps changing and syncing every {} s; Ctrl-C stops.",
        DEMO_TICK.as_secs()
    );
    println!("\nDashboard: {api}/dashboard   (sign in with the API key above)");

    let http = DemoClient::new(&api, &key, &company.id);
    let mut churn = Churn::new(args.seed + 1);
    let mut ticker = tokio::time::interval(DEMO_TICK);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = ticker.tick() => {
                {
                    let shared = sim.store();
                    let mut data = shared.write().expect("store lock");
                    let zone: chrono_tz::Tz = data.timezone.parse().unwrap_or(chrono_tz::UTC);
                    let now = Utc::now().with_timezone(&zone).naive_local();
                    churn.step(&mut data, now, 10);
                }
                if let Err(e) = http.queue_all().await {
                    eprintln!("warning: could not queue a sync: {e}");
                }
            }
        }
    }
    println!("stopping");
    server.shutdown().await;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Queues syncs through the demo's own API (`POST …/data/all`), as a client would.
struct DemoClient {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl DemoClient {
    fn new(api: &str, key: &str, company: &str) -> DemoClient {
        DemoClient {
            http: reqwest::Client::new(),
            url: format!("{api}/companies/{company}/data/all"),
            key: key.to_string(),
        }
    }

    async fn queue_all(&self) -> anyhow::Result<()> {
        let answer = self
            .http
            .post(&self.url)
            .bearer_auth(&self.key)
            .send()
            .await?;
        let status = answer.status().as_u16();
        // 409: nothing linked to sync (cannot happen here, but is not a failure).
        anyhow::ensure!(status == 204 || status == 409, "the API answered {status}");
        Ok(())
    }
}

/// Removes a previous demo database (and its WAL, shared-memory and key files).
fn remove_database(db: &str) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", ".key"] {
        let path = format!("{db}{suffix}");
        if Path::new(&path).exists() {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}
