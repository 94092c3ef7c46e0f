//! CMS signatures across stacks: BouncyCastle's default CMS generator (which adds
//! CMSAlgorithmProtection, RFC 6211) and `openssl cms -sign` (which adds smimeCapabilities) sign
//! a manifest that Axis verifies; BouncyCastle verifies Axis's signatures.

use std::path::PathBuf;
use std::process::Command;

use axis_pki::{
    AgencyId, CaSigner, CrlRequest, IssueRequest, KeyAlgorithm, PrivateKey, Profile, PublicKey,
    Serial, Subject, TrustStore, VerifiedCert, issue_root, to_pem,
};
use axis_signer::{Error, ManifestBytes, SignatureError, SignatureRole, SignedDocument, Signer};
use time::{Duration, OffsetDateTime};

use crate::tools::{self, assert_ok, text};

/// id-aa-CMSAlgorithmProtection (1.2.840.113549.1.9.52) as a DER OID.
const ALGORITHM_PROTECTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x34,
];
/// smimeCapabilities (1.2.840.113549.1.9.15) as a DER OID.
const SMIME_CAPABILITIES: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0f,
];

/// Agency 000.00.00.G22's person (RSA-2048, as on Vietnamese tokens) and seal (P-256), under
/// a fresh root and issuing CA valid now, and a manifest from G22; all written as files.
struct Pki {
    store: TrustStore,
    person: (PrivateKey, VerifiedCert),
    seal: (PrivateKey, VerifiedCert),
    manifest: ManifestBytes,
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let now = OffsetDateTime::now_utc() - Duration::minutes(5);
        let req = |profile, subject, days| IssueRequest {
            profile,
            subject,
            not_before: now,
            not_after: now + Duration::days(days),
            serial: Serial::random().unwrap(),
        };
        let public = |k: &PrivateKey| PublicKey::from_spki_der(k.public_key_der()).unwrap();
        let p256 = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let root_key = p256();
        let root = issue_root(
            &req(Profile::RootCa, Subject::new("Interop Root"), 30),
            &root_key,
        )
        .unwrap();
        let root_ca = CaSigner::new(root.der(), &root_key, now).unwrap();
        let ca_key = p256();
        let ca = root_ca
            .issue(
                &req(Profile::IssuingCa, Subject::new("Interop CA"), 20),
                &public(&ca_key),
            )
            .unwrap();
        let issuing = CaSigner::new(ca.der(), &ca_key, now).unwrap();
        let crl = |c: &CaSigner| {
            c.issue_crl(&CrlRequest {
                this_update: now,
                next_update: now + Duration::days(7),
                number: 1,
                revoked: vec![],
            })
            .unwrap()
            .der()
            .to_vec()
        };
        let store = TrustStore::new(
            vec![root.der().to_vec()],
            vec![ca.der().to_vec()],
            vec![crl(&root_ca), crl(&issuing)],
        )
        .unwrap();
        let g22 = AgencyId::parse("000.00.00.G22").unwrap();
        let leaf = |profile, cn: &str, title: Option<&str>, key: PrivateKey| {
            let mut s = Subject::new(cn);
            s.agency_id = Some(g22.clone());
            s.title = title.map(str::to_owned);
            let der = issuing.issue(&req(profile, s, 10), &public(&key)).unwrap();
            let cert = store
                .verify(der.der(), profile, OffsetDateTime::now_utc())
                .unwrap();
            (key, cert)
        };
        let person = leaf(
            Profile::PersonalSigner,
            "Trần Văn Sơn",
            Some("Phó Chủ nhiệm"),
            PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap(),
        );
        let seal = leaf(Profile::AgencySeal, "Văn phòng Chính phủ", None, p256());
        // A real manifest from G22 (the harness seals one; only its bytes are used here),
        // naming the person above as its signer.
        let demo = axis_tests::TestPki::with_agencies(&[
            (
                "000.00.00.G22",
                "Văn phòng Chính phủ",
                "Trần Văn Sơn",
                "Phó Chủ nhiệm",
            ),
            (
                "000.00.00.H41",
                "UBND tỉnh Nghệ An",
                "Lê Thị Hoa",
                "Phó Chủ tịch",
            ),
        ]);
        let package = axis_tests::seal(
            &demo,
            &demo.agencies[0],
            &[&demo.agencies[1]],
            &[("a.pdf", b"%PDF")],
        );
        let manifest = package.document.manifest().clone();

        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, data: &[u8]| std::fs::write(dir.path().join(name), data).unwrap();
        w("root.der", root.der());
        w("ca.der", ca.der());
        w("ca.pem", to_pem("CERTIFICATE", ca.der()).as_bytes());
        for (name, (key, cert)) in [("person", &person), ("seal", &seal)] {
            let pkcs8 = key.to_pkcs8_der();
            w(&format!("{name}.pk8"), &pkcs8);
            w(
                &format!("{name}.key.pem"),
                to_pem("PRIVATE KEY", &pkcs8).as_bytes(),
            );
            w(&format!("{name}.der"), cert.der());
            w(
                &format!("{name}.pem"),
                to_pem("CERTIFICATE", cert.der()).as_bytes(),
            );
        }
        w("manifest.bin", manifest.as_bytes());
        w("other.bin", b"not the manifest");
        Pki {
            store,
            person,
            seal,
            manifest,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// BouncyCastle signs the file `content` as `who` (`person` or `seal`), with the
    /// signingCertificateV2 attribute unless `bare`; returns the DER.
    fn bc_sign(&self, who: &str, content: &str, bare: bool) -> Vec<u8> {
        let out = self.path(&format!("{who}-bc.der"));
        let mut args: Vec<std::ffi::OsString> = vec!["sign".into()];
        if bare {
            args.push("--bare".into());
        }
        let key = format!("{who}.pk8");
        let cert = format!("{who}.der");
        for name in [key.as_str(), &cert, content] {
            args.push(self.path(name).into());
        }
        args.push(out.clone().into());
        args.push(self.path("ca.der").into());
        assert_ok(
            &tools::run(tools::java("BcCms", args), "apt-get install libbcpkix-java"),
            "BcCms sign",
        );
        std::fs::read(out).unwrap()
    }

    /// BouncyCastle verifies `sig` over the file `content` to the root.
    fn bc_verify(&self, sig: &[u8], content: &str) -> std::process::Output {
        let path = self.path("to-verify.der");
        std::fs::write(&path, sig).unwrap();
        let (content, root) = (self.path(content), self.path("root.der"));
        tools::run(
            tools::java("BcCms", ["verify".into(), path, content, root]),
            "apt-get install libbcpkix-java",
        )
    }

    fn verify(&self, personal: Vec<u8>, seal: Vec<u8>) -> Result<(), Error> {
        SignedDocument::from_parts(self.manifest.clone(), personal, seal)
            .verify(&self.store, OffsetDateTime::now_utc())
            .map(|v| {
                let r = v.report();
                let personal = r.personal.as_ref().unwrap();
                assert_eq!(personal.signer_name, "Trần Văn Sơn");
                assert_eq!(personal.position.as_deref(), Some("Phó Chủ nhiệm"));
                assert_eq!(r.seal.agency.as_str(), "000.00.00.G22");
            })
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn bouncycastle_default_cms_signatures_over_a_manifest_verify_in_axis() {
    let pki = Pki::new();
    let personal = pki.bc_sign("person", "manifest.bin", false); // RSA: rsaEncryption
    let seal = pki.bc_sign("seal", "manifest.bin", false); // ECDSA P-256
    for sig in [&personal, &seal] {
        assert!(
            contains(sig, ALGORITHM_PROTECTION),
            "BouncyCastle's default generator no longer adds CMSAlgorithmProtection"
        );
    }
    pki.verify(personal.clone(), seal.clone()).unwrap();

    // The profile still requires signingCertificateV2, which BouncyCastle alone does not add.
    let bare = pki.bc_sign("person", "manifest.bin", true);
    match pki.verify(bare, seal.clone()) {
        Err(Error::Signature(SignatureError::SignedAttributeMissing {
            role: SignatureRole::PersonalSigner,
            attribute: "signingCertificateV2",
        })) => {}
        other => panic!("{other:?}"),
    }
    // A BouncyCastle signature over other bytes is refused like any other.
    let other = pki.bc_sign("person", "other.bin", false);
    match pki.verify(other, seal) {
        Err(Error::Signature(SignatureError::ContentDigestMismatch {
            role: SignatureRole::PersonalSigner,
        })) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn axis_signatures_verify_in_bouncycastle() {
    let pki = Pki::new();
    let now = OffsetDateTime::now_utc();
    let person = Signer::new(&pki.person.0, &pki.person.1).unwrap();
    let seal = Signer::new(&pki.seal.0, &pki.seal.1).unwrap();
    let doc = SignedDocument::sign(pki.manifest.clone(), &person, now, &seal, now).unwrap();
    for (sig, who) in [
        (doc.personal_signature(), "Trần Văn Sơn"),
        (doc.seal_signature(), "Văn phòng Chính phủ"),
    ] {
        let out = assert_ok(&pki.bc_verify(sig, "manifest.bin"), "BcCms verify");
        assert!(out.contains("verified") && out.contains(who), "{out}");
        // contentType, messageDigest, signingTime, signingCertificateV2: the profile's four.
        assert!(
            out.contains(
                "attrs=[1.2.840.113549.1.9.16.2.47, 1.2.840.113549.1.9.3, \
                 1.2.840.113549.1.9.4, 1.2.840.113549.1.9.5]"
            ),
            "{out}"
        );
        // The judge can say no.
        let o = pki.bc_verify(sig, "other.bin");
        assert!(!o.status.success(), "{}", text(&o));
    }
}

#[test]
fn openssl_cms_sign_signatures_over_a_manifest_verify_in_axis() {
    let pki = Pki::new();
    let sign = |who: &str| {
        let out = pki.path(&format!("{who}-openssl.der"));
        let mut cmd = Command::new("openssl");
        cmd.args([
            "cms", "-sign", "-binary", "-cades", "-md", "sha256", "-outform", "DER",
        ])
        .arg("-signer")
        .arg(pki.path(&format!("{who}.pem")))
        .arg("-inkey")
        .arg(pki.path(&format!("{who}.key.pem")))
        .arg("-certfile")
        .arg(pki.path("ca.pem"))
        .arg("-in")
        .arg(pki.path("manifest.bin"))
        .arg("-out")
        .arg(&out);
        assert_ok(
            &tools::run(cmd, tools::OPENSSL_INSTALL),
            "openssl cms -sign",
        );
        let sig = std::fs::read(out).unwrap();
        assert!(
            contains(&sig, SMIME_CAPABILITIES),
            "openssl stopped adding smimeCapabilities"
        );
        sig
    };
    let personal = sign("person");
    let seal = sign("seal");
    pki.verify(personal, seal).unwrap();
}
