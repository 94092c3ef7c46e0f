//! Raw gRPC helpers over the harness (no SDK): what any gRPC client in any language would do.

use axis_pki::Profile;
use axis_pki::demo::AgencyCreds;
use axis_proto::v1 as pb;
use axis_signer::{
    DocumentRef, Opener, ReceiptChain, ReceivedDocument, Signer, StatusCode, Submission,
};
use axis_tests::{Package, TestAxis, TestPki, recipient_key};
use time::OffsetDateTime;
use tokio_stream::StreamExt;

pub(crate) async fn submit(
    axis: &TestAxis,
    who: &AgencyCreds,
    p: &Package,
) -> Result<pb::SubmitResponse, tonic::Status> {
    let mut c = axis.exchange(&who.tls).await;
    c.submit(tokio_stream::iter(p.requests(64 * 1024)))
        .await
        .map(|r| r.into_inner())
}

/// Everything pending in `who`'s inbox (reads until the stream is idle for 300 ms).
pub(crate) async fn pending(axis: &TestAxis, who: &AgencyCreds, after: &str) -> Vec<pb::Delivery> {
    let mut c = axis.exchange(&who.tls).await;
    let mut s = c
        .subscribe(pb::SubscribeRequest {
            after_cursor: after.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Ok(Some(d)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), s.next()).await
    {
        out.push(d.unwrap());
    }
    out
}

pub(crate) async fn fetch(
    axis: &TestAxis,
    who: &AgencyCreds,
    id: &str,
) -> Result<Vec<u8>, tonic::Status> {
    let mut c = axis.exchange(&who.tls).await;
    let mut s = c
        .fetch(pb::FetchRequest {
            message_id: id.to_owned(),
            offset: 0,
        })
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(m) = s.next().await {
        out.extend(m?.chunk);
    }
    Ok(out)
}

/// Opens a delivery as `who` with the real signer: submission, key, every frame, signatures.
pub(crate) fn open(
    pki: &TestPki,
    who: &AgencyCreds,
    d: &pb::Delivery,
    ciphertext: &[u8],
) -> (ReceivedDocument, Vec<Vec<u8>>) {
    let store = pki.store();
    let now = OffsetDateTime::now_utc();
    let sub = Submission::parse(&d.routing_header, d.submission_signature.clone())
        .unwrap()
        .verify(&store, now)
        .unwrap();
    let key = recipient_key(pki, who);
    Opener::new(&sub, &envelope_entry(d), &key, &store, now)
        .unwrap()
        .open_all(ciphertext)
        .unwrap()
}

/// A delivery's key-envelope entry, as the signer reads it.
pub(crate) fn envelope_entry(d: &pb::Delivery) -> axis_signer::EnvelopeEntry {
    let e = d
        .key_envelope_entry
        .as_ref()
        .expect("a delivery carries its entry");
    axis_signer::EnvelopeEntry::from_parts(e.index, e.entry.clone(), &e.path.concat()).unwrap()
}

/// `who`'s entry of a whole key envelope, as the axis would deliver it.
pub(crate) fn entry_for(
    routing_header: &[u8],
    key_envelope: &[u8],
    who: &AgencyCreds,
) -> pb::KeyEnvelopeEntry {
    let h = axis_signer::HeaderBytes::parse(routing_header).unwrap();
    let i = h
        .header()
        .recipients
        .iter()
        .position(|r| *r == who.id)
        .expect("a recipient");
    let e = axis_signer::KeyEnvelope::parse(key_envelope)
        .unwrap()
        .entry_with_path(i)
        .unwrap();
    pb::KeyEnvelopeEntry {
        entry: e.entry,
        index: e.index,
        path: e.path.iter().map(|h| h.to_vec()).collect(),
    }
}

/// The recipient's signed statement `status` following `prior` (its own chain so far).
pub(crate) fn statement(
    pki: &TestPki,
    who: &AgencyCreds,
    doc: DocumentRef,
    prior: &[axis_signer::SignedReceipt],
    status: StatusCode,
) -> pb::SignedStatement {
    let store = pki.store();
    let now = OffsetDateTime::now_utc();
    let mut chain = ReceiptChain::new(doc);
    for r in prior {
        chain.push(r, &store, now).unwrap();
    }
    let seal_cert = pki.verified(&who.seal.cert, Profile::AgencySeal);
    let r = chain
        .next(status, now, "")
        .unwrap()
        .sign(&Signer::new(&who.seal.key, &seal_cert).unwrap())
        .unwrap();
    pb::SignedStatement {
        statement: r.receipt().as_bytes().to_vec(),
        signature: r.signature().to_vec(),
    }
}

pub(crate) fn signed(s: &pb::SignedStatement) -> axis_signer::SignedReceipt {
    axis_signer::SignedReceipt::parse(&s.statement, s.signature.clone()).unwrap()
}

/// `who` fetches and opens the package's message (it must be a recipient).
pub(crate) async fn received(
    pki: &TestPki,
    who: &AgencyCreds,
    p: &Package,
    axis: &TestAxis,
) -> ReceivedDocument {
    let ct = fetch(axis, who, &p.message_id.to_string()).await.unwrap();
    let d = pb::Delivery {
        routing_header: p.begin.routing_header.clone(),
        submission_signature: p.begin.submission_signature.clone(),
        key_envelope_entry: Some(entry_for(
            &p.begin.routing_header,
            &p.begin.key_envelope,
            who,
        )),
        ..Default::default()
    };
    open(pki, who, &d, &ct).0
}

/// A receipt about `doc` stated by `who` (validly signed by its seal) as if it were the
/// recipient, whatever the document says.
pub(crate) fn forge_as(
    pki: &TestPki,
    who: &AgencyCreds,
    doc: &ReceivedDocument,
    status: StatusCode,
) -> pb::SignedStatement {
    let h = doc.submission().header();
    forge(pki, who, doc, h.sender.clone(), status)
}

/// A status 13 stated by `who` about `doc`'s copy for `recipient`.
pub(crate) fn forge_recall(
    pki: &TestPki,
    who: &AgencyCreds,
    doc: &ReceivedDocument,
    recipient: &AgencyCreds,
) -> pb::SignedStatement {
    forge(
        pki,
        who,
        doc,
        recipient.id.clone(),
        StatusCode::RecallRequested,
    )
}

fn forge(
    pki: &TestPki,
    who: &AgencyCreds,
    doc: &ReceivedDocument,
    to: axis_pki::AgencyId,
    status: StatusCode,
) -> pb::SignedStatement {
    let m = doc.document().manifest();
    let h = doc.submission().header();
    let r = axis_signer::Receipt {
        message_id: h.message_id,
        document_id: Some(m.document_id().clone()),
        from: who.id.clone(),
        to,
        status,
        manifest_digest: Some(m.digest()),
        ciphertext_digest: h.ciphertext_digest,
        time: OffsetDateTime::now_utc(),
        previous: None,
        reason: String::new(),
        edxml: Default::default(),
    };
    let seal_cert = pki.verified(&who.seal.cert, Profile::AgencySeal);
    let s = r
        .sign(&Signer::new(&who.seal.key, &seal_cert).unwrap())
        .unwrap();
    pb::SignedStatement {
        statement: s.receipt().as_bytes().to_vec(),
        signature: s.signature().to_vec(),
    }
}
