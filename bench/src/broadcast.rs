//! The `broadcast` scenario (issues #14 and #18): one sender and `--broadcast-to` recipients
//! (500, the limit, by default), every recipient on its own connection with a Subscribe stream
//! open. One document to a single recipient first (the size of its delivery), then
//! `--broadcasts` documents to all of them, one after the other; for each: the time to seal it
//! (the signer: manifest signatures, content key wrapped for every recipient), to submit it, until
//! every subscriber's stream has yielded it, until every recipient's 01 is logged (each fetches
//! the ciphertext and acknowledges with its own 01, signed in advance), and the sender's
//! verified history of every timeline (the SDK's `history`: every signature, chain, inclusion
//! proof and the signed completeness statement). Also the bytes of one delivery for all
//! recipients against one for a single recipient, and the server's memory idle, 2 s after each
//! broadcast, and settled: `--settle-secs` after the last (by default the server's pooled
//! database connections' idle timeout, twice, plus 10 s), sampled every second meanwhile. Issue
//! #18's target, RSS back within 10 % of idle, is judged on the settled figure.
//!
//! A recipient that never gets a document, gets it twice, or gets one it was not sent, fails the
//! bench; so does a history that is not complete with one 01 per recipient.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_client::Client as Sdk;
use axis_proto::v1 as pb;
use axis_signer::{MessageId, StatusCode};
use axis_testkit::sample::filler;
use prost::Message as _;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::corpus::{Certs, arrived, begin_of, seal_into};
use crate::fleet::{connect_all, fleet_pki, raise_descriptor_limit, register_all};
use crate::server::Server;
use crate::{Bench, load_average, ms};

/// What a recipient reports about one document.
enum Event {
    /// Its stream yielded the document (the Delivery message's encoded size).
    Pushed {
        who: usize,
        message_id: String,
        at: Instant,
        bytes: usize,
    },
    /// Its 01 is logged.
    Acknowledged {
        who: usize,
        at: Instant,
    },
    Failed(String),
}

/// A document ready to submit, with each recipient's 01 by recipient index.
struct Outgoing {
    id: MessageId,
    message_id: String,
    requests: Vec<pb::SubmitRequest>,
    acks: HashMap<usize, pb::SignedStatement>,
    ciphertext_len: usize,
}

type Acks = Arc<Mutex<HashMap<String, Arc<Outgoing>>>>;

/// How long after the last broadcast the settled RSS is read: the server's default
/// `[database] idle_secs` (30 s; an idle pooled connection is closed within twice that) twice,
/// plus 10 s for the allocator to return what they held.
pub(crate) const DEFAULT_SETTLE: Duration = Duration::from_secs(2 * 30 + 10);

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Seals `plain` from agency 0 to every agency of `to` (timed), then signs each recipient's 01.
fn prepare(
    pki: &axis_tests::TestPki,
    certs: &[Certs],
    to: &[usize],
    plain: &[u8],
) -> Result<(Outgoing, Duration, Duration)> {
    let t = Instant::now();
    let mut ciphertext = Vec::with_capacity(plain.len() + plain.len() / 2 + 4096);
    let (document, sealed) = seal_into(
        pki,
        certs,
        0,
        to,
        |f| f(plain),
        |d| {
            ciphertext.extend_from_slice(d);
            Ok(())
        },
    )?;
    let seal = t.elapsed();
    let t = Instant::now();
    let acks = to
        .iter()
        .map(|&r| Ok((r, arrived(pki, certs, r, &document, &sealed)?)))
        .collect::<Result<HashMap<_, _>>>()?;
    let sign_acks = t.elapsed();
    let begin = begin_of(&sealed);
    let mut requests = vec![pb::SubmitRequest {
        part: Some(pb::submit_request::Part::Begin(begin)),
    }];
    requests.extend(ciphertext.chunks(1024 * 1024).map(|c| pb::SubmitRequest {
        part: Some(pb::submit_request::Part::Chunk(c.to_vec())),
    }));
    Ok((
        Outgoing {
            id: sealed.submission.header().header().message_id,
            message_id: sealed.submission.header().header().message_id.to_string(),
            requests,
            acks,
            ciphertext_len: ciphertext.len(),
        },
        seal,
        sign_acks,
    ))
}

