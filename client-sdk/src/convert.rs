//! Every conversion between the wire (`axis_proto::v1`) and the SDK's types, and the one place
//! where a `tonic::Status` becomes an [`Error`].

use axis_pki::AgencyId;
use axis_proto::reasons;
use axis_proto::v1 as pb;
use axis_signer::{EnvelopeEntry, MessageId};
use time::OffsetDateTime;

use crate::directory::{AgencyInfo, AgencyPage, CrlPublished, Limits};
use crate::error::{Error, ErrorKind};
use crate::inbox::Delivery;

/// Maps a failed call's status to the SDK error. `call` names what was attempted ("submit",
/// "fetch 0b6f…"), for the message.
pub(crate) fn status_error(call: &str, status: &tonic::Status) -> Error {
    use tonic::Code;
    let reason = status
        .metadata()
        .get(reasons::METADATA_KEY)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(64).collect::<String>())
        .filter(|s| !s.is_empty());
    let detail: String = status.message().chars().take(300).collect();
    let tagged = match &reason {
        Some(r) => format!("{detail} [{r}]"),
        None => detail.clone(),
    };
    let (kind, message) = match status.code() {
        Code::Unauthenticated => (
            ErrorKind::Unauthenticated,
            format!(
                "{call}: the axis did not accept this client's identity ({tagged}); check [tls] \
                 in the configuration and that the certificate is neither expired nor revoked"
            ),
        ),
        Code::PermissionDenied => (
            ErrorKind::PermissionDenied,
            format!(
                "{call}: the axis refused this for this caller ({tagged}); check the agency \
                 (or operator) certificate the configuration uses"
            ),
        ),
        Code::NotFound => (
            ErrorKind::NotFound,
            format!("{call}: not found ({tagged}); check the id"),
        ),
        Code::DeadlineExceeded => (
            ErrorKind::DeadlineExceeded,
            format!(
                "{call}: the axis did not answer in time ({tagged}); check the network, then \
                 retry"
            ),
        ),
        Code::Unavailable | Code::Cancelled | Code::Unknown | Code::Aborted => (
            ErrorKind::Transport,
            format!(
                "{call}: the connection to the axis failed ({tagged}); check `endpoint` and the \
                 network, then retry"
            ),
        ),
        Code::Internal | Code::Unimplemented | Code::DataLoss => (
            ErrorKind::Server,
            format!(
                "{call}: the axis failed ({tagged}); retry later, and tell the axis operator if \
                 it persists"
            ),
        ),
        Code::InvalidArgument
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::AlreadyExists
        | Code::ResourceExhausted
        | Code::Ok => match &reason {
            Some(r) => (
                ErrorKind::Rejected { reason: r.clone() },
                format!("{call}: the axis refused it: {tagged}"),
            ),
            None => (
                ErrorKind::InvalidInput,
                format!("{call}: the axis refused it: {detail}"),
            ),
        },
    };
    Error::new(kind, message).with_reason(reason)
}

/// Whether a failed stream should be resumed (reconnect and continue) rather than reported.
pub(crate) fn is_transient(status: &tonic::Status) -> bool {
    use tonic::Code;
    matches!(
        status.code(),
        Code::Unavailable
            | Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Unknown
            | Code::Aborted
            | Code::Internal
            | Code::ResourceExhausted
    )
}

/// A wire timestamp as a time (UTC).
pub(crate) fn timestamp(
    ts: Option<&prost_types::Timestamp>,
    what: &str,
) -> Result<OffsetDateTime, Error> {
    let ts = ts.ok_or_else(|| Error::verification(format!("the axis sent no {what}")))?;
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| Error::verification(format!("the axis sent a malformed {what}")))?;
    OffsetDateTime::from_unix_timestamp(ts.seconds)
        .ok()
        .and_then(|t| t.replace_nanosecond(nanos).ok())
        .ok_or_else(|| Error::verification(format!("the axis sent an out-of-range {what}")))
}

pub(crate) fn agency_id(s: &str, what: &str) -> Result<AgencyId, Error> {
    AgencyId::parse(s)
        .map_err(|e| Error::verification(format!("the axis sent a malformed {what} \"{s}\": {e}")))
}

