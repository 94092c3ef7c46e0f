//! The JSON API's send without edXML — metadata as JSON, attachments as multipart file parts —
//! and the evidence export: A's DMS sends to B through two gateways, B reads the document with
//! its files, and A exports the sent document's evidence bundle, which verifies offline with
//! only the root and the log key (what `axis audit verify` does). Malformed metadata is refused
//! with its reason and nothing is kept.

use axis_tests::json_client::{Answer, JsonClient};
use serde_json::{Value, json};

use crate::gateway::{parse_edoc, setup};

const BOUNDARY: &str = "axis-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body: `metadata` (JSON) then the files (name, type, bytes).
fn multipart(metadata: &Value, files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\
             Content-Type: application/json\r\n\r\n{metadata}\r\n"
        )
        .as_bytes(),
    );
    for (i, (name, ty, data)) in files.iter().enumerate() {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file{i}\"; \
                 filename=\"{name}\"\r\nContent-Type: {ty}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

async fn send(c: &JsonClient, metadata: &Value, files: &[(&str, &str, &[u8])]) -> Answer {
    c.request(
        "POST",
        "/api/v1/documents",
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        &multipart(metadata, files),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dms_sends_json_metadata_with_attachments_and_exports_verifiable_evidence() {
    let (axis, gw_a, gw_b) = setup().await;
    let pki = axis.pki.clone();
    let a = JsonClient::new(gw_a.addr(), None);
    let b = JsonClient::new(gw_b.addr(), None);

    let metadata = json!({
        "to": ["000.00.00.H41"],
        "code": {"number": "45", "notation": "VPCP-KSTT"},
        "subject": "V/v báo cáo tình hình kết nối liên thông",
        "content": "Đề nghị báo cáo trước ngày 15.",
        "place": "Hà Nội",
        "date": "2026-11-30",
        "priority": 1,
        "to_places": ["Như trên"],
        "descriptions": ["Công văn", "Phụ lục"]
    });
    let pdf: &[u8] = b"%PDF-1.7 cong van 45";
    let xlsx = vec![7u8; 20_000];
    let files: [(&str, &str, &[u8]); 2] = [
        ("cong-van-45.pdf", "application/pdf", pdf),
        ("phu-luc.xlsx", "application/vnd.ms-excel", &xlsx),
    ];

    // Malformed metadata: its reason, nothing kept.
    for (bad, why) in [
        (
            json!({"code": {"number": "45", "notation": "X"}, "subject": "s", "colour": "red"}),
            "unknown field",
        ),
        (
            json!({"to": ["000.00.00.H41"], "code": {"number": "4/5", "notation": "X"}, "subject": "s"}),
            "a / in the number",
        ),
        (
            json!({"code": {"number": "45", "notation": "X"}, "subject": "s"}),
            "no recipient",
        ),
        (
            json!({"to": ["000.00.00.H41"], "code": {"number": "45", "notation": "X"}, "subject": "s", "priority": 9}),
            "priority 9",
        ),
    ] {
        let r = send(&a, &bad, &files).await;
        assert_eq!(
            r.status / 100,
            4,
            "{why}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.json()["reason"],
            "REQUEST_MALFORMED",
            "{why}: {}",
            r.json()
        );
    }
    assert!(
        gw_a.gateway()
            .db
            .outbox_list("edoc", 10)
            .await
            .unwrap()
            .is_empty()
    );

    let sent = send(&a, &metadata, &files).await;
    assert_eq!(sent.status, 202, "{}", String::from_utf8_lossy(&sent.body));
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    let again = send(&a, &metadata, &files).await.json();
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["repeat"], true);

    // B reads it: the metadata and the files, byte for byte.
    let (items, _) = b.wait_received("edoc", None, 1).await;
    assert_eq!(items[0]["message_id"], id.as_str());
    let item_id = items[0]["id"].as_str().unwrap();
    let one = b.get_json(&format!("/api/v1/received/{item_id}")).await;
    assert_eq!(one["subject"], "V/v báo cáo tình hình kết nối liên thông");
    assert_eq!(one["code"], "45/VPCP-KSTT");
    // The gateway holds a personal key: its holder signed, stated in the manifest.
    assert_eq!(one["signature_report"]["signature_form"], "personAndSeal");
    assert_eq!(
        one["signature_report"]["personal"]["signer_name"],
        "Nguyễn Cao Lục"
    );
    let package = b.get(&format!("/api/v1/received/{item_id}/edxml")).await;
    assert_eq!(package.status, 200);
    let (edoc, got) = parse_edoc(&package.body);
    assert_eq!(
        edoc.header.subject,
        "V/v báo cáo tình hình kết nối liên thông"
    );
    assert_eq!(got, vec![pdf.to_vec(), xlsx.clone()]);
    let names: Vec<&str> = edoc
        .attachments
        .iter()
        .map(|x| x.attachment_name.as_str())
        .collect();
    assert_eq!(names, ["cong-van-45.pdf", "phu-luc.xlsx"]);

    // The evidence bundle of the sent document, once the axis accepted it.
    let mut bundle = Vec::new();
    for _ in 0..600 {
        let r = a.get(&format!("/api/v1/sent/{id}/evidence")).await;
        if r.status == 200 {
            bundle = r.body;
            break;
        }
        assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let log_key = axis_pki::public_key_of(&pki.log.cert).unwrap();
    let report = axis_evidence::verify_bundle(&bundle, &pki.pki.root, &log_key).unwrap();
    assert_eq!(report.message_id.to_string(), id);
    assert_eq!(report.sender.as_str(), "000.00.00.G22");
    assert_eq!(report.recipients.len(), 1);
    assert_eq!(report.recipients[0].as_str(), "000.00.00.H41");
    let mut tampered = bundle.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    assert!(axis_evidence::verify_bundle(&tampered, &pki.pki.root, &log_key).is_err());
    let r = a.get("/api/v1/sent/no-such-id/evidence").await;
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (404, Some("NOT_FOUND"))
    );

    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}
