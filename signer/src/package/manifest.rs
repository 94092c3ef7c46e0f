//! The manifest: edXML MessageHeader metadata and the attachment list, encoded once by the sender
//! into the bytes its two signatures cover.
//!
//! Encoding (DER, version 1; every text field is always present, empty meaning "not given"):
//!
//! ```text
//! Manifest ::= SEQUENCE {
//!   format        OBJECT IDENTIFIER,      -- <AXIS_OID_ARC>.2.1
//!   version       INTEGER (1),
//!   from          Organization,
//!   to            SEQUENCE SIZE (1..MAX_RECIPIENTS) OF Organization,
//!   code          Code,
//!   promulgation  SEQUENCE { place UTF8String, date UTF8String },   -- yyyy/MM/dd
//!   documentType  SEQUENCE { type INTEGER, detail INTEGER, name UTF8String },
//!   subject       UTF8String,
//!   content       UTF8String,
//!   signerInfo    SEQUENCE { competence UTF8String, position UTF8String, fullName UTF8String },
//!   dueDate       UTF8String,             -- "" or yyyy/MM/dd
//!   toPlaces      SEQUENCE SIZE (0..MAX_TO_PLACES) OF UTF8String,
//!   otherInfo     SEQUENCE { priority INTEGER (0..4), sphereOfPromulgation UTF8String,
//!                            typerNotation UTF8String, promulgationAmount INTEGER,
//!                            pageAmount INTEGER },
//!   responseFor   SEQUENCE SIZE (0..MAX_RESPONSE_FOR) OF UTF8String,   -- DocumentIds
//!   business      SEQUENCE { type INTEGER (0..3), documentId UTF8String, reason UTF8String },
//!   attachments   SEQUENCE SIZE (0..MAX_ATTACHMENTS) OF Attachment,
//!   signatureForm [0] IMPLICIT ENUMERATED { personAndSeal (0), sealOnly (1) }
//!                 DEFAULT personAndSeal }     -- DER: absent unless sealOnly
//! Organization ::= SEQUENCE { organId, organizationInCharge, organName, organAdd, email,
//!                             telephone, fax, website }               -- all UTF8String
//! Code ::= SEQUENCE { number UTF8String, notation UTF8String }
//! Attachment ::= SEQUENCE { name UTF8String, contentType UTF8String, description UTF8String,
//!                           size INTEGER, sha256 OCTET STRING (SIZE (32)) }
//! ```
//!
//! DER has one encoding per value, and [`ManifestBytes::parse`] re-encodes what it read and
//! compares, so a manifest has exactly one byte form.

use axis_pki::AgencyId;
use time::Date;

use crate::cms::der::{self, Reader};
use crate::cms::digest::{Sha256, sha256};
use crate::cms::oid::Format;
use crate::error::{Error, FormatError};
use crate::limits::{
    MAX_ATTACHMENT_NAME, MAX_ATTACHMENTS, MAX_CONTENT, MAX_CONTENT_TYPE, MAX_DESCRIPTION,
    MAX_DOCUMENT_SIZE, MAX_MANIFEST_LEN, MAX_ORGAN_ADD, MAX_ORGAN_NAME, MAX_ORGANIZATION_IN_CHARGE,
    MAX_PHONE, MAX_PLACE, MAX_RECIPIENTS, MAX_RESPONSE_FOR, MAX_SIGNER_FIELD, MAX_SPHERE,
    MAX_SUBJECT, MAX_TO_PLACE, MAX_TO_PLACES, MAX_TYPE_NAME, MAX_TYPER_NOTATION, MAX_WEBSITE,
};
use crate::package::document_id::{Code, DocumentId};
use crate::package::fields::{self, *};

const WHAT: &str = "manifest";

/// Urgency (độ khẩn), edXML `OtherInfo/Priority` (domain reference §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Priority {
    /// 0: thường (normal).
    Normal,
    /// 1: khẩn (urgent).
    Urgent,
    /// 2: thượng khẩn (very urgent).
    VeryUrgent,
    /// 3: hỏa tốc (flash).
    Flash,
    /// 4: hỏa tốc hẹn giờ (flash, timed).
    FlashTimed,
}

