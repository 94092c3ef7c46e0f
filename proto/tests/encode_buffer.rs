//! How much memory a `Subscribe` stream's encode buffer keeps, counted by the allocator (not
//! timed): idle, and after a backlog of deliveries was pushed to it, with the body the node
//! serves `Subscribe` with (`unbuffered`), with tonic's body and `axis.v1`'s codec (every other
//! stream), and with tonic's default settings as the peer. One test in this binary, so nothing else
//! allocates while it counts. Figures in BENCHMARKS.md ("Encode buffer per subscriber").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axis_proto::codec::{AxisCodec, ENCODE_BUFFER_SIZE, ENCODE_YIELD_THRESHOLD};
use axis_proto::unbuffered::UnbufferedBody;
use axis_proto::v1::{Delivery, KeyEnvelopeEntry, SubscribeRequest};
use futures_util::stream::{self, StreamExt as _};
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
    kept_by(backlog, |source| {
        EncodeBody::new_server(
            encoder,
            source,
            None,
            SingleMessageCompressionOverride::default(),
            None,
        )
    })
}

/// The same with the body `Subscribe` is served with.
fn kept_unbuffered(backlog: &[usize]) -> usize {
    kept_by(backlog, |source| UnbufferedBody::new(source, usize::MAX))
}

/// The deliveries of a backlog, ready at once, then nothing more.
type Source = stream::Chain<
    stream::Map<
        stream::Iter<std::iter::Enumerate<std::vec::IntoIter<usize>>>,
        fn((usize, usize)) -> Result<Delivery, Status>,
    >,
    stream::Pending<Result<Delivery, Status>>,
>;

fn delivery_at((n, octets): (usize, usize)) -> Result<Delivery, Status> {
    Ok(delivery(octets, n))
}

fn kept_by<B>(backlog: &[usize], body: impl FnOnce(Source) -> B) -> usize
where
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: std::fmt::Debug,
{
    // Counted from before the backlog's own list: the stream frees it once it has yielded it.
    let before = HEAP.current_usage();
    let sizes = backlog.to_vec();
    let source: Source = stream::iter(sizes.into_iter().enumerate())
        .map(delivery_at as fn((usize, usize)) -> Result<Delivery, Status>)
        .chain(stream::pending());
    let mut body = pin!(body(source));
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

/// The least of three counts: the allocator counts every thread, and the test harness's own
/// thread allocates once when it first waits for the test (CI saw 144 octets more, once, at a
/// load of 4), which can fall inside a count on a busy machine; another thread only ever adds.
fn least(count: impl Fn() -> usize) -> usize {
    (0..3).map(|_| count()).min().unwrap()
}

#[test]
fn a_subscribe_stream_keeps_a_small_encode_buffer_idle_and_after_a_backlog() {
    let both = |backlog: &[usize]| {
        (
            least(|| kept(axis(), backlog)),
            least(|| kept(tonic_default(), backlog)),
        )
    };
    let idle = both(&[]);
    let one = both(&[2_444]);
    let broadcast = both(&[10_244]);
    let backlog: Vec<usize> = std::iter::repeat_n(2_444, 100).chain([10_244]).collect();
    let after_backlog = both(&backlog);
    let unbuffered = [
        least(|| kept_unbuffered(&[])),
        least(|| kept_unbuffered(&[2_444])),
        least(|| kept_unbuffered(&[10_244])),
        least(|| kept_unbuffered(&backlog)),
    ];
    println!(
        "Subscribe's body (unbuffered), octets kept idle / after one / after a 500-recipient one / after 100 + 1: {unbuffered:?}"
    );
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
    // Subscribe's own body keeps nothing once its frames are sent: not idle, not after the
    // largest delivery, not after a backlog (where tonic's body keeps its whole buffer).
    assert_eq!(unbuffered, [0; 4], "the codec's body kept {broadcast:?}");
}
