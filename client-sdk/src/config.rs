//! Client configuration: where the axis is (one or several nodes), the one trust anchor, the
//! agency's certificates and keys, deadlines and the directory cache, loaded from a TOML file
//! ([`ClientConfig::from_file`]) or built in memory ([`ClientConfig::new`]).
//!
//! ```toml
//! agency = "000.00.00.G22"               # this agency's id (omit for an operator config)
//! endpoints = ["https://axis-1.example.vn:7443", "https://axis-2.example.vn:7443"]
//! server_name = "axis.example.vn"        # TLS name in the axis servers' certificate
//! root = "../pki/root.cert.pem"          # the only trust anchor
//! passphrase_file = "secrets/g22.pass"   # decrypts every key without its own passphrase
//! log_key = "axis-log-signer.cert.pem"   # optional: pin the axis log signer
//!
//! [timeouts]                             # optional; these are the defaults (seconds)
//! connect_secs = 5                       # TCP + TLS + HTTP/2 to one node
//! trust_secs = 10                        # fetching the issuing CAs and CRLs
//! call_secs = 30                         # each unary call
//! stream_idle_secs = 10                  # longest silence on a connection or stream
//!
//! [directory_cache]                      # optional; these are the defaults (seconds)
//! refresh_secs = 600                     # entries younger than this are used without a call
//! max_age_secs = 86400                   # older ones are used only while the axis is down
//!
//! [tls]         # agency-tls-client (or axis-operator) certificate; the file may hold the chain
//! cert = "g22/tls.chain.pem"
//! key = "g22/tls.key.pem"
//! passphrase_file = "secrets/g22-tls.pass"   # optional: this key's own passphrase
//! [seal]        # agency-seal: signs documents, routing headers, receipts and statuses
//! cert = "g22/seal.cert.pem"
//! key = "g22/seal.key.pem"
//! passphrase_env = "G22_SEAL_PASS"           # optional: the variable holding it
//! [personal]    # personal-signer: needed only to send documents
//! cert = "g22/personal.cert.pem"
//! key = "g22/personal.key.pem"
//! [encryption]  # agency-encryption: needed only to open documents
//! cert = "g22/encryption.cert.pem"
//! key = "g22/encryption.key.pem"
//! ```
//!
//! Top-level keys come before the first `[table]` (TOML puts any key after a table header into
//! that table). `endpoint = "https://…"` (one node) is accepted instead of `endpoints`.
//! Relative paths are relative to the configuration file's directory. Keys are encrypted PKCS#8
//! PEM files as `axis-pki` writes them; each key's passphrase comes from its own
//! `passphrase_file` or `passphrase_env`, else from the top-level `passphrase_file`, else from
//! the `AXIS_KEY_PASS` environment variable — never from the command line.
//!
//! Any `key` may instead be an RFC 7512 `pkcs11:` URI: the key stays on its PKCS#11 token or
//! HSM and signs (TLS handshakes included), decrypts or derives there. Its PIN comes from the
//! URI's `pin-source=file:…` or `env:…`, else from the table's own `passphrase_file` or
//! `passphrase_env` — never from the shared passphrase, which decrypts key files:
//!
//! ```toml
//! [seal]
//! cert = "g22/seal.cert.pem"
//! key = "pkcs11:token=g22;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/axis/g22.pin"
//! ```

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axis_keys::{Key, KeyRef, Pin, TokenKey};
use axis_pki::{AgencyId, Passphrase, PrivateKey};
use serde::Deserialize;

use crate::error::{Error, Result};

/// The environment variable holding the key passphrase when neither the key nor the
/// configuration names one.
pub const PASSPHRASE_ENV: &str = "AXIS_KEY_PASS";

