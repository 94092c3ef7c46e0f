//! The machine-readable reasons of the errors an axis returns, defined once for the server and
//! every client.
//!
//! A refused or failed call carries its reason twice: as `google.rpc.ErrorInfo { domain:
//! "axis.v1", reason }` in the status details ([`DOMAIN`]), and as the `axis-reason` response
//! metadata ([`METADATA_KEY`]). A client switches on the reason, never on the message (which is
//! for people and may change). The gRPC code of each reason is the server's (listed here for
//! reference); a reason's meaning never changes once published, and a new one is added to
//! [`ALL`].
//!
//! ```
//! use axis_proto::reasons;
//! let status = tonic::Status::already_exists("message id … was already used");
//! let reason = status.metadata().get(reasons::METADATA_KEY).and_then(|v| v.to_str().ok());
//! if reason == Some(reasons::MESSAGE_ID_CONFLICT) { /* fetch the first acceptance */ }
//! ```

/// `ErrorInfo.domain` of every Axis error.
pub const DOMAIN: &str = "axis.v1";
/// The response metadata key that carries the reason.
pub const METADATA_KEY: &str = "axis-reason";

/// No verified client certificate on the connection (`UNAUTHENTICATED`).
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// The call needs an axis operator certificate (`PERMISSION_DENIED`).
pub const OPERATOR_ONLY: &str = "OPERATOR_ONLY";
/// An operator certificate cannot exchange documents (`PERMISSION_DENIED`).
pub const AGENCY_ONLY: &str = "AGENCY_ONLY";
/// A field of the request is malformed (`INVALID_ARGUMENT`).
pub const MALFORMED: &str = "MALFORMED";
/// The Submit stream broke the protocol: `begin` first, then non-empty chunks
/// (`INVALID_ARGUMENT`).
pub const PROTOCOL_VIOLATION: &str = "PROTOCOL_VIOLATION";
/// The routing header names another sender than the calling agency (`PERMISSION_DENIED`).
pub const SENDER_NOT_CALLER: &str = "SENDER_NOT_CALLER";
/// A signature does not verify (`PERMISSION_DENIED`).
pub const SIGNATURE_INVALID: &str = "SIGNATURE_INVALID";
/// A certificate (the signer's, or the caller's TLS certificate) is revoked
/// (`PERMISSION_DENIED`).
pub const CERTIFICATE_REVOKED: &str = "CERTIFICATE_REVOKED";
/// A certificate does not verify for its use: chain, validity, profile (`PERMISSION_DENIED`).
pub const CERTIFICATE_REJECTED: &str = "CERTIFICATE_REJECTED";
/// A signing certificate belongs to another agency than the one stating (`PERMISSION_DENIED`).
pub const SIGNER_AGENCY_MISMATCH: &str = "SIGNER_AGENCY_MISMATCH";
/// A signature's signing time is in the future or outside its certificate's validity
/// (`PERMISSION_DENIED`).
pub const SIGNING_TIME_INVALID: &str = "SIGNING_TIME_INVALID";
/// The key envelope is not the one the routing header names: not one entry per recipient, or
/// not under the header's Merkle root (`INVALID_ARGUMENT`).
pub const KEY_ENVELOPE_MISMATCH: &str = "KEY_ENVELOPE_MISMATCH";
/// A structure is of a format version this axis no longer accepts (a routing header of version
/// 1, whose key envelope went whole to every recipient): seal again with a current SDK
/// (`INVALID_ARGUMENT`).
pub const FORMAT_VERSION_RETIRED: &str = "FORMAT_VERSION_RETIRED";
/// The key envelope's recipients are not exactly the routing header's, by the directory's
/// current encryption certificates: a recipient could not open the document
/// (`FAILED_PRECONDITION`).
pub const KEY_ENVELOPE_RECIPIENTS: &str = "KEY_ENVELOPE_RECIPIENTS";
/// The routing header names the sender among its recipients: an agency files its own
/// documents in its own DMS, not through the axis (`INVALID_ARGUMENT`).
pub const SENDER_IS_RECIPIENT: &str = "SENDER_IS_RECIPIENT";
/// A unit of a directory import or change set is malformed, or the hierarchy does not hold (a
/// parent missing, another level-1 body, more than four levels); the message names the unit,
/// the field and the problem (`INVALID_ARGUMENT`).
pub const DIRECTORY_INVALID: &str = "DIRECTORY_INVALID";
/// A directory import does not follow the current version (another import came first): read
/// the directory again and sign the next version (`ABORTED`).
pub const DIRECTORY_VERSION_CONFLICT: &str = "DIRECTORY_VERSION_CONFLICT";
/// The directory version asked for does not exist (`NOT_FOUND`).
pub const DIRECTORY_VERSION_UNKNOWN: &str = "DIRECTORY_VERSION_UNKNOWN";
/// The copy is too far behind for changes: take a snapshot (`FAILED_PRECONDITION`).
pub const DIRECTORY_RESYNC: &str = "DIRECTORY_RESYNC";
/// The unit is not in the directory (`NOT_FOUND`).
pub const UNIT_NOT_FOUND: &str = "UNIT_NOT_FOUND";
/// Some recipients are not registered in the directory (`FAILED_PRECONDITION`).
pub const RECIPIENT_UNKNOWN: &str = "RECIPIENT_UNKNOWN";
/// The document is larger than this axis accepts (`RESOURCE_EXHAUSTED`).
pub const DOCUMENT_TOO_LARGE: &str = "DOCUMENT_TOO_LARGE";
/// More recipients than this axis accepts (`RESOURCE_EXHAUSTED`).
pub const TOO_MANY_RECIPIENTS: &str = "TOO_MANY_RECIPIENTS";
/// A chunk is larger than this axis accepts (`RESOURCE_EXHAUSTED`).
pub const CHUNK_TOO_LARGE: &str = "CHUNK_TOO_LARGE";
/// The ciphertext's length differs from the routing header's (`INVALID_ARGUMENT`).
pub const LENGTH_MISMATCH: &str = "LENGTH_MISMATCH";
/// The ciphertext's SHA-256 differs from the routing header's (`INVALID_ARGUMENT`).
pub const DIGEST_MISMATCH: &str = "DIGEST_MISMATCH";
/// The message id was already used for a different submission (`ALREADY_EXISTS`).
pub const MESSAGE_ID_CONFLICT: &str = "MESSAGE_ID_CONFLICT";
/// A cursor that this axis did not issue to the caller: not the decimal position of one of its
/// deliveries (negative, not a number, another agency's, beyond the last) (`INVALID_ARGUMENT`).
pub const CURSOR_INVALID: &str = "CURSOR_INVALID";
/// No such message for the caller; also when the caller is not a party, so existence is not
/// revealed (`NOT_FOUND`).
pub const MESSAGE_NOT_FOUND: &str = "MESSAGE_NOT_FOUND";
/// The status is not the caller's to state, or not sent with this call (`PERMISSION_DENIED`).
pub const NOT_AUTHORIZED: &str = "NOT_AUTHORIZED";
/// The status does not continue the document's history: order, digests, previous hash
/// (`FAILED_PRECONDITION`).
pub const STATUS_REJECTED: &str = "STATUS_REJECTED";
/// Another status for the same history was logged concurrently; fetch the history and retry
/// (`ABORTED`).
pub const CHAIN_CONFLICT: &str = "CHAIN_CONFLICT";
/// The status is dated too far from the axis's clock (`FAILED_PRECONDITION`).
pub const STATEMENT_TIME_INVALID: &str = "STATEMENT_TIME_INVALID";
/// The recipient agreed to a recall: its copy is withdrawn (`FAILED_PRECONDITION`).
pub const WITHDRAWN: &str = "WITHDRAWN";
/// The agency is not registered (`NOT_FOUND`).
pub const AGENCY_NOT_FOUND: &str = "AGENCY_NOT_FOUND";
/// The agency is registered already (`ALREADY_EXISTS`).
pub const AGENCY_EXISTS: &str = "AGENCY_EXISTS";
/// A certificate handed to the directory is not acceptable (`INVALID_ARGUMENT`).
pub const BAD_CERTIFICATE: &str = "BAD_CERTIFICATE";
/// A CRL handed in is not acceptable (`INVALID_ARGUMENT`).
pub const BAD_CRL: &str = "BAD_CRL";
/// No signed tree head of that size, or no such entry (`NOT_FOUND`).
pub const LOG_UNAVAILABLE: &str = "LOG_UNAVAILABLE";
/// The cosignature is by a witness the operator did not configure (`PERMISSION_DENIED`).
pub const WITNESS_UNKNOWN: &str = "WITNESS_UNKNOWN";
/// The cosignature does not verify with its witness's key, or is not in its one byte form
/// (`PERMISSION_DENIED`).
pub const COSIGNATURE_INVALID: &str = "COSIGNATURE_INVALID";
/// The cosignature is of a head this axis never signed: another log, or a tree size it signed
/// no head for (`NOT_FOUND`).
pub const TREE_HEAD_UNKNOWN: &str = "TREE_HEAD_UNKNOWN";
/// The cosignature is of a head of a size this axis signed, but with another root: the witness
/// was shown another history (a split view) — the axis keeps it out and logs it
/// (`FAILED_PRECONDITION`).
pub const TREE_HEAD_MISMATCH: &str = "TREE_HEAD_MISMATCH";
/// Too many calls from the agency; retry after a moment (`RESOURCE_EXHAUSTED`).
pub const RATE_LIMITED: &str = "RATE_LIMITED";
/// The agency holds too many open streams (`RESOURCE_EXHAUSTED`).
pub const TOO_MANY_STREAMS: &str = "TOO_MANY_STREAMS";
/// The axis is shutting down; retry on another node or in a moment (`UNAVAILABLE`).
pub const SHUTTING_DOWN: &str = "SHUTTING_DOWN";
/// The commit failed and nothing was stored; retrying is safe (`UNAVAILABLE`).
pub const COMMIT_FAILED: &str = "COMMIT_FAILED";
/// The axis's database failed or did not answer in time; retry, on another node or in a moment
/// (`UNAVAILABLE`).
pub const STORAGE: &str = "STORAGE";
/// The axis failed internally; details are in its log only (`INTERNAL`).
pub const INTERNAL: &str = "INTERNAL";

