//! Sending a document: describe it with [`OutgoingDocument`], then [`Client::send`] signs,
//! seals, uploads and verifies the axis's acceptance receipt.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axis_pki::{AgencyId, Profile, TrustStore, VerifiedCert};
use axis_proto::reasons;
use axis_proto::v1 as pb;
use axis_signer::limits::DEFAULT_CHUNK_SIZE;
use axis_signer::{
    Attachment, AttachmentDigest, Business, Code, DocumentId, DocumentType, Manifest, MessageId,
    Organization, OtherInfo, Priority, Promulgation, SealRequest, Sealed, Sealer, SignatureForm,
    SignedDocument, SignerInfo,
};
use futures_util::{StreamExt as _, TryStreamExt as _};
use time::{Date, OffsetDateTime};
use tokio::sync::mpsc;

use crate::client::{Client, KeyAndCert};
use crate::convert::{is_transient, status_error};
use crate::dircache::Cached;
use crate::directory::AgencyInfo;
use crate::error::{Error, ErrorKind, Result};
use crate::nodes::{self, Attempts, Failure};
use crate::open::check_attachment_name;
use crate::proof::{self, Evidence};

/// Ciphertext kept in memory while sealing, up to this size; larger documents spool to a
/// temporary file.
pub const SPOOL_IN_MEMORY: usize = 8 * 1024 * 1024;
/// Largest `chunk` message the SDK sends, whatever the axis allows.
pub const MAX_UPLOAD_CHUNK: usize = 1024 * 1024;
/// Chunk messages queued ahead of the network.
const UPLOAD_QUEUE: usize = 4;
/// Directory look-ups in flight at once.
const LOOKUPS_IN_FLIGHT: usize = 8;
/// Read size of the passes over attachment files.
const READ_BUF: usize = 64 * 1024;

/// A recipient agency, with the name to write in the manifest (`None`: the directory's).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recipient {
    /// The agency id.
    pub agency_id: AgencyId,
    /// Its name in the manifest's `To`; `None` takes the name from the directory.
    pub name: Option<String>,
}

/// Where an attachment's bytes come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
    /// An unnamed temporary file (an attachment decoded from edXML), read by position.
    Spooled(Arc<std::fs::File>),
}

/// One attachment of an [`OutgoingDocument`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OutgoingAttachment {
    /// The name recipients see (a plain file name).
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Description (may be empty).
    pub description: String,
    pub(crate) source: Source,
}

impl OutgoingAttachment {
    /// A file, read twice while sending (a digest pass, then the encryption pass; a file that
    /// changes in between is refused). Its name is the file name, its type guessed from the
    /// extension.
    pub fn file(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{}: an attachment needs a file name in UTF-8",
                    path.display()
                ))
            })?
            .to_owned();
        check_attachment_name(&name)?;
        Ok(OutgoingAttachment {
            content_type: content_type_for(&name).to_owned(),
            name,
            description: String::new(),
            source: Source::Path(path),
        })
    }

    /// Bytes held in memory.
    pub fn bytes(
        name: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Arc<[u8]>>,
    ) -> Result<Self> {
        let name = name.into();
        check_attachment_name(&name)?;
        Ok(OutgoingAttachment {
            name,
            content_type: content_type.into(),
            description: String::new(),
            source: Source::Bytes(data.into()),
        })
    }

    /// Sets the name recipients see.
    pub fn named(mut self, name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        check_attachment_name(&name)?;
        self.name = name;
        Ok(self)
    }

    /// Sets the MIME type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

/// The MIME type Axis writes for a file name's extension (`application/octet-stream` when it
/// does not know it).
pub(crate) fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "json" => "application/json",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        _ => "application/octet-stream",
    }
}

/// A document to send: the edXML metadata, the recipients and the attachments.
///
/// [`OutgoingDocument::new`] takes what every document needs (number/notation and subject);
/// the builder methods add the rest, and everything else has a default: a "Công văn" (kind 1),
/// normal priority, a new document (business type 0), promulgated today, signed for by the
/// holder of the personal-signer certificate (its name and title), from this agency under its
/// directory name.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use axis_client::{OutgoingAttachment, OutgoingDocument, Priority};
/// use axis_client::signer::Code;
///
/// let doc = OutgoingDocument::new(Code::new("7816", "VPCP-TTĐT")?, "V/v kết nối, liên thông văn bản")
///     .to("000.00.00.H41".parse()?)
///     .to_named("000.00.00.H53".parse()?, "UBND tỉnh Tây Ninh")
///     .priority(Priority::Urgent)
///     .attach(OutgoingAttachment::bytes("cong-van.pdf", "application/pdf", b"%PDF-1.7".to_vec())?);
/// assert_eq!(doc.recipients.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OutgoingDocument {
    /// The recipient agencies (at least one, distinct).
    pub recipients: Vec<Recipient>,
    /// Number and notation (số, ký hiệu).
    pub code: Code,
    /// Subject (trích yếu).
    pub subject: String,
    /// Content summary (may be empty).
    pub content: String,
    /// Document type; default kind 1 "Công văn".
    pub document_type: DocumentType,
    /// Place of promulgation (may be empty).
    pub place: String,
    /// Date of promulgation; `None`: today (UTC).
    pub date: Option<Date>,
    /// Who signs with authority; `None`: the personal-signer certificate's name and title.
    pub signer: Option<SignerInfo>,
    /// Due date (hạn xử lý).
    pub due_date: Option<Date>,
    /// ToPlaces (nơi nhận).
    pub to_places: Vec<String>,
    /// Urgency.
    pub priority: Priority,
    /// Other edXML `OtherInfo` fields.
    pub other: OtherInfo,
    /// Documents this one answers.
    pub response_for: Vec<DocumentId>,
    /// New (default), recall, update or replace.
    pub business: Business,
    /// The attachments, in order.
    pub attachments: Vec<OutgoingAttachment>,
    /// The sender as written in the manifest's `From`; `None`: this agency with its directory
    /// name.
    pub sender: Option<Organization>,
    /// The message id (idempotency key); `None`: a fresh random one. Give the id of an earlier
    /// attempt to retry it: the axis then returns the receipt of the first acceptance.
    pub message_id: Option<MessageId>,
    /// The edXML package this document was made from ([`OutgoingDocument::from_edxml`]).
    pub(crate) edxml: Option<Arc<axis_edxml::Edoc>>,
}

