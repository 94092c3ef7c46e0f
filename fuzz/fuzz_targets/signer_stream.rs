//! Untrusted ciphertext streams (frames), opened by a real recipient of a real submission: frame
//! parsing, ordering, lengths and AEAD must refuse anything but the sealed stream.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "signer_common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let w = common::world();
    // The EC recipient: an ECDH per input is cheaper than an RSA decryption.
    let opener = axis_signer::Opener::from_key_envelope(
        &w.submission,
        &w.sealed.key_envelope,
        &w.ec_key,
        &w.store,
        common::NOW,
    )
    .unwrap();
    let stream = common::splice(&w.ciphertext, data);
    if let Ok((_, files)) = opener.open_all(&stream) {
        // Only the sealed stream opens.
        assert_eq!(stream, w.ciphertext);
        assert_eq!(files.len(), 1);
    }
});
