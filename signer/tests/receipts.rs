//! Receipts and statuses: the chains a DMS makes verify for the recipient, the sender and the
//! axis; OpenSSL verifies a receipt's signature; every rule of the chain has its own error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_signer::limits::*;
use axis_signer::*;
use axis_testkit::*;
use time::Duration;

fn minutes(n: i64) -> time::OffsetDateTime {
    NOW + Duration::minutes(n)
}

/// The recipient B opens the standard package and gets its chain started.
fn received() -> (Package, ReceivedDocument) {
    let f = fixture();
    let p = standard_package();
    let (r, _) = open(&p, &f.b).unwrap();
    (p, r)
}

/// Appends `status` stated by the right party.
fn state(chain: &mut ReceiptChain, status: StatusCode, at: i64) -> SignedReceipt {
    let f = fixture();
    let r = chain.next(status, minutes(at), "").unwrap();
    let seal = if status == StatusCode::RecallRequested {
        f.a.seal_signer()
    } else {
        f.b.seal_signer()
    };
    let signed = r.sign(&seal).unwrap();
    chain.push(&signed, &f.store, minutes(at)).unwrap();
    signed
}

#[test]
fn a_full_business_chain_verifies_for_recipient_sender_and_axis() {
    let f = fixture();
    let (p, r) = received();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    let mut signed = Vec::new();
    for (i, s) in [
        StatusCode::Arrived,
        StatusCode::Accepted,
        StatusCode::Assigned,
        StatusCode::Processing,
        StatusCode::Processing,
        StatusCode::Completed,
    ]
    .into_iter()
    .enumerate()
    {
        signed.push(state(&mut chain, s, i as i64));
    }
    assert_eq!(chain.last_status(), Some(StatusCode::Completed));
    let first = chain.receipts()[0].receipt();
    assert_eq!(first.from, f.b.id);
    assert_eq!(first.to, f.a.id);
    assert_eq!(first.previous, None);
    assert_eq!(first.manifest_digest, Some(p.document.manifest().digest()));
    assert_eq!(chain.receipts()[0].report().role, SignatureRole::Receipt);

    // The sender checks the same chain with its own view; so does the axis, blind.
    let at = minutes(10);
    let sent = DocumentRef::sent(&p.document, &p.sealed, &f.b.id).unwrap();
    ReceiptChain::verify_all(sent, &signed, &f.store, at).unwrap();
    let sub = p.sealed.submission.verify(&f.store, at).unwrap();
    let axis = DocumentRef::submitted(&sub, &f.b.id).unwrap();
    ReceiptChain::verify_all(axis, &signed, &f.store, at).unwrap();

    // Receipts travel as bytes.
    let again: Vec<SignedReceipt> = signed
        .iter()
        .map(|s| SignedReceipt::parse(s.receipt().as_bytes(), s.signature().to_vec()).unwrap())
        .collect();
    assert_eq!(again, signed);
}

#[test]
fn recall_refused_then_processing_goes_on_and_recall_agreed_ends_the_chain() {
    let (_, r) = received();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    state(&mut chain, StatusCode::Arrived, 0);
    state(&mut chain, StatusCode::Accepted, 1);
    state(&mut chain, StatusCode::RecallRequested, 2);
    state(&mut chain, StatusCode::ChangeRefused, 3);
    state(&mut chain, StatusCode::Processing, 4);
    state(&mut chain, StatusCode::RecallRequested, 5);
    state(&mut chain, StatusCode::ChangeAccepted, 6);
    let f = fixture();
    let next = chain.next(StatusCode::Completed, minutes(7), "").unwrap();
    let err = chain
        .push(
            &next.sign(&f.b.seal_signer()).unwrap(),
            &f.store,
            minutes(7),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Chain(ChainError::StatusTransitionNotAllowed {
            from: Some(StatusCode::ChangeAccepted),
            to: StatusCode::Completed
        })
    ));
}

