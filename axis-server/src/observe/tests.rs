use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Mutex;

use tonic::codegen::Bytes;
use tower_layer::Layer as _;

use super::*;

/// A response body of fixed frames.
struct Frames(VecDeque<Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// A status as headers (`grpc-status`, `axis-reason`).
fn status(code: i32, reason: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("grpc-status", code.to_string().parse().unwrap());
    if !reason.is_empty() {
        h.insert(reasons::METADATA_KEY, reason.parse().unwrap());
    }
    h
}

/// How the service answers.
#[derive(Clone)]
enum Reply {
    /// Refused at once: the status in the headers, no body.
    Refused(i32, &'static str),
    /// A stream: one message, then the status in the trailers.
    Stream(i32, &'static str),
}

/// A gRPC service that names message `id` and answers `reply`.
#[derive(Clone)]
struct Answer(Reply, MessageId);

impl Service<http::Request<()>> for Answer {
    type Response = http::Response<Frames>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<()>) -> Self::Future {
        if let Some(n) = req.extensions().get::<MessageNote>() {
            n.set(self.1);
        }
        let (headers, frames) = match self.0 {
            Reply::Refused(code, reason) => (status(code, reason), VecDeque::new()),
            Reply::Stream(code, reason) => (
                HeaderMap::new(),
                VecDeque::from([
                    Frame::data(Bytes::from_static(b"\0\0\0\0\0")),
                    Frame::trailers(status(code, reason)),
                ]),
            ),
        };
        let mut resp = http::Response::new(Frames(frames));
        *resp.headers_mut() = headers;
        std::future::ready(Ok(resp))
    }
}

fn operator() -> Caller {
    Caller {
        agency: None,
        operator: true,
        subject: "CN=operator".into(),
        label: "operator".into(),
        remote: None,
        chain: Arc::new(Vec::new()),
        checked: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        not_after: time::OffsetDateTime::now_utc(),
    }
}

/// Calls `path` answered with `reply`, as `caller`, reading the body up to `frames` frames
/// (all of them if `None`), then dropping it.
async fn call(
    calls: &Arc<RpcCounters>,
    path: &str,
    caller: Option<Caller>,
    reply: Reply,
    frames: Option<usize>,
) {
    let id = MessageId::parse("7d0a3e0c-3b7a-4f57-9d55-5b8a2c3f1e01").unwrap();
    let mut svc = ObserveLayer::new(calls.clone()).layer(Answer(reply, id));
    let mut req = http::Request::new(());
    *req.uri_mut() = path.parse().unwrap();
    if let Some(c) = caller {
        req.extensions_mut().insert(c);
    }
    let mut body = svc.call(req).await.unwrap().into_body();
    let mut read = 0;
    while frames.is_none_or(|n| read < n) {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        if frame.is_none() {
            break;
        }
        read += 1;
    }
}

const FETCH: &str = "/axis.v1.Exchange/Fetch";
const SUBSCRIBE: &str = "/axis.v1.Exchange/Subscribe";

#[tokio::test]
async fn a_status_in_the_headers_is_counted_once_with_its_reason() {
    let calls = Arc::new(RpcCounters::new());
    call(
        &calls,
        FETCH,
        None,
        Reply::Refused(5, "MESSAGE_NOT_FOUND"),
        None,
    )
    .await;
    assert_eq!(
        calls.get(Rpc::of_path(FETCH), 5, reasons::MESSAGE_NOT_FOUND),
        1
    );
    let mut text = String::new();
    calls.render(&mut text);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("axis_rpc_requests_total"))
        .collect();
    assert_eq!(
        lines,
        [
            "axis_rpc_requests_total{rpc=\"axis.v1.Exchange/Fetch\",code=\"NOT_FOUND\",reason=\"MESSAGE_NOT_FOUND\"} 1"
        ]
    );
}

#[tokio::test]
async fn every_finished_or_abandoned_call_has_its_duration_by_method() {
    let calls = Arc::new(RpcCounters::new());
    let (fetch, subscribe) = (Rpc::of_path(FETCH), Rpc::of_path(SUBSCRIBE));
    call(
        &calls,
        FETCH,
        None,
        Reply::Refused(5, "MESSAGE_NOT_FOUND"),
        None,
    )
    .await;
    call(&calls, FETCH, None, Reply::Stream(0, ""), None).await;
    // Abandoned after one frame: timed once, on drop.
    call(&calls, SUBSCRIBE, None, Reply::Stream(0, ""), Some(1)).await;
    assert_eq!((calls.timed(fetch), calls.timed(subscribe)), (2, 1));
    let mut text = String::new();
    calls.render(&mut text);
    assert_eq!(
        text.matches("# TYPE axis_rpc_duration_seconds histogram")
            .count(),
        1
    );
    for line in [
        "axis_rpc_duration_seconds_bucket{rpc=\"axis.v1.Exchange/Fetch\",le=\"+Inf\"} 2",
        "axis_rpc_duration_seconds_count{rpc=\"axis.v1.Exchange/Fetch\"} 2",
        "axis_rpc_duration_seconds_count{rpc=\"axis.v1.Exchange/Subscribe\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    // Methods never called print no series.
    assert!(
        !text.contains("rpc=\"axis.v1.Exchange/Submit\",le="),
        "{text}"
    );
}

#[tokio::test]
async fn a_status_in_the_trailers_is_counted_when_they_pass_and_only_then() {
    let calls = Arc::new(RpcCounters::new());
    let rpc = Rpc::of_path(SUBSCRIBE);
    call(&calls, SUBSCRIBE, None, Reply::Stream(0, ""), None).await;
    call(&calls, SUBSCRIBE, None, Reply::Stream(13, "STORAGE"), None).await;
    assert_eq!(calls.get(rpc, 0, ""), 1);
    assert_eq!(calls.get(rpc, 13, reasons::STORAGE), 1);
    // A stream the client leaves before its end: cancelled, counted once.
    call(&calls, SUBSCRIBE, None, Reply::Stream(0, ""), Some(1)).await;
    assert_eq!(calls.get(rpc, 1, ""), 1);
    assert_eq!(calls.get(rpc, 0, ""), 1);
}

#[tokio::test]
async fn labels_outside_the_fixed_lists_are_other() {
    let calls = Arc::new(RpcCounters::new());
    call(&calls, "/x.Y/Z", None, Reply::Refused(12, ""), None).await;
    call(&calls, FETCH, None, Reply::Refused(99, "MADE_UP"), None).await;
    let mut text = String::new();
    calls.render(&mut text);
    assert!(
        text.contains("{rpc=\"other\",code=\"UNIMPLEMENTED\",reason=\"\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("{rpc=\"axis.v1.Exchange/Fetch\",code=\"UNKNOWN\",reason=\"other\"} 1"),
        "{text}"
    );
}

/// Log lines, captured.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    /// This thread's log capture, if its test asked for one.
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the capture of the thread that logs (nowhere if it has none).
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(c) = &*c.borrow() {
                c.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures what this thread logs from now on. The subscriber is the process's global one,
/// installed once: a thread-scoped subscriber (`set_default`) loses lines when tests on other
/// threads hit the same callsites with none and tracing caches their interest as "never".
fn capture_logs() -> Captured {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadWriter)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let captured = Captured::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(captured.clone()));
    captured
}

#[tokio::test]
async fn each_refusal_has_one_log_line_naming_caller_rpc_code_reason_and_message() {
    let captured = capture_logs();
    let calls = Arc::new(RpcCounters::new());
    call(
        &calls,
        "/axis.v1.Exchange/Recall",
        Some(operator()),
        Reply::Refused(7, "AGENCY_ONLY"),
        None,
    )
    .await;
    call(&calls, FETCH, None, Reply::Stream(3, "MALFORMED"), None).await;
    call(
        &calls,
        SUBSCRIBE,
        Some(operator()),
        Reply::Stream(0, ""),
        None,
    )
    .await;
    call(&calls, SUBSCRIBE, None, Reply::Stream(14, "STORAGE"), None).await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (line, want) in lines.iter().zip([
        [
            "INFO",
            "call refused",
            "agency=\"operator\"",
            "rpc=\"axis.v1.Exchange/Recall\"",
            "code=\"PERMISSION_DENIED\"",
            "reason=\"AGENCY_ONLY\"",
        ],
        [
            "INFO",
            "call refused",
            "agency=\"unauthenticated\"",
            "rpc=\"axis.v1.Exchange/Fetch\"",
            "code=\"INVALID_ARGUMENT\"",
            "reason=\"MALFORMED\"",
        ],
        [
            "WARN",
            "call failed",
            "agency=\"unauthenticated\"",
            "rpc=\"axis.v1.Exchange/Subscribe\"",
            "code=\"UNAVAILABLE\"",
            "reason=\"STORAGE\"",
        ],
    ]) {
        for w in want {
            assert!(line.contains(w), "{w} not in {line}");
        }
        assert!(
            line.contains("message_id=\"7d0a3e0c-3b7a-4f57-9d55-5b8a2c3f1e01\""),
            "{line}"
        );
    }
}

/// Every method of the Axis services is counted by name: a method added to a `.proto` file
/// and not to `RPCS` would be counted as `other`.
#[test]
fn every_axis_method_has_its_own_label() {
    use prost::Message as _;
    let set = prost_types::FileDescriptorSet::decode(axis_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut n = 0;
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                assert_ne!(Rpc::of_path(&path).name(), crate::metrics::OTHER, "{path}");
                n += 1;
            }
        }
    }
    assert_eq!(n, 25);
}
