//! The unit directory: look a unit up, list units page by page, keep a verified copy of the
//! whole directory in sync (a snapshot first, then only the changes), and, for the operator,
//! import a new version signed with the operator's key.
//!
//! A copy is a [`VerifiedDirectory`]: every version it went through was signed by an
//! axis-operator certificate chaining to the root, the versions were contiguous, and the list
//! hashes to the digest the last one signs. The axis could withhold a newer version, never
//! forge or alter one.

use std::time::Duration;

use axis_evidence::limits::MAX_DIRECTORY_UNITS;
use axis_evidence::{
    Changes, DirectoryVersion, RawUnit, SignedDirectoryVersion, Unit, UnitList, VerifiedDirectory,
};
use axis_pki::AgencyId;
use axis_proto::reasons;
use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::nodes::{self, Attempts, Retry};

/// Units per page of an import (the axis takes at most 5,000).
const IMPORT_PAGE: usize = 5000;
/// A snapshot, the changes or an import may take this many call deadlines.
const LONG_CALL_FACTOR: u32 = 10;

/// One unit as the directory lists it, with its level.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnitInfo {
    /// The unit.
    pub unit: Unit,
    /// Its level, 1 (a ministry, a province) to 4.
    pub level: u32,
}

/// A page of [`Client::list_units`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct UnitPage {
    /// This page, in id order.
    pub units: Vec<UnitInfo>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next_after: Option<String>,
    /// The directory version current when the page was read.
    pub version: u64,
}

/// What [`Client::sync_directory`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Synced {
    /// The verified copy now held; `None` while nothing was ever imported.
    pub directory: Option<VerifiedDirectory>,
    /// Whether it came from a full snapshot (else from the changes since the copy given).
    pub snapshot: bool,
    /// How many units were added, changed or removed (all of them for a snapshot).
    pub changed: usize,
}

/// What [`Client::import_units`] did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Imported {
    /// The verified copy at the new version (or at the current one, if nothing changed).
    pub directory: VerifiedDirectory,
    /// How many units changed; 0 when the file matched the directory (nothing was sent).
    pub changes: usize,
}

fn unit_of(u: pb::DirectoryUnit, position: usize) -> Result<Unit> {
    let raw = RawUnit {
        id: u.unit_id,
        name: u.name,
        parent: u.parent_id,
        code_qd20: u.code_qd20,
    };
    Unit::parse(&raw, position).map_err(|e| Error::verification(format!("the axis sent {e}")))
}

fn unit_pb(u: &Unit) -> pb::DirectoryUnit {
    let raw = u.to_raw();
    pb::DirectoryUnit {
        unit_id: raw.id,
        name: raw.name,
        parent_id: raw.parent,
        code_qd20: raw.code_qd20,
        level: 0,
    }
}

fn info_of(u: pb::DirectoryUnit) -> Result<UnitInfo> {
    let level = u.level;
    Ok(UnitInfo {
        unit: unit_of(u, 0)?,
        level,
    })
}

fn versions_of(pages: &mut [pb::DirectoryPage]) -> Result<Vec<SignedDirectoryVersion>> {
    let Some(first) = pages.first_mut() else {
        return Err(Error::verification("the axis sent no page"));
    };
    std::mem::take(&mut first.versions)
        .into_iter()
        .map(|v| {
            SignedDirectoryVersion::from_parts(v.version, v.signature)
                .map_err(|e| Error::signer("a directory version from the axis", e))
        })
        .collect()
}

