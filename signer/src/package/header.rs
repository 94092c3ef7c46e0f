//! The routing header: the outer layer the axis reads, signed by the sender's agency seal (the
//! submission signature), so the axis checks origin, sizes and the ciphertext digest without
//! decrypting anything.
//!
//! ```text
//! RoutingHeader ::= SEQUENCE {
//!   format            OBJECT IDENTIFIER,          -- <AXIS_OID_ARC>.2.2
//!   version           INTEGER (2),
//!   binding           SEQUENCE {
//!     messageId         OCTET STRING (SIZE (16)), -- UUID, the idempotency key
//!     sender            UTF8String,               -- agency id
//!     recipients        SEQUENCE SIZE (1..MAX_RECIPIENTS) OF UTF8String,
//!     priority          INTEGER (0..4),
//!     chunkSize         INTEGER,
//!     keyCommitment     OCTET STRING (SIZE (32)), -- SHA-256("…commitment\0" ‖ content key)
//!     keyEnvelopeRoot   OCTET STRING (SIZE (32)) }, -- RFC 9162 root over the envelope entries
//!   ciphertextLength  INTEGER,                    -- bytes of the frame stream
//!   ciphertextDigest  OCTET STRING (SIZE (32)) }  -- SHA-256 of the frame stream
//! ```
//!
//! Version 1 carried the SHA-256 and length of one EnvelopedData for all recipients, which went
//! whole to every recipient (a delivery linear in the recipients, a broadcast quadratic); it is
//! refused ([`FormatError::RetiredVersion`]). The key-envelope tree's size is the number of
//! recipients, which the binding already commits to, so it has no field of its own.
//!
//! Every chunk's AEAD associated data is the *binding digest*: SHA-256 of the header's content
//! octets up to and including `binding` (format, version, binding). It is known before
//! encryption starts, so chunks are bound to this message, its sender, recipients and key,
//! while the ciphertext length and digest, known only at the end, are covered by the signature.

use std::fmt;

use axis_pki::{AgencyId, TrustStore};
use ring::rand::{SecureRandom, SystemRandom};
use time::OffsetDateTime;

use crate::cms::der;
use crate::cms::digest::{Sha256, sha256};
use crate::cms::envelope::RecipientId;
use crate::cms::oid::Format;
use crate::cms::signature::{self, SignatureReport, SignatureRole, Signer};
use crate::error::{
    CertificateError, CiphertextError, EnvelopeError, Error, FormatError, SignatureError,
};
use crate::limits::{
    MAX_CHUNK_SIZE, MAX_CIPHERTEXT_LEN, MAX_HEADER_LEN, MAX_RECIPIENTS, MIN_CHUNK_SIZE,
};
use crate::package::key_envelope::KeyEnvelope;
use crate::package::manifest::Priority;

const WHAT: &str = "routing header";
/// The version this code writes and reads.
const VERSION: u64 = 2;

/// A message id: a UUID the sender picks, the idempotency key of a submission.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(uuid::Uuid);

impl MessageId {
    /// A fresh random (version 4) UUID from the system random generator.
    pub fn random() -> Result<Self, Error> {
        let mut b = [0u8; 16];
        SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| Error::Crypto { op: "random" })?;
        Ok(MessageId(uuid::Builder::from_random_bytes(b).into_uuid()))
    }

    /// From a UUID.
    pub fn from_uuid(id: uuid::Uuid) -> Self {
        MessageId(id)
    }

    /// Parses the hyphenated text form.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.len() > 64 {
            return Err(FormatError::Malformed { what: "message id" }.into());
        }
        uuid::Uuid::try_parse(s)
            .map(MessageId)
            .map_err(|_| FormatError::Malformed { what: "message id" }.into())
    }

    /// The UUID.
    pub fn as_uuid(&self) -> &uuid::Uuid {
        &self.0
    }

    /// The 16 octets.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

/// The fields of a routing header. Read them from [`HeaderBytes::header`]; the sealer writes
/// them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingHeader {
    /// Idempotency key.
    pub message_id: MessageId,
    /// The sending agency.
    pub sender: AgencyId,
    /// The recipient agencies (distinct).
    pub recipients: Vec<AgencyId>,
    /// Urgency (same as the manifest's).
    pub priority: Priority,
    /// Plaintext bytes per chunk (all but the last chunk of each part).
    pub chunk_size: u32,
    /// Commitment to the content key.
    pub key_commitment: [u8; 32],
    /// Merkle root (RFC 9162) over the key envelope's entries, one per recipient in order.
    pub key_envelope_root: [u8; 32],
    /// Size of the ciphertext (frame stream).
    pub ciphertext_len: u64,
    /// SHA-256 of the ciphertext (frame stream).
    pub ciphertext_digest: [u8; 32],
}

