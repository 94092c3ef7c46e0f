//! Following the axis's log: signed tree heads and consistency between them (what a monitor or
//! witness does, so that a rewritten history is noticed).

use axis_evidence::{SignedTreeHead, TreeHead, VerifiedTreeHead};
use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::nodes::{self, Retry};

/// What [`Client::check_extends`] found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Extension {
    /// The newer head, verified.
    pub newer: VerifiedTreeHead,
    /// Entries added since the older head.
    pub added: u64,
}

fn hashes(path: &[Vec<u8>]) -> Result<Vec<[u8; 32]>> {
    path.iter()
        .map(|h| {
            <[u8; 32]>::try_from(h.as_slice())
                .map_err(|_| Error::verification("the axis sent a proof hash that is not 32 bytes"))
        })
        .collect()
}

impl Client {
    /// A signed tree head of the axis's log (the latest when `size` is `None`), its signature
    /// verified with the trust store now and pinned to the configured log key.
    pub async fn tree_head(&self, size: Option<u64>) -> Result<VerifiedTreeHead> {
        let request = pb::GetTreeHeadRequest {
            tree_size: size.unwrap_or(0),
        };
        let h = self
            .call("GetTreeHead", Retry::Always, |ch| async move {
                nodes::log(ch).get_tree_head(request).await
            })
            .await?;
        self.verify_head(&h).await
    }

    pub(crate) async fn verify_head(&self, h: &pb::SignedTreeHead) -> Result<VerifiedTreeHead> {
        let store = self.trust_store().await?;
        SignedTreeHead::parse(&h.tree_head, h.signature.clone())
            .and_then(|s| s.verify(&store, OffsetDateTime::now_utc(), self.log_key()))
            .map_err(|e| Error::signer("the axis's signed tree head", e))
    }

    /// Checks that the log today extends `older` (a head seen before):
    ///
    /// 1. The latest head's signature verifies (pinned to the log key when configured).
    /// 2. It is not smaller than `older` (a log never shrinks).
    /// 3. Same size: same root. Larger: the axis's RFC 9162 consistency proof from `older` to
    ///    it verifies — every entry `older` covered is still there, unchanged and in place.
    ///
    /// Any failure is [`crate::ErrorKind::Verification`]: the axis rewrote, forked, shrank or
    /// emptied its history (or the older head is not this log's). An axis that answers that it
    /// has no tree head at all (`LOG_UNAVAILABLE`) after `older`, a head of at least one entry,
    /// was signed has emptied its log: that is a verification failure too, not an outage.
    pub async fn check_extends(&self, older: &SignedTreeHead) -> Result<Extension> {
        let newer = self
            .latest_after(Some(older))
            .await?
            .ok_or_else(|| Error::verification("the log is empty"))?;
        let (old, new) = (older.head(), newer.head());
        if new.tree_size < old.tree_size {
            return Err(Error::verification(format!(
                "the log shrank: it now has {} entries, but a head signed earlier had {}",
                new.tree_size, old.tree_size
            )));
        }
        let added = self.check_consistent(older, &newer).await?;
        Ok(Extension { newer, added })
    }

    /// The latest head, verified; `None` when the log is empty and `older` (a head seen
    /// before, if any) had no entries. An empty log after a head of at least one entry was
    /// emptied: a [`crate::ErrorKind::Verification`] error, not an outage.
    pub(crate) async fn latest_after(
        &self,
        older: Option<&SignedTreeHead>,
    ) -> Result<Option<VerifiedTreeHead>> {
        match self.tree_head(None).await {
            Ok(head) => Ok(Some(head)),
            Err(e) if is_empty_log(&e) => match older {
                Some(o) if o.head().tree_size > 0 => Err(Error::verification(format!(
                    "the log is empty, but a head of {} entries was signed at {}: the log was \
                     emptied (wiped and restarted)",
                    o.head().tree_size,
                    o.head().timestamp
                ))),
                _ => Ok(None),
            },
            Err(e) => Err(e),
        }
    }

