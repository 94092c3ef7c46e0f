//! Key pairs: generation, encrypted PKCS#8 storage, and signing for issuance.
//!
//! RSA keys are generated with OpenSSL (ring cannot generate RSA keys); ECDSA P-256 keys with ring.
//! Signing goes through ring in both cases. Private key bytes live in [`Zeroizing`] buffers and
//! are written out only encrypted: PKCS#8 `EncryptedPrivateKeyInfo` with PBES2
//! (PBKDF2-HMAC-SHA256, 600,000 rounds, AES-256-CBC), which `openssl pkey` and every mainstream
//! toolkit read.

use std::fmt;

use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keyops::{Decrypter, KeyOp, KeyOpError, KeyPair, KeySigner, SignatureScheme};

/// PBKDF2-HMAC-SHA256 rounds for keys we encrypt (OWASP 2023 guidance for PBKDF2-SHA256).
pub const PBKDF2_ROUNDS: u32 = 600_000;
/// Most PBKDF2 rounds accepted in a key file we read; more is refused rather than spun on.
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;
/// Largest scrypt cost N accepted in a key file we read (2^20: about 1 GiB of work memory).
const MAX_SCRYPT_COST: u64 = 1 << 20;
/// Shortest passphrase accepted for encrypting a new key.
pub const MIN_PASSPHRASE_LEN: usize = 8;
/// Largest key file (PEM) accepted.
const MAX_KEY_PEM_LEN: usize = 64 * 1024;

/// Key algorithms Axis issues certificates for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [KeyAlgorithm; 4] = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
        KeyAlgorithm::EcdsaP256,
    ];

    /// Whether this is an RSA algorithm.
    pub fn is_rsa(self) -> bool {
        !matches!(self, KeyAlgorithm::EcdsaP256)
    }

    /// Command-line name: `rsa2048`, `rsa3072`, `rsa4096`, `p256`.
    pub fn name(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::Rsa3072 => "rsa3072",
            KeyAlgorithm::Rsa4096 => "rsa4096",
            KeyAlgorithm::EcdsaP256 => "p256",
        }
    }

    fn rsa_bits(self) -> Option<u32> {
        match self {
            KeyAlgorithm::Rsa2048 => Some(2048),
            KeyAlgorithm::Rsa3072 => Some(3072),
            KeyAlgorithm::Rsa4096 => Some(4096),
            KeyAlgorithm::EcdsaP256 => None,
        }
    }

    pub(crate) fn rcgen_alg(self) -> &'static rcgen::SignatureAlgorithm {
        if self.is_rsa() {
            &rcgen::PKCS_RSA_SHA256
        } else {
            &rcgen::PKCS_ECDSA_P256_SHA256
        }
    }

    /// Identifies the algorithm of a SubjectPublicKeyInfo; `None` for anything Axis does not use
    /// (other RSA sizes, other curves, Ed25519, DSA…).
    pub(crate) fn of_spki(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Option<Self> {
        use x509_parser::public_key::PublicKey;
        match spki.parsed().ok()? {
            PublicKey::RSA(rsa) => {
                // The modulus size decides the algorithm; exponents are ring's business at
                // signature-check time (it refuses even and tiny ones).
                match rsa.key_size() {
                    2048 => Some(KeyAlgorithm::Rsa2048),
                    3072 => Some(KeyAlgorithm::Rsa3072),
                    4096 => Some(KeyAlgorithm::Rsa4096),
                    _ => None,
                }
            }
            PublicKey::EC(_) => {
                let curve = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
                (curve == x509_parser::oid_registry::OID_EC_P256).then_some(KeyAlgorithm::EcdsaP256)
            }
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KeyAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        KeyAlgorithm::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| Error::UnknownKeyAlgorithm {
                name: s.chars().take(32).collect(),
            })
    }
}

