//! Submission: each bad input refused with its own reason and nothing stored; duplicates
//! answered with the first receipt and stored once.

use std::sync::Arc;
use std::time::Duration;

use axis_proto::v1 as pb;
use axis_server::store::Pool;
use axis_tests::{Package, TestAxis, TestPki, reason, seal, seal_with_id};
use sqlx::Row;

use crate::raw;

/// Rows in the tables a refused submission must not touch.
/// Waits (up to 30 s, polling) until the row counts satisfy `want`: an aborted upload's
/// staged segments are removed by a clean-up task after the refusal is answered, so a loaded
/// machine may need more than a moment. Panics with the last counts and `what` otherwise.
async fn settles(
    axis: &TestAxis,
    want: impl Fn((i64, i64, i64, i64, i64)) -> bool,
    what: &str,
) -> (i64, i64, i64, i64, i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = stored(axis).await;
        if want(now) {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn stored(axis: &TestAxis) -> (i64, i64, i64, i64, i64) {
    let db = axis.node.as_ref().unwrap().db();
    let q = "SELECT (SELECT COUNT(*) FROM messages) AS m, (SELECT COUNT(*) FROM deliveries) AS d, \
             (SELECT COUNT(*) FROM segments) AS s, (SELECT COUNT(*) FROM uploads) AS u, \
             (SELECT COUNT(*) FROM log_leaves) AS l";
    macro_rules! counts {
        ($p:expr) => {{
            let r = sqlx::query(q).fetch_one($p).await.unwrap();
            (r.get("m"), r.get("d"), r.get("s"), r.get("u"), r.get("l"))
        }};
    }
    match db.pool() {
        Pool::Sqlite(p) => counts!(p),
        Pool::Postgres(p) => counts!(p),
    }
}

async fn submit_parts(
    axis: &TestAxis,
    who: &axis_pki::demo::AgencyCreds,
    parts: Vec<pb::SubmitRequest>,
) -> Result<pb::SubmitResponse, tonic::Status> {
    let mut c = axis.exchange(&who.tls).await;
    c.submit(tokio_stream::iter(parts))
        .await
        .map(|r| r.into_inner())
}

fn chunk(data: &[u8]) -> pb::SubmitRequest {
    pb::SubmitRequest {
        part: Some(pb::submit_request::Part::Chunk(data.to_vec())),
    }
}

fn begin(p: &Package) -> pb::SubmitRequest {
    pb::SubmitRequest {
        part: Some(pb::submit_request::Part::Begin(p.begin.clone())),
    }
}

#[track_caller]
fn refused(r: Result<pb::SubmitResponse, tonic::Status>, code: tonic::Code, why: &str) {
    let e = r.expect_err("must be refused");
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (code, why),
        "{}",
        e.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_submission_is_refused_with_its_reason_and_leaves_nothing() {
    let pki = Arc::new(TestPki::new(3));
    let axis = TestAxis::start_with(pki.clone(), |c| {
        c.limits.max_recipients = 1;
        c.limits.max_chunk_bytes = 128 * 1024;
    })
    .await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    // 3 MB: large enough to be staged in segments before the digest check fails.
    let big = vec![7u8; 3 * 1024 * 1024];
    let p = seal(&pki, a, &[b], &[("big.pdf", &big)]);
    let empty = stored(&axis).await;

    // A flipped bit in one chunk: the digest check at the end fails.
    let mut tampered = p.ciphertext.clone();
    tampered[2_000_000] ^= 1;
    let mut parts = vec![begin(&p)];
    parts.extend(tampered.chunks(64 * 1024).map(chunk));
    refused(
        submit_parts(&axis, a, parts).await,
        tonic::Code::InvalidArgument,
        "DIGEST_MISMATCH",
    );
    settles(
        &axis,
        |now| now == empty,
        "a tampered upload left something behind",
    )
    .await;

    // Truncated and extended streams.
    let mut parts = vec![begin(&p)];
    parts.extend(
        p.ciphertext[..p.ciphertext.len() - 1]
            .chunks(64 * 1024)
            .map(chunk),
    );
    refused(
        submit_parts(&axis, a, parts).await,
        tonic::Code::InvalidArgument,
        "LENGTH_MISMATCH",
    );
    let mut parts = vec![begin(&p)];
    parts.extend(p.ciphertext.chunks(64 * 1024).map(chunk));
    parts.push(chunk(b"x"));
    refused(
        submit_parts(&axis, a, parts).await,
        tonic::Code::InvalidArgument,
        "LENGTH_MISMATCH",
    );

    // Protocol: chunk first, begin twice, empty chunk, chunk over the limit.
    refused(
        submit_parts(&axis, a, vec![chunk(b"x")]).await,
        tonic::Code::InvalidArgument,
        "PROTOCOL_VIOLATION",
    );
    refused(
        submit_parts(&axis, a, vec![begin(&p), begin(&p)]).await,
        tonic::Code::InvalidArgument,
        "PROTOCOL_VIOLATION",
    );
    refused(
        submit_parts(&axis, a, vec![begin(&p), chunk(b"")]).await,
        tonic::Code::InvalidArgument,
        "PROTOCOL_VIOLATION",
    );
    refused(
        submit_parts(
            &axis,
            a,
            vec![begin(&p), chunk(&p.ciphertext[..200 * 1024])],
        )
        .await,
        tonic::Code::ResourceExhausted,
        "CHUNK_TOO_LARGE",
    );

    // A header that is not DER, a signature that does not verify, a swapped key envelope.
    let mut bad = p.begin.clone();
    bad.routing_header[3] ^= 0xff;
    refused(
        submit_parts(
            &axis,
            a,
            vec![pb::SubmitRequest {
                part: Some(pb::submit_request::Part::Begin(bad)),
            }],
        )
        .await,
        tonic::Code::InvalidArgument,
        "MALFORMED",
    );
    let other = seal(&pki, a, &[b], &[("o.pdf", b"other")]);
    let mut bad = p.begin.clone();
    bad.submission_signature = other.begin.submission_signature.clone();
    refused(
        submit_parts(
            &axis,
            a,
            vec![pb::SubmitRequest {
                part: Some(pb::submit_request::Part::Begin(bad)),
            }],
        )
        .await,
        tonic::Code::PermissionDenied,
        "SIGNATURE_INVALID",
    );
    let mut bad = p.begin.clone();
    bad.key_envelope = other.begin.key_envelope.clone();
    refused(
        submit_parts(
            &axis,
            a,
            vec![pb::SubmitRequest {
                part: Some(pb::submit_request::Part::Begin(bad)),
            }],
        )
        .await,
        tonic::Code::InvalidArgument,
        "KEY_ENVELOPE_MISMATCH",
    );

    // Recipients: over the limit (1 here), and not registered.
    let two = seal(&pki, a, &[b, &pki.agencies[2]], &[("t.pdf", b"t")]);
    refused(
        raw::submit(&axis, a, &two).await,
        tonic::Code::ResourceExhausted,
        "TOO_MANY_RECIPIENTS",
    );
    let stranger = pki
        .pki
        .agency("000.00.00.H99", "Chưa đăng ký", "Ai đó", "Văn thư")
        .unwrap();
    let to_stranger = seal(&pki, a, &[&stranger], &[("s.pdf", b"s")]);
    let e = raw::submit(&axis, a, &to_stranger).await.unwrap_err();
    assert_eq!(reason(&e), "RECIPIENT_UNKNOWN");
    assert!(e.message().contains("000.00.00.H99"), "{}", e.message());

    settles(
        &axis,
        |now| now == empty,
        "a refused submission left something behind",
    )
    .await;
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_document_is_refused_before_any_upload() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start_with(pki.clone(), |c| c.limits.max_document_bytes = 100_000).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let p = seal(&pki, a, &[b], &[("big.pdf", &vec![1u8; 200_000])]);
    // Only `begin` is sent: the refusal comes from the announced size alone.
    refused(
        submit_parts(&axis, a, vec![begin(&p)]).await,
        tonic::Code::ResourceExhausted,
        "DOCUMENT_TOO_LARGE",
    );
    let small = seal(&pki, a, &[b], &[("ok.pdf", &vec![1u8; 50_000])]);
    raw::submit(&axis, a, &small).await.unwrap();
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_upload_leaves_nothing() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let big = vec![9u8; 4 * 1024 * 1024];
    let p = seal(&pki, a, &[b], &[("big.pdf", &big)]);
    let empty = stored(&axis).await;
    // Send begin and half the ciphertext, then drop the call.
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let mut c = axis.exchange(&a.tls).await;
    let call = tokio::spawn(async move {
        c.submit(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
    });
    tx.send(begin(&p)).await.unwrap();
    for part in p.ciphertext[..p.ciphertext.len() / 2].chunks(256 * 1024) {
        tx.send(chunk(part)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    call.abort();
    drop(tx);
    tokio::time::sleep(Duration::from_millis(500)).await;
    settles(
        &axis,
        |now| now == empty,
        "an aborted upload left something behind",
    )
    .await;
    // The same message can then be submitted whole.
    raw::submit(&axis, a, &p).await.unwrap();
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_submission_gets_the_same_receipt_and_is_stored_once() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let p = seal(&pki, a, &[b], &[("d.pdf", b"the document")]);
    let first = raw::submit(&axis, a, &p).await.unwrap().receipt.unwrap();
    let second = raw::submit(&axis, a, &p).await.unwrap().receipt.unwrap();
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(first.evidence, second.evidence, "not the same receipt");
    // Concurrent repeats of a new message: one stored, every answer the same evidence.
    let q = seal(&pki, a, &[b], &[("e.pdf", b"another")]);
    let mut calls = Vec::new();
    for _ in 0..4 {
        let (axis_ref, q_ref) = (&axis, &q);
        calls.push(async move { raw::submit(axis_ref, &axis_ref.pki.agencies[0], q_ref).await });
    }
    let answers = futures_util::future::join_all(calls).await;
    let evidences: Vec<_> = answers
        .into_iter()
        .map(|r| r.unwrap().receipt.unwrap().evidence)
        .collect();
    assert!(evidences.windows(2).all(|w| w[0] == w[1]));
    settles(
        &axis,
        |(m, d, _, u, l)| (m, d, u, l) == (2, 2, 0, 2),
        "two messages, their deliveries and leaves, no upload left",
    )
    .await;
    assert_eq!(raw::pending(&axis, b, "").await.len(), 2);
    // The same id for other content is refused.
    let conflict = seal_with_id(&pki, a, &[b], &[("f.pdf", b"different")], p.message_id);
    let e = raw::submit(&axis, a, &conflict).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (tonic::Code::AlreadyExists, "MESSAGE_ID_CONFLICT")
    );
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_and_rate_limits_per_agency_have_their_own_reasons() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start_with(pki.clone(), |c| {
        c.limits.max_streams_per_agency = 1;
        c.limits.rate_per_agency = 1;
        c.limits.burst_per_agency = 4;
    })
    .await;
    let b = &pki.agencies[1];
    let mut bx = axis.exchange(&b.tls).await;
    // One open subscription is allowed; a second concurrent stream is not.
    let _held = bx
        .subscribe(pb::SubscribeRequest {
            after_cursor: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let e = bx
        .subscribe(pb::SubscribeRequest {
            after_cursor: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (tonic::Code::ResourceExhausted, "TOO_MANY_STREAMS")
    );
    // Another agency is not affected by B's streams.
    let mut ax = axis.exchange(&pki.agencies[0].tls).await;
    ax.get_limits(pb::GetLimitsRequest {}).await.unwrap();
    // B has used 2 of its burst of 4; the rest go, then the rate limit answers.
    let mut refusals = Vec::new();
    for _ in 0..4 {
        if let Err(e) = bx.get_limits(pb::GetLimitsRequest {}).await {
            refusals.push((e.code(), reason(&e)));
        }
    }
    assert_eq!(
        refusals.first(),
        Some(&(tonic::Code::ResourceExhausted, "RATE_LIMITED".to_owned()))
    );
    axis.stop().await;
}
