//! Untrusted certificate signing requests, PEM or DER, sent in by agencies.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(csr) = axis_pki::CheckedCsr::parse(data) {
        let mut subject = axis_pki::Subject::new("fuzz");
        subject.agency_id = csr.agency_id().cloned();
        for profile in axis_pki::Profile::ALL {
            let _ = csr.check_against(profile, &subject);
        }
    }
});
