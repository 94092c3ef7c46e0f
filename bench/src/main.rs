#![forbid(unsafe_code)]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `axis-bench`: many sender and recipient agencies against a running `axis-server` process.
//!
//! Documents are sealed before anything is timed (real signer, throw-away PKI), so the server
//! is what is measured. Each repetition starts a fresh server process on a fresh database
//! (a new SQLite file, or a new PostgreSQL database), and the server's peak RSS is its own
//! `VmHWM`.
//!
//! ```text
//! cargo build --release -p axis-server -p axis-bench
//! target/release/axis-bench [--db sqlite|postgres] [--quick]
//!     [--scenario throughput,latency,delivery,large,slownode,dbfault,fdlimit,directory] [--reps 3] [--duration 20]
//!     [--concurrency 128] [--senders 20] [--recipients 20] [--doc-kb 10] [--rate 1000]
//!     [--large-mb 1024] [--server PATH] [--pg postgres://root@127.0.0.1:5432/postgres]
//!     [--slow-ms 1000] [--slow-concurrency 16] [--slow-secs 60] [--slow-rate 1200]
//!     [--units 111339] [--lookups 10000]
//! target/release/axis-bench --scenario subscribers [--subscribers 10000] [--idle-secs 30]
//!     [--senders 20] [--delivery-docs 20000] [--concurrency 128]   # subscribers.rs
//!     [--client-ping-secs 0,5]    # a run per setting: subscribers PING every S s (0: never)
//! target/release/axis-bench --scenario broadcast [--broadcast-to 500] [--broadcasts 3]
//!     [--settle-secs 70]                                             # broadcast.rs
//! target/release/axis-bench --scenario gateway [--gateway-docs 300] [--gateway-large-docs 30]
//!     [--gateway PATH]      # documents/s through gateway → axis → gateway (gateway.rs)
//! ```
//!
//! `directory` (not run by default) imports a generated national directory of `--units` units
//! as the operator in one call, syncs it as an agency (a verified snapshot), looks up
//! `--lookups` units one at a time, re-imports it with every 100th unit renamed and syncs only
//! those changes.
//!
//! `slownode` (PostgreSQL only, not run by default) starts two nodes on one database, the
//! second one's database link through the test kit's fault proxy with `--slow-ms` added in
//! each direction, and measures the first node's throughput for `--slow-secs` alone and for
//! `--slow-secs` while the second one submits too (from its first commit on; it seals
//! `--slow-rate` × `--slow-secs` documents for each). There a failed submission is counted
//! (the first one's error printed) and its stream goes on; in every other scenario it ends the
//! bench.
//!
//! `dbfault` (PostgreSQL) and `fdlimit` (not run by default) are faults of issue #18: a node's
//! database link blackholed for `--duration` seconds, and a node at its connection maximum and
//! at its descriptor limit (faults.rs).

mod broadcast;
mod corpus;
mod faults;
mod fleet;
mod gateway;
mod load;
mod peer;
mod server;
mod subscribers;
mod units;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_tests::TestPki;

use corpus::{Certs, Doc};
use load::quantile;
use server::{DbKind, Metrics, Server, client_cpu_seconds};

struct Args {
    db: DbKind,
    scenarios: Vec<String>,
    reps: usize,
    duration: Duration,
    concurrency: usize,
    senders: usize,
    recipients: usize,
    doc_bytes: usize,
    rate: f64,
    large_mb: u64,
    delivery_docs: usize,
    per_recipient: usize,
    slow_ms: u64,
    slow_concurrency: usize,
    slow_secs: Duration,
    slow_rate: f64,
    units: usize,
    lookups: usize,
    server: PathBuf,
    pg: String,
    log: String,
    keep_logs: Option<PathBuf>,
    gateway: PathBuf,
    gateway_docs: usize,
    gateway_large_docs: usize,
    subscribers: usize,
    idle: Duration,
    /// `--client-ping-secs`: each a run of `subscribers` (`None`: no PING).
    client_pings: Vec<Option<Duration>>,
    broadcast_to: usize,
    broadcasts: usize,
    settle: Duration,
    amqp: String,
}

const USAGE: &str = "usage: axis-bench [--db sqlite|postgres] [--quick] \
[--scenario throughput,peer,latency,delivery,large,slownode,dbfault,fdlimit,gateway,directory,subscribers,broadcast] [--reps N] [--duration SECS] [--concurrency C] \
[--senders N] [--recipients N] [--doc-kb KB] [--rate DOCS_PER_S] [--large-mb MB] \
[--delivery-docs N] [--slow-ms MS] [--slow-concurrency C] [--slow-secs S] [--slow-rate DOCS_PER_S] [--units N] [--lookups N] [--server PATH] [--pg ADMIN_URL] [--server-log FILTER] [--keep-logs DIR] \
[--gateway PATH] [--gateway-docs N] [--gateway-large-docs N] \
[--subscribers N] [--idle-secs S] [--client-ping-secs S,S…] [--broadcast-to N] [--broadcasts N] [--settle-secs S] [--amqp amqp://USER:PASS@HOST:PORT]";

