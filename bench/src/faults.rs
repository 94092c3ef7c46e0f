//! The fault scenarios of issue #18 that need longer runs than a CI test, against the release
//! binaries (the e2e suite's `faults::` and `failover::` tests check the same behaviour, short):
//!
//! - `dbfault` (PostgreSQL): two nodes on one database, the second one's database link through
//!   the test kit's fault proxy, blackholed for `--duration` seconds (no RST, no FIN) while
//!   8 streams submit to that node and an SDK client configured with both nodes (faulted one
//!   first) sends a document every second; a fresh SDK client (connect + send) every 3 s too.
//!   Measured: how long until that node's `/readyz` says not ready, and ready again after the
//!   heal; how long its failed submits took; how long the SDK's submits took during the fault;
//!   and, after every failed document was submitted again, that the database holds each one
//!   exactly once. The node runs with the default deadlines.
//! - `fdlimit`: a node started under a descriptor limit of 1,024 (default connection maximum:
//!   768) takes 968 mTLS connections: what the refused ones and an SDK client see, the node's
//!   CPU while idle with every slot taken, how fast `/healthz` and `/metrics` answer. Then a
//!   node whose maximum is set above its limit (256 descriptors) takes 400 TCP connections, so
//!   `accept` itself fails: its CPU meanwhile, its log lines, and how long a queued `/healthz`
//!   waits once the connections go.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_client::signer::Code;
use axis_client::{Client, OutgoingAttachment, OutgoingDocument};
use axis_proto::v1 as pb;
use axis_tests::fault_proxy::{Fault, FaultProxy};
use axis_tests::{channel_to, sdk_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::corpus::Doc;
use super::server::Server;
use super::{Bench, load, load_average, pg_addr};

/// Streams submitting to the faulted node.
const STREAMS: usize = 8;
/// Fault-free seconds before the cut and after the heal.
const BEFORE: Duration = Duration::from_secs(5);
const AFTER: Duration = Duration::from_secs(15);

/// `GET path` on a metrics listener: status code and body, or `None` without an answer within
/// `within`.
async fn http_get(addr: SocketAddr, path: &str, within: Duration) -> Option<(u16, String)> {
    let get = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok()?;
        let code = out.split_whitespace().nth(1)?.parse().ok()?;
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
        Some((code, body))
    };
    tokio::time::timeout(within, get).await.ok().flatten()
}

/// A counter or gauge from a `/metrics` body (the sum over its labels).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(n, _)| *n == name || n.starts_with(&format!("{name}{{")))
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}

/// One submission to the faulted node.
struct Attempt {
    /// Since the run began.
    at: Duration,
    took: Duration,
    ok: bool,
    error: String,
}

