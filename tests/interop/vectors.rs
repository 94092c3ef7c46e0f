//! The test vectors (`tests/vectors/`, FORMATS.md): the committed files are exactly what Axis
//! writes from the committed keys, fixed times and fixed secrets, and Axis reads them back —
//! opens the document as each recipient, verifies the receipts, every log proof and the
//! evidence bundle, version 3 with its two witnesses' cosignatures and version 2. Their ASN.1 is checked by `asn1`; the Python implementation reads them in
//! `python`.

use std::collections::BTreeSet;
use std::path::Path;

use axis_evidence::{SignedTreeHead, WitnessKey, check_witnessed, verify_bundle, verify_evidence};
use axis_pki::{Profile, TrustStore};
use axis_signer::{
    DocumentRef, Error, FixedSecrets, MessageId, Opener, RecipientKey, SealRequest, Sealer,
    SignedReceipt, StatusCode, Submission,
};
use axis_testkit::vectors::{self, Keys, VERIFY_AT};

fn read(name: &str) -> Vec<u8> {
    let path = vectors::dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cert(name: &str) -> Vec<u8> {
    openssl::x509::X509::from_pem(&read(&format!("{name}.crt")))
        .unwrap()
        .to_der()
        .unwrap()
}

fn crl(name: &str) -> Vec<u8> {
    openssl::x509::X509Crl::from_pem(&read(&format!("{name}.crl")))
        .unwrap()
        .to_der()
        .unwrap()
}

fn store() -> TrustStore {
    TrustStore::new(
        vec![cert("root")],
        vec![cert("ca")],
        vec![crl("root-crl"), crl("ca-crl-1"), crl("ca-crl-2")],
    )
    .unwrap()
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect()
}

#[test]
fn the_committed_vectors_are_exactly_what_axis_writes() {
    let dir = vectors::dir();
    let built = vectors::build(&Keys::load(&dir));
    let mut stale = Vec::new();
    for (name, bytes) in &built {
        if std::fs::read(dir.join(name)).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(name.as_str());
        }
    }
    assert!(
        stale.is_empty(),
        "tests/vectors/ differs from what Axis writes now in {stale:?}: if the format change \
         is intended, run `cargo run -p axis-testkit --example gen-vectors`, commit, and say \
         so in FORMATS.md"
    );
    let mut expected: BTreeSet<String> = built.into_iter().map(|(name, _)| name).collect();
    expected.insert("README.md".into());
    assert_eq!(files_in(&dir), expected, "files in tests/vectors/");
    let keys: BTreeSet<String> = vectors::KEYS
        .iter()
        .map(|(k, _)| format!("{k}.key"))
        .collect();
    assert_eq!(files_in(&dir.join("keys")), keys, "tests/vectors/keys/");
}

#[test]
fn axis_opens_the_vector_document_as_each_recipient() {
    let store = store();
    let submission = Submission::parse(&read("header.der"), read("submission.cms")).unwrap();
    let submission = submission.verify(&store, VERIFY_AT).unwrap();
    let envelope = read("envelope.der");
    let ciphertext = read("ciphertext.bin");
    let whole = submission.check_key_envelope(&envelope).unwrap();
    let mut check = submission.ciphertext_check();
    check.update(&ciphertext).unwrap();
    check.finish().unwrap();
    assert_eq!(
        submission.header().message_id,
        MessageId::parse(vectors::MESSAGE_ID).unwrap()
    );
    let keys = Keys::load(&vectors::dir());
    let expected: Vec<Vec<u8>> = (0..3)
        .map(|i| read(&format!("attachment-{i}.bin")))
        .collect();
    for (i, who) in ["h41", "h53"].into_iter().enumerate() {
        let enc = store
            .verify(
                &cert(&format!("{who}-enc")),
                Profile::AgencyEncryption,
                VERIFY_AT,
            )
            .unwrap();
        let key = RecipientKey::from_pkcs8_der(keys.pkcs8(&format!("{who}-enc")), &enc).unwrap();
        // What the axis delivers: the entry file, its index and its path to the header's root.
        let mine = whole.entry_with_path(i).unwrap();
        assert_eq!(
            mine.entry,
            read(&format!("envelope-entry-{i}.der")),
            "{who}"
        );
        let opener = Opener::new(&submission, &mine, &key, &store, VERIFY_AT).unwrap();
        let (received, attachments) = opener.open_all(&ciphertext).unwrap();
        assert_eq!(attachments, expected, "{who}");
        let report = received.document().report();
        assert_eq!(
            report.document_id.to_string(),
            "000.00.00.G22,2026/01/02,7816/VPCP-TTĐT"
        );
        assert_eq!(
            report.personal.as_ref().unwrap().position.as_deref(),
            Some("Phó Chủ nhiệm")
        );
        assert_eq!(
            received.document().manifest().as_bytes(),
            read("manifest.der")
        );
    }
}

