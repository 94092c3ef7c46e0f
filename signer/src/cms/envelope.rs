//! A key-envelope entry: the document's content key wrapped for one recipient agency's
//! encryption certificate, as one CMS EnvelopedData (RFC 5652 §6) with exactly one RecipientInfo,
//! which `openssl cms -decrypt` opens. The key envelope is the list of these entries, one per
//! recipient in the routing header's order (`package/key_envelope.rs`); a recipient is sent its
//! own entry and the Merkle audit path to the root the signed header carries.
//!
//! ```text
//! ContentInfo { id-envelopedData, [0] EnvelopedData {
//!   version 0 (RSA) | 2 (EC),
//!   recipientInfos SET SIZE (1) OF {
//!     -- RSA: RFC 8017 RSAES-OAEP, SHA-256 and MGF1-SHA-256 (RFC 4055)
//!     KeyTransRecipientInfo { 0, issuerAndSerialNumber, id-RSAES-OAEP {sha256, mgf1 sha256},
//!                             encryptedKey },
//!     -- EC: RFC 5753 ephemeral-static ECDH P-256, X9.63 KDF with SHA-256, AES-256 key wrap
//!     [1] KeyAgreeRecipientInfo { 3, originator [0] { [1] { id-ecPublicKey, point } },
//!                                 dhSinglePass-stdDH-sha256kdf-scheme { id-aes256-wrap },
//!                                 { { issuerAndSerialNumber, encryptedKey } } } },
//!   encryptedContentInfo { id-data, aes256-CBC { iv }, [0] AES-256-CBC(CEK, content key) } } }
//! ```
//!
//! The CMS content is the 32-byte document content key itself, under a fresh CMS
//! content-encryption key (CEK), the same for every entry of a document (so every entry has the
//! same `encryptedContentInfo`): `openssl cms -decrypt` prints the content key. CBC gives no
//! integrity, but nothing here relies on it: the signed routing header commits to every entry
//! (a Merkle root) and to the content key, both checked before the key is used.

use std::sync::Arc;

use axis_pki::{AgencyId, Decrypter, KeyOpError, Profile, VerifiedCert, check_p256_point};
use openssl::pkey::{PKey, Private, Public};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::cms::certinfo::{self, KeyKind};
use crate::cms::der::{self, Reader};
use crate::cms::digest::{Sha256, sha256};
use crate::cms::oid;
use crate::error::{EnvelopeError, Error, FormatError, KeyError};
use crate::limits::MAX_KEY_ENVELOPE_ENTRY_LEN;

const WHAT: &str = "key envelope entry";

/// A 256-bit key. Zeroized on drop; no `Debug`, no `Clone`.
pub(crate) struct SecretKey(Zeroizing<[u8; 32]>);

impl SecretKey {
    pub(crate) fn random() -> Result<Self, Error> {
        let mut k = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(k.as_mut())
            .map_err(|_| Error::Crypto { op: "random" })?;
        Ok(SecretKey(k))
    }