/// Default deadline for opening a connection to one node: TCP, TLS and HTTP/2 together.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default deadline for fetching the trust material (issuing CAs and CRLs).
pub const DEFAULT_TRUST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default deadline for each unary call.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default longest silence on a connection or a stream before it counts as broken.
///
/// A connection PINGs its node after half of it without a byte: failover from a silent node
/// in about 10 s, for about 26 µs of the node's CPU per PING (10,000 idle agencies: ~5 % of a
/// core; BENCHMARKS.md, "The SDK's keepalive"). Twice the value halves that cost and doubles
/// the failover time.
pub const DEFAULT_STREAM_IDLE: Duration = Duration::from_secs(10);
/// Default age under which a cached directory entry is used without asking the axis.
pub const DEFAULT_CACHE_REFRESH: Duration = Duration::from_secs(10 * 60);
/// Default age up to which a cached directory entry is used while the axis is unreachable.
pub const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Most endpoints in one configuration.
pub const MAX_ENDPOINTS: usize = 16;

const MAX_CONFIG_FILE: u64 = 64 * 1024;
const MAX_CERT_FILE: u64 = 1024 * 1024;
const MAX_KEY_FILE: u64 = 64 * 1024;
const MAX_PASS_FILE: u64 = 4096;
/// Most certificates in one certificate file (the leaf and its CA chain).
const MAX_CHAIN: usize = 4;
/// Shortest deadline accepted (a deadline of zero would fail every call).
const MIN_DEADLINE: Duration = Duration::from_millis(100);
/// Longest deadline accepted (a day: beyond it, "no deadline" in disguise).
const MAX_DEADLINE: Duration = Duration::from_secs(24 * 60 * 60);

/// A certificate (with the CA certificates that may follow it) and its private key: a key file
/// decrypted in memory, or a key that stays on a PKCS#11 token.
///
/// Cheap to clone: the key is shared, never copied. No `Debug` output of the key.
#[derive(Clone)]
pub struct Credential {
    chain: Vec<Vec<u8>>,
    key: Key,
}

impl Credential {
    /// A certificate chain (DER, leaf first) with its key (a [`PrivateKey`], a
    /// [`TokenKey`] or an [`axis_keys::Key`]).
    pub fn new(chain: Vec<Vec<u8>>, key: impl Into<Key>) -> Result<Self> {
        if chain.is_empty() {
            return Err(Error::config("a credential needs its certificate"));
        }
        Ok(Credential {
            chain,
            key: key.into(),
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

    /// The private key, wherever it is.
    pub fn key(&self) -> &Key {
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

/// The SDK's deadlines. Every step that waits on the network has one, so that a node that
/// stops answering (a partition, a blackhole, a hung process) costs a bounded time before the
/// SDK moves to the next endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Opening a connection to one node: TCP connect, TLS handshake and HTTP/2 setup together.
    pub connect: Duration,
    /// Fetching the trust material (`GetTrustMaterial`).
    pub trust_material: Duration,
    /// Each unary call, from sending the request to the whole answer.
    pub call: Duration,
    /// The longest silence tolerated: on every connection (HTTP/2 PINGs every half of it must
    /// be answered within the other half, so a subscribed inbox that rightly receives nothing
    /// still notices a dead node), between two messages of a download, and between two chunks
    /// the axis takes of an upload.
    pub stream_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: DEFAULT_CONNECT_TIMEOUT,
            trust_material: DEFAULT_TRUST_TIMEOUT,
            call: DEFAULT_CALL_TIMEOUT,
            stream_idle: DEFAULT_STREAM_IDLE,
        }
    }
}

impl Timeouts {
    /// Sets the connect deadline.
    pub fn with_connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }
    /// Sets the trust-material deadline.
    pub fn with_trust_material(mut self, d: Duration) -> Self {
        self.trust_material = d;
        self
    }
    /// Sets the unary call deadline.
    pub fn with_call(mut self, d: Duration) -> Self {
        self.call = d;
        self
    }
    /// Sets the longest silence on a connection or stream.
    pub fn with_stream_idle(mut self, d: Duration) -> Self {
        self.stream_idle = d;
        self
    }

    fn check(&self) -> Result<()> {
        for (name, d) in [
            ("connect_secs", self.connect),
            ("trust_secs", self.trust_material),
            ("call_secs", self.call),
            ("stream_idle_secs", self.stream_idle),
        ] {
            if !(MIN_DEADLINE..=MAX_DEADLINE).contains(&d) {
                return Err(Error::config(format!(
                    "[timeouts] {name} = {} s: give a deadline between 0.1 s and one day",
                    d.as_secs_f64()
                )));
            }
        }
        Ok(())
    }
}

/// How long verified directory entries (recipients' encryption certificates, this agency's own
/// name) are kept. An entry younger than `refresh` is used without asking the axis; an older
/// one is looked up again, and used as it is only while the axis is unreachable, up to
/// `max_age`. A cached certificate is verified again (chain, validity, CRLs) at every use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachePolicy {
    /// Age under which an entry is used without a directory call.
    pub refresh: Duration,
    /// Age beyond which an entry is never used; zero turns the cache off.
    pub max_age: Duration,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            refresh: DEFAULT_CACHE_REFRESH,
            max_age: DEFAULT_CACHE_MAX_AGE,
        }
    }
}

