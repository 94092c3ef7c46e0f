//! The axis's evidence formats: log entries, signed tree heads and inclusion proofs.
//!
//! Every acceptance, receipt, status and recall the axis records is an entry (a leaf) of an
//! append-only RFC 9162 Merkle tree (`axis-log`). The axis signs *tree heads* with its
//! log-signer certificate, so one signature covers a whole batch of entries; each entry is
//! proven by its inclusion path up to a signed head. A DMS or an auditor holding only the root
//! certificate verifies an entry with [`verify_evidence`].
//!
//! ```text
//! LogEntry ::= SEQUENCE {
//!   format      OBJECT IDENTIFIER,              -- <AXIS_OID_ARC>.2.4
//!   version     INTEGER (1),
//!   loggedAt    GeneralizedTime,                -- when the axis committed it
//!   messageId   OCTET STRING (SIZE (16)),
//!   body        CHOICE {
//!     acceptance [1] SEQUENCE {
//!       sender                    UTF8String,
//!       headerDigest              OCTET STRING (SIZE (32)),  -- SHA-256 of the routing header
//!       submissionSignatureDigest OCTET STRING (SIZE (32)),  -- SHA-256 of its CMS signature
//!       ciphertextLength          INTEGER,
//!       ciphertextDigest          OCTET STRING (SIZE (32)) },
//!     statement  [2] SEQUENCE {                               -- a receipt or status
//!       from             UTF8String,
//!       to               UTF8String,
//!       status           INTEGER,                            -- 1–6, 13, 15, 16
//!       receiptDigest    OCTET STRING (SIZE (32)),           -- SHA-256 of the receipt bytes
//!       signatureDigest  OCTET STRING (SIZE (32)) },         -- SHA-256 of its CMS signature
//!     revocation [3] SEQUENCE {                               -- a revocation the axis applied
//!       crlDigest        OCTET STRING (SIZE (32)),           -- SHA-256 of the CRL that lists it
//!       crlNumber        INTEGER,
//!       serial           OCTET STRING,                       -- certificate serial, big-endian
//!       revokedAt        GeneralizedTime,
//!       reason           INTEGER } } }                       -- RFC 5280 CRLReason
//!
//! TreeHead ::= SEQUENCE {
//!   format      OBJECT IDENTIFIER,              -- <AXIS_OID_ARC>.2.5
//!   version     INTEGER (1),
//!   treeSize    INTEGER,
//!   rootHash    OCTET STRING (SIZE (32)),       -- RFC 9162 MTH of the first treeSize entries
//!   timestamp   GeneralizedTime }               -- also the CMS signingTime
//!
//! LogProof ::= SEQUENCE {
//!   format      OBJECT IDENTIFIER,              -- <AXIS_OID_ARC>.2.6
//!   version     INTEGER (1),
//!   treeHead    OCTET STRING,                   -- TreeHead DER
//!   signature   OCTET STRING,                   -- detached CMS SignedData over treeHead
//!   leafIndex   INTEGER,
//!   path        SEQUENCE SIZE (0..64) OF OCTET STRING (SIZE (32)) }
//! ```
//!
//! The tree head's signature is a detached CMS SignedData like every other Axis signature, by a
//! certificate of the axis-log-signer profile, so `openssl cms -verify` checks it too.

use axis_pki::{AgencyId, TrustStore};
use time::OffsetDateTime;

use axis_signer::cms::der::{self, Reader};
use axis_signer::cms::{self, Format, sha256};
use axis_signer::{
    FormatError, KeyError, MessageId, SignatureError, SignatureRole, SignedReceipt, Signer,
    StatusCode, Submission, VerifiedReceipt, VerifiedSubmission,
};

use crate::error::{Error, LogError};
use crate::limits::{
    MAX_LOG_ENTRY_LEN, MAX_LOG_PROOF_LEN, MAX_PATH_LEN, MAX_SIGNED_TREE_HEAD_LEN, MAX_TREE_HEAD_LEN,
};

const ENTRY: &str = "log entry";
const HEAD: &str = "tree head";
const PROOF: &str = "log proof";

