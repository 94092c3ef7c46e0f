//! How much memory a `Subscribe` stream's encode buffer keeps, counted by the allocator (not
//! timed): idle, and after a backlog of deliveries was pushed to it, with `axis.v1`'s codec and
//! with tonic's default settings as the peer. One test in this binary, so nothing else
//! allocates while it counts. Figures in BENCHMARKS.md ("Encode buffer per subscriber").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axis_proto::codec::{AxisCodec, ENCODE_BUFFER_SIZE, ENCODE_YIELD_THRESHOLD};
use axis_proto::v1::{Delivery, KeyEnvelopeEntry, SubscribeRequest};
use futures_util::stream::{self, StreamExt as _};
use http_body::Body as _;
use peak_alloc::PeakAlloc;
use prost::Message as _;
use tonic::Status;
use tonic::codec::{Codec, EncodeBody, Encoder, SingleMessageCompressionOverride};
use tonic_prost::ProstCodec;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// A delivery of about `octets` encoded octets (2,444 for one recipient, ≈ 10,200 for a
/// 500-recipient broadcast: BENCHMARKS.md, "Bytes per delivery").
fn delivery(octets: usize, n: usize) -> Delivery {
    Delivery {
        cursor: format!("{n:020}"),
        message_id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        sender: "000.00.00.G22".into(),
        routing_header: vec![0x30; octets.saturating_sub(900)],
        submission_signature: vec![0x30; 72],
        size: 10_000,
        accepted_at: None,
        key_envelope_entry: Some(KeyEnvelopeEntry {
            entry: vec![0x30; 350],
            index: 0,
            path: vec![vec![0xab; 32]; 9],
        }),
    }
}

/// Heap octets a server stream keeps after sending `backlog` (all ready at once, then the
/// stream idles), every frame sent and dropped.
fn kept<E: Encoder<Item = Delivery, Error = Status>>(encoder: E, backlog: &[usize]) -> usize {
    let sizes = backlog.to_vec();
    let before = HEAP.current_usage();
    let source = stream::iter(sizes.into_iter().enumerate())
        .map(|(n, octets)| Ok(delivery(octets, n)))
        .chain(stream::pending());
    let mut body = pin!(EncodeBody::new_server(
        encoder,
        source,
        None,
        SingleMessageCompressionOverride::default(),
        None,
    ));
    let mut cx = Context::from_waker(Waker::noop());
    let mut sent = 0usize;
    loop {
        match body.as_mut().poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => sent += frame.into_data().unwrap().len(),
            Poll::Ready(other) => panic!("the stream ended: {:?}", other.map(|r| r.err())),
            Poll::Pending => break,
        }
    }
    let expected: usize = (backlog.iter().enumerate())
        .map(|(n, &o)| delivery(o, n).encoded_len() + 5)
        .sum();
    assert_eq!(sent, expected, "every delivery sent, framed");
    HEAP.current_usage() - before
}

fn axis() -> <AxisCodec<Delivery, SubscribeRequest> as Codec>::Encoder {
    AxisCodec::<Delivery, SubscribeRequest>::default().encoder()
}

fn tonic_default() -> <ProstCodec<Delivery, SubscribeRequest> as Codec>::Encoder {
    ProstCodec::<Delivery, SubscribeRequest>::default().encoder()
}

#[test]
fn a_subscribe_stream_keeps_a_small_encode_buffer_idle_and_after_a_backlog() {
    let idle = (kept(axis(), &[]), kept(tonic_default(), &[]));
    let one = (kept(axis(), &[2_444]), kept(tonic_default(), &[2_444]));
    let broadcast = (kept(axis(), &[10_244]), kept(tonic_default(), &[10_244]));
    let backlog: Vec<usize> = std::iter::repeat_n(2_444, 100).chain([10_244]).collect();
    let after_backlog = (kept(axis(), &backlog), kept(tonic_default(), &backlog));
    println!("encode buffer kept, octets (axis codec, tonic default):");
    println!("  idle                     {idle:?}");
    println!("  after one delivery       {one:?}");
    println!("  after a 500-recipient one {broadcast:?}");
    println!("  after 100 + 1 at once    {after_backlog:?}");

    // Idle: the initial capacity, an eighth of tonic's.
    assert!(idle.0 <= ENCODE_BUFFER_SIZE + 64, "{idle:?}");
    assert!(idle.1 >= 8 * 1024, "the peer: {idle:?}");
    // After a backlog pushed at once: about the yield threshold plus the largest delivery
    // (tonic's default: up to twice 32 KiB plus it).
    assert!(
        after_backlog.0 <= ENCODE_YIELD_THRESHOLD + 10_300 + 4096,
        "{after_backlog:?}"
    );
    assert!(after_backlog.0 < after_backlog.1, "{after_backlog:?}");
    // After one delivery: about the delivery, never more than tonic's default would keep.
    assert!(
        one.0 <= one.1 && broadcast.0 <= broadcast.1,
        "{one:?} {broadcast:?}"
    );
    assert!(broadcast.0 <= 10_244 + 1024, "{broadcast:?}");
}
