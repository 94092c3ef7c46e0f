#![forbid(unsafe_code)]
//! # axis-log
//!
//! The Merkle tree of the Axis transparency log, exactly as RFC 9162 (Certificate Transparency
//! 2.0) §2.1 defines it, so that any CT-style verifier can check our proofs and we can check
//! theirs. The server appends entries in batches and stores node hashes; auditors and clients
//! verify inclusion and consistency proofs offline. **No I/O, no clock**: node hashes come in and
//! go out through plain values and closures.
//!
//! ## Hashing
//!
//! A leaf hash is `SHA-256(0x00 ‖ entry)` ([`leaf_hash`]), an interior node
//! `SHA-256(0x01 ‖ left ‖ right)` ([`node_hash`]), and the empty tree's root the SHA-256 of the
//! empty string ([`empty_root`]). A tree of `n > 1` leaves splits at `k`, the largest power of
//! two strictly below `n` ([`root_from_leaves`] is the reference recursion). The one-byte prefixes
//! separate the two domains: without them the 64 bytes `left ‖ right` of an interior node would
//! also be a valid *entry*, and a log could show a "leaf" that was never appended, with a
//! valid inclusion proof, one level up the tree (a second preimage of the tree). With them no
//! leaf input equals a node input, so a forgery needs a SHA-256 collision.
//!
//! ## Nodes, the frontier and batch proofs
//!
//! A [`NodeId`] names a complete aligned subtree: `2^level` leaves starting at
//! `index << level`. Once complete, a node's hash never changes, which is what makes storing
//! it safe. Each RFC proof hash is either such a node or, on the tree's right edge, the fold of
//! a few of them; [`inclusion_nodes`] and [`consistency_nodes`] list the nodes a proof needs,
//! so a store can load them in one query, and [`inclusion_proof`] and [`consistency_proof`]
//! assemble the proof from whatever lookup the caller passes in.
//!
//! The [`Frontier`] (a "compact range") is the right edge of the tree: one hash per set bit of
//! the tree size, at most 64. It suffices to append (a leaf merges with the trailing complete
//! subtrees; [`Frontier::append`] returns the nodes so completed, for the store), to compute
//! the root, and — the reason it exists — to prove every appended leaf without reading the
//! store: in the new tree, each left sibling on a new leaf's path either contains new leaves
//! (and is computed from the batch) or lies wholly before the old size, and is then exactly one
//! of the old frontier's nodes (aligned subtrees nest or are disjoint; see
//! [`Frontier::append_batch`]). So the server hands every submitter its inclusion proof in the
//! same transaction that appends the batch.
//!
//! To bound storage the server may keep only the leaves and the levels that are multiples of a
//! stride; [`stored_cover`] says which stored nodes rebuild any other node and [`fold_complete`]
//! rebuilds it.
//!
//! ## Verification
//!
//! [`verify_inclusion`] and [`verify_consistency`] are the RFC 9162 §2.1.3.2 and §2.1.4.2
//! algorithms, preceded by an exact proof-length check (a proof's length is fixed by the public
//! sizes). They return a typed [`Error`] for every failure and never panic, for any sizes
//! (0, `u64::MAX`) and any proof. [`MAX_PROOF_HASHES`] bounds what a decoder should accept.
//!
//! ## Example
//!
//! ```
//! use std::collections::HashMap;
//! use axis_log::*;
//!
//! // The server's node table: leaf hashes and every completed node.
//! let mut store: HashMap<NodeId, Hash> = HashMap::new();
//! let mut frontier = Frontier::new();
//!
//! // Append a batch; every submitter gets its proof at once.
//! let entries: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 3]).collect();
//! let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
//! let batch = frontier.append_batch(&leaves)?;
//! for (i, leaf) in leaves.iter().enumerate() {
//!     store.insert(NodeId::leaf(batch.first_index + i as u64), *leaf);
//! }
//! store.extend(batch.completed.iter().copied());
//! assert_eq!(batch.root, root_from_leaves(&leaves));
//!
//! // A recipient checks that entry 3 is in the tree head it was given.
//! verify_inclusion(&leaf_hash(&entries[3]), 3, batch.tree_size, &batch.proofs[3], &batch.root)?;
//! let tampered = leaf_hash(b"something else");
//! assert_eq!(
//!     verify_inclusion(&tampered, 3, batch.tree_size, &batch.proofs[3], &batch.root),
//!     Err(Error::RootMismatch),
//! );
//!
//! // The server persists the frontier with the batch.
//! let saved = frontier.to_bytes();
//! let mut frontier = Frontier::from_bytes(&saved)?;
//!
//! // Later, a second batch.
//! let (old_size, old_root) = (frontier.size(), frontier.root());
//! let more: Vec<Hash> = (5..13u8).map(|i| leaf_hash(&[i; 3])).collect();
//! let batch = frontier.append_batch(&more)?;
//! for (i, leaf) in more.iter().enumerate() {
//!     store.insert(NodeId::leaf(batch.first_index + i as u64), *leaf);
//! }
//! store.extend(batch.completed.iter().copied());
//!
//! // An auditor holding the old tree head asks whether the log only appended since.
//! let needed = consistency_nodes(old_size, frontier.size())?; // what one query must load
//! assert!(needed.iter().all(|id| store.contains_key(id)));
//! let proof = consistency_proof(old_size, frontier.size(), |id| store.get(&id).copied())?;
//! verify_consistency(old_size, frontier.size(), &old_root, &frontier.root(), &proof)?;
//!
//! // Any proof from the store verifies against the current head too.
//! let proof = inclusion_proof(1, frontier.size(), |id| store.get(&id).copied())?;
//! verify_inclusion(&leaves[1], 1, frontier.size(), &proof, &frontier.root())?;
//! # Ok::<(), axis_log::Error>(())
//! ```

mod error;
mod frontier;
mod hash;
mod node;
mod proof;
mod verify;

#[cfg(test)]
mod testdata;

/// The longest proof a verifier needs to accept: an inclusion proof in a tree of up to
/// `2^64 - 1` leaves has at most 64 hashes, a consistency proof at most 65. Decoders of proofs
/// from the network should refuse longer ones before allocating.
pub const MAX_PROOF_HASHES: usize = 130;

// The public interface is:
pub use error::Error;
pub use frontier::{AppendedBatch, Frontier};
pub use hash::{Hash, empty_root, fold_complete, leaf_hash, node_hash, root_from_leaves};
pub use node::{NodeId, stored_cover};
pub use proof::{consistency_nodes, consistency_proof, inclusion_nodes, inclusion_proof};
pub use verify::{verify_consistency, verify_inclusion};
