//! Evidence bundles: everything an auditor needs to prove, offline and years later, who sent
//! which message to whom, when the axis accepted it, what each recipient did with it, and that
//! all of it is in the axis's log — holding only the root certificate and the log signer's key.
//!
//! ```text
//! EvidenceBundle ::= SEQUENCE {
//!   format               OBJECT IDENTIFIER,        -- <AXIS_OID_ARC>.2.7
//!   version              INTEGER (1),
//!   routingHeader        OCTET STRING,             -- exact signed bytes
//!   submissionSignature  OCTET STRING,             -- CMS over routingHeader (sender's seal)
//!   intermediates        SEQUENCE SIZE (0..64) OF OCTET STRING,  -- issuing CA certificates (DER)
//!   crls                 SEQUENCE SIZE (0..256) OF OCTET STRING, -- every CRL needed: each in
//!                                                                -- force at some signing time
//!   treeHead             OCTET STRING,             -- one signed tree head covering every entry
//!   treeHeadSignature    OCTET STRING,             -- CMS over treeHead (axis log signer)
//!   acceptance           Logged,                   -- the acceptance of the submission
//!   statements           SEQUENCE SIZE (0..512) OF Statement }   -- in log order
//!
//! Statement ::= SEQUENCE {
//!   recipient            UTF8String,               -- whose copy (the chain it belongs to)
//!   statement            OCTET STRING,             -- Receipt DER (<AXIS_OID_ARC>.2.3)
//!   signature            OCTET STRING,             -- CMS over statement (stating agency's seal)
//!   logged               Logged }
//!
//! Logged ::= SEQUENCE {
//!   entry                OCTET STRING,             -- LogEntry DER (<AXIS_OID_ARC>.2.4)
//!   leafIndex            INTEGER,
//!   path                 SEQUENCE SIZE (0..64) OF OCTET STRING (SIZE (32)) }  -- RFC 9162
//! ```
//!
//! Every signed item travels as its exact bytes (an OCTET STRING), so nothing is re-serialized
//! to be verified, and `openssl asn1parse -inform DER -i` shows the whole bundle; each item can
//! be cut out with `-strparse` and checked on its own (`openssl cms -verify -binary`). The one
//! tree head covers the acceptance and every statement, so a bundle is checked with one log
//! signature; it may be any head of the log that is at least as large as the last entry.
//!
//! [`verify_bundle`] is the auditor's entry point; its steps are listed there.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use axis_pki::{AgencyId, Profile, TrustStore};
use time::OffsetDateTime;

use axis_signer::cms::der::{self, Reader};
use axis_signer::cms::{Format, claimed_signing_time};
use axis_signer::limits::{MAX_SIGNATURE_LEN, SIGNING_TIME_TOLERANCE};
use axis_signer::{
    ChainError, DigestKind, DocumentId, DocumentRef, FormatError, MessageId, ReceiptChain,
    SignatureError, SignatureReport, SignatureRole, SignedReceipt, StatusCode, Submission,
};

use crate::error::{Error, LogError, TrustError};
use crate::limits::{
    MAX_BUNDLE_CRLS, MAX_BUNDLE_INTERMEDIATES, MAX_BUNDLE_LEN, MAX_BUNDLE_STATEMENTS,
};
use crate::log::{LogEntryBytes, SignedTreeHead, VerifiedTreeHead};

const WHAT: &str = "evidence bundle";

/// Which element of an evidence bundle an error is about ([`Error::BundleItem`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleItem {
    /// The root certificate the auditor gave (not part of the bundle).
    TrustAnchor,
    /// The routing header and the sender's submission signature.
    Submission,
    /// A CA certificate of `intermediates` (0 first).
    Intermediate {
        /// Its position.
        index: usize,
    },
    /// A CRL of `crls` (0 first).
    Crl {
        /// Its position.
        index: usize,
    },
    /// The signed tree head.
    TreeHead,
    /// The acceptance entry, its inclusion path, or its times.
    Acceptance,
    /// A statement (receipt or status), its entry, its inclusion path, or its times.
    Statement {
        /// Its position in `statements` (0 first).
        index: usize,
        /// The recipient whose chain it belongs to (`None` if that field itself is unreadable).
        recipient: Option<AgencyId>,
    },
}

