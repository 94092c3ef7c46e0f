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
use axis_pki::{KeyAlgorithm, Profile, Subject};
use axis_signer::*;
use axis_testkit::log::MemoryLog;
use axis_testkit::*;
use time::Duration;
use time::macros::datetime;

/// The bundle's DER and the log key (SPKI DER).
fn bundle() -> (Vec<u8>, Vec<u8>) {
    let f = fixture();
    let log = issue_extra(
        Profile::AxisLogSigner,
        Subject::new("Axis log signer"),
        KeyAlgorithm::EcdsaP256,
    );
    let second_period = datetime!(2026-01-06 0:00 UTC);
    let crls = vec![
        f.crls[0].clone(),
        ca_crl(10, T0, 5, vec![]),
        ca_crl(11, second_period, 7, vec![]),
    ];

    let p = standard_package();
    let accepted = datetime!(2026-01-02 9:03 UTC);
    let submission = p.sealed.submission.verify(&f.store, accepted).unwrap();
    let mut entries: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("earlier entry {i}").into_bytes())
        .collect();
    let acceptance = LogEntry::acceptance(&submission, accepted)
        .encode()
        .unwrap();
    let acceptance_index = entries.len();
    entries.push(acceptance.as_bytes().to_vec());
    let mut statements = Vec::new();
    let statuses = [
        StatusCode::Arrived,
        StatusCode::Accepted,
        StatusCode::Assigned,
        StatusCode::Processing,
        StatusCode::Completed,
    ];
    let mut chains = [&f.b, &f.c].map(|a| {
        (
            a,
            ReceiptChain::new(DocumentRef::sent(&p.document, &p.sealed, &a.id).unwrap()),
        )
    });
    for (step, status) in statuses.into_iter().enumerate() {
        for (k, (who, chain)) in chains.iter_mut().enumerate() {
            // One status a day, the last ones in the second CRL period.
            let t = datetime!(2026-01-02 10:00 UTC)
                + Duration::days(step as i64 * 2)
                + Duration::minutes(k as i64 * 30);
            let signed = chain
                .next(status, t, "")
                .unwrap()
                .sign(&who.seal_signer())
                .unwrap();
            let verified = chain.push(&signed, &f.store, t).unwrap();
            let entry = LogEntry::statement(verified, t + Duration::seconds(5))
                .encode()
                .unwrap();
            entries.push(format!("unrelated entry {step} {k}").into_bytes());
            entries.push(entry.as_bytes().to_vec());
            statements.push((who.id.clone(), signed, entry, entries.len() - 1));
        }
    }
    let memory = MemoryLog::new(&entries);
    let head = memory.head(datetime!(2026-01-12 0:00 UTC), &log.signer());
    let bundle = memory.bundle(&p, crls, head, (acceptance, acceptance_index), statements);
    (bundle.encode().unwrap(), log.cert.public_key_der().to_vec())
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
