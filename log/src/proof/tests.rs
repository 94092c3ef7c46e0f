use super::*;
use crate::testdata::*;

fn node(level: u8, index: u64) -> NodeId {
    NodeId { level, index }
}

/// Proofs in the CT test tree (trillian / certificate-transparency-go `merkle` test data).
#[test]
fn known_inclusion_proofs() {
    let store = all_nodes(&test_leaves());
    #[track_caller]
    fn check(
        store: &std::collections::HashMap<NodeId, Hash>,
        index: u64,
        size: u64,
        want: &[&str],
    ) {
        let got = inclusion_proof(index, size, |id| store.get(&id).copied()).unwrap();
        assert_eq!(
            got.iter().map(hex).collect::<Vec<_>>(),
            want,
            "{index} in {size}"
        );
    }
    check(&store, 0, 1, &[]);
    check(
        &store,
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    );
    check(
        &store,
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    );
}

#[test]
fn known_consistency_proofs() {
    let store = all_nodes(&test_leaves());
    #[track_caller]
    fn check(store: &std::collections::HashMap<NodeId, Hash>, old: u64, new: u64, want: &[&str]) {
        let got = consistency_proof(old, new, |id| store.get(&id).copied()).unwrap();
        assert_eq!(
            got.iter().map(hex).collect::<Vec<_>>(),
            want,
            "{old} -> {new}"
        );
    }
    check(&store, 8, 8, &[]);
    check(
        &store,
        2,
        8,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    );
    check(
        &store,
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    );
    check(
        &store,
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    );
}

#[test]
fn node_lists() {
    #[track_caller]
    fn incl(index: u64, size: u64, want: &[NodeId]) {
        assert_eq!(
            inclusion_nodes(index, size).unwrap(),
            want,
            "{index} in {size}"
        );
    }
    incl(0, 1, &[]);
    incl(0, 2, &[node(0, 1)]);
    incl(0, 8, &[node(0, 1), node(1, 1), node(2, 1)]);
    // Leaf 2 of 7: sibling 3, left pair [0, 2), then the right edge [4, 7) = [4, 6) + [6, 7).
    incl(2, 7, &[node(0, 3), node(1, 0), node(1, 2), node(0, 6)]);
    incl(6, 7, &[node(1, 2), node(2, 0)]);
    #[track_caller]
    fn cons(old: u64, new: u64, want: &[NodeId]) {
        assert_eq!(consistency_nodes(old, new).unwrap(), want, "{old} -> {new}");
    }
    cons(5, 5, &[]);
    cons(4, 8, &[node(2, 1)]);
    cons(2, 8, &[node(1, 1), node(2, 1)]);
    // 3 -> 7: seed leaf 2, its sibling 3, left pair [0, 2), right edge [4, 7).
    cons(
        3,
        7,
        &[node(0, 2), node(0, 3), node(1, 0), node(1, 2), node(0, 6)],
    );
}

#[test]
fn nodes_are_complete_and_inside_the_tree() {
    for size in 1..=70u64 {
        for index in 0..size {
            for id in inclusion_nodes(index, size).unwrap() {
                assert!(id.end() <= size, "{id} in {size}");
                assert!(
                    !(id.start()..id.end()).contains(&index),
                    "{id} holds {index}"
                );
            }
        }
        for old in 1..=size {
            for id in consistency_nodes(old, size).unwrap() {
                assert!(id.end() <= size, "{id} in {size}");
            }
        }
    }
}

#[test]
fn misuse_is_an_error() {
    assert_eq!(
        inclusion_nodes(3, 3),
        Err(Error::IndexOutOfRange { index: 3, size: 3 })
    );
    assert_eq!(
        inclusion_nodes(0, 0),
        Err(Error::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        inclusion_proof(u64::MAX, u64::MAX, |_| None),
        Err(Error::IndexOutOfRange {
            index: u64::MAX,
            size: u64::MAX
        })
    );
    assert_eq!(
        consistency_nodes(0, 5),
        Err(Error::SizeOutOfRange { old: 0, new: 5 })
    );
    assert_eq!(
        consistency_proof(6, 5, |_| None),
        Err(Error::SizeOutOfRange { old: 6, new: 5 })
    );
    assert_eq!(
        consistency_nodes(0, 0),
        Err(Error::SizeOutOfRange { old: 0, new: 0 })
    );
}

#[test]
fn a_missing_node_is_named() {
    let mut store = all_nodes(&test_leaves());
    store.remove(&node(1, 1));
    assert_eq!(
        inclusion_proof(0, 8, |id| store.get(&id).copied()),
        Err(Error::MissingNode(node(1, 1)))
    );
    assert_eq!(
        consistency_proof(1, 8, |id| store.get(&id).copied()),
        Err(Error::MissingNode(node(1, 1)))
    );
    // Exactly the listed nodes are asked for.
    let full = all_nodes(&test_leaves());
    let mut asked = Vec::new();
    inclusion_proof(2, 7, |id| {
        asked.push(id);
        full.get(&id).copied()
    })
    .unwrap();
    asked.sort();
    let mut listed = inclusion_nodes(2, 7).unwrap();
    listed.sort();
    assert_eq!(asked, listed);
}

/// The inclusion proof length in closed form (trillian's decomposition: the path inside the
/// subtree shared with the last leaf, plus one hash per set bit of what lies to its left).
fn inclusion_len_closed(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

#[test]
fn lengths_match_the_closed_form() {
    for size in 1..=300u64 {
        for index in 0..size {
            assert_eq!(
                inclusion_len(index, size),
                Ok(inclusion_len_closed(index, size)),
                "{index} in {size}"
            );
        }
    }
    for (index, size) in [
        (0, u64::MAX),
        (u64::MAX - 1, u64::MAX),
        (1 << 63, u64::MAX),
        ((1 << 63) - 1, u64::MAX),
        (12345, 1 << 40),
    ] {
        assert_eq!(
            inclusion_len(index, size),
            Ok(inclusion_len_closed(index, size))
        );
    }
}

#[test]
fn extreme_sizes_stay_within_max_proof_hashes() {
    let sizes = [
        1,
        2,
        3,
        (1 << 32) + 1,
        (1 << 63) - 1,
        1 << 63,
        (1 << 63) + 1,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut longest = (0, 0);
    for &new in &sizes {
        for index in [0, 1, new / 2, new.saturating_sub(2), new - 1] {
            if index < new {
                let n = inclusion_len(index, new).unwrap();
                assert!(n <= 64, "{index} in {new}: {n}");
                assert!(inclusion_nodes(index, new).unwrap().len() >= n);
                longest.0 = longest.0.max(n);
            }
        }
        for old in [1, 2, 3, new / 2 + 1, new - 1, new] {
            if (1..=new).contains(&old) {
                let n = consistency_len(old, new).unwrap();
                assert!(n <= 65, "{old} -> {new}: {n}");
                assert!(consistency_nodes(old, new).unwrap().len() <= crate::MAX_PROOF_HASHES);
                longest.1 = longest.1.max(n);
            }
        }
    }
    assert_eq!(longest.0, 64);
    assert!(longest.1 >= 64, "{longest:?}");
}
