//! The personal signature through the gateway, end to end (one axis, two gateways):
//!
//! - A document from the VXP-compatible path, whose DMS cannot take part in a personal
//!   signature, carries the agency seal alone, and the recipient reads it plainly: the signed
//!   manifest says `sealOnly` and the report has no personal signature.
//! - The two-step send of the JSON API, the test playing the DMS whose person signs on their own
//!   token: the gateway prepares the manifest bytes, the person signs them with `openssl cms`
//!   (a detached CMS) or makes a raw signature over the signed attributes the gateway gives,
//!   and the gateway verifies, seals and queues. A signature over other bytes, by another
//!   agency's person, by the seal key, or by an expired certificate is refused with its own
//!   reason and nothing is queued; a completed or unknown handle is `PREPARED_UNKNOWN`.

use axis_pki::{Profile, Subject, to_pem};
use axis_testkit::openssl_cli::openssl_ok;
use axis_tests::json_client::{Answer, JsonClient};
use axis_tests::vxp_client::Body;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::gateway::{parse_edoc, setup};

/// The sample document to H41 under code `number` (a distinct DocumentId per send).
fn edoc_numbered(number: &str) -> Vec<u8> {
    let package = crate::gateway::edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An");
    let (mut e, files) = parse_edoc(&package);
    let old = format!("{}/", e.header.code.code_number);
    e.header.document_id = e
        .header
        .document_id
        .replacen(&old, &format!("{number}/"), 1);
    e.header.code.code_number = number.into();
    axis_client::edxml::edoc_to_vec(&e, &mut files.clone()).unwrap()
}

/// The DMS's token: `openssl cms -sign` with `cert`/`key` over `content` (FORMATS.md §5.5).
fn openssl_sign(
    dir: &std::path::Path,
    ca: &[u8],
    (cert, key): (&[u8], &axis_pki::PrivateKey),
    content: &[u8],
) -> Vec<u8> {
    let ca_pem = dir.join("ca.pem");
    std::fs::write(&ca_pem, to_pem("CERTIFICATE", ca)).unwrap();
    std::fs::write(dir.join("signer.pem"), to_pem("CERTIFICATE", cert)).unwrap();
    std::fs::write(
        dir.join("signer.key"),
        to_pem("PRIVATE KEY", &key.to_pkcs8_der()),
    )
    .unwrap();
    std::fs::write(dir.join("content.der"), content).unwrap();
    let out = dir.join("signature.cms");
    openssl_ok(
        [
            "cms",
            "-sign",
            "-binary",
            "-cades",
            "-nosmimecap",
            "-md",
            "sha256",
            "-outform",
            "DER",
        ]
        .map(std::ffi::OsString::from)
        .into_iter()
        .chain([
            "-signer".into(),
            dir.join("signer.pem").into(),
            "-inkey".into(),
            dir.join("signer.key").into(),
            "-certfile".into(),
            ca_pem.into(),
            "-in".into(),
            dir.join("content.der").into(),
            "-out".into(),
            out.clone().into(),
        ]),
    );
    std::fs::read(out).unwrap()
}

async fn post_json(c: &JsonClient, path: &str, body: Value) -> Answer {
    c.request(
        "POST",
        path,
        "application/json",
        body.to_string().as_bytes(),
    )
    .await
}

fn reason(a: &Answer) -> String {
    a.json()["reason"].as_str().unwrap_or_default().to_owned()
}

