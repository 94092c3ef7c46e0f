//! Unit tests that need the crate's internals: signed attributes the public API never writes,
//! over-budget bytes the encoders refuse to write, and property tests of the header and receipt
//! encodings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::AgencyId;
use axis_testkit::pki::any_agency_id;
use proptest::prelude::*;

use crate::cms::der;
use crate::cms::signature::{self, SignatureRole};
use crate::limits::MAX_RECIPIENTS;
use crate::package::header::{HeaderBytes, MessageId, RoutingHeader};
use crate::package::manifest::{Manifest, ManifestBytes, Organization, Priority};
use crate::receipt::{Receipt, ReceiptBytes, StatusCode};
use crate::{DocumentId, Error, FormatError};

/// The test kit's sample manifest from A to B, read into this crate's own types (the kit is
/// built against the library, not against these unit tests).
fn manifest() -> Manifest {
    let f = axis_testkit::fixture();
    let bytes = axis_testkit::manifest(&[&f.b], &[]).encode().unwrap();
    ManifestBytes::parse(bytes.as_bytes())
        .unwrap()
        .manifest()
        .clone()
}

/// Signed attributes beyond the profile's four: the harmless ones other stacks add pass, and
/// everything else fails with its own error.
#[test]
fn extra_signed_attributes_are_accepted_only_when_known_and_consistent() {
    use crate::cms::oid;
    let f = axis_testkit::fixture();
    let content = b"manifest bytes";
    let rsa_sha256 = |params: bool| {
        let mut v = der::oid(oid::SHA256_WITH_RSA);
        if params {
            v.extend(der::null());
        }
        v
    };
    let ecdsa = || der::oid(oid::ECDSA_WITH_SHA256);
    let sha = |o: &[u8], null: bool| {
        let mut v = der::oid(o);
        if null {
            v.extend(der::null());
        }
        der::seq(&[&v])
    };
    const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    // CMSAlgorithmProtection { digestAlgorithm, [1] signatureAlgorithm contents, more }.
    let protection = |digest: Vec<u8>, sig: Option<Vec<u8>>, more: &[u8]| {
        let mut parts = digest;
        if let Some(sig) = sig {
            parts.extend(der::tlv(der::context(1), &sig));
        }
        parts.extend_from_slice(more);
        signature::attribute(
            oid::CMS_ALGORITHM_PROTECTION,
            &der::tlv(der::SEQUENCE, &parts),
        )
    };
    let caps = signature::attribute(
        oid::SMIME_CAPABILITIES,
        &der::seq(&[
            &der::seq(&[&der::oid(oid::AES256_CBC)]),
            &der::seq(&[&der::oid(oid::SHA256), &der::null()]),
        ]),
    );
    // id-aa-ets-sigPolicyId (CAdES-EPES): a meaning Axis would ignore.
    let policy = signature::attribute(
        &der::oid_content("1.2.840.113549.1.9.16.2.15").unwrap(),
        &der::seq(&[&der::oid(&[0x2a, 0x03])]),
    );
    let two_values = der::seq(&[
        &der::oid(oid::SMIME_CAPABILITIES),
        &der::set_of(vec![
            der::seq(&[]),
            der::seq(&[&der::seq(&[&der::oid(oid::SHA256)])]),
        ]),
    ]);
    let malformed_caps = signature::attribute(oid::SMIME_CAPABILITIES, &der::octets(b"x"));

    type Edit = Box<dyn Fn(&mut Vec<Vec<u8>>)>;
    let add = |a: Vec<u8>| -> Edit { Box::new(move |v: &mut Vec<Vec<u8>>| v.push(a.clone())) };
    let drop_attr = |i: usize| -> Edit {
        Box::new(move |v: &mut Vec<Vec<u8>>| {
            v.remove(i);
        })
    };
    // The kit's keys and certificates, as this crate's signers.
    let person = crate::Signer::new(&f.person.key, &f.person.cert).unwrap(); // RSA-2048
    let person_b = crate::Signer::new(&f.person_b.key, &f.person_b.cert).unwrap(); // P-256
    // (case, signer, edit of the profile's four attributes, "ok" or the error's Debug prefix:
    // category, then variant)
    let cases: Vec<(&str, &crate::Signer<'_>, Edit, &str)> = vec![
        (
            "the profile's four",
            &person,
            Box::new(|_: &mut Vec<Vec<u8>>| {}) as Edit,
            "ok",
        ),
        ("+ smimeCapabilities", &person, add(caps.clone()), "ok"),
        (
            "+ protection, RSA with NULL",
            &person,
            add(protection(
                sha(oid::SHA256, false),
                Some(rsa_sha256(true)),
                &[],
            )),
            "ok",
        ),
        (
            "+ protection, RSA without NULL, digest with NULL",
            &person,
            add(protection(
                sha(oid::SHA256, true),
                Some(rsa_sha256(false)),
                &[],
            )),
            "ok",
        ),
        (
            "+ protection, ECDSA",
            &person_b,
            add(protection(sha(oid::SHA256, false), Some(ecdsa()), &[])),
            "ok",
        ),
        (
            "+ both",
            &person_b,
            Box::new({
                let (c, p) = (
                    caps.clone(),
                    protection(sha(oid::SHA256, false), Some(ecdsa()), &[]),
                );
                move |v: &mut Vec<Vec<u8>>| {
                    v.push(c.clone());
                    v.push(p.clone());
                }
            }),
            "ok",
        ),
        (
            "protection names SHA-384",
            &person,
            add(protection(sha(SHA384, false), Some(rsa_sha256(true)), &[])),
            "Signature(AlgorithmProtectionMismatch",
        ),
        (
            "protection names ECDSA for an RSA signature",
            &person,
            add(protection(sha(oid::SHA256, false), Some(ecdsa()), &[])),
            "Signature(AlgorithmProtectionMismatch",
        ),
        (
            "protection without a signature algorithm",
            &person,
            add(protection(sha(oid::SHA256, false), None, &[])),
            "Signature(AlgorithmProtectionMismatch",
        ),
        (
            "protection with a MAC algorithm too",
            &person_b,
            add(protection(
                sha(oid::SHA256, false),
                Some(ecdsa()),
                &der::tlv(der::context(2), &der::oid(oid::SHA256)),
            )),
            "Signature(AlgorithmProtectionMismatch",
        ),
        (
            "protection gives ECDSA a NULL parameter",
            &person_b,
            add(protection(
                sha(oid::SHA256, false),
                Some([ecdsa(), der::null()].concat()),
                &[],
            )),
            "Signature(AlgorithmProtectionMismatch",
        ),
        (
            "an unknown attribute",
            &person,
            add(policy.clone()),
            "Signature(SignedAttributeUnknown { role: PersonalSigner, oid: \"1.2.840.113549.1.9.16.2.15\" }",
        ),
        (
            "smimeCapabilities twice",
            &person,
            Box::new({
                let c = caps.clone();
                move |v: &mut Vec<Vec<u8>>| {
                    v.push(c.clone());
                    v.push(c.clone());
                }
            }),
            "Signature(SignedAttributeRepeated { role: PersonalSigner, attribute: \"smimeCapabilities\" }",
        ),
        (
            "an attribute with two values",
            &person,
            add(two_values),
            "Signature(SignedAttributeRepeated",
        ),
        (
            "contentType twice",
            &person,
            Box::new(|v: &mut Vec<Vec<u8>>| v.push(v[0].clone())),
            "Signature(SignedAttributeRepeated { role: PersonalSigner, attribute: \"contentType\" }",
        ),
        (
            "no signingCertificateV2 (what BouncyCastle writes by default)",
            &person,
            drop_attr(3),
            "Signature(SignedAttributeMissing { role: PersonalSigner, attribute: \"signingCertificateV2\" }",
        ),
        (
            "malformed smimeCapabilities",
            &person,
            add(malformed_caps),
            "Format(Malformed",
        ),
    ];
    for (name, signer, edit, expected) in cases {
        let mut attrs =
            signature::standard_attributes(content, signer, axis_testkit::SIGNED).unwrap();
        edit(&mut attrs);
        let sig = signature::sign_attributes(signer, attrs).unwrap();
        let role = SignatureRole::PersonalSigner;
        match signature::verify_detached(&sig, content, role, &f.store, axis_testkit::NOW) {
            Ok(_) => assert_eq!(expected, "ok", "{name}: verified"),
            Err(e) => {
                let got = format!("{e:?}");
                assert!(
                    got.starts_with(expected),
                    "{name}: expected {expected}, got {got}"
                );
            }
        }
    }
}

