//! Certificate profiles: what each kind of certificate may do, for how long, and how a
//! certificate says which profile it was issued under.
//!
//! Every certificate Axis issues carries exactly one policy OID in its certificatePolicies
//! extension that names its profile: `<arc>.1.<n>`, under its PKI's [`PolicyArc`] (see
//! [`Profile::policy_oid`]). Key usage and extended key usage
//! are then checked against the profile, so a certificate cannot be used outside the job it was
//! issued for even where two profiles share the same key usage (agency seal and personal signer).

use std::fmt;
use std::str::FromStr;

use time::Duration;

use crate::error::Error;
use crate::key::KeyAlgorithm;

/// Axis's own OID arc: `2.25.<UUID>` (ITU-T X.667 §6.3 lets anyone mint an OID from a UUID
/// without registration), UUID `1866d4a5-1966-4e09-b68e-772b3aa95895`.
///
/// The signer's format OIDs live under it (`<AXIS_OID_ARC>.2.<n>`; they are inside Axis's DER
/// structures, never in a certificate). PKIs made before the policy arc became configurable
/// used it as their [`PolicyArc`] too, and still verify: a verifier reads the arc from the root.
/// Its second component is 128 bits wide, which Go before 1.22 (and so grpcurl and every Go
/// tool built before 2024) cannot parse in a certificate: new PKIs default to
/// [`DEFAULT_POLICY_ARC`].
pub const AXIS_OID_ARC: &str = "2.25.32435399129752126578442321803132622997";

/// The policy arc of a PKI made without `--policy-arc`: `2.999.1`, under the arc ITU-T X.660
/// reserves for examples (`{joint-iso-itu-t(2) example(999)}`), which nobody owns, so Axis
/// squats on no one's registered arc. Every component is below 2^31, so every X.509 stack
/// parses it. Uniqueness is not needed for security — a verifier reads the arc from its own
/// trust anchor, never from a global table — but a production PKI should use an arc its
/// operator registered (an IANA Private Enterprise Number `1.3.6.1.4.1.<PEN>.<…>`, or its
/// national registration authority's), given to `axis-pki init --policy-arc`.
pub const DEFAULT_POLICY_ARC: &str = "2.999.1";

/// Most components in a policy arc, and longest dotted text accepted.
const MAX_ARC_COMPONENTS: usize = 20;
const MAX_ARC_TEXT: usize = 128;

/// The OID arc under which a PKI's profile policies live: a certificate of profile `p` carries
/// exactly one policy `<arc>.1.<n>` (see [`Profile::policy_oid`]), and the root declares the arc
/// by its own `<arc>.1.1` (root-ca). Chosen once per PKI at `axis-pki init`; verifiers read it
/// from the root they trust ([`PolicyArc::of_ca`], [`crate::TrustStore`]), so it needs no
/// configuration anywhere else.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PolicyArc {
    dotted: String,
    /// DER content octets of the arc itself (no tag, no length).
    der: Vec<u8>,
}

