//! Budgets on untrusted edXML.

/// Budgets the parser enforces while it reads (every one is checked before the work it bounds).
///
/// The defaults fit every real package seen (a header is a few KB; attachments are where the
/// size is) and the Axis manifest's own budgets (256 attachments, 4 GiB per document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest package, in bytes.
    pub max_input: u64,
    /// Deepest element nesting (real packages nest 8 deep; a signature 9).
    pub max_depth: usize,
    /// Most XML events (start tags, text and comment pieces) in the whole package.
    pub max_events: usize,
    /// Most attributes on one element.
    pub max_attributes: usize,
    /// Longest text value, in bytes (attachment data excepted).
    pub max_text: usize,
    /// Most bytes of header text kept, all values together.
    pub max_header: usize,
    /// Most attachments.
    pub max_attachments: usize,
    /// Largest decoded (and unzipped) attachment.
    pub max_attachment_size: u64,
    /// Largest decoded size of all attachments together.
    pub max_total_attachment_size: u64,
    /// Largest inflated/compressed ratio of a zipped attachment, checked once the inflated
    /// size passes [`Limits::zip_ratio_floor`].
    pub max_zip_ratio: u64,
    /// Inflated size under which the ratio is not checked (small, very regular files compress
    /// far better than 100:1).
    pub zip_ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input: 6 << 30,
            max_depth: 32,
            max_events: 200_000,
            max_attributes: 32,
            max_text: 64 << 10,
            max_header: 8 << 20,
            // One Axis manifest slot is taken by the edXML part (see `axis`).
            max_attachments: axis_signer::limits::MAX_ATTACHMENTS - 1,
            max_attachment_size: axis_signer::limits::MAX_DOCUMENT_SIZE,
            max_total_attachment_size: axis_signer::limits::MAX_DOCUMENT_SIZE,
            max_zip_ratio: 200,
            zip_ratio_floor: 1 << 20,
        }
    }
}
