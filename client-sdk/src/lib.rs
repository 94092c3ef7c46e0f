#![forbid(unsafe_code)]
//! # axis-client
//!
//! The SDK a document-management system (DMS) uses to exchange official documents through the
//! axis: send a document signed by the person with authority and sealed by the agency,
//! encrypted end to end for the recipient agencies; receive, open and verify documents; answer
//! with signed receipts and statuses; and read a document's verified history. Every answer of the
//! axis is checked against the log evidence it carries before the SDK reports success.
//!
//! The `axis` command-line tool (feature `cli`, on by default) does the same from a shell.
//!
//! ## In a few lines
//!
//! ```no_run
//! use axis_client::{Client, ClientConfig, OutgoingDocument, StatusCode};
//! use axis_client::signer::Code;
//! use futures_util::StreamExt as _;
//!
//! # async fn demo() -> axis_client::Result<()> {
//! // Certificates, keys (encrypted PKCS#8; each key's passphrase from a file or a variable)
//! // and the axis's nodes come from a TOML file (see `ClientConfig`).
//! let client = Client::connect(ClientConfig::from_file("g22.toml")?).await?;
//!
//! // Send: the person signs, the agency seals, the recipients' keys come from the directory
//! // and are verified against the root; the acceptance receipt is verified against the log.
//! let doc = OutgoingDocument::new(Code::new("7816", "VPCP-TTĐT")?, "V/v kết nối, liên thông văn bản")
//!     .to("000.00.00.H41".parse()?)
//!     .attach_file("cong-van.pdf")?;
//! let sent = client.send(doc).await?;
//! println!("{} accepted at {}, log entry #{}", sent.message_id, sent.accepted_at, sent.leaf_index);
//!
//! // Receive (as 000.00.00.H41): the inbox resumes after a disconnect without losing or
//! // repeating a delivery.
//! let mut inbox = client.inbox(None);
//! while let Some(delivery) = inbox.next().await {
//!     let delivery = delivery?;
//!     // Decrypt, verify both signatures and every attachment digest, write the files.
//!     let opened = client.open_to_dir(&delivery, "incoming").await?;
//!     println!("{} sealed by {}", opened.document_id(), opened.report().seal.agency);
//!     // The signed delivery receipt (status 01), then business statuses.
//!     client.acknowledge(&opened).await?;
//!     client.send_status(&delivery.message_id, StatusCode::Accepted, "").await?;
//! }
//!
//! // The sender reads the verified timeline of every recipient.
//! let history = client.history(&sent.message_id).await?;
//! for t in &history.timelines {
//!     for e in &t.events {
//!         println!("{}: {} at {} (log #{})", t.recipient, e.status, e.time, e.evidence.leaf_index);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## What the SDK checks
//!
//! - **Trust comes from the configured root only.** The issuing CAs and CRLs the axis serves
//!   (`Directory.GetTrustMaterial`) are checked against the root by the trust store itself; the
//!   directory's certificates are verified for their profile and agency before use.
//! - **Nothing unverified is handed out**: a document's attachments reach the caller only after
//!   the sender's signatures verified, and each attachment is final only once its digest matched
//!   ([`AttachmentSink`]); receipts, statuses and acceptances are reported only with verified log
//!   evidence ([`Evidence`]).
//! - **Bounded memory** for any document size: sending spools the ciphertext to a temporary file
//!   above [`SPOOL_IN_MEMORY`] and uploads through a bounded queue; opening holds one frame.
//! - **Keys stay here**: private keys are decrypted in memory only (zeroized buffers); no
//!   plaintext and no key is ever sent.
//!
//! ## When the axis does not answer
//!
//! - **Several nodes**: [`ClientConfig::endpoints`] lists them; a call that fails on one
//!   (connection refused or reset, UNAVAILABLE, a deadline) moves to the next where repeating
//!   is safe, and the inbox resubscribes there after its last delivery. [`Client::events`]
//!   reports every failover; [`Client::endpoint`] and [`Inbox::endpoint`] say where things are.
//! - **Deadlines on every step** ([`Timeouts`]): connecting (TCP, TLS and HTTP/2 together),
//!   the trust material, each unary call, and silence on a connection or stream. A call that
//!   fails everywhere is [`ErrorKind::DeadlineExceeded`] or [`ErrorKind::Transport`], naming the
//!   endpoint and the step.
//! - **Sealing offline**: verified directory entries are cached ([`CachePolicy`]) and verified
//!   again at each use, so [`Client::seal`] needs no call while they are fresh and still works,
//!   up to their maximum age, while the axis is unreachable; [`Client::submit`] sends later.
//! - **Checking a configuration**: [`check_config`] (`axis check-config`) reports every problem,
//!   one line each.
//!
//! ## edXML
//!
//! A DMS that speaks edXML (QCVN 102:2016) hands its package over as it is and gets it back at
//! every recipient, field for field: [`OutgoingDocument::from_edxml`],
//! [`OpenedDocument::to_edxml`], [`Client::send_edxml_status`] and
//! [`HistoryEvent::to_edxml`]; see [`edxml`].
//!
//! Errors are one small type, [`Error`], with a stable [`ErrorKind`] and a message that says
//! what to do; the axis's machine-readable reason is [`Error::reason`], one of [`reasons`]:
//!
//! ```
//! # fn handle(e: axis_client::Error) {
//! if e.reason() == Some(axis_client::reasons::RECIPIENT_UNKNOWN) {
//!     // refresh the directory and ask the user to pick another recipient
//! }
//! # }
//! ```

