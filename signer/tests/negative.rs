//! The negative matrix: the valid package opens (tested in roundtrip.rs), and each way of
//! breaking it fails with its own error. Cases that need a signature the public API refuses to
//! make (a signer of another agency) are in the crate's unit tests (`src/tests.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::Profile;
use axis_signer::limits::*;
use axis_signer::*;
use axis_testkit::*;
use time::Duration;

/// Opens a package whose ciphertext is `frames` concatenated.
fn open_frames(p: &Package, frames: &[Vec<u8>]) -> Result<(ReceivedDocument, Vec<Vec<u8>>), Error> {
    let f = fixture();
    let q = Package {
        document: p.document.clone(),
        sealed: p.sealed.clone(),
        ciphertext: frames.concat(),
    };
    open(&q, &f.b)
}

/// Secret-holding types (`Opener`, `RecipientKey`) have no `Debug`, so only the error is shown.
#[track_caller]
fn expect_err<T>(res: Result<T, Error>, check: impl Fn(&Error) -> bool) {
    match res {
        Err(e) if check(&e) => {}
        Err(e) => panic!("unexpected error: {e:?}"),
        Ok(_) => panic!("unexpected success"),
    }
}

// ----- header and key envelope -----

#[test]
fn flipped_bit_in_the_header_breaks_the_submission_signature() {
    let f = fixture();
    let p = standard_package();
    let mut header = p.sealed.submission.header().as_bytes().to_vec();
    let last = header.len() - 1;
    header[last] ^= 0x01; // inside the ciphertext digest: still a well-formed header
    let sub = Submission::parse(&header, p.sealed.submission.signature().to_vec()).unwrap();
    expect_err(sub.verify(&f.store, NOW), |e| {
        matches!(
            e,
            Error::Signature(SignatureError::ContentDigestMismatch {
                role: SignatureRole::Submission
            })
        )
    });
    // A flip in the structure is caught by the parser.
    let mut header = p.sealed.submission.header().as_bytes().to_vec();
    header[0] ^= 0x01;
    expect_err(
        Submission::parse(&header, p.sealed.submission.signature().to_vec()),
        |e| {
            matches!(
                e,
                Error::Format(FormatError::Malformed {
                    what: "routing header"
                })
            )
        },
    );
}

#[test]
fn flipped_bit_in_a_wrapped_key_is_refused_before_unwrapping() {
    let f = fixture();
    let p = standard_package();
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    let key = f.b.recipient_key();
    // Every byte position of the envelope, sampled.
    for i in (0..p.sealed.key_envelope.len()).step_by(37) {
        let mut env = p.sealed.key_envelope.clone();
        env[i] ^= 0x10;
        expect_err(Opener::new(&sub, &env, &key, &f.store, NOW), |e| {
            matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeDigestMismatch))
        });
    }
    // The axis catches it too, on submission.
    let mut env = p.sealed.key_envelope.clone();
    env[100] ^= 1;
    expect_err(sub.check_key_envelope(&env), |e| {
        matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeDigestMismatch))
    });
}

#[test]
fn key_envelope_of_another_document_is_refused() {
    let f = fixture();
    let p = standard_package();
    let q = standard_package();
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    expect_err(
        Opener::new(
            &sub,
            &q.sealed.key_envelope,
            &f.b.recipient_key(),
            &f.store,
            NOW,
        ),
        |e| matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeDigestMismatch)),
    );
}

#[test]
fn wrong_recipients_key_is_refused() {
    let f = fixture();
    let p = standard_package();
    // D is not a recipient.
    expect_err(
        open(&p, &f.d),
        |e| matches!(e, Error::Envelope(EnvelopeError::NotARecipient { agency }) if *agency == f.d.id),
    );
    // B's certificate with D's key.
    expect_err(
        RecipientKey::from_pkcs8_der(f.d.enc_pkcs8.clone(), &f.b.enc),
        |e| matches!(e, Error::Key(KeyError::DecryptionKeyMismatch)),
    );
    // A seal certificate is not an encryption certificate.
    expect_err(
        RecipientKey::from_pkcs8_der(f.b.enc_pkcs8.clone(), &f.b.seal),
        |e| {
            matches!(
                e,
                Error::Key(KeyError::WrongCertificateProfile {
                    expected: Profile::AgencyEncryption,
                    ..
                })
            )
        },
    );
}

