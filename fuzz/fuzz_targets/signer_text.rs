//! Untrusted identifiers in text form: DocumentId, Code, message id.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(id) = axis_signer::DocumentId::parse(s) {
            assert_eq!(id.to_string(), s);
        }
        let _ = axis_signer::Code::parse(s);
        let _ = axis_signer::MessageId::parse(s);
    }
});
