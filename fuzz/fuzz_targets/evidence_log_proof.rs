//! Untrusted log proofs (a signed tree head, a leaf index, an inclusion path), as a DMS or an
//! auditor receives one with each entry; then the tree head and signature they carry, parsed on
//! their own as the Log service serves them.
#![no_main]
use std::sync::OnceLock;

use axis_evidence::{LogProof, SignedTreeHead, TreeHead};
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

/// A valid proof (leaf 5 of 10, four path hashes) whose head carries a real CMS signature (by
/// the world's person, not a log signer: only parsing is fuzzed here), and its head's bytes.
fn seeds() -> &'static (Vec<u8>, Vec<u8>) {
    static S: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    S.get_or_init(|| {
        let w = common::world();
        let head = axis_evidence::fuzzing::tree_head_bytes(&TreeHead {
            tree_size: 10,
            root_hash: [0x11; 32],
            timestamp: common::NOW,
        })
        .unwrap();
        let proof = LogProof {
            tree_head: SignedTreeHead::parse(&head, w.signature.clone()).unwrap(),
            leaf_index: 5,
            path: vec![[0x22; 32]; 4],
        };
        (proof.encode(), head)
    })
}

fuzz_target!(|data: &[u8]| {
    let (proof, head) = seeds();
    let input = common::splice(proof, data);
    if let Ok(p) = LogProof::parse(&input) {
        // One byte form.
        assert_eq!(p.encode(), input);
        // The head it carries parses on its own to the same value.
        let again = SignedTreeHead::parse(p.tree_head.as_bytes(), p.tree_head.signature().to_vec())
            .unwrap();
        assert_eq!(again, p.tree_head);
    }
    let input = common::splice(head, data);
    if let Ok(h) = SignedTreeHead::parse(&input, Vec::new()) {
        assert_eq!(h.as_bytes(), input.as_slice());
    }
});
