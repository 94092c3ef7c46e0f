//! The unit directory as a client checks it offline: a list with each malformed unit refused
//! with its own field and problem, a version signed by the operator, a snapshot and changes
//! verified against the root, and every altered snapshot, change or version refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_evidence::Error;
use axis_evidence::*;
use axis_pki::AgencyId;
use axis_signer::cms;
use axis_testkit::directory::{generate, operator, renamed, unit_list};
use axis_testkit::*;
use time::OffsetDateTime;
use time::macros::datetime;

/// Units in the test directory.
const UNITS: usize = 2000;

/// When the operator signs.
const SIGNED_AT: OffsetDateTime = datetime!(2026-01-03 9:00 UTC);

fn checked(raw: &[RawUnit]) -> Result<UnitList, DirectoryError> {
    let mut units = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        units.push((i, Unit::parse_lenient(r, i)?));
    }
    UnitList::new(units)
}

fn sign(current: Option<&VerifiedDirectory>, new: &UnitList) -> SignedDirectoryVersion {
    let changes = match current {
        Some(c) => c.units().diff(new),
        None => UnitList::default().diff(new),
    };
    DirectoryVersion::next(current, new, &changes, SIGNED_AT)
        .sign(&operator().signer())
        .unwrap()
}

fn first() -> (Vec<RawUnit>, VerifiedDirectory) {
    // The 30 ministries (750 units), then a province down to its schools.
    let raw = generate(UNITS);
    let units = unit_list(&raw);
    let head = sign(None, &units);
    let v = VerifiedDirectory::from_snapshot(head, units, &fixture().store, NOW).unwrap();
    (raw, v)
}

fn raw(id: &str, name: &str, parent: &str) -> RawUnit {
    RawUnit {
        id: id.into(),
        name: name.into(),
        parent: parent.into(),
        code_qd20: String::new(),
    }
}

#[track_caller]
fn refused(units: &[RawUnit], position: usize, field: UnitField, problem: UnitProblem) {
    match checked(units) {
        Err(DirectoryError::Unit(e)) => {
            assert_eq!(
                (e.position, e.field, &e.problem),
                (position, field, &problem),
                "{e}"
            )
        }
        other => panic!("expected unit {position} {field} {problem:?}, got {other:?}"),
    }
}

