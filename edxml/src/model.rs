//! The typed values of an edXML package (domain reference §1, §2, §9).
//!
//! Conventions, the same everywhere: a text value is a `String` and the empty string means
//! "absent" (VNPT's writer leaves empty elements out, its reader reads a missing element as
//! empty); a container whose values are all absent is the container's `Default` and is not
//! written; numbers, dates and booleans are `Option`s. Text is trimmed on read and on write, as
//! VNPT's writer trims it.

use time::{Date, PrimitiveDateTime};

/// The edXML namespace (QCVN 102:2016).
pub const EDXML_NS: &str = "http://www.mic.gov.vn/TBT/QCVN_102_2016";
/// The XML-DSig namespace.
pub const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The XLink namespace (TS-port `Reference` attributes).
pub const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// A parsed package: a business document or a status.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // built once per package
pub enum Package {
    /// A business document (new, revocation, update, replacement).
    Edoc(Edoc),
    /// A status package (01–06, 13, 15, 16).
    Status(Status),
}

/// A business document package ("edoc").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edoc {
    /// `MessageHeader`.
    pub header: MessageHeader,
    /// `TraceHeaderList`.
    pub trace: TraceHeaderList,
    /// The XML signature in `edXMLHeader`, kept as read and never verified.
    pub signature: Option<EmbeddedSignature>,
    /// `edXMLBody/edXMLManifest/Reference`, in order.
    pub references: Vec<Reference>,
    /// `AttachmentEncoded/Attachment`, in order (the bytes go to an [`crate::AttachmentSink`]).
    pub attachments: Vec<Attachment>,
}

/// A status package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The agency stating the status.
    pub from: Organization,
    /// The document concerned; its `OrganId` is the other party.
    pub response_for: ResponseFor,
    /// Who handled it.
    pub staff_info: StaffInfo,
    /// `StatusCode`.
    pub status_code: axis_signer::StatusCode,
    /// `Description`.
    pub description: String,
    /// `Timestamp` (local time as written; edXML carries no offset).
    pub timestamp: Option<PrimitiveDateTime>,
}

/// An agency (`From`, `To`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Organization {
    /// `OrganId`.
    pub organ_id: String,
    /// `OrganizationInCharge`.
    pub organization_in_charge: String,
    /// `OrganName`.
    pub organ_name: String,
    /// `OrganAdd`.
    pub organ_add: String,
    /// `Email`.
    pub email: String,
    /// `Telephone`.
    pub telephone: String,
    /// `Fax`.
    pub fax: String,
    /// `Website`.
    pub website: String,
}

/// `Code`: number and notation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Code {
    /// `CodeNumber`.
    pub code_number: String,
    /// `CodeNotation`.
    pub code_notation: String,
}

/// `PromulgationInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PromulgationInfo {
    /// `Place`.
    pub place: String,
    /// `PromulgationDate`.
    pub promulgation_date: Option<Date>,
}

/// `DocumentType`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentType {
    /// `Type`.
    pub type_: Option<u32>,
    /// `TypeDetail`.
    pub type_detail: Option<u32>,
    /// `TypeName`.
    pub type_name: String,
}

/// `SignerInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignerInfo {
    /// `Competence`.
    pub competence: String,
    /// `Position`.
    pub position: String,
    /// `FullName`.
    pub full_name: String,
}

/// `OtherInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtherInfo {
    /// `Priority` (0 normal … 4 "hỏa tốc hẹn giờ").
    pub priority: Option<u32>,
    /// `SphereOfPromulgation`.
    pub sphere_of_promulgation: String,
    /// `TyperNotation`.
    pub typer_notation: String,
    /// `PromulgationAmount`.
    pub promulgation_amount: Option<u32>,
    /// `PageAmount`.
    pub page_amount: Option<u32>,
    /// `Direction` (only `true` is true).
    pub direction: Option<bool>,
    /// `Appendixes/Appendix`.
    pub appendixes: Vec<String>,
}

/// `ResponseFor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseFor {
    /// `OrganId` (for a status: the other party).
    pub organ_id: String,
    /// `Code` as `number/notation`.
    pub code: String,
    /// `PromulgationDate`.
    pub promulgation_date: Option<Date>,
    /// `DocumentId`.
    pub document_id: String,
}

