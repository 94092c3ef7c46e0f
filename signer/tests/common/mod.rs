//! A whole in-memory PKI for the signer tests: a root and an issuing CA, four agencies each with
//! a seal and an encryption certificate (RSA and EC mixed), personal signers, one revoked
//! personal signer, and the axis log signer. Built once per test binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use axis_pki::*;
use axis_signer::limits::*;
use axis_signer::*;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// Issuance time.
pub const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
/// When documents are signed.
pub const SIGNED: OffsetDateTime = datetime!(2026-01-02 9:00 UTC);
/// When they are verified.
pub const NOW: OffsetDateTime = datetime!(2026-01-03 10:00 UTC);

pub struct Agency {
    pub id: AgencyId,
    pub name: &'static str,
    pub seal_key: PrivateKey,
    pub seal: VerifiedCert,
    pub enc: VerifiedCert,
    pub enc_pkcs8: Zeroizing<Vec<u8>>,
}

impl Agency {
    pub fn recipient_key(&self) -> RecipientKey {
        RecipientKey::from_pkcs8_der(self.enc_pkcs8.clone(), &self.enc).unwrap()
    }
    pub fn seal_signer(&self) -> Signer<'_> {
        Signer::new(&self.seal_key, &self.seal).unwrap()
    }
    pub fn org(&self) -> Organization {
        Organization::new(self.id.clone(), self.name)
    }
    /// The encryption key as unencrypted PKCS#8 PEM, for `openssl cms -decrypt -inkey`.
    pub fn enc_key_pem(&self) -> String {
        to_pem("PRIVATE KEY", &self.enc_pkcs8)
    }
}

pub struct Person {
    pub key: PrivateKey,
    pub cert: VerifiedCert,
}

impl Person {
    pub fn signer(&self) -> Signer<'_> {
        Signer::new(&self.key, &self.cert).unwrap()
    }
}

pub struct Fixture {
    pub root: Vec<u8>,
    pub ca: Vec<u8>,
    /// The issuing CA's key, to mint more agencies ([`extra_agencies`]).
    pub ca_key: PrivateKey,
    /// Current CRLs of the root and the issuing CA (the latter lists `revoked`).
    pub crls: Vec<Vec<u8>>,
    /// CRLs list `revoked`.
    pub store: TrustStore,
    /// Sender: RSA-2048 seal and encryption.
    pub a: Agency,
    /// P-256 seal and encryption.
    pub b: Agency,
    /// RSA seal, RSA encryption.
    pub c: Agency,
    /// An agency that is never a recipient.
    pub d: Agency,
    /// The person with authority at A (RSA-2048).
    pub person: Person,
    /// A person at B (P-256).
    pub person_b: Person,
    /// A person at A whose certificate is revoked (verified before the revocation).
    pub revoked: Person,
    /// The axis log signer (axis-log-signer profile, P-256, no agency id): signs tree heads.
    pub log: Person,
}

fn req(profile: Profile, subject: Subject, days: i64) -> IssueRequest {
    IssueRequest {
        profile,
        subject,
        not_before: T0,
        not_after: T0 + Duration::days(days),
        serial: Serial::random().unwrap(),
    }
}

fn subject(name: &str, id: &AgencyId) -> Subject {
    let mut s = Subject::new(name);
    s.agency_id = Some(id.clone());
    s
}

