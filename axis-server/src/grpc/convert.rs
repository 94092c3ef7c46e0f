//! Conversions between stored rows and wire messages (the server's one edge to `axis-proto`).

use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::commit::Logged;
use crate::store::{AgencyRow, EntryRow, InboxRow, LoggedRow, MessageRow, StatementRow};

/// A protobuf timestamp.
pub(crate) fn timestamp(t: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.unix_timestamp(),
        nanos: i32::try_from(t.nanosecond()).unwrap_or(0),
    }
}

/// Evidence from a fresh commit.
pub(crate) fn evidence(l: &Logged) -> pb::LogEvidence {
    pb::LogEvidence {
        entry: l.entry.clone(),
        proof: l.proof.clone(),
    }
}

/// The acceptance receipt of a stored message.
pub(crate) fn acceptance(m: &MessageRow, duplicate: bool) -> pb::AcceptanceReceipt {
    pb::AcceptanceReceipt {
        evidence: Some(stored_evidence(m.logged.clone())),
        duplicate,
    }
}

/// The evidence of something logged before.
fn stored_evidence(l: LoggedRow) -> pb::LogEvidence {
    pb::LogEvidence {
        entry: l.entry,
        proof: l.proof,
    }
}

/// A delivery for the inbox stream: the recipient's own key-envelope entry, not the whole
/// envelope.
pub(crate) fn delivery(row: InboxRow) -> pb::Delivery {
    let m = row.message;
    pb::Delivery {
        cursor: row.seq.to_string(),
        message_id: m.message_id.to_string(),
        sender: m.sender,
        routing_header: m.routing_header,
        submission_signature: m.submission_signature,
        size: m.ciphertext_len,
        accepted_at: Some(timestamp(m.logged.at)),
        key_envelope_entry: Some(envelope_entry(row.entry)),
    }
}

/// A recipient's key-envelope entry with its audit path.
pub(crate) fn envelope_entry(e: EntryRow) -> pb::KeyEnvelopeEntry {
    pb::KeyEnvelopeEntry {
        entry: e.entry,
        index: e.index,
        path: e.path.chunks(32).map(<[u8]>::to_vec).collect(),
    }
}

/// A history entry.
pub(crate) fn history_entry(s: StatementRow) -> pb::HistoryEntry {
    pb::HistoryEntry {
        recipient: s.recipient,
        signed: Some(pb::SignedStatement {
            statement: s.statement,
            signature: s.signature,
        }),
        logged_at: Some(timestamp(s.logged.at)),
        evidence: Some(stored_evidence(s.logged)),
    }
}

/// A directory entry.
pub(crate) fn agency(a: AgencyRow) -> pb::Agency {
    pb::Agency {
        agency_id: a.agency_id,
        name: a.name,
        parent_id: a.parent_id,
        encryption_certificate: a.encryption_cert,
        seal_certificate: a.seal_cert,
        updated_at: Some(timestamp(a.updated_at)),
    }
}

#[cfg(test)]
mod tests;
