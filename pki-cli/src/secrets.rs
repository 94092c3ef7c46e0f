//! Passphrases: from a file named by an option, or from an environment variable; never from argv
//! (visible in `ps` and shell history) and never printed.

use std::path::{Path, PathBuf};

use axis_pki::Passphrase;
use clap::Args;

use crate::error::{Failure, Result};
use crate::fsutil;

/// Largest passphrase file read.
const MAX_PASS_FILE: u64 = 4096;

/// The four passphrases the CLI may need.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// The key of the CA that signs.
    Ca,
    /// Protects a newly generated key.
    NewKey,
    /// An existing end-entity key (`export`).
    Key,
    /// A PKCS#12 bundle (`export`).
    P12,
}

impl Kind {
    pub(crate) fn env(self) -> &'static str {
        match self {
            Kind::Ca => "AXIS_PKI_CA_PASS",
            Kind::NewKey => "AXIS_PKI_NEW_KEY_PASS",
            Kind::Key => "AXIS_PKI_KEY_PASS",
            Kind::P12 => "AXIS_PKI_P12_PASS",
        }
    }

    pub(crate) fn option(self) -> &'static str {
        match self {
            Kind::Ca => "--ca-pass-file",
            Kind::NewKey => "--new-key-pass-file",
            Kind::Key => "--key-pass-file",
            Kind::P12 => "--p12-pass-file",
        }
    }
}

/// A passphrase and where it came from (for messages; never the passphrase itself).
pub(crate) struct Secret {
    pub(crate) pass: Passphrase,
    pub(crate) source: String,
}

/// Reads the passphrase of `kind`: the file if one was given, else the environment variable.
/// `purpose` says what it is for, e.g. "the key of CA `state`".
pub(crate) fn get(kind: Kind, file: Option<&Path>, purpose: &str) -> Result<Secret> {
    if let Some(path) = file {
        let text = fsutil::read_text(path, MAX_PASS_FILE, "passphrase file")?;
        if text.trim_end_matches(['\n', '\r']).is_empty() {
            return Err(Failure::new(format!(
                "the passphrase file {} (for {purpose}) is empty",
                path.display()
            )));
        }
        return Ok(Secret {
            pass: Passphrase::new(text),
            source: format!("{} {}", kind.option(), path.display()),
        });
    }
    match std::env::var(kind.env()) {
        Ok(value) if !value.is_empty() => Ok(Secret {
            pass: Passphrase::new(value),
            source: format!("the environment variable {}", kind.env()),
        }),
        Ok(_) | Err(std::env::VarError::NotPresent) => Err(Failure::new(format!(
            "no passphrase for {purpose}: set {} or give {} FILE",
            kind.env(),
            kind.option()
        ))
        .hint(format!(
            "passphrases are never taken from the command line; put it in a file readable \
             only by you and pass {} FILE, or export {}",
            kind.option(),
            kind.env()
        ))),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Failure::new(format!("{} is not valid UTF-8", kind.env())))
        }
    }
}

/// Reads a passphrase for a new key and checks its strength before any work is done.
pub(crate) fn get_new(file: Option<&Path>, purpose: &str) -> Result<Secret> {
    let s = get(Kind::NewKey, file, purpose)?;
    s.pass.check_strength().map_err(|e| {
        Failure::from(e)
            .context(format!("passphrase for {purpose} (from {})", s.source))
            .hint(format!(
                "choose at least {} characters, e.g. `openssl rand -base64 24 > FILE` and \
                 give {} FILE",
                axis_pki::MIN_PASSPHRASE_LEN,
                Kind::NewKey.option()
            ))
    })?;
    Ok(s)
}

/// `--ca-pass-file FILE` (or `AXIS_PKI_CA_PASS`).
#[derive(Debug, Clone, Args)]
pub(crate) struct CaPassArg {
    /// File holding the passphrase of the CA key that signs [default: the passphrase itself
    /// from $AXIS_PKI_CA_PASS].
    #[arg(
        long = "ca-pass-file",
        value_name = "FILE",
        env = "AXIS_PKI_CA_PASS_FILE"
    )]
    pub(crate) ca_pass_file: Option<PathBuf>,
}

/// `--new-key-pass-file FILE` (or `AXIS_PKI_NEW_KEY_PASS`).
#[derive(Debug, Clone, Args)]
pub(crate) struct NewKeyPassArg {
    /// File holding the passphrase that will protect the newly generated private key, at least 8
    /// characters [default: the passphrase itself from $AXIS_PKI_NEW_KEY_PASS].
    #[arg(
        long = "new-key-pass-file",
        value_name = "FILE",
        env = "AXIS_PKI_NEW_KEY_PASS_FILE"
    )]
    pub(crate) new_key_pass_file: Option<PathBuf>,
}

/// `--key-pass-file FILE` (or `AXIS_PKI_KEY_PASS`).
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyPassArg {
    /// File holding the passphrase of the private key given with --key [default: the passphrase
    /// itself from $AXIS_PKI_KEY_PASS].
    #[arg(
        long = "key-pass-file",
        value_name = "FILE",
        env = "AXIS_PKI_KEY_PASS_FILE"
    )]
    pub(crate) key_pass_file: Option<PathBuf>,
}

/// `--p12-pass-file FILE` (or `AXIS_PKI_P12_PASS`).
#[derive(Debug, Clone, Args)]
pub(crate) struct P12PassArg {
    /// File holding the passphrase that will protect the PKCS#12 bundle, at least 8 characters
    /// [default: the passphrase itself from $AXIS_PKI_P12_PASS].
    #[arg(
        long = "p12-pass-file",
        value_name = "FILE",
        env = "AXIS_PKI_P12_PASS_FILE"
    )]
    pub(crate) p12_pass_file: Option<PathBuf>,
}
