//! A signed document: the manifest bytes with the personal signature and the agency seal.

use axis_pki::{Profile, TrustStore};
use time::OffsetDateTime;

use crate::cms::signature::{self, SignatureReport, SignatureRole, Signer};
use crate::error::{CertificateError, Error, KeyError, SignatureError};
use crate::package::document_id::DocumentId;
use crate::package::manifest::ManifestBytes;

/// The manifest and its two detached CMS signatures, as the sender makes them and as a recipient
/// receives them (unverified).
#[derive(Clone, Debug)]
pub struct SignedDocument {
    manifest: ManifestBytes,
    personal: Vec<u8>,
    seal: Vec<u8>,
}

impl SignedDocument {
    /// Signs `manifest`: first the person with authority, then the agency seal. Both
    /// certificates must name the manifest's sender agency, and the manifest's signer must be
    /// the personal certificate's holder (see [`SignedDocument::verify`], step 4).
    pub fn sign(
        manifest: ManifestBytes,
        personal: &Signer<'_>,
        personal_time: OffsetDateTime,
        seal: &Signer<'_>,
        seal_time: OffsetDateTime,
    ) -> Result<Self, Error> {
        for (signer, role) in [
            (personal, SignatureRole::PersonalSigner),
            (seal, SignatureRole::AgencySeal),
        ] {
            if signer.profile() != role.profile() {
                return Err(KeyError::WrongCertificateProfile {
                    expected: role.profile(),
                    found: signer.profile(),
                }
                .into());
            }
            check_agency(&manifest, signer.agency(), role)?;
        }
        check_signer_name(
            &manifest,
            personal.certificate().common_name(),
            personal.certificate().title(),
        )?;
        if seal_time < personal_time {
            return Err(SignatureError::SealBeforePersonalSignature {
                personal: personal_time,
                seal: seal_time,
            }
            .into());
        }
        let p = signature::sign_detached(manifest.as_bytes(), personal, personal_time)?;
        let s = signature::sign_detached(manifest.as_bytes(), seal, seal_time)?;
        Ok(SignedDocument {
            manifest,
            personal: p,
            seal: s,
        })
    }

    /// Assembles a document from received parts; nothing is verified yet.
    pub fn from_parts(manifest: ManifestBytes, personal: Vec<u8>, seal: Vec<u8>) -> Self {
        SignedDocument {
            manifest,
            personal,
            seal,
        }
    }

    /// The manifest.
    pub fn manifest(&self) -> &ManifestBytes {
        &self.manifest
    }

    /// The personal signature (CMS SignedData, DER).
    pub fn personal_signature(&self) -> &[u8] {
        &self.personal
    }

    /// The agency seal signature (CMS SignedData, DER).
    pub fn seal_signature(&self) -> &[u8] {
        &self.seal
    }

