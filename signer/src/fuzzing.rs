//! Entry points for the fuzz targets into parsers that the public API reaches only after a
//! signature check (a fuzzer cannot forge its way there). Compiled only under `--cfg fuzzing`,
//! which cargo-fuzz sets; never part of the API.

use crate::cms::der::Reader;
use crate::cms::envelope::{self, RecipientKey};
use crate::package::key_envelope::KeyEnvelope;

/// Reads a key envelope's elements leniently and tries to unwrap the content key for `key` from
/// each (the entry parser sees every element, well-formed list or not).
pub fn open_key_envelope(envelope: &[u8], key: &RecipientKey) -> bool {
    let mut outer = Reader::new(envelope, "key envelope");
    let Ok(mut list) = outer.sequence() else {
        return envelope::open(envelope, key).is_ok();
    };
    let mut opened = false;
    while let Ok(element) = list.any() {
        opened |= envelope::open(element.raw, key).is_ok();
    }
    opened
}

/// Reads a key envelope's recipients without any key (what the axis does on every submission).
pub fn key_envelope_recipients(envelope: &[u8]) -> usize {
    KeyEnvelope::parse(envelope)
        .and_then(|e| e.recipient_ids())
        .map_or(0, |ids| ids.len())
}
