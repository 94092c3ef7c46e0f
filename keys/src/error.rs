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
