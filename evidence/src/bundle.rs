//! Evidence bundles: everything an auditor needs to prove, offline and years later, who sent
//! which message to whom, when the axis accepted it, what each recipient did with it, and that
//! all of it is in the axis's log — holding only the root certificate and the log signer's key.
//!
//! ```text
//! EvidenceBundle ::= SEQUENCE {
//!   format               OBJECT IDENTIFIER,        -- <AXIS_OID_ARC>.2.7
//!   version              INTEGER (2 | 3),         -- 1: no completeness (refused, below);
//!                                                  -- 3: with cosignatures
//!   routingHeader        OCTET STRING,             -- exact signed bytes
//!   submissionSignature  OCTET STRING,             -- CMS over routingHeader (sender's seal)
//!   intermediates        SEQUENCE SIZE (0..64) OF OCTET STRING,  -- issuing CA certificates (DER)
//!   crls                 SEQUENCE SIZE (0..256) OF OCTET STRING, -- every CRL needed: each in
//!                                                                -- force at some signing time
//!   treeHead             OCTET STRING,             -- one signed tree head covering every entry
//!   treeHeadSignature    OCTET STRING,             -- CMS over treeHead (axis log signer)
//!   acceptance           Logged,                   -- the acceptance of the submission
//!   statements           SEQUENCE SIZE (0..512) OF Statement,    -- in log order
//!   completeness         OCTET STRING,             -- version 2: Completeness DER (.2.8)
//!   completenessSignature OCTET STRING,            -- CMS over it (axis log signer)
//!   cosignatures         SEQUENCE SIZE (1..32) OF Cosignature OPTIONAL } -- version 3 only:
//!                        -- witnesses' cosignatures of treeHead (.2.11), ascending DER order,
//!                        -- one per witness; absent (version 2) when there are none
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
//! **One byte form.** Every byte of a bundle is covered: by a signature (the tree head, the
//! signed parts of certificates and CRLs), by a digest inside signed data (the routing header,
//! receipts and their CMS signatures are digested in log entries, which are leaves under the
//! signed root; a signer certificate is digested in its signature's signed attributes), or by
//! re-encoding and comparing (the bundle's own DER; the tree head's CMS signature rebuilt as the
//! log signer writes it, its CA copies the bundle's own; certificates and CRLs in strict DER
//! with their outer algorithm equal to the signed one, no unused bits; ECDSA values with the
//! low s). The CA certificates and the CRLs are each in ascending DER order without repeats,
//! and each is needed by some verification: an exporter builds the bundle and then keeps what
//! [`EvidenceBundle::trimmed`] keeps. So two bundles of the same evidence are byte-identical,
//! and any other byte string is refused, naming the element and its byte offset
//! ([`Error::BundleItem`], [`Error::Layout`]).
//!
//! **Completeness** (version 2). The axis's signed [`Completeness`] statement says, as of the
//! bundle's tree head, how many statements its log holds for the message per recipient and
//! which is the last (the chain head): a bundle whose chain for a recipient stops short of it
//! is refused naming the recipient. A version 1 bundle has none: [`verify_bundle`] refuses it
//! ([`LogError::NoCompletenessProof`]); [`verify_bundle_any_version`] verifies the rest and
//! reports completeness as not proven. Later versions append their elements after the
//! completeness statement, so an older reader refuses a later bundle by its version, never
//! misreads it.
//!
//! **Cosignatures** (version 3). The witnesses' cosignatures of the bundle's tree head
//! ([`Cosignature`]), each by a different witness, in ascending DER order. [`verify_bundle`]
//! checks that each is of this head of this log (step 11); whose they are and whether they
//! verify is [`crate::check_witnessed`]'s question, with the witness keys the auditor trusts
//! (`axis audit verify --witness … --min-witnesses K`). A cosignature's bytes are covered by its
//! witness's signature: a changed byte is refused when that witness's key is given, and a
//! cosignature by a witness the auditor does not name proves nothing either way. A bundle
//! without cosignatures is version 2 (an empty list is never written: one byte form).
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

use crate::completeness::{Coverage, SignedCompleteness, VerifiedCompleteness};
use crate::error::{Error, LogError, TrustError, WitnessError};
use crate::limits::{
    MAX_BUNDLE_CRLS, MAX_BUNDLE_INTERMEDIATES, MAX_BUNDLE_LEN, MAX_BUNDLE_STATEMENTS,
    MAX_COSIGNATURES,
};
use crate::log::{LogEntryBytes, SignedTreeHead, VerifiedTreeHead};
use crate::witness::Cosignature;

mod layout;

