//! Configuration: a TOML file, then environment variables, then command-line flags (each
//! overrides the one before). Relative paths in the file are relative to the file's directory.
//!
//! ```toml
//! listen = "127.0.0.1:7443"               # gRPC over mTLS
//! metrics_listen = "127.0.0.1:9464"       # Prometheus /metrics and /healthz (plain HTTP)
//! database_url = "sqlite://axis.db"       # or postgres://user@host/db
//! passphrase_file = "secrets/axis.pass"   # decrypts a key without its own (or AXIS_SERVER_KEY_PASS)
//! shutdown_drain_secs = 10                # how long a stop waits for streams to drain
//!
//! [tls]                                   # axis-server-tls profile
//! cert = "pki/axis-server-tls.chain.pem"  # the leaf, or the leaf then its issuing CA
//! key = "pki/axis-server-tls.key.pem"
//! passphrase_file = "secrets/tls.pass"    # optional: this key's own passphrase
//!
//! [log_signer]                            # axis-log-signer profile: signs tree heads
//! cert = "pki/axis-log-signer.cert.pem"
//! key = "pki/axis-log-signer.key.pem"
//! passphrase_env = "AXIS_LOG_KEY_PASS"    # optional: the variable holding its own passphrase
//!
//! [trust]
//! root = "pki/root.cert.pem"
//! intermediates = ["pki/state.cert.pem"]
//! crls = ["pki/root.crl.pem", "pki/state.crl.pem"]   # newer ones arrive by PublishCrl
//! crl_warn_before_secs = 86400            # /healthz degraded this long before a CRL expires
//! crl_poll_secs = 5                       # re-read the crls files this often (0: never)
//!
//! [database]                              # all optional; these are the defaults
//! statement_timeout_ms = 5000             # every database call (PostgreSQL statement_timeout too)
//! acquire_timeout_ms = 5000               # waiting for a pooled connection
//! lock_timeout_ms = 3000                  # waiting for the shared log state (PostgreSQL)
//! keepalive_secs = 10                     # TCP keepalive of the database server (PostgreSQL)
//! idle_secs = 30                          # a pooled connection idle this long is closed (one stays)
//!
//! [health]                                # readiness: /readyz and gRPC health
//! probe_timeout_ms = 1000                 # a database round trip slower than this: NOT_SERVING
//! commit_stall_secs = 10                  # no commit for this long with work waiting: NOT_SERVING
//!
//! [notify]                                # waking subscribers held by this node (PostgreSQL)
//! heartbeat_secs = 10                     # a round trip on the LISTEN connection this often
//! heartbeat_timeout_ms = 2000             # slower than this: reconnect it and wake everyone
//! safety_net_secs = 60                    # one check of the log for missed wake-ups this often
//!
//! [connections]                           # client connections; all optional, the defaults
//! tcp_keepalive_secs = 30                 # idle seconds before the kernel probes a client
//! tcp_keepalive_interval_secs = 5         # then a probe this often
//! tcp_keepalive_probes = 4                # this many unanswered: the connection is closed
//! http2_ping_secs = 300                   # an HTTP/2 PING after this long without a frame (0: none)
//! http2_ping_timeout_secs = 20            # unanswered this long: the connection is closed
//!
//! [limits]                                # all optional; these are the defaults
//! max_connections = 0                     # open gRPC connections; 0: from the descriptor limit
//! max_document_bytes = 5368709120
//! max_recipients = 500
//! max_chunk_bytes = 1048576
//! max_streams_per_agency = 64
//! rate_per_agency = 2000
//! burst_per_agency = 4000
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the server looks for its configuration when none is given.
pub const DEFAULT_CONFIG: &str = "axis-data/axis-server.toml";

/// A certificate and its encrypted key (PEM files as `axis-pki` writes them), and where the
/// key's own passphrase is, if it has one (else the configuration's shared passphrase).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyPairFiles {
    /// Certificate (PEM; may hold the chain after the leaf).
    pub cert: PathBuf,
    /// Encrypted PKCS#8 key (PEM), or a `pkcs11:` URI (RFC 7512) naming a key on a token.
    pub key: PathBuf,
    /// A file holding this key's own passphrase (for a token key: its PIN, unless the URI
    /// names a `pin-source`).
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// An environment variable holding this key's own passphrase.
    #[serde(default)]
    pub passphrase_env: Option<String>,
}

