//! The committer on PostgreSQL, where several nodes share one log: optimistic, so that no node
//! holds anything across its own round trips and a node with a slow database link stalls only
//! itself.
//!
//! A batch is two statements, neither inside an explicit transaction:
//!
//! 1. **Read** ([`READ`]): the log state (`tree_size`, frontier) and everything the batch might
//!    repeat, in one statement, so from one snapshot. No lock.
//! 2. Plan, append and sign on the node, without I/O (`Batch::prepare`).
//! 3. **Write** ([`write`]): one statement whose first part is a compare-and-set on the single
//!    `log_state` row (`UPDATE … WHERE tree_size = <the size read>`) and whose every other part
//!    (leaves, nodes, tree head, messages, deliveries, ciphertext, statements, `pg_notify`) only
//!    writes if that update took place. Each table's rows are bound as arrays (`unnest`), so the
//!    statement's text never changes and stays prepared. The row lock it takes lasts as long as
//!    the statement runs on the server, never a round trip.
//!
//! If the size moved (another node appended in between), nothing of the batch is written: the
//! race is lost, and the batch is read and planned again. Every append raises `tree_size`, so an
//! unchanged size means nothing the plan read has changed: no document is logged twice, leaves
//! stay contiguous, and every batch has one signed tree head over exactly its predecessor.
//!
//! A node whose link is slow loses these races while another keeps appending. After
//! [`OPTIMISTIC_ATTEMPTS`] lost races it **takes the turn**: its read also sets
//! `log_state.turn_holder` (its random id) and `turn_until` (now plus the commit deadline, on the
//! database's clock). While another committer holds an unexpired turn, a node's appends do not
//! match and its reads say so, and it waits (polling, [`TURN_POLL`]); the holder's append clears
//! the turn. A claim is taken only on the version its own read saw ([`CLAIM`]), so the holder
//! writes right after it and the others wait for it one round trip of its link per turn; a claim
//! that met another node's append in progress (that statement's time on the server, not a round
//! trip) is made again. So the slowest node appends after `OPTIMISTIC_ATTEMPTS` lost races and
//! a claim or two (no starvation). A holder that dies or is cut off holds the turn until
//! `turn_until` at most.

use std::time::{Duration, Instant};

use axis_log::Frontier;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder};

use super::plan::{self, Key, Lookups, Stored, StoredMessage};
use super::rows::{Columns, Insert, Kind, Value, Writes};
use super::{Batch, Committed, Job, LogSigner, Logged};
use crate::error::{Result, ServerError};
use crate::notify::INBOX_CHANNEL;
use crate::store::{Fields, Lease, logged_of, message_id_of, random_blob_id};

/// Races lost in a row before a committer takes the turn.
pub(super) const OPTIMISTIC_ATTEMPTS: u32 = 3;

/// How often a committer waiting for another's turn looks again (at most; less if the turn ends
/// sooner).
pub(super) const TURN_POLL: Duration = Duration::from_millis(10);

/// The batch's read: the log state (kind 0: `bytes` the frontier, `idx` the tree size, `at` the
/// milliseconds left of another committer's turn, if one holds it), then the stored messages
/// (kind 1), statements (kind 2) and chain lengths (kind 3) the batch asks about. `$1` message
/// ids, `$2` statement hashes, `$3` chain messages, `$4` this committer's id.
const READ: &str = "SELECT 0::bigint AS kind, NULL::bytea AS key, NULL::text AS recipient, \
     frontier AS bytes, NULL::bytea AS entry, NULL::bytea AS proof, tree_size AS idx, \
     CASE WHEN turn_holder <> $4 AND turn_until > clock_timestamp() \
     THEN GREATEST(1, CEIL(EXTRACT(EPOCH FROM turn_until - clock_timestamp()) * 1000))::bigint \
     END AS at FROM log_state WHERE id = 1 \
     UNION ALL SELECT 1, message_id, NULL, routing_header, entry, proof, leaf_index, accepted_at \
     FROM messages WHERE message_id = ANY($1::bytea[]) \
     UNION ALL SELECT 2, hash, NULL, NULL, entry, proof, leaf_index, logged_at \
     FROM statements WHERE hash = ANY($2::bytea[]) \
     UNION ALL SELECT 3, message_id, recipient, NULL, NULL, NULL, COUNT(*), NULL \
     FROM statements WHERE message_id = ANY($3::bytea[]) GROUP BY message_id, recipient";

