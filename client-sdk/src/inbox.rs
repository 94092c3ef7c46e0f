//! Receiving: the inbox stream of deliveries, resumed across disconnects, and looking one
//! delivery up by message id.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axis_pki::AgencyId;
use axis_proto::v1 as pb;
use axis_signer::{EnvelopeEntry, HeaderBytes, MessageId};
use futures_util::Stream;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::convert::{is_transient, status_error};
use crate::error::{Error, Result};
use crate::nodes::{self, ConnectionEvent, Failure, Retry};

/// First pause before reconnecting the inbox.
pub const RECONNECT_MIN: Duration = Duration::from_millis(100);
/// Longest pause between reconnection attempts.
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);
/// Deliveries buffered between the connection and the caller.
const INBOX_BUFFER: usize = 16;

/// A document addressed to this agency, as the axis announces it. Nothing in it is verified
/// yet: [`Client::open`] verifies the routing header's signature before using anything.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    /// Position in this agency's inbox; pass it to [`Client::inbox`] to resume after it. Empty
    /// for a delivery looked up with [`Client::delivery`].
    pub cursor: String,
    /// The message id the sender chose.
    pub message_id: MessageId,
    /// The sending agency.
    pub sender: AgencyId,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// When the axis accepted the document: the log entry's time, in **whole seconds** (the
    /// signed entry's precision), so not a measure of how long a delivery took to arrive.
    pub accepted_at: OffsetDateTime,
    /// When this client received the delivery from the axis (for [`Client::delivery`]: when it
    /// was looked up). The time since then is how long it waited on this side: in the inbox's
    /// buffer, and for the caller to take it.
    pub received_at: Instant,
    /// The routing header, exact signed bytes.
    pub routing_header: Vec<u8>,
    /// The sender's submission signature over the routing header.
    pub submission_signature: Vec<u8>,
    /// This agency's key-envelope entry (the content key wrapped for its encryption
    /// certificate), its position and its audit path to the routing header's root: checked
    /// against the signed header before the key is used.
    pub key_envelope_entry: EnvelopeEntry,
}

/// The stream of deliveries from [`Client::inbox`]: `Result<Delivery>` items, oldest first,
/// then new ones as they are committed. It never ends by itself: when its node fails (the
/// connection breaks or stays silent past [`crate::Timeouts::stream_idle`], the node says
/// UNAVAILABLE or ends the stream) it subscribes again on the next endpoint (with a pause of
/// [`RECONNECT_MIN`] doubling up to [`RECONNECT_MAX`]) and resumes after the last delivery it
/// received, so the caller neither loses nor sees twice a delivery. Each break and each
/// subscription is announced on [`Client::events`] and logged; [`Inbox::endpoint`] says where
/// it is subscribed now. It yields an error and ends only on a failure that retrying cannot fix
/// (authentication, permission, a bad cursor).
///
/// Dropping it closes the subscription.
pub struct Inbox {
    rx: mpsc::Receiver<Result<Delivery>>,
    cursor: Option<String>,
    endpoint: Arc<Mutex<String>>,
    task: JoinHandle<()>,
}

impl Inbox {
    /// The cursor of the last delivery this stream yielded (to store, and resume from later).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The endpoint the inbox is subscribed on (or trying) now.
    pub fn endpoint(&self) -> String {
        self.endpoint.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl Stream for Inbox {
    type Item = Result<Delivery>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(Ok(d))) = &polled {
            self.cursor = Some(d.cursor.clone());
        }
        polled
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Subscribes to this agency's deliveries after `after` (a cursor from an earlier
    /// [`Delivery`] or [`Inbox::cursor`]; `None` for everything not yet acknowledged). Call it
    /// within a Tokio runtime: the subscription runs as a task of it.
    ///
    /// ```no_run
    /// # async fn f(client: axis_client::Client) -> axis_client::Result<()> {
    /// use futures_util::StreamExt as _;
    /// let mut inbox = client.inbox(None);
    /// while let Some(delivery) = inbox.next().await {
    ///     let delivery = delivery?;
    ///     println!("{} from {}", delivery.message_id, delivery.sender);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn inbox(&self, after: Option<String>) -> Inbox {
        let (tx, rx) = mpsc::channel(INBOX_BUFFER);
        let endpoint = Arc::new(Mutex::new(self.endpoint()));
        let task = tokio::spawn(subscribe(
            self.clone(),
            after.unwrap_or_default(),
            tx,
            endpoint.clone(),
        ));
        Inbox {
            rx,
            cursor: None,
            endpoint,
            task,
        }
    }

