//! Chunked AES-256-GCM encryption of a document (the STREAM construction of Hoang, Reyhanitabar,
//! Rogaway and Vizár, 2015), with a push API whose memory is bounded by one chunk.
//!
//! The plaintext is a sequence of *parts*: 0 the manifest, 1 the personal signature, 2 the agency
//! seal, then one part per attachment in manifest order. Each part is cut into chunks of exactly
//! `chunk_size` bytes except its last (0 to `chunk_size` bytes; an empty part is one empty last
//! chunk), and each chunk travels as a frame:
//!
//! ```text
//! frame = stream tag (8) ‖ part (u32 BE) ‖ index (u32 BE) ‖ flags (1; bit 0 = last) ‖
//!         length (u32 BE) ‖ AES-256-GCM ciphertext and tag (length bytes)
//! nonce = 0x000000 ‖ part ‖ index ‖ flags          associated data = header binding digest
//! ```
//!
//! The nonce makes a chunk decrypt only at its own part and position and with its own "last"
//! flag, so reordering, truncation and extension fail; the associated data binds every chunk to
//! this routing header (message id, sender, recipients, key), so a chunk from another document
//! fails. The stream tag (the first 8 bytes of the binding digest) and the clear part, index and
//! length fields only let the reader say *which* of these happened; a frame rewritten to look
//! right still fails authentication. The content key is fresh per document, so nonces never
//! repeat under one key.

use axis_pki::{AgencyId, Profile, TrustStore, VerifiedCert};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use time::OffsetDateTime;

use crate::cms::digest::{Sha256, sha256};
use crate::cms::envelope::{self, RecipientKey, SecretKey, Secrets};
use crate::cms::signature::{SignatureRole, Signer};
use crate::error::{
    CertificateError, CiphertextError, EnvelopeError, Error, FormatError, KeyError, StreamError,
};
use crate::limits::{FRAME_HEADER_LEN, MAX_MANIFEST_LEN, MAX_SIGNATURE_LEN};
use crate::package::document::{SignedDocument, VerifiedDocument};
use crate::package::header::{
    self, HeaderBytes, MessageId, RoutingHeader, Submission, VerifiedSubmission,
};
use crate::package::key_envelope::{EnvelopeEntry, KeyEnvelope};
use crate::package::manifest::{Attachment, ManifestBytes};

const TAG_LEN: usize = 16;
const LAST: u8 = 1;
/// Parts before the attachments: manifest, personal signature, seal.
const HEAD_PARTS: u32 = 3;

fn nonce(part: u32, index: u32, flags: u8) -> Nonce {
    let mut n = [0u8; NONCE_LEN];
    n[3..7].copy_from_slice(&part.to_be_bytes());
    n[7..11].copy_from_slice(&index.to_be_bytes());
    n[11] = flags;
    Nonce::assume_unique_for_key(n)
}

/// `me`'s position among the header's recipients: the index of its key-envelope entry.
fn recipient_position(h: &RoutingHeader, me: &RecipientKey) -> Result<usize, Error> {
    h.recipients
        .iter()
        .position(|r| r == me.agency())
        .ok_or_else(|| {
            EnvelopeError::NotARecipient {
                agency: me.agency().clone(),
            }
            .into()
        })
}

fn aead_key(key: &SecretKey) -> Result<LessSafeKey, Error> {
    UnboundKey::new(&AES_256_GCM, key.as_bytes())
        .map(LessSafeKey::new)
        .map_err(|_| Error::Crypto {
            op: "AES-256-GCM key",
        })
}

/// The clear fields of a frame.
struct FrameHeader {
    stream_tag: [u8; 8],
    part: u32,
    index: u32,
    flags: u8,
    len: u32,
}

impl FrameHeader {
    fn parse(b: &[u8]) -> Option<Self> {
        let b: &[u8; FRAME_HEADER_LEN] = b.get(..FRAME_HEADER_LEN)?.try_into().ok()?;
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut stream_tag = [0u8; 8];
        stream_tag.copy_from_slice(&b[..8]);
        Some(FrameHeader {
            stream_tag,
            part: u32_at(8),
            index: u32_at(12),
            flags: b[16],
            len: u32_at(17),
        })
    }
}

