//! edXML ↔ Axis, losslessly.
//!
//! **Documents.** [`edoc_to_axis`] fills a signer [`Manifest`] from the edXML fields it has a
//! home for, and makes the **edXML part**: the package itself, written canonically by this
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

use std::collections::BTreeMap;

use axis_pki::AgencyId;
use axis_signer::{self as signer, DocumentId, Manifest, StatusCode};
use time::{OffsetDateTime, UtcOffset};

use crate::datetime::{format_date, format_timestamp};
use crate::error::Error;
use crate::limits::Limits;
use crate::model::*;
use crate::parse::parse_header;
use crate::write::header_to_vec;

/// The name of the edXML part in an Axis manifest.
pub const EDXML_PART_NAME: &str = "edxml-header.edxml";
/// The content type of the edXML part.
pub const EDXML_PART_CONTENT_TYPE: &str = "application/vnd.axis.edxml-header+xml";
/// Content type given in the manifest to a file that travels zipped in edXML (the manifest
/// describes the file, unzipped; edXML's `application/zip` is in the part).
pub const UNZIPPED_CONTENT_TYPE: &str = "application/octet-stream";
/// edXML dates and timestamps are Vietnam local time (ICT, UTC+7, no daylight saving).
pub const VIETNAM_OFFSET: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// An edoc as Axis carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisDocument {
    /// The manifest to sign: attachment 0 is the edXML part, 1.. are the edXML attachments.
    pub manifest: Manifest,
    /// The bytes of attachment 0.
    pub edxml_part: Vec<u8>,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

fn agency(field: &'static str, s: &str) -> Result<AgencyId, Error> {
    AgencyId::parse(s).map_err(|source| Error::AgencyId { field, source })
}

fn signer_err(field: &'static str) -> impl Fn(signer::Error) -> Error {
    move |source| Error::Signer { field, source }
}

fn organization(field: &'static str, o: &Organization) -> Result<signer::Organization, Error> {
    Ok(signer::Organization {
        organ_id: agency(field, &o.organ_id)?,
        organization_in_charge: o.organization_in_charge.clone(),
        organ_name: o.organ_name.clone(),
        organ_add: o.organ_add.clone(),
        email: o.email.clone(),
        telephone: o.telephone.clone(),
        fax: o.fax.clone(),
        website: o.website.clone(),
    })
}

fn document_id(field: &'static str, s: &str) -> Result<DocumentId, Error> {
    DocumentId::parse(s).map_err(signer_err(field))
}

fn response_document(r: &ResponseFor) -> Result<DocumentId, Error> {
    if !r.document_id.is_empty() {
        return document_id("ResponseFor/DocumentId", &r.document_id);
    }
    let date = r.promulgation_date.ok_or_else(|| {
        Error::mapping(
            "ResponseFor",
            "neither DocumentId nor OrganId, Code and PromulgationDate",
        )
    })?;
    DocumentId::new(
        agency("ResponseFor/OrganId", &r.organ_id)?,
        date,
        signer::Code::parse(&r.code).map_err(signer_err("ResponseFor/Code"))?,
    )
    .map_err(signer_err("ResponseFor"))
}

fn small<T: TryFrom<u32>>(field: &'static str, v: Option<u32>) -> Result<T, Error> {
    T::try_from(v.unwrap_or(0)).map_err(|_| Error::mapping(field, "value out of range"))
}

