//! What one batch writes, as typed rows (one struct per table), built from the new leaves and
//! their jobs without I/O; `sqlite.rs` and `postgres.rs` turn them into SQL.

use axis_evidence::SignedTreeHead;
use axis_log::{AppendedBatch, Frontier, Hash};
use time::OffsetDateTime;

use crate::commit::job::{Ciphertext, Job, Logged, NODE_STRIDE};
use crate::error::{Result, ServerError};
use crate::store::{i64_of, millis, state};

/// A value as both back ends store it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Value<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Text(&'a str),
}

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// 64-bit integer.
    Int,
    /// Bytes.
    Bytes,
    /// Text.
    Text,
}

/// A row: its values in column order.
pub(super) trait Columns {
    /// Each column's type, in column order (PostgreSQL binds each column as one array).
    const KINDS: &'static [Kind];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>>;
}

/// A row of a table: the head of its `INSERT` too.
pub(super) trait Insert: Columns {
    /// `INSERT INTO table (columns) `
    const INTO: &'static str;
}

/// `log_leaves`: every leaf, with its hash (proofs are read from these).
pub(super) struct LeafRow<'a> {
    leaf_index: i64,
    leaf_hash: &'a [u8],
    entry: &'a [u8],
}

/// `segments`: a document small enough to travel in the job (one segment, number 0).
pub(super) struct SegmentRow<'a> {
    blob_id: i64,
    data: &'a [u8],
}

/// `messages`: an accepted submission.
pub(super) struct MessageRow<'a> {
    message_id: &'a [u8],
    sender: &'a str,
    routing_header: &'a [u8],
    submission_signature: &'a [u8],
    key_envelope: &'a [u8],
    ciphertext_len: i64,
    blob_id: i64,
    /// `accepted_at, leaf_index, entry, proof`
    logged: LoggedColumns<'a>,
}

/// `deliveries`: one per recipient of an accepted submission, queued; its cursor is the
/// acceptance's leaf index. It keeps the recipient's key-envelope entry, its index and its
/// audit path (concatenated hashes), which its delivery carries.
pub(super) struct DeliveryRow<'a> {
    message_id: &'a [u8],
    recipient: &'a str,
    seq: i64,
    key_entry: &'a [u8],
    key_index: i64,
    key_path: Vec<u8>,
}

/// `statements`: a logged receipt or status.
pub(super) struct StatementRow<'a> {
    message_id: &'a [u8],
    recipient: &'a str,
    position: i64,
    status: i64,
    statement: &'a [u8],
    signature: &'a [u8],
    hash: [u8; 32],
    /// `logged_at, leaf_index, entry, proof`
    logged: LoggedColumns<'a>,
}

/// The last four columns of `messages` and `statements`: when, where and how it was logged.
#[derive(Clone, Copy)]
pub(super) struct LoggedColumns<'a> {
    at: i64,
    leaf_index: i64,
    entry: &'a [u8],
    proof: &'a [u8],
}

impl<'a> LoggedColumns<'a> {
    /// The four values, after `first`.
    fn after<const N: usize>(self, first: [Value<'a>; N]) -> impl Iterator<Item = Value<'a>> {
        use Value::*;
        let logged = [
            Int(self.at),
            Int(self.leaf_index),
            Bytes(self.entry),
            Bytes(self.proof),
        ];
        first.into_iter().chain(logged)
    }
}

/// A delivery's new state (`UPDATE … FROM (VALUES …)`).
pub(super) struct StateRow<'a> {
    state: i64,
    message_id: &'a [u8],
    recipient: &'a str,
}

/// `log_nodes`: a complete node at a level that is a multiple of `NODE_STRIDE`.
pub(super) struct NodeRow {
    level: i64,
    node_index: i64,
    hash: Hash,
}

/// `tree_heads`: the batch's signed tree head.
pub(super) struct TreeHeadRow<'a> {
    tree_size: i64,
    tree_head: &'a [u8],
    signature: &'a [u8],
    signed_at: i64,
}

/// `log_state`: the new size and frontier.
pub(super) struct LogStateRow {
    pub(super) tree_size: i64,
    pub(super) frontier: Vec<u8>,
}

impl Columns for LeafRow<'_> {
    const KINDS: &'static [Kind] = &[Kind::Int, Kind::Bytes, Kind::Bytes];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        [
            Int(self.leaf_index),
            Bytes(self.leaf_hash),
            Bytes(self.entry),
        ]
    }
}
impl Insert for LeafRow<'_> {
    const INTO: &'static str = "INSERT INTO log_leaves (leaf_index, leaf_hash, entry) ";
}

impl Columns for SegmentRow<'_> {
    const KINDS: &'static [Kind] = &[Kind::Int, Kind::Int, Kind::Bytes];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        [Int(self.blob_id), Int(0), Bytes(self.data)]
    }
}
impl Insert for SegmentRow<'_> {
    const INTO: &'static str = "INSERT INTO segments (blob_id, seq, data) ";
}