/// What to seal: a signed document, for the encryption certificates of its recipients.
pub struct SealRequest<'a> {
    /// The idempotency key ([`MessageId::random`] for a new submission).
    pub message_id: MessageId,
    /// The manifest and its two signatures.
    pub document: &'a SignedDocument,
    /// One agency-encryption certificate per manifest recipient, verified by the caller's
    /// trust store (any order).
    pub recipients: &'a [VerifiedCert],
    /// Plaintext bytes per chunk ([`crate::limits::DEFAULT_CHUNK_SIZE`] unless there is a reason).
    pub chunk_size: u32,
}

/// What sealing produced besides the frames: the signed routing header and the key envelope.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// Routing header and its submission signature.
    pub submission: Submission,
    /// The key envelope (DER `KeyEnvelope`): one CMS EnvelopedData per recipient, in the
    /// header's recipient order, under the header's Merkle root; submitted whole, delivered one
    /// entry per recipient ([`KeyEnvelope::parse`], [`KeyEnvelope::entry_with_path`]).
    pub key_envelope: Vec<u8>,
}

/// Encrypts a document as a stream of frames. Feed the attachments in manifest order; frames are
/// appended to the caller's buffer, which it drains (writes out) as it likes. The sealer holds at
/// most one chunk of plaintext.
///
/// No `Debug`: it holds the content key.
pub struct Sealer {
    key: LessSafeKey,
    header: RoutingHeader,
    binding_digest: [u8; 32],
    key_envelope: Vec<u8>,
    head: Option<[Vec<u8>; 3]>,
    sizes: Vec<u64>,
    /// Attachment being written.
    current: usize,
    written: u64,
    index: u32,
    pending: Vec<u8>,
    digest: Sha256,
    total: u64,
}

impl Sealer {
    /// Makes the content key, wraps it for every recipient and prepares the header.
    ///
    /// The recipients' certificates must be agency-encryption certificates of exactly the
    /// manifest's `To` agencies.
    pub fn new(req: SealRequest<'_>) -> Result<Self, Error> {
        Self::with_secrets(req, Secrets::random()?)
    }

    /// As [`Sealer::new`], but with the content key, the key envelope's CEK and IV and the
    /// ephemeral P-256 keys given instead of drawn: the same inputs then give the same bytes.
    /// For test vectors only (feature `test-vectors`, never in a release build): secrets that
    /// anyone knows protect nothing. Every recipient must have a P-256 encryption certificate
    /// (RSA-OAEP is randomized, so an RSA recipient is [`Error::Misuse`]), with one scalar each.
    #[cfg(feature = "test-vectors")]
    pub fn with_fixed_secrets(
        req: SealRequest<'_>,
        secrets: &envelope::FixedSecrets,
    ) -> Result<Self, Error> {
        Self::with_secrets(req, Secrets::fixed(secrets))
    }

