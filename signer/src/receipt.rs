//! Receipts and statuses: a signed statement by an agency seal about one document, for one
//! recipient, chained to the previous statement of the same chain.
//!
//! ```text
//! Receipt ::= SEQUENCE {
//!   format            OBJECT IDENTIFIER,            -- <AXIS_OID_ARC>.2.3
//!   version           INTEGER (1 | 2),              -- 2 exactly when edxml is present
//!   messageId         OCTET STRING (SIZE (16)),
//!   documentId        UTF8String,                   -- edXML DocumentId; empty: unopened
//!   from              UTF8String,                   -- agency stating the status
//!   to                UTF8String,                   -- the other party (edXML ResponseFor/OrganId)
//!   status            INTEGER,                      -- 1–6, 13, 15, 16
//!   manifestDigest    OCTET STRING (SIZE (0 | 32)), -- empty exactly when documentId is
//!   ciphertextDigest  OCTET STRING (SIZE (32)),
//!   time              GeneralizedTime,
//!   previous          OCTET STRING (SIZE (0 | 32)), -- SHA-256 of the previous receipt's bytes
//!   reason            UTF8String,                   -- edXML Description, as a person wrote it
//!   edxml        [0]  IMPLICIT SEQUENCE SIZE (1..16) OF EdxmlField OPTIONAL }  -- version 2
//!
//! EdxmlField ::= SEQUENCE {
//!   element           UTF8String (SIZE (1..64)),    -- an edXML element path, e.g. StaffInfo/Staff
//!   value             UTF8String (SIZE (1..500)) }  -- its text, as the DMS wrote it
//! ```
//!
//! **Version 2** adds `edxml`: what an edXML status package says that the receipt has no field
//! for (StaffInfo, From's descriptive fields, the DMS's own Timestamp…), so a recipient of the
//! receipt regenerates the package the DMS wrote. The fields are covered by the signature like
//! every other; they are sorted by element (bytewise, each element once) and at most
//! [`MAX_EDXML_TOTAL`] characters of values in all, so one set of fields has one byte form. A
//! receipt without them is version 1, byte for byte what it was before version 2 existed; a
//! version-1 reader refuses a version-2 receipt as an unsupported version rather than reading
//! part of it. This crate gives the element names no meaning (`axis-edxml` does).
//!
//! **An unopened refusal** is a status 02 whose `documentId` and `manifestDigest` are both
//! empty: a recipient that cannot open a document (no key-envelope entry for its certificate,
//! a broken signature, a name that is not the signer's…) still refuses it, with nothing from
//! inside the package: the message id, the parties and the ciphertext digest come from the
//! routing header every party sees. It can only be the first statement of its chain (after a
//! 01 the recipient has opened the document). Receipts that name the document keep their byte
//! form; a reader that predates unopened refusals refuses one as malformed, never misreads it.
//!
//! The signature is a detached CMS SignedData like the document's, by the stating agency's seal.
//! A chain is per (message, recipient): the recipient's statuses and the sender's recall (13).

use std::collections::BTreeMap;
use std::fmt;

use axis_pki::{AgencyId, TrustStore};
use time::OffsetDateTime;

use crate::cms::der;
use crate::cms::digest::sha256;
use crate::cms::oid::Format;
use crate::cms::signature::{self, SignatureReport, SignatureRole, Signer};
use crate::error::{
    CertificateError, ChainError, DigestKind, Error, FormatError, KeyError, SignatureError,
};
use crate::limits::{
    MAX_EDXML_ELEMENT, MAX_EDXML_FIELDS, MAX_EDXML_TOTAL, MAX_EDXML_VALUE, MAX_REASON,
    MAX_RECEIPT_CHAIN_LEN, MAX_RECEIPT_LEN,
};
use crate::package::document::SignedDocument;
use crate::package::document_id::DocumentId;
use crate::package::fields::{self, Lines};
use crate::package::header::{HeaderBytes, MessageId, VerifiedSubmission};
use crate::package::stream::{ReceivedDocument, Sealed};

/// The receipt version that carries the `edxml` extension.
const VERSION_EDXML: u64 = 2;

const WHAT: &str = "receipt";

