//! edXML throughput and memory: parse (XML, base64, unzip, SHA-256 of every attachment, bytes
//! dropped) and write (zip, base64) of a 10 KB package and of 100 MB packages, one with a
//! PDF-like attachment sent as is and one with a text file sent zipped; then the peak memory
//! a parse adds beyond its input, for 10 MB and 100 MB attachments (it must not grow).
//!
//! Run: `cargo bench -p axis-edxml --bench edxml` (release). `BENCH_RUNS` sets the runs for
//! the 100 MB cases (default 5; the 10 KB case runs 200× as many). Peak memory is VmHWM from
//! /proc/self/status, reset before each measured parse through /proc/self/clear_refs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::time::{Duration, Instant};

use axis_edxml::*;
use peak_alloc::PeakAlloc;

/// Counts heap bytes: the peak a parse adds is exact, whatever pages the process already has.
#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

fn sample() -> Edoc {
    let input = include_bytes!("../tests/data/edoc_new.edxml");
    match parse(input, &mut Discard).unwrap().package {
        Package::Edoc(e) => e,
        Package::Status(_) => unreachable!(),
    }
}

/// Bytes that look like a PDF's compressed streams (incompressible).
fn random(len: usize) -> Vec<u8> {
    axis_testkit::sample::filler(0x9e37_79b9_7f4a_7c15, len)
}

/// Text that compresses like a real minutes file (a few times, not a thousand).
fn text(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0u64;
    let mut x = 7u64;
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.extend_from_slice(
            format!(
                "{i:08} Biên bản họp ngày {:02}/{:02}/2026, mã hồ sơ {:016x}; ý kiến: {}\n",
                x % 28 + 1,
                x % 12 + 1,
                x,
                ["đồng ý", "không đồng ý", "bổ sung hồ sơ", "chuyển xử lý"][(x >> 60) as usize % 4]
            )
            .as_bytes(),
        );
        i += 1;
    }
    out.truncate(len);
    out
}

fn package(name: &str, data: Vec<u8>) -> (Edoc, Vec<Vec<u8>>) {
    let mut e = sample();
    let digest = ring::digest::digest(&ring::digest::SHA256, &data);
    e.attachments = vec![Attachment::for_file(
        "cid:1",
        name,
        "",
        data.len() as u64,
        digest.as_ref().try_into().unwrap(),
    )];
    e.references.truncate(1);
    (e, vec![data])
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn case(label: &str, edoc: &Edoc, files: &[Vec<u8>], runs: usize) {
    let mut out = Vec::new();
    let mut writes = Vec::new();
    for _ in 0..runs {
        out.clear();
        let t = Instant::now();
        write_edoc(edoc, &mut files.to_vec(), &mut out).unwrap();
        writes.push(t.elapsed());
    }
    let mut parses = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let parsed = parse(&out, &mut Discard).unwrap();
        parses.push(t.elapsed());
        std::hint::black_box(parsed);
    }
    let (w, p) = (median(writes), median(parses));
    println!(
        "{label:<34} package {:>11} B  parse {:>9.3} ms {:>7.0} MB/s  write {:>9.3} ms {:>7.0} MB/s",
        out.len(),
        p.as_secs_f64() * 1e3,
        mbps(out.len(), p),
        w.as_secs_f64() * 1e3,
        mbps(out.len(), w),
    );
}

fn memory(label: &str, edoc: &Edoc, files: Vec<Vec<u8>>) {
    let out = edoc_to_vec(edoc, &mut files.clone()).unwrap();
    drop(files);
    let base = rss_kib();
    reset_peak();
    let heap = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let parsed = parse(&out, &mut Discard).unwrap();
    let heap_peak = HEAP.peak_usage() - heap;
    let peak = peak_kib();
    std::hint::black_box(parsed);
    println!(
        "{label:<34} package {:>11} B  heap added by parse {:>6} KiB  RSS {:>7} KiB → peak {:>7} KiB",
        out.len(),
        heap_peak / 1024,
        base,
        peak,
    );
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (small, small_files) = package("cong-van.pdf", random(7 * 1024));
    case("10 KB, pdf", &small, &small_files, runs * 200);
    let (pdf, pdf_files) = package("cong-van.pdf", random(75 << 20));
    case("100 MB, pdf (base64)", &pdf, &pdf_files, runs);
    drop(pdf_files);
    let (zipped, zip_files) = package("bien-ban.txt", text(100 << 20));
    case(
        "100 MB text, zipped (base64+zip)",
        &zipped,
        &zip_files,
        runs,
    );
    drop(zip_files);
    // Memory: the same parse over a 10 MB and a 100 MB attachment.
    for mb in [10usize, 100] {
        let (e, f) = package("cong-van.pdf", random(mb << 20));
        memory(&format!("{mb} MB attachment, pdf"), &e, f);
        let (e, f) = package("bien-ban.txt", text(mb << 20));
        memory(&format!("{mb} MB attachment, zipped"), &e, f);
    }
}
