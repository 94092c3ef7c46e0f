//! Chain verification, table-driven: the valid case passes and every broken variant fails with
//! its own error. Certificates the issuing API refuses to make (CA:FALSE issuers, wrong key
//! usage, malformed agency ids…) are crafted directly with rcgen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::*;
use axis_testkit::pki::*;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyIdMethod, KeyUsagePurpose,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn crl(ca_der: &[u8], ca_key: &PrivateKey, revoked: Vec<RevokedEntry>, days: i64) -> Vec<u8> {
    CaSigner::new(ca_der, ca_key, T0)
        .unwrap()
        .issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(days),
            number: 1,
            revoked,
        })
        .unwrap()
        .der()
        .to_vec()
}

/// Root → issuing CA → agency seal for 000.00.00.G22, with current CRLs from both CAs.
struct Pki {
    root: Vec<u8>,
    root_key: PrivateKey,
    ca: Vec<u8>,
    ca_key: PrivateKey,
    seal: Vec<u8>,
    seal_key: PrivateKey,
}

impl Pki {
    fn new() -> Self {
        Self::named("Axis Test Root", "CA for state agencies")
    }

    fn named(root_name: &str, ca_name: &str) -> Self {
        Self::under(&PolicyArc::default(), root_name, ca_name)
    }

    /// Root → issuing CA → seal, in a PKI whose policy arc is `arc`.
    fn under(arc: &PolicyArc, root_name: &str, ca_name: &str) -> Self {
        let Cas {
            root,
            root_key,
            ca,
            ca_key,
        } = root_and_ca_under(arc, root_name, ca_name, 1825);
        let seal_key = key();
        let seal = CaSigner::new(&ca, &ca_key, T0)
            .unwrap()
            .issue(
                &req(
                    Profile::AgencySeal,
                    agency("Văn phòng Chính phủ", "000.00.00.G22"),
                    365,
                ),
                &pubkey(&seal_key),
            )
            .unwrap()
            .der()
            .to_vec();
        Pki {
            root,
            root_key,
            ca,
            ca_key,
            seal,
            seal_key,
        }
    }

    fn ca_signer(&self) -> CaSigner<'_> {
        CaSigner::new(&self.ca, &self.ca_key, T0).unwrap()
    }

    fn root_crl(&self) -> Vec<u8> {
        crl(&self.root, &self.root_key, vec![], 30)
    }

    fn ca_crl(&self, revoked: Vec<RevokedEntry>) -> Vec<u8> {
        crl(&self.ca, &self.ca_key, revoked, 7)
    }

    fn store(&self) -> TrustStore {
        self.store_with(vec![self.root_crl(), self.ca_crl(vec![])])
    }

    fn store_with(&self, crls: Vec<Vec<u8>>) -> TrustStore {
        TrustStore::new(vec![self.root.clone()], vec![self.ca.clone()], crls).unwrap()
    }

    fn issue(&self, profile: Profile, subject: Subject) -> (Vec<u8>, PrivateKey) {
        let k = key();
        let der = self
            .ca_signer()
            .issue(&req(profile, subject, 365), &pubkey(&k))
            .unwrap()
            .der()
            .to_vec();
        (der, k)
    }
}

// ----- crafting certificates the issuing API refuses to make -----

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 128);
    let mut v = vec![tag, content.len() as u8];
    v.extend_from_slice(content);
    v
}

fn policy_ext(profile: Profile) -> CustomExtension {
    policies_ext(&[profile.policy_oid(&PolicyArc::default())])
}

/// certificatePolicies with the given dotted OIDs (OpenSSL encodes them).
fn policies_ext(oids: &[String]) -> CustomExtension {
    let mut infos = Vec::new();
    for dotted in oids {
        let oid = openssl::asn1::Asn1Object::from_str(dotted).unwrap();
        infos.extend(tlv(0x30, &tlv(0x06, oid.as_slice())));
    }
    CustomExtension::from_oid_content(&[2, 5, 29, 32], tlv(0x30, &infos))
}

fn dn(cn: &str, agency_id: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    if let Some(id) = agency_id {
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 97]), id);
    }
    dn.push(DnType::CommonName, cn);
    dn
}

/// Leaf-like parameters: seal key usage and policy unless the caller changes them.
fn params(cn: &str, agency_id: Option<&str>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.not_before = T0;
    p.not_after = T0 + Duration::days(365);
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x11, 0x22, 0x33]));
    p.distinguished_name = dn(cn, agency_id);
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    p.custom_extensions = vec![policy_ext(Profile::AgencySeal)];
    p
}

fn ca_params(cn: &str, path_len: Option<u8>) -> CertificateParams {
    let mut p = params(cn, None);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.custom_extensions = vec![policy_ext(Profile::IssuingCa)];
    p
}

