//! The same exchange through the SDK a DMS uses (`axis-client`), a resumable inbox across a
//! server restart, and a monitor catching a log that was emptied and rewritten.

use std::sync::Arc;
use std::time::Duration;

use axis_client::signer::Code;
use axis_client::{Client, ErrorKind, OutgoingAttachment, OutgoingDocument, StatusCode};
use axis_pki::AgencyId;
use axis_pki::demo::AgencyCreds;
use axis_tests::{TestAxis, TestPki};
use futures_util::{Stream, StreamExt};

pub(crate) async fn client(axis: &TestAxis, a: &AgencyCreds) -> Client {
    Client::connect(axis_tests::sdk_config(&axis.pki, a, &[axis.endpoint()]))
        .await
        .unwrap()
}

pub(crate) fn document(to: &AgencyCreds, name: &str, body: &[u8]) -> OutgoingDocument {
    document_to(&to.id, name, body)
}

/// A one-attachment document for the agency `to`.
pub(crate) fn document_to(to: &AgencyId, name: &str, body: &[u8]) -> OutgoingDocument {
    OutgoingDocument::new(
        Code::new("7816", "VPCP-TTĐT").unwrap(),
        "V/v kết nối, liên thông văn bản",
    )
    .to(to.clone())
    .attach(OutgoingAttachment::bytes(name, "application/pdf", body.to_vec()).unwrap())
}