/// [`READ`] taking the turn: `$5` is its length in milliseconds. Kind 4 is present if the turn
/// was taken, with the tree size as it is once taken (`idx`).
///
/// The turn is taken only on the row version the statement's snapshot read: if another node's
/// append held the row when the claim reached it, PostgreSQL re-checks the `WHERE` on the
/// appended version (read committed), where `tree_size` no longer equals the snapshot's (the
/// sub-select keeps the snapshot's), so the claim is not taken and the committer claims again at
/// once. Taking it there instead would give a turn whose read is stale: the holder would read
/// again under the turn, one more round trip of its (slow) link, while every other node waits
/// (measured: a 2 s-slow node held a healthy one 4.2–4.8 s, past its commit deadline).
const CLAIM: &str = "WITH claim AS (UPDATE log_state SET turn_holder = $4, \
     turn_until = clock_timestamp() + $5::bigint * interval '1 millisecond' \
     WHERE id = 1 AND (turn_holder IS NULL OR turn_holder = $4 OR turn_until <= clock_timestamp()) \
     AND tree_size = (SELECT tree_size FROM log_state WHERE id = 1) \
     RETURNING tree_size) ";

/// The last branch of [`CLAIM`].
const CLAIMED: &str =
    " UNION ALL SELECT 4, NULL, NULL, NULL, NULL, NULL, tree_size, NULL FROM claim";

/// The committer of one node: its id in `log_state.turn_holder`, and how long a turn it takes.
pub(super) struct Appender {
    id: i64,
    turn: Duration,
}

/// What a read found.
struct State {
    tree_size: i64,
    frontier: Frontier,
    stored: Stored,
    /// Another committer holds the turn for this much longer.
    turn_held: Option<Duration>,
    /// This committer took the turn: the tree size once taken.
    claimed: Option<i64>,
}

impl Appender {
    /// A committer with a fresh random id, taking turns of `turn` (the commit deadline: a
    /// holder that has not appended by then has failed its batch anyway).
    pub(super) fn new(turn: Duration) -> Result<Self> {
        Ok(Appender {
            id: random_blob_id()?,
            turn,
        })
    }

    /// One batch: read, plan, write; again while the race is lost, taking the turn after
    /// [`OPTIMISTIC_ATTEMPTS`] lost races.
    pub(super) async fn commit(
        &self,
        conn: &mut Lease<Postgres>,
        signer: &LogSigner<'_>,
        jobs: &[Job],
    ) -> Result<Committed> {
        let keys: Vec<Key<'_>> = jobs.iter().map(plan::key).collect();
        let lookups = plan::lookups(&keys);
        conn.started();
        let mut lost = 0;
        let t0 = Instant::now();
        loop {
            let turn = lost >= OPTIMISTIC_ATTEMPTS;
            let state = self.read(conn, &lookups, turn).await?;
            if let Some(left) = state.turn_held {
                crate::metrics::COMMIT_TURN_WAITS.inc();
                tokio::time::sleep(left.min(TURN_POLL)).await;
                continue;
            }
            match (turn, state.claimed) {
                (false, _) => {}
                // Not taken: another committer took the turn after this statement's snapshot,
                // or appended while the claim waited for the row ([`CLAIM`]). Claim again.
                (true, None) => {
                    tokio::time::sleep(TURN_POLL).await;
                    continue;
                }
                // Taken on a newer version than the snapshot read ([`CLAIM`] should prevent
                // this): read again (under the turn nobody else appends, so it is current).
                (true, Some(size)) if size != state.tree_size => continue,
                (true, Some(_)) => {}
            }
            let read = t0.elapsed();
            let batch = Batch::prepare(jobs, &keys, &state.stored, state.frontier, signer)?;
            let signed = t0.elapsed();
            let Some(writes) = batch.writes(jobs)? else {
                // Nothing to append (every job a repeat or refused): the answers stand as read.
                if turn {
                    self.release(conn).await?;
                }
                return Ok(Committed {
                    results: batch.answers(),
                    wake: Vec::new(),
                });
            };
            if write(conn.conn(), &writes, state.tree_size, self.id).await? {
                let wake = writes.wake;
                tracing::debug!(
                    jobs = jobs.len(),
                    leaves = batch.leaves(),
                    lost,
                    turn,
                    read_us = read.as_micros() as u64,
                    sign_us = (signed - read).as_micros() as u64,
                    write_us = (t0.elapsed() - signed).as_micros() as u64,
                    "batch committed"
                );
                return Ok(Committed {
                    results: batch.answers(),
                    wake,
                });
            }
            lost += 1;
            crate::metrics::COMMIT_CONFLICTS.inc();
            if lost == OPTIMISTIC_ATTEMPTS {
                crate::metrics::COMMIT_TURNS.inc();
                tracing::info!(
                    lost,
                    jobs = jobs.len(),
                    "another node appended first every time: taking the turn"
                );
            }
        }
    }

