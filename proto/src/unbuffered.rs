//! A server-streaming response that keeps no encode buffer between messages: each message is
//! encoded into an allocation of exactly its own framed length, handed to HTTP/2 and freed
//! once sent.
//!
//! tonic's response body ([`tonic::codec::EncodeBody`]) keeps one buffer for the stream's
//! whole life and never shrinks it: after a 10 KB delivery a `Subscribe` stream held ~10 KB
//! until it closed, days later (500 subscribers of a broadcast: ~5 MB kept). A codec cannot
//! release it ([`crate::codec`]); this body replaces tonic's for the streams that stay open
//! (`Subscribe`), so an idle stream holds no buffer at all and one that has just pushed a
//! large delivery gives it back as soon as HTTP/2 has written it (`tests/encode_buffer.rs`
//! counts both). What it gives up: tonic batches several ready messages into one frame; here
//! each message is its own DATA frame (HTTP/2 still writes them out together).
//!
//! [`serve_server_streaming`] is the whole method: it decodes the one request message (as
//! tonic's `Grpc::server_streaming`, with no compression), calls the handler, and answers
//! with this body, errors as gRPC trailers.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut as _, Bytes, BytesMut};
use futures_util::Stream;
use http_body::Frame;
use prost::Message;
use tonic::Status;
use tonic::body::Body;
use tonic::codec::{Codec as _, Streaming};
use tonic::metadata::MetadataMap;

use crate::codec::AxisCodec;

/// The gRPC message prefix: one compression flag octet and a 4-octet big-endian length.
const PREFIX: usize = 5;

/// The body of a server-streaming response that encodes each message into its own allocation
/// (see the module's documentation). Ends with the `grpc-status` trailers: OK when the stream
/// ends, the stream's error when it yields one (nothing after it is polled), OUT_OF_RANGE for
/// a message longer than the encoding limit.
pub struct UnbufferedBody<S> {
    /// `None` once the trailers were sent.
    stream: Option<S>,
    max_message: usize,
}

impl<S> UnbufferedBody<S> {
    /// A body for `stream`; a message longer than `max_message` octets ends it with
    /// OUT_OF_RANGE.
    pub fn new(stream: S, max_message: usize) -> Self {
        UnbufferedBody {
            stream: Some(stream),
            max_message,
        }
    }
}

/// One message framed (prefix and encoding) in an allocation of exactly its length.
fn frame<M: Message>(message: &M, max_message: usize) -> Result<Bytes, Status> {
    let len = message.encoded_len();
    if len > max_message {
        return Err(Status::out_of_range(format!(
            "encoded message length too large: found {len} bytes, the limit is: {max_message} bytes"
        )));
    }
    let prefix =
        u32::try_from(len).map_err(|_| Status::out_of_range(format!("message of {len} octets")))?;
    let mut buf = BytesMut::with_capacity(PREFIX + len);
    buf.put_u8(0);
    buf.put_u32(prefix);
    message
        .encode(&mut buf)
        .map_err(|e| Status::internal(format!("encoding a message: {e}")))?;
    Ok(buf.freeze())
}

fn trailers(status: &Status) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    if let Err(unrepresentable) = status.add_header(&mut map) {
        // A status whose message or details cannot be a header: its code alone.
        map.clear();
        let _ = Status::new(unrepresentable.code(), "").add_header(&mut map);
    }
    map
}

impl<S, M> http_body::Body for UnbufferedBody<S>
where
    S: Stream<Item = Result<M, Status>> + Unpin,
    M: Message,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let max_message = self.max_message;
        let Some(stream) = self.stream.as_mut() else {
            return Poll::Ready(None);
        };
        let end = match Pin::new(stream).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(message))) => match frame(&message, max_message) {
                Ok(data) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                Err(status) => status,
            },
            Poll::Ready(Some(Err(status))) => status,
            Poll::Ready(None) => Status::ok(""),
        };
        // The stream is dropped with its last frame: what it holds goes with it.
        self.stream = None;
        Poll::Ready(Some(Ok(Frame::trailers(trailers(&end)))))
    }

    fn is_end_stream(&self) -> bool {
        self.stream.is_none()
    }
}