fn sign(
    p: &CertificateParams,
    subject: &PrivateKey,
    issuer_der: &[u8],
    issuer: &PrivateKey,
) -> Vec<u8> {
    let issuer = Issuer::from_ca_cert_der(&issuer_der.to_vec().into(), issuer).unwrap();
    p.signed_by(subject, &issuer).unwrap().der().to_vec()
}

/// A CRL from a crafted CA (bypasses CaSigner's profile check).
fn crafted_crl(issuer_der: &[u8], issuer_key: &PrivateKey) -> Vec<u8> {
    let issuer = Issuer::from_ca_cert_der(&issuer_der.to_vec().into(), issuer_key).unwrap();
    rcgen::CertificateRevocationListParams {
        this_update: T0,
        next_update: T0 + Duration::days(7),
        crl_number: rcgen::SerialNumber::from_slice(&[1]),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap()
    .der()
    .to_vec()
}

#[track_caller]
fn check(store: &TrustStore, leaf: &[u8], profile: Profile, at: OffsetDateTime, expected: &str) {
    match store.verify(leaf, profile, at) {
        Ok(v) => assert_eq!(expected, "ok", "verified, but expected {expected}: {v:?}"),
        Err(e) => {
            let got = format!("{e:?}");
            assert!(
                got.starts_with(expected),
                "expected {expected}, got {got} ({e})"
            );
        }
    }
}

const DAY1: OffsetDateTime = datetime!(2026-01-02 0:00 UTC);

#[test]
fn valid_seal_verifies_with_agency_and_chain() {
    let pki = Pki::new();
    let v = pki
        .store()
        .verify(&pki.seal, Profile::AgencySeal, DAY1)
        .unwrap();
    assert_eq!(v.agency_id().unwrap().as_str(), "000.00.00.G22");
    assert_eq!(v.profile(), Profile::AgencySeal);
    assert_eq!(v.common_name(), Some("Văn phòng Chính phủ"));
    assert_eq!(v.chain(), &[pki.ca.clone(), pki.root.clone()]);
    assert_eq!(v.public_key_der(), pki.seal_key.public_key_der());
    assert_eq!(
        agency_id_of(&pki.seal).unwrap().unwrap().as_str(),
        "000.00.00.G22"
    );
    assert_eq!(
        profile_of(&pki.seal, &PolicyArc::default()).unwrap(),
        Some(Profile::AgencySeal)
    );
    assert_eq!(
        pki.store().profile_of(&pki.seal).unwrap(),
        Some(Profile::AgencySeal)
    );
}

#[test]
fn every_end_entity_profile_verifies_for_itself_only() {
    let pki = Pki::new();
    let mut person = agency("Nguyễn Văn A", "000.00.00.G22");
    person.title = Some("Phó Chủ nhiệm".into());
    let mut server = Subject::new("axis.example.vn");
    server.dns_names = vec!["axis.example.vn".into()];
    let issued = [
        (Profile::PersonalSigner, person),
        (
            Profile::AgencyEncryption,
            agency("UBND tỉnh Nghệ An", "000.00.00.H41"),
        ),
        (
            Profile::AgencyTlsClient,
            agency("UBND tỉnh Nghệ An", "000.00.00.H41"),
        ),
        (Profile::AxisServerTls, server),
        (Profile::AxisLogSigner, Subject::new("Axis log signer")),
        (Profile::AxisOperator, Subject::new("Trần Thị B")),
    ]
    .map(|(p, s)| (p, pki.issue(p, s).0));
    let store = pki.store();
    for (profile, der) in &issued {
        for other in Profile::ALL {
            let r = store.verify(der, other, DAY1);
            if other == *profile {
                r.unwrap();
            } else {
                assert!(
                    matches!(r, Err(Error::WrongProfile { .. })),
                    "{profile} verified as {other}: {r:?}"
                );
            }
        }
    }
    // CA certificates verify for their own profiles too.
    check(&store, &pki.ca, Profile::IssuingCa, DAY1, "ok");
    check(&store, &pki.root, Profile::RootCa, DAY1, "ok");
}

#[test]
fn time_window() {
    let pki = Pki::new();
    let store = pki.store();
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        T0 - Duration::seconds(1),
        "NotYetValid { depth: 0",
    );
    // Past the leaf's end (CRLs are refreshed so the failure is the certificate's own).
    let late = T0 + Duration::days(366);
    let fresh = |der: &[u8], k: &PrivateKey| {
        CaSigner::new(der, k, T0)
            .unwrap()
            .issue_crl(&CrlRequest {
                this_update: late - Duration::days(1),
                next_update: late + Duration::days(1),
                number: 2,
                revoked: vec![],
            })
            .unwrap()
            .der()
            .to_vec()
    };
    let store = pki.store_with(vec![
        fresh(&pki.root, &pki.root_key),
        fresh(&pki.ca, &pki.ca_key),
    ]);
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        late,
        "Expired { depth: 0",
    );
    // Messages print times as administrators and openssl do.
    let msg = store
        .verify(&pki.seal, Profile::AgencySeal, late)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("expired at 2027-01-01T00:00:00Z"), "{msg}");
}

