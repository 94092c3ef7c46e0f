use super::*;

fn node(level: u8, index: u64) -> NodeId {
    NodeId { level, index }
}

#[test]
fn ranges() {
    #[track_caller]
    fn check(id: NodeId, start: u64, end: u64) {
        assert_eq!((id.start(), id.end()), (start, end), "{id:?}");
    }
    check(NodeId::leaf(0), 0, 1);
    check(NodeId::leaf(7), 7, 8);
    check(node(3, 0), 0, 8);
    check(node(3, 5), 40, 48);
    check(node(63, 1), 1 << 63, u64::MAX); // 2^64 saturates
    check(node(64, 0), 0, u64::MAX);
    check(node(64, 1), u64::MAX, u64::MAX);
    check(NodeId::leaf(u64::MAX), u64::MAX, u64::MAX);
    check(node(200, 3), u64::MAX, u64::MAX);
    check(node(255, 0), 0, u64::MAX);
}

#[test]
fn children_and_parent() {
    assert_eq!(NodeId::leaf(3).children(), None);
    assert_eq!(node(1, 3).children(), Some((node(0, 6), node(0, 7))));
    assert_eq!(node(4, 5).children(), Some((node(3, 10), node(3, 11))));
    assert_eq!(node(1, u64::MAX).children(), None);
    assert_eq!(node(1, 1 << 63).children(), None);
    assert_eq!(node(0, 6).parent(), node(1, 3));
    assert_eq!(node(0, 7).parent(), node(1, 3));
    assert_eq!(node(3, 11).parent(), node(4, 5));
    assert_eq!(node(255, 9).parent(), node(255, 4));
    for id in [node(0, 6), node(2, 9), node(10, 12345)] {
        let (l, r) = id.parent().children().unwrap();
        assert!(l == id || r == id);
        assert_eq!(l.start(), id.parent().start());
        assert_eq!(r.end(), id.parent().end());
    }
}

#[test]
fn display_names_the_leaves() {
    assert_eq!(
        node(3, 5).to_string(),
        "node (level 3, index 5) covering leaves [40, 48)"
    );
}

#[test]
fn stored_cover_table() {
    #[track_caller]
    fn check(id: NodeId, stride: u8, level: u8, indices: std::ops::Range<u64>) {
        assert_eq!(
            stored_cover(id, stride),
            (level, indices),
            "{id:?} stride {stride}"
        );
    }
    // Stored levels map to themselves.
    check(NodeId::leaf(9), 8, 0, 9..10);
    check(node(8, 3), 8, 8, 3..4);
    check(node(16, 1), 8, 16, 1..2);
    // Others to the run of stored nodes below.
    check(node(1, 4), 8, 0, 8..10);
    check(node(3, 5), 8, 0, 40..48);
    check(node(7, 1), 8, 0, 128..256);
    check(node(9, 1), 8, 8, 2..4);
    check(node(15, 0), 8, 8, 0..128);
    check(node(64, 0), 8, 64, 0..1);
    check(node(63, 1), 8, 56, 128..256);
    // Stride 1 stores everything; stride 0 is taken as 1.
    check(node(5, 7), 1, 5, 7..8);
    check(node(5, 7), 0, 5, 7..8);
    // Huge strides only store the leaves; no overflow.
    check(node(100, 0), 255, 0, 0..u64::MAX);
    check(node(254, 1), 255, 0, u64::MAX..u64::MAX);
}

#[test]
fn stored_cover_folds_to_the_node() {
    let leaves: Vec<[u8; 32]> = (0..64u8).map(|i| crate::leaf_hash(&[i])).collect();
    // Every complete node of a 64-leaf tree, rebuilt from stride-2 storage.
    let stored = |level: u8, index: u64| -> [u8; 32] {
        let span = 1usize << level;
        let start = index as usize * span;
        crate::root_from_leaves(&leaves[start..start + span])
    };
    for level in 0..=6u8 {
        for index in 0..(64u64 >> level) {
            let (l, range) = stored_cover(node(level, index), 2);
            assert_eq!(l % 2, 0);
            let run: Vec<_> = range.map(|i| stored(l, i)).collect();
            assert_eq!(
                crate::fold_complete(&run).unwrap(),
                stored(level, index),
                "level {level} index {index}"
            );
        }
    }
}