/// Recipient `who`'s subscriber: on each push, reports it, fetches the ciphertext and
/// acknowledges with its 01.
fn subscriber(
    who: usize,
    client: pb::exchange_client::ExchangeClient<tonic::transport::Channel>,
    mut stream: tonic::Streaming<pb::Delivery>,
    out: Arc<Acks>,
    events: mpsc::UnboundedSender<Event>,
) {
    tokio::spawn(async move {
        while let Some(d) = stream.next().await {
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    let _ = events.send(Event::Failed(format!("recipient {who}: {e}")));
                    return;
                }
            };
            let _ = events.send(Event::Pushed {
                who,
                message_id: d.message_id.clone(),
                at: Instant::now(),
                bytes: d.encoded_len(),
            });
            let doc = out
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&d.message_id)
                .cloned();
            let Some(doc) = doc else {
                let _ = events.send(Event::Failed(format!(
                    "recipient {who}: {} was never sent",
                    d.message_id
                )));
                continue;
            };
            let (mut c, events) = (client.clone(), events.clone());
            tokio::spawn(async move {
                let r = async {
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
                    if got != doc.ciphertext_len {
                        bail!("fetched {got} of {} bytes", doc.ciphertext_len);
                    }
                    let ack = doc.acks.get(&who).context("no 01 for this recipient")?;
                    c.acknowledge(pb::AcknowledgeRequest {
                        receipt: Some(ack.clone()),
                    })
                    .await?
                    .into_inner()
                    .evidence
                    .context("01 without evidence")?;
                    Ok(())
                }
                .await;
                let _ = events.send(match r {
                    Ok(()) => Event::Acknowledged {
                        who,
                        at: Instant::now(),
                    },
                    Err(e) => Event::Failed(format!("recipient {who}: {e:#}")),
                });
            });
        }
        let _ = client;
    });
}

/// What one document's delivery took, from the submit's start.
struct Delivered {
    submit: Duration,
    all_pushed: Duration,
    all_acknowledged: Duration,
    delivery_bytes: usize,
}

/// Submits `doc` and waits until each of `to` has it pushed exactly once and its 01 logged.
async fn deliver(
    sender: &mut pb::exchange_client::ExchangeClient<tonic::transport::Channel>,
    doc: Arc<Outgoing>,
    to: &[usize],
    out: &Acks,
    events: &mut mpsc::UnboundedReceiver<Event>,
) -> Result<Delivered> {
    out.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(doc.message_id.clone(), doc.clone());
    let start = Instant::now();
    let r = sender
        .submit(tokio_stream::iter(doc.requests.clone()))
        .await
        .context("submitting")?
        .into_inner()
        .receipt
        .context("no acceptance receipt")?;
    let submit = start.elapsed();
    if r.duplicate || r.evidence.is_none() {
        bail!("a duplicate or an answer without evidence");
    }
    let mut pushed: HashMap<usize, Instant> = HashMap::new();
    let mut acked: HashMap<usize, Instant> = HashMap::new();
    let mut sizes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while acked.len() < to.len() {
        let e = tokio::time::timeout_at(deadline, events.recv())
            .await
            .with_context(|| {
                format!(
                    "after 120 s: {} of {} recipients pushed, {} acknowledged",
                    pushed.len(),
                    to.len(),
                    acked.len()
                )
            })?
            .context("every subscriber ended")?;
        match e {
            Event::Pushed {
                who,
                message_id,
                at,
                bytes,
            } => {
                if message_id != doc.message_id || !to.contains(&who) {
                    bail!("recipient {who} was pushed {message_id}, not sent to it now");
                }
                if pushed.insert(who, at).is_some() {
                    bail!("recipient {who} was pushed {message_id} twice");
                }
                sizes.push(bytes);
            }
            Event::Acknowledged { who, at } => {
                if acked.insert(who, at).is_some() {
                    bail!("recipient {who} acknowledged twice");
                }
            }
            Event::Failed(e) => bail!("{e}"),
        }
    }
    // A late duplicate push would come right after: give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    if let Ok(e) = events.try_recv() {
        bail!(
            "{}",
            match e {
                Event::Pushed {
                    who, message_id, ..
                } => format!("recipient {who} was pushed {message_id} again"),
                Event::Acknowledged { who, .. } => format!("recipient {who} acknowledged again"),
                Event::Failed(e) => e,
            }
        );
    }
    // Deliveries of one document differ by a few bytes (each recipient's own key-envelope
    // entry and audit path): the largest is reported.
    sizes.sort_unstable();
    let last =
        |m: &HashMap<usize, Instant>| m.values().max().map_or(Duration::ZERO, |t| *t - start);
    Ok(Delivered {
        submit,
        all_pushed: last(&pushed),
        all_acknowledged: last(&acked),
        delivery_bytes: sizes.last().copied().unwrap_or(0),
    })
}

