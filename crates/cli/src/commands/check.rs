//! `prestalink check`: probe a store with its URL and Webservice key and print a diagnosis
//! (text, or one JSON object with `--json`). Exit 0 when the store can be read, 3 when it
//! cannot, 2 for bad arguments (including a malformed URL or key).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions, Diagnosis, DiagnosisCode};
use prestalink_webservice::Format;

/// Exit code when the store cannot be read.
pub const EXIT_UNREADABLE: u8 = 3;
/// Exit code for bad arguments (clap uses it too).
pub const EXIT_BAD_ARGUMENTS: u8 = 2;

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
    /// Accept a TLS certificate that cannot be verified (self-signed). Only for servers you trust.
    #[arg(long)]
    pub insecure_tls: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Format the check reads records in (the connection's preferred format).
    #[arg(long, value_enum, default_value_t = RecordFormat::Json)]
    pub format: RecordFormat,
    /// Seconds to wait for each answer of the shop.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
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
        accept_invalid_certs: args.insecure_tls,
        timeout: Duration::from_secs(args.timeout),
        public_only: false,
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
    ExitCode::from(exit_code(&diagnosis))
}

/// 0 when the store can be read, 2 for a malformed URL or key, 3 otherwise.
pub fn exit_code(diagnosis: &Diagnosis) -> u8 {
    match diagnosis.code {
        _ if diagnosis.ok => 0,
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