/// A passphrase. Zeroized on drop; never printed.
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase. A trailing newline (as left by `echo pass > file`) is removed.
    pub fn new(mut s: String) -> Self {
        while s.ends_with('\n') || s.ends_with('\r') {
            s.pop();
        }
        Passphrase(Zeroizing::new(s))
    }

    /// Checks the passphrase is long enough to protect a new key.
    pub fn check_strength(&self) -> Result<(), Error> {
        if self.0.chars().count() < MIN_PASSPHRASE_LEN {
            return Err(Error::PassphraseTooShort {
                min: MIN_PASSPHRASE_LEN,
            });
        }
        Ok(())
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The passphrase itself, for handing to a token as its PIN (a key file's passphrase
    /// setting doubles as the PIN of a key on a token). Never log or print it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

enum Inner {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// A private key Axis can sign with. No `Debug`, no `Clone`; the PKCS#8 bytes are zeroized on drop.
pub struct PrivateKey {
    alg: KeyAlgorithm,
    pkcs8: Zeroizing<Vec<u8>>,
    inner: Inner,
    spki: Vec<u8>,
}

impl PrivateKey {
    /// Generates a fresh key.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self, Error> {
        let pkcs8 = match alg.rsa_bits() {
            Some(bits) => {
                let rsa = openssl::rsa::Rsa::generate(bits).map_err(|_| Error::KeyGeneration)?;
                let pkey = openssl::pkey::PKey::from_rsa(rsa).map_err(|_| Error::KeyGeneration)?;
                Zeroizing::new(
                    pkey.private_key_to_pkcs8()
                        .map_err(|_| Error::KeyGeneration)?,
                )
            }
            None => {
                let doc = EcdsaKeyPair::generate_pkcs8(
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &SystemRandom::new(),
                )
                .map_err(|_| Error::KeyGeneration)?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
        };
        Self::from_pkcs8_der(pkcs8)
    }

    /// Loads an unencrypted PKCS#8 DER key (for example one just decrypted).
    pub fn from_pkcs8_der(pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, Error> {
        use x509_parser::prelude::FromDer;
        let info =
            pkcs8::PrivateKeyInfo::try_from(pkcs8.as_slice()).map_err(|_| Error::KeyMalformed)?;
        // Derive the public half through ring, then the algorithm from its SPKI, so a key and the
        // algorithm we sign with can never disagree.
        let (inner, spki) =
            if info.algorithm.oid == pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1") {
                let kp = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| {
                    // ring takes 2048 to 4096 bits; other sizes are well-formed but not ours.
                    match e.to_string().as_str() {
                        "TooSmall" | "TooLarge" => Error::UnsupportedKey,
                        _ => Error::KeyMalformed,
                    }
                })?;
                let spki = rsa_spki(kp.public().as_ref());
                (Inner::Rsa(kp), spki)
            } else {
                let kp = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(|_| Error::UnsupportedKey)?;
                let spki = ec_p256_spki(kp.public_key().as_ref());
                (Inner::Ecdsa(kp), spki)
            };
        let (_, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki)
            .map_err(|_| Error::KeyMalformed)?;
        let alg = KeyAlgorithm::of_spki(&parsed).ok_or(Error::UnsupportedKey)?;
        Ok(PrivateKey {
            alg,
            pkcs8,
            inner,
            spki,
        })
    }

    /// Decrypts a PEM `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2).
    pub fn from_encrypted_pem(pem_text: &str, passphrase: &Passphrase) -> Result<Self, Error> {
        use pkcs8::der::Decode;
        if pem_text.len() > MAX_KEY_PEM_LEN {
            return Err(Error::KeyMalformed);
        }
        let block = pem::parse(pem_text).map_err(|_| Error::KeyMalformed)?;
        match block.tag() {
            "ENCRYPTED PRIVATE KEY" => {}
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                return Err(Error::KeyNotEncrypted);
            }
            _ => return Err(Error::KeyMalformed),
        }
        let epki = pkcs8::EncryptedPrivateKeyInfo::from_der(block.contents())
            .map_err(|_| Error::KeyMalformed)?;
        check_kdf_budget(&epki)?;
        let doc = epki
            .decrypt(passphrase.as_bytes())
            .map_err(|_| Error::WrongPassphrase)?;
        Self::from_pkcs8_der(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Encrypts the key as a PEM `ENCRYPTED PRIVATE KEY`. The passphrase must pass
    /// [`Passphrase::check_strength`].
    pub fn to_encrypted_pem(&self, passphrase: &Passphrase) -> Result<Zeroizing<String>, Error> {
        passphrase.check_strength()?;
        let rng = SystemRandom::new();
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        rng.fill(&mut salt).map_err(|_| Error::KeyGeneration)?;
        rng.fill(&mut iv).map_err(|_| Error::KeyGeneration)?;
        let params =
            pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(PBKDF2_ROUNDS, &salt, &iv)
                .map_err(|_| Error::KeyGeneration)?;
        let info = pkcs8::PrivateKeyInfo::try_from(self.pkcs8.as_slice())
            .map_err(|_| Error::KeyMalformed)?;
        let doc = info
            .encrypt_with_params(params, passphrase.as_bytes())
            .map_err(|_| Error::KeyGeneration)?;
        let pem = doc
            .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
            .map_err(|_| Error::KeyGeneration)?;
        Ok(pem)
    }

    /// The unencrypted PKCS#8 DER, in a buffer zeroized on drop: for handing the key to another
    /// component that needs it in that form (the signer's decryption key). Never write it out.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.pkcs8.to_vec())
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// DER SubjectPublicKeyInfo of the public half.
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// The key as an OpenSSL `PKey`, for PKCS#12 export.
    pub(crate) fn to_openssl(&self) -> Result<openssl::pkey::PKey<openssl::pkey::Private>, Error> {
        openssl::pkey::PKey::private_key_from_pkcs8(&self.pkcs8).map_err(|_| Error::KeyMalformed)
    }

    /// Signs `msg`: RSASSA-PKCS1-v1_5 with SHA-256 for RSA keys, ECDSA P-256 with SHA-256 (DER)
    /// for EC keys, in normal form (the low s: [`crate::ecdsa_p256_is_normal`]), so that a
    /// signature Axis makes has one byte form.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        KeySigner::sign(self, msg).map_err(|_| Error::SigningFailed)
    }

    fn openssl_for(
        &self,
        op: KeyOp,
    ) -> Result<openssl::pkey::PKey<openssl::pkey::Private>, KeyOpError> {
        openssl::pkey::PKey::private_key_from_pkcs8(&self.pkcs8)
            .map_err(|_| KeyOpError::Failed { op })
    }
}

impl KeyPair for PrivateKey {
    fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }
    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }
    fn location(&self) -> String {
        "key file".to_owned()
    }
}

