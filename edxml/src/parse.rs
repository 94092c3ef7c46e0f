//! From the bounded tree to typed values, element by element; then the attachment data,
//! decoded into the caller's sink.
//!
//! Tolerance (§1.1, §9.1): children are matched by local name in any order; an element may be
//! in the edXML namespace (prefixed or default) or in none; `Bussiness*` and `Business*` are
//! both read; `Signature` may be in the XML-DSig namespace; unknown elements are skipped and
//! listed in [`Parsed::ignored`]. Strictness: an element that may appear once appears once,
//! numbers and dates must read, and the wild cases of §9.1 are refused with their own error.

use axis_signer::StatusCode;

use crate::datetime;
use crate::decode::{self, AttachmentSink, Output, Unzip};
use crate::error::{Error, Problem};
use crate::limits::Limits;
use crate::model::*;
use crate::xml::{self, Node};

/// A parsed package and what was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The package.
    pub package: Package,
    /// Paths of unknown elements that were skipped (e.g. `…/MessageHeader/ResponseForTask`).
    pub ignored: Vec<String>,
}

/// Parses an edXML package (document or status) with the default [`Limits`]; attachment bytes
/// go to `sink`.
///
/// The header is read and checked in full before any attachment byte reaches the sink.
pub fn parse(input: &[u8], sink: &mut dyn AttachmentSink) -> Result<Parsed, Error> {
    parse_with(input, &Limits::default(), sink)
}

/// [`parse`] with explicit budgets.
pub fn parse_with(
    input: &[u8],
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<Parsed, Error> {
    let root = xml::read_tree(input, limits)?;
    let mut cx = Cx {
        ignored: Vec::new(),
        limits,
        header_only: false,
    };
    let (package, data) = cx.root(&root)?;
    if let Package::Edoc(mut edoc) = package {
        decode_all(&mut edoc.attachments, &data, limits, sink)?;
        return Ok(Parsed {
            package: Package::Edoc(edoc),
            ignored: cx.ignored,
        });
    }
    Ok(Parsed {
        package,
        ignored: cx.ignored,
    })
}

/// The raw data of each attachment with its element path.
type Data<'a> = Vec<(String, Vec<&'a [u8]>)>;

fn decode_all(
    attachments: &mut [Attachment],
    data: &Data<'_>,
    limits: &Limits,
    sink: &mut dyn AttachmentSink,
) -> Result<(), Error> {
    let mut total = 0u64;
    for (index, (attachment, (path, segments))) in attachments.iter_mut().zip(data).enumerate() {
        sink.start(index, attachment)
            .map_err(|source| Error::Io { index, source })?;
        let mut out = Output {
            sink: &mut *sink,
            index,
            path,
            digest: ring::digest::Context::new(&ring::digest::SHA256),
            size: 0,
            max_size: limits.max_attachment_size,
            before: total,
            max_total: limits.max_total_attachment_size,
        };
        if attachment.is_zipped() {
            let mut unzip = Unzip::new(&mut out, limits.max_zip_ratio, limits.zip_ratio_floor);
            decode::decode_base64(segments, &mut unzip, path)?;
        } else {
            decode::decode_base64(segments, &mut out, path)?;
        }
        attachment.size = out.size;
        attachment
            .sha256
            .copy_from_slice(out.digest.finish().as_ref());
        total += attachment.size;
        sink.end(index, attachment)
            .map_err(|source| Error::Io { index, source })?;
    }
    Ok(())
}

fn child_path(path: &str, n: &Node<'_>) -> String {
    format!("{path}/{}", n.name)
}

fn is_edxml(n: &Node<'_>) -> bool {
    n.namespace == EDXML_NS || n.namespace.is_empty()
}

/// Tracks elements that may appear once.
#[derive(Default)]
struct Once(Vec<String>);

