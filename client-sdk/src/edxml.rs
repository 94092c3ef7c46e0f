//! edXML (QCVN 102:2016), the packages every Vietnamese DMS already writes and reads, in and
//! out of the SDK. This module re-exports the `axis-edxml` crate (parse, write, the typed
//! package, the mapping) and adds what a DMS needs around a [`Client`]:
//!
//! - [`OutgoingDocument::from_edxml`]: a DMS's edoc becomes a document to send, recipients
//!   from its `To`; the package itself travels signed and encrypted as the manifest's first
//!   attachment (the *edXML part*, [`EDXML_PART_NAME`]), so every value it holds reaches the
//!   recipients, and nothing of it is sent when it is refused.
//! - [`OpenedDocument::to_edxml`]: at a recipient, the package again, every field as the sender's
//!   DMS wrote it (a document sent without edXML is described VNPT-style from its manifest).
//!   Opening refuses a document whose edXML part says anything else than its signed manifest.
//! - [`Client::send_edxml_status`]: the status package a DMS wrote (02–06, 13, 15, 16) becomes
//!   this agency's status, signed by its seal: the code, the Description as the reason, and
//!   StaffInfo, From's details and the DMS's Timestamp in the receipt's signed `edxml`
//!   extension; 13 goes through the recall, 01 with the opened document
//!   ([`Client::acknowledge_edxml`]). [`HistoryEvent::to_edxml`] and
//!   [`LoggedStatement::to_edxml`] give a received status back as the package.
//!
//! Hostile packages (an XML bomb, XXE, deep nesting, a zip bomb, broken base64…) are refused
//! by the parser with an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error whose
//! [`reason`](crate::Error::reason) is the parser's (`EDXML_DTD`, `EDXML_LIMIT`,
//! `EDXML_ZIP_BOMB`, `EDXML_BASE64`…; [`ErrorKind::as_str`]).
//!
//! ```
//! use axis_client::OutgoingDocument;
//!
//! # fn main() -> axis_client::Result<()> {
//! # let package = include_bytes!("../../edxml/tests/data/edoc_new.edxml");
//! // The package a DMS wrote: three recipients, a signature, the metadata.
//! let doc = OutgoingDocument::from_edxml(package)?;
//! assert_eq!(doc.recipients.len(), 3);
//! assert_eq!(doc.code.to_string(), "7816/VPCP-TTĐT");
//! // `client.send(doc)` signs, seals and sends it like any document.
//!
//! // A bomb is refused before anything is read from it, with the parser's reason.
//! let bomb = b"<!DOCTYPE edXML [<!ENTITY a \"aaaa\">]><edXML>&a;</edXML>";
//! let e = OutgoingDocument::from_edxml(bomb).unwrap_err();
//! assert_eq!(e.reason(), Some("EDXML_DTD"));
//! # Ok(()) }
//! ```
//!
//! ```no_run
//! # async fn demo(client: axis_client::Client, delivery: axis_client::Delivery,
//! #     status_from_the_dms: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! // A recipient opens the document into a directory and gives its DMS the package.
//! let opened = client.open_to_dir(&delivery, "incoming/7816").await?;
//! std::fs::write("incoming/7816/document.edxml", opened.to_edxml()?)?;
//! client.acknowledge(&opened).await?;
//! // The DMS registers it and writes status 03: the agency seal signs it.
//! client.send_edxml_status(&delivery.message_id, &status_from_the_dms).await?;
//!
//! // The sender hands every status back to its DMS as edXML.
//! let history = client.history(&delivery.message_id).await?;
//! for event in history.timelines.iter().flat_map(|t| &t.events) {
//!     let package: Vec<u8> = event.to_edxml()?;
//! #   let _ = package;
//! }
//! # Ok(()) }
//! ```

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

pub use axis_edxml::*;

use axis_signer::{Manifest, Receipt, StatusCode};

use crate::send::{SPOOL_IN_MEMORY, Source};
use crate::{
    Client, HistoryEvent, LoggedStatement, MessageId, OpenedDocument, OutgoingAttachment,
    OutgoingDocument, Recipient,
};

