//! The one byte form of a signed certificate, CRL and ECDSA signature.
//!
//! A certificate's or CRL's signature covers its `tbsCertificate` / `tbsCertList` bytes only: the
//! outer SEQUENCE, the outer signatureAlgorithm and the BIT STRING around the signature value are
//! not signed, and an ECDSA signature `(r, s)` verifies as well as `(r, n − s)`. A parser that
//! tolerates another tag, a non-zero unused-bits octet or a second `s` lets two different files
//! be "the same" verified certificate. Evidence must have one byte form, so:
//!
//! - [`check_certificate_form`] and [`check_crl_form`] accept exactly the DER Axis's PKI writes:
//!   shortest lengths, nothing after the end, the outer algorithm byte-identical to the one
//!   inside the signed part and one of the two Axis uses (sha256WithRSAEncryption with NULL
//!   parameters, ecdsa-with-SHA256 without), no unused bits, and an ECDSA value in normal form.
//! - [`ecdsa_p256_is_normal`]: `ECDSA-Sig-Value` in DER with minimal integers and the low `s`
//!   (`s ≤ (n − 1) / 2`, as Bitcoin's BIP 62 and libsecp256k1 define it for their curve).
//! - Every ECDSA signature Axis makes is normalised when it is made ([`crate::KeySigner::sign`]),
//!   so whatever Axis signs passes these checks.

use crate::error::Error;

/// The order n of the P-256 group, big-endian (FIPS 186-4 D.1.2.3).
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// sha256WithRSAEncryption with NULL parameters (RFC 4055 §5), as a whole AlgorithmIdentifier.
const SHA256_WITH_RSA: &[u8] = &[
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
];
/// ecdsa-with-SHA256 without parameters (RFC 5758 §3.2), as a whole AlgorithmIdentifier.
const ECDSA_WITH_SHA256: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

/// One strictly encoded element: tag, content, and the input after it.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
    rest: &'a [u8],
}

/// Reads one element with a single-octet tag and a definite length in its shortest form.
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, r) = rest.split_at(n);
        rest = r;
        if len_bytes[0] == 0 {
            return None;
        }
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 {
            return None;
        }
        len
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    let (content, rest) = rest.split_at(len);
    Some(Tlv {
        tag,
        content,
        raw: &input[..header + len],
        rest,
    })
}

/// The magnitude of a minimal, positive DER INTEGER's content (no sign octet), or `None`.
fn positive_integer(content: &[u8]) -> Option<&[u8]> {
    match content {
        [] => None,
        [b, ..] if b & 0x80 != 0 => None,
        [0] => None, // zero is not a valid r or s
        [0, next, ..] if next & 0x80 == 0 => None,
        [0, rest @ ..] => Some(rest),
        _ => Some(content),
    }
}

/// `v` as 32 big-endian octets, if it fits.
fn be32(v: &[u8]) -> Option<[u8; 32]> {
    if v.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - v.len()..].copy_from_slice(v);
    Some(out)
}

/// n >> 1, i.e. (n − 1) / 2 since n is odd.
fn half_n() -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u8;
    for (o, &b) in out.iter_mut().zip(P256_N.iter()) {
        *o = (b >> 1) | carry;
        carry = (b & 1) << 7;
    }
    out
}

/// a − b for a ≥ b, big-endian.
fn sub(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8; // 0 ≤ d < 256 here
    }
    out
}

/// A positive INTEGER in minimal DER.
fn integer(v: &[u8; 32]) -> Vec<u8> {
    let skip = v.iter().take_while(|&&b| b == 0).count().min(31);
    let mut content = Vec::with_capacity(33);
    if v[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&v[skip..]);
    crate::der::tlv(0x02, &content)
}

/// Reads `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` strictly, for P-256: both in
/// 1..n − 1, minimal, nothing else.
fn read_p256_signature(sig: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let outer = tlv(sig)?;
    if outer.tag != 0x30 || !outer.rest.is_empty() {
        return None;
    }
    let r = tlv(outer.content)?;
    let s = tlv(r.rest)?;
    if r.tag != 0x02 || s.tag != 0x02 || !s.rest.is_empty() {
        return None;
    }
    let r = be32(positive_integer(r.content)?)?;
    let s = be32(positive_integer(s.content)?)?;
    (r < P256_N && s < P256_N).then_some((r, s))
}

/// Whether `sig` is an ECDSA P-256 signature (`ECDSA-Sig-Value`, DER) in normal form: strict,
/// minimal DER with r and s in 1..n − 1, and the low s (s ≤ (n − 1) / 2). Of the two values
/// that verify, `s` and `n − s`, exactly one is normal.
pub fn ecdsa_p256_is_normal(sig: &[u8]) -> bool {
    read_p256_signature(sig).is_some_and(|(_, s)| s <= half_n())
}