/// An edXML status code (domain reference §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusCode {
    /// 01 đã đến: arrived in the recipient's DMS (sent automatically on receipt).
    Arrived,
    /// 02 từ chối: rejected by the recipient's clerk.
    Rejected,
    /// 03 đã tiếp nhận: accepted into the incoming register.
    Accepted,
    /// 04 phân công: assigned for handling.
    Assigned,
    /// 05 đang xử lý: being processed.
    Processing,
    /// 06 hoàn thành: completed.
    Completed,
    /// 13 lấy lại: the sender asks to take the document back.
    RecallRequested,
    /// 15: the recipient agrees to a recall or update request.
    ChangeAccepted,
    /// 16: the recipient refuses a recall or update request.
    ChangeRefused,
}

impl StatusCode {
    /// The edXML number.
    pub fn code(self) -> u8 {
        match self {
            StatusCode::Arrived => 1,
            StatusCode::Rejected => 2,
            StatusCode::Accepted => 3,
            StatusCode::Assigned => 4,
            StatusCode::Processing => 5,
            StatusCode::Completed => 6,
            StatusCode::RecallRequested => 13,
            StatusCode::ChangeAccepted => 15,
            StatusCode::ChangeRefused => 16,
        }
    }

    /// From the edXML number.
    pub fn from_code(value: u64) -> Result<Self, Error> {
        Ok(match value {
            1 => StatusCode::Arrived,
            2 => StatusCode::Rejected,
            3 => StatusCode::Accepted,
            4 => StatusCode::Assigned,
            5 => StatusCode::Processing,
            6 => StatusCode::Completed,
            13 => StatusCode::RecallRequested,
            15 => StatusCode::ChangeAccepted,
            16 => StatusCode::ChangeRefused,
            value => return Err(FormatError::StatusCodeUnknown { value }.into()),
        })
    }

    /// Whether the document's sender states it (only 13); the recipient states every other.
    pub fn from_sender(self) -> bool {
        self == StatusCode::RecallRequested
    }

    /// What the status means, in English ("arrived", "being processed", …).
    pub fn meaning(self) -> &'static str {
        match self {
            StatusCode::Arrived => "arrived",
            StatusCode::Rejected => "rejected",
            StatusCode::Accepted => "accepted and registered",
            StatusCode::Assigned => "assigned for handling",
            StatusCode::Processing => "being processed",
            StatusCode::Completed => "completed",
            StatusCode::RecallRequested => "recall requested by the sender",
            StatusCode::ChangeAccepted => "recall or change accepted",
            StatusCode::ChangeRefused => "recall or change refused",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.code())
    }
}

/// The statement a receipt makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The message (routing header) it is about.
    pub message_id: MessageId,
    /// The document it is about; `None` only in an unopened refusal (status 02 by a recipient
    /// that could not open the package, [`ReceiptChain::refuse_unopened`]).
    pub document_id: Option<DocumentId>,
    /// The agency stating the status.
    pub from: AgencyId,
    /// The other party.
    pub to: AgencyId,
    /// The status.
    pub status: StatusCode,
    /// SHA-256 of the manifest bytes; `None` exactly when `document_id` is.
    pub manifest_digest: Option<[u8; 32]>,
    /// SHA-256 of the ciphertext (as in the routing header).
    pub ciphertext_digest: [u8; 32],
    /// When the status was stated (whole seconds, UTC).
    pub time: OffsetDateTime,
    /// SHA-256 of the previous receipt's bytes in this chain (`None` for the first).
    pub previous: Option<[u8; 32]>,
    /// Reason or description (≤ 500 characters; empty for none).
    pub reason: String,
    /// The `edxml` extension (version 2): edXML element path → its text, for what an edXML
    /// status says beyond the fields above. Empty for none (a version-1 receipt).
    pub edxml: BTreeMap<String, String>,
}

impl Receipt {
    /// Whether this is an unopened refusal: a 02 that names nothing inside the package.
    pub fn is_unopened(&self) -> bool {
        self.document_id.is_none()
    }