impl OutgoingDocument {
    /// A new document with its code (number/notation) and subject; add recipients with
    /// [`OutgoingDocument::to`] and attachments with [`OutgoingDocument::attach`].
    pub fn new(code: Code, subject: impl Into<String>) -> Self {
        OutgoingDocument {
            recipients: Vec::new(),
            code,
            subject: subject.into(),
            content: String::new(),
            document_type: DocumentType {
                kind: 1,
                detail: 0,
                name: "Công văn".to_owned(),
            },
            place: String::new(),
            date: None,
            signer: None,
            due_date: None,
            to_places: Vec::new(),
            priority: Priority::Normal,
            other: OtherInfo::default(),
            response_for: Vec::new(),
            business: Business::New,
            attachments: Vec::new(),
            sender: None,
            message_id: None,
            edxml: None,
        }
    }

    /// Adds a recipient agency (its name from the directory).
    pub fn to(mut self, agency: AgencyId) -> Self {
        self.recipients.push(Recipient {
            agency_id: agency,
            name: None,
        });
        self
    }

    /// Adds a recipient agency with the name to write in the manifest.
    pub fn to_named(mut self, agency: AgencyId, name: impl Into<String>) -> Self {
        self.recipients.push(Recipient {
            agency_id: agency,
            name: Some(name.into()),
        });
        self
    }

    /// Adds an attachment.
    pub fn attach(mut self, attachment: OutgoingAttachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Adds a file as an attachment (see [`OutgoingAttachment::file`]).
    pub fn attach_file(self, path: impl Into<PathBuf>) -> Result<Self> {
        Ok(self.attach(OutgoingAttachment::file(path)?))
    }

    /// Sets the urgency.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Sets the document type.
    pub fn document_type(mut self, kind: u8, name: impl Into<String>) -> Self {
        self.document_type = DocumentType {
            kind,
            detail: 0,
            name: name.into(),
        };
        self
    }

    /// Sets the place and date of promulgation.
    pub fn promulgated(mut self, place: impl Into<String>, date: Date) -> Self {
        self.place = place.into();
        self.date = Some(date);
        self
    }

    /// Sets who signs with authority (competence, e.g. "KT. BỘ TRƯỞNG", position, full name).
    pub fn signed_by(
        mut self,
        competence: impl Into<String>,
        position: impl Into<String>,
        full_name: impl Into<String>,
    ) -> Self {
        self.signer = Some(SignerInfo {
            competence: competence.into(),
            position: position.into(),
            full_name: full_name.into(),
        });
        self
    }

    /// Sets the content summary.
    pub fn content(mut self, content: impl Into<String>) -> Self {
        self.content = content.into();
        self
    }

    /// Sets the due date.
    pub fn due(mut self, date: Date) -> Self {
        self.due_date = Some(date);
        self
    }

    /// Sets the business type (recall, update or replace of an earlier document).
    pub fn business(mut self, business: Business) -> Self {
        self.business = business;
        self
    }

    /// Uses this message id (to retry an earlier attempt idempotently).
    pub fn message_id(mut self, id: MessageId) -> Self {
        self.message_id = Some(id);
        self
    }
}

/// The verified outcome of [`Client::send`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SendReceipt {
    /// The message id (keep it: statuses, history and retries use it).
    pub message_id: MessageId,
    /// The DocumentId of the document sent.
    pub document_id: DocumentId,
    /// When the axis accepted it.
    pub accepted_at: OffsetDateTime,
    /// The acceptance entry's position in the axis's log.
    pub leaf_index: u64,
    /// Size of the signed tree it was proven in.
    pub tree_size: u64,
    /// The axis had already accepted this message id: this is the receipt of that first
    /// acceptance, and nothing new was stored.
    pub duplicate: bool,
    /// Whether the receipt covers the exact bytes of this upload (routing header, signature,
    /// ciphertext). Always true unless `duplicate`: a retry that sealed the document again gets
    /// the receipt of the first upload, whose ciphertext differs (a fresh content key).
    pub covers_this_upload: bool,
    /// The verified log evidence, to archive.
    pub evidence: Evidence,
}

/// A signed and encrypted document ready to upload ([`Client::seal`], [`Client::submit`]): the
/// signed routing header, the key envelope and the ciphertext (in memory up to
/// [`SPOOL_IN_MEMORY`], else in an unnamed temporary file removed when this is dropped). Cheap
/// to clone.
#[derive(Clone)]
pub struct SealedDocument {
    message_id: MessageId,
    document_id: DocumentId,
    sealed: Sealed,
    spool: SharedSpool,
    /// Some recipient's entry came from the directory cache without asking the axis.
    from_cache: bool,
}

impl SealedDocument {
    /// The message id.
    pub fn message_id(&self) -> MessageId {
        self.message_id
    }

    /// The DocumentId.
    pub fn document_id(&self) -> &DocumentId {
        &self.document_id
    }

    /// The signed routing header and the key envelope.
    pub fn sealed(&self) -> &Sealed {
        &self.sealed
    }

    /// Ciphertext size in bytes.
    pub fn ciphertext_len(&self) -> u64 {
        self.spool.len()
    }

    /// Writes the ciphertext, to keep the sealed document (a durable outbox keeps these bytes
    /// with [`SealedDocument::sealed`] and submits them again after a restart with
    /// [`SealedDocument::from_parts`]: the same bytes, so the axis answers a repeat with the
    /// first acceptance).
    pub fn write_ciphertext(&self, out: &mut dyn std::io::Write) -> Result<()> {
        let io = |e| Error::io("writing the sealed document out", e);
        match &self.spool {
            SharedSpool::Memory(v) => out.write_all(v).map_err(io),
            SharedSpool::File(f, len) => {
                let mut buf = vec![0u8; READ_BUF];
                let mut at = 0u64;
                while at < *len {
                    let n = match read_at(f, &mut buf, at) {
                        Ok(0) => {
                            return Err(io(std::io::Error::from(
                                std::io::ErrorKind::UnexpectedEof,
                            )));
                        }
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(io(e)),
                    };
                    out.write_all(&buf[..n]).map_err(io)?;
                    at += n as u64;
                }
                Ok(())
            }
        }
    }

