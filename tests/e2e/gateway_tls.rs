//! `axis-gateway`'s listener with `[tls]`: a DMS that presents a client certificate chaining to
//! `client_ca` is served over HTTPS, and sees the gateway certificate `trust-info` printed; a
//! DMS with no client certificate, or one from another PKI, gets no answer at all (the
//! handshake is refused with an alert). Off loopback without `[tls]`, the gateway does not start. The client
//! is OpenSSL, sharing nothing with the gateway's rustls.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axis_pki::demo::Issued;
use axis_pki::to_pem;
use axis_tests::gateway::{TestGateway, write_gateway_config};
use axis_tests::vxp_client::{Answer, parse_response};
use axis_tests::{TestAxis, TestPki};
use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::gateway::pki;

/// What a DMS got: the answer, and the gateway certificate it was shown.
struct Served {
    answer: Answer,
    server_cert: Vec<u8>,
}

/// A DMS's client certificate: the certificate, its key (PKCS#8) and its issuing CA.
struct ClientCert {
    cert: Vec<u8>,
    key: zeroize::Zeroizing<Vec<u8>>,
    ca: Vec<u8>,
}

fn client_cert(pki: &TestPki, who: &Issued) -> Option<ClientCert> {
    Some(ClientCert {
        cert: who.cert.clone(),
        key: who.key.to_pkcs8_der(),
        ca: pki.pki.ca.clone(),
    })
}

/// `GET path` over HTTPS as a DMS would: the gateway's certificate checked against `root` for
/// the name `localhost`; `client` presented when given. `Err` carries OpenSSL's words when the
/// connection failed or ended without an answer.
fn https_get(
    addr: SocketAddr,
    root: &[u8],
    client: Option<ClientCert>,
    path: &str,
) -> Result<Served, String> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.cert_store_mut()
        .add_cert(X509::from_der(root).unwrap())
        .unwrap();
    b.set_verify(SslVerifyMode::PEER);
    if let Some(c) = client {
        b.set_certificate(&X509::from_der(&c.cert).unwrap())
            .unwrap();
        b.add_extra_chain_cert(X509::from_der(&c.ca).unwrap())
            .unwrap();
        b.set_private_key(&PKey::private_key_from_pkcs8(&c.key).unwrap())
            .unwrap();
    }
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    let mut s = b
        .build()
        .connect("localhost", tcp)
        .map_err(|e| e.to_string())?;
    let server_cert = s.ssl().peer_certificate().unwrap().to_der().unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| e.to_string())?;
    if out.is_empty() {
        return Err("the connection closed without an answer".into());
    }
    Ok(Served {
        answer: parse_response(&out),
        server_cert,
    })
}

async fn get(
    addr: SocketAddr,
    pki: &TestPki,
    client: Option<ClientCert>,
    path: &'static str,
) -> Result<Served, String> {
    let root = pki.pki.root.clone();
    tokio::task::spawn_blocking(move || https_get(addr, &root, client, path))
        .await
        .unwrap()
}