impl Priority {
    /// The edXML number.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// From the edXML number.
    pub fn from_code(value: u64) -> Result<Self, Error> {
        Ok(match value {
            0 => Priority::Normal,
            1 => Priority::Urgent,
            2 => Priority::VeryUrgent,
            3 => Priority::Flash,
            4 => Priority::FlashTimed,
            _ => return Err(FormatError::PriorityOutOfRange { value }.into()),
        })
    }
}

/// An agency as edXML `From` / `To` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// OrganId, the agency identifier.
    pub organ_id: AgencyId,
    /// OrganizationInCharge (≤ 500).
    pub organization_in_charge: String,
    /// OrganName (required, ≤ 200).
    pub organ_name: String,
    /// OrganAdd (≤ 500).
    pub organ_add: String,
    /// Email (≤ 100, an address).
    pub email: String,
    /// Telephone (≤ 50).
    pub telephone: String,
    /// Fax (≤ 50).
    pub fax: String,
    /// Website (≤ 200).
    pub website: String,
}

impl Organization {
    /// An organisation with its id and name, other fields empty.
    pub fn new(organ_id: AgencyId, organ_name: impl Into<String>) -> Self {
        Organization {
            organ_id,
            organization_in_charge: String::new(),
            organ_name: organ_name.into(),
            organ_add: String::new(),
            email: String::new(),
            telephone: String::new(),
            fax: String::new(),
            website: String::new(),
        }
    }

    fn check(&self) -> Result<(), Error> {
        optional_line(
            "OrganizationInCharge",
            &self.organization_in_charge,
            MAX_ORGANIZATION_IN_CHARGE,
        )?;
        required_line("OrganName", &self.organ_name, MAX_ORGAN_NAME)?;
        optional_line("OrganAdd", &self.organ_add, MAX_ORGAN_ADD)?;
        fields::check_email(&self.email)?;
        optional_line("Telephone", &self.telephone, MAX_PHONE)?;
        optional_line("Fax", &self.fax, MAX_PHONE)?;
        optional_line("Website", &self.website, MAX_WEBSITE)
    }

    fn encode(&self) -> Vec<u8> {
        der::seq(&[
            &der::utf8(self.organ_id.as_str()),
            &der::utf8(&self.organization_in_charge),
            &der::utf8(&self.organ_name),
            &der::utf8(&self.organ_add),
            &der::utf8(&self.email),
            &der::utf8(&self.telephone),
            &der::utf8(&self.fax),
            &der::utf8(&self.website),
        ])
    }

    fn decode(r: &mut Reader<'_>, field: &'static str) -> Result<Self, Error> {
        let mut s = r.sequence()?;
        let org = Organization {
            organ_id: agency(field, s.utf8()?)?,
            organization_in_charge: s.utf8()?.to_owned(),
            organ_name: s.utf8()?.to_owned(),
            organ_add: s.utf8()?.to_owned(),
            email: s.utf8()?.to_owned(),
            telephone: s.utf8()?.to_owned(),
            fax: s.utf8()?.to_owned(),
            website: s.utf8()?.to_owned(),
        };
        s.finish()?;
        Ok(org)
    }
}

/// Place and date of promulgation (`PromulgationInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promulgation {
    /// Place (địa danh, ≤ 50).
    pub place: String,
    /// Date of promulgation; part of the DocumentId.
    pub date: Date,
}

/// `DocumentType`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentType {
    /// Type (BKAV accepts 1 and 2; the meaning is unconfirmed).
    pub kind: u8,
    /// TypeDetail (samples use 0).
    pub detail: u16,
    /// TypeName, e.g. "Công văn" (≤ 100).
    pub name: String,
}