#[test]
fn axis_verifies_the_vector_receipts_proofs_and_bundle() {
    let store = store();
    let header = Submission::parse(&read("header.der"), read("submission.cms"))
        .unwrap()
        .verify(&store, VERIFY_AT)
        .unwrap();
    let receipt = |i: usize| {
        SignedReceipt::parse(
            &read(&format!("receipt-{i}.der")),
            read(&format!("receipt-{i}.cms")),
        )
        .unwrap()
    };
    // H41's chain is receipts 0 (01) and 2 (03, with the edXML extension); H53's is receipt 1.
    for (who, receipts) in [
        ("000.00.00.H41", vec![receipt(0), receipt(2)]),
        ("000.00.00.H53", vec![receipt(1)]),
    ] {
        let doc = DocumentRef::submitted(&header, &who.parse().unwrap()).unwrap();
        let chain = axis_signer::ReceiptChain::verify_all(doc, &receipts, &store, VERIFY_AT)
            .unwrap_or_else(|e| panic!("{who}: {e}"));
        assert_eq!(chain.len(), receipts.len());
    }
    let r2 = receipt(2);
    assert_eq!(r2.receipt().receipt().status, StatusCode::Accepted);
    assert_eq!(
        r2.receipt()
            .receipt()
            .edxml
            .get("StaffInfo/Staff")
            .map(String::as_str),
        Some("Nguyễn Văn A")
    );

    let log_key = openssl::x509::X509::from_der(&cert("log"))
        .unwrap()
        .public_key()
        .unwrap()
        .public_key_to_der()
        .unwrap();
    let head = SignedTreeHead::decode(&read("tree-head.sth")).unwrap();
    assert_eq!(head.as_bytes(), read("tree-head.der"));
    assert_eq!(head.signature(), read("tree-head.cms"));
    for i in 0..5 {
        let entry = read(&format!("entry-{i}.der"));
        let proof = read(&format!("proof-{i}.der"));
        let evidence = verify_evidence(&entry, &proof, &store, VERIFY_AT, Some(&log_key))
            .unwrap_or_else(|e| panic!("entry {i}: {e}"));
        assert_eq!(evidence.leaf_index(), i as u64);
        assert_eq!(evidence.tree_head().head().tree_size, 5);
    }

    let report = verify_bundle(&read("bundle.der"), &cert("root"), &log_key).unwrap();
    assert_eq!(report.acceptance_index, 0);
    let statuses: Vec<(String, Vec<StatusCode>)> = report
        .timelines
        .iter()
        .map(|t| {
            (
                t.recipient.to_string(),
                t.events.iter().map(|e| e.status).collect(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (
                "000.00.00.H41".to_string(),
                vec![StatusCode::Arrived, StatusCode::Accepted]
            ),
            ("000.00.00.H53".to_string(), vec![StatusCode::Arrived]),
        ]
    );

    // Version 3: cosigned by both witnesses, 2 of 2 required; a third key (H41's encryption
    // key, which cosigned nothing) does not make 3.
    let witness = |name: &str| {
        let pem = openssl::pkey::PKey::public_key_from_pem(&read(name)).unwrap();
        WitnessKey::parse(&pem.public_key_to_der().unwrap()).unwrap()
    };
    let witnesses = [witness("witness-1.pub.pem"), witness("witness-2.pub.pem")];
    assert_eq!(report.cosignatures.len(), 2);
    let mut cosignatures: Vec<Vec<u8>> = (1..=2)
        .map(|i| read(&format!("cosignature-{i}.der")))
        .collect();
    cosignatures.sort();
    assert_eq!(
        report
            .cosignatures
            .iter()
            .map(|c| c.as_bytes().to_vec())
            .collect::<Vec<_>>(),
        cosignatures
    );
    let head = report.tree_head.head();
    let witnessed = check_witnessed(head, &log_key, &report.cosignatures, &witnesses, 2).unwrap();
    assert_eq!(witnessed.by.len(), 2);
    let third = openssl::x509::X509::from_der(&cert("h41-enc"))
        .unwrap()
        .public_key()
        .unwrap()
        .public_key_to_der()
        .unwrap();
    let three = [
        witnesses[0].clone(),
        witnesses[1].clone(),
        WitnessKey::parse(&third).unwrap(),
    ];
    let e = check_witnessed(head, &log_key, &report.cosignatures, &three, 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the tree head is cosigned by 2 of the 3 witnesses given, 3 required"
    );
    // Version 2, as an axis without witnesses writes it: the same evidence, no cosignatures.
    let v2 = verify_bundle(&read("bundle-v2.der"), &cert("root"), &log_key).unwrap();
    assert!(v2.cosignatures.is_empty());
    assert_eq!(v2.timelines, report.timelines);
    check_witnessed(head, &log_key, &v2.cosignatures, &witnesses, 0).unwrap();
}

/// Fixed secrets make sense only where every wrapping is deterministic: P-256 recipients, one
/// ephemeral scalar each.
#[test]
fn fixed_secrets_refuse_rsa_recipients_and_a_wrong_number_of_scalars() {
    let f = axis_testkit::fixture();
    let p = axis_testkit::standard_package();
    let secrets = |n: usize| FixedSecrets {
        content_key: [1; 32],
        cek: [2; 32],
        iv: [3; 16],
        ephemeral: vec![[4; 32]; n],
    };
    let seal = |recipients: &[axis_pki::VerifiedCert], n| {
        Sealer::with_fixed_secrets(
            SealRequest {
                message_id: MessageId::random().unwrap(),
                document: &p.document,
                recipients,
                chunk_size: 1024,
            },
            &secrets(n),
        )
        .map(|_| ())
    };
    // The standard package goes to B (P-256) and C (RSA).
    let both = [f.b.enc.clone(), f.c.enc.clone()];
    for (recipients, n) in [(&both[..], 1), (&both[..], 2)] {
        assert!(
            matches!(seal(recipients, n), Err(Error::Misuse { reason }) if reason.contains("RSA")),
            "{n} scalars"
        );
    }
    let b_only = axis_testkit::seal::manifest(&[&f.b], &[]);
    let doc = axis_testkit::sign(&b_only);
    for n in [0, 2] {
        let r = Sealer::with_fixed_secrets(
            SealRequest {
                message_id: MessageId::random().unwrap(),
                document: &doc,
                recipients: std::slice::from_ref(&f.b.enc),
                chunk_size: 1024,
            },
            &secrets(n),
        );
        assert!(
            matches!(r, Err(Error::Misuse { reason }) if reason.contains("ephemeral scalars")),
            "{n} scalars"
        );
    }
}