impl KeySigner for PrivateKey {
    fn sign_with(&self, scheme: SignatureScheme, msg: &[u8]) -> Result<Vec<u8>, KeyOpError> {
        let rng = SystemRandom::new();
        let failed = |_| KeyOpError::Failed { op: KeyOp::Sign };
        match (&self.inner, scheme) {
            (Inner::Rsa(kp), SignatureScheme::RsaPkcs1Sha256 | SignatureScheme::RsaPssSha256) => {
                let padding: &'static dyn signature::RsaEncoding =
                    if scheme == SignatureScheme::RsaPssSha256 {
                        &signature::RSA_PSS_SHA256
                    } else {
                        &signature::RSA_PKCS1_SHA256
                    };
                let mut sig = vec![0u8; kp.public().modulus_len()];
                kp.sign(padding, &rng, msg, &mut sig).map_err(failed)?;
                Ok(sig)
            }
            (Inner::Ecdsa(kp), SignatureScheme::EcdsaP256Sha256) => {
                Ok(kp.sign(&rng, msg).map_err(failed)?.as_ref().to_vec())
            }
            _ => Err(KeyOpError::WrongKeyType {
                op: KeyOp::Sign,
                alg: self.alg,
            }),
        }
    }
}

impl Decrypter for PrivateKey {
    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyOpError> {
        let op = KeyOp::Decrypt;
        if !self.alg.is_rsa() {
            return Err(KeyOpError::WrongKeyType { op, alg: self.alg });
        }
        let pkey = self.openssl_for(op)?;
        let rejected = |_| KeyOpError::Rejected { op };
        let mut dec = openssl::encrypt::Decrypter::new(&pkey).map_err(rejected)?;
        dec.set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP)
            .map_err(rejected)?;
        dec.set_rsa_oaep_md(openssl::hash::MessageDigest::sha256())
            .map_err(rejected)?;
        dec.set_rsa_mgf1_md(openssl::hash::MessageDigest::sha256())
            .map_err(rejected)?;
        let mut out = Zeroizing::new(vec![0u8; dec.decrypt_len(ciphertext).map_err(rejected)?]);
        let n = dec.decrypt(ciphertext, &mut out).map_err(rejected)?;
        out.truncate(n);
        Ok(out)
    }

    fn ecdh_p256(&self, peer_point: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyOpError> {
        let op = KeyOp::Derive;
        if self.alg.is_rsa() {
            return Err(KeyOpError::WrongKeyType { op, alg: self.alg });
        }
        let ours = self.openssl_for(op)?;
        let peer = p256_peer(peer_point)?;
        let failed = |_| KeyOpError::Failed { op };
        let mut d = openssl::derive::Deriver::new(&ours).map_err(failed)?;
        d.set_peer(&peer).map_err(|_| KeyOpError::Rejected { op })?;
        Ok(Zeroizing::new(d.derive_to_vec().map_err(failed)?))
    }
}