fn encryption_key(rsa: bool) -> (Zeroizing<Vec<u8>>, PublicKey) {
    let pkey = if rsa {
        openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap()
    } else {
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap()
    };
    (
        Zeroizing::new(pkey.private_key_to_pkcs8().unwrap()),
        PublicKey::from_spki_der(&pkey.public_key_to_der().unwrap()).unwrap(),
    )
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

fn build() -> Fixture {
    let root_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let root = issue_root(
        &req(Profile::RootCa, Subject::new("Axis Test Root"), 3650),
        &root_key,
    )
    .unwrap();
    let root_ca = CaSigner::new(root.der(), &root_key, T0).unwrap();
    let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let ca = root_ca
        .issue(
            &req(
                Profile::IssuingCa,
                Subject::new("CA for state agencies"),
                1825,
            ),
            &PublicKey::from_spki_der(ca_key.public_key_der()).unwrap(),
        )
        .unwrap();
    let issuing = CaSigner::new(ca.der(), &ca_key, T0).unwrap();
    let issue = |profile, subject, key: &PublicKey| {
        issuing
            .issue(&req(profile, subject, 365), key)
            .unwrap()
            .der()
            .to_vec()
    };

    let crl = |ca: &CaSigner, revoked: Vec<RevokedEntry>| {
        ca.issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(30),
            number: 1,
            revoked,
        })
        .unwrap()
        .der()
        .to_vec()
    };
    let store_before = TrustStore::new(
        vec![root.der().to_vec()],
        vec![ca.der().to_vec()],
        vec![crl(&root_ca, vec![]), crl(&issuing, vec![])],
    )
    .unwrap();

    let mut raw_agencies = Vec::new();
    for (id, name, seal_alg, enc_rsa) in [
        (
            "000.00.00.G22",
            "Văn phòng Chính phủ",
            KeyAlgorithm::Rsa2048,
            true,
        ),
        (
            "000.00.00.H41",
            "UBND tỉnh Nghệ An",
            KeyAlgorithm::EcdsaP256,
            false,
        ),
        (
            "000.00.00.H53",
            "UBND tỉnh Tây Ninh",
            KeyAlgorithm::Rsa2048,
            true,
        ),
        (
            "000.00.00.G01",
            "Bộ Công an",
            KeyAlgorithm::EcdsaP256,
            false,
        ),
    ] {
        let id = AgencyId::parse(id).unwrap();
        let seal_key = PrivateKey::generate(seal_alg).unwrap();
        let seal = issue(
            Profile::AgencySeal,
            subject(name, &id),
            &PublicKey::from_spki_der(seal_key.public_key_der()).unwrap(),
        );
        let (enc_pkcs8, enc_pub) = encryption_key(enc_rsa);
        let enc = issue(Profile::AgencyEncryption, subject(name, &id), &enc_pub);
        raw_agencies.push((id, name, seal_key, seal, enc, enc_pkcs8));
    }
    let person = |id: &AgencyId, name: &str, title: &str, alg| {
        let key = PrivateKey::generate(alg).unwrap();
        let mut s = subject(name, id);
        s.title = Some(title.to_owned());
        let der = issue(
            Profile::PersonalSigner,
            s,
            &PublicKey::from_spki_der(key.public_key_der()).unwrap(),
        );
        (key, der)
    };
    let a_id = raw_agencies[0].0.clone();
    let b_id = raw_agencies[1].0.clone();
    let (pk, pder) = person(
        &a_id,
        "Trần Văn Sơn",
        "Phó Chủ nhiệm",
        KeyAlgorithm::Rsa2048,
    );
    let (bk, bder) = person(&b_id, "Lê Thị Hoa", "Phó Chủ tịch", KeyAlgorithm::EcdsaP256);
    let (rk, rder) = person(
        &a_id,
        "Ngô Văn Cũ",
        "Chánh Văn phòng",
        KeyAlgorithm::EcdsaP256,
    );
    let revoked_serial = Serial::from_bytes(&x509_serial(&rder)).unwrap();
    let log_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let log_der = issue(
        Profile::AxisLogSigner,
        Subject::new("Axis log signer"),
        &PublicKey::from_spki_der(log_key.public_key_der()).unwrap(),
    );

    let crls = vec![
        crl(&root_ca, vec![]),
        crl(
            &issuing,
            vec![RevokedEntry {
                serial: revoked_serial,
                revoked_at: T0 + Duration::hours(12),
                reason: RevocationReason::KeyCompromise,
            }],
        ),
    ];
    let store = TrustStore::new(
        vec![root.der().to_vec()],
        vec![ca.der().to_vec()],
        crls.clone(),
    )
    .unwrap();

    let mut agencies =
        raw_agencies
            .into_iter()
            .map(|(id, name, seal_key, seal, enc, enc_pkcs8)| Agency {
                seal: store.verify(&seal, Profile::AgencySeal, SIGNED).unwrap(),
                enc: store
                    .verify(&enc, Profile::AgencyEncryption, SIGNED)
                    .unwrap(),
                id,
                name,
                seal_key,
                enc_pkcs8,
            });
    let (a, b, c, d) = (
        agencies.next().unwrap(),
        agencies.next().unwrap(),
        agencies.next().unwrap(),
        agencies.next().unwrap(),
    );
    Fixture {
        person: Person {
            cert: store
                .verify(&pder, Profile::PersonalSigner, SIGNED)
                .unwrap(),
            key: pk,
        },
        person_b: Person {
            cert: store
                .verify(&bder, Profile::PersonalSigner, SIGNED)
                .unwrap(),
            key: bk,
        },
        revoked: Person {
            cert: store_before
                .verify(&rder, Profile::PersonalSigner, SIGNED)
                .unwrap(),
            key: rk,
        },
        log: Person {
            cert: store
                .verify(&log_der, Profile::AxisLogSigner, SIGNED)
                .unwrap(),
            key: log_key,
        },
        root: root.der().to_vec(),
        ca: ca.der().to_vec(),
        ca_key,
        crls,
        store,
        a,
        b,
        c,
        d,
    }
}

