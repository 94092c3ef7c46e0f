//! The signature form a manifest states, and personal signatures made elsewhere.
//!
//! - A seal-only document (`sealOnly` in the signed manifest) opens with the seal alone and
//!   reports no personal signature; a personal signature beside that statement, a seal-only
//!   manifest with its marker stripped, or a personal-and-seal manifest without the person are
//!   each refused with their own error.
//! - A personal signature made outside (a detached CMS, or a raw value over the bytes
//!   [`PersonalSignature::to_be_signed`] gives) verifies before the seal is added; one over
//!   other bytes, by another agency's person, or by the seal key is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_signer::*;
use axis_testkit::*;
use time::Duration;

fn seal_only_manifest() -> ManifestBytes {
    let f = fixture();
    let atts = standard_attachments();
    let mut m = manifest(&[&f.b], &[("a.pdf", &atts[0])]);
    m.signature_form = SignatureForm::SealOnly;
    m.encode().unwrap()
}

#[test]
fn a_seal_only_document_opens_with_the_seal_alone_and_says_so() {
    let f = fixture();
    let bytes = seal_only_manifest();
    // The marker is under the signatures: the last three octets of the manifest DER.
    assert!(bytes.as_bytes().ends_with(&[0x80, 0x01, 0x01]));
    let doc = SignedDocument::seal_only(bytes.clone(), &f.a.seal_signer(), SIGNED).unwrap();
    assert!(doc.personal_signature().is_empty());
    let atts = standard_attachments();
    let p = seal_document(&doc, &[&f.b], &[&atts[0]], 1024, 4096);
    let (received, files) = open(&p, &f.b).unwrap();
    assert_eq!(files, vec![atts[0].clone()]);
    let report = received.document().report();
    assert_eq!(report.signature_form, SignatureForm::SealOnly);
    assert!(report.personal.is_none());
    assert_eq!(report.seal.agency, f.a.id);

    // A personal signature beside "no personal signature was made" contradicts the manifest.
    let person = f.person.signer();
    let personal = {
        let mut m = bytes.manifest().clone();
        m.signature_form = SignatureForm::PersonAndSeal;
        let twin = SignedDocument::sign(
            m.encode().unwrap(),
            &person,
            SIGNED,
            &f.a.seal_signer(),
            SIGNED,
        )
        .unwrap();
        twin.personal_signature().to_vec()
    };
    let both = SignedDocument::from_parts(bytes.clone(), personal, doc.seal_signature().to_vec());
    assert!(matches!(
        both.verify(&f.store, NOW),
        Err(Error::Signature(
            SignatureError::PersonalSignatureUnexpected
        ))
    ));
    // Stripping the marker changes the bytes the seal covers, and leaves a document without
    // its person.
    let mut m = bytes.manifest().clone();
    m.signature_form = SignatureForm::PersonAndSeal;
    let stripped =
        SignedDocument::from_parts(m.encode().unwrap(), vec![], doc.seal_signature().to_vec());
    assert!(matches!(
        stripped.verify(&f.store, NOW),
        Err(Error::Signature(SignatureError::PersonalSignatureMissing))
    ));
}

#[test]
fn the_signature_form_is_checked_when_signing() {
    let f = fixture();
    let seal_only = seal_only_manifest();
    assert!(matches!(
        SignedDocument::sign(
            seal_only.clone(),
            &f.person.signer(),
            SIGNED,
            &f.a.seal_signer(),
            SIGNED
        ),
        Err(Error::Misuse { .. })
    ));
    let atts = standard_attachments();
    let person_and_seal = manifest(&[&f.b], &[("a.pdf", &atts[0])]).encode().unwrap();
    assert!(matches!(
        SignedDocument::seal_only(person_and_seal, &f.a.seal_signer(), SIGNED),
        Err(Error::Misuse { .. })
    ));
    // A personal key is not a seal.
    assert!(SignedDocument::seal_only(seal_only, &f.person.signer(), SIGNED).is_err());
    // personAndSeal written out is not DER (a DEFAULT value): refused, one byte form.
    let atts = standard_attachments();
    let der = manifest(&[&f.b], &[("a.pdf", &atts[0])]).encode().unwrap();
    let mut written = der.as_bytes().to_vec();
    written.extend_from_slice(&[0x80, 0x01, 0x00]);
    // Fix the outer SEQUENCE length (long form, two octets after 0x30 0x82).
    assert_eq!(&written[..2], &[0x30, 0x82]);
    let len = u16::from_be_bytes([written[2], written[3]]) + 3;
    written[2..4].copy_from_slice(&len.to_be_bytes());
    assert!(ManifestBytes::parse(&written).is_err());
    written.pop();
    written.push(0x01);
    assert_eq!(
        ManifestBytes::parse(&written)
            .unwrap()
            .manifest()
            .signature_form,
        SignatureForm::SealOnly
    );
}