    /// A sealed document kept earlier (see [`SealedDocument::write_ciphertext`]): the routing
    /// header and submission signature as [`SealedDocument::sealed`] gave them, the key
    /// envelope, and the ciphertext in a file. The header must parse and the file have the
    /// length the header signs; everything else is checked by the axis at
    /// [`Client::submit`], as for any submission.
    pub fn from_parts(
        document_id: DocumentId,
        routing_header: &[u8],
        submission_signature: Vec<u8>,
        key_envelope: Vec<u8>,
        ciphertext: std::fs::File,
    ) -> Result<Self> {
        let submission = axis_signer::Submission::parse(routing_header, submission_signature)
            .map_err(|e| Error::signer("the kept routing header", e))?;
        let header = submission.header().header();
        let len = ciphertext
            .metadata()
            .map_err(|e| Error::io("the kept ciphertext", e))?
            .len();
        if len != header.ciphertext_len {
            return Err(Error::invalid(format!(
                "the kept ciphertext of {} has {len} bytes; its routing header signs {}",
                header.message_id, header.ciphertext_len
            )));
        }
        Ok(SealedDocument {
            message_id: header.message_id,
            document_id,
            sealed: Sealed {
                submission,
                key_envelope,
            },
            spool: SharedSpool::File(Arc::new(ciphertext), len),
            from_cache: false,
        })
    }
}

impl std::fmt::Debug for SealedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedDocument")
            .field("message_id", &self.message_id)
            .field("document_id", &self.document_id)
            .field("ciphertext_len", &self.spool.len())
            .finish()
    }
}

/// The sealed document waiting to be uploaded: in memory, or in an unnamed temporary file.
enum Spool {
    Memory(Vec<u8>),
    File(std::fs::File, u64),
}

impl Spool {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        use std::io::Write as _;
        match self {
            Spool::Memory(buf) if buf.len() + data.len() <= SPOOL_IN_MEMORY => {
                buf.extend_from_slice(data);
                Ok(())
            }
            Spool::Memory(buf) => {
                let mut file = tempfile::tempfile()?;
                file.write_all(buf)?;
                file.write_all(data)?;
                let len = (buf.len() + data.len()) as u64;
                *self = Spool::File(file, len);
                Ok(())
            }
            Spool::File(file, len) => {
                file.write_all(data)?;
                *len += data.len() as u64;
                Ok(())
            }
        }
    }

    fn into_shared(self) -> SharedSpool {
        match self {
            Spool::Memory(v) => SharedSpool::Memory(Arc::new(v)),
            Spool::File(f, len) => SharedSpool::File(Arc::new(f), len),
        }
    }
}

#[derive(Clone)]
enum SharedSpool {
    Memory(Arc<Vec<u8>>),
    File(Arc<std::fs::File>, u64),
}

impl SharedSpool {
    fn len(&self) -> u64 {
        match self {
            SharedSpool::Memory(v) => v.len() as u64,
            SharedSpool::File(_, len) => *len,
        }
    }

    /// Sends `begin`, then the spool in chunks, into `tx` (a blocking thread: memory stays at
    /// the channel's few chunks whatever the document's size). Stops when the call is gone.
    fn produce(
        &self,
        begin: pb::SubmitBegin,
        chunk: usize,
        tx: &mpsc::Sender<pb::SubmitRequest>,
    ) -> std::io::Result<()> {
        use pb::submit_request::Part;
        let send = |part| {
            tx.blocking_send(pb::SubmitRequest { part: Some(part) })
                .is_ok()
        };
        if !send(Part::Begin(begin)) {
            return Ok(());
        }
        match self {
            SharedSpool::Memory(v) => {
                for c in v.chunks(chunk) {
                    if !send(Part::Chunk(c.to_vec())) {
                        return Ok(());
                    }
                }
            }
            SharedSpool::File(f, len) => {
                let mut f: &std::fs::File = f;
                f.seek(SeekFrom::Start(0))?;
                let mut left = *len;
                while left > 0 {
                    let n = chunk.min(usize::try_from(left).unwrap_or(chunk));
                    let mut buf = vec![0u8; n];
                    f.read_exact(&mut buf)?;
                    left -= n as u64;
                    if !send(Part::Chunk(buf)) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}

/// How the personal signature of a document is made. (Passed once per document: the sizes of
/// the variants do not matter.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Personal {
    /// With the personal signer of the client's configuration.
    Key(KeyAndCert),
    /// None through Axis: the manifest says `sealOnly`.
    SealOnly,
    /// Made elsewhere and verified.
    Signed(axis_signer::PersonalSignature),
}

/// A document whose manifest is encoded and whose recipients are looked up, waiting for its
/// personal signature ([`Client::prepare`], [`Client::seal_prepared`]).
#[derive(Clone)]
pub struct PreparedDocument {
    manifest: axis_signer::ManifestBytes,
    sources: Vec<Source>,
    recipients: Vec<VerifiedCert>,
    message_id: MessageId,
    from_cache: bool,
}

impl std::fmt::Debug for PreparedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedDocument")
            .field("message_id", &self.message_id)
            .field("document_id", self.manifest.document_id())
            .finish_non_exhaustive()
    }
}

impl PreparedDocument {
    /// The manifest: [`ManifestBytes::as_bytes`](axis_signer::ManifestBytes::as_bytes) are
    /// the exact bytes the person signs (a detached CMS SignedData over them, FORMATS.md §5).
    pub fn manifest(&self) -> &axis_signer::ManifestBytes {
        &self.manifest
    }

    /// The message id the document will be sent under.
    pub fn message_id(&self) -> MessageId {
        self.message_id
    }
}

/// A personal signature made outside the SDK over a [`PreparedDocument`]'s manifest.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ExternalSignature {
    /// A detached CMS SignedData (DER) over the manifest bytes.
    Cms(Vec<u8>),
    /// A raw signature over the signed attributes [`Client::to_be_signed`] returned for this
    /// certificate (DER) and signing time.
    Raw {
        /// The person's certificate, DER.
        certificate: Vec<u8>,
        /// The signing time given to [`Client::to_be_signed`].
        signing_time: OffsetDateTime,
        /// RSA PKCS#1 v1.5 or ECDSA P-256 (DER or `r ‖ s`), with SHA-256.
        signature: Vec<u8>,
    },
}

/// Everything the blocking sealing step needs, owned.
struct SealJob {
    manifest: axis_signer::ManifestBytes,
    sources: Vec<Source>,
    personal: Personal,
    seal: KeyAndCert,
    recipients: Vec<VerifiedCert>,
    message_id: MessageId,
    now: OffsetDateTime,
}

