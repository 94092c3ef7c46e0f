//! Helpers shared by the PKI integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use axis_pki::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The fixed "now" of the tests: issuance starts here.
pub(crate) const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

/// A fresh P-256 key (fast; RSA paths are exercised where they matter).
pub(crate) fn key() -> PrivateKey {
    PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap()
}

/// The public half of `k`.
pub(crate) fn pubkey(k: &PrivateKey) -> PublicKey {
    PublicKey::from_spki_der(k.public_key_der()).unwrap()
}

/// A request valid from [`T0`] for `days`.
pub(crate) fn req(profile: Profile, subject: Subject, days: i64) -> IssueRequest {
    IssueRequest {
        profile,
        subject,
        not_before: T0,
        not_after: T0 + Duration::days(days),
        serial: Serial::random().unwrap(),
    }
}

/// A subject bound to an agency.
pub(crate) fn agency(name: &str, id: &str) -> Subject {
    let mut s = Subject::new(name);
    s.agency_id = Some(AgencyId::parse(id).unwrap());
    s
}

/// The serial number of a DER certificate.
pub(crate) fn serial_of(der: &[u8]) -> Serial {
    Serial::from_bytes(
        x509_parser::parse_x509_certificate(der)
            .unwrap()
            .1
            .raw_serial(),
    )
    .unwrap()
}
