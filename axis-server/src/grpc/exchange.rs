//! `axis.v1.Exchange`: submit, subscribe, fetch, receipts and statuses, history.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_pki::AgencyId;
use axis_proto::v1 as pb;
use axis_proto::v1::submit_request::Part;
use axis_signer::{
    DocumentRef, HeaderBytes, MessageId, ReceiptChain, SignedReceipt, StatusCode, Submission,
};
use futures_util::Stream;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::{App, completeness, convert};
use crate::commit::{Ciphertext, Job};
use crate::error::{Result, ServerError};
use crate::observe::{MessageNote, message_note};
use crate::staging::Upload;
use crate::store::{SEGMENT_LEN, state};

/// Deliveries read per inbox query.
const INBOX_PAGE: u32 = 256;
/// Oldest a receipt or status may be when it reaches the axis: statuses are signed and sent at
/// once, and the log's time bounds the signing time only from below, so a wide window would let
/// a stolen seal date statuses before its revocation.
const STATEMENT_MAX_AGE: Duration = Duration::from_secs(3600);

/// The Exchange service.
pub(crate) struct ExchangeService {
    app: Arc<App>,
}

impl ExchangeService {
    /// Over the shared application state.
    pub(crate) fn new(app: Arc<App>) -> Self {
        ExchangeService { app }
    }
}

fn parse_message_id(s: &str) -> Result<MessageId> {
    MessageId::parse(s).map_err(|e| ServerError::malformed("message id", e))
}

/// What a Subscribe cursor says.
#[derive(Debug, PartialEq, Eq)]
enum Cursor {
    /// None given: everything not yet acknowledged.
    Start,
    /// After the delivery with this sequence number (if the caller was issued it: for the
    /// database to say).
    After(i64),
    /// Not written as the axis writes cursors (decimal, no sign, no leading zero): "-1", "+5",
    /// "007", "x" are never read as a position.
    Malformed,
}

fn parse_cursor(cursor: &str) -> Cursor {
    if cursor.is_empty() {
        return Cursor::Start;
    }
    match cursor.parse::<i64>() {
        Ok(n) if n >= 0 && n.to_string() == cursor => Cursor::After(n),
        _ => Cursor::Malformed,
    }
}

/// At most 40 characters of a refused cursor, for the error message.
fn cursor_excerpt(cursor: &str) -> String {
    cursor.chars().take(40).collect()
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;

/// One Subscribe stream's state. The connection's task polls it directly: an idle subscriber
/// holds no task nor channel of its own (each cost a task and a 32-slot channel block, ~6 KiB,
/// per subscriber), only this and its HTTP/2 stream.
struct Inbox {
    app: Arc<App>,
    caller: AgencyId,
    /// The last delivery yielded.
    after: i64,
    wake: tokio::sync::watch::Receiver<u64>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    /// Deliveries read and not yet yielded.
    page: std::vec::IntoIter<crate::store::InboxRow>,
    /// The last page read was full: read the next one at once.
    more: bool,
    _permit: super::StreamPermit,
}

impl Inbox {
    /// The next delivery, waiting for one to be committed; `None` at shutdown.
    async fn next(&mut self) -> Option<std::result::Result<pb::Delivery, Status>> {
        loop {
            if let Some(row) = self.page.next() {
                self.after = row.seq;
                return Some(Ok(convert::delivery(row)));
            }
            // The spent page's allocation (up to INBOX_PAGE rows) is not kept while waiting.
            self.page = Vec::new().into_iter();
            if !self.more {
                if *self.shutdown.borrow() {
                    return None;
                }
                tokio::select! {
                    changed = self.wake.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                    _ = self.shutdown.changed() => return None,
                }
            }
            // Marked seen before the read: a commit after it wakes the next wait.
            self.wake.borrow_and_update();
            // Boxed: the query's state exists only while it runs, not in every idle stream.
            let read = Box::pin(
                self.app
                    .db
                    .inbox(self.caller.as_str(), self.after, INBOX_PAGE),
            );
            match read.await {
                Ok(rows) => {
                    self.more = rows.len() as u32 == INBOX_PAGE;
                    self.page = rows.into_iter();
                }
                Err(e) => return Some(Err(Status::from(e))),
            }
        }
    }
}

/// What a statement RPC accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum StatementKind {
    /// 01 by a recipient.
    Receipt,
    /// 02–06, 15, 16 by a recipient.
    Status,
    /// 13 by the sender.
    Recall,
}

