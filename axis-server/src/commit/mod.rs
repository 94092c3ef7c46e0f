//! The committer: the one path that appends to the log. Group commit with one signature per
//! batch.
//!
//! Jobs are acceptances, statements (receipts and statuses) and revocations (from a published
//! CRL). Handlers verify everything first (signatures, chains, digests), then hand a [`Job`] to this
//! node's committer task and wait. The committer takes every job that is waiting (up to
//! [`MAX_BATCH`]) and, in **one database transaction**:
//!
//! 1. takes the log lock (an `UPDATE` of the single `log_state` row: SQLite's write lock, a row
//!    lock in PostgreSQL that serializes the committers of every node) and reads the frontier
//!    in the same statement (`RETURNING`);
//! 2. sorts out repeats (a message id or a receipt already logged gets the evidence it got the
//!    first time; a message id reused for other content, or a status racing another for the
//!    same chain, fails), reading what the whole batch needs with a few `IN (…)` queries;
//! 3. appends one leaf per new acceptance or statement, computes the new root and every new
//!    leaf's inclusion path from the frontier alone, and signs **one tree head** for the batch
//!    with the log signer;
//! 4. writes messages, deliveries, ciphertext (small documents inline; large ones were staged
//!    and are adopted here), statements, leaves, nodes at levels 8, 16, …, the tree head and
//!    the new frontier, plus a `pg_notify` per recipient on PostgreSQL — a table at a time, in
//!    multi-row statements, so the round trips to the database do not grow with the number of
//!    jobs;
//! 5. commits — and only then answers every job (durable before acknowledged) and wakes local
//!    subscribers.
//!
//! No delay is added to form a batch: while one commit is in flight the next jobs queue up, so
//! batches grow with load (one fsync and one signature per batch) and stay at one job when the
//! axis is idle.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use axis_log::{Frontier, Hash};
use axis_pki::{PrivateKey, VerifiedCert};
use axis_signer::{LogEntry, LogProof, Signer, TreeHead, VerifiedReceipt, VerifiedSubmission};
use sqlx::Row;
use sqlx::pool::PoolConnection;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, ServerError};
use crate::notify::Notifier;
use crate::store::{Db, millis, state};

/// Most jobs in one transaction.
pub const MAX_BATCH: usize = 512;
/// Complete log nodes are stored at levels that are multiples of this (plus every leaf).
pub const NODE_STRIDE: u8 = 8;
/// Jobs waiting for the committer before submitters are made to wait.
const QUEUE: usize = 4096;

/// Where an accepted document's ciphertext is.
#[derive(Debug)]
pub enum Ciphertext {
    /// Small: carried in the job, written in the commit.
    Inline(Vec<u8>),
    /// Large: already stored as segments of this upload.
    Staged {
        /// The upload's blob id.
        blob_id: i64,
    },
}

/// Work for the committer.
pub enum Job {
    /// Log and store an accepted submission.
    Accept {
        /// The verified submission.
        submission: Box<VerifiedSubmission>,
        /// Its key envelope (checked against the header).
        key_envelope: Vec<u8>,
        /// Its ciphertext (length and digest checked).
        ciphertext: Ciphertext,
    },
    /// Log a verified receipt or status as the next of its chain.
    Statement {
        /// The recipient whose chain it extends.
        recipient: String,
        /// Its position in that chain (the chain's length when it was checked).
        position: i64,
        /// The verified receipt.
        receipt: Box<VerifiedReceipt>,
        /// New delivery state, if this statement changes it.
        new_state: Option<i64>,
    },
    /// Log a certificate revocation the axis applies (from a CRL the operator published).
    Revocation(Box<axis_signer::RevocationEntry>),
}

/// What the log gave a job.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Entry bytes.
    pub entry: Vec<u8>,
    /// Proof bytes (DER `LogProof`).
    pub proof: Vec<u8>,
    /// Leaf index.
    pub leaf_index: u64,
    /// When it was logged.
    pub logged_at: OffsetDateTime,
    /// Whether this repeats something logged before (nothing new was stored).
    pub duplicate: bool,
}

type Reply = oneshot::Sender<Result<Logged>>;

/// The handle handlers submit jobs through.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<(Job, Reply)>,
}

