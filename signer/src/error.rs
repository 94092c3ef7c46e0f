//! The crate's one error type, by category (as rustls groups its errors): [`Error`] says which
//! kind of failure it is — a malformed structure, a caller's key, a signature, a signing time, a
//! signer's certificate, the key envelope, the stream, the ciphertext, a receipt chain — and the
//! category's own enum says exactly what.
//!
//! A caller (the axis's status mapping, the SDK) matches [`Error`] once per category; [`Error`]
//! is deliberately not `#[non_exhaustive]`, so a new category fails their build instead of
//! falling into a `_ =>` default. The categories a caller must tell apart variant by variant
//! ([`CertificateError`]: revoked, untrusted, another agency; [`CiphertextError`]: length or
//! digest) are not `#[non_exhaustive]` either; the others may grow.

use axis_pki::{AgencyId, AgencyIdError, Profile, RevocationReason, Serial};
use time::OffsetDateTime;

use crate::cms::signature::SignatureRole;
use crate::receipt::StatusCode;

/// Which digest a receipt disagrees on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestKind {
    /// SHA-256 of the manifest bytes.
    Manifest,
    /// SHA-256 of the ciphertext stream.
    Ciphertext,
}

/// Everything that can go wrong in the signer, by category. Variants carry the context a person
/// or a program needs to act (which part, which chunk, which signature, which agency); none
/// carries key material or document content. Messages are the category's own.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bytes or values that are not a well-formed Axis structure: strict DER, format and version,
    /// budgets, field rules (untrusted bytes, or values a caller gave to be encoded).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A key or certificate the caller handed in does not fit its use (programming or configuration
    /// errors, not untrusted input).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A CMS signature is absent, not of the form Axis writes, or does not verify.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A signature's signing time is not acceptable at the verification time.
    #[error(transparent)]
    SigningTime(#[from] SigningTimeError),
    /// A signer's certificate is not acceptable: revoked, not trusted, or of another agency.
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// The key envelope (CMS EnvelopedData) cannot give this recipient the content key.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The encrypted stream, or what it carries, is not the sender's: authentication, order,
    /// completeness, attachments, agreement of the signed header and manifest.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// The ciphertext is not the one the signed routing header announces (what the axis checks,
    /// keyless, on every upload).
    #[error(transparent)]
    Ciphertext(#[from] CiphertextError),
    /// A receipt or status does not continue its document's chain: party, subject, digests, hash
    /// chain, transitions, order in time, length.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The system random generator or a cryptographic library failed unexpectedly.
    #[error("cryptographic operation failed: {op}")]
    Crypto {
        /// The operation.
        op: &'static str,
    },
    /// The API was used as it does not allow: calls out of order, or something that cannot be
    /// signed.
    #[error("misuse: {reason}")]
    Misuse {
        /// What went wrong.
        reason: &'static str,
    },
}

/// Bytes or values that are not a well-formed Axis structure: strict DER, format and version,
/// budgets, field rules (untrusted bytes, or values a caller gave to be encoded).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Bytes are not the strict DER encoding of the named structure.
    #[error("malformed {what}")]
    Malformed {
        /// The structure being read.
        what: &'static str,
    },
    /// A structure of another kind (a receipt where a manifest was expected, …).
    #[error("not a {expected}: the format identifier differs")]
    WrongFormat {
        /// What was expected.
        expected: &'static str,
    },
    /// A format version this code does not read.
    #[error("{what} version {version} is not supported by this code")]
    UnsupportedVersion {
        /// The structure.
        what: &'static str,
        /// The version found.
        version: u64,
    },
    /// A format version this code no longer reads because a later one replaced it (a routing
    /// header of version 1, whose key envelope went whole to every recipient).
    #[error(
        "{what} version {version} is no longer accepted: version {current} replaced it ({why})"
    )]
    RetiredVersion {
        /// The structure.
        what: &'static str,
        /// The version found.
        version: u64,
        /// The version this code reads.
        current: u64,
        /// What changed.
        why: &'static str,
    },
    /// An input is larger than its budget.
    #[error("{what} is {len} bytes; the limit is {max}")]
    TooLarge {
        /// What was measured.
        what: &'static str,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A text field is longer than the edXML limit.
    #[error("{field} is {len} characters; the limit is {max}")]
    FieldTooLong {
        /// Which field.
        field: &'static str,
        /// Its length in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A required text field is empty.
    #[error("{field} is required")]
    FieldEmpty {
        /// Which field.
        field: &'static str,
    },
    /// A text field holds characters or a shape it may not have.
    #[error("{field} is not valid: {reason}")]
    FieldInvalid {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A list is longer than its budget.
    #[error("{what}: {found} entries; the limit is {max}")]
    TooMany {
        /// Which list.
        what: &'static str,
        /// How many there were.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// More recipient agencies than a document may have.
    #[error("{found} recipients; the limit is {max}")]
    TooManyRecipients {
        /// How many there were.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// A document has no recipient.
    #[error("a document needs at least one recipient agency")]
    NoRecipients,
    /// The sender is among the recipients: an agency files its own documents in its own DMS,
    /// not through the axis.
    #[error("agency {agency} is both the sender and a recipient")]
    SenderIsRecipient {
        /// The agency.
        agency: AgencyId,
    },
    /// The same agency is listed twice as a recipient.
    #[error("recipient {agency} is listed twice")]
    DuplicateRecipient {
        /// The agency.
        agency: AgencyId,
    },
    /// An agency identifier in a field is malformed.
    #[error("{field}: {source}")]
    AgencyId {
        /// Which field.
        field: &'static str,
        /// Why.
        source: AgencyIdError,
    },
    /// A DocumentId is not `<OrganId>,<yyyy/MM/dd>,<CodeNumber>/<CodeNotation>`.
    #[error("malformed DocumentId: {reason}")]
    DocumentIdMalformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// A date is not `yyyy/MM/dd` or not a calendar date.
    #[error("{field} is not a yyyy/MM/dd date")]
    DateMalformed {
        /// Which field.
        field: &'static str,
    },
    /// Priority outside 0–4.
    #[error("priority {value} is outside 0–4")]
    PriorityOutOfRange {
        /// The value.
        value: u64,
    },
    /// Business type outside 0–3.
    #[error("business type {value} is not 0 (new), 1 (recall), 2 (update) or 3 (replace)")]
    BusinessTypeUnknown {
        /// The value.
        value: u64,
    },
    /// A status code edXML does not define.
    #[error("status code {value:02} is not one of 01–06, 13, 15, 16")]
    StatusCodeUnknown {
        /// The value.
        value: u64,
    },
    /// A time cannot be written (outside years 0–9999).
    #[error("time is outside the years 0–9999")]
    TimeOutOfRange,
    /// A chunk size outside the allowed range.
    #[error("chunk size {size} is outside {min}–{max} bytes")]
    ChunkSizeOutOfRange {
        /// The size.
        size: u64,
        /// Smallest allowed.
        min: u32,
        /// Largest allowed.
        max: u32,
    },
}

/// A key or certificate the caller handed in does not fit its use (programming or configuration
/// errors, not untrusted input).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A private key does not belong to the certificate it is used with.
    #[error("the {role} key does not match its certificate")]
    KeyMismatch {
        /// Which key.
        role: SignatureRole,
    },
    /// A decryption key does not match the encryption certificate.
    #[error("the decryption key does not match the encryption certificate")]
    DecryptionKeyMismatch,
    /// A key or certificate is not well-formed or not of a type Axis uses.
    #[error("unsupported or malformed key: Axis uses RSA 2048–4096 and ECDSA/ECDH P-256")]
    UnsupportedKey,
    /// A certificate verified for one profile was given where another is needed.
    #[error("a {found} certificate was given where a {expected} certificate is needed")]
    WrongCertificateProfile {
        /// Needed.
        expected: Profile,
        /// Given.
        found: Profile,
    },
    /// A certificate of an agency profile carries no agency id.
    #[error("the {profile} certificate carries no agency id")]
    CertificateWithoutAgency {
        /// Its profile.
        profile: Profile,
    },
    /// The signing key failed to sign: a token removed or logged out, a key not allowed to sign.
    #[error("the signing key failed: {0}")]
    Signing(axis_pki::KeyOpError),
    /// The decryption key's device failed (a token removed or logged out): not a property of
    /// the envelope, which may well open once the token is back.
    #[error("the decryption key failed: {0}")]
    Decryption(axis_pki::KeyOpError),
}

/// A CMS signature is absent, not of the form Axis writes, or does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The CMS signature carries its content; Axis signatures are detached.
    #[error("the {role} signature is not detached")]
    NotDetached {
        /// Which signature.
        role: SignatureRole,
    },
    /// An algorithm other than SHA-256 with RSA PKCS#1 v1.5 or ECDSA P-256.
    #[error("the {role} signature uses an unsupported {what}")]
    UnsupportedAlgorithm {
        /// Which signature.
        role: SignatureRole,
        /// Which algorithm slot.
        what: &'static str,
    },
    /// A signature that verifies but is not in the one byte form Axis writes (the parts the
    /// signature does not cover: algorithm parameters, the certificate set, the order of a SET,
    /// unsigned attributes, an ECDSA value's high s). Required where evidence must have one
    /// byte form.
    #[error("the {role} signature is not in the one form Axis writes: {part}")]
    NotNormalForm {
        /// Which signature.
        role: SignatureRole,
        /// The part that differs.
        part: &'static str,
    },
    /// A required signed attribute is absent (RFC 5652 §11, CAdES-BES).
    #[error("the {role} signature lacks a single {attribute} signed attribute")]
    SignedAttributeMissing {
        /// Which signature.
        role: SignatureRole,
        /// The attribute.
        attribute: &'static str,
    },
    /// A signed attribute appears twice, or with more than one value (RFC 5652 §11).
    #[error("the {role} signature carries its {attribute} signed attribute more than once")]
    SignedAttributeRepeated {
        /// Which signature.
        role: SignatureRole,
        /// The attribute.
        attribute: &'static str,
    },
    /// A signed attribute that is neither required by the profile nor one of the harmless
    /// ones other CMS stacks add (CMSAlgorithmProtection, smimeCapabilities).
    #[error("the {role} signature carries the signed attribute {oid}, which Axis does not accept")]
    SignedAttributeUnknown {
        /// Which signature.
        role: SignatureRole,
        /// The attribute's OID, dotted.
        oid: String,
    },
    /// The CMSAlgorithmProtection attribute names other algorithms than the signature uses
    /// (RFC 6211: an algorithm substitution).
    #[error("the {role} signature's CMSAlgorithmProtection does not name the algorithms it uses")]
    AlgorithmProtectionMismatch {
        /// Which signature.
        role: SignatureRole,
    },
    /// The signature covers other bytes than those presented (messageDigest differs).
    #[error("the {role} signature was made over different content")]
    ContentDigestMismatch {
        /// Which signature.
        role: SignatureRole,
    },
    /// The signing-certificate-v2 attribute names another certificate than the signer's.
    #[error("the {role} signature's signing-certificate-v2 does not match the signer certificate")]
    SigningCertificateMismatch {
        /// Which signature.
        role: SignatureRole,
    },
    /// The signer's certificate is not in the signature.
    #[error("the {role} signature does not carry its signer's certificate")]
    SignerCertificateMissing {
        /// Which signature.
        role: SignatureRole,
    },
    /// The signature value does not verify with the signer's public key.
    #[error("the {role} signature value is invalid")]
    BadSignature {
        /// Which signature.
        role: SignatureRole,
    },
    /// A document without the personal signature of the person with authority.
    #[error("the document has no personal signature")]
    PersonalSignatureMissing,
    /// A personal signature beside a manifest that says no personal signature was made
    /// through Axis (`sealOnly`).
    #[error("the manifest says sealOnly, but the document carries a personal signature")]
    PersonalSignatureUnexpected,
    /// A document without the agency seal.
    #[error("the document has no agency seal signature")]
    SealSignatureMissing,
    /// The seal is dated before the personal signature it follows.
    #[error("the agency seal ({seal}) is dated before the personal signature ({personal})")]
    SealBeforePersonalSignature {
        /// Personal signing time.
        personal: OffsetDateTime,
        /// Seal signing time.
        seal: OffsetDateTime,
    },
    /// A receipt's CMS signing time is not the time the receipt states.
    #[error("the receipt states {time} but its signature claims {signing_time}")]
    ReceiptTimeMismatch {
        /// The receipt's `time`.
        time: OffsetDateTime,
        /// Its CMS signingTime.
        signing_time: OffsetDateTime,
    },
}

/// A signature's signing time is not acceptable at the verification time.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningTimeError {
    /// The signing time is later than the verification time.
    #[error("the {role} signature claims to be made at {signing_time}, after {at}")]
    SigningTimeInFuture {
        /// Which signature.
        role: SignatureRole,
        /// Claimed signing time.
        signing_time: OffsetDateTime,
        /// Verification time.
        at: OffsetDateTime,
    },
    /// The signing time is outside the signer certificate's validity.
    #[error("the {role} signature time {signing_time} is outside its certificate's validity")]
    SigningTimeOutsideValidity {
        /// Which signature.
        role: SignatureRole,
        /// Claimed signing time.
        signing_time: OffsetDateTime,
    },
}

/// A signer's certificate is not acceptable: revoked, not trusted, or of another agency.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The signer's certificate is revoked.
    #[error("the {role} certificate {serial} was revoked at {revoked_at} ({reason:?})")]
    SignerRevoked {
        /// Which signature.
        role: SignatureRole,
        /// Serial of the revoked certificate.
        serial: Serial,
        /// When.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
    /// The signer's certificate failed chain verification (chain, time, profile, CRL).
    #[error("the {role} certificate is not trusted: {source}")]
    SignerCertificateRejected {
        /// Which signature.
        role: SignatureRole,
        /// What the PKI said.
        source: axis_pki::Error,
    },
    /// The certificate names another agency than the one the document or header names.
    #[error("the {role} certificate belongs to {found}, not {expected}")]
    SignerAgencyMismatch {
        /// Which signature.
        role: SignatureRole,
        /// The agency the document names.
        expected: AgencyId,
        /// The agency in the certificate.
        found: AgencyId,
    },
    /// The person the manifest names as signer (`SignerInfo`) is not the holder of the
    /// personal certificate that signed: a DMS would record a name nobody's key stands behind.
    /// (The names themselves are personal data and stay out of the message.)
    #[error(
        "the manifest's signer {field} is not the personal certificate's ({certificate_field})"
    )]
    SignerNameMismatch {
        /// The manifest field ("full name", "position").
        field: &'static str,
        /// The certificate attribute it must equal ("common name", "title").
        certificate_field: &'static str,
    },
}