/// Largest edXML part kept while a document is opened (the package without attachment data;
/// the parser's header budget is 8 MiB of text).
const MAX_PART: u64 = 16 << 20;
/// Read size when an attachment is read back from a file.
const READ_BUF: usize = 64 * 1024;

/// A package the parser or the mapping refused: invalid input, with the parser's reason.
fn refused(what: &str, e: Error) -> crate::Error {
    crate::Error::invalid(format!("{what}: {e} ({})", e.kind()))
        .with_reason(Some(e.kind().as_str().to_owned()))
        .with_source(e)
}

impl OutgoingDocument {
    /// A document from the edXML package (edoc) a DMS wrote.
    ///
    /// The package is parsed with the default [`Limits`] (hostile input refused with its own
    /// reason) and its attachments decoded (each kept in memory up to [`SPOOL_IN_MEMORY`],
    /// beyond in an unnamed temporary file). It must be one Axis can carry
    /// ([`edoc_to_axis`]): a `From` and `To`s with agency ids, a `DocumentId` that is the one
    /// `From`, `PromulgationDate` and `Code` make, the document a revocation, update or
    /// replacement refers to. The fields of the result are the package's: the recipients
    /// are its `To`s and the sender its `From` (which must be the sending client's agency).
    ///
    /// Of the result, change only the recipients ([`OutgoingDocument::recipients`]: a
    /// recipient the package names keeps its `To` element, another one is added with its
    /// directory name) and the message id; sending refuses a document whose other fields or
    /// attachments were changed after it was made: change the package instead.
    pub fn from_edxml(package: &[u8]) -> crate::Result<Self> {
        let mut files = Spooler::default();
        let parsed = parse(package, &mut files).map_err(|e| refused("the edXML package", e))?;
        let edoc = match parsed.package {
            Package::Edoc(edoc) => edoc,
            Package::Status(_) => {
                return Err(crate::Error::invalid(
                    "the edXML package is a status, not a document: send it as a status \
                     (`Client::send_edxml_status`, `axis status --edxml`)",
                ));
            }
        };
        let axis = edoc_to_axis(&edoc)
            .map_err(|e| refused("the edXML package cannot travel through the axis", e))?;
        let m = axis.manifest;
        let mut attachments = Vec::with_capacity(files.files.len());
        for (a, data) in m.attachments.iter().skip(1).zip(files.files) {
            crate::check_attachment_name(&a.name)?;
            attachments.push(OutgoingAttachment {
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                description: a.description.clone(),
                source: data.into_source(),
            });
        }
        Ok(OutgoingDocument {
            recipients: m
                .to
                .iter()
                .map(|o| Recipient {
                    agency_id: o.organ_id.clone(),
                    name: Some(o.organ_name.clone()),
                })
                .collect(),
            code: m.code,
            subject: m.subject,
            content: m.content,
            document_type: m.document_type,
            place: m.promulgation.place,
            date: Some(m.promulgation.date),
            signer: Some(m.signer),
            due_date: m.due_date,
            to_places: m.to_places,
            priority: m.priority,
            other: m.other,
            response_for: m.response_for,
            business: m.business,
            attachments,
            sender: Some(m.from),
            message_id: None,
            edxml: Some(Arc::new(edoc)),
        })
    }

    /// [`OutgoingDocument::from_edxml`] of a file (read whole, up to the parser's input budget).
    pub fn from_edxml_file(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        let io = |e| crate::Error::io(format!("reading {}", path.display()), e);
        let len = std::fs::metadata(path).map_err(io)?.len();
        let max = Limits::default().max_input;
        if len > max {
            return Err(crate::Error::invalid(format!(
                "{}: {len} bytes; an edXML package may have at most {max}",
                path.display()
            ))
            .with_reason(Some(ErrorKind::Limit.as_str().to_owned())));
        }
        let package = std::fs::read(path).map_err(io)?;
        Self::from_edxml(&package).map_err(|e| e.context(path.display()))
    }

    /// The edXML package this document was made from, if it was.
    pub fn edoc(&self) -> Option<&Edoc> {
        self.edxml.as_deref()
    }
}

/// Where a document made from edXML keeps its decoded attachments until it is sent.
#[derive(Default)]
struct Spooler {
    files: Vec<Spooled>,
}

