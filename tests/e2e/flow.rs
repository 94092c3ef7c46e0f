//! The main job, raw gRPC: send → delivered → opened and verified → 01 and 03 → the sender sees
//! them, every answer carrying log evidence that verifies offline.

use std::sync::Arc;

use axis_evidence::verify_evidence;
use axis_proto::v1 as pb;
use axis_signer::{DocumentRef, StatusCode};
use axis_tests::{TestAxis, TestPki, seal};
use time::OffsetDateTime;

use crate::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_deliver_open_receipt_status_history() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (g22, h41) = (&pki.agencies[0], &pki.agencies[1]);
    let pdf = b"%PDF-1.7 cong van".repeat(500);
    let p = seal(&pki, g22, &[h41], &[("cong-van.pdf", &pdf)]);

    // Accepted, with evidence that verifies against the root alone.
    let resp = raw::submit(&axis, g22, &p).await.unwrap();
    let receipt = resp.receipt.unwrap();
    assert!(!receipt.duplicate);
    let ev = receipt.evidence.unwrap();
    let store = pki.store();
    let now = OffsetDateTime::now_utc();
    let verified = verify_evidence(
        &ev.entry,
        &ev.proof,
        &store,
        now,
        Some(pki.log.key.public_key_der()),
    )
    .unwrap();
    verified
        .entry()
        .check_acceptance_of(&p.sealed.submission)
        .unwrap();

    // Delivered to H41 with the exact signed bytes.
    let inbox = raw::pending(&axis, h41, "").await;
    assert_eq!(inbox.len(), 1);
    let d = &inbox[0];
    assert_eq!(d.message_id, p.message_id.to_string());
    assert_eq!(d.sender, "000.00.00.G22");
    assert_eq!(d.routing_header, p.begin.routing_header);
    assert_eq!(d.size, p.ciphertext.len() as u64);

    // Opened and verified: the attachment is the sender's.
    let ct = raw::fetch(&axis, h41, &d.message_id).await.unwrap();
    assert_eq!(ct, p.ciphertext);
    let (received, files) = raw::open(&pki, h41, d, &ct);
    assert_eq!(files, vec![pdf.clone()]);

    // 01 then 03, each logged with evidence.
    let mut ex = axis.exchange(&h41.tls).await;
    let r01 = raw::statement(
        &pki,
        h41,
        DocumentRef::received(&received),
        &[],
        StatusCode::Arrived,
    );
    let ack = ex
        .acknowledge(pb::AcknowledgeRequest {
            receipt: Some(r01.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    let ev01 = ack.evidence.unwrap();
    verify_evidence(&ev01.entry, &ev01.proof, &store, now, None)
        .unwrap()
        .entry()
        .check_statement_of(&raw::signed(&r01))
        .unwrap();
    // Acknowledged deliveries leave the inbox.
    assert!(raw::pending(&axis, h41, "").await.is_empty());
    let r03 = raw::statement(
        &pki,
        h41,
        DocumentRef::received(&received),
        &[raw::signed(&r01)],
        StatusCode::Accepted,
    );
    ex.send_status(pb::SendStatusRequest {
        status: Some(r03.clone()),
    })
    .await
    .unwrap();
    // The same receipt again: same evidence, nothing new.
    let again = ex
        .acknowledge(pb::AcknowledgeRequest {
            receipt: Some(r01.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.evidence.unwrap().entry, ev01.entry);

    // The sender sees the whole history, in order.
    let mut gx = axis.exchange(&g22.tls).await;
    let h = gx
        .get_history(pb::GetHistoryRequest {
            message_id: p.message_id.to_string(),
            completeness: false,
        })
        .await
        .unwrap()
        .into_inner();
    let statuses: Vec<StatusCode> = h
        .entries
        .iter()
        .map(|e| {
            raw::signed(e.signed.as_ref().unwrap())
                .receipt()
                .receipt()
                .status
        })
        .collect();
    assert_eq!(statuses, vec![StatusCode::Arrived, StatusCode::Accepted]);
    assert!(h.entries.iter().all(|e| e.recipient == "000.00.00.H41"));
    axis.stop().await;
}
