use super::*;
use crate::testdata::*;
use crate::{root_from_leaves, verify_inclusion};

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| crate::leaf_hash(&i.to_be_bytes())).collect()
}

#[test]
fn roots_of_the_ct_test_tree() {
    let mut f = Frontier::new();
    assert_eq!(hex(&f.root()), ROOTS[0]);
    for (i, leaf) in test_leaves().into_iter().enumerate() {
        f.append(leaf).unwrap();
        assert_eq!(hex(&f.root()), ROOTS[i + 1], "size {}", i + 1);
    }
}

#[test]
fn append_reports_completed_nodes() {
    let mut f = Frontier::new();
    let l = leaves(8);
    let node = |level, index| NodeId { level, index };
    assert_eq!(f.append(l[0]).unwrap(), vec![]);
    let c = f.append(l[1]).unwrap();
    assert_eq!(c, vec![(node(1, 0), node_hash(&l[0], &l[1]))]);
    assert_eq!(f.append(l[2]).unwrap(), vec![]);
    let ids: Vec<NodeId> = f
        .append(l[3])
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec![node(1, 1), node(2, 0)]);
    for leaf in &l[4..7] {
        f.append(*leaf).unwrap();
    }
    let c = f.append(l[7]).unwrap();
    let ids: Vec<NodeId> = c.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, vec![node(1, 3), node(2, 1), node(3, 0)]);
    assert_eq!(c[2].1, root_from_leaves(&l));
    assert_eq!(f.nodes(), vec![(node(3, 0), root_from_leaves(&l))]);
}

#[test]
fn nodes_and_node() {
    let mut f = Frontier::new();
    let l = leaves(13);
    for leaf in &l {
        f.append(*leaf).unwrap();
    }
    let node = |level, index| NodeId { level, index };
    let want = vec![
        (node(3, 0), root_from_leaves(&l[..8])),
        (node(2, 2), root_from_leaves(&l[8..12])),
        (node(0, 12), l[12]),
    ];
    assert_eq!(f.nodes(), want);
    for (id, h) in &want {
        assert_eq!(f.node(*id), Some(*h));
    }
    assert_eq!(f.node(node(1, 6)), None); // complete, but not on the frontier
    assert_eq!(f.node(node(2, 1)), None);
    assert_eq!(f.node(node(0, 11)), None);
    assert_eq!(f.node(node(200, 0)), None);
}

#[test]
fn batch_equals_one_by_one() {
    let l = leaves(40);
    for split in [0usize, 1, 3, 4, 7, 16, 21] {
        for len in [0usize, 1, 2, 5, 8, 19] {
            let mut one = Frontier::new();
            let mut batch = Frontier::new();
            for leaf in &l[..split] {
                one.append(*leaf).unwrap();
                batch.append(*leaf).unwrap();
            }
            let mut completed = Vec::new();
            for leaf in &l[split..split + len] {
                completed.extend(one.append(*leaf).unwrap());
            }
            let b = batch.append_batch(&l[split..split + len]).unwrap();
            assert_eq!(batch, one, "split {split} len {len}");
            assert_eq!(b.completed, completed, "split {split} len {len}");
            assert_eq!(b.first_index, split as u64);
            assert_eq!(b.tree_size, (split + len) as u64);
            assert_eq!(b.root, root_from_leaves(&l[..split + len]));
            assert_eq!(b.proofs.len(), len);
            for (i, proof) in b.proofs.iter().enumerate() {
                let index = split + i;
                verify_inclusion(&l[index], index as u64, b.tree_size, proof, &b.root).unwrap();
            }
        }
    }
}

#[test]
fn bytes_round_trip_and_strictness() {
    let mut f = Frontier::new();
    assert_eq!(f.to_bytes(), vec![0u8; 8]);
    assert_eq!(Frontier::from_bytes(&[0u8; 8]), Ok(Frontier::new()));
    f.append_batch(&leaves(13)).unwrap();
    let b = f.to_bytes();
    assert_eq!(b.len(), 8 + 3 * 32);
    assert_eq!(&b[..8], &13u64.to_be_bytes());
    assert_eq!(Frontier::from_bytes(&b), Ok(f.clone()));
    #[track_caller]
    fn bad(b: &[u8]) {
        assert_eq!(
            Frontier::from_bytes(b),
            Err(Error::FrontierMalformed),
            "{b:?}"
        );
    }
    bad(&[]);
    bad(&b[..7]);
    bad(&b[..b.len() - 1]); // a partial hash
    bad(&b[..b.len() - 32]); // a hash short
    let mut long = b.clone();
    long.extend_from_slice(&[0u8; 32]);
    bad(&long); // a hash too many
    long.truncate(b.len() + 1);
    bad(&long); // a trailing byte
    let mut other_size = b.clone();
    other_size[7] = 12; // two set bits, three hashes
    bad(&other_size);
}

#[test]
fn full_tree() {
    // A frontier of 2^64 - 1 leaves: 64 hashes.
    let mut bytes = u64::MAX.to_be_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(1u8, 64 * 32));
    let mut f = Frontier::from_bytes(&bytes).unwrap();
    let before = f.clone();
    assert_eq!(f.append([2; 32]), Err(Error::TreeFull));
    assert_eq!(f.append_batch(&[[2; 32]]), Err(Error::TreeFull));
    assert_eq!(f, before);
    let empty = f.append_batch(&[]).unwrap();
    assert_eq!((empty.first_index, empty.tree_size), (u64::MAX, u64::MAX));
    assert_eq!(empty.root, f.root());

    // One short of full: the last append merges nothing (size - 1 is even) and fits.
    let mut bytes = (u64::MAX - 1).to_be_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(1u8, 63 * 32));
    let mut f = Frontier::from_bytes(&bytes).unwrap();
    let mut g = f.clone();
    assert_eq!(f.append([2; 32]), Ok(vec![]));
    assert_eq!(f.size(), u64::MAX);
    assert_eq!(g.append_batch(&[[3; 32], [4; 32]]), Err(Error::TreeFull));
    let b = g.append_batch(&[[2; 32]]).unwrap();
    assert_eq!(g, f);
    assert_eq!(b.proofs[0].len(), 63);
    verify_inclusion(&[2; 32], u64::MAX - 1, u64::MAX, &b.proofs[0], &b.root).unwrap();

    // Half full: appending one leaf to 2^63 - 1 leaves completes 63 nodes.
    let mut bytes = ((1u64 << 63) - 1).to_be_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(5u8, 63 * 32));
    let f = Frontier::from_bytes(&bytes).unwrap();
    let mut one = f.clone();
    let completed = one.append([6; 32]).unwrap();
    assert_eq!(completed.len(), 63);
    assert_eq!(
        completed[62].0,
        NodeId {
            level: 63,
            index: 0
        }
    );
    let mut batch = f.clone();
    let b = batch.append_batch(&[[6; 32], [7; 32], [8; 32]]).unwrap();
    assert_eq!(b.completed[..63], completed[..]);
    for (i, p) in b.proofs.iter().enumerate() {
        let leaf = [6 + i as u8; 32];
        verify_inclusion(&leaf, (1 << 63) - 1 + i as u64, b.tree_size, p, &b.root).unwrap();
    }
}