fn header(recipients: usize) -> RoutingHeader {
    RoutingHeader {
        message_id: MessageId::random().unwrap(),
        sender: AgencyId::parse("000.00.00.G22").unwrap(),
        recipients: (0..recipients)
            .map(|i| AgencyId::parse(&format!("{:03}.{:02}.00.H41", i % 1000, i / 1000)).unwrap())
            .collect(),
        priority: Priority::Normal,
        chunk_size: 65536,
        key_commitment: [1; 32],
        key_envelope_root: [2; 32],
        ciphertext_len: 123_456,
        ciphertext_digest: [3; 32],
    }
}

#[test]
fn parsers_refuse_too_many_recipients_in_received_bytes() {
    // Bytes the encoders would refuse to write, as an attacker would send them.
    let bytes = header(MAX_RECIPIENTS + 1).encode();
    assert!(matches!(
        HeaderBytes::parse(&bytes),
        Err(Error::Format(FormatError::TooManyRecipients {
            found: 501,
            max: 500
        }))
    ));
    let mut m = manifest();
    m.to = (0..=MAX_RECIPIENTS)
        .map(|i| {
            Organization::new(
                AgencyId::parse(&format!("{:03}.{:02}.00.H41", i % 1000, i / 1000)).unwrap(),
                "x",
            )
        })
        .collect();
    assert!(matches!(
        ManifestBytes::parse(&m.encode_unchecked()),
        Err(Error::Format(FormatError::TooManyRecipients {
            found: 501,
            max: 500
        }))
    ));
}