#[test]
fn a_business_typed_document_is_answered_with_15_or_16() {
    let f = fixture();
    let mut m = manifest(&[&f.b], &[]);
    m.business = Business::Recall {
        document: DocumentId::parse("000.00.00.G22,2025/12/01,100/VPCP-TH").unwrap(),
        reason: "Ban hành nhầm".into(),
    };
    let p = seal_document(&sign(&m), &[&f.b], &[], 1024, 1);
    let (r, _) = open(&p, &f.b).unwrap();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    state(&mut chain, StatusCode::Arrived, 0);
    state(&mut chain, StatusCode::ChangeAccepted, 1);
}

#[test]
fn openssl_verifies_a_receipt_signature() {
    let f = fixture();
    let (_, r) = received();
    let chain = ReceiptChain::new(DocumentRef::received(&r));
    let signed = chain
        .next(StatusCode::Arrived, NOW, "")
        .unwrap()
        .sign(&f.b.seal_signer())
        .unwrap();
    let d = Dir::new(&f.crls);
    let content = d.write("receipt.bin", signed.receipt().as_bytes());
    let sig = d.write("receipt.sig", signed.signature());
    let (ok, stderr) = cms_verify(&d, &sig, &content, NOW);
    assert!(ok, "{stderr}");
}

#[test]
fn the_edxml_extension_is_signed_and_makes_a_version_2_receipt() {
    let f = fixture();
    let (_, r) = received();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    // Without the extension: version 1, the bytes every earlier verifier reads.
    let plain = chain.next(StatusCode::Arrived, NOW, "").unwrap();
    let plain = plain.sign(&f.b.seal_signer()).unwrap();
    let version = |s: &SignedReceipt| {
        // SEQUENCE { OID, INTEGER version, … }: skip the outer header and the OID.
        let b = s.receipt().as_bytes();
        let start = 2 + if b[1] & 0x80 != 0 {
            usize::from(b[1] & 0x7f)
        } else {
            0
        };
        assert_eq!(b[start], 0x06);
        let v = start + 2 + usize::from(b[start + 1]);
        assert_eq!(&b[v..v + 2], &[0x02, 0x01]);
        b[v + 2]
    };
    assert_eq!(version(&plain), 1);
    chain.push(&plain, &f.store, NOW).unwrap();

    let mut accepted = chain
        .next(StatusCode::Accepted, minutes(1), "Đã vào sổ văn bản đến")
        .unwrap();
    accepted.edxml = [
        ("StaffInfo/Staff", "Nguyễn Thị Lan"),
        ("StaffInfo/Department", "Văn thư"),
        ("Timestamp", "2026/11/23 09:15:00"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signed = accepted.sign(&f.b.seal_signer()).unwrap();
    assert_eq!(version(&signed), 2);
    // The reason is what the person wrote; the extension travels beside it.
    assert_eq!(signed.receipt().receipt().reason, "Đã vào sổ văn bản đến");
    let again =
        SignedReceipt::parse(signed.receipt().as_bytes(), signed.signature().to_vec()).unwrap();
    assert_eq!(again.receipt().receipt(), &accepted);
    chain.push(&again, &f.store, minutes(1)).unwrap();

    // Covered by the signature: another staff name of the same length does not verify.
    let mut bytes = signed.receipt().as_bytes().to_vec();
    let at = bytes.windows(3).position(|w| w == b"Lan").unwrap();
    bytes[at..at + 3].copy_from_slice(b"Lam");
    let forged = SignedReceipt::parse(&bytes, signed.signature().to_vec()).unwrap();
    assert_eq!(
        forged.receipt().receipt().edxml["StaffInfo/Staff"],
        "Nguyễn Thị Lam"
    );
    assert!(forged.verify(&f.store, minutes(1)).is_err());

    // Built values are checked before signing, as received ones are when parsed.
    let mut bad = chain.next(StatusCode::Assigned, minutes(2), "").unwrap();
    bad.edxml.insert("Staff Info".into(), "x".into());
    assert!(matches!(
        bad.sign(&f.b.seal_signer()),
        Err(Error::Format(FormatError::FieldInvalid {
            field: "edXML extension element",
            ..
        }))
    ));
}

// ----- the rules, one error each -----

#[test]
fn receipt_over_a_different_manifest_or_ciphertext_digest_is_refused() {
    let f = fixture();
    let (_, r) = received();
    let chain = ReceiptChain::new(DocumentRef::received(&r));
    for kind in [DigestKind::Manifest, DigestKind::Ciphertext] {
        let mut bad = chain.next(StatusCode::Arrived, NOW, "").unwrap();
        match kind {
            DigestKind::Manifest => bad.manifest_digest.as_mut().unwrap()[0] ^= 1,
            _ => bad.ciphertext_digest[0] ^= 1,
        }
        let mut c = chain.clone();
        let err = c
            .push(&bad.sign(&f.b.seal_signer()).unwrap(), &f.store, NOW)
            .unwrap_err();
        assert!(
            matches!(err, Error::Chain(ChainError::ReceiptDigestMismatch { kind: k }) if k == kind),
            "{err:?}"
        );
    }
}

#[test]
fn a_broken_receipt_chain_is_refused() {
    let f = fixture();
    let (_, r) = received();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    let first = state(&mut chain, StatusCode::Arrived, 0);
    // A second receipt that does not name the first.
    let mut bad = chain.next(StatusCode::Accepted, minutes(1), "").unwrap();
    bad.previous = Some([7; 32]);
    let err = chain
        .push(&bad.sign(&f.b.seal_signer()).unwrap(), &f.store, minutes(1))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Chain(ChainError::ReceiptChainBroken { position: 1 })
        ),
        "{err:?}"
    );
    // The first receipt given twice: the second copy names nothing.
    let err = chain.push(&first, &f.store, minutes(1)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Chain(ChainError::ReceiptChainBroken { position: 1 })
        ),
        "{err:?}"
    );
}