impl Committer {
    /// Starts the committer task.
    pub fn start(
        db: Db,
        log_key: Arc<PrivateKey>,
        log_cert: Arc<VerifiedCert>,
        notifier: Notifier,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(rx, db, log_key, log_cert, notifier));
        Committer { tx }
    }

    /// Commits one job and waits for its evidence.
    pub async fn commit(&self, job: Job) -> Result<Logged> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((job, reply))
            .await
            .map_err(|_| ServerError::ShuttingDown)?;
        answer.await.map_err(|_| ServerError::ShuttingDown)?
    }
}

async fn run(
    mut rx: mpsc::Receiver<(Job, Reply)>,
    db: Db,
    log_key: Arc<PrivateKey>,
    log_cert: Arc<VerifiedCert>,
    notifier: Notifier,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut held: Option<Held> = None;
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (jobs, replies): (Vec<Job>, Vec<Reply>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        let outcome = match held.take() {
            Some(conn) => Ok(conn),
            None => Held::acquire(&db).await,
        };
        let outcome = match outcome {
            Ok(mut conn) => {
                let r = commit_batch(&mut conn, &log_key, &log_cert, &jobs).await;
                // Kept while more jobs wait and the connection works; otherwise back to the
                // pool (an idle committer holds nothing, so the pool can close).
                if r.is_ok() && !rx.is_empty() {
                    held = Some(conn);
                }
                r
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok((results, wake)) => {
                crate::metrics::COMMIT_BATCHES.inc();
                crate::metrics::COMMIT_JOBS.add(jobs.len() as u64);
                crate::metrics::COMMIT_SECONDS.observe(started.elapsed().as_secs_f64());
                for agency in wake {
                    notifier.wake(&agency);
                }
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = jobs.len(), "commit failed");
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(ServerError::CommitFailed(msg.clone())));
                }
            }
        }
    }
}

/// What step 2 decided for one job.
enum Plan {
    /// New: append entry number `n` of this batch.
    New(usize),
    /// Seen before: answer with this.
    Repeat(Logged),
    /// Same as job number `j` of this batch.
    SameAs(usize),
    /// Refused.
    Refused(ServerError),
}

/// A new leaf of this batch.
struct NewLeaf {
    job: usize,
    entry: Vec<u8>,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Rows per multi-row statement on PostgreSQL, at most. A batch of `n` rows is written in
/// statements of 64, 32, 16, … rows (64s first, then the binary digits of the rest), so each
/// table has at most seven statement texts and they all stay prepared (a statement PostgreSQL has
/// not seen costs an extra round trip to prepare), whatever the batch sizes.
const ROWS_PER_STATEMENT: usize = 64;

/// Rows per statement on SQLite, at most (11 columns × 512 rows stays far below SQLite's 32,766
/// parameters). SQLite prepares a statement in the same call that runs it, so a batch takes one
/// statement of exactly its size per table, not prepared for reuse: each round trip to sqlx's
/// SQLite worker thread costs more than preparing.
const ROWS_PER_SQLITE_STATEMENT: usize = MAX_BATCH;

/// Splits `0..n` into the runs of rows of one statement each: any length up to
/// `ROWS_PER_SQLITE_STATEMENT` when `exact`, else runs of `ROWS_PER_STATEMENT` rows, then of
/// decreasing powers of two.
fn row_chunks(n: usize, exact: bool) -> impl Iterator<Item = std::ops::Range<usize>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = n - start;
        if left == 0 {
            return None;
        }
        let len = if exact {
            left.min(ROWS_PER_SQLITE_STATEMENT)
        } else if left >= ROWS_PER_STATEMENT {
            ROWS_PER_STATEMENT
        } else {
            1 << left.ilog2()
        };
        start += len;
        Some(start - len..start)
    })
}

/// Splits `0..n` for `IN (…)` lists: at most `MAX_BATCH` values per query.
fn read_chunks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n)
        .step_by(MAX_BATCH)
        .map(move |start| start..(start + MAX_BATCH).min(n))
}

/// The values of an `IN (…)` list: exactly `values` when `exact`, else padded to the next power
/// of two by repeating the last one (which changes no answer), so one prepared statement per
/// power of two serves every length.
fn padded<T>(values: &[T], exact: bool) -> impl Iterator<Item = &T> {
    let len = if exact {
        values.len()
    } else {
        values.len().next_power_of_two()
    };
    values
        .iter()
        .chain(std::iter::repeat_n(values.last(), len - values.len()).flatten())
}

