//! The unit directory (QCVN 102:2016 units and their hierarchy) as the axis operator signs it,
//! and how a client or gateway checks its copy offline with the root certificate alone.
//!
//! - A [`Unit`] is a directory entry: its id, official name, parent and QĐ 20/2020 code. Most
//!   of the national directory's units never exchange documents; an agency that does also has
//!   certificates (the `Directory` service's agencies), which verify on their own.
//! - A [`UnitList`] is a whole directory, checked once: ids unique and in order, every parent
//!   present, with the same level-1 code, at most four levels. Its digest is the SHA-256 of its
//!   DER (`SEQUENCE OF Unit` in id order), so one list has one digest.
//! - A [`DirectoryVersion`] says "version `n` of the directory has this digest and this many
//!   units, and follows the version whose digest is `previous`"; the operator signs it (detached
//!   CMS, axis-operator profile). Version 0 is the empty directory and is never signed.
//! - [`VerifiedDirectory`] is a list whose signed version verified: made from a snapshot
//!   ([`VerifiedDirectory::from_snapshot`]) or by applying [`Changes`] under the signed
//!   versions that follow ([`VerifiedDirectory::advance`]): versions contiguous, each linked
//!   to the previous digest, each signature verified, and the resulting list's digest and
//!   count equal to the last signed ones.

use std::cmp::Ordering;
use std::fmt;

use axis_pki::{AgencyId, AgencyIdError, TrustStore};
use axis_signer::cms::der::{self, Reader};
use axis_signer::cms::{self, Format, sha256};
use axis_signer::{FormatError, KeyError, SignatureError, SignatureRole, Signer};
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::is_nfc;

use crate::error::Error;
use crate::limits::{
    MAX_DIRECTORY_UNITS, MAX_DIRECTORY_VERSION_LEN, MAX_UNIT_LEVELS, MAX_UNIT_NAME_CHARS,
};

const VERSION: &str = "directory version";
const SNAPSHOT: &str = "directory snapshot";

/// One entry of the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// QCVN 102:2016 id, e.g. `000.00.01.H53`.
    pub id: AgencyId,
    /// Official name, in NFC, e.g. "Văn phòng Ủy ban nhân dân tỉnh".
    pub name: String,
    /// The unit it belongs to; `None` for a level-1 body (a ministry, a province).
    pub parent: Option<AgencyId>,
    /// Its QĐ 20/2020 electronic id, when it has one.
    pub code_qd20: Option<AgencyId>,
}

/// A unit as it comes from a file or the wire, before it is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawUnit {
    /// The id as written.
    pub id: String,
    /// The name as written (normalised to NFC by [`Unit::parse_lenient`]).
    pub name: String,
    /// The parent id, or empty.
    pub parent: String,
    /// The QĐ 20/2020 code, or empty.
    pub code_qd20: String,
}

/// Which field of a unit is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnitField {
    /// The unit's id.
    Id,
    /// Its name.
    Name,
    /// Its parent's id.
    Parent,
    /// Its QĐ 20/2020 code.
    CodeQd20,
}

impl fmt::Display for UnitField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnitField::Id => "id",
            UnitField::Name => "name",
            UnitField::Parent => "parent",
            UnitField::CodeQd20 => "code_qd20",
        })
    }
}

/// What is wrong with the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitProblem {
    /// Not an id of the form `NNN.NN.NN.LNN`.
    #[error("{0}")]
    NotAnId(AgencyIdError),
    /// The id is listed twice.
    #[error("listed twice")]
    Duplicate,
    /// The name is empty (or only spaces).
    #[error("empty")]
    Empty,
    /// The name is longer than allowed.
    #[error("{chars} characters; at most {max}")]
    TooLong {
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The name holds a control character (a line break, a tab…).
    #[error("holds a control character")]
    ControlCharacter,
    /// The name is not in Unicode NFC (on the wire; files are normalised when read).
    #[error("not in Unicode NFC")]
    NotNfc,
    /// The unit names itself as its parent.
    #[error("a unit cannot be its own parent")]
    OwnParent,
    /// The parent is not in the directory.
    #[error("{0} is not in the directory")]
    UnknownParent(String),
    /// The parent belongs to another level-1 body (the id's last segment differs).
    #[error("{parent} belongs to another level-1 body than {unit}")]
    OtherLevel1 {
        /// The parent's level-1 code.
        parent: String,
        /// The unit's level-1 code.
        unit: String,
    },
    /// More than four levels (or a cycle of parents).
    #[error("more than {max} levels below the level-1 body (or a cycle of parents)")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The id is not after the one before it (lists on the wire are in id order).
    #[error("not after the unit before it (units go in id order)")]
    OutOfOrder,
    /// A change removes a unit the directory does not have.
    #[error("removed, but not in the directory")]
    NotPresent,
    /// A change both updates and removes the unit.
    #[error("both changed and removed")]
    ChangedAndRemoved,
}

