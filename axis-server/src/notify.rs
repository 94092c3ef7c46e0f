//! Waking subscribers: a version counter per agency that the committer bumps after a commit that
//! delivered to it. With PostgreSQL, the commit also carries a `pg_notify('axis_inbox', agency)`
//! and every node's listener bumps its own counters, so a document committed on one node reaches
//! a subscriber held by another at once, without polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::watch;

use crate::error::Result;
use crate::store::Db;

/// PostgreSQL channel whose payload is an agency id with new deliveries (sent by the committer
/// inside its transaction, so it is delivered only if the commit is).
pub(crate) const INBOX_CHANNEL: &str = "axis_inbox";
/// PostgreSQL channel saying that trust material (a CRL) was published.
pub(crate) const TRUST_CHANNEL: &str = "axis_trust";

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

/// Per-agency wake-up counters.
#[derive(Clone, Default)]
pub struct Notifier {
    inner: Arc<Mutex<HashMap<String, watch::Sender<u64>>>>,
    /// Bumped when trust material changed on another node.
    trust: Arc<watch::Sender<u64>>,
}

impl Notifier {
    /// A notifier with no subscribers.
    pub fn new() -> Self {
        Notifier {
            inner: Arc::default(),
            trust: Arc::new(watch::channel(0).0),
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

    /// Follows PostgreSQL notifications until the pool closes: `axis_inbox` (payload: agency
    /// id) and `axis_trust` (a CRL was published). Reconnects after an error and then wakes
    /// everyone, since notifications sent meanwhile are lost.
    pub fn listen_postgres(&self, pool: PgPool) {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                if pool.is_closed() {
                    return;
                }
                match PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen_all([INBOX_CHANNEL, TRUST_CHANNEL]).await {
                            tracing::warn!(error = %e, "LISTEN failed");
                        } else {
                            this.wake_all();
                            this.trust.send_modify(|v| *v = v.wrapping_add(1));
                            loop {
                                match listener.recv().await {
                                    Ok(n) if n.channel() == TRUST_CHANNEL => {
                                        this.trust.send_modify(|v| *v = v.wrapping_add(1));
                                    }
                                    Ok(n) => this.wake(n.payload()),
                                    Err(e) => {
                                        tracing::warn!(error = %e, "notification listener lost");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot connect the notification listener")
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }
}
