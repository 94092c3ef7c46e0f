//! Prometheus metrics (text exposition format) and a plain-HTTP `/metrics`, `/healthz`
//! (liveness: 200 while the process answers; the body says `ok`, or `degraded: ` and why, see
//! `crls`) and `/readyz` (readiness, see `health`) endpoint. Counters are atomics: cheap enough
//! for every request. Most are process-wide; a node's own ([`NodeView`]) are its calls by
//! method, code and reason ([`RpcCounters`], counted by `observe`) and the validity left to
//! each CRL in force.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::crls::Freshness;
use crate::health::Readiness;
use crate::trust::{CrlInForce, Trust};

/// A monotonically increasing counter.
pub struct Counter {
    name: &'static str,
    help: &'static str,
    value: AtomicU64,
}

impl Counter {
    const fn new(name: &'static str, help: &'static str) -> Self {
        Counter {
            name,
            help,
            value: AtomicU64::new(0),
        }
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.value.fetch_add(n, Ordering::Relaxed);
    }

    /// Current value.
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String) {
        out.push_str(&format!(
            "# HELP {n} {h}\n# TYPE {n} counter\n{n} {v}\n",
            n = self.name,
            h = self.help,
            v = self.get()
        ));
    }
}

/// A gauge (a value that goes up and down).
pub struct Gauge {
    name: &'static str,
    help: &'static str,
    value: AtomicU64,
}

impl Gauge {
    const fn new(name: &'static str, help: &'static str) -> Self {
        Gauge {
            name,
            help,
            value: AtomicU64::new(0),
        }
    }

