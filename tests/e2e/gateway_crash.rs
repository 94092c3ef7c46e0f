//! `kill -9` of a gateway in the middle of a send and of a receive: nothing lost, nothing
//! twice. The killed gateway runs as a process of its own (`axis-test-gateway`), so nothing of
//! it runs after the kill; it restarts on the same configuration and store.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axis_client::edxml::edoc_to_vec;
use axis_tests::gateway::{TestGateway, write_gateway_config};
use axis_tests::json_client::JsonClient;
use axis_tests::process::GatewayProcess;
use axis_tests::{TestAxis, TestDb};
use serde_json::Value;

use crate::gateway::{edoc_to, parse_edoc, pki};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_axis-test-gateway"))
}

/// `n` different documents to `to` (their DocumentIds differ).
fn documents(to: &str, name: &str, n: usize) -> Vec<Vec<u8>> {
    let (e, files) = parse_edoc(&edoc_to(to, name));
    (0..n)
        .map(|i| {
            let mut e = e.clone();
            e.header.document_id = e.header.document_id.replace("7816", &format!("90{i}"));
            e.header.code.code_number = format!("90{i}");
            edoc_to_vec(&e, &mut files.clone()).unwrap()
        })
        .collect()
}

fn ids(items: &[Value], field: &str) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until every id is accepted by the axis at the sending gateway.
async fn wait_accepted(c: &JsonClient, ids: &BTreeSet<String>) {
    for id in ids {
        for i in 0..600 {
            let s = c.get_json(&format!("/api/v1/sent/{id}")).await;
            if s["state"] == "accepted" {
                break;
            }
            assert_ne!(s["state"], "failed", "{s}");
            assert!(i < 599, "{id} never accepted");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// Everything in a mailbox (acknowledged or not), from the start.
async fn everything(c: &JsonClient, kind: &str) -> Vec<Value> {
    let page = c
        .get_json(&format!("/api/v1/received?kind={kind}&limit=1000"))
        .await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_send_loses_nothing_and_sends_nothing_twice() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let gw_b = TestGateway::start(&axis, &pki.agencies[1]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new().await;
    let config = write_gateway_config(
        dir.path(),
        &axis.pki,
        &pki.agencies[0],
        &[axis.endpoint()],
        &db.url,
        "",
    );
    let docs = documents("000.00.00.H41", "UBND tỉnh Nghệ An", 4);

    // The DMS hands over four documents; the gateway is killed as soon as the last answer
    // came, while its outbox is submitting them.
    let mut a = GatewayProcess::start(bin(), &config);
    let c = JsonClient::new(a.addr, None);
    let mut sent = BTreeSet::new();
    for d in &docs {
        let r = c.send_edxml("/api/v1/documents", d).await;
        assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
        sent.insert(r.json()["id"].as_str().unwrap().to_owned());
    }
    a.kill();

    // Restarted on the same store: the DMS, not sure its last calls were answered, hands them
    // over again and gets the same ids; the outbox finishes the sends.
    let a = GatewayProcess::start(bin(), &config);
    let c = JsonClient::new(a.addr, None);
    for d in &docs {
        let r = c.send_edxml("/api/v1/documents", d).await.json();
        assert!(sent.contains(r["id"].as_str().unwrap()), "{r}");
        assert_eq!(r["repeat"], true);
    }
    wait_accepted(&c, &sent).await;

    // B received each exactly once.
    let b = JsonClient::new(gw_b.addr(), None);
    let (items, _) = b.wait_received("edoc", None, 4).await;
    assert_eq!(ids(&items, "message_id"), sent);
    let all = everything(&b, "edoc").await;
    assert_eq!(all.len(), 4, "nothing twice: {all:?}");

    drop(a);
    db.drop_db().await;
    gw_b.stop().await;
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_receive_loses_nothing_and_stores_nothing_twice() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let gw_a = TestGateway::start(&axis, &pki.agencies[0]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new().await;
    let config = write_gateway_config(
        dir.path(),
        &axis.pki,
        &pki.agencies[1],
        &[axis.endpoint()],
        &db.url,
        "",
    );
    let mut b = GatewayProcess::start(bin(), &config);
    let a = JsonClient::new(gw_a.addr(), None);
    let mut sent = BTreeSet::new();
    for d in documents("000.00.00.H41", "UBND tỉnh Nghệ An", 4) {
        let r = a.send_edxml("/api/v1/documents", &d).await;
        assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
        sent.insert(r.json()["id"].as_str().unwrap().to_owned());
    }
    // B is killed as soon as the first document is in its mailbox: the others are being
    // fetched, verified, stored and receipted.
    JsonClient::new(b.addr, None)
        .wait_received("edoc", None, 1)
        .await;
    b.kill();

    let b = GatewayProcess::start(bin(), &config);
    let c = JsonClient::new(b.addr, None);
    let (items, _) = c.wait_received("edoc", None, 4).await;
    assert_eq!(ids(&items, "message_id"), sent);
    assert_eq!(everything(&c, "edoc").await.len(), 4, "nothing twice");

    // A gets exactly one receipt 01 per document.
    let (receipts, _) = a.wait_received("status", None, 4).await;
    assert_eq!(ids(&receipts, "message_id"), sent);
    for r in &receipts {
        assert_eq!(r["status_code"], "01");
    }
    for id in &sent {
        let s = a.get_json(&format!("/api/v1/sent/{id}")).await;
        let history = s["history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "one receipt for {id}: {s}");
    }
    assert_eq!(everything(&a, "status").await.len(), 4, "nothing twice");

    drop(b);
    db.drop_db().await;
    gw_a.stop().await;
    axis.stop().await;
}
