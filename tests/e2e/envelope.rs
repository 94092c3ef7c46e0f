//! The key envelope on the wire (issue #18): each recipient is delivered its own entry with its
//! audit path, never the others'; the sender's history keeps the whole envelope; a routing
//! header of the retired version 1 is refused by name.

use std::sync::Arc;

use axis_pki::Profile;
use axis_proto::v1 as pb;
use axis_signer::{KeyEnvelope, Signer, cms};
use axis_tests::{Package, TestAxis, TestPki, reason, seal};
use prost::Message as _;
use time::OffsetDateTime;

use crate::raw;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_recipient_is_delivered_its_own_entry_and_opens_with_it() {
    let pki = Arc::new(TestPki::new(4));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, rest) = (&pki.agencies[0], &pki.agencies[1..]);
    let to: Vec<_> = rest.iter().collect();
    let p = seal(&pki, a, &to, &[("t.pdf", b"for three")]);
    raw::submit(&axis, a, &p).await.unwrap();
    let envelope = KeyEnvelope::parse(&p.begin.key_envelope).unwrap();
    for (i, who) in rest.iter().enumerate() {
        let ds = raw::pending(&axis, who, "").await;
        assert_eq!(ds.len(), 1);
        let d = &ds[0];
        let e = d.key_envelope_entry.as_ref().unwrap();
        // Its own entry at its place, with its path (3 leaves: 2, 2 and 1 hashes)…
        assert_eq!((e.index as usize, e.path.len()), (i, [2, 2, 1][i]));
        assert_eq!(e.entry, envelope.entry(i).unwrap());
        // …and none of the others' (they are not anywhere in the message).
        let bytes = d.encode_to_vec();
        for j in (0..rest.len()).filter(|&j| j != i) {
            let other = envelope.entry(j).unwrap();
            assert!(
                !bytes.windows(other.len()).any(|w| w == other),
                "{} was sent entry {j}",
                who.id
            );
        }
        // It opens with it, all checks of the real signer included.
        let ct = raw::fetch(&axis, who, &d.message_id).await.unwrap();
        let (_, files) = raw::open(&pki, who, d, &ct);
        assert_eq!(files, vec![b"for three".to_vec()]);
        // Its history gives it the same entry, not the envelope.
        let h = axis
            .exchange(&who.tls)
            .await
            .get_history(pb::GetHistoryRequest {
                message_id: d.message_id.clone(),
                completeness: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(h.key_envelope.is_empty());
        assert_eq!(h.key_envelope_entry.as_ref(), Some(e));
    }
    // The sender's history keeps the whole envelope it submitted.
    let h = axis
        .exchange(&a.tls)
        .await
        .get_history(pb::GetHistoryRequest {
            message_id: p.message_id.to_string(),
            completeness: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.key_envelope, p.begin.key_envelope);
    assert!(h.key_envelope_entry.is_none());
    axis.stop().await;
}

/// The version-1 form of `header` (v2): the key envelope's SHA-256 and length in place of the
/// root, as an SDK before issue #18 wrote it.
fn version_1(header: &axis_signer::RoutingHeader, envelope: &[u8]) -> Vec<u8> {
    use cms::der;
    let recipients: Vec<u8> = header
        .recipients
        .iter()
        .flat_map(|r| der::utf8(r.as_str()))
        .collect();
    let binding = der::seq(&[
        &der::octets(header.message_id.as_bytes()),
        &der::utf8(header.sender.as_str()),
        &der::tlv(der::SEQUENCE, &recipients),
        &der::uint(u64::from(header.priority.code())),
        &der::uint(u64::from(header.chunk_size)),
        &der::octets(&header.key_commitment),
        &der::octets(&cms::sha256(envelope)),
        &der::uint(envelope.len() as u64),
    ]);
    der::seq(&[
        &der::oid(cms::Format::RoutingHeader.oid()),
        &der::uint(1),
        &binding,
        &der::uint(header.ciphertext_len),
        &der::octets(&header.ciphertext_digest),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_routing_header_is_refused_as_retired() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let p = seal(&pki, a, &[b], &[("t.pdf", b"old sdk")]);
    let header = version_1(p.sealed.submission.header().header(), &p.begin.key_envelope);
    let seal_cert = pki.verified(&a.seal.cert, Profile::AgencySeal);
    let signature = cms::sign(
        &header,
        &Signer::new(&a.seal.key, &seal_cert).unwrap(),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let mut begin = p.begin.clone();
    begin.routing_header = header;
    begin.submission_signature = signature;
    let old = Package {
        begin,
        ciphertext: p.ciphertext.clone(),
        sealed: p.sealed.clone(),
        document: p.document.clone(),
        message_id: p.message_id,
    };
    let s = raw::submit(&axis, a, &old).await.unwrap_err();
    assert_eq!(
        (s.code(), reason(&s).as_str()),
        (
            tonic::Code::InvalidArgument,
            axis_client::reasons::FORMAT_VERSION_RETIRED
        ),
        "{s:?}"
    );
    assert!(
        s.message().contains("version 1") && s.message().contains("current SDK"),
        "{}",
        s.message()
    );
    // The same document sealed now goes through.
    raw::submit(&axis, a, &p).await.unwrap();
    axis.stop().await;
}
