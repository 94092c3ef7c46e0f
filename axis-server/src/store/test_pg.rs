//! A database of its own on the test PostgreSQL, for a unit test that needs one. Such tests run
//! with `AXIS_TEST_DB=postgres`, as the e2e suite does (`AXIS_TEST_PG` is the admin URL), and
//! say they were skipped otherwise.

use sqlx::{Connection, Executor, PgConnection};

use super::random_blob_id;

/// A fresh database, migrated, dropped by [`TestPg::drop_database`].
pub(crate) struct TestPg {
    /// Its URL.
    pub(crate) url: String,
    /// The node's store on it (its pool, as the node configures it).
    pub(crate) db: super::Db,
    admin: PgConnection,
    name: String,
}

impl TestPg {
    /// A new database named after `test`; `None` unless `AXIS_TEST_DB=postgres`.
    pub(crate) async fn create(test: &str) -> Option<TestPg> {
        if std::env::var("AXIS_TEST_DB").map_or(true, |v| v != "postgres") {
            eprintln!("skipped: runs with AXIS_TEST_DB=postgres");
            return None;
        }
        let admin = std::env::var("AXIS_TEST_PG")
            .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into());
        let name = format!("axis_{test}_{}", random_blob_id().unwrap().unsigned_abs());
        let mut conn = PgConnection::connect(&admin).await.unwrap();
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        let db = super::Db::connect(&url).await.unwrap(); // the migrations too
        Some(TestPg {
            url,
            db,
            admin: conn,
            name,
        })
    }

    /// Drops the database, whoever is still connected.
    pub(crate) async fn drop_database(mut self) {
        self.db.close().await;
        self.admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE {} WITH (FORCE)",
                self.name
            )))
            .await
            .unwrap();
    }
}
