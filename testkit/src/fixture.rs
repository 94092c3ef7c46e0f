//! A whole in-memory PKI for the signer and evidence tests: a root and an issuing CA, four
//! agencies each with a seal and an encryption certificate (RSA and EC mixed), personal signers,
//! one revoked personal signer, and the axis log signer. Built once per test binary.

use std::sync::OnceLock;

use axis_pki::*;
use axis_signer::{Organization, RecipientKey, Signer};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub use crate::pki::T0;
use crate::pki::{Cas, encryption_key, req, root_and_ca, serial_of};

/// When documents are signed.
pub const SIGNED: OffsetDateTime = datetime!(2026-01-02 9:00 UTC);
/// When they are verified.
pub const NOW: OffsetDateTime = datetime!(2026-01-03 10:00 UTC);

/// An agency of the fixture: its seal and its encryption certificate, with their keys.
pub struct Agency {
    /// Its identifier.
    pub id: AgencyId,
    /// Its official name.
    pub name: &'static str,
    /// The seal's key.
    pub seal_key: PrivateKey,
    /// The seal certificate, verified at [`SIGNED`].
    pub seal: VerifiedCert,
    /// The encryption certificate, verified at [`SIGNED`].
    pub enc: VerifiedCert,
    /// The encryption key, unencrypted PKCS#8.
    pub enc_pkcs8: Zeroizing<Vec<u8>>,
}

impl Agency {
    /// Its decryption key.
    pub fn recipient_key(&self) -> RecipientKey {
        RecipientKey::from_pkcs8_der(self.enc_pkcs8.clone(), &self.enc).unwrap()
    }
    /// Its seal, to sign with.
    pub fn seal_signer(&self) -> Signer<'_> {
        Signer::new(&self.seal_key, &self.seal).unwrap()
    }
    /// As a manifest names it.
    pub fn org(&self) -> Organization {
        Organization::new(self.id.clone(), self.name)
    }
    /// The encryption key as unencrypted PKCS#8 PEM, for `openssl cms -decrypt -inkey`.
    pub fn enc_key_pem(&self) -> String {
        to_pem("PRIVATE KEY", &self.enc_pkcs8)
    }
}

/// A signing key with its verified certificate (a person, or the log signer).
pub struct Person {
    /// The key.
    pub key: PrivateKey,
    /// The certificate, verified at [`SIGNED`] (or before a revocation).
    pub cert: VerifiedCert,
}

impl Person {
    /// To sign with.
    pub fn signer(&self) -> Signer<'_> {
        Signer::new(&self.key, &self.cert).unwrap()
    }
}

/// The whole PKI; [`fixture`] builds it once.
pub struct Fixture {
    /// The root certificate (DER).
    pub root: Vec<u8>,
    /// The root's key, to issue more CAs ([`other_issuing_ca`]).
    pub root_key: PrivateKey,
    /// The issuing CA certificate (DER).
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

fn subject(name: &str, id: &AgencyId) -> Subject {
    let mut s = Subject::new(name);
    s.agency_id = Some(id.clone());
    s
}

/// The fixture, built on first use.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

fn build() -> Fixture {
    let Cas {
        root,
        root_key,
        ca,
        ca_key,
    } = root_and_ca("Axis Test Root", "CA for state agencies", 1825);
    let root_ca = CaSigner::new(&root, &root_key, T0).unwrap();
    let issuing = CaSigner::new(&ca, &ca_key, T0).unwrap();
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
        vec![root.clone()],
        vec![ca.clone()],
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
    let revoked_serial = serial_of(&rder);
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
    let store = TrustStore::new(vec![root.clone()], vec![ca.clone()], crls.clone()).unwrap();

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
    let person = |store: &TrustStore, der: &[u8], profile, key| Person {
        cert: store.verify(der, profile, SIGNED).unwrap(),
        key,
    };
    Fixture {
        person: person(&store, &pder, Profile::PersonalSigner, pk),
        person_b: person(&store, &bder, Profile::PersonalSigner, bk),
        revoked: person(&store_before, &rder, Profile::PersonalSigner, rk),
        log: person(&store, &log_der, Profile::AxisLogSigner, log_key),
        root,
        root_key,
        ca,
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
    agencies(n, |i| format!("000.{:02}.00.H99", i % 100), |i| i % 2 == 0)
}

/// `n` distinct recipients of a broadcast (`000.00.<i / 100>.H<i % 100>`, up to 10,000), every
/// key P-256 (quick to make): what a delivery costs as the recipients grow.
pub fn broadcast_agencies(n: usize) -> Vec<Agency> {
    agencies(
        n,
        |i| format!("000.00.{:02}.H{:02}", i / 100 % 100, i % 100),
        |_| false,
    )
}

/// `n` agencies named by `id`, with an RSA encryption key where `rsa`.
fn agencies(n: usize, id: impl Fn(usize) -> String, rsa: impl Fn(usize) -> bool) -> Vec<Agency> {
    let f = fixture();
    let issuing = CaSigner::new(&f.ca, &f.ca_key, T0).unwrap();
    (0..n)
        .map(|i| {
            let id = AgencyId::parse(&id(i)).unwrap();
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
            let (enc_pkcs8, enc_pub) = encryption_key(rsa(i));
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

/// Another issuing CA under the fixture's root (valid from [`T0`] for `days`), with its key: a
/// CA that none of the fixture's certificates chain through.
pub fn other_issuing_ca(name: &str, days: i64) -> (Vec<u8>, PrivateKey) {
    let f = fixture();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let der = CaSigner::new(&f.root, &f.root_key, T0)
        .unwrap()
        .issue(
            &req(Profile::IssuingCa, Subject::new(name), days),
            &PublicKey::from_spki_der(key.public_key_der()).unwrap(),
        )
        .unwrap()
        .der()
        .to_vec();
    (der, key)
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
    let crls = vec![f.crls[0].clone(), ca_crl(2, this_update, 30, revoked)];
    let store = TrustStore::new(vec![f.root.clone()], vec![f.ca.clone()], crls.clone()).unwrap();
    (store, crls)
}

/// A CRL of the issuing CA: `number`, issued at `this_update`, good for `days`, listing `revoked`
/// (the fixture's own CRL is number 1 and lists the revoked person).
pub fn ca_crl(
    number: u64,
    this_update: OffsetDateTime,
    days: i64,
    revoked: Vec<RevokedEntry>,
) -> Vec<u8> {
    let f = fixture();
    CaSigner::new(&f.ca, &f.ca_key, T0)
        .unwrap()
        .issue_crl(&CrlRequest {
            this_update,
            next_update: this_update + Duration::days(days),
            number,
            revoked,
        })
        .unwrap()
        .der()
        .to_vec()
}
