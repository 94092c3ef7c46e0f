//! Keys on PKCS#11 tokens: `--key URI` for new CA and end-entity keys, the CA keys the index
//! names by URI, and what to tell an administrator when a token says no.

use axis_keys::{Error as KeysError, KeyUse, Pin, Pkcs11Uri, TokenKey};
use axis_pki::{KeyAlgorithm, Profile};
use clap::Args;

use crate::error::{Failure, Result};
use crate::secrets::{self, Kind};

/// `--key URI` and `--use-existing-key`: a new key kept on a token.
#[derive(Debug, Clone, Args)]
pub(crate) struct TokenKeyArg {
    /// Keep the key on a PKCS#11 token or HSM, named by an RFC 7512 URI: the token and the
    /// key's label, the module, and where the PIN is, e.g.
    /// 'pkcs11:token=axis-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/root/token.pin'.
    /// The key is generated on the token and never leaves it (unless --use-existing-key). Without
    /// pin-source in the URI, the new-key passphrase setting gives the PIN.
    #[arg(long = "key", value_name = "URI")]
    pub(crate) key: Option<String>,
    /// Use the key already on the token at --key instead of generating one.
    #[arg(long, requires = "key")]
    pub(crate) use_existing_key: bool,
}

/// Parses `--key`: it must be a `pkcs11:` URI.
pub(crate) fn parse_uri(text: &str) -> Result<Pkcs11Uri> {
    Pkcs11Uri::parse(text).map_err(|e| {
        Failure::new(format!("--key: {e}")).hint(
            "--key takes a pkcs11: URI, e.g. \
             'pkcs11:token=LABEL;object=KEY-LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/path/to/pin'",
        )
    })
}

/// The PIN for `uri`: none if the URI names its source, else the passphrase setting `kind`.
pub(crate) fn pin(
    uri: &Pkcs11Uri,
    kind: Kind,
    file: Option<&std::path::Path>,
) -> Result<Option<Pin>> {
    if uri.pin_source().is_some() {
        return Ok(None);
    }
    let secret = secrets::get(
        kind,
        file,
        &format!("the PIN of token \"{}\"", uri.token_name()),
    )
    .map_err(|f| {
        f.hint(format!(
            "add pin-source=file:/path/to/pin to the URI, or give {} FILE (or set {}) \
                 holding the token's PIN",
            kind.option(),
            kind.env()
        ))
    })?;
    Ok(Some(Pin::from(&secret.pass)))
}

/// What a key generated for `profile` may do: an encryption key decrypts (RSA) or derives
/// (P-256) and never signs; every other key signs only.
pub(crate) fn key_use(profile: Profile) -> KeyUse {
    if profile == Profile::AgencyEncryption {
        KeyUse::Decrypt
    } else {
        KeyUse::Sign
    }
}

/// Generates the key `arg` names (or opens it, with --use-existing-key).
pub(crate) fn new_key(
    arg: &TokenKeyArg,
    uri: &Pkcs11Uri,
    alg: KeyAlgorithm,
    usage: KeyUse,
    pin_file: Option<&std::path::Path>,
) -> Result<TokenKey> {
    let pin = pin(uri, Kind::NewKey, pin_file)?;
    if arg.use_existing_key {
        TokenKey::open(uri, pin).map_err(failure)
    } else {
        eprintln!(
            "axis-pki: generating the key ({alg}) on token \"{}\"…",
            uri.token_name()
        );
        TokenKey::generate(uri, pin, alg, usage).map_err(failure)
    }
}

/// An administrator's message for a token error.
pub(crate) fn failure(e: KeysError) -> Failure {
    let hint = match &e {
        KeysError::TokenNotFound { .. } => Some(
            "plug the token in (or check the label: `softhsm2-util --show-slots`, \
             `pkcs11-tool --list-slots`), then run the command again"
                .to_owned(),
        ),
        KeysError::WrongPin { .. } => Some(
            "check the PIN file or variable; each wrong PIN brings the token closer to locking"
                .to_owned(),
        ),
        KeysError::KeyExists { .. } => Some(
            "choose another object= label, or add --use-existing-key to use the key that is there"
                .to_owned(),
        ),
        KeysError::KeyNotFound { .. } => Some(
            "check object= and id= in the URI (`pkcs11-tool --list-objects --login` lists them); \
             without --use-existing-key axis-pki generates the key"
                .to_owned(),
        ),
        KeysError::NoModule | KeysError::ModuleLoad { .. } => Some(
            "give module-path= in the URI: the vendor's PKCS#11 library (SoftHSM: \
             /usr/lib/softhsm/libsofthsm2.so)"
                .to_owned(),
        ),
        _ => None,
    };
    Failure {
        message: e.to_string(),
        hint,
    }
}
