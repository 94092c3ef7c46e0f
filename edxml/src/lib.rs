#![forbid(unsafe_code)]
//! # axis-edxml
//!
//! edXML (QCVN 102:2016), the package format every Vietnamese document-management system
//! (DMS) speaks, in and out of Axis. **No I/O, no clock** (like `axis-pki` and `axis-signer`):
//! bytes in, typed values out; attachment bytes stream through a caller's sink or source.
//!
//! - [`parse`] reads a business document ([`Edoc`]) or a status ([`Status`]) from bytes:
//!   every element of the reference, namespace-aware but tolerant of what real producers write
//!   (prefix or default namespace, any order, `Bussiness`/`Business`, an XML-DSig `Signature`
//!   or TS-port's `DigitalSignature`, xlink and `TraceHeaderList` attributes, bare or `cid:`
//!   ids, legacy dates). An embedded XML signature is kept and reported
//!   [`SignatureStatus::PresentNotVerified`]; it is never a reason to refuse.
//! - **Hostile input is refused with its own [`ErrorKind`]** and an error naming the element:
//!   a DTD (XML bomb, XXE) or an entity, every budget of [`Limits`], base64 that is not
//!   (placeholder text), a zip bomb (size and ratio budgets checked while inflating), a broken
//!   zip, `From` inside `From`, the `edXMLAttachments/AttachmentData` layout, a SOAP envelope.
//!   Attachment data is decoded as it streams — base64, then the zip entry, then SHA-256 and
//!   the sink — so memory does not grow with attachment size.
//! - [`write_edoc`] / [`write_status`] write packages the way VNPT's library does (element
//!   order, dates, CRLF and two-space indent, namespace placement, attachment encoding), so a
//!   DMS that parses with that library reads ours.
//! - [`edoc_to_axis`] / [`edoc_from_axis`] and [`status_to_axis`] / [`status_from_axis`] map
//!   to and from the signer's [`axis_signer::Manifest`] and receipt fields, losslessly: what
//!   the manifest has no field for travels in the signed "edXML part", and a part that
//!   contradicts its signed manifest is refused (see "The mapping" below).
//!
//! ## From a DMS's edXML to Axis and back
//!
//! ```
//! use axis_edxml::*;
//!
//! # let package = include_bytes!("../tests/data/edoc_new.edxml");
//! // A DMS hands over its package. Check it and learn each attachment's size and SHA-256
//! // without keeping the bytes (a second pass with another sink streams them to the sealer).
//! let Package::Edoc(edoc) = parse(package, &mut Discard)?.package else {
//!     panic!("a status")
//! };
//! assert_eq!(edoc.header.code.code_notation, "VPCP-TTĐT");
//! assert_eq!(edoc.signature_status(), SignatureStatus::PresentNotVerified);
//!
//! // The manifest to sign, and the edXML part (the manifest's first attachment).
//! let axis = edoc_to_axis(&edoc)?;
//! assert_eq!(axis.manifest.to.len(), 3);
//! assert!(has_edxml_part(&axis.manifest));
//!
//! // The recipient, holding the verified manifest and the part, regenerates the package.
//! let back = edoc_from_axis(&axis.manifest, Some(&axis.edxml_part))?;
//! assert_eq!(back, edoc);
//! let mut files = Collect::default();
//! parse(package, &mut files)?;
//! let edxml = edoc_to_vec(&back, &mut files.0)?;
//! assert!(edxml.starts_with(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<edXML"));
//!
//! // Hostile input has its own error kind.
//! let bomb = b"<!DOCTYPE edXML [<!ENTITY a \"aaaa\">]><edXML>&a;</edXML>";
//! assert_eq!(parse(bomb, &mut Discard).unwrap_err().kind(), ErrorKind::Dtd);
//! # Ok::<(), Error>(())
//! ```
//!
//! ## The mapping
//!
//! **Documents.** [`edoc_to_axis`] fills an [`axis_signer::Manifest`] from the edXML fields
//! it has a home for, and makes the **edXML part**: the package itself, written canonically by this
//! crate, without attachment data ([`EDXML_PART_NAME`], [`EDXML_PART_CONTENT_TYPE`]). The part
//! is the manifest's *first* attachment, so it is signed with the manifest, encrypted with the
//! document, and read by a recipient before the files; the edXML attachments follow in order.
//! Everything edXML carries that the manifest cannot hold (SteeringType, TraceHeaders,
//! StaffInfo, ReplacementInfoList, ContentIds, the XML signature, absent-versus-zero…) travels
//! in the part. [`edoc_from_axis`] reads the part back and **refuses it when it contradicts
//! the signed manifest**: the manifest derived from the part must equal the manifest, field by
//! field. A document sent without a part (a native Axis document) becomes edXML from its
//! manifest alone, VNPT-style.
//!
//! **Statuses.** An edXML status becomes the fields of a signer receipt ([`AxisStatus`]):
//! StatusCode, ResponseFor's DocumentId and OrganId (the other party), From's OrganId, the
//! Timestamp (Vietnam time, UTC+7, to UTC) and the Description, exactly, as the reason. The
//! receipt's signed `edxml` extension (receipt version 2) carries the rest, by element path,
//! only when present: StaffInfo, From's descriptive fields, a ResponseFor Code or
//! PromulgationDate other than its DocumentId's, and the DMS's own Timestamp once the status is
//! dated when the seal signs it ([`AxisStatus::signed_at`]). A Description longer than the
//! receipt's 500 characters, or extras beyond the extension's budgets, are an error, never a
//! truncation.
//!
//! Both directions check themselves: a mapping whose way back would not give the same values
//! is an error, not a silent loss.

mod axis;
mod datetime;
mod decode;
mod error;
mod limits;
mod model;
mod parse;
mod write;
mod xml;

// The public interface is:
pub use axis::{
    AxisDocument, AxisStatus, EDXML_PART_CONTENT_TYPE, EDXML_PART_NAME, UNZIPPED_CONTENT_TYPE,
    VIETNAM_OFFSET, edoc_from_axis, edoc_to_axis, has_edxml_part, manifest_index, status_from_axis,
    status_to_axis,
};
pub use datetime::{format_date, format_timestamp, parse_date, parse_timestamp};
pub use decode::{AttachmentSink, Collect, Discard};
pub use error::{Error, ErrorKind, Limit, Problem, ZipProblem};
pub use limits::Limits;
pub use model::*;
pub use parse::{Parsed, parse, parse_with};
pub use write::{AttachmentSource, edoc_to_vec, status_to_vec, write_edoc, write_status};
