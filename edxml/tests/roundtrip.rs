//! Property tests over generated packages: write → parse gives the same values for any
//! package, and edXML → Axis (a manifest signer accepts, and the edXML part) → edXML gives the
//! same values for any package Axis can carry; the same for statuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_edxml::*;
use axis_signer::{ManifestBytes, StatusCode};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use time::{Date, PrimitiveDateTime, Time};

/// Text as DMSs write it: Vietnamese, XML specials, inner spaces and line breaks; trimmed
/// (VNPT's writer trims, so a value never starts or ends with a space).
fn text(max: usize, lines: bool) -> impl Strategy<Value = String> {
    let re = if lines {
        format!("[a-zA-Z0-9 ĐđăâêôơưÀ-ỹ&<>'\"/.,;:()\\n-]{{0,{max}}}")
    } else {
        format!("[a-zA-Z0-9 ĐđăâêôơưÀ-ỹ&<>'\"/.,;:()-]{{0,{max}}}")
    };
    proptest::string::string_regex(&re)
        .unwrap()
        .prop_map(|s: String| s.trim().to_owned())
}

fn nonempty(max: usize) -> impl Strategy<Value = String> {
    text(max, false).prop_map(|s| if s.is_empty() { "x".into() } else { s })
}

fn agency() -> impl Strategy<Value = String> {
    ("[0-9]{3}", "[0-9]{2}", "[0-9]{2}", "[A-Z][0-9]{2}")
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
}

fn date() -> impl Strategy<Value = Date> {
    (2000i32..2040, 1u16..=365).prop_map(|(y, d)| Date::from_ordinal_date(y, d).unwrap())
}

fn timestamp() -> impl Strategy<Value = PrimitiveDateTime> {
    (date(), 0u8..24, 0u8..60, 0u8..60)
        .prop_map(|(d, h, m, s)| PrimitiveDateTime::new(d, Time::from_hms(h, m, s).unwrap()))
}

fn code() -> impl Strategy<Value = Code> {
    ("[0-9]{1,5}", "[A-ZĐ]{1,6}(-[A-ZĐ]{1,6})?").prop_map(|(n, t)| Code {
        code_number: n,
        code_notation: t,
    })
}

fn document_id() -> impl Strategy<Value = String> {
    (agency(), date(), code()).prop_map(|(a, d, c)| {
        format!(
            "{a},{},{}/{}",
            format_date(d),
            c.code_number,
            c.code_notation
        )
    })
}

fn email() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z]{1,8}@[a-z]{1,8}\\.gov\\.vn"]
}

fn organization() -> impl Strategy<Value = Organization> {
    (
        agency(),
        text(40, false),
        nonempty(40),
        text(60, false),
        email(),
        "[0-9.]{0,12}",
        "[0-9.]{0,12}",
        "([a-z]{1,8}\\.vn)?",
    )
        .prop_map(|(id, inc, name, add, email, tel, fax, web)| Organization {
            organ_id: id,
            organization_in_charge: inc,
            organ_name: name,
            organ_add: add,
            email,
            telephone: tel,
            fax,
            website: web,
        })
}

fn staff() -> impl Strategy<Value = StaffInfo> {
    (text(20, false), text(20, false), email(), "[0-9]{0,10}").prop_map(|(d, s, e, m)| StaffInfo {
        department: d,
        staff: s,
        email: e,
        mobile: m,
    })
}

fn response_for() -> impl Strategy<Value = ResponseFor> {
    (agency(), date(), code()).prop_map(|(a, d, c)| ResponseFor {
        organ_id: a.clone(),
        code: format!("{}/{}", c.code_number, c.code_notation),
        promulgation_date: Some(d),
        document_id: format!(
            "{a},{},{}/{}",
            format_date(d),
            c.code_number,
            c.code_notation
        ),
    })
}

fn signature() -> impl Strategy<Value = Option<EmbeddedSignature>> {
    option::of(
        ("[A-Za-z0-9+/=]{1,40}", any::<bool>(), any::<bool>()).prop_map(|(value, dsig, ts)| {
            let ns = if dsig { XMLDSIG_NS } else { EDXML_NS };
            let leaf = |name: &str, text: &str| XmlElement {
                namespace: ns.into(),
                name: name.into(),
                text: text.into(),
                ..XmlElement::default()
            };
            EmbeddedSignature {
                element: if ts {
                    SignatureElement::DigitalSignature
                } else {
                    SignatureElement::Signature
                },
                tree: XmlElement {
                    namespace: ns.into(),
                    name: if ts { "DigitalSignature" } else { "Signature" }.into(),
                    attributes: vec![("Id".into(), "sig & <1>".into())],
                    text: String::new(),
                    children: vec![leaf("SignatureValue", &value), leaf("KeyInfo", "")],
                },
            }
        }),
    )
}

