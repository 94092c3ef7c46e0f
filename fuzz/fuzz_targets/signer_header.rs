//! Untrusted routing headers, as the axis receives them with a submission.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let w = common::world();
    let input = common::splice(w.sealed.submission.header().as_bytes(), data);
    if let Ok(h) = axis_signer::HeaderBytes::parse(&input) {
        assert_eq!(h.as_bytes(), input.as_slice());
    }
});