impl CachePolicy {
    /// A policy; `refresh` is capped at `max_age`.
    pub fn new(refresh: Duration, max_age: Duration) -> Self {
        CachePolicy {
            refresh: refresh.min(max_age),
            max_age,
        }
    }

    /// No cache: every sealing looks its recipients up.
    pub fn disabled() -> Self {
        Self::new(Duration::ZERO, Duration::ZERO)
    }
}

/// What [`crate::Client::connect`] needs. Load it with [`ClientConfig::from_file`], or build it
/// with [`ClientConfig::new`] and set the optional fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientConfig {
    /// This agency's id; `None` for an operator configuration (directory administration only).
    pub agency: Option<AgencyId>,
    /// The axis nodes, `https://host:port`, in order of preference: calls go to one node and
    /// move to the next when it fails (connection refused or reset, a deadline, UNAVAILABLE).
    pub endpoints: Vec<String>,
    /// The DNS name in the axis server's TLS certificate (the same for every node).
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
    /// Deadlines.
    pub timeouts: Timeouts,
    /// How long verified directory entries are kept.
    pub directory_cache: CachePolicy,
}

impl ClientConfig {
    /// A configuration with the required parts; the optional ones start empty, the deadlines
    /// and the cache at their defaults.
    pub fn new(
        endpoint: impl Into<String>,
        server_name: impl Into<String>,
        root: Vec<u8>,
        tls: Credential,
    ) -> Self {
        ClientConfig {
            agency: None,
            endpoints: vec![endpoint.into()],
            server_name: server_name.into(),
            root,
            tls,
            seal: None,
            personal: None,
            encryption: None,
            log_key: None,
            timeouts: Timeouts::default(),
            directory_cache: CachePolicy::default(),
        }
    }

    /// Sets the agency id.
    pub fn with_agency(mut self, agency: AgencyId) -> Self {
        self.agency = Some(agency);
        self
    }

    /// Replaces the endpoints (in order of preference).
    pub fn with_endpoints<S: Into<String>>(
        mut self,
        endpoints: impl IntoIterator<Item = S>,
    ) -> Self {
        self.endpoints = endpoints.into_iter().map(Into::into).collect();
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

    /// Sets the deadlines.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets how long directory entries are kept.
    pub fn with_directory_cache(mut self, policy: CachePolicy) -> Self {
        self.directory_cache = policy;
        self
    }

    /// Checks what [`ClientConfig::new`] and the `with_` setters cannot: the endpoints and the
    /// deadlines. [`crate::Client::connect`] calls it.
    pub fn check(&self) -> Result<()> {
        check_endpoints(&self.endpoints)?;
        self.timeouts.check()?;
        if self.server_name.trim().is_empty() {
            return Err(Error::config(
                "server_name is empty: give the DNS name in the axis server's certificate",
            ));
        }
        Ok(())
    }

    /// Loads a TOML configuration file (format in the module documentation). Relative paths
    /// are taken from the file's directory; each key's passphrase from its own
    /// `passphrase_file`/`passphrase_env`, the top-level `passphrase_file`, or `AXIS_KEY_PASS`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = FileConfig::read(path)?;
        file.load().map_err(|e| e.context(path.display()))
    }