#[test]
fn statuses_must_start_with_01_and_follow_the_allowed_transitions() {
    let f = fixture();
    let (_, r) = received();
    let doc = DocumentRef::received(&r);
    #[track_caller]
    fn check(doc: &DocumentRef, before: &[StatusCode], next: StatusCode, ok: bool) {
        let f = fixture();
        let mut chain = ReceiptChain::new(doc.clone());
        for (i, s) in before.iter().enumerate() {
            state(&mut chain, *s, i as i64);
        }
        let r = chain.next(next, minutes(30), "lý do").unwrap();
        let seal = if next == StatusCode::RecallRequested {
            f.a.seal_signer()
        } else {
            f.b.seal_signer()
        };
        let res = chain.push(&r.sign(&seal).unwrap(), &f.store, minutes(30));
        match (ok, res) {
            (true, Ok(_)) => {}
            (false, Err(Error::Chain(ChainError::StatusTransitionNotAllowed { to, .. }))) => {
                assert_eq!(to, next)
            }
            (ok, res) => panic!("{before:?} then {next}: expected ok={ok}, got {res:?}"),
        }
    }
    use StatusCode::*;
    let _ = f;
    check(&doc, &[], Arrived, true);
    check(&doc, &[], Accepted, false); // 01 first
    check(&doc, &[], RecallRequested, false);
    check(&doc, &[Arrived], Arrived, false);
    check(&doc, &[Arrived], Rejected, true);
    check(&doc, &[Arrived], Assigned, false); // not before 03
    check(&doc, &[Arrived, Rejected], Accepted, false); // nothing after 02
    check(&doc, &[Arrived, Rejected], RecallRequested, false);
    check(&doc, &[Arrived, Accepted], Completed, true);
    check(&doc, &[Arrived], ChangeAccepted, false); // 15 only in answer
    check(&doc, &[Arrived, Accepted], ChangeRefused, false);
    check(&doc, &[Arrived, RecallRequested], Accepted, false); // the recall is answered first
    check(&doc, &[Arrived, RecallRequested], ChangeRefused, true);
    check(
        &doc,
        &[Arrived, RecallRequested, ChangeRefused],
        ChangeRefused,
        false,
    );
}