    fn check(&self) -> Result<(), Error> {
        if self.document_id.is_some() != self.manifest_digest.is_some() {
            return Err(FormatError::FieldInvalid {
                field: "DocumentId",
                reason: "the DocumentId and the manifest digest are given together or not at all",
            }
            .into());
        }
        if self.is_unopened() && self.status != StatusCode::Rejected {
            return Err(FormatError::FieldInvalid {
                field: "DocumentId",
                reason: "only a refusal (02) of a document that was not opened names none",
            }
            .into());
        }
        fields::check_text("Description", &self.reason, MAX_REASON, false, Lines::Multi)?;
        check_edxml(&self.edxml)
    }

    /// Checks an `edxml` extension as signing and parsing do (budgets, element paths, values),
    /// so a caller mapping a status learns that it cannot be carried before anything is signed.
    pub fn check_edxml(edxml: &BTreeMap<String, String>) -> Result<(), Error> {
        check_edxml(edxml)
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, Error> {
        let edxml = if self.edxml.is_empty() {
            Vec::new()
        } else {
            let fields: Vec<u8> = self
                .edxml
                .iter()
                .flat_map(|(k, v)| der::seq(&[&der::utf8(k), &der::utf8(v)]))
                .collect();
            der::tlv(der::context(0), &fields)
        };
        let version = if self.edxml.is_empty() {
            1
        } else {
            VERSION_EDXML
        };
        Ok(der::seq(&[
            &der::oid(Format::Receipt.oid()),
            &der::uint(version),
            &der::octets(self.message_id.as_bytes()),
            &der::utf8(
                &self
                    .document_id
                    .as_ref()
                    .map(DocumentId::to_string)
                    .unwrap_or_default(),
            ),
            &der::utf8(self.from.as_str()),
            &der::utf8(self.to.as_str()),
            &der::uint(u64::from(self.status.code())),
            &der::octets(self.manifest_digest.as_ref().map_or(&[][..], |d| &d[..])),
            &der::octets(&self.ciphertext_digest),
            &der::generalized_time(self.time)?,
            &der::octets(self.previous.as_ref().map_or(&[][..], |p| &p[..])),
            &der::utf8(&self.reason),
            &edxml,
        ]))
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let (mut r, version) = Format::Receipt.open_versions(bytes, WHAT, VERSION_EDXML)?;
        let agency = |field, s: &str| {
            AgencyId::parse(s).map_err(|source| FormatError::AgencyId { field, source })
        };
        let mut receipt = Receipt {
            message_id: MessageId::from_uuid(uuid::Uuid::from_bytes(r.octets()?)),
            document_id: match r.utf8()? {
                "" => None,
                id => Some(DocumentId::parse(id)?),
            },
            from: agency("receipt from", r.utf8()?)?,
            to: agency("receipt to", r.utf8()?)?,
            status: StatusCode::from_code(r.u64()?)?,
            manifest_digest: match r.octet_string()? {
                [] => None,
                d => Some(
                    d.try_into()
                        .map_err(|_| FormatError::Malformed { what: WHAT })?,
                ),
            },
            ciphertext_digest: r.octets()?,
            time: r.time()?,
            previous: match r.octet_string()? {
                [] => None,
                p => Some(
                    p.try_into()
                        .map_err(|_| FormatError::Malformed { what: WHAT })?,
                ),
            },
            reason: r.utf8()?.to_owned(),
            edxml: BTreeMap::new(),
        };
        if version == VERSION_EDXML {
            let mut fields = r.nested(der::context(0))?;
            while !fields.is_empty() {
                if receipt.edxml.len() == MAX_EDXML_FIELDS {
                    return Err(FormatError::TooMany {
                        what: "edXML extension fields",
                        found: MAX_EDXML_FIELDS + 1,
                        max: MAX_EDXML_FIELDS,
                    }
                    .into());
                }
                let mut field = fields.sequence()?;
                let element = field.utf8()?;
                let value = field.utf8()?;
                field.finish()?;
                // Strictly ascending: sorted, each element once (one byte form).
                if receipt
                    .edxml
                    .last_key_value()
                    .is_some_and(|(last, _)| last.as_str() >= element)
                {
                    return Err(FormatError::Malformed { what: WHAT }.into());
                }
                receipt.edxml.insert(element.to_owned(), value.to_owned());
            }
            if receipt.edxml.is_empty() {
                return Err(FormatError::Malformed { what: WHAT }.into());
            }
        }
        r.finish()?;
        Ok(receipt)
    }

    /// Signs the receipt with the stating agency's seal; the CMS signing time is the receipt's
    /// time.
    pub fn sign(&self, seal: &Signer<'_>) -> Result<SignedReceipt, Error> {
        if seal.profile() != SignatureRole::Receipt.profile() {
            return Err(KeyError::WrongCertificateProfile {
                expected: SignatureRole::Receipt.profile(),
                found: seal.profile(),
            }
            .into());
        }
        if let Some(found) = seal.agency()
            && found != &self.from
        {
            return Err(CertificateError::SignerAgencyMismatch {
                role: SignatureRole::Receipt,
                expected: self.from.clone(),
                found: found.clone(),
            }
            .into());
        }
        let bytes = ReceiptBytes::new(self)?;
        let signature = signature::sign_detached(bytes.as_bytes(), seal, self.time)?;
        Ok(SignedReceipt {
            receipt: bytes,
            signature,
        })
    }
}

/// Checks the `edxml` extension: at most [`MAX_EDXML_FIELDS`] fields, element paths of
/// ASCII letters, digits and `/` (at most [`MAX_EDXML_ELEMENT`]), non-empty values of at most
/// [`MAX_EDXML_VALUE`] characters and [`MAX_EDXML_TOTAL`] in all, no control characters but
/// tab and line breaks.
fn check_edxml(edxml: &BTreeMap<String, String>) -> Result<(), Error> {
    fields::check_count("edXML extension fields", edxml.len(), MAX_EDXML_FIELDS)?;
    let mut total = 0;
    for (element, value) in edxml {
        let element_ok = !element.is_empty()
            && element.len() <= MAX_EDXML_ELEMENT
            && element
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/');
        if !element_ok {
            return Err(FormatError::FieldInvalid {
                field: "edXML extension element",
                reason: "not 1 to 64 ASCII letters, digits and `/`",
            }
            .into());
        }
        fields::check_text(
            "edXML extension value",
            value,
            MAX_EDXML_VALUE,
            true,
            Lines::Multi,
        )?;
        total += value.chars().count();
    }
    if total > MAX_EDXML_TOTAL {
        return Err(FormatError::FieldTooLong {
            field: "edXML extension",
            len: total,
            max: MAX_EDXML_TOTAL,
        }
        .into());
    }
    Ok(())
}

/// A checked receipt with its exact bytes (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptBytes {
    bytes: Vec<u8>,
    receipt: Receipt,
}