// ----- chunks -----

#[test]
fn flipped_bit_in_each_chunk_fails_that_chunk() {
    let p = standard_package();
    let frames = frames(&p.ciphertext);
    assert!(
        frames.len() >= 8,
        "the package should have several chunks per part"
    );
    for (i, frame) in frames.iter().enumerate() {
        let (part, index, _) = frame_id(frame);
        // In the ciphertext, and in the tag.
        for pos in [FRAME_HEADER_LEN, frame.len() - 1] {
            let mut broken = frames.clone();
            broken[i][pos] ^= 0x80;
            expect_err(
                open_frames(&p, &broken),
                |e| matches!(e, Error::Stream(StreamError::ChunkAuthFailed { part: pp, index: ii }) if *pp == part && *ii == index),
            );
        }
    }
}

#[test]
fn last_chunk_dropped_is_truncation() {
    let p = standard_package();
    let mut frames = frames(&p.ciphertext);
    let last = frames.pop().unwrap();
    let (part, index, is_last) = frame_id(&last);
    assert!(is_last);
    expect_err(
        open_frames(&p, &frames),
        |e| matches!(e, Error::Stream(StreamError::Truncated { part: pp, chunks }) if *pp == part && *chunks == index),
    );
    // A stream cut inside a frame is truncation as well.
    let cut = &p.ciphertext[..p.ciphertext.len() - 5];
    expect_err(open_frames(&p, &[cut.to_vec()]), |e| {
        matches!(e, Error::Stream(StreamError::Truncated { .. }))
    });
}

#[test]
fn last_chunk_of_a_middle_part_dropped_is_a_part_out_of_order() {
    let p = standard_package();
    let frames = frames(&p.ciphertext);
    // The manifest part (0) ends; drop its last chunk.
    let i = frames
        .iter()
        .position(|f| frame_id(f) == (0, frame_id(f).1, true))
        .unwrap();
    let mut broken = frames.clone();
    broken.remove(i);
    expect_err(open_frames(&p, &broken), |e| {
        matches!(
            e,
            Error::Stream(StreamError::PartOutOfOrder {
                expected: 0,
                found: 1
            })
        )
    });
}

#[test]
fn two_chunks_swapped_are_out_of_order() {
    let p = standard_package();
    let mut frames = frames(&p.ciphertext);
    let i = frames
        .iter()
        .position(|f| frame_id(f) == (3, 1, false))
        .unwrap();
    frames.swap(i, i + 1);
    expect_err(open_frames(&p, &frames), |e| {
        matches!(
            e,
            Error::Stream(StreamError::ChunkOutOfOrder {
                part: 3,
                expected: 1,
                found: 2
            })
        )
    });
}

#[test]
fn a_chunk_from_another_document_is_refused() {
    let p = standard_package();
    let q = standard_package(); // the same content, another message
    let mut frames = frames(&p.ciphertext);
    let other = axis_testkit::frames(&q.ciphertext);
    let i = frames
        .iter()
        .position(|f| frame_id(f) == (3, 2, false))
        .unwrap();
    frames[i] = other[i].clone();
    expect_err(open_frames(&p, &frames), |e| {
        matches!(
            e,
            Error::Stream(StreamError::ChunkFromOtherDocument { part: 3, index: 2 })
        )
    });
    // Relabelled to look like ours, it still fails authentication.
    frames[i][..8].copy_from_slice(&p.ciphertext[..8]);
    expect_err(open_frames(&p, &frames), |e| {
        matches!(
            e,
            Error::Stream(StreamError::ChunkAuthFailed { part: 3, index: 2 })
        )
    });
}

