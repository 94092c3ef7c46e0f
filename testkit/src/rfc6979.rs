//! A P-256 key that signs deterministically (RFC 6979 §3.2, HMAC-SHA-256): the same key and
//! message give the same ECDSA signature, so a structure an ECDSA key signs — a witness's
//! cosignature — can have byte-exact test vectors, and another implementation can reproduce
//! them (Python's `cryptography`: `ec.ECDSA(hashes.SHA256(), deterministic_signing=True)`).
//! Signatures leave through [`KeySigner::sign`], which puts them in normal form (the low s),
//! as every Axis signer does.
//!
//! Test support only: Axis's own keys sign with ring's randomized nonces.

use axis_pki::{KeyAlgorithm, KeyOp, KeyOpError, KeyPair, KeySigner, SignatureScheme};
use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use zeroize::Zeroizing;

/// A P-256 private key whose ECDSA signatures are those of RFC 6979 with SHA-256.
pub struct DeterministicP256 {
    key: EcKey<Private>,
    spki: Vec<u8>,
}

impl DeterministicP256 {
    /// Reads an unencrypted PKCS#8 DER P-256 key.
    pub fn from_pkcs8_der(pkcs8: &[u8]) -> Self {
        let pkey = PKey::private_key_from_pkcs8(pkcs8).unwrap();
        let key = pkey.ec_key().unwrap();
        assert_eq!(
            key.group().curve_name(),
            Some(Nid::X9_62_PRIME256V1),
            "a P-256 key"
        );
        DeterministicP256 {
            spki: pkey.public_key_to_der().unwrap(),
            key,
        }
    }

    /// The raw ECDSA signature (DER `Ecdsa-Sig-Value`, `s` as computed: high or low) of
    /// SHA-256(`msg`), with RFC 6979's nonce.
    pub fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let mut q = BigNum::new().unwrap();
        group.order(&mut q, &mut ctx).unwrap();
        let x = self.key.private_key();
        let h1 = openssl::sha::sha256(msg);
        // qlen = hlen = 256: bits2int(h1) is h1 as an integer; bits2octets reduces it mod q.
        let e = BigNum::from_slice(&h1).unwrap();
        let mut reduced = BigNum::new().unwrap();
        reduced.nnmod(&e, &q, &mut ctx).unwrap();
        let k = nonce(
            &x.to_vec_padded(32).unwrap(),
            &reduced.to_vec_padded(32).unwrap(),
            &q,
        );
        // r = x(kG) mod q; s = k⁻¹ (e + r·x) mod q.
        let mut point = EcPoint::new(&group).unwrap();
        point.mul_generator2(&group, &k, &mut ctx).unwrap();
        let (mut px, mut py) = (BigNum::new().unwrap(), BigNum::new().unwrap());
        point
            .affine_coordinates(&group, &mut px, &mut py, &mut ctx)
            .unwrap();
        let mut r = BigNum::new().unwrap();
        r.nnmod(&px, &q, &mut ctx).unwrap();
        let mut rx = BigNum::new().unwrap();
        rx.mod_mul(&r, x, &q, &mut ctx).unwrap();
        let mut sum = BigNum::new().unwrap();
        sum.mod_add(&reduced, &rx, &q, &mut ctx).unwrap();
        let mut k_inv = BigNum::new().unwrap();
        k_inv.mod_inverse(&k, &q, &mut ctx).unwrap();
        let mut s = BigNum::new().unwrap();
        s.mod_mul(&k_inv, &sum, &q, &mut ctx).unwrap();
        openssl::ecdsa::EcdsaSig::from_private_components(r, s)
            .unwrap()
            .to_der()
            .unwrap()
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let pkey = PKey::hmac(key).unwrap();
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &pkey).unwrap();
    for p in parts {
        signer.update(p).unwrap();
    }
    Zeroizing::new(signer.sign_to_vec().unwrap())
}

/// RFC 6979 §3.2 steps b–h for a 256-bit q and HMAC-SHA-256: `x` and `h` are
/// `int2octets(x)` and `bits2octets(h1)`.
fn nonce(x: &[u8], h: &[u8], q: &BigNumRef) -> BigNum {
    let mut v = Zeroizing::new(vec![0x01u8; 32]);
    let mut k = hmac(&[0u8; 32], &[&v, &[0x00], x, h]);
    v = hmac(&k, &[&v]);
    k = hmac(&k, &[&v, &[0x01], x, h]);
    v = hmac(&k, &[&v]);
    loop {
        v = hmac(&k, &[&v]);
        let candidate = BigNum::from_slice(&v).unwrap();
        if candidate.num_bits() > 0 && candidate.ucmp(q) == std::cmp::Ordering::Less {
            return candidate;
        }
        k = hmac(&k, &[&v, &[0x00]]);
        v = hmac(&k, &[&v]);
    }
}

impl KeyPair for DeterministicP256 {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    fn location(&self) -> String {
        "test key (deterministic ECDSA, RFC 6979)".into()
    }
}

impl KeySigner for DeterministicP256 {
    fn sign_with(&self, scheme: SignatureScheme, msg: &[u8]) -> Result<Vec<u8>, KeyOpError> {
        if scheme != SignatureScheme::EcdsaP256Sha256 {
            return Err(KeyOpError::WrongKeyType {
                op: KeyOp::Sign,
                alg: KeyAlgorithm::EcdsaP256,
            });
        }
        Ok(self.sign_raw(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 6979 A.2.5: P-256, SHA-256, the messages "sample" and "test".
    #[test]
    fn signs_the_rfc_6979_vectors() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let x = BigNum::from_slice(&hex(
            "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721",
        ))
        .unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let mut public = EcPoint::new(&group).unwrap();
        public.mul_generator2(&group, &x, &mut ctx).unwrap();
        let key = EcKey::from_private_components(&group, &x, &public).unwrap();
        let pkcs8 = PKey::from_ec_key(key)
            .unwrap()
            .private_key_to_pkcs8()
            .unwrap();
        let signer = DeterministicP256::from_pkcs8_der(&pkcs8);
        for (msg, r, s) in [
            (
                "sample",
                "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
            ),
            (
                "test",
                "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
            ),
        ] {
            let sig = openssl::ecdsa::EcdsaSig::from_der(&signer.sign_raw(msg.as_bytes())).unwrap();
            assert_eq!(sig.r().to_vec_padded(32).unwrap(), hex(r), "{msg}: r");
            assert_eq!(sig.s().to_vec_padded(32).unwrap(), hex(s), "{msg}: s");
        }
        // Through `KeySigner::sign`: the same signature, its s the low one.
        let normal = signer.sign(b"sample").unwrap();
        assert!(axis_pki::ecdsa_p256_is_normal(&normal));
        assert_eq!(normal, signer.sign(b"sample").unwrap());
    }
}