impl Bench {
    pub(crate) async fn broadcast(&mut self) -> Result<()> {
        let n = self.args.broadcast_to;
        raise_descriptor_limit((n + 512) as u64)?;
        let t = Instant::now();
        let pki = Arc::new(fleet_pki(1 + n)?);
        let certs = Certs::of(&pki);
        println!(
            "PKI with {} agencies in {:.1} s",
            pki.agencies.len(),
            t.elapsed().as_secs_f64()
        );
        let plain = filler(13, self.args.doc_bytes);
        let to: Vec<usize> = (1..=n).collect();
        for rep in 1..=self.args.reps {
            let s = Server::start_unregistered(
                &self.args.server,
                &pki,
                self.args.db,
                &self.args.pg,
                &self.args.log,
                "",
            )
            .await?;
            println!(
                "broadcast run {rep}: 1 sender, {n} subscribed recipients, {} KB, load {}",
                self.args.doc_bytes / 1024,
                load_average()
            );
            register_all(s.addr, &pki, 64).await?;
            let (channels, _) = connect_all(s.addr, &pki, 0..1 + n, 64).await?;
            let mut channels = channels.into_iter();
            let sender_channel = channels.next().context("no sender")?;
            let mut sender = pb::exchange_client::ExchangeClient::new(sender_channel)
                .max_encoding_message_size(8 * 1024 * 1024);
            let out: Arc<Acks> = Arc::default();
            let (tx, mut events) = mpsc::unbounded_channel();
            for (k, ch) in channels.enumerate() {
                let mut c = pb::exchange_client::ExchangeClient::new(ch);
                let stream = c
                    .subscribe(pb::SubscribeRequest {
                        after_cursor: String::new(),
                    })
                    .await?
                    .into_inner();
                subscriber(1 + k, c, stream, out.clone(), tx.clone());
            }
            drop(tx);
            let sdk = Sdk::connect(axis_tests::sdk_config(
                &pki,
                &pki.agencies[0],
                &[format!("https://{}", s.addr)],
            ))
            .await
            .context("the sender's SDK client")?;
            tokio::time::sleep(Duration::from_secs(3)).await;
            let (_, idle_rss) = s.memory_kib()?;
            println!("  idle: {}", s.memory_detail().await?);

            // One recipient: the delivery size to compare with.
            let (one, _, _) = prepare(&pki, &certs, &[1], &plain)?;
            let one = deliver(&mut sender, Arc::new(one), &[1], &out, &mut events).await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            println!("  after one delivery: {}", s.memory_detail().await?);

            let mut after = Vec::new();
            for b in 1..=self.args.broadcasts {
                let (doc, seal, sign_acks) = prepare(&pki, &certs, &to, &plain)?;
                let id = doc.id;
                let doc = Arc::new(doc);
                let d = deliver(&mut sender, doc, &to, &out, &mut events).await?;
                let t = Instant::now();
                let h = sdk.history(&id).await.context("the sender's history")?;
                let history = t.elapsed();
                if h.timelines.len() != n
                    || h.completeness.is_none()
                    || h.timelines.iter().any(|tl| {
                        tl.complete_as_of.is_none()
                            || tl.events.len() != 1
                            || tl.events[0].status != StatusCode::Arrived
                    })
                {
                    bail!(
                        "the sender's history has {} timelines, not {n} complete ones with one 01 each",
                        h.timelines.len()
                    );
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                let (_, rss) = s.memory_kib()?;
                after.push(rss);
                let limit = 2 * one.delivery_bytes + 64 * n;
                println!(
                    "  broadcast {b}: seal {:.1} ms (+{:.0} ms signing {n} 01s in advance), submit \
                     {:.1} ms, all {n} pushed {:.1} ms, all 01s logged {:.1} ms, verified history \
                     of {n} timelines {:.1} ms; one delivery {} B (1 recipient: {} B; #18 bound \
                     {limit} B), {:.1} MB pushed; server RSS {:.1} MiB (idle {:.1}); load {}",
                    ms(seal),
                    ms(sign_acks),
                    ms(d.submit),
                    ms(d.all_pushed),
                    ms(d.all_acknowledged),
                    ms(history),
                    d.delivery_bytes,
                    one.delivery_bytes,
                    (d.delivery_bytes * n) as f64 / 1e6,
                    mib(rss),
                    mib(idle_rss),
                    load_average()
                );
                println!("  broadcast {b}: {}", s.memory_detail().await?);
                let r = &mut self.report;
                r.add(&format!("broadcast to {n}: seal"), "", "ms", ms(seal));
                r.add(&format!("broadcast to {n}: submit"), "", "ms", ms(d.submit));
                r.add(
                    &format!("broadcast to {n}: submit start → all pushed"),
                    "< 1000",
                    "ms",
                    ms(d.all_pushed),
                );
                r.add(
                    &format!("broadcast to {n}: submit start → all 01 logged"),
                    "",
                    "ms",
                    ms(d.all_acknowledged),
                );
                r.add(
                    &format!("broadcast to {n}: sender's verified history"),
                    "< 1000",
                    "ms",
                    ms(history),
                );
                r.add(
                    &format!("broadcast to {n}: bytes of one delivery"),
                    &format!("≤ {limit}"),
                    "B",
                    d.delivery_bytes as f64,
                );
            }
            // Settling: RSS once a second until `--settle-secs` after the last history.
            let settle_start = Instant::now();
            let mut back_within_10_percent = None;
            let mut settled = after.last().copied().unwrap_or(idle_rss);
            while settle_start.elapsed() < self.args.settle {
                tokio::time::sleep(Duration::from_secs(1).min(self.args.settle)).await;
                (_, settled) = s.memory_kib()?;
                if back_within_10_percent.is_none() && settled * 10 <= idle_rss * 11 {
                    back_within_10_percent = Some(settle_start.elapsed());
                }
            }
            println!(
                "  settled: server RSS {:.1} MiB {:.0} s after the last broadcast ({:.0} % of \
                 idle; within 10 % of idle {}); load {}",
                mib(settled),
                settle_start.elapsed().as_secs_f64() + 2.0,
                100.0 * settled as f64 / idle_rss as f64,
                back_within_10_percent.map_or("never".to_owned(), |t| format!(
                    "from {:.0} s",
                    t.as_secs_f64() + 2.0
                )),
                load_average()
            );
            println!("  settled: {}", s.memory_detail().await?);
            let r = &mut self.report;
            r.add(
                "broadcast: bytes of a one-recipient delivery",
                "",
                "B",
                one.delivery_bytes as f64,
            );
            r.add("broadcast: server RSS idle", "", "MiB", mib(idle_rss));
            let last = after.last().copied().unwrap_or(idle_rss);
            r.add(
                &format!("broadcast: server RSS 2 s after {} broadcasts", after.len()),
                "",
                "MiB",
                mib(last),
            );
            r.add(
                "broadcast: RSS 2 s after / idle",
                "",
                "%",
                100.0 * last as f64 / idle_rss as f64,
            );
            let settle_secs = self.args.settle.as_secs_f64() + 2.0;
            r.add(
                &format!("broadcast: server RSS settled ({settle_secs:.0} s after)"),
                "",
                "MiB",
                mib(settled),
            );
            r.add(
                "broadcast: RSS settled / idle",
                "≤ 110",
                "%",
                100.0 * settled as f64 / idle_rss as f64,
            );
            r.note(format!(
                "broadcast rep {rep}: server RSS idle {:.1} MiB, 2 s after each broadcast {:?} \
                 MiB, settled {:.1} MiB ({settle_secs:.0} s after the last; within 10 % of idle \
                 {}); one-recipient delivery ({} ms to push) {} B; load {}",
                mib(idle_rss),
                after
                    .iter()
                    .map(|k| (mib(*k) * 10.0).round() / 10.0)
                    .collect::<Vec<_>>(),
                mib(settled),
                back_within_10_percent.map_or("never".to_owned(), |t| format!(
                    "from {:.0} s",
                    t.as_secs_f64() + 2.0
                )),
                ms(one.all_pushed).round(),
                one.delivery_bytes,
                load_average()
            ));
            drop((sender, sdk));
            self.stop(s, "broadcast", rep).await?;
        }
        Ok(())
    }
}