/// The key envelope (CMS EnvelopedData) cannot give this recipient the content key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// This agency is not among the header's recipients.
    #[error("agency {agency} is not a recipient of this document")]
    NotARecipient {
        /// The agency that tried to open it.
        agency: AgencyId,
    },
    /// The recipient's key-envelope entry is not for this encryption certificate.
    #[error("the key envelope has no entry for this encryption certificate (key rotated?)")]
    NoRecipientInfo,
    /// The content key could not be unwrapped (OAEP decoding or AES key-wrap integrity).
    #[error("the content key could not be unwrapped for this recipient")]
    KeyUnwrapFailed,
    /// The key envelope, or a recipient's entry and its audit path, is not what the signed
    /// header's Merkle root commits to (or is not at the recipient's position).
    #[error("the key envelope does not match the root in the signed routing header")]
    KeyEnvelopeMismatch,
    /// The key envelope is not sealed for exactly the header's recipients, by the encryption
    /// certificates given: a recipient could not open the document, or another could.
    #[error(
        "the key envelope is not sealed for exactly the routing header's recipients: {}{}",
        if missing.is_empty() { "every recipient has an entry".to_owned() } else {
            format!("no entry in its place for the current certificate of {}", missing.iter().map(AgencyId::as_str).collect::<Vec<_>>().join(", "))
        },
        if *unexpected == 0 { String::new() } else {
            format!("; {unexpected} entries for no recipient")
        }
    )]
    RecipientsMismatch {
        /// Recipients whose entry (at their position in the header) is not for their current
        /// encryption certificate.
        missing: Vec<AgencyId>,
        /// Entries beyond the header's recipients.
        unexpected: usize,
    },
    /// The unwrapped content key is not the one the signed header commits to.
    #[error("the unwrapped content key does not match the header's key commitment")]
    KeyCommitmentMismatch,
}

