//! Certificate signing requests (PKCS#10): the agency keeps its private key and sends only a CSR.
//!
//! A CSR is untrusted input. It is parsed with a size budget, its self-signature is checked
//! (proof of possession of the private key), and whatever it asks for beyond the profile is
//! refused rather than silently dropped, so an administrator never believes they granted less (or
//! more) than the certificate says.

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use crate::agency_id::AgencyId;
use crate::error::Error;
use crate::issue::Subject;
use crate::key::PublicKey;
use crate::keyops::{KeySigner, RcgenKey};
use crate::profile::{ExtendedKeyUsage, Profile};

/// Largest CSR (DER) accepted.
pub const MAX_CSR_DER_LEN: usize = 16 * 1024;

/// Makes a PKCS#10 request (DER) for `subject`, signed by `key` (a key file or a key on a
/// token: the proof of possession is made where the key is). It carries the subject's names and,
/// for a server, its DNS names and addresses as requested subjectAltNames; nothing else: what a
/// certificate may do comes from the profile the CA issues it under.
pub fn make_csr(subject: &Subject, key: &dyn KeySigner) -> Result<Vec<u8>, Error> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject.to_rcgen()?;
    for d in &subject.dns_names {
        params
            .subject_alt_names
            .push(rcgen::SanType::DnsName(d.as_str().try_into().map_err(
                |_| Error::DnsNameInvalid {
                    name: d.chars().take(64).collect(),
                },
            )?));
    }
    for ip in &subject.ip_addresses {
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(*ip));
    }
    let signing = RcgenKey::new(key);
    let csr = params
        .serialize_request(&signing)
        .map_err(|e| signing.error(e))?;
    Ok(csr.der().to_vec())
}

/// A CSR whose signature verified and whose key Axis supports.
#[derive(Clone, Debug)]
pub struct CheckedCsr {
    public_key: PublicKey,
    common_name: Option<String>,
    agency_id: Option<AgencyId>,
    requested_key_usage_bits: Option<u16>,
    requested_eku: Vec<String>,
    requested_ca: bool,
    requested_dns: Vec<String>,
    requested_other_sans: bool,
    unsupported_extensions: Vec<String>,
}

impl CheckedCsr {
    /// Parses a CSR from PEM (`CERTIFICATE REQUEST`, or `NEW CERTIFICATE REQUEST`) or DER.
    pub fn parse(input: &[u8]) -> Result<Self, Error> {
        let der = if input.starts_with(b"-----BEGIN") {
            if input.len() > 4 * MAX_CSR_DER_LEN {
                return Err(Error::CsrTooLarge {
                    len: input.len(),
                    max: MAX_CSR_DER_LEN,
                });
            }
            let block = pem::parse(input).map_err(|_| Error::PemMalformed)?;
            if block.tag() != "CERTIFICATE REQUEST" && block.tag() != "NEW CERTIFICATE REQUEST" {
                return Err(Error::PemUnexpectedLabel {
                    expected: "CERTIFICATE REQUEST",
                });
            }
            block.into_contents()
        } else {
            input.to_vec()
        };
        Self::from_der(&der)
    }