#[test]
fn wrong_profile_key_usage_and_eku() {
    let pki = Pki::new();
    let store = pki.store();
    check(
        &store,
        &pki.seal,
        Profile::PersonalSigner,
        DAY1,
        "WrongProfile",
    );

    // Seal policy but only digitalSignature.
    let k = key();
    let mut p = params("Bad KU", Some("000.00.00.G22"));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let der = sign(&p, &k, &pki.ca, &pki.ca_key);
    check(&store, &der, Profile::AgencySeal, DAY1, "KeyUsageMismatch");

    // TLS client policy and key usage, but no clientAuth EKU.
    let mut p = params("Bad EKU", Some("000.00.00.G22"));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.custom_extensions = vec![policy_ext(Profile::AgencyTlsClient)];
    let der = sign(&p, &k, &pki.ca, &pki.ca_key);
    check(
        &store,
        &der,
        Profile::AgencyTlsClient,
        DAY1,
        "ExtendedKeyUsageMismatch",
    );

    // Extra EKU (serverAuth) on a client certificate.
    p.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let der = sign(&p, &k, &pki.ca, &pki.ca_key);
    check(
        &store,
        &der,
        Profile::AgencyTlsClient,
        DAY1,
        "ExtendedKeyUsageMismatch",
    );

    // No Axis policy at all.
    let mut p = params("Foreign", Some("000.00.00.G22"));
    p.custom_extensions.clear();
    let der = sign(&p, &k, &pki.ca, &pki.ca_key);
    check(&store, &der, Profile::AgencySeal, DAY1, "ProfileMissing");

    // A leaf claiming the seal profile with CA:TRUE.
    let mut p = params("CA seal", Some("000.00.00.G22"));
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let der = sign(&p, &k, &pki.ca, &pki.ca_key);
    check(&store, &der, Profile::AgencySeal, DAY1, "CaFlagMismatch");
}

#[test]
fn issuer_constraints() {
    let pki = Pki::new();

    // A certificate "issued" by the seal (CA:FALSE).
    let k = key();
    let der = sign(
        &params("Under a seal", Some("000.00.00.G22")),
        &k,
        &pki.seal,
        &pki.seal_key,
    );
    let store = TrustStore::new(
        vec![pki.root.clone()],
        vec![pki.ca.clone(), pki.seal.clone()],
        vec![pki.root_crl(), pki.ca_crl(vec![])],
    )
    .unwrap();
    check(
        &store,
        &der,
        Profile::AgencySeal,
        DAY1,
        "IssuerNotCa { depth: 1",
    );

    // A sub-CA under the issuing CA (pathLen 0) and a leaf under it.
    let sub_key = key();
    let sub = sign(&ca_params("Sub CA", None), &sub_key, &pki.ca, &pki.ca_key);
    let leaf = sign(
        &params("Too deep", Some("000.00.00.G22")),
        &k,
        &sub,
        &sub_key,
    );
    let store = TrustStore::new(
        vec![pki.root.clone()],
        vec![pki.ca.clone(), sub.clone()],
        vec![
            pki.root_crl(),
            pki.ca_crl(vec![]),
            crafted_crl(&sub, &sub_key),
        ],
    )
    .unwrap();
    check(
        &store,
        &leaf,
        Profile::AgencySeal,
        DAY1,
        "PathLenExceeded { depth: 2, path_len: 0",
    );

    // Five certificates: beyond the chain budget whatever the constraints say.
    let root_key = key();
    let mut root_p = ca_params("Deep Root", None);
    root_p.custom_extensions = vec![policy_ext(Profile::RootCa)];
    let root = root_p.self_signed(&root_key).unwrap().der().to_vec();
    let mut prev = (root.clone(), root_key);
    let mut inter = Vec::new();
    for i in 0..3 {
        let k = key();
        let c = sign(
            &ca_params(&format!("Level {i}"), None),
            &k,
            &prev.0,
            &prev.1,
        );
        inter.push(c.clone());
        prev = (c, k);
    }
    let leaf = sign(
        &params("Deep leaf", Some("000.00.00.G22")),
        &k,
        &prev.0,
        &prev.1,
    );
    let store = TrustStore::new(vec![root], inter, vec![]).unwrap();
    check(&store, &leaf, Profile::AgencySeal, DAY1, "ChainTooLong");
}

#[test]
fn unknown_issuer_and_bad_signature() {
    let pki = Pki::new();
    let store = pki.store();
    let other = Pki::named("Other Root", "Other CA");
    check(
        &store,
        &other.seal,
        Profile::AgencySeal,
        DAY1,
        "UnknownIssuer { depth: 0",
    );

    // An impostor CA with the same name as ours signs a seal: the name matches, the key does not.
    let impostor = Pki::named("Axis Test Root", "CA for state agencies");
    check(
        &store,
        &impostor.seal,
        Profile::AgencySeal,
        DAY1,
        "BadSignature { depth: 0",
    );

    // One flipped bit in the signature.
    let mut tampered = pki.seal.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    check(
        &store,
        &tampered,
        Profile::AgencySeal,
        DAY1,
        "BadSignature { depth: 0",
    );

    // Garbage and oversized input.
    check(
        &store,
        b"not a certificate",
        Profile::AgencySeal,
        DAY1,
        "CertificateMalformed",
    );
    check(
        &store,
        &vec![0x30; MAX_CERT_DER_LEN + 1],
        Profile::AgencySeal,
        DAY1,
        "CertificateTooLarge",
    );
}

