//! Agency identifiers arrive in certificates, manifests and API calls.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(id) = axis_pki::AgencyId::parse(s)
    {
        assert_eq!(id.as_str(), s);
        let mut cur = id;
        while let Some(p) = cur.parent() {
            assert!(p.level() < cur.level());
            cur = p;
        }
    }
});
