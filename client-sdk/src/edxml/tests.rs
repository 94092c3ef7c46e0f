#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_signer::{DocumentId, MessageId};

use super::*;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../edxml/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The bytes a document's attachment source yields.
fn bytes_of(source: &Source) -> Vec<u8> {
    let mut out = Vec::new();
    crate::send::each_block(source, |b| {
        out.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn every_sample_edoc_becomes_the_document_its_package_describes() {
    for name in [
        "edoc_new.edxml",
        "edoc_revocation.edxml",
        "edoc_update.edxml",
        "edoc_replacement.edxml",
    ] {
        let package = data(name);
        let doc = OutgoingDocument::from_edxml(&package).unwrap();
        let mut files = Collect::default();
        let Package::Edoc(edoc) = parse(&package, &mut files).unwrap().package else {
            panic!("{name}")
        };
        let m = edoc_to_axis(&edoc).unwrap().manifest;
        // Recipients, sender and every field are the package's.
        let ids: Vec<&str> = doc
            .recipients
            .iter()
            .map(|r| r.agency_id.as_str())
            .collect();
        let to: Vec<&str> = edoc.header.to.iter().map(|t| t.organ_id.as_str()).collect();
        assert_eq!(ids, to, "{name}");
        assert_eq!(doc.sender.as_ref(), Some(&m.from));
        assert_eq!(doc.subject, m.subject);
        assert_eq!(doc.business, m.business, "{name}");
        assert_eq!(doc.signer.as_ref(), Some(&m.signer));
        assert_eq!(doc.edoc(), Some(&edoc));
        // The attachments are the decoded files (unzipped), described as the manifest does.
        assert_eq!(doc.attachments.len(), edoc.attachments.len());
        for ((a, want), described) in doc
            .attachments
            .iter()
            .zip(&files.0)
            .zip(&m.attachments[1..])
        {
            assert_eq!(&bytes_of(&a.source), want, "{name}");
            assert_eq!(a.name, described.name);
            assert_eq!(a.content_type, described.content_type);
        }
    }
}

#[test]
fn a_status_or_a_package_axis_cannot_carry_is_refused_with_the_parsers_reason() {
    let e = OutgoingDocument::from_edxml(&data("status_acceptance_03.edxml")).unwrap_err();
    assert_eq!(*e.kind(), crate::ErrorKind::InvalidInput);
    assert!(e.message().contains("is a status"), "{e}");
    // A DocumentId that is not the one From, PromulgationDate and Code make.
    let bad = String::from_utf8(data("edoc_new.edxml")).unwrap().replace(
        "<edXML:DocumentId>000.00.00.G22,2015/09/30,7816/VPCP-TTĐT</edXML:DocumentId>",
        "<edXML:DocumentId>000.00.00.G22,2015/09/30,1/KHAC</edXML:DocumentId>",
    );
    let e = OutgoingDocument::from_edxml(bad.as_bytes()).unwrap_err();
    assert_eq!(e.reason(), Some("EDXML_MAPPING"), "{e}");
    // An attachment name no recipient could save.
    let bad = String::from_utf8(data("edoc_new.edxml"))
        .unwrap()
        .replace(">bien-ban.txt<", ">../bien-ban.txt<");
    let e = OutgoingDocument::from_edxml(bad.as_bytes()).unwrap_err();
    assert!(e.message().contains("path separator"), "{e}");
}

#[test]
fn a_large_attachment_is_spooled_to_a_file_and_read_back_whole() {
    let Package::Edoc(mut edoc) = parse(&data("edoc_new.edxml"), &mut Discard)
        .unwrap()
        .package
    else {
        panic!()
    };
    let big: Vec<u8> = (0..SPOOL_IN_MEMORY + 100_000)
        .map(|i| (i % 251) as u8)
        .collect();
    let digest = ring_digest(&big);
    edoc.attachments = vec![Attachment::for_file(
        "cid:1",
        "so-lieu.pdf",
        "",
        big.len() as u64,
        digest,
    )];
    edoc.references.clear();
    let package = edoc_to_vec(&edoc, &mut vec![big.clone()]).unwrap();
    let doc = OutgoingDocument::from_edxml(&package).unwrap();
    assert!(matches!(doc.attachments[0].source, Source::Spooled(_)));
    // Read twice (the digest pass, then the encryption pass): the same bytes each time.
    assert!(bytes_of(&doc.attachments[0].source) == big);
    assert!(bytes_of(&doc.clone().attachments[0].source) == big);
}

fn ring_digest(data: &[u8]) -> [u8; 32] {
    let mut d = axis_signer::AttachmentDigest::new();
    d.update(data);
    d.finish("", "", "").sha256
}

/// What `Client::seal` builds from a document's fields (the recipients as looked up).
fn fields_of(doc: &OutgoingDocument) -> Manifest {
    let edoc = doc.edoc().unwrap();
    let mut m = edoc_to_axis(edoc).unwrap().manifest;
    m.to = doc
        .recipients
        .iter()
        .map(|r| {
            axis_signer::Organization::new(
                r.agency_id.clone(),
                r.name.clone().unwrap_or_else(|| "Từ danh bạ".into()),
            )
        })
        .collect();
    m.attachments.clear();
    m
}

/// Attachment names, content types and descriptions, as `Client::seal` lists them.
type Names = Vec<(String, String, String)>;

fn names_and_sources(doc: &OutgoingDocument) -> (Names, Vec<Source>) {
    doc.attachments
        .iter()
        .map(|a| {
            (
                (
                    a.name.clone(),
                    a.content_type.clone(),
                    a.description.clone(),
                ),
                a.source.clone(),
            )
        })
        .unzip()
}

#[test]
fn at_sending_the_package_is_the_manifest_and_the_first_attachment() {
    let doc = OutgoingDocument::from_edxml(&data("edoc_new.edxml")).unwrap();
    let (mut names, mut sources) = names_and_sources(&doc);
    let (manifest, expected) = prepare(
        doc.edoc().unwrap(),
        fields_of(&doc),
        &mut names,
        &mut sources,
    )
    .unwrap();
    let axis = edoc_to_axis(doc.edoc().unwrap()).unwrap();
    assert_eq!(expected.unwrap(), axis.manifest.attachments);
    assert_eq!(manifest.to, axis.manifest.to);
    assert_eq!(names[0].0, EDXML_PART_NAME);
    assert_eq!(bytes_of(&sources[0]), axis.edxml_part);
    assert_eq!(names.len(), 1 + doc.attachments.len());

    // Other recipients: one the package names keeps its To element, a new one gets its name.
    let mut doc2 = doc.clone();
    doc2.recipients.remove(0);
    doc2 = doc2.to("000.00.00.H01".parse().unwrap());
    let (mut names, mut sources) = names_and_sources(&doc2);
    let (manifest, _) = prepare(
        doc2.edoc().unwrap(),
        fields_of(&doc2),
        &mut names,
        &mut sources,
    )
    .unwrap();
    let ids: Vec<&str> = manifest.to.iter().map(|o| o.organ_id.as_str()).collect();
    assert_eq!(ids, ["000.00.00.H53", "000.00.00.H29", "000.00.00.H01"]);
    assert_eq!(manifest.to[0], axis.manifest.to[1]);
    assert_eq!(manifest.to[2].organ_name, "Từ danh bạ");
    let part = String::from_utf8(bytes_of(&sources[0])).unwrap();
    assert!(part.contains("000.00.00.H01") && !part.contains("000.00.00.H41"));
}

#[test]
fn at_sending_a_changed_field_or_attachment_is_refused() {
    let doc = OutgoingDocument::from_edxml(&data("edoc_new.edxml")).unwrap();
    let check = |change: &dyn Fn(&mut Manifest, &mut Names), what: &str| {
        let (mut names, mut sources) = names_and_sources(&doc);
        let mut fields = fields_of(&doc);
        change(&mut fields, &mut names);
        let e = prepare(doc.edoc().unwrap(), fields, &mut names, &mut sources).unwrap_err();
        assert_eq!(*e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.message().contains(what), "{what}: {e}");
    };
    check(&|m, _| m.subject = "khác".into(), "subject");
    check(&|m, _| m.priority = crate::Priority::Urgent, "priority");
    check(&|m, _| m.due_date = None, "due date");
    check(
        &|m, _| {
            m.business = crate::Business::Update {
                document: DocumentId::parse("000.00.00.G22,2015/09/01,1/KHAC").unwrap(),
                reason: String::new(),
            }
        },
        "business type",
    );
    check(&|_, n| n[0].0 = "khac.pdf".into(), "attachments");
    check(&|_, n| n.truncate(1), "attachments");
}

#[test]
fn a_status_package_is_applied_only_to_its_own_document_and_parties() {
    let axis = status_package(&data("status_acceptance_03.edxml")).unwrap();
    let receipt = || Receipt {
        message_id: MessageId::random().unwrap(),
        document_id: axis.document_id.clone(),
        from: axis.from.clone(),
        to: axis.to.clone(),
        status: axis.status,
        manifest_digest: Some([0; 32]),
        ciphertext_digest: [0; 32],
        time: time::macros::datetime!(2026-01-03 10:00 UTC),
        previous: None,
        reason: String::new(),
        edxml: Default::default(),
    };
    let mut r = receipt();
    apply_status(&mut r, axis.clone()).unwrap();
    assert_eq!(r.reason, "Tiếp nhận văn bản điện tử, vào sổ văn bản đến");
    assert_eq!(r.edxml["Timestamp"], "2015/10/01 08:30:00");
    assert_eq!(r.edxml["StaffInfo/Staff"], "Trần Thị B");
    assert_eq!(r.time, time::macros::datetime!(2026-01-03 10:00 UTC));
    // Back to the package as the DMS wrote it.
    let Package::Status(s) = parse(&data("status_acceptance_03.edxml"), &mut Discard)
        .unwrap()
        .package
    else {
        panic!()
    };
    assert_eq!(status_of(&r).unwrap(), s);

    let mut other = receipt();
    other.document_id = Some(DocumentId::parse("000.00.00.G22,2015/09/30,1/KHAC").unwrap());
    let e = apply_status(&mut other, axis.clone()).unwrap_err();
    assert!(e.message().contains("ResponseFor/DocumentId"), "{e}");
    let mut other = receipt();
    other.to = "000.00.00.H53".parse().unwrap();
    let e = apply_status(&mut other, axis.clone()).unwrap_err();
    assert!(e.message().contains("ResponseFor/OrganId"), "{e}");
    let mut other = receipt();
    other.from = "000.00.00.H53".parse().unwrap();
    let e = apply_status(&mut other, axis).unwrap_err();
    assert!(e.message().contains("From/OrganId"), "{e}");
    // A document is not a status.
    let e = status_package(&data("edoc_new.edxml")).unwrap_err();
    assert!(e.message().contains("is a document"), "{e}");
}
