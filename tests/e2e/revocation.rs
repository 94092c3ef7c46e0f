//! Revoked and expired agency certificates are refused at TLS and at signature level, from the
//! start and when a CRL is published while the axis runs.

use std::sync::Arc;

use axis_pki::{Profile, Subject};
use axis_proto::v1 as pb;
use axis_signer::{DocumentRef, MessageId, StatusCode};
use axis_tests::{TestAxis, TestPki, channel_to, reason, seal, seal_as};
use time::{Duration, OffsetDateTime};

use crate::raw;

async fn metric(axis: &TestAxis, name: &str) -> u64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = axis.node.as_ref().unwrap().metrics_addr.unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Whether a call over a fresh connection as `who` succeeds.
async fn can_connect(axis: &TestAxis, who: &axis_pki::demo::Issued) -> bool {
    let Ok(ch) = channel_to(axis.addr, &axis.pki, who).await else {
        return false;
    };
    pb::exchange_client::ExchangeClient::new(ch)
        .get_limits(pb::GetLimitsRequest {})
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_tls_certificates_are_refused_at_the_handshake() {
    let mut pki = TestPki::new(2);
    let now = OffsetDateTime::now_utc();
    let mut subject = Subject::new("Cơ quan");
    subject.agency_id = Some(pki.agencies[1].id.clone());
    let revoked = pki
        .pki
        .issue(Profile::AgencyTlsClient, subject.clone(), 30)
        .unwrap();
    let expired = pki
        .pki
        .issue_between(
            Profile::AgencyTlsClient,
            subject.clone(),
            now - Duration::days(30),
            now - Duration::minutes(1),
        )
        .unwrap();
    // A seal certificate is not a TLS identity, even from the right agency.
    let wrong_profile = pki.agencies[1].seal.cert.clone();
    pki.revoked.push(revoked.serial.clone());
    let pki = Arc::new(pki);
    let axis = TestAxis::start(pki.clone()).await;
    assert!(
        can_connect(&axis, &pki.agencies[1].tls).await,
        "the valid certificate must work"
    );
    let before = metric(&axis, "axis_tls_handshakes_refused_total").await;
    assert!(
        !can_connect(&axis, &revoked).await,
        "a revoked TLS certificate got through"
    );
    assert!(
        !can_connect(&axis, &expired).await,
        "an expired TLS certificate got through"
    );
    let seal_as_tls = axis_pki::demo::Issued {
        cert: wrong_profile,
        key: axis_pki::PrivateKey::from_pkcs8_der(pki.agencies[1].seal.key.to_pkcs8_der()).unwrap(),
        serial: pki.agencies[1].seal.serial.clone(),
    };
    assert!(
        !can_connect(&axis, &seal_as_tls).await,
        "a seal certificate opened a TLS session"
    );
    // (Counters are per process and other tests run beside this one: at least these three.)
    assert!(metric(&axis, "axis_tls_handshakes_refused_total").await >= before + 3);
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_and_expired_seals_are_refused_at_signature_level() {
    let pki = TestPki::new(3);
    let now = OffsetDateTime::now_utc();
    // Agency 0 gets a second seal that expired a minute ago; agency 2's seal is revoked below.
    let mut subject = Subject::new("Cơ quan 0");
    subject.agency_id = Some(pki.agencies[0].id.clone());
    let old_seal = pki
        .pki
        .issue_between(
            Profile::AgencySeal,
            subject,
            now - Duration::days(2),
            now - Duration::minutes(1),
        )
        .unwrap();
    let pki = Arc::new(pki);
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b, c) = (&pki.agencies[0], &pki.agencies[1], &pki.agencies[2]);
    let (_, crl) = pki
        .pki
        .crls(2, std::slice::from_ref(&c.seal.serial))
        .unwrap();
    pb::directory_client::DirectoryClient::new(axis.channel(&pki.operator).await)
        .publish_crl(pb::PublishCrlRequest { crl })
        .await
        .unwrap();

    let lenient = pki.store_without_revocations();
    let p = seal_as(
        &lenient,
        now,
        c,
        &[b],
        &[("r.pdf", b"revoked seal")],
        MessageId::random().unwrap(),
    );
    let e = raw::submit(&axis, c, &p).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (tonic::Code::PermissionDenied, "CERTIFICATE_REVOKED"),
        "{}",
        e.message()
    );

    let mut with_old = axis_pki::demo::AgencyCreds {
        id: a.id.clone(),
        name: a.name.clone(),
        tls: clone_issued(&a.tls),
        seal: old_seal,
        personal: clone_issued(&a.personal),
        encryption: clone_issued(&a.encryption),
    };
    let at = now - Duration::minutes(2);
    // The personal signature must not be later than the seal; both are made at `at`.
    with_old.personal = clone_issued(&a.personal);
    let p = seal_as(
        &pki.store(),
        at,
        &with_old,
        &[b],
        &[("e.pdf", b"expired seal")],
        MessageId::random().unwrap(),
    );
    let e = raw::submit(&axis, a, &p).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (tonic::Code::PermissionDenied, "CERTIFICATE_REJECTED"),
        "{}",
        e.message()
    );
    axis.stop().await;
}

