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
                .await?;
            Ok(TokioIo::new(stream))
        })
    }
}
