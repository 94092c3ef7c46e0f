//! The crate's one error type.

use time::OffsetDateTime;

use crate::agency_id::{AgencyId, AgencyIdError};
use crate::cert::Serial;
use crate::crl::RevocationReason;
use crate::profile::Profile;

/// RFC 3339 in UTC, as administrators and `openssl` print times (`2026-11-22T09:03:07Z`).
fn rfc3339(t: &OffsetDateTime) -> String {
    crate::check::rfc3339(*t)
}

/// Everything that can go wrong in the PKI library. Variants carry the context a person needs to
/// act; none carries key material or passphrases.
///
/// Where a variant has a `depth`, 0 is the certificate being verified, 1 its issuer, and so on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- keys -----
    /// The passphrase does not decrypt the key.
    #[error("wrong passphrase: the key could not be decrypted with it")]
    WrongPassphrase,
    /// The passphrase is too short to protect a new key.
    #[error("passphrase too short: use at least {min} characters")]
    PassphraseTooShort {
        /// Minimum length.
        min: usize,
    },
    /// A key file is not well-formed encrypted PKCS#8.
    #[error("the key is not a well-formed encrypted PKCS#8 (ENCRYPTED PRIVATE KEY) file")]
    KeyMalformed,
    /// A key file holds an unencrypted key; Axis never reads or writes those.
    #[error(
        "the key file is not encrypted; encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    KeyNotEncrypted,
    /// A key file uses encryption Axis does not read.
    #[error(
        "the key is encrypted with a scheme other than PBES2; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    UnsupportedKeyEncryption,
    /// A key file asks for more key-derivation work than Axis allows.
    #[error("the key file's key-derivation cost is above Axis's limit")]
    KeyKdfTooCostly,
    /// The key type is not one Axis uses.
    #[error("unsupported key: Axis uses RSA 2048/3072/4096 and ECDSA P-256")]
    UnsupportedKey,
    /// Unknown key algorithm name.
    #[error("unknown key type `{name}`; use rsa2048, rsa3072, rsa4096 or p256")]
    UnknownKeyAlgorithm {
        /// What was asked for.
        name: String,
    },
    /// Key generation or the system RNG failed.
    #[error("key generation failed (system random number generator or OpenSSL)")]
    KeyGeneration,
    /// Signing failed.
    #[error("signing failed")]
    SigningFailed,
    /// A key does not belong to the certificate it is used with.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    /// The key could not sign (a token removed or logged out, a key not allowed to sign…).
    #[error("the key could not sign: {0}")]
    KeyOperation(#[from] crate::keyops::KeyOpError),

    // ----- issuance -----
    /// A subject attribute is too long.
    #[error("{field} is {len} characters; the limit is {max}")]
    NameTooLong {
        /// Which attribute.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A subject attribute is empty or has control characters.
    #[error("{field} is empty or contains control characters")]
    NameInvalid {
        /// Which attribute.
        field: &'static str,
    },
    /// The profile needs a subject field that was not given.
    #[error("profile {profile} needs a {field}")]
    SubjectFieldMissing {
        /// The profile.
        profile: Profile,
        /// What is missing.
        field: &'static str,
    },
    /// The profile does not allow a subject field that was given.
    #[error("profile {profile} does not take a {field}")]
    SubjectFieldNotAllowed {
        /// The profile.
        profile: Profile,
        /// What was given.
        field: &'static str,
    },
    /// A DNS name is not a valid host name.
    #[error("`{name}` is not a valid DNS name")]
    DnsNameInvalid {
        /// The name (truncated).
        name: String,
    },
    /// Too many subjectAltName entries.
    #[error("{found} names given; at most {max}")]
    TooManyNames {
        /// Given.
        found: usize,
        /// Limit.
        max: usize,
    },
    /// not_after is not after not_before.
    #[error("the validity period is empty: it must end after it starts")]
    ValidityEmpty,
    /// Requested validity exceeds the profile's maximum.
    #[error(
        "profile {profile} allows at most {max_days} days of validity; {requested_days} were requested"
    )]
    ValidityTooLong {
        /// The profile.
        profile: Profile,
        /// Requested.
        requested_days: i64,
        /// Allowed.
        max_days: i64,
    },
    /// The certificate would outlive its issuer.
    #[error(
        "the certificate would end {} but its issuer ends {}; ask for fewer days or renew the CA first",
        rfc3339(not_after),
        rfc3339(issuer_not_after)
    )]
    ValidityBeyondIssuer {
        /// Requested end.
        not_after: OffsetDateTime,
        /// The issuer's end.
        issuer_not_after: OffsetDateTime,
    },
    /// The issuer cannot issue this profile.
    #[error("{} cannot issue a {profile} certificate", issuer.map_or("a self-signed request".to_owned(), |p| format!("a {p}")))]
    ProfileNotIssuableBy {
        /// The requested profile.
        profile: Profile,
        /// The issuer's profile, `None` for self-signed.
        issuer: Option<Profile>,
    },
    /// The signing certificate is not a CA certificate of an Axis CA profile.
    #[error("the signing certificate is not an Axis root or issuing CA certificate")]
    SignerNotCa,
    /// The issuer has expired.
    #[error("the issuing CA expired at {}; issue a new CA", rfc3339(not_after))]
    IssuerExpired {
        /// The issuer's end of validity.
        not_after: OffsetDateTime,
    },
    /// The issuer is not yet valid.
    #[error("the issuing CA is not valid before {}", rfc3339(not_before))]
    IssuerNotYetValid {
        /// The issuer's start of validity.
        not_before: OffsetDateTime,
    },
    /// A CRL's validity exceeds the limit.
    #[error("a CRL may stay current for at most {max_days} days")]
    CrlValidityTooLong {
        /// The limit.
        max_days: i64,
    },
    /// rcgen could not encode what was asked for.
    #[error("could not encode the certificate or CRL: {0}")]
    Encoding(String),
    /// PKCS#12 assembly failed in OpenSSL.
    #[error("could not build the PKCS#12 bundle")]
    Pkcs12Build,
    /// Unknown revocation reason name.
    #[error(
        "unknown revocation reason `{name}`; use unspecified, key-compromise, ca-compromise, affiliation-changed, superseded, cessation-of-operation or privilege-withdrawn"
    )]
    UnknownRevocationReason {
        /// What was asked for.
        name: String,
    },

    // ----- CSRs -----
    /// A CSR is larger than the budget.
    #[error("the CSR is {len} bytes; the limit is {max}")]
    CsrTooLarge {
        /// Size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// A CSR does not parse.
    #[error("the CSR is not a well-formed PKCS#10 request")]
    CsrMalformed,
    /// A CSR's self-signature does not verify.
    #[error(
        "the CSR signature is invalid (or uses SHA-1): the requester did not prove possession of the key"
    )]
    CsrSignatureInvalid,
    /// A CSR asks for something the profile does not grant.
    #[error("the CSR asks for {what}, which the profile does not grant; make a CSR without it")]
    CsrExcessRequest {
        /// What was asked for.
        what: String,
    },
    /// A CSR names a different agency than the one being issued for.
    #[error("the CSR is for agency {csr} but the certificate is being issued for {issuing}")]
    CsrAgencyMismatch {
        /// In the CSR.
        csr: AgencyId,
        /// Given by the administrator.
        issuing: AgencyId,
    },

    // ----- parsing -----
    /// PEM framing is broken.
    #[error("malformed PEM")]
    PemMalformed,
    /// A PEM block has the wrong label.
    #[error("expected a PEM block labelled {expected}")]
    PemUnexpectedLabel {
        /// The label expected.
        expected: &'static str,
    },
    /// A certificate is too large.
    #[error("a certificate is {len} bytes; the limit is {max}")]
    CertificateTooLarge {
        /// Size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// A certificate does not parse as DER X.509.
    #[error("malformed certificate (not DER X.509 v3)")]
    CertificateMalformed,
    /// A certificate parses but is not in the one byte form Axis evidence requires (strict
    /// DER outside the signed part, the signed algorithm repeated exactly, no unused bits, an
    /// ECDSA value with the low s): another encoding of a signed certificate.
    #[error("the certificate is not in its one DER form: {part}")]
    CertificateNotNormal {
        /// The part that differs.
        part: &'static str,
    },
    /// A CRL is too large.
    #[error("a CRL is {len} bytes; the limit is {max}")]
    CrlTooLarge {
        /// Size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// A CRL does not parse.
    #[error("malformed CRL")]
    CrlMalformed,
    /// A CRL parses but is not in the one byte form Axis evidence requires (as for
    /// [`Error::CertificateNotNormal`]).
    #[error("the CRL is not in its one DER form: {part}")]
    CrlNotNormal {
        /// The part that differs.
        part: &'static str,
    },
    /// A serial number is not 1–20 octets of hex.
    #[error("malformed serial number: give 1 to 20 bytes of hex as `openssl x509 -serial` prints")]
    SerialMalformed,
    /// Too many certificates.
    #[error("{found} certificates given; at most {max}")]
    TooManyCertificates {
        /// Given.
        found: usize,
        /// Limit.
        max: usize,
    },
    /// Too many CRLs.
    #[error("{found} CRLs given; at most {max}")]
    TooManyCrls {
        /// Given.
        found: usize,
        /// Limit.
        max: usize,
    },
    /// The agency id attribute is present but not a valid agency id.
    #[error("the certificate's agency id is malformed: {source}")]
    AgencyIdMalformed {
        /// Why.
        #[source]
        source: AgencyIdError,
    },
    /// The agency id attribute appears more than once.
    #[error("the certificate carries more than one agency id")]
    AgencyIdRepeated,
    /// The agency id attribute is not a string.
    #[error("the certificate's agency id is not a text attribute")]
    AgencyIdNotText,
    /// More than one Axis profile policy.
    #[error("the certificate names more than one Axis profile")]
    ProfileAmbiguous,
    /// A policy arc that is not a well-formed OID.
    #[error("`{arc}` is not a usable policy arc: {reason}")]
    PolicyArcInvalid {
        /// The text given (at most 128 characters).
        arc: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A trust anchor that declares no Axis policy arc.
    #[error(
        "the trust anchor `{subject}` is not an Axis root: its certificatePolicies hold no \
         `<arc>.1.1` (root-ca) policy naming its PKI's arc"
    )]
    AnchorWithoutPolicyArc {
        /// The anchor's subject.
        subject: String,
    },

    // ----- verification -----
    /// No trust anchor configured.
    #[error("no trust anchor (root certificate) given")]
    NoTrustAnchor,
    /// No issuer found for a certificate.
    #[error(
        "certificate at depth {depth}: unknown issuer `{issuer}` (not a trusted root or known CA)"
    )]
    UnknownIssuer {
        /// Depth.
        depth: usize,
        /// Issuer name.
        issuer: String,
    },
    /// Signature does not verify with the issuer's key, or uses a refused algorithm.
    #[error(
        "certificate at depth {depth}: bad signature (not signed by its issuer's key, or a refused algorithm)"
    )]
    BadSignature {
        /// Depth.
        depth: usize,
    },
    /// Refused signature algorithm.
    #[error("signature algorithm {oid} is not allowed (SHA-256 or stronger RSA/ECDSA only)")]
    SignatureAlgorithmNotAllowed {
        /// The algorithm OID.
        oid: String,
    },
    /// Path longer than the budget.
    #[error("certificate chain longer than {max}")]
    ChainTooLong {
        /// Limit.
        max: usize,
    },
    /// Expired.
    #[error("certificate at depth {depth} expired at {}", rfc3339(not_after))]
    Expired {
        /// Depth.
        depth: usize,
        /// End of validity.
        not_after: OffsetDateTime,
    },
    /// Not yet valid.
    #[error(
        "certificate at depth {depth} is not valid before {}",
        rfc3339(not_before)
    )]
    NotYetValid {
        /// Depth.
        depth: usize,
        /// Start of validity.
        not_before: OffsetDateTime,
    },
    /// An issuer is not a CA (CA:false or no keyCertSign).
    #[error(
        "certificate at depth {depth} issued a certificate but is not a CA (CA:FALSE or no keyCertSign)"
    )]
    IssuerNotCa {
        /// Depth of the issuer.
        depth: usize,
    },
    /// pathLenConstraint exceeded.
    #[error(
        "certificate at depth {depth} allows {path_len} intermediate CA(s) below it; the chain has more"
    )]
    PathLenExceeded {
        /// Depth of the constraining CA.
        depth: usize,
        /// Its pathLenConstraint.
        path_len: u32,
    },
    /// An unknown critical extension.
    #[error("certificate at depth {depth} has an unknown critical extension {oid}")]
    UnsupportedCriticalExtension {
        /// Depth.
        depth: usize,
        /// The extension.
        oid: String,
    },
    /// No CRL from the issuer.
    #[error(
        "no CRL from `{issuer}` to check the certificate at depth {depth}; publish one with `axis-pki crl`"
    )]
    CrlMissing {
        /// Depth of the certificate whose revocation could not be checked.
        depth: usize,
        /// The issuer.
        issuer: String,
    },
    /// A CRL names the issuer but is not signed by its key.
    #[error("the CRL for the certificate at depth {depth} is not signed by its issuer's key")]
    CrlBadSignature {
        /// Depth.
        depth: usize,
    },
    /// The CRL's issuer lacks cRLSign.
    #[error("the issuer of the certificate at depth {depth} is not allowed to sign CRLs")]
    CrlIssuerNotAllowed {
        /// Depth.
        depth: usize,
    },
    /// CRL not yet valid.
    #[error(
        "the CRL for the certificate at depth {depth} is not valid before {}",
        rfc3339(this_update)
    )]
    CrlNotYetValid {
        /// Depth.
        depth: usize,
        /// thisUpdate.
        this_update: OffsetDateTime,
    },
    /// CRL past nextUpdate (or without one).
    #[error(
        "the CRL for the certificate at depth {depth} is stale ({}); publish a fresh one with `axis-pki crl`", next_update.as_ref().map_or("it has no nextUpdate".to_owned(), |t| format!("its nextUpdate {} has passed", rfc3339(t)))
    )]
    CrlStale {
        /// Depth.
        depth: usize,
        /// nextUpdate.
        next_update: Option<OffsetDateTime>,
    },
    /// CRL with an unknown critical extension.
    #[error(
        "the CRL for the certificate at depth {depth} has a critical extension Axis does not support"
    )]
    CrlUnsupportedCriticalExtension {
        /// Depth.
        depth: usize,
    },
    /// Revoked.
    #[error(
        "certificate at depth {depth} (serial {serial}) was revoked at {}: {reason}",
        rfc3339(revoked_at)
    )]
    Revoked {
        /// Depth.
        depth: usize,
        /// Serial.
        serial: Serial,
        /// When.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
    /// The certificate carries no Axis profile.
    #[error("the certificate carries no Axis profile; the profile {expected} is required")]
    ProfileMissing {
        /// Required profile.
        expected: Profile,
    },
    /// The certificate is of another profile.
    #[error("the profile {expected} is required, but this certificate has the profile {found}")]
    WrongProfile {
        /// Required.
        expected: Profile,
        /// Found.
        found: Profile,
    },
    /// Key usage differs from the profile's.
    #[error("key usage is [{found}] but the profile requires exactly [{expected}]")]
    KeyUsageMismatch {
        /// Required.
        expected: String,
        /// Found.
        found: String,
    },
    /// EKU differs from the profile's.
    #[error("extended key usage is [{found}] but the profile requires exactly [{expected}]")]
    ExtendedKeyUsageMismatch {
        /// Required.
        expected: String,
        /// Found.
        found: String,
    },
    /// CA flag differs from the profile's.
    #[error("profile {profile} requires CA:{}, but the certificate has CA:{}", if *is_ca { "FALSE" } else { "TRUE" }, if *is_ca { "TRUE" } else { "FALSE" })]
    CaFlagMismatch {
        /// Profile.
        profile: Profile,
        /// Whether the certificate is a CA.
        is_ca: bool,
    },
    /// An agency profile without an agency id.
    #[error(
        "a {profile} certificate must carry an agency id (organizationIdentifier), and this one does not"
    )]
    AgencyIdMissing {
        /// Profile.
        profile: Profile,
    },
}
