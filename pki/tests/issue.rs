//! Issuance and CSR handling: every refusal has its own error, and what is issued is exactly the
//! profile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::*;
use axis_testkit::pki::*;
use time::Duration;

fn cas() -> Cas {
    root_and_ca("Root", "CA", 1000)
}

#[track_caller]
fn refused(r: Result<IssuedCertificate, Error>, expected: &str) {
    let e = r.expect_err("issued, but should have been refused");
    assert!(
        format!("{e:?}").starts_with(expected),
        "expected {expected}, got {e:?}"
    );
}

#[test]
fn issued_certificate_carries_exactly_the_profile() {
    let c = cas();
    let ca = CaSigner::new(&c.ca, &c.ca_key, T0).unwrap();
    let k = key();
    let cert = ca
        .issue(
            &req(
                Profile::AgencyTlsClient,
                agency("UBND tỉnh Nghệ An", "000.00.00.H41"),
                397,
            ),
            &pubkey(&k),
        )
        .unwrap();
    let (_, x) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
    let ku = x.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && !ku.non_repudiation() && !ku.key_cert_sign());
    let eku = x.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert!(!x.is_ca());
    assert!(
        x.basic_constraints().unwrap().is_some(),
        "CA:FALSE is explicit"
    );
    assert!(
        x.get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_SUBJECT_KEY_IDENTIFIER)
            .unwrap()
            .is_some()
    );
    assert!(
        x.get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        profile_of(cert.der(), &PolicyArc::default()).unwrap(),
        Some(Profile::AgencyTlsClient)
    );
    assert_eq!(
        agency_id_of(cert.der()).unwrap().unwrap().as_str(),
        "000.00.00.H41"
    );
    assert_eq!(
        x.validity().not_after.to_datetime(),
        T0 + Duration::days(397)
    );
    // openssl prints the binding where an administrator looks for it.
    let text = openssl::x509::X509::from_der(cert.der()).unwrap();
    let subject: Vec<String> = text
        .subject_name()
        .entries()
        .map(|e| e.object().nid().short_name().unwrap_or("?").to_owned())
        .collect();
    assert!(
        subject.contains(&"organizationIdentifier".to_owned()),
        "{subject:?}"
    );

    // The issuing CA has pathLen 0; the root is unconstrained.
    let (_, ca) = x509_parser::parse_x509_certificate(&c.ca).unwrap();
    assert_eq!(
        ca.basic_constraints()
            .unwrap()
            .unwrap()
            .value
            .path_len_constraint,
        Some(0)
    );
}

#[test]
fn rsa_keys_of_every_size_are_issued() {
    let c = cas();
    let ca = CaSigner::new(&c.ca, &c.ca_key, T0).unwrap();
    for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::Rsa3072] {
        let k = PrivateKey::generate(alg).unwrap();
        let cert = ca
            .issue(
                &req(
                    Profile::AgencyEncryption,
                    agency("Enc", "000.00.00.G22"),
                    365,
                ),
                &pubkey(&k),
            )
            .unwrap();
        let (_, x) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        assert!(x.key_usage().unwrap().unwrap().value.key_encipherment());
    }
    let k = key();
    let cert = ca
        .issue(
            &req(
                Profile::AgencyEncryption,
                agency("Enc", "000.00.00.G22"),
                365,
            ),
            &pubkey(&k),
        )
        .unwrap();
    let (_, x) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
    assert!(x.key_usage().unwrap().unwrap().value.key_agreement());
}