/// Checks a peer's P-256 point (uncompressed `04 ‖ X ‖ Y`) is on the curve and not the point at
/// infinity, as every ECDH with an untrusted point must first.
pub fn check_p256_point(point: &[u8]) -> Result<(), KeyOpError> {
    p256_peer(point).map(|_| ())
}

/// A peer's P-256 public point, checked: decoding puts it on the curve, `check_key` refuses the
/// point at infinity.
fn p256_peer(point: &[u8]) -> Result<openssl::pkey::PKey<openssl::pkey::Public>, KeyOpError> {
    let rejected = |_| KeyOpError::Rejected { op: KeyOp::Derive };
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
        .map_err(|_| KeyOpError::Failed { op: KeyOp::Derive })?;
    let mut bn =
        openssl::bn::BigNumContext::new().map_err(|_| KeyOpError::Failed { op: KeyOp::Derive })?;
    let point = openssl::ec::EcPoint::from_bytes(&group, point, &mut bn).map_err(rejected)?;
    let key = openssl::ec::EcKey::from_public_key(&group, &point).map_err(rejected)?;
    key.check_key().map_err(rejected)?;
    openssl::pkey::PKey::from_ec_key(key).map_err(rejected)
}

fn check_kdf_budget(epki: &pkcs8::EncryptedPrivateKeyInfo<'_>) -> Result<(), Error> {
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::pkcs5::pbes2::Kdf;
    match &epki.encryption_algorithm {
        EncryptionScheme::Pbes2(p) => match &p.kdf {
            Kdf::Pbkdf2(k) if k.iteration_count > MAX_PBKDF2_ROUNDS => Err(Error::KeyKdfTooCostly),
            Kdf::Scrypt(s) if s.cost_parameter > MAX_SCRYPT_COST => Err(Error::KeyKdfTooCostly),
            _ => Ok(()),
        },
        _ => Err(Error::UnsupportedKeyEncryption),
    }
}

/// The public half as rcgen needs it (tests craft certificates with rcgen directly).
impl rcgen::PublicKeyData for PrivateKey {
    fn der_bytes(&self) -> &[u8] {
        // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }; rcgen wants the BIT STRING's bytes.
        subject_public_key_bits(&self.spki)
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg.rcgen_alg()
    }
}

impl rcgen::SigningKey for PrivateKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        PrivateKey::sign(self, msg).map_err(|_| rcgen::Error::RingUnspecified)
    }
}

