//! Detached CMS SignedData (RFC 5652 §5) with CAdES-BES signed attributes, as stock
//! `openssl cms -verify -binary` reads it.
//!
//! ```text
//! ContentInfo { id-signedData, [0] SignedData {
//!   version 1, digestAlgorithms { sha256 }, encapContentInfo { id-data }   -- no eContent
//!   certificates [0] { signer certificate, its issuing CA(s) },
//!   signerInfos { SignerInfo {
//!     version 1, sid issuerAndSerialNumber, digestAlgorithm sha256,
//!     signedAttrs [0] { contentType id-data, messageDigest SHA-256(content),
//!                       signingTime (UTCTime 1950–2049), signingCertificateV2 { SHA-256(cert),
//!                       issuerSerial } },
//!                       -- accepted from other stacks, never written: cmsAlgorithmProtection
//!                       -- (RFC 6211, matching the algorithms), smimeCapabilities (RFC 8551)
//!     signatureAlgorithm sha256WithRSAEncryption | ecdsa-with-SHA256, signature } } } }
//! ```

use std::fmt;

use axis_pki::{AgencyId, KeySigner, Profile, Serial, TrustStore, VerifiedCert};
use time::OffsetDateTime;

use crate::cms::certinfo::{self, KeyKind};
use crate::cms::der::{self, Reader};
use crate::cms::digest::sha256;
use crate::cms::oid;
use crate::error::{Error, FormatError, KeyError, SignatureError, SigningTimeError};
use crate::limits::{MAX_SIGNATURE_CERTS, MAX_SIGNATURE_LEN, SIGNING_TIME_TOLERANCE};

/// What a signature is for; every signature error names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureRole {
    /// The person with authority, over the manifest (personal signer profile).
    PersonalSigner,
    /// The agency seal, over the manifest (agency seal profile).
    AgencySeal,
    /// The sender's agency seal over the routing header.
    Submission,
    /// An agency seal over a receipt or status.
    Receipt,
    /// The axis log signer over a tree head.
    TreeHead,
    /// The axis operator over a version of the unit directory.
    Directory,
}

impl SignatureRole {
    /// The certificate profile a signature in this role must be made with.
    pub fn profile(self) -> Profile {
        match self {
            SignatureRole::PersonalSigner => Profile::PersonalSigner,
            SignatureRole::TreeHead => Profile::AxisLogSigner,
            SignatureRole::Directory => Profile::AxisOperator,
            _ => Profile::AgencySeal,
        }
    }
}

impl fmt::Display for SignatureRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureRole::PersonalSigner => "personal",
            SignatureRole::AgencySeal => "agency seal",
            SignatureRole::Submission => "submission",
            SignatureRole::Receipt => "receipt",
            SignatureRole::TreeHead => "tree head",
            SignatureRole::Directory => "directory version",
        })
    }
}

/// A signing key with its verified certificate (personal signer, agency seal, or the axis log
/// signer for tree heads). The key may be a key file in memory or a key on a PKCS#11 token:
/// anything that implements [`KeySigner`].
pub struct Signer<'a> {
    key: &'a dyn KeySigner,
    cert: &'a VerifiedCert,
}

impl<'a> Signer<'a> {
    /// Pairs a key with its certificate, checking that they match and that the certificate was
    /// verified for a signing profile.
    pub fn new(key: &'a dyn KeySigner, cert: &'a VerifiedCert) -> Result<Self, Error> {
        let role = match cert.profile() {
            Profile::PersonalSigner => SignatureRole::PersonalSigner,
            Profile::AgencySeal => SignatureRole::AgencySeal,
            Profile::AxisLogSigner => SignatureRole::TreeHead,
            Profile::AxisOperator => SignatureRole::Directory,
            found => {
                return Err(KeyError::WrongCertificateProfile {
                    expected: Profile::AgencySeal,
                    found,
                }
                .into());
            }
        };
        if key.public_key_der() != cert.public_key_der() {
            return Err(KeyError::KeyMismatch { role }.into());
        }
        let axis_role = matches!(role, SignatureRole::TreeHead | SignatureRole::Directory);
        if !axis_role && cert.agency_id().is_none() {
            return Err(KeyError::CertificateWithoutAgency {
                profile: cert.profile(),
            }
            .into());
        }
        Ok(Signer { key, cert })
    }

    /// The certificate.
    pub fn certificate(&self) -> &VerifiedCert {
        self.cert
    }

