//! The document package: the edXML-compatible manifest and its fields and DocumentId, the
//! signed document (personal signature, then seal), the routing header and submission
//! signature, and the chunked encryption stream.

pub(crate) mod document;
pub(crate) mod document_id;
pub(crate) mod fields;
pub(crate) mod header;
pub(crate) mod key_envelope;
pub(crate) mod manifest;
pub(crate) mod stream;