/// A unit that failed its checks: where it was, which field, why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unit {position} ({id}): {field}: {problem}")]
pub struct UnitError {
    /// Its position in the input, from 0 (a file reader maps it to a line).
    pub position: usize,
    /// Its id as written (at most 64 characters of it).
    pub id: String,
    /// The field.
    pub field: UnitField,
    /// What is wrong.
    pub problem: UnitProblem,
}

/// What is wrong with a directory, a version of it, or a change set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// One unit failed its checks.
    #[error(transparent)]
    Unit(Box<UnitError>),
    /// More units than a directory may have.
    #[error("{count} units; a directory holds at most {max}")]
    TooManyUnits {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A signed version does not follow the one before it.
    #[error("version {found} does not follow version {expected_after}")]
    NotContiguous {
        /// The version held.
        expected_after: u64,
        /// The version that came next.
        found: u64,
    },
    /// A signed version does not name the digest of the version before it.
    #[error("version {version} does not follow the directory held (its previous digest differs)")]
    PreviousDigestMismatch {
        /// The version.
        version: u64,
    },
    /// The units do not hash to the signed digest, or their count differs from the signed one:
    /// the list or the changes were altered.
    #[error("the units do not match version {version} as signed ({what} differs)")]
    ListMismatch {
        /// The version.
        version: u64,
        /// `digest` or `count`.
        what: &'static str,
    },
    /// Changes came without a signed version to check them against.
    #[error("changes without a signed version")]
    NoVersion,
    /// A version's signing time is not its `issuedAt`.
    #[error("the directory version's signing time differs from its issuedAt")]
    TimeMismatch,
}

impl From<UnitError> for DirectoryError {
    fn from(e: UnitError) -> Self {
        DirectoryError::Unit(Box::new(e))
    }
}

/// Ids strictly ascending; the first out of place is named with its position.
fn check_ascending<'a>(ids: impl Iterator<Item = &'a AgencyId>) -> Result<(), DirectoryError> {
    let mut previous: Option<&AgencyId> = None;
    for (i, id) in ids.enumerate() {
        if previous.is_some_and(|p| p >= id) {
            return Err(unit_error(i, id.as_str(), UnitField::Id, UnitProblem::OutOfOrder).into());
        }
        previous = Some(id);
    }
    Ok(())
}

fn unit_error(position: usize, id: &str, field: UnitField, problem: UnitProblem) -> UnitError {
    UnitError {
        position,
        id: id.chars().take(64).collect(),
        field,
        problem,
    }
}

