//! The negative matrix: the valid package opens (tested in roundtrip.rs), and each way of
//! breaking it fails with its own error. Cases that need a signature the public API refuses to
//! make (a signer of another agency) are in the crate's unit tests (`src/tests.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::Profile;
use axis_signer::cms::der;
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
    let mine = sub
        .check_key_envelope(&p.sealed.key_envelope)
        .unwrap()
        .entry_with_path(0)
        .unwrap();
    // Every byte position of B's entry and of its path, sampled: the path check against the
    // signed root fails before any private-key operation.
    for i in (0..mine.entry.len()).step_by(37) {
        let mut e = mine.clone();
        e.entry[i] ^= 0x10;
        expect_err(Opener::new(&sub, &e, &key, &f.store, NOW), |e| {
            matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch))
        });
    }
    for i in (0..32 * mine.path.len()).step_by(7) {
        let mut e = mine.clone();
        e.path[i / 32][i % 32] ^= 0x01;
        expect_err(Opener::new(&sub, &e, &key, &f.store, NOW), |e| {
            matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch))
        });
    }
    // The axis catches it too, on submission: anywhere in the whole envelope, as a mismatch
    // with the root or as bytes that do not read.
    for i in (0..p.sealed.key_envelope.len()).step_by(41) {
        let mut env = p.sealed.key_envelope.clone();
        env[i] ^= 0x10;
        expect_err(sub.check_key_envelope(&env), |e| {
            matches!(
                e,
                Error::Envelope(EnvelopeError::KeyEnvelopeMismatch) | Error::Format(_)
            )
        });
    }
}

#[test]
fn key_envelope_of_another_document_is_refused() {
    let f = fixture();
    let p = standard_package();
    let q = standard_package();
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    // Whole, on submission…
    expect_err(sub.check_key_envelope(&q.sealed.key_envelope), |e| {
        matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch))
    });
    // …and one entry with its own valid path, in a delivery.
    let theirs = KeyEnvelope::parse(&q.sealed.key_envelope)
        .unwrap()
        .entry_with_path(0)
        .unwrap();
    expect_err(
        Opener::new(&sub, &theirs, &f.b.recipient_key(), &f.store, NOW),
        |e| matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch)),
    );
}

#[test]
fn another_recipients_entry_is_refused_before_unwrapping() {
    // C's entry with its valid path, handed to B: its index is not B's position.
    let f = fixture();
    let p = standard_package(); // A to B (0) and C (1)
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    let env = sub.check_key_envelope(&p.sealed.key_envelope).unwrap();
    let c_entry = env.entry_with_path(1).unwrap();
    expect_err(
        Opener::new(&sub, &c_entry, &f.b.recipient_key(), &f.store, NOW),
        |e| matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch)),
    );
    // Relabelled as index 0, its path no longer leads to the root.
    let mut relabelled = c_entry.clone();
    relabelled.index = 0;
    expect_err(
        Opener::new(&sub, &relabelled, &f.b.recipient_key(), &f.store, NOW),
        |e| matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch)),
    );
    // Its own entry opens.
    Opener::new(
        &sub,
        &env.entry_with_path(1).unwrap(),
        &f.c.recipient_key(),
        &f.store,
        NOW,
    )
    .unwrap();
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
    let m = naming_signer(manifest(&[&f.b], &[]), &f.revoked.cert)
        .encode()
        .unwrap();
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

// ----- the manifest's signer is the personal certificate's holder -----

/// A person at A named `name`, titled `title` (valid, not revoked).
fn person_at_a(name: &str, title: &str) -> Person {
    let f = fixture();
    let mut s = axis_pki::Subject::new(name);
    s.agency_id = Some(f.a.id.clone());
    s.title = Some(title.to_owned());
    issue_extra(
        Profile::PersonalSigner,
        s,
        axis_pki::KeyAlgorithm::EcdsaP256,
    )
}

/// `m` signed by `person` and A's seal, bypassing `SignedDocument::sign`'s own check (what a
/// sender's other software could do).
fn signed_by(m: &Manifest, person: &Person) -> SignedDocument {
    let f = fixture();
    let bytes = m.encode().unwrap();
    let p = cms::sign(bytes.as_bytes(), &person.signer(), SIGNED).unwrap();
    let s = cms::sign(bytes.as_bytes(), &f.a.seal_signer(), SIGNED).unwrap();
    SignedDocument::from_parts(bytes, p, s)
}