/// Every reason an axis may send.
pub const ALL: &[&str] = &[
    UNAUTHENTICATED,
    OPERATOR_ONLY,
    AGENCY_ONLY,
    MALFORMED,
    PROTOCOL_VIOLATION,
    SENDER_NOT_CALLER,
    SIGNATURE_INVALID,
    CERTIFICATE_REVOKED,
    CERTIFICATE_REJECTED,
    SIGNER_AGENCY_MISMATCH,
    SIGNING_TIME_INVALID,
    KEY_ENVELOPE_MISMATCH,
    FORMAT_VERSION_RETIRED,
    KEY_ENVELOPE_RECIPIENTS,
    SENDER_IS_RECIPIENT,
    DIRECTORY_INVALID,
    DIRECTORY_VERSION_CONFLICT,
    DIRECTORY_VERSION_UNKNOWN,
    DIRECTORY_RESYNC,
    UNIT_NOT_FOUND,
    RECIPIENT_UNKNOWN,
    DOCUMENT_TOO_LARGE,
    TOO_MANY_RECIPIENTS,
    CHUNK_TOO_LARGE,
    LENGTH_MISMATCH,
    DIGEST_MISMATCH,
    MESSAGE_ID_CONFLICT,
    CURSOR_INVALID,
    MESSAGE_NOT_FOUND,
    NOT_AUTHORIZED,
    STATUS_REJECTED,
    CHAIN_CONFLICT,
    STATEMENT_TIME_INVALID,
    WITHDRAWN,
    AGENCY_NOT_FOUND,
    AGENCY_EXISTS,
    BAD_CERTIFICATE,
    BAD_CRL,
    LOG_UNAVAILABLE,
    WITNESS_UNKNOWN,
    COSIGNATURE_INVALID,
    TREE_HEAD_UNKNOWN,
    TREE_HEAD_MISMATCH,
    RATE_LIMITED,
    TOO_MANY_STREAMS,
    SHUTTING_DOWN,
    COMMIT_FAILED,
    STORAGE,
    INTERNAL,
];

