//! The committer's transaction on SQLite: the log lock (step 1), the `IN (…)` reads of what a
//! batch repeats (step 2), and the batch's rows, a table at a time in multi-row statements
//! (step 4), all in one transaction under SQLite's write lock (one node owns a SQLite file, so
//! nothing else waits for it). What to write is decided before; the rows are typed, one struct
//! per table (`rows.rs`). PostgreSQL, where several nodes share the log, commits another way
//! (`postgres.rs`).
//!
//! Round trips stay per batch, not per job: every write of a batch goes in one call
//! (`;`-separated statements; SQLite's anonymous parameters are bound in order across them),
//! since a round trip to sqlx's SQLite worker thread costs more than preparing.

use axis_log::Frontier;
use axis_signer::MessageId;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::job::{Job, Logged, MAX_BATCH};
use super::plan::{self, Key, Lookups, Stored, StoredMessage};
use super::rows::{Columns, Insert, NodeRow, Value, Writes};
use super::{Batch, Committed, LogSigner};
use crate::error::{Result, ServerError};
use crate::store::{Fields, Lease, logged_of, message_id_of};

/// Rows per statement, at most (11 columns × 512 rows stays far below SQLite's 32,766
/// parameters). SQLite prepares a statement in the same call that runs it, so a batch takes one
/// statement of exactly its size per table, not prepared for reuse.
const ROWS_PER_STATEMENT: usize = MAX_BATCH;

/// Splits `0..n` into the runs of rows of one statement each.
fn row_chunks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n)
        .step_by(ROWS_PER_STATEMENT)
        .map(move |start| start..(start + ROWS_PER_STATEMENT).min(n))
}

/// Splits `0..n` for `IN (…)` lists: at most `MAX_BATCH` values per query.
fn read_chunks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n)
        .step_by(MAX_BATCH)
        .map(move |start| start..(start + MAX_BATCH).min(n))
}

/// A statement being built.
struct Sql(QueryBuilder<Sqlite>);

impl Sql {
    fn new(head: &str) -> Self {
        Sql(QueryBuilder::new(head))
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.0.push(sql);
        self
    }

    fn bind(&mut self, value: Value<'_>) -> &mut Self {
        match value {
            Value::Int(v) => self.0.push_bind(v),
            Value::Bytes(v) => self.0.push_bind(v),
            Value::Text(v) => self.0.push_bind(v),
        };
        self
    }

    #[cfg(test)]
    fn text(self) -> String {
        self.0.into_string()
    }

    /// `v1, v2, …`
    fn list<'v>(&mut self, values: impl IntoIterator<Item = Value<'v>>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self
    }

    /// `VALUES (…), (…)`, one tuple per row.
    fn values<R: Columns>(&mut self, rows: &[R]) -> &mut Self {
        self.push("VALUES ");
        for (i, row) in rows.iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            self.list(row.values());
            self.push(")");
        }
        self
    }
}

/// One batch, in one transaction on the committer's connection: the log lock, what the batch
/// repeats, the plan, the new leaves appended and signed, every row, the commit. Returns each
/// job's result and the agencies to wake.
pub(super) async fn commit(
    conn: &mut Lease<Sqlite>,
    signer: &LogSigner<'_>,
    jobs: &[Job],
) -> Result<Committed> {
    let keys: Vec<Key<'_>> = jobs.iter().map(plan::key).collect();
    let t0 = std::time::Instant::now();
    conn.started();
    let mut tx = Tx(sqlx::Connection::begin(conn.conn()).await?);
    // Step 1.
    let frontier = tx.lock_log().await?;
    // Step 2.
    let stored = tx.read_stored(&plan::lookups(&keys)).await?;
    let read = t0.elapsed();
    // Step 3.
    let batch = Batch::prepare(jobs, &keys, &stored, frontier, signer)?;
    let signed = t0.elapsed();
    // Step 4.
    let wake = match batch.writes(jobs)? {
        Some(writes) => {
            tx.write(&writes).await?;
            writes.wake
        }
        None => Vec::new(),
    };
    // Step 5.
    let written = t0.elapsed();
    tx.0.commit().await?;
    let committed = t0.elapsed();
    tracing::debug!(
        jobs = jobs.len(),
        leaves = batch.leaves(),
        read_us = read.as_micros() as u64,
        sign_us = (signed - read).as_micros() as u64,
        write_us = (written - signed).as_micros() as u64,
        commit_us = (committed - written).as_micros() as u64,
        "batch committed"
    );
    Ok(Committed {
        results: batch.answers(),
        wake,
    })
}

/// The transaction of one batch.
struct Tx<'c>(Transaction<'c, Sqlite>);

