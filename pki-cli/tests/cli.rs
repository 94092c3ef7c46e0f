//! The `axis-pki` CLI end to end: a hierarchy built only through the binary, judged by the
//! `openssl` CLI; every refusal with its message and an unchanged CA directory; concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_axis-pki");

const ROOT_PASS: &str = "root passphrase, kept offline";
const CA_PASS: &str = "state CA passphrase";
const LEAF_PASS: &str = "agency key passphrase";
const P12_PASS: &str = "bundle passphrase";

/// Every environment variable the CLI reads, cleared so the caller's shell cannot leak in.
const CLI_ENV: &[&str] = &[
    "AXIS_PKI_DIR",
    "AXIS_PKI_CA_PASS",
    "AXIS_PKI_CA_PASS_FILE",
    "AXIS_PKI_NEW_KEY_PASS",
    "AXIS_PKI_NEW_KEY_PASS_FILE",
    "AXIS_PKI_KEY_PASS",
    "AXIS_PKI_KEY_PASS_FILE",
    "AXIS_PKI_P12_PASS",
    "AXIS_PKI_P12_PASS_FILE",
];

/// A temporary workspace: `ca/` is the CA directory, `out/` receives issued files.
struct Pki {
    tmp: tempfile::TempDir,
}

impl Pki {
    fn empty() -> Pki {
        Pki {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// Root and issuing CA `state`, both P-256 for speed.
    fn with_state_ca() -> Pki {
        Pki::with_state_ca_and(&[]).0
    }

    /// [`Pki::with_state_ca`] with more `init` options; returns `init`'s output too.
    fn with_state_ca_and(init: &[&str]) -> (Pki, String) {
        let p = Pki::empty();
        let mut args = vec!["init", "--name", "Axis Root CA", "--key-type", "p256"];
        args.extend_from_slice(init);
        let out = p.ok(&args, &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)]);
        p.ok(
            &[
                "ca",
                "--id",
                "state",
                "--name",
                "CA for state agencies",
                "--key-type",
                "p256",
            ],
            &[
                ("AXIS_PKI_CA_PASS", ROOT_PASS),
                ("AXIS_PKI_NEW_KEY_PASS", CA_PASS),
            ],
        );
        (p, out)
    }

    /// Issues the usual G22 agency seal from `state` into `out/`; returns its path.
    fn issue_g22_seal(&self) -> &'static str {
        self.issue(&[
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
        ]);
        "out/000.00.00.G22-agency-seal.cert.pem"
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn ca(&self) -> PathBuf {
        self.path("ca")
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        for v in CLI_ENV {
            c.env_remove(v);
        }
        c.env("AXIS_PKI_DIR", self.ca())
            .current_dir(self.tmp.path())
            .args(args)
            .envs(env.iter().copied());
        c.output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    #[track_caller]
    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let o = self.run(args, env);
        assert!(
            o.status.success(),
            "axis-pki {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs and expects exit status 1; returns stderr.
    #[track_caller]
    fn fails(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let o = self.run(args, env);
        let err = String::from_utf8(o.stderr).unwrap();
        assert_eq!(
            o.status.code(),
            Some(1),
            "axis-pki {args:?} should fail with status 1:\n{}{err}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(err.contains("axis-pki: error: "), "{err}");
        err
    }

    /// `issue` from CA `state` with the usual passphrases, into `out/`.
    #[track_caller]
    fn issue(&self, args: &[&str]) -> String {
        let mut all = vec!["issue", "--ca", "state", "--out", "out"];
        all.extend_from_slice(args);
        self.ok(
            &all,
            &[
                ("AXIS_PKI_CA_PASS", CA_PASS),
                ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
            ],
        )
    }

    /// Every file and directory under the workspace, with a SHA-256 of each file's bytes.
    fn snapshot(&self) -> BTreeMap<String, Option<String>> {
        let mut out = BTreeMap::new();
        walk(self.tmp.path(), self.tmp.path(), &mut out);
        out
    }

    /// Asserts a failing command left every file (CA directory and outputs) as it was.
    #[track_caller]
    fn assert_unchanged(&self, before: &BTreeMap<String, Option<String>>) {
        let after = self.snapshot();
        assert_eq!(before, &after, "the failed command changed the directory");
    }

    fn index(&self) -> serde_json::Value {
        serde_json::from_slice(&fs::read(self.ca().join("axis-pki.json")).unwrap()).unwrap()
    }

    fn list_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["list", "--json"], &[])).unwrap()
    }
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Option<String>>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(base).unwrap().display().to_string();
        if path.is_dir() {
            out.insert(rel, None);
            walk(base, &path, out);
        } else {
            let digest = openssl::sha::sha256(&fs::read(&path).unwrap());
            out.insert(rel, Some(hex::encode(digest)));
        }
    }
}

fn openssl(args: &[&str], env: &[(&str, &str)], cwd: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .output()
        .expect("the openssl command is needed for these tests")
}

