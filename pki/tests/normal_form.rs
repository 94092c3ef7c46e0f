//! The one byte form of certificates and CRLs: what Axis's PKI writes passes, and each change
//! outside the signed part that a lenient parser (and the signature) would let through is
//! refused, naming the part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::*;
use axis_testkit::pki::*;
use time::Duration;

fn cas_and_crl() -> (Cas, Vec<u8>) {
    let cas = root_and_ca("Root", "CA", 365);
    let crl = CaSigner::new(&cas.ca, &cas.ca_key, T0)
        .unwrap()
        .issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(7),
            number: 1,
            revoked: vec![],
        })
        .unwrap()
        .der()
        .to_vec();
    (cas, crl)
}

/// The offset of the outer signatureAlgorithm: after the outer header and the signed part.
fn outer_algorithm_at(der: &[u8]) -> usize {
    let header = |at: usize| -> (usize, usize) {
        let first = der[at + 1];
        if first < 0x80 {
            (2, usize::from(first))
        } else {
            let n = usize::from(first & 0x7f);
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |a, &b| (a << 8) | usize::from(b));
            (2 + n, len)
        }
    };
    let (outer_header, _) = header(0);
    let (tbs_header, tbs_len) = header(outer_header);
    outer_header + tbs_header + tbs_len
}

#[track_caller]
fn refused(result: Result<(), Error>, part: &str) {
    match result {
        Err(Error::CertificateNotNormal { part: p }) | Err(Error::CrlNotNormal { part: p }) => {
            assert!(p.starts_with(part), "{p}")
        }
        other => panic!("expected {part} refused, got {other:?}"),
    }
}

#[test]
fn what_the_pki_writes_is_in_normal_form() {
    let (cas, crl) = cas_and_crl();
    check_certificate_form(&cas.root).unwrap();
    check_certificate_form(&cas.ca).unwrap();
    check_crl_form(&crl).unwrap();
}

#[test]
fn each_change_outside_the_signed_part_is_refused() {
    let (cas, crl) = cas_and_crl();
    for (der, check) in [
        (
            &cas.ca,
            check_certificate_form as fn(&[u8]) -> Result<(), Error>,
        ),
        (&crl, check_crl_form),
    ] {
        let at = outer_algorithm_at(der);
        // The outer algorithm's tag (a SET where the SEQUENCE belongs).
        let mut b = der.clone();
        b[at] = 0x31;
        refused(check(&b), "signature algorithm");
        // Its OID's last octet: another algorithm than the signed one.
        let mut b = der.clone();
        b[at + 11] ^= 0x01;
        refused(check(&b), "signature algorithm");
        // The BIT STRING's unused-bits octet (after the 12-octet ecdsa-with-SHA256 identifier).
        let bits = at + 12;
        assert_eq!(der[bits], 0x03);
        let mut b = der.clone();
        b[bits + 2] = 0x01;
        refused(check(&b), "signature value (unused bits)");
        // Trailing garbage, and a cut.
        let mut b = der.clone();
        b.push(0);
        refused(check(&b), "bytes after the end");
        refused(check(&der[..der.len() - 1]), "outer SEQUENCE");
    }
}

#[test]
fn the_high_s_twin_of_a_certificate_signature_is_refused() {
    let (cas, _) = cas_and_crl();
    let der = &cas.ca;
    let bits = outer_algorithm_at(der) + 12;
    let sig_start = bits + 3; // tag, one-octet length, unused bits
    let sig = &der[sig_start..];
    assert!(ecdsa_p256_is_normal(sig));
    // (r, n − s), then the BIT STRING and the outer SEQUENCE around it.
    let twin = axis_testkit::cms_parts::ecdsa_twin(sig);
    let mut bits_content = vec![0];
    bits_content.extend_from_slice(&twin);
    let header_len = if der[1] < 0x80 {
        2
    } else {
        2 + usize::from(der[1] & 0x7f)
    };
    let body = [&der[header_len..bits], &der::tlv(0x03, &bits_content)].concat();
    let changed = der::tlv(0x30, &body);
    // It is still a certificate whose signature verifies under the root (OpenSSL says so)...
    let root_key = openssl::x509::X509::from_der(&cas.root)
        .unwrap()
        .public_key()
        .unwrap();
    let twin_cert = openssl::x509::X509::from_der(&changed).unwrap();
    assert!(twin_cert.verify(&root_key).unwrap());
    assert_ne!(changed, *der);
    // ...but not the one byte form.
    refused(
        check_certificate_form(&changed),
        "ECDSA signature (not strict DER with the low s)",
    );
}