/// What the axis accepted: the routing header and submission signature it verified, by digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptanceEntry {
    /// The sending agency.
    pub sender: AgencyId,
    /// SHA-256 of the routing header bytes.
    pub header_digest: [u8; 32],
    /// SHA-256 of the submission signature (CMS) bytes.
    pub submission_signature_digest: [u8; 32],
    /// Ciphertext length, as the header announced and the axis received.
    pub ciphertext_len: u64,
    /// SHA-256 of the ciphertext.
    pub ciphertext_digest: [u8; 32],
}

/// A receipt or status the axis verified and passed on, by digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementEntry {
    /// The stating agency.
    pub from: AgencyId,
    /// The other party.
    pub to: AgencyId,
    /// The status.
    pub status: StatusCode,
    /// SHA-256 of the receipt bytes.
    pub receipt_digest: [u8; 32],
    /// SHA-256 of the receipt's signature (CMS) bytes.
    pub signature_digest: [u8; 32],
}

/// A certificate revocation the axis applied (from a CRL it was given), by serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationEntry {
    /// SHA-256 of the CRL (DER) that lists it.
    pub crl_digest: [u8; 32],
    /// That CRL's number.
    pub crl_number: u64,
    /// The revoked certificate's serial (big-endian, as in the certificate).
    pub serial: Vec<u8>,
    /// When it was revoked, as the CRL says (whole seconds, UTC).
    pub revoked_at: OffsetDateTime,
    /// RFC 5280 CRLReason code.
    pub reason: u8,
}

/// What an entry records.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryBody {
    /// A document accepted for delivery.
    Acceptance(AcceptanceEntry),
    /// A receipt or status (01–06, 13, 15, 16).
    Statement(StatementEntry),
    /// A certificate revocation.
    Revocation(RevocationEntry),
}

/// One entry of the axis's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// When the axis committed it (whole seconds, UTC).
    pub logged_at: OffsetDateTime,
    /// The message it concerns.
    pub message_id: MessageId,
    /// What it records.
    pub body: EntryBody,
}

impl LogEntry {
    /// The entry for a submission the axis verified.
    pub fn acceptance(submission: &VerifiedSubmission, logged_at: OffsetDateTime) -> Self {
        let s = submission.submission();
        let h = submission.header();
        LogEntry {
            logged_at,
            message_id: h.message_id,
            body: EntryBody::Acceptance(AcceptanceEntry {
                sender: h.sender.clone(),
                header_digest: sha256(s.header().as_bytes()),
                submission_signature_digest: sha256(s.signature()),
                ciphertext_len: h.ciphertext_len,
                ciphertext_digest: h.ciphertext_digest,
            }),
        }
    }

    /// The entry for a receipt or status the axis verified.
    pub fn statement(receipt: &VerifiedReceipt, logged_at: OffsetDateTime) -> Self {
        let r = receipt.receipt();
        LogEntry {
            logged_at,
            message_id: r.message_id,
            body: EntryBody::Statement(StatementEntry {
                from: r.from.clone(),
                to: r.to.clone(),
                status: r.status,
                receipt_digest: receipt.hash(),
                signature_digest: sha256(receipt.signed().signature()),
            }),
        }
    }

    /// The entry for a revocation the axis applied. Revocations concern no message: the
    /// message id is all zeros.
    pub fn revocation(revocation: RevocationEntry, logged_at: OffsetDateTime) -> Self {
        LogEntry {
            logged_at,
            message_id: MessageId::from_uuid(uuid::Uuid::nil()),
            body: EntryBody::Revocation(revocation),
        }
    }

    /// Encodes the entry (the logged time is truncated to whole seconds).
    pub fn encode(&self) -> Result<LogEntryBytes, Error> {
        LogEntryBytes::parse(&self.der()?)
    }

