//! The small PKI helpers every test repeats: the fixed issuance time, a P-256 key and its public
//! half, a request valid from [`T0`], an agency's subject, a certificate's serial, a fresh
//! encryption key pair.

use axis_pki::{
    AgencyId, CaSigner, IssueRequest, KeyAlgorithm, PolicyArc, PrivateKey, Profile, PublicKey,
    Serial, Subject, issue_root_with_arc,
};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// The fixed instant test PKIs are issued at.
pub const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

/// A fresh P-256 key (fast; RSA paths are exercised where they matter).
pub fn key() -> PrivateKey {
    PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
}

/// The public half of `k`.
pub fn pubkey(k: &PrivateKey) -> PublicKey {
    PublicKey::from_spki_der(k.public_key_der()).unwrap()
}

/// A request for `profile` valid from [`T0`] for `days`, with a random serial.
pub fn req(profile: Profile, subject: Subject, days: i64) -> IssueRequest {
    IssueRequest {
        profile,
        subject,
        not_before: T0,
        not_after: T0 + Duration::days(days),
        serial: Serial::random().unwrap(),
    }
}

/// A root and an issuing CA under it, with their keys (P-256).
pub struct Cas {
    /// The root certificate (DER).
    pub root: Vec<u8>,
    /// Its key.
    pub root_key: PrivateKey,
    /// The issuing CA certificate (DER).
    pub ca: Vec<u8>,
    /// Its key.
    pub ca_key: PrivateKey,
}

/// A root named `root_name` (ten years from [`T0`]) and an issuing CA named `ca_name` under it
/// (`ca_days` from [`T0`]), in a PKI with the default policy arc.
pub fn root_and_ca(root_name: &str, ca_name: &str, ca_days: i64) -> Cas {
    root_and_ca_under(&PolicyArc::default(), root_name, ca_name, ca_days)
}

/// As [`root_and_ca`], in a PKI whose policy arc is `arc`.
pub fn root_and_ca_under(arc: &PolicyArc, root_name: &str, ca_name: &str, ca_days: i64) -> Cas {
    let root_key = key();
    let root = issue_root_with_arc(
        &req(Profile::RootCa, Subject::new(root_name), 3650),
        arc,
        &root_key,
    )
    .unwrap()
    .der()
    .to_vec();
    let ca_key = key();
    let ca = CaSigner::new(&root, &root_key, T0)
        .unwrap()
        .issue(
            &req(Profile::IssuingCa, Subject::new(ca_name), ca_days),
            &pubkey(&ca_key),
        )
        .unwrap()
        .der()
        .to_vec();
    Cas {
        root,
        root_key,
        ca,
        ca_key,
    }
}

/// A subject named `name` bound to the agency `id`.
pub fn agency(name: &str, id: &str) -> Subject {
    let mut s = Subject::new(name);
    s.agency_id = Some(AgencyId::parse(id).unwrap());
    s
}

/// The serial number of a DER certificate.
pub fn serial_of(der: &[u8]) -> Serial {
    Serial::from_bytes(
        x509_parser::parse_x509_certificate(der)
            .unwrap()
            .1
            .raw_serial(),
    )
    .unwrap()
}

/// A fresh encryption key pair made by OpenSSL (RSA-2048 or P-256): the unencrypted PKCS#8 and
/// the public key to certify.
pub fn encryption_key(rsa: bool) -> (Zeroizing<Vec<u8>>, PublicKey) {
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

/// Any well-formed agency id (`NNN.NN.NN.LNN`), for property tests.
pub fn any_agency_id() -> impl Strategy<Value = AgencyId> {
    (
        0u16..1000,
        0u8..100,
        0u8..100,
        proptest::char::range('A', 'Z'),
        0u8..100,
    )
        .prop_map(|(a, b, c, l, d)| {
            AgencyId::parse(&format!("{a:03}.{b:02}.{c:02}.{l}{d:02}")).unwrap()
        })
}
