//! The witness: every tree head the gateway sees — in each acceptance and receipt the axis
//! returns, and the latest one, read at every status pass — must be a head of the same log as
//! the last one it kept (RFC 9162 consistency proof, or equal roots). The first head that is
//! not turns the gateway off, loudly: an error in the log, `axis_gateway_log_consistent 0`,
//! `/healthz` failing, and both APIs refusing with `LOG_INCONSISTENT`, until an operator has
//! looked (the kept head stays in the store as evidence). The heads of acceptances and
//! receipts are checked by the witness's own task ([`run`]), beside the documents' path.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use axis_client::evidence::{LogProof, SignedTreeHead, VerifiedTreeHead};

use crate::service::Gateway;

/// The store key of the last head kept.
const KEPT: &str = "witness_head";

/// Heads remembered as checked (besides the one kept).
const REMEMBERED: usize = 256;

/// The witness's memory: the last head kept (read from the store once) and the heads already
/// found consistent with it. The axis signs one head per commit batch, so the acceptances and
/// receipts of documents in flight at once mostly carry a head seen already: it is checked
/// once, not once per document.
#[derive(Debug, Default)]
pub struct State {
    loaded: bool,
    kept: Option<SignedTreeHead>,
    checked: VecDeque<(u64, [u8; 32])>,
}

impl State {
    /// Whether a head of this size and root has passed the check. Sound because every kept
    /// head extends the one before it: a head consistent with an older kept head is consistent
    /// with every later one.
    fn known(&self, size: u64, root: &[u8; 32]) -> bool {
        self.kept
            .as_ref()
            .is_some_and(|k| k.head().tree_size == size && &k.head().root_hash == root)
            || self.checked.iter().any(|(s, r)| *s == size && r == root)
    }

    fn remember(&mut self, size: u64, root: [u8; 32]) {
        if self.checked.len() == REMEMBERED {
            self.checked.pop_front();
        }
        self.checked.push_back((size, root));
    }
}

/// Heads waiting for the witness (an observer waits only when this many are queued).
pub const QUEUE: usize = 4096;
/// Heads taken from the queue at once (sorted by size, each distinct one checked).
const DRAIN: usize = 256;

/// Hands the head of a piece of log evidence the SDK verified to the witness ([`run`]), which
/// checks it against the last head kept.
///
/// The check (a consistency proof read from the axis for each new head — the axis signs one
/// per commit batch — and the head kept) runs beside the documents' path, not in it: a
/// submission or receipt does not wait for it, and documents in flight at once share it. A
/// head that fails turns the gateway off as soon as the witness reaches it.
pub async fn observe(gw_: &Gateway, evidence: &axis_client::Evidence) {
    let Ok(proof) = LogProof::parse(&evidence.proof) else {
        // The SDK verified it before handing it out: it parses.
        return;
    };
    if gw_.witness_queue.send(proof.tree_head).await.is_err() {
        tracing::warn!("the witness has stopped; a tree head was not checked");
    }
}

/// The witness: checks the heads [`observe`] queues, oldest (smallest) first, until shutdown.
pub async fn run(gw_: std::sync::Arc<Gateway>) {
    let Some(mut rx) = gw_.witness_rx.lock().ok().and_then(|mut r| r.take()) else {
        return;
    };
    let mut s = gw_.shutdown.clone();
    loop {
        let first = tokio::select! {
            h = rx.recv() => h,
            _ = s.wait_for(|v| *v) => None,
        };
        let Some(first) = first else { return };
        let mut heads = vec![first];
        while heads.len() < DRAIN {
            match rx.try_recv() {
                Ok(h) => heads.push(h),
                Err(_) => break,
            }
        }
        heads.sort_by_key(|h| h.head().tree_size);
        heads.dedup_by(|a, b| {
            a.head().tree_size == b.head().tree_size && a.head().root_hash == b.head().root_hash
        });
        for head in heads {
            let h = *head.head();
            {
                let state = gw_.witness.lock().await;
                if state.loaded && state.known(h.tree_size, &h.root_hash) {
                    gw_.metrics.heads_checked.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            match gw_.client.verify_tree_head(&head).await {
                Ok(head) => check(&gw_, &head).await,
                Err(e) => tracing::warn!(error = %e, "a tree head could not be verified again"),
            }
        }
    }
}

/// Checks the axis's latest head.
pub async fn latest(gw_: &Gateway) {
    match gw_.client.tree_head(None).await {
        Ok(head) => check(gw_, &head).await,
        Err(e) if *e.kind() == axis_client::ErrorKind::Verification => {
            gw_.log_rewritten(&format!("the latest tree head does not verify: {e}"));
        }
        Err(e) => tracing::debug!(error = %e, "no tree head read this time"),
    }
}

/// Checks `head` against the last head kept, and keeps it if it is newer.
pub async fn check(gw_: &Gateway, head: &VerifiedTreeHead) {
    let mut state = gw_.witness.lock().await;
    if !state.loaded {
        let kept = match gw_.db.kv_get(KEPT).await {
            Ok(k) => k,
            Err(e) => {
                tracing::error!(error = %e, "reading the witness's head");
                return;
            }
        };
        state.kept = match kept.as_deref().map(SignedTreeHead::decode) {
            None => None,
            Some(Ok(k)) => Some(k),
            Some(Err(e)) => {
                tracing::error!(error = %e, "the witness's kept head does not parse; keeping the new one");
                None
            }
        };
        state.loaded = true;
    }
    gw_.metrics.heads_checked.fetch_add(1, Ordering::Relaxed);
    let h = *head.head();
    if state.known(h.tree_size, &h.root_hash) {
        return;
    }
    let keep = match &state.kept {
        None => true,
        Some(k) => match gw_.client.check_consistent(k, head).await {
            Ok(_) => {
                let newer = h.tree_size > k.head().tree_size;
                if !newer {
                    state.remember(h.tree_size, h.root_hash);
                }
                newer
            }
            Err(e) if *e.kind() == axis_client::ErrorKind::Verification => {
                gw_.log_rewritten(&e.to_string());
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "consistency not checked this time (the axis did not answer)");
                false
            }
        },
    };
    if keep {
        if let Err(e) = gw_.db.kv_set_relaxed(KEPT, &head.signed().encode()).await {
            tracing::error!(error = %e, "keeping the witness's head");
            return;
        }
        if let Some(old) = state.kept.replace(head.signed().clone()) {
            let o = *old.head();
            state.remember(o.tree_size, o.root_hash);
        }
        gw_.metrics.tree_size.store(h.tree_size, Ordering::Relaxed);
    }
}