#[test]
fn each_malformed_unit_is_refused_with_its_field_and_problem() {
    let top = raw("000.00.00.H53", "Ủy ban nhân dân tỉnh Tây Ninh", "");
    let ok = |id: &str, parent: &str| raw(id, "Sở Tư pháp", parent);
    let base = vec![top.clone(), ok("000.00.01.H53", "000.00.00.H53")];
    assert_eq!(checked(&base).unwrap().len(), 2);

    let with = |u: RawUnit| {
        let mut v = base.clone();
        v.push(u);
        v
    };
    refused(
        &with(ok("000.00.1.H53", "")),
        2,
        UnitField::Id,
        UnitProblem::NotAnId(AgencyId::parse("000.00.1.H53").unwrap_err()),
    );
    refused(
        &with(raw("000.00.02.H53", "  ", "")),
        2,
        UnitField::Name,
        UnitProblem::Empty,
    );
    refused(
        &with(raw("000.00.02.H53", &"x".repeat(201), "")),
        2,
        UnitField::Name,
        UnitProblem::TooLong {
            chars: 201,
            max: 200,
        },
    );
    refused(
        &with(raw("000.00.02.H53", "Sở\tY tế", "")),
        2,
        UnitField::Name,
        UnitProblem::ControlCharacter,
    );
    refused(
        &with(ok("000.00.02.H53", "000.00.02.H53")),
        2,
        UnitField::Parent,
        UnitProblem::OwnParent,
    );
    refused(
        &with(ok("000.00.02.H53", "000.00.09.H53")),
        2,
        UnitField::Parent,
        UnitProblem::UnknownParent("000.00.09.H53".into()),
    );
    refused(
        &with(ok("000.00.02.H53", "00.00.00.H53")),
        2,
        UnitField::Parent,
        UnitProblem::NotAnId(AgencyId::parse("00.00.00.H53").unwrap_err()),
    );
    let mut other_body = with(raw("000.00.00.G22", "Văn phòng Chính phủ", ""));
    other_body.push(ok("000.00.03.H53", "000.00.00.G22"));
    refused(
        &other_body,
        3,
        UnitField::Parent,
        UnitProblem::OtherLevel1 {
            parent: "G22".into(),
            unit: "H53".into(),
        },
    );
    refused(
        &with(ok("000.00.01.H53", "")),
        2,
        UnitField::Id,
        UnitProblem::Duplicate,
    );
    let mut code = ok("000.00.02.H53", "");
    code.code_qd20 = "H53".into();
    refused(
        &with(code),
        2,
        UnitField::CodeQd20,
        UnitProblem::NotAnId(AgencyId::parse("H53").unwrap_err()),
    );
    // Five levels: 1 → 2 → 3 → 4 → 5.
    let mut deep = base.clone();
    deep.push(ok("000.01.01.H53", "000.00.01.H53"));
    deep.push(ok("001.01.01.H53", "000.01.01.H53"));
    deep.push(ok("002.01.01.H53", "001.01.01.H53"));
    refused(&deep, 4, UnitField::Parent, UnitProblem::TooDeep { max: 4 });
    deep.pop();
    assert_eq!(
        checked(&deep)
            .unwrap()
            .level(&AgencyId::parse("001.01.01.H53").unwrap()),
        Some(4)
    );

    // On the wire, names must already be NFC and units in order.
    let decomposed = RawUnit {
        name: "Y te\u{301}".into(),
        ..ok("000.00.02.H53", "")
    };
    assert_eq!(
        Unit::parse(&decomposed, 0).unwrap_err().problem,
        UnitProblem::NotNfc
    );
    assert_eq!(
        Unit::parse_lenient(&decomposed, 0).unwrap().name,
        "Y t\u{e9}"
    );
    let a = Unit::parse(&top, 0).unwrap();
    let b = Unit::parse(&ok("000.00.01.H53", "000.00.00.H53"), 1).unwrap();
    assert!(UnitList::from_sorted(vec![a.clone(), b.clone()]).is_ok());
    match UnitList::from_sorted(vec![b, a]) {
        Err(DirectoryError::Unit(e)) => assert_eq!(e.problem, UnitProblem::OutOfOrder),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_snapshot_verifies_and_reads_back_from_its_file() {
    let (_, v) = first();
    assert_eq!(v.version().number, 1);
    assert_eq!(v.version().units, UNITS as u64);
    assert_eq!(v.version().changes, UNITS as u64);
    let der = v.to_der();
    let back = VerifiedDirectory::from_der(&der, &fixture().store, NOW).unwrap();
    assert_eq!(back, v);
    // The file is the signed version and the list, nothing else.
    let mut longer = der.clone();
    longer.push(0);
    assert!(VerifiedDirectory::from_der(&longer, &fixture().store, NOW).is_err());
}

#[test]
fn changes_advance_a_copy_and_altered_changes_or_versions_are_refused() {
    let (raw, v1) = first();
    let store = &fixture().store;
    // Version 2: every 50th unit renamed, one leaf removed, one added.
    let mut next = renamed(&raw, 50, "(mới)");
    let leaf = next.iter().position(|u| u.id.starts_with("001.")).unwrap();
    let removed = next.remove(leaf);
    let renamed_count = (0..UNITS).filter(|i| i % 50 == 0 && *i != leaf).count();
    next.push(RawUnit {
        id: "009.13.21.H01".into(),
        name: "Trường Trung học phổ thông".into(),
        parent: "000.13.21.H01".into(),
        code_qd20: String::new(),
    });
    let units = unit_list(&next);
    let changes = v1.units().diff(&units);
    assert_eq!(
        changes.removals,
        vec![AgencyId::parse(&removed.id).unwrap()]
    );
    assert_eq!(changes.upserts.len(), renamed_count + 1);
    let head2 = sign(Some(&v1), &units);
    let v2 = v1
        .advance(std::slice::from_ref(&head2), &changes, store, NOW)
        .unwrap();
    assert_eq!(v2.units(), &units);
    assert_eq!(v2.version().number, 2);

    // Version 3 on top, then both at once from version 1: contiguous versions chain.
    let fewer = unit_list(&next[..next.len() - 1]);
    let head3 = sign(Some(&v2), &fewer);
    let both = v1.units().diff(&fewer);
    let v3 = v1
        .advance(&[head2.clone(), head3.clone()], &both, store, NOW)
        .unwrap();
    assert_eq!(v3.units(), &fewer);

    // A gap, a version out of order, a version from another history.
    let err = |r: Result<VerifiedDirectory, Error>| format!("{:?}", r.unwrap_err());
    assert!(
        err(v1.advance(std::slice::from_ref(&head3), &both, store, NOW)).contains("NotContiguous")
    );
    assert!(
        err(v1.advance(&[head3.clone(), head2.clone()], &both, store, NOW))
            .contains("NotContiguous")
    );
    let other = sign(None, &unit_list(&raw[..10]));
    let forked = DirectoryVersion {
        previous: [9; 32],
        ..*other.version()
    };
    let forked = forked.sign(&operator().signer()).unwrap();
    let two = DirectoryVersion {
        number: 2,
        ..*forked.version()
    }
    .sign(&operator().signer())
    .unwrap();
    assert!(err(v1.advance(&[two], &changes, store, NOW)).contains("PreviousDigestMismatch"));

    // An altered change: a renamed unit's new name changed again on the way.
    let mut altered = changes.clone();
    altered.upserts[0].name.push('!');
    assert!(
        err(v1.advance(std::slice::from_ref(&head2), &altered, store, NOW))
            .contains("ListMismatch")
    );
    // A dropped change.
    let mut dropped = changes.clone();
    dropped.upserts.pop();
    assert!(
        err(v1.advance(std::slice::from_ref(&head2), &dropped, store, NOW))
            .contains("ListMismatch")
    );
    // A removal of a unit the copy does not have.
    let mut phantom = changes.clone();
    phantom
        .removals
        .push(AgencyId::parse("999.99.99.Z99").unwrap());
    assert!(
        err(v1.advance(std::slice::from_ref(&head2), &phantom, store, NOW)).contains("NotPresent")
    );
    // No version at all.
    assert!(err(v1.advance(&[], &changes, store, NOW)).contains("NoVersion"));
}

#[test]
fn a_tampered_snapshot_or_version_is_refused_offline() {
    let (raw, v) = first();
    let store = &fixture().store;
    let head = v.signed_version().clone();

    // The list altered: a name changed, a unit dropped.
    let mut renamed_one = raw.clone();
    renamed_one[7].name = "Sở Tài chính giả".into();
    let r = VerifiedDirectory::from_snapshot(head.clone(), unit_list(&renamed_one), store, NOW);
    assert!(format!("{:?}", r.unwrap_err()).contains("what: \"digest\""));
    let r =
        VerifiedDirectory::from_snapshot(head.clone(), unit_list(&raw[..UNITS - 1]), store, NOW);
    assert!(format!("{:?}", r.unwrap_err()).contains("what: \"count\""));

    // The version altered after signing: one byte of its digest.
    let mut bytes = head.bytes().to_vec();
    let at = bytes.len() - 30;
    bytes[at] ^= 1;
    let altered = SignedDirectoryVersion::from_parts(bytes, head.signature().to_vec()).unwrap();
    let r = VerifiedDirectory::from_snapshot(altered, v.units().clone(), store, NOW);
    assert!(format!("{:?}", r.unwrap_err()).contains("ContentDigestMismatch"));

    // In the file: one byte of a unit's name.
    let mut der = v.to_der();
    let pos = der.windows(4).position(|w| w == "Ủy".as_bytes()).unwrap();
    der[pos + 3] = b'X';
    assert!(VerifiedDirectory::from_der(&der, store, NOW).is_err());

    // Without a signature, or signed by an agency seal instead of the operator.
    let unsigned = SignedDirectoryVersion::from_parts(head.bytes().to_vec(), Vec::new()).unwrap();
    assert!(VerifiedDirectory::from_snapshot(unsigned, v.units().clone(), store, NOW).is_err());
    let by_seal = cms::sign(head.bytes(), &fixture().a.seal_signer(), SIGNED_AT).unwrap();
    let by_seal = SignedDirectoryVersion::from_parts(head.bytes().to_vec(), by_seal).unwrap();
    let e = VerifiedDirectory::from_snapshot(by_seal, v.units().clone(), store, NOW).unwrap_err();
    assert!(format!("{e:?}").contains("Directory"), "{e:?}");
    // The seal cannot sign a version through the directory's own call either.
    let seal = fixture().a.seal_signer();
    assert!(
        DirectoryVersion::next(None, v.units(), &Changes::default(), SIGNED_AT)
            .sign(&seal)
            .is_err()
    );
}

#[test]
fn removing_a_parent_that_keeps_children_is_refused() {
    let (_, v) = first();
    let parent = AgencyId::parse("000.00.01.G01").unwrap();
    let changes = Changes {
        upserts: vec![],
        removals: vec![parent],
    };
    match v.units().apply(&changes) {
        Err(DirectoryError::Unit(e)) => {
            assert_eq!(e.field, UnitField::Parent);
            assert_eq!(
                e.problem,
                UnitProblem::UnknownParent("000.00.01.G01".into())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_national_directory_fits_the_budgets() {
    let raw = generate(axis_testkit::directory::NATIONAL_UNITS);
    let units = unit_list(&raw);
    assert_eq!(units.len(), 111_339);
    let der = units.der();
    assert!(der.len() < 16 * 1024 * 1024, "{}", der.len());
}