impl Client {
    /// Sends a document.
    ///
    /// 1. Every recipient is looked up in the directory (or taken from the directory cache, see
    ///    [`crate::CachePolicy`]); its encryption certificate must verify for the
    ///    agency-encryption profile with this client's trust store now and be bound to that
    ///    recipient's id (the directory cannot substitute a key).
    /// 2. A first pass over each attachment gives its size and SHA-256 for the manifest, which is
    ///    checked, encoded, and signed by the person with authority, then by the agency seal.
    /// 3. The document is encrypted for the recipients into a spool (memory up to
    ///    [`SPOOL_IN_MEMORY`], else a temporary file): the signed routing header carries the
    ///    ciphertext digest, so it is known only at the end, and must be sent first.
    /// 4. `Submit` streams the header, then the ciphertext in chunks of at most the axis's
    ///    limit (and [`MAX_UPLOAD_CHUNK`]) through a bounded queue; a broken or silent
    ///    connection is retried with the same sealed bytes on the next endpoint (same message
    ///    id: never stored twice).
    /// 5. The acceptance receipt is verified: log evidence under a signed tree head (pinned to
    ///    `log_key` if configured), and an entry that records exactly this submission.
    ///
    /// If the axis refuses a document sealed with cached directory entries (a recipient may
    /// have renewed its encryption certificate since), the entries are dropped and the
    /// document is sealed again from a fresh look-up and submitted once more.
    pub async fn send(&self, doc: OutgoingDocument) -> Result<SendReceipt> {
        let again = doc.clone();
        let sealed = self.seal(doc).await?;
        match self.submit(&sealed).await {
            Err(e)
                if sealed.from_cache
                    && matches!(e.kind(), ErrorKind::Rejected { .. })
                    && e.reason() != Some(reasons::MESSAGE_ID_CONFLICT) =>
            {
                tracing::info!(
                    message_id = %sealed.message_id,
                    error = %e,
                    "refused after sealing from cached directory entries; sealing again"
                );
                for r in &again.recipients {
                    self.inner.directory_cache.remove(&r.agency_id);
                }
                let again = again.message_id(sealed.message_id);
                let resealed = self.seal(again).await?;
                self.submit(&resealed).await
            }
            other => other,
        }
    }

    /// Signs and encrypts a document without uploading it (steps 1 to 3 of [`Client::send`]);
    /// [`Client::submit`] uploads it, as often as needed.
    pub async fn seal(&self, doc: OutgoingDocument) -> Result<SealedDocument> {
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let personal = self.personal_at(&store, now)?.ok_or_else(|| {
            Error::config(
                "sending needs the personal signer: add a [personal] cert and key to the \
                 configuration",
            )
        })?;
        let default_signer = SignerInfo {
            competence: String::new(),
            position: personal.cert.title().unwrap_or_default().to_owned(),
            full_name: personal.cert.common_name().unwrap_or_default().to_owned(),
        };
        let prepared = self
            .prepare_with(doc, SignatureForm::PersonAndSeal, Some(default_signer))
            .await?;
        self.finish_sealing(prepared, Personal::Key(personal)).await
    }

    /// Seals a document with the agency seal alone: its manifest says `sealOnly`, that no
    /// personal signature was made through Axis, and every recipient reads that. For systems
    /// that cannot take part in the personal signature (a DMS speaking the VXP protocol to the
    /// gateway); the document must name its signer (`signed_by`), as the sending system states
    /// it.
    pub async fn seal_without_personal_signature(
        &self,
        doc: OutgoingDocument,
    ) -> Result<SealedDocument> {
        let prepared = self
            .prepare_with(doc, SignatureForm::SealOnly, None)
            .await?;
        self.finish_sealing(prepared, Personal::SealOnly).await
    }

    /// Step 1 and the first pass of step 2 of [`Client::send`] for a document the person with
    /// authority signs elsewhere (on their own token): the manifest is encoded, and
    /// [`PreparedDocument::manifest`] gives the bytes to sign. The document must name its
    /// signer (`signed_by`) as the certificate does. [`Client::seal_prepared`] takes the
    /// signature.
    pub async fn prepare(&self, doc: OutgoingDocument) -> Result<PreparedDocument> {
        self.prepare_with(doc, SignatureForm::PersonAndSeal, None)
            .await
    }

    /// For a signer that makes only raw signatures: checks `certificate` (DER) is a personal
    /// signer of this agency trusted now, and returns the exact bytes it signs at
    /// `signing_time` (the CMS signed attributes over the manifest; FORMATS.md §5.1).
    pub async fn to_be_signed(
        &self,
        prepared: &PreparedDocument,
        certificate: &[u8],
        signing_time: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        let cert = self.personal_certificate(certificate).await?;
        axis_signer::PersonalSignature::to_be_signed(&prepared.manifest, &cert, signing_time)
            .map_err(|e| Error::building("the bytes to sign", e))
    }

    /// Verifies `certificate` (DER) as a personal signer of this agency now.
    pub async fn personal_certificate(&self, certificate: &[u8]) -> Result<VerifiedCert> {
        let store = self.trust_store().await?;
        let cert = store
            .verify(
                certificate,
                Profile::PersonalSigner,
                OffsetDateTime::now_utc(),
            )
            .map_err(|e| {
                let reason = match e {
                    axis_pki::Error::Revoked { .. } => reasons::CERTIFICATE_REVOKED,
                    _ => reasons::CERTIFICATE_REJECTED,
                };
                Error::invalid(format!("the personal certificate: {e}"))
                    .with_reason(Some(reason.to_owned()))
            })?;
        let me = self.me()?;
        if cert.agency_id() != Some(me) {
            return Err(Error::invalid(format!(
                "the personal certificate is not of this agency ({me})"
            ))
            .with_reason(Some(reasons::SIGNER_AGENCY_MISMATCH.to_owned())));
        }
        Ok(cert)
    }

