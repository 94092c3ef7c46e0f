//! Seal (hash the attachment, sign, encrypt, sign the header) and open (verify the submission,
//! unwrap, decrypt, verify the signatures and the attachment digest) for 10 KB, 1 MB and 100 MB
//! documents with 1 and 10 recipients. Prints documents/s, MB/s and the peak RSS of each case.
//!
//! Run: `cargo bench -p axis-signer --bench seal_open` (release). `BENCH_QUICK=1` runs each case
//! once. The 100 MB cases stream through a temporary file with 1 MiB writes and one-frame reads,
//! as an SDK would: the plaintext and the ciphertext are never whole in memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use axis_signer::limits::*;
use axis_signer::*;
use axis_testkit::*;

const KB: usize = 1000;
const MB: usize = 1000 * 1000;
const WRITE: usize = 1024 * 1024;

/// Peak resident set size (VmHWM) in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so each case reports its own peak.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Deterministic pseudo-random plaintext, one write's worth; the attachment is it repeated.
fn block() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..WRITE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Feeds `size` bytes of the repeated block to `f` in writes of at most 1 MiB.
fn feed(block: &[u8], size: usize, mut f: impl FnMut(&[u8])) {
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len());
        f(&block[..n]);
        left -= n;
    }
}

/// Where the ciphertext goes: memory for small documents, a temporary file for large ones.
enum Sink {
    Memory(Vec<u8>),
    File(std::fs::File),
}

struct Timings {
    seal: Duration,
    encrypt: Duration,
    open: Duration,
    decrypt: Duration,
    ciphertext: u64,
}

fn run(size: usize, to: &[&Agency], block: &[u8]) -> Timings {
    let f = fixture();
    let mut sink = if size > 8 * MB {
        Sink::File(tempfile::tempfile().unwrap())
    } else {
        Sink::Memory(Vec::with_capacity(size + size / 16 + 64 * 1024))
    };

    // ----- seal -----
    let t = Instant::now();
    let mut digest = AttachmentDigest::new();
    feed(block, size, |b| digest.update(b));
    let mut m = manifest(to, &[]);
    m.attachments = vec![digest.finish("van-ban.pdf", "application/pdf", "")];
    let doc = sign(&m);
    let certs: Vec<_> = to.iter().map(|a| a.enc.clone()).collect();
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random().unwrap(),
        document: &doc,
        recipients: &certs,
        chunk_size: DEFAULT_CHUNK_SIZE,
    })
    .unwrap();
    let mut out = Vec::with_capacity(WRITE + 64 * 1024);
    let te = Instant::now();
    let drain = |out: &mut Vec<u8>, sink: &mut Sink| {
        match sink {
            Sink::Memory(v) => v.extend_from_slice(out),
            Sink::File(file) => file.write_all(out).unwrap(),
        }
        out.clear();
    };
    feed(block, size, |b| {
        sealer.write_attachment(b, &mut out).unwrap();
        drain(&mut out, &mut sink);
    });
    sealer.end_attachment(&mut out).unwrap();
    let encrypt = te.elapsed();
    let sealed = sealer.finish(&f.a.seal_signer(), SIGNED, &mut out).unwrap();
    drain(&mut out, &mut sink);
    let seal = t.elapsed();
    let ciphertext = sealed.submission.header().header().ciphertext_len;

    // ----- open (as the first recipient) -----
    let t = Instant::now();
    let sub = sealed.submission.verify(&f.store, NOW).unwrap();
    let key = to[0].recipient_key();
    let mut opener =
        Opener::from_key_envelope(&sub, &sealed.key_envelope, &key, &f.store, NOW).unwrap();
    let mut frame = vec![0u8; FRAME_HEADER_LEN + DEFAULT_CHUNK_SIZE as usize + 16];
    let mut plaintext_bytes = 0usize;
    let td = Instant::now();
    match &mut sink {
        Sink::Memory(v) => {
            let mut rest = v.as_slice();
            while !rest.is_empty() {
                let n = opener.frame_len(rest).unwrap();
                frame[..n].copy_from_slice(&rest[..n]);
                rest = &rest[n..];
                if let Opened::Attachment { data, .. } = opener.open_frame(&mut frame[..n]).unwrap()
                {
                    plaintext_bytes += std::hint::black_box(data).len();
                }
            }
        }
        Sink::File(file) => {
            file.seek(SeekFrom::Start(0)).unwrap();
            // Unbuffered: each read lands in the frame buffer directly (no second copy).
            let r = file;
            loop {
                match r.read_exact(&mut frame[..FRAME_HEADER_LEN]) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    Err(e) => panic!("{e}"),
                }
                let n = opener.frame_len(&frame[..FRAME_HEADER_LEN]).unwrap();
                r.read_exact(&mut frame[FRAME_HEADER_LEN..n]).unwrap();
                if let Opened::Attachment { data, .. } = opener.open_frame(&mut frame[..n]).unwrap()
                {
                    plaintext_bytes += std::hint::black_box(data).len();
                }
            }
        }
    }
    let decrypt = td.elapsed();
    let received = opener.finish().unwrap();
    let open = t.elapsed();
    assert_eq!(plaintext_bytes, size);
    assert_eq!(
        received.document().manifest().manifest().attachments[0].size,
        size as u64
    );
    Timings {
        seal,
        encrypt,
        open,
        decrypt,
        ciphertext,
    }
}

