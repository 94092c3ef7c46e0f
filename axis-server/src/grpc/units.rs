//! The unit directory's calls (`ImportUnits`, `GetDirectorySnapshot`, `GetDirectoryChanges`,
//! `LookupUnit`, `ListUnits`); `directory.rs` routes the `Directory` service's methods here.
//!
//! An import is checked in full before anything is stored: the operator's signature on the
//! version, the version following the current one, every unit and the hierarchy, and the
//! current list with the changes applied hashing to the signed digest
//! (`axis_evidence::check_import`). Then one transaction stores it.

use std::pin::Pin;
use std::sync::Arc;

use axis_evidence::limits::{MAX_DIRECTORY_UNITS, MAX_DIRECTORY_VERSIONS_PER_SYNC};
use axis_evidence::{Changes, RawUnit, SignedDirectoryVersion, Unit, UnitList};
use axis_pki::AgencyId;
use axis_proto::v1 as pb;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status, Streaming};

use super::{App, require_operator};
use crate::error::{Result, ServerError};
use crate::store::{UnitRow, VersionRow};

/// Most units (or removals) in one page, sent or received.
pub(crate) const MAX_UNITS_PER_PAGE: usize = 5000;
/// Units per page the axis sends.
const PAGE: usize = 2000;
/// Largest `ListUnits` page.
const MAX_LIST_PAGE: u32 = 1000;

pub(crate) type PageStream =
    Pin<Box<dyn Stream<Item = std::result::Result<pb::DirectoryPage, Status>> + Send>>;

fn invalid(e: impl std::fmt::Display) -> ServerError {
    ServerError::DirectoryInvalid(e.to_string())
}

fn unit_id(what: &'static str, s: &str) -> Result<AgencyId> {
    AgencyId::parse(s).map_err(|e| ServerError::malformed(what, e))
}

/// A stored unit on the wire.
pub(crate) fn unit_pb(u: UnitRow, with_level: bool) -> pb::DirectoryUnit {
    pb::DirectoryUnit {
        unit_id: u.unit_id,
        name: u.name,
        parent_id: u.parent_id,
        code_qd20: u.code_qd20,
        level: if with_level {
            u32::try_from(u.level).unwrap_or(0)
        } else {
            0
        },
    }
}

fn raw_of(u: pb::DirectoryUnit) -> RawUnit {
    RawUnit {
        id: u.unit_id,
        name: u.name,
        parent: u.parent_id,
        code_qd20: u.code_qd20,
    }
}

fn signed_pb(v: VersionRow) -> pb::SignedDirectoryVersion {
    pb::SignedDirectoryVersion {
        version: v.statement,
        signature: v.signature,
    }
}

/// The stored list at `number`, checked as any list is (a stored unit that does not read back
/// is the axis's fault).
async fn stored_list(app: &App, number: u64) -> Result<UnitList> {
    let rows = app.db.all_units_at(number).await?;
    let units = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            Unit::parse(&raw_of(unit_pb(r, false)), i)
                .map_err(|e| ServerError::stored("directory unit", e))
        })
        .collect::<Result<Vec<_>>>()?;
    UnitList::from_sorted(units).map_err(|e| ServerError::stored("directory", e))
}

