//! Untrusted receipts and statuses, as the axis and the sender receive them.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let w = common::world();
    let input = common::splice(w.receipt.receipt().as_bytes(), data);
    if let Ok(r) = axis_signer::ReceiptBytes::parse(&input) {
        assert_eq!(r.as_bytes(), input.as_slice());
    }
});
