//! Storage with sqlx on SQLite (the default, WAL, `synchronous=FULL`) and PostgreSQL. The same
//! SQL runs on both: placeholders are `$1…$n` in order of appearance and never repeated (SQLite
//! numbers named parameters by first appearance), integers are 64-bit, bytes are BLOB/BYTEA.
//!
//! Reads are here. The one write path that changes the log (acceptances and statements) is the
//! committer (`commit.rs`); directory, CRL and upload-staging writes are here.
//!
//! Nothing waits for the database without a deadline ([`DatabaseTimeouts`]): every call here,
//! acquiring its connection included, has the statement deadline on the node's own clock (a
//! silent partition answers nothing, so the database's `statement_timeout` alone would never
//! be heard); a connection whose call was cut off is closed, never returned to the pool, and a
//! connection released to the pool is checked within the same deadline. PostgreSQL sessions
//! also get `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout` and TCP
//! keepalives, so the database server ends the session of a node that vanished and releases
//! what it held, and `plan_cache_mode = force_custom_plan`, so a statement is planned for the
//! tables as they are, never from a generic plan made while they were empty.
//!
//! A burst of calls opens up to the pool's maximum of connections (8 on SQLite, 16 on
//! PostgreSQL), and each keeps what it filled: SQLite's page cache (up to 2 MiB each), the
//! prepared statements, PostgreSQL's read and write buffers grown to the largest row. A pooled
//! connection unused for [`DatabaseTimeouts::idle`] is closed, down to one, so that memory goes
//! back when the burst is over. Nothing frequent uses the pool (the readiness probe and the
//! SQLite checkpoints have connections of their own): the pool hands out its longest-idle
//! connection first, so a call every second or so would keep every connection from going idle.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axis_signer::MessageId;
use ring::rand::SecureRandom as _;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow,
};
use sqlx::{Connection as _, Postgres, Row, Sqlite};
use time::OffsetDateTime;

pub use crate::config::DatabaseTimeouts;
use crate::error::{Fault, Result, ServerError};

/// Bytes per stored ciphertext segment.
pub const SEGMENT_LEN: usize = 1024 * 1024;

/// Delivery states.
pub mod state {
    /// Committed, waiting for the recipient's 01 receipt.
    pub const QUEUED: i64 = 0;
    /// The recipient answered the delivery: its 01 receipt, or its refusal of a document it
    /// could not open (an unopened 02), is logged. It leaves the inbox.
    pub const ACKNOWLEDGED: i64 = 1;
    /// The recipient agreed to a recall (15 after 13): fetching is refused.
    pub const WITHDRAWN: i64 = 2;
}

/// Pooled connections kept open however long they are idle; the others are closed after
/// [`DatabaseTimeouts::idle`] without use.
const MIN_CONNECTIONS: u32 = 1;

/// SQLite's automatic checkpoint threshold, in pages: a backstop for the background checkpoints.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;
/// How often the background copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies committed pages from the WAL into the database file, off the commit path, until the
/// pool closes. With SQLite's default (a checkpoint every 1,000 pages, run by whichever commit
/// crosses the line) the single committer spent part of its time checkpointing, and every batch
/// waited for it. A `PASSIVE` checkpoint does not block writers or readers; durability is the
/// WAL's (each commit is synced before it is acknowledged), not the checkpoint's.
///
/// It runs on a connection of its own, not the pool's: the pool hands out its longest-idle
/// connection first, so a pooled checkpoint four times a second would touch every pooled
/// connection every two seconds and none would ever be idle long enough to be closed.
async fn checkpoint_in_background(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn: Option<SqliteConnection> = None;
    loop {
        tick.tick().await;
        if pool.is_closed() {
            break;
        }
        let c = match &mut conn {
            Some(c) => c,
            None => match SqliteConnection::connect_with(&pool.connect_options()).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tracing::warn!(error = %e, "background WAL checkpoint: cannot connect");
                    continue;
                }
            },
        };
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *c)
            .await
        {
            if pool.is_closed() {
                break;
            }
            tracing::warn!(error = %e, "background WAL checkpoint failed");
            // Made again at the next tick.
            conn = None;
        }
    }
    if let Some(c) = conn {
        let _ = c.close().await;
    }
}

/// A database: one of the two back ends, and the deadline of every call to it.
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    deadline: Duration,
    outage: Arc<Outage>,
}

/// What the readiness probe last decided, as the calls and the pool see it.
#[derive(Debug, Default)]
struct Outage(std::sync::Mutex<OutageState>);

#[derive(Debug, Default)]
struct OutageState {
    /// Why the node is not ready; `None` while it is.
    why: Option<String>,
    /// When the node last stopped being ready.
    began: Option<std::time::Instant>,
}

