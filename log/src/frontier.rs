//! The right edge of the tree ("compact range"): enough to append leaves, compute the root and
//! prove the inclusion of every newly appended leaf.

use crate::error::Error;
use crate::hash::{Hash, empty_root, node_hash};
use crate::node::NodeId;
use crate::proof::inclusion_proof;

/// Bytes of the size prefix in [`Frontier::to_bytes`].
const SIZE_LEN: usize = 8;
/// Bytes of one hash.
const HASH_LEN: usize = 32;

/// The right edge of a tree of `size` leaves: the hashes of the complete subtrees that tile
/// `[0, size)`, one per set bit of `size`, largest (leftmost) first. At most 64 hashes.
///
/// With it one can append (a new leaf merges with the trailing subtrees it completes), compute
/// the root (fold the hashes right to left) and prove the inclusion of appended leaves (see
/// [`Frontier::append_batch`]). The server persists it with [`Frontier::to_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// One hash per set bit of `size`, highest bit first.
    hashes: Vec<Hash>,
}

/// What [`Frontier::append_batch`] returns: the new tree head, the nodes to store and one
/// inclusion proof per appended leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendedBatch {
    /// Index of the first appended leaf (the tree size before the batch).
    pub first_index: u64,
    /// Tree size after the batch.
    pub tree_size: u64,
    /// Root of the tree of `tree_size` leaves.
    pub root: Hash,
    /// Every node at level >= 1 that the batch completed, with its hash, in the order that
    /// appending the leaves one by one completes them (by end, then by level).
    pub completed: Vec<(NodeId, Hash)>,
    /// `proofs[i]` is the RFC 9162 inclusion proof of leaf `first_index + i` in the tree of
    /// `tree_size` leaves.
    pub proofs: Vec<Vec<Hash>>,
}

/// The frontier node at `level` of a tree of `size` leaves, if bit `level` of `size` is set,
/// and its position in the frontier's list (the number of set bits above it).
fn frontier_slot(size: u64, level: u8) -> Option<(NodeId, usize)> {
    let above = size.checked_shr(u32::from(level))?;
    if above & 1 == 0 {
        return None;
    }
    let id = NodeId {
        level,
        index: above - 1,
    };
    let position = (above >> 1).count_ones() as usize;
    Some((id, position))
}

/// The frontier nodes of a tree of `size` leaves, largest first.
fn frontier_ids(size: u64) -> impl Iterator<Item = NodeId> {
    (0..64u8)
        .rev()
        .filter_map(move |level| frontier_slot(size, level).map(|(id, _)| id))
}