#[test]
fn parsers_refuse_oversized_fields_in_received_bytes() {
    let mut m = manifest();
    m.code = crate::Code::new("1", "x").unwrap();
    m.subject = "Đ".repeat(501);
    assert!(matches!(
        ManifestBytes::parse(&m.encode_unchecked()),
        Err(Error::Format(FormatError::FieldTooLong {
            field: "Subject",
            len: 501,
            max: 500
        }))
    ));
    let mut m = manifest();
    m.from.telephone = "0".repeat(crate::limits::MAX_PHONE + 1);
    assert!(matches!(
        ManifestBytes::parse(&m.encode_unchecked()),
        Err(Error::Format(FormatError::FieldTooLong {
            field: "Telephone",
            ..
        }))
    ));
}

#[test]
fn parsers_refuse_a_second_encoding_of_the_same_value() {
    // The chunk size written with a superfluous leading zero octet: BER, not DER.
    let h = header(1);
    let canonical = der::uint(u64::from(h.chunk_size));
    let padded = der::tlv(der::INTEGER, &[0, 1, 0, 0]);
    let prefix = h.encode_prefix();
    let mut r = der::Reader::new(&prefix, "t");
    let (oid, version, binding) = (r.any().unwrap(), r.any().unwrap(), r.any().unwrap());
    let at = binding
        .value
        .windows(canonical.len())
        .position(|w| w == canonical.as_slice())
        .unwrap();
    let body = [
        &binding.value[..at],
        &padded[..],
        &binding.value[at + canonical.len()..],
    ]
    .concat();
    let bad = der::seq(&[
        oid.raw,
        version.raw,
        &der::tlv(der::SEQUENCE, &body),
        &der::uint(h.ciphertext_len),
        &der::octets(&h.ciphertext_digest),
    ]);
    assert!(matches!(
        HeaderBytes::parse(&bad),
        Err(Error::Format(FormatError::Malformed {
            what: "routing header"
        }))
    ));
    assert!(HeaderBytes::parse(&h.encode()).is_ok());
}

/// A receipt's bytes with the fields after `reason` replaced by `tail`, at `version`.
fn receipt_with_tail(version: u64, tail: &[u8]) -> Vec<u8> {
    let r = Receipt {
        message_id: MessageId::from_uuid(uuid::Uuid::from_bytes([7; 16])),
        document_id: Some(DocumentId::parse("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT").unwrap()),
        from: AgencyId::parse("000.00.00.H41").unwrap(),
        to: AgencyId::parse("000.00.00.G22").unwrap(),
        status: StatusCode::Accepted,
        manifest_digest: Some([1; 32]),
        ciphertext_digest: [2; 32],
        time: time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        previous: None,
        reason: "Đã vào sổ".into(),
        edxml: Default::default(),
    };
    let v1 = r.encode().unwrap();
    let mut outer = der::Reader::new(&v1, "t");
    let mut body = outer.sequence().unwrap();
    let mut parts = Vec::new();
    while !body.is_empty() {
        parts.push(body.any().unwrap().raw.to_vec());
    }
    parts[1] = der::uint(version);
    parts.push(tail.to_vec());
    der::seq(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>())
}

fn edxml_field(element: &str, value: &str) -> Vec<u8> {
    der::seq(&[&der::utf8(element), &der::utf8(value)])
}