    /// Adds one.
    pub fn inc(&self) {
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    /// Removes one.
    pub fn dec(&self) {
        self.value.fetch_sub(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        out.push_str(&format!(
            "# HELP {n} {h}\n# TYPE {n} gauge\n{n} {v}\n",
            n = self.name,
            h = self.help,
            v = self.value.load(Ordering::Relaxed)
        ));
    }
}

/// Bucket bounds in seconds.
const BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A latency histogram.
pub struct Histogram {
    name: &'static str,
    help: &'static str,
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    const fn new(name: &'static str, help: &'static str) -> Self {
        Histogram {
            name,
            help,
            buckets: [const { AtomicU64::new(0) }; 12],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    /// Records one observation in seconds.
    pub fn observe(&self, secs: f64) {
        for (b, bound) in self.buckets.iter().zip(BOUNDS) {
            if secs <= bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let n = self.name;
        out.push_str(&format!("# HELP {n} {}\n# TYPE {n} histogram\n", self.help));
        self.render_series(out, "");
    }

    /// The bucket, sum and count lines, with `labels` (`rpc="…",` or empty) before `le`.
    fn render_series(&self, out: &mut String, labels: &str) {
        let n = self.name;
        for (b, bound) in self.buckets.iter().zip(BOUNDS) {
            out.push_str(&format!(
                "{n}_bucket{{{labels}le=\"{bound}\"}} {}\n",
                b.load(Ordering::Relaxed)
            ));
        }
        let count = self.count.load(Ordering::Relaxed);
        let bare = labels.trim_end_matches(',');
        out.push_str(&format!("{n}_bucket{{{labels}le=\"+Inf\"}} {count}\n"));
        out.push_str(&format!(
            "{n}_sum{{{bare}}} {}\n{n}_count{{{bare}}} {count}\n",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
    }
}

/// Documents accepted (new, not repeats).
pub static ACCEPTED: Counter = Counter::new(
    "axis_documents_accepted_total",
    "Documents accepted and logged.",
);
/// Repeated submissions answered with the first receipt.
pub static DUPLICATES: Counter = Counter::new(
    "axis_submissions_duplicate_total",
    "Repeated submissions answered with the stored receipt.",
);
/// Submissions refused.
pub static REFUSED: Counter = Counter::new(
    "axis_submissions_refused_total",
    "Submissions refused (any reason).",
);
/// Ciphertext bytes accepted.
pub static BYTES_IN: Counter = Counter::new(
    "axis_ciphertext_bytes_in_total",
    "Ciphertext bytes received in accepted submissions.",
);
/// Ciphertext bytes served.
pub static BYTES_OUT: Counter = Counter::new(
    "axis_ciphertext_bytes_out_total",
    "Ciphertext bytes served by Fetch.",
);
/// Receipts and statuses logged.
pub static STATEMENTS: Counter = Counter::new(
    "axis_statements_logged_total",
    "Receipts and statuses verified and logged.",
);
/// Commit batches.
pub static COMMIT_BATCHES: Counter = Counter::new(
    "axis_commit_batches_total",
    "Database transactions that appended to the log (one signed tree head each).",
);
/// Jobs in commit batches.
pub static COMMIT_JOBS: Counter = Counter::new(
    "axis_commit_jobs_total",
    "Jobs committed (divide by batches for the mean batch size).",
);
/// Races lost (PostgreSQL).
pub static COMMIT_CONFLICTS: Counter = Counter::new(
    "axis_commit_conflicts_total",
    "Commit attempts that wrote nothing because another node appended to the log first (the \
     batch is read and planned again).",
);
/// Turns taken (PostgreSQL).
pub static COMMIT_TURNS: Counter = Counter::new(
    "axis_commit_turns_total",
    "Batches that lost their race to another node 3 times and took the turn (the other nodes' \
     appends wait until this one's is in).",
);
/// Waits for another node's turn (PostgreSQL).
pub static COMMIT_TURN_WAITS: Counter = Counter::new(
    "axis_commit_turn_waits_total",
    "Times a commit waited (10 ms at most each) because another node held the turn.",
);
/// Commit duration.
pub static COMMIT_SECONDS: Histogram =
    Histogram::new("axis_commit_seconds", "Duration of one commit batch.");
/// Submit duration (begin to receipt).
pub static SUBMIT_SECONDS: Histogram = Histogram::new(
    "axis_submit_seconds",
    "Duration of a Submit call, first message to receipt.",
);
/// TLS handshakes refused.
pub static TLS_REFUSED: Counter = Counter::new(
    "axis_tls_handshakes_refused_total",
    "TLS handshakes that failed (bad, revoked or expired client certificates included).",
);
/// Open streams.
pub static OPEN_STREAMS: Gauge = Gauge::new(
    "axis_open_streams",
    "Submit, Subscribe and Fetch streams in progress.",
);

/// Open gRPC connections.
pub static CONNECTIONS_OPEN: Gauge = Gauge::new(
    "axis_connections_open",
    "gRPC connections open (TLS handshakes in progress included).",
);
/// Connections refused at the maximum.
pub static CONNECTIONS_REFUSED: Counter = Counter::new(
    "axis_connections_refused_total",
    "gRPC connections closed at once because the node held its maximum ([limits] max_connections).",
);
/// Failed accepts (both listeners).
pub static ACCEPT_ERRORS: Counter = Counter::new(
    "axis_accept_errors_total",
    "Failed accept calls on the gRPC and metrics listeners (each followed by a growing pause).",
);
/// Lost notification listeners (PostgreSQL), each followed by a reconnection and a wake-up of
/// every subscriber.
pub static LISTENER_RECONNECTS: Counter = Counter::new(
    "axis_listener_reconnects_total",
    "Notification (LISTEN) connections lost or failing their heartbeat, then made again.",
);

/// The gRPC methods counted by name (full names, as in `/axis.v1.Exchange/Submit` without its
/// slash); a call to any other path is counted as `other`, so a client cannot grow the label set.
pub const RPCS: &[&str] = &[
    "axis.v1.Exchange/Submit",
    "axis.v1.Exchange/Subscribe",
    "axis.v1.Exchange/Fetch",
    "axis.v1.Exchange/Acknowledge",
    "axis.v1.Exchange/SendStatus",
    "axis.v1.Exchange/Recall",
    "axis.v1.Exchange/GetHistory",
    "axis.v1.Exchange/GetLimits",
    "axis.v1.Directory/LookupAgency",
    "axis.v1.Directory/ListAgencies",
    "axis.v1.Directory/RegisterAgency",
    "axis.v1.Directory/UpdateAgency",
    "axis.v1.Directory/GetTrustMaterial",
    "axis.v1.Directory/PublishCrl",
    "axis.v1.Directory/ImportUnits",
    "axis.v1.Directory/GetDirectorySnapshot",
    "axis.v1.Directory/GetDirectoryChanges",
    "axis.v1.Directory/LookupUnit",
    "axis.v1.Directory/ListUnits",
    "axis.v1.Log/GetTreeHead",
    "axis.v1.Log/GetInclusionProof",
    "axis.v1.Log/GetConsistencyProof",
    "axis.v1.Log/GetEntries",
    "axis.v1.Log/AddCosignature",
    "axis.v1.Log/GetCosignedTreeHead",
    "grpc.health.v1.Health/Check",
    "grpc.health.v1.Health/Watch",
    "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The label of a path outside [`RPCS`], and of a reason outside `reasons::ALL`.
pub const OTHER: &str = "other";

/// gRPC status codes by number (a number outside is counted as `UNKNOWN`, as gRPC reads it).
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// `axis_rpc_requests_total{rpc,code,reason}`: every finished gRPC call of one node, by method,
/// status code and `axis-reason` (`""` when the status has none, successes included). The
/// label values come from fixed lists ([`RPCS`], the 17 codes, `reasons::ALL`, each with
/// `other`), so the cells are one array of atomics allocated at start: counting is an index
/// computation and one relaxed add, and a scrape prints the cells that are not zero.
pub struct RpcCounters {
    cells: Box<[AtomicU64]>,
    /// `axis_rpc_duration_seconds{rpc}`: one histogram per method (and `other`), from the
    /// request to the status (a stream's whole life).
    durations: Box<[Histogram]>,
}

/// A method of [`RPCS`] by position, `RPCS.len()` for `other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rpc(usize);

impl Rpc {
    /// The method of a request path (`/axis.v1.Exchange/Submit`).
    pub fn of_path(path: &str) -> Rpc {
        let name = path.strip_prefix('/').unwrap_or(path);
        Rpc(RPCS.iter().position(|r| *r == name).unwrap_or(RPCS.len()))
    }

    /// Its label value.
    pub fn name(self) -> &'static str {
        RPCS.get(self.0).copied().unwrap_or(OTHER)
    }
}

/// The label value of a reason: itself when it is one of `reasons::ALL` (or empty), else
/// [`OTHER`].
pub fn reason_label(reason: &str) -> &'static str {
    if reason.is_empty() {
        return "";
    }
    axis_proto::reasons::ALL
        .iter()
        .find(|r| **r == reason)
        .copied()
        .unwrap_or(OTHER)
}

/// The label value of a gRPC status code number.
pub fn code_label(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| CODES.get(c))
        .copied()
        .unwrap_or("UNKNOWN")
}

impl RpcCounters {
    const REASONS: usize = axis_proto::reasons::ALL.len() + 2;

    /// All cells at zero.
    pub fn new() -> Self {
        let n = (RPCS.len() + 1) * CODES.len() * Self::REASONS;
        RpcCounters {
            cells: (0..n).map(|_| AtomicU64::new(0)).collect(),
            durations: (0..=RPCS.len())
                .map(|_| {
                    Histogram::new(
                        "axis_rpc_duration_seconds",
                        "gRPC calls from request to status (a stream's whole life), by method.",
                    )
                })
                .collect(),
        }
    }

    fn index(rpc: Rpc, code: i32, reason: &str) -> usize {
        let code = usize::try_from(code)
            .ok()
            .filter(|c| *c < CODES.len())
            .unwrap_or(2);
        let reason = if reason.is_empty() {
            0
        } else {
            axis_proto::reasons::ALL
                .iter()
                .position(|r| *r == reason)
                .map_or(Self::REASONS - 1, |i| i + 1)
        };
        (rpc.0 * CODES.len() + code) * Self::REASONS + reason
    }

    /// Counts one finished call.
    pub fn inc(&self, rpc: Rpc, code: i32, reason: &str) {
        if let Some(c) = self.cells.get(Self::index(rpc, code, reason)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records how long one finished call took.
    pub fn observe(&self, rpc: Rpc, took: std::time::Duration) {
        if let Some(h) = self.durations.get(rpc.0) {
            h.observe(took.as_secs_f64());
        }
    }

    /// How many calls of `rpc` have a recorded duration.
    pub fn timed(&self, rpc: Rpc) -> u64 {
        self.durations
            .get(rpc.0)
            .map_or(0, |h| h.count.load(Ordering::Relaxed))
    }

    /// One cell's count.
    pub fn get(&self, rpc: Rpc, code: i32, reason: &str) -> u64 {
        self.cells
            .get(Self::index(rpc, code, reason))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let n = "axis_rpc_requests_total";
        let _ = write!(
            out,
            "# HELP {n} gRPC calls finished, by method, status code and axis-reason (\"\" when none).\n# TYPE {n} counter\n"
        );
        for (i, cell) in self.cells.iter().enumerate() {
            let v = cell.load(Ordering::Relaxed);
            if v == 0 {
                continue;
            }
            let reason = i % Self::REASONS;
            let code = (i / Self::REASONS) % CODES.len();
            let rpc = Rpc(i / Self::REASONS / CODES.len());
            let reason = match reason {
                0 => "",
                r => axis_proto::reasons::ALL
                    .get(r - 1)
                    .copied()
                    .unwrap_or(OTHER),
            };
            let _ = writeln!(
                out,
                "{n}{{rpc=\"{}\",code=\"{}\",reason=\"{reason}\"}} {v}",
                rpc.name(),
                CODES[code]
            );
        }
        let mut header = false;
        for (i, h) in self.durations.iter().enumerate() {
            if h.count.load(Ordering::Relaxed) == 0 {
                continue;
            }
            if !header {
                header = true;
                let n = h.name;
                let _ = write!(out, "# HELP {n} {}\n# TYPE {n} histogram\n", h.help);
            }
            h.render_series(out, &format!("rpc=\"{}\",", Rpc(i).name()));
        }
    }
}

impl Default for RpcCounters {
    fn default() -> Self {
        Self::new()
    }
}

/// What the process's allocator holds, in bytes, as its own statistics say (jemalloc's
/// `stats.*`): the binary registers a reader with [`set_allocator_stats`]; a build without one
/// (tests, embedders) reports nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocatorStats {
    /// Bytes the program holds (`stats.allocated`).
    pub allocated: u64,
    /// Bytes in pages holding some of them (`stats.active`): the gap to `allocated` is
    /// partly used pages.
    pub active: u64,
    /// Bytes of the allocator's own bookkeeping (`stats.metadata`).
    pub metadata: u64,
    /// Bytes resident in the allocator's pages (`stats.resident`): active, metadata and freed
    /// pages not yet returned to the kernel.
    pub resident: u64,
    /// Bytes in freed objects the threads' caches keep for reuse
    /// (`stats.arenas.<all>.tcache_bytes`, counted in `allocated`).
    pub thread_caches: u64,
}

static ALLOCATOR_STATS: std::sync::OnceLock<fn() -> Option<AllocatorStats>> =
    std::sync::OnceLock::new();

/// Registers how to read the allocator's statistics for `/metrics` (the first call wins).
pub fn set_allocator_stats(read: fn() -> Option<AllocatorStats>) {
    let _ = ALLOCATOR_STATS.set(read);
}

fn render_allocator(out: &mut String) {
    use std::fmt::Write as _;
    let Some(s) = ALLOCATOR_STATS.get().and_then(|read| read()) else {
        return;
    };
    for (n, h, v) in [
        (
            "axis_allocator_allocated_bytes",
            "Bytes the process holds, as its allocator counts them.",
            s.allocated,
        ),
        (
            "axis_allocator_active_bytes",
            "Bytes in the allocator's pages that hold something (the gap to allocated is partly used pages).",
            s.active,
        ),
        (
            "axis_allocator_metadata_bytes",
            "Bytes of the allocator's own bookkeeping.",
            s.metadata,
        ),
        (
            "axis_allocator_resident_bytes",
            "Bytes resident in the allocator's pages, freed ones not yet returned to the kernel included.",
            s.resident,
        ),
        (
            "axis_allocator_thread_cache_bytes",
            "Bytes of freed objects kept in the threads' caches for reuse (counted in allocated).",
            s.thread_caches,
        ),
    ] {
        let _ = write!(out, "# HELP {n} {h}\n# TYPE {n} gauge\n{n} {v}\n");
    }
}

/// The exposition text.
pub fn render() -> String {
    let mut out = String::new();
    for c in [
        &ACCEPTED,
        &DUPLICATES,
        &REFUSED,
        &BYTES_IN,
        &BYTES_OUT,
        &STATEMENTS,
        &COMMIT_BATCHES,
        &COMMIT_JOBS,
        &COMMIT_CONFLICTS,
        &COMMIT_TURNS,
        &COMMIT_TURN_WAITS,
        &TLS_REFUSED,
        &CONNECTIONS_REFUSED,
        &ACCEPT_ERRORS,
        &LISTENER_RECONNECTS,
    ] {
        c.render(&mut out);
    }
    OPEN_STREAMS.render(&mut out);
    CONNECTIONS_OPEN.render(&mut out);
    COMMIT_SECONDS.render(&mut out);
    SUBMIT_SECONDS.render(&mut out);
    render_allocator(&mut out);
    out
}

/// What the metrics listener reports of its node, beside the process-wide counters above.
#[derive(Clone)]
pub struct NodeView {
    /// Readiness (`/readyz`).
    pub(crate) ready: watch::Receiver<Readiness>,
    /// `axis_rpc_requests_total`.
    pub(crate) calls: Arc<RpcCounters>,
    /// The CRLs in force (`axis_crl_next_update_seconds`, `/healthz`).
    pub(crate) trust: Arc<Trust>,
    /// `/healthz` degraded this long before a nextUpdate.
    pub(crate) crl_warn_before: std::time::Duration,
}

/// A label value in the exposition format: `\`, `"` and line feeds escaped.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `axis_crl_next_update_seconds{issuer}`: seconds until each CRL in force reaches its
/// nextUpdate, negative once past it (`-Inf` without one).
fn render_crls(crls: &[CrlInForce], now: time::OffsetDateTime, out: &mut String) {
    use std::fmt::Write as _;
    let n = "axis_crl_next_update_seconds";
    let _ = write!(
        out,
        "# HELP {n} Seconds until the nextUpdate of each CRL in force (negative once past: its issuer's certificates are refused).\n# TYPE {n} gauge\n"
    );
    for c in crls {
        let left = c
            .next_update
            .map_or("-Inf".to_owned(), |t| (t - now).whole_seconds().to_string());
        let _ = writeln!(out, "{n}{{issuer=\"{}\"}} {left}", label_value(&c.issuer));
    }
}

impl NodeView {
    /// The exposition text: the process's counters, then this node's.
    fn render(&self) -> String {
        let mut out = render();
        self.calls.render(&mut out);
        render_crls(
            &self.trust.crls_in_force(),
            time::OffsetDateTime::now_utc(),
            &mut out,
        );
        out
    }

    /// The `/healthz` body (the status is 200 while the process answers).
    fn health(&self) -> String {
        let now = time::OffsetDateTime::now_utc();
        Freshness::of(&self.trust.crls_in_force(), now, self.crl_warn_before).health(now)
    }
}

/// Metrics connections served at once; more wait in the listen queue (a scraper or a probe
/// needs one).
const METRICS_CONNECTIONS: usize = 16;

/// Serves `GET /metrics`, `GET /healthz` and `GET /readyz` over plain HTTP/1.1 until the task
/// is dropped. Requests are read with a 4 KiB and 5-second budget; a failed accept pauses the
/// loop (`listen::Backoff`).
pub async fn serve(listener: TcpListener, node: NodeView) {
    let mut backoff = crate::listen::Backoff::new("metrics");
    let slots = Arc::new(tokio::sync::Semaphore::new(METRICS_CONNECTIONS));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff.succeeded();
                stream
            }
            Err(e) => {
                backoff.failed(&e).await;
                continue;
            }
        };
        let node = node.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut buf = vec![0u8; 4096];
            let mut len = 0;
            let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                while len < buf.len() {
                    let n = stream.read(&mut buf[len..]).await?;
                    if n == 0 {
                        break;
                    }
                    len += n;
                    if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                Ok::<_, std::io::Error>(())
            })
            .await;
            if !matches!(read, Ok(Ok(()))) {
                return;
            }
            let head = String::from_utf8_lossy(&buf[..len]);
            let path = head.split_whitespace().nth(1).unwrap_or("");
            let (status, body) = match path {
                "/metrics" => ("200 OK", node.render()),
                "/healthz" => ("200 OK", node.health()),
                "/readyz" => match &*node.ready.borrow() {
                    Readiness::Ready => ("200 OK", "ready\n".to_owned()),
                    Readiness::NotReady(why) => {
                        ("503 Service Unavailable", format!("not ready: {why}\n"))
                    }
                },
                _ => ("404 Not Found", "not found\n".to_owned()),
            };
            let resp = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(resp.as_bytes()).await;
        });
    }
}

/// Binds the metrics endpoint.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