/// `n` more agencies (`000.<i>.00.H99`), P-256 seals, encryption keys alternating RSA-2048 and
/// P-256.
pub fn extra_agencies(n: usize) -> Vec<Agency> {
    let f = fixture();
    let issuing = CaSigner::new(&f.ca, &f.ca_key, T0).unwrap();
    (0..n)
        .map(|i| {
            let id = AgencyId::parse(&format!("000.{:02}.00.H99", i % 100)).unwrap();
            let seal_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
            let issue = |profile, key: &PublicKey| {
                issuing
                    .issue(&req(profile, subject("Sở Test", &id), 365), key)
                    .unwrap()
                    .der()
                    .to_vec()
            };
            let seal = issue(
                Profile::AgencySeal,
                &PublicKey::from_spki_der(seal_key.public_key_der()).unwrap(),
            );
            let (enc_pkcs8, enc_pub) = encryption_key(i % 2 == 0);
            let enc = issue(Profile::AgencyEncryption, &enc_pub);
            Agency {
                seal: f.store.verify(&seal, Profile::AgencySeal, SIGNED).unwrap(),
                enc: f
                    .store
                    .verify(&enc, Profile::AgencyEncryption, SIGNED)
                    .unwrap(),
                id,
                name: "Sở Test",
                seal_key,
                enc_pkcs8,
            }
        })
        .collect()
}

/// One more certificate of `profile` from the issuing CA (valid from [`T0`] for a year, key of
/// `alg`), verified at [`SIGNED`]. Set `subject.agency_id` for agency profiles.
pub fn issue_extra(profile: Profile, subject: Subject, alg: KeyAlgorithm) -> Person {
    let f = fixture();
    let issuing = CaSigner::new(&f.ca, &f.ca_key, T0).unwrap();
    let key = PrivateKey::generate(alg).unwrap();
    let der = issuing
        .issue(
            &req(profile, subject, 365),
            &PublicKey::from_spki_der(key.public_key_der()).unwrap(),
        )
        .unwrap()
        .der()
        .to_vec();
    Person {
        cert: f.store.verify(&der, profile, SIGNED).unwrap(),
        key,
    }
}