fn check_name(name: &str) -> Result<(), UnitProblem> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err(UnitProblem::Empty);
    }
    if chars > MAX_UNIT_NAME_CHARS {
        return Err(UnitProblem::TooLong {
            chars,
            max: MAX_UNIT_NAME_CHARS,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(UnitProblem::ControlCharacter);
    }
    if !is_nfc(name) {
        return Err(UnitProblem::NotNfc);
    }
    Ok(())
}

fn optional_id(s: &str) -> Result<Option<AgencyId>, UnitProblem> {
    if s.is_empty() {
        return Ok(None);
    }
    AgencyId::parse(s).map(Some).map_err(UnitProblem::NotAnId)
}

impl Unit {
    /// Checks one unit on its own (the list checks the hierarchy): the id, a name of 1–200
    /// characters in NFC without control characters, a parent other than itself, a QĐ 20
    /// code of the same shape. `position` is where it was, for the error.
    pub fn parse(raw: &RawUnit, position: usize) -> Result<Unit, UnitError> {
        let err = |field, problem| unit_error(position, &raw.id, field, problem);
        let id =
            AgencyId::parse(&raw.id).map_err(|e| err(UnitField::Id, UnitProblem::NotAnId(e)))?;
        check_name(&raw.name).map_err(|p| err(UnitField::Name, p))?;
        let parent = optional_id(&raw.parent).map_err(|p| err(UnitField::Parent, p))?;
        if parent.as_ref() == Some(&id) {
            return Err(err(UnitField::Parent, UnitProblem::OwnParent));
        }
        let code_qd20 = optional_id(&raw.code_qd20).map_err(|p| err(UnitField::CodeQd20, p))?;
        Ok(Unit {
            id,
            name: raw.name.clone(),
            parent,
            code_qd20,
        })
    }

    /// [`Unit::parse`] of what a person wrote: the name trimmed and normalised to NFC first.
    pub fn parse_lenient(raw: &RawUnit, position: usize) -> Result<Unit, UnitError> {
        let mut raw = raw.clone();
        raw.name = raw.name.trim().nfc().collect();
        Unit::parse(&raw, position)
    }

    /// The unit as written on the wire or in a file.
    pub fn to_raw(&self) -> RawUnit {
        RawUnit {
            id: self.id.to_string(),
            name: self.name.clone(),
            parent: self
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            code_qd20: self
                .code_qd20
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        }
    }

    /// `Unit ::= SEQUENCE { id, name, parent, codeQd20 UTF8String }`, absent ones empty.
    fn der(&self) -> Vec<u8> {
        let opt = |v: &Option<AgencyId>| der::utf8(v.as_ref().map_or("", AgencyId::as_str));
        der::seq(&[
            &der::utf8(self.id.as_str()),
            &der::utf8(&self.name),
            &opt(&self.parent),
            &opt(&self.code_qd20),
        ])
    }

    fn decode(r: &mut Reader<'_>, position: usize) -> Result<Unit, Error> {
        let mut u = r.sequence()?;
        let raw = RawUnit {
            id: u.utf8()?.to_owned(),
            name: u.utf8()?.to_owned(),
            parent: u.utf8()?.to_owned(),
            code_qd20: u.utf8()?.to_owned(),
        };
        u.finish()?;
        Ok(Unit::parse(&raw, position).map_err(DirectoryError::from)?)
    }
}

/// A whole directory, checked: at most [`MAX_DIRECTORY_UNITS`] units in id order, ids
/// unique, every parent present with the same level-1 code, at most [`MAX_UNIT_LEVELS`]
/// levels. Only [`UnitList::new`], [`UnitList::from_sorted`] and [`UnitList::apply`] make one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitList {
    units: Vec<Unit>,
}

/// The changes from one list to another: units added or changed (their new value) and units
/// removed, each in id order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Added or changed units.
    pub upserts: Vec<Unit>,
    /// Removed units.
    pub removals: Vec<AgencyId>,
}

