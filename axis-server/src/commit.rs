//! The committer: the one path that appends to the log. Group commit with one signature per
//! batch.
//!
//! Handlers verify everything first (signatures, chains, digests), then hand a [`Job`] to this
//! node's committer task and wait. The committer takes every job that is waiting (up to
//! [`MAX_BATCH`]) and, in **one database transaction**:
//!
//! 1. takes the log lock (an `UPDATE` of the single `log_state` row: SQLite's write lock, a row
//!    lock in PostgreSQL that serializes the committers of every node) and reads the tree size
//!    and frontier;
//! 2. sorts out repeats (a message id or a receipt already logged gets the evidence it got the
//!    first time; a message id reused for other content, or a status racing another for the
//!    same chain, fails);
//! 3. appends one leaf per new acceptance or statement, computes the new root and every new
//!    leaf's inclusion path from the frontier alone, and signs **one tree head** for the batch
//!    with the log signer;
//! 4. writes messages, deliveries, ciphertext (small documents inline; large ones were staged
//!    and are adopted here), statements, leaves, nodes at levels 8, 16, …, the tree head and
//!    the new frontier, plus a `pg_notify` per recipient on PostgreSQL;
//! 5. commits — and only then answers every job (durable before acknowledged) and wakes local
//!    subscribers.
//!
//! No delay is added to form a batch: while one commit is in flight the next jobs queue up, so
//! batches grow with load (one fsync and one signature per batch) and stay at one job when the
//! axis is idle.

use std::collections::HashMap;
use std::sync::Arc;

