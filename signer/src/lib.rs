#![forbid(unsafe_code)]
//! # axis-signer
//!
//! What makes an Axis document trustworthy: the manifest a sender signs twice (the person with
//! authority, then the agency seal), the end-to-end encryption to the recipient agencies, the
//! routing header the axis can check without reading anything, and the signed receipts and
//! statuses that follow. **No I/O, no clock**: times are parameters, randomness comes from ring's
//! `SystemRandom`, and large data is pushed through in chunks by the caller.
//!
//! ## Seal for several agencies, open as one
//!
//! ```
//! use axis_signer::limits::DEFAULT_CHUNK_SIZE;
//! use axis_signer::*;
//! # use axis_pki::*;
//! # use time::{Duration, macros::{date, datetime}};
//! # use zeroize::Zeroizing;
//! # let t0 = datetime!(2026-01-01 0:00 UTC);
//! # let req = |profile, subject, days| IssueRequest {
//! #     profile, subject, not_before: t0, not_after: t0 + Duration::days(days),
//! #     serial: Serial::random().unwrap(),
//! # };
//! # let p256 = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
//! # let public = |k: &PrivateKey| PublicKey::from_spki_der(k.public_key_der()).unwrap();
//! # let root_key = p256();
//! # let root = issue_root(&req(Profile::RootCa, Subject::new("Root"), 3650), &root_key)?;
//! # let root_ca = CaSigner::new(root.der(), &root_key, t0)?;
//! # let ca_key = p256();
//! # let ca = root_ca.issue(&req(Profile::IssuingCa, Subject::new("CA"), 1825), &public(&ca_key))?;
//! # let issuing = CaSigner::new(ca.der(), &ca_key, t0)?;
//! # let crl = |c: &CaSigner| c.issue_crl(&CrlRequest {
//! #     this_update: t0, next_update: t0 + Duration::days(7), number: 1, revoked: vec![],
//! # }).unwrap().der().to_vec();
//! # let store = TrustStore::new(vec![root.der().to_vec()], vec![ca.der().to_vec()],
//! #     vec![crl(&root_ca), crl(&issuing)])?;
//! # let cert = |profile, id: &str, title: Option<&str>, key: &PublicKey| {
//! #     // The personal certificate's holder is the manifest's signer.
//! #     let mut s = Subject::new(if title.is_some() { "Trần Văn Sơn" } else { "Cơ quan" });
//! #     s.agency_id = Some(AgencyId::parse(id).unwrap());
//! #     s.title = title.map(str::to_owned);
//! #     let der = issuing.issue(&req(profile, s, 365), key).unwrap().der().to_vec();
//! #     store.verify(&der, profile, t0).unwrap()
//! # };
//! # let enc_key = || {
//! #     let g = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
//! #     let k = openssl::pkey::PKey::from_ec_key(openssl::ec::EcKey::generate(&g).unwrap()).unwrap();
//! #     (Zeroizing::new(k.private_key_to_pkcs8().unwrap()),
//! #      PublicKey::from_spki_der(&k.public_key_to_der().unwrap()).unwrap())
//! # };
//! # let (person_key, seal_key) = (p256(), p256());
//! # let person_cert = cert(Profile::PersonalSigner, "000.00.00.G22", Some("Phó Chủ nhiệm"), &public(&person_key));
//! # let seal_cert = cert(Profile::AgencySeal, "000.00.00.G22", None, &public(&seal_key));
//! # let (h41_pkcs8, h41_pub) = enc_key();
//! # let (h53_pkcs8, h53_pub) = enc_key();
//! # let h41_enc = cert(Profile::AgencyEncryption, "000.00.00.H41", None, &h41_pub);
//! # let h53_enc = cert(Profile::AgencyEncryption, "000.00.00.H53", None, &h53_pub);
//! let now = datetime!(2026-01-02 9:00 UTC);
//! let pdf = b"%PDF-1.7 ...".to_vec();
//!
//! // The sender (000.00.00.G22) describes the document; the first pass over each attachment
//! // gives its size and SHA-256.
//! let mut digest = AttachmentDigest::new();
//! digest.update(&pdf);
//! let manifest = Manifest {
//!     from: Organization::new(AgencyId::parse("000.00.00.G22")?, "Văn phòng Chính phủ"),
//!     to: vec![
//!         Organization::new(AgencyId::parse("000.00.00.H41")?, "UBND tỉnh Nghệ An"),
//!         Organization::new(AgencyId::parse("000.00.00.H53")?, "UBND tỉnh Tây Ninh"),
//!     ],
//!     code: Code::new("7816", "VPCP-TTĐT")?,
//!     promulgation: Promulgation { place: "Hà Nội".into(), date: date!(2026 - 01 - 02) },
//!     document_type: DocumentType { kind: 1, detail: 0, name: "Công văn".into() },
//!     subject: "V/v kết nối, liên thông văn bản".into(),
//!     content: String::new(),
//!     signer: SignerInfo {
//!         competence: "KT. BỘ TRƯỞNG".into(),
//!         position: "Phó Chủ nhiệm".into(),
//!         full_name: "Trần Văn Sơn".into(),
//!     },
//!     due_date: None,
//!     to_places: vec![],
//!     priority: Priority::Normal,
//!     other: OtherInfo::default(),
//!     response_for: vec![],
//!     business: Business::New,
//!     attachments: vec![digest.finish("cong-van.pdf", "application/pdf", "")],
//!     signature_form: SignatureForm::PersonAndSeal,
//! };
//!
//! // Encode once, sign twice: the person with authority, then the agency seal.
//! let person = Signer::new(&person_key, &person_cert)?;
//! let seal = Signer::new(&seal_key, &seal_cert)?;
//! let document = SignedDocument::sign(manifest.encode()?, &person, now, &seal, now)?;
//!
//! // Encrypt for both recipients' encryption certificates; frames go to `ciphertext` (a real
//! // SDK writes them out as they come and clears the buffer).
//! let mut sealer = Sealer::new(SealRequest {
//!     message_id: MessageId::random()?,
//!     document: &document,
//!     recipients: &[h41_enc.clone(), h53_enc.clone()],
//!     chunk_size: DEFAULT_CHUNK_SIZE,
//! })?;
//! let mut ciphertext = Vec::new();
//! sealer.write_attachment(&pdf, &mut ciphertext)?;
//! sealer.end_attachment(&mut ciphertext)?;
//! let sealed = sealer.finish(&seal, now, &mut ciphertext)?;
//!
//! // The axis checks origin, sizes and digest without any key.
//! let submission = sealed.submission.verify(&store, now)?;
//! let envelope = submission.check_key_envelope(&sealed.key_envelope)?;
//! let mut check = submission.ciphertext_check();
//! check.update(&ciphertext)?;
//! check.finish()?;
//!
//! // 000.00.00.H41 opens it: key unwrapped, every chunk and both signatures verified.
//! let my_key = RecipientKey::from_pkcs8_der(h41_pkcs8, &h41_enc)?;
//! // The axis delivers to it only its own key-envelope entry and that entry's audit path to
//! // the header's Merkle root (checked before the private key is used).
//! let mine = envelope.entry_with_path(0)?;
//! let opener = Opener::new(&submission, &mine, &my_key, &store, now)?;
//! let (received, attachments) = opener.open_all(&ciphertext)?;
//! assert_eq!(attachments, vec![pdf]);
//! let report = received.document().report();
//! assert_eq!(report.document_id.to_string(), "000.00.00.G22,2026/01/02,7816/VPCP-TTĐT");
//! assert_eq!(report.personal.as_ref().and_then(|p| p.position.as_deref()), Some("Phó Chủ nhiệm"));
//!
//! // …and answers with a signed delivery receipt (status 01), bound to both digests.
//! # let h41_seal_key = p256();
//! # let h41_seal = cert(Profile::AgencySeal, "000.00.00.H41", None, &public(&h41_seal_key));
//! let mut chain = ReceiptChain::new(DocumentRef::received(&received));
//! let receipt = chain.next(StatusCode::Arrived, now, "")?.sign(&Signer::new(&h41_seal_key, &h41_seal)?)?;
//! chain.push(&receipt, &store, now)?;
//! # let _ = h53_pkcs8;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## The public interface
//!
//! The document types at the root (manifest, signed document, sealer and opener, routing
//! header and submission, receipts and their chain, the error and its categories); every
//! budget and size in [`limits`]; and in [`cms`] the little that a format defined above this
//! crate needs to be read and signed by the same rules (`axis-evidence` uses it).
//!
//! ## Design note (formats and why)
//!
//! **One encoding: DER.** The manifest, the routing header and receipts are DER structures
//! (their ASN.1 is in each module's docs), read by one strict parser (`cms/der.rs`: shortest
//! lengths, minimal INTEGERs, no trailing bytes) that every untrusted input goes through, CMS
//! included. DER has one encoding per value, and each parser re-encodes what it read and
//! compares, so signatures cover the only byte form a value has; an auditor reads any of them
//! with `openssl asn1parse -inform DER`. Protobuf would have needed a second parser and has no
//! canonical form. Each structure starts with its own format OID under Axis's arc
//! (`<AXIS_OID_ARC>.2.1` manifest, `.2.2` routing header, `.2.3` receipt) and a version: the
//! agency seal signs all three, and a signature over one can never be read as another.
//!
//! **Signatures: detached CMS SignedData** (RFC 5652) with CAdES-BES signed attributes
//! (contentType, messageDigest, signingTime, signing-certificate-v2 per RFC 5035), SHA-256,
//! RSA PKCS#1 v1.5 or ECDSA P-256, the signer certificate and its CA embedded, so stock
//! `openssl cms -verify -binary` checks them. Verification is strict (those four attributes
//! required; besides them only CMSAlgorithmProtection, matching the algorithms used, and
//! smimeCapabilities, which BouncyCastle and OpenSSL add by default; one signer; detached) and
//! returns proof types: [`VerifiedDocument`],
//! [`VerifiedSubmission`], [`VerifiedReceipt`], [`ReceivedDocument`]. The CMS certificate set is
//! unsigned by design: it is only a hint for path building; the trust store decides.
//!
//! **Encryption: STREAM over AES-256-GCM** (`package/stream.rs`). Parts (manifest, personal signature,
//! seal, then each attachment) are cut into fixed-size chunks; the nonce is part ‖ index ‖
//! last-flag, the associated data is the routing header's *binding digest* (message id, sender,
//! recipients, priority, chunk size, key commitment, key-envelope root). Truncation,
//! reordering, splicing from another document and flipped bits all fail authentication; clear
//! frame fields only name *which* failure it was. Memory is one chunk (≤ 1 MiB, default 64 KiB)
//! plus the manifest and signatures (bounded by their budgets), whatever the document size.
//!
//! **Content key: fresh per document, wrapped once per recipient as a CMS EnvelopedData**
//! (`cms/envelope.rs`): KeyTransRecipientInfo with RSAES-OAEP-SHA256 for RSA certificates,
//! KeyAgreeRecipientInfo with ephemeral-static ECDH P-256, X9.63 KDF SHA-256 and AES-256 key
//! wrap for EC ones; its content is the 32-byte key, so `openssl cms -decrypt` prints it from any
//! one entry. The key envelope is the list of entries in the header's recipient order
//! (`package/key_envelope.rs`); the signed header carries their RFC 9162 Merkle root, so each
//! recipient is sent only its entry and audit path (a delivery stays small whatever the number
//! of recipients), checked before any private-key operation, and a SHA-256 commitment to the
//! key, so all recipients decrypt with the same key (GCM alone is not key-committing).
//!
//! **Routing header and submission signature** (`package/header.rs`): the header adds the ciphertext
//! length and SHA-256 to the binding and is signed by the sender's agency seal; the axis checks
//! origin, envelope and ciphertext ([`VerifiedSubmission::ciphertext_check`]) without a key.
//! Recipients do not hash the ciphertext again: a stream in which every chunk authenticates
//! under the committed key, in order and complete, and whose plaintext matches the signed
//! digests, is the sender's ciphertext; this keeps one SHA-256 pass per direction.
//!
//! **Receipts** (`receipt.rs`): a DER statement (message id, DocumentId, from, to, edXML status,
//! manifest and ciphertext digests, time, SHA-256 of the previous receipt, reason; version 2
//! adds the `edxml` extension, what an edXML status says beyond those fields) with a
//! detached CMS signature by an agency seal. [`ReceiptChain`] checks signature, party (13 by the
//! sender, the rest by the recipient), digests, the hash chain and the status transitions.
//!
//! **Evidence** (log entries, signed tree heads, inclusion proofs, evidence bundles) is the
//! `axis-evidence` crate, above this one: its formats are read with this crate's [`cms::der`]
//! reader, registered in [`cms::Format`], and signed with [`cms::sign`].
//!
//! **Secrets**: content keys and CEKs live in zeroized buffers; decryption keys in OpenSSL,
//! which clears them on free; no secret type implements `Debug`. (ring's expanded AES key
//! schedule inside `LessSafeKey` is not zeroized by ring.)

