//! Two nodes appending to one log on PostgreSQL while one node's database link is slow (the
//! harness's fault proxy in delay mode): both nodes commit at once, the slow one loses its
//! compare-and-set races and takes the turn, and still every document is logged exactly once,
//! the leaves are contiguous and every signed tree head is the root of the leaves before it.
//! (How much throughput the healthy node keeps is measured in `axis-bench`, not asserted here.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axis_evidence::{SignedTreeHead, verify_evidence};
use axis_pki::Passphrase;
use axis_proto::v1 as pb;
use axis_server::store::Pool;
use axis_tests::fault_proxy::{Fault, FaultProxy};
use axis_tests::{PASS, Package, TestAxis, TestPki, channel_to, postgres, seal};
use time::OffsetDateTime;

use crate::faults::{metric, postgres_addr};

/// What the axis answered to one submission, verified.
struct Accepted {
    message_id: Vec<u8>,
    leaf_index: u64,
    entry: Vec<u8>,
    duplicate: bool,
}

/// Submits `p` through `addr` as the sender and verifies the receipt's evidence (signed tree
/// head, inclusion proof).
async fn submit_to(addr: std::net::SocketAddr, pki: &TestPki, p: &Package) -> Accepted {
    let a = &pki.agencies[0];
    let ch = channel_to(addr, pki, &a.tls).await.unwrap();
    let r = pb::exchange_client::ExchangeClient::new(ch)
        .submit(tokio_stream::iter(p.requests(64 * 1024)))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    let ev = r.evidence.unwrap();
    let v = verify_evidence(
        &ev.entry,
        &ev.proof,
        &pki.store(),
        OffsetDateTime::now_utc(),
        None,
    )
    .expect("the receipt's evidence verifies");
    Accepted {
        message_id: p.message_id.as_uuid().as_bytes().to_vec(),
        leaf_index: v.leaf_index(),
        entry: ev.entry,
        duplicate: r.duplicate,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_log_while_one_database_link_is_slow_and_nothing_is_lost_or_repeated() {
    if !postgres() {
        // One SQLite file has one node; the e2e suite on PostgreSQL runs this.
        return;
    }
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let metrics = axis.node.as_ref().unwrap().metrics_addr.unwrap();
    let (conflicts, turns) = (
        metric(metrics, "axis_commit_conflicts_total").await,
        metric(metrics, "axis_commit_turns_total").await,
    );

    // Node 2 reaches the same database through the proxy: slow, not cut off, so its deadlines
    // and readiness allow for the delay.
    let pg = postgres_addr();
    let proxy = FaultProxy::start(pg).await.unwrap();
    let mut config = axis.config.clone();
    config.database_url = config
        .database_url
        .replace(&pg.to_string(), &proxy.addr().to_string());
    assert!(config.database_url.contains(&proxy.addr().to_string()));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_listen = None;
    config.database.statement_timeout_ms = 20_000;
    config.database.acquire_timeout_ms = 20_000;
    config.health.probe_timeout_ms = 5_000;
    let slow = axis_server::start(config, &Passphrase::new(PASS.to_owned()))
        .await
        .unwrap();
    // +100 ms on each round trip to the database.
    proxy.set(Fault::Delay(Duration::from_millis(50)));

    // Node 1 is kept busy by three senders for as long as node 2's senders run.
    let stop = Arc::new(AtomicBool::new(false));
    let mut fast = Vec::new();
    for i in 0..3 {
        let (pki, stop) = (pki.clone(), stop.clone());
        let addr = axis.addr;
        fast.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
                let body = format!("fast {i} {n}");
                let p = seal(&pki, a, &[b], &[("f.pdf", body.as_bytes())]);
                out.push(submit_to(addr, &pki, &p).await);
                n += 1;
            }
            out
        }));
    }
    // Node 2's senders submit documents of their own, which node 2 must append while node 1
    // keeps appending, and documents submitted to node 1 too, 50 ms after node 2 (while node 2
    // is between its read and its write): two nodes plan the same message id, and exactly one
    // may log it.
    let mut twice = Vec::new();
    for i in 0..2 {
        let pki = pki.clone();
        let (slow_addr, fast_addr) = (slow.addr, axis.addr);
        twice.push(tokio::spawn(async move {
            let (mut own, mut both) = (Vec::new(), Vec::new());
            for n in 0..2 {
                let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
                let body = format!("slow {i} {n}");
                let p = seal(&pki, a, &[b], &[("s.pdf", body.as_bytes())]);
                own.push(submit_to(slow_addr, &pki, &p).await);
                let body = format!("both {i} {n}");
                let p = seal(&pki, a, &[b], &[("b.pdf", body.as_bytes())]);
                let (on_slow, on_fast) = tokio::join!(submit_to(slow_addr, &pki, &p), async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    submit_to(fast_addr, &pki, &p).await
                });
                both.push((on_slow, on_fast));
            }
            (own, both)
        }));
    }
    let (mut own, mut pairs) = (Vec::new(), Vec::new());
    for t in twice {
        let (o, b) = t.await.unwrap();
        own.extend(o);
        pairs.extend(b);
    }
    stop.store(true, Ordering::Relaxed);
    let mut accepted = Vec::new();
    for t in fast {
        accepted.extend(t.await.unwrap());
    }
    assert!(!accepted.is_empty());
    slow.shutdown().await;
    eprintln!(
        "node 1: {} documents; node 2: {} of its own, {} also sent to node 1 (node 2 first for {})",
        accepted.len(),
        own.len(),
        pairs.len(),
        pairs.iter().filter(|(s, _)| !s.duplicate).count()
    );
    accepted.extend(own);

    // A document submitted to both nodes has one leaf: both answers carry it, one as a repeat.
    for (s, f) in &pairs {
        assert_eq!(s.message_id, f.message_id);
        assert_eq!(s.leaf_index, f.leaf_index, "one document, two leaves");
        assert_eq!(s.entry, f.entry);
        assert!(
            s.duplicate != f.duplicate,
            "exactly one answer is the first"
        );
    }
    for (s, f) in pairs {
        accepted.push(if s.duplicate { f } else { s });
    }
    assert!(accepted.iter().all(|a| !a.duplicate));
    let by_leaf: HashMap<u64, &Accepted> = accepted.iter().map(|a| (a.leaf_index, a)).collect();
    assert_eq!(by_leaf.len(), accepted.len(), "two documents on one leaf");

    // The database: each document once, the leaves contiguous and exactly the answered ones,
    // every tree head signed over the root of the leaves before it.
    let Pool::Postgres(db) = axis.node.as_ref().unwrap().db().pool() else {
        unreachable!("PostgreSQL only")
    };
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT message_id FROM messages")
        .fetch_all(db)
        .await
        .unwrap();
    let ids: HashSet<Vec<u8>> = accepted.iter().map(|a| a.message_id.clone()).collect();
    assert_eq!(stored.len(), accepted.len(), "stored documents");
    assert_eq!(stored.into_iter().collect::<HashSet<_>>(), ids);
    let (size, holder): (i64, Option<i64>) =
        sqlx::query_as("SELECT tree_size, turn_holder FROM log_state WHERE id = 1")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(holder, None, "the turn was given back");
    let leaves: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT leaf_index, leaf_hash, entry FROM log_leaves ORDER BY leaf_index")
            .fetch_all(db)
            .await
            .unwrap();
    assert_eq!(leaves.len() as i64, size);
    assert_eq!(leaves.len(), accepted.len(), "a leaf that is no document");
    let heads: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT tree_size, tree_head, signature FROM tree_heads ORDER BY tree_size")
            .fetch_all(db)
            .await
            .unwrap();
    let mut heads = heads.into_iter().peekable();
    let mut frontier = axis_log::Frontier::new();
    let mut checked = 0;
    for (i, (index, hash, entry)) in leaves.into_iter().enumerate() {
        assert_eq!(index, i as i64, "leaves not contiguous");
        assert_eq!(hash, axis_log::leaf_hash(&entry));
        assert_eq!(
            by_leaf[&(i as u64)].entry,
            entry,
            "leaf {i} is not what was answered"
        );
        frontier.append(axis_log::leaf_hash(&entry)).unwrap();
        while let Some((_, head, sig)) = heads.next_if(|h| h.0 == frontier.size() as i64) {
            let v = SignedTreeHead::parse(&head, sig)
                .unwrap()
                .verify(&pki.store(), OffsetDateTime::now_utc(), None)
                .unwrap();
            assert_eq!(v.head().tree_size, frontier.size());
            assert_eq!(
                v.head().root_hash,
                frontier.root(),
                "a tree head over other leaves"
            );
            checked += 1;
        }
    }
    assert!(heads.next().is_none(), "a tree head beyond the log");
    assert!(checked > 1);

    // The slow node lost races and took the turn (the counters are the process's: both nodes).
    let (conflicts, turns) = (
        metric(metrics, "axis_commit_conflicts_total").await - conflicts,
        metric(metrics, "axis_commit_turns_total").await - turns,
    );
    eprintln!("{conflicts} races lost, {turns} turns taken");
    assert!(conflicts > 0);
    assert!(turns > 0);
    axis.stop().await;
}