    /// Parses TOML text whose relative paths are relative to `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Self> {
        FileConfig::parse(text, base_dir)?.load()
    }
}

/// The configuration file as written, its paths resolved. `axis check-config` walks it part by
/// part; [`ClientConfig::from_file`] loads it whole.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) agency: Option<String>,
    endpoint: Option<String>,
    endpoints: Option<Vec<String>>,
    pub(crate) server_name: String,
    pub(crate) root: PathBuf,
    passphrase_file: Option<PathBuf>,
    pub(crate) log_key: Option<PathBuf>,
    /// The connect deadline as earlier versions wrote it (same as `[timeouts] connect_secs`).
    connect_timeout_secs: Option<u64>,
    #[serde(default)]
    timeouts: FileTimeouts,
    #[serde(default)]
    directory_cache: FileCache,
    pub(crate) tls: FileCredential,
    pub(crate) seal: Option<FileCredential>,
    pub(crate) personal: Option<FileCredential>,
    pub(crate) encryption: Option<FileCredential>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTimeouts {
    connect_secs: Option<f64>,
    trust_secs: Option<f64>,
    call_secs: Option<f64>,
    stream_idle_secs: Option<f64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCache {
    refresh_secs: Option<u64>,
    max_age_secs: Option<u64>,
}

/// One `[table]` with a certificate and its key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileCredential {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    /// This key's own passphrase file.
    passphrase_file: Option<PathBuf>,
    /// The environment variable holding this key's own passphrase.
    passphrase_env: Option<String>,
}

impl FileConfig {
    /// Reads and parses a configuration file.
    pub(crate) fn read(path: &Path) -> Result<FileConfig> {
        let text = read_text(path, MAX_CONFIG_FILE, "configuration file")?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        Self::parse(&text, dir).map_err(|e| e.context(path.display()))
    }

