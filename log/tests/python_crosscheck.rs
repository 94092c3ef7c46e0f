//! An independent verifier: RFC 9162 §2.1's MTH, PATH and PROOF transcribed into a few lines of
//! Python (`hashlib` only) run as a subprocess, and compared with our roots and proofs for every
//! size up to 70, every leaf index and every old size. Two implementations that agree on every
//! shape of the recursion (sizes that are and are not powers of two, both sides of every split)
//! are far less likely to share a misreading of the RFC than one implementation and its own
//! tests. Without `python3` on PATH the test fails (CI installs it): a cross-check that quietly
//! did not run would look like one that passed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use axis_log::*;

/// RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF, SUBPROOF), literally: ranges of
/// the entry list, k the largest power of two smaller than n, recursion as written.
const PYTHON: &str = r#"
import hashlib, sys
from functools import lru_cache

lines = sys.stdin.read().split("\n")
n = int(lines[0])
D = [bytes.fromhex(x) for x in lines[1:1 + n]]
H = lambda b: hashlib.sha256(b).digest()

def split(n):
    k = 1
    while 2 * k < n:
        k *= 2
    return k

@lru_cache(maxsize=None)
def MTH(lo, hi):
    if hi == lo:
        return H(b"")
    if hi - lo == 1:
        return H(b"\x00" + D[lo])
    k = split(hi - lo)
    return H(b"\x01" + MTH(lo, lo + k) + MTH(lo + k, hi))

def PATH(m, lo, hi):
    if hi - lo == 1:
        return []
    k = split(hi - lo)
    if m < k:
        return PATH(m, lo, lo + k) + [MTH(lo + k, hi)]
    return PATH(m - k, lo + k, hi) + [MTH(lo, lo + k)]

def SUBPROOF(m, lo, hi, b):
    if m == hi - lo:
        return [] if b else [MTH(lo, hi)]
    k = split(hi - lo)
    if m <= k:
        return SUBPROOF(m, lo, lo + k, b) + [MTH(lo + k, hi)]
    return SUBPROOF(m - k, lo + k, hi, False) + [MTH(lo, lo + k)]

out = []
for q in lines[1 + n:]:
    if not q:
        continue
    op, a, b = q.split()
    a, b = int(a), int(b)
    if op == "root":
        r = [MTH(0, a)]
    elif op == "path":
        r = PATH(a, 0, b)
    else:
        r = SUBPROOF(a, 0, b, True)
    out.append(" ".join(x.hex() for x in r))
sys.stdout.write("\n".join(out) + "\n")
"#;

const MAX: u64 = 70;

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn hexes(hs: &[Hash]) -> String {
    hs.iter().map(hex).collect::<Vec<_>>().join(" ")
}

/// The entries: the CT test tree's eight, then entries of varied lengths (0 to 90 bytes).
fn entries() -> Vec<Vec<u8>> {
    let mut e: Vec<Vec<u8>> = [
        &b""[..],
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    .iter()
    .map(|s| s.to_vec())
    .collect();
    for i in 8..MAX {
        e.push((0..(i * 13 % 91)).map(|j| (i * 31 + j * 7) as u8).collect());
    }
    e
}

enum Query {
    Root(u64),
    Path(u64, u64),
    Proof(u64, u64),
}

fn run_python(entries: &[Vec<u8>], queries: &[Query]) -> Vec<String> {
    let mut input = format!("{}\n", entries.len());
    for e in entries {
        input.push_str(&e.iter().map(|b| format!("{b:02x}")).collect::<String>());
        input.push('\n');
    }
    for q in queries {
        input.push_str(&match q {
            Query::Root(n) => format!("root {n} 0\n"),
            Query::Path(m, n) => format!("path {m} {n}\n"),
            Query::Proof(m, n) => format!("proof {m} {n}\n"),
        });
    }
    let child = Command::new("python3")
        .arg("-c")
        .arg(PYTHON)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("python3 is not on PATH: the independent cross-check cannot run (install it)")
        }
        Err(e) => panic!("cannot start python3: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 failed: {:?}", out.status);
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().map(str::to_owned).collect()
}

#[test]
fn roots_and_proofs_match_an_independent_python_implementation() {
    let entries = entries();
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();

    // Our side, built the way the server builds it: appends in batches, the completed nodes
    // kept in a table, proofs assembled from the table.
    let mut frontier = Frontier::new();
    let mut store: HashMap<NodeId, Hash> = HashMap::new();
    let mut roots = vec![frontier.root()];
    let mut batch_proofs: HashMap<(u64, u64), Vec<Hash>> = HashMap::new();
    let mut start = 0usize;
    for len in [1usize, 2, 5, 13, 20, 29] {
        let batch = frontier.append_batch(&leaves[start..start + len]).unwrap();
        for (i, leaf) in leaves[start..start + len].iter().enumerate() {
            store.insert(NodeId::leaf((start + i) as u64), *leaf);
        }
        store.extend(batch.completed.iter().copied());
        for (i, proof) in batch.proofs.into_iter().enumerate() {
            batch_proofs.insert(((start + i) as u64, batch.tree_size), proof);
        }
        start += len;
    }
    assert_eq!(start as u64, MAX);
    let mut one_by_one = Frontier::new();
    for leaf in &leaves {
        one_by_one.append(*leaf).unwrap();
        roots.push(one_by_one.root());
    }
    assert_eq!(frontier, one_by_one);
    let get = |id: NodeId| store.get(&id).copied();

    let mut queries = Vec::new();
    for n in 0..=MAX {
        queries.push(Query::Root(n));
    }
    for n in 1..=MAX {
        for m in 0..n {
            queries.push(Query::Path(m, n));
        }
        for m in 1..=n {
            queries.push(Query::Proof(m, n));
        }
    }

    let python = run_python(&entries, &queries);
    assert_eq!(python.len(), queries.len(), "one output line per query");

    let (mut paths, mut proofs, mut batch_checked) = (0, 0, 0);
    for (q, py) in queries.iter().zip(&python) {
        match *q {
            Query::Root(n) => {
                assert_eq!(hex(&roots[n as usize]), *py, "root of {n}");
                assert_eq!(hex(&root_from_leaves(&leaves[..n as usize])), *py);
            }
            Query::Path(m, n) => {
                let ours = inclusion_proof(m, n, get).unwrap();
                assert_eq!(hexes(&ours), *py, "PATH({m}, D[{n}])");
                verify_inclusion(&leaves[m as usize], m, n, &ours, &roots[n as usize]).unwrap();
                if let Some(from_batch) = batch_proofs.get(&(m, n)) {
                    assert_eq!(hexes(from_batch), *py, "batch proof of {m} in {n}");
                    batch_checked += 1;
                }
                paths += 1;
            }
            Query::Proof(m, n) => {
                let ours = consistency_proof(m, n, get).unwrap();
                assert_eq!(hexes(&ours), *py, "PROOF({m}, D[{n}])");
                verify_consistency(m, n, &roots[m as usize], &roots[n as usize], &ours).unwrap();
                proofs += 1;
            }
        }
    }
    assert_eq!(batch_checked, MAX);
    eprintln!(
        "python3 agrees: {} roots, {paths} inclusion proofs, {proofs} consistency proofs",
        MAX + 1
    );
}