/// The committer's own connection. Handlers' reads share the pool; were the committer to
/// queue behind them for a connection at every batch (up to a hundred submissions in flight,
/// each reading twice), the log lock would wait on reads. It keeps its connection while jobs
/// keep coming and gives it back when idle.
enum Held {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
}

impl Held {
    async fn acquire(db: &Db) -> Result<Held> {
        Ok(match db {
            Db::Sqlite(p) => Held::Sqlite(p.acquire().await?),
            Db::Postgres(p) => Held::Postgres(p.acquire().await?),
        })
    }
}

/// Runs `$body` with `$c` bound to the held connection of whichever back end it is.
macro_rules! on_held {
    ($held:expr, $c:ident => $body:expr) => {
        match $held {
            Held::Sqlite($c) => $body,
            Held::Postgres($c) => $body,
        }
    };
}

/// The database type of a connection, for inference.
fn backend<DB: sqlx::Database>(_conn: &PoolConnection<DB>) -> PhantomData<DB> {
    PhantomData
}

/// A query builder for the back end `_db` (pins the database type for inference).
fn builder<DB: sqlx::Database>(_db: PhantomData<DB>, sql: &str) -> sqlx::QueryBuilder<DB>
where
    DB::Arguments: Default,
{
    sqlx::QueryBuilder::new(sql)
}

/// A message row as the repeat check needs it.
struct StoredMessage {
    routing_header: Vec<u8>,
    logged: Logged,
}

/// One `messages` row to write.
struct MessageInsert<'a> {
    job: &'a Job,
    blob_id: i64,
    logged: &'a Logged,
}

