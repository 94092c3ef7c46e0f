#![forbid(unsafe_code)]
//! # axis-keys
//!
//! Axis's private keys wherever they live. A key is named by a [`KeyRef`]: the path of an
//! encrypted PKCS#8 file, or an RFC 7512 `pkcs11:` URI for a key that never leaves a PKCS#11
//! token or HSM (the Government Cipher Committee's USB tokens, an agency's or CA's HSM,
//! SoftHSM in tests). Either way the key is used through `axis_pki`'s [`KeySigner`] and
//! [`Decrypter`] traits, so `pki`, `signer`, the server and the SDK never know where it is;
//! [`TlsKey`] lets rustls sign handshakes with it.
//!
//! PKCS#11 is used through the `cryptoki` crate, with its traps avoided in one place:
//!
//! - **one context per module and process**: loaded and `C_Initialize`d once, under a lock,
//!   never finalised;
//! - **one session per operation**, leased from a small pool per token ([`MAX_SESSIONS`]);
//!   sessions the token dropped (removed, reset, logged out) are reopened and logged in again,
//!   once, before an error is returned;
//! - **clear, separate errors** for an absent token, a wrong or locked PIN, a missing,
//!   ambiguous or unusable key ([`Error`]);
//! - **PINs from a file or an environment variable**, never from a URI's `pin-value` or argv.
//!
//! ```no_run
//! use axis_keys::{KeyRef, TokenKey};
//! use axis_pki::KeySigner;
//!
//! let r = KeyRef::parse(
//!     "pkcs11:token=agency-g22;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so\
//!      &pin-source=file:/etc/axis/g22.pin",
//! )?;
//! let key = TokenKey::open(r.uri().unwrap(), None)?;
//! let signature = key.sign(b"what the seal signs")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod admin;
mod encoding;
mod error;
mod keyref;
mod module;
mod pin;
mod tls;
mod token;
mod token_key;
mod uri;

// The public interface is:
pub use admin::init_token;
pub use axis_pki::{Decrypter, KeyPair, KeySigner};
pub use error::{Error, UriError, reasons};
pub use keyref::{Key, KeyRef};
pub use module::{MODULE_ENV, slot_list_lock};
pub use pin::Pin;
pub use tls::{TlsKey, certified_key};
pub use token::MAX_SESSIONS;
pub use token_key::{KeyUse, TokenKey};
pub use uri::{MAX_URI_LEN, PinSource, Pkcs11Uri};
