//! What the evidence benchmarks share: the median of timed runs.

use std::time::{Duration, Instant};

/// The median of `runs` timings of `f`, after one untimed warm-up run.
#[allow(dead_code)] // not every bench times one function alone
pub(crate) fn median_of(runs: usize, f: &dyn Fn()) -> Duration {
    medians_interleaved(runs, &[f])[0]
}

/// The median of `runs` timings of each of `fs`, after one untimed warm-up run of each, the
/// functions taking turns (f0, f1, …, f0, f1, …) so that every one meets the same load on a
/// shared machine: their ratios are what a noisy run can still tell.
#[allow(dead_code)] // not every bench compares
pub(crate) fn medians_interleaved(runs: usize, fs: &[&dyn Fn()]) -> Vec<Duration> {
    for f in fs {
        f();
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs); fs.len()];
    for _ in 0..runs {
        for (f, t) in fs.iter().zip(times.iter_mut()) {
            let start = Instant::now();
            f();
            t.push(start.elapsed());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[t.len() / 2]
        })
        .collect()
}
