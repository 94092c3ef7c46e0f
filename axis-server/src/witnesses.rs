//! The witnesses the operator accepts (`[witnesses] keys`), and what the axis checks before it
//! keeps a cosignature: a known witness, a signature that verifies, a head this axis signed.

use std::path::PathBuf;

use axis_evidence::{Cosignature, CosignedTreeHead, SignedTreeHead, TreeHead, WitnessKey, key_id};

use crate::error::{CosignatureReason, Result, ServerError};
use crate::server::StartError;
use crate::store::Db;

/// Largest witness key file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The configured witnesses and the log's own identity.
#[derive(Clone, Debug)]
pub struct Witnesses {
    keys: Vec<WitnessKey>,
    /// The log signer's SPKI.
    log_key: Vec<u8>,
}

fn refused(reason: CosignatureReason, detail: impl Into<String>) -> ServerError {
    ServerError::Cosignature {
        reason,
        detail: detail.into(),
    }
}

impl Witnesses {
    /// Reads each witness key (PEM `PUBLIC KEY` or DER SPKI, P-256); `log_key` is the log
    /// signer's SPKI. A key that cannot be read or is not P-256 stops the start.
    pub fn load(paths: &[PathBuf], log_key: Vec<u8>) -> std::result::Result<Self, StartError> {
        let mut keys = Vec::with_capacity(paths.len());
        for path in paths {
            let bad = |detail: String| StartError::Key {
                what: "witness",
                path: path.display().to_string(),
                detail,
            };
            let len = std::fs::metadata(path)
                .map_err(|e| bad(e.to_string()))?
                .len();
            if len > MAX_KEY_FILE {
                return Err(bad("too large to be a public key".into()));
            }
            let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let der = if bytes.starts_with(b"-----BEGIN") {
                let block = pem::parse(&bytes).map_err(|e| bad(e.to_string()))?;
                if block.tag() != "PUBLIC KEY" {
                    return Err(bad(format!("holds a {}, not a PUBLIC KEY", block.tag())));
                }
                block.into_contents()
            } else {
                bytes
            };
            let key = WitnessKey::parse(&der).map_err(|e| bad(e.to_string()))?;
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(Witnesses { keys, log_key })
    }

    /// How many witnesses are configured.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `c` is of `head` of this axis's log.
    pub fn is_of_this_log(&self, c: &CosignedTreeHead, head: &TreeHead) -> bool {
        c.is_of(head, &self.log_key)
    }

    /// Checks a cosignature handed in, before it is kept:
    ///
    /// 1. It parses within its budget, in its one byte form (`MALFORMED`).
    /// 2. Its witness is one the operator configured (`WITNESS_UNKNOWN`): anyone can make a
    ///    key, only the operator's list decides whose cosignatures the axis serves.
    /// 3. Its signature verifies with that key, the low s (`COSIGNATURE_INVALID`).
    /// 4. It is of this log (the log signer's key id) and of a size this axis signed a head
    ///    for (`TREE_HEAD_UNKNOWN`), with that head's root (`TREE_HEAD_MISMATCH`: the witness
    ///    was shown another history — logged as an error, since only this log's key can have
    ///    signed it).
    pub async fn check(&self, db: &Db, bytes: &[u8]) -> Result<Cosignature> {
        // Step 1.
        let c = Cosignature::parse(bytes)
            .map_err(|e| ServerError::malformed("cosignature", e.to_string()))?;
        let body = *c.cosigned();
        // Step 2.
        let witness = self
            .keys
            .iter()
            .find(|k| k.id() == body.witness)
            .ok_or_else(|| {
                refused(
                    CosignatureReason::WitnessUnknown,
                    "its witness is not one this axis's operator configured ([witnesses] keys)",
                )
            })?;
        // Step 3.
        c.verify(witness)
            .map_err(|e| refused(CosignatureReason::Invalid, e.to_string()))?;
        // Step 4.
        if body.log != key_id(&self.log_key) {
            return Err(refused(
                CosignatureReason::HeadUnknown,
                "it is of another log (another log signer's key)",
            ));
        }
        let (head, signature) = db.tree_head(Some(body.tree_size)).await?.ok_or_else(|| {
            refused(
                CosignatureReason::HeadUnknown,
                format!("this axis signed no tree head of size {}", body.tree_size),
            )
        })?;
        let ours = SignedTreeHead::parse(&head, signature)
            .map_err(|e| ServerError::log_state("tree head", e))?;
        if ours.head().root_hash != body.root_hash {
            tracing::error!(
                tree_size = body.tree_size,
                "a witness cosigned a head of this log's size with another root: someone shows \
                 witnesses another history signed with this log's key"
            );
            return Err(refused(
                CosignatureReason::HeadMismatch,
                format!(
                    "the head of size {} this axis signed has another root",
                    body.tree_size
                ),
            ));
        }
        Ok(c)
    }
}
