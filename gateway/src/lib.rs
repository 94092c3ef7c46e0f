#![forbid(unsafe_code)]
//! # axis-gateway
//!
//! The agency's local connector to the axis, after X-Road's Security Server: it runs beside
//! the agency's document-management system (DMS), holds the agency's keys and does everything
//! cryptographic, so the DMS speaks only plain local protocols.
//!
//! - **VXP-compatible API** ([`vxp`]): the paths, `XroadVnpt-*` HMAC headers and JSON
//!   envelopes of the national axis's VXP service as VNPT's Java SDK calls it; a DMS in
//!   service is pointed at the gateway by changing one URL.
//! - **Durable outbox and inbox** ([`outbox`], [`inbox`], [`watch`]): a document is sealed
//!   once, kept, and submitted with the same bytes until the axis accepts it; a delivery is
//!   verified, decrypted, kept and answered with receipt 01; statuses come back as edXML.
//!   Each step is one transaction of the [`store`] (SQLite by default, PostgreSQL optional), so
//!   a crash of the gateway, the axis or the DMS loses and repeats nothing.
//! - **Witness** ([`witness`]): every tree head seen must extend the last one kept; the first
//!   that does not stops the gateway, loudly.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = axis_gateway::Config::from_file("axis-gateway.toml")?;
//! let running = axis_gateway::start(config).await?;
//! println!("DMSs connect to http://{}", running.addr);
//! running.until_signal().await;
//! # Ok(()) }
//! ```

pub mod api;
pub mod config;
pub mod directory;
pub mod error;
pub mod inbox;
pub mod keep;
pub mod metrics;
pub mod outbox;
pub mod prepared;
pub mod server;
pub mod service;
pub mod store;
pub mod submission;
pub mod tls;
mod trust_info;
pub mod vxp;
pub mod watch;
pub mod witness;

// The public interface is:
pub use config::Config;
pub use error::Refusal;
pub use server::{Running, StartError, start};
pub use service::Gateway;
pub use trust_info::{TrustInfoError, trust_info};