    fn with_secrets(req: SealRequest<'_>, mut secrets: Secrets) -> Result<Self, Error> {
        header::check_chunk_size(req.chunk_size)?;
        let manifest = req.document.manifest().manifest();
        let mut by_agency = std::collections::HashMap::new();
        for cert in req.recipients {
            if cert.profile() != Profile::AgencyEncryption {
                return Err(KeyError::WrongCertificateProfile {
                    expected: Profile::AgencyEncryption,
                    found: cert.profile(),
                }
                .into());
            }
            let agency = cert.agency_id().ok_or(KeyError::CertificateWithoutAgency {
                profile: Profile::AgencyEncryption,
            })?;
            if by_agency.insert(agency, cert).is_some() {
                return Err(FormatError::DuplicateRecipient {
                    agency: agency.clone(),
                }
                .into());
            }
        }
        if by_agency.contains_key(&manifest.from.organ_id) {
            return Err(FormatError::SenderIsRecipient {
                agency: manifest.from.organ_id.clone(),
            }
            .into());
        }
        if by_agency.len() != manifest.to.len()
            || !manifest
                .to
                .iter()
                .all(|o| by_agency.contains_key(&o.organ_id))
        {
            return Err(StreamError::HeaderManifestMismatch {
                field: "recipients (encryption certificates vs manifest To)",
            }
            .into());
        }
        // One entry per recipient, in the manifest's order (the header's).
        let mut ordered = Vec::with_capacity(manifest.to.len());
        for o in &manifest.to {
            ordered.push(
                (*by_agency.get(&o.organ_id).ok_or(Error::Misuse {
                    reason: "a recipient without its certificate",
                })?)
                .clone(),
            );
        }
        let key_envelope = KeyEnvelope::from_entries(envelope::seal(&mut secrets, &ordered)?)?;
        let content_key = &secrets.content_key;
        let header = RoutingHeader {
            message_id: req.message_id,
            sender: manifest.from.organ_id.clone(),
            recipients: manifest.to.iter().map(|o| o.organ_id.clone()).collect(),
            priority: manifest.priority,
            chunk_size: req.chunk_size,
            key_commitment: envelope::key_commitment(content_key),
            key_envelope_root: key_envelope.root(),
            ciphertext_len: 0,
            ciphertext_digest: [0; 32],
        };
        header.check()?;
        Ok(Sealer {
            key: aead_key(content_key)?,
            binding_digest: sha256(&header.encode_prefix()),
            header,
            key_envelope: key_envelope.as_bytes().to_vec(),
            head: Some([
                req.document.manifest().as_bytes().to_vec(),
                req.document.personal_signature().to_vec(),
                req.document.seal_signature().to_vec(),
            ]),
            sizes: manifest.attachments.iter().map(|a| a.size).collect(),
            current: 0,
            written: 0,
            index: 0,
            pending: Vec::with_capacity(req.chunk_size as usize),
            digest: Sha256::new(),
            total: 0,
        })
    }

    fn chunk_size(&self) -> usize {
        self.header.chunk_size as usize
    }

