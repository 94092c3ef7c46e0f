//! The few certificate fields CMS needs (issuer and serial to name a certificate, the public
//! key), read with the crate's strict DER reader. Chain, profile and revocation checks are the
//! PKI crate's; this only locates bytes.

use crate::cms::der::{self, Reader};
use crate::cms::oid;
use crate::error::{Error, KeyError};

/// Raw fields of a certificate.
pub(crate) struct CertInfo<'a> {
    /// Issuer Name, whole TLV.
    pub(crate) issuer: &'a [u8],
    /// Serial number INTEGER, whole TLV.
    pub(crate) serial: &'a [u8],
    /// SubjectPublicKeyInfo, whole TLV.
    pub(crate) spki: &'a [u8],
}

pub(crate) fn cert_info(cert: &[u8]) -> Result<CertInfo<'_>, Error> {
    let mut outer = Reader::new(cert, "certificate");
    let mut c = outer.sequence()?;
    outer.finish()?;
    let mut tbs = c.sequence()?;
    tbs.optional(der::context(0))?; // version
    let serial = tbs.expect(der::INTEGER)?.raw;
    tbs.sequence()?; // signature algorithm
    let issuer = tbs.expect(der::SEQUENCE)?.raw;
    tbs.sequence()?; // validity
    tbs.sequence()?; // subject
    let spki = tbs.expect(der::SEQUENCE)?.raw;
    Ok(CertInfo {
        issuer,
        serial,
        spki,
    })
}

impl CertInfo<'_> {
    /// `IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER }` (RFC 5652 §10.2.4).
    pub(crate) fn issuer_and_serial(&self) -> Vec<u8> {
        der::seq(&[self.issuer, self.serial])
    }
}

/// A public key Axis uses, as the algorithm implementations take it.
pub(crate) enum KeyKind<'a> {
    /// RSAPublicKey DER (the subjectPublicKey bits).
    Rsa(&'a [u8]),
    /// Uncompressed P-256 point.
    EcP256(&'a [u8]),
}

pub(crate) fn key_kind(spki: &[u8]) -> Result<KeyKind<'_>, Error> {
    let bad = |_| KeyError::UnsupportedKey;
    let mut outer = Reader::new(spki, "public key");
    let mut s = outer.sequence().map_err(bad)?;
    let mut alg = s.sequence().map_err(bad)?;
    let alg_oid = alg.oid().map_err(bad)?;
    let bits = s.bit_string().map_err(bad)?;
    if alg_oid == oid::RSA_ENCRYPTION {
        Ok(KeyKind::Rsa(bits))
    } else if alg_oid == oid::EC_PUBLIC_KEY && alg.oid().map_err(bad)? == oid::P256 {
        Ok(KeyKind::EcP256(bits))
    } else {
        Err(KeyError::UnsupportedKey.into())
    }
}