impl ReceiptBytes {
    pub(crate) fn new(receipt: &Receipt) -> Result<Self, Error> {
        receipt.check()?;
        let mut receipt = receipt.clone();
        // The encoding keeps whole seconds in UTC; keep the value what the bytes say.
        receipt.time = receipt
            .time
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .map_err(|_| FormatError::TimeOutOfRange)?;
        Ok(ReceiptBytes {
            bytes: receipt.encode()?,
            receipt,
        })
    }

    /// Parses untrusted bytes: size budget, strict DER, format OID and version, field checks,
    /// and one byte form (re-encoding gives the same bytes).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_RECEIPT_LEN {
            return Err(FormatError::TooLarge {
                what: WHAT,
                len: bytes.len() as u64,
                max: MAX_RECEIPT_LEN as u64,
            }
            .into());
        }
        let receipt = Receipt::decode(bytes)?;
        let parsed = ReceiptBytes::new(&receipt)?;
        if parsed.bytes != bytes {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        Ok(parsed)
    }

    /// The exact bytes the signature covers.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The statement.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    /// SHA-256 of the bytes: what the next receipt of the chain names as `previous`.
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.bytes)
    }
}

/// A receipt with its signature, as it travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedReceipt {
    receipt: ReceiptBytes,
    signature: Vec<u8>,
}

impl SignedReceipt {
    /// Parses received bytes and keeps the signature for verification.
    pub fn parse(receipt: &[u8], signature: Vec<u8>) -> Result<Self, Error> {
        Ok(SignedReceipt {
            receipt: ReceiptBytes::parse(receipt)?,
            signature,
        })
    }