    /// Verifies the person's signature over a prepared document's manifest — against the
    /// personal-signer profile, this client's trust store now, the manifest's sender agency and
    /// signer name — then seals and encrypts it (steps 2 and 3 of [`Client::send`]). A
    /// refused signature is an [`ErrorKind::InvalidInput`] whose reason says why
    /// (`SIGNATURE_INVALID`, `CERTIFICATE_REJECTED`, `CERTIFICATE_REVOKED`,
    /// `SIGNER_AGENCY_MISMATCH`, `SIGNING_TIME_INVALID`).
    pub async fn seal_prepared(
        &self,
        prepared: PreparedDocument,
        signature: ExternalSignature,
    ) -> Result<SealedDocument> {
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let manifest = prepared.manifest.clone();
        let verified = match signature {
            ExternalSignature::Cms(cms) => {
                axis_signer::PersonalSignature::verify(manifest, cms, &store, now)
            }
            ExternalSignature::Raw {
                certificate,
                signing_time,
                signature,
            } => {
                let cert = self.personal_certificate(&certificate).await?;
                axis_signer::PersonalSignature::from_raw(
                    manifest,
                    &cert,
                    signing_time,
                    &signature,
                    &store,
                    now,
                )
            }
        }
        .map_err(personal_signature_refused)?;
        self.finish_sealing(prepared, Personal::Signed(verified))
            .await
    }

    /// Step 1 and step 2's first pass.
    async fn prepare_with(
        &self,
        doc: OutgoingDocument,
        form: SignatureForm,
        default_signer: Option<SignerInfo>,
    ) -> Result<PreparedDocument> {
        let me = self.me()?.clone();
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let seal = self.require_seal(&store, now)?;
        if doc.recipients.iter().any(|r| r.agency_id == me) {
            return Err(sender_is_recipient(&me));
        }
        let limits = self.limits().await?;
        check_recipients(&doc.recipients, limits.max_recipients)?;

        // Step 1.
        let looked_up: Vec<(Organization, VerifiedCert, bool)> =
            futures_util::stream::iter(doc.recipients.iter().cloned())
                .map(|r| self.recipient(r, &store, now))
                .buffered(LOOKUPS_IN_FLIGHT)
                .try_collect()
                .await?;
        let from_cache = looked_up.iter().any(|(_, _, cached)| *cached);
        let sender = match doc.sender.clone() {
            Some(org) if org.organ_id == me => org,
            Some(org) => {
                return Err(Error::invalid(format!(
                    "the sender is {}, but this client is agency {me}",
                    org.organ_id
                )));
            }
            None => Organization::new(me.clone(), self.my_name(&me, &seal).await?),
        };
        let message_id = match doc.message_id {
            Some(id) => id,
            None => MessageId::random().map_err(|e| Error::building("message id", e))?,
        };
        let edxml = doc.edxml.clone();
        let signer = doc.signer.clone().or(default_signer).ok_or_else(|| {
            Error::invalid(
                "the document must name who signs with authority (signed_by, or the edXML \
                 SignerInfo): no personal signer is configured to name",
            )
        })?;
        let (to, recipients): (Vec<_>, Vec<_>) =
            looked_up.into_iter().map(|(o, c, _)| (o, c)).unzip();
        let manifest = Manifest {
            from: sender,
            to,
            code: doc.code,
            promulgation: Promulgation {
                place: doc.place,
                date: doc.date.unwrap_or_else(|| now.date()),
            },
            document_type: doc.document_type,
            subject: doc.subject,
            content: doc.content,
            signer,
            due_date: doc.due_date,
            to_places: doc.to_places,
            priority: doc.priority,
            other: doc.other,
            response_for: doc.response_for,
            business: doc.business,
            // Filled by the first pass.
            attachments: Vec::new(),
            signature_form: form,
        };
        let mut names = Vec::with_capacity(doc.attachments.len());
        let mut sources = Vec::with_capacity(doc.attachments.len());
        for a in doc.attachments {
            names.push((a.name, a.content_type, a.description));
            sources.push(a.source);
        }
        let (mut manifest, expected) = match edxml {
            Some(edoc) => crate::edxml::prepare(&edoc, manifest, &mut names, &mut sources)?,
            None => (manifest, None),
        };
        // The form is the sender's to state, not the package's.
        manifest.signature_form = form;
        // Step 2's first pass, on a blocking thread (file reads).
        let (manifest, sources) = tokio::task::spawn_blocking(move || {
            first_pass(manifest, &sources, names, expected).map(|m| (m, sources))
        })
        .await
        .map_err(|e| Error::new(ErrorKind::Io, format!("sealing stopped: {e}")))??;
        Ok(PreparedDocument {
            manifest,
            sources,
            recipients,
            message_id,
            from_cache,
        })
    }

    /// Steps 2 (the signatures) and 3.
    async fn finish_sealing(
        &self,
        prepared: PreparedDocument,
        personal: Personal,
    ) -> Result<SealedDocument> {
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let seal = self.require_seal(&store, now)?;
        let PreparedDocument {
            manifest,
            sources,
            recipients,
            message_id,
            from_cache,
        } = prepared;
        let document_id = manifest.document_id().clone();
        let job = SealJob {
            manifest,
            sources,
            personal,
            seal,
            recipients,
            message_id,
            now,
        };
        let (sealed, spool) = tokio::task::spawn_blocking(move || seal_document(job))
            .await
            .map_err(|e| Error::new(ErrorKind::Io, format!("sealing stopped: {e}")))??;
        Ok(SealedDocument {
            message_id,
            document_id,
            sealed,
            spool: spool.into_shared(),
            from_cache,
        })
    }

    /// Uploads a sealed document and verifies the acceptance receipt (steps 4 and 5 of
    /// [`Client::send`]). Calling it again with the same [`SealedDocument`] (after a failure
    /// whose outcome is unknown) is safe: the axis recognises the identical submission and
    /// returns the receipt of the first acceptance (`duplicate`).
    pub async fn submit(&self, document: &SealedDocument) -> Result<SendReceipt> {
        let SealedDocument {
            message_id,
            document_id,
            sealed,
            spool,
            from_cache: _,
        } = document;
        let limits = self.limits().await?;
        if limits.max_document_bytes > 0 && spool.len() > limits.max_document_bytes {
            return Err(Error::invalid(format!(
                "the sealed document is {} bytes; this axis accepts at most {}",
                spool.len(),
                limits.max_document_bytes
            )));
        }

        // Step 4.
        let chunk = match limits.max_chunk_bytes {
            0 => MAX_UPLOAD_CHUNK,
            n => (n as usize).min(MAX_UPLOAD_CHUNK),
        };
        let begin = pb::SubmitBegin {
            routing_header: sealed.submission.header().as_bytes().to_vec(),
            submission_signature: sealed.submission.signature().to_vec(),
            key_envelope: sealed.key_envelope.clone(),
        };
        let response = match self.upload(begin, spool, chunk, *message_id).await {
            Ok(r) => r,
            Err(e) if e.reason() == Some(reasons::MESSAGE_ID_CONFLICT) => {
                return self.earlier_acceptance(document, e).await;
            }
            Err(e) => return Err(e),
        };

        // Step 5.
        let receipt = response.receipt.ok_or_else(|| {
            Error::verification("submit: the axis answered without an acceptance receipt")
        })?;
        let ev = crate::convert::evidence(receipt.evidence, "submit")?;
        let store = self.trust_store().await?;
        let (verified, evidence) = proof::verify(
            &ev,
            &store,
            OffsetDateTime::now_utc(),
            self.log_key(),
            "the acceptance",
        )?;
        let covers_this_upload = check_acceptance(&verified, sealed, receipt.duplicate)?;
        Ok(SendReceipt {
            message_id: *message_id,
            document_id: document_id.clone(),
            accepted_at: evidence.logged_at,
            leaf_index: evidence.leaf_index,
            tree_size: evidence.tree_size,
            duplicate: receipt.duplicate,
            covers_this_upload,
            evidence,
        })
    }