    /// Checks that `newer` (a verified head, of any size) and `older` (a head seen before)
    /// are heads of one log: when `newer` is larger, the axis's RFC 9162 consistency proof from
    /// `older` to it verifies; of equal size, the roots are equal; when `newer` is smaller, the
    /// proof from it to `older` verifies (it is a prefix). Returns how many entries `newer` has
    /// beyond `older` (0 if none). A witness calls this for every head it sees.
    ///
    /// Any failure to verify is [`crate::ErrorKind::Verification`]: the log was rewritten or
    /// forked.
    pub async fn check_consistent(
        &self,
        older: &SignedTreeHead,
        newer: &VerifiedTreeHead,
    ) -> Result<u64> {
        let (old, new) = (*older.head(), *newer.head());
        if new.tree_size < old.tree_size {
            // The smaller head must be a prefix of the larger one kept before.
            let kept = self.verify_tree_head(older).await?;
            Box::pin(self.check_consistent(newer.signed(), &kept))
                .await
                .map_err(|e| {
                    Error::verification(format!(
                        "a head of {} entries is not a prefix of the head of {} entries seen \
                         before: {e}",
                        new.tree_size, old.tree_size
                    ))
                })?;
            return Ok(0);
        }
        let proof = self.consistency_path(&old, &new).await?;
        axis_evidence::check_consistent(&old, &new, &proof).map_err(|e| {
            Error::verification(format!(
                "{e} (the head of {} entries was signed at {})",
                old.tree_size, old.timestamp
            ))
            .with_source(e)
        })
    }

    /// The axis's RFC 9162 consistency path from `old` to `new` (empty when `new` is not
    /// larger: there is nothing to prove).
    pub(crate) async fn consistency_path(
        &self,
        old: &TreeHead,
        new: &TreeHead,
    ) -> Result<Vec<[u8; 32]>> {
        if new.tree_size <= old.tree_size || old.tree_size == 0 {
            return Ok(Vec::new());
        }
        self.consistency_proof(old.tree_size, new.tree_size).await
    }

    /// The axis's RFC 9162 consistency proof from the tree of `first` entries to the tree of
    /// `second` (not verified here: it is checked against the two heads it connects).
    pub async fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<[u8; 32]>> {
        let request = pb::GetConsistencyProofRequest { first, second };
        let proof = self
            .call("GetConsistencyProof", Retry::Always, |ch| async move {
                nodes::log(ch).get_consistency_proof(request).await
            })
            .await?;
        if proof.second != second || proof.first != first {
            return Err(Error::verification(
                "the consistency proof is for other tree sizes than the heads checked",
            ));
        }
        hashes(&proof.path)
    }

    /// Verifies a signed tree head (one kept earlier, or one from log evidence) with the trust
    /// store now, pinned to the configured log key.
    pub async fn verify_tree_head(&self, h: &SignedTreeHead) -> Result<VerifiedTreeHead> {
        let store = self.trust_store().await?;
        h.verify(&store, OffsetDateTime::now_utc(), self.log_key())
            .map_err(|e| Error::signer("a signed tree head seen before", e))
    }
}

/// Whether the axis answered that it has no signed tree head at all (its log is empty).
pub(crate) fn is_empty_log(e: &Error) -> bool {
    *e.kind() == crate::ErrorKind::NotFound
        && e.reason() == Some(axis_proto::reasons::LOG_UNAVAILABLE)
}

