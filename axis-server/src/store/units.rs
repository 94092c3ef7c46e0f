//! The unit directory's storage: every version of every unit (a row is live from the version
//! that added it, `added_in`, until the one that changed or removed it, `removed_in`), and the
//! operator's signed versions. Any version is read in pages while later imports land; an
//! import is one transaction.

use std::time::Duration;

use sqlx::{Connection as _, QueryBuilder};
use time::OffsetDateTime;

use super::{Db, Fields, Pool, deadline_passed, i64_of, millis};
use crate::error::{Result, ServerError};

/// Rows per multi-row INSERT or `IN (…)` list of an import (7 values a row: far below
/// SQLite's 32,766 and PostgreSQL's 65,535 parameters).
const IMPORT_CHUNK: usize = 1000;
/// An import's transaction (111,339 units) may outlast one call's deadline by this factor.
const IMPORT_DEADLINE_FACTOR: u32 = 12;

/// One unit as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitRow {
    /// QCVN 102:2016 id.
    pub unit_id: String,
    /// Official name (NFC).
    pub name: String,
    /// Parent id, or empty.
    pub parent_id: String,
    /// QĐ 20/2020 code, or empty.
    pub code_qd20: String,
    /// Level, 1 to 4.
    pub level: i64,
}

/// A signed directory version as stored.
#[derive(Clone, Debug)]
pub struct VersionRow {
    /// The version number.
    pub version: u64,
    /// DER `DirectoryVersion`.
    pub statement: Vec<u8>,
    /// The operator's CMS signature.
    pub signature: Vec<u8>,
}

/// The columns `unit_of` reads.
const UNIT_COLUMNS: &str = "unit_id, name, parent_id, code_qd20, level";

fn unit_of(r: &impl Fields) -> Result<UnitRow> {
    Ok(UnitRow {
        unit_id: r.value("unit_id")?,
        name: r.value("name")?,
        parent_id: r.value("parent_id")?,
        code_qd20: r.value("code_qd20")?,
        level: r.value("level")?,
    })
}

fn version_of(r: &impl Fields) -> Result<VersionRow> {
    Ok(VersionRow {
        version: r.index("version")?,
        statement: r.value("statement")?,
        signature: r.value("signature")?,
    })
}

/// [`on_pool!`] within [`IMPORT_DEADLINE_FACTOR`] call deadlines: reading or writing a whole
/// directory.
macro_rules! on_pool_long {
    ($db:expr, $p:ident => $body:expr) => {{
        let db: &Db = $db;
        db.bounded_long(async {
            match db.pool() {
                Pool::Sqlite(pool) => {
                    let mut lease = super::Lease::acquire(pool).await?;
                    let $p = lease.conn();
                    let result: Result<_> = async { $body }.await;
                    lease.finished();
                    result
                }
                Pool::Postgres(pool) => {
                    let mut lease = super::Lease::acquire(pool).await?;
                    let $p = lease.conn();
                    let result: Result<_> = async { $body }.await;
                    lease.finished();
                    result
                }
            }
        })
        .await
    }};
}

/// Live at version `$n` (bound twice: placeholders are never repeated).
const LIVE_AT: &str = "added_in <= $2 AND (removed_in IS NULL OR removed_in > $3)";

