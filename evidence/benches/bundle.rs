//! Verifying an evidence bundle offline: a document from A to B and C, each recipient's chain
//! 01 → 03 → 04 → 05 → 06 (ten statuses), logged among 1,000 earlier entries, one signed tree
//! head, the axis's completeness statement, CRLs from two periods (so two trust stores are
//! built); then the same bundle as an axis with witnesses exports it (version 3), its head
//! cosigned by three witnesses, checked as `axis audit verify --witness ×3 --min-witnesses 2`
//! does. Prints the median of the runs for parsing alone, for the whole `verify_bundle`
//! (completeness included), and for `verify_bundle` with the witness check.
//!
//! Run: `cargo bench -p axis-evidence --bench bundle` (release). `BENCH_RUNS` sets the number of
//! runs (default 50, at least 20).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axis_evidence::*;
use axis_pki::{KeyAlgorithm, KeySigner, PrivateKey};
use axis_testkit::*;

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .max(20);
    // The test kit's ten-status bundle (version 2: with its completeness statement) and the
    // same with three witnesses' cosignatures of its head (version 3).
    let sample = axis_testkit::log::ten_status_bundle();
    let log_key = sample.log.cert.public_key_der().to_vec();
    let witnesses: Vec<PrivateKey> = (0..3)
        .map(|_| PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
        .collect();
    let keys: Vec<WitnessKey> = witnesses
        .iter()
        .map(|k| WitnessKey::parse(k.public_key_der()).unwrap())
        .collect();
    let signers: Vec<&dyn KeySigner> = witnesses.iter().map(|k| k as &dyn KeySigner).collect();
    let at = sample.bundle.tree_head.head().timestamp + time::Duration::minutes(1);
    let bytes = sample.bundle.encode().unwrap();
    let cosigned = axis_testkit::log::cosigned(&sample.bundle, &log_key, &signers, at)
        .encode()
        .unwrap();
    let root = fixture().root.clone();
    let report = verify_bundle(&bytes, &root, &log_key).unwrap();
    let statuses: usize = report.timelines.iter().map(|t| t.events.len()).sum();
    assert_eq!(statuses, 10);
    assert!(report.completeness.is_some());
    println!(
        "evidence bundle: {} bytes (with 3 cosignatures: {} bytes), {statuses} statuses, tree of {} entries, {} CRLs, completeness statement",
        bytes.len(),
        cosigned.len(),
        report.tree_head.head().tree_size,
        EvidenceBundle::parse(&bytes).unwrap().crls.len()
    );

    // Taking turns, so that the three meet the same load.
    let verify_v2 = || {
        verify_bundle(&bytes, &root, &log_key).unwrap();
    };
    // What `axis audit verify --witness W1 --witness W2 --witness W3 --min-witnesses 2` runs.
    let verify_v3 = || {
        let report = verify_bundle(&cosigned, &root, &log_key).unwrap();
        let by = check_witnessed(
            report.tree_head.head(),
            &log_key,
            &report.cosignatures,
            &keys,
            2,
        )
        .unwrap();
        assert_eq!(by.by.len(), 3);
    };
    let v3_report = verify_bundle(&cosigned, &root, &log_key).unwrap();
    let witness_check = || {
        check_witnessed(
            v3_report.tree_head.head(),
            &log_key,
            &v3_report.cosignatures,
            &keys,
            2,
        )
        .unwrap();
    };
    let parse = || {
        EvidenceBundle::parse(&bytes).unwrap();
    };
    let t = common::medians_interleaved(runs, &[&parse, &verify_v2, &verify_v3, &witness_check]);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!("| operation | median of {runs} runs |");
    println!("| --- | ---: |");
    println!(
        "| `EvidenceBundle::parse` | {:.1} µs |",
        t[0].as_secs_f64() * 1e6
    );
    println!(
        "| `verify_bundle`, ten statuses and the completeness statement (version 2; target < 10 ms) | {:.2} ms |",
        ms(t[1])
    );
    println!(
        "| the same bundle cosigned (version 3): `verify_bundle` + `check_witnessed`, 3 witnesses given, 2 required (target < 10 ms) | {:.2} ms ({:.2}× version 2) |",
        ms(t[2]),
        t[2].as_secs_f64() / t[1].as_secs_f64()
    );
    println!(
        "| `check_witnessed` alone: 3 cosignatures verified (P-256) | {:.3} ms |",
        ms(t[3])
    );
}
