//! Accepting connections without exhausting the process: a back-off after a failed `accept`
//! (both listeners), a maximum of open gRPC connections below the descriptor limit (excess
//! connections are accepted and closed at once, counted and logged), and the descriptor limit
//! itself, raised at start where allowed.
//!
//! At the descriptor limit `accept` fails (`EMFILE`) while the connection stays queued, so a
//! loop that retries at once spins a core and logs without end. Here each failure doubles the
//! pause (5 ms up to 1 s) and the log says it once per ten seconds with a count; the first
//! success resets both. The connection maximum keeps descriptors free for the database, the
//! metrics listener and files, so `/healthz` and `/metrics` still answer when clients take every
//! connection they are allowed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The first pause after a failed `accept`.
const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause.
const MAX_PAUSE: Duration = Duration::from_secs(1);
/// At most one log line per this long about failing accepts or refused connections.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// Descriptors kept out of the connection maximum: the database pool, the listeners, the
/// metrics connections, files; at most half of a small limit.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Paces an accept loop after failures.
pub(crate) struct Backoff {
    listener: &'static str,
    pause: Duration,
    failures: u64,
    logged: Option<Instant>,
}

impl Backoff {
    /// For the listener named `listener` (in the log).
    pub(crate) fn new(listener: &'static str) -> Self {
        Backoff {
            listener,
            pause: Duration::ZERO,
            failures: 0,
            logged: None,
        }
    }

    /// An accept succeeded.
    pub(crate) fn succeeded(&mut self) {
        self.pause = Duration::ZERO;
    }

    /// An accept failed: counts and (at most once per [`LOG_EVERY`]) logs it, then waits,
    /// longer after each failure in a row.
    pub(crate) async fn failed(&mut self, error: &std::io::Error) {
        crate::metrics::ACCEPT_ERRORS.inc();
        self.failures += 1;
        self.pause = (self.pause * 2).clamp(FIRST_PAUSE, MAX_PAUSE);
        if self.logged.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            tracing::warn!(
                listener = self.listener,
                %error,
                failures = self.failures,
                pause_ms = self.pause.as_millis() as u64,
                "accept failed; pausing (the descriptor limit, or the system's, may be reached)"
            );
            self.logged = Some(Instant::now());
            self.failures = 0;
        }
        tokio::time::sleep(self.pause).await;
    }
}

/// Has the kernel watch an accepted client connection for a vanished peer (no FIN, no RST):
/// TCP keepalive with `config`'s idle time, interval and probe count, and `TCP_USER_TIMEOUT` of
/// the same total, so that data left unacknowledged (a peer gone while something was being sent
/// to it) fails the connection in the same time. The kernel sends and answers the probes: an
/// idle connection costs the process nothing.
pub(crate) fn watch_for_vanishing(
    tcp: &tokio::net::TcpStream,
    config: &crate::config::ConnectionsConfig,
) -> std::io::Result<()> {
    let Some(dead_after) = config.tcp_dead_after() else {
        return Ok(());
    };
    let socket = socket2::SockRef::from(tcp);
    socket.set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(config.tcp_keepalive_secs))
            .with_interval(Duration::from_secs(
                config.tcp_keepalive_interval_secs.max(1),
            ))
            .with_retries(config.tcp_keepalive_probes.max(1)),
    )?;
    socket.set_tcp_user_timeout(Some(dead_after))
}

/// The open gRPC connections, at most a maximum.
#[derive(Clone)]
pub(crate) struct ConnectionLimit {
    slots: Arc<Semaphore>,
    max: usize,
    refused_log: Arc<std::sync::Mutex<(Option<Instant>, u64)>>,
}

/// One open connection; dropping it frees the slot.
pub(crate) struct ConnectionSlot {
    _permit: OwnedSemaphorePermit,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        crate::metrics::CONNECTIONS_OPEN.dec();
    }
}

impl ConnectionLimit {
    /// At most `max` connections (at least one).
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        ConnectionLimit {
            slots: Arc::new(Semaphore::new(max)),
            max,
            refused_log: Arc::default(),
        }
    }

    /// A slot for a new connection, or `None` when `max` are open: the caller closes the
    /// connection at once. Refusals are counted and logged (once per [`LOG_EVERY`], with the
    /// count since the last line).
    pub(crate) fn admit(&self, remote: std::net::SocketAddr) -> Option<ConnectionSlot> {
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => {
                crate::metrics::CONNECTIONS_OPEN.inc();
                Some(ConnectionSlot { _permit: permit })
            }
            Err(_) => {
                crate::metrics::CONNECTIONS_REFUSED.inc();
                let mut log = self.refused_log.lock().unwrap_or_else(|p| p.into_inner());
                log.1 += 1;
                if log.0.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                    tracing::warn!(
                        %remote,
                        max_connections = self.max,
                        refused = log.1,
                        "connection refused: this node holds its maximum of open connections"
                    );
                    *log = (Some(Instant::now()), 0);
                }
                None
            }
        }
    }
}

