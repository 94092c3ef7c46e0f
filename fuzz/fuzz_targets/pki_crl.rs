//! Untrusted CRLs: fetched from a distribution point or handed over in an evidence bundle.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = axis_pki::summarize_crl(data);
    let _ = axis_pki::TrustStore::new(vec![], vec![], vec![data.to_vec()]);
});
