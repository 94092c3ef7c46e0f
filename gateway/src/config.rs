//! The gateway's configuration: a TOML file (`axis-gateway.toml`) that names the agency's own
//! configuration (the very `axis.toml` the `axis` CLI reads: the axis's nodes, the root, the
//! agency's TLS, seal, personal and encryption certificates and keys) and adds what only the
//! gateway has: where it listens, its store, the DMSs allowed in and their secrets.
//!
//! ```toml
//! agency_config = "axis.toml"            # the agency's configuration, as `axis` reads it
//! listen = "127.0.0.1:8580"              # the DMS-facing APIs (VXP and JSON); loopback by default
//! data_dir = "gateway-data"              # the store and the kept documents
//! # database_url = "postgres://gw@db/gw" # default: SQLite at <data_dir>/gateway.db
//! auto_receipt = true                    # send receipt 01 as soon as a document is stored
//! status_poll_secs = 10                  # how often the statuses of open documents are read
//! watch_days = 30                        # how long a document's statuses are followed
//! max_body_bytes = 67108864              # largest request body (a VXP edXML is sent whole)
//! body_memory_bytes = 2097152            # send bodies in memory at once (more wait their turn)
//! send_concurrency = 16                  # outbox items submitted to the axis at once
//! receive_concurrency = 16               # deliveries fetched, verified and kept at once
//! directory_refresh_secs = 300           # how often the unit directory's verified copy is synced
//!
//! [[vxp.systems]]                        # one per DMS: its systemid and HMAC secret
//! id = "vxp.saas.01"
//! secret_file = "secrets/dms.secret"     # or secret_env = "DMS_SECRET"
//!
//! [vxp]
//! agency_admin = "refuse"                # registerAgency/deleteAgency: "refuse" (default)
//!
//! [json]
//! token_file = "secrets/json.token"      # the JSON API's bearer token
//!
//! [tls]                                  # needed off loopback, with client_ca or a token
//! cert = "tls/gateway.cert.pem"          # the listener's certificate chain (PEM)
//! key = "tls/gateway.key.pem"            # its key (PEM, unencrypted; keep it 0600)
//! client_ca = "tls/dms-ca.pem"           # optional: DMS client certificates must chain to it
//! ```
//!
//! Relative paths are relative to the file's directory. Secrets come from files or variables,
//! never from the command line, and are never logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

/// The default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8580";
/// The default largest request body (64 MiB): a VXP `sendEdoc` carries the whole package.
pub const DEFAULT_MAX_BODY: u64 = 64 << 20;
/// The default interval between two readings of an open document's statuses.
pub const DEFAULT_STATUS_POLL: Duration = Duration::from_secs(10);
/// Longest pause between two readings of one quiet document's statuses.
pub const MAX_STATUS_POLL: Duration = Duration::from_secs(10 * 60);
/// The default budget of send bodies in memory at once (2 MiB): many small documents are read
/// and sealed at once, a large one alone.
pub const DEFAULT_BODY_MEMORY: u64 = 2 << 20;
/// The smallest body budget the configuration may ask for.
pub const MIN_BODY_MEMORY: u64 = 64 << 10;
/// The largest body budget (a semaphore counts it in bytes, 32 bits at a time).
pub const MAX_BODY_MEMORY: u64 = u32::MAX as u64;
/// The default interval between two syncs of the unit directory's copy, seconds.
pub const DEFAULT_DIRECTORY_REFRESH: u64 = 300;
/// The longest interval between two syncs of it (a day), seconds.
pub const MAX_DIRECTORY_REFRESH: u64 = 24 * 3600;
/// The default number of outbox items submitted at once.
pub const DEFAULT_SEND_CONCURRENCY: usize = 16;
/// The default number of deliveries received at once.
pub const DEFAULT_RECEIVE_CONCURRENCY: usize = 16;
/// The most documents in flight one way that the configuration may ask for.
pub const MAX_CONCURRENCY: usize = 256;
/// Shortest secret accepted (HMAC keys and bearer tokens): 16 bytes.
pub const MIN_SECRET: usize = 16;
/// Largest secret file.
const MAX_SECRET_FILE: u64 = 4096;
/// Largest configuration file.
const MAX_CONFIG_FILE: u64 = 64 * 1024;

/// A configuration error: which key, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    path: String,
    message: String,
}

impl ConfigError {
    fn new(path: impl std::fmt::Display, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_string(),
            message: message.into(),
        }
    }
}

/// A secret (an HMAC key, a bearer token): zeroized on drop, never printed.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// A secret from bytes (at least [`MIN_SECRET`]).
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < MIN_SECRET {
            return Err(format!("a secret needs at least {MIN_SECRET} bytes"));
        }
        Ok(Secret(bytes))
    }

    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A DMS allowed to call the VXP-compatible API: its `systemid` and shared secret.