/// The normal form of a P-256 ECDSA signature made by ring (`s` replaced by `n − s` when it is
/// the high one), re-encoded in DER. Both verify; only this one is accepted as evidence.
pub(crate) fn normalize_ecdsa_p256(sig: &[u8]) -> Result<Vec<u8>, Error> {
    let (r, s) = read_p256_signature(sig).ok_or(Error::SigningFailed)?;
    let s = if s > half_n() { sub(&P256_N, &s) } else { s };
    Ok(crate::der::tlv(0x30, &[integer(&r), integer(&s)].concat()))
}

/// An ECDSA P-256 signature given as `r ‖ s` (64 octets, the form PKCS#11 tokens return) in
/// normal form (the low s) and DER `ECDSA-Sig-Value`: how a token's signature enters Axis.
/// `None` if `raw` is not 64 octets.
pub fn ecdsa_p256_der_from_raw(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.len() != 64 {
        return None;
    }
    let (r, s) = raw.split_at(32);
    let (r, s) = (be32(r)?, be32(s)?);
    let s = if s > half_n() { sub(&P256_N, &s) } else { s };
    Some(crate::der::tlv(0x30, &[integer(&r), integer(&s)].concat()))
}

/// Which signed object a form check is about.
#[derive(Clone, Copy)]
enum Signed {
    Certificate,
    Crl,
}

impl Signed {
    fn error(self, part: &'static str) -> Error {
        match self {
            Signed::Certificate => Error::CertificateNotNormal { part },
            Signed::Crl => Error::CrlNotNormal { part },
        }
    }
}

/// The common outer shape of a certificate and a CRL: `SEQUENCE { tbs SEQUENCE, algorithm,
/// BIT STRING }`, the algorithm equal to the one in `tbs` (found by `inner_algorithm`).
fn check_signed_form(
    der: &[u8],
    what: Signed,
    inner_algorithm: fn(&[u8]) -> Option<&[u8]>,
) -> Result<(), Error> {
    let outer = tlv(der).ok_or(what.error("outer SEQUENCE"))?;
    if outer.tag != 0x30 {
        return Err(what.error("outer SEQUENCE"));
    }
    if !outer.rest.is_empty() {
        return Err(what.error("bytes after the end"));
    }
    let tbs = tlv(outer.content).ok_or(what.error("signed part"))?;
    if tbs.tag != 0x30 {
        return Err(what.error("signed part"));
    }
    let alg = tlv(tbs.rest).ok_or(what.error("signature algorithm"))?;
    if alg.raw != SHA256_WITH_RSA && alg.raw != ECDSA_WITH_SHA256 {
        return Err(what.error("signature algorithm"));
    }
    if inner_algorithm(tbs.content) != Some(alg.raw) {
        return Err(what.error("signature algorithm (differs from the signed one)"));
    }
    let value = tlv(alg.rest).ok_or(what.error("signature value"))?;
    if value.tag != 0x03 || !value.rest.is_empty() {
        return Err(what.error("signature value"));
    }
    let Some((&0, signature)) = value.content.split_first() else {
        return Err(what.error("signature value (unused bits)"));
    };
    if alg.raw == ECDSA_WITH_SHA256 && !ecdsa_p256_is_normal(signature) {
        return Err(what.error("ECDSA signature (not strict DER with the low s)"));
    }
    Ok(())
}

/// `TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber, signature, … }`.
fn certificate_inner_algorithm(tbs: &[u8]) -> Option<&[u8]> {
    let first = tlv(tbs)?;
    let serial = if first.tag == 0xa0 {
        tlv(first.rest)?
    } else {
        first
    };
    Some(tlv(serial.rest)?.raw)
}

/// `TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature, … }`.
fn crl_inner_algorithm(tbs: &[u8]) -> Option<&[u8]> {
    let first = tlv(tbs)?;
    if first.tag == 0x02 {
        Some(tlv(first.rest)?.raw)
    } else {
        Some(first.raw)
    }
}

/// Checks that a certificate is in the one byte form Axis's PKI writes (see the module docs).
/// Its signature is not checked here; together with it, every byte of the certificate is
/// covered.
pub fn check_certificate_form(der: &[u8]) -> Result<(), Error> {
    check_signed_form(der, Signed::Certificate, certificate_inner_algorithm)
}

/// Checks that a CRL is in the one byte form Axis's PKI writes (see the module docs).
pub fn check_crl_form(der: &[u8]) -> Result<(), Error> {
    check_signed_form(der, Signed::Crl, crl_inner_algorithm)
}

#[cfg(test)]
mod tests;