impl Outage {
    fn state(&self) -> std::sync::MutexGuard<'_, OutageState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a pooled connection released `idle_for` ago sat in the pool through the start
    /// of an outage: a partition may have cut it mid-protocol, or a middlebox forgotten it, so
    /// that its next statement would wait out a whole deadline; it is closed instead.
    fn outlived(&self, idle_for: Duration) -> bool {
        let began = self.state().began;
        match (began, std::time::Instant::now().checked_sub(idle_for)) {
            (Some(began), Some(released)) => released <= began,
            _ => false,
        }
    }
}

/// The connection pool of either back end.
#[derive(Clone, Debug)]
pub enum Pool {
    /// Embedded SQLite file.
    Sqlite(SqlitePool),
    /// PostgreSQL, possibly shared by several nodes.
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to a connection of whichever back end `$db` is, within the
/// database's deadline (acquiring the connection included). The body is compiled once per back
/// end, so sqlx's types line up in each, and evaluates to a `Result`.
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {{
        let db: &$crate::store::Db = $db;
        db.bounded(async {
            match db.pool() {
                $crate::store::Pool::Sqlite(pool) => {
                    let mut lease = $crate::store::Lease::acquire(pool).await?;
                    let $p = lease.conn();
                    let result: $crate::error::Result<_> = async { $body }.await;
                    lease.finished();
                    result
                }
                $crate::store::Pool::Postgres(pool) => {
                    let mut lease = $crate::store::Lease::acquire(pool).await?;
                    let $p = lease.conn();
                    let result: $crate::error::Result<_> = async { $body }.await;
                    lease.finished();
                    result
                }
            }
        })
        .await
    }};
}

/// A pooled connection for one call. If the call does not finish (its deadline passed and the
/// future was dropped), the connection may be in the middle of a statement: it is closed, not
/// returned to the pool.
pub(crate) struct Lease<DB: sqlx::Database> {
    conn: PoolConnection<DB>,
    finished: bool,
}

impl<DB: sqlx::Database> Lease<DB> {
    /// A connection from `pool` (within the pool's acquire timeout).
    pub(crate) async fn acquire(pool: &sqlx::Pool<DB>) -> Result<Self> {
        Ok(Lease {
            conn: pool.acquire().await?,
            finished: false,
        })
    }

    /// The connection.
    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }

    /// The call finished (with an answer or an error): the connection can go back to the pool.
    pub(crate) fn finished(&mut self) {
        self.finished = true;
    }

    /// Another call begins on a connection kept from an earlier one.
    pub(crate) fn started(&mut self) {
        self.finished = false;
    }
}

impl<DB: sqlx::Database> Drop for Lease<DB> {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.close_on_drop();
        }
    }
}

/// A call refused because the node is not ready: a storage failure (`UNAVAILABLE`, reason
/// `STORAGE`) saying why, logged by the node; the client is told "storage failure".
fn not_ready(why: &str) -> ServerError {
    ServerError::Storage(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        format!("this node is not ready ({why}); retry on another node"),
    )))
}

/// The error of a database call past its deadline: a storage failure (`UNAVAILABLE`, reason
/// `STORAGE`) saying what did not answer and for how long.
pub(crate) fn deadline_passed(what: &str, after: Duration) -> ServerError {
    ServerError::Storage(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "{what}: no answer from the database within {} ms",
            after.as_millis()
        ),
    )))
}

/// What the database said, for the log: its SQLSTATE, message, detail and constraint when it
/// answered with an error, else the I/O or pool failure with its sources.
pub(crate) fn cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => {
            let mut out = "database error".to_owned();
            if let Some(code) = d.code() {
                out.push_str(&format!(" {code}"));
            }
            out.push_str(&format!(": {}", d.message()));
            if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                && let Some(detail) = pg.detail()
            {
                out.push_str(&format!(" ({detail})"));
            }
            if let Some(c) = d.constraint() {
                out.push_str(&format!(" [constraint {c}]"));
            }
            out
        }
        sqlx::Error::PoolTimedOut => {
            "no pooled connection within the acquire timeout (every connection busy, or the \
             database not answering new ones)"
                .to_owned()
        }
        e => {
            let mut out = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let s_text = s.to_string();
                if !out.contains(&s_text) {
                    out.push_str(&format!(": {s_text}"));
                }
                source = s.source();
            }
            out
        }
    }
}