impl Changes {
    /// How many units change.
    pub fn len(&self) -> usize {
        self.upserts.len() + self.removals.len()
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UnitList {
    /// Checks `units` given in any order (a file): each has its position for the error. The
    /// first duplicate is reported at its second position.
    pub fn new(units: Vec<(usize, Unit)>) -> Result<UnitList, DirectoryError> {
        check_count(units.len())?;
        let mut units = units;
        units.sort_by(|a, b| a.1.id.cmp(&b.1.id).then(a.0.cmp(&b.0)));
        for w in units.windows(2) {
            if w[0].1.id == w[1].1.id {
                return Err(unit_error(
                    w[1].0,
                    w[1].1.id.as_str(),
                    UnitField::Id,
                    UnitProblem::Duplicate,
                )
                .into());
            }
        }
        let (positions, units): (Vec<usize>, Vec<Unit>) = units.into_iter().unzip();
        let list = UnitList { units };
        list.check_hierarchy(|i| positions[i])?;
        Ok(list)
    }

    /// Checks `units` that must already be in strictly ascending id order (the wire, a file
    /// Axis wrote).
    pub fn from_sorted(units: Vec<Unit>) -> Result<UnitList, DirectoryError> {
        check_count(units.len())?;
        check_ascending(units.iter().map(|u| &u.id))?;
        let list = UnitList { units };
        list.check_hierarchy(|i| i)?;
        Ok(list)
    }

    fn check_hierarchy(&self, position: impl Fn(usize) -> usize) -> Result<(), DirectoryError> {
        for (i, u) in self.units.iter().enumerate() {
            let err = |field, problem| unit_error(position(i), u.id.as_str(), field, problem);
            let Some(parent) = &u.parent else { continue };
            let Some(p) = self.get(parent) else {
                return Err(err(
                    UnitField::Parent,
                    UnitProblem::UnknownParent(parent.to_string()),
                )
                .into());
            };
            if p.id.level1_code() != u.id.level1_code() {
                return Err(err(
                    UnitField::Parent,
                    UnitProblem::OtherLevel1 {
                        parent: p.id.level1_code().to_owned(),
                        unit: u.id.level1_code().to_owned(),
                    },
                )
                .into());
            }
            if self.level_of(u).is_none() {
                return Err(err(
                    UnitField::Parent,
                    UnitProblem::TooDeep {
                        max: MAX_UNIT_LEVELS,
                    },
                )
                .into());
            }
        }
        Ok(())
    }

    /// The unit's level (1 for a unit without parent), `None` past [`MAX_UNIT_LEVELS`] or if a
    /// parent is missing.
    fn level_of(&self, unit: &Unit) -> Option<usize> {
        let mut level = 1;
        let mut at = unit;
        while let Some(parent) = &at.parent {
            level += 1;
            if level > MAX_UNIT_LEVELS {
                return None;
            }
            at = self.get(parent)?;
        }
        Some(level)
    }

    /// The units, in id order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// How many units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether the directory is empty.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// One unit by id (binary search).
    pub fn get(&self, id: &AgencyId) -> Option<&Unit> {
        self.units
            .binary_search_by(|u| u.id.cmp(id))
            .ok()
            .map(|i| &self.units[i])
    }

    /// A unit's level: 1 for a level-1 body, 2 for its units, and so on.
    pub fn level(&self, id: &AgencyId) -> Option<usize> {
        self.level_of(self.get(id)?)
    }

    /// The DER `DirectoryList ::= SEQUENCE OF Unit`, in id order.
    pub fn der(&self) -> Vec<u8> {
        let parts: Vec<Vec<u8>> = self.units.iter().map(Unit::der).collect();
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        der::seq(&refs)
    }

    /// SHA-256 of [`UnitList::der`]: what a signed version names.
    pub fn digest(&self) -> [u8; 32] {
        sha256(&self.der())
    }

    /// What changes from `self` to `new`.
    pub fn diff(&self, new: &UnitList) -> Changes {
        let mut changes = Changes::default();
        let (mut a, mut b) = (self.units.iter().peekable(), new.units.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => return changes,
                (Some(x), None) => {
                    changes.removals.push(x.id.clone());
                    a.next();
                }
                (None, Some(y)) => {
                    changes.upserts.push((*y).clone());
                    b.next();
                }
                (Some(x), Some(y)) => match x.id.cmp(&y.id) {
                    Ordering::Less => {
                        changes.removals.push(x.id.clone());
                        a.next();
                    }
                    Ordering::Greater => {
                        changes.upserts.push((*y).clone());
                        b.next();
                    }
                    Ordering::Equal => {
                        if x != y {
                            changes.upserts.push((*y).clone());
                        }
                        a.next();
                        b.next();
                    }
                },
            }
        }
    }

    /// The list with `changes` applied, checked again as a whole (removing a parent that keeps
    /// children is refused). A removal of an absent unit, or of one also changed, is refused.
    pub fn apply(&self, changes: &Changes) -> Result<UnitList, DirectoryError> {
        let mut upserts = changes.upserts.iter().enumerate().peekable();
        let mut removals = changes.removals.iter().enumerate().peekable();
        check_ascending(changes.upserts.iter().map(|u| &u.id))?;
        check_ascending(changes.removals.iter())?;
        let mut out = Vec::with_capacity(self.units.len() + changes.upserts.len());
        let mut current = self.units.iter().peekable();
        loop {
            // The smallest id among the three heads.
            let next = [
                current.peek().map(|u| &u.id),
                upserts.peek().map(|(_, u)| &u.id),
                removals.peek().map(|(_, id)| *id),
            ]
            .into_iter()
            .flatten()
            .min()
            .cloned();
            let Some(id) = next else { break };
            let have = current.next_if(|u| u.id == id);
            let up = upserts.next_if(|(_, u)| u.id == id);
            let rm = removals.next_if(|(_, r)| **r == id);
            match (have, up, rm) {
                (_, Some((i, _)), Some(_)) => {
                    return Err(unit_error(
                        i,
                        id.as_str(),
                        UnitField::Id,
                        UnitProblem::ChangedAndRemoved,
                    )
                    .into());
                }
                (None, None, Some((i, _))) => {
                    return Err(
                        unit_error(i, id.as_str(), UnitField::Id, UnitProblem::NotPresent).into(),
                    );
                }
                (Some(_), None, Some(_)) => {}
                (_, Some((_, u)), None) => out.push(u.clone()),
                (Some(u), None, None) => out.push(u.clone()),
                (None, None, None) => break,
            }
        }
        check_count(out.len())?;
        let list = UnitList { units: out };
        list.check_hierarchy(|i| i)?;
        Ok(list)
    }

    fn decode(r: &mut Reader<'_>) -> Result<UnitList, Error> {
        let mut seq = r.sequence()?;
        let mut units = Vec::new();
        while !seq.is_empty() {
            if units.len() >= MAX_DIRECTORY_UNITS {
                return Err(DirectoryError::TooManyUnits {
                    count: units.len() + 1,
                    max: MAX_DIRECTORY_UNITS,
                }
                .into());
            }
            units.push(Unit::decode(&mut seq, units.len())?);
        }
        Ok(UnitList::from_sorted(units)?)
    }
}

fn check_count(count: usize) -> Result<(), DirectoryError> {
    if count > MAX_DIRECTORY_UNITS {
        return Err(DirectoryError::TooManyUnits {
            count,
            max: MAX_DIRECTORY_UNITS,
        });
    }
    Ok(())
}

/// Version `number` of the directory, as the operator signs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectoryVersion {
    /// The version: 1 for the first import, then one more per change set.
    pub number: u64,
    /// The digest of the version before (for version 1, of the empty list).
    pub previous: [u8; 32],
    /// How many units this version holds.
    pub units: u64,
    /// The digest of this version's list ([`UnitList::digest`]).
    pub digest: [u8; 32],
    /// How many units were added, changed or removed since the version before.
    pub changes: u64,
    /// When the operator signed it (whole seconds; the CMS signing time).
    pub issued_at: OffsetDateTime,
}

