//! Certificate profiles: what each kind of certificate may do, for how long, and how a
//! certificate says which profile it was issued under.
//!
//! Every certificate Axis issues carries exactly one policy OID in its certificatePolicies
//! extension that names its profile (see [`Profile::policy_oid`]). Key usage and extended key usage
//! are then checked against the profile, so a certificate cannot be used outside the job it was
//! issued for even where two profiles share the same key usage (agency seal and personal signer).

use std::fmt;
use std::str::FromStr;

use time::Duration;

use crate::key::KeyAlgorithm;

/// The arc under which Axis's policy OIDs live: `2.25.<UUID>` (ITU-T X.667 §6.3 lets anyone mint
/// an OID from a UUID without registration). UUID `1866d4a5-1966-4e09-b68e-772b3aa95895`.
/// Profiles are `<arc>.1.<n>`. A deployment with a registered arc changes only this constant.
pub const AXIS_OID_ARC: &str = "2.25.32435399129752126578442321803132622997";

/// A certificate profile (DESIGN.md, "Certificate profiles").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Profile {
    /// Offline root CA: keyCertSign, cRLSign; CA:true.
    RootCa,
    /// Issuing CA under the root ("CA for state agencies"): CA:true, pathLen 0.
    IssuingCa,
    /// Agency seal (organisation signature): digitalSignature, nonRepudiation.
    AgencySeal,
    /// A person who signs with authority for an agency: digitalSignature, nonRepudiation.
    PersonalSigner,
    /// Agency encryption key: keyEncipherment (RSA) or keyAgreement (EC).
    AgencyEncryption,
    /// Agency TLS client: digitalSignature; clientAuth.
    AgencyTlsClient,
    /// Axis server TLS: digitalSignature; serverAuth.
    AxisServerTls,
    /// Axis log / receipt signer: digitalSignature.
    AxisLogSigner,
    /// Axis operator (admin client): digitalSignature; clientAuth.
    AxisOperator,
}

/// Key usage bits as named in RFC 5280 §4.2.1.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyUsage {
    /// digitalSignature (bit 0)
    DigitalSignature,
    /// nonRepudiation / contentCommitment (bit 1)
    NonRepudiation,
    /// keyEncipherment (bit 2)
    KeyEncipherment,
    /// keyAgreement (bit 4)
    KeyAgreement,
    /// keyCertSign (bit 5)
    KeyCertSign,
    /// cRLSign (bit 6)
    CrlSign,
}

/// Extended key usages Axis profiles use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtendedKeyUsage {
    /// id-kp-serverAuth
    ServerAuth,
    /// id-kp-clientAuth
    ClientAuth,
}

/// What a profile fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSpec {
    /// Key usage bits, exactly.
    pub key_usage: &'static [KeyUsage],
    /// Extended key usages, exactly (empty: no EKU extension).
    pub extended_key_usage: &'static [ExtendedKeyUsage],
    /// `Some(path_len)` for a CA (`None` inside: unconstrained), `None` for an end entity.
    pub ca: Option<Option<u8>>,
    /// Whether the subject must carry an agency id.
    pub requires_agency_id: bool,
    /// Validity used when the administrator does not ask for one.
    pub default_validity: Duration,
    /// Longest validity the profile allows.
    pub max_validity: Duration,
    /// Key algorithm used when the administrator does not ask for one.
    pub default_key: KeyAlgorithm,
}

impl Profile {
    /// Every profile, in the order of the DESIGN.md table.
    pub const ALL: [Profile; 9] = [
        Profile::RootCa,
        Profile::IssuingCa,
        Profile::AgencySeal,
        Profile::PersonalSigner,
        Profile::AgencyEncryption,
        Profile::AgencyTlsClient,
        Profile::AxisServerTls,
        Profile::AxisLogSigner,
        Profile::AxisOperator,
    ];