/// The encrypted stream, or what it carries, is not the sender's: authentication, order,
/// completeness, attachments, agreement of the signed header and manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A chunk failed authentication: flipped bits, or a frame rewritten to look right.
    #[error("chunk {index} of part {part} failed authentication")]
    ChunkAuthFailed {
        /// Part number (0 manifest, 1 personal signature, 2 seal, 3+ attachments).
        part: u32,
        /// Chunk number within the part.
        index: u32,
    },
    /// A chunk carries the stream tag of another document.
    #[error("chunk {index} of part {part} belongs to another document")]
    ChunkFromOtherDocument {
        /// Part number.
        part: u32,
        /// Chunk number.
        index: u32,
    },
    /// A chunk arrives out of order within its part.
    #[error("part {part}: expected chunk {expected}, found chunk {found}")]
    ChunkOutOfOrder {
        /// Part number.
        part: u32,
        /// Expected chunk number.
        expected: u32,
        /// Found chunk number.
        found: u32,
    },
    /// A chunk of another part arrives (a part was cut short or parts were reordered).
    #[error("expected a chunk of part {expected}, found part {found}")]
    PartOutOfOrder {
        /// Expected part.
        expected: u32,
        /// Found part.
        found: u32,
    },
    /// A frame whose length or flags do not fit the chunking rules.
    #[error("chunk {index} of part {part} has an invalid frame ({reason})")]
    FrameInvalid {
        /// Part number.
        part: u32,
        /// Chunk number.
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// The stream ended before the last chunk of every part.
    #[error("the ciphertext ends in part {part} after {chunks} chunks: truncated")]
    Truncated {
        /// The unfinished part.
        part: u32,
        /// Chunks of it received.
        chunks: u32,
    },
    /// Frames after the last part.
    #[error("data after the last chunk of the document")]
    TrailingData,
    /// An attachment's size differs from the manifest.
    #[error("attachment {index} is {found} bytes; the manifest says {expected}")]
    AttachmentSizeMismatch {
        /// Attachment number.
        index: usize,
        /// From the manifest.
        expected: u64,
        /// Found (at least).
        found: u64,
    },
    /// An attachment's SHA-256 differs from the manifest.
    #[error("attachment {index} does not match its SHA-256 in the manifest")]
    AttachmentDigestMismatch {
        /// Attachment number.
        index: usize,
    },
    /// The signed routing header and the signed manifest disagree.
    #[error("the routing header and the manifest disagree on {field}")]
    HeaderManifestMismatch {
        /// Which field.
        field: &'static str,
    },
}