impl DirectoryVersion {
    /// The version that follows `current` (`None`: the empty version 0) with `new` as its
    /// list, `changes` units changed, issued at `at`.
    pub fn next(
        current: Option<&VerifiedDirectory>,
        new: &UnitList,
        changes: &Changes,
        at: OffsetDateTime,
    ) -> DirectoryVersion {
        let (number, previous) = match current {
            Some(c) => (c.version().number, c.version().digest),
            None => (0, UnitList::default().digest()),
        };
        DirectoryVersion {
            number: number + 1,
            previous,
            units: new.len() as u64,
            digest: new.digest(),
            changes: changes.len() as u64,
            issued_at: at,
        }
    }

    fn encode(&self) -> Result<Vec<u8>, Error> {
        Ok(der::seq(&[
            &der::oid(Format::DirectoryVersion.oid()),
            &der::uint(1),
            &der::uint(self.number),
            &der::octets(&self.previous),
            &der::uint(self.units),
            &der::octets(&self.digest),
            &der::uint(self.changes),
            &der::generalized_time(self.issued_at)?,
        ]))
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_DIRECTORY_VERSION_LEN {
            return Err(FormatError::TooLarge {
                what: VERSION,
                len: bytes.len() as u64,
                max: MAX_DIRECTORY_VERSION_LEN as u64,
            }
            .into());
        }
        let mut r = Format::DirectoryVersion.open(bytes, VERSION)?;
        let v = DirectoryVersion {
            number: r.u64()?,
            previous: r.octets()?,
            units: r.u64()?,
            digest: r.octets()?,
            changes: r.u64()?,
            issued_at: r.time()?,
        };
        r.finish()?;
        Ok(v)
    }