    /// Encrypts one chunk and appends its frame.
    fn emit(
        &mut self,
        part: u32,
        index: u32,
        last: bool,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let flags = if last { LAST } else { 0 };
        let start = out.len();
        out.reserve(FRAME_HEADER_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&self.binding_digest[..8]);
        out.extend_from_slice(&part.to_be_bytes());
        out.extend_from_slice(&index.to_be_bytes());
        out.push(flags);
        out.extend_from_slice(&((plaintext.len() + TAG_LEN) as u32).to_be_bytes());
        let body = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                nonce(part, index, flags),
                Aad::from(&self.binding_digest),
                &mut out[body..],
            )
            .map_err(|_| Error::Crypto { op: "AES-256-GCM" })?;
        out.extend_from_slice(tag.as_ref());
        self.digest.update(&out[start..]);
        self.total += (out.len() - start) as u64;
        Ok(())
    }

    fn emit_whole_part(&mut self, part: u32, data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let cs = self.chunk_size();
        let n = data.len().div_ceil(cs).max(1);
        for (i, chunk) in (0..n).map(|i| (i, &data[i * cs..((i + 1) * cs).min(data.len())])) {
            self.emit(part, i as u32, i + 1 == n, chunk, out)?;
        }
        Ok(())
    }

    fn ensure_head(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        if let Some(parts) = self.head.take() {
            for (part, data) in parts.iter().enumerate() {
                self.emit_whole_part(part as u32, data, out)?;
            }
        }
        Ok(())
    }

    fn current_part(&self) -> u32 {
        HEAD_PARTS + self.current as u32
    }

    /// Encrypts the next bytes of the current attachment, appending complete frames to `out`.
    pub fn write_attachment(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.ensure_head(out)?;
        let Some(&expected) = self.sizes.get(self.current) else {
            return Err(Error::Misuse {
                reason: "more attachments written than the manifest lists",
            });
        };
        let found = self.written + data.len() as u64;
        if found > expected {
            return Err(StreamError::AttachmentSizeMismatch {
                index: self.current,
                expected,
                found,
            }
            .into());
        }
        self.written = found;
        let cs = self.chunk_size();
        let part = self.current_part();
        while !data.is_empty() {
            if self.pending.len() == cs {
                // More data follows, so the buffered full chunk is not the last one.
                let pending = std::mem::take(&mut self.pending);
                self.emit(part, self.index, false, &pending, out)?;
                self.pending = pending;
                self.pending.clear();
                self.index += 1;
            }
            if self.pending.is_empty() && data.len() > cs {
                // Fast path: a full chunk with more data after it, straight from the input.
                let (chunk, rest) = data.split_at(cs);
                self.emit(part, self.index, false, chunk, out)?;
                self.index += 1;
                data = rest;
                continue;
            }
            let take = (cs - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Ends the current attachment: its size must be the manifest's.
    pub fn end_attachment(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.ensure_head(out)?;
        let Some(&expected) = self.sizes.get(self.current) else {
            return Err(Error::Misuse {
                reason: "more attachments ended than the manifest lists",
            });
        };
        if self.written != expected {
            return Err(StreamError::AttachmentSizeMismatch {
                index: self.current,
                expected,
                found: self.written,
            }
            .into());
        }
        let pending = std::mem::take(&mut self.pending);
        self.emit(self.current_part(), self.index, true, &pending, out)?;
        self.pending = pending;
        self.pending.clear();
        self.current += 1;
        self.written = 0;
        self.index = 0;
        Ok(())
    }

    /// The key envelope (available from the start, for a caller that streams it first).
    pub fn key_envelope(&self) -> &[u8] {
        &self.key_envelope
    }

    /// Finishes the stream and signs the routing header with the sender's agency seal.
    pub fn finish(
        mut self,
        seal: &Signer<'_>,
        at: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> Result<Sealed, Error> {
        self.ensure_head(out)?;
        if self.current != self.sizes.len() {
            return Err(Error::Misuse {
                reason: "finish before every attachment was written and ended",
            });
        }
        if seal.profile() != Profile::AgencySeal {
            return Err(KeyError::WrongCertificateProfile {
                expected: Profile::AgencySeal,
                found: seal.profile(),
            }
            .into());
        }
        if let Some(found) = seal.agency()
            && found != &self.header.sender
        {
            return Err(CertificateError::SignerAgencyMismatch {
                role: SignatureRole::Submission,
                expected: self.header.sender.clone(),
                found: found.clone(),
            }
            .into());
        }
        let mut header = self.header;
        header.ciphertext_len = self.total;
        header.ciphertext_digest = self.digest.finish();
        let header = HeaderBytes::from_header(header)?;
        Ok(Sealed {
            submission: Submission::sign(header, seal, at)?,
            key_envelope: self.key_envelope,
        })
    }
}

/// What [`Opener::open_frame`] yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum Opened<'f> {
    /// A chunk of the manifest or its signatures, kept by the opener. After the last of them the
    /// signatures have been verified and [`Opener::document`] returns the document.
    Head,
    /// Plaintext of an attachment. When `last` is true the attachment's size and SHA-256 have
    /// been checked against the signed manifest; before that, data is authenticated as coming
    /// from the sender's key holder but not yet checked against the signatures.
    Attachment {
        /// Attachment number (manifest order).
        index: usize,
        /// Decrypted bytes (borrowed from the frame buffer).
        data: &'f [u8],
        /// Whether this was the attachment's last chunk.
        last: bool,
    },
}

/// A document received and fully checked: the submission, the two signatures, every chunk and
/// every attachment digest. Only [`Opener::finish`] makes one; receipts are issued from it.
#[derive(Clone, Debug)]
pub struct ReceivedDocument {
    submission: VerifiedSubmission,
    document: VerifiedDocument,
    recipient: AgencyId,
}

impl ReceivedDocument {
    /// The verified document (manifest, signatures, report).
    pub fn document(&self) -> &VerifiedDocument {
        &self.document
    }

    /// The verified submission (routing header).
    pub fn submission(&self) -> &VerifiedSubmission {
        &self.submission
    }

    /// The agency that opened it.
    pub fn recipient(&self) -> &AgencyId {
        &self.recipient
    }
}

enum Stage {
    Head { bufs: Vec<Vec<u8>> },
    Attachments,
    Done,
}

/// Decrypts and checks a document frame by frame, as one of its recipients.
///
/// No `Debug`: it holds the content key.
pub struct Opener<'s> {
    key: LessSafeKey,
    submission: VerifiedSubmission,
    binding_digest: [u8; 32],
    recipient: AgencyId,
    store: &'s TrustStore,
    at: OffsetDateTime,
    stage: Stage,
    part: u32,
    index: u32,
    received: u64,
    document: Option<VerifiedDocument>,
    attachments: Vec<Attachment>,
    att_size: u64,
    att_digest: Sha256,
}

impl<'s> Opener<'s> {
    /// Unwraps the content key for `me` from its key-envelope entry (what a delivery carries).
    ///
    /// 1. `me` is one of the header's recipients, at position `i` (the submission is already
    ///    verified, so the header is the sender's).
    /// 2. The entry is entry `i` of the envelope the header's Merkle root commits to (its index
    ///    and audit path): a swapped, altered or misplaced entry is refused before any
    ///    private-key operation.
    /// 3. The entry is for `me`'s certificate and unwraps (OAEP or ECDH + AES key wrap).
    /// 4. The key matches the header's commitment: every recipient decrypts with the same key.
    pub fn new(
        submission: &VerifiedSubmission,
        entry: &EnvelopeEntry,
        me: &RecipientKey,
        store: &'s TrustStore,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        let h = submission.header();
        // Step 1.
        let i = recipient_position(h, me)?;
        // Step 2.
        entry.verify(i, h.recipients.len(), &h.key_envelope_root)?;
        // Steps 3 and 4.
        let key = envelope::open(&entry.entry, me)?;
        if envelope::key_commitment(&key) != h.key_commitment {
            return Err(EnvelopeError::KeyCommitmentMismatch.into());
        }
        Ok(Opener {
            key: aead_key(&key)?,
            binding_digest: *submission.header_bytes().binding_digest(),
            submission: submission.clone(),
            recipient: me.agency().clone(),
            store,
            at,
            stage: Stage::Head { bufs: Vec::new() },
            part: 0,
            index: 0,
            received: 0,
            document: None,
            attachments: Vec::new(),
            att_size: 0,
            att_digest: Sha256::new(),
        })
    }

    /// [`Opener::new`] from the whole key envelope (as the sender submitted it): it must be the
    /// one the header names ([`VerifiedSubmission::check_key_envelope`]); `me`'s entry and
    /// path are taken from it. For tools, tests and a sender reading its own document.
    pub fn from_key_envelope(
        submission: &VerifiedSubmission,
        key_envelope: &[u8],
        me: &RecipientKey,
        store: &'s TrustStore,
        at: OffsetDateTime,
    ) -> Result<Self, Error> {
        let h = submission.header();
        let i = recipient_position(h, me)?;
        let entry = submission
            .check_key_envelope(key_envelope)?
            .entry_with_path(i)?;
        Self::new(submission, &entry, me, store, at)
    }

    fn chunk_size(&self) -> u32 {
        self.submission.header().chunk_size
    }

    /// The length of the frame that starts with `frame_header` (at least [`FRAME_HEADER_LEN`]
    /// bytes), checked against the chunk size, so a streaming caller can read exactly one frame
    /// into a buffer of at most `FRAME_HEADER_LEN + chunk_size + 16` bytes.
    pub fn frame_len(&self, frame_header: &[u8]) -> Result<usize, Error> {
        let fh = FrameHeader::parse(frame_header).ok_or(StreamError::Truncated {
            part: self.part,
            chunks: self.index,
        })?;
        if fh.len > self.chunk_size() + TAG_LEN as u32 || (fh.len as usize) < TAG_LEN {
            return Err(StreamError::FrameInvalid {
                part: fh.part,
                index: fh.index,
                reason: "length outside the chunk size",
            }
            .into());
        }
        Ok(FRAME_HEADER_LEN + fh.len as usize)
    }

    /// The verified document, once the head (manifest and signatures) has been opened.
    pub fn document(&self) -> Option<&VerifiedDocument> {
        self.document.as_ref()
    }

    /// Decrypts one whole frame in place and checks it.
    ///
    /// 1. The frame belongs to this document (stream tag), and is the next one: the expected
    ///    part and chunk index (reordering, dropped chunks, spliced parts).
    /// 2. Its length fits the chunking rules: full chunks except the last of a part.
    /// 3. AES-256-GCM authentication with the nonce (part, index, last flag) and the header
    ///    binding digest: any flipped bit, a rewritten frame header, a chunk from another
    ///    document or a moved "last" marker fails here.
    /// 4. The running ciphertext length stays within the header's.
    /// 5. Head parts stay within their budgets; once the seal part ends, both signatures are
    ///    verified and the manifest is compared with the header (sender, recipients, priority)
    ///    before any attachment byte is released.
    /// 6. Attachment sizes are checked as bytes arrive, and the SHA-256 at each attachment's end.
    pub fn open_frame<'f>(&mut self, frame: &'f mut [u8]) -> Result<Opened<'f>, Error> {
        // Step 1.
        if matches!(self.stage, Stage::Done) {
            return Err(StreamError::TrailingData.into());
        }
        let fh = FrameHeader::parse(frame).ok_or(StreamError::Truncated {
            part: self.part,
            chunks: self.index,
        })?;
        if fh.stream_tag != self.binding_digest[..8] {
            return Err(StreamError::ChunkFromOtherDocument {
                part: fh.part,
                index: fh.index,
            }
            .into());
        }
        if fh.part != self.part {
            return Err(StreamError::PartOutOfOrder {
                expected: self.part,
                found: fh.part,
            }
            .into());
        }
        if fh.index != self.index {
            return Err(StreamError::ChunkOutOfOrder {
                part: self.part,
                expected: self.index,
                found: fh.index,
            }
            .into());
        }
        // Step 2.
        let invalid = |reason| {
            Error::from(StreamError::FrameInvalid {
                part: fh.part,
                index: fh.index,
                reason,
            })
        };
        if fh.flags & !LAST != 0 {
            return Err(invalid("unknown flags"));
        }
        let last = fh.flags & LAST != 0;
        let body_len = frame.len() - FRAME_HEADER_LEN;
        if fh.len as usize != body_len {
            return Err(invalid("length field differs from the frame"));
        }
        let full = self.chunk_size() as usize + TAG_LEN;
        if body_len < TAG_LEN || body_len > full || (!last && body_len != full) {
            return Err(invalid("length outside the chunk size"));
        }
        // Step 3.
        let frame_len = frame.len() as u64;
        let plaintext = self
            .key
            .open_in_place(
                nonce(fh.part, fh.index, fh.flags),
                Aad::from(&self.binding_digest),
                &mut frame[FRAME_HEADER_LEN..],
            )
            .map_err(|_| StreamError::ChunkAuthFailed {
                part: fh.part,
                index: fh.index,
            })?;
        let plaintext: &'f [u8] = plaintext;
        // Step 4.
        self.received += frame_len;
        let expected_len = self.submission.header().ciphertext_len;
        if self.received > expected_len {
            return Err(CiphertextError::CiphertextLengthMismatch {
                expected: expected_len,
                found: self.received,
            }
            .into());
        }
        self.index += 1;
        if last {
            self.part += 1;
            self.index = 0;
        }
        // Steps 5 and 6.
        match &mut self.stage {
            Stage::Head { bufs } => {
                let part = fh.part as usize;
                if bufs.len() <= part {
                    bufs.push(Vec::new());
                }
                let (max, what) = if part == 0 {
                    (MAX_MANIFEST_LEN, "manifest")
                } else {
                    (MAX_SIGNATURE_LEN, "CMS SignedData")
                };
                let buf = &mut bufs[part];
                if buf.len() + plaintext.len() > max {
                    return Err(FormatError::TooLarge {
                        what,
                        len: (buf.len() + plaintext.len()) as u64,
                        max: max as u64,
                    }
                    .into());
                }
                buf.extend_from_slice(plaintext);
                if last && self.part == HEAD_PARTS {
                    let bufs = std::mem::take(bufs);
                    self.finish_head(bufs)?;
                }
                Ok(Opened::Head)
            }
            Stage::Attachments => {
                let index = (fh.part - HEAD_PARTS) as usize;
                let Some(expected) = self.attachments.get(index) else {
                    return Err(StreamError::TrailingData.into());
                };
                self.att_size += plaintext.len() as u64;
                if self.att_size > expected.size {
                    return Err(StreamError::AttachmentSizeMismatch {
                        index,
                        expected: expected.size,
                        found: self.att_size,
                    }
                    .into());
                }
                self.att_digest.update(plaintext);
                if last {
                    if self.att_size != expected.size {
                        return Err(StreamError::AttachmentSizeMismatch {
                            index,
                            expected: expected.size,
                            found: self.att_size,
                        }
                        .into());
                    }
                    let digest = std::mem::replace(&mut self.att_digest, Sha256::new());
                    if digest.finish() != expected.sha256 {
                        return Err(StreamError::AttachmentDigestMismatch { index }.into());
                    }
                    self.att_size = 0;
                    if index + 1 == self.attachments.len() {
                        self.stage = Stage::Done;
                    }
                }
                Ok(Opened::Attachment {
                    index,
                    data: plaintext,
                    last,
                })
            }
            Stage::Done => Err(StreamError::TrailingData.into()),
        }
    }

    fn finish_head(&mut self, mut bufs: Vec<Vec<u8>>) -> Result<(), Error> {
        let (Some(seal), Some(personal), Some(manifest)) = (bufs.pop(), bufs.pop(), bufs.pop())
        else {
            return Err(StreamError::Truncated {
                part: self.part,
                chunks: 0,
            }
            .into());
        };
        let manifest = ManifestBytes::parse(&manifest)?;
        let document =
            SignedDocument::from_parts(manifest, personal, seal).verify(self.store, self.at)?;
        let m = document.manifest().manifest();
        let h = self.submission.header();
        if m.from.organ_id != h.sender {
            return Err(StreamError::HeaderManifestMismatch { field: "sender" }.into());
        }
        if m.to.len() != h.recipients.len()
            || !m.to.iter().all(|o| h.recipients.contains(&o.organ_id))
        {
            return Err(StreamError::HeaderManifestMismatch {
                field: "recipients",
            }
            .into());
        }
        if m.priority != h.priority {
            return Err(StreamError::HeaderManifestMismatch { field: "priority" }.into());
        }
        self.attachments = m.attachments.clone();
        self.stage = if self.attachments.is_empty() {
            Stage::Done
        } else {
            Stage::Attachments
        };
        self.document = Some(document);
        Ok(())
    }

    /// Checks the stream is complete and returns the received document.
    pub fn finish(self) -> Result<ReceivedDocument, Error> {
        if !matches!(self.stage, Stage::Done) {
            return Err(StreamError::Truncated {
                part: self.part,
                chunks: self.index,
            }
            .into());
        }
        let expected = self.submission.header().ciphertext_len;
        if self.received != expected {
            return Err(CiphertextError::CiphertextLengthMismatch {
                expected,
                found: self.received,
            }
            .into());
        }
        let document = self
            .document
            .ok_or(StreamError::Truncated { part: 0, chunks: 0 })?;
        Ok(ReceivedDocument {
            submission: self.submission,
            document,
            recipient: self.recipient,
        })
    }

    /// Opens a whole in-memory ciphertext: convenient for small documents and tests. Returns the
    /// document and the attachments' plaintexts.
    pub fn open_all(
        mut self,
        ciphertext: &[u8],
    ) -> Result<(ReceivedDocument, Vec<Vec<u8>>), Error> {
        let mut rest = ciphertext;
        let mut files: Vec<Vec<u8>> = Vec::new();
        let mut frame = Vec::new();
        while !rest.is_empty() {
            let n = self.frame_len(rest)?;
            let Some(bytes) = rest.get(..n) else {
                return Err(StreamError::Truncated {
                    part: self.part,
                    chunks: self.index,
                }
                .into());
            };
            frame.clear();
            frame.extend_from_slice(bytes);
            rest = &rest[n..];
            if let Opened::Attachment { index, data, .. } = self.open_frame(&mut frame)? {
                if files.len() <= index {
                    files.resize_with(index + 1, Vec::new);
                }
                files[index].extend_from_slice(data);
            }
        }
        let received = self.finish()?;
        files.resize_with(
            received.document.manifest().manifest().attachments.len(),
            Vec::new,
        );
        Ok((received, files))
    }
}
