//! RFC 9162 §2.1.1 tree hashing: leaf and interior-node hashes with domain separation, the empty
//! root, the reference MTH and folding a complete run of siblings.

use ring::digest;

use crate::error::Error;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Prefix of a leaf's hash input (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Prefix of an interior node's hash input (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

fn to_hash(d: digest::Digest) -> Hash {
    let mut out = [0u8; 32];
    // SHA-256 digests are always 32 bytes, so the lengths match.
    out.copy_from_slice(d.as_ref());
    out
}

/// The hash of a log entry: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&[LEAF_PREFIX]);
    ctx.update(entry);
    to_hash(ctx.finish())
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 65];
    input[0] = NODE_PREFIX;
    input[1..33].copy_from_slice(left);
    input[33..].copy_from_slice(right);
    to_hash(digest::digest(&digest::SHA256, &input))
}

/// The root of the empty tree, `MTH({})`: the SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    to_hash(digest::digest(&digest::SHA256, b""))
}

/// The largest power of two strictly below `n` (RFC 9162's split point `k`); `n` must be >= 2.
pub(crate) fn split(n: u64) -> u64 {
    // n >= 2, so n - 1 >= 1 and its highest set bit is bit 63 - leading_zeros.
    1u64 << (63 - (n.saturating_sub(1) | 1).leading_zeros())
}

/// The reference `MTH` over all leaf hashes (RFC 9162 §2.1.1): the two halves split at the
/// largest power of two strictly below the leaf count, recursively. Takes time linear in the
/// number of leaves; for tests, auditors' spot checks and small trees.
pub fn root_from_leaves(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            let k = split(leaves.len() as u64) as usize;
            let (left, right) = leaves.split_at(k);
            node_hash(&root_from_leaves(left), &root_from_leaves(right))
        }
    }
}

/// Folds a run of sibling hashes, left to right, whose length is a power of two into the hash of
/// their common ancestor: pairs are hashed into their parents, level by level. A single hash
/// folds to itself.
///
/// The server uses this to rebuild a node that it does not store from the stored nodes below it
/// (see [`stored_cover`](crate::stored_cover)).
pub fn fold_complete(hashes: &[Hash]) -> Result<Hash, Error> {
    let len = hashes.len();
    if !len.is_power_of_two() {
        return Err(Error::NotPowerOfTwo { len });
    }
    let mut layer = hashes.to_vec();
    while layer.len() > 1 {
        layer = layer
            .chunks_exact(2)
            .map(|pair| match pair {
                [l, r] => node_hash(l, r),
                // chunks_exact(2) yields only pairs.
                _ => empty_root(),
            })
            .collect();
    }
    match layer.as_slice() {
        [root] => Ok(*root),
        _ => Err(Error::NotPowerOfTwo { len }),
    }
}

#[cfg(test)]
mod tests;
