//! Assembles and runs a gateway: the agency's client, the store, the workers (outbox, inbox,
//! statuses and witness), and the HTTP listener with the VXP-compatible API, `/healthz` and
//! `/metrics`; shuts it all down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::service::Gateway;
use crate::store::Db;

/// Why a gateway did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The agency's configuration or its connection to the axis.
    #[error("the agency's configuration {path}: {source}")]
    Agency {
        /// The file.
        path: String,
        /// The SDK's error.
        source: axis_client::Error,
    },
    /// The agency configuration is an operator's.
    #[error("{0}: the gateway needs an agency configuration (`agency = \"…\"`), not an operator's")]
    NotAnAgency(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The listener or the data directory.
    #[error("{what}: {source}")]
    Io {
        /// What failed.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A running gateway.
pub struct Running {
    /// Where the DMS-facing APIs listen (the port chosen when the configuration says 0).
    pub addr: SocketAddr,
    /// The shared state (for tests and the benchmark).
    pub gateway: Arc<Gateway>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, lets the requests in flight and each worker's current step
    /// finish, and closes the store.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            if tokio::time::timeout(Duration::from_secs(30), t)
                .await
                .is_err()
            {
                tracing::warn!("a worker did not stop within 30 s");
            }
        }
        self.gateway.db.close().await;
    }

    /// Runs until SIGTERM or Ctrl-C, then shuts down.
    pub async fn until_signal(self) {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing the requests and steps in flight");
        self.shutdown().await;
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts a gateway: connects to the axis as the agency (its certificates checked), opens the
/// store, starts the workers and the listener.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let agency_path = config.agency_config.display().to_string();
    let agency_err = |source| StartError::Agency {
        path: agency_path.clone(),
        source,
    };
    let client_config =
        axis_client::ClientConfig::from_file(&config.agency_config).map_err(agency_err)?;
    let client = axis_client::Client::connect(client_config)
        .await
        .map_err(agency_err)?;
    let me = client
        .agency()
        .cloned()
        .ok_or_else(|| StartError::NotAnAgency(agency_path.clone()))?;
    let io = |what: &str| {
        let what = what.to_owned();
        move |source| StartError::Io { what, source }
    };
    for dir in ["outbox", "received"] {
        std::fs::create_dir_all(config.data_dir.join(dir)).map_err(io("the data directory"))?;
    }
    let db = Db::connect(&config.database_url).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(io(&format!("listening on {}", config.listen)))?;
    let addr = listener.local_addr().map_err(io("the listening address"))?;
    let (stop, stopped) = watch::channel(false);
    let gateway = Gateway::new(config, client, me, db, stopped.clone());
    let app = router(gateway.clone());
    let mut shutdown = stopped.clone();
    let graceful = async move {
        let _ = shutdown.wait_for(|v| *v).await;
    };
    let serve = match &gateway.config.tls {
        None => tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(graceful)
                .await
            {
                tracing::error!(error = %e, "the HTTP listener stopped");
            }
        }),
        Some(files) => {
            let tls = crate::tls::server_config(files).map_err(|e| StartError::Io {
                what: "the listener's TLS".into(),
                source: std::io::Error::other(e),
            })?;
            let listener = crate::tls::TlsListener::new(listener, tls, stopped.clone())
                .map_err(io("the TLS listener"))?;
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(graceful)
                    .await
                {
                    tracing::error!(error = %e, "the HTTPS listener stopped");
                }
            })
        }
    };
    let tasks = vec![
        serve,
        tokio::spawn(crate::outbox::run(gateway.clone())),
        tokio::spawn(crate::inbox::run(gateway.clone())),
        tokio::spawn(crate::watch::run(gateway.clone())),
        tokio::spawn(crate::witness::run(gateway.clone())),
        tokio::spawn(crate::directory::run(gateway.clone())),
    ];
    tracing::info!(
        %addr,
        agency = %gateway.me,
        tls = gateway.config.tls.is_some(),
        "axis-gateway listening"
    );
    Ok(Running {
        addr,
        gateway,
        stop,
        tasks,
    })
}

/// Every route.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let limit = usize::try_from(gateway.config.max_body_bytes).unwrap_or(usize::MAX);
    Router::new()
        .merge(crate::vxp::router())
        .merge(crate::api::router())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(gateway)
}

async fn healthz(State(gw_): State<Arc<Gateway>>) -> impl IntoResponse {
    if !gw_.log_consistent() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "LOG_INCONSISTENT: the axis's log failed the consistency check\n",
        )
    } else if gw_.stopping() {
        (StatusCode::SERVICE_UNAVAILABLE, "stopping\n")
    } else {
        (StatusCode::OK, "ok\n")
    }
}

async fn metrics(State(gw_): State<Arc<Gateway>>) -> impl IntoResponse {
    match gw_.backlog().await {
        Ok(b) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            gw_.metrics.render(&b, gw_.log_consistent()),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading the backlog for the metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