#[test]
fn issuance_refusals() {
    let c = cas();
    let ca = CaSigner::new(&c.ca, &c.ca_key, T0).unwrap();
    let root = CaSigner::new(&c.root, &c.root_key, T0).unwrap();
    let pk = pubkey(&key());
    let seal = || agency("VPCP", "000.00.00.G22");

    refused(
        ca.issue(&req(Profile::AgencySeal, seal(), 5 * 365 + 3), &pk),
        "ValidityTooLong",
    );
    refused(
        ca.issue(&req(Profile::AgencySeal, seal(), 0), &pk),
        "ValidityEmpty",
    );
    // The CA lives 1000 days; a 3-year personal certificate would outlive it.
    let mut person = agency("Nguyễn Văn A", "000.00.00.G22");
    person.title = Some("Chánh Văn phòng".into());
    refused(
        ca.issue(&req(Profile::PersonalSigner, person.clone(), 1001), &pk),
        "ValidityBeyondIssuer",
    );
    refused(
        ca.issue(&req(Profile::IssuingCa, Subject::new("Sub"), 100), &pk),
        "ProfileNotIssuableBy",
    );
    refused(
        root.issue(&req(Profile::AgencySeal, seal(), 100), &pk),
        "ProfileNotIssuableBy",
    );
    refused(
        ca.issue(&req(Profile::AgencySeal, Subject::new("VPCP"), 100), &pk),
        "SubjectFieldMissing",
    );
    person.title = None;
    refused(
        ca.issue(&req(Profile::PersonalSigner, person, 100), &pk),
        "SubjectFieldMissing",
    );
    refused(
        ca.issue(&req(Profile::AxisServerTls, Subject::new("axis"), 100), &pk),
        "SubjectFieldMissing",
    );
    let mut s = seal();
    s.dns_names = vec!["axis.example.vn".into()];
    refused(
        ca.issue(&req(Profile::AgencySeal, s, 100), &pk),
        "SubjectFieldNotAllowed",
    );
    let mut s = Subject::new("axis");
    s.dns_names = vec!["bad_name.example".into()];
    refused(
        ca.issue(&req(Profile::AxisServerTls, s, 100), &pk),
        "DnsNameInvalid",
    );
    let mut s = Subject::new("operator");
    s.agency_id = Some(AgencyId::parse("000.00.00.G22").unwrap());
    refused(
        ca.issue(&req(Profile::AxisOperator, s, 100), &pk),
        "SubjectFieldNotAllowed",
    );
    refused(
        ca.issue(
            &req(
                Profile::AgencySeal,
                agency(&"x".repeat(65), "000.00.00.G22"),
                100,
            ),
            &pk,
        ),
        "NameTooLong",
    );
    refused(
        ca.issue(
            &req(Profile::AgencySeal, agency("a\u{0}b", "000.00.00.G22"), 100),
            &pk,
        ),
        "NameInvalid",
    );
    refused(
        issue_root(&req(Profile::IssuingCa, Subject::new("x"), 10), &key()),
        "ProfileNotIssuableBy",
    );
}

#[test]
fn ca_signer_checks_its_own_certificate() {
    let c = cas();
    assert!(matches!(
        CaSigner::new(&c.ca, &key(), T0),
        Err(Error::KeyMismatch)
    ));
    assert!(matches!(
        CaSigner::new(&c.ca, &c.ca_key, T0 + Duration::days(1000)),
        Err(Error::IssuerExpired { .. })
    ));
    assert!(matches!(
        CaSigner::new(&c.ca, &c.ca_key, T0 - Duration::seconds(1)),
        Err(Error::IssuerNotYetValid { .. })
    ));
    let leaf_key = key();
    let leaf = CaSigner::new(&c.ca, &c.ca_key, T0)
        .unwrap()
        .issue(
            &req(Profile::AgencySeal, agency("VPCP", "000.00.00.G22"), 100),
            &pubkey(&leaf_key),
        )
        .unwrap();
    assert!(matches!(
        CaSigner::new(leaf.der(), &leaf_key, T0),
        Err(Error::SignerNotCa)
    ));
}

/// A DER CSR made by openssl with `subj` and one `-addext` per `addext`.
fn openssl_csr(dir: &std::path::Path, subj: &str, addext: &[&str]) -> Vec<u8> {
    let mut extra = vec!["-outform", "DER"];
    for e in addext {
        extra.extend(["-addext", e]);
    }
    std::fs::read(axis_testkit::openssl_csr(dir, "r", subj, &extra)).unwrap()
}

#[test]
fn a_csr_made_by_make_csr_is_checked_issued_and_read_by_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let c = cas();
    let ca = CaSigner::new(&c.ca, &c.ca_key, T0).unwrap();
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let key = PrivateKey::generate(alg).unwrap();
        let subject = agency("UBND tỉnh Nghệ An", "000.00.00.H41");
        let der = make_csr(&subject, &key).unwrap();
        let csr = CheckedCsr::parse(&der).unwrap();
        assert_eq!(csr.public_key().der(), key.public_key_der());
        assert_eq!(csr.agency_id().unwrap().as_str(), "000.00.00.H41");
        assert_eq!(csr.common_name(), Some("UBND tỉnh Nghệ An"));
        csr.check_against(Profile::AgencySeal, &subject).unwrap();
        ca.issue(&req(Profile::AgencySeal, subject, 365), csr.public_key())
            .unwrap();
        // OpenSSL checks the proof of possession.
        let path = dir.path().join("r.csr");
        std::fs::write(&path, &der).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["req", "-verify", "-noout", "-inform", "DER", "-in"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A server's names travel as a subjectAltName request, which the profile accepts.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut subject = Subject::new("axis.example.vn");
    subject.dns_names = vec!["axis.example.vn".into()];
    let csr = CheckedCsr::parse(&make_csr(&subject, &key).unwrap()).unwrap();
    assert_eq!(csr.requested_dns_names(), ["axis.example.vn".to_owned()]);
    csr.check_against(Profile::AxisServerTls, &subject).unwrap();
}