/// A later state of the PKI: the issuing CA's next CRL (number 2, issued at `this_update`, good
/// for 30 days) lists `revoke` (revoked at `this_update`) besides what the fixture's CRL lists.
/// Returns a store with it and the CRLs (for OpenSSL's CAfile). The fixture's own store and
/// CRLs are unchanged.
pub fn later_store(
    this_update: OffsetDateTime,
    revoke: &[&VerifiedCert],
) -> (TrustStore, Vec<Vec<u8>>) {
    let f = fixture();
    let issuing = CaSigner::new(&f.ca, &f.ca_key, T0).unwrap();
    let mut revoked = vec![RevokedEntry {
        serial: f.revoked.cert.serial().clone(),
        revoked_at: T0 + Duration::hours(12),
        reason: RevocationReason::KeyCompromise,
    }];
    revoked.extend(revoke.iter().map(|c| RevokedEntry {
        serial: c.serial().clone(),
        revoked_at: this_update,
        reason: RevocationReason::KeyCompromise,
    }));
    let crl = issuing
        .issue_crl(&CrlRequest {
            this_update,
            next_update: this_update + Duration::days(30),
            number: 2,
            revoked,
        })
        .unwrap()
        .der()
        .to_vec();
    let crls = vec![f.crls[0].clone(), crl];
    let store = TrustStore::new(vec![f.root.clone()], vec![f.ca.clone()], crls.clone()).unwrap();
    (store, crls)
}

/// The serial octets of a DER certificate (second element of the TBSCertificate, after [0]).
fn x509_serial(der: &[u8]) -> Vec<u8> {
    let x = openssl::x509::X509::from_der(der).unwrap();
    x.serial_number().to_bn().unwrap().to_vec()
}

/// A typical manifest from A to `to`, with `attachments` (name, bytes).
pub fn manifest(to: &[&Agency], attachments: &[(&str, &[u8])]) -> Manifest {
    let f = fixture();
    Manifest {
        from: f.a.org(),
        to: to.iter().map(|a| a.org()).collect(),
        code: Code::new("7816", "VPCP-TTĐT").unwrap(),
        promulgation: Promulgation {
            place: "Hà Nội".into(),
            date: date!(2026 - 01 - 02),
        },
        document_type: DocumentType {
            kind: 1,
            detail: 0,
            name: "Công văn".into(),
        },
        subject: "V/v kết nối, liên thông phần mềm quản lý văn bản".into(),
        content: "Văn phòng Chính phủ đề nghị các cơ quan kết nối.".into(),
        signer: SignerInfo {
            competence: "KT. BỘ TRƯỞNG, CHỦ NHIỆM".into(),
            position: "Phó Chủ nhiệm".into(),
            full_name: "Trần Văn Sơn".into(),
        },
        due_date: Some(date!(2026 - 01 - 31)),
        to_places: vec!["Như trên".into(), "Lưu: VT, TTĐT".into()],
        priority: Priority::Urgent,
        other: OtherInfo {
            sphere_of_promulgation: "Toàn quốc".into(),
            typer_notation: "TVC".into(),
            promulgation_amount: 1,
            page_amount: 2,
        },
        response_for: vec![],
        business: Business::New,
        attachments: attachments
            .iter()
            .map(|(name, bytes)| {
                let mut d = AttachmentDigest::new();
                d.update(bytes);
                d.finish(*name, "application/pdf", "")
            })
            .collect(),
    }
}

/// Signs `m` with A's person and seal.
pub fn sign(m: &Manifest) -> SignedDocument {
    let f = fixture();
    SignedDocument::sign(
        m.encode().unwrap(),
        &f.person.signer(),
        SIGNED,
        &f.a.seal_signer(),
        SIGNED + Duration::minutes(1),
    )
    .unwrap()
}

/// Everything a sealed document is made of.
pub struct Package {
    pub document: SignedDocument,
    pub sealed: Sealed,
    pub ciphertext: Vec<u8>,
}

/// Seals `doc` for the encryption certificates of `to`, feeding attachments in `step`-byte
/// writes.
pub fn seal_document(
    doc: &SignedDocument,
    to: &[&Agency],
    attachments: &[&[u8]],
    chunk_size: u32,
    step: usize,
) -> Package {
    let f = fixture();
    let certs: Vec<VerifiedCert> = to.iter().map(|a| a.enc.clone()).collect();
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random().unwrap(),
        document: doc,
        recipients: &certs,
        chunk_size,
    })
    .unwrap();
    let mut ciphertext = Vec::new();
    for a in attachments {
        for piece in a.chunks(step.max(1)) {
            sealer.write_attachment(piece, &mut ciphertext).unwrap();
        }
        sealer.end_attachment(&mut ciphertext).unwrap();
    }
    let sealed = sealer
        .finish(
            &f.a.seal_signer(),
            SIGNED + Duration::minutes(2),
            &mut ciphertext,
        )
        .unwrap();
    Package {
        document: doc.clone(),
        sealed,
        ciphertext,
    }
}