use axis_log::{Frontier, Hash};
use axis_pki::{PrivateKey, VerifiedCert};
use axis_signer::{LogEntry, LogProof, Signer, TreeHead, VerifiedReceipt, VerifiedSubmission};
use sqlx::Row;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Result, ServerError};
use crate::notify::Notifier;
use crate::store::{Db, millis, on_pool, state};

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
        match commit_batch(&db, &log_key, &log_cert, &jobs).await {
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

/// The whole transaction for one batch. Returns each job's result and the agencies to wake.
async fn commit_batch(
    db: &Db,
    log_key: &PrivateKey,
    log_cert: &VerifiedCert,
    jobs: &[Job],
) -> Result<(Vec<Result<Logged>>, Vec<String>)> {
    let now = OffsetDateTime::now_utc();
    let logged_at = now
        .replace_nanosecond(0)
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let is_pg = db.is_postgres();
    on_pool!(db, p => {
        let mut tx = p.begin().await?;
        // Step 1: the log lock, then the tree's state.
        sqlx::query("UPDATE log_state SET tree_size = tree_size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT tree_size, frontier FROM log_state WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let frontier_bytes: Vec<u8> = row.try_get("frontier")?;
        let mut frontier = Frontier::from_bytes(&frontier_bytes)
            .map_err(|e| ServerError::Internal(format!("stored frontier: {e}")))?;

        // Step 2: repeats and conflicts.
        let mut plans = Vec::with_capacity(jobs.len());
        let mut leaves: Vec<NewLeaf> = Vec::new();
        let mut seen_messages: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut seen_hashes: HashMap<[u8; 32], usize> = HashMap::new();
        let mut chain_len: HashMap<(Vec<u8>, String), i64> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            let plan = match job {
                Job::Accept { submission, .. } => {
                    let id = submission.header().message_id.as_bytes().to_vec();
                    let header = submission.header_bytes().as_bytes();
                    if let Some(&j) = seen_messages.get(&id) {
                        match &jobs[j] {
                            Job::Accept { submission: first, .. }
                                if first.header_bytes().as_bytes() == header =>
                            {
                                Plan::SameAs(j)
                            }
                            _ => Plan::Refused(ServerError::MessageIdConflict(
                                submission.header().message_id.to_string(),
                            )),
                        }
                    } else {
                        let existing = sqlx::query(
                            "SELECT routing_header, entry, proof, leaf_index, accepted_at \
                             FROM messages WHERE message_id = $1",
                        )
                        .bind(&id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        match existing {
                            Some(r) => {
                                let stored: Vec<u8> = r.try_get("routing_header")?;
                                if stored == header {
                                    Plan::Repeat(Logged {
                                        entry: r.try_get("entry")?,
                                        proof: r.try_get("proof")?,
                                        leaf_index: u64_of(r.try_get("leaf_index")?),
                                        logged_at: crate::store::from_millis(
                                            r.try_get("accepted_at")?,
                                        ),
                                        duplicate: true,
                                    })
                                } else {
                                    Plan::Refused(ServerError::MessageIdConflict(
                                        submission.header().message_id.to_string(),
                                    ))
                                }
                            }
                            None => {
                                seen_messages.insert(id, i);
                                let entry = LogEntry::acceptance(submission, logged_at)
                                    .encode()
                                    .map_err(|e| ServerError::Internal(e.to_string()))?;
                                leaves.push(NewLeaf { job: i, entry: entry.as_bytes().to_vec() });
                                Plan::New(leaves.len() - 1)
                            }
                        }
                    }
                }
                Job::Statement { recipient, position, receipt, .. } => {
                    let hash = receipt.hash();
                    let id = receipt.receipt().message_id.as_bytes().to_vec();
                    if let Some(&j) = seen_hashes.get(&hash) {
                        Plan::SameAs(j)
                    } else {
                        let existing = sqlx::query(
                            "SELECT entry, proof, leaf_index, logged_at FROM statements \
                             WHERE hash = $1",
                        )
                        .bind(&hash[..])
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some(r) = existing {
                            Plan::Repeat(Logged {
                                entry: r.try_get("entry")?,
                                proof: r.try_get("proof")?,
                                leaf_index: u64_of(r.try_get("leaf_index")?),
                                logged_at: crate::store::from_millis(r.try_get("logged_at")?),
                                duplicate: true,
                            })
                        } else {
                            let key = (id.clone(), recipient.clone());
                            let current = match chain_len.get(&key) {
                                Some(n) => *n,
                                None => {
                                    sqlx::query_scalar::<_, i64>(
                                        "SELECT COUNT(*) FROM statements \
                                         WHERE message_id = $1 AND recipient = $2",
                                    )
                                    .bind(&id)
                                    .bind(recipient)
                                    .fetch_one(&mut *tx)
                                    .await?
                                }
                            };
                            if current != *position {
                                Plan::Refused(ServerError::ChainConflict)
                            } else {
                                chain_len.insert(key, current + 1);
                                seen_hashes.insert(hash, i);
                                let entry = LogEntry::statement(receipt, logged_at)
                                    .encode()
                                    .map_err(|e| ServerError::Internal(e.to_string()))?;
                                leaves.push(NewLeaf { job: i, entry: entry.as_bytes().to_vec() });
                                Plan::New(leaves.len() - 1)
                            }
                        }
                    }
                }
            };
            plans.push(plan);
        }

        // Step 3: append, sign one tree head, prove every new leaf.
        let mut logged: Vec<Logged> = Vec::with_capacity(leaves.len());
        let mut wake = Vec::new();
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

            // Step 4: write everything.
            for (leaf, (l, hash)) in leaves.iter().zip(logged.iter().zip(&hashes)) {
                sqlx::query("INSERT INTO log_leaves (leaf_index, leaf_hash, entry) VALUES ($1, $2, $3)")
                    .bind(i64_of(l.leaf_index))
                    .bind(&hash[..])
                    .bind(&leaf.entry)
                    .execute(&mut *tx)
                    .await?;
                let at = millis(l.logged_at);
                match &jobs[leaf.job] {
                    Job::Accept { submission, key_envelope, ciphertext } => {
                        let h = submission.header();
                        let blob_id = match ciphertext {
                            Ciphertext::Inline(data) => {
                                let blob_id = crate::grpc::random_blob_id()?;
                                sqlx::query("INSERT INTO segments (blob_id, seq, data) VALUES ($1, $2, $3)")
                                    .bind(blob_id)
                                    .bind(0_i64)
                                    .bind(data)
                                    .execute(&mut *tx)
                                    .await?;
                                blob_id
                            }
                            Ciphertext::Staged { blob_id } => {
                                sqlx::query("DELETE FROM uploads WHERE blob_id = $1")
                                    .bind(*blob_id)
                                    .execute(&mut *tx)
                                    .await?;
                                *blob_id
                            }
                        };
                        sqlx::query(
                            "INSERT INTO messages (message_id, sender, routing_header, \
                             submission_signature, key_envelope, ciphertext_len, blob_id, \
                             accepted_at, leaf_index, entry, proof) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                        )
                        .bind(&h.message_id.as_bytes()[..])
                        .bind(h.sender.as_str())
                        .bind(submission.header_bytes().as_bytes())
                        .bind(submission.submission().signature())
                        .bind(key_envelope)
                        .bind(i64_of(h.ciphertext_len))
                        .bind(blob_id)
                        .bind(at)
                        .bind(i64_of(l.leaf_index))
                        .bind(&l.entry)
                        .bind(&l.proof)
                        .execute(&mut *tx)
                        .await?;
                        for r in &h.recipients {
                            sqlx::query(
                                "INSERT INTO deliveries (message_id, recipient, seq, state) \
                                 VALUES ($1, $2, $3, $4)",
                            )
                            .bind(&h.message_id.as_bytes()[..])
                            .bind(r.as_str())
                            .bind(i64_of(l.leaf_index))
                            .bind(state::QUEUED)
                            .execute(&mut *tx)
                            .await?;
                            wake.push(r.as_str().to_owned());
                        }
                    }
                    Job::Statement { recipient, position, receipt, new_state } => {
                        let r = receipt.receipt();
                        let id = &r.message_id.as_bytes()[..];
                        sqlx::query(
                            "INSERT INTO statements (message_id, recipient, position, status, \
                             statement, signature, hash, logged_at, leaf_index, entry, proof) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                        )
                        .bind(id)
                        .bind(recipient)
                        .bind(*position)
                        .bind(i64::from(r.status.code()))
                        .bind(receipt.signed().receipt().as_bytes())
                        .bind(receipt.signed().signature())
                        .bind(&receipt.hash()[..])
                        .bind(at)
                        .bind(i64_of(l.leaf_index))
                        .bind(&l.entry)
                        .bind(&l.proof)
                        .execute(&mut *tx)
                        .await?;
                        if let Some(s) = new_state {
                            sqlx::query(
                                "UPDATE deliveries SET state = $1 WHERE message_id = $2 \
                                 AND recipient = $3",
                            )
                            .bind(*s)
                            .bind(id)
                            .bind(recipient)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                }
            }
            for (id, hash) in appended.completed {
                if id.level % NODE_STRIDE == 0 {
                    sqlx::query(
                        "INSERT INTO log_nodes (level, node_index, hash) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(i64::from(id.level))
                    .bind(i64_of(id.index))
                    .bind(&hash[..])
                    .execute(&mut *tx)
                    .await?;
                }
            }
            sqlx::query(
                "INSERT INTO tree_heads (tree_size, tree_head, signature, signed_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(i64_of(appended.tree_size))
            .bind(head.as_bytes())
            .bind(head.signature())
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE log_state SET tree_size = $1, frontier = $2 WHERE id = 1")
                .bind(i64_of(frontier.size()))
                .bind(frontier.to_bytes())
                .execute(&mut *tx)
                .await?;
            if is_pg {
                wake.sort();
                wake.dedup();
                for agency in &wake {
                    sqlx::query("SELECT pg_notify('axis_inbox', $1)")
                        .bind(agency)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        // Step 5.
        tx.commit().await?;

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
