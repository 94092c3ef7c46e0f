//! Certificate revocation lists: issuing them (rcgen) and reading them (x509-parser).

use std::fmt;
use std::str::FromStr;

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams, SerialNumber};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use crate::cert::Serial;
use crate::error::Error;
use crate::issue::CaSigner;

/// Largest CRL (DER) accepted: about 40,000 entries.
pub const MAX_CRL_DER_LEN: usize = 2 * 1024 * 1024;
/// Longest a CRL may claim to stay current (nextUpdate − thisUpdate).
pub const MAX_CRL_VALIDITY: Duration = Duration::days(400);

/// Why a certificate was revoked (RFC 5280 §5.3.1). `certificateHold` is not offered: Axis
/// revocation is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// unspecified (0)
    Unspecified,
    /// keyCompromise (1)
    KeyCompromise,
    /// cACompromise (2)
    CaCompromise,
    /// affiliationChanged (3)
    AffiliationChanged,
    /// superseded (4)
    Superseded,
    /// cessationOfOperation (5)
    CessationOfOperation,
    /// privilegeWithdrawn (9)
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every reason, for help texts.
    pub const ALL: [RevocationReason; 7] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn,
    ];

    /// The name used on the command line (RFC 5280 spelling in kebab case).
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::CaCompromise => "ca-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
            RevocationReason::PrivilegeWithdrawn => "privilege-withdrawn",
        }
    }

    /// The CRLReason code.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::PrivilegeWithdrawn => 9,
        }
    }

    /// From a CRLReason code; `None` for codes Axis does not issue.
    pub fn from_code(code: u8) -> Option<Self> {
        RevocationReason::ALL.into_iter().find(|r| r.code() == code)
    }

    fn to_rcgen(self) -> rcgen::RevocationReason {
        use rcgen::RevocationReason as R;
        match self {
            RevocationReason::Unspecified => R::Unspecified,
            RevocationReason::KeyCompromise => R::KeyCompromise,
            RevocationReason::CaCompromise => R::CaCompromise,
            RevocationReason::AffiliationChanged => R::AffiliationChanged,
            RevocationReason::Superseded => R::Superseded,
            RevocationReason::CessationOfOperation => R::CessationOfOperation,
            RevocationReason::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RevocationReason {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        RevocationReason::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| Error::UnknownRevocationReason {
                name: s.chars().take(32).collect(),
            })
    }
}

/// One revoked certificate as listed in a CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial of the revoked certificate.
    pub serial: Serial,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

/// What a CRL says.
#[derive(Clone, Debug)]
pub struct CrlRequest {
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate: relying parties treat the CRL as stale from then on.
    pub next_update: OffsetDateTime,
    /// cRLNumber; must increase with every CRL the CA issues (the CA directory keeps it).
    pub number: u64,
    /// The revoked certificates.
    pub revoked: Vec<RevokedEntry>,
}

/// A CRL just issued.
#[derive(Clone, Debug)]
pub struct IssuedCrl {
    der: Vec<u8>,
}

impl IssuedCrl {
    /// DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    /// PEM (`X509 CRL`).
    pub fn pem(&self) -> String {
        crate::cert::to_pem("X509 CRL", &self.der)
    }
}

impl CaSigner<'_> {
    /// Issues a CRL signed by this CA, with an authority key identifier, a CRL number and a
    /// reason code on every entry.
    pub fn issue_crl(&self, req: &CrlRequest) -> Result<IssuedCrl, Error> {
        if req.next_update <= req.this_update {
            return Err(Error::ValidityEmpty);
        }
        if req.next_update - req.this_update > MAX_CRL_VALIDITY {
            return Err(Error::CrlValidityTooLong {
                max_days: MAX_CRL_VALIDITY.whole_days(),
            });
        }
        let params = CertificateRevocationListParams {
            this_update: req.this_update,
            next_update: req.next_update,
            crl_number: SerialNumber::from_slice(&positive_be(req.number)),
            issuing_distribution_point: None,
            revoked_certs: req
                .revoked
                .iter()
                .map(|r| RevokedCertParams {
                    serial_number: r.serial.to_rcgen(),
                    revocation_time: r.revoked_at,
                    reason_code: Some(r.reason.to_rcgen()),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let key = self.rcgen_key();
        let issuer = self.rcgen_issuer(&key)?;
        let crl = params.signed_by(&issuer).map_err(|e| key.error(e))?;
        Ok(IssuedCrl {
            der: crl.der().to_vec(),
        })
    }
}

/// Big-endian bytes of `n` as a positive DER INTEGER body.
fn positive_be(n: u64) -> Vec<u8> {
    let b = n.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count().min(7);
    let mut v = b[skip..].to_vec();
    if v[0] & 0x80 != 0 {
        v.insert(0, 0);
    }
    v
}

/// Parses one DER CRL with the size budget and no trailing data.
pub(crate) fn parse(der: &[u8]) -> Result<CertificateRevocationList<'_>, Error> {
    if der.len() > MAX_CRL_DER_LEN {
        return Err(Error::CrlTooLarge {
            len: der.len(),
            max: MAX_CRL_DER_LEN,
        });
    }
    let (rest, crl) = CertificateRevocationList::from_der(der).map_err(|_| Error::CrlMalformed)?;
    if !rest.is_empty() {
        return Err(Error::CrlMalformed);
    }
    Ok(crl)
}

/// A summary of a CRL for display: issuer, number, dates, entries. Does not check the signature.
#[derive(Clone, Debug)]
pub struct CrlSummary {
    /// Issuer name.
    pub issuer: String,
    /// cRLNumber, if present and under 2^64.
    pub number: Option<u64>,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: Option<OffsetDateTime>,
    /// Entries.
    pub revoked: Vec<RevokedEntry>,
}

/// Reads a CRL's contents (for listings; [`crate::TrustStore`] does the checking).
pub fn summarize_crl(der: &[u8]) -> Result<CrlSummary, Error> {
    let crl = parse(der)?;
    let mut revoked = Vec::new();
    for r in crl.iter_revoked_certificates() {
        revoked.push(RevokedEntry {
            serial: Serial::from_bytes(r.raw_serial())?,
            revoked_at: r.revocation_date.to_datetime(),
            reason: r
                .reason_code()
                .and_then(|(_, c)| RevocationReason::from_code(c.0))
                .unwrap_or(RevocationReason::Unspecified),
        });
    }
    Ok(CrlSummary {
        issuer: crate::cert::name_to_string(crl.issuer()),
        number: crl.crl_number().and_then(|n| u64::try_from(n).ok()),
        this_update: crl.last_update().to_datetime(),
        next_update: crl.next_update().map(|t| t.to_datetime()),
        revoked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crl_numbers_encode_as_positive_integers() {
        assert_eq!(positive_be(0), vec![0]);
        assert_eq!(positive_be(1), vec![1]);
        assert_eq!(positive_be(0x80), vec![0, 0x80]);
        assert_eq!(positive_be(0x0102), vec![1, 2]);
    }

    #[test]
    fn reasons_round_trip() {
        for r in RevocationReason::ALL {
            assert_eq!(r.name().parse::<RevocationReason>().unwrap(), r);
            assert_eq!(RevocationReason::from_code(r.code()), Some(r));
        }
        assert!("hold".parse::<RevocationReason>().is_err());
    }
}
