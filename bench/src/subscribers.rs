//! The `subscribers` scenario (issues #14 and #18): `--subscribers` client agencies (10,000 by
//! default) from a generated PKI, registered with the axis, each on its own mTLS connection with
//! a Subscribe stream open. It measures the time to connect and subscribe them all, the server's
//! memory per connection and per idle subscriber, its idle CPU with all of them connected, and
//! then, while `--senders` agencies submit `--delivery-docs` documents (closed loop,
//! `--concurrency` streams) to subscribers spread over the whole fleet, the time from each
//! commit to the subscriber's stream yielding the document.
//!
//! `--client-ping-secs 0,5` runs it once per setting (each repetition, the order turned): with
//! S > 0 every subscriber's connection PINGs the server after S seconds without a byte read, as
//! the SDK does at half its `stream_idle` (its default 10 s: a PING every 5 s), so the idle
//! figures say what answering them costs the server.
//!
//! A commit is not visible to the client, so each push is timed from the two client-side events
//! around it: the submit answer (sent after the commit; a push may come first, hence negative
//! values) and the submit start (an upper bound: upload, verification, queueing and commit).
//! Every document must reach its own recipient exactly once: a document missing 60 s after the
//! load, pushed twice, or pushed to anyone else fails the bench.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_proto::v1 as pb;
use tokio::sync::Semaphore;
use tokio_stream::StreamExt;

use crate::corpus::{self, Certs, Doc};
use crate::fleet::{
    connect_all, connect_all_pinging, fleet_pki, own_rss_kib, raise_descriptor_limit, register_all,
};
use crate::load::{Client, quantile};
use crate::server::Server;
use crate::{Bench, load_average, ms};

/// How long the server is left alone after a phase before its memory is read.
const SETTLE: Duration = Duration::from_secs(5);

/// What the subscribers saw of one document.
#[derive(Default)]
struct Seen {
    pushes: AtomicU32,
    at: OnceLock<Instant>,
}

/// Per document: when its submit started and when it was answered.
#[derive(Default)]
struct Sent {
    start: OnceLock<Instant>,
    answered: OnceLock<Instant>,
}

/// Pushes nobody expected.
#[derive(Default)]
struct Stray {
    unknown: AtomicUsize,
    misrouted: AtomicUsize,
    stream_errors: AtomicUsize,
    first: std::sync::Mutex<Option<String>>,
}

