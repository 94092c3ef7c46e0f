//! What the evidence benchmarks share: the median of timed runs.

use std::time::{Duration, Instant};

/// The median of `runs` timings of `f`, after one untimed warm-up run.
pub(crate) fn median_of(runs: usize, f: &dyn Fn()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
