//! Signing, sealing and opening the sample document: with the signer fixture's agencies
//! ([`standard_package`] and friends), or with the demo PKI's agencies ([`seal_for`]), and
//! cutting a ciphertext into its frames.

use axis_pki::demo::AgencyCreds;
use axis_pki::{AgencyId, KeySigner, Profile, TrustStore, VerifiedCert};
use axis_signer::limits::FRAME_HEADER_LEN;
use axis_signer::{
    HeaderBytes, Manifest, MessageId, Opener, Organization, OtherInfo, Priority, ReceivedDocument,
    RoutingHeader, SealRequest, Sealed, Sealer, SignedDocument, Signer, Submission,
};
use time::macros::date;
use time::{Duration, OffsetDateTime};

use crate::fixture::{Agency, NOW, SIGNED, fixture};
use crate::sample::{self, sample_manifest};

/// The sample manifest from A to `to`, filled in as a real one is (content, due date, places,
/// urgency, promulgation details), with `attachments` (name, bytes).
pub fn manifest(to: &[&Agency], attachments: &[(&str, &[u8])]) -> Manifest {
    let f = fixture();
    let mut m = sample_manifest(
        f.a.org(),
        to.iter().map(|a| a.org()).collect(),
        date!(2026 - 01 - 02),
        sample::attachments(attachments),
    );
    m.subject = "V/v kết nối, liên thông phần mềm quản lý văn bản".into();
    m.content = "Văn phòng Chính phủ đề nghị các cơ quan kết nối.".into();
    m.signer.competence = "KT. BỘ TRƯỞNG, CHỦ NHIỆM".into();
    m.due_date = Some(date!(2026 - 01 - 31));
    m.to_places = vec!["Như trên".into(), "Lưu: VT, TTĐT".into()];
    m.priority = Priority::Urgent;
    m.other = OtherInfo {
        sphere_of_promulgation: "Toàn quốc".into(),
        typer_notation: "TVC".into(),
        promulgation_amount: 1,
        page_amount: 2,
    };
    m
}

/// `m` naming `person` (its certificate's common name and title) as the signer, as a
/// manifest signed by that person must.
pub fn naming_signer(mut m: Manifest, person: &VerifiedCert) -> Manifest {
    m.signer.full_name = person.common_name().unwrap().to_owned();
    m.signer.position = person.title().unwrap_or_default().to_owned();
    m
}

/// Signs `m` with A's person and seal.
pub fn sign(m: &Manifest) -> SignedDocument {
    let f = fixture();
    SignedDocument::sign(
        m.encode().unwrap(),
        &f.person.signer(),
        SIGNED,
        &f.a.seal_signer(),
        SIGNED + Duration::minutes(1),
    )
    .unwrap()
}

/// Everything a sealed document is made of.
pub struct Package {
    /// The signed document.
    pub document: SignedDocument,
    /// The header, its signature and the key envelope.
    pub sealed: Sealed,
    /// The ciphertext frames.
    pub ciphertext: Vec<u8>,
}

/// Seals `doc` for the encryption certificates of `to`, feeding attachments in `step`-byte
/// writes.
pub fn seal_document(
    doc: &SignedDocument,
    to: &[&Agency],
    attachments: &[&[u8]],
    chunk_size: u32,
    step: usize,
) -> Package {
    let f = fixture();
    let certs: Vec<VerifiedCert> = to.iter().map(|a| a.enc.clone()).collect();
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random().unwrap(),
        document: doc,
        recipients: &certs,
        chunk_size,
    })
    .unwrap();
    let mut ciphertext = Vec::new();
    for a in attachments {
        for piece in a.chunks(step.max(1)) {
            sealer.write_attachment(piece, &mut ciphertext).unwrap();
        }
        sealer.end_attachment(&mut ciphertext).unwrap();
    }
    let sealed = sealer
        .finish(
            &f.a.seal_signer(),
            SIGNED + Duration::minutes(2),
            &mut ciphertext,
        )
        .unwrap();
    Package {
        document: doc.clone(),
        sealed,
        ciphertext,
    }
}

/// A package from A to B and C with two attachments, small chunks so parts have several.
pub fn standard_package() -> Package {
    let f = fixture();
    let att1: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    let att2 = b"short attachment".to_vec();
    let m = manifest(
        &[&f.b, &f.c],
        &[("cong-van.pdf", &att1), ("phu-luc.pdf", &att2)],
    );
    let doc = sign(&m);
    seal_document(&doc, &[&f.b, &f.c], &[&att1, &att2], 1024, 777)
}

/// The two attachments of [`standard_package`].
pub fn standard_attachments() -> Vec<Vec<u8>> {
    vec![
        (0..5000u32).map(|i| (i * 7) as u8).collect(),
        b"short attachment".to_vec(),
    ]
}

/// Opens `p` as `who` at [`NOW`].
pub fn open(
    p: &Package,
    who: &Agency,
) -> Result<(ReceivedDocument, Vec<Vec<u8>>), axis_signer::Error> {
    let f = fixture();
    let sub = p.sealed.submission.verify(&f.store, NOW)?;
    let key = who.recipient_key();
    let opener = Opener::from_key_envelope(&sub, &p.sealed.key_envelope, &key, &f.store, NOW)?;
    opener.open_all(&p.ciphertext)
}