/// One SDK send.
struct SdkSend {
    at: Duration,
    took: Duration,
    ok: bool,
    endpoint: String,
    error: String,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

async fn submit(client: &load::Client, doc: &Doc) -> std::result::Result<(), String> {
    let mut c = client.clone();
    match c
        .submit(tokio_stream::iter(doc.requests(1024 * 1024)))
        .await
    {
        Ok(r) if r.get_ref().receipt.is_some() => Ok(()),
        Ok(_) => Err("no acceptance receipt".into()),
        Err(s) => {
            let reason = s
                .metadata()
                .get("axis-reason")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let m: String = s.message().chars().take(160).collect();
            Err(format!("{:?} {reason}: {m}", s.code()))
        }
    }
}

fn document(to: &axis_client::AgencyId, i: usize) -> Result<OutgoingDocument> {
    Ok(OutgoingDocument::new(
        Code::new("7816", "VPCP-TTĐT")?,
        "V/v kết nối, liên thông văn bản",
    )
    .to(to.clone())
    .attach(OutgoingAttachment::bytes(
        "dbfault.pdf",
        "application/pdf",
        format!("dbfault {i}").into_bytes(),
    )?))
}

/// `/readyz` of `metrics` every 100 ms until `stop`: each change of readiness, when it was seen.
async fn watch_readiness(
    metrics: SocketAddr,
    t0: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<(Duration, bool, String)> {
    let mut changes: Vec<(Duration, bool, String)> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let at = t0.elapsed();
        let (ready, why) = match http_get(metrics, "/readyz", Duration::from_secs(1)).await {
            Some((200, _)) => (true, String::new()),
            Some((_, body)) => (false, body.trim().to_owned()),
            None => (false, "no answer from /readyz within 1 s".to_owned()),
        };
        if changes.last().is_none_or(|(_, r, _)| *r != ready) {
            changes.push((at, ready, why));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    changes
}

impl Bench {
    /// `dbfault`: see the module's documentation.
    pub(crate) async fn db_fault(
        &mut self,
        docs: &Arc<Vec<Doc>>,
        warm: &Arc<Vec<Doc>>,
    ) -> Result<()> {
        let fault = self.args.duration;
        for rep in 1..=self.args.reps {
            let healthy = self.server().await?;
            let pg = pg_addr(&healthy.url)?;
            let proxy = FaultProxy::start(pg).await?;
            let url = healthy
                .url
                .replace(&pg.to_string(), &proxy.addr().to_string());
            if !url.contains(&proxy.addr().to_string()) {
                bail!("{} does not name {pg}", healthy.url);
            }
            // The faulted node runs with the default deadlines: what is measured is what an
            // operator gets.
            let node = Server::join(&self.args.server, &self.pki, &url, &self.args.log, "").await?;
            let clients = load::clients(node.addr, &self.pki).await?;
            let healthy_clients = load::clients(healthy.addr, &self.pki).await?;
            self.warm_up(&clients, warm).await?;
            println!(
                "dbfault run {rep}: node 2's database link blackholed for {} s, {STREAMS} streams \
                 on node 2, an SDK client on node 2 then node 1; load {}",
                fault.as_secs(),
                load_average()
            );
            let t0 = Instant::now();
            let stop = Arc::new(AtomicBool::new(false));
            let readiness = tokio::spawn(watch_readiness(node.metrics, t0, stop.clone()));

            // The load on the faulted node: each stream submits a document, and after a failure
            // the same one again 100 ms later (as a client would), until the run stops.
            let next = Arc::new(AtomicUsize::new(0));
            let mut streams = Vec::new();
            for _ in 0..STREAMS {
                let (docs, next, clients, stop) =
                    (docs.clone(), next.clone(), clients.clone(), stop.clone());
                streams.push(tokio::spawn(async move {
                    let (mut attempts, mut accepted, mut unfinished) =
                        (Vec::new(), Vec::new(), Vec::new());
                    'docs: loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= docs.len() || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        loop {
                            let at = t0.elapsed();
                            let r = submit(&clients[docs[i].sender], &docs[i]).await;
                            let took = t0.elapsed() - at;
                            let ok = r.is_ok();
                            attempts.push(Attempt {
                                at,
                                took,
                                ok,
                                error: r.err().unwrap_or_default(),
                            });
                            if ok {
                                accepted.push(i);
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                continue 'docs;
                            }
                            if stop.load(Ordering::Relaxed) {
                                unfinished.push(i);
                                break 'docs;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    (attempts, accepted, unfinished)
                }));
            }

            // The SDK: one client for the whole run (faulted node first), a send every second;
            // and a fresh client every 3 s (connect, then send).
            let endpoints = [
                format!("https://{}", node.addr),
                format!("https://{}", healthy.addr),
            ];
            let (from, to) = (&self.pki.agencies[0], &self.pki.agencies[self.args.senders]);
            let config = sdk_config(&self.pki, from, &endpoints);
            let sdk = Arc::new(Client::connect(config.clone()).await?);
            let to_id = to.id.clone();
            let long = {
                let (sdk, stop, to_id) = (sdk.clone(), stop.clone(), to_id.clone());
                tokio::spawn(async move {
                    let mut sends = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let at = t0.elapsed();
                        let r = match document(&to_id, i) {
                            Ok(d) => sdk.send(d).await.map_err(|e| e.to_string()),
                            Err(e) => Err(e.to_string()),
                        };
                        sends.push(SdkSend {
                            at,
                            took: t0.elapsed() - at,
                            ok: r.is_ok(),
                            endpoint: sdk.endpoint(),
                            error: r.err().unwrap_or_default(),
                        });
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    sends
                })
            };
            let fresh = {
                let (stop, to_id) = (stop.clone(), to_id.clone());
                tokio::spawn(async move {
                    let mut sends = Vec::new();
                    let mut i = 1_000_000;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let at = t0.elapsed();
                        let r = async {
                            let c = Client::connect(config.clone())
                                .await
                                .map_err(|e| e.to_string())?;
                            let d = document(&to_id, i).map_err(|e| e.to_string())?;
                            c.send(d).await.map_err(|e| e.to_string())?;
                            Ok::<_, String>(c.endpoint())
                        }
                        .await;
                        let took = t0.elapsed() - at;
                        let (ok, endpoint, error) = match r {
                            Ok(e) => (true, e, String::new()),
                            Err(e) => (false, String::new(), e),
                        };
                        sends.push(SdkSend {
                            at,
                            took,
                            ok,
                            endpoint,
                            error,
                        });
                        tokio::time::sleep(Duration::from_secs(3).saturating_sub(took)).await;
                    }
                    sends
                })
            };

            tokio::time::sleep(BEFORE).await;
            proxy.set(Fault::Blackhole);
            let cut = t0.elapsed();
            tokio::time::sleep(fault).await;
            proxy.set(Fault::Pass);
            let heal = t0.elapsed();
            tokio::time::sleep(AFTER).await;
            stop.store(true, Ordering::Relaxed);

            let mut attempts = Vec::new();
            let (mut accepted, mut unfinished) = (Vec::new(), Vec::new());
            for s in streams {
                let (a, ok, left) = s.await?;
                attempts.extend(a);
                accepted.extend(ok);
                unfinished.extend(left);
            }
            let long = long.await?;
            let fresh = fresh.await?;
            let changes = readiness.await?;

            // Readiness.
            for (at, ready, why) in &changes {
                println!(
                    "  +{:.1} s: {}{}",
                    secs(*at),
                    if *ready { "ready" } else { "not ready" },
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({why})")
                    }
                );
            }
            let not_ready = changes
                .iter()
                .find(|(at, r, _)| *at >= cut && !r)
                .map(|(at, _, _)| *at - cut);
            let ready_again = changes
                .iter()
                .find(|(at, r, _)| *at >= heal && *r)
                .map(|(at, _, _)| *at - heal);
            println!(
                "  cut at +{:.1} s, healed at +{:.1} s: NOT_SERVING after {}, SERVING {} after \
                 the heal",
                secs(cut),
                secs(heal),
                not_ready.map_or("never".into(), |d| format!("{:.2} s", secs(d))),
                ready_again.map_or("never".into(), |d| format!("{:.2} s", secs(d))),
            );
            let never = 1e9;
            self.report.add(
                "dbfault: node NOT_SERVING after its database link went silent",
                "≤ 5",
                "s",
                not_ready.map_or(never, secs),
            );
            self.report.add(
                "dbfault: node SERVING again after the heal",
                "≤ 5",
                "s",
                ready_again.map_or(never, secs),
            );

            // The faulted node's submits.
            let failed: Vec<&Attempt> = attempts.iter().filter(|a| !a.ok).collect();
            let during: Vec<&Attempt> = attempts
                .iter()
                .filter(|a| a.at + a.took > cut && a.at < heal)
                .collect();
            let longest_failed = failed.iter().map(|a| a.took).max().unwrap_or_default();
            let longest_during = during.iter().map(|a| a.took).max().unwrap_or_default();
            let mut fail_took: Vec<Duration> = failed.iter().map(|a| a.took).collect();
            fail_took.sort();
            let mut reasons: Vec<String> = failed
                .iter()
                .map(|a| a.error.split(':').next().unwrap_or("").to_owned())
                .collect();
            reasons.sort();
            reasons.dedup();
            let succeeded_during = during.iter().filter(|a| a.ok && a.at >= cut).count();
            println!(
                "  node 2: {} submissions, {} failed (p50 {:.2} s, longest {:.2} s; {:?}), \
                 longest during the fault {:.2} s; {} accepted that began during the fault; \
                 first failure: {}",
                attempts.len(),
                failed.len(),
                secs(load::quantile(&fail_took, 0.5)),
                secs(longest_failed),
                reasons,
                secs(longest_during),
                succeeded_during,
                failed.first().map_or("-", |a| a.error.as_str()),
            );
            self.report.add(
                "dbfault: node's submits that failed",
                "",
                "",
                failed.len() as f64,
            );
            self.report.add(
                "dbfault: node's failed submits, p50 time to fail",
                "",
                "s",
                secs(load::quantile(&fail_took, 0.5)),
            );
            self.report.add(
                "dbfault: node's failed submits, longest time to fail",
                "≤ 5",
                "s",
                secs(longest_failed),
            );

            // The SDK.
            let overlapping = |s: &&SdkSend| s.at + s.took > cut && s.at < heal;
            for (label, sends) in [("one client", &long), ("fresh clients", &fresh)] {
                let over: Vec<&SdkSend> = sends.iter().filter(overlapping).collect();
                let longest = over.iter().map(|s| s.took).max().unwrap_or_default();
                let failures: Vec<&SdkSend> = sends.iter().filter(|s| !s.ok).collect();
                let on_healthy = over
                    .iter()
                    .filter(|s| s.ok && s.endpoint == endpoints[1])
                    .count();
                println!(
                    "  SDK ({label}): {} sends, {} during the fault (longest {:.2} s, {} \
                     accepted by node 1), {} failed{}",
                    sends.len(),
                    over.len(),
                    secs(longest),
                    on_healthy,
                    failures.len(),
                    failures
                        .first()
                        .map_or(String::new(), |s| format!(": {}", s.error)),
                );
                for s in over.iter().take(4) {
                    println!(
                        "    +{:.1} s: {:.2} s, {} {}",
                        secs(s.at),
                        secs(s.took),
                        if s.ok { "accepted by" } else { "failed" },
                        if s.ok { &s.endpoint } else { &s.error }
                    );
                }
                self.report.add(
                    &format!("dbfault: SDK ({label}) submit during the fault, longest"),
                    "≤ 15",
                    "s",
                    secs(longest),
                );
                self.report.add(
                    &format!("dbfault: SDK ({label}) sends that failed"),
                    "0",
                    "",
                    failures.len() as f64,
                );
            }

            // Nothing lost, nothing twice: every document the load left unaccepted goes to the
            // healthy node, then the database holds each document once.
            let mut resubmitted = 0;
            for &i in &unfinished {
                let mut tries = 0;
                loop {
                    tries += 1;
                    match submit(&healthy_clients[docs[i].sender], &docs[i]).await {
                        Ok(()) => break,
                        Err(e) if tries >= 5 => bail!("resubmitting {}: {e}", docs[i].message_id),
                        Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                    }
                }
                resubmitted += 1;
            }
            let load_docs: HashSet<usize> = accepted.iter().chain(&unfinished).copied().collect();
            let sdk_ok = long.iter().chain(&fresh).filter(|s| s.ok).count();
            let sdk_failed = long.iter().chain(&fresh).filter(|s| !s.ok).count();
            let expected = warm.len() + load_docs.len() + sdk_ok;
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&healthy.url)
                .await
                .context("connecting to the bench database")?;
            let (stored, distinct): (i64, i64) =
                sqlx::query_as("SELECT count(*), count(DISTINCT message_id) FROM messages")
                    .fetch_one(&mut conn)
                    .await?;
            let (stored, distinct) = (stored as usize, distinct as usize);
            let repeated = stored - distinct;
            // An SDK send that failed may or may not have been stored: not counted as lost.
            let lost = expected.saturating_sub(distinct);
            println!(
                "  {} documents accepted ({resubmitted} of them resubmitted to node 1 after the \
                 run), {sdk_ok} by the SDK ({sdk_failed} SDK sends failed), {} warm-up: {expected} \
                 expected, {stored} stored, {distinct} distinct",
                load_docs.len(),
                warm.len()
            );
            if distinct > expected + sdk_failed {
                bail!("{distinct} distinct documents stored, at most {expected} expected");
            }
            self.report
                .add("dbfault: documents lost", "0", "", lost as f64);
            self.report
                .add("dbfault: documents stored twice", "0", "", repeated as f64);

            drop((clients, healthy_clients, sdk));
            node.stop(None).await?;
            drop(proxy);
            self.stop(healthy, "dbfault", rep).await?;
        }
        Ok(())
    }

    /// `fdlimit`: see the module's documentation.
    pub(crate) async fn fd_limit(&mut self) -> Result<()> {
        for rep in 1..=self.args.reps {
            self.at_the_maximum(rep).await?;
            self.at_the_descriptor_limit(rep).await?;
        }
        Ok(())
    }

    async fn at_the_maximum(&mut self, rep: usize) -> Result<()> {
        const NOFILE: u64 = 1024;
        // The node's default maximum under that limit (listen.rs: 256 descriptors kept).
        let max = (NOFILE - 256) as usize;
        let s = Server::start_limited(
            &self.args.server,
            &self.pki,
            self.args.db,
            &self.args.pg,
            &self.args.log,
            "",
            Some(NOFILE),
        )
        .await?;
        println!(
            "fdlimit run {rep}: node under a {NOFILE}-descriptor limit (maximum {max} \
             connections), {} mTLS connections; load {}",
            max + 200,
            load_average()
        );
        let t = Instant::now();
        let mut held = Vec::new();
        let (mut refused, mut first_refusal) = (0usize, None::<String>);
        let agencies = &self.pki.agencies;
        for i in 0..max + 200 {
            let who = &agencies[i % agencies.len()].tls;
            match tokio::time::timeout(Duration::from_secs(5), channel_to(s.addr, &self.pki, who))
                .await
            {
                Ok(Ok(ch)) => held.push(ch),
                Ok(Err(e)) => {
                    refused += 1;
                    first_refusal.get_or_insert_with(|| error_chain(&e));
                }
                Err(_) => {
                    refused += 1;
                    first_refusal.get_or_insert_with(|| "no answer within 5 s".into());
                }
            }
        }
        let opened_in = t.elapsed();
        // What an SDK client sees.
        let t = Instant::now();
        let config = sdk_config(&self.pki, &agencies[0], &[format!("https://{}", s.addr)]);
        let sdk = match Client::connect(config).await {
            Ok(_) => "connected".to_owned(),
            Err(e) => e.to_string(),
        };
        let sdk_took = t.elapsed();
        // Idle, every slot taken.
        let cpu0 = s.cpu_seconds();
        let w = Instant::now();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let idle_cpu = 100.0 * (s.cpu_seconds() - cpu0) / w.elapsed().as_secs_f64();
        let t = Instant::now();
        let health = http_get(s.metrics, "/healthz", Duration::from_secs(5)).await;
        let health_took = t.elapsed();
        let t = Instant::now();
        let metrics = http_get(s.metrics, "/metrics", Duration::from_secs(5)).await;
        let metrics_took = t.elapsed();
        let text = metrics.as_ref().map_or("", |(_, b)| b.as_str());
        let (open, refused_total) = (
            metric(text, "axis_connections_open"),
            metric(text, "axis_connections_refused_total"),
        );
        // A connection held all along still works.
        let mut ex = pb::exchange_client::ExchangeClient::new(held[0].clone());
        let works = match tokio::time::timeout(
            Duration::from_secs(5),
            ex.get_limits(pb::GetLimitsRequest::default()),
        )
        .await
        {
            Ok(Ok(_)) => "answers",
            _ => "fails",
        };
        let (_, rss) = s.memory_kib()?;
        println!(
            "  {} connections held, {refused} refused (opened in {:.1} s); first refusal: \
             {}\n  SDK connect to the full node ({:.2} s): {sdk}\n  idle with every slot taken: \
             {idle_cpu:.2} % of a core; /healthz {} in {:.1} ms, /metrics {} in {:.1} ms \
             (axis_connections_open {open}, axis_connections_refused_total {refused_total}); a \
             held connection {works}; RSS {:.1} MiB",
            held.len(),
            secs(opened_in),
            first_refusal.as_deref().unwrap_or("-"),
            secs(sdk_took),
            health
                .as_ref()
                .map_or("no answer".into(), |(c, _)| c.to_string()),
            1000.0 * secs(health_took),
            metrics
                .as_ref()
                .map_or("no answer".into(), |(c, _)| c.to_string()),
            1000.0 * secs(metrics_took),
            rss as f64 / 1024.0,
        );
        self.report.add(
            "fdlimit: connections held at the maximum",
            &max.to_string(),
            "",
            held.len() as f64,
        );
        self.report.add(
            "fdlimit: idle CPU, every slot taken",
            "< 5",
            "% of a core",
            idle_cpu,
        );
        self.report.add(
            "fdlimit: /healthz answered in, every slot taken",
            "",
            "ms",
            if health.is_some() {
                1000.0 * secs(health_took)
            } else {
                1e9
            },
        );
        self.report.add(
            "fdlimit: /metrics answered in, every slot taken",
            "",
            "ms",
            if metrics.is_some() {
                1000.0 * secs(metrics_took)
            } else {
                1e9
            },
        );
        drop(held);
        s.stop(None).await
    }

    async fn at_the_descriptor_limit(&mut self, rep: usize) -> Result<()> {
        const NOFILE: u64 = 256;
        const FLOOD: usize = 400;
        let s = Server::start_limited(
            &self.args.server,
            &self.pki,
            self.args.db,
            &self.args.pg,
            &self.args.log,
            "[limits]\nmax_connections = 100000\n",
            Some(NOFILE),
        )
        .await?;
        println!(
            "fdlimit run {rep}: node under a {NOFILE}-descriptor limit, maximum above it, \
             {FLOOD} TCP connections; load {}",
            load_average()
        );
        let mut conns = Vec::with_capacity(FLOOD);
        for _ in 0..FLOOD {
            if let Ok(Ok(c)) =
                tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(s.addr)).await
            {
                conns.push(c);
            }
        }
        // A scrape queued behind them, as in the report of #18.
        let metrics = s.metrics;
        let scrape = tokio::spawn(async move {
            let r = http_get(metrics, "/healthz", Duration::from_secs(60)).await;
            (r, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Before the 10 s TLS handshake deadline frees the accepted ones.
        let cpu0 = s.cpu_seconds();
        let w = Instant::now();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let cpu = 100.0 * (s.cpu_seconds() - cpu0) / w.elapsed().as_secs_f64();
        let freed = Instant::now();
        drop(conns);
        let (answer, answered) = scrape.await?;
        let waited = answered.saturating_duration_since(freed);
        let text = http_get(s.metrics, "/metrics", Duration::from_secs(5))
            .await
            .map(|(_, b)| b)
            .unwrap_or_default();
        let errors = metric(&text, "axis_accept_errors_total");
        let log = std::fs::read_to_string(s.dir.path().join("server.log")).unwrap_or_default();
        let lines = log.lines().filter(|l| l.contains("accept failed")).count();
        println!(
            "  at the limit: {cpu:.2} % of a core; {errors} failed accepts, {lines} log lines \
             about them; the queued /healthz: {} {:.2} s after the connections closed",
            answer
                .as_ref()
                .map_or("no answer".into(), |(c, _)| c.to_string()),
            secs(waited)
        );
        self.report.add(
            "fdlimit: CPU while accept fails (descriptors exhausted)",
            "< 5",
            "% of a core",
            cpu,
        );
        self.report
            .add("fdlimit: failed accepts in those 5 s", "", "", errors);
        s.stop(None).await
    }
}

/// An error and its sources, one after another.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