/// The ciphertext is not the one the signed routing header announces (what the axis checks,
/// keyless, on every upload).
#[derive(Debug, thiserror::Error)]
pub enum CiphertextError {
    /// The ciphertext length differs from the signed header.
    #[error("the ciphertext is {found} bytes; the header says {expected}")]
    CiphertextLengthMismatch {
        /// From the header.
        expected: u64,
        /// Found.
        found: u64,
    },
    /// The ciphertext digest differs from the signed header.
    #[error("the ciphertext does not match the SHA-256 in the signed routing header")]
    CiphertextDigestMismatch,
}

/// A receipt or status does not continue its document's chain: party, subject, digests, hash
/// chain, transitions, order in time, length.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A receipt is about another message or document.
    #[error("the receipt is about another {field}")]
    ReceiptSubjectMismatch {
        /// Which field differs.
        field: &'static str,
    },
    /// A receipt commits to another digest than the document's.
    #[error("the receipt's {kind:?} digest differs from the document's")]
    ReceiptDigestMismatch {
        /// Which digest.
        kind: DigestKind,
    },
    /// A receipt does not commit to the previous receipt of the chain.
    #[error("receipt {position} does not commit to the previous receipt of the chain")]
    ReceiptChainBroken {
        /// Position in the chain (0 first).
        position: usize,
    },
    /// A status that may not follow the previous one.
    #[error("status {to} may not follow {}", from.map_or("nothing".to_owned(), |f| f.to_string()))]
    StatusTransitionNotAllowed {
        /// Previous status (`None`: the chain is empty).
        from: Option<StatusCode>,
        /// The status that came.
        to: StatusCode,
    },
    /// A status sent by the wrong party (13 by the sender, the rest by the recipient).
    #[error("status {status} must be sent by {expected}, not {found}")]
    StatusFromWrongParty {
        /// The status.
        status: StatusCode,
        /// Who must send it.
        expected: AgencyId,
        /// Who did.
        found: AgencyId,
    },
    /// A receipt dated before the one it follows.
    #[error("receipt {position} is dated before the previous receipt")]
    ReceiptTimeBeforePrevious {
        /// Position in the chain.
        position: usize,
    },
    /// The chain is as long as a chain may be.
    #[error("receipts in a chain: {found} entries; the limit is {max}")]
    TooLong {
        /// How many receipts there would be.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// The agency is not a recipient of the document, so it has no chain.
    #[error("agency {agency} is not a recipient of this document")]
    NotARecipient {
        /// The agency.
        agency: AgencyId,
    },
}

