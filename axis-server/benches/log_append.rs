//! Durable log appends through the committer: how many leaves per second the axis appends to
//! its Merkle log, committed (one transaction, one fsync and one signed tree head per batch),
//! on SQLite and (with `AXIS_BENCH_PG=postgres://…`) PostgreSQL.
//!
//! The jobs are revocation entries (the smallest kind: a leaf and nothing else), so the figure
//! is the log's own cost — leaf rows, node rows, tree head, frontier, commit — without the
//! ciphertext and message rows an acceptance adds.
//!
//! `cargo bench -p axis-server --bench log_append` (`BENCH_LEAVES`, default 50,000 per run;
//! `BENCH_RUNS`, default 3; `BENCH_INFLIGHT`, default 2,000 concurrent jobs).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use axis_evidence::RevocationEntry;
use axis_pki::demo::DemoPki;
use axis_pki::{Profile, TrustStore};
use axis_server::commit::{Committer, Job};
use axis_server::notify::Notifier;
use axis_server::store::Db;
use time::OffsetDateTime;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(url: &str, leaves: usize, inflight: usize) -> f64 {
    let now = OffsetDateTime::now_utc();
    let pki = DemoPki::new(now).unwrap();
    let log = pki.log_signer().unwrap();
    let (r, c) = pki.crls(1, &[]).unwrap();
    let store = TrustStore::new(vec![pki.root.clone()], vec![pki.ca.clone()], vec![r, c]).unwrap();
    let cert = store
        .verify(&log.cert, Profile::AxisLogSigner, now)
        .unwrap();
    let db = Db::connect(url).await.unwrap();
    let committer = Committer::start(
        db.clone(),
        Arc::new(log.key),
        Arc::new(cert),
        Notifier::new(),
        tokio::sync::watch::channel(axis_server::health::Readiness::Ready).1,
    );
    let sem = Arc::new(tokio::sync::Semaphore::new(inflight));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(leaves);
    for i in 0..leaves {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let committer = committer.clone();
        tasks.push(tokio::spawn(async move {
            let job = Job::Revocation(Box::new(RevocationEntry {
                crl_digest: [7; 32],
                crl_number: 2,
                serial: (i as u64 + 1).to_be_bytes().to_vec(),
                revoked_at: now,
                reason: 1,
            }));
            committer.commit(job).await.unwrap();
            drop(permit);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = leaves as f64 / started.elapsed().as_secs_f64();
    db.close().await;
    rate
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let leaves = env("BENCH_LEAVES", 50_000);
    let runs = env("BENCH_RUNS", 3);
    let inflight = env("BENCH_INFLIGHT", 2_000);
    let mut backends = vec![("SQLite (WAL, synchronous=FULL)", None)];
    if let Ok(pg) = std::env::var("AXIS_BENCH_PG") {
        backends.push(("PostgreSQL", Some(pg)));
    }
    println!(
        "durable log appends: {leaves} leaves per run, {inflight} in flight, median of {runs} runs"
    );
    for (name, pg) in backends {
        let mut rates = Vec::new();
        for run_no in 0..runs {
            let dir = tempfile::tempdir().unwrap();
            let url = match &pg {
                None => format!("sqlite://{}", dir.path().join("log.db").display()),
                Some(admin) => {
                    use sqlx::Connection as _;
                    let db = format!("axis_bench_log_{}_{run_no}", std::process::id());
                    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                        .execute(&mut c)
                        .await
                        .unwrap();
                    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                    format!("{base}/{db}")
                }
            };
            rates.push(run(&url, leaves, inflight).await);
            if let Some(admin) = &pg {
                use sqlx::Connection as _;
                let db = url.rsplit('/').next().unwrap_or_default().to_owned();
                let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await
                .unwrap();
            }
        }
        println!(
            "{name:32} {:>10.0} leaves/s (runs: {:?})",
            median(rates.clone()),
            rates.iter().map(|r| *r as u64).collect::<Vec<_>>()
        );
    }
}