/// The manifest an edoc describes; `part` is the edXML part's (size, SHA-256).
fn derive_manifest(e: &Edoc, part: (u64, [u8; 32])) -> Result<Manifest, Error> {
    let h = &e.header;
    let b = &e.trace.business;
    let referenced = |fallback: Option<&str>| -> Result<DocumentId, Error> {
        match (b.document_id.as_str(), fallback) {
            ("", Some(f)) if !f.is_empty() => document_id("Bussiness/DocumentId", f),
            ("", _) => Err(Error::mapping(
                "Bussiness/DocumentId",
                "the document this one revokes, updates or replaces is not named",
            )),
            (id, _) => document_id("Bussiness/DocumentId", id),
        }
    };
    let reason = b.business_doc_reason.clone();
    let business = match b.business_doc_type.unwrap_or(0) {
        0 => signer::Business::New,
        1 => signer::Business::Recall {
            document: referenced(h.response_for.first().map(|r| r.document_id.as_str()))?,
            reason,
        },
        2 => signer::Business::Update {
            document: referenced(None)?,
            reason,
        },
        3 => signer::Business::Replace {
            document: referenced(
                b.replacement_info_list
                    .first()
                    .map(|r| r.document_id.as_str()),
            )?,
            reason,
        },
        _ => {
            return Err(Error::mapping(
                "Bussiness/BussinessDocType",
                "not 0, 1, 2 or 3",
            ));
        }
    };
    let mut attachments = vec![signer::Attachment {
        name: EDXML_PART_NAME.into(),
        content_type: EDXML_PART_CONTENT_TYPE.into(),
        description: String::new(),
        size: part.0,
        sha256: part.1,
    }];
    for a in &e.attachments {
        attachments.push(signer::Attachment {
            name: if a.attachment_name.is_empty() {
                return Err(Error::mapping("Attachment/AttachmentName", "empty"));
            } else {
                a.attachment_name.clone()
            },
            content_type: if a.is_zipped() || a.content_type.is_empty() {
                UNZIPPED_CONTENT_TYPE.into()
            } else {
                a.content_type.clone()
            },
            description: a.description.clone(),
            size: a.size,
            sha256: a.sha256,
        });
    }
    let manifest = Manifest {
        from: organization("From/OrganId", &h.from)?,
        to: h
            .to
            .iter()
            .map(|t| organization("To/OrganId", t))
            .collect::<Result<_, _>>()?,
        code: signer::Code::new(&h.code.code_number, &h.code.code_notation)
            .map_err(signer_err("Code"))?,
        promulgation: signer::Promulgation {
            place: h.promulgation_info.place.clone(),
            date: h
                .promulgation_info
                .promulgation_date
                .ok_or_else(|| Error::mapping("PromulgationInfo/PromulgationDate", "missing"))?,
        },
        document_type: signer::DocumentType {
            kind: small("DocumentType/Type", h.document_type.type_)?,
            detail: small("DocumentType/TypeDetail", h.document_type.type_detail)?,
            name: h.document_type.type_name.clone(),
        },
        subject: h.subject.clone(),
        content: h.content.clone(),
        signer: signer::SignerInfo {
            competence: h.signer_info.competence.clone(),
            position: h.signer_info.position.clone(),
            full_name: h.signer_info.full_name.clone(),
        },
        due_date: h.due_date,
        to_places: h.to_places.clone(),
        priority: signer::Priority::from_code(u64::from(h.other_info.priority.unwrap_or(0)))
            .map_err(signer_err("OtherInfo/Priority"))?,
        other: signer::OtherInfo {
            sphere_of_promulgation: h.other_info.sphere_of_promulgation.clone(),
            typer_notation: h.other_info.typer_notation.clone(),
            promulgation_amount: h.other_info.promulgation_amount.unwrap_or(0),
            page_amount: h.other_info.page_amount.unwrap_or(0),
        },
        response_for: h
            .response_for
            .iter()
            .map(response_document)
            .collect::<Result<_, _>>()?,
        business,
        attachments,
        // The sending SDK states the form it signs in (a gateway for a VXP DMS: seal only).
        signature_form: Default::default(),
    };
    manifest.check().map_err(signer_err("manifest"))?;
    if !h.document_id.is_empty() {
        let derived = manifest.document_id().map_err(signer_err("DocumentId"))?;
        if DocumentId::parse(&h.document_id).ok().as_ref() != Some(&derived) {
            return Err(Error::DocumentIdMismatch {
                found: h.document_id.clone(),
                derived,
            });
        }
    }
    Ok(manifest)
}

