//! The SDK keeps working when the axis does not: several endpoints with failover, a deadline on
//! every step, and sealing from the directory cache during an outage. Faults come from the
//! harness's TCP fault proxy (blackhole, reset) and from killing a node process with SIGKILL.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axis_client::{
    CachePolicy, Client, ConnectionEvent, ErrorKind, MessageId, OutgoingAttachment,
    OutgoingDocument, SendReceipt, Timeouts,
};
use axis_pki::demo::AgencyCreds;
use axis_proto::v1 as pb;
use axis_tests::fault_proxy::{Fault, FaultProxy};
use axis_tests::process::NodeProcess;
use axis_tests::{TestAxis, TestDb, TestPki, postgres, sdk_config};
use futures_util::StreamExt as _;

use crate::sdk::document;

/// The failover target of #18: a blackholed node costs at most this much.
const FAILOVER_WITHIN: Duration = Duration::from_secs(15);

async fn connect(pki: &TestPki, a: &AgencyCreds, endpoints: &[String]) -> Client {
    Client::connect(sdk_config(pki, a, endpoints))
        .await
        .unwrap()
}

/// Takes `n` deliveries from the inbox, each within `within`, and returns their message ids.
async fn take(inbox: &mut axis_client::Inbox, n: usize, within: Duration) -> Vec<MessageId> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let d = tokio::time::timeout(within, inbox.next())
            .await
            .unwrap_or_else(|_| panic!("no delivery within {within:?} (got {ids:?})"))
            .unwrap()
            .unwrap();
        ids.push(d.message_id);
    }
    ids
}

/// Sends `n` small documents to `to`, one after another; all must be accepted.
async fn send_n(sender: &Client, to: &AgencyCreds, n: usize, tag: &str) -> Vec<SendReceipt> {
    let mut receipts = Vec::with_capacity(n);
    for i in 0..n {
        let body = format!("{tag} {i}");
        receipts.push(
            sender
                .send(document(to, "n.pdf", body.as_bytes()))
                .await
                .unwrap(),
        );
    }
    receipts
}

/// The events received so far.
fn drain(events: &mut tokio::sync::broadcast::Receiver<ConnectionEvent>) -> Vec<ConnectionEvent> {
    let mut v = Vec::new();
    while let Ok(e) = events.try_recv() {
        v.push(e);
    }
    v
}

