//! What Axis asks of a private key, wherever it lives: a key file decrypted in memory
//! ([`crate::PrivateKey`]) or a key that never leaves a PKCS#11 token (`axis-keys`).
//!
//! The PKI, the signer, the server and the SDK take `&dyn KeySigner` / `&dyn Decrypter`, so
//! none of them knows where a key is; this crate stays free of I/O and of any token library.
//! A signer receives the whole message and chooses where to hash it: a key file hashes and
//! signs in memory, a token key hashes locally and sends only the 32-byte digest to the token.

use std::fmt;

use zeroize::Zeroizing;

use crate::key::KeyAlgorithm;

/// The signature schemes Axis uses. All hash with SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256: certificates, CRLs, CSRs, CMS, TLS 1.2.
    RsaPkcs1Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt: TLS 1.3 with an RSA key.
    RsaPssSha256,
    /// ECDSA on P-256 with SHA-256, the signature DER-encoded (`Ecdsa-Sig-Value`).
    EcdsaP256Sha256,
}

impl SignatureScheme {
    /// Whether a key of `alg` can make signatures of this scheme.
    pub fn fits(self, alg: KeyAlgorithm) -> bool {
        match self {
            SignatureScheme::RsaPkcs1Sha256 | SignatureScheme::RsaPssSha256 => alg.is_rsa(),
            SignatureScheme::EcdsaP256Sha256 => !alg.is_rsa(),
        }
    }
}

impl KeyAlgorithm {
    /// The scheme certificates, CRLs and CMS signatures are made with for this key type.
    pub fn default_scheme(self) -> SignatureScheme {
        if self.is_rsa() {
            SignatureScheme::RsaPkcs1Sha256
        } else {
            SignatureScheme::EcdsaP256Sha256
        }
    }
}

/// An operation on a private key, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyOp {
    /// Making a signature.
    Sign,
    /// RSA-OAEP decryption.
    Decrypt,
    /// ECDH key agreement.
    Derive,
}

impl fmt::Display for KeyOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyOp::Sign => "sign",
            KeyOp::Decrypt => "decrypt (RSA-OAEP)",
            KeyOp::Derive => "derive (ECDH)",
        })
    }
}

/// Why a private key could not sign, decrypt or derive. Never carries key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyOpError {
    /// The key's type cannot do this (an RSA key asked for ECDSA or ECDH, an EC key for OAEP).
    #[error("a {alg} key cannot {op}")]
    WrongKeyType {
        /// What was asked.
        op: KeyOp,
        /// The key's algorithm.
        alg: KeyAlgorithm,
    },
    /// The key may not be used for this (a token key without the CKA_SIGN, CKA_DECRYPT or
    /// CKA_DERIVE attribute).
    #[error("the key is not allowed to {op}")]
    NotPermitted {
        /// What was asked.
        op: KeyOp,
    },
    /// The input does not decrypt or agree under this key (bad padding, a point off the curve):
    /// one error for every such failure, so that no padding oracle tells them apart.
    #[error("the key could not {op} this input")]
    Rejected {
        /// What was asked.
        op: KeyOp,
    },
    /// The cryptographic library failed unexpectedly.
    #[error("{op} failed")]
    Failed {
        /// What was asked.
        op: KeyOp,
    },
    /// The device holding the key failed or is unreachable: removed, logged out, its session
    /// lost and not reopened. `detail` names the device and its return code, never a secret.
    #[error("{op} on the token failed: {detail}")]
    Device {
        /// What was asked.
        op: KeyOp,
        /// The token and what it answered (`token "axis-ca": CKR_DEVICE_REMOVED`).
        detail: String,
    },
}

/// The public half of a private key, and what it is.
pub trait KeyPair: Send + Sync {
    /// The key's algorithm, read from its public half.
    fn algorithm(&self) -> KeyAlgorithm;
    /// DER SubjectPublicKeyInfo of the public half.
    fn public_key_der(&self) -> &[u8];
    /// Where the key is, for messages: `key file`, or a `pkcs11:` URI without its PIN source.
    fn location(&self) -> String;
}

/// A private key that signs: certificates and CRLs (CA keys), CMS signatures (seals, personal
/// signatures, tree heads), TLS handshakes.
pub trait KeySigner: KeyPair {
    /// Signs `msg` (unhashed) with `scheme`, which must [`fit`](SignatureScheme::fits) the key.
    fn sign_with(&self, scheme: SignatureScheme, msg: &[u8]) -> Result<Vec<u8>, KeyOpError>;

    /// Signs `msg` with the key's [default scheme](KeyAlgorithm::default_scheme), as
    /// certificates, CRLs and CMS signatures are made: an ECDSA value in normal form (the low
    /// s, [`crate::ecdsa_p256_is_normal`]), whichever of `s` and `n − s` the key produced, so
    /// that what Axis signs has one byte form.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, KeyOpError> {
        let scheme = self.algorithm().default_scheme();
        let signature = self.sign_with(scheme, msg)?;
        if scheme == SignatureScheme::EcdsaP256Sha256 {
            crate::normal::normalize_ecdsa_p256(&signature)
                .map_err(|_| KeyOpError::Failed { op: KeyOp::Sign })
        } else {
            Ok(signature)
        }
    }
}

/// A private key that opens key envelopes (an agency's encryption key): RSA-OAEP for RSA keys,
/// ECDH for P-256 keys. The KDF, key unwrap and everything else stay with the caller.
pub trait Decrypter: KeyPair {
    /// RSAES-OAEP decryption with SHA-256, MGF1-SHA-256 and an empty label (RFC 8017 §7.1.2).
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyOpError>;

    /// ECDH on P-256 with the peer's uncompressed point `04 ‖ X ‖ Y`: the shared secret's
    /// x-coordinate, 32 bytes (SEC 1 §3.3.1). The point is checked to be on the curve.
    fn ecdh_p256(&self, peer_point: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyOpError>;
}

/// `&dyn KeySigner` as rcgen needs a signing key. rcgen's error has no room for ours, so the
/// last failure is kept here for the caller to report ([`RcgenKey::error`]).
pub(crate) struct RcgenKey<'a> {
    key: &'a dyn KeySigner,
    failure: std::sync::Mutex<Option<KeyOpError>>,
}

impl<'a> RcgenKey<'a> {
    pub(crate) fn new(key: &'a dyn KeySigner) -> Self {
        RcgenKey {
            key,
            failure: std::sync::Mutex::new(None),
        }
    }

    /// The error for a failed rcgen call: the key's own failure if signing failed, else
    /// rcgen's.
    pub(crate) fn error(&self, e: rcgen::Error) -> crate::Error {
        let kept = match self.failure.lock() {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        match kept {
            Some(op) => crate::Error::KeyOperation(op),
            None => crate::Error::Encoding(e.to_string()),
        }
    }
}

impl rcgen::PublicKeyData for RcgenKey<'_> {
    fn der_bytes(&self) -> &[u8] {
        crate::key::subject_public_key_bits(self.key.public_key_der())
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.key.algorithm().rcgen_alg()
    }
}

impl rcgen::SigningKey for RcgenKey<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.key.sign(msg).map_err(|e| {
            if let Ok(mut g) = self.failure.lock() {
                *g = Some(e);
            }
            rcgen::Error::RemoteKeyError
        })
    }
}