impl RoutingHeader {
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.recipients.is_empty() {
            return Err(FormatError::NoRecipients.into());
        }
        if self.recipients.len() > MAX_RECIPIENTS {
            return Err(FormatError::TooManyRecipients {
                found: self.recipients.len(),
                max: MAX_RECIPIENTS,
            }
            .into());
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.recipients {
            if !seen.insert(r) {
                return Err(FormatError::DuplicateRecipient { agency: r.clone() }.into());
            }
        }
        check_chunk_size(self.chunk_size)?;
        if self.ciphertext_len > MAX_CIPHERTEXT_LEN {
            return Err(FormatError::TooLarge {
                what: "ciphertext",
                len: self.ciphertext_len,
                max: MAX_CIPHERTEXT_LEN,
            }
            .into());
        }
        Ok(())
    }

    /// The prefix (format, version, binding) whose SHA-256 is the chunks' associated data.
    pub(crate) fn encode_prefix(&self) -> Vec<u8> {
        let recipients: Vec<u8> = self
            .recipients
            .iter()
            .flat_map(|r| der::utf8(r.as_str()))
            .collect();
        let binding = der::seq(&[
            &der::octets(self.message_id.as_bytes()),
            &der::utf8(self.sender.as_str()),
            &der::tlv(der::SEQUENCE, &recipients),
            &der::uint(u64::from(self.priority.code())),
            &der::uint(u64::from(self.chunk_size)),
            &der::octets(&self.key_commitment),
            &der::octets(&self.key_envelope_root),
        ]);
        [
            der::oid(Format::RoutingHeader.oid()),
            der::uint(VERSION),
            binding,
        ]
        .concat()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        der::seq(&[
            &self.encode_prefix(),
            &der::uint(self.ciphertext_len),
            &der::octets(&self.ciphertext_digest),
        ])
    }
}

pub(crate) fn check_chunk_size(size: u32) -> Result<(), Error> {
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&size) {
        return Err(FormatError::ChunkSizeOutOfRange {
            size: u64::from(size),
            min: MIN_CHUNK_SIZE,
            max: MAX_CHUNK_SIZE,
        }
        .into());
    }
    Ok(())
}

/// A checked routing header with its exact bytes. Not yet known to come from its sender: that is
/// [`VerifiedSubmission`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderBytes {
    bytes: Vec<u8>,
    header: RoutingHeader,
    binding_digest: [u8; 32],
}

impl HeaderBytes {
    /// Checks and encodes header fields ([`crate::Sealer`] makes the header of every document
    /// it seals; this is for tools and tests that build one themselves).
    pub fn from_header(header: RoutingHeader) -> Result<Self, Error> {
        header.check()?;
        Ok(HeaderBytes {
            bytes: header.encode(),
            binding_digest: sha256(&header.encode_prefix()),
            header,
        })
    }

