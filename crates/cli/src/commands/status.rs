//! `prestalink status`: the job queue of a database, the process running the scheduler, and
//! the jobs being run with the worker holding each and when its lease ends.

use std::process::ExitCode;

use chrono::Utc;

/// Arguments of `prestalink status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "PRESTALINK_DB",
        hide_env_values = true,
        default_value = "prestalink.db"
    )]
    pub db: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `prestalink status`.
pub fn run(args: StatusArgs) -> ExitCode {
    super::on_runtime(false, status(args))
}

async fn status(args: StatusArgs) -> ExitCode {
    let options = prestalink_store::StoreOptions {
        master_key: prestalink_store::MasterKeySource::None,
        must_exist: true,
        ..prestalink_store::StoreOptions::default()
    };
    let store = match prestalink_store::Store::open_with(&args.db, options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", super::open_error(&args.db, &e));
            return ExitCode::FAILURE;
        }
    };
    let now = Utc::now();
    let read = async {
        let queue = store.queue_stats(now).await?;
        let scheduler = store.role_holder("scheduler", now).await?;
        let running = store.running_jobs().await?;
        let failing = store.sync_failures().await?;
        Ok::<_, prestalink_store::StoreError>((queue, scheduler, running, failing))
    };
    let (queue, scheduler, running, failing) = match read.await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot read the job queue of {}: {e}", args.db);
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        let doc = serde_json::json!({
            "queue": queue,
            "scheduler": scheduler.as_ref().map(|(owner, until)| serde_json::json!({"owner": owner, "leaseExpiresAt": until})),
            "running": running,
            "backingOff": failing,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    println!(
        "queue: {} due, {} waiting for their time, {} running ({} with an expired lease), {} failed",
        queue.due,
        queue.queued.saturating_sub(queue.due),
        queue.running,
        queue.expired_leases,
        queue.failed
    );
    if let Some(secs) = queue.oldest_due_secs {
        println!("oldest due job has waited {secs:.1} s");
    }
    match &scheduler {
        Some((owner, until)) => println!("scheduler: {owner} (lease until {until})"),
        None => println!("scheduler: none (no serve or worker process runs)"),
    }
    if !failing.is_empty() {
        println!("stores backing off after failed syncs:");
        println!(
            "  {:<36}  {:>8}  {:<24}  last error",
            "connection", "failures", "next attempt"
        );
        for f in &failing {
            println!(
                "  {:<36}  {:>8}  {:<24}  {}",
                f.connection_id,
                f.failures,
                f.backoff_until.as_deref().unwrap_or("-"),
                f.last_error.as_deref().unwrap_or("-")
            );
        }
    }
    if running.is_empty() {
        println!("no job is running");
        return ExitCode::SUCCESS;
    }
    println!("running jobs:");
    println!(
        "  {:>8}  {:<36}  {:>8}  {:>9}  {:<24}  worker",
        "job", "connection", "attempts", "takeovers", "lease until"
    );
    for job in running {
        println!(
            "  {:>8}  {:<36}  {:>8}  {:>9}  {:<24}  {}",
            job.id,
            job.connection_id,
            job.attempts,
            job.takeovers,
            job.lease_expires_at.as_deref().unwrap_or("-"),
            job.lease_owner.as_deref().unwrap_or("-")
        );
    }
    ExitCode::SUCCESS
}