    pub(crate) fn agency(&self) -> Option<&AgencyId> {
        self.cert.agency_id()
    }

    pub(crate) fn profile(&self) -> Profile {
        self.cert.profile()
    }
}

fn sha256_alg() -> Vec<u8> {
    // RFC 5754 §2: parameters absent.
    der::seq(&[&der::oid(oid::SHA256)])
}

pub(crate) fn attribute(oid: &[u8], value: &[u8]) -> Vec<u8> {
    der::seq(&[&der::oid(oid), &der::set_of(vec![value.to_vec()])])
}

/// Makes a detached SignedData over `content`.
pub(crate) fn sign_detached(
    content: &[u8],
    signer: &Signer<'_>,
    signing_time: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    let attrs = standard_attributes(content, signer, signing_time)?;
    sign_attributes(signer, attrs)
}

/// The four CAdES-BES signed attributes Axis writes (see the module docs).
pub(crate) fn standard_attributes(
    content: &[u8],
    signer: &Signer<'_>,
    signing_time: OffsetDateTime,
) -> Result<Vec<Vec<u8>>, Error> {
    let cert = signer.cert.der();
    let info = certinfo::cert_info(cert)?;
    let ess_cert_id = der::seq(&[
        &der::octets(&sha256(cert)),
        &der::seq(&[
            // GeneralNames { directoryName [4] EXPLICIT Name }
            &der::seq(&[&der::tlv(der::context(4), info.issuer)]),
            info.serial,
        ]),
    ]);
    let signing_certificate_v2 = der::seq(&[&der::seq(&[&ess_cert_id])]);
    Ok(vec![
        attribute(oid::CONTENT_TYPE, &der::oid(oid::DATA)),
        attribute(oid::MESSAGE_DIGEST, &der::octets(&sha256(content))),
        attribute(oid::SIGNING_TIME, &der::cms_time(signing_time)?),
        attribute(oid::SIGNING_CERTIFICATE_V2, &signing_certificate_v2),
    ])
}

/// The detached SignedData whose signed attributes are `attrs` (each one `Attribute` DER).
pub(crate) fn sign_attributes(signer: &Signer<'_>, attrs: Vec<Vec<u8>>) -> Result<Vec<u8>, Error> {
    let cert = signer.cert.der();
    let info = certinfo::cert_info(cert)?;
    // RFC 5652 §5.4: the signature covers the DER of the SET OF attributes (tag 0x31); the
    // SignerInfo carries the same content under [0] IMPLICIT.
    let signed_attrs_set = der::set_of(attrs);
    let signature = signer
        .key
        .sign(&signed_attrs_set)
        .map_err(KeyError::Signing)?;
    let mut signed_attrs = signed_attrs_set;
    signed_attrs[0] = der::context(0);
    let signature_alg = match certinfo::key_kind(info.spki)? {
        // RFC 4055 §5: NULL parameters with sha256WithRSAEncryption.
        KeyKind::Rsa(_) => der::seq(&[&der::oid(oid::SHA256_WITH_RSA), &der::null()]),
        KeyKind::EcP256(_) => der::seq(&[&der::oid(oid::ECDSA_WITH_SHA256)]),
    };
    let signer_info = der::seq(&[
        &der::uint(1),
        &info.issuer_and_serial(),
        &sha256_alg(),
        &signed_attrs,
        &signature_alg,
        &der::octets(&signature),
    ]);
    // The signer certificate and the CAs above it, without the trust anchor (the verifier has
    // it; OpenSSL is given it with -CAfile).
    let chain = signer.cert.chain();
    let mut certs = vec![cert.to_vec()];
    certs.extend(
        chain
            .iter()
            .take(chain.len().saturating_sub(1))
            .map(|c| c.to_vec()),
    );
    let mut certificates = der::set_of(certs);
    certificates[0] = der::context(0);
    let signed_data = der::seq(&[
        &der::uint(1),
        &der::set_of(vec![sha256_alg()]),
        &der::seq(&[&der::oid(oid::DATA)]),
        &certificates,
        &der::set_of(vec![signer_info]),
    ]);
    Ok(der::seq(&[
        &der::oid(oid::SIGNED_DATA),
        &der::tlv(der::context(0), &signed_data),
    ]))
}