/// `SignerInfo`: who signs with authority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerInfo {
    /// Competence, e.g. "TL. BỘ TRƯỞNG" (≤ 100).
    pub competence: String,
    /// Position (≤ 100).
    pub position: String,
    /// Full name (required, ≤ 100).
    pub full_name: String,
}

/// `OtherInfo` besides the priority.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtherInfo {
    /// SphereOfPromulgation (≤ 100).
    pub sphere_of_promulgation: String,
    /// TyperNotation (≤ 10).
    pub typer_notation: String,
    /// PromulgationAmount (số bản).
    pub promulgation_amount: u32,
    /// PageAmount (số trang).
    pub page_amount: u32,
}

/// Which signatures the document carries, stated in the signed manifest itself.
///
/// A document made through Axis by a person with authority carries their personal signature
/// and then the agency seal ([`SignatureForm::PersonAndSeal`], the default, not written in the
/// DER). A document handed over by a system that cannot take part in the personal signature
/// (a DMS speaking the VXP protocol to the agency's gateway) carries the agency seal alone and
/// says so here ([`SignatureForm::SealOnly`]): the recipient reads that no personal signature
/// was made through Axis, and the seal covers that statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureForm {
    /// The personal signature of the person with authority, then the agency seal.
    #[default]
    PersonAndSeal,
    /// The agency seal only: no personal signature was made through Axis.
    SealOnly,
}

impl SignatureForm {
    /// The DER value (0 or 1).
    pub fn code(self) -> u8 {
        match self {
            SignatureForm::PersonAndSeal => 0,
            SignatureForm::SealOnly => 1,
        }
    }

    /// A stable name for reports (`personAndSeal`, `sealOnly`).
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureForm::PersonAndSeal => "personAndSeal",
            SignatureForm::SealOnly => "sealOnly",
        }
    }
}

/// Business type (edXML `BussinessDocType`, §1.3) with the document it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Business {
    /// 0: a new document.
    New,
    /// 1: recall (thu hồi) of `document`.
    Recall {
        /// The original document.
        document: DocumentId,
        /// BussinessDocReason (≤ 500).
        reason: String,
    },
    /// 2: update (cập nhật) of `document`.
    Update {
        /// The original document.
        document: DocumentId,
        /// BussinessDocReason (≤ 500).
        reason: String,
    },
    /// 3: replace (thay thế) `document`.
    Replace {
        /// The replaced document.
        document: DocumentId,
        /// BussinessDocReason (≤ 500).
        reason: String,
    },
}

impl Business {
    /// The edXML number (0–3).
    pub fn code(&self) -> u8 {
        match self {
            Business::New => 0,
            Business::Recall { .. } => 1,
            Business::Update { .. } => 2,
            Business::Replace { .. } => 3,
        }
    }

    /// The document referred to (none for a new document).
    pub fn referenced(&self) -> Option<&DocumentId> {
        match self {
            Business::New => None,
            Business::Recall { document, .. }
            | Business::Update { document, .. }
            | Business::Replace { document, .. } => Some(document),
        }
    }

    fn reason(&self) -> &str {
        match self {
            Business::New => "",
            Business::Recall { reason, .. }
            | Business::Update { reason, .. }
            | Business::Replace { reason, .. } => reason,
        }
    }
}

/// One attachment: its name, type, size and the SHA-256 of its plaintext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// AttachmentName (required, ≤ 500).
    pub name: String,
    /// MIME type, e.g. `application/pdf` (required, ≤ 100).
    pub content_type: String,
    /// Description (≤ 500).
    pub description: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
}

impl Attachment {
    fn check(&self) -> Result<(), Error> {
        required_line("AttachmentName", &self.name, MAX_ATTACHMENT_NAME)?;
        required_line("ContentType", &self.content_type, MAX_CONTENT_TYPE)?;
        fields::check_text(
            "Description",
            &self.description,
            MAX_DESCRIPTION,
            false,
            Lines::Multi,
        )
    }
}

