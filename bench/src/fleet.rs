//! Many agencies at once, for the `subscribers` and `broadcast` scenarios: a generated PKI of
//! thousands of agencies (P-256 keys, issued on every core), their registration with the axis
//! (the operator's `RegisterAgency`, many calls in flight on one connection), one mTLS
//! connection per agency, and the bench process's descriptor limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_proto::v1 as pb;
use axis_tests::{TestPki, channel_to, endpoint_to};
use tokio::sync::Semaphore;
use tonic::transport::Channel;

/// Agency `i` of a fleet: `000.NN.MM.H7x`, distinct for up to 19,800 agencies and never one of
/// the harness's own ids (whose level-1 codes are G22, H41 and H10–H89 at level 2 only).
pub(crate) fn fleet_id(i: usize) -> String {
    format!(
        "000.{:02}.{:02}.H{:02}",
        1 + i % 99,
        1 + (i / 99) % 99,
        70 + i / (99 * 99)
    )
}

/// A throw-away PKI with `n` agencies (`fleet_id` ids), issued on `threads` threads.
pub(crate) fn fleet_pki(n: usize) -> Result<TestPki> {
    if n > 99 * 99 * 20 {
        bail!("at most {} agencies in a fleet", 99 * 99 * 20);
    }
    let mut pki = TestPki::new(0);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per = n.div_ceil(threads);
    let parts: Vec<Result<Vec<_>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let pki = &pki.pki;
                scope.spawn(move || {
                    ((t * per)..((t + 1) * per).min(n))
                        .map(|i| {
                            let id = fleet_id(i);
                            pki.agency(
                                &id,
                                &format!("Cơ quan {i}"),
                                &format!("Người ký {i}"),
                                "Chánh Văn phòng",
                            )
                            .with_context(|| format!("agency {id}"))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("issuing thread"))
            .collect()
    });
    for p in parts {
        pki.agencies.extend(p?);
    }
    Ok(pki)
}

/// Registers every agency of `pki` as the operator, `in_flight` calls at once over one
/// connection; returns the time it took.
pub(crate) async fn register_all(
    addr: std::net::SocketAddr,
    pki: &TestPki,
    in_flight: usize,
) -> Result<Duration> {
    let dir =
        pb::directory_client::DirectoryClient::new(channel_to(addr, pki, &pki.operator).await?);
    let permits = Arc::new(Semaphore::new(in_flight.max(1)));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(pki.agencies.len());
    for a in &pki.agencies {
        let permit = permits.clone().acquire_owned().await?;
        let mut dir = dir.clone();
        let req = pb::RegisterAgencyRequest {
            agency_id: a.id.to_string(),
            name: a.name.clone(),
            encryption_certificate: a.encryption.cert.clone(),
            seal_certificate: a.seal.cert.clone(),
            parent_id: String::new(),
        };
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let id = req.agency_id.clone();
            dir.register_agency(req)
                .await
                .with_context(|| format!("registering {id}"))
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(t.elapsed())
}

/// One mTLS connection (TLS handshake and HTTP/2 set up) for each agency in `which`,
/// `in_flight` handshakes at once. Returns them in order, and the time it took.
pub(crate) async fn connect_all(
    addr: std::net::SocketAddr,
    pki: &Arc<TestPki>,
    which: std::ops::Range<usize>,
    in_flight: usize,
) -> Result<(Vec<Channel>, Duration)> {
    connect_all_pinging(addr, pki, which, in_flight, None).await
}

/// [`connect_all`], each connection sending an HTTP/2 PING every `ping` (with no byte read
/// meanwhile, idle or not: what the SDK does, at half its `stream_idle`), if given.
pub(crate) async fn connect_all_pinging(
    addr: std::net::SocketAddr,
    pki: &Arc<TestPki>,
    which: std::ops::Range<usize>,
    in_flight: usize,
    ping: Option<Duration>,
) -> Result<(Vec<Channel>, Duration)> {
    let permits = Arc::new(Semaphore::new(in_flight.max(1)));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(which.len());
    for i in which {
        let permit = permits.clone().acquire_owned().await?;
        let pki = pki.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let mut endpoint = endpoint_to(addr, &pki, &pki.agencies[i].tls)?;
            if let Some(every) = ping {
                endpoint = endpoint
                    .http2_keep_alive_interval(every)
                    .keep_alive_timeout(every)
                    .keep_alive_while_idle(true);
            }
            endpoint
                .connect()
                .await
                .with_context(|| format!("connecting agency {i}"))
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await??);
    }
    Ok((out, t.elapsed()))
}

/// Raises this process's soft descriptor limit to the hard one and returns the soft limit now
/// in force; fails if it stays below `need`.
pub(crate) fn raise_descriptor_limit(need: u64) -> Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )
        .context("raising RLIMIT_NOFILE")?;
    }
    let now = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    if now < need {
        bail!(
            "the descriptor limit is {now}, {need} needed: raise the hard limit (ulimit -Hn) \
             or ask for fewer connections"
        );
    }
    Ok(now)
}

/// Resident memory of this (the client) process, in KiB.
pub(crate) fn own_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
