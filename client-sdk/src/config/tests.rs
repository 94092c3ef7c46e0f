#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use axis_pki::{KeyPair as _, Passphrase, Profile, to_pem};

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
    assert_eq!(c.endpoints, ["https://127.0.0.1:7443"]);
    assert_eq!(c.server_name, "localhost");
    assert_eq!(c.root, f.pki.root);
    assert_eq!(c.tls.chain(), [f.g22.tls.cert.clone(), f.pki.ca.clone()]);
    assert_eq!(c.tls.certificate(), f.g22.tls.cert);
    // The connect deadline as earlier versions wrote it; the others at their defaults.
    assert_eq!(
        c.timeouts,
        Timeouts::default().with_connect(Duration::from_secs(3))
    );
    assert_eq!(c.directory_cache, CachePolicy::default());
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

/// Writes `pass` into `secrets/NAME.pass` and re-encrypts the key of `table` with it.
fn own_passphrase(dir: &tempfile::TempDir, table: &str, pass: &str) {
    let g = &fixture().g22;
    let key = match table {
        "tls" => &g.tls.key,
        "seal" => &g.seal.key,
        "personal" => &g.personal.key,
        _ => &g.encryption.key,
    };
    let pem = key
        .to_encrypted_pem(&Passphrase::new(pass.to_owned()))
        .unwrap()
        .to_string();
    std::fs::write(dir.path().join(format!("pki/g22/{table}.key.pem")), pem).unwrap();
}

