//! Step 2 of a batch, and its answers: which jobs are new, which repeat something logged before
//! (in the database or earlier in the same batch), and which are refused. Pure: what the
//! database holds comes in as [`Stored`] (read by `sqlite.rs` or `postgres.rs`), and nothing here does
//! I/O or reads the clock, so every repeat and conflict has a deterministic test.
//!
//! The rules:
//!
//! - **An acceptance** is keyed by its message id. The same id with the same routing header
//!   bytes repeats the first acceptance (stored: its evidence again; earlier in the batch: the
//!   evidence that job gets); with other bytes it is a `MESSAGE_ID_CONFLICT`.
//! - **A statement** is keyed by the hash of its receipt bytes: the same receipt again repeats
//!   the first. A new one must extend its chain (message, recipient) at the position its
//!   handler checked it against; the chain's length counts what is stored plus what this batch
//!   appends before it, so two different statements checked against the same chain state are
//!   logged once and the second is a `CHAIN_CONFLICT`.
//! - **A revocation** is always new (the directory submits each serial once per CRL).

use std::collections::HashMap;

use axis_signer::MessageId;

use super::job::{Job, Logged};
use crate::error::{Result, ServerError};

/// What planning needs of a job: its idempotency key and, for a statement, its place.
#[derive(Clone, Copy, Debug)]
pub(super) enum Key<'a> {
    /// An acceptance.
    Acceptance {
        /// The idempotency key.
        message_id: MessageId,
        /// The exact routing header bytes: a repeat must carry the same.
        routing_header: &'a [u8],
    },
    /// A receipt or status.
    Statement {
        /// SHA-256 of the receipt bytes: the idempotency key.
        hash: [u8; 32],
        /// The chain's message.
        message_id: MessageId,
        /// The chain's recipient.
        recipient: &'a str,
        /// The chain length the handler verified it against.
        position: i64,
    },
    /// A certificate revocation.
    Revocation,
}

/// What the database asks about for one batch: each list sorted, without repeats.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Lookups {
    /// Message ids of the acceptances.
    pub(super) message_ids: Vec<MessageId>,
    /// Hashes of the statements.
    pub(super) statement_hashes: Vec<[u8; 32]>,
    /// Messages whose chains the statements extend.
    pub(super) chain_messages: Vec<MessageId>,
}

/// A message already accepted.
#[derive(Clone, Debug)]
pub(super) struct StoredMessage {
    /// Its exact routing header bytes.
    pub(super) routing_header: Vec<u8>,
    /// The evidence it got.
    pub(super) logged: Logged,
}

/// What the database holds about one batch's [`Lookups`].
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// Accepted messages, by id.
    pub(super) messages: HashMap<MessageId, StoredMessage>,
    /// Logged statements, by hash.
    pub(super) statements: HashMap<[u8; 32], Logged>,
    /// Statements logged per chain (message, recipient).
    pub(super) chains: HashMap<(MessageId, String), i64>,
}

/// What was decided for one job.
#[derive(Debug)]
pub(super) enum Outcome {
    /// New: the `n`-th leaf this batch appends.
    New(usize),
    /// Logged before this batch: this evidence again.
    Repeat(Logged),
    /// The same as job `j` of this batch (itself [`Outcome::New`]).
    SameAs(usize),
    /// Refused; nothing of it is written.
    Refused(ServerError),
}

/// The plan of one batch.
#[derive(Debug)]
pub(super) struct Plan {
    /// One outcome per job, in job order.
    pub(super) outcomes: Vec<Outcome>,
    /// The jobs that become leaves, in log order (leaf `n` is job `new[n]`).
    pub(super) new: Vec<usize>,
}

/// What planning needs of `job`.
pub(super) fn key(job: &Job) -> Key<'_> {
    match job {
        Job::Accept { submission, .. } => Key::Acceptance {
            message_id: submission.header().message_id,
            routing_header: submission.header_bytes().as_bytes(),
        },
        Job::Statement {
            recipient,
            position,
            receipt,
            ..
        } => Key::Statement {
            hash: receipt.hash(),
            message_id: receipt.receipt().message_id,
            recipient,
            position: *position,
        },
        Job::Revocation(_) => Key::Revocation,
    }
}

