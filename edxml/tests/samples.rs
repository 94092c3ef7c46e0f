//! The sample packages in `tests/data/` (modelled on the official VPCP-SDK samples): each
//! parses, every element lands in its field, and write → parse gives the same values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_edxml::*;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn edoc(name: &str) -> (Edoc, Vec<Vec<u8>>) {
    let mut sink = Collect::default();
    let parsed = parse(&data(name), &mut sink).unwrap();
    assert_eq!(parsed.ignored, Vec::<String>::new(), "{name}");
    match parsed.package {
        Package::Edoc(e) => (e, sink.0),
        Package::Status(_) => panic!("{name} is a status"),
    }
}

#[test]
fn new_document_has_every_field() {
    let (e, files) = edoc("edoc_new.edxml");
    let h = &e.header;
    assert_eq!(h.from.organ_id, "000.00.00.G22");
    assert_eq!(h.from.organ_add, "16 Lê Hồng Phong, Ba Đình, Hà Nội");
    assert_eq!(h.from.website, "chinhphu.vn");
    assert_eq!(h.to.len(), 3);
    assert_eq!(h.document_id, "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
    assert_eq!(h.code.code_notation, "VPCP-TTĐT");
    assert_eq!(
        format_date(h.promulgation_info.promulgation_date.unwrap()),
        "2015/09/30"
    );
    assert_eq!(h.document_type.type_, Some(1));
    assert_eq!(h.signer_info.full_name, "Nguyễn Cao Lục");
    assert_eq!(h.other_info.direction, Some(false));
    assert_eq!(h.other_info.appendixes, ["Phụ lục I"]);
    assert_eq!(h.steering_type, 1);
    assert_eq!(h.to_places.len(), 2);
    assert_eq!(e.trace.business.business_doc_type, Some(0));
    assert_eq!(e.trace.business.staff_info.mobile, "0912345678");
    assert_eq!(e.trace.trace_headers.len(), 1);
    assert_eq!(e.signature_status(), SignatureStatus::PresentNotVerified);
    assert_eq!(e.references.len(), 2);
    assert_eq!(e.attachments.len(), 2);
    assert!(files[0].starts_with(b"%PDF"));
    // The second attachment is a zipped .txt: delivered unzipped.
    assert!(e.attachments[1].is_zipped());
    assert!(
        String::from_utf8(files[1].clone())
            .unwrap()
            .starts_with("Biên bản họp")
    );
    assert_eq!(e.attachments[1].size, files[1].len() as u64);
}

#[test]
fn every_sample_survives_write_then_parse() {
    for name in [
        "edoc_new.edxml",
        "edoc_update.edxml",
        "edoc_replacement.edxml",
        "edoc_revocation.edxml",
    ] {
        let (e, files) = edoc(name);
        let out = edoc_to_vec(&e, &mut files.clone()).unwrap();
        let mut sink = Collect::default();
        let again = parse(&out, &mut sink).unwrap();
        assert_eq!(again.package, Package::Edoc(e.clone()), "{name}");
        assert_eq!(sink.0, files, "{name}");
        // Written twice, the same bytes.
        assert_eq!(edoc_to_vec(&e, &mut files.clone()).unwrap(), out);
    }
}

#[test]
fn every_status_code_sample() {
    for (name, code) in [
        ("status_inbox_01.edxml", 1),
        ("status_rejection_02.edxml", 2),
        ("status_acceptance_03.edxml", 3),
        ("status_assignment_04.edxml", 4),
        ("status_processing_05.edxml", 5),
        ("status_finish_06.edxml", 6),
        ("status_cancellation_13.edxml", 13),
        ("status_change-acceptance_15.edxml", 15),
        ("status_change-rejection_16.edxml", 16),
    ] {
        let parsed = parse(&data(name), &mut Discard).unwrap();
        let Package::Status(s) = parsed.package else {
            panic!("{name}")
        };
        assert_eq!(s.status_code.code(), code, "{name}");
        assert_eq!(s.staff_info.staff, "Trần Thị B");
        assert_eq!(
            s.response_for.document_id,
            "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
        );
        let out = status_to_vec(&s).unwrap();
        let again = parse(&out, &mut Discard).unwrap();
        assert_eq!(again.package, Package::Status(s), "{name}");
    }
}
