//! `axis-gateway` end to end: one axis and two gateways (two agencies); a legacy DMS client
//! that speaks only the VXP protocol (`axis_tests::vxp_client`: HTTP by hand, the HMAC
//! headers, the JSON envelopes) sends an edXML document to gateway A; B's DMS gets it back
//! equal field by field and answers with statuses 03 and 06; A's DMS gets them (and the
//! gateway's automatic 01). Each refusal has its own ErrorCode and sends nothing.

use std::sync::Arc;

use axis_client::edxml::{
    self, Collect, Discard, Edoc, Package, Status, edoc_to_vec, status_to_vec,
};
use axis_tests::gateway::TestGateway;
use axis_tests::vxp_client::{Body, VxpClient};
use axis_tests::{TestAxis, TestPki};

pub(crate) fn pki() -> TestPki {
    TestPki::with_agencies(&[
        (
            "000.00.00.G22",
            "Văn phòng Chính phủ",
            "Nguyễn Cao Lục",
            "Phó Chủ nhiệm",
        ),
        (
            "000.00.00.H41",
            "UBND tỉnh Nghệ An",
            "Nguyễn Thị Hoa",
            "Phó Chủ tịch",
        ),
    ])
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../edxml/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub(crate) fn parse_edoc(package: &[u8]) -> (Edoc, Vec<Vec<u8>>) {
    let mut files = Collect::default();
    let Package::Edoc(e) = edxml::parse(package, &mut files).unwrap().package else {
        panic!("not an edoc")
    };
    (e, files.0)
}

pub(crate) fn parse_status(package: &[u8]) -> Status {
    let Package::Status(s) = edxml::parse(package, &mut Discard).unwrap().package else {
        panic!("not a status")
    };
    s
}

/// VPCP's sample edoc addressed to `to` only (its first `To`, renamed).
pub(crate) fn edoc_to(to: &str, name: &str) -> Vec<u8> {
    let (mut e, files) = parse_edoc(&sample("edoc_new.edxml"));
    let mut first = e.header.to[0].clone();
    first.organ_id = to.into();
    first.organ_name = name.into();
    e.header.to = vec![first];
    edoc_to_vec(&e, &mut files.clone()).unwrap()
}

/// A sample status package stated by `by` about the sample document.
pub(crate) fn status(sample_name: &str, by: &str, by_name: &str, staff: &str) -> Vec<u8> {
    let mut s = parse_status(&sample(sample_name));
    s.from.organ_id = by.into();
    s.from.organ_name = by_name.into();
    s.staff_info.staff = staff.into();
    status_to_vec(&s).unwrap()
}

/// One axis and the gateways of G22 and H41.
pub(crate) async fn setup() -> (TestAxis, TestGateway, TestGateway) {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let a = TestGateway::start(&axis, &pki.agencies[0]).await;
    let b = TestGateway::start(&axis, &pki.agencies[1]).await;
    (axis, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_vxp_client_sends_through_two_gateways_and_gets_the_statuses_back() {
    let (axis, gw_a, gw_b) = setup().await;
    let (dms_a, dms_b) = (gw_a.dms(), gw_b.dms());
    let package = edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An");
    let (edoc, files) = parse_edoc(&package);

    // A's DMS sends as VNPT's SDK does: raw body and CRLF, application/octet-stream.
    let sent = dms_a
        .send_edoc("000.00.00.G22", "edoc", &package, Body::Raw)
        .await;
    let j = sent.json();
    assert_eq!(j["status"], "OK", "{j}");
    assert_eq!(j["ErrorCode"], "0");
    let doc_id = j["DocId"].as_str().unwrap().to_owned();
    // The same package again (a DMS that lost the answer): the same DocId, nothing new.
    let again = dms_a
        .send_edoc("000.00.00.G22", "edoc", &package, Body::Raw)
        .await
        .json();
    assert_eq!(again["DocId"], doc_id.as_str());

    // B's DMS finds it in its mailbox and gets it equal field by field, files included.
    let items = dms_b.wait_for("edoc", 1).await;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["from"], "000.00.00.G22");
    assert_eq!(item["to"], "000.00.00.H41");
    assert_eq!(item["messageType"], "edoc");
    assert_eq!(item["status"], "initial");
    let received_id = item["docId"].as_str().unwrap().to_owned();
    let got = dms_b.get_edoc(&received_id).await;
    let (back, back_files) = parse_edoc(&got);
    assert_eq!(back, edoc);
    assert_eq!(back_files, files);
    // downloadEdoc (the real GET) gives the same bytes.
    let raw = dms_b
        .call("downloadEdoc", &[("docId", &received_id)], b"")
        .await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.body, got);
    // The DMS acknowledges the mailbox item; it leaves the list.
    assert_eq!(
        dms_b.update_status(&received_id, "done").await.error_code(),
        "0"
    );
    assert!(dms_b.received("edoc").await.is_empty());

    // B's DMS registers it (03) and finishes it (06), as edXML status packages.
    let mut sent_statuses = Vec::new();
    for (name, staff) in [
        ("status_acceptance_03.edxml", "Văn thư"),
        ("status_finish_06.edxml", "Chánh Văn phòng"),
    ] {
        let p = status(name, "000.00.00.H41", "UBND tỉnh Nghệ An", staff);
        let a = dms_b
            .send_edoc("000.00.00.H41", "status", &p, Body::Multipart)
            .await
            .json();
        assert_eq!(a["status"], "OK", "{a}");
        sent_statuses.push(p);
        // One at a time: 06 follows 03 in the receipt chain.
        wait_status_sent(&gw_b, a["DocId"].as_str().unwrap()).await;
    }

    // A's DMS gets 01 (the gateway's receipt), 03 and 06, each as an edXML status package.
    let statuses = dms_a.wait_for("status", 3).await;
    let mut codes = Vec::new();
    for s in &statuses {
        assert_eq!(s["from"], "000.00.00.H41");
        assert_eq!(s["messageType"], "status");
        let p = dms_a.get_edoc(s["docId"].as_str().unwrap()).await;
        let st = parse_status(&p);
        assert_eq!(st.response_for.document_id, edoc.header.document_id);
        codes.push(st.status_code.to_string());
        for written in &sent_statuses {
            let w = parse_status(written);
            if w.status_code == st.status_code {
                // As B's DMS wrote it: description, staff, timestamp.
                assert_eq!(st, w);
            }
        }
        assert_eq!(
            dms_a
                .update_status(s["docId"].as_str().unwrap(), "done")
                .await
                .error_code(),
            "0"
        );
    }
    assert_eq!(codes, ["01", "03", "06"]);

    // getSentEdocList: accepted, and H41's last status.
    let list = dms_a
        .call(
            "getSentEdocList",
            &[("servicetype", "eDoc"), ("messagetype", "edoc")],
            b"",
        )
        .await
        .json();
    let line = &list["data"][0];
    assert_eq!(line["senderDocId"], doc_id.as_str());
    assert_eq!(line["toCode"], "000.00.00.H41");
    assert_eq!(line["sendStatus"], "accepted");
    assert_eq!(line["receiveStatus"], "06");
    let counts = dms_a.call("countReceiveStatus", &[], b"{}").await.json();
    assert_eq!(counts["count"], 0);

    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}

/// Waits until the outbox row of a status is accepted by the axis.
pub(crate) async fn wait_status_sent(gw: &TestGateway, id: &str) {
    for _ in 0..600 {
        let row = gw.gateway().db.outbox_get(id).await.unwrap().unwrap();
        match row.state.as_str() {
            "accepted" => return,
            "failed" => panic!("status {id} failed: {:?}", row.error_message),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("status {id} never sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_own_error_code_and_sends_nothing() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let gw_a = TestGateway::start_with(&axis, &pki.agencies[0], "max_body_bytes = 1048576").await;
    let dms = gw_a.dms();
    let good = edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An");
    let from = "000.00.00.G22";

    // Wrong HMAC: the right system with another secret.
    let wrong = VxpClient::new(
        gw_a.addr(),
        axis_tests::gateway::SYSTEM,
        b"not-the-secret-at-all-0",
    );
    let a = wrong.send_edoc(from, "edoc", &good, Body::Raw).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["status"], "FAIL");
    assert_eq!(a.error_code(), "HMAC_INVALID");
    // Unknown systemid.
    let stranger = VxpClient::new(gw_a.addr(), "vxp.saas.99", axis_tests::gateway::SECRET);
    assert_eq!(
        stranger
            .send_edoc(from, "edoc", &good, Body::Raw)
            .await
            .error_code(),
        "SYSTEM_UNKNOWN"
    );
    // No HMAC headers at all.
    let bare = dms
        .raw("POST", "getReceivedEdocList", &[], "text/plain", b"")
        .await;
    assert_eq!(bare.error_code(), "HMAC_INVALID");
    // Oversize body (declared, and as multipart).
    let huge = vec![b'x'; 2 << 20];
    assert_eq!(
        dms.send_edoc(from, "edoc", &huge, Body::Raw)
            .await
            .error_code(),
        "BODY_TOO_LARGE"
    );
    assert_eq!(
        dms.send_edoc(from, "edoc", &huge, Body::Multipart)
            .await
            .error_code(),
        "BODY_TOO_LARGE"
    );
    // Malformed and hostile edXML: the parser's reason.
    for (file, code) in [
        ("hostile/bomb.edxml", "EDXML_DTD"),
        ("hostile/xxe.edxml", "EDXML_DTD"),
        ("hostile/broken-base64.edxml", "EDXML_BASE64"),
        ("hostile/zip-bomb.edxml", "EDXML_ZIP_BOMB"),
    ] {
        let a = dms.send_edoc(from, "edoc", &sample(file), Body::Raw).await;
        assert_eq!(
            a.error_code(),
            code,
            "{file}: {}",
            String::from_utf8_lossy(&a.body)
        );
    }
    assert_eq!(
        dms.send_edoc(from, "edoc", b"<edXML><not-closed>", Body::Raw)
            .await
            .error_code(),
        "EDXML_NOT_WELL_FORMED"
    );
    // A status where a document is expected, and the other way round.
    let st = status(
        "status_acceptance_03.edxml",
        from,
        "Văn phòng Chính phủ",
        "x",
    );
    assert_eq!(
        dms.send_edoc(from, "edoc", &st, Body::Raw)
            .await
            .error_code(),
        "REQUEST_MALFORMED"
    );
    // A status about a document this gateway never received.
    assert_eq!(
        dms.send_edoc(from, "status", &st, Body::Raw)
            .await
            .error_code(),
        "NOT_FOUND"
    );
    // Unknown recipient: not in the axis directory.
    let nowhere = edoc_to("000.00.00.H99", "Nowhere");
    assert_eq!(
        dms.send_edoc(from, "edoc", &nowhere, Body::Raw)
            .await
            .error_code(),
        "RECIPIENT_UNKNOWN"
    );
    // A package from another agency.
    let (mut e, f) = parse_edoc(&good);
    e.header.from.organ_id = "000.00.00.H41".into();
    e.header.document_id = e
        .header
        .document_id
        .replacen("000.00.00.G22", "000.00.00.H41", 1);
    e.header.to[0].organ_id = "000.00.00.G22".into();
    let other = edoc_to_vec(&e, &mut f.clone()).unwrap();
    assert_eq!(
        dms.send_edoc(from, "edoc", &other, Body::Raw)
            .await
            .error_code(),
        "SENDER_NOT_AGENCY"
    );
    // The `from` header of another agency.
    assert_eq!(
        dms.send_edoc("000.00.00.H41", "edoc", &good, Body::Raw)
            .await
            .error_code(),
        "SENDER_NOT_AGENCY"
    );
    // Mailbox calls on unknown items, bad values.
    assert_eq!(
        dms.update_status("nope", "done").await.error_code(),
        "NOT_FOUND"
    );
    assert_eq!(
        dms.update_status("nope", "maybe").await.error_code(),
        "REQUEST_MALFORMED"
    );
    assert_eq!(
        dms.call("getEdoc", &[("docId", "nope")], b"{}")
            .await
            .error_code(),
        "NOT_FOUND"
    );
    assert_eq!(
        dms.call("registerAgency", &[], b"{\"code\":\"000.00.00.H99\"}")
            .await
            .error_code(),
        "NOT_OFFERED"
    );

    // Nothing was kept, so nothing was or will be sent.
    let db = &gw_a.gateway().db;
    assert!(db.outbox_list("edoc", 10).await.unwrap().is_empty());
    assert!(db.outbox_list("status", 10).await.unwrap().is_empty());
    let sent = dms
        .call("getSentEdocList", &[("messagetype", "edoc")], b"")
        .await
        .json();
    assert_eq!(sent["data"].as_array().unwrap().len(), 0);

    gw_a.stop().await;
    axis.stop().await;
}

/// A delivery the receiving gateway cannot write (its disk failing: here the directory of
/// received documents replaced by a file) is not the sender's fault: it is not refused nor
/// passed over, but tried again; once the disk is back it arrives, once, and is answered with
/// receipt 01 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_the_receiver_cannot_write_is_tried_again_not_refused() {
    use std::sync::atomic::Ordering;
    let (axis, gw_a, gw_b) = setup().await;
    let (dms_a, dms_b) = (gw_a.dms(), gw_b.dms());
    let received = gw_b.gateway().received_dir();
    std::fs::remove_dir_all(&received).unwrap();
    std::fs::write(&received, b"not a directory").unwrap();

    let package = edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An");
    let sent = dms_a
        .send_edoc("000.00.00.G22", "edoc", &package, Body::Raw)
        .await
        .json();
    assert_eq!(sent["status"], "OK", "{sent}");

    // B tries to open it, fails on its own disk, and says it will try again.
    let metrics = &gw_b.gateway().metrics;
    for _ in 0..600 {
        if metrics.receive_retried.load(Ordering::Relaxed) >= 2
            || metrics.receive_refused.load(Ordering::Relaxed) > 0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(metrics.receive_refused.load(Ordering::Relaxed), 0);
    assert!(metrics.receive_retried.load(Ordering::Relaxed) >= 2);
    assert!(dms_b.received("edoc").await.is_empty());

    // The disk is back: the document arrives, once.
    std::fs::remove_file(&received).unwrap();
    std::fs::create_dir(&received).unwrap();
    let items = dms_b.wait_for("edoc", 1).await;
    assert_eq!(items.len(), 1);
    let got = dms_b.get_edoc(items[0]["docId"].as_str().unwrap()).await;
    assert_eq!(parse_edoc(&got).0, parse_edoc(&package).0);
    // A's DMS gets the receipt 01, and nothing else.
    let statuses = dms_a.wait_for("status", 1).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let statuses_later = dms_a.received("status").await;
    assert_eq!(statuses_later.len(), statuses.len());
    for s in &statuses_later {
        let st = parse_status(&dms_a.get_edoc(s["docId"].as_str().unwrap()).await);
        assert_eq!(st.status_code.to_string(), "01");
    }
    assert_eq!(statuses_later.len(), 1);
    assert_eq!(dms_b.received("edoc").await.len(), 1);
    assert_eq!(metrics.receive_refused.load(Ordering::Relaxed), 0);

    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}

/// `edoc_to` with its first file replaced by `size` bytes of filler (its size and digest in
/// the package with it) and its own number `n`.
fn large_edoc_to(to: &str, name: &str, size: usize, n: usize) -> Vec<u8> {
    let (mut e, mut files) = parse_edoc(&edoc_to(to, name));
    let body: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let pdf = &mut e.attachments[0];
    pdf.size = body.len() as u64;
    pdf.sha256
        .copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &body).as_ref());
    files[0] = body;
    let number = format!("77{n}");
    e.header.document_id = e.header.document_id.replace("7816", &number);
    e.header.code.code_number = number;
    edoc_to_vec(&e, &mut files).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_larger_than_the_body_budget_wait_their_turn_and_all_arrive() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    // The smallest budget: each of these bodies (~130 KB in base64) takes all of it.
    let gw_a = TestGateway::start_with(&axis, &pki.agencies[0], "body_memory_bytes = 65536").await;
    let gw_b = TestGateway::start(&axis, &pki.agencies[1]).await;
    let (dms_a, dms_b) = (gw_a.dms(), gw_b.dms());
    let packages: Vec<Vec<u8>> = (0..4)
        .map(|n| large_edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An", 100_000, n))
        .collect();
    assert!(packages.iter().all(|p| p.len() > 65536));

    // Four DMS connections at once: each send waits for the one before it, none is refused.
    let sends: Vec<_> = packages
        .iter()
        .map(|p| {
            let (dms, p) = (dms_a.clone(), p.clone());
            tokio::spawn(async move {
                dms.send_edoc("000.00.00.G22", "edoc", &p, Body::Raw)
                    .await
                    .json()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for s in sends {
        let j = s.await.unwrap();
        assert_eq!(j["ErrorCode"], "0", "{j}");
        ids.push(j["DocId"].as_str().unwrap().to_owned());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    let waited = gw_a.gateway().metrics.render(&Default::default(), true);
    assert!(
        waited.contains("axis_gateway_stage_seconds_count{stage=\"send_body_wait\"} 4"),
        "{waited}"
    );

    // All four arrive, each equal field by field and file by file.
    let items = dms_b.wait_for("edoc", 4).await;
    assert_eq!(items.len(), 4);
    let mut got: Vec<(Edoc, Vec<Vec<u8>>)> = Vec::new();
    for item in &items {
        got.push(parse_edoc(
            &dms_b.get_edoc(item["docId"].as_str().unwrap()).await,
        ));
    }
    for p in &packages {
        let (e, files) = parse_edoc(p);
        assert!(
            got.iter().any(|(g, f)| *g == e && *f == files),
            "{} did not arrive as sent",
            e.header.code.code_number
        );
    }

    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}
