//! The Exchange service as the node serves it: `Subscribe` answered with a response body that
//! keeps no encode buffer between deliveries (`axis_proto::unbuffered`), every other method by
//! the generated server.
//!
//! A `Subscribe` stream stays open for days. With tonic's own response body it kept the
//! largest delivery it had pushed, for its whole life (a 500-recipient broadcast: ~10 KB in
//! each of the 500 streams); here each delivery's frame is freed once HTTP/2 has written it,
//! and an idle stream holds no buffer at all (BENCHMARKS.md, "Encode buffer per subscriber").

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axis_proto::v1::exchange_server::{Exchange as _, ExchangeServer};
use tonic::body::Body;
use tonic::codegen::{BoxFuture, Service};
use tonic::server::NamedService;

use super::exchange::ExchangeService;

/// The path of `Subscribe`, the one method served here rather than by the generated server.
const SUBSCRIBE: &str = "/axis.v1.Exchange/Subscribe";

/// `axis.v1.Exchange`, with `Subscribe`'s response body of its own.
#[derive(Clone)]
pub(crate) struct ExchangeRoutes {
    service: Arc<ExchangeService>,
    generated: ExchangeServer<ExchangeService>,
    max_decoding: usize,
    max_encoding: usize,
}

impl ExchangeRoutes {
    /// Every method of `service`; requests of at most `max_decoding` octets, answers of at most
    /// `max_encoding` (each message of a stream).
    pub(crate) fn new(service: ExchangeService, max_decoding: usize, max_encoding: usize) -> Self {
        let service = Arc::new(service);
        ExchangeRoutes {
            generated: ExchangeServer::from_arc(service.clone())
                .max_decoding_message_size(max_decoding)
                .max_encoding_message_size(max_encoding),
            service,
            max_decoding,
            max_encoding,
        }
    }
}

impl NamedService for ExchangeRoutes {
    const NAME: &'static str = <ExchangeServer<ExchangeService> as NamedService>::NAME;
}

impl Service<http::Request<Body>> for ExchangeRoutes {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != SUBSCRIBE {
            return self.generated.call(request);
        }
        let service = self.service.clone();
        let (max_decoding, max_encoding) = (self.max_decoding, self.max_encoding);
        Box::pin(async move {
            Ok(axis_proto::unbuffered::serve_server_streaming(
                request,
                max_decoding,
                max_encoding,
                |r| async move { service.subscribe(r).await },
            )
            .await)
        })
    }
}
