//! The outbox: what a DMS hands over is checked, sealed **once**, kept, and submitted until
//! the axis accepts it — always the same sealed bytes, so a repeat after a crash or an outage
//! is answered with the first acceptance and nothing is sent twice.
//!
//! A document (`accept_edoc`):
//!
//! 1. The edXML package is parsed and mapped (hostile or malformed input is refused with the
//!    parser's reason) and its `From` must be this agency; nothing is kept on refusal.
//! 2. The same package handed over again by the same system (a DMS repeating a call whose
//!    answer it lost) gets the first one's id; nothing new is sealed or sent.
//! 3. It is sealed (the personal signature as [`Signing`] says — none through Axis on the
//!    VXP path, stated in the manifest — the seal, encryption for every recipient, whose entry
//!    must be in the axis directory: an unknown recipient is refused here, nothing kept), the
//!    ciphertext written durably, then the row committed: only then does the DMS get its id.
//!    A document whose person signs in the DMS's world goes through [`crate::prepared`]
//!    first and joins here with its verified signature.
//! 4. The worker submits it until the axis answers, retrying transient failures with backoff;
//!    a refusal for good is recorded with the axis's reason.
//!
//! A status (`accept_status`) is checked the same way and kept as the DMS wrote it; the worker
//! signs it with the agency seal when it sends it. Before sending again a status whose earlier
//! attempt may have reached the axis, the worker looks for it in the document's history.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_client::edxml::{self, Discard, Package};
use axis_client::{MessageId, OutgoingDocument, SealedDocument, StatusCode};
use axis_proto::reasons::gateway as gw;

use crate::error::Refusal;
use crate::metrics::stage;
use crate::service::{Gateway, write_durably};
use crate::store::{Inserted, OutRow, kind, now_ms, out_state};
use crate::submission::Submission;

/// Outbox rows taken per pass.
const BATCH: i64 = 16;
/// Longest pause between two attempts of one submission.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What a DMS gets back for a document or status handed over.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The id to follow it with (a document's: its axis message id).
    pub id: String,
    /// It had been handed over before: this is the first one.
    pub repeat: bool,
}

