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
//!
//! Up to `receive_concurrency` deliveries go through steps 2–5 at once ([`run`]); the cursor
//! kept in step 4 is the frontier of the deliveries settled, never past one still in flight.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axis_client::{AttachmentSink, Delivery, DirSink, ErrorKind, OpenedDocument};
use futures_util::StreamExt as _;
use serde_json::json;

use crate::keep::make_durable;
use crate::metrics::stage;
use crate::service::Gateway;
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

/// Which deliveries of one subscription are settled (kept, already kept, or refused for
/// good), so that the kept cursor never passes one that is not: deliveries are taken in the
/// inbox's order and numbered, settle in any order, and the cursor kept is that of the last
/// delivery before the first one still unsettled.
#[derive(Debug, Default)]
struct Frontier {
    /// The number of the next delivery taken.
    next: u64,
    /// Every delivery numbered below it is settled.
    base: u64,
    /// The deliveries from `base` on: their cursor, and whether they are settled.
    open: BTreeMap<u64, (String, bool)>,
}

impl Frontier {
    /// Numbers a delivery taken from the inbox.
    fn take(&mut self, cursor: String) -> u64 {
        let n = self.next;
        self.next += 1;
        self.open.insert(n, (cursor, false));
        n
    }

    /// The cursor to keep when delivery `n` settles, if settling it moves the frontier.
    fn cursor_if_settled(&self, n: u64) -> Option<String> {
        if n != self.base {
            return None;
        }
        let mut last = None;
        for (&i, (cursor, settled)) in self.open.range(self.base..) {
            if i != n && !settled {
                break;
            }
            if !cursor.is_empty() {
                last = Some(cursor.clone());
            }
        }
        last
    }

    /// Delivery `n` is settled.
    fn settle(&mut self, n: u64) {
        if let Some(e) = self.open.get_mut(&n) {
            e.1 = true;
        }
        while self.open.get(&self.base).is_some_and(|e| e.1) {
            self.open.remove(&self.base);
            self.base += 1;
        }
    }
}

/// What the deliveries in flight of one subscription share.
#[derive(Debug)]
struct Subscription {
    /// Held while a delivery settles: its commit and the cursor it carries are one step.
    frontier: tokio::sync::Mutex<Frontier>,
    /// The message ids in flight (a repeat is not opened twice at once).
    in_flight: std::sync::Mutex<HashSet<String>>,
    /// One permit per receipt 01 in flight (shared by every subscription of the inbox).
    receipts: Arc<tokio::sync::Semaphore>,
}

impl Subscription {
    fn new(receipts: Arc<tokio::sync::Semaphore>) -> Self {
        Subscription {
            frontier: Default::default(),
            in_flight: Default::default(),
            receipts,
        }
    }
}

impl Subscription {
    /// Settles delivery `n` with `commit`, which is given the cursor to keep with it (if
    /// settling it moves the frontier) and must keep it in the same transaction; false if the
    /// commit failed (the delivery stays unsettled: the cursor never passes it).
    ///
    /// `commit` is called under the frontier's lock and must queue its write **when called**
    /// (the store's group commit does): writes are committed in the order queued, so a cursor
    /// is never committed before the deliveries it passes, and several deliveries share one
    /// commit. The commit is awaited without the lock; a cursor is only ever computed for the
    /// frontier's first delivery, which cannot be settled by anyone else meanwhile.
    async fn settle<F, Fut>(&self, n: u64, commit: F) -> bool
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: std::future::Future<Output = crate::store::Result<()>>,
    {
        let committed = {
            let f = self.frontier.lock().await;
            commit(f.cursor_if_settled(n))
        };
        match committed.await {
            Ok(()) => {
                self.frontier.lock().await.settle(n);
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "recording a delivery in the store");
                false
            }
        }
    }

    /// Keeps `cursor` alone (a delivery that needed no row).
    async fn settle_cursor(&self, gw_: &Gateway, n: u64) -> bool {
        self.settle(n, |cursor| {
            let kept = cursor.map(|c| gw_.db.kv_set("inbox_cursor", c.as_bytes()));
            async move {
                match kept {
                    Some(kept) => kept.await,
                    None => Ok(()),
                }
            }
        })
        .await
    }
}