impl fmt::Display for BundleItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleItem::TrustAnchor => f.write_str("the root certificate"),
            BundleItem::Submission => f.write_str("the submission"),
            BundleItem::Intermediate { index } => write!(f, "CA certificate {index}"),
            BundleItem::Crl { index } => write!(f, "CRL {index}"),
            BundleItem::TreeHead => f.write_str("the tree head"),
            BundleItem::Acceptance => f.write_str("the acceptance"),
            BundleItem::Statement {
                index,
                recipient: Some(r),
            } => write!(f, "statement {index} (to {r})"),
            BundleItem::Statement {
                index,
                recipient: None,
            } => write!(f, "statement {index}"),
        }
    }
}

/// Runs `f` and names `item` on its error.
fn within<T>(item: BundleItem, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    f().map_err(|source| Error::BundleItem {
        item,
        source: Box::new(source),
    })
}

/// A log entry with its place in the log: what the `Logged` structure carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedEntry {
    /// The entry (its exact bytes are the leaf).
    pub entry: LogEntryBytes,
    /// Its position in the log.
    pub leaf_index: u64,
    /// RFC 9162 inclusion path to the bundle's tree head, leaf level first.
    pub path: Vec<[u8; 32]>,
}

impl LoggedEntry {
    fn encode(&self) -> Vec<u8> {
        der::seq(&[
            &der::octets(self.entry.as_bytes()),
            &der::uint(self.leaf_index),
            &crate::log::encode_path(&self.path),
        ])
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let mut l = r.sequence()?;
        let entry = LogEntryBytes::parse(l.octet_string()?)?;
        let leaf_index = l.u64()?;
        let path = crate::log::read_path(&mut l)?;
        l.finish()?;
        Ok(LoggedEntry {
            entry,
            leaf_index,
            path,
        })
    }

    /// The entry's leaf is under `head` (RFC 9162 §2.1.3.2).
    fn check_included(&self, head: &VerifiedTreeHead) -> Result<(), Error> {
        let h = head.head();
        axis_log::verify_inclusion(
            &self.entry.leaf_hash(),
            self.leaf_index,
            h.tree_size,
            &self.path,
            &h.root_hash,
        )
        .map_err(|source| LogError::InclusionProofInvalid { source }.into())
    }

    /// Logged no earlier than signed (less the clock tolerance) and no later than the head.
    fn check_times(&self, signed: OffsetDateTime, head: &VerifiedTreeHead) -> Result<(), Error> {
        let logged = self.entry.entry().logged_at;
        if logged < signed - SIGNING_TIME_TOLERANCE {
            return Err(LogError::LoggedBeforeSigned { signed, logged }.into());
        }
        if logged > head.head().timestamp {
            return Err(LogError::EntryAfterTreeHead.into());
        }
        Ok(())
    }
}

/// One receipt or status in a bundle, with the chain it belongs to and its log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleStatement {
    /// The recipient whose copy the statement is about (the stating agency for 01–06, 15, 16;
    /// the other party for the sender's 13).
    pub recipient: AgencyId,
    /// The receipt and its signature.
    pub receipt: SignedReceipt,
    /// Its entry in the log.
    pub logged: LoggedEntry,
}

