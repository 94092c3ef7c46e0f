//! The committer's SQL, for either back end: the log lock (step 1), the `IN (…)` reads of what
//! a batch repeats (step 2a), and the batch's rows, a table at a time in multi-row statements
//! (step 4). What to write is decided before; the rows here are typed, one struct per table.
//!
//! Round trips stay per batch, not per job. On SQLite every write of a batch goes in one call
//! (`;`-separated statements; its anonymous parameters are bound in order across them), since a
//! round trip to sqlx's SQLite worker thread costs more than preparing. On PostgreSQL each
//! statement is one call, and lists and row counts come in a few fixed sizes so that every
//! statement text stays prepared.

use axis_log::Frontier;
use axis_signer::MessageId;
use sqlx::{Postgres, QueryBuilder, Sqlite, Transaction};

use super::job::{Logged, MAX_BATCH};
use super::plan::{Lookups, Stored, StoredMessage};
use crate::error::{Result, ServerError};
use crate::notify::INBOX_CHANNEL;
use crate::store::{Column, Db, Fields, Lease, Pool, logged_of, message_id_of};

mod rows;

pub(super) use rows::{Appended, Writes};
use rows::{Columns, Insert, NodeRow, Value};

/// Rows per multi-row statement on PostgreSQL, at most. A batch of `n` rows is written in
/// statements of 64, 32, 16, … rows (64s first, then the binary digits of the rest), so each
/// table has at most seven statement texts and they all stay prepared (a statement PostgreSQL has
/// not seen costs an extra round trip to prepare), whatever the batch sizes.
const ROWS_PER_STATEMENT: usize = 64;

/// Rows per statement on SQLite, at most (11 columns × 512 rows stays far below SQLite's 32,766
/// parameters). SQLite prepares a statement in the same call that runs it, so a batch takes one
/// statement of exactly its size per table, not prepared for reuse.
const ROWS_PER_SQLITE_STATEMENT: usize = MAX_BATCH;

/// Splits `0..n` into the runs of rows of one statement each: any length up to
/// `ROWS_PER_SQLITE_STATEMENT` when `exact`, else runs of `ROWS_PER_STATEMENT` rows, then of
/// decreasing powers of two.
fn row_chunks(n: usize, exact: bool) -> impl Iterator<Item = std::ops::Range<usize>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = n - start;
        if left == 0 {
            return None;
        }
        let len = if exact {
            left.min(ROWS_PER_SQLITE_STATEMENT)
        } else if left >= ROWS_PER_STATEMENT {
            ROWS_PER_STATEMENT
        } else {
            1 << left.ilog2()
        };
        start += len;
        Some(start - len..start)
    })
}

/// Splits `0..n` for `IN (…)` lists: at most `MAX_BATCH` values per query.
fn read_chunks(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..n)
        .step_by(MAX_BATCH)
        .map(move |start| start..(start + MAX_BATCH).min(n))
}

/// The values of an `IN (…)` list: exactly `values` when `exact`, else padded to the next power
/// of two by repeating the last one (which changes no answer), so one prepared statement per
/// power of two serves every length.
fn padded<T>(values: &[T], exact: bool) -> impl Iterator<Item = &T> {
    let len = if exact {
        values.len()
    } else {
        values.len().next_power_of_two()
    };
    values
        .iter()
        .chain(std::iter::repeat_n(values.last(), len - values.len()).flatten())
}

/// A statement being built for the back end of the transaction that will run it.
enum Sql {
    Sqlite(QueryBuilder<Sqlite>),
    Postgres(QueryBuilder<Postgres>),
}

impl Sql {
    fn push(&mut self, sql: &str) -> &mut Self {
        match self {
            Sql::Sqlite(q) => {
                q.push(sql);
            }
            Sql::Postgres(q) => {
                q.push(sql);
            }
        }
        self
    }

    fn bind(&mut self, value: Value<'_>) -> &mut Self {
        match self {
            Sql::Sqlite(q) => bind(q, value),
            Sql::Postgres(q) => bind(q, value),
        }
        self
    }

