//! The cryptographic message layer: the strict DER reader and writer, object identifiers, the
//! certificate fields CMS needs, SHA-256, detached CMS SignedData and the key envelope (CMS
//! EnvelopedData). Nothing here knows what a manifest, a header or a receipt is.

pub(crate) mod certinfo;
pub(crate) mod der;
pub(crate) mod envelope;
pub(crate) mod oid;
pub(crate) mod signature;