/// Splits a ciphertext into its frames.
pub fn frames(ciphertext: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = ciphertext;
    while !rest.is_empty() {
        let len = u32::from_be_bytes(rest[17..21].try_into().unwrap()) as usize;
        out.push(rest[..FRAME_HEADER_LEN + len].to_vec());
        rest = &rest[FRAME_HEADER_LEN + len..];
    }
    out
}

/// (part, index, last) of a frame.
pub fn frame_id(frame: &[u8]) -> (u32, u32, bool) {
    (
        u32::from_be_bytes(frame[8..12].try_into().unwrap()),
        u32::from_be_bytes(frame[12..16].try_into().unwrap()),
        frame[16] & 1 == 1,
    )
}

/// A document sealed with the demo PKI's identities.
pub struct SealedDocument {
    /// The signed document.
    pub document: SignedDocument,
    /// The header, its signature and the key envelope.
    pub sealed: Sealed,
    /// The ciphertext frames.
    pub ciphertext: Vec<u8>,
}

/// A sender's two signing keys with their certificates (DER), wherever the keys are: the
/// demo PKI's key files ([`SenderKeys::of`]) or keys on a token.
pub struct SenderKeys<'a> {
    /// The agency.
    pub id: AgencyId,
    /// Its name.
    pub name: String,
    /// The person with authority: key and certificate.
    pub personal: (&'a dyn KeySigner, &'a [u8]),
    /// The agency seal: key and certificate.
    pub seal: (&'a dyn KeySigner, &'a [u8]),
}

impl<'a> SenderKeys<'a> {
    /// The demo agency's key files.
    pub fn of(a: &'a AgencyCreds) -> Self {
        SenderKeys {
            id: a.id.clone(),
            name: a.name.clone(),
            personal: (&a.personal.key, &a.personal.cert),
            seal: (&a.seal.key, &a.seal.cert),
        }
    }
}

/// Seals the sample document with `files` from `sender` (its person and seal, verified by
/// `store` at `now`: a revoked or expired certificate signs all the same) for the encryption
/// certificates of `recipients`, in chunks of `chunk_size`.
pub fn seal_for(
    store: &TrustStore,
    now: OffsetDateTime,
    sender: &AgencyCreds,
    recipients: &[&AgencyCreds],
    files: &[(&str, &[u8])],
    message_id: MessageId,
    chunk_size: u32,
) -> SealedDocument {
    seal_by(
        store,
        now,
        &SenderKeys::of(sender),
        recipients,
        files,
        message_id,
        chunk_size,
    )
}

/// [`seal_for`] with the sender's keys wherever they are.
pub fn seal_by(
    store: &TrustStore,
    now: OffsetDateTime,
    sender: &SenderKeys<'_>,
    recipients: &[&AgencyCreds],
    files: &[(&str, &[u8])],
    message_id: MessageId,
    chunk_size: u32,
) -> SealedDocument {
    let org = |id: &AgencyId, name: &str| Organization::new(id.clone(), name.to_owned());
    let mut manifest = sample_manifest(
        org(&sender.id, &sender.name),
        recipients.iter().map(|r| org(&r.id, &r.name)).collect(),
        now.date(),
        sample::attachments(files),
    );
    let personal_cert = store
        .verify(sender.personal.1, Profile::PersonalSigner, now)
        .unwrap();
    // The signer the manifest names is the personal certificate's holder.
    manifest.signer.full_name = personal_cert.common_name().unwrap().to_owned();
    manifest.signer.position = personal_cert.title().unwrap_or_default().to_owned();
    let seal_cert = store
        .verify(sender.seal.1, Profile::AgencySeal, now)
        .unwrap();
    let person = Signer::new(sender.personal.0, &personal_cert).unwrap();
    let seal = Signer::new(sender.seal.0, &seal_cert).unwrap();
    let document =
        SignedDocument::sign(manifest.encode().unwrap(), &person, now, &seal, now).unwrap();
    let enc: Vec<VerifiedCert> = recipients
        .iter()
        .map(|r| {
            store
                .verify(&r.encryption.cert, Profile::AgencyEncryption, now)
                .unwrap()
        })
        .collect();
    let mut sealer = Sealer::new(SealRequest {
        message_id,
        document: &document,
        recipients: &enc,
        chunk_size,
    })
    .unwrap();
    let mut ciphertext = Vec::new();
    for (_, data) in files {
        sealer.write_attachment(data, &mut ciphertext).unwrap();
        sealer.end_attachment(&mut ciphertext).unwrap();
    }
    let sealed = sealer.finish(&seal, now, &mut ciphertext).unwrap();
    SealedDocument {
        document,
        sealed,
        ciphertext,
    }
}

/// `submission` with its header changed by `edit` and signed again by `seal` at `at`: what a
/// sender can do to the header it signs (the axis must catch it against the rest).
pub fn reheader(
    submission: &Submission,
    seal: &Signer<'_>,
    at: OffsetDateTime,
    edit: impl FnOnce(&mut RoutingHeader),
) -> Submission {
    let mut h = submission.header().header().clone();
    edit(&mut h);
    Submission::sign(HeaderBytes::from_header(h).unwrap(), seal, at).unwrap()
}
