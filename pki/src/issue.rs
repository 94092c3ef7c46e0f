//! Issuance: a profile, a subject, a validity and a public key become a certificate, signed by a
//! CA whose own certificate and key are checked first.
//!
//! Everything the certificate may do comes from the [`Profile`]; nothing comes from the request.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa,
    Issuer, KeyIdMethod, SanType,
};
use time::OffsetDateTime;

use crate::agency_id::AgencyId;
use crate::cert::{self, AGENCY_ID_ATTRIBUTE_ARCS, Serial, TITLE_ARCS};
use crate::error::Error;
use crate::key::PublicKey;
use crate::keyops::{KeySigner, RcgenKey};
use crate::profile::{PolicyArc, Profile};

/// RFC 5280 upper bound on a name attribute (ub-common-name, ub-organization-name: 64).
pub const MAX_NAME_ATTRIBUTE_CHARS: usize = 64;
/// Most subjectAltName entries on a server certificate.
pub const MAX_SANS: usize = 16;

/// Who a certificate is for. Which fields are required depends on the profile (see
/// [`Subject::check`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subject {
    /// CN: the agency's or person's name, the CA's name, or the server's DNS name.
    pub common_name: String,
    /// O: the organisation (for a person: the agency they sign for).
    pub organization: Option<String>,
    /// OU: a unit within the organisation.
    pub organizational_unit: Option<String>,
    /// L: the locality (province or city).
    pub locality: Option<String>,
    /// title: a personal signer's position, e.g. "Phó Chủ tịch".
    pub title: Option<String>,
    /// The agency the certificate is bound to (required for agency and personal profiles).
    pub agency_id: Option<AgencyId>,
    /// DNS names (server TLS only).
    pub dns_names: Vec<String>,
    /// IP addresses (server TLS only).
    pub ip_addresses: Vec<IpAddr>,
}

impl Subject {
    /// A subject with just a common name.
    pub fn new(common_name: impl Into<String>) -> Self {
        Subject {
            common_name: common_name.into(),
            ..Subject::default()
        }
    }

    /// Checks the subject fits the profile: required fields present, forbidden ones absent,
    /// lengths within RFC 5280 bounds.
    pub fn check(&self, profile: Profile) -> Result<(), Error> {
        let spec = profile.spec(crate::KeyAlgorithm::Rsa2048);
        for (field, value) in [
            ("common name", Some(&self.common_name)),
            ("organization", self.organization.as_ref()),
            ("organizational unit", self.organizational_unit.as_ref()),
            ("locality", self.locality.as_ref()),
            ("title", self.title.as_ref()),
        ] {
            if let Some(v) = value {
                let len = v.chars().count();
                if len > MAX_NAME_ATTRIBUTE_CHARS {
                    return Err(Error::NameTooLong {
                        field,
                        len,
                        max: MAX_NAME_ATTRIBUTE_CHARS,
                    });
                }
                if v.trim().is_empty() || v.chars().any(char::is_control) {
                    return Err(Error::NameInvalid { field });
                }
            }
        }
        if spec.requires_agency_id && self.agency_id.is_none() {
            return Err(Error::SubjectFieldMissing {
                profile,
                field: "agency id",
            });
        }
        if !spec.requires_agency_id && self.agency_id.is_some() {
            return Err(Error::SubjectFieldNotAllowed {
                profile,
                field: "agency id",
            });
        }
        if profile == Profile::PersonalSigner && self.title.is_none() {
            return Err(Error::SubjectFieldMissing {
                profile,
                field: "title (position)",
            });
        }
        if profile != Profile::PersonalSigner && self.title.is_some() {
            return Err(Error::SubjectFieldNotAllowed {
                profile,
                field: "title (position)",
            });
        }
        let sans = self.dns_names.len() + self.ip_addresses.len();
        if profile == Profile::AxisServerTls {
            if sans == 0 {
                return Err(Error::SubjectFieldMissing {
                    profile,
                    field: "DNS name or IP address",
                });
            }
            if sans > MAX_SANS {
                return Err(Error::TooManyNames {
                    found: sans,
                    max: MAX_SANS,
                });
            }
            for d in &self.dns_names {
                if !is_dns_name(d) {
                    return Err(Error::DnsNameInvalid { name: truncate(d) });
                }
            }
        } else if sans > 0 {
            return Err(Error::SubjectFieldNotAllowed {
                profile,
                field: "DNS name or IP address",
            });
        }
        Ok(())
    }

