//! Receipts and statuses (acknowledge, business statuses, recall) and the verified history of a
//! document. Stateless: each call rebuilds the receipt chain from the axis's history and
//! verifies it before adding to it.

use axis_edxml::AxisStatus;
use axis_evidence::{Coverage, SignedCompleteness, SignedTreeHead, VerifiedCompleteness};
use axis_pki::{AgencyId, TrustStore};
use axis_proto::v1 as pb;
use axis_signer::{
    DocumentId, DocumentRef, MessageId, Receipt, ReceiptChain, SignedReceipt, StatusCode,
    Submission, VerifiedSubmission,
};
use time::OffsetDateTime;

use crate::client::Client;
use crate::convert::{self, signed_statement};
use crate::error::{Error, Result};
use crate::nodes::{self, Retry};
use crate::open::OpenedDocument;
use crate::proof::{self, Evidence};

/// A receipt or status the axis logged, verified: the statement, its exact signed bytes, and
/// the log evidence.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoggedStatement {
    /// The statement.
    pub receipt: Receipt,
    /// The statement's exact bytes and signature, as logged.
    pub signed: SignedReceipt,
    /// The verified log evidence.
    pub evidence: Evidence,
    /// The statement was already logged before this call (an acknowledgement repeated after a
    /// restart, for instance): this is the earlier one, and nothing new was sent.
    pub already_logged: bool,
}

/// One verified event of a document's history for one recipient.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HistoryEvent {
    /// The status.
    pub status: StatusCode,
    /// When the stating agency stated it.
    pub time: OffsetDateTime,
    /// The agency that stated it (the recipient; the sender for 13).
    pub stated_by: AgencyId,
    /// Who signed it (the seal certificate's name).
    pub signer: String,
    /// The reason or description (may be empty).
    pub reason: String,
    /// A refusal (02) by a recipient that could not open the document: it names nothing
    /// inside the package ([`Client::refuse_unopenable`]).
    pub unopened: bool,
    /// The verified log evidence (time logged, leaf index).
    pub evidence: Evidence,
    /// The statement's exact bytes and signature.
    pub signed: SignedReceipt,
}

/// The verified statuses of a document for one recipient, in order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Timeline {
    /// The recipient agency.
    pub recipient: AgencyId,
    /// Its events, oldest first (empty: nothing yet, not even the delivery receipt).
    pub events: Vec<HistoryEvent>,
    /// The recipient agreed to a recall: its copy is withdrawn.
    pub withdrawn: bool,
    /// The size of the signed tree head as of which the axis's signed completeness statement
    /// proves these are all the statements its log holds for this recipient (`None` if the
    /// history was read without one).
    pub complete_as_of: Option<u64>,
}

impl Timeline {
    /// The latest status.
    pub fn last_status(&self) -> Option<StatusCode> {
        self.events.last().map(|e| e.status)
    }
}

/// The verified history of a document ([`Client::history`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct History {
    /// The message id.
    pub message_id: MessageId,
    /// The sending agency.
    pub sender: AgencyId,
    /// Every recipient agency of the document.
    pub recipients: Vec<AgencyId>,
    /// The DocumentId, once a recipient's receipt has named it.
    pub document_id: Option<DocumentId>,
    /// The verified acceptance by the axis.
    pub accepted: Evidence,
    /// Per recipient the caller may see (all for the sender, its own for a recipient), its
    /// verified timeline, in the header's recipient order.
    pub timelines: Vec<Timeline>,
    /// The axis's verified completeness statement and whose chains it covers (every
    /// recipient for the sender, its own for a recipient).
    pub completeness: Option<(VerifiedCompleteness, Coverage)>,
}

/// The history as the axis sent it, verified.
struct Verified {
    submission: VerifiedSubmission,
    accepted: Evidence,
    chains: Vec<(AgencyId, ReceiptChain, Vec<HistoryEvent>)>,
    completeness: Option<(VerifiedCompleteness, Coverage)>,
}

/// Statuses a recipient sends with [`Client::send_status`].
fn check_recipient_status(status: StatusCode) -> Result<()> {
    use StatusCode::*;
    match status {
        Rejected | Accepted | Assigned | Processing | Completed | ChangeAccepted
        | ChangeRefused => Ok(()),
        Arrived => Err(Error::invalid(
            "status 01 is the delivery receipt: it is sent by acknowledge (`axis open`)",
        )),
        RecallRequested => Err(Error::invalid(
            "status 13 is the sender's recall: use recall (`axis recall`)",
        )),
        other => Err(Error::invalid(format!("status {other} cannot be sent"))),
    }
}