impl Client {
    /// One unit of the current directory.
    pub async fn lookup_unit(&self, id: &AgencyId) -> Result<UnitInfo> {
        let request = pb::LookupUnitRequest {
            unit_id: id.to_string(),
        };
        let u = self
            .call(&format!("look up unit {id}"), Retry::Always, |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).lookup_unit(request).await }
            })
            .await?;
        let info = info_of(u)?;
        if &info.unit.id != id {
            return Err(Error::verification(format!(
                "asked for unit {id}, the axis answered with {}",
                info.unit.id
            )));
        }
        Ok(info)
    }

    /// A page of the current directory after the id `after`, only the children of `parent`
    /// when given.
    pub async fn list_units(
        &self,
        after: Option<&str>,
        parent: Option<&AgencyId>,
        page_size: u32,
    ) -> Result<UnitPage> {
        let request = pb::ListUnitsRequest {
            page_size,
            after_unit_id: after.unwrap_or_default().to_owned(),
            parent_id: parent.map(ToString::to_string).unwrap_or_default(),
        };
        let r = self
            .call("list units", Retry::Always, |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).list_units(request).await }
            })
            .await?;
        Ok(UnitPage {
            units: r.units.into_iter().map(info_of).collect::<Result<_>>()?,
            next_after: Some(r.next_after_unit_id).filter(|s| !s.is_empty()),
            version: r.version,
        })
    }

    /// Brings `copy` to the current version and verifies the result offline against the root:
    /// with no copy (or one too far behind), a full snapshot; else only the changes since it.
    /// Returns the new copy; `copy` is left as it was if anything fails to verify.
    pub async fn sync_directory(&self, copy: Option<&VerifiedDirectory>) -> Result<Synced> {
        if let Some(copy) = copy {
            match self.directory_changes(copy).await {
                Ok(synced) => return Ok(synced),
                Err(e) if e.reason() == Some(reasons::DIRECTORY_RESYNC) => {}
                Err(e) => return Err(e),
            }
        }
        self.directory_snapshot().await
    }

    async fn directory_snapshot(&self) -> Result<Synced> {
        let request = pb::GetDirectorySnapshotRequest::default();
        let pages = self
            .pages("directory snapshot", move |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).get_directory_snapshot(request).await }
            })
            .await;
        let mut pages = match pages {
            Err(e) if e.reason() == Some(reasons::DIRECTORY_VERSION_UNKNOWN) => {
                return Ok(Synced {
                    directory: None,
                    snapshot: true,
                    changed: 0,
                });
            }
            r => r?,
        };
        let mut versions = versions_of(&mut pages)?;
        let head = match (versions.pop(), versions.is_empty()) {
            (Some(h), true) => h,
            _ => {
                return Err(Error::verification(
                    "a directory snapshot must carry exactly one signed version",
                ));
            }
        };
        let mut units = Vec::new();
        for u in pages.into_iter().flat_map(|p| p.units) {
            units.push(unit_of(u, units.len())?);
        }
        let units = UnitList::from_sorted(units)
            .map_err(|e| Error::signer("the directory snapshot", axis_evidence::Error::from(e)))?;
        let store = self.trust_store().await?;
        let changed = units.len();
        let directory =
            VerifiedDirectory::from_snapshot(head, units, &store, OffsetDateTime::now_utc())
                .map_err(|e| Error::signer("the directory snapshot", e))?;
        Ok(Synced {
            directory: Some(directory),
            snapshot: true,
            changed,
        })
    }

    async fn directory_changes(&self, copy: &VerifiedDirectory) -> Result<Synced> {
        let request = pb::GetDirectoryChangesRequest {
            since_version: copy.version().number,
        };
        let mut pages = self
            .pages("directory changes", move |ch| {
                let request = request;
                async move { nodes::directory(ch).get_directory_changes(request).await }
            })
            .await?;
        let versions = versions_of(&mut pages)?;
        if versions.is_empty() {
            return Ok(Synced {
                directory: Some(copy.clone()),
                snapshot: false,
                changed: 0,
            });
        }
        let mut changes = Changes::default();
        for p in pages {
            for u in p.units {
                changes.upserts.push(unit_of(u, changes.upserts.len())?);
            }
            for r in p.removals {
                changes
                    .removals
                    .push(AgencyId::parse(&r).map_err(|e| {
                        Error::verification(format!("the axis sent a removal {e}"))
                    })?);
            }
        }
        let store = self.trust_store().await?;
        let changed = changes.len();
        let directory = copy
            .advance(&versions, &changes, &store, OffsetDateTime::now_utc())
            .map_err(|e| Error::signer("the directory changes", e))?;
        Ok(Synced {
            directory: Some(directory),
            snapshot: false,
            changed,
        })
    }

    /// A server stream read to its end (within [`LONG_CALL_FACTOR`] call deadlines, each
    /// message within the idle deadline), with failover; at most [`MAX_DIRECTORY_UNITS`]
    /// units and removals in all.
    async fn pages<F, Fut>(&self, call: &str, mut open: F) -> Result<Vec<pb::DirectoryPage>>
    where
        F: FnMut(tonic::transport::Channel) -> Fut,
        Fut: Future<
            Output = std::result::Result<
                tonic::Response<tonic::Streaming<pb::DirectoryPage>>,
                tonic::Status,
            >,
        >,
    {
        let n = self.nodes();
        let idle: Duration = n.timeouts.stream_idle;
        n.unary(
            call,
            Retry::Always,
            n.timeouts.call * LONG_CALL_FACTOR,
            Attempts::new(n.len()),
            |ch| {
                let started = open(ch);
                async move {
                    let mut stream = started.await?.into_inner();
                    let mut pages = Vec::new();
                    let mut count = 0usize;
                    loop {
                        match tokio::time::timeout(idle, stream.message()).await {
                            Ok(Ok(Some(p))) => {
                                count += p.units.len() + p.removals.len();
                                if count > 2 * MAX_DIRECTORY_UNITS {
                                    return Err(tonic::Status::resource_exhausted(
                                        "the axis sent more units than a directory holds",
                                    ));
                                }
                                pages.push(p);
                            }
                            Ok(Ok(None)) => return Ok(tonic::Response::new(pages)),
                            Ok(Err(s)) => return Err(s),
                            Err(_) => {
                                return Err(tonic::Status::deadline_exceeded(
                                    "the directory stream went silent",
                                ));
                            }
                        }
                    }
                }
            },
        )
        .await
    }

    /// Imports `units` as the next version of the unit directory (operator only): brings
    /// `copy` up to date, signs the version that turns it into `units` with the operator's
    /// key (the `[tls]` identity), and sends the version and the changes. Nothing is sent when
    /// `units` is the directory already. The axis stores all of it or nothing.
    pub async fn import_units(
        &self,
        copy: Option<&VerifiedDirectory>,
        units: &UnitList,
    ) -> Result<Imported> {
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let operator = self.require_operator(&store, now)?;
        let current = self.sync_directory(copy).await?.directory;
        let empty = UnitList::default();
        let changes = current.as_ref().map_or(&empty, |c| c.units()).diff(units);
        if changes.is_empty()
            && let Some(current) = current.clone()
        {
            return Ok(Imported {
                directory: current,
                changes: 0,
            });
        }
        let signed = DirectoryVersion::next(current.as_ref(), units, &changes, now)
            .sign(&operator.signer()?)
            .map_err(|e| Error::building("signing the directory version", e))?;
        let mut messages = vec![pb::ImportUnitsRequest {
            part: Some(pb::import_units_request::Part::Version(
                pb::SignedDirectoryVersion {
                    version: signed.bytes().to_vec(),
                    signature: signed.signature().to_vec(),
                },
            )),
        }];
        let upserts: Vec<pb::DirectoryUnit> = changes.upserts.iter().map(unit_pb).collect();
        let removals: Vec<String> = changes.removals.iter().map(ToString::to_string).collect();
        for chunk in upserts.chunks(IMPORT_PAGE) {
            messages.push(changes_message(chunk.to_vec(), Vec::new()));
        }
        for chunk in removals.chunks(IMPORT_PAGE) {
            messages.push(changes_message(Vec::new(), chunk.to_vec()));
        }
        let n = self.nodes();
        n.unary(
            "import the unit directory",
            Retry::IfNotSent,
            n.timeouts.call * LONG_CALL_FACTOR,
            Attempts::new(n.len()),
            |ch| {
                let stream = tokio_stream::iter(messages.clone());
                async move { nodes::directory(ch).import_units(stream).await }
            },
        )
        .await?;
        let store = self.trust_store().await?;
        let verified = match &current {
            Some(c) => c.advance(std::slice::from_ref(&signed), &changes, &store, now),
            None => {
                VerifiedDirectory::from_empty(std::slice::from_ref(&signed), &changes, &store, now)
            }
        }
        .map_err(|e| Error::building("the imported directory", e))?;
        Ok(Imported {
            directory: verified,
            changes: changes.len(),
        })
    }
}

fn changes_message(
    upserts: Vec<pb::DirectoryUnit>,
    removals: Vec<String>,
) -> pb::ImportUnitsRequest {
    pb::ImportUnitsRequest {
        part: Some(pb::import_units_request::Part::Changes(pb::UnitChanges {
            upserts,
            removals,
        })),
    }
}