#[test]
fn moving_the_last_marker_and_appending_data_are_refused() {
    let p = standard_package();
    let frames = frames(&p.ciphertext);
    // Mark a full middle chunk "last" (to cut the part short): the nonce differs.
    let i = frames
        .iter()
        .position(|f| frame_id(f) == (3, 1, false))
        .unwrap();
    let mut broken = frames.clone();
    broken[i][16] = 1;
    expect_err(open_frames(&p, &broken), |e| {
        matches!(
            e,
            Error::Stream(StreamError::ChunkAuthFailed { part: 3, index: 1 })
        )
    });
    // Unmark a short last chunk: it no longer fits the chunking rules.
    let j = frames.len() - 1;
    let mut broken = frames.clone();
    broken[j][16] = 0;
    expect_err(open_frames(&p, &broken), |e| {
        matches!(e, Error::Stream(StreamError::FrameInvalid { .. }))
    });
    // A frame after the end of the document.
    let mut longer = frames.clone();
    longer.push(frames[j].clone());
    expect_err(open_frames(&p, &longer), |e| {
        matches!(e, Error::Stream(StreamError::TrailingData))
    });
}

#[test]
fn the_axis_detects_altered_or_cut_ciphertext_without_the_key() {
    let f = fixture();
    let p = standard_package();
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    let mut altered = p.ciphertext.clone();
    altered[500] ^= 1;
    let mut check = sub.ciphertext_check();
    check.update(&altered).unwrap();
    assert!(matches!(
        check.finish(),
        Err(CiphertextError::CiphertextDigestMismatch)
    ));
    let mut check = sub.ciphertext_check();
    check.update(&p.ciphertext[..100]).unwrap();
    let expected = p.ciphertext.len() as u64;
    assert!(matches!(
        check.finish(),
        Err(CiphertextError::CiphertextLengthMismatch { expected: e, found: 100 }) if e == expected
    ));
    let mut check = sub.ciphertext_check();
    assert!(matches!(
        check.update(&[p.ciphertext.as_slice(), b"x"].concat()),
        Err(CiphertextError::CiphertextLengthMismatch { expected: e, found }) if e == expected && found == expected + 1
    ));
}

// ----- signatures -----

