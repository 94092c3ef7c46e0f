//! Writing packages the way VNPT's library writes them (§9.3): UTF-8, pretty-printed with two
//! spaces and CRLF, empty elements left out, `MessageHeader` children in VNPT's order with
//! `SteeringType` always written, `Bussiness` (sic) before `TraceHeader`,
//! `edXMLBody/edXMLManifest version="1.0"` always; the default namespace on the root, the
//! `edXML:` prefix on the envelope and its elements, `AttachmentEncoded` unprefixed after the
//! envelope, `ContentTransferEncoded` prefixed and re-declaring the prefix, base64 on one line.
//! Attachment bytes stream from an [`AttachmentSource`] through zip (when the attachment says
//! so, §9.1) and base64 straight into the output.

use std::io::Write;

use base64::write::EncoderWriter;

use crate::datetime::{format_date, format_timestamp};
use crate::decode::{BASE64, ZipWriter};
use crate::error::{Error, Problem};
use crate::model::*;

/// Where the writer takes each attachment's bytes (the file as the DMS sees it, unzipped).
pub trait AttachmentSource {
    /// Writes the bytes of attachment `index` into `out`.
    fn write_attachment(&mut self, index: usize, out: &mut dyn Write) -> std::io::Result<()>;
}

impl<T: AsRef<[u8]>> AttachmentSource for [T] {
    fn write_attachment(&mut self, index: usize, out: &mut dyn Write) -> std::io::Result<()> {
        let data = self
            .get(index)
            .ok_or_else(|| std::io::Error::other(format!("no attachment {index}")))?;
        out.write_all(data.as_ref())
    }
}

impl<T: AsRef<[u8]>> AttachmentSource for Vec<T> {
    fn write_attachment(&mut self, index: usize, out: &mut dyn Write) -> std::io::Result<()> {
        self.as_mut_slice().write_attachment(index, out)
    }
}

const P: &str = "edXML:";

/// An element to write.
struct El {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
    /// Written even when empty.
    keep: bool,
}