/// An edoc as an Axis document: the manifest to sign and the edXML part (its attachment 0).
/// The attachments' sizes and digests come from `edoc` (as [`crate::parse`] computed them).
pub fn edoc_to_axis(edoc: &Edoc) -> Result<AxisDocument, Error> {
    let mut canonical = edoc.clone();
    for a in &mut canonical.attachments {
        a.size = 0;
        a.sha256 = [0; 32];
    }
    let edxml_part = header_to_vec(&canonical)?;
    let manifest = derive_manifest(edoc, (edxml_part.len() as u64, sha256(&edxml_part)))?;
    // The way back must give the same values, or the mapping is refused.
    if edoc_from_axis(&manifest, Some(&edxml_part))? != *edoc {
        return Err(Error::mapping(
            "edXML part",
            "the package does not survive the round trip (a value edXML cannot carry as \
             written, e.g. surrounding spaces or an empty list entry)",
        ));
    }
    Ok(AxisDocument {
        manifest,
        edxml_part,
    })
}

/// Whether a manifest carries an edXML part (its first attachment).
pub fn has_edxml_part(manifest: &Manifest) -> bool {
    manifest
        .attachments
        .first()
        .is_some_and(|a| a.name == EDXML_PART_NAME && a.content_type == EDXML_PART_CONTENT_TYPE)
}

/// Index in the manifest's attachments of edXML attachment `i`.
pub fn manifest_index(manifest: &Manifest, i: usize) -> usize {
    if has_edxml_part(manifest) { i + 1 } else { i }
}

/// The edoc an Axis document carries.
///
/// `edxml_part` is the bytes of the manifest's first attachment when [`has_edxml_part`] says
/// there is one (an error if it is missing). The part is checked against the manifest: its
/// digest, then every field the manifest also holds; any difference is
/// [`Error::ExtensionContradicts`]. Without a part, the edoc is made from the manifest alone.
/// Attachment bytes are not needed here; write them with [`crate::write_edoc`], taking
/// edXML attachment `i` from manifest attachment [`manifest_index`]`(i)`.
pub fn edoc_from_axis(manifest: &Manifest, edxml_part: Option<&[u8]>) -> Result<Edoc, Error> {
    if !has_edxml_part(manifest) {
        return Ok(edoc_from_manifest(manifest));
    }
    let part = edxml_part
        .ok_or_else(|| Error::mapping("edXML part", "the manifest names one; none given"))?;
    let described = &manifest.attachments[0];
    let digest = sha256(part);
    if described.size != part.len() as u64 || described.sha256 != digest {
        return Err(Error::ExtensionContradicts {
            field: "attachments[0] (edXML part digest)",
        });
    }
    let mut edoc = parse_header(part, &Limits::default())?;
    let files = &manifest.attachments[1..];
    if files.len() != edoc.attachments.len() {
        return Err(Error::ExtensionContradicts {
            field: "attachments",
        });
    }
    for (a, m) in edoc.attachments.iter_mut().zip(files) {
        a.size = m.size;
        a.sha256 = m.sha256;
    }
    let derived = derive_manifest(&edoc, (part.len() as u64, digest))?;
    if let Some(field) = first_difference(&derived, manifest) {
        return Err(Error::ExtensionContradicts { field });
    }
    Ok(edoc)
}

/// The first manifest field that differs.
fn first_difference(a: &Manifest, b: &Manifest) -> Option<&'static str> {
    let checks: [(&'static str, bool); 15] = [
        ("from", a.from == b.from),
        ("to", a.to == b.to),
        ("code", a.code == b.code),
        ("promulgation", a.promulgation == b.promulgation),
        ("document_type", a.document_type == b.document_type),
        ("subject", a.subject == b.subject),
        ("content", a.content == b.content),
        ("signer", a.signer == b.signer),
        ("due_date", a.due_date == b.due_date),
        ("to_places", a.to_places == b.to_places),
        ("priority", a.priority == b.priority),
        ("other", a.other == b.other),
        ("response_for", a.response_for == b.response_for),
        ("business", a.business == b.business),
        ("attachments", a.attachments == b.attachments),
    ];
    checks.iter().find(|(_, same)| !same).map(|(f, _)| *f)
}

fn organization_from(o: &signer::Organization) -> Organization {
    Organization {
        organ_id: o.organ_id.to_string(),
        organization_in_charge: o.organization_in_charge.clone(),
        organ_name: o.organ_name.clone(),
        organ_add: o.organ_add.clone(),
        email: o.email.clone(),
        telephone: o.telephone.clone(),
        fax: o.fax.clone(),
        website: o.website.clone(),
    }
}