/// Writes the listener's files: the axis's demo server certificate (named `localhost` and
/// 127.0.0.1) with its CA, its key unencrypted, and the PKI's root as the DMSs' client CA.
fn tls_section(dir: &Path, pki: &TestPki) -> String {
    let chain = format!(
        "{}{}",
        to_pem("CERTIFICATE", &pki.server_tls.cert),
        to_pem("CERTIFICATE", &pki.pki.ca)
    );
    std::fs::write(dir.join("gw.cert.pem"), chain).unwrap();
    std::fs::write(
        dir.join("gw.key.pem"),
        to_pem("PRIVATE KEY", &pki.server_tls.key.to_pkcs8_der()),
    )
    .unwrap();
    std::fs::write(dir.join("dms-ca.pem"), pki.root_pem()).unwrap();
    format!(
        "[tls]\ncert = \"{0}/gw.cert.pem\"\nkey = \"{0}/gw.key.pem\"\nclient_ca = \"{0}/dms-ca.pem\"",
        dir.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_listener_serves_a_dms_with_a_trusted_client_certificate_and_no_one_else() {
    let pki = Arc::new(pki());
    let axis = TestAxis::start(pki.clone()).await;
    let files = tempfile::tempdir().unwrap();
    let gw =
        TestGateway::start_with(&axis, &pki.agencies[0], &tls_section(files.path(), &pki)).await;
    let addr = gw.addr();
    let dms = || client_cert(&pki, &pki.agencies[0].tls);

    // A DMS with a client certificate of the PKI: served, over TLS, by the JSON API (no token
    // configured: the certificate is the credential).
    let served = get(addr, &pki, dms(), "/api/v1/directory").await.unwrap();
    assert_eq!(served.answer.status, 200);
    let ids: Vec<String> = served
        .answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&"000.00.00.H41".to_owned()), "{ids:?}");
    // The certificate it was shown is the one `trust-info` tells the DMS to pin.
    let info = axis_gateway::trust_info(&gw.config).unwrap();
    let line = info
        .lines()
        .find(|l| l.trim_start().starts_with("gateway cert"))
        .unwrap_or_else(|| panic!("no gateway cert in trust-info:\n{info}"));
    assert!(
        line.ends_with(&axis_gateway::tls::fingerprint(&served.server_cert)),
        "{line}"
    );
    assert_eq!(served.server_cert, pki.server_tls.cert);
    assert!(
        info.contains(&format!("https://{}", gw.config.listen)),
        "{info}"
    );
    assert_eq!(
        get(addr, &pki, dms(), "/healthz")
            .await
            .unwrap()
            .answer
            .status,
        200
    );

    // No client certificate: the handshake is refused, nothing is answered.
    let e = get(addr, &pki, None, "/api/v1/directory")
        .await
        .err()
        .expect("served without a client certificate");
    assert!(e.contains("certificate required"), "{e}");
    let e = get(addr, &pki, None, "/healthz")
        .await
        .err()
        .expect("healthz served without a client certificate");
    assert!(e.contains("certificate required"), "{e}");

    // A client certificate of another PKI (same kind, same agency id): refused as unknown.
    let other = TestPki::with_agencies(&[(
        "000.00.00.G22",
        "Văn phòng Chính phủ",
        "Nguyễn Cao Lục",
        "Phó Chủ nhiệm",
    )]);
    let stranger = client_cert(&other, &other.agencies[0].tls);
    let e = get(addr, &pki, stranger, "/api/v1/directory")
        .await
        .err()
        .expect("served a certificate of another PKI");
    // Its CA has the same name as ours: webpki finds our root as the issuer by name and the
    // signature fails (decrypt_error); a CA of another name would be unknown_ca.
    assert!(
        ["decrypt error", "unknown ca", "bad certificate"]
            .iter()
            .any(|alert| e.contains(&format!("alert {alert}"))),
        "{e}"
    );

    // Plain HTTP on the TLS port: no HTTP answer (at most a TLS alert).
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await;
    let mut out = Vec::new();
    let _ = plain.read_to_end(&mut out).await;
    assert!(
        !out.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&out)
    );

    gw.stop().await;
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_without_tls_the_gateway_does_not_start() {
    let pki = Arc::new(pki());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gw.db");
    let path = write_gateway_config(
        dir.path(),
        &pki,
        &pki.agencies[0],
        &["https://127.0.0.1:1".into()],
        &format!("sqlite://{}", db.display()),
        "",
    );
    // The file as written listens on loopback; move it to every interface.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("listen = \"127.0.0.1:0\"", "listen = \"0.0.0.0:0\"");
    std::fs::write(&path, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_axis-test-gateway"))
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started: {stderr}");
    assert!(stderr.contains("listen"), "{stderr}");
    assert!(stderr.contains("[tls]"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    assert!(!db.exists(), "the store was opened");
}
