//! Witnessing the axis's log: one step reads the latest signed tree head, checks it against the
//! last head this witness cosigned (the one consistency rule, `axis_evidence::check_consistent`,
//! with the axis's proof), and only then cosigns it (`axis_evidence::cosign_next`). Keeping
//! the last head between steps (durably, before the cosignature leaves) is the caller's job:
//! `axis audit witness` keeps it in its state file.

use axis_evidence::{Cosignature, SignedTreeHead, VerifiedTreeHead};
use axis_pki::KeySigner;
use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::nodes::{self, Retry};

/// A signed tree head with the witnesses' cosignatures the axis holds for it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CosignedHead {
    /// The head, verified.
    pub head: VerifiedTreeHead,
    /// Its cosignatures, each parsed and of this head of this log (not verified: only the
    /// verifier knows which witnesses it relies on).
    pub cosignatures: Vec<Cosignature>,
}

/// What one witness step found.
#[derive(Debug)]
#[non_exhaustive]
pub enum WitnessStep {
    /// The latest head is consistent with the last one cosigned (or is the first): cosigned.
    Cosigned {
        /// The head, verified.
        head: VerifiedTreeHead,
        /// The witness's cosignature of it.
        cosignature: Cosignature,
        /// Entries added since the last head cosigned (0: the same head again).
        added: u64,
    },
    /// The latest head is validly signed by the log but does not continue the history this
    /// witness cosigned (a split view, a fork, a rewrite, a shrunk log): nothing was signed.
    /// Keep both heads: together they prove the log's misbehaviour.
    Refused {
        /// The head the axis showed.
        head: VerifiedTreeHead,
        /// Why it was refused ([`crate::ErrorKind::Verification`]).
        error: Error,
    },
    /// The axis's log is empty and this witness never cosigned a head: nothing to do yet.
    Empty,
}

impl Client {
    /// One witness step with `key` (an ECDSA P-256 key), following the log whose signer's key
    /// is `log_key` (DER SubjectPublicKeyInfo):
    ///
    /// 1. The latest head verifies (trust store now, pinned to `log_key`).
    /// 2. With a last head: the axis's consistency proof from it is fetched, and the head is
    ///    cosigned only if it continues that history ([`axis_evidence::cosign_next`]);
    ///    otherwise [`WitnessStep::Refused`] with the head, to keep as evidence.
    /// 3. A log with no head at all after `last` (of at least one entry) was emptied: an
    ///    error of kind [`crate::ErrorKind::Verification`].
    ///
    /// The cosignature is returned, not sent: the caller keeps the new head first, so that a
    /// crash can never leave a cosignature out that the witness does not remember.
    pub async fn witness_step(
        &self,
        last: Option<&SignedTreeHead>,
        log_key: &[u8],
        key: &dyn KeySigner,
    ) -> Result<WitnessStep> {
        // Step 1 (and 3).
        let Some(head) = self.latest_after(last).await? else {
            return Ok(WitnessStep::Empty);
        };
        if head.signer_key() != log_key {
            return Err(Error::verification(
                "the latest tree head is signed by another log key than the one this witness \
                 follows",
            ));
        }
        // Step 2.
        let last_head = last.map(|l| *l.head());
        let proof = match &last_head {
            Some(l) => self.consistency_path(l, head.head()).await?,
            None => Vec::new(),
        };
        let added = last_head.map_or(head.head().tree_size, |l| {
            head.head().tree_size.saturating_sub(l.tree_size)
        });
        match axis_evidence::cosign_next(
            last_head.as_ref(),
            &head,
            &proof,
            log_key,
            key,
            OffsetDateTime::now_utc(),
        ) {
            Ok(cosignature) => Ok(WitnessStep::Cosigned {
                head,
                cosignature,
                added,
            }),
            // The witness's own key failed: nothing was refused.
            Err(
                e @ axis_evidence::Error::Witness(
                    axis_evidence::WitnessError::Signing { .. }
                    | axis_evidence::WitnessError::WitnessKeyUnsupported,
                ),
            ) => Err(Error::building("cosigning with the witness key", e)),
            Err(e) => Ok(WitnessStep::Refused {
                head,
                error: Error::signer("the latest tree head", e),
            }),
        }
    }
}

impl Client {
    /// Hands the axis a cosignature (made by [`Client::witness_step`]); returns how many
    /// witnesses' cosignatures the head now has. The axis keeps it only from a witness its
    /// operator configured (`WITNESS_UNKNOWN` otherwise) and only for a head it signed. A
    /// repeat is answered as the first, so it is safe to send again.
    pub async fn add_cosignature(&self, cosignature: &Cosignature) -> Result<u32> {
        let request = pb::AddCosignatureRequest {
            cosignature: cosignature.as_bytes().to_vec(),
        };
        let answer = self
            .call("AddCosignature", Retry::Always, |ch| {
                let request = request.clone();
                async move { nodes::log(ch).add_cosignature(request).await }
            })
            .await?;
        Ok(answer.cosignatures)
    }

    /// A signed tree head with its cosignatures: of `size`, or (`None`) the latest head with at
    /// least `min_cosignatures` of them (0: the latest head). The head is verified as
    /// [`Client::tree_head`] does; each cosignature must parse and be of this head of this log.
    pub async fn cosigned_tree_head(
        &self,
        size: Option<u64>,
        min_cosignatures: u32,
    ) -> Result<CosignedHead> {
        let request = pb::GetCosignedTreeHeadRequest {
            tree_size: size.unwrap_or(0),
            min_cosignatures,
        };
        let answer = self
            .call("GetCosignedTreeHead", Retry::Always, |ch| async move {
                nodes::log(ch).get_cosigned_tree_head(request).await
            })
            .await?;
        let head = answer
            .tree_head
            .ok_or_else(|| Error::verification("the axis sent no tree head"))?;
        let head = self.verify_head(&head).await?;
        if answer.cosignatures.len() > axis_evidence::limits::MAX_COSIGNATURES {
            return Err(Error::verification(format!(
                "the axis sent {} cosignatures, more than {}",
                answer.cosignatures.len(),
                axis_evidence::limits::MAX_COSIGNATURES
            )));
        }
        let cosignatures = answer
            .cosignatures
            .iter()
            .map(|c| Cosignature::parse(c))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::signer("a cosignature the axis sent", e))?;
        if let Some(i) = cosignatures
            .iter()
            .position(|c| !c.cosigned().is_of(head.head(), head.signer_key()))
        {
            return Err(Error::verification(format!(
                "cosignature {i} the axis sent is not of the head it sent"
            )));
        }
        Ok(CosignedHead { head, cosignatures })
    }
}
