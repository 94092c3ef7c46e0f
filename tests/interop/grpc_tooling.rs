//! Standard gRPC tooling against a real axis: server reflection in both versions (`v1`, and
//! `v1alpha`, the only one grpcio's client and many tools speak) lists and describes every
//! service, as grpcurl would (every file a service needs resolves by name); the health service
//! is known to reflection and answers for the server and for each Axis service by name.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axis_tests::{TestAxis, TestPki};
use prost::Message;
use prost_types::FileDescriptorProto;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// One reflection question, whichever the protocol version.
enum Ask {
    List,
    Symbol(String),
    File(String),
}

/// One reflection answer, whichever the protocol version.
#[derive(Debug)]
enum Answer {
    Services(Vec<String>),
    Files(Vec<Vec<u8>>),
    Error(i32, String),
    Other,
}

/// The same exchange in each protocol version (the two packages have the same messages).
macro_rules! reflection_client {
    ($name:ident, $pb:path) => {
        async fn $name(channel: Channel, asks: Vec<Ask>) -> Vec<Answer> {
            use pb::server_reflection_request::MessageRequest as Req;
            use pb::server_reflection_response::MessageResponse as Resp;
            use $pb as pb;
            let requests: Vec<pb::ServerReflectionRequest> = asks
                .into_iter()
                .map(|a| pb::ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(match a {
                        Ask::List => Req::ListServices(String::new()),
                        Ask::Symbol(s) => Req::FileContainingSymbol(s),
                        Ask::File(f) => Req::FileByFilename(f),
                    }),
                })
                .collect();
            let mut client = pb::server_reflection_client::ServerReflectionClient::new(channel);
            let mut stream = client
                .server_reflection_info(tokio_stream::iter(requests))
                .await
                .unwrap()
                .into_inner();
            let mut out = Vec::new();
            loop {
                let r = match stream.message().await {
                    Ok(Some(r)) => r,
                    Ok(None) => break,
                    // tonic-reflection ends the stream with the status where the protocol
                    // allows an ErrorResponse; a client sees the same code either way.
                    Err(status) => {
                        out.push(Answer::Error(status.code() as i32, status.message().into()));
                        break;
                    }
                };
                out.push(match r.message_response {
                    Some(Resp::ListServicesResponse(l)) => {
                        Answer::Services(l.service.into_iter().map(|s| s.name).collect())
                    }
                    Some(Resp::FileDescriptorResponse(f)) => Answer::Files(f.file_descriptor_proto),
                    Some(Resp::ErrorResponse(e)) => Answer::Error(e.error_code, e.error_message),
                    _ => Answer::Other,
                });
            }
            out
        }
    };
}

reflection_client!(ask_v1, tonic_reflection::pb::v1);
reflection_client!(ask_v1alpha, tonic_reflection::pb::v1alpha);

async fn ask(version: &str, channel: Channel, asks: Vec<Ask>) -> Vec<Answer> {
    match version {
        "v1" => ask_v1(channel, asks).await,
        _ => ask_v1alpha(channel, asks).await,
    }
}

/// What grpcurl does to describe a service: the file that defines it, then every file it
/// imports, transitively, each by name. Returns every file by name.
async fn describe(
    version: &str,
    channel: &Channel,
    symbol: &str,
) -> HashMap<String, FileDescriptorProto> {
    let mut files = HashMap::new();
    let mut wanted = vec![Ask::Symbol(symbol.to_owned())];
    while !wanted.is_empty() {
        for answer in ask(version, channel.clone(), std::mem::take(&mut wanted)).await {
            let Answer::Files(protos) = answer else {
                panic!("{version}: describing {symbol}: {answer:?}");
            };
            for bytes in protos {
                let f = FileDescriptorProto::decode(bytes.as_slice()).unwrap();
                for dep in &f.dependency {
                    if !files.contains_key(dep) {
                        wanted.push(Ask::File(dep.clone()));
                    }
                }
                files.insert(f.name().to_owned(), f);
            }
        }
        wanted.retain(|a| !matches!(a, Ask::File(f) if files.contains_key(f)));
    }
    files
}

fn methods_of(files: &HashMap<String, FileDescriptorProto>, service: &str) -> BTreeSet<String> {
    let (package, name) = service.rsplit_once('.').unwrap();
    files
        .values()
        .filter(|f| f.package() == package)
        .flat_map(|f| &f.service)
        .filter(|s| s.name() == name)
        .flat_map(|s| s.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1_and_v1alpha_list_and_describe_every_service() {
    let pki = Arc::new(TestPki::new(1));
    let axis = TestAxis::start(pki.clone()).await;
    let channel = axis.channel(&pki.agencies[0].tls).await;
    for version in ["v1", "v1alpha"] {
        let answers = ask(version, channel.clone(), vec![Ask::List]).await;
        let [Answer::Services(services)] = answers.as_slice() else {
            panic!("{version}: {answers:?}");
        };
        let services: BTreeSet<&str> = services.iter().map(String::as_str).collect();
        for expected in [
            "axis.v1.Exchange",
            "axis.v1.Directory",
            "axis.v1.Log",
            "grpc.health.v1.Health",
        ] {
            assert!(services.contains(expected), "{version}: {services:?}");
        }
        assert!(
            services.contains(format!("grpc.reflection.{version}.ServerReflection").as_str()),
            "{version}: {services:?}"
        );
        for (service, method) in [
            ("axis.v1.Exchange", "Submit"),
            ("axis.v1.Directory", "GetTrustMaterial"),
            ("axis.v1.Log", "GetTreeHead"),
            ("grpc.health.v1.Health", "Check"),
        ] {
            let files = describe(version, &channel, service).await;
            let methods = methods_of(&files, service);
            assert!(methods.contains(method), "{version} {service}: {methods:?}");
        }
        // An unknown symbol is NOT_FOUND, naming it.
        let answers = ask(
            version,
            channel.clone(),
            vec![Ask::Symbol("axis.v1.Nope".into())],
        )
        .await;
        match answers.as_slice() {
            [Answer::Error(5, message)] => assert!(message.contains("axis.v1.Nope"), "{message}"),
            other => panic!("{version}: {other:?}"),
        }
    }
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_for_the_server_and_each_axis_service_by_name() {
    let pki = Arc::new(TestPki::new(1));
    let axis = TestAxis::start(pki.clone()).await;
    let mut health = HealthClient::new(axis.channel(&pki.agencies[0].tls).await);
    for service in ["", "axis.v1.Exchange", "axis.v1.Directory", "axis.v1.Log"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "axis.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    axis.stop().await;
}