/// Receives until shutdown, up to `receive_concurrency` deliveries at once.
///
/// A failure worth retrying stops taking deliveries: those in flight finish, and the inbox is
/// subscribed again after the cursor kept (every delivery before it settled; one after it that
/// was kept already is recognised in step 2). At shutdown the deliveries in flight finish.
pub async fn run(gw_: Arc<Gateway>) {
    let acks = tokio::spawn(ack_pending(gw_.clone()));
    let limit = gw_.config.receive_concurrency;
    let receipts = Arc::new(tokio::sync::Semaphore::new(limit));
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
        let sub = Arc::new(Subscription::new(receipts.clone()));
        let mut tasks = tokio::task::JoinSet::new();
        let mut s = gw_.shutdown.clone();
        let mut taking = true;
        while taking {
            tokio::select! {
                done = tasks.join_next(), if !tasks.is_empty() => {
                    if !matches!(done, Some(Ok(true))) {
                        taking = false;
                    }
                }
                next = inbox.next(), if tasks.len() < limit => match next {
                    Some(Ok(delivery)) => {
                        let n = sub.frontier.lock().await.take(delivery.cursor.clone());
                        let (g, sub) = (gw_.clone(), sub.clone());
                        tasks.spawn(async move { receive(&g, &delivery, n, &sub).await });
                    }
                    Some(Err(e)) => {
                        tracing::error!(error = %e, "the inbox stopped");
                        taking = false;
                    }
                    None => taking = false,
                },
                // (The guard it returns is not `Send`: dropped before the arm runs.)
                _ = async { s.wait_for(|v| *v).await.is_ok() } => taking = false,
            }
            if !gw_.log_consistent() || gw_.stopping() {
                taking = false;
            }
        }
        // The deliveries in flight finish their step.
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done
                && e.is_panic()
            {
                tracing::error!(error = %e, "receiving a delivery panicked; it is received again");
            }
        }
        drop(inbox);
        if gw_.pause(RESUBSCRIBE).await {
            break;
        }
    }
    acks.abort();
    // The receipts in flight finish (each holds a permit until it is recorded).
    let all = u32::try_from(limit).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(10), receipts.acquire_many(all)).await;
}

/// Steps 2–5 for delivery `n` of a subscription; false to subscribe again (a failure worth
/// retrying).
async fn receive(gw_: &Arc<Gateway>, delivery: &Delivery, n: u64, sub: &Subscription) -> bool {
    let id = delivery.message_id.to_string();
    let first = sub
        .in_flight
        .lock()
        .map(|mut f| f.insert(id.clone()))
        .unwrap_or(false);
    if !first {
        // The same message again while it is being received: the first one settles it.
        return sub.settle_cursor(gw_, n).await;
    }
    let ok = receive_one(gw_, delivery, n, sub).await;
    if let Ok(mut f) = sub.in_flight.lock() {
        f.remove(&id);
    }
    ok
}

async fn receive_one(gw_: &Arc<Gateway>, delivery: &Delivery, n: u64, sub: &Subscription) -> bool {
    let id = delivery.message_id.to_string();
    // How long the delivery waited here, from the SDK receiving it to now (not from its
    // acceptance: the axis dates that in whole seconds, a bias of up to a second).
    let waited = delivery.received_at.elapsed();
    // Step 2.
    match gw_.db.received_get(&id).await {
        Ok(Some(_)) => return sub.settle_cursor(gw_, n).await,
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
    let mut started = Instant::now();
    let mut sink = match DirSink::unsynced(&partial) {
        Ok(s) => s,
        Err(e) => {
            gw_.metrics.receive_retried.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%id, path = %partial.display(), error = %e, "creating a received document's directory failed; trying again");
            return false;
        }
    };
    let opened = match gw_.client.open(delivery, &mut sink).await {
        Ok(o) => o,
        Err(e) if retry_later(&e) => {
            gw_.metrics.receive_retried.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%id, error = %e, "opening failed here or on the way; trying again");
            let _ = std::fs::remove_dir_all(&partial);
            return false;
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            gw_.metrics.receive_refused.fetch_add(1, Ordering::Relaxed);
            tracing::error!(%id, sender = %delivery.sender, error = %e, "a delivery did not verify; it is not kept");
            return sub.settle_cursor(gw_, n).await;
        }
    };
    gw_.metrics.stage(stage::RECEIVE_OPEN, lap(&mut started));
    let opened = Arc::new(opened.with_files(sink.into_saved()));
    let package = gw_.received_package(&id);
    let kept = {
        let opened = opened.clone();
        let (partial, final_dir, dir) = (partial.clone(), final_dir.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            make_durable(&partial, &final_dir, &package, &dir, &opened)
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
    gw_.metrics.stage(stage::RECEIVE_KEEP, lap(&mut started));
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
    let watch_for = i64::try_from(gw_.config.watch.as_millis()).unwrap_or(i64::MAX / 2);
    let document_id = row.document_id.clone();
    let kept = sub
        .settle(n, |cursor| {
            // Stamped when queued, under the frontier's lock; queued writes commit in order:
            // a mailbox item committed later is always later in the mailbox's order, so a DMS
            // reading it page by page never passes over one.
            let (mut row, mut item) = (row, item);
            let now = gw_.mailbox_clock();
            (row.stored_ms, item.created_ms, item.updated_ms) = (now, now, now);
            gw_.db
                .received_insert(&row, &item, cursor.as_deref(), (poll, now + watch_for))
        })
        .await;
    if !kept {
        return false;
    }
    gw_.metrics.stage(stage::RECEIVE_COMMIT, lap(&mut started));
    gw_.metrics.stage(stage::RECEIVE_WAIT, waited);
    gw_.metrics.received.fetch_add(1, Ordering::Relaxed);
    tracing::info!(%id, sender = %delivery.sender, %document_id, "received and kept");
    // Step 5, beside the next deliveries: a receipt waits for the axis's commit, which needs
    // none of this delivery's work. At most `receive_concurrency` receipts are in flight (each
    // holds its opened document); a receipt not sent is pending in the store, sent again.
    if gw_.config.auto_receipt {
        match sub.receipts.clone().acquire_owned().await {
            Ok(permit) => {
                let g = gw_.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    acknowledge(&g, &id, &opened, true).await;
                });
            }
            Err(_) => acknowledge(gw_, &id, &opened, true).await,
        }
    }
    true
}

