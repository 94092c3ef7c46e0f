//! Round trips: manifests (property tests), documents sealed for several agencies and opened by
//! each, streaming with every write size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_signer::limits::*;
use axis_signer::*;
use axis_testkit::pki::any_agency_id;
use axis_testkit::*;
use proptest::prelude::*;

#[test]
fn seal_for_two_agencies_open_as_each() {
    let f = fixture();
    let p = standard_package();
    let expected = standard_attachments();
    for who in [&f.b, &f.c] {
        let (received, files) = open(&p, who).unwrap();
        assert_eq!(files, expected);
        assert_eq!(received.recipient(), &who.id);
        let report = received.document().report();
        let personal = report.personal.as_ref().unwrap();
        assert_eq!(personal.role, SignatureRole::PersonalSigner);
        assert_eq!(personal.signer_name, "Trần Văn Sơn");
        assert_eq!(personal.position.as_deref(), Some("Phó Chủ nhiệm"));
        assert_eq!(personal.agency, f.a.id);
        assert_eq!(personal.signing_time, SIGNED);
        assert_eq!(report.seal.signer_name, "Văn phòng Chính phủ");
        assert_eq!(report.seal.position, None);
        assert!(matches!(
            report.seal.certificate_status,
            CertificateStatus::Good { checked_at } if checked_at == NOW
        ));
        assert_eq!(
            report.document_id.to_string(),
            "000.00.00.G22,2026/01/02,7816/VPCP-TTĐT"
        );
        assert_eq!(report.manifest_digest, p.document.manifest().digest());
        let shown = personal.to_string();
        assert!(shown.contains("Trần Văn Sơn (Phó Chủ nhiệm)"), "{shown}");
    }
}

#[test]
fn the_axis_checks_origin_sizes_and_digest_without_the_key() {
    let f = fixture();
    let p = standard_package();
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    assert_eq!(sub.header().sender, f.a.id);
    assert_eq!(
        sub.header().recipients,
        vec![f.b.id.clone(), f.c.id.clone()]
    );
    assert_eq!(sub.header().priority, Priority::Urgent);
    assert_eq!(sub.report().role, SignatureRole::Submission);
    sub.check_key_envelope(&p.sealed.key_envelope).unwrap();
    let mut check = sub.ciphertext_check();
    for piece in p.ciphertext.chunks(1000) {
        check.update(piece).unwrap();
    }
    check.finish().unwrap();
    // The header travels as bytes and parses back to the same value.
    let bytes = sub.header_bytes().as_bytes();
    let again = Submission::parse(bytes, p.sealed.submission.signature().to_vec()).unwrap();
    assert_eq!(again.header(), sub.header_bytes());
}

#[test]
fn every_write_size_gives_the_same_plaintext_and_chunking_is_canonical() {
    let f = fixture();
    let att: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let m = manifest(&[&f.b], &[("a.pdf", &att)]);
    let doc = sign(&m);
    let mut lens = Vec::new();
    for step in [1, 1023, 1024, 1025, 4096, 10_000] {
        let p = seal_document(&doc, &[&f.b], &[&att], 1024, step);
        let (_, files) = open(&p, &f.b).unwrap();
        assert_eq!(files, vec![att.clone()], "step {step}");
        lens.push(p.ciphertext.len());
        // ceil(4096 / 1024) = 4 chunks, the last one full: one chunking per length.
        let parts: Vec<_> = frames(&p.ciphertext)
            .iter()
            .map(|fr| frame_id(fr))
            .filter(|(part, _, _)| *part == 3)
            .collect();
        assert_eq!(
            parts,
            vec![(3, 0, false), (3, 1, false), (3, 2, false), (3, 3, true)]
        );
    }
    assert!(lens.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn documents_without_attachments_and_with_empty_ones() {
    let f = fixture();
    let m = manifest(&[&f.b], &[]);
    let p = seal_document(&sign(&m), &[&f.b], &[], 1024, 1);
    let (r, files) = open(&p, &f.b).unwrap();
    assert!(files.is_empty());
    assert!(r.document().manifest().manifest().attachments.is_empty());

    let m = manifest(&[&f.b], &[("empty.txt", b"")]);
    let p = seal_document(&sign(&m), &[&f.b], &[b""], 1024, 1);
    let (_, files) = open(&p, &f.b).unwrap();
    assert_eq!(files, vec![Vec::<u8>::new()]);
}

#[test]
fn a_signed_document_verifies_on_its_own() {
    let f = fixture();
    let m = manifest(&[&f.b], &[]);
    let doc = sign(&m);
    let v = doc.verify(&f.store, NOW).unwrap();
    assert_eq!(v.manifest().manifest(), &m);
    // Received as parts.
    let again = SignedDocument::from_parts(
        ManifestBytes::parse(doc.manifest().as_bytes()).unwrap(),
        doc.personal_signature().to_vec(),
        doc.seal_signature().to_vec(),
    );
    again.verify(&f.store, NOW).unwrap();
}

#[test]
fn business_types_and_responses_round_trip() {
    let f = fixture();
    let original = DocumentId::parse("000.00.00.G22,2025/12/01,100/VPCP-TH").unwrap();
    for business in [
        Business::Recall {
            document: original.clone(),
            reason: "Ban hành nhầm".into(),
        },
        Business::Update {
            document: original.clone(),
            reason: String::new(),
        },
        Business::Replace {
            document: original.clone(),
            reason: "Thay thế".into(),
        },
    ] {
        let mut m = manifest(&[&f.b], &[]);
        m.business = business;
        m.response_for = vec![original.clone()];
        let bytes = m.encode().unwrap();
        let back = ManifestBytes::parse(bytes.as_bytes()).unwrap();
        assert_eq!(back.manifest(), &m);
        assert_eq!(back.manifest().business.referenced(), Some(&original));
    }
}

// ----- property tests -----

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            proptest::char::range('a', 'z'),
            Just('Đ'),
            Just('ệ'),
            Just(' '),
            Just('-')
        ],
        0..=max.min(40),
    )
    .prop_map(|v| v.into_iter().collect())
}