const NAMES: [(&str, &str); 6] = [
    ("cong-van.pdf", "application/pdf"),
    ("bien-ban.txt", "application/zip"),
    ("ho-so.zip", "application/zip"),
    ("du-thao.docx", "application/docx"),
    ("ảnh chụp.png", "application/zip"),
    ("bang.xls", "application/vnd.ms-excel"),
];

/// Attachments with their bytes (zipped ones too).
fn attachments() -> impl Strategy<Value = (Vec<Attachment>, Vec<Vec<u8>>)> {
    vec(
        (
            0..NAMES.len(),
            text(30, false),
            vec(any::<u8>(), 0..3000),
            text(5, false),
        ),
        0..4,
    )
    .prop_map(|list| {
        let mut atts = Vec::new();
        let mut files = Vec::new();
        for (i, (n, description, data, format)) in list.into_iter().enumerate() {
            let (name, content_type) = NAMES[n];
            let digest = ring::digest::digest(&ring::digest::SHA256, &data);
            atts.push(Attachment {
                content_id: format!("cid:{}", i + 200),
                attachment_name: name.into(),
                description,
                content_type: content_type.into(),
                format,
                size: data.len() as u64,
                sha256: digest.as_ref().try_into().unwrap(),
            });
            files.push(data);
        }
        (atts, files)
    })
}

prop_compose! {
    fn header()(
        from in organization(),
        to in vec(organization(), 1..4),
        code in code(),
        place in text(30, false),
        pdate in date(),
        kind in option::of(0u32..3),
        detail in option::of(0u32..20),
        type_name in text(30, false),
        subject in nonempty(80).prop_flat_map(|s| text(40, true).prop_map(move |t| format!("{s}{}", t.trim_start()))),
        content in text(80, true),
        signer in (text(30, false), text(30, false), nonempty(30)),
        due in option::of(date()),
        other in (option::of(0u32..5), text(30, false), text(10, false), option::of(0u32..100),
                  option::of(0u32..100), option::of(any::<bool>()), vec(nonempty(20), 0..3)),
        response_for in vec(response_for(), 0..3),
        steering in 0u32..3,
        application in prop_oneof![Just(String::new()), Just("MCDT_DT".to_owned())],
        to_places in vec(nonempty(40), 0..3),
        write_id in any::<bool>(),
    ) -> MessageHeader {
        let mut to = to;
        to.sort_by(|a, b| a.organ_id.cmp(&b.organ_id));
        to.dedup_by(|a, b| a.organ_id == b.organ_id);
        let document_id = if write_id {
            format!("{},{},{}/{}", from.organ_id, format_date(pdate), code.code_number, code.code_notation)
        } else {
            String::new()
        };
        MessageHeader {
            from,
            to,
            document_id,
            code,
            promulgation_info: PromulgationInfo { place, promulgation_date: Some(pdate) },
            document_type: DocumentType { type_: kind, type_detail: detail, type_name },
            subject,
            content,
            signer_info: SignerInfo { competence: signer.0, position: signer.1, full_name: signer.2 },
            due_date: due,
            other_info: OtherInfo {
                priority: other.0,
                sphere_of_promulgation: other.1,
                typer_notation: other.2,
                promulgation_amount: other.3,
                page_amount: other.4,
                direction: other.5,
                appendixes: other.6,
            },
            response_for,
            steering_type: steering,
            application_type: application,
            to_places,
        }
    }
}

prop_compose! {
    fn trace()(
        kind in 0u32..4,
        doc in document_id(),
        reason in text(60, true),
        paper in option::of(0u32..2),
        staff in staff(),
        receivers in vec((agency(), option::of(0u32..2)), 0..3),
        replaced in vec((document_id(), vec(agency(), 0..3)), 0..2),
        headers in vec((agency(), option::of(timestamp())), 0..3),
        attrs in any::<bool>(),
    ) -> TraceHeaderList {
        TraceHeaderList {
            business: Business {
                // Type 0 names no document; 3 may name it in ReplacementInfoList only.
                document_id: if kind == 0 || (kind == 3 && !replaced.is_empty()) { String::new() } else { doc },
                business_doc_type: Some(kind),
                business_doc_reason: if kind == 0 { String::new() } else { reason },
                paper,
                staff_info: staff,
                business_document_info: BusinessDocumentInfo {
                    document_info: if kind == 2 { "1".into() } else { String::new() },
                    document_receiver: if kind == 2 { "1".into() } else { String::new() },
                    receiver_list: receivers
                        .into_iter()
                        .map(|(organ_id, receiver_type)| Receiver { organ_id, receiver_type })
                        .collect(),
                },
                replacement_info_list: replaced
                    .into_iter()
                    .map(|(document_id, organ_id_list)| ReplacementInfo { document_id, organ_id_list })
                    .collect(),
            },
            trace_headers: headers
                .into_iter()
                .map(|(organ_id, timestamp)| TraceHeader { organ_id, timestamp })
                .collect(),
            attributes: if attrs {
                vec![("id".into(), "th-1".into()), ("mustUnderstand".into(), "1".into())]
            } else {
                Vec::new()
            },
        }
    }
}