impl ExchangeService {
    async fn submit_inner(
        &self,
        req: Request<Streaming<pb::SubmitRequest>>,
    ) -> Result<pb::SubmitResponse> {
        let app = &self.app;
        let started = Instant::now();
        let note = message_note(&req);
        let sender = app.agency_call(&req)?;
        let _permit = app
            .streams
            .acquire(sender.as_str(), app.limits.max_streams_per_agency)?;
        let mut stream = req.into_inner();
        let begin = match stream
            .message()
            .await
            .map_err(|e| ServerError::malformed("stream", e))?
        {
            Some(pb::SubmitRequest {
                part: Some(Part::Begin(b)),
            }) => b,
            Some(_) => return Err(ServerError::Protocol("the first message must be `begin`")),
            None => return Err(ServerError::Protocol("the stream ended before `begin`")),
        };

        // 1. Parse the header (budgets, strict DER) and check what needs no signature.
        let submission = Submission::parse(&begin.routing_header, begin.submission_signature)
            .map_err(|e| ServerError::unreadable("routing header", &e))?;
        let h = submission.header().header().clone();
        note.set(h.message_id);
        if h.sender != sender {
            return Err(ServerError::SenderNotCaller {
                sender: h.sender,
                caller: sender,
            });
        }
        if h.recipients.contains(&h.sender) {
            return Err(ServerError::SenderIsRecipient(h.sender));
        }
        if h.recipients.len() > app.limits.max_recipients {
            return Err(ServerError::TooManyRecipients {
                count: h.recipients.len(),
                max: app.limits.max_recipients,
            });
        }
        if h.ciphertext_len > app.limits.max_document_bytes {
            return Err(ServerError::DocumentTooLarge {
                len: h.ciphertext_len,
                max: app.limits.max_document_bytes,
            });
        }
        // 2. A message id seen before: the same submission gets its receipt again, without
        //    uploading anything; another submission under that id is refused. A document that
        //    fits in one segment skips this read: the committer finds repeats anyway (in the
        //    same batch read), and uploading one segment again costs less than the round trip.
        if h.ciphertext_len > SEGMENT_LEN as u64
            && let Some(m) = app.db.message(h.message_id.as_bytes()).await?
        {
            return if m.routing_header == begin.routing_header {
                crate::metrics::DUPLICATES.inc();
                Ok(pb::SubmitResponse {
                    receipt: Some(convert::acceptance(&m, true)),
                })
            } else {
                Err(ServerError::MessageIdConflict(h.message_id.to_string()))
            };
        }
        // 3. Origin: the sender's agency seal over the exact header bytes, chain and revocation
        //    checked now; the key envelope is the one the header names (one entry per
        //    recipient under the header's Merkle root).
        let now = OffsetDateTime::now_utc();
        let store = app.trust.store();
        let verified = submission
            .verify(&store, now)
            .map_err(|e| ServerError::signature("submission signature", &e))?;
        let envelope = verified
            .check_key_envelope(&begin.key_envelope)
            .map_err(|e| match e {
                axis_signer::Error::Format(_) => ServerError::malformed("key envelope", e),
                _ => ServerError::KeyEnvelopeMismatch,
            })?;
        // 4. Every recipient is registered.
        let ids: Vec<String> = h.recipients.iter().map(|r| r.as_str().to_owned()).collect();
        let missing = app.unregistered(&ids).await?;
        if !missing.is_empty() {
            return Err(ServerError::RecipientUnknown(missing.join(", ")));
        }
        // 5. The key envelope serves exactly the header's recipients, entry i for recipient i,
        //    by their current encryption certificates: otherwise a recipient would hold a
        //    document it cannot open (a header rewritten to add it), or another agency could
        //    read it. The cache decides an acceptance; a refusal is decided on the directory as
        //    it is now.
        let check = |current: &[(AgencyId, axis_signer::RecipientId)]| {
            verified.check_envelope_recipients(&envelope, current)
        };
        let cached = app
            .encryption_ids
            .current(&app.db, &h.recipients, false)
            .await?;
        if check(&cached).is_err() {
            let current = app
                .encryption_ids
                .current(&app.db, &h.recipients, true)
                .await?;
            check(&current).map_err(|e| match e {
                axis_signer::Error::Envelope(axis_signer::EnvelopeError::RecipientsMismatch {
                    missing,
                    unexpected,
                }) => ServerError::KeyEnvelopeRecipients {
                    missing,
                    unexpected,
                },
                axis_signer::Error::Misuse { .. } => {
                    ServerError::invariant("recipients' certificates do not match the header")
                }
                e => ServerError::malformed("key envelope", e),
            })?;
        }
        // 6. The ciphertext: chunk budget, running length, digest at the end.
        let mut check = verified.ciphertext_check();
        let mut upload = Upload::new(app.db.clone());
        let received: Result<Ciphertext, ServerError> = async {
            let max_chunk = app.limits.max_chunk_bytes;
            while let Some(msg) = stream.message().await.map_err(|e| {
                // tonic refuses a message over its decoding limit before we see it.
                if e.code() == tonic::Code::OutOfRange {
                    ServerError::ChunkTooLarge {
                        len: None,
                        max: max_chunk,
                    }
                } else {
                    ServerError::malformed("stream", e)
                }
            })? {
                match msg.part {
                    Some(Part::Chunk(c)) => {
                        if c.is_empty() {
                            return Err(ServerError::Protocol("empty chunk"));
                        }
                        if c.len() > app.limits.max_chunk_bytes {
                            return Err(ServerError::ChunkTooLarge {
                                len: Some(c.len()),
                                max: app.limits.max_chunk_bytes,
                            });
                        }
                        check.update(&c).map_err(ServerError::ciphertext)?;
                        upload.push(c).await?;
                    }
                    Some(Part::Begin(_)) => {
                        return Err(ServerError::Protocol(
                            "`begin` may only be the first message",
                        ));
                    }
                    None => {
                        return Err(ServerError::Protocol(
                            "a message with neither begin nor chunk",
                        ));
                    }
                }
            }
            check.finish().map_err(ServerError::ciphertext)?;
            upload.finish().await
        }
        .await;
        // A refused upload is removed before the refusal is answered: the caller (and a
        // test counting rows) sees nothing left behind. A call that goes away mid-stream is
        // cleaned up by `Upload`'s drop in the background, and by the janitor after a crash.
        let ciphertext = match received {
            Ok(c) => c,
            Err(e) => {
                upload.discard().await;
                return Err(e);
            }
        };
        let staged = matches!(ciphertext, Ciphertext::Staged { .. });
        // 7. Commit (durably), then answer. Each recipient's delivery keeps its own entry and
        //    audit path (computed here, outside the commit).
        let entries = envelope
            .entries_with_paths()
            .map_err(|_| ServerError::invariant("audit paths of a checked key envelope"))?;
        let logged = app
            .committer
            .commit(Job::Accept {
                submission: Box::new(verified),
                key_envelope: begin.key_envelope,
                entries,
                ciphertext,
            })
            .await?;
        if !(logged.duplicate && staged) {
            upload.keep();
        }
        if logged.duplicate {
            crate::metrics::DUPLICATES.inc();
        } else {
            crate::metrics::ACCEPTED.inc();
            crate::metrics::BYTES_IN.add(h.ciphertext_len);
        }
        crate::metrics::SUBMIT_SECONDS.observe(started.elapsed().as_secs_f64());
        tracing::info!(
            message_id = %h.message_id,
            sender = %h.sender,
            recipients = h.recipients.len(),
            bytes = h.ciphertext_len,
            leaf = logged.leaf_index,
            duplicate = logged.duplicate,
            "accepted"
        );
        Ok(pb::SubmitResponse {
            receipt: Some(pb::AcceptanceReceipt {
                evidence: Some(convert::evidence(&logged)),
                duplicate: logged.duplicate,
            }),
        })
    }