impl KeyPairFiles {
    /// A certificate and key decrypted with the shared passphrase.
    pub fn new(cert: PathBuf, key: PathBuf) -> Self {
        KeyPairFiles {
            cert,
            key,
            passphrase_file: None,
            passphrase_env: None,
        }
    }
}

/// The trust anchor, issuing CAs and initial CRLs.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFiles {
    /// Root certificate (PEM).
    pub root: PathBuf,
    /// Issuing CA certificates (PEM).
    #[serde(default)]
    pub intermediates: Vec<PathBuf>,
    /// CRLs (PEM or DER). Newer CRLs published with `PublishCrl` are kept in the database and
    /// win over these. The files are read again every `crl_poll_secs`: a changed file is
    /// published as `PublishCrl` would (see `crls`).
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// Seconds before a CRL's nextUpdate from which the node reports itself degraded
    /// (`/healthz`, a warning in the log).
    #[serde(default = "default_crl_warn_before")]
    pub crl_warn_before_secs: u64,
    /// Seconds between two reads of the `crls` files; 0 reads them at start only.
    #[serde(default = "default_crl_poll")]
    pub crl_poll_secs: u64,
}

/// As `check-config` warns: a day.
fn default_crl_warn_before() -> u64 {
    u64::try_from(axis_pki::CRL_WARN_BEFORE.whole_seconds()).unwrap_or(86_400)
}

fn default_crl_poll() -> u64 {
    5
}

impl TrustFiles {
    /// These files, with the default CRL warning time and polling.
    pub fn new(root: PathBuf, intermediates: Vec<PathBuf>, crls: Vec<PathBuf>) -> Self {
        TrustFiles {
            root,
            intermediates,
            crls,
            crl_warn_before_secs: default_crl_warn_before(),
            crl_poll_secs: default_crl_poll(),
        }
    }
}

/// Limits enforced on every caller.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Most open gRPC connections; more are accepted and closed at once (counted and logged).
    /// 0: derived from the process's descriptor limit at start (see `listen`).
    pub max_connections: usize,
    /// Largest ciphertext of one document.
    pub max_document_bytes: u64,
    /// Most recipients of one document.
    pub max_recipients: usize,
    /// Largest chunk message in a submit stream.
    pub max_chunk_bytes: usize,
    /// Most concurrent streams (submit, subscribe, fetch) per agency.
    pub max_streams_per_agency: usize,
    /// Sustained calls per second per agency.
    pub rate_per_agency: u32,
    /// Burst of calls per agency.
    pub burst_per_agency: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 0,
            max_document_bytes: axis_signer::limits::MAX_CIPHERTEXT_LEN,
            max_recipients: axis_signer::limits::MAX_RECIPIENTS,
            max_chunk_bytes: 1024 * 1024,
            max_streams_per_agency: 64,
            rate_per_agency: 2000,
            burst_per_agency: 4000,
        }
    }
}

/// Deadlines on the database: nothing waits for it without one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct DatabaseTimeouts {
    /// Every database call (acquiring a connection included) and every commit batch, on the
    /// node's clock; on PostgreSQL also the server's `statement_timeout`.
    pub statement_timeout_ms: u64,
    /// Waiting for a connection from the pool.
    pub acquire_timeout_ms: u64,
    /// PostgreSQL `lock_timeout`: how long a commit waits for the shared log state while another
    /// node's commit holds it.
    pub lock_timeout_ms: u64,
    /// PostgreSQL: idle seconds before the database server probes a connection (TCP
    /// keepalive; three unanswered probes, five seconds apart, end it, and so does data left
    /// unacknowledged that long), so a node that vanished releases what it held.
    pub keepalive_secs: u64,
    /// A pooled connection unused for this long is closed, down to one, and with it what it
    /// holds (its page or buffer cache, its prepared statements): what a burst of calls opened
    /// and filled goes back when the burst is over. Closed within twice this (the pool checks
    /// every `idle_secs`); 0 keeps connections open.
    pub idle_secs: u64,
}

impl Default for DatabaseTimeouts {
    fn default() -> Self {
        DatabaseTimeouts {
            statement_timeout_ms: 5000,
            acquire_timeout_ms: 5000,
            lock_timeout_ms: 3000,
            keepalive_secs: 10,
            idle_secs: 30,
        }
    }
}

