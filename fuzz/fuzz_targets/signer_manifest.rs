//! Untrusted manifest bytes (decrypted, before the signatures over them are checked).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let input = common::splice(common::world().manifest.as_bytes(), data);
    if let Ok(m) = axis_signer::ManifestBytes::parse(&input) {
        // One byte form per manifest: what parses re-encodes to the same bytes.
        assert_eq!(m.manifest().encode().unwrap().as_bytes(), input.as_slice());
    }
});