#[test]
fn a_personal_signature_by_another_agencys_person_is_refused() {
    let f = fixture();
    let p = standard_package();
    let m = p.document.manifest();
    // B's person signs A's manifest bytes: a valid CMS signature, by the wrong agency.
    let forged = cms::sign(m.as_bytes(), &f.person_b.signer(), SIGNED).unwrap();
    let doc = SignedDocument::from_parts(m.clone(), forged, p.document.seal_signature().to_vec());
    match doc.verify(&f.store, NOW) {
        Err(Error::Certificate(CertificateError::SignerAgencyMismatch {
            role: SignatureRole::PersonalSigner,
            expected,
            found,
        })) => {
            assert_eq!(expected, f.a.id);
            assert_eq!(found, f.b.id);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_submission_signed_by_another_agencys_seal_is_refused() {
    let f = fixture();
    let p = standard_package();
    let header = p.sealed.submission.header().clone();
    let forged = cms::sign(header.as_bytes(), &f.b.seal_signer(), SIGNED).unwrap();
    let sub = Submission::parse(header.as_bytes(), forged).unwrap();
    match sub.verify(&f.store, NOW) {
        Err(Error::Certificate(CertificateError::SignerAgencyMismatch {
            role: SignatureRole::Submission,
            expected,
            found,
        })) => {
            assert_eq!(expected, f.a.id);
            assert_eq!(found, f.b.id);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cms_sign_signs_only_axis_structures() {
    let f = fixture();
    let p = standard_package();
    // An Axis structure (a SEQUENCE starting with a format OID) is signed …
    assert!(cms::sign(p.document.manifest().as_bytes(), &f.a.seal_signer(), SIGNED).is_ok());
    // … anything else is refused before any key is used: the seal signs no foreign bytes.
    for bytes in [&b"any bytes"[..], &[0x30, 0x03, 0x02, 0x01, 0x01], &[]] {
        assert!(matches!(
            cms::sign(bytes, &f.a.seal_signer(), SIGNED),
            Err(Error::Misuse { .. })
        ));
    }
}

#[test]
fn header_parse_refuses_other_formats() {
    let p = standard_package();
    assert!(matches!(
        HeaderBytes::parse(p.document.manifest().as_bytes()),
        Err(Error::Format(FormatError::WrongFormat {
            expected: "routing header"
        }))
    ));
    assert!(matches!(
        ManifestBytes::parse(p.sealed.submission.header().as_bytes()),
        Err(Error::Format(FormatError::WrongFormat {
            expected: "manifest"
        }))
    ));
}

#[test]
fn a_document_without_its_seal_or_personal_signature_is_refused() {
    let f = fixture();
    let p = standard_package();
    let d = &p.document;
    let no_seal = SignedDocument::from_parts(
        d.manifest().clone(),
        d.personal_signature().to_vec(),
        vec![],
    );
    expect_err(no_seal.verify(&f.store, NOW), |e| {
        matches!(e, Error::Signature(SignatureError::SealSignatureMissing))
    });
    let no_personal =
        SignedDocument::from_parts(d.manifest().clone(), vec![], d.seal_signature().to_vec());
    expect_err(no_personal.verify(&f.store, NOW), |e| {
        matches!(
            e,
            Error::Signature(SignatureError::PersonalSignatureMissing)
        )
    });
    // Sealed and sent without the seal: the recipient refuses it before any attachment.
    let atts = standard_attachments();
    let q = seal_document(&no_seal, &[&f.b, &f.c], &[&atts[0], &atts[1]], 1024, 4096);
    expect_err(open(&q, &f.b), |e| {
        matches!(e, Error::Signature(SignatureError::SealSignatureMissing))
    });
    // The personal signature in the seal's place: a personal certificate is not a seal.
    let twice = SignedDocument::from_parts(
        d.manifest().clone(),
        d.personal_signature().to_vec(),
        d.personal_signature().to_vec(),
    );
    expect_err(twice.verify(&f.store, NOW), |e| {
        matches!(
            e,
            Error::Certificate(CertificateError::SignerCertificateRejected {
                role: SignatureRole::AgencySeal,
                source: axis_pki::Error::WrongProfile { .. }
            })
        )
    });
}

#[test]
fn a_signature_by_a_revoked_certificate_is_refused() {
    let f = fixture();
    let m = manifest(&[&f.b], &[]).encode().unwrap();
    let doc =
        SignedDocument::sign(m, &f.revoked.signer(), SIGNED, &f.a.seal_signer(), SIGNED).unwrap();
    expect_err(doc.verify(&f.store, NOW), |e| {
        matches!(
            e,
            Error::Certificate(CertificateError::SignerRevoked {
                role: SignatureRole::PersonalSigner,
                reason: axis_pki::RevocationReason::KeyCompromise,
                ..
            })
        )
    });
}

#[test]
fn signing_for_another_agency_is_refused_when_signing() {
    let f = fixture();
    let m = manifest(&[&f.b], &[]).encode().unwrap();
    // B's person and B's seal cannot sign a document from A.
    expect_err(
        SignedDocument::sign(
            m.clone(),
            &f.person_b.signer(),
            SIGNED,
            &f.a.seal_signer(),
            SIGNED,
        ),
        |e| {
            matches!(e, Error::Certificate(CertificateError::SignerAgencyMismatch { role: SignatureRole::PersonalSigner, expected, found })
                if *expected == f.a.id && *found == f.b.id)
        },
    );
    expect_err(
        SignedDocument::sign(m, &f.person.signer(), SIGNED, &f.b.seal_signer(), SIGNED),
        |e| {
            matches!(
                e,
                Error::Certificate(CertificateError::SignerAgencyMismatch {
                    role: SignatureRole::AgencySeal,
                    ..
                })
            )
        },
    );
}

#[test]
fn signature_over_other_content_and_at_wrong_times_are_refused() {
    let f = fixture();
    let p = standard_package();
    let d = &p.document;
    // The signatures of another manifest.
    let other = sign(&manifest(&[&f.c], &[])).manifest().clone();
    let swapped = SignedDocument::from_parts(
        other,
        d.personal_signature().to_vec(),
        d.seal_signature().to_vec(),
    );
    expect_err(swapped.verify(&f.store, NOW), |e| {
        matches!(
            e,
            Error::Signature(SignatureError::ContentDigestMismatch {
                role: SignatureRole::PersonalSigner
            })
        )
    });
    // Verified before it was signed.
    expect_err(d.verify(&f.store, SIGNED - Duration::hours(1)), |e| {
        matches!(
            e,
            Error::SigningTime(SigningTimeError::SigningTimeInFuture {
                role: SignatureRole::PersonalSigner,
                ..
            })
        )
    });
    // Verified after the certificates expired.
    expect_err(d.verify(&f.store, T0 + Duration::days(400)), |e| {
        matches!(
            e,
            Error::Certificate(CertificateError::SignerCertificateRejected { .. })
        )
    });
    // The seal dated before the personal signature.
    let m = manifest(&[&f.b], &[]).encode().unwrap();
    expect_err(
        SignedDocument::sign(
            m,
            &f.person.signer(),
            SIGNED,
            &f.a.seal_signer(),
            SIGNED - Duration::minutes(1),
        ),
        |e| {
            matches!(
                e,
                Error::Signature(SignatureError::SealBeforePersonalSignature { .. })
            )
        },
    );
}

#[test]
fn flipped_bits_in_a_signature_are_refused() {
    let f = fixture();
    let p = standard_package();
    let d = &p.document;
    let sig = d.seal_signature();
    let mut outcomes = std::collections::BTreeSet::new();
    // The SignerInfo is the last ~600 bytes (RSA-2048 seal). The certificate set before it is
    // not covered by the signature in CMS (RFC 5652 §5.1): it only helps path building, and a
    // damaged extra CA certificate there is ignored when the trust store has the real one.
    for i in (sig.len() - 600..sig.len()).step_by(3) {
        let mut s = sig.to_vec();
        s[i] ^= 0x04;
        let doc =
            SignedDocument::from_parts(d.manifest().clone(), d.personal_signature().to_vec(), s);
        let err = doc.verify(&f.store, NOW).unwrap_err();
        // The category and the variant within it (`Signature(BadSignature`, `Format(Malformed`).
        let kind = format!("{err:?}");
        outcomes.insert(kind.split([' ', ')']).next().unwrap_or_default().to_owned());
    }
    // Never accepted; and more than one kind of refusal (structure, attributes, value, chain).
    assert!(outcomes.len() > 2, "{outcomes:?}");
}

// ----- attachments -----

#[test]
fn an_attachment_that_differs_from_the_manifest_is_refused() {
    let f = fixture();
    let atts = standard_attachments();
    let p = standard_package();
    // The sender cannot write more or fewer bytes than the manifest says.
    let certs = vec![f.b.enc.clone(), f.c.enc.clone()];
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random().unwrap(),
        document: &p.document,
        recipients: &certs,
        chunk_size: 1024,
    })
    .unwrap();
    let mut out = Vec::new();
    expect_err(
        sealer.write_attachment(&[atts[0].as_slice(), b"x"].concat(), &mut out),
        |e| {
            matches!(
                e,
                Error::Stream(StreamError::AttachmentSizeMismatch { index: 0, .. })
            )
        },
    );
    expect_err(sealer.end_attachment(&mut out), |e| {
        matches!(
            e,
            Error::Stream(StreamError::AttachmentSizeMismatch {
                index: 0,
                expected: 5000,
                found: 0
            })
        )
    });
    // Same size, other bytes: the recipient refuses it at the attachment's end.
    let mut changed = atts[0].clone();
    changed[4999] ^= 1;
    let q = seal_document(
        &p.document,
        &[&f.b, &f.c],
        &[&changed, &atts[1]],
        1024,
        4096,
    );
    expect_err(open(&q, &f.b), |e| {
        matches!(
            e,
            Error::Stream(StreamError::AttachmentDigestMismatch { index: 0 })
        )
    });
}

// ----- budgets -----

#[test]
fn oversized_fields_and_too_many_recipients_are_refused() {
    let f = fixture();
    #[track_caller]
    fn check(m: Manifest, expected: impl Fn(&Error) -> bool) {
        expect_err(m.encode(), expected);
    }
    let base = manifest(&[&f.b], &[]);
    let mut m = base.clone();
    m.subject = "x".repeat(MAX_SUBJECT + 1);
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::FieldTooLong {
                field: "Subject",
                len: 501,
                max: 500
            })
        )
    });
    let mut m = base.clone();
    m.from.organ_name = "Đ".repeat(MAX_ORGAN_NAME + 1);
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::FieldTooLong {
                field: "OrganName",
                ..
            })
        )
    });
    let mut m = base.clone();
    m.other.typer_notation = "x".repeat(MAX_TYPER_NOTATION + 1);
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::FieldTooLong {
                field: "TyperNotation",
                ..
            })
        )
    });
    // Values real agencies publish fit; one character more than ours is refused.
    let mut m = base.clone();
    m.from.website = "http://www.hanoi.gov.vn".into();
    m.from.telephone = "0243.8253.535 - 0243.8253.536".into();
    m.from.fax = "(+84) 24 3825 3536".into();
    m.encode().unwrap();
    for (field, max) in [
        ("Website", MAX_WEBSITE),
        ("Telephone", MAX_PHONE),
        ("Fax", MAX_PHONE),
    ] {
        let mut m = base.clone();
        let long = "1".repeat(max + 1);
        match field {
            "Website" => m.from.website = long,
            "Telephone" => m.from.telephone = long,
            _ => m.from.fax = long,
        }
        check(
            m,
            |e| matches!(e, Error::Format(FormatError::FieldTooLong { field: f, len, max: m }) if *f == field && *len == max + 1 && *m == max),
        );
    }
    let mut m = base.clone();
    m.subject = " ".into();
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::FieldEmpty { field: "Subject" })
        )
    });
    let mut m = base.clone();
    m.from.email = "not an address".into();
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::FieldInvalid { field: "Email", .. })
        )
    });
    let mut m = base.clone();
    m.to = (0..=MAX_RECIPIENTS)
        .map(|i| {
            Organization::new(
                axis_pki::AgencyId::parse(&format!("{:03}.00.00.H41", i % 1000)).unwrap(),
                "x",
            )
        })
        .collect();
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::TooManyRecipients {
                found: 501,
                max: MAX_RECIPIENTS
            })
        )
    });
    let mut m = base.clone();
    m.to = vec![f.b.org(), f.b.org()];
    check(m, |e| {
        matches!(e, Error::Format(FormatError::DuplicateRecipient { .. }))
    });
    let mut m = base.clone();
    m.to.clear();
    check(m, |e| matches!(e, Error::Format(FormatError::NoRecipients)));
    let mut m = base.clone();
    m.attachments = vec![
        Attachment {
            name: "big".into(),
            content_type: "application/pdf".into(),
            description: String::new(),
            size: MAX_DOCUMENT_SIZE,
            sha256: [0; 32],
        };
        2
    ];
    check(m, |e| {
        matches!(
            e,
            Error::Format(FormatError::TooLarge {
                what: "document (attachments)",
                ..
            })
        )
    });
    // Parsers refuse oversized input before reading it.
    expect_err(ManifestBytes::parse(&vec![0; MAX_MANIFEST_LEN + 1]), |e| {
        matches!(
            e,
            Error::Format(FormatError::TooLarge {
                what: "manifest",
                ..
            })
        )
    });
    expect_err(HeaderBytes::parse(&vec![0; MAX_HEADER_LEN + 1]), |e| {
        matches!(
            e,
            Error::Format(FormatError::TooLarge {
                what: "routing header",
                ..
            })
        )
    });
}