impl Once {
    fn check(&mut self, n: &Node<'_>, path: &str) -> Result<(), Error> {
        if self.0.contains(&n.name) {
            return Err(Error::malformed(child_path(path, n), Problem::Duplicate));
        }
        self.0.push(n.name.clone());
        Ok(())
    }
}

struct Cx<'l> {
    ignored: Vec<String>,
    limits: &'l Limits,
    /// Reading the edXML part of an Axis document: attachments are described, not carried.
    header_only: bool,
}

/// Reads the edXML part carried inside an Axis document (attachments described without data;
/// sizes and digests are left zero for the caller to fill from the manifest).
pub(crate) fn parse_header(input: &[u8], limits: &Limits) -> Result<Edoc, Error> {
    let root = xml::read_tree(input, limits)?;
    let mut cx = Cx {
        ignored: Vec::new(),
        limits,
        header_only: true,
    };
    match cx.root(&root)?.0 {
        Package::Edoc(e) => Ok(e),
        Package::Status(_) => Err(Error::mapping(
            "edXML part",
            "a status package where a document header was expected",
        )),
    }
}

/// `Bussiness…` or `Business…` → the name after the prefix.
fn business_name(name: &str) -> Option<&str> {
    name.strip_prefix("Bussiness")
        .or_else(|| name.strip_prefix("Business"))
}

