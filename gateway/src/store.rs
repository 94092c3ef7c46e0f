//! The gateway's durable store, with sqlx on SQLite (the default: WAL, `synchronous=FULL`) or
//! PostgreSQL. The same SQL runs on both (placeholders `$1…$n` in order, 64-bit integers,
//! BLOB/BYTEA), as in the axis server.
//!
//! Four tables: `outbox` (what the DMSs hand over, until the axis accepts it), `received`
//! (documents opened and kept), `mailbox` (what the DMSs collect, with their transport
//! acknowledgement) and `watch` (documents whose statuses are followed); `kv` holds the inbox
//! cursor and the witness's last tree head. **Each step that moves a document is one
//! transaction**: a received document, its mailbox item and the inbox cursor are committed
//! together, so a crash at any point replays the step or finds it done, never half of it.
//!
//! **Group commit.** The writes on the documents' path (a DMS's document or status kept, an
//! acceptance recorded, a received document kept, the inbox cursor) are queued to one writer
//! task, which commits whatever is queued as one transaction — one sync of the disk for the
//! lot — each write in its own savepoint (a write that fails is undone alone and answered
//! with its error). Every caller is answered only after the commit that carries its write, so
//! nothing is acknowledged before it is durable; writes commit in the order they were queued.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// At most this many writes in one group commit.
const GROUP_MAX: usize = 256;

/// A store failure (the database, a migration).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("the gateway's database: {0}")]
    Db(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("migrating the gateway's database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value is out of range.
    #[error("the gateway's database holds an impossible {what}: {value}")]
    Stored {
        /// The column.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The data directory.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The group commit that carried a write failed (the write is not kept).
    #[error("the gateway's database, committing a group of writes: {0}")]
    Group(String),
    /// The store is closed (the gateway is stopping).
    #[error("the gateway's database is closed")]
    Closed,
}

/// Store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The database: one of the two back ends.
#[derive(Clone, Debug)]
pub enum Db {
    /// Embedded SQLite file.
    Sqlite {
        /// Every write synced before it returns (`synchronous=FULL`).
        pool: SqlitePool,
        /// The same file, for the writes whose loss costs only a repeat
        /// (`synchronous=NORMAL`: see [`Db::ack_set`]).
        relaxed: SqlitePool,
        /// The group commit's queue.
        writes: Writes,
    },
    /// PostgreSQL.
    Postgres {
        /// The pool.
        pool: PgPool,
        /// The group commit's queue.
        writes: Writes,
    },
}

/// A write on the documents' path, waiting for the next group commit.
#[derive(Debug)]
enum Write {
    OutboxInsert {
        row: Box<OutRow>,
        digest: Vec<u8>,
    },
    OutboxAccepted {
        id: String,
        leaf_index: i64,
        accepted_ms: i64,
        watch: Option<(String, i64, i64)>,
    },
    ReceivedInsert {
        row: Box<ReceivedRow>,
        item: Box<MailItem>,
        cursor: Option<String>,
        watch: (i64, i64),
    },
    KvSet {
        key: String,
        value: Vec<u8>,
    },
    AckDone {
        message_id: String,
    },
}

/// A queued write and who waits for its commit (writes with nothing to say answer `New`).
#[derive(Debug)]
struct Job {
    write: Write,
    done: oneshot::Sender<Result<Inserted>>,
}

/// The group commit's queue (the writer task ends when the last [`Db`] is dropped).
#[derive(Clone, Debug)]
pub struct Writes(mpsc::UnboundedSender<Job>);

/// The pool the writer task commits with.
enum WritePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the pool of whichever back end `$db` is.
macro_rules! on_pool {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            Db::Sqlite { pool: $p, .. } => $body,
            Db::Postgres { pool: $p, .. } => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to a connection (SQLite) or a transaction (PostgreSQL) whose
/// commit does not wait for the disk: a crash of the gateway loses nothing (the write is in
/// the operating system's hands), a power failure may lose the last such writes — and only
/// writes whose loss costs a harmless repeat go through it. The next synced commit (any
/// other write) makes it durable too: SQLite's write-ahead log and PostgreSQL's WAL are one
/// sequence.
macro_rules! on_relaxed {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            Db::Sqlite { relaxed, .. } => {
                let mut $c = relaxed.acquire().await?;
                $body
            }
            Db::Postgres { pool: p, .. } => {
                let mut $c = p.begin().await?;
                sqlx::query("SET LOCAL synchronous_commit TO OFF")
                    .execute(&mut *$c)
                    .await?;
                let r = $body;
                $c.commit().await?;
                r
            }
        }
    };
}

/// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`: a
/// deferred transaction that reads and then writes fails at once with `SQLITE_BUSY` (not
/// after the busy timeout) when another connection wrote in between, which the gateway's
/// workers and its HTTP handlers do all the time.
trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error> {
        self.begin().await
    }
}

