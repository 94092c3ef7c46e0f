//! The server's one error type, and its mapping to a gRPC status with a machine-readable reason
//! (`grpc::status` is the only place that turns it into a `tonic::Status`).

use axis_pki::AgencyId;

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
        /// Machine-readable reason.
        reason: &'static str,
    },
    /// The key envelope is not the one the header names.
    #[error("the key envelope does not match the routing header's digest")]
    KeyEnvelopeMismatch,
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
    /// No signed tree head of that size, or a proof that cannot be made.
    #[error("{0}")]
    LogUnavailable(String),
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
    /// The database failed.
    #[error("storage failure")]
    Storage(#[from] sqlx::Error),
    /// Something that should not happen; details are in the server log only.
    #[error("internal error")]
    Internal(String),
}

impl ServerError {
    /// The machine-readable reason.
    pub fn reason(&self) -> &'static str {
        use ServerError::*;
        match self {
            Unauthenticated => "UNAUTHENTICATED",
            OperatorOnly => "OPERATOR_ONLY",
            AgencyOnly => "AGENCY_ONLY",
            Malformed { .. } => "MALFORMED",
            Protocol(_) => "PROTOCOL_VIOLATION",
            SenderNotCaller { .. } => "SENDER_NOT_CALLER",
            Signature { reason, .. } => reason,
            KeyEnvelopeMismatch => "KEY_ENVELOPE_MISMATCH",
            RecipientUnknown(_) => "RECIPIENT_UNKNOWN",
            DocumentTooLarge { .. } => "DOCUMENT_TOO_LARGE",
            TooManyRecipients { .. } => "TOO_MANY_RECIPIENTS",
            ChunkTooLarge { .. } => "CHUNK_TOO_LARGE",
            LengthMismatch { .. } => "LENGTH_MISMATCH",
            DigestMismatch => "DIGEST_MISMATCH",
            MessageIdConflict(_) => "MESSAGE_ID_CONFLICT",
            MessageNotFound(_) => "MESSAGE_NOT_FOUND",
            StatementNotAllowed(_) => "NOT_AUTHORIZED",
            ChainRejected(_) => "STATUS_REJECTED",
            ChainConflict => "CHAIN_CONFLICT",
            StatementTime { .. } => "STATEMENT_TIME_INVALID",
            Withdrawn => "WITHDRAWN",
            AgencyNotFound(_) => "AGENCY_NOT_FOUND",
            AgencyExists(_) => "AGENCY_EXISTS",
            BadCertificate { .. } => "BAD_CERTIFICATE",
            BadCrl(_) => "BAD_CRL",
            LogUnavailable(_) => "LOG_UNAVAILABLE",
            RateLimited(_) => "RATE_LIMITED",
            TooManyStreams { .. } => "TOO_MANY_STREAMS",
            ShuttingDown => "SHUTTING_DOWN",
            CommitFailed(_) => "COMMIT_FAILED",
            Storage(_) => "STORAGE",
            Internal(_) => "INTERNAL",
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
            | LengthMismatch { .. }
            | DigestMismatch
            | BadCertificate { .. }
            | BadCrl(_) => Code::InvalidArgument,
            Signature { .. } => Code::PermissionDenied,
            RecipientUnknown(_) | ChainRejected(_) | Withdrawn | StatementTime { .. } => {
                Code::FailedPrecondition
            }
            DocumentTooLarge { .. }
            | TooManyRecipients { .. }
            | ChunkTooLarge { .. }
            | RateLimited(_)
            | TooManyStreams { .. } => Code::ResourceExhausted,
            MessageIdConflict(_) | AgencyExists(_) => Code::AlreadyExists,
            MessageNotFound(_) | AgencyNotFound(_) | LogUnavailable(_) => Code::NotFound,
            ChainConflict => Code::Aborted,
            ShuttingDown | CommitFailed(_) => Code::Unavailable,
            Storage(_) | Internal(_) => Code::Internal,
        }
    }

    /// A signer error on a named signature, with its reason.
    pub(crate) fn signature(what: &'static str, e: &axis_signer::Error) -> Self {
        use axis_signer::Error as E;
        let reason = match e {
            E::SignerRevoked { .. } => "CERTIFICATE_REVOKED",
            E::SignerCertificateRejected { .. } => "CERTIFICATE_REJECTED",
            E::SignerAgencyMismatch { .. } => "SIGNER_AGENCY_MISMATCH",
            E::SigningTimeInFuture { .. } | E::SigningTimeOutsideValidity { .. } => {
                "SIGNING_TIME_INVALID"
            }
            _ => "SIGNATURE_INVALID",
        };
        ServerError::Signature {
            what,
            detail: e.to_string(),
            reason,
        }
    }

    /// A parse error on named untrusted bytes.
    pub(crate) fn malformed(what: &'static str, e: impl std::fmt::Display) -> Self {
        ServerError::Malformed {
            what,
            detail: e.to_string(),
        }
    }
}

/// Result alias.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