/// PostgreSQL session settings: the server's side of the deadlines.
fn postgres_options(url: &str, t: &DatabaseTimeouts) -> Result<PgConnectOptions> {
    let ms = |v: u64| format!("{}ms", v.max(1));
    let keepalive = t.keepalive_secs.max(1);
    Ok(PgConnectOptions::from_str(url)?.options([
        ("statement_timeout", ms(t.statement_timeout_ms)),
        ("lock_timeout", ms(t.lock_timeout_ms)),
        // A commit's transaction never idles longer than one round trip; a node that stops
        // in the middle of one (a partition) loses its session, and the log lock with it.
        (
            "idle_in_transaction_session_timeout",
            ms(2 * t.statement_timeout_ms),
        ),
        ("tcp_keepalives_idle", keepalive.to_string()),
        ("tcp_keepalives_interval", "5".to_owned()),
        ("tcp_keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", ms((keepalive + 15) * 1000)),
        // Every execution of a prepared statement is planned for the tables as they are then.
        // PostgreSQL otherwise switches a statement to a generic plan after five executions and
        // keeps it until the table is next analyzed: planned while the tables were empty, the
        // commit's lookup of a batch's message ids (`= ANY($1)`) stayed a sequential scan of
        // `messages`, 280 ms a batch at 110,000 messages with autovacuum off (BENCHMARKS.md,
        // "A plan made for empty tables").
        ("plan_cache_mode", "force_custom_plan".to_owned()),
    ]))
}