    pub(crate) fn from_slice(b: &[u8]) -> Result<Self, Error> {
        let mut k = Zeroizing::new([0u8; 32]);
        if b.len() != 32 {
            return Err(EnvelopeError::KeyUnwrapFailed.into());
        }
        k.copy_from_slice(b);
        Ok(SecretKey(k))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Everything secret that sealing one document draws: the content key, the CMS
/// content-encryption key and IV of the key envelope, and the ephemeral P-256 keys of its
/// key-agreement recipients. Fresh from the system generator for every document
/// ([`Secrets::random`]); fixed only for test vectors (feature `test-vectors`).
pub(crate) struct Secrets {
    pub(crate) content_key: SecretKey,
    cek: SecretKey,
    iv: [u8; 16],
    ephemeral: Ephemeral,
}

enum Ephemeral {
    /// A fresh key pair per P-256 recipient.
    Random,
    /// These scalars, in recipient order; RSA recipients are refused (OAEP draws its own
    /// randomness, so its output could not be fixed).
    #[cfg(feature = "test-vectors")]
    Fixed(std::vec::IntoIter<Zeroizing<[u8; 32]>>),
}

impl Secrets {
    /// Fresh secrets for one document.
    pub(crate) fn random() -> Result<Self, Error> {
        let mut iv = [0u8; 16];
        SystemRandom::new()
            .fill(&mut iv)
            .map_err(|_| Error::Crypto { op: "random" })?;
        Ok(Secrets {
            content_key: SecretKey::random()?,
            cek: SecretKey::random()?,
            iv,
            ephemeral: Ephemeral::Random,
        })
    }

    /// The given secrets (test vectors only).
    #[cfg(feature = "test-vectors")]
    pub(crate) fn fixed(f: &FixedSecrets) -> Self {
        Secrets {
            content_key: SecretKey(Zeroizing::new(f.content_key)),
            cek: SecretKey(Zeroizing::new(f.cek)),
            iv: f.iv,
            ephemeral: Ephemeral::Fixed(
                f.ephemeral
                    .iter()
                    .map(|k| Zeroizing::new(*k))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
        }
    }

    /// The ephemeral key pair for the next P-256 recipient.
    fn next_ephemeral(
        &mut self,
        group: &openssl::ec::EcGroup,
    ) -> Result<openssl::ec::EcKey<Private>, Error> {
        match &mut self.ephemeral {
            Ephemeral::Random => {
                openssl::ec::EcKey::generate(group).map_err(crypto("P-256 keygen"))
            }
            #[cfg(feature = "test-vectors")]
            Ephemeral::Fixed(scalars) => {
                let scalar = scalars.next().ok_or(Error::Misuse {
                    reason: "fixed secrets: fewer ephemeral scalars than P-256 recipients",
                })?;
                let d =
                    openssl::bn::BigNum::from_slice(scalar.as_ref()).map_err(crypto("P-256"))?;
                let mut bn = openssl::bn::BigNumContext::new().map_err(crypto("P-256"))?;
                let mut point = openssl::ec::EcPoint::new(group).map_err(crypto("P-256"))?;
                point
                    .mul_generator2(group, &d, &mut bn)
                    .map_err(crypto("P-256"))?;
                let key = openssl::ec::EcKey::from_private_components(group, &d, &point)
                    .map_err(crypto("P-256"))?;
                key.check_key().map_err(|_| Error::Misuse {
                    reason: "fixed secrets: an ephemeral scalar is not a P-256 private key",
                })?;
                Ok(key)
            }
        }
    }

    /// Refuses a recipient whose wrapping cannot be made from these secrets alone.
    fn check_rsa_allowed(&self) -> Result<(), Error> {
        match self.ephemeral {
            Ephemeral::Random => Ok(()),
            #[cfg(feature = "test-vectors")]
            Ephemeral::Fixed(_) => Err(Error::Misuse {
                reason: "fixed secrets cannot seal for an RSA recipient: RSA-OAEP is randomized",
            }),
        }
    }

    /// Refuses fixed scalars left over (they were meant for recipients that are not there).
    fn check_all_used(&self) -> Result<(), Error> {
        match &self.ephemeral {
            Ephemeral::Random => Ok(()),
            #[cfg(feature = "test-vectors")]
            Ephemeral::Fixed(rest) if rest.len() != 0 => Err(Error::Misuse {
                reason: "fixed secrets: more ephemeral scalars than P-256 recipients",
            }),
            #[cfg(feature = "test-vectors")]
            Ephemeral::Fixed(_) => Ok(()),
        }
    }
}

/// Fixed secrets for sealing, so that the same inputs give the same bytes (feature
/// `test-vectors`, for `tests/vectors/` only: a document sealed with secrets anyone knows has
/// no confidentiality). Fill it from [`Sealer::with_fixed_secrets`](crate::Sealer::with_fixed_secrets).
#[cfg(feature = "test-vectors")]
pub struct FixedSecrets {
    /// The content key `K` (FORMATS.md §6.1).
    pub content_key: [u8; 32],
    /// The CMS content-encryption key of the key envelope.
    pub cek: [u8; 32],
    /// The AES-256-CBC IV of the key envelope.
    pub iv: [u8; 16],
    /// One ephemeral P-256 private scalar (big-endian, 1 ≤ d < n) per recipient, in the order
    /// of the seal request's recipients; every recipient must have a P-256 certificate.
    pub ephemeral: Vec<[u8; 32]>,
}

/// A recipient agency's decryption key with its encryption certificate.
///
/// The key is anything that implements [`Decrypter`]: a key file in memory
/// ([`axis_pki::PrivateKey`], through OpenSSL) or a key that never leaves a PKCS#11 token.
/// No `Debug`, no `Clone`.
pub struct RecipientKey {
    key: Arc<dyn Decrypter>,
    issuer_and_serial: Vec<u8>,
    agency: AgencyId,
}

impl RecipientKey {
    /// Pairs a decryption key with `cert`, an agency encryption certificate verified by the
    /// trust store; the key must be the certificate's.
    pub fn new(key: Arc<dyn Decrypter>, cert: &VerifiedCert) -> Result<Self, Error> {
        if cert.profile() != Profile::AgencyEncryption {
            return Err(KeyError::WrongCertificateProfile {
                expected: Profile::AgencyEncryption,
                found: cert.profile(),
            }
            .into());
        }
        let agency = cert
            .agency_id()
            .cloned()
            .ok_or(KeyError::CertificateWithoutAgency {
                profile: Profile::AgencyEncryption,
            })?;
        if key.public_key_der() != cert.public_key_der() {
            return Err(KeyError::DecryptionKeyMismatch.into());
        }
        let info = certinfo::cert_info(cert.der())?;
        Ok(RecipientKey {
            key,
            issuer_and_serial: info.issuer_and_serial(),
            agency,
        })
    }

    /// Loads an unencrypted PKCS#8 DER private key (RSA or P-256) for `cert`, an agency
    /// encryption certificate verified by the trust store.
    pub fn from_pkcs8_der(pkcs8: Zeroizing<Vec<u8>>, cert: &VerifiedCert) -> Result<Self, Error> {
        let key =
            axis_pki::PrivateKey::from_pkcs8_der(pkcs8).map_err(|_| KeyError::UnsupportedKey)?;
        Self::new(Arc::new(key), cert)
    }

    /// The agency this key decrypts for.
    pub fn agency(&self) -> &AgencyId {
        &self.agency
    }
}

fn crypto(op: &'static str) -> impl Fn(openssl::error::ErrorStack) -> Error {
    move |_| Error::Crypto { op }
}

fn sha256_alg() -> Vec<u8> {
    der::seq(&[&der::oid(oid::SHA256)])
}

fn oaep_alg() -> Vec<u8> {
    der::seq(&[
        &der::oid(oid::RSAES_OAEP),
        &der::seq(&[
            &der::tlv(der::context(0), &sha256_alg()),
            &der::tlv(
                der::context(1),
                &der::seq(&[&der::oid(oid::MGF1), &sha256_alg()]),
            ),
        ]),
    ])
}

fn aes256_wrap_alg() -> Vec<u8> {
    // RFC 3565 §2.3.2: parameters absent.
    der::seq(&[&der::oid(oid::AES256_WRAP)])
}

fn ecdh_alg() -> Vec<u8> {
    der::seq(&[&der::oid(oid::ECDH_STD_SHA256_KDF), &aes256_wrap_alg()])
}

/// RFC 5753 §7.2: the key-encryption key is the X9.63 KDF (SHA-256) of the shared secret with
/// `ECC-CMS-SharedInfo { keyInfo id-aes256-wrap, suppPubInfo [2] { 256 as 32-bit integer } }`.
fn x963_kek(z: &[u8]) -> Zeroizing<[u8; 32]> {
    let shared_info = der::seq(&[
        &aes256_wrap_alg(),
        &der::tlv(der::context(2), &der::octets(&256u32.to_be_bytes())),
    ]);
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(z);
    ctx.update(&1u32.to_be_bytes());
    ctx.update(&shared_info);
    let mut kek = Zeroizing::new([0u8; 32]);
    kek.copy_from_slice(ctx.finish().as_ref());
    kek
}

fn ecdh(ours: &PKey<Private>, theirs: &PKey<Public>) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut d = openssl::derive::Deriver::new(ours).map_err(crypto("ECDH"))?;
    d.set_peer(theirs).map_err(crypto("ECDH"))?;
    Ok(Zeroizing::new(d.derive_to_vec().map_err(crypto("ECDH"))?))
}

fn p256_group() -> Result<openssl::ec::EcGroup, Error> {
    openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
        .map_err(crypto("P-256"))
}

/// Wraps the content key of `secrets` for every certificate (agency encryption profile), in
/// the order given, with the CEK, IV and ephemeral keys of `secrets`: one entry (a ContentInfo
/// with one RecipientInfo) per certificate.
pub(crate) fn seal(
    secrets: &mut Secrets,
    recipients: &[VerifiedCert],
) -> Result<Vec<Vec<u8>>, Error> {
    let encrypted = openssl::symm::encrypt(
        openssl::symm::Cipher::aes_256_cbc(),
        secrets.cek.as_bytes(),
        Some(&secrets.iv),
        secrets.content_key.as_bytes(),
    )
    .map_err(crypto("AES-256-CBC"))?;
    let eci = der::seq(&[
        &der::oid(oid::DATA),
        &der::seq(&[&der::oid(oid::AES256_CBC), &der::octets(&secrets.iv)]),
        &der::tlv(der::context_primitive(0), &encrypted),
    ]);
    let mut entries = Vec::with_capacity(recipients.len());
    for cert in recipients {
        let info = certinfo::cert_info(cert.der())?;
        let public = PKey::public_key_from_der(info.spki).map_err(|_| KeyError::UnsupportedKey)?;
        match certinfo::key_kind(info.spki)? {
            KeyKind::Rsa(_) => {
                secrets.check_rsa_allowed()?;
                let cek = &secrets.cek;
                let mut enc =
                    openssl::encrypt::Encrypter::new(&public).map_err(crypto("RSA-OAEP"))?;
                enc.set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP)
                    .map_err(crypto("RSA-OAEP"))?;
                enc.set_rsa_oaep_md(openssl::hash::MessageDigest::sha256())
                    .map_err(crypto("RSA-OAEP"))?;
                enc.set_rsa_mgf1_md(openssl::hash::MessageDigest::sha256())
                    .map_err(crypto("RSA-OAEP"))?;
                let mut out = vec![
                    0u8;
                    enc.encrypt_len(cek.as_bytes())
                        .map_err(crypto("RSA-OAEP"))?
                ];
                let n = enc
                    .encrypt(cek.as_bytes(), &mut out)
                    .map_err(crypto("RSA-OAEP"))?;
                out.truncate(n);
                let ktri = der::seq(&[
                    &der::uint(0),
                    &info.issuer_and_serial(),
                    &oaep_alg(),
                    &der::octets(&out),
                ]);
                entries.push(entry(0, ktri, &eci));
            }
            KeyKind::EcP256(_) => {
                let group = p256_group()?;
                let eph = secrets.next_ephemeral(&group)?;
                let mut bn = openssl::bn::BigNumContext::new().map_err(crypto("P-256"))?;
                let point = eph
                    .public_key()
                    .to_bytes(
                        &group,
                        openssl::ec::PointConversionForm::UNCOMPRESSED,
                        &mut bn,
                    )
                    .map_err(crypto("P-256"))?;
                let eph = PKey::from_ec_key(eph).map_err(crypto("P-256"))?;
                let z = ecdh(&eph, &public)?;
                let kek = x963_kek(&z);
                let wrapped = aes_wrap(&kek, secrets.cek.as_bytes())?;
                let originator = der::tlv(
                    der::context(0),
                    &der::cons(
                        der::context(1),
                        &[
                            &der::seq(&[&der::oid(oid::EC_PUBLIC_KEY)]),
                            &der::bit_string(&point),
                        ],
                    ),
                );
                let rek = der::seq(&[&info.issuer_and_serial(), &der::octets(&wrapped)]);
                let kari = der::cons(
                    der::context(1),
                    &[&der::uint(3), &originator, &ecdh_alg(), &der::seq(&[&rek])],
                );
                entries.push(entry(2, kari, &eci));
            }
        }
    }
    secrets.check_all_used()?;
    Ok(entries)
}

/// One entry: a ContentInfo holding an EnvelopedData of `version` with one RecipientInfo.
fn entry(version: u64, recipient_info: Vec<u8>, eci: &[u8]) -> Vec<u8> {
    let enveloped = der::seq(&[&der::uint(version), &der::set_of(vec![recipient_info]), eci]);
    der::seq(&[
        &der::oid(oid::ENVELOPED_DATA),
        &der::tlv(der::context(0), &enveloped),
    ])
}

fn aes_wrap(kek: &[u8; 32], key: &[u8; 32]) -> Result<Vec<u8>, Error> {
    let k = openssl::aes::AesKey::new_encrypt(kek).map_err(|_| Error::Crypto { op: "AES-KW" })?;
    let mut out = vec![0u8; 40];
    openssl::aes::wrap_key(&k, None, &mut out, key).map_err(|_| Error::Crypto { op: "AES-KW" })?;
    Ok(out)
}

fn aes_unwrap(kek: &[u8; 32], wrapped: &[u8]) -> Result<SecretKey, Error> {
    if wrapped.len() != 40 {
        return Err(EnvelopeError::KeyUnwrapFailed.into());
    }
    let k = openssl::aes::AesKey::new_decrypt(kek).map_err(|_| EnvelopeError::KeyUnwrapFailed)?;
    let mut out = Zeroizing::new([0u8; 32]);
    openssl::aes::unwrap_key(&k, None, out.as_mut(), wrapped)
        .map_err(|_| EnvelopeError::KeyUnwrapFailed)?;
    Ok(SecretKey(out))
}

/// How one RecipientInfo wraps the CEK.
enum Wrapped<'a> {
    /// RSAES-OAEP: the encrypted key.
    Rsa(&'a [u8]),
    /// ECDH: the originator's ephemeral point and the AES-wrapped key.
    Ec { point: &'a [u8], wrapped: &'a [u8] },
}

/// An entry read but not opened: its recipient (by issuerAndSerialNumber, in clear), how it
/// wraps the CEK, and the encrypted content.
struct Parsed<'a> {
    rid: &'a [u8],
    wrapped: Wrapped<'a>,
    iv: [u8; 16],
    encrypted: &'a [u8],
}

