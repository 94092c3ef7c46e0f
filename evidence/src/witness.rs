//! Witnesses: independent parties (an agency, an auditor, a gateway) that check every tree head
//! of the axis's log against the last one they cosigned and, only when the log is consistent
//! with it, sign it too. A head cosigned by K witnesses that each saw one history cannot be
//! one of two views the axis shows to different parties (a split view), unless those
//! witnesses collude with it.
//!
//! The cosignature follows C2SP tlog-cosignature (the witness signs the log's identity, the
//! tree size, the root hash and its own time), encoded in DER like every Axis structure:
//!
//! ```text
//! CosignedTreeHead ::= SEQUENCE {
//!   format      OBJECT IDENTIFIER,              -- <AXIS_OID_ARC>.2.11
//!   version     INTEGER (1),
//!   log         OCTET STRING (SIZE (32)),       -- SHA-256 of the log signer's
//!                                               -- SubjectPublicKeyInfo: the log's identity
//!   witness     OCTET STRING (SIZE (32)),       -- SHA-256 of the witness's
//!                                               -- SubjectPublicKeyInfo: its key id
//!   treeSize    INTEGER,
//!   rootHash    OCTET STRING (SIZE (32)),       -- the RFC 9162 root of the head cosigned
//!   timestamp   GeneralizedTime }               -- when the witness cosigned (its clock)
//!
//! Cosignature ::= SEQUENCE {
//!   cosigned    CosignedTreeHead,
//!   signature   OCTET STRING }                  -- ECDSA P-256 with SHA-256 over the DER of
//!                                               -- cosigned (Ecdsa-Sig-Value, the low s)
//! ```
//!
//! A witness key is an ECDSA P-256 key (a key file or a token key, behind
//! [`axis_pki::KeySigner`]); the signed structure starts with its own format OID, so a
//! cosignature cannot be read as any other Axis signature. **No I/O, no clock**: the witness's
//! time is a parameter; fetching heads and proofs is the SDK's job.

use std::fmt;

use axis_pki::{KeyAlgorithm, KeySigner, PublicKey};
use time::OffsetDateTime;

use axis_signer::FormatError;
use axis_signer::cms::der::{self, Reader};
use axis_signer::cms::{Format, sha256};

use crate::error::{Error, WitnessError};
use crate::limits::MAX_COSIGNATURE_LEN;
use crate::log::{TreeHead, VerifiedTreeHead};

const WHAT: &str = "cosignature";

/// The key id of a public key (DER SubjectPublicKeyInfo): its SHA-256. A log is named by its
/// signer's key id, a witness by its own.
pub fn key_id(spki: &[u8]) -> [u8; 32] {
    sha256(spki)
}

/// A witness's public key, as a verifier names it (`--witness`): ECDSA P-256 only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessKey {
    spki: Vec<u8>,
    id: [u8; 32],
}

impl WitnessKey {
    /// Reads a DER SubjectPublicKeyInfo; anything but a P-256 key is refused.
    pub fn parse(spki: &[u8]) -> Result<Self, Error> {
        let key =
            PublicKey::from_spki_der(spki).map_err(|_| WitnessError::WitnessKeyUnsupported)?;
        if key.algorithm() != KeyAlgorithm::EcdsaP256 {
            return Err(WitnessError::WitnessKeyUnsupported.into());
        }
        Ok(WitnessKey {
            spki: spki.to_vec(),
            id: key_id(spki),
        })
    }

    /// Its key id (SHA-256 of the SPKI).
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }
}

/// What a witness signs: which log, which head, which witness, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CosignedTreeHead {
    /// The log's identity: the key id of its signer.
    pub log: [u8; 32],
    /// The witness's key id.
    pub witness: [u8; 32],
    /// The tree size of the head cosigned.
    pub tree_size: u64,
    /// Its root hash.
    pub root_hash: [u8; 32],
    /// When the witness cosigned it (whole seconds, UTC).
    pub timestamp: OffsetDateTime,
}

impl CosignedTreeHead {
    fn encode(&self) -> Result<Vec<u8>, Error> {
        Ok(der::seq(&[
            &der::oid(Format::Cosignature.oid()),
            &der::uint(1),
            &der::octets(&self.log),
            &der::octets(&self.witness),
            &der::uint(self.tree_size),
            &der::octets(&self.root_hash),
            &der::generalized_time(self.timestamp)?,
        ]))
    }