/// Computes an attachment's size and SHA-256 as it streams by (the sender's first pass).
#[derive(Clone)]
pub struct AttachmentDigest {
    ctx: Sha256,
    size: u64,
}

impl Default for AttachmentDigest {
    fn default() -> Self {
        AttachmentDigest {
            ctx: Sha256::new(),
            size: 0,
        }
    }
}

impl AttachmentDigest {
    /// Starts an empty digest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
        self.size += data.len() as u64;
    }

    /// The attachment entry for the manifest.
    pub fn finish(
        self,
        name: impl Into<String>,
        content_type: impl Into<String>,
        description: impl Into<String>,
    ) -> Attachment {
        Attachment {
            name: name.into(),
            content_type: content_type.into(),
            description: description.into(),
            size: self.size,
            sha256: self.ctx.finish(),
        }
    }
}

/// The inner metadata of a document. A plain value: [`Manifest::encode`] checks it and makes the
/// bytes that are signed; [`ManifestBytes::parse`] reads them back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The sending agency.
    pub from: Organization,
    /// The recipient agencies (distinct, at least one).
    pub to: Vec<Organization>,
    /// Number and notation.
    pub code: Code,
    /// Place and date of promulgation.
    pub promulgation: Promulgation,
    /// Document type.
    pub document_type: DocumentType,
    /// Subject (trích yếu, required, ≤ 500).
    pub subject: String,
    /// Content summary (≤ 500).
    pub content: String,
    /// Who signs with authority.
    pub signer: SignerInfo,
    /// Due date (hạn xử lý).
    pub due_date: Option<Date>,
    /// ToPlaces (nơi nhận, each ≤ 150).
    pub to_places: Vec<String>,
    /// Urgency.
    pub priority: Priority,
    /// Other edXML `OtherInfo` fields.
    pub other: OtherInfo,
    /// Documents this one answers (edXML `ResponseFor`; its OrganId, Code and date are those of
    /// the DocumentId).
    pub response_for: Vec<DocumentId>,
    /// New, recall, update or replace.
    pub business: Business,
    /// The attachments, in the order they are encrypted.
    pub attachments: Vec<Attachment>,
    /// Which signatures the document carries (personal and seal, or the seal only).
    pub signature_form: SignatureForm,
}

impl Manifest {
    /// The DocumentId of this document: sender, promulgation date, code.
    pub fn document_id(&self) -> Result<DocumentId, Error> {
        DocumentId::new(
            self.from.organ_id.clone(),
            self.promulgation.date,
            self.code.clone(),
        )
    }