    /// The message id was accepted before for another sealing of it (a retry after a restart,
    /// which sealed the document again with a fresh content key): the verified receipt of that
    /// first acceptance, from the history, if this agency sent it.
    async fn earlier_acceptance(
        &self,
        document: &SealedDocument,
        conflict: Error,
    ) -> Result<SendReceipt> {
        let id = document.message_id;
        let history = match self.get_history(&id, false).await {
            Ok(h) => h,
            Err(e) => {
                tracing::debug!(%id, error = %e, "no history for a conflicting message id");
                return Err(conflict);
            }
        };
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let Ok(first) =
            axis_signer::Submission::parse(&history.routing_header, history.submission_signature)
                .and_then(|s| s.verify(&store, now))
        else {
            return Err(conflict);
        };
        let me = self.me()?;
        if &first.header().sender != me {
            return Err(conflict);
        }
        let ev = history
            .acceptance
            .and_then(|a| a.evidence)
            .ok_or_else(|| Error::verification("the history has no acceptance receipt"))?;
        let (verified, evidence) =
            proof::verify(&ev, &store, now, self.log_key(), "the earlier acceptance")?;
        verified
            .entry()
            .check_acceptance_of(first.submission())
            .map_err(|e| Error::signer("the earlier acceptance entry", e))?;
        Ok(SendReceipt {
            message_id: id,
            document_id: document.document_id.clone(),
            accepted_at: evidence.logged_at,
            leaf_index: evidence.leaf_index,
            tree_size: evidence.tree_size,
            duplicate: true,
            covers_this_upload: false,
            evidence,
        })
    }

    /// Looks a recipient up (or takes it from the directory cache) and verifies its encryption
    /// certificate now; the bool says the entry came from the cache without asking the axis.
    async fn recipient(
        &self,
        r: Recipient,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<(Organization, VerifiedCert, bool)> {
        let (info, cached) = self.directory_entry(&r.agency_id).await.map_err(|e| {
            if *e.kind() == ErrorKind::NotFound {
                Error::invalid(format!(
                    "recipient {} is not in the axis directory; check the agency id",
                    r.agency_id
                ))
                .with_reason(e.reason().map(str::to_owned))
            } else {
                e
            }
        })?;
        let (info, cert, cached) = match verify_recipient(&info, &r.agency_id, store, now) {
            Ok(cert) => (info, cert, cached),
            Err(e) if cached => {
                // A cached certificate that no longer verifies (revoked, expired): forget it
                // and ask the directory, which may have a renewed one.
                self.inner.directory_cache.remove(&r.agency_id);
                tracing::info!(recipient = %r.agency_id, error = %e, "cached entry no longer verifies");
                let info = self.lookup_agency(&r.agency_id).await.map_err(|_| e)?;
                let cert = verify_recipient(&info, &r.agency_id, store, now)?;
                (info, cert, false)
            }
            Err(e) => return Err(e),
        };
        if !cached {
            // Dated when verified against the axis's answer; a cached entry keeps its age.
            self.inner
                .directory_cache
                .put(info.clone(), std::time::Instant::now());
        }
        let name = r.name.unwrap_or(info.name);
        Ok((Organization::new(r.agency_id, name), cert, cached))
    }

    /// A directory entry: from the cache while fresh; else from the axis, falling back to a
    /// cached entry younger than the maximum age when the axis is unreachable. The bool says it
    /// came from the cache.
    async fn directory_entry(&self, id: &AgencyId) -> Result<(AgencyInfo, bool)> {
        let cache = &self.inner.directory_cache;
        let usable = match cache.get(id, std::time::Instant::now()) {
            Cached::Fresh(info) => return Ok((info, true)),
            Cached::Usable(info, age) => Some((info, age)),
            Cached::Missing => None,
        };
        if let Some((info, _)) = &usable
            && self.recently_offline()
        {
            return Ok((info.clone(), true));
        }
        let attempts = match usable {
            Some(_) => Attempts::one_round(self.nodes().len()),
            None => Attempts::new(self.nodes().len()),
        };
        match self.lookup_agency_with(id, attempts).await {
            Ok(info) => {
                self.set_offline(false);
                Ok((info, false))
            }
            Err(e) => match usable {
                Some((info, age)) if e.is_retryable() => {
                    tracing::warn!(
                        agency = %id,
                        age_secs = age.as_secs(),
                        error = %e,
                        "the directory is unreachable; using the entry verified earlier"
                    );
                    self.set_offline(true);
                    Ok((info, true))
                }
                _ => {
                    if *e.kind() == ErrorKind::NotFound {
                        cache.remove(id);
                    }
                    Err(e)
                }
            },
        }
    }

    /// This agency's name: the directory's (cached like a recipient's entry), else the seal
    /// certificate's common name.
    async fn my_name(&self, me: &AgencyId, seal: &KeyAndCert) -> Result<String> {
        match self.directory_entry(me).await {
            Ok((info, cached)) if !info.name.is_empty() => {
                if !cached {
                    self.inner
                        .directory_cache
                        .put(info.clone(), std::time::Instant::now());
                }
                Ok(info.name)
            }
            Ok(_) => Ok(seal_name(seal)),
            Err(e) if *e.kind() == ErrorKind::NotFound => Ok(seal_name(seal)),
            Err(e) => Err(e),
        }
    }

    /// Streams one submission; a broken or silent connection, or UNAVAILABLE, is retried with
    /// the same bytes on the next endpoint.
    ///
    /// Deadlines: the upload fails over when the axis takes no chunk for
    /// [`crate::Timeouts::stream_idle`] (the connection's own PINGs catch a dead peer in the
    /// same time), and when the answer does not come within [`crate::Timeouts::call`] of the
    /// last chunk.
    async fn upload(
        &self,
        begin: pb::SubmitBegin,
        spool: &SharedSpool,
        chunk: usize,
        message_id: MessageId,
    ) -> Result<pb::SubmitResponse> {
        let nodes = self.nodes();
        let call = format!("submit {message_id}");
        let mut attempts = Attempts::new(nodes.len());
        loop {
            let (index, failure) = match nodes.conn().await {
                Err((index, failure)) => {
                    nodes.failed(index, None, &call, &failure);
                    (index, failure)
                }
                Ok(conn) => {
                    let (tx, rx) = mpsc::channel(UPLOAD_QUEUE);
                    let producer = {
                        let spool = spool.clone();
                        let begin = begin.clone();
                        tokio::task::spawn_blocking(move || spool.produce(begin, chunk, &tx))
                    };
                    let progress = Arc::new(Progress::new());
                    let stream = ProgressStream {
                        rx,
                        progress: progress.clone(),
                    };
                    let result = progress
                        .watch(
                            nodes::exchange(conn.channel.clone()).submit(stream),
                            nodes.timeouts.stream_idle,
                            nodes.timeouts.call,
                        )
                        .await;
                    let produced = producer.await;
                    let failure = match (result, produced) {
                        (_, Ok(Err(e))) => {
                            return Err(Error::io("reading the sealed document back", e));
                        }
                        (_, Err(e)) => {
                            return Err(Error::new(
                                ErrorKind::Io,
                                format!("the upload stopped: {e}"),
                            ));
                        }
                        (Ok(Ok(r)), Ok(Ok(()))) => return Ok(r.into_inner()),
                        (Ok(Err(s)), _) if is_transient(&s) => Failure::Status(s),
                        (Ok(Err(s)), _) => return Err(status_error(&call, &s)),
                        (Err(f), _) => f,
                    };
                    nodes.conn_failed(&conn, &call, &failure);
                    (conn.index, failure)
                }
            };
            match attempts.failed() {
                Some(pause) => {
                    tracing::warn!(
                        %message_id, attempt = attempts.tried(), %failure,
                        "submit failed; retrying with the same sealed bytes"
                    );
                    tokio::time::sleep(pause).await;
                }
                None => return Err(failure.into_error(&call, nodes.url(index), attempts.tried())),
            }
        }
    }
}

/// How far an upload got: when the axis last took a message of the stream, and whether it took
/// the last one.
struct Progress {
    state: std::sync::Mutex<(std::time::Instant, bool)>,
}

impl Progress {
    fn new() -> Self {
        Progress {
            state: std::sync::Mutex::new((std::time::Instant::now(), false)),
        }
    }