pub mod cms;
mod error;
pub mod limits;
mod package;
mod receipt;

// The public interface is:
#[cfg(feature = "test-vectors")]
pub use cms::envelope::FixedSecrets;
pub use cms::envelope::{RecipientId, RecipientKey};
pub use cms::signature::{CertificateStatus, SignatureReport, SignatureRole, Signer};
pub use error::{
    CertificateError, ChainError, CiphertextError, DigestKind, EnvelopeError, Error, FormatError,
    KeyError, SignatureError, SignatureRefusal, SigningTimeError, StreamError,
};
pub use package::document::{DocumentReport, PersonalSignature, SignedDocument, VerifiedDocument};
pub use package::document_id::{Code, DocumentId};
pub use package::header::{
    CiphertextCheck, HeaderBytes, MessageId, RoutingHeader, Submission, VerifiedSubmission,
};
pub use package::key_envelope::{EnvelopeEntry, KeyEnvelope};
pub use package::manifest::{
    Attachment, AttachmentDigest, Business, DocumentType, Manifest, ManifestBytes, Organization,
    OtherInfo, Priority, Promulgation, SignatureForm, SignerInfo,
};
pub use package::stream::{Opened, Opener, ReceivedDocument, SealRequest, Sealed, Sealer};
pub use receipt::{
    DocumentRef, Receipt, ReceiptBytes, ReceiptChain, SignedReceipt, StatusCode, VerifiedReceipt,
};

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(test)]
extern crate self as axis_signer;
#[cfg(test)]
mod tests;
