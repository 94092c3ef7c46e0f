//! The second implementation (`tests/python/axis_formats.py`, written from FORMATS.md alone
//! with `cryptography`, `asn1crypto` and `asn1tools`) against Axis: it verifies every test
//! vector, reproduces the key envelope and the ciphertext from `parameters.json`, opens the
//! sealed document as each recipient, and verifies the receipts, the log and the bundle.
//! Fails, never skips, without python3 or its modules (`.ci/run` installs them).

use std::process::Command;

use crate::asn1::{PYTHON_MODULES_INSTALL, repo};
use crate::tools::{self, assert_ok};

fn python() -> Command {
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/python/axis_formats.py"));
    cmd
}

#[test]
fn python_verifies_every_vector_and_opens_the_sealed_document() {
    let mut cmd = python();
    cmd.arg("vectors").arg(repo());
    let out = assert_ok(
        &tools::run(cmd, PYTHON_MODULES_INSTALL),
        "tests/python/axis_formats.py vectors",
    );
    assert!(
        out.contains("vectors checked: 3 receipts, 5 entries, bundle of 3 statements"),
        "{out}"
    );
}
