//! Client configuration: where the axis is, the one trust anchor, and the agency's certificates
//! and keys, loaded from a TOML file ([`ClientConfig::from_file`]) or built in memory
//! ([`ClientConfig::new`]).
//!
//! ```toml
//! agency = "000.00.00.G22"               # this agency's id (omit for an operator config)
//! endpoint = "https://127.0.0.1:7443"
//! server_name = "localhost"              # TLS name of the axis server certificate
//! root = "../pki/root.cert.pem"          # the only trust anchor
//! passphrase_file = "secrets/g22.pass"   # decrypts the key files (or env AXIS_KEY_PASS)
//! log_key = "axis-log-signer.cert.pem"   # optional: pin the axis log signer
//! connect_timeout_secs = 10              # optional
//!
//! [tls]         # agency-tls-client (or axis-operator) certificate; the file may hold the chain
//! cert = "g22/tls.cert.pem"
//! key = "g22/tls.key.pem"
//! [seal]        # agency-seal: signs documents, routing headers, receipts and statuses
//! cert = "g22/seal.cert.pem"
//! key = "g22/seal.key.pem"
//! [personal]    # personal-signer: needed only to send documents
//! cert = "g22/personal.cert.pem"
//! key = "g22/personal.key.pem"
//! [encryption]  # agency-encryption: needed only to open documents
//! cert = "g22/encryption.cert.pem"
//! key = "g22/encryption.key.pem"
//! ```
//!
//! Top-level keys come before the first `[table]` (TOML puts any key after a table header into
//! that table). Relative paths are relative to the configuration file's directory. Keys are
//! encrypted PKCS#8 PEM files as `axis-pki` writes them; the passphrase comes from
//! `passphrase_file` or the `AXIS_KEY_PASS` environment variable, never from the command line.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axis_pki::{AgencyId, Passphrase, PrivateKey};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The environment variable holding the key passphrase when no `passphrase_file` is given.
pub const PASSPHRASE_ENV: &str = "AXIS_KEY_PASS";

/// Default time allowed to open the connection to the axis.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const MAX_CONFIG_FILE: u64 = 64 * 1024;
const MAX_CERT_FILE: u64 = 1024 * 1024;
const MAX_KEY_FILE: u64 = 64 * 1024;
const MAX_PASS_FILE: u64 = 4096;
/// Most certificates in one certificate file (the leaf and its CA chain).
const MAX_CHAIN: usize = 4;

/// A certificate (with the CA certificates that may follow it) and its private key.
///
/// Cheap to clone: the key is shared, never copied. No `Debug` output of the key.
#[derive(Clone)]
pub struct Credential {
    chain: Vec<Vec<u8>>,
    key: Arc<PrivateKey>,
}

impl Credential {
    /// A certificate chain (DER, leaf first) with its key.
    pub fn new(chain: Vec<Vec<u8>>, key: PrivateKey) -> Result<Self> {
        if chain.is_empty() {
            return Err(Error::config("a credential needs its certificate"));
        }
        Ok(Credential {
            chain,
            key: Arc::new(key),
        })
    }

    /// From PEM text: `CERTIFICATE` blocks (leaf first) and an `ENCRYPTED PRIVATE KEY`.
    pub fn from_pem(
        cert_pem: &str,
        encrypted_key_pem: &str,
        passphrase: &Passphrase,
    ) -> Result<Self> {
        let chain = axis_pki::certificates_from_pem(cert_pem, MAX_CHAIN)
            .map_err(|e| Error::config(format!("certificate file: {e}")))?;
        let key = PrivateKey::from_encrypted_pem(encrypted_key_pem, passphrase)
            .map_err(|e| Error::config(format!("key file: {e}")).with_source(e))?;
        Self::new(chain, key)
    }

    /// The leaf certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        // `new` refuses an empty chain.
        self.chain.first().map_or(&[][..], Vec::as_slice)
    }

    /// The leaf and the CA certificates given with it (DER).
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("certificates", &self.chain.len())
            .field("key", &"[private key]")
            .finish()
    }
}

