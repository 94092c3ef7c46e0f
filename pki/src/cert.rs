//! Reading certificates: parsing with budgets, serial numbers, and the one place the agency id and
//! the profile are read back from a certificate.

use std::fmt;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use crate::agency_id::AgencyId;
use crate::error::Error;
use crate::profile::{PolicyArc, Profile};

/// Largest certificate (DER) accepted anywhere in the crate.
pub const MAX_CERT_DER_LEN: usize = 16 * 1024;

/// `organizationIdentifier` (X.520, 2.5.4.97): the subject attribute that carries the agency id
/// in every agency and personal certificate. This is the one machine-readable place; read it back
/// with [`agency_id_of`].
pub const AGENCY_ID_ATTRIBUTE_OID: &str = "2.5.4.97";
pub(crate) const AGENCY_ID_ATTRIBUTE_ARCS: &[u64] = &[2, 5, 4, 97];
/// `title` (X.520, 2.5.4.12): a personal signer's position.
pub(crate) const TITLE_ARCS: &[u64] = &[2, 5, 4, 12];

/// A certificate serial number: 1 to 20 octets, positive (RFC 5280 §4.1.2.2).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// 16 random octets, top bit clear so the INTEGER is positive and no longer than 16 octets.
    pub fn random() -> Result<Self, Error> {
        use ring::rand::SecureRandom;
        let mut b = [0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| Error::KeyGeneration)?;
        b[0] &= 0x7f;
        b[0] |= 0x40; // never a leading zero octet: the DER length stays 16
        Ok(Serial(b.to_vec()))
    }

    /// From big-endian octets as they appear in a certificate (leading zero octets removed).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
        if trimmed.is_empty() || trimmed.len() > 20 {
            return Err(Error::SerialMalformed);
        }
        Ok(Serial(trimmed))
    }

    /// Parses hex as `openssl x509 -serial` prints it; colons and either case are accepted.
    pub fn from_hex(s: &str) -> Result<Self, Error> {
        if s.len() > 80 {
            return Err(Error::SerialMalformed);
        }
        let clean: String = s.chars().filter(|&c| c != ':').collect();
        let padded = if clean.len() % 2 == 1 {
            format!("0{clean}")
        } else {
            clean
        };
        let bytes = hex::decode(padded).map_err(|_| Error::SerialMalformed)?;
        Self::from_bytes(&bytes)
    }

    /// Big-endian octets, no leading zero.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn to_rcgen(&self) -> rcgen::SerialNumber {
        // A positive INTEGER whose top bit is set needs a leading zero octet in DER.
        if self.0[0] & 0x80 != 0 {
            let mut v = vec![0];
            v.extend_from_slice(&self.0);
            rcgen::SerialNumber::from_slice(&v)
        } else {
            rcgen::SerialNumber::from_slice(&self.0)
        }
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(&self.0))
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({self})")
    }
}

/// Parses one DER certificate, refusing oversized input and trailing bytes.
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, Error> {
    if der.len() > MAX_CERT_DER_LEN {
        return Err(Error::CertificateTooLarge {
            len: der.len(),
            max: MAX_CERT_DER_LEN,
        });
    }
    let (rest, cert) = X509Certificate::from_der(der).map_err(|_| Error::CertificateMalformed)?;
    if !rest.is_empty() {
        return Err(Error::CertificateMalformed);
    }
    Ok(cert)
}

/// Reads the agency id a certificate is bound to: the `organizationIdentifier` attribute of its
/// subject. `Ok(None)` if absent; an error if present but malformed or repeated.
///
/// This is the only function that reads the binding; the issuer writes it in
/// [`crate::issue`] through the same OID.
pub fn agency_id_of(cert_der: &[u8]) -> Result<Option<AgencyId>, Error> {
    let cert = parse(cert_der)?;
    agency_id_in(cert.subject())
}

pub(crate) fn agency_id_in(name: &X509Name<'_>) -> Result<Option<AgencyId>, Error> {
    let oid = agency_oid();
    let mut values = name.iter_attributes().filter(|a| a.attr_type() == &oid);
    let Some(attr) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::AgencyIdRepeated);
    }
    let text = attr.as_str().map_err(|_| Error::AgencyIdNotText)?;
    AgencyId::parse(text)
        .map(Some)
        .map_err(|source| Error::AgencyIdMalformed { source })
}

