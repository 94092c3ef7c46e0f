//! Delivery: ten recipients, resuming after a disconnect, a server restart in the middle of a
//! delivery, a 200 MB document, and two nodes on one PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_evidence::verify_evidence;
use axis_proto::v1 as pb;
use axis_signer::{DocumentRef, StatusCode};
use axis_tests::{TestAxis, TestPki, seal};
use time::OffsetDateTime;
use tokio_stream::StreamExt;

use crate::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_recipients_each_receive_open_and_acknowledge() {
    let pki = Arc::new(TestPki::new(11));
    let axis = TestAxis::start(pki.clone()).await;
    let sender = &pki.agencies[0];
    let recipients: Vec<_> = pki.agencies[1..].iter().collect();
    let body = b"gui 10 co quan".repeat(1000);
    let p = seal(&pki, sender, &recipients, &[("thong-bao.pdf", &body)]);
    raw::submit(&axis, sender, &p).await.unwrap();
    let store = pki.store();
    for r in &recipients {
        let inbox = raw::pending(&axis, r, "").await;
        assert_eq!(inbox.len(), 1, "{} got {} deliveries", r.id, inbox.len());
        let ct = raw::fetch(&axis, r, &inbox[0].message_id).await.unwrap();
        let (doc, files) = raw::open(&pki, r, &inbox[0], &ct);
        assert_eq!(files, vec![body.clone()]);
        let r01 = raw::statement(
            &pki,
            r,
            DocumentRef::received(&doc),
            &[],
            StatusCode::Arrived,
        );
        let ev = axis
            .exchange(&r.tls)
            .await
            .acknowledge(pb::AcknowledgeRequest { receipt: Some(r01) })
            .await
            .unwrap()
            .into_inner()
            .evidence
            .unwrap();
        verify_evidence(
            &ev.entry,
            &ev.proof,
            &store,
            OffsetDateTime::now_utc(),
            None,
        )
        .unwrap();
    }
    let h = axis
        .exchange(&sender.tls)
        .await
        .get_history(pb::GetHistoryRequest {
            message_id: p.message_id.to_string(),
            completeness: false,
        })
        .await
        .unwrap()
        .into_inner();
    let mut who: Vec<String> = h.entries.iter().map(|e| e.recipient.clone()).collect();
    who.sort();
    let mut expected: Vec<String> = recipients.iter().map(|r| r.id.to_string()).collect();
    expected.sort();
    assert_eq!(
        who, expected,
        "the sender must see one receipt per recipient"
    );
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_resumes_after_a_disconnect_without_loss_or_repeat() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let first = seal(&pki, a, &[b], &[("1.pdf", b"one")]);
    raw::submit(&axis, a, &first).await.unwrap();
    // Take the first delivery, then drop the stream (a disconnect).
    let mut bx = axis.exchange(&b.tls).await;
    let mut s = bx
        .subscribe(pb::SubscribeRequest {
            after_cursor: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let d1 = s.next().await.unwrap().unwrap();
    assert_eq!(d1.message_id, first.message_id.to_string());
    drop(s);
    drop(bx);
    // Two more arrive while B is away.
    let second = seal(&pki, a, &[b], &[("2.pdf", b"two")]);
    let third = seal(&pki, a, &[b], &[("3.pdf", b"three")]);
    raw::submit(&axis, a, &second).await.unwrap();
    raw::submit(&axis, a, &third).await.unwrap();
    // Resuming after the first cursor yields exactly the two others, in order.
    let got: Vec<String> = raw::pending(&axis, b, &d1.cursor)
        .await
        .into_iter()
        .map(|d| d.message_id)
        .collect();
    assert_eq!(
        got,
        vec![second.message_id.to_string(), third.message_id.to_string()]
    );
    // A live subscriber is woken by a new commit (no polling wait).
    let mut bx = axis.exchange(&b.tls).await;
    let mut s = bx
        .subscribe(pb::SubscribeRequest {
            after_cursor: got_last_cursor(&axis, b).await,
        })
        .await
        .unwrap()
        .into_inner();
    let fourth = seal(&pki, a, &[b], &[("4.pdf", b"four")]);
    raw::submit(&axis, a, &fourth).await.unwrap();
    let d4 = tokio::time::timeout(Duration::from_secs(5), s.next())
        .await
        .expect("woken")
        .unwrap()
        .unwrap();
    assert_eq!(d4.message_id, fourth.message_id.to_string());
    axis.stop().await;
}

async fn got_last_cursor(axis: &TestAxis, who: &axis_pki::demo::AgencyCreds) -> String {
    raw::pending(axis, who, "")
        .await
        .last()
        .map(|d| d.cursor.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_the_middle_of_a_delivery_loses_nothing() {
    let pki = Arc::new(TestPki::new(2));
    let mut axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let body = vec![0x5au8; 6 * 1024 * 1024];
    let p = seal(&pki, a, &[b], &[("lon.pdf", &body)]);
    raw::submit(&axis, a, &p).await.unwrap();
    let id = p.message_id.to_string();
    // B starts fetching, reads part of the document...
    let mut got = Vec::new();
    {
        let mut bx = axis.exchange(&b.tls).await;
        let mut s = bx
            .fetch(pb::FetchRequest {
                message_id: id.clone(),
                offset: 0,
            })
            .await
            .unwrap()
            .into_inner();
        for _ in 0..2 {
            got.extend(s.next().await.unwrap().unwrap().chunk);
        }
        assert!(got.len() < p.ciphertext.len());
        // ...and the server restarts under it.
        axis.restart().await;
        // The cut-off stream ends (or errors); nothing more arrives on it.
        while let Some(Ok(m)) = s.next().await {
            got.extend(m.chunk);
        }
    }
    // B resumes from where it stopped, on the restarted node.
    let mut bx = axis.exchange(&b.tls).await;
    let mut s = bx
        .fetch(pb::FetchRequest {
            message_id: id.clone(),
            offset: got.len() as u64,
        })
        .await
        .unwrap()
        .into_inner();
    while let Some(m) = s.next().await {
        got.extend(m.unwrap().chunk);
    }
    assert_eq!(got.len(), p.ciphertext.len());
    assert!(got == p.ciphertext, "the resumed ciphertext differs");
    // Still pending, opens and verifies, and the receipt is accepted after the restart.
    let inbox = raw::pending(&axis, b, "").await;
    assert_eq!(inbox.len(), 1);
    let (doc, files) = raw::open(&pki, b, &inbox[0], &got);
    assert!(files[0] == body);
    let r01 = raw::statement(
        &pki,
        b,
        DocumentRef::received(&doc),
        &[],
        StatusCode::Arrived,
    );
    bx.acknowledge(pb::AcknowledgeRequest { receipt: Some(r01) })
        .await
        .unwrap();
    // The log still proves the acceptance made before the restart.
    let h = axis
        .exchange(&a.tls)
        .await
        .get_history(pb::GetHistoryRequest {
            message_id: id,
            completeness: false,
        })
        .await
        .unwrap()
        .into_inner();
    let acc = h.acceptance.unwrap().evidence.unwrap();
    verify_evidence(
        &acc.entry,
        &acc.proof,
        &pki.store(),
        OffsetDateTime::now_utc(),
        None,
    )
    .unwrap();
    assert_eq!(h.entries.len(), 1);
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_document_goes_through_intact() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let mut body = vec![0u8; 200 * 1024 * 1024];
    for (i, x) in body.iter_mut().enumerate() {
        *x = (i % 251) as u8;
    }
    let p = seal(&pki, a, &[b], &[("ban-do.tif", &body)]);
    let mut ax = axis.exchange(&a.tls).await;
    let resp = ax
        .submit(tokio_stream::iter(p.requests(1024 * 1024)))
        .await
        .unwrap()
        .into_inner();
    assert!(!resp.receipt.unwrap().duplicate);
    let inbox = raw::pending(&axis, b, "").await;
    assert_eq!(inbox[0].size, p.ciphertext.len() as u64);
    let ct = raw::fetch(&axis, b, &inbox[0].message_id).await.unwrap();
    assert!(ct == p.ciphertext, "the fetched ciphertext differs");
    let (_, files) = raw::open(&pki, b, &inbox[0], &ct);
    assert!(files[0] == body, "the opened attachment differs");
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_deliver_promptly_across_nodes() {
    if !axis_tests::postgres() {
        eprintln!(
            "two_nodes_on_one_postgres: runs with AXIS_TEST_DB=postgres (SQLite has one node)"
        );
        return;
    }
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let node2 = axis.second_node().await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // B subscribes on node 2.
    let ch2 = axis_tests::channel_to(node2.addr, &pki, &b.tls)
        .await
        .unwrap();
    let mut s = pb::exchange_client::ExchangeClient::new(ch2)
        .subscribe(pb::SubscribeRequest {
            after_cursor: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    // Let the subscription reach its wait.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A sends through node 1.
    for i in 0..3 {
        let p = seal(
            &pki,
            a,
            &[b],
            &[("n.pdf", format!("node test {i}").as_bytes())],
        );
        let sent = Instant::now();
        raw::submit(&axis, a, &p).await.unwrap();
        // Without a cross-node wake-up the subscriber would wait for the safety net (60 s).
        let d = tokio::time::timeout(Duration::from_secs(5), s.next())
            .await
            .expect("delivered by node 2 without waiting for a poll")
            .unwrap()
            .unwrap();
        assert_eq!(d.message_id, p.message_id.to_string());
        eprintln!(
            "node 1 → node 2 delivery {i}: {:?} after the receipt",
            sent.elapsed()
        );
    }
    // Both nodes append to one log: a status logged on node 2 extends the same tree.
    let mut l2 = pb::log_client::LogClient::new(
        axis_tests::channel_to(node2.addr, &pki, &b.tls)
            .await
            .unwrap(),
    );
    let head = l2
        .get_tree_head(pb::GetTreeHeadRequest { tree_size: 0 })
        .await
        .unwrap()
        .into_inner();
    let head = axis_evidence::SignedTreeHead::parse(&head.tree_head, head.signature).unwrap();
    assert_eq!(head.head().tree_size, 3);
    node2.shutdown().await;
    axis.stop().await;
}
