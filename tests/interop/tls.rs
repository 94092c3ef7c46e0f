//! Mutual TLS with every stack: Go's standard library, Java's JSSE, Python's `ssl` and
//! `openssl s_client` each parse Axis certificates, complete a mutual-TLS handshake with a real
//! axis-server, and make a real gRPC call on it (grpc.health.v1.Health/Check).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use axis_pki::demo::Issued;
use axis_pki::{KeyAlgorithm, PolicyArc, PrivateKey, Profile, to_pem};
use axis_tests::{TestAxis, TestPki};

use crate::tools::{self, assert_ok, run_async, text};

/// HealthCheckResponse { status: SERVING }: field 1, varint 1.
const SERVING: &str = "0801";

/// A client identity and the PKI's certificates, as files every stack reads.
struct Files {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Files {
    fn new(pki: &TestPki, who: &Issued) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let w = |name: &str, data: &[u8]| std::fs::write(path.join(name), data).unwrap();
        let pem = |der: &[u8]| to_pem("CERTIFICATE", der);
        w("root.der", &pki.pki.root);
        w("root.pem", pem(&pki.pki.root).as_bytes());
        w("ca.der", &pki.pki.ca);
        w("ca.pem", pem(&pki.pki.ca).as_bytes());
        w("client.der", &who.cert);
        w("client.pem", pem(&who.cert).as_bytes());
        w("chain.pem", (pem(&who.cert) + &pem(&pki.pki.ca)).as_bytes());
        let pkcs8 = who.key.to_pkcs8_der();
        w("key.pk8", &pkcs8);
        w("key.pem", to_pem("PRIVATE KEY", &pkcs8).as_bytes());
        Files { _dir: dir, path }
    }