    pub(crate) fn to_rcgen(&self) -> Result<DistinguishedName, Error> {
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CountryName,
            DnValue::PrintableString(
                "VN".try_into()
                    .map_err(|_| Error::NameInvalid { field: "country" })?,
            ),
        );
        if let Some(l) = &self.locality {
            dn.push(DnType::LocalityName, l.as_str());
        }
        if let Some(o) = &self.organization {
            dn.push(DnType::OrganizationName, o.as_str());
        }
        if let Some(ou) = &self.organizational_unit {
            dn.push(DnType::OrganizationalUnitName, ou.as_str());
        }
        if let Some(id) = &self.agency_id {
            dn.push(
                DnType::CustomDnType(AGENCY_ID_ATTRIBUTE_ARCS.to_vec()),
                DnValue::PrintableString(
                    id.as_str()
                        .try_into()
                        .map_err(|_| Error::NameInvalid { field: "agency id" })?,
                ),
            );
        }
        if let Some(t) = &self.title {
            dn.push(DnType::CustomDnType(TITLE_ARCS.to_vec()), t.as_str());
        }
        dn.push(DnType::CommonName, self.common_name.as_str());
        Ok(dn)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn is_dns_name(s: &str) -> bool {
    s.len() <= 253
        && !s.is_empty()
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// What to issue.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// The profile; it alone decides key usage, EKU, CA flags and path length.
    pub profile: Profile,
    /// Who the certificate is for.
    pub subject: Subject,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity; `not_after - not_before` must not exceed the profile's maximum.
    pub not_after: OffsetDateTime,
    /// The serial number (use [`Serial::random`]).
    pub serial: Serial,
}

impl IssueRequest {
    fn check(&self, key_alg: crate::KeyAlgorithm) -> Result<(), Error> {
        self.subject.check(self.profile)?;
        if self.not_after <= self.not_before {
            return Err(Error::ValidityEmpty);
        }
        let max = self.profile.spec(key_alg).max_validity;
        let asked = self.not_after - self.not_before;
        if asked > max {
            return Err(Error::ValidityTooLong {
                profile: self.profile,
                requested_days: asked.whole_days(),
                max_days: max.whole_days(),
            });
        }
        Ok(())
    }

    fn params(
        &self,
        key_alg: crate::KeyAlgorithm,
        arc: &PolicyArc,
    ) -> Result<CertificateParams, Error> {
        let spec = self.profile.spec(key_alg);
        let mut p = CertificateParams::default();
        p.not_before = self.not_before;
        p.not_after = self.not_after;
        p.serial_number = Some(self.serial.to_rcgen());
        p.distinguished_name = self.subject.to_rcgen()?;
        p.key_usages = spec.key_usage.iter().map(|k| k.to_rcgen()).collect();
        p.extended_key_usages = spec
            .extended_key_usage
            .iter()
            .map(|e| e.to_rcgen())
            .collect();
        p.is_ca = match spec.ca {
            Some(Some(n)) => IsCa::Ca(BasicConstraints::Constrained(n)),
            Some(None) => IsCa::Ca(BasicConstraints::Unconstrained),
            None => IsCa::ExplicitNoCa,
        };
        p.key_identifier_method = KeyIdMethod::Sha256;
        p.use_authority_key_identifier_extension = true;
        for d in &self.subject.dns_names {
            p.subject_alt_names.push(SanType::DnsName(
                d.as_str()
                    .try_into()
                    .map_err(|_| Error::DnsNameInvalid { name: truncate(d) })?,
            ));
        }
        for ip in &self.subject.ip_addresses {
            p.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &[2, 5, 29, 32],
            crate::der::certificate_policies(&arc.policy_oid_der(self.profile)),
        ));
        Ok(p)
    }
}

/// A certificate just issued.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    der: Vec<u8>,
}

impl IssuedCertificate {
    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> String {
        cert::to_pem("CERTIFICATE", &self.der)
    }
}

/// Issues a self-signed root CA certificate for a PKI whose policy arc is
/// [`PolicyArc::default`] ([`crate::DEFAULT_POLICY_ARC`]).
pub fn issue_root(req: &IssueRequest, key: &dyn KeySigner) -> Result<IssuedCertificate, Error> {
    issue_root_with_arc(req, &PolicyArc::default(), key)
}