impl Client {
    /// Acknowledges an opened document with the signed delivery receipt (status 01) by this
    /// agency's seal, bound to the manifest and ciphertext digests, and verifies the axis's log
    /// evidence for it. Idempotent: if this agency's 01 is already in the history, that one is
    /// verified and returned (`already_logged`).
    pub async fn acknowledge(&self, opened: &OpenedDocument) -> Result<LoggedStatement> {
        self.acknowledge_as(opened, None).await
    }

    /// [`Client::acknowledge`] for a document just opened from the inbox, which this agency
    /// has not answered yet as far as the caller knows: the receipt chain starts from the
    /// opened document itself instead of the history read back first — one round trip, not
    /// two. A repeat is safe: the same signed receipt sent again is answered with the entry
    /// logged, and if the axis refuses this one because the chain has moved on (a 01 logged by
    /// an earlier attempt whose answer was lost, the sender's recall), this does what
    /// [`Client::acknowledge`] does, from the verified history.
    pub async fn acknowledge_opened(&self, opened: &OpenedDocument) -> Result<LoggedStatement> {
        let id = opened.message_id();
        let chain = ReceiptChain::new(DocumentRef::received(opened.received()));
        let first = async {
            let signed = self.state(&chain, StatusCode::Arrived, "", None).await?;
            self.send_acknowledge(&id, signed).await
        };
        match first.await {
            Ok(logged) => Ok(logged),
            Err(e) if e.is_retryable() => Err(e),
            Err(e) => {
                tracing::debug!(%id, error = %e, "receipt 01 from the document refused; from the history");
                self.acknowledge(opened).await
            }
        }
    }

    /// [`Client::acknowledge`], with the fields of an edXML status 01 when `edxml` is given.
    pub(crate) async fn acknowledge_as(
        &self,
        opened: &OpenedDocument,
        edxml: Option<AxisStatus>,
    ) -> Result<LoggedStatement> {
        let me = self.me()?.clone();
        let id = opened.message_id();
        let received = opened.received();
        let v = self
            .verified_history(&id, Some(&me), Some(DocumentRef::received(received)), false)
            .await?;
        let (chain, events) = v
            .chains
            .into_iter()
            .find(|(r, _, _)| r == &me)
            .map(|(_, c, e)| (c, e))
            .ok_or_else(|| Error::verification("no receipt chain for this agency"))?;
        if let Some(first) = events.first()
            && first.status == StatusCode::Arrived
        {
            return Ok(LoggedStatement {
                receipt: first.signed.receipt().receipt().clone(),
                signed: first.signed.clone(),
                evidence: first.evidence.clone(),
                already_logged: true,
            });
        }
        let reason = edxml.as_ref().map(|s| s.reason.clone()).unwrap_or_default();
        let signed = self
            .state(&chain, StatusCode::Arrived, &reason, edxml)
            .await?;
        self.send_acknowledge(&id, signed).await
    }

    /// Sends a signed receipt 01 and checks the log's evidence for it.
    async fn send_acknowledge(
        &self,
        id: &MessageId,
        signed: SignedReceipt,
    ) -> Result<LoggedStatement> {
        let request = pb::AcknowledgeRequest {
            receipt: Some(signed_statement(&signed)),
        };
        let ev = self
            .call(&format!("acknowledge {id}"), Retry::Always, |ch| {
                let request = request.clone();
                async move { nodes::exchange(ch).acknowledge(request).await }
            })
            .await?
            .evidence;
        self.logged(signed, ev, "acknowledge").await
    }

    /// Sends a business status on a document this agency received: 02 rejected, 03 accepted,
    /// 04 assigned, 05 processing, 06 completed, or 15/16 (agree/refuse a recall or an
    /// update/replacement). The receipt chain is rebuilt from the history and verified first;
    /// the new status must be a transition the chain allows.
    pub async fn send_status(
        &self,
        message_id: &MessageId,
        status: StatusCode,
        reason: &str,
    ) -> Result<LoggedStatement> {
        self.send_status_as(message_id, status, reason, None).await
    }

