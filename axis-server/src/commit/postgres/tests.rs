use super::*;

struct Leaf(i64, &'static [u8]);

impl Columns for Leaf {
    const KINDS: &'static [Kind] = &[Kind::Int, Kind::Bytes];
    fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
        [Value::Int(self.0), Value::Bytes(self.1)]
    }
}

impl Insert for Leaf {
    const INTO: &'static str = "INSERT INTO t (a, b) ";
}

#[test]
fn rows_are_bound_a_column_at_a_time_with_their_types_even_when_empty() {
    let cols = columns(&[Leaf(1, b"x"), Leaf(2, b"y")]).unwrap();
    assert!(matches!(&cols[0], Array::Int(v) if v == &[1, 2]));
    assert!(matches!(&cols[1], Array::Bytes(v) if v == &[b"x".as_slice(), b"y"]));
    let empty = columns::<Leaf>(&[]).unwrap();
    assert!(matches!(&empty[0], Array::Int(v) if v.is_empty()));
    assert!(matches!(&empty[1], Array::Bytes(v) if v.is_empty()));
}

#[test]
fn a_value_of_the_wrong_type_is_an_invariant_failure_not_a_statement() {
    struct Bad;
    impl Columns for Bad {
        const KINDS: &'static [Kind] = &[Kind::Text];
        fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
            [Value::Int(1)]
        }
    }
    assert!(columns(&[Bad]).is_err());
    struct Short;
    impl Columns for Short {
        const KINDS: &'static [Kind] = &[Kind::Int, Kind::Int];
        fn values(&self) -> impl IntoIterator<Item = Value<'_>> {
            [Value::Int(1)]
        }
    }
    assert!(columns(&[Short]).is_err());
}

/// The statement's text does not depend on how many rows a batch has (it stays prepared), and
/// every part writes only if the compare-and-set took place.
#[test]
fn the_write_statement_has_one_text_for_every_batch_size() {
    let text = |rows: &[Leaf]| {
        let mut s = Statement(QueryBuilder::new("WITH state AS (…)"));
        s.insert("t", rows, " ON CONFLICT DO NOTHING").unwrap();
        s.0.into_string()
    };
    let one = text(&[Leaf(1, b"x")]);
    assert_eq!(
        one,
        "WITH state AS (…), t AS (INSERT INTO t (a, b) SELECT * FROM unnest($1::bigint[], \
         $2::bytea[]) WHERE EXISTS (SELECT 1 FROM state) ON CONFLICT DO NOTHING)"
    );
    assert_eq!(text(&[]), one);
    assert_eq!(text(&[Leaf(1, b"x"), Leaf(2, b"y"), Leaf(3, b"z")]), one);
}

#[test]
fn the_turn_read_is_the_read_with_the_claim_around_it() {
    assert!(CLAIM_READ.starts_with("WITH claim AS (UPDATE log_state SET turn_holder = $4"));
    assert!(CLAIM_READ.contains(READ));
    assert!(CLAIM_READ.ends_with("FROM claim"));
}