    fn read(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Format::Cosignature.open(bytes, WHAT)?;
        let log = r.octets()?;
        let witness = r.octets()?;
        let tree_size = r.u64()?;
        let root_hash = r.octets()?;
        // GeneralizedTime only: `time()` also reads UTCTime, a second byte form.
        if r.peek_tag() != Some(der::GENERALIZED_TIME) {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        let timestamp = r.time()?;
        r.finish()?;
        Ok(CosignedTreeHead {
            log,
            witness,
            tree_size,
            root_hash,
            timestamp,
        })
    }

    /// Whether this is a cosignature of `head` of the log whose signer's key is `log_key`.
    pub fn is_of(&self, head: &TreeHead, log_key: &[u8]) -> bool {
        self.log == key_id(log_key)
            && self.tree_size == head.tree_size
            && self.root_hash == head.root_hash
    }
}

/// A witness's cosignature of a tree head, with its exact bytes (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    cosigned: CosignedTreeHead,
    signed: Vec<u8>,
    signature: Vec<u8>,
    bytes: Vec<u8>,
}

impl Cosignature {
    /// Cosigns `head` with `witness` at `at`. Only a verified head can be cosigned; whether it
    /// is consistent with what the witness cosigned before is [`cosign_next`]'s question.
    pub fn sign(
        head: &VerifiedTreeHead,
        witness: &dyn KeySigner,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        if witness.algorithm() != KeyAlgorithm::EcdsaP256 {
            return Err(WitnessError::WitnessKeyUnsupported.into());
        }
        let timestamp = at
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .map_err(|_| FormatError::TimeOutOfRange)?;
        let h = head.head();
        let cosigned = CosignedTreeHead {
            log: key_id(head.signer_key()),
            witness: key_id(witness.public_key_der()),
            tree_size: h.tree_size,
            root_hash: h.root_hash,
            timestamp,
        };
        let signed = cosigned.encode()?;
        let signature = witness
            .sign(&signed)
            .map_err(|source| WitnessError::Signing { source })?;
        let bytes = der::seq(&[&signed, &der::octets(&signature)]);
        Ok(Cosignature {
            cosigned,
            signed,
            signature,
            bytes,
        })
    }

    /// Parses untrusted bytes: size budget, strict DER, format and version, one byte form (the
    /// structure re-encoded and compared; the ECDSA value in normal form, the low s — of the
    /// two values that verify, only the one a witness writes).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_COSIGNATURE_LEN {
            return Err(FormatError::TooLarge {
                what: WHAT,
                len: bytes.len() as u64,
                max: MAX_COSIGNATURE_LEN as u64,
            }
            .into());
        }
        let mut outer = Reader::new(bytes, WHAT);
        let mut r = outer.sequence()?;
        outer.finish()?;
        let signed = r.any()?.raw.to_vec();
        let signature = r.octet_string()?.to_vec();
        r.finish()?;
        let cosigned = CosignedTreeHead::read(&signed)?;
        // One byte form: re-encoding gives the same bytes.
        if cosigned.encode()? != signed || der::seq(&[&signed, &der::octets(&signature)]) != bytes {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        if !axis_pki::ecdsa_p256_is_normal(&signature) {
            return Err(WitnessError::CosignatureNotNormal.into());
        }
        Ok(Cosignature {
            cosigned,
            signed,
            signature,
            bytes: bytes.to_vec(),
        })
    }

    /// What was cosigned.
    pub fn cosigned(&self) -> &CosignedTreeHead {
        &self.cosigned
    }

    /// The exact bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Verifies the signature with `witness`:
    ///
    /// 1. The cosignature names this witness's key id (a cosignature is never counted for
    ///    another witness).
    /// 2. The ECDSA P-256 signature over the exact `CosignedTreeHead` bytes verifies (its
    ///    normal form, the low s, was checked when it was parsed or made).
    pub fn verify(&self, witness: &WitnessKey) -> Result<(), Error> {
        // Step 1.
        if self.cosigned.witness != witness.id {
            return Err(WitnessError::OtherWitness.into());
        }
        // Step 2. The SPKI parsed as P-256 (WitnessKey::parse): the point is its last 65 bytes.
        let point = &witness.spki[witness.spki.len().saturating_sub(65)..];
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
            .verify(&self.signed, &self.signature)
            .map_err(|_| WitnessError::BadCosignature)?;
        Ok(())
    }
}

/// Which witnesses cosigned a head: what [`check_witnessed`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Witnessed {
    /// Each witness (of those given) whose cosignature verified, with when it cosigned, in the
    /// order the witnesses were given.
    pub by: Vec<([u8; 32], OffsetDateTime)>,
}

