//! The test vectors of `tests/vectors/` (FORMATS.md): every Axis structure with fixed bytes,
//! made from committed keys, fixed times, fixed serials and fixed secrets (feature `vectors`,
//! which turns on the signer's `test-vectors`).
//!
//! The only input that cannot be recomputed is the keys (`tests/vectors/keys/*.key`, PKCS#8 PEM):
//! every other file — certificates, CRLs, the sealed document, receipts, log entries, tree head,
//! proofs, the bundle, `INDEX` and `parameters.json` — is what [`build`] returns for them, and
//! the `vectors` test checks that the committed files are exactly that. Every signature is
//! deterministic: every certified signing key is RSA (RSASSA-PKCS1-v1_5), and the two
//! witnesses' P-256 keys sign with RFC 6979 nonces ([`crate::rfc6979`]; the low s, as Axis
//! writes); the two recipients have P-256 encryption certificates, whose wrapping is
//! deterministic given the ephemeral scalars (RSA-OAEP is randomized, so it has no byte-exact
//! vector; the `asn1` and Python interop tests cover it).
//!
//! The scenario: 000.00.00.G22 sends a document with three attachments (2048 octets — two
//! full chunks, the second flagged last —, 1500 octets, and an empty one) to 000.00.00.H41 and
//! 000.00.00.H53 in chunks of 1024; both answer 01, then H41 answers 03 with the edXML
//! extension (receipt version 2); the log holds the acceptance, the three statements and a
//! revocation, under one signed tree head, which two witnesses cosign; each entry has its
//! proof, and the document's evidence bundle holds the acceptance, the three statements and
//! the completeness statement (`bundle-v2.der`, version 2), and the two cosignatures too
//! (`bundle.der`, version 3).
//!
//! Regenerate with `cargo run -p axis-testkit --example gen-vectors` (add `--new-keys` only to
//! replace the keys, which changes every file).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use axis_evidence::{
    BundleStatement, Cosignature, EvidenceBundle, LogEntry, LogEntryBytes, LogProof, LoggedEntry,
    RevocationEntry, SignedTreeHead,
};
use axis_pki::{
    AgencyId, CaSigner, CrlRequest, IssueRequest, KeyAlgorithm, KeyPair, PrivateKey, Profile,
    PublicKey, RevocationReason, RevokedEntry, Serial, Subject, TrustStore, VerifiedCert,
    issue_root, to_pem,
};
use axis_signer::{
    AttachmentDigest, DocumentRef, FixedSecrets, Manifest, MessageId, OtherInfo, Priority,
    ReceiptChain, SealRequest, Sealer, SignedDocument, Signer, StatusCode,
};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::log::MemoryLog;
use crate::rfc6979::DeterministicP256;
use crate::sample::{filler, sample_manifest};

/// When the vectors' certificates and first CRLs are issued.
pub const ISSUED: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
/// When the person signs the manifest; the other times are minutes after it.
pub const SIGNED: OffsetDateTime = datetime!(2026-01-02 9:00 UTC);
/// When a verifier of the vectors checks them (every certificate valid, every CRL current).
pub const VERIFY_AT: OffsetDateTime = datetime!(2026-01-03 10:00 UTC);
/// The document's message id.
pub const MESSAGE_ID: &str = "3b0c7a4e-5d21-4f6a-9c3e-1a2b3c4d5e6f";
/// Plaintext octets per chunk (the minimum, so a small document has several).
pub const CHUNK_SIZE: u32 = 1024;

/// The times of the scenario, minutes after [`SIGNED`].
const SEAL_AT: i64 = 1;
const SUBMITTED_AT: i64 = 2;
const ACCEPTED_AT: i64 = 3;
const REVOKED_AT: i64 = 15;
const REVOCATION_LOGGED_AT: i64 = 16;
const TREE_HEAD_AT: i64 = 30;

/// `tests/vectors/` of the repository.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit is in the repository")
        .join("tests/vectors")
}

