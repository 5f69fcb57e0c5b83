//! `https` for outgoing requests: rustls with ring's cryptography,
//! trusting Mozilla's roots (webpki-roots, as wasmtime-wasi-http) and
//! those the embedder adds (`WasiCtx::add_http_root_certificate`).

use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::{code, internal};
use crate::component::Val;

/// A client configuration trusting Mozilla's roots and `extra`.
fn config(extra: &[Vec<u8>]) -> std::result::Result<Arc<rustls::ClientConfig>, Val> {
    // The usual case, every request alike: made once.
    static DEFAULT: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> =
        OnceLock::new();
    let build = |extra: &[Vec<u8>]| -> std::result::Result<Arc<rustls::ClientConfig>, String> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in extra {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| format!("a root certificate the embedder added: {e}"))?;
        }
        // ring's provider: classical key exchange only (rustls marks it
        // deprecated for lacking post-quantum ones, which need aws-lc's
        // large C build); still what rustls supports and audits.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    };
    if extra.is_empty() {
        DEFAULT.get_or_init(|| build(&[])).clone().map_err(internal)
    } else {
        build(extra).map_err(internal)
    }
}

/// The `error-code` of a failed handshake.
fn handshake_error(e: &std::io::Error) -> Val {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(_)) => code("TLS-certificate-error"),
        Some(rustls::Error::AlertReceived(alert)) => Val::Variant(
            "TLS-alert-received".into(),
            Some(Box::new(Val::Record(vec![
                (
                    "alert-id".into(),
                    Val::Option(Some(Box::new(Val::U8(u8::from(*alert))))),
                ),
                (
                    "alert-message".into(),
                    Val::Option(Some(Box::new(Val::String(format!("{alert:?}"))))),
                ),
            ]))),
        ),
        _ => code("TLS-protocol-error"),
    }
}

/// TLS over `stream` to `host` (its certificate checked against the
/// roots): the encrypted stream, or the `error-code` of its failure.
pub(crate) async fn connect(
    stream: TcpStream,
    host: &str,
    extra_roots: &[Vec<u8>],
) -> std::result::Result<TlsStream<TcpStream>, Val> {
    let config = config(extra_roots)?;
    let name =
        ServerName::try_from(host.to_owned()).map_err(|_| code("HTTP-request-URI-invalid"))?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|e| handshake_error(&e))
}