#[test]
fn a_personal_signature_made_elsewhere_is_verified_before_the_seal() {
    let f = fixture();
    let atts = standard_attachments();
    let bytes = manifest(&[&f.b], &[("a.pdf", &atts[0])]).encode().unwrap();
    let person = f.person.signer();
    // As a token-holding DMS would: a CMS over the manifest (here made by the same code path
    // as SignedDocument::sign), then verified and sealed.
    let reference =
        SignedDocument::sign(bytes.clone(), &person, SIGNED, &f.a.seal_signer(), SIGNED).unwrap();
    let cms = reference.personal_signature().to_vec();
    let verified = PersonalSignature::verify(bytes.clone(), cms.clone(), &f.store, NOW).unwrap();
    assert_eq!(verified.report().signer_name, "Trần Văn Sơn");
    let doc =
        SignedDocument::seal_signed(verified, &f.a.seal_signer(), SIGNED + Duration::minutes(1))
            .unwrap();
    let report = doc.verify(&f.store, NOW).unwrap().report().clone();
    assert_eq!(report.personal.unwrap().signer_name, "Trần Văn Sơn");

    // Over other bytes, by another agency's person, by the seal key: each its own error.
    let other = manifest(&[&f.c], &[("a.pdf", &atts[0])]).encode().unwrap();
    assert!(matches!(
        PersonalSignature::verify(other, cms, &f.store, NOW),
        Err(Error::Signature(
            SignatureError::ContentDigestMismatch { .. }
        ))
    ));
    let sealed_as_person = reference.seal_signature().to_vec();
    assert!(matches!(
        PersonalSignature::verify(bytes.clone(), sealed_as_person, &f.store, NOW),
        Err(Error::Certificate(
            CertificateError::SignerCertificateRejected { .. }
        ))
    ));
    let by_b = {
        let m = naming_signer(manifest(&[&f.c], &[]), &f.person_b.cert);
        let mut m = m;
        m.from = f.b.org();
        let d = SignedDocument::sign(
            m.encode().unwrap(),
            &f.person_b.signer(),
            SIGNED,
            &f.b.seal_signer(),
            SIGNED,
        )
        .unwrap();
        d.personal_signature().to_vec()
    };
    assert!(PersonalSignature::verify(bytes.clone(), by_b, &f.store, NOW).is_err());

    // A raw signature over the signed attributes, as a token's C_Sign makes it.
    let tbs = PersonalSignature::to_be_signed(&bytes, &f.person.cert, SIGNED).unwrap();
    assert_eq!(tbs[0], 0x31);
    let raw = f.person.key.sign(&tbs).unwrap();
    let verified =
        PersonalSignature::from_raw(bytes.clone(), &f.person.cert, SIGNED, &raw, &f.store, NOW)
            .unwrap();
    assert_eq!(verified.report().signing_time, SIGNED);
    let wrong = f.person.key.sign(b"other bytes").unwrap();
    assert!(matches!(
        PersonalSignature::from_raw(bytes.clone(), &f.person.cert, SIGNED, &wrong, &f.store, NOW),
        Err(Error::Signature(SignatureError::BadSignature { .. }))
    ));
    // Another signing time than the one signed: the attributes differ.
    assert!(
        PersonalSignature::from_raw(
            bytes,
            &f.person.cert,
            SIGNED + Duration::seconds(1),
            &raw,
            &f.store,
            NOW
        )
        .is_err()
    );
}
