//! Witnessing a real axis, per tree head: a witness's step (`witness_step`: the latest head,
//! the consistency proof from the last head it cosigned, both verified, the cosignature made)
//! and handing the cosignature in (`add_cosignature`: the axis parses and verifies it, reads
//! its head of that size, keeps it), against a plain `GetTreeHead` round trip measured in the
//! same run. An axis on port 0 over mTLS, in this process, on a fresh SQLite (or, with
//! `AXIS_TEST_DB=postgres`, PostgreSQL) database; one document is sent (not timed) before each
//! step, so that every step cosigns a new head.
//!
//! Run: `cargo bench -p axis-tests --bench witness_rpc` (release). `BENCH_RUNS` sets the number
//! of runs (default 50, at least 20).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_client::signer::Code;
use axis_client::{Client, OutgoingAttachment, OutgoingDocument, WitnessStep};
use axis_pki::{KeyAlgorithm, PrivateKey, to_pem};
use axis_tests::{TestAxis, TestPki};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
        .max(20);
    let pki = Arc::new(TestPki::new(2));
    let witness = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("witness.pub.pem");
    std::fs::write(&key_file, to_pem("PUBLIC KEY", witness.public_key_der())).unwrap();
    let axis = TestAxis::start_with(pki.clone(), |c| c.witnesses.keys = vec![key_file]).await;
    let connect = |i: usize| {
        Client::connect(axis_tests::sdk_config(
            &pki,
            &pki.agencies[i],
            &[axis.endpoint()],
        ))
    };
    let (g22, h41) = (connect(0).await.unwrap(), connect(1).await.unwrap());
    let log_key = axis_pki::public_key_of(&pki.log.cert).unwrap();
    let send = |i: usize| {
        let doc = OutgoingDocument::new(Code::new("7816", "VPCP-TTĐT").unwrap(), "bench")
            .to(pki.agencies[1].id.clone())
            .attach(
                OutgoingAttachment::bytes("a.pdf", "application/pdf", format!("{i}").into_bytes())
                    .unwrap(),
            );
        g22.send(doc)
    };
    let mut last = None;
    let (mut peer, mut step, mut add) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..=runs {
        send(i).await.unwrap();
        let start = Instant::now();
        h41.tree_head(None).await.unwrap();
        let peer_time = start.elapsed();
        let start = Instant::now();
        let WitnessStep::Cosigned {
            head, cosignature, ..
        } = h41
            .witness_step(last.as_ref(), &log_key, &witness)
            .await
            .unwrap()
        else {
            panic!("not cosigned");
        };
        let step_time = start.elapsed();
        last = Some(head.signed().clone());
        let start = Instant::now();
        h41.add_cosignature(&cosignature).await.unwrap();
        let add_time = start.elapsed();
        if i > 0 {
            // The first round warms up.
            peer.push(peer_time);
            step.push(step_time);
            add.push(add_time);
        }
    }
    let db = if axis_tests::postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (peer, step, add) = (median(peer), median(step), median(add));
    println!(
        "| per tree head ({db}, log of up to {} entries) | median of {runs} runs |",
        runs + 1
    );
    println!("| --- | ---: |");
    println!(
        "| peer: `GetTreeHead` round trip, head verified | {:.2} ms |",
        ms(peer)
    );
    println!(
        "| witness step: head + consistency proof fetched and verified, cosigned | {:.2} ms ({:.2}× the peer) |",
        ms(step),
        step.as_secs_f64() / peer.as_secs_f64()
    );
    println!(
        "| `AddCosignature` round trip (parse, verify, read the head, insert) | {:.2} ms ({:.2}× the peer) |",
        ms(add),
        add.as_secs_f64() / peer.as_secs_f64()
    );
    axis.stop().await;
}
