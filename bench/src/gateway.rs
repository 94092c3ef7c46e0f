//! Scenario `gateway`: documents/s through gateway → axis → gateway, against the axis's own
//! delivery of the same documents in the same run.
//!
//! Each repetition and document size gets a fresh axis (the release `axis-server`, as in every
//! scenario) and two fresh release `axis-gateway` processes, for G22 and H41, on SQLite stores
//! of their own. Then, one after the other:
//!
//! 1. **the axis alone**, before the gateways start: `n` documents of the same size to one
//!    recipient (agency 3, which has no gateway; from agencies 0–2), sealed before timing,
//!    submitted by as many streams as the DMS has connections while the recipient subscribes,
//!    fetches each and logs its 01 (the `delivery` scenario with one recipient);
//! 2. **VXP path**: G22's DMS posts `n` edXML packages (`sendEdoc`, raw body, HMAC headers)
//!    from `concurrency` connections; gateway G22 checks, seals, keeps and submits each;
//!    gateway H41 fetches, verifies, decrypts and stores it and logs its 01;
//! 3. **JSON path**: the same through `POST /api/v1/documents`.
//!
//! A path's time runs from its first post to the moment H41's mailbox holds all `n` and its
//! gateway has no 01 pending. The figures are docs/s, the ratio to the axis alone, and each
//! gateway's peak RSS (`VmHWM`) after both paths.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_edxml::{Collect, Package};
use axis_tests::gateway::write_gateway_config;
use axis_tests::json_client::JsonClient;
use axis_tests::vxp_client::{Body, VxpClient};

use crate::server::{Server, cpu_seconds_of, free_port};
use crate::{Bench, load, load_average};

/// The sender's and recipient's indexes in the PKI (G22 and H41).
const FROM: usize = 0;
const TO: usize = 1;
/// The axis-alone run: documents from agencies 0, 1 and 2 to agency 3, which no gateway reads.
const ALONE_SENDERS: usize = 3;
/// DMS connections posting at once.
const DMS_CONCURRENCY: usize = 8;

/// A gateway process.
struct GatewayProc {
    child: Child,
    addr: SocketAddr,
}

impl GatewayProc {
    /// Starts `binary` for agency `i` against `axis`, in `dir`, and waits for `/healthz`.
    async fn start(
        binary: &Path,
        bench: &Bench,
        i: usize,
        axis: &Server,
        dir: &Path,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let port = free_port()?;
        let path = write_gateway_config(
            dir,
            &bench.pki,
            &bench.pki.agencies[i],
            &[format!("https://{}", axis.addr)],
            &format!("sqlite://{}", dir.join("gateway.db").display()),
            "",
        );
        let text = std::fs::read_to_string(&path)?.replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        );
        std::fs::write(&path, text)?;
        let log = std::fs::File::create(dir.join("gateway.log"))?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(&path)
            .env("AXIS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut g = GatewayProc {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = g.child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("gateway.log")).unwrap_or_default();
                bail!("axis-gateway exited at start ({status}):\n{log}");
            }
            if g.http_get("/healthz")
                .await
                .is_ok_and(|b| b.starts_with("ok"))
            {
                return Ok(g);
            }
            if Instant::now() > deadline {
                bail!("axis-gateway did not come up within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn http_get(&self, path: &str) -> Result<String> {
        // The test kit's client panics on a refused connection: not listening yet is an error.
        drop(tokio::net::TcpStream::connect(self.addr).await?);
        let a = JsonClient::new(self.addr, None).get(path).await;
        if a.status != 200 {
            bail!("GET {path}: HTTP {}", a.status);
        }
        Ok(String::from_utf8_lossy(&a.body).into_owned())
    }

    /// Every sample of `/metrics`, by its name with labels.
    async fn metrics(&self) -> Result<std::collections::HashMap<String, f64>> {
        let text = self.http_get("/metrics").await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (n, v) = l.rsplit_once(' ')?;
                Some((n.to_owned(), v.parse::<f64>().ok()?))
            })
            .collect())
    }

    /// The time spent per stage (`axis_gateway_stage_seconds`): stage → (documents, seconds).
    async fn stages(&self) -> Result<std::collections::BTreeMap<String, (f64, f64)>> {
        let m = self.metrics().await?;
        let mut out = std::collections::BTreeMap::new();
        for (name, v) in &m {
            if let Some(stage) = name
                .strip_prefix("axis_gateway_stage_seconds_sum{stage=\"")
                .and_then(|s| s.strip_suffix("\"}"))
            {
                let n = m
                    .get(&format!(
                        "axis_gateway_stage_seconds_count{{stage=\"{stage}\"}}"
                    ))
                    .copied()
                    .unwrap_or(0.0);
                out.insert(stage.to_owned(), (n, *v));
            }
        }
        Ok(out)
    }

    /// Peak resident memory, in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }

    fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&format!("/proc/{}/stat", self.child.id()))
    }
}

