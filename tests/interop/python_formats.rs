//! The second implementation (`tests/python/axis_formats.py`, written from FORMATS.md alone
//! with `cryptography`, `asn1crypto` and `asn1tools`) against Axis: it verifies every test
//! vector, reproduces the key envelope and the ciphertext from `parameters.json`, opens the
//! sealed document as each recipient, and verifies the receipts, the log and the bundle; then
//! it seals a new document, for one P-256 and one RSA recipient, that a real node accepts and
//! the Rust SDK opens.
//! Fails, never skips, without python3 or its modules (`.ci/run` installs them).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axis_client::signer::Code;
use axis_client::{Client, OutgoingAttachment, OutgoingDocument, StatusCode};
use axis_pki::demo::AgencyCreds;
use axis_pki::{KeyAlgorithm, PrivateKey, Profile, Subject, to_pem};
use axis_proto::v1 as pb;
use axis_signer::MessageId;
use axis_tests::{TestAxis, TestPki};

use crate::asn1::{PYTHON_MODULES_INSTALL, repo};
use crate::tools::{self, assert_ok};

fn python() -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/python/axis_formats.py"));
    cmd
}

#[test]
fn python_verifies_every_vector_and_opens_the_sealed_document() {
    let mut cmd = python();
    cmd.arg("vectors").arg(repo());
    let out = assert_ok(
        &tools::run(cmd, PYTHON_MODULES_INSTALL),
        "tests/python/axis_formats.py vectors",
    );
    assert!(
        out.contains("vectors checked: 3 receipts, 5 entries, bundle of 3 statements"),
        "{out}"
    );
}

