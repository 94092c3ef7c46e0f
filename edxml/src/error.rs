//! The one error type of this crate: what went wrong, where (the element path), and a
//! machine-readable [`ErrorKind`].

use std::fmt;

/// Which budget of [`crate::Limits`] an input exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The whole package, in bytes.
    InputSize,
    /// Element nesting depth.
    Depth,
    /// Number of XML events (elements, text and comment pieces).
    Elements,
    /// Attributes on one element.
    Attributes,
    /// Characters of one text value (attachment data excepted).
    TextLength,
    /// Text kept from the header, all values together.
    HeaderSize,
    /// Number of attachments.
    Attachments,
    /// Decoded size of one attachment.
    AttachmentSize,
    /// Decoded size of all attachments together.
    TotalAttachmentSize,
    /// Inflated size over compressed size of a zipped attachment.
    ZipRatio,
}

impl Limit {
    fn as_str(self) -> &'static str {
        match self {
            Limit::InputSize => "input size",
            Limit::Depth => "nesting depth",
            Limit::Elements => "number of XML events",
            Limit::Attributes => "attributes on one element",
            Limit::TextLength => "text length",
            Limit::HeaderSize => "header text size",
            Limit::Attachments => "number of attachments",
            Limit::AttachmentSize => "attachment size",
            Limit::TotalAttachmentSize => "total attachment size",
            Limit::ZipRatio => "zip compression ratio",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one element or value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required element is absent.
    Missing,
    /// An element that may appear once appears again.
    Duplicate,
    /// A required value is empty.
    Empty,
    /// Not an unsigned decimal integer (or too large).
    NotInteger,
    /// Not `true` or `false`.
    NotBoolean,
    /// Not a date `yyyy/MM/dd`.
    NotDate,
    /// Not a timestamp `yyyy/MM/dd HH:mm:ss` (nor the legacy `dd/MM/yyyy HH:mm:ss`).
    NotTimestamp,
    /// A value outside the values the reference defines.
    OutOfRange,
    /// An element that holds elements holds text, or the reverse.
    UnexpectedContent,
    /// A character XML 1.0 does not allow (a C0 control other than tab and line breaks).
    InvalidCharacter,
    /// An element in a namespace where the edXML one is required.
    WrongNamespace,
    /// `From` nested inside `From` (a producer bug seen in the wild).
    NestedFrom,
    /// The non-standard `edXMLAttachments/AttachmentData` layout of one gateway.
    NonStandardAttachments,
    /// A `Reference`/`Attachment` id that is used twice.
    DuplicateContentId,
    /// Attachment data holds something that is not base64 (for example a test tool's
    /// placeholder text), at this offset of the element's text.
    NotBase64 {
        /// Byte offset within the element's text.
        offset: u64,
    },
    /// Attachment data is a `ContentTransferEncoded` with an entity or character reference.
    ReferenceInData,
    /// A zipped attachment that cannot be read.
    Zip(ZipProblem),
    /// The attachment bytes the writer was given do not have the size the model says.
    SizeMismatch {
        /// Size in the model.
        expected: u64,
        /// Size of the bytes given.
        found: u64,
    },
}

/// Why a zipped attachment cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZipProblem {
    /// No local file header at the start.
    NotZip,
    /// The data ends inside the first entry.
    Truncated,
    /// Encrypted entry.
    Encrypted,
    /// A compression method other than stored (0) and deflate (8).
    Method(u16),
    /// The deflate stream is corrupt.
    Corrupt,
    /// The CRC-32 of the inflated entry differs from the one the archive states.
    Crc,
    /// A stored entry whose size is only in a data descriptor (cannot be delimited).
    StoredWithoutSize,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => f.write_str("missing"),
            Problem::Duplicate => f.write_str("appears more than once"),
            Problem::Empty => f.write_str("empty"),
            Problem::NotInteger => f.write_str("not an unsigned integer"),
            Problem::NotBoolean => f.write_str("not `true` or `false`"),
            Problem::NotDate => f.write_str("not a date yyyy/MM/dd"),
            Problem::NotTimestamp => {
                f.write_str("not a timestamp yyyy/MM/dd HH:mm:ss (or dd/MM/yyyy HH:mm:ss)")
            }
            Problem::OutOfRange => f.write_str("value out of range"),
            Problem::UnexpectedContent => f.write_str("unexpected content (text or elements)"),
            Problem::InvalidCharacter => f.write_str("a character XML does not allow"),
            Problem::WrongNamespace => f.write_str("not in the edXML namespace"),
            Problem::NestedFrom => f.write_str("`From` nested inside `From`"),
            Problem::NonStandardAttachments => f.write_str(
                "non-standard `edXMLAttachments/AttachmentData` layout (expected \
                 `AttachmentEncoded/Attachment` after the envelope)",
            ),
            Problem::DuplicateContentId => f.write_str("the same ContentId is used twice"),
            Problem::NotBase64 { offset } => write!(
                f,
                "not base64 at offset {offset} (placeholder text instead of the file?)"
            ),
            Problem::ReferenceInData => {
                f.write_str("an entity or character reference inside base64 data")
            }
            Problem::Zip(z) => write!(f, "zipped attachment: {z}"),
            Problem::SizeMismatch { expected, found } => write!(
                f,
                "attachment bytes are {found} bytes, the package says {expected}"
            ),
        }
    }
}