impl Columns for MessageRow<'_> {
    const KINDS: &'static [Kind] = &[
        Kind::Bytes,
        Kind::Text,
        Kind::Bytes,
        Kind::Bytes,
        Kind::Bytes,
        Kind::Int,
        Kind::Int,
        Kind::Int,
        Kind::Int,
        Kind::Bytes,
        Kind::Bytes,
    ];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        let first = [
            Bytes(self.message_id),
            Text(self.sender),
            Bytes(self.routing_header),
            Bytes(self.submission_signature),
            Bytes(self.key_envelope),
            Int(self.ciphertext_len),
            Int(self.blob_id),
        ];
        self.logged.after(first)
    }
}
impl Insert for MessageRow<'_> {
    const INTO: &'static str = "INSERT INTO messages (message_id, sender, routing_header, \
         submission_signature, key_envelope, ciphertext_len, blob_id, accepted_at, leaf_index, \
         entry, proof) ";
}

impl Columns for DeliveryRow<'_> {
    const KINDS: &'static [Kind] = &[
        Kind::Bytes,
        Kind::Text,
        Kind::Int,
        Kind::Int,
        Kind::Bytes,
        Kind::Int,
        Kind::Bytes,
    ];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        [
            Bytes(self.message_id),
            Text(self.recipient),
            Int(self.seq),
            Int(state::QUEUED),
            Bytes(self.key_entry),
            Int(self.key_index),
            Bytes(&self.key_path),
        ]
    }
}
impl Insert for DeliveryRow<'_> {
    const INTO: &'static str = "INSERT INTO deliveries (message_id, recipient, seq, state, \
         key_entry, key_index, key_path) ";
}

impl Columns for StatementRow<'_> {
    const KINDS: &'static [Kind] = &[
        Kind::Bytes,
        Kind::Text,
        Kind::Int,
        Kind::Int,
        Kind::Bytes,
        Kind::Bytes,
        Kind::Bytes,
        Kind::Int,
        Kind::Int,
        Kind::Bytes,
        Kind::Bytes,
    ];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        let first = [
            Bytes(self.message_id),
            Text(self.recipient),
            Int(self.position),
            Int(self.status),
            Bytes(self.statement),
            Bytes(self.signature),
            Bytes(&self.hash),
        ];
        self.logged.after(first)
    }
}
impl Insert for StatementRow<'_> {
    const INTO: &'static str = "INSERT INTO statements (message_id, recipient, position, status, \
         statement, signature, hash, logged_at, leaf_index, entry, proof) ";
}

impl Columns for StateRow<'_> {
    const KINDS: &'static [Kind] = &[Kind::Int, Kind::Bytes, Kind::Text];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        [
            Int(self.state),
            Bytes(self.message_id),
            Text(self.recipient),
        ]
    }
}

impl Columns for NodeRow {
    const KINDS: &'static [Kind] = &[Kind::Int, Kind::Int, Kind::Bytes];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        [Int(self.level), Int(self.node_index), Bytes(&self.hash)]
    }
}
impl Insert for NodeRow {
    const INTO: &'static str = "INSERT INTO log_nodes (level, node_index, hash) ";
}

impl Columns for TreeHeadRow<'_> {
    const KINDS: &'static [Kind] = &[Kind::Int, Kind::Bytes, Kind::Bytes, Kind::Int];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        use Value::*;
        [
            Int(self.tree_size),
            Bytes(self.tree_head),
            Bytes(self.signature),
            Int(self.signed_at),
        ]
    }
}
impl Insert for TreeHeadRow<'_> {
    const INTO: &'static str =
        "INSERT INTO tree_heads (tree_size, tree_head, signature, signed_at) ";
}

/// An agency to wake (`pg_notify`).
impl Columns for String {
    const KINDS: &'static [Kind] = &[Kind::Text];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        [Value::Text(self)]
    }
}

/// Step 3's result: the new leaves appended, the batch's signed tree head, each leaf's
/// evidence.
pub(in crate::commit) struct Appended {
    /// Leaf `n`'s evidence.
    pub(in crate::commit) logged: Vec<Logged>,
    /// Leaf `n`'s hash.
    pub(in crate::commit) hashes: Vec<Hash>,
    /// The new root, size and complete nodes.
    pub(in crate::commit) batch: AppendedBatch,
    /// The tree head over the new size.
    pub(in crate::commit) head: SignedTreeHead,
}

/// Everything one batch writes, as typed rows.
pub(in crate::commit) struct Writes<'a> {
    pub(super) leaves: Vec<LeafRow<'a>>,
    pub(super) segments: Vec<SegmentRow<'a>>,
    /// Staged uploads the batch adopts (their `uploads` rows go; their segments stay).
    pub(super) adopted: Vec<i64>,
    pub(super) messages: Vec<MessageRow<'a>>,
    pub(super) deliveries: Vec<DeliveryRow<'a>>,
    pub(super) statements: Vec<StatementRow<'a>>,
    pub(super) states: Vec<StateRow<'a>>,
    pub(super) nodes: Vec<NodeRow>,
    pub(super) tree_head: TreeHeadRow<'a>,
    pub(super) log_state: LogStateRow,
    /// Agencies with new deliveries, sorted, each once.
    pub(in crate::commit) wake: Vec<String>,
}