/// What [`crate::Client::connect`] needs. Load it with [`ClientConfig::from_file`], or build it
/// with [`ClientConfig::new`] and set the optional fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// This agency's id; `None` for an operator configuration (directory administration only).
    pub agency: Option<AgencyId>,
    /// The axis's URL, `https://host:port`.
    pub endpoint: String,
    /// The DNS name in the axis server's TLS certificate.
    pub server_name: String,
    /// The root CA certificate (DER): the only trust anchor.
    pub root: Vec<u8>,
    /// The TLS client identity (agency-tls-client, or axis-operator).
    pub tls: Credential,
    /// The agency seal: signs submissions, receipts and statuses.
    pub seal: Option<Credential>,
    /// The person with authority: needed to send documents.
    pub personal: Option<Credential>,
    /// The agency's decryption key: needed to open documents.
    pub encryption: Option<Credential>,
    /// The axis log signer's certificate (DER), to pin the log: tree heads signed by any other
    /// key are refused. `None` accepts any log-signer certificate of the PKI.
    pub log_key: Option<Vec<u8>>,
    /// Time allowed to open the connection.
    pub connect_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    agency: Option<String>,
    endpoint: String,
    server_name: String,
    root: PathBuf,
    passphrase_file: Option<PathBuf>,
    log_key: Option<PathBuf>,
    connect_timeout_secs: Option<u64>,
    tls: FileCredential,
    seal: Option<FileCredential>,
    personal: Option<FileCredential>,
    encryption: Option<FileCredential>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCredential {
    cert: PathBuf,
    key: PathBuf,
}

impl ClientConfig {
    /// A configuration with the required parts; the optional ones start empty.
    pub fn new(
        endpoint: impl Into<String>,
        server_name: impl Into<String>,
        root: Vec<u8>,
        tls: Credential,
    ) -> Self {
        ClientConfig {
            agency: None,
            endpoint: endpoint.into(),
            server_name: server_name.into(),
            root,
            tls,
            seal: None,
            personal: None,
            encryption: None,
            log_key: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Sets the agency id.
    pub fn with_agency(mut self, agency: AgencyId) -> Self {
        self.agency = Some(agency);
        self
    }

    /// Sets the agency seal.
    pub fn with_seal(mut self, seal: Credential) -> Self {
        self.seal = Some(seal);
        self
    }

    /// Sets the personal signer.
    pub fn with_personal(mut self, personal: Credential) -> Self {
        self.personal = Some(personal);
        self
    }

    /// Sets the encryption (decryption) key.
    pub fn with_encryption(mut self, encryption: Credential) -> Self {
        self.encryption = Some(encryption);
        self
    }

    /// Pins the log signer (its certificate, DER).
    pub fn with_log_key(mut self, log_signer_certificate: Vec<u8>) -> Self {
        self.log_key = Some(log_signer_certificate);
        self
    }

    /// Loads a TOML configuration file (format in the module documentation). Relative paths
    /// are taken from the file's directory; the key passphrase from `passphrase_file` or the
    /// `AXIS_KEY_PASS` environment variable.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = read_text(path, MAX_CONFIG_FILE, "configuration file")?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        Self::from_toml(&text, dir).map_err(|e| e.context(path.display()))
    }

    /// Parses TOML text whose relative paths are relative to `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Self> {
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_owned();
            let hint = if msg.contains("unknown field") {
                "; top-level keys (agency, endpoint, server_name, root, passphrase_file, \
                 log_key, connect_timeout_secs) must come before the first [table]"
            } else {
                ""
            };
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            Error::config(format!("invalid configuration{at}: {msg}{hint}"))
        })?;
        let resolve = |p: &Path| -> PathBuf {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base_dir.join(p)
            }
        };
        let agency = file
            .agency
            .as_deref()
            .map(|a| {
                AgencyId::parse(a).map_err(|e| Error::config(format!("agency = \"{a}\": {e}")))
            })
            .transpose()?;
        if !file.endpoint.starts_with("https://") {
            return Err(Error::config(format!(
                "endpoint = \"{}\": the axis is reached over TLS only; use https://HOST:PORT",
                file.endpoint
            )));
        }
        if file.server_name.trim().is_empty() {
            return Err(Error::config(
                "server_name is empty: give the DNS name in the axis server's certificate",
            ));
        }
        let root = read_certificates(&resolve(&file.root), "root")?;
        let [root] = <[Vec<u8>; 1]>::try_from(root).map_err(|_| {
            Error::config(format!(
                "root = {}: give exactly one certificate, the root CA",
                file.root.display()
            ))
        })?;
        let pass = Secret::load(file.passphrase_file.as_deref().map(resolve).as_deref())?;
        let load = |table: &str, c: &FileCredential| -> Result<Credential> {
            let chain = read_certificates(&resolve(&c.cert), &format!("[{table}] cert"))?;
            let key_path = resolve(&c.key);
            let pem = zeroize::Zeroizing::new(read_text(
                &key_path,
                MAX_KEY_FILE,
                &format!("[{table}] key"),
            )?);
            let key = PrivateKey::from_encrypted_pem(&pem, &pass.pass).map_err(|e| {
                let what = match e {
                    axis_pki::Error::WrongPassphrase => format!(
                        "the passphrase from {} does not decrypt it; check the passphrase",
                        pass.source
                    ),
                    axis_pki::Error::KeyNotEncrypted => {
                        "the key is not encrypted; Axis keeps keys only as encrypted PKCS#8 \
                         (as axis-pki writes them)"
                            .to_owned()
                    }
                    ref other => format!("{other}"),
                };
                Error::config(format!("[{table}] key = {}: {what}", key_path.display()))
                    .with_source(e)
            })?;
            Credential::new(chain, key)
        };
        let log_key = file
            .log_key
            .as_deref()
            .map(|p| {
                let certs = read_certificates(&resolve(p), "log_key")?;
                certs.into_iter().next().ok_or_else(|| {
                    Error::config(format!("log_key = {}: no certificate", p.display()))
                })
            })
            .transpose()?;
        Ok(ClientConfig {
            agency,
            endpoint: file.endpoint,
            server_name: file.server_name,
            root,
            tls: load("tls", &file.tls)?,
            seal: file.seal.as_ref().map(|c| load("seal", c)).transpose()?,
            personal: file
                .personal
                .as_ref()
                .map(|c| load("personal", c))
                .transpose()?,
            encryption: file
                .encryption
                .as_ref()
                .map(|c| load("encryption", c))
                .transpose()?,
            log_key,
            connect_timeout: file
                .connect_timeout_secs
                .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs),
        })
    }
}

