//! `axis.v1.Log`: signed tree heads, inclusion and consistency proofs, entries, and the
//! witnesses' cosignatures of tree heads.
//!
//! Proofs are built from what the committer stored: every leaf hash, and complete nodes at
//! levels 8, 16, … (`NODE_STRIDE`). Any complete node of the tree is the fold of a run of at
//! most 128 stored hashes one stride below it, so a proof costs a few range reads.

use std::collections::HashMap;
use std::sync::Arc;

use axis_log::{Hash, NodeId};
use axis_proto::v1 as pb;
use tonic::{Request, Response, Status};

use super::{App, require_operator};
use crate::commit::NODE_STRIDE;
use crate::error::{Result, ServerError};
use crate::store::Db;

/// Most entries returned by one `GetEntries`.
const MAX_ENTRIES: u64 = 1000;

/// The Log service.
pub(crate) struct LogService {
    app: Arc<App>,
}

impl LogService {
    /// Over the shared application state.
    pub(crate) fn new(app: Arc<App>) -> Self {
        LogService { app }
    }
}

/// The signed tree head of `size` (latest when 0).
async fn signed_head(db: &Db, size: u64) -> Result<pb::SignedTreeHead> {
    let (tree_head, signature) = db
        .tree_head(if size == 0 { None } else { Some(size) })
        .await?
        .ok_or_else(|| {
            ServerError::LogUnavailable(if size == 0 {
                "the log is empty".to_owned()
            } else {
                format!("the axis signed no tree head of size {size}")
            })
        })?;
    Ok(pb::SignedTreeHead {
        tree_head,
        signature,
    })
}

fn size_of(head: &pb::SignedTreeHead) -> Result<u64> {
    axis_evidence::SignedTreeHead::parse(&head.tree_head, head.signature.clone())
        .map(|h| h.head().tree_size)
        .map_err(|e| ServerError::log_state("tree head", e))
}