/// What to ask the database about `keys`.
pub(super) fn lookups(keys: &[Key<'_>]) -> Lookups {
    let mut l = Lookups::default();
    for key in keys {
        match *key {
            Key::Acceptance { message_id, .. } => l.message_ids.push(message_id),
            Key::Statement {
                hash, message_id, ..
            } => {
                l.statement_hashes.push(hash);
                l.chain_messages.push(message_id);
            }
            Key::Revocation => {}
        }
    }
    for list in [&mut l.message_ids, &mut l.chain_messages] {
        list.sort_unstable();
        list.dedup();
    }
    l.statement_hashes.sort_unstable();
    l.statement_hashes.dedup();
    l
}

/// Decides every job of a batch, in order, against what is stored and what the batch appends
/// before it.
pub(super) fn plan(keys: &[Key<'_>], stored: &Stored) -> Plan {
    let mut outcomes = Vec::with_capacity(keys.len());
    let mut new = Vec::new();
    // First job of the batch appending each message id / statement hash.
    let mut messages: HashMap<MessageId, (usize, &[u8])> = HashMap::new();
    let mut statements: HashMap<[u8; 32], usize> = HashMap::new();
    // Chain lengths so far: stored, plus what this batch appends.
    let mut chains: HashMap<(MessageId, &str), i64> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        let append = |new: &mut Vec<usize>| {
            new.push(i);
            Outcome::New(new.len() - 1)
        };
        let outcome = match *key {
            Key::Acceptance {
                message_id,
                routing_header,
            } => {
                let first = messages
                    .get(&message_id)
                    .map(|&(j, header)| (Outcome::SameAs(j), header))
                    .or_else(|| {
                        stored.messages.get(&message_id).map(|m| {
                            (
                                Outcome::Repeat(m.logged.clone()),
                                m.routing_header.as_slice(),
                            )
                        })
                    });
                match first {
                    Some((repeat, header)) if header == routing_header => repeat,
                    Some(_) => {
                        Outcome::Refused(ServerError::MessageIdConflict(message_id.to_string()))
                    }
                    None => {
                        messages.insert(message_id, (i, routing_header));
                        append(&mut new)
                    }
                }
            }
            Key::Statement {
                hash,
                message_id,
                recipient,
                position,
            } => {
                if let Some(&j) = statements.get(&hash) {
                    Outcome::SameAs(j)
                } else if let Some(l) = stored.statements.get(&hash) {
                    Outcome::Repeat(l.clone())
                } else {
                    let len = chains.entry((message_id, recipient)).or_insert_with(|| {
                        stored
                            .chains
                            .get(&(message_id, recipient.to_owned()))
                            .copied()
                            .unwrap_or(0)
                    });
                    if *len == position {
                        *len += 1;
                        statements.insert(hash, i);
                        append(&mut new)
                    } else {
                        Outcome::Refused(ServerError::ChainConflict)
                    }
                }
            }
            Key::Revocation => append(&mut new),
        };
        outcomes.push(outcome);
    }
    Plan { outcomes, new }
}

/// Each job's answer, once the new leaves are logged (`logged[n]` is leaf `n`): a repeat of
/// something in the same batch gets that job's evidence, marked as a duplicate.
pub(super) fn answers(outcomes: Vec<Outcome>, logged: &[Logged]) -> Vec<Result<Logged>> {
    let new_leaf: Vec<Option<usize>> = outcomes
        .iter()
        .map(|o| match o {
            Outcome::New(n) => Some(*n),
            _ => None,
        })
        .collect();
    let leaf = |n: Option<usize>| {
        n.and_then(|n| logged.get(n))
            .cloned()
            .ok_or(ServerError::invariant(
                "a new job of the batch has no logged leaf",
            ))
    };
    outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::New(n) => leaf(Some(n)),
            Outcome::Repeat(l) => Ok(l),
            Outcome::Refused(e) => Err(e),
            Outcome::SameAs(j) => leaf(new_leaf.get(j).copied().flatten()).map(|l| Logged {
                duplicate: true,
                ..l
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests;
