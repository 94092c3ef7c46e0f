use super::*;

/// While the node is not ready a call is refused without reaching the database, with the
/// reason; once it is ready again calls are made.
#[tokio::test]
async fn while_the_node_is_not_ready_a_call_is_refused_at_once_and_made_again_after() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("axis.db").display());
    let db = Db::connect(&url).await.unwrap();
    assert!(db.message(&[0; 16]).await.unwrap().is_none());

    db.set_ready(Some("database: no answer within 1000 ms"));
    let refused = db.message(&[0; 16]).await.unwrap_err();
    let ServerError::Storage(sqlx::Error::Io(e)) = &refused else {
        panic!("not a refusal: {refused:?}")
    };
    assert_eq!(e.kind(), std::io::ErrorKind::NotConnected);
    assert_eq!(
        e.to_string(),
        "this node is not ready (database: no answer within 1000 ms); retry on another node"
    );
    assert_eq!(refused.code(), tonic::Code::Unavailable);

    db.set_ready(None);
    assert!(db.message(&[0; 16]).await.unwrap().is_none());
}

/// A connection that sat in the pool while the node stopped being ready is not used again
/// once it is ready: a partition may have cut it mid-protocol (its next statement would wait
/// out a whole deadline). Runs on PostgreSQL (`AXIS_TEST_DB=postgres`, as the e2e suite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_idle_through_an_outage_are_closed_not_used() {
    let Some(pg) = test_pg::TestPg::create("outage").await else {
        return;
    };
    let db = &pg.db;
    let Pool::Postgres(pool) = db.pool() else {
        panic!("not a PostgreSQL pool")
    };
    // Some use, then every connection back in the pool (a released one is pinged first).
    for _ in 0..6 {
        sqlx::query("SELECT 1").execute(pool).await.unwrap();
    }
    let all_idle = || async {
        for _ in 0..500 {
            if pool.num_idle() == pool.size() as usize {
                return pool.num_idle();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("connections still in use")
    };
    // Every connection the pool holds, taken at once (it hands out idle ones before opening).
    let held = |n: usize| async move {
        let mut conns = Vec::new();
        let mut pids = std::collections::BTreeSet::new();
        for _ in 0..n {
            let mut c = pool.acquire().await.unwrap();
            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                .fetch_one(&mut *c)
                .await
                .unwrap();
            pids.insert(pid);
            conns.push(c);
        }
        pids
    };
    let n = all_idle().await;
    let before = held(n).await;
    assert_eq!(before.len(), n);
    all_idle().await;

    db.set_ready(Some("database: no answer within 1000 ms"));
    db.set_ready(None);
    let after = held(n).await;
    assert!(
        before.is_disjoint(&after),
        "a connection idle through the outage was used again: {before:?} then {after:?}"
    );
    pg.drop_database().await;
}
