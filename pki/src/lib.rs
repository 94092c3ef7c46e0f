#![forbid(unsafe_code)]
//! # axis-pki
//!
//! The PKI of Axis, in the style of the Government Cipher Committee (Ban Cơ yếu Chính phủ): an
//! offline RSA-4096 root, issuing CAs under it, and leaf certificates for agencies, the people who
//! sign for them, and the axis itself — each from a fixed [`Profile`].
//!
//! This library does **no I/O and reads no clock**: time is always a parameter, so that
//! verification is deterministic and can be replayed at any past instant (auditors verify at
//! signing time, years later). The `axis-pki` binary is the administrators' CLI over it.
//!
//! - [`AgencyId`] parses QCVN 102:2016 agency identifiers.
//! - [`PrivateKey`] generates RSA/ECDSA keys and stores them only as encrypted PKCS#8.
//! - [`issue_root`] and [`CaSigner`] issue certificates and CRLs from a profile; [`CheckedCsr`]
//!   lets an agency keep its key.
//! - [`TrustStore::verify`] checks a chain at a given time, for a required profile, with
//!   revocation that fails closed, and returns a [`VerifiedCert`] that nothing else can build.
//!
//! ```
//! use axis_pki::*;
//! use time::{Duration, macros::datetime};
//!
//! let now = datetime!(2026-01-01 0:00 UTC);
//! let req = |profile, subject, days| IssueRequest {
//!     profile, subject, not_before: now, not_after: now + Duration::days(days),
//!     serial: Serial::random().unwrap(),
//! };
//! // Root and issuing CA (P-256 here to keep the example fast; real roots use RSA-4096).
//! let root_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
//! let root = issue_root(&req(Profile::RootCa, Subject::new("Axis Root CA"), 3650), &root_key)?;
//! let root_ca = CaSigner::new(root.der(), &root_key, now)?;
//! let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
//! let ca_pub = PublicKey::from_spki_der(ca_key.public_key_der())?;
//! let ca = root_ca.issue(&req(Profile::IssuingCa, Subject::new("CA for state agencies"), 1825), &ca_pub)?;
//! let issuing = CaSigner::new(ca.der(), &ca_key, now)?;
//!
//! // An agency seal for the Government Office.
//! let mut subject = Subject::new("Văn phòng Chính phủ");
//! subject.agency_id = Some(AgencyId::parse("000.00.00.G22")?);
//! let seal_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
//! let seal = issuing.issue(
//!     &req(Profile::AgencySeal, subject, 365),
//!     &PublicKey::from_spki_der(seal_key.public_key_der())?,
//! )?;
//!
//! // CRLs from both CAs, then verification.
//! let crl = |ca: &CaSigner| ca.issue_crl(&CrlRequest {
//!     this_update: now, next_update: now + Duration::days(7), number: 1, revoked: vec![],
//! });
//! let store = TrustStore::new(
//!     vec![root.der().to_vec()],
//!     vec![ca.der().to_vec()],
//!     vec![crl(&root_ca)?.der().to_vec(), crl(&issuing)?.der().to_vec()],
//! )?;
//! let verified = store.verify(seal.der(), Profile::AgencySeal, now + Duration::days(1))?;
//! assert_eq!(verified.agency_id().unwrap().as_str(), "000.00.00.G22");
//! // The same certificate is not a personal signature.
//! assert!(store.verify(seal.der(), Profile::PersonalSigner, now).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod agency_id;
mod cert;
mod check;
mod crl;
mod csr;
#[cfg(feature = "demo")]
pub mod demo;
pub mod der;
mod error;
mod issue;
mod key;
mod keyops;
mod normal;
mod pkcs12;
mod profile;
mod verify;

// The public interface is:
pub use agency_id::{AgencyId, AgencyIdError, AgencySegment};
pub use cert::{
    AGENCY_ID_ATTRIBUTE_OID, MAX_CERT_DER_LEN, Serial, agency_id_of, certificates_from_pem,
    not_after_of, profile_of, public_key_of, subject_der_of, subject_of, to_pem,
};
pub use check::{
    CERT_WARN_BEFORE, CRL_WARN_BEFORE, CheckFinding, CheckLevel, CheckReport, check_crl_freshness,
    check_slot, check_verifies, describe_duration, rfc3339,
};
pub use crl::{
    CrlRequest, CrlSummary, IssuedCrl, MAX_CRL_DER_LEN, MAX_CRL_VALIDITY, RevocationReason,
    RevokedEntry, summarize_crl,
};
pub use csr::{CheckedCsr, MAX_CSR_DER_LEN, make_csr};
pub use error::Error;
pub use issue::{
    CaSigner, IssueRequest, IssuedCertificate, MAX_NAME_ATTRIBUTE_CHARS, MAX_SANS, Subject,
    issue_root, issue_root_with_arc,
};
pub use key::{
    KeyAlgorithm, MIN_PASSPHRASE_LEN, PBKDF2_ROUNDS, Passphrase, PrivateKey, PublicKey,
    check_p256_point,
};
pub use keyops::{Decrypter, KeyOp, KeyOpError, KeyPair, KeySigner, SignatureScheme};
pub use normal::{
    check_certificate_form, check_crl_form, ecdsa_p256_der_from_raw, ecdsa_p256_is_normal,
};
pub use pkcs12::{PKCS12_ROUNDS, Pkcs12Compat, export_pkcs12};
pub use profile::{
    AXIS_OID_ARC, DEFAULT_POLICY_ARC, ExtendedKeyUsage, KeyUsage, PolicyArc, Profile, ProfileSpec,
    UnknownProfile,
};
pub use verify::{
    CheckedCrl, MAX_ANCHORS, MAX_CACHED_CHAINS, MAX_CHAIN_LEN, MAX_CRLS, MAX_INTERMEDIATES,
    TrustStore, VerifiedCert,
};