    /// Reads the log state and what the batch repeats; with `turn`, takes the turn too.
    async fn read(&self, conn: &mut Lease<Postgres>, l: &Lookups, turn: bool) -> Result<State> {
        let ids = |v: &[axis_signer::MessageId]| -> Vec<Vec<u8>> {
            v.iter().map(|m| m.as_bytes().to_vec()).collect()
        };
        let hashes: Vec<&[u8]> = l.statement_hashes.iter().map(|h| h.as_slice()).collect();
        let sql: &'static str = if turn { CLAIM_READ.as_str() } else { READ };
        let q = sqlx::query(sql)
            .bind(ids(&l.message_ids))
            .bind(hashes)
            .bind(ids(&l.chain_messages))
            .bind(self.id);
        let q = if turn {
            q.bind(i64::try_from(self.turn.as_millis()).unwrap_or(i64::MAX))
        } else {
            q
        };
        let rows = q.persistent(true).fetch_all(conn.conn()).await?;
        state_of(&rows)
    }

    /// Gives the turn back (a batch that took it had nothing to append).
    async fn release(&self, conn: &mut Lease<Postgres>) -> Result<()> {
        sqlx::query(
            "UPDATE log_state SET turn_holder = NULL, turn_until = NULL \
             WHERE id = 1 AND turn_holder = $1",
        )
        .bind(self.id)
        .execute(conn.conn())
        .await?;
        Ok(())
    }
}

/// [`CLAIM`] + [`READ`] + [`CLAIMED`].
static CLAIM_READ: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{CLAIM}{READ}{CLAIMED}"));

/// Sorts a read's rows out.
fn state_of(rows: &[PgRow]) -> Result<State> {
    let mut log = None;
    let mut stored = Stored::default();
    let mut claimed = None;
    for row in rows {
        match row.value::<i64>("kind")? {
            0 => {
                let size: i64 = row.value("idx")?;
                let frontier = Frontier::from_bytes(&row.value::<Vec<u8>>("bytes")?)
                    .map_err(|e| ServerError::log_state("frontier", e))?;
                let held: Option<i64> = row.value("at")?;
                log = Some((size, frontier, held));
            }
            1 => {
                let logged = Logged::repeat(logged_row(row)?);
                stored.messages.insert(
                    message_id_of(&Keyed(row))?,
                    StoredMessage {
                        routing_header: row.value("bytes")?,
                        logged,
                    },
                );
            }
            2 => {
                let hash = <[u8; 32]>::try_from(row.value::<Vec<u8>>("key")?)
                    .map_err(|_| ServerError::stored("statement hash", "not 32 bytes"))?;
                stored
                    .statements
                    .insert(hash, Logged::repeat(logged_row(row)?));
            }
            3 => {
                let chain = (message_id_of(&Keyed(row))?, row.value("recipient")?);
                stored.chains.insert(chain, row.value("idx")?);
            }
            4 => claimed = Some(row.value("idx")?),
            k => return Err(ServerError::stored("read row kind", k)),
        }
    }
    let (tree_size, frontier, held) =
        log.ok_or_else(|| ServerError::log_state("frontier", "no log_state row"))?;
    Ok(State {
        tree_size,
        frontier,
        stored,
        turn_held: held.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(1))),
        claimed,
    })
}

/// A read row seen with the column names `message_id_of` and `logged_of` expect.
struct Keyed<'r>(&'r PgRow);

impl Fields for Keyed<'_> {
    fn value<T: crate::store::Column>(&self, column: &'static str) -> Result<T> {
        let column = match column {
            "message_id" => "key",
            "leaf_index" => "idx",
            other => other,
        };
        self.0.value(column)
    }
}

/// The `entry`, `proof`, `leaf_index` and time of a stored message or statement row.
fn logged_row(row: &PgRow) -> Result<crate::store::LoggedRow> {
    logged_of(&Keyed(row), "at")
}

/// A column's values, bound as one array.
enum Array<'a> {
    Int(Vec<i64>),
    Bytes(Vec<&'a [u8]>),
    Text(Vec<&'a str>),
}

/// `rows` a column at a time.
fn columns<R: Columns>(rows: &[R]) -> Result<Vec<Array<'_>>> {
    let mut cols: Vec<Array<'_>> = R::KINDS
        .iter()
        .map(|k| match k {
            Kind::Int => Array::Int(Vec::with_capacity(rows.len())),
            Kind::Bytes => Array::Bytes(Vec::with_capacity(rows.len())),
            Kind::Text => Array::Text(Vec::with_capacity(rows.len())),
        })
        .collect();
    for row in rows {
        let mut n = 0;
        for (col, v) in cols.iter_mut().zip(row.values()) {
            match (col, v) {
                (Array::Int(c), Value::Int(v)) => c.push(v),
                (Array::Bytes(c), Value::Bytes(v)) => c.push(v),
                (Array::Text(c), Value::Text(v)) => c.push(v),
                _ => {
                    return Err(ServerError::invariant(
                        "a value of another type than its column",
                    ));
                }
            }
            n += 1;
        }
        if n != R::KINDS.len() {
            return Err(ServerError::invariant(
                "a row of another width than its table",
            ));
        }
    }
    Ok(cols)
}