use layout::Layout;
pub use layout::{LayoutError, LayoutProblem};

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
    /// The completeness statement, its signature, or a chain it does not match (the error
    /// names the recipient).
    Completeness,
    /// A witness's cosignature of the tree head (0 first).
    Cosignature {
        /// Its position.
        index: usize,
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
            BundleItem::Completeness => f.write_str("the completeness statement"),
            BundleItem::Cosignature { index } => write!(f, "cosignature {index}"),
        }
    }
}

/// Runs `f` and names `item` and its offset on its error.
fn within<T>(
    layout: &Layout,
    item: BundleItem,
    f: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    f().map_err(|source| Error::BundleItem {
        at: layout.at(&item),
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
    fn check_included(&self, h: &crate::log::TreeHead) -> Result<(), Error> {
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
    /// The axis's signed statement of what its log holds for the message as of `tree_head`
    /// (version 2); `None` is a version 1 bundle, which proves no completeness.
    pub completeness: Option<SignedCompleteness>,
    /// The witnesses' cosignatures of `tree_head` (version 3; empty in version 2), in
    /// ascending DER order, one per witness.
    pub cosignatures: Vec<Cosignature>,
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
const COSIGNATURES: &str = "cosignatures in an evidence bundle";

/// Strictly ascending DER order, one per witness: the one byte form of the cosignatures.
fn check_cosignature_order(cosignatures: &[Cosignature]) -> Result<(), (usize, Error)> {
    for (i, pair) in cosignatures.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        if a.as_bytes() >= b.as_bytes()
            || cosignatures[..=i]
                .iter()
                .any(|c| c.cosigned().witness == b.cosigned().witness)
        {
            return Err((i + 1, WitnessError::CosignaturesOutOfOrder.into()));
        }
    }
    Ok(())
}

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
        budget(COSIGNATURES, self.cosignatures.len(), MAX_COSIGNATURES)?;
        check_cosignature_order(&self.cosignatures).map_err(|(_, e)| e)?;
        let list = |items: &[Vec<u8>]| -> Vec<u8> {
            let body: Vec<u8> = items
                .iter()
                .map(|i| der::octets(i))
                .collect::<Vec<_>>()
                .concat();
            der::tlv(der::SEQUENCE, &body)
        };
        let statements: Vec<u8> = self
            .statements
            .iter()
            .map(|s| {
                der::seq(&[
                    &der::utf8(s.recipient.as_str()),
                    &der::octets(s.receipt.receipt().as_bytes()),
                    &der::octets(s.receipt.signature()),
                    &s.logged.encode(),
                ])
            })
            .collect::<Vec<_>>()
            .concat();
        let (version, completeness) = match (&self.completeness, self.cosignatures.is_empty()) {
            (Some(c), true) => (
                2,
                [der::octets(c.as_bytes()), der::octets(c.signature())].concat(),
            ),
            (Some(c), false) => {
                let cosignatures: Vec<u8> = self
                    .cosignatures
                    .iter()
                    .flat_map(|c| c.as_bytes().iter().copied())
                    .collect();
                (
                    3,
                    [
                        der::octets(c.as_bytes()),
                        der::octets(c.signature()),
                        der::tlv(der::SEQUENCE, &cosignatures),
                    ]
                    .concat(),
                )
            }
            (None, true) => (1, Vec::new()),
            // Cosignatures come only with a completeness statement (version 3).
            (None, false) => return Err(FormatError::Malformed { what: WHAT }.into()),
        };
        let bytes = der::seq(&[
            &der::oid(Format::EvidenceBundle.oid()),
            &der::uint(version),
            &der::octets(self.submission.header().as_bytes()),
            &der::octets(self.submission.signature()),
            &list(&self.intermediates),
            &list(&self.crls),
            &der::octets(self.tree_head.as_bytes()),
            &der::octets(self.tree_head.signature()),
            &self.acceptance.encode(),
            &der::tlv(der::SEQUENCE, &statements),
            &completeness,
        ]);
        check_len(WHAT, bytes.len(), MAX_BUNDLE_LEN)?;
        Ok(bytes)
    }

    /// Parses untrusted bytes; nothing is verified yet.
    ///
    /// 1. Size budget ([`MAX_BUNDLE_LEN`]) before anything is read.
    /// 2. Strict DER, the evidence-bundle format OID, version 1, 2 or 3.
    /// 3. Count budgets while reading ([`MAX_BUNDLE_INTERMEDIATES`], [`MAX_BUNDLE_CRLS`],
    ///    [`MAX_BUNDLE_STATEMENTS`], 64 hashes per path), and each item within its own budget
    ///    and parsed by its own parser (routing header, receipts, log entries, tree head);
    ///    errors in an item are [`Error::BundleItem`] naming it.
    ///    The cosignatures (version 3) in ascending DER order, one per witness.
    /// 4. Re-encoding gives the same bytes: one bundle, one byte form.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        Self::parse_located(bytes).map(|(bundle, _)| bundle)
    }

    /// [`EvidenceBundle::parse`], with where each element is.
    fn parse_located(bytes: &[u8]) -> Result<(Self, Layout), Error> {
        // Step 1.
        check_len(WHAT, bytes.len(), MAX_BUNDLE_LEN)?;
        // Step 2: the shape first, so that a cut, trailing bytes or a misplaced element are
        // named with their offset; then the format and version.
        if Format::of(bytes).is_some_and(|f| f != Format::EvidenceBundle) {
            return Err(FormatError::WrongFormat { expected: WHAT }.into());
        }
        let layout = &layout::scan(bytes)?;
        let (mut r, version) = Format::EvidenceBundle.open_versions(bytes, WHAT, 3)?;
        // Step 3.
        let submission = within(layout, BundleItem::Submission, || {
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
            let cert = within(layout, BundleItem::Intermediate { index }, || {
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
            let crl = within(layout, BundleItem::Crl { index }, || {
                let c = list.octet_string()?;
                check_len("CRL", c.len(), axis_pki::MAX_CRL_DER_LEN)?;
                Ok(c.to_vec())
            })?;
            crls.push(crl);
        }
        let tree_head = within(layout, BundleItem::TreeHead, || {
            let head = r.octet_string()?;
            let signature = r.octet_string()?;
            check_signature_len(signature)?;
            SignedTreeHead::parse(head, signature.to_vec())
        })?;
        let acceptance = within(layout, BundleItem::Acceptance, || LoggedEntry::read(&mut r))?;
        let mut list = r.sequence()?;
        let mut statements = Vec::new();
        while !list.is_empty() {
            let index = statements.len();
            budget(STATEMENTS, index + 1, MAX_BUNDLE_STATEMENTS)?;
            let (mut s, recipient) = within(
                layout,
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
            let (receipt, logged) = within(layout, item, || {
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
        let completeness = if version >= 2 {
            Some(within(layout, BundleItem::Completeness, || {
                let statement = r.octet_string()?;
                let signature = r.octet_string()?;
                check_signature_len(signature)?;
                SignedCompleteness::parse(statement, signature.to_vec())
            })?)
        } else {
            None
        };
        let mut cosignatures = Vec::new();
        if version == 3 {
            let mut list = r.sequence()?;
            while !list.is_empty() {
                let index = cosignatures.len();
                budget(COSIGNATURES, index + 1, MAX_COSIGNATURES)?;
                cosignatures.push(within(layout, BundleItem::Cosignature { index }, || {
                    Cosignature::parse(list.any()?.raw)
                })?);
            }
            if let Err((index, e)) = check_cosignature_order(&cosignatures) {
                return within(layout, BundleItem::Cosignature { index }, || Err(e));
            }
        }
        r.finish()?;
        let bundle = EvidenceBundle {
            submission,
            intermediates,
            crls,
            tree_head,
            acceptance,
            statements,
            completeness,
            cosignatures,
        };
        // Step 4.
        if bundle.encode()? != bytes {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        Ok((bundle, layout.clone()))
    }

    /// The bundle an exporter hands out: the CA certificates and CRLs in ascending DER order
    /// without repeats, and only those some verification of the bundle relies on (see the
    /// module docs). Everything else is verified as [`verify_bundle`] does; what it returns
    /// verifies with the same root and log key.
    pub fn trimmed(mut self, root: &[u8], log_key: &[u8]) -> Result<Self, Error> {
        self.intermediates.sort();
        self.intermediates.dedup();
        self.crls.sort();
        self.crls.dedup();
        let layout = Layout::default();
        let (_, used) = verify_parsed(&self, &layout, root, log_key, Mode::Collect, false)?;
        let keep = |list: Vec<Vec<u8>>, used: &[bool]| -> Vec<Vec<u8>> {
            list.into_iter()
                .zip(used)
                .filter(|(_, u)| **u)
                .map(|(item, _)| item)
                .collect()
        };
        self.intermediates = keep(self.intermediates, &used.intermediates);
        self.crls = keep(self.crls, &used.crls);
        Ok(self)
    }
}

/// Whether a verification refuses CA certificates and CRLs that nothing relied on, or only
/// records which were used (to trim an exporter's bundle).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Collect,
}

/// Which CA certificates and CRLs some verification relied on, by position.
struct Used {
    intermediates: Vec<bool>,
    crls: Vec<bool>,
}

/// The trust material of a bundle, one [`TrustStore`] per distinct set of CRLs in force, and
/// the paths the verifications took.
struct Trust {
    /// The root, the bundle's CAs and all its CRLs.
    full: TrustStore,
    intermediates: Vec<Vec<u8>>,
    /// thisUpdate and nextUpdate of each CRL.
    windows: Vec<(OffsetDateTime, Option<OffsetDateTime>)>,
    /// The issuer (raw DER name) and number of each CRL.
    crl_ids: Vec<(Vec<u8>, u64)>,
    stores: HashMap<Vec<usize>, TrustStore>,
    /// Each signing time with the CA certificates its signature's path went through (the
    /// trust anchor last).
    paths: Vec<(OffsetDateTime, Vec<Vec<u8>>)>,
}

/// Fails unless `list` is in strictly ascending order; names the first item that is not.
fn check_ascending(
    layout: &Layout,
    list: &[Vec<u8>],
    item: impl Fn(usize) -> BundleItem,
) -> Result<(), Error> {
    match list.windows(2).position(|w| w[0] >= w[1]) {
        Some(i) => within(layout, item(i + 1), || Err(TrustError::OutOfOrder.into())),
        None => Ok(()),
    }
}

impl Trust {
    /// Checks the root, each CA certificate and each CRL on its own, naming the one that fails:
    /// one byte form and order, then what each is.
    fn new(root: &[u8], bundle: &EvidenceBundle, layout: &Layout) -> Result<Self, Error> {
        let rejected = |source| Error::from(TrustError::CertificateRejected { source });
        let not_normal = |source| Error::from(TrustError::NotNormalForm { source });
        check_ascending(layout, &bundle.intermediates, |index| {
            BundleItem::Intermediate { index }
        })?;
        for (index, c) in bundle.intermediates.iter().enumerate() {
            within(layout, BundleItem::Intermediate { index }, || {
                axis_pki::subject_of(c).map_err(rejected)?;
                axis_pki::check_certificate_form(c).map_err(not_normal)
            })?;
        }
        check_ascending(layout, &bundle.crls, |index| BundleItem::Crl { index })?;
        let crl_rejected = |source| Error::from(TrustError::CrlRejected { source });
        for (index, crl) in bundle.crls.iter().enumerate() {
            within(layout, BundleItem::Crl { index }, || {
                axis_pki::summarize_crl(crl).map_err(crl_rejected)?;
                axis_pki::check_crl_form(crl).map_err(not_normal)
            })?;
        }
        // One store with everything, built (and every signature between its items checked)
        // once; the store for a signing time keeps the CRLs in force then.
        let full = TrustStore::new(
            vec![root.to_vec()],
            bundle.intermediates.clone(),
            bundle.crls.clone(),
        )
        .or_else(|e| {
            within(layout, BundleItem::TrustAnchor, || {
                TrustStore::new(vec![root.to_vec()], vec![], vec![])
                    .map(drop)
                    .map_err(rejected)
            })?;
            Err(rejected(e))
        })?;
        // Every CRL is signed by the root or one of the bundle's CAs (cRLSign), carries no
        // unknown critical extension, and has a nextUpdate after its thisUpdate.
        let mut windows = Vec::with_capacity(bundle.crls.len());
        let mut crl_ids = Vec::with_capacity(bundle.crls.len());
        for (index, crl) in bundle.crls.iter().enumerate() {
            let (window, id) = within(layout, BundleItem::Crl { index }, || {
                let s = axis_pki::summarize_crl(crl).map_err(crl_rejected)?;
                let checked = full.check_own_crl(index).map_err(crl_rejected)?;
                Ok((
                    (s.this_update, s.next_update),
                    (checked.issuer, checked.number),
                ))
            })?;
            windows.push(window);
            crl_ids.push(id);
        }
        Ok(Trust {
            full,
            intermediates: bundle.intermediates.clone(),
            windows,
            crl_ids,
            stores: HashMap::new(),
            paths: Vec::new(),
        })
    }

    fn in_force(&self, i: usize, t: OffsetDateTime) -> bool {
        let (this, next) = self.windows[i];
        this <= t && next.is_some_and(|n| t < n)
    }

    /// The store for verifying a signature made at `t`: the root, the bundle's CAs and the CRLs
    /// in force at `t` (thisUpdate ≤ t < nextUpdate). Built once per distinct set of CRLs.
    fn at(&mut self, t: OffsetDateTime) -> Result<&TrustStore, Error> {
        let key: Vec<usize> = (0..self.windows.len())
            .filter(|&i| self.in_force(i, t))
            .collect();
        let store = match self.stores.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let store = self.full.with_crls(v.key());
                v.insert(store)
            }
        };
        Ok(store)
    }

    /// Records the path a signature made at `t` was verified on (`chain`: its CAs, the trust
    /// anchor last). Every CA below the anchor must be one of the bundle's own CA certificates:
    /// a copy carried in a signature is used only if it is byte for byte one of them, so
    /// nothing in a signature's certificate set escapes the bundle's checks.
    fn record(&mut self, t: OffsetDateTime, chain: &[Vec<u8>]) -> Result<(), Error> {
        let below_anchor = &chain[..chain.len().saturating_sub(1)];
        if below_anchor
            .iter()
            .any(|ca| !self.intermediates.contains(ca))
        {
            return Err(TrustError::CaNotInBundle.into());
        }
        self.paths.push((t, chain.to_vec()));
        Ok(())
    }

    /// What the recorded verifications relied on: the CAs on their paths, and for each signing
    /// time and each CA on its path, the CRL the PKI consulted (the highest-numbered in force
    /// then from that CA; the first of equals, as [`TrustStore`] picks it).
    fn used(&self) -> Result<Used, Error> {
        let mut used = Used {
            intermediates: vec![false; self.intermediates.len()],
            crls: vec![false; self.crl_ids.len()],
        };
        let mut subjects: HashMap<&[u8], Vec<u8>> = HashMap::new();
        for (t, chain) in &self.paths {
            for ca in chain {
                if let Some(i) = self.intermediates.iter().position(|c| c == ca) {
                    used.intermediates[i] = true;
                }
                let subject = match subjects.entry(ca.as_slice()) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(v) => v.insert(
                        axis_pki::subject_der_of(ca)
                            .map_err(|source| TrustError::CertificateRejected { source })?,
                    ),
                };
                let mut best: Option<usize> = None;
                for (i, (issuer, number)) in self.crl_ids.iter().enumerate() {
                    if issuer == subject
                        && self.in_force(i, *t)
                        && best.is_none_or(|b| *number > self.crl_ids[b].1)
                    {
                        best = Some(i);
                    }
                }
                if let Some(i) = best {
                    used.crls[i] = true;
                }
            }
        }
        Ok(used)
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
    /// Its entry's RFC 9162 leaf hash.
    pub leaf_hash: [u8; 32],
    /// SHA-256 of the receipt bytes (what the next receipt's `previous` names).
    pub receipt_digest: [u8; 32],
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
    /// The verified completeness statement and whose chains it covers; `None` only from
    /// [`verify_bundle_any_version`] for a version 1 bundle (completeness not proven).
    pub completeness: Option<(VerifiedCompleteness, Coverage)>,
    /// The witnesses' cosignatures the bundle carries, each of `tree_head` of this log (step
    /// 11) but not verified: [`crate::check_witnessed`] does that with the witnesses' keys.
    pub cosignatures: Vec<Cosignature>,
}

/// Verifies an evidence bundle offline, holding only the root certificate (DER) and the log
/// signer's public key (DER SubjectPublicKeyInfo). No clock: every signature is checked at the
/// time it was made, with the CRLs in force then.
///
/// 1. **Parse within budgets** ([`EvidenceBundle::parse`]): size, counts, strict DER, one byte
///    form — against resource exhaustion and encoding ambiguity; a cut, trailing bytes or a
///    misplaced element is named with its offset.
/// 2. **What hashes alone decide, before any signature**: the acceptance and every statement's
///    entry is included under the tree head's root (RFC 9162 §2.1.3.2: the axis committed to it
///    and cannot remove it without forking its log) — when one is not, the tree head's
///    signature decides whether the head or the element is named; the acceptance entry records
///    exactly this routing header and submission signature
///    ([`LogEntryBytes::check_acceptance_of`]: otherwise the submission is not the one the axis
///    logged); the statements are in strictly increasing leaf order after the acceptance (no
///    reordering, no entry shown twice); each statement's entry records exactly its receipt and
///    signature ([`LogEntryBytes::check_statement_of`]). A changed byte of a logged item is so
///    refused without a signature verification.
/// 3. **Trust material, each item on its own**: the root parses; the CA certificates, and the
///    CRLs, are each in ascending DER order without repeats and in their one DER form
///    ([`axis_pki::check_certificate_form`], [`axis_pki::check_crl_form`]: the parts their
///    signatures do not cover cannot vary); every CA certificate parses; every CRL is signed
///    by the root or a bundle CA allowed to sign CRLs, with no unknown critical extension and a
///    nextUpdate (RFC 5280 §5, §6.3.3) — so a forged or altered CRL is named, not silently
///    skipped. Every CA certificate is an issuing CA under the root, valid and unrevoked at one
///    of the bundle's signing times (RFC 5280 §6.1) — so an altered or foreign CA is refused
///    even though the signatures carry their own copies.
/// 4. **Trust per signing time**: each signature is verified at the time it claims (the CMS
///    signingTime of the tree head and the submission, the `time` of a receipt) against a store
///    of the root, the bundle's CAs and the CRLs in force at that time (thisUpdate ≤ t <
///    nextUpdate; the highest-numbered per issuer). A seal revoked after it signed does not
///    undo what it signed; one revoked before fails
///    ([`axis_signer::CertificateError::SignerRevoked`]); no CRL in force for an issuer on the
///    path fails closed (the PKI's `CrlMissing`, `CrlStale`, …) — the "past signature
///    validation" of ETSI EN 319 102-1. The claimed time is the signer's word; the log bounds it
///    from above (steps 6 and 7).
/// 5. **The tree head** ([`SignedTreeHead::verify_normal_form`]): a CMS signature by an
///    axis-log-signer certificate whose key is `log_key` (another log of the same PKI cannot
///    stand in), signing time equal to the head's timestamp, in the one form the log signer
///    writes (nothing outside its signed attributes can vary; the low s).
/// 6. **The submission**: the sender's seal over the exact routing-header bytes, by the
///    header's sender ([`Submission::verify`]: no submission in another agency's name); its
///    acceptance was logged no earlier than it was signed (less [`SIGNING_TIME_TOLERANCE`])
///    and no later than the head — a signature cannot claim a time after the axis saw it.
/// 7. **Each statement, in bundle order**: its recipient is one of the header's (no statement
///    about a copy that was never sent); then, in its recipient's [`ReceiptChain`] (from
///    [`DocumentRef::logged`]): [`ReceiptChain::push`] verifies the signature at its own time
///    and the party, message, digests, hash chain (nothing removed, inserted or reordered),
///    transition and order in time; its CMS signing time is its `time` (the time trust was
///    evaluated at is the one signed); logged no earlier than stated (less the tolerance) and
///    no later than the head.
/// 8. **One document**: every receipt, whatever its recipient, names the same DocumentId and
///    manifest digest — the axis cannot read them, so only the receipts bind the copies
///    together.
/// 9. **Exactly the trust material needed**: every CA on a path verified in steps 5–7 is one of
///    the bundle's own CA certificates (a signature's copy is not trusted unless identical);
///    every bundle CA certificate is on such a path, and every CRL was consulted for one (the
///    highest-numbered in force at a signing time from a CA on that path). With step 3's
///    order and forms, nothing can be added, removed or substituted in either list.
/// 10. **Completeness** ([`VerifiedCompleteness`]): the bundle carries the axis's completeness
///     statement (a version 1 bundle is refused, [`LogError::NoCompletenessProof`]), signed by
///     the pinned log key at its own time (CRLs in force then; its CAs counted in step 9) in the
///     log signer's one byte form; it speaks of this message, this bundle's tree head (size and
///     root) and acceptance, and covers every recipient of the header in order or exactly one;
///     every statement of the bundle is for a covered recipient; and for each covered recipient
///     the bundle's chain has exactly the stated count, its last statement at the stated leaf
///     index with the stated receipt digest. A chain cut short (the last statuses removed, or
///     all of them) is refused naming the recipient ([`LogError::IncompleteChain`],
///     [`LogError::ChainHeadMismatch`]). What this proves and what it does not: SECURITY.md.
/// 11. **Cosignatures** (version 3): each is of this tree head (size and root) of the log whose
///     signer is `log_key` ([`WitnessError::NotOfThisHead`]); their signatures are checked by
///     [`crate::check_witnessed`] with the witness keys the auditor gives.
///
/// Errors about one element are [`Error::BundleItem`] naming it and its byte offset, with the
/// exact cause as the source; a bundle whose bytes do not have the bundle's shape (cut short,
/// trailing bytes, a misplaced element) is [`Error::Layout`] naming the element and offset;
/// errors about the bundle as a whole (size, format, version, counts) are returned as they
/// are.
pub fn verify_bundle(bytes: &[u8], root: &[u8], log_key: &[u8]) -> Result<BundleReport, Error> {
    // Step 1.
    let (b, layout) = EvidenceBundle::parse_located(bytes)?;
    verify_parsed(&b, &layout, root, log_key, Mode::Strict, true).map(|(report, _)| report)
}

/// [`verify_bundle`], except that a version 1 bundle (without a completeness statement) is
/// verified in every other step and reported with [`BundleReport::completeness`] `None`:
/// what an auditor may still learn from an old bundle, never a proof that its history is
/// complete (`axis audit verify` prints COMPLETENESS NOT PROVEN and exits 5). A version 2
/// bundle is verified exactly as [`verify_bundle`] does.
pub fn verify_bundle_any_version(
    bytes: &[u8],
    root: &[u8],
    log_key: &[u8],
) -> Result<BundleReport, Error> {
    let (b, layout) = EvidenceBundle::parse_located(bytes)?;
    verify_parsed(&b, &layout, root, log_key, Mode::Strict, false).map(|(report, _)| report)
}

/// Steps 2 to 10 of [`verify_bundle`]; in [`Mode::Collect`], step 9 only records; a bundle
/// without completeness statement is refused only if `require_completeness`.
fn verify_parsed(
    b: &EvidenceBundle,
    layout: &Layout,
    root: &[u8],
    log_key: &[u8],
    mode: Mode,
    require_completeness: bool,
) -> Result<(BundleReport, Used), Error> {
    // Step 2: what hashes alone decide, before any signature.
    let statement_item = |index: usize, s: &BundleStatement| BundleItem::Statement {
        index,
        recipient: Some(s.recipient.clone()),
    };
    let head_time = || {
        within(layout, BundleItem::TreeHead, || {
            Ok(claimed_signing_time(
                b.tree_head.signature(),
                SignatureRole::TreeHead,
            )?)
        })
    };
    let claimed = b.tree_head.head();
    let logged = std::iter::once((BundleItem::Acceptance, &b.acceptance)).chain(
        b.statements
            .iter()
            .enumerate()
            .map(|(i, s)| (statement_item(i, s), &s.logged)),
    );
    for (item, l) in logged {
        if let Err(e) = l.check_included(claimed) {
            // Either this element's entry or path differs, or the tree head does: its
            // signature decides which one is named.
            let mut trust = Trust::new(root, b, layout)?;
            let t = head_time()?;
            within(layout, BundleItem::TreeHead, || {
                b.tree_head
                    .verify_normal_form(trust.at(t)?, t, Some(log_key))
                    .map(drop)
            })?;
            return within(layout, item, || Err(e));
        }
    }
    within(layout, BundleItem::Submission, || {
        b.acceptance.entry.check_acceptance_of(&b.submission)
    })?;
    // Log order over the whole list, so that a reordering is named as such.
    let mut previous = b.acceptance.leaf_index;
    for (index, s) in b.statements.iter().enumerate() {
        let found = s.logged.leaf_index;
        if found <= previous {
            return within(layout, statement_item(index, s), || {
                Err(LogError::StatementOutOfLogOrder { previous, found }.into())
            });
        }
        previous = found;
    }
    for (index, s) in b.statements.iter().enumerate() {
        within(layout, statement_item(index, s), || {
            s.logged.entry.check_statement_of(&s.receipt)
        })?;
    }

    // Step 3.
    let mut trust = Trust::new(root, b, layout)?;
    let head_time = head_time()?;
    let submission_time = within(layout, BundleItem::Submission, || {
        Ok(claimed_signing_time(
            b.submission.signature(),
            SignatureRole::Submission,
        )?)
    })?;
    let completeness_time = b.completeness.as_ref().map(|c| c.statement().issued_at);
    let mut times: Vec<OffsetDateTime> = [head_time, submission_time]
        .into_iter()
        .chain(completeness_time)
        .chain(
            b.statements
                .iter()
                .map(|s| s.receipt.receipt().receipt().time),
        )
        .collect();
    times.sort();
    times.dedup();
    for (index, ca) in b.intermediates.iter().enumerate() {
        within(layout, BundleItem::Intermediate { index }, || {
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

    // Steps 4 and 5.
    let tree_head = within(layout, BundleItem::TreeHead, || {
        let head =
            b.tree_head
                .verify_normal_form(trust.at(head_time)?, head_time, Some(log_key))?;
        trust.record(head_time, head.chain())?;
        Ok(head)
    })?;

    // Steps 4 and 6.
    let submission = within(layout, BundleItem::Submission, || {
        let s = b
            .submission
            .verify(trust.at(submission_time)?, submission_time)?;
        trust.record(submission_time, &s.report().certificate_chain)?;
        Ok(s)
    })?;
    let acceptance = &b.acceptance;
    within(layout, BundleItem::Acceptance, || {
        acceptance.check_times(submission.report().signing_time, &tree_head)
    })?;

    // Steps 4, 7 and 8.
    let header = b.submission.header();
    let mut chains: Vec<(AgencyId, ReceiptChain, Vec<TimelineEvent>)> = Vec::new();
    let mut document: Option<(DocumentId, [u8; 32])> = None;
    for (index, s) in b.statements.iter().enumerate() {
        let item = BundleItem::Statement {
            index,
            recipient: Some(s.recipient.clone()),
        };
        within(layout, item, || {
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
            trust.record(t, &report.certificate_chain)?;
            if report.signing_time != t {
                return Err(SignatureError::ReceiptTimeMismatch {
                    time: t,
                    signing_time: report.signing_time,
                }
                .into());
            }
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
                leaf_hash: s.logged.entry.leaf_hash(),
                receipt_digest: s.receipt.receipt().hash(),
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

    // Step 10 (before step 9, which counts the CAs and CRLs its signature relied on).
    let completeness = match (&b.completeness, completeness_time) {
        (Some(c), Some(t)) => Some(within(layout, BundleItem::Completeness, || {
            let v = c.verify(trust.at(t)?, log_key)?;
            trust.record(t, v.chain())?;
            v.check_subject(&h.message_id, tree_head.head(), Some(acceptance.leaf_index))?;
            let coverage = v.check_recipients(&h.recipients)?;
            if let Some(s) = b
                .statements
                .iter()
                .find(|s| v.statement().chain(&s.recipient).is_none())
            {
                return Err(LogError::NotCovered {
                    recipient: s.recipient.clone(),
                }
                .into());
            }
            for chain in &v.statement().chains {
                let found: Vec<(u64, [u8; 32])> = b
                    .statements
                    .iter()
                    .filter(|s| s.recipient == chain.recipient)
                    .map(|s| (s.logged.leaf_index, s.receipt.receipt().hash()))
                    .collect();
                v.check_chain(&chain.recipient, &found)?;
            }
            Ok((v, coverage))
        })?),
        _ if require_completeness => {
            return Err(LogError::NoCompletenessProof.into());
        }
        _ => None,
    };

    // Step 9.
    let used = trust.used()?;
    if mode == Mode::Strict {
        if let Some(index) = used.intermediates.iter().position(|u| !u) {
            return within(layout, BundleItem::Intermediate { index }, || {
                Err(TrustError::NotNeeded.into())
            });
        }
        if let Some(index) = used.crls.iter().position(|u| !u) {
            return within(layout, BundleItem::Crl { index }, || {
                Err(TrustError::NotNeeded.into())
            });
        }
    }
    // Step 11.
    if let Some(index) = b
        .cosignatures
        .iter()
        .position(|c| !c.cosigned().is_of(tree_head.head(), log_key))
    {
        return within(layout, BundleItem::Cosignature { index }, || {
            Err(WitnessError::NotOfThisHead { index }.into())
        });
    }
    let report = BundleReport {
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
        completeness,
        cosignatures: b.cosignatures.clone(),
    };
    Ok((report, used))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3339 in UTC, whole seconds (`2026-01-02T09:02:00Z`).
pub(crate) struct When(pub(crate) OffsetDateTime);

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
            let complete = match &self.completeness {
                Some((c, _)) => match c.statement().chain(&t.recipient) {
                    Some(head) => format!(
                        "; complete as of tree head {} ({} statement(s) in the log)",
                        c.statement().tree_size,
                        head.count
                    ),
                    None => "; not covered by this bundle (another recipient's view)".to_owned(),
                },
                None => "; COMPLETENESS NOT PROVEN".to_owned(),
            };
            writeln!(f, "Recipient {}: {received}{complete}", t.recipient)?;
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
        writeln!(
            f,
            "In the axis log: tree head of {} entries, root {}, signed at {} by \"{}\"",
            h.tree_size,
            hex(&h.root_hash),
            When(h.timestamp),
            self.tree_head.signer()
        )?;
        match &self.completeness {
            Some((c, coverage)) => write!(
                f,
                "Complete for {coverage}: the axis signed at {} that its log holds exactly \
                 these statements as of that tree head",
                When(c.statement().issued_at)
            ),
            None => write!(
                f,
                "COMPLETENESS NOT PROVEN: a version 1 bundle says nothing of what the log \
                 holds beyond it; statements may be missing"
            ),
        }
    }
}

#[cfg(test)]
mod tests;
