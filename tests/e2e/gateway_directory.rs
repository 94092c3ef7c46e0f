//! The VXP's unit lists (`getAgenciesListQD20`, `getSynchronizeUnit`) at the gateway answer
//! from its verified copy of the unit directory: every unit the operator imported, in the
//! VXP's fields; a new version reaches the lists at the next refresh; and once synced, the
//! lists answer while the axis is unreachable (no lookup per request).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_testkit::directory::{generate, renamed, unit_list};
use axis_tests::gateway::TestGateway;
use axis_tests::{TestAxis, TestPki};
use serde_json::Value;

async fn units(dms: &axis_tests::vxp_client::VxpClient, call: &str) -> Vec<Value> {
    let a = dms.call(call, &[], b"").await;
    assert_eq!(a.error_code(), "0", "{call}: {}", a.json());
    a.json()["data"].as_array().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_lists_answer_from_a_verified_copy_kept_up_to_date() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let op = crate::units::operator(&axis).await;
    let raw = generate(300);
    let v1 = op.import_units(None, &unit_list(&raw)).await.unwrap();
    let gw = TestGateway::start_with(&axis, &pki.agencies[0], "directory_refresh_secs = 1").await;
    let dms = gw.dms();

    // Every unit, in the directory's order (by id), with its parent and its two codes.
    let qd20 = units(&dms, "getAgenciesListQD20").await;
    let want = unit_list(&raw);
    assert_eq!(qd20.len(), want.len());
    assert!(want.units().iter().any(|u| u.code_qd20.is_some()));
    for (got, want) in qd20.iter().zip(want.units()) {
        let id = want.id.to_string();
        assert_eq!(got["id"], id.as_str());
        assert_eq!(got["code102"], id.as_str());
        let code = want
            .code_qd20
            .as_ref()
            .map_or(id.clone(), ToString::to_string);
        assert_eq!(got["code"], code.as_str());
        assert_eq!(got["name"], want.name.as_str());
        let parent = want
            .parent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(got["pid"], parent.as_str());
    }
    let sync = units(&dms, "getSynchronizeUnit").await;
    assert_eq!(sync.len(), raw.len());
    assert!(sync.iter().all(|u| u.get("code102").is_none()));

    // The operator renames some units: the lists show the new version after a refresh.
    let next = renamed(&raw, 50, "(đổi tên)");
    op.import_units(Some(&v1.directory), &unit_list(&next))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = units(&dms, "getSynchronizeUnit").await;
        let names: Vec<&str> = now.iter().map(|u| u["name"].as_str().unwrap()).collect();
        if names.iter().any(|n| n.ends_with("(đổi tên)")) {
            let next = unit_list(&next);
            let want: Vec<&str> = next.units().iter().map(|u| u.name.as_str()).collect();
            assert_eq!(names, want);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renamed units did not reach the list within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        gw.gateway()
            .metrics
            .directory_version
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );

    // The axis goes away: the lists still answer, from the copy.
    axis.stop().await;
    assert_eq!(units(&dms, "getAgenciesListQD20").await.len(), next.len());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_any_import_the_unit_lists_are_empty_not_an_error() {
    let pki = Arc::new(TestPki::new(2));
    let axis = TestAxis::start(pki.clone()).await;
    let gw = TestGateway::start(&axis, &pki.agencies[0]).await;
    assert!(units(&gw.dms(), "getAgenciesListQD20").await.is_empty());
    gw.stop().await;
    axis.stop().await;
}