impl Error {
    /// Maps a PKI error on a signer certificate, lifting revocation of the signer itself to its
    /// own variant.
    pub(crate) fn from_pki(role: SignatureRole, e: axis_pki::Error) -> Self {
        match e {
            axis_pki::Error::Revoked {
                depth: 0,
                serial,
                revoked_at,
                reason,
            } => CertificateError::SignerRevoked {
                role,
                serial,
                revoked_at,
                reason,
            }
            .into(),
            source => CertificateError::SignerCertificateRejected { role, source }.into(),
        }
    }
}

/// How the axis refuses a signature that failed verification: the categories of its
/// machine-readable reasons (`axis_proto::reasons`: `SIGNATURE_INVALID`,
/// `CERTIFICATE_REVOKED`, `CERTIFICATE_REJECTED`, `SIGNER_AGENCY_MISMATCH`,
/// `SIGNING_TIME_INVALID`). [`Error::signature_refusal`] is the one classification of the
/// signer's errors into them: the axis answers with it for every signature it checks, and the
/// SDK with it for a personal signature made elsewhere, so both give the same reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureRefusal {
    /// The signature does not verify (or its structure, or the bytes and keys around it, are
    /// wrong).
    Invalid,
    /// The signer's certificate is revoked.
    CertificateRevoked,
    /// The signer's certificate does not verify for its use (chain, validity, profile, CRL),
    /// or is not the holder's the manifest names.
    CertificateRejected,
    /// The signing certificate belongs to another agency than the one named.
    SignerAgencyMismatch,
    /// The signing time is in the future or outside the certificate's validity.
    SigningTimeInvalid,
}

