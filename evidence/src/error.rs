//! The crate's one error type, by category: what the signer found wrong with a structure or a
//! signature, what the log's own evidence got wrong, the trust material carried with evidence,
//! and which element of a bundle failed.
//!
//! [`Error`] is not `#[non_exhaustive]` on purpose: a caller (the SDK, the `axis audit`
//! commands) matches each category once, and a new category must be mapped, not fall into a
//! default. The categories' own enums may grow.

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
    /// The bytes of an evidence bundle do not have its shape: cut short, followed by more
    /// bytes, or another element where one belongs; names the element and its byte offset.
    #[error("evidence bundle: {0}")]
    Layout(#[from] LayoutError),
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
