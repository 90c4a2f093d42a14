//! `prestalink export`: writes the commerce records of one data type from the database, in
//! exactly the API's record shape: JSON lines (default), a JSON array, or CSV (nested
//! values as JSON text).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use prestalink_commerce::DataType;
use prestalink_store::{Query, Store, MAX_PAGE_SIZE};

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
    #[arg(long, env = "PRESTALINK_DB", default_value = "prestalink.db")]
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
                return ExitCode::from(super::check::EXIT_BAD_ARGUMENTS);
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
            ExitCode::FAILURE
        }
    }
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
    let store = Store::open(&args.db).await?;
    let connection = match &args.connection {
        Some(id) => id.clone(),
        None => {
            let all = store.list_connections(None).await?;
            match all.as_slice() {
                [one] => one.id.clone(),
                [] => anyhow::bail!(
                    "the database {} holds no connection: run `prestalink sync` first",
                    args.db
                ),
                many => anyhow::bail!(
                    "the database holds {} connections; choose one with --connection: {}",
                    many.len(),
                    many.iter()
                        .map(|c| format!("{} ({})", c.id, c.store_url))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
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
