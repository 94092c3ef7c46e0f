//! `axis-server check-config` and `axis check-config`: a sound configuration gives no problem,
//! and each mistake an operator or an agency makes gives its own FAIL line naming the item —
//! one case per failure mode. Also: keys with a passphrase of their own, as `axis-pki` writes
//! them, load in the server and in the SDK.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axis_client::{CheckLevel, CheckNetwork, CheckReport};
use axis_pki::{Passphrase, to_pem};
use axis_server::check::{Database, check};
use axis_server::config::Config;
use axis_tests::{PASS, TestAxis, TestDb, TestPki, write_agency_config};
use time::{Duration, OffsetDateTime};

/// The FAIL lines a case expects: (item prefix, part of the message).
type Fails = &'static [(&'static str, &'static str)];

/// Asserts the report has exactly the expected FAIL lines (item prefix, message part), and
/// prints it when it does not.
#[track_caller]
fn expect(report: &CheckReport, case: &str, fails: &[(&str, &str)]) {
    let text: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    let failing: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.level == CheckLevel::Fail)
        .collect();
    for (item, part) in fails {
        assert!(
            failing
                .iter()
                .any(|f| f.item.starts_with(item) && f.message.contains(part)),
            "{case}: no FAIL {item}: …{part}… in\n{}",
            text.join("\n")
        );
    }
    for f in &failing {
        assert!(
            fails.iter().any(|(item, _)| f.item.starts_with(item)),
            "{case}: unexpected {f}\n{}",
            text.join("\n")
        );
    }
    assert_eq!(report.failed(), !fails.is_empty(), "{case}");
}

/// The server's files for `pki`, with the shared passphrase in a file.
fn server_files(pki: &TestPki, dir: &Path, url: &str) -> Config {
    let mut config = pki.server_config(dir, url);
    std::fs::write(dir.join("pass"), format!("{PASS}\n")).unwrap();
    config.passphrase_file = Some(dir.join("pass"));
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_check_config_names_each_mistake() {
    let pki = TestPki::new(1);
    let db = TestDb::new().await;
    let now = OffsetDateTime::now_utc();
    type Tweak = fn(&mut Config, &Path);
    let cases: &[(&str, Tweak, Fails)] = &[
        ("sound", |_, _| {}, &[]),
        (
            "wrong passphrase",
            |_, dir| std::fs::write(dir.join("pass"), "not the passphrase").unwrap(),
            &[
                ("[tls] key", "does not decrypt"),
                ("[log_signer] key", "does not decrypt"),
            ],
        ),
        (
            "key of another certificate",
            |c, _| c.tls.key = c.log_signer.key.clone(),
            &[("[tls] key", "does not hold the key")],
        ),
        (
            "wrong profile in a slot",
            |c, _| c.tls = c.log_signer.clone(),
            &[(
                "[tls] cert",
                "is an axis-log-signer certificate; [tls] needs an axis-server-tls",
            )],
        ),
        (
            "a root the chain does not lead to",
            |c, _| {
                let other = axis_pki::demo::DemoPki::new(OffsetDateTime::now_utc()).unwrap();
                std::fs::write(&c.trust.root, to_pem("CERTIFICATE", &other.root)).unwrap();
            },
            &[
                ("[trust] intermediates", "issuer"),
                (
                    "[trust] crls",
                    "issued by the root or a configured issuing CA",
                ),
                ("CRL of", "none configured"),
                ("[tls] cert", "does not verify"),
                ("[log_signer] cert", "does not verify"),
            ],
        ),
        (
            "missing file",
            |c, dir| c.log_signer.cert = dir.join("no-such.cert.pem"),
            &[("[log_signer] cert", "no-such.cert.pem")],
        ),
        (
            "no CRL for the issuing CA",
            |c, _| c.trust.crls.truncate(1),
            &[
                ("CRL of C=VN, CN=CA for state agencies", "none configured"),
                ("[tls] cert", "CRL"),
                ("[log_signer] cert", "CRL"),
            ],
        ),
        (
            "no passphrase at all",
            |c, _| c.passphrase_file = None,
            &[
                ("[tls] key", "no passphrase"),
                ("[log_signer] key", "no passphrase"),
            ],
        ),
    ];
    for (case, tweak, fails) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut config = server_files(&pki, dir.path(), &db.url);
        tweak(&mut config, dir.path());
        let report = check(&config, now, Database::Check).await;
        expect(&report, case, fails);
    }

    // Stale CRLs: a PKI whose CRLs passed their nextUpdate ten days ago.
    let old = TestPki::new_at(1, now - Duration::days(100));
    let dir = tempfile::tempdir().unwrap();
    let config = server_files(&old, dir.path(), &db.url);
    let report = check(&config, now, Database::Skip).await;
    expect(
        &report,
        "stale CRLs",
        &[
            ("CRL of C=VN, CN=Axis Demo Root CA", "stale"),
            ("CRL of C=VN, CN=CA for state agencies", "stale"),
            ("[trust] intermediates", "CRL"),
            ("[tls] cert", "CRL"),
            ("[log_signer] cert", "CRL"),
        ],
    );
    // CRLs about to expire: a warning that says how long is left, nothing fails.
    let ageing = TestPki::new_at(1, now - Duration::days(90) + Duration::hours(12));
    let dir = tempfile::tempdir().unwrap();
    let config = server_files(&ageing, dir.path(), &db.url);
    let report = check(&config, now, Database::Skip).await;
    expect(&report, "ageing CRLs", &[]);
    let warnings: Vec<String> = report.problems().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings.iter().all(|w| w.starts_with("WARN CRL of")
            && w.contains("11 h")
            && w.contains("axis-pki crl")),
        "{warnings:?}"
    );
    db.drop_db().await;
}

