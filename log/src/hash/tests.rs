use super::*;
use crate::testdata::*;

#[test]
fn roots_of_the_ct_test_tree() {
    let leaves = test_leaves();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            hex(&root_from_leaves(&leaves[..size])),
            *want,
            "size {size}"
        );
    }
}

#[test]
fn empty_root_is_sha256_of_nothing() {
    assert_eq!(hex(&empty_root()), ROOTS[0]);
}

#[test]
fn leaf_and_node_prefixes() {
    // The size-1 root is the leaf hash of the empty entry: SHA-256(0x00).
    assert_eq!(hex(&leaf_hash(b"")), ROOTS[1]);
    // Without the prefix it would be SHA-256 of one zero byte's absence: the empty root.
    assert_ne!(leaf_hash(b""), empty_root());
    let leaves = test_leaves();
    assert_eq!(hex(&node_hash(&leaves[0], &leaves[1])), ROOTS[2]);
    // Order matters.
    assert_ne!(
        node_hash(&leaves[0], &leaves[1]),
        node_hash(&leaves[1], &leaves[0])
    );
    // Domain separation: a node's 64-byte input presented as an entry hashes differently.
    let mut as_entry = Vec::new();
    as_entry.extend_from_slice(&leaves[0]);
    as_entry.extend_from_slice(&leaves[1]);
    assert_ne!(leaf_hash(&as_entry), node_hash(&leaves[0], &leaves[1]));
}

#[test]
fn split_is_the_largest_power_of_two_below() {
    #[track_caller]
    fn check(n: u64, k: u64) {
        assert_eq!(split(n), k, "n = {n}");
    }
    check(2, 1);
    check(3, 2);
    check(4, 2);
    check(5, 4);
    check(8, 4);
    check(9, 8);
    check(1000, 512);
    check(1 << 40, 1 << 39);
    check((1 << 63) + 1, 1 << 63);
    check(u64::MAX, 1 << 63);
}

#[test]
fn fold_complete_folds_powers_of_two() {
    let leaves = test_leaves();
    assert_eq!(fold_complete(&leaves[..1]), Ok(leaves[0]));
    assert_eq!(
        fold_complete(&leaves[..2]),
        Ok(node_hash(&leaves[0], &leaves[1]))
    );
    assert_eq!(hex(&fold_complete(&leaves[..4]).unwrap()), ROOTS[4]);
    assert_eq!(hex(&fold_complete(&leaves).unwrap()), ROOTS[8]);
}

#[test]
fn fold_complete_rejects_other_lengths() {
    let leaves = test_leaves();
    for len in [0, 3, 5, 6, 7] {
        assert_eq!(
            fold_complete(&leaves[..len]),
            Err(Error::NotPowerOfTwo { len })
        );
    }
}