#[test]
fn status_13_is_sent_by_the_sender_and_the_rest_by_the_recipient() {
    let f = fixture();
    let (_, r) = received();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    state(&mut chain, StatusCode::Arrived, 0);
    // The recipient cannot recall; the sender cannot accept.
    let mut bad = chain
        .next(StatusCode::RecallRequested, minutes(1), "")
        .unwrap();
    bad.from = f.b.id.clone();
    bad.to = f.a.id.clone();
    let err = chain
        .clone()
        .push(&bad.sign(&f.b.seal_signer()).unwrap(), &f.store, minutes(1))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Chain(ChainError::StatusFromWrongParty { status: StatusCode::RecallRequested, expected, found })
            if *expected == f.a.id && *found == f.b.id),
        "{err:?}"
    );
    let mut bad = chain.next(StatusCode::Accepted, minutes(1), "").unwrap();
    bad.from = f.a.id.clone();
    let err = chain
        .clone()
        .push(&bad.sign(&f.a.seal_signer()).unwrap(), &f.store, minutes(1))
        .unwrap_err();
    assert!(
        matches!(err, Error::Chain(ChainError::StatusFromWrongParty { .. })),
        "{err:?}"
    );
    // A seal of another agency than the receipt's `from`.
    let good = chain.next(StatusCode::Accepted, minutes(1), "").unwrap();
    let err = good.sign(&f.c.seal_signer()).unwrap_err();
    assert!(matches!(
        err,
        Error::Certificate(CertificateError::SignerAgencyMismatch {
            role: SignatureRole::Receipt,
            ..
        })
    ));
}

#[test]
fn receipts_out_of_time_order_and_for_another_message_are_refused() {
    let f = fixture();
    let (_, r) = received();
    let mut chain = ReceiptChain::new(DocumentRef::received(&r));
    state(&mut chain, StatusCode::Arrived, 10);
    let early = chain.next(StatusCode::Accepted, minutes(5), "").unwrap();
    let err = chain
        .clone()
        .push(
            &early.sign(&f.b.seal_signer()).unwrap(),
            &f.store,
            minutes(20),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Chain(ChainError::ReceiptTimeBeforePrevious { position: 1 })
    ));
    let mut other = chain.next(StatusCode::Accepted, minutes(11), "").unwrap();
    other.message_id = MessageId::random().unwrap();
    let err = chain
        .clone()
        .push(
            &other.sign(&f.b.seal_signer()).unwrap(),
            &f.store,
            minutes(20),
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Chain(ChainError::ReceiptSubjectMismatch {
            field: "message id"
        })
    ));
}

#[test]
fn receipt_parser_refuses_other_formats_and_oversized_reasons() {
    let f = fixture();
    let (p, r) = received();
    let chain = ReceiptChain::new(DocumentRef::received(&r));
    // A manifest or a header is not a receipt.
    assert!(matches!(
        ReceiptBytes::parse(p.document.manifest().as_bytes()),
        Err(Error::Format(FormatError::WrongFormat {
            expected: "receipt"
        }))
    ));
    assert!(matches!(
        ReceiptBytes::parse(p.sealed.submission.header().as_bytes()),
        Err(Error::Format(FormatError::WrongFormat {
            expected: "receipt"
        }))
    ));
    let long = chain
        .next(StatusCode::Arrived, NOW, "x".repeat(MAX_REASON + 1))
        .unwrap();
    assert!(matches!(
        long.sign(&f.b.seal_signer()),
        Err(Error::Format(FormatError::FieldTooLong {
            field: "Description",
            ..
        }))
    ));
}