    /// The receipt.
    pub fn receipt(&self) -> &ReceiptBytes {
        &self.receipt
    }

    /// The signature (CMS SignedData, DER, detached over the receipt bytes).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Verifies the signature alone: an agency seal of the stating agency, trusted at `at`.
    /// [`ReceiptChain::push`] does this and the checks against the document and the chain.
    pub fn verify(&self, store: &TrustStore, at: OffsetDateTime) -> Result<VerifiedReceipt, Error> {
        let role = SignatureRole::Receipt;
        if self.signature.is_empty() {
            return Err(SignatureError::SealSignatureMissing.into());
        }
        let v =
            signature::verify_detached(&self.signature, self.receipt.as_bytes(), role, store, at)?;
        let from = &self.receipt.receipt.from;
        if &v.report.agency != from {
            return Err(CertificateError::SignerAgencyMismatch {
                role,
                expected: from.clone(),
                found: v.report.agency,
            }
            .into());
        }
        // The statement's own time is the time it was signed: one time, covered twice.
        if v.report.signing_time != self.receipt.receipt.time {
            return Err(SignatureError::ReceiptTimeMismatch {
                time: self.receipt.receipt.time,
                signing_time: v.report.signing_time,
            }
            .into());
        }
        Ok(VerifiedReceipt {
            receipt: self.clone(),
            report: v.report,
        })
    }
}

/// A receipt whose signature verified for its stating agency. Only [`SignedReceipt::verify`]
/// makes one.
#[derive(Clone, Debug)]
pub struct VerifiedReceipt {
    receipt: SignedReceipt,
    report: SignatureReport,
}

impl VerifiedReceipt {
    /// The statement.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt.receipt.receipt
    }

    /// The signed receipt, to store or forward.
    pub fn signed(&self) -> &SignedReceipt {
        &self.receipt
    }

    /// Who signed, when.
    pub fn report(&self) -> &SignatureReport {
        &self.report
    }

    /// SHA-256 of the receipt bytes.
    pub fn hash(&self) -> [u8; 32] {
        self.receipt.receipt.hash()
    }
}

/// What a verifier knows about the document a chain is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRef {
    message_id: MessageId,
    sender: AgencyId,
    recipient: AgencyId,
    ciphertext_digest: [u8; 32],
    /// DocumentId, manifest digest and business type (0–3): known to the sender and the
    /// recipient, not to the axis.
    inner: Option<(DocumentId, [u8; 32], u8)>,
}

impl DocumentRef {
    /// The recipient's view: everything, from the document it opened.
    pub fn received(doc: &ReceivedDocument) -> Self {
        let m = doc.document().manifest();
        DocumentRef {
            message_id: doc.submission().header().message_id,
            sender: doc.submission().header().sender.clone(),
            recipient: doc.recipient().clone(),
            ciphertext_digest: doc.submission().header().ciphertext_digest,
            inner: Some((
                m.document_id().clone(),
                m.digest(),
                m.manifest().business.code(),
            )),
        }
    }

    /// The sender's view of its copy for `recipient`.
    pub fn sent(
        document: &SignedDocument,
        sealed: &Sealed,
        recipient: &AgencyId,
    ) -> Result<Self, Error> {
        let h = sealed.submission.header().header();
        if !h.recipients.contains(recipient) {
            return Err(ChainError::NotARecipient {
                agency: recipient.clone(),
            }
            .into());
        }
        let m = document.manifest();
        Ok(DocumentRef {
            message_id: h.message_id,
            sender: h.sender.clone(),
            recipient: recipient.clone(),
            ciphertext_digest: h.ciphertext_digest,
            inner: Some((
                m.document_id().clone(),
                m.digest(),
                m.manifest().business.code(),
            )),
        })
    }

    /// The axis's view: no DocumentId nor manifest digest (they are inside the ciphertext); the
    /// chain still checks that every receipt carries the same ones as the first.
    pub fn submitted(submission: &VerifiedSubmission, recipient: &AgencyId) -> Result<Self, Error> {
        Self::logged(submission.header_bytes(), recipient)
    }