/// Reads one key-envelope entry without any key.
///
/// 1. Budget on the entry's size.
/// 2. Strict DER; exactly one RecipientInfo (and for key agreement exactly one
///    RecipientEncryptedKey), of the two types and algorithms written by [`seal`] (no algorithm
///    downgrade: OAEP must be SHA-256/MGF1-SHA-256, ECDH the SHA-256 KDF with AES-256 wrap), and
///    the EnvelopedData version RFC 5652 §6.1 gives it (0 for RSA, 2 for EC).
fn parse(entry: &[u8]) -> Result<Parsed<'_>, Error> {
    // Step 1.
    if entry.len() > MAX_KEY_ENVELOPE_ENTRY_LEN {
        return Err(FormatError::TooLarge {
            what: WHAT,
            len: entry.len() as u64,
            max: MAX_KEY_ENVELOPE_ENTRY_LEN as u64,
        }
        .into());
    }
    // Step 2.
    let malformed = || Error::from(FormatError::Malformed { what: WHAT });
    let mut outer = Reader::new(entry, WHAT);
    let mut ci = outer.sequence()?;
    outer.finish()?;
    if ci.oid()? != oid::ENVELOPED_DATA {
        return Err(malformed());
    }
    let mut explicit = ci.nested(der::context(0))?;
    ci.finish()?;
    let mut ed = explicit.sequence()?;
    explicit.finish()?;
    let version = ed.u64()?;
    let mut infos = ed.nested(der::SET)?;
    let mut eci = ed.sequence()?;
    ed.finish()?;
    if eci.oid()? != oid::DATA {
        return Err(malformed());
    }
    let mut alg = eci.sequence()?;
    if alg.oid()? != oid::AES256_CBC {
        return Err(malformed());
    }
    let iv: [u8; 16] = alg.octets()?;
    alg.finish()?;
    let encrypted = eci.expect(der::context_primitive(0))?.value;
    eci.finish()?;

    let info = infos.any()?;
    if !infos.is_empty() {
        // One entry, one recipient: anything else is another entry.
        return Err(malformed());
    }
    let mut r = Reader::new(info.value, WHAT);
    let (rid, wrapped) = match info.tag {
        der::SEQUENCE => {
            if version != 0 || r.u64()? != 0 {
                return Err(malformed());
            }
            let rid = r.expect(der::SEQUENCE)?.raw;
            let alg = r.expect(der::SEQUENCE)?.raw;
            let encrypted_key = r.octet_string()?;
            r.finish()?;
            if alg != oaep_alg().as_slice() {
                return Err(malformed());
            }
            (rid, Wrapped::Rsa(encrypted_key))
        }
        t if t == der::context(1) => {
            if version != 2 || r.u64()? != 3 {
                return Err(malformed());
            }
            let mut orig = r.nested(der::context(0))?;
            let mut key = orig.nested(der::context(1))?;
            orig.finish()?;
            let mut key_alg = key.sequence()?;
            if key_alg.oid()? != oid::EC_PUBLIC_KEY {
                return Err(malformed());
            }
            // Parameters absent, NULL or the P-256 OID (RFC 5753 §7.1.2).
            if !key_alg.is_empty() {
                let p = key_alg.any()?;
                if !(p.tag == der::NULL && p.value.is_empty()
                    || p.tag == der::OID && p.value == oid::P256)
                {
                    return Err(malformed());
                }
            }
            key_alg.finish()?;
            let point = key.bit_string()?;
            key.finish()?;
            if r.peek_tag() == Some(der::context(1)) {
                // A ukm would enter the KDF; Axis never writes one.
                return Err(malformed());
            }
            let alg = r.expect(der::SEQUENCE)?.raw;
            if alg != ecdh_alg().as_slice() {
                return Err(malformed());
            }
            let mut reks = r.sequence()?;
            r.finish()?;
            let mut rek = reks.sequence()?;
            reks.finish()?;
            let rid = rek.expect(der::SEQUENCE)?.raw;
            let wrapped = rek.octet_string()?;
            rek.finish()?;
            (rid, Wrapped::Ec { point, wrapped })
        }
        _ => return Err(malformed()),
    };
    Ok(Parsed {
        rid,
        wrapped,
        iv,
        encrypted,
    })
}