/// Serves one server-streaming gRPC method with an [`UnbufferedBody`]: decodes the single
/// request message (at most `max_decoding` octets; compressed messages are refused, as the
/// `axis.v1` services accept no compression), calls `handler` with it (headers as metadata,
/// extensions kept), and answers with its stream or its error.
pub async fn serve_server_streaming<Req, Resp, S, F, Fut>(
    request: http::Request<Body>,
    max_decoding: usize,
    max_encoding: usize,
    handler: F,
) -> http::Response<Body>
where
    Req: Message + Default + Send + 'static,
    Resp: Message + Send + 'static,
    S: Stream<Item = Result<Resp, Status>> + Unpin + Send + 'static,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<S>, Status>>,
{
    let (parts, body) = request.into_parts();
    let mut decoder = AxisCodec::<Resp, Req>::default();
    let mut messages = Streaming::new_request(decoder.decoder(), body, None, Some(max_decoding));
    let message = match messages.message().await {
        Ok(Some(m)) => m,
        Ok(None) => return Status::internal("Missing request message.").into_http(),
        Err(status) => return status.into_http(),
    };
    let mut headers = parts.headers;
    match messages.trailers().await {
        Ok(Some(t)) => headers.extend(t.into_headers()),
        Ok(None) => {}
        Err(status) => return status.into_http(),
    }
    drop(messages);
    let metadata = MetadataMap::from_headers(headers);
    let response = match handler(tonic::Request::from_parts(
        metadata,
        parts.extensions,
        message,
    ))
    .await
    {
        Ok(r) => r,
        Err(status) => return status.into_http(),
    };
    let (metadata, stream, extensions) = response.into_parts();
    let mut answer = http::Response::new(Body::new(UnbufferedBody::new(stream, max_encoding)));
    *answer.headers_mut() = metadata.into_headers();
    answer.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    *answer.extensions_mut() = extensions;
    answer
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::pin::pin;
    use std::task::Waker;

    use futures_util::stream;
    use http_body::Body as _;

    use super::*;
    use crate::v1::SubscribeRequest;

    type Item = Result<SubscribeRequest, Status>;

    fn request(cursor: &str) -> SubscribeRequest {
        SubscribeRequest {
            after_cursor: cursor.into(),
        }
    }

    /// Every frame the body yields until it ends (or waits).
    fn frames(items: Vec<Item>, max: usize) -> Vec<Frame<Bytes>> {
        let mut body = pin!(UnbufferedBody::new(stream::iter(items), max));
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        while let Poll::Ready(Some(frame)) = body.as_mut().poll_frame(&mut cx) {
            out.push(frame.unwrap());
        }
        assert!(body.is_end_stream());
        out
    }

    /// The status the trailers carry, as a client reads it (`grpc-message` is percent-encoded).
    fn status_of(frame: &Frame<Bytes>) -> (tonic::Code, String) {
        let t = frame.trailers_ref().expect("trailers");
        let status = Status::from_header_map(t).expect("grpc-status");
        (status.code(), status.message().to_owned())
    }

    #[test]
    fn each_message_is_one_framed_data_frame_of_its_own_length_then_status_ok() {
        let messages = [request("1"), request(&"7".repeat(20_000))];
        let out = frames(messages.iter().cloned().map(Ok).collect(), usize::MAX);
        assert_eq!(out.len(), 3);
        for (frame, m) in out.iter().zip(&messages) {
            let data = frame.data_ref().expect("data");
            let len = m.encoded_len();
            assert_eq!(data.len(), PREFIX + len);
            assert_eq!(data[0], 0, "not compressed");
            assert_eq!(&data[1..5], &(len as u32).to_be_bytes());
            assert_eq!(&SubscribeRequest::decode(&data[5..]).unwrap(), m);
        }
        assert_eq!(status_of(&out[2]).0, tonic::Code::Ok);
    }

    #[test]
    fn an_error_from_the_stream_ends_it_with_that_status_and_nothing_after() {
        let out = frames(
            vec![
                Ok(request("1")),
                Err(Status::unavailable("the node is stopping")),
                Ok(request("2")),
            ],
            usize::MAX,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(
            status_of(&out[1]),
            (tonic::Code::Unavailable, "the node is stopping".into())
        );
    }

    #[test]
    fn a_message_over_the_limit_ends_the_stream_out_of_range_unsent() {
        let out = frames(vec![Ok(request("12345"))], 6);
        assert_eq!(out.len(), 1, "no data frame");
        let (code, message) = status_of(&out[0]);
        assert_eq!(code, tonic::Code::OutOfRange);
        assert!(message.contains("found 7 bytes"), "{message}");
    }
}