pub(crate) fn message_id(s: &str) -> Result<MessageId, Error> {
    MessageId::parse(s)
        .map_err(|_| Error::verification(format!("the axis sent a malformed message id \"{s}\"")))
}

impl TryFrom<pb::Delivery> for Delivery {
    type Error = Error;

    fn try_from(d: pb::Delivery) -> Result<Self, Error> {
        if d.cursor.is_empty() {
            return Err(Error::verification(
                "the axis sent a delivery without a cursor",
            ));
        }
        Ok(Delivery {
            message_id: message_id(&d.message_id)?,
            sender: agency_id(&d.sender, "sender")?,
            size: d.size,
            accepted_at: timestamp(d.accepted_at.as_ref(), "acceptance time")?,
            received_at: std::time::Instant::now(),
            cursor: d.cursor,
            routing_header: d.routing_header,
            submission_signature: d.submission_signature,
            key_envelope_entry: envelope_entry(d.key_envelope_entry)?,
        })
    }
}

/// A key-envelope entry from the axis: present, each path hash 32 octets, within the path
/// budget (its place under the signed root is checked when opening).
pub(crate) fn envelope_entry(e: Option<pb::KeyEnvelopeEntry>) -> Result<EnvelopeEntry, Error> {
    let e = e.ok_or_else(|| {
        Error::verification("the axis sent a delivery without this agency's key-envelope entry")
    })?;
    if e.path.iter().any(|h| h.len() != 32) {
        return Err(Error::verification(
            "the axis sent a key-envelope audit path with a hash that is not 32 octets",
        ));
    }
    EnvelopeEntry::from_parts(e.index, e.entry, &e.path.concat())
        .map_err(|err| Error::signer("the key-envelope entry from the axis", err))
}

impl TryFrom<pb::Agency> for AgencyInfo {
    type Error = Error;

    fn try_from(a: pb::Agency) -> Result<Self, Error> {
        Ok(AgencyInfo {
            agency_id: agency_id(&a.agency_id, "agency id")?,
            parent_id: if a.parent_id.is_empty() {
                None
            } else {
                Some(agency_id(&a.parent_id, "parent id")?)
            },
            name: a.name,
            encryption_certificate: a.encryption_certificate,
            seal_certificate: a.seal_certificate,
            updated_at: a
                .updated_at
                .as_ref()
                .map(|t| timestamp(Some(t), "update time"))
                .transpose()?,
        })
    }
}

impl TryFrom<pb::ListAgenciesResponse> for AgencyPage {
    type Error = Error;

    fn try_from(r: pb::ListAgenciesResponse) -> Result<Self, Error> {
        Ok(AgencyPage {
            agencies: r
                .agencies
                .into_iter()
                .map(AgencyInfo::try_from)
                .collect::<Result<_, _>>()?,
            next_after: Some(r.next_after_agency_id).filter(|s| !s.is_empty()),
        })
    }
}

impl From<pb::PublishCrlResponse> for CrlPublished {
    fn from(r: pb::PublishCrlResponse) -> Self {
        CrlPublished {
            crl_number: r.crl_number,
            revoked: r.revoked,
            revocations_logged: r.revocations_logged,
        }
    }
}

impl From<pb::Limits> for Limits {
    fn from(l: pb::Limits) -> Self {
        Limits {
            max_document_bytes: l.max_document_bytes,
            max_recipients: l.max_recipients,
            max_chunk_bytes: l.max_chunk_bytes,
            max_streams_per_agency: l.max_streams_per_agency,
            rate_per_agency: l.rate_per_agency,
            burst_per_agency: l.burst_per_agency,
        }
    }
}

/// A signed receipt or status as it travels.
pub(crate) fn signed_statement(r: &axis_signer::SignedReceipt) -> pb::SignedStatement {
    pb::SignedStatement {
        statement: r.receipt().as_bytes().to_vec(),
        signature: r.signature().to_vec(),
    }
}

/// The evidence of a response, which the axis must send.
pub(crate) fn evidence(e: Option<pb::LogEvidence>, call: &str) -> Result<pb::LogEvidence, Error> {
    e.ok_or_else(|| Error::verification(format!("{call}: the axis answered without log evidence")))
}

#[cfg(test)]
mod tests;