    #[cfg(test)]
    fn text(self) -> String {
        match self {
            Sql::Sqlite(q) => q.into_string(),
            Sql::Postgres(q) => q.into_string(),
        }
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

/// Binds `value` as the next parameter of `q`.
fn bind<DB: sqlx::Database>(q: &mut QueryBuilder<DB>, value: Value<'_>)
where
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'v> &'v [u8]: sqlx::Encode<'v, DB> + sqlx::Type<DB>,
    for<'v> &'v str: sqlx::Encode<'v, DB> + sqlx::Type<DB>,
{
    match value {
        Value::Int(v) => q.push_bind(v),
        Value::Bytes(v) => q.push_bind(v),
        Value::Text(v) => q.push_bind(v),
    };
}

/// A row of either back end.
enum AnyRow<'r> {
    Sqlite(&'r sqlx::sqlite::SqliteRow),
    Postgres(&'r sqlx::postgres::PgRow),
}

impl Fields for AnyRow<'_> {
    fn value<T: Column>(&self, column: &'static str) -> Result<T> {
        match self {
            AnyRow::Sqlite(r) => r.value(column),
            AnyRow::Postgres(r) => r.value(column),
        }
    }
}

/// Runs `q` in `tx`.
async fn run<DB: sqlx::Database + sqlx::database::HasStatementCache>(
    tx: &mut Transaction<'_, DB>,
    q: &mut QueryBuilder<DB>,
    persistent: bool,
) -> Result<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    q.build().persistent(persistent).execute(&mut **tx).await?;
    Ok(())
}

/// Runs `q` in `tx` and returns its rows.
async fn fetch_all<DB: sqlx::Database + sqlx::database::HasStatementCache>(
    tx: &mut Transaction<'_, DB>,
    q: &mut QueryBuilder<DB>,
    persistent: bool,
) -> Result<Vec<DB::Row>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    Ok(q.build()
        .persistent(persistent)
        .fetch_all(&mut **tx)
        .await?)
}

/// The committer's own connection. Handlers' reads share the pool; were the committer to
/// queue behind them for a connection at every batch (up to a hundred submissions in flight,
/// each reading twice), the log lock would wait on reads. It keeps its connection while jobs
/// keep coming and gives it back when idle.
/// A batch cut off by its deadline leaves the connection in the middle of a statement: it is
/// closed, never used again ([`Lease`]).
pub(super) enum Held {
    Sqlite(Lease<Sqlite>),
    Postgres(Lease<Postgres>),
}

impl Held {
    /// A connection from the pool (within the pool's acquire timeout).
    pub(super) async fn acquire(db: &Db) -> Result<Held> {
        Ok(match db.pool() {
            Pool::Sqlite(p) => Held::Sqlite(Lease::acquire(p).await?),
            Pool::Postgres(p) => Held::Postgres(Lease::acquire(p).await?),
        })
    }

    /// Starts the batch's transaction. The connection counts as in use until
    /// [`Held::finished`].
    pub(super) async fn begin(&mut self) -> Result<Tx<'_>> {
        Ok(match self {
            Held::Sqlite(c) => {
                c.started();
                Tx::Sqlite(sqlx::Connection::begin(c.conn()).await?)
            }
            Held::Postgres(c) => {
                c.started();
                Tx::Postgres(sqlx::Connection::begin(c.conn()).await?)
            }
        })
    }

    /// The batch's transaction ended (committed or failed with an answer): the connection may
    /// be kept or given back.
    pub(super) fn finished(&mut self) {
        match self {
            Held::Sqlite(c) => c.finished(),
            Held::Postgres(c) => c.finished(),
        }
    }
}