/// Everything needed to verify one document's history offline (see the module docs for the
/// DER). [`EvidenceBundle::parse`] reads one; [`verify_bundle`] reads and verifies one.
#[derive(Clone, Debug)]
pub struct EvidenceBundle {
    /// The routing header and the sender's submission signature.
    pub submission: Submission,
    /// The issuing CA certificates (DER) of every signer.
    pub intermediates: Vec<Vec<u8>>,
    /// The CRLs (DER) of the root and the CAs, each in force at some signing time of the bundle.
    pub crls: Vec<Vec<u8>>,
    /// One signed tree head that includes every entry of the bundle.
    pub tree_head: SignedTreeHead,
    /// The axis's acceptance of the submission.
    pub acceptance: LoggedEntry,
    /// The receipts and statuses, in log order.
    pub statements: Vec<BundleStatement>,
}

fn budget(what: &'static str, found: usize, max: usize) -> Result<(), Error> {
    if found > max {
        return Err(FormatError::TooMany { what, found, max }.into());
    }
    Ok(())
}

fn check_len(what: &'static str, len: usize, max: usize) -> Result<(), Error> {
    if len > max {
        return Err(FormatError::TooLarge {
            what,
            len: len as u64,
            max: max as u64,
        }
        .into());
    }
    Ok(())
}

fn check_signature_len(signature: &[u8]) -> Result<(), Error> {
    check_len("CMS SignedData", signature.len(), MAX_SIGNATURE_LEN)
}

const STATEMENTS: &str = "statements in an evidence bundle";
const INTERMEDIATES: &str = "CA certificates in an evidence bundle";
const CRLS: &str = "CRLs in an evidence bundle";