    /// The axis's view of a submission it verified when it accepted it and reads back from its
    /// own store (the submission signature is not checked again: the sender's certificate may
    /// since have expired or been revoked, which does not undo an accepted submission).
    pub fn logged(header: &HeaderBytes, recipient: &AgencyId) -> Result<Self, Error> {
        let h = header.header();
        if !h.recipients.contains(recipient) {
            return Err(ChainError::NotARecipient {
                agency: recipient.clone(),
            }
            .into());
        }
        Ok(DocumentRef {
            message_id: h.message_id,
            sender: h.sender.clone(),
            recipient: recipient.clone(),
            ciphertext_digest: h.ciphertext_digest,
            inner: None,
        })
    }
}

/// Where a chain stands.
#[derive(Clone, Debug, Default)]
struct ChainState {
    /// Last business status (01–06).
    business: Option<StatusCode>,
    /// A 13 awaits its answer.
    recall_pending: bool,
    /// A business-typed document (recall, update, replace) awaits its 15/16.
    change_pending: bool,
    /// 15 was given to a recall: nothing more may follow.
    withdrawn: bool,
}

impl ChainState {
    fn allows(&self, to: StatusCode) -> bool {
        use StatusCode::*;
        if self.withdrawn {
            return false;
        }
        let idle = !self.recall_pending;
        match to {
            Arrived => self.business.is_none(),
            Rejected | Accepted => idle && self.business == Some(Arrived),
            Assigned => idle && matches!(self.business, Some(Accepted | Assigned)),
            Processing | Completed => {
                idle && matches!(self.business, Some(Accepted | Assigned | Processing))
            }
            RecallRequested => {
                idle && matches!(
                    self.business,
                    Some(Arrived | Accepted | Assigned | Processing | Completed)
                )
            }
            ChangeAccepted | ChangeRefused => {
                self.business.is_some() && (self.recall_pending || self.change_pending)
            }
        }
    }

    fn apply(&mut self, s: StatusCode) {
        use StatusCode::*;
        match s {
            RecallRequested => self.recall_pending = true,
            ChangeAccepted | ChangeRefused => {
                // A 15 to a recall withdraws the document; to a business-typed document it
                // accepts the change. Either way the pending request is answered.
                if s == ChangeAccepted && self.recall_pending {
                    self.withdrawn = true;
                }
                self.recall_pending = false;
                self.change_pending = false;
            }
            _ => self.business = Some(s),
        }
    }
}

/// The verified statuses of one document for one recipient, in order.
#[derive(Clone, Debug)]
pub struct ReceiptChain {
    doc: DocumentRef,
    receipts: Vec<VerifiedReceipt>,
    /// Receipts taken over by [`ReceiptChain::resume`] (checked, signatures not re-verified).
    resumed: usize,
    /// Hash, time and status of the last receipt, verified or resumed.
    last: Option<([u8; 32], OffsetDateTime, StatusCode)>,
    state: ChainState,
    /// DocumentId and manifest digest every receipt must carry (from the document, or the first
    /// receipt when the verifier is the axis).
    inner: Option<(DocumentId, [u8; 32])>,
}

impl ReceiptChain {
    /// An empty chain for `doc`.
    pub fn new(doc: DocumentRef) -> Self {
        let change_pending = doc.inner.as_ref().is_none_or(|(_, _, b)| *b != 0);
        ReceiptChain {
            inner: doc.inner.as_ref().map(|(id, d, _)| (id.clone(), *d)),
            doc,
            receipts: Vec::new(),
            resumed: 0,
            last: None,
            state: ChainState {
                change_pending,
                ..ChainState::default()
            },
        }
    }

    /// Verifies a whole chain in order.
    pub fn verify_all(
        doc: DocumentRef,
        receipts: &[SignedReceipt],
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        let mut chain = ReceiptChain::new(doc);
        for r in receipts {
            chain.push(r, store, at)?;
        }
        Ok(chain)
    }