/// The keys, by file name under `keys/` (without `.key`), with their algorithm.
pub const KEYS: [(&str, KeyAlgorithm); 11] = [
    ("root", KeyAlgorithm::Rsa2048),
    ("ca", KeyAlgorithm::Rsa2048),
    ("g22-seal", KeyAlgorithm::Rsa2048),
    ("g22-person", KeyAlgorithm::Rsa2048),
    ("h41-seal", KeyAlgorithm::Rsa2048),
    ("h41-enc", KeyAlgorithm::EcdsaP256),
    ("h53-seal", KeyAlgorithm::Rsa2048),
    ("h53-enc", KeyAlgorithm::EcdsaP256),
    ("log", KeyAlgorithm::Rsa2048),
    ("witness-1", KeyAlgorithm::EcdsaP256),
    ("witness-2", KeyAlgorithm::EcdsaP256),
];

/// The witnesses that cosign the vectors' tree head (keys `witness-1`, `witness-2`): each signs
/// deterministically ([`crate::rfc6979`]) a minute after the other, from 09:31.
pub const WITNESSES: [&str; 2] = ["witness-1", "witness-2"];

/// Writes fresh keys to `dir/keys/`: every key if `replace` (which changes every vector: run
/// the generator after), else only those of [`KEYS`] without a file yet (a key added to the
/// list), leaving the others — and the vectors they made — as they are.
pub fn generate_keys(dir: &Path, replace: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("keys"))?;
    for (name, alg) in KEYS {
        let path = dir.join(format!("keys/{name}.key"));
        if !replace && path.exists() {
            continue;
        }
        let pkcs8 = if alg.is_rsa() {
            PrivateKey::generate(alg).unwrap().to_pkcs8_der()
        } else {
            crate::pki::encryption_key(false).0
        };
        std::fs::write(path, to_pem("PRIVATE KEY", &pkcs8))?;
    }
    Ok(())
}

/// The committed keys: unencrypted PKCS#8 DER by name.
pub struct Keys(BTreeMap<&'static str, Zeroizing<Vec<u8>>>);

impl Keys {
    /// Reads `dir/keys/*.key`.
    pub fn load(dir: &Path) -> Self {
        Keys(
            KEYS.iter()
                .map(|(name, _)| {
                    let path = dir.join(format!("keys/{name}.key"));
                    let text =
                        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    let pkey = openssl::pkey::PKey::private_key_from_pem(&text).unwrap();
                    (*name, Zeroizing::new(pkey.private_key_to_pkcs8().unwrap()))
                })
                .collect(),
        )
    }

    /// The PKCS#8 DER of `name`.
    pub fn pkcs8(&self, name: &str) -> Zeroizing<Vec<u8>> {
        self.0[name].clone()
    }

    fn signing(&self, name: &str) -> PrivateKey {
        PrivateKey::from_pkcs8_der(self.pkcs8(name)).unwrap()
    }

    fn public(&self, name: &str) -> PublicKey {
        let pkey = openssl::pkey::PKey::private_key_from_pkcs8(&self.0[name]).unwrap();
        PublicKey::from_spki_der(&pkey.public_key_to_der().unwrap()).unwrap()
    }
}

/// The secrets of the sealed document: the first octets of SHA-256 of a label each, so a
/// reader can recompute them (`parameters.json` lists them too).
pub fn secrets() -> FixedSecrets {
    let h =
        |label: &str| axis_signer::cms::sha256(format!("axis test vectors: {label}").as_bytes());
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&h("iv")[..16]);
    FixedSecrets {
        content_key: h("content key"),
        cek: h("cek"),
        iv,
        ephemeral: vec![h("ephemeral 1"), h("ephemeral 2")],
    }
}

/// The attachments: (name, content type, bytes).
pub fn attachments() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let text: Vec<u8> = "Phụ lục: danh sách cơ quan kết nối.\n"
        .bytes()
        .cycle()
        .take(1500)
        .collect();
    vec![
        ("cong-van.pdf", "application/pdf", filler(12, 2048)),
        ("phu-luc.txt", "text/plain; charset=utf-8", text),
        ("trong.txt", "text/plain", Vec::new()),
    ]
}

/// One output file: its name under `tests/vectors/` and its bytes.
pub type File = (String, Vec<u8>);