    /// [`Client::send_status`], with the fields of an edXML status when `edxml` is given.
    pub(crate) async fn send_status_as(
        &self,
        message_id: &MessageId,
        status: StatusCode,
        reason: &str,
        edxml: Option<AxisStatus>,
    ) -> Result<LoggedStatement> {
        check_recipient_status(status)?;
        let me = self.me()?.clone();
        let v = self
            .verified_history(message_id, Some(&me), None, false)
            .await?;
        if !v.submission.header().recipients.contains(&me) {
            return Err(Error::invalid(format!(
                "message {message_id} is not addressed to agency {me}; only a recipient sends \
                 statuses"
            )));
        }
        let chain = chain_of(v.chains, &me)?;
        let signed = self.state(&chain, status, reason, edxml).await?;
        self.send_status_call(
            signed,
            &format!("status {status} on {message_id}"),
            "send status",
        )
        .await
    }

    /// Refuses (status 02) a document addressed to this agency that it cannot open — no entry
    /// for its encryption certificate in the key envelope, a signature that does not verify, a
    /// signer who is not the certificate's holder, content that does not decrypt — with a
    /// receipt that names nothing inside the package: only the message id, the parties and the
    /// ciphertext digest of the routing header, which every party sees. The sender's history
    /// then shows the refusal and its reason. It must be this agency's first status on the
    /// document (after a 01 it was opened: use [`Client::send_status`] with 02).
    pub async fn refuse_unopenable(
        &self,
        message_id: &MessageId,
        reason: &str,
    ) -> Result<LoggedStatement> {
        let me = self.me()?.clone();
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "a refusal needs a reason (what could not be opened)",
            ));
        }
        let v = self
            .verified_history(message_id, Some(&me), None, false)
            .await?;
        if !v.submission.header().recipients.contains(&me) {
            return Err(Error::invalid(format!(
                "message {message_id} is not addressed to agency {me}; only a recipient refuses \
                 it"
            )));
        }
        let chain = chain_of(v.chains, &me)?;
        if !chain.is_empty() {
            return Err(Error::invalid(format!(
                "agency {me} already stated {} on message {message_id}: the document was \
                 opened; refuse it with an ordinary status 02",
                chain
                    .last_status()
                    .map_or_else(|| "a status".to_owned(), |s| s.to_string())
            )));
        }
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let receipt = chain
            .refuse_unopened(now, reason)
            .map_err(|e| Error::building("the refusal", e))?;
        let signed = self.sign_next(&chain, receipt, &store, now)?;
        self.send_status_call(
            signed,
            &format!("refusal of unopened {message_id}"),
            "refuse",
        )
        .await
    }

    /// Recalls a document this agency sent from one recipient (status 13, signed by this
    /// agency's seal). The recipient answers with 15 (agree) or 16 (refuse). The recipient must
    /// have acknowledged the document first (its 01 names the DocumentId the recall refers to).
    pub async fn recall(
        &self,
        message_id: &MessageId,
        recipient: &AgencyId,
        reason: &str,
    ) -> Result<LoggedStatement> {
        self.recall_as(message_id, recipient, reason, None).await
    }

    /// [`Client::recall`], with the fields of an edXML status 13 when `edxml` is given.
    pub(crate) async fn recall_as(
        &self,
        message_id: &MessageId,
        recipient: &AgencyId,
        reason: &str,
        edxml: Option<AxisStatus>,
    ) -> Result<LoggedStatement> {
        let me = self.me()?.clone();
        if reason.trim().is_empty() {
            return Err(Error::invalid("a recall needs a reason"));
        }
        let v = self
            .verified_history(message_id, Some(recipient), None, false)
            .await?;
        let h = v.submission.header();
        if h.sender != me {
            return Err(Error::invalid(format!(
                "message {message_id} was sent by {}, not by this agency ({me}); only the sender \
                 recalls",
                h.sender
            )));
        }
        if !h.recipients.contains(recipient) {
            return Err(Error::invalid(format!(
                "{recipient} is not a recipient of message {message_id}"
            )));
        }
        let chain = chain_of(v.chains, recipient)?;
        if chain.is_empty() {
            return Err(Error::invalid(format!(
                "{recipient} has not acknowledged message {message_id} yet; a recall refers to \
                 the DocumentId its delivery receipt names — try again after it arrives"
            )));
        }
        let signed = self
            .state(&chain, StatusCode::RecallRequested, reason, edxml)
            .await?;
        let request = pb::RecallRequest {
            status: Some(signed_statement(&signed)),
        };
        let ev = self
            .call(
                &format!("recall {message_id} from {recipient}"),
                Retry::Always,
                |ch| {
                    let request = request.clone();
                    async move { nodes::exchange(ch).recall(request).await }
                },
            )
            .await?
            .evidence;
        self.logged(signed, ev, "recall").await
    }

    /// The verified history of a document, for its sender (every recipient) or a recipient
    /// (its own part).
    ///
    /// 1. The submission signature verifies (the sender's seal, now).
    /// 2. The acceptance evidence verifies and records exactly that submission.
    /// 3. Per recipient, the receipts form a valid chain ([`ReceiptChain::verify_all`]: each
    ///    signature by the right party's seal, digests, hash links, transitions), and each has
    ///    log evidence that records exactly it.
    /// 4. Completeness: the axis's signed completeness statement (the log signer's, at a
    ///    signed tree head) covers every recipient (the sender's view) or this agency's own
    ///    chain, and each timeline has exactly the statements it counts, ending at the chain
    ///    head it names ([`axis_evidence::VerifiedCompleteness::check_chain`], the check
    ///    `axis audit verify` makes of a bundle): a history the axis cut short is refused,
    ///    and a false statement is the axis's signed lie ([`axis_evidence::check_misbehaviour`]).
    pub async fn history(&self, message_id: &MessageId) -> Result<History> {
        let v = self.verified_history(message_id, None, None, true).await?;
        let h = v.submission.header();
        let document_id = v
            .chains
            .iter()
            .flat_map(|(_, _, e)| e.first())
            .find_map(|e| e.signed.receipt().receipt().document_id.clone());
        let complete_as_of = |r: &AgencyId| {
            v.completeness
                .as_ref()
                .map(|(c, _)| c.statement())
                .filter(|c| c.chain(r).is_some())
                .map(|c| c.tree_size)
        };
        Ok(History {
            message_id: h.message_id,
            sender: h.sender.clone(),
            recipients: h.recipients.clone(),
            document_id,
            accepted: v.accepted,
            timelines: v
                .chains
                .into_iter()
                .map(|(recipient, chain, events)| Timeline {
                    complete_as_of: complete_as_of(&recipient),
                    recipient,
                    events,
                    withdrawn: chain.is_withdrawn(),
                })
                .collect(),
            completeness: v.completeness.clone(),
        })
    }

    /// The next statement of `chain`, signed by this agency's seal; with an edXML status's
    /// fields when `edxml` is given.
    async fn state(
        &self,
        chain: &ReceiptChain,
        status: StatusCode,
        reason: &str,
        edxml: Option<AxisStatus>,
    ) -> Result<SignedReceipt> {
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        // Never before the previous statement (another machine's clock may be ahead).
        let time = chain
            .receipts()
            .last()
            .map(|r| r.receipt().time)
            .filter(|t| *t > now)
            .unwrap_or(now);
        let mut receipt = chain
            .next(status, time, reason)
            .map_err(|e| Error::building(&format!("status {status}"), e))?;
        if let Some(edxml) = edxml {
            crate::edxml::apply_status(&mut receipt, edxml)?;
        }
        self.sign_next(chain, receipt, &store, now)
    }

    /// Signs `receipt` with this agency's seal and checks that it continues `chain` (the
    /// transition) before anything is sent.
    fn sign_next(
        &self,
        chain: &ReceiptChain,
        receipt: Receipt,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<SignedReceipt> {
        let status = receipt.status;
        let time = receipt.time;
        let seal = self.require_seal(store, now)?;
        let signed = receipt
            .sign(&seal.signer()?)
            .map_err(|e| Error::building(&format!("signing status {status}"), e))?;
        let mut check = chain.clone();
        check
            .push(&signed, store, time.max(now))
            .map_err(|e| Error::invalid(format!("status {status} cannot be sent now: {e}")))?;
        Ok(signed)
    }

    /// Sends `signed` with SendStatus (retried: the axis answers a repeat with the entry it
    /// logged) and verifies the evidence it returns.
    async fn send_status_call(
        &self,
        signed: SignedReceipt,
        what: &str,
        call: &str,
    ) -> Result<LoggedStatement> {
        let request = pb::SendStatusRequest {
            status: Some(signed_statement(&signed)),
        };
        let ev = self
            .call(what, Retry::Always, |ch| {
                let request = request.clone();
                async move { nodes::exchange(ch).send_status(request).await }
            })
            .await?
            .evidence;
        self.logged(signed, ev, call).await
    }

    /// Verifies the evidence the axis returned for `signed`.
    async fn logged(
        &self,
        signed: SignedReceipt,
        ev: Option<pb::LogEvidence>,
        call: &str,
    ) -> Result<LoggedStatement> {
        let ev = convert::evidence(ev, call)?;
        let store = self.trust_store().await?;
        let (verified, evidence) =
            proof::verify(&ev, &store, OffsetDateTime::now_utc(), self.log_key(), call)?;
        verified
            .entry()
            .check_statement_of(&signed)
            .map_err(|e| Error::signer(&format!("{call}: the log entry"), e))?;
        Ok(LoggedStatement {
            receipt: signed.receipt().receipt().clone(),
            signed,
            evidence,
            already_logged: false,
        })
    }

    /// Gets and verifies a history; only `only`'s chain if given; `inner` is the full view of
    /// the document for `only` (the recipient that opened it); with the axis's completeness
    /// statement, required and verified, if `completeness`.
    async fn verified_history(
        &self,
        message_id: &MessageId,
        only: Option<&AgencyId>,
        inner: Option<DocumentRef>,
        completeness: bool,
    ) -> Result<Verified> {
        let h = self.get_history(message_id, completeness).await?;
        if completeness && h.completeness.is_none() {
            return Err(Error::verification(format!(
                "the axis sent the history of {message_id} without its completeness statement"
            )));
        }
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let viewer = self.me().ok();
        verify_history(
            h,
            message_id,
            only,
            inner,
            viewer,
            &store,
            now,
            self.log_key(),
        )
    }
}