enum Spooled {
    Memory(Vec<u8>),
    File(std::fs::File),
}

impl Spooled {
    fn into_source(self) -> Source {
        match self {
            Spooled::Memory(v) => Source::Bytes(v.into()),
            Spooled::File(f) => Source::Spooled(Arc::new(f)),
        }
    }
}

impl AttachmentSink for Spooler {
    fn start(&mut self, _: usize, _: &Attachment) -> std::io::Result<()> {
        self.files.push(Spooled::Memory(Vec::new()));
        Ok(())
    }

    fn write(&mut self, _: usize, data: &[u8]) -> std::io::Result<()> {
        let Some(last) = self.files.last_mut() else {
            return Ok(());
        };
        match last {
            Spooled::Memory(v) if v.len() + data.len() <= SPOOL_IN_MEMORY => {
                v.extend_from_slice(data);
            }
            Spooled::Memory(v) => {
                let mut file = tempfile::tempfile()?;
                file.write_all(v)?;
                file.write_all(data)?;
                *last = Spooled::File(file);
            }
            Spooled::File(f) => f.write_all(data)?,
        }
        Ok(())
    }
}

/// The manifest fields a document made from edXML may not change after it was made.
fn changed_field(fields: &Manifest, package: &Manifest) -> Option<&'static str> {
    let checks: [(&'static str, bool); 13] = [
        ("sender", fields.from == package.from),
        ("code", fields.code == package.code),
        ("promulgation", fields.promulgation == package.promulgation),
        (
            "document type",
            fields.document_type == package.document_type,
        ),
        ("subject", fields.subject == package.subject),
        ("content", fields.content == package.content),
        ("signer", fields.signer == package.signer),
        ("due date", fields.due_date == package.due_date),
        ("to places", fields.to_places == package.to_places),
        ("priority", fields.priority == package.priority),
        ("other info", fields.other == package.other),
        ("response for", fields.response_for == package.response_for),
        ("business type", fields.business == package.business),
    ];
    checks.iter().find(|(_, same)| !same).map(|(f, _)| *f)
}

/// At sending, a document made from edXML: the package with `To` set to the recipients,
/// mapped again; the manifest is the mapping's and the edXML part becomes attachment 0.
/// Returns the manifest to sign (attachments to be filled by the digest pass) and the
/// attachments it must end up with.
pub(crate) fn prepare(
    edoc: &Edoc,
    fields: Manifest,
    names: &mut Vec<(String, String, String)>,
    sources: &mut Vec<Source>,
) -> crate::Result<(Manifest, Option<Vec<axis_signer::Attachment>>)> {
    let mut edoc = edoc.clone();
    edoc.header.to = fields
        .to
        .iter()
        .map(|o| {
            edoc.header
                .to
                .iter()
                .find(|t| t.organ_id == o.organ_id.as_str())
                .cloned()
                .unwrap_or_else(|| Organization {
                    organ_id: o.organ_id.to_string(),
                    organ_name: o.organ_name.clone(),
                    ..Organization::default()
                })
        })
        .collect();
    let axis =
        edoc_to_axis(&edoc).map_err(|e| refused("the edXML package with these recipients", e))?;
    if let Some(field) = changed_field(&fields, &axis.manifest) {
        return Err(crate::Error::invalid(format!(
            "the document was made from an edXML package and its {field} was changed since; \
             change the package instead"
        )));
    }
    let files = &axis.manifest.attachments[1..];
    let same_files = files.len() == names.len()
        && files
            .iter()
            .zip(names.iter())
            .all(|(a, (n, t, d))| (&a.name, &a.content_type, &a.description) == (n, t, d));
    if !same_files {
        return Err(crate::Error::invalid(
            "the document was made from an edXML package and its attachments were changed \
             since; change the package instead",
        ));
    }
    names.insert(
        0,
        (
            EDXML_PART_NAME.to_owned(),
            EDXML_PART_CONTENT_TYPE.to_owned(),
            String::new(),
        ),
    );
    sources.insert(0, Source::Bytes(axis.edxml_part.into()));
    let expected = axis.manifest.attachments.clone();
    let mut manifest = axis.manifest;
    manifest.attachments.clear();
    Ok((manifest, Some(expected)))
}

