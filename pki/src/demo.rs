//! A throw-away PKI in memory (feature `demo`): what `axis-server demo` writes out for a local
//! axis, and the identities the integration tests, the SDK's tests and the benchmark use.
//!
//! Everything is issued by this crate with the real profiles: a root, an issuing "CA for state
//! agencies", the server's TLS and log-signer certificates, an operator, and for each agency
//! its TLS-client, seal, personal-signer and encryption certificates. Keys are ECDSA P-256
//! (quick to make). Nothing here touches a file or the clock: the issuance time is a parameter.
//!
//! ```
//! use axis_pki::demo::DemoPki;
//! use axis_pki::{Profile, TrustStore};
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-01-02 9:00 UTC);
//! let pki = DemoPki::new(now)?;
//! let g22 = pki.agency("000.00.00.G22", "Văn phòng Chính phủ", "Trần Văn Sơn", "Bộ trưởng")?;
//! let (root_crl, ca_crl) = pki.crls(1, &[])?;
//! let store = TrustStore::new(vec![pki.root.clone()], vec![pki.ca.clone()], vec![root_crl, ca_crl])?;
//! let seal = store.verify(&g22.seal.cert, Profile::AgencySeal, now)?;
//! assert_eq!(seal.agency_id(), Some(&g22.id));
//! # Ok::<(), axis_pki::Error>(())
//! ```

use std::net::IpAddr;

use time::{Duration, OffsetDateTime};

use crate::{
    AgencyId, CaSigner, CrlRequest, Error, IssueRequest, KeyAlgorithm, PrivateKey, Profile,
    PublicKey, RevocationReason, RevokedEntry, Serial, Subject, issue_root,
};

/// A certificate (DER) and its key.
pub struct Issued {
    /// DER certificate.
    pub cert: Vec<u8>,
    /// Its private key.
    pub key: PrivateKey,
    /// Its serial.
    pub serial: Serial,
}

/// The four certificates of an agency.
pub struct AgencyCreds {
    /// Its identifier.
    pub id: AgencyId,
    /// Its official name.
    pub name: String,
    /// Agency TLS client.
    pub tls: Issued,
    /// Agency seal.
    pub seal: Issued,
    /// Personal signer (the person with authority).
    pub personal: Issued,
    /// Agency encryption.
    pub encryption: Issued,
}

/// A root and an issuing CA, able to issue leaves and CRLs.
pub struct DemoPki {
    /// DER root certificate.
    pub root: Vec<u8>,
    /// DER issuing CA certificate.
    pub ca: Vec<u8>,
    root_key: PrivateKey,
    ca_key: PrivateKey,
    /// The time everything is issued at.
    pub now: OffsetDateTime,
}

fn p256() -> Result<PrivateKey, Error> {
    PrivateKey::generate(KeyAlgorithm::EcdsaP256)
}

impl DemoPki {
    /// A new root ("Axis Demo Root CA") and issuing CA ("CA for state agencies (demo)").
    pub fn new(now: OffsetDateTime) -> Result<Self, Error> {
        let start = now - Duration::minutes(5);
        let root_key = p256()?;
        let root = issue_root(
            &IssueRequest {
                profile: Profile::RootCa,
                subject: Subject::new("Axis Demo Root CA"),
                not_before: start,
                not_after: start + Duration::days(3650),
                serial: Serial::random()?,
            },
            &root_key,
        )?
        .der()
        .to_vec();
        let ca_key = p256()?;
        let ca = CaSigner::new(&root, &root_key, now)?
            .issue(
                &IssueRequest {
                    profile: Profile::IssuingCa,
                    subject: Subject::new("CA for state agencies (demo)"),
                    not_before: start,
                    not_after: start + Duration::days(1825),
                    serial: Serial::random()?,
                },
                &PublicKey::from_spki_der(ca_key.public_key_der())?,
            )?
            .der()
            .to_vec();
        Ok(DemoPki {
            root,
            ca,
            root_key,
            ca_key,
            now,
        })
    }

    /// Issues a leaf from the issuing CA, valid from five minutes ago for `days`.
    pub fn issue(&self, profile: Profile, subject: Subject, days: i64) -> Result<Issued, Error> {
        self.issue_between(
            profile,
            subject,
            self.now - Duration::minutes(5),
            self.now + Duration::days(days),
        )
    }

    /// Issues a leaf for a key held elsewhere (on a token), valid from five minutes ago for
    /// `days`; returns the certificate (DER).
    pub fn issue_for(
        &self,
        profile: Profile,
        subject: Subject,
        days: i64,
        public: &PublicKey,
    ) -> Result<Vec<u8>, Error> {
        Ok(CaSigner::new(&self.ca, &self.ca_key, self.now)?
            .issue(
                &IssueRequest {
                    profile,
                    subject,
                    not_before: self.now - Duration::minutes(5),
                    not_after: self.now + Duration::days(days),
                    serial: Serial::random()?,
                },
                public,
            )?
            .der()
            .to_vec())
    }

