//! Untrusted log entries, as a DMS or an auditor receives them with their inclusion proofs.
#![no_main]
use std::sync::OnceLock;

use axis_evidence::{LogEntry, LogEntryBytes};
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

/// A valid acceptance entry and a valid statement entry, from the world's submission and
/// receipt.
fn seeds() -> &'static [Vec<u8>; 2] {
    static S: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    S.get_or_init(|| {
        let w = common::world();
        let receipt = w.receipt.verify(&w.store, common::NOW).unwrap();
        [
            LogEntry::acceptance(&w.submission, common::NOW),
            LogEntry::statement(&receipt, common::NOW),
        ]
        .map(|e| e.encode().unwrap().as_bytes().to_vec())
    })
}

fuzz_target!(|data: &[u8]| {
    // Start from an acceptance or a statement, by the input's parity.
    let input = common::splice(&seeds()[data.len() % 2], data);
    if let Ok(e) = LogEntryBytes::parse(&input) {
        assert_eq!(e.as_bytes(), input.as_slice());
        // One byte form: the entry re-encodes to exactly the bytes the leaf hash covers.
        assert_eq!(e.entry().encode().unwrap(), e);
    }
});