#[test]
fn unknown_critical_extension() {
    let pki = Pki::new();
    let k = key();
    let mut p = params("Critical", Some("000.00.00.G22"));
    let mut ext = CustomExtension::from_oid_content(&[1, 2, 3, 4], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions.push(ext);
    let der = sign(&p, &k, &pki.ca, &pki.ca_key);
    check(
        &pki.store(),
        &der,
        Profile::AgencySeal,
        DAY1,
        "UnsupportedCriticalExtension { depth: 0",
    );
}

#[test]
fn revocation_fails_closed() {
    let pki = Pki::new();
    let serial = serial_of(&pki.seal);
    let revoked = vec![RevokedEntry {
        serial: serial.clone(),
        revoked_at: T0 + Duration::hours(1),
        reason: RevocationReason::KeyCompromise,
    }];
    let store = pki.store_with(vec![pki.root_crl(), pki.ca_crl(revoked)]);
    match store.verify(&pki.seal, Profile::AgencySeal, DAY1) {
        Err(Error::Revoked {
            depth: 0,
            serial: s,
            reason: RevocationReason::KeyCompromise,
            ..
        }) => assert_eq!(s, serial),
        other => panic!("expected Revoked, got {other:?}"),
    }

    // The issuing CA revoked in the root's CRL.
    let ca_serial = serial_of(&pki.ca);
    let root_crl = crl(
        &pki.root,
        &pki.root_key,
        vec![RevokedEntry {
            serial: ca_serial,
            revoked_at: T0,
            reason: RevocationReason::CaCompromise,
        }],
        30,
    );
    let store = pki.store_with(vec![root_crl, pki.ca_crl(vec![])]);
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "Revoked { depth: 1",
    );

    // No CRL from the issuing CA, or none from the root.
    check(
        &pki.store_with(vec![pki.root_crl()]),
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "CrlMissing { depth: 0",
    );
    check(
        &pki.store_with(vec![pki.ca_crl(vec![])]),
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "CrlMissing { depth: 1",
    );

    // Past nextUpdate (the CA CRL lasts 7 days, the certificate a year).
    check(
        &pki.store(),
        &pki.seal,
        Profile::AgencySeal,
        T0 + Duration::days(8),
        "CrlStale { depth: 0",
    );
    // A CRL whose thisUpdate is after the verification time says nothing about that time.
    let future = CaSigner::new(&pki.ca, &pki.ca_key, T0)
        .unwrap()
        .issue_crl(&CrlRequest {
            this_update: T0 + Duration::days(2),
            next_update: T0 + Duration::days(9),
            number: 2,
            revoked: vec![],
        })
        .unwrap();
    check(
        &pki.store_with(vec![pki.root_crl(), future.der().to_vec()]),
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "CrlNotYetValid { depth: 0",
    );

    // A CRL from another CA only: missing. A CRL in our CA's name signed by another key: bad.
    let other = Pki::named("Other Root", "Other CA");
    check(
        &pki.store_with(vec![pki.root_crl(), other.ca_crl(vec![])]),
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "CrlMissing { depth: 0",
    );
    let impostor = Pki::named("Axis Test Root", "CA for state agencies");
    check(
        &pki.store_with(vec![pki.root_crl(), impostor.ca_crl(vec![])]),
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "CrlBadSignature { depth: 0",
    );
}

#[test]
fn newest_crl_wins() {
    let pki = Pki::new();
    let serial = serial_of(&pki.seal);
    let signer = pki.ca_signer();
    let mk = |number, revoked| {
        signer
            .issue_crl(&CrlRequest {
                this_update: T0,
                next_update: T0 + Duration::days(7),
                number,
                revoked,
            })
            .unwrap()
            .der()
            .to_vec()
    };
    let old = mk(1, vec![]);
    let new = mk(
        2,
        vec![RevokedEntry {
            serial,
            revoked_at: T0,
            reason: RevocationReason::Superseded,
        }],
    );
    let store = pki.store_with(vec![pki.root_crl(), old, new]);
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "Revoked { depth: 0",
    );
}