fn name_mismatch(field: &'static str) -> impl Fn(&Error) -> bool {
    move |e| {
        matches!(e, Error::Certificate(CertificateError::SignerNameMismatch { field: f, .. })
            if *f == field)
    }
}

#[test]
fn a_manifest_naming_another_signer_than_the_certificate_is_refused() {
    let f = fixture();
    // The issue's case: the manifest names "Nguyễn Văn A", "Trần Văn Sơn" signed.
    let mut m = manifest(&[&f.b], &[]);
    m.signer.full_name = "Nguyễn Văn A".into();
    expect_err(
        SignedDocument::sign(
            m.encode().unwrap(),
            &f.person.signer(),
            SIGNED,
            &f.a.seal_signer(),
            SIGNED,
        ),
        name_mismatch("full name"),
    );
    expect_err(
        signed_by(&m, &f.person).verify(&f.store, NOW),
        name_mismatch("full name"),
    );
    // A position the certificate's title contradicts.
    let mut m = manifest(&[&f.b], &[]);
    m.signer.position = "Chủ nhiệm".into();
    expect_err(
        signed_by(&m, &f.person).verify(&f.store, NOW),
        name_mismatch("position"),
    );
    // The message names fields, never the people.
    let e = signed_by(&m, &f.person).verify(&f.store, NOW).unwrap_err();
    assert!(!e.to_string().contains("Trần"), "{e}");
}

#[test]
fn the_signer_name_is_compared_in_nfc_and_an_empty_position_contradicts_nothing() {
    let f = fixture();
    // "Nguyễn" typed decomposed (e + circumflex + tilde as combining marks) in the manifest,
    // composed in the certificate.
    let nfd = "Nguye\u{302}\u{303}n Thị Hoa";
    let person = person_at_a("Nguyễn Thị Hoa", "Phó Chánh Văn phòng");
    let mut m = manifest(&[&f.b], &[]);
    m.signer.full_name = nfd.into();
    m.signer.position = "Phó Chánh Văn phòng".into();
    let doc = signed_by(&m, &person).verify(&f.store, NOW).unwrap();
    assert_eq!(
        doc.report().personal.as_ref().unwrap().signer_name,
        "Nguyễn Thị Hoa"
    );
    // An empty position contradicts no title.
    let mut m = manifest(&[&f.b], &[]);
    m.signer.position = String::new();
    signed_by(&m, &f.person).verify(&f.store, NOW).unwrap();
}

// ----- sending to oneself -----

#[test]
fn a_document_to_its_own_sender_is_not_sealed() {
    let f = fixture();
    let m = manifest(&[&f.a, &f.b], &[]);
    let doc = sign(&m);
    expect_err(
        Sealer::new(SealRequest {
            message_id: MessageId::random().unwrap(),
            document: &doc,
            recipients: &[f.a.enc.clone(), f.b.enc.clone()],
            chunk_size: DEFAULT_CHUNK_SIZE,
        }),
        |e| matches!(e, Error::Format(FormatError::SenderIsRecipient { agency }) if *agency == f.a.id),
    );
}

// ----- the key envelope against the header's recipients -----