/// Raises the soft descriptor limit to the hard one where allowed, and returns the soft limit
/// now in force (`None` where it cannot be read). Warns when it could not be raised, or stays
/// low.
pub(crate) fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current;
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::info!(
                    from = ?limit.current,
                    to = ?limit.maximum,
                    "raised the descriptor limit (RLIMIT_NOFILE) to its hard limit"
                );
                return limit.maximum;
            }
            Err(e) => tracing::warn!(
                soft = ?limit.current,
                hard = ?limit.maximum,
                error = %e,
                "cannot raise the descriptor limit (RLIMIT_NOFILE)"
            ),
        }
    }
    if let Some(n) = soft
        && n < 4096
    {
        tracing::warn!(
            limit = n,
            "the descriptor limit (RLIMIT_NOFILE) is low for an axis node: raise it \
             (`ulimit -n`, systemd LimitNOFILE=) to allow more connections"
        );
    }
    soft
}

/// The connection maximum: `configured`, or when it is 0, the descriptor limit less what the
/// node needs besides connections ([`RESERVED_DESCRIPTORS`], at most half the limit).
pub(crate) fn max_connections(configured: usize, descriptor_limit: Option<u64>) -> usize {
    if configured > 0 {
        return configured;
    }
    match descriptor_limit {
        Some(n) => {
            let n = n.min(1 << 24);
            usize::try_from(n - RESERVED_DESCRIPTORS.min(n / 2))
                .unwrap_or(usize::MAX)
                .max(1)
        }
        // No limit known (or none): a generous bound still keeps memory finite.
        None => 1 << 20,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An accepted connection of a loopback pair, with `config` applied as the node does.
    async fn accepted_with(
        config: &crate::config::ConnectionsConfig,
    ) -> (tokio::net::TcpStream, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        watch_for_vanishing(&accepted, config).unwrap();
        (accepted, client)
    }

    #[tokio::test]
    async fn an_accepted_connection_is_watched_by_the_kernel_as_configured() {
        let config = crate::config::ConnectionsConfig::default();
        let (accepted, _client) = accepted_with(&config).await;
        let socket = socket2::SockRef::from(&accepted);
        assert!(socket.keepalive().unwrap(), "SO_KEEPALIVE");
        assert_eq!(
            socket.tcp_keepalive_time().unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(5)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 4);
        // Unacknowledged data fails the connection in the same 50 s.
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(50))
        );
        assert_eq!(config.tcp_dead_after(), Some(Duration::from_secs(50)));

        let other = crate::config::ConnectionsConfig {
            tcp_keepalive_secs: 7,
            tcp_keepalive_interval_secs: 2,
            tcp_keepalive_probes: 3,
            ..Default::default()
        };
        let (accepted, _client) = accepted_with(&other).await;
        let socket = socket2::SockRef::from(&accepted);
        assert_eq!(socket.tcp_keepalive_time().unwrap(), Duration::from_secs(7));
        assert_eq!(
            socket.tcp_keepalive_interval().unwrap(),
            Duration::from_secs(2)
        );
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), 3);
        assert_eq!(
            socket.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(13))
        );
    }

    #[tokio::test]
    async fn tcp_keepalive_can_be_turned_off() {
        let config = crate::config::ConnectionsConfig {
            tcp_keepalive_secs: 0,
            ..Default::default()
        };
        let (accepted, _client) = accepted_with(&config).await;
        let socket = socket2::SockRef::from(&accepted);
        assert!(!socket.keepalive().unwrap());
        assert_eq!(socket.tcp_user_timeout().unwrap(), None);
        assert_eq!(config.tcp_dead_after(), None);
    }

    #[test]
    fn the_connection_maximum_leaves_descriptors_for_the_rest() {
        assert_eq!(max_connections(100, Some(64)), 100);
        assert_eq!(max_connections(0, Some(128)), 64);
        assert_eq!(max_connections(0, Some(1024)), 768);
        assert_eq!(max_connections(0, Some(65_536)), 65_280);
        assert_eq!(max_connections(0, Some(1)), 1);
        assert_eq!(max_connections(0, None), 1 << 20);
    }

    #[test]
    fn refusals_start_once_the_maximum_is_open() {
        let limit = ConnectionLimit::new(2);
        let remote = "127.0.0.1:1".parse().unwrap();
        let a = limit.admit(remote).unwrap();
        let _b = limit.admit(remote).unwrap();
        assert!(limit.admit(remote).is_none());
        drop(a);
        assert!(limit.admit(remote).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_double_up_to_a_second_and_reset_on_success() {
        let mut b = Backoff::new("test");
        let e = std::io::Error::other("EMFILE");
        let mut pauses = Vec::new();
        for _ in 0..10 {
            let t = tokio::time::Instant::now();
            b.failed(&e).await;
            pauses.push(t.elapsed().as_millis());
        }
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.succeeded();
        let t = tokio::time::Instant::now();
        b.failed(&e).await;
        assert_eq!(t.elapsed().as_millis(), 5);
    }
}
