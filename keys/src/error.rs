//! The crate's error: one variant per thing an operator must do differently. None carries a PIN,
//! a passphrase or key material; a PKCS#11 return code is named as the standard names it
//! (`CKR_DEVICE_REMOVED`).

use std::path::PathBuf;

/// A `pkcs11:` URI that cannot be used (RFC 7512 and the attributes Axis reads).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The text does not start with `pkcs11:`.
    #[error("a PKCS#11 URI starts with `pkcs11:`")]
    NotPkcs11,
    /// Longer than [`crate::MAX_URI_LEN`].
    #[error("the PKCS#11 URI is {len} bytes; at most {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A `%` not followed by two hex digits, or a value that is not UTF-8 where text is needed.
    #[error("bad percent-encoding in the value of `{attribute}`")]
    BadEncoding {
        /// The attribute.
        attribute: String,
    },
    /// An attribute RFC 7512 does not define, or one Axis does not read (a typo must not match
    /// every object).
    #[error("unknown PKCS#11 URI attribute `{attribute}`")]
    UnknownAttribute {
        /// The attribute (truncated).
        attribute: String,
    },
    /// The same attribute twice (RFC 7512 §2.3 forbids it).
    #[error("the attribute `{attribute}` appears twice")]
    DuplicateAttribute {
        /// The attribute.
        attribute: String,
    },
    /// `pin-value`: a PIN in a URI ends up in argv, shell history and configuration files.
    #[error(
        "`pin-value` is refused: a PIN must not be written in a URI; use \
         `pin-source=file:/path/to/pin` or `pin-source=env:VARIABLE`"
    )]
    PinValueForbidden,
    /// A `pin-source` that is neither `file:PATH`, an absolute path nor `env:VARIABLE`.
    #[error("`pin-source` must be `file:/path`, an absolute path or `env:VARIABLE`")]
    BadPinSource,
    /// Nothing says which token: `token`, `serial` or `slot-id` is needed.
    #[error("the URI does not say which token: give `token=LABEL` (or `serial=` or `slot-id=`)")]
    NoToken,
    /// Nothing says which key: `object` (its label) or `id` is needed.
    #[error("the URI does not say which key: give `object=LABEL` and/or `id=%xx…`")]
    NoObject,
    /// `type=` names something other than a private key.
    #[error("`type={found}`: Axis uses private keys (`type=private`)")]
    NotPrivateKey {
        /// What was given.
        found: String,
    },
    /// `module-name` needs a search in system directories, which Axis does not do.
    #[error("give the module's full path with `module-path=`; `module-name` is not searched")]
    ModuleNameUnsupported,
    /// `slot-id` is not a number.
    #[error("`slot-id` must be a decimal number")]
    BadSlotId,
}

