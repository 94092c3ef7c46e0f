//! Untrusted edXML packages (what a DMS hands to the SDK or the gateway).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = axis_edxml::Limits {
        max_attachment_size: 1 << 20,
        max_total_attachment_size: 4 << 20,
        ..axis_edxml::Limits::default()
    };
    let mut sink = axis_edxml::Collect::default();
    let Ok(parsed) = axis_edxml::parse_with(data, &limits, &mut sink) else {
        return;
    };
    // What parses is written VNPT-style and reads back with the same values, and goes to
    // Axis and back unchanged when it maps at all.
    match parsed.package {
        axis_edxml::Package::Edoc(e) => {
            let out = axis_edxml::edoc_to_vec(&e, &mut sink.0.clone()).unwrap();
            let mut again = axis_edxml::Collect::default();
            let reparsed = axis_edxml::parse(&out, &mut again).unwrap();
            assert_eq!(reparsed.package, axis_edxml::Package::Edoc(e.clone()));
            assert_eq!(again.0, sink.0);
            if let Ok(axis) = axis_edxml::edoc_to_axis(&e) {
                let back =
                    axis_edxml::edoc_from_axis(&axis.manifest, Some(&axis.edxml_part)).unwrap();
                assert_eq!(back, e);
            }
        }
        axis_edxml::Package::Status(s) => {
            let out = axis_edxml::status_to_vec(&s).unwrap();
            let reparsed = axis_edxml::parse(&out, &mut axis_edxml::Discard).unwrap();
            assert_eq!(reparsed.package, axis_edxml::Package::Status(s.clone()));
            if let Ok(a) = axis_edxml::status_to_axis(&s) {
                assert_eq!(axis_edxml::status_from_axis(&a).unwrap(), s);
                // Dated when a seal signs, the package still comes back as written.
                let later = a.signed_at(time::OffsetDateTime::UNIX_EPOCH);
                assert_eq!(axis_edxml::status_from_axis(&later).unwrap(), s);
            }
        }
    }
});