    /// Rebuilds a chain from receipts its holder verified when they arrived and kept (the axis
    /// reading its own store): every check of [`ReceiptChain::push`] except the signature, which
    /// may no longer verify today (an expired or since-revoked seal does not undo a receipt
    /// that was valid when it was logged). [`ReceiptChain::receipts`] holds only receipts
    /// verified afterwards.
    pub fn resume(doc: DocumentRef, logged: &[SignedReceipt]) -> Result<Self, Error> {
        let mut chain = ReceiptChain::new(doc);
        for r in logged {
            chain.budget()?;
            chain.check_and_apply(r.receipt())?;
            chain.resumed += 1;
        }
        Ok(chain)
    }

    /// The receipts verified by this chain (not those it resumed from).
    pub fn receipts(&self) -> &[VerifiedReceipt] {
        &self.receipts
    }

    /// Number of receipts in the chain, verified or resumed.
    pub fn len(&self) -> usize {
        self.resumed + self.receipts.len()
    }

    /// Whether the chain has no receipt yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last status.
    pub fn last_status(&self) -> Option<StatusCode> {
        self.last.map(|(_, _, s)| s)
    }

    /// The time of the last receipt (the next may not be dated before it).
    pub fn last_time(&self) -> Option<OffsetDateTime> {
        self.last.map(|(_, t, _)| t)
    }

    /// Whether the recipient agreed to a recall (15 after 13): its copy is withdrawn and nothing
    /// may follow.
    pub fn is_withdrawn(&self) -> bool {
        self.state.withdrawn
    }

    /// SHA-256 of the last receipt: what the next one names as `previous`.
    pub fn last_hash(&self) -> Option<[u8; 32]> {
        self.last.map(|(h, _, _)| h)
    }

    fn budget(&self) -> Result<(), Error> {
        let position = self.len();
        if position >= MAX_RECEIPT_CHAIN_LEN {
            return Err(ChainError::TooLong {
                found: position + 1,
                max: MAX_RECEIPT_CHAIN_LEN,
            }
            .into());
        }
        Ok(())
    }