impl fmt::Display for ZipProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZipProblem::NotZip => f.write_str("not a zip archive"),
            ZipProblem::Truncated => f.write_str("archive truncated"),
            ZipProblem::Encrypted => f.write_str("encrypted entry"),
            ZipProblem::Method(m) => write!(f, "compression method {m} (only 0 and 8)"),
            ZipProblem::Corrupt => f.write_str("corrupt deflate data"),
            ZipProblem::Crc => f.write_str("CRC-32 mismatch"),
            ZipProblem::StoredWithoutSize => f.write_str("stored entry without a size"),
        }
    }
}

/// Everything that can go wrong reading, writing or mapping edXML.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not well-formed XML (or not UTF-8).
    #[error("not well-formed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset where the parser stopped.
        position: u64,
        /// The XML parser's message.
        message: String,
    },
    /// A document type declaration: refused, never read (XML bomb and XXE defence).
    #[error("a DTD (`<!DOCTYPE …>`) is refused: edXML has none, and DTDs carry XML bombs and XXE")]
    Dtd,
    /// A reference to an entity other than the five predefined ones (no DTD defines any).
    #[error(
        "{element}: entity reference `&{name};` refused (only &lt; &gt; &amp; &quot; &apos; and character references)"
    )]
    Entity {
        /// Element path.
        element: String,
        /// Entity name.
        name: String,
    },
    /// A budget of [`crate::Limits`] was exceeded.
    #[error("{element}: {limit} {found} exceeds the limit {max}")]
    Limit {
        /// Which budget.
        limit: Limit,
        /// Element path (or `edXML` for the whole input).
        element: String,
        /// What was found (at least).
        found: u64,
        /// The budget.
        max: u64,
    },
    /// The root is not `edXML`.
    #[error("not an edXML package: the root element is `{found}`")]
    NotEdxml {
        /// The root element's name.
        found: String,
    },
    /// A SOAP envelope carrying `edXML:MessageHeader` in its header (older provincial DMSs).
    #[error(
        "legacy SOAP envelope: edXML inside `SOAP-ENV:Envelope` is not a QCVN 102 package; \
         convert it to an `edXML` root first"
    )]
    LegacySoapEnvelope,
    /// An element or value is malformed.
    #[error("{element}: {problem}")]
    Malformed {
        /// Element path, e.g. `edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Code/CodeNumber`.
        element: String,
        /// What is wrong.
        problem: Problem,
    },
    /// A zipped attachment inflates beyond its budget (a zip bomb).
    #[error("{element}: zip bomb refused: inflates to more than {max} bytes ({limit})")]
    ZipBomb {
        /// Element path.
        element: String,
        /// Which budget.
        limit: Limit,
        /// The budget.
        max: u64,
    },
    /// The caller's attachment sink or source failed.
    #[error("attachment {index}: {source}")]
    Io {
        /// Attachment index.
        index: usize,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing the package failed.
    #[error("writing the package: {0}")]
    Write(std::io::Error),
    /// The package cannot become an Axis document or status, or the reverse.
    #[error("mapping `{field}`: {reason}")]
    Mapping {
        /// The edXML element (or manifest field).
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A value Axis's manifest or receipt refuses (its field check).
    #[error("mapping `{field}`: {source}")]
    Signer {
        /// The edXML element.
        field: &'static str,
        /// The signer's check that failed.
        source: axis_signer::Error,
    },
    /// An `OrganId` that is not an agency identifier Axis can route to.
    #[error("mapping `{field}`: {source}")]
    AgencyId {
        /// The edXML element.
        field: &'static str,
        /// What is wrong with it.
        source: axis_pki::AgencyIdError,
    },
    /// The package's `DocumentId` is not the one its `From/OrganId`, `PromulgationDate` and
    /// `Code` make, which is the id Axis uses.
    #[error(
        "`DocumentId` {found} is not the id of From/OrganId, PromulgationDate and Code ({derived})"
    )]
    DocumentIdMismatch {
        /// As written.
        found: String,
        /// As derived.
        derived: axis_signer::DocumentId,
    },
    /// A status whose Description does not fit a receipt's reason.
    #[error("the status Description has {len} characters; an Axis status reason holds {max}")]
    StatusTooLong {
        /// Characters needed.
        len: usize,
        /// The receipt's budget.
        max: usize,
    },
    /// The edXML part carried with an Axis document says something else than its signed
    /// manifest.
    #[error("the edXML part contradicts the signed manifest in `{field}`")]
    ExtensionContradicts {
        /// The manifest field that differs.
        field: &'static str,
    },
}