    async fn log_statement(
        &self,
        caller: AgencyId,
        signed: Option<pb::SignedStatement>,
        kind: StatementKind,
        note: MessageNote,
    ) -> Result<pb::LogEvidence> {
        let app = &self.app;
        let s = signed.ok_or(ServerError::Malformed {
            what: "request",
            detail: "the signed statement is missing".into(),
        })?;
        // 1. Parse (budget, strict DER).
        let signed = SignedReceipt::parse(&s.statement, s.signature)
            .map_err(|e| ServerError::malformed("receipt", e))?;
        let r = signed.receipt().receipt().clone();
        note.set(r.message_id);
        // 2. The right call for the status, stated by the caller.
        let allowed = match kind {
            StatementKind::Receipt => r.status == StatusCode::Arrived,
            StatementKind::Recall => r.status == StatusCode::RecallRequested,
            StatementKind::Status => {
                !matches!(r.status, StatusCode::Arrived | StatusCode::RecallRequested)
            }
        };
        if !allowed {
            return Err(ServerError::StatementNotAllowed(format!(
                "status {} is not sent with this call (01: Acknowledge; 13: Recall; others: SendStatus)",
                r.status
            )));
        }
        if r.from != caller {
            return Err(ServerError::StatementNotAllowed(format!(
                "the status is stated by {}, not by the calling agency {caller}",
                r.from
            )));
        }
        // 3. Already logged: the same evidence again.
        let now = OffsetDateTime::now_utc();
        if let Some((_, row)) = app.db.statement_by_hash(&signed.receipt().hash()).await? {
            return Ok(pb::LogEvidence {
                entry: row.logged.entry,
                proof: row.logged.proof,
            });
        }
        // 4. Dated now (within the window), then the caller is a party: the recipient itself,
        //    or for a recall the sender.
        if r.time < now - STATEMENT_MAX_AGE
            || r.time > now + axis_signer::limits::SIGNING_TIME_TOLERANCE
        {
            return Err(ServerError::StatementTime { time: r.time, now });
        }
        let id = r.message_id.as_bytes();
        let not_found = || ServerError::MessageNotFound(r.message_id.to_string());
        let message = app.db.message(id).await?.ok_or_else(not_found)?;
        let recipient = if kind == StatementKind::Recall {
            if message.sender != caller.as_str() {
                return Err(not_found());
            }
            r.to.clone()
        } else {
            caller.clone()
        };
        app.db
            .delivery_state(id, recipient.as_str())
            .await?
            .ok_or_else(not_found)?;
        // 5. The chain so far (verified when logged), then this statement: signature by the
        //    stating agency's seal with current CRLs, party, digests, previous hash, order.
        let header = HeaderBytes::parse(&message.routing_header)
            .map_err(|e| ServerError::stored("routing header", e))?;
        let prior = app
            .db
            .statements(id, Some(recipient.as_str()))
            .await?
            .into_iter()
            .map(|row| SignedReceipt::parse(&row.statement, row.signature))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| ServerError::stored("receipt", e))?;
        let doc = DocumentRef::logged(&header, &recipient).map_err(|_| not_found())?;
        let mut chain = ReceiptChain::resume(doc, &prior)
            .map_err(|e| ServerError::stored("receipt chain", e))?;
        let position = chain.len() as i64;
        let store = app.trust.store();
        let verified = chain
            .push(&signed, &store, now)
            .map_err(|e| ServerError::chain(&e))?
            .clone();
        let new_state = match r.status {
            // An unopened refusal answers the delivery as a 01 does (nothing else can).
            StatusCode::Arrived => Some(state::ACKNOWLEDGED),
            StatusCode::Rejected if r.is_unopened() => Some(state::ACKNOWLEDGED),
            StatusCode::ChangeAccepted if chain.is_withdrawn() => Some(state::WITHDRAWN),
            _ => None,
        };
        // 6. Commit, then answer with the evidence.
        let logged = app
            .committer
            .commit(Job::Statement {
                recipient: recipient.as_str().to_owned(),
                position,
                receipt: Box::new(verified),
                new_state,
            })
            .await?;
        if !logged.duplicate {
            crate::metrics::STATEMENTS.inc();
        }
        tracing::info!(
            message_id = %r.message_id,
            from = %r.from,
            to = %r.to,
            status = %r.status,
            leaf = logged.leaf_index,
            "status logged"
        );
        Ok(convert::evidence(&logged))
    }

    fn fetch_inner(&self, req: Request<pb::FetchRequest>) -> Result<BoxStream<pb::FetchResponse>> {
        let app = self.app.clone();
        let caller = app.agency_call(&req)?;
        let permit = app
            .streams
            .acquire(caller.as_str(), app.limits.max_streams_per_agency)?;
        let note = message_note(&req);
        let r = req.into_inner();
        let id = parse_message_id(&r.message_id)?;
        note.set(id);
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let _permit = permit;
            let result: Result<()> = async {
                let not_found = || ServerError::MessageNotFound(id.to_string());
                match app
                    .db
                    .delivery_state(id.as_bytes(), caller.as_str())
                    .await?
                {
                    None => return Err(not_found()),
                    Some(state::WITHDRAWN) => return Err(ServerError::Withdrawn),
                    Some(_) => {}
                }
                let m = app.db.message(id.as_bytes()).await?.ok_or_else(not_found)?;
                if r.offset > m.ciphertext_len {
                    return Err(ServerError::Malformed {
                        what: "offset",
                        detail: format!(
                            "{} is beyond the document's {} bytes",
                            r.offset, m.ciphertext_len
                        ),
                    });
                }
                let mut seq = (r.offset / SEGMENT_LEN as u64) as i64;
                let mut skip = (r.offset % SEGMENT_LEN as u64) as usize;
                let mut sent = r.offset;
                while sent < m.ciphertext_len {
                    let data = app.db.segment(m.blob_id, seq).await?.ok_or_else(|| {
                        ServerError::stored("ciphertext", format!("segment {seq} missing"))
                    })?;
                    let chunk = data.get(skip..).unwrap_or_default().to_vec();
                    sent += chunk.len() as u64;
                    crate::metrics::BYTES_OUT.add(chunk.len() as u64);
                    if tx.send(Ok(pb::FetchResponse { chunk })).await.is_err() {
                        return Ok(()); // the client went away
                    }
                    seq += 1;
                    skip = 0;
                }
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = tx.send(Err(Status::from(e))).await;
            }
        });
        Ok(Box::pin(ReceiverStream::new(rx)))
    }

    async fn subscribe_inner(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Result<BoxStream<pb::Delivery>> {
        let app = self.app.clone();
        let caller = app.agency_call(&req)?;
        let cursor = req.into_inner().after_cursor;
        let after = match parse_cursor(&cursor) {
            Cursor::Start => -1,
            Cursor::After(seq) if app.db.is_delivery_cursor(caller.as_str(), seq).await? => seq,
            Cursor::After(_) | Cursor::Malformed => {
                return Err(ServerError::CursorInvalid(cursor_excerpt(&cursor)));
            }
        };
        let permit = app
            .streams
            .acquire(caller.as_str(), app.limits.max_streams_per_agency)?;
        let inbox = Inbox {
            wake: app.notifier.subscribe(caller.as_str()),
            shutdown: app.shutdown.clone(),
            app,
            caller,
            after,
            page: Vec::new().into_iter(),
            more: true,
            _permit: permit,
        };
        Ok(Box::pin(futures_util::stream::unfold(
            Some(inbox),
            |inbox| async move {
                let mut inbox = inbox?;
                inbox.next().await.map(|d| {
                    let go_on = d.is_ok().then_some(inbox);
                    (d, go_on)
                })
            },
        )))
    }

    async fn history_inner(
        &self,
        req: Request<pb::GetHistoryRequest>,
    ) -> Result<pb::GetHistoryResponse> {
        let app = &self.app;
        let caller = app.agency_call(&req)?;
        let id = parse_message_id(&req.get_ref().message_id)?;
        message_note(&req).set(id);
        let with_completeness = req.get_ref().completeness;
        let not_found = || ServerError::MessageNotFound(id.to_string());
        let m = app.db.message(id.as_bytes()).await?.ok_or_else(not_found)?;
        let is_sender = m.sender == caller.as_str();
        // A recipient's own key-envelope entry; none: the caller is not a party.
        let own_entry = match is_sender {
            true => None,
            false => Some(
                app.db
                    .envelope_entry(id.as_bytes(), caller.as_str())
                    .await?
                    .ok_or_else(not_found)?,
            ),
        };
        // The head before the statements: every statement below its size is then read.
        let head = match with_completeness {
            true => Some(completeness::latest_head(&app.db).await?),
            false => None,
        };
        let own = (!is_sender).then_some(caller.as_str());
        let mut entries = app.db.statements(id.as_bytes(), own).await?;
        let completeness = match head {
            Some((bytes, signature, head)) => {
                let size = head.head().tree_size;
                entries.retain(|s| s.logged.leaf_index < size);
                let recipients = if is_sender {
                    HeaderBytes::parse(&m.routing_header)
                        .map_err(|e| ServerError::log_state("routing header", e))?
                        .header()
                        .recipients
                        .clone()
                } else {
                    vec![caller.clone()]
                };
                let statement = completeness::statement_of(
                    id,
                    &head,
                    m.logged.leaf_index,
                    &recipients,
                    &entries,
                    OffsetDateTime::now_utc(),
                );
                Some(completeness::sign(
                    &app.log_signer,
                    &statement,
                    (bytes, signature),
                )?)
            }
            None => None,
        };
        // The sender gets the whole key envelope it submitted; a recipient its own entry.
        let (key_envelope, key_envelope_entry) = match own_entry {
            None => (
                app.db
                    .key_envelope(id.as_bytes())
                    .await?
                    .ok_or_else(not_found)?,
                None,
            ),
            Some(entry) => (Vec::new(), Some(convert::envelope_entry(entry))),
        };
        Ok(pb::GetHistoryResponse {
            acceptance: Some(convert::acceptance(&m, false)),
            routing_header: m.routing_header,
            submission_signature: m.submission_signature,
            key_envelope,
            key_envelope_entry,
            entries: entries.into_iter().map(convert::history_entry).collect(),
            completeness,
        })
    }
}

