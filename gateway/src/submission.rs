//! What a DMS hands over to send, in either form the JSON API takes, read within the body
//! budget and turned into one checked [`OutgoingDocument`]:
//!
//! - an **edXML package** (the raw body, or the multipart part `file_doc`), as VXP carries it;
//! - **JSON metadata and attachments**: a multipart body whose part `metadata` is a JSON object
//!   ([`Metadata`]) and whose other file parts are the attachments, in order.
//!
//! Both become the same document and the same outbox row; the idempotency digest covers every
//! byte handed over, so the same request repeated gets the first one's id.

use axis_client::signer::Code;
use axis_client::{AgencyId, OutgoingAttachment, OutgoingDocument, Priority};
use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest as _, Multipart, Request};
use axum::http::{StatusCode, header};
use futures_util::StreamExt as _;
use serde::Deserialize;

use crate::error::Refusal;
use axis_proto::reasons::gateway as gw;

/// Most attachments in a JSON-metadata send.
pub const MAX_PARTS: usize = 64;
/// Largest `metadata` part.
pub const MAX_METADATA: usize = 64 * 1024;

/// A document handed over, as read.
pub enum Submission {
    /// An edXML package.
    Edxml(Vec<u8>),
    /// JSON metadata and attachments (name, content type, bytes).
    Json {
        /// The `metadata` part, as sent.
        metadata: Vec<u8>,
        /// The file parts.
        files: Vec<(String, String, Vec<u8>)>,
    },
}

/// The metadata of a JSON send: the edXML MessageHeader fields a DMS fills in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// The recipients' agency ids (or the `to` query parameter).
    #[serde(default)]
    pub to: Vec<String>,
    /// Number and notation (số, ký hiệu).
    pub code: CodeJson,
    /// Subject (trích yếu).
    pub subject: String,
    /// Content summary.
    #[serde(default)]
    pub content: String,
    /// Document type (default kind 1, "Công văn").
    pub document_type: Option<DocumentTypeJson>,
    /// Place of promulgation.
    #[serde(default)]
    pub place: String,
    /// Date of promulgation, `YYYY-MM-DD` (default today).
    pub date: Option<String>,
    /// Who signs with authority.
    pub signer: Option<SignerJson>,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// ToPlaces (nơi nhận).
    #[serde(default)]
    pub to_places: Vec<String>,
    /// Urgency 0–4.
    #[serde(default)]
    pub priority: u64,
    /// Descriptions of the attachments, in order.
    #[serde(default)]
    pub descriptions: Vec<String>,
}

/// `code`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeJson {
    /// CodeNumber.
    pub number: String,
    /// CodeNotation.
    pub notation: String,
}

/// `document_type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentTypeJson {
    /// Kind (1: công văn…).
    pub kind: u8,
    /// TypeName.
    pub name: String,
}

/// `signer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerJson {
    /// Competence ("KT. BỘ TRƯỞNG").
    #[serde(default)]
    pub competence: String,
    /// Position.
    #[serde(default)]
    pub position: String,
    /// Full name.
    pub full_name: String,
}

impl Submission {
    /// SHA-256 over everything handed over (the repeat detector's key).
    pub fn digest(&self) -> [u8; 32] {
        match self {
            Submission::Edxml(body) => crate::outbox::body_digest(body),
            Submission::Json { metadata, files } => {
                let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
                ctx.update(b"axis-gateway json send\0");
                for part in std::iter::once((&b"metadata"[..], &b""[..], &metadata[..])).chain(
                    files
                        .iter()
                        .map(|(n, t, d)| (n.as_bytes(), t.as_bytes(), &d[..])),
                ) {
                    for field in [part.0, part.1, part.2] {
                        ctx.update(&(field.len() as u64).to_be_bytes());
                        ctx.update(field);
                    }
                }
                let mut out = [0u8; 32];
                out.copy_from_slice(ctx.finish().as_ref());
                out
            }
        }
    }

    /// The document to send; `to` replaces the recipients when given.
    pub fn document(&self, to: Option<Vec<AgencyId>>) -> Result<OutgoingDocument, Refusal> {
        let mut doc = match self {
            Submission::Edxml(body) => OutgoingDocument::from_edxml(crate::outbox::trim_body(body))
                .map_err(|e| Refusal::from_sdk("the edXML package", &e))?,
            Submission::Json { metadata, files } => json_document(metadata, files)?,
        };
        if let Some(to) = to.filter(|t| !t.is_empty()) {
            doc.recipients.clear();
            for a in to {
                doc = doc.to(a);
            }
        }
        if doc.recipients.is_empty() {
            return Err(Refusal::malformed(
                "no recipient: give `to` in the metadata or the query",
            ));
        }
        Ok(doc)
    }
}

