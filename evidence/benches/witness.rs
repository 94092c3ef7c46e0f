//! What witnessing costs, per tree head, without the network: a witness verifies the log
//! signer's CMS signature on the new head (trust store, pinned key), checks the RFC 9162
//! consistency proof from the last head it cosigned (a log of 100,000 entries grown by one
//! batch of 512) and signs (P-256); the axis parses a cosignature and verifies it; a verifier
//! checks K = 2 of 3 witnesses. Prints the median of the runs, with the tree-head signature
//! check alone as the peer measured in the same run (the operations take turns, so all meet the
//! same load).
//!
//! Run: `cargo bench -p axis-evidence --bench witness` (release). `BENCH_RUNS` sets the number
//! of runs (default 200, at least 20).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration as StdDuration;

use axis_evidence::*;
use axis_log::Hash;
use axis_pki::{KeyAlgorithm, PrivateKey};
use axis_testkit::log::{MemoryLog, node};
use axis_testkit::*;
use time::macros::datetime;

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(20);
    let f = fixture();
    let log_key = f.log.cert.public_key_der().to_vec();
    let at = datetime!(2026-01-03 10:20 UTC);
    // A log of 100,000 entries, grown by one batch of 512 since the last head cosigned.
    let entries: Vec<Vec<u8>> = (0..100_512u32)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    let old = MemoryLog::new(&entries[..100_000]);
    let new = MemoryLog::new(&entries);
    let last = old
        .head(datetime!(2026-01-03 10:00 UTC), &f.log.signer())
        .verify(&f.store, at, Some(&log_key))
        .unwrap();
    let signed = new.head(datetime!(2026-01-03 10:10 UTC), &f.log.signer());
    let proof: Vec<Hash> =
        axis_log::consistency_proof(old.size(), new.size(), |id| node(&new.leaves, id)).unwrap();
    let witnesses: Vec<PrivateKey> = (0..3)
        .map(|_| PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
        .collect();
    let keys: Vec<WitnessKey> = witnesses
        .iter()
        .map(|k| WitnessKey::parse(k.public_key_der()).unwrap())
        .collect();
    let head = signed.verify(&f.store, at, Some(&log_key)).unwrap();
    let cosignatures: Vec<Cosignature> = witnesses[..2]
        .iter()
        .map(|k| Cosignature::sign(&head, k, at).unwrap())
        .collect();
    let bytes = cosignatures[0].as_bytes().to_vec();
    println!(
        "log of {} entries, last cosigned at {}, consistency proof of {} hashes, cosignature {} bytes",
        new.size(),
        old.size(),
        proof.len(),
        bytes.len()
    );

    let head_signature = || {
        signed.verify(&f.store, at, Some(&log_key)).unwrap();
    };
    let consistency = || {
        check_consistent(last.head(), head.head(), &proof).unwrap();
    };
    let witness_step = || {
        let head = signed.verify(&f.store, at, Some(&log_key)).unwrap();
        cosign_next(
            Some(last.head()),
            &head,
            &proof,
            &log_key,
            &witnesses[0],
            at,
        )
        .unwrap();
    };
    let server_check = || {
        Cosignature::parse(&bytes)
            .unwrap()
            .verify(&keys[0])
            .unwrap();
    };
    let verifier = || {
        check_witnessed(head.head(), &log_key, &cosignatures, &keys, 2).unwrap();
    };
    // Taking turns, so that each meets the same load as the peer.
    let t = common::medians_interleaved(
        runs,
        &[
            &head_signature,
            &consistency,
            &witness_step,
            &server_check,
            &verifier,
        ],
    );
    let (head_signature, consistency, witness_step, server_check, verifier) =
        (t[0], t[1], t[2], t[3], t[4]);
    println!("| operation (per tree head) | median of {runs} runs |");
    println!("| --- | ---: |");
    let ms = |d: StdDuration| d.as_secs_f64() * 1e3;
    println!(
        "| peer: the log signer's CMS signature on a head, verified (trust store, pinned key) | {:.3} ms |",
        ms(head_signature)
    );
    println!(
        "| consistency proof, 100,000 → 100,512 entries | {:.1} µs |",
        consistency.as_secs_f64() * 1e6
    );
    println!(
        "| witness: verify the head + consistency + cosign (`cosign_next`, P-256) | {:.3} ms ({:.2}× the peer) |",
        ms(witness_step),
        witness_step.as_secs_f64() / head_signature.as_secs_f64()
    );
    println!(
        "| axis: parse and verify a cosignature (before its two queries) | {:.3} ms |",
        ms(server_check)
    );
    println!(
        "| verifier: 2 of 3 witnesses (`check_witnessed`) | {:.3} ms |",
        ms(verifier)
    );
}
