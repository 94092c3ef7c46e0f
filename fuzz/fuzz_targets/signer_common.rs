//! Shared by the signer and evidence fuzz targets (not a target itself): the test kit's PKI
//! fixture and a document sealed with it, built once per process.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::OnceLock;

use axis_pki::TrustStore;
use axis_signer::limits::MIN_CHUNK_SIZE;
use axis_signer::*;

/// When the targets verify.
pub use axis_testkit::NOW;

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

pub fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let f = axis_testkit::fixture();
        // From A to B (P-256 encryption) and C (RSA encryption), one attachment, small chunks.
        let attachment = vec![0x5a; 3000];
        let m = axis_testkit::manifest(&[&f.b, &f.c], &[("a.pdf", &attachment)]);
        let doc = axis_testkit::sign(&m);
        let p =
            axis_testkit::seal_document(&doc, &[&f.b, &f.c], &[&attachment], MIN_CHUNK_SIZE, 1000);
        let submission = p.sealed.submission.verify(&f.store, NOW).unwrap();
        let chain = ReceiptChain::new(DocumentRef::sent(&doc, &p.sealed, &f.b.id).unwrap());
        let receipt = chain
            .next(
                StatusCode::RecallRequested,
                axis_testkit::SIGNED,
                "Ban hành nhầm",
            )
            .unwrap()
            .sign(&f.a.seal_signer())
            .unwrap();
        World {
            submission,
            receipt,
            signature: doc.personal_signature().to_vec(),
            rsa_key: f.c.recipient_key(),
            ec_key: f.b.recipient_key(),
            store: f.store.clone(),
            manifest: doc.manifest().clone(),
            sealed: p.sealed,
            ciphertext: p.ciphertext,
        }
    })
}
