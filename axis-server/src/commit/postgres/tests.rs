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

/// A claim that reached the log state while another node's append held it does not take the
/// turn on the appended version (its read, from before the append, would be stale and the
/// holder would read again under the turn, a round trip of its link while every node waits).
/// Runs on PostgreSQL (`AXIS_TEST_DB=postgres`, as the e2e suite; `AXIS_TEST_PG` the admin URL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_that_waited_for_another_nodes_append_does_not_take_the_turn() {
    use sqlx::{Connection, Executor, PgConnection, Row};
    let Some(pg) = crate::store::test_pg::TestPg::create("claim").await else {
        return;
    };
    let url = pg.url.clone();
    // Watches the others from outside.
    let mut conn = PgConnection::connect(&url).await.unwrap();

    // Node A's append: holds the log state's row, not yet committed.
    let mut a = PgConnection::connect(&url).await.unwrap();
    a.execute("BEGIN").await.unwrap();
    a.execute("UPDATE log_state SET tree_size = tree_size + 1 WHERE id = 1")
        .await
        .unwrap();
    // Node B claims the turn meanwhile: its statement waits for the row.
    let mut b = PgConnection::connect(&url).await.unwrap();
    let b_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut b)
        .await
        .unwrap();
    let claim = tokio::spawn(async move {
        let none: Vec<Vec<u8>> = Vec::new();
        sqlx::query(CLAIM_READ.as_str())
            .bind(&none)
            .bind(&none)
            .bind(&none)
            .bind(42_i64)
            .bind(5_000_i64)
            .fetch_all(&mut b)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<i64, _>("kind"), r.get::<Option<i64>, _>("idx")))
            .collect::<Vec<_>>()
    });
    let mut waiting = false;
    for _ in 0..500 {
        waiting = sqlx::query_scalar::<_, bool>(
            "SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1",
        )
        .bind(b_pid)
        .fetch_optional(&mut conn)
        .await
        .unwrap()
        .unwrap_or(false);
        if waiting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(waiting, "the claim never waited for the row");
    a.execute("COMMIT").await.unwrap();

    let rows = claim.await.unwrap();
    assert_eq!(
        rows,
        vec![(0, Some(0))],
        "the read from the snapshot, and no turn taken"
    );
    let holder: Option<i64> = sqlx::query_scalar("SELECT turn_holder FROM log_state WHERE id = 1")
        .fetch_one(&mut a)
        .await
        .unwrap();
    assert_eq!(holder, None);

    // Claimed again, on the current version, it is taken.
    let none: Vec<Vec<u8>> = Vec::new();
    let kinds: Vec<(i64, Option<i64>)> = sqlx::query(CLAIM_READ.as_str())
        .bind(&none)
        .bind(&none)
        .bind(&none)
        .bind(42_i64)
        .bind(5_000_i64)
        .fetch_all(&mut a)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("kind"), r.get("idx")))
        .collect();
    assert_eq!(kinds, vec![(0, Some(1)), (4, Some(1))]);
    drop(a);
    pg.drop_database().await;
}

/// The commit's read looks a batch's message ids up through the primary key however the tables
/// have grown since the connection first ran it. PostgreSQL would otherwise keep the generic
/// plan it made after five executions on empty tables (a sequential scan) until the table is
/// next analyzed: with autovacuum off, never (measured: 280 ms a batch at 110,000 messages).
/// Runs on PostgreSQL (`AXIS_TEST_DB=postgres`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_read_uses_the_index_after_the_tables_grew_on_the_same_connection() {
    use sqlx::{Connection, Executor, PgConnection};
    let Some(pg) = crate::store::test_pg::TestPg::create("plan").await else {
        return;
    };
    let crate::store::Pool::Postgres(pool) = pg.db.pool() else {
        panic!("not a PostgreSQL pool")
    };
    let mut lease = Lease::acquire(pool).await.unwrap();
    let appender = Appender::new(Duration::from_secs(5)).unwrap();
    let ids = |from: u32| -> Vec<axis_signer::MessageId> {
        (from..from + 100)
            .map(|i| axis_signer::MessageId::from_uuid(uuid::Uuid::from_u128(u128::from(i))))
            .collect()
    };
    let lookups = |from| Lookups {
        message_ids: ids(from),
        ..Lookups::default()
    };
    // The committer's first batches, on empty tables.
    for k in 0..10 {
        let state = appender
            .read(&mut lease, &lookups(k * 100), false)
            .await
            .unwrap();
        assert!(state.stored.messages.is_empty());
    }
    // Then the log grows (with nobody analyzing it).
    let mut other = PgConnection::connect(&pg.url).await.unwrap();
    other
        .execute(
            "INSERT INTO messages (message_id, sender, routing_header, submission_signature, \
             key_envelope, ciphertext_len, blob_id, accepted_at, leaf_index, entry, proof) \
             SELECT uuid_send(lpad(to_hex(i), 32, '0')::uuid), 's', '\\x00', '\\x00', '\\x00', \
             0, i, 0, i, '\\x00', '\\x00' FROM generate_series(1, 50000) AS i",
        )
        .await
        .unwrap();
    // The next batch, on the same connection: it finds what is there, reading only that.
    lease.conn().execute("BEGIN").await.unwrap();
    let state = appender
        .read(&mut lease, &lookups(49_951), false)
        .await
        .unwrap();
    assert_eq!(
        state.stored.messages.len(),
        50,
        "ids 49,951–50,000 are stored"
    );
    let scanned: i64 = sqlx::query_scalar(
        "SELECT seq_tup_read FROM pg_stat_xact_user_tables WHERE relname = 'messages'",
    )
    .fetch_one(lease.conn())
    .await
    .unwrap();
    lease.conn().execute("COMMIT").await.unwrap();
    assert_eq!(scanned, 0, "the read scanned the whole messages table");
    lease.finished();
    drop((lease, other));
    pg.drop_database().await;
}