    /// The subject of the axis's TLS certificate (`localhost`, 127.0.0.1).
    pub fn server_tls_subject() -> Subject {
        let mut s = Subject::new("localhost");
        s.dns_names = vec!["localhost".into()];
        s.ip_addresses = vec![IpAddr::from([127, 0, 0, 1])];
        s
    }

    /// Issues a leaf valid between two instants (tests make expired ones).
    pub fn issue_between(
        &self,
        profile: Profile,
        subject: Subject,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Issued, Error> {
        self.issue_key_between(profile, subject, not_before, not_after, p256()?)
    }

    /// Issues a leaf for `key` (of any algorithm), valid from five minutes ago for `days`
    /// (tests give an agency an RSA encryption key this way).
    pub fn issue_with_key(
        &self,
        profile: Profile,
        subject: Subject,
        days: i64,
        key: PrivateKey,
    ) -> Result<Issued, Error> {
        self.issue_key_between(
            profile,
            subject,
            self.now - Duration::minutes(5),
            self.now + Duration::days(days),
            key,
        )
    }

    fn issue_key_between(
        &self,
        profile: Profile,
        subject: Subject,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        key: PrivateKey,
    ) -> Result<Issued, Error> {
        let serial = Serial::random()?;
        let cert = CaSigner::new(&self.ca, &self.ca_key, self.now)?
            .issue(
                &IssueRequest {
                    profile,
                    subject,
                    not_before,
                    not_after,
                    serial: serial.clone(),
                },
                &PublicKey::from_spki_der(key.public_key_der())?,
            )?
            .der()
            .to_vec();
        Ok(Issued { cert, key, serial })
    }

    /// The four certificates of an agency.
    pub fn agency(
        &self,
        id: &str,
        name: &str,
        person: &str,
        title: &str,
    ) -> Result<AgencyCreds, Error> {
        let id = AgencyId::parse(id).map_err(|source| Error::AgencyIdMalformed { source })?;
        let subject = |cn: &str| {
            let mut s = Subject::new(cn);
            s.agency_id = Some(id.clone());
            s
        };
        let mut personal = subject(person);
        personal.title = Some(title.to_owned());
        personal.organization = Some(name.to_owned());
        Ok(AgencyCreds {
            tls: self.issue(Profile::AgencyTlsClient, subject(name), 365)?,
            seal: self.issue(Profile::AgencySeal, subject(name), 365)?,
            personal: self.issue(Profile::PersonalSigner, personal, 365)?,
            encryption: self.issue(Profile::AgencyEncryption, subject(name), 365)?,
            id,
            name: name.to_owned(),
        })
    }

    /// The server's TLS certificate for `localhost` and 127.0.0.1.
    pub fn server_tls(&self) -> Result<Issued, Error> {
        self.issue(Profile::AxisServerTls, Self::server_tls_subject(), 365)
    }

    /// The log signer.
    pub fn log_signer(&self) -> Result<Issued, Error> {
        self.issue(
            Profile::AxisLogSigner,
            Subject::new("Axis log signer (demo)"),
            365,
        )
    }

    /// An operator.
    pub fn operator(&self) -> Result<Issued, Error> {
        self.issue(
            Profile::AxisOperator,
            Subject::new("Axis operator (demo)"),
            365,
        )
    }

    /// CRLs of the root and the issuing CA (in that order), the issuing CA's listing
    /// `revoked`, valid for 90 days from now.
    pub fn crls(&self, number: u64, revoked: &[Serial]) -> Result<(Vec<u8>, Vec<u8>), Error> {
        self.crls_until(number, revoked, self.now + Duration::days(90))
    }

    /// [`DemoPki::crls`] with their nextUpdate at `next_update` (a CRL about to expire).
    pub fn crls_until(
        &self,
        number: u64,
        revoked: &[Serial],
        next_update: OffsetDateTime,
    ) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let req = |revoked: Vec<RevokedEntry>| CrlRequest {
            this_update: self.now - Duration::minutes(5),
            next_update,
            number,
            revoked,
        };
        let root = CaSigner::new(&self.root, &self.root_key, self.now)?
            .issue_crl(&req(vec![]))?
            .der()
            .to_vec();
        let entries = revoked
            .iter()
            .map(|s| RevokedEntry {
                serial: s.clone(),
                revoked_at: self.now - Duration::minutes(1),
                reason: RevocationReason::KeyCompromise,
            })
            .collect();
        let ca = CaSigner::new(&self.ca, &self.ca_key, self.now)?
            .issue_crl(&req(entries))?
            .der()
            .to_vec();
        Ok((root, ca))
    }
}