impl EvidenceBundle {
    /// The DER encoding. Fails if a list is over its budget or the whole over
    /// [`MAX_BUNDLE_LEN`]: what [`EvidenceBundle::parse`] would refuse is never written.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        budget(STATEMENTS, self.statements.len(), MAX_BUNDLE_STATEMENTS)?;
        budget(
            INTERMEDIATES,
            self.intermediates.len(),
            MAX_BUNDLE_INTERMEDIATES,
        )?;
        budget(CRLS, self.crls.len(), MAX_BUNDLE_CRLS)?;
        let list = |items: &[Vec<u8>]| -> Vec<u8> {
            let body: Vec<u8> = items.iter().flat_map(|i| der::octets(i)).collect();
            der::tlv(der::SEQUENCE, &body)
        };
        let statements: Vec<u8> = self
            .statements
            .iter()
            .flat_map(|s| {
                der::seq(&[
                    &der::utf8(s.recipient.as_str()),
                    &der::octets(s.receipt.receipt().as_bytes()),
                    &der::octets(s.receipt.signature()),
                    &s.logged.encode(),
                ])
            })
            .collect();
        let bytes = der::seq(&[
            &der::oid(Format::EvidenceBundle.oid()),
            &der::uint(1),
            &der::octets(self.submission.header().as_bytes()),
            &der::octets(self.submission.signature()),
            &list(&self.intermediates),
            &list(&self.crls),
            &der::octets(self.tree_head.as_bytes()),
            &der::octets(self.tree_head.signature()),
            &self.acceptance.encode(),
            &der::tlv(der::SEQUENCE, &statements),
        ]);
        check_len(WHAT, bytes.len(), MAX_BUNDLE_LEN)?;
        Ok(bytes)
    }

    /// Parses untrusted bytes; nothing is verified yet.
    ///
    /// 1. Size budget ([`MAX_BUNDLE_LEN`]) before anything is read.
    /// 2. Strict DER, the evidence-bundle format OID, version 1.
    /// 3. Count budgets while reading ([`MAX_BUNDLE_INTERMEDIATES`], [`MAX_BUNDLE_CRLS`],
    ///    [`MAX_BUNDLE_STATEMENTS`], 64 hashes per path), and each item within its own budget
    ///    and parsed by its own parser (routing header, receipts, log entries, tree head);
    ///    errors in an item are [`Error::BundleItem`] naming it.
    /// 4. Re-encoding gives the same bytes: one bundle, one byte form.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        // Step 1.
        check_len(WHAT, bytes.len(), MAX_BUNDLE_LEN)?;
        // Step 2.
        let mut r = Format::EvidenceBundle.open(bytes, WHAT)?;
        // Step 3.
        let submission = within(BundleItem::Submission, || {
            let header = r.octet_string()?;
            let signature = r.octet_string()?;
            check_signature_len(signature)?;
            Ok(Submission::parse(header, signature.to_vec())?)
        })?;
        let mut list = r.sequence()?;
        let mut intermediates = Vec::new();
        while !list.is_empty() {
            let index = intermediates.len();
            budget(INTERMEDIATES, index + 1, MAX_BUNDLE_INTERMEDIATES)?;
            let cert = within(BundleItem::Intermediate { index }, || {
                let c = list.octet_string()?;
                check_len("CA certificate", c.len(), axis_pki::MAX_CERT_DER_LEN)?;
                Ok(c.to_vec())
            })?;
            intermediates.push(cert);
        }
        let mut list = r.sequence()?;
        let mut crls = Vec::new();
        while !list.is_empty() {
            let index = crls.len();
            budget(CRLS, index + 1, MAX_BUNDLE_CRLS)?;
            let crl = within(BundleItem::Crl { index }, || {
                let c = list.octet_string()?;
                check_len("CRL", c.len(), axis_pki::MAX_CRL_DER_LEN)?;
                Ok(c.to_vec())
            })?;
            crls.push(crl);
        }
        let tree_head = within(BundleItem::TreeHead, || {
            let head = r.octet_string()?;
            let signature = r.octet_string()?;
            check_signature_len(signature)?;
            SignedTreeHead::parse(head, signature.to_vec())
        })?;
        let acceptance = within(BundleItem::Acceptance, || LoggedEntry::read(&mut r))?;
        let mut list = r.sequence()?;
        let mut statements = Vec::new();
        while !list.is_empty() {
            let index = statements.len();
            budget(STATEMENTS, index + 1, MAX_BUNDLE_STATEMENTS)?;
            let (mut s, recipient) = within(
                BundleItem::Statement {
                    index,
                    recipient: None,
                },
                || {
                    let mut s = list.sequence()?;
                    let recipient =
                        AgencyId::parse(s.utf8()?).map_err(|source| FormatError::AgencyId {
                            field: "bundle statement recipient",
                            source,
                        })?;
                    Ok((s, recipient))
                },
            )?;
            let item = BundleItem::Statement {
                index,
                recipient: Some(recipient.clone()),
            };
            let (receipt, logged) = within(item, || {
                let statement = s.octet_string()?;
                let signature = s.octet_string()?;
                check_signature_len(signature)?;
                let receipt = SignedReceipt::parse(statement, signature.to_vec())?;
                let logged = LoggedEntry::read(&mut s)?;
                s.finish()?;
                Ok((receipt, logged))
            })?;
            statements.push(BundleStatement {
                recipient,
                receipt,
                logged,
            });
        }
        r.finish()?;
        let bundle = EvidenceBundle {
            submission,
            intermediates,
            crls,
            tree_head,
            acceptance,
            statements,
        };
        // Step 4.
        if bundle.encode()? != bytes {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        Ok(bundle)
    }
}

/// The trust material of a bundle, and one [`TrustStore`] per distinct set of CRLs in force.
struct Trust {
    root: Vec<u8>,
    intermediates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    /// thisUpdate and nextUpdate of each CRL.
    windows: Vec<(OffsetDateTime, Option<OffsetDateTime>)>,
    stores: HashMap<Vec<usize>, TrustStore>,
}