#[test]
fn sealing_checks_the_recipients_certificates() {
    let f = fixture();
    let doc = sign(&manifest(&[&f.b, &f.c], &[]));
    let seal = |certs: Vec<axis_pki::VerifiedCert>, chunk_size| {
        Sealer::new(SealRequest {
            message_id: MessageId::random().unwrap(),
            document: &doc,
            recipients: &certs,
            chunk_size,
        })
        .map(|_| ())
    };
    expect_err(seal(vec![f.b.enc.clone()], 1024), |e| {
        matches!(e, Error::Stream(StreamError::HeaderManifestMismatch { .. }))
    });
    expect_err(seal(vec![f.b.enc.clone(), f.c.seal.clone()], 1024), |e| {
        matches!(
            e,
            Error::Key(KeyError::WrongCertificateProfile {
                expected: Profile::AgencyEncryption,
                ..
            })
        )
    });
    expect_err(seal(vec![f.b.enc.clone(), f.b.enc.clone()], 1024), |e| {
        matches!(e, Error::Format(FormatError::DuplicateRecipient { .. }))
    });
    expect_err(seal(vec![f.b.enc.clone(), f.c.enc.clone()], 100), |e| {
        matches!(
            e,
            Error::Format(FormatError::ChunkSizeOutOfRange { size: 100, .. })
        )
    });
}