    fn der(&self) -> Result<Vec<u8>, Error> {
        let body = match &self.body {
            EntryBody::Revocation(r) => der::cons(
                der::context(3),
                &[
                    &der::octets(&r.crl_digest),
                    &der::uint(r.crl_number),
                    &der::octets(&r.serial),
                    &der::generalized_time(r.revoked_at)?,
                    &der::uint(u64::from(r.reason)),
                ],
            ),
            EntryBody::Acceptance(a) => der::cons(
                der::context(1),
                &[
                    &der::utf8(a.sender.as_str()),
                    &der::octets(&a.header_digest),
                    &der::octets(&a.submission_signature_digest),
                    &der::uint(a.ciphertext_len),
                    &der::octets(&a.ciphertext_digest),
                ],
            ),
            EntryBody::Statement(s) => der::cons(
                der::context(2),
                &[
                    &der::utf8(s.from.as_str()),
                    &der::utf8(s.to.as_str()),
                    &der::uint(u64::from(s.status.code())),
                    &der::octets(&s.receipt_digest),
                    &der::octets(&s.signature_digest),
                ],
            ),
        };
        Ok(der::seq(&[
            &der::oid(Format::LogEntry.oid()),
            &der::uint(1),
            &der::generalized_time(self.logged_at)?,
            &der::octets(self.message_id.as_bytes()),
            &body,
        ]))
    }
}

/// A parsed log entry with its exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntryBytes {
    bytes: Vec<u8>,
    entry: LogEntry,
}

impl LogEntryBytes {
    /// Parses untrusted bytes: size budget, strict DER, format OID and version, agency ids and
    /// status codes, one byte form (re-encoding gives the same bytes).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_LOG_ENTRY_LEN {
            return Err(FormatError::TooLarge {
                what: ENTRY,
                len: bytes.len() as u64,
                max: MAX_LOG_ENTRY_LEN as u64,
            }
            .into());
        }
        let mut r = Format::LogEntry.open(bytes, ENTRY)?;
        // GeneralizedTime only: `time()` also reads UTCTime, a second byte form (and leaf hash).
        if r.peek_tag() != Some(der::GENERALIZED_TIME) {
            return Err(FormatError::Malformed { what: ENTRY }.into());
        }
        let logged_at = r.time()?;
        let message_id = MessageId::from_uuid(uuid::Uuid::from_bytes(r.octets()?));
        let agency = |field, s: &str| {
            AgencyId::parse(s).map_err(|source| FormatError::AgencyId { field, source })
        };
        let body = match r.peek_tag() {
            Some(t) if t == der::context(1) => {
                let mut b = r.nested(der::context(1))?;
                let a = AcceptanceEntry {
                    sender: agency("log entry sender", b.utf8()?)?,
                    header_digest: b.octets()?,
                    submission_signature_digest: b.octets()?,
                    ciphertext_len: b.u64()?,
                    ciphertext_digest: b.octets()?,
                };
                b.finish()?;
                EntryBody::Acceptance(a)
            }
            Some(t) if t == der::context(2) => {
                let mut b = r.nested(der::context(2))?;
                let s = StatementEntry {
                    from: agency("log entry from", b.utf8()?)?,
                    to: agency("log entry to", b.utf8()?)?,
                    status: StatusCode::from_code(b.u64()?)?,
                    receipt_digest: b.octets()?,
                    signature_digest: b.octets()?,
                };
                b.finish()?;
                EntryBody::Statement(s)
            }
            Some(t) if t == der::context(3) => {
                let mut b = r.nested(der::context(3))?;
                let crl_digest = b.octets()?;
                let crl_number = b.u64()?;
                let serial = b.octet_string()?.to_vec();
                if serial.is_empty() || serial.len() > 20 {
                    return Err(FormatError::Malformed { what: ENTRY }.into());
                }
                let revoked_at = b.time()?;
                let reason =
                    u8::try_from(b.u64()?).map_err(|_| FormatError::Malformed { what: ENTRY })?;
                b.finish()?;
                EntryBody::Revocation(RevocationEntry {
                    crl_digest,
                    crl_number,
                    serial,
                    revoked_at,
                    reason,
                })
            }
            _ => return Err(FormatError::Malformed { what: ENTRY }.into()),
        };
        r.finish()?;
        let entry = LogEntry {
            logged_at,
            message_id,
            body,
        };
        // One byte form: re-encoding gives the same bytes (a UTCTime where GeneralizedTime
        // belongs, or any other variant, would be a second leaf hash for the same entry).
        if entry.der()? != bytes {
            return Err(FormatError::Malformed { what: ENTRY }.into());
        }
        Ok(LogEntryBytes {
            bytes: bytes.to_vec(),
            entry,
        })
    }

    /// The exact bytes (the leaf's content).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The entry.
    pub fn entry(&self) -> &LogEntry {
        &self.entry
    }

    /// The RFC 9162 leaf hash: SHA-256(0x00 ‖ entry).
    pub fn leaf_hash(&self) -> [u8; 32] {
        axis_log::leaf_hash(&self.bytes)
    }

    /// Checks that this entry records the acceptance of exactly `submission` (its header and
    /// signature bytes): what a sender checks of its acceptance receipt.
    pub fn check_acceptance_of(&self, submission: &Submission) -> Result<(), Error> {
        let h = submission.header().header();
        let EntryBody::Acceptance(a) = &self.entry.body else {
            return Err(LogError::LogEntryMismatch { field: "kind" }.into());
        };
        let checks = [
            (self.entry.message_id == h.message_id, "message id"),
            (a.sender == h.sender, "sender"),
            (
                a.header_digest == sha256(submission.header().as_bytes()),
                "routing header digest",
            ),
            (
                a.submission_signature_digest == sha256(submission.signature()),
                "submission signature digest",
            ),
            (a.ciphertext_len == h.ciphertext_len, "ciphertext length"),
            (
                a.ciphertext_digest == h.ciphertext_digest,
                "ciphertext digest",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, field)) => Err(LogError::LogEntryMismatch { field }.into()),
            None => Ok(()),
        }
    }

    /// Checks that this entry records exactly `receipt` (its statement and signature bytes).
    pub fn check_statement_of(&self, receipt: &SignedReceipt) -> Result<(), Error> {
        let r = receipt.receipt().receipt();
        let EntryBody::Statement(s) = &self.entry.body else {
            return Err(LogError::LogEntryMismatch { field: "kind" }.into());
        };
        let checks = [
            (self.entry.message_id == r.message_id, "message id"),
            (s.from == r.from, "from"),
            (s.to == r.to, "to"),
            (s.status == r.status, "status"),
            (
                s.receipt_digest == receipt.receipt().hash(),
                "receipt digest",
            ),
            (
                s.signature_digest == sha256(receipt.signature()),
                "signature digest",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, field)) => Err(LogError::LogEntryMismatch { field }.into()),
            None => Ok(()),
        }
    }
}