    /// Signs the version with the axis operator's key; the CMS signing time is `issued_at`
    /// (cut to whole seconds).
    pub fn sign(&self, operator: &Signer<'_>) -> Result<SignedDirectoryVersion, Error> {
        let role = SignatureRole::Directory;
        if operator.certificate().profile() != role.profile() {
            return Err(KeyError::WrongCertificateProfile {
                expected: role.profile(),
                found: operator.certificate().profile(),
            }
            .into());
        }
        let mut v = *self;
        v.issued_at = v
            .issued_at
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .map_err(|_| FormatError::TimeOutOfRange)?;
        let bytes = v.encode()?;
        let signature = cms::sign(&bytes, operator, v.issued_at)?;
        Ok(SignedDirectoryVersion {
            version: v,
            bytes,
            signature,
        })
    }
}

/// A directory version with its exact bytes and the operator's signature (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedDirectoryVersion {
    version: DirectoryVersion,
    bytes: Vec<u8>,
    signature: Vec<u8>,
}

impl SignedDirectoryVersion {
    /// From its DER bytes and detached CMS signature as received; the bytes are parsed, the
    /// signature is not checked yet.
    pub fn from_parts(bytes: Vec<u8>, signature: Vec<u8>) -> Result<Self, Error> {
        Ok(SignedDirectoryVersion {
            version: DirectoryVersion::decode(&bytes)?,
            bytes,
            signature,
        })
    }

    /// What it says.
    pub fn version(&self) -> &DirectoryVersion {
        &self.version
    }

    /// Its exact DER bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The operator's detached CMS signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// 1. The CMS signature verifies over the exact bytes, by a certificate of the
    ///    axis-operator profile chaining to `store`, unrevoked at `at` (a forged or altered
    ///    version, or one signed by an agency or by the axis itself).
    /// 2. Its signing time is its `issuedAt` (one time, not two that could disagree).
    pub fn verify(&self, store: &TrustStore, at: OffsetDateTime) -> Result<(), Error> {
        if self.signature.is_empty() {
            return Err(SignatureError::SealSignatureMissing.into());
        }
        let v = cms::verify(
            &self.signature,
            &self.bytes,
            SignatureRole::Directory,
            store,
            at,
        )?;
        if v.signing_time() != self.version.issued_at {
            return Err(DirectoryError::TimeMismatch.into());
        }
        Ok(())
    }

    /// Checks that `self` (verified) comes right after a directory at version `number` with
    /// digest `digest`.
    fn check_follows(&self, number: u64, digest: &[u8; 32]) -> Result<(), DirectoryError> {
        if self.version.number != number + 1 {
            return Err(DirectoryError::NotContiguous {
                expected_after: number,
                found: self.version.number,
            });
        }
        if &self.version.previous != digest {
            return Err(DirectoryError::PreviousDigestMismatch {
                version: self.version.number,
            });
        }
        Ok(())
    }

    /// Whether `list` is what this version signs (digest and count).
    fn check_list(&self, list: &UnitList) -> Result<(), DirectoryError> {
        let version = self.version.number;
        if self.version.units != list.len() as u64 {
            return Err(DirectoryError::ListMismatch {
                version,
                what: "count",
            });
        }
        if self.version.digest != list.digest() {
            return Err(DirectoryError::ListMismatch {
                version,
                what: "digest",
            });
        }
        Ok(())
    }
}

