//! What an idle HTTP/2 connection keeps on the heap, counted by the allocator (not timed): a
//! server and a client connection over loopback TCP, one stream left open as a `Subscribe` stream
//! is, idle from the start and after 1 MiB went each way on it. Every gRPC call the node serves
//! runs over h2 (through hyper and tonic); upstream h2 keeps a 16 KiB write buffer, an 8 KiB read
//! buffer (grown to the largest frame read) and a 4 KiB HPACK buffer per connection for the
//! connection's life, ~28 KiB of an idle subscriber's 35.5 KiB; the patched h2
//! (third_party/h2/AXIS-PATCH.md) releases them once a connection has nothing to read or write.
//! Then after 64 calls answered in 64 different seconds: upstream h2 entered each response's
//! `date` in HPACK's dynamic table at both ends, ~21.7 KB more; the patched h2 never enters one.
//! One test in this binary, so nothing else allocates while it counts. Figures in BENCHMARKS.md
//! ("Idle connections hold no HTTP/2 buffers").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use bytes::Bytes;
use peak_alloc::PeakAlloc;
use tokio::net::{TcpListener, TcpStream};

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// One message's worth each way in the "after a large message" case.
const LARGE: usize = 1 << 20;

/// The two ends of one connection with one open stream, and the tasks driving them.
struct Pair {
    client: h2::client::SendRequest<Bytes>,
    request: h2::SendStream<Bytes>,
    response: h2::RecvStream,
    served: h2::SendStream<Bytes>,
    received: h2::RecvStream,
    ping: h2::PingPong,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Connects, opens a stream and answers it (headers only, the stream stays open both ways).
async fn connect(listener: &TcpListener) -> Pair {
    let addr = listener.local_addr().unwrap();
    let (tcp, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (tcp, (accepted, _)) = (tcp.unwrap(), accepted.unwrap());
    let (client, server) =
        tokio::join!(h2::client::handshake(tcp), h2::server::handshake(accepted));
    let ((client, mut connection), mut server) = (client.unwrap(), server.unwrap());
    let ping = connection.ping_pong().unwrap();
    let mut tasks = vec![tokio::spawn(async move { connection.await.unwrap() })];
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post("http://axis.invalid/axis.v1.Exchange/Subscribe")
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let (response, request) = client.send_request(request, false).unwrap();
    let (asked, mut respond) = server.accept().await.unwrap().unwrap();
    let served = respond
        .send_response(http::Response::new(()), false)
        .unwrap();
    let received = asked.into_body();
    // The server connection is driven by polling `accept` (as hyper does), until it closes.
    // Further calls are answered at once, each with a `date` of its own as hyper adds one to
    // every response (a new value each second).
    tasks.push(tokio::spawn(async move {
        let mut answered = 0u32;
        while let Some(next) = server.accept().await {
            let (_, mut respond) = next.unwrap();
            let date = format!(
                "Wed, 02 Dec 2026 {:02}:{:02}:{:02} GMT",
                answered / 3600 % 24,
                answered / 60 % 60,
                answered % 60
            );
            answered += 1;
            let answer = http::Response::builder()
                .header("date", date)
                .body(())
                .unwrap();
            respond.send_response(answer, true).unwrap();
        }
    }));
    let response = response.await.unwrap().into_body();
    Pair {
        client,
        request,
        response,
        served,
        received,
        ping,
        tasks,
    }
}

/// Sends `octets` on `send` and reads them on `recv`, frees every frame read.
async fn exchange(send: &mut h2::SendStream<Bytes>, recv: &mut h2::RecvStream, octets: usize) {
    let sending = async {
        let mut left = octets;
        while left > 0 {
            send.reserve_capacity(left);
            let granted = std::future::poll_fn(|cx| send.poll_capacity(cx))
                .await
                .unwrap()
                .unwrap();
            let n = granted.min(left);
            if n == 0 {
                continue;
            }
            send.send_data(Bytes::from(vec![0x5a; n]), false).unwrap();
            left -= n;
        }
    };
    let receiving = async {
        let mut got = 0;
        while got < octets {
            let data = recv.data().await.unwrap().unwrap();
            got += data.len();
            recv.flow_control().release_capacity(data.len()).unwrap();
        }
    };
    tokio::join!(sending, receiving);
}

/// Waits until both ends have read and written everything: a PING the server answered.
async fn settle(pair: &mut Pair) {
    pair.ping.ping(h2::Ping::opaque()).await.unwrap();
    // The connection tasks run once more after the PONG (the client's flush of its own side).
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

/// Closes both ends and waits for the connection's tasks to end.
async fn close(pair: Pair) {
    drop(pair.client);
    drop(pair.request);
    drop(pair.served);
    drop(pair.response);
    drop(pair.received);
    drop(pair.ping);
    for task in pair.tasks {
        task.await.unwrap();
    }
}

/// What goes over a connection before it idles.
enum Traffic {
    /// Nothing.
    None,
    /// `LARGE` octets each way on its open stream.
    Large,
    /// This many calls, each answered with a date of its own.
    Calls(u32),
}

/// Heap octets one connection (both ends) keeps once idle after `traffic`.
async fn kept(listener: &TcpListener, traffic: Traffic) -> usize {
    let before = HEAP.current_usage();
    let mut pair = connect(listener).await;
    match traffic {
        Traffic::None => {}
        Traffic::Large => {
            exchange(&mut pair.request, &mut pair.received, LARGE).await;
            exchange(&mut pair.served, &mut pair.response, LARGE).await;
        }
        Traffic::Calls(calls) => {
            for _ in 0..calls {
                let mut client = pair.client.clone().ready().await.unwrap();
                let request =
                    http::Request::post("http://axis.invalid/axis.v1.Exchange/Acknowledge")
                        .header("content-type", "application/grpc")
                        .body(())
                        .unwrap();
                let (response, _) = client.send_request(request, true).unwrap();
                let response = response.await.unwrap();
                assert!(response.headers().contains_key("date"));
            }
        }
    }
    settle(&mut pair).await;
    let kept = HEAP.current_usage() - before;
    close(pair).await;
    kept
}

#[test]
fn an_idle_http2_connection_holds_no_read_or_write_buffer() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        // A first connection makes what is made once (the runtime's and tracing's own).
        let _ = kept(&listener, Traffic::Large).await;
        let idle = kept(&listener, Traffic::None).await;
        let after_large = kept(&listener, Traffic::Large).await;
        let after_calls = kept(&listener, Traffic::Calls(64)).await;
        eprintln!(
            "one idle connection, both ends: {idle} octets; after 1 MiB each way: \
             {after_large}; after 64 calls answered in 64 different seconds: {after_calls}"
        );
        // Upstream h2 keeps 16 + 8 + 4 KiB per end (56 KiB for both ends) idle from the start,
        // more once a 16 KiB frame grew the read buffers. Both ends together now keep less than
        // one end's write buffer.
        assert!(idle < 16 * 1024, "idle from the start: {idle} octets kept");
        assert!(
            after_large < 16 * 1024,
            "after a large message: {after_large} octets kept"
        );
        // A date is not entered in HPACK's dynamic table (AXIS-PATCH.md): upstream h2 entered
        // each new one at both ends until their 4 KiB tables were full (measured: 36,304 octets
        // kept after the 64 calls, 21.7 KB over idle; 14,731 with the patch).
        assert!(
            after_calls < idle + 2 * 1024,
            "after 64 calls: {after_calls} octets kept, idle {idle}"
        );
    });
}