    /// Verifies both signatures at `at`.
    ///
    /// 1. Both signatures are present: a document without the person's signature or without
    ///    the seal is not an official document (NĐ 30/2020: person, then organisation).
    /// 2. The personal signature verifies over the manifest bytes with a personal-signer
    ///    certificate, the seal with an agency-seal certificate (profile confusion refused).
    /// 3. Both certificates are bound to the manifest's sender agency: nobody signs for
    ///    another agency.
    /// 4. The manifest's signer is the personal certificate's holder: its full name is the
    ///    certificate's common name and, when the certificate carries a title, a position the
    ///    manifest gives is that title (compared in Unicode NFC). A DMS records these fields
    ///    as who signed; a name no key stands behind would be recorded otherwise. (The
    ///    competence, "KT. BỘ TRƯỞNG", is a capacity no certificate carries.)
    /// 5. The seal is not dated before the personal signature.
    pub fn verify(
        &self,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedDocument, Error> {
        // Step 1.
        if self.personal.is_empty() {
            return Err(SignatureError::PersonalSignatureMissing.into());
        }
        if self.seal.is_empty() {
            return Err(SignatureError::SealSignatureMissing.into());
        }
        // Steps 2 and 3.
        let mut reports = Vec::with_capacity(2);
        for (sig, role) in [
            (&self.personal, SignatureRole::PersonalSigner),
            (&self.seal, SignatureRole::AgencySeal),
        ] {
            let v = signature::verify_detached(sig, self.manifest.as_bytes(), role, store, at)?;
            check_agency(&self.manifest, Some(&v.report.agency), role)?;
            reports.push(v.report);
        }
        let (Some(seal), Some(personal)) = (reports.pop(), reports.pop()) else {
            return Err(SignatureError::PersonalSignatureMissing.into());
        };
        // Step 4.
        check_signer_name(
            &self.manifest,
            Some(personal.signer_name.as_str()),
            personal.position.as_deref(),
        )?;
        // Step 5.
        if seal.signing_time < personal.signing_time {
            return Err(SignatureError::SealBeforePersonalSignature {
                personal: personal.signing_time,
                seal: seal.signing_time,
            }
            .into());
        }
        Ok(VerifiedDocument {
            report: DocumentReport {
                document_id: self.manifest.document_id().clone(),
                manifest_digest: self.manifest.digest(),
                personal,
                seal,
            },
            document: self.clone(),
        })
    }
}

/// Step 4 of [`SignedDocument::verify`]: the manifest's signer is the certificate's holder.
fn check_signer_name(
    manifest: &ManifestBytes,
    common_name: Option<&str>,
    title: Option<&str>,
) -> Result<(), Error> {
    use unicode_normalization::UnicodeNormalization;
    let same = |a: &str, b: &str| a.nfc().eq(b.nfc());
    let signer = &manifest.manifest().signer;
    if !common_name.is_some_and(|cn| same(&signer.full_name, cn)) {
        return Err(CertificateError::SignerNameMismatch {
            field: "full name",
            certificate_field: "common name",
        }
        .into());
    }
    if let Some(title) = title
        && !signer.position.is_empty()
        && !same(&signer.position, title)
    {
        return Err(CertificateError::SignerNameMismatch {
            field: "position",
            certificate_field: "title",
        }
        .into());
    }
    Ok(())
}

fn check_agency(
    manifest: &ManifestBytes,
    agency: Option<&axis_pki::AgencyId>,
    role: SignatureRole,
) -> Result<(), Error> {
    let expected = &manifest.manifest().from.organ_id;
    match agency {
        Some(found) if found == expected => Ok(()),
        Some(found) => Err(CertificateError::SignerAgencyMismatch {
            role,
            expected: expected.clone(),
            found: found.clone(),
        }
        .into()),
        None => Err(KeyError::CertificateWithoutAgency {
            profile: if role == SignatureRole::PersonalSigner {
                Profile::PersonalSigner
            } else {
                Profile::AgencySeal
            },
        }
        .into()),
    }
}

/// What a DMS shows about a verified document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentReport {
    /// The DocumentId.
    pub document_id: DocumentId,
    /// SHA-256 of the manifest bytes.
    pub manifest_digest: [u8; 32],
    /// The person with authority.
    pub personal: SignatureReport,
    /// The agency seal.
    pub seal: SignatureReport,
}

/// A document whose two signatures verified. Only [`SignedDocument::verify`] (directly or
/// through [`crate::Opener`]) makes one.
#[derive(Clone, Debug)]
pub struct VerifiedDocument {
    document: SignedDocument,
    report: DocumentReport,
}

impl VerifiedDocument {
    /// The manifest (its metadata and attachment list).
    pub fn manifest(&self) -> &ManifestBytes {
        &self.document.manifest
    }

    /// The signed document, to store or forward.
    pub fn document(&self) -> &SignedDocument {
        &self.document
    }

    /// Who signed, when, and the certificates' status.
    pub fn report(&self) -> &DocumentReport {
        &self.report
    }
}