/// The status of a signer's certificate as verification found it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateStatus {
    /// Chain, validity, profile and revocation (a current CRL not listing it) all checked at
    /// `checked_at`.
    Good {
        /// The verification time.
        checked_at: OffsetDateTime,
    },
}

/// What a DMS shows about one verified signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureReport {
    /// What the signature is for.
    pub role: SignatureRole,
    /// The signer's name (certificate common name: a person, or the agency for a seal).
    pub signer_name: String,
    /// The person's position (certificate title), for personal signatures.
    pub position: Option<String>,
    /// The agency the certificate is bound to.
    pub agency: AgencyId,
    /// The signing time the signature claims (CAdES signingTime).
    pub signing_time: OffsetDateTime,
    /// The certificate's serial number.
    pub certificate_serial: Serial,
    /// End of the certificate's validity.
    pub certificate_not_after: OffsetDateTime,
    /// Certificate status at verification.
    pub certificate_status: CertificateStatus,
    /// The certificates above the signer's on the verified path, its issuer first and the trust
    /// anchor last (DER): which CAs, and so which CRLs, the verification relied on.
    pub certificate_chain: Vec<Vec<u8>>,
}

impl fmt::Display for SignatureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} signature by {}", self.role, self.signer_name)?;
        if let Some(p) = &self.position {
            write!(f, " ({p})")?;
        }
        write!(
            f,
            " of agency {}, signed {}, certificate {}",
            self.agency, self.signing_time, self.certificate_serial
        )?;
        match self.certificate_status {
            CertificateStatus::Good { checked_at } => write!(f, " good at {checked_at}"),
        }
    }
}

/// A signature that verified: the certificate and the report.
pub(crate) struct VerifiedSignature {
    pub(crate) report: SignatureReport,
}

/// A signature that verified, before any agency binding is read: the signer's certificate and
/// the signing time it claims. Roles without an agency (the axis log signer) stop here. Only
/// [`crate::cms::verify`] makes one.
pub struct VerifiedSigner {
    pub(crate) cert: VerifiedCert,
    pub(crate) signing_time: OffsetDateTime,
}

impl VerifiedSigner {
    /// The signer's certificate, verified for the role's profile at the verification time.
    pub fn certificate(&self) -> &VerifiedCert {
        &self.cert
    }

    /// The signing time the signature claims (checked against the verification time and the
    /// certificate's validity).
    pub fn signing_time(&self) -> OffsetDateTime {
        self.signing_time
    }
}