/// Writes what the Python sealer needs for `sender` to `recipients` into `dir`: the issuing
/// CA, the sender's seal and personal certificates and (unencrypted PKCS#8) keys, each
/// recipient's encryption certificate, the attachments and `seal.json`.
fn write_seal_job(
    dir: &Path,
    pki: &TestPki,
    sender: &AgencyCreds,
    recipients: &[&AgencyCreds],
    message_id: &MessageId,
    attachments: &[(&str, &[u8])],
) {
    let put = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    put("ca.crt", to_pem("CERTIFICATE", &pki.pki.ca).as_bytes());
    for (name, i) in [("seal", &sender.seal), ("personal", &sender.personal)] {
        put(
            &format!("{name}.crt"),
            to_pem("CERTIFICATE", &i.cert).as_bytes(),
        );
        put(
            &format!("{name}.key"),
            to_pem("PRIVATE KEY", &i.key.to_pkcs8_der()).as_bytes(),
        );
    }
    for r in recipients {
        put(
            &format!("enc-{}.crt", r.id),
            to_pem("CERTIFICATE", &r.encryption.cert).as_bytes(),
        );
    }
    for (name, bytes) in attachments {
        put(name, bytes);
    }
    let org =
        |a: &AgencyCreds| serde_json::json!({ "organId": a.id.to_string(), "organName": a.name });
    let job = serde_json::json!({
        "message_id": message_id.to_string(),
        "chunk_size": 1024,
        "code": ["12", "PY-INTEROP"],
        "subject": "Văn bản niêm phong bằng Python",
        "from": org(sender),
        "to": recipients.iter().map(|r| org(r)).collect::<Vec<_>>(),
        "attachments": attachments.iter().map(|(name, _)| serde_json::json!({
            "name": name, "contentType": "application/octet-stream", "file": name,
        })).collect::<Vec<_>>(),
    });
    put("seal.json", job.to_string().as_bytes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_sealed_in_python_is_accepted_by_a_node_and_opened_by_the_rust_sdk() {
    // One P-256 recipient (the demo PKI's default) and one RSA recipient.
    let mut pki = TestPki::new(3);
    let rsa = &pki.agencies[2];
    let mut subject = Subject::new(&rsa.name);
    subject.agency_id = Some(rsa.id.clone());
    let rsa_enc = pki
        .pki
        .issue_with_key(
            Profile::AgencyEncryption,
            subject,
            365,
            PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap(),
        )
        .unwrap();
    pki.agencies[2].encryption = rsa_enc;
    let pki = Arc::new(pki);
    let axis = TestAxis::start(pki.clone()).await;
    let (sender, recipients) = (&pki.agencies[0], [&pki.agencies[1], &pki.agencies[2]]);

    // 2048 octets: a full-size last chunk; 1500: a short one; and an empty attachment.
    let big: Vec<u8> = (0..2048u32).map(|i| (i * 7 % 251) as u8).collect();
    let small = "Phụ lục kèm theo".repeat(80).into_bytes()[..1500].to_vec();
    let attachments: [(&str, &[u8]); 3] = [
        ("cong-van.pdf", &big),
        ("phu-luc.txt", &small),
        ("trong.txt", b""),
    ];
    let dir = tempfile::tempdir().unwrap();
    let message_id = MessageId::random().unwrap();
    write_seal_job(
        dir.path(),
        &pki,
        sender,
        &recipients,
        &message_id,
        &attachments,
    );
    let mut cmd = python();
    cmd.arg("seal").arg(dir.path());
    let out = assert_ok(
        &tools::run_async(cmd, PYTHON_MODULES_INSTALL).await,
        "tests/python/axis_formats.py seal",
    );
    assert!(out.contains("for 2 recipients"), "{out}");
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();

    // The node accepts it: signature, envelope and ciphertext digests all check out.
    let begin = pb::SubmitBegin {
        routing_header: read("header.der"),
        submission_signature: read("submission.cms"),
        key_envelope: read("envelope.der"),
    };
    let ciphertext = read("ciphertext.bin");
    let requests = |ciphertext: &[u8]| {
        let mut v = vec![pb::SubmitRequest {
            part: Some(pb::submit_request::Part::Begin(begin.clone())),
        }];
        v.extend(ciphertext.chunks(4096).map(|c| pb::SubmitRequest {
            part: Some(pb::submit_request::Part::Chunk(c.to_vec())),
        }));
        v
    };
    // One changed octet of the Python's ciphertext: the node refuses it, keeping nothing.
    let mut tampered = ciphertext.clone();
    tampered[100] ^= 1;
    let refused = axis
        .exchange(&sender.tls)
        .await
        .submit(tokio_stream::iter(requests(&tampered)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    let accepted = axis
        .exchange(&sender.tls)
        .await
        .submit(tokio_stream::iter(requests(&ciphertext)))
        .await
        .unwrap()
        .into_inner();
    assert!(accepted.receipt.is_some());
    assert!(!accepted.receipt.unwrap().duplicate);

    // Each recipient's SDK opens it — the RSA one and the P-256 one — and acknowledges.
    for r in recipients {
        let client = Client::connect(axis_tests::sdk_config(&pki, r, &[axis.endpoint()]))
            .await
            .unwrap();
        let delivery = client.delivery(&message_id).await.unwrap();
        let (opened, files) = client.open_in_memory(&delivery).await.unwrap();
        assert_eq!(
            files,
            vec![big.clone(), small.clone(), Vec::new()],
            "{} opens every attachment",
            r.id
        );
        client.acknowledge(&opened).await.unwrap();
    }
    axis.stop().await;
}

/// `examples/python/axis_client.py` — stubs generated from `proto/` at start — subscribes as
/// a recipient, fetches, opens and acknowledges a document the Rust SDK sent; the sender's
/// SDK then sees the verified delivery receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_client_opens_and_acknowledges_a_delivery() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (g22, h41) = (&pki.agencies[0], &pki.agencies[1]);
    let sender = Client::connect(axis_tests::sdk_config(&pki, g22, &[axis.endpoint()]))
        .await
        .unwrap();
    let body = b"%PDF-1.7 gui cho Python".repeat(200);
    let sent = sender
        .send(
            OutgoingDocument::new(Code::new("15", "UBND-VP").unwrap(), "Gửi khách Python")
                .to(h41.id.clone())
                .attach(
                    OutgoingAttachment::bytes("cong-van.pdf", "application/pdf", body.clone())
                        .unwrap(),
                ),
        )
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let put = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
    put("root.pem", pki.root_pem());
    put(
        "tls.pem",
        to_pem("CERTIFICATE", &h41.tls.cert) + &to_pem("CERTIFICATE", &pki.pki.ca),
    );
    for (name, i) in [
        ("tls", &h41.tls),
        ("seal", &h41.seal),
        ("enc", &h41.encryption),
    ] {
        if name != "tls" {
            put(&format!("{name}.pem"), to_pem("CERTIFICATE", &i.cert));
        }
        put(
            &format!("{name}.key"),
            to_pem("PRIVATE KEY", &i.key.to_pkcs8_der()),
        );
    }
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("examples/python/axis_client.py"))
        .arg("--endpoint")
        .arg(axis.addr.to_string())
        .arg("--agency")
        .arg(h41.id.to_string())
        .arg("--count")
        .arg("1")
        .arg("--out")
        .arg(dir.path().join("inbox"));
    for (flag, file) in [
        ("--root", "root.pem"),
        ("--tls-cert", "tls.pem"),
        ("--tls-key", "tls.key"),
        ("--seal-cert", "seal.pem"),
        ("--seal-key", "seal.key"),
        ("--enc-cert", "enc.pem"),
        ("--enc-key", "enc.key"),
    ] {
        cmd.arg(flag).arg(dir.path().join(file));
    }
    let out = assert_ok(
        &tools::run_async(cmd, PYTHON_MODULES_INSTALL).await,
        "examples/python/axis_client.py",
    );
    assert!(out.contains("acknowledged"), "{out}");
    let opened = std::fs::read(
        dir.path()
            .join("inbox")
            .join(sent.message_id.to_string())
            .join("cong-van.pdf"),
    )
    .unwrap();
    assert_eq!(opened, body);

    // The sender's SDK verifies the Python-signed delivery receipt in the history.
    let history = sender.history(&sent.message_id).await.unwrap();
    let statuses: Vec<StatusCode> = history
        .timelines
        .iter()
        .flat_map(|t| t.events.iter().map(|e| e.status))
        .collect();
    assert_eq!(statuses, vec![StatusCode::Arrived], "{out}");
    axis.stop().await;
}
