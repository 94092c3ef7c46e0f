//! What independent attacks found (issue #16): a cursor the axis never issued, a document to
//! its own sender, a key envelope that does not serve the header's recipients, a manifest
//! naming someone else than the person who signed — and the refusal a recipient can always
//! send for a document it cannot open.

use std::sync::Arc;
use std::time::Duration;

use axis_client::{ErrorKind, StatusCode, reasons};
use axis_pki::demo::AgencyCreds;
use axis_pki::{Profile, VerifiedCert};
use axis_proto::v1 as pb;
use axis_signer::limits::DEFAULT_CHUNK_SIZE;
use axis_signer::{MessageId, Organization, SealRequest, Sealer, SignedDocument, Signer, cms};
use axis_tests::{Package, TestAxis, TestPki, reason, seal};
use futures_util::StreamExt;
use time::OffsetDateTime;

use crate::{raw, sdk};

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, tonic::Status>, code: tonic::Code, why: &str) {
    let s = r.expect_err("refused");
    assert_eq!((s.code(), reason(&s).as_str()), (code, why), "{s:?}");
}

async fn subscribe(
    axis: &TestAxis,
    who: &AgencyCreds,
    after: &str,
) -> Result<tonic::Streaming<pb::Delivery>, tonic::Status> {
    axis.exchange(&who.tls)
        .await
        .subscribe(pb::SubscribeRequest {
            after_cursor: after.to_owned(),
        })
        .await
        .map(|r| r.into_inner())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_the_axis_did_not_issue_to_the_caller_is_refused() {
    let pki = Arc::new(TestPki::new(3));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b, c) = (&pki.agencies[0], &pki.agencies[1], &pki.agencies[2]);
    let to_b = seal(&pki, a, &[b], &[("b.pdf", b"for b")]);
    raw::submit(&axis, a, &to_b).await.unwrap();
    let to_c = seal(&pki, a, &[c], &[("c.pdf", b"for c")]);
    raw::submit(&axis, a, &to_c).await.unwrap();
    let b_cursor = raw::pending(&axis, b, "").await[0].cursor.clone();
    let c_cursor = raw::pending(&axis, c, "").await[0].cursor.clone();
    // "-1" was read as "from the start"; the others never were positions either.
    for bad in [
        "-1".to_owned(),
        "+0".to_owned(),
        "00".to_owned(),
        "x".to_owned(),
        "9223372036854775807".to_owned(),
        "99999999999999999999".to_owned(),
        // Beyond anything issued, and another agency's.
        "1000000".to_owned(),
        c_cursor.clone(),
    ] {
        refused(
            subscribe(&axis, b, &bad).await,
            tonic::Code::InvalidArgument,
            reasons::CURSOR_INVALID,
        );
    }
    // The cursors it was given work, for their own agency.
    subscribe(&axis, b, &b_cursor).await.unwrap();
    subscribe(&axis, c, &c_cursor).await.unwrap();
    // The SDK hears the reason.
    let client = sdk::client(&axis, b).await;
    let mut inbox = client.inbox(Some("-1".to_owned()));
    let e = tokio::time::timeout(Duration::from_secs(10), inbox.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.reason(), Some(reasons::CURSOR_INVALID), "{e}");
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_to_its_own_sender_is_refused() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // The SDK refuses before anything is signed…
    let client = sdk::client(&axis, a).await;
    let e = client
        .send(sdk::document(a, "self.pdf", b"to myself"))
        .await
        .unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(e.reason(), Some(reasons::SENDER_IS_RECIPIENT));
    // …and the axis refuses a header that names its sender as a recipient.
    let p = seal(&pki, a, &[b], &[("t.pdf", b"self")]);
    let forged = reheadered(&pki, a, &p, |h| h.recipients.insert(0, a.id.clone()));
    refused(
        raw::submit(&axis, a, &forged).await,
        tonic::Code::InvalidArgument,
        reasons::SENDER_IS_RECIPIENT,
    );
    assert!(
        axis.node
            .as_ref()
            .unwrap()
            .db()
            .message(p.message_id.as_bytes())
            .await
            .unwrap()
            .is_none()
    );
    axis.stop().await;
}

