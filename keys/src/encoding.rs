//! The byte-level work a token leaves to its caller: public keys as SubjectPublicKeyInfo,
//! PKCS#1 DigestInfo, ECDSA signatures from `r ‖ s` to DER with a low S, and OAEP decoding for
//! tokens that decrypt only raw RSA (SoftHSM's OAEP takes SHA-1 only).

use axis_pki::der::tlv;
use zeroize::Zeroizing;

/// DER OID of prime256v1 (CKA_EC_PARAMS of a P-256 key).
pub(crate) const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// DigestInfo { sha256, NULL } prefix of a PKCS#1 v1.5 signature block (RFC 8017 §9.2 note 1).
pub(crate) const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// A DER INTEGER of a non-negative big-endian value.
fn uint(be: &[u8]) -> Vec<u8> {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let mut body = Vec::with_capacity(be.len() - start + 1);
    if be.get(start).is_none_or(|&b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(&be[start..]);
    tlv(0x02, &body)
}

fn spki(alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key);
    let mut body = alg.to_vec();
    body.extend_from_slice(&tlv(0x03, &bits));
    tlv(0x30, &body)
}

/// SubjectPublicKeyInfo of an RSA key from CKA_MODULUS and CKA_PUBLIC_EXPONENT.
pub(crate) fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    const ALG: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut body = uint(modulus);
    body.extend_from_slice(&uint(exponent));
    spki(ALG, &tlv(0x30, &body))
}

/// SubjectPublicKeyInfo of a P-256 key from CKA_EC_POINT: the point DER-wrapped in an OCTET
/// STRING as PKCS#11 specifies, or bare as some modules give it.
pub(crate) fn p256_spki(ec_point: &[u8]) -> Option<Vec<u8>> {
    const ALG: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let point = match ec_point {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
        [0x04, ..] if ec_point.len() == 65 => ec_point,
        _ => return None,
    };
    Some(spki(ALG, point))
}

/// An ECDSA P-256 signature `r ‖ s` (PKCS#11's form) as DER `Ecdsa-Sig-Value` with the low
/// S (one signature form per message and key): pki's [`axis_pki::ecdsa_p256_der_from_raw`].
pub(crate) fn ecdsa_der(raw: &[u8]) -> Option<Vec<u8>> {
    axis_pki::ecdsa_p256_der_from_raw(raw)
}

/// MGF1 with SHA-256 (RFC 8017 §B.2.1), XORed into `out`.
fn mgf1_xor(seed: &[u8], out: &mut [u8]) {
    for (counter, chunk) in out.chunks_mut(32).enumerate() {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(seed);
        ctx.update(&(counter as u32).to_be_bytes());
        let mask = ctx.finish();
        for (o, m) in chunk.iter_mut().zip(mask.as_ref()) {
            *o ^= m;
        }
    }
}

/// EME-OAEP decoding with SHA-256, MGF1-SHA-256 and an empty label (RFC 8017 §7.1.2 step 3) of
/// `em`, the raw RSA decryption left-padded to the modulus length `k`.
///
/// Every check runs over the whole block and is folded into one flag, so that which check
/// failed does not show in the time taken (Manger's attack needs exactly that oracle); the
/// result is one `None` for every failure.
pub(crate) fn oaep_sha256_decode(em: &[u8], k: usize) -> Option<Zeroizing<Vec<u8>>> {
    const H: usize = 32;
    if k < 2 * H + 2 || em.len() > k {
        return None;
    }
    let mut block = Zeroizing::new(vec![0u8; k]);
    block[k - em.len()..].copy_from_slice(em);
    let y = block[0];
    let (seed, db) = block[1..].split_at_mut(H);
    mgf1_xor(db, seed);
    mgf1_xor(seed, db);
    let l_hash = ring::digest::digest(&ring::digest::SHA256, b"");
    // bad != 0 ⇔ something is wrong; all arithmetic below is branch-free on secret data.
    let mut bad = u32::from(y);
    for (a, b) in db[..H].iter().zip(l_hash.as_ref()) {
        bad |= u32::from(a ^ b);
    }
    // After lHash: zeros, one 0x01, the message. `looking` is 1 until the 0x01 is seen.
    let mut looking: u32 = 1;
    let mut index: u32 = 0;
    let mut stray: u32 = 0;
    for (i, &b) in db[H..].iter().enumerate() {
        let is_zero = ct_is_zero(u32::from(b));
        let is_one = ct_is_zero(u32::from(b ^ 1));
        let found_here = looking & is_one;
        index |= found_here.wrapping_neg() & (i as u32);
        stray |= looking & (1 ^ is_zero) & (1 ^ is_one);
        looking &= 1 ^ is_one;
    }
    bad |= looking | stray;
    if bad != 0 {
        return None;
    }
    let start = H + index as usize + 1;
    Some(Zeroizing::new(db[start..].to_vec()))
}