    fn get(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

async fn axis() -> (TestAxis, Files) {
    let pki = Arc::new(TestPki::new(1));
    let axis = TestAxis::start(pki.clone()).await;
    let files = Files::new(&pki, &pki.agencies[0].tls);
    (axis, files)
}

fn go(axis_port: u16, f: &Files, extra: &[&str]) -> Command {
    let mut cmd = Command::new(tools::go_binary());
    cmd.arg("-port").arg(axis_port.to_string());
    for (flag, file) in [
        ("-root", "root.pem"),
        ("-ca", "ca.pem"),
        ("-cert", "client.pem"),
        ("-key", "key.pem"),
    ] {
        cmd.arg(flag).arg(f.get(file));
    }
    cmd.args(extra);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_standard_library_parses_axis_certificates_and_calls_the_axis_over_mutual_tls() {
    let (axis, f) = axis().await;
    let cmd = go(
        axis.addr.port(),
        &f,
        &[
            "-service",
            "axis.v1.Exchange",
            "-service",
            "axis.v1.Directory",
            "-service",
            "axis.v1.Log",
        ],
    );
    let out = assert_ok(
        &run_async(cmd, "apt-get install golang-go").await,
        "go client",
    );
    // Every certificate parsed, policies read (the default arc, components < 2^31).
    assert!(out.contains("policies=[2.999.1.1.1]"), "{out}");
    assert!(out.contains("policies=[2.999.1.1.2]"), "{out}");
    assert!(out.contains("policies=[2.999.1.1.6]"), "{out}");
    assert!(out.contains("verified client chain of 3"), "{out}");
    assert!(out.contains("alpn=h2 server=CN=localhost"), "{out}");
    for service in ["", "axis.v1.Exchange", "axis.v1.Directory", "axis.v1.Log"] {
        let line = format!("grpc service=\"{service}\" grpc-status=0 message={SERVING}");
        assert!(out.contains(&line), "{line}\n{out}");
    }
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_parses_the_default_arc_and_go_before_1_22_cannot_read_the_uuid_arc() {
    // A root under the old 2.25.<UUID> arc, as every Axis PKI had before issue #12.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let req = axis_pki::IssueRequest {
        profile: Profile::RootCa,
        subject: axis_pki::Subject::new("Old Arc Root"),
        not_before: now,
        not_after: now + time::Duration::days(30),
        serial: axis_pki::Serial::random().unwrap(),
    };
    let wide = PolicyArc::parse(axis_pki::AXIS_OID_ARC).unwrap();
    let old = axis_pki::issue_root_with_arc(&req, &wide, &key).unwrap();
    let narrow = axis_pki::issue_root(&req, &key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, der: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, to_pem("CERTIFICATE", der)).unwrap();
        p
    };
    let (old, narrow) = (write("old.pem", old.der()), write("new.pem", narrow.der()));
    let parse = |root: &Path| {
        let mut cmd = Command::new(tools::go_binary());
        cmd.arg("-parse-only").arg("-root").arg(root);
        tools::run(cmd, "apt-get install golang-go")
    };
    let o = parse(&narrow);
    let t = assert_ok(&o, "go parse of a default-arc root");
    assert!(t.contains("policies=[2.999.1.1.1]"), "{t}");
    let o = parse(&old);
    if tools::go_version() < (1, 22) {
        assert!(!o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("invalid certificate policies"),
            "{}",
            text(&o)
        );
    } else {
        assert_ok(&o, "go ≥ 1.22 parse of a UUID-arc root");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_sees_a_client_certificate_of_another_pki_refused() {
    let (axis, _) = axis().await;
    // A well-formed Axis identity, but from another PKI: the axis must refuse it.
    let stranger = TestPki::new(1);
    let mine = Files::new(&axis.pki, &axis.pki.agencies[0].tls);
    let theirs = Files::new(&stranger, &stranger.agencies[0].tls);
    let mut cmd = Command::new(tools::go_binary());
    cmd.arg("-port").arg(axis.addr.port().to_string());
    cmd.arg("-root").arg(mine.get("root.pem"));
    cmd.arg("-ca").arg(theirs.get("ca.pem"));
    cmd.arg("-cert").arg(theirs.get("client.pem"));
    cmd.arg("-key").arg(theirs.get("key.pem"));
    cmd.arg("-skip-chain-check");
    let o = run_async(cmd, "apt-get install golang-go").await;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Health/Check"), "{}", text(&o));
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_jsse_parses_axis_certificates_and_calls_the_axis_over_mutual_tls() {
    let (axis, f) = axis().await;
    let mut args = vec![axis.addr.port().to_string().into()];
    args.extend(["root.der", "client.der", "ca.der", "key.pk8"].map(|n| f.get(n).into_os_string()));
    let cmd = tools::java("JsseClient", args);
    let out = assert_ok(
        &run_async(cmd, "apt-get install openjdk-17-jdk-headless").await,
        "java JsseClient",
    );
    assert!(out.contains("parsed CN=Axis Demo Root CA"), "{out}");
    assert!(out.contains("alpn=h2 server=CN=localhost"), "{out}");
    assert!(
        out.contains(&format!(
            "grpc HTTP_2 status=200 message=0000000002{SERVING}"
        )),
        "{out}"
    );
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_ssl_parses_the_server_certificate_and_calls_the_axis_over_mutual_tls() {
    let (axis, f) = axis().await;
    let mut cmd = Command::new("python3");
    cmd.arg(tools::sources().join("python").join("tls_client.py"))
        .arg(axis.addr.port().to_string())
        .arg(f.get("root.pem"))
        .arg(f.get("chain.pem"))
        .arg(f.get("key.pem"));
    let out = assert_ok(&run_async(cmd, tools::PYTHON_INSTALL).await, "python3");
    assert!(
        out.contains("alpn=h2 server=countryName=VN, commonName=localhost"),
        "{out}"
    );
    assert!(
        out.contains("names=DNS:localhost, IP Address:127.0.0.1"),
        "{out}"
    );
    assert!(
        out.contains(&format!("grpc message=0000000002{SERVING}")),
        "{out}"
    );
    axis.stop().await;
}

/// One gRPC call over HTTP/2 as raw bytes (RFC 9113; HPACK literals, no Huffman): the client
/// preface, SETTINGS, Health/Check for "" on stream 1, then GOAWAY so the axis closes the
/// connection once it has answered.
fn h2_health_check(authority: &str) -> Vec<u8> {
    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        f.extend([kind, flags]);
        f.extend(stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    let mut headers = Vec::new();
    for (k, v) in [
        (":method", "POST"),
        (":scheme", "https"),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ] {
        headers.push(0); // literal without indexing, new name
        headers.push(k.len() as u8);
        headers.extend(k.as_bytes());
        headers.push(v.len() as u8);
        headers.extend(v.as_bytes());
    }
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(0x4, 0, 0, &[])); // SETTINGS
    out.extend(frame(0x1, 0x4, 1, &headers)); // HEADERS, END_HEADERS
    out.extend(frame(0x0, 0x1, 1, &[0; 5])); // DATA, END_STREAM: an empty request
    out.extend(frame(0x7, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0])); // GOAWAY, last stream 1
    out
}

/// The DATA payloads the server sent on stream 1, from raw HTTP/2 bytes (after the TLS layer).
fn stream1_data(mut bytes: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    while bytes.len() >= 9 {
        let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        let (kind, stream) = (
            bytes[3],
            u32::from_be_bytes(bytes[5..9].try_into().unwrap()),
        );
        let Some(payload) = bytes.get(9..9 + len) else {
            break;
        };
        if kind == 0 && stream & 0x7fff_ffff == 1 {
            data.extend_from_slice(payload);
        }
        bytes = &bytes[9 + len..];
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_completes_mutual_tls_and_calls_the_axis() {
    let (axis, f) = axis().await;
    let port = axis.addr.port();
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-quiet", "-verify_return_error", "-alpn", "h2"])
        .args(["-servername", "localhost", "-verify_hostname", "localhost"])
        .arg("-connect")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(f.get("root.pem"))
        .arg("-cert")
        .arg(f.get("client.pem"))
        .arg("-cert_chain")
        .arg(f.get("ca.pem"))
        .arg("-key")
        .arg(f.get("key.pem"));
    let request = h2_health_check(&format!("localhost:{port}"));
    let o = tokio::task::spawn_blocking(move || {
        tools::run_with_input(&mut cmd, tools::OPENSSL_INSTALL, Some(&request))
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    // -quiet: stderr has the verification, stdout only what the axis sent.
    assert!(stderr.contains("verify return:1"), "{stderr}");
    assert!(stderr.contains("CN = localhost"), "{stderr}");
    let data = stream1_data(&o.stdout);
    assert_eq!(
        hex::encode(&data),
        format!("0000000002{SERVING}"),
        "stdout {} bytes; stderr {stderr}",
        o.stdout.len()
    );
    axis.stop().await;
}