impl Trust {
    /// Checks the root, each CA certificate and each CRL on its own, naming the one that fails.
    fn new(root: &[u8], bundle: &EvidenceBundle) -> Result<Self, Error> {
        let rejected = |source| Error::from(TrustError::CertificateRejected { source });
        within(BundleItem::TrustAnchor, || {
            TrustStore::new(vec![root.to_vec()], vec![], vec![])
                .map(drop)
                .map_err(rejected)
        })?;
        for (index, c) in bundle.intermediates.iter().enumerate() {
            within(BundleItem::Intermediate { index }, || {
                axis_pki::subject_of(c).map(drop).map_err(rejected)
            })?;
        }
        // Every CRL is signed by the root or one of the bundle's CAs (cRLSign), carries no
        // unknown critical extension, and has a nextUpdate after its thisUpdate.
        let cas = TrustStore::new(vec![root.to_vec()], bundle.intermediates.clone(), vec![])
            .map_err(rejected)?;
        let mut windows = Vec::with_capacity(bundle.crls.len());
        for (index, crl) in bundle.crls.iter().enumerate() {
            let window = within(BundleItem::Crl { index }, || {
                let rejected = |source| Error::from(TrustError::CrlRejected { source });
                let s = axis_pki::summarize_crl(crl).map_err(rejected)?;
                cas.check_crl(crl, s.this_update).map_err(rejected)?;
                Ok((s.this_update, s.next_update))
            })?;
            windows.push(window);
        }
        Ok(Trust {
            root: root.to_vec(),
            intermediates: bundle.intermediates.clone(),
            crls: bundle.crls.clone(),
            windows,
            stores: HashMap::new(),
        })
    }

    /// The store for verifying a signature made at `t`: the root, the bundle's CAs and the CRLs
    /// in force at `t` (thisUpdate ≤ t < nextUpdate). Built once per distinct set of CRLs.
    fn at(&mut self, t: OffsetDateTime) -> Result<&TrustStore, Error> {
        let key: Vec<usize> = self
            .windows
            .iter()
            .enumerate()
            .filter(|(_, (this, next))| *this <= t && next.is_some_and(|n| t < n))
            .map(|(i, _)| i)
            .collect();
        let store = match self.stores.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let store = TrustStore::new(
                    vec![self.root.clone()],
                    self.intermediates.clone(),
                    v.key().iter().map(|&i| self.crls[i].clone()).collect(),
                )
                .map_err(|source| TrustError::CrlRejected { source })?;
                v.insert(store)
            }
        };
        Ok(store)
    }
}

/// One status in a recipient's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimelineEvent {
    /// The edXML status.
    pub status: StatusCode,
    /// The agency that stated it (the recipient, or the sender for 13).
    pub stated_by: AgencyId,
    /// The name on the seal that signed it (certificate common name).
    pub seal_signer: String,
    /// When it was stated (the receipt's time, which is its signing time).
    pub stated_at: OffsetDateTime,
    /// When the axis logged it.
    pub logged_at: OffsetDateTime,
    /// Its entry's position in the log.
    pub leaf_index: u64,
    /// The reason or description given (may be empty).
    pub reason: String,
}

/// What happened to one recipient's copy, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientTimeline {
    /// The recipient agency.
    pub recipient: AgencyId,
    /// Its statuses, in log order (empty if the bundle holds none).
    pub events: Vec<TimelineEvent>,
}

/// What a verified bundle proves. Only [`verify_bundle`] makes one.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BundleReport {
    /// The message (routing header) id.
    pub message_id: MessageId,
    /// The sending agency.
    pub sender: AgencyId,
    /// The sender's seal over the routing header: signer name, agency, signing time,
    /// certificate.
    pub sender_seal: SignatureReport,
    /// The recipient agencies, as the signed header lists them.
    pub recipients: Vec<AgencyId>,
    /// Size of the ciphertext the header commits to.
    pub ciphertext_len: u64,
    /// SHA-256 of the ciphertext the header commits to.
    pub ciphertext_digest: [u8; 32],
    /// When the axis logged the acceptance.
    pub accepted_at: OffsetDateTime,
    /// The acceptance entry's position in the log.
    pub acceptance_index: u64,
    /// The DocumentId the receipts name (`None` if the bundle has no receipt).
    pub document_id: Option<DocumentId>,
    /// The manifest SHA-256 the receipts name (`None` if the bundle has no receipt).
    pub manifest_digest: Option<[u8; 32]>,
    /// One timeline per recipient of the header, in the header's order.
    pub timelines: Vec<RecipientTimeline>,
    /// The verified tree head that includes every entry (size, root, time, signer).
    pub tree_head: VerifiedTreeHead,
}

