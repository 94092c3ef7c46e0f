//! The `peer` scenario: the same durable load on the machine's RabbitMQ, as a yardstick for the
//! throughput scenario (issue #14: "ahead of the broker").
//!
//! One AMQP connection and channel in publisher-confirm mode publish the bench's own sealed
//! ciphertexts (persistent messages of the same size, 13.8 KB for 10 KB documents) to a fresh
//! durable queue with `--concurrency` messages unconfirmed at most (the throughput scenario's
//! number of submit streams), for `--duration`, then wait for the last confirms. A confirm of a
//! persistent message on a durable queue means the broker has it on disk (classic queue: fsynced
//! by the message store; quorum queue: written to the Raft log and fsynced). Nothing consumes:
//! the messages stay queued, as the axis keeps its documents. The queue is deleted afterwards.
//!
//! Each repetition measures a classic queue and a quorum queue (order alternating between
//! repetitions). The figure is confirmed messages per second, first publish to last confirm.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use amqprs::callbacks::{ChannelCallback, DefaultConnectionCallback};
use amqprs::channel::{
    BasicPublishArguments, Channel, ConfirmSelectArguments, QueueDeclareArguments,
    QueueDeleteArguments,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{Ack, BasicProperties, Cancel, CloseChannel, FieldTable, FieldValue, Nack, Return};
use anyhow::{Context, Result, bail};
use tokio::sync::mpsc;

type AmqpResult<T> = std::result::Result<T, amqprs::error::Error>;

use super::corpus::Doc;

/// Where the broker is: `amqp://user:password@host:port`.
pub(crate) const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672";

/// The two durable queue kinds measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueueKind {
    Classic,
    Quorum,
}

impl QueueKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            QueueKind::Classic => "classic",
            QueueKind::Quorum => "quorum",
        }
    }
}

/// What one run measured.
pub(crate) struct PeerRun {
    pub(crate) confirmed: u64,
    pub(crate) elapsed: Duration,
}

impl PeerRun {
    pub(crate) fn rate(&self) -> f64 {
        self.confirmed as f64 / self.elapsed.as_secs_f64()
    }
}

/// What the channel's callback passes on.
enum Event {
    Ack { tag: u64, multiple: bool },
    Nack { tag: u64 },
    Closed(String),
}

struct Confirms(mpsc::UnboundedSender<Event>);

#[async_trait::async_trait]
impl ChannelCallback for Confirms {
    async fn close(&mut self, _: &Channel, close: CloseChannel) -> AmqpResult<()> {
        let _ = self.0.send(Event::Closed(close.to_string()));
        Ok(())
    }
    async fn cancel(&mut self, _: &Channel, _: Cancel) -> AmqpResult<()> {
        Ok(())
    }
    async fn flow(&mut self, _: &Channel, _: bool) -> AmqpResult<bool> {
        Ok(true)
    }
    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        let _ = self.0.send(Event::Ack {
            tag: ack.delivery_tag(),
            multiple: ack.mutiple(),
        });
    }
    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        let _ = self.0.send(Event::Nack {
            tag: nack.delivery_tag(),
        });
    }
    async fn publish_return(&mut self, _: &Channel, _: Return, _: BasicProperties, _: Vec<u8>) {}
}

/// `amqp://user:password@host:port` → its parts.
fn parse_url(url: &str) -> Result<(String, u16, String, String)> {
    let rest = url
        .strip_prefix("amqp://")
        .with_context(|| format!("{url}: not amqp://user:password@host:port"))?;
    let (creds, hostport) = rest.rsplit_once('@').unwrap_or(("guest:guest", rest));
    let (user, pass) = creds.split_once(':').unwrap_or((creds, ""));
    let hostport = hostport.trim_end_matches('/');
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().with_context(|| format!("{url}: port"))?),
        None => (hostport, 5672),
    };
    Ok((host.to_owned(), port, user.to_owned(), pass.to_owned()))
}

/// CPU seconds of the broker's Erlang VM (`beam.smp`), if one runs here and can be read.
fn rabbit_cpu_seconds() -> Option<f64> {
    let mut total = None;
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if comm.trim() == "beam.smp" {
            let stat = e.path().join("stat");
            *total.get_or_insert(0.0) += super::server::cpu_seconds_of(&stat.to_string_lossy());
        }
    }
    total
}

/// Applies one confirm to the unconfirmed set; returns how many it confirmed.
fn settle(unconfirmed: &mut BTreeSet<u64>, tag: u64, multiple: bool) -> u64 {
    if multiple {
        let rest = unconfirmed.split_off(&(tag + 1));
        let n = unconfirmed.len() as u64;
        *unconfirmed = rest;
        n
    } else {
        u64::from(unconfirmed.remove(&tag))
    }
}

