//! The gRPC services and what they share: the caller's identity, per-agency rate and stream
//! limits, and the one mapping from [`ServerError`] to `tonic::Status`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axis_pki::AgencyId;
use axis_proto::reasons;
use tokio::sync::watch;
use tonic::{Request, Status};

use crate::commit::Committer;
use crate::config::Limits;
use crate::error::{Result, ServerError, SignatureReason};
use crate::notify::Notifier;
use crate::store::Db;
use crate::tls::Caller;
use crate::trust::Trust;

pub(crate) mod completeness;
pub(crate) mod convert;
pub(crate) mod directory;
pub(crate) mod exchange;
pub(crate) mod log;
pub(crate) mod routes;
pub(crate) mod units;

/// Everything a handler needs.
pub struct App {
    /// Storage.
    pub db: Db,
    /// Trust snapshot.
    pub trust: Arc<Trust>,
    /// The log's write path.
    pub committer: Committer,
    /// The log signer, for completeness statements (the committer signs tree heads).
    pub log_signer: completeness::LogSigner,
    /// Subscriber wake-ups.
    pub notifier: Notifier,
    /// Limits.
    pub limits: Limits,
    /// Per-agency call rate.
    pub rate: RateLimiter,
    /// Per-agency open streams.
    pub streams: StreamLimiter,
    /// Becomes true when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Agencies known to be registered. Agencies are never removed from the directory, so a
    /// positive answer stays true; a miss asks the database (another node may have registered
    /// it since).
    pub registered: Mutex<std::collections::HashSet<String>>,
    /// The recipients' current encryption certificates (cleared on directory change).
    pub encryption_ids: Arc<crate::recipients::EncryptionIds>,
    /// The witnesses whose cosignatures are kept, and the log's own key.
    pub witnesses: crate::witnesses::Witnesses,
}

impl App {
    /// Which of `ids` are not registered (the database is asked only about ids not seen before).
    pub(crate) async fn unregistered(&self, ids: &[String]) -> Result<Vec<String>> {
        let unknown: Vec<String> = {
            let known = self.registered.lock().unwrap_or_else(|p| p.into_inner());
            ids.iter()
                .filter(|i| !known.contains(*i))
                .cloned()
                .collect()
        };
        if unknown.is_empty() {
            return Ok(Vec::new());
        }
        let missing = self.db.unregistered(&unknown).await?;
        let mut known = self.registered.lock().unwrap_or_else(|p| p.into_inner());
        for id in unknown.iter().filter(|i| !missing.contains(i)) {
            known.insert(id.clone());
        }
        Ok(missing)
    }
}

/// The caller attached to the connection by the TLS layer.
pub(crate) fn caller<T>(req: &Request<T>) -> Result<Caller> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or(ServerError::Unauthenticated)
}

/// The calling agency (operators are refused: they administer, they do not exchange).
pub(crate) fn agency_of(caller: &Caller) -> Result<AgencyId> {
    caller.agency.clone().ok_or(ServerError::AgencyOnly)
}

/// Requires an operator.
pub(crate) fn require_operator(caller: &Caller) -> Result<()> {
    if caller.operator {
        Ok(())
    } else {
        Err(ServerError::OperatorOnly)
    }
}

impl App {
    /// The caller, its certificate re-verified if the trust material changed since the
    /// handshake or the certificate expired meanwhile: a revocation takes effect on connections
    /// already open, at their next call.
    pub(crate) fn checked_caller<T>(&self, req: &Request<T>) -> Result<Caller> {
        use std::sync::atomic::Ordering;
        let c = caller(req)?;
        let generation = self.trust.generation();
        let now = time::OffsetDateTime::now_utc();
        if c.checked.load(Ordering::Acquire) != generation || now >= c.not_after {
            let profile = if c.operator {
                axis_pki::Profile::AxisOperator
            } else {
                axis_pki::Profile::AgencyTlsClient
            };
            let leaf = c.chain.first().ok_or(ServerError::Unauthenticated)?;
            self.trust
                .store()
                .verify_with_intermediates(leaf, c.chain.get(1..).unwrap_or_default(), profile, now)
                .map_err(|e| ServerError::Signature {
                    what: "client TLS certificate",
                    detail: e.to_string(),
                    reason: match e {
                        axis_pki::Error::Revoked { .. } => SignatureReason::CertificateRevoked,
                        _ => SignatureReason::CertificateRejected,
                    },
                })?;
            c.checked.store(generation, Ordering::Release);
        }
        Ok(c)
    }