fn failed_over(events: &[ConnectionEvent], from: &str, to: &str) -> bool {
    events.iter().any(
        |e| matches!(e, ConnectionEvent::Failover { from: f, to: t, .. } if f == from && t == to),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_node_fails_over_within_15_s_and_nothing_is_lost_or_repeated() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    // Two nodes on PostgreSQL; on SQLite (one node per database file) two proxies in front of
    // the one node still give the SDK two endpoints to fail over between.
    let node2 = if postgres() {
        Some(axis.second_node().await)
    } else {
        None
    };
    let p1 = FaultProxy::start(axis.addr).await.unwrap();
    let p2 = FaultProxy::start(node2.as_ref().map_or(axis.addr, |n| n.addr))
        .await
        .unwrap();
    let endpoints = [p1.endpoint(), p2.endpoint()];
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // Default deadlines: the 15 s target holds with them.
    let sender = connect(&pki, a, &endpoints).await;
    let receiver = connect(&pki, b, &endpoints).await;
    let mut sender_events = sender.events();
    let mut receiver_events = receiver.events();
    let mut inbox = receiver.inbox(None);
    let mut sent: Vec<SendReceipt> = Vec::new();
    let mut received = Vec::new();

    sent.extend(send_n(&sender, b, 3, "before").await);
    received.extend(take(&mut inbox, 3, Duration::from_secs(10)).await);
    assert_eq!(inbox.endpoint(), p1.endpoint());

    // Node 1 goes silent: no RST, no FIN, nothing.
    p1.set(Fault::Blackhole);
    let t0 = Instant::now();
    let r = sender
        .send(document(b, "b.pdf", b"during the blackhole"))
        .await
        .unwrap();
    let submit_took = t0.elapsed();
    assert!(
        submit_took < FAILOVER_WITHIN,
        "the submit took {submit_took:?} to fail over"
    );
    assert_eq!(sender.endpoint(), p2.endpoint());
    sent.push(r);
    let left = FAILOVER_WITHIN.saturating_sub(t0.elapsed()) + Duration::from_millis(500);
    received.extend(take(&mut inbox, 1, left).await);
    let inbox_took = t0.elapsed();
    assert!(
        inbox_took < FAILOVER_WITHIN + Duration::from_millis(500),
        "the inbox took {inbox_took:?} to fail over"
    );
    assert_eq!(inbox.endpoint(), p2.endpoint());
    eprintln!("blackhole: submit failed over in {submit_took:?}, the inbox in {inbox_took:?}");

    // The failovers were announced, with the reason.
    let se = drain(&mut sender_events);
    assert!(failed_over(&se, &p1.endpoint(), &p2.endpoint()), "{se:?}");
    let re = drain(&mut receiver_events);
    assert!(failed_over(&re, &p1.endpoint(), &p2.endpoint()), "{re:?}");
    assert!(
        re.iter().any(|e| matches!(e, ConnectionEvent::InboxBroken { endpoint, .. } if *endpoint == p1.endpoint())),
        "{re:?}"
    );
    assert!(
        re.iter().any(|e| matches!(e, ConnectionEvent::InboxSubscribed { endpoint, after } if *endpoint == p2.endpoint() && !after.is_empty())),
        "{re:?}"
    );

    // A document sealed once and submitted on node 2 ...
    let sealed = sender
        .seal(document(b, "c.pdf", b"submitted twice"))
        .await
        .unwrap();
    let first = sender.submit(&sealed).await.unwrap();
    assert!(!first.duplicate);
    sent.push(first.clone());
    // ... then node 1 heals and node 2 dies (RST): the same submission, retried, lands on
    // node 1 and gets the first acceptance back: same message id, same receipt.
    p1.set(Fault::Pass);
    p2.set(Fault::Reset);
    let again = sender.submit(&sealed).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        (again.message_id, again.leaf_index, again.accepted_at),
        (first.message_id, first.leaf_index, first.accepted_at)
    );
    assert_eq!(sender.endpoint(), p1.endpoint());
    sent.extend(send_n(&sender, b, 2, "after").await);
    received.extend(take(&mut inbox, 3, Duration::from_secs(20)).await);
    assert_eq!(inbox.endpoint(), p1.endpoint());

    // Every document exactly once, in the order the axis accepted them.
    let sent_ids: Vec<MessageId> = sent.iter().map(|r| r.message_id).collect();
    assert_eq!(received, sent_ids);
    let leaves: HashSet<u64> = sent.iter().map(|r| r.leaf_index).collect();
    assert_eq!(leaves.len(), sent.len());
    // Nothing more is waiting.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), inbox.next())
            .await
            .is_err(),
        "a delivery came twice"
    );
    drop(inbox);
    if let Some(n) = node2 {
        n.shutdown().await;
    }
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_a_sending_client_and_a_subscribed_inbox_loses_and_repeats_nothing() {
    if !postgres() {
        eprintln!("node kill: runs with AXIS_TEST_DB=postgres (SQLite has one node)");
        return;
    }
    const DOCUMENTS: usize = 40;
    const KILL_AFTER: usize = 12;
    let pki = Arc::new(TestPki::new(2));
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = pki.server_config(dir.path(), &db.url);
    let bin = Path::new(env!("CARGO_BIN_EXE_axis-test-node"));
    let mut n1 = NodeProcess::start(bin, &config);
    let n2 = NodeProcess::start(bin, &config);
    axis_tests::register_agencies(n1.addr, &pki).await;
    let endpoints = [n1.endpoint(), n2.endpoint()];
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let sender = connect(&pki, a, &endpoints).await;
    let receiver = connect(&pki, b, &endpoints).await;
    let mut inbox = receiver.inbox(None);

    // The sending DMS sends one document after another and never retries by hand.
    let done = Arc::new(AtomicUsize::new(0));
    let sending = {
        let (sender, b, done) = (sender.clone(), b.id.clone(), done.clone());
        tokio::spawn(async move {
            let mut receipts = Vec::new();
            for i in 0..DOCUMENTS {
                let doc = OutgoingDocument::new(
                    axis_client::signer::Code::new("7816", "VPCP-TTĐT").unwrap(),
                    format!("V/v thử nghiệm {i}"),
                )
                .to(b.clone())
                .attach(
                    OutgoingAttachment::bytes("k.pdf", "application/pdf", vec![i as u8; 3000])
                        .unwrap(),
                );
                let r = sender
                    .send(doc)
                    .await
                    .unwrap_or_else(|e| panic!("document {i}: {e}"));
                receipts.push(r);
                done.fetch_add(1, Ordering::SeqCst);
            }
            receipts
        })
    };
    // Kill node 1 (SIGKILL) while documents are going through it.
    while done.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    n1.kill();
    let killed_at = Instant::now();
    let receipts = tokio::time::timeout(Duration::from_secs(120), sending)
        .await
        .expect("the sender stalled after the kill")
        .unwrap();
    assert_eq!(sender.endpoint(), n2.endpoint());
    let received = take(&mut inbox, DOCUMENTS, Duration::from_secs(30)).await;
    eprintln!(
        "node kill: {DOCUMENTS} documents sent and received {:?} after the kill",
        killed_at.elapsed()
    );
    assert_eq!(inbox.endpoint(), n2.endpoint());
    let sent: Vec<MessageId> = receipts.iter().map(|r| r.message_id).collect();
    assert_eq!(received, sent, "lost, repeated or out of order");
    let leaves: HashSet<u64> = receipts.iter().map(|r| r.leaf_index).collect();
    assert_eq!(leaves.len(), DOCUMENTS);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), inbox.next())
            .await
            .is_err(),
        "a delivery came twice"
    );
    drop(inbox);
    drop(n2);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dms_seals_during_an_outage_from_its_directory_cache_without_a_call() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let p = FaultProxy::start(axis.addr).await.unwrap();
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let sender = connect(&pki, a, &[p.endpoint()]).await;
    let receiver = connect(&pki, b, &[axis.endpoint()]).await;
    // One document while the axis answers: the recipient and the sender's own name are cached.
    sender.send(document(b, "1.pdf", b"online")).await.unwrap();

    // The axis becomes unreachable (every connection reset).
    p.set(Fault::Reset);
    let mut events = sender.events();
    let accepted = p.accepted();
    let body = b"prepared during the outage".repeat(50);
    let t = Instant::now();
    let sealed = sender.seal(document(b, "2.pdf", &body)).await.unwrap();
    eprintln!("sealed offline in {:?}", t.elapsed());
    // Not one call was tried: no connection, no failover.
    assert_eq!(p.accepted(), accepted, "sealing tried to reach the axis");
    assert_eq!(drain(&mut events), vec![]);
    // Submitting has to wait for the axis: a retryable error, nothing lost.
    let e = sender.submit(&sealed).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert_eq!(*e.kind(), ErrorKind::Transport, "{e}");

    // The axis is back: the document sealed offline goes through and opens.
    p.set(Fault::Pass);
    let r = sender.submit(&sealed).await.unwrap();
    assert!(!r.duplicate);
    let mut inbox = receiver.inbox(None);
    let ids = take(&mut inbox, 2, Duration::from_secs(10)).await;
    assert_eq!(ids[1], sealed.message_id());
    let d = receiver.delivery(&sealed.message_id()).await.unwrap();
    let (_, files) = receiver.open_in_memory(&d).await.unwrap();
    assert_eq!(files, vec![body]);
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_entries_are_bounded_in_age_and_verified_again_at_each_use() {
    let pki = Arc::new(TestPki::new(3));
    let axis = TestAxis::start(pki.clone()).await;
    let p = FaultProxy::start(axis.addr).await.unwrap();
    let (a, b, c) = (&pki.agencies[0], &pki.agencies[1], &pki.agencies[2]);

    // Every sealing asks the directory (refresh 0); while the axis is down a cached entry may
    // stand in for 2 s at most.
    let max_age = Duration::from_secs(2);
    let sender = Client::connect(
        sdk_config(&pki, a, &[p.endpoint()])
            .with_directory_cache(CachePolicy::new(Duration::ZERO, max_age)),
    )
    .await
    .unwrap();
    sender.seal(document(b, "1.pdf", b"x")).await.unwrap();
    let cached_at = Instant::now();
    p.set(Fault::Reset);
    sender.seal(document(b, "2.pdf", b"x")).await.unwrap();
    tokio::time::sleep((max_age + Duration::from_millis(200)).saturating_sub(cached_at.elapsed()))
        .await;
    let e = sender.seal(document(b, "3.pdf", b"x")).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.message().contains("look up agency"), "{e}");
    p.set(Fault::Pass);

    // A certificate revoked after it was cached is refused at the next sealing, although its
    // entry is fresh: the cache holds data, the trust store decides.
    let sender = Client::connect(sdk_config(&pki, a, &[axis.endpoint()]))
        .await
        .unwrap();
    sender.seal(document(c, "1.pdf", b"x")).await.unwrap();
    let (_, crl) = pki
        .pki
        .crls(2, std::slice::from_ref(&c.encryption.serial))
        .unwrap();
    pb::directory_client::DirectoryClient::new(axis.channel(&pki.operator).await)
        .publish_crl(pb::PublishCrlRequest { crl })
        .await
        .unwrap();
    sender.refresh_trust().await.unwrap();
    let e = sender.seal(document(c, "2.pdf", b"x")).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
    assert!(e.message().contains("revoked"), "{e}");
    // Other recipients are unaffected.
    sender.seal(document(b, "3.pdf", b"x")).await.unwrap();
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_costs_a_bounded_time_and_a_clear_deadline_error() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let p = FaultProxy::start(axis.addr).await.unwrap();
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let timeouts = Timeouts::default()
        .with_connect(Duration::from_secs(1))
        .with_call(Duration::from_secs(3))
        .with_stream_idle(Duration::from_secs(2));
    let config = sdk_config(&pki, a, &[p.endpoint()]).with_timeouts(timeouts);
    let client = Client::connect(config.clone()).await.unwrap();

    // A call on an open connection that goes silent.
    p.set(Fault::Blackhole);
    let t = Instant::now();
    let e = client.lookup_agency(&b.id).await.unwrap_err();
    let took = t.elapsed();
    eprintln!("silent node: the call failed after {took:?}: {e}");
    assert_eq!(*e.kind(), ErrorKind::DeadlineExceeded, "{e}");
    assert!(e.is_retryable());
    for s in [p.endpoint().as_str(), "DEADLINE_EXCEEDED", "look up agency"] {
        assert!(e.message().contains(s), "{s:?} not in {e}");
    }
    assert!(took < FAILOVER_WITHIN, "{took:?}");

    // Connecting to a node that accepts TCP and then says nothing (TLS never completes).
    let t = Instant::now();
    let e = Client::connect(config).await.unwrap_err();
    let took = t.elapsed();
    assert_eq!(*e.kind(), ErrorKind::DeadlineExceeded, "{e}");
    assert!(e.message().contains("connecting"), "{e}");
    assert!(took < FAILOVER_WITHIN, "{took:?}");
    axis.stop().await;
}