    /// Parses TOML text and resolves its relative paths against `base_dir`.
    pub(crate) fn parse(text: &str, base_dir: &Path) -> Result<FileConfig> {
        let mut file: FileConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_owned();
            let hint = if msg.contains("unknown field") {
                "; top-level keys (agency, endpoint or endpoints, server_name, root, \
                 passphrase_file, log_key) must come before the first [table]"
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
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base_dir.join(&*p);
            }
        };
        resolve(&mut file.root);
        file.passphrase_file.as_mut().map(resolve);
        file.log_key.as_mut().map(resolve);
        for c in [
            Some(&mut file.tls),
            file.seal.as_mut(),
            file.personal.as_mut(),
            file.encryption.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            resolve(&mut c.cert);
            if !c.is_token() {
                resolve(&mut c.key);
            }
            c.passphrase_file.as_mut().map(resolve);
        }
        Ok(file)
    }

    /// The agency id, parsed.
    pub(crate) fn agency(&self) -> Result<Option<AgencyId>> {
        self.agency
            .as_deref()
            .map(|a| {
                AgencyId::parse(a).map_err(|e| Error::config(format!("agency = \"{a}\": {e}")))
            })
            .transpose()
    }

    /// The endpoints, from `endpoints` or `endpoint`, checked.
    pub(crate) fn endpoints(&self) -> Result<Vec<String>> {
        let list = match (&self.endpoint, &self.endpoints) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "give either endpoint = \"https://…\" or endpoints = [\"https://…\", …], \
                     not both",
                ));
            }
            (Some(one), None) => vec![one.clone()],
            (None, Some(list)) => list.clone(),
            (None, None) => {
                return Err(Error::config(
                    "no endpoint: give endpoints = [\"https://HOST:PORT\", …] (every node of \
                     the axis) or endpoint = \"https://HOST:PORT\"",
                ));
            }
        };
        check_endpoints(&list)?;
        Ok(list)
    }

    /// The deadlines, defaults filled in.
    pub(crate) fn timeouts(&self) -> Result<Timeouts> {
        let secs = |name: &str, v: Option<f64>, default: Duration| -> Result<Duration> {
            match v {
                None => Ok(default),
                Some(s) => Duration::try_from_secs_f64(s).map_err(|_| {
                    Error::config(format!("[timeouts] {name} = {s}: not a number of seconds"))
                }),
            }
        };
        let t = &self.timeouts;
        let connect_default = self
            .connect_timeout_secs
            .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs);
        let timeouts = Timeouts {
            connect: secs("connect_secs", t.connect_secs, connect_default)?,
            trust_material: secs("trust_secs", t.trust_secs, DEFAULT_TRUST_TIMEOUT)?,
            call: secs("call_secs", t.call_secs, DEFAULT_CALL_TIMEOUT)?,
            stream_idle: secs("stream_idle_secs", t.stream_idle_secs, DEFAULT_STREAM_IDLE)?,
        };
        timeouts.check()?;
        Ok(timeouts)
    }

    /// The directory cache policy, defaults filled in.
    pub(crate) fn directory_cache(&self) -> Result<CachePolicy> {
        let c = &self.directory_cache;
        let max_age = c
            .max_age_secs
            .map_or(DEFAULT_CACHE_MAX_AGE, Duration::from_secs);
        let refresh = c
            .refresh_secs
            .map_or(DEFAULT_CACHE_REFRESH, Duration::from_secs);
        if c.refresh_secs.is_some() && refresh > max_age {
            return Err(Error::config(format!(
                "[directory_cache] refresh_secs = {} is longer than max_age_secs = {}",
                refresh.as_secs(),
                max_age.as_secs()
            )));
        }
        Ok(CachePolicy::new(refresh, max_age))
    }

    /// The root certificate: exactly one.
    pub(crate) fn root_certificate(&self) -> Result<Vec<u8>> {
        let root = read_certificates(&self.root, "root")?;
        let [root] = <[Vec<u8>; 1]>::try_from(root).map_err(|_| {
            Error::config(format!(
                "root = {}: give exactly one certificate, the root CA (not a chain)",
                self.root.display()
            ))
        })?;
        Ok(root)
    }

    /// The pinned log signer certificate, if configured.
    pub(crate) fn log_key_certificate(&self) -> Result<Option<Vec<u8>>> {
        self.log_key
            .as_deref()
            .map(|p| {
                let certs = read_certificates(p, "log_key")?;
                certs.into_iter().next().ok_or_else(|| {
                    Error::config(format!("log_key = {}: no certificate", p.display()))
                })
            })
            .transpose()
    }

    /// A credential table by name.
    pub(crate) fn credential(&self, table: &str) -> Option<&FileCredential> {
        match table {
            "tls" => Some(&self.tls),
            "seal" => self.seal.as_ref(),
            "personal" => self.personal.as_ref(),
            "encryption" => self.encryption.as_ref(),
            _ => None,
        }
    }

    /// The shared passphrase, read on first need.
    pub(crate) fn shared_passphrase(&self) -> SharedPassphrase<'_> {
        SharedPassphrase {
            file: self.passphrase_file.as_deref(),
            loaded: None,
        }
    }

    /// Everything, loaded and checked: the first problem is the error.
    fn load(self) -> Result<ClientConfig> {
        let agency = self.agency()?;
        let endpoints = self.endpoints()?;
        if self.server_name.trim().is_empty() {
            return Err(Error::config(
                "server_name is empty: give the DNS name in the axis server's certificate",
            ));
        }
        let timeouts = self.timeouts()?;
        let directory_cache = self.directory_cache()?;
        let root = self.root_certificate()?;
        let mut shared = self.shared_passphrase();
        let mut load = |table: &str| -> Result<Option<Credential>> {
            self.credential(table)
                .map(|c| c.load(table, &mut shared))
                .transpose()
        };
        let tls = load("tls")?.ok_or_else(|| Error::config("no [tls] table"))?;
        let seal = load("seal")?;
        let personal = load("personal")?;
        let encryption = load("encryption")?;
        let log_key = self.log_key_certificate()?;
        Ok(ClientConfig {
            agency,
            endpoints,
            server_name: self.server_name,
            root,
            tls,
            seal,
            personal,
            encryption,
            log_key,
            timeouts,
            directory_cache,
        })
    }
}

