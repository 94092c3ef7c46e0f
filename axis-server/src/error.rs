//! The server's one error type, and its mapping to a gRPC status with a machine-readable reason
//! (`grpc::status` is the only place that turns it into a `tonic::Status`).

use axis_pki::AgencyId;
use axis_proto::reasons;

/// Everything a request can fail with. Each variant names a `reason` (the `ErrorInfo.reason` and
/// `axis-reason` metadata a client switches on) and a gRPC code; the message says what to do.
/// None carries document content or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The caller's TLS identity is missing or not an agency/operator certificate.
    #[error("no verified client certificate on this connection")]
    Unauthenticated,
    /// The call needs an operator certificate.
    #[error("this call needs an axis operator certificate")]
    OperatorOnly,
    /// Operators administer the axis; they do not exchange documents.
    #[error("an operator certificate cannot exchange documents; use an agency TLS certificate")]
    AgencyOnly,
    /// A field of the request is malformed.
    #[error("{what} is malformed: {detail}")]
    Malformed {
        /// Which input.
        what: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// The stream did not follow the protocol (begin first, then chunks).
    #[error("submit protocol violated: {0}")]
    Protocol(&'static str),
    /// The routing header names another sender than the TLS caller.
    #[error("the routing header's sender {sender} is not the calling agency {caller}")]
    SenderNotCaller {
        /// Sender in the header.
        sender: AgencyId,
        /// TLS identity.
        caller: AgencyId,
    },
    /// A signature, its certificate or its chain failed verification.
    #[error("{what} failed verification: {detail}")]
    Signature {
        /// Which signature.
        what: &'static str,
        /// Why (from the signer).
        detail: String,
        /// Which reason the client gets.
        reason: SignatureReason,
    },
    /// The key envelope is not the one the header names.
    #[error(
        "the key envelope does not match the routing header: one entry per recipient, in the \
         header's order, under its key-envelope root"
    )]
    KeyEnvelopeMismatch,
    /// A structure of a format version this axis no longer accepts.
    #[error("{what} is of a retired format: {detail}; seal again with a current SDK")]
    VersionRetired {
        /// Which input.
        what: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// The key envelope is not sealed for exactly the header's recipients (by the directory's
    /// current encryption certificates).
    #[error(
        "the key envelope is not sealed for exactly the routing header's recipients with their \
         current encryption certificates (no entry for: {}; entries for no recipient: \
         {unexpected}); look the recipients up again and seal anew",
        if missing.is_empty() { "none".to_owned() } else {
            missing.iter().map(AgencyId::as_str).collect::<Vec<_>>().join(", ")
        }
    )]
    KeyEnvelopeRecipients {
        /// Recipients whose current certificate has no entry.
        missing: Vec<AgencyId>,
        /// Entries for no recipient's current certificate (or repeated).
        unexpected: usize,
    },
    /// The header names the sender among the recipients.
    #[error(
        "agency {0} is both the sender and a recipient; an agency files its own documents in its \
         own DMS, not through the axis"
    )]
    SenderIsRecipient(AgencyId),
    /// A cursor the axis did not issue to the caller.
    #[error(
        "the cursor {0:?} is not one this axis issued to the calling agency; resume after a \
         delivery's cursor, or give none"
    )]
    CursorInvalid(String),
    /// Some recipients are not registered.
    #[error("recipients not registered in the directory: {0}")]
    RecipientUnknown(String),
    /// The document is larger than the limit.
    #[error("the document is {len} bytes; this axis accepts at most {max}")]
    DocumentTooLarge {
        /// Announced size.
        len: u64,
        /// Limit.
        max: u64,
    },
    /// Too many recipients.
    #[error("the document has {count} recipients; this axis accepts at most {max}")]
    TooManyRecipients {
        /// Count.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// A chunk is larger than the limit.
    #[error("a chunk exceeds the limit of {max} bytes{}", len.map(|l| format!(" ({l} bytes)")).unwrap_or_default())]
    ChunkTooLarge {
        /// Size, when it was read.
        len: Option<usize>,
        /// Limit.
        max: usize,
    },
    /// The ciphertext length differs from the header's.
    #[error("the ciphertext is {found} bytes but the routing header announces {expected}")]
    LengthMismatch {
        /// Announced.
        expected: u64,
        /// Received (so far, when too long).
        found: u64,
    },
    /// The ciphertext digest differs from the header's.
    #[error("the ciphertext's SHA-256 differs from the routing header's: a chunk was altered")]
    DigestMismatch,
    /// The message id was used before for another submission.
    #[error("message id {0} was already used for a different submission")]
    MessageIdConflict(String),
    /// No such message for this caller (also when the caller is not a party: existence is not
    /// revealed).
    #[error("no message {0} addressed to or sent by the calling agency")]
    MessageNotFound(String),
    /// A receipt/status is not the caller's to send, or not of the kind this call takes.
    #[error("{0}")]
    StatementNotAllowed(String),
    /// The statement does not continue the chain (status order, digests, previous hash).
    #[error("the status does not continue this document's history: {0}")]
    ChainRejected(String),
    /// A statement dated too far from the axis's clock.
    #[error(
        "the status is dated {time}, too far from the axis's clock ({now}); sign it now and send it again"
    )]
    StatementTime {
        /// Its time.
        time: time::OffsetDateTime,
        /// The axis's time.
        now: time::OffsetDateTime,
    },
    /// Another statement was logged for this chain at the same time.
    #[error(
        "another status for this document was logged concurrently; fetch the history and retry"
    )]
    ChainConflict,
    /// The recipient agreed to a recall: its copy is withdrawn.
    #[error("this document was withdrawn from the calling agency (recall agreed)")]
    Withdrawn,
    /// The agency is not registered.
    #[error("agency {0} is not registered")]
    AgencyNotFound(String),
    /// The agency is registered already.
    #[error("agency {0} is already registered; use UpdateAgency")]
    AgencyExists(String),
    /// A certificate handed to the directory is not what it must be.
    #[error("the {what} certificate is not acceptable: {detail}")]
    BadCertificate {
        /// Which certificate.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// A CRL handed in is not acceptable.
    #[error("the CRL is not acceptable: {0}")]
    BadCrl(String),
    /// A directory import or its units are not acceptable (names the unit, field and problem).
    #[error("the directory import is not acceptable: {0}")]
    DirectoryInvalid(String),
    /// A directory import does not follow the current version.
    #[error(
        "directory version {0} does not follow the current one (another import came first, or \
         it was signed against another version); sync the directory and sign the next version"
    )]
    DirectoryConflict(u64),
    /// No such directory version.
    #[error("directory version {0} does not exist")]
    DirectoryVersionUnknown(u64),
    /// A copy too far behind for changes.
    #[error(
        "directory version {since} is {behind} versions behind the current one; take a snapshot"
    )]
    DirectoryResync {
        /// The version the client holds.
        since: u64,
        /// How many versions it lacks.
        behind: u64,
    },
    /// No such unit in the current directory.
    #[error("unit {0} is not in the directory")]
    UnitNotFound(String),
    /// No signed tree head of that size, or a proof that cannot be made.
    #[error("{0}")]
    LogUnavailable(String),
    /// A witness's cosignature that the axis does not keep.
    #[error("the cosignature is refused: {detail}")]
    Cosignature {
        /// Why, for the client.
        reason: CosignatureReason,
        /// What was found.
        detail: String,
    },
    /// Per-agency rate exceeded.
    #[error("too many calls from agency {0}; slow down and retry after a moment")]
    RateLimited(String),
    /// Per-agency concurrent streams exceeded.
    #[error("agency {agency} already holds {max} open streams; close one first")]
    TooManyStreams {
        /// Agency.
        agency: String,
        /// Limit.
        max: usize,
    },
    /// The server is shutting down.
    #[error("the axis is shutting down; retry on another node or in a moment")]
    ShuttingDown,
    /// The commit of a batch failed; nothing of it was stored. Retrying is safe (submissions
    /// and statements are idempotent).
    #[error("the commit failed and nothing was stored; retry ({0})")]
    CommitFailed(String),
    /// The database failed, or did not answer within its deadline: `UNAVAILABLE` (another node,
    /// or this one a moment later, may succeed). The log line carries the database's own cause.
    #[error("storage failure: {}", crate::store::cause(.0))]
    Storage(#[from] sqlx::Error),
    /// The axis's own fault, saying what failed. The client learns only the reason
    /// (`INTERNAL`); the details go to the server's log.
    #[error("internal error: {0}")]
    Internal(#[from] Fault),
}

/// What failed inside the axis (never the caller's doing).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// Applying the database migrations failed.
    #[error("applying the database migrations failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A file the server needs could not be read or created.
    #[error("{}: {source}", path.display())]
    File {
        /// Which file or directory.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The configured trust material (root, issuing CAs, CRLs) is unusable.
    #[error("the trust material is unusable: {0}")]
    TrustMaterial(String),
    /// gRPC reflection could not be built from the descriptor set.
    #[error("building gRPC reflection failed: {0}")]
    Reflection(String),
    /// The stored log (frontier, tree heads, node hashes) is inconsistent with itself.
    #[error("the stored log is inconsistent: {what}: {detail}")]
    LogState {
        /// Which part.
        what: &'static str,
        /// What was found.
        detail: String,
    },
    /// A stored row does not read back as what was written (a value out of range, bytes that
    /// no longer parse, a segment missing).
    #[error("stored {what} is unreadable: {detail}")]
    StoredData {
        /// What was read.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// A number does not fit the database's signed 64-bit integers.
    #[error("{what} {value} is beyond what the database stores")]
    OutOfRange {
        /// Which number.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// A log entry could not be encoded.
    #[error("encoding a log entry failed: {0}")]
    EncodeEntry(String),
    /// The log signer could not sign the tree head (or a completeness statement: the text
    /// says so).
    #[error("signing the tree head failed: {0}")]
    SignTreeHead(String),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A background task panicked or was cancelled.
    #[error("the {task} task failed: {source}")]
    Task {
        /// Which task.
        task: &'static str,
        /// How it ended.
        source: tokio::task::JoinError,
    },
    /// An invariant of the server's own bookkeeping did not hold: a bug, reported instead of
    /// a panic.
    #[error("internal invariant violated: {0}")]
    Invariant(&'static str),
}

impl From<sqlx::migrate::MigrateError> for ServerError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Fault::Migration(e).into()
    }
}

/// Why a signature or certificate was refused, as the client sees it: the signer's one
/// classification ([`axis_signer::Error::signature_refusal`]), which the SDK applies too.
pub use axis_signer::SignatureRefusal as SignatureReason;

/// Why a witness's cosignature is not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CosignatureReason {
    /// Its witness is not one the operator configured.
    WitnessUnknown,
    /// It does not verify with its witness's key (or is not in its one byte form).
    Invalid,
    /// Of another log, or of a size this axis signed no head for.
    HeadUnknown,
    /// Of a size this axis signed, with another root: the witness saw another history.
    HeadMismatch,
}

impl CosignatureReason {
    /// Every value, for tests.
    pub const ALL: [CosignatureReason; 4] = [
        CosignatureReason::WitnessUnknown,
        CosignatureReason::Invalid,
        CosignatureReason::HeadUnknown,
        CosignatureReason::HeadMismatch,
    ];

    /// The machine-readable reason.
    pub fn reason(self) -> &'static str {
        match self {
            CosignatureReason::WitnessUnknown => reasons::WITNESS_UNKNOWN,
            CosignatureReason::Invalid => reasons::COSIGNATURE_INVALID,
            CosignatureReason::HeadUnknown => reasons::TREE_HEAD_UNKNOWN,
            CosignatureReason::HeadMismatch => reasons::TREE_HEAD_MISMATCH,
        }
    }

    fn code(self) -> tonic::Code {
        match self {
            CosignatureReason::WitnessUnknown | CosignatureReason::Invalid => {
                tonic::Code::PermissionDenied
            }
            CosignatureReason::HeadUnknown => tonic::Code::NotFound,
            CosignatureReason::HeadMismatch => tonic::Code::FailedPrecondition,
        }
    }
}

