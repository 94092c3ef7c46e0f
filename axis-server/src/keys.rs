//! The node's own keys (TLS, log signer): each decrypted with its own passphrase — a file or an
//! environment variable named in its table, as `axis-pki` gives every key its own — or else
//! with the configuration's shared passphrase (`AXIS_SERVER_KEY_PASS`, then `passphrase_file`).
//! Passphrases never come from the command line and never appear in messages.
//!
//! A key may instead be a `pkcs11:` URI: the key stays on its token, and the PIN comes from the
//! URI's `pin-source`, else from the key's own `passphrase_file` / `passphrase_env` (never from
//! the shared passphrase, which decrypts files).

use std::path::{Path, PathBuf};

use axis_keys::{Key, KeyRef, Pin, TokenKey};
use axis_pki::{Passphrase, PrivateKey};

use crate::config::{Config, KeyPairFiles};

/// The environment variable holding the shared passphrase (it wins over `passphrase_file`).
pub const SHARED_PASSPHRASE_ENV: &str = "AXIS_SERVER_KEY_PASS";

/// Largest passphrase file read.
const MAX_PASS_FILE: u64 = 4096;
/// Largest key file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Why a key of the node could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A passphrase file could not be read.
    #[error("{setting} {path}: {source}")]
    PassphraseFile {
        /// The setting (`[tls] passphrase_file`, `passphrase_file`).
        setting: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A passphrase file is empty or too large.
    #[error("{setting} {path}: {detail}")]
    PassphraseFileContent {
        /// The setting.
        setting: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: &'static str,
    },
    /// A key's `passphrase_env` names a variable that is not set.
    #[error("[{table}] passphrase_env = \"{var}\": the variable is not set (or empty)")]
    PassphraseEnv {
        /// The table.
        table: &'static str,
        /// The variable.
        var: String,
    },
    /// A key names both a passphrase file and a variable.
    #[error("[{table}]: give passphrase_file or passphrase_env, not both")]
    TwoPassphrases {
        /// The table.
        table: &'static str,
    },
    /// A key has no passphrase of its own and the configuration none to share.
    #[error(
        "[{table}] key {path}: no passphrase: give the key its own passphrase_file or \
         passphrase_env, or the configuration a passphrase_file (or set {SHARED_PASSPHRASE_ENV})"
    )]
    NoPassphrase {
        /// The table.
        table: &'static str,
        /// The key file.
        path: PathBuf,
    },
    /// The key file could not be read.
    #[error("[{table}] key {path}: {source}")]
    Read {
        /// The table.
        table: &'static str,
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The passphrase does not decrypt the key.
    #[error("[{table}] key {path}: the passphrase from {from} does not decrypt it")]
    WrongPassphrase {
        /// The table.
        table: &'static str,
        /// The key file.
        path: PathBuf,
        /// Where the passphrase came from.
        from: String,
    },
    /// The key is a malformed `pkcs11:` URI.
    #[error("[{table}] key: {source}")]
    Uri {
        /// The table.
        table: &'static str,
        /// Why.
        source: Box<axis_keys::UriError>,
    },
    /// The token key could not be opened (token absent, wrong PIN, no such key, wrong type).
    #[error("[{table}] key {uri}: {source}")]
    Token {
        /// The table.
        table: &'static str,
        /// The URI (without any PIN).
        uri: String,
        /// Why.
        source: Box<axis_keys::Error>,
    },
    /// The key file is not an encrypted PKCS#8 key Axis accepts.
    #[error("[{table}] key {path}: {source}")]
    Key {
        /// The table.
        table: &'static str,
        /// The key file.
        path: PathBuf,
        /// Why.
        source: axis_pki::Error,
    },
}

/// A passphrase and where it came from (for messages).
pub struct SourcedPassphrase {
    /// The passphrase.
    pub passphrase: Passphrase,
    /// Where it came from: a setting and a file or variable name, never the value.
    pub source: String,
}

impl std::fmt::Debug for SourcedPassphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourcedPassphrase")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The configuration's shared passphrase, if it has one: `AXIS_SERVER_KEY_PASS`, else the
/// top-level `passphrase_file`.
pub fn shared_passphrase(config: &Config) -> Result<Option<SourcedPassphrase>, KeyError> {
    if let Ok(p) = std::env::var(SHARED_PASSPHRASE_ENV)
        && !p.is_empty()
    {
        return Ok(Some(SourcedPassphrase {
            passphrase: Passphrase::new(p),
            source: format!("the environment variable {SHARED_PASSPHRASE_ENV}"),
        }));
    }
    config
        .passphrase_file
        .as_deref()
        .map(|p| read_passphrase(p, "passphrase_file"))
        .transpose()
}