#[test]
fn csr_from_openssl_is_issued_and_excess_requests_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = cas();
    let ca = CaSigner::new(&c.ca, &c.ca_key, T0).unwrap();
    let subj = "/C=VN/CN=UBND tinh Nghe An/organizationIdentifier=000.00.00.H41";

    let csr = CheckedCsr::parse(&openssl_csr(dir.path(), subj, &[])).unwrap();
    assert_eq!(csr.agency_id().unwrap().as_str(), "000.00.00.H41");
    assert_eq!(csr.common_name(), Some("UBND tinh Nghe An"));
    let subject = agency("UBND tỉnh Nghệ An", "000.00.00.H41");
    csr.check_against(Profile::AgencyTlsClient, &subject)
        .unwrap();
    ca.issue(
        &req(Profile::AgencyTlsClient, subject.clone(), 365),
        csr.public_key(),
    )
    .unwrap();

    // Asking for less than the profile is fine.
    let csr = CheckedCsr::parse(&openssl_csr(
        dir.path(),
        subj,
        &["keyUsage=digitalSignature", "extendedKeyUsage=clientAuth"],
    ))
    .unwrap();
    csr.check_against(Profile::AgencyTlsClient, &subject)
        .unwrap();

    #[track_caller]
    fn excess(csr: &CheckedCsr, subject: &Subject, what: &str) {
        match csr.check_against(Profile::AgencyTlsClient, subject) {
            Err(Error::CsrExcessRequest { what: w }) => assert!(w.contains(what), "{w}"),
            other => panic!("expected CsrExcessRequest({what}), got {other:?}"),
        }
    }
    for (ext, what) in [
        ("basicConstraints=critical,CA:TRUE", "CA:TRUE"),
        ("keyUsage=digitalSignature,keyCertSign", "keyCertSign"),
        ("extendedKeyUsage=clientAuth,codeSigning", "codeSigning"),
        ("subjectAltName=DNS:evil.example", "evil.example"),
        (
            "nameConstraints=permitted;DNS:example.vn",
            "extension 2.5.29.30",
        ),
    ] {
        let csr = CheckedCsr::parse(&openssl_csr(dir.path(), subj, &[ext])).unwrap();
        excess(&csr, &subject, what);
    }

    // A CSR for another agency.
    let g22 = agency("VPCP", "000.00.00.G22");
    let csr = CheckedCsr::parse(&openssl_csr(dir.path(), subj, &[])).unwrap();
    assert!(matches!(
        csr.check_against(Profile::AgencyTlsClient, &g22),
        Err(Error::CsrAgencyMismatch { .. })
    ));

    // A flipped bit in the signature.
    let mut der = openssl_csr(dir.path(), subj, &[]);
    let last = der.len() - 1;
    der[last] ^= 1;
    assert!(matches!(
        CheckedCsr::parse(&der),
        Err(Error::CsrSignatureInvalid)
    ));
    assert!(matches!(
        CheckedCsr::parse(b"junk"),
        Err(Error::CsrMalformed)
    ));
    assert!(matches!(
        CheckedCsr::parse(&vec![0u8; MAX_CSR_DER_LEN + 1]),
        Err(Error::CsrTooLarge { .. })
    ));

    // An unsupported key (P-384).
    let key = dir.path().join("k384.pem");
    let path = dir.path().join("r384.der");
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-nodes",
            "-outform",
            "DER",
            "-subj",
            subj,
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(matches!(
        CheckedCsr::parse(&std::fs::read(path).unwrap()),
        Err(Error::UnsupportedKey)
    ));
}