/// A public key taken from a CSR or certificate: SPKI DER whose algorithm Axis supports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    alg: KeyAlgorithm,
    spki: Vec<u8>,
}

impl PublicKey {
    /// Checks an SPKI is a key type Axis issues for.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self, Error> {
        use x509_parser::prelude::FromDer;
        let (rest, parsed) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)
            .map_err(|_| Error::KeyMalformed)?;
        if !rest.is_empty() {
            return Err(Error::KeyMalformed);
        }
        let alg = KeyAlgorithm::of_spki(&parsed).ok_or(Error::UnsupportedKey)?;
        Ok(PublicKey {
            alg,
            spki: spki.to_vec(),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// DER SubjectPublicKeyInfo.
    pub fn der(&self) -> &[u8] {
        &self.spki
    }
}

impl rcgen::PublicKeyData for PublicKey {
    fn der_bytes(&self) -> &[u8] {
        subject_public_key_bits(&self.spki)
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg.rcgen_alg()
    }
}

/// The contents of the subjectPublicKey BIT STRING of a well-formed SPKI (both constructors of
/// the types using it have parsed the SPKI already).
pub(crate) fn subject_public_key_bits(spki: &[u8]) -> &[u8] {
    use x509_parser::prelude::FromDer;
    match x509_parser::x509::SubjectPublicKeyInfo::from_der(spki) {
        Ok((_, p)) => {
            let bits = p.subject_public_key.data.as_ref();
            // Re-slice into `spki` so the borrow is tied to it, not to the parse result.
            let start = spki.len() - bits.len();
            &spki[start..]
        }
        Err(_) => &[],
    }
}

fn rsa_spki(rsa_public_key_der: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption, NULL }
    const ALG: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    spki(ALG, rsa_public_key_der)
}

fn ec_p256_spki(point: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { id-ecPublicKey, prime256v1 }
    const ALG: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    spki(ALG, point)
}

fn spki(alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(key);
    let bit_string = crate::der::tlv(0x03, &bits);
    let mut body = alg.to_vec();
    body.extend_from_slice(&bit_string);
    crate::der::tlv(0x30, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_pem_round_trips_and_wrong_passphrase_is_named() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pass = Passphrase::new("correct horse battery".into());
        let pem = key.to_encrypted_pem(&pass).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = PrivateKey::from_encrypted_pem(&pem, &pass).unwrap();
        assert_eq!(back.public_key_der(), key.public_key_der());
        let wrong = Passphrase::new("incorrect horse".into());
        assert!(matches!(
            PrivateKey::from_encrypted_pem(&pem, &wrong),
            Err(Error::WrongPassphrase)
        ));
    }

    #[test]
    fn short_passphrase_is_refused_for_new_keys() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        assert!(matches!(
            key.to_encrypted_pem(&Passphrase::new("short\n".into())),
            Err(Error::PassphraseTooShort { min: 8 })
        ));
    }

    #[test]
    fn rsa_1024_is_unsupported_not_malformed() {
        let rsa = openssl::rsa::Rsa::generate(1024).unwrap();
        let der = openssl::pkey::PKey::from_rsa(rsa)
            .unwrap()
            .private_key_to_pkcs8()
            .unwrap();
        assert!(matches!(
            PrivateKey::from_pkcs8_der(Zeroizing::new(der)),
            Err(Error::UnsupportedKey)
        ));
        assert!(matches!(
            PrivateKey::from_pkcs8_der(Zeroizing::new(b"junk".to_vec())),
            Err(Error::KeyMalformed)
        ));
    }

    #[test]
    fn rsa_key_spki_matches_openssl() {
        let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
        assert_eq!(key.algorithm(), KeyAlgorithm::Rsa2048);
        let ossl = key.to_openssl().unwrap();
        assert_eq!(ossl.public_key_to_der().unwrap(), key.public_key_der());
        let ec = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let ossl = ec.to_openssl().unwrap();
        assert_eq!(ossl.public_key_to_der().unwrap(), ec.public_key_der());
    }
}