#[test]
fn agency_id_absent_or_malformed() {
    let pki = Pki::new();
    let store = pki.store();
    let k = key();
    let der = sign(&params("No id", None), &k, &pki.ca, &pki.ca_key);
    check(&store, &der, Profile::AgencySeal, DAY1, "AgencyIdMissing");
    let der = sign(
        &params("Bad id", Some("000.00.00.g22")),
        &k,
        &pki.ca,
        &pki.ca_key,
    );
    check(&store, &der, Profile::AgencySeal, DAY1, "AgencyIdMalformed");
    assert!(matches!(
        agency_id_of(&der),
        Err(Error::AgencyIdMalformed {
            source: AgencyIdError::Segment {
                segment: AgencySegment::Level1,
                ..
            }
        })
    ));
}

#[test]
fn openssl_agrees_on_good_and_revoked() {
    let pki = Pki::new();
    let (good, _) = pki.issue(
        Profile::AgencyTlsClient,
        agency("UBND tỉnh Nghệ An", "000.00.00.H41"),
    );
    let serial = serial_of(&pki.seal);
    let ca_crl = pki.ca_crl(vec![RevokedEntry {
        serial,
        revoked_at: T0,
        reason: RevocationReason::KeyCompromise,
    }]);
    let root_crl = pki.root_crl();
    let ours = pki.store_with(vec![root_crl.clone(), ca_crl.clone()]);

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, label: &str, der: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, to_pem(label, der)).unwrap();
        path
    };
    let root = write("root.pem", "CERTIFICATE", &pki.root);
    let ca = write("ca.pem", "CERTIFICATE", &pki.ca);
    let rcrl = write("root.crl", "X509 CRL", &root_crl);
    let ccrl = write("ca.crl", "X509 CRL", &ca_crl);
    let openssl_verify = |leaf: &[u8]| {
        let leaf = write("leaf.pem", "CERTIFICATE", leaf);
        let out = std::process::Command::new("openssl")
            .args(["verify", "-x509_strict", "-crl_check_all", "-attime"])
            .arg(DAY1.unix_timestamp().to_string())
            .arg("-CAfile")
            .arg(&root)
            .arg("-untrusted")
            .arg(&ca)
            .arg("-CRLfile")
            .arg(&rcrl)
            .arg("-CRLfile")
            .arg(&ccrl)
            .arg(&leaf)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = openssl_verify(&good);
    assert!(ok, "openssl rejected a good certificate: {text}");
    ours.verify(&good, Profile::AgencyTlsClient, DAY1).unwrap();
    let (ok, text) = openssl_verify(&pki.seal);
    assert!(!ok && text.contains("certificate revoked"), "{text}");
    check(&ours, &pki.seal, Profile::AgencySeal, DAY1, "Revoked");
}

#[test]
fn store_budgets() {
    let pki = Pki::new();
    assert!(matches!(
        TrustStore::new(vec![], vec![], vec![]),
        Err(Error::NoTrustAnchor)
    ));
    let many = vec![pki.root.clone(); MAX_ANCHORS + 1];
    assert!(matches!(
        TrustStore::new(many, vec![], vec![]),
        Err(Error::TooManyCertificates { .. })
    ));
    assert!(matches!(
        TrustStore::new(vec![pki.root.clone()], vec![], vec![b"junk".to_vec()]),
        Err(Error::CrlMalformed)
    ));
    let presented = vec![pki.ca.clone(); MAX_INTERMEDIATES + 1];
    assert!(matches!(
        pki.store()
            .verify_with_intermediates(&pki.seal, &presented, Profile::AgencySeal, DAY1),
        Err(Error::TooManyCertificates { .. })
    ));
}

#[test]
fn presented_intermediates_complete_the_path() {
    let pki = Pki::new();
    let store = TrustStore::new(
        vec![pki.root.clone()],
        vec![],
        vec![pki.root_crl(), pki.ca_crl(vec![])],
    )
    .unwrap();
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "UnknownIssuer { depth: 0",
    );
    store
        .verify_with_intermediates(
            &pki.seal,
            std::slice::from_ref(&pki.ca),
            Profile::AgencySeal,
            DAY1,
        )
        .unwrap();
}

