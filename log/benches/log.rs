//! Merkle log micro-benchmarks: what the server pays per appended leaf and what an auditor pays
//! per proof. Prints medians of >= 5 batches of ~10 ms; run with
//! `cargo bench -p axis-log --bench log` (`BENCH_MS` is the time budget per line, default 2000).
//! Figures go to BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use axis_log::*;

/// Runs `f` in batches for about `budget`, returns the median time per call.
fn bench(name: &str, budget: Duration, per: u32, mut f: impl FnMut()) -> Duration {
    // Warm up for ~5 ms and size the batches to ~10 ms from it.
    let start = Instant::now();
    let mut calls = 0u128;
    while start.elapsed() < Duration::from_millis(5) {
        f();
        calls += 1;
    }
    let one = (start.elapsed().as_nanos() / calls).max(1);
    let batch = (Duration::from_millis(10).as_nanos() / one).clamp(1, 10_000_000) as u32;
    let mut samples = Vec::new();
    let end = Instant::now() + budget;
    while Instant::now() < end || samples.len() < 5 {
        let s = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(s.elapsed() / batch / per);
    }
    samples.sort();
    let m = samples[samples.len() / 2];
    println!(
        "{name:<62} {:>10.2} µs   {:>12.0} /s   ({} batches)",
        m.as_secs_f64() * 1e6,
        1.0 / m.as_secs_f64(),
        samples.len()
    );
    m
}

/// A complete node table for `n` leaves: `levels[l][i]` is node `(l, i)`.
struct Table {
    levels: Vec<Vec<Hash>>,
}

impl Table {
    fn new(leaves: Vec<Hash>) -> Self {
        let mut levels = vec![leaves];
        while levels.last().unwrap().len() > 1 {
            let next = levels
                .last()
                .unwrap()
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        Self { levels }
    }
    fn get(&self, id: NodeId) -> Option<Hash> {
        self.levels
            .get(usize::from(id.level))?
            .get(id.index as usize)
            .copied()
    }
}

fn main() {
    let budget = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    const N: u64 = 1 << 20;
    let t = Instant::now();
    let leaves: Vec<Hash> = (0..N).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let table = Table::new(leaves.clone());
    let mut frontier = Frontier::new();
    frontier.append_batch(&leaves).unwrap();
    println!(
        "setup: 2^20 leaves, node table and frontier in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(frontier.root(), table.levels.last().unwrap()[0]);
    let root = frontier.root();

    println!("\n-- server side (per leaf) --");
    let mut f = frontier.clone();
    let mut i = 0u64;
    bench(
        "Frontier::append (one leaf, tree of 2^20+)",
        budget,
        1,
        || {
            i += 1;
            black_box(f.append(leaf_hash(&i.to_be_bytes())).unwrap());
        },
    );
    let mut f = frontier.clone();
    let mut i = 0u64;
    bench(
        "Frontier::append, leaf hash given (hashing only the nodes)",
        budget,
        1,
        || {
            i += 1;
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&i.to_be_bytes());
            black_box(f.append(h).unwrap());
        },
    );
    let batch: Vec<Hash> = (0..100u64)
        .map(|i| leaf_hash(&(N + i).to_be_bytes()))
        .collect();
    let base = {
        let mut b = frontier.clone();
        b.append_batch(&batch[..37]).unwrap(); // a size with many set bits
        b
    };
    bench(
        "append_batch of 100 leaves with their proofs, per leaf",
        budget,
        100,
        || {
            let mut f = base.clone();
            black_box(f.append_batch(&batch).unwrap());
        },
    );

    println!("\n-- proofs in a tree of 2^20 leaves --");
    let indices: Vec<u64> = (0..64u64).map(|k| (k * 0x9E37_79B9) % N).collect();
    let proofs: Vec<Vec<Hash>> = indices
        .iter()
        .map(|&i| inclusion_proof(i, N, |id| table.get(id)).unwrap())
        .collect();
    let mut k = 0;
    bench(
        "inclusion_proof from a node table (20 lookups)",
        budget,
        1,
        || {
            k = (k + 1) % indices.len();
            black_box(inclusion_proof(indices[k], N, |id| table.get(id)).unwrap());
        },
    );
    let mut k = 0;
    bench("verify_inclusion (20 hashes)", budget, 1, || {
        k = (k + 1) % indices.len();
        let i = indices[k];
        verify_inclusion(&leaves[i as usize], i, N, &proofs[k], &root).unwrap();
    });

    let olds: Vec<u64> = (1..=64u64)
        .map(|k| (k * 0x9E37_79B9) % (N - 1) + 1)
        .collect();
    // Old roots from the table: the old tree's frontier nodes are complete nodes.
    let old_roots: Vec<Hash> = olds
        .iter()
        .map(|&o| {
            let mut bytes = o.to_be_bytes().to_vec();
            for level in (0..64u8).rev().filter(|l| o >> l & 1 == 1) {
                let id = NodeId {
                    level,
                    index: (o >> level) - 1,
                };
                bytes.extend_from_slice(&table.get(id).unwrap());
            }
            Frontier::from_bytes(&bytes).unwrap().root()
        })
        .collect();
    let cproofs: Vec<Vec<Hash>> = olds
        .iter()
        .map(|&o| consistency_proof(o, N, |id| table.get(id)).unwrap())
        .collect();
    let avg = cproofs.iter().map(Vec::len).sum::<usize>() as f64 / cproofs.len() as f64;
    let mut k = 0;
    bench(
        &format!("verify_consistency (old random, new 2^20; {avg:.1} hashes avg)"),
        budget,
        1,
        || {
            k = (k + 1) % olds.len();
            verify_consistency(olds[k], N, &old_roots[k], &root, &cproofs[k]).unwrap();
        },
    );
    bench("one node hash (SHA-256 of 65 bytes)", budget, 1, || {
        black_box(node_hash(black_box(&root), black_box(&root)));
    });
}