fn parse_args() -> Result<Args> {
    let exe_dir = std::env::current_exe()?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut a = Args {
        db: DbKind::Sqlite,
        scenarios: ["throughput", "peer", "latency", "delivery", "large"]
            .map(String::from)
            .to_vec(),
        reps: 3,
        duration: Duration::from_secs(20),
        concurrency: 128,
        senders: 20,
        recipients: 20,
        doc_bytes: 10 * 1024,
        rate: 1000.0,
        large_mb: 1024,
        delivery_docs: 20_000,
        per_recipient: 16,
        slow_ms: 1000,
        slow_concurrency: 16,
        slow_secs: Duration::from_secs(60),
        slow_rate: 1200.0,
        units: 111_339,
        lookups: 10_000,
        server: exe_dir.join("axis-server"),
        pg: std::env::var("AXIS_TEST_PG")
            .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into()),
        log: "info".into(),
        keep_logs: None,
        gateway: gateway::default_binary(&exe_dir),
        gateway_docs: 300,
        gateway_large_docs: 30,
        subscribers: 10_000,
        idle: Duration::from_secs(30),
        client_pings: vec![None],
        broadcast_to: axis_signer::limits::MAX_RECIPIENTS,
        broadcasts: 3,
        settle: broadcast::DEFAULT_SETTLE,
        amqp: peer::DEFAULT_URL.into(),
    };
    let mut quick = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .with_context(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--db" => {
                a.db = match value()?.as_str() {
                    "sqlite" => DbKind::Sqlite,
                    "postgres" => DbKind::Postgres,
                    other => bail!("--db {other}: sqlite or postgres"),
                }
            }
            "--quick" => quick = true,
            "--scenario" => a.scenarios = value()?.split(',').map(String::from).collect(),
            "--reps" => a.reps = value()?.parse()?,
            "--duration" => a.duration = Duration::from_secs_f64(value()?.parse()?),
            "--concurrency" => a.concurrency = value()?.parse()?,
            "--senders" => a.senders = value()?.parse()?,
            "--recipients" => a.recipients = value()?.parse()?,
            "--doc-kb" => a.doc_bytes = value()?.parse::<usize>()? * 1024,
            "--rate" => a.rate = value()?.parse()?,
            "--large-mb" => a.large_mb = value()?.parse()?,
            "--delivery-docs" => a.delivery_docs = value()?.parse()?,
            "--slow-ms" => a.slow_ms = value()?.parse()?,
            "--slow-concurrency" => a.slow_concurrency = value()?.parse()?,
            "--slow-secs" => a.slow_secs = Duration::from_secs_f64(value()?.parse()?),
            "--slow-rate" => a.slow_rate = value()?.parse()?,
            "--units" => a.units = value()?.parse()?,
            "--lookups" => a.lookups = value()?.parse()?,
            "--server" => a.server = value()?.into(),
            "--pg" => a.pg = value()?,
            "--server-log" => a.log = value()?,
            "--keep-logs" => a.keep_logs = Some(value()?.into()),
            "--gateway" => a.gateway = value()?.into(),
            "--gateway-docs" => a.gateway_docs = value()?.parse()?,
            "--gateway-large-docs" => a.gateway_large_docs = value()?.parse()?,
            "--subscribers" => a.subscribers = value()?.parse()?,
            "--idle-secs" => a.idle = Duration::from_secs_f64(value()?.parse()?),
            "--client-ping-secs" => {
                a.client_pings = value()?
                    .split(',')
                    .map(|v| -> Result<Option<Duration>> {
                        let secs: f64 = v.parse()?;
                        Ok((secs > 0.0).then(|| Duration::from_secs_f64(secs)))
                    })
                    .collect::<Result<_>>()?
            }
            "--broadcast-to" => a.broadcast_to = value()?.parse()?,
            "--broadcasts" => a.broadcasts = value()?.parse()?,
            "--settle-secs" => a.settle = Duration::from_secs_f64(value()?.parse()?),
            "--amqp" => a.amqp = value()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown flag {other}\n{USAGE}"),
        }
    }
    if quick {
        a.reps = 1;
        a.duration = a.duration.min(Duration::from_secs(3));
        a.slow_secs = a.slow_secs.min(Duration::from_secs(10));
        a.large_mb = a.large_mb.min(64);
        a.delivery_docs = a.delivery_docs.min(2_000);
        a.gateway_docs = a.gateway_docs.min(50);
        a.gateway_large_docs = a.gateway_large_docs.min(5);
        a.units = a.units.min(10_000);
        a.lookups = a.lookups.min(1_000);
        a.subscribers = a.subscribers.min(500);
        a.idle = a.idle.min(Duration::from_secs(5));
        a.broadcast_to = a.broadcast_to.min(50);
        a.broadcasts = a.broadcasts.min(2);
        a.settle = a.settle.min(Duration::from_secs(5));
    }
    for s in &a.scenarios {
        if ![
            "throughput",
            "peer",
            "latency",
            "delivery",
            "large",
            "slownode",
            "dbfault",
            "fdlimit",
            "gateway",
            "directory",
            "subscribers",
            "broadcast",
        ]
        .contains(&s.as_str())
        {
            bail!("unknown scenario {s}");
        }
        if (s == "slownode" || s == "dbfault") && a.db != DbKind::Postgres {
            bail!("the {s} scenario needs --db postgres (nodes share a PostgreSQL database)");
        }
    }
    if a.senders == 0 || a.recipients == 0 || a.reps == 0 || a.subscribers == 0 {
        bail!("--senders, --recipients, --subscribers and --reps must be at least 1");
    }
    if !(1..=axis_signer::limits::MAX_RECIPIENTS).contains(&a.broadcast_to) {
        bail!(
            "--broadcast-to: 1 to {} (the recipients' limit)",
            axis_signer::limits::MAX_RECIPIENTS
        );
    }
    if !a.server.exists() {
        bail!(
            "no server binary at {} (build it: cargo build --release -p axis-server, or pass --server)",
            a.server.display()
        );
    }
    Ok(a)
}

