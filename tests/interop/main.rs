//! Axis with other stacks (issue #12): Go's standard library, Java's JSSE and BouncyCastle,
//! Python's `ssl`, OpenSSL, and gRPC tooling (reflection, health). The helper programs live
//! beside this file (`go/`, `java/`, `python/`) and are compiled once per run; none of these
//! tests is skipped when a tool is missing — `.ci/run` installs them all. `asn1` checks
//! FORMATS.md's ASN.1 module (`formats.asn1`) against what the code writes, with Python's
//! asn1tools (`tests/python/`); `vectors` that the committed test vectors (`tests/vectors/`)
//! are exactly what Axis writes and reads; `python_formats` that the second implementation
//! (`tests/python/axis_formats.py`) reads the vectors, seals what a node accepts and the SDK
//! opens, and that `examples/python/` opens and acknowledges a delivery.
#![allow(
    missing_docs,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod asn1;
mod cms;
mod grpc_tooling;
mod python_formats;
mod tls;
mod tools;
mod vectors;
