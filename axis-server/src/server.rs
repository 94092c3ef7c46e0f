//! Assembling and running a node: storage, trust, the committer, the TLS listener, the gRPC
//! services, metrics, and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axis_pki::{KeyPair as _, Passphrase, Profile};
use axis_proto::v1::directory_server::DirectoryServer;
use axis_proto::v1::exchange_server::ExchangeServer;
use axis_proto::v1::log_server::LogServer;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tonic_reflection::server::{v1, v1alpha};

use crate::commit::Committer;
use crate::config::Config;
use crate::error::{Fault, ServerError};
use crate::grpc::directory::DirectoryService;
use crate::grpc::exchange::ExchangeService;
use crate::grpc::log::LogService;
use crate::grpc::routes::ExchangeRoutes;
use crate::grpc::{App, RateLimiter, StreamLimiter};
use crate::health::Readiness;
use crate::notify::Notifier;
use crate::store::{Db, Pool};
use crate::trust::{Trust, read_certificates};

/// Uploads older than this with no commit are an abandoned node's leftovers.
const STALE_UPLOAD: Duration = Duration::from_secs(3600);

/// The largest answer the Exchange service encodes: the SDK's decoding limit. A sender's
/// `GetHistory` of a 500-recipient document with its receipts is ~2.1 MB (it was refused at the
/// former 2 MiB: `axis-bench --scenario broadcast`, second broadcast); a history larger than this
/// (hundreds of recipients with dozens of statuses each) fails with tonic's OUT_OF_RANGE
/// ("encoded message length too large", no axis reason) until the history is paged.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A key file could not be read or decrypted.
    #[error("{what} key {path}: {detail}")]
    Key {
        /// Which key.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// A certificate of the node's own is not usable.
    #[error("{what} certificate: {detail}")]
    Certificate {
        /// Which one.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// Storage or trust material failed to load.
    #[error("{0}")]
    Server(#[from] ServerError),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// TLS configuration failed.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// A running node.
pub struct Running {
    /// The gRPC address (with the real port when the configuration said port 0).
    pub addr: SocketAddr,
    /// The metrics address, if enabled.
    pub metrics_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    serve: JoinHandle<Result<(), tonic::transport::Error>>,
    background: Vec<JoinHandle<()>>,
    probe: JoinHandle<()>,
    db: Db,
    drain: Duration,
    health: HealthReporter,
}

impl Running {
    /// The node's database handle (tests read it to check what was stored).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Graceful shutdown: stop accepting connections, end subscriptions, let calls in progress
    /// finish (up to the drain time), then close storage. Everything committed stays; an
    /// upload cut short leaves nothing (its staged segments are removed, or by the next start's
    /// janitor if the process dies first).
    pub async fn shutdown(mut self) {
        // Health watchers on open connections see NOT_SERVING while calls drain (and the
        // readiness probe no longer changes it).
        self.probe.abort();
        let _ = (&mut self.probe).await;
        set_health(&self.health, ServingStatus::NotServing).await;
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(self.drain, &mut self.serve).await;
        if drained.is_err() {
            // Dropping the handle would leave the server running, its handlers holding pooled
            // connections the pool's close below would wait for: the calls end here.
            tracing::warn!("calls still running after the drain time; closing them");
            self.serve.abort();
            let _ = (&mut self.serve).await;
        }
        for b in self.background {
            b.abort();
        }
        // Let the committer finish a batch in flight.
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Closing waits for every connection lent out to come back; each call has the
        // database's deadline, so one more deadline (and a second) bounds it. A stop is never
        // held by a database that does not answer.
        let within = self.db.deadline() + Duration::from_secs(1);
        if tokio::time::timeout(within, self.db.close()).await.is_err() {
            tracing::warn!(
                within_ms = within.as_millis() as u64,
                "database connections still lent out at the stop; leaving them to close"
            );
        }
    }

    /// Waits until the server stops by itself (an error), or forever.
    pub async fn wait(&mut self) -> Result<(), tonic::transport::Error> {
        match (&mut self.serve).await {
            Ok(r) => r,
            Err(_) => Ok(()),
        }
    }
}

fn load_key(
    what: &'static str,
    table: &'static str,
    kp: &crate::config::KeyPairFiles,
    pass: &Passphrase,
) -> Result<axis_keys::Key, StartError> {
    crate::keys::load_key(table, kp, Some((pass, "the shared passphrase"))).map_err(|e| {
        StartError::Key {
            what,
            path: kp.key.display().to_string(),
            detail: e.to_string(),
        }
    })
}

/// Starts a node from a configuration; `passphrase` decrypts each key that has no passphrase
/// of its own (`passphrase_file` or `passphrase_env` in its table).
pub async fn start(config: Config, passphrase: &Passphrase) -> Result<Running, StartError> {
    let descriptors = crate::listen::raise_descriptor_limit();
    let max_connections =
        crate::listen::max_connections(config.limits.max_connections, descriptors);
    let db = Db::connect_with(&config.database_url, &config.database).await?;
    // An SQLite file has one node: every upload left at start-up was cut off by a stop. With
    // PostgreSQL another node may be in the middle of one, so only old ones are removed.
    let stale_before = if db.is_postgres() {
        OffsetDateTime::now_utc() - STALE_UPLOAD
    } else {
        OffsetDateTime::now_utc()
    };
    let removed = db.discard_stale_uploads(stale_before).await?;
    if removed > 0 {
        tracing::info!(removed, "removed abandoned uploads");
    }
    let trust = Arc::new(Trust::load(&config.trust, &db).await?);
    let notifier = Notifier::new();
    let mut background = Vec::new();

    // The node's own keys and certificates.
    let tls_key = load_key("TLS", "tls", &config.tls, passphrase)?;
    let tls_chain = read_certificates(&config.tls.cert)?;
    let log_key = load_key("log signer", "log_signer", &config.log_signer, passphrase)?;
    let log_chain = read_certificates(&config.log_signer.cert)?;
    let now = OffsetDateTime::now_utc();
    let store = trust.store();
    let log_cert = store
        .verify_with_intermediates(
            log_chain.first().map(Vec::as_slice).unwrap_or_default(),
            log_chain.get(1..).unwrap_or_default(),
            Profile::AxisLogSigner,
            now,
        )
        .map_err(|e| StartError::Certificate {
            what: "log signer",
            detail: e.to_string(),
        })?;
    if log_cert.public_key_der() != log_key.public_key_der() {
        return Err(StartError::Certificate {
            what: "log signer",
            detail: "the key file does not hold this certificate's key".into(),
        });
    }
    store
        .verify_with_intermediates(
            tls_chain.first().map(Vec::as_slice).unwrap_or_default(),
            tls_chain.get(1..).unwrap_or_default(),
            Profile::AxisServerTls,
            now,
        )
        .map_err(|e| StartError::Certificate {
            what: "server TLS",
            detail: e.to_string(),
        })?;
    let mut chain = tls_chain.clone();
    for i in store.intermediates() {
        if !chain.contains(i) {
            chain.push(i.clone());
        }
    }
    let tls = crate::tls::server_config(trust.clone(), chain, tls_key.signer())?;

    // Other nodes' commits and CRLs (PostgreSQL).
    if let Pool::Postgres(pool) = db.pool() {
        notifier.listen_postgres(pool.clone(), config.notify.clone());
        if config.notify.safety_net_secs > 0 {
            notifier.safety_net(
                db.clone(),
                Duration::from_secs(config.notify.safety_net_secs),
            );
        }
        let mut changes = notifier.trust_changes();
        let (db2, trust2) = (db.clone(), trust.clone());
        background.push(tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                if let Err(e) = trust2.reload(&db2).await {
                    tracing::warn!(error = %e, "reloading trust material failed");
                }
            }
        }));
    }
    // Janitor: abandoned uploads, idle wake-up counters.
    {
        let (db2, n2) = (db.clone(), notifier.clone());
        background.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            tick.tick().await;
            loop {
                tick.tick().await;
                n2.prune();
                if let Err(e) = db2
                    .discard_stale_uploads(OffsetDateTime::now_utc() - STALE_UPLOAD)
                    .await
                {
                    tracing::warn!(error = %e, "janitor failed");
                }
            }
        }));
    }

    // Directory changes on other nodes (PostgreSQL): forget the cached certificates.
    let encryption_ids = Arc::new(crate::recipients::EncryptionIds::default());
    if db.is_postgres() {
        let mut changes = notifier.directory_changes();
        let ids = encryption_ids.clone();
        background.push(tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                ids.clear();
            }
        }));
    }
    let witnesses = crate::witnesses::Witnesses::load(
        &config.witnesses.keys,
        log_cert.public_key_der().to_vec(),
    )?;
    let (ready_tx, ready_rx) = watch::channel(Readiness::Ready);
    let log_signer = crate::grpc::completeness::LogSigner {
        key: log_key.signer(),
        cert: Arc::new(log_cert),
    };
    let committer = Committer::start(
        db.clone(),
        log_signer.key.clone(),
        log_signer.cert.clone(),
        notifier.clone(),
        ready_rx.clone(),
    );
    let progress = committer.progress();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let app = Arc::new(App {
        db: db.clone(),
        trust,
        committer,
        log_signer,
        notifier,
        limits: config.limits.clone(),
        rate: RateLimiter::default(),
        streams: StreamLimiter::default(),
        shutdown: shutdown_rx.clone(),
        registered: Default::default(),
        encryption_ids: encryption_ids.clone(),
        witnesses,
    });

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let calls = Arc::new(crate::metrics::RpcCounters::new());
    let crl_warn_before = Duration::from_secs(config.trust.crl_warn_before_secs);
    let metrics_addr = match config.metrics_listen {
        Some(a) => {
            let l = crate::metrics::bind(a)
                .await
                .map_err(|source| StartError::Bind { addr: a, source })?;
            let local = l.local_addr().ok();
            let view = crate::metrics::NodeView {
                ready: ready_rx.clone(),
                calls: calls.clone(),
                trust: app.trust.clone(),
                crl_warn_before,
            };
            background.push(tokio::spawn(crate::metrics::serve(l, view)));
            local
        }
        None => None,
    };

    let (health_reporter, health) = tonic_health::server::health_reporter();
    set_health(&health_reporter, ServingStatus::Serving).await;
    let probe = tokio::spawn(crate::health::probe(
        db.clone(),
        progress,
        config.health.clone(),
        ready_tx,
        health_reporter.clone(),
        shutdown_rx.clone(),
    ));
    background.push(tokio::spawn(crate::crls::watch(
        app.clone(),
        crate::crls::WatchConfig {
            files: config.trust.crls.clone(),
            poll: Duration::from_secs(config.trust.crl_poll_secs),
            warn_before: crl_warn_before,
        },
        shutdown_rx.clone(),
    )));
    let (reflection_v1, reflection_v1alpha) = reflection()?;

    let max_msg = config.limits.max_chunk_bytes + 64 * 1024;
    let incoming = crate::tls::incoming(
        listener,
        TlsAcceptor::from(Arc::new(tls)),
        app.trust.clone(),
        crate::listen::ConnectionLimit::new(max_connections),
        config.connections.clone(),
        shutdown_rx.clone(),
    );
    let mut shutdown_signal = shutdown_rx.clone();
    let router = tonic::transport::Server::builder()
        // Vanished clients are found by the kernel (`listen::watch_for_vanishing`); the PING,
        // rarer, finds a peer whose kernel answers but whose HTTP/2 side does not.
        .http2_keepalive_interval(config.connections.http2_ping())
        .http2_keepalive_timeout(Some(config.connections.http2_ping_timeout()))
        .max_concurrent_streams(Some(1024))
        .layer(crate::observe::ObserveLayer::new(calls))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(ExchangeRoutes::new(
            ExchangeService::new(app.clone()),
            max_msg,
            MAX_ANSWER_BYTES,
        ))
        .add_service(
            DirectoryServer::new(DirectoryService::new(app.clone()))
                .max_decoding_message_size(max_msg),
        )
        .add_service(LogServer::new(LogService::new(app.clone())));
    let serve = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async move {
        let _ = shutdown_signal.wait_for(|v| *v).await;
    }));
    tracing::info!(
        %addr,
        ?metrics_addr,
        postgres = db.is_postgres(),
        max_connections,
        "axis node listening"
    );
    Ok(Running {
        addr,
        metrics_addr,
        shutdown: shutdown_tx,
        serve,
        background,
        probe,
        db,
        drain: Duration::from_secs(config.shutdown_drain_secs),
        health: health_reporter,
    })
}

/// `grpc.health.v1` answers for the whole server (`""`) and for each Axis service by its full
/// name, as load balancers and `grpc_health_probe -service` ask.
pub(crate) async fn set_health(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in [
        <ExchangeServer<ExchangeService> as tonic::server::NamedService>::NAME,
        <DirectoryServer<DirectoryService> as tonic::server::NamedService>::NAME,
        <LogServer<LogService> as tonic::server::NamedService>::NAME,
    ] {
        reporter.set_service_status(name, status).await;
    }
}

/// Server reflection in both versions (`grpc.reflection.v1`, and `v1alpha` which grpcio's
/// client and many tools still speak), describing the Axis services and the health service.
fn reflection() -> Result<
    (
        v1::ServerReflectionServer<impl v1::ServerReflection>,
        v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
    ),
    StartError,
> {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(axis_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let failed =
        |e: tonic_reflection::server::Error| ServerError::from(Fault::Reflection(e.to_string()));
    Ok((
        builder().build_v1().map_err(failed)?,
        builder().build_v1alpha().map_err(failed)?,
    ))
}
