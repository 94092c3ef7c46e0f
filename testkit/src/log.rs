//! A log in memory, as the axis keeps one: entries appended in one batch, a head signed over
//! it, each entry's inclusion path, and an evidence bundle of a package from them — to build
//! evidence without a server.

use axis_evidence::{
    BundleStatement, ChainHead, Completeness, Cosignature, EvidenceBundle, LogEntryBytes,
    LoggedEntry, SignedCompleteness, SignedTreeHead, TreeHead,
};
use axis_log::{Frontier, Hash, NodeId};
use axis_pki::{AgencyId, KeySigner};
use axis_signer::{SignedReceipt, Signer};
use time::OffsetDateTime;

use axis_evidence::LogEntry;
use axis_pki::{KeyAlgorithm, Profile, Subject};
use axis_signer::{DocumentRef, ReceiptChain, StatusCode};
use time::Duration;
use time::macros::datetime;

use crate::seal::Package;
use crate::{Person, T0, ca_crl, fixture, issue_extra, standard_package};

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
    /// bundle's order, ascending DER; not trimmed: that is [`EvidenceBundle::trimmed`]'s job),
    /// and a completeness statement for every recipient signed by `log_signer` when the head
    /// was (the log holds exactly these statements for the message: [`completeness_of`]).
    pub fn bundle(
        &self,
        p: &Package,
        crls: Vec<Vec<u8>>,
        head: SignedTreeHead,
        acceptance: (LogEntryBytes, usize),
        statements: Vec<(AgencyId, SignedReceipt, LogEntryBytes, usize)>,
        log_signer: &Signer<'_>,
    ) -> EvidenceBundle {
        let mut crls = crls;
        crls.sort();
        let mut bundle = EvidenceBundle {
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
            completeness: None,
            cosignatures: Vec::new(),
        };
        let at = bundle.tree_head.head().timestamp;
        bundle.completeness = Some(completeness_of(&bundle, at, log_signer));
        bundle
    }
}

/// `bundle` (of the fixture's PKI, log key `log_key`) with cosignatures of its tree head by
/// `witnesses`, made at `at`, in the bundle's order (ascending DER): the version 3 bundle an
/// axis exports once those witnesses cosigned its head.
pub fn cosigned(
    bundle: &EvidenceBundle,
    log_key: &[u8],
    witnesses: &[&dyn KeySigner],
    at: OffsetDateTime,
) -> EvidenceBundle {
    let head = axis_evidence::verify_bundle(&bundle.encode().unwrap(), &fixture().root, log_key)
        .unwrap()
        .tree_head;
    let mut b = bundle.clone();
    b.cosignatures = witnesses
        .iter()
        .map(|w| Cosignature::sign(&head, *w, at).unwrap())
        .collect();
    b.cosignatures
        .sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    b
}

/// A completeness statement for `bundle` as it is: for every recipient of its header, the
/// statements it holds are all the log holds as of its tree head; signed by `log_signer` at
/// `at`. True for a bundle a log in memory made; a false claim when the bundle was cut first
/// (what a lying axis would sign).
pub fn completeness_of(
    bundle: &EvidenceBundle,
    at: OffsetDateTime,
    log_signer: &Signer<'_>,
) -> SignedCompleteness {
    let h = bundle.submission.header().header();
    let head = bundle.tree_head.head();
    Completeness {
        message_id: h.message_id,
        tree_size: head.tree_size,
        root_hash: head.root_hash,
        issued_at: at,
        acceptance_index: bundle.acceptance.leaf_index,
        chains: h
            .recipients
            .iter()
            .map(|r| {
                let statements: Vec<(u64, [u8; 32])> = bundle
                    .statements
                    .iter()
                    .filter(|s| &s.recipient == r)
                    .map(|s| (s.logged.leaf_index, s.receipt.receipt().hash()))
                    .collect();
                ChainHead::of(r.clone(), &statements)
            })
            .collect(),
    }
    .sign(log_signer)
    .unwrap()
}

/// A realistic evidence bundle and the log signer that signed its head and completeness
/// statement ([`ten_status_bundle`]).
pub struct SampleBundle {
    /// The bundle (complete: its completeness statement is true).
    pub bundle: EvidenceBundle,
    /// The axis-log-signer certificate and key (an auditor pins its key).
    pub log: Person,
}

/// A document from A to B and C, each recipient's chain 01 → 03 → 04 → 05 → 06 (ten
/// statuses), logged among 1,000 earlier entries, one head signed on 12 January, CRLs from two
/// periods (so two trust stores are built): what the benchmark verifies and the CLI tests cut.
pub fn ten_status_bundle() -> SampleBundle {
    let f = fixture();
    let log = issue_extra(
        Profile::AxisLogSigner,
        Subject::new("Axis log signer"),
        KeyAlgorithm::EcdsaP256,
    );
    let second_period = datetime!(2026-01-06 0:00 UTC);
    let crls = vec![
        f.crls[0].clone(),
        ca_crl(10, T0, 5, vec![]),
        ca_crl(11, second_period, 7, vec![]),
    ];

    let p = standard_package();
    let accepted = datetime!(2026-01-02 9:03 UTC);
    let submission = p.sealed.submission.verify(&f.store, accepted).unwrap();
    let mut entries: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("earlier entry {i}").into_bytes())
        .collect();
    let acceptance = LogEntry::acceptance(&submission, accepted)
        .encode()
        .unwrap();
    let acceptance_index = entries.len();
    entries.push(acceptance.as_bytes().to_vec());
    let mut statements = Vec::new();
    let statuses = [
        StatusCode::Arrived,
        StatusCode::Accepted,
        StatusCode::Assigned,
        StatusCode::Processing,
        StatusCode::Completed,
    ];
    let mut chains = [&f.b, &f.c].map(|a| {
        (
            a,
            ReceiptChain::new(DocumentRef::sent(&p.document, &p.sealed, &a.id).unwrap()),
        )
    });
    for (step, status) in statuses.into_iter().enumerate() {
        for (k, (who, chain)) in chains.iter_mut().enumerate() {
            // One status a day, the last ones in the second CRL period.
            let t = datetime!(2026-01-02 10:00 UTC)
                + Duration::days(step as i64 * 2)
                + Duration::minutes(k as i64 * 30);
            let signed = chain
                .next(status, t, "")
                .unwrap()
                .sign(&who.seal_signer())
                .unwrap();
            let verified = chain.push(&signed, &f.store, t).unwrap();
            let entry = LogEntry::statement(verified, t + Duration::seconds(5))
                .encode()
                .unwrap();
            entries.push(format!("unrelated entry {step} {k}").into_bytes());
            entries.push(entry.as_bytes().to_vec());
            statements.push((who.id.clone(), signed, entry, entries.len() - 1));
        }
    }
    let memory = MemoryLog::new(&entries);
    let head = memory.head(datetime!(2026-01-12 0:00 UTC), &log.signer());
    let bundle = memory.bundle(
        &p,
        crls,
        head,
        (acceptance, acceptance_index),
        statements,
        &log.signer(),
    );
    SampleBundle { bundle, log }
}
