//! The one byte form of a CMS signature (`cms::verify_normal_form`): what `cms::sign` writes
//! passes, RSA and ECDSA; each variant that still verifies — parameters spelled out, the
//! certificate SET out of order or with one more CA, unsigned attributes, the ECDSA twin
//! `(r, n − s)` — is refused, naming the part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_signer::cms::der;
use axis_signer::*;
use axis_testkit::cms_parts::{CmsParts, ecdsa_twin};
use axis_testkit::*;

fn der_oid(dotted: &str) -> Vec<u8> {
    der::oid_content(dotted).unwrap()
}

fn verify(sig: &[u8], content: &[u8]) -> Result<cms::VerifiedSigner, Error> {
    cms::verify_normal_form(
        sig,
        content,
        SignatureRole::Submission,
        &fixture().store,
        NOW,
    )
}

#[track_caller]
fn refused(sig: &[u8], content: &[u8], part: &str) {
    // Each variant is a valid signature: plain verification accepts it...
    cms::verify(
        sig,
        content,
        SignatureRole::Submission,
        &fixture().store,
        NOW,
    )
    .unwrap();
    // ...the one byte form does not.
    match verify(sig, content) {
        Err(Error::Signature(SignatureError::NotNormalForm { part: p, .. })) => {
            assert!(p.starts_with(part), "{p}")
        }
        Err(e) => panic!("expected {part}, got {e:?}"),
        Ok(_) => panic!("expected {part}, it verified"),
    }
}

fn signed_by(agency: &Agency) -> (Vec<u8>, Vec<u8>) {
    let content = standard_package()
        .sealed
        .submission
        .header()
        .as_bytes()
        .to_vec();
    let sig = cms::sign(&content, &agency.seal_signer(), SIGNED).unwrap();
    (content, sig)
}

#[test]
fn what_cms_sign_writes_is_in_normal_form_for_rsa_and_ecdsa() {
    let f = fixture();
    for agency in [&f.a, &f.b] {
        let (content, sig) = signed_by(agency);
        verify(&sig, &content).unwrap();
        // The rebuilt form is the input: taking it apart and back gives the same bytes.
        assert_eq!(CmsParts::take_apart(&sig).put_together(), sig);
    }
}

#[test]
fn unsigned_variants_that_verify_are_refused() {
    let f = fixture();
    let (content, sig) = signed_by(&f.b); // P-256
    let base = CmsParts::take_apart(&sig);
    assert_eq!(base.certs.len(), 2);

    // The certificate SET out of DER order.
    let mut p = CmsParts::take_apart(&sig);
    p.certs.reverse();
    refused(&p.put_together(), &content, "its encoding");
    // One more certificate (the root) in the SET.
    let mut p = CmsParts::take_apart(&sig);
    p.certs.push(f.root.clone());
    p.certs.sort();
    refused(&p.put_together(), &content, "its encoding");
    // SHA-256 with NULL parameters.
    let mut p = CmsParts::take_apart(&sig);
    p.digest_alg = der::seq(&[&der::oid(&der_oid("2.16.840.1.101.3.4.2.1")), &der::null()]);
    refused(&p.put_together(), &content, "its encoding");
    // An unsigned attribute.
    let mut p = CmsParts::take_apart(&sig);
    let attr = der::seq(&[
        &der::oid(&der_oid("1.2.840.113549.1.9.2")),
        &der::cons(der::SET, &[&der::utf8("note")]),
    ]);
    p.unsigned = Some(der::cons(der::context(1), &[&attr]));
    refused(&p.put_together(), &content, "unsigned attributes");
    // The ECDSA twin (r, n − s).
    let mut p = CmsParts::take_apart(&sig);
    p.value = ecdsa_twin(&p.value);
    refused(&p.put_together(), &content, "ECDSA value");
}