/// Milliseconds since the Unix epoch.
pub fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    millis(OffsetDateTime::now_utc())
}

/// A time read back from the store.
pub fn from_millis(what: &'static str, ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|_| {
        StoreError::Stored {
            what,
            value: ms.to_string(),
        }
    })
}

/// Kinds of outbox rows and mailbox items.
pub mod kind {
    /// A business document (edXML edoc).
    pub const EDOC: &str = "edoc";
    /// A status (edXML status package).
    pub const STATUS: &str = "status";
}

/// Outbox states.
pub mod out_state {
    /// Kept, to be submitted (again).
    pub const QUEUED: &str = "queued";
    /// The axis accepted it (a document) or logged it (a status).
    pub const ACCEPTED: &str = "accepted";
    /// The axis refused it for good; the reason says why.
    pub const FAILED: &str = "failed";
}

/// Mailbox states: the DMS's transport acknowledgement (`updateStatus`).
pub mod mail_state {
    /// Not yet acknowledged by the DMS.
    pub const INITIAL: &str = "initial";
    /// The DMS stored it.
    pub const DONE: &str = "done";
    /// The DMS could not use it.
    pub const FAIL: &str = "fail";
}

/// Receipt-01 states of a received document.
pub mod ack_state {
    /// To be sent.
    pub const PENDING: &str = "pending";
    /// Logged by the axis.
    pub const DONE: &str = "done";
    /// Not sent automatically (`auto_receipt = false`): the DMS sends it.
    pub const OFF: &str = "off";
}

/// One outbox row.
#[derive(Clone, Debug)]
pub struct OutRow {
    /// The id given to the DMS (a document's message id).
    pub id: String,
    /// [`kind`].
    pub kind: String,
    /// The DMS that handed it over.
    pub system_id: String,
    /// The axis message id (a status: of the document it is about).
    pub message_id: String,
    /// The edXML DocumentId.
    pub document_id: String,
    /// A document's recipients; a status's other party (space-separated agency ids).
    pub parties: String,
    /// A document's number/notation; a status's code.
    pub code: String,
    /// A document's subject; a status's description.
    pub subject: String,
    /// [`out_state`].
    pub state: String,
    /// Submissions tried.
    pub attempts: i64,
    /// Why it failed (a reason code), if it did.
    pub error_reason: Option<String>,
    /// What failed, for people.
    pub error_message: Option<String>,
    /// When it was handed over.
    pub created_ms: i64,
    /// When it last changed.
    pub updated_ms: i64,
    /// A document's signed routing header.
    pub routing_header: Option<Vec<u8>>,
    /// A document's submission signature.
    pub submission_signature: Option<Vec<u8>>,
    /// A document's key envelope.
    pub key_envelope: Option<Vec<u8>>,
    /// A document's ciphertext file (relative to the data directory).
    pub ciphertext_file: Option<String>,
    /// A status's edXML package.
    pub package: Option<Vec<u8>>,
    /// The log entry of its acceptance, once accepted.
    pub leaf_index: Option<i64>,
    /// When the axis accepted it.
    pub accepted_ms: Option<i64>,
}

/// One received document.
#[derive(Clone, Debug)]
pub struct ReceivedRow {
    /// The axis message id.
    pub message_id: String,
    /// The sending agency.
    pub sender: String,
    /// The DocumentId.
    pub document_id: String,
    /// Number/notation.
    pub code: String,
    /// Subject.
    pub subject: String,
    /// When the axis accepted it.
    pub accepted_ms: i64,
    /// When the gateway stored it.
    pub stored_ms: i64,
    /// The verified signature report (JSON).
    pub report: String,
    /// [`ack_state`].
    pub ack_state: String,
    /// Why the receipt could not be sent yet.
    pub ack_error: Option<String>,
}

