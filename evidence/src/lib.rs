#![forbid(unsafe_code)]
//! # axis-evidence
//!
//! What the axis proves about what it did, and how anyone checks it offline: every acceptance,
//! receipt, status, recall and revocation is an entry of an append-only RFC 9162 Merkle log
//! (`axis-log`); the axis signs tree heads with its log-signer certificate; each entry comes
//! with its inclusion path to a signed head ([`verify_evidence`]); and one DER file, the
//! evidence bundle, holds a document's whole history for an auditor who has only the root
//! certificate and the log key ([`verify_bundle`]). **No I/O, no clock**: times are parameters.
//!
//! The formats are DER read by the signer's strict reader (`axis_signer::cms::der`), each with
//! its format OID from the one register (`axis_signer::cms::Format`: `.2.4` log entry, `.2.5`
//! tree head, `.2.6` log proof, `.2.7` bundle, `.2.8` completeness statement); tree heads and
//! completeness statements are detached CMS signatures made and checked by
//! `axis_signer::cms::{sign, verify}`, so `openssl cms -verify` checks them too. A bundle's
//! completeness statement says how many statements the log holds per recipient, so a history
//! cut short is refused; an axis that signs a false one is caught ([`check_misbehaviour`]).
//!
//! ```
//! use axis_evidence::{EntryBody, LogEntry, LogEntryBytes, RevocationEntry};
//! use time::macros::datetime;
//!
//! // The axis logs a revocation it applied; anyone reads the entry back, byte for byte.
//! let entry = LogEntry::revocation(
//!     RevocationEntry {
//!         crl_digest: [7; 32],
//!         crl_number: 12,
//!         serial: vec![0x01, 0x23],
//!         revoked_at: datetime!(2026-01-02 9:00 UTC),
//!         reason: 1,
//!     },
//!     datetime!(2026-01-02 9:05 UTC),
//! );
//! let bytes = entry.encode()?;
//! let parsed = LogEntryBytes::parse(bytes.as_bytes())?;
//! assert!(matches!(parsed.entry().body, EntryBody::Revocation(ref r) if r.crl_number == 12));
//! assert_eq!(parsed.leaf_hash(), bytes.leaf_hash());
//! # Ok::<(), axis_evidence::Error>(())
//! ```

mod bundle;
mod completeness;
mod directory;
mod error;
pub mod limits;
mod log;
mod witness;

// The public interface is:
pub use bundle::{
    BundleItem, BundleReport, BundleStatement, EvidenceBundle, LayoutError, LayoutProblem,
    LoggedEntry, RecipientTimeline, TimelineEvent, verify_bundle, verify_bundle_any_version,
};
pub use completeness::{
    ChainHead, Completeness, Coverage, LastStatement, MAX_COMPLETENESS_LEN, Misbehaviour,
    SignedCompleteness, VerifiedCompleteness, check_misbehaviour,
};
pub use directory::{
    Changes, DirectoryError, DirectoryVersion, RawUnit, SignedDirectoryVersion, Unit, UnitError,
    UnitField, UnitList, UnitProblem, VerifiedDirectory, check_import,
};
pub use error::{Error, LogError, TrustError, WitnessError};
pub use log::{
    AcceptanceEntry, EntryBody, LogEntry, LogEntryBytes, LogProof, RevocationEntry, SignedTreeHead,
    StatementEntry, TreeHead, VerifiedEvidence, VerifiedTreeHead, verify_evidence,
};
pub use witness::{
    Cosignature, CosignedTreeHead, WitnessKey, Witnessed, check_consistent, check_witnessed,
    cosign_next, key_id,
};

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
