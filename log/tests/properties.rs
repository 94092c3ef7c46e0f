//! Property tests over the public API: proofs built from a node table verify, the frontier
//! agrees with the reference MTH, batch proofs equal stored-node proofs, every mutation of a
//! proof fails with its own error, and nothing panics on arbitrary input.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::OnceLock;

use axis_log::*;
use proptest::prelude::*;

const MAX: u64 = 2000;

/// A 2000-leaf tree with every complete node, as a server's table holds them; it contains the
/// complete nodes of every smaller tree too.
struct Tree {
    leaves: Vec<Hash>,
    store: HashMap<NodeId, Hash>,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let leaves: Vec<Hash> = (0..MAX)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect();
        let mut store = HashMap::new();
        let mut row = leaves.clone();
        let mut level = 0u8;
        while !row.is_empty() {
            for (i, h) in row.iter().enumerate() {
                store.insert(
                    NodeId {
                        level,
                        index: i as u64,
                    },
                    *h,
                );
            }
            row = row
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            level += 1;
        }
        Tree { leaves, store }
    })
}

impl Tree {
    fn root(&self, size: u64) -> Hash {
        root_from_leaves(&self.leaves[..size as usize])
    }
    fn get(&self) -> impl FnMut(NodeId) -> Option<Hash> + '_ {
        |id| self.store.get(&id).copied()
    }
}

/// Which side each proof hash joins on, from the leaf up (true: the hash is the left sibling).
/// This is all the verifier learns from the index and size, so a proof verifies under another
/// index or size exactly when the sides are the same: the inner path below the node shared with
/// the tree's last leaf follows the index's bits, then every hash is a left sibling.
fn sides(index: u64, size: u64) -> Vec<bool> {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (0..inner)
        .map(|j| index >> j & 1 == 1)
        .chain((0..border).map(|_| true))
        .collect()
}

/// The consistency counterpart: whether the old root is the implicit seed, and the sides of the
/// path from the old tree's last complete subtree to the new root.
fn consistency_shape(old: u64, new: u64) -> (bool, Vec<bool>) {
    let level = old.trailing_zeros();
    let index = (old - 1) >> level;
    (index == 0, sides(index, ((new - 1) >> level) + 1))
}

fn consistency_len(old: u64, new: u64) -> usize {
    if old == new {
        return 0;
    }
    let (implicit, sides) = consistency_shape(old, new);
    sides.len() + usize::from(!implicit)
}

/// What verifying a valid inclusion proof of `(index, size)` under `(i2, s2)` must give.
fn expected_inclusion(index: u64, size: u64, i2: u64, s2: u64) -> Result<(), Error> {
    if i2 >= s2 {
        return Err(Error::IndexOutOfRange {
            index: i2,
            size: s2,
        });
    }
    let (a, b) = (sides(index, size), sides(i2, s2));
    if a.len() != b.len() {
        Err(Error::ProofLength {
            expected: b.len(),
            found: a.len(),
        })
    } else if a == b {
        Ok(())
    } else {
        Err(Error::RootMismatch)
    }
}

fn expected_consistency(old: u64, new: u64, o2: u64, n2: u64) -> Result<(), Error> {
    if o2 == 0 || o2 > n2 {
        return Err(Error::SizeOutOfRange { old: o2, new: n2 });
    }
    let (found, expected) = (consistency_len(old, new), consistency_len(o2, n2));
    if found != expected {
        Err(Error::ProofLength { expected, found })
    } else if o2 == n2 || consistency_shape(old, new) != consistency_shape(o2, n2) {
        // Equal sizes need equal roots (they differ here: old < new in the callers).
        Err(Error::RootMismatch)
    } else {
        Ok(())
    }
}

fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (1..MAX).prop_flat_map(|size| (Just(size), 0..size))
}