/// Whether a manifest entry is the edXML part.
fn is_part(index: usize, a: &axis_signer::Attachment) -> bool {
    index == 0 && a.name == EDXML_PART_NAME && a.content_type == EDXML_PART_CONTENT_TYPE
}

/// A sink that passes everything on and keeps a copy of the edXML part.
pub(crate) struct PartCapture<'a> {
    inner: &'a mut dyn crate::AttachmentSink,
    part: Option<Vec<u8>>,
    capturing: bool,
}

impl<'a> PartCapture<'a> {
    pub(crate) fn new(inner: &'a mut dyn crate::AttachmentSink) -> Self {
        PartCapture {
            inner,
            part: None,
            capturing: false,
        }
    }

    pub(crate) fn take_part(&mut self) -> Option<Vec<u8>> {
        self.part.take()
    }
}

impl crate::AttachmentSink for PartCapture<'_> {
    fn begin(&mut self, index: usize, attachment: &axis_signer::Attachment) -> crate::Result<()> {
        self.capturing = is_part(index, attachment) && attachment.size <= MAX_PART;
        if self.capturing {
            self.part = Some(Vec::new());
        }
        self.inner.begin(index, attachment)
    }

    fn write(&mut self, index: usize, data: &[u8]) -> crate::Result<()> {
        if self.capturing
            && let Some(part) = &mut self.part
        {
            if (part.len() + data.len()) as u64 > MAX_PART {
                // More than the signed size: the opener refuses it at the attachment's end.
                self.part = None;
                self.capturing = false;
            } else {
                part.extend_from_slice(data);
            }
        }
        self.inner.write(index, data)
    }

    fn end(&mut self, index: usize) -> crate::Result<()> {
        self.capturing = false;
        self.inner.end(index)
    }

    fn abort(&mut self) {
        self.part = None;
        self.inner.abort();
    }
}

/// Step 5 of [`Client::open`]: an edXML part must say what the signed manifest says.
pub(crate) fn check_part(opened: &OpenedDocument) -> crate::Result<()> {
    if !has_edxml_part(opened.manifest()) {
        return Ok(());
    }
    opened.edoc().map(|_| ())
}

impl OpenedDocument {
    /// Whether the sender sent this document as edXML (it carries an edXML part).
    pub fn is_edxml(&self) -> bool {
        has_edxml_part(self.manifest())
    }

    /// The edXML package this document is, without attachment data: the one the sender's DMS
    /// wrote when it was sent as edXML (checked against the signed manifest), else one
    /// made VNPT-style from the manifest.
    pub fn edoc(&self) -> crate::Result<Edoc> {
        edoc_from_axis(self.manifest(), self.edxml_part.as_deref()).map_err(|e| {
            crate::Error::verification(format!(
                "the edXML part of {} does not match its signed manifest: {e}",
                self.message_id()
            ))
            .with_reason(Some(e.kind().as_str().to_owned()))
            .with_source(e)
        })
    }

    /// Writes the edXML package with its attachments, read back from the files
    /// [`Client::open_to_dir`] wrote (each checked again against its signed size and SHA-256:
    /// a file changed since is an error). Attachments are streamed: memory does not grow
    /// with their size. On error, discard what was written.
    pub fn write_edxml(&self, out: &mut dyn Write) -> crate::Result<()> {
        let m = self.manifest();
        if self.files().len() != m.attachments.len() {
            return Err(crate::Error::invalid(
                "the attachments are not in files: open the document with `open_to_dir`, or \
                 use `to_edxml_from` with the attachments in memory",
            ));
        }
        let mut source = Checked {
            manifest: m,
            read: |i: usize, out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>| {
                read_file(&self.files()[i], out)
            },
        };
        write_edoc(&self.edoc()?, &mut source, out)
            .map_err(|e| edxml_write_error(self.message_id(), e))
    }