    /// The calling agency, after the rate limit.
    pub(crate) fn agency_call<T>(&self, req: &Request<T>) -> Result<AgencyId> {
        let c = self.checked_caller(req)?;
        let a = agency_of(&c)?;
        self.rate.check(a.as_str(), &self.limits)?;
        Ok(a)
    }

    /// The caller (agency or operator), after the rate limit.
    pub(crate) fn any_call<T>(&self, req: &Request<T>) -> Result<Caller> {
        let c = self.checked_caller(req)?;
        let key = c
            .agency
            .as_ref()
            .map_or("operator", |a| a.as_str())
            .to_owned();
        self.rate.check(&key, &self.limits)?;
        Ok(c)
    }
}

/// Token buckets per agency.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes one token for `agency`, or fails with `RATE_LIMITED`.
    pub fn check(&self, agency: &str, limits: &Limits) -> Result<()> {
        let now = Instant::now();
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let burst = f64::from(limits.burst_per_agency.max(1));
        let (tokens, last) = map.entry(agency.to_owned()).or_insert((burst, now));
        *tokens = (*tokens
            + now.duration_since(*last).as_secs_f64() * f64::from(limits.rate_per_agency))
        .min(burst);
        *last = now;
        if *tokens < 1.0 {
            return Err(ServerError::RateLimited(agency.to_owned()));
        }
        *tokens -= 1.0;
        if map.len() > 100_000 {
            map.retain(|_, (t, _)| *t < burst);
        }
        Ok(())
    }
}

/// Counts open streams per agency.
#[derive(Clone, Default)]
pub struct StreamLimiter {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream; dropping it frees the slot.
pub struct StreamPermit {
    open: Arc<Mutex<HashMap<String, usize>>>,
    agency: String,
}

impl StreamLimiter {
    /// Opens a stream slot for `agency`, or fails with `TOO_MANY_STREAMS`.
    pub fn acquire(&self, agency: &str, max: usize) -> Result<StreamPermit> {
        let mut map = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(agency.to_owned()).or_insert(0);
        if *n >= max {
            return Err(ServerError::TooManyStreams {
                agency: agency.to_owned(),
                max,
            });
        }
        *n += 1;
        crate::metrics::OPEN_STREAMS.inc();
        Ok(StreamPermit {
            open: self.open.clone(),
            agency: agency.to_owned(),
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut map = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.agency) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.agency);
            }
        }
        crate::metrics::OPEN_STREAMS.dec();
    }
}

/// `google.rpc.Status`, for the details of an error status.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

/// `google.rpc.ErrorInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(map = "string, string", tag = "3")]
    metadata: HashMap<String, String>,
}

impl From<ServerError> for Status {
    /// The one place a server error becomes a gRPC status: code, message, a
    /// `google.rpc.ErrorInfo { domain: "axis.v1", reason }` in the details, and the reason again
    /// as `axis-reason` metadata (both names from [`axis_proto::reasons`]). The axis's own
    /// faults go to the log in full and reach the client as their reason only.
    fn from(e: ServerError) -> Status {
        use prost::Message as _;
        let code = e.code();
        let reason = e.reason();
        if e.is_internal() {
            tracing::error!(error = %e, reason, "internal error");
        }
        let message = e.public_message();
        let info = ErrorInfo {
            reason: reason.to_owned(),
            domain: reasons::DOMAIN.to_owned(),
            metadata: HashMap::new(),
        };
        let details = RpcStatus {
            code: code as i32,
            message: message.clone(),
            details: vec![prost_types::Any {
                type_url: "type.googleapis.com/google.rpc.ErrorInfo".to_owned(),
                value: info.encode_to_vec(),
            }],
        };
        let mut status = Status::with_details(code, message, details.encode_to_vec().into());
        if let Ok(v) = reason.parse() {
            status.metadata_mut().insert(reasons::METADATA_KEY, v);
        }
        status
    }
}
