//! An axis whose TLS and log-signer keys never leave a PKCS#11 token (SoftHSM 2): the
//! handshake every client makes and every tree head are signed on the token, and everything
//! still verifies against the root alone.

use std::sync::Arc;

use axis_evidence::verify_evidence;
use axis_keys::{KeyPair as _, KeyUse, Pkcs11Uri, TokenKey};
use axis_pki::demo::DemoPki;
use axis_pki::{KeyAlgorithm, Passphrase, Profile, PublicKey, Subject, to_pem};
use axis_testkit::softhsm::TestToken;
use axis_tests::{PASS, TestAxis, TestDb, TestPki, seal};
use time::OffsetDateTime;

use crate::raw;

/// Generates `object` on `token` and has the test CA certify it for `profile`; returns the
/// key's URI and the certificate file.
pub(crate) fn token_identity(
    pki: &TestPki,
    token: &TestToken,
    dir: &std::path::Path,
    object: &str,
    alg: KeyAlgorithm,
    profile: Profile,
    subject: Subject,
) -> (String, std::path::PathBuf, Vec<u8>) {
    let uri = token.uri(object);
    let key =
        TokenKey::generate(&Pkcs11Uri::parse(&uri).unwrap(), None, alg, KeyUse::Sign).unwrap();
    let public = PublicKey::from_spki_der(key.public_key_der()).unwrap();
    let cert = pki.pki.issue_for(profile, subject, 365, &public).unwrap();
    let path = dir.join(format!("{object}.cert.pem"));
    std::fs::write(&path, to_pem("CERTIFICATE", &cert)).unwrap();
    (uri, path, key.public_key_der().to_vec())
}

/// An axis whose TLS (RSA: RSA-PSS in TLS 1.3, signed on the token) and log-signer (P-256)
/// keys are on `token`; returns it, the log key's SubjectPublicKeyInfo and the directory of
/// its certificates.
pub(crate) async fn axis_on_token(
    pki: &Arc<TestPki>,
    token: &TestToken,
) -> (TestAxis, Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let (tls_uri, tls_cert, _) = token_identity(
        pki,
        token,
        dir.path(),
        "axis-tls",
        KeyAlgorithm::Rsa2048,
        Profile::AxisServerTls,
        DemoPki::server_tls_subject(),
    );
    let (log_uri, log_cert, log_spki) = token_identity(
        pki,
        token,
        dir.path(),
        "axis-log",
        KeyAlgorithm::EcdsaP256,
        Profile::AxisLogSigner,
        Subject::new("Axis log signer (token)"),
    );
    let axis = TestAxis::start_with(pki.clone(), |c| {
        c.tls.cert = tls_cert;
        c.tls.key = tls_uri.into();
        c.log_signer.cert = log_cert;
        c.log_signer.key = log_uri.into();
    })
    .await;
    (axis, log_spki, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axis_with_its_tls_and_log_keys_on_a_token_serves_and_its_evidence_verifies() {
    let pki = Arc::new(TestPki::new(2));
    let token = TestToken::new("axis");
    let (axis, log_spki, _dir) = axis_on_token(&pki, &token).await;

    let (g22, h41) = (&pki.agencies[0], &pki.agencies[1]);
    let p = seal(&pki, g22, &[h41], &[("cong-van.pdf", b"%PDF-1.7 token")]);
    let resp = raw::submit(&axis, g22, &p).await.unwrap();
    let ev = resp.receipt.unwrap().evidence.unwrap();
    // The tree head was signed by the token's log key.
    verify_evidence(
        &ev.entry,
        &ev.proof,
        &pki.store(),
        OffsetDateTime::now_utc(),
        Some(&log_spki),
    )
    .unwrap()
    .entry()
    .check_acceptance_of(&p.sealed.submission)
    .unwrap();
    let inbox = raw::pending(&axis, h41, "").await;
    assert_eq!(inbox.len(), 1);
    let ct = raw::fetch(&axis, h41, &inbox[0].message_id).await.unwrap();
    let (_, files) = raw::open(&pki, h41, &inbox[0], &ct);
    assert_eq!(files, vec![b"%PDF-1.7 token".to_vec()]);
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_pin_stops_the_start_and_says_so() {
    let pki = TestPki::new(0);
    let token = TestToken::new("axis-pin");
    let dir = tempfile::tempdir().unwrap();
    let (_, tls_cert, _) = token_identity(
        &pki,
        &token,
        dir.path(),
        "axis-tls",
        KeyAlgorithm::EcdsaP256,
        Profile::AxisServerTls,
        DemoPki::server_tls_subject(),
    );
    let wrong = dir.path().join("wrong.pin");
    std::fs::write(&wrong, "not-the-pin\n").unwrap();
    let db = TestDb::new().await;
    let mut config = pki.server_config(dir.path(), &db.url);
    config.tls.cert = tls_cert;
    config.tls.key = token.uri_without_pin("axis-tls").into();
    config.tls.passphrase_file = Some(wrong);
    let err = axis_server::start(config, &Passphrase::new(PASS.to_owned()))
        .await
        .err()
        .expect("a wrong PIN is refused")
        .to_string();
    assert!(err.contains("PIN"), "{err}");
    assert!(!err.contains("not-the-pin"), "{err}");
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_opens_token_keys_and_names_a_missing_one() {
    use axis_client::CheckLevel;
    use axis_server::check::{Database, check};
    let pki = TestPki::new(0);
    let token = TestToken::new("axis-check");
    let dir = tempfile::tempdir().unwrap();
    let (tls_uri, tls_cert, _) = token_identity(
        &pki,
        &token,
        dir.path(),
        "axis-tls",
        KeyAlgorithm::EcdsaP256,
        Profile::AxisServerTls,
        DemoPki::server_tls_subject(),
    );
    let db = TestDb::new().await;
    let mut config = pki.server_config(dir.path(), &db.url);
    std::fs::write(dir.path().join("pass"), format!("{PASS}\n")).unwrap();
    config.passphrase_file = Some(dir.path().join("pass"));
    config.tls.cert = tls_cert;
    config.tls.key = tls_uri.into();
    let now = OffsetDateTime::now_utc();
    let report = check(&config, now, Database::Skip).await;
    let fails: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.level == CheckLevel::Fail)
        .map(ToString::to_string)
        .collect();
    assert!(fails.is_empty(), "{fails:?}");

    config.tls.key = token.uri("no-such-key").into();
    let report = check(&config, now, Database::Skip).await;
    assert!(
        report.findings.iter().any(|f| f.level == CheckLevel::Fail
            && f.item.starts_with("[tls] key")
            && f.message.contains("no-such-key")),
        "{:?}",
        report
            .findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    db.drop_db().await;
}
