//! Where a key is, as configuration files and command lines say it: a path to an encrypted
//! PKCS#8 file, or a `pkcs11:` URI. And a loaded key of either kind, as one type.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axis_pki::{
    Decrypter, KeyAlgorithm, KeyOpError, KeyPair, KeySigner, PrivateKey, SignatureScheme,
};
use zeroize::Zeroizing;

use crate::error::UriError;
use crate::token_key::TokenKey;
use crate::uri::Pkcs11Uri;

/// A key reference from a configuration string: `pkcs11:…` is a token key, anything else the
/// path of a key file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRef {
    /// An encrypted PKCS#8 PEM file.
    File(PathBuf),
    /// A key on a PKCS#11 token.
    Pkcs11(Pkcs11Uri),
}

impl KeyRef {
    /// Parses a reference. A `pkcs11:` URI is checked at once (a malformed one is an error, not
    /// a file name).
    pub fn parse(text: &str) -> Result<Self, UriError> {
        if text.starts_with("pkcs11:") {
            Pkcs11Uri::parse(text).map(KeyRef::Pkcs11)
        } else {
            Ok(KeyRef::File(PathBuf::from(text)))
        }
    }

    /// A reference from a configured path that may hold a URI (`PathBuf`s in configuration
    /// structs).
    pub fn from_path(path: &Path) -> Result<Self, UriError> {
        match path.to_str() {
            Some(s) => KeyRef::parse(s),
            None => Ok(KeyRef::File(path.to_path_buf())),
        }
    }

    /// The URI, for a token key.
    pub fn uri(&self) -> Option<&Pkcs11Uri> {
        match self {
            KeyRef::Pkcs11(u) => Some(u),
            KeyRef::File(_) => None,
        }
    }

    /// The path, for a key file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            KeyRef::File(p) => Some(p),
            KeyRef::Pkcs11(_) => None,
        }
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyRef::File(p) => write!(f, "{}", p.display()),
            KeyRef::Pkcs11(u) => write!(f, "{u}"),
        }
    }
}

impl std::str::FromStr for KeyRef {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, UriError> {
        KeyRef::parse(s)
    }
}

/// A loaded private key: a decrypted key file or a key on a token. Signs and decrypts through
/// the same traits either way; cheap to clone.
#[derive(Clone)]
#[non_exhaustive]
pub enum Key {
    /// A key file, decrypted into memory.
    File(Arc<PrivateKey>),
    /// A key on a PKCS#11 token.
    Token(Arc<TokenKey>),
}

impl Key {
    /// The key as a signer.
    pub fn signer(&self) -> Arc<dyn KeySigner> {
        match self {
            Key::File(k) => k.clone(),
            Key::Token(k) => k.clone(),
        }
    }

    /// The key as a decrypter.
    pub fn decrypter(&self) -> Arc<dyn Decrypter> {
        match self {
            Key::File(k) => k.clone(),
            Key::Token(k) => k.clone(),
        }
    }

    /// The key file's PKCS#8, for what must hold the key itself (a PKCS#12 export); `None` for a
    /// key on a token, which never leaves it.
    pub fn file_key(&self) -> Option<&PrivateKey> {
        match self {
            Key::File(k) => Some(k),
            Key::Token(_) => None,
        }
    }

    /// Whether the key can do `op`: its type fits, and a token allows it (see
    /// [`TokenKey::permits`]); a key file of the right type always can.
    pub fn permits(&self, op: axis_pki::KeyOp) -> bool {
        match self {
            Key::File(k) => match op {
                axis_pki::KeyOp::Sign => true,
                axis_pki::KeyOp::Decrypt => k.algorithm().is_rsa(),
                _ => !k.algorithm().is_rsa(),
            },
            Key::Token(k) => k.permits(op),
        }
    }

    /// Whether the key is on a token.
    pub fn is_token(&self) -> bool {
        matches!(self, Key::Token(_))
    }

    /// The unencrypted PKCS#8 of a key file (zeroized on drop); `None` for a token key.
    pub fn to_pkcs8_der(&self) -> Option<Zeroizing<Vec<u8>>> {
        self.file_key().map(PrivateKey::to_pkcs8_der)
    }
}

impl From<PrivateKey> for Key {
    fn from(k: PrivateKey) -> Self {
        Key::File(Arc::new(k))
    }
}

impl From<TokenKey> for Key {
    fn from(k: TokenKey) -> Self {
        Key::Token(Arc::new(k))
    }
}

impl KeyPair for Key {
    fn algorithm(&self) -> KeyAlgorithm {
        match self {
            Key::File(k) => k.algorithm(),
            Key::Token(k) => KeyPair::algorithm(k.as_ref()),
        }
    }
    fn public_key_der(&self) -> &[u8] {
        match self {
            Key::File(k) => k.public_key_der(),
            Key::Token(k) => KeyPair::public_key_der(k.as_ref()),
        }
    }
    fn location(&self) -> String {
        match self {
            Key::File(k) => k.location(),
            Key::Token(k) => k.location(),
        }
    }
}

impl KeySigner for Key {
    fn sign_with(&self, scheme: SignatureScheme, msg: &[u8]) -> Result<Vec<u8>, KeyOpError> {
        match self {
            Key::File(k) => k.sign_with(scheme, msg),
            Key::Token(k) => k.sign_with(scheme, msg),
        }
    }
}

impl Decrypter for Key {
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyOpError> {
        match self {
            Key::File(k) => k.decrypt_oaep_sha256(ciphertext),
            Key::Token(k) => k.decrypt_oaep_sha256(ciphertext),
        }
    }
    fn ecdh_p256(&self, peer_point: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyOpError> {
        match self {
            Key::File(k) => k.ecdh_p256(peer_point),
            Key::Token(k) => k.ecdh_p256(peer_point),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_files_unless_they_are_uris() {
        assert_eq!(
            KeyRef::parse("keys/seal.key.pem"),
            Ok(KeyRef::File("keys/seal.key.pem".into()))
        );
        let r = KeyRef::parse("pkcs11:token=t;object=seal").unwrap();
        assert_eq!(r.uri().and_then(Pkcs11Uri::object), Some("seal"));
        assert_eq!(r.to_string(), "pkcs11:token=t;object=seal");
        assert_eq!(
            KeyRef::parse("pkcs11:token=t;object=seal?pin-value=1"),
            Err(UriError::PinValueForbidden)
        );
    }
}