/// The reasons an `axis-gateway` gives its DMSs for what it refuses itself (beside the axis's
/// reasons above, which it passes on, and the edXML parser's `EDXML_…` kinds): the `ErrorCode`
/// of a VXP-compatible answer, and the `reason` of a JSON API problem detail.
pub mod gateway {
    /// The VXP `XroadVnpt-hash-header` is not the HMAC-SHA256 of `XroadVnpt-sign-header` under
    /// the system's secret, or a header it needs is missing.
    pub const HMAC_INVALID: &str = "HMAC_INVALID";
    /// The `systemid` is not configured at this gateway.
    pub const SYSTEM_UNKNOWN: &str = "SYSTEM_UNKNOWN";
    /// The JSON API needs its bearer token (or a client certificate) and did not get it.
    pub const TOKEN_INVALID: &str = "TOKEN_INVALID";
    /// The request body is larger than this gateway accepts.
    pub const BODY_TOO_LARGE: &str = "BODY_TOO_LARGE";
    /// The request is malformed: a parameter missing or not what it must be, a body that is
    /// not what the call takes.
    pub const REQUEST_MALFORMED: &str = "REQUEST_MALFORMED";
    /// The `from` or a package's sender is not this gateway's agency.
    pub const SENDER_NOT_AGENCY: &str = "SENDER_NOT_AGENCY";
    /// No document or mailbox item with this id at this gateway.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The call is not offered by this gateway (its operator's policy).
    pub const NOT_OFFERED: &str = "NOT_OFFERED";
    /// The axis could not be reached; nothing was stored, try again.
    pub const AXIS_UNAVAILABLE: &str = "AXIS_UNAVAILABLE";
    /// The axis's log failed the gateway's consistency check; the gateway refuses to go on.
    pub const LOG_INCONSISTENT: &str = "LOG_INCONSISTENT";
    /// The gateway failed internally (its store, its files); nothing partial was kept.
    pub const GATEWAY_INTERNAL: &str = "GATEWAY_INTERNAL";
    /// No prepared send with this handle: never made, already completed, or expired (a
    /// prepared send waits a bounded time for its personal signature, then is forgotten).
    pub const PREPARED_UNKNOWN: &str = "PREPARED_UNKNOWN";
    /// The gateway holds as many prepared sends (or bytes of them) as it keeps; complete or let
    /// some expire, then prepare again.
    pub const PREPARED_FULL: &str = "PREPARED_FULL";

