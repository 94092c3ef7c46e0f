//! Untrusted CMS SignedData (personal, seal, submission and receipt signatures share the
//! parser): verified over a fixed manifest against a real trust store.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let w = common::world();
    let sig = common::splice(&w.signature, data);
    let doc = axis_signer::SignedDocument::from_parts(w.manifest.clone(), sig, w.signature.clone());
    let _ = doc.verify(&w.store, common::NOW);
});
