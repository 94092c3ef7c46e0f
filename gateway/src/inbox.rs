//! The inbox: every delivery to this agency is fetched, verified and decrypted, kept, put in
//! the DMS's mailbox, and (by default) answered with receipt 01.
//!
//! 1. The subscription resumes after the cursor kept with the last document stored.
//! 2. A delivery already kept (a repeat after a crash) is skipped.
//! 3. It is opened into a partial directory (both signatures, every digest checked; a delivery
//!    that does not verify is counted, logged and not kept), its edXML package written
//!    beside it (the sender's own package when it sent edXML), both synced and renamed into
//!    place.
//! 4. One transaction keeps the document's row, its mailbox item, the watch of its statuses
//!    and the cursor: a crash before it redoes steps 3–4, after it finds the document kept.
//! 5. Receipt 01 is sent (`auto_receipt`); a receipt not yet logged is sent again at the next
//!    start or pass, after opening the document once more (the SDK answers a repeat with the
//!    first receipt).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axis_client::{AttachmentSink, Delivery, OpenedDocument};
use futures_util::StreamExt as _;
use serde_json::json;

use crate::service::{Gateway, sync_dir, write_durably};
use crate::store::{MailItem, ReceivedRow, ack_state, kind, mail_state, now_ms};

/// Pause before subscribing again after a failure the SDK does not retry itself.
const RESUBSCRIBE: Duration = Duration::from_secs(2);
/// How often receipts still pending are tried again.
const ACK_RETRY: Duration = Duration::from_secs(30);

/// A sink that keeps nothing (to open a kept document again, for its receipt).
#[derive(Debug, Default)]
pub struct NullSink;

impl AttachmentSink for NullSink {
    fn begin(&mut self, _: usize, _: &axis_client::signer::Attachment) -> axis_client::Result<()> {
        Ok(())
    }
    fn write(&mut self, _: usize, _: &[u8]) -> axis_client::Result<()> {
        Ok(())
    }
    fn end(&mut self, _: usize) -> axis_client::Result<()> {
        Ok(())
    }
}

/// Receives until shutdown.
pub async fn run(gw_: Arc<Gateway>) {
    let acks = tokio::spawn(ack_pending(gw_.clone()));
    loop {
        if gw_.stopping() {
            break;
        }
        if !gw_.log_consistent() {
            if gw_.pause(RESUBSCRIBE).await {
                break;
            }
            continue;
        }
        // Step 1.
        let cursor = match gw_.db.kv_get("inbox_cursor").await {
            Ok(c) => c.and_then(|c| String::from_utf8(c).ok()),
            Err(e) => {
                tracing::error!(error = %e, "reading the inbox cursor");
                if gw_.pause(RESUBSCRIBE).await {
                    break;
                }
                continue;
            }
        };
        let mut inbox = gw_.client.inbox(cursor);
        let mut s = gw_.shutdown.clone();
        loop {
            let next = tokio::select! {
                n = inbox.next() => n,
                _ = s.wait_for(|v| *v) => None,
            };
            let Some(next) = next else { break };
            match next {
                Ok(delivery) => {
                    if !receive(&gw_, &delivery).await {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "the inbox stopped");
                    break;
                }
            }
            if !gw_.log_consistent() || gw_.stopping() {
                break;
            }
        }
        drop(inbox);
        if gw_.pause(RESUBSCRIBE).await {
            break;
        }
    }
    acks.abort();
}

