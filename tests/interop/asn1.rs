//! `formats.asn1` cannot drift from the code: Python's asn1tools compiles it, every OID of the
//! signer's register must be defined in it with its value, and every kind of structure Axis
//! writes — made here by the real signer and evidence code with the test kit's mixed RSA and
//! P-256 PKI — must decode under its ASN.1 type and re-encode to exactly the same bytes.
//! The committed test vectors (`tests/vectors/INDEX`) are checked the same way.

use std::path::Path;
use std::process::Command;

use axis_evidence::{LogEntry, LogProof, RevocationEntry};
use axis_signer::{DocumentRef, ReceiptChain, StatusCode};
use axis_testkit::log::MemoryLog;
use axis_testkit::{NOW, SIGNED, fixture, standard_package};
use time::Duration;

use crate::tools::{self, assert_ok};

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The Python interpreter and modules the Python checks need.
pub const PYTHON_MODULES_INSTALL: &str = "python3 -m pip install cryptography asn1crypto asn1tools grpcio grpcio-tools (as .ci/run does)";

/// Writes every kind of Axis structure to `dir` with an `INDEX` naming its ASN.1 type.
fn write_structures(dir: &Path) {
    let f = fixture();
    let p = standard_package();
    let mut index = String::new();
    let mut put = |name: &str, type_name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).unwrap();
        index.push_str(&format!("{name} {type_name}\n"));
    };
    put("manifest.der", "Manifest", p.document.manifest().as_bytes());
    put(
        "personal.cms",
        "AxisSignature",
        p.document.personal_signature(),
    );
    put("seal.cms", "AxisSignature", p.document.seal_signature());
    let submission = &p.sealed.submission;
    put(
        "header.der",
        "RoutingHeader",
        submission.header().as_bytes(),
    );
    put("submission.cms", "AxisSignature", submission.signature());
    // B holds a P-256 encryption certificate, C an RSA one: both RecipientInfo kinds.
    put("envelope.der", "KeyEnvelope", &p.sealed.key_envelope);
    let envelope = axis_signer::KeyEnvelope::parse(&p.sealed.key_envelope).unwrap();
    put(
        "envelope-entry-0.der",
        "KeyEnvelopeEntry",
        envelope.entry(0).unwrap(),
    );
    put(
        "envelope-entry-1.der",
        "KeyEnvelopeEntry",
        envelope.entry(1).unwrap(),
    );

    let verified = submission.verify(&f.store, NOW).unwrap();
    let accepted = SIGNED + Duration::minutes(3);
    let acceptance = LogEntry::acceptance(&verified, accepted).encode().unwrap();
    let revocation = LogEntry::revocation(
        RevocationEntry {
            crl_digest: [7; 32],
            crl_number: 2,
            serial: vec![0x01, 0x23],
            revoked_at: accepted,
            reason: 1,
        },
        accepted,
    )
    .encode()
    .unwrap();
    let mut entries = vec![revocation, acceptance];
    let mut statements = Vec::new();
    // B (P-256 seal) and C (RSA seal) say 01; B then 03 with the edXML extension (version 2).
    let mut chains = Vec::new();
    for (i, (who, status, minutes)) in [
        (&f.b, StatusCode::Arrived, 10),
        (&f.c, StatusCode::Arrived, 11),
        (&f.b, StatusCode::Accepted, 20),
    ]
    .into_iter()
    .enumerate()
    {
        let t = SIGNED + Duration::minutes(minutes);
        if status == StatusCode::Arrived {
            let doc = DocumentRef::sent(&p.document, &p.sealed, &who.id).unwrap();
            chains.push((who.id.clone(), ReceiptChain::new(doc)));
        }
        let chain = &mut chains.iter_mut().find(|(id, _)| id == &who.id).unwrap().1;
        let mut receipt = chain.next(status, t, "").unwrap();
        if status == StatusCode::Accepted {
            receipt
                .edxml
                .insert("StaffInfo/Staff".into(), "Nguyễn Văn A".into());
        }
        let signed = receipt.sign(&who.seal_signer()).unwrap();
        let logged = chain.push(&signed, &f.store, t).unwrap();
        let entry = LogEntry::statement(logged, t).encode().unwrap();
        put(
            &format!("receipt-{i}.der"),
            "Receipt",
            signed.receipt().as_bytes(),
        );
        put(
            &format!("receipt-{i}.cms"),
            "AxisSignature",
            signed.signature(),
        );
        statements.push((who.id.clone(), signed, entry.clone(), entries.len()));
        entries.push(entry);
    }
    for (i, e) in entries.iter().enumerate() {
        put(&format!("entry-{i}.der"), "LogEntry", e.as_bytes());
    }
    let raw: Vec<Vec<u8>> = entries.iter().map(|e| e.as_bytes().to_vec()).collect();
    let memory = MemoryLog::new(&raw);
    let head = memory.head(SIGNED + Duration::minutes(30), &f.log.signer());
    put("tree-head.der", "TreeHead", head.as_bytes());
    put("tree-head.cms", "AxisSignature", head.signature());
    put("tree-head.sth", "SignedTreeHeadFile", &head.encode());
    let witness = axis_pki::PrivateKey::generate(axis_pki::KeyAlgorithm::EcdsaP256).unwrap();
    let verified_head = head
        .verify(&f.store, NOW, Some(f.log.cert.public_key_der()))
        .unwrap();
    let cosignature =
        axis_evidence::Cosignature::sign(&verified_head, &witness, SIGNED + Duration::minutes(31))
            .unwrap();
    put("cosignature.der", "Cosignature", cosignature.as_bytes());
    let proof = LogProof {
        tree_head: head.clone(),
        leaf_index: 1,
        path: memory.path(1),
    };
    put("proof.der", "LogProof", &proof.encode());
    let bundle = memory.bundle(
        &p,
        f.crls.clone(),
        head,
        (entries[1].clone(), 1),
        statements,
        &f.log.signer(),
    );
    let completeness = bundle.completeness.clone().unwrap();
    put("completeness.der", "Completeness", completeness.as_bytes());
    put(
        "completeness.cms",
        "AxisSignature",
        completeness.signature(),
    );
    put("bundle.der", "EvidenceBundle", &bundle.encode().unwrap());

    // The unit directory: a signed version, its list and a client's copy.
    let raw = axis_testkit::directory::generate(120);
    let units = axis_evidence::UnitList::new(
        raw.iter()
            .enumerate()
            .map(|(i, r)| (i, axis_evidence::Unit::parse_lenient(r, i).unwrap()))
            .collect(),
    )
    .unwrap();
    let changes = axis_evidence::UnitList::default().diff(&units);
    let version = axis_evidence::DirectoryVersion::next(None, &units, &changes, SIGNED)
        .sign(&axis_testkit::directory::operator().signer())
        .unwrap();
    put("directory-version.der", "DirectoryVersion", version.bytes());
    put(
        "directory-version.cms",
        "AxisSignature",
        version.signature(),
    );
    put("directory-list.der", "DirectoryList", &units.der());
    let copy =
        axis_evidence::VerifiedDirectory::from_snapshot(version, units, &f.store, NOW).unwrap();
    put(
        "directory-snapshot.der",
        "DirectorySnapshot",
        &copy.to_der(),
    );
    std::fs::write(dir.join("INDEX"), index).unwrap();
}

#[test]
fn formats_asn1_describes_every_structure_axis_writes_and_every_vector() {
    let dir = tempfile::tempdir().unwrap();
    write_structures(dir.path());
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/python/asn1_check.py"))
        .arg(repo())
        .arg(dir.path().join("INDEX"))
        .arg(repo().join("tests/vectors/INDEX"));
    let out = assert_ok(
        &tools::run(cmd, PYTHON_MODULES_INSTALL),
        "tests/python/asn1_check.py",
    );
    assert!(out.contains("structures checked"), "{out}");
}
