//! HTTPS with a self-signed certificate (rcgen), as a shop without a real certificate
//! serves it: a default client refuses it, a client told to trust it connects.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// A TLS acceptor with a fresh self-signed certificate for `localhost` and `127.0.0.1`,
/// and that certificate in PEM form.
pub(crate) fn self_signed() -> anyhow::Result<(TlsAcceptor, String)> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified =
        rcgen::generate_simple_self_signed(names).context("generating a certificate")?;
    let cert_der: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(vec![cert_der], key)
        .context("TLS certificate")?;
    Ok((TlsAcceptor::from(Arc::new(config)), certified.cert.pem()))
}
