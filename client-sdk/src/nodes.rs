//! The axis nodes a client talks to, and the deadlines of every step.
//!
//! Each configured endpoint gets at most one connection, opened on first use with one deadline
//! for TCP, TLS and HTTP/2 together ([`Timeouts::connect`]) and watched by HTTP/2 PINGs, so
//! that a node that stops answering is noticed within [`Timeouts::stream_idle`] even when no
//! call is waiting on it. Calls go to the *current* node. When a call fails in a way another
//! node may not (the connection cannot be opened, breaks, or says UNAVAILABLE; a deadline
//! passes), the connection is dropped, the current node moves to the next endpoint, a
//! [`ConnectionEvent::Failover`] is announced, and the call is tried there. The current node
//! stays where it moved (no fail-back): a node that failed once is tried again only when the
//! ones after it fail too.
//!
//! A call is repeated only where repeating is safe: reads; submissions (the message id makes a
//! repeat return the first acceptance); receipts and statuses (the axis answers an identical
//! statement with the evidence it logged the first time). Operator calls that change the
//! directory are repeated only when the request cannot have left (no connection).

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axis_proto::v1::directory_client::DirectoryClient;
use axis_proto::v1::exchange_client::ExchangeClient;
use axis_proto::v1::log_client::LogClient;
use tokio::sync::broadcast;
use tonic::transport::{Channel, Endpoint};

use crate::config::Timeouts;
use crate::convert::{is_transient, status_error};
use crate::error::{Error, ErrorKind, Result};
use crate::tls::{ClientTls, ClosedBeforeHandshake, TlsConnector};

/// Largest response message accepted from the axis (a long history with many recipients).
pub(crate) const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// Rounds over all endpoints a call makes before it gives up.
pub(crate) const ROUNDS: usize = 3;
/// Pause after the first round over all endpoints; doubled after each further round.
const ROUND_PAUSE: Duration = Duration::from_millis(250);
/// Connection events kept for a slow [`crate::Client::events`] receiver.
const EVENTS_KEPT: usize = 256;

/// Something that happened to the client's connections to the axis, as
/// [`crate::Client::events`] reports it (each is also logged).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// A call failed on `from` in a way another node may not, and moves to `to` (the same
    /// endpoint when only one is configured).
    Failover {
        /// What was attempted ("submit 0b6f…", "inbox", "look up agency …").
        call: String,
        /// The endpoint that failed.
        from: String,
        /// The endpoint tried next.
        to: String,
        /// Why, for people.
        reason: String,
    },
    /// The inbox subscribed on `endpoint` (the first time, or again after a break), resuming
    /// after cursor `after` (empty: everything not yet acknowledged).
    InboxSubscribed {
        /// The node.
        endpoint: String,
        /// The cursor it resumed after.
        after: String,
    },
    /// The inbox's subscription on `endpoint` broke; it resubscribes (see
    /// [`ConnectionEvent::Failover`] for where).
    InboxBroken {
        /// The node.
        endpoint: String,
        /// Why, for people.
        reason: String,
    },
}

/// Whether a call may be repeated after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, submissions, statements: the axis answers a repeat as the first.
    Always,
    /// Only when the request cannot have been sent (the connection could not be opened).
    IfNotSent,
}

/// Why one attempt on one node failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The connection could not be opened (nothing was sent).
    Connect(String),
    /// The node closed the connection before the TLS handshake was over (nothing was sent;
    /// the node gave no reason).
    ClosedBeforeTls(String),
    /// A deadline passed: `what` (the step) did not finish within `after`.
    Deadline {
        /// The step.
        what: &'static str,
        /// Its deadline.
        after: Duration,
    },
    /// The call failed with a status another node may not give.
    Status(tonic::Status),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(d) => write!(f, "cannot connect: {d}"),
            Failure::ClosedBeforeTls(d) => write!(f, "cannot connect: {d}"),
            Failure::Deadline { what, after } => write!(
                f,
                "{what}: nothing within {} (DEADLINE_EXCEEDED)",
                secs(*after)
            ),
            Failure::Status(s) => {
                let m: String = s.message().chars().take(200).collect();
                write!(f, "{:?}: {m}", s.code())
            }
        }
    }
}

