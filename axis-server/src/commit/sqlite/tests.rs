use super::*;
use crate::commit::rows::Kind;

#[test]
fn row_chunks_cover_every_row_once() {
    for (n, expected) in [(0, &[][..]), (48, &[48]), (1100, &[512, 512, 76])] {
        let lens: Vec<usize> = row_chunks(n).map(|r| r.len()).collect();
        assert_eq!(lens, expected);
        let covered: Vec<usize> = row_chunks(n).flatten().collect();
        assert_eq!(covered, (0..n).collect::<Vec<_>>());
    }
    let chunks: Vec<_> = read_chunks(1030).collect();
    assert_eq!(chunks, [0..512, 512..1024, 1024..1030]);
}

/// A batch's statements go in one call, `;`-separated, with SQLite's anonymous parameters.
#[test]
fn a_batch_is_one_call_of_multi_row_statements() {
    struct Leaf(i64);
    impl Columns for Leaf {
        const KINDS: &'static [Kind] = &[Kind::Int, Kind::Bytes, Kind::Text];
        fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
            [Value::Int(self.0), Value::Bytes(b"h"), Value::Text("e")]
        }
    }
    impl Insert for Leaf {
        const INTO: &'static str = "INSERT INTO log_leaves (leaf_index, leaf_hash, entry) ";
    }
    let mut out = Writer(None);
    out.insert(&[Leaf(1), Leaf(2)]);
    out.statement()
        .push("DELETE FROM uploads WHERE blob_id IN (")
        .list([Value::Int(1), Value::Int(2)])
        .push(")");
    assert_eq!(
        out.0.unwrap().text(),
        "INSERT INTO log_leaves (leaf_index, leaf_hash, entry) VALUES (?, ?, ?), (?, ?, ?); \
         DELETE FROM uploads WHERE blob_id IN (?, ?)"
    );
}
