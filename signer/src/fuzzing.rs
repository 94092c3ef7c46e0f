//! Entry points for the fuzz targets into parsers that the public API reaches only after a
//! signature check (a fuzzer cannot forge its way there). Compiled only under `--cfg fuzzing`,
//! which cargo-fuzz sets; never part of the API.

use crate::cms::envelope::{self, RecipientKey};

/// Parses a key envelope and tries to unwrap the content key for `key`.
pub fn open_key_envelope(envelope: &[u8], key: &RecipientKey) -> bool {
    envelope::open(envelope, key).is_ok()
}

/// Reads a key envelope's recipients without any key (what the axis does on every submission).
pub fn key_envelope_recipients(envelope: &[u8]) -> usize {
    envelope::recipient_ids(envelope).map_or(0, |ids| ids.len())
}