/// Folds frontier hashes (largest first) into the root, right to left.
fn fold_root(hashes: &[Hash]) -> Hash {
    let mut iter = hashes.iter().rev();
    match iter.next() {
        None => empty_root(),
        Some(last) => iter.fold(*last, |right, left| node_hash(left, &right)),
    }
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree's root: [`empty_root`] for the empty tree, the RFC 9162 `MTH` otherwise.
    pub fn root(&self) -> Hash {
        fold_root(&self.hashes)
    }

    /// The frontier's nodes with their hashes, largest (leftmost) first.
    pub fn nodes(&self) -> Vec<(NodeId, Hash)> {
        frontier_ids(self.size)
            .zip(self.hashes.iter().copied())
            .collect()
    }

    /// The hash of `id` if it is one of the frontier's nodes.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let (slot, position) = frontier_slot(self.size, id.level)?;
        if slot == id {
            self.hashes.get(position).copied()
        } else {
            None
        }
    }

    /// Appends one leaf hash and returns every node at level >= 1 that this append completed
    /// (smallest first), with its hash: the nodes a store must add, besides the leaf itself.
    ///
    /// Fails with [`Error::TreeFull`] when the tree already holds `u64::MAX` leaves.
    pub fn append(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>, Error> {
        let old = self.size;
        let new = old.checked_add(1).ok_or(Error::TreeFull)?;
        // The leaf merges with one frontier node per trailing one bit of the old size.
        let merges = old.trailing_ones();
        let mut completed = Vec::with_capacity(merges as usize);
        let mut hash = leaf;
        for level in 1..=merges {
            // The old size has bit `level - 1` set, so its frontier holds that node, last.
            let left = self.hashes.pop().ok_or(Error::FrontierMalformed)?;
            hash = node_hash(&left, &hash);
            let id = NodeId {
                level: level as u8,
                index: old >> level,
            };
            completed.push((id, hash));
        }
        self.hashes.push(hash);
        self.size = new;
        Ok(completed)
    }

    /// Appends a batch of leaf hashes and returns the new tree head, the completed nodes and the
    /// inclusion proof of every appended leaf in the new tree. Either the whole batch is
    /// appended or, on error, nothing ([`Error::TreeFull`] if the size would pass `u64::MAX`).
    ///
    /// The proofs need no store: every proof hash is either built from the batch, or covers
    /// leaves that all precede the old size and is then a node of the old frontier. (A left
    /// sibling `L` of a path from a new leaf lies in `[0, old)`; its parent contains the new leaf,
    /// so the parent is not inside any old frontier node `F`; aligned subtrees nest or are
    /// disjoint, so `L` cannot sit strictly inside `F`, and `L` cannot contain two frontier nodes
    /// either, since the smallest aligned subtree containing both runs past `old`.)
    pub fn append_batch(&mut self, leaves: &[Hash]) -> Result<AppendedBatch, Error> {
        let old = self.size;
        let count = u64::try_from(leaves.len()).map_err(|_| Error::TreeFull)?;
        let new = old.checked_add(count).ok_or(Error::TreeFull)?;
        if count == 0 {
            return Ok(AppendedBatch {
                first_index: old,
                tree_size: old,
                root: self.root(),
                completed: Vec::new(),
                proofs: Vec::new(),
            });
        }

        // The complete nodes of the new tree that end after `old`: at each level, the indices
        // [old >> level, new >> level), level by level from the leaves up.
        let mut batch = Batch {
            old,
            frontier: &*self,
            levels: vec![leaves.to_vec()],
        };
        for level in 1..64u8 {
            let lo = old >> level;
            let hi = new >> level;
            if lo >= hi {
                // No node at this level ends in (old, new], hence none above either: a node's
                // right child ends where it does.
                break;
            }
            let mut row = Vec::with_capacity((hi - lo) as usize);
            for index in lo..hi {
                let child = level - 1;
                let left = NodeId {
                    level: child,
                    index: 2 * index,
                };
                let right = NodeId {
                    level: child,
                    index: 2 * index + 1,
                };
                let l = batch.get(left).ok_or(Error::MissingNode(left))?;
                let r = batch.get(right).ok_or(Error::MissingNode(right))?;
                row.push(node_hash(&l, &r));
            }
            batch.levels.push(row);
        }

        let mut completed: Vec<(NodeId, Hash)> = Vec::new();
        for (level, row) in batch.levels.iter().enumerate().skip(1) {
            let level = level as u8;
            let lo = old >> level;
            completed.extend(
                (lo..)
                    .zip(row.iter())
                    .map(|(index, h)| (NodeId { level, index }, *h)),
            );
        }
        completed.sort_by_key(|(id, _)| (id.end(), id.level));

        let hashes = frontier_ids(new)
            .map(|id| batch.get(id).ok_or(Error::MissingNode(id)))
            .collect::<Result<Vec<Hash>, Error>>()?;
        let proofs = (old..new)
            .map(|index| inclusion_proof(index, new, |id| batch.get(id)))
            .collect::<Result<Vec<_>, Error>>()?;

        let root = fold_root(&hashes);
        self.hashes = hashes;
        self.size = new;
        Ok(AppendedBatch {
            first_index: old,
            tree_size: new,
            root,
            completed,
            proofs,
        })
    }

    /// The frontier as bytes: the size as a big-endian `u64`, then the hashes (32 bytes each),
    /// largest subtree first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIZE_LEN + HASH_LEN * self.hashes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for h in &self.hashes {
            out.extend_from_slice(h);
        }
        out
    }

    /// Reads [`Frontier::to_bytes`] output, strictly: exactly one hash per set bit of the size,
    /// nothing after ([`Error::FrontierMalformed`] otherwise).
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        let (size, rest) = b
            .split_first_chunk::<SIZE_LEN>()
            .ok_or(Error::FrontierMalformed)?;
        let size = u64::from_be_bytes(*size);
        let (chunks, tail) = rest.as_chunks::<HASH_LEN>();
        if !tail.is_empty() || chunks.len() != size.count_ones() as usize {
            return Err(Error::FrontierMalformed);
        }
        Ok(Self {
            size,
            hashes: chunks.to_vec(),
        })
    }
}

/// Node lookup during [`Frontier::append_batch`]: nodes ending after the old size come from the
/// batch's levels, the others from the old frontier.
struct Batch<'a> {
    old: u64,
    frontier: &'a Frontier,
    /// `levels[l][i]` is the hash of node `(l, (old >> l) + i)`.
    levels: Vec<Vec<Hash>>,
}

impl Batch<'_> {
    fn get(&self, id: NodeId) -> Option<Hash> {
        if id.end() <= self.old {
            return self.frontier.node(id);
        }
        let row = self.levels.get(usize::from(id.level))?;
        let first = self.old.checked_shr(u32::from(id.level)).unwrap_or(0);
        let offset = id.index.checked_sub(first)?;
        row.get(usize::try_from(offset).ok()?).copied()
    }
}

#[cfg(test)]
mod tests;
