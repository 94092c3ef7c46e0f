//! The cryptographic message layer: the strict DER reader and writer, object identifiers, the
//! certificate fields CMS needs, SHA-256, detached CMS SignedData and the key envelope (CMS
//! EnvelopedData). Nothing here knows what a manifest, a header or a receipt is.
//!
//! The public part is what a format defined above the signer needs to be read and signed by
//! the same rules (the log and evidence formats of `axis-evidence`): the [`der`] reader and
//! writer, the register of format OIDs ([`Format`]), SHA-256, and detached CMS signatures over
//! an Axis structure ([`sign`], [`verify`], [`claimed_signing_time`]).

pub(crate) mod certinfo;
pub mod der;
pub(crate) mod digest;
pub(crate) mod envelope;
pub(crate) mod oid;
pub(crate) mod signature;
mod signing_time;

use axis_pki::TrustStore;
use time::OffsetDateTime;

use crate::error::Error;

pub use digest::sha256;
pub use oid::Format;
pub use signature::VerifiedSigner;
pub use signing_time::claimed_signing_time;

/// Makes a detached CMS SignedData (CAdES-BES attributes, the signer's certificate and CA
/// embedded) over `content`, which must be an encoded Axis structure: a SEQUENCE whose first
/// element is one of the [`Format`] OIDs, so that a signature made here can never be read as
/// one over another kind of structure. Anything else is [`Error::Misuse`].
pub fn sign(
    content: &[u8],
    signer: &signature::Signer<'_>,
    signing_time: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    if Format::of(content).is_none() {
        return Err(Error::Misuse {
            reason: "only an Axis structure (a SEQUENCE starting with a format OID) is signed",
        });
    }
    signature::sign_detached(content, signer, signing_time)
}

/// Verifies a detached CMS SignedData over `content` for `role` at `at`: the steps of the
/// signature module (budgets, strict DER, exactly the CAdES-BES attributes, the content digest,
/// signing-certificate-v2, the signature value, the certificate chained to `store` for the
/// role's profile and unrevoked at `at`, the signing time). No agency binding is read: the
/// caller checks what the certificate must be (for a tree head, the pinned log key).
pub fn verify(
    signature: &[u8],
    content: &[u8],
    role: signature::SignatureRole,
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<VerifiedSigner, Error> {
    signature::verify_signer(signature, content, role, store, at)
}

/// [`verify`], then the signature's one byte form: exactly what [`sign`] writes for the signer
/// and its chain (nothing the signature value does not cover can vary), and an ECDSA value with
/// the low s. For signatures that must have one byte form, such as a tree head's in an evidence
/// bundle; fails with [`crate::SignatureError::NotNormalForm`] naming the part.
pub fn verify_normal_form(
    signature: &[u8],
    content: &[u8],
    role: signature::SignatureRole,
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<VerifiedSigner, Error> {
    let signed = signature::verify_signer(signature, content, role, store, at)?;
    signature::check_normal_form(signature, &signed, role)?;
    Ok(signed)
}