/// B's report of the received document with message id `id`.
async fn report_at_b(b: &JsonClient, cursor: &mut Option<String>, id: &str) -> Value {
    let (items, next) = b.wait_received("edoc", cursor.clone(), 1).await;
    *cursor = next;
    assert_eq!(items[0]["message_id"], id);
    let one = b
        .get_json(&format!(
            "/api/v1/received/{}",
            items[0]["id"].as_str().unwrap()
        ))
        .await;
    one["signature_report"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_on_their_own_token_and_a_vxp_document_says_no_personal_signature_was_made()
{
    let (axis, gw_a, gw_b) = setup().await;
    let pki = axis.pki.clone();
    let a = JsonClient::new(gw_a.addr(), None);
    let b = JsonClient::new(gw_b.addr(), None);
    let dir = tempfile::tempdir().unwrap();
    let person = &pki.agencies[0].personal;
    let queued = || async {
        gw_a.gateway()
            .db
            .outbox_list("edoc", 100)
            .await
            .unwrap()
            .len()
    };
    let mut cursor = None;

    // The VXP path: the agency seal alone, said in the signed manifest and shown to B.
    let sent = gw_a
        .dms()
        .send_edoc("000.00.00.G22", "edoc", &edoc_numbered("7001"), Body::Raw)
        .await
        .json();
    assert_eq!(sent["status"], "OK", "{sent}");
    let report = report_at_b(&b, &mut cursor, sent["DocId"].as_str().unwrap()).await;
    assert_eq!(report["signature_form"], "sealOnly", "{report}");
    assert!(report["personal"].is_null(), "{report}");
    assert_eq!(report["seal"]["agency"], "000.00.00.G22");
    assert_eq!(queued().await, 1);

    // The two-step send, a detached CMS made by the DMS's own tool.
    let prepared = a
        .send_edxml("/api/v1/documents/prepare", &edoc_numbered("7002"))
        .await;
    assert_eq!(
        prepared.status,
        201,
        "{}",
        String::from_utf8_lossy(&prepared.body)
    );
    let p = prepared.json();
    let handle = p["handle"].as_str().unwrap().to_owned();
    let manifest = B64.decode(p["manifest"].as_str().unwrap()).unwrap();
    assert_eq!(
        p["manifest_sha256"],
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &manifest))
    );
    assert_eq!(p["signer"]["full_name"], "Nguyễn Cao Lục");
    assert!(p["what"].as_str().unwrap().contains("Manifest DER"));
    // What the person signs is the document's manifest, stating a personal signature.
    let parsed = axis_client::signer::ManifestBytes::parse(&manifest).unwrap();
    assert_eq!(
        parsed.manifest().signature_form,
        axis_client::signer::SignatureForm::PersonAndSeal
    );
    assert_eq!(parsed.manifest().signer.full_name, "Nguyễn Cao Lục");
    assert_eq!(parsed.manifest().to[0].organ_id.as_str(), "000.00.00.H41");
    assert_eq!(queued().await, 1, "preparing queues nothing");

    let sign_path = format!("/api/v1/documents/prepared/{handle}/signature");
    let cms_of = |sig: &[u8]| json!({ "cms": B64.encode(sig) });
    // Refused signatures, each with its own reason; nothing queued.
    let over_other = openssl_sign(
        dir.path(),
        &pki.pki.ca,
        (&person.cert, &person.key),
        &[&manifest[..], b"x"].concat(),
    );
    let other_agency = &pki.agencies[1].personal;
    let by_other = openssl_sign(
        dir.path(),
        &pki.pki.ca,
        (&other_agency.cert, &other_agency.key),
        &manifest,
    );
    let seal = &pki.agencies[0].seal;
    let by_seal = openssl_sign(dir.path(), &pki.pki.ca, (&seal.cert, &seal.key), &manifest);
    let mut subject = Subject::new("Nguyễn Cao Lục");
    subject.agency_id = Some(pki.agencies[0].id.clone());
    subject.title = Some("Phó Chủ nhiệm".into());
    let now = time::OffsetDateTime::now_utc();
    let expired = pki
        .pki
        .issue_between(
            Profile::PersonalSigner,
            subject,
            now - time::Duration::days(30),
            now - time::Duration::days(1),
        )
        .unwrap();
    let by_expired = openssl_sign(
        dir.path(),
        &pki.pki.ca,
        (&expired.cert, &expired.key),
        &manifest,
    );
    for (sig, want) in [
        (&over_other, "SIGNATURE_INVALID"),
        (&by_other, "SIGNER_AGENCY_MISMATCH"),
        (&by_seal, "CERTIFICATE_REJECTED"),
        (&by_expired, "CERTIFICATE_REJECTED"),
    ] {
        let r = post_json(&a, &sign_path, cms_of(sig)).await;
        assert_eq!(
            r.status,
            422,
            "{want}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(reason(&r), want, "{}", r.json());
    }
    let r = post_json(&a, &sign_path, json!({ "cms": "not base64!" })).await;
    assert_eq!(reason(&r), "REQUEST_MALFORMED");
    let r = post_json(
        &a,
        &sign_path,
        json!({ "signature": B64.encode([1u8; 64]) }),
    )
    .await;
    assert_eq!(
        reason(&r),
        "REQUEST_MALFORMED",
        "a raw signature needs to-be-signed first"
    );
    let r = post_json(
        &a,
        "/api/v1/documents/prepared/no-such-handle/signature",
        cms_of(&over_other),
    )
    .await;
    assert_eq!((r.status, reason(&r).as_str()), (404, "PREPARED_UNKNOWN"));
    assert_eq!(queued().await, 1, "no refused signature queued anything");

    // The person's own signature: verified, sealed, queued, delivered.
    let good = openssl_sign(
        dir.path(),
        &pki.pki.ca,
        (&person.cert, &person.key),
        &manifest,
    );
    let r = post_json(&a, &sign_path, cms_of(&good)).await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["id"], handle.as_str());
    let again = post_json(&a, &sign_path, cms_of(&good)).await;
    assert_eq!(
        reason(&again),
        "PREPARED_UNKNOWN",
        "a completed send is gone"
    );
    let report = report_at_b(&b, &mut cursor, &handle).await;
    assert_eq!(report["signature_form"], "personAndSeal", "{report}");
    assert_eq!(report["personal"]["signer_name"], "Nguyễn Cao Lục");
    assert_eq!(report["personal"]["agency"], "000.00.00.G22");

    // The two-step send with a raw signature (a token's C_Sign) over the signed attributes.
    let p = a
        .send_edxml("/api/v1/documents/prepare", &edoc_numbered("7003"))
        .await
        .json();
    let handle = p["handle"].as_str().unwrap().to_owned();
    let tbs_path = format!("/api/v1/documents/prepared/{handle}/to-be-signed");
    // Another agency's person cannot even get the bytes.
    let r = post_json(
        &a,
        &tbs_path,
        json!({ "certificate": B64.encode(&other_agency.cert) }),
    )
    .await;
    assert_eq!(reason(&r), "SIGNER_AGENCY_MISMATCH", "{}", r.json());
    let r = post_json(
        &a,
        &tbs_path,
        json!({ "certificate": B64.encode(&person.cert) }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let tbs = B64
        .decode(r.json()["to_be_signed"].as_str().unwrap())
        .unwrap();
    assert_eq!(tbs[0], 0x31, "the DER SET OF the signed attributes");
    let sign_path = format!("/api/v1/documents/prepared/{handle}/signature");
    let wrong = person.key.sign(b"some other bytes").unwrap();
    let r = post_json(&a, &sign_path, json!({ "signature": B64.encode(&wrong) })).await;
    assert_eq!(reason(&r), "SIGNATURE_INVALID", "{}", r.json());
    assert_eq!(queued().await, 2);
    let raw = person.key.sign(&tbs).unwrap();
    let r = post_json(&a, &sign_path, json!({ "signature": B64.encode(&raw) })).await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let report = report_at_b(&b, &mut cursor, &handle).await;
    assert_eq!(report["signature_form"], "personAndSeal", "{report}");
    assert_eq!(report["personal"]["signer_name"], "Nguyễn Cao Lục");
    assert_eq!(queued().await, 3);
    assert!(gw_a.gateway().prepared.is_empty());

    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}