/// `openssl verify -x509_strict -crl_check_all` against the directory's root, CA and CRLs.
fn openssl_verify(p: &Pki, cert: &str) -> (bool, String) {
    let o = openssl(
        &[
            "verify",
            "-x509_strict",
            "-CAfile",
            "ca/root/root.cert.pem",
            "-untrusted",
            "ca/cas/state/ca.cert.pem",
            "-crl_check_all",
            "-CRLfile",
            "ca/crl/root.crl.pem",
            "-CRLfile",
            "ca/crl/state.crl.pem",
            cert,
        ],
        &[],
        p.tmp.path(),
    );
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// `axis-pki verify`.
fn axis_verify(p: &Pki, cert: &str) -> (bool, String) {
    let o = p.run(&["verify", cert], &[]);
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn serial_of(p: &Pki, cert: &str) -> String {
    let o = openssl(
        &["x509", "-noout", "-serial", "-in", cert],
        &[],
        p.tmp.path(),
    );
    assert!(o.status.success());
    String::from_utf8(o.stdout)
        .unwrap()
        .trim()
        .strip_prefix("serial=")
        .unwrap()
        .to_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ----- OpenSSL as the judge ---------------------------------------------------------------

#[test]
fn openssl_agrees_with_axis_pki_on_a_whole_hierarchy() {
    let p = Pki::with_state_ca();
    let agencies = [
        (
            "000.00.00.G22",
            "Văn phòng Chính phủ",
            "Phó Thủ tướng",
            "Trần Văn Sơn",
        ),
        (
            "000.00.00.H41",
            "UBND tỉnh Nghệ An",
            "Chủ tịch",
            "Nguyễn Thị Hoa",
        ),
    ];
    let mut good = Vec::new();
    for (id, agency, title, person) in agencies {
        for profile in ["agency-seal", "agency-encryption", "agency-tls-client"] {
            p.issue(&["--profile", profile, "--agency-id", id, "--name", agency]);
            good.push(format!("out/{id}-{profile}.cert.pem"));
        }
        p.issue(&[
            "--profile",
            "personal-signer",
            "--agency-id",
            id,
            "--name",
            person,
            "--title",
            title,
            "--org",
            agency,
        ]);
        good.push(format!("out/{id}-personal-signer.cert.pem"));
    }
    // One agency encryption key on P-256 too (keyAgreement instead of keyEncipherment).
    p.issue(&[
        "--profile",
        "agency-encryption",
        "--agency-id",
        "000.00.00.H41",
        "--name",
        "UBND tỉnh Nghệ An",
        "--key-type",
        "p256",
        "--basename",
        "h41-encryption-ec",
    ]);
    good.push("out/h41-encryption-ec.cert.pem".into());
    p.issue(&[
        "--profile",
        "axis-server-tls",
        "--dns",
        "localhost",
        "--ip",
        "127.0.0.1",
    ]);
    good.push("out/localhost-axis-server-tls.cert.pem".into());
    p.issue(&["--profile", "axis-log-signer", "--name", "Axis log"]);
    good.push("out/axis-log-axis-log-signer.cert.pem".into());
    p.issue(&["--profile", "axis-operator", "--name", "Lê Văn Quản"]);
    good.push("out/le-van-quan-axis-operator.cert.pem".into());
    good.push("ca/cas/state/ca.cert.pem".into());

    // Revoke H41's TLS client.
    let revoked = "out/000.00.00.H41-agency-tls-client.cert.pem";
    good.retain(|c| c != revoked);
    let serial = serial_of(&p, revoked);
    let out = p.ok(
        &["revoke", "--serial", &serial, "--reason", "key-compromise"],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    assert!(out.contains("number 2"), "{out}");

    for cert in &good {
        let (ossl, ossl_out) = openssl_verify(&p, cert);
        let (axis, axis_out) = axis_verify(&p, cert);
        assert!(ossl, "openssl rejects {cert}: {ossl_out}");
        assert!(axis, "axis-pki rejects {cert}: {axis_out}");
    }
    let (ossl, ossl_out) = openssl_verify(&p, revoked);
    assert!(!ossl, "openssl accepts the revoked certificate");
    assert!(ossl_out.contains("certificate revoked"), "{ossl_out}");
    let (axis, axis_out) = axis_verify(&p, revoked);
    assert!(!axis, "axis-pki accepts the revoked certificate");
    assert!(axis_out.contains("was revoked"), "{axis_out}");
    assert!(axis_out.contains("key-compromise"), "{axis_out}");

    // The CRL as openssl reads it: number 2, the serial, the reason.
    let o = openssl(
        &["crl", "-in", "ca/crl/state.crl.pem", "-noout", "-text"],
        &[],
        p.tmp.path(),
    );
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let number = text
        .lines()
        .skip_while(|l| !l.contains("X509v3 CRL Number"))
        .nth(1)
        .unwrap()
        .trim();
    assert_eq!(number, "2", "{text}");
    assert!(text.contains(&format!("Serial Number: {serial}")), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");

    // Generated keys are encrypted PKCS#8 that openssl decrypts (RSA and EC), mode 0600.
    for key in [
        "out/000.00.00.G22-agency-seal.key.pem",
        "out/localhost-axis-server-tls.key.pem",
    ] {
        assert!(
            fs::read_to_string(p.path(key))
                .unwrap()
                .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        );
        #[cfg(unix)]
        assert_eq!(mode(&p.path(key)), 0o600, "{key}");
        let o = openssl(
            &["pkey", "-in", key, "-passin", "env:LEAF_PASS", "-noout"],
            &[("LEAF_PASS", LEAF_PASS)],
            p.tmp.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = openssl(
            &[
                "pkey",
                "-in",
                key,
                "-passin",
                "pass:not the passphrase",
                "-noout",
            ],
            &[],
            p.tmp.path(),
        );
        assert!(!o.status.success(), "a wrong passphrase decrypts {key}");
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&p.ca().join("root/root.key.pem")), 0o600);
        assert_eq!(mode(&p.ca().join("cas/state/ca.key.pem")), 0o600);
    }

    // The chain file is the certificate, then the issuing CA.
    let chain = fs::read_to_string(p.path("out/000.00.00.G22-agency-seal.chain.pem")).unwrap();
    let cert = fs::read_to_string(p.path("out/000.00.00.G22-agency-seal.cert.pem")).unwrap();
    let ca = fs::read_to_string(p.ca().join("cas/state/ca.cert.pem")).unwrap();
    assert_eq!(chain, format!("{cert}{ca}"));

    // PKCS#12, modern and legacy, read by openssl with the bundle passphrase.
    for (out, legacy) in [("seal.p12", false), ("seal-legacy.p12", true)] {
        let mut args = vec![
            "export",
            "--cert",
            "out/000.00.00.G22-agency-seal.cert.pem",
            "--key",
            "out/000.00.00.G22-agency-seal.key.pem",
            "--out",
            out,
        ];
        if legacy {
            args.push("--legacy");
        }
        p.ok(
            &args,
            &[
                ("AXIS_PKI_KEY_PASS", LEAF_PASS),
                ("AXIS_PKI_P12_PASS", P12_PASS),
            ],
        );
        #[cfg(unix)]
        assert_eq!(mode(&p.path(out)), 0o600);
        let o = openssl(
            &[
                "pkcs12",
                "-info",
                "-noout",
                "-in",
                out,
                "-passin",
                "env:P12_PASS",
            ],
            &[("P12_PASS", P12_PASS)],
            p.tmp.path(),
        );
        let info = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            o.status.success(),
            "openssl pkcs12 cannot read {out}: {info}"
        );
        let expected = if legacy {
            "pbeWithSHA1And3-KeyTripleDES-CBC"
        } else {
            "AES-256-CBC"
        };
        assert!(info.contains(expected), "{out}: {info}");
        // Key, certificate and both CAs are in the bundle.
        let o = openssl(
            &["pkcs12", "-in", out, "-passin", "env:P12_PASS", "-nokeys"],
            &[("P12_PASS", P12_PASS)],
            p.tmp.path(),
        );
        let certs = String::from_utf8_lossy(&o.stdout)
            .matches("BEGIN CERTIFICATE")
            .count();
        assert_eq!(certs, 3, "{out}");
    }

    // The listing knows every certificate and the one revocation.
    let list = p.list_json();
    let certs = list["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), good.len() + 1); // + the revoked one
    let rev: Vec<_> = certs.iter().filter(|c| c["status"] == "revoked").collect();
    assert_eq!(rev.len(), 1);
    assert_eq!(rev[0]["serial"], serial.as_str());
    assert_eq!(rev[0]["revocation"]["reason"], "key-compromise");
    let table = p.ok(&["list"], &[]);
    assert!(table.contains("revoked (key-compromise)"), "{table}");
}

#[test]
fn default_rsa_4096_hierarchy_verifies_with_openssl() {
    let p = Pki::empty();
    let out = p.ok(
        &[
            "init",
            "--name",
            "Axis Root CA",
            "--org",
            "Ban Cơ yếu Chính phủ",
        ],
        &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)],
    );
    assert!(out.contains("rsa4096"), "{out}");
    p.ok(
        &["ca", "--id", "state", "--name", "CA for state agencies"],
        &[
            ("AXIS_PKI_CA_PASS", ROOT_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", CA_PASS),
        ],
    );
    let seal = p.issue_g22_seal();
    let o = openssl(
        &["x509", "-in", "ca/root/root.cert.pem", "-noout", "-text"],
        &[],
        p.tmp.path(),
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("Public-Key: (4096 bit)"));
    let (ok, msg) = openssl_verify(&p, seal);
    assert!(ok, "{msg}");
    let (ok, msg) = axis_verify(&p, seal);
    assert!(ok, "{msg}");
    assert!(
        msg.contains("agency id:") && msg.contains("000.00.00.G22"),
        "{msg}"
    );
}

// ----- CSRs ---------------------------------------------------------------------------------

/// Makes a P-256 CSR with openssl in the directory; `extra` are further `openssl req`
/// arguments. Returns its name (relative to the directory).
fn make_csr(p: &Pki, name: &str, subj: &str, extra: &[&str]) -> String {
    axis_testkit::openssl_csr(p.tmp.path(), name, subj, extra);
    format!("{name}.csr")
}

#[test]
fn csr_is_issued_and_openssl_verifies_the_result() {
    let p = Pki::with_state_ca();
    let csr = make_csr(
        &p,
        "h41-tls",
        "/C=VN/organizationIdentifier=000.00.00.H41/CN=UBND tỉnh Nghệ An",
        &["-utf8"],
    );
    let out = p.ok(
        &[
            "issue",
            "--profile",
            "agency-tls-client",
            "--csr",
            &csr,
            "--out",
            "out",
        ],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    // Name and agency id come from the CSR; no key file is written.
    assert!(out.contains("UBND tỉnh Nghệ An (000.00.00.H41)"), "{out}");
    assert!(out.contains("from the CSR"), "{out}");
    let cert = "out/000.00.00.H41-agency-tls-client.cert.pem";
    assert!(
        !p.path("out/000.00.00.H41-agency-tls-client.key.pem")
            .exists()
    );
    let (ok, msg) = openssl_verify(&p, cert);
    assert!(ok, "{msg}");
    let (ok, msg) = axis_verify(&p, cert);
    assert!(ok, "{msg}");
    // The certificate is for the CSR's key.
    let spki = |args: &[&str]| {
        let o = openssl(args, &[], p.tmp.path());
        assert!(o.status.success());
        o.stdout
    };
    assert_eq!(
        spki(&["x509", "-in", cert, "-noout", "-pubkey"]),
        spki(&["pkey", "-in", "h41-tls.key", "-pubout"])
    );
}

#[test]
fn server_csr_names_become_the_certificates_names() {
    let p = Pki::with_state_ca();
    let csr = make_csr(
        &p,
        "axis-tls",
        "/C=VN/CN=axis.example.vn",
        &[
            "-addext",
            "subjectAltName=DNS:axis.example.vn,DNS:axis2.example.vn",
        ],
    );
    p.ok(
        &[
            "issue",
            "--profile",
            "axis-server-tls",
            "--csr",
            &csr,
            "--out",
            "out",
            "--basename",
            "axis",
        ],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    let o = openssl(
        &[
            "x509",
            "-in",
            "out/axis.cert.pem",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
        &[],
        p.tmp.path(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("DNS:axis.example.vn") && text.contains("DNS:axis2.example.vn"),
        "{text}"
    );
    let (ok, msg) = openssl_verify(&p, "out/axis.cert.pem");
    assert!(ok, "{msg}");
}

/// How a refused CSR is made: asking for more than the profile grants, or altered after signing.
enum BadCsr {
    /// `openssl req -addext` with this extension.
    Asks(&'static str),
    /// A good CSR whose signature's last byte is flipped.
    FlippedSignature,
}

/// `issue --csr` refuses the CSR made as `bad`, saying each of `expected`, and leaves the CA
/// directory as it was.
#[track_caller]
fn refused_csr(p: &Pki, bad: BadCsr, expected: &[&str]) {
    let subj = "/C=VN/organizationIdentifier=000.00.00.H41/CN=H41";
    let csr = match bad {
        BadCsr::Asks(ext) => make_csr(p, "asks", subj, &["-addext", ext]),
        BadCsr::FlippedSignature => {
            let csr = make_csr(p, "flipped", subj, &[]);
            let o = openssl(
                &["req", "-in", &csr, "-outform", "DER", "-out", "flipped.der"],
                &[],
                p.tmp.path(),
            );
            assert!(o.status.success());
            let mut der = fs::read(p.path("flipped.der")).unwrap();
            // The signature is the last field: flip its last byte.
            *der.last_mut().unwrap() ^= 0x01;
            fs::write(p.path("flipped-bad.der"), &der).unwrap();
            "flipped-bad.der".to_owned()
        }
    };
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--profile",
            "agency-tls-client",
            "--csr",
            &csr,
            "--out",
            "out",
        ],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    for e in expected {
        assert!(err.contains(e), "{err}");
    }
    p.assert_unchanged(&before);
}

#[test]
fn csrs_asking_for_more_than_the_profile_or_altered_are_refused() {
    let p = Pki::with_state_ca();
    use BadCsr::*;
    #[rustfmt::skip]
    let cases: [(BadCsr, &[&str]); 3] = [
        (Asks("basicConstraints=critical,CA:TRUE"), &["CA:TRUE in basicConstraints", "hint: "]),
        (Asks("keyUsage=critical,digitalSignature,keyCertSign"), &["key usage keyCertSign", "which the profile does not grant"]),
        (FlippedSignature, &["the CSR signature is invalid", "hint: the CSR was altered"]),
    ];
    for (bad, expected) in cases {
        refused_csr(&p, bad, expected);
    }
}

// ----- Refusals: each leaves everything as it was ------------------------------------------

#[test]
fn wrong_ca_passphrase_is_named() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--ca",
            "state",
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", "not the CA passphrase"),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(
        err.contains("wrong passphrase for the key of CA `state`"),
        "{err}"
    );
    assert!(
        err.contains("hint: the passphrase came from the environment variable AXIS_PKI_CA_PASS"),
        "{err}"
    );
    p.assert_unchanged(&before);
}

#[test]
fn missing_passphrase_says_which_to_set() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS)],
    );
    assert!(
        err.contains("set AXIS_PKI_CA_PASS or give --ca-pass-file FILE"),
        "{err}"
    );
    p.assert_unchanged(&before);

    let err = p.fails(
        &[
            "issue",
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    assert!(
        err.contains("set AXIS_PKI_NEW_KEY_PASS or give --new-key-pass-file FILE"),
        "{err}"
    );
    p.assert_unchanged(&before);
}

#[test]
fn short_new_key_passphrase_is_refused() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--profile",
            "axis-log-signer",
            "--name",
            "Axis log",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", "short"),
        ],
    );
    assert!(err.contains("passphrase too short"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn unknown_profile_lists_the_profiles() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--profile",
            "agency-stamp",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "X",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(err.contains("unknown profile `agency-stamp`"), "{err}");
    assert!(
        err.contains("hint: end-entity profiles are agency-seal"),
        "{err}"
    );
    p.assert_unchanged(&before);
}

#[test]
fn invalid_agency_id_names_the_failing_segment() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.g22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(err.contains("invalid agency id `000.00.00.g22`"), "{err}");
    assert!(err.contains("segment 4 is `g22`"), "{err}");
    assert!(err.contains("a capital letter and 2 digits"), "{err}");
    p.assert_unchanged(&before);

    let err = p.fails(
        &[
            "issue",
            "--profile",
            "agency-seal",
            "--agency-id",
            "00.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(err.contains("segment 1 is `00`"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn revoked_issuing_ca_issues_nothing() {
    let p = Pki::with_state_ca();
    let serial = serial_of(&p, "ca/cas/state/ca.cert.pem");
    let out = p.ok(
        &["revoke", "--serial", &serial, "--reason", "ca-compromise"],
        &[("AXIS_PKI_CA_PASS", ROOT_PASS)],
    );
    assert!(
        out.contains("every certificate it issued now fails verification"),
        "{out}"
    );
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--ca",
            "state",
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(err.contains("issuing CA `state` was revoked"), "{err}");
    assert!(err.contains("hint: create a new issuing CA"), "{err}");
    p.assert_unchanged(&before);
    // openssl agrees the CA is revoked (by the root's CRL number 2).
    let (ok, msg) = openssl_verify(&p, "ca/cas/state/ca.cert.pem");
    assert!(!ok && msg.contains("certificate revoked"), "{msg}");
}

#[test]
fn revoking_an_unknown_serial_says_how_to_find_one() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "revoke",
            "--serial",
            "0123456789ABCDEF",
            "--reason",
            "superseded",
        ],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    assert!(
        err.contains("no certificate with serial 0123456789ABCDEF"),
        "{err}"
    );
    assert!(err.contains("hint: `axis-pki list`"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn revoking_twice_is_refused() {
    let p = Pki::with_state_ca();
    p.issue(&["--profile", "axis-operator", "--name", "Operator"]);
    let serial = serial_of(&p, "out/operator-axis-operator.cert.pem");
    let args = ["revoke", "--serial", &serial, "--reason", "superseded"];
    p.ok(&args, &[("AXIS_PKI_CA_PASS", CA_PASS)]);
    let before = p.snapshot();
    let err = p.fails(&args, &[("AXIS_PKI_CA_PASS", CA_PASS)]);
    assert!(err.contains("was already revoked"), "{err}");
    assert!(err.contains("(superseded)"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn days_beyond_the_profile_maximum_are_refused() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--ca",
            "state",
            "--profile",
            "agency-tls-client",
            "--agency-id",
            "000.00.00.H41",
            "--name",
            "UBND tỉnh Nghệ An",
            "--days",
            "2000",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(
        err.contains(
            "profile agency-tls-client allows at most 825 days of validity; 2000 were requested"
        ),
        "{err}"
    );
    assert!(err.contains("hint: ask for at most 825 days"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn existing_output_file_is_never_overwritten() {
    let p = Pki::with_state_ca();
    fs::create_dir(p.path("out")).unwrap();
    fs::write(
        p.path("out/000.00.00.G22-agency-seal.chain.pem"),
        "precious",
    )
    .unwrap();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--ca",
            "state",
            "--profile",
            "agency-seal",
            "--agency-id",
            "000.00.00.G22",
            "--name",
            "Văn phòng Chính phủ",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(
        err.contains("000.00.00.G22-agency-seal.chain.pem already exists"),
        "{err}"
    );
    assert!(err.contains("hint: choose another --basename"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn a_write_failure_midway_is_rolled_back() {
    // `--out` is a file, so creating the output directory fails after the CA directory already
    // received its copy of the new certificate: that copy must go again.
    let p = Pki::with_state_ca();
    fs::write(p.path("out"), "not a directory").unwrap();
    let before = p.snapshot();
    let err = p.fails(
        &[
            "issue",
            "--ca",
            "state",
            "--profile",
            "axis-log-signer",
            "--name",
            "Axis log",
            "--out",
            "out",
        ],
        &[
            ("AXIS_PKI_CA_PASS", CA_PASS),
            ("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS),
        ],
    );
    assert!(err.contains("is not a directory"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn init_refuses_an_initialised_directory() {
    let p = Pki::with_state_ca();
    let before = p.snapshot();
    let err = p.fails(
        &["init", "--name", "Second Root", "--key-type", "p256"],
        &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)],
    );
    assert!(
        err.contains("is already an initialised CA directory"),
        "{err}"
    );
    p.assert_unchanged(&before);
}

#[test]
fn init_refuses_a_non_empty_directory_and_leaves_it_alone() {
    let p = Pki::empty();
    fs::create_dir(p.ca()).unwrap();
    fs::write(p.ca().join("notes.txt"), "mine").unwrap();
    let before = p.snapshot();
    let err = p.fails(
        &["init", "--name", "Axis Root CA", "--key-type", "p256"],
        &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)],
    );
    assert!(err.contains("exists and is not empty"), "{err}");
    p.assert_unchanged(&before);
}

#[test]
fn failed_init_leaves_no_directory_behind() {
    let p = Pki::empty();
    let before = p.snapshot();
    // Validity beyond the root profile's maximum fails after the directory was locked.
    let err = p.fails(
        &[
            "init",
            "--name",
            "Axis Root CA",
            "--key-type",
            "p256",
            "--days",
            "20000",
        ],
        &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)],
    );
    assert!(err.contains("allows at most"), "{err}");
    p.assert_unchanged(&before);
    assert!(!p.ca().exists());
}

#[test]
fn init_takes_the_policy_arc_and_every_certificate_carries_it() {
    let (p, out) = Pki::with_state_ca_and(&["--policy-arc", "1.3.6.1.4.1.32473.7"]);
    assert!(
        out.contains("policy arc:") && out.contains("1.3.6.1.4.1.32473.7"),
        "{out}"
    );
    assert!(!out.contains("2^31"), "{out}");
    let seal = p.issue_g22_seal();
    // OpenSSL reads the policies, and `verify` finds the profile under the root's arc.
    for (cert, policy) in [
        ("ca/root/root.cert.pem", "1.3.6.1.4.1.32473.7.1.1"),
        ("ca/cas/state/ca.cert.pem", "1.3.6.1.4.1.32473.7.1.2"),
        (seal, "1.3.6.1.4.1.32473.7.1.3"),
    ] {
        let o = openssl(&["x509", "-noout", "-text", "-in", cert], &[], p.tmp.path());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("Policy: {policy}\n")),
            "{cert}: {text}"
        );
    }
    let (ok, text) = axis_verify(&p, seal);
    assert!(
        ok && text.contains("valid agency-seal certificate"),
        "{text}"
    );
    let (ok, text) = openssl_verify(&p, seal);
    assert!(ok, "{text}");
}

#[test]
fn init_refuses_a_malformed_policy_arc_and_warns_about_a_wide_one() {
    let p = Pki::empty();
    let before = p.snapshot();
    for (arc, why) in [
        ("3.1", "first component"),
        ("1.3.6.x", "decimal"),
        ("2", "at least two"),
    ] {
        let err = p.fails(
            &[
                "init",
                "--name",
                "R",
                "--key-type",
                "p256",
                "--policy-arc",
                arc,
            ],
            &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)],
        );
        assert!(
            err.contains("not a usable policy arc") && err.contains(why),
            "{arc}: {err}"
        );
        p.assert_unchanged(&before);
    }
    // A UUID arc works, with a warning that old Go cannot read it.
    let out = p.ok(
        &[
            "init",
            "--name",
            "R",
            "--key-type",
            "p256",
            "--policy-arc",
            "2.25.32435399129752126578442321803132622997",
        ],
        &[("AXIS_PKI_NEW_KEY_PASS", ROOT_PASS)],
    );
    assert!(
        out.contains("note:") && out.contains("Go before 1.22"),
        "{out}"
    );
}

#[test]
fn commands_outside_a_ca_directory_say_how_to_make_one() {
    let p = Pki::empty();
    let err = p.fails(&["list"], &[]);
    assert!(err.contains("is not a CA directory"), "{err}");
    assert!(err.contains("axis-pki init"), "{err}");
    assert!(!p.ca().exists());
}

// ----- State, CRLs, recovery ----------------------------------------------------------------

#[test]
fn passphrase_files_work_and_crl_numbers_increase() {
    let p = Pki::empty();
    fs::write(p.path("root.pass"), format!("{ROOT_PASS}\n")).unwrap();
    fs::write(p.path("state.pass"), format!("{CA_PASS}\n")).unwrap();
    p.ok(
        &[
            "init",
            "--name",
            "Axis Root CA",
            "--key-type",
            "p256",
            "--new-key-pass-file",
            "root.pass",
        ],
        &[],
    );
    p.ok(
        &[
            "ca",
            "--id",
            "state",
            "--name",
            "CA for state agencies",
            "--key-type",
            "p256",
            "--ca-pass-file",
            "root.pass",
            "--new-key-pass-file",
            "state.pass",
        ],
        &[],
    );
    // The trailing newline was stripped: the env var without it unlocks the same key.
    for expected in [2, 3] {
        let out = p.ok(
            &[
                "crl",
                "--ca",
                "state",
                "--days",
                "30",
                "--ca-pass-file",
                "state.pass",
            ],
            &[],
        );
        assert!(out.contains(&format!("CRL number {expected}")), "{out}");
    }
    let out = p.ok(&["crl", "--ca", "root"], &[("AXIS_PKI_CA_PASS", ROOT_PASS)]);
    assert!(out.contains("CRL number 2"), "{out}");
    let list = p.list_json();
    let state = list["cas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "state")
        .unwrap();
    assert_eq!(state["crl"]["number"], 3);
    assert_eq!(p.index()["cas"][1]["next_crl_number"], 4);
    // CRLs only go forward, even if the index lost its counter.
    let mut index = p.index();
    index["cas"][1]["next_crl_number"] = serde_json::json!(1);
    fs::write(
        p.ca().join("axis-pki.json"),
        serde_json::to_vec_pretty(&index).unwrap(),
    )
    .unwrap();
    let out = p.ok(&["crl", "--ca", "state"], &[("AXIS_PKI_CA_PASS", CA_PASS)]);
    assert!(out.contains("CRL number 4"), "{out}");
}

#[test]
fn a_certificate_missing_from_the_index_is_recovered() {
    // As if `issue` had been interrupted after copying the certificate into certs/ but before
    // writing the index: the next changing command records it, so it stays revocable.
    let p = Pki::with_state_ca();
    let index_before = fs::read(p.ca().join("axis-pki.json")).unwrap();
    p.issue(&["--profile", "axis-log-signer", "--name", "Axis log"]);
    let serial = serial_of(&p, "out/axis-log-axis-log-signer.cert.pem");
    fs::write(p.ca().join("axis-pki.json"), &index_before).unwrap();
    let listing = p.ok(&["list"], &[]);
    assert!(
        listing.contains("1 certificate file(s) in certs/ are not in the index"),
        "{listing}"
    );
    let out = p.ok(
        &[
            "revoke",
            "--serial",
            &serial,
            "--reason",
            "cessation-of-operation",
        ],
        &[("AXIS_PKI_CA_PASS", CA_PASS)],
    );
    assert!(out.contains(&format!("recorded {serial}")), "{out}");
    let list = p.list_json();
    let rec = list["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial"] == serial.as_str())
        .unwrap()
        .clone();
    assert_eq!(rec["status"], "revoked");
    assert_eq!(rec["profile"], "axis-log-signer");
    let (ok, msg) = openssl_verify(&p, "out/axis-log-axis-log-signer.cert.pem");
    assert!(!ok && msg.contains("certificate revoked"), "{msg}");
}

#[test]
fn verify_checks_the_profile_and_the_time() {
    let p = Pki::with_state_ca();
    p.issue(&[
        "--profile",
        "agency-seal",
        "--agency-id",
        "000.00.00.G22",
        "--name",
        "VPCP",
    ]);
    let cert = "out/000.00.00.G22-agency-seal.cert.pem";
    let o = p.run(&["verify", cert, "--profile", "personal-signer"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "the profile personal-signer is required, but this certificate has the profile agency-seal"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: verify it as what it is with --profile agency-seal"),
        "{err}"
    );
    // Ten years on, the certificate has expired.
    let o = p.run(&["verify", cert, "--at", "2040-01-01T00:00:00Z"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expired"));
    // Eight days on, the state CA's CRL (7 days) is stale: revocation fails closed.
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(8);
    let at = later
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let o = p.run(&["verify", cert, "--at", &at], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is stale"), "{err}");
    assert!(
        err.contains("hint: publish a fresh CRL with `axis-pki crl"),
        "{err}"
    );
    // The chain file verifies too (the CA certificate in it is only a path-building aid).
    p.ok(&["verify", "out/000.00.00.G22-agency-seal.chain.pem"], &[]);
}

#[test]
fn eight_concurrent_issues_all_land_in_the_index() {
    let p = Pki::with_state_ca();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let mut c = Command::new(BIN);
            for v in CLI_ENV {
                c.env_remove(v);
            }
            c.env("AXIS_PKI_DIR", p.ca())
                .env("AXIS_PKI_CA_PASS", CA_PASS)
                .env("AXIS_PKI_NEW_KEY_PASS", LEAF_PASS)
                .current_dir(p.tmp.path())
                .args([
                    "issue",
                    "--ca",
                    "state",
                    "--profile",
                    "agency-tls-client",
                    "--agency-id",
                    &format!("000.00.{i:02}.H41"),
                    "--name",
                    &format!("Sở {i} tỉnh Nghệ An"),
                    "--out",
                    "out",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let list = p.list_json();
    let serials: std::collections::BTreeSet<String> = list["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["profile"] == "agency-tls-client")
        .map(|c| c["serial"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(serials.len(), 8);
    let index = p.index();
    assert_eq!(index["certificates"].as_array().unwrap().len(), 9); // + the issuing CA
    for s in &serials {
        assert!(p.ca().join(format!("certs/{s}.pem")).is_file());
    }
    // No temporary files left anywhere.
    assert!(p.snapshot().keys().all(|k| !k.contains(".tmp-")));
}

// ----- Help ---------------------------------------------------------------------------------

#[test]
fn every_subcommand_has_help_with_an_example() {
    let p = Pki::empty();
    for sub in [
        None,
        Some("init"),
        Some("ca"),
        Some("issue"),
        Some("revoke"),
        Some("crl"),
        Some("verify"),
        Some("list"),
        Some("export"),
    ] {
        let mut args: Vec<&str> = sub.into_iter().collect();
        args.push("--help");
        let out = p.ok(&args, &[]);
        assert!(
            out.contains("Example"),
            "{sub:?} --help has no example:\n{out}"
        );
    }
    // A usage error is status 2, clap's convention.
    let o = p.run(&["issue"], &[]);
    assert_eq!(o.status.code(), Some(2));
}

// ----- keys on PKCS#11 tokens (SoftHSM 2) -----

mod tokens {
    use super::*;
    use axis_keys::{KeyUse, Pkcs11Uri, TokenKey};
    use axis_pki::{KeyAlgorithm, KeyPair};
    use axis_testkit::softhsm::TestToken;

    /// A whole hierarchy with no private key outside a token: the root's key on one token,
    /// the issuing CA's on another, an agency's seal and TLS keys on a third; revocation and
    /// CRLs signed on the tokens; OpenSSL verifies everything.
    #[test]
    fn a_whole_pki_with_every_key_on_a_token() {
        let root_token = TestToken::new("root");
        let ca_token = TestToken::new("ca");
        let agency = TestToken::new("g22");
        let p = Pki::empty();
        let out = p.ok(
            &[
                "init",
                "--name",
                "Axis Root CA",
                "--key-type",
                "rsa2048",
                "--key",
                &root_token.uri("root"),
            ],
            &[],
        );
        assert!(
            out.contains("on a PKCS#11 token, never outside it"),
            "{out}"
        );
        assert!(!p.path("ca/root/root.key.pem").exists());
        // The issuing CA: signed by the root's token key, its own made on its token; the root's
        // PIN comes from the index's URI, the new key's PIN from the passphrase setting.
        p.ok(
            &[
                "ca",
                "--id",
                "state",
                "--name",
                "CA for state agencies",
                "--key-type",
                "p256",
                "--key",
                &ca_token.uri_without_pin("state-ca"),
            ],
            &[("AXIS_PKI_NEW_KEY_PASS", ca_token.pin.as_str())],
        );
        assert!(!p.path("ca/cas/state/ca.key.pem").exists());
        let index = p.index();
        for ca in index["cas"].as_array().unwrap() {
            let key = ca["key"].as_str().unwrap();
            assert!(key.starts_with("pkcs11:token="), "{key}");
            Pkcs11Uri::parse(key).unwrap();
        }
        // The CA's PIN is its passphrase setting from now on (the URI has no pin-source).
        let ca_pin = [("AXIS_PKI_CA_PASS", ca_token.pin.as_str())];
        let seal = p.ok(
            &[
                "issue",
                "--ca",
                "state",
                "--out",
                "out",
                "--profile",
                "agency-seal",
                "--agency-id",
                "000.00.00.G22",
                "--name",
                "Văn phòng Chính phủ",
                "--key",
                &agency.uri("seal"),
            ],
            &ca_pin,
        );
        assert!(seal.contains("on a PKCS#11 token"), "{seal}");
        assert!(!p.path("out/000.00.00.G22-agency-seal.key.pem").exists());
        // The certificate is for the key on the token.
        let key = TokenKey::open(&Pkcs11Uri::parse(&agency.uri("seal")).unwrap(), None).unwrap();
        let cert = fs::read_to_string(p.path("out/000.00.00.G22-agency-seal.cert.pem")).unwrap();
        let der = ::pem::parse(&cert).unwrap().into_contents();
        assert_eq!(axis_pki::public_key_of(&der).unwrap(), key.public_key_der());
        // An encryption key on a token decrypts (or derives) and never signs.
        p.ok(
            &[
                "issue",
                "--ca",
                "state",
                "--out",
                "out",
                "--profile",
                "agency-encryption",
                "--agency-id",
                "000.00.00.G22",
                "--name",
                "Văn phòng Chính phủ",
                "--key",
                &agency.uri("enc"),
            ],
            &ca_pin,
        );
        let enc = TokenKey::open(&Pkcs11Uri::parse(&agency.uri("enc")).unwrap(), None).unwrap();
        assert!(axis_pki::KeySigner::sign(&enc, b"x").is_err());

        // A CSR made on the token: the agency's TLS key, generated there beforehand.
        TokenKey::generate(
            &Pkcs11Uri::parse(&agency.uri("tls")).unwrap(),
            None,
            KeyAlgorithm::EcdsaP256,
            KeyUse::Sign,
        )
        .unwrap();
        p.ok(
            &[
                "csr",
                "--profile",
                "agency-tls-client",
                "--agency-id",
                "000.00.00.G22",
                "--name",
                "Văn phòng Chính phủ",
                "--key",
                &agency.uri("tls"),
                "--out",
                "g22-tls.csr",
            ],
            &[],
        );
        let o = openssl(
            &["req", "-verify", "-noout", "-in", "g22-tls.csr"],
            &[],
            p.tmp.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        p.ok(
            &[
                "issue",
                "--ca",
                "state",
                "--out",
                "out",
                "--profile",
                "agency-tls-client",
                "--csr",
                "g22-tls.csr",
            ],
            &ca_pin,
        );

        // OpenSSL verifies every certificate against the CRLs signed on the tokens.
        for cert in [
            "out/000.00.00.G22-agency-seal.cert.pem",
            "out/000.00.00.G22-agency-encryption.cert.pem",
            "out/000.00.00.G22-agency-tls-client.cert.pem",
        ] {
            let (ok, msg) = openssl_verify(&p, cert);
            assert!(ok, "{cert}: {msg}");
        }
        // Revocation: a new CRL signed on the CA's token, which OpenSSL then applies.
        let serial = p.index()["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["profile"] == "agency-tls-client")
            .unwrap()["serial"]
            .as_str()
            .unwrap()
            .to_owned();
        p.ok(
            &["revoke", "--serial", &serial, "--reason", "key-compromise"],
            &ca_pin,
        );
        let (ok, msg) = openssl_verify(&p, "out/000.00.00.G22-agency-tls-client.cert.pem");
        assert!(!ok && msg.contains("revoked"), "{msg}");
        p.ok(&["crl", "--ca", "root"], &[]);
        let (ok, msg) = openssl_verify(&p, "ca/cas/state/ca.cert.pem");
        assert!(ok, "{msg}");
        // A token key cannot be put in a PKCS#12 bundle.
        let err = p.fails(
            &[
                "export",
                "--cert",
                "out/000.00.00.G22-agency-seal.cert.pem",
                "--key",
                &agency.uri("seal"),
                "--out",
                "g22.p12",
            ],
            &[
                ("AXIS_PKI_KEY_PASS", "unused-pass"),
                ("AXIS_PKI_P12_PASS", "p12-pass-1234"),
            ],
        );
        assert!(err.contains("never leaves it"), "{err}");
    }

    /// The PIN wrong, the token absent, the key already there: each its own message, and
    /// nothing written.
    #[test]
    fn token_refusals_are_each_named_and_change_nothing() {
        let root_token = TestToken::new("root");
        let p = Pki::empty();
        p.ok(
            &[
                "init",
                "--name",
                "Axis Root CA",
                "--key-type",
                "p256",
                "--key",
                &root_token.uri_without_pin("root"),
            ],
            &[("AXIS_PKI_NEW_KEY_PASS", root_token.pin.as_str())],
        );
        let before = p.snapshot();
        let ca = |env: &[(&str, &str)], key: &str| {
            p.fails(
                &[
                    "ca",
                    "--id",
                    "state",
                    "--name",
                    "CA",
                    "--key-type",
                    "p256",
                    "--key",
                    key,
                ],
                env,
            )
        };
        let ca_token = TestToken::new("ca");
        // The root's PIN wrong.
        let err = ca(
            &[
                ("AXIS_PKI_CA_PASS", "wrong-pin"),
                ("AXIS_PKI_NEW_KEY_PASS", &ca_token.pin),
            ],
            &ca_token.uri_without_pin("ca"),
        );
        assert!(err.contains("wrong PIN for token"), "{err}");
        // No PIN for the root at all.
        let err = ca(
            &[("AXIS_PKI_NEW_KEY_PASS", &ca_token.pin)],
            &ca_token.uri_without_pin("ca"),
        );
        assert!(err.contains("no passphrase for the root CA key"), "{err}");
        // The new key's token absent.
        let absent = ca_token.uri("ca").replace(&ca_token.label, "unplugged");
        let err = ca(&[("AXIS_PKI_CA_PASS", &root_token.pin)], &absent);
        assert!(err.contains("token \"unplugged\" is not present"), "{err}");
        assert!(err.contains("hint: plug the token in"), "{err}");
        // A key already there under that label.
        let err = ca(
            &[("AXIS_PKI_CA_PASS", &root_token.pin)],
            &root_token.uri("root"),
        );
        assert!(err.contains("already holds a key object=root"), "{err}");
        // A PIN in the URI.
        let err = ca(
            &[("AXIS_PKI_CA_PASS", &root_token.pin)],
            "pkcs11:token=t;object=k?pin-value=1234",
        );
        assert!(err.contains("`pin-value` is refused"), "{err}");
        p.assert_unchanged(&before);
    }
}