/// A machine-readable error kind, stable across releases (see [`ErrorKind::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not well-formed XML.
    Xml,
    /// DTD refused.
    Dtd,
    /// Entity refused.
    Entity,
    /// A budget exceeded.
    Limit,
    /// Root is not `edXML`.
    NotEdxml,
    /// Legacy SOAP envelope.
    LegacySoapEnvelope,
    /// A required element is missing.
    Missing,
    /// A malformed element or value.
    Malformed,
    /// `From` nested in `From`.
    NestedFrom,
    /// The `edXMLAttachments/AttachmentData` layout.
    NonStandardAttachments,
    /// Attachment data not base64.
    Base64,
    /// A zipped attachment that cannot be read.
    Zip,
    /// A zip bomb.
    ZipBomb,
    /// The caller's sink or source failed.
    Io,
    /// Mapping to or from Axis failed.
    Mapping,
    /// The edXML part contradicts the signed manifest.
    ExtensionContradicts,
}

impl ErrorKind {
    /// The reason string, e.g. `EDXML_DTD`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Xml => "EDXML_NOT_WELL_FORMED",
            ErrorKind::Dtd => "EDXML_DTD",
            ErrorKind::Entity => "EDXML_ENTITY",
            ErrorKind::Limit => "EDXML_LIMIT",
            ErrorKind::NotEdxml => "EDXML_NOT_EDXML",
            ErrorKind::LegacySoapEnvelope => "EDXML_LEGACY_SOAP",
            ErrorKind::Missing => "EDXML_MISSING",
            ErrorKind::Malformed => "EDXML_MALFORMED",
            ErrorKind::NestedFrom => "EDXML_NESTED_FROM",
            ErrorKind::NonStandardAttachments => "EDXML_NONSTANDARD_ATTACHMENTS",
            ErrorKind::Base64 => "EDXML_BASE64",
            ErrorKind::Zip => "EDXML_ZIP",
            ErrorKind::ZipBomb => "EDXML_ZIP_BOMB",
            ErrorKind::Io => "EDXML_IO",
            ErrorKind::Mapping => "EDXML_MAPPING",
            ErrorKind::ExtensionContradicts => "EDXML_EXTENSION_CONTRADICTS",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Xml { .. } => ErrorKind::Xml,
            Error::Dtd => ErrorKind::Dtd,
            Error::Entity { .. } => ErrorKind::Entity,
            Error::Limit { .. } => ErrorKind::Limit,
            Error::NotEdxml { .. } => ErrorKind::NotEdxml,
            Error::LegacySoapEnvelope => ErrorKind::LegacySoapEnvelope,
            Error::Malformed { problem, .. } => match problem {
                Problem::Missing => ErrorKind::Missing,
                Problem::NestedFrom => ErrorKind::NestedFrom,
                Problem::NonStandardAttachments => ErrorKind::NonStandardAttachments,
                Problem::NotBase64 { .. } | Problem::ReferenceInData => ErrorKind::Base64,
                Problem::Zip(_) => ErrorKind::Zip,
                _ => ErrorKind::Malformed,
            },
            Error::ZipBomb { .. } => ErrorKind::ZipBomb,
            Error::Io { .. } | Error::Write(_) => ErrorKind::Io,
            Error::Mapping { .. }
            | Error::Signer { .. }
            | Error::AgencyId { .. }
            | Error::DocumentIdMismatch { .. }
            | Error::StatusTooLong { .. } => ErrorKind::Mapping,
            Error::ExtensionContradicts { .. } => ErrorKind::ExtensionContradicts,
        }
    }

    pub(crate) fn malformed(element: impl Into<String>, problem: Problem) -> Self {
        Error::Malformed {
            element: element.into(),
            problem,
        }
    }

    pub(crate) fn mapping(field: &'static str, reason: &'static str) -> Self {
        Error::Mapping { field, reason }
    }
}