/// A package from A to B and C with two attachments, small chunks so parts have several.
pub fn standard_package() -> Package {
    let f = fixture();
    let att1: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let att2 = b"short attachment".to_vec();
    let m = manifest(
        &[&f.b, &f.c],
        &[("cong-van.pdf", &att1), ("phu-luc.pdf", &att2)],
    );
    let doc = sign(&m);
    seal_document(&doc, &[&f.b, &f.c], &[&att1, &att2], 1024, 777)
}

/// The two attachments of [`standard_package`].
pub fn standard_attachments() -> Vec<Vec<u8>> {
    vec![
        (0..5000u32).map(|i| (i * 7) as u8).collect(),
        b"short attachment".to_vec(),
    ]
}

/// Opens `p` as `who` at [`NOW`].
pub fn open(
    p: &Package,
    who: &Agency,
) -> Result<(ReceivedDocument, Vec<Vec<u8>>), axis_signer::Error> {
    let f = fixture();
    let sub = p.sealed.submission.verify(&f.store, NOW)?;
    let key = who.recipient_key();
    let opener = Opener::new(&sub, &p.sealed.key_envelope, &key, &f.store, NOW)?;
    opener.open_all(&p.ciphertext)
}

/// Splits a ciphertext into its frames.
pub fn frames(ciphertext: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = ciphertext;
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[17..21].try_into().unwrap()) as usize;
        out.push(rest[..FRAME_HEADER_LEN + len].to_vec());
        rest = &rest[FRAME_HEADER_LEN + len..];
    }
    out
}

/// (part, index, last) of a frame.
pub fn frame_id(frame: &[u8]) -> (u32, u32, bool) {
    (
        u32::from_be_bytes(frame[8..12].try_into().unwrap()),
        u32::from_be_bytes(frame[12..16].try_into().unwrap()),
        frame[16] & 1 == 1,
    )
}

// ----- OpenSSL as the independent judge (shared by the tests that call it) -----

/// A temporary directory holding root.pem, ca.pem and trust.pem for `openssl`.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    /// root.pem, ca.pem, and trust.pem (the root with `crls`; OpenSSL 3.0's `cms` has no
    /// -CRLfile, so the CRLs go in the CAfile).
    pub fn new(crls: &[Vec<u8>]) -> Self {
        let f = fixture();
        let d = Dir {
            dir: tempfile::tempdir().unwrap(),
        };
        d.write("root.pem", to_pem("CERTIFICATE", &f.root).as_bytes());
        d.write("ca.pem", to_pem("CERTIFICATE", &f.ca).as_bytes());
        let mut trust = to_pem("CERTIFICATE", &f.root);
        trust.extend(crls.iter().map(|c| to_pem("X509 CRL", c)));
        d.write("trust.pem", trust.as_bytes());
        d
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

pub fn openssl(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `openssl cms -verify` of a detached signature at `at`, with chain and CRLs (OpenSSL 3.0's
/// `cms` has no -untrusted; -certfile adds the CA to path building, and the signature also
/// carries it).
pub fn cms_verify(d: &Dir, sig: &Path, content: &Path, at: OffsetDateTime) -> (bool, String) {
    let attime = at.unix_timestamp().to_string();
    openssl(&[
        "cms".as_ref(),
        "-verify".as_ref(),
        "-binary".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        sig.as_os_str(),
        "-content".as_ref(),
        content.as_os_str(),
        "-CAfile".as_ref(),
        d.path("trust.pem").as_os_str(),
        "-certfile".as_ref(),
        d.path("ca.pem").as_os_str(),
        "-crl_check_all".as_ref(),
        "-purpose".as_ref(),
        "any".as_ref(),
        "-attime".as_ref(),
        attime.as_ref(),
        "-out".as_ref(),
        d.path("verified.out").as_os_str(),
    ])
}
