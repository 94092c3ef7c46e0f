#![forbid(unsafe_code)]
//! # axis-server
//!
//! The axis: agencies' document-management systems exchange sealed documents through it over
//! mutual TLS and gRPC (`axis.v1`). It routes ciphertext it cannot read, checks origin without
//! a key, stores durably before it answers, delivers at least once and exactly once in effect,
//! verifies every receipt and status, and records every acceptance and statement in a signed
//! RFC 9162 Merkle log whose proofs come back with every answer.
//!
//! - [`config`]: TOML file, environment, flags; [`keys`]: a passphrase per key file;
//!   [`check`]: `axis-server check-config`.
//! - `tls`: rustls with a client-certificate verifier on Axis's own trust store (profiles,
//!   CRLs published at run time).
//! - `store`: sqlx on SQLite (default) or PostgreSQL (several nodes), a deadline on every call.
//! - [`health`]: readiness (`/readyz`, gRPC health) from a database probe and the committer.
//! - `listen`: accept back-off, the connection maximum, the descriptor limit.
//! - `commit`: group commit — one transaction, one fsync and one tree-head signature per batch.
//! - `notify`: per-agency wake-ups, and PostgreSQL notifications between nodes.
//! - `recipients`: the recipients' current encryption certificates, cached for the
//!   key-envelope check.
//! - [`witnesses`]: the witnesses the operator accepts, and the check of their cosignatures.
//! - `grpc`: the Exchange, Directory and Log services, health and reflection.
//! - `observe`: every call's end counted (`axis_rpc_requests_total{rpc,code,reason}`) and each
//!   refusal logged once; [`metrics`]: the Prometheus text, `/healthz`, `/readyz`.
//! - [`crls`]: publishing CRLs (`PublishCrl`, a changed `[trust] crls` file), their remaining
//!   validity, `/healthz` degraded ahead of a nextUpdate.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = axis_server::config::Config::from_file("axis-data/axis-server.toml".as_ref())?;
//! let pass = axis_pki::Passphrase::new(std::fs::read_to_string("axis-data/secrets/axis.pass")?);
//! let node = axis_server::start(config, &pass).await?;
//! println!("listening on {}", node.addr);
//! node.shutdown().await;
//! # Ok(()) }
//! ```

pub mod check;
pub mod commit;
pub mod config;
pub mod crls;
pub mod demo;
pub mod error;
pub mod grpc;
pub mod health;
pub mod keys;
mod listen;
pub mod metrics;
pub mod notify;
mod observe;
pub mod recipients;
pub mod server;
mod staging;
pub mod store;
pub mod tls;
pub mod trust;
pub mod witnesses;

pub use error::ServerError;
pub use server::{Running, StartError, start};