fn json_document(
    metadata: &[u8],
    files: &[(String, String, Vec<u8>)],
) -> Result<OutgoingDocument, Refusal> {
    let invalid = |what: String| {
        Refusal::new(
            gw::REQUEST_MALFORMED,
            StatusCode::UNPROCESSABLE_ENTITY,
            what,
        )
    };
    let m: Metadata = serde_json::from_slice(metadata)
        .map_err(|e| Refusal::malformed(format!("the metadata part: {e}")))?;
    let code = Code::new(m.code.number.as_str(), m.code.notation.as_str())
        .map_err(|e| invalid(format!("code: {e}")))?;
    let mut doc = OutgoingDocument::new(code, m.subject).content(m.content);
    for t in &m.to {
        let id: AgencyId = t
            .parse()
            .map_err(|e| invalid(format!("to: {t:?} is not an agency id: {e}")))?;
        doc = doc.to(id);
    }
    if let Some(t) = m.document_type {
        doc = doc.document_type(t.kind, t.name);
    }
    let date = |field: &str, s: &str| {
        time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
            .map_err(|e| invalid(format!("{field}: {s:?} is not YYYY-MM-DD: {e}")))
    };
    if let Some(d) = &m.date {
        doc = doc.promulgated(m.place.clone(), date("date", d)?);
    } else {
        doc.place = m.place.clone();
    }
    if let Some(d) = &m.due_date {
        doc = doc.due(date("due_date", d)?);
    }
    if let Some(s) = m.signer {
        doc = doc.signed_by(s.competence, s.position, s.full_name);
    }
    doc.to_places = m.to_places;
    let priority =
        Priority::from_code(m.priority).map_err(|e| invalid(format!("priority: {e}")))?;
    doc = doc.priority(priority);
    if m.descriptions.len() > files.len() {
        return Err(invalid(format!(
            "{} descriptions for {} attachments",
            m.descriptions.len(),
            files.len()
        )));
    }
    for (i, (name, content_type, data)) in files.iter().enumerate() {
        let mut a = OutgoingAttachment::bytes(name.clone(), content_type.clone(), data.clone())
            .map_err(|e| invalid(format!("attachment {name:?}: {e}")))?;
        if let Some(d) = m.descriptions.get(i) {
            a.description = d.clone();
        }
        doc = doc.attach(a);
    }
    Ok(doc)
}

/// A send's share of the body budget: the body's declared length, or `max_body` when it
/// declares none (or more), never more than the whole `budget` (a body larger than the budget
/// waits for every other and goes alone), at least 1.
pub fn body_share(declared: Option<u64>, max_body: u64, budget: u64) -> u32 {
    let want = declared.map_or(max_body, |d| d.min(max_body));
    u32::try_from(want.clamp(1, budget)).unwrap_or(u32::MAX)
}

/// Waits for a send's share of the gateway's body budget ([`body_share`]); the permit is held
/// until the body and what was made of it (the sealed document) are out of memory, so the
/// bodies in memory at once stay within `body_memory_bytes` whatever their size and the number
/// of DMS connections.
pub fn reserve(
    gw_: &std::sync::Arc<crate::service::Gateway>,
    req: &Request,
) -> impl std::future::Future<Output = Result<tokio::sync::OwnedSemaphorePermit, Refusal>> + Send + use<>
{
    // Read before waiting: the request (its body) stays with the caller.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let gw_ = gw_.clone();
    async move {
        let started = std::time::Instant::now();
        let (max, budget) = (gw_.config.max_body_bytes, gw_.config.body_memory_bytes);
        if declared.is_some_and(|n| n > max) {
            return Err(too_large(max));
        }
        let permit = gw_
            .bodies
            .clone()
            .acquire_many_owned(body_share(declared, max, budget))
            .await
            .map_err(|e| Refusal::internal("the body budget", e))?;
        gw_.metrics
            .stage(crate::metrics::stage::SEND_BODY_WAIT, started.elapsed());
        Ok(permit)
    }
}

/// The refusal of a body over `max` bytes.
fn too_large(max: u64) -> Refusal {
    Refusal::new(
        gw::BODY_TOO_LARGE,
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than this gateway's max_body_bytes ({max})"),
    )
}

/// The body's multipart form, or the request back when the body is not multipart; refused at
/// once when its declared length is over `max`.
async fn multipart(req: Request, max: u64) -> Result<Result<Multipart, Request>, Refusal> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Ok(Err(req));
    }
    Multipart::from_request(req, &())
        .await
        .map(Ok)
        .map_err(|e| Refusal::malformed(format!("the multipart body: {e}")))
}

/// The next part of a form.
async fn next_field(form: &mut Multipart) -> Result<Option<Field<'_>>, Refusal> {
    form.next_field()
        .await
        .map_err(|e| Refusal::malformed(format!("the multipart body: {e}")))
}

