//! Shared by the signer fuzz targets (not a target itself): a small in-memory PKI with one
//! agency, built once per process, and a document sealed for it.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::OnceLock;

use axis_pki::*;
use axis_signer::limits::*;
use axis_signer::*;
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);
pub const NOW: OffsetDateTime = datetime!(2026-01-02 0:00 UTC);

pub struct World {
    pub store: TrustStore,
    pub manifest: ManifestBytes,
    /// A valid personal signature over `manifest` (a seed for the signature target).
    pub signature: Vec<u8>,
    pub rsa_key: RecipientKey,
    pub ec_key: RecipientKey,
    pub sealed: Sealed,
    pub submission: VerifiedSubmission,
    pub ciphertext: Vec<u8>,
    /// A valid signed receipt (a status 13 by the sender).
    pub receipt: SignedReceipt,
}

/// Starts from a valid input most of the time, so short runs get past the outer framing:
/// `data[0] % 3` = 0: `data[1..]` as is; 1: overwrite `valid` at a position from `data[1..3]`;
/// 2: insert there instead.
pub fn splice(valid: &[u8], data: &[u8]) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return valid.to_vec();
    };
    if mode % 3 == 0 || rest.len() < 2 || valid.is_empty() {
        return rest.to_vec();
    }
    let pos = usize::from(u16::from_be_bytes([rest[0], rest[1]])) % valid.len();
    let bytes = &rest[2..];
    let mut out = valid.to_vec();
    if mode % 3 == 1 {
        for (o, b) in out[pos..].iter_mut().zip(bytes) {
            *o = *b;
        }
    } else {
        out.splice(pos..pos, bytes.iter().copied());
    }
    out
}

fn req(profile: Profile, subject: Subject) -> IssueRequest {
    IssueRequest {
        profile,
        subject,
        not_before: T0,
        not_after: T0 + Duration::days(30),
        serial: Serial::random().unwrap(),
    }
}

fn enc_key(rsa: bool) -> (Zeroizing<Vec<u8>>, PublicKey) {
    let pkey = if rsa {
        openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap()
    } else {
        let g = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&g).unwrap()).unwrap()
    };
    (
        Zeroizing::new(pkey.private_key_to_pkcs8().unwrap()),
        PublicKey::from_spki_der(&pkey.public_key_to_der().unwrap()).unwrap(),
    )
}

pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let p256 = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let pubkey = |k: &PrivateKey| PublicKey::from_spki_der(k.public_key_der()).unwrap();
        let root_key = p256();
        let root = issue_root(&req(Profile::RootCa, Subject::new("Fuzz Root")), &root_key).unwrap();
        let root_ca = CaSigner::new(root.der(), &root_key, T0).unwrap();
        let ca_key = p256();
        let ca = root_ca
            .issue(
                &req(Profile::IssuingCa, Subject::new("Fuzz CA")),
                &pubkey(&ca_key),
            )
            .unwrap();
        let issuing = CaSigner::new(ca.der(), &ca_key, T0).unwrap();
        let crl = |c: &CaSigner| {
            c.issue_crl(&CrlRequest {
                this_update: T0,
                next_update: T0 + Duration::days(7),
                number: 1,
                revoked: vec![],
            })
            .unwrap()
            .der()
            .to_vec()
        };
        let store = TrustStore::new(
            vec![root.der().to_vec()],
            vec![ca.der().to_vec()],
            vec![crl(&root_ca), crl(&issuing)],
        )
        .unwrap();
        let a = AgencyId::parse("000.00.00.G22").unwrap();
        let b = AgencyId::parse("000.00.00.H41").unwrap();
        let subject = |id: &AgencyId, title: Option<&str>| {
            let mut s = Subject::new("Fuzz");
            s.agency_id = Some(id.clone());
            s.title = title.map(str::to_owned);
            s
        };
        let issue = |profile, s, k: &PublicKey| {
            let der = issuing.issue(&req(profile, s), k).unwrap().der().to_vec();
            store
                .verify(&der, profile, T0 + Duration::hours(1))
                .unwrap()
        };
        let person_key = p256();
        let person = issue(
            Profile::PersonalSigner,
            subject(&a, Some("Chánh Văn phòng")),
            &pubkey(&person_key),
        );
        let seal_key = p256();
        let seal = issue(Profile::AgencySeal, subject(&a, None), &pubkey(&seal_key));
        let (rsa_pkcs8, rsa_pub) = enc_key(true);
        let rsa_cert = issue(Profile::AgencyEncryption, subject(&b, None), &rsa_pub);
        let b_id = b.clone();
        let c = AgencyId::parse("000.00.00.H53").unwrap();
        let (ec_pkcs8, ec_pub) = enc_key(false);
        let ec_cert = issue(Profile::AgencyEncryption, subject(&c, None), &ec_pub);

        let mut d = AttachmentDigest::new();
        let attachment = vec![0x5a; 3000];
        d.update(&attachment);
        let manifest = Manifest {
            from: Organization::new(a.clone(), "Văn phòng Chính phủ"),
            to: vec![
                Organization::new(b, "Nghệ An"),
                Organization::new(c, "Tây Ninh"),
            ],
            code: Code::new("1", "VPCP-TH").unwrap(),
            promulgation: Promulgation {
                place: "Hà Nội".into(),
                date: date!(2026 - 01 - 01),
            },
            document_type: DocumentType {
                kind: 1,
                detail: 0,
                name: "Công văn".into(),
            },
            subject: "Fuzz".into(),
            content: String::new(),
            signer: SignerInfo {
                competence: String::new(),
                position: String::new(),
                full_name: "Fuzz".into(),
            },
            due_date: None,
            to_places: vec![],
            priority: Priority::Normal,
            other: OtherInfo::default(),
            response_for: vec![],
            business: Business::New,
            attachments: vec![d.finish("a.pdf", "application/pdf", "")],
        }
        .encode()
        .unwrap();
        let at = T0 + Duration::hours(2);
        let person_signer = Signer::new(&person_key, &person).unwrap();
        let seal_signer = Signer::new(&seal_key, &seal).unwrap();
        let doc =
            SignedDocument::sign(manifest.clone(), &person_signer, at, &seal_signer, at).unwrap();
        let certs = vec![rsa_cert.clone(), ec_cert.clone()];
        let mut sealer = Sealer::new(SealRequest {
            message_id: MessageId::random().unwrap(),
            document: &doc,
            recipients: &certs,
            chunk_size: MIN_CHUNK_SIZE,
        })
        .unwrap();
        let mut ciphertext = Vec::new();
        sealer
            .write_attachment(&attachment, &mut ciphertext)
            .unwrap();
        sealer.end_attachment(&mut ciphertext).unwrap();
        let sealed = sealer.finish(&seal_signer, at, &mut ciphertext).unwrap();
        let submission = sealed.submission.verify(&store, NOW).unwrap();
        let chain = ReceiptChain::new(DocumentRef::sent(&doc, &sealed, &b_id).unwrap());
        let receipt = chain
            .next(StatusCode::RecallRequested, at, "Ban hành nhầm")
            .unwrap()
            .sign(&seal_signer)
            .unwrap();
        World {
            submission,
            receipt,
            signature: doc.personal_signature().to_vec(),
            rsa_key: RecipientKey::from_pkcs8_der(rsa_pkcs8, &rsa_cert).unwrap(),
            ec_key: RecipientKey::from_pkcs8_der(ec_pkcs8, &ec_cert).unwrap(),
            store,
            manifest,
            sealed,
            ciphertext,
        }
    })
}
