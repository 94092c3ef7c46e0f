//! edXML through a real axis, by the SDK path the `axis` CLI takes (`send --edxml` is
//! `OutgoingDocument::from_edxml`, `open --edxml` is `OpenedDocument::write_edxml`, `status
//! --edxml` is `Client::send_edxml_status`, `history --edxml` is `HistoryEvent::to_edxml`):
//! what a DMS writes comes out at every recipient, and every status back at the sender, equal
//! field by field (and byte for byte where our writer wrote the input); hostile packages are
//! refused and the axis stores nothing.

use std::sync::Arc;

use axis_client::edxml::{
    self, Collect, Discard, Edoc, Package, ResponseFor, Status, edoc_to_vec, status_to_vec,
};
use axis_client::{Client, OutgoingDocument, StatusCode};
use axis_pki::demo::AgencyCreds;
use axis_tests::{TestAxis, TestPki};

use crate::sdk::client;

/// The agencies of the samples: the sender's person is the one its SignerInfo names.
fn pki() -> TestPki {
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
        (
            "000.00.00.H53",
            "UBND tỉnh Tây Ninh",
            "Lê Văn Hùng",
            "Chủ tịch",
        ),
        (
            "000.00.00.H29",
            "UBND tỉnh Hòa Bình",
            "Bùi Văn Tỉnh",
            "Phó Chủ tịch",
        ),
    ])
}