#[tonic::async_trait]
impl pb::exchange_server::Exchange for ExchangeService {
    async fn submit(
        &self,
        req: Request<Streaming<pb::SubmitRequest>>,
    ) -> std::result::Result<Response<pb::SubmitResponse>, Status> {
        // A submission under way when the node stops being ready fails then (a read or a
        // commit the database does not answer would otherwise wait out its own deadline).
        let answer = tokio::select! {
            biased;
            r = self.submit_inner(req) => r,
            why = self.app.committer.not_ready() => Err(crate::commit::not_ready(&why)),
        };
        match answer {
            Ok(r) => Ok(Response::new(r)),
            Err(e) => {
                // The call's log line is the observing layer's (`observe`).
                crate::metrics::REFUSED.inc();
                Err(e.into())
            }
        }
    }

    type SubscribeStream = BoxStream<pb::Delivery>;

    async fn subscribe(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> std::result::Result<Response<Self::SubscribeStream>, Status> {
        Ok(Response::new(self.subscribe_inner(req).await?))
    }

    type FetchStream = BoxStream<pb::FetchResponse>;

    async fn fetch(
        &self,
        req: Request<pb::FetchRequest>,
    ) -> std::result::Result<Response<Self::FetchStream>, Status> {
        Ok(Response::new(self.fetch_inner(req)?))
    }

    async fn acknowledge(
        &self,
        req: Request<pb::AcknowledgeRequest>,
    ) -> std::result::Result<Response<pb::AcknowledgeResponse>, Status> {
        let caller = self.app.agency_call(&req)?;
        let note = message_note(&req);
        let evidence = self
            .log_statement(
                caller,
                req.into_inner().receipt,
                StatementKind::Receipt,
                note,
            )
            .await?;
        Ok(Response::new(pb::AcknowledgeResponse {
            evidence: Some(evidence),
        }))
    }

    async fn send_status(
        &self,
        req: Request<pb::SendStatusRequest>,
    ) -> std::result::Result<Response<pb::SendStatusResponse>, Status> {
        let caller = self.app.agency_call(&req)?;
        let note = message_note(&req);
        let evidence = self
            .log_statement(caller, req.into_inner().status, StatementKind::Status, note)
            .await?;
        Ok(Response::new(pb::SendStatusResponse {
            evidence: Some(evidence),
        }))
    }

    async fn recall(
        &self,
        req: Request<pb::RecallRequest>,
    ) -> std::result::Result<Response<pb::RecallResponse>, Status> {
        let caller = self.app.agency_call(&req)?;
        let note = message_note(&req);
        let evidence = self
            .log_statement(caller, req.into_inner().status, StatementKind::Recall, note)
            .await?;
        Ok(Response::new(pb::RecallResponse {
            evidence: Some(evidence),
        }))
    }

    async fn get_history(
        &self,
        req: Request<pb::GetHistoryRequest>,
    ) -> std::result::Result<Response<pb::GetHistoryResponse>, Status> {
        Ok(Response::new(self.history_inner(req).await?))
    }

    async fn get_limits(
        &self,
        req: Request<pb::GetLimitsRequest>,
    ) -> std::result::Result<Response<pb::Limits>, Status> {
        self.app.any_call(&req)?;
        let l = &self.app.limits;
        Ok(Response::new(pb::Limits {
            max_document_bytes: l.max_document_bytes,
            max_recipients: u32::try_from(l.max_recipients).unwrap_or(u32::MAX),
            max_chunk_bytes: u32::try_from(l.max_chunk_bytes).unwrap_or(u32::MAX),
            max_streams_per_agency: u32::try_from(l.max_streams_per_agency).unwrap_or(u32::MAX),
            rate_per_agency: l.rate_per_agency,
            burst_per_agency: l.burst_per_agency,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::{Cursor, parse_cursor};

    #[test]
    fn only_cursors_written_as_the_axis_writes_them_name_a_position() {
        assert_eq!(parse_cursor(""), Cursor::Start);
        assert_eq!(parse_cursor("0"), Cursor::After(0));
        assert_eq!(parse_cursor("42"), Cursor::After(42));
        for bad in [
            "-1",
            "+5",
            "007",
            "x",
            " 1",
            "1 ",
            "1.0",
            "99999999999999999999",
            "-0",
        ] {
            assert_eq!(parse_cursor(bad), Cursor::Malformed, "{bad:?}");
        }
    }
}
