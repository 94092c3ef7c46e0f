//! The one byte form of a CMS signature (`cms::verify_normal_form`): what `cms::sign` writes
//! passes, RSA and ECDSA; each variant that still verifies — parameters spelled out, the
//! certificate SET out of order or with one more CA, unsigned attributes, the ECDSA twin
//! `(r, n − s)` — is refused, naming the part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_signer::cms::der::{self, Reader};
use axis_signer::*;
use axis_testkit::*;

/// A signature taken apart: the certificates, and the SignerInfo's fields.
struct Parts {
    certs: Vec<Vec<u8>>,
    sid: Vec<u8>,
    digest_alg: Vec<u8>,
    signed_attrs: Vec<u8>,
    sig_alg: Vec<u8>,
    value: Vec<u8>,
    unsigned: Option<Vec<u8>>,
}

fn take_apart(sig: &[u8]) -> Parts {
    let mut r = Reader::new(sig, "t");
    let mut ci = r.sequence().unwrap();
    ci.oid().unwrap();
    let mut e = ci.nested(der::context(0)).unwrap();
    let mut sd = e.sequence().unwrap();
    sd.u64().unwrap();
    sd.expect(der::SET).unwrap();
    sd.sequence().unwrap();
    let set = sd.expect(der::context(0)).unwrap();
    let mut c = Reader::new(set.value, "t");
    let mut certs = Vec::new();
    while !c.is_empty() {
        certs.push(c.any().unwrap().raw.to_vec());
    }
    let mut infos = sd.nested(der::SET).unwrap();
    let mut si = infos.sequence().unwrap();
    si.u64().unwrap();
    Parts {
        certs,
        sid: si.any().unwrap().raw.to_vec(),
        digest_alg: si.any().unwrap().raw.to_vec(),
        signed_attrs: si.any().unwrap().raw.to_vec(),
        sig_alg: si.any().unwrap().raw.to_vec(),
        value: si.octet_string().unwrap().to_vec(),
        unsigned: si
            .optional(der::context(1))
            .unwrap()
            .map(|t| t.raw.to_vec()),
    }
}

/// Puts the parts back in the given order (no sorting: the test decides).
fn put_together(p: &Parts) -> Vec<u8> {
    let certs: Vec<&[u8]> = p.certs.iter().map(Vec::as_slice).collect();
    let mut si = vec![
        der::uint(1),
        p.sid.clone(),
        p.digest_alg.clone(),
        p.signed_attrs.clone(),
        p.sig_alg.clone(),
        der::octets(&p.value),
    ];
    si.extend(p.unsigned.clone());
    let si: Vec<&[u8]> = si.iter().map(Vec::as_slice).collect();
    let sha256 = der::seq(&[&der::oid(&der_oid("2.16.840.1.101.3.4.2.1"))]);
    let sd = der::seq(&[
        &der::uint(1),
        &der::cons(der::SET, &[&sha256]),
        &der::seq(&[&der::oid(&der_oid("1.2.840.113549.1.7.1"))]),
        &der::cons(der::context(0), &certs),
        &der::cons(der::SET, &[&der::seq(&si)]),
    ]);
    der::seq(&[
        &der::oid(&der_oid("1.2.840.113549.1.7.2")),
        &der::tlv(der::context(0), &sd),
    ])
}

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
        assert_eq!(put_together(&take_apart(&sig)), sig);
    }
}

#[test]
fn unsigned_variants_that_verify_are_refused() {
    let f = fixture();
    let (content, sig) = signed_by(&f.b); // P-256
    let base = take_apart(&sig);
    assert_eq!(base.certs.len(), 2);

    // The certificate SET out of DER order.
    let mut p = take_apart(&sig);
    p.certs.reverse();
    refused(&put_together(&p), &content, "its encoding");
    // One more certificate (the root) in the SET.
    let mut p = take_apart(&sig);
    p.certs.push(f.root.clone());
    p.certs.sort();
    refused(&put_together(&p), &content, "its encoding");
    // SHA-256 with NULL parameters.
    let mut p = take_apart(&sig);
    p.digest_alg = der::seq(&[&der::oid(&der_oid("2.16.840.1.101.3.4.2.1")), &der::null()]);
    refused(&put_together(&p), &content, "its encoding");
    // An unsigned attribute.
    let mut p = take_apart(&sig);
    let attr = der::seq(&[
        &der::oid(&der_oid("1.2.840.113549.1.9.2")),
        &der::cons(der::SET, &[&der::utf8("note")]),
    ]);
    p.unsigned = Some(der::cons(der::context(1), &[&attr]));
    refused(&put_together(&p), &content, "unsigned attributes");
    // The ECDSA twin (r, n − s).
    let mut p = take_apart(&sig);
    p.value = twin(&p.value);
    refused(&put_together(&p), &content, "ECDSA value");
}

/// `(r, n − s)` for a P-256 `ECDSA-Sig-Value`.
fn twin(value: &[u8]) -> Vec<u8> {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let mut r = Reader::new(value, "t");
    let mut s = r.sequence().unwrap();
    let r_raw = s.any().unwrap().raw.to_vec();
    let s_val = s.expect(der::INTEGER).unwrap().value;
    let s_val = s_val.strip_prefix(&[0][..]).unwrap_or(s_val);
    let mut v = [0u8; 32];
    v[32 - s_val.len()..].copy_from_slice(s_val);
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(v[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    let skip = out.iter().take_while(|&&b| b == 0).count();
    let mut c = out[skip..].to_vec();
    if c[0] & 0x80 != 0 {
        c.insert(0, 0);
    }
    der::seq(&[&r_raw, &der::tlv(der::INTEGER, &c)])
}