/// The state of the log at one moment: its size and root hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// Number of entries.
    pub tree_size: u64,
    /// RFC 9162 Merkle tree hash of the entries.
    pub root_hash: [u8; 32],
    /// When the axis signed it (whole seconds, UTC).
    pub timestamp: OffsetDateTime,
}

impl TreeHead {
    fn encode(&self) -> Result<Vec<u8>, Error> {
        Ok(der::seq(&[
            &der::oid(Format::TreeHead.oid()),
            &der::uint(1),
            &der::uint(self.tree_size),
            &der::octets(&self.root_hash),
            &der::generalized_time(self.timestamp)?,
        ]))
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Format::TreeHead.open(bytes, HEAD)?;
        let head = TreeHead {
            tree_size: r.u64()?,
            root_hash: r.octets()?,
            timestamp: r.time()?,
        };
        r.finish()?;
        Ok(head)
    }

    /// Signs the tree head with the axis log signer; the CMS signing time is the timestamp.
    pub fn sign(&self, log_signer: &Signer<'_>) -> Result<SignedTreeHead, Error> {
        let role = SignatureRole::TreeHead;
        if log_signer.certificate().profile() != role.profile() {
            return Err(KeyError::WrongCertificateProfile {
                expected: role.profile(),
                found: log_signer.certificate().profile(),
            }
            .into());
        }
        let mut head = *self;
        head.timestamp = whole_seconds(head.timestamp)?;
        let bytes = head.encode()?;
        let signature = cms::sign(&bytes, log_signer, head.timestamp)?;
        Ok(SignedTreeHead {
            head,
            bytes,
            signature,
        })
    }
}

pub(crate) fn whole_seconds(t: OffsetDateTime) -> Result<OffsetDateTime, Error> {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .map_err(|_| FormatError::TimeOutOfRange.into())
}

/// Reads a structure the log signer signs: the size budget first, then `decode`, then the one
/// byte form (`encode` gives back exactly `bytes`); errors name `what`.
pub(crate) fn parse_one_form<T>(
    bytes: &[u8],
    max: usize,
    what: &'static str,
    decode: impl Fn(&[u8]) -> Result<T, Error>,
    encode: impl Fn(&T) -> Result<Vec<u8>, Error>,
) -> Result<T, Error> {
    if bytes.len() > max {
        return Err(FormatError::TooLarge {
            what,
            len: bytes.len() as u64,
            max: max as u64,
        }
        .into());
    }
    let value = decode(bytes)?;
    if encode(&value)? != bytes {
        return Err(FormatError::Malformed { what }.into());
    }
    Ok(value)
}

