//! The key envelope as a list of per-recipient entries, committed to by a Merkle root, so that
//! each recipient is sent only its own entry and an audit path (FORMATS.md §6.3).
//!
//! ```text
//! KeyEnvelope ::= SEQUENCE SIZE (1..MAX_RECIPIENTS) OF KeyEnvelopeEntry
//! KeyEnvelopeEntry ::= ContentInfo   -- EnvelopedData, exactly one RecipientInfo (cms/envelope.rs)
//!
//! keyEnvelopeRoot = MTH(entry_0, …, entry_{n-1})   -- RFC 9162 §2.1.1, n = number of recipients
//! ```
//!
//! Entry `i` is for the routing header's recipient `i`. The root is the RFC 9162 Merkle tree
//! hash over the entries' DER (a leaf hash is `SHA-256(0x00 ‖ entry)`, a node
//! `SHA-256(0x01 ‖ left ‖ right)`), the tree's size is the number of recipients, and the signed
//! header carries the root. A recipient checks its entry's audit path against it before any
//! private-key operation; the axis, which receives the whole list, checks the root and that
//! every entry is for its recipient's current encryption certificate.

use crate::cms::der::{self, Reader};
use crate::cms::envelope::{self, RecipientId};
use crate::error::{EnvelopeError, Error, FormatError};
use crate::limits::{MAX_KEY_ENVELOPE_LEN, MAX_KEY_ENVELOPE_PATH, MAX_RECIPIENTS};

const WHAT: &str = "key envelope";

/// A key envelope: every recipient's entry, in the routing header's recipient order, with its
/// exact bytes. [`KeyEnvelope::parse`] reads one from untrusted bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEnvelope {
    bytes: Vec<u8>,
    /// Each entry's DER, in order.
    entries: Vec<Vec<u8>>,
}

impl KeyEnvelope {
    /// The list of `entries` (made by the sealer).
    pub(crate) fn from_entries(entries: Vec<Vec<u8>>) -> Result<Self, Error> {
        check_count(entries.len())?;
        let bytes = der::seq(&entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        if bytes.len() > MAX_KEY_ENVELOPE_LEN {
            return Err(too_large(bytes.len()));
        }
        Ok(KeyEnvelope { bytes, entries })
    }

    /// Parses untrusted bytes.
    ///
    /// 1. Size budget ([`MAX_KEY_ENVELOPE_LEN`]).
    /// 2. Strict DER: one SEQUENCE with nothing after it, of 1 to [`MAX_RECIPIENTS`] entries
    ///    (counted while reading).
    /// 3. Each entry is a well-formed entry (strict DER, one RecipientInfo, Axis's algorithms
    ///    only), read without any key.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        // Step 1.
        if bytes.len() > MAX_KEY_ENVELOPE_LEN {
            return Err(too_large(bytes.len()));
        }
        // Step 2.
        let mut outer = Reader::new(bytes, WHAT);
        let mut list = outer.sequence()?;
        outer.finish()?;
        let mut entries = Vec::new();
        while !list.is_empty() {
            if entries.len() == MAX_RECIPIENTS {
                return Err(FormatError::TooManyRecipients {
                    found: entries.len() + 1,
                    max: MAX_RECIPIENTS,
                }
                .into());
            }
            let entry = list.expect(der::SEQUENCE)?.raw;
            // Step 3.
            envelope::recipient_id(entry)?;
            entries.push(entry.to_vec());
        }
        check_count(entries.len())?;
        Ok(KeyEnvelope {
            bytes: bytes.to_vec(),
            entries,
        })
    }

    /// The exact bytes (DER `KeyEnvelope`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many entries (one per recipient).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Never true for a parsed envelope (at least one entry); for completeness.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `index`'s DER (a ContentInfo that `openssl cms -decrypt` opens).
    pub fn entry(&self, index: usize) -> Option<&[u8]> {
        self.entries.get(index).map(Vec::as_slice)
    }

    /// Who each entry is for, in order (the issuerAndSerialNumber each names in clear).
    pub fn recipient_ids(&self) -> Result<Vec<RecipientId>, Error> {
        self.entries
            .iter()
            .map(|e| envelope::recipient_id(e))
            .collect()
    }

    /// The Merkle root over the entries (what the routing header carries).
    pub fn root(&self) -> [u8; 32] {
        root_of(&self.entries)
    }

