//! The witness: every tree head the gateway sees — in each acceptance and receipt the axis
//! returns, and the latest one, read at every status pass — must be a head of the same log as
//! the last one it kept (RFC 9162 consistency proof, or equal roots). The first head that is
//! not turns the gateway off, loudly: an error in the log, `axis_gateway_log_consistent 0`,
//! `/healthz` failing, and both APIs refusing with `LOG_INCONSISTENT`, until an operator has
//! looked (the kept head stays in the store as evidence).

use std::sync::atomic::Ordering;

use axis_client::evidence::{LogProof, SignedTreeHead, VerifiedTreeHead};

use crate::service::Gateway;

/// The store key of the last head kept.
const KEPT: &str = "witness_head";

/// Checks the head of a piece of log evidence the SDK verified.
pub async fn observe(gw_: &Gateway, evidence: &axis_client::Evidence) {
    let Ok(proof) = LogProof::parse(&evidence.proof) else {
        // The SDK verified it before handing it out: it parses.
        return;
    };
    match gw_.client.verify_tree_head(&proof.tree_head).await {
        Ok(head) => check(gw_, &head).await,
        Err(e) => tracing::warn!(error = %e, "a tree head could not be verified again"),
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
    let _one_at_a_time = gw_.witness_lock.lock().await;
    let kept = match gw_.db.kv_get(KEPT).await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "reading the witness's head");
            return;
        }
    };
    let kept = match kept.as_deref().map(SignedTreeHead::decode) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            tracing::error!(error = %e, "the witness's kept head does not parse; keeping the new one");
            None
        }
    };
    gw_.metrics.heads_checked.fetch_add(1, Ordering::Relaxed);
    let keep = match &kept {
        None => true,
        Some(k) => match gw_.client.check_consistent(k, head).await {
            Ok(_) => head.head().tree_size > k.head().tree_size,
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
        if let Err(e) = gw_.db.kv_set(KEPT, &head.signed().encode()).await {
            tracing::error!(error = %e, "keeping the witness's head");
        }
        gw_.metrics
            .tree_size
            .store(head.head().tree_size, Ordering::Relaxed);
    }
}