prop_compose! {
    fn edoc()(
        header in header(),
        trace in trace(),
        signature in signature(),
        (attachments, files) in attachments(),
        xlink in any::<bool>(),
    ) -> (Edoc, Vec<Vec<u8>>) {
        let references = attachments
            .iter()
            .map(|a| Reference {
                content_id: a.content_id.clone(),
                content_type: "application/zip".into(),
                description: a.description.clone(),
                attachment_name: a.attachment_name.clone(),
                xlink_href: if xlink { a.content_id.clone() } else { String::new() },
                xlink_role: if xlink { "XLinkRole".into() } else { String::new() },
                xlink_type: if xlink { "simple".into() } else { String::new() },
            })
            .collect();
        let mut header = header;
        // A revocation names its document in Bussiness or, as the VPCP sample does, in
        // ResponseFor.
        if trace.business.business_doc_type == Some(1) && trace.business.document_id.is_empty() && header.response_for.is_empty() {
            header.response_for.push(ResponseFor::default());
        }
        (Edoc { header, trace, signature, references, attachments }, files)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn write_then_parse_gives_the_same_values((e, files) in edoc()) {
        let out = edoc_to_vec(&e, &mut files.clone()).unwrap();
        let mut sink = Collect::default();
        let parsed = parse(&out, &mut sink).unwrap();
        prop_assert_eq!(parsed.package, Package::Edoc(e));
        prop_assert_eq!(sink.0, files);
        prop_assert!(parsed.ignored.is_empty());
    }

    #[test]
    fn edxml_to_axis_and_back_gives_the_same_values((e, files) in edoc()) {
        // From bytes, as a DMS hands them over.
        let out = edoc_to_vec(&e, &mut files.clone()).unwrap();
        let Package::Edoc(parsed) = parse(&out, &mut Discard).unwrap().package else {
            panic!()
        };
        let axis = edoc_to_axis(&parsed).unwrap();
        // Through signer's own encoding, as the recipient reads it.
        let manifest = ManifestBytes::parse(axis.manifest.encode().unwrap().as_bytes()).unwrap();
        let back = edoc_from_axis(manifest.manifest(), Some(&axis.edxml_part)).unwrap();
        prop_assert_eq!(&back, &e);
        prop_assert_eq!(edoc_to_vec(&back, &mut files.clone()).unwrap(), out);
    }

    #[test]
    fn statuses_go_to_axis_and_back(
        from in organization(),
        other in agency(),
        rf in response_for(),
        override_rf in any::<bool>(),
        staff in staff(),
        code in prop::sample::select(vec![1u64, 2, 3, 4, 5, 6, 13, 15, 16]),
        description in text(60, true),
        ts in timestamp(),
        signed_at in 1_000_000_000i64..4_000_000_000,
    ) {
        let mut from = from;
        from.organ_add.truncate(0);
        let status = Status {
            from,
            response_for: ResponseFor {
                organ_id: other,
                code: if override_rf { "1/KHAC".into() } else { rf.code.clone() },
                ..rf
            },
            staff_info: staff,
            status_code: StatusCode::from_code(code).unwrap(),
            description,
            timestamp: Some(ts),
        };
        let out = status_to_vec(&status).unwrap();
        let Package::Status(parsed) = parse(&out, &mut Discard).unwrap().package else { panic!() };
        prop_assert_eq!(&parsed, &status);
        let axis = status_to_axis(&parsed).unwrap();
        axis_signer::Receipt::check_edxml(&axis.edxml).unwrap();
        prop_assert_eq!(&status_from_axis(&axis).unwrap(), &status);
        // Signed at another instant (whole seconds, as a receipt keeps it): the same package.
        let later = axis.signed_at(time::OffsetDateTime::from_unix_timestamp(signed_at).unwrap());
        axis_signer::Receipt::check_edxml(&later.edxml).unwrap();
        prop_assert_eq!(status_from_axis(&later).unwrap(), status);
    }
}
