//! RFC 9162 §2.1.3.2 and §2.1.4.2 proof verification, for auditors and clients.
//!
//! The algorithms are the RFC's, step for step, and share nothing with the proof builders but
//! the proof length, which is a function of the public sizes. They run in time bounded by the
//! proof length, which is checked first, and never panic, whatever the input.

use crate::error::Error;
use crate::hash::{Hash, node_hash};
use crate::proof::{consistency_len, inclusion_len};

/// Checks that `proof` shows the leaf with hash `leaf_hash` at `leaf_index` in the tree of
/// `tree_size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    leaf_index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    // 1. The leaf lies in the tree (RFC step 1): otherwise the proof says nothing about it.
    let expected = inclusion_len(leaf_index, tree_size)?;
    // 2. The proof has exactly the length the index and size determine: no extra hashes that a
    //    lenient loop would skip, no short proof standing for a subtree; bounds the work.
    if proof.len() != expected {
        return Err(Error::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    let length_error = || Error::ProofLength {
        expected,
        found: proof.len(),
    };
    // 3. Fold the path from the leaf up (RFC steps 2-4). `fn`/`sn` are the positions of the
    //    current node and of the tree's last node at the current level; a set low bit of `fn`
    //    (or `fn == sn`, the right edge) means the proof hash is a left sibling.
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        // 4a. A hash above the root: the proof is too long (caught by step 2 already).
        if sn == 0 {
            return Err(length_error());
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // Skip the levels where the right edge has no sibling to hash in.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. The path reached the root level (else the proof is too short) and its root.
    if sn != 0 {
        return Err(length_error());
    }
    if r != *root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}

/// Checks that `proof` shows the tree of `new_size` leaves with root `new_root` to extend the
/// tree of `old_size` leaves with root `old_root`: the log only appended (RFC 9162 §2.1.4.2).
///
/// Needs `0 < old_size <= new_size` ([`Error::SizeOutOfRange`] otherwise: the empty tree has
/// no root to be consistent with). Equal sizes need an empty proof and equal roots.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), Error> {
    // 1. Sizes in order; a tree never shrinks.
    // 2. Exact proof length, as for inclusion (an empty proof for equal sizes).
    let expected = consistency_len(old_size, new_size)?;
    if proof.len() != expected {
        return Err(Error::ProofLength {
            expected,
            found: proof.len(),
        });
    }
    let length_error = || Error::ProofLength {
        expected,
        found: proof.len(),
    };
    // 3. Same size: the same tree, so the same root (a log showing two heads for one size has
    //    forked).
    if old_size == new_size {
        return if old_root == new_root {
            Ok(())
        } else {
            Err(Error::RootMismatch)
        };
    }
    // 4. RFC steps 1-2: when the old tree is a complete subtree its root is the proof's seed.
    let seed = old_size.is_power_of_two().then_some(old_root);
    let mut path = seed.into_iter().chain(proof.iter());
    let Some(first) = path.next() else {
        return Err(length_error());
    };
    // 5. RFC steps 3-5: skip the levels where the old tree's last node is a right child.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 6. RFC step 6: rebuild both roots from the same hashes; `fr` only from left siblings.
    let (mut fr, mut sr) = (*first, *first);
    for c in path {
        if sn == 0 {
            return Err(length_error());
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7. RFC step 7: both roots match and the path reached the new root's level.
    if sn != 0 {
        return Err(length_error());
    }
    if fr != *old_root || sr != *new_root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