/// Issues a self-signed root CA certificate for a PKI whose profiles live under `arc`: the
/// root's own policy is `<arc>.1.1`, and every certificate of the PKI carries `<arc>.1.<n>`
/// (the issuing CAs and their certificates inherit the arc from the CA that signs them).
pub fn issue_root_with_arc(
    req: &IssueRequest,
    arc: &PolicyArc,
    key: &dyn KeySigner,
) -> Result<IssuedCertificate, Error> {
    if req.profile != Profile::RootCa {
        return Err(Error::ProfileNotIssuableBy {
            profile: req.profile,
            issuer: None,
        });
    }
    req.check(key.algorithm())?;
    let params = req.params(key.algorithm(), arc)?;
    let signing = RcgenKey::new(key);
    let cert = params.self_signed(&signing).map_err(|e| signing.error(e))?;
    Ok(IssuedCertificate {
        der: cert.der().to_vec(),
    })
}

/// A CA ready to sign: its certificate checked against its key and against the time of issue.
pub struct CaSigner<'a> {
    cert_der: &'a [u8],
    key: &'a dyn KeySigner,
    profile: Profile,
    arc: PolicyArc,
    not_after: OffsetDateTime,
}

impl<'a> CaSigner<'a> {
    /// Checks that `cert_der` is an Axis root or issuing CA certificate, valid at `now`, whose
    /// public key is `key`'s. Its policy (`<arc>.1.1` or `<arc>.1.2`) gives the PKI's arc, under
    /// which everything it issues is marked.
    pub fn new(
        cert_der: &'a [u8],
        key: &'a dyn KeySigner,
        now: OffsetDateTime,
    ) -> Result<Self, Error> {
        let cert = cert::parse(cert_der)?;
        let (arc, profile) = crate::profile::ca_arc_in(&cert)?.ok_or(Error::SignerNotCa)?;
        // Exactly one profile under its own arc (an end-entity policy beside it is ambiguous).
        if cert::profile_in(&cert, &arc)? != Some(profile) || !cert.is_ca() {
            return Err(Error::SignerNotCa);
        }
        if cert.public_key().raw != key.public_key_der() {
            return Err(Error::KeyMismatch);
        }
        let v = cert.validity();
        let (nb, na) = (v.not_before.to_datetime(), v.not_after.to_datetime());
        if now < nb {
            return Err(Error::IssuerNotYetValid { not_before: nb });
        }
        if now >= na {
            return Err(Error::IssuerExpired { not_after: na });
        }
        Ok(CaSigner {
            cert_der,
            key,
            profile,
            arc,
            not_after: na,
        })
    }

    /// The CA's profile (root or issuing).
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The CA's certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        self.cert_der
    }

    /// The policy arc of the CA's PKI, read from its certificate.
    pub fn policy_arc(&self) -> &PolicyArc {
        &self.arc
    }

    /// The CA's key as rcgen signs with it (keeps the key's own error, see [`RcgenKey`]).
    pub(crate) fn rcgen_key(&self) -> RcgenKey<'a> {
        RcgenKey::new(self.key)
    }

    pub(crate) fn rcgen_issuer<'k>(
        &self,
        key: &'k RcgenKey<'a>,
    ) -> Result<Issuer<'static, &'k RcgenKey<'a>>, Error> {
        Issuer::from_ca_cert_der(&self.cert_der.to_vec().into(), key)
            .map_err(|e| Error::Encoding(e.to_string()))
    }

    /// Issues a certificate for `public_key` under this CA.
    ///
    /// 1. The root issues only issuing CAs, and an issuing CA only end-entity profiles
    ///    (pathLen 0; DESIGN.md trust model).
    /// 2. The subject fits the profile; the validity is within the profile's bound and ends no
    ///    later than the CA's own (RFC 5280 §6.1.3 would reject the tail anyway).
    /// 3. Key usage, EKU, basic constraints, SKI/AKI and the profile's policy OID come from the
    ///    profile only.
    pub fn issue(
        &self,
        req: &IssueRequest,
        public_key: &PublicKey,
    ) -> Result<IssuedCertificate, Error> {
        let allowed = match self.profile {
            Profile::RootCa => req.profile == Profile::IssuingCa,
            Profile::IssuingCa => !req.profile.is_ca(),
            _ => false,
        };
        if !allowed {
            return Err(Error::ProfileNotIssuableBy {
                profile: req.profile,
                issuer: Some(self.profile),
            });
        }
        req.check(public_key.algorithm())?;
        if req.not_after > self.not_after {
            return Err(Error::ValidityBeyondIssuer {
                not_after: req.not_after,
                issuer_not_after: self.not_after,
            });
        }
        let params = req.params(public_key.algorithm(), &self.arc)?;
        let key = self.rcgen_key();
        let issuer = self.rcgen_issuer(&key)?;
        let cert = params
            .signed_by(public_key, &issuer)
            .map_err(|e| key.error(e))?;
        Ok(IssuedCertificate {
            der: cert.der().to_vec(),
        })
    }
}
