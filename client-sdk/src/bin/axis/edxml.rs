//! The edXML commands and options: `axis edxml show`, and what `send --edxml`, `open --edxml`,
//! `status --edxml` and `history --edxml` write and read.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use axis_client::edxml::{
    self, Business, Edoc, Organization, Package, ResponseFor, StaffInfo, Status, format_date,
    format_timestamp,
};
use axis_client::{Client, History, LoggedStatement, MessageId, OpenedDocument, OutgoingDocument};
use serde_json::{Value, json};

use crate::Usage;

/// `axis edxml show FILE`: the package as JSON, the reference's element names as keys.
pub(crate) fn show(file: &Path) -> Result<()> {
    let package = read_package(file)?;
    // Discard keeps nothing; each attachment's size and SHA-256 come back in the package.
    let parsed = edxml::parse(&package, &mut edxml::Discard).map_err(|e| refused(file, e))?;
    let mut out = match &parsed.package {
        Package::Edoc(e) => edoc_json(e),
        Package::Status(s) => status_json(s),
    };
    if let Value::Object(m) = &mut out
        && !parsed.ignored.is_empty()
    {
        // Elements the reference does not define, skipped (their paths).
        m.insert("Ignored".into(), json!(parsed.ignored));
    }
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &out)?;
    writeln!(stdout)?;
    Ok(())
}

