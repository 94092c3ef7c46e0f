//! A log in memory, as the axis keeps one: entries appended in one batch, a head signed over
//! it, each entry's inclusion path, and an evidence bundle of a package from them — to build
//! evidence without a server.

use axis_evidence::{
    BundleStatement, EvidenceBundle, LogEntryBytes, LoggedEntry, SignedTreeHead, TreeHead,
};
use axis_log::{Frontier, Hash, NodeId};
use axis_pki::AgencyId;
use axis_signer::{SignedReceipt, Signer};
use time::OffsetDateTime;

use crate::seal::Package;

/// The hash of a complete subtree of `leaves` (what a log's node store holds).
pub fn node(leaves: &[Hash], id: NodeId) -> Option<Hash> {
    let (start, end) = (id.start() as usize, id.end() as usize);
    (end <= leaves.len()).then(|| axis_log::root_from_leaves(&leaves[start..end]))
}

/// Entries appended to an empty log in one batch.
pub struct MemoryLog {
    /// The leaf hashes, in order.
    pub leaves: Vec<Hash>,
    /// The root after the batch.
    pub root: Hash,
}

impl MemoryLog {
    /// Appends `entries` (their exact bytes) in one batch.
    pub fn new(entries: &[Vec<u8>]) -> Self {
        let leaves: Vec<Hash> = entries.iter().map(|e| axis_log::leaf_hash(e)).collect();
        let batch = Frontier::new().append_batch(&leaves).unwrap();
        MemoryLog {
            leaves,
            root: batch.root,
        }
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.leaves.len() as u64
    }

    /// The head of the whole log, signed by `log_signer` at `at`.
    pub fn head(&self, at: OffsetDateTime, log_signer: &Signer<'_>) -> SignedTreeHead {
        TreeHead {
            tree_size: self.size(),
            root_hash: self.root,
            timestamp: at,
        }
        .sign(log_signer)
        .unwrap()
    }

    /// The inclusion path of entry `index` to the whole log's root.
    pub fn path(&self, index: usize) -> Vec<Hash> {
        axis_log::inclusion_proof(index as u64, self.size(), |id| node(&self.leaves, id)).unwrap()
    }

    /// `entry`, logged at `index`, with its path.
    pub fn logged(&self, entry: LogEntryBytes, index: usize) -> LoggedEntry {
        LoggedEntry {
            entry,
            leaf_index: index as u64,
            path: self.path(index),
        }
    }

    /// The evidence bundle of `p` under `head`: its acceptance and `statements` (recipient,
    /// receipt, entry, index), logged here, with the fixture's CA and `crls` (put in the
    /// bundle's order, ascending DER; not trimmed: that is [`EvidenceBundle::trimmed`]'s job).
    pub fn bundle(
        &self,
        p: &Package,
        crls: Vec<Vec<u8>>,
        head: SignedTreeHead,
        acceptance: (LogEntryBytes, usize),
        statements: Vec<(AgencyId, SignedReceipt, LogEntryBytes, usize)>,
    ) -> EvidenceBundle {
        let mut crls = crls;
        crls.sort();
        EvidenceBundle {
            submission: p.sealed.submission.clone(),
            intermediates: vec![crate::fixture().ca.clone()],
            crls,
            tree_head: head,
            acceptance: self.logged(acceptance.0, acceptance.1),
            statements: statements
                .into_iter()
                .map(|(recipient, receipt, entry, index)| BundleStatement {
                    recipient,
                    receipt,
                    logged: self.logged(entry, index),
                })
                .collect(),
        }
    }
}