/// One reported figure: every repetition's value, the median printed.
struct Figure {
    name: String,
    target: String,
    unit: &'static str,
    values: Vec<f64>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    }
}

#[derive(Default)]
struct Report {
    figures: Vec<Figure>,
    notes: Vec<String>,
}

impl Report {
    fn add(&mut self, name: &str, target: &str, unit: &'static str, value: f64) {
        match self.figures.iter_mut().find(|f| f.name == name) {
            Some(f) => f.values.push(value),
            None => self.figures.push(Figure {
                name: name.to_owned(),
                target: target.to_owned(),
                unit,
                values: vec![value],
            }),
        }
    }

    fn note(&mut self, s: String) {
        println!("  {s}");
        self.notes.push(s);
    }

    fn print(&self, args: &Args) {
        println!();
        println!(
            "## {} — medians of {} run(s), server process {} ",
            args.db.name(),
            args.reps,
            args.server.display()
        );
        println!();
        println!("| figure | target | median | runs |");
        println!("| --- | --- | ---: | --- |");
        for f in &self.figures {
            let fmt = |v: f64| {
                if v >= 100.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            };
            let runs: Vec<String> = f.values.iter().map(|v| fmt(*v)).collect();
            println!(
                "| {} | {} | {} {} | {} |",
                f.name,
                f.target,
                fmt(median(&f.values)),
                f.unit,
                runs.join(", ")
            );
        }
        println!();
        for n in &self.notes {
            println!("- {n}");
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Server-side figures around one measured interval.
struct Probe {
    metrics: Metrics,
    server_cpu: f64,
    client_cpu: f64,
    t: Instant,
}

impl Probe {
    async fn start(s: &Server) -> Result<Probe> {
        Ok(Probe {
            metrics: s.metrics().await?,
            server_cpu: s.cpu_seconds(),
            client_cpu: client_cpu_seconds(),
            t: Instant::now(),
        })
    }

    /// Records batch statistics, CPU and memory under `label`.
    async fn finish(self, s: &Server, label: &str, docs: f64, report: &mut Report) -> Result<()> {
        let wall = self.t.elapsed().as_secs_f64();
        let m = s.metrics().await?.since(&self.metrics);
        let server_cpu = s.cpu_seconds() - self.server_cpu;
        let client_cpu = client_cpu_seconds() - self.client_cpu;
        let (hwm, rss) = s.memory_kib()?;
        report.note(format!(
            "{label}: {:.0} commit batches, {:.0} jobs, mean batch {:.1} jobs, mean commit {:.2} ms; \
             server CPU {:.2} s ({:.0}% of one core, {:.0} µs/doc), client CPU {:.2} s ({:.0}%); \
             server VmHWM {:.1} MiB, VmRSS {:.1} MiB; refused {:.0}; load {}",
            m.batches,
            m.jobs,
            m.mean_batch(),
            m.mean_commit_ms(),
            server_cpu,
            100.0 * server_cpu / wall,
            1e6 * server_cpu / docs.max(1.0),
            client_cpu,
            100.0 * client_cpu / wall,
            hwm as f64 / 1024.0,
            rss as f64 / 1024.0,
            m.refused,
            load_average(),
        ));
        report.add(
            &format!("{label}: mean commit batch"),
            "",
            "jobs",
            m.mean_batch(),
        );
        report.add(
            &format!("{label}: server peak RSS"),
            "",
            "MiB",
            hwm as f64 / 1024.0,
        );
        Ok(())
    }
}

struct Bench {
    args: Args,
    pki: Arc<TestPki>,
    certs: Vec<Certs>,
    report: Report,
}

impl Bench {
    async fn server(&self) -> Result<Server> {
        Server::start(
            &self.args.server,
            &self.pki,
            self.args.db,
            &self.args.pg,
            &self.args.log,
        )
        .await
    }

    async fn stop(&self, s: Server, scenario: &str, rep: usize) -> Result<()> {
        let label = format!("{}-{scenario}-{rep}", self.args.db.name());
        s.stop(self.args.keep_logs.as_deref().map(|d| (d, label.as_str())))
            .await
    }

    fn seal(&self, n: usize, what: &str) -> Result<Arc<Vec<Doc>>> {
        let t = Instant::now();
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let docs = corpus::small_docs(
            &self.pki,
            &self.certs,
            self.args.senders,
            self.args.recipients,
            n,
            self.args.doc_bytes,
            threads,
        )?;
        println!(
            "sealed {n} {what} documents of {} KB ({} B of ciphertext each) in {:.1} s",
            self.args.doc_bytes / 1024,
            docs.first().map_or(0, |d| d.ciphertext.len()),
            t.elapsed().as_secs_f64()
        );
        Ok(Arc::new(docs))
    }

    async fn warm_up(&self, clients: &[load::Client], warm: &Arc<Vec<Doc>>) -> Result<()> {
        load::closed_loop(clients, warm.clone(), 16, Duration::from_secs(30))
            .await?
            .all_accepted()?;
        Ok(())
    }

    async fn throughput(&mut self, docs: &Arc<Vec<Doc>>, warm: &Arc<Vec<Doc>>) -> Result<()> {
        let c = self.args.concurrency;
        for rep in 1..=self.args.reps {
            let s = self.server().await?;
            let clients = load::clients(s.addr, &self.pki).await?;
            self.warm_up(&clients, warm).await?;
            println!(
                "throughput run {rep}: {c} concurrent submit streams, load {}",
                load_average()
            );
            let probe = Probe::start(&s).await?;
            let run = load::closed_loop(&clients, docs.clone(), c, self.args.duration)
                .await?
                .all_accepted()?;
            let label = format!("throughput (C={c})");
            probe
                .finish(&s, &label, run.done as f64, &mut self.report)
                .await?;
            println!(
                "  {} documents in {:.1} s: {:.0} accepted/s, p50 {:.1} ms, p99 {:.1} ms",
                run.done,
                run.elapsed.as_secs_f64(),
                run.rate(),
                ms(quantile(&run.latencies, 0.5)),
                ms(quantile(&run.latencies, 0.99))
            );
            self.report.add(
                &format!(
                    "accepted {} KB documents/s, durable, C={c}",
                    self.args.doc_bytes / 1024
                ),
                "≥ 3,000",
                "/s",
                run.rate(),
            );
            self.report.add(
                &format!("{label}: p50 submit"),
                "",
                "ms",
                ms(quantile(&run.latencies, 0.5)),
            );
            self.report.add(
                &format!("{label}: p99 submit"),
                "",
                "ms",
                ms(quantile(&run.latencies, 0.99)),
            );
            drop(clients);
            self.stop(s, "throughput", rep).await?;
        }
        Ok(())
    }

    async fn latency(&mut self, docs: &Arc<Vec<Doc>>, warm: &Arc<Vec<Doc>>) -> Result<()> {
        let rate = self.args.rate;
        for rep in 1..=self.args.reps {
            let s = self.server().await?;
            let clients = load::clients(s.addr, &self.pki).await?;
            self.warm_up(&clients, warm).await?;
            println!(
                "latency run {rep}: open loop at {rate}/s, load {}",
                load_average()
            );
            let probe = Probe::start(&s).await?;
            let run = load::open_loop(&clients, docs.clone(), rate, self.args.duration).await?;
            let label = format!("open loop {rate}/s");
            probe
                .finish(&s, &label, run.done as f64, &mut self.report)
                .await?;
            let (p50, p99, p999) = (
                quantile(&run.latencies, 0.5),
                quantile(&run.latencies, 0.99),
                quantile(&run.latencies, 0.999),
            );
            println!(
                "  {} documents in {:.1} s ({:.0}/s achieved): p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
                run.done,
                run.elapsed.as_secs_f64(),
                run.rate(),
                ms(p50),
                ms(p99),
                ms(p999),
                ms(run.latencies.last().copied().unwrap_or_default())
            );
            self.report.add(
                &format!("p50 submit latency at {rate}/s"),
                "",
                "ms",
                ms(p50),
            );
            self.report.add(
                &format!("p99 submit latency at {rate}/s"),
                "< 20",
                "ms",
                ms(p99),
            );
            self.report.add(
                &format!("p99.9 submit latency at {rate}/s"),
                "",
                "ms",
                ms(p999),
            );
            drop(clients);
            self.stop(s, "latency", rep).await?;
        }
        Ok(())
    }

    async fn delivery(&mut self, docs: &Arc<Vec<Doc>>, warm: &Arc<Vec<Doc>>) -> Result<()> {
        let c = self.args.concurrency;
        let n = self.args.delivery_docs.min(docs.len());
        let docs = Arc::new(docs.iter().take(n).map(clone_doc).collect::<Vec<_>>());
        let recipients = self.args.senders..self.args.senders + self.args.recipients;
        for rep in 1..=self.args.reps {
            let s = self.server().await?;
            let clients = load::clients(s.addr, &self.pki).await?;
            // Warm-up documents are acknowledged too, so they do not stay in the inboxes.
            let wr = load::deliver_and_receipt(&clients, warm.clone(), recipients.clone(), 16, 4);
            wr.await?;
            println!(
                "delivery run {rep}: {n} documents, {c} submit streams, load {}",
                load_average()
            );
            let probe = Probe::start(&s).await?;
            let run = load::deliver_and_receipt(
                &clients,
                docs.clone(),
                recipients.clone(),
                c,
                self.args.per_recipient,
            )
            .await?;
            probe
                .finish(&s, "delivery", 2.0 * run.done as f64, &mut self.report)
                .await?;
            let rate = run.done as f64 / run.elapsed.as_secs_f64();
            println!(
                "  {} documents submitted ({:.0}/s), delivered, fetched and receipted in {:.1} s: {:.0} docs/s; submit→01 p50 {:.1} ms, p99 {:.1} ms",
                run.done,
                run.submit_rate,
                run.elapsed.as_secs_f64(),
                rate,
                ms(quantile(&run.latencies, 0.5)),
                ms(quantile(&run.latencies, 0.99)),
            );
            self.report.add(
                "delivered-and-receipted documents/s (submit → fetch → 01 logged)",
                "",
                "/s",
                rate,
            );
            self.report.add(
                "delivery: submit → 01 logged p50",
                "",
                "ms",
                ms(quantile(&run.latencies, 0.5)),
            );
            self.report.add(
                "delivery: submit → 01 logged p99",
                "",
                "ms",
                ms(quantile(&run.latencies, 0.99)),
            );
            drop(clients);
            self.stop(s, "delivery", rep).await?;
        }
        Ok(())
    }

    async fn large(&mut self) -> Result<()> {
        let mb = self.args.large_mb;
        let tmp = tempfile::Builder::new()
            .prefix("axis-bench-large-")
            .tempdir()?;
        let path = tmp.path().join("sealed.bin");
        let t = Instant::now();
        let doc = corpus::large_doc(&self.pki, &self.certs, mb * 1024 * 1024, &path)?;
        println!(
            "sealed a {mb} MiB document into {} ({} bytes of ciphertext) in {:.1} s",
            path.display(),
            doc.ciphertext_len,
            t.elapsed().as_secs_f64()
        );
        let size_mb = doc.ciphertext_len as f64 / 1e6;
        for rep in 1..=self.args.reps {
            let s = self.server().await?;
            let clients = load::clients(s.addr, &self.pki).await?;
            println!("large run {rep}: load {}", load_average());
            let probe = Probe::start(&s).await?;
            let up = load::submit_large(&clients[doc.sender], &doc, &path, 1024 * 1024).await?;
            let (hwm_in, _) = s.memory_kib()?;
            let down = load::fetch_large(&clients[doc.recipient], &doc).await?;
            probe
                .finish(&s, &format!("large {mb} MiB"), 1.0, &mut self.report)
                .await?;
            println!(
                "  in: {:.1} s, {:.0} MB/s (server VmHWM after upload {:.1} MiB); out: {:.1} s, {:.0} MB/s",
                up.as_secs_f64(),
                size_mb / up.as_secs_f64(),
                hwm_in as f64 / 1024.0,
                down.as_secs_f64(),
                size_mb / down.as_secs_f64()
            );
            self.report.add(
                &format!("{mb} MiB document in (submit, durable)"),
                "≥ 300",
                "MB/s",
                size_mb / up.as_secs_f64(),
            );
            self.report.add(
                &format!("{mb} MiB document out (fetch)"),
                "≥ 300",
                "MB/s",
                size_mb / down.as_secs_f64(),
            );
            drop(clients);
            self.stop(s, "large", rep).await?;
        }
        Ok(())
    }
}

/// The `host:port` of a PostgreSQL URL.
fn pg_addr(url: &str) -> Result<std::net::SocketAddr> {
    let host = url
        .split_once('@')
        .map_or(url, |(_, h)| h)
        .trim_start_matches("postgres://")
        .split('/')
        .next()
        .unwrap_or_default();
    std::net::ToSocketAddrs::to_socket_addrs(host)?
        .next()
        .with_context(|| format!("no address for {host}"))
}

impl Bench {
    /// Two nodes on one PostgreSQL database; node 2 reaches it through the fault proxy with
    /// `--slow-ms` added in each direction (a slow link, not a cut one: its deadlines and
    /// readiness allow for it). Node 1's closed-loop throughput for `--slow-secs` alone, and for
    /// `--slow-secs` while node 2 submits too; the two phases alternate in order from one
    /// repetition to the next.
    ///
    /// A submission over the slow link takes ~17 of its round trips, so node 2's streams start
    /// spread over that time (or they stay in step and its committer idles between bursts), and
    /// node 1's window opens only once node 2 has committed: from then on node 2's committer
    /// races node 1's, takes turns, and holds node 1 up for the whole window. Node 2 goes on
    /// until the window has closed.
    async fn slow_node(&mut self, docs: &Arc<Vec<Doc>>, warm: &Arc<Vec<Doc>>) -> Result<()> {
        let (c, c2, window) = (
            self.args.concurrency,
            self.args.slow_concurrency,
            self.args.slow_secs,
        );
        let delay = Duration::from_millis(self.args.slow_ms);
        // Node 1's two phases and node 2 each get documents of their own (message ids are
        // idempotency keys: a document submitted again is a cheap repeat).
        let n2 = slow_node2_docs(c2).min(docs.len() / 4);
        let per = (docs.len() - n2) / 2;
        let slice =
            |r: std::ops::Range<usize>| Arc::new(docs[r].iter().map(clone_doc).collect::<Vec<_>>());
        let (alone_docs, with_docs, slow_docs) = (
            slice(0..per),
            slice(per..2 * per),
            slice(2 * per..2 * per + n2),
        );
        let stagger = delay * 2 * 17 / c2.max(1) as u32;
        let extra = "[database]\nstatement_timeout_ms = 120000\nacquire_timeout_ms = 120000\n\
                     [health]\nprobe_timeout_ms = 30000\ncommit_stall_secs = 300\n";
        for rep in 1..=self.args.reps {
            let s1 = self.server().await?;
            let pg = pg_addr(&s1.url)?;
            let proxy = axis_tests::fault_proxy::FaultProxy::start(pg).await?;
            let url2 = s1.url.replace(&pg.to_string(), &proxy.addr().to_string());
            if !url2.contains(&proxy.addr().to_string()) {
                bail!("{} does not name {pg}", s1.url);
            }
            let s2 =
                Server::join(&self.args.server, &self.pki, &url2, &self.args.log, extra).await?;
            let clients1 = load::clients(s1.addr, &self.pki).await?;
            let clients2 = load::clients(s2.addr, &self.pki).await?;
            self.warm_up(&clients1, warm).await?;
            proxy.set(axis_tests::fault_proxy::Fault::Delay(delay));
            let alone_first = rep % 2 == 1;
            let mut rates = (0.0, 0.0);
            for phase in 0..2 {
                let alone = (phase == 0) == alone_first;
                if alone {
                    println!(
                        "slownode run {rep}: node 1 alone, {c} streams, {} s, load {}",
                        window.as_secs_f64(),
                        load_average()
                    );
                    let m1 = s1.metrics().await?;
                    let run = load::closed_loop(&clients1, alone_docs.clone(), c, window).await?;
                    let m1 = s1.metrics().await?.since(&m1);
                    rates.0 = run.rate();
                    println!(
                        "  node 1: {} documents in {:.1} s, {:.0}/s; {} failed; node 1 polled \
                         {:.0} times for node 2's turn; load {}",
                        run.done,
                        run.elapsed.as_secs_f64(),
                        run.rate(),
                        run.failed,
                        m1.turn_waits,
                        load_average()
                    );
                    if let Some(e) = &run.first_error {
                        println!("  node 1's first failed submission: {e}");
                    }
                    ran_out(&run, &alone_docs, window);
                    self.report.add(
                        "slownode: node 1 submissions failed alone",
                        "0",
                        "",
                        run.failed as f64,
                    );
                    continue;
                }
                // Node 2 first, until it has committed; then node 1's window.
                println!(
                    "slownode run {rep}: node 2 (+{} ms each way, {c2} streams started {:.1} s \
                     apart) until it commits, load {}",
                    delay.as_millis(),
                    stagger.as_secs_f64(),
                    load_average()
                );
                let until = load::Until {
                    stagger,
                    ..load::Until::default()
                };
                let node2 = {
                    let (clients2, slow_docs, until) =
                        (clients2.clone(), slow_docs.clone(), until.clone());
                    tokio::spawn(async move {
                        load::closed_loop_until(&clients2, slow_docs, c2, until).await
                    })
                };
                let lead = Instant::now();
                while until.accepted.load(std::sync::atomic::Ordering::Relaxed) == 0
                    || lead.elapsed() < stagger * c2 as u32
                {
                    if lead.elapsed() > Duration::from_secs(600) || node2.is_finished() {
                        bail!("node 2 committed nothing in {:?}", lead.elapsed());
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                println!(
                    "  node 2's first commit after {:.1} s; node 1: {c} streams, {} s, load {}",
                    lead.elapsed().as_secs_f64(),
                    window.as_secs_f64(),
                    load_average()
                );
                let (m1, m2) = (s1.metrics().await?, s2.metrics().await?);
                let run = load::closed_loop(&clients1, with_docs.clone(), c, window).await?;
                let (m1, m2) = (
                    s1.metrics().await?.since(&m1),
                    s2.metrics().await?.since(&m2),
                );
                let load_end = load_average();
                until.stop.store(true, std::sync::atomic::Ordering::Relaxed);
                let slow = node2.await??;
                rates.1 = run.rate();
                ran_out(&run, &with_docs, window);
                println!(
                    "  node 1: {} documents in {:.1} s, {:.0}/s; in that window node 2 committed \
                     {:.0} documents in {:.0} batches, lost {:.0} races and took {:.0} turns; \
                     node 1 lost {:.0} races and polled {:.0} times for node 2's turn (≤ {:.1} s \
                     of waiting); load {load_end}",
                    run.done,
                    run.elapsed.as_secs_f64(),
                    run.rate(),
                    m2.accepted,
                    m2.batches,
                    m2.conflicts,
                    m2.turns,
                    m1.conflicts,
                    m1.turn_waits,
                    m1.turn_waits * 0.010,
                );
                println!(
                    "  node 2 overall: {} documents in {:.1} s, submit p50 {:.1} s; failed \
                     submissions: node 1 {}, node 2 {}",
                    slow.done,
                    slow.elapsed.as_secs_f64(),
                    quantile(&slow.latencies, 0.5).as_secs_f64(),
                    run.failed,
                    slow.failed,
                );
                for (node, r) in [(1, &run), (2, &slow)] {
                    if let Some(e) = &r.first_error {
                        println!("  node {node}'s first failed submission: {e}");
                    }
                }
                self.report.add(
                    "slownode: node 1 submissions failed while node 2 submits",
                    "0",
                    "",
                    run.failed as f64,
                );
                self.report.add(
                    "slownode: node 2 documents committed in node 1's window",
                    "",
                    "",
                    m2.accepted,
                );
                self.report.add(
                    "slownode: node 2 turns taken in node 1's window",
                    "",
                    "",
                    m2.turns,
                );
                self.report.add(
                    "slownode: node 1's polls for node 2's turn (10 ms each at most)",
                    "",
                    "",
                    m1.turn_waits,
                );
            }
            let ratio = rates.1 / rates.0;
            println!("  node 1 keeps {:.1} % of its throughput", 100.0 * ratio);
            self.report
                .add("slownode: node 1 accepted/s alone", "", "/s", rates.0);
            self.report.add(
                "slownode: node 1 accepted/s while node 2 submits over its slow link",
                "",
                "/s",
                rates.1,
            );
            self.report
                .add("slownode: node 1 with / alone", "≥ 80", "%", 100.0 * ratio);
            drop((clients1, clients2));
            let label = format!("{}-slownode-{rep}-node2", self.args.db.name());
            s2.stop(self.args.keep_logs.as_deref().map(|d| (d, label.as_str())))
                .await?;
            drop(proxy);
            self.stop(s1, "slownode", rep).await?;
        }
        Ok(())
    }
}

/// Node 2's documents in `slownode`: far more than its streams commit over a slow link.
fn slow_node2_docs(streams: usize) -> usize {
    64 * streams
}

/// Says so if a closed loop ran out of documents before its window closed (its rate stands,
/// over a shorter window: seal more with `--slow-rate`).
fn ran_out(run: &load::SubmitRun, docs: &[Doc], window: Duration) {
    if run.done + run.failed >= docs.len() && run.elapsed < window {
        println!(
            "  (ran out of its {} documents after {:.1} s of {:.0}: raise --slow-rate)",
            docs.len(),
            run.elapsed.as_secs_f64(),
            window.as_secs_f64()
        );
    }
}

fn clone_doc(d: &Doc) -> Doc {
    Doc {
        sender: d.sender,
        recipient: d.recipient,
        message_id: d.message_id.clone(),
        begin: d.begin.clone(),
        ciphertext: d.ciphertext.clone(),
        ack: d.ack.clone(),
    }
}

/// A throw-away PKI with `n` agencies. The harness's own ids repeat past 31 agencies
/// (`agency_id(31)` is `agency_id(1)`), so agencies after the first two get ids of their own.
fn bench_pki(n: usize) -> Result<TestPki> {
    let mut pki = TestPki::new(n.min(2));
    for i in 2..n {
        let id = format!("000.00.{:02}.H{:02}", 50 + i / 80, 10 + i % 80);
        let a = pki
            .pki
            .agency(
                &id,
                &format!("Cơ quan {i}"),
                &format!("Người ký {i}"),
                "Chánh Văn phòng",
            )
            .with_context(|| format!("agency {id}"))?;
        pki.agencies.push(a);
    }
    Ok(pki)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    println!(
        "axis-bench: {} — {} senders, {} recipients, scenarios {:?}, {} rep(s); {} cores, load {}",
        args.db.name(),
        args.senders,
        args.recipients,
        args.scenarios,
        args.reps,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let t = Instant::now();
    let pki = Arc::new(bench_pki(args.senders + args.recipients)?);
    let certs = Certs::of(&pki);
    println!(
        "PKI with {} agencies in {:.1} s",
        pki.agencies.len(),
        t.elapsed().as_secs_f64()
    );
    let mut bench = Bench {
        args,
        pki,
        certs,
        report: Report::default(),
    };
    let has = |s: &str| bench.args.scenarios.iter().any(|x| x == s);
    let dir = has("directory");
    let (subs, bcast) = (has("subscribers"), has("broadcast"));
    let (dbf, fdl) = (has("dbfault"), has("fdlimit"));
    let peer = has("peer");
    let (thr, lat, del, large, slow, gw) = (
        has("throughput"),
        has("latency"),
        has("delivery"),
        has("large"),
        has("slownode"),
        has("gateway"),
    );
    if thr || peer || lat || del || slow || dbf {
        let secs = bench.args.duration.as_secs_f64();
        // Enough for the open loop, and for the closed loop at up to 5,000/s.
        let mut n = (bench.args.rate * secs) as usize;
        if thr || peer {
            n = n.max((5000.0 * secs) as usize);
        }
        if del {
            n = n.max(bench.args.delivery_docs);
        }
        if slow {
            // Two phases of node 1 at up to `--slow-rate`, and node 2's.
            let node1 = bench.args.slow_rate * bench.args.slow_secs.as_secs_f64();
            n = n.max(2 * node1 as usize + slow_node2_docs(bench.args.slow_concurrency));
        }
        if dbf {
            n = n.max(20_000);
        }
        let warm = bench.seal(200, "warm-up")?;
        let docs = bench.seal(n, "measured")?;
        if thr {
            bench.throughput(&docs, &warm).await?;
        }
        if peer {
            bench.peer(&docs).await?;
        }
        if lat {
            bench.latency(&docs, &warm).await?;
        }
        if del {
            bench.delivery(&docs, &warm).await?;
        }
        if slow {
            bench.slow_node(&docs, &warm).await?;
        }
        if dbf {
            bench.db_fault(&docs, &warm).await?;
        }
    }
    if fdl {
        bench.fd_limit().await?;
    }
    if large {
        bench.large().await?;
    }
    if gw {
        if !bench.args.gateway.exists() {
            bail!(
                "no gateway binary at {} (cargo build --release -p axis-gateway, or pass --gateway)",
                bench.args.gateway.display()
            );
        }
        let bin = bench.args.gateway.clone();
        let sizes = [
            (10 * 1024, bench.args.gateway_docs),
            (1024 * 1024, bench.args.gateway_large_docs),
        ];
        bench.gateway(&bin, &sizes).await?;
    }
    if dir {
        bench.directory().await?;
    }
    if subs {
        bench.subscribers().await?;
    }
    if bcast {
        bench.broadcast().await?;
    }
    bench.report.print(&bench.args);
    Ok(())
}