impl Client {
    /// Builds the evidence bundle of one document (DER, `axis_evidence::EvidenceBundle`): the
    /// routing header and submission signature, every receipt and status this caller may see
    /// (all recipients for the sender, its own chain for a recipient), the issuing CAs and CRLs
    /// the signatures rely on (of those the axis kept: [`axis_evidence::EvidenceBundle::trimmed`]),
    /// the axis's signed completeness statement (made for this export: what its log holds for
    /// the message per recipient as of its latest tree head), that tree head, and each entry's
    /// inclusion path to it. The sender's bundle covers every recipient; a recipient's, its own
    /// chain.
    /// The bundle is verified before it is returned ([`axis_evidence::verify_bundle`] with the
    /// configured root and the log key), so what is handed to an auditor is known to verify.
    pub async fn export_evidence(&self, message_id: &axis_signer::MessageId) -> Result<Vec<u8>> {
        use axis_evidence::{
            BundleStatement, EvidenceBundle, LogEntryBytes, LogProof, LoggedEntry,
        };
        use axis_signer::{SignedReceipt, Submission};
        let mut h = self.get_history(message_id, true).await?;
        let completeness = h.completeness.take().ok_or_else(|| {
            Error::verification("the axis sent the history without its completeness statement")
        })?;
        let tm = self
            .call("GetTrustMaterial", Retry::Always, |ch| async move {
                nodes::directory(ch)
                    .get_trust_material(pb::GetTrustMaterialRequest { history: true })
                    .await
            })
            .await?;
        // The head the completeness statement speaks of: every entry is proven under it.
        let head = self
            .verify_head(&pb::SignedTreeHead {
                tree_head: completeness.tree_head,
                signature: completeness.tree_head_signature,
            })
            .await?;
        let size = head.head().tree_size;
        let bad = |what: &str, e: axis_evidence::Error| Error::signer(what, e);
        let bad_signed = |what: &str, e: axis_signer::Error| Error::signer(what, e);

        // Every logged item, re-proven against the one head.
        let logged = |ev: Option<pb::LogEvidence>, what: &'static str| async move {
            let ev = ev.ok_or_else(|| {
                Error::verification(format!("the axis sent no evidence for {what}"))
            })?;
            let entry = LogEntryBytes::parse(&ev.entry).map_err(|e| bad(what, e))?;
            let index = LogProof::parse(&ev.proof)
                .map_err(|e| bad(what, e))?
                .leaf_index;
            let request = pb::GetInclusionProofRequest {
                leaf: Some(pb::get_inclusion_proof_request::Leaf::LeafIndex(index)),
                tree_size: size,
            };
            let p = self
                .call("GetInclusionProof", Retry::Always, |ch| {
                    let request = request.clone();
                    async move { nodes::log(ch).get_inclusion_proof(request).await }
                })
                .await?;
            Ok::<_, Error>(LoggedEntry {
                entry,
                leaf_index: index,
                path: hashes(&p.path)?,
            })
        };
        let acceptance = logged(h.acceptance.and_then(|a| a.evidence), "the acceptance").await?;
        let mut statements = Vec::with_capacity(h.entries.len());
        for e in h.entries {
            let signed = e.signed.ok_or_else(|| {
                Error::verification("the axis sent a history entry without its statement")
            })?;
            statements.push(BundleStatement {
                recipient: crate::convert::agency_id(&e.recipient, "history recipient")?,
                receipt: SignedReceipt::parse(&signed.statement, signed.signature)
                    .map_err(|e| bad_signed("a receipt in the history", e))?,
                logged: logged(e.evidence, "a receipt").await?,
            });
        }
        let key = self
            .log_key()
            .map_or_else(|| head.signer_key().to_vec(), <[u8]>::to_vec);
        // The witnesses' cosignatures of that same head (none yet: a version 2 bundle), in the
        // bundle's one order: ascending DER, one per witness.
        let cosigned = self.cosigned_tree_head(Some(size), 0).await?;
        if cosigned.head.head() != head.head() {
            return Err(Error::verification(
                "the axis sent another head of the same size with its cosignatures: two \
                 histories (split view)",
            ));
        }
        let mut cosignatures = cosigned.cosignatures;
        cosignatures.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        let mut seen = std::collections::HashSet::new();
        cosignatures.retain(|c| seen.insert(c.cosigned().witness));
        // Every CA and CRL the axis kept, then only those the bundle's signatures rely on, in
        // the bundle's one order: one byte form for the same evidence.
        let bundle = EvidenceBundle {
            submission: Submission::parse(&h.routing_header, h.submission_signature)
                .map_err(|e| bad_signed("the routing header", e))?,
            intermediates: tm.intermediates,
            crls: tm.crls,
            tree_head: head.signed().clone(),
            acceptance,
            statements,
            completeness: Some(
                axis_evidence::SignedCompleteness::parse(
                    &completeness.statement,
                    completeness.signature,
                )
                .map_err(|e| bad("the axis's completeness statement", e))?,
            ),
            cosignatures,
        }
        .trimmed(self.root(), &key)
        .map_err(|e| bad("the evidence bundle the axis's data makes", e))?;
        let bytes = bundle
            .encode()
            .map_err(|e| Error::building("the evidence bundle", e))?;
        let report = axis_evidence::verify_bundle(&bytes, self.root(), &key)
            .map_err(|e| bad("the evidence bundle the axis's data makes", e))?;
        // The sender sees every recipient's chain: a statement covering fewer cuts some out.
        if self.me().ok() == Some(&report.sender)
            && report
                .completeness
                .as_ref()
                .is_none_or(|(_, c)| *c != axis_evidence::Coverage::All)
        {
            return Err(Error::verification(
                "the axis's completeness statement does not cover every recipient of a \
                 document this agency sent",
            ));
        }
        Ok(bytes)
    }
}