    fn record(&self, finished: bool) {
        if let Ok(mut s) = self.state.lock() {
            *s = (std::time::Instant::now(), finished);
        }
    }

    /// When the upload counts as stalled: `idle` after the last message taken, or `answer`
    /// after the last one if the stream is complete.
    fn deadline(&self, idle: Duration, answer: Duration) -> (tokio::time::Instant, Failure) {
        let (at, finished) = self
            .state
            .lock()
            .map(|s| *s)
            .unwrap_or((std::time::Instant::now(), false));
        let (after, what) = if finished {
            (answer, "the answer after the last chunk")
        } else {
            (idle, "the upload went silent (no chunk taken)")
        };
        (
            tokio::time::Instant::from_std(at + after),
            Failure::Deadline { what, after },
        )
    }

    /// Runs the call until it ends or stalls.
    async fn watch<F: std::future::Future>(
        &self,
        call: F,
        idle: Duration,
        answer: Duration,
    ) -> std::result::Result<F::Output, Failure> {
        tokio::pin!(call);
        loop {
            let (deadline, _) = self.deadline(idle, answer);
            tokio::select! {
                out = &mut call => return Ok(out),
                _ = tokio::time::sleep_until(deadline) => {
                    let (deadline, failure) = self.deadline(idle, answer);
                    if deadline <= tokio::time::Instant::now() {
                        return Err(failure);
                    }
                }
            }
        }
    }
}

/// The upload's request stream, recording each message the transport takes.
struct ProgressStream {
    rx: mpsc::Receiver<pb::SubmitRequest>,
    progress: Arc<Progress>,
}

impl futures_util::Stream for ProgressStream {
    type Item = pb::SubmitRequest;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = self.rx.poll_recv(cx);
        if let std::task::Poll::Ready(item) = &polled {
            self.progress.record(item.is_none());
        }
        polled
    }
}

/// A recipient's encryption certificate, verified now for its profile and bound to its id (the
/// directory, or a cache of it, cannot substitute a key).
fn verify_recipient(
    info: &AgencyInfo,
    id: &AgencyId,
    store: &TrustStore,
    now: OffsetDateTime,
) -> Result<VerifiedCert> {
    let cert = store
        .verify(&info.encryption_certificate, Profile::AgencyEncryption, now)
        .map_err(|e| {
            Error::verification(format!(
                "the encryption certificate of recipient {id} does not verify: {e}; the \
                 recipient must renew it (or the axis operator update the directory)"
            ))
        })?;
    if cert.agency_id() != Some(id) {
        return Err(Error::verification(format!(
            "the directory gave, for recipient {id}, an encryption certificate of {}",
            cert.agency_id()
                .map_or_else(|| "no agency".to_owned(), ToString::to_string)
        )));
    }
    Ok(cert)
}

fn seal_name(seal: &KeyAndCert) -> String {
    seal.cert.common_name().unwrap_or_default().to_owned()
}

/// The axis's refusal of a document to its own sender, made here before anything is signed.
fn sender_is_recipient(me: &AgencyId) -> Error {
    Error::invalid(format!(
        "agency {me} cannot send to itself: a document for the agency's own files is filed in \
         its own DMS, not through the axis"
    ))
    .with_reason(Some(reasons::SENDER_IS_RECIPIENT.to_owned()))
}