/// Verifies an evidence bundle offline, holding only the root certificate (DER) and the log
/// signer's public key (DER SubjectPublicKeyInfo). No clock: every signature is checked at the
/// time it was made, with the CRLs in force then.
///
/// 1. **Parse within budgets** ([`EvidenceBundle::parse`]): size, counts, strict DER, one byte
///    form — against resource exhaustion and encoding ambiguity.
/// 2. **Trust material, each item on its own**: the root parses; every CA certificate parses;
///    every CRL is signed by the root or a bundle CA allowed to sign CRLs, with no unknown
///    critical extension and a nextUpdate (RFC 5280 §5, §6.3.3) — so a forged or altered CRL is
///    named, not silently skipped. Every CA certificate is an issuing CA under the root, valid
///    and unrevoked at one of the bundle's signing times (RFC 5280 §6.1) — so an altered or
///    foreign CA is refused even though the signatures carry their own copies.
/// 3. **Trust per signing time**: each signature is verified at the time it claims (the CMS
///    signingTime of the tree head and the submission, the `time` of a receipt) against a store
///    of the root, the bundle's CAs and the CRLs in force at that time (thisUpdate ≤ t <
///    nextUpdate; the highest-numbered per issuer). A seal revoked after it signed does not
///    undo what it signed; one revoked before fails ([`axis_signer::CertificateError::SignerRevoked`]); no CRL in force
///    for an issuer on the path fails closed (the PKI's `CrlMissing`, `CrlStale`, …) — the
///    "past signature validation" of ETSI EN 319 102-1. The claimed time is the signer's word;
///    the log bounds it from above (steps 5 and 6).
/// 4. **The tree head** ([`SignedTreeHead::verify`]): a CMS signature by an axis-log-signer
///    certificate whose key is `log_key` (another log of the same PKI cannot stand in), signing
///    time equal to the head's timestamp.
/// 5. **The submission**: the sender's seal over the exact routing-header bytes, by the
///    header's sender ([`Submission::verify`]: no submission in another agency's name); the
///    acceptance entry records exactly this header and signature
///    ([`LogEntryBytes::check_acceptance_of`]); it is included under the tree head (RFC 9162
///    §2.1.3.2: the axis committed to it and cannot remove it without forking its log); it was
///    logged no earlier than signed (less [`SIGNING_TIME_TOLERANCE`]) and no later than the
///    head — a signature cannot claim a time after the axis saw it.
/// 6. **Each statement, in bundle order**, which must be strictly increasing leaf order after
///    the acceptance (no reordering, no entry shown twice); its recipient is one of the
///    header's (no statement about a copy that was never sent); then, in its recipient's
///    [`ReceiptChain`] (from [`DocumentRef::logged`]): [`ReceiptChain::push`] verifies the
///    signature at its own time and the party, message, digests, hash chain (nothing removed,
///    inserted or reordered), transition and order in time; its CMS signing time is its
///    `time` (the time trust was evaluated at is the one signed); its entry records exactly
///    this receipt and signature ([`LogEntryBytes::check_statement_of`]); it is included under
///    the head; logged no earlier than stated (less the tolerance) and no later than the head.
/// 7. **One document**: every receipt, whatever its recipient, names the same DocumentId and
///    manifest digest — the axis cannot read them, so only the receipts bind the copies
///    together.
///
/// Errors about one element are [`Error::BundleItem`] naming it, with the exact cause as the
/// source; errors about the bundle as a whole (size, DER, format, version, counts) are returned
/// as they are.
pub fn verify_bundle(bytes: &[u8], root: &[u8], log_key: &[u8]) -> Result<BundleReport, Error> {
    // Step 1.
    let b = EvidenceBundle::parse(bytes)?;

    // Step 2.
    let mut trust = Trust::new(root, &b)?;
    let head_time = within(BundleItem::TreeHead, || {
        Ok(claimed_signing_time(
            b.tree_head.signature(),
            SignatureRole::TreeHead,
        )?)
    })?;
    let submission_time = within(BundleItem::Submission, || {
        Ok(claimed_signing_time(
            b.submission.signature(),
            SignatureRole::Submission,
        )?)
    })?;
    let mut times: Vec<OffsetDateTime> = [head_time, submission_time]
        .into_iter()
        .chain(
            b.statements
                .iter()
                .map(|s| s.receipt.receipt().receipt().time),
        )
        .collect();
    times.sort();
    times.dedup();
    for (index, ca) in b.intermediates.iter().enumerate() {
        within(BundleItem::Intermediate { index }, || {
            let mut first_error = None;
            for &t in &times {
                match trust.at(t)?.verify(ca, Profile::IssuingCa, t) {
                    Ok(_) => return Ok(()),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Err(TrustError::CertificateRejected {
                source: first_error.unwrap_or(axis_pki::Error::CertificateMalformed),
            }
            .into())
        })?;
    }

    // Steps 3 and 4.
    let tree_head = within(BundleItem::TreeHead, || {
        b.tree_head
            .verify(trust.at(head_time)?, head_time, Some(log_key))
    })?;

    // Steps 3 and 5.
    let submission = within(BundleItem::Submission, || {
        Ok(b.submission
            .verify(trust.at(submission_time)?, submission_time)?)
    })?;
    let acceptance = &b.acceptance;
    within(BundleItem::Acceptance, || {
        acceptance.entry.check_acceptance_of(&b.submission)?;
        acceptance.check_included(&tree_head)?;
        acceptance.check_times(submission.report().signing_time, &tree_head)
    })?;

    // Step 6: log order first, over the whole list, so that a reordering is named as such.
    let mut previous = acceptance.leaf_index;
    for (index, s) in b.statements.iter().enumerate() {
        let found = s.logged.leaf_index;
        if found <= previous {
            return Err(Error::BundleItem {
                item: BundleItem::Statement {
                    index,
                    recipient: Some(s.recipient.clone()),
                },
                source: Box::new(LogError::StatementOutOfLogOrder { previous, found }.into()),
            });
        }
        previous = found;
    }

    // Steps 3, 6 and 7.
    let header = b.submission.header();
    let mut chains: Vec<(AgencyId, ReceiptChain, Vec<TimelineEvent>)> = Vec::new();
    let mut document: Option<(DocumentId, [u8; 32])> = None;
    for (index, s) in b.statements.iter().enumerate() {
        let item = BundleItem::Statement {
            index,
            recipient: Some(s.recipient.clone()),
        };
        within(item, || {
            let receipt = s.receipt.receipt().receipt();
            let t = receipt.time;
            let position = match chains.iter().position(|(r, _, _)| r == &s.recipient) {
                Some(p) => p,
                None => {
                    let doc = DocumentRef::logged(header, &s.recipient)?;
                    chains.push((s.recipient.clone(), ReceiptChain::new(doc), Vec::new()));
                    chains.len() - 1
                }
            };
            let (_, chain, events) = &mut chains[position];
            let verified = chain.push(&s.receipt, trust.at(t)?, t)?;
            let report = verified.report();
            if report.signing_time != t {
                return Err(SignatureError::ReceiptTimeMismatch {
                    time: t,
                    signing_time: report.signing_time,
                }
                .into());
            }
            s.logged.entry.check_statement_of(&s.receipt)?;
            s.logged.check_included(&tree_head)?;
            s.logged.check_times(t, &tree_head)?;
            // An unopened refusal names no document; the others must all name the same one.
            if let (Some(id), Some(digest)) = (&receipt.document_id, &receipt.manifest_digest) {
                match &document {
                    None => document = Some((id.clone(), *digest)),
                    Some((known, _)) if known != id => {
                        return Err(ChainError::ReceiptSubjectMismatch {
                            field: "DocumentId",
                        }
                        .into());
                    }
                    Some((_, known)) if known != digest => {
                        return Err(ChainError::ReceiptDigestMismatch {
                            kind: DigestKind::Manifest,
                        }
                        .into());
                    }
                    Some(_) => {}
                }
            }
            events.push(TimelineEvent {
                status: receipt.status,
                stated_by: receipt.from.clone(),
                seal_signer: report.signer_name.clone(),
                stated_at: t,
                logged_at: s.logged.entry.entry().logged_at,
                leaf_index: s.logged.leaf_index,
                reason: receipt.reason.clone(),
            });
            Ok(())
        })?;
    }

    let h = header.header();
    let timelines = h
        .recipients
        .iter()
        .map(|r| RecipientTimeline {
            recipient: r.clone(),
            events: chains
                .iter()
                .find(|(c, _, _)| c == r)
                .map(|(_, _, e)| e.clone())
                .unwrap_or_default(),
        })
        .collect();
    let (document_id, manifest_digest) =
        document.map_or((None, None), |(id, d)| (Some(id), Some(d)));
    Ok(BundleReport {
        message_id: h.message_id,
        sender: h.sender.clone(),
        sender_seal: submission.report().clone(),
        recipients: h.recipients.clone(),
        ciphertext_len: h.ciphertext_len,
        ciphertext_digest: h.ciphertext_digest,
        accepted_at: acceptance.entry.entry().logged_at,
        acceptance_index: acceptance.leaf_index,
        document_id,
        manifest_digest,
        timelines,
        tree_head,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3339 in UTC, whole seconds (`2026-01-02T09:02:00Z`).
struct When(OffsetDateTime);

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

impl fmt::Display for BundleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Message {}", self.message_id)?;
        writeln!(
            f,
            "  sent by {}, sealed by \"{}\" at {}",
            self.sender,
            self.sender_seal.signer_name,
            When(self.sender_seal.signing_time)
        )?;
        let to: Vec<&str> = self.recipients.iter().map(AgencyId::as_str).collect();
        writeln!(f, "  to {}", to.join(", "))?;
        match (&self.document_id, &self.manifest_digest) {
            (Some(id), Some(d)) => writeln!(
                f,
                "  document {id} (manifest SHA-256 {}), {} bytes encrypted",
                hex(d),
                self.ciphertext_len
            )?,
            _ => writeln!(
                f,
                "  document not named by any receipt, {} bytes encrypted",
                self.ciphertext_len
            )?,
        }
        writeln!(
            f,
            "  accepted by the axis at {} (log entry {})",
            When(self.accepted_at),
            self.acceptance_index
        )?;
        for t in &self.timelines {
            let received = t
                .events
                .iter()
                .find(|e| e.status == StatusCode::Arrived)
                .map_or("not received in this bundle".to_owned(), |e| {
                    format!("received at {}", When(e.stated_at))
                });
            writeln!(f, "Recipient {}: {received}", t.recipient)?;
            for e in &t.events {
                write!(
                    f,
                    "  {}  {} {}, stated by {} (\"{}\"), logged {} (entry {})",
                    When(e.stated_at),
                    e.status,
                    e.status.meaning(),
                    e.stated_by,
                    e.seal_signer,
                    When(e.logged_at),
                    e.leaf_index
                )?;
                if !e.reason.is_empty() {
                    write!(f, ": \"{}\"", e.reason)?;
                }
                writeln!(f)?;
            }
        }
        let h = self.tree_head.head();
        write!(
            f,
            "In the axis log: tree head of {} entries, root {}, signed at {} by \"{}\"",
            h.tree_size,
            hex(&h.root_hash),
            When(h.timestamp),
            self.tree_head.signer()
        )
    }
}

#[cfg(test)]
mod tests;
