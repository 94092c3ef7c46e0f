//! The sample document every test sends: a Công văn of the Government Office, numbered
//! 7816/VPCP-TTĐT, with its attachments' sizes and digests.

use axis_signer::{
    Attachment, AttachmentDigest, Business, Code, DocumentType, Manifest, OtherInfo, Priority,
    Promulgation, SignerInfo,
};
use time::Date;

pub use axis_signer::Organization;

/// The sample manifest from `from` to `to`, promulgated on `date`, carrying `attachments`.
pub fn sample_manifest(
    from: Organization,
    to: Vec<Organization>,
    date: Date,
    attachments: Vec<Attachment>,
) -> Manifest {
    Manifest {
        from,
        to,
        code: Code::new("7816", "VPCP-TTĐT").unwrap(),
        promulgation: Promulgation {
            place: "Hà Nội".into(),
            date,
        },
        document_type: DocumentType {
            kind: 1,
            detail: 0,
            name: "Công văn".into(),
        },
        subject: "V/v kết nối, liên thông văn bản".into(),
        content: String::new(),
        signer: SignerInfo {
            competence: "KT. BỘ TRƯỞNG".into(),
            position: "Phó Chủ nhiệm".into(),
            full_name: "Trần Văn Sơn".into(),
        },
        due_date: None,
        to_places: vec![],
        priority: Priority::Normal,
        other: OtherInfo::default(),
        response_for: vec![],
        business: Business::New,
        attachments,
        signature_form: Default::default(),
    }
}

/// The manifest entries of `files` (name, bytes): size and SHA-256 of each, as a PDF.
pub fn attachments(files: &[(&str, &[u8])]) -> Vec<Attachment> {
    files
        .iter()
        .map(|(name, bytes)| {
            let mut d = AttachmentDigest::new();
            d.update(bytes);
            d.finish(*name, "application/pdf", "")
        })
        .collect()
}

/// Deterministic filler bytes (xorshift64 from `seed`): incompressible, like a PDF's compressed
/// streams; content does not matter once it is encrypted.
pub fn filler(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