    /// Parses and checks a DER CSR.
    ///
    /// 1. Budget: at most [`MAX_CSR_DER_LEN`] bytes, no trailing data.
    /// 2. The self-signature verifies with the CSR's own key, using SHA-256 or stronger
    ///    (proof of possession, RFC 2986 §3; SHA-1 refused as for certificates).
    /// 3. The key is RSA 2048/3072/4096 or ECDSA P-256.
    /// 4. The subject's agency id, if any, parses.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if der.len() > MAX_CSR_DER_LEN {
            return Err(Error::CsrTooLarge {
                len: der.len(),
                max: MAX_CSR_DER_LEN,
            });
        }
        let (rest, csr) =
            X509CertificationRequest::from_der(der).map_err(|_| Error::CsrMalformed)?;
        if !rest.is_empty() {
            return Err(Error::CsrMalformed);
        }
        crate::verify::check_signature_algorithm(&csr.signature_algorithm.algorithm)
            .map_err(|_| Error::CsrSignatureInvalid)?;
        csr.verify_signature()
            .map_err(|_| Error::CsrSignatureInvalid)?;
        let info = &csr.certification_request_info;
        let public_key = PublicKey::from_spki_der(info.subject_pki.raw)?;
        let common_name = info
            .subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
        let agency_id = crate::cert::agency_id_in(&info.subject)?;

        let mut out = CheckedCsr {
            public_key,
            common_name,
            agency_id,
            requested_key_usage_bits: None,
            requested_eku: Vec::new(),
            requested_ca: false,
            requested_dns: Vec::new(),
            requested_other_sans: false,
            unsupported_extensions: Vec::new(),
        };
        for attr in info.iter_attributes() {
            let ParsedCriAttribute::ExtensionRequest(req) = attr.parsed_attribute() else {
                continue;
            };
            for ext in &req.extensions {
                match ext.parsed_extension() {
                    ParsedExtension::KeyUsage(ku) => out.requested_key_usage_bits = Some(ku.flags),
                    ParsedExtension::ExtendedKeyUsage(eku) => {
                        let mut names = Vec::new();
                        if eku.any {
                            names.push("anyExtendedKeyUsage".to_owned());
                        }
                        if eku.server_auth {
                            names.push("serverAuth".to_owned());
                        }
                        if eku.client_auth {
                            names.push("clientAuth".to_owned());
                        }
                        if eku.code_signing {
                            names.push("codeSigning".to_owned());
                        }
                        if eku.email_protection {
                            names.push("emailProtection".to_owned());
                        }
                        if eku.time_stamping {
                            names.push("timeStamping".to_owned());
                        }
                        if eku.ocsp_signing {
                            names.push("OCSPSigning".to_owned());
                        }
                        names.extend(eku.other.iter().map(|o| o.to_id_string()));
                        out.requested_eku = names;
                    }
                    ParsedExtension::BasicConstraints(bc) => out.requested_ca = bc.ca,
                    ParsedExtension::SubjectAlternativeName(san) => {
                        for name in &san.general_names {
                            match name {
                                x509_parser::extensions::GeneralName::DNSName(d) => {
                                    out.requested_dns.push((*d).to_owned())
                                }
                                _ => out.requested_other_sans = true,
                            }
                        }
                    }
                    // Harmless: identifies the key, which the CA recomputes anyway.
                    ParsedExtension::SubjectKeyIdentifier(_) => {}
                    _ => out.unsupported_extensions.push(ext.oid.to_id_string()),
                }
            }
        }
        Ok(out)
    }

    /// The requested public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The CSR subject's common name, if any.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The DNS names the CSR asks for in subjectAltName (only a server TLS certificate may
    /// carry them; [`Self::check_against`] refuses names the subject does not list).
    pub fn requested_dns_names(&self) -> &[String] {
        &self.requested_dns
    }

    /// The CSR subject's agency id, if any.
    pub fn agency_id(&self) -> Option<&AgencyId> {
        self.agency_id.as_ref()
    }

    /// Refuses anything the CSR asks for beyond what `profile` grants to `subject`:
    /// CA rights, key usages or EKUs outside the profile, names other than the subject's, any
    /// other extension, or an agency id other than the one the administrator is issuing for.
    pub fn check_against(&self, profile: Profile, subject: &Subject) -> Result<(), Error> {
        if let (Some(asked), Some(given)) = (&self.agency_id, &subject.agency_id)
            && asked != given
        {
            return Err(Error::CsrAgencyMismatch {
                csr: asked.clone(),
                issuing: given.clone(),
            });
        }
        if let Some(oid) = self.unsupported_extensions.first() {
            return Err(Error::CsrExcessRequest {
                what: format!("extension {oid}"),
            });
        }
        let spec = profile.spec(self.public_key.algorithm());
        if self.requested_ca && spec.ca.is_none() {
            return Err(Error::CsrExcessRequest {
                what: "CA:TRUE in basicConstraints".into(),
            });
        }
        if let Some(bits) = self.requested_key_usage_bits {
            let allowed: u16 = spec.key_usage.iter().fold(0, |acc, k| acc | (1 << k.bit()));
            let excess = bits & !allowed;
            if excess != 0 {
                let names: Vec<&str> = (0..9)
                    .filter(|b| excess & (1 << b) != 0)
                    .map(key_usage_bit_name)
                    .collect();
                return Err(Error::CsrExcessRequest {
                    what: format!("key usage {}", names.join(", ")),
                });
            }
        }
        for eku in &self.requested_eku {
            let ok = spec.extended_key_usage.iter().any(|e| match e {
                ExtendedKeyUsage::ServerAuth => eku == "serverAuth",
                ExtendedKeyUsage::ClientAuth => eku == "clientAuth",
            });
            if !ok {
                return Err(Error::CsrExcessRequest {
                    what: format!("extended key usage {eku}"),
                });
            }
        }
        if self.requested_other_sans {
            return Err(Error::CsrExcessRequest {
                what: "subjectAltName entries other than DNS names".into(),
            });
        }
        for d in &self.requested_dns {
            if !subject.dns_names.iter().any(|s| s.eq_ignore_ascii_case(d)) {
                return Err(Error::CsrExcessRequest {
                    what: format!("DNS name {}", d.chars().take(64).collect::<String>()),
                });
            }
        }
        Ok(())
    }
}

fn key_usage_bit_name(bit: u16) -> &'static str {
    match bit {
        0 => "digitalSignature",
        1 => "nonRepudiation",
        2 => "keyEncipherment",
        3 => "dataEncipherment",
        4 => "keyAgreement",
        5 => "keyCertSign",
        6 => "cRLSign",
        7 => "encipherOnly",
        _ => "decipherOnly",
    }
}