fn current(agencies: &[&Agency]) -> Vec<(axis_pki::AgencyId, RecipientId)> {
    agencies
        .iter()
        .map(|a| {
            (
                a.id.clone(),
                RecipientId::of_certificate(a.enc.der()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_envelope_serves_exactly_the_header_recipients() {
    let f = fixture();
    let p = standard_package(); // A to B and C
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    let env = &sub.check_key_envelope(&p.sealed.key_envelope).unwrap();
    sub.check_envelope_recipients(env, &current(&[&f.b, &f.c]))
        .unwrap();
    // The caller's list in any order.
    sub.check_envelope_recipients(env, &current(&[&f.c, &f.b]))
        .unwrap();
    // C renewed its encryption certificate: the entry is for the old one.
    let renewed = {
        let mut s = axis_pki::Subject::new("Renewed");
        s.agency_id = Some(f.c.id.clone());
        issue_extra(
            Profile::AgencyEncryption,
            s,
            axis_pki::KeyAlgorithm::EcdsaP256,
        )
    };
    let mut cur = current(&[&f.b]);
    cur.push((
        f.c.id.clone(),
        RecipientId::of_certificate(renewed.cert.der()).unwrap(),
    ));
    expect_err(sub.check_envelope_recipients(env, &cur), |e| {
        matches!(e, Error::Envelope(EnvelopeError::RecipientsMismatch { missing, unexpected: 0 })
            if *missing == vec![f.c.id.clone()])
    });
    // The caller's list must name each header recipient once.
    expect_err(sub.check_envelope_recipients(env, &current(&[&f.b])), |e| {
        matches!(e, Error::Misuse { .. })
    });
    expect_err(
        sub.check_envelope_recipients(env, &current(&[&f.b, &f.d])),
        |e| matches!(e, Error::Misuse { .. }),
    );
    // Garbage is a format error, not a panic.
    expect_err(sub.check_key_envelope(b"\x30\x00"), |e| {
        matches!(e, Error::Format(_))
    });
}

/// The entries in another order than the header's recipients: every entry is for a recipient,
/// but not in its place, so each would be handed to the wrong agency.
#[test]
fn entries_out_of_the_header_order_are_refused() {
    let f = fixture();
    let p = standard_package(); // A to B and C
    let env = KeyEnvelope::parse(&p.sealed.key_envelope).unwrap();
    let swapped = der::seq(&[env.entry(1).unwrap(), env.entry(0).unwrap()]);
    let swapped_root = KeyEnvelope::parse(&swapped).unwrap().root();
    // The sender signs a header with the swapped envelope's root (as it can).
    let forged = reheader(&p.sealed.submission, &f.a.seal_signer(), SIGNED, |h| {
        h.key_envelope_root = swapped_root
    });
    let sub = forged.verify(&f.store, NOW).unwrap();
    let checked = sub.check_key_envelope(&swapped).unwrap();
    expect_err(
        sub.check_envelope_recipients(&checked, &current(&[&f.b, &f.c])),
        |e| {
            matches!(e, Error::Envelope(EnvelopeError::RecipientsMismatch { missing, unexpected: 0 })
            if *missing == vec![f.b.id.clone(), f.c.id.clone()])
        },
    );
    // The original envelope is not the forged header's.
    expect_err(sub.check_key_envelope(&p.sealed.key_envelope), |e| {
        matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch))
    });
}

/// Sealed for B; the sender then signs a header for [B, C] (as a sender can). With the
/// original envelope the count and root do not match; with B's entry twice under a new root,
/// C's place holds B's entry.
fn forged_for_b_and_c() -> (Package, Submission, Vec<u8>) {
    let f = fixture();
    let m = manifest(&[&f.b], &[]);
    let doc = sign(&m);
    let p = seal_document(&doc, &[&f.b], &[], 1024, 1024);
    let b_entry = KeyEnvelope::parse(&p.sealed.key_envelope)
        .unwrap()
        .entry(0)
        .unwrap()
        .to_vec();
    let doubled = der::seq(&[&b_entry, &b_entry]);
    let root = KeyEnvelope::parse(&doubled).unwrap().root();
    let forged = reheader(&p.sealed.submission, &f.a.seal_signer(), SIGNED, |h| {
        h.recipients.push(f.c.id.clone());
        h.key_envelope_root = root;
    });
    (p, forged, doubled)
}

#[test]
fn a_header_rewritten_to_add_a_recipient_is_caught_by_its_envelope() {
    let f = fixture();
    let (p, forged, doubled) = forged_for_b_and_c();
    let sub = forged.verify(&f.store, NOW).unwrap();
    // One entry for two recipients: not the envelope the header names.
    expect_err(sub.check_key_envelope(&p.sealed.key_envelope), |e| {
        matches!(e, Error::Envelope(EnvelopeError::KeyEnvelopeMismatch))
    });
    // Two entries under the header's root, both for B: C has none.
    let env = sub.check_key_envelope(&doubled).unwrap();
    expect_err(
        sub.check_envelope_recipients(&env, &current(&[&f.b, &f.c])),
        |e| {
            matches!(e, Error::Envelope(EnvelopeError::RecipientsMismatch { missing, unexpected: 0 })
            if *missing == vec![f.c.id.clone()])
        },
    );
    // And [C] alone: the one entry is B's.
    let root = KeyEnvelope::parse(&p.sealed.key_envelope).unwrap().root();
    let forged = reheader(&p.sealed.submission, &f.a.seal_signer(), SIGNED, |h| {
        h.recipients = vec![f.c.id.clone()];
        h.key_envelope_root = root;
    });
    let sub = forged.verify(&f.store, NOW).unwrap();
    let env = sub.check_key_envelope(&p.sealed.key_envelope).unwrap();
    expect_err(
        sub.check_envelope_recipients(&env, &current(&[&f.c])),
        |e| {
            matches!(e, Error::Envelope(EnvelopeError::RecipientsMismatch { missing, unexpected: 0 })
            if *missing == vec![f.c.id.clone()])
        },
    );
}

// ----- refusing what cannot be opened -----

#[test]
fn a_recipient_refuses_a_document_it_cannot_open() {
    let f = fixture();
    let (_, forged, doubled) = forged_for_b_and_c();
    let sub = forged.verify(&f.store, NOW).unwrap();
    // C cannot open it: its place holds B's entry…
    expect_err(
        Opener::from_key_envelope(&sub, &doubled, &f.c.recipient_key(), &f.store, NOW),
        |e| matches!(e, Error::Envelope(EnvelopeError::NoRecipientInfo)),
    );
    // …but refuses it from what the header says.
    let chain = ReceiptChain::new(DocumentRef::submitted(&sub, &f.c.id).unwrap());
    let refusal = chain
        .refuse_unopened(NOW, "không mở được: không có khóa cho cơ quan")
        .unwrap();
    assert!(refusal.is_unopened());
    assert_eq!(refusal.status, StatusCode::Rejected);
    let signed = refusal.sign(&f.c.seal_signer()).unwrap();
    // Bytes round trip.
    let again =
        SignedReceipt::parse(signed.receipt().as_bytes(), signed.signature().to_vec()).unwrap();
    assert_eq!(again, signed);
    // The axis's chain takes it; so does the sender's full view.
    let mut axis = ReceiptChain::new(DocumentRef::logged(sub.header_bytes(), &f.c.id).unwrap());
    axis.push(&signed, &f.store, NOW).unwrap();
    assert_eq!(axis.last_status(), Some(StatusCode::Rejected));
    // Nothing follows a refusal; not even a second one.
    expect_err(axis.refuse_unopened(NOW, "again"), |e| {
        matches!(
            e,
            Error::Chain(ChainError::StatusTransitionNotAllowed { .. })
        )
    });
}

#[test]
fn an_unopened_refusal_comes_only_first_and_only_as_02() {
    let f = fixture();
    let p = standard_package();
    let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
    let (received, _) = open(&p, &f.b).unwrap();
    // After a 01 the document was opened: no unopened refusal.
    let mut chain = ReceiptChain::new(DocumentRef::received(&received));
    let r01 = chain
        .next(StatusCode::Arrived, NOW, "")
        .unwrap()
        .sign(&f.b.seal_signer())
        .unwrap();
    chain.push(&r01, &f.store, NOW).unwrap();
    expect_err(chain.refuse_unopened(NOW, "x"), |e| {
        matches!(
            e,
            Error::Chain(ChainError::StatusTransitionNotAllowed { .. })
        )
    });
    // A hand-made one after the 01 is refused by the chain.
    let mut late = ReceiptChain::new(DocumentRef::submitted(&sub, &f.b.id).unwrap())
        .refuse_unopened(NOW, "x")
        .unwrap();
    late.previous = Some(r01.receipt().hash());
    let late = late.sign(&f.b.seal_signer()).unwrap();
    expect_err(chain.push(&late, &f.store, NOW), |e| {
        matches!(
            e,
            Error::Chain(ChainError::StatusTransitionNotAllowed { .. })
        )
    });
    // Another status without a DocumentId cannot even be signed.
    let mut not_02 = ReceiptChain::new(DocumentRef::submitted(&sub, &f.b.id).unwrap())
        .refuse_unopened(NOW, "x")
        .unwrap();
    not_02.status = StatusCode::Accepted;
    expect_err(not_02.sign(&f.b.seal_signer()), |e| {
        matches!(e, Error::Format(FormatError::FieldInvalid { .. }))
    });
    // Nor a DocumentId without its manifest digest.
    let mut half = r01.receipt().receipt().clone();
    half.manifest_digest = None;
    expect_err(half.sign(&f.b.seal_signer()), |e| {
        matches!(e, Error::Format(FormatError::FieldInvalid { .. }))
    });
}