/// `p` with its header edited and signed again by `who`'s seal (what a sender can do).
fn reheadered(
    pki: &TestPki,
    who: &AgencyCreds,
    p: &Package,
    edit: impl FnOnce(&mut axis_signer::RoutingHeader),
) -> Package {
    let seal_cert = pki.verified(&who.seal.cert, Profile::AgencySeal);
    let seal = Signer::new(&who.seal.key, &seal_cert).unwrap();
    let submission =
        axis_testkit::reheader(&p.sealed.submission, &seal, OffsetDateTime::now_utc(), edit);
    let mut begin = p.begin.clone();
    begin.routing_header = submission.header().as_bytes().to_vec();
    begin.submission_signature = submission.signature().to_vec();
    let mut sealed = p.sealed.clone();
    sealed.submission = submission;
    Package {
        begin,
        ciphertext: p.ciphertext.clone(),
        sealed,
        document: p.document.clone(),
        message_id: p.message_id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_whose_recipients_the_key_envelope_does_not_serve_is_refused() {
    let pki = Arc::new(TestPki::new(3));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b, c) = (&pki.agencies[0], &pki.agencies[1], &pki.agencies[2]);
    // Sealed for B; the header rewritten to [B, C], then to [C], and re-signed by A's seal.
    let p = seal(&pki, a, &[b], &[("t.pdf", b"only for b")]);
    // [B, C] with B's one entry: not one entry per recipient under the header's root.
    let forged = reheadered(&pki, a, &p, |h| h.recipients.push(c.id.clone()));
    let s = raw::submit(&axis, a, &forged).await.unwrap_err();
    assert_eq!(
        (s.code(), reason(&s).as_str()),
        (tonic::Code::InvalidArgument, reasons::KEY_ENVELOPE_MISMATCH),
        "{s:?}"
    );
    // [B, C] with B's entry twice under a root the sender signs, and [C] with B's entry: C's
    // place holds an entry for B's certificate.
    let b_entry = axis_signer::KeyEnvelope::parse(&p.begin.key_envelope)
        .unwrap()
        .entry(0)
        .unwrap()
        .to_vec();
    let doubled = cms::der::seq(&[&b_entry, &b_entry]);
    let doubled_root = axis_signer::KeyEnvelope::parse(&doubled).unwrap().root();
    let mut twice = reheadered(&pki, a, &p, |h| {
        h.recipients.push(c.id.clone());
        h.key_envelope_root = doubled_root;
    });
    twice.begin.key_envelope = doubled;
    let only_c = reheadered(&pki, a, &p, |h| h.recipients = vec![c.id.clone()]);
    for forged in [twice, only_c] {
        let s = raw::submit(&axis, a, &forged).await.unwrap_err();
        assert_eq!(
            (s.code(), reason(&s).as_str()),
            (
                tonic::Code::FailedPrecondition,
                reasons::KEY_ENVELOPE_RECIPIENTS
            ),
            "{s:?}"
        );
        assert!(s.message().contains(c.id.as_str()), "{}", s.message());
    }
    // Nothing stored, nothing in C's inbox.
    assert!(
        axis.node
            .as_ref()
            .unwrap()
            .db()
            .message(p.message_id.as_bytes())
            .await
            .unwrap()
            .is_none()
    );
    assert!(raw::pending(&axis, c, "").await.is_empty());
    // The honest submission goes through.
    raw::submit(&axis, a, &p).await.unwrap();
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_for_a_replaced_encryption_certificate_is_refused() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // The axis has B's identifier cached from a first document.
    let first = seal(&pki, a, &[b], &[("1.pdf", b"one")]);
    raw::submit(&axis, a, &first).await.unwrap();
    // B renews its encryption certificate (its other certificates are not used here); the
    // directory is updated.
    let b_renewed = pki
        .pki
        .agency(b.id.as_str(), &b.name, "Người ký 1", "Chánh Văn phòng")
        .unwrap();
    let mut od = pb::directory_client::DirectoryClient::new(axis.channel(&pki.operator).await);
    od.update_agency(pb::UpdateAgencyRequest {
        agency_id: b.id.to_string(),
        encryption_certificate: b_renewed.encryption.cert.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    // Sealed for the old certificate: B could not open it with its new key.
    let stale = seal(&pki, a, &[b], &[("2.pdf", b"two")]);
    refused(
        raw::submit(&axis, a, &stale).await,
        tonic::Code::FailedPrecondition,
        reasons::KEY_ENVELOPE_RECIPIENTS,
    );
    // Sealed for the new one: accepted.
    let fresh = seal(&pki, a, &[&b_renewed], &[("3.pdf", b"three")]);
    raw::submit(&axis, a, &fresh).await.unwrap();
    axis.stop().await;
}

/// A package from `a` to `to` whose manifest names `signer_name` as the person who signed,
/// while `a`'s own personal certificate signs (made with the signer's public CMS API, as a
/// sender's other software could).
fn misnamed(pki: &TestPki, a: &AgencyCreds, to: &AgencyCreds, signer_name: &str) -> Package {
    let store = pki.store();
    let now = OffsetDateTime::now_utc();
    let org = |x: &AgencyCreds| Organization::new(x.id.clone(), x.name.clone());
    let mut m = axis_testkit::sample::sample_manifest(
        org(a),
        vec![org(to)],
        now.date(),
        axis_testkit::sample::attachments(&[("t.pdf", b"misnamed")]),
    );
    m.signer.full_name = signer_name.to_owned();
    m.signer.position = "Chánh Văn phòng".into();
    let bytes = m.encode().unwrap();
    let verified = |cert: &[u8], p| -> VerifiedCert { store.verify(cert, p, now).unwrap() };
    let person_cert = verified(&a.personal.cert, Profile::PersonalSigner);
    let seal_cert = verified(&a.seal.cert, Profile::AgencySeal);
    let seal = Signer::new(&a.seal.key, &seal_cert).unwrap();
    let personal = cms::sign(
        bytes.as_bytes(),
        &Signer::new(&a.personal.key, &person_cert).unwrap(),
        now,
    )
    .unwrap();
    let sealed_doc = cms::sign(bytes.as_bytes(), &seal, now).unwrap();
    let document = SignedDocument::from_parts(bytes, personal, sealed_doc);
    let enc = verified(&to.encryption.cert, Profile::AgencyEncryption);
    let message_id = MessageId::random().unwrap();
    let mut sealer = Sealer::new(SealRequest {
        message_id,
        document: &document,
        recipients: &[enc],
        chunk_size: DEFAULT_CHUNK_SIZE,
    })
    .unwrap();
    let mut ciphertext = Vec::new();
    sealer
        .write_attachment(b"misnamed", &mut ciphertext)
        .unwrap();
    sealer.end_attachment(&mut ciphertext).unwrap();
    let sealed = sealer.finish(&seal, now, &mut ciphertext).unwrap();
    Package {
        begin: pb::SubmitBegin {
            routing_header: sealed.submission.header().as_bytes().to_vec(),
            submission_signature: sealed.submission.signature().to_vec(),
            key_envelope: sealed.key_envelope.clone(),
        },
        ciphertext,
        sealed,
        document,
        message_id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_its_recipient_cannot_open_is_refused_unopened_and_the_sender_sees_it() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // The manifest names "Nguyễn Văn A"; A's "Người ký 0" signed. The axis cannot see it.
    let p = misnamed(&pki, a, b, "Nguyễn Văn A");
    raw::submit(&axis, a, &p).await.unwrap();
    let (sender, recipient) = (sdk::client(&axis, a).await, sdk::client(&axis, b).await);
    let mut inbox = recipient.inbox(None);
    let d = sdk::next_delivery(&mut inbox, 10).await;
    // B cannot open it: the signer is not the certificate's holder.
    let e = recipient.open_in_memory(&d).await.unwrap_err();
    assert!(e.to_string().contains("signer full name"), "{e}");
    // An ordinary 02 needs the opened document; the unopened refusal needs nothing from it.
    let refusal = recipient
        .refuse_unopenable(&d.message_id, "Người ký không phải chủ chứng thư số")
        .await
        .unwrap();
    assert_eq!(refusal.receipt.status, StatusCode::Rejected);
    assert!(refusal.receipt.is_unopened());
    // Only once, and only first.
    recipient
        .refuse_unopenable(&d.message_id, "again")
        .await
        .unwrap_err();
    // The sender's verified history shows the 02 and its reason.
    let h = sender.history(&d.message_id).await.unwrap();
    let events = &h.timelines[0].events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, StatusCode::Rejected);
    assert!(events[0].unopened);
    assert_eq!(events[0].reason, "Người ký không phải chủ chứng thư số");
    assert_eq!(h.document_id, None);
    // The refusal answered the delivery: it left B's inbox.
    assert!(raw::pending(&axis, b, "").await.is_empty());
    axis.stop().await;
}