/// Who an envelope entry is for: the DER issuerAndSerialNumber of an encryption certificate,
/// which the envelope carries in clear. The axis compares an envelope's entries with the
/// recipients' current certificates without any key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecipientId(Vec<u8>);

impl RecipientId {
    /// The identifier of an encryption certificate (DER; parsed with the signer's budgets).
    pub fn of_certificate(cert_der: &[u8]) -> Result<Self, Error> {
        Ok(RecipientId(
            certinfo::cert_info(cert_der)?.issuer_and_serial(),
        ))
    }

    /// The DER issuerAndSerialNumber.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for RecipientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A short fingerprint: the DER itself is long and says nothing at a glance.
        f.write_str("RecipientId(")?;
        for b in &sha256(&self.0)[..8] {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Who an entry is for, read without any key (strict: [`parse`]).
pub(crate) fn recipient_id(entry: &[u8]) -> Result<RecipientId, Error> {
    Ok(RecipientId(parse(entry)?.rid.to_vec()))
}

/// Unwraps the content key from this recipient's entry.
///
/// 1. The entry is read ([`parse`]: budget, strict DER, one RecipientInfo, only Axis's
///    algorithms).
/// 2. It is for the recipient's certificate (issuer and serial); otherwise
///    [`EnvelopeError::NoRecipientInfo`].
/// 3. Unwrapping the CEK and decrypting the content fail alike as
///    [`EnvelopeError::KeyUnwrapFailed`] (one error for every failure: no padding oracle to
///    tell apart, RFC 3218).
pub(crate) fn open(entry: &[u8], me: &RecipientKey) -> Result<SecretKey, Error> {
    // Step 1.
    let parsed = parse(entry)?;
    // Step 2.
    if parsed.rid != me.issuer_and_serial.as_slice() {
        return Err(EnvelopeError::NoRecipientInfo.into());
    }
    // Step 3.
    let cek = match parsed.wrapped {
        Wrapped::Rsa(encrypted_key) => oaep_decrypt(me.key.as_ref(), encrypted_key)?,
        Wrapped::Ec { point, wrapped } => ecdh_unwrap(me.key.as_ref(), point, wrapped)?,
    };
    let content = Zeroizing::new(
        openssl::symm::decrypt(
            openssl::symm::Cipher::aes_256_cbc(),
            cek.as_bytes(),
            Some(&parsed.iv),
            parsed.encrypted,
        )
        .map_err(|_| EnvelopeError::KeyUnwrapFailed)?,
    );
    SecretKey::from_slice(&content)
}

/// A key operation's failure as the envelope reports it: whatever the input made fail is
/// [`EnvelopeError::KeyUnwrapFailed`] (one error, no oracle); a failing device is a key error.
fn unwrap_failure(e: KeyOpError) -> Error {
    match e {
        KeyOpError::Device { .. } | KeyOpError::NotPermitted { .. } => {
            KeyError::Decryption(e).into()
        }
        _ => EnvelopeError::KeyUnwrapFailed.into(),
    }
}

fn oaep_decrypt(key: &dyn Decrypter, encrypted: &[u8]) -> Result<SecretKey, Error> {
    if !key.algorithm().is_rsa() {
        return Err(EnvelopeError::KeyUnwrapFailed.into());
    }
    let out = key.decrypt_oaep_sha256(encrypted).map_err(unwrap_failure)?;
    SecretKey::from_slice(&out)
}

fn ecdh_unwrap(key: &dyn Decrypter, point: &[u8], wrapped: &[u8]) -> Result<SecretKey, Error> {
    if key.algorithm().is_rsa() {
        return Err(EnvelopeError::KeyUnwrapFailed.into());
    }
    // Checked here too, whatever the key's own implementation does: on the curve, not the point
    // at infinity (an invalid-curve point must never reach a token).
    check_p256_point(point).map_err(|_| EnvelopeError::KeyUnwrapFailed)?;
    let z = key.ecdh_p256(point).map_err(unwrap_failure)?;
    aes_unwrap(&x963_kek(&z), wrapped)
}

/// SHA-256 commitment to a content key, carried in the signed routing header: every recipient
/// must unwrap the same key (AES-GCM alone is not key-committing).
pub(crate) fn key_commitment(key: &SecretKey) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"axis-signer v1 content-key commitment\0");
    h.update(key.as_bytes());
    h.finish()
}
