//! The crate's one error type, by category: what the signer found wrong with a structure or a
//! signature, what the log's own evidence got wrong, the trust material carried with evidence,
//! and which element of a bundle failed.
//!
//! [`Error`] is not `#[non_exhaustive]` on purpose: a caller (the SDK, the `axis audit`
//! commands) matches each category once, and a new category must be mapped, not fall into a
//! default. The categories' own enums may grow.

use axis_pki::AgencyId;
use time::OffsetDateTime;

use crate::bundle::{BundleItem, LayoutError};

/// Everything that can go wrong with evidence. None carries key material or document content.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A structure, signature or certificate failed the signer's checks: strict DER and budgets
    /// (the evidence formats are read by the signer's reader), a CMS signature, a signer's
    /// certificate, a receipt chain.
    #[error(transparent)]
    Signer(#[from] axis_signer::Error),
    /// The log's own evidence: an entry, a proof, a tree head, an order or a time in the log.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Trust material carried with evidence (CA certificates, CRLs) is not usable.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The unit directory: a unit, the hierarchy, or a signed version does not check.
    #[error("directory: {0}")]
    Directory(#[from] crate::directory::DirectoryError),
    /// The bytes of an evidence bundle do not have its shape: cut short, followed by more
    /// bytes, or another element where one belongs; names the element and its byte offset.
    #[error("evidence bundle: {0}")]
    Layout(#[from] LayoutError),
    /// Witnessing: two heads that are not of one history, or cosignatures that are missing,
    /// too few, or do not verify.
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// One element of an evidence bundle failed; `source` is why.
    #[error("{item} at byte {at}: {source}")]
    BundleItem {
        /// Which element.
        item: BundleItem,
        /// Its offset in the bundle (where its first byte is; 0 for the auditor's root).
        at: usize,
        /// What was wrong with it.
        source: Box<Error>,
    },
}

/// What the log's evidence got wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A log entry does not record what it was expected to.
    #[error("the log entry does not match: {field} differs")]
    LogEntryMismatch {
        /// The first field that differs.
        field: &'static str,
    },
    /// The tree head was signed by another key than the pinned log key.
    #[error("the tree head was signed by a key other than the log key given")]
    LogKeyMismatch,
    /// The tree head's CMS signing time is not its timestamp.
    #[error("the tree head's signing time differs from its timestamp")]
    TreeHeadTimeMismatch,
    /// An inclusion proof does not lead to the signed root.
    #[error("inclusion proof invalid: {source}")]
    InclusionProofInvalid {
        /// What the Merkle check found.
        source: axis_log::Error,
    },
    /// A consistency proof does not connect the two tree heads.
    #[error("consistency proof invalid: {source}")]
    ConsistencyProofInvalid {
        /// What the Merkle check found.
        source: axis_log::Error,
    },
    /// An entry claims to be logged after the tree head that includes it was signed.
    #[error("the entry is dated after the tree head that includes it")]
    EntryAfterTreeHead,
    /// An entry logged before the signature it records was made (beyond the clock tolerance):
    /// the signing time is not one the axis saw.
    #[error("logged at {logged}, before it was signed at {signed}")]
    LoggedBeforeSigned {
        /// The claimed signing time.
        signed: OffsetDateTime,
        /// When the axis logged it.
        logged: OffsetDateTime,
    },
    /// A completeness statement's CMS signing time is not its `issuedAt`.
    #[error("the completeness statement's signing time differs from its issuedAt")]
    CompletenessTimeMismatch,
    /// A completeness statement does not speak of this bundle: another message, tree head or
    /// acceptance, or recipients that are neither all of the header's nor one of them.
    #[error("the completeness statement does not match the bundle: {field} differs")]
    CompletenessMismatch {
        /// What differs.
        field: &'static str,
    },
    /// A bundle holds statements for a recipient its completeness statement does not cover.
    #[error(
        "the completeness statement does not cover {recipient}, whose statements the bundle holds"
    )]
    NotCovered {
        /// The recipient.
        recipient: AgencyId,
    },
    /// A recipient's chain in the bundle is shorter (or longer) than what the log holds.
    #[error(
        "the log holds {stated} statement(s) for {recipient} as of tree head {tree_size}, the \
         bundle {found}: the history of {recipient} is cut short"
    )]
    IncompleteChain {
        /// The recipient whose chain it is.
        recipient: AgencyId,
        /// The tree size the completeness statement speaks of.
        tree_size: u64,
        /// How many the log holds, as the axis signed.
        stated: u64,
        /// How many the bundle holds.
        found: u64,
    },
    /// A recipient's last statement in the bundle is not the chain head the log holds.
    #[error(
        "the last statement for {recipient} is not the chain head the log holds as of tree head \
         {tree_size}: the history of {recipient} is cut short or substituted"
    )]
    ChainHeadMismatch {
        /// The recipient whose chain it is.
        recipient: AgencyId,
        /// The tree size the completeness statement speaks of.
        tree_size: u64,
    },
    /// A version 1 bundle: nothing in it says how many statements the log holds, so a history
    /// cut short cannot be told from a complete one.
    #[error(
        "no completeness proof (a version 1 bundle): COMPLETENESS NOT PROVEN — export the \
         bundle again to get one"
    )]
    NoCompletenessProof,
    /// Two tree heads signed by the log key for the same size with different roots: the log
    /// forked (proof of misbehaviour in itself).
    #[error("two signed tree heads of size {tree_size} have different roots: the log forked")]
    Forked {
        /// The size.
        tree_size: u64,
    },
    /// A statement not after the previous statement (or the acceptance) in the log.
    #[error("logged as entry {found}, not after entry {previous}: statements must be in log order")]
    StatementOutOfLogOrder {
        /// The previous entry's leaf index.
        previous: u64,
        /// This entry's leaf index.
        found: u64,
    },
}