/// One item of the DMS's mailbox.
#[derive(Clone, Debug)]
pub struct MailItem {
    /// The id the DMS uses (`docId`).
    pub id: String,
    /// What makes it unique (a document's message id, a status's log entry).
    pub dedupe: String,
    /// [`kind`].
    pub kind: String,
    /// The message id of the document.
    pub message_id: String,
    /// Who it is from.
    pub from_agency: String,
    /// Who it is to.
    pub to_agency: String,
    /// The DocumentId.
    pub document_id: String,
    /// A status's code.
    pub status_code: Option<String>,
    /// A status's edXML package.
    pub package: Option<Vec<u8>>,
    /// [`mail_state`].
    pub state: String,
    /// When it arrived.
    pub created_ms: i64,
    /// When it last changed.
    pub updated_ms: i64,
}

/// A document whose statuses are followed.
#[derive(Clone, Debug)]
pub struct Watched {
    /// Its message id.
    pub message_id: String,
    /// `sent` or `received`.
    pub role: String,
    /// The current pause between readings.
    pub interval_ms: i64,
}

/// Reads a row of either back end into a struct, column by column.
macro_rules! read_row {
    ($row:expr, $t:ident { $($f:ident),* $(,)? }) => {
        $t { $($f: $row.try_get(stringify!($f))?,)* }
    };
}

fn out_row<R>(r: &R) -> Result<OutRow>
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(read_row!(
        r,
        OutRow {
            id,
            kind,
            system_id,
            message_id,
            document_id,
            parties,
            code,
            subject,
            state,
            attempts,
            error_reason,
            error_message,
            created_ms,
            updated_ms,
            routing_header,
            submission_signature,
            key_envelope,
            ciphertext_file,
            package,
            leaf_index,
            accepted_ms,
        }
    ))
}

fn received_row<R>(r: &R) -> Result<ReceivedRow>
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(read_row!(
        r,
        ReceivedRow {
            message_id,
            sender,
            document_id,
            code,
            subject,
            accepted_ms,
            stored_ms,
            report,
            ack_state,
            ack_error,
        }
    ))
}

fn mail_item<R>(r: &R) -> Result<MailItem>
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(read_row!(
        r,
        MailItem {
            id,
            dedupe,
            kind,
            message_id,
            from_agency,
            to_agency,
            document_id,
            status_code,
            package,
            state,
            created_ms,
            updated_ms,
        }
    ))
}

/// Whether an insert found the row there already.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// New.
    New,
    /// Already there (with this id).
    Existing(String),
}