/// A CRL handed in from outside (an operator publishing one): issued by a CA of the store and
/// current, or, for history, issued by one whatever the time.
#[test]
fn crls_from_outside_are_checked_for_issuer_signature_and_time() {
    let root_key = axis_testkit::pki::key();
    let root = issue_root(
        &axis_testkit::pki::req(Profile::RootCa, Subject::new("Root"), 3650),
        &root_key,
    )
    .unwrap();
    let ca_key = axis_testkit::pki::key();
    let root_signer = CaSigner::new(root.der(), &root_key, axis_testkit::pki::T0).unwrap();
    let ca = root_signer
        .issue(
            &axis_testkit::pki::req(Profile::IssuingCa, Subject::new("CA"), 1825),
            &axis_testkit::pki::pubkey(&ca_key),
        )
        .unwrap();
    let ca_signer = CaSigner::new(ca.der(), &ca_key, axis_testkit::pki::T0).unwrap();
    let store =
        TrustStore::new(vec![root.der().to_vec()], vec![ca.der().to_vec()], vec![]).unwrap();
    let crl = |signer: &CaSigner, number| {
        signer
            .issue_crl(&CrlRequest {
                this_update: axis_testkit::pki::T0,
                next_update: axis_testkit::pki::T0 + time::Duration::days(7),
                number,
                revoked: vec![],
            })
            .unwrap()
            .der()
            .to_vec()
    };
    let good = crl(&ca_signer, 5);
    let checked = store
        .check_crl(&good, axis_testkit::pki::T0 + time::Duration::days(1))
        .unwrap();
    assert_eq!((checked.number, checked.revoked), (5, 0));
    // Stale now, yet issued by the CA: refused as current, accepted as history.
    let later = axis_testkit::pki::T0 + time::Duration::days(30);
    assert!(matches!(
        store.check_crl(&good, later),
        Err(Error::CrlStale { .. })
    ));
    assert_eq!(store.check_crl_issued(&good).unwrap().number, 5);
    // Not yet valid.
    assert!(matches!(
        store.check_crl(&good, axis_testkit::pki::T0 - time::Duration::days(1)),
        Err(Error::CrlNotYetValid { .. })
    ));
    // From a CA the store does not know.
    let other_key = axis_testkit::pki::key();
    let other = issue_root(
        &axis_testkit::pki::req(Profile::RootCa, Subject::new("Other"), 3650),
        &other_key,
    )
    .unwrap();
    let foreign = crl(
        &CaSigner::new(other.der(), &other_key, axis_testkit::pki::T0).unwrap(),
        9,
    );
    assert!(matches!(
        store.check_crl_issued(&foreign),
        Err(Error::CrlMissing { .. })
    ));
    // Same name as the CA, another key.
    let impostor_key = axis_testkit::pki::key();
    let impostor = issue_root(
        &axis_testkit::pki::req(Profile::RootCa, Subject::new("CA"), 3650),
        &impostor_key,
    )
    .unwrap();
    let forged = crl(
        &CaSigner::new(impostor.der(), &impostor_key, axis_testkit::pki::T0).unwrap(),
        6,
    );
    assert!(matches!(
        store.check_crl_issued(&forged),
        Err(Error::CrlBadSignature { .. })
    ));
}

// ----- policy arcs -----

/// The dotted certificate policies OpenSSL reads from a certificate.
fn openssl_policies(der: &[u8]) -> Vec<String> {
    let text = openssl::x509::X509::from_der(der)
        .unwrap()
        .to_text()
        .unwrap();
    String::from_utf8(text)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Policy: ").map(str::to_owned))
        .collect()
}

#[test]
fn each_pki_marks_profiles_under_its_own_arc_and_verifiers_read_it_from_the_root() {
    for arc in [
        PolicyArc::default(),
        PolicyArc::parse("1.3.6.1.4.1.32473.7").unwrap(),
        // PKIs made before the arc was configurable keep verifying.
        PolicyArc::parse(AXIS_OID_ARC).unwrap(),
    ] {
        let pki = Pki::under(&arc, "Root", "CA");
        let signer = |der, key| CaSigner::new(der, key, T0).unwrap().policy_arc().clone();
        assert_eq!(signer(&pki.root, &pki.root_key), arc);
        assert_eq!(signer(&pki.ca, &pki.ca_key), arc);
        // What OpenSSL reads, independently.
        assert_eq!(openssl_policies(&pki.root), [format!("{arc}.1.1")]);
        assert_eq!(openssl_policies(&pki.ca), [format!("{arc}.1.2")]);
        assert_eq!(openssl_policies(&pki.seal), [format!("{arc}.1.3")]);
        assert_eq!(PolicyArc::of_ca(&pki.root).unwrap(), Some(arc.clone()));
        assert_eq!(PolicyArc::of_ca(&pki.ca).unwrap(), Some(arc.clone()));
        assert_eq!(PolicyArc::of_ca(&pki.seal).unwrap(), None);
        let store = pki.store();
        assert_eq!(store.policy_arcs(), std::slice::from_ref(&arc));
        assert_eq!(
            store.profile_of(&pki.seal).unwrap(),
            Some(Profile::AgencySeal)
        );
        store.verify(&pki.seal, Profile::AgencySeal, DAY1).unwrap();
        store.verify(&pki.root, Profile::RootCa, DAY1).unwrap();
        // Read under another arc, the same certificate names no profile.
        let other = PolicyArc::parse("1.3.6.1.4.1.32473.8").unwrap();
        assert_eq!(profile_of(&pki.seal, &other).unwrap(), None);
    }
}