impl El {
    fn new(name: impl Into<String>) -> Self {
        El {
            name: name.into(),
            attrs: Vec::new(),
            text: String::new(),
            children: Vec::new(),
            keep: false,
        }
    }
    fn edxml(name: &str) -> Self {
        El::new(format!("{P}{name}"))
    }
    fn leaf(name: &str, value: &str) -> Self {
        let mut e = El::edxml(name);
        e.text = trim(value).to_owned();
        e
    }
    fn child(mut self, c: El) -> Self {
        self.children.push(c);
        self
    }
    fn leaf_child(self, name: &str, value: &str) -> Self {
        self.child(El::leaf(name, value))
    }
    fn opt<T: ToString>(self, name: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.leaf_child(name, &v.to_string()),
            None => self,
        }
    }
    fn is_empty(&self) -> bool {
        !self.keep
            && self.attrs.is_empty()
            && self.text.is_empty()
            && self.children.iter().all(El::is_empty)
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

fn organization(name: &str, o: &Organization) -> El {
    El::edxml(name)
        .leaf_child("OrganId", &o.organ_id)
        .leaf_child("OrganizationInCharge", &o.organization_in_charge)
        .leaf_child("OrganName", &o.organ_name)
        .leaf_child("OrganAdd", &o.organ_add)
        .leaf_child("Email", &o.email)
        .leaf_child("Telephone", &o.telephone)
        .leaf_child("Fax", &o.fax)
        .leaf_child("Website", &o.website)
}

fn response_for(r: &ResponseFor) -> El {
    El::edxml("ResponseFor")
        .leaf_child("OrganId", &r.organ_id)
        .leaf_child("Code", &r.code)
        .leaf_child("DocumentId", &r.document_id)
        .opt("PromulgationDate", r.promulgation_date.map(format_date))
}

fn staff(s: &StaffInfo) -> El {
    El::edxml("StaffInfo")
        .leaf_child("Department", &s.department)
        .leaf_child("Staff", &s.staff)
        .leaf_child("Email", &s.email)
        .leaf_child("Mobile", &s.mobile)
}

fn message_header(h: &MessageHeader) -> El {
    let mut m = El::edxml("MessageHeader").child(organization("From", &h.from));
    for t in &h.to {
        m = m.child(organization("To", t));
    }
    m = m
        .leaf_child("DocumentId", &h.document_id)
        .child(
            El::edxml("Code")
                .leaf_child("CodeNumber", &h.code.code_number)
                .leaf_child("CodeNotation", &h.code.code_notation),
        )
        .child(
            El::edxml("PromulgationInfo")
                .leaf_child("Place", &h.promulgation_info.place)
                .opt(
                    "PromulgationDate",
                    h.promulgation_info.promulgation_date.map(format_date),
                ),
        )
        .child(
            El::edxml("DocumentType")
                .opt("Type", h.document_type.type_)
                .opt("TypeDetail", h.document_type.type_detail)
                .leaf_child("TypeName", &h.document_type.type_name),
        )
        .leaf_child("Subject", &h.subject)
        .leaf_child("Content", &h.content)
        .child(
            El::edxml("SignerInfo")
                .leaf_child("Competence", &h.signer_info.competence)
                .leaf_child("Position", &h.signer_info.position)
                .leaf_child("FullName", &h.signer_info.full_name),
        )
        .opt("DueDate", h.due_date.map(format_date));
    let o = &h.other_info;
    let mut appendixes = El::edxml("Appendixes");
    for a in &o.appendixes {
        appendixes = appendixes.leaf_child("Appendix", a);
    }
    m = m.child(
        El::edxml("OtherInfo")
            .opt("Priority", o.priority)
            .leaf_child("SphereOfPromulgation", &o.sphere_of_promulgation)
            .leaf_child("TyperNotation", &o.typer_notation)
            .opt("PromulgationAmount", o.promulgation_amount)
            .opt("PageAmount", o.page_amount)
            .opt("Direction", o.direction)
            .child(appendixes),
    );
    for r in &h.response_for {
        m = m.child(response_for(r));
    }
    let mut places = El::edxml("ToPlaces");
    for p in &h.to_places {
        places = places.leaf_child("Place", p);
    }
    m.leaf_child("SteeringType", &h.steering_type.to_string())
        .leaf_child("ApplicationType", &h.application_type)
        .child(places)
}

fn trace(t: &TraceHeaderList) -> El {
    let b = &t.business;
    let info = &b.business_document_info;
    let mut receivers = El::edxml("ReceiverList");
    for r in &info.receiver_list {
        receivers = receivers.child(
            El::edxml("Receiver")
                .leaf_child("OrganId", &r.organ_id)
                .opt("ReceiverType", r.receiver_type),
        );
    }
    let mut replacements = El::edxml("ReplacementInfoList");
    for r in &b.replacement_info_list {
        let mut ids = El::edxml("OrganIdList");
        for id in &r.organ_id_list {
            ids = ids.leaf_child("OrganId", id);
        }
        replacements = replacements.child(
            El::edxml("ReplacementInfo")
                .leaf_child("DocumentId", &r.document_id)
                .child(ids),
        );
    }
    let mut list = El::edxml("TraceHeaderList").child(
        El::edxml("Bussiness")
            .leaf_child("DocumentId", &b.document_id)
            .opt("BussinessDocType", b.business_doc_type)
            .leaf_child("BussinessDocReason", &b.business_doc_reason)
            .opt("Paper", b.paper)
            .child(staff(&b.staff_info))
            .child(
                El::edxml("BussinessDocumentInfo")
                    .leaf_child("DocumentInfo", &info.document_info)
                    .leaf_child("DocumentReceiver", &info.document_receiver)
                    .child(receivers),
            )
            .child(replacements),
    );
    list.attrs = t.attributes.clone();
    for h in &t.trace_headers {
        list = list.child(
            El::edxml("TraceHeader")
                .leaf_child("OrganId", &h.organ_id)
                .opt("Timestamp", h.timestamp.map(format_timestamp)),
        );
    }
    list
}

/// The signature tree: unprefixed, with `xmlns` where its namespace differs from the one in
/// scope (the edXML default namespace at first).
fn signature(s: &EmbeddedSignature) -> El {
    fn conv(e: &XmlElement, scope: &str, name: &str) -> El {
        let mut el = El::new(name);
        // Inside a signature an empty element is a value (`<KeyInfo/>`), never pruned.
        el.keep = true;
        if e.namespace != scope {
            el.attrs.push(("xmlns".into(), e.namespace.clone()));
        }
        el.attrs.extend(e.attributes.iter().cloned());
        el.text = e.text.clone();
        el.children = e
            .children
            .iter()
            .map(|c| conv(c, &e.namespace, &c.name))
            .collect();
        el
    }
    let name = match s.element {
        SignatureElement::Signature => "Signature",
        SignatureElement::DigitalSignature => "DigitalSignature",
    };
    conv(&s.tree, EDXML_NS, name)
}

fn reference(r: &Reference) -> El {
    let mut el = El::edxml("Reference")
        .leaf_child("ContentId", &r.content_id)
        .leaf_child("ContentType", &r.content_type)
        .leaf_child("Description", &r.description)
        .leaf_child("AttachmentName", &r.attachment_name);
    for (name, value) in [
        ("xlink:href", &r.xlink_href),
        ("xlink:role", &r.xlink_role),
        ("xlink:type", &r.xlink_type),
    ] {
        if !trim(value).is_empty() {
            if el.attrs.is_empty() {
                el.attrs.push(("xmlns:xlink".into(), XLINK_NS.into()));
            }
            el.attrs.push((name.into(), trim(value).to_owned()));
        }
    }
    el
}

struct Out<'w> {
    out: &'w mut dyn Write,
}