#[test]
fn the_receipt_edxml_extension_has_one_byte_form() {
    let ext = |fields: &[Vec<u8>]| der::tlv(der::context(0), &fields.concat());
    let (a, b) = (
        edxml_field("From/OrganName", "UBND"),
        edxml_field("StaffInfo/Staff", "Lan"),
    );
    // The canonical form parses; the same fields in another order, twice, or empty do not.
    let good = receipt_with_tail(2, &ext(&[a.clone(), b.clone()]));
    let parsed = ReceiptBytes::parse(&good).unwrap();
    assert_eq!(parsed.receipt().edxml.len(), 2);
    assert_eq!(parsed.as_bytes(), &good[..]);
    let malformed = |bytes: Vec<u8>| {
        let e = ReceiptBytes::parse(&bytes).unwrap_err();
        assert!(
            matches!(e, Error::Format(FormatError::Malformed { what: "receipt" })),
            "{e:?}"
        );
    };
    malformed(receipt_with_tail(2, &ext(&[b.clone(), a.clone()])));
    malformed(receipt_with_tail(2, &ext(&[a.clone(), a.clone()])));
    malformed(receipt_with_tail(2, &ext(&[])));
    // The extension only in version 2, and version 2 only with it.
    malformed(receipt_with_tail(1, &ext(std::slice::from_ref(&a))));
    malformed(receipt_with_tail(2, &[]));
    // Explicitly tagged, or a field with a third element: not this structure.
    malformed(receipt_with_tail(
        2,
        &der::tlv(der::context(0), &der::seq(&[&a])),
    ));
    malformed(receipt_with_tail(
        2,
        &ext(&[der::seq(&[
            &der::utf8("A"),
            &der::utf8("x"),
            &der::utf8("y"),
        ])]),
    ));
    // A later version is not read at all.
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(3, &ext(std::slice::from_ref(&a)))),
        Err(Error::Format(FormatError::UnsupportedVersion {
            what: "receipt",
            version: 3
        }))
    ));
    // Field checks apply to received bytes as to built ones.
    let too_many: Vec<Vec<u8>> = (0..=crate::limits::MAX_EDXML_FIELDS)
        .map(|i| edxml_field(&format!("F{i:02}"), "x"))
        .collect();
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(2, &ext(&too_many))),
        Err(Error::Format(FormatError::TooMany {
            what: "edXML extension fields",
            ..
        }))
    ));
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(
            2,
            &ext(&[edxml_field("Staff Info", "x")])
        )),
        Err(Error::Format(FormatError::FieldInvalid {
            field: "edXML extension element",
            ..
        }))
    ));
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(2, &ext(&[edxml_field("A", " ")]))),
        Err(Error::Format(FormatError::FieldEmpty {
            field: "edXML extension value"
        }))
    ));
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(2, &ext(&[edxml_field("A", "\u{1}")]))),
        Err(Error::Format(FormatError::FieldInvalid {
            field: "edXML extension value",
            ..
        }))
    ));
    let long: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            edxml_field(
                &format!("F{i}"),
                &"x".repeat(crate::limits::MAX_EDXML_VALUE),
            )
        })
        .collect();
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(2, &ext(&long))),
        Err(Error::Format(FormatError::FieldTooLong {
            field: "edXML extension",
            len: 2500,
            max: 2000
        }))
    ));
    assert!(matches!(
        ReceiptBytes::parse(&receipt_with_tail(
            2,
            &ext(&[edxml_field("A", &"x".repeat(501))])
        )),
        Err(Error::Format(FormatError::FieldTooLong {
            field: "edXML extension value",
            ..
        }))
    ));
}

prop_compose! {
    fn routing_header()(
        id in any::<[u8; 16]>(),
        sender in any_agency_id(),
        recipients in proptest::collection::hash_set(any_agency_id(), 1..20),
        priority in 0u64..5,
        chunk_size in crate::limits::MIN_CHUNK_SIZE..=crate::limits::MAX_CHUNK_SIZE,
        key_commitment in any::<[u8; 32]>(),
        key_envelope_root in any::<[u8; 32]>(),
        ciphertext_len in 0u64..=crate::limits::MAX_CIPHERTEXT_LEN,
        ciphertext_digest in any::<[u8; 32]>(),
    ) -> RoutingHeader {
        RoutingHeader {
            message_id: MessageId::from_uuid(uuid::Uuid::from_bytes(id)),
            sender,
            recipients: recipients.into_iter().collect(),
            priority: Priority::from_code(priority).unwrap(),
            chunk_size,
            key_commitment,
            key_envelope_root,
            ciphertext_len,
            ciphertext_digest,
        }
    }
}

