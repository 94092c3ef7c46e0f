//! edXML ↔ Axis: every sample document and status goes to Axis and back with every value
//! equal; an edXML part that contradicts its signed manifest is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_edxml::*;
use axis_signer::{ManifestBytes, StatusCode};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn edoc(name: &str) -> (Edoc, Vec<Vec<u8>>) {
    let mut sink = Collect::default();
    match parse(&data(name), &mut sink).unwrap().package {
        Package::Edoc(e) => (e, sink.0),
        Package::Status(_) => panic!("{name}"),
    }
}

const EDOCS: [(&str, u8); 4] = [
    ("edoc_new.edxml", 0),
    ("edoc_revocation.edxml", 1),
    ("edoc_update.edxml", 2),
    ("edoc_replacement.edxml", 3),
];

#[test]
fn every_business_type_goes_to_axis_and_back() {
    for (name, business) in EDOCS {
        let (e, files) = edoc(name);
        let axis = edoc_to_axis(&e).unwrap();
        // The manifest is one signer accepts and reads back identically.
        let encoded = axis.manifest.encode().unwrap();
        let manifest = ManifestBytes::parse(encoded.as_bytes()).unwrap();
        let m = manifest.manifest();
        assert_eq!(m.business.code(), business, "{name}");
        assert_eq!(m.to.len(), 3);
        assert_eq!(
            manifest.document_id().to_string(),
            "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
        );
        assert!(has_edxml_part(m));
        assert_eq!(m.attachments.len(), files.len() + 1);
        for (i, f) in files.iter().enumerate() {
            let a = &m.attachments[manifest_index(m, i)];
            assert_eq!(a.size, f.len() as u64);
            assert_eq!(
                a.sha256,
                <[u8; 32]>::try_from(ring::digest::digest(&ring::digest::SHA256, f).as_ref())
                    .unwrap()
            );
        }
        // The recipient regenerates what the sender wrote.
        let back = edoc_from_axis(m, Some(&axis.edxml_part)).unwrap();
        assert_eq!(back, e, "{name}");
        assert_eq!(
            edoc_to_vec(&back, &mut files.clone()).unwrap(),
            edoc_to_vec(&e, &mut files.clone()).unwrap()
        );
        // The edXML part is deterministic.
        assert_eq!(edoc_to_axis(&e).unwrap().edxml_part, axis.edxml_part);
    }
}

#[test]
fn business_references_land_in_the_manifest() {
    let (e, _) = edoc("edoc_revocation.edxml");
    let m = edoc_to_axis(&e).unwrap().manifest;
    // The revocation names its document in ResponseFor only.
    assert_eq!(
        m.business.referenced().unwrap().to_string(),
        "000.00.00.G22,2015/09/29,7800/VPCP-TTĐT"
    );
    assert_eq!(m.response_for.len(), 1);
    let (e, _) = edoc("edoc_replacement.edxml");
    let m = edoc_to_axis(&e).unwrap().manifest;
    assert_eq!(
        m.business.referenced().unwrap().to_string(),
        "000.00.00.G22,2015/09/29,7800/VPCP-TTĐT"
    );
}

#[track_caller]
fn contradicts(manifest: &axis_signer::Manifest, part: &[u8], field: &str) {
    match edoc_from_axis(manifest, Some(part)) {
        Err(Error::ExtensionContradicts { field: f }) => assert_eq!(f, field),
        other => panic!("expected a contradiction in {field}, got {other:?}"),
    }
}

#[test]
fn a_part_that_contradicts_the_manifest_is_refused() {
    let (e, _) = edoc("edoc_update.edxml");
    let axis = edoc_to_axis(&e).unwrap();
    let mut m = axis.manifest.clone();
    m.subject = "Một trích yếu khác".into();
    contradicts(&m, &axis.edxml_part, "subject");
    let mut m = axis.manifest.clone();
    m.to.pop();
    contradicts(&m, &axis.edxml_part, "to");
    let mut m = axis.manifest.clone();
    m.attachments[1].name = "khac.pdf".into();
    contradicts(&m, &axis.edxml_part, "attachments");
    // A part changed after signing: its digest no longer matches.
    let mut part = axis.edxml_part.clone();
    let at = part.len() / 2;
    part[at] ^= 1;
    contradicts(&axis.manifest, &part, "attachments[0] (edXML part digest)");
    // A consistent digest but another business reason in the part.
    let mut other = e.clone();
    other.trace.business.business_doc_reason = "Lý do khác".into();
    let forged = edoc_to_axis(&other).unwrap();
    let mut m = axis.manifest.clone();
    m.attachments[0] = forged.manifest.attachments[0].clone();
    contradicts(&m, &forged.edxml_part, "business");
    // A manifest naming a part without the part.
    assert!(matches!(
        edoc_from_axis(&axis.manifest, None),
        Err(Error::Mapping { .. })
    ));
}

