//! Verifying an evidence bundle offline: a document from A to B and C, each recipient's chain
//! 01 → 03 → 04 → 05 → 06 (ten statuses), logged among 1,000 earlier entries, one signed tree
//! head, CRLs from two periods (so two trust stores are built). Prints the median of the runs
//! for parsing alone and for the whole `verify_bundle`.
//!
//! Run: `cargo bench -p axis-evidence --bench bundle` (release). `BENCH_RUNS` sets the number of
//! runs (default 50, at least 20).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use axis_evidence::*;
use axis_testkit::*;

/// The bundle's DER and the log key (SPKI DER): the test kit's ten-status bundle.
fn bundle() -> (Vec<u8>, Vec<u8>) {
    let s = axis_testkit::log::ten_status_bundle();
    (
        s.bundle.encode().unwrap(),
        s.log.cert.public_key_der().to_vec(),
    )
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .max(20);
    let (bytes, log_key) = bundle();
    let root = fixture().root.clone();
    let report = verify_bundle(&bytes, &root, &log_key).unwrap();
    let statuses: usize = report.timelines.iter().map(|t| t.events.len()).sum();
    assert_eq!(statuses, 10);
    println!(
        "evidence bundle: {} bytes, {statuses} statuses, tree of {} entries, {} CRLs",
        bytes.len(),
        report.tree_head.head().tree_size,
        EvidenceBundle::parse(&bytes).unwrap().crls.len()
    );

    let time = |f: &dyn Fn()| common::median_of(runs, f);
    let parse = time(&|| {
        EvidenceBundle::parse(&bytes).unwrap();
    });
    let verify = time(&|| {
        verify_bundle(&bytes, &root, &log_key).unwrap();
    });
    println!("| operation | median of {runs} runs |");
    println!("| --- | ---: |");
    println!(
        "| `EvidenceBundle::parse` | {:.1} µs |",
        parse.as_secs_f64() * 1e6
    );
    println!(
        "| `verify_bundle`, ten statuses (target < 10 ms) | {:.2} ms |",
        verify.as_secs_f64() * 1e3
    );
}
