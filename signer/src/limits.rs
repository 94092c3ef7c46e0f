//! Every budget and size of the signer's formats, in one place: what a parser refuses before
//! it reads further, what an encoder refuses to write (so nothing is written that the other side
//! would refuse), and the chunk sizes of the stream. The field limits are the edXML ones of the
//! domain reference (QCVN 102:2016) unless marked "ours".
//!
//! The reference's maxima are BKAV's intended ones, unconfirmed against the QCVN text, and
//! BKAV's own check counts `.`-separated segments rather than characters, so no DMS in service
//! enforces them. Where one refuses values real agencies publish, ours is larger and says why:
//! `Website` (a URL such as `http://www.hanoi.gov.vn` is 23 characters) and `Telephone`/`Fax`
//! (agencies list several numbers in one field).

use time::Duration;

// ----- documents -----

/// Most recipient agencies of one document.
pub const MAX_RECIPIENTS: usize = 500;
/// Most attachments of one document.
pub const MAX_ATTACHMENTS: usize = 256;
/// Most `ToPlaces` entries.
pub const MAX_TO_PLACES: usize = 64;
/// Most `ResponseFor` entries.
pub const MAX_RESPONSE_FOR: usize = 32;
/// Largest encoded manifest.
pub const MAX_MANIFEST_LEN: usize = 4 * 1024 * 1024;
/// Largest total size of a document's attachments.
pub const MAX_DOCUMENT_SIZE: u64 = 4 * 1024 * 1024 * 1024;

// ----- manifest fields (characters, not bytes) -----

/// Longest `OrganName`.
pub const MAX_ORGAN_NAME: usize = 200;
/// Longest `OrganizationInCharge`.
pub const MAX_ORGANIZATION_IN_CHARGE: usize = 500;
/// Longest `OrganAdd`.
pub const MAX_ORGAN_ADD: usize = 500;
/// Longest `Email`.
pub const MAX_EMAIL: usize = 100;
/// Longest `Telephone` / `Fax` (BKAV: 20; ours, room for several numbers such as
/// `0243.8253.535 - 0243.8253.536`).
pub const MAX_PHONE: usize = 50;
/// Longest `Website` (BKAV: 20, which refuses `http://www.hanoi.gov.vn`; ours, a URL).
pub const MAX_WEBSITE: usize = 200;
/// Longest `CodeNumber`.
pub const MAX_CODE_NUMBER: usize = 11;
/// Longest `CodeNotation`.
pub const MAX_CODE_NOTATION: usize = 30;
/// Longest `PromulgationInfo/Place`.
pub const MAX_PLACE: usize = 50;
/// Longest `DocumentType/TypeName`.
pub const MAX_TYPE_NAME: usize = 100;
/// Longest `Subject` (trích yếu).
pub const MAX_SUBJECT: usize = 500;
/// Longest `Content`.
pub const MAX_CONTENT: usize = 500;
/// Longest `ToPlaces/Place`.
pub const MAX_TO_PLACE: usize = 150;
/// Longest `SphereOfPromulgation`.
pub const MAX_SPHERE: usize = 100;
/// Longest `TyperNotation`.
pub const MAX_TYPER_NOTATION: usize = 10;
/// Longest `AttachmentName`.
pub const MAX_ATTACHMENT_NAME: usize = 500;
/// Longest `SignerInfo` field (competence, position, full name); ours, the reference names none.
pub const MAX_SIGNER_FIELD: usize = 100;
/// Longest attachment content type (a MIME type); ours.
pub const MAX_CONTENT_TYPE: usize = 100;
/// Longest attachment description or business reason; ours, as `Subject`.
pub const MAX_DESCRIPTION: usize = 500;
/// Longest receipt reason (status `Description`); ours, as `Subject`.
pub const MAX_REASON: usize = 500;

// ----- signatures -----

/// Largest CMS signature accepted (the signer certificate and two CA certificates fit easily).
pub const MAX_SIGNATURE_LEN: usize = 64 * 1024;
/// Most certificates carried in one signature.
pub const MAX_SIGNATURE_CERTS: usize = 4;
/// How far a signing time may be ahead of the verification time (clocks differ).
pub const SIGNING_TIME_TOLERANCE: Duration = Duration::minutes(5);

// ----- encryption and the routing header -----

/// Largest key envelope accepted, the list of every recipient's entry (room for
/// [`MAX_RECIPIENTS`] RSA-4096 recipients).
pub const MAX_KEY_ENVELOPE_LEN: usize = 1024 * 1024;
/// Largest key-envelope entry (one recipient's CMS EnvelopedData) accepted: an RSA-8192
/// recipient with a long issuer name fits several times.
pub const MAX_KEY_ENVELOPE_ENTRY_LEN: usize = 16 * 1024;
/// Most hashes in an entry's audit path: the depth of an RFC 9162 tree of [`MAX_RECIPIENTS`]
/// leaves (⌈log₂ 500⌉ = 9).
pub const MAX_KEY_ENVELOPE_PATH: usize = 9;
/// Largest routing header accepted.
pub const MAX_HEADER_LEN: usize = 64 * 1024;
/// Smallest chunk size a header may name.
pub const MIN_CHUNK_SIZE: u32 = 1024;
/// Largest chunk size a header may name: the bound on a reader's buffer.
pub const MAX_CHUNK_SIZE: u32 = 1024 * 1024;
/// The chunk size [`crate::Sealer`] uses unless told otherwise.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Largest ciphertext a header may announce (the largest document plus framing overhead).
pub const MAX_CIPHERTEXT_LEN: u64 = 5 * 1024 * 1024 * 1024;
/// Bytes of a frame before its ciphertext.
pub const FRAME_HEADER_LEN: usize = 21;

// ----- receipts -----

/// Largest receipt accepted (room for a 500-character reason and a full `edxml` extension).
pub const MAX_RECEIPT_LEN: usize = 16 * 1024;
/// Most receipts in one chain.
pub const MAX_RECEIPT_CHAIN_LEN: usize = 64;
/// Most fields in a receipt's `edxml` extension (receipt version 2).
pub const MAX_EDXML_FIELDS: usize = 16;
/// Longest element path in a receipt's `edxml` extension (ASCII letters, digits and `/`).
pub const MAX_EDXML_ELEMENT: usize = 64;
/// Longest value in a receipt's `edxml` extension, in characters.
pub const MAX_EDXML_VALUE: usize = 500;
/// Most characters of all values of a receipt's `edxml` extension together.
pub const MAX_EDXML_TOTAL: usize = 2000;