/// The readiness probe's own connection (not a pooled one: see [`Db::probe`]).
pub(crate) enum Probe {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Milliseconds since the Unix epoch.
pub(crate) fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// From milliseconds since the Unix epoch, as stored in the column `what`; a value no date can
/// have is an error (never the epoch).
pub(crate) fn from_millis(what: &'static str, ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| ServerError::stored(what, format!("{ms} ms since the epoch: {e}")))
}

/// A stored index or length, which is never negative; a negative one is an error (never 0).
pub(crate) fn u64_of(what: &'static str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| ServerError::stored(what, format!("{v} is negative")))
}

/// An index or length as the database stores it (a signed 64-bit integer).
pub(crate) fn i64_of(what: &'static str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Fault::OutOfRange { what, value: v }.into())
}

/// A value both back ends decode (integers, bytes, text).
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
{
}

impl<T> Column for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
{
}

/// A row of either back end read by column name, with the schema's conversions: times are
/// milliseconds since the epoch, indices and lengths are never negative; a value out of range
/// is an error, never a default.
pub(crate) trait Fields {
    /// A column as stored.
    fn value<T: Column>(&self, column: &'static str) -> Result<T>;

    /// An index or length column.
    fn index(&self, column: &'static str) -> Result<u64> {
        u64_of(column, self.value(column)?)
    }

    /// A time column.
    fn time(&self, column: &'static str) -> Result<OffsetDateTime> {
        from_millis(column, self.value(column)?)
    }
}

impl Fields for SqliteRow {
    fn value<T: Column>(&self, column: &'static str) -> Result<T> {
        Ok(self.try_get(column)?)
    }
}

impl Fields for PgRow {
    fn value<T: Column>(&self, column: &'static str) -> Result<T> {
        Ok(self.try_get(column)?)
    }
}

/// A random positive 63-bit id for a ciphertext blob.
pub(crate) fn random_blob_id() -> Result<i64> {
    let mut b = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| Fault::Random)?;
    Ok((u64::from_be_bytes(b) >> 1) as i64)
}

/// A registered agency.
#[derive(Clone, Debug)]
pub struct AgencyRow {
    /// Identifier.
    pub agency_id: String,
    /// Official name.
    pub name: String,
    /// Parent, or empty.
    pub parent_id: String,
    /// DER agency-encryption certificate.
    pub encryption_cert: Vec<u8>,
    /// DER agency-seal certificate.
    pub seal_cert: Vec<u8>,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// An accepted document.
#[derive(Clone, Debug)]
pub struct MessageRow {
    /// Message id.
    pub message_id: MessageId,
    /// Sender agency.
    pub sender: String,
    /// Exact routing header bytes.
    pub routing_header: Vec<u8>,
    /// Exact submission signature bytes.
    pub submission_signature: Vec<u8>,
    /// Ciphertext bytes.
    pub ciphertext_len: u64,
    /// Where the ciphertext segments are.
    pub blob_id: i64,
    /// Its acceptance in the log (the time is the acceptance time).
    pub logged: LoggedRow,
}

/// Where the log holds something, as stored beside it.
#[derive(Clone, Debug)]
pub struct LoggedRow {
    /// When the axis logged it.
    pub at: OffsetDateTime,
    /// Its leaf index.
    pub leaf_index: u64,
    /// Entry bytes.
    pub entry: Vec<u8>,
    /// Proof bytes (DER `LogProof`).
    pub proof: Vec<u8>,
}

/// A logged receipt or status.
#[derive(Clone, Debug)]
pub struct StatementRow {
    /// The recipient whose chain it belongs to.
    pub recipient: String,
    /// Position in that chain.
    pub position: i64,
    /// Status code.
    pub status: i64,
    /// Exact receipt bytes.
    pub statement: Vec<u8>,
    /// Exact signature bytes.
    pub signature: Vec<u8>,
    /// Where and when the log holds it.
    pub logged: LoggedRow,
}

/// One inbox item.
#[derive(Clone, Debug)]
pub struct InboxRow {
    /// Cursor position (the acceptance's leaf index).
    pub seq: i64,
    /// The message (without the whole key envelope).
    pub message: MessageRow,
    /// The recipient's key-envelope entry.
    pub entry: EntryRow,
}

/// A recipient's key-envelope entry as its delivery row keeps it.
#[derive(Clone, Debug)]
pub struct EntryRow {
    /// The entry (DER).
    pub entry: Vec<u8>,
    /// Its index (the recipient's position in the header).
    pub index: u32,
    /// The audit path, concatenated 32-octet hashes.
    pub path: Vec<u8>,
}

/// The columns `message_of` reads, but the whole key envelope (a macro so queries stay
/// `&'static str`): an inbox never reads it.
macro_rules! message_columns {
    () => {
        "m.message_id, m.sender, m.routing_header, m.submission_signature, \
         m.ciphertext_len, m.blob_id, m.accepted_at, m.leaf_index, m.entry, m.proof"
    };
}

/// The columns `entry_of` reads.
macro_rules! entry_columns {
    () => {
        "d.key_entry, d.key_index, d.key_path"
    };
}

fn entry_of(r: &impl Fields) -> Result<EntryRow> {
    Ok(EntryRow {
        entry: r.value("key_entry")?,
        index: u32::try_from(r.value::<i64>("key_index")?)
            .map_err(|_| ServerError::stored("key-envelope entry index", "out of range"))?,
        path: r.value("key_path")?,
    })
}

/// A message row (without its key envelope: [`Db::key_envelope`]).
fn message_of(r: &impl Fields) -> Result<MessageRow> {
    Ok(MessageRow {
        message_id: message_id_of(r)?,
        sender: r.value("sender")?,
        routing_header: r.value("routing_header")?,
        submission_signature: r.value("submission_signature")?,
        ciphertext_len: r.index("ciphertext_len")?,
        blob_id: r.value("blob_id")?,
        logged: logged_of(r, "accepted_at")?,
    })
}

/// The column `message_id` (16 bytes).
pub(crate) fn message_id_of(r: &impl Fields) -> Result<MessageId> {
    <[u8; 16]>::try_from(r.value::<Vec<u8>>("message_id")?)
        .map(|b| MessageId::from_uuid(uuid::Uuid::from_bytes(b)))
        .map_err(|_| ServerError::stored("message id", "not 16 bytes"))
}

/// The columns `entry`, `proof`, `leaf_index` and the time column `at` of a message or
/// statement.
pub(crate) fn logged_of(r: &impl Fields, at: &'static str) -> Result<LoggedRow> {
    Ok(LoggedRow {
        at: r.time(at)?,
        leaf_index: r.index("leaf_index")?,
        entry: r.value("entry")?,
        proof: r.value("proof")?,
    })
}

fn statement_of(r: &impl Fields) -> Result<StatementRow> {
    Ok(StatementRow {
        recipient: r.value("recipient")?,
        position: r.value("position")?,
        status: r.value("status")?,
        statement: r.value("statement")?,
        signature: r.value("signature")?,
        logged: logged_of(r, "logged_at")?,
    })
}

fn agency_of(r: &impl Fields) -> Result<AgencyRow> {
    Ok(AgencyRow {
        agency_id: r.value("agency_id")?,
        name: r.value("name")?,
        parent_id: r.value("parent_id")?,
        encryption_cert: r.value("encryption_cert")?,
        seal_cert: r.value("seal_cert")?,
        updated_at: r.time("updated_at")?,
    })
}

/// The columns `statement_of` reads.
macro_rules! statement_columns {
    () => {
        "recipient, position, status, statement, signature, logged_at, leaf_index, entry, proof"
    };
}

impl Db {
    /// Connects with the default deadlines and applies the migrations (see
    /// [`Db::connect_with`]).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, &DatabaseTimeouts::default()).await
    }