/// A key's own passphrase, if its table names one.
pub fn own_passphrase(
    table: &'static str,
    kp: &KeyPairFiles,
) -> Result<Option<SourcedPassphrase>, KeyError> {
    match (&kp.passphrase_file, &kp.passphrase_env) {
        (Some(_), Some(_)) => Err(KeyError::TwoPassphrases { table }),
        (Some(path), None) => {
            read_passphrase(path, &format!("[{table}] passphrase_file")).map(Some)
        }
        (None, Some(var)) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(SourcedPassphrase {
                passphrase: Passphrase::new(v),
                source: format!("[{table}] passphrase_env {var}"),
            })),
            _ => Err(KeyError::PassphraseEnv {
                table,
                var: var.clone(),
            }),
        },
        (None, None) => Ok(None),
    }
}

/// The node's keys by table name, as the configuration lists them.
pub fn key_tables(config: &Config) -> [(&'static str, &KeyPairFiles); 2] {
    [("tls", &config.tls), ("log_signer", &config.log_signer)]
}

/// Checks that every key without a passphrase of its own can use a shared one; `shared` says
/// whether the configuration has one.
pub fn check_passphrases(config: &Config, shared: bool) -> Result<(), KeyError> {
    for (table, kp) in key_tables(config) {
        if is_token(kp) {
            continue;
        }
        if kp.passphrase_file.is_none() && kp.passphrase_env.is_none() && !shared {
            return Err(KeyError::NoPassphrase {
                table,
                path: kp.key.clone(),
            });
        }
    }
    Ok(())
}

/// Whether the key of `kp` is on a token (its `key` is a `pkcs11:` URI).
pub fn is_token(kp: &KeyPairFiles) -> bool {
    kp.key.to_string_lossy().starts_with("pkcs11:")
}

/// Loads the key of `table`: opens it on its token, or decrypts its file with its own
/// passphrase or else `shared`.
pub fn load_key(
    table: &'static str,
    kp: &KeyPairFiles,
    shared: Option<(&Passphrase, &str)>,
) -> Result<Key, KeyError> {
    match KeyRef::from_path(&kp.key).map_err(|source| KeyError::Uri {
        table,
        source: Box::new(source),
    })? {
        KeyRef::Pkcs11(uri) => {
            let pin = own_passphrase(table, kp)?.map(|p| Pin::from(&p.passphrase));
            TokenKey::open(&uri, pin)
                .map(Key::from)
                .map_err(|source| KeyError::Token {
                    table,
                    uri: uri.to_string(),
                    source: Box::new(source),
                })
        }
        _ => load_file_key(table, kp, shared).map(Key::from),
    }
}

fn load_file_key(
    table: &'static str,
    kp: &KeyPairFiles,
    shared: Option<(&Passphrase, &str)>,
) -> Result<PrivateKey, KeyError> {
    let own = own_passphrase(table, kp)?;
    let (pass, from) = match (&own, shared) {
        (Some(o), _) => (&o.passphrase, o.source.as_str()),
        (None, Some((p, source))) => (p, source),
        (None, None) => {
            return Err(KeyError::NoPassphrase {
                table,
                path: kp.key.clone(),
            });
        }
    };
    let path = kp.key.clone();
    let text = zeroize::Zeroizing::new(read_limited(&kp.key, MAX_KEY_FILE).map_err(|source| {
        KeyError::Read {
            table,
            path: path.clone(),
            source,
        }
    })?);
    PrivateKey::from_encrypted_pem(&text, pass).map_err(|e| match e {
        axis_pki::Error::WrongPassphrase => KeyError::WrongPassphrase {
            table,
            path,
            from: from.to_owned(),
        },
        source => KeyError::Key {
            table,
            path,
            source,
        },
    })
}

fn read_passphrase(path: &Path, setting: &str) -> Result<SourcedPassphrase, KeyError> {
    let text = read_limited(path, MAX_PASS_FILE).map_err(|source| KeyError::PassphraseFile {
        setting: setting.to_owned(),
        path: path.to_owned(),
        source,
    })?;
    if text.trim_end_matches(['\n', '\r']).is_empty() {
        return Err(KeyError::PassphraseFileContent {
            setting: setting.to_owned(),
            path: path.to_owned(),
            detail: "the file is empty",
        });
    }
    Ok(SourcedPassphrase {
        passphrase: Passphrase::new(text),
        source: format!("{setting} {}", path.display()),
    })
}

/// Reads a small text file, refusing one larger than `max` (a wrong path to a big file).
fn read_limited(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes; is it the right file?"),
        ));
    }
    Ok(text)
}