/// Publishes `docs`' ciphertexts to a fresh durable `kind` queue, at most `in_flight`
/// unconfirmed, for `duration`; then waits for the outstanding confirms.
pub(crate) async fn run(
    url: &str,
    kind: QueueKind,
    docs: &Arc<Vec<Doc>>,
    in_flight: usize,
    duration: Duration,
) -> Result<PeerRun> {
    let (host, port, user, pass) = parse_url(url)?;
    let conn = Connection::open(&OpenConnectionArguments::new(&host, port, &user, &pass))
        .await
        .with_context(|| {
            format!(
                "connecting to RabbitMQ at {host}:{port} (is it running? `rabbitmqctl status`; \
                 start it with `rabbitmq-server -detached`)"
            )
        })?;
    conn.register_callback(DefaultConnectionCallback).await?;
    let channel = conn.open_channel(None).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    channel.register_callback(Confirms(tx)).await?;
    let queue = format!("axis-bench-peer-{}-{}", kind.name(), std::process::id());
    let mut args = FieldTable::new();
    args.insert(
        "x-queue-type".try_into().map_err(anyhow::Error::msg)?,
        FieldValue::from(kind.name()),
    );
    channel
        .queue_declare(
            QueueDeclareArguments::durable_client_named(&queue)
                .arguments(args)
                .finish(),
        )
        .await
        .with_context(|| format!("declaring the {} queue {queue}", kind.name()))?;
    channel
        .confirm_select(ConfirmSelectArguments::default())
        .await?;
    let props = BasicProperties::default()
        .with_persistence(true)
        .with_content_type("application/octet-stream")
        .finish();
    let publish = BasicPublishArguments::new("", &queue);

    let start = Instant::now();
    let (mut next_tag, mut confirmed, mut i) = (1u64, 0u64, 0usize);
    let mut unconfirmed = BTreeSet::new();
    let outcome: Result<()> = async {
        loop {
            let publishing = start.elapsed() < duration;
            if !publishing && unconfirmed.is_empty() {
                return Ok(());
            }
            while publishing && unconfirmed.len() < in_flight {
                let body = docs[i % docs.len()].ciphertext.clone();
                i += 1;
                channel
                    .basic_publish(props.clone(), body, publish.clone())
                    .await?;
                unconfirmed.insert(next_tag);
                next_tag += 1;
            }
            let mut event = rx
                .recv()
                .await
                .context("the channel's callback went away")?;
            loop {
                match event {
                    Event::Ack { tag, multiple } => {
                        confirmed += settle(&mut unconfirmed, tag, multiple);
                    }
                    Event::Nack { tag } => bail!("the broker refused message {tag} (nack)"),
                    Event::Closed(why) => bail!("the broker closed the channel: {why}"),
                }
                match rx.try_recv() {
                    Ok(e) => event = e,
                    Err(_) => break,
                }
            }
        }
    }
    .await;
    let elapsed = start.elapsed();
    let deleted = channel
        .queue_delete(QueueDeleteArguments::new(&queue))
        .await;
    let _ = channel.close().await;
    let _ = conn.close().await;
    outcome?;
    deleted.with_context(|| format!("deleting the queue {queue}"))?;
    Ok(PeerRun { confirmed, elapsed })
}

impl super::Bench {
    /// `--reps` repetitions of a classic and a quorum queue, then each one's ratio to the
    /// throughput scenario's median from the same run (if it ran).
    pub(super) async fn peer(&mut self, docs: &Arc<Vec<Doc>>) -> Result<()> {
        let (c, d) = (self.args.concurrency, self.args.duration);
        let bytes = docs.first().map_or(0, |d| d.ciphertext.len());
        for rep in 1..=self.args.reps {
            let mut kinds = [QueueKind::Classic, QueueKind::Quorum];
            if rep % 2 == 0 {
                kinds.reverse();
            }
            for kind in kinds {
                println!(
                    "peer run {rep}: RabbitMQ {} durable queue at {}, persistent {bytes} B \
                     messages, publisher confirms, {c} in flight, load {}",
                    kind.name(),
                    self.args.amqp,
                    super::load_average()
                );
                let cpu = rabbit_cpu_seconds();
                let run = run(&self.args.amqp, kind, docs, c, d).await?;
                let cpu = rabbit_cpu_seconds().zip(cpu).map(|(b, a)| b - a);
                println!(
                    "  {} messages confirmed in {:.1} s: {:.0}/s{}",
                    run.confirmed,
                    run.elapsed.as_secs_f64(),
                    run.rate(),
                    cpu.map_or(String::new(), |s| format!(
                        "; broker CPU {s:.1} s ({:.0}% of one core, {:.0} µs/msg)",
                        100.0 * s / run.elapsed.as_secs_f64(),
                        1e6 * s / run.confirmed.max(1) as f64
                    )),
                );
                self.report.add(
                    &format!(
                        "RabbitMQ {} durable queue: confirmed msg/s, {c} in flight",
                        kind.name()
                    ),
                    "",
                    "/s",
                    run.rate(),
                );
            }
        }
        let median_of = |report: &super::Report, prefix: &str| {
            report
                .figures
                .iter()
                .find(|f| f.name.starts_with(prefix))
                .map(|f| super::median(&f.values))
        };
        if let Some(axis) = median_of(&self.report, "accepted ") {
            for kind in [QueueKind::Classic, QueueKind::Quorum] {
                if let Some(peer) = median_of(&self.report, &format!("RabbitMQ {} ", kind.name())) {
                    let ratio = axis / peer;
                    self.report.add(
                        &format!(
                            "axis accepted/s ÷ RabbitMQ {} confirmed/s (medians, same run)",
                            kind.name()
                        ),
                        if kind == QueueKind::Classic {
                            "≥ 1"
                        } else {
                            ""
                        },
                        "×",
                        ratio,
                    );
                    self.report.note(format!(
                        "ratio: {} {axis:.0} accepted/s ÷ RabbitMQ {} {peer:.0} confirmed/s = {ratio:.2}",
                        self.args.db.name(),
                        kind.name(),
                    ));
                }
            }
        }
        Ok(())
    }
}