    /// Checks every field and budget.
    pub fn check(&self) -> Result<(), Error> {
        self.from.check()?;
        if self.to.is_empty() {
            return Err(FormatError::NoRecipients.into());
        }
        if self.to.len() > MAX_RECIPIENTS {
            return Err(FormatError::TooManyRecipients {
                found: self.to.len(),
                max: MAX_RECIPIENTS,
            }
            .into());
        }
        let mut seen = std::collections::HashSet::new();
        for org in &self.to {
            org.check()?;
            if !seen.insert(&org.organ_id) {
                return Err(FormatError::DuplicateRecipient {
                    agency: org.organ_id.clone(),
                }
                .into());
            }
        }
        // Code is checked on construction; the DocumentId also needs a writable year.
        self.document_id()?;
        optional_line("Place", &self.promulgation.place, MAX_PLACE)?;
        optional_line("TypeName", &self.document_type.name, MAX_TYPE_NAME)?;
        fields::check_text("Subject", &self.subject, MAX_SUBJECT, true, Lines::Multi)?;
        fields::check_text("Content", &self.content, MAX_CONTENT, false, Lines::Multi)?;
        optional_line("Competence", &self.signer.competence, MAX_SIGNER_FIELD)?;
        optional_line("Position", &self.signer.position, MAX_SIGNER_FIELD)?;
        required_line("FullName", &self.signer.full_name, MAX_SIGNER_FIELD)?;
        if let Some(d) = self.due_date
            && !(0..=9999).contains(&d.year())
        {
            return Err(FormatError::DateMalformed { field: "DueDate" }.into());
        }
        fields::check_count("ToPlaces", self.to_places.len(), MAX_TO_PLACES)?;
        for p in &self.to_places {
            required_line("ToPlaces/Place", p, MAX_TO_PLACE)?;
        }
        optional_line(
            "SphereOfPromulgation",
            &self.other.sphere_of_promulgation,
            MAX_SPHERE,
        )?;
        optional_line(
            "TyperNotation",
            &self.other.typer_notation,
            MAX_TYPER_NOTATION,
        )?;
        fields::check_count("ResponseFor", self.response_for.len(), MAX_RESPONSE_FOR)?;
        fields::check_text(
            "BussinessDocReason",
            self.business.reason(),
            MAX_DESCRIPTION,
            false,
            Lines::Multi,
        )?;
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(FormatError::TooMany {
                what: "attachments",
                found: self.attachments.len(),
                max: MAX_ATTACHMENTS,
            }
            .into());
        }
        let mut total: u64 = 0;
        for a in &self.attachments {
            a.check()?;
            total = total.saturating_add(a.size);
        }
        if total > MAX_DOCUMENT_SIZE {
            return Err(FormatError::TooLarge {
                what: "document (attachments)",
                len: total,
                max: MAX_DOCUMENT_SIZE,
            }
            .into());
        }
        Ok(())
    }

    /// Checks the manifest and encodes it: the sender does this once, and signs the result.
    pub fn encode(&self) -> Result<ManifestBytes, Error> {
        self.check()?;
        let bytes = self.encode_unchecked();
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(FormatError::TooLarge {
                what: WHAT,
                len: bytes.len() as u64,
                max: MAX_MANIFEST_LEN as u64,
            }
            .into());
        }
        Ok(ManifestBytes {
            digest: sha256(&bytes),
            bytes,
            document_id: self.document_id()?,
            manifest: self.clone(),
        })
    }

    pub(crate) fn encode_unchecked(&self) -> Vec<u8> {
        let orgs: Vec<u8> = self.to.iter().flat_map(Organization::encode).collect();
        let places: Vec<u8> = self.to_places.iter().flat_map(|p| der::utf8(p)).collect();
        let responses: Vec<u8> = self
            .response_for
            .iter()
            .flat_map(|d| der::utf8(&d.to_string()))
            .collect();
        let attachments: Vec<u8> = self
            .attachments
            .iter()
            .flat_map(|a| {
                der::seq(&[
                    &der::utf8(&a.name),
                    &der::utf8(&a.content_type),
                    &der::utf8(&a.description),
                    &der::uint(a.size),
                    &der::octets(&a.sha256),
                ])
            })
            .collect();
        let business_ref = self
            .business
            .referenced()
            .map(ToString::to_string)
            .unwrap_or_default();
        // DER leaves a DEFAULT value out (X.690 §11.5).
        let form = match self.signature_form {
            SignatureForm::PersonAndSeal => Vec::new(),
            other => der::uint_tagged(der::context_primitive(0), u64::from(other.code())),
        };
        der::seq(&[
            &der::oid(Format::Manifest.oid()),
            &der::uint(1),
            &self.from.encode(),
            &der::tlv(der::SEQUENCE, &orgs),
            &der::seq(&[
                &der::utf8(self.code.number()),
                &der::utf8(self.code.notation()),
            ]),
            &der::seq(&[
                &der::utf8(&self.promulgation.place),
                &der::utf8(&fields::format_date(self.promulgation.date)),
            ]),
            &der::seq(&[
                &der::uint(u64::from(self.document_type.kind)),
                &der::uint(u64::from(self.document_type.detail)),
                &der::utf8(&self.document_type.name),
            ]),
            &der::utf8(&self.subject),
            &der::utf8(&self.content),
            &der::seq(&[
                &der::utf8(&self.signer.competence),
                &der::utf8(&self.signer.position),
                &der::utf8(&self.signer.full_name),
            ]),
            &der::utf8(&self.due_date.map(fields::format_date).unwrap_or_default()),
            &der::tlv(der::SEQUENCE, &places),
            &der::seq(&[
                &der::uint(u64::from(self.priority.code())),
                &der::utf8(&self.other.sphere_of_promulgation),
                &der::utf8(&self.other.typer_notation),
                &der::uint(u64::from(self.other.promulgation_amount)),
                &der::uint(u64::from(self.other.page_amount)),
            ]),
            &der::tlv(der::SEQUENCE, &responses),
            &der::seq(&[
                &der::uint(u64::from(self.business.code())),
                &der::utf8(&business_ref),
                &der::utf8(self.business.reason()),
            ]),
            &der::tlv(der::SEQUENCE, &attachments),
            &form,
        ])
    }

    fn decode(bytes: &[u8]) -> Result<Manifest, Error> {
        let mut r = Format::Manifest.open(bytes, WHAT)?;
        let from = Organization::decode(&mut r, "From/OrganId")?;
        let mut to_r = r.sequence()?;
        let mut to = Vec::new();
        while !to_r.is_empty() {
            if to.len() == MAX_RECIPIENTS {
                return Err(FormatError::TooManyRecipients {
                    found: to.len() + 1,
                    max: MAX_RECIPIENTS,
                }
                .into());
            }
            to.push(Organization::decode(&mut to_r, "To/OrganId")?);
        }
        let mut c = r.sequence()?;
        let code = Code::new(c.utf8()?, c.utf8()?)?;
        c.finish()?;
        let mut p = r.sequence()?;
        let place = p.utf8()?.to_owned();
        let date = fields::parse_date("PromulgationDate", p.utf8()?)?;
        p.finish()?;
        let mut t = r.sequence()?;
        let document_type = DocumentType {
            kind: small(t.u64()?)?,
            detail: small(t.u64()?)?,
            name: t.utf8()?.to_owned(),
        };
        t.finish()?;
        let subject = r.utf8()?.to_owned();
        let content = r.utf8()?.to_owned();
        let mut s = r.sequence()?;
        let signer = SignerInfo {
            competence: s.utf8()?.to_owned(),
            position: s.utf8()?.to_owned(),
            full_name: s.utf8()?.to_owned(),
        };
        s.finish()?;
        let due = r.utf8()?;
        let due_date = if due.is_empty() {
            None
        } else {
            Some(fields::parse_date("DueDate", due)?)
        };
        let mut pl = r.sequence()?;
        let mut to_places = Vec::new();
        while !pl.is_empty() {
            fields::check_count("ToPlaces", to_places.len() + 1, MAX_TO_PLACES)?;
            to_places.push(pl.utf8()?.to_owned());
        }
        let mut o = r.sequence()?;
        let priority = Priority::from_code(o.u64()?)?;
        let other = OtherInfo {
            sphere_of_promulgation: o.utf8()?.to_owned(),
            typer_notation: o.utf8()?.to_owned(),
            promulgation_amount: small(o.u64()?)?,
            page_amount: small(o.u64()?)?,
        };
        o.finish()?;
        let mut rf = r.sequence()?;
        let mut response_for = Vec::new();
        while !rf.is_empty() {
            fields::check_count("ResponseFor", response_for.len() + 1, MAX_RESPONSE_FOR)?;
            response_for.push(DocumentId::parse(rf.utf8()?)?);
        }
        let mut b = r.sequence()?;
        let kind = b.u64()?;
        let referenced = b.utf8()?;
        let reason = b.utf8()?.to_owned();
        b.finish()?;
        let business = match kind {
            0 if referenced.is_empty() && reason.is_empty() => Business::New,
            0 => return Err(FormatError::Malformed { what: WHAT }.into()),
            1..=3 => {
                let document = DocumentId::parse(referenced)?;
                match kind {
                    1 => Business::Recall { document, reason },
                    2 => Business::Update { document, reason },
                    _ => Business::Replace { document, reason },
                }
            }
            value => return Err(FormatError::BusinessTypeUnknown { value }.into()),
        };
        let mut at = r.sequence()?;
        let mut attachments = Vec::new();
        while !at.is_empty() {
            if attachments.len() == MAX_ATTACHMENTS {
                return Err(FormatError::TooMany {
                    what: "attachments",
                    found: attachments.len() + 1,
                    max: MAX_ATTACHMENTS,
                }
                .into());
            }
            let mut a = at.sequence()?;
            attachments.push(Attachment {
                name: a.utf8()?.to_owned(),
                content_type: a.utf8()?.to_owned(),
                description: a.utf8()?.to_owned(),
                size: a.u64()?,
                sha256: a.octets()?,
            });
            a.finish()?;
        }
        let signature_form = if r.peek_tag() == Some(der::context_primitive(0)) {
            match r.u64_tagged(der::context_primitive(0))? {
                // personAndSeal written out is not DER (its DEFAULT); re-encoding refuses it.
                0 => SignatureForm::PersonAndSeal,
                1 => SignatureForm::SealOnly,
                _ => return Err(FormatError::Malformed { what: WHAT }.into()),
            }
        } else {
            SignatureForm::PersonAndSeal
        };
        r.finish()?;
        Ok(Manifest {
            from,
            to,
            code,
            promulgation: Promulgation { place, date },
            document_type,
            subject,
            content,
            signer,
            due_date,
            to_places,
            priority,
            other,
            response_for,
            business,
            attachments,
            signature_form,
        })
    }
}