/// Steps 2–5 for one delivery; false to subscribe again (a failure worth retrying).
async fn receive(gw_: &Arc<Gateway>, delivery: &Delivery) -> bool {
    let id = delivery.message_id.to_string();
    // Step 2.
    match gw_.db.received_get(&id).await {
        Ok(Some(_)) => return true,
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "reading the store");
            return false;
        }
    }
    // Step 3.
    let dir = gw_.received_dir();
    let partial = dir.join(format!(".partial-{id}"));
    let final_dir = dir.join(&id);
    for leftover in [&partial, &final_dir] {
        if leftover.exists()
            && let Err(e) = std::fs::remove_dir_all(leftover)
        {
            tracing::error!(path = %leftover.display(), error = %e, "removing a partly kept document");
            return false;
        }
    }
    let opened = match gw_.client.open_to_dir(delivery, &partial).await {
        Ok(o) => o,
        Err(e) if e.is_retryable() => {
            tracing::warn!(%id, error = %e, "opening interrupted; trying again");
            let _ = std::fs::remove_dir_all(&partial);
            return false;
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            gw_.metrics.receive_refused.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%id, sender = %delivery.sender, error = %e, "a delivery did not verify; it is not kept");
            if let Err(e) = gw_
                .db
                .kv_set("inbox_cursor", delivery.cursor.as_bytes())
                .await
            {
                tracing::error!(error = %e, "keeping the inbox cursor");
                return false;
            }
            return true;
        }
    };
    let package = gw_.received_package(&id);
    let kept = {
        let opened = opened.clone();
        let (partial, final_dir, package, dir) = (
            partial.clone(),
            final_dir.clone(),
            package.clone(),
            dir.clone(),
        );
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            write_durably(&package, |f| {
                let mut w = std::io::BufWriter::new(f);
                opened
                    .write_edxml(&mut w)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                std::io::Write::flush(&mut w)
            })?;
            std::fs::rename(&partial, &final_dir)?;
            sync_dir(&dir)
        })
        .await
    };
    match kept {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(%id, error = %e, "keeping a received document");
            let _ = std::fs::remove_dir_all(&partial);
            return false;
        }
        Err(e) => {
            tracing::error!(%id, error = %e, "keeping a received document");
            return false;
        }
    }
    // Step 4.
    let now = now_ms();
    let row = ReceivedRow {
        message_id: id.clone(),
        sender: delivery.sender.to_string(),
        document_id: opened.document_id().to_string(),
        code: opened.manifest().code.to_string(),
        subject: opened.manifest().subject.clone(),
        accepted_ms: crate::store::millis(opened.accepted_at()),
        stored_ms: now,
        report: report_json(&opened).to_string(),
        ack_state: if gw_.config.auto_receipt {
            ack_state::PENDING.into()
        } else {
            ack_state::OFF.into()
        },
        ack_error: None,
    };
    let item = MailItem {
        id: id.clone(),
        dedupe: format!("edoc:{id}"),
        kind: kind::EDOC.into(),
        message_id: id.clone(),
        from_agency: delivery.sender.to_string(),
        to_agency: gw_.me.to_string(),
        document_id: row.document_id.clone(),
        status_code: None,
        package: None,
        state: mail_state::INITIAL.into(),
        created_ms: now,
        updated_ms: now,
    };
    let poll = i64::try_from(gw_.config.status_poll.as_millis()).unwrap_or(i64::MAX);
    let until = now + i64::try_from(gw_.config.watch.as_millis()).unwrap_or(i64::MAX / 2);
    let cursor = (!delivery.cursor.is_empty()).then_some(delivery.cursor.as_str());
    if let Err(e) = gw_
        .db
        .received_insert(&row, &item, cursor, (poll, until))
        .await
    {
        tracing::error!(%id, error = %e, "recording a received document");
        return false;
    }
    gw_.metrics.received.fetch_add(1, Ordering::Relaxed);
    tracing::info!(%id, sender = %delivery.sender, document_id = %row.document_id, "received and kept");
    // Step 5.
    if gw_.config.auto_receipt {
        acknowledge(gw_, &id, &opened).await;
    }
    true
}

/// Sends receipt 01 for a kept document and records it.
async fn acknowledge(gw_: &Gateway, id: &str, opened: &OpenedDocument) {
    match gw_.client.acknowledge(opened).await {
        Ok(logged) => {
            crate::witness::observe(gw_, &logged.evidence).await;
            gw_.metrics.statuses_sent.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = gw_.db.ack_set(id, ack_state::DONE, None).await {
                tracing::error!(%id, error = %e, "recording a receipt");
            }
        }
        Err(e) => {
            tracing::warn!(%id, error = %e, "receipt 01 not sent yet; trying again later");
            let _ = gw_
                .db
                .ack_set(id, ack_state::PENDING, Some(&e.to_string()))
                .await;
        }
    }
}

/// Step 5 again for receipts not yet logged (after a crash or an outage).
async fn ack_pending(gw_: Arc<Gateway>) {
    loop {
        if gw_.log_consistent() {
            match gw_.db.acks_pending().await {
                Ok(rows) => {
                    for row in rows {
                        if gw_.stopping() {
                            return;
                        }
                        // Only rows kept before this pass began (the receiver handles new ones).
                        if now_ms() - row.stored_ms < 5_000 {
                            continue;
                        }
                        let Ok(mid) = axis_client::MessageId::parse(&row.message_id) else {
                            continue;
                        };
                        let opened = match gw_.client.delivery(&mid).await {
                            Ok(d) => gw_.client.open(&d, &mut NullSink).await,
                            Err(e) => Err(e),
                        };
                        match opened {
                            Ok(o) => acknowledge(&gw_, &row.message_id, &o).await,
                            Err(e) => {
                                tracing::warn!(id = %row.message_id, error = %e, "cannot open a kept document again for its receipt");
                            }
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "reading pending receipts"),
            }
        }
        if gw_.pause(ACK_RETRY).await {
            return;
        }
    }
}

/// The verified signature report, as kept and shown to the DMS.
pub fn report_json(opened: &OpenedDocument) -> serde_json::Value {
    let r = opened.report();
    let sig = |s: &axis_client::signer::SignatureReport| {
        json!({
            "signer_name": s.signer_name,
            "position": s.position,
            "agency": s.agency.to_string(),
            "signing_time": s.signing_time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "certificate_serial": s.certificate_serial.to_string(),
            "certificate_status": format!("{:?}", s.certificate_status),
        })
    };
    json!({
        "document_id": r.document_id.to_string(),
        "manifest_sha256": hex::encode(r.manifest_digest),
        // The manifest's own statement: `sealOnly` means no personal signature was made
        // through Axis, and `personal` is null.
        "signature_form": r.signature_form.as_str(),
        "personal": r.personal.as_ref().map(sig),
        "seal": sig(&r.seal),
        "edxml": opened.is_edxml(),
    })
}
