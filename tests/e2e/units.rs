//! The unit directory end to end (issue #14): the operator imports a generated file in one
//! call, an agency syncs a verified copy (a snapshot, then only the changes), looks units up and
//! lists them; a re-import of the same file changes nothing; every refused import stores
//! nothing, each with its own reason.

use std::sync::Arc;

use axis_client::evidence::{
    Changes, DirectoryVersion, SignedDirectoryVersion, Unit, UnitList, VerifiedDirectory,
};
use axis_client::{Client, ClientConfig};
use axis_pki::{AgencyId, Profile};
use axis_proto::v1 as pb;
use axis_testkit::directory::{generate, renamed, unit_list};
use axis_tests::{TestAxis, TestPki, reason};
use time::OffsetDateTime;

pub(crate) async fn operator(axis: &TestAxis) -> Client {
    let pki = &axis.pki;
    let config = ClientConfig::new(
        axis.endpoint(),
        "localhost",
        pki.pki.root.clone(),
        axis_tests::sdk_credential(&pki.operator, pki),
    );
    Client::connect(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_imports_and_an_agency_syncs_a_verified_copy_then_only_the_changes() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let op = operator(&axis).await;
    let agency = crate::sdk::client(&axis, &pki.agencies[0]).await;

    // Nothing imported yet: an empty answer, not an error.
    let none = agency.sync_directory(None).await.unwrap();
    assert!(none.directory.is_none());

    let raw = generate(1500);
    let v1 = op.import_units(None, &unit_list(&raw)).await.unwrap();
    assert_eq!((v1.directory.version().number, v1.changes), (1, 1500));

    let synced = agency.sync_directory(None).await.unwrap();
    let copy = synced.directory.unwrap();
    assert!(synced.snapshot);
    assert_eq!(copy.version().number, 1);
    assert_eq!(copy.units(), &unit_list(&raw));

    // Lookup and paged listing of the current directory.
    let id = AgencyId::parse(&raw[1].id).unwrap();
    let u = agency.lookup_unit(&id).await.unwrap();
    assert_eq!((u.unit.name.as_str(), u.level), (raw[1].name.as_str(), 2));
    let missing = agency
        .lookup_unit(&AgencyId::parse("999.99.99.Z99").unwrap())
        .await
        .unwrap_err();
    assert_eq!(missing.reason(), Some("UNIT_NOT_FOUND"));
    let top = AgencyId::parse(&raw[0].id).unwrap();
    let children = agency.list_units(None, Some(&top), 3).await.unwrap();
    assert_eq!(children.units.len(), 3);
    assert!(
        children
            .units
            .iter()
            .all(|c| c.unit.parent.as_ref() == Some(&top))
    );
    let rest = agency
        .list_units(children.next_after.as_deref(), Some(&top), 1000)
        .await
        .unwrap();
    let direct = raw.iter().filter(|r| r.parent == raw[0].id).count();
    assert_eq!(3 + rest.units.len(), direct);
    assert_eq!(rest.version, 1);

    // The same file again: nothing sent, still version 1.
    let again = op
        .import_units(Some(&v1.directory), &unit_list(&raw))
        .await
        .unwrap();
    assert_eq!((again.directory.version().number, again.changes), (1, 0));

    // A changed file: 15 renamed, one leaf removed.
    let mut next = renamed(&raw, 100, "(đổi tên)");
    let leaf = next
        .iter()
        .rposition(|u| u.id.starts_with("003."))
        .unwrap_or(next.len() - 1);
    next.remove(leaf);
    let v2 = op
        .import_units(Some(&again.directory), &unit_list(&next))
        .await
        .unwrap();
    assert_eq!((v2.directory.version().number, v2.changes), (2, 16));

    let synced = agency.sync_directory(Some(&copy)).await.unwrap();
    assert!(!synced.snapshot);
    assert_eq!(synced.changed, 16);
    let copy2 = synced.directory.unwrap();
    assert_eq!(copy2.units(), &unit_list(&next));
    // Up to date: no change, no snapshot.
    let same = agency.sync_directory(Some(&copy2)).await.unwrap();
    assert_eq!((same.snapshot, same.changed), (false, 0));
    // A fresh client gets version 2 as a snapshot, equal to the incremental copy.
    let fresh = agency
        .sync_directory(None)
        .await
        .unwrap()
        .directory
        .unwrap();
    assert_eq!(fresh, copy2);
    // The renamed unit reads back renamed.
    let renamed_one = agency
        .lookup_unit(&AgencyId::parse(&raw[0].id).unwrap())
        .await
        .unwrap();
    assert!(renamed_one.unit.name.ends_with("(đổi tên)"));

    axis.stop().await;
}

fn signed(
    pki: &TestPki,
    current: Option<&VerifiedDirectory>,
    units: &UnitList,
) -> (SignedDirectoryVersion, Changes) {
    let changes = current
        .map_or(UnitList::default(), |c| c.units().clone())
        .diff(units);
    let cert = pki.verified(&pki.operator.cert, Profile::AxisOperator);
    let signer = axis_signer::Signer::new(&pki.operator.key, &cert).unwrap();
    let v = DirectoryVersion::next(current, units, &changes, OffsetDateTime::now_utc())
        .sign(&signer)
        .unwrap();
    (v, changes)
}

fn stream(v: &SignedDirectoryVersion, changes: &Changes) -> Vec<pb::ImportUnitsRequest> {
    use pb::import_units_request::Part;
    let unit = |u: &Unit| {
        let r = u.to_raw();
        pb::DirectoryUnit {
            unit_id: r.id,
            name: r.name,
            parent_id: r.parent,
            code_qd20: r.code_qd20,
            level: 0,
        }
    };
    vec![
        pb::ImportUnitsRequest {
            part: Some(Part::Version(pb::SignedDirectoryVersion {
                version: v.bytes().to_vec(),
                signature: v.signature().to_vec(),
            })),
        },
        pb::ImportUnitsRequest {
            part: Some(Part::Changes(pb::UnitChanges {
                upserts: changes.upserts.iter().map(unit).collect(),
                removals: changes.removals.iter().map(ToString::to_string).collect(),
            })),
        },
    ]
}

async fn refused(
    od: &mut pb::directory_client::DirectoryClient<tonic::transport::Channel>,
    msgs: Vec<pb::ImportUnitsRequest>,
) -> String {
    reason(&od.import_units(tokio_stream::iter(msgs)).await.unwrap_err())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refused_import_stores_nothing_and_says_why() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let mut od = pb::directory_client::DirectoryClient::new(axis.channel(&pki.operator).await);
    let mut ad =
        pb::directory_client::DirectoryClient::new(axis.channel(&pki.agencies[0].tls).await);
    let raw = generate(300);
    let units = unit_list(&raw);
    let (v, changes) = signed(&pki, None, &units);

    // An agency may not import.
    assert_eq!(
        refused(&mut ad, stream(&v, &changes)).await,
        "OPERATOR_ONLY"
    );
    // A change altered after signing: the list is not what the version signs.
    let mut altered = changes.clone();
    altered.upserts[5].name = "Sở giả mạo".into();
    assert_eq!(
        refused(&mut od, stream(&v, &altered)).await,
        "DIRECTORY_INVALID"
    );
    // A unit missing its parent (signed as such: the hierarchy is checked, not only the digest).
    let mut orphan = raw.clone();
    orphan.retain(|u| u.id != raw[1].id);
    let orphan_units: Vec<Unit> = orphan
        .iter()
        .enumerate()
        .map(|(i, r)| Unit::parse(r, i).unwrap())
        .collect();
    let mut orphan_changes = Changes {
        upserts: orphan_units,
        removals: vec![],
    };
    orphan_changes.upserts.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        refused(&mut od, stream(&v, &orphan_changes)).await,
        "DIRECTORY_INVALID"
    );
    // A malformed id on the wire.
    let mut msgs = stream(&v, &changes);
    if let Some(pb::import_units_request::Part::Changes(c)) = &mut msgs[1].part {
        c.upserts[0].unit_id = "000.00.0.G01".into();
    }
    assert_eq!(refused(&mut od, msgs).await, "DIRECTORY_INVALID");
    // Signed by an agency seal, not by the operator.
    let seal_cert = pki.verified(&pki.agencies[0].seal.cert, Profile::AgencySeal);
    let seal = axis_signer::Signer::new(&pki.agencies[0].seal.key, &seal_cert).unwrap();
    let by_seal = axis_signer::cms::sign(v.bytes(), &seal, v.version().issued_at).unwrap();
    let by_seal = SignedDirectoryVersion::from_parts(v.bytes().to_vec(), by_seal).unwrap();
    let r = refused(&mut od, stream(&by_seal, &changes)).await;
    assert!(
        r == "CERTIFICATE_REJECTED" || r == "SIGNATURE_INVALID",
        "{r}"
    );
    // Changes without the version first.
    let mut msgs = stream(&v, &changes);
    msgs.remove(0);
    assert_eq!(refused(&mut od, msgs).await, "PROTOCOL_VIOLATION");

    // Nothing was stored by any of them.
    let none = od
        .get_directory_snapshot(pb::GetDirectorySnapshotRequest::default())
        .await
        .unwrap_err();
    assert_eq!(reason(&none), "DIRECTORY_VERSION_UNKNOWN");

    // The good one, then the same signed version again: it no longer follows the current one.
    od.import_units(tokio_stream::iter(stream(&v, &changes)))
        .await
        .unwrap();
    assert_eq!(
        refused(&mut od, stream(&v, &changes)).await,
        "DIRECTORY_VERSION_CONFLICT"
    );
    let resp = od
        .get_directory_changes(pb::GetDirectoryChangesRequest { since_version: 7 })
        .await
        .unwrap_err();
    assert_eq!(reason(&resp), "DIRECTORY_VERSION_UNKNOWN");

    axis.stop().await;
}