impl Stray {
    fn note(&self, what: String) {
        let mut f = self.first.lock().unwrap_or_else(|p| p.into_inner());
        f.get_or_insert(what);
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    match later.checked_duration_since(earlier) {
        Some(d) => ms(d),
        None => -ms(earlier - later),
    }
}

fn quantile_f(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

impl Bench {
    pub(crate) async fn subscribers(&mut self) -> Result<()> {
        let n = self.args.subscribers;
        let senders = self.args.senders;
        let limit = raise_descriptor_limit((n + senders + 512) as u64)?;
        println!("subscribers: descriptor limit of the bench process {limit}");

        let t = Instant::now();
        let pki = Arc::new(fleet_pki(senders + n)?);
        let certs = Certs::of(&pki);
        println!(
            "PKI with {} agencies (P-256, four certificates each) in {:.1} s",
            pki.agencies.len(),
            t.elapsed().as_secs_f64()
        );
        // Document i goes from sender i % senders to subscriber i % n: every subscriber gets
        // one before any gets two.
        let m = self.args.delivery_docs;
        let pairs: Vec<(usize, usize)> = (0..m).map(|i| (i % senders, senders + i % n)).collect();
        let t = Instant::now();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let docs = Arc::new(corpus::docs_for(
            &pki,
            &certs,
            &pairs,
            self.args.doc_bytes,
            threads,
        )?);
        drop(certs);
        println!(
            "sealed {m} documents of {} KB in {:.1} s",
            self.args.doc_bytes / 1024,
            t.elapsed().as_secs_f64()
        );
        // Each `--client-ping-secs` setting once per repetition, the order turned each time.
        let pings = self.args.client_pings.clone();
        for rep in 1..=self.args.reps {
            for k in 0..pings.len() {
                let ping = pings[(k + rep - 1) % pings.len()];
                self.subscribers_once(&pki, &docs, rep, ping).await?;
            }
        }
        Ok(())
    }

    /// One run; with `ping`, every subscriber's connection sends an HTTP/2 PING that often
    /// (the SDK's keepalive), and the figures are named after it.
    async fn subscribers_once(
        &mut self,
        pki: &Arc<axis_tests::TestPki>,
        docs: &Arc<Vec<Doc>>,
        rep: usize,
        ping: Option<Duration>,
    ) -> Result<()> {
        let tag = ping.map_or_else(String::new, |p| {
            format!(" [client PING every {} s]", p.as_secs_f64())
        });
        let n = self.args.subscribers;
        let senders = self.args.senders;
        // The default maximum comes from the server's descriptor limit (its hard limit less
        // 256); named here so that a lower limit fails loudly instead of refusing connections.
        let extra = format!("[limits]\nmax_connections = {}\n", n + senders + 64);
        let s = Server::start_unregistered(
            &self.args.server,
            pki,
            self.args.db,
            &self.args.pg,
            &self.args.log,
            &extra,
        )
        .await?;
        println!(
            "subscribers run {rep}{tag}: {n} subscribers, {senders} senders, load {}",
            load_average()
        );
        let reg = register_all(s.addr, pki, 64).await?;
        println!(
            "  registered {} agencies in {:.1} s ({:.0}/s)",
            pki.agencies.len(),
            reg.as_secs_f64(),
            pki.agencies.len() as f64 / reg.as_secs_f64()
        );
        let (sender_channels, _) = connect_all(s.addr, pki, 0..senders, 8).await?;
        let clients: Vec<Client> = sender_channels
            .into_iter()
            .map(|ch| {
                pb::exchange_client::ExchangeClient::new(ch)
                    .max_decoding_message_size(8 * 1024 * 1024)
                    .max_encoding_message_size(8 * 1024 * 1024)
            })
            .collect();
        tokio::time::sleep(SETTLE).await;
        let (_, rss0) = s.memory_kib()?;
        let client0 = own_rss_kib();
        let (cpu_s0, cpu_c0) = (s.cpu_seconds(), crate::server::client_cpu_seconds());

        // Every subscriber's connection, then every Subscribe stream.
        let (channels, connect) =
            connect_all_pinging(s.addr, pki, senders..senders + n, 64, ping).await?;
        let (cpu_s1, cpu_c1) = (s.cpu_seconds(), crate::server::client_cpu_seconds());
        tokio::time::sleep(SETTLE).await;
        let (_, rss1) = s.memory_kib()?;
        let client1 = own_rss_kib();

        let index: Arc<HashMap<String, usize>> = Arc::new(
            docs.iter()
                .enumerate()
                .map(|(i, d)| (d.message_id.clone(), i))
                .collect(),
        );
        let seen: Arc<Vec<Seen>> = Arc::new((0..docs.len()).map(|_| Seen::default()).collect());
        let stray = Arc::new(Stray::default());
        let permits = Arc::new(Semaphore::new(256));
        let t = Instant::now();
        let mut opening = Vec::with_capacity(n);
        for (k, ch) in channels.into_iter().enumerate() {
            let me = senders + k;
            let permit = permits.clone().acquire_owned().await?;
            let (docs, index, seen, stray) =
                (docs.clone(), index.clone(), seen.clone(), stray.clone());
            opening.push(tokio::spawn(async move {
                let mut c = pb::exchange_client::ExchangeClient::new(ch);
                let mut stream = c
                    .subscribe(pb::SubscribeRequest {
                        after_cursor: String::new(),
                    })
                    .await
                    .with_context(|| format!("subscribing agency {me}"))?
                    .into_inner();
                drop(permit);
                // The reader lives until the stream ends (the bench drops the connections).
                tokio::spawn(async move {
                    let _client = c;
                    while let Some(d) = stream.next().await {
                        let now = Instant::now();
                        match d {
                            Ok(d) => match index.get(&d.message_id) {
                                Some(&i) if docs[i].recipient == me => {
                                    seen[i].pushes.fetch_add(1, Ordering::Relaxed);
                                    let _ = seen[i].at.set(now);
                                }
                                Some(_) => {
                                    stray.misrouted.fetch_add(1, Ordering::Relaxed);
                                    stray.note(format!("{} pushed to {me}", d.message_id));
                                }
                                None => {
                                    stray.unknown.fetch_add(1, Ordering::Relaxed);
                                    stray.note(format!("unknown {} pushed to {me}", d.message_id));
                                }
                            },
                            Err(e) => {
                                stray.stream_errors.fetch_add(1, Ordering::Relaxed);
                                stray.note(format!("subscriber {me}: {e}"));
                                return;
                            }
                        }
                    }
                });
                Ok::<_, anyhow::Error>(())
            }));
        }
        for o in opening {
            o.await??;
        }
        let subscribe = t.elapsed();
        let (cpu_s2, cpu_c2) = (s.cpu_seconds(), crate::server::client_cpu_seconds());
        tokio::time::sleep(SETTLE).await;
        let (_, rss2) = s.memory_kib()?;
        let client2 = own_rss_kib();
        let open = s.metric("axis_connections_open").await?;
        let refused = s.metric("axis_connections_refused_total").await?;
        if open < (n + senders) as f64 || refused > 0.0 {
            bail!(
                "the server holds {open} connections ({refused} refused); {} expected",
                n + senders
            );
        }
        println!(
            "  {n} connections in {:.1} s (server CPU {:.1} s, client CPU {:.1} s), {n} streams \
             subscribed in {:.1} s (server CPU {:.1} s, client CPU {:.1} s); server RSS {:.1} → {:.1} → {:.1} MiB, \
             client RSS {:.1} → {:.1} → {:.1} MiB; {open} connections open",
            connect.as_secs_f64(),
            cpu_s1 - cpu_s0,
            cpu_c1 - cpu_c0,
            subscribe.as_secs_f64(),
            cpu_s2 - cpu_s1,
            cpu_c2 - cpu_c1,
            mib(rss0),
            mib(rss1),
            mib(rss2),
            mib(client0),
            mib(client1),
            mib(client2),
        );

        // Idle: everyone connected and subscribed, nothing sent.
        let idle = self.args.idle;
        let (cpu0, cpu_c0, t0) = (
            s.cpu_seconds(),
            crate::server::client_cpu_seconds(),
            Instant::now(),
        );
        let load_idle0 = load_average();
        tokio::time::sleep(idle).await;
        let idle_cpu = (s.cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64();
        let idle_cpu_client =
            (crate::server::client_cpu_seconds() - cpu_c0) / t0.elapsed().as_secs_f64();
        let (_, rss3) = s.memory_kib()?;
        println!(
            "  idle {:.0} s{tag}: server CPU {:.2} % of a core, client (bench) CPU {:.2} %, RSS \
             {:.1} MiB; load {load_idle0} → {}",
            idle.as_secs_f64(),
            100.0 * idle_cpu,
            100.0 * idle_cpu_client,
            mib(rss3),
            load_average()
        );

        // The push phase.
        let c = self.args.concurrency;
        let sent: Arc<Vec<Sent>> = Arc::new((0..docs.len()).map(|_| Sent::default()).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let (duration, start) = (self.args.duration, Instant::now());
        let cpu_load0 = s.cpu_seconds();
        let mut workers = Vec::with_capacity(c);
        for _ in 0..c {
            let (docs, sent, next, clients) =
                (docs.clone(), sent.clone(), next.clone(), clients.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= docs.len() || start.elapsed() >= duration {
                        return Ok::<_, anyhow::Error>(());
                    }
                    let d = &docs[i];
                    let _ = sent[i].start.set(Instant::now());
                    let mut client = clients[d.sender].clone();
                    let r = client
                        .submit(tokio_stream::iter(d.requests(1024 * 1024)))
                        .await
                        .with_context(|| format!("submitting {}", d.message_id))?
                        .into_inner();
                    let _ = sent[i].answered.set(Instant::now());
                    let r = r.receipt.context("no acceptance receipt")?;
                    if r.duplicate || r.evidence.is_none() {
                        bail!(
                            "{}: a duplicate or an answer without evidence",
                            d.message_id
                        );
                    }
                }
            }));
        }
        for w in workers {
            w.await??;
        }
        let elapsed = start.elapsed();
        let load_cpu = s.cpu_seconds() - cpu_load0;
        let submitted: Vec<usize> = (0..docs.len())
            .filter(|&i| sent[i].answered.get().is_some())
            .collect();
        // Every submitted document pushed to its subscriber, within 60 s.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let missing = submitted
                .iter()
                .filter(|&&i| seen[i].pushes.load(Ordering::Relaxed) == 0)
                .count();
            if missing == 0 {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{missing} of {} submitted documents never reached their subscriber",
                    submitted.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A late duplicate would come right after: give it a moment.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let twice = submitted
            .iter()
            .filter(|&&i| seen[i].pushes.load(Ordering::Relaxed) > 1)
            .count();
        let never_sent = (0..docs.len())
            .filter(|&i| {
                sent[i].start.get().is_none() && seen[i].pushes.load(Ordering::Relaxed) > 0
            })
            .count();
        let (unknown, misrouted, errors) = (
            stray.unknown.load(Ordering::Relaxed),
            stray.misrouted.load(Ordering::Relaxed),
            stray.stream_errors.load(Ordering::Relaxed),
        );
        if twice + never_sent + unknown + misrouted + errors > 0 {
            bail!(
                "{twice} documents pushed more than once, {never_sent} pushed but never sent, \
                 {unknown} unknown and {misrouted} misrouted pushes, {errors} streams failed; \
                 the first: {:?}",
                stray.first.lock().unwrap_or_else(|p| p.into_inner())
            );
        }
        let mut from_answer: Vec<f64> = Vec::with_capacity(submitted.len());
        let mut from_start: Vec<Duration> = Vec::with_capacity(submitted.len());
        let mut submit_lat: Vec<Duration> = Vec::with_capacity(submitted.len());
        for &i in &submitted {
            let (Some(&push), Some(&st), Some(&ans)) = (
                seen[i].at.get(),
                sent[i].start.get(),
                sent[i].answered.get(),
            ) else {
                bail!("document {i}: a time is missing");
            };
            from_answer.push(signed_ms(push, ans));
            from_start.push(push.saturating_duration_since(st));
            submit_lat.push(ans - st);
        }
        from_answer.sort_by(f64::total_cmp);
        from_start.sort();
        submit_lat.sort();
        let first_push = from_answer.iter().filter(|v| **v < 0.0).count();
        let (_, rss4) = s.memory_kib()?;
        let rate = submitted.len() as f64 / elapsed.as_secs_f64();
        println!(
            "  push phase: {} documents in {:.1} s ({rate:.0}/s, {c} streams), each pushed once to \
             its subscriber; submit p50 {:.1} ms p99 {:.1} ms; answer → push p50 {:.2} ms p99 \
             {:.2} ms (push before the answer for {first_push}); submit start → push p50 {:.1} ms \
             p99 {:.1} ms; server CPU {:.0} % of a core; RSS {:.1} MiB; load {}",
            submitted.len(),
            elapsed.as_secs_f64(),
            ms(quantile(&submit_lat, 0.5)),
            ms(quantile(&submit_lat, 0.99)),
            quantile_f(&from_answer, 0.5),
            quantile_f(&from_answer, 0.99),
            ms(quantile(&from_start, 0.5)),
            ms(quantile(&from_start, 0.99)),
            100.0 * load_cpu / elapsed.as_secs_f64(),
            mib(rss4),
            load_average()
        );

        let nf = n as f64;
        let r = &mut self.report;
        r.add(
            &format!("subscribers: {n} mTLS connections made{tag}"),
            "",
            "s",
            connect.as_secs_f64(),
        );
        r.add(
            &format!("subscribers: {n} Subscribe streams opened{tag}"),
            "",
            "s",
            subscribe.as_secs_f64(),
        );
        r.add(
            &format!("subscribers: server memory per connection (TLS + HTTP/2){tag}"),
            "",
            "KiB",
            (rss1 as f64 - rss0 as f64) / nf,
        );
        r.add(
            &format!("subscribers: server memory per Subscribe stream{tag}"),
            "",
            "KiB",
            (rss2 as f64 - rss1 as f64) / nf,
        );
        r.add(
            &format!("subscribers: server memory per idle subscriber{tag}"),
            "≤ 32",
            "KiB",
            (rss2 as f64 - rss0 as f64) / nf,
        );
        r.add(
            &format!("subscribers: client memory per subscriber{tag}"),
            "",
            "KiB",
            (client2 as f64 - client0 as f64) / nf,
        );
        r.add(
            &format!("subscribers: server idle CPU, {n} connected{tag}"),
            "< 1",
            "% of a core",
            100.0 * idle_cpu,
        );
        r.add(
            &format!("subscribers: bench (client) idle CPU, {n} connected{tag}"),
            "",
            "% of a core",
            100.0 * idle_cpu_client,
        );
        r.add(
            &format!("subscribers: accepted/s while {n} are connected (C={c}){tag}"),
            "",
            "/s",
            rate,
        );
        r.add(
            &format!("subscribers: submit answer → push p50{tag}"),
            "",
            "ms",
            quantile_f(&from_answer, 0.5),
        );
        r.add(
            &format!("subscribers: submit answer → push p99{tag}"),
            "< 100",
            "ms",
            quantile_f(&from_answer, 0.99),
        );
        r.add(
            &format!("subscribers: submit start → push p99 (upper bound){tag}"),
            "",
            "ms",
            ms(quantile(&from_start, 0.99)),
        );
        r.add(
            &format!("subscribers: server RSS after the push phase{tag}"),
            "",
            "MiB",
            mib(rss4),
        );
        r.note(format!(
            "subscribers rep {rep}{tag}: server RSS {:.1} MiB with {senders} senders connected, {:.1} \
             with {n} more connections, {:.1} subscribed, {:.1} after {:.0} s idle, {:.1} after \
             the push phase; {} documents pushed, each exactly once; load {}",
            mib(rss0),
            mib(rss1),
            mib(rss2),
            mib(rss3),
            idle.as_secs_f64(),
            mib(rss4),
            submitted.len(),
            load_average()
        ));
        drop(clients);
        self.stop(s, "subscribers", rep).await
    }
}
