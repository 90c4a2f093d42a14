//! TLS trust options shared by the commands that reach a store (`check`, `sync`): the bundled
//! roots and the operating system's trust store are always used; `--ca-file` and
//! `SSL_CERT_FILE` add a private certificate authority; `--insecure-tls` turns verification
//! off, with a warning on every run.

use std::path::{Path, PathBuf};

/// The environment variable read for an extra CA bundle (as curl and OpenSSL do).
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// TLS options of a command that reaches a store.
#[derive(Debug, Clone, clap::Args)]
pub struct TlsArgs {
    /// Trust the certificate authorities in this PEM file too (a shop behind a private CA),
    /// besides the bundled roots and this system's trust store. SSL_CERT_FILE is read as well.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Accept a TLS certificate that cannot be verified (self-signed). Only for servers you
    /// trust; prefer --ca-file. A warning is printed on every run.
    #[arg(long)]
    pub insecure_tls: bool,
}

/// What the TLS options resolve to.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra trusted authorities.
    pub extra_roots: Vec<reqwest::Certificate>,
    /// Verification off.
    pub insecure: bool,
}

impl TlsArgs {
    /// Reads `--ca-file` and `SSL_CERT_FILE`, and warns on standard error when verification
    /// is off. An unreadable or empty PEM file is an error naming it.
    pub fn resolve(&self, command: &str) -> Result<Tls, String> {
        let mut extra_roots = Vec::new();
        if let Some(path) = &self.ca_file {
            extra_roots.extend(read_pem(path, "--ca-file")?);
        }
        if let Some(path) = std::env::var_os(SSL_CERT_FILE).filter(|p| !p.is_empty()) {
            extra_roots.extend(read_pem(Path::new(&path), SSL_CERT_FILE)?);
        }
        if self.insecure_tls {
            eprintln!(
                "warning: `prestalink {command} --insecure-tls`: TLS certificates are not \
                 verified, so anyone between this machine and the shop can read the Webservice \
                 key and the data. Trust the shop's certificate authority with --ca-file instead."
            );
        }
        Ok(Tls {
            extra_roots,
            insecure: self.insecure_tls,
        })
    }
}

fn read_pem(path: &Path, origin: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("{origin} {shown} cannot be read: {e}"))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&bytes)
        .map_err(|e| format!("{origin} {shown} is not a PEM certificate bundle: {e}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "{origin} {shown} holds no certificate (expected PEM blocks \
             \"-----BEGIN CERTIFICATE-----\")"
        ));
    }
    Ok(certificates)
}
