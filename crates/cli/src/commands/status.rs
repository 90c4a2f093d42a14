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
        let mut table = prestalink_bench::plain_table(
            &["connection", "failures", "next attempt", "last error"],
            &[1],
        );
        for f in &failing {
            table.add_row(vec![
                f.connection_id.clone(),
                f.failures.to_string(),
                f.backoff_until.clone().unwrap_or_else(|| "-".into()),
                f.last_error.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        print_indented(&table);
    }
    if running.is_empty() {
        println!("no job is running");
        return ExitCode::SUCCESS;
    }
    println!("running jobs:");
    let mut table = prestalink_bench::plain_table(
        &[
            "job",
            "connection",
            "attempts",
            "takeovers",
            "lease until",
            "worker",
        ],
        &[0, 2, 3],
    );
    for job in running {
        table.add_row(vec![
            job.id.to_string(),
            job.connection_id,
            job.attempts.to_string(),
            job.takeovers.to_string(),
            job.lease_expires_at.unwrap_or_else(|| "-".into()),
            job.lease_owner.unwrap_or_else(|| "-".into()),
        ]);
    }
    print_indented(&table);
    ExitCode::SUCCESS
}

/// Prints a table two spaces in, under its heading line.
fn print_indented(table: &prestalink_bench::comfy_table::Table) {
    for line in table.trim_fmt().lines() {
        println!("  {line}");
    }
}
