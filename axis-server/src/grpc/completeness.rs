//! The completeness statement a history carries when asked (`GetHistoryRequest.completeness`):
//! what the log holds for one message per recipient as of the latest signed tree head, signed
//! by the log signer for this call. Read-only: the commit path is not involved.
//!
//! The head is read first, then the statements: every statement below the head's size was
//! committed with (or before) that head, so none is missing; those logged since are left out
//! of the answer, so that the entries are exactly what the statement counts.

use std::sync::Arc;

use axis_evidence::{ChainHead, Completeness, SignedTreeHead};
use axis_pki::{AgencyId, KeySigner, VerifiedCert};
use axis_proto::v1 as pb;
use axis_signer::{MessageId, Signer};
use time::OffsetDateTime;

use crate::error::{Fault, Result, ServerError};
use crate::store::{Db, StatementRow};

/// The log signer's key and certificate, shared with the committer.
#[derive(Clone)]
pub struct LogSigner {
    /// The key (a file or a token).
    pub key: Arc<dyn KeySigner>,
    /// Its verified axis-log-signer certificate.
    pub cert: Arc<VerifiedCert>,
}

/// The latest signed tree head: its bytes, signature and parsed head.
pub(crate) async fn latest_head(db: &Db) -> Result<(Vec<u8>, Vec<u8>, SignedTreeHead)> {
    let (bytes, signature) = db
        .tree_head(None)
        .await?
        .ok_or_else(|| ServerError::LogUnavailable("the log is empty".to_owned()))?;
    let head = SignedTreeHead::parse(&bytes, signature.clone())
        .map_err(|e| ServerError::log_state("tree head", e))?;
    Ok((bytes, signature, head))
}

/// What the log holds for `message_id` as of `head`, for `recipients` (each with its
/// statements among `rows`, which are below the head and in log order); not yet signed.
pub(crate) fn statement_of(
    message_id: MessageId,
    head: &SignedTreeHead,
    acceptance_index: u64,
    recipients: &[AgencyId],
    rows: &[StatementRow],
    now: OffsetDateTime,
) -> Completeness {
    let h = head.head();
    Completeness {
        message_id,
        tree_size: h.tree_size,
        root_hash: h.root_hash,
        // Never before the head it speaks of (another node's clock may be ahead).
        issued_at: now.max(h.timestamp),
        acceptance_index,
        chains: recipients
            .iter()
            .map(|r| {
                let chain: Vec<(u64, [u8; 32])> = rows
                    .iter()
                    .filter(|s| s.recipient == r.as_str())
                    .map(|s| (s.logged.leaf_index, axis_signer::cms::sha256(&s.statement)))
                    .collect();
                ChainHead::of(r.clone(), &chain)
            })
            .collect(),
    }
}

/// Signs `statement` and packs it with its head for the answer.
pub(crate) fn sign(
    signer: &LogSigner,
    statement: &Completeness,
    head: (Vec<u8>, Vec<u8>),
) -> Result<pb::SignedCompleteness> {
    let fault = |e: &dyn std::fmt::Display| {
        ServerError::from(Fault::SignTreeHead(format!("completeness statement: {e}")))
    };
    let s = Signer::new(signer.key.as_ref(), &signer.cert).map_err(|e| fault(&e))?;
    let signed = statement.sign(&s).map_err(|e| fault(&e))?;
    Ok(pb::SignedCompleteness {
        statement: signed.as_bytes().to_vec(),
        signature: signed.signature().to_vec(),
        tree_head: head.0,
        tree_head_signature: head.1,
    })
}