    /// The short name used on the command line and in the CA index, e.g. `agency-seal`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::RootCa => "root-ca",
            Profile::IssuingCa => "issuing-ca",
            Profile::AgencySeal => "agency-seal",
            Profile::PersonalSigner => "personal-signer",
            Profile::AgencyEncryption => "agency-encryption",
            Profile::AgencyTlsClient => "agency-tls-client",
            Profile::AxisServerTls => "axis-server-tls",
            Profile::AxisLogSigner => "axis-log-signer",
            Profile::AxisOperator => "axis-operator",
        }
    }

    /// Last arc of the policy OID (`<AXIS_OID_ARC>.1.<n>`). Never renumber: issued certificates
    /// carry these numbers for their whole life.
    fn policy_number(self) -> u8 {
        match self {
            Profile::RootCa => 1,
            Profile::IssuingCa => 2,
            Profile::AgencySeal => 3,
            Profile::PersonalSigner => 4,
            Profile::AgencyEncryption => 5,
            Profile::AgencyTlsClient => 6,
            Profile::AxisServerTls => 7,
            Profile::AxisLogSigner => 8,
            Profile::AxisOperator => 9,
        }
    }

    /// The policy OID, in dotted form, that marks a certificate of this profile.
    pub fn policy_oid(self) -> String {
        format!("{AXIS_OID_ARC}.1.{}", self.policy_number())
    }

    /// The DER content octets of [`Self::policy_oid`] (what follows the OID tag and length).
    pub(crate) fn policy_oid_der(self) -> Vec<u8> {
        crate::der::oid_content(&self.policy_oid()).unwrap_or_default()
    }

    /// The profile whose policy OID content octets are `der`, if any.
    pub(crate) fn from_policy_oid_der(der: &[u8]) -> Option<Profile> {
        Profile::ALL
            .into_iter()
            .find(|p| p.policy_oid_der().as_slice() == der)
    }

    /// Whether certificates of this profile are CAs.
    pub fn is_ca(self) -> bool {
        matches!(self, Profile::RootCa | Profile::IssuingCa)
    }

    /// The profile's fixed properties. `key` matters only for agency encryption, whose key usage
    /// depends on the key type (keyEncipherment for RSA, keyAgreement for EC).
    pub fn spec(self, key: KeyAlgorithm) -> ProfileSpec {
        use ExtendedKeyUsage as E;
        use KeyUsage as K;
        let days = Duration::days;
        match self {
            Profile::RootCa => ProfileSpec {
                key_usage: &[K::KeyCertSign, K::CrlSign],
                extended_key_usage: &[],
                ca: Some(None),
                requires_agency_id: false,
                default_validity: days(20 * 365 + 5),
                max_validity: days(30 * 365 + 8),
                default_key: KeyAlgorithm::Rsa4096,
            },
            Profile::IssuingCa => ProfileSpec {
                key_usage: &[K::KeyCertSign, K::CrlSign],
                extended_key_usage: &[],
                ca: Some(Some(0)),
                requires_agency_id: false,
                default_validity: days(10 * 365 + 3),
                max_validity: days(20 * 365 + 5),
                default_key: KeyAlgorithm::Rsa4096,
            },
            Profile::AgencySeal => ProfileSpec {
                key_usage: &[K::DigitalSignature, K::NonRepudiation],
                extended_key_usage: &[],
                ca: None,
                requires_agency_id: true,
                default_validity: days(3 * 365 + 1),
                max_validity: days(5 * 365 + 2),
                default_key: KeyAlgorithm::Rsa2048,
            },
            Profile::PersonalSigner => ProfileSpec {
                key_usage: &[K::DigitalSignature, K::NonRepudiation],
                extended_key_usage: &[],
                ca: None,
                requires_agency_id: true,
                default_validity: days(2 * 365 + 1),
                max_validity: days(3 * 365 + 1),
                default_key: KeyAlgorithm::Rsa2048,
            },
            Profile::AgencyEncryption => ProfileSpec {
                key_usage: if key.is_rsa() {
                    &[K::KeyEncipherment]
                } else {
                    &[K::KeyAgreement]
                },
                extended_key_usage: &[],
                ca: None,
                requires_agency_id: true,
                default_validity: days(2 * 365 + 1),
                max_validity: days(3 * 365 + 1),
                default_key: KeyAlgorithm::Rsa2048,
            },
            Profile::AgencyTlsClient => ProfileSpec {
                key_usage: &[K::DigitalSignature],
                extended_key_usage: &[E::ClientAuth],
                ca: None,
                requires_agency_id: true,
                default_validity: days(397),
                max_validity: days(825),
                default_key: KeyAlgorithm::EcdsaP256,
            },
            Profile::AxisServerTls => ProfileSpec {
                key_usage: &[K::DigitalSignature],
                extended_key_usage: &[E::ServerAuth],
                ca: None,
                requires_agency_id: false,
                default_validity: days(397),
                max_validity: days(825),
                default_key: KeyAlgorithm::EcdsaP256,
            },
            Profile::AxisLogSigner => ProfileSpec {
                key_usage: &[K::DigitalSignature],
                extended_key_usage: &[],
                ca: None,
                requires_agency_id: false,
                default_validity: days(3 * 365 + 1),
                max_validity: days(5 * 365 + 2),
                default_key: KeyAlgorithm::EcdsaP256,
            },
            Profile::AxisOperator => ProfileSpec {
                key_usage: &[K::DigitalSignature],
                extended_key_usage: &[E::ClientAuth],
                ca: None,
                requires_agency_id: false,
                default_validity: days(365),
                max_validity: days(825),
                default_key: KeyAlgorithm::EcdsaP256,
            },
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name given is not a profile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown profile `{0}`; profiles are: root-ca, issuing-ca, agency-seal, personal-signer, agency-encryption, agency-tls-client, axis-server-tls, axis-log-signer, axis-operator"
)]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| UnknownProfile(s.chars().take(64).collect()))
    }
}

