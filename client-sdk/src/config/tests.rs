#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use axis_pki::{Passphrase, Profile, to_pem};

use super::*;
use crate::ErrorKind;
use axis_testkit::demo::{NOW, demo_world as fixture};

const PASS: &str = "correct horse battery staple";

/// The four G22 key files, encrypted once (600,000 PBKDF2 rounds each).
fn key_pems() -> &'static [String; 4] {
    static K: OnceLock<[String; 4]> = OnceLock::new();
    K.get_or_init(|| {
        let g = &fixture().g22;
        let pass = Passphrase::new(PASS.to_owned());
        [&g.tls, &g.seal, &g.personal, &g.encryption]
            .map(|c| c.key.to_encrypted_pem(&pass).unwrap().to_string())
    })
}

/// A configuration directory as an agency would lay it out: the TOML file in `conf/`, the PKI
/// files in `pki/`, the passphrase in `secrets/`, referred to by relative paths.
fn layout(toml_extra: &str) -> tempfile::TempDir {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for d in ["conf", "pki/g22", "secrets"] {
        std::fs::create_dir_all(p.join(d)).unwrap();
    }
    std::fs::write(
        p.join("pki/root.cert.pem"),
        to_pem("CERTIFICATE", &f.pki.root),
    )
    .unwrap();
    std::fs::write(p.join("secrets/g22.pass"), format!("{PASS}\n")).unwrap();
    let g = &f.g22;
    for (name, cred, key) in [
        ("tls", &g.tls, &key_pems()[0]),
        ("seal", &g.seal, &key_pems()[1]),
        ("personal", &g.personal, &key_pems()[2]),
        ("encryption", &g.encryption, &key_pems()[3]),
    ] {
        // The TLS file holds the chain (leaf, then the issuing CA).
        let mut pem = to_pem("CERTIFICATE", &cred.cert);
        if name == "tls" {
            pem.push_str(&to_pem("CERTIFICATE", &f.pki.ca));
        }
        std::fs::write(p.join(format!("pki/g22/{name}.cert.pem")), pem).unwrap();
        std::fs::write(p.join(format!("pki/g22/{name}.key.pem")), key).unwrap();
    }
    let toml = format!(
        r#"agency = "000.00.00.G22"
endpoint = "https://127.0.0.1:7443"
server_name = "localhost"
root = "../pki/root.cert.pem"
passphrase_file = "../secrets/g22.pass"
{toml_extra}
[tls]
cert = "../pki/g22/tls.cert.pem"
key = "../pki/g22/tls.key.pem"
[seal]
cert = "../pki/g22/seal.cert.pem"
key = "../pki/g22/seal.key.pem"
[personal]
cert = "../pki/g22/personal.cert.pem"
key = "../pki/g22/personal.key.pem"
[encryption]
cert = "../pki/g22/encryption.cert.pem"
key = "../pki/g22/encryption.key.pem"
"#
    );
    std::fs::write(p.join("conf/g22.toml"), toml).unwrap();
    dir
}

#[track_caller]
fn config_error(r: Result<ClientConfig>, expected: &[&str]) {
    let e = r.unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Config, "{e}");
    for s in expected {
        assert!(e.message().contains(s), "{s:?} not in: {e}");
    }
}

#[test]
fn loads_a_full_configuration_with_paths_relative_to_its_file() {
    let dir = layout("connect_timeout_secs = 3");
    let c = ClientConfig::from_file(dir.path().join("conf/g22.toml")).unwrap();
    let f = fixture();
    assert_eq!(c.agency.as_ref().unwrap().as_str(), "000.00.00.G22");
    assert_eq!(c.endpoint, "https://127.0.0.1:7443");
    assert_eq!(c.server_name, "localhost");
    assert_eq!(c.root, f.pki.root);
    assert_eq!(c.tls.chain(), [f.g22.tls.cert.clone(), f.pki.ca.clone()]);
    assert_eq!(c.tls.certificate(), f.g22.tls.cert);
    assert_eq!(c.connect_timeout, Duration::from_secs(3));
    assert!(c.log_key.is_none());
    // Every key decrypted and is the one of its certificate.
    for (cred, profile) in [
        (&c.tls, Profile::AgencyTlsClient),
        (c.seal.as_ref().unwrap(), Profile::AgencySeal),
        (c.personal.as_ref().unwrap(), Profile::PersonalSigner),
        (c.encryption.as_ref().unwrap(), Profile::AgencyEncryption),
    ] {
        let v = f.store.verify(cred.certificate(), profile, NOW).unwrap();
        assert_eq!(cred.key().public_key_der(), v.public_key_der());
    }
    // Nothing secret in Debug output.
    let debug = format!("{c:?}");
    assert!(debug.contains("[private key]") && !debug.contains("PRIVATE"));
}