impl<'a> Writes<'a> {
    /// The rows for the new leaves: leaf `n` is job `jobs[new[n]]`, logged as `a.logged[n]`.
    /// A small document's ciphertext gets a blob id from `blob_id`.
    pub(in crate::commit) fn new(
        jobs: &'a [Job],
        new: &[usize],
        a: &'a Appended,
        frontier: &Frontier,
        signed_at: OffsetDateTime,
        mut blob_id: impl FnMut() -> Result<i64>,
    ) -> Result<Self> {
        let mut w = Writes {
            leaves: Vec::with_capacity(new.len()),
            segments: Vec::new(),
            adopted: Vec::new(),
            messages: Vec::new(),
            deliveries: Vec::new(),
            statements: Vec::new(),
            states: Vec::new(),
            nodes: Vec::new(),
            tree_head: TreeHeadRow {
                tree_size: i64_of("tree size", a.batch.tree_size)?,
                tree_head: a.head.as_bytes(),
                signature: a.head.signature(),
                signed_at: millis(signed_at),
            },
            log_state: LogStateRow {
                tree_size: i64_of("tree size", frontier.size())?,
                frontier: frontier.to_bytes(),
            },
            wake: Vec::new(),
        };
        if new.len() != a.logged.len() || new.len() != a.hashes.len() {
            return Err(ServerError::invariant("leaves and logged entries differ"));
        }
        for ((&j, l), hash) in new.iter().zip(&a.logged).zip(&a.hashes) {
            let job = jobs
                .get(j)
                .ok_or(ServerError::invariant("a leaf of no job"))?;
            let leaf_index = i64_of("leaf index", l.leaf_index)?;
            let logged = LoggedColumns {
                at: millis(l.logged_at),
                leaf_index,
                entry: &l.entry,
                proof: &l.proof,
            };
            w.leaves.push(LeafRow {
                leaf_index,
                leaf_hash: hash,
                entry: &l.entry,
            });
            match job {
                Job::Accept {
                    submission,
                    key_envelope,
                    entries,
                    ciphertext,
                } => {
                    let h = submission.header();
                    let blob_id = match ciphertext {
                        Ciphertext::Inline(data) => {
                            let id = blob_id()?;
                            w.segments.push(SegmentRow { blob_id: id, data });
                            id
                        }
                        Ciphertext::Staged { blob_id } => {
                            w.adopted.push(*blob_id);
                            *blob_id
                        }
                    };
                    w.messages.push(MessageRow {
                        message_id: h.message_id.as_bytes(),
                        sender: h.sender.as_str(),
                        routing_header: submission.header_bytes().as_bytes(),
                        submission_signature: submission.submission().signature(),
                        key_envelope,
                        ciphertext_len: i64_of("ciphertext length", h.ciphertext_len)?,
                        blob_id,
                        logged,
                    });
                    if entries.len() != h.recipients.len() {
                        return Err(ServerError::invariant(
                            "one key-envelope entry per recipient",
                        ));
                    }
                    for (r, e) in h.recipients.iter().zip(entries) {
                        w.deliveries.push(DeliveryRow {
                            message_id: h.message_id.as_bytes(),
                            recipient: r.as_str(),
                            seq: leaf_index,
                            key_entry: &e.entry,
                            key_index: i64::from(e.index),
                            key_path: e.path_bytes(),
                        });
                        w.wake.push(r.as_str().to_owned());
                    }
                }
                Job::Statement {
                    recipient,
                    position,
                    receipt,
                    new_state,
                } => {
                    let r = receipt.receipt();
                    w.statements.push(StatementRow {
                        message_id: r.message_id.as_bytes(),
                        recipient,
                        position: *position,
                        status: i64::from(r.status.code()),
                        statement: receipt.signed().receipt().as_bytes(),
                        signature: receipt.signed().signature(),
                        hash: receipt.hash(),
                        logged,
                    });
                    if let Some(state) = new_state {
                        w.states.push(StateRow {
                            state: *state,
                            message_id: r.message_id.as_bytes(),
                            recipient,
                        });
                    }
                }
                // A revocation is its leaf alone.
                Job::Revocation(_) => {}
            }
        }
        for (id, hash) in &a.batch.completed {
            if id.level % NODE_STRIDE == 0 {
                w.nodes.push(NodeRow {
                    level: i64::from(id.level),
                    node_index: i64_of("node index", id.index)?,
                    hash: *hash,
                });
            }
        }
        w.wake.sort();
        w.wake.dedup();
        Ok(w)
    }
}
