//! OpenSSL as the independent judge: a directory of PEM files for its `-CAfile`, running the
//! `openssl` CLI, and `openssl cms -verify` of a detached signature at a given time.

use std::path::{Path, PathBuf};
use std::process::Command;

use axis_pki::to_pem;
use time::OffsetDateTime;

use crate::fixture::fixture;

/// A temporary directory holding root.pem, ca.pem and trust.pem for `openssl`.
pub struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    /// root.pem, ca.pem, and trust.pem (the root with `crls`; OpenSSL 3.0's `cms` has no
    /// -CRLfile, so the CRLs go in the CAfile).
    pub fn new(crls: &[Vec<u8>]) -> Self {
        let f = fixture();
        let d = Dir {
            dir: tempfile::tempdir().unwrap(),
        };
        d.write("root.pem", to_pem("CERTIFICATE", &f.root).as_bytes());
        d.write("ca.pem", to_pem("CERTIFICATE", &f.ca).as_bytes());
        let mut trust = to_pem("CERTIFICATE", &f.root);
        trust.extend(crls.iter().map(|c| to_pem("X509 CRL", c)));
        d.write("trust.pem", trust.as_bytes());
        d
    }

    /// The path of `name` in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `name` into the directory; returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

/// Runs `openssl` with `args`: whether it succeeded, and what it wrote to stderr.
pub fn openssl(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `openssl cms -verify` of a detached signature at `at`, with chain and CRLs (OpenSSL 3.0's
/// `cms` has no -untrusted; -certfile adds the CA to path building, and the signature also
/// carries it).
pub fn cms_verify(d: &Dir, sig: &Path, content: &Path, at: OffsetDateTime) -> (bool, String) {
    let attime = at.unix_timestamp().to_string();
    openssl(&[
        "cms".as_ref(),
        "-verify".as_ref(),
        "-binary".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        sig.as_os_str(),
        "-content".as_ref(),
        content.as_os_str(),
        "-CAfile".as_ref(),
        d.path("trust.pem").as_os_str(),
        "-certfile".as_ref(),
        d.path("ca.pem").as_os_str(),
        "-crl_check_all".as_ref(),
        "-purpose".as_ref(),
        "any".as_ref(),
        "-attime".as_ref(),
        attime.as_ref(),
        "-out".as_ref(),
        d.path("verified.out").as_os_str(),
    ])
}

/// Runs `openssl` with `args` and returns what it wrote to stdout; fails the test, showing
/// stderr, if it did not succeed.
pub fn openssl_ok<I, S>(args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A P-256 key (`<name>.key`) and a CSR for it (`<name>.csr`, PEM unless `extra` says
/// `-outform DER`) made by `openssl req` in `dir`, with `subj` and the further `extra`
/// arguments (`-addext …`, `-utf8`); returns the CSR's path.
pub fn openssl_csr(dir: &Path, name: &str, subj: &str, extra: &[&str]) -> PathBuf {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let head = [
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        subj,
        "-keyout",
    ];
    let mut args: Vec<&std::ffi::OsStr> = head.iter().map(std::ffi::OsStr::new).collect();
    args.extend([key.as_os_str(), "-out".as_ref(), csr.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    openssl_ok(args);
    csr
}