#[derive(Clone, Debug)]
pub struct VxpSystem {
    /// The `systemid` it sends (`XroadVnpt-systemid`).
    pub id: String,
    /// The HMAC-SHA256 key.
    pub secret: Secret,
}

/// What the gateway answers to `registerAgency` / `deleteAgency`: the directory is the axis
/// operator's, not a DMS's.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgencyAdmin {
    /// Refuse with `NOT_OFFERED` (the default).
    #[default]
    Refuse,
    /// Answer OK and change nothing (for DMSs that call them at every start and stop on FAIL).
    AcceptNoop,
}

/// The whole configuration, loaded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The agency's `axis.toml`.
    pub agency_config: PathBuf,
    /// Where the DMS-facing APIs listen.
    pub listen: SocketAddr,
    /// The store's directory (kept documents, the SQLite file).
    pub data_dir: PathBuf,
    /// The store (`sqlite://…` or `postgres://…`).
    pub database_url: String,
    /// Send receipt 01 as soon as a document is stored.
    pub auto_receipt: bool,
    /// The interval between readings of an open document's statuses.
    pub status_poll: Duration,
    /// How long a document's statuses are followed.
    pub watch: Duration,
    /// Largest request body.
    pub max_body_bytes: u64,
    /// Bytes of send request bodies read and sealed in memory at once: a send waits for its
    /// share (its declared length, or `max_body_bytes` when it declares none; at most the whole
    /// budget, so a body larger than it goes alone) before its body is read, and holds it
    /// until its sealed document is kept.
    pub body_memory_bytes: u64,
    /// Outbox items submitted to the axis at once (each is sealed already).
    pub send_concurrency: usize,
    /// Deliveries fetched, verified, kept and receipted at once.
    pub receive_concurrency: usize,
    /// How often the verified copy of the unit directory is synced ([`crate::directory`]).
    pub directory_refresh: Duration,
    /// The DMSs of the VXP-compatible API.
    pub vxp_systems: Vec<VxpSystem>,
    /// `registerAgency` / `deleteAgency`.
    pub agency_admin: AgencyAdmin,
    /// The JSON API's bearer token.
    pub json_token: Option<Secret>,
    /// TLS on the listener (required beyond loopback).
    pub tls: Option<crate::tls::TlsFiles>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    agency_config: PathBuf,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    auto_receipt: Option<bool>,
    status_poll_secs: Option<u64>,
    watch_days: Option<u64>,
    max_body_bytes: Option<u64>,
    body_memory_bytes: Option<u64>,
    send_concurrency: Option<usize>,
    receive_concurrency: Option<usize>,
    directory_refresh_secs: Option<u64>,
    #[serde(default)]
    vxp: FileVxp,
    #[serde(default)]
    json: FileJson,
    tls: Option<FileTls>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileVxp {
    #[serde(default)]
    systems: Vec<FileSystem>,
    #[serde(default)]
    agency_admin: AgencyAdmin,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSystem {
    id: String,
    secret_file: Option<PathBuf>,
    secret_env: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileJson {
    token_file: Option<PathBuf>,
    token_env: Option<String>,
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let len = std::fs::metadata(path)
            .map_err(|e| ConfigError::new(path.display(), e.to_string()))?
            .len();
        if len > MAX_CONFIG_FILE {
            return Err(ConfigError::new(
                path.display(),
                format!("{len} bytes; a configuration has at most {MAX_CONFIG_FILE}"),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path.display(), e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_toml(&text, base).map_err(|e| ConfigError::new(path.display(), e.to_string()))
    }

    /// Parses TOML text whose relative paths are relative to `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Self, ConfigError> {
        let f: FileConfig =
            toml::from_str(text).map_err(|e| ConfigError::new("the file", e.to_string()))?;
        let at = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let listen_text = f.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            ConfigError::new(
                "listen",
                format!("{listen_text:?} is not an address and port such as {DEFAULT_LISTEN}"),
            )
        })?;
        let data_dir = at(&f.data_dir.unwrap_or_else(|| PathBuf::from("gateway-data")));
        let database_url = f
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("gateway.db").display()));
        let status_poll = Duration::from_secs(f.status_poll_secs.unwrap_or(10));
        if status_poll.is_zero() || status_poll > MAX_STATUS_POLL {
            return Err(ConfigError::new(
                "status_poll_secs",
                format!("between 1 and {}", MAX_STATUS_POLL.as_secs()),
            ));
        }
        let directory_refresh = Duration::from_secs(
            f.directory_refresh_secs
                .unwrap_or(DEFAULT_DIRECTORY_REFRESH),
        );
        if !(1..=MAX_DIRECTORY_REFRESH).contains(&directory_refresh.as_secs()) {
            return Err(ConfigError::new(
                "directory_refresh_secs",
                format!("between 1 and {MAX_DIRECTORY_REFRESH}"),
            ));
        }
        let watch_days = f.watch_days.unwrap_or(30);
        if !(1..=3650).contains(&watch_days) {
            return Err(ConfigError::new("watch_days", "between 1 and 3650"));
        }
        let max_body_bytes = f.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
        let max_input = axis_edxml::Limits::default().max_input;
        if max_body_bytes < 1024 || max_body_bytes > max_input {
            return Err(ConfigError::new(
                "max_body_bytes",
                format!("between 1024 and {max_input} (the edXML parser's budget)"),
            ));
        }
        let body_memory_bytes = f.body_memory_bytes.unwrap_or(DEFAULT_BODY_MEMORY);
        if !(MIN_BODY_MEMORY..=MAX_BODY_MEMORY).contains(&body_memory_bytes) {
            return Err(ConfigError::new(
                "body_memory_bytes",
                format!("between {MIN_BODY_MEMORY} and {MAX_BODY_MEMORY}"),
            ));
        }
        let concurrency = |key: &str, v: Option<usize>, default: usize| {
            let v = v.unwrap_or(default);
            if (1..=MAX_CONCURRENCY).contains(&v) {
                Ok(v)
            } else {
                Err(ConfigError::new(
                    key,
                    format!("between 1 and {MAX_CONCURRENCY}"),
                ))
            }
        };
        let send_concurrency = concurrency(
            "send_concurrency",
            f.send_concurrency,
            DEFAULT_SEND_CONCURRENCY,
        )?;
        let receive_concurrency = concurrency(
            "receive_concurrency",
            f.receive_concurrency,
            DEFAULT_RECEIVE_CONCURRENCY,
        )?;
        let mut vxp_systems = Vec::new();
        for (i, s) in f.vxp.systems.into_iter().enumerate() {
            let key = format!("vxp.systems[{i}]");
            if s.id.is_empty() || s.id.len() > 128 || s.id.chars().any(char::is_control) {
                return Err(ConfigError::new(
                    &key,
                    "id: 1 to 128 characters, no control character",
                ));
            }
            if vxp_systems.iter().any(|v: &VxpSystem| v.id == s.id) {
                return Err(ConfigError::new(
                    &key,
                    format!("id {:?} is listed twice", s.id),
                ));
            }
            let secret = read_secret(
                s.secret_file.as_deref().map(at).as_deref(),
                s.secret_env.as_deref(),
            )
            .map_err(|m| ConfigError::new(&key, m))?
            .ok_or_else(|| ConfigError::new(&key, "needs secret_file or secret_env"))?;
            vxp_systems.push(VxpSystem { id: s.id, secret });
        }
        let json_token = read_secret(
            f.json.token_file.as_deref().map(at).as_deref(),
            f.json.token_env.as_deref(),
        )
        .map_err(|m| ConfigError::new("json", m))?;
        let tls = f.tls.map(|t| crate::tls::TlsFiles {
            cert: at(&t.cert),
            key: at(&t.key),
            client_ca: t.client_ca.as_deref().map(at),
        });
        if !listen.ip().is_loopback() {
            // Beyond loopback: TLS, and a client certificate or a bearer token for every call.
            let client_certs = tls.as_ref().is_some_and(|t| t.client_ca.is_some());
            if tls.is_none() || !(client_certs || json_token.is_some()) {
                return Err(ConfigError::new(
                    "listen",
                    format!(
                        "{listen} is reachable from other machines: set [tls] cert and key, and \
                         [tls] client_ca (client certificates) or [json] token_file (a bearer \
                         token), so the APIs are neither readable nor open to them"
                    ),
                ));
            }
        }
        Ok(Config {
            agency_config: at(&f.agency_config),
            listen,
            data_dir,
            database_url,
            auto_receipt: f.auto_receipt.unwrap_or(true),
            status_poll,
            watch: Duration::from_secs(watch_days * 24 * 3600),
            max_body_bytes,
            body_memory_bytes,
            send_concurrency,
            receive_concurrency,
            directory_refresh,
            vxp_systems,
            agency_admin: f.vxp.agency_admin,
            json_token,
            tls,
        })
    }

    /// The VXP system with this id.
    pub fn vxp_system(&self, id: &str) -> Option<&VxpSystem> {
        self.vxp_systems.iter().find(|s| s.id == id)
    }
}