fn clone_issued(i: &axis_pki::demo::Issued) -> axis_pki::demo::Issued {
    axis_pki::demo::Issued {
        cert: i.cert.clone(),
        key: axis_pki::PrivateKey::from_pkcs8_der(i.key.to_pkcs8_der()).unwrap(),
        serial: i.serial.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crl_published_at_run_time_takes_effect_at_once() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // A's connection is open and working; B has a document to acknowledge.
    let mut ax = axis.exchange(&a.tls).await;
    ax.get_limits(pb::GetLimitsRequest {}).await.unwrap();
    let p = seal(&pki, a, &[b], &[("d.pdf", b"before the revocation")]);
    raw::submit(&axis, a, &p).await.unwrap();
    let doc = raw::received(&pki, b, &p, &axis).await;
    let r01 = raw::statement(
        &pki,
        b,
        DocumentRef::received(&doc),
        &[],
        StatusCode::Arrived,
    );

    // The operator publishes a CRL revoking A's TLS certificate and B's seal.
    let (_, crl) = pki
        .pki
        .crls(2, &[a.tls.serial.clone(), b.seal.serial.clone()])
        .unwrap();
    let mut od = pb::directory_client::DirectoryClient::new(axis.channel(&pki.operator).await);
    let published = od
        .publish_crl(pb::PublishCrlRequest { crl: crl.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            published.crl_number,
            published.revoked,
            published.revocations_logged
        ),
        (2, 2, 2)
    );
    // Each revocation is now an entry of the log (after the acceptance and nothing else).
    let mut ol = pb::log_client::LogClient::new(axis.channel(&pki.operator).await);
    let entries = ol
        .get_entries(pb::GetEntriesRequest { start: 0, end: 100 })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let mut serials: Vec<Vec<u8>> = entries
        .iter()
        .filter_map(|e| {
            match axis_evidence::LogEntryBytes::parse(&e.entry)
                .unwrap()
                .entry()
                .body
                .clone()
            {
                axis_evidence::EntryBody::Revocation(r) => Some(r.serial),
                _ => None,
            }
        })
        .collect();
    serials.sort();
    let mut expected = vec![
        a.tls.serial.as_bytes().to_vec(),
        b.seal.serial.as_bytes().to_vec(),
    ];
    expected.sort();
    assert_eq!(serials, expected);

    // A's open connection is refused at its next call, and a new one at the handshake.
    let e = ax.get_limits(pb::GetLimitsRequest {}).await.unwrap_err();
    assert_eq!(reason(&e), "CERTIFICATE_REVOKED", "{}", e.message());
    assert!(!can_connect(&axis, &a.tls).await);
    // B's receipt, signed with its now revoked seal, is refused.
    let mut bx = axis.exchange(&b.tls).await;
    let e = bx
        .acknowledge(pb::AcknowledgeRequest { receipt: Some(r01) })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "CERTIFICATE_REVOKED", "{}", e.message());
    // Clients are handed the new CRL.
    let tm = pb::directory_client::DirectoryClient::new(axis.channel(&b.tls).await)
        .get_trust_material(pb::GetTrustMaterialRequest { history: false })
        .await
        .unwrap()
        .into_inner();
    assert!(tm.crls.contains(&crl));

    // The same CRL again is not newer; a CRL from a CA the axis does not know is refused.
    let e = od
        .publish_crl(pb::PublishCrlRequest { crl })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "BAD_CRL");
    let stranger = axis_pki::demo::DemoPki::new(OffsetDateTime::now_utc()).unwrap();
    let (_, foreign) = stranger.crls(9, &[]).unwrap();
    let e = od
        .publish_crl(pb::PublishCrlRequest { crl: foreign })
        .await
        .unwrap_err();
    assert_eq!(reason(&e), "BAD_CRL");
    axis.stop().await;
}
