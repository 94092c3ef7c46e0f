//! The running gateway's shared state: the configuration, the SDK client (the agency's keys and
//! its connection to the axis), the store, the data directory, and the signals between the
//! API handlers and the workers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axis_client::{AgencyId, Client};
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::metrics::{Backlog, Metrics};
use crate::store::{Db, kind, now_ms};

/// The shared state of one gateway.
pub struct Gateway {
    /// The configuration.
    pub config: Config,
    /// The connection to the axis, with the agency's keys.
    pub client: Client,
    /// This agency.
    pub me: AgencyId,
    /// The store.
    pub db: Db,
    /// Counters.
    pub metrics: Metrics,
    /// Wakes the outbox worker when something is handed over.
    pub outbox_wake: Notify,
    /// Wakes the status watcher when a DMS sent a status.
    pub watch_wake: Notify,
    /// Two-step sends waiting for their personal signature.
    pub prepared: crate::prepared::Prepared,
    /// The body budget (`body_memory_bytes`), in bytes: each send's body holds its share while
    /// it is read, sealed and kept.
    pub bodies: Arc<tokio::sync::Semaphore>,
    /// False once the axis's log failed the witness's check: the gateway stops exchanging.
    log_consistent: AtomicBool,
    /// The witness's memory; one check at a time.
    pub witness: tokio::sync::Mutex<crate::witness::State>,
    /// Heads for the witness to check ([`crate::witness::observe`]).
    pub witness_queue: tokio::sync::mpsc::Sender<axis_client::evidence::SignedTreeHead>,
    /// The witness task's end of the queue (taken when it starts).
    pub witness_rx: std::sync::Mutex<
        Option<tokio::sync::mpsc::Receiver<axis_client::evidence::SignedTreeHead>>,
    >,
    /// The verified copy of the unit directory ([`crate::directory`]).
    pub units: crate::directory::Units,
    /// Set when shutdown begins: the workers finish their step and stop.
    pub shutdown: watch::Receiver<bool>,
    /// The last time stamped on a received document's mailbox item.
    mailbox_last_ms: std::sync::Mutex<i64>,
}

impl Gateway {
    /// Assembles the state.
    pub fn new(
        config: Config,
        client: Client,
        me: AgencyId,
        db: Db,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Self> {
        let budget = usize::try_from(config.body_memory_bytes).unwrap_or(usize::MAX);
        let (witness_queue, witness_rx) = tokio::sync::mpsc::channel(crate::witness::QUEUE);
        Arc::new(Gateway {
            witness_queue,
            witness_rx: std::sync::Mutex::new(Some(witness_rx)),
            bodies: Arc::new(tokio::sync::Semaphore::new(budget)),
            config,
            client,
            me,
            db,
            metrics: Metrics::default(),
            outbox_wake: Notify::new(),
            watch_wake: Notify::new(),
            prepared: Default::default(),
            log_consistent: AtomicBool::new(true),
            witness: tokio::sync::Mutex::new(Default::default()),
            units: Default::default(),
            shutdown,
            mailbox_last_ms: std::sync::Mutex::new(0),
        })
    }

    /// Now, in milliseconds, for a received document's mailbox item: later than every time
    /// stamped before by this process (the mailbox is read in `(created_ms, id)` order, so
    /// two items of one millisecond could otherwise commit in the other order).
    pub fn mailbox_clock(&self) -> i64 {
        let now = now_ms();
        match self.mailbox_last_ms.lock() {
            Ok(mut last) => {
                *last = now.max(*last + 1);
                *last
            }
            Err(_) => now,
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Where sealed documents wait for the axis.
    pub fn outbox_dir(&self) -> PathBuf {
        self.config.data_dir.join("outbox")
    }

    /// Where received documents are kept.
    pub fn received_dir(&self) -> PathBuf {
        self.config.data_dir.join("received")
    }

    /// The kept edXML package of a received document.
    pub fn received_package(&self, message_id: &str) -> PathBuf {
        self.received_dir().join(format!("{message_id}.edxml"))
    }

    /// Whether the axis's log has passed every check so far.
    pub fn log_consistent(&self) -> bool {
        self.log_consistent.load(Ordering::SeqCst)
    }

    /// The axis's log failed the witness's check: stop exchanging, loudly.
    pub fn log_rewritten(&self, why: &str) {
        if self.log_consistent.swap(false, Ordering::SeqCst) {
            tracing::error!(
                why,
                "THE AXIS'S LOG FAILED THE CONSISTENCY CHECK: its history was rewritten or \
                 forked. This gateway stops sending and receiving; tell the axis operator and \
                 your auditors, and keep the data directory as evidence"
            );
        }
    }

    /// Whether shutdown has begun.
    pub fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// The store's backlog (for the metrics).
    pub async fn backlog(&self) -> crate::store::Result<Backlog> {
        let now = now_ms();
        let age = |t: Option<i64>| t.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
        let (outbox_queued, oldest) = self.db.outbox_backlog().await?;
        let (receipts_pending, _) = self.db.acks_backlog().await?;
        Ok(Backlog {
            outbox_queued,
            oldest_unsent_secs: age(oldest),
            receipts_pending,
            mailbox_edoc: self.db.mail_count(kind::EDOC).await?,
            mailbox_status: self.db.mail_count(kind::STATUS).await?,
            oldest_unacknowledged_secs: age(self.db.mail_oldest_unacknowledged().await?),
        })
    }

    /// Sleeps for `d` or until shutdown begins; true if shutdown began.
    pub async fn pause(&self, d: std::time::Duration) -> bool {
        let mut s = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => self.stopping(),
            _ = s.wait_for(|v| *v) => true,
        }
    }
}

/// Writes a file durably: a temporary file in the same directory, synced, renamed over the
/// name, and the directory synced.
pub fn write_durably(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    temp.as_file_mut().flush()?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Syncs a directory (its entries: a rename, a new file).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