    /// [`OpenedDocument::write_edxml`] into memory.
    pub fn to_edxml(&self) -> crate::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_edxml(&mut out)?;
        Ok(out)
    }

    /// The edXML package with the attachments given in memory, in manifest order (as
    /// [`Client::open_in_memory`] returns them).
    pub fn to_edxml_from(&self, files: &[Vec<u8>]) -> crate::Result<Vec<u8>> {
        let m = self.manifest();
        if files.len() != m.attachments.len() {
            return Err(crate::Error::invalid(format!(
                "{} attachments given; the document has {}",
                files.len(),
                m.attachments.len()
            )));
        }
        let mut source = Checked {
            manifest: m,
            read: |i: usize, out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>| out(&files[i]),
        };
        let mut bytes = Vec::new();
        write_edoc(&self.edoc()?, &mut source, &mut bytes)
            .map_err(|e| edxml_write_error(self.message_id(), e))?;
        Ok(bytes)
    }
}

fn edxml_write_error(id: MessageId, e: Error) -> crate::Error {
    let kind = e.kind();
    crate::Error::new(
        crate::ErrorKind::Io,
        format!("writing the edXML package of {id}: {e}"),
    )
    .with_reason(Some(kind.as_str().to_owned()))
    .with_source(e)
}

/// Streams a file in blocks.
fn read_file(
    path: &Path,
    out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; READ_BUF];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => out(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The attachments of an opened document for the edXML writer: edXML attachment `i` is
/// manifest attachment [`manifest_index`]`(i)`, and its bytes must still be the signed ones.
struct Checked<'m, F> {
    manifest: &'m Manifest,
    read: F,
}