impl SignatureRefusal {
    /// Every value, for tests.
    pub const ALL: [SignatureRefusal; 5] = [
        SignatureRefusal::Invalid,
        SignatureRefusal::CertificateRevoked,
        SignatureRefusal::CertificateRejected,
        SignatureRefusal::SignerAgencyMismatch,
        SignatureRefusal::SigningTimeInvalid,
    ];

    /// Its machine-readable reason, as `axis_proto::reasons` names it (the signer does not
    /// depend on the wire contract; the server's census of reasons checks that each is one of
    /// `axis_proto::reasons::ALL`, and its tests that each is the right one).
    pub fn reason(self) -> &'static str {
        match self {
            SignatureRefusal::Invalid => "SIGNATURE_INVALID",
            SignatureRefusal::CertificateRevoked => "CERTIFICATE_REVOKED",
            SignatureRefusal::CertificateRejected => "CERTIFICATE_REJECTED",
            SignatureRefusal::SignerAgencyMismatch => "SIGNER_AGENCY_MISMATCH",
            SignatureRefusal::SigningTimeInvalid => "SIGNING_TIME_INVALID",
        }
    }
}

impl Error {
    /// How a relying party refuses the signature that failed with this error: one decision
    /// per category of error, with no default, so that a new category does not compile until
    /// it is given one.
    pub fn signature_refusal(&self) -> SignatureRefusal {
        use CertificateError as C;
        match self {
            Error::Certificate(C::SignerRevoked { .. }) => SignatureRefusal::CertificateRevoked,
            Error::Certificate(C::SignerCertificateRejected { .. }) => {
                SignatureRefusal::CertificateRejected
            }
            Error::Certificate(C::SignerAgencyMismatch { .. }) => {
                SignatureRefusal::SignerAgencyMismatch
            }
            // Not the holder the manifest names as its signer (only an opener, or the sender
            // of a personal signature made elsewhere, meets it): not the certificate needed.
            Error::Certificate(C::SignerNameMismatch { .. }) => {
                SignatureRefusal::CertificateRejected
            }
            Error::SigningTime(_) => SignatureRefusal::SigningTimeInvalid,
            // The signature itself, or the bytes and keys around it.
            Error::Signature(_)
            | Error::Format(_)
            | Error::Key(_)
            | Error::Envelope(_)
            | Error::Stream(_)
            | Error::Ciphertext(_)
            | Error::Chain(_)
            | Error::Crypto { .. }
            | Error::Misuse { .. } => SignatureRefusal::Invalid,
        }
    }
}
