//! The claimed signing time is read from where CMS puts it, whatever the attributes around it,
//! and anything else is an error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use time::macros::datetime;

use super::*;

use crate::limits::MAX_SIGNATURE_LEN;

/// A SignedData skeleton with one SignerInfo whose signed attributes are `attrs` (each a whole
/// Attribute), and `signers` copies of that SignerInfo.
fn cms(attrs: &[Vec<u8>], signers: usize) -> Vec<u8> {
    let attrs: Vec<u8> = attrs.concat();
    let signer_info = der::seq(&[
        &der::uint(1),
        &der::seq(&[&der::seq(&[]), &der::uint(7)]),
        &der::seq(&[&der::oid(oid::SHA256)]),
        &der::tlv(der::context(0), &attrs),
        &der::seq(&[&der::oid(oid::ECDSA_WITH_SHA256)]),
        &der::octets(&[1, 2, 3]),
    ]);
    let signed_data = der::seq(&[
        &der::uint(1),
        &der::tlv(der::SET, &der::seq(&[&der::oid(oid::SHA256)])),
        &der::seq(&[&der::oid(oid::DATA)]),
        &der::tlv(der::SET, &signer_info.repeat(signers)),
    ]);
    der::seq(&[
        &der::oid(oid::SIGNED_DATA),
        &der::tlv(der::context(0), &signed_data),
    ])
}

fn attribute(oid: &[u8], value: &[u8]) -> Vec<u8> {
    der::seq(&[&der::oid(oid), &der::tlv(der::SET, value)])
}

fn signing_time(t: OffsetDateTime) -> Vec<u8> {
    attribute(oid::SIGNING_TIME, &der::cms_time(t).unwrap())
}

#[track_caller]
fn check(input: &[u8], expected: Result<OffsetDateTime, &str>) {
    let found = claimed_signing_time(input, SignatureRole::Receipt);
    match (found, expected) {
        (Ok(t), Ok(e)) => assert_eq!(t, e),
        (Err(e), Err(debug)) => assert_eq!(format!("{e:?}"), debug),
        (found, expected) => panic!("expected {expected:?}, found {found:?}"),
    }
}

#[test]
fn the_claimed_signing_time_is_read_without_verifying() {
    let utc = datetime!(2026-01-02 9:02 UTC);
    let far = datetime!(2051-03-04 5:06:07 UTC);
    let digest = attribute(oid::MESSAGE_DIGEST, &der::octets(&[0; 32]));
    let missing = "Signature(SignedAttributeMissing { role: Receipt, attribute: \"signingTime\" })";
    let malformed = "Format(Malformed { what: \"CMS SignedData\" })";
    // UTCTime (1950–2049) and GeneralizedTime (after), wherever the attribute is.
    check(&cms(&[signing_time(utc)], 1), Ok(utc));
    check(&cms(&[digest.clone(), signing_time(far)], 1), Ok(far));
    check(&cms(std::slice::from_ref(&digest), 1), Err(missing));
    // Exactly one signer; nothing after the ContentInfo.
    check(&cms(&[signing_time(utc)], 2), Err(malformed));
    check(&cms(&[signing_time(utc)], 0), Err(malformed));
    let mut longer = cms(&[signing_time(utc)], 1);
    longer.push(0);
    check(&longer, Err(malformed));
    // Two values in the attribute's SET.
    let two = attribute(
        oid::SIGNING_TIME,
        &[der::cms_time(utc).unwrap(), der::cms_time(far).unwrap()].concat(),
    );
    check(&cms(&[two], 1), Err(malformed));
    // Over the signature budget, before anything is read.
    check(
        &vec![0; MAX_SIGNATURE_LEN + 1],
        Err("Format(TooLarge { what: \"CMS SignedData\", len: 65537, max: 65536 })"),
    );
}
