//! `axis-gateway`'s JSON API end to end, through two gateways, with a client that uses only
//! HTTP and the OpenAPI document (`axis_tests::json_client`): every route of the document is
//! served and nothing else under `/api`; an edXML document sent to A arrives at B, read from a
//! resumable cursor with the sender's verified signature report, equal field by field; B's
//! status 03 comes back in A's verified history. Gateway A has a bearer token (as it must off
//! loopback): without it, every call but `/openapi.json` is refused with `TOKEN_INVALID`.
//! Errors are RFC 9457 problem details with the axis's reason.

use std::sync::Arc;

use axis_tests::TestAxis;
use axis_tests::gateway::TestGateway;
use axis_tests::json_client::JsonClient;
use serde_json::Value;

use crate::gateway::{edoc_to, parse_edoc, parse_status, pki, status, wait_status_sent};

const TOKEN: &str = "the-json-api-token-0001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_dms_sends_and_receives_through_two_gateways_with_only_http_and_the_openapi_document()
{
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let token_dir = tempfile::tempdir().unwrap();
    let token_file = token_dir.path().join("json.token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let gw_a = TestGateway::start_with(
        &axis,
        &pki.agencies[0],
        &format!("[json]\ntoken_file = \"{}\"", token_file.display()),
    )
    .await;
    let gw_b = TestGateway::start(&axis, &pki.agencies[1]).await;
    let a = JsonClient::new(gw_a.addr(), Some(TOKEN));
    let b = JsonClient::new(gw_b.addr(), None);

    // The document is public and describes every route: each answers (no 404 from the router,
    // no 405), and a path it does not describe is not served.
    let anonymous = JsonClient::new(gw_a.addr(), None);
    let doc = anonymous.get_json("/openapi.json").await;
    assert_eq!(
        doc["openapi"].as_str().unwrap().split('.').next(),
        Some("3")
    );
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 8);
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "no-such-id");
            let r = a
                .request(&method.to_uppercase(), &concrete, "application/json", b"")
                .await;
            assert_ne!(r.status, 405, "{method} {path}");
            if r.status == 404 {
                assert_eq!(r.json()["reason"], "NOT_FOUND", "{method} {path}");
            }
            if path != "/openapi.json" {
                let refused = anonymous
                    .request(&method.to_uppercase(), &concrete, "application/json", b"")
                    .await;
                assert_eq!(refused.status, 401, "{method} {path} without the token");
                assert_eq!(refused.json()["reason"], "TOKEN_INVALID");
            }
        }
    }
    assert_eq!(a.get("/api/v1/nothing-here").await.status, 404);
    assert!(a.get("/api/v1/nothing-here").await.body.is_empty());

    // The directory.
    let dir = a.get_json("/api/v1/directory").await;
    let ids: Vec<&str> = dir
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"000.00.00.H41"), "{ids:?}");

    // A sends; the same package again gets the same id.
    let package = edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An");
    let (edoc, files) = parse_edoc(&package);
    let sent = a.send_edxml("/api/v1/documents", &package).await;
    assert_eq!(sent.status, 202, "{}", String::from_utf8_lossy(&sent.body));
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(sent.json()["repeat"], false);
    let again = a.send_edxml("/api/v1/documents", &package).await.json();
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["repeat"], true);

    // B reads its mailbox from the start; the item, its report and its package.
    let (items, cursor) = b.wait_received("edoc", None, 1).await;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["from"], "000.00.00.G22");
    assert_eq!(item["to"], "000.00.00.H41");
    assert_eq!(item["message_id"], id.as_str());
    let item_id = item["id"].as_str().unwrap();
    let one = b.get_json(&format!("/api/v1/received/{item_id}")).await;
    assert_eq!(one["item"]["id"], item_id);
    assert_eq!(one["subject"], edoc.header.subject.as_str());
    assert!(
        one["signature_report"].is_object(),
        "the sender's verified signatures: {one}"
    );
    let got = b.get(&format!("/api/v1/received/{item_id}/edxml")).await;
    assert_eq!(got.status, 200);
    let (back, back_files) = parse_edoc(&got.body);
    assert_eq!(back, edoc);
    assert_eq!(back_files, files);
    let ack = b
        .request(
            "POST",
            &format!("/api/v1/received/{item_id}/ack"),
            "application/json",
            br#"{"state":"done"}"#,
        )
        .await;
    assert_eq!(ack.status, 204);
    // Resuming from the cursor: nothing new, the cursor stays usable.
    let page = b
        .get_json(&format!(
            "/api/v1/received?kind=edoc&cursor={}",
            cursor.clone().unwrap()
        ))
        .await;
    assert_eq!(page["items"], Value::Array(vec![]));
    assert!(page["next_cursor"].is_null());

    // B registers it (03); A sees 01 (B's gateway's receipt) and 03 in the verified history.
    let p03 = status(
        "status_acceptance_03.edxml",
        "000.00.00.H41",
        "UBND tỉnh Nghệ An",
        "Văn thư",
    );
    let st = b.send_edxml("/api/v1/statuses", &p03).await;
    assert_eq!(st.status, 202, "{}", String::from_utf8_lossy(&st.body));
    wait_status_sent(&gw_b, st.json()["id"].as_str().unwrap()).await;
    let mut codes = Vec::new();
    for _ in 0..600 {
        let sent = a.get_json(&format!("/api/v1/sent/{id}")).await;
        assert_eq!(sent["recipients"][0], "000.00.00.H41");
        codes = sent["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["status_code"].as_str().unwrap_or_default().to_owned())
            .collect();
        if codes.len() >= 2 {
            assert_eq!(sent["state"], "accepted");
            assert!(sent["leaf_index"].is_i64());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(codes, ["01", "03"]);
    let (statuses, _) = a.wait_received("status", None, 2).await;
    let s03 = a
        .get(&format!(
            "/api/v1/received/{}/edxml",
            statuses[1]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(parse_status(&s03.body), parse_status(&p03));

    // Refusals are problem details with the axis's reason; nothing is sent.
    let nowhere = edoc_to("000.00.00.H99", "Nowhere");
    let r = a.send_edxml("/api/v1/documents", &nowhere).await;
    assert_eq!(r.status, 422);
    let p = r.json();
    assert_eq!(p["reason"], "RECIPIENT_UNKNOWN");
    assert_eq!(p["type"], "urn:axis:reason:RECIPIENT_UNKNOWN");
    assert_eq!(p["status"], 422);
    let r = a.send_edxml("/api/v1/documents", b"<not-edxml/>").await;
    assert_eq!(r.status / 100, 4);
    assert!(
        r.json()["reason"].as_str().unwrap().starts_with("EDXML"),
        "{}",
        r.json()
    );
    let r = b.get("/api/v1/received?cursor=garbage").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["reason"], "REQUEST_MALFORMED");
    let r = b.get("/api/v1/received?limit=0").await;
    assert_eq!(r.json()["reason"], "REQUEST_MALFORMED");
    let r = b
        .request(
            "POST",
            &format!("/api/v1/received/{item_id}/ack"),
            "application/json",
            br#"{"state":"maybe"}"#,
        )
        .await;
    assert_eq!(r.json()["reason"], "REQUEST_MALFORMED");
    let rows = gw_a.gateway().db.outbox_list("edoc", 100).await.unwrap();
    assert_eq!(rows.len(), 1, "only the one document was kept");

    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}