/// A tree head with its exact bytes and the log signer's signature (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTreeHead {
    head: TreeHead,
    bytes: Vec<u8>,
    signature: Vec<u8>,
}

impl SignedTreeHead {
    /// Parses received bytes (strict DER, one byte form) and keeps the signature.
    pub fn parse(tree_head: &[u8], signature: Vec<u8>) -> Result<Self, Error> {
        let head = parse_one_form(
            tree_head,
            MAX_TREE_HEAD_LEN,
            HEAD,
            TreeHead::decode,
            TreeHead::encode,
        )?;
        Ok(SignedTreeHead {
            head,
            bytes: tree_head.to_vec(),
            signature,
        })
    }

    /// The tree head.
    pub fn head(&self) -> &TreeHead {
        &self.head
    }

    /// One file holding the head and its signature (what a monitor keeps between runs):
    /// `SEQUENCE { treeHead OCTET STRING, signature OCTET STRING }`.
    pub fn encode(&self) -> Vec<u8> {
        der::seq(&[&der::octets(&self.bytes), &der::octets(&self.signature)])
    }

    /// Reads what [`SignedTreeHead::encode`] wrote (strict DER, budgets).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "signed tree head";
        if bytes.len() > MAX_SIGNED_TREE_HEAD_LEN {
            return Err(FormatError::TooLarge {
                what: WHAT,
                len: bytes.len() as u64,
                max: MAX_SIGNED_TREE_HEAD_LEN as u64,
            }
            .into());
        }
        let mut outer = Reader::new(bytes, WHAT);
        let mut r = outer.sequence()?;
        outer.finish()?;
        let head = r.octet_string()?;
        let sig = r.octet_string()?.to_vec();
        r.finish()?;
        Self::parse(head, sig)
    }

    /// The exact bytes the signature covers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The signature (CMS SignedData, DER, detached over the tree head bytes).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Verifies the signature at `at`.
    ///
    /// 1. A detached CMS signature over the exact tree-head bytes by a certificate of the
    ///    axis-log-signer profile that chains to the store, unrevoked at `at` (the signature
    ///    module's steps): an agency seal or a TLS key cannot sign tree heads.
    /// 2. If `log_key` is given (DER SubjectPublicKeyInfo), the certificate holds that key: an
    ///    auditor pins the log it follows, so another log signer of the same PKI cannot stand
    ///    in for it.
    /// 3. The CMS signing time is the tree head's timestamp.
    pub fn verify(
        &self,
        store: &TrustStore,
        at: OffsetDateTime,
        log_key: Option<&[u8]>,
    ) -> Result<VerifiedTreeHead, Error> {
        self.verify_as(store, at, log_key, false)
    }

    /// [`SignedTreeHead::verify`], and the signature in its one byte form
    /// ([`axis_signer::cms::verify_normal_form`]: exactly what the log signer writes, the low
    /// s): what an evidence bundle requires, so that no byte of its tree head's signature can
    /// change.
    pub fn verify_normal_form(
        &self,
        store: &TrustStore,
        at: OffsetDateTime,
        log_key: Option<&[u8]>,
    ) -> Result<VerifiedTreeHead, Error> {
        self.verify_as(store, at, log_key, true)
    }

    fn verify_as(
        &self,
        store: &TrustStore,
        at: OffsetDateTime,
        log_key: Option<&[u8]>,
        normal_form: bool,
    ) -> Result<VerifiedTreeHead, Error> {
        let v = verify_log_signature(
            &self.signature,
            &self.bytes,
            store,
            at,
            log_key,
            normal_form,
            (self.head.timestamp, LogError::TreeHeadTimeMismatch),
        )?;
        Ok(VerifiedTreeHead {
            signed: self.clone(),
            signer: v.signer,
            signer_key: v.signer_key,
            chain: v.chain,
        })
    }
}