/// [`verify_signer`], then the agency binding every agency role needs, as a report.
pub(crate) fn verify_detached(
    signature: &[u8],
    content: &[u8],
    role: SignatureRole,
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<VerifiedSignature, Error> {
    let VerifiedSigner {
        cert: verified,
        signing_time,
    } = verify_signer(signature, content, role, store, at)?;
    let agency = verified
        .agency_id()
        .cloned()
        .ok_or(KeyError::CertificateWithoutAgency {
            profile: role.profile(),
        })?;
    Ok(VerifiedSignature {
        report: SignatureReport {
            role,
            signer_name: verified.common_name().unwrap_or_default().to_owned(),
            position: verified.title().map(str::to_owned),
            agency,
            signing_time,
            certificate_serial: verified.serial().clone(),
            certificate_not_after: verified.not_after(),
            certificate_status: CertificateStatus::Good { checked_at: at },
            certificate_chain: verified.chain().to_vec(),
        },
    })
}

/// Verifies a detached SignedData over `content` for `role` at `at`.
///
/// 1. Budget on the signature size and the number of certificates (resource exhaustion).
/// 2. Strict DER; exactly one SignerInfo, SHA-256, detached id-data content: nothing else is
///    accepted, so there is no algorithm or content-type confusion (RFC 5652 §5).
/// 3. The four CAdES-BES signed attributes, each once with one value (RFC 5652 §11;
///    ETSI EN 319 122-1 §5.2); contentType id-data. Besides them only attributes other CMS
///    stacks add by default and that change nothing a verifier decides: CMSAlgorithmProtection
///    (RFC 6211, BouncyCastle), which must name exactly the digest and signature algorithms used
///    (it exists to stop algorithm substitution), and smimeCapabilities (RFC 8551 §2.5.2,
///    `openssl cms -sign`), a signed list of preferences that must be well-formed. Any other
///    attribute is refused by its OID: an unknown one may carry a meaning (a signature policy,
///    a commitment type) that Axis would silently ignore.
/// 4. messageDigest equals SHA-256 of the presented content: the signature is over these bytes.
/// 5. The signer certificate is the one named by issuerAndSerialNumber, and signing-certificate-v2
///    holds its SHA-256 (RFC 5035: no substitution of another certificate with the same key or
///    the same issuer and serial).
/// 6. The signature value verifies over the DER SET of the signed attributes with the
///    certificate's key; the signature algorithm matches the key type.
/// 7. The certificate chains to the trust store at `at`, for the role's profile, with current
///    CRLs that do not list it (axis_pki; revocation fails closed).
/// 8. The signing time is not after `at` (beyond [`SIGNING_TIME_TOLERANCE`]) and lies within the
///    certificate's validity.
pub(crate) fn verify_signer(
    signature: &[u8],
    content: &[u8],
    role: SignatureRole,
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<VerifiedSigner, Error> {
    const WHAT: &str = "CMS SignedData";
    // Step 1.
    if signature.len() > MAX_SIGNATURE_LEN {
        return Err(FormatError::TooLarge {
            what: WHAT,
            len: signature.len() as u64,
            max: MAX_SIGNATURE_LEN as u64,
        }
        .into());
    }
    // Step 2.
    let mut outer = Reader::new(signature, WHAT);
    let mut ci = outer.sequence()?;
    outer.finish()?;
    if ci.oid()? != oid::SIGNED_DATA {
        return Err(FormatError::Malformed { what: WHAT }.into());
    }
    let mut explicit = ci.nested(der::context(0))?;
    ci.finish()?;
    let mut sd = explicit.sequence()?;
    explicit.finish()?;
    if sd.u64()? != 1 {
        return Err(FormatError::Malformed { what: WHAT }.into());
    }
    let mut digest_algs = sd.nested(der::SET)?;
    check_sha256_alg(&mut digest_algs, role)?;
    digest_algs.finish()?;
    let mut encap = sd.sequence()?;
    if encap.oid()? != oid::DATA {
        return Err(SignatureError::UnsupportedAlgorithm {
            role,
            what: "content type",
        }
        .into());
    }
    if !encap.is_empty() {
        return Err(SignatureError::NotDetached { role }.into());
    }
    let mut certs = Vec::new();
    if let Some(set) = sd.optional(der::context(0))? {
        let mut r = Reader::new(set.value, WHAT);
        while !r.is_empty() {
            if certs.len() == MAX_SIGNATURE_CERTS {
                return Err(FormatError::TooMany {
                    what: "certificates in a signature",
                    found: certs.len() + 1,
                    max: MAX_SIGNATURE_CERTS,
                }
                .into());
            }
            certs.push(r.expect(der::SEQUENCE)?.raw);
        }
    }
    let mut signer_infos = sd.nested(der::SET)?;
    sd.finish()?; // no CRLs field
    let mut si = signer_infos.sequence()?;
    signer_infos.finish()?; // exactly one signer
    if si.u64()? != 1 {
        return Err(FormatError::Malformed { what: WHAT }.into());
    }
    let mut sid = si.sequence()?;
    let sid_issuer = sid.expect(der::SEQUENCE)?.raw;
    let sid_serial = sid.expect(der::INTEGER)?.raw;
    sid.finish()?;
    check_sha256_alg(&mut si, role)?;
    let signed_attrs = si.expect(der::context(0))?;
    let mut sig_alg = si.sequence()?;
    let sig_alg_oid = sig_alg.oid()?;
    let sig_alg_params_null = !sig_alg.is_empty();
    if sig_alg_params_null {
        sig_alg.null()?;
    }
    let sig_value = si.octet_string()?;
    si.optional(der::context(1))?; // unsigned attributes are not covered; ignored
    si.finish()?;

    // Step 3.
    let mut content_type = None;
    let mut message_digest = None;
    let mut signing_time = None;
    let mut signing_cert = None;
    let mut algorithm_protection = None;
    let mut smime_capabilities = None;
    let mut attrs = Reader::new(signed_attrs.value, WHAT);
    while !attrs.is_empty() {
        let mut a = attrs.sequence()?;
        let attr_oid = a.oid()?;
        let mut values = a.nested(der::SET)?;
        a.finish()?;
        let value = values.any()?;
        let single = values.is_empty();
        let (slot, name) = if attr_oid == oid::CONTENT_TYPE {
            (&mut content_type, "contentType")
        } else if attr_oid == oid::MESSAGE_DIGEST {
            (&mut message_digest, "messageDigest")
        } else if attr_oid == oid::SIGNING_TIME {
            (&mut signing_time, "signingTime")
        } else if attr_oid == oid::SIGNING_CERTIFICATE_V2 {
            (&mut signing_cert, "signingCertificateV2")
        } else if attr_oid == oid::CMS_ALGORITHM_PROTECTION {
            (&mut algorithm_protection, "cmsAlgorithmProtection")
        } else if attr_oid == oid::SMIME_CAPABILITIES {
            (&mut smime_capabilities, "smimeCapabilities")
        } else {
            return Err(SignatureError::SignedAttributeUnknown {
                role,
                oid: dotted_oid(attr_oid),
            }
            .into());
        };
        if !single || slot.replace(value).is_some() {
            return Err(SignatureError::SignedAttributeRepeated {
                role,
                attribute: name,
            }
            .into());
        }
    }
    let missing = |attribute| SignatureError::SignedAttributeMissing { role, attribute };
    let content_type = content_type.ok_or_else(|| missing("contentType"))?;
    let message_digest = message_digest.ok_or_else(|| missing("messageDigest"))?;
    let signing_time = signing_time.ok_or_else(|| missing("signingTime"))?;
    let signing_cert = signing_cert.ok_or_else(|| missing("signingCertificateV2"))?;
    if content_type.raw != der::oid(oid::DATA).as_slice() {
        return Err(SignatureError::UnsupportedAlgorithm {
            role,
            what: "content type",
        }
        .into());
    }
    let signing_time = Reader::new(signing_time.raw, WHAT).time()?;
    if let Some(caps) = smime_capabilities {
        check_smime_capabilities(caps.raw)?;
    }

    // Step 4.
    let mut md = Reader::new(message_digest.raw, WHAT);
    let md = md.octet_string()?;
    if md != sha256(content) {
        return Err(SignatureError::ContentDigestMismatch { role }.into());
    }

    // Step 5.
    let mut signer_cert = None;
    for c in &certs {
        let info = certinfo::cert_info(c)?;
        if info.issuer == sid_issuer && info.serial == sid_serial {
            signer_cert = Some(*c);
            break;
        }
    }
    let cert = signer_cert.ok_or(SignatureError::SignerCertificateMissing { role })?;
    check_signing_certificate_v2(signing_cert.raw, cert, sid_issuer, sid_serial, role)?;

    // Step 6.
    let info = certinfo::cert_info(cert)?;
    let mut signed = signed_attrs.raw.to_vec();
    signed[0] = der::SET;
    let (alg, key): (&dyn ring::signature::VerificationAlgorithm, &[u8]) =
        match certinfo::key_kind(info.spki)? {
            KeyKind::Rsa(k)
                if sig_alg_oid == oid::SHA256_WITH_RSA || sig_alg_oid == oid::RSA_ENCRYPTION =>
            {
                (&ring::signature::RSA_PKCS1_2048_8192_SHA256, k)
            }
            KeyKind::EcP256(k) if sig_alg_oid == oid::ECDSA_WITH_SHA256 && !sig_alg_params_null => {
                (&ring::signature::ECDSA_P256_SHA256_ASN1, k)
            }
            _ => {
                return Err(SignatureError::UnsupportedAlgorithm {
                    role,
                    what: "signature algorithm",
                }
                .into());
            }
        };
    ring::signature::UnparsedPublicKey::new(alg, key)
        .verify(&signed, sig_value)
        .map_err(|_| SignatureError::BadSignature { role })?;
    // Step 3, continued: RFC 6211 §3, the protected algorithms are the ones used.
    if let Some(protection) = algorithm_protection {
        check_algorithm_protection(protection.raw, sig_alg_oid, role)?;
    }

    // Step 7.
    let others: Vec<Vec<u8>> = certs
        .iter()
        .filter(|c| **c != cert)
        .map(|c| c.to_vec())
        .collect();
    let verified = store
        .verify_with_intermediates(cert, &others, role.profile(), at)
        .map_err(|e| Error::from_pki(role, e))?;

    // Step 8.
    if signing_time > at + SIGNING_TIME_TOLERANCE {
        return Err(SigningTimeError::SigningTimeInFuture {
            role,
            signing_time,
            at,
        }
        .into());
    }
    if signing_time < verified.not_before() || signing_time >= verified.not_after() {
        return Err(SigningTimeError::SigningTimeOutsideValidity { role, signing_time }.into());
    }
    Ok(VerifiedSigner {
        cert: verified,
        signing_time,
    })
}

/// Checks that a signature [`verify_signer`] accepted is in the one byte form
/// [`sign_attributes`] writes, so that nothing the signature value does not cover can vary:
///
/// 1. Rebuilt from its signed attributes and signature value, with the signer identified by
///    `signed.cert`, the certificate set exactly that certificate and its chain below the trust
///    anchor (DER SET order), SHA-256 without parameters, the signature algorithm of the key
///    (RSA with NULL, ECDSA without), no unsigned attributes — the bytes are the input's.
/// 2. An ECDSA value is strict DER with the low s ([`axis_pki::ecdsa_p256_is_normal`]): its
///    twin `(r, n − s)` verifies too and is refused.
pub(crate) fn check_normal_form(
    signature: &[u8],
    signed: &VerifiedSigner,
    role: SignatureRole,
) -> Result<(), Error> {
    const WHAT: &str = "CMS SignedData";
    let differs = |part| Error::from(SignatureError::NotNormalForm { role, part });
    // The two parts the rebuilt form takes from the input: both covered by the signature (the
    // attributes) or checked below (the value).
    let mut r = Reader::new(signature, WHAT);
    let mut ci = r.sequence()?;
    ci.oid()?;
    let mut explicit = ci.nested(der::context(0))?;
    let mut sd = explicit.sequence()?;
    sd.u64()?;
    sd.expect(der::SET)?;
    sd.sequence()?;
    sd.optional(der::context(0))?;
    let mut infos = sd.nested(der::SET)?;
    let mut si = infos.sequence()?;
    si.u64()?;
    si.sequence()?;
    si.sequence()?;
    let signed_attrs = si.expect(der::context(0))?.raw;
    si.sequence()?;
    let value = si.octet_string()?;
    if !si.is_empty() {
        return Err(differs("unsigned attributes"));
    }

    // Step 1.
    let cert = signed.cert.der();
    let info = certinfo::cert_info(cert)?;
    let chain = signed.cert.chain();
    let mut certs = vec![cert.to_vec()];
    certs.extend(
        chain
            .iter()
            .take(chain.len().saturating_sub(1))
            .map(|c| c.to_vec()),
    );
    let mut certificates = der::set_of(certs);
    certificates[0] = der::context(0);
    let ecdsa = matches!(certinfo::key_kind(info.spki)?, KeyKind::EcP256(_));
    let signature_alg = if ecdsa {
        der::seq(&[&der::oid(oid::ECDSA_WITH_SHA256)])
    } else {
        der::seq(&[&der::oid(oid::SHA256_WITH_RSA), &der::null()])
    };
    let signer_info = der::seq(&[
        &der::uint(1),
        &info.issuer_and_serial(),
        &sha256_alg(),
        signed_attrs,
        &signature_alg,
        &der::octets(value),
    ]);
    let signed_data = der::seq(&[
        &der::uint(1),
        &der::set_of(vec![sha256_alg()]),
        &der::seq(&[&der::oid(oid::DATA)]),
        &certificates,
        &der::set_of(vec![signer_info]),
    ]);
    let rebuilt = der::seq(&[
        &der::oid(oid::SIGNED_DATA),
        &der::tlv(der::context(0), &signed_data),
    ]);
    if rebuilt != signature {
        return Err(differs(
            "its encoding (algorithm parameters, certificate set or order)",
        ));
    }
    // Step 2.
    if ecdsa && !axis_pki::ecdsa_p256_is_normal(value) {
        return Err(differs("ECDSA value (not strict DER with the low s)"));
    }
    Ok(())
}

/// RFC 6211: `CMSAlgorithmProtection ::= SEQUENCE { digestAlgorithm DigestAlgorithmIdentifier,
/// signatureAlgorithm [1] SignatureAlgorithmIdentifier OPTIONAL, macAlgorithm [2] … OPTIONAL }`.
/// In a SignerInfo the signature algorithm is present, the MAC algorithm absent, and both must
/// equal the SignerInfo's own (§3); NULL and absent parameters are the same (RFC 4055 §2.1).
fn check_algorithm_protection(
    value: &[u8],
    sig_alg_oid: &[u8],
    role: SignatureRole,
) -> Result<(), Error> {
    let mismatch = || Error::from(SignatureError::AlgorithmProtectionMismatch { role });
    let mut r = Reader::new(value, "CMSAlgorithmProtection");
    let mut ap = r.sequence()?;
    r.finish()?;
    check_sha256_alg(&mut ap, role).map_err(|e| match e {
        Error::Signature(SignatureError::UnsupportedAlgorithm { .. }) => mismatch(),
        other => other,
    })?;
    // [1] IMPLICIT AlgorithmIdentifier: the SEQUENCE's contents under the context tag.
    let Some(sig) = ap.optional(der::context(1))? else {
        return Err(mismatch());
    };
    if !ap.is_empty() {
        return Err(mismatch()); // a macAlgorithm [2] too: not a signature's protection
    }
    let mut sig = Reader::new(sig.value, "CMSAlgorithmProtection");
    if sig.oid()? != sig_alg_oid {
        return Err(mismatch());
    }
    let params_null = !sig.is_empty();
    if params_null {
        sig.null()?;
    }
    sig.finish()?;
    // ECDSA takes no parameters at all (RFC 5758 §3.2; step 6 refuses them in the SignerInfo);
    // RSA's NULL may be written or omitted.
    if params_null && sig_alg_oid == oid::ECDSA_WITH_SHA256 {
        return Err(mismatch());
    }
    Ok(())
}

/// RFC 8551 §2.5.2: `SMIMECapabilities ::= SEQUENCE OF SEQUENCE { capabilityID OBJECT
/// IDENTIFIER, parameters ANY OPTIONAL }`. Preferences for replies; nothing here reads them, but
/// they are signed bytes and must be well-formed.
fn check_smime_capabilities(value: &[u8]) -> Result<(), Error> {
    const WHAT: &str = "smimeCapabilities";
    let mut r = Reader::new(value, WHAT);
    let mut caps = r.sequence()?;
    r.finish()?;
    while !caps.is_empty() {
        let mut cap = caps.sequence()?;
        cap.oid()?;
        if !cap.is_empty() {
            cap.any()?;
        }
        cap.finish()?;
    }
    Ok(())
}

/// The dotted form of OID content octets, for messages: the PKI crate's one decoder, over the
/// first 64 octets; `?` for anything that is not a minimal OID.
fn dotted_oid(content: &[u8]) -> String {
    axis_pki::der::oid_to_dotted(&content[..content.len().min(64)]).unwrap_or_else(|| "?".into())
}

/// Reads one AlgorithmIdentifier that must be SHA-256 (parameters absent or NULL).
fn check_sha256_alg(r: &mut Reader<'_>, role: SignatureRole) -> Result<(), Error> {
    let mut alg = r.sequence()?;
    if alg.oid()? != oid::SHA256 {
        return Err(SignatureError::UnsupportedAlgorithm {
            role,
            what: "digest algorithm",
        }
        .into());
    }
    if !alg.is_empty() {
        alg.null()?;
    }
    alg.finish()
}

/// RFC 5035 §5.4: `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, … }`; the
/// first ESSCertIDv2 identifies the signer certificate.
fn check_signing_certificate_v2(
    value: &[u8],
    cert: &[u8],
    sid_issuer: &[u8],
    sid_serial: &[u8],
    role: SignatureRole,
) -> Result<(), Error> {
    let mismatch = || Error::from(SignatureError::SigningCertificateMismatch { role });
    let mut r = Reader::new(value, "signingCertificateV2");
    let mut scv2 = r.sequence()?;
    r.finish()?;
    let mut ids = scv2.sequence()?;
    let mut first = ids.sequence()?;
    // hashAlgorithm DEFAULT sha256: present only if something else, which we refuse.
    if first.peek_tag() == Some(der::SEQUENCE) {
        check_sha256_alg(&mut first, role)?;
    }
    if first.octet_string()? != sha256(cert) {
        return Err(mismatch());
    }
    if let Some(issuer_serial) = first.optional(der::SEQUENCE)? {
        let mut is = Reader::new(issuer_serial.value, "signingCertificateV2");
        let mut names = is.sequence()?;
        let dir = names.expect(der::context(4))?;
        names.finish()?;
        let serial = is.expect(der::INTEGER)?.raw;
        is.finish()?;
        if dir.value != sid_issuer || serial != sid_serial {
            return Err(mismatch());
        }
    }
    first.finish()?;
    Ok(())
}