mod audit;
mod check;
mod client;
mod config;
mod convert;
mod dircache;
mod directory;
pub mod edxml;
mod error;
mod inbox;
mod nodes;
mod open;
mod proof;
mod send;
mod statements;
mod tls;
mod units;
mod witness;

// The public interface is:
pub use audit::Extension;
pub use axis_pki::{CheckFinding, CheckLevel, CheckReport};
pub use check::{CheckNetwork, check_config};
pub use client::{Client, TRUST_REFRESH};
pub use config::{
    CachePolicy, ClientConfig, Credential, DEFAULT_CACHE_MAX_AGE, DEFAULT_CACHE_REFRESH,
    DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_STREAM_IDLE, DEFAULT_TRUST_TIMEOUT,
    MAX_ENDPOINTS, PASSPHRASE_ENV, Timeouts, load_key,
};
pub use directory::{AgencyInfo, AgencyPage, AgencyUpdate, CrlPublished, Limits};
pub use error::{Error, ErrorKind, Result};
pub use inbox::{Delivery, Inbox, RECONNECT_MAX, RECONNECT_MIN};
pub use nodes::ConnectionEvent;
pub use open::{
    AttachmentSink, DirSink, MAX_IN_MEMORY, MemorySink, OpenedDocument, check_attachment_name,
};
pub use proof::Evidence;
pub use send::{
    ExternalSignature, MAX_UPLOAD_CHUNK, OutgoingAttachment, OutgoingDocument, PreparedDocument,
    Recipient, SPOOL_IN_MEMORY, SealedDocument, SendReceipt,
};
pub use statements::{History, HistoryEvent, LoggedStatement, Timeline};
pub use units::{Imported, Synced, UnitInfo, UnitPage};
pub use witness::{CosignedHead, WitnessStep};

/// Log entries, tree heads, proofs and evidence bundles this API returns, from `axis-evidence`.
pub use axis_evidence as evidence;
/// Agency ids, certificates and keys, from `axis-pki`.
pub use axis_pki as pki;
/// The most used of those, at the top level.
pub use axis_pki::AgencyId;
/// The axis's machine-readable error reasons ([`Error::reason`]), from `axis-proto`.
pub use axis_proto::reasons;
/// The types of the document package this API uses, from `axis-signer`.
pub use axis_signer as signer;
pub use axis_signer::{Business, DocumentId, MessageId, Priority, StatusCode};