/// Everything that can go wrong with a key on a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key reference is not a usable `pkcs11:` URI.
    #[error("{0}")]
    Uri(#[from] UriError),
    /// No PKCS#11 module is named.
    #[error(
        "no PKCS#11 module: add `?module-path=/path/to/module.so` to the URI or set {}",
        crate::MODULE_ENV
    )]
    NoModule,
    /// The module could not be loaded (missing file, wrong architecture, missing symbols).
    #[error("cannot load the PKCS#11 module {path}: {detail}")]
    ModuleLoad {
        /// The module.
        path: PathBuf,
        /// What the loader said.
        detail: String,
    },
    /// `C_Initialize` failed.
    #[error("the PKCS#11 module {path} failed to initialise: {rv}")]
    ModuleInit {
        /// The module.
        path: PathBuf,
        /// The return code.
        rv: String,
    },
    /// No slot holds the token (absent, unplugged, or another label).
    #[error("token \"{token}\" is not present (tokens present: {})", list(present))]
    TokenNotFound {
        /// The token asked for.
        token: String,
        /// The labels of the tokens present.
        present: Vec<String>,
    },
    /// Neither the URI nor the configuration gives a PIN.
    #[error(
        "no PIN for token \"{token}\": add `pin-source=file:/path` to the URI, or give the key's \
         passphrase file or variable (it is used as the PIN)"
    )]
    NoPin {
        /// The token.
        token: String,
    },
    /// The PIN source could not be read.
    #[error("cannot read the PIN for token \"{token}\" from {source_name}: {detail}")]
    PinSource {
        /// The token.
        token: String,
        /// `file /etc/axis/pin`, `environment variable AXIS_PIN`.
        source_name: String,
        /// Why.
        detail: String,
    },
    /// The token refused the PIN (`CKR_PIN_INCORRECT`).
    #[error("wrong PIN for token \"{token}\" (tokens lock after a few wrong PINs)")]
    WrongPin {
        /// The token.
        token: String,
    },
    /// The token is locked after too many wrong PINs (`CKR_PIN_LOCKED`).
    #[error("the PIN of token \"{token}\" is locked; its security officer must unblock it")]
    PinLocked {
        /// The token.
        token: String,
    },
    /// No private key matches the URI's `object`/`id`.
    #[error("token \"{token}\" holds no private key {object}")]
    KeyNotFound {
        /// The token.
        token: String,
        /// `object=… id=…` as given.
        object: String,
    },
    /// Several private keys match: the URI must say which.
    #[error("token \"{token}\" holds {count} private keys matching {object}; add `id=` to the URI")]
    KeyAmbiguous {
        /// The token.
        token: String,
        /// What was asked.
        object: String,
        /// How many matched.
        count: usize,
    },
    /// Generating a key where one already is.
    #[error("token \"{token}\" already holds a key {object}; choose another `object=` label")]
    KeyExists {
        /// The token.
        token: String,
        /// What was asked.
        object: String,
    },
    /// The key is not of a type Axis uses (a secret key, another curve, an RSA size we do not
    /// issue for), or not the type the use needs.
    #[error("the key {object} on token \"{token}\" is {found}; Axis needs {expected}")]
    WrongKeyType {
        /// The token.
        token: String,
        /// The key.
        object: String,
        /// What it is.
        found: String,
        /// What is needed.
        expected: String,
    },
    /// The private key has no public key (or readable public attributes) beside it.
    #[error(
        "the key {object} on token \"{token}\" has no public key object with the same id or \
         label; import or keep the public key beside it"
    )]
    NoPublicKey {
        /// The token.
        token: String,
        /// The key.
        object: String,
    },
    /// The token answered with an error (`CKR_…`) to something else.
    #[error("token \"{token}\": {op} failed with {rv}")]
    Device {
        /// The token.
        token: String,
        /// The PKCS#11 function.
        op: String,
        /// The return code.
        rv: String,
    },
}

/// Machine-readable reasons for [`Error`], one per thing an operator must do differently, as
/// the SDK, the `axis` CLI and the gateway report them beside their message
/// ([`Error::reason`]). Defined here, once, for every user of token keys.
pub mod reasons {
    /// The `pkcs11:` URI is malformed or incomplete.
    pub const TOKEN_URI_INVALID: &str = "TOKEN_URI_INVALID";
    /// The PKCS#11 module is not named, cannot be loaded or does not initialise.
    pub const TOKEN_MODULE: &str = "TOKEN_MODULE";
    /// No slot holds the token: absent, unplugged, or another label.
    pub const TOKEN_NOT_PRESENT: &str = "TOKEN_NOT_PRESENT";
    /// No PIN is configured, or its file or variable cannot be read.
    pub const TOKEN_PIN_MISSING: &str = "TOKEN_PIN_MISSING";
    /// The token refused the PIN.
    pub const TOKEN_PIN_INCORRECT: &str = "TOKEN_PIN_INCORRECT";
    /// The PIN is locked after too many wrong ones.
    pub const TOKEN_PIN_LOCKED: &str = "TOKEN_PIN_LOCKED";
    /// No private key on the token matches the URI.
    pub const TOKEN_KEY_NOT_FOUND: &str = "TOKEN_KEY_NOT_FOUND";
    /// Several private keys match the URI.
    pub const TOKEN_KEY_AMBIGUOUS: &str = "TOKEN_KEY_AMBIGUOUS";
    /// A key with that label or id is there already (generation).
    pub const TOKEN_KEY_EXISTS: &str = "TOKEN_KEY_EXISTS";
    /// The key is of a type Axis does not use, or not the type (or not allowed the operation)
    /// its use needs: an EC key where RSA-OAEP decryption is needed, a signing-only key
    /// configured as an encryption key.
    pub const TOKEN_KEY_WRONG_TYPE: &str = "TOKEN_KEY_WRONG_TYPE";
    /// The private key has no readable public half beside it.
    pub const TOKEN_KEY_NO_PUBLIC: &str = "TOKEN_KEY_NO_PUBLIC";
    /// The token answered another call with an error.
    pub const TOKEN_DEVICE: &str = "TOKEN_DEVICE";