impl Out<'_> {
    fn raw(&mut self, s: &str) -> Result<(), Error> {
        self.out.write_all(s.as_bytes()).map_err(Error::Write)
    }

    fn escaped(&mut self, s: &str, attr: bool, element: &str) -> Result<(), Error> {
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' if attr => "&quot;",
                '\r' => "&#13;",
                '\n' if attr => "&#10;",
                '\t' if attr => "&#9;",
                '\t' | '\n' => continue,
                c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                    return Err(Error::malformed(element, Problem::InvalidCharacter));
                }
                _ => continue,
            };
            self.raw(&s[start..i])?;
            self.raw(rep)?;
            start = i + c.len_utf8();
        }
        self.raw(&s[start..])
    }

    fn el(&mut self, e: &El, depth: usize, path: &str) -> Result<(), Error> {
        if e.is_empty() {
            return Ok(());
        }
        let path = format!("{path}/{}", e.name.trim_start_matches(P));
        let indent = "  ".repeat(depth);
        self.raw(&indent)?;
        self.raw("<")?;
        self.raw(&e.name)?;
        for (k, v) in &e.attrs {
            self.raw(" ")?;
            self.raw(k)?;
            self.raw("=\"")?;
            self.escaped(v, true, &path)?;
            self.raw("\"")?;
        }
        if e.children.iter().all(El::is_empty) {
            if e.text.is_empty() {
                return self.raw("/>\r\n");
            }
            self.raw(">")?;
            self.escaped(&e.text, false, &path)?;
        } else {
            // Mixed content (only inside an embedded signature): the text first.
            self.raw(">")?;
            self.escaped(&e.text, false, &path)?;
            self.raw("\r\n")?;
            for c in &e.children {
                self.el(c, depth + 1, &path)?;
            }
            self.raw(&indent)?;
        }
        self.raw("</")?;
        self.raw(&e.name)?;
        self.raw(">\r\n")
    }
}

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n";

fn envelope(header: El, body: Option<El>) -> El {
    let mut env = El::edxml("edXMLEnvelope");
    env.attrs.push(("xmlns:edXML".into(), EDXML_NS.into()));
    let env = env.child(header);
    match body {
        Some(b) => env.child(b),
        None => env,
    }
}

fn open_root(out: &mut Out<'_>) -> Result<(), Error> {
    out.raw(PROLOG)?;
    out.raw("<edXML xmlns=\"")?;
    out.raw(EDXML_NS)?;
    out.raw("\">\r\n")
}

/// Writes a business document; attachment bytes come from `source` (index = position in
/// `edoc.attachments`).
pub fn write_edoc(
    edoc: &Edoc,
    source: &mut dyn AttachmentSource,
    out: &mut dyn Write,
) -> Result<(), Error> {
    write_inner(edoc, Some(source), out)
}

/// The edXML part of an Axis document: the package without attachment data.
pub(crate) fn header_to_vec(edoc: &Edoc) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_inner(edoc, None, &mut out)?;
    Ok(out)
}