prop_compose! {
    fn receipt()(
        id in any::<[u8; 16]>(),
        from in any_agency_id(),
        to in any_agency_id(),
        status in prop::sample::select(vec![1u64, 2, 3, 4, 5, 6, 13, 15, 16]),
        digests in any::<([u8; 32], [u8; 32])>(),
        secs in 0i64..4_000_000_000,
        previous in proptest::option::of(any::<[u8; 32]>()),
        reason in "[a-zđệ ]{0,40}",
        edxml in proptest::collection::btree_map("[A-Za-z]{1,8}(/[A-Za-z]{1,8})?", "[a-zđệ0-9 ]{0,30}[a-z]", 0..4),
    ) -> Receipt {
        Receipt {
            message_id: MessageId::from_uuid(uuid::Uuid::from_bytes(id)),
            document_id: Some(DocumentId::parse("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT").unwrap()),
            from,
            to,
            status: StatusCode::from_code(status).unwrap(),
            manifest_digest: Some(digests.0),
            ciphertext_digest: digests.1,
            time: time::OffsetDateTime::from_unix_timestamp(secs).unwrap(),
            previous,
            reason,
            edxml,
        }
    }
}

proptest! {
    #[test]
    fn routing_header_round_trips(h in routing_header()) {
        let bytes = HeaderBytes::from_header(h.clone()).unwrap();
        let back = HeaderBytes::parse(bytes.as_bytes()).unwrap();
        prop_assert_eq!(back.header(), &h);
        prop_assert_eq!(back.binding_digest(), bytes.binding_digest());
    }

    #[test]
    fn receipt_round_trips(r in receipt()) {
        let bytes = ReceiptBytes::new(&r).unwrap();
        let back = ReceiptBytes::parse(bytes.as_bytes()).unwrap();
        prop_assert_eq!(back.receipt(), &r);
        prop_assert_eq!(back.hash(), bytes.hash());
    }

    #[test]
    fn header_parser_never_accepts_a_mutation_as_another_valid_encoding(
        h in routing_header(),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let bytes = HeaderBytes::from_header(h).unwrap();
        let mut b = bytes.as_bytes().to_vec();
        let i = pos.index(b.len());
        b[i] = byte;
        if let Ok(parsed) = HeaderBytes::parse(&b) {
            prop_assert_eq!(parsed.as_bytes(), &b[..]);
        }
    }
}

/// A version-1 header (key envelope digest and length instead of the Merkle root) is refused
/// by name: the sender's SDK predates per-recipient entries.
#[test]
fn a_version_1_routing_header_is_refused_as_retired() {
    let h = header(2);
    let recipients: Vec<u8> = h
        .recipients
        .iter()
        .flat_map(|r| der::utf8(r.as_str()))
        .collect();
    let binding = der::seq(&[
        &der::octets(h.message_id.as_bytes()),
        &der::utf8(h.sender.as_str()),
        &der::tlv(der::SEQUENCE, &recipients),
        &der::uint(u64::from(h.priority.code())),
        &der::uint(u64::from(h.chunk_size)),
        &der::octets(&h.key_commitment),
        &der::octets(&[7; 32]),
        &der::uint(1000),
    ]);
    let v1 = der::seq(&[
        &der::oid(crate::cms::Format::RoutingHeader.oid()),
        &der::uint(1),
        &binding,
        &der::uint(h.ciphertext_len),
        &der::octets(&h.ciphertext_digest),
    ]);
    let e = HeaderBytes::parse(&v1).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Format(FormatError::RetiredVersion {
                what: "routing header",
                version: 1,
                current: 2,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("version 2 replaced it"), "{e}");
    // Version 2 of the same fields reads; version 3 is not known.
    let v2 = HeaderBytes::from_header(h.clone()).unwrap();
    assert_eq!(HeaderBytes::parse(v2.as_bytes()).unwrap().header(), &h);
    let mut v3 = v2.as_bytes().to_vec();
    let at = v3.windows(3).position(|w| w == [0x02, 0x01, 0x02]).unwrap();
    v3[at + 2] = 3;
    assert!(matches!(
        HeaderBytes::parse(&v3),
        Err(Error::Format(FormatError::UnsupportedVersion {
            version: 3,
            ..
        }))
    ));
}