impl DatabaseTimeouts {
    /// The deadline of one database call.
    pub fn statement(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.statement_timeout_ms.max(1))
    }

    /// The pool's acquire timeout.
    pub fn acquire(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.acquire_timeout_ms.max(1))
    }

    /// How long a pooled connection may stay unused before it is closed; `None`: never.
    pub fn idle(&self) -> Option<std::time::Duration> {
        (self.idle_secs > 0).then(|| std::time::Duration::from_secs(self.idle_secs))
    }
}

/// Readiness (`/readyz`, gRPC health): what makes a node `NOT_SERVING`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct HealthConfig {
    /// A probe's database round trip longer than this (or failing) makes the node not ready.
    /// Probes run once a second, or once per this deadline if it is longer.
    pub probe_timeout_ms: u64,
    /// No commit for this long while work waits makes the node not ready.
    pub commit_stall_secs: u64,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            probe_timeout_ms: 1000,
            commit_stall_secs: 10,
        }
    }
}

/// How subscribers are woken (PostgreSQL; a SQLite axis is one node and wakes them itself).
/// Subscribers are woken by notification only; the LISTEN connection is checked by a heartbeat,
/// and one cheap read of the log per node (not per subscriber) catches anything missed.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct NotifyConfig {
    /// Seconds between round trips on the LISTEN connection.
    pub heartbeat_secs: u64,
    /// A heartbeat slower than this (or failing) drops the LISTEN connection: it reconnects and
    /// wakes every subscriber, since notifications may have been lost.
    pub heartbeat_timeout_ms: u64,
    /// Seconds between safety-net checks: one read of the log's size and, when it grew, of the
    /// recipients of the new entries, who are woken. 0 turns it off.
    pub safety_net_secs: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            heartbeat_secs: 10,
            heartbeat_timeout_ms: 2000,
            safety_net_secs: 60,
        }
    }
}

/// Finding clients that vanished (no FIN, no RST: a crash of their host, a partition, a NAT
/// that forgot them) so that their connections, streams and connection slots are released.
///
/// The kernel does it: TCP keepalive on every accepted connection (probes after
/// `tcp_keepalive_secs` without traffic, then every `tcp_keepalive_interval_secs`; after
/// `tcp_keepalive_probes` unanswered the socket fails) and `TCP_USER_TIMEOUT` of the same total,
/// which bounds data left unacknowledged too. An idle connection then costs no work in the
/// process: at 10,000 connected, HTTP/2 PINGs every 30 s were ~2 % of a core of TLS records
/// (BENCHMARKS.md, "Connected agencies"). The HTTP/2 PING remains, rarer, for a peer whose
/// kernel answers but whose HTTP/2 side does not.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ConnectionsConfig {
    /// Seconds without traffic before the first TCP keepalive probe (0: no TCP keepalive).
    pub tcp_keepalive_secs: u64,
    /// Seconds between TCP keepalive probes.
    pub tcp_keepalive_interval_secs: u64,
    /// Unanswered probes before the connection is closed.
    pub tcp_keepalive_probes: u32,
    /// Seconds without a frame from the client before an HTTP/2 PING (0: none).
    pub http2_ping_secs: u64,
    /// Seconds an HTTP/2 PING may go unanswered before the connection is closed.
    pub http2_ping_timeout_secs: u64,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        ConnectionsConfig {
            tcp_keepalive_secs: 30,
            tcp_keepalive_interval_secs: 5,
            tcp_keepalive_probes: 4,
            http2_ping_secs: 300,
            http2_ping_timeout_secs: 20,
        }
    }
}

impl ConnectionsConfig {
    /// The kernel's bound on a vanished client: the idle time plus every probe's interval
    /// (also the `TCP_USER_TIMEOUT`); `None` without TCP keepalive.
    pub fn tcp_dead_after(&self) -> Option<std::time::Duration> {
        (self.tcp_keepalive_secs > 0).then(|| {
            std::time::Duration::from_secs(
                self.tcp_keepalive_secs
                    + self.tcp_keepalive_interval_secs.max(1)
                        * u64::from(self.tcp_keepalive_probes.max(1)),
            )
        })
    }

    /// The HTTP/2 PING interval, if any.
    pub fn http2_ping(&self) -> Option<std::time::Duration> {
        (self.http2_ping_secs > 0).then(|| std::time::Duration::from_secs(self.http2_ping_secs))
    }

