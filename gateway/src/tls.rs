//! TLS for the DMS-facing listener (both APIs), needed when it listens beyond loopback: the
//! gateway's certificate and key (PEM files of the agency's own choosing: the DMS must trust
//! them, `trust-info` prints their fingerprints), and, when `client_ca` is set, mandatory client
//! certificates chaining to it (rustls's WebPKI verifier, client-auth EKU). rustls with ring
//! only, TLS 1.3 and 1.2, as everywhere in Axis.
//!
//! Handshakes run each in its own task with a timeout, so a slow client cannot hold the accept
//! loop; the accepted streams feed `axum::serve` through [`TlsListener`].

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest certificate or key file read.
const MAX_PEM_FILE: u64 = 256 * 1024;

/// The files of `[tls]`.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The gateway's certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// Its private key (PEM, PKCS#8 or SEC1/PKCS#1, unencrypted; keep the file 0600).
    pub key: PathBuf,
    /// When set, every client must present a certificate chaining to one of these CAs (PEM).
    pub client_ca: Option<PathBuf>,
}

/// Why the TLS material is unusable.
#[derive(Debug, thiserror::Error)]
#[error("[tls] {what}: {detail}")]
pub struct TlsError {
    what: String,
    detail: String,
}

fn err(what: &Path, detail: impl std::fmt::Display) -> TlsError {
    TlsError {
        what: what.display().to_string(),
        detail: detail.to_string(),
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>, TlsError> {
    let len = std::fs::metadata(path).map_err(|e| err(path, e))?.len();
    if len > MAX_PEM_FILE {
        return Err(err(path, format!("larger than {MAX_PEM_FILE} bytes")));
    }
    std::fs::read(path).map_err(|e| err(path, e))
}

/// The certificates of a PEM file (at least one).
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(path, e))?;
    if certs.is_empty() {
        return Err(err(path, "no CERTIFICATE in the file"));
    }
    Ok(certs)
}

/// The rustls configuration of `files`.
pub fn server_config(files: &TlsFiles) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(&files.cert)?;
    let key_pem = zeroize::Zeroizing::new(read_pem(&files.key)?);
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| err(&files.key, e))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&files.cert, e))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certificates(ca)? {
                roots.add(c).map_err(|e| err(ca, e))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| err(ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| err(&files.key, e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// SHA-256 of DER bytes, as `openssl x509 -fingerprint -sha256` prints it.
pub fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A listener that yields TLS streams whose handshake completed.
pub struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Accepts on `listener`, handshaking with `config`, until `shutdown` turns true.
    pub fn new(
        listener: TcpListener,
        config: rustls::ServerConfig,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = shutdown.wait_for(|v| *v) => return,
                };
                let (tcp, remote) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors and the like: pause rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    return;
                }
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(conn)) => {
                            let _ = tx.send((conn, remote)).await;
                        }
                        Ok(Err(e)) => tracing::info!(%remote, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::info!(%remote, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept loop ended (shutdown): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