    /// Every entry with its audit path, in order: what the axis stores, one per delivery.
    /// Linear in the number of entries (one append of all leaves to an empty tree).
    pub fn entries_with_paths(&self) -> Result<Vec<EnvelopeEntry>, Error> {
        let leaves: Vec<_> = self
            .entries
            .iter()
            .map(|e| axis_log::leaf_hash(e))
            .collect();
        let batch = axis_log::Frontier::new()
            .append_batch(&leaves)
            .map_err(|_| Error::Misuse {
                reason: "a key envelope of more leaves than a Merkle tree holds",
            })?;
        if batch.proofs.len() != self.entries.len() {
            return Err(Error::Misuse {
                reason: "a Merkle batch with a proof per entry",
            });
        }
        self.entries
            .iter()
            .zip(batch.proofs)
            .enumerate()
            .map(|(i, (entry, path))| {
                Ok(EnvelopeEntry {
                    index: u32::try_from(i).map_err(|_| too_many(i))?,
                    entry: entry.clone(),
                    path,
                })
            })
            .collect()
    }

    /// Entry `index` with its audit path (for one recipient).
    pub fn entry_with_path(&self, index: usize) -> Result<EnvelopeEntry, Error> {
        if index >= self.entries.len() {
            return Err(EnvelopeError::NoRecipientInfo.into());
        }
        self.entries_with_paths()?
            .into_iter()
            .nth(index)
            .ok_or(EnvelopeError::NoRecipientInfo.into())
    }
}

/// One recipient's entry of a key envelope, its position and its audit path: what a delivery
/// carries instead of the whole envelope. Untrusted until [`EnvelopeEntry::verify`] checked it
/// against a signed header's root (the opener does, before any private-key operation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeEntry {
    /// The entry's position: the recipient's position in the routing header.
    pub index: u32,
    /// The entry (DER ContentInfo, one RecipientInfo).
    pub entry: Vec<u8>,
    /// The RFC 9162 inclusion proof of the entry in the tree of all entries, leaf level first.
    pub path: Vec<[u8; 32]>,
}

impl EnvelopeEntry {
    /// From the wire or storage: the entry, its index and the path as concatenated 32-octet
    /// hashes. Budgets: the entry's size is checked when it is read; the path has at most
    /// [`MAX_KEY_ENVELOPE_PATH`] hashes and is a whole number of them.
    pub fn from_parts(index: u32, entry: Vec<u8>, path: &[u8]) -> Result<Self, Error> {
        if !path.len().is_multiple_of(32) || path.len() / 32 > MAX_KEY_ENVELOPE_PATH {
            return Err(FormatError::Malformed {
                what: "key envelope audit path",
            }
            .into());
        }
        Ok(EnvelopeEntry {
            index,
            entry,
            path: path
                .chunks_exact(32)
                .map(|c| {
                    let mut h = [0u8; 32];
                    h.copy_from_slice(c);
                    h
                })
                .collect(),
        })
    }

    /// The path as concatenated 32-octet hashes (for storage).
    pub fn path_bytes(&self) -> Vec<u8> {
        self.path.concat()
    }

    /// Checks that this is entry `index` of the tree of `count` entries with root `root` (a
    /// signed header's): the position is the expected one and the audit path leads from the
    /// entry to the root. Anything else is [`EnvelopeError::KeyEnvelopeMismatch`].
    pub fn verify(&self, index: usize, count: usize, root: &[u8; 32]) -> Result<(), Error> {
        if self.index as usize != index || self.path.len() > MAX_KEY_ENVELOPE_PATH {
            return Err(EnvelopeError::KeyEnvelopeMismatch.into());
        }
        axis_log::verify_inclusion(
            &axis_log::leaf_hash(&self.entry),
            index as u64,
            count as u64,
            &self.path,
            root,
        )
        .map_err(|_| EnvelopeError::KeyEnvelopeMismatch.into())
    }
}

/// The Merkle root over entries' DER.
pub(crate) fn root_of(entries: &[Vec<u8>]) -> [u8; 32] {
    let leaves: Vec<_> = entries.iter().map(|e| axis_log::leaf_hash(e)).collect();
    axis_log::root_from_leaves(&leaves)
}

fn check_count(n: usize) -> Result<(), Error> {
    if n == 0 {
        return Err(FormatError::NoRecipients.into());
    }
    if n > MAX_RECIPIENTS {
        return Err(too_many(n));
    }
    Ok(())
}

fn too_many(n: usize) -> Error {
    FormatError::TooManyRecipients {
        found: n,
        max: MAX_RECIPIENTS,
    }
    .into()
}

fn too_large(len: usize) -> Error {
    FormatError::TooLarge {
        what: WHAT,
        len: len as u64,
        max: MAX_KEY_ENVELOPE_LEN as u64,
    }
    .into()
}

#[cfg(test)]
mod tests;