/// A directory whose signed version verified against the root: only
/// [`VerifiedDirectory::from_snapshot`], [`VerifiedDirectory::advance`],
/// [`VerifiedDirectory::from_der`] and [`check_import`] make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedDirectory {
    head: SignedDirectoryVersion,
    units: UnitList,
}

impl VerifiedDirectory {
    /// A full snapshot: the version's signature verifies at `at`, and `units` hash to its
    /// digest with its count.
    pub fn from_snapshot(
        head: SignedDirectoryVersion,
        units: UnitList,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedDirectory, Error> {
        head.verify(store, at)?;
        head.check_list(&units)?;
        Ok(VerifiedDirectory { head, units })
    }

    /// The directory after `versions` (each the next after the one before, starting right
    /// after `self`, each linked to the digest before it and verified at `at`) and `changes`
    /// (the net change from `self` to the last version): the result's digest and count must
    /// be the last version's. Nothing is changed unless all of it checks.
    pub fn advance(
        &self,
        versions: &[SignedDirectoryVersion],
        changes: &Changes,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedDirectory, Error> {
        advance_from(
            self.head.version.number,
            self.head.version.digest,
            &self.units,
            versions,
            changes,
            store,
            at,
        )
    }

    /// [`VerifiedDirectory::advance`] from the empty version 0 (a first sync by changes).
    pub fn from_empty(
        versions: &[SignedDirectoryVersion],
        changes: &Changes,
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedDirectory, Error> {
        let empty = UnitList::default();
        advance_from(0, empty.digest(), &empty, versions, changes, store, at)
    }

    /// The signed version this copy is at.
    pub fn version(&self) -> &DirectoryVersion {
        &self.head.version
    }

    /// The signed version with its bytes and signature.
    pub fn signed_version(&self) -> &SignedDirectoryVersion {
        &self.head
    }

    /// The units.
    pub fn units(&self) -> &UnitList {
        &self.units
    }

    /// The copy as one DER file, `DirectorySnapshot`: the signed version and the list.
    pub fn to_der(&self) -> Vec<u8> {
        der::seq(&[
            &der::oid(Format::DirectorySnapshot.oid()),
            &der::uint(1),
            &der::octets(&self.head.bytes),
            &der::octets(&self.head.signature),
            &self.units.der(),
        ])
    }

    /// Reads a copy written by [`VerifiedDirectory::to_der`] and verifies it again at `at`.
    pub fn from_der(
        bytes: &[u8],
        store: &TrustStore,
        at: OffsetDateTime,
    ) -> Result<VerifiedDirectory, Error> {
        let mut r = Format::DirectorySnapshot.open(bytes, SNAPSHOT)?;
        let head = SignedDirectoryVersion::from_parts(
            r.octet_string()?.to_vec(),
            r.octet_string()?.to_vec(),
        )?;
        let units = UnitList::decode(&mut r)?;
        r.finish()?;
        VerifiedDirectory::from_snapshot(head, units, store, at)
    }
}

fn advance_from(
    mut number: u64,
    mut digest: [u8; 32],
    units: &UnitList,
    versions: &[SignedDirectoryVersion],
    changes: &Changes,
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<VerifiedDirectory, Error> {
    let last = versions.last().ok_or(DirectoryError::NoVersion)?;
    for v in versions {
        v.check_follows(number, &digest)?;
        v.verify(store, at)?;
        number = v.version.number;
        digest = v.version.digest;
    }
    let units = units.apply(changes)?;
    last.check_list(&units)?;
    Ok(VerifiedDirectory {
        head: last.clone(),
        units,
    })
}

/// What the axis checks before it stores an import: `next` verifies at `at` (the operator's
/// signature), follows version `number` whose list is `current` (the axis's own copy, not
/// verified again: it may have been signed under an operator certificate since expired), and
/// `current` with `changes` applied is exactly what `next` signs.
pub fn check_import(
    number: u64,
    current: &UnitList,
    next: &SignedDirectoryVersion,
    changes: &Changes,
    store: &TrustStore,
    at: OffsetDateTime,
) -> Result<VerifiedDirectory, Error> {
    advance_from(
        number,
        current.digest(),
        current,
        std::slice::from_ref(next),
        changes,
        store,
        at,
    )
}
