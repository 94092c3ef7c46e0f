//! Hostile and malformed input: every failure mode has its own error kind and names the
//! element; and the variants real producers write are accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_edxml::*;
use base64::Engine as _;

fn sample() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/edoc_new.edxml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn status_sample() -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/status_finish_06.edxml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The sample with one piece replaced (the piece must be there).
fn edit(from: &str, to: &str) -> Vec<u8> {
    let s = sample();
    assert!(s.contains(from), "{from}");
    s.replacen(from, to, 1).into_bytes()
}

#[track_caller]
fn refused(input: &[u8], limits: &Limits, kind: ErrorKind, names: &str) {
    match parse_with(input, limits, &mut Discard) {
        Ok(_) => panic!("accepted; expected {kind}"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{e}");
            assert!(
                e.to_string().contains(names),
                "`{e}` does not name `{names}`"
            );
        }
    }
}

const ATT: &str = "<ContentType>application/pdf</ContentType><edXML:ContentTransferEncoded xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">";

#[test]
fn each_malformed_input_has_its_own_error() {
    let d = Limits::default();
    let head = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
    let cases: Vec<(Vec<u8>, ErrorKind, &str)> = vec![
        // XML bomb and XXE: the DTD is refused before anything is expanded.
        (
            format!("{head}<!DOCTYPE edXML [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><edXML>&b;</edXML>").into_bytes(),
            ErrorKind::Dtd,
            "DTD",
        ),
        (
            format!("{head}<!DOCTYPE edXML [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><edXML>&xxe;</edXML>").into_bytes(),
            ErrorKind::Dtd,
            "XXE",
        ),
        (edit("<edXML:Subject>V/v", "<edXML:Subject>&xxe;V/v"), ErrorKind::Entity, "MessageHeader/Subject"),
        (edit("<edXML:Subject>V/v", "<edXML:Subject>&#1;V/v"), ErrorKind::Malformed, "MessageHeader/Subject"),
        (b"<edXML><a></b></edXML>".to_vec(), ErrorKind::Xml, "byte"),
        (edit("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""), ErrorKind::Xml, "ISO-8859-1"),
        (b"<html/>".to_vec(), ErrorKind::NotEdxml, "html"),
        (
            br#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/></SOAP-ENV:Envelope>"#.to_vec(),
            ErrorKind::LegacySoapEnvelope,
            "SOAP",
        ),
        (
            edit("<edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName>", "<edXML:From><edXML:OrganId>000.00.00.G22</edXML:OrganId></edXML:From>"),
            ErrorKind::NestedFrom,
            "MessageHeader/From/From",
        ),
        (
            edit("<AttachmentEncoded>", "<edXMLAttachments><AttachmentData>eA==</AttachmentData></edXMLAttachments><AttachmentEncoded>"),
            ErrorKind::NonStandardAttachments,
            "edXML/edXMLAttachments",
        ),
        (
            edit(ATT, &format!("{ATT}[base64 content of the attachment goes here]")),
            ErrorKind::Base64,
            "Attachment[1]/ContentTransferEncoded",
        ),
        (edit(ATT, &format!("{ATT}JVBE*")), ErrorKind::Base64, "offset 4"),
        (edit(ATT, &format!("{ATT}&amp;")), ErrorKind::Base64, "reference inside base64"),
        (
            edit("application/pdf</ContentType>", "application/zip</ContentType>"),
            ErrorKind::Zip,
            "not a zip archive",
        ),
        (
            edit("<edXML:edXMLEnvelope xmlns:edXML=\"http://www.mic.gov.vn/TBT/QCVN_102_2016\">", "<edXML:edXMLEnvelope xmlns:edXML=\"urn:other\">"),
            ErrorKind::Malformed,
            "not in the edXML namespace",
        ),
        (edit("<edXML:MessageHeader>", "<edXML:Other>"), ErrorKind::Xml, "MessageHeader"),
        (edit("2015/09/30</edXML:PromulgationDate>", "30-09-2015</edXML:PromulgationDate>"), ErrorKind::Malformed, "PromulgationInfo/PromulgationDate: not a date"),
        (edit("<edXML:SteeringType>1<", "<edXML:SteeringType>1x<"), ErrorKind::Malformed, "SteeringType: not an unsigned integer"),
        (edit("<edXML:Direction>false<", "<edXML:Direction>no<"), ErrorKind::Malformed, "OtherInfo/Direction"),
        (edit("2015/09/30 10:20:30", "2015/09/30 10h20"), ErrorKind::Malformed, "TraceHeader/Timestamp"),
        (edit("<edXML:Content>", "<edXML:Subject>x</edXML:Subject><edXML:Content>"), ErrorKind::Malformed, "Subject: appears more than once"),
        (edit("<ContentId>cid:210</ContentId>", "<ContentId>209</ContentId>"), ErrorKind::Malformed, "ContentId"),
        (
            status_sample().replace("<edXML:StatusCode>06<", "<edXML:StatusCode>07<").into_bytes(),
            ErrorKind::Malformed,
            "StatusCode: value out of range",
        ),
        (
            status_sample().replace("<edXML:ResponseFor>", "<edXML:X>").replace("</edXML:ResponseFor>", "</edXML:X>").into_bytes(),
            ErrorKind::Missing,
            "MessageHeader/ResponseFor",
        ),
    ];
    for (input, kind, names) in cases {
        refused(&input, &d, kind, names);
    }
}

#[test]
fn missing_message_header_is_named() {
    let s = sample();
    let start = s.find("<edXML:MessageHeader>").unwrap();
    let end = s.find("</edXML:MessageHeader>").unwrap() + "</edXML:MessageHeader>".len();
    let mut cut = s.clone();
    cut.replace_range(start..end, "");
    refused(
        cut.as_bytes(),
        &Limits::default(),
        ErrorKind::Missing,
        "edXMLHeader/MessageHeader",
    );
}

#[test]
fn budgets_are_enforced() {
    let d = Limits::default();
    // 100 MB of nesting stops at the depth budget, after reading a few hundred bytes.
    let deep = "<a>".repeat(100 << 20 >> 2);
    refused(
        format!("<edXML>{deep}").as_bytes(),
        &d,
        ErrorKind::Limit,
        "nesting depth",
    );
    let limits = |f: fn(&mut Limits)| {
        let mut l = Limits::default();
        f(&mut l);
        l
    };
    let s = sample().into_bytes();
    refused(
        &s,
        &limits(|l| l.max_input = 1000),
        ErrorKind::Limit,
        "input size",
    );
    refused(
        &s,
        &limits(|l| l.max_events = 50),
        ErrorKind::Limit,
        "number of XML events",
    );
    refused(
        &s,
        &limits(|l| l.max_text = 20),
        ErrorKind::Limit,
        "text length",
    );
    refused(
        &s,
        &limits(|l| l.max_header = 500),
        ErrorKind::Limit,
        "header text size",
    );
    refused(
        &s,
        &limits(|l| l.max_attachments = 1),
        ErrorKind::Limit,
        "number of attachments",
    );
    refused(
        &s,
        &limits(|l| l.max_attachment_size = 10),
        ErrorKind::Limit,
        "attachment size",
    );
    refused(
        &s,
        &limits(|l| l.max_total_attachment_size = 100),
        ErrorKind::Limit,
        "total attachment size",
    );
    let attrs: String = (0..40).map(|i| format!(" a{i}=\"x\"")).collect();
    refused(
        &edit("<edXML:Subject>", &format!("<edXML:Subject{attrs}>")),
        &d,
        ErrorKind::Limit,
        "attributes on one element",
    );
}

fn with_attachment(name: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    let mut sink = Collect::default();
    let Package::Edoc(mut e) = parse(sample().as_bytes(), &mut sink).unwrap().package else {
        panic!()
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    e.attachments = vec![Attachment {
        content_type: content_type.into(),
        ..Attachment::for_file(
            "cid:1",
            name,
            "",
            data.len() as u64,
            digest.as_ref().try_into().unwrap(),
        )
    }];
    edoc_to_vec(&e, &mut vec![data.to_vec()]).unwrap()
}

#[test]
fn a_zip_bomb_is_refused() {
    // 16 MiB of zeros deflate to a few KiB: a ratio far over 200.
    let bomb = with_attachment("bomb.txt", "application/zip", &vec![0u8; 16 << 20]);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    refused(
        &bomb,
        &Limits::default(),
        ErrorKind::ZipBomb,
        "zip compression ratio",
    );
    let l = Limits {
        max_zip_ratio: 10_000,
        max_attachment_size: 1 << 20,
        ..Limits::default()
    };
    refused(&bomb, &l, ErrorKind::ZipBomb, "attachment size");
}

/// The base64 data of the (only) attachment, decoded, changed, re-encoded.
fn tamper_zip(input: &[u8], f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let s = String::from_utf8(input.to_vec()).unwrap();
    let tag = s.find("<edXML:ContentTransferEncoded").unwrap();
    let start = tag + s[tag..].find('>').unwrap() + 1;
    let end = start + s[start..].find('<').unwrap();
    let mut zip = base64::engine::general_purpose::STANDARD
        .decode(&s[start..end])
        .unwrap();
    f(&mut zip);
    let enc = base64::engine::general_purpose::STANDARD.encode(&zip);
    format!("{}{}{}", &s[..start], enc, &s[end..]).into_bytes()
}

#[test]
fn broken_zips_are_refused() {
    let good = with_attachment("note.txt", "application/zip", b"hello, hello, hello");
    let mut sink = Collect::default();
    parse(&good, &mut sink).unwrap();
    assert_eq!(sink.0, vec![b"hello, hello, hello".to_vec()]);
    let crc = tamper_zip(&good, |z| {
        // The data descriptor follows the deflate stream: signature, then the CRC.
        let at = z
            .windows(4)
            .position(|w| w == [0x50, 0x4b, 0x07, 0x08])
            .unwrap()
            + 4;
        z[at] ^= 0xff;
    });
    refused(&crc, &Limits::default(), ErrorKind::Zip, "CRC-32");
    let truncated = tamper_zip(&good, |z| z.truncate(40));
    refused(&truncated, &Limits::default(), ErrorKind::Zip, "truncated");
    let encrypted = tamper_zip(&good, |z| z[6] |= 1);
    refused(&encrypted, &Limits::default(), ErrorKind::Zip, "encrypted");
    let method = tamper_zip(&good, |z| z[8] = 12);
    refused(&method, &Limits::default(), ErrorKind::Zip, "method 12");
    let corrupt = tamper_zip(&good, |z| {
        let name_len = usize::from(z[26]);
        z[30 + name_len] = 0xff;
    });
    refused(&corrupt, &Limits::default(), ErrorKind::Zip, "");
}

#[test]
fn what_real_producers_write_is_accepted() {
    let mut s = sample();
    // No prefixes anywhere (the default namespace only), business before trace, the other
    // spelling, a signature in the XML-DSig namespace, TS-port's attributes and xlink, a bare
    // ContentId, the legacy timestamp, extensions we skip.
    s = s.replace("edXML:", "").replace("xmlns:edXML=", "xmlns:x=");
    s = s
        .replace("<Bussiness>", "<Business>")
        .replace("</Bussiness>", "</Business>");
    s = s
        .replace("<BussinessDocType>", "<BusinessDocType>")
        .replace("</BussinessDocType>", "</BusinessDocType>");
    s = s
        .replace(
            "<Signature>",
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">",
        )
        .replace("</Signature>", "</ds:Signature>");
    s = s.replace("<TraceHeaderList>", "<TraceHeaderList id=\"t1\" version=\"1.0\" mustUnderstand=\"1\" actor=\"http://schemas.xmlsoap.org/soap/actor/next\">");
    s = s.replace("<Reference>", "<Reference xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:href=\"cid:209\" xlink:role=\"XLinkRole\" xlink:type=\"simple\">");
    s = s.replacen(
        "<ContentId>cid:209</ContentId><AttachmentName>",
        "<ContentId>209</ContentId><AttachmentName>",
        1,
    );
    s = s.replace("2015/09/30 10:20:30", "30/09/2015 10:20:30");
    s = s.replace("<SteeringType>", "<ApplicationType>MCDT_DT</ApplicationType><ResponseForTask><x/></ResponseForTask><SteeringType>");
    let mut sink = Collect::default();
    let parsed = parse(s.as_bytes(), &mut sink).unwrap();
    let Package::Edoc(e) = parsed.package else {
        panic!()
    };
    assert_eq!(
        parsed.ignored,
        ["edXML/edXMLEnvelope/edXMLHeader/MessageHeader/ResponseForTask"]
    );
    assert_eq!(e.header.application_type, "MCDT_DT");
    assert_eq!(e.trace.business.business_doc_type, Some(0));
    assert_eq!(e.trace.attributes.len(), 4);
    assert_eq!(e.references[0].xlink_href, "cid:209");
    assert_eq!(
        e.attachments[0].bare_id(),
        strip_cid(&e.references[0].content_id)
    );
    assert_eq!(
        format_timestamp(e.trace.trace_headers[0].timestamp.unwrap()),
        "2015/09/30 10:20:30"
    );
    let sig = e.signature.as_ref().unwrap();
    assert_eq!(sig.tree.namespace, "http://www.w3.org/2000/09/xmldsig#");
    assert_eq!(e.signature_status(), SignatureStatus::PresentNotVerified);
    // Written back VNPT-style, read again: the same values (the XML-DSig namespace kept).
    let out = edoc_to_vec(&e, &mut sink.0.clone()).unwrap();
    let again = parse(&out, &mut Discard).unwrap();
    assert_eq!(again.package, Package::Edoc(e));
    // An empty Signature (what BKAV and the VPCP SDK send) is "absent".
    let empty = edit("<Signature>", "<Signature/><X>");
    let empty = String::from_utf8(empty)
        .unwrap()
        .replacen("</Signature>", "</X>", 1);
    let Package::Edoc(e) = parse(empty.as_bytes(), &mut Discard).unwrap().package else {
        panic!()
    };
    assert_eq!(e.signature_status(), SignatureStatus::Absent);
    // Mixed content inside a signature survives the rewrite (found by the fuzzer).
    let mixed = edit("<Transforms>", "<Transforms>rT");
    let Package::Edoc(e) = parse(&mixed, &mut Discard).unwrap().package else {
        panic!()
    };
    let out = edoc_to_vec(&e, &mut sink.0.clone()).unwrap();
    assert_eq!(parse(&out, &mut Discard).unwrap().package, Package::Edoc(e));
    // AttachmentEncoded inside the envelope is read too, and errors name where it was.
    let s = sample();
    let start = s.find("<AttachmentEncoded>").unwrap();
    let end = s.find("</AttachmentEncoded>").unwrap() + "</AttachmentEncoded>".len();
    let block = s[start..end].to_owned();
    let mut inside = s.clone();
    inside.replace_range(start..end, "");
    let inside = inside.replacen(
        "</edXML:edXMLEnvelope>",
        &format!("{block}</edXML:edXMLEnvelope>"),
        1,
    );
    let mut files = Collect::default();
    parse(inside.as_bytes(), &mut files).unwrap();
    assert_eq!(files.0, sink.0);
    let broken = inside.replacen("JVBE", "JV*E", 1);
    refused(
        broken.as_bytes(),
        &Limits::default(),
        ErrorKind::Base64,
        "edXML/edXMLEnvelope/AttachmentEncoded/Attachment[1]/ContentTransferEncoded",
    );
    // TS-port's DigitalSignature element.
    let ts = edit(
        "<Signature>",
        "<edXML:DigitalSignature><x>1</x></edXML:DigitalSignature><Signature>",
    );
    assert!(matches!(parse(&ts, &mut Discard), Err(e) if e.to_string().contains("more than once")));
}

#[test]
fn nothing_reaches_the_sink_when_the_header_is_bad() {
    #[derive(Default)]
    struct Count(usize);
    impl AttachmentSink for Count {
        fn write(&mut self, _: usize, d: &[u8]) -> std::io::Result<()> {
            self.0 += d.len();
            Ok(())
        }
    }
    let mut c = Count::default();
    let bad = edit("<edXML:SteeringType>1<", "<edXML:SteeringType>x<");
    assert!(parse(&bad, &mut c).is_err());
    assert_eq!(c.0, 0);
}

/// The hostile samples other crates' tests send through the SDK and the CLI
/// (`tests/data/hostile/`): each is still refused with its own kind, and the zip bomb is what
/// this crate's writer makes (`AXIS_WRITE_HOSTILE=1` writes it again).
#[test]
fn hostile_samples_are_refused_each_with_its_kind() {
    let dir = format!("{}/tests/data/hostile", env!("CARGO_MANIFEST_DIR"));
    let bomb = with_attachment("bomb.txt", "application/zip", &vec![0u8; 16 << 20]);
    let zip_path = format!("{dir}/zip-bomb.edxml");
    if std::env::var_os("AXIS_WRITE_HOSTILE").is_some() {
        std::fs::write(&zip_path, &bomb).unwrap();
    }
    assert_eq!(
        std::fs::read(&zip_path).unwrap(),
        bomb,
        "zip-bomb.edxml drifted from the writer; regenerate it (see the README beside it)"
    );
    for (file, kind) in [
        ("bomb.edxml", ErrorKind::Dtd),
        ("xxe.edxml", ErrorKind::Dtd),
        ("zip-bomb.edxml", ErrorKind::ZipBomb),
        ("broken-base64.edxml", ErrorKind::Base64),
    ] {
        let data = std::fs::read(format!("{dir}/{file}")).unwrap();
        let e = parse(&data, &mut Discard).unwrap_err();
        assert_eq!(e.kind(), kind, "{file}: {e}");
    }
}