impl fmt::Display for Witnessed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cosigned by {} witness(es):", self.by.len())?;
        for (id, at) in &self.by {
            write!(f, " {}… at {}", hex(&id[..8]), crate::bundle::When(*at))?;
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that `head` (of the log signed by `log_key`) is cosigned by at least `min` of
/// `witnesses`:
///
/// 1. Each cosignature is of this head of this log ([`CosignedTreeHead::is_of`]); one of
///    another head or log counts for nothing (refused: it is not evidence for this head).
/// 2. For each witness given (each counted once, however often it is named), the first
///    cosignature naming its key id verifies ([`Cosignature::verify`]), else
///    [`WitnessError::CosignatureInvalid`] names it: a tampered cosignature is refused, not
///    skipped; a witness that signed twice counts once.
/// 3. At least `min` witnesses did; otherwise [`WitnessError::TooFewCosignatures`] names the
///    shortfall.
///
/// Cosignatures by witnesses not given are not checked beyond step 1: the verifier does not
/// rely on them.
pub fn check_witnessed(
    head: &TreeHead,
    log_key: &[u8],
    cosignatures: &[Cosignature],
    witnesses: &[WitnessKey],
    min: usize,
) -> Result<Witnessed, Error> {
    // Step 1.
    if let Some(index) = cosignatures
        .iter()
        .position(|c| !c.cosigned.is_of(head, log_key))
    {
        return Err(WitnessError::NotOfThisHead { index }.into());
    }
    // Step 2.
    let mut by: Vec<([u8; 32], OffsetDateTime)> = Vec::new();
    for w in witnesses {
        if by.iter().any(|(id, _)| *id == w.id) {
            continue;
        }
        let mine = cosignatures
            .iter()
            .enumerate()
            .find(|(_, c)| c.cosigned.witness == w.id);
        if let Some((index, c)) = mine {
            c.verify(w)
                .map_err(|_| WitnessError::CosignatureInvalid { index })?;
            by.push((w.id, c.cosigned.timestamp));
        }
    }
    // Step 3.
    if by.len() < min {
        return Err(WitnessError::TooFewCosignatures {
            found: by.len(),
            needed: min,
            given: witnesses.len(),
        }
        .into());
    }
    Ok(Witnessed { by })
}

/// How `newer` relates to `older`, two heads of one log: the entries `newer` adds (0 for the
/// same head). The one consistency rule every party applies (monitors, gateways, witnesses):
///
/// 1. A log never shrinks: `newer` is not smaller ([`WitnessError::Shrunk`]).
/// 2. Same size, same root: two roots for one size are a split view (or a fork), proven by
///    the two signed heads ([`WitnessError::SplitView`]).
/// 3. Larger: the RFC 9162 §2.1.4 consistency proof from `older` to `newer` verifies — every
///    entry `older` covered is still there, unchanged and in place.
pub fn check_consistent(
    older: &TreeHead,
    newer: &TreeHead,
    proof: &[[u8; 32]],
) -> Result<u64, Error> {
    // Step 1.
    if newer.tree_size < older.tree_size {
        return Err(WitnessError::Shrunk {
            older: older.tree_size,
            newer: newer.tree_size,
        }
        .into());
    }
    // Step 2.
    if newer.tree_size == older.tree_size {
        if newer.root_hash != older.root_hash {
            return Err(WitnessError::SplitView {
                size: newer.tree_size,
            }
            .into());
        }
        return Ok(0);
    }
    // Step 3.
    axis_log::verify_consistency(
        older.tree_size,
        newer.tree_size,
        &older.root_hash,
        &newer.root_hash,
        proof,
    )
    .map_err(|source| WitnessError::Inconsistent {
        older: older.tree_size,
        newer: newer.tree_size,
        source,
    })?;
    Ok(newer.tree_size - older.tree_size)
}

/// One step of a witness: cosigns `head` only if it continues the history of `last` (the head
/// it cosigned before, `None` the first time: trust on first use).
///
/// 1. `head` is of the log the witness follows: its signer's key is `log_key` (a witness never
///    cosigns for another log, nor for the same log under another key without its operator's
///    say).
/// 2. `head` is consistent with `last` ([`check_consistent`], with the axis's consistency
///    `proof` from `last` to `head`): never two heads that are not, whatever the axis says.
/// 3. The cosignature binds the log, the size, the root and the witness's time `at`.
pub fn cosign_next(
    last: Option<&TreeHead>,
    head: &VerifiedTreeHead,
    proof: &[[u8; 32]],
    log_key: &[u8],
    witness: &dyn KeySigner,
    at: OffsetDateTime,
) -> Result<Cosignature, Error> {
    // Step 1.
    if head.signer_key() != log_key {
        return Err(crate::LogError::LogKeyMismatch.into());
    }
    // Step 2.
    if let Some(last) = last {
        check_consistent(last, head.head(), proof)?;
    }
    // Step 3.
    Cosignature::sign(head, witness, at)
}