fn response_for_of(d: &DocumentId) -> ResponseFor {
    ResponseFor {
        organ_id: d.organ_id().to_string(),
        code: d.code().to_string(),
        promulgation_date: Some(d.date()),
        document_id: d.to_string(),
    }
}

/// A native Axis document (no edXML part) as VNPT's library would describe it.
fn edoc_from_manifest(m: &Manifest) -> Edoc {
    let document_id = m.document_id().map(|d| d.to_string()).unwrap_or_default();
    let business = match &m.business {
        signer::Business::New => Business {
            business_doc_type: Some(0),
            ..Business::default()
        },
        other => Business {
            document_id: other
                .referenced()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            business_doc_type: Some(u32::from(other.code())),
            business_doc_reason: match other {
                signer::Business::Recall { reason, .. }
                | signer::Business::Update { reason, .. }
                | signer::Business::Replace { reason, .. } => reason.clone(),
                _ => String::new(),
            },
            replacement_info_list: match other {
                signer::Business::Replace { document, .. } => vec![ReplacementInfo {
                    document_id: document.to_string(),
                    organ_id_list: m.to.iter().map(|t| t.organ_id.to_string()).collect(),
                }],
                _ => Vec::new(),
            },
            ..Business::default()
        },
    };
    let mut references = Vec::new();
    let mut attachments = Vec::new();
    for (i, a) in m.attachments.iter().enumerate() {
        let cid = format!("cid:{}", i + 1);
        let mut at = Attachment::for_file(&cid, &a.name, &a.description, a.size, a.sha256);
        at.description = a.description.clone();
        references.push(Reference {
            content_id: cid,
            content_type: "application/zip".into(),
            description: a.description.clone(),
            attachment_name: a.name.clone(),
            ..Reference::default()
        });
        attachments.push(at);
    }
    Edoc {
        header: MessageHeader {
            from: organization_from(&m.from),
            to: m.to.iter().map(organization_from).collect(),
            document_id,
            code: Code {
                code_number: m.code.number().into(),
                code_notation: m.code.notation().into(),
            },
            promulgation_info: PromulgationInfo {
                place: m.promulgation.place.clone(),
                promulgation_date: Some(m.promulgation.date),
            },
            document_type: DocumentType {
                type_: Some(u32::from(m.document_type.kind)),
                type_detail: Some(u32::from(m.document_type.detail)),
                type_name: m.document_type.name.clone(),
            },
            subject: m.subject.clone(),
            content: m.content.clone(),
            signer_info: SignerInfo {
                competence: m.signer.competence.clone(),
                position: m.signer.position.clone(),
                full_name: m.signer.full_name.clone(),
            },
            due_date: m.due_date,
            other_info: OtherInfo {
                priority: Some(u32::from(m.priority.code())),
                sphere_of_promulgation: m.other.sphere_of_promulgation.clone(),
                typer_notation: m.other.typer_notation.clone(),
                promulgation_amount: Some(m.other.promulgation_amount),
                page_amount: Some(m.other.page_amount),
                direction: None,
                appendixes: Vec::new(),
            },
            response_for: m.response_for.iter().map(response_for_of).collect(),
            steering_type: 0,
            application_type: String::new(),
            to_places: m.to_places.clone(),
        },
        trace: TraceHeaderList {
            business,
            ..TraceHeaderList::default()
        },
        signature: None,
        references,
        attachments,
    }
}

/// An edXML status as the fields of an Axis receipt (see [`axis_signer::Receipt`]; the SDK
/// adds the message id, digests and chain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisStatus {
    /// The document concerned (`ResponseFor/DocumentId`); `None` for a refusal of a document
    /// the recipient could not open (written with an empty `ResponseFor`; a status read from
    /// edXML always names its document).
    pub document_id: Option<DocumentId>,
    /// The agency stating the status (`From/OrganId`).
    pub from: AgencyId,
    /// The other party (`ResponseFor/OrganId`).
    pub to: AgencyId,
    /// `StatusCode`.
    pub status: StatusCode,
    /// When the status is stated, the receipt's time: the package's `Timestamp` read as
    /// Vietnam time, until [`AxisStatus::signed_at`] dates it when the seal signs.
    pub time: OffsetDateTime,
    /// `Description`, exactly as written (the receipt's reason).
    pub reason: String,
    /// The receipt's `edxml` extension: the package's values the receipt has no field for, by
    /// element path (`StaffInfo/Staff`, `From/OrganName`, `Timestamp`…); only those present.
    pub edxml: BTreeMap<String, String>,
}