fn old_and_new() -> impl Strategy<Value = (u64, u64)> {
    (1..MAX).prop_flat_map(|new| (1..=new, Just(new)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_proofs_verify((size, index) in size_and_index()) {
        let t = tree();
        let proof = inclusion_proof(index, size, t.get()).unwrap();
        prop_assert_eq!(proof.len(), sides(index, size).len());
        prop_assert!(proof.len() <= MAX_PROOF_HASHES);
        let nodes = inclusion_nodes(index, size).unwrap();
        prop_assert!(nodes.iter().all(|id| id.end() <= size && t.store.contains_key(id)));
        let leaf = t.leaves[index as usize];
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &t.root(size)), Ok(()));
    }

    #[test]
    fn inclusion_mutations_fail(
        (size, index) in size_and_index(),
        which in any::<prop::sample::Index>(),
        bit in 0..256usize,
        other_index in 0..MAX + 2,
        other_size in 0..MAX + 2,
    ) {
        let t = tree();
        let proof = inclusion_proof(index, size, t.get()).unwrap();
        let root = t.root(size);
        let leaf = t.leaves[index as usize];
        // Flip one bit of one hash.
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = which.index(bad.len());
            bad[i][bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &bad, &root), Err(Error::RootMismatch));
        }
        // Flip one bit of the leaf or the root.
        let mut bad_leaf = leaf;
        bad_leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify_inclusion(&bad_leaf, index, size, &proof, &root), Err(Error::RootMismatch));
        let mut bad_root = root;
        bad_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &bad_root), Err(Error::RootMismatch));
        // Truncate, extend.
        let n = proof.len();
        if n > 0 {
            prop_assert_eq!(
                verify_inclusion(&leaf, index, size, &proof[..n - 1], &root),
                Err(Error::ProofLength { expected: n, found: n - 1 })
            );
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert_eq!(
            verify_inclusion(&leaf, index, size, &longer, &root),
            Err(Error::ProofLength { expected: n, found: n + 1 })
        );
        // Another index, another size.
        if other_index != index {
            prop_assert_eq!(
                verify_inclusion(&leaf, other_index, size, &proof, &root),
                expected_inclusion(index, size, other_index, size)
            );
        }
        if other_size != size {
            prop_assert_eq!(
                verify_inclusion(&leaf, index, other_size, &proof, &root),
                expected_inclusion(index, size, index, other_size)
            );
        }
    }

    #[test]
    fn frontier_root_is_the_mth(size in 0..MAX) {
        let t = tree();
        let mut f = Frontier::new();
        let mut completed = Vec::new();
        for leaf in &t.leaves[..size as usize] {
            completed.extend(f.append(*leaf).unwrap());
        }
        prop_assert_eq!(f.size(), size);
        prop_assert_eq!(f.root(), t.root(size));
        // Every node the appends completed is that node's hash, and together they are all the
        // complete nodes above the leaves.
        for (id, h) in &completed {
            prop_assert_eq!(t.store.get(id), Some(h));
        }
        let above_leaves = t.store.keys().filter(|id| id.level > 0 && id.end() <= size).count();
        prop_assert_eq!(completed.len(), above_leaves);
        // The frontier's nodes are complete nodes that tile [0, size).
        let mut next = 0;
        for (id, h) in f.nodes() {
            prop_assert_eq!(id.start(), next);
            prop_assert_eq!(t.store.get(&id), Some(&h));
            prop_assert_eq!(f.node(id), Some(h));
            next = id.end();
        }
        prop_assert_eq!(next, size);
        prop_assert_eq!(Frontier::from_bytes(&f.to_bytes()), Ok(f));
    }

    #[test]
    fn batch_proofs_equal_stored_proofs(old in 0..MAX - 200, len in 0..200u64) {
        let t = tree();
        let mut f = Frontier::new();
        f.append_batch(&t.leaves[..old as usize]).unwrap();
        let new = old + len;
        let b = f.append_batch(&t.leaves[old as usize..new as usize]).unwrap();
        prop_assert_eq!((b.first_index, b.tree_size), (old, new));
        prop_assert_eq!(b.root, t.root(new));
        prop_assert_eq!(f.root(), b.root);
        prop_assert_eq!(b.proofs.len() as u64, len);
        for (i, proof) in b.proofs.iter().enumerate() {
            let index = old + i as u64;
            prop_assert_eq!(proof, &inclusion_proof(index, new, t.get()).unwrap());
            prop_assert_eq!(
                verify_inclusion(&t.leaves[index as usize], index, new, proof, &b.root),
                Ok(())
            );
        }
        let mut ends = Vec::new();
        for (id, h) in &b.completed {
            prop_assert!(id.level > 0 && id.end() > old && id.end() <= new);
            prop_assert_eq!(t.store.get(id), Some(h));
            ends.push((id.end(), id.level));
        }
        prop_assert!(ends.windows(2).all(|w| w[0] < w[1]));
        let expected = t.store.keys().filter(|id| id.level > 0 && id.end() > old && id.end() <= new).count();
        prop_assert_eq!(b.completed.len(), expected);
    }

    #[test]
    fn consistency_proofs_verify((old, new) in old_and_new()) {
        let t = tree();
        let proof = consistency_proof(old, new, t.get()).unwrap();
        prop_assert_eq!(proof.len(), consistency_len(old, new));
        prop_assert!(proof.len() <= MAX_PROOF_HASHES);
        let nodes = consistency_nodes(old, new).unwrap();
        prop_assert!(nodes.iter().all(|id| id.end() <= new && t.store.contains_key(id)));
        prop_assert_eq!(
            verify_consistency(old, new, &t.root(old), &t.root(new), &proof),
            Ok(())
        );
    }

    #[test]
    fn consistency_mutations_fail(
        (old, new) in old_and_new(),
        which in any::<prop::sample::Index>(),
        bit in 0..256usize,
        other_old in 0..MAX + 2,
        other_new in 0..MAX + 2,
    ) {
        prop_assume!(old < new);
        let t = tree();
        let proof = consistency_proof(old, new, t.get()).unwrap();
        let (r1, r2) = (t.root(old), t.root(new));
        let mut bad = proof.clone();
        let i = which.index(bad.len());
        bad[i][bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify_consistency(old, new, &r1, &r2, &bad), Err(Error::RootMismatch));
        let mut bad_root = r1;
        bad_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify_consistency(old, new, &bad_root, &r2, &proof), Err(Error::RootMismatch));
        let mut bad_root = r2;
        bad_root[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(verify_consistency(old, new, &r1, &bad_root, &proof), Err(Error::RootMismatch));
        let n = proof.len();
        prop_assert_eq!(
            verify_consistency(old, new, &r1, &r2, &proof[..n - 1]),
            Err(Error::ProofLength { expected: n, found: n - 1 })
        );
        let mut longer = proof.clone();
        longer.push(r1);
        prop_assert_eq!(
            verify_consistency(old, new, &r1, &r2, &longer),
            Err(Error::ProofLength { expected: n, found: n + 1 })
        );
        if other_old != old {
            prop_assert_eq!(
                verify_consistency(other_old, new, &r1, &r2, &proof),
                expected_consistency(old, new, other_old, new)
            );
        }
        if other_new != new {
            prop_assert_eq!(
                verify_consistency(old, other_new, &r1, &r2, &proof),
                expected_consistency(old, new, old, other_new)
            );
        }
    }

    #[test]
    fn frontier_bytes_are_strict(bytes in prop::collection::vec(any::<u8>(), 0..200), size in any::<u64>()) {
        // Arbitrary bytes: accepted exactly when the shape is right, and then re-encoded as is.
        let well_formed = bytes.len() >= 8 && {
            let s = u64::from_be_bytes(bytes[..8].try_into().unwrap());
            bytes.len() - 8 == 32 * s.count_ones() as usize
        };
        match Frontier::from_bytes(&bytes) {
            Ok(f) => {
                prop_assert!(well_formed);
                prop_assert_eq!(f.to_bytes(), bytes);
            }
            Err(e) => {
                prop_assert!(!well_formed);
                prop_assert_eq!(e, Error::FrontierMalformed);
            }
        }
        // A well-formed frontier of any size round-trips; one byte more or less does not parse.
        let mut good = size.to_be_bytes().to_vec();
        for i in 0..size.count_ones() {
            good.extend_from_slice(&[i as u8; 32]);
        }
        let f = Frontier::from_bytes(&good).unwrap();
        prop_assert_eq!(f.size(), size);
        prop_assert_eq!(f.to_bytes(), good.clone());
        prop_assert_eq!(f.nodes().len(), size.count_ones() as usize);
        let mut longer = good.clone();
        longer.push(0);
        prop_assert_eq!(Frontier::from_bytes(&longer), Err(Error::FrontierMalformed));
        good.pop();
        prop_assert_eq!(Frontier::from_bytes(&good), Err(Error::FrontierMalformed));
    }

    #[test]
    fn verification_never_panics(
        size in prop_oneof![any::<u64>(), 0..4u64, Just(u64::MAX), Just(u64::MAX - 1), Just(1u64 << 63)],
        index in prop_oneof![any::<u64>(), 0..4u64, Just(u64::MAX)],
        old in prop_oneof![any::<u64>(), 0..4u64, Just(u64::MAX)],
        proof in prop::collection::vec(any::<[u8; 32]>(), 0..200),
        a in any::<[u8; 32]>(),
        b in any::<[u8; 32]>(),
    ) {
        let r = verify_inclusion(&a, index, size, &proof, &b);
        if index >= size {
            prop_assert_eq!(r, Err(Error::IndexOutOfRange { index, size }));
        } else if proof.len() != sides(index, size).len() {
            let is_length_error = matches!(r, Err(Error::ProofLength { .. }));
            prop_assert!(is_length_error);
        }
        let r = verify_consistency(old, size, &a, &b, &proof);
        if old == 0 || old > size {
            prop_assert_eq!(r, Err(Error::SizeOutOfRange { old, new: size }));
        } else {
            prop_assert!(r.is_err() || (old == size && a == b && proof.is_empty()));
        }
        // Node lists for any sizes: bounded, no panic.
        if let Ok(nodes) = inclusion_nodes(index, size) {
            prop_assert!(nodes.len() <= MAX_PROOF_HASHES);
        }
        if let Ok(nodes) = consistency_nodes(old, size) {
            prop_assert!(nodes.len() <= MAX_PROOF_HASHES);
        }
    }
}