#[test]
fn crl_is_read_by_openssl_with_number_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let c = cas();
    let ca = CaSigner::new(&c.ca, &c.ca_key, T0).unwrap();
    let crl = ca
        .issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(7),
            number: 300,
            revoked: vec![RevokedEntry {
                serial: Serial::from_hex("4A:BC:01").unwrap(),
                revoked_at: T0,
                reason: RevocationReason::KeyCompromise,
            }],
        })
        .unwrap();
    let path = dir.path().join("ca.crl");
    std::fs::write(&path, crl.pem()).unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, to_pem("CERTIFICATE", &c.ca)).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["crl", "-noout", "-text", "-in"])
        .arg(&path)
        .arg("-CAfile")
        .arg(&ca_path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("verify OK"), "{text}");
    assert!(
        text.contains("X509v3 CRL Number") && text.contains("300"),
        "{text}"
    );
    assert!(
        text.contains("4ABC01") && text.contains("Key Compromise"),
        "{text}"
    );
    let summary = summarize_crl(crl.der()).unwrap();
    assert_eq!(summary.number, Some(300));
    assert_eq!(summary.revoked[0].reason, RevocationReason::KeyCompromise);

    assert!(matches!(
        ca.issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(401),
            number: 1,
            revoked: vec![]
        }),
        Err(Error::CrlValidityTooLong { .. })
    ));
}

#[test]
fn pkcs12_is_read_by_openssl() {
    let c = cas();
    let k = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let cert = CaSigner::new(&c.ca, &c.ca_key, T0)
        .unwrap()
        .issue(
            &req(Profile::AgencySeal, agency("VPCP", "000.00.00.G22"), 365),
            &pubkey(&k),
        )
        .unwrap();
    let pass = Passphrase::new("pkcs12-passphrase".into());
    for compat in [Pkcs12Compat::Modern, Pkcs12Compat::Legacy3Des] {
        let p12 = export_pkcs12(
            &k,
            cert.der(),
            &[c.ca.clone(), c.root.clone()],
            "VPCP seal",
            &pass,
            compat,
        )
        .unwrap();
        let parsed = openssl::pkcs12::Pkcs12::from_der(&p12)
            .unwrap()
            .parse2("pkcs12-passphrase")
            .unwrap();
        assert_eq!(parsed.cert.unwrap().to_der().unwrap(), cert.der());
        assert_eq!(parsed.ca.unwrap().len(), 2);
        assert_eq!(
            parsed.pkey.unwrap().public_key_to_der().unwrap(),
            k.public_key_der()
        );
        assert!(
            openssl::pkcs12::Pkcs12::from_der(&p12)
                .unwrap()
                .parse2("wrong")
                .is_err()
        );
    }
    assert!(matches!(
        export_pkcs12(&key(), cert.der(), &[], "x", &pass, Pkcs12Compat::Modern),
        Err(Error::KeyMismatch)
    ));
}

#[test]
fn encrypted_key_is_read_by_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let k = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let pem = k
        .to_encrypted_pem(&Passphrase::new("key-passphrase".into()))
        .unwrap();
    let path = dir.path().join("k.pem");
    std::fs::write(&path, pem.as_bytes()).unwrap();
    let out = axis_testkit::openssl_ok([
        "pkey".as_ref(),
        "-pubout".as_ref(),
        "-outform".as_ref(),
        "DER".as_ref(),
        "-passin".as_ref(),
        "pass:key-passphrase".as_ref(),
        "-in".as_ref(),
        path.as_os_str(),
    ]);
    assert_eq!(out, k.public_key_der());
    let bad = std::process::Command::new("openssl")
        .args(["pkey", "-noout", "-passin", "pass:wrong", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    // And an openssl-encrypted key is read by us.
    let theirs = dir.path().join("theirs.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-aes-256-cbc",
            "-pass",
            "pass:their-passphrase",
            "-out",
        ])
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&theirs).unwrap();
    PrivateKey::from_encrypted_pem(&text, &Passphrase::new("their-passphrase".into())).unwrap();
    assert!(matches!(
        PrivateKey::from_encrypted_pem(&text, &Passphrase::new("nope".into())),
        Err(Error::WrongPassphrase)
    ));
    let plain = dir.path().join("plain.pem");
    std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(matches!(
        PrivateKey::from_encrypted_pem(
            &std::fs::read_to_string(&plain).unwrap(),
            &Passphrase::new("x".into())
        ),
        Err(Error::KeyNotEncrypted)
    ));
}
