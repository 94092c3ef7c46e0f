#![forbid(unsafe_code)]
//! # axis-edxml
//!
//! edXML (QCVN 102:2016) packages. **No I/O, no clock.**

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
    AxisDocument, AxisStatus, EDXML_PART_CONTENT_TYPE, EDXML_PART_NAME, STATUS_EXTRA_MARKER,
    UNZIPPED_CONTENT_TYPE, VIETNAM_OFFSET, edoc_from_axis, edoc_to_axis, has_edxml_part,
    manifest_index, status_from_axis, status_to_axis,
};
pub use datetime::{format_date, format_timestamp, parse_date, parse_timestamp};
pub use decode::{AttachmentSink, Collect, Discard};
pub use error::{Error, ErrorKind, Limit, Problem, ZipProblem};
pub use limits::Limits;
pub use model::*;
pub use parse::{Parsed, parse, parse_with};
pub use write::{AttachmentSource, edoc_to_vec, status_to_vec, write_edoc, write_status};