impl PolicyArc {
    /// Parses a dotted OID: at least two components, the first 0, 1 or 2 (and the second below
    /// 40 unless the first is 2), no leading zeros, at most 20 components of up to 128 bits.
    pub fn parse(dotted: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::PolicyArcInvalid {
            arc: dotted.chars().take(MAX_ARC_TEXT).collect(),
            reason,
        };
        if dotted.len() > MAX_ARC_TEXT {
            return Err(invalid("longer than 128 characters"));
        }
        let parts: Vec<&str> = dotted.split('.').collect();
        if parts.len() < 2 {
            return Err(invalid("an OID has at least two components"));
        }
        if parts.len() > MAX_ARC_COMPONENTS {
            return Err(invalid("more than 20 components"));
        }
        for p in &parts {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("components are decimal numbers separated by dots"));
            }
            if p.len() > 1 && p.starts_with('0') {
                return Err(invalid("a component has a leading zero"));
            }
        }
        let der = crate::der::oid_content(dotted)
            .ok_or_else(|| invalid("the first component is 0, 1 or 2, the second below 40 under 0 and 1, each at most 128 bits"))?;
        Ok(PolicyArc {
            dotted: dotted.to_owned(),
            der,
        })
    }

    /// The arc new PKIs use unless told otherwise ([`DEFAULT_POLICY_ARC`]).
    pub fn default_arc() -> Self {
        // A constant that `parse` accepts (checked by a unit test).
        PolicyArc::parse(DEFAULT_POLICY_ARC).unwrap_or_else(|_| PolicyArc {
            dotted: String::new(),
            der: Vec::new(),
        })
    }

    /// The arc, dotted.
    pub fn as_str(&self) -> &str {
        &self.dotted
    }

    /// Whether every sub-identifier of `<arc>.1.<n>` fits in 31 bits, so that every X.509
    /// stack parses it (Go before 1.22 refuses larger ones; so do some 32-bit parsers).
    pub fn is_narrow(&self) -> bool {
        // Sub-identifiers are base-128, ending at each octet below 0x80.
        let mut value: u64 = 0;
        for &b in &self.der {
            value = (value << 7) | u64::from(b & 0x7f);
            if value >= 1 << 31 {
                return false;
            }
            if b & 0x80 == 0 {
                value = 0;
            }
        }
        true
    }

    /// The dotted policy OID of `profile` under this arc.
    pub fn policy_oid(&self, profile: Profile) -> String {
        format!("{}.1.{}", self.dotted, profile.policy_number())
    }

    /// The DER content octets of `<arc>.1.<n>`: the arc's, then one octet per small component.
    pub(crate) fn policy_oid_der(&self, profile: Profile) -> Vec<u8> {
        let mut v = self.der.clone();
        v.extend_from_slice(&[1, profile.policy_number()]);
        v
    }

    /// The profile whose policy OID under this arc has content octets `der`, if any.
    pub(crate) fn profile_of_policy(&self, der: &[u8]) -> Option<Profile> {
        let rest = der.strip_prefix(self.der.as_slice())?;
        match rest {
            [1, n] => Profile::ALL.into_iter().find(|p| p.policy_number() == *n),
            _ => None,
        }
    }

    /// Reads the arc a CA certificate's policy declares: the one policy `<arc>.1.1` (root-ca)
    /// or `<arc>.1.2` (issuing-ca) in its certificatePolicies, whose arc is that PKI's. A
    /// root names its own arc; an issuing CA carries the arc its root gave it. `Ok(None)` if
    /// the certificate declares none (it is not an Axis CA); [`Error::ProfileAmbiguous`] if it
    /// declares more than one.
    pub fn of_ca(cert_der: &[u8]) -> Result<Option<PolicyArc>, Error> {
        let cert = crate::cert::parse(cert_der)?;
        Ok(ca_arc_in(&cert)?.map(|(arc, _)| arc))
    }

    /// Builds an arc from the content octets of an OID that was read from a certificate.
    fn from_der(der: &[u8]) -> Option<Self> {
        let dotted = crate::der::oid_to_dotted(der)?;
        PolicyArc::parse(&dotted).ok()
    }
}

/// The arc and CA profile a CA certificate's policies declare (see [`PolicyArc::of_ca`]).
pub(crate) fn ca_arc_in(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Result<Option<(PolicyArc, Profile)>, Error> {
    use x509_parser::extensions::ParsedExtension;
    let mut found: Option<(PolicyArc, Profile)> = None;
    for ext in cert.extensions() {
        if let ParsedExtension::CertificatePolicies(policies) = ext.parsed_extension() {
            for p in policies.iter() {
                let der = p.policy_id.as_bytes();
                // `<arc>.1.1` or `<arc>.1.2`: the last two sub-identifiers are single octets
                // 1 and 1|2, and the octet before them ends the arc's last sub-identifier.
                let Some((&[one, n], arc)) = der.split_last_chunk::<2>().map(|(a, l)| (l, a))
                else {
                    continue;
                };
                let profile = match (one, n) {
                    (1, 1) => Profile::RootCa,
                    (1, 2) => Profile::IssuingCa,
                    _ => continue,
                };
                if arc.last().is_none_or(|b| b & 0x80 != 0) {
                    continue;
                }
                let Some(arc) = PolicyArc::from_der(arc) else {
                    continue;
                };
                if found.replace((arc, profile)).is_some() {
                    return Err(Error::ProfileAmbiguous);
                }
            }
        }
    }
    Ok(found)
}

impl Default for PolicyArc {
    fn default() -> Self {
        PolicyArc::default_arc()
    }
}

impl fmt::Display for PolicyArc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted)
    }
}

