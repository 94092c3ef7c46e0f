use super::*;
use crate::testdata::*;
use crate::{consistency_proof, inclusion_proof, root_from_leaves};

struct Tree {
    leaves: Vec<Hash>,
    store: std::collections::HashMap<crate::NodeId, Hash>,
}

impl Tree {
    fn new(n: u8) -> Self {
        let leaves: Vec<Hash> = (0..n).map(|i| crate::leaf_hash(&[i, 0x5a])).collect();
        let store = all_nodes(&leaves);
        Self { leaves, store }
    }
    fn root(&self, size: u64) -> Hash {
        root_from_leaves(&self.leaves[..size as usize])
    }
    fn incl(&self, index: u64, size: u64) -> Vec<Hash> {
        inclusion_proof(index, size, |id| self.store.get(&id).copied()).unwrap()
    }
    fn cons(&self, old: u64, new: u64) -> Vec<Hash> {
        consistency_proof(old, new, |id| self.store.get(&id).copied()).unwrap()
    }
}

#[test]
fn known_answer_proofs_verify() {
    let leaves = test_leaves();
    let root8 = unhex(ROOTS[8]);
    let proof = [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    .map(unhex);
    assert_eq!(verify_inclusion(&leaves[5], 5, 8, &proof, &root8), Ok(()));
    let proof = [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    .map(unhex);
    assert_eq!(
        verify_consistency(6, 8, &unhex(ROOTS[6]), &root8, &proof),
        Ok(())
    );
}

/// Every broken variant of a valid inclusion proof fails, each with its own error.
#[test]
fn inclusion_negatives() {
    let t = Tree::new(13);
    let (index, size) = (6, 13);
    let proof = t.incl(index, size);
    let root = t.root(size);
    let leaf = t.leaves[index as usize];
    assert_eq!(proof.len(), 4);
    #[track_caller]
    fn check(r: Result<(), Error>, want: Result<(), Error>) {
        assert_eq!(r, want);
    }
    check(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
    // Another leaf, another root.
    check(
        verify_inclusion(&t.leaves[5], index, size, &proof, &root),
        Err(Error::RootMismatch),
    );
    check(
        verify_inclusion(&leaf, index, size, &proof, &t.root(12)),
        Err(Error::RootMismatch),
    );
    // Another index with the same proof length: the left/right choices differ.
    check(
        verify_inclusion(&leaf, 7, size, &proof, &root),
        Err(Error::RootMismatch),
    );
    // Index outside the tree.
    check(
        verify_inclusion(&leaf, 13, size, &proof, &root),
        Err(Error::IndexOutOfRange {
            index: 13,
            size: 13,
        }),
    );
    check(
        verify_inclusion(&leaf, 0, 0, &[], &empty_root_hash()),
        Err(Error::IndexOutOfRange { index: 0, size: 0 }),
    );
    // Truncated, extended.
    check(
        verify_inclusion(&leaf, index, size, &proof[..3], &root),
        Err(Error::ProofLength {
            expected: 4,
            found: 3,
        }),
    );
    let mut longer = proof.clone();
    longer.push([0xab; 32]);
    check(
        verify_inclusion(&leaf, index, size, &longer, &root),
        Err(Error::ProofLength {
            expected: 4,
            found: 5,
        }),
    );
    // Another size: a size whose proof has another length, and one with the same length.
    check(
        verify_inclusion(&leaf, index, 8, &proof, &root),
        Err(Error::ProofLength {
            expected: 3,
            found: 4,
        }),
    );
    // A proof cannot tell sizes apart whose paths have the same shape: leaf 6 has its siblings
    // on the same sides in every tree of 9 to 16 leaves; only what the last hash covers
    // differs. The size is bound by the signed tree head that carries the root, not by the
    // proof.
    check(verify_inclusion(&leaf, index, 12, &proof, &root), Ok(()));
    check(verify_inclusion(&leaf, index, 16, &proof, &root), Ok(()));
    // Swapped hashes.
    let mut swapped = proof.clone();
    swapped.swap(0, 1);
    check(
        verify_inclusion(&leaf, index, size, &swapped, &root),
        Err(Error::RootMismatch),
    );
}

fn empty_root_hash() -> Hash {
    crate::empty_root()
}

#[test]
fn consistency_negatives() {
    let t = Tree::new(13);
    let (old, new) = (6, 13);
    let proof = t.cons(old, new);
    let (r_old, r_new) = (t.root(old), t.root(new));
    assert_eq!(proof.len(), 4);
    #[track_caller]
    fn check(r: Result<(), Error>, want: Result<(), Error>) {
        assert_eq!(r, want);
    }
    check(verify_consistency(old, new, &r_old, &r_new, &proof), Ok(()));
    check(
        verify_consistency(old, new, &t.root(5), &r_new, &proof),
        Err(Error::RootMismatch),
    );
    check(
        verify_consistency(old, new, &r_old, &t.root(12), &proof),
        Err(Error::RootMismatch),
    );
    check(
        verify_consistency(old, new, &r_new, &r_old, &proof),
        Err(Error::RootMismatch),
    );
    check(
        verify_consistency(0, new, &empty_root_hash(), &r_new, &[]),
        Err(Error::SizeOutOfRange { old: 0, new: 13 }),
    );
    check(
        verify_consistency(new, old, &r_new, &r_old, &proof),
        Err(Error::SizeOutOfRange { old: 13, new: 6 }),
    );
    check(
        verify_consistency(old, new, &r_old, &r_new, &proof[..3]),
        Err(Error::ProofLength {
            expected: 4,
            found: 3,
        }),
    );
    check(
        verify_consistency(old, new, &r_old, &r_new, &[]),
        Err(Error::ProofLength {
            expected: 4,
            found: 0,
        }),
    );
    let mut longer = proof.clone();
    longer.push([0xcd; 32]);
    check(
        verify_consistency(old, new, &r_old, &r_new, &longer),
        Err(Error::ProofLength {
            expected: 4,
            found: 5,
        }),
    );
    let mut swapped = proof.clone();
    swapped.swap(1, 2);
    check(
        verify_consistency(old, new, &r_old, &r_new, &swapped),
        Err(Error::RootMismatch),
    );
    // Equal sizes: empty proof and the same root.
    check(
        verify_consistency(7, 7, &t.root(7), &t.root(7), &[]),
        Ok(()),
    );
    check(
        verify_consistency(7, 7, &t.root(7), &t.root(8), &[]),
        Err(Error::RootMismatch),
    );
    check(
        verify_consistency(7, 7, &t.root(7), &t.root(7), &proof[..1]),
        Err(Error::ProofLength {
            expected: 0,
            found: 1,
        }),
    );
    // Old size a power of two: the old root is the proof's implicit seed.
    let p = t.cons(4, 13);
    check(verify_consistency(4, 13, &t.root(4), &r_new, &p), Ok(()));
    check(
        verify_consistency(4, 13, &t.root(3), &r_new, &p),
        Err(Error::RootMismatch),
    );
}

#[test]
fn extreme_inputs_do_not_panic() {
    let h = [7u8; 32];
    let long = vec![h; 200];
    for size in [0, 1, 2, 1 << 63, u64::MAX - 1, u64::MAX] {
        for index in [0, 1, size / 2, size.saturating_sub(1), size, u64::MAX] {
            for n in [0, 1, 63, 64, 65, 130, 200] {
                let r = verify_inclusion(&h, index, size, &long[..n], &[9u8; 32]);
                assert!(r.is_err(), "{index} {size} {n}");
            }
        }
        for old in [0, 1, 2, size / 2, size.saturating_sub(1), size, u64::MAX] {
            for n in [0, 1, 63, 64, 65, 66, 130, 200] {
                let r = verify_consistency(old, size, &h, &[8u8; 32], &long[..n]);
                assert!(r.is_err(), "{old} {size} {n}");
            }
        }
    }
}
