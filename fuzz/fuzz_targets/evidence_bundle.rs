//! Untrusted evidence bundles, as an auditor receives them: the container and every item it
//! carries (routing header, receipts, log entries, tree head, inclusion paths) go through their
//! parsers; what parses re-encodes to the same bytes; what does not is refused naming a place
//! inside the input (a layout error's or an element's byte offset).
#![no_main]
use std::sync::OnceLock;

use axis_evidence::{
    BundleStatement, ChainHead, Completeness, Error, EvidenceBundle, LogEntry, LoggedEntry,
    SignedCompleteness, SignedTreeHead, TreeHead,
};
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

/// A valid bundle from the world's pieces: its submission and acceptance, its receipt (a 13 to
/// H41) with a statement entry, a tree head carrying a real CMS signature (the world's personal
/// signature: only parsing is fuzzed here), the store's CA and CRLs, short paths, and a
/// completeness statement (with the same borrowed signature).
fn seed() -> &'static Vec<u8> {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        let w = common::world();
        let receipt = w.receipt.verify(&w.store, common::NOW).unwrap();
        let head = axis_evidence::fuzzing::tree_head_bytes(&TreeHead {
            tree_size: 10,
            root_hash: [0x11; 32],
            timestamp: common::NOW,
        })
        .unwrap();
        let recipient = w.receipt.receipt().receipt().to.clone();
        let completeness = axis_evidence::fuzzing::completeness_bytes(&Completeness {
            message_id: w.submission.header().message_id,
            tree_size: 10,
            root_hash: [0x11; 32],
            issued_at: common::NOW,
            acceptance_index: 3,
            chains: vec![ChainHead::of(
                recipient.clone(),
                &[(7, w.receipt.receipt().hash())],
            )],
        })
        .unwrap();
        EvidenceBundle {
            submission: w.submission.submission().clone(),
            intermediates: w.store.intermediates().to_vec(),
            crls: w.store.crls().to_vec(),
            tree_head: SignedTreeHead::parse(&head, w.signature.clone()).unwrap(),
            acceptance: LoggedEntry {
                entry: LogEntry::acceptance(&w.submission, common::NOW)
                    .encode()
                    .unwrap(),
                leaf_index: 3,
                path: vec![[0x22; 32]; 4],
            },
            statements: vec![BundleStatement {
                recipient,
                receipt: w.receipt.clone(),
                logged: LoggedEntry {
                    entry: LogEntry::statement(&receipt, common::NOW).encode().unwrap(),
                    leaf_index: 7,
                    path: vec![[0x33; 32]; 4],
                },
            }],
            completeness: Some(
                SignedCompleteness::parse(&completeness, w.signature.clone()).unwrap(),
            ),
            cosignatures: Vec::new(),
        }
        .encode()
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let input = common::splice(seed(), data);
    match EvidenceBundle::parse(&input) {
        // One byte form.
        Ok(b) => assert_eq!(b.encode().unwrap(), input),
        // Where: inside the input (trailing bytes start at its end at the latest).
        Err(Error::Layout(e)) => assert!(e.at <= input.len(), "{e}"),
        Err(Error::BundleItem { at, .. }) => assert!(at < input.len()),
        Err(_) => {}
    }
});