/// `MessageHeader` of a business document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageHeader {
    /// `From`.
    pub from: Organization,
    /// `To`, one per recipient.
    pub to: Vec<Organization>,
    /// `DocumentId` as written (`OrganId,yyyy/MM/dd,Number/Notation`).
    pub document_id: String,
    /// `Code`.
    pub code: Code,
    /// `PromulgationInfo`.
    pub promulgation_info: PromulgationInfo,
    /// `DocumentType`.
    pub document_type: DocumentType,
    /// `Subject`.
    pub subject: String,
    /// `Content`.
    pub content: String,
    /// `SignerInfo`.
    pub signer_info: SignerInfo,
    /// `DueDate`.
    pub due_date: Option<Date>,
    /// `OtherInfo`.
    pub other_info: OtherInfo,
    /// `ResponseFor`, repeatable.
    pub response_for: Vec<ResponseFor>,
    /// `SteeringType` (VNPT's writer always writes it; absent reads as 0).
    pub steering_type: u32,
    /// `ApplicationType` (an iNet/VNPT extension).
    pub application_type: String,
    /// `ToPlaces/Place`.
    pub to_places: Vec<String>,
}

/// `TraceHeaderList`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceHeaderList {
    /// `Bussiness` (sic; `Business` is read too).
    pub business: Business,
    /// `TraceHeader`, one per hop.
    pub trace_headers: Vec<TraceHeader>,
    /// Attributes some producers put on the element (`id`, `version`, `mustUnderstand`,
    /// `actor`), by local name, in document order.
    pub attributes: Vec<(String, String)>,
}

/// `TraceHeader`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceHeader {
    /// `OrganId`.
    pub organ_id: String,
    /// `Timestamp`.
    pub timestamp: Option<PrimitiveDateTime>,
}

/// `Bussiness`: the business type and what it refers to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Business {
    /// `DocumentId`: the original document (update, replacement, revocation).
    pub document_id: String,
    /// `BussinessDocType`: 0 new, 1 revocation, 2 update, 3 replacement.
    pub business_doc_type: Option<u32>,
    /// `BussinessDocReason`.
    pub business_doc_reason: String,
    /// `Paper`: 1 when a paper copy is sent too.
    pub paper: Option<u32>,
    /// `StaffInfo`.
    pub staff_info: StaffInfo,
    /// `BussinessDocumentInfo` (update).
    pub business_document_info: BusinessDocumentInfo,
    /// `ReplacementInfoList/ReplacementInfo` (replacement).
    pub replacement_info_list: Vec<ReplacementInfo>,
}

/// `StaffInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaffInfo {
    /// `Department`.
    pub department: String,
    /// `Staff`.
    pub staff: String,
    /// `Email`.
    pub email: String,
    /// `Mobile`.
    pub mobile: String,
}

/// `BussinessDocumentInfo`: what an update changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessDocumentInfo {
    /// `DocumentInfo` ("1": the metadata changed).
    pub document_info: String,
    /// `DocumentReceiver` ("1": the receiver list changed).
    pub document_receiver: String,
    /// `ReceiverList/Receiver`.
    pub receiver_list: Vec<Receiver>,
}

/// `Receiver`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Receiver {
    /// `OrganId`.
    pub organ_id: String,
    /// `ReceiverType`.
    pub receiver_type: Option<u32>,
}

/// `ReplacementInfo`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplacementInfo {
    /// `DocumentId`: the replaced document.
    pub document_id: String,
    /// `OrganIdList/OrganId`: the recipients concerned.
    pub organ_id_list: Vec<String>,
}

/// `edXMLManifest/Reference`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reference {
    /// `ContentId` as written (`cid:…`).
    pub content_id: String,
    /// `ContentType` (VNPT writes `application/zip` whatever the file).
    pub content_type: String,
    /// `Description`.
    pub description: String,
    /// `AttachmentName`.
    pub attachment_name: String,
    /// TS-port `xlink:href`.
    pub xlink_href: String,
    /// TS-port `xlink:role`.
    pub xlink_role: String,
    /// TS-port `xlink:type`.
    pub xlink_type: String,
}

