//! `prestalink check`: probe a store with its URL and Webservice key and print a diagnosis
//! (text, or one JSON object with `--json`). Exit 0 when every data type asked for can be
//! read, 5 when the store can be read but the key may not read some of them, 3 when it
//! cannot be read, 2 for bad arguments (including a malformed URL or key).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use prestalink_commerce::DataType;
use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions, Diagnosis, DiagnosisCode};
use prestalink_webservice::Format;

use super::exit::{EXIT_BAD_ARGUMENTS, EXIT_MISSING_DATA_TYPES, EXIT_UNREADABLE};

/// Arguments of `prestalink check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The shop's address, as in the browser (e.g. https://shop.example.com).
    #[arg(long)]
    pub url: String,
    /// The Webservice key (back office: Advanced Parameters > Webservice).
    #[arg(long, env = "PRESTALINK_KEY", hide_env_values = true)]
    pub key: String,
    /// Use the address the shop redirects to, after you checked it is your shop.
    #[arg(long)]
    pub accept_redirect: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Format the check reads records in (the connection's preferred format).
    #[arg(long, value_enum, default_value_t = RecordFormat::Json)]
    pub format: RecordFormat,
    /// Seconds to wait for each answer of the shop.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Data types that must be readable, comma-separated; all by default. The exit code is 0
    /// only when the key may read every one of them.
    #[arg(long, value_delimiter = ',', value_parser = super::help::data_type_parser())]
    pub data_types: Vec<String>,
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
}

/// The record formats the Webservice can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordFormat {
    /// `output_format=JSON`.
    Json,
    /// PrestaShop's default XML.
    Xml,
}

/// Runs the check and prints its diagnosis.
pub fn run(args: CheckArgs) -> ExitCode {
    let data_types = match super::sync::parse_data_types(&args.data_types) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_ARGUMENTS);
        }
    };
    let tls = match args.tls.resolve("check") {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_ARGUMENTS);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = DiagnoseOptions {
        accept_redirect: args.accept_redirect,
        accept_invalid_certs: tls.insecure,
        extra_roots: tls.extra_roots,
        timeout: Duration::from_secs(args.timeout),
        public_only: false,
        reader: None,
        format: match args.format {
            RecordFormat::Json => Format::Json,
            RecordFormat::Xml => Format::Xml,
        },
    };
    let diagnosis = runtime.block_on(diagnose(&args.url, &args.key, &options));
    if args.json {
        match serde_json::to_string_pretty(&diagnosis) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("error: cannot render the diagnosis as JSON: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", render_text(&diagnosis));
    }
    let missing = missing_data_types(&diagnosis, &data_types);
    if diagnosis.ok && !missing.is_empty() {
        eprintln!(
            "error: the key may not read every data type asked for; these will be missing \
             (PermissionsError): {}",
            missing
                .iter()
                .map(|(dt, resources)| format!("{} (needs {})", dt.key(), resources.join(", ")))
                .collect::<Vec<_>>()
                .join("; ")
        );
        if let Some(fix) = &diagnosis.fix {
            eprintln!("fix: {fix}");
        }
    }
    ExitCode::from(exit_code(&diagnosis, &missing))
}

/// The data types asked for that need a resource the key may not read, with those
/// resources (what `sync` reports as `PermissionsError`).
pub fn missing_data_types(
    diagnosis: &Diagnosis,
    data_types: &[DataType],
) -> Vec<(DataType, Vec<&'static str>)> {
    // The same plan as `sync`'s: what it would report PermissionsError.
    let unreadable = prestalink_sync::unreadable_resources(diagnosis);
    data_types
        .iter()
        .filter(|dt| dt.support() != prestalink_commerce::Support::NotSupported)
        .map(|&dt| (dt, prestalink_sync::forbidden_sources(dt, &unreadable)))
        .filter(|(_, resources)| !resources.is_empty())
        .collect()
}

/// 0 when every data type asked for can be read, 5 when some cannot, 2 for a malformed URL
/// or key, 3 when the store cannot be read.
pub fn exit_code(diagnosis: &Diagnosis, missing: &[(DataType, Vec<&'static str>)]) -> u8 {
    match diagnosis.code {
        _ if diagnosis.ok && missing.is_empty() => 0,
        _ if diagnosis.ok => EXIT_MISSING_DATA_TYPES,
        DiagnosisCode::InvalidUrl | DiagnosisCode::InvalidKeyFormat => EXIT_BAD_ARGUMENTS,
        _ => EXIT_UNREADABLE,
    }
}

/// The diagnosis as text for a terminal.
pub fn render_text(d: &Diagnosis) -> String {
    let mut out = String::new();
    let status = if d.ok { "OK" } else { "FAILED" };
    let _ = writeln!(out, "{status} [{}] {}", d.code.as_str(), d.message);
    if let Some(fix) = &d.fix {
        if !d.ok {
            let _ = writeln!(out, "  Fix: {fix}");
        }
    }
    if let Some(redirect) = &d.redirect {
        let _ = writeln!(out, "Redirect: {} -> {}", redirect.from, redirect.to);
    }
    if let Some(url) = &d.store_url {
        let _ = writeln!(out, "Store URL: {url}");
    }
    if let (Some(auth), Some(urls)) = (d.auth_mode, d.url_mode) {
        let auth = match auth {
            prestalink_webservice::AuthMode::Basic => "Authorization header (basic)",
            prestalink_webservice::AuthMode::WsKey => "key in the URL (ws_key)",
        };
        let urls = match urls {
            prestalink_webservice::UrlMode::Rewrite => "/api/ (rewrite)",
            prestalink_webservice::UrlMode::Dispatcher => "/webservice/dispatcher.php (dispatcher)",
        };
        let _ = writeln!(out, "Key sent as: {auth}; URLs: {urls}");
    }
    if let Some(version) = &d.version {
        let _ = writeln!(out, "PrestaShop version: {version}");
    }
    if !d.languages.is_empty() {
        let languages: Vec<String> = d
            .languages
            .iter()
            .map(|l| {
                let default = if l.default { ", default" } else { "" };
                format!("{} ({}, id {}{default})", l.name, l.iso_code, l.id)
            })
            .collect();
        let _ = writeln!(out, "Languages: {}", languages.join("; "));
    }
    if !d.shops.is_empty() {
        let shops: Vec<String> = d
            .shops
            .iter()
            .map(|s| format!("{} (id {})", s.name, s.id))
            .collect();
        let _ = writeln!(out, "Shops: {}", shops.join("; "));
    }
    if let Some(timezone) = &d.timezone {
        let _ = writeln!(out, "Time zone: {timezone}");
    }
    if let Some(currency) = &d.currency {
        let _ = writeln!(out, "Default currency: {currency}");
    }
    if !d.resources.is_empty() {
        let _ = writeln!(out, "Readable resources: {}", d.resources.len());
    }
    if d.ok && !d.missing_permissions.is_empty() {
        let _ = writeln!(out, "Missing permissions:");
        for missing in &d.missing_permissions {
            let _ = writeln!(
                out,
                "  - {} (needed for {})",
                missing.resource,
                missing.data_types.join(", ")
            );
        }
    }
    for warning in &d.warnings {
        let code = serde_json::to_value(warning.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "Warning [{code}] {}", warning.message);
        let _ = writeln!(out, "  Fix: {}", warning.fix);
    }
    out
}