fn chain_of(
    chains: Vec<(AgencyId, ReceiptChain, Vec<HistoryEvent>)>,
    recipient: &AgencyId,
) -> Result<ReceiptChain> {
    chains
        .into_iter()
        .find(|(r, _, _)| r == recipient)
        .map(|(_, c, _)| c)
        .ok_or_else(|| Error::verification(format!("no receipt chain for {recipient}")))
}

#[allow(clippy::too_many_arguments)]
fn verify_history(
    h: pb::GetHistoryResponse,
    message_id: &MessageId,
    only: Option<&AgencyId>,
    inner: Option<DocumentRef>,
    viewer: Option<&AgencyId>,
    store: &TrustStore,
    now: OffsetDateTime,
    log_key: Option<&[u8]>,
) -> Result<Verified> {
    let completeness = h.completeness;
    // Step 1.
    let submission = Submission::parse(&h.routing_header, h.submission_signature)
        .and_then(|s| s.verify(store, now))
        .map_err(|e| Error::signer(&format!("the submission of {message_id}"), e))?;
    let header = submission.header();
    if &header.message_id != message_id {
        return Err(Error::verification(format!(
            "asked for the history of {message_id}, the axis answered with {}",
            header.message_id
        )));
    }
    // Step 2.
    let acceptance = h
        .acceptance
        .and_then(|a| a.evidence)
        .ok_or_else(|| Error::verification("the history has no acceptance receipt"))?;
    let (verified, accepted) = proof::verify(&acceptance, store, now, log_key, "the acceptance")?;
    verified
        .entry()
        .check_acceptance_of(submission.submission())
        .map_err(|e| Error::signer("the acceptance entry", e))?;
    // Step 3.
    let mut grouped: Vec<(AgencyId, Vec<(SignedReceipt, pb::LogEvidence)>)> = header
        .recipients
        .iter()
        .filter(|r| only.is_none_or(|o| o == *r))
        .map(|r| (r.clone(), Vec::new()))
        .collect();
    for entry in h.entries {
        let recipient = convert::agency_id(&entry.recipient, "history recipient")?;
        if !header.recipients.contains(&recipient) {
            return Err(Error::verification(format!(
                "the history names {recipient}, not a recipient of {message_id}"
            )));
        }
        let Some((_, list)) = grouped.iter_mut().find(|(r, _)| r == &recipient) else {
            continue;
        };
        let signed = entry
            .signed
            .ok_or_else(|| Error::verification("a history entry without its statement"))?;
        let receipt = SignedReceipt::parse(&signed.statement, signed.signature)
            .map_err(|e| Error::signer("a statement in the history", e))?;
        let ev = convert::evidence(entry.evidence, "a history entry")?;
        list.push((receipt, ev));
    }
    let mut chains = Vec::with_capacity(grouped.len());
    let mut inner = inner;
    for (recipient, entries) in grouped {
        let doc = match inner.take() {
            Some(full) if only == Some(&recipient) => full,
            _ => DocumentRef::submitted(&submission, &recipient)
                .map_err(|e| Error::signer("the history", e))?,
        };
        let receipts: Vec<SignedReceipt> = entries.iter().map(|(r, _)| r.clone()).collect();
        let chain = ReceiptChain::verify_all(doc, &receipts, store, now).map_err(|e| {
            Error::signer(&format!("the receipts of {recipient} for {message_id}"), e)
        })?;
        let mut events = Vec::with_capacity(entries.len());
        for ((signed, ev), verified_receipt) in entries.into_iter().zip(chain.receipts()) {
            let r = signed.receipt().receipt();
            let what = format!("status {} of {recipient}", r.status);
            let (v, evidence) = proof::verify(&ev, store, now, log_key, &what)?;
            v.entry()
                .check_statement_of(&signed)
                .map_err(|e| Error::signer(&format!("the log entry of {what}"), e))?;
            events.push(HistoryEvent {
                status: r.status,
                time: r.time,
                stated_by: r.from.clone(),
                signer: verified_receipt.report().signer_name.clone(),
                reason: r.reason.clone(),
                unopened: r.is_unopened(),
                evidence,
                signed: signed.clone(),
            });
        }
        chains.push((recipient, chain, events));
    }
    // Step 4.
    // The sender (or an operator) sees every recipient's chain and must get a statement covering
    // them all; a recipient sees only its own chain (the axis's access rule), so its statement
    // covers exactly that one.
    let sender_view = only.is_none() && viewer.is_none_or(|v| *v == submission.header().sender);
    let own = if sender_view { None } else { only.or(viewer) };
    let completeness = match completeness {
        Some(c) => Some(check_completeness(
            c,
            &submission,
            accepted.leaf_index,
            &chains,
            own,
            store,
            now,
            log_key,
        )?),
        None => None,
    };
    Ok(Verified {
        submission,
        accepted,
        chains,
        completeness,
    })
}