/// `ImportUnits`: read the whole stream within its budgets, check it, store it at once.
pub(crate) async fn import(
    app: &App,
    req: Request<Streaming<pb::ImportUnitsRequest>>,
) -> Result<pb::ImportUnitsResponse> {
    let caller = app.any_call(&req)?;
    require_operator(&caller)?;
    let mut stream = req.into_inner();
    use pb::import_units_request::Part;
    let first = stream
        .message()
        .await
        .map_err(|e| ServerError::malformed("import stream", e.message()))?;
    let Some(pb::ImportUnitsRequest {
        part: Some(Part::Version(v)),
    }) = first
    else {
        return Err(ServerError::Protocol(
            "an import begins with the signed version, then its changes",
        ));
    };
    let next = SignedDirectoryVersion::from_parts(v.version, v.signature)
        .map_err(|e| ServerError::malformed("directory version", e))?;
    let mut changes = Changes::default();
    while let Some(m) = stream
        .message()
        .await
        .map_err(|e| ServerError::malformed("import stream", e.message()))?
    {
        let Some(Part::Changes(page)) = m.part else {
            return Err(ServerError::Protocol(
                "one signed version per import, first",
            ));
        };
        if page.upserts.len() + page.removals.len() > MAX_UNITS_PER_PAGE {
            return Err(invalid(format!(
                "a page holds {} units; at most {MAX_UNITS_PER_PAGE}",
                page.upserts.len() + page.removals.len()
            )));
        }
        if changes.upserts.len() + page.upserts.len() > MAX_DIRECTORY_UNITS
            || changes.removals.len() + page.removals.len() > MAX_DIRECTORY_UNITS
        {
            return Err(invalid(format!(
                "more than {MAX_DIRECTORY_UNITS} units changed or removed"
            )));
        }
        for u in page.upserts {
            let position = changes.upserts.len();
            changes
                .upserts
                .push(Unit::parse(&raw_of(u), position).map_err(invalid)?);
        }
        for r in page.removals {
            changes.removals.push(unit_id("removed unit id", &r)?);
        }
    }
    let head = app.db.directory_head().await?;
    let number = head.as_ref().map_or(0, |h| h.version);
    let current = stored_list(app, number).await?;
    let now = OffsetDateTime::now_utc();
    let verified =
        axis_evidence::check_import(number, &current, &next, &changes, &app.trust.store(), now)
            .map_err(ServerError::directory)?;
    let new = verified.units();
    let ended: Vec<String> = changes
        .upserts
        .iter()
        .map(|u| &u.id)
        .filter(|id| current.get(id).is_some())
        .chain(&changes.removals)
        .map(ToString::to_string)
        .collect();
    let added = changes
        .upserts
        .iter()
        .map(|u| {
            let raw = u.to_raw();
            Ok(UnitRow {
                level: new
                    .level(&u.id)
                    .and_then(|l| i64::try_from(l).ok())
                    .ok_or_else(|| ServerError::invariant("a checked unit has a level"))?,
                unit_id: raw.id,
                name: raw.name,
                parent_id: raw.parent,
                code_qd20: raw.code_qd20,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let version = verified.version();
    app.db
        .import_units(
            &VersionRow {
                version: version.number,
                statement: next.bytes().to_vec(),
                signature: next.signature().to_vec(),
            },
            &ended,
            &added,
            now,
        )
        .await?;
    tracing::info!(
        version = version.number,
        units = version.units,
        changes = version.changes,
        operator = %caller.subject,
        "unit directory imported"
    );
    Ok(pb::ImportUnitsResponse {
        version: version.number,
        units: version.units,
        changes: version.changes,
    })
}

/// Sends `pages` in order from a task of their own; stops when the client goes away.
fn spawn_pages(
    app: Arc<App>,
    key: String,
    fill: impl FnOnce(
        Arc<App>,
        mpsc::Sender<std::result::Result<pb::DirectoryPage, Status>>,
    ) -> futures_util::future::BoxFuture<'static, Result<()>>
    + Send
    + 'static,
) -> Result<PageStream> {
    let permit = app
        .streams
        .acquire(&key, app.limits.max_streams_per_agency)?;
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let _permit = permit;
        if let Err(e) = fill(app, tx.clone()).await {
            let _ = tx.send(Err(Status::from(e))).await;
        }
    });
    Ok(Box::pin(ReceiverStream::new(rx)))
}

fn stream_key(caller: &crate::tls::Caller) -> String {
    caller
        .agency
        .as_ref()
        .map_or_else(|| "operator".to_owned(), ToString::to_string)
}

/// `GetDirectorySnapshot`: the signed version first, then the units live at it, page by page.
pub(crate) async fn snapshot(
    app: Arc<App>,
    req: Request<pb::GetDirectorySnapshotRequest>,
) -> Result<PageStream> {
    let caller = app.any_call(&req)?;
    let r = req.into_inner();
    if r.after_unit_id.len() > 64 {
        return Err(ServerError::malformed("after_unit_id", "too long"));
    }
    let head = app.db.directory_head().await?;
    let number = match (r.version, &head) {
        (0, Some(h)) => h.version,
        (v, Some(h)) if v <= h.version => v,
        (v, _) => return Err(ServerError::DirectoryVersionUnknown(v)),
    };
    let signed = app
        .db
        .directory_versions(number - 1, number)
        .await?
        .pop()
        .ok_or(ServerError::DirectoryVersionUnknown(number))?;
    spawn_pages(app, stream_key(&caller), move |app, tx| {
        Box::pin(async move {
            let mut versions = vec![signed_pb(signed)];
            let mut after = r.after_unit_id;
            loop {
                let rows = app.db.units_at(number, &after, PAGE as u32).await?;
                let full = rows.len() == PAGE;
                if let Some(last) = rows.last() {
                    after = last.unit_id.clone();
                }
                let page = pb::DirectoryPage {
                    versions: std::mem::take(&mut versions),
                    units: rows.into_iter().map(|u| unit_pb(u, false)).collect(),
                    removals: Vec::new(),
                };
                if tx.send(Ok(page)).await.is_err() || !full {
                    return Ok(());
                }
            }
        })
    })
}

/// `GetDirectoryChanges`: every signed version after `since_version` on the first page, then
/// the net upserts and removals, page by page.
pub(crate) async fn changes(
    app: Arc<App>,
    req: Request<pb::GetDirectoryChangesRequest>,
) -> Result<PageStream> {
    let caller = app.any_call(&req)?;
    let since = req.into_inner().since_version;
    let current = app.db.directory_head().await?.map_or(0, |h| h.version);
    if since > current {
        return Err(ServerError::DirectoryVersionUnknown(since));
    }
    if current - since > MAX_DIRECTORY_VERSIONS_PER_SYNC as u64 {
        return Err(ServerError::DirectoryResync {
            since,
            behind: current - since,
        });
    }
    spawn_pages(app, stream_key(&caller), move |app, tx| {
        Box::pin(async move {
            let versions = app.db.directory_versions(since, current).await?;
            let (upserts, removals) = if since == current {
                (Vec::new(), Vec::new())
            } else {
                app.db.unit_changes(since, current).await?
            };
            let mut versions: Vec<_> = versions.into_iter().map(signed_pb).collect();
            let mut upserts = upserts.into_iter().map(|u| unit_pb(u, false)).peekable();
            let mut removals = removals.into_iter().peekable();
            loop {
                let units: Vec<_> = upserts.by_ref().take(PAGE).collect();
                let gone: Vec<_> = removals.by_ref().take(PAGE - units.len()).collect();
                let page = pb::DirectoryPage {
                    versions: std::mem::take(&mut versions),
                    units,
                    removals: gone,
                };
                if tx.send(Ok(page)).await.is_err()
                    || (upserts.peek().is_none() && removals.peek().is_none())
                {
                    return Ok(());
                }
            }
        })
    })
}

/// `LookupUnit`.
pub(crate) async fn lookup(
    app: &App,
    req: Request<pb::LookupUnitRequest>,
) -> Result<pb::DirectoryUnit> {
    app.any_call(&req)?;
    let id = unit_id("unit id", &req.get_ref().unit_id)?;
    let row = app
        .db
        .unit(id.as_str())
        .await?
        .ok_or_else(|| ServerError::UnitNotFound(id.to_string()))?;
    Ok(unit_pb(row, true))
}

/// `ListUnits`.
pub(crate) async fn list(
    app: &App,
    req: Request<pb::ListUnitsRequest>,
) -> Result<pb::ListUnitsResponse> {
    app.any_call(&req)?;
    let r = req.into_inner();
    let size = match r.page_size {
        0 => 100,
        n => n.min(MAX_LIST_PAGE),
    };
    if r.after_unit_id.len() > 64 {
        return Err(ServerError::malformed("after_unit_id", "too long"));
    }
    let parent = if r.parent_id.is_empty() {
        None
    } else {
        Some(unit_id("parent id", &r.parent_id)?)
    };
    let version = app.db.directory_head().await?.map_or(0, |h| h.version);
    let rows = app
        .db
        .list_units(
            &r.after_unit_id,
            parent.as_ref().map(AgencyId::as_str),
            size,
        )
        .await?;
    let next = if rows.len() as u32 == size {
        rows.last().map(|u| u.unit_id.clone()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(pb::ListUnitsResponse {
        units: rows.into_iter().map(|u| unit_pb(u, true)).collect(),
        next_after_unit_id: next,
        version,
    })
}
