use super::*;

#[track_caller]
fn check(n: usize, exact: bool, expected: &[usize]) {
    let lens: Vec<usize> = row_chunks(n, exact).map(|r| r.len()).collect();
    assert_eq!(lens, expected);
    let covered: Vec<usize> = row_chunks(n, exact).flatten().collect();
    assert_eq!(covered, (0..n).collect::<Vec<_>>());
}

#[test]
fn row_chunks_cover_every_row_once() {
    check(0, false, &[]);
    check(1, false, &[1]);
    check(48, false, &[32, 16]);
    check(64, false, &[64]);
    check(139, false, &[64, 64, 8, 2, 1]);
    check(0, true, &[]);
    check(48, true, &[48]);
    check(1100, true, &[512, 512, 76]);
}

#[test]
fn in_lists_pad_with_the_last_value() {
    let v = [1, 2, 3, 4, 5];
    assert_eq!(
        padded(&v, true).copied().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(
        padded(&v, false).copied().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 5, 5, 5]
    );
    assert_eq!(padded(&v[..4], false).count(), 4);
    assert_eq!(padded::<u8>(&[], false).count(), 0);
    let chunks: Vec<_> = read_chunks(1030).collect();
    assert_eq!(chunks, [0..512, 512..1024, 1024..1030]);
}

/// The statement texts are the ones sqlx's `push_values` and `separated` wrote before, so
/// PostgreSQL's prepared statements and their shapes are unchanged.
#[test]
fn statements_read_the_same_on_both_back_ends() {
    struct Leaf(i64);
    impl Columns for Leaf {
        fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
            [Value::Int(self.0), Value::Bytes(b"h"), Value::Text("e")]
        }
    }
    let rows = [Leaf(1), Leaf(2)];
    let into = "INSERT INTO log_leaves (leaf_index, leaf_hash, entry) ";
    let mut pg = Sql::Postgres(QueryBuilder::new(""));
    pg.push(into).values(&rows);
    assert_eq!(
        pg.text(),
        "INSERT INTO log_leaves (leaf_index, leaf_hash, entry) VALUES ($1, $2, $3), ($4, $5, $6)"
    );
    let mut lite = Sql::Sqlite(QueryBuilder::new(""));
    lite.push(into).values(&rows[..1]);
    lite.push("; DELETE FROM uploads WHERE blob_id IN (")
        .list([Value::Int(1), Value::Int(2)])
        .push(")");
    assert_eq!(
        lite.text(),
        "INSERT INTO log_leaves (leaf_index, leaf_hash, entry) VALUES (?, ?, ?); \
         DELETE FROM uploads WHERE blob_id IN (?, ?)"
    );
    let mut notify = Sql::Postgres(QueryBuilder::new("SELECT pg_notify("));
    notify
        .bind(Value::Text(INBOX_CHANNEL))
        .push(", v.column1) FROM (")
        .values(&["a".to_owned(), "b".to_owned()])
        .push(") AS v");
    assert_eq!(
        notify.text(),
        "SELECT pg_notify($1, v.column1) FROM (VALUES ($2), ($3)) AS v"
    );
}
