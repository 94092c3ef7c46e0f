//! The client side of each scenario: connections per agency, closed-loop and open-loop submits,
//! recipients that subscribe, fetch and acknowledge, and the large-document stream.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_proto::v1 as pb;
use axis_tests::{TestPki, channel_to};
use tokio::sync::Semaphore;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use super::corpus::{Doc, LargeDoc};

pub(crate) type Client = pb::exchange_client::ExchangeClient<Channel>;

/// One HTTP/2 connection (mTLS) per agency: the caller's identity is the connection's.
pub(crate) async fn clients(addr: std::net::SocketAddr, pki: &TestPki) -> Result<Vec<Client>> {
    let mut out = Vec::with_capacity(pki.agencies.len());
    for a in &pki.agencies {
        let ch = channel_to(addr, pki, &a.tls).await?;
        out.push(
            pb::exchange_client::ExchangeClient::new(ch)
                .max_decoding_message_size(8 * 1024 * 1024)
                .max_encoding_message_size(8 * 1024 * 1024),
        );
    }
    Ok(out)
}

async fn submit(client: &Client, doc: &Doc) -> Result<()> {
    let mut c = client.clone();
    let resp = c
        .submit(tokio_stream::iter(doc.requests(1024 * 1024)))
        .await
        .with_context(|| format!("submitting {}", doc.message_id))?
        .into_inner();
    let receipt = resp.receipt.context("no acceptance receipt")?;
    if receipt.duplicate || receipt.evidence.is_none() {
        bail!(
            "{}: a duplicate or an answer without evidence",
            doc.message_id
        );
    }
    Ok(())
}

/// What a closed- or open-loop run measured.
pub(crate) struct SubmitRun {
    pub(crate) done: usize,
    pub(crate) elapsed: Duration,
    /// Submit latencies, sorted.
    pub(crate) latencies: Vec<Duration>,
    /// Submissions that failed (closed loop: the worker goes on with its next document), and
    /// the first one's error.
    pub(crate) failed: usize,
    pub(crate) first_error: Option<String>,
}

impl SubmitRun {
    pub(crate) fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }

    /// The run, if no submission failed.
    pub(crate) fn all_accepted(self) -> Result<Self> {
        match &self.first_error {
            Some(e) => bail!("{} submission(s) failed, the first: {e}", self.failed),
            None => Ok(self),
        }
    }
}

/// `concurrency` workers submit `docs` back to back (each waits for its receipt before the
/// next), until the documents or `duration` run out.
pub(crate) async fn closed_loop(
    clients: &[Client],
    docs: Arc<Vec<Doc>>,
    concurrency: usize,
    duration: Duration,
) -> Result<SubmitRun> {
    let until = Until {
        duration,
        ..Until::default()
    };
    closed_loop_until(clients, docs, concurrency, until).await
}

/// When a closed loop stops taking new documents, and its receipts so far.
#[derive(Clone)]
pub(crate) struct Until {
    /// Stop after this long.
    pub(crate) duration: Duration,
    /// Stop once this is set (by whoever runs the loop).
    pub(crate) stop: Arc<AtomicBool>,
    /// Documents accepted so far, counted as the receipts come.
    pub(crate) accepted: Arc<AtomicUsize>,
    /// The workers start this far apart (so that their submissions do not stay in step).
    pub(crate) stagger: Duration,
}

impl Default for Until {
    fn default() -> Self {
        Until {
            duration: Duration::MAX,
            stop: Arc::default(),
            accepted: Arc::default(),
            stagger: Duration::ZERO,
        }
    }
}

/// [`closed_loop`], stopping at whichever of `until`'s ends comes first; submissions under way
/// then are waited for.
pub(crate) async fn closed_loop_until(
    clients: &[Client],
    docs: Arc<Vec<Doc>>,
    concurrency: usize,
    until: Until,
) -> Result<SubmitRun> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for k in 0..concurrency {
        let (docs, next, clients, until) =
            (docs.clone(), next.clone(), clients.to_vec(), until.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut failed, mut first) = (Vec::new(), 0, None);
            tokio::time::sleep(until.stagger * k as u32).await;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= docs.len()
                    || start.elapsed() >= until.duration
                    || until.stop.load(Ordering::Relaxed)
                {
                    return (lat, failed, first);
                }
                let doc = &docs[i];
                let t = Instant::now();
                match submit(&clients[doc.sender], doc).await {
                    Ok(()) => {
                        lat.push(t.elapsed());
                        until.accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        failed += 1;
                        first.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
        }));
    }
    let (mut latencies, mut failed, mut first_error) = (Vec::new(), 0, None);
    for t in tasks {
        let (lat, f, first) = t.await?;
        latencies.extend(lat);
        failed += f;
        first_error = first_error.or(first);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(SubmitRun {
        done: latencies.len(),
        elapsed,
        latencies,
        failed,
        first_error,
    })
}

