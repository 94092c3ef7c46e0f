//! Readiness: whether this node can do its work now, as `/readyz` and gRPC health report it
//! to load balancers and orchestrators. `/healthz` is liveness only (the process answers), so an
//! orchestrator does not restart a node that is waiting for its database.
//!
//! A probe task checks, once a second (or once per probe deadline if longer):
//!
//! 1. **the database**: one round trip (`SELECT 1`) on a connection of the probe's own, within
//!    `[health] probe_timeout_ms`. A silent partition answers nothing, so only a deadline sees
//!    it; a busy pool does not count (the probe does not queue behind the node's own calls).
//! 2. **the committer**: jobs waiting while nothing was committed for `[health]
//!    commit_stall_secs` (the database answers, but the log cannot be appended to: the log lock
//!    held elsewhere, a failing statement).
//!
//! Two failed database probes in a row, or a stalled committer, make the node `NOT_SERVING`
//! (both on `/readyz`, 503, and on every gRPC health service name); one good probe with the
//! committer moving makes it `SERVING` again. While it is not serving, the committer answers
//! new jobs at once with `COMMIT_FAILED` (`UNAVAILABLE`), submissions and commits under way
//! when it stops serving fail then, and every other call that needs the database fails at once
//! (`UNAVAILABLE`, "this node is not ready"), so a client moves to another node in milliseconds
//! instead of waiting out a deadline per call. Pooled connections idle since it stopped serving
//! are closed rather than used once it serves again. Each change is logged once, with its
//! cause.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::commit::Progress;
use crate::config::HealthConfig;
use crate::store::Db;

/// Whether the node is ready, and why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// Serving.
    Ready,
    /// Not serving, and why (for `/readyz`, the log and refused commits).
    NotReady(String),
}

impl Readiness {
    /// Whether the node serves.
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready)
    }
}

/// Database probes that must fail in a row before the node stops serving (one slow probe on a
/// loaded machine is not an outage).
const FAILURES_BEFORE_NOT_READY: u32 = 2;

/// Probes the database and the committer until `shutdown`, and publishes the result on `state`
/// and on `reporter` (every name of `names`). The caller sets `NOT_SERVING` itself at shutdown.
pub(crate) async fn probe(
    db: Db,
    progress: Arc<Progress>,
    config: HealthConfig,
    state: watch::Sender<Readiness>,
    reporter: HealthReporter,
    mut shutdown: watch::Receiver<bool>,
) {
    let within = Duration::from_millis(config.probe_timeout_ms.max(1));
    let stall = Duration::from_secs(config.commit_stall_secs.max(1));
    let mut tick = tokio::time::interval(within.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut conn = None;
    let mut failures = 0u32;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|v| *v) => return,
        }
        let database = db.probe(&mut conn, within).await;
        failures = match &database {
            Ok(()) => 0,
            Err(_) => failures.saturating_add(1),
        };
        let next = match (&database, progress.stalled_for()) {
            (Err(e), _) if failures >= FAILURES_BEFORE_NOT_READY => {
                Readiness::NotReady(format!("database: {e}"))
            }
            (_, Some(idle)) if idle >= stall => Readiness::NotReady(format!(
                "committer: {} jobs waiting, nothing committed for {} s",
                progress.pending(),
                idle.as_secs()
            )),
            // One failed probe does not change the state either way.
            (Err(_), _) => continue,
            _ => Readiness::Ready,
        };
        if *shutdown.borrow() {
            return;
        }
        if *state.borrow() == next {
            continue;
        }
        match &next {
            Readiness::Ready => tracing::info!("node ready again: SERVING"),
            Readiness::NotReady(why) => tracing::warn!(why, "node not ready: NOT_SERVING"),
        }
        let status = if next.is_ready() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        db.set_ready(match &next {
            Readiness::Ready => None,
            Readiness::NotReady(why) => Some(why),
        });
        state.send_replace(next);
        crate::server::set_health(&reporter, status).await;
    }
}
