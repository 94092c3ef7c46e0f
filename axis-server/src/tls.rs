//! Mutual TLS with rustls (ring provider): the client certificate is verified by Axis's own
//! `TrustStore` — chain to the configured root, validity, the exact agency-TLS-client or operator
//! profile, and **revocation against the CRLs in force** (rustls's webpki verifier would not
//! know our profiles nor our published CRLs). The caller's identity is read from the verified
//! certificate once per connection and attached to every request on it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axis_pki::{AgencyId, Profile};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use crate::listen::{Backoff, ConnectionLimit, ConnectionSlot};
use crate::trust::Trust;

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is calling: read from the verified client certificate.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The agency (agency-TLS-client certificates), or `None` for an operator.
    pub agency: Option<AgencyId>,
    /// Whether the certificate has the axis-operator profile.
    pub operator: bool,
    /// The certificate's subject, for logs.
    pub subject: String,
    /// The agency id, or `operator`: who a call's log line names.
    pub label: Arc<str>,
    /// The peer's address.
    pub remote: Option<SocketAddr>,
    /// The client certificate chain as presented (leaf first), re-verified when the trust
    /// material changes during the connection's life.
    pub chain: Arc<Vec<Vec<u8>>>,
    /// The trust generation the chain was last verified under.
    pub checked: Arc<std::sync::atomic::AtomicU64>,
    /// End of the leaf's validity.
    pub not_after: OffsetDateTime,
}

/// Verifies client certificates with the current trust snapshot.
#[derive(Debug)]
pub struct ClientVerifier {
    trust: Arc<Trust>,
    provider: Arc<CryptoProvider>,
    hints: Vec<DistinguishedName>,
}

fn pki_to_rustls(e: axis_pki::Error) -> rustls::Error {
    use axis_pki::Error as E;
    let ce = match e {
        E::Revoked { .. } => CertificateError::Revoked,
        E::Expired { .. } => CertificateError::Expired,
        E::NotYetValid { .. } => CertificateError::NotValidYet,
        E::UnknownIssuer { .. } => CertificateError::UnknownIssuer,
        E::BadSignature { .. } => CertificateError::BadSignature,
        E::WrongProfile { .. } => CertificateError::InvalidPurpose,
        other => CertificateError::Other(rustls::OtherError(Arc::new(other))),
    };
    rustls::Error::InvalidCertificate(ce)
}

impl ClientCertVerifier for ClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    /// 1. The certificate declares the agency-TLS-client or operator profile under its PKI's
    ///    policy arc (nothing else may open a connection: a seal or encryption key is not a TLS
    ///    identity).
    /// 2. `TrustStore::verify_with_intermediates` for that profile at the handshake time: chain,
    ///    validity, key usage/EKU, and revocation failing closed.
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // One snapshot for both steps: the profile is read under the arc of its anchors.
        let store = self.trust.store();
        let profile = match store.profile_of(end_entity) {
            Ok(Some(p @ (Profile::AgencyTlsClient | Profile::AxisOperator))) => p,
            _ => {
                crate::metrics::TLS_REFUSED.inc();
                return Err(rustls::Error::InvalidCertificate(
                    CertificateError::InvalidPurpose,
                ));
            }
        };
        let at = OffsetDateTime::from_unix_timestamp(now.as_secs() as i64)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let presented: Vec<Vec<u8>> = intermediates.iter().map(|c| c.to_vec()).collect();
        match store.verify_with_intermediates(end_entity, &presented, profile, at) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(e) => {
                crate::metrics::TLS_REFUSED.inc();
                tracing::info!(error = %e, "client certificate refused");
                Err(pki_to_rustls(e))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls server configuration: our certificate chain and key, mandatory client
/// certificates verified by [`ClientVerifier`], TLS 1.3 and 1.2, ALPN h2.
pub fn server_config(
    trust: Arc<Trust>,
    chain: Vec<Vec<u8>>,
    key: Arc<dyn axis_pki::KeySigner>,
) -> Result<rustls::ServerConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // No CA hints: every Axis client holds exactly one TLS identity.
    let hints = Vec::new();
    let verifier = Arc::new(ClientVerifier {
        trust,
        provider: provider.clone(),
        hints,
    });
    let certs: Vec<CertificateDer<'static>> = chain.into_iter().map(CertificateDer::from).collect();
    // The handshake is signed through the key (a file or a token), never a copy of it.
    let certified = axis_keys::certified_key(certs, key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// A verified TLS connection and its caller.
pub struct TlsConn {
    inner: TlsStream<TcpStream>,
    caller: Caller,
    /// Counts it among the open connections while it lives.
    _slot: ConnectionSlot,
}

impl Connected for TlsConn {
    type ConnectInfo = Caller;

    fn connect_info(&self) -> Caller {
        self.caller.clone()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

fn caller_of(conn: &TlsStream<TcpStream>, trust: &Trust, generation: u64) -> Option<Caller> {
    let (tcp, session) = conn.get_ref();
    let certs = session.peer_certificates()?;
    let leaf = certs.first()?;
    let profile = trust.store().profile_of(leaf).ok()??;
    let agency = axis_pki::agency_id_of(leaf).ok()?;
    let operator = profile == Profile::AxisOperator;
    if !operator && agency.is_none() {
        return None;
    }
    let agency = if operator { None } else { agency };
    Some(Caller {
        label: agency.as_ref().map_or("operator", |a| a.as_str()).into(),
        agency,
        operator,
        subject: axis_pki::subject_of(leaf).unwrap_or_default(),
        remote: tcp.peer_addr().ok(),
        chain: Arc::new(certs.iter().map(|c| c.to_vec()).collect()),
        checked: Arc::new(std::sync::atomic::AtomicU64::new(generation)),
        not_after: axis_pki::not_after_of(leaf).ok()?,
    })
}

/// Accepts TCP connections, runs each handshake in its own task (with a timeout, so a slow
/// client cannot hold the accept loop), and yields the verified connections. Past `limit`'s
/// maximum a connection is closed at once; a failed accept pauses the loop (`listen`).
pub(crate) fn incoming(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    trust: Arc<Trust>,
    limit: ConnectionLimit,
    connections: crate::config::ConnectionsConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> ReceiverStream<Result<TlsConn, io::Error>> {
    let (tx, rx) = mpsc::channel(128);
    tokio::spawn(async move {
        let mut backoff = Backoff::new("grpc");
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                // Stop accepting (and release the port) as soon as shutdown begins.
                _ = shutdown.wait_for(|v| *v) => return,
            };
            let (tcp, remote) = match accepted {
                Ok(c) => {
                    backoff.succeeded();
                    c
                }
                Err(e) => {
                    backoff.failed(&e).await;
                    continue;
                }
            };
            if tx.is_closed() {
                return;
            }
            let Some(slot) = limit.admit(remote) else {
                // Closed at once: the client sees the connection end before TLS and moves on.
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            if let Err(error) = crate::listen::watch_for_vanishing(&tcp, &connections) {
                tracing::warn!(%remote, %error, "cannot set TCP keepalive on a connection");
            }
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            // The generation before the handshake: a CRL published during it forces a re-check.
            let generation = trust.generation();
            let trust = trust.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(conn)) => match caller_of(&conn, &trust, generation) {
                        Some(caller) => {
                            let _ = tx
                                .send(Ok(TlsConn {
                                    inner: conn,
                                    caller,
                                    _slot: slot,
                                }))
                                .await;
                        }
                        None => tracing::info!(%remote, "connection without a usable identity"),
                    },
                    Ok(Err(e)) => tracing::info!(%remote, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::info!(%remote, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}
