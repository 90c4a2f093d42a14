//! `prestalink export`: writes the commerce records of one data type from the database, in
//! exactly the API's record shape: JSON lines (default), a JSON array, or CSV (nested
//! values as JSON text).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use prestalink_commerce::DataType;
use prestalink_store::{MasterKeySource, Query, Store, StoreError, StoreOptions, MAX_PAGE_SIZE};

use super::exit::{EXIT_BAD_ARGUMENTS, EXIT_FAILURE, EXIT_NOT_FOUND};

/// Something the export was asked for is not in the database: exit [`EXIT_NOT_FOUND`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotFound(String);

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON record per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// Arguments of `prestalink export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Database: a SQLite file path or a postgres:// URL.
    #[arg(
        long,
        env = "PRESTALINK_DB",
        hide_env_values = true,
        default_value = "prestalink.db"
    )]
    pub db: String,
    /// Connection id (needed when the database holds several connections).
    #[arg(long)]
    pub connection: Option<String>,
    /// Data type, e.g. commerce-orders (or raw-<resource> for an add-on module's resource).
    #[arg(long)]
    pub data_type: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub output: Option<String>,
    /// Include records deleted in the store.
    #[arg(long)]
    pub include_deleted: bool,
}

/// Runs `prestalink export`.
pub fn run(args: ExportArgs) -> ExitCode {
    // A commerce data type, or `raw-<resource>` for an add-on module's raw copies.
    let data_type = if args.data_type.starts_with("raw-") {
        args.data_type.clone()
    } else {
        match args.data_type.parse::<DataType>() {
            Ok(d) => d.key().to_string(),
            Err(e) => {
                eprintln!("error: {e} (or raw-<resource> for an add-on module's resource)");
                return ExitCode::from(EXIT_BAD_ARGUMENTS);
            }
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(export(&args, data_type)) {
        Ok(n) => {
            if args.output.is_some() {
                eprintln!("{n} records written");
            }
            ExitCode::SUCCESS
        }
        // The reader went away (`prestalink export … | head`): not an error.
        Err(e) if broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let not_found = e.chain().any(|c| {
                c.is::<NotFound>()
                    || matches!(c.downcast_ref(), Some(StoreError::DatabaseMissing { .. }))
            });
            ExitCode::from(if not_found {
                EXIT_NOT_FOUND
            } else {
                EXIT_FAILURE
            })
        }
    }
}

/// Where `--output` will write, checked before anything is read: a directory or a missing
/// directory is named with what to do.
fn check_output(path: &str) -> anyhow::Result<()> {
    let p = std::path::Path::new(path);
    if p.is_dir() {
        anyhow::bail!(
            "--output {path} is a directory; give a file path, e.g. {}",
            p.join("export.jsonl").display()
        );
    }
    if let Some(dir) = p.parent() {
        if !dir.as_os_str().is_empty() && !dir.is_dir() {
            anyhow::bail!(
                "--output {path}: the directory {} does not exist; create it (mkdir -p {}) or \
                 choose another path",
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// The data types that have records or a completed sync, for messages.
async fn synced_data_types(store: &Store, connection: &str) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = store
        .latest_sync_runs(connection)
        .await?
        .into_iter()
        .filter(|r| r.status == prestalink_store::SyncStatus::Completed)
        .map(|r| r.data_type)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Checks that `data_type` was synced for `connection` (a completed sync, or records).
async fn check_synced(store: &Store, connection: &str, data_type: &str) -> anyhow::Result<()> {
    let synced = synced_data_types(store, connection).await?;
    if synced.iter().any(|d| d == data_type) {
        return Ok(());
    }
    let probe = Query {
        page: 1,
        page_size: 1,
        order_by: None,
        query: None,
        include_deleted: true,
    };
    if store
        .query_records(connection, data_type, &probe)
        .await?
        .total_results
        > 0
    {
        return Ok(());
    }
    let there = if synced.is_empty() {
        "none has been synced yet".to_string()
    } else {
        format!("synced data types: {}", synced.join(", "))
    };
    Err(NotFound(format!(
        "{data_type} was never synced for connection {connection} ({there}); run `prestalink \
         sync --data-types {data_type}` first"
    ))
    .into())
}

/// Whether an error is a closed output (the reader went away).
fn broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| cause.downcast_ref::<serde_json::Error>()?.io_error_kind())
            .or_else(|| match cause.downcast_ref::<csv::Error>()?.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

async fn export(args: &ExportArgs, data_type: String) -> anyhow::Result<u64> {
    if let Some(path) = &args.output {
        check_output(path)?;
    }
    // Reading never creates anything: no database, no WAL, no master key file.
    let options = StoreOptions {
        master_key: MasterKeySource::None,
        must_exist: true,
        ..StoreOptions::default()
    };
    let store = Store::open_with(&args.db, options).await?;
    let all = store.list_connections(None).await?;
    let listed = || {
        all.iter()
            .map(|c| format!("{} ({})", c.id, c.store_url))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let connection = match &args.connection {
        Some(id) if all.iter().any(|c| &c.id == id) => id.clone(),
        Some(id) if all.is_empty() => {
            return Err(NotFound(format!(
                "no connection {id}: the database {} holds no connection; run `prestalink sync` \
                 first",
                args.db
            ))
            .into())
        }
        Some(id) => {
            return Err(NotFound(format!(
                "no connection {id} in the database {}; its connections: {}",
                args.db,
                listed()
            ))
            .into())
        }
        None => match all.as_slice() {
            [one] => one.id.clone(),
            [] => {
                return Err(NotFound(format!(
                    "the database {} holds no connection: run `prestalink sync` first",
                    args.db
                ))
                .into())
            }
            many => anyhow::bail!(
                "the database holds {} connections; choose one with --connection: {}",
                many.len(),
                many.iter()
                    .map(|c| format!("{} ({})", c.id, c.store_url))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    check_synced(&store, &connection, &data_type).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| {
                anyhow::anyhow!("cannot write --output {path}: {e}; choose a path you may write")
            })?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let columns = if args.format == ExportFormat::Csv {
        let mut keys = BTreeSet::new();
        for_each_record(&store, &connection, &data_type, args.include_deleted, |r| {
            if let Some(map) = r.as_object() {
                keys.extend(map.keys().cloned());
            }
            Ok(())
        })
        .await?;
        keys.into_iter().collect::<Vec<_>>()
    } else {
        Vec::new()
    };
    let mut count = 0u64;
    if args.format == ExportFormat::Csv {
        let mut csv = csv::Writer::from_writer(&mut out);
        csv.write_record(&columns)?;
        for_each_record(
            &store,
            &connection,
            &data_type,
            args.include_deleted,
            |record| {
                let row: Vec<String> = columns
                    .iter()
                    .map(|c| match record.get(c) {
                        None | Some(serde_json::Value::Null) => String::new(),
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                    })
                    .collect();
                csv.write_record(&row)?;
                count += 1;
                Ok(())
            },
        )
        .await?;
        csv.flush()?;
    } else {
        let array = args.format == ExportFormat::Json;
        if array {
            out.write_all(b"[")?;
        }
        for_each_record(
            &store,
            &connection,
            &data_type,
            args.include_deleted,
            |record| {
                if array && count > 0 {
                    out.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut out, record)?;
                if !array {
                    out.write_all(b"\n")?;
                }
                count += 1;
                Ok(())
            },
        )
        .await?;
        if array {
            out.write_all(b"]\n")?;
        }
    }
    out.flush()?;
    store.close().await;
    Ok(count)
}

/// Calls `f` with every record of a data type, page by page (memory stays flat).
async fn for_each_record(
    store: &Store,
    connection: &str,
    data_type: &str,
    include_deleted: bool,
    mut f: impl FnMut(&serde_json::Value) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut page = 1;
    loop {
        let query = Query {
            page,
            page_size: MAX_PAGE_SIZE,
            order_by: None,
            query: None,
            include_deleted,
        };
        let result = store.query_records(connection, data_type, &query).await?;
        for record in &result.results {
            f(&record.data)?;
        }
        if (page as u64) * (MAX_PAGE_SIZE as u64) >= result.total_results
            || result.results.is_empty()
        {
            return Ok(());
        }
        page += 1;
    }
}