    /// The delivery of `message_id` to this agency, from the message's history: to open a
    /// document by id (without its inbox cursor).
    pub async fn delivery(&self, message_id: &MessageId) -> Result<Delivery> {
        let me = self.me()?.clone();
        let h = self.get_history(message_id, false).await?;
        let header = HeaderBytes::parse(&h.routing_header)
            .map_err(|e| Error::signer("the routing header from the axis", e))?;
        let fields = header.header();
        if &fields.message_id != message_id {
            return Err(Error::verification(format!(
                "asked for message {message_id}, the axis answered with {}",
                fields.message_id
            )));
        }
        if !fields.recipients.contains(&me) {
            return Err(Error::new(
                crate::ErrorKind::NotFound,
                format!("message {message_id} is not addressed to agency {me}"),
            ));
        }
        let acceptance = h
            .acceptance
            .and_then(|a| a.evidence)
            .ok_or_else(|| Error::verification("the history has no acceptance receipt"))?;
        let entry = axis_evidence::LogEntryBytes::parse(&acceptance.entry)
            .map_err(|e| Error::signer("the acceptance entry", e))?;
        Ok(Delivery {
            cursor: String::new(),
            message_id: *message_id,
            sender: fields.sender.clone(),
            size: fields.ciphertext_len,
            accepted_at: entry.entry().logged_at,
            received_at: Instant::now(),
            routing_header: h.routing_header,
            submission_signature: h.submission_signature,
            key_envelope_entry: crate::convert::envelope_entry(h.key_envelope_entry)?,
        })
    }

    /// The history as the axis sends it; with the axis's signed completeness statement when
    /// `completeness` (its entries are then exactly those the statement counts).
    pub(crate) async fn get_history(
        &self,
        message_id: &MessageId,
        completeness: bool,
    ) -> Result<pb::GetHistoryResponse> {
        let request = pb::GetHistoryRequest {
            message_id: message_id.to_string(),
            completeness,
        };
        self.call(&format!("history of {message_id}"), Retry::Always, |ch| {
            let request = request.clone();
            async move { nodes::exchange(ch).get_history(request).await }
        })
        .await
    }
}

/// The subscription loop behind [`Inbox`]: resumes after the last delivery received (those not
/// yet taken by the caller wait in the channel), on the current node, and stops when the
/// [`Inbox`] is dropped.
async fn subscribe(
    client: Client,
    mut after: String,
    tx: mpsc::Sender<Result<Delivery>>,
    endpoint: Arc<Mutex<String>>,
) {
    let nodes = client.nodes();
    let mut pause = RECONNECT_MIN;
    loop {
        let conn = tokio::select! {
            _ = tx.closed() => return,
            c = nodes.conn() => c,
        };
        let failure = match conn {
            Err((index, failure)) => {
                nodes.failed(index, None, "inbox", &failure);
                failure
            }
            Ok(conn) => {
                let url = nodes.url(conn.index).to_owned();
                if let Ok(mut e) = endpoint.lock() {
                    e.clone_from(&url);
                }
                let request = pb::SubscribeRequest {
                    after_cursor: after.clone(),
                };
                let deadline = nodes.timeouts.call;
                let mut exchange = nodes::exchange(conn.channel.clone());
                let opened = tokio::select! {
                    _ = tx.closed() => return,
                    r = tokio::time::timeout(deadline, exchange.subscribe(request)) => r,
                };
                let failure = match opened {
                    Ok(Ok(response)) => {
                        tracing::info!(endpoint = %url, after = %after, "inbox subscribed");
                        nodes.announce(ConnectionEvent::InboxSubscribed {
                            endpoint: url.clone(),
                            after: after.clone(),
                        });
                        let mut stream = response.into_inner();
                        loop {
                            let next = tokio::select! {
                                _ = tx.closed() => return,
                                m = stream.message() => m,
                            };
                            match next {
                                Ok(Some(d)) => {
                                    pause = RECONNECT_MIN;
                                    if !d.cursor.is_empty() {
                                        after.clone_from(&d.cursor);
                                    }
                                    if tx.send(Delivery::try_from(d)).await.is_err() {
                                        return;
                                    }
                                }
                                Ok(None) => {
                                    break Failure::Status(tonic::Status::unavailable(
                                        "the axis ended the inbox stream",
                                    ));
                                }
                                Err(s) if is_transient(&s) => break Failure::Status(s),
                                Err(s) => {
                                    let _ = tx.send(Err(status_error("inbox", &s))).await;
                                    return;
                                }
                            }
                        }
                    }
                    Ok(Err(s)) if is_transient(&s) => Failure::Status(s),
                    Ok(Err(s)) => {
                        let _ = tx.send(Err(status_error("inbox", &s))).await;
                        return;
                    }
                    Err(_) => Failure::Deadline {
                        what: "subscribing",
                        after: deadline,
                    },
                };
                nodes.announce(ConnectionEvent::InboxBroken {
                    endpoint: url,
                    reason: failure.to_string(),
                });
                nodes.conn_failed(&conn, "inbox", &failure);
                failure
            }
        };
        tracing::debug!(reason = %failure, ?pause, "inbox resubscribing");
        tokio::select! {
            _ = tx.closed() => return,
            _ = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(RECONNECT_MAX);
    }
}