/// Who made a log signature, once it verified.
pub(crate) struct LogSigner {
    pub(crate) signer: String,
    pub(crate) signer_key: Vec<u8>,
    /// The CA certificates above the log signer's, the trust anchor last.
    pub(crate) chain: Vec<Vec<u8>>,
}

/// Verifies a signature of the axis log signer (a tree head's, a completeness statement's)
/// over `content` at `at`:
///
/// 1. A detached CMS signature over the exact bytes by a certificate of the axis-log-signer
///    profile that chains to the store, unrevoked at `at` (the signature module's steps): an
///    agency seal or a TLS key cannot sign for the log; in `normal_form`, exactly as the log
///    signer writes it (the low s).
/// 2. If `log_key` is given (DER SubjectPublicKeyInfo), the certificate holds that key: an
///    auditor pins the log it follows, so another log signer of the same PKI cannot stand in.
/// 3. The CMS signing time is the time the content states (`stated.0`); otherwise fails with
///    `stated.1`.
pub(crate) fn verify_log_signature(
    signature: &[u8],
    content: &[u8],
    store: &TrustStore,
    at: OffsetDateTime,
    log_key: Option<&[u8]>,
    normal_form: bool,
    stated: (OffsetDateTime, LogError),
) -> Result<LogSigner, Error> {
    let role = SignatureRole::TreeHead;
    if signature.is_empty() {
        return Err(SignatureError::SealSignatureMissing.into());
    }
    // Step 1.
    let v = if normal_form {
        cms::verify_normal_form(signature, content, role, store, at)?
    } else {
        cms::verify(signature, content, role, store, at)?
    };
    // Step 2.
    if let Some(key) = log_key
        && v.certificate().public_key_der() != key
    {
        return Err(LogError::LogKeyMismatch.into());
    }
    // Step 3.
    if v.signing_time() != stated.0 {
        return Err(stated.1.into());
    }
    Ok(LogSigner {
        signer: v.certificate().common_name().unwrap_or_default().to_owned(),
        signer_key: v.certificate().public_key_der().to_vec(),
        chain: v.certificate().chain().to_vec(),
    })
}

/// A tree head whose signature verified. Only [`SignedTreeHead::verify`] makes one.
#[derive(Clone, Debug)]
pub struct VerifiedTreeHead {
    signed: SignedTreeHead,
    signer: String,
    signer_key: Vec<u8>,
    /// The CA certificates above the log signer's, the trust anchor last.
    chain: Vec<Vec<u8>>,
}

impl VerifiedTreeHead {
    /// The tree head.
    pub fn head(&self) -> &TreeHead {
        &self.signed.head
    }

    /// The signed tree head, to store or forward.
    pub fn signed(&self) -> &SignedTreeHead {
        &self.signed
    }

    /// The log signer's name (certificate common name).
    pub fn signer(&self) -> &str {
        &self.signer
    }

    /// The log signer's public key (DER SubjectPublicKeyInfo).
    pub fn signer_key(&self) -> &[u8] {
        &self.signer_key
    }

    /// The CA certificates above the log signer's on the verified path, the trust anchor last.
    pub(crate) fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// Verifies that `older` is an earlier state of this log: sizes in order and the RFC 9162
    /// consistency proof from `older` to this head.
    pub fn check_extends(&self, older: &TreeHead, proof: &[[u8; 32]]) -> Result<(), Error> {
        let new = self.head();
        axis_log::verify_consistency(
            older.tree_size,
            new.tree_size,
            &older.root_hash,
            &new.root_hash,
            proof,
        )
        .map_err(|source| LogError::ConsistencyProofInvalid { source }.into())
    }
}

/// `SEQUENCE SIZE (0..MAX_PATH_LEN) OF OCTET STRING (SIZE (32))`: an inclusion path.
pub(crate) fn encode_path(path: &[[u8; 32]]) -> Vec<u8> {
    let hashes: Vec<u8> = path
        .iter()
        .map(|h| der::octets(h))
        .collect::<Vec<_>>()
        .concat();
    der::tlv(der::SEQUENCE, &hashes)
}