/// The write statement being built.
struct Statement(QueryBuilder<Postgres>);

/// `AND`/`WHERE` condition on every part after the compare-and-set.
const IF_APPENDED: &str = "EXISTS (SELECT 1 FROM state)";

impl Statement {
    fn push(&mut self, sql: &str) -> &mut Self {
        self.0.push(sql);
        self
    }

    /// `$n::type[], $m::type[], …`, one array per column.
    fn arrays(&mut self, cols: Vec<Array<'_>>) -> &mut Self {
        for (i, col) in cols.into_iter().enumerate() {
            if i > 0 {
                self.0.push(", ");
            }
            match col {
                Array::Int(v) => self.0.push_bind(v).push("::bigint[]"),
                Array::Bytes(v) => self.0.push_bind(v).push("::bytea[]"),
                Array::Text(v) => self.0.push_bind(v).push("::text[]"),
            };
        }
        self
    }

    /// `, name AS (INSERT INTO … SELECT * FROM unnest(…) WHERE <appended>)`
    fn insert<R: Insert>(&mut self, name: &str, rows: &[R], tail: &str) -> Result<&mut Self> {
        let cols = columns(rows)?;
        self.push(", ")
            .push(name)
            .push(" AS (")
            .push(R::INTO)
            .push("SELECT * FROM unnest(")
            .arrays(cols)
            .push(") WHERE ")
            .push(IF_APPENDED)
            .push(tail)
            .push(")");
        Ok(self)
    }
}

/// Step 4 in one statement: the compare-and-set of `log_state` from `expected` to the batch's
/// size, and every row of the batch if it took place. True if it did (the batch is committed);
/// false if another node appended first (nothing was written).
async fn write(
    conn: &mut sqlx::PgConnection,
    w: &Writes<'_>,
    expected: i64,
    me: i64,
) -> Result<bool> {
    let mut s = Statement(QueryBuilder::new(
        "WITH state AS (UPDATE log_state SET tree_size = ",
    ));
    s.0.push_bind(w.log_state.tree_size)
        .push(", frontier = ")
        .push_bind(w.log_state.frontier.as_slice())
        .push(", turn_holder = NULL, turn_until = NULL WHERE id = 1 AND tree_size = ")
        .push_bind(expected)
        .push(" AND (turn_holder IS NULL OR turn_holder = ")
        .push_bind(me)
        .push(" OR turn_until <= clock_timestamp()) RETURNING 1)");
    s.insert("leaves", &w.leaves, "")?
        .insert("segments", &w.segments, "")?;
    let adopted: Vec<i64> = w.adopted.clone();
    s.push(", adopted AS (DELETE FROM uploads WHERE blob_id = ANY(")
        .arrays(vec![Array::Int(adopted)])
        .push(") AND ")
        .push(IF_APPENDED)
        .push(")");
    s.insert("messages", &w.messages, "")?
        .insert("deliveries", &w.deliveries, "")?
        .insert("statements", &w.statements, "")?;
    let states = columns(&w.states)?;
    s.push(", states AS (UPDATE deliveries SET state = v.c1 FROM unnest(")
        .arrays(states)
        .push(
            ") AS v(c1, c2, c3) WHERE deliveries.message_id = v.c2 \
             AND deliveries.recipient = v.c3 AND ",
        )
        .push(IF_APPENDED)
        .push(")");
    s.insert("nodes", &w.nodes, " ON CONFLICT DO NOTHING")?
        .insert("head", std::slice::from_ref(&w.tree_head), "")?;
    s.push(", woken AS (SELECT pg_notify(");
    s.0.push_bind(INBOX_CHANNEL);
    s.push(", a) FROM unnest(")
        .arrays(columns(&w.wake)?)
        .push(") AS a WHERE ")
        .push(IF_APPENDED)
        .push(
            ") SELECT (SELECT count(*) FROM state) AS appended, \
             (SELECT count(*) FROM woken) AS woken",
        );
    let row = s.0.build().persistent(true).fetch_one(conn).await?;
    Ok(row.value::<i64>("appended")? == 1)
}

#[cfg(test)]
mod tests;