fn check_recipients(recipients: &[Recipient], max: u32) -> Result<()> {
    if recipients.is_empty() {
        return Err(Error::invalid("a document needs at least one recipient"));
    }
    if max > 0 && recipients.len() > max as usize {
        return Err(Error::invalid(format!(
            "{} recipients; this axis accepts at most {max} per document",
            recipients.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for r in recipients {
        if !seen.insert(&r.agency_id) {
            return Err(Error::invalid(format!(
                "recipient {} is listed twice",
                r.agency_id
            )));
        }
    }
    Ok(())
}

/// Checks the acceptance entry against what was uploaded; returns whether it covers these exact
/// bytes (see [`SendReceipt::covers_this_upload`]).
fn check_acceptance(
    verified: &axis_evidence::VerifiedEvidence,
    sealed: &Sealed,
    duplicate: bool,
) -> Result<bool> {
    let entry = verified.entry();
    match entry.check_acceptance_of(&sealed.submission) {
        Ok(()) => Ok(true),
        Err(e) if duplicate => {
            // A retry that sealed again: the first acceptance is for other bytes of the same
            // message id. It must still be an acceptance of this message id from this sender.
            let h = sealed.submission.header().header();
            match &entry.entry().body {
                axis_evidence::EntryBody::Acceptance(a)
                    if entry.entry().message_id == h.message_id && a.sender == h.sender =>
                {
                    Ok(false)
                }
                _ => Err(Error::signer("the acceptance receipt", e)),
            }
        }
        Err(e) => Err(Error::signer(
            "the acceptance receipt does not record this submission",
            e,
        )),
    }
}

/// Step 2's first pass: each attachment's size and digest into the manifest, encoded.
fn first_pass(
    mut manifest: Manifest,
    sources: &[Source],
    names: Vec<(String, String, String)>,
    expected: Option<Vec<Attachment>>,
) -> Result<axis_signer::ManifestBytes> {
    for (source, (name, content_type, description)) in sources.iter().zip(names) {
        let mut digest = AttachmentDigest::new();
        each_block(source, |b| {
            digest.update(b);
            Ok(())
        })?;
        manifest
            .attachments
            .push(digest.finish(name, content_type, description));
    }
    if expected.is_some_and(|e| e != manifest.attachments) {
        return Err(Error::invalid(
            "the attachments decoded from the edXML package changed before they were signed; \
             send the package again",
        ));
    }
    manifest
        .encode()
        .map_err(|e| Error::building("the document's metadata", e))
}

/// The blocking part of sealing: signatures, encryption into a spool.
fn seal_document(job: SealJob) -> Result<(Sealed, Spool)> {
    let SealJob {
        manifest,
        sources,
        personal,
        seal,
        recipients,
        message_id,
        now,
    } = job;
    let sealer_key = seal.signer()?;
    let document = match personal {
        Personal::Key(personal) => {
            let person = personal.signer()?;
            SignedDocument::sign(manifest, &person, now, &sealer_key, now)
        }
        Personal::SealOnly => SignedDocument::seal_only(manifest, &sealer_key, now),
        Personal::Signed(signature) => {
            // Not before the person's signature (a signer's clock a little ahead).
            let at = now.max(signature.report().signing_time);
            SignedDocument::seal_signed(signature, &sealer_key, at)
        }
    }
    .map_err(|e| Error::building("signing the document", e))?;
    // Step 3.
    let mut sealer = Sealer::new(SealRequest {
        message_id,
        document: &document,
        recipients: &recipients,
        chunk_size: DEFAULT_CHUNK_SIZE,
    })
    .map_err(|e| Error::building("encrypting the document", e))?;
    let mut spool = Spool::Memory(Vec::new());
    let mut out = Vec::new();
    let spool_err = |e| Error::io("writing the sealed document to a temporary file", e);
    let attachments: Vec<Attachment> = document.manifest().manifest().attachments.clone();
    for (index, (source, expected)) in sources.iter().zip(&attachments).enumerate() {
        let mut digest = AttachmentDigest::new();
        each_block(source, |b| {
            digest.update(b);
            sealer
                .write_attachment(b, &mut out)
                .map_err(|e| changed(expected, Some(e)))?;
            spool.write(&out).map_err(spool_err)?;
            out.clear();
            Ok(())
        })?;
        let again = digest.finish("", "", "");
        if again.size != expected.size || again.sha256 != expected.sha256 {
            return Err(changed(expected, None));
        }
        sealer
            .end_attachment(&mut out)
            .map_err(|e| Error::building(&format!("attachment {index}"), e))?;
        spool.write(&out).map_err(spool_err)?;
        out.clear();
    }
    let sealed = sealer
        .finish(&sealer_key, now, &mut out)
        .map_err(|e| Error::building("sealing the document", e))?;
    spool.write(&out).map_err(spool_err)?;
    Ok((sealed, spool))
}

/// A personal signature made elsewhere that does not verify, with the reason the axis would
/// give: the signer's one classification ([`axis_signer::Error::signature_refusal`]), which
/// the axis applies to the signatures it checks.
fn personal_signature_refused(e: axis_signer::Error) -> Error {
    let reason = e.signature_refusal().reason();
    Error::building("the personal signature", e).with_reason(Some(reason.to_owned()))
}

fn changed(a: &Attachment, e: Option<axis_signer::Error>) -> Error {
    let err = Error::invalid(format!(
        "attachment {} changed while it was being sent; send it again once it is complete",
        a.name
    ));
    match e {
        Some(e) => err.with_source(e),
        None => err,
    }
}

/// Calls `f` with successive blocks of an attachment.
pub(crate) fn each_block(source: &Source, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
    match source {
        Source::Bytes(b) => f(b),
        Source::Spooled(file) => {
            let mut buf = vec![0u8; READ_BUF];
            let mut at = 0u64;
            loop {
                let n = match read_at(file, &mut buf, at) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(Error::io("reading a spooled attachment", e)),
                };
                at += n as u64;
                f(&buf[..n])?;
            }
        }
        Source::Path(path) => {
            let mut file = std::fs::File::open(path)
                .map_err(|e| Error::io(format!("attachment {}", path.display()), e))?;
            let mut buf = vec![0u8; READ_BUF];
            loop {
                let n = match file.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(Error::io(format!("reading {}", path.display()), e));
                    }
                };
                f(&buf[..n])?;
            }
        }
    }
}

/// Reads at a position without moving a shared cursor (clones of a document share the file).
#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

/// Reads at a position without moving a shared cursor (clones of a document share the file).
#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}
