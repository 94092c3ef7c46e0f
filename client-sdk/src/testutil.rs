//! A small in-memory PKI for the unit tests (P-256 everywhere, so it builds in milliseconds):
//! a root, an issuing CA, and two agencies (000.00.00.G22 sends, 000.00.00.H41 receives), each
//! with TLS, seal, personal and encryption certificates. Built once per test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::OnceLock;

use axis_pki::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// Issuance time.
pub(crate) const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
/// When the tests sign and verify.
pub(crate) const NOW: OffsetDateTime = datetime!(2026-01-03 10:00 UTC);

pub(crate) struct Cred {
    pub(crate) cert: Vec<u8>,
    pub(crate) key: PrivateKey,
}

impl Cred {
    pub(crate) fn verified(&self, profile: Profile) -> VerifiedCert {
        fixture().store.verify(&self.cert, profile, NOW).unwrap()
    }
}

pub(crate) struct Agency {
    pub(crate) id: AgencyId,
    pub(crate) name: &'static str,
    pub(crate) tls: Cred,
    pub(crate) seal: Cred,
    pub(crate) personal: Cred,
    pub(crate) encryption: Cred,
}

pub(crate) struct Fixture {
    pub(crate) root: Vec<u8>,
    pub(crate) ca: Vec<u8>,
    pub(crate) crls: Vec<Vec<u8>>,
    pub(crate) store: TrustStore,
    pub(crate) g22: Agency,
    pub(crate) h41: Agency,
}

pub(crate) fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
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

fn build() -> Fixture {
    let p256 = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let public = |k: &PrivateKey| PublicKey::from_spki_der(k.public_key_der()).unwrap();
    let root_key = p256();
    let root = issue_root(
        &req(Profile::RootCa, Subject::new("Axis Test Root"), 3650),
        &root_key,
    )
    .unwrap();
    let root_ca = CaSigner::new(root.der(), &root_key, T0).unwrap();
    let ca_key = p256();
    let ca = root_ca
        .issue(
            &req(
                Profile::IssuingCa,
                Subject::new("CA for state agencies"),
                1825,
            ),
            &public(&ca_key),
        )
        .unwrap();
    let issuing = CaSigner::new(ca.der(), &ca_key, T0).unwrap();
    let crl = |c: &CaSigner<'_>| {
        c.issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(30),
            number: 1,
            revoked: vec![],
        })
        .unwrap()
        .der()
        .to_vec()
    };
    let crls = vec![crl(&root_ca), crl(&issuing)];
    let store = TrustStore::new(
        vec![root.der().to_vec()],
        vec![ca.der().to_vec()],
        crls.clone(),
    )
    .unwrap();
    let agency = |id: &str, name: &'static str, person: &str, title: &str| {
        let id = AgencyId::parse(id).unwrap();
        let cred = |profile, cn: &str, title: Option<&str>| {
            let key = p256();
            let mut s = Subject::new(cn);
            s.agency_id = Some(id.clone());
            s.title = title.map(str::to_owned);
            let cert = issuing
                .issue(&req(profile, s, 365), &public(&key))
                .unwrap()
                .der()
                .to_vec();
            Cred { cert, key }
        };
        Agency {
            tls: cred(Profile::AgencyTlsClient, name, None),
            seal: cred(Profile::AgencySeal, name, None),
            personal: cred(Profile::PersonalSigner, person, Some(title)),
            encryption: cred(Profile::AgencyEncryption, name, None),
            id,
            name,
        }
    };
    Fixture {
        g22: agency(
            "000.00.00.G22",
            "Văn phòng Chính phủ",
            "Trần Văn Sơn",
            "Phó Chủ nhiệm",
        ),
        h41: agency(
            "000.00.00.H41",
            "UBND tỉnh Nghệ An",
            "Lê Thị Hoa",
            "Phó Chủ tịch",
        ),
        root: root.der().to_vec(),
        ca: ca.der().to_vec(),
        crls,
        store,
    }
}