fn with_table_line(dir: &tempfile::TempDir, table: &str, line: &str) -> PathBuf {
    let path = dir.path().join("conf/g22.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(&format!("[{table}]\n"), &format!("[{table}]\n{line}\n"), 1);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn each_key_may_have_its_own_passphrase_file_or_variable() {
    // As axis-pki writes them: every key with its own passphrase; no shared one at all.
    let dir = layout("");
    let path = dir.path().join("conf/g22.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("passphrase_file = \"../secrets/g22.pass\"\n", "");
    std::fs::write(&path, text).unwrap();
    for (table, pass) in [
        ("tls", "tls passphrase 1"),
        ("seal", "seal passphrase 2"),
        ("personal", "personal passphrase 3"),
    ] {
        own_passphrase(&dir, table, pass);
        std::fs::write(dir.path().join(format!("secrets/{table}.pass")), pass).unwrap();
        with_table_line(
            &dir,
            table,
            &format!("passphrase_file = \"../secrets/{table}.pass\""),
        );
    }
    // A variable the test process surely has (setting one would need `unsafe`): its value is
    // the encryption key's passphrase.
    let var = ["CARGO_MANIFEST_DIR", "PATH"]
        .into_iter()
        .find(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
        .unwrap();
    own_passphrase(&dir, "encryption", &std::env::var(var).unwrap());
    with_table_line(&dir, "encryption", &format!("passphrase_env = \"{var}\""));
    let c = ClientConfig::from_file(&path).unwrap();
    let f = fixture();
    assert_eq!(
        c.encryption.unwrap().key().public_key_der(),
        f.g22.encryption.key.public_key_der()
    );
    assert_eq!(
        c.seal.unwrap().key().public_key_der(),
        f.g22.seal.key.public_key_der()
    );
}

#[test]
fn a_key_without_its_own_passphrase_uses_the_shared_one() {
    let dir = layout("");
    own_passphrase(&dir, "seal", "the seal's own");
    std::fs::write(dir.path().join("secrets/seal.pass"), "the seal's own\n").unwrap();
    let path = with_table_line(&dir, "seal", "passphrase_file = \"../secrets/seal.pass\"");
    let c = ClientConfig::from_file(&path).unwrap();
    assert!(c.personal.is_some() && c.seal.is_some());
}

#[test]
fn per_key_passphrase_mistakes_are_named() {
    // The key's own file is wrong: the message names the key and that file.
    let dir = layout("");
    std::fs::write(dir.path().join("secrets/seal.pass"), "not it").unwrap();
    let path = with_table_line(&dir, "seal", "passphrase_file = \"../secrets/seal.pass\"");
    config_error(
        ClientConfig::from_file(&path),
        &[
            "[seal] key",
            "does not decrypt",
            "[seal] passphrase_file",
            "seal.pass",
        ],
    );
    // Both a file and a variable.
    let dir = layout("");
    let path = with_table_line(
        &dir,
        "seal",
        "passphrase_file = \"x\"\npassphrase_env = \"Y\"",
    );
    config_error(ClientConfig::from_file(&path), &["[seal]", "not both"]);
    // A variable that is not set.
    let dir = layout("");
    let path = with_table_line(
        &dir,
        "personal",
        "passphrase_env = \"AXIS_TEST_NEVER_SET_9\"",
    );
    config_error(
        ClientConfig::from_file(&path),
        &[
            "[personal] passphrase_env",
            "AXIS_TEST_NEVER_SET_9",
            "not set",
        ],
    );
    // No shared passphrase and a key without its own.
    let dir = layout("");
    let path = dir.path().join("conf/g22.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("passphrase_file = \"../secrets/g22.pass\"\n", "");
    if std::env::var_os(PASSPHRASE_ENV).is_none() {
        config_error(
            ClientConfig::from_toml(&text, &dir.path().join("conf")),
            &["no passphrase", "passphrase_env", PASSPHRASE_ENV],
        );
    }
}

#[test]
fn several_endpoints_deadlines_and_the_cache_are_read() {
    let dir = layout(
        "[timeouts]\nconnect_secs = 2\ncall_secs = 7.5\nstream_idle_secs = 4\n\
         [directory_cache]\nrefresh_secs = 60\nmax_age_secs = 3600\n",
    );
    let path = dir.path().join("conf/g22.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "endpoint = \"https://127.0.0.1:7443\"",
        "endpoints = [\"https://10.0.0.1:7443\", \"https://10.0.0.2:7443\"]",
    );
    let c = ClientConfig::from_toml(&text, &dir.path().join("conf")).unwrap();
    assert_eq!(
        c.endpoints,
        ["https://10.0.0.1:7443", "https://10.0.0.2:7443"]
    );
    assert_eq!(
        c.timeouts,
        Timeouts::default()
            .with_connect(Duration::from_secs(2))
            .with_call(Duration::from_millis(7500))
            .with_stream_idle(Duration::from_secs(4))
    );
    assert_eq!(
        c.directory_cache,
        CachePolicy::new(Duration::from_secs(60), Duration::from_secs(3600))
    );
}

#[test]
fn endpoint_deadline_and_cache_mistakes_are_named() {
    let dir = layout("");
    let base = dir.path().join("conf");
    let text = std::fs::read_to_string(base.join("g22.toml")).unwrap();
    let one = "endpoint = \"https://127.0.0.1:7443\"";
    #[track_caller]
    fn check(text: &str, base: &Path, expected: &[&str]) {
        config_error(ClientConfig::from_toml(text, base), expected);
    }
    check(
        &text.replace(one, &format!("{one}\nendpoints = [\"https://a:1\"]")),
        &base,
        &["not both"],
    );
    check(&text.replace(one, ""), &base, &["no endpoint"]);
    check(&text.replace(one, "endpoints = []"), &base, &["empty"]);
    check(
        &text.replace(one, "endpoints = [\"https://a:1\", \"https://a:1\"]"),
        &base,
        &["listed twice"],
    );
    check(
        &text.replace(one, "endpoints = [\"https://a:1\", \"http://b:1\"]"),
        &base,
        &["http://b:1", "TLS only"],
    );
    let many: Vec<String> = (0..=MAX_ENDPOINTS)
        .map(|i| format!("\"https://n{i}:7443\""))
        .collect();
    check(
        &text.replace(one, &format!("endpoints = [{}]", many.join(", "))),
        &base,
        &["at most 16"],
    );
    let with = |extra: &str| format!("{}\n{extra}\n", text.trim_end());
    check(
        &with("[timeouts]\ncall_secs = 0"),
        &base,
        &["call_secs", "between"],
    );
    check(
        &with("[timeouts]\nconnect_secs = -1"),
        &base,
        &["connect_secs"],
    );
    check(
        &with("[timeouts]\nidle = 3"),
        &base,
        &["unknown field", "idle"],
    );
    check(
        &with("[directory_cache]\nrefresh_secs = 100\nmax_age_secs = 10"),
        &base,
        &["refresh_secs", "longer than max_age_secs"],
    );
}

#[test]
fn a_pkcs11_uri_is_taken_as_written_and_a_key_file_path_is_resolved() {
    let uri = "pkcs11:token=g22;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so";
    let text = format!(
        "agency = \"000.00.00.G22\"\nendpoint = \"https://axis:7443\"\nserver_name = \"axis\"\n\
         root = \"root.pem\"\n[tls]\ncert = \"tls.pem\"\nkey = \"tls.key.pem\"\n\
         [seal]\ncert = \"seal.pem\"\nkey = \"{uri}\"\n"
    );
    let f = FileConfig::parse(&text, Path::new("/etc/axis")).unwrap();
    let seal = f.credential("seal").unwrap();
    assert!(seal.is_token());
    assert_eq!(seal.key, PathBuf::from(uri));
    assert!(!f.tls.is_token());
    assert_eq!(f.tls.key, PathBuf::from("/etc/axis/tls.key.pem"));
    // A malformed URI is a configuration error naming the table, not a missing file.
    let bad = text.replace("object=seal", "object=seal;pin-value=1234");
    let f = FileConfig::parse(&bad, Path::new("/etc/axis")).unwrap();
    let e = f
        .credential("seal")
        .unwrap()
        .private_key("seal", &mut f.shared_passphrase())
        .err()
        .unwrap();
    assert_eq!(e.kind(), &ErrorKind::Config);
    assert!(e.to_string().contains("[seal] key"), "{e}");
    assert!(e.to_string().contains("pin-value"), "{e}");
    assert!(!e.to_string().contains("1234"), "{e}");
}