/// Reads a package file, no larger than the parser accepts.
fn read_package(file: &Path) -> Result<Vec<u8>> {
    let len = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let max = edxml::Limits::default().max_input;
    if len > max {
        anyhow::bail!(
            "{}: {len} bytes; an edXML package may have at most {max} (EDXML_LIMIT)",
            file.display()
        );
    }
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

fn refused(file: &Path, e: edxml::Error) -> anyhow::Error {
    anyhow::anyhow!("{}: {e} ({})", file.display(), e.kind())
}

/// Whether a value is one edXML leaves out (an empty element).
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// An element as a JSON object: its children by name, the empty ones left out as edXML does.
fn object<const N: usize>(children: [(&str, Value); N]) -> Value {
    Value::Object(
        children
            .into_iter()
            .filter(|(_, v)| !is_empty(v))
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

fn organization(o: &Organization) -> Value {
    object([
        ("OrganId", json!(o.organ_id)),
        ("OrganizationInCharge", json!(o.organization_in_charge)),
        ("OrganName", json!(o.organ_name)),
        ("OrganAdd", json!(o.organ_add)),
        ("Email", json!(o.email)),
        ("Telephone", json!(o.telephone)),
        ("Fax", json!(o.fax)),
        ("Website", json!(o.website)),
    ])
}

fn staff(s: &StaffInfo) -> Value {
    object([
        ("Department", json!(s.department)),
        ("Staff", json!(s.staff)),
        ("Email", json!(s.email)),
        ("Mobile", json!(s.mobile)),
    ])
}

fn response_for(r: &ResponseFor) -> Value {
    object([
        ("OrganId", json!(r.organ_id)),
        ("Code", json!(r.code)),
        ("DocumentId", json!(r.document_id)),
        (
            "PromulgationDate",
            json!(r.promulgation_date.map(format_date)),
        ),
    ])
}

fn business(b: &Business) -> Value {
    let info = &b.business_document_info;
    object([
        ("DocumentId", json!(b.document_id)),
        ("BussinessDocType", json!(b.business_doc_type)),
        ("BussinessDocReason", json!(b.business_doc_reason)),
        ("Paper", json!(b.paper)),
        ("StaffInfo", staff(&b.staff_info)),
        (
            "BussinessDocumentInfo",
            object([
                ("DocumentInfo", json!(info.document_info)),
                ("DocumentReceiver", json!(info.document_receiver)),
                (
                    "ReceiverList",
                    Value::Array(
                        info.receiver_list
                            .iter()
                            .map(|r| {
                                object([
                                    ("OrganId", json!(r.organ_id)),
                                    ("ReceiverType", json!(r.receiver_type)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ]),
        ),
        (
            "ReplacementInfoList",
            Value::Array(
                b.replacement_info_list
                    .iter()
                    .map(|r| {
                        object([
                            ("DocumentId", json!(r.document_id)),
                            ("OrganIdList", json!(r.organ_id_list)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

fn edoc_json(e: &Edoc) -> Value {
    let h = &e.header;
    let o = &h.other_info;
    let header = object([
        ("From", organization(&h.from)),
        ("To", Value::Array(h.to.iter().map(organization).collect())),
        ("DocumentId", json!(h.document_id)),
        (
            "Code",
            object([
                ("CodeNumber", json!(h.code.code_number)),
                ("CodeNotation", json!(h.code.code_notation)),
            ]),
        ),
        (
            "PromulgationInfo",
            object([
                ("Place", json!(h.promulgation_info.place)),
                (
                    "PromulgationDate",
                    json!(h.promulgation_info.promulgation_date.map(format_date)),
                ),
            ]),
        ),
        (
            "DocumentType",
            object([
                ("Type", json!(h.document_type.type_)),
                ("TypeDetail", json!(h.document_type.type_detail)),
                ("TypeName", json!(h.document_type.type_name)),
            ]),
        ),
        ("Subject", json!(h.subject)),
        ("Content", json!(h.content)),
        (
            "SignerInfo",
            object([
                ("Competence", json!(h.signer_info.competence)),
                ("Position", json!(h.signer_info.position)),
                ("FullName", json!(h.signer_info.full_name)),
            ]),
        ),
        ("DueDate", json!(h.due_date.map(format_date))),
        (
            "OtherInfo",
            object([
                ("Priority", json!(o.priority)),
                ("SphereOfPromulgation", json!(o.sphere_of_promulgation)),
                ("TyperNotation", json!(o.typer_notation)),
                ("PromulgationAmount", json!(o.promulgation_amount)),
                ("PageAmount", json!(o.page_amount)),
                ("Direction", json!(o.direction)),
                ("Appendixes", json!(o.appendixes)),
            ]),
        ),
        (
            "ResponseFor",
            Value::Array(h.response_for.iter().map(response_for).collect()),
        ),
        ("SteeringType", json!(h.steering_type)),
        ("ApplicationType", json!(h.application_type)),
        ("ToPlaces", json!(h.to_places)),
    ]);
    let trace_headers = e.trace.trace_headers.iter().map(|t| {
        object([
            ("OrganId", json!(t.organ_id)),
            ("Timestamp", json!(t.timestamp.map(format_timestamp))),
        ])
    });
    let references = e.references.iter().map(|r| {
        object([
            ("ContentId", json!(r.content_id)),
            ("ContentType", json!(r.content_type)),
            ("Description", json!(r.description)),
            ("AttachmentName", json!(r.attachment_name)),
        ])
    });
    let attachments = e.attachments.iter().map(|a| {
        object([
            ("ContentId", json!(a.content_id)),
            ("AttachmentName", json!(a.attachment_name)),
            ("Description", json!(a.description)),
            ("ContentType", json!(a.content_type)),
            ("Format", json!(a.format)),
            // The decoded file (unzipped when it travels zipped).
            ("Size", json!(a.size)),
            ("SHA256", json!(hex::encode(a.sha256))),
        ])
    });
    let signature = match e.signature_status() {
        edxml::SignatureStatus::Absent => "absent",
        _ => "present, not verified",
    };
    object([
        ("Package", json!("edoc")),
        ("MessageHeader", header),
        (
            "TraceHeaderList",
            object([
                ("Bussiness", business(&e.trace.business)),
                ("TraceHeader", Value::Array(trace_headers.collect())),
            ]),
        ),
        ("Signature", json!(signature)),
        (
            "edXMLManifest",
            json!({ "Reference": references.collect::<Vec<_>>() }),
        ),
        (
            "AttachmentEncoded",
            json!({ "Attachment": attachments.collect::<Vec<_>>() }),
        ),
    ])
}

fn status_json(s: &Status) -> Value {
    object([
        ("Package", json!("status")),
        (
            "MessageHeader",
            object([
                ("From", organization(&s.from)),
                ("ResponseFor", response_for(&s.response_for)),
                ("StaffInfo", staff(&s.staff_info)),
                ("StatusCode", json!(s.status_code.to_string())),
                ("Description", json!(s.description)),
                ("Timestamp", json!(s.timestamp.map(format_timestamp))),
            ]),
        ),
    ])
}

/// `send --edxml FILE`: the document, read and checked before anything connects.
pub(crate) fn outgoing(file: &Path) -> Result<OutgoingDocument> {
    if !file.is_file() {
        return Err(Usage(format!("{} is not a file", file.display())).into());
    }
    let package = read_package(file)?;
    OutgoingDocument::from_edxml(&package)
        .map_err(|e| anyhow::Error::new(e).context(file.display().to_string()))
}

/// `open --edxml`: `DIR/document.edxml`, the package with every attachment, written to a
/// temporary name and renamed once complete.
pub(crate) fn write_document(opened: &OpenedDocument, dir: &Path) -> Result<()> {
    let path = dir.join(DOCUMENT_EDXML);
    let mut temp = tempfile::Builder::new()
        .prefix(".axis-partial-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    {
        let mut out = std::io::BufWriter::new(temp.as_file_mut());
        opened.write_edxml(&mut out)?;
        out.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    temp.as_file()
        .sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    temp.persist_noclobber(&path)
        .map_err(|e| e.error)
        .with_context(|| format!("saving {} (remove it if it exists)", path.display()))?;
    println!("  wrote {}", path.display());
    Ok(())
}

/// The file `open --edxml` writes.
pub(crate) const DOCUMENT_EDXML: &str = "document.edxml";

/// `status MESSAGE_ID --edxml FILE`.
pub(crate) async fn send_status(client: &Client, id: &MessageId, file: &Path) -> Result<()> {
    let package = read_package(file)?;
    let r = client
        .send_edxml_status(id, &package)
        .await
        .with_context(|| file.display().to_string())?;
    println!(
        "status {} from {} sent for {id}, signed by the agency seal at {}: {}",
        r.receipt.status,
        file.display(),
        crate::commands::rfc3339(r.receipt.time),
        crate::commands::evidence_line(&r.evidence)
    );
    Ok(())
}

/// `open --ack-edxml FILE`: the delivery receipt from the DMS's status 01 package.
pub(crate) async fn acknowledge(
    client: &Client,
    opened: &OpenedDocument,
    file: &Path,
) -> Result<LoggedStatement> {
    let package = read_package(file)?;
    client
        .acknowledge_edxml(opened, &package)
        .await
        .with_context(|| file.display().to_string())
}

/// `history MESSAGE_ID --edxml DIR`: every status as `DIR/<recipient>-<nn>-status-<code>.edxml`.
/// A file already there with the same bytes is left as it is (a DMS polling the history gets
/// only the new ones); one with other bytes is an error.
pub(crate) fn write_history(history: &History, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (mut written, mut kept) = (0, 0);
    for t in &history.timelines {
        for (i, e) in t.events.iter().enumerate() {
            let name = format!("{}-{:02}-status-{}.edxml", t.recipient, i + 1, e.status);
            let path = dir.join(&name);
            let bytes = e.to_edxml()?;
            match std::fs::read(&path) {
                Ok(old) if old == bytes => kept += 1,
                Ok(_) => {
                    return Err(Usage(format!(
                        "{} exists with other content; choose another --edxml directory",
                        path.display()
                    ))
                    .into());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    crate::commands::write_new(&path, &bytes)?;
                    written += 1;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("reading {}", path.display()));
                }
            }
        }
    }
    println!(
        "{written} edXML status packages written to {} ({kept} already there)",
        dir.display()
    );
    Ok(())
}
