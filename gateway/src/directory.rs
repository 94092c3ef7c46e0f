//! The unit directory as the VXP's `getAgenciesListQD20` and `getSynchronizeUnit` answer it:
//! a verified copy ([`axis_client::evidence::VerifiedDirectory`]) kept in memory and brought up
//! to date every `directory_refresh_secs` (and at start) with [`axis_client::Client::sync_directory`]
//! — a full snapshot the first time, then only the changes, each version's operator signature
//! and the list's digest checked against the root — so the lists answer from what was
//! verified, not from a lookup per request (the national directory has over 100,000 units).
//!
//! Until the first sync succeeds, a list call syncs itself (and says what failed if it
//! cannot); after that it answers from the copy, however far the axis is, and a failed
//! refresh keeps the copy (logged and counted, `axis_gateway_directory_sync_failures_total`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axis_client::evidence::VerifiedDirectory;

use crate::service::Gateway;

/// The copy and whether it was ever synced.
#[derive(Debug, Default)]
pub struct Units {
    /// `None` inside: synced, and the axis has no directory imported yet.
    copy: std::sync::RwLock<Option<Option<Arc<VerifiedDirectory>>>>,
    /// One sync at a time.
    syncing: tokio::sync::Mutex<()>,
}

impl Units {
    /// The copy, if a sync ever succeeded (`Some(None)`: the axis has no directory yet).
    pub fn get(&self) -> Option<Option<Arc<VerifiedDirectory>>> {
        self.copy.read().ok().and_then(|c| c.clone())
    }

    fn set(&self, copy: Option<Arc<VerifiedDirectory>>) {
        if let Ok(mut c) = self.copy.write() {
            *c = Some(copy);
        }
    }
}

/// Brings the copy to the axis's current version (a snapshot if there is none yet, else the
/// changes since it). The copy is replaced only by one that verified.
pub async fn sync(gw_: &Gateway) -> axis_client::Result<()> {
    let _one = gw_.units.syncing.lock().await;
    let current = gw_.units.get().flatten();
    match gw_.client.sync_directory(current.as_deref()).await {
        Ok(synced) => {
            let version = synced.directory.as_ref().map_or(0, |d| d.version().number);
            if current.as_ref().map(|c| c.version().number) != Some(version) {
                tracing::info!(
                    version,
                    units = synced.directory.as_ref().map_or(0, |d| d.units().len()),
                    snapshot = synced.snapshot,
                    changed = synced.changed,
                    "unit directory synced"
                );
            }
            gw_.metrics
                .directory_version
                .store(version, Ordering::Relaxed);
            gw_.units.set(synced.directory.map(Arc::new));
            Ok(())
        }
        Err(e) => {
            gw_.metrics
                .directory_sync_failures
                .fetch_add(1, Ordering::Relaxed);
            Err(e)
        }
    }
}

/// The copy to answer from: the one kept, or (before the first sync succeeded) a sync now.
pub async fn copy(gw_: &Gateway) -> axis_client::Result<Option<Arc<VerifiedDirectory>>> {
    if let Some(c) = gw_.units.get() {
        return Ok(c);
    }
    sync(gw_).await?;
    Ok(gw_.units.get().flatten())
}

/// Syncs at start and then every `directory_refresh` until shutdown.
pub async fn run(gw_: Arc<Gateway>) {
    let mut stop = gw_.shutdown.clone();
    loop {
        let synced = tokio::select! {
            r = sync(&gw_) => r,
            // (The guard it returns is not `Send`: dropped before the arm runs.)
            _ = async { stop.wait_for(|v| *v).await.is_ok() } => return,
        };
        if let Err(e) = synced {
            tracing::warn!(error = %e, "syncing the unit directory failed; the copy kept is used");
        }
        if gw_.pause(gw_.config.directory_refresh).await {
            return;
        }
    }
}
