//! The SDK's one error type: a small, stable [`ErrorKind`] to branch on, and a message that says
//! what went wrong and what to do about it.

use std::fmt;

/// What kind of failure an [`Error`] is. Branch on this; the message is for people.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is incomplete or wrong (a missing file, a wrong passphrase, a
    /// certificate that does not verify, a key the operation needs but the config lacks).
    Config,
    /// The axis could not be reached or the connection broke (gRPC UNAVAILABLE); retrying
    /// later may succeed.
    Transport,
    /// A deadline passed: the connection, a call, or a stream went silent for longer than the
    /// configured [`crate::Timeouts`] allow, on every endpoint tried (gRPC DEADLINE_EXCEEDED);
    /// retrying later may succeed.
    DeadlineExceeded,
    /// The axis did not accept this client's TLS identity.
    Unauthenticated,
    /// The axis refused the call for this caller (for example a message addressed to another
    /// agency, or an operator call from an agency certificate).
    PermissionDenied,
    /// The message, agency or other object does not exist (or is not visible to this caller).
    NotFound,
    /// The caller's input is not valid (checked by the SDK before anything was sent).
    InvalidInput,
    /// The axis refused the request for a machine-readable `reason` (the `axis-reason` sent
    /// with the status, e.g. `RECIPIENT_UNKNOWN`, `DIGEST_MISMATCH`, `DOCUMENT_TOO_LARGE`).
    Rejected {
        /// The server's reason code.
        reason: String,
    },
    /// Something received did not verify: a signature, a certificate, a digest, a receipt
    /// chain or log evidence. Do not trust the data; report it.
    Verification,
    /// A local file could not be read or written.
    Io,
    /// The axis failed internally or does not implement the call (a server-side fault).
    Server,
}

/// An SDK error: its [`ErrorKind`], a one-line message that says what to do, and the server's
/// reason code when the axis sent one.
pub struct Error {
    kind: ErrorKind,
    message: String,
    reason: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// A key on a token that cannot be opened or used: a configuration error carrying the token's
/// reason.
pub(crate) fn token(what: &str, e: axis_keys::Error) -> Error {
    let reason = e.reason();
    Error::config(format!("{what}: {e} [{reason}]"))
        .with_reason(Some(reason.to_owned()))
        .with_source(e)
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            reason: None,
            source: None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn verification(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Verification, message)
    }

    /// A local I/O failure ([`ErrorKind::Io`]), `message` saying what was being done: what an
    /// [`crate::AttachmentSink`] of the caller's returns when it cannot write.
    pub fn io(message: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{}: {source}", message.into())).with_source(source)
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_reason(mut self, reason: Option<String>) -> Self {
        self.reason = reason;
        self
    }

    /// A signer or evidence error while checking something received.
    pub(crate) fn signer(what: &str, e: impl Classified) -> Self {
        Self::new(e.kind(Side::Received), format!("{what}: {e}")).with_source(e)
    }

    /// A signer or evidence error on the sending side (building, signing, sealing).
    pub(crate) fn building(what: &str, e: impl Classified) -> Self {
        Self::new(e.kind(Side::Building), format!("{what}: {e}")).with_source(e)
    }

    /// Adds context in front of the message.
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The machine-readable reason: the server's (`axis-reason`) when the axis sent one, one
    /// of [`crate::reasons`]; for an edXML package refused here, the parser's
    /// (`EDXML_DTD`, `EDXML_ZIP_BOMB`…; see [`crate::edxml::ErrorKind`]); for a key on a
    /// PKCS#11 token that cannot be used, the token's (`TOKEN_PIN_INCORRECT`,
    /// `TOKEN_NOT_PRESENT`, `TOKEN_KEY_WRONG_TYPE`…; see [`axis_keys::reasons`]).
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The message (also what `Display` prints).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether retrying the same call later may succeed (transport failures and server faults).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Transport | ErrorKind::DeadlineExceeded | ErrorKind::Server
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("reason", &self.reason)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Building a document from bad values (a malformed code, a field too long): the sending side.
impl From<axis_signer::Error> for Error {
    fn from(e: axis_signer::Error) -> Self {
        Error::new(e.kind(Side::Building), e.to_string()).with_source(e)
    }
}

/// Which side of an exchange a signer or evidence error happened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// Checking what the axis or a sender sent: a failure means it does not verify.
    Received,
    /// Building, signing or sealing what this client sends: a failure means the input (the
    /// values, keys or certificates given) is at fault.
    Building,
}

/// The errors of the lower crates, each classified once per category of theirs: a new category
/// does not compile until it is given a kind here.
pub(crate) trait Classified: std::error::Error + Send + Sync + 'static {
    /// The SDK's kind of this error on `side`.
    fn kind(&self, side: Side) -> ErrorKind;
}

impl Classified for axis_signer::Error {
    fn kind(&self, side: Side) -> ErrorKind {
        use axis_signer::Error as E;
        let (received, building) = (ErrorKind::Verification, ErrorKind::InvalidInput);
        match self {
            // Bytes, signatures, certificates, the envelope, the stream, the ciphertext and the
            // receipt chain: received, they do not verify; built, the input is not valid.
            E::Format(_)
            | E::Signature(_)
            | E::SigningTime(_)
            | E::Certificate(_)
            | E::Envelope(_)
            | E::Stream(_)
            | E::Ciphertext(_)
            | E::Chain(_)
            // This client's own keys, the crypto library, calls out of order: reported on the
            // side they happened.
            | E::Key(_)
            | E::Crypto { .. }
            | E::Misuse { .. } => match side {
                Side::Received => received,
                Side::Building => building,
            },
        }
    }
}

impl Classified for axis_evidence::Error {
    fn kind(&self, side: Side) -> ErrorKind {
        use axis_evidence::Error as E;
        match self {
            E::Signer(e) => e.kind(side),
            // The log's own proofs and the trust material given with them; the unit directory
            // (received: the snapshot or changes do not verify; built: the file is not valid).
            E::Log(_)
            | E::Trust(_)
            | E::Witness(_)
            | E::Layout(_)
            | E::BundleItem { .. }
            | E::Directory(_) => match side {
                Side::Received => ErrorKind::Verification,
                Side::Building => ErrorKind::InvalidInput,
            },
        }
    }
}

/// A malformed agency id: invalid input.
impl From<axis_pki::AgencyIdError> for Error {
    fn from(e: axis_pki::AgencyIdError) -> Self {
        Error::invalid(format!("agency id: {e}")).with_source(e)
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