    /// Parses untrusted bytes.
    ///
    /// 1. Size budget ([`MAX_HEADER_LEN`]).
    /// 2. Strict DER, the routing-header format OID, version 2 (version 1 is
    ///    [`FormatError::RetiredVersion`]).
    /// 3. Recipients: count budget while reading, well-formed and distinct agency ids.
    /// 4. Chunk size and ciphertext size within their budgets.
    /// 5. Re-encoding gives the same bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_HEADER_LEN {
            return Err(FormatError::TooLarge {
                what: WHAT,
                len: bytes.len() as u64,
                max: MAX_HEADER_LEN as u64,
            }
            .into());
        }
        let (mut r, version) = Format::RoutingHeader.open_versions(bytes, WHAT, VERSION)?;
        if version != VERSION {
            return Err(FormatError::RetiredVersion {
                what: WHAT,
                version,
                current: VERSION,
                why: "the key envelope is now one entry per recipient under a Merkle root \
                      (FORMATS.md §6.3, §7)",
            }
            .into());
        }
        let mut b = r.sequence()?;
        let message_id = MessageId(uuid::Uuid::from_bytes(b.octets()?));
        let sender = agency("sender", b.utf8()?)?;
        let mut rl = b.sequence()?;
        let mut recipients = Vec::new();
        while !rl.is_empty() {
            if recipients.len() == MAX_RECIPIENTS {
                return Err(FormatError::TooManyRecipients {
                    found: recipients.len() + 1,
                    max: MAX_RECIPIENTS,
                }
                .into());
            }
            recipients.push(agency("recipient", rl.utf8()?)?);
        }
        let priority = Priority::from_code(b.u64()?)?;
        let chunk_size = u32::try_from(b.u64()?).map_err(|_| FormatError::ChunkSizeOutOfRange {
            size: u64::MAX,
            min: MIN_CHUNK_SIZE,
            max: MAX_CHUNK_SIZE,
        })?;
        let header = RoutingHeader {
            message_id,
            sender,
            recipients,
            priority,
            chunk_size,
            key_commitment: b.octets()?,
            key_envelope_root: b.octets()?,
            ciphertext_len: r.u64()?,
            ciphertext_digest: r.octets()?,
        };
        b.finish()?;
        r.finish()?;
        let parsed = HeaderBytes::from_header(header)?;
        if parsed.bytes != bytes {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        Ok(parsed)
    }

    /// The exact bytes the submission signature covers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The fields.
    pub fn header(&self) -> &RoutingHeader {
        &self.header
    }

    /// The binding digest: SHA-256 of the header up to and including `binding`; every chunk's
    /// AES-GCM associated data (an auditor holding the content key needs it to decrypt).
    pub fn binding_digest(&self) -> &[u8; 32] {
        &self.binding_digest
    }
}

fn agency(field: &'static str, s: &str) -> Result<AgencyId, Error> {
    AgencyId::parse(s).map_err(|source| FormatError::AgencyId { field, source }.into())
}

/// A routing header with the sender's submission signature, as the axis receives it.
#[derive(Clone, Debug)]
pub struct Submission {
    header: HeaderBytes,
    signature: Vec<u8>,
}

impl Submission {
    /// Signs a header with the sender's agency seal ([`crate::Sealer::finish`] does this for
    /// every document it seals; the axis accepts nothing more for it, since a sender can sign
    /// whatever header it likes and the axis checks the header against the rest).
    pub fn sign(header: HeaderBytes, seal: &Signer<'_>, at: OffsetDateTime) -> Result<Self, Error> {
        let signature = signature::sign_detached(header.as_bytes(), seal, at)?;
        Ok(Submission { header, signature })
    }

    /// Parses a received header and keeps its signature for [`Submission::verify`].
    pub fn parse(header: &[u8], signature: Vec<u8>) -> Result<Self, Error> {
        Ok(Submission {
            header: HeaderBytes::parse(header)?,
            signature,
        })
    }

    /// The header.
    pub fn header(&self) -> &HeaderBytes {
        &self.header
    }

    /// The submission signature (CMS SignedData, DER, detached over the header bytes).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Verifies the submission signature at `at`.
    ///
    /// 1. The signature verifies over the exact header bytes with an agency-seal certificate
    ///    chaining to the store, unrevoked at `at` (see the signature module's steps).
    /// 2. The certificate's agency is the header's sender: an agency cannot submit in another's
    ///    name.
    pub fn verify(
        &self,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedSubmission, Error> {
        let role = SignatureRole::Submission;
        if self.signature.is_empty() {
            return Err(SignatureError::SealSignatureMissing.into());
        }
        let v =
            signature::verify_detached(&self.signature, self.header.as_bytes(), role, store, at)?;
        let sender = &self.header.header.sender;
        if &v.report.agency != sender {
            return Err(CertificateError::SignerAgencyMismatch {
                role,
                expected: sender.clone(),
                found: v.report.agency,
            }
            .into());
        }
        Ok(VerifiedSubmission {
            submission: self.clone(),
            report: v.report,
        })
    }
}

/// A submission whose signature verified for its sender. Only [`Submission::verify`] makes one.
#[derive(Clone, Debug)]
pub struct VerifiedSubmission {
    submission: Submission,
    report: SignatureReport,
}

impl VerifiedSubmission {
    /// The header.
    pub fn header(&self) -> &RoutingHeader {
        &self.submission.header.header
    }

    /// The header bytes.
    pub fn header_bytes(&self) -> &HeaderBytes {
        &self.submission.header
    }

    /// The submission (header and signature), to store or forward.
    pub fn submission(&self) -> &Submission {
        &self.submission
    }