fn write_inner(
    edoc: &Edoc,
    mut source: Option<&mut dyn AttachmentSource>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut header = El::edxml("edXMLHeader")
        .child(message_header(&edoc.header))
        .child(trace(&edoc.trace));
    if let Some(s) = &edoc.signature {
        header = header.child(signature(s));
    }
    let mut manifest = El::edxml("edXMLManifest");
    manifest.attrs.push(("version".into(), "1.0".into()));
    for r in &edoc.references {
        manifest = manifest.child(reference(r));
    }
    let body = El::edxml("edXMLBody").child(manifest);
    let mut o = Out { out };
    open_root(&mut o)?;
    o.el(&envelope(header, Some(body)), 1, "edXML")?;
    if !edoc.attachments.is_empty() {
        o.raw("  <AttachmentEncoded>\r\n")?;
        for (index, a) in edoc.attachments.iter().enumerate() {
            let path = format!("edXML/AttachmentEncoded/Attachment[{}]", index + 1);
            o.raw("    <Attachment>\r\n")?;
            for (name, value) in [
                ("ContentId", &a.content_id),
                ("AttachmentName", &a.attachment_name),
                ("Description", &a.description),
                ("ContentType", &a.content_type),
            ] {
                let mut e = El::new(name);
                e.text = trim(value).to_owned();
                o.el(&e, 3, &path)?;
            }
            if let Some(source) = source.as_deref_mut() {
                o.raw("      <edXML:ContentTransferEncoded xmlns:edXML=\"")?;
                o.raw(EDXML_NS)?;
                o.raw("\">")?;
                let size = data(a, index, source, o.out)?;
                if size != a.size {
                    return Err(Error::malformed(
                        format!("{path}/ContentTransferEncoded"),
                        Problem::SizeMismatch {
                            expected: a.size,
                            found: size,
                        },
                    ));
                }
                o.raw("</edXML:ContentTransferEncoded>\r\n")?;
            }
            let mut f = El::new("Format");
            f.text = trim(&a.format).to_owned();
            o.el(&f, 3, &path)?;
            o.raw("    </Attachment>\r\n")?;
        }
        o.raw("  </AttachmentEncoded>\r\n")?;
    }
    o.raw("</edXML>\r\n")
}

/// Counts bytes on their way through.
struct Count<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Count<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Streams one attachment: source → (zip) → base64 → out. Returns the file's size.
fn data(
    a: &Attachment,
    index: usize,
    source: &mut dyn AttachmentSource,
    out: &mut dyn Write,
) -> Result<u64, Error> {
    let io = |source| Error::Io { index, source };
    let b64 = EncoderWriter::new(out, &BASE64);
    if a.is_zipped() {
        let zip = ZipWriter::new(b64, &a.attachment_name).map_err(io)?;
        let mut count = Count { inner: zip, n: 0 };
        source.write_attachment(index, &mut count).map_err(io)?;
        let mut b64 = count.inner.finish().map_err(io)?;
        b64.finish().map_err(io)?;
        Ok(count.n)
    } else {
        let mut count = Count { inner: b64, n: 0 };
        source.write_attachment(index, &mut count).map_err(io)?;
        count.inner.finish().map_err(io)?;
        Ok(count.n)
    }
}

/// Writes a status package.
pub fn write_status(status: &Status, out: &mut dyn Write) -> Result<(), Error> {
    let m = El::edxml("MessageHeader")
        .child(organization("From", &status.from))
        .child(response_for(&status.response_for))
        .child(staff(&status.staff_info))
        .leaf_child("StatusCode", &status.status_code.to_string())
        .leaf_child("Description", &status.description)
        .opt("Timestamp", status.timestamp.map(format_timestamp));
    let header = El::edxml("edXMLHeader").child(m);
    let mut o = Out { out };
    open_root(&mut o)?;
    o.el(&envelope(header, None), 1, "edXML")?;
    o.raw("</edXML>\r\n")
}

/// [`write_edoc`] into a new buffer.
pub fn edoc_to_vec(edoc: &Edoc, source: &mut dyn AttachmentSource) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_edoc(edoc, source, &mut out)?;
    Ok(out)
}

/// [`write_status`] into a new buffer.
pub fn status_to_vec(status: &Status) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    write_status(status, &mut out)?;
    Ok(out)
}