/// A secret from a file (trailing newline removed) or an environment variable.
fn read_secret(file: Option<&Path>, env: Option<&str>) -> Result<Option<Secret>, String> {
    let bytes = match (file, env) {
        (Some(_), Some(_)) => return Err("give secret_file or secret_env, not both".into()),
        (None, None) => return Ok(None),
        (Some(path), None) => {
            let len = std::fs::metadata(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .len();
            if len > MAX_SECRET_FILE {
                return Err(format!(
                    "{}: larger than {MAX_SECRET_FILE} bytes",
                    path.display()
                ));
            }
            let mut v = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            while v.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                v.pop();
            }
            v
        }
        (None, Some(var)) => std::env::var(var)
            .map_err(|_| format!("the environment variable {var} is not set"))?
            .into_bytes(),
    };
    Secret::new(bytes).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with_secret() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("s"), "0123456789abcdef0123\n").unwrap();
        d
    }

    #[test]
    fn defaults_listen_on_loopback_beside_the_file() {
        let d = dir_with_secret();
        let c = Config::from_toml(
            "agency_config = \"axis.toml\"\n[[vxp.systems]]\nid = \"dms\"\nsecret_file = \"s\"\n",
            d.path(),
        )
        .unwrap();
        assert!(c.listen.ip().is_loopback());
        assert_eq!(c.agency_config, d.path().join("axis.toml"));
        assert!(c.database_url.ends_with("gateway-data/gateway.db"));
        assert!(c.auto_receipt);
        assert_eq!(c.send_concurrency, DEFAULT_SEND_CONCURRENCY);
        assert_eq!(c.receive_concurrency, DEFAULT_RECEIVE_CONCURRENCY);
        assert_eq!(
            c.vxp_system("dms").unwrap().secret.expose(),
            b"0123456789abcdef0123"
        );
        assert!(format!("{:?}", c.vxp_systems).contains("Secret(…)"));
        assert!(!format!("{:?}", c.vxp_systems).contains("0123"));
    }

    #[track_caller]
    fn refused(text: &str, key: &str) {
        let d = dir_with_secret();
        let e = Config::from_toml(text, d.path()).unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    }

    #[test]
    fn mistakes_name_their_key() {
        let base = "agency_config = \"a.toml\"\n";
        refused(&format!("{base}listen = \"0.0.0.0:80\"\n"), "listen");
        // Off loopback a token alone is not enough (it would travel in clear), nor TLS alone.
        refused(
            &format!("{base}listen = \"0.0.0.0:80\"\n[json]\ntoken_file = \"s\"\n"),
            "[tls]",
        );
        refused(
            &format!("{base}listen = \"0.0.0.0:80\"\n[tls]\ncert = \"c\"\nkey = \"k\"\n"),
            "client_ca",
        );
        let d = dir_with_secret();
        let c = Config::from_toml(
            &format!(
                "{base}listen = \"0.0.0.0:80\"\n[tls]\ncert = \"c\"\nkey = \"k\"\nclient_ca = \"ca\"\n"
            ),
            d.path(),
        )
        .unwrap();
        assert_eq!(c.tls.unwrap().client_ca.unwrap(), d.path().join("ca"));
        refused(&format!("{base}listen = \"nowhere\"\n"), "listen");
        refused(&format!("{base}status_poll_secs = 0\n"), "status_poll_secs");
        refused(
            &format!("{base}directory_refresh_secs = 0\n"),
            "directory_refresh_secs",
        );
        refused(&format!("{base}max_body_bytes = 10\n"), "max_body_bytes");
        refused(&format!("{base}send_concurrency = 0\n"), "send_concurrency");
        refused(
            &format!("{base}body_memory_bytes = 1024\n"),
            "body_memory_bytes",
        );
        refused(
            &format!("{base}receive_concurrency = 100000\n"),
            "receive_concurrency",
        );
        refused(
            &format!("{base}[[vxp.systems]]\nid = \"x\"\n"),
            "vxp.systems[0]",
        );
        refused(
            &format!(
                "{base}[[vxp.systems]]\nid = \"x\"\nsecret_file = \"s\"\n[[vxp.systems]]\nid = \"x\"\nsecret_file = \"s\"\n"
            ),
            "listed twice",
        );
        refused(&format!("{base}typo = 1\n"), "typo");
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("short"), "tiny").unwrap();
        let e = Config::from_toml(
            &format!("{base}[[vxp.systems]]\nid = \"x\"\nsecret_file = \"short\"\n"),
            d.path(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("at least 16"), "{e}");
    }

    #[test]
    fn off_loopback_with_a_token() {
        let d = dir_with_secret();
        let c = Config::from_toml(
            "agency_config = \"a.toml\"\nlisten = \"0.0.0.0:8580\"\n[json]\ntoken_file = \"s\"\n\
             [tls]\ncert = \"gw.pem\"\nkey = \"gw.key\"\n",
            d.path(),
        )
        .unwrap();
        assert!(c.json_token.is_some());
    }
}
