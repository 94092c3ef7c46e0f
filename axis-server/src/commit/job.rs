//! The committer's vocabulary: the jobs handlers submit, what the log gives them, and the
//! batch limits.

use axis_signer::{EnvelopeEntry, VerifiedReceipt, VerifiedSubmission};
use time::OffsetDateTime;

use crate::store::LoggedRow;

/// Most jobs in one transaction.
pub const MAX_BATCH: usize = 512;
/// Complete log nodes are stored at levels that are multiples of this (plus every leaf).
pub const NODE_STRIDE: u8 = 8;

/// Where an accepted document's ciphertext is.
#[derive(Debug)]
pub enum Ciphertext {
    /// Small: carried in the job, written in the commit.
    Inline(Vec<u8>),
    /// Large: already stored as segments of this upload.
    Staged {
        /// The upload's blob id.
        blob_id: i64,
    },
}

/// Work for the committer.
pub enum Job {
    /// Log and store an accepted submission.
    Accept {
        /// The verified submission.
        submission: Box<VerifiedSubmission>,
        /// Its key envelope (checked against the header), for the sender's history.
        key_envelope: Vec<u8>,
        /// Each recipient's entry and audit path, in the header's recipient order: what its
        /// delivery carries.
        entries: Vec<EnvelopeEntry>,
        /// Its ciphertext (length and digest checked).
        ciphertext: Ciphertext,
    },
    /// Log a verified receipt or status as the next of its chain.
    Statement {
        /// The recipient whose chain it extends.
        recipient: String,
        /// Its position in that chain (the chain's length when it was checked).
        position: i64,
        /// The verified receipt.
        receipt: Box<VerifiedReceipt>,
        /// New delivery state, if this statement changes it.
        new_state: Option<i64>,
    },
    /// Log a certificate revocation the axis applies (from a CRL the operator published).
    Revocation(Box<axis_evidence::RevocationEntry>),
}

/// What the log gave a job.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Entry bytes.
    pub entry: Vec<u8>,
    /// Proof bytes (DER `LogProof`).
    pub proof: Vec<u8>,
    /// Leaf index.
    pub leaf_index: u64,
    /// When it was logged.
    pub logged_at: OffsetDateTime,
    /// Whether this repeats something logged before (nothing new was stored).
    pub duplicate: bool,
}

impl Logged {
    /// What was logged before, answered again.
    pub(super) fn repeat(row: LoggedRow) -> Self {
        Logged {
            entry: row.entry,
            proof: row.proof,
            leaf_index: row.leaf_index,
            logged_at: row.at,
            duplicate: true,
        }
    }
}