/// Trust material given with evidence that is not usable under the root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A CA certificate (or the root) given with evidence is not usable under the root.
    #[error("the CA certificate is not trusted: {source}")]
    CertificateRejected {
        /// What the PKI said.
        source: axis_pki::Error,
    },
    /// A CRL given with evidence is not usable: unreadable, not signed by a CA of the bundle,
    /// never current, or with an unknown critical extension.
    #[error("the CRL is not usable: {source}")]
    CrlRejected {
        /// What the PKI said.
        source: axis_pki::Error,
    },
    /// A CA certificate or CRL of a bundle is not in its one DER form
    /// ([`axis_pki::check_certificate_form`], [`axis_pki::check_crl_form`]).
    #[error("{source}")]
    NotNormalForm {
        /// What the PKI found.
        source: axis_pki::Error,
    },
    /// The bundle's CA certificates, or its CRLs, are not in ascending DER order, or one is
    /// there twice: each list has one order, so that one bundle has one byte form.
    #[error("not after the one before it (each list is in ascending DER order, no repeats)")]
    OutOfOrder,
    /// A signature's path went through a CA certificate that is not one of the bundle's
    /// (a copy carried in the signature that differs from, or is missing in, the bundle).
    #[error("a CA certificate on its path is not one of the bundle's CA certificates")]
    CaNotInBundle,
    /// A CA certificate that is on no verified path, or a CRL that no verification consulted
    /// (not in force at any signing time for a CA on the path, or superseded then by a
    /// higher-numbered one): a bundle carries exactly what its verification needs.
    #[error("not needed: no signature of the bundle relies on it")]
    NotNeeded,
}

/// A format error of an evidence structure (read by the signer's DER reader, within the
/// signer's budgets) is the signer's [`axis_signer::FormatError`].
impl From<axis_signer::FormatError> for Error {
    fn from(e: axis_signer::FormatError) -> Self {
        Error::Signer(e.into())
    }
}

/// A log-signer key or certificate that does not fit: the signer's [`axis_signer::KeyError`].
impl From<axis_signer::KeyError> for Error {
    fn from(e: axis_signer::KeyError) -> Self {
        Error::Signer(e.into())
    }
}

/// A tree head's or a bundle item's CMS signature: the signer's [`axis_signer::SignatureError`].
impl From<axis_signer::SignatureError> for Error {
    fn from(e: axis_signer::SignatureError) -> Self {
        Error::Signer(e.into())
    }
}

/// Receipts of a bundle that do not form one document's chains: the signer's
/// [`axis_signer::ChainError`].
impl From<axis_signer::ChainError> for Error {
    fn from(e: axis_signer::ChainError) -> Self {
        Error::Signer(e.into())
    }
}

/// What a witness or a verifier of cosignatures found wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// Two different roots signed for one tree size: the log showed two histories (a split
    /// view, or a fork). A witness refuses to cosign the second and keeps both heads.
    #[error(
        "two different signed roots for the same size {size}: the log shows two histories \
         (split view or fork)"
    )]
    SplitView {
        /// The tree size.
        size: u64,
    },
    /// A head smaller than one signed before: a log never shrinks.
    #[error("the log shrank: a head of {newer} entries after one of {older}")]
    Shrunk {
        /// The size of the earlier head.
        older: u64,
        /// The size of the later head.
        newer: u64,
    },
    /// The consistency proof does not connect the two heads: history was rewritten.
    #[error(
        "the log of {newer} entries does not extend the head of {older} entries: history was \
         rewritten ({source})"
    )]
    Inconsistent {
        /// The size of the earlier head.
        older: u64,
        /// The size of the later head.
        newer: u64,
        /// What the Merkle check found.
        source: axis_log::Error,
    },
    /// A witness key that is not ECDSA P-256 (the only witness key type).
    #[error("a witness key must be an ECDSA P-256 public key (SubjectPublicKeyInfo)")]
    WitnessKeyUnsupported,
    /// The witness key could not sign.
    #[error("the witness key could not sign: {source}")]
    Signing {
        /// What the key said.
        source: axis_pki::KeyOpError,
    },
    /// A cosignature names another witness than the key it is checked with.
    #[error("the cosignature names another witness")]
    OtherWitness,
    /// A cosignature's signature does not verify with its witness's key.
    #[error("the cosignature's signature does not verify with the witness's key")]
    BadCosignature,
    /// A cosignature's ECDSA value is not in normal form (the high s).
    #[error("the cosignature's ECDSA value is not in normal form (the high s)")]
    CosignatureNotNormal,
    /// A cosignature given for a head, by one of the witnesses given, that does not verify
    /// with that witness's key.
    #[error("cosignature {index} does not verify with its witness's key")]
    CosignatureInvalid {
        /// Its position among the cosignatures given.
        index: usize,
    },
    /// A cosignature of another tree head or another log than the one it is given with.
    #[error("cosignature {index} is of another tree head or another log")]
    NotOfThisHead {
        /// Its position among the cosignatures given.
        index: usize,
    },
    /// Fewer of the given witnesses cosigned the tree head than required.
    #[error(
        "the tree head is cosigned by {found} of the {given} witnesses given, {needed} required"
    )]
    TooFewCosignatures {
        /// Witnesses whose cosignature verified.
        found: usize,
        /// How many were required.
        needed: usize,
        /// How many witnesses were given.
        given: usize,
    },
    /// The cosignatures of a bundle are not in ascending DER order, or one witness is there
    /// twice: one bundle, one byte form.
    #[error("not after the one before it (ascending DER order, one per witness)")]
    CosignaturesOutOfOrder,
}