    /// Connects and applies the migrations. A `sqlite://` file is created if missing (with its
    /// directory), in WAL mode with `synchronous=FULL`: a commit is on disk before the axis
    /// answers. Every call gets the `timeouts` (see the module's doc).
    pub async fn connect_with(url: &str, timeouts: &DatabaseTimeouts) -> Result<Self> {
        let deadline = timeouts.statement();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = postgres_options(url, timeouts)?;
            let outage = Arc::new(Outage::default());
            let seen = outage.clone();
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .min_connections(MIN_CONNECTIONS)
                .idle_timeout(timeouts.idle())
                .acquire_timeout(timeouts.acquire())
                // A connection idle in the pool since before the node last stopped being ready
                // is closed rather than used (the first calls after a partition healed waited
                // out a deadline on such connections: BENCHMARKS.md, "dbfault").
                .before_acquire(move |_, meta| {
                    let keep = !seen.outlived(meta.idle_for);
                    Box::pin(async move { Ok(keep) })
                })
                // A connection handed back is checked before another call gets it; one that
                // does not answer within the deadline (a partition began) is closed. Its read
                // and write buffers go back to 8 KiB each: they had grown to the largest
                // message it carried (a broadcast's batch write, hundreds of KiB) and would
                // keep that for the connection's life.
                .after_release(move |conn, _| {
                    conn.shrink_buffers();
                    Box::pin(async move {
                        Ok(matches!(
                            tokio::time::timeout(deadline, conn.ping()).await,
                            Ok(Ok(()))
                        ))
                    })
                })
                .connect_with(opts)
                .await?;
            let db = Db {
                pool: Pool::Postgres(pool.clone()),
                deadline,
                outage,
            };
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Ok(db)
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                // Waiting for the write lock (another connection's write in progress) ends
                // within the deadline too.
                .busy_timeout(deadline)
                .foreign_keys(true)
                // The statement journals of multi-row statements stay in memory, not in
                // temporary files (they only matter while the statement runs).
                .pragma("temp_store", "memory")
                // Checkpoints run in the background (below); a committer checkpoints only if
                // the WAL outgrows this many pages (64 MiB), e.g. if the background falls behind.
                .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
            if let Some(dir) = opts.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|source| Fault::File {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .min_connections(MIN_CONNECTIONS)
                .idle_timeout(timeouts.idle())
                .acquire_timeout(timeouts.acquire())
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            tokio::spawn(checkpoint_in_background(pool.clone()));
            Ok(Db {
                pool: Pool::Sqlite(pool),
                deadline,
                outage: Arc::default(),
            })
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The deadline of one database call (and of one commit batch).
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// What the readiness probe decided (`health.rs`): while the node is not ready, calls fail
    /// at once, and pooled connections idle since it stopped being ready are not used again.
    pub(crate) fn set_ready(&self, why_not: Option<&str>) {
        let mut state = self.outage.state();
        if state.why.is_none() && why_not.is_some() {
            state.began = Some(std::time::Instant::now());
        }
        state.why = why_not.map(str::to_owned);
    }

    /// Runs `call` within the deadline; past it, a storage failure that says so. While the
    /// node is not ready the call is not made: it fails at once, so that a client moves to
    /// another node instead of waiting out a deadline per call (a fresh SDK client's first
    /// reads, across a database partition: up to 17 s before).
    pub(crate) async fn bounded<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        if let Some(why) = &self.outage.state().why {
            return Err(not_ready(why));
        }
        match tokio::time::timeout(self.deadline, call).await {
            Ok(r) => r,
            Err(_) => Err(deadline_passed("a database call", self.deadline)),
        }
    }

    /// One round trip to the database within `within`, on a connection of its own (not the
    /// pool's, so a busy pool does not look like an unreachable database, and a probe once a
    /// second does not keep every pooled connection from going idle): what readiness probes.
    /// `conn` keeps the connection between probes; it is dropped after a failure.
    pub(crate) async fn probe(&self, conn: &mut Option<Probe>, within: Duration) -> Result<()> {
        let round_trip = async {
            if conn.is_none() {
                *conn = Some(match &self.pool {
                    Pool::Sqlite(p) => {
                        Probe::Sqlite(SqliteConnection::connect_with(&p.connect_options()).await?)
                    }
                    Pool::Postgres(p) => {
                        Probe::Postgres(PgConnection::connect_with(&p.connect_options()).await?)
                    }
                });
            }
            match conn {
                Some(Probe::Sqlite(c)) => {
                    sqlx::query("SELECT 1").execute(&mut *c).await?;
                }
                Some(Probe::Postgres(c)) => {
                    sqlx::query("SELECT 1").execute(&mut *c).await?;
                }
                None => {}
            }
            Ok::<_, ServerError>(())
        };
        let r = match tokio::time::timeout(within, round_trip).await {
            Ok(r) => r,
            Err(_) => Err(deadline_passed("the readiness probe", within)),
        };
        if r.is_err() {
            *conn = None;
        }
        r
    }

    /// Whether this is PostgreSQL (several nodes may share it).
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    // ----- directory -----

    /// One agency.
    pub async fn agency(&self, id: &str) -> Result<Option<AgencyRow>> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT * FROM agencies WHERE agency_id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(agency_of).transpose()
        })
    }

    /// A page of agencies after `after`, by id.
    pub async fn agencies(&self, after: &str, limit: u32) -> Result<Vec<AgencyRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT * FROM agencies WHERE agency_id > $1 ORDER BY agency_id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            rows.iter().map(agency_of).collect()
        })
    }

    /// Which of `ids` are not registered.
    pub async fn unregistered(&self, ids: &[String]) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT agency_id FROM agencies WHERE agency_id IN ({})",
            placeholders.join(", ")
        );
        let found: Vec<String> = on_pool!(self, p => {
            // Only "$1, $2, …" placeholders are formatted in; every value is bound.
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.clone()));
            for id in ids {
                q = q.bind(id);
            }
            Ok(q.fetch_all(p).await?)
        })?;
        Ok(ids.iter().filter(|i| !found.contains(i)).cloned().collect())
    }

    /// Registers an agency; false if it exists.
    pub async fn insert_agency(&self, a: &AgencyRow) -> Result<bool> {
        on_pool!(self, p => {
            let done = sqlx::query(
                "INSERT INTO agencies (agency_id, name, parent_id, encryption_cert, seal_cert, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(&a.agency_id)
            .bind(&a.name)
            .bind(&a.parent_id)
            .bind(&a.encryption_cert)
            .bind(&a.seal_cert)
            .bind(millis(a.updated_at))
            .execute(p)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Replaces an agency's fields; false if it is not registered.
    pub async fn update_agency(&self, a: &AgencyRow) -> Result<bool> {
        on_pool!(self, p => {
            let done = sqlx::query(
                "UPDATE agencies SET name = $1, parent_id = $2, encryption_cert = $3, \
                 seal_cert = $4, updated_at = $5 WHERE agency_id = $6",
            )
            .bind(&a.name)
            .bind(&a.parent_id)
            .bind(&a.encryption_cert)
            .bind(&a.seal_cert)
            .bind(millis(a.updated_at))
            .bind(&a.agency_id)
            .execute(p)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    // ----- messages, deliveries, statements -----

    /// A message by id, without its key envelope: every recipient's fetch and statement reads
    /// the message, and the envelope holds an entry for every recipient (~250 B each), so
    /// reading it there made a broadcast's reads, and the node's memory while they ran,
    /// grow with the square of its recipients (a 500-recipient broadcast took 135 MiB,
    /// BENCHMARKS.md "Broadcast").
    pub async fn message(&self, message_id: &[u8]) -> Result<Option<MessageRow>> {
        const SQL: &str = concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m WHERE m.message_id = $1"
        );
        on_pool!(self, p => {
            let row = sqlx::query(SQL).bind(message_id).fetch_optional(p).await?;
            row.as_ref().map(message_of).transpose()
        })
    }

    /// A message's whole key envelope as submitted (for its sender's history).
    pub async fn key_envelope(&self, message_id: &[u8]) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT key_envelope FROM messages WHERE message_id = $1";
        on_pool!(self, p => {
            Ok(sqlx::query_scalar(SQL).bind(message_id).fetch_optional(p).await?)
        })
    }

    /// A recipient's key-envelope entry of a message, if it is addressed to it.
    pub async fn envelope_entry(
        &self,
        message_id: &[u8],
        recipient: &str,
    ) -> Result<Option<EntryRow>> {
        const SQL: &str = concat!(
            "SELECT ",
            entry_columns!(),
            " FROM deliveries d WHERE d.message_id = $1 AND d.recipient = $2"
        );
        on_pool!(self, p => {
            let row = sqlx::query(SQL)
                .bind(message_id)
                .bind(recipient)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(entry_of).transpose()
        })
    }

    /// The delivery state of a message for one recipient, if it is addressed to it.
    pub async fn delivery_state(&self, message_id: &[u8], recipient: &str) -> Result<Option<i64>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT state FROM deliveries WHERE message_id = $1 AND recipient = $2",
            )
            .bind(message_id)
            .bind(recipient)
            .fetch_optional(p)
            .await?)
        })
    }

    /// Whether `seq` is the cursor of one of `recipient`'s deliveries (whatever its state): a
    /// cursor the axis issued to that agency.
    pub async fn is_delivery_cursor(&self, recipient: &str, seq: i64) -> Result<bool> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT seq FROM deliveries WHERE recipient = $1 AND seq = $2",
            )
            .bind(recipient)
            .bind(seq)
            .fetch_optional(p)
            .await?
            .is_some())
        })
    }

    /// Queued (not acknowledged, not withdrawn) deliveries for `recipient` after `after`.
    pub async fn inbox(&self, recipient: &str, after: i64, limit: u32) -> Result<Vec<InboxRow>> {
        const SQL: &str = concat!(
            "SELECT d.seq, ",
            message_columns!(),
            ", ",
            entry_columns!(),
            " FROM deliveries d JOIN messages m ON m.message_id = d.message_id \
             WHERE d.recipient = $1 AND d.seq > $2 AND d.state = 0 ORDER BY d.seq LIMIT $3"
        );
        on_pool!(self, p => {
            let rows = sqlx::query(SQL)
                .bind(recipient)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| Ok(InboxRow {
                    seq: r.value("seq")?,
                    message: message_of(r)?,
                    entry: entry_of(r)?,
                }))
                .collect()
        })
    }

    /// The statements of one chain (or of every chain of the message), in log order.
    pub async fn statements(
        &self,
        message_id: &[u8],
        recipient: Option<&str>,
    ) -> Result<Vec<StatementRow>> {
        on_pool!(self, p => {
            let rows = match recipient {
                Some(r) => {
                    const SQL: &str = concat!(
                        "SELECT ",
                        statement_columns!(),
                        " FROM statements WHERE message_id = $1 AND recipient = $2 ORDER BY position"
                    );
                    sqlx::query(SQL).bind(message_id).bind(r).fetch_all(p).await?
                }
                None => {
                    const SQL: &str = concat!(
                        "SELECT ",
                        statement_columns!(),
                        " FROM statements WHERE message_id = $1 ORDER BY leaf_index"
                    );
                    sqlx::query(SQL).bind(message_id).fetch_all(p).await?
                }
            };
            rows.iter().map(statement_of).collect()
        })
    }

    /// A statement by the SHA-256 of its receipt bytes (idempotent re-sends).
    pub async fn statement_by_hash(&self, hash: &[u8]) -> Result<Option<(Vec<u8>, StatementRow)>> {
        const SQL: &str = concat!(
            "SELECT message_id, ",
            statement_columns!(),
            " FROM statements WHERE hash = $1"
        );
        on_pool!(self, p => {
            let row = sqlx::query(SQL).bind(hash).fetch_optional(p).await?;
            row.as_ref()
                .map(|r| Ok((r.value("message_id")?, statement_of(r)?)))
                .transpose()
        })
    }

    // ----- ciphertext -----

    /// Registers an upload in progress (so an abandoned one can be found and removed).
    pub async fn begin_upload(&self, blob_id: i64, now: OffsetDateTime) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("INSERT INTO uploads (blob_id, started_at) VALUES ($1, $2)")
                .bind(blob_id)
                .bind(millis(now))
                .execute(p)
                .await?;
            Ok(())
        })
    }

    /// Stores one segment of an upload in progress.
    ///
    /// Not flushed to disk on its own: nothing is acknowledged until the commit that adopts the
    /// upload, and that commit is synchronous. Both back ends append to one write-ahead log
    /// and flush it in order, so the commit's flush makes every segment written before it
    /// durable too; a crash before it leaves an upload that was never acknowledged (the
    /// janitor removes it). This saves one flush per MiB of a large document.
    pub async fn put_segment(&self, blob_id: i64, seq: i64, data: &[u8]) -> Result<()> {
        const INSERT: &str = "INSERT INTO segments (blob_id, seq, data) VALUES ($1, $2, $3)";
        self.bounded(async {
            match &self.pool {
                Pool::Postgres(p) => {
                    // `SET LOCAL` ends with the transaction, whatever happens to it.
                    let mut lease = Lease::acquire(p).await?;
                    let mut tx = lease.conn().begin().await?;
                    sqlx::query("SET LOCAL synchronous_commit = off")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(INSERT)
                        .bind(blob_id)
                        .bind(seq)
                        .bind(data)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    lease.finished();
                    Ok(())
                }
                Pool::Sqlite(p) => {
                    // `synchronous` belongs to the connection: it is lowered and restored in a task
                    // of its own (a caller that goes away cannot stop it half-way), and a
                    // connection whose setting could not be restored is closed, never returned to
                    // the pool where the committer might use it.
                    let (p, data) = (p.clone(), data.to_vec());
                    tokio::spawn(async move {
                        let mut conn = p.acquire().await?;
                        if let Err(e) = sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await
                        {
                            let _ = conn.close().await;
                            return Err(e.into());
                        }
                        let inserted = sqlx::query(INSERT)
                            .bind(blob_id)
                            .bind(seq)
                            .bind(data)
                            .execute(&mut *conn)
                            .await;
                        if let Err(e) = sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await
                        {
                            let _ = conn.close().await;
                            return Err(e.into());
                        }
                        inserted?;
                        Ok(())
                    })
                    .await
                    .map_err(|source| Fault::Task {
                        task: "segment writer",
                        source,
                    })?
                }
            }
        })
        .await
    }

    /// Removes an upload that will not be committed, with its segments.
    pub async fn discard_upload(&self, blob_id: i64) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM segments WHERE blob_id = $1")
                .bind(blob_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM uploads WHERE blob_id = $1")
                .bind(blob_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes uploads started before `before` that never committed (a node that crashed in
    /// the middle of one). Returns how many.
    pub async fn discard_stale_uploads(&self, before: OffsetDateTime) -> Result<u64> {
        let ids: Vec<i64> = on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, i64>("SELECT blob_id FROM uploads WHERE started_at < $1")
                .bind(millis(before))
                .fetch_all(p)
                .await?)
        })?;
        for id in &ids {
            self.discard_upload(*id).await?;
        }
        Ok(ids.len() as u64)
    }

    /// One segment of a committed blob.
    pub async fn segment(&self, blob_id: i64, seq: i64) -> Result<Option<Vec<u8>>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT data FROM segments WHERE blob_id = $1 AND seq = $2",
            )
            .bind(blob_id)
            .bind(seq)
            .fetch_optional(p)
            .await?)
        })
    }

    // ----- log -----

    /// The signed tree head for `size`, or the latest when `size` is `None`.
    pub async fn tree_head(&self, size: Option<u64>) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        on_pool!(self, p => {
            let row = match size {
                Some(s) => {
                    sqlx::query("SELECT tree_head, signature FROM tree_heads WHERE tree_size = $1")
                        .bind(i64_of("tree size", s)?)
                        .fetch_optional(p)
                        .await?
                }
                None => {
                    sqlx::query(
                        "SELECT tree_head, signature FROM tree_heads \
                         ORDER BY tree_size DESC LIMIT 1",
                    )
                    .fetch_optional(p)
                    .await?
                }
            };
            row.map(|r| Ok((r.value("tree_head")?, r.value("signature")?)))
                .transpose()
        })
    }

    /// The index of the leaf with this hash.
    pub async fn leaf_index_of(&self, leaf_hash: &[u8]) -> Result<Option<u64>> {
        let index = on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT leaf_index FROM log_leaves WHERE leaf_hash = $1 ORDER BY leaf_index LIMIT 1",
            )
            .bind(leaf_hash)
            .fetch_optional(p)
            .await?)
        })?;
        index.map(|i| u64_of("leaf_index", i)).transpose()
    }

    /// Entries `start..end`.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT leaf_index, entry FROM log_leaves WHERE leaf_index >= $1 \
                 AND leaf_index < $2 ORDER BY leaf_index",
            )
            .bind(i64_of("leaf index", start)?)
            .bind(i64_of("leaf index", end)?)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| Ok((r.index("leaf_index")?, r.value("entry")?)))
                .collect()
        })
    }

    /// Stored hashes at `level` (0: leaves) for indices in `range`, in order.
    pub async fn stored_hashes(
        &self,
        level: u8,
        range: std::ops::Range<u64>,
    ) -> Result<Vec<Vec<u8>>> {
        let (start, end) = (
            i64_of("node index", range.start)?,
            i64_of("node index", range.end)?,
        );
        on_pool!(self, p => {
            let rows = if level == 0 {
                sqlx::query_scalar::<_, Vec<u8>>(
                    "SELECT leaf_hash FROM log_leaves WHERE leaf_index >= $1 AND leaf_index < $2 \
                     ORDER BY leaf_index",
                )
                .bind(start)
                .bind(end)
                .fetch_all(p)
                .await?
            } else {
                sqlx::query_scalar::<_, Vec<u8>>(
                    "SELECT hash FROM log_nodes WHERE level = $1 AND node_index >= $2 \
                     AND node_index < $3 ORDER BY node_index",
                )
                .bind(i64::from(level))
                .bind(start)
                .bind(end)
                .fetch_all(p)
                .await?
            };
            Ok(rows)
        })
    }

    // ----- CRLs -----

    /// Every CRL published through the axis (newest last per issuer).
    pub async fn crls(&self) -> Result<Vec<Vec<u8>>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, Vec<u8>>("SELECT der FROM crls ORDER BY issuer, number")
                .fetch_all(p)
                .await?)
        })
    }

    /// Stores a published CRL (idempotent).
    pub async fn insert_crl(
        &self,
        issuer: &[u8],
        number: u64,
        der: &[u8],
        now: OffsetDateTime,
    ) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO crls (issuer, number, der, published_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(issuer)
            .bind(i64_of("CRL number", number)?)
            .bind(der)
            .bind(millis(now))
            .execute(p)
            .await?;
            Ok(())
        })
    }
}

mod cosignatures;
mod units;
pub use units::{UnitRow, VersionRow};

#[cfg(test)]
pub(crate) mod test_pg;
#[cfg(test)]
mod tests;