impl Db {
    /// Opens (creating or migrating) the store.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            let writes = Writes::start(WritePool::Postgres(pool.clone()));
            Ok(Db::Postgres { pool, writes })
        } else {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let relaxed_opts = opts.clone().synchronous(SqliteSynchronous::Normal);
            if let Some(dir) = opts.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            // Readers do not wait for the writer (WAL); the documents in flight read at once.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            let relaxed = SqlitePoolOptions::new()
                .max_connections(2)
                .connect_with(relaxed_opts)
                .await?;
            let writes = Writes::start(WritePool::Sqlite(pool.clone()));
            Ok(Db::Sqlite {
                pool,
                relaxed,
                writes,
            })
        }
    }

    /// Closes the pools.
    pub async fn close(&self) {
        if let Db::Sqlite { relaxed, .. } = self {
            relaxed.close().await;
        }
        on_pool!(self, p => p.close().await)
    }

    /// Queues a write for the next group commit (now, not when the future is first polled);
    /// the future resolves once it is committed.
    fn submit(&self, write: Write) -> impl Future<Output = Result<Inserted>> + Send + use<> {
        let writes = match self {
            Db::Sqlite { writes, .. } | Db::Postgres { writes, .. } => writes,
        };
        let (done, answer) = oneshot::channel();
        let queued = writes.0.send(Job { write, done }).is_ok();
        async move {
            if !queued {
                return Err(StoreError::Closed);
            }
            answer.await.unwrap_or(Err(StoreError::Closed))
        }
    }

    // ----- outbox -----

    /// Keeps a document or status handed over by a DMS, unless the same request of the same
    /// system is there already (a DMS repeating a call whose answer it lost): then the
    /// earlier row's id. Answered once committed (group commit).
    pub async fn outbox_insert(&self, row: &OutRow, request_sha256: &[u8]) -> Result<Inserted> {
        self.submit(Write::OutboxInsert {
            row: Box::new(row.clone()),
            digest: request_sha256.to_vec(),
        })
        .await
    }

    /// The id of the row a system handed over with this request digest, if any.
    pub async fn outbox_find(
        &self,
        system_id: &str,
        kind: &str,
        request_sha256: &[u8],
    ) -> Result<Option<String>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar(
                "SELECT id FROM outbox WHERE system_id = $1 AND kind = $2 AND request_sha256 = $3",
            )
            .bind(system_id)
            .bind(kind)
            .bind(request_sha256)
            .fetch_optional(p)
            .await?)
        })
    }

    /// Queued rows due now, oldest first.
    pub async fn outbox_due(&self, now_ms: i64, limit: i64) -> Result<Vec<OutRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT * FROM outbox WHERE state = $1 AND next_try_ms <= $2 \
                 ORDER BY created_ms LIMIT $3",
            )
            .bind(out_state::QUEUED)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(p)
            .await?;
            rows.iter().map(out_row).collect()
        })
    }

    /// One outbox row.
    pub async fn outbox_get(&self, id: &str) -> Result<Option<OutRow>> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT * FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(out_row).transpose()
        })
    }

    /// The outbox, newest first, of one kind.
    pub async fn outbox_list(&self, kind: &str, limit: i64) -> Result<Vec<OutRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT * FROM outbox WHERE kind = $1 ORDER BY created_ms DESC LIMIT $2",
            )
            .bind(kind)
            .bind(limit)
            .fetch_all(p)
            .await?;
            rows.iter().map(out_row).collect()
        })
    }

    /// The document sent with this DocumentId (the newest, if several).
    pub async fn sent_by_document_id(&self, document_id: &str) -> Result<Option<OutRow>> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT * FROM outbox WHERE kind = $1 AND document_id = $2 \
                 ORDER BY created_ms DESC LIMIT 1",
            )
            .bind(kind::EDOC)
            .bind(document_id)
            .fetch_optional(p)
            .await?;
            row.as_ref().map(out_row).transpose()
        })
    }

    /// A submission attempt that did not settle: tried again at `next_try_ms`.
    pub async fn outbox_retry(&self, id: &str, next_try_ms: i64, error: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, next_try_ms = $1, error_message = $2, \
                 updated_ms = $3 WHERE id = $4",
            )
            .bind(next_try_ms)
            .bind(error)
            .bind(now_ms())
            .bind(id)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    /// The axis accepted (logged) it; when this is a document, it is followed from now on
    /// (in the same transaction). Answered once committed (group commit).
    pub async fn outbox_accepted(
        &self,
        id: &str,
        leaf_index: i64,
        accepted_ms: i64,
        watch: Option<(&str, i64, i64)>,
    ) -> Result<()> {
        self.submit(Write::OutboxAccepted {
            id: id.to_string(),
            leaf_index,
            accepted_ms,
            watch: watch.map(|(m, i, u)| (m.to_string(), i, u)),
        })
        .await
        .map(|_| ())
    }

    /// The axis refused it for good.
    pub async fn outbox_failed(&self, id: &str, reason: &str, message: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query(
                "UPDATE outbox SET state = $1, attempts = attempts + 1, error_reason = $2, \
                 error_message = $3, updated_ms = $4 WHERE id = $5",
            )
            .bind(out_state::FAILED)
            .bind(reason)
            .bind(message)
            .bind(now_ms())
            .bind(id)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    /// Outbox rows by state (for the metrics): (queued, oldest queued's creation).
    pub async fn outbox_backlog(&self) -> Result<(i64, Option<i64>)> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, MIN(created_ms) AS oldest FROM outbox WHERE state = $1",
            )
            .bind(out_state::QUEUED)
            .fetch_one(p)
            .await?;
            Ok((row.try_get("n")?, row.try_get("oldest")?))
        })
    }

    // ----- received -----

    /// Whether this message was received and kept already.
    pub async fn received_get(&self, message_id: &str) -> Result<Option<ReceivedRow>> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT * FROM received WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(received_row).transpose()
        })
    }

    /// The received document with this DocumentId from this sender (the newest).
    pub async fn received_by_document_id(
        &self,
        document_id: &str,
        sender: &str,
    ) -> Result<Option<ReceivedRow>> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT * FROM received WHERE document_id = $1 AND sender = $2 \
                 ORDER BY stored_ms DESC LIMIT 1",
            )
            .bind(document_id)
            .bind(sender)
            .fetch_optional(p)
            .await?;
            row.as_ref().map(received_row).transpose()
        })
    }

    /// Keeps a received document: its row, its mailbox item, its watch, and the inbox cursor,
    /// in one transaction. The write is queued **when this is called** (not when the future
    /// is first polled): writes queued one after the other commit in that order, in the same
    /// group commit or a later one. The future resolves once it is committed.
    pub fn received_insert(
        &self,
        row: &ReceivedRow,
        item: &MailItem,
        cursor: Option<&str>,
        watch: (i64, i64),
    ) -> impl Future<Output = Result<()>> + Send + use<> {
        let done = self.submit(Write::ReceivedInsert {
            row: Box::new(row.clone()),
            item: Box::new(item.clone()),
            cursor: cursor.map(str::to_string),
            watch,
        });
        async move { done.await.map(|_| ()) }
    }

    /// Received documents whose receipt 01 is still to be sent.
    pub async fn acks_pending(&self) -> Result<Vec<ReceivedRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT * FROM received WHERE ack_state = $1 ORDER BY stored_ms",
            )
            .bind(ack_state::PENDING)
            .fetch_all(p)
            .await?;
            rows.iter().map(received_row).collect()
        })
    }

    /// Records the receipt 01 state of a received document. That it was logged (`done`) rides
    /// with the next group commit (no write lock of its own, which would hold up the documents'
    /// commits).
    pub async fn ack_set(&self, message_id: &str, state: &str, error: Option<&str>) -> Result<()> {
        if state == ack_state::DONE {
            return self
                .submit(Write::AckDone {
                    message_id: message_id.to_string(),
                })
                .await
                .map(|_| ());
        }
        let sql = "UPDATE received SET ack_state = $1, ack_error = $2 WHERE message_id = $3";
        on_pool!(self, p => {
            sqlx::query(sql)
                .bind(state)
                .bind(error)
                .bind(message_id)
                .execute(p)
                .await?;
            Ok(())
        })
    }

    /// Received documents by receipt state (for the metrics): (pending, oldest pending).
    pub async fn acks_backlog(&self) -> Result<(i64, Option<i64>)> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, MIN(stored_ms) AS oldest FROM received WHERE ack_state = $1",
            )
            .bind(ack_state::PENDING)
            .fetch_one(p)
            .await?;
            Ok((row.try_get("n")?, row.try_get("oldest")?))
        })
    }

    // ----- mailbox -----

    /// Adds a mailbox item unless its `dedupe` key is there already; says which.
    pub async fn mail_insert(&self, item: &MailItem) -> Result<Inserted> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let existing: Option<String> =
                sqlx::query_scalar("SELECT id FROM mailbox WHERE dedupe = $1")
                    .bind(&item.dedupe)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(id) = existing {
                return Ok(Inserted::Existing(id));
            }
            insert_mail!(&mut *tx, item)?;
            tx.commit().await?;
            Ok(Inserted::New)
        })
    }

    /// Mailbox items of a kind, oldest first; only those not yet acknowledged by the DMS
    /// unless `all`.
    pub async fn mail_list(&self, kind: &str, all: bool, limit: i64) -> Result<Vec<MailItem>> {
        on_pool!(self, p => {
            let rows = if all {
                sqlx::query("SELECT * FROM mailbox WHERE kind = $1 ORDER BY created_ms LIMIT $2")
                    .bind(kind)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            } else {
                sqlx::query(
                    "SELECT * FROM mailbox WHERE kind = $1 AND state = $2 \
                     ORDER BY created_ms LIMIT $3",
                )
                .bind(kind)
                .bind(mail_state::INITIAL)
                .bind(limit)
                .fetch_all(p)
                .await?
            };
            rows.iter().map(mail_item).collect()
        })
    }

    /// One page of the mailbox, every item of a kind whatever its state, in arrival order
    /// after the cursor `(created_ms, id)` of the last item read: a client resumes where it
    /// stopped, and an item arriving later is never skipped (its `created_ms` is later).
    pub async fn mail_page(
        &self,
        kind: &str,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<MailItem>> {
        let (after_ms, after_id) = after.unwrap_or((i64::MIN, ""));
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT * FROM mailbox WHERE kind = $1 \
                 AND (created_ms > $2 OR (created_ms = $2 AND id > $3)) \
                 ORDER BY created_ms, id LIMIT $4",
            )
            .bind(kind)
            .bind(after_ms)
            .bind(after_id)
            .bind(limit)
            .fetch_all(p)
            .await?;
            rows.iter().map(mail_item).collect()
        })
    }

    /// The statuses received about one document, oldest first.
    pub async fn mail_statuses_of(&self, message_id: &str) -> Result<Vec<MailItem>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT * FROM mailbox WHERE kind = $1 AND message_id = $2 ORDER BY created_ms",
            )
            .bind(kind::STATUS)
            .bind(message_id)
            .fetch_all(p)
            .await?;
            rows.iter().map(mail_item).collect()
        })
    }

    /// Mailbox items not yet acknowledged, of a kind.
    pub async fn mail_count(&self, kind: &str) -> Result<i64> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM mailbox WHERE kind = $1 AND state = $2")
                .bind(kind)
                .bind(mail_state::INITIAL)
                .fetch_one(p)
                .await?)
        })
    }

    /// The oldest item not yet acknowledged by a DMS (for the metrics).
    pub async fn mail_oldest_unacknowledged(&self) -> Result<Option<i64>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar("SELECT MIN(created_ms) FROM mailbox WHERE state = $1")
                .bind(mail_state::INITIAL)
                .fetch_one(p)
                .await?)
        })
    }

    /// One mailbox item.
    pub async fn mail_get(&self, id: &str) -> Result<Option<MailItem>> {
        on_pool!(self, p => {
            let row = sqlx::query("SELECT * FROM mailbox WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(mail_item).transpose()
        })
    }

    /// The DMS's transport acknowledgement of an item; false if there is no such item.
    pub async fn mail_set_state(&self, id: &str, state: &str) -> Result<bool> {
        on_pool!(self, p => {
            let done = sqlx::query("UPDATE mailbox SET state = $1, updated_ms = $2 WHERE id = $3")
                .bind(state)
                .bind(now_ms())
                .bind(id)
                .execute(p)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    // ----- watch -----

    /// Documents whose statuses are due to be read.
    pub async fn watch_due(&self, now_ms: i64, limit: i64) -> Result<Vec<Watched>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT message_id, role, interval_ms FROM watch WHERE next_ms <= $1 \
                 ORDER BY next_ms LIMIT $2",
            )
            .bind(now_ms)
            .bind(limit)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| Ok(read_row!(r, Watched { message_id, role, interval_ms })))
                .collect()
        })
    }

    /// Reads a watched document again after `interval_ms`, or stops following it if it is
    /// past its end (or `done`).
    pub async fn watch_next(&self, message_id: &str, interval_ms: i64, done: bool) -> Result<()> {
        let now = now_ms();
        on_pool!(self, p => {
            if done {
                sqlx::query("DELETE FROM watch WHERE message_id = $1")
                    .bind(message_id)
                    .execute(p)
                    .await?;
            } else {
                sqlx::query(
                    "UPDATE watch SET next_ms = $1, interval_ms = $2 WHERE message_id = $3",
                )
                .bind(now + interval_ms)
                .bind(interval_ms)
                .bind(message_id)
                .execute(p)
                .await?;
                sqlx::query("DELETE FROM watch WHERE message_id = $1 AND until_ms < $2")
                    .bind(message_id)
                    .bind(now)
                    .execute(p)
                    .await?;
            }
            Ok(())
        })
    }

    /// Reads a watched document at the next pass (after the DMS sent a status on it, say).
    pub async fn watch_soon(&self, message_id: &str, interval_ms: i64) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE watch SET next_ms = $1, interval_ms = $2 WHERE message_id = $3")
                .bind(now_ms())
                .bind(interval_ms)
                .bind(message_id)
                .execute(p)
                .await?;
            Ok(())
        })
    }

    // ----- kv -----

    /// A small value.
    pub async fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        on_pool!(self, p => {
            Ok(sqlx::query_scalar("SELECT value FROM kv WHERE key = $1")
                .bind(key)
                .fetch_optional(p)
                .await?)
        })
    }

    /// Sets a small value; queued when this is called, like [`Db::received_insert`].
    pub fn kv_set(
        &self,
        key: &str,
        value: &[u8],
    ) -> impl Future<Output = Result<()>> + Send + use<> {
        let done = self.submit(Write::KvSet {
            key: key.to_string(),
            value: value.to_vec(),
        });
        async move { done.await.map(|_| ()) }
    }

    /// Sets a small value whose loss in a power failure costs only a repeat (the witness's
    /// head: an older head kept is checked against again, which is as sound).
    pub async fn kv_set_relaxed(&self, key: &str, value: &[u8]) -> Result<()> {
        on_relaxed!(self, c => {
            set_kv!(&mut *c, key, value)?;
        });
        Ok(())
    }
}