impl FileCredential {
    /// The certificate file's certificates (leaf first).
    pub(crate) fn certificates(&self, table: &str) -> Result<Vec<Vec<u8>>> {
        read_certificates(&self.cert, &format!("[{table}] cert"))
    }

    /// Whether the key is a `pkcs11:` URI: a key on a token.
    pub(crate) fn is_token(&self) -> bool {
        self.key.to_str().is_some_and(|k| k.starts_with("pkcs11:"))
    }

    /// The key: opened on its token, or decrypted with this key's passphrase (its own, else
    /// the shared one).
    pub(crate) fn private_key(
        &self,
        table: &str,
        shared: &mut SharedPassphrase<'_>,
    ) -> Result<Key> {
        match KeyRef::from_path(&self.key)
            .map_err(|e| Error::config(format!("[{table}] key: {e}")).with_source(e))?
        {
            KeyRef::Pkcs11(uri) => self.token_key(table, &uri).map(Key::from),
            _ => self.file_key(table, shared).map(Key::from),
        }
    }

    /// The key on its token. The PIN comes from the URI's `pin-source`, else from this key's
    /// own `passphrase_file` / `passphrase_env` — never from the shared passphrase, which
    /// decrypts key files.
    fn token_key(&self, table: &str, uri: &axis_keys::Pkcs11Uri) -> Result<TokenKey> {
        let pin = match uri.pin_source() {
            Some(_) => None,
            None => Secret::own(table, self)?.map(|s| Pin::from(&s.pass)),
        };
        TokenKey::open(uri, pin)
            .map_err(|e| crate::error::token(&format!("[{table}] key {uri}"), e))
    }

    /// The key file, decrypted with this key's passphrase (its own, else the shared one).
    fn file_key(&self, table: &str, shared: &mut SharedPassphrase<'_>) -> Result<PrivateKey> {
        let own = Secret::own(table, self)?;
        let secret = match &own {
            Some(s) => s,
            None => shared.get()?,
        };
        let pem = zeroize::Zeroizing::new(read_text(
            &self.key,
            MAX_KEY_FILE,
            &format!("[{table}] key"),
        )?);
        PrivateKey::from_encrypted_pem(&pem, &secret.pass).map_err(|e| {
            let what = match e {
                axis_pki::Error::WrongPassphrase => format!(
                    "the passphrase from {} does not decrypt it; check the passphrase (each key \
                     may have its own: passphrase_file or passphrase_env in [{table}])",
                    secret.source
                ),
                axis_pki::Error::KeyNotEncrypted => {
                    "the key is not encrypted; Axis keeps keys only as encrypted PKCS#8 \
                     (as axis-pki writes them)"
                        .to_owned()
                }
                ref other => format!("{other}"),
            };
            Error::config(format!("[{table}] key = {}: {what}", self.key.display())).with_source(e)
        })
    }

    fn load(&self, table: &str, shared: &mut SharedPassphrase<'_>) -> Result<Credential> {
        let chain = self.certificates(table)?;
        let key = self.private_key(table, shared)?;
        Credential::new(chain, key)
    }
}

/// A key outside the configuration (a witness key): a `pkcs11:` URI, its PIN from the URI's
/// `pin-source` or `passphrase_file`; or an encrypted PKCS#8 PEM file, decrypted with the
/// passphrase in `passphrase_file`, else in `AXIS_KEY_PASS`. Errors say which and why, as for
/// the configuration's keys.
pub fn load_key(key: &Path, passphrase_file: Option<&Path>) -> Result<Key> {
    let credential = FileCredential {
        cert: PathBuf::new(),
        key: key.to_path_buf(),
        passphrase_file: passphrase_file.map(Path::to_path_buf),
        passphrase_env: None,
    };
    let mut shared = SharedPassphrase {
        file: None,
        loaded: None,
    };
    credential.private_key("key", &mut shared)
}