    /// Verifies the next receipt and appends it.
    ///
    /// 1. Budget on the chain length.
    /// 2. The signature: an agency seal of the stating agency, trusted at `at`.
    /// 3. The right party states it: 13 by the document's sender, every other status by the
    ///    recipient; the other party is named correctly.
    /// 4. It is about this message, and this DocumentId and manifest (or, for the axis, the same
    ///    ones as the first receipt).
    /// 5. Its ciphertext and manifest digests are the document's: a receipt for other content
    ///    proves nothing about this one.
    /// 6. It names the previous receipt's hash (none for the first): no receipt removed,
    ///    inserted or reordered.
    /// 7. Its time is not before the previous receipt's.
    /// 8. The transition is one a DMS may make: 01 first; 02/03 after 01; 04–06 after 03; 13
    ///    while the document is live; 15/16 only in answer to 13 or to a recall, update or
    ///    replacement document; nothing after a rejection or an agreed recall. An unopened
    ///    refusal (a 02 naming no DocumentId) only first, in place of the 01.
    pub fn push(
        &mut self,
        signed: &SignedReceipt,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<&VerifiedReceipt, Error> {
        // Step 1.
        self.budget()?;
        // Step 2.
        let verified = signed.verify(store, at)?;
        // Steps 3 to 8.
        self.check_and_apply(signed.receipt())?;
        self.receipts.push(verified);
        self.receipts.last().ok_or(Error::Misuse {
            reason: "empty chain",
        })
    }

    /// Steps 3 to 8 of [`ReceiptChain::push`], then the receipt becomes the chain's last.
    fn check_and_apply(&mut self, bytes: &ReceiptBytes) -> Result<(), Error> {
        let position = self.len();
        let r = bytes.receipt();
        // Step 3.
        let (stater, other) = if r.status.from_sender() {
            (&self.doc.sender, &self.doc.recipient)
        } else {
            (&self.doc.recipient, &self.doc.sender)
        };
        if &r.from != stater {
            return Err(ChainError::StatusFromWrongParty {
                status: r.status,
                expected: stater.clone(),
                found: r.from.clone(),
            }
            .into());
        }
        if &r.to != other {
            return Err(ChainError::ReceiptSubjectMismatch {
                field: "other party",
            }
            .into());
        }
        // Step 4.
        if r.message_id != self.doc.message_id {
            return Err(ChainError::ReceiptSubjectMismatch {
                field: "message id",
            }
            .into());
        }
        // Step 5.
        if r.ciphertext_digest != self.doc.ciphertext_digest {
            return Err(ChainError::ReceiptDigestMismatch {
                kind: DigestKind::Ciphertext,
            }
            .into());
        }
        let named = r.document_id.as_ref().zip(r.manifest_digest.as_ref());
        match (&self.inner, named) {
            (Some((id, _)), Some((named_id, _))) if id != named_id => {
                return Err(ChainError::ReceiptSubjectMismatch {
                    field: "DocumentId",
                }
                .into());
            }
            (Some((_, digest)), Some((_, named_digest))) if digest != named_digest => {
                return Err(ChainError::ReceiptDigestMismatch {
                    kind: DigestKind::Manifest,
                }
                .into());
            }
            _ => {}
        }
        // Step 6.
        if r.previous != self.last_hash() {
            return Err(ChainError::ReceiptChainBroken { position }.into());
        }
        // Step 7.
        if let Some((_, time, _)) = self.last
            && r.time < time
        {
            return Err(ChainError::ReceiptTimeBeforePrevious { position }.into());
        }
        // Step 8.
        let allowed = if r.is_unopened() {
            self.state.business.is_none() && !self.state.withdrawn && !self.state.recall_pending
        } else {
            self.state.allows(r.status)
        };
        if !allowed {
            return Err(ChainError::StatusTransitionNotAllowed {
                from: self.last_status(),
                to: r.status,
            }
            .into());
        }
        self.state.apply(r.status);
        if r.is_unopened() {
            // Nothing was opened: no change to answer either.
            self.state.change_pending = false;
        }
        if self.inner.is_none()
            && let Some((id, digest)) = named
        {
            self.inner = Some((id.clone(), *digest));
        }
        self.last = Some((bytes.hash(), r.time, r.status));
        Ok(())
    }

    /// The next receipt of this chain with `status`: parties, ids, digests and the previous
    /// hash filled in. Sign it with [`Receipt::sign`]. Needs the sender's or recipient's view
    /// of the document (the axis cannot state statuses).
    pub fn next(
        &self,
        status: StatusCode,
        time: OffsetDateTime,
        reason: impl Into<String>,
    ) -> Result<Receipt, Error> {
        let Some((document_id, manifest_digest)) = self.inner.clone() else {
            return Err(Error::Misuse {
                reason: "the axis's view of a document cannot state a status",
            });
        };
        let (from, to) = if status.from_sender() {
            (self.doc.sender.clone(), self.doc.recipient.clone())
        } else {
            (self.doc.recipient.clone(), self.doc.sender.clone())
        };
        Ok(Receipt {
            message_id: self.doc.message_id,
            document_id: Some(document_id),
            from,
            to,
            status,
            manifest_digest: Some(manifest_digest),
            ciphertext_digest: self.doc.ciphertext_digest,
            time,
            previous: self.last_hash(),
            reason: reason.into(),
            edxml: BTreeMap::new(),
        })
    }

    /// The recipient's refusal (02) of a document it cannot open: no DocumentId, no manifest
    /// digest, only what the routing header says (message id, parties, ciphertext digest), so
    /// a document sealed without an entry for the recipient, or one that does not verify, can
    /// always be refused. Works on any view of the document (the axis's too,
    /// [`DocumentRef::logged`]); the chain must be empty (after a 01 the document was opened:
    /// send an ordinary 02). Sign it with [`Receipt::sign`].
    pub fn refuse_unopened(
        &self,
        time: OffsetDateTime,
        reason: impl Into<String>,
    ) -> Result<Receipt, Error> {
        if !self.is_empty() {
            return Err(ChainError::StatusTransitionNotAllowed {
                from: self.last_status(),
                to: StatusCode::Rejected,
            }
            .into());
        }
        Ok(Receipt {
            message_id: self.doc.message_id,
            document_id: None,
            from: self.doc.recipient.clone(),
            to: self.doc.sender.clone(),
            status: StatusCode::Rejected,
            manifest_digest: None,
            ciphertext_digest: self.doc.ciphertext_digest,
            time,
            previous: None,
            reason: reason.into(),
            edxml: BTreeMap::new(),
        })
    }
}
