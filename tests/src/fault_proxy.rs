//! A TCP fault proxy for tests: it listens on a loopback port and forwards every connection to a
//! target, and its behaviour can be switched at run time, for connections already open and for
//! new ones:
//!
//! - [`Fault::Pass`]: bytes go through.
//! - [`Fault::Blackhole`]: bytes are read and dropped in both directions, nothing is closed — a
//!   partition as a peer sees it (no RST, no FIN; new connections are accepted and then hear
//!   nothing, so a TLS handshake hangs).
//! - [`Fault::Reset`]: every open connection is reset (RST to both sides) and new ones are reset
//!   at once — a process killed on a host that is still up.
//! - [`Fault::Delay`]: each direction's bytes arrive that much later (latency, not a bandwidth
//!   cap: reads keep going while earlier bytes wait).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// What the proxy does with the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward.
    Pass,
    /// Drop every byte, close nothing.
    Blackhole,
    /// Reset every connection, open and new.
    Reset,
    /// Forward after this delay.
    Delay(Duration),
}

/// A running proxy; dropping it stops accepting and resets nothing (open connections end with
/// their peers).
pub struct FaultProxy {
    addr: SocketAddr,
    target: SocketAddr,
    mode: watch::Sender<Fault>,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `target`, in [`Fault::Pass`] mode.
    pub async fn start(target: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (mode, rx) = watch::channel(Fault::Pass);
        let accepted = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept(listener, target, rx, accepted.clone()));
        Ok(FaultProxy {
            addr,
            target,
            mode,
            accepted,
            task,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://` and the address, as an SDK endpoint.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Where the proxy forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Switches the fault, for open connections and new ones.
    pub fn set(&self, fault: Fault) {
        self.mode.send_replace(fault);
    }

    /// The current fault.
    pub fn fault(&self) -> Fault {
        *self.mode.borrow()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    listener: TcpListener,
    target: SocketAddr,
    mode: watch::Receiver<Fault>,
    accepted: Arc<AtomicU64>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        accepted.fetch_add(1, Ordering::Relaxed);
        let _ = client.set_nodelay(true);
        let now = *mode.borrow();
        match now {
            Fault::Reset => reset(client),
            Fault::Blackhole => {
                tokio::spawn(swallow(client, mode.clone()));
            }
            Fault::Pass | Fault::Delay(_) => {
                tokio::spawn(serve(client, target, mode.clone()));
            }
        }
    }
}

/// Closes with RST (SO_LINGER 0), not FIN.
fn reset(s: TcpStream) {
    let _ = s.set_zero_linger();
    drop(s);
}

/// A connection accepted in blackhole mode: read and drop until the proxy resets it or the
/// client goes away.
async fn swallow(mut client: TcpStream, mut mode: watch::Receiver<Fault>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            r = client.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = mode.wait_for(|m| *m == Fault::Reset) => {
                reset(client);
                return;
            }
        }
    }
}

async fn serve(mut client: TcpStream, target: SocketAddr, mode: watch::Receiver<Fault>) {
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        reset(client);
        return;
    };
    let _ = upstream.set_nodelay(true);
    let was_reset = {
        let (mut cr, mut cw) = client.split();
        let (mut ur, mut uw) = upstream.split();
        let mut watch_reset = mode.clone();
        tokio::select! {
            _ = async {
                tokio::join!(
                    pump(&mut cr, &mut uw, mode.clone()),
                    pump(&mut ur, &mut cw, mode.clone()),
                )
            } => false,
            _ = watch_reset.wait_for(|m| *m == Fault::Reset) => true,
        }
    };
    if was_reset {
        reset(client);
        reset(upstream);
    }
}

/// One direction: read, then forward, drop or delay by the current fault. At the end of the
/// input the output is shut down (FIN), unless the link is blackholed.
async fn pump<R, W>(from: &mut R, to: &mut W, mode: watch::Receiver<Fault>)
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    // Bytes wait here with the instant they may go out (a delayed link keeps its order).
    let (tx, mut rx) = mpsc::channel::<(tokio::time::Instant, Vec<u8>)>(64);
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let fault = *mode.borrow();
            let due = match fault {
                Fault::Pass => tokio::time::Instant::now(),
                Fault::Delay(d) => tokio::time::Instant::now() + d,
                Fault::Blackhole | Fault::Reset => continue,
            };
            if tx.send((due, buf[..n].to_vec())).await.is_err() {
                return;
            }
        }
        // End of input: pass it on only if the link still carries bytes.
        if !matches!(*mode.borrow(), Fault::Blackhole) {
            drop(tx);
        } else {
            std::future::pending::<()>().await;
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on loopback.
    async fn echo() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    async fn round_trip(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
        s.write_all(b"ping").await.ok()?;
        let mut buf = [0u8; 4];
        tokio::time::timeout(within, s.read_exact(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some(buf.to_vec())
    }

    #[tokio::test]
    async fn each_fault_does_what_it_says_on_open_and_new_connections() {
        let proxy = FaultProxy::start(echo().await).await.unwrap();
        let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
        let short = Duration::from_millis(300);
        assert_eq!(
            round_trip(&mut open, short).await.as_deref(),
            Some(&b"ping"[..])
        );

        // Blackhole: the open connection hears nothing, and is not closed.
        proxy.set(Fault::Blackhole);
        assert_eq!(round_trip(&mut open, short).await, None);
        let mut new = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut new, short).await, None);

        // Delay: bytes come back, late.
        proxy.set(Fault::Delay(Duration::from_millis(200)));
        let mut delayed = TcpStream::connect(proxy.addr()).await.unwrap();
        let t = std::time::Instant::now();
        assert!(
            round_trip(&mut delayed, Duration::from_secs(3))
                .await
                .is_some()
        );
        assert!(
            t.elapsed() >= Duration::from_millis(400),
            "{:?}",
            t.elapsed()
        );

        // Reset: open connections get an RST; new ones too.
        proxy.set(Fault::Reset);
        let mut buf = [0u8; 1];
        let r = tokio::time::timeout(Duration::from_secs(3), delayed.read(&mut buf))
            .await
            .unwrap();
        assert!(
            matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "{r:?}"
        );
        let mut after = TcpStream::connect(proxy.addr()).await.unwrap();
        let r = tokio::time::timeout(Duration::from_secs(3), after.read(&mut buf))
            .await
            .unwrap();
        assert!(r.is_err() || matches!(r, Ok(0)), "{r:?}");

        // Pass again: new connections work.
        proxy.set(Fault::Pass);
        let mut back = TcpStream::connect(proxy.addr()).await.unwrap();
        assert!(
            round_trip(&mut back, Duration::from_secs(3))
                .await
                .is_some()
        );
        assert!(proxy.accepted() >= 5);
    }
}