impl Tx<'_> {
    async fn execute(&mut self, sql: Sql, persistent: bool) -> Result<()> {
        let mut q = sql.0;
        q.build()
            .persistent(persistent)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn fetch(
        &mut self,
        sql: Sql,
        persistent: bool,
        each: impl FnMut(&SqliteRow) -> Result<()>,
    ) -> Result<()> {
        let mut q = sql.0;
        let rows = q
            .build()
            .persistent(persistent)
            .fetch_all(&mut *self.0)
            .await?;
        rows.iter().try_for_each(each)
    }

    /// Step 1: takes the log lock (an `UPDATE` of the single `log_state` row: SQLite's write
    /// lock) and reads the frontier in the same statement.
    async fn lock_log(&mut self) -> Result<Frontier> {
        let sql =
            Sql::new("UPDATE log_state SET tree_size = tree_size WHERE id = 1 RETURNING frontier");
        let mut frontier = None;
        self.fetch(sql, true, |row| {
            frontier = Some(row.value::<Vec<u8>>("frontier")?);
            Ok(())
        })
        .await?;
        let bytes =
            frontier.ok_or_else(|| ServerError::log_state("frontier", "no log_state row"))?;
        Frontier::from_bytes(&bytes).map_err(|e| ServerError::log_state("frontier", e))
    }

    /// Runs `head` + `IN (keys)` + `tail` over every key, at most `MAX_BATCH` keys a query,
    /// and hands each row to `each`.
    async fn select_in(
        &mut self,
        head: &str,
        keys: &[Value<'_>],
        tail: &str,
        mut each: impl FnMut(&SqliteRow) -> Result<()>,
    ) -> Result<()> {
        for r in read_chunks(keys.len()) {
            let mut sql = Sql::new(head);
            sql.list(keys[r].iter().copied()).push(tail);
            self.fetch(sql, false, &mut each).await?;
        }
        Ok(())
    }

    /// Step 2: everything of this batch already in the database, in a few queries.
    async fn read_stored(&mut self, l: &Lookups) -> Result<Stored> {
        let mut stored = Stored::default();
        self.select_in(
            "SELECT message_id, routing_header, entry, proof, leaf_index, accepted_at \
             FROM messages WHERE message_id IN (",
            &message_ids(&l.message_ids),
            ")",
            |row| {
                let logged = Logged::repeat(logged_of(row, "accepted_at")?);
                let routing_header = row.value("routing_header")?;
                stored.messages.insert(
                    message_id_of(row)?,
                    StoredMessage {
                        routing_header,
                        logged,
                    },
                );
                Ok(())
            },
        )
        .await?;
        let hashes: Vec<Value<'_>> = l.statement_hashes.iter().map(|h| Value::Bytes(h)).collect();
        self.select_in(
            "SELECT hash, entry, proof, leaf_index, logged_at FROM statements WHERE hash IN (",
            &hashes,
            ")",
            |row| {
                let hash = <[u8; 32]>::try_from(row.value::<Vec<u8>>("hash")?)
                    .map_err(|_| ServerError::stored("statement hash", "not 32 bytes"))?;
                let logged = Logged::repeat(logged_of(row, "logged_at")?);
                stored.statements.insert(hash, logged);
                Ok(())
            },
        )
        .await?;
        self.select_in(
            "SELECT message_id, recipient, COUNT(*) AS n FROM statements WHERE message_id IN (",
            &message_ids(&l.chain_messages),
            ") GROUP BY message_id, recipient",
            |row| {
                let chain = (message_id_of(row)?, row.value("recipient")?);
                stored.chains.insert(chain, row.value("n")?);
                Ok(())
            },
        )
        .await?;
        Ok(stored)
    }

    /// Step 4: writes every row, a table at a time, in multi-row statements gathered into one
    /// call.
    async fn write(&mut self, w: &Writes<'_>) -> Result<()> {
        let mut out = Writer(None);
        out.insert(&w.leaves);
        out.insert(&w.segments);
        for r in row_chunks(w.adopted.len()) {
            let ids = w.adopted[r].iter().map(|id| Value::Int(*id));
            out.statement()
                .push("DELETE FROM uploads WHERE blob_id IN (")
                .list(ids)
                .push(")");
        }
        out.insert(&w.messages);
        out.insert(&w.deliveries);
        out.insert(&w.statements);
        for r in row_chunks(w.states.len()) {
            // VALUES columns are named column1, column2, ….
            out.statement()
                .push("UPDATE deliveries SET state = v.column1 FROM (")
                .values(&w.states[r])
                .push(
                    ") AS v WHERE deliveries.message_id = v.column2 \
                     AND deliveries.recipient = v.column3",
                );
        }
        for node in &w.nodes {
            out.statement()
                .push(NodeRow::INTO)
                .values(std::slice::from_ref(node))
                .push(" ON CONFLICT DO NOTHING");
        }
        out.insert(std::slice::from_ref(&w.tree_head));
        out.statement()
            .push("UPDATE log_state SET tree_size = ")
            .bind(Value::Int(w.log_state.tree_size))
            .push(", frontier = ")
            .bind(Value::Bytes(&w.log_state.frontier))
            .push(" WHERE id = 1");
        match out.0 {
            Some(q) => self.execute(q, false).await,
            None => Ok(()),
        }
    }
}

fn message_ids(ids: &[MessageId]) -> Vec<Value<'_>> {
    ids.iter().map(|m| Value::Bytes(m.as_bytes())).collect()
}

/// A batch's statements, gathered into one call.
struct Writer(Option<Sql>);

impl Writer {
    /// The next statement, after the ones before it.
    fn statement(&mut self) -> &mut Sql {
        if let Some(q) = &mut self.0 {
            q.push("; ");
        }
        self.0.get_or_insert_with(|| Sql::new(""))
    }

    fn insert<R: Insert>(&mut self, rows: &[R]) {
        for r in row_chunks(rows.len()) {
            self.statement().push(R::INTO).values(&rows[r]);
        }
    }
}

#[cfg(test)]
mod tests;