/// SHA-256 of a request body, without the CRLF VNPT's SDK appends.
pub fn body_digest(body: &[u8]) -> [u8; 32] {
    let trimmed = trim_body(body);
    let d = ring::digest::digest(&ring::digest::SHA256, trimmed);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The body without the trailing line break VNPT's SDK writes after the file.
pub fn trim_body(body: &[u8]) -> &[u8] {
    let mut end = body.len();
    while end > 0 && matches!(body[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &body[..end]
}

/// How the personal signature of a document handed over in one call is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signing {
    /// None through Axis: the manifest says `sealOnly` and the agency seal alone vouches for
    /// the document (the VXP-compatible path, whose DMS cannot take part in the signature).
    SealOnly,
    /// With the personal signer of the agency's configuration, held by the gateway.
    GatewayKey,
}

/// A document checked by step 1, with what its outbox row records.
pub(crate) struct CheckedEdoc {
    pub(crate) doc: OutgoingDocument,
    pub(crate) digest: [u8; 32],
    pub(crate) recipients: String,
    pub(crate) code: String,
    pub(crate) subject: String,
}

/// Step 1: the package (or JSON metadata) parsed and mapped, its sender this agency; `to`
/// replaces the recipients when given.
pub(crate) fn check_edoc(
    gw_: &Gateway,
    submission: &Submission,
    to: Option<Vec<axis_client::AgencyId>>,
) -> Result<CheckedEdoc, Refusal> {
    refuse_if_inconsistent(gw_)?;
    let doc = submission.document(to)?;
    if let Some(sender) = &doc.sender
        && sender.organ_id != gw_.me
    {
        return Err(Refusal::new(
            gw::SENDER_NOT_AGENCY,
            axum::http::StatusCode::FORBIDDEN,
            format!(
                "the package is from {} (From/OrganId); this gateway sends for {}",
                sender.organ_id, gw_.me
            ),
        ));
    }
    let recipients: Vec<String> = doc
        .recipients
        .iter()
        .map(|r| r.agency_id.to_string())
        .collect();
    Ok(CheckedEdoc {
        digest: submission.digest(),
        recipients: recipients.join(" "),
        code: doc.code.to_string(),
        subject: doc.subject.clone(),
        doc,
    })
}

/// Steps 1 to 3 for a document handed over in one call.
pub async fn accept_edoc(
    gw_: &Arc<Gateway>,
    system: &str,
    submission: &Submission,
    to: Option<Vec<axis_client::AgencyId>>,
    signing: Signing,
) -> Result<Accepted, Refusal> {
    let started = Instant::now();
    // Step 1.
    let c = check_edoc(gw_, submission, to)?;
    // Step 2.
    if let Some(id) = gw_.db.outbox_find(system, kind::EDOC, &c.digest).await? {
        return Ok(Accepted { id, repeat: true });
    }
    // Step 3.
    let message_id =
        MessageId::random().map_err(|e| Refusal::internal("choosing a message id", e))?;
    let doc = c.doc.message_id(message_id);
    let sealed = match signing {
        Signing::SealOnly => gw_.client.seal_without_personal_signature(doc).await,
        Signing::GatewayKey => gw_.client.seal(doc).await,
    }
    .map_err(|e| Refusal::from_sdk("sealing the document", &e))?;
    gw_.metrics.stage(stage::SEND_SEAL, started.elapsed());
    keep_sealed(
        gw_,
        system,
        &c.digest,
        &sealed,
        c.recipients,
        c.code,
        c.subject,
    )
    .await
}

/// Step 3's end: the ciphertext on disk, then the row.
pub async fn keep_sealed(
    gw_: &Arc<Gateway>,
    system: &str,
    digest: &[u8; 32],
    sealed: &SealedDocument,
    recipients: String,
    code: String,
    subject: String,
) -> Result<Accepted, Refusal> {
    let started = Instant::now();
    let id = sealed.message_id().to_string();
    let file_name = format!("{id}.sealed");
    let path = gw_.outbox_dir().join(&file_name);
    let writing = sealed.clone();
    let to = path.clone();
    tokio::task::spawn_blocking(move || {
        write_durably(&to, |f| {
            writing
                .write_ciphertext(f)
                .map_err(|e| std::io::Error::other(e.to_string()))
        })
    })
    .await
    .map_err(|e| Refusal::internal("keeping the sealed document", e))?
    .map_err(|e| Refusal::internal("keeping the sealed document", e))?;
    let now = now_ms();
    let s = sealed.sealed();
    let row = OutRow {
        id: id.clone(),
        kind: kind::EDOC.into(),
        system_id: system.into(),
        message_id: id.clone(),
        document_id: sealed.document_id().to_string(),
        parties: recipients,
        code,
        subject,
        state: out_state::QUEUED.into(),
        attempts: 0,
        error_reason: None,
        error_message: None,
        created_ms: now,
        updated_ms: now,
        routing_header: Some(s.submission.header().as_bytes().to_vec()),
        submission_signature: Some(s.submission.signature().to_vec()),
        key_envelope: Some(s.key_envelope.clone()),
        ciphertext_file: Some(file_name),
        package: None,
        leaf_index: None,
        accepted_ms: None,
    };
    match gw_.db.outbox_insert(&row, digest).await {
        Ok(Inserted::New) => {
            gw_.metrics.stage(stage::SEND_KEEP, started.elapsed());
            gw_.outbox_wake.notify_one();
            Ok(Accepted { id, repeat: false })
        }
        Ok(Inserted::Existing(first)) => {
            // The same request raced this one: keep the first, drop this sealing.
            let _ = std::fs::remove_file(&path);
            Ok(Accepted {
                id: first,
                repeat: true,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            Err(e.into())
        }
    }
}

/// A status package a DMS wrote: checked, matched to the document it is about, kept.
pub async fn accept_status(
    gw_: &Arc<Gateway>,
    system: &str,
    body: &[u8],
) -> Result<Accepted, Refusal> {
    refuse_if_inconsistent(gw_)?;
    let package = trim_body(body);
    let parsed = edxml::parse(package, &mut Discard).map_err(|e| {
        Refusal::new(
            e.kind().as_str(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("the edXML status: {e}"),
        )
    })?;
    let Package::Status(status) = parsed.package else {
        return Err(Refusal::malformed(
            "the package is a document, but messagetype says status",
        ));
    };
    let axis = edxml::status_to_axis(&status).map_err(|e| {
        Refusal::new(
            e.kind().as_str(),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("the edXML status cannot travel as a receipt: {e}"),
        )
    })?;
    if axis.from != gw_.me {
        return Err(Refusal::new(
            gw::SENDER_NOT_AGENCY,
            axum::http::StatusCode::FORBIDDEN,
            format!(
                "the status is stated by {} (From/OrganId); this gateway states for {}",
                axis.from, gw_.me
            ),
        ));
    }
    // A status read from edXML always names its document (only an unopened refusal, which the
    // SDK makes, names none).
    let document_id = axis
        .document_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let other = axis.to.to_string();
    let message_id = if axis.status == StatusCode::RecallRequested {
        gw_.db
            .sent_by_document_id(&document_id)
            .await?
            .filter(|r| r.parties.split(' ').any(|p| p == other))
            .map(|r| r.message_id)
    } else {
        gw_.db
            .received_by_document_id(&document_id, &other)
            .await?
            .map(|r| r.message_id)
    };
    let message_id = message_id.ok_or_else(|| {
        Refusal::not_found(format!(
            "no document {document_id} with {other} at this gateway (ResponseFor)"
        ))
    })?;
    let digest = body_digest(body);
    if let Some(id) = gw_.db.outbox_find(system, kind::STATUS, &digest).await? {
        return Ok(Accepted { id, repeat: true });
    }
    let id = MessageId::random()
        .map_err(|e| Refusal::internal("choosing an id", e))?
        .to_string();
    let now = now_ms();
    let row = OutRow {
        id: id.clone(),
        kind: kind::STATUS.into(),
        system_id: system.into(),
        message_id,
        document_id,
        parties: other,
        code: axis.status.to_string(),
        subject: axis.reason.clone(),
        state: out_state::QUEUED.into(),
        attempts: 0,
        error_reason: None,
        error_message: None,
        created_ms: now,
        updated_ms: now,
        routing_header: None,
        submission_signature: None,
        key_envelope: None,
        ciphertext_file: None,
        package: Some(package.to_vec()),
        leaf_index: None,
        accepted_ms: None,
    };
    match gw_.db.outbox_insert(&row, &digest).await? {
        Inserted::New => {
            gw_.outbox_wake.notify_one();
            Ok(Accepted { id, repeat: false })
        }
        Inserted::Existing(first) => Ok(Accepted {
            id: first,
            repeat: true,
        }),
    }
}

/// Refuses to exchange once the witness found the axis's log rewritten.
pub fn refuse_if_inconsistent(gw_: &Gateway) -> Result<(), Refusal> {
    if gw_.log_consistent() {
        Ok(())
    } else {
        Err(Refusal::new(
            gw::LOG_INCONSISTENT,
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "the axis's log failed this gateway's consistency check; it exchanges nothing until \
             the operators have looked into it",
        ))
    }
}

/// Step 4: submits what is due, until shutdown, up to `send_concurrency` items at once.
///
/// An item is in flight at most once (the worker remembers which), and the items about one
/// document (a document and the statuses stated on it) one after the other, oldest first: a
/// status never overtakes the one before it. At shutdown the attempts in flight finish.
pub async fn run(gw_: Arc<Gateway>) {
    let limit = gw_.config.send_concurrency;
    let mut tasks = tokio::task::JoinSet::new();
    // The document each task in flight is about, by task.
    let mut busy: HashMap<tokio::task::Id, String> = HashMap::new();
    loop {
        if gw_.stopping() {
            break;
        }
        if gw_.log_consistent() && tasks.len() < limit {
            // Rows in flight are still queued: read past them.
            let want = BATCH.max(i64::try_from(limit).unwrap_or(BATCH));
            let skip = i64::try_from(busy.len()).unwrap_or(0);
            match gw_.db.outbox_due(now_ms(), want + skip).await {
                Ok(rows) => {
                    let mut seen: HashSet<String> = busy.values().cloned().collect();
                    for row in rows {
                        // One item per document at a time; a later one waits for its turn.
                        if !seen.insert(row.message_id.clone()) {
                            continue;
                        }
                        if tasks.len() >= limit {
                            break;
                        }
                        let key = row.message_id.clone();
                        let g = gw_.clone();
                        let handle = tasks.spawn(async move { submit(&g, row).await });
                        busy.insert(handle.id(), key);
                    }
                }
                Err(e) => tracing::error!(error = %e, "reading the outbox"),
            }
        }
        let mut s = gw_.shutdown.clone();
        tokio::select! {
            done = tasks.join_next_with_id(), if !tasks.is_empty() => {
                settled(&mut busy, done);
                // Take whatever else finished, then read the outbox again at once.
                while let Some(done) = tasks.try_join_next_with_id() {
                    settled(&mut busy, Some(done));
                }
            }
            _ = gw_.outbox_wake.notified(), if tasks.len() < limit => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = s.wait_for(|v| *v) => break,
        }
    }
    while let Some(done) = tasks.join_next_with_id().await {
        settled(&mut busy, Some(done));
    }
}

/// Forgets a finished attempt.
fn settled(
    busy: &mut HashMap<tokio::task::Id, String>,
    done: Option<Result<(tokio::task::Id, ()), tokio::task::JoinError>>,
) {
    match done {
        Some(Ok((id, ()))) => {
            busy.remove(&id);
        }
        Some(Err(e)) => {
            if e.is_panic() {
                tracing::error!(error = %e, "an outbox attempt panicked; it is tried again");
            }
            busy.remove(&e.id());
        }
        None => {}
    }
}

/// One attempt of one row.
async fn submit(gw_: &Arc<Gateway>, row: OutRow) {
    let started = Instant::now();
    if row.kind == kind::EDOC && row.attempts == 0 {
        let queued = u64::try_from(now_ms() - row.created_ms).unwrap_or(0);
        gw_.metrics
            .stage(stage::SEND_QUEUE, Duration::from_millis(queued));
    }
    let outcome = if row.kind == kind::EDOC {
        submit_document(gw_, &row).await
    } else {
        send_status(gw_, &row).await
    };
    if row.kind == kind::EDOC && outcome.is_ok() {
        gw_.metrics.stage(stage::SEND_SUBMIT, started.elapsed());
    }
    let recording = Instant::now();
    let stored = match outcome {
        Ok((leaf_index, accepted_ms)) => {
            let watch = (row.kind == kind::EDOC).then(|| {
                (
                    row.message_id.as_str(),
                    ms(gw_.config.status_poll),
                    now_ms() + ms(gw_.config.watch),
                )
            });
            let r = gw_
                .db
                .outbox_accepted(&row.id, leaf_index, accepted_ms, watch)
                .await;
            if r.is_ok() {
                if row.kind == kind::EDOC {
                    gw_.metrics.stage(stage::SEND_RECORD, recording.elapsed());
                    gw_.metrics
                        .sent
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if let Some(f) = &row.ciphertext_file {
                        let _ = std::fs::remove_file(gw_.outbox_dir().join(f));
                    }
                } else {
                    gw_.metrics
                        .statuses_sent
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = gw_
                        .db
                        .watch_soon(&row.message_id, ms(gw_.config.status_poll))
                        .await;
                    gw_.watch_wake.notify_one();
                }
                tracing::info!(id = %row.id, kind = %row.kind, leaf_index, "accepted by the axis");
            }
            r
        }
        Err(AttemptError::Sdk(e)) if e.is_retryable() => {
            let pause = backoff(row.attempts);
            tracing::warn!(id = %row.id, attempt = row.attempts + 1, error = %e, ?pause, "the axis did not answer; trying again later");
            gw_.db
                .outbox_retry(&row.id, now_ms() + ms(pause), &e.to_string())
                .await
        }
        Err(AttemptError::NotYet(why)) => {
            tracing::info!(id = %row.id, why, "not yet; trying again shortly");
            gw_.db
                .outbox_retry(&row.id, now_ms() + ms(backoff(0)), why)
                .await
        }
        Err(AttemptError::Kept(e)) => {
            tracing::error!(id = %row.id, error = %e, "an outbox item cannot be used");
            gw_.db
                .outbox_failed(&row.id, gw::GATEWAY_INTERNAL, &e)
                .await
        }
        Err(AttemptError::Sdk(e)) => {
            let refusal = Refusal::from_sdk("the axis refused it", &e);
            tracing::warn!(id = %row.id, reason = %refusal.reason, error = %e, "refused for good");
            gw_.db
                .outbox_failed(&row.id, &refusal.reason, &e.to_string())
                .await
        }
    };
    if let Err(e) = stored {
        tracing::error!(id = %row.id, error = %e, "recording an outbox attempt");
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 10)).unwrap_or(10);
    (Duration::from_millis(500) * 2u32.pow(exp)).min(MAX_BACKOFF)
}

/// The kept bytes, submitted.
async fn submit_document(gw_: &Gateway, row: &OutRow) -> Result<(i64, i64), AttemptError> {
    let (Some(header), Some(signature), Some(envelope), Some(file)) = (
        &row.routing_header,
        &row.submission_signature,
        &row.key_envelope,
        &row.ciphertext_file,
    ) else {
        return Err(kept_error(row, "its sealed parts are missing"));
    };
    let ciphertext = std::fs::File::open(gw_.outbox_dir().join(file))
        .map_err(|e| kept_error(row, &format!("its ciphertext: {e}")))?;
    let document_id = row
        .document_id
        .parse()
        .map_err(|_| kept_error(row, "its DocumentId"))?;
    let sealed = SealedDocument::from_parts(
        document_id,
        header,
        signature.clone(),
        envelope.clone(),
        ciphertext,
    )?;
    let receipt = gw_.client.submit(&sealed).await?;
    crate::witness::observe(gw_, &receipt.evidence).await;
    Ok((
        i64::try_from(receipt.leaf_index).unwrap_or(i64::MAX),
        crate::store::millis(receipt.accepted_at),
    ))
}

/// Why an attempt did not settle.
#[derive(Debug)]
enum AttemptError {
    /// The SDK's error (retryable or not).
    Sdk(axis_client::Error),
    /// A kept row that cannot be used (the data directory was changed under the gateway):
    /// failed for good.
    Kept(String),
    /// Not yet: something it follows is still to be sent; tried again later.
    NotYet(&'static str),
}

impl From<axis_client::Error> for AttemptError {
    fn from(e: axis_client::Error) -> Self {
        AttemptError::Sdk(e)
    }
}

fn kept_error(row: &OutRow, what: &str) -> AttemptError {
    AttemptError::Kept(format!("outbox item {}: {what}", row.id))
}

/// A status: sent unless an earlier attempt already reached the axis.
async fn send_status(gw_: &Gateway, row: &OutRow) -> Result<(i64, i64), AttemptError> {
    let message_id =
        MessageId::parse(&row.message_id).map_err(|_| kept_error(row, "its message id"))?;
    let package = row
        .package
        .as_deref()
        .ok_or_else(|| kept_error(row, "its package"))?;
    if row.attempts > 0
        && let Some(found) = already_logged(gw_, &message_id, row).await?
    {
        return Ok(found);
    }
    // A recipient's status follows its receipt 01, which names the document in the chain: a
    // DMS that answers before the gateway's own 01 was logged waits for it.
    if row.code != StatusCode::Arrived.to_string()
        && let Some(r) = gw_
            .db
            .received_get(&row.message_id)
            .await
            .map_err(|e| kept_error(row, &e.to_string()))?
        && r.ack_state == crate::store::ack_state::PENDING
    {
        return Err(AttemptError::NotYet(
            "the receipt 01 of its document is not logged yet",
        ));
    }
    let logged = if row.code == StatusCode::Arrived.to_string() {
        let delivery = gw_.client.delivery(&message_id).await?;
        let opened = gw_
            .client
            .open(&delivery, &mut crate::inbox::NullSink)
            .await?;
        gw_.client.acknowledge_edxml(&opened, package).await?
    } else {
        gw_.client.send_edxml_status(&message_id, package).await?
    };
    crate::witness::observe(gw_, &logged.evidence).await;
    Ok((
        i64::try_from(logged.evidence.leaf_index).unwrap_or(i64::MAX),
        crate::store::millis(logged.evidence.logged_at),
    ))
}

/// The status of `row`, if the document's history has it already (this agency's, same code
/// and description, stated after the row was kept).
async fn already_logged(
    gw_: &Gateway,
    message_id: &MessageId,
    row: &OutRow,
) -> Result<Option<(i64, i64)>, AttemptError> {
    let history = gw_.client.history(message_id).await?;
    let since = crate::store::from_millis("created_ms", row.created_ms - 5 * 60 * 1000)
        .map_err(|e| kept_error(row, &e.to_string()))?;
    Ok(history
        .timelines
        .iter()
        .flat_map(|t| &t.events)
        .find(|e| {
            e.stated_by == gw_.me
                && e.status.to_string() == row.code
                && e.reason == row.subject
                && e.time >= since
        })
        .map(|e| {
            (
                i64::try_from(e.evidence.leaf_index).unwrap_or(i64::MAX),
                crate::store::millis(e.evidence.logged_at),
            )
        }))
}