/// 1 if `x == 0`, else 0, without a branch.
fn ct_is_zero(x: u32) -> u32 {
    1 ^ ((x | x.wrapping_neg()) >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::PKey;
    use openssl::rsa::{Padding, Rsa};

    fn oaep_encrypt(key: &PKey<openssl::pkey::Private>, msg: &[u8]) -> Vec<u8> {
        let mut enc = openssl::encrypt::Encrypter::new(key).unwrap();
        enc.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
        enc.set_rsa_oaep_md(openssl::hash::MessageDigest::sha256())
            .unwrap();
        enc.set_rsa_mgf1_md(openssl::hash::MessageDigest::sha256())
            .unwrap();
        let mut out = vec![0u8; enc.encrypt_len(msg).unwrap()];
        let n = enc.encrypt(msg, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn raw_decrypt(rsa: &Rsa<openssl::pkey::Private>, ct: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; rsa.size() as usize];
        let n = rsa.private_decrypt(ct, &mut out, Padding::NONE).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn oaep_decoding_matches_openssl_and_refuses_a_tampered_block() {
        let rsa = Rsa::generate(2048).unwrap();
        let key = PKey::from_rsa(rsa.clone()).unwrap();
        let k = rsa.size() as usize;
        for msg in [&b""[..], b"k", &[7u8; 32], &[0u8; 32], &[1u8; 190]] {
            let ct = oaep_encrypt(&key, msg);
            let em = raw_decrypt(&rsa, &ct);
            assert_eq!(oaep_sha256_decode(&em, k).unwrap().as_slice(), msg);
            // A leading zero byte stripped by the token is put back.
            assert_eq!(oaep_sha256_decode(&em[1..], k).unwrap().as_slice(), msg);
            // Every single-byte change is refused.
            for i in [0, 1, 20, 40, k / 2, k - 1] {
                let mut bad = em.clone();
                bad[i] ^= 0x01;
                assert!(oaep_sha256_decode(&bad, k).is_none(), "byte {i}");
            }
        }
        // PKCS#1 v1.5 padding is not OAEP.
        let mut out = vec![0u8; k];
        let n = rsa
            .public_encrypt(&[9u8; 32], &mut out, Padding::PKCS1)
            .unwrap();
        assert!(oaep_sha256_decode(&raw_decrypt(&rsa, &out[..n]), k).is_none());
    }

    #[test]
    fn ecdsa_signatures_are_der_with_a_low_s() {
        let ec = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap();
        let digest = [0x42u8; 32];
        let mut high = 0;
        for _ in 0..32 {
            let sig = openssl::ecdsa::EcdsaSig::sign(&digest, &ec).unwrap();
            let mut raw = sig.r().to_vec_padded(32).unwrap();
            raw.extend(sig.s().to_vec_padded(32).unwrap());
            if !axis_pki::ecdsa_p256_is_normal(&sig.to_der().unwrap()) {
                high += 1;
            }
            let der = ecdsa_der(&raw).unwrap();
            let back = openssl::ecdsa::EcdsaSig::from_der(&der).unwrap();
            assert!(back.verify(&digest, &ec).unwrap());
            assert!(axis_pki::ecdsa_p256_is_normal(&der));
        }
        assert!(high > 0, "32 signatures without one high S");
        assert!(ecdsa_der(&[0u8; 63]).is_none());
    }

    #[test]
    fn public_keys_match_openssl() {
        let rsa = Rsa::generate(2048).unwrap();
        let spki = rsa_spki(&rsa.n().to_vec(), &rsa.e().to_vec());
        assert_eq!(
            spki,
            PKey::from_rsa(rsa).unwrap().public_key_to_der().unwrap()
        );
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let ec = openssl::ec::EcKey::generate(&group).unwrap();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let point = ec
            .public_key()
            .to_bytes(
                &group,
                openssl::ec::PointConversionForm::UNCOMPRESSED,
                &mut ctx,
            )
            .unwrap();
        let want = PKey::from_ec_key(ec).unwrap().public_key_to_der().unwrap();
        assert_eq!(p256_spki(&point).unwrap(), want);
        assert_eq!(p256_spki(&tlv(0x04, &point)).unwrap(), want);
        assert!(p256_spki(&point[1..]).is_none());
    }
}
