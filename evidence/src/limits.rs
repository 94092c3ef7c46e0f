//! Every budget of the evidence formats, in one place: what a parser refuses before it reads
//! further, and what an encoder refuses to write.

use axis_signer::limits::MAX_SIGNATURE_LEN;

/// Largest log entry accepted.
pub const MAX_LOG_ENTRY_LEN: usize = 4 * 1024;
/// Largest tree head accepted (the DER of its five fields).
pub const MAX_TREE_HEAD_LEN: usize = 1024;
/// Largest signed tree head file accepted (the head and its CMS signature, as a monitor keeps
/// it between runs).
pub const MAX_SIGNED_TREE_HEAD_LEN: usize = MAX_SIGNATURE_LEN + 2 * MAX_TREE_HEAD_LEN;
/// Largest log proof accepted (a tree head, its signature with two certificates, 64 hashes).
pub const MAX_LOG_PROOF_LEN: usize = 80 * 1024;
/// Most hashes in an inclusion path (a tree of 2^64 entries).
pub const MAX_PATH_LEN: usize = 64;

/// Largest evidence bundle accepted.
pub const MAX_BUNDLE_LEN: usize = 16 * 1024 * 1024;
/// Most statements (receipts and statuses) in one bundle.
pub const MAX_BUNDLE_STATEMENTS: usize = 512;
/// Most CA certificates in one bundle.
pub const MAX_BUNDLE_INTERMEDIATES: usize = 64;
/// Most CRLs in one bundle.
pub const MAX_BUNDLE_CRLS: usize = 256;

/// Largest cosignature accepted (its seven fields and a P-256 signature take under 250 bytes).
pub const MAX_COSIGNATURE_LEN: usize = 512;
/// Most cosignatures carried with one tree head (in a bundle, or served by the axis).
pub const MAX_COSIGNATURES: usize = 32;
/// Most units a directory holds (the national directory has 111,339).
pub const MAX_DIRECTORY_UNITS: usize = 250_000;
/// Longest unit name, in characters (edXML's OrganName).
pub const MAX_UNIT_NAME_CHARS: usize = 200;
/// Most levels of the hierarchy: QCVN 102:2016 has four (the id's four segments).
pub const MAX_UNIT_LEVELS: usize = 4;
/// Largest directory version accepted (the DER of its eight fields).
pub const MAX_DIRECTORY_VERSION_LEN: usize = 1024;
/// Most signed versions one incremental sync carries; a copy further behind takes a snapshot.
pub const MAX_DIRECTORY_VERSIONS_PER_SYNC: usize = 1000;