    /// Who signed the submission.
    pub fn report(&self) -> &SignatureReport {
        &self.report
    }

    /// Reads a key envelope and checks it is the one the header names (the axis does this on
    /// submission): one entry per recipient and the header's Merkle root over them; otherwise
    /// [`EnvelopeError::KeyEnvelopeMismatch`]. Budgets and strict DER first
    /// ([`KeyEnvelope::parse`]).
    pub fn check_key_envelope(&self, envelope: &[u8]) -> Result<KeyEnvelope, Error> {
        let parsed = KeyEnvelope::parse(envelope)?;
        let h = self.header();
        if parsed.len() != h.recipients.len() || parsed.root() != h.key_envelope_root {
            return Err(EnvelopeError::KeyEnvelopeMismatch.into());
        }
        Ok(parsed)
    }

    /// Checks that the key envelope is sealed for exactly the header's recipients: `current`
    /// gives, for each recipient, the identifier of its encryption certificate in force (the
    /// axis takes them from its directory). The entries name their certificates in clear, so
    /// this needs no key; run it on what [`VerifiedSubmission::check_key_envelope`] returned.
    ///
    /// 1. `current` names every header recipient once, and no other agency ([`Error::Misuse`]
    ///    otherwise: the caller's lookup is wrong, not the sender).
    /// 2. Entry `i` is for the current certificate of the header's recipient `i`, and there are
    ///    as many entries as recipients: a header rewritten to add a recipient the envelope does
    ///    not serve (which could then neither open nor refuse the document), an entry sealed for
    ///    an old or foreign certificate or out of place, or an entry for no recipient, are all
    ///    [`EnvelopeError::RecipientsMismatch`].
    pub fn check_envelope_recipients(
        &self,
        envelope: &KeyEnvelope,
        current: &[(AgencyId, RecipientId)],
    ) -> Result<(), Error> {
        // Step 1.
        let recipients = &self.header().recipients;
        if current.len() != recipients.len()
            || !recipients
                .iter()
                .all(|r| current.iter().filter(|(a, _)| a == r).count() == 1)
        {
            return Err(Error::Misuse {
                reason: "the current certificates must name each header recipient once",
            });
        }
        // Step 2.
        let entries = envelope.recipient_ids()?;
        let mut missing = Vec::new();
        for (i, r) in recipients.iter().enumerate() {
            let id = current
                .iter()
                .find(|(a, _)| a == r)
                .map(|(_, id)| id)
                .ok_or(Error::Misuse {
                    reason: "a recipient without its certificate",
                })?;
            if entries.get(i) != Some(id) {
                missing.push(r.clone());
            }
        }
        let unexpected = entries.len().saturating_sub(recipients.len());
        if !missing.is_empty() || unexpected != 0 {
            return Err(EnvelopeError::RecipientsMismatch {
                missing,
                unexpected,
            }
            .into());
        }
        Ok(())
    }

    /// Starts checking the ciphertext stream against the header's length and digest (the axis
    /// does this while the stream arrives, without the key).
    pub fn ciphertext_check(&self) -> CiphertextCheck {
        CiphertextCheck {
            expected_len: self.header().ciphertext_len,
            expected_digest: self.header().ciphertext_digest,
            len: 0,
            ctx: Sha256::new(),
        }
    }
}

/// Streaming check of a ciphertext against its header: length as it goes, digest at the end.
pub struct CiphertextCheck {
    expected_len: u64,
    expected_digest: [u8; 32],
    len: u64,
    ctx: Sha256,
}

impl CiphertextCheck {
    /// Adds bytes; fails as soon as the stream is longer than announced.
    pub fn update(&mut self, data: &[u8]) -> Result<(), CiphertextError> {
        self.len += data.len() as u64;
        if self.len > self.expected_len {
            return Err(CiphertextError::CiphertextLengthMismatch {
                expected: self.expected_len,
                found: self.len,
            });
        }
        self.ctx.update(data);
        Ok(())
    }

    /// Checks length and digest.
    pub fn finish(self) -> Result<(), CiphertextError> {
        if self.len != self.expected_len {
            return Err(CiphertextError::CiphertextLengthMismatch {
                expected: self.expected_len,
                found: self.len,
            });
        }
        if self.ctx.finish() != self.expected_digest {
            return Err(CiphertextError::CiphertextDigestMismatch);
        }
        Ok(())
    }
}