/// The key passphrase and where it came from (for messages; never the passphrase).
struct Secret {
    pass: Passphrase,
    source: String,
}

impl Secret {
    fn load(file: Option<&Path>) -> Result<Secret> {
        if let Some(path) = file {
            let text = read_text(path, MAX_PASS_FILE, "passphrase_file")?;
            if text.trim_end_matches(['\n', '\r']).is_empty() {
                return Err(Error::config(format!(
                    "passphrase_file = {}: the file is empty",
                    path.display()
                )));
            }
            return Ok(Secret {
                pass: Passphrase::new(text),
                source: format!("passphrase_file {}", path.display()),
            });
        }
        match std::env::var(PASSPHRASE_ENV) {
            Ok(value) if !value.is_empty() => Ok(Secret {
                pass: Passphrase::new(value),
                source: format!("the environment variable {PASSPHRASE_ENV}"),
            }),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(Error::config(format!(
                "no passphrase for the key files: set passphrase_file in the configuration \
                 (a file readable only by you) or export {PASSPHRASE_ENV}"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::config(format!(
                "{PASSPHRASE_ENV} is not valid UTF-8"
            ))),
        }
    }
}

fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound && what != "configuration file" {
            " (relative paths are relative to the configuration file's directory)"
        } else {
            ""
        };
        Error::config(format!("{what} {}: {e}{hint}", path.display())).with_source(e)
    })?;
    let mut text = String::new();
    file.take(max + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::config(format!("{what} {}: {e}", path.display())).with_source(e))?;
    if text.len() as u64 > max {
        return Err(Error::config(format!(
            "{what} {} is larger than {max} bytes; is it the right file?",
            path.display()
        )));
    }
    Ok(text)
}

fn read_certificates(path: &Path, what: &str) -> Result<Vec<Vec<u8>>> {
    let text = read_text(path, MAX_CERT_FILE, what)?;
    let certs = axis_pki::certificates_from_pem(&text, MAX_CHAIN)
        .map_err(|e| Error::config(format!("{what} = {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "{what} = {}: no PEM CERTIFICATE block in the file",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests;