#[test]
fn optional_credentials_may_be_left_out() {
    let dir = layout("");
    let path = dir.path().join("conf/g22.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.find("[seal]").unwrap();
    let c = ClientConfig::from_toml(&text[..cut], &dir.path().join("conf")).unwrap();
    assert!(c.seal.is_none() && c.personal.is_none() && c.encryption.is_none());
}

#[test]
fn a_missing_file_names_the_setting_and_the_path_it_tried() {
    let dir = layout("");
    std::fs::remove_file(dir.path().join("pki/root.cert.pem")).unwrap();
    config_error(
        ClientConfig::from_file(dir.path().join("conf/g22.toml")),
        &[
            "root",
            "root.cert.pem",
            "relative to the configuration file's directory",
        ],
    );
    config_error(
        ClientConfig::from_file(dir.path().join("conf/nope.toml")),
        &["configuration file", "nope.toml", "No such file"],
    );
}

#[test]
fn a_wrong_passphrase_says_which_key_and_where_the_passphrase_came_from() {
    let dir = layout("");
    std::fs::write(dir.path().join("secrets/g22.pass"), "not the passphrase\n").unwrap();
    config_error(
        ClientConfig::from_file(dir.path().join("conf/g22.toml")),
        &[
            "[tls] key",
            "tls.key.pem",
            "does not decrypt",
            "passphrase_file",
        ],
    );
}

#[test]
fn an_empty_passphrase_file_is_refused() {
    let dir = layout("");
    std::fs::write(dir.path().join("secrets/g22.pass"), "\n").unwrap();
    config_error(
        ClientConfig::from_file(dir.path().join("conf/g22.toml")),
        &["passphrase_file", "empty"],
    );
}

#[test]
fn an_unencrypted_key_is_refused() {
    let dir = layout("");
    let plain = to_pem("PRIVATE KEY", &fixture().g22.seal.key.to_pkcs8_der());
    std::fs::write(dir.path().join("pki/g22/seal.key.pem"), plain).unwrap();
    config_error(
        ClientConfig::from_file(dir.path().join("conf/g22.toml")),
        &["[seal] key", "not encrypted"],
    );
}

#[test]
fn a_top_level_key_after_a_table_gets_a_hint() {
    let dir = layout("");
    let path = dir.path().join("conf/g22.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("log_key = \"log.cert.pem\"\n");
    std::fs::write(&path, text).unwrap();
    config_error(
        ClientConfig::from_file(&path),
        &["unknown field", "log_key", "before the first [table]"],
    );
}

#[test]
fn settings_are_checked() {
    let dir = layout("");
    let text = std::fs::read_to_string(dir.path().join("conf/g22.toml")).unwrap();
    let base = dir.path().join("conf");
    config_error(
        ClientConfig::from_toml(&text.replace("https://", "http://"), &base),
        &["endpoint", "https://"],
    );
    config_error(
        ClientConfig::from_toml(&text.replace("000.00.00.G22", "000.00.00.22"), &base),
        &["agency"],
    );
    config_error(
        ClientConfig::from_toml(&text.replace("server_name = \"localhost\"", ""), &base),
        &["server_name"],
    );
}

#[test]
fn the_log_key_is_read_from_its_certificate_file() {
    let dir = layout("log_key = \"../pki/root.cert.pem\"");
    let c = ClientConfig::from_file(dir.path().join("conf/g22.toml")).unwrap();
    assert_eq!(c.log_key.unwrap(), fixture().pki.root);
}