impl Drop for GatewayProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `n` edXML packages G22 → H41, each with its own DocumentId and a `size`-byte attachment,
/// signed with authority by `person` (the JSON path signs with that personal key).
fn packages(
    n: usize,
    size: usize,
    tag: &str,
    person: &axis_pki::VerifiedCert,
) -> Result<Vec<Vec<u8>>> {
    let sample = include_bytes!("../../edxml/tests/data/edoc_new.edxml");
    let mut files = Collect::default();
    let Package::Edoc(mut e) = axis_edxml::parse(sample, &mut files)?.package else {
        bail!("the sample is not an edoc");
    };
    e.header.to.truncate(1);
    e.header.signer_info.full_name = person
        .common_name()
        .context("a personal certificate without a common name")?
        .to_owned();
    e.header.signer_info.position = person.title().unwrap_or_default().to_owned();
    // The PDF becomes `size` bytes of filler, its size and digest in the package with it.
    let body: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let pdf = e
        .attachments
        .first_mut()
        .context("the sample has no attachment")?;
    pdf.size = body.len() as u64;
    pdf.sha256
        .copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &body).as_ref());
    (0..n)
        .map(|i| {
            let mut e = e.clone();
            let number = format!("{tag}{i}");
            e.header.document_id = e.header.document_id.replace("7816", &number);
            e.header.code.code_number = number;
            let mut f = vec![body.clone(), files.0[1].clone()];
            Ok(axis_edxml::edoc_to_vec(&e, &mut f)?)
        })
        .collect()
}