/// A package as text, so a difference shows as XML.
fn text(package: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(package)
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../edxml/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A package's values and its decoded attachments.
fn parse_edoc(package: &[u8]) -> (Edoc, Vec<Vec<u8>>) {
    let mut files = Collect::default();
    let Package::Edoc(e) = edxml::parse(package, &mut files).unwrap().package else {
        panic!("not an edoc")
    };
    (e, files.0)
}

fn parse_status(package: &[u8]) -> Status {
    let Package::Status(s) = edxml::parse(package, &mut Discard).unwrap().package else {
        panic!("not a status")
    };
    s
}

/// The VPCP sample edoc with every header field of the reference filled, as a DMS writes it
/// (VNPT's writer): all of From and each To, ResponseFor, ApplicationType, a real website.
fn full_edoc() -> Vec<u8> {
    let (mut e, files) = parse_edoc(&sample("edoc_new.edxml"));
    let h = &mut e.header;
    for (i, to) in h.to.iter_mut().enumerate() {
        to.organization_in_charge = "Chính phủ".into();
        to.organ_add = format!("Số {} đường Lê Lợi", i + 1);
        to.email = format!("vanthu{i}@tinh.gov.vn");
        to.telephone = "0238.3844.555 - 0238.3844.556".into();
        to.fax = "0238.3844.557".into();
        to.website = "http://www.hanoi.gov.vn".into();
    }
    h.response_for = vec![ResponseFor {
        organ_id: "000.00.00.H41".into(),
        code: "120/UBND-VX".into(),
        promulgation_date: Some(time::macros::date!(2015 - 09 - 15)),
        document_id: "000.00.00.H41,2015/09/15,120/UBND-VX".into(),
    }];
    h.application_type = "MCDT_DT".into();
    e.trace.business.paper = Some(1);
    edoc_to_vec(&e, &mut files.clone()).unwrap()
}

/// A sample status package, stated by `by` (the rest as the sample says).
fn status_package(sample_name: &str, by: &AgencyCreds, staff: &str) -> Vec<u8> {
    let mut s = parse_status(&sample(sample_name));
    s.from.organ_id = by.id.to_string();
    s.from.organ_name = by.name.clone();
    s.staff_info.staff = staff.into();
    status_to_vec(&s).unwrap()
}

/// The message's timeline for `recipient`, each status as the edXML package the SDK gives back.
async fn statuses_as_edxml(
    client: &Client,
    id: &axis_client::MessageId,
    recipient: &AgencyCreds,
) -> Vec<(StatusCode, Vec<u8>)> {
    let h = client.history(id).await.unwrap();
    let t = h
        .timelines
        .iter()
        .find(|t| t.recipient == recipient.id)
        .unwrap();
    t.events
        .iter()
        .map(|e| (e.status, e.to_edxml().unwrap()))
        .collect()
}

/// Every status came back to the sender as the package its agency's DMS wrote: the same
/// values, and the same bytes (both written by the same deterministic writer).
#[track_caller]
fn same_statuses(got: &[(StatusCode, Vec<u8>)], sent: &[(StatusCode, Vec<u8>)]) {
    let codes = |v: &[(StatusCode, Vec<u8>)]| v.iter().map(|(c, _)| *c).collect::<Vec<_>>();
    assert_eq!(codes(got), codes(sent));
    for ((code, got), (_, sent)) in got.iter().zip(sent) {
        assert_eq!(parse_status(got), parse_status(sent), "status {code}");
        assert_eq!(text(got), text(sent), "status {code}: bytes");
    }
}

/// Opens `id` at `r` into a fresh directory; returns the document and its edXML package.
async fn open_edxml(
    client: &Client,
    id: &axis_client::MessageId,
) -> (axis_client::OpenedDocument, Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let delivery = client.delivery(id).await.unwrap();
    let opened = client.open_to_dir(&delivery, dir.path()).await.unwrap();
    assert!(opened.is_edxml());
    let package = opened.to_edxml().unwrap();
    (opened, package, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edoc_to_three_recipients_and_their_statuses_come_back_as_written() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let [g22, h41, h53, h29] = &pki.agencies[..] else {
        panic!()
    };
    let sender = client(&axis, g22).await;
    let package = full_edoc();
    let (edoc, files) = parse_edoc(&package);
    assert_eq!(edoc.header.to.len(), 3);

    // `axis send --edxml`: recipients from the package's To.
    let doc = OutgoingDocument::from_edxml(&package).unwrap();
    let sent = sender.send(doc).await.unwrap();
    assert_eq!(sent.document_id.to_string(), edoc.header.document_id);

    let steps = [
        ("status_inbox_01.edxml", StatusCode::Arrived),
        ("status_acceptance_03.edxml", StatusCode::Accepted),
        ("status_assignment_04.edxml", StatusCode::Assigned),
        ("status_processing_05.edxml", StatusCode::Processing),
        ("status_finish_06.edxml", StatusCode::Completed),
    ];
    let mut sent_statuses = Vec::new();
    for (i, r) in [h41, h53, h29].into_iter().enumerate() {
        let c = client(&axis, r).await;
        // `axis open --edxml`: the package again, every field and every byte.
        let (opened, out, _dir) = open_edxml(&c, &sent.message_id).await;
        let (back, back_files) = parse_edoc(&out);
        assert_eq!(back, edoc, "{}", r.id);
        assert_eq!(back_files, files);
        assert_eq!(text(&out), text(&package), "{}: the bytes", r.id);
        assert_eq!(opened.edoc().unwrap(), edoc);

        // The recipient's DMS writes its statuses; the agency seal signs each.
        let mut mine = Vec::new();
        for (name, code) in steps {
            let p = status_package(name, r, &format!("Văn thư {i}"));
            let logged = if code == StatusCode::Arrived {
                c.acknowledge_edxml(&opened, &p).await.unwrap()
            } else {
                c.send_edxml_status(&sent.message_id, &p).await.unwrap()
            };
            assert_eq!(logged.receipt.status, code);
            // The reason is the Description the person wrote, nothing added.
            assert_eq!(logged.receipt.reason, parse_status(&p).description);
            assert_eq!(text(&logged.to_edxml().unwrap()), text(&p));
            mine.push((code, p));
        }
        sent_statuses.push((r, mine));
    }
    // `axis history --edxml` at the sender: each recipient's packages, as written.
    for (r, mine) in &sent_statuses {
        let got = statuses_as_edxml(&sender, &sent.message_id, r).await;
        same_statuses(&got, mine);
    }
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_replacement_and_revocation_documents_are_answered_with_15_or_16() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let [g22, h41, h53, h29] = &pki.agencies[..] else {
        panic!()
    };
    let sender = client(&axis, g22).await;
    for (name, business) in [
        ("edoc_update.edxml", 2),
        ("edoc_replacement.edxml", 3),
        ("edoc_revocation.edxml", 1),
    ] {
        // Written by another DMS: compare values, and bytes with what our writer makes of them.
        let package = sample(name);
        let (edoc, files) = parse_edoc(&package);
        assert_eq!(edoc.trace.business.business_doc_type, Some(business));
        let sent = sender
            .send(OutgoingDocument::from_edxml(&package).unwrap())
            .await
            .unwrap();
        let mut answers = Vec::new();
        for (r, answer) in [
            (h41, "status_change-acceptance_15.edxml"),
            (h53, "status_change-rejection_16.edxml"),
            (h29, "status_change-acceptance_15.edxml"),
        ] {
            let c = client(&axis, r).await;
            let (opened, out, _dir) = open_edxml(&c, &sent.message_id).await;
            let (back, back_files) = parse_edoc(&out);
            assert_eq!(back, edoc, "{name} at {}", r.id);
            assert_eq!(back_files, files);
            let ours = edoc_to_vec(&edoc, &mut files.clone()).unwrap();
            assert_eq!(text(&out), text(&ours), "{name}: the bytes");
            let p01 = status_package("status_inbox_01.edxml", r, "Văn thư");
            c.acknowledge_edxml(&opened, &p01).await.unwrap();
            let p = status_package(answer, r, "Chánh Văn phòng");
            c.send_edxml_status(&sent.message_id, &p).await.unwrap();
            let code = parse_status(&p).status_code;
            answers.push((r, vec![(StatusCode::Arrived, p01), (code, p)]));
        }
        for (r, mine) in &answers {
            let got = statuses_as_edxml(&sender, &sent.message_id, r).await;
            same_statuses(&got, mine);
        }
    }
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_13_is_answered_15_or_16_and_each_side_reads_the_others_package() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let [g22, h41, h53, _] = &pki.agencies[..] else {
        panic!()
    };
    let sender = client(&axis, g22).await;
    let mut doc = OutgoingDocument::from_edxml(&sample("edoc_new.edxml")).unwrap();
    // `--to` instead of the package's To: H41 and H53 keep their To elements.
    doc.recipients.retain(|r| r.agency_id != pki.agencies[3].id);
    let sent = sender.send(doc).await.unwrap();
    for (r, answer, withdrawn) in [
        (h41, "status_change-acceptance_15.edxml", true),
        (h53, "status_change-rejection_16.edxml", false),
    ] {
        let c = client(&axis, r).await;
        let (opened, out, _dir) = open_edxml(&c, &sent.message_id).await;
        let (back, _) = parse_edoc(&out);
        let ids: Vec<&str> = back.header.to.iter().map(|t| t.organ_id.as_str()).collect();
        assert_eq!(ids, ["000.00.00.H41", "000.00.00.H53"]);
        c.acknowledge(&opened).await.unwrap();

        // The sender's DMS asks for the document back (status 13, From = the sender).
        let mut s13 = parse_status(&sample("status_cancellation_13.edxml"));
        s13.response_for.organ_id = r.id.to_string();
        let p13 = status_to_vec(&s13).unwrap();
        let logged = sender
            .send_edxml_status(&sent.message_id, &p13)
            .await
            .unwrap();
        assert_eq!(logged.receipt.status, StatusCode::RecallRequested);
        // The recipient's DMS reads the request as the sender's DMS wrote it.
        let theirs = statuses_as_edxml(&c, &sent.message_id, r).await;
        assert_eq!(text(&theirs[1].1), text(&p13));
        let p = status_package(answer, r, "Văn thư");
        c.send_edxml_status(&sent.message_id, &p).await.unwrap();

        let got = statuses_as_edxml(&sender, &sent.message_id, r).await;
        assert_eq!(got.len(), 3);
        same_statuses(
            &got[1..],
            &[(StatusCode::RecallRequested, p13), (got[2].0, p)],
        );
        let h = sender.history(&sent.message_id).await.unwrap();
        let t = h.timelines.iter().find(|t| t.recipient == r.id).unwrap();
        assert_eq!(t.withdrawn, withdrawn, "{}", r.id);
    }
    axis.stop().await;
}

/// Rows the axis keeps for messages, uploads and its log.
async fn stored(axis: &TestAxis) -> Vec<(&'static str, i64)> {
    let db = axis_server::store::Db::connect(&axis.db.url).await.unwrap();
    let mut counts = Vec::new();
    for table in [
        "messages",
        "deliveries",
        "uploads",
        "segments",
        "log_leaves",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n: i64 = match db.pool() {
            axis_server::store::Pool::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await
                .unwrap(),
            axis_server::store::Pool::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(p)
                .await
                .unwrap(),
        };
        counts.push((table, n));
    }
    db.close().await;
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_edxml_is_refused_with_its_own_reason_and_the_axis_stores_nothing() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let sender = client(&axis, &pki.agencies[0]).await;
    let mut deep = b"<edXML>".to_vec();
    deep.extend(b"<a>".repeat((100 << 20) / 3));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (sample("hostile/bomb.edxml"), "EDXML_DTD"),
        (sample("hostile/xxe.edxml"), "EDXML_DTD"),
        (deep, "EDXML_LIMIT"),
        (sample("hostile/zip-bomb.edxml"), "EDXML_ZIP_BOMB"),
        (sample("hostile/broken-base64.edxml"), "EDXML_BASE64"),
    ];
    for (package, reason) in cases {
        let e = OutgoingDocument::from_edxml(&package).unwrap_err();
        assert_eq!(e.reason(), Some(reason), "{e}");
        assert_eq!(*e.kind(), axis_client::ErrorKind::InvalidInput);
    }
    let rows = stored(&axis).await;
    assert!(rows.iter().all(|(_, n)| *n == 0), "{rows:?}");
    // The axis was there all along: a sound package goes through.
    sender
        .send(OutgoingDocument::from_edxml(&sample("edoc_new.edxml")).unwrap())
        .await
        .unwrap();
    let after = stored(&axis).await;
    assert_eq!(after[0], ("messages", 1));
    axis.stop().await;
}
