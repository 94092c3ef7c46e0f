//! Waking subscribers: a version counter per agency that the committer bumps after a commit that
//! delivered to it. With PostgreSQL, the commit also carries a `pg_notify('axis_inbox', agency)`
//! and every node's listener bumps its own counters, so a document committed on one node reaches
//! a subscriber held by another at once, without polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::watch;

use crate::config::NotifyConfig;
use crate::error::Result;
use crate::store::Db;

/// PostgreSQL channel whose payload is an agency id with new deliveries (sent by the committer
/// inside its transaction, so it is delivered only if the commit is).
pub(crate) const INBOX_CHANNEL: &str = "axis_inbox";
/// PostgreSQL channel saying that trust material (a CRL) was published.
pub(crate) const TRUST_CHANNEL: &str = "axis_trust";
/// PostgreSQL channel saying that the directory changed (an agency registered or updated).
pub(crate) const DIRECTORY_CHANNEL: &str = "axis_directory";

/// Tells every node sharing the database that trust material changed, so each reloads its trust
/// snapshot. A SQLite axis is a single node: nothing to tell.
pub(crate) async fn announce_trust_change(db: &Db) -> Result<()> {
    if let crate::store::Pool::Postgres(p) = db.pool() {
        db.bounded(async {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(TRUST_CHANNEL)
                .execute(p)
                .await?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Tells every node sharing the database that the directory changed, so each forgets what it
/// cached of it. A SQLite axis is a single node: nothing to tell.
pub(crate) async fn announce_directory_change(db: &Db) -> Result<()> {
    if let crate::store::Pool::Postgres(p) = db.pool() {
        db.bounded(async {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(DIRECTORY_CHANNEL)
                .execute(p)
                .await?;
            Ok(())
        })
        .await?;
    }
    Ok(())
}

/// Per-agency wake-up counters.
#[derive(Clone, Default)]
pub struct Notifier {
    inner: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
    /// Bumped when trust material changed on another node.
    trust: Arc<watch::Sender<u64>>,
    /// Bumped when the directory changed on another node.
    directory: Arc<watch::Sender<u64>>,
}

impl Notifier {
    /// A notifier with no subscribers.
    pub fn new() -> Self {
        Notifier {
            inner: Arc::default(),
            trust: Arc::new(watch::channel(0).0),
            directory: Arc::new(watch::channel(0).0),
        }
    }

    /// A receiver that changes whenever something is committed for `agency`.
    pub fn subscribe(&self, agency: &str) -> watch::Receiver<u64> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(agency.to_owned())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Wakes `agency`'s subscribers on this node.
    pub fn wake(&self, agency: &str) {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = map.get(agency) {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// Wakes every subscriber (after a lost listener connection: something may have been
    /// missed).
    pub fn wake_all(&self) {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        for tx in map.values() {
            tx.send_modify(|v| *v = v.wrapping_add(1));
        }
    }

    /// Drops counters nobody listens to any more.
    pub fn prune(&self) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, tx| tx.receiver_count() > 0);
    }

    /// A receiver that changes when another node published trust material.
    pub fn trust_changes(&self) -> watch::Receiver<u64> {
        self.trust.subscribe()
    }

    /// A receiver that changes when another node changed the directory.
    pub fn directory_changes(&self) -> watch::Receiver<u64> {
        self.directory.subscribe()
    }

    /// Follows PostgreSQL notifications until the pool closes: `axis_inbox` (payload: agency
    /// id), `axis_trust` (a CRL was published) and `axis_directory` (an agency registered or
    /// updated). Every `heartbeat_secs` a round trip on the
    /// LISTEN connection itself must answer within `heartbeat_timeout_ms`; otherwise (a
    /// blackholed link sends no error, and would hold a dead listener forever) the connection is
    /// dropped and made again. After every (re)connection everyone is woken, since notifications
    /// sent meanwhile are lost.
    ///
    /// Each LISTEN connection comes from a pool of its own, never from `pool`: a dropped
    /// listener sends `UNLISTEN *` without a deadline before it hands its connection back, and
    /// on a connection whose bytes a partition dropped that waits forever (sqlx counts an answer
    /// the lost heartbeat never got). Taken from the node's pool, that connection was gone for
    /// good and closing the pool (a node's shutdown) waited for it without end. Its session also
    /// has PostgreSQL's `idle_session_timeout` at [`idle_session`] (heartbeats keep a live one
    /// busy), so the database ends an abandoned one and the waiting `UNLISTEN` with it.
    pub fn listen_postgres(&self, pool: PgPool, config: NotifyConfig) {
        let this = self.clone();
        let heartbeat = Duration::from_secs(config.heartbeat_secs.max(1));
        let within = Duration::from_millis(config.heartbeat_timeout_ms.max(1));
        let options = pool.connect_options().as_ref().clone().options([(
            "idle_session_timeout",
            format!("{}ms", idle_session(heartbeat, within).as_millis()),
        )]);
        tokio::spawn(async move {
            loop {
                if pool.is_closed() {
                    return;
                }
                let own = PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(within.max(heartbeat))
                    .connect_lazy_with(options.clone());
                let connect = async {
                    let mut l = PgListener::connect_with(&own).await?;
                    l.listen_all([INBOX_CHANNEL, TRUST_CHANNEL, DIRECTORY_CHANNEL])
                        .await?;
                    Ok::<_, sqlx::Error>(l)
                };
                match tokio::time::timeout(within.max(heartbeat), connect).await {
                    Ok(Ok(mut listener)) => {
                        this.wake_all();
                        this.trust.send_modify(|v| *v = v.wrapping_add(1));
                        this.directory.send_modify(|v| *v = v.wrapping_add(1));
                        let lost = tokio::select! {
                            lost = this.follow(&mut listener, heartbeat, within) => lost,
                            // The node's pool closes: the node stops.
                            _ = pool.close_event() => return,
                        };
                        crate::metrics::LISTENER_RECONNECTS.inc();
                        tracing::warn!(cause = %lost, "notification listener lost; reconnecting");
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "cannot connect the notification listener")
                    }
                    Err(_) => tracing::warn!(
                        deadline_ms = within.max(heartbeat).as_millis() as u64,
                        "cannot connect the notification listener: deadline passed"
                    ),
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    /// Hands notifications on until the listener is lost; says why.
    async fn follow(
        &self,
        listener: &mut PgListener,
        heartbeat: Duration,
        within: Duration,
    ) -> String {
        let mut beat = tokio::time::interval(heartbeat);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        beat.tick().await;
        loop {
            tokio::select! {
                n = listener.try_recv() => match n {
                    Ok(Some(n)) if n.channel() == TRUST_CHANNEL => {
                        self.trust.send_modify(|v| *v = v.wrapping_add(1));
                    }
                    Ok(Some(n)) if n.channel() == DIRECTORY_CHANNEL => {
                        self.directory.send_modify(|v| *v = v.wrapping_add(1));
                    }
                    Ok(Some(n)) => self.wake(n.payload()),
                    // sqlx reconnects by itself; what was sent meanwhile is gone.
                    Ok(None) => return "connection closed".into(),
                    Err(e) => return e.to_string(),
                },
                _ = beat.tick() => {
                    let round_trip = sqlx::query("SELECT 1").execute(&mut *listener);
                    match tokio::time::timeout(within, round_trip).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return format!("heartbeat failed: {e}"),
                        Err(_) => {
                            return format!("no heartbeat answer within {} ms", within.as_millis())
                        }
                    }
                }
            }
        }
    }

    /// The safety net behind notifications, for the wake-ups a lost notification would miss:
    /// every `every`, one read of the log's size and, when it grew, one of the recipients of the
    /// new entries, who are woken on this node. Its cost is per node and per new delivery, not
    /// per subscriber (an idle axis pays one single-row read per interval).
    pub fn safety_net(&self, db: Db, every: Duration) {
        const MAX_RECIPIENTS: i64 = 10_000;
        let this = self.clone();
        tokio::spawn(async move {
            let crate::store::Pool::Postgres(pool) = db.pool().clone() else {
                return; // one SQLite node wakes its own subscribers
            };
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut seen: Option<i64> = None;
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                let look = db.bounded(async {
                    let size: i64 =
                        sqlx::query_scalar("SELECT tree_size FROM log_state WHERE id = 1")
                            .fetch_one(&pool)
                            .await?;
                    let Some(from) = seen.filter(|s| *s < size) else {
                        return Ok((size, Vec::new()));
                    };
                    let who: Vec<String> = sqlx::query_scalar(
                        "SELECT DISTINCT recipient FROM deliveries \
                         WHERE seq >= $1 AND seq < $2 LIMIT $3",
                    )
                    .bind(from)
                    .bind(size)
                    .bind(MAX_RECIPIENTS)
                    .fetch_all(&pool)
                    .await?;
                    Ok((size, who))
                });
                match look.await {
                    Ok((size, who)) => {
                        if who.len() as i64 >= MAX_RECIPIENTS {
                            this.wake_all();
                        } else {
                            for agency in &who {
                                this.wake(agency);
                            }
                        }
                        seen = Some(size);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "subscriber safety net: cannot read the log")
                    }
                }
            }
        });
    }
}

/// PostgreSQL's `idle_session_timeout` on a LISTEN connection: three heartbeats and a
/// heartbeat's deadline. A live listener is never idle that long (a heartbeat every
/// `heartbeat`); an abandoned one is ended by the database.
pub(crate) fn idle_session(heartbeat: Duration, within: Duration) -> Duration {
    3 * heartbeat + within
}