/// Reads what [`encode_path`] writes, with the length budget.
pub(crate) fn read_path(r: &mut Reader<'_>) -> Result<Vec<[u8; 32]>, Error> {
    let mut p = r.sequence()?;
    let mut path = Vec::new();
    while !p.is_empty() {
        if path.len() == MAX_PATH_LEN {
            return Err(FormatError::TooMany {
                what: "hashes in an inclusion path",
                found: path.len() + 1,
                max: MAX_PATH_LEN,
            }
            .into());
        }
        path.push(p.octets()?);
    }
    Ok(path)
}

/// An entry's proof of inclusion: a signed tree head, the entry's index and its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogProof {
    /// The signed head the path leads to.
    pub tree_head: SignedTreeHead,
    /// The entry's position in the log.
    pub leaf_index: u64,
    /// RFC 9162 inclusion path, leaf level first.
    pub path: Vec<[u8; 32]>,
}

impl LogProof {
    /// The DER encoding.
    pub fn encode(&self) -> Vec<u8> {
        der::seq(&[
            &der::oid(Format::LogProof.oid()),
            &der::uint(1),
            &der::octets(&self.tree_head.bytes),
            &der::octets(&self.tree_head.signature),
            &der::uint(self.leaf_index),
            &encode_path(&self.path),
        ])
    }

    /// Parses untrusted bytes: size budget, strict DER, format and version, path length budget,
    /// and the tree head's own checks.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_LOG_PROOF_LEN {
            return Err(FormatError::TooLarge {
                what: PROOF,
                len: bytes.len() as u64,
                max: MAX_LOG_PROOF_LEN as u64,
            }
            .into());
        }
        let mut r = Format::LogProof.open(bytes, PROOF)?;
        let head = r.octet_string()?;
        let signature = r.octet_string()?.to_vec();
        let tree_head = SignedTreeHead::parse(head, signature)?;
        let leaf_index = r.u64()?;
        let path = read_path(&mut r)?;
        r.finish()?;
        Ok(LogProof {
            tree_head,
            leaf_index,
            path,
        })
    }
}

/// An entry proven to be in the log under a verified tree head. Only [`verify_evidence`]
/// makes one.
#[derive(Clone, Debug)]
pub struct VerifiedEvidence {
    entry: LogEntryBytes,
    leaf_index: u64,
    tree_head: VerifiedTreeHead,
}

impl VerifiedEvidence {
    /// The entry.
    pub fn entry(&self) -> &LogEntryBytes {
        &self.entry
    }

    /// Its position in the log.
    pub fn leaf_index(&self) -> u64 {
        self.leaf_index
    }

    /// The signed tree head that includes it.
    pub fn tree_head(&self) -> &VerifiedTreeHead {
        &self.tree_head
    }
}

/// Verifies that `entry` is in the axis's log: what a sender does with its acceptance receipt,
/// a recipient with the evidence for its receipt, and an auditor with every item of a bundle.
///
/// 1. Both inputs parse within their budgets (strict DER).
/// 2. The tree head's signature verifies at `at` ([`SignedTreeHead::verify`]; pinned to
///    `log_key` if given).
/// 3. The inclusion path leads from the entry's leaf hash at its index to the signed root
///    (RFC 9162 §2.1.3.2): the entry is one the axis committed to, and cannot be changed or
///    removed without a new root that no consistency proof would connect to this one.
/// 4. The entry was logged no later than the head that includes it was signed.
pub fn verify_evidence(
    entry: &[u8],
    proof: &[u8],
    store: &TrustStore,
    at: OffsetDateTime,
    log_key: Option<&[u8]>,
) -> Result<VerifiedEvidence, Error> {
    // Step 1.
    let entry = LogEntryBytes::parse(entry)?;
    let proof = LogProof::parse(proof)?;
    // Step 2.
    let tree_head = proof.tree_head.verify(store, at, log_key)?;
    // Step 3.
    let head = tree_head.head();
    axis_log::verify_inclusion(
        &entry.leaf_hash(),
        proof.leaf_index,
        head.tree_size,
        &proof.path,
        &head.root_hash,
    )
    .map_err(|source| LogError::InclusionProofInvalid { source })?;
    // Step 4.
    // Both times come from the axis's own clock in the same commit: no tolerance.
    if entry.entry.logged_at > head.timestamp {
        return Err(LogError::EntryAfterTreeHead.into());
    }
    Ok(VerifiedEvidence {
        entry,
        leaf_index: proof.leaf_index,
        tree_head,
    })
}