/// `AttachmentEncoded/Attachment`: the description of one file; its bytes go to an
/// [`crate::AttachmentSink`] when parsing and come from an [`crate::AttachmentSource`] when
/// writing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attachment {
    /// `ContentId` as written.
    pub content_id: String,
    /// `AttachmentName`.
    pub attachment_name: String,
    /// `Description`.
    pub description: String,
    /// `ContentType`: `application/zip` with a name not ending in `.zip` means "the file,
    /// zipped" (§9.1).
    pub content_type: String,
    /// `Format` (a file extension some producers add).
    pub format: String,
    /// Size of the file (after unzipping, when zipped).
    pub size: u64,
    /// SHA-256 of the file (after unzipping, when zipped).
    pub sha256: [u8; 32],
}

/// Extensions sent as they are (VNPT's list, §9.1, with its misspellings).
const AS_IS: [&str; 7] = ["pdf", "doc", "docx", "xls", "xsl", "xslx", "zip"];

impl Attachment {
    /// Whether the bytes travel zipped: `ContentType` exactly `application/zip` and a name
    /// whose extension is not `zip` (§9.1; the receiver unzips the first entry).
    pub fn is_zipped(&self) -> bool {
        self.content_type == "application/zip" && extension(&self.attachment_name) != "zip"
    }

    /// An attachment described the way VNPT's library describes a file: `application/<ext>`
    /// for pdf, doc, docx, xls (and xsl, xslx) and zip, otherwise `application/zip` (the file
    /// is then zipped on write).
    pub fn for_file(
        content_id: impl Into<String>,
        attachment_name: impl Into<String>,
        description: impl Into<String>,
        size: u64,
        sha256: [u8; 32],
    ) -> Self {
        let attachment_name = attachment_name.into();
        let ext = extension(&attachment_name);
        let content_type = if AS_IS.contains(&ext.as_str()) {
            format!("application/{ext}")
        } else {
            "application/zip".to_owned()
        };
        Attachment {
            content_id: content_id.into(),
            attachment_name,
            description: description.into(),
            content_type,
            format: String::new(),
            size,
            sha256,
        }
    }

    /// The id without one leading `cid:` (how references and attachments are matched).
    pub fn bare_id(&self) -> &str {
        strip_cid(&self.content_id)
    }
}

/// A content id without one leading `cid:`.
pub fn strip_cid(id: &str) -> &str {
    id.strip_prefix("cid:").unwrap_or(id)
}

/// The lowercase extension of a file name ("" when none).
pub(crate) fn extension(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

/// The name an embedded signature element had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureElement {
    /// `Signature` (VPCP samples, XML-DSig).
    Signature,
    /// `DigitalSignature` (TS-port).
    DigitalSignature,
}

/// An XML signature found in `edXMLHeader`: kept as read, reported, never verified (§9.1: in
/// practice a placeholder, and any reformatting of the package breaks an enveloped signature).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmbeddedSignature {
    /// Which element carried it.
    pub element: SignatureElement,
    /// The element's tree.
    pub tree: XmlElement,
}

/// What is known about an embedded signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureStatus {
    /// No signature (or an empty element).
    Absent,
    /// A signature is present; this crate does not verify XML signatures.
    PresentNotVerified,
}

impl Edoc {
    /// Whether the package carried an XML signature (never verified).
    pub fn signature_status(&self) -> SignatureStatus {
        match self.signature {
            None => SignatureStatus::Absent,
            Some(_) => SignatureStatus::PresentNotVerified,
        }
    }
}

/// An element kept as a tree (the embedded signature).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XmlElement {
    /// Namespace URI ("" for none).
    pub namespace: String,
    /// Local name.
    pub name: String,
    /// Attributes (name as written, value), namespace declarations excepted.
    pub attributes: Vec<(String, String)>,
    /// Text content, trimmed (text between child elements is joined).
    pub text: String,
    /// Child elements.
    pub children: Vec<XmlElement>,
}
