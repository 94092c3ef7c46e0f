//! Untrusted key envelopes (a list of CMS EnvelopedData entries): their recipients read without
//! a key (as the axis does), and each element opened for an RSA and an EC recipient. The public
//! API reaches the entry parser only after the entry's audit path matched a signed header's
//! root, so the target goes through the `--cfg fuzzing` hook.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let w = common::world();
    let env = common::splice(&w.sealed.key_envelope, data);
    let _ = axis_signer::fuzzing::key_envelope_recipients(&env);
    // One private-key operation per input: RSA or EC by the input's parity.
    let key = if data.len() % 2 == 0 {
        &w.rsa_key
    } else {
        &w.ec_key
    };
    let _ = axis_signer::fuzzing::open_key_envelope(&env, key);
});
