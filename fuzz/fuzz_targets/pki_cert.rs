//! Untrusted certificates: what a TLS peer or a CMS certificate set hands us.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = axis_pki::agency_id_of(data);
    let _ = axis_pki::profile_of(data, &axis_pki::PolicyArc::default());
    // The arc a CA certificate declares: OID octets read back by sub-identifier.
    let _ = axis_pki::PolicyArc::of_ca(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = axis_pki::PolicyArc::parse(text);
    }
    // Path building and every verification step on attacker-chosen bytes, with the input also
    // offered as a presented intermediate and as the only trust anchor.
    if let Ok(store) = axis_pki::TrustStore::new(vec![data.to_vec()], vec![], vec![]) {
        let _ = store.profile_of(data);
        let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        for profile in axis_pki::Profile::ALL {
            let _ = store.verify_with_intermediates(data, &[data.to_vec()], profile, now);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = axis_pki::certificates_from_pem(text, 8);
    }
});
