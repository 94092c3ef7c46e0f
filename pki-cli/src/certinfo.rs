//! Reading certificates for display and for the index (the library checks them; this only
//! describes them).

use std::path::Path;

use axis_pki::{AgencyId, Serial};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Failure, Result, ResultExt};
use crate::fsutil;

/// Most certificates read from one PEM file (a leaf and its chain).
const MAX_PEM_CERTS: usize = 8;

/// What the CLI shows and records about a certificate.
#[derive(Clone, Debug)]
pub(crate) struct CertInfo {
    pub(crate) serial: Serial,
    pub(crate) subject: String,
    pub(crate) common_name: String,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
    pub(crate) agency_id: Option<AgencyId>,
    /// SHA-256 of the DER, hex.
    pub(crate) fingerprint: String,
}

impl CertInfo {
    pub(crate) fn of(der: &[u8]) -> Result<Self> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|_| Failure::from(axis_pki::Error::CertificateMalformed))?;
        if !rest.is_empty() {
            return Err(axis_pki::Error::CertificateMalformed.into());
        }
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|c| c.as_str().ok())
            .unwrap_or("")
            .to_owned();
        let v = cert.validity();
        Ok(CertInfo {
            serial: Serial::from_bytes(cert.raw_serial())?,
            subject: axis_pki::subject_of(der)?,
            common_name,
            not_before: v.not_before.to_datetime(),
            not_after: v.not_after.to_datetime(),
            agency_id: axis_pki::agency_id_of(der).unwrap_or(None),
            fingerprint: hex::encode_upper(ring::digest::digest(&ring::digest::SHA256, der)),
        })
    }

    /// `CN (agency id)` or just `CN`.
    pub(crate) fn who(&self) -> String {
        match &self.agency_id {
            Some(id) => format!("{} ({id})", self.common_name),
            None => self.common_name.clone(),
        }
    }
}

/// Reads the certificates in a PEM file (first the certificate itself, then any chain), or one
/// DER certificate.
pub(crate) fn read_certs(path: &Path, what: &str) -> Result<Vec<Vec<u8>>> {
    let bytes = fsutil::read_limited(path, 1024 * 1024, what)?;
    // PEM, possibly after text (`openssl x509 -text` output), or else one DER certificate.
    let is_pem = bytes.windows(10).any(|w| w == b"-----BEGIN");
    let ders = if is_pem {
        let text = String::from_utf8(bytes)
            .map_err(|_| Failure::new(format!("{what} {} is not PEM text", path.display())))?;
        axis_pki::certificates_from_pem(&text, MAX_PEM_CERTS)
            .context(format!("{what} {}", path.display()))?
    } else {
        vec![bytes]
    };
    if ders.is_empty() {
        return Err(Failure::new(format!(
            "{what} {} holds no certificate",
            path.display()
        )));
    }
    Ok(ders)
}

/// Reads exactly one certificate from a file inside the CA directory.
pub(crate) fn read_one(path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut v = read_certs(path, what)?;
    if v.len() != 1 {
        return Err(Failure::new(format!(
            "{what} {} should hold one certificate but holds {}",
            path.display(),
            v.len()
        )));
    }
    Ok(v.remove(0))
}

/// SHA-256 fingerprint in `AA:BB:…` form, as `openssl x509 -fingerprint -sha256` prints it.
pub(crate) fn colon_hex(hex_upper: &str) -> String {
    hex_upper
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}
