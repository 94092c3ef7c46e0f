//! Every refused call is visible to the operator (issue #16): counted in
//! `axis_rpc_requests_total{rpc,code,reason}` and logged once with the caller, the RPC, the
//! code, the reason and the message — refusals answered at once and refusals sent in a stream's
//! trailers alike.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axis_proto::v1 as pb;
use axis_signer::{DocumentRef, StatusCode};
use axis_tests::{TestAxis, TestPki, reason, seal};

use crate::faults::http_get;
use crate::raw;

/// The cells of `axis_rpc_requests_total` as `rpc code reason` → count.
async fn rpc_counts(axis: &TestAxis) -> std::collections::BTreeMap<String, u64> {
    let (_, body) = http_get(axis.metrics_addr(), "/metrics")
        .await
        .expect("/metrics answers");
    body.lines()
        .filter_map(|l| l.strip_prefix("axis_rpc_requests_total{"))
        .map(|l| {
            let (labels, v) = l.rsplit_once("} ").unwrap();
            let values: Vec<&str> = labels
                .split(',')
                .map(|kv| kv.split('"').nth(1).unwrap())
                .collect();
            (values.join(" "), v.parse().unwrap())
        })
        .collect()
}

/// The `call refused` lines of the node's log: (agency, rpc, code, reason, message id).
fn refusals_logged(log: &Path) -> Vec<[String; 5]> {
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "call refused")
        .map(|v| {
            let f = &v["fields"];
            ["agency", "rpc", "code", "reason", "message_id"]
                .map(|k| f[k].as_str().unwrap_or("-").to_owned())
        })
        .collect()
}

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, tonic::Status>, why: &str) {
    let e = r.expect_err("the call must be refused");
    assert_eq!(reason(&e), why, "{}", e.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_call_is_counted_by_rpc_code_and_reason_and_logged_once() {
    let pki = Arc::new(TestPki::new(3));
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("node.log");
    let axis = TestAxis::start_logged(
        pki.clone(),
        Path::new(env!("CARGO_BIN_EXE_axis-test-node")),
        &log,
        |c| c.limits.max_streams_per_agency = 2,
    )
    .await;
    let (a, b, c) = (&pki.agencies[0], &pki.agencies[1], &pki.agencies[2]);
    let p = seal(&pki, a, &[c], &[("x.pdf", b"for C only")]);
    raw::submit(&axis, a, &p).await.unwrap();
    let id = p.message_id.to_string();
    let c_doc = raw::received(&pki, c, &p, &axis).await;
    let mut bx = axis.exchange(&b.tls).await;

    // A non-party's Fetch (refused inside the stream: the status travels in the trailers),
    // GetHistory and Recall; C's receipt replayed by B (a forged statement); a cursor the axis
    // never issued; an agency calling an operator function.
    refused(raw::fetch(&axis, b, &id).await, "MESSAGE_NOT_FOUND");
    refused(
        bx.get_history(pb::GetHistoryRequest {
            message_id: id.clone(),
            completeness: false,
        })
        .await,
        "MESSAGE_NOT_FOUND",
    );
    refused(
        bx.recall(pb::RecallRequest {
            status: Some(raw::forge_recall(&pki, b, &c_doc, c)),
        })
        .await,
        "MESSAGE_NOT_FOUND",
    );
    let c01 = raw::statement(
        &pki,
        c,
        DocumentRef::received(&c_doc),
        &[],
        StatusCode::Arrived,
    );
    refused(
        bx.acknowledge(pb::AcknowledgeRequest { receipt: Some(c01) })
            .await,
        "NOT_AUTHORIZED",
    );
    refused(
        bx.subscribe(pb::SubscribeRequest {
            after_cursor: "-1".into(),
        })
        .await,
        "CURSOR_INVALID",
    );
    let mut bd = pb::directory_client::DirectoryClient::new(axis.channel(&b.tls).await);
    refused(
        bd.register_agency(pb::RegisterAgencyRequest {
            agency_id: "000.00.00.H53".into(),
            name: "x".into(),
            encryption_certificate: b.encryption.cert.clone(),
            seal_certificate: b.seal.cert.clone(),
            parent_id: String::new(),
        })
        .await,
        "OPERATOR_ONLY",
    );
    // The stream limit: two inboxes open, a third refused.
    let open: Vec<_> = futures_util::future::join_all((0..2).map(|_| {
        let mut bx = bx.clone();
        async move {
            bx.subscribe(pb::SubscribeRequest::default())
                .await
                .unwrap()
                .into_inner()
        }
    }))
    .await;
    refused(
        bx.subscribe(pb::SubscribeRequest::default()).await,
        "TOO_MANY_STREAMS",
    );
    drop(open);

    let b_id = b.id.to_string();
    let want_refused = [
        (
            "axis.v1.Exchange/Fetch",
            "NOT_FOUND",
            "MESSAGE_NOT_FOUND",
            id.as_str(),
        ),
        (
            "axis.v1.Exchange/GetHistory",
            "NOT_FOUND",
            "MESSAGE_NOT_FOUND",
            id.as_str(),
        ),
        (
            "axis.v1.Exchange/Recall",
            "NOT_FOUND",
            "MESSAGE_NOT_FOUND",
            id.as_str(),
        ),
        (
            "axis.v1.Exchange/Acknowledge",
            "PERMISSION_DENIED",
            "NOT_AUTHORIZED",
            id.as_str(),
        ),
        (
            "axis.v1.Exchange/Subscribe",
            "INVALID_ARGUMENT",
            "CURSOR_INVALID",
            "",
        ),
        (
            "axis.v1.Directory/RegisterAgency",
            "PERMISSION_DENIED",
            "OPERATOR_ONLY",
            "",
        ),
        (
            "axis.v1.Exchange/Subscribe",
            "RESOURCE_EXHAUSTED",
            "TOO_MANY_STREAMS",
            "",
        ),
    ];
    // The counts: each refusal once, beside the calls that succeeded (three registrations by
    // the operator, A's submission, C's fetch).
    let mut counts = rpc_counts(&axis).await;
    for _ in 0..100 {
        if counts.get("axis.v1.Exchange/Fetch NOT_FOUND MESSAGE_NOT_FOUND") == Some(&1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        counts = rpc_counts(&axis).await;
    }
    for (rpc, code, why, _) in want_refused {
        assert_eq!(
            counts.get(&format!("{rpc} {code} {why}")),
            Some(&1),
            "{rpc} {code} {why} in {counts:#?}"
        );
    }
    for (cell, n) in [
        ("axis.v1.Directory/RegisterAgency OK ", 3),
        ("axis.v1.Exchange/Submit OK ", 1),
        ("axis.v1.Exchange/Fetch OK ", 1),
    ] {
        assert_eq!(counts.get(cell), Some(&n), "{cell} in {counts:#?}");
    }
    // The log: one line per refusal, naming B, the call, its code, its reason and the message.
    let mut logged = refusals_logged(&log);
    for _ in 0..100 {
        if logged.len() >= want_refused.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        logged = refusals_logged(&log);
    }
    let mut want: Vec<[String; 5]> = want_refused
        .iter()
        .map(|(rpc, code, why, m)| [&b_id, *rpc, *code, *why, *m].map(str::to_owned))
        .collect();
    want.sort();
    logged.sort();
    assert_eq!(logged, want);
    axis.stop().await;
}