impl AxisStatus {
    /// The fields of a receipt.
    pub fn from_receipt(r: &signer::Receipt) -> Self {
        AxisStatus {
            document_id: r.document_id.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
            status: r.status,
            time: r.time,
            reason: r.reason.clone(),
            edxml: r.edxml.clone(),
        }
    }

    /// Dates the status at `time` (whole seconds), when the agency seal signs it: Axis takes
    /// a status only when it is signed now, whatever clock the DMS's `Timestamp` came from.
    /// The package's `Timestamp`, when it is not that instant in Vietnam time, then travels in
    /// the extension, so [`status_from_axis`] still gives the package the DMS wrote.
    pub fn signed_at(mut self, time: OffsetDateTime) -> Self {
        let written = self
            .edxml
            .remove(TIMESTAMP)
            .unwrap_or_else(|| format_timestamp(local(self.time)));
        self.time = time
            .to_offset(UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(time);
        if format_timestamp(local(self.time)) != written {
            self.edxml.insert(TIMESTAMP.to_owned(), written);
        }
        self
    }
}

/// A UTC instant as edXML writes it: Vietnam local time, no offset.
fn local(t: OffsetDateTime) -> time::PrimitiveDateTime {
    let t = t.to_offset(VIETNAM_OFFSET);
    time::PrimitiveDateTime::new(t.date(), t.time())
}

/// The status fields a receipt has no place for, by element path: each travels in the
/// receipt's `edxml` extension when not empty.
type Getter = fn(&Status) -> &String;
type Setter = fn(&mut Status) -> &mut String;
const EXTRAS: [(&str, Getter, Setter); 11] = [
    ("From/Email", |s| &s.from.email, |s| &mut s.from.email),
    ("From/Fax", |s| &s.from.fax, |s| &mut s.from.fax),
    (
        "From/OrganAdd",
        |s| &s.from.organ_add,
        |s| &mut s.from.organ_add,
    ),
    (
        "From/OrganName",
        |s| &s.from.organ_name,
        |s| &mut s.from.organ_name,
    ),
    (
        "From/OrganizationInCharge",
        |s| &s.from.organization_in_charge,
        |s| &mut s.from.organization_in_charge,
    ),
    (
        "From/Telephone",
        |s| &s.from.telephone,
        |s| &mut s.from.telephone,
    ),
    ("From/Website", |s| &s.from.website, |s| &mut s.from.website),
    (
        "StaffInfo/Department",
        |s| &s.staff_info.department,
        |s| &mut s.staff_info.department,
    ),
    (
        "StaffInfo/Email",
        |s| &s.staff_info.email,
        |s| &mut s.staff_info.email,
    ),
    (
        "StaffInfo/Mobile",
        |s| &s.staff_info.mobile,
        |s| &mut s.staff_info.mobile,
    ),
    (
        "StaffInfo/Staff",
        |s| &s.staff_info.staff,
        |s| &mut s.staff_info.staff,
    ),
];
/// ResponseFor's Code and PromulgationDate, in the extension (both, possibly empty values
/// left out) only when they are not those of its DocumentId.
const RF_CODE: &str = "ResponseFor/Code";
const RF_DATE: &str = "ResponseFor/PromulgationDate";
/// The package's Timestamp, when it is not the receipt's time (see [`AxisStatus::signed_at`]).
const TIMESTAMP: &str = "Timestamp";
/// Marks, in the extension, a ResponseFor whose Code and PromulgationDate are both empty
/// (the extension holds no empty values).
const RF_NONE: &str = "ResponseFor/Absent";

/// An edXML status as an Axis status, dated at its `Timestamp` (see [`AxisStatus::signed_at`]).
pub fn status_to_axis(s: &Status) -> Result<AxisStatus, Error> {
    let r = &s.response_for;
    if r.document_id.is_empty() {
        return Err(Error::mapping("ResponseFor/DocumentId", "missing"));
    }
    let document_id = document_id("ResponseFor/DocumentId", &r.document_id)?;
    let timestamp = s
        .timestamp
        .ok_or_else(|| Error::mapping("Timestamp", "missing"))?;
    let mut edxml: BTreeMap<String, String> = EXTRAS
        .iter()
        .filter(|(_, get, _)| !get(s).is_empty())
        .map(|(key, get, _)| ((*key).to_owned(), get(s).clone()))
        .collect();
    if r.code != document_id.code().to_string() || r.promulgation_date != Some(document_id.date()) {
        let date = r.promulgation_date.map(format_date).unwrap_or_default();
        for (key, value) in [(RF_CODE, r.code.clone()), (RF_DATE, date)] {
            if !value.is_empty() {
                edxml.insert(key.to_owned(), value);
            }
        }
        if r.code.is_empty() && r.promulgation_date.is_none() {
            edxml.insert(RF_NONE.to_owned(), "1".to_owned());
        }
    }
    let len = s.description.chars().count();
    if len > signer::limits::MAX_REASON {
        return Err(Error::StatusTooLong {
            len,
            max: signer::limits::MAX_REASON,
        });
    }
    signer::Receipt::check_edxml(&edxml).map_err(signer_err("status (StaffInfo, From)"))?;
    let axis = AxisStatus {
        document_id: Some(document_id),
        from: agency("From/OrganId", &s.from.organ_id)?,
        to: agency("ResponseFor/OrganId", &r.organ_id)?,
        status: s.status_code,
        time: timestamp
            .assume_offset(VIETNAM_OFFSET)
            .to_offset(UtcOffset::UTC),
        reason: s.description.clone(),
        edxml,
    };
    if status_from_axis(&axis)? != *s {
        return Err(Error::mapping(
            "status",
            "the status does not survive the round trip (an id not in canonical form?)",
        ));
    }
    Ok(axis)
}

/// An Axis status as an edXML status package. An extension element this crate does not know
/// is an error (a newer writer's field would otherwise be lost without a word).
pub fn status_from_axis(a: &AxisStatus) -> Result<Status, Error> {
    let known = |k: &str| {
        [RF_CODE, RF_DATE, RF_NONE, TIMESTAMP].contains(&k) || EXTRAS.iter().any(|e| e.0 == k)
    };
    if !a.edxml.keys().all(|k| known(k)) {
        return Err(Error::mapping(
            "edXML extension",
            "an element this version does not know",
        ));
    }
    let overridden = [RF_CODE, RF_DATE, RF_NONE]
        .iter()
        .any(|k| a.edxml.contains_key(*k));
    let (code, promulgation_date) =
        match &a.document_id {
            None => (String::new(), None),
            Some(_) if overridden => (
                a.edxml.get(RF_CODE).cloned().unwrap_or_default(),
                match a.edxml.get(RF_DATE) {
                    None => None,
                    Some(s) => Some(crate::datetime::parse_date(s).ok_or_else(|| {
                        Error::mapping("ResponseFor/PromulgationDate", "not a date")
                    })?),
                },
            ),
            Some(d) => (d.code().to_string(), Some(d.date())),
        };
    let timestamp = match a.edxml.get(TIMESTAMP) {
        Some(t) => crate::datetime::parse_timestamp(t)
            .ok_or_else(|| Error::mapping("Timestamp", "not a timestamp"))?,
        None => local(a.time),
    };
    let mut status = Status {
        from: Organization {
            organ_id: a.from.to_string(),
            ..Organization::default()
        },
        response_for: ResponseFor {
            organ_id: a.to.to_string(),
            code,
            promulgation_date,
            document_id: a
                .document_id
                .as_ref()
                .map(DocumentId::to_string)
                .unwrap_or_default(),
        },
        staff_info: StaffInfo::default(),
        status_code: a.status,
        description: a.reason.clone(),
        timestamp: Some(timestamp),
    };
    for (key, _, set) in EXTRAS {
        if let Some(v) = a.edxml.get(key) {
            *set(&mut status) = v.clone();
        }
    }
    Ok(status)
}
