//! Agency B cannot fetch, acknowledge, send a status on, recall or read the history of mail
//! between A and C — every RPC tried — and nothing changes when it tries. Operators
//! administer but cannot exchange; agencies cannot administer.

use std::sync::Arc;

use axis_proto::v1 as pb;
use axis_signer::{DocumentRef, StatusCode};
use axis_tests::{TestAxis, TestPki, reason, seal};
use tokio_stream::StreamExt;

use crate::raw;

#[track_caller]
fn refused<T: std::fmt::Debug>(r: Result<T, tonic::Status>, code: tonic::Code, why: &str) {
    let e = r.expect_err("the call must be refused");
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (code, why),
        "{}",
        e.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_agency_can_do_nothing_with_a_document_not_addressed_to_it() {
    let pki = Arc::new(TestPki::new(3));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b, c) = (&pki.agencies[0], &pki.agencies[1], &pki.agencies[2]);
    let p = seal(&pki, a, &[c], &[("x.pdf", b"content for C only")]);
    raw::submit(&axis, a, &p).await.unwrap();
    let id = p.message_id.to_string();
    let mut bx = axis.exchange(&b.tls).await;

    // Fetch.
    let fetched = async {
        let mut s = bx
            .fetch(pb::FetchRequest {
                message_id: id.clone(),
                offset: 0,
            })
            .await?
            .into_inner();
        s.next().await.transpose()
    }
    .await;
    refused(fetched, tonic::Code::NotFound, "MESSAGE_NOT_FOUND");

    // Subscribe: B's inbox is empty.
    assert!(raw::pending(&axis, b, "").await.is_empty());

    // History.
    refused(
        bx.get_history(pb::GetHistoryRequest {
            message_id: id.clone(),
            completeness: false,
        })
        .await,
        tonic::Code::NotFound,
        "MESSAGE_NOT_FOUND",
    );

    // Acknowledge and SendStatus with receipts validly signed by B's seal in which B states it
    // received the document.
    let c_doc = raw::received(&pki, c, &p, &axis).await;
    let as_b = raw::forge_as(&pki, b, &c_doc, StatusCode::Arrived);
    refused(
        bx.acknowledge(pb::AcknowledgeRequest {
            receipt: Some(as_b.clone()),
        })
        .await,
        tonic::Code::NotFound,
        "MESSAGE_NOT_FOUND",
    );
    let as_b_status = raw::forge_as(&pki, b, &c_doc, StatusCode::Accepted);
    refused(
        bx.send_status(pb::SendStatusRequest {
            status: Some(as_b_status),
        })
        .await,
        tonic::Code::NotFound,
        "MESSAGE_NOT_FOUND",
    );
    // C's genuine receipt, replayed by B: stated by C, not by the caller.
    let c01 = raw::statement(
        &pki,
        c,
        DocumentRef::received(&c_doc),
        &[],
        StatusCode::Arrived,
    );
    refused(
        bx.acknowledge(pb::AcknowledgeRequest {
            receipt: Some(c01.clone()),
        })
        .await,
        tonic::Code::PermissionDenied,
        "NOT_AUTHORIZED",
    );

    // Recall: B is not the sender.
    let recall_by_b = raw::forge_recall(&pki, b, &c_doc, c);
    refused(
        bx.recall(pb::RecallRequest {
            status: Some(recall_by_b),
        })
        .await,
        tonic::Code::NotFound,
        "MESSAGE_NOT_FOUND",
    );
    // The recipient cannot recall either, nor the sender acknowledge for the recipient.
    let mut cx = axis.exchange(&c.tls).await;
    let recall_by_c = raw::forge_recall(&pki, c, &c_doc, c);
    refused(
        cx.recall(pb::RecallRequest {
            status: Some(recall_by_c),
        })
        .await,
        tonic::Code::NotFound,
        "MESSAGE_NOT_FOUND",
    );
    let mut ax = axis.exchange(&a.tls).await;
    refused(
        ax.acknowledge(pb::AcknowledgeRequest {
            receipt: Some(c01.clone()),
        })
        .await,
        tonic::Code::PermissionDenied,
        "NOT_AUTHORIZED",
    );
    // A cannot submit as another agency.
    let as_a = seal(&pki, a, &[c], &[("y.pdf", b"y")]);
    refused(
        raw::submit(&axis, b, &as_a).await,
        tonic::Code::PermissionDenied,
        "SENDER_NOT_CALLER",
    );

    // Nothing changed: C still has the document pending, the history is empty, and C can
    // still acknowledge.
    let pending = raw::pending(&axis, c, "").await;
    assert_eq!(pending.len(), 1);
    let h = ax
        .get_history(pb::GetHistoryRequest {
            message_id: id.clone(),
            completeness: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(h.entries.is_empty());
    cx.acknowledge(pb::AcknowledgeRequest { receipt: Some(c01) })
        .await
        .unwrap();
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_administer_and_agencies_do_not() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let mut ad = pb::directory_client::DirectoryClient::new(axis.channel(&a.tls).await);
    // Agencies may look up and list…
    let got = ad
        .lookup_agency(pb::LookupAgencyRequest {
            agency_id: b.id.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.encryption_certificate, b.encryption.cert);
    let list = ad
        .list_agencies(pb::ListAgenciesRequest {
            page_size: 10,
            after_agency_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.agencies.len(), 2);
    // …but not register, update, publish CRLs or read raw log entries.
    refused(
        ad.register_agency(pb::RegisterAgencyRequest {
            agency_id: "000.00.00.H53".into(),
            name: "x".into(),
            encryption_certificate: b.encryption.cert.clone(),
            seal_certificate: b.seal.cert.clone(),
            parent_id: String::new(),
        })
        .await,
        tonic::Code::PermissionDenied,
        "OPERATOR_ONLY",
    );
    refused(
        ad.update_agency(pb::UpdateAgencyRequest {
            agency_id: b.id.to_string(),
            name: "renamed by A".into(),
            ..Default::default()
        })
        .await,
        tonic::Code::PermissionDenied,
        "OPERATOR_ONLY",
    );
    let (_, crl) = pki.crls(2);
    refused(
        ad.publish_crl(pb::PublishCrlRequest { crl }).await,
        tonic::Code::PermissionDenied,
        "OPERATOR_ONLY",
    );
    let mut al = pb::log_client::LogClient::new(axis.channel(&a.tls).await);
    refused(
        al.get_entries(pb::GetEntriesRequest { start: 0, end: 10 })
            .await,
        tonic::Code::PermissionDenied,
        "OPERATOR_ONLY",
    );
    // The operator cannot exchange documents.
    let p = seal(&pki, a, &[b], &[("z.pdf", b"z")]);
    let mut ox = pb::exchange_client::ExchangeClient::new(axis.channel(&pki.operator).await);
    refused(
        ox.submit(tokio_stream::iter(p.requests(1024))).await,
        tonic::Code::PermissionDenied,
        "AGENCY_ONLY",
    );
    refused(
        ox.get_history(pb::GetHistoryRequest {
            message_id: p.message_id.to_string(),
            completeness: false,
        })
        .await,
        tonic::Code::PermissionDenied,
        "AGENCY_ONLY",
    );
    // Registering with a certificate of another agency is refused.
    let mut od = pb::directory_client::DirectoryClient::new(axis.channel(&pki.operator).await);
    refused(
        od.register_agency(pb::RegisterAgencyRequest {
            agency_id: "000.00.00.H53".into(),
            name: "Tây Ninh".into(),
            encryption_certificate: b.encryption.cert.clone(),
            seal_certificate: b.seal.cert.clone(),
            parent_id: String::new(),
        })
        .await,
        tonic::Code::InvalidArgument,
        "BAD_CERTIFICATE",
    );
    // A seal certificate where the encryption one belongs is refused.
    refused(
        od.update_agency(pb::UpdateAgencyRequest {
            agency_id: b.id.to_string(),
            encryption_certificate: b.seal.cert.clone(),
            ..Default::default()
        })
        .await,
        tonic::Code::InvalidArgument,
        "BAD_CERTIFICATE",
    );
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_dated_far_from_now_is_refused() {
    use axis_pki::Profile;
    use axis_signer::{ReceiptChain, Signer};
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let p = seal(&pki, a, &[b], &[("t.pdf", b"dated")]);
    raw::submit(&axis, a, &p).await.unwrap();
    let doc = raw::received(&pki, b, &p, &axis).await;
    let seal_cert = pki.verified(&b.seal.cert, Profile::AgencySeal);
    let now = time::OffsetDateTime::now_utc();
    let mut bx = axis.exchange(&b.tls).await;
    for when in [
        now - time::Duration::hours(2),
        now + time::Duration::hours(1),
    ] {
        let r = ReceiptChain::new(DocumentRef::received(&doc))
            .next(StatusCode::Arrived, when, "")
            .unwrap()
            .sign(&Signer::new(&b.seal.key, &seal_cert).unwrap())
            .unwrap();
        let s = pb::SignedStatement {
            statement: r.receipt().as_bytes().to_vec(),
            signature: r.signature().to_vec(),
        };
        refused(
            bx.acknowledge(pb::AcknowledgeRequest { receipt: Some(s) })
                .await,
            tonic::Code::FailedPrecondition,
            "STATEMENT_TIME_INVALID",
        );
    }
    // Dated now, the same receipt is accepted.
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
    axis.stop().await;
}