/// The encrypt stage alone (frames discarded, no I/O): the library's own throughput.
fn encrypt_only(size: usize, block: &[u8]) -> Duration {
    let f = fixture();
    let mut digest = AttachmentDigest::new();
    feed(block, size, |b| digest.update(b));
    let mut m = manifest(&[&f.b], &[]);
    m.attachments = vec![digest.finish("van-ban.pdf", "application/pdf", "")];
    let doc = sign(&m);
    let certs = vec![f.b.enc.clone()];
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random().unwrap(),
        document: &doc,
        recipients: &certs,
        chunk_size: DEFAULT_CHUNK_SIZE,
    })
    .unwrap();
    let mut out = Vec::with_capacity(WRITE + 64 * 1024);
    let t = Instant::now();
    feed(block, size, |b| {
        sealer.write_attachment(b, &mut out).unwrap();
        std::hint::black_box(&out);
        out.clear();
    });
    sealer.end_attachment(&mut out).unwrap();
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let f = fixture();
    let extra = extra_agencies(9);
    let one: Vec<&Agency> = vec![&f.b];
    let mut ten: Vec<&Agency> = vec![&f.b];
    ten.extend(extra.iter());
    let block = block();
    println!(
        "{:>8} {:>5} | {:>9} {:>9} {:>9} | {:>9} {:>9} {:>9} | {:>8} {:>8}",
        "size",
        "recip",
        "seal/s",
        "seal MB/s",
        "enc MB/s",
        "open/s",
        "open MB/s",
        "dec MB/s",
        "peakMiB",
        "overhead"
    );
    let runs = if quick { 1 } else { 3 };
    let enc = median((0..runs).map(|_| encrypt_only(100 * MB, &block)).collect());
    println!(
        "encrypt stage alone, 100 MB, frames discarded (no I/O): {:.0} MB/s",
        100.0 / enc.as_secs_f64()
    );
    for (size, runs) in [(100 * MB, 3), (MB, 30), (10 * KB, 200)] {
        for to in [&one, &ten] {
            let runs = if quick { 1 } else { runs };
            reset_peak_rss();
            let results: Vec<Timings> = (0..runs).map(|_| run(size, to, &block)).collect();
            let peak = peak_rss_mib();
            let ciphertext = results[0].ciphertext;
            let pick = |g: fn(&Timings) -> Duration| median(results.iter().map(g).collect());
            let (seal, enc, open, dec) = (
                pick(|t| t.seal),
                pick(|t| t.encrypt),
                pick(|t| t.open),
                pick(|t| t.decrypt),
            );
            let mbs = |d: Duration| size as f64 / MB as f64 / d.as_secs_f64();
            println!(
                "{:>6}{} {:>5} | {:>9.1} {:>9.0} {:>9.0} | {:>9.1} {:>9.0} {:>9.0} | {:>8.1} {:>7.2}%",
                if size >= MB { size / MB } else { size / KB },
                if size >= MB { "MB" } else { "KB" },
                to.len(),
                1.0 / seal.as_secs_f64(),
                mbs(seal),
                mbs(enc),
                1.0 / open.as_secs_f64(),
                mbs(open),
                mbs(dec),
                peak,
                (ciphertext as f64 / size as f64 - 1.0) * 100.0,
            );
        }
    }
}
