//! A deployment where no private key exists outside a PKCS#11 token (SoftHSM 2): two agencies
//! whose TLS, seal, personal and encryption keys are each on their agency's token — one all
//! RSA (OAEP unwrapped on the token), one all P-256 (ECDH on the token) — exchange documents
//! through an axis whose TLS and log-signer keys are on a third token, through the SDK as a DMS
//! uses it, configured from `axis.toml` files that name every key by `pkcs11:` URI. And the
//! ways a token key fails each give their own error and reason.

use std::sync::Arc;

use axis_client::{CheckLevel, CheckNetwork, Client, ClientConfig, ErrorKind, StatusCode};
use axis_keys::{KeyPair as _, KeyUse, Pkcs11Uri, TokenKey, reasons};
use axis_pki::{AgencyId, KeyAlgorithm, Profile, Subject};
use axis_testkit::softhsm::TestToken;
use axis_tests::gateway::TestGateway;
use axis_tests::vxp_client::Body;
use axis_tests::{TestAxis, TestPki, register_token_agencies, token_agency, token_agency_named};
use time::OffsetDateTime;

use crate::sdk::{document_to, next_delivery};
use crate::tokens::axis_on_token;

/// Sends one document from `from` to `to` and has `to` receive, open, acknowledge and accept
/// it; `from` then reads the verified history.
async fn exchange(from: &Client, to: &Client, to_id: &AgencyId, body: &[u8]) {
    let sent = from
        .send(document_to(to_id, "cong-van.pdf", body))
        .await
        .unwrap();
    let mut inbox = to.inbox(None);
    let d = next_delivery(&mut inbox, 10).await;
    assert_eq!(d.message_id, sent.message_id);
    // The key envelope is opened on the recipient's token.
    let (opened, files) = to.open_in_memory(&d).await.unwrap();
    assert_eq!(files, vec![body.to_vec()]);
    to.acknowledge(&opened).await.unwrap();
    to.send_status(&sent.message_id, StatusCode::Accepted, "Đã vào sổ")
        .await
        .unwrap();
    let history = from.history(&sent.message_id).await.unwrap();
    let t = &history.timelines[0];
    assert_eq!(&t.recipient, to_id);
    let statuses: Vec<StatusCode> = t.events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![StatusCode::Arrived, StatusCode::Accepted]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agencies_and_an_axis_with_every_key_on_a_token_exchange_documents() {
    let pki = Arc::new(TestPki::new(0));
    let (axis_token, g22_token, h41_token) = (
        TestToken::new("axis"),
        TestToken::new("g22"),
        TestToken::new("h41"),
    );
    let (axis, _, _axis_dir) = axis_on_token(&pki, &axis_token).await;
    let dir = tempfile::tempdir().unwrap();
    let endpoints = [axis.endpoint()];
    let g22 = token_agency(
        &pki,
        &g22_token,
        &dir.path().join("g22"),
        "000.00.00.G22",
        KeyAlgorithm::Rsa2048,
        &endpoints,
    );
    let h41 = token_agency(
        &pki,
        &h41_token,
        &dir.path().join("h41"),
        "000.00.00.H41",
        KeyAlgorithm::EcdsaP256,
        &endpoints,
    );
    register_token_agencies(axis.addr, &pki, &[&g22, &h41]).await;
    // No key file anywhere: every configured key is a URI.
    for a in [&g22, &h41] {
        let text = std::fs::read_to_string(&a.config).unwrap();
        assert_eq!(text.matches("key = \"pkcs11:").count(), 4, "{text}");
        assert!(!text.contains("passphrase"), "{text}");
    }

    // check-config opens each key on its token and finds it is its certificate's.
    let report =
        axis_client::check_config(&g22.config, CheckNetwork::Online, OffsetDateTime::now_utc())
            .await;
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert!(!report.failed(), "{}", lines.join("\n"));
    for table in ["tls", "seal", "personal", "encryption"] {
        assert!(
            report.findings.iter().any(|f| f.level == CheckLevel::Ok
                && f.item == format!("[{table}] key")
                && f.message.contains("pkcs11:")
                && f.message.contains("is the certificate's key")),
            "{table}: {}",
            lines.join("\n")
        );
    }

    let g = Client::connect(ClientConfig::from_file(&g22.config).unwrap())
        .await
        .unwrap();
    let h = Client::connect(ClientConfig::from_file(&h41.config).unwrap())
        .await
        .unwrap();
    // G22 (RSA on its token) to H41 (ECDH on its token), and back (RSA-OAEP on G22's token).
    exchange(&g, &h, &h41.id, &b"%PDF-1.7 tu G22".repeat(50)).await;
    exchange(&h, &g, &g22.id, &b"%PDF-1.7 tu H41".repeat(50)).await;
    axis.stop().await;
}

/// `axis.toml` of `a` with one table's key line replaced.
fn with_key(config: &std::path::Path, table: &str, key_line: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(config).unwrap();
    let header = format!("[{table}]\n");
    let start = text.find(&header).unwrap() + header.len();
    let key_start = start + text[start..].find("key = ").unwrap();
    let key_end = key_start + text[key_start..].find('\n').unwrap();
    let out = config.with_file_name(format!("axis-{table}.toml"));
    std::fs::write(
        &out,
        format!("{}{key_line}{}", &text[..key_start], &text[key_end..]),
    )
    .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_an_absent_token_and_a_key_of_the_wrong_type_each_say_so() {
    let pki = Arc::new(TestPki::new(0));
    let axis = TestAxis::start(pki.clone()).await;
    let token = TestToken::new("g22-bad");
    let dir = tempfile::tempdir().unwrap();
    let g22 = token_agency(
        &pki,
        &token,
        dir.path(),
        "000.00.00.G22",
        KeyAlgorithm::Rsa2048,
        &[axis.endpoint()],
    );
    register_token_agencies(axis.addr, &pki, &[&g22]).await;

    // A wrong PIN (from the key's own passphrase_file): refused when the configuration is
    // loaded, without echoing it.
    let wrong = dir.path().join("wrong.pin");
    std::fs::write(&wrong, "not-the-pin\n").unwrap();
    let config = with_key(
        &g22.config,
        "seal",
        &format!(
            "key = \"{}\"\npassphrase_file = \"{}\"",
            token.uri_without_pin("000.00.00.G22-seal"),
            wrong.display()
        ),
    );
    let e = ClientConfig::from_file(&config).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::Config, "{e}");
    assert_eq!(e.reason(), Some(reasons::TOKEN_PIN_INCORRECT), "{e}");
    assert!(e.to_string().contains("[seal] key"), "{e}");
    assert!(e.to_string().contains("wrong PIN"), "{e}");
    assert!(!e.to_string().contains("not-the-pin"), "{e}");

    // A token that is not there (another label): named, with the tokens that are.
    let absent = token
        .uri("000.00.00.G22-seal")
        .replace(&format!("token={}", token.label), "token=g22-unplugged");
    let config = with_key(&g22.config, "seal", &format!("key = \"{absent}\""));
    let e = ClientConfig::from_file(&config).unwrap_err();
    assert_eq!(e.reason(), Some(reasons::TOKEN_NOT_PRESENT), "{e}");
    assert!(e.to_string().contains("g22-unplugged"), "{e}");

    // A key that is not on the token.
    let config = with_key(
        &g22.config,
        "personal",
        &format!("key = \"{}\"", token.uri("no-such-key")),
    );
    let e = ClientConfig::from_file(&config).unwrap_err();
    assert_eq!(e.reason(), Some(reasons::TOKEN_KEY_NOT_FOUND), "{e}");

    let generate = |label: &str, alg: KeyAlgorithm, usage: KeyUse| {
        let uri = token.uri(label);
        let key = TokenKey::generate(&Pkcs11Uri::parse(&uri).unwrap(), None, alg, usage).unwrap();
        (uri, key)
    };

    // An EC key where the [encryption] certificate is RSA (OAEP is needed): refused at connect,
    // before any document, as a key of the wrong type.
    {
        let (uri, _) = generate("ec-decrypt", KeyAlgorithm::EcdsaP256, KeyUse::Decrypt);
        let config = with_key(&g22.config, "encryption", &format!("key = \"{uri}\""));
        let e = Client::connect(ClientConfig::from_file(&config).unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.reason(), Some(reasons::TOKEN_KEY_WRONG_TYPE), "{e}");
        assert!(e.to_string().contains("[encryption] key"), "{e}");
    }

    // The right certificate's key, but generated to sign only: it may not decrypt, and says so.
    {
        let (uri, key) = generate("rsa-sign-only", KeyAlgorithm::Rsa2048, KeyUse::Sign);
        let public = axis_pki::PublicKey::from_spki_der(key.public_key_der()).unwrap();
        let mut subject = Subject::new(&g22.name);
        subject.agency_id = Some(g22.id.clone());
        let cert = pki
            .pki
            .issue_for(Profile::AgencyEncryption, subject, 365, &public)
            .unwrap();
        let cert_path = dir.path().join("sign-only.cert.pem");
        std::fs::write(&cert_path, axis_pki::to_pem("CERTIFICATE", &cert)).unwrap();
        let config = with_key(&g22.config, "encryption", &format!("key = \"{uri}\""));
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("encryption.cert.pem", &cert_path.display().to_string());
        std::fs::write(&config, text).unwrap();
        let e = Client::connect(ClientConfig::from_file(&config).unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.reason(), Some(reasons::TOKEN_KEY_WRONG_TYPE), "{e}");
        assert!(e.to_string().contains("not allowed to decrypt"), "{e}");
    }
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_whose_agency_keys_are_on_a_token_sends() {
    let pki = Arc::new(TestPki::with_agencies(&[(
        "000.00.00.H41",
        "UBND tỉnh Nghệ An",
        "Nguyễn Thị Hoa",
        "Phó Chủ tịch",
    )]));
    let axis = TestAxis::start(pki.clone()).await;
    let token = TestToken::new("g22-gw");
    let dir = tempfile::tempdir().unwrap();
    let g22 = token_agency_named(
        &pki,
        &token,
        dir.path(),
        (
            "000.00.00.G22",
            "Văn phòng Chính phủ",
            "Nguyễn Cao Lục",
            "Phó Chủ nhiệm",
        ),
        KeyAlgorithm::EcdsaP256,
        &[axis.endpoint()],
    );
    register_token_agencies(axis.addr, &pki, &[&g22]).await;
    // G22's gateway reads an axis.toml whose every key is a URI; H41's has key files.
    let gw_a = TestGateway::start_for(&g22.config).await;
    let gw_b = TestGateway::start(&axis, &pki.agencies[0]).await;
    let package = crate::gateway::edoc_to("000.00.00.H41", "UBND tỉnh Nghệ An");
    let sent = gw_a
        .dms()
        .send_edoc("000.00.00.G22", "edoc", &package, Body::Raw)
        .await
        .json();
    assert_eq!(sent["status"], "OK", "{sent}");
    let items = gw_b.dms().wait_for("edoc", 1).await;
    assert_eq!(items[0]["from"], "000.00.00.G22");
    gw_a.stop().await;
    gw_b.stop().await;
    axis.stop().await;
}