/// Posts `docs` from `DMS_CONCURRENCY` connections through `send`.
async fn post_all<F, Fut>(docs: Arc<Vec<Vec<u8>>>, send: F) -> Result<()>
where
    F: Fn(Arc<Vec<Vec<u8>>>, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..DMS_CONCURRENCY {
        let (docs, next, send) = (docs.clone(), next.clone(), send.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= docs.len() {
                    return Ok::<_, anyhow::Error>(());
                }
                send(docs.clone(), i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Waits until H41's mailbox holds `target` documents and no 01 is pending (one `/metrics`
/// read every 25 ms: the end is seen within 25 ms, and the reads cost the gateway little).
async fn wait_delivered(b: &GatewayProc, target: f64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let m = b.metrics().await?;
        let gauge = |name: &str| m.get(name).copied().unwrap_or(-1.0);
        let have = gauge("axis_gateway_mailbox_documents");
        if have >= target && gauge("axis_gateway_receipts_pending") == 0.0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("H41 has {have} of {target} documents after 600 s");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Prints the mean time per document of each stage between two readings of a gateway's stages.
fn print_stages(
    who: &str,
    before: &std::collections::BTreeMap<String, (f64, f64)>,
    after: &std::collections::BTreeMap<String, (f64, f64)>,
) {
    let mut line = format!("    {who} stages, mean ms per document:");
    for (stage, (n, secs)) in after {
        let (n0, s0) = before.get(stage).copied().unwrap_or((0.0, 0.0));
        if n - n0 > 0.0 {
            line.push_str(&format!(" {stage} {:.1}", 1000.0 * (secs - s0) / (n - n0)));
        }
    }
    println!("{line}");
}

impl Bench {
    /// The `gateway` scenario for 10 KB and `large_kb` documents.
    pub(crate) async fn gateway(
        &mut self,
        gateway_bin: &Path,
        sizes: &[(usize, usize)],
    ) -> Result<()> {
        for &(size, n) in sizes {
            let label = if size >= 1024 * 1024 {
                format!("{} MB", size / (1024 * 1024))
            } else {
                format!("{} KB", size / 1024)
            };
            // Sealed before anything runs, as in every scenario.
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            if self.pki.agencies.len() < ALONE_SENDERS + 1 {
                bail!("the gateway scenario needs at least 4 agencies (--senders + --recipients)");
            }
            let sealed = Arc::new(crate::corpus::small_docs(
                &self.pki,
                &self.certs,
                ALONE_SENDERS,
                1,
                n,
                size,
                threads,
            )?);
            let person = &self.certs[FROM].personal;
            let vxp_docs = Arc::new(packages(n, size, "9", person)?);
            let json_docs = Arc::new(packages(n, size, "8", person)?);
            for rep in 1..=self.args.reps {
                let s = self.server().await?;
                println!(
                    "gateway {label} run {rep}: {n} documents G22 → H41, {DMS_CONCURRENCY} connections, load {}",
                    load_average()
                );

                // 1. The axis alone.
                let clients = load::clients(s.addr, &self.pki).await?;
                let cpu_alone = (s.cpu_seconds(), cpu_seconds_of("/proc/self/stat"));
                let run = load::deliver_and_receipt(
                    &clients,
                    sealed.clone(),
                    ALONE_SENDERS..ALONE_SENDERS + 1,
                    DMS_CONCURRENCY,
                    self.args.per_recipient,
                )
                .await?;
                drop(clients);
                let axis_rate = run.done as f64 / run.elapsed.as_secs_f64();
                // CPU per document: the axis, and the bench's clients (sealed beforehand).
                let per_doc = |secs: f64| 1000.0 * secs / run.done.max(1) as f64;
                println!(
                    "  axis alone: {axis_rate:.1} docs/s (submit → fetch → 01 logged); CPU axis {:.1} ms/doc, clients {:.1} ms/doc",
                    per_doc(s.cpu_seconds() - cpu_alone.0),
                    per_doc(cpu_seconds_of("/proc/self/stat") - cpu_alone.1),
                );
                self.report.add(
                    &format!("gateway {label}: the axis alone, docs/s (submit → fetch → 01)"),
                    "",
                    "/s",
                    axis_rate,
                );

                // 2. and 3. Through the gateways.
                let dir = tempfile::Builder::new()
                    .prefix("axis-bench-gw-")
                    .tempdir()?;
                let a = GatewayProc::start(gateway_bin, self, FROM, &s, &dir.path().join("g22"))
                    .await?;
                let b =
                    GatewayProc::start(gateway_bin, self, TO, &s, &dir.path().join("h41")).await?;
                let mut delivered = 0.0;
                for path in ["VXP", "JSON"] {
                    let stages = (a.stages().await?, b.stages().await?);
                    let cpu = (a.cpu_seconds(), b.cpu_seconds(), s.cpu_seconds());
                    let t = Instant::now();
                    match path {
                        "VXP" => {
                            let dms = VxpClient::new(
                                a.addr,
                                axis_tests::gateway::SYSTEM,
                                axis_tests::gateway::SECRET,
                            );
                            post_all(vxp_docs.clone(), move |docs, i| {
                                let dms = dms.clone();
                                async move {
                                    let r = dms
                                        .send_edoc("000.00.00.G22", "edoc", &docs[i], Body::Raw)
                                        .await;
                                    if r.error_code() != "0" {
                                        bail!("sendEdoc: {}", String::from_utf8_lossy(&r.body));
                                    }
                                    Ok(())
                                }
                            })
                            .await?;
                        }
                        _ => {
                            let dms = JsonClient::new(a.addr, None);
                            post_all(json_docs.clone(), move |docs, i| {
                                let dms = dms.clone();
                                async move {
                                    let r = dms.send_edxml("/api/v1/documents", &docs[i]).await;
                                    if r.status != 202 {
                                        bail!(
                                            "POST /api/v1/documents: HTTP {} {}",
                                            r.status,
                                            String::from_utf8_lossy(&r.body)
                                        );
                                    }
                                    Ok(())
                                }
                            })
                            .await?;
                        }
                    }
                    let posted = t.elapsed();
                    delivered += n as f64;
                    wait_delivered(&b, delivered).await?;
                    let wall = t.elapsed().as_secs_f64();
                    let rate = n as f64 / wall;
                    let (ca, cb, cs) = (
                        a.cpu_seconds() - cpu.0,
                        b.cpu_seconds() - cpu.1,
                        s.cpu_seconds() - cpu.2,
                    );
                    println!(
                        "  {path}: {rate:.1} docs/s ({:.0} % of the axis alone); all posted in {:.1} s; \
                         CPU G22 {:.1} ms/doc, H41 {:.1} ms/doc, axis {:.1} ms/doc; load {}",
                        100.0 * rate / axis_rate,
                        posted.as_secs_f64(),
                        1000.0 * ca / n as f64,
                        1000.0 * cb / n as f64,
                        1000.0 * cs / n as f64,
                        load_average()
                    );
                    print_stages("G22", &stages.0, &a.stages().await?);
                    print_stages("H41", &stages.1, &b.stages().await?);
                    self.report.add(
                        &format!("gateway {label}: {path} path, docs/s"),
                        "",
                        "/s",
                        rate,
                    );
                    self.report.add(
                        &format!("gateway {label}: {path} path ÷ the axis alone"),
                        "≥ 50 %",
                        "%",
                        100.0 * rate / axis_rate,
                    );
                }
                let (ra, rb) = (a.peak_rss_mib(), b.peak_rss_mib());
                println!("  peak RSS: gateway G22 {ra:.1} MiB, gateway H41 {rb:.1} MiB");
                self.report.add(
                    &format!("gateway {label}: sending gateway peak RSS"),
                    "flat",
                    "MiB",
                    ra,
                );
                self.report.add(
                    &format!("gateway {label}: receiving gateway peak RSS"),
                    "flat",
                    "MiB",
                    rb,
                );
                drop((a, b));
                self.stop(s, "gateway", rep).await?;
            }
        }
        Ok(())
    }
}

/// The `axis-gateway` binary beside the bench's.
pub(crate) fn default_binary(exe_dir: &Path) -> PathBuf {
    exe_dir.join("axis-gateway")
}