fn minutes(m: i64) -> OffsetDateTime {
    SIGNED + Duration::minutes(m)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn subject(name: &str, id: Option<&str>, title: Option<&str>) -> Subject {
    let mut s = Subject::new(name);
    s.agency_id = id.map(|i| AgencyId::parse(i).unwrap());
    s.title = title.map(str::to_owned);
    s
}

fn request(profile: Profile, subject: Subject, serial: u8, days: i64) -> IssueRequest {
    IssueRequest {
        profile,
        subject,
        not_before: ISSUED,
        not_after: ISSUED + Duration::days(days),
        serial: Serial::from_bytes(&[serial]).unwrap(),
    }
}

/// The certificates of the vectors' PKI (DER), by file stem, in issuance order.
struct Pki {
    certs: Vec<(&'static str, Vec<u8>)>,
    crls: Vec<(&'static str, Vec<u8>)>,
}

impl Pki {
    fn cert(&self, name: &str) -> &[u8] {
        &self.certs.iter().find(|(n, _)| *n == name).unwrap().1
    }
    fn crl(&self, name: &str) -> &[u8] {
        &self.crls.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

/// The serial of the personal certificate that CRL 2 revokes (superseded).
const SUPERSEDED_SERIAL: u8 = 0x12;

fn issue_pki(keys: &Keys) -> Pki {
    let root_key = keys.signing("root");
    let root = issue_root(
        &request(
            Profile::RootCa,
            subject("Axis Test Vectors Root", None, None),
            0x01,
            3650,
        ),
        &root_key,
    )
    .unwrap()
    .der()
    .to_vec();
    let root_ca = CaSigner::new(&root, &root_key, ISSUED).unwrap();
    let ca_key = keys.signing("ca");
    let ca = root_ca
        .issue(
            &request(
                Profile::IssuingCa,
                subject("CA for state agencies (test vectors)", None, None),
                0x02,
                1825,
            ),
            &keys.public("ca"),
        )
        .unwrap()
        .der()
        .to_vec();
    let issuing = CaSigner::new(&ca, &ca_key, ISSUED).unwrap();
    let g22 = Some("000.00.00.G22");
    let h41 = Some("000.00.00.H41");
    let h53 = Some("000.00.00.H53");
    let leaves = [
        (
            "g22-seal",
            Profile::AgencySeal,
            "Văn phòng Chính phủ",
            g22,
            None,
            0x10,
            "g22-seal",
        ),
        (
            "g22-person",
            Profile::PersonalSigner,
            "Trần Văn Sơn",
            g22,
            Some("Phó Chủ nhiệm"),
            0x11,
            "g22-person",
        ),
        (
            "g22-person-superseded",
            Profile::PersonalSigner,
            "Trần Văn Sơn",
            g22,
            Some("Vụ trưởng"),
            SUPERSEDED_SERIAL,
            "g22-person",
        ),
        (
            "h41-seal",
            Profile::AgencySeal,
            "UBND tỉnh Nghệ An",
            h41,
            None,
            0x20,
            "h41-seal",
        ),
        (
            "h41-enc",
            Profile::AgencyEncryption,
            "UBND tỉnh Nghệ An",
            h41,
            None,
            0x21,
            "h41-enc",
        ),
        (
            "h53-seal",
            Profile::AgencySeal,
            "UBND tỉnh Tây Ninh",
            h53,
            None,
            0x30,
            "h53-seal",
        ),
        (
            "h53-enc",
            Profile::AgencyEncryption,
            "UBND tỉnh Tây Ninh",
            h53,
            None,
            0x31,
            "h53-enc",
        ),
        (
            "log",
            Profile::AxisLogSigner,
            "Axis log signer",
            None,
            None,
            0x40,
            "log",
        ),
    ];
    let mut certs = vec![("root", root.clone()), ("ca", ca.clone())];
    for (name, profile, cn, id, title, serial, key) in leaves {
        let der = issuing
            .issue(
                &request(profile, subject(cn, id, title), serial, 365),
                &keys.public(key),
            )
            .unwrap()
            .der()
            .to_vec();
        certs.push((name, der));
    }
    let crl = |ca: &CaSigner, number, this_update, revoked| {
        ca.issue_crl(&CrlRequest {
            this_update,
            next_update: this_update + Duration::days(30),
            number,
            revoked,
        })
        .unwrap()
        .der()
        .to_vec()
    };
    let crls = vec![
        ("root-crl", crl(&root_ca, 1, ISSUED, vec![])),
        ("ca-crl-1", crl(&issuing, 1, ISSUED, vec![])),
        (
            "ca-crl-2",
            crl(
                &issuing,
                2,
                minutes(REVOKED_AT),
                vec![RevokedEntry {
                    serial: Serial::from_bytes(&[SUPERSEDED_SERIAL]).unwrap(),
                    revoked_at: minutes(REVOKED_AT),
                    reason: RevocationReason::Superseded,
                }],
            ),
        ),
    ];
    Pki { certs, crls }
}

/// The manifest of the vectors' document.
pub fn manifest() -> Manifest {
    let org =
        |id: &str, name: &str| axis_signer::Organization::new(AgencyId::parse(id).unwrap(), name);
    let files = attachments()
        .into_iter()
        .map(|(name, content_type, bytes)| {
            let mut d = AttachmentDigest::new();
            d.update(&bytes);
            d.finish(name, content_type, "")
        })
        .collect();
    let mut m = sample_manifest(
        org("000.00.00.G22", "Văn phòng Chính phủ"),
        vec![
            org("000.00.00.H41", "UBND tỉnh Nghệ An"),
            org("000.00.00.H53", "UBND tỉnh Tây Ninh"),
        ],
        date!(2026 - 01 - 02),
        files,
    );
    m.content = "Văn phòng Chính phủ đề nghị các cơ quan kết nối.".into();
    m.due_date = Some(date!(2026 - 01 - 31));
    m.to_places = vec!["Như trên".into(), "Lưu: VT, TTĐT".into()];
    m.priority = Priority::Urgent;
    m.other = OtherInfo {
        sphere_of_promulgation: "Toàn quốc".into(),
        typer_notation: "TVC".into(),
        promulgation_amount: 1,
        page_amount: 2,
    };
    m
}

/// Every file of `tests/vectors/` but the keys and the README, for `keys`.
pub fn build(keys: &Keys) -> Vec<File> {
    let pki = issue_pki(keys);
    // A trust store takes the newest CRL of each CA: before CRL 2 is issued, only CRL 1.
    let trust = |crls: &[&str]| {
        TrustStore::new(
            vec![pki.cert("root").to_vec()],
            vec![pki.cert("ca").to_vec()],
            crls.iter().map(|n| pki.crl(n).to_vec()).collect(),
        )
        .unwrap()
    };
    let before = trust(&["root-crl", "ca-crl-1"]);
    let after = trust(&["root-crl", "ca-crl-1", "ca-crl-2"]);
    let store_at = |t: OffsetDateTime| {
        if t < minutes(REVOKED_AT) {
            &before
        } else {
            &after
        }
    };
    let verified = |name: &str, profile| before.verify(pki.cert(name), profile, SIGNED).unwrap();
    let signer_key = |name: &str| keys.signing(name);

    let mut files: Vec<File> = Vec::new();
    let mut index = String::from(
        "# The DER structures of the vectors and their type in formats.asn1 (checked by the\n\
         # interop test `asn1`). Regenerate: cargo run -p axis-testkit --example gen-vectors\n",
    );
    let mut put = |files: &mut Vec<File>, name: String, type_name: Option<&str>, bytes: Vec<u8>| {
        if let Some(t) = type_name {
            index.push_str(&format!("{name} {t}\n"));
        }
        files.push((name, bytes));
    };
    for (name, der) in &pki.certs {
        put(
            &mut files,
            format!("{name}.crt"),
            None,
            to_pem("CERTIFICATE", der).into_bytes(),
        );
    }
    for (name, der) in &pki.crls {
        put(
            &mut files,
            format!("{name}.crl"),
            None,
            to_pem("X509 CRL", der).into_bytes(),
        );
    }

    // The document.
    let attachments = attachments();
    for (i, (_, _, bytes)) in attachments.iter().enumerate() {
        put(
            &mut files,
            format!("attachment-{i}.bin"),
            None,
            bytes.clone(),
        );
    }
    let (person_key, seal_key) = (signer_key("g22-person"), signer_key("g22-seal"));
    let (person_cert, seal_cert) = (
        verified("g22-person", Profile::PersonalSigner),
        verified("g22-seal", Profile::AgencySeal),
    );
    let person = Signer::new(&person_key, &person_cert).unwrap();
    let seal = Signer::new(&seal_key, &seal_cert).unwrap();
    let document = SignedDocument::sign(
        manifest().encode().unwrap(),
        &person,
        SIGNED,
        &seal,
        minutes(SEAL_AT),
    )
    .unwrap();
    let recipients: Vec<VerifiedCert> = ["h41-enc", "h53-enc"]
        .iter()
        .map(|n| verified(n, Profile::AgencyEncryption))
        .collect();
    let fixed = secrets();
    let mut sealer = Sealer::with_fixed_secrets(
        SealRequest {
            message_id: MessageId::parse(MESSAGE_ID).unwrap(),
            document: &document,
            recipients: &recipients,
            chunk_size: CHUNK_SIZE,
        },
        &fixed,
    )
    .unwrap();
    let mut ciphertext = Vec::new();
    for (_, _, bytes) in &attachments {
        sealer.write_attachment(bytes, &mut ciphertext).unwrap();
        sealer.end_attachment(&mut ciphertext).unwrap();
    }
    let sealed = sealer
        .finish(&seal, minutes(SUBMITTED_AT), &mut ciphertext)
        .unwrap();
    let header = sealed.submission.header();
    put(
        &mut files,
        "manifest.der".into(),
        Some("Manifest"),
        document.manifest().as_bytes().to_vec(),
    );
    put(
        &mut files,
        "personal.cms".into(),
        Some("AxisSignature"),
        document.personal_signature().to_vec(),
    );
    put(
        &mut files,
        "seal.cms".into(),
        Some("AxisSignature"),
        document.seal_signature().to_vec(),
    );
    put(
        &mut files,
        "envelope.der".into(),
        Some("KeyEnvelope"),
        sealed.key_envelope.clone(),
    );
    // Each recipient's entry alone, as its delivery carries it (`openssl cms -decrypt` opens
    // it); its audit path is in parameters.json.
    let envelope_entries = axis_signer::KeyEnvelope::parse(&sealed.key_envelope)
        .unwrap()
        .entries_with_paths()
        .unwrap();
    for e in &envelope_entries {
        put(
            &mut files,
            format!("envelope-entry-{}.der", e.index),
            Some("KeyEnvelopeEntry"),
            e.entry.clone(),
        );
    }
    put(
        &mut files,
        "header.der".into(),
        Some("RoutingHeader"),
        header.as_bytes().to_vec(),
    );
    put(
        &mut files,
        "submission.cms".into(),
        Some("AxisSignature"),
        sealed.submission.signature().to_vec(),
    );
    put(
        &mut files,
        "ciphertext.bin".into(),
        None,
        ciphertext.clone(),
    );

    // The log: acceptance, 01 by each recipient, a revocation, 03 by H41.
    let submission = sealed.submission.verify(&after, VERIFY_AT).unwrap();
    let mut entries: Vec<LogEntryBytes> = vec![
        LogEntry::acceptance(&submission, minutes(ACCEPTED_AT))
            .encode()
            .unwrap(),
    ];
    let mut chains: BTreeMap<&str, ReceiptChain> = BTreeMap::new();
    let mut statements = Vec::new();
    // (who, status, minutes after SIGNED); `None` is the revocation of the superseded
    // personal certificate, logged when CRL 2 was published.
    let steps = [
        (Some("h41"), StatusCode::Arrived, 10),
        (Some("h53"), StatusCode::Arrived, 11),
        (None, StatusCode::Arrived, REVOCATION_LOGGED_AT),
        (Some("h41"), StatusCode::Accepted, 20),
    ];
    let mut receipt_no = 0;
    for (who, status, at) in steps {
        let t = minutes(at);
        let Some(who) = who else {
            let crl = pki.crl("ca-crl-2");
            entries.push(
                LogEntry::revocation(
                    RevocationEntry {
                        crl_digest: axis_signer::cms::sha256(crl),
                        crl_number: 2,
                        serial: vec![SUPERSEDED_SERIAL],
                        revoked_at: minutes(REVOKED_AT),
                        reason: RevocationReason::Superseded.code(),
                    },
                    t,
                )
                .encode()
                .unwrap(),
            );
            continue;
        };
        let agency = AgencyId::parse(if who == "h41" {
            "000.00.00.H41"
        } else {
            "000.00.00.H53"
        })
        .unwrap();
        let chain = chains.entry(who).or_insert_with(|| {
            ReceiptChain::new(DocumentRef::sent(&document, &sealed, &agency).unwrap())
        });
        let mut receipt = chain.next(status, t, "").unwrap();
        if status == StatusCode::Accepted {
            receipt.reason = "Đã tiếp nhận, chuyển Phòng Hành chính xử lý.".into();
            receipt
                .edxml
                .insert("StaffInfo/Department".into(), "Văn phòng UBND tỉnh".into());
            receipt
                .edxml
                .insert("StaffInfo/Staff".into(), "Nguyễn Văn A".into());
        }
        let key = signer_key(&format!("{who}-seal"));
        let cert = verified(&format!("{who}-seal"), Profile::AgencySeal);
        let signed = receipt.sign(&Signer::new(&key, &cert).unwrap()).unwrap();
        let logged = chain.push(&signed, store_at(t), t).unwrap();
        put(
            &mut files,
            format!("receipt-{receipt_no}.der"),
            Some("Receipt"),
            signed.receipt().as_bytes().to_vec(),
        );
        put(
            &mut files,
            format!("receipt-{receipt_no}.cms"),
            Some("AxisSignature"),
            signed.signature().to_vec(),
        );
        receipt_no += 1;
        let entry = LogEntry::statement(logged, t).encode().unwrap();
        statements.push((agency, signed, entries.len()));
        entries.push(entry);
    }
    for (i, e) in entries.iter().enumerate() {
        put(
            &mut files,
            format!("entry-{i}.der"),
            Some("LogEntry"),
            e.as_bytes().to_vec(),
        );
    }
    let raw: Vec<Vec<u8>> = entries.iter().map(|e| e.as_bytes().to_vec()).collect();
    let log = MemoryLog::new(&raw);
    let (log_key, log_cert) = (signer_key("log"), verified("log", Profile::AxisLogSigner));
    let head: SignedTreeHead = log.head(
        minutes(TREE_HEAD_AT),
        &Signer::new(&log_key, &log_cert).unwrap(),
    );
    put(
        &mut files,
        "tree-head.der".into(),
        Some("TreeHead"),
        head.as_bytes().to_vec(),
    );
    put(
        &mut files,
        "tree-head.cms".into(),
        Some("AxisSignature"),
        head.signature().to_vec(),
    );
    put(
        &mut files,
        "tree-head.sth".into(),
        Some("SignedTreeHeadFile"),
        head.encode(),
    );
    for i in 0..entries.len() {
        let proof = LogProof {
            tree_head: head.clone(),
            leaf_index: i as u64,
            path: log.path(i),
        };
        put(
            &mut files,
            format!("proof-{i}.der"),
            Some("LogProof"),
            proof.encode(),
        );
    }
    let logged = |entry: &LogEntryBytes, index: usize| LoggedEntry {
        entry: entry.clone(),
        leaf_index: index as u64,
        path: log.path(index),
    };
    let mut crls: Vec<Vec<u8>> = pki.crls.iter().map(|(_, d)| d.clone()).collect();
    crls.sort(); // the bundle's order: ascending DER
    let mut bundle = EvidenceBundle {
        submission: sealed.submission.clone(),
        intermediates: vec![pki.cert("ca").to_vec()],
        crls,
        tree_head: head.clone(),
        acceptance: logged(&entries[0], 0),
        statements: statements
            .into_iter()
            .map(|(recipient, receipt, index)| BundleStatement {
                recipient,
                receipt,
                logged: logged(&entries[index], index),
            })
            .collect(),
        completeness: None,
        cosignatures: Vec::new(),
    };
    // The axis's completeness statement, signed when the bundle is exported (at the head's
    // time here).
    let completeness = crate::log::completeness_of(
        &bundle,
        minutes(TREE_HEAD_AT),
        &Signer::new(&log_key, &log_cert).unwrap(),
    );
    put(
        &mut files,
        "completeness.der".into(),
        Some("Completeness"),
        completeness.as_bytes().to_vec(),
    );
    put(
        &mut files,
        "completeness.cms".into(),
        Some("AxisSignature"),
        completeness.signature().to_vec(),
    );
    bundle.completeness = Some(completeness);
    // What an axis without witnesses (or before any cosigned the head) exports: version 2.
    put(
        &mut files,
        "bundle-v2.der".into(),
        Some("EvidenceBundle"),
        bundle.encode().unwrap(),
    );

    // The witnesses cosign the head (each after verifying it), and the axis exports version 3.
    let log_spki = keys.public("log").der().to_vec();
    let verified_head = head.verify(&after, VERIFY_AT, Some(&log_spki)).unwrap();
    let mut witness_ids = Vec::new();
    for (i, name) in WITNESSES.iter().enumerate() {
        let witness = DeterministicP256::from_pkcs8_der(&keys.pkcs8(name));
        let spki = witness.public_key_der().to_vec();
        witness_ids.push(axis_evidence::key_id(&spki));
        put(
            &mut files,
            format!("{name}.pub.pem"),
            None,
            to_pem("PUBLIC KEY", &spki).into_bytes(),
        );
        let at = minutes(TREE_HEAD_AT + 1 + i as i64);
        let cosignature = Cosignature::sign(&verified_head, &witness, at).unwrap();
        put(
            &mut files,
            format!("cosignature-{}.der", i + 1),
            Some("Cosignature"),
            cosignature.as_bytes().to_vec(),
        );
        bundle.cosignatures.push(cosignature);
    }
    bundle
        .cosignatures
        .sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    put(
        &mut files,
        "bundle.der".into(),
        Some("EvidenceBundle"),
        bundle.encode().unwrap(),
    );

    // What a second implementation needs besides the files, and what it should compute.
    let h = header.header();
    let mut p = String::from("{\n");
    let mut field = |k: &str, v: String| {
        let _ = writeln!(p, "  \"{k}\": {v},");
    };
    let s = |x: &str| format!("\"{x}\"");
    field("message_id", s(MESSAGE_ID));
    field("chunk_size", CHUNK_SIZE.to_string());
    field("verify_at", s(&rfc3339(VERIFY_AT)));
    field("personal_signed_at", s(&rfc3339(SIGNED)));
    field("seal_signed_at", s(&rfc3339(minutes(SEAL_AT))));
    field("submission_signed_at", s(&rfc3339(minutes(SUBMITTED_AT))));
    field("content_key", s(&hex(&fixed.content_key)));
    field("cek", s(&hex(&fixed.cek)));
    field("iv", s(&hex(&fixed.iv)));
    field(
        "ephemeral",
        format!(
            "[{}]",
            fixed
                .ephemeral
                .iter()
                .map(|e| s(&hex(e)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    field("key_commitment", s(&hex(&h.key_commitment)));
    field("key_envelope_root", s(&hex(&h.key_envelope_root)));
    field(
        "key_envelope_paths",
        format!(
            "[{}]",
            envelope_entries
                .iter()
                .map(|e| format!(
                    "[{}]",
                    e.path
                        .iter()
                        .map(|h| s(&hex(h)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    field("binding_digest", s(&hex(header.binding_digest())));
    field("manifest_digest", s(&hex(&document.manifest().digest())));
    field("ciphertext_length", h.ciphertext_len.to_string());
    field("ciphertext_digest", s(&hex(&h.ciphertext_digest)));
    field(
        "leaf_hashes",
        format!(
            "[{}]",
            log.leaves
                .iter()
                .map(|l| s(&hex(l)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    field("log_key_id", s(&hex(&axis_evidence::key_id(&log_spki))));
    field(
        "witness_key_ids",
        format!(
            "[{}]",
            witness_ids
                .iter()
                .map(|id| s(&hex(id)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let _ = write!(p, "  \"root_hash\": {}\n}}\n", s(&hex(&log.root)));
    put(&mut files, "parameters.json".into(), None, p.into_bytes());
    files.push(("INDEX".into(), index.into_bytes()));
    files
}
