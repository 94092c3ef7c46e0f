//! The crate's one error type.

use crate::node::NodeId;

/// Everything that can go wrong in the Merkle log. Misuse (an index outside the tree, a store
/// that lacks a node) and failed verification are errors, never panics; every variant says which
/// sizes, lengths or node were involved. Hashes are public data, but no variant carries one: an
/// auditor only needs to know *which* check failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A leaf index at or beyond the tree size (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Tree sizes for which no consistency proof exists: it needs `0 < old <= new`.
    #[error("no consistency proof between tree sizes {old} and {new}: it needs 0 < old <= new")]
    SizeOutOfRange {
        /// The earlier tree size.
        old: u64,
        /// The later tree size.
        new: u64,
    },
    /// A proof with more or fewer hashes than the index and sizes determine. A proof is never
    /// padded or shortened: its length is a function of the public sizes alone.
    #[error("the proof has {found} hashes; these sizes need exactly {expected}")]
    ProofLength {
        /// The length the sizes determine.
        expected: usize,
        /// The length received.
        found: usize,
    },
    /// The proof does not lead to the root hash it was checked against (for a consistency
    /// proof: to either of the two roots).
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
    /// The node store has no hash for a node the proof or append needs.
    #[error("the node store has no hash for {0}")]
    MissingNode(NodeId),
    /// Frontier bytes that are not an 8-byte big-endian size followed by exactly one 32-byte
    /// hash per set bit of that size.
    #[error(
        "malformed frontier: expected an 8-byte size and one 32-byte hash per set bit of the size"
    )]
    FrontierMalformed,
    /// A run of sibling hashes whose length is not a power of two (so no complete subtree).
    #[error("{len} hashes do not make a complete subtree: the count must be a power of two")]
    NotPowerOfTwo {
        /// The number of hashes given.
        len: usize,
    },
    /// The tree already holds `u64::MAX` leaves (or the batch would pass that), the most a
    /// 64-bit tree size can count.
    #[error("the tree is full: a 64-bit tree size counts at most 2^64 - 1 leaves")]
    TreeFull,
}
