//! Every gRPC call's outcome, seen in one place: a tower layer around all the services reads the
//! status a call ends with — `grpc-status` and `axis-reason` in the response headers for a call
//! refused at once, in the trailers for a call that answered (a stream refused or failing
//! midway included) — counts it in `axis_rpc_requests_total{rpc,code,reason}`
//! ([`RpcCounters`]) and writes one log line for each call that did not end `OK`:
//!
//! ```text
//! INFO call refused agency="000.00.00.G22" rpc="axis.v1.Exchange/Fetch" code="NOT_FOUND"
//!      reason="MESSAGE_NOT_FOUND" message_id="…" detail="no message … for this agency"
//! ```
//!
//! (`call failed`, at WARN, for the axis's own failures: `UNAVAILABLE`, `INTERNAL`, `UNKNOWN`,
//! `DATA_LOSS`.) A call the client abandons is counted as `CANCELLED` and not logged. Handlers
//! name the message a call is about with [`message_note`], for the log line.
//!
//! Per call this costs a path lookup in a fixed list, one small allocation (the message-id
//! slot) and one atomic add; a success is recognised from the status bytes without parsing.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axis_proto::reasons;
use axis_signer::MessageId;
use http_body::{Body, Frame, SizeHint};
use tonic::codegen::Service;
use tonic::codegen::http::{self, HeaderMap};

use crate::metrics::{Rpc, RpcCounters, code_label, reason_label};
use crate::tls::Caller;

/// The message a call is about, set by its handler once known (request extension).
#[derive(Clone, Default)]
pub(crate) struct MessageNote(Arc<OnceLock<MessageId>>);

/// Where the handler of `req` names the message it is about (a slot of its own when the
/// request did not come through the layer).
pub(crate) fn message_note<T>(req: &tonic::Request<T>) -> MessageNote {
    req.extensions()
        .get::<MessageNote>()
        .cloned()
        .unwrap_or_default()
}

impl MessageNote {
    /// Names the message, for the log line of the call's refusal (the first name stays).
    pub(crate) fn set(&self, id: MessageId) {
        let _ = self.0.set(id);
    }
}

/// The layer (`Server::builder().layer(..)`), counting into `calls`.
#[derive(Clone)]
pub(crate) struct ObserveLayer {
    calls: Arc<RpcCounters>,
}

impl ObserveLayer {
    /// Counting into `calls`.
    pub(crate) fn new(calls: Arc<RpcCounters>) -> Self {
        ObserveLayer { calls }
    }
}

impl<S> tower_layer::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            calls: self.calls.clone(),
        }
    }
}

/// The service the layer makes.
#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    calls: Arc<RpcCounters>,
}

/// One call in progress: recorded exactly once, by [`Call::finish`] or, if the call is dropped
/// before its status is known (the client went away), as `CANCELLED` on drop.
struct Call {
    calls: Arc<RpcCounters>,
    rpc: Rpc,
    caller: Option<Arc<str>>,
    note: MessageNote,
    done: bool,
    started: std::time::Instant,
}

/// `grpc-status` as a number (absent: `None`).
fn status_code(headers: &HeaderMap) -> Option<i32> {
    let v = headers.get("grpc-status")?.as_bytes();
    if v == b"0" {
        return Some(0);
    }
    Some(
        std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2),
    )
}

impl Call {
    /// Records the call's end from the headers or trailers that carry its status.
    fn finish(&mut self, code: i32, headers: &HeaderMap) {
        self.done = true;
        self.calls.observe(self.rpc, self.started.elapsed());
        if code == 0 {
            self.calls.inc(self.rpc, 0, "");
            return;
        }
        let reason = headers
            .get(reasons::METADATA_KEY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.calls.inc(self.rpc, code, reason);
        if code == tonic::Code::Cancelled as i32 {
            return;
        }
        let detail = tonic::Status::from_header_map(headers)
            .map(|s| s.message().to_owned())
            .unwrap_or_default();
        let agency = self.caller.as_deref().unwrap_or("unauthenticated");
        let (rpc, code_name, reason) = (self.rpc.name(), code_label(code), reason_label(reason));
        let message_id = self.note.0.get().map(ToString::to_string);
        let message_id = message_id.as_deref().unwrap_or("");
        let failed = [
            tonic::Code::Unknown,
            tonic::Code::Internal,
            tonic::Code::Unavailable,
            tonic::Code::DataLoss,
        ]
        .iter()
        .any(|c| *c as i32 == code);
        if failed {
            tracing::warn!(
                agency,
                rpc,
                code = code_name,
                reason,
                message_id,
                detail,
                "call failed"
            );
        } else {
            tracing::info!(
                agency,
                rpc,
                code = code_name,
                reason,
                message_id,
                detail,
                "call refused"
            );
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if !self.done {
            self.calls.observe(self.rpc, self.started.elapsed());
            self.calls.inc(self.rpc, tonic::Code::Cancelled as i32, "");
        }
    }
}

impl<S, B, ResBody> Service<http::Request<B>> for Observe<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<Observed<ResBody>>;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let note = MessageNote::default();
        let call = Call {
            calls: self.calls.clone(),
            rpc: Rpc::of_path(req.uri().path()),
            caller: req.extensions().get::<Caller>().map(|c| c.label.clone()),
            note: note.clone(),
            done: false,
            started: std::time::Instant::now(),
        };
        req.extensions_mut().insert(note);
        ObserveFuture {
            inner: self.inner.call(req),
            call: Some(call),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future: finishes the call if the headers carry its status.
    pub(crate) struct ObserveFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F, ResBody, E> std::future::Future for ObserveFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<Observed<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        Poll::Ready(match result {
            Ok(resp) => {
                if let Some(c) = call.as_mut()
                    && let Some(code) = status_code(resp.headers())
                {
                    c.finish(code, resp.headers());
                    call = None;
                }
                Ok(resp.map(|inner| Observed { inner, call }))
            }
            Err(e) => {
                if let Some(c) = call.as_mut() {
                    c.finish(tonic::Code::Unknown as i32, &HeaderMap::new());
                }
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// The response body: finishes the call when its trailers pass (a stream's status).
    pub(crate) struct Observed<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B: Body> Body for Observed<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.inner.poll_frame(cx));
        if let Some(call) = this.call.as_mut() {
            match &frame {
                Some(Ok(f)) => {
                    if let Some(trailers) = f.trailers_ref() {
                        call.finish(status_code(trailers).unwrap_or(2), trailers);
                        *this.call = None;
                    }
                }
                // The body failed (the connection broke while sending): the status never
                // reached the client.
                Some(Err(_)) => {}
                // Ended without trailers: no status, which a gRPC client reads as UNKNOWN.
                None => {
                    call.finish(tonic::Code::Unknown as i32, &HeaderMap::new());
                    *this.call = None;
                }
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests;