/// The time since `*since`, which moves to now.
fn lap(since: &mut Instant) -> Duration {
    let now = Instant::now();
    let d = now - *since;
    *since = now;
    d
}

/// Whether opening a delivery failed here or on the way — the connection, the axis, this
/// gateway's disk (full, unwritable) or its own keys — rather than for the delivery itself.
/// Such a delivery is tried again (the cursor stays before it); only one that does not
/// verify is the sender's fault, refused and passed over.
fn retry_later(e: &axis_client::Error) -> bool {
    e.is_retryable() || matches!(e.kind(), ErrorKind::Io | ErrorKind::Config)
}

/// Sends receipt 01 for a kept document and records it; `fresh` for a document just opened
/// from the inbox (its chain starts from the document, without reading the history first).
async fn acknowledge(gw_: &Gateway, id: &str, opened: &OpenedDocument, fresh: bool) {
    let mut started = Instant::now();
    let logged = if fresh {
        gw_.client.acknowledge_opened(opened).await
    } else {
        gw_.client.acknowledge(opened).await
    };
    match logged {
        Ok(logged) => {
            crate::witness::observe(gw_, &logged.evidence).await;
            gw_.metrics.stage(stage::RECEIVE_RECEIPT, lap(&mut started));
            gw_.metrics.statuses_sent.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = gw_.db.ack_set(id, ack_state::DONE, None).await {
                tracing::error!(%id, error = %e, "recording a receipt");
            }
            gw_.metrics.stage(stage::RECEIVE_RECORD, started.elapsed());
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
                            Ok(o) => acknowledge(&gw_, &row.message_id, &o, false).await,
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

#[cfg(test)]
mod tests {
    use super::Frontier;

    #[test]
    fn the_cursor_kept_never_passes_a_delivery_not_settled() {
        let mut f = Frontier::default();
        let n: Vec<u64> = ["c0", "c1", "c2", "c3"]
            .iter()
            .map(|c| f.take((*c).to_owned()))
            .collect();
        // 2 and 1 settle before 0: nothing may be kept yet.
        assert_eq!(f.cursor_if_settled(n[2]), None);
        f.settle(n[2]);
        assert_eq!(f.cursor_if_settled(n[1]), None);
        f.settle(n[1]);
        // 0 settles: the frontier moves past 1 and 2, up to 3 (still open).
        assert_eq!(f.cursor_if_settled(n[0]).as_deref(), Some("c2"));
        f.settle(n[0]);
        assert_eq!(f.base, 3);
        assert_eq!(f.cursor_if_settled(n[3]).as_deref(), Some("c3"));
        f.settle(n[3]);
        assert!(f.open.is_empty());
        // A delivery without a cursor keeps the last one before it.
        let a = f.take("c4".into());
        let b = f.take(String::new());
        f.settle(b);
        assert_eq!(f.cursor_if_settled(a).as_deref(), Some("c4"));
    }

    #[test]
    fn a_delivery_that_fails_holds_the_cursor_back() {
        let mut f = Frontier::default();
        let a = f.take("c0".into());
        let b = f.take("c1".into());
        // `a` failed (never settles); `b` is kept: the cursor stays before `a`.
        assert_eq!(f.cursor_if_settled(b), None);
        f.settle(b);
        assert_eq!(f.base, a);
    }
}