impl Writes {
    /// Starts the writer task.
    fn start(pool: WritePool) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(commit_groups(pool, rx));
        Writes(tx)
    }
}

/// The writer task: takes whatever is queued (at least one write, at most [`GROUP_MAX`]) and
/// commits it as one transaction, until every [`Db`] is dropped. Writes queued while a group
/// commits wait for the next: the busier the gateway, the bigger the groups.
async fn commit_groups(pool: WritePool, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_MAX {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut results = Vec::with_capacity(jobs.len());
        let committed = match &pool {
            WritePool::Sqlite(p) => commit_group!(p, &jobs, results),
            WritePool::Postgres(p) => commit_group!(p, &jobs, results),
        };
        match committed {
            Ok(()) => {
                for (job, result) in jobs.into_iter().zip(results) {
                    let _ = job.done.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, writes = jobs.len(), "a group commit failed");
                let message = e.to_string();
                for job in jobs {
                    let _ = job.done.send(Err(StoreError::Group(message.clone())));
                }
            }
        }
    }
}

/// One group commit on pool `$p`: each write of `$jobs` in its own savepoint, its result
/// pushed to `$results`; the transaction's own failure is returned.
macro_rules! commit_group {
    ($p:expr, $jobs:expr, $results:ident) => {
        async {
            let mut tx = $p.begin_write().await?;
            for job in $jobs {
                let mut sp = sqlx::Acquire::begin(&mut tx).await?;
                let r = apply_write!(&mut *sp, &job.write);
                if r.is_ok() {
                    sp.commit().await?;
                } else {
                    sp.rollback().await?;
                }
                $results.push(r);
            }
            tx.commit().await
        }
        .await
    };
}
use commit_group;