fn agency_oid() -> Oid<'static> {
    // 2.5.4.97 = 0x55 0x04 0x61
    Oid::new(std::borrow::Cow::Borrowed(&[0x55, 0x04, 0x61]))
}

/// Reads the profile a certificate was issued under from its certificatePolicies: the policy
/// `<arc>.1.<n>` under the PKI's `arc`. `Ok(None)` if it names no profile under that arc (a
/// foreign certificate, or one of another PKI); an error if it names more than one.
///
/// The arc is the trust anchor's ([`PolicyArc::of_ca`] on the root); [`TrustStore::profile_of`]
/// uses the arcs of the store's anchors.
///
/// [`TrustStore::profile_of`]: crate::TrustStore::profile_of
pub fn profile_of(cert_der: &[u8], arc: &PolicyArc) -> Result<Option<Profile>, Error> {
    let cert = parse(cert_der)?;
    profile_in(&cert, arc)
}

pub(crate) fn profile_in(
    cert: &X509Certificate<'_>,
    arc: &PolicyArc,
) -> Result<Option<Profile>, Error> {
    let mut found = None;
    for ext in cert.extensions() {
        if let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() {
            for p in policies.iter() {
                if let Some(profile) = arc.profile_of_policy(p.policy_id.as_bytes())
                    && found.replace(profile).is_some()
                {
                    return Err(Error::ProfileAmbiguous);
                }
            }
        }
    }
    Ok(found)
}

/// The SubjectPublicKeyInfo (DER) of a certificate, read without verifying anything (to pin a
/// key, e.g. the log signer's, from its certificate).
pub fn public_key_of(cert_der: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(parse(cert_der)?.public_key().raw.to_vec())
}

/// The end of a certificate's validity (notAfter), read without verifying anything.
pub fn not_after_of(cert_der: &[u8]) -> Result<time::OffsetDateTime, Error> {
    Ok(parse(cert_der)?.validity().not_after.to_datetime())
}

/// The subject of a certificate as one line, e.g.
/// `C=VN, organizationIdentifier=000.00.00.G22, CN=Văn phòng Chính phủ`.
pub fn subject_of(cert_der: &[u8]) -> Result<String, Error> {
    Ok(name_to_string(parse(cert_der)?.subject()))
}

/// The subject name of a certificate, raw DER (what CRLs name their issuer by:
/// [`crate::CheckedCrl::issuer`]).
pub fn subject_der_of(cert_der: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(parse(cert_der)?.subject().as_raw().to_vec())
}

/// A short, printable summary of a distinguished name (for messages and listings), with the
/// attribute names administrators know (`organizationIdentifier`, not `OID(2.5.4.97)`).
pub(crate) fn name_to_string(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let oid = attr.attr_type().to_id_string();
            let label = match oid.as_str() {
                "2.5.4.6" => "C",
                "2.5.4.8" => "ST",
                "2.5.4.7" => "L",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.3" => "CN",
                "2.5.4.12" => "title",
                "2.5.4.5" => "serialNumber",
                AGENCY_ID_ATTRIBUTE_OID => "organizationIdentifier",
                "1.2.840.113549.1.9.1" => "emailAddress",
                other => other,
            };
            let value = attr
                .as_str()
                .map_or_else(|_| "<binary>".to_owned(), str::to_owned);
            parts.push(format!("{label}={value}"));
        }
    }
    let s = parts.join(", ");
    if s.chars().count() > 200 {
        let mut t: String = s.chars().take(200).collect();
        t.push('…');
        t
    } else {
        s
    }
}

/// Decodes PEM `CERTIFICATE` blocks (a chain file), with a budget on count.
pub fn certificates_from_pem(text: &str, max: usize) -> Result<Vec<Vec<u8>>, Error> {
    let blocks = pem::parse_many(text).map_err(|_| Error::PemMalformed)?;
    if blocks.len() > max {
        return Err(Error::TooManyCertificates {
            found: blocks.len(),
            max,
        });
    }
    blocks
        .into_iter()
        .map(|b| {
            if b.tag() == "CERTIFICATE" {
                Ok(b.into_contents())
            } else {
                Err(Error::PemUnexpectedLabel {
                    expected: "CERTIFICATE",
                })
            }
        })
        .collect()
}

/// PEM-encodes DER with the given label.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