/// The whole transaction for one batch. Returns each job's result and the agencies to wake.
///
/// Round trips are per batch, not per job: the repeats of the whole batch are read with a few
/// `IN (…)` queries, and every table is written with multi-row statements.
async fn commit_batch(
    held: &mut Held,
    log_key: &PrivateKey,
    log_cert: &VerifiedCert,
    jobs: &[Job],
) -> Result<(Vec<Result<Logged>>, Vec<String>)> {
    let now = OffsetDateTime::now_utc();
    let logged_at = now
        .replace_nanosecond(0)
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let is_pg = matches!(held, Held::Postgres(_));
    let exact = !is_pg;

    // What step 2 asks the database about, collected first.
    let mut accept_ids: Vec<&[u8]> = Vec::new();
    let mut statement_hashes: Vec<[u8; 32]> = Vec::new();
    let mut chain_ids: Vec<&[u8]> = Vec::new();
    for job in jobs {
        match job {
            Job::Accept { submission, .. } => {
                accept_ids.push(submission.header().message_id.as_bytes())
            }
            Job::Statement { receipt, .. } => {
                statement_hashes.push(receipt.hash());
                chain_ids.push(receipt.receipt().message_id.as_bytes());
            }
            Job::Revocation(_) => {}
        }
    }
    accept_ids.sort_unstable();
    accept_ids.dedup();
    chain_ids.sort_unstable();
    chain_ids.dedup();

    on_held!(held, c => {
        let p = backend(c);
        let t0 = std::time::Instant::now();
        let mut tx = sqlx::Connection::begin(&mut **c).await?;
        // Step 1: the log lock (the UPDATE), and the tree's state in the same statement.
        let frontier_bytes: Vec<u8> = sqlx::query_scalar(
            "UPDATE log_state SET tree_size = tree_size WHERE id = 1 RETURNING frontier",
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut frontier = Frontier::from_bytes(&frontier_bytes)
            .map_err(|e| ServerError::Internal(format!("stored frontier: {e}")))?;

        // Step 2a: everything of this batch already in the database, in a few queries.
        let mut stored_messages: HashMap<Vec<u8>, StoredMessage> = HashMap::new();
        for r in read_chunks(accept_ids.len()) {
            let mut q = builder(
                p,
                "SELECT message_id, routing_header, entry, proof, leaf_index, accepted_at \
                 FROM messages WHERE message_id IN (",
            );
            let mut list = q.separated(", ");
            for id in padded(&accept_ids[r], exact) {
                list.push_bind(id.to_vec());
            }
            q.push(")");
            for row in q.build().persistent(!exact).fetch_all(&mut *tx).await? {
                stored_messages.insert(
                    row.try_get("message_id")?,
                    StoredMessage {
                        routing_header: row.try_get("routing_header")?,
                        logged: Logged {
                            entry: row.try_get("entry")?,
                            proof: row.try_get("proof")?,
                            leaf_index: u64_of(row.try_get("leaf_index")?),
                            logged_at: crate::store::from_millis(row.try_get("accepted_at")?),
                            duplicate: true,
                        },
                    },
                );
            }
        }
        let mut stored_statements: HashMap<Vec<u8>, Logged> = HashMap::new();
        for r in read_chunks(statement_hashes.len()) {
            let mut q = builder(
                p,
                "SELECT hash, entry, proof, leaf_index, logged_at FROM statements WHERE hash IN (",
            );
            let mut list = q.separated(", ");
            for h in padded(&statement_hashes[r], exact) {
                list.push_bind(h.to_vec());
            }
            q.push(")");
            for row in q.build().persistent(!exact).fetch_all(&mut *tx).await? {
                stored_statements.insert(
                    row.try_get("hash")?,
                    Logged {
                        entry: row.try_get("entry")?,
                        proof: row.try_get("proof")?,
                        leaf_index: u64_of(row.try_get("leaf_index")?),
                        logged_at: crate::store::from_millis(row.try_get("logged_at")?),
                        duplicate: true,
                    },
                );
            }
        }
        let mut chain_len: HashMap<(Vec<u8>, String), i64> = HashMap::new();
        for r in read_chunks(chain_ids.len()) {
            let mut q = builder(
                p,
                "SELECT message_id, recipient, COUNT(*) AS n FROM statements WHERE message_id IN (",
            );
            let mut list = q.separated(", ");
            for id in padded(&chain_ids[r], exact) {
                list.push_bind(id.to_vec());
            }
            q.push(") GROUP BY message_id, recipient");
            for row in q.build().persistent(!exact).fetch_all(&mut *tx).await? {
                chain_len.insert(
                    (row.try_get("message_id")?, row.try_get("recipient")?),
                    row.try_get("n")?,
                );
            }
        }

        let read = t0.elapsed();
        // Step 2b: repeats and conflicts, job by job, against the database and the batch.
        let mut plans = Vec::with_capacity(jobs.len());
        let mut leaves: Vec<NewLeaf> = Vec::new();
        let mut seen_messages: HashMap<&[u8], usize> = HashMap::new();
        let mut seen_hashes: HashMap<[u8; 32], usize> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            let plan = match job {
                Job::Accept { submission, .. } => {
                    let id = submission.header().message_id.as_bytes();
                    let header = submission.header_bytes().as_bytes();
                    let conflict = || {
                        Plan::Refused(ServerError::MessageIdConflict(
                            submission.header().message_id.to_string(),
                        ))
                    };
                    if let Some(&j) = seen_messages.get(&id[..]) {
                        match &jobs[j] {
                            Job::Accept { submission: first, .. }
                                if first.header_bytes().as_bytes() == header =>
                            {
                                Plan::SameAs(j)
                            }
                            _ => conflict(),
                        }
                    } else if let Some(m) = stored_messages.get(&id[..]) {
                        if m.routing_header == header {
                            Plan::Repeat(m.logged.clone())
                        } else {
                            conflict()
                        }
                    } else {
                        seen_messages.insert(id, i);
                        let entry = LogEntry::acceptance(submission, logged_at)
                            .encode()
                            .map_err(|e| ServerError::Internal(e.to_string()))?;
                        leaves.push(NewLeaf { job: i, entry: entry.as_bytes().to_vec() });
                        Plan::New(leaves.len() - 1)
                    }
                }
                Job::Statement { recipient, position, receipt, .. } => {
                    let hash = receipt.hash();
                    if let Some(&j) = seen_hashes.get(&hash) {
                        Plan::SameAs(j)
                    } else if let Some(l) = stored_statements.get(&hash[..]) {
                        Plan::Repeat(l.clone())
                    } else {
                        let id = receipt.receipt().message_id.as_bytes().to_vec();
                        let current = chain_len.entry((id, recipient.clone())).or_insert(0);
                        if *current != *position {
                            Plan::Refused(ServerError::ChainConflict)
                        } else {
                            *current += 1;
                            seen_hashes.insert(hash, i);
                            let entry = LogEntry::statement(receipt, logged_at)
                                .encode()
                                .map_err(|e| ServerError::Internal(e.to_string()))?;
                            leaves.push(NewLeaf { job: i, entry: entry.as_bytes().to_vec() });
                            Plan::New(leaves.len() - 1)
                        }
                    }
                }
                Job::Revocation(r) => {
                    let entry = LogEntry::revocation((**r).clone(), logged_at)
                        .encode()
                        .map_err(|e| ServerError::Internal(e.to_string()))?;
                    leaves.push(NewLeaf { job: i, entry: entry.as_bytes().to_vec() });
                    Plan::New(leaves.len() - 1)
                }
            };
            plans.push(plan);
        }

        // Step 3: append, sign one tree head, prove every new leaf.
        let mut logged: Vec<Logged> = Vec::with_capacity(leaves.len());
        let mut wake = Vec::new();
        let mut signed = read;
        if !leaves.is_empty() {
            let first_index = frontier.size();
            let hashes: Vec<Hash> = leaves.iter().map(|l| axis_log::leaf_hash(&l.entry)).collect();
            let appended = frontier
                .append_batch(&hashes)
                .map_err(|e| ServerError::Internal(format!("log append: {e}")))?;
            let signer = Signer::new(log_key, log_cert)
                .map_err(|e| ServerError::Internal(format!("log signer: {e}")))?;
            let head = TreeHead {
                tree_size: appended.tree_size,
                root_hash: appended.root,
                timestamp: logged_at,
            }
            .sign(&signer)
            .map_err(|e| ServerError::Internal(format!("signing the tree head: {e}")))?;
            for (n, (leaf, path)) in leaves.iter().zip(appended.proofs).enumerate() {
                let proof = LogProof {
                    tree_head: head.clone(),
                    leaf_index: first_index + n as u64,
                    path,
                };
                logged.push(Logged {
                    entry: leaf.entry.clone(),
                    proof: proof.encode(),
                    leaf_index: first_index + n as u64,
                    logged_at,
                    duplicate: false,
                });
            }

            signed = t0.elapsed();
            // Step 4: write everything, a table at a time, in multi-row statements. SQLite takes
            // them all in one call (`;`-separated; its anonymous parameters are bound in order
            // across the statements): one round trip to its worker thread for the whole step.
            // PostgreSQL takes one statement per call.
            let at = millis(logged_at);
            let mut combined = builder(p, "");
            let mut in_combined = 0usize;
            macro_rules! statement {
                ($q:ident => $fill:block) => {{
                    let mut own = builder(p, "");
                    let $q = if exact {
                        if in_combined > 0 {
                            combined.push("; ");
                        }
                        in_combined += 1;
                        &mut combined
                    } else {
                        &mut own
                    };
                    $fill
                    if !exact {
                        own.build().execute(&mut *tx).await?;
                    }
                }};
            }
            for r in row_chunks(leaves.len(), exact) {
                statement!(q => {
                    q.push("INSERT INTO log_leaves (leaf_index, leaf_hash, entry) ");
                    let rows: Vec<_> = logged[r.clone()].iter().zip(&hashes[r]).collect();
                    q.push_values(&rows, |mut b, (l, hash)| {
                        b.push_bind(i64_of(l.leaf_index))
                            .push_bind(hash.to_vec())
                            .push_bind(l.entry.clone());
                    });
                });
            }
            let mut inline: Vec<(i64, &[u8])> = Vec::new();
            let mut staged: Vec<i64> = Vec::new();
            let mut messages: Vec<MessageInsert<'_>> = Vec::new();
            let mut deliveries: Vec<(&[u8], &str, i64)> = Vec::new();
            let mut statements: Vec<(&Job, &Logged)> = Vec::new();
            let mut new_states: Vec<(i64, &[u8], &str)> = Vec::new();
            for (leaf, l) in leaves.iter().zip(&logged) {
                let job = &jobs[leaf.job];
                match job {
                    Job::Accept { submission, ciphertext, .. } => {
                        let h = submission.header();
                        let blob_id = match ciphertext {
                            Ciphertext::Inline(data) => {
                                let blob_id = crate::store::random_blob_id()?;
                                inline.push((blob_id, data));
                                blob_id
                            }
                            Ciphertext::Staged { blob_id } => {
                                staged.push(*blob_id);
                                *blob_id
                            }
                        };
                        messages.push(MessageInsert { job, blob_id, logged: l });
                        for r in &h.recipients {
                            deliveries.push((
                                h.message_id.as_bytes(),
                                r.as_str(),
                                i64_of(l.leaf_index),
                            ));
                            wake.push(r.as_str().to_owned());
                        }
                    }
                    Job::Statement { recipient, receipt, new_state, .. } => {
                        statements.push((job, l));
                        if let Some(s) = new_state {
                            new_states.push((
                                *s,
                                receipt.receipt().message_id.as_bytes(),
                                recipient.as_str(),
                            ));
                        }
                    }
                    // A revocation is its leaf alone.
                    Job::Revocation(_) => {}
                }
            }
            for r in row_chunks(inline.len(), exact) {
                statement!(q => {
                    q.push("INSERT INTO segments (blob_id, seq, data) ");
                    q.push_values(&inline[r], |mut b, (blob_id, data)| {
                        b.push_bind(*blob_id).push_bind(0_i64).push_bind(data.to_vec());
                    });
                });
            }
            for r in row_chunks(staged.len(), exact) {
                statement!(q => {
                    q.push("DELETE FROM uploads WHERE blob_id IN (");
                    let mut list = q.separated(", ");
                    for blob_id in &staged[r] {
                        list.push_bind(*blob_id);
                    }
                    q.push(")");
                });
            }
            for r in row_chunks(messages.len(), exact) {
                statement!(q => {
                    q.push("INSERT INTO messages (message_id, sender, routing_header, \
                         submission_signature, key_envelope, ciphertext_len, blob_id, \
                         accepted_at, leaf_index, entry, proof) ");
                    q.push_values(&messages[r], |mut b, m| {
                        if let Job::Accept { submission, key_envelope, .. } = m.job {
                            let h = submission.header();
                            b.push_bind(h.message_id.as_bytes().to_vec())
                                .push_bind(h.sender.as_str().to_owned())
                                .push_bind(submission.header_bytes().as_bytes().to_vec())
                                .push_bind(submission.submission().signature().to_vec())
                                .push_bind(key_envelope.clone())
                                .push_bind(i64_of(h.ciphertext_len))
                                .push_bind(m.blob_id)
                                .push_bind(at)
                                .push_bind(i64_of(m.logged.leaf_index))
                                .push_bind(m.logged.entry.clone())
                                .push_bind(m.logged.proof.clone());
                        }
                    });
                });
            }
            for r in row_chunks(deliveries.len(), exact) {
                statement!(q => {
                    q.push("INSERT INTO deliveries (message_id, recipient, seq, state) ");
                    q.push_values(&deliveries[r], |mut b, (id, recipient, seq)| {
                        b.push_bind(id.to_vec())
                            .push_bind(recipient.to_string())
                            .push_bind(*seq)
                            .push_bind(state::QUEUED);
                    });
                });
            }
            for r in row_chunks(statements.len(), exact) {
                statement!(q => {
                    q.push("INSERT INTO statements (message_id, recipient, position, status, \
                         statement, signature, hash, logged_at, leaf_index, entry, proof) ");
                    q.push_values(&statements[r], |mut b, (job, l)| {
                        if let Job::Statement { recipient, position, receipt, .. } = job {
                            let r = receipt.receipt();
                            b.push_bind(r.message_id.as_bytes().to_vec())
                                .push_bind(recipient.clone())
                                .push_bind(*position)
                                .push_bind(i64::from(r.status.code()))
                                .push_bind(receipt.signed().receipt().as_bytes().to_vec())
                                .push_bind(receipt.signed().signature().to_vec())
                                .push_bind(receipt.hash().to_vec())
                                .push_bind(at)
                                .push_bind(i64_of(l.leaf_index))
                                .push_bind(l.entry.clone())
                                .push_bind(l.proof.clone());
                        }
                    });
                });
            }
            for r in row_chunks(new_states.len(), exact) {
                // VALUES columns are named column1, column2, … on both back ends.
                statement!(q => {
                    q.push("UPDATE deliveries SET state = v.column1 FROM (");
                    q.push_values(&new_states[r], |mut b, (s, id, recipient)| {
                        b.push_bind(*s).push_bind(id.to_vec()).push_bind(recipient.to_string());
                    });
                    q.push(
                        ") AS v WHERE deliveries.message_id = v.column2 \
                         AND deliveries.recipient = v.column3",
                    );
                });
            }
            for (id, hash) in appended.completed {
                if id.level % NODE_STRIDE == 0 {
                    statement!(q => {
                        q.push("INSERT INTO log_nodes (level, node_index, hash) VALUES (");
                        q.separated(", ")
                            .push_bind(i64::from(id.level))
                            .push_bind(i64_of(id.index))
                            .push_bind(hash.to_vec());
                        q.push(") ON CONFLICT DO NOTHING");
                    });
                }
            }
            statement!(q => {
                q.push(
                    "INSERT INTO tree_heads (tree_size, tree_head, signature, signed_at) VALUES (",
                );
                q.separated(", ")
                    .push_bind(i64_of(appended.tree_size))
                    .push_bind(head.as_bytes().to_vec())
                    .push_bind(head.signature().to_vec())
                    .push_bind(millis(now));
                q.push(")");
            });
            statement!(q => {
                q.push("UPDATE log_state SET tree_size = ");
                q.push_bind(i64_of(frontier.size()));
                q.push(", frontier = ");
                q.push_bind(frontier.to_bytes());
                q.push(" WHERE id = 1");
            });
            if in_combined > 0 {
                combined.build().persistent(false).execute(&mut *tx).await?;
            }
            wake.sort();
            wake.dedup();
            if is_pg {
                for r in row_chunks(wake.len(), false) {
                    let mut q = builder(p, "SELECT pg_notify(");
                    q.push_bind(crate::notify::INBOX_CHANNEL);
                    q.push(", v.column1) FROM (");
                    q.push_values(&wake[r], |mut b, agency| {
                        b.push_bind(agency.clone());
                    });
                    q.push(") AS v");
                    q.build().execute(&mut *tx).await?;
                }
            }
        }
        // Step 5.
        let written = t0.elapsed();
        tx.commit().await?;
        let committed = t0.elapsed();
        tracing::debug!(
            jobs = jobs.len(),
            leaves = leaves.len(),
            read_us = read.as_micros() as u64,
            sign_us = (signed - read).as_micros() as u64,
            write_us = (written - signed).as_micros() as u64,
            commit_us = (committed - written).as_micros() as u64,
            "batch committed"
        );

        let new_of: Vec<Option<usize>> = plans
            .iter()
            .map(|p| if let Plan::New(n) = p { Some(*n) } else { None })
            .collect();
        let mut results: Vec<Result<Logged>> = Vec::with_capacity(jobs.len());
        for plan in plans {
            results.push(match plan {
                Plan::New(n) => Ok(logged[n].clone()),
                Plan::Repeat(l) => Ok(l),
                Plan::Refused(e) => Err(e),
                Plan::SameAs(j) => match new_of[j] {
                    Some(n) => Ok(Logged { duplicate: true, ..logged[n].clone() }),
                    None => Err(ServerError::Internal("batch bookkeeping".into())),
                },
            });
        }
        Ok((results, wake))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(n: usize, exact: bool, expected: &[usize]) {
        let lens: Vec<usize> = row_chunks(n, exact).map(|r| r.len()).collect();
        assert_eq!(lens, expected);
        let covered: Vec<usize> = row_chunks(n, exact).flatten().collect();
        assert_eq!(covered, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn row_chunks_cover_every_row_once() {
        check(0, false, &[]);
        check(1, false, &[1]);
        check(48, false, &[32, 16]);
        check(64, false, &[64]);
        check(139, false, &[64, 64, 8, 2, 1]);
        check(0, true, &[]);
        check(48, true, &[48]);
        check(1100, true, &[512, 512, 76]);
    }

    #[test]
    fn in_lists_pad_with_the_last_value() {
        let v = [1, 2, 3, 4, 5];
        assert_eq!(
            padded(&v, true).copied().collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(
            padded(&v, false).copied().collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 5, 5, 5]
        );
        assert_eq!(padded(&v[..4], false).count(), 4);
        assert_eq!(padded::<u8>(&[], false).count(), 0);
        let chunks: Vec<_> = read_chunks(1030).collect();
        assert_eq!(chunks, [0..512, 512..1024, 1024..1030]);
    }
}
