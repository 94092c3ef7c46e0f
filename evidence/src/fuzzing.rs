//! Seeds for the fuzz targets that the public API makes only with a key the targets do not
//! have. Compiled only under `--cfg fuzzing`, which cargo-fuzz sets; never part of the API.

use axis_signer::cms::Format;
use axis_signer::cms::der;

use crate::log::TreeHead;

/// The DER of `head` as [`TreeHead::sign`] writes it (without a log-signer key), to seed the
/// log-proof target. `None` for a timestamp outside years 0–9999. The target parses it back, so
/// a drift from the real encoding shows at once.
pub fn tree_head_bytes(head: &TreeHead) -> Option<Vec<u8>> {
    Some(der::seq(&[
        &der::oid(Format::TreeHead.oid()),
        &der::uint(1),
        &der::uint(head.tree_size),
        &der::octets(&head.root_hash),
        &der::generalized_time(head.timestamp).ok()?,
    ]))
}

/// The DER of `statement` as [`crate::Completeness::sign`] writes it (without a log-signer
/// key), to seed the bundle target. `None` if it cannot be encoded.
pub fn completeness_bytes(statement: &crate::Completeness) -> Option<Vec<u8>> {
    statement.encode().ok()
}
