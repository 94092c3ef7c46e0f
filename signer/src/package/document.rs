//! A signed document: the manifest bytes with the personal signature and the agency seal, or
//! the seal alone when the manifest says so ([`SignatureForm::SealOnly`]).
//!
//! The personal signature can be made here with a key at hand ([`SignedDocument::sign`]) or
//! elsewhere, on the person's own token ([`PersonalSignature`]): the signer gets the manifest
//! bytes (or the signed attributes over them) to sign, and what comes back is verified before
//! the seal is added ([`SignedDocument::seal_signed`]).

use axis_pki::{
    KeyAlgorithm, KeyOpError, KeyPair, KeySigner, Profile, PublicKey, SignatureScheme, TrustStore,
    VerifiedCert,
};
use time::OffsetDateTime;

use crate::cms::signature::{self, SignatureReport, SignatureRole, Signer};
use crate::error::{CertificateError, Error, KeyError, SignatureError};
use crate::package::document_id::DocumentId;
use crate::package::manifest::{ManifestBytes, SignatureForm};

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
        check_form(&manifest, SignatureForm::PersonAndSeal)?;
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

    /// Seals a manifest that says [`SignatureForm::SealOnly`]: the agency seal alone, no
    /// personal signature (the stream's personal part is empty).
    pub fn seal_only(
        manifest: ManifestBytes,
        seal: &Signer<'_>,
        seal_time: OffsetDateTime,
    ) -> Result<Self, Error> {
        check_form(&manifest, SignatureForm::SealOnly)?;
        check_seal_signer(&manifest, seal)?;
        let s = signature::sign_detached(manifest.as_bytes(), seal, seal_time)?;
        Ok(SignedDocument {
            manifest,
            personal: Vec::new(),
            seal: s,
        })
    }

    /// Adds the agency seal to a personal signature made elsewhere and verified
    /// ([`PersonalSignature::verify`]); the seal is not dated before it.
    pub fn seal_signed(
        personal: PersonalSignature,
        seal: &Signer<'_>,
        seal_time: OffsetDateTime,
    ) -> Result<Self, Error> {
        check_seal_signer(&personal.manifest, seal)?;
        if seal_time < personal.report.signing_time {
            return Err(SignatureError::SealBeforePersonalSignature {
                personal: personal.report.signing_time,
                seal: seal_time,
            }
            .into());
        }
        let s = signature::sign_detached(personal.manifest.as_bytes(), seal, seal_time)?;
        Ok(SignedDocument {
            manifest: personal.manifest,
            personal: personal.cms,
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

    /// The personal signature (CMS SignedData, DER); empty for a seal-only document.
    pub fn personal_signature(&self) -> &[u8] {
        &self.personal
    }

    /// The agency seal signature (CMS SignedData, DER).
    pub fn seal_signature(&self) -> &[u8] {
        &self.seal
    }

    /// Verifies the signatures at `at`.
    ///
    /// 1. The signatures are those the manifest's signature form says: the person's and the
    ///    seal (NĐ 30/2020: person, then organisation), or, for a manifest that says
    ///    `sealOnly`, the seal and **no** personal part (a personal signature beside a
    ///    statement that none was made would contradict the signed manifest).
    /// 2. The personal signature verifies over the manifest bytes with a personal-signer
    ///    certificate, the seal with an agency-seal certificate (profile confusion refused).
    /// 3. Both certificates are bound to the manifest's sender agency: nobody signs for
    ///    another agency.
    /// 4. The manifest's signer is the personal certificate's holder: its full name is the
    ///    certificate's common name and, when the certificate carries a title, a position the
    ///    manifest gives is that title (compared in Unicode NFC). A DMS records these fields
    ///    as who signed; a name no key stands behind would be recorded otherwise. (The
    ///    competence, "KT. BỘ TRƯỞNG", is a capacity no certificate carries.) A seal-only
    ///    manifest's signer is what the sending system stated, vouched for by the seal alone.
    /// 5. The seal is not dated before the personal signature.
    pub fn verify(
        &self,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedDocument, Error> {
        // Step 1.
        let form = self.manifest.manifest().signature_form;
        if self.seal.is_empty() {
            return Err(SignatureError::SealSignatureMissing.into());
        }
        match (form, self.personal.is_empty()) {
            (SignatureForm::PersonAndSeal, true) => {
                return Err(SignatureError::PersonalSignatureMissing.into());
            }
            (SignatureForm::SealOnly, false) => {
                return Err(SignatureError::PersonalSignatureUnexpected.into());
            }
            _ => {}
        }
        // Steps 2 to 4 for the person.
        let personal = if self.personal.is_empty() {
            None
        } else {
            Some(verify_personal(&self.manifest, &self.personal, store, at)?)
        };
        // Steps 2 and 3 for the seal.
        let seal = signature::verify_detached(
            &self.seal,
            self.manifest.as_bytes(),
            SignatureRole::AgencySeal,
            store,
            at,
        )?
        .report;
        check_agency(
            &self.manifest,
            Some(&seal.agency),
            SignatureRole::AgencySeal,
        )?;
        // Step 5.
        if let Some(personal) = &personal
            && seal.signing_time < personal.signing_time
        {
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
                signature_form: form,
                personal,
                seal,
            },
            document: self.clone(),
        })
    }
}

/// Steps 2 to 4 of [`SignedDocument::verify`] for the personal signature.
fn verify_personal(
    manifest: &ManifestBytes,
    cms: &[u8],
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<SignatureReport, Error> {
    let role = SignatureRole::PersonalSigner;
    let v = signature::verify_detached(cms, manifest.as_bytes(), role, store, at)?;
    check_agency(manifest, Some(&v.report.agency), role)?;
    check_signer_name(
        manifest,
        Some(v.report.signer_name.as_str()),
        v.report.position.as_deref(),
    )?;
    Ok(v.report)
}

/// The manifest states the signature form being made.
fn check_form(manifest: &ManifestBytes, expected: SignatureForm) -> Result<(), Error> {
    let found = manifest.manifest().signature_form;
    if found == expected {
        Ok(())
    } else {
        Err(Error::Misuse {
            reason: match expected {
                SignatureForm::SealOnly => "sealing alone a manifest that does not say sealOnly",
                _ => "signing personally a manifest that says sealOnly",
            },
        })
    }
}

/// The seal's key is an agency seal of the manifest's sender.
fn check_seal_signer(manifest: &ManifestBytes, seal: &Signer<'_>) -> Result<(), Error> {
    let role = SignatureRole::AgencySeal;
    if seal.profile() != role.profile() {
        return Err(KeyError::WrongCertificateProfile {
            expected: role.profile(),
            found: seal.profile(),
        }
        .into());
    }
    check_agency(manifest, seal.agency(), role)
}

/// A personal signature made outside this process (on the person's token, in the DMS's world)
/// over a document's manifest, verified: only [`PersonalSignature::verify`] and
/// [`PersonalSignature::from_raw`] make one, and [`SignedDocument::seal_signed`] takes it.
#[derive(Clone, Debug)]
pub struct PersonalSignature {
    manifest: ManifestBytes,
    cms: Vec<u8>,
    report: SignatureReport,
}

impl PersonalSignature {
    /// Verifies a detached CMS SignedData over `manifest`'s bytes (FORMATS.md §5, as
    /// `openssl cms -sign -binary -cades` makes it) at `at`: a personal-signer certificate of
    /// the manifest's sender agency, trusted and unrevoked, whose holder is the manifest's
    /// signer ([`SignedDocument::verify`], steps 2 to 4).
    pub fn verify(
        manifest: ManifestBytes,
        cms: Vec<u8>,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        check_form(&manifest, SignatureForm::PersonAndSeal)?;
        let report = verify_personal(&manifest, &cms, store, at)?;
        Ok(PersonalSignature {
            manifest,
            cms,
            report,
        })
    }

    /// The exact bytes a signer that only makes raw signatures (a token's `C_Sign`, WebCrypto)
    /// signs for `cert` at `signing_time`: the DER `SET OF` the CMS signed attributes
    /// (contentType, messageDigest of the manifest, signingTime, signingCertificateV2 naming
    /// `cert`), which RFC 5652 §5.4 has the signature cover. The signature goes to
    /// [`PersonalSignature::from_raw`] with the same certificate and time.
    pub fn to_be_signed(
        manifest: &ManifestBytes,
        cert: &VerifiedCert,
        signing_time: OffsetDateTime,
    ) -> Result<Vec<u8>, Error> {
        let key = Presigned::new(cert, &[])?;
        let signer = Signer::new(&key, cert)?;
        let attrs = signature::standard_attributes(manifest.as_bytes(), &signer, signing_time)?;
        Ok(crate::cms::der::set_of(attrs))
    }

    /// Assembles the CMS SignedData from a raw signature over
    /// [`PersonalSignature::to_be_signed`]`(manifest, cert, signing_time)` — RSA PKCS#1 v1.5
    /// with SHA-256, or ECDSA P-256 with SHA-256 as DER `Ecdsa-Sig-Value` or `r ‖ s` (64
    /// octets) — and verifies it as [`PersonalSignature::verify`] does.
    pub fn from_raw(
        manifest: ManifestBytes,
        cert: &VerifiedCert,
        signing_time: OffsetDateTime,
        raw: &[u8],
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        let key = Presigned::new(cert, raw)?;
        let signer = Signer::new(&key, cert)?;
        let cms = signature::sign_detached(manifest.as_bytes(), &signer, signing_time)?;
        Self::verify(manifest, cms, store, at)
    }

    /// Who signed, when, and the certificate's status.
    pub fn report(&self) -> &SignatureReport {
        &self.report
    }

    /// The CMS SignedData (DER).
    pub fn cms(&self) -> &[u8] {
        &self.cms
    }
}

/// A "key" that signs with a value made elsewhere: the raw signature a token returned.
/// [`PersonalSignature::from_raw`] verifies the result, so a value over other bytes fails there.
struct Presigned {
    public: PublicKey,
    value: Vec<u8>,
}

impl Presigned {
    fn new(cert: &VerifiedCert, value: &[u8]) -> Result<Self, Error> {
        let public = PublicKey::from_spki_der(cert.public_key_der()).map_err(|_| {
            KeyError::WrongCertificateProfile {
                expected: Profile::PersonalSigner,
                found: cert.profile(),
            }
        })?;
        // A token's ECDSA value is r ‖ s; CMS carries the DER form.
        let value = match (public.algorithm(), value.len()) {
            (KeyAlgorithm::EcdsaP256, 64) => {
                axis_pki::ecdsa_p256_der_from_raw(value).unwrap_or_default()
            }
            _ => value.to_vec(),
        };
        Ok(Presigned { public, value })
    }
}

impl KeyPair for Presigned {
    fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }
    fn public_key_der(&self) -> &[u8] {
        self.public.der()
    }
    fn location(&self) -> String {
        "a signature made elsewhere".to_owned()
    }
}

impl KeySigner for Presigned {
    fn sign_with(&self, _scheme: SignatureScheme, _msg: &[u8]) -> Result<Vec<u8>, KeyOpError> {
        Ok(self.value.clone())
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
    /// Which signatures the manifest says the document carries.
    pub signature_form: SignatureForm,
    /// The person with authority; `None` when the manifest says `sealOnly`: no personal
    /// signature was made through Axis.
    pub personal: Option<SignatureReport>,
    /// The agency seal.
    pub seal: SignatureReport,
}

/// A document whose signatures verified. Only [`SignedDocument::verify`] (directly or
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
