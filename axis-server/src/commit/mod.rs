//! The committer: the one path that appends to the log. Group commit with one signature per
//! batch.
//!
//! Jobs are acceptances, statements (receipts and statuses) and revocations (from a published
//! CRL). Handlers verify everything first (signatures, chains, digests), then hand a [`Job`] to this
//! node's committer task and wait. The committer takes every job that is waiting (up to
//! [`MAX_BATCH`]) and:
//!
//! 1. reads the log state (tree size and frontier);
//! 2. sorts out repeats (a message id or a receipt already logged gets the evidence it got the
//!    first time; a message id reused for other content, or a status racing another for the
//!    same chain, fails), reading what the whole batch needs in a few queries and then
//!    deciding without I/O (`plan.rs`, where each rule has its tests);
//! 3. appends one leaf per new acceptance or statement, computes the new root and every new
//!    leaf's inclusion path from the frontier alone, and signs **one tree head** for the batch
//!    with the log signer ([`Batch`]);
//! 4. writes messages, deliveries, ciphertext (small documents inline; large ones were staged
//!    and are adopted here), statements, leaves, nodes at levels 8, 16, …, the tree head and
//!    the new frontier, plus a `pg_notify` per recipient on PostgreSQL, so that the round trips
//!    to the database do not grow with the number of jobs (`rows.rs`: typed rows);
//! 5. once that is durable, answers every job (durable before acknowledged) and wakes local
//!    subscribers.
//!
//! How steps 1 and 4 keep two appends apart depends on the back end:
//!
//! - **SQLite** (one node owns the file): one transaction, opened by an `UPDATE` of the single
//!   `log_state` row (SQLite's write lock), every table's rows in one call, then the commit
//!   (`sqlite.rs`).
//! - **PostgreSQL** (nodes share it): optimistic. The read is one statement and takes no lock;
//!   the write is one statement, a compare-and-set on `log_state.tree_size` with every row of
//!   the batch written only if it took place. No node holds a lock across its own round trips,
//!   so a node with a slow database link cannot stall the others; a node that keeps losing the
//!   race takes a bounded turn (`postgres.rs`).
//!
//! No delay is added to form a batch: while one commit is in flight the next jobs queue up, so
//! batches grow with load (one fsync and one signature per batch) and stay at one job when the
//! axis is idle.
//!
//! A batch has the database's deadline (`[database] statement_timeout_ms`); one cut off by it
//! fails with every job already waiting behind it (the database is not answering: they would
//! wait out a deadline each), and its connection is closed. While the node is not ready
//! (`health`), jobs are refused at once, and a job waiting when it stops being ready fails then
//! (its caller no longer waits; a batch skips jobs whose caller is gone), and so does the batch
//! in flight (its connection closed, as after a deadline). [`Progress`] tells readiness whether
//! work waits while nothing commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axis_evidence::{LogEntry, LogProof, TreeHead};
use axis_log::{Frontier, Hash};
use axis_pki::{KeySigner, VerifiedCert};
use axis_signer::Signer;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{Fault, Result, ServerError};
use crate::health::Readiness;
use crate::notify::Notifier;
use crate::store::{Db, Lease, Pool};

mod job;
mod plan;
mod postgres;
mod rows;
mod sqlite;

pub use job::{Ciphertext, Job, Logged, MAX_BATCH, NODE_STRIDE};
use plan::{Key, Plan, Stored};
use rows::{Appended, Writes};

/// Jobs waiting for the committer before submitters are made to wait.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Logged>>;

/// Whether the committer keeps up: the jobs handed in and not answered yet, and the last time
/// it moved (a commit, or work arriving while it was idle).
pub struct Progress {
    pending: AtomicUsize,
    moved_ms: AtomicU64,
    epoch: Instant,
}