impl Db {
    /// The current signed version, if any import happened.
    pub async fn directory_head(&self) -> Result<Option<VersionRow>> {
        on_pool!(self, p => {
            let row = sqlx::query(
                "SELECT version, statement, signature FROM directory_versions \
                 ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(p)
            .await?;
            row.as_ref().map(version_of).transpose()
        })
    }

    /// The signed versions `after + 1 ..= upto`, in order.
    pub async fn directory_versions(&self, after: u64, upto: u64) -> Result<Vec<VersionRow>> {
        on_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT version, statement, signature FROM directory_versions \
                 WHERE version > $1 AND version <= $2 ORDER BY version",
            )
            .bind(i64_of("version", after)?)
            .bind(i64_of("version", upto)?)
            .fetch_all(p)
            .await?;
            rows.iter().map(version_of).collect()
        })
    }

    /// A page of the units live at `version`, after the id `after`, in id order.
    pub async fn units_at(&self, version: u64, after: &str, limit: u32) -> Result<Vec<UnitRow>> {
        let sql = format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE unit_id > $1 AND {LIVE_AT} \
             ORDER BY unit_id LIMIT $4"
        );
        let v = i64_of("version", version)?;
        on_pool!(self, p => {
            // Only constant text is formatted in; every value is bound.
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(after)
                .bind(v)
                .bind(v)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?;
            rows.iter().map(unit_of).collect()
        })
    }

    /// Every unit live at `version`, in id order (what an import is checked against).
    pub async fn all_units_at(&self, version: u64) -> Result<Vec<UnitRow>> {
        let sql = format!("SELECT {UNIT_COLUMNS} FROM units WHERE {LIVE_AT} ORDER BY unit_id")
            .replace("$2", "$1")
            .replace("$3", "$2");
        let v = i64_of("version", version)?;
        on_pool_long!(self, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(v)
                .bind(v)
                .fetch_all(p)
                .await?;
            rows.iter().map(unit_of).collect()
        })
    }

    /// One current unit.
    pub async fn unit(&self, id: &str) -> Result<Option<UnitRow>> {
        let sql =
            format!("SELECT {UNIT_COLUMNS} FROM units WHERE unit_id = $1 AND removed_in IS NULL");
        on_pool!(self, p => {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(unit_of).transpose()
        })
    }

    /// A page of current units after `after`, optionally only the children of `parent`.
    pub async fn list_units(
        &self,
        after: &str,
        parent: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UnitRow>> {
        on_pool!(self, p => {
            let rows = match parent {
                Some(parent) => {
                    let sql = format!(
                        "SELECT {UNIT_COLUMNS} FROM units WHERE parent_id = $1 AND unit_id > $2 \
                         AND removed_in IS NULL ORDER BY unit_id LIMIT $3"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(parent)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(p)
                        .await?
                }
                None => {
                    let sql = format!(
                        "SELECT {UNIT_COLUMNS} FROM units WHERE unit_id > $1 \
                         AND removed_in IS NULL ORDER BY unit_id LIMIT $2"
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(p)
                        .await?
                }
            };
            rows.iter().map(unit_of).collect()
        })
    }

    /// The net changes from `since` to `upto`: units live at `upto` that were added after
    /// `since` (new or changed), and ids live at `since` with no row live at `upto` (removed).
    pub async fn unit_changes(&self, since: u64, upto: u64) -> Result<(Vec<UnitRow>, Vec<String>)> {
        let (s, u) = (i64_of("version", since)?, i64_of("version", upto)?);
        let upserts_sql = format!(
            "SELECT {UNIT_COLUMNS} FROM units WHERE added_in > $1 AND added_in <= $2 \
             AND (removed_in IS NULL OR removed_in > $3) ORDER BY unit_id"
        );
        on_pool_long!(self, p => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(upserts_sql.clone()))
                    .bind(s)
                    .bind(u)
                    .bind(u)
                    .fetch_all(&mut *p)
                    .await?;
                let upserts = rows.iter().map(unit_of).collect::<Result<Vec<_>>>()?;
                let removals = sqlx::query_scalar::<_, String>(
                    "SELECT o.unit_id FROM units o WHERE o.added_in <= $1 \
                     AND o.removed_in > $2 AND o.removed_in <= $3 \
                     AND NOT EXISTS (SELECT 1 FROM units n WHERE n.unit_id = o.unit_id \
                     AND n.added_in > $4 AND n.added_in <= $5 \
                     AND (n.removed_in IS NULL OR n.removed_in > $6)) ORDER BY o.unit_id",
                )
                .bind(s)
                .bind(s)
                .bind(u)
                .bind(s)
                .bind(u)
                .bind(u)
                .fetch_all(&mut *p)
                .await?;
                Ok((upserts, removals))
        })
    }

    /// Stores version `version` in one transaction: its signed statement, the rows it ends
    /// (`ended`: changed and removed ids), and the rows it adds. Refused with
    /// [`ServerError::DirectoryConflict`] if that version exists already (another import came
    /// first); nothing is stored then.
    pub async fn import_units(
        &self,
        version: &VersionRow,
        ended: &[String],
        added: &[UnitRow],
        now: OffsetDateTime,
    ) -> Result<()> {
        let v = i64_of("version", version.version)?;
        on_pool_long!(self, p => {
            let mut tx = p.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO directory_versions (version, statement, signature, imported_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(v)
            .bind(&version.statement)
            .bind(&version.signature)
            .bind(millis(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                    return Err(ServerError::DirectoryConflict(version.version));
                }
                r => {
                    r?;
                }
            }
            for chunk in ended.chunks(IMPORT_CHUNK) {
                let mut q = QueryBuilder::new("UPDATE units SET removed_in = ");
                q.push_bind(v).push(" WHERE removed_in IS NULL AND unit_id IN (");
                let mut ids = q.separated(", ");
                for id in chunk {
                    ids.push_bind(id.clone());
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            for chunk in added.chunks(IMPORT_CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO units (unit_id, added_in, name, parent_id, code_qd20, level) ",
                );
                q.push_values(chunk, |mut row, u| {
                    row.push_bind(u.unit_id.clone())
                        .push_bind(v)
                        .push_bind(u.name.clone())
                        .push_bind(u.parent_id.clone())
                        .push_bind(u.code_qd20.clone())
                        .push_bind(u.level);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })?;
        // PostgreSQL plans a lookup from the table's statistics, which autovacuum refreshes
        // only later: right after an import of 111,339 units it ANDed the whole `removed_in`
        // index with the primary key (1.8 ms per lookup instead of 0.04 ms).
        if self.is_postgres() {
            on_pool!(self, p => {
                sqlx::query("ANALYZE units").execute(p).await?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Runs `call` within [`IMPORT_DEADLINE_FACTOR`] call deadlines: reading or writing a
    /// whole directory.
    async fn bounded_long<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let within: Duration = self.deadline * IMPORT_DEADLINE_FACTOR;
        match tokio::time::timeout(within, call).await {
            Ok(r) => r,
            Err(_) => Err(deadline_passed("a directory import or read", within)),
        }
    }
}