fn leaf(n: &Node<'_>, path: &str) -> Result<String, Error> {
    if !n.children.is_empty() {
        return Err(Error::malformed(
            child_path(path, n),
            Problem::UnexpectedContent,
        ));
    }
    Ok(trim(&n.text).to_owned())
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

fn int(n: &Node<'_>, path: &str) -> Result<Option<u32>, Error> {
    let s = leaf(n, path)?;
    if s.is_empty() {
        return Ok(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::malformed(child_path(path, n), Problem::NotInteger));
    }
    s.parse()
        .map(Some)
        .map_err(|_| Error::malformed(child_path(path, n), Problem::NotInteger))
}

fn date(n: &Node<'_>, path: &str) -> Result<Option<time::Date>, Error> {
    let s = leaf(n, path)?;
    if s.is_empty() {
        return Ok(None);
    }
    datetime::parse_date(&s)
        .map(Some)
        .ok_or_else(|| Error::malformed(child_path(path, n), Problem::NotDate))
}

fn timestamp(n: &Node<'_>, path: &str) -> Result<Option<time::PrimitiveDateTime>, Error> {
    let s = leaf(n, path)?;
    if s.is_empty() {
        return Ok(None);
    }
    datetime::parse_timestamp(&s)
        .map(Some)
        .ok_or_else(|| Error::malformed(child_path(path, n), Problem::NotTimestamp))
}

fn boolean(n: &Node<'_>, path: &str) -> Result<Option<bool>, Error> {
    match leaf(n, path)?.as_str() {
        "" => Ok(None),
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(Error::malformed(child_path(path, n), Problem::NotBoolean)),
    }
}

impl Cx<'_> {
    fn ignore(&mut self, n: &Node<'_>, path: &str) {
        if self.ignored.len() < 1000 {
            self.ignored.push(child_path(path, n));
        }
    }

    fn root<'a>(&mut self, root: &Node<'a>) -> Result<(Package, Data<'a>), Error> {
        let path = "edXML";
        let mut envelope = None;
        // `AttachmentEncoded` and the path of its parent (after the envelope, or inside it).
        let mut encoded: Option<(&Node<'a>, &str)> = None;
        let mut once = Once::default();
        for c in &root.children {
            match c.name.as_str() {
                "edXMLEnvelope" => {
                    once.check(c, path)?;
                    if c.namespace != EDXML_NS {
                        return Err(Error::malformed(
                            child_path(path, c),
                            Problem::WrongNamespace,
                        ));
                    }
                    envelope = Some(c);
                }
                "AttachmentEncoded" if is_edxml(c) => {
                    if encoded.is_some() {
                        return Err(Error::malformed(child_path(path, c), Problem::Duplicate));
                    }
                    encoded = Some((c, path));
                }
                "edXMLAttachments" | "AttachmentData" => {
                    return Err(Error::malformed(
                        child_path(path, c),
                        Problem::NonStandardAttachments,
                    ));
                }
                _ => self.ignore(c, path),
            }
        }
        let envelope = envelope
            .ok_or_else(|| Error::malformed(format!("{path}/edXMLEnvelope"), Problem::Missing))?;
        let path = "edXML/edXMLEnvelope";
        let (mut header, mut body) = (None, None);
        let mut once = Once::default();
        for c in envelope.children.iter().filter(|c| is_edxml(c)) {
            match c.name.as_str() {
                "edXMLHeader" => {
                    once.check(c, path)?;
                    header = Some(c);
                }
                "edXMLBody" => {
                    once.check(c, path)?;
                    body = Some(c);
                }
                "AttachmentEncoded" => {
                    if encoded.is_some() {
                        return Err(Error::malformed(child_path(path, c), Problem::Duplicate));
                    }
                    encoded = Some((c, path));
                }
                "edXMLAttachments" => {
                    return Err(Error::malformed(
                        child_path(path, c),
                        Problem::NonStandardAttachments,
                    ));
                }
                _ => self.ignore(c, path),
            }
        }
        let header = header
            .ok_or_else(|| Error::malformed(format!("{path}/edXMLHeader"), Problem::Missing))?;
        let hpath = "edXML/edXMLEnvelope/edXMLHeader";
        let (mut message, mut trace, mut signature) = (None, None, None);
        let mut once = Once::default();
        for c in &header.children {
            match c.name.as_str() {
                "Signature" | "DigitalSignature" if is_edxml(c) || c.namespace == XMLDSIG_NS => {
                    if signature.is_some() {
                        return Err(Error::malformed(child_path(hpath, c), Problem::Duplicate));
                    }
                    signature = Some(c);
                }
                "MessageHeader" if is_edxml(c) => {
                    once.check(c, hpath)?;
                    message = Some(c);
                }
                "TraceHeaderList" if is_edxml(c) => {
                    once.check(c, hpath)?;
                    trace = Some(c);
                }
                _ => self.ignore(c, hpath),
            }
        }
        let message = message
            .ok_or_else(|| Error::malformed(format!("{hpath}/MessageHeader"), Problem::Missing))?;
        let mpath = "edXML/edXMLEnvelope/edXMLHeader/MessageHeader";
        if message
            .children
            .iter()
            .any(|c| c.name == "StatusCode" && is_edxml(c))
        {
            return Ok((Package::Status(self.status(message, mpath)?), Vec::new()));
        }
        let mut edoc = Edoc {
            header: self.message_header(message, mpath)?,
            ..Edoc::default()
        };
        if let Some(t) = trace {
            edoc.trace = self.trace(t, hpath)?;
        }
        if let Some(s) = signature {
            edoc.signature = embedded_signature(s);
        }
        if let Some(body) = body {
            edoc.references = self.body(body, path)?;
        }
        let mut data = Vec::new();
        if let Some((enc, parent)) = encoded {
            edoc.attachments = self.attachments(enc, parent, &mut data)?;
        }
        Ok((Package::Edoc(edoc), data))
    }

    fn organization(&mut self, n: &Node<'_>, parent: &str) -> Result<Organization, Error> {
        let path = child_path(parent, n);
        let mut o = Organization::default();
        let mut once = Once::default();
        if !trim(&n.text).is_empty() {
            return Err(Error::malformed(path, Problem::UnexpectedContent));
        }
        for c in n.children.iter() {
            if c.name == "From" || c.name == "To" {
                return Err(Error::malformed(child_path(&path, c), Problem::NestedFrom));
            }
            if !is_edxml(c) {
                self.ignore(c, &path);
                continue;
            }
            let field = match c.name.as_str() {
                "OrganId" => &mut o.organ_id,
                "OrganizationInCharge" => &mut o.organization_in_charge,
                "OrganName" => &mut o.organ_name,
                "OrganAdd" => &mut o.organ_add,
                "Email" => &mut o.email,
                "Telephone" => &mut o.telephone,
                "Fax" => &mut o.fax,
                "Website" => &mut o.website,
                _ => {
                    self.ignore(c, &path);
                    continue;
                }
            };
            once.check(c, &path)?;
            *field = leaf(c, &path)?;
        }
        Ok(o)
    }

    fn response_for(&mut self, n: &Node<'_>, parent: &str) -> Result<ResponseFor, Error> {
        let path = child_path(parent, n);
        let mut r = ResponseFor::default();
        let mut once = Once::default();
        for c in n.children.iter() {
            if !is_edxml(c) {
                self.ignore(c, &path);
                continue;
            }
            match c.name.as_str() {
                "OrganId" => r.organ_id = leaf(c, &path)?,
                "Code" => r.code = leaf(c, &path)?,
                "DocumentId" => r.document_id = leaf(c, &path)?,
                "PromulgationDate" => r.promulgation_date = date(c, &path)?,
                _ => {
                    self.ignore(c, &path);
                    continue;
                }
            }
            once.check(c, &path)?;
        }
        Ok(r)
    }

    fn staff(&mut self, n: &Node<'_>, parent: &str) -> Result<StaffInfo, Error> {
        let path = child_path(parent, n);
        let mut s = StaffInfo::default();
        let mut once = Once::default();
        for c in n.children.iter() {
            if !is_edxml(c) {
                self.ignore(c, &path);
                continue;
            }
            let field = match c.name.as_str() {
                "Department" => &mut s.department,
                "Staff" => &mut s.staff,
                "Email" => &mut s.email,
                "Mobile" => &mut s.mobile,
                _ => {
                    self.ignore(c, &path);
                    continue;
                }
            };
            once.check(c, &path)?;
            *field = leaf(c, &path)?;
        }
        Ok(s)
    }

    fn status(&mut self, n: &Node<'_>, path: &str) -> Result<Status, Error> {
        let mut once = Once::default();
        let (mut from, mut response_for, mut staff, mut code) = (None, None, None, None);
        let (mut description, mut ts) = (String::new(), None);
        for c in n.children.iter() {
            if !is_edxml(c) {
                self.ignore(c, path);
                continue;
            }
            match c.name.as_str() {
                "From" => from = Some(self.organization(c, path)?),
                "ResponseFor" => response_for = Some(self.response_for(c, path)?),
                "StaffInfo" => staff = Some(self.staff(c, path)?),
                "StatusCode" => {
                    let s = leaf(c, path)?;
                    let value = (!s.is_empty()
                        && s.len() <= 2
                        && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<u64>().ok())
                    .flatten()
                    .ok_or_else(|| Error::malformed(child_path(path, c), Problem::NotInteger))?;
                    code =
                        Some(StatusCode::from_code(value).map_err(|_| {
                            Error::malformed(child_path(path, c), Problem::OutOfRange)
                        })?);
                }
                "Description" => description = leaf(c, path)?,
                "Timestamp" => ts = timestamp(c, path)?,
                _ => {
                    self.ignore(c, path);
                    continue;
                }
            }
            once.check(c, path)?;
        }
        let missing = |name: &str| Error::malformed(format!("{path}/{name}"), Problem::Missing);
        Ok(Status {
            from: from.ok_or_else(|| missing("From"))?,
            response_for: response_for.ok_or_else(|| missing("ResponseFor"))?,
            staff_info: staff.unwrap_or_default(),
            status_code: code.ok_or_else(|| missing("StatusCode"))?,
            description,
            timestamp: ts,
        })
    }

    fn message_header(&mut self, n: &Node<'_>, path: &str) -> Result<MessageHeader, Error> {
        let mut h = MessageHeader::default();
        let mut once = Once::default();
        let mut from = None;
        for c in n.children.iter() {
            if !is_edxml(c) {
                self.ignore(c, path);
                continue;
            }
            match c.name.as_str() {
                // An empty element is an absent one (VNPT's writer leaves them out).
                "To" => {
                    let to = self.organization(c, path)?;
                    if to != Organization::default() {
                        h.to.push(to);
                    }
                    continue;
                }
                "ResponseFor" => {
                    let r = self.response_for(c, path)?;
                    if r != ResponseFor::default() {
                        h.response_for.push(r);
                    }
                    continue;
                }
                "From" => from = Some(self.organization(c, path)?),
                "DocumentId" => h.document_id = leaf(c, path)?,
                "Code" => {
                    let p = child_path(path, c);
                    let mut once = Once::default();
                    for cc in c.children.iter() {
                        match cc.name.as_str() {
                            "CodeNumber" => h.code.code_number = leaf(cc, &p)?,
                            "CodeNotation" => h.code.code_notation = leaf(cc, &p)?,
                            _ => {
                                self.ignore(cc, &p);
                                continue;
                            }
                        }
                        once.check(cc, &p)?;
                    }
                }
                "PromulgationInfo" => {
                    let p = child_path(path, c);
                    let mut once = Once::default();
                    for cc in c.children.iter() {
                        match cc.name.as_str() {
                            "Place" => h.promulgation_info.place = leaf(cc, &p)?,
                            "PromulgationDate" => {
                                h.promulgation_info.promulgation_date = date(cc, &p)?
                            }
                            _ => {
                                self.ignore(cc, &p);
                                continue;
                            }
                        }
                        once.check(cc, &p)?;
                    }
                }
                "DocumentType" => {
                    let p = child_path(path, c);
                    let mut once = Once::default();
                    for cc in c.children.iter() {
                        match cc.name.as_str() {
                            "Type" => h.document_type.type_ = int(cc, &p)?,
                            "TypeDetail" => h.document_type.type_detail = int(cc, &p)?,
                            "TypeName" => h.document_type.type_name = leaf(cc, &p)?,
                            _ => {
                                self.ignore(cc, &p);
                                continue;
                            }
                        }
                        once.check(cc, &p)?;
                    }
                }
                "Subject" => h.subject = leaf(c, path)?,
                "Content" => h.content = leaf(c, path)?,
                "SignerInfo" => {
                    let p = child_path(path, c);
                    let mut once = Once::default();
                    for cc in c.children.iter() {
                        match cc.name.as_str() {
                            "Competence" => h.signer_info.competence = leaf(cc, &p)?,
                            "Position" => h.signer_info.position = leaf(cc, &p)?,
                            "FullName" => h.signer_info.full_name = leaf(cc, &p)?,
                            _ => {
                                self.ignore(cc, &p);
                                continue;
                            }
                        }
                        once.check(cc, &p)?;
                    }
                }
                "DueDate" => h.due_date = date(c, path)?,
                "OtherInfo" => h.other_info = self.other_info(c, path)?,
                "SteeringType" => h.steering_type = int(c, path)?.unwrap_or(0),
                "ApplicationType" => h.application_type = leaf(c, path)?,
                "ToPlaces" => {
                    let p = child_path(path, c);
                    for cc in c.children.iter() {
                        if cc.name == "Place" {
                            let v = leaf(cc, &p)?;
                            if !v.is_empty() {
                                h.to_places.push(v);
                            }
                        } else {
                            self.ignore(cc, &p);
                        }
                    }
                }
                _ => {
                    self.ignore(c, path);
                    continue;
                }
            }
            once.check(c, path)?;
        }
        h.from = from.ok_or_else(|| Error::malformed(format!("{path}/From"), Problem::Missing))?;
        Ok(h)
    }

    fn other_info(&mut self, n: &Node<'_>, parent: &str) -> Result<OtherInfo, Error> {
        let p = child_path(parent, n);
        let mut o = OtherInfo::default();
        let mut once = Once::default();
        for c in n.children.iter() {
            match c.name.as_str() {
                "Priority" => o.priority = int(c, &p)?,
                "SphereOfPromulgation" => o.sphere_of_promulgation = leaf(c, &p)?,
                "TyperNotation" => o.typer_notation = leaf(c, &p)?,
                "PromulgationAmount" => o.promulgation_amount = int(c, &p)?,
                "PageAmount" => o.page_amount = int(c, &p)?,
                "Direction" => o.direction = boolean(c, &p)?,
                "Appendixes" => {
                    let ap = child_path(&p, c);
                    for a in c.children.iter() {
                        if a.name == "Appendix" {
                            let v = leaf(a, &ap)?;
                            if !v.is_empty() {
                                o.appendixes.push(v);
                            }
                        } else {
                            self.ignore(a, &ap);
                        }
                    }
                }
                _ => {
                    self.ignore(c, &p);
                    continue;
                }
            }
            once.check(c, &p)?;
        }
        Ok(o)
    }

    fn trace(&mut self, n: &Node<'_>, parent: &str) -> Result<TraceHeaderList, Error> {
        let p = child_path(parent, n);
        let mut t = TraceHeaderList {
            attributes: n
                .attrs
                .iter()
                .map(|a| (a.local.clone(), trim(&a.value).to_owned()))
                .collect(),
            ..TraceHeaderList::default()
        };
        let mut seen_business = false;
        for c in n.children.iter() {
            if !is_edxml(c) {
                self.ignore(c, &p);
                continue;
            }
            match c.name.as_str() {
                "TraceHeader" => {
                    let tp = child_path(&p, c);
                    let mut th = TraceHeader::default();
                    let mut once = Once::default();
                    for cc in c.children.iter() {
                        match cc.name.as_str() {
                            "OrganId" => th.organ_id = leaf(cc, &tp)?,
                            "Timestamp" => th.timestamp = timestamp(cc, &tp)?,
                            _ => {
                                self.ignore(cc, &tp);
                                continue;
                            }
                        }
                        once.check(cc, &tp)?;
                    }
                    if th != TraceHeader::default() {
                        t.trace_headers.push(th);
                    }
                }
                "Bussiness" | "Business" => {
                    if seen_business {
                        return Err(Error::malformed(child_path(&p, c), Problem::Duplicate));
                    }
                    seen_business = true;
                    t.business = self.business(c, &p)?;
                }
                _ => self.ignore(c, &p),
            }
        }
        Ok(t)
    }

    fn business(&mut self, n: &Node<'_>, parent: &str) -> Result<Business, Error> {
        let p = child_path(parent, n);
        let mut b = Business::default();
        let mut once = Once::default();
        for c in n.children.iter() {
            // The `Bussiness` / `Business` prefix is optional on the children's names.
            let name = business_name(&c.name).unwrap_or(&c.name);
            match name {
                "DocumentId" => b.document_id = leaf(c, &p)?,
                "DocType" => b.business_doc_type = int(c, &p)?,
                "DocReason" => b.business_doc_reason = leaf(c, &p)?,
                "Paper" => b.paper = int(c, &p)?,
                "StaffInfo" => b.staff_info = self.staff(c, &p)?,
                "DocumentInfo" => {
                    let ip = child_path(&p, c);
                    let info = &mut b.business_document_info;
                    let mut once = Once::default();
                    for cc in c.children.iter() {
                        match cc.name.as_str() {
                            "DocumentInfo" => info.document_info = leaf(cc, &ip)?,
                            "DocumentReceiver" => info.document_receiver = leaf(cc, &ip)?,
                            "ReceiverList" => {
                                let lp = child_path(&ip, cc);
                                for r in cc.children.iter() {
                                    if r.name != "Receiver" {
                                        self.ignore(r, &lp);
                                        continue;
                                    }
                                    let rp = child_path(&lp, r);
                                    let mut rec = Receiver::default();
                                    let mut once = Once::default();
                                    for f in r.children.iter() {
                                        match f.name.as_str() {
                                            "OrganId" => rec.organ_id = leaf(f, &rp)?,
                                            "ReceiverType" => rec.receiver_type = int(f, &rp)?,
                                            _ => {
                                                self.ignore(f, &rp);
                                                continue;
                                            }
                                        }
                                        once.check(f, &rp)?;
                                    }
                                    if rec != Receiver::default() {
                                        info.receiver_list.push(rec);
                                    }
                                }
                            }
                            _ => {
                                self.ignore(cc, &ip);
                                continue;
                            }
                        }
                        once.check(cc, &ip)?;
                    }
                }
                "ReplacementInfoList" => {
                    let lp = child_path(&p, c);
                    for r in c.children.iter() {
                        if r.name != "ReplacementInfo" {
                            self.ignore(r, &lp);
                            continue;
                        }
                        let rp = child_path(&lp, r);
                        let mut info = ReplacementInfo::default();
                        let mut once = Once::default();
                        for f in r.children.iter() {
                            match f.name.as_str() {
                                "DocumentId" => info.document_id = leaf(f, &rp)?,
                                "OrganIdList" => {
                                    let op = child_path(&rp, f);
                                    for o in f.children.iter() {
                                        if o.name == "OrganId" {
                                            let v = leaf(o, &op)?;
                                            if !v.is_empty() {
                                                info.organ_id_list.push(v);
                                            }
                                        } else {
                                            self.ignore(o, &op);
                                        }
                                    }
                                }
                                _ => {
                                    self.ignore(f, &rp);
                                    continue;
                                }
                            }
                            once.check(f, &rp)?;
                        }
                        if info != ReplacementInfo::default() {
                            b.replacement_info_list.push(info);
                        }
                    }
                }
                _ => {
                    self.ignore(c, &p);
                    continue;
                }
            }
            once.check(c, &p)?;
        }
        Ok(b)
    }

    fn body(&mut self, n: &Node<'_>, parent: &str) -> Result<Vec<Reference>, Error> {
        let p = child_path(parent, n);
        let mut refs = Vec::new();
        let mut seen_manifest = false;
        for m in n.children.iter() {
            if m.name != "edXMLManifest" || !is_edxml(m) {
                self.ignore(m, &p);
                continue;
            }
            if seen_manifest {
                return Err(Error::malformed(child_path(&p, m), Problem::Duplicate));
            }
            seen_manifest = true;
            let mp = child_path(&p, m);
            for r in m.children.iter() {
                if r.name != "Reference" || !is_edxml(r) {
                    self.ignore(r, &mp);
                    continue;
                }
                if refs.len() >= self.limits.max_attachments {
                    return Err(Error::Limit {
                        limit: crate::error::Limit::Attachments,
                        element: child_path(&mp, r),
                        found: refs.len() as u64 + 1,
                        max: self.limits.max_attachments as u64,
                    });
                }
                let rp = child_path(&mp, r);
                let mut re = Reference::default();
                for a in &r.attrs {
                    let xlink = a.namespace == XLINK_NS;
                    match (xlink, a.local.as_str()) {
                        (true, "href") => re.xlink_href = trim(&a.value).to_owned(),
                        (true, "role") => re.xlink_role = trim(&a.value).to_owned(),
                        (true, "type") => re.xlink_type = trim(&a.value).to_owned(),
                        _ => {}
                    }
                }
                let mut once = Once::default();
                for c in r.children.iter() {
                    match c.name.as_str() {
                        "ContentId" => re.content_id = leaf(c, &rp)?,
                        "ContentType" => re.content_type = leaf(c, &rp)?,
                        "Description" => re.description = leaf(c, &rp)?,
                        "AttachmentName" => re.attachment_name = leaf(c, &rp)?,
                        _ => {
                            self.ignore(c, &rp);
                            continue;
                        }
                    }
                    once.check(c, &rp)?;
                }
                if re != Reference::default() {
                    refs.push(re);
                }
            }
        }
        Ok(refs)
    }

    fn attachments<'a>(
        &mut self,
        n: &Node<'a>,
        parent: &str,
        data: &mut Data<'a>,
    ) -> Result<Vec<Attachment>, Error> {
        let p = child_path(parent, n);
        let mut out: Vec<Attachment> = Vec::new();
        for a in n.children.iter() {
            if a.name == "AttachmentData" {
                return Err(Error::malformed(
                    child_path(&p, a),
                    Problem::NonStandardAttachments,
                ));
            }
            if a.name != "Attachment" || !is_edxml(a) {
                self.ignore(a, &p);
                continue;
            }
            let ap = format!("{p}/Attachment[{}]", out.len() + 1);
            if out.len() >= self.limits.max_attachments {
                return Err(Error::Limit {
                    limit: crate::error::Limit::Attachments,
                    element: ap,
                    found: out.len() as u64 + 1,
                    max: self.limits.max_attachments as u64,
                });
            }
            let mut at = Attachment::default();
            let mut once = Once::default();
            let mut segments = None;
            for c in a.children.iter() {
                match c.name.as_str() {
                    "ContentId" => at.content_id = leaf(c, &ap)?,
                    "AttachmentName" => at.attachment_name = leaf(c, &ap)?,
                    "Description" => at.description = leaf(c, &ap)?,
                    "ContentType" => at.content_type = leaf(c, &ap)?,
                    "Format" => at.format = leaf(c, &ap)?,
                    "ContentTransferEncoded" => {
                        if !c.children.is_empty() {
                            return Err(Error::malformed(
                                child_path(&ap, c),
                                Problem::UnexpectedContent,
                            ));
                        }
                        segments = Some(c.data.clone());
                    }
                    _ => {
                        self.ignore(c, &ap);
                        continue;
                    }
                }
                once.check(c, &ap)?;
            }
            let segments = match (segments, self.header_only) {
                (None, true) => Vec::new(),
                (Some(_), true) => {
                    return Err(Error::malformed(
                        format!("{ap}/ContentTransferEncoded"),
                        Problem::UnexpectedContent,
                    ));
                }
                (Some(s), false) => s,
                (None, false) => {
                    return Err(Error::malformed(
                        format!("{ap}/ContentTransferEncoded"),
                        Problem::Missing,
                    ));
                }
            };
            if !at.bare_id().is_empty() && out.iter().any(|o| o.bare_id() == at.bare_id()) {
                return Err(Error::malformed(
                    format!("{ap}/ContentId"),
                    Problem::DuplicateContentId,
                ));
            }
            data.push((format!("{ap}/ContentTransferEncoded"), segments));
            out.push(at);
        }
        Ok(out)
    }
}

fn embedded_signature(n: &Node<'_>) -> Option<EmbeddedSignature> {
    let tree = to_element(n);
    if tree.children.is_empty() && tree.text.is_empty() && tree.attributes.is_empty() {
        return None;
    }
    Some(EmbeddedSignature {
        element: if n.name == "DigitalSignature" {
            SignatureElement::DigitalSignature
        } else {
            SignatureElement::Signature
        },
        tree,
    })
}

fn to_element(n: &Node<'_>) -> XmlElement {
    XmlElement {
        namespace: n.namespace.clone(),
        name: n.name.clone(),
        attributes: n
            .attrs
            .iter()
            .filter(|a| a.namespace.is_empty() || a.qname.starts_with("xml:"))
            .map(|a| (a.qname.clone(), a.value.clone()))
            .collect(),
        text: trim(&n.text).to_owned(),
        children: n.children.iter().map(to_element).collect(),
    }
}
