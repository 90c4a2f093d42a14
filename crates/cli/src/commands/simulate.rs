//! `prestalink simulate`: serve a simulated PrestaShop store on a local port until Ctrl-C,
//! printing its URL and key(s), then what it served.

use std::process::ExitCode;
use std::time::Instant;

pub use prestalink_simulator::options::SimulateArgs;
use prestalink_simulator::{Simulator, SimulatorConfig};

/// Run the simulator until Ctrl-C.
pub fn run(args: SimulateArgs) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: SimulateArgs) -> anyhow::Result<()> {
    let cfg = SimulatorConfig::from_args(&args)?;
    let started = Instant::now();
    let sim = Simulator::start(cfg.clone()).await?;
    let ready = started.elapsed();
    let cap = sim.capacity();
    println!(
        "PrestaShop {} simulator ready in {:.2} s: profile {}, {} workers on {} cores, time scale {}",
        cfg.version.header(),
        ready.as_secs_f64(),
        args.profile,
        cap.workers,
        cap.cores,
        cap.time_scale
    );
    println!("URL: {}", sim.base_url());
    if let Some(pem) = sim.certificate_pem() {
        println!(
            "Self-signed certificate (trust it, or use curl -k):\n{}",
            pem.trim_end()
        );
    }
    for (key, permissions) in sim.keys() {
        let scope = match &permissions.resources {
            None => "all resources".to_string(),
            Some(list) => list.join(","),
        };
        println!("Key: {key} (read-only, {scope})");
    }
    {
        let store = sim.store();
        let store = store.read().expect("store lock");
        let count = |r: &str| store.table(r).map_or(0, |t| t.rows.len());
        println!(
            "Store: {} orders, {} customers, {} products, {} language(s), {} shop(s), time zone {}",
            count("orders"),
            count("customers"),
            count("products"),
            store.languages.len(),
            store.shops.len(),
            store.timezone
        );
    }
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    let c = sim.counters();
    println!(
        "Served {} requests, {} records, {} bytes; most in service at once {}, most queued {}; \
         queue wait p50 {:?} p95 {:?}",
        c.requests,
        c.records,
        c.bytes,
        c.max_in_service,
        c.max_queued,
        c.queue_wait.p50,
        c.queue_wait.p95
    );
    sim.shutdown().await;
    Ok(())
}