impl KeyUsage {
    pub(crate) fn to_rcgen(self) -> rcgen::KeyUsagePurpose {
        use rcgen::KeyUsagePurpose as R;
        match self {
            KeyUsage::DigitalSignature => R::DigitalSignature,
            KeyUsage::NonRepudiation => R::ContentCommitment,
            KeyUsage::KeyEncipherment => R::KeyEncipherment,
            KeyUsage::KeyAgreement => R::KeyAgreement,
            KeyUsage::KeyCertSign => R::KeyCertSign,
            KeyUsage::CrlSign => R::CrlSign,
        }
    }

    pub(crate) fn is_set(self, ku: &x509_parser::extensions::KeyUsage) -> bool {
        match self {
            KeyUsage::DigitalSignature => ku.digital_signature(),
            KeyUsage::NonRepudiation => ku.non_repudiation(),
            KeyUsage::KeyEncipherment => ku.key_encipherment(),
            KeyUsage::KeyAgreement => ku.key_agreement(),
            KeyUsage::KeyCertSign => ku.key_cert_sign(),
            KeyUsage::CrlSign => ku.crl_sign(),
        }
    }

    /// The RFC 5280 bit number.
    pub(crate) fn bit(self) -> u16 {
        match self {
            KeyUsage::DigitalSignature => 0,
            KeyUsage::NonRepudiation => 1,
            KeyUsage::KeyEncipherment => 2,
            KeyUsage::KeyAgreement => 4,
            KeyUsage::KeyCertSign => 5,
            KeyUsage::CrlSign => 6,
        }
    }
}

impl ExtendedKeyUsage {
    pub(crate) fn to_rcgen(self) -> rcgen::ExtendedKeyUsagePurpose {
        match self {
            ExtendedKeyUsage::ServerAuth => rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsage::ClientAuth => rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        }
    }
}

impl fmt::Display for KeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyUsage::DigitalSignature => "digitalSignature",
            KeyUsage::NonRepudiation => "nonRepudiation",
            KeyUsage::KeyEncipherment => "keyEncipherment",
            KeyUsage::KeyAgreement => "keyAgreement",
            KeyUsage::KeyCertSign => "keyCertSign",
            KeyUsage::CrlSign => "cRLSign",
        })
    }
}

impl fmt::Display for ExtendedKeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExtendedKeyUsage::ServerAuth => "serverAuth",
            ExtendedKeyUsage::ClientAuth => "clientAuth",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_policy_oids_are_distinct() {
        let mut oids = std::collections::HashSet::new();
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>().unwrap(), p);
            assert!(oids.insert(p.policy_oid_der()));
            assert_eq!(Profile::from_policy_oid_der(&p.policy_oid_der()), Some(p));
        }
        assert!("agency_seal".parse::<Profile>().is_err());
    }

    #[test]
    fn defaults_fit_within_maxima() {
        for p in Profile::ALL {
            let s = p.spec(KeyAlgorithm::Rsa2048);
            assert!(s.default_validity <= s.max_validity, "{p}");
            assert_eq!(s.ca.is_some(), p.is_ca());
        }
    }

    #[test]
    fn encryption_key_usage_follows_key_type() {
        let rsa = Profile::AgencyEncryption.spec(KeyAlgorithm::Rsa3072);
        let ec = Profile::AgencyEncryption.spec(KeyAlgorithm::EcdsaP256);
        assert_eq!(rsa.key_usage, &[KeyUsage::KeyEncipherment]);
        assert_eq!(ec.key_usage, &[KeyUsage::KeyAgreement]);
    }
}
