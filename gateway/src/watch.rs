//! Statuses for the DMS. The axis does not push statuses to a sender, so the gateway reads the
//! verified history of each open document: of a document it sent, every recipient's statuses
//! (01–06, 15, 16); of one it received, the sender's recall (13). Each new status becomes a
//! mailbox item holding its edXML status package, as the stating DMS wrote it; its log entry
//! makes it unique, so a status is put in the mailbox once whatever the crashes.
//!
//! A quiet document is read less often (the pause doubles up to [`MAX_STATUS_POLL`]); a sent
//! document is no longer read once every recipient has finished (06), refused (02) or taken it
//! back (15 after 13), nor any document after `watch_days`. The latest tree head is checked by
//! the witness at every pass.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axis_client::{MessageId, StatusCode};

use crate::config::MAX_STATUS_POLL;
use crate::service::Gateway;
use crate::store::{Inserted, MailItem, Watched, kind, mail_state, now_ms};

/// Documents read per pass.
const BATCH: i64 = 64;

/// Follows statuses until shutdown.
pub async fn run(gw_: Arc<Gateway>) {
    loop {
        if gw_.log_consistent() {
            crate::witness::latest(&gw_).await;
        }
        if gw_.log_consistent() {
            match gw_.db.watch_due(now_ms(), BATCH).await {
                Ok(due) => {
                    for w in due {
                        if gw_.stopping() {
                            return;
                        }
                        read(&gw_, &w).await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "reading the watch list"),
            }
        }
        let mut s = gw_.shutdown.clone();
        tokio::select! {
            _ = gw_.watch_wake.notified() => {}
            _ = tokio::time::sleep(gw_.config.status_poll) => {}
            _ = s.wait_for(|v| *v) => return,
        }
    }
}

/// Reads one document's history and puts its new statuses in the mailbox.
async fn read(gw_: &Gateway, w: &Watched) {
    let base = i64::try_from(gw_.config.status_poll.as_millis()).unwrap_or(i64::MAX);
    let max = i64::try_from(MAX_STATUS_POLL.as_millis()).unwrap_or(i64::MAX);
    let Ok(id) = MessageId::parse(&w.message_id) else {
        let _ = gw_.db.watch_next(&w.message_id, base, true).await;
        return;
    };
    let history = match gw_.client.history(&id).await {
        Ok(h) => h,
        Err(e) if *e.kind() == axis_client::ErrorKind::NotFound => {
            let _ = gw_.db.watch_next(&w.message_id, base, true).await;
            return;
        }
        Err(e) => {
            if *e.kind() == axis_client::ErrorKind::Verification {
                tracing::error!(id = %w.message_id, error = %e, "a document's history does not verify");
            } else {
                tracing::debug!(id = %w.message_id, error = %e, "history not read this time");
            }
            let _ = gw_.db.watch_next(&w.message_id, w.interval_ms, false).await;
            return;
        }
    };
    let mut new = 0;
    let mut checked_head = false;
    for t in &history.timelines {
        for e in &t.events {
            if e.stated_by == gw_.me {
                continue;
            }
            if !checked_head {
                crate::witness::observe(gw_, &e.evidence).await;
                checked_head = true;
            }
            let package = match e.to_edxml() {
                Ok(p) => p,
                Err(err) => {
                    tracing::error!(id = %w.message_id, error = %err, "a status cannot be written as edXML");
                    continue;
                }
            };
            let now = now_ms();
            let item = MailItem {
                id: format!("{}-{}", w.message_id, e.evidence.leaf_index),
                dedupe: format!("leaf:{}", e.evidence.leaf_index),
                kind: kind::STATUS.into(),
                message_id: w.message_id.clone(),
                from_agency: e.stated_by.to_string(),
                to_agency: gw_.me.to_string(),
                document_id: history
                    .document_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                status_code: Some(e.status.to_string()),
                package: Some(package),
                state: mail_state::INITIAL.into(),
                created_ms: now,
                updated_ms: now,
            };
            match gw_.db.mail_insert(&item).await {
                Ok(Inserted::New) => {
                    new += 1;
                    gw_.metrics
                        .statuses_received
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(id = %w.message_id, status = %e.status, from = %e.stated_by, "status for the DMS");
                }
                Ok(Inserted::Existing(_)) => {}
                Err(err) => {
                    tracing::error!(error = %err, "keeping a status");
                    let _ = gw_.db.watch_next(&w.message_id, w.interval_ms, false).await;
                    return;
                }
            }
        }
    }
    let finished = w.role == "sent"
        && !history.timelines.is_empty()
        && history.timelines.iter().all(|t| {
            t.withdrawn
                || matches!(
                    t.last_status(),
                    Some(StatusCode::Completed | StatusCode::Rejected)
                )
        });
    let interval = if new > 0 {
        base
    } else {
        (w.interval_ms.max(base).saturating_mul(2)).min(max)
    };
    if let Err(e) = gw_.db.watch_next(&w.message_id, interval, finished).await {
        tracing::error!(error = %e, "updating the watch list");
    }
}