/// Re-encrypts the key of a pair with its own passphrase, named in its table.
fn own_passphrase(key: &Path, pki_key: &axis_pki::PrivateKey, pass: &str) {
    std::fs::write(
        key,
        pki_key
            .to_encrypted_pem(&Passphrase::new(pass.to_owned()))
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_with_their_own_passphrases_load_in_the_server() {
    // As axis-pki gives every key its own passphrase: no shared one at all.
    let pki = Arc::new(TestPki::new(2));
    let dir = tempfile::tempdir().unwrap();
    let tls_pass = "the TLS key's own passphrase";
    // A variable the test process surely has (setting one would need `unsafe`).
    let var = ["CARGO_MANIFEST_DIR", "PATH"]
        .into_iter()
        .find(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
        .unwrap();
    let log_pass = std::env::var(var).unwrap();
    let axis = TestAxis::start_with(pki.clone(), |c| {
        let _ = dir.path();
        own_passphrase(&c.tls.key, &pki.server_tls.key, tls_pass);
        let pass_file: PathBuf = c.tls.key.with_extension("pass");
        std::fs::write(&pass_file, format!("{tls_pass}\n")).unwrap();
        c.tls.passphrase_file = Some(pass_file);
        own_passphrase(&c.log_signer.key, &pki.log.key, &log_pass);
        c.log_signer.passphrase_env = Some(var.to_owned());
    })
    .await;
    // The node runs (its harness passphrase decrypts nothing now) and the check agrees.
    let report = check(&axis.config, OffsetDateTime::now_utc(), Database::Skip).await;
    expect(&report, "own passphrases", &[]);
    // A wrong one names the key and where its passphrase came from.
    std::fs::write(axis.config.tls.passphrase_file.as_ref().unwrap(), "wrong").unwrap();
    let report = check(&axis.config, OffsetDateTime::now_utc(), Database::Skip).await;
    expect(
        &report,
        "own passphrase wrong",
        &[("[tls] key", "[tls] passphrase_file")],
    );
    axis.stop().await;
}

/// Edits one line of the agency configuration.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {text}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_check_config_names_each_mistake() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let (a, b) = (&pki.agencies[0], &pki.agencies[1]);
    let now = OffsetDateTime::now_utc();
    type Tweak = fn(&Path, &TestPki);
    let cases: &[(&str, Tweak, Fails)] = &[
        ("sound", |_, _| {}, &[]),
        (
            "wrong passphrase for one key",
            |dir, _| {
                std::fs::write(dir.join("secrets/seal.pass"), "not it").unwrap();
                edit(
                    &dir.join("axis.toml"),
                    "[seal]\n",
                    "[seal]\npassphrase_file = \"secrets/seal.pass\"\n",
                );
            },
            &[("[seal] key", "does not decrypt")],
        ),
        (
            "key of another certificate",
            |dir, _| {
                std::fs::copy(dir.join("personal.key.pem"), dir.join("seal.key.pem"))
                    .map(drop)
                    .unwrap()
            },
            &[("[seal] key", "does not hold the key")],
        ),
        (
            "wrong profile in a slot",
            |dir, _| {
                std::fs::copy(dir.join("encryption.cert.pem"), dir.join("seal.cert.pem")).unwrap();
                std::fs::copy(dir.join("encryption.key.pem"), dir.join("seal.key.pem")).unwrap();
            },
            &[(
                "[seal] cert",
                "is an agency-encryption certificate; [seal] needs an agency-seal",
            )],
        ),
        (
            "another agency's certificate",
            |dir, pki| {
                let h41 = &pki.agencies[1].encryption;
                std::fs::write(
                    dir.join("encryption.cert.pem"),
                    to_pem("CERTIFICATE", &h41.cert),
                )
                .unwrap();
                own_passphrase(&dir.join("encryption.key.pem"), &h41.key, PASS);
            },
            &[("[encryption] cert", "belongs to agency 000.00.00.H41")],
        ),
        (
            "a root the axis does not chain to",
            |dir, _| {
                let other = axis_pki::demo::DemoPki::new(OffsetDateTime::now_utc()).unwrap();
                std::fs::write(
                    dir.join("root.cert.pem"),
                    to_pem("CERTIFICATE", &other.root),
                )
                .unwrap();
            },
            &[
                ("endpoint https://", "certificate"),
                ("axis", "no endpoint answered"),
            ],
        ),
        (
            "missing file",
            |dir, _| std::fs::remove_file(dir.join("personal.cert.pem")).unwrap(),
            &[("[personal] cert", "personal.cert.pem")],
        ),
        (
            "a node that does not run",
            |dir, _| {
                let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = dead.local_addr().unwrap();
                drop(dead);
                edit(
                    &dir.join("axis.toml"),
                    "endpoints = [",
                    &format!("endpoints = [\"https://{addr}\", "),
                );
            },
            &[("endpoint https://127.0.0.1", "cannot connect")],
        ),
    ];
    for (case, tweak, fails) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = write_agency_config(dir.path(), &pki, a, &[axis.endpoint()]);
        tweak(dir.path(), &pki);
        let report = axis_client::check_config(&path, CheckNetwork::Online, now).await;
        expect(&report, case, fails);
        if fails.is_empty() {
            for item in ["[tls] cert", "[seal] key", "CRL of", "directory entry of"] {
                assert!(
                    report.findings.iter().any(|f| f.item.starts_with(item)),
                    "{case}: nothing about {item}"
                );
            }
        }
    }

    // Offline: the files only, and a warning that the rest was not checked.
    let dir = tempfile::tempdir().unwrap();
    let path = write_agency_config(dir.path(), &pki, a, &[axis.endpoint()]);
    let report = axis_client::check_config(&path, CheckNetwork::Offline, now).await;
    expect(&report, "offline", &[]);
    assert!(report.problems().any(|f| f.item == "axis"));

    // The directory lists another encryption certificate than the configuration holds.
    let dir = tempfile::tempdir().unwrap();
    let path = write_agency_config(dir.path(), &pki, b, &[axis.endpoint()]);
    let mut renewed = axis_pki::Subject::new(&b.name);
    renewed.agency_id = Some(b.id.clone());
    let renewed = pki
        .pki
        .issue(axis_pki::Profile::AgencyEncryption, renewed, 30)
        .unwrap();
    std::fs::write(
        dir.path().join("encryption.cert.pem"),
        to_pem("CERTIFICATE", &renewed.cert),
    )
    .unwrap();
    own_passphrase(&dir.path().join("encryption.key.pem"), &renewed.key, PASS);
    let report = axis_client::check_config(&path, CheckNetwork::Online, now).await;
    expect(&report, "directory differs", &[]);
    assert!(
        report
            .problems()
            .any(|f| f.item.starts_with("directory entry") && f.message.contains("encryption")),
        "{:?}",
        report.findings
    );
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agency_check_config_says_how_long_the_axis_crls_stay_current() {
    let now = OffsetDateTime::now_utc();
    let pki = Arc::new(TestPki::new_at(
        1,
        now - Duration::days(90) + Duration::hours(12),
    ));
    let axis = TestAxis::start(pki.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_agency_config(dir.path(), &pki, &pki.agencies[0], &[axis.endpoint()]);
    let report = axis_client::check_config(&path, CheckNetwork::Online, now).await;
    expect(&report, "ageing CRLs", &[]);
    let crls: Vec<String> = report
        .problems()
        .filter(|f| f.item.starts_with("CRL of"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(crls.len(), 2, "{:?}", report.findings);
    assert!(crls.iter().all(|w| w.contains("11 h")), "{crls:?}");
    axis.stop().await;
}