impl<F> AttachmentSource for Checked<'_, F>
where
    F: FnMut(usize, &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()>,
{
    fn write_attachment(&mut self, index: usize, out: &mut dyn Write) -> std::io::Result<()> {
        let i = manifest_index(self.manifest, index);
        let expected = self
            .manifest
            .attachments
            .get(i)
            .ok_or_else(|| std::io::Error::other(format!("no attachment {index}")))?;
        let mut digest = axis_signer::AttachmentDigest::new();
        (self.read)(i, &mut |b: &[u8]| {
            digest.update(b);
            out.write_all(b)
        })?;
        let got = digest.finish("", "", "");
        if got.size != expected.size || got.sha256 != expected.sha256 {
            return Err(std::io::Error::other(format!(
                "attachment {} is no longer the signed file (size or SHA-256 differs)",
                expected.name
            )));
        }
        Ok(())
    }
}

/// At signing, the fields of an edXML status on the receipt the chain made: checked against
/// it (same document, same parties), dated when the seal signs.
pub(crate) fn apply_status(receipt: &mut Receipt, status: AxisStatus) -> crate::Result<()> {
    let status = status.signed_at(receipt.time);
    let mismatch = |what: &str, package: String, document: String| {
        Err(crate::Error::invalid(format!(
            "the status package's {what} is {package}, but message {} {document}",
            receipt.message_id
        )))
    };
    if status.document_id != receipt.document_id {
        let name = |d: &Option<axis_signer::DocumentId>| {
            d.as_ref()
                .map_or_else(|| "none".to_owned(), |d| d.to_string())
        };
        return mismatch(
            "ResponseFor/DocumentId",
            name(&status.document_id),
            format!("carries document {}", name(&receipt.document_id)),
        );
    }
    if status.from != receipt.from {
        return mismatch(
            "From/OrganId",
            status.from.to_string(),
            format!("has this status stated by {}", receipt.from),
        );
    }
    if status.to != receipt.to {
        return mismatch(
            "ResponseFor/OrganId",
            status.to.to_string(),
            format!("has this status addressed to {}", receipt.to),
        );
    }
    receipt.time = status.time;
    receipt.reason = status.reason;
    receipt.edxml = status.edxml;
    Ok(())
}

/// A status package a DMS wrote, mapped.
fn status_package(package: &[u8]) -> crate::Result<AxisStatus> {
    let parsed = parse(package, &mut Discard).map_err(|e| refused("the edXML status", e))?;
    let Package::Status(status) = parsed.package else {
        return Err(crate::Error::invalid(
            "the edXML package is a document, not a status: send it as a document \
             (`OutgoingDocument::from_edxml`, `axis send --edxml`)",
        ));
    };
    status_to_axis(&status).map_err(|e| refused("the edXML status cannot travel as a receipt", e))
}

impl Client {
    /// Sends the status a DMS wrote as an edXML status package, signed by this agency's seal.
    ///
    /// The package's `From/OrganId` must be this agency, its `ResponseFor` the document of
    /// `message_id` and the other party. The code, the `Description` (as the reason, exactly)
    /// and everything else the package says (StaffInfo, From's details) are signed; the
    /// statement is dated when the seal signs it, which the axis requires, and the DMS's
    /// `Timestamp` is kept beside it, so the sender's [`HistoryEvent::to_edxml`] gives back
    /// this package. 02–06, 15 and 16 go as [`Client::send_status`]; 13 (from the sender) as
    /// [`Client::recall`] from the recipient `ResponseFor/OrganId` names; 01 needs the opened
    /// document: [`Client::acknowledge_edxml`].
    pub async fn send_edxml_status(
        &self,
        message_id: &MessageId,
        package: &[u8],
    ) -> crate::Result<LoggedStatement> {
        let status = self.own_status(package)?;
        let (code, reason) = (status.status, status.reason.clone());
        match code {
            StatusCode::Arrived => Err(crate::Error::invalid(
                "status 01 is the delivery receipt: it is sent with the opened document \
                 (`Client::acknowledge_edxml`, `axis open --ack-edxml FILE`)",
            )),
            StatusCode::RecallRequested => {
                let recipient = status.to.clone();
                self.recall_as(message_id, &recipient, &reason, Some(status))
                    .await
            }
            _ => {
                self.send_status_as(message_id, code, &reason, Some(status))
                    .await
            }
        }
    }
}

impl Client {
    /// [`Client::acknowledge`] with the status 01 package a DMS wrote ("đã đến"): the
    /// delivery receipt carries its Description, StaffInfo, From's details and Timestamp, as
    /// [`Client::send_edxml_status`] does for the other statuses.
    pub async fn acknowledge_edxml(
        &self,
        opened: &OpenedDocument,
        package: &[u8],
    ) -> crate::Result<LoggedStatement> {
        let status = self.own_status(package)?;
        if status.status != StatusCode::Arrived {
            return Err(crate::Error::invalid(format!(
                "the status package says {}; the delivery receipt is 01 (send the others with \
                 `Client::send_edxml_status`, `axis status --edxml`)",
                status.status
            )));
        }
        self.acknowledge_as(opened, Some(status)).await
    }

    /// A status package this agency states.
    fn own_status(&self, package: &[u8]) -> crate::Result<AxisStatus> {
        let status = status_package(package)?;
        let me = self.me()?;
        if &status.from != me {
            return Err(crate::Error::invalid(format!(
                "the status package is stated by {} (From/OrganId); this client is agency {me}",
                status.from
            )));
        }
        Ok(status)
    }
}

/// A logged receipt as the edXML status package it says.
fn status_of(receipt: &Receipt) -> crate::Result<Status> {
    status_from_axis(&AxisStatus::from_receipt(receipt)).map_err(|e| {
        crate::Error::verification(format!(
            "status {} of message {} cannot be written as edXML: {e}",
            receipt.status, receipt.message_id
        ))
        .with_reason(Some(e.kind().as_str().to_owned()))
        .with_source(e)
    })
}

fn status_bytes(status: &Status) -> crate::Result<Vec<u8>> {
    status_to_vec(status).map_err(|e| {
        crate::Error::new(
            crate::ErrorKind::Io,
            format!("writing an edXML status: {e}"),
        )
        .with_source(e)
    })
}

impl HistoryEvent {
    /// The status as an edXML status package's values (as the stating DMS wrote them when it
    /// sent edXML).
    pub fn edxml_status(&self) -> crate::Result<Status> {
        status_of(self.signed.receipt().receipt())
    }

    /// The status as an edXML status package, written VNPT-style.
    pub fn to_edxml(&self) -> crate::Result<Vec<u8>> {
        status_bytes(&self.edxml_status()?)
    }
}

impl LoggedStatement {
    /// The status as an edXML status package's values.
    pub fn edxml_status(&self) -> crate::Result<Status> {
        status_of(&self.receipt)
    }

    /// The status as an edXML status package, written VNPT-style.
    pub fn to_edxml(&self) -> crate::Result<Vec<u8>> {
        status_bytes(&self.edxml_status()?)
    }
}

#[cfg(test)]
mod tests;