#[test]
fn a_native_axis_document_becomes_vnpt_style_edxml() {
    let (e, files) = edoc("edoc_replacement.edxml");
    let mut m = edoc_to_axis(&e).unwrap().manifest;
    m.attachments.remove(0);
    let native = edoc_from_axis(&m, None).unwrap();
    assert_eq!(
        native.header.document_id,
        "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    );
    assert_eq!(native.trace.business.business_doc_type, Some(3));
    assert_eq!(native.trace.business.replacement_info_list.len(), 1);
    assert_eq!(native.attachments[0].content_id, "cid:1");
    assert_eq!(native.references[0].content_type, "application/zip");
    let out = edoc_to_vec(&native, &mut files.clone()).unwrap();
    let mut sink = Collect::default();
    let again = parse(&out, &mut sink).unwrap();
    assert_eq!(again.package, Package::Edoc(native));
    assert_eq!(sink.0, files);
}

/// A sample status package.
fn status(name: &str) -> Status {
    let Package::Status(s) = parse(&data(name), &mut Discard).unwrap().package else {
        panic!("{name}")
    };
    s
}

#[test]
fn every_status_code_goes_to_axis_and_back() {
    for (name, code) in [
        ("status_inbox_01.edxml", StatusCode::Arrived),
        ("status_rejection_02.edxml", StatusCode::Rejected),
        ("status_acceptance_03.edxml", StatusCode::Accepted),
        ("status_assignment_04.edxml", StatusCode::Assigned),
        ("status_processing_05.edxml", StatusCode::Processing),
        ("status_finish_06.edxml", StatusCode::Completed),
        ("status_cancellation_13.edxml", StatusCode::RecallRequested),
        (
            "status_change-acceptance_15.edxml",
            StatusCode::ChangeAccepted,
        ),
        (
            "status_change-rejection_16.edxml",
            StatusCode::ChangeRefused,
        ),
    ] {
        let Package::Status(s) = parse(&data(name), &mut Discard).unwrap().package else {
            panic!("{name}")
        };
        let a = status_to_axis(&s).unwrap();
        assert_eq!(a.status, code);
        // 08:30 in Hà Nội is 01:30 UTC.
        assert_eq!(a.time, time::macros::datetime!(2015-10-01 01:30 UTC));
        // The reason is the Description as the DMS wrote it; the rest is in the extension.
        assert_eq!(a.reason, s.description);
        assert_eq!(a.edxml["StaffInfo/Staff"], s.staff_info.staff, "{name}");
        assert!(!a.edxml.contains_key("Timestamp"));
        if code == StatusCode::RecallRequested {
            assert_eq!(a.from.as_str(), "000.00.00.G22");
            assert_eq!(a.to.as_str(), "000.00.00.H41");
        } else {
            assert_eq!(a.from.as_str(), "000.00.00.H41");
            assert_eq!(a.to.as_str(), "000.00.00.G22");
        }
        assert_eq!(status_from_axis(&a).unwrap(), s, "{name}");
    }
}

#[test]
fn a_status_with_nothing_more_than_a_receipt_has_no_extension() {
    let mut s = status("status_finish_06.edxml");
    s.staff_info = StaffInfo::default();
    s.from = Organization {
        organ_id: s.from.organ_id.clone(),
        ..Organization::default()
    };
    let a = status_to_axis(&s).unwrap();
    assert_eq!(a.reason, "Hoàn thành xử lý");
    assert!(a.edxml.is_empty(), "{:?}", a.edxml);
    // What once was a marker is just text now: it stays in the reason, untouched.
    s.description = "xem\n\n[edXML] {}".into();
    let a = status_to_axis(&s).unwrap();
    assert_eq!(a.reason, s.description);
    assert_eq!(status_from_axis(&a).unwrap(), s);
}

#[test]
fn a_status_signed_later_keeps_the_dms_timestamp() {
    let s = status("status_acceptance_03.edxml");
    let a = status_to_axis(&s).unwrap();
    // Signed a year later (the axis takes only statuses signed now): the receipt says when
    // the seal signed, the extension what the DMS wrote.
    let now = time::macros::datetime!(2016-10-01 03:04:05.678 UTC);
    let signed = a.clone().signed_at(now);
    assert_eq!(
        signed.time,
        time::macros::datetime!(2016-10-01 03:04:05 UTC)
    );
    assert_eq!(signed.edxml["Timestamp"], "2015/10/01 08:30:00");
    assert_eq!(status_from_axis(&signed).unwrap(), s);
    // Signed at the very instant it names: nothing extra; signing again changes nothing.
    let same = a.clone().signed_at(a.time);
    assert_eq!(same, a);
    assert_eq!(signed.clone().signed_at(now), signed);
    // Through a real receipt's fields.
    let receipt = axis_signer::Receipt {
        message_id: axis_signer::MessageId::random().unwrap(),
        document_id: signed.document_id.clone(),
        from: signed.from.clone(),
        to: signed.to.clone(),
        status: signed.status,
        manifest_digest: Some([0; 32]),
        ciphertext_digest: [0; 32],
        time: signed.time,
        previous: None,
        reason: signed.reason.clone(),
        edxml: signed.edxml.clone(),
    };
    axis_signer::Receipt::check_edxml(&receipt.edxml).unwrap();
    assert_eq!(
        status_from_axis(&AxisStatus::from_receipt(&receipt)).unwrap(),
        s
    );
}

#[test]
fn an_unknown_extension_element_is_an_error_not_a_silent_loss() {
    let s = status("status_finish_06.edxml");
    let mut a = status_to_axis(&s).unwrap();
    a.edxml.insert("StaffInfo/Title".into(), "x".into());
    assert!(matches!(
        status_from_axis(&a),
        Err(Error::Mapping {
            field: "edXML extension",
            ..
        })
    ));
}

#[test]
fn a_status_too_long_for_a_receipt_is_refused_not_truncated() {
    let mut s = status("status_finish_06.edxml");
    // 500 characters of Description fit, with StaffInfo beside them.
    s.description = "x".repeat(500);
    status_to_axis(&s).unwrap();
    s.description = "x".repeat(501);
    assert!(matches!(
        status_to_axis(&s),
        Err(Error::StatusTooLong { len: 501, max: 500 })
    ));
    // Extras beyond the receipt extension's budget: the signer's check, named.
    s.description.clear();
    s.from.organ_add = "Đ".repeat(501);
    assert!(matches!(
        status_to_axis(&s),
        Err(Error::Signer {
            source: axis_signer::Error::Format(axis_signer::FormatError::FieldTooLong {
                field: "edXML extension value",
                ..
            }),
            ..
        })
    ));
}

#[test]
fn what_axis_cannot_carry_is_refused_with_its_own_error() {
    let (e, _) = edoc("edoc_new.edxml");
    let mut bad = e.clone();
    bad.header.document_id = "000.00.00.G22,2015/09/30,1/KHAC".into();
    assert!(matches!(
        edoc_to_axis(&bad),
        Err(Error::DocumentIdMismatch { .. })
    ));
    let mut bad = e.clone();
    bad.header.to[0].organ_id = "H41".into();
    assert!(matches!(
        edoc_to_axis(&bad),
        Err(Error::AgencyId {
            field: "To/OrganId",
            ..
        })
    ));
    let mut bad = e.clone();
    bad.header.code.code_number = "78,16".into();
    assert!(matches!(
        edoc_to_axis(&bad),
        Err(Error::Signer { field: "Code", .. })
    ));
    let mut bad = e.clone();
    bad.trace.business.business_doc_type = Some(2);
    assert!(matches!(
        edoc_to_axis(&bad),
        Err(Error::Mapping {
            field: "Bussiness/DocumentId",
            ..
        })
    ));
    let mut bad = e;
    bad.header.promulgation_info.promulgation_date = None;
    assert_eq!(edoc_to_axis(&bad).unwrap_err().kind(), ErrorKind::Mapping);
}