    /// Every reason a gateway gives of its own.
    pub const ALL: &[&str] = &[
        HMAC_INVALID,
        SYSTEM_UNKNOWN,
        TOKEN_INVALID,
        BODY_TOO_LARGE,
        REQUEST_MALFORMED,
        SENDER_NOT_AGENCY,
        NOT_FOUND,
        NOT_OFFERED,
        AXIS_UNAVAILABLE,
        LOG_INCONSISTENT,
        GATEWAY_INTERNAL,
        PREPARED_UNKNOWN,
        PREPARED_FULL,
    ];
}

#[cfg(test)]
mod tests {
    /// Reasons are distinct, and each is its constant's own name: what a client reads on the
    /// wire is what it writes in code. (That the server emits only listed reasons is tested in
    /// `axis-server`.)
    #[test]
    fn reasons_are_distinct_and_spelled_like_their_names() {
        let source = include_str!("reasons.rs");
        let mut seen = std::collections::BTreeSet::new();
        for r in super::ALL {
            assert!(seen.insert(*r), "{r} listed twice");
            assert!(
                source.contains(&format!("pub const {r}: &str = \"{r}\";")),
                "{r} is not defined as its own name"
            );
            assert!(r.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{r}");
            // The server sends it as metadata: ASCII, and short.
            assert!(r.len() <= 64, "{r}");
        }
        let defined = source
            .lines()
            .filter(|l| l.starts_with("pub const ") && l.ends_with("\";"))
            .count();
        let mut gateway = std::collections::BTreeSet::new();
        for r in super::gateway::ALL {
            assert!(gateway.insert(*r), "{r} listed twice");
            assert!(!seen.contains(r), "{r} is an axis reason too");
            assert!(
                source.contains(&format!("    pub const {r}: &str = \"{r}\";")),
                "{r} is not defined as its own name"
            );
        }
        assert_eq!(
            source
                .lines()
                .filter(|l| l.starts_with("    pub const ") && l.ends_with("\";"))
                .count(),
            super::gateway::ALL.len(),
            "a gateway reason is missing from gateway::ALL"
        );
        // Every constant but DOMAIN and METADATA_KEY is a reason listed in ALL.
        assert_eq!(
            defined - 2,
            super::ALL.len(),
            "a reason is missing from ALL"
        );
    }
}