impl Progress {
    fn new() -> Self {
        Progress {
            pending: AtomicUsize::new(0),
            moved_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn moved(&self) {
        self.moved_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn job_in(&self) {
        if self.pending.fetch_add(1, Ordering::Relaxed) == 0 {
            // Work arrives at an idle committer: the wait starts now, not at the last commit.
            self.moved();
        }
    }

    fn job_out(&self) {
        self.pending.fetch_sub(1, Ordering::Relaxed);
    }

    /// Jobs handed in and not answered yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// How long jobs have waited with nothing committed; `None` when nothing waits.
    pub fn stalled_for(&self) -> Option<Duration> {
        if self.pending() == 0 {
            return None;
        }
        let since = self.moved_ms.load(Ordering::Relaxed);
        Some(Duration::from_millis(self.now_ms().saturating_sub(since)))
    }
}

/// Counts a job as pending while it lives (answered, refused or dropped).
struct PendingJob(Arc<Progress>);

impl PendingJob {
    fn new(progress: &Arc<Progress>) -> Self {
        progress.job_in();
        PendingJob(progress.clone())
    }
}

impl Drop for PendingJob {
    fn drop(&mut self) {
        self.0.job_out();
    }
}

/// The handle handlers submit jobs through.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<(Job, Reply)>,
    progress: Arc<Progress>,
    ready: watch::Receiver<Readiness>,
}

impl Committer {
    /// Starts the committer task; `ready` is the node's readiness (jobs are refused at once
    /// while it is not ready).
    pub fn start(
        db: Db,
        log_key: Arc<dyn KeySigner>,
        log_cert: Arc<VerifiedCert>,
        notifier: Notifier,
        ready: watch::Receiver<Readiness>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let progress = Arc::new(Progress::new());
        tokio::spawn(run(
            rx,
            db,
            log_key,
            log_cert,
            notifier,
            progress.clone(),
            ready.clone(),
        ));
        Committer {
            tx,
            progress,
            ready,
        }
    }

    /// What readiness reads.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Commits one job and waits for its evidence. Refused at once while the node is not
    /// ready, and given up (`COMMIT_FAILED`) as soon as it stops being ready while the job
    /// waits: a job caught in a batch the database does not answer fails when readiness sees
    /// the fault (about 2 s), not a whole deadline later. The batch may still commit it: a
    /// repeat of the submission (here or on another node) is then answered as the first.
    pub async fn commit(&self, job: Job) -> Result<Logged> {
        if let Readiness::NotReady(why) = &*self.ready.borrow() {
            return Err(not_ready(why));
        }
        let _pending = PendingJob::new(&self.progress);
        let (reply, answer) = oneshot::channel();
        let wait = async {
            self.tx
                .send((job, reply))
                .await
                .map_err(|_| ServerError::ShuttingDown)?;
            answer.await.map_err(|_| ServerError::ShuttingDown)?
        };
        tokio::select! {
            biased;
            r = wait => r,
            why = self.not_ready() => Err(not_ready(&why)),
        }
    }

    /// Returns (with the cause) once the node is not ready; never while it stays ready.
    pub async fn not_ready(&self) -> String {
        wait_not_ready(&mut self.ready.clone()).await
    }
}

/// Returns (with the cause) once `ready` says not ready; never while it stays ready, nor once
/// its sender is gone (the node is stopping).
async fn wait_not_ready(ready: &mut watch::Receiver<Readiness>) -> String {
    let why = match ready.wait_for(|r| !r.is_ready()).await {
        Ok(r) => match &*r {
            Readiness::NotReady(why) => Some(why.clone()),
            Readiness::Ready => Some(String::new()),
        },
        Err(_) => None,
    };
    match why {
        Some(why) => why,
        None => std::future::pending().await,
    }
}

/// The refusal of a commit while the node is not ready.
pub fn not_ready(why: &str) -> ServerError {
    ServerError::CommitFailed(format!(
        "this node is not ready ({why}); retry on another node"
    ))
}

/// The committer's own connection. Handlers' reads share the pool; were the committer to
/// queue behind them for a connection at every batch (up to a hundred submissions in flight,
/// each reading twice), every batch would wait on reads. It keeps its connection while jobs
/// keep coming and gives it back when idle. A batch cut off by its deadline leaves the
/// connection in the middle of a statement: it is closed, never used again ([`Lease`]).
enum Held {
    Sqlite(Lease<sqlx::Sqlite>),
    Postgres(Lease<sqlx::Postgres>),
}

impl Held {
    /// A connection from the pool (within the pool's acquire timeout).
    async fn acquire(db: &Db) -> Result<Held> {
        Ok(match db.pool() {
            Pool::Sqlite(p) => Held::Sqlite(Lease::acquire(p).await?),
            Pool::Postgres(p) => Held::Postgres(Lease::acquire(p).await?),
        })
    }

    /// The batch ended (committed or failed with an answer): the connection may be kept or
    /// given back.
    fn finished(&mut self) {
        match self {
            Held::Sqlite(c) => c.finished(),
            Held::Postgres(c) => c.finished(),
        }
    }
}

/// The log's signing key and certificate.
struct LogSigner<'a> {
    key: &'a dyn KeySigner,
    cert: &'a VerifiedCert,
}

/// What a committed batch gives: each job's result, and the agencies to wake.
struct Committed {
    results: Vec<Result<Logged>>,
    wake: Vec<String>,
}

async fn run(
    mut rx: mpsc::Receiver<(Job, Reply)>,
    db: Db,
    log_key: Arc<dyn KeySigner>,
    log_cert: Arc<VerifiedCert>,
    notifier: Notifier,
    progress: Arc<Progress>,
    mut ready: watch::Receiver<Readiness>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut held: Option<Held> = None;
    // This committer's name in the shared log state while it holds the turn (PostgreSQL).
    let me = match postgres::Appender::new(db.deadline()) {
        Ok(me) => me,
        Err(e) => {
            tracing::error!(error = %e, "the committer cannot start");
            return;
        }
    };
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A job whose caller gave up (the client went, or the node stopped being ready while
        // it waited) is not committed: nobody is told about it, and a repeat is a new job.
        batch.retain(|(_, reply)| !reply.is_closed());
        if batch.is_empty() {
            // An idle committer holds no connection (the pool could not close).
            if rx.is_empty() {
                held = None;
            }
            continue;
        }
        let (jobs, replies): (Vec<Job>, Vec<Reply>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        let deadline = db.deadline();
        let signer = LogSigner {
            key: log_key.as_ref(),
            cert: &log_cert,
        };
        let batch_done = tokio::time::timeout(deadline, async {
            let mut conn = match held.take() {
                Some(conn) => conn,
                None => Held::acquire(&db).await?,
            };
            let r = match &mut conn {
                Held::Sqlite(c) => sqlite::commit(c, &signer, &jobs).await,
                Held::Postgres(c) => me.commit(c, &signer, &jobs).await,
            };
            conn.finished();
            // Kept while more jobs wait and the connection works; otherwise back to the pool
            // (an idle committer holds nothing, so the pool can close).
            if r.is_ok() && !rx.is_empty() {
                held = Some(conn);
            }
            r
        });
        // A batch the database does not answer is given up at its deadline, or as soon as the
        // node stops being ready (its callers have stopped waiting by then): its connection is
        // closed, as after a deadline.
        let outcome = tokio::select! {
            biased;
            r = batch_done => r
                .map_err(|_| crate::store::deadline_passed("a commit batch", deadline)),
            why = wait_not_ready(&mut ready) => Err(not_ready(&why)),
        };
        let timed_out = outcome.is_err();
        let outcome = outcome.unwrap_or_else(Err);
        match outcome {
            Ok(Committed { results, wake }) => {
                progress.moved();
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
                // The jobs already waiting would each wait out the deadline again: when the
                // database does not answer at all, they fail with this batch.
                let mut failed = replies;
                if timed_out {
                    while let Ok((_, reply)) = rx.try_recv() {
                        failed.push(reply);
                    }
                }
                tracing::error!(
                    error = %e,
                    jobs = jobs.len(),
                    failed = failed.len(),
                    "commit failed"
                );
                // The client learns that the commit failed, not the axis's internals.
                let msg = e.public_message();
                for reply in failed {
                    let _ = reply.send(Err(ServerError::CommitFailed(msg.clone())));
                }
            }
        }
    }
}

impl Job {
    /// The log entry this job appends, logged at `logged_at`.
    fn entry(&self, logged_at: OffsetDateTime) -> Result<Vec<u8>> {
        let entry = match self {
            Job::Accept { submission, .. } => LogEntry::acceptance(submission, logged_at),
            Job::Statement { receipt, .. } => LogEntry::statement(receipt, logged_at),
            Job::Revocation(r) => LogEntry::revocation((**r).clone(), logged_at),
        };
        let bytes = entry
            .encode()
            .map_err(|e| Fault::EncodeEntry(e.to_string()))?;
        Ok(bytes.as_bytes().to_vec())
    }
}

/// Steps 2 and 3 of one batch, decided against one reading of the log state and of what is
/// stored: the plan, and the new leaves appended to `frontier` and signed (one tree head).
/// Reads the clock: a batch planned again after a lost race gets the time of its new attempt.
struct Batch {
    plan: Plan,
    appended: Option<Appended>,
    frontier: Frontier,
    now: OffsetDateTime,
}

impl Batch {
    fn prepare(
        jobs: &[Job],
        keys: &[Key<'_>],
        stored: &Stored,
        mut frontier: Frontier,
        signer: &LogSigner<'_>,
    ) -> Result<Batch> {
        let now = OffsetDateTime::now_utc();
        let logged_at = now
            .replace_nanosecond(0)
            .map_err(|_| ServerError::invariant("zero nanoseconds is a valid time"))?;
        let plan = plan::plan(keys, stored);
        let appended = if plan.new.is_empty() {
            None
        } else {
            let entries = plan
                .new
                .iter()
                .map(|&j| {
                    jobs.get(j)
                        .ok_or(ServerError::invariant("a leaf of no job"))?
                        .entry(logged_at)
                })
                .collect::<Result<Vec<_>>>()?;
            Some(append(&mut frontier, entries, signer, logged_at)?)
        };
        Ok(Batch {
            plan,
            appended,
            frontier,
            now,
        })
    }

    /// New leaves in the batch.
    fn leaves(&self) -> usize {
        self.plan.new.len()
    }

    /// Step 4's rows; `None` when the batch appends nothing (every job a repeat or refused).
    fn writes<'a>(&'a self, jobs: &'a [Job]) -> Result<Option<Writes<'a>>> {
        self.appended
            .as_ref()
            .map(|a| {
                Writes::new(
                    jobs,
                    &self.plan.new,
                    a,
                    &self.frontier,
                    self.now,
                    crate::store::random_blob_id,
                )
            })
            .transpose()
    }

    /// Each job's answer, once the batch is committed.
    fn answers(self) -> Vec<Result<Logged>> {
        let logged = self.appended.map(|a| a.logged).unwrap_or_default();
        plan::answers(self.plan.outcomes, &logged)
    }
}

/// Step 3: appends `entries` to the frontier, computes the new root and every new leaf's
/// inclusion path from the frontier alone, and signs one tree head for the batch.
fn append(
    frontier: &mut Frontier,
    entries: Vec<Vec<u8>>,
    signer: &LogSigner<'_>,
    logged_at: OffsetDateTime,
) -> Result<Appended> {
    let first_index = frontier.size();
    let hashes: Vec<Hash> = entries.iter().map(|e| axis_log::leaf_hash(e)).collect();
    let batch = frontier
        .append_batch(&hashes)
        .map_err(|e| ServerError::log_state("frontier", e))?;
    let signer =
        Signer::new(signer.key, signer.cert).map_err(|e| Fault::SignTreeHead(e.to_string()))?;
    let head = TreeHead {
        tree_size: batch.tree_size,
        root_hash: batch.root,
        timestamp: logged_at,
    }
    .sign(&signer)
    .map_err(|e| Fault::SignTreeHead(e.to_string()))?;
    let logged = (first_index..)
        .zip(entries)
        .zip(&batch.proofs)
        .map(|((leaf_index, entry), path)| Logged {
            entry,
            proof: LogProof {
                tree_head: head.clone(),
                leaf_index,
                path: path.clone(),
            }
            .encode(),
            leaf_index,
            logged_at,
            duplicate: false,
        })
        .collect();
    Ok(Appended {
        logged,
        hashes,
        batch,
        head,
    })
}