/// The configuration's shared passphrase (top-level `passphrase_file`, else `AXIS_KEY_PASS`),
/// read once, and only if a key without its own passphrase needs it.
pub(crate) struct SharedPassphrase<'a> {
    file: Option<&'a Path>,
    loaded: Option<Secret>,
}

impl SharedPassphrase<'_> {
    fn get(&mut self) -> Result<&Secret> {
        if self.loaded.is_none() {
            self.loaded = Some(Secret::shared(self.file)?);
        }
        self.loaded
            .as_ref()
            .ok_or_else(|| Error::config("no passphrase"))
    }
}

/// A key passphrase and where it came from (for messages; never the passphrase).
struct Secret {
    pass: Passphrase,
    source: String,
}

impl Secret {
    /// A key's own passphrase, if its table names one.
    fn own(table: &str, c: &FileCredential) -> Result<Option<Secret>> {
        match (&c.passphrase_file, &c.passphrase_env) {
            (Some(_), Some(_)) => Err(Error::config(format!(
                "[{table}]: give passphrase_file or passphrase_env, not both"
            ))),
            (Some(path), None) => {
                Secret::from_file(path, &format!("[{table}] passphrase_file")).map(Some)
            }
            (None, Some(var)) => Secret::from_env(var, &format!("[{table}] passphrase_env"))
                .and_then(|s| {
                    s.ok_or_else(|| {
                        Error::config(format!(
                            "[{table}] passphrase_env = \"{var}\": the variable is not set (or \
                             empty)"
                        ))
                    })
                })
                .map(Some),
            (None, None) => Ok(None),
        }
    }

    /// The shared passphrase: the top-level file, else `AXIS_KEY_PASS`.
    fn shared(file: Option<&Path>) -> Result<Secret> {
        if let Some(path) = file {
            return Secret::from_file(path, "passphrase_file");
        }
        Secret::from_env(PASSPHRASE_ENV, "the environment variable")?.ok_or_else(|| {
            Error::config(format!(
                "no passphrase for the key files: set passphrase_file in the configuration \
                 (a file readable only by you), give a key its own passphrase_file or \
                 passphrase_env, or export {PASSPHRASE_ENV}"
            ))
        })
    }

    fn from_file(path: &Path, setting: &str) -> Result<Secret> {
        let text = read_text(path, MAX_PASS_FILE, setting)?;
        if text.trim_end_matches(['\n', '\r']).is_empty() {
            return Err(Error::config(format!(
                "{setting} = {}: the file is empty",
                path.display()
            )));
        }
        Ok(Secret {
            pass: Passphrase::new(text),
            source: format!("{setting} {}", path.display()),
        })
    }

    fn from_env(var: &str, setting: &str) -> Result<Option<Secret>> {
        match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(Secret {
                pass: Passphrase::new(value),
                source: format!("{setting} {var}"),
            })),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(Error::config(format!("{var} is not valid UTF-8")))
            }
        }
    }
}

fn check_endpoints(list: &[String]) -> Result<()> {
    if list.is_empty() {
        return Err(Error::config(
            "endpoints is empty: give every node of the axis, https://HOST:PORT",
        ));
    }
    if list.len() > MAX_ENDPOINTS {
        return Err(Error::config(format!(
            "{} endpoints; at most {MAX_ENDPOINTS}",
            list.len()
        )));
    }
    for (i, e) in list.iter().enumerate() {
        if !e.starts_with("https://") {
            return Err(Error::config(format!(
                "endpoint \"{e}\": the axis is reached over TLS only; use https://HOST:PORT"
            )));
        }
        if e.parse::<tonic::transport::Uri>().is_err() || e.len() <= "https://".len() {
            return Err(Error::config(format!(
                "endpoint \"{e}\" is not a valid URL; use https://HOST:PORT"
            )));
        }
        if list[..i].contains(e) {
            return Err(Error::config(format!("endpoint \"{e}\" is listed twice")));
        }
    }
    Ok(())
}

pub(crate) fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
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