impl fmt::Debug for PolicyArc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyArc({})", self.dotted)
    }
}

impl FromStr for PolicyArc {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyArc::parse(s)
    }
}

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

    /// Last component of the policy OID (`<arc>.1.<n>`). Never renumber: issued certificates
    /// carry these numbers for their whole life.
    pub(crate) fn policy_number(self) -> u8 {
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

    /// The dotted policy OID that marks a certificate of this profile in a PKI whose arc is
    /// `arc`.
    pub fn policy_oid(self, arc: &PolicyArc) -> String {
        arc.policy_oid(self)
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
        for arc in [
            PolicyArc::default(),
            PolicyArc::parse(AXIS_OID_ARC).unwrap(),
        ] {
            let mut oids = std::collections::HashSet::new();
            for p in Profile::ALL {
                assert_eq!(p.name().parse::<Profile>().unwrap(), p);
                let der = arc.policy_oid_der(p);
                assert!(oids.insert(der.clone()));
                assert_eq!(arc.profile_of_policy(&der), Some(p));
                assert_eq!(
                    crate::der::oid_content(&p.policy_oid(&arc)).unwrap(),
                    der,
                    "{p}"
                );
            }
        }
        assert!("agency_seal".parse::<Profile>().is_err());
    }

    #[test]
    fn the_default_arc_parses_everywhere_and_the_legacy_one_does_not() {
        let default = PolicyArc::parse(DEFAULT_POLICY_ARC).unwrap();
        assert_eq!(default, PolicyArc::default());
        assert_eq!(default.as_str(), "2.999.1");
        assert!(default.is_narrow());
        assert!(!PolicyArc::parse(AXIS_OID_ARC).unwrap().is_narrow());
        assert!(
            PolicyArc::parse("1.3.6.1.4.1.2147483647")
                .unwrap()
                .is_narrow()
        );
        assert!(
            !PolicyArc::parse("1.3.6.1.4.1.2147483648")
                .unwrap()
                .is_narrow()
        );
        // 2.2147483567: the first sub-identifier is 80 + the second component.
        assert!(!PolicyArc::parse("2.2147483568").unwrap().is_narrow());
        assert!(PolicyArc::parse("2.2147483567").unwrap().is_narrow());
    }

    #[test]
    fn malformed_arcs_are_refused_with_the_reason() {
        #[track_caller]
        fn check(text: &str, reason: &str) {
            match PolicyArc::parse(text) {
                Err(Error::PolicyArcInvalid { reason: r, .. }) => {
                    assert!(r.contains(reason), "{text}: {r}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        check("2", "at least two");
        check("", "at least two");
        check("2..1", "decimal");
        check("2.a", "decimal");
        check("2.-1", "decimal");
        check(" 2.1", "decimal");
        check("2.01", "leading zero");
        check("3.1", "first component");
        check("1.40", "second below 40");
        check("2.340282366920938463463374607431768211456", "128 bits");
        check(&"1.2".repeat(70), "longer than 128");
        check(&["1"; 21].join("."), "more than 20");
        for ok in [
            "0.0",
            "1.39",
            "2.40",
            "2.999.1",
            "1.3.6.1.4.1.32473.7",
            AXIS_OID_ARC,
        ] {
            assert_eq!(PolicyArc::parse(ok).unwrap().as_str(), ok);
        }
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
