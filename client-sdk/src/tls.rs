//! The client's TLS: rustls (ring provider) with the configured root as the only CA and the
//! agency's TLS key behind `axis-keys`' [`TlsKey`], so that a key on a PKCS#11 token signs the
//! handshake on the token and a key file signs in memory, through the same code — the key is
//! never copied into a PKCS#8 buffer for the transport.
//!
//! tonic's own TLS takes a PEM key only, so the channel is given a connector of its own
//! ([`TlsConnector`]): TCP to the node, then the handshake. The endpoint is opened as `http://`
//! (tonic would wrap an `https://` connection in its TLS a second time) and its requests carry
//! the configured `https://` origin.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axis_keys::KeySigner;
use hyper_util::rt::TokioIo;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::CertifiedKey;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tonic::codegen::Service;
use tonic::codegen::http::Uri;

use crate::config::Credential;
use crate::error::{Error, Result};

/// TCP keepalive on every connection (beside HTTP/2 PINGs, which find a dead node sooner).
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

/// The client's TLS settings: its root, its identity and the server's name. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// Always the agency's one identity (the server asks for a client certificate; the axis
/// verifies its profile and chain itself).
#[derive(Debug)]
struct Identity(Arc<CertifiedKey>);

impl ResolvesClientCert for Identity {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl ClientTls {
    /// The TLS settings of every connection: `root` as the only CA, `server_name` as the name
    /// the server's certificate must carry, `tls` (chain and key) as this client's identity.
    /// Refused when the key is not the certificate's.
    pub(crate) fn new(root: &[u8], tls: &Credential, server_name: &str) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(root.to_vec()))
            .map_err(|e| Error::config(format!("root: {e}")))?;
        let chain: Vec<CertificateDer<'static>> = tls
            .chain()
            .iter()
            .map(|c| CertificateDer::from(c.clone()))
            .collect();
        let key: Arc<dyn KeySigner> = tls.key().signer();
        let identity = axis_keys::certified_key(chain, key).map_err(|e| {
            Error::config(format!(
                "[tls] key does not belong to [tls] cert ({e}); check the two"
            ))
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config(format!("TLS settings: {e}")))?
            .with_root_certificates(roots)
            .with_client_cert_resolver(Arc::new(Identity(Arc::new(identity))));
        // gRPC is HTTP/2 only.
        config.alpn_protocols = vec![b"h2".to_vec()];
        let server_name = ServerName::try_from(server_name.to_owned()).map_err(|e| {
            Error::config(format!(
                "server_name = \"{server_name}\": {e}; give the DNS name in the axis server's \
                 certificate"
            ))
        })?;
        Ok(ClientTls {
            config: Arc::new(config),
            server_name,
        })
    }

    /// A connector for one node's channel.
    pub(crate) fn connector(&self) -> TlsConnector {
        TlsConnector { tls: self.clone() }
    }
}

/// Opens a connection to a node: TCP, then the TLS handshake (signed by the agency's key
/// wherever it is). tonic's endpoint bounds the whole with the connect deadline.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    tls: ClientTls,
}

type Connecting =
    Pin<Box<dyn Future<Output = std::io::Result<TokioIo<TlsStream<TcpStream>>>> + Send>>;

impl Service<Uri> for TlsConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = std::io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Connecting {
        let tls = self.tls.clone();
        Box::pin(async move {
            let host = uri.host().unwrap_or_default();
            // `[::1]` in a URI is `::1` to the resolver.
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(443);
            let tcp = TcpStream::connect((host, port)).await?;
            tcp.set_nodelay(true)?;
            socket2::SockRef::from(&tcp)
                .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE))?;
            let stream = tokio_rustls::TlsConnector::from(tls.config)
                .connect(tls.server_name, tcp)
                .await
                .map_err(closed_before_handshake)?;
            Ok(TokioIo::new(stream))
        })
    }
}

/// The node ended the TCP connection (end of stream or reset) before the TLS handshake was
/// over: no certificate was looked at on either side, and the node said nothing about why. An
/// axis node does this to a connection over its maximum of open connections, and when it is
/// shutting down; anything that is not a TLS server may too.
#[derive(Debug)]
pub(crate) struct ClosedBeforeHandshake(std::io::Error);

impl std::fmt::Display for ClosedBeforeHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the node closed the connection before the TLS handshake was over ({})",
            self.0
        )
    }
}

impl std::error::Error for ClosedBeforeHandshake {}

impl ClosedBeforeHandshake {
    /// Whether `e`, or an error it wraps, is one.
    pub(crate) fn is_in(e: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(e);
        while let Some(e) = next {
            if e.is::<ClosedBeforeHandshake>()
                || e.downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .is_some_and(|inner| inner.is::<ClosedBeforeHandshake>())
            {
                return true;
            }
            next = e.source();
        }
        false
    }
}

/// A handshake error that is the peer closing the connection becomes a
/// [`ClosedBeforeHandshake`] (same kind); any other (a certificate refused, an alert) is kept.
fn closed_before_handshake(e: std::io::Error) -> std::io::Error {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
            std::io::Error::new(e.kind(), ClosedBeforeHandshake(e))
        }
        _ => e,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::io::{Error as IoError, ErrorKind as K};

    use super::*;

    /// An error that wraps another, as tonic's transport error wraps the connector's.
    #[derive(Debug)]
    struct Outer(IoError);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("transport error")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_peer_closing_during_the_handshake_is_told_apart_from_a_refused_certificate() {
        for kind in [K::UnexpectedEof, K::ConnectionReset, K::BrokenPipe] {
            let e = closed_before_handshake(IoError::new(kind, "tls handshake eof"));
            assert_eq!(e.kind(), kind);
            assert!(e.to_string().contains("before the TLS handshake"), "{e}");
            assert!(ClosedBeforeHandshake::is_in(&Outer(e)));
        }
        // A certificate the client refuses is rustls' own error: kept as it is.
        let e = closed_before_handshake(IoError::new(K::InvalidData, "invalid peer certificate"));
        assert!(!ClosedBeforeHandshake::is_in(&Outer(e)));
        assert!(!ClosedBeforeHandshake::is_in(&IoError::from(
            K::ConnectionRefused
        )));
    }

    #[tokio::test]
    async fn a_node_that_closes_before_tls_is_reported_as_such() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accept and close at once, as a node at its connection maximum does.
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                drop(s);
            }
        });
        let w = axis_testkit::demo::demo_world();
        let key = axis_pki::PrivateKey::from_pkcs8_der(w.g22.tls.key.to_pkcs8_der()).unwrap();
        let credential =
            Credential::new(vec![w.g22.tls.cert.clone(), w.pki.ca.clone()], key).unwrap();
        let tls = ClientTls::new(&w.pki.root, &credential, "localhost").unwrap();
        let uri: Uri = format!("http://{addr}").parse().unwrap();
        let Err(e) = tls.connector().call(uri).await else {
            panic!("a closed connection made a TLS stream");
        };
        assert!(ClosedBeforeHandshake::is_in(&e), "{e}");
    }
}