/// The transaction of one batch.
pub(super) enum Tx<'c> {
    Sqlite(Transaction<'c, Sqlite>),
    Postgres(Transaction<'c, Postgres>),
}

impl Tx<'_> {
    /// On SQLite, statements and lists have exactly their length (see the module's doc).
    fn exact(&self) -> bool {
        matches!(self, Tx::Sqlite(_))
    }

    fn sql(&self, head: &str) -> Sql {
        match self {
            Tx::Sqlite(_) => Sql::Sqlite(QueryBuilder::new(head)),
            Tx::Postgres(_) => Sql::Postgres(QueryBuilder::new(head)),
        }
    }

    async fn execute(&mut self, mut sql: Sql, persistent: bool) -> Result<()> {
        match (self, &mut sql) {
            (Tx::Sqlite(tx), Sql::Sqlite(q)) => run(tx, q, persistent).await,
            (Tx::Postgres(tx), Sql::Postgres(q)) => run(tx, q, persistent).await,
            _ => Err(ServerError::invariant("a statement for the other back end")),
        }
    }

    async fn fetch(
        &mut self,
        mut sql: Sql,
        persistent: bool,
        mut each: impl FnMut(&AnyRow<'_>) -> Result<()>,
    ) -> Result<()> {
        match (self, &mut sql) {
            (Tx::Sqlite(tx), Sql::Sqlite(q)) => {
                let rows = fetch_all(tx, q, persistent).await?;
                rows.iter().try_for_each(|r| each(&AnyRow::Sqlite(r)))
            }
            (Tx::Postgres(tx), Sql::Postgres(q)) => {
                let rows = fetch_all(tx, q, persistent).await?;
                rows.iter().try_for_each(|r| each(&AnyRow::Postgres(r)))
            }
            _ => Err(ServerError::invariant("a query for the other back end")),
        }
    }

    /// Commits the batch.
    pub(super) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Step 1: takes the log lock (an `UPDATE` of the single `log_state` row: SQLite's write
    /// lock, a row lock in PostgreSQL that serializes the committers of every node) and reads
    /// the frontier in the same statement.
    pub(super) async fn lock_log(&mut self) -> Result<Frontier> {
        let sql =
            self.sql("UPDATE log_state SET tree_size = tree_size WHERE id = 1 RETURNING frontier");
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
        mut each: impl FnMut(&AnyRow<'_>) -> Result<()>,
    ) -> Result<()> {
        let exact = self.exact();
        for r in read_chunks(keys.len()) {
            let mut sql = self.sql(head);
            sql.list(padded(&keys[r], exact).copied()).push(tail);
            self.fetch(sql, !exact, &mut each).await?;
        }
        Ok(())
    }

    /// Step 2a: everything of this batch already in the database, in a few queries.
    pub(super) async fn read_stored(&mut self, l: &Lookups) -> Result<Stored> {
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

    /// Step 4: writes every row, a table at a time, in multi-row statements, then wakes the
    /// recipients' nodes (PostgreSQL: `pg_notify`, delivered only if the transaction commits).
    pub(super) async fn write(&mut self, w: &Writes<'_>) -> Result<()> {
        let mut out = Writer {
            exact: self.exact(),
            combined: None,
            tx: self,
        };
        out.insert(&w.leaves).await?;
        out.insert(&w.segments).await?;
        for r in row_chunks(w.adopted.len(), out.exact) {
            let ids = w.adopted[r].iter().map(|id| Value::Int(*id));
            out.statement(|q| {
                q.push("DELETE FROM uploads WHERE blob_id IN (")
                    .list(ids)
                    .push(")");
            })
            .await?;
        }
        out.insert(&w.messages).await?;
        out.insert(&w.deliveries).await?;
        out.insert(&w.statements).await?;
        for r in row_chunks(w.states.len(), out.exact) {
            // VALUES columns are named column1, column2, … on both back ends.
            out.statement(|q| {
                q.push("UPDATE deliveries SET state = v.column1 FROM (")
                    .values(&w.states[r])
                    .push(
                        ") AS v WHERE deliveries.message_id = v.column2 \
                         AND deliveries.recipient = v.column3",
                    );
            })
            .await?;
        }
        for node in &w.nodes {
            out.statement(|q| {
                q.push(NodeRow::INTO)
                    .values(std::slice::from_ref(node))
                    .push(" ON CONFLICT DO NOTHING");
            })
            .await?;
        }
        out.insert(std::slice::from_ref(&w.tree_head)).await?;
        out.statement(|q| {
            q.push("UPDATE log_state SET tree_size = ")
                .bind(Value::Int(w.log_state.tree_size))
                .push(", frontier = ")
                .bind(Value::Bytes(&w.log_state.frontier))
                .push(" WHERE id = 1");
        })
        .await?;
        out.finish().await?;
        if matches!(self, Tx::Postgres(_)) {
            for r in row_chunks(w.wake.len(), false) {
                let mut q = self.sql("SELECT pg_notify(");
                q.bind(Value::Text(INBOX_CHANNEL))
                    .push(", v.column1) FROM (")
                    .values(&w.wake[r])
                    .push(") AS v");
                self.execute(q, true).await?;
            }
        }
        Ok(())
    }
}

fn message_ids(ids: &[MessageId]) -> Vec<Value<'_>> {
    ids.iter().map(|m| Value::Bytes(m.as_bytes())).collect()
}

/// Runs a batch's statements: on SQLite gathered into one call, on PostgreSQL one call each
/// (prepared once per statement text).
struct Writer<'t, 'c> {
    tx: &'t mut Tx<'c>,
    exact: bool,
    combined: Option<Sql>,
}

impl Writer<'_, '_> {
    async fn statement(&mut self, build: impl FnOnce(&mut Sql)) -> Result<()> {
        if self.exact {
            let q = match &mut self.combined {
                Some(q) => q.push("; "),
                None => self.combined.insert(self.tx.sql("")),
            };
            build(q);
            Ok(())
        } else {
            let mut q = self.tx.sql("");
            build(&mut q);
            self.tx.execute(q, true).await
        }
    }

    async fn insert<R: Insert>(&mut self, rows: &[R]) -> Result<()> {
        for r in row_chunks(rows.len(), self.exact) {
            self.statement(|q| {
                q.push(R::INTO).values(&rows[r]);
            })
            .await?;
        }
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        match self.combined {
            Some(q) => self.tx.execute(q, false).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
