//! After a burst: what the node opened and filled for it goes back when it is over (#18).
//! Here the database pool: connections a burst opened are closed once idle, down to one, while
//! the node's own periodic work (the readiness probe once a second, SQLite's WAL checkpoints
//! four times a second) goes on — on connections of their own, since the pool hands out its
//! longest-idle connection first and would otherwise never see one idle.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_proto::v1 as pb;
use axis_server::store::Pool;
use axis_tests::{TestAxis, TestPki};

/// Pooled connections now.
fn pool_size(pool: &Pool) -> u32 {
    match pool {
        Pool::Sqlite(p) => p.size(),
        Pool::Postgres(p) => p.size(),
    }
}

/// Eight calls at once, each holding a pooled connection until all have one.
async fn burst(pool: &Pool) {
    async fn hold_eight<DB: sqlx::Database>(p: &sqlx::Pool<DB>) {
        let held = futures_util::future::try_join_all((0..8).map(|_| p.acquire()))
            .await
            .unwrap();
        drop(held);
    }
    match pool {
        Pool::Sqlite(p) => hold_eight(p).await,
        Pool::Postgres(p) => hold_eight(p).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_a_burst_opened_are_closed_once_idle_down_to_one() {
    // An idle timeout of 3 s: longer than the time the node's periodic work (five calls a
    // second) would take to touch each of eight pooled connections in turn, had it used them.
    const IDLE_SECS: u64 = 3;
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start_with(pki, |c| c.database.idle_secs = IDLE_SECS).await;
    let node = axis.node.as_ref().unwrap();
    let pool = node.db().pool();
    burst(pool).await;
    assert!(pool_size(pool) >= 8, "the burst opened eight connections");

    // Closed within twice the timeout (the pool looks once per timeout); waited for far
    // longer before failing, so a loaded machine is not a failure.
    let start = Instant::now();
    while pool_size(pool) > 1 && start.elapsed() < Duration::from_secs(20 * IDLE_SECS) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        pool_size(pool),
        1,
        "idle connections closed down to one after {:?}",
        start.elapsed()
    );
    // One stays however long it is idle.
    tokio::time::sleep(Duration::from_secs(2 * IDLE_SECS + 1)).await;
    assert_eq!(pool_size(pool), 1, "one connection stays");

    // The node still answers, and opens what the next burst needs.
    let mut directory =
        pb::directory_client::DirectoryClient::new(axis.channel(&axis.pki.agencies[0].tls).await);
    let found = directory
        .lookup_agency(pb::LookupAgencyRequest {
            agency_id: axis.pki.agencies[1].id.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.agency_id, axis.pki.agencies[1].id.to_string());
    burst(pool).await;
    assert!(pool_size(pool) >= 8, "the next burst opened what it needs");
    axis.stop().await;
}