impl ServerError {
    /// The machine-readable reason (one of [`axis_proto::reasons::ALL`]).
    pub fn reason(&self) -> &'static str {
        use ServerError::*;
        match self {
            Unauthenticated => reasons::UNAUTHENTICATED,
            OperatorOnly => reasons::OPERATOR_ONLY,
            AgencyOnly => reasons::AGENCY_ONLY,
            Malformed { .. } => reasons::MALFORMED,
            Protocol(_) => reasons::PROTOCOL_VIOLATION,
            SenderNotCaller { .. } => reasons::SENDER_NOT_CALLER,
            Signature { reason, .. } => reason.reason(),
            KeyEnvelopeMismatch => reasons::KEY_ENVELOPE_MISMATCH,
            VersionRetired { .. } => reasons::FORMAT_VERSION_RETIRED,
            KeyEnvelopeRecipients { .. } => reasons::KEY_ENVELOPE_RECIPIENTS,
            SenderIsRecipient(_) => reasons::SENDER_IS_RECIPIENT,
            CursorInvalid(_) => reasons::CURSOR_INVALID,
            RecipientUnknown(_) => reasons::RECIPIENT_UNKNOWN,
            DocumentTooLarge { .. } => reasons::DOCUMENT_TOO_LARGE,
            TooManyRecipients { .. } => reasons::TOO_MANY_RECIPIENTS,
            ChunkTooLarge { .. } => reasons::CHUNK_TOO_LARGE,
            LengthMismatch { .. } => reasons::LENGTH_MISMATCH,
            DigestMismatch => reasons::DIGEST_MISMATCH,
            MessageIdConflict(_) => reasons::MESSAGE_ID_CONFLICT,
            MessageNotFound(_) => reasons::MESSAGE_NOT_FOUND,
            StatementNotAllowed(_) => reasons::NOT_AUTHORIZED,
            ChainRejected(_) => reasons::STATUS_REJECTED,
            ChainConflict => reasons::CHAIN_CONFLICT,
            StatementTime { .. } => reasons::STATEMENT_TIME_INVALID,
            Withdrawn => reasons::WITHDRAWN,
            AgencyNotFound(_) => reasons::AGENCY_NOT_FOUND,
            AgencyExists(_) => reasons::AGENCY_EXISTS,
            BadCertificate { .. } => reasons::BAD_CERTIFICATE,
            BadCrl(_) => reasons::BAD_CRL,
            DirectoryInvalid(_) => reasons::DIRECTORY_INVALID,
            DirectoryConflict(_) => reasons::DIRECTORY_VERSION_CONFLICT,
            DirectoryVersionUnknown(_) => reasons::DIRECTORY_VERSION_UNKNOWN,
            DirectoryResync { .. } => reasons::DIRECTORY_RESYNC,
            UnitNotFound(_) => reasons::UNIT_NOT_FOUND,
            LogUnavailable(_) => reasons::LOG_UNAVAILABLE,
            Cosignature { reason, .. } => reason.reason(),
            RateLimited(_) => reasons::RATE_LIMITED,
            TooManyStreams { .. } => reasons::TOO_MANY_STREAMS,
            ShuttingDown => reasons::SHUTTING_DOWN,
            CommitFailed(_) => reasons::COMMIT_FAILED,
            Storage(_) => reasons::STORAGE,
            Internal(_) => reasons::INTERNAL,
        }
    }

    /// Whether this is the axis's own fault (its database's included): the client is told only
    /// that (the code, the reason and [`ServerError::public_message`]); the details go to the
    /// server's log.
    pub fn is_internal(&self) -> bool {
        matches!(self, ServerError::Storage(_) | ServerError::Internal(_))
    }

    /// What the client is told: the whole message, except for the axis's own faults, whose
    /// details stay in the server's log.
    pub fn public_message(&self) -> String {
        match self {
            ServerError::Storage(_) => "storage failure".to_owned(),
            ServerError::Internal(_) => "internal error".to_owned(),
            e => e.to_string(),
        }
    }

    /// The gRPC code.
    pub fn code(&self) -> tonic::Code {
        use ServerError::*;
        use tonic::Code;
        match self {
            Unauthenticated => Code::Unauthenticated,
            OperatorOnly | AgencyOnly | SenderNotCaller { .. } | StatementNotAllowed(_) => {
                Code::PermissionDenied
            }
            Malformed { .. }
            | Protocol(_)
            | KeyEnvelopeMismatch
            | VersionRetired { .. }
            | SenderIsRecipient(_)
            | CursorInvalid(_)
            | LengthMismatch { .. }
            | DigestMismatch
            | BadCertificate { .. }
            | BadCrl(_)
            | DirectoryInvalid(_) => Code::InvalidArgument,
            Signature { .. } => Code::PermissionDenied,
            Cosignature { reason, .. } => reason.code(),
            RecipientUnknown(_)
            | KeyEnvelopeRecipients { .. }
            | ChainRejected(_)
            | Withdrawn
            | StatementTime { .. }
            | DirectoryResync { .. } => Code::FailedPrecondition,
            DocumentTooLarge { .. }
            | TooManyRecipients { .. }
            | ChunkTooLarge { .. }
            | RateLimited(_)
            | TooManyStreams { .. } => Code::ResourceExhausted,
            MessageIdConflict(_) | AgencyExists(_) => Code::AlreadyExists,
            MessageNotFound(_)
            | AgencyNotFound(_)
            | LogUnavailable(_)
            | DirectoryVersionUnknown(_)
            | UnitNotFound(_) => Code::NotFound,
            ChainConflict | DirectoryConflict(_) => Code::Aborted,
            ShuttingDown | CommitFailed(_) | Storage(_) => Code::Unavailable,
            Internal(_) => Code::Internal,
        }
    }

    /// A signer error on a named signature, with its reason (the signer's one classification,
    /// [`axis_signer::Error::signature_refusal`]).
    pub(crate) fn signature(what: &'static str, e: &axis_signer::Error) -> Self {
        ServerError::Signature {
            what,
            detail: e.to_string(),
            reason: e.signature_refusal(),
        }
    }

    /// Stored data that does not read back.
    pub(crate) fn stored(what: &'static str, e: impl std::fmt::Display) -> Self {
        Fault::StoredData {
            what,
            detail: e.to_string(),
        }
        .into()
    }

    /// A stored log that is inconsistent with itself.
    pub(crate) fn log_state(what: &'static str, e: impl std::fmt::Display) -> Self {
        Fault::LogState {
            what,
            detail: e.to_string(),
        }
        .into()
    }

    /// A broken invariant of the server's own bookkeeping.
    pub(crate) fn invariant(what: &'static str) -> Self {
        Fault::Invariant(what).into()
    }

    /// The uploaded ciphertext is not the one the signed routing header announces.
    pub(crate) fn ciphertext(e: axis_signer::CiphertextError) -> Self {
        use axis_signer::CiphertextError as C;
        match e {
            C::CiphertextLengthMismatch { expected, found } => {
                ServerError::LengthMismatch { expected, found }
            }
            C::CiphertextDigestMismatch => ServerError::DigestMismatch,
        }
    }

    /// A statement that does not go onto its chain: the chain's own refusals (party, subject,
    /// digests, previous hash, transition, order, length) are `STATUS_REJECTED`; anything else
    /// is about the statement's signature ([`ServerError::signature`]).
    pub(crate) fn chain(e: &axis_signer::Error) -> Self {
        use axis_signer::Error as E;
        match e {
            E::Chain(_) => ServerError::ChainRejected(e.to_string()),
            E::Format(_)
            | E::Key(_)
            | E::Signature(_)
            | E::SigningTime(_)
            | E::Certificate(_)
            | E::Envelope(_)
            | E::Stream(_)
            | E::Ciphertext(_)
            | E::Crypto { .. }
            | E::Misuse { .. } => ServerError::signature("receipt signature", e),
        }
    }

    /// A directory import the evidence crate refused: the operator's signature (its reason
    /// from [`ServerError::signature`]), a version that does not follow the current one, or
    /// units and changes that are not what the version signs.
    pub(crate) fn directory(e: axis_evidence::Error) -> Self {
        use axis_evidence::{DirectoryError as D, Error as E};
        match e {
            E::Signer(s) => ServerError::signature("directory version signature", &s),
            E::Directory(D::NotContiguous { found, .. }) => ServerError::DirectoryConflict(found),
            E::Directory(D::PreviousDigestMismatch { version }) => {
                ServerError::DirectoryConflict(version)
            }
            E::Directory(d) => ServerError::DirectoryInvalid(d.to_string()),
            E::Log(_) | E::Trust(_) | E::Witness(_) | E::Layout(_) | E::BundleItem { .. } => {
                ServerError::DirectoryInvalid(e.to_string())
            }
        }
    }

    /// A parse error on named untrusted bytes.
    /// A structure from the client that the signer refused to read: of a retired format
    /// version ([`ServerError::VersionRetired`]), or malformed.
    pub(crate) fn unreadable(what: &'static str, e: &axis_signer::Error) -> Self {
        match e {
            axis_signer::Error::Format(axis_signer::FormatError::RetiredVersion { .. }) => {
                ServerError::VersionRetired {
                    what,
                    detail: e.to_string(),
                }
            }
            e => ServerError::malformed(what, e),
        }
    }

    pub(crate) fn malformed(what: &'static str, e: impl std::fmt::Display) -> Self {
        ServerError::Malformed {
            what,
            detail: e.to_string(),
        }
    }
}

/// Result alias.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests;