fn agency(field: &'static str, s: &str) -> Result<AgencyId, Error> {
    let id = AgencyId::parse(s).map_err(|source| FormatError::AgencyId { field, source })?;
    if id.as_str() != s {
        // Not the canonical text form: two encodings of one value are refused.
        return Err(FormatError::Malformed { what: WHAT }.into());
    }
    Ok(id)
}

fn small<T: TryFrom<u64>>(v: u64) -> Result<T, Error> {
    T::try_from(v).map_err(|_| FormatError::Malformed { what: WHAT }.into())
}

/// A checked manifest together with the exact bytes its signatures cover.
///
/// Holding one means the bytes are the canonical encoding of a manifest that passes every field
/// check and budget. It does **not** mean anyone signed it: that is
/// [`crate::VerifiedDocument`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestBytes {
    bytes: Vec<u8>,
    manifest: Manifest,
    digest: [u8; 32],
    document_id: DocumentId,
}

impl ManifestBytes {
    /// Parses untrusted bytes with the budgets of this module.
    ///
    /// 1. Size budget ([`MAX_MANIFEST_LEN`]) before anything is read.
    /// 2. Strict DER, the manifest format OID (not a header or receipt) and version 1.
    /// 3. Count budgets while reading lists, before each element is decoded.
    /// 4. Every field check [`Manifest::check`] makes on the sender's side.
    /// 5. Re-encoding gives the same bytes: one manifest, one byte form.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_MANIFEST_LEN {
            return Err(FormatError::TooLarge {
                what: WHAT,
                len: bytes.len() as u64,
                max: MAX_MANIFEST_LEN as u64,
            }
            .into());
        }
        let manifest = Manifest::decode(bytes)?;
        manifest.check()?;
        if manifest.encode_unchecked() != bytes {
            return Err(FormatError::Malformed { what: WHAT }.into());
        }
        Ok(ManifestBytes {
            bytes: bytes.to_vec(),
            digest: sha256(bytes),
            document_id: manifest.document_id()?,
            manifest,
        })
    }

    /// The encoded bytes (what the signatures cover).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The decoded manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// SHA-256 of the bytes (what receipts commit to).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The DocumentId.
    pub fn document_id(&self) -> &DocumentId {
        &self.document_id
    }
}
