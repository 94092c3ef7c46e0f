//! rustls over any [`KeySigner`]: the TLS handshake of the axis and of its clients is signed by
//! a key file or by a token, through the same code.

use std::sync::Arc;

use axis_pki::{KeySigner, SignatureScheme};
use rustls::SignatureAlgorithm;
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer};
use rustls::sign::{CertifiedKey, Signer, SigningKey};

/// A rustls [`SigningKey`] that signs with a [`KeySigner`]: ECDSA P-256 with SHA-256 for EC
/// keys; RSA-PSS with SHA-256 where offered (TLS 1.3 requires it), else PKCS#1 v1.5 with
/// SHA-256, for RSA keys.
pub struct TlsKey {
    key: Arc<dyn KeySigner>,
}

impl TlsKey {
    /// Wraps a key.
    pub fn new(key: Arc<dyn KeySigner>) -> Self {
        TlsKey { key }
    }
}

impl std::fmt::Debug for TlsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsKey")
            .field("key", &self.key.location())
            .finish()
    }
}

impl SigningKey for TlsKey {
    fn choose_scheme(&self, offered: &[rustls::SignatureScheme]) -> Option<Box<dyn Signer>> {
        use rustls::SignatureScheme as S;
        let choice = if self.key.algorithm().is_rsa() {
            [
                (S::RSA_PSS_SHA256, SignatureScheme::RsaPssSha256),
                (S::RSA_PKCS1_SHA256, SignatureScheme::RsaPkcs1Sha256),
            ]
            .into_iter()
            .find(|(s, _)| offered.contains(s))
        } else {
            offered
                .contains(&S::ECDSA_NISTP256_SHA256)
                .then_some((S::ECDSA_NISTP256_SHA256, SignatureScheme::EcdsaP256Sha256))
        }?;
        Some(Box::new(TlsSigner {
            key: self.key.clone(),
            tls: choice.0,
            scheme: choice.1,
        }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        Some(SubjectPublicKeyInfoDer::from(self.key.public_key_der()))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        if self.key.algorithm().is_rsa() {
            SignatureAlgorithm::RSA
        } else {
            SignatureAlgorithm::ECDSA
        }
    }
}

struct TlsSigner {
    key: Arc<dyn KeySigner>,
    tls: rustls::SignatureScheme,
    scheme: SignatureScheme,
}

impl std::fmt::Debug for TlsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSigner")
            .field("key", &self.key.location())
            .field("scheme", &self.tls)
            .finish()
    }
}

impl Signer for TlsSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.key.sign_with(self.scheme, message).map_err(|e| {
            tracing::error!(key = %self.key.location(), error = %e, "TLS handshake signature failed");
            rustls::Error::General(e.to_string())
        })
    }

    fn scheme(&self) -> rustls::SignatureScheme {
        self.tls
    }
}

/// A certificate chain (leaf first) with its key, for rustls's server and client configs.
/// Refused if the key is not the leaf's.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: Arc<dyn KeySigner>,
) -> Result<CertifiedKey, rustls::Error> {
    let ck = CertifiedKey::new(chain, Arc::new(TlsKey::new(key)));
    ck.keys_match()?;
    Ok(ck)
}