/// Step 4 of [`Client::history`]: the completeness statement, its tree head, and each chain
/// against it. `own` is `None` for the sender's view (every recipient must be covered), or the
/// recipient whose own view this is (exactly its chain must be covered).
#[allow(clippy::too_many_arguments)]
fn check_completeness(
    c: pb::SignedCompleteness,
    submission: &VerifiedSubmission,
    acceptance_index: u64,
    chains: &[(AgencyId, ReceiptChain, Vec<HistoryEvent>)],
    own: Option<&AgencyId>,
    store: &TrustStore,
    now: OffsetDateTime,
    log_key: Option<&[u8]>,
) -> Result<(VerifiedCompleteness, Coverage)> {
    let bad = |e| Error::signer("the axis's completeness statement", e);
    let head = SignedTreeHead::parse(&c.tree_head, c.tree_head_signature)
        .and_then(|h| h.verify(store, now, log_key))
        .map_err(|e| Error::signer("the tree head of the completeness statement", e))?;
    let key = log_key.unwrap_or(head.signer_key());
    let v = SignedCompleteness::parse(&c.statement, c.signature)
        .and_then(|s| s.verify(store, key))
        .map_err(bad)?;
    let header = submission.header();
    v.check_subject(&header.message_id, head.head(), Some(acceptance_index))
        .map_err(bad)?;
    let coverage = v.check_recipients(&header.recipients).map_err(bad)?;
    match (own, &coverage) {
        // A message to one recipient: its own view is every recipient's.
        (_, Coverage::All) => {}
        (Some(me), Coverage::Only(r)) if r == me => {}
        (None, _) => {
            return Err(Error::verification(format!(
                "the axis's completeness statement covers {coverage}, not every recipient"
            )));
        }
        (Some(me), _) => {
            return Err(Error::verification(format!(
                "the axis's completeness statement covers {coverage}, not {me}'s own chain"
            )));
        }
    }
    for (recipient, _, events) in chains
        .iter()
        .filter(|(r, _, _)| own.is_none_or(|me| me == r))
    {
        let statements: Vec<(u64, [u8; 32])> = events
            .iter()
            .map(|e| (e.evidence.leaf_index, e.signed.receipt().hash()))
            .collect();
        v.check_chain(recipient, &statements).map_err(bad)?;
    }
    Ok((v, coverage))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_recipients_statuses_go_through_send_status() {
        for s in [
            StatusCode::Rejected,
            StatusCode::Accepted,
            StatusCode::Assigned,
            StatusCode::Processing,
            StatusCode::Completed,
            StatusCode::ChangeAccepted,
            StatusCode::ChangeRefused,
        ] {
            assert!(check_recipient_status(s).is_ok(), "{s}");
        }
        for s in [StatusCode::Arrived, StatusCode::RecallRequested] {
            let e = check_recipient_status(s).unwrap_err();
            assert_eq!(*e.kind(), crate::ErrorKind::InvalidInput);
        }
    }
}