    /// Every reason.
    pub const ALL: &[&str] = &[
        TOKEN_URI_INVALID,
        TOKEN_MODULE,
        TOKEN_NOT_PRESENT,
        TOKEN_PIN_MISSING,
        TOKEN_PIN_INCORRECT,
        TOKEN_PIN_LOCKED,
        TOKEN_KEY_NOT_FOUND,
        TOKEN_KEY_AMBIGUOUS,
        TOKEN_KEY_EXISTS,
        TOKEN_KEY_WRONG_TYPE,
        TOKEN_KEY_NO_PUBLIC,
        TOKEN_DEVICE,
    ];
}

impl Error {
    /// The machine-readable reason (one of [`reasons`]).
    pub fn reason(&self) -> &'static str {
        use reasons as r;
        match self {
            Error::Uri(_) => r::TOKEN_URI_INVALID,
            Error::NoModule | Error::ModuleLoad { .. } | Error::ModuleInit { .. } => {
                r::TOKEN_MODULE
            }
            Error::TokenNotFound { .. } => r::TOKEN_NOT_PRESENT,
            Error::NoPin { .. } | Error::PinSource { .. } => r::TOKEN_PIN_MISSING,
            Error::WrongPin { .. } => r::TOKEN_PIN_INCORRECT,
            Error::PinLocked { .. } => r::TOKEN_PIN_LOCKED,
            Error::KeyNotFound { .. } => r::TOKEN_KEY_NOT_FOUND,
            Error::KeyAmbiguous { .. } => r::TOKEN_KEY_AMBIGUOUS,
            Error::KeyExists { .. } => r::TOKEN_KEY_EXISTS,
            Error::WrongKeyType { .. } => r::TOKEN_KEY_WRONG_TYPE,
            Error::NoPublicKey { .. } => r::TOKEN_KEY_NO_PUBLIC,
            Error::Device { .. } => r::TOKEN_DEVICE,
        }
    }
}

fn list(present: &[String]) -> String {
    if present.is_empty() {
        "none".to_owned()
    } else {
        present
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A PKCS#11 error as the standard names it: `CKR_PIN_INCORRECT (C_Login)`.
pub(crate) fn rv_name(e: &cryptoki::error::Error) -> (String, String) {
    match e {
        cryptoki::error::Error::Pkcs11(rv, function) => {
            (ckr_name(&format!("{rv:?}")), format!("C_{function:?}"))
        }
        other => (other.to_string(), "PKCS#11 call".to_owned()),
    }
}

/// `PinIncorrect` → `CKR_PIN_INCORRECT`.
fn ckr_name(debug: &str) -> String {
    let mut out = String::from("CKR_");
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_distinct_and_spelled_like_their_names() {
        let source = include_str!("error.rs");
        let mut seen = std::collections::BTreeSet::new();
        for r in reasons::ALL {
            assert!(seen.insert(*r), "{r} listed twice");
            assert!(
                source.contains(&format!("pub const {r}: &str = \"{r}\";")),
                "{r}"
            );
        }
        assert_eq!(
            source
                .lines()
                .filter(|l| l.trim_start().starts_with("pub const TOKEN_"))
                .count(),
            reasons::ALL.len()
        );
        assert_eq!(
            Error::WrongPin { token: "t".into() }.reason(),
            reasons::TOKEN_PIN_INCORRECT
        );
    }

    #[test]
    fn return_codes_are_named_as_the_standard_names_them() {
        assert_eq!(ckr_name("PinIncorrect"), "CKR_PIN_INCORRECT");
        assert_eq!(ckr_name("DeviceRemoved"), "CKR_DEVICE_REMOVED");
        let e = cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::TokenNotPresent,
            cryptoki::context::Function::Sign,
        );
        assert_eq!(
            rv_name(&e),
            ("CKR_TOKEN_NOT_PRESENT".to_owned(), "C_Sign".to_owned())
        );
    }
}