#[test]
fn a_leaf_is_read_under_the_arc_of_the_anchor_it_chains_to() {
    let a = Pki::under(&PolicyArc::default(), "Root A", "CA A");
    let b_arc = PolicyArc::parse("1.3.6.1.4.1.32473.7").unwrap();
    let b = Pki::under(&b_arc, "Root B", "CA B");
    let store = TrustStore::new(
        vec![a.root.clone(), b.root.clone()],
        vec![a.ca.clone(), b.ca.clone()],
        vec![
            a.root_crl(),
            a.ca_crl(vec![]),
            b.root_crl(),
            b.ca_crl(vec![]),
        ],
    )
    .unwrap();
    assert_eq!(store.policy_arcs(), [PolicyArc::default(), b_arc.clone()]);
    store.verify(&a.seal, Profile::AgencySeal, DAY1).unwrap();
    store.verify(&b.seal, Profile::AgencySeal, DAY1).unwrap();

    // Under A's CA, a certificate marked with B's seal policy: the anchor is A, so it names
    // no profile of A's PKI.
    let k = key();
    let mut p = params("Wrong arc", Some("000.00.00.G22"));
    p.custom_extensions = vec![policies_ext(&[Profile::AgencySeal.policy_oid(&b_arc)])];
    let crossed = sign(&p, &k, &a.ca, &a.ca_key);
    assert_eq!(
        store.profile_of(&crossed).unwrap(),
        Some(Profile::AgencySeal)
    );
    check(
        &store,
        &crossed,
        Profile::AgencySeal,
        DAY1,
        "ProfileMissing",
    );

    // Both arcs marked, read as two different profiles: ambiguous before verification.
    p.custom_extensions = vec![policies_ext(&[
        Profile::AgencySeal.policy_oid(&PolicyArc::default()),
        Profile::PersonalSigner.policy_oid(&b_arc),
    ])];
    let both = sign(&p, &k, &a.ca, &a.ca_key);
    assert!(matches!(
        store.profile_of(&both),
        Err(Error::ProfileAmbiguous)
    ));
    // Verification reads A's arc only.
    store.verify(&both, Profile::AgencySeal, DAY1).unwrap();
}

#[test]
fn an_anchor_must_declare_exactly_one_arc() {
    let k = key();
    // No policy at all.
    let mut p = ca_params("Foreign Root", None);
    p.custom_extensions = vec![];
    let foreign = p.self_signed(&k).unwrap().der().to_vec();
    assert!(matches!(
        TrustStore::new(vec![foreign.clone()], vec![], vec![]),
        Err(Error::AnchorWithoutPolicyArc { subject }) if subject.contains("Foreign Root")
    ));
    assert_eq!(PolicyArc::of_ca(&foreign).unwrap(), None);
    assert!(matches!(
        CaSigner::new(&foreign, &k, T0),
        Err(Error::SignerNotCa)
    ));
    // Two root policies under two arcs.
    p.custom_extensions = vec![policies_ext(&[
        "2.999.1.1.1".to_owned(),
        "1.3.6.1.4.1.32473.7.1.1".to_owned(),
    ])];
    let two = p.self_signed(&k).unwrap().der().to_vec();
    assert!(matches!(
        TrustStore::new(vec![two.clone()], vec![], vec![]),
        Err(Error::ProfileAmbiguous)
    ));
    assert!(matches!(
        PolicyArc::of_ca(&two),
        Err(Error::ProfileAmbiguous)
    ));
    // `<x>.129.1.1` is not `<x>.1.1` even though its last octets are 01 01: the arc is read by
    // sub-identifier, not by byte.
    p.custom_extensions = vec![policies_ext(&["2.999.129.1".to_owned()])];
    let tricky = p.self_signed(&k).unwrap().der().to_vec();
    assert_eq!(
        openssl_policies(&tricky),
        ["2.999.129.1"],
        "the OID is what the test thinks"
    );
    assert_eq!(PolicyArc::of_ca(&tricky).unwrap(), None);
    // A CA with an end-entity policy of its own arc beside the CA one is refused as a signer.
    p.custom_extensions = vec![policies_ext(&[
        "2.999.1.1.1".to_owned(),
        "2.999.1.1.3".to_owned(),
    ])];
    let mixed = p.self_signed(&k).unwrap().der().to_vec();
    assert!(CaSigner::new(&mixed, &k, T0).is_err());
}