/// A part's bytes; `total` counts every part's bytes read, at most `max` in all.
async fn field_bytes(field: &mut Field<'_>, total: &mut u64, max: u64) -> Result<Vec<u8>, Refusal> {
    let mut data = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max)
        } else {
            Refusal::malformed(format!("the multipart body: {e}"))
        }
    })? {
        *total += chunk.len() as u64;
        if *total > max {
            return Err(too_large(max));
        }
        data.extend_from_slice(&chunk);
    }
    Ok(data)
}

/// The raw body, at most `max` bytes.
async fn raw_body(req: Request, max: u64) -> Result<Vec<u8>, Refusal> {
    let mut stream = Body::into_data_stream(req.into_body());
    let mut data = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Refusal::malformed(format!("reading the body: {e}")))?;
        if (data.len() + chunk.len()) as u64 > max {
            return Err(too_large(max));
        }
        data.extend_from_slice(&chunk);
    }
    if crate::outbox::trim_body(&data).is_empty() {
        return Err(Refusal::malformed(
            "the body is empty: send the edXML package as the body or as the part file_doc",
        ));
    }
    Ok(data)
}

/// The package of VXP's `sendEdoc` (and of the JSON API's statuses): a multipart part
/// `file_doc` (or the first file part; other parts are passed over, as VNPT's SDK may add
/// some), or the raw body; at most `max` bytes.
pub async fn read_package(req: Request, max: u64) -> Result<Vec<u8>, Refusal> {
    let mut form = match multipart(req, max).await? {
        Ok(form) => form,
        Err(req) => return raw_body(req, max).await,
    };
    let (mut fallback, mut total) = (None, 0);
    while let Some(mut field) = next_field(&mut form).await? {
        let named = field.name() == Some("file_doc");
        let is_file = field.file_name().is_some();
        if !named && (!is_file || fallback.is_some()) {
            continue;
        }
        let data = field_bytes(&mut field, &mut total, max).await?;
        if named {
            return Ok(data);
        }
        fallback = Some(data);
    }
    fallback.ok_or_else(|| {
        Refusal::malformed("the multipart body has no part file_doc with the edXML package")
    })
}

/// Reads a send's body: multipart with `metadata` (JSON send) or `file_doc` (edXML), or an edXML
/// package as the raw body; at most `max` bytes in all.
pub async fn read(req: Request, max: u64) -> Result<Submission, Refusal> {
    let mut form = match multipart(req, max).await? {
        Ok(form) => form,
        Err(req) => return raw_body(req, max).await.map(Submission::Edxml),
    };
    let mut metadata = None;
    let mut edxml = None;
    let mut files = Vec::new();
    let mut total: u64 = 0;
    while let Some(mut field) = next_field(&mut form).await? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let data = field_bytes(&mut field, &mut total, max).await?;
        match (name.as_str(), file_name) {
            ("metadata", _) => {
                if data.len() > MAX_METADATA {
                    return Err(too_large(max));
                }
                metadata = Some(data);
            }
            ("file_doc", _) => edxml = Some(data),
            (_, Some(file_name)) => {
                if files.len() == MAX_PARTS {
                    return Err(Refusal::malformed(format!(
                        "more than {MAX_PARTS} attachments"
                    )));
                }
                files.push((file_name, content_type, data));
            }
            // A plain form field other than metadata: not part of this API.
            (other, None) => {
                return Err(Refusal::malformed(format!(
                    "unexpected form field {other:?}: send metadata and file parts"
                )));
            }
        }
    }
    match (metadata, edxml) {
        (Some(metadata), None) => Ok(Submission::Json { metadata, files }),
        (None, Some(package)) if files.is_empty() => Ok(Submission::Edxml(package)),
        // One file part of another name: the package (as the VXP API takes it).
        (None, None) if files.len() == 1 => Ok(Submission::Edxml(files.remove(0).2)),
        (None, None) => Err(Refusal::malformed(
            "the multipart body has neither a metadata part (JSON send) nor a file_doc part \
             (edXML)",
        )),
        _ => Err(Refusal::malformed(
            "send either metadata with attachments or one file_doc edXML package, not both",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::body_share;

    #[test]
    fn a_body_takes_its_length_of_the_budget_and_never_more_than_all_of_it() {
        let (max, budget) = (64 << 20, 2 << 20);
        assert_eq!(body_share(Some(10_000), max, budget), 10_000);
        // Larger than the budget: it takes all of it (and goes alone), not more (it would wait
        // forever).
        assert_eq!(body_share(Some(5 << 20), max, budget), 2 << 20);
        // No length declared: the largest body it may be.
        assert_eq!(body_share(None, max, budget), 2 << 20);
        assert_eq!(body_share(None, 1 << 20, budget), 1 << 20);
        assert_eq!(body_share(Some(0), max, budget), 1);
    }
}
