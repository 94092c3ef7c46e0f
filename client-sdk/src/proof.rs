//! Log evidence: what the axis returns for everything it records, verified by the SDK before it
//! reports success.

use axis_evidence::VerifiedEvidence;
use axis_pki::TrustStore;
use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Verified proof that the axis logged an entry: the exact entry and proof bytes (keep them: an
/// auditor verifies them offline with the root certificate), and what they say.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Evidence {
    /// The entry's position in the axis's log.
    pub leaf_index: u64,
    /// Size of the signed tree the entry was proven in.
    pub tree_size: u64,
    /// When the axis committed the entry.
    pub logged_at: OffsetDateTime,
    /// When the axis signed that tree head.
    pub tree_head_time: OffsetDateTime,
    /// The log signer's name (certificate common name).
    pub log_signer: String,
    /// The DER `LogEntry`, exact bytes.
    pub entry: Vec<u8>,
    /// The DER `LogProof` (signed tree head and inclusion path), exact bytes.
    pub proof: Vec<u8>,
}

/// Verifies evidence with [`axis_evidence::verify_evidence`] at `at`, pinned to `log_key`.
pub(crate) fn verify(
    ev: &pb::LogEvidence,
    store: &TrustStore,
    at: OffsetDateTime,
    log_key: Option<&[u8]>,
    what: &str,
) -> Result<(VerifiedEvidence, Evidence)> {
    let v = axis_evidence::verify_evidence(&ev.entry, &ev.proof, store, at, log_key)
        .map_err(|e| Error::signer(&format!("the axis's log evidence for {what}"), e))?;
    let head = v.tree_head().head();
    let evidence = Evidence {
        leaf_index: v.leaf_index(),
        tree_size: head.tree_size,
        logged_at: v.entry().entry().logged_at,
        tree_head_time: head.timestamp,
        log_signer: v.tree_head().signer().to_owned(),
        entry: ev.entry.clone(),
        proof: ev.proof.clone(),
    };
    Ok((v, evidence))
}
