//! The CLI's error: what is wrong, and where useful what to do about it.
//!
//! `main` prints it as `axis-pki: error: <message>` and, if there is one, `hint: <hint>`, then
//! exits 1. Messages never carry passphrases or key bytes.

use std::fmt;
use std::path::Path;

use axis_pki::Error as PkiError;

/// An operational failure (exit code 1).
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// The result type of every command.
pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            hint: None,
        }
    }

    /// Sets (or replaces) the hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prefixes the message with what was being done: `<context>: <message>`.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// A filesystem error, naming the action and the path.
    pub(crate) fn io(action: &str, path: &Path, err: &std::io::Error) -> Self {
        Failure::new(format!("cannot {action} {}: {err}", path.display()))
    }
}

impl From<PkiError> for Failure {
    fn from(e: PkiError) -> Self {
        let hint = hint_for(&e);
        Failure {
            message: e.to_string(),
            hint,
        }
    }
}

/// Extension to add context to library results.
pub(crate) trait ResultExt<T> {
    /// Converts the error and prefixes `context`.
    fn context(self, context: impl fmt::Display) -> Result<T>;
}

impl<T, E: Into<Failure>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, context: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(context))
    }
}

/// What to do about a library error, where the library's own message does not already say it.
/// Commands that know more (which passphrase, which CA) replace these with sharper hints.
pub(crate) fn hint_for(e: &PkiError) -> Option<String> {
    let h = match e {
        PkiError::WrongPassphrase => {
            "check that the passphrase is the one the key was created with".to_owned()
        }
        PkiError::PassphraseTooShort { min } => format!(
            "choose a passphrase of at least {min} characters for new keys \
             (AXIS_PKI_NEW_KEY_PASS or --new-key-pass-file FILE)"
        ),
        PkiError::IssuerExpired { .. } => "create a new issuing CA with \
            `axis-pki ca --id NEW-ID --name ...` and issue from it with `--ca NEW-ID`"
            .to_owned(),
        PkiError::IssuerNotYetValid { .. } => "check this machine's clock (`date -u`)".to_owned(),
        PkiError::ValidityTooLong { max_days, .. } => format!(
            "ask for at most {max_days} days with --days, or leave --days out to get the \
             profile's default"
        ),
        PkiError::SubjectFieldMissing { field, .. } => match *field {
            "agency id" => "give --agency-id, e.g. --agency-id 000.00.00.G22".to_owned(),
            "title (position)" => {
                "give the person's position with --title, e.g. --title \"Phó Thủ tướng\"".to_owned()
            }
            "DNS name or IP address" => {
                "give the server's names with --dns HOST and/or --ip ADDR".to_owned()
            }
            other => format!("give the {other}"),
        },
        PkiError::SubjectFieldNotAllowed { field, profile } => match *field {
            "agency id" => {
                format!("leave out --agency-id: a {profile} certificate is not bound to an agency")
            }
            "title (position)" => {
                "leave out --title: only personal-signer certificates carry a position".to_owned()
            }
            "DNS name or IP address" => {
                "leave out --dns/--ip: only axis-server-tls certificates carry names".to_owned()
            }
            other => format!("leave out the {other}"),
        },
        PkiError::NameTooLong { .. } | PkiError::NameInvalid { .. } => {
            "names are 1 to 64 characters without control characters (RFC 5280 upper bounds)"
                .to_owned()
        }
        PkiError::CsrSignatureInvalid => "the CSR was altered after it was signed, or is corrupt; \
            ask the requester for a new one (`openssl req -verify -noout -in FILE` checks it)"
            .to_owned(),
        PkiError::CsrExcessRequest { .. } => "Axis grants exactly what the profile fixes; the \
            requester should make the CSR without -addext/extensions (`openssl req -new ...`)"
            .to_owned(),
        PkiError::CsrAgencyMismatch { .. } => "check --agency-id, or ask the agency for a CSR \
            carrying its own organizationIdentifier"
            .to_owned(),
        PkiError::CsrMalformed | PkiError::CsrTooLarge { .. } => {
            "give a PKCS#10 request in PEM or DER, as `openssl req -new` writes it".to_owned()
        }
        PkiError::UnsupportedKey => "use an RSA 2048/3072/4096 or ECDSA P-256 key".to_owned(),
        PkiError::CrlMissing { .. }
        | PkiError::CrlStale { .. }
        | PkiError::CrlNotYetValid { .. } => {
            "publish a fresh CRL with `axis-pki crl --ca ID` (IDs: `axis-pki list`)".to_owned()
        }
        PkiError::UnknownIssuer { .. } => "the certificate does not chain to this CA directory's \
            root: check --dir (or AXIS_PKI_DIR), or pass its intermediates with --chain FILE"
            .to_owned(),
        PkiError::WrongProfile { found, .. } => {
            format!(
                "verify it as what it is with --profile {found}, or use a certificate of the required profile"
            )
        }
        PkiError::ProfileMissing { .. } => {
            "the certificate was not issued by Axis; give --profile only for Axis certificates"
                .to_owned()
        }
        PkiError::KeyMismatch => {
            "give the key file that was generated together with the certificate".to_owned()
        }
        // The rest say what to do in their own message, or there is nothing to add.
        _ => return None,
    };
    Some(h)
}