    /// How long a PING may go unanswered.
    pub fn http2_ping_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.http2_ping_timeout_secs.max(1))
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Prometheus metrics and health (plain HTTP); none to disable.
    #[serde(default = "default_metrics")]
    pub metrics_listen: Option<SocketAddr>,
    /// `sqlite://FILE` or `postgres://…`.
    #[serde(default = "default_database")]
    pub database_url: String,
    /// File holding the passphrase of every key without its own (`AXIS_SERVER_KEY_PASS` wins).
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// The server's TLS certificate and key.
    pub tls: KeyPairFiles,
    /// The log signer's certificate and key.
    pub log_signer: KeyPairFiles,
    /// Trust material.
    pub trust: TrustFiles,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// Database deadlines.
    #[serde(default)]
    pub database: DatabaseTimeouts,
    /// Readiness.
    #[serde(default)]
    pub health: HealthConfig,
    /// Waking subscribers.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// Client connections: finding vanished clients.
    #[serde(default)]
    pub connections: ConnectionsConfig,
    /// Seconds a shutdown waits for streams to drain before closing them.
    #[serde(default = "default_drain")]
    pub shutdown_drain_secs: u64,
    /// The witnesses whose cosignatures the axis keeps.
    #[serde(default)]
    pub witnesses: WitnessesConfig,
}

/// `[witnesses]`: the witnesses the operator accepts cosignatures from.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessesConfig {
    /// Each witness's public key (PEM `PUBLIC KEY` or DER SubjectPublicKeyInfo, ECDSA P-256),
    /// as `axis audit witness-key` writes it.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7443))
}

fn default_metrics() -> Option<SocketAddr> {
    Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
}

fn default_database() -> String {
    "sqlite://axis.db".into()
}

fn default_drain() -> u64 {
    10
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error(
        "cannot read the configuration {path}: {source} (create it, or run `axis-server demo` for a local demo)"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("configuration {path} is invalid: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What TOML said.
        source: toml::de::Error,
    },
}

impl Config {
    /// Reads a TOML file and makes its relative paths relative to the file's directory (a
    /// `sqlite://` URL with a relative path included).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve(base);
        Ok(config)
    }

    fn resolve(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = self.passphrase_file.as_mut() {
            fix(p);
        }
        for kp in [&mut self.tls, &mut self.log_signer] {
            fix(&mut kp.cert);
            // A `pkcs11:` URI is not a path.
            if !kp.key.to_string_lossy().starts_with("pkcs11:") {
                fix(&mut kp.key);
            }
            if let Some(p) = kp.passphrase_file.as_mut() {
                fix(p);
            }
        }
        fix(&mut self.trust.root);
        self.trust.intermediates.iter_mut().for_each(fix);
        self.trust.crls.iter_mut().for_each(fix);
        self.witnesses.keys.iter_mut().for_each(fix);
        if let Some(rest) = self.database_url.strip_prefix("sqlite://") {
            let file = rest.split('?').next().unwrap_or(rest);
            if !file.is_empty() && Path::new(file).is_relative() && file != ":memory:" {
                self.database_url = format!("sqlite://{}", base.join(rest).display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn connections_default_to_kernel_keepalive_and_a_rare_ping() {
        let d: ConnectionsConfig = toml::from_str("").unwrap();
        assert_eq!(d.tcp_dead_after(), Some(Duration::from_secs(50)));
        assert_eq!(d.http2_ping(), Some(Duration::from_secs(300)));
        assert_eq!(d.http2_ping_timeout(), Duration::from_secs(20));

        let c: ConnectionsConfig =
            toml::from_str("http2_ping_secs = 0\ntcp_keepalive_secs = 60").unwrap();
        assert_eq!(c.http2_ping(), None);
        assert_eq!(c.tcp_dead_after(), Some(Duration::from_secs(80)));
        assert!(toml::from_str::<ConnectionsConfig>("ping_secs = 1").is_err());
    }

    #[test]
    fn idle_database_connections_close_after_30_s_by_default_and_0_keeps_them() {
        let d: DatabaseTimeouts = toml::from_str("").unwrap();
        assert_eq!(d.idle(), Some(Duration::from_secs(30)));
        let c: DatabaseTimeouts = toml::from_str("idle_secs = 5").unwrap();
        assert_eq!(c.idle(), Some(Duration::from_secs(5)));
        let never: DatabaseTimeouts = toml::from_str("idle_secs = 0").unwrap();
        assert_eq!(never.idle(), None);
    }
}
