#![forbid(unsafe_code)]
// Test support: a failure to build a fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! # axis-testkit
//!
//! Test support for the Axis workspace (`publish = false`), so that tests, benches and fuzz
//! targets share one copy of each fixture instead of copying it:
//!
//! - [`pki`]: the fixed issuance time, keys, requests, subjects, serials.
//! - [`fixture`]: the signer and evidence tests' PKI (four agencies, RSA and EC mixed, personal
//!   signers, a revoked one, the log signer), and later CRLs of its CA.
//! - [`cms_parts`]: CMS signatures taken apart and put back; the ECDSA twin `(r, n − s)`.
//! - [`log`]: a log in memory: heads, inclusion paths, evidence bundles.
//! - [`demo`]: the demo PKI of `axis-pki` at the fixed time, with two agencies (the SDK's tests).
//! - [`sample`]: the sample manifest every test sends.
//! - [`seal`]: signing, sealing and opening it; frames of a ciphertext.
//! - [`openssl_cli`]: OpenSSL as the independent judge.
//! - [`rfc6979`]: a P-256 key that signs deterministically (witnesses' cosignatures in vectors).
//! - [`cli`]: the `--help` example check every binary runs.
//! - [`softhsm`]: SoftHSM 2 tokens made for one test (PKCS#11 keys).
//! - `vectors` (feature `vectors`): the byte-exact test vectors of `tests/vectors/`.
//!
//! The fixture, sealing and OpenSSL helpers are also at the root, for `use axis_testkit::*;`.

pub mod cli;
pub mod cms_parts;
pub mod demo;
pub mod directory;
pub mod fixture;
pub mod log;
pub mod openssl_cli;
pub mod pki;
pub mod rfc6979;
pub mod sample;
pub mod seal;
pub mod softhsm;
#[cfg(feature = "vectors")]
pub mod vectors;

pub use fixture::*;
pub use openssl_cli::*;
pub use seal::*;