/// Applies one queued write with executor `$ex`.
macro_rules! apply_write {
    ($ex:expr, $write:expr) => {
        async {
            match $write {
                Write::OutboxInsert { row, digest } => {
                    let existing: Option<String> = sqlx::query_scalar(
                        "SELECT id FROM outbox WHERE system_id = $1 AND kind = $2 \
                         AND request_sha256 = $3",
                    )
                    .bind(&row.system_id)
                    .bind(&row.kind)
                    .bind(digest)
                    .fetch_optional($ex)
                    .await?;
                    if let Some(id) = existing {
                        return Ok(Inserted::Existing(id));
                    }
                    sqlx::query(
                        "INSERT INTO outbox (id, kind, system_id, request_sha256, message_id, \
                         document_id, parties, code, subject, state, attempts, created_ms, \
                         updated_ms, next_try_ms, routing_header, submission_signature, \
                         key_envelope, ciphertext_file, package) VALUES ($1, $2, $3, $4, $5, \
                         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                    )
                    .bind(&row.id)
                    .bind(&row.kind)
                    .bind(&row.system_id)
                    .bind(digest)
                    .bind(&row.message_id)
                    .bind(&row.document_id)
                    .bind(&row.parties)
                    .bind(&row.code)
                    .bind(&row.subject)
                    .bind(&row.state)
                    .bind(row.attempts)
                    .bind(row.created_ms)
                    .bind(row.updated_ms)
                    .bind(row.created_ms)
                    .bind(&row.routing_header)
                    .bind(&row.submission_signature)
                    .bind(&row.key_envelope)
                    .bind(&row.ciphertext_file)
                    .bind(&row.package)
                    .execute($ex)
                    .await?;
                    Ok(Inserted::New)
                }
                Write::OutboxAccepted {
                    id,
                    leaf_index,
                    accepted_ms,
                    watch,
                } => {
                    let now = now_ms();
                    sqlx::query(
                        "UPDATE outbox SET state = $1, attempts = attempts + 1, \
                         leaf_index = $2, accepted_ms = $3, error_reason = NULL, \
                         error_message = NULL, updated_ms = $4 WHERE id = $5",
                    )
                    .bind(out_state::ACCEPTED)
                    .bind(*leaf_index)
                    .bind(*accepted_ms)
                    .bind(now)
                    .bind(id)
                    .execute($ex)
                    .await?;
                    if let Some((message_id, interval_ms, until_ms)) = watch {
                        insert_watch!($ex, message_id, "sent", now, *interval_ms, *until_ms)?;
                    }
                    Ok(Inserted::New)
                }
                Write::ReceivedInsert {
                    row,
                    item,
                    cursor,
                    watch,
                } => {
                    sqlx::query(
                        "INSERT INTO received (message_id, sender, document_id, code, subject, \
                         accepted_ms, stored_ms, report, ack_state, ack_error) VALUES ($1, $2, \
                         $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(&row.message_id)
                    .bind(&row.sender)
                    .bind(&row.document_id)
                    .bind(&row.code)
                    .bind(&row.subject)
                    .bind(row.accepted_ms)
                    .bind(row.stored_ms)
                    .bind(&row.report)
                    .bind(&row.ack_state)
                    .bind(&row.ack_error)
                    .execute($ex)
                    .await?;
                    insert_mail!($ex, item)?;
                    insert_watch!(
                        $ex,
                        &row.message_id,
                        "received",
                        row.stored_ms,
                        watch.0,
                        watch.1
                    )?;
                    if let Some(cursor) = cursor {
                        set_kv!($ex, "inbox_cursor", cursor.as_bytes())?;
                    }
                    Ok(Inserted::New)
                }
                Write::KvSet { key, value } => {
                    set_kv!($ex, key.as_str(), value.as_slice())?;
                    Ok(Inserted::New)
                }
                Write::AckDone { message_id } => {
                    sqlx::query(
                        "UPDATE received SET ack_state = $1, ack_error = NULL WHERE message_id = $2",
                    )
                    .bind(ack_state::DONE)
                    .bind(message_id)
                    .execute($ex)
                    .await?;
                    Ok(Inserted::New)
                }
            }
        }
        .await
    };
}
use apply_write;

/// Inserts a mailbox item with executor `$ex`.
macro_rules! insert_mail {
    ($ex:expr, $item:expr) => {{
        let item: &MailItem = $item;
        sqlx::query(
            "INSERT INTO mailbox (id, dedupe, kind, message_id, from_agency, to_agency, \
             document_id, status_code, package, state, created_ms, updated_ms) VALUES ($1, $2, \
             $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&item.id)
        .bind(&item.dedupe)
        .bind(&item.kind)
        .bind(&item.message_id)
        .bind(&item.from_agency)
        .bind(&item.to_agency)
        .bind(&item.document_id)
        .bind(&item.status_code)
        .bind(&item.package)
        .bind(&item.state)
        .bind(item.created_ms)
        .bind(item.updated_ms)
        .execute($ex)
        .await
    }};
}
use insert_mail;

/// Starts following a document's statuses, with executor `$ex`.
macro_rules! insert_watch {
    ($ex:expr, $message_id:expr, $role:expr, $now:expr, $interval:expr, $until:expr) => {{
        let (now, interval): (i64, i64) = ($now, $interval);
        sqlx::query(
            "INSERT INTO watch (message_id, role, next_ms, interval_ms, until_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind($message_id)
        .bind($role)
        .bind(now + interval)
        .bind(interval)
        .bind($until)
        .execute($ex)
        .await
    }};
}
use insert_watch;

/// Sets a small value, with executor `$ex`.
macro_rules! set_kv {
    ($ex:expr, $key:expr, $value:expr) => {
        sqlx::query(
            "INSERT INTO kv (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind($key)
        .bind($value)
        .execute($ex)
        .await
    };
}
use set_kv;