#[test]
fn a_remembered_chain_answers_only_within_its_times_and_its_store() {
    let pki = Pki::new();
    let store = pki.store();
    let first = store.verify(&pki.seal, Profile::AgencySeal, DAY1).unwrap();
    assert_eq!(store.cached_chains(), 1);
    assert_eq!(
        store.chain_cache_hits(),
        0,
        "the first verification is in full"
    );
    // Answered from memory (not verified again): the same identity, and nothing more
    // remembered.
    let again = store
        .verify(&pki.seal, Profile::AgencySeal, DAY1 + Duration::days(1))
        .unwrap();
    assert_eq!(
        store.chain_cache_hits(),
        1,
        "the second is answered from memory"
    );
    assert_eq!(again.der(), first.der());
    assert_eq!(again.chain(), first.chain());
    assert_eq!(again.agency_id(), first.agency_id());
    assert_eq!(store.cached_chains(), 1);

    // Times outside the interval every check held for verify in full and fail as before:
    // the issuing CA's CRL is stale after 7 days, the certificates start at T0.
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        T0 + Duration::days(8),
        "CrlStale { depth: 0",
    );
    assert_eq!(store.chain_cache_hits(), 1, "a time outside is not a hit");
    check(
        &store,
        &pki.seal,
        Profile::AgencySeal,
        T0 - Duration::seconds(1),
        "NotYetValid { depth: 0",
    );
    // The key holds the profile and the presented certificates.
    check(
        &store,
        &pki.seal,
        Profile::PersonalSigner,
        DAY1,
        "WrongProfile",
    );
    store
        .verify_with_intermediates(
            &pki.seal,
            std::slice::from_ref(&pki.ca),
            Profile::AgencySeal,
            DAY1,
        )
        .unwrap();
    assert_eq!(store.cached_chains(), 2);
    let (stranger, _) = Pki::named("Other Root", "Other CA")
        .issue(Profile::AgencySeal, agency("Cơ quan khác", "000.00.00.H41"));
    check(
        &store,
        &stranger,
        Profile::AgencySeal,
        DAY1,
        "UnknownIssuer",
    );

    // A revocation arrives as a new store (a new CRL): it remembers nothing, and refuses.
    let revoked = pki.store_with(vec![
        pki.root_crl(),
        pki.ca_crl(vec![RevokedEntry {
            serial: serial_of(&pki.seal),
            revoked_at: T0 + Duration::hours(1),
            reason: RevocationReason::KeyCompromise,
        }]),
    ]);
    assert_eq!(revoked.cached_chains(), 0);
    check(
        &revoked,
        &pki.seal,
        Profile::AgencySeal,
        DAY1,
        "Revoked { depth: 0",
    );
    // Copies of a store start empty too.
    assert_eq!(store.clone().cached_chains(), 0);
    assert_eq!(store.with_crls(&[0, 1]).cached_chains(), 0);
}

#[test]
fn a_remembered_chain_keeps_no_certificate_and_answers_with_the_same_one() {
    let pki = Pki::new();
    let store = pki.store();
    // Path from the store's intermediates, then the same leaf with its CA presented.
    let full = store.verify(&pki.seal, Profile::AgencySeal, DAY1).unwrap();
    let presented = std::slice::from_ref(&pki.ca);
    let full_presented = store
        .verify_with_intermediates(&pki.seal, presented, Profile::AgencySeal, DAY1)
        .unwrap();
    assert_eq!(store.cached_chains(), 2);
    let bytes = store.cached_chain_bytes() / 2;
    // What an entry was before: the verified certificate whole, so the leaf and its path too.
    let copies: usize = std::iter::once(full.der())
        .chain(full.chain().iter().map(Vec::as_slice))
        .map(|d| d.len() + std::mem::size_of::<Vec<u8>>())
        .sum();
    println!(
        "one remembered chain: {bytes} octets (a copy of the leaf and its path alone: {copies})"
    );
    assert!(
        bytes < copies,
        "an entry ({bytes} octets) holds less than the certificates it was verified from \
         ({copies}): none of them"
    );

    // Answered from memory, each with the path it was verified with.
    for (presented, first) in [(&[][..], &full), (presented, &full_presented)] {
        let again = store
            .verify_with_intermediates(&pki.seal, presented, Profile::AgencySeal, DAY1)
            .unwrap();
        assert_eq!(again.der(), first.der());
        assert_eq!(again.chain(), first.chain());
        assert_eq!(again.chain().len(), 2, "the issuing CA, then the root");
        assert_eq!(again.chain()[0], pki.ca);
        assert_eq!(again.profile(), first.profile());
        assert_eq!(again.agency_id(), first.agency_id());
        assert_eq!(again.serial(), first.serial());
        assert_eq!(again.subject(), first.subject());
        assert_eq!(again.common_name(), first.common_name());
        assert_eq!(again.title(), first.title());
        assert_eq!(again.key_algorithm(), first.key_algorithm());
        assert_eq!(again.public_key_der(), first.public_key_der());
        assert_eq!(again.not_before(), first.not_before());
        assert_eq!(again.not_after(), first.not_after());
    }
    assert_eq!(store.chain_cache_hits(), 2);
    assert_eq!(store.cached_chains(), 2);
}

#[test]
fn the_memory_of_verified_chains_is_bounded() {
    let pki = Pki::new();
    let store = pki.store();
    // The same leaf presented with its CA and different bytes after it each time (never read:
    // the CA completes the path first) is a new key.
    for i in 0..MAX_CACHED_CHAINS + 3 {
        let filler = vec![0x30, 0x02, (i % 200) as u8, (i / 200) as u8];
        store
            .verify_with_intermediates(
                &pki.seal,
                &[pki.ca.clone(), filler],
                Profile::AgencySeal,
                DAY1,
            )
            .unwrap();
    }
    assert_eq!(store.cached_chains(), MAX_CACHED_CHAINS);
}