impl Failure {
    fn sent(&self) -> bool {
        !matches!(self, Failure::Connect(_) | Failure::ClosedBeforeTls(_))
    }

    /// Whether the connection itself is suspect (else the node answered, with a status another
    /// node may not give, and its connection can stay open).
    fn connection_broken(&self) -> bool {
        match self {
            Failure::Connect(_) | Failure::ClosedBeforeTls(_) | Failure::Deadline { .. } => true,
            Failure::Status(s) => !matches!(
                s.code(),
                tonic::Code::ResourceExhausted | tonic::Code::Internal | tonic::Code::Aborted
            ),
        }
    }

    /// The error a caller sees when no attempt is left.
    pub(crate) fn into_error(self, call: &str, endpoint: &str, tried: usize) -> Error {
        let tries = if tried > 1 {
            format!(" (after {tried} attempts)")
        } else {
            String::new()
        };
        match self {
            Failure::Connect(detail) => Error::new(
                ErrorKind::Transport,
                format!(
                    "{call}: cannot connect to the axis at {endpoint}{tries} ({detail}) \
                     [UNAVAILABLE]; check `endpoints`, `server_name` (the name in the server's \
                     certificate), `root` and the network"
                ),
            ),
            // The settings the generic advice names cannot be at fault: the TCP connection was
            // made and no certificate was looked at yet.
            Failure::ClosedBeforeTls(detail) => Error::new(
                ErrorKind::Transport,
                format!(
                    "{call}: the axis at {endpoint} closed the connection before the TLS \
                     handshake was over{tries} ({detail}) [UNAVAILABLE]; nothing was sent and the \
                     node gave no reason. An axis node does this when it holds its maximum of \
                     open connections (`[limits] max_connections`, see its \
                     axis_connections_refused_total) or is shutting down; retry later or on \
                     another endpoint, and if it lasts check that {endpoint} is an axis node"
                ),
            ),
            Failure::Deadline { what, after } => Error::new(
                ErrorKind::DeadlineExceeded,
                format!(
                    "{call}: the axis at {endpoint} did not answer in time{tries}: {what} took \
                     longer than {} [DEADLINE_EXCEEDED]; the node or the network is down or \
                     overloaded; retry later",
                    secs(after)
                ),
            ),
            Failure::Status(s) => status_error(&format!("{call} at {endpoint}{tries}"), &s),
        }
    }
}

pub(crate) fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Attempts left for one call: every endpoint once per round, [`ROUNDS`] rounds, a growing
/// pause between rounds.
pub(crate) struct Attempts {
    nodes: usize,
    tried: usize,
    max: usize,
}

impl Attempts {
    pub(crate) fn new(nodes: usize) -> Self {
        Attempts {
            nodes: nodes.max(1),
            tried: 0,
            max: nodes.max(1) * ROUNDS,
        }
    }

    /// A single round: each endpoint once, no pause (for optional refreshes).
    pub(crate) fn one_round(nodes: usize) -> Self {
        Attempts {
            nodes: nodes.max(1),
            tried: 0,
            max: nodes.max(1),
        }
    }

    pub(crate) fn tried(&self) -> usize {
        self.tried
    }

    /// Counts a failed attempt; `None` when none is left, else the pause before the next.
    pub(crate) fn failed(&mut self) -> Option<Duration> {
        self.tried += 1;
        if self.tried >= self.max {
            return None;
        }
        if self.tried.is_multiple_of(self.nodes) {
            let round = u32::try_from(self.tried / self.nodes - 1)
                .unwrap_or(8)
                .min(8);
            Some(ROUND_PAUSE * 2u32.pow(round))
        } else {
            Some(Duration::ZERO)
        }
    }
}