fn required(max: usize) -> impl Strategy<Value = String> {
    text(max).prop_map(|s| format!("x{}", s.chars().skip(1).collect::<String>()))
}

fn date() -> impl Strategy<Value = time::Date> {
    (1900i32..2100, 1u16..=365).prop_map(|(y, d)| time::Date::from_ordinal_date(y, d).unwrap())
}

fn organization() -> impl Strategy<Value = Organization> {
    (
        any_agency_id(),
        required(MAX_ORGAN_NAME),
        text(MAX_ORGAN_ADD),
        text(MAX_PHONE),
    )
        .prop_map(|(id, name, add, tel)| {
            let mut o = Organization::new(id, name);
            o.organ_add = add;
            o.telephone = tel;
            o.email = "vanthu@example.vn".into();
            o
        })
}

fn code() -> impl Strategy<Value = Code> {
    ("[0-9]{1,11}", "[A-ZĐ][A-ZĐ/-]{0,29}").prop_map(|(n, s)| Code::new(n, s).unwrap())
}

fn document_id() -> impl Strategy<Value = DocumentId> {
    (any_agency_id(), date(), code()).prop_map(|(a, d, c)| DocumentId::new(a, d, c).unwrap())
}

fn attachment() -> impl Strategy<Value = Attachment> {
    (
        required(MAX_ATTACHMENT_NAME),
        text(MAX_DESCRIPTION),
        0u64..(1 << 30),
        any::<[u8; 32]>(),
    )
        .prop_map(|(name, description, size, sha256)| Attachment {
            name,
            content_type: "application/pdf".into(),
            description,
            size,
            sha256,
        })
}

fn business() -> impl Strategy<Value = Business> {
    prop_oneof![
        Just(Business::New),
        (document_id(), text(50))
            .prop_map(|(document, reason)| Business::Recall { document, reason }),
        (document_id(), text(50))
            .prop_map(|(document, reason)| Business::Update { document, reason }),
        (document_id(), text(50))
            .prop_map(|(document, reason)| Business::Replace { document, reason }),
    ]
}

prop_compose! {
    fn manifest_strategy()(
        from in organization(),
        to in proptest::collection::vec(organization(), 1..5),
        code in code(),
        place in text(MAX_PLACE),
        pdate in date(),
        subject in required(MAX_SUBJECT),
        content in text(MAX_CONTENT),
        full_name in required(MAX_SIGNER_FIELD),
        due in proptest::option::of(date()),
        to_places in proptest::collection::vec(required(MAX_TO_PLACE), 0..4),
        priority in 0u64..5,
        amounts in any::<(u32, u32)>(),
        response_for in proptest::collection::vec(document_id(), 0..3),
        business in business(),
        attachments in proptest::collection::vec(attachment(), 0..4),
    ) -> Manifest {
        Manifest {
            from,
            to,
            code,
            promulgation: Promulgation { place, date: pdate },
            document_type: DocumentType { kind: 1, detail: 0, name: "Công văn".into() },
            subject,
            content,
            signer: SignerInfo { competence: String::new(), position: String::new(), full_name },
            due_date: due,
            to_places,
            priority: Priority::from_code(priority).unwrap(),
            other: OtherInfo {
                promulgation_amount: amounts.0,
                page_amount: amounts.1,
                ..OtherInfo::default()
            },
            response_for,
            business,
            attachments,
            signature_form: Default::default(),
        }
    }
}

proptest! {
    #[test]
    fn manifest_round_trips(m in manifest_strategy()) {
        // Duplicate recipients are refused; everything else encodes and parses back.
        let ids: std::collections::HashSet<_> = m.to.iter().map(|o| &o.organ_id).collect();
        prop_assume!(ids.len() == m.to.len());
        let bytes = m.encode().unwrap();
        let back = ManifestBytes::parse(bytes.as_bytes()).unwrap();
        prop_assert_eq!(back.manifest(), &m);
        prop_assert_eq!(back.as_bytes(), bytes.as_bytes());
        prop_assert_eq!(back.digest(), bytes.digest());
        prop_assert_eq!(back.document_id(), &m.document_id().unwrap());
    }

    #[test]
    fn document_ids_round_trip(id in document_id()) {
        let text = id.to_string();
        prop_assert_eq!(DocumentId::parse(&text).unwrap(), id);
    }

    #[test]
    fn manifest_parser_never_panics_on_mutations(
        m in manifest_strategy(),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let ids: std::collections::HashSet<_> = m.to.iter().map(|o| &o.organ_id).collect();
        prop_assume!(ids.len() == m.to.len());
        let mut bytes = m.encode().unwrap().as_bytes().to_vec();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        // Either an error or a manifest that re-encodes to exactly these bytes.
        if let Ok(parsed) = ManifestBytes::parse(&bytes) {
            prop_assert_eq!(parsed.as_bytes(), &bytes[..]);
        }
    }
}
