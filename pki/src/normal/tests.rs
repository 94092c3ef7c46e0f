//! Normal forms: the low s, and the parts of a certificate or CRL outside the signed part.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::{KeyAlgorithm, PrivateKey};

/// The other ECDSA value that verifies: `(r, n − s)`.
fn high_twin(sig: &[u8]) -> Vec<u8> {
    let (r, s) = read_p256_signature(sig).unwrap();
    crate::der::tlv(0x30, &[integer(&r), integer(&sub(&P256_N, &s))].concat())
}

fn verifies(key: &PrivateKey, msg: &[u8], sig: &[u8]) -> bool {
    use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
    let spki = key.public_key_der();
    // The uncompressed point is the last 65 bytes of a P-256 SPKI.
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &spki[spki.len() - 65..])
        .verify(msg, sig)
        .is_ok()
}

#[test]
fn every_ecdsa_signature_axis_makes_has_the_low_s_and_its_twin_is_refused() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    for i in 0..64u32 {
        let msg = i.to_be_bytes();
        let sig = key.sign(&msg).unwrap();
        assert!(ecdsa_p256_is_normal(&sig), "signature {i}");
        assert!(verifies(&key, &msg, &sig));
        // n − s verifies too, which is why only one of the two is accepted as evidence.
        let twin = high_twin(&sig);
        assert!(verifies(&key, &msg, &twin));
        assert!(!ecdsa_p256_is_normal(&twin), "signature {i}");
        assert_eq!(normalize_ecdsa_p256(&twin).unwrap(), sig);
    }
}

#[test]
fn an_ecdsa_value_that_is_not_strict_der_is_not_normal() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sig = key.sign(b"m").unwrap();
    let mut trailing = sig.clone();
    trailing.push(0);
    assert!(!ecdsa_p256_is_normal(&trailing));
    // r with a superfluous leading zero (the length grows by one everywhere).
    let (r, s) = read_p256_signature(&sig).unwrap();
    let mut r_long = vec![0x02, 0];
    let r_der = integer(&r);
    r_long[1] = (r_der.len() - 2 + 1) as u8;
    r_long.push(0);
    r_long.extend_from_slice(&r_der[2..]);
    let padded = crate::der::tlv(0x30, &[r_long, integer(&s)].concat());
    assert!(!ecdsa_p256_is_normal(&padded));
    assert!(!ecdsa_p256_is_normal(&[]));
    assert!(!ecdsa_p256_is_normal(&[0x30, 0x00]));
}

#[test]
fn half_n_is_n_shifted_right() {
    let h = half_n();
    assert_eq!(h[0], 0x7f);
    assert_eq!(h[31], 0xa8);
    // 2 · half + 1 = n.
    let doubled: Vec<u8> = {
        let mut out = [0u8; 32];
        let mut carry = 1u16;
        for i in (0..32).rev() {
            let v = u16::from(h[i]) * 2 + carry;
            out[i] = (v & 0xff) as u8;
            carry = v >> 8;
        }
        out.to_vec()
    };
    assert_eq!(doubled, P256_N);
}

#[test]
fn a_raw_signature_becomes_normal_der() {
    // s = n − 1 is high: it becomes 1; r with its top bit set gets its 0x00 octet.
    let mut raw = [0x80u8; 32].to_vec();
    let mut s = P256_N;
    s[31] -= 1;
    raw.extend_from_slice(&s);
    let der = ecdsa_p256_der_from_raw(&raw).unwrap();
    assert!(ecdsa_p256_is_normal(&der));
    let (r, s) = read_p256_signature(&der).unwrap();
    assert_eq!(
        (r, s[31], s[..31].iter().all(|&b| b == 0)),
        ([0x80; 32], 1, true)
    );
    // A low s stays as it is.
    let mut low = [0x01u8; 64].to_vec();
    low[32] = 0x00;
    let der = ecdsa_p256_der_from_raw(&low).unwrap();
    assert_eq!(read_p256_signature(&der).unwrap().1[..], low[32..]);
    assert!(ecdsa_p256_der_from_raw(&[0u8; 63]).is_none());
}