/// The inbox's next delivery, within `secs` seconds.
pub(crate) async fn next_delivery<T, E: std::fmt::Debug>(
    inbox: &mut (impl Stream<Item = Result<T, E>> + Unpin),
    secs: u64,
) -> T {
    tokio::time::timeout(Duration::from_secs(secs), inbox.next())
        .await
        .expect("no delivery in time")
        .expect("the inbox ended")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dms_exchanges_a_document_through_the_sdk() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (g22, h41) = (
        client(&axis, &pki.agencies[0]).await,
        client(&axis, &pki.agencies[1]).await,
    );
    let body = b"%PDF-1.7 gui qua SDK".repeat(100);
    let sent = g22
        .send(document(&pki.agencies[1], "cong-van.pdf", &body))
        .await
        .unwrap();
    assert!(!sent.duplicate);

    let mut inbox = h41.inbox(None);
    let d = next_delivery(&mut inbox, 10).await;
    assert_eq!(d.message_id, sent.message_id);
    let (opened, files) = h41.open_in_memory(&d).await.unwrap();
    assert_eq!(files, vec![body]);
    h41.acknowledge(&opened).await.unwrap();
    h41.send_status(&sent.message_id, StatusCode::Accepted, "Đã vào sổ")
        .await
        .unwrap();
    // A transition the chain does not allow is refused before anything is sent.
    let e = h41
        .send_status(&sent.message_id, StatusCode::Arrived, "")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::InvalidInput | ErrorKind::Verification | ErrorKind::Rejected { .. }
        ),
        "{e}"
    );

    let history = g22.history(&sent.message_id).await.unwrap();
    let t = &history.timelines[0];
    assert_eq!(t.recipient, pki.agencies[1].id);
    let statuses: Vec<StatusCode> = t.events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![StatusCode::Arrived, StatusCode::Accepted]);
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_inbox_resumes_across_a_server_restart() {
    let pki = Arc::new(TestPki::new(2));
    let mut axis = TestAxis::start(pki.clone()).await;
    let (g22, h41) = (
        client(&axis, &pki.agencies[0]).await,
        client(&axis, &pki.agencies[1]).await,
    );
    let first = g22
        .send(document(&pki.agencies[1], "1.pdf", b"one"))
        .await
        .unwrap();
    let mut inbox = h41.inbox(None);
    let d1 = next_delivery(&mut inbox, 10).await;
    assert_eq!(d1.message_id, first.message_id);
    // The axis restarts; the inbox reconnects by itself and resumes after d1.
    axis.restart().await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    let second = g22
        .send(document(&pki.agencies[1], "2.pdf", b"two"))
        .await
        .unwrap();
    let d2 = next_delivery(&mut inbox, 20).await;
    assert_eq!(
        d2.message_id, second.message_id,
        "the inbox repeated or skipped a delivery"
    );
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_catches_a_log_that_was_emptied_and_rewritten() {
    let pki = Arc::new(TestPki::new(2));
    let mut axis = TestAxis::start(pki.clone()).await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    for i in 0..3 {
        g22.send(document(
            &pki.agencies[1],
            "a.pdf",
            format!("before {i}").as_bytes(),
        ))
        .await
        .unwrap();
    }
    let seen = g22.tree_head(None).await.unwrap();
    assert_eq!(seen.head().tree_size, 3);
    // Honest growth extends what was seen.
    g22.send(document(&pki.agencies[1], "b.pdf", b"honest"))
        .await
        .unwrap();
    let ext = g22.check_extends(seen.signed()).await.unwrap();
    assert_eq!(ext.added, 1);

    // The operator rewrites history: the log is wiped and rebuilt with other entries.
    axis.node.take().unwrap().shutdown().await;
    {
        let db = axis_server::store::Db::connect(&axis.db.url).await.unwrap();
        let wipe = [
            "DELETE FROM log_leaves",
            "DELETE FROM log_nodes",
            "DELETE FROM tree_heads",
            "DELETE FROM statements",
            "DELETE FROM deliveries",
            "DELETE FROM messages",
            "UPDATE log_state SET tree_size = 0, frontier = X'0000000000000000'",
        ];
        for sql in wipe {
            let sql = if axis_tests::postgres() {
                sql.replace("X'0000000000000000'", "'\\x0000000000000000'::bytea")
            } else {
                sql.to_owned()
            };
            match db.pool() {
                axis_server::store::Pool::Sqlite(p) => {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(p)
                        .await
                        .unwrap();
                }
                axis_server::store::Pool::Postgres(p) => {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(p)
                        .await
                        .unwrap();
                }
            }
        }
        db.close().await;
    }
    axis.restart().await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    // Emptied: the axis answers, with no tree head at all. That is an alarm, not an outage.
    let e = g22.check_extends(ext.newer.signed()).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
    assert!(e.to_string().contains("the log was emptied"), "{e}");
    for i in 0..5 {
        g22.send(document(
            &pki.agencies[1],
            "c.pdf",
            format!("after {i}").as_bytes(),
        ))
        .await
        .unwrap();
    }
    // Its new heads are validly signed, but they do not extend what the monitor saw.
    let e = g22.check_extends(ext.newer.signed()).await.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
    assert!(e.to_string().contains("rewritten"), "{e}");
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_evidence_bundle_verifies_offline_and_tampering_is_caught() {
    let pki = Arc::new(TestPki::new(3));
    let axis = TestAxis::start(pki.clone()).await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    let recipients = [
        client(&axis, &pki.agencies[1]).await,
        client(&axis, &pki.agencies[2]).await,
    ];
    let doc = OutgoingDocument::new(Code::new("12", "UBND-VP").unwrap(), "V/v báo cáo")
        .to(pki.agencies[1].id.clone())
        .to(pki.agencies[2].id.clone())
        .attach(
            OutgoingAttachment::bytes("bc.pdf", "application/pdf", b"bao cao".to_vec()).unwrap(),
        );
    let sent = g22.send(doc).await.unwrap();
    for (r, s) in recipients
        .iter()
        .zip([StatusCode::Accepted, StatusCode::Rejected])
    {
        let d = r.delivery(&sent.message_id).await.unwrap();
        let (opened, _) = r.open_in_memory(&d).await.unwrap();
        r.acknowledge(&opened).await.unwrap();
        r.send_status(&sent.message_id, s, "").await.unwrap();
    }
    let bundle = g22.export_evidence(&sent.message_id).await.unwrap();
    // An auditor: the root and the log key, nothing else.
    let log_key = axis_pki::public_key_of(&pki.log.cert).unwrap();
    let report = axis_evidence::verify_bundle(&bundle, &pki.pki.root, &log_key).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("000.00.00.G22") && text.contains("000.00.00.H41"),
        "{text}"
    );
    assert_eq!(report.timelines.len(), 2);
    assert!(report.timelines.iter().all(|t| t.events.len() == 2));
    // One flipped byte anywhere in the signed material fails verification.
    let mut tampered = bundle.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    assert!(axis_evidence::verify_bundle(&tampered, &pki.pki.root, &log_key).is_err());
    // Another root or another log key: refused.
    let other = axis_pki::demo::DemoPki::new(time::OffsetDateTime::now_utc()).unwrap();
    assert!(axis_evidence::verify_bundle(&bundle, &other.root, &log_key).is_err());
    let other_log = other.log_signer().unwrap();
    let other_key = axis_pki::public_key_of(&other_log.cert).unwrap();
    assert!(axis_evidence::verify_bundle(&bundle, &pki.pki.root, &other_key).is_err());
    // A recipient exports its own part, which verifies too.
    let own = recipients[0]
        .export_evidence(&sent.message_id)
        .await
        .unwrap();
    let r = axis_evidence::verify_bundle(&own, &pki.pki.root, &log_key).unwrap();
    // Its own chain only: the other recipient's timeline is empty in its bundle.
    let with_events: Vec<_> = r
        .timelines
        .iter()
        .filter(|t| !t.events.is_empty())
        .collect();
    assert_eq!(with_events.len(), 1);
    assert_eq!(with_events[0].recipient, pki.agencies[1].id);
    axis.stop().await;
}