/// Submits at a fixed `rate` (documents per second) for `duration`, whatever the answers do;
/// each latency counts from the document's scheduled send time (no coordinated omission).
pub(crate) async fn open_loop(
    clients: &[Client],
    docs: Arc<Vec<Doc>>,
    rate: f64,
    duration: Duration,
) -> Result<SubmitRun> {
    let n = ((rate * duration.as_secs_f64()) as usize).min(docs.len());
    if n < (rate * duration.as_secs_f64()) as usize {
        bail!("open loop: {n} documents sealed, {rate}/s for {duration:?} needs more");
    }
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let at = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(at).await;
        let (docs, client) = (docs.clone(), clients[docs[i].sender].clone());
        tasks.push(tokio::spawn(async move {
            submit(&client, &docs[i]).await?;
            Ok::<_, anyhow::Error>(at.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for t in tasks {
        latencies.push(t.await??);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    Ok(SubmitRun {
        done: n,
        elapsed,
        latencies,
        failed: 0,
        first_error: None,
    })
}

/// What the delivery run measured.
pub(crate) struct DeliveryRun {
    pub(crate) done: usize,
    /// First submit to the last 01 logged.
    pub(crate) elapsed: Duration,
    /// Submit start to 01 logged, per document, sorted.
    pub(crate) latencies: Vec<Duration>,
    pub(crate) submit_rate: f64,
}

/// Senders submit `docs` with `concurrency` workers while every recipient subscribes, fetches
/// each delivered document and acknowledges it with its 01 (signed in advance).
pub(crate) async fn deliver_and_receipt(
    clients: &[Client],
    docs: Arc<Vec<Doc>>,
    recipients: std::ops::Range<usize>,
    concurrency: usize,
    per_recipient: usize,
) -> Result<DeliveryRun> {
    let index: Arc<HashMap<String, usize>> = Arc::new(
        docs.iter()
            .enumerate()
            .map(|(i, d)| (d.message_id.clone(), i))
            .collect(),
    );
    let sent_at: Arc<Vec<std::sync::OnceLock<Instant>>> = Arc::new(
        (0..docs.len())
            .map(|_| std::sync::OnceLock::new())
            .collect(),
    );
    let expected: HashMap<usize, usize> = docs.iter().fold(HashMap::new(), |mut m, d| {
        *m.entry(d.recipient).or_default() += 1;
        m
    });
    // Recipients first: subscribed before anything is sent.
    let mut receivers = Vec::new();
    for r in recipients {
        let want = expected.get(&r).copied().unwrap_or(0);
        let mut client = clients[r].clone();
        let mut stream = client
            .subscribe(pb::SubscribeRequest {
                after_cursor: String::new(),
            })
            .await?
            .into_inner();
        let (docs, index, sent_at) = (docs.clone(), index.clone(), sent_at.clone());
        receivers.push(tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(per_recipient));
            let mut work = Vec::with_capacity(want);
            let mut seen = 0;
            while seen < want {
                let Some(d) = stream.next().await else {
                    bail!("subscription of recipient {r} ended");
                };
                let d = d?;
                seen += 1;
                let i = *index.get(&d.message_id).context("unknown delivery")?;
                let permit = permits.clone().acquire_owned().await?;
                let (mut c, docs, sent_at) = (client.clone(), docs.clone(), sent_at.clone());
                work.push(tokio::spawn(async move {
                    let _permit = permit;
                    let doc = &docs[i];
                    let mut f = c
                        .fetch(pb::FetchRequest {
                            message_id: doc.message_id.clone(),
                            offset: 0,
                        })
                        .await?
                        .into_inner();
                    let mut got = 0usize;
                    while let Some(m) = f.next().await {
                        got += m?.chunk.len();
                    }
                    if got != doc.ciphertext.len() {
                        bail!("fetched {got} of {} bytes", doc.ciphertext.len());
                    }
                    let ack = c
                        .acknowledge(pb::AcknowledgeRequest {
                            receipt: Some(doc.ack.clone()),
                        })
                        .await?
                        .into_inner();
                    ack.evidence.context("01 without evidence")?;
                    let at = sent_at[i].get().copied().context("delivered before sent")?;
                    Ok::<_, anyhow::Error>((Instant::now(), at.elapsed()))
                }));
            }
            let mut out = Vec::with_capacity(want);
            for w in work {
                out.push(w.await??);
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..concurrency {
        let (docs, next, clients, sent_at) = (
            docs.clone(),
            next.clone(),
            clients.to_vec(),
            sent_at.clone(),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= docs.len() {
                    return Ok::<_, anyhow::Error>(());
                }
                let _ = sent_at[i].set(Instant::now());
                submit(&clients[docs[i].sender], &docs[i]).await?;
            }
        }));
    }
    for s in senders {
        s.await??;
    }
    let submit_rate = docs.len() as f64 / start.elapsed().as_secs_f64();
    let mut last = start;
    let mut latencies = Vec::with_capacity(docs.len());
    for r in receivers {
        for (done, lat) in tokio::time::timeout(Duration::from_secs(300), r)
            .await
            .context("recipients still waiting after 300 s")???
        {
            last = last.max(done);
            latencies.push(lat);
        }
    }
    latencies.sort();
    Ok(DeliveryRun {
        done: latencies.len(),
        elapsed: last - start,
        latencies,
        submit_rate,
    })
}

/// Streams the sealed file in `chunk`-byte messages; returns the time to the receipt.
pub(crate) async fn submit_large(
    client: &Client,
    doc: &LargeDoc,
    path: &Path,
    chunk: usize,
) -> Result<Duration> {
    let (tx, rx) = tokio::sync::mpsc::channel::<pb::SubmitRequest>(4);
    let begin = doc.begin.clone();
    let path = path.to_owned();
    let reader = std::thread::spawn(move || -> Result<()> {
        use std::io::Read;
        let mut f = std::fs::File::open(&path)?;
        if tx
            .blocking_send(pb::SubmitRequest {
                part: Some(pb::submit_request::Part::Begin(begin)),
            })
            .is_err()
        {
            return Ok(());
        }
        loop {
            let mut buf = vec![0u8; chunk];
            let mut n = 0;
            while n < chunk {
                let k = f.read(&mut buf[n..])?;
                if k == 0 {
                    break;
                }
                n += k;
            }
            if n == 0 {
                return Ok(());
            }
            buf.truncate(n);
            if tx
                .blocking_send(pb::SubmitRequest {
                    part: Some(pb::submit_request::Part::Chunk(buf)),
                })
                .is_err()
            {
                return Ok(());
            }
        }
    });
    let t = Instant::now();
    let mut c = client.clone();
    let resp = c
        .submit(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .context("submitting the large document")?
        .into_inner();
    let elapsed = t.elapsed();
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("reader thread"))??;
    let receipt = resp.receipt.context("no acceptance receipt")?;
    if receipt.duplicate {
        bail!("large document answered as a duplicate");
    }
    Ok(elapsed)
}

/// Fetches the whole document, counting bytes; returns the time to the last chunk.
pub(crate) async fn fetch_large(client: &Client, doc: &LargeDoc) -> Result<Duration> {
    let t = Instant::now();
    let mut c = client.clone();
    let mut s = c
        .fetch(pb::FetchRequest {
            message_id: doc.message_id.clone(),
            offset: 0,
        })
        .await?
        .into_inner();
    let mut got = 0u64;
    while let Some(m) = s.next().await {
        got += m?.chunk.len() as u64;
    }
    let elapsed = t.elapsed();
    if got != doc.ciphertext_len {
        bail!("fetched {got} of {} bytes", doc.ciphertext_len);
    }
    Ok(elapsed)
}

/// The `q`-quantile of sorted latencies.
pub(crate) fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}