/// Loads the hashes of `nodes` from storage.
pub(crate) async fn load_nodes(db: &Db, nodes: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
    let mut out = HashMap::with_capacity(nodes.len());
    for id in nodes {
        let (level, range) = axis_log::stored_cover(*id, NODE_STRIDE);
        let want = range.end - range.start;
        let stored = db.stored_hashes(level, range).await?;
        if stored.len() as u64 != want {
            return Err(ServerError::log_state(
                "node hashes",
                format!("log node {id:?}: {} of {want} stored hashes", stored.len()),
            ));
        }
        let hashes: Vec<Hash> = stored
            .iter()
            .map(|h| <Hash>::try_from(h.as_slice()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| ServerError::log_state("node hashes", "a stored hash is not 32 bytes"))?;
        let hash = axis_log::fold_complete(&hashes)
            .map_err(|e| ServerError::log_state("node hashes", e))?;
        out.insert(*id, hash);
    }
    Ok(out)
}

#[tonic::async_trait]
impl pb::log_server::Log for LogService {
    async fn get_tree_head(
        &self,
        req: Request<pb::GetTreeHeadRequest>,
    ) -> std::result::Result<Response<pb::SignedTreeHead>, Status> {
        self.app.any_call(&req)?;
        Ok(Response::new(
            signed_head(&self.app.db, req.get_ref().tree_size).await?,
        ))
    }

    async fn get_inclusion_proof(
        &self,
        req: Request<pb::GetInclusionProofRequest>,
    ) -> std::result::Result<Response<pb::InclusionProof>, Status> {
        self.app.any_call(&req)?;
        let r = req.into_inner();
        let db = &self.app.db;
        let head = signed_head(db, r.tree_size).await?;
        let size = size_of(&head)?;
        let index = match r.leaf {
            Some(pb::get_inclusion_proof_request::Leaf::LeafIndex(i)) => i,
            Some(pb::get_inclusion_proof_request::Leaf::LeafHash(h)) => {
                if h.len() != 32 {
                    return Err(ServerError::malformed("leaf hash", "must be 32 bytes").into());
                }
                db.leaf_index_of(&h).await?.ok_or_else(|| {
                    ServerError::LogUnavailable("no entry with that leaf hash".into())
                })?
            }
            None => {
                return Err(ServerError::malformed("request", "give a leaf index or hash").into());
            }
        };
        if index >= size {
            return Err(ServerError::LogUnavailable(format!(
                "entry {index} is not in the tree of size {size}"
            ))
            .into());
        }
        let ids = axis_log::inclusion_nodes(index, size)
            .map_err(|e| ServerError::LogUnavailable(e.to_string()))?;
        let nodes = load_nodes(db, &ids).await?;
        let path = axis_log::inclusion_proof(index, size, |id| nodes.get(&id).copied())
            .map_err(|e| ServerError::log_state("inclusion proof", e))?;
        Ok(Response::new(pb::InclusionProof {
            leaf_index: index,
            tree_size: size,
            path: path.iter().map(|h| h.to_vec()).collect(),
            tree_head: Some(head),
        }))
    }

    async fn get_consistency_proof(
        &self,
        req: Request<pb::GetConsistencyProofRequest>,
    ) -> std::result::Result<Response<pb::ConsistencyProof>, Status> {
        self.app.any_call(&req)?;
        let r = req.into_inner();
        let db = &self.app.db;
        let head = signed_head(db, r.second).await?;
        let second = size_of(&head)?;
        if r.first == 0 || r.first > second {
            return Err(ServerError::malformed(
                "first",
                format!("must be between 1 and the newer size {second}"),
            )
            .into());
        }
        let ids = axis_log::consistency_nodes(r.first, second)
            .map_err(|e| ServerError::LogUnavailable(e.to_string()))?;
        let nodes = load_nodes(db, &ids).await?;
        let path = axis_log::consistency_proof(r.first, second, |id| nodes.get(&id).copied())
            .map_err(|e| ServerError::log_state("consistency proof", e))?;
        Ok(Response::new(pb::ConsistencyProof {
            first: r.first,
            second,
            path: path.iter().map(|h| h.to_vec()).collect(),
            tree_head: Some(head),
        }))
    }

    async fn get_entries(
        &self,
        req: Request<pb::GetEntriesRequest>,
    ) -> std::result::Result<Response<pb::GetEntriesResponse>, Status> {
        let caller = self.app.any_call(&req)?;
        require_operator(&caller)?;
        let r = req.into_inner();
        if r.end <= r.start {
            return Err(ServerError::malformed("range", "end must be greater than start").into());
        }
        let end = r.end.min(r.start.saturating_add(MAX_ENTRIES));
        let entries = self.app.db.entries(r.start, end).await?;
        Ok(Response::new(pb::GetEntriesResponse {
            entries: entries
                .into_iter()
                .map(|(leaf_index, entry)| pb::LogEntry { leaf_index, entry })
                .collect(),
        }))
    }

    async fn add_cosignature(
        &self,
        req: Request<pb::AddCosignatureRequest>,
    ) -> std::result::Result<Response<pb::AddCosignatureResponse>, Status> {
        self.app.any_call(&req)?;
        let db = &self.app.db;
        let c = self
            .app
            .witnesses
            .check(db, &req.get_ref().cosignature)
            .await?;
        let body = c.cosigned();
        let cosignatures = db
            .add_cosignature(body.tree_size, &body.witness, c.as_bytes())
            .await?;
        Ok(Response::new(pb::AddCosignatureResponse {
            tree_size: body.tree_size,
            cosignatures,
        }))
    }

    async fn get_cosigned_tree_head(
        &self,
        req: Request<pb::GetCosignedTreeHeadRequest>,
    ) -> std::result::Result<Response<pb::CosignedTreeHead>, Status> {
        self.app.any_call(&req)?;
        let r = req.into_inner();
        let db = &self.app.db;
        let size = if r.tree_size == 0 && r.min_cosignatures > 0 {
            db.latest_cosigned_size(r.min_cosignatures)
                .await?
                .ok_or_else(|| {
                    ServerError::LogUnavailable(format!(
                        "no tree head has {} witness cosignatures yet",
                        r.min_cosignatures
                    ))
                })?
        } else {
            r.tree_size
        };
        let head = signed_head(db, size).await?;
        let parsed = axis_evidence::SignedTreeHead::parse(&head.tree_head, Vec::new())
            .map_err(|e| ServerError::log_state("tree head", e))?;
        // Only cosignatures of this head: each was checked against the head of its size when
        // it was kept, and a head row is never rewritten — unless the database was.
        let cosignatures = db
            .cosignatures(
                parsed.head().tree_size,
                axis_evidence::limits::MAX_COSIGNATURES,
            )
            .await?
            .into_iter()
            .filter(|c| {
                axis_evidence::Cosignature::parse(c).is_ok_and(|c| {
                    self.app
                        .witnesses
                        .is_of_this_log(c.cosigned(), parsed.head())
                })
            })
            .collect();
        Ok(Response::new(pb::CosignedTreeHead {
            tree_head: Some(head),
            cosignatures,
        }))
    }
}