/// One node: its endpoint settings and its connection, if open.
struct Node {
    url: String,
    endpoint: Endpoint,
    /// TCP and TLS to the node.
    connector: TlsConnector,
    /// The open connection and its generation (to drop only the one that failed).
    channel: Mutex<Option<(Channel, u64)>>,
    /// One connect at a time per node; callers wait for it.
    connecting: tokio::sync::Mutex<()>,
    generation: AtomicU64,
}

/// A connection to one node, for one attempt.
#[derive(Clone)]
pub(crate) struct Conn {
    pub(crate) index: usize,
    pub(crate) channel: Channel,
    generation: u64,
}

/// Every node of the axis this client knows, and which one calls go to.
pub(crate) struct Nodes {
    nodes: Vec<Node>,
    current: AtomicUsize,
    pub(crate) timeouts: Timeouts,
    events: broadcast::Sender<ConnectionEvent>,
}

impl Nodes {
    /// Prepares the endpoints (nothing is connected yet).
    pub(crate) fn new(endpoints: &[String], tls: &ClientTls, timeouts: Timeouts) -> Result<Self> {
        let half_idle = timeouts.stream_idle / 2;
        let nodes = endpoints
            .iter()
            .map(|url| {
                // The connector does the TLS (tls.rs): the endpoint is opened as http:// and its
                // requests carry the https:// origin.
                let origin = url
                    .parse::<tonic::codegen::http::Uri>()
                    .map_err(|e| Error::config(format!("endpoint \"{url}\": {e}")))?;
                let plain = url
                    .strip_prefix("https://")
                    .map(|rest| format!("http://{rest}"))
                    .ok_or_else(|| {
                        Error::config(format!(
                            "endpoint \"{url}\": the axis is reached over TLS only; use \
                             https://HOST:PORT"
                        ))
                    })?;
                let endpoint = Endpoint::from_shared(plain)
                    .map_err(|e| Error::config(format!("endpoint \"{url}\": {e}")))?
                    .origin(origin)
                    // No `connect_timeout`: `conn_to` bounds TCP, TLS and HTTP/2 together, and
                    // its deadline must be the one that fails (`DEADLINE_EXCEEDED`).
                    // No byte for `stream_idle` ⇒ the connection is dead: a PING goes out after
                    // half of it without a read, and must be answered within the other half.
                    .http2_keep_alive_interval(half_idle)
                    .keep_alive_timeout(half_idle)
                    .keep_alive_while_idle(true);
                Ok(Node {
                    url: url.clone(),
                    endpoint,
                    connector: tls.connector(),
                    channel: Mutex::new(None),
                    connecting: tokio::sync::Mutex::new(()),
                    generation: AtomicU64::new(0),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if nodes.is_empty() {
            return Err(Error::config("no endpoint configured"));
        }
        Ok(Nodes {
            nodes,
            current: AtomicUsize::new(0),
            timeouts,
            events: broadcast::channel(EVENTS_KEPT).0,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The endpoint calls go to now.
    pub(crate) fn current_url(&self) -> &str {
        self.url(self.current.load(Ordering::Acquire))
    }

    pub(crate) fn url(&self, index: usize) -> &str {
        self.nodes
            .get(index % self.nodes.len())
            .map_or("", |n| n.url.as_str())
    }

    pub(crate) fn subscribe_events(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.events.subscribe()
    }

    pub(crate) fn announce(&self, event: ConnectionEvent) {
        // No receiver is fine: events are also logged.
        let _ = self.events.send(event);
    }

    /// A connection to the current node, opened within the connect deadline if none is open.
    pub(crate) async fn conn(&self) -> std::result::Result<Conn, (usize, Failure)> {
        let index = self.current.load(Ordering::Acquire) % self.nodes.len();
        self.conn_to(index).await.map_err(|f| (index, f))
    }

    async fn conn_to(&self, index: usize) -> std::result::Result<Conn, Failure> {
        let node = &self.nodes[index];
        if let Some(c) = open_channel(node, index) {
            return Ok(c);
        }
        let _one = node.connecting.lock().await;
        if let Some(c) = open_channel(node, index) {
            return Ok(c);
        }
        let deadline = self.timeouts.connect;
        let channel = match tokio::time::timeout(
            deadline,
            node.endpoint.connect_with_connector(node.connector.clone()),
        )
        .await
        {
            Ok(Ok(ch)) => ch,
            Ok(Err(e)) if ClosedBeforeHandshake::is_in(&e) => {
                return Err(Failure::ClosedBeforeTls(error_chain(&e)));
            }
            Ok(Err(e)) => return Err(Failure::Connect(error_chain(&e))),
            Err(_) => {
                return Err(Failure::Deadline {
                    what: "connecting (TCP, TLS and HTTP/2)",
                    after: deadline,
                });
            }
        };
        let generation = node.generation.fetch_add(1, Ordering::AcqRel) + 1;
        if let Ok(mut slot) = node.channel.lock() {
            *slot = Some((channel.clone(), generation));
        }
        tracing::debug!(endpoint = %node.url, "connected to the axis");
        Ok(Conn {
            index,
            channel,
            generation,
        })
    }

    /// Records that an attempt on `index` failed: its connection is dropped (if it is still
    /// the one that failed, and the failure was the connection's) and the current node moves
    /// on. Announces and logs the failover.
    pub(crate) fn failed(
        &self,
        index: usize,
        generation: Option<u64>,
        call: &str,
        failure: &Failure,
    ) {
        let node = &self.nodes[index % self.nodes.len()];
        if failure.connection_broken()
            && let Ok(mut slot) = node.channel.lock()
            && slot
                .as_ref()
                .is_some_and(|(_, g)| generation.is_none_or(|want| *g == want))
        {
            *slot = None;
        }
        let next = (index + 1) % self.nodes.len();
        // Only the first to notice moves the current node.
        let _ = self
            .current
            .compare_exchange(index, next, Ordering::AcqRel, Ordering::Acquire);
        let reason = failure.to_string();
        tracing::warn!(
            call,
            from = %node.url,
            to = %self.url(next),
            %reason,
            "axis node failed; moving to the next endpoint"
        );
        self.announce(ConnectionEvent::Failover {
            call: call.to_owned(),
            from: node.url.clone(),
            to: self.url(next).to_owned(),
            reason,
        });
    }

    /// Convenience for [`Nodes::failed`] with an attempt's connection.
    pub(crate) fn conn_failed(&self, conn: &Conn, call: &str, failure: &Failure) {
        self.failed(conn.index, Some(conn.generation), call, failure);
    }

    /// A unary call with failover: `f` makes the call on a channel; each attempt has the
    /// deadline `deadline`.
    pub(crate) async fn unary<T, F, Fut>(
        &self,
        call: &str,
        retry: Retry,
        deadline: Duration,
        attempts: Attempts,
        mut f: F,
    ) -> Result<T>
    where
        F: FnMut(Channel) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        let mut attempts = attempts;
        loop {
            let (index, generation, failure) = match self.conn().await {
                Err((index, f)) => (index, None, f),
                Ok(conn) => match tokio::time::timeout(deadline, f(conn.channel.clone())).await {
                    Ok(Ok(r)) => return Ok(r.into_inner()),
                    Ok(Err(s)) if is_transient(&s) => {
                        (conn.index, Some(conn.generation), Failure::Status(s))
                    }
                    Ok(Err(s)) => return Err(status_error(call, &s)),
                    Err(_) => (
                        conn.index,
                        Some(conn.generation),
                        Failure::Deadline {
                            what: "the call",
                            after: deadline,
                        },
                    ),
                },
            };
            self.failed(index, generation, call, &failure);
            let pause = if retry == Retry::IfNotSent && failure.sent() {
                None
            } else {
                attempts.failed()
            };
            match pause {
                Some(p) => tokio::time::sleep(p).await,
                None => {
                    let tried = attempts.tried().max(1);
                    return Err(failure.into_error(call, self.url(index), tried));
                }
            }
        }
    }
}

fn open_channel(node: &Node, index: usize) -> Option<Conn> {
    let slot = node.channel.lock().ok()?;
    slot.as_ref().map(|(channel, generation)| Conn {
        index,
        channel: channel.clone(),
        generation: *generation,
    })
}

/// An error and its causes on one line.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !detail.contains(&s_text) {
            detail.push_str(": ");
            detail.push_str(&s_text);
        }
        source = s.source();
    }
    detail
}

/// The Exchange service on a channel.
pub(crate) fn exchange(channel: Channel) -> ExchangeClient<Channel> {
    ExchangeClient::new(channel).max_decoding_message_size(MAX_RESPONSE)
}

/// The Directory service on a channel.
pub(crate) fn directory(channel: Channel) -> DirectoryClient<Channel> {
    DirectoryClient::new(channel).max_decoding_message_size(MAX_RESPONSE)
}

/// The Log service on a channel.
pub(crate) fn log(channel: Channel) -> LogClient<Channel> {
    LogClient::new(channel).max_decoding_message_size(MAX_RESPONSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_go_round_every_node_with_growing_pauses() {
        let mut a = Attempts::new(2);
        let pauses: Vec<Option<Duration>> = (0..6).map(|_| a.failed()).collect();
        assert_eq!(
            pauses,
            vec![
                Some(Duration::ZERO),
                Some(ROUND_PAUSE),
                Some(Duration::ZERO),
                Some(ROUND_PAUSE * 2),
                Some(Duration::ZERO),
                None
            ]
        );
        let mut one = Attempts::new(1);
        assert_eq!(one.failed(), Some(ROUND_PAUSE));
        assert_eq!(one.failed(), Some(ROUND_PAUSE * 2));
        assert_eq!(one.failed(), None);
        let mut once = Attempts::one_round(3);
        assert_eq!(once.failed(), Some(Duration::ZERO));
        assert_eq!(once.failed(), Some(Duration::ZERO));
        assert_eq!(once.failed(), None);
    }

    #[test]
    fn a_deadline_failure_says_which_step_and_how_long() {
        let e = Failure::Deadline {
            what: "the call",
            after: Duration::from_millis(1500),
        }
        .into_error("look up agency 000.00.00.H41", "https://10.0.0.5:7443", 2);
        assert_eq!(*e.kind(), ErrorKind::DeadlineExceeded);
        assert!(e.is_retryable());
        for s in [
            "https://10.0.0.5:7443",
            "1.5 s",
            "DEADLINE_EXCEEDED",
            "2 attempts",
        ] {
            assert!(e.message().contains(s), "{s:?} not in {e}");
        }
        let e = Failure::Connect("connection refused".into()).into_error("inbox", "https://a:1", 1);
        assert_eq!(*e.kind(), ErrorKind::Transport);
        assert!(e.message().contains("UNAVAILABLE") && e.message().contains("refused"));
        // Closed before TLS: the node's possible reasons, not the client's settings.
        let e = Failure::ClosedBeforeTls("tls handshake eof".into()).into_error(
            "connect",
            "https://a:1",
            3,
        );
        assert_eq!(*e.kind(), ErrorKind::Transport);
        assert!(e.is_retryable());
        for s in [
            "closed the connection before the TLS handshake",
            "maximum of open connections",
            "shutting down",
            "3 attempts",
            "UNAVAILABLE",
        ] {
            assert!(e.message().contains(s), "{s:?} not in {e}");
        }
        assert!(!e.message().contains("server_name"), "{e}");
    }
}
