//! The axis's log as a DMS and an auditor check it: tree heads signed by the log signer (and
//! OpenSSL agreeing), inclusion evidence for acceptances and receipts with one error per way it
//! can be wrong, consistency between heads, budgets, a receipt chain resumed from the log, and
//! round trips of entries and proofs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::OnceLock;

use axis_evidence::Error;
use axis_evidence::limits::*;
use axis_evidence::*;
use axis_log::{Frontier, Hash};
use axis_pki::{AXIS_OID_ARC, KeyAlgorithm, Profile, Subject, to_pem};
use axis_signer::Error as SignerError;
use axis_signer::limits::*;
use axis_signer::*;
use axis_testkit::log::node;
use axis_testkit::*;
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// When the test log signs its tree head (after every entry of the batch was logged).
const HEAD_AT: OffsetDateTime = datetime!(2026-01-03 10:10 UTC);
/// When a DMS or an auditor checks the evidence.
const AT: OffsetDateTime = datetime!(2026-01-03 10:20 UTC);
/// Entries in the log before the test batch, so that the batch's indices are not 0.
const EARLIER: u64 = 5;

/// Exact error, shown as its `Debug` form (every field in it).
#[track_caller]
fn check<T: std::fmt::Debug, E: std::fmt::Debug>(result: Result<T, E>, expected: &str) {
    match result {
        Ok(v) => panic!("expected {expected}, got Ok({v:?})"),
        Err(e) => assert_eq!(format!("{e:?}"), expected),
    }
}

fn log_key() -> Option<&'static [u8]> {
    Some(fixture().log.cert.public_key_der())
}

fn sign_head(tree_size: u64, root_hash: Hash, timestamp: OffsetDateTime) -> SignedTreeHead {
    TreeHead {
        tree_size,
        root_hash,
        timestamp,
    }
    .sign(&fixture().log.signer())
    .unwrap()
}

/// A log as the axis keeps it: five earlier leaves, then one batch with the acceptance of two
/// real submissions and three real receipts (01 and 03 by B, 13 by A, on the first package).
struct Batch {
    packages: [Package; 2],
    /// 01, 03, 13 for B's copy of `packages[0]`.
    receipts: Vec<SignedReceipt>,
    /// acceptance p0, acceptance p1, statement 01, 03, 13: leaves 5 to 9.
    entries: Vec<LogEntryBytes>,
    /// Every leaf hash of the log, the earlier ones first.
    leaves: Vec<Hash>,
    /// The log before the batch.
    old: TreeHead,
    /// The log after it, signed.
    head: SignedTreeHead,
    /// One per entry.
    proofs: Vec<LogProof>,
}

fn batch() -> &'static Batch {
    static B: OnceLock<Batch> = OnceLock::new();
    B.get_or_init(|| {
        let f = fixture();
        let packages = [standard_package(), standard_package()];
        let mut entries = Vec::new();
        for p in &packages {
            let sub = p.sealed.submission.verify(&f.store, NOW).unwrap();
            entries.push(LogEntry::acceptance(&sub, NOW).encode().unwrap());
        }
        let (received, _) = open(&packages[0], &f.b).unwrap();
        let mut chain = ReceiptChain::new(DocumentRef::received(&received));
        let mut receipts = Vec::new();
        for (i, status) in [
            StatusCode::Arrived,
            StatusCode::Accepted,
            StatusCode::RecallRequested,
        ]
        .into_iter()
        .enumerate()
        {
            let t = NOW + Duration::minutes(i as i64 + 1);
            let seal = if status.from_sender() {
                f.a.seal_signer()
            } else {
                f.b.seal_signer()
            };
            let signed = chain.next(status, t, "").unwrap().sign(&seal).unwrap();
            let verified = chain.push(&signed, &f.store, t).unwrap();
            let logged = LogEntry::statement(verified, t + Duration::seconds(1));
            entries.push(logged.encode().unwrap());
            receipts.push(signed);
        }

        let mut leaves: Vec<Hash> = (0..EARLIER)
            .map(|i| axis_log::leaf_hash(format!("earlier entry {i}").as_bytes()))
            .collect();
        let mut frontier = Frontier::new();
        frontier.append_batch(&leaves).unwrap();
        let old = TreeHead {
            tree_size: frontier.size(),
            root_hash: frontier.root(),
            timestamp: NOW,
        };
        let new: Vec<Hash> = entries.iter().map(LogEntryBytes::leaf_hash).collect();
        let appended = frontier.append_batch(&new).unwrap();
        leaves.extend(&new);
        assert_eq!(appended.first_index, EARLIER);
        assert_eq!(appended.root, axis_log::root_from_leaves(&leaves));
        let head = sign_head(appended.tree_size, appended.root, HEAD_AT);
        let proofs = appended
            .proofs
            .iter()
            .enumerate()
            .map(|(i, path)| LogProof {
                tree_head: head.clone(),
                leaf_index: appended.first_index + i as u64,
                path: path.clone(),
            })
            .collect();
        Batch {
            packages,
            receipts,
            entries,
            leaves,
            old,
            head,
            proofs,
        }
    })
}

// ----- tree heads -----

#[test]
fn a_tree_head_signed_by_the_log_signer_round_trips_and_verifies() {
    let f = fixture();
    let head = TreeHead {
        tree_size: 42,
        root_hash: [7; 32],
        timestamp: HEAD_AT + Duration::milliseconds(250),
    };
    let signed = head.sign(&f.log.signer()).unwrap();
    // The encoding keeps whole seconds; the value is what the bytes say.
    assert_eq!(
        *signed.head(),
        TreeHead {
            timestamp: HEAD_AT,
            ..head
        }
    );

    let parsed = SignedTreeHead::parse(signed.as_bytes(), signed.signature().to_vec()).unwrap();
    assert_eq!(parsed, signed);
    let v = parsed.verify(&f.store, AT, None).unwrap();
    assert_eq!(v.head(), signed.head());
    assert_eq!(v.signed(), &signed);
    assert_eq!(v.signer(), "Axis log signer");
    assert_eq!(v.signer_key(), f.log.cert.public_key_der());
    // An auditor pins the log's key.
    parsed.verify(&f.store, AT, log_key()).unwrap();
}

#[test]
fn a_tree_head_by_another_key_than_the_pinned_one_is_refused() {
    let f = fixture();
    let other = issue_extra(
        Profile::AxisLogSigner,
        Subject::new("Another log"),
        KeyAlgorithm::EcdsaP256,
    );
    let theirs = TreeHead {
        tree_size: 1,
        root_hash: [1; 32],
        timestamp: HEAD_AT,
    }
    .sign(&other.signer())
    .unwrap();
    // A log signer of the same PKI: its signature is good …
    theirs.verify(&f.store, AT, None).unwrap();
    // … but not the log the auditor follows.
    check(
        theirs.verify(&f.store, AT, log_key()),
        "Log(LogKeyMismatch)",
    );
    let ours = sign_head(1, [1; 32], HEAD_AT);
    check(
        ours.verify(&f.store, AT, Some(f.a.seal.public_key_der())),
        "Log(LogKeyMismatch)",
    );
}

#[test]
fn only_a_log_signer_signs_tree_heads_and_it_signs_nothing_else() {
    let f = fixture();
    let head = TreeHead {
        tree_size: 3,
        root_hash: [3; 32],
        timestamp: HEAD_AT,
    };
    check(
        head.sign(&f.a.seal_signer()),
        "Signer(Key(WrongCertificateProfile { expected: AxisLogSigner, found: AgencySeal }))",
    );
    check(
        head.sign(&f.person.signer()),
        "Signer(Key(WrongCertificateProfile { expected: AxisLogSigner, found: PersonalSigner }))",
    );
    // The log signer's certificate is valid for a `Signer`, but seals nothing of an agency's.
    let (received, _) = open(&batch().packages[0], &f.b).unwrap();
    let receipt = ReceiptChain::new(DocumentRef::received(&received))
        .next(StatusCode::Arrived, NOW, "")
        .unwrap();
    check(
        receipt.sign(&f.log.signer()),
        "Key(WrongCertificateProfile { expected: AgencySeal, found: AxisLogSigner })",
    );
    let m = manifest(&[&f.b], &[]).encode().unwrap();
    check(
        SignedDocument::sign(m, &f.person.signer(), SIGNED, &f.log.signer(), SIGNED),
        "Key(WrongCertificateProfile { expected: AgencySeal, found: AxisLogSigner })",
    );
}

#[test]
fn a_changed_tree_head_is_refused() {
    let f = fixture();
    let signed = sign_head(10, [9; 32], HEAD_AT);
    let sig = signed.signature().to_vec();
    let bytes = signed.as_bytes();

    // A changed root hash still parses; the signature no longer covers it.
    let mut root_flip = bytes.to_vec();
    let at = bytes.len() - 17 - 1; // last byte of the root hash, before the 17-byte time
    root_flip[at] ^= 0x01;
    let changed = SignedTreeHead::parse(&root_flip, sig.clone()).unwrap();
    assert_eq!(changed.head().root_hash[31], 9 ^ 0x01);
    check(
        changed.verify(&f.store, AT, None),
        "Signer(Signature(ContentDigestMismatch { role: TreeHead }))",
    );
    // A flip in the structure is caught by the parser.
    let mut tag_flip = bytes.to_vec();
    tag_flip[0] ^= 0x01;
    check(
        SignedTreeHead::parse(&tag_flip, sig.clone()),
        r#"Signer(Format(Malformed { what: "tree head" }))"#,
    );
    // No single flipped bit anywhere gets through.
    for i in 0..bytes.len() {
        for bit in [0x01, 0x80] {
            let mut b = bytes.to_vec();
            b[i] ^= bit;
            let r =
                SignedTreeHead::parse(&b, sig.clone()).and_then(|s| s.verify(&f.store, AT, None));
            assert!(r.is_err(), "byte {i} bit {bit:#x} accepted");
        }
    }
    // The same head in another byte form (UTCTime instead of GeneralizedTime) is refused.
    check(
        SignedTreeHead::parse(&with_utc_time(bytes), sig.clone()),
        r#"Signer(Format(Malformed { what: "tree head" }))"#,
    );
    // No signature at all.
    check(
        SignedTreeHead::parse(bytes, Vec::new())
            .unwrap()
            .verify(&f.store, AT, None),
        "Signer(Signature(SealSignatureMissing))",
    );
    // Checked before it was signed: a head from the future.
    let early = SignedTreeHead::parse(bytes, sig)
        .unwrap()
        .verify(&f.store, HEAD_AT - Duration::hours(1), None)
        .unwrap_err();
    assert!(
        matches!(
            early,
            Error::Signer(SignerError::SigningTime(SigningTimeError::SigningTimeInFuture {
                role: SignatureRole::TreeHead,
                signing_time,
                ..
            })) if signing_time == HEAD_AT
        ),
        "{early:?}"
    );
}

#[test]
fn a_tree_head_by_a_revoked_log_signer_is_refused() {
    let f = fixture();
    let log = issue_extra(
        Profile::AxisLogSigner,
        Subject::new("Compromised log signer"),
        KeyAlgorithm::EcdsaP256,
    );
    let signed = TreeHead {
        tree_size: 5,
        root_hash: [5; 32],
        timestamp: HEAD_AT,
    }
    .sign(&log.signer())
    .unwrap();
    // Good while the CRL does not list it …
    signed.verify(&f.store, AT, None).unwrap();
    // … refused once the next CRL does.
    let revoked_at = AT + Duration::hours(1);
    let (later, crls) = later_store(revoked_at, &[&log.cert]);
    let err = signed
        .verify(&later, revoked_at + Duration::hours(1), None)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Signer(SignerError::Certificate(CertificateError::SignerRevoked { role: SignatureRole::TreeHead, serial, revoked_at: when, .. }))
                if serial == log.cert.serial() && *when == revoked_at
        ),
        "{err:?}"
    );
    // The fixture's log signer is not affected by that CRL.
    sign_head(5, [5; 32], HEAD_AT)
        .verify(&later, revoked_at + Duration::hours(1), log_key())
        .unwrap();
    // OpenSSL agrees.
    let d = Dir::new(&crls);
    let head = d.write("treehead.der", signed.as_bytes());
    let sig = d.write("sig.der", signed.signature());
    let (ok, stderr) = cms_verify(&d, &sig, &head, revoked_at + Duration::hours(1));
    assert!(!ok);
    assert!(stderr.contains("revoked"), "{stderr}");
}

#[test]
fn a_tree_head_signature_made_by_an_agency_seal_is_refused() {
    // The public API will not sign a tree head with a seal, so stock OpenSSL makes one: a
    // CAdES-BES detached signature over the exact tree-head bytes, by B's seal, then by the
    // log signer the same way (the control).
    let f = fixture();
    let head = sign_head(8, [8; 32], HEAD_AT);
    let d = Dir::new(&f.crls);
    let content = d.write("treehead.der", head.as_bytes());
    let openssl_sign = |name: &str, cert: &[u8], key: &axis_pki::PrivateKey| {
        let cert = d.write(
            &format!("{name}.pem"),
            to_pem("CERTIFICATE", cert).as_bytes(),
        );
        let key = d.write(
            &format!("{name}.key"),
            to_pem("PRIVATE KEY", &key.to_pkcs8_der()).as_bytes(),
        );
        let out = d.path(&format!("{name}.der"));
        let (ok, stderr) = openssl(&[
            "cms".as_ref(),
            "-sign".as_ref(),
            "-binary".as_ref(),
            "-cades".as_ref(),
            "-nosmimecap".as_ref(),
            "-md".as_ref(),
            "sha256".as_ref(),
            "-in".as_ref(),
            content.as_os_str(),
            "-signer".as_ref(),
            cert.as_os_str(),
            "-inkey".as_ref(),
            key.as_os_str(),
            "-certfile".as_ref(),
            d.path("ca.pem").as_os_str(),
            "-outform".as_ref(),
            "DER".as_ref(),
            "-out".as_ref(),
            out.as_os_str(),
        ]);
        assert!(ok, "{stderr}");
        std::fs::read(out).unwrap()
    };

    let by_seal = openssl_sign("seal", f.b.seal.der(), &f.b.seal_key);
    let forged = SignedTreeHead::parse(head.as_bytes(), by_seal).unwrap();
    let err = forged.verify(&f.store, AT, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Signer(SignerError::Certificate(
                CertificateError::SignerCertificateRejected {
                    role: SignatureRole::TreeHead,
                    source: axis_pki::Error::WrongProfile {
                        expected: Profile::AxisLogSigner,
                        found: Profile::AgencySeal
                    }
                }
            ))
        ),
        "{err:?}"
    );

    // Control: the same OpenSSL signature by the log signer gets past the certificate checks.
    // OpenSSL can only write the current clock as signing time, which is not the head's
    // timestamp, so it stops at one of the time checks that come after the profile.
    let by_log = openssl_sign("log", f.log.cert.der(), &f.log.key);
    let control = SignedTreeHead::parse(head.as_bytes(), by_log).unwrap();
    let err = control.verify(&f.store, AT, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Signer(SignerError::SigningTime(
                SigningTimeError::SigningTimeInFuture {
                    role: SignatureRole::TreeHead,
                    ..
                }
            )) | Error::Signer(SignerError::SigningTime(
                SigningTimeError::SigningTimeOutsideValidity {
                    role: SignatureRole::TreeHead,
                    ..
                }
            )) | Error::Log(LogError::TreeHeadTimeMismatch)
        ),
        "{err:?}"
    );
}

#[test]
fn a_tree_head_whose_signing_time_is_not_its_timestamp_is_refused() {
    let f = fixture();
    let head = sign_head(6, [6; 32], HEAD_AT);
    // The surgery alone (same time, signed again) leaves a good signature …
    let same = resign_with_signing_time(&head, "260103101000Z");
    SignedTreeHead::parse(head.as_bytes(), same)
        .unwrap()
        .verify(&f.store, AT, log_key())
        .unwrap();
    // … and a signing time two minutes later, properly signed by the log key, does not.
    let later = resign_with_signing_time(&head, "260103101200Z");
    check(
        SignedTreeHead::parse(head.as_bytes(), later)
            .unwrap()
            .verify(&f.store, AT, log_key()),
        "Log(TreeHeadTimeMismatch)",
    );
}

/// The head's own CMS signature with its signingTime (UTCTime, here 10:10 on 2026-01-03)
/// replaced in place by `utc_time`, the signed attributes signed again with the log key. The
/// public API always signs at the head's timestamp; this makes the one signature it will not.
fn resign_with_signing_time(head: &SignedTreeHead, utc_time: &str) -> Vec<u8> {
    let key = &fixture().log.key;
    let mut sig = head.signature().to_vec();
    let find = |hay: &[u8], needle: &[u8]| {
        let found: Vec<usize> = (0..=hay.len() - needle.len())
            .filter(|&i| hay[i..].starts_with(needle))
            .collect();
        assert_eq!(found.len(), 1, "{needle:02x?}");
        found[0]
    };
    let old = [&[0x17, 13][..], b"260103101000Z"].concat();
    let t = find(&sig, &old);
    sig[t + 2..t + 15].copy_from_slice(utc_time.as_bytes());
    // signedAttrs [0] IMPLICIT SET: its first attribute (DER order) is contentType.
    let content_type = [
        0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03,
    ];
    let first = find(&sig, &content_type);
    let (start, len) = if sig[first - 2] == 0xa0 {
        (first - 2, usize::from(sig[first - 1]))
    } else {
        assert_eq!(sig[first - 3..first - 1], [0xa0, 0x81]);
        (first - 3, usize::from(sig[first - 1]))
    };
    let mut set = sig[start..first + len].to_vec();
    set[0] = 0x31;
    // The signature value ends the SignedData, after ecdsa-with-SHA256.
    let alg = [
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x04,
    ];
    let value = find(&sig, &alg) + alg.len() + 1;
    assert_eq!(usize::from(sig[value - 1]), sig.len() - value);
    // ECDSA signatures vary in length by a byte or two; keep one that fits in place.
    let new = std::iter::repeat_with(|| key.sign(&set).unwrap())
        .find(|s| s.len() == sig.len() - value)
        .unwrap();
    sig[value..].copy_from_slice(&new);
    sig
}

// ----- OpenSSL as the independent judge -----

/// `openssl asn1parse` of DER bytes: success and the dump.
fn asn1parse(d: &Dir, name: &str, der: &[u8]) -> (bool, String) {
    let p = d.write(name, der);
    let out = Command::new("openssl")
        .args(["asn1parse", "-inform", "DER", "-in"])
        .arg(p)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn openssl_verifies_a_tree_head_signature_and_refuses_a_changed_head() {
    let f = fixture();
    let b = batch();
    let d = Dir::new(&f.crls);
    let head = d.write("treehead.der", b.head.as_bytes());
    let sig = d.write("sig.der", b.head.signature());
    let (ok, stderr) = cms_verify(&d, &sig, &head, AT);
    assert!(ok, "{stderr}");
    assert_eq!(
        std::fs::read(d.path("verified.out")).unwrap(),
        b.head.as_bytes()
    );

    let mut changed = b.head.as_bytes().to_vec();
    changed[20] ^= 0x01;
    let changed = d.write("changed.der", &changed);
    let (ok, stderr) = cms_verify(&d, &sig, &changed, AT);
    assert!(!ok);
    assert!(stderr.contains("content verify error"), "{stderr}");
}

#[test]
fn openssl_asn1parse_reads_log_entries_tree_heads_and_log_proofs() {
    let f = fixture();
    let b = batch();
    let d = Dir::new(&f.crls);
    for (name, der, oid, body) in [
        (
            "acceptance.der",
            b.entries[0].as_bytes(),
            4,
            Some("cont [ 1 ]"),
        ),
        (
            "statement.der",
            b.entries[2].as_bytes(),
            4,
            Some("cont [ 2 ]"),
        ),
        ("treehead.der", b.head.as_bytes(), 5, None),
        ("proof.der", &b.proofs[0].encode()[..], 6, None),
    ] {
        let (ok, dump) = asn1parse(&d, name, der);
        assert!(ok, "{name}: {dump}");
        assert!(
            dump.contains(&format!(":{AXIS_OID_ARC}.2.{oid}")),
            "{name}: {dump}"
        );
        if let Some(body) = body {
            assert!(dump.contains(body), "{name}: {dump}");
        }
        if oid != 6 {
            assert!(dump.contains("GENERALIZEDTIME"), "{name}: {dump}");
        }
        // The judge can say no: the same bytes cut short.
        let (ok, _) = asn1parse(&d, "cut.der", &der[..der.len() - 1]);
        assert!(!ok, "{name} cut short parsed");
    }
}

// ----- inclusion evidence -----

#[test]
fn every_entry_of_a_batch_verifies_under_the_signed_head_and_records_what_happened() {
    let f = fixture();
    let b = batch();
    assert_eq!(b.head.head().tree_size, EARLIER + 5);
    for (i, (entry, proof)) in b.entries.iter().zip(&b.proofs).enumerate() {
        let ev =
            verify_evidence(entry.as_bytes(), &proof.encode(), &f.store, AT, log_key()).unwrap();
        assert_eq!(ev.entry(), entry);
        assert_eq!(ev.leaf_index(), EARLIER + i as u64);
        assert_eq!(ev.tree_head().head(), b.head.head());
        assert_eq!(ev.tree_head().signer_key(), f.log.cert.public_key_der());
        // Without a pinned key, the root certificate alone suffices.
        verify_evidence(entry.as_bytes(), &proof.encode(), &f.store, AT, None).unwrap();
    }

    // The sender checks that its acceptance records exactly what it sent, from the bytes it
    // keeps; a parsed copy does as well as the original.
    for (p, entry) in b.packages.iter().zip(&b.entries) {
        let sub = &p.sealed.submission;
        entry.check_acceptance_of(sub).unwrap();
        let again = Submission::parse(sub.header().as_bytes(), sub.signature().to_vec()).unwrap();
        entry.check_acceptance_of(&again).unwrap();
        let EntryBody::Acceptance(a) = &entry.entry().body else {
            panic!("not an acceptance");
        };
        assert_eq!(a.sender, f.a.id);
        assert_eq!(a.ciphertext_len, p.ciphertext.len() as u64);
        assert_eq!(a.ciphertext_digest, openssl::sha::sha256(&p.ciphertext));
        assert_eq!(
            a.header_digest,
            openssl::sha::sha256(sub.header().as_bytes())
        );
        assert_eq!(entry.entry().message_id, sub.header().header().message_id);
    }
    // Each party checks that a statement entry records exactly its receipt.
    for (r, entry) in b.receipts.iter().zip(&b.entries[2..]) {
        entry.check_statement_of(r).unwrap();
        let EntryBody::Statement(s) = &entry.entry().body else {
            panic!("not a statement");
        };
        assert_eq!(s.status, r.receipt().receipt().status);
        assert_eq!(
            s.receipt_digest,
            openssl::sha::sha256(r.receipt().as_bytes())
        );
        assert_eq!(s.signature_digest, openssl::sha::sha256(r.signature()));
        assert_eq!(
            entry.entry().logged_at,
            r.receipt().receipt().time + Duration::seconds(1)
        );
    }
}

#[test]
fn changed_evidence_is_refused_each_way_with_its_own_error() {
    let f = fixture();
    let b = batch();
    let run = |entry: &[u8], proof: &LogProof| {
        verify_evidence(entry, &proof.encode(), &f.store, AT, log_key())
    };
    let entry = b.entries[0].as_bytes(); // leaf 5 of 10
    let proof = &b.proofs[0];
    let last = &b.proofs[4]; // leaf 9 of 10
    assert_eq!((proof.path.len(), last.path.len()), (4, 2));
    // The valid case passes, so every failure below is the change's doing.
    run(entry, proof).unwrap();
    run(b.entries[4].as_bytes(), last).unwrap();

    const ROOT: &str = "Log(InclusionProofInvalid { source: RootMismatch })";
    // The entry: a changed digest still parses but is another leaf; a changed tag does not.
    let mut e = entry.to_vec();
    *e.last_mut().unwrap() ^= 0x01;
    check(run(&e, proof), ROOT);
    let mut e = entry.to_vec();
    e[0] ^= 0x01;
    check(
        run(&e, proof),
        r#"Signer(Format(Malformed { what: "log entry" }))"#,
    );

    // The path: a changed hash at either end.
    for (i, byte) in [(0, 0), (3, 31)] {
        let mut p = proof.clone();
        p.path[i][byte] ^= 0x01;
        check(run(entry, &p), ROOT);
    }
    // Cut short or padded.
    let mut p = proof.clone();
    p.path.pop();
    check(
        run(entry, &p),
        "Log(InclusionProofInvalid { source: ProofLength { expected: 4, found: 3 } })",
    );
    let mut p = proof.clone();
    p.path.push([0; 32]);
    check(
        run(entry, &p),
        "Log(InclusionProofInvalid { source: ProofLength { expected: 4, found: 5 } })",
    );

    // The index: a neighbour (same path length), another subtree, outside the tree.
    let mut p = proof.clone();
    p.leaf_index += 1;
    check(run(entry, &p), ROOT);
    let mut p = last.clone();
    p.leaf_index = 7;
    check(
        run(b.entries[4].as_bytes(), &p),
        "Log(InclusionProofInvalid { source: ProofLength { expected: 4, found: 2 } })",
    );
    p.leaf_index = 10;
    check(
        run(b.entries[4].as_bytes(), &p),
        "Log(InclusionProofInvalid { source: IndexOutOfRange { index: 10, size: 10 } })",
    );

    // Another entry's proof, and this proof for another entry.
    check(run(entry, &b.proofs[1]), ROOT);
    check(run(b.entries[1].as_bytes(), proof), ROOT);

    // A head that is properly signed but of another tree (two entries swapped).
    let mut swapped = b.leaves.clone();
    swapped.swap(5, 6);
    let other = sign_head(10, axis_log::root_from_leaves(&swapped), HEAD_AT);
    other.verify(&f.store, AT, log_key()).unwrap();
    let p = LogProof {
        tree_head: other.clone(),
        ..proof.clone()
    };
    check(run(entry, &p), ROOT);

    // The head's bytes with another head's signature.
    let p = LogProof {
        tree_head: SignedTreeHead::parse(b.head.as_bytes(), other.signature().to_vec()).unwrap(),
        ..proof.clone()
    };
    check(
        run(entry, &p),
        "Signer(Signature(ContentDigestMismatch { role: TreeHead }))",
    );
    // No signature.
    let p = LogProof {
        tree_head: SignedTreeHead::parse(b.head.as_bytes(), Vec::new()).unwrap(),
        ..proof.clone()
    };
    check(run(entry, &p), "Signer(Signature(SealSignatureMissing))");
    // Another log's key pinned.
    check(
        verify_evidence(
            entry,
            &proof.encode(),
            &f.store,
            AT,
            Some(f.b.seal.public_key_der()),
        ),
        "Log(LogKeyMismatch)",
    );
}

#[test]
fn an_entry_dated_after_the_head_that_includes_it_is_refused() {
    let f = fixture();
    let b = batch();
    let logged = |logged_at: OffsetDateTime| {
        let mut e = b.entries[0].entry().clone();
        e.logged_at = logged_at;
        let e = e.encode().unwrap();
        let mut frontier = Frontier::new();
        frontier.append_batch(&b.leaves[..3]).unwrap();
        let appended = frontier.append_batch(&[e.leaf_hash()]).unwrap();
        let proof = LogProof {
            tree_head: sign_head(appended.tree_size, appended.root, HEAD_AT),
            leaf_index: appended.first_index,
            path: appended.proofs[0].clone(),
        };
        verify_evidence(e.as_bytes(), &proof.encode(), &f.store, AT, log_key())
    };
    logged(HEAD_AT).unwrap();
    // Entry and head come from one commit on the axis's clock: not even a second later.
    check(
        logged(HEAD_AT + Duration::seconds(1)),
        "Log(EntryAfterTreeHead)",
    );
    check(
        logged(HEAD_AT + Duration::hours(1)),
        "Log(EntryAfterTreeHead)",
    );
}

#[test]
fn an_entry_records_one_submission_and_one_receipt_and_says_which_field_differs() {
    let b = batch();
    let acceptance = &b.entries[0];
    let sub = &b.packages[0].sealed.submission;
    let mismatch = |field: &str| format!("Log(LogEntryMismatch {{ field: {field:?} }})");

    // Another submission, or one field of the entry changed.
    check(
        acceptance.check_acceptance_of(&b.packages[1].sealed.submission),
        &mismatch("message id"),
    );
    let fields: [(&str, Change); 6] = [
        ("message id", |e| {
            e.message_id = MessageId::random().unwrap()
        }),
        ("sender", |e| {
            acceptance_mut(e).sender = fixture().b.id.clone()
        }),
        ("routing header digest", |e| {
            acceptance_mut(e).header_digest[0] ^= 1
        }),
        ("submission signature digest", |e| {
            acceptance_mut(e).submission_signature_digest[0] ^= 1
        }),
        ("ciphertext length", |e| {
            acceptance_mut(e).ciphertext_len += 1
        }),
        ("ciphertext digest", |e| {
            acceptance_mut(e).ciphertext_digest[0] ^= 1
        }),
    ];
    for (field, change) in fields {
        let mut e = acceptance.entry().clone();
        change(&mut e);
        check(
            e.encode().unwrap().check_acceptance_of(sub),
            &mismatch(field),
        );
    }

    // Statements: another receipt of the chain, the same statement signed again, one field.
    let r01 = &b.receipts[0];
    let statement = &b.entries[2];
    check(
        statement.check_statement_of(&b.receipts[1]),
        &mismatch("status"),
    );
    let resigned = r01
        .receipt()
        .receipt()
        .sign(&fixture().b.seal_signer())
        .unwrap();
    assert_eq!(resigned.receipt(), r01.receipt());
    check(
        statement.check_statement_of(&resigned),
        &mismatch("signature digest"),
    );
    let fields: [(&str, Change); 6] = [
        ("message id", |e| {
            e.message_id = MessageId::random().unwrap()
        }),
        ("from", |e| statement_mut(e).from = fixture().c.id.clone()),
        ("to", |e| statement_mut(e).to = fixture().c.id.clone()),
        ("status", |e| statement_mut(e).status = StatusCode::Rejected),
        ("receipt digest", |e| {
            statement_mut(e).receipt_digest[0] ^= 1
        }),
        ("signature digest", |e| {
            statement_mut(e).signature_digest[0] ^= 1
        }),
    ];
    for (field, change) in fields {
        let mut e = statement.entry().clone();
        change(&mut e);
        check(
            e.encode().unwrap().check_statement_of(r01),
            &mismatch(field),
        );
    }

    // The wrong kind of entry.
    check(statement.check_acceptance_of(sub), &mismatch("kind"));
    check(acceptance.check_statement_of(r01), &mismatch("kind"));
}

/// One change to an entry, for the table of fields.
type Change = fn(&mut LogEntry);

fn acceptance_mut(e: &mut LogEntry) -> &mut AcceptanceEntry {
    match &mut e.body {
        EntryBody::Acceptance(a) => a,
        _ => panic!("not an acceptance"),
    }
}

fn statement_mut(e: &mut LogEntry) -> &mut StatementEntry {
    match &mut e.body {
        EntryBody::Statement(s) => s,
        _ => panic!("not a statement"),
    }
}

// ----- consistency between heads -----

#[test]
fn a_later_head_extends_an_earlier_one_by_a_consistency_proof() {
    let f = fixture();
    let b = batch();
    let new = b.head.verify(&f.store, AT, log_key()).unwrap();
    let get = |id| node(&b.leaves, id);
    let proof = axis_log::consistency_proof(EARLIER, 10, get).unwrap();
    new.check_extends(&b.old, &proof).unwrap();
    // An earlier head in the middle of the batch, and the head itself.
    let mid = TreeHead {
        tree_size: 7,
        root_hash: axis_log::root_from_leaves(&b.leaves[..7]),
        timestamp: NOW,
    };
    new.check_extends(&mid, &axis_log::consistency_proof(7, 10, get).unwrap())
        .unwrap();
    new.check_extends(new.head(), &[]).unwrap();

    // A forked or rewritten history.
    let mut old = b.old;
    old.root_hash[0] ^= 1;
    check(
        new.check_extends(&old, &proof),
        "Log(ConsistencyProofInvalid { source: RootMismatch })",
    );
    let mut bad = proof.clone();
    bad[0][0] ^= 1;
    check(
        new.check_extends(&b.old, &bad),
        "Log(ConsistencyProofInvalid { source: RootMismatch })",
    );
    let mut fork = *new.head();
    fork.root_hash[0] ^= 1;
    check(
        new.check_extends(&fork, &[]),
        "Log(ConsistencyProofInvalid { source: RootMismatch })",
    );
    check(
        new.check_extends(&b.old, &proof[..proof.len() - 1]),
        &format!(
            "Log(ConsistencyProofInvalid {{ source: ProofLength {{ expected: {}, found: {} }} }})",
            proof.len(),
            proof.len() - 1
        ),
    );
    // A tree never shrinks, and the empty tree has no root to extend.
    let larger = TreeHead {
        tree_size: 11,
        ..b.old
    };
    check(
        new.check_extends(&larger, &proof),
        "Log(ConsistencyProofInvalid { source: SizeOutOfRange { old: 11, new: 10 } })",
    );
    let empty = TreeHead {
        tree_size: 0,
        root_hash: axis_log::empty_root(),
        timestamp: NOW,
    };
    check(
        new.check_extends(&empty, &[]),
        "Log(ConsistencyProofInvalid { source: SizeOutOfRange { old: 0, new: 10 } })",
    );
}

// ----- budgets and formats -----

#[test]
fn an_inclusion_path_has_at_most_64_hashes() {
    let b = batch();
    let with = |n: usize| {
        LogProof {
            path: vec![[0xab; 32]; n],
            ..b.proofs[0].clone()
        }
        .encode()
    };
    let p = LogProof::parse(&with(MAX_PATH_LEN)).unwrap();
    assert_eq!(p.path.len(), 64);
    check(
        LogProof::parse(&with(MAX_PATH_LEN + 1)),
        r#"Signer(Format(TooMany { what: "hashes in an inclusion path", found: 65, max: 64 }))"#,
    );
}

#[test]
fn oversize_inputs_are_refused_before_parsing() {
    let f = fixture();
    let b = batch();
    let proof = b.proofs[0].encode();
    let entry = b.entries[0].as_bytes();
    check(
        verify_evidence(&vec![0; MAX_LOG_ENTRY_LEN + 1], &proof, &f.store, AT, None),
        r#"Signer(Format(TooLarge { what: "log entry", len: 4097, max: 4096 }))"#,
    );
    check(
        verify_evidence(entry, &vec![0; MAX_LOG_PROOF_LEN + 1], &f.store, AT, None),
        r#"Signer(Format(TooLarge { what: "log proof", len: 81921, max: 81920 }))"#,
    );
    check(
        SignedTreeHead::parse(&[0; 1025], Vec::new()),
        r#"Signer(Format(TooLarge { what: "tree head", len: 1025, max: 1024 }))"#,
    );
    // At the limit the budget lets the bytes through (and the parser refuses these).
    check(
        LogEntryBytes::parse(&vec![0; MAX_LOG_ENTRY_LEN]),
        r#"Signer(Format(Malformed { what: "log entry" }))"#,
    );
    check(
        LogProof::parse(&vec![0; MAX_LOG_PROOF_LEN]),
        r#"Signer(Format(Malformed { what: "log proof" }))"#,
    );
    // A signature over the CMS budget, inside a proof that fits its own.
    let p = LogProof {
        tree_head: SignedTreeHead::parse(b.head.as_bytes(), vec![0; MAX_SIGNATURE_LEN + 1])
            .unwrap(),
        ..b.proofs[0].clone()
    };
    check(
        verify_evidence(entry, &p.encode(), &f.store, AT, None),
        r#"Signer(Format(TooLarge { what: "CMS SignedData", len: 65537, max: 65536 }))"#,
    );
}

#[test]
fn each_structure_is_read_only_as_itself() {
    let b = batch();
    let entry = b.entries[0].as_bytes();
    let head = b.head.as_bytes();
    let proof = b.proofs[0].encode();
    check(
        LogEntryBytes::parse(head),
        r#"Signer(Format(WrongFormat { expected: "log entry" }))"#,
    );
    check(
        LogEntryBytes::parse(b.receipts[0].receipt().as_bytes()),
        r#"Signer(Format(WrongFormat { expected: "log entry" }))"#,
    );
    check(
        SignedTreeHead::parse(entry, Vec::new()),
        r#"Signer(Format(WrongFormat { expected: "tree head" }))"#,
    );
    check(
        LogProof::parse(head),
        r#"Signer(Format(WrongFormat { expected: "log proof" }))"#,
    );
    check(
        LogProof::parse(entry),
        r#"Signer(Format(WrongFormat { expected: "log proof" }))"#,
    );
    check(
        ReceiptBytes::parse(entry),
        r#"Format(WrongFormat { expected: "receipt" })"#,
    );
    assert!(LogProof::parse(&proof).is_ok());
}

#[test]
fn a_log_entry_has_one_byte_form() {
    let b = batch();
    let acceptance = b.entries[0].as_bytes();
    let statement = b.entries[3].as_bytes(); // 03
    // Each parses to itself.
    for e in &b.entries {
        let again = LogEntryBytes::parse(e.as_bytes()).unwrap();
        assert_eq!(&again, e);
        assert_eq!(again.entry().encode().unwrap(), again);
    }
    const MALFORMED: &str = r#"Signer(Format(Malformed { what: "log entry" }))"#;
    // Bytes after the entry.
    let mut e = acceptance.to_vec();
    e.push(0);
    check(LogEntryBytes::parse(&e), MALFORMED);
    // The same time as UTCTime: same meaning, another leaf hash.
    check(LogEntryBytes::parse(&with_utc_time(acceptance)), MALFORMED);
    // Version 2.
    let v = version_offset(acceptance);
    let mut e = acceptance.to_vec();
    assert_eq!(e[v..v + 3], [0x02, 0x01, 0x01]);
    e[v + 2] = 2;
    check(
        LogEntryBytes::parse(&e),
        r#"Signer(Format(UnsupportedVersion { what: "log entry", version: 2 }))"#,
    );
    // A body of an unknown kind [3].
    let body = v + 3 + 17 + 18; // version, loggedAt, messageId
    let mut e = acceptance.to_vec();
    assert_eq!(e[body], 0xa1);
    e[body] = 0xa3;
    check(LogEntryBytes::parse(&e), MALFORMED);
    // A status edXML does not define (03 → 07), in place.
    let s = statement.len() - 2 * 34 - 3;
    let mut e = statement.to_vec();
    assert_eq!(e[s..s + 3], [0x02, 0x01, 0x03]);
    e[s + 2] = 7;
    check(
        LogEntryBytes::parse(&e),
        "Signer(Format(StatusCodeUnknown { value: 7 }))",
    );
    // A malformed agency id, same length.
    let id = fixture().a.id.as_str().as_bytes();
    let at = acceptance.windows(id.len()).position(|w| w == id).unwrap();
    let mut e = acceptance.to_vec();
    e[at + 10] = b'g';
    check(
        LogEntryBytes::parse(&e),
        r#"Signer(Format(AgencyId { field: "log entry sender", source: Segment { segment: Level1, found: "g22" } }))"#,
    );
}

/// The offset of the INTEGER after the format OID in a SEQUENCE { OID, version, … }.
fn version_offset(der: &[u8]) -> usize {
    let start = header_len(der);
    assert_eq!(der[start], 0x06);
    start + 2 + usize::from(der[start + 1])
}

fn header_len(der: &[u8]) -> usize {
    match der[1] {
        n if n < 0x80 => 2,
        n => 2 + usize::from(n & 0x7f),
    }
}

/// A SEQUENCE with `content`, DER length.
fn sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

/// The first GeneralizedTime of a SEQUENCE's direct content rewritten as the UTCTime of the same
/// instant (a valid DER encoding of another type, 2 bytes shorter).
fn with_utc_time(der: &[u8]) -> Vec<u8> {
    let content = &der[header_len(der)..];
    let at = content
        .windows(17)
        .position(|w| w[0] == 0x18 && w[1] == 15 && w[16] == b'Z')
        .unwrap();
    let mut out = content[..at].to_vec();
    out.extend([0x17, 13]);
    out.extend_from_slice(&content[at + 4..at + 17]);
    out.extend_from_slice(&content[at + 17..]);
    sequence(&out)
}

// ----- a receipt chain resumed from the log -----

/// B's copy of a fresh package, its receipt chain (recipient's view), and the receipts.
struct Chain {
    package: Package,
    received: ReceivedDocument,
}

impl Chain {
    fn new() -> Self {
        let f = fixture();
        let package = standard_package();
        let (received, _) = open(&package, &f.b).unwrap();
        Chain { package, received }
    }

    /// The axis's view, read back from its store.
    fn logged(&self) -> DocumentRef {
        DocumentRef::logged(self.package.sealed.submission.header(), &fixture().b.id).unwrap()
    }

    fn received(&self) -> DocumentRef {
        DocumentRef::received(&self.received)
    }
}

/// Appends `status` at `NOW + minute` minutes, signed by the right party (B's `seal` for the
/// recipient's statuses), verified at its time.
fn state(
    chain: &mut ReceiptChain,
    status: StatusCode,
    minute: i64,
    seal: &Signer<'_>,
) -> SignedReceipt {
    let f = fixture();
    let t = NOW + Duration::minutes(minute);
    let signed = if status.from_sender() {
        chain.next(status, t, "").unwrap().sign(&f.a.seal_signer())
    } else {
        chain.next(status, t, "").unwrap().sign(seal)
    }
    .unwrap();
    chain.push(&signed, &f.store, t).unwrap();
    signed
}

#[test]
fn a_chain_resumed_from_logged_receipts_goes_on_where_it_stopped() {
    let f = fixture();
    let c = Chain::new();
    let seal = f.b.seal_signer();
    let mut full = ReceiptChain::new(c.received());
    let r01 = state(&mut full, StatusCode::Arrived, 1, &seal);
    let r03 = state(&mut full, StatusCode::Accepted, 2, &seal);
    let r04 = state(&mut full, StatusCode::Assigned, 3, &seal);

    // The axis, from its store.
    let mut axis = ReceiptChain::resume(c.logged(), &[r01.clone(), r03.clone()]).unwrap();
    assert_eq!(axis.len(), 2);
    assert!(axis.receipts().is_empty()); // none verified by this chain
    assert_eq!(axis.last_status(), Some(StatusCode::Accepted));
    assert_eq!(axis.last_hash(), Some(r03.receipt().hash()));
    assert!(!axis.is_withdrawn());
    let pushed = axis
        .push(&r04, &f.store, NOW + Duration::minutes(3))
        .unwrap();
    assert_eq!(pushed.hash(), r04.receipt().hash());
    assert_eq!((axis.len(), axis.receipts().len()), (3, 1));
    assert_eq!(axis.last_status(), Some(StatusCode::Assigned));

    // The recipient, resuming its own chain, makes the same next receipt it made before.
    let resumed = ReceiptChain::resume(c.received(), &[r01.clone(), r03.clone()]).unwrap();
    let next = resumed
        .next(StatusCode::Assigned, NOW + Duration::minutes(3), "")
        .unwrap();
    assert_eq!(next.previous, Some(r03.receipt().hash()));
    assert_eq!(&next, r04.receipt().receipt());

    // An empty log resumes to an empty chain.
    let empty = ReceiptChain::resume(c.logged(), &[]).unwrap();
    assert!(empty.is_empty() && empty.last_hash().is_none());
    // Only a recipient of the document has a chain.
    check(
        DocumentRef::logged(c.package.sealed.submission.header(), &f.d.id),
        "Chain(NotARecipient { agency: AgencyId(000.00.00.G01) })",
    );
}

#[test]
fn resuming_checks_the_chain_rules_but_not_the_signatures() {
    let f = fixture();
    let c = Chain::new();
    let seal = f.b.seal_signer();
    let mut full = ReceiptChain::new(c.received());
    let r01 = state(&mut full, StatusCode::Arrived, 1, &seal);
    let r03 = state(&mut full, StatusCode::Accepted, 2, &seal);
    let r04 = state(&mut full, StatusCode::Assigned, 3, &seal);

    // A receipt missing from the middle.
    check(
        ReceiptChain::resume(c.logged(), &[r01.clone(), r04.clone()]),
        "Chain(ReceiptChainBroken { position: 1 })",
    );
    // Reordered.
    check(
        ReceiptChain::resume(c.logged(), &[r03.clone(), r01.clone()]),
        "Chain(ReceiptChainBroken { position: 0 })",
    );
    // 04 straight after 01 (properly chained and signed, but 03 never came).
    let mut after01 = ReceiptChain::new(c.received());
    after01
        .push(&r01, &f.store, NOW + Duration::minutes(1))
        .unwrap();
    let skip = after01
        .next(StatusCode::Assigned, NOW + Duration::minutes(2), "")
        .unwrap()
        .sign(&seal)
        .unwrap();
    check(
        ReceiptChain::resume(c.logged(), &[r01.clone(), skip]),
        "Chain(StatusTransitionNotAllowed { from: Some(Arrived), to: Assigned })",
    );
    // Another recipient's chain.
    let other = DocumentRef::logged(c.package.sealed.submission.header(), &f.c.id).unwrap();
    let err = ReceiptChain::resume(other, std::slice::from_ref(&r01)).unwrap_err();
    assert!(
        matches!(
            err,
            SignerError::Chain(ChainError::StatusFromWrongParty {
                status: StatusCode::Arrived,
                ..
            })
        ),
        "{err:?}"
    );

    // A recall agreed (13 then 15) withdraws the copy, resumed or not; nothing follows.
    let mut recalled = ReceiptChain::new(c.received());
    let q01 = state(&mut recalled, StatusCode::Arrived, 1, &seal);
    let q13 = state(&mut recalled, StatusCode::RecallRequested, 2, &seal);
    assert!(!recalled.is_withdrawn());
    let q15 = state(&mut recalled, StatusCode::ChangeAccepted, 3, &seal);
    assert!(recalled.is_withdrawn());
    let pending = ReceiptChain::resume(c.logged(), &[q01.clone(), q13.clone()]).unwrap();
    assert!(!pending.is_withdrawn());
    let mut withdrawn = ReceiptChain::resume(c.received(), &[q01, q13, q15]).unwrap();
    assert!(withdrawn.is_withdrawn());
    assert_eq!(withdrawn.last_status(), Some(StatusCode::ChangeAccepted));
    let late = withdrawn
        .next(StatusCode::Accepted, NOW + Duration::minutes(4), "")
        .unwrap()
        .sign(&seal)
        .unwrap();
    check(
        withdrawn.push(&late, &f.store, NOW + Duration::minutes(4)),
        "Chain(StatusTransitionNotAllowed { from: Some(ChangeAccepted), to: Accepted })",
    );
}

#[test]
fn a_chain_resumes_after_the_seal_that_signed_it_was_revoked() {
    let f = fixture();
    let c = Chain::new();
    // B signed its first receipts with a seal it later revoked (and replaced).
    let mut s = Subject::new("UBND tỉnh Nghệ An");
    s.agency_id = Some(f.b.id.clone());
    let old_seal = issue_extra(Profile::AgencySeal, s, KeyAlgorithm::EcdsaP256);
    let mut full = ReceiptChain::new(c.received());
    let r01 = state(&mut full, StatusCode::Arrived, 1, &old_seal.signer());
    let r03 = state(&mut full, StatusCode::Accepted, 2, &old_seal.signer());

    let revoked_at = NOW + Duration::days(1);
    let (later, _) = later_store(revoked_at, &[&old_seal.cert]);
    let at = NOW + Duration::days(2);
    // Verified again today, those receipts fail …
    let err = r01.verify(&later, at).unwrap_err();
    assert!(
        matches!(
            &err,
            SignerError::Certificate(CertificateError::SignerRevoked { role: SignatureRole::Receipt, serial, .. })
                if serial == old_seal.cert.serial()
        ),
        "{err:?}"
    );
    assert!(matches!(
        ReceiptChain::verify_all(c.logged(), &[r01.clone(), r03.clone()], &later, at),
        Err(SignerError::Certificate(
            CertificateError::SignerRevoked { .. }
        ))
    ));
    // … but they were valid when logged, and the chain resumes from them.
    let mut chain = ReceiptChain::resume(c.received(), &[r01, r03.clone()]).unwrap();
    let r04 = chain
        .next(StatusCode::Assigned, at, "")
        .unwrap()
        .sign(&f.b.seal_signer())
        .unwrap();
    assert_eq!(r04.receipt().receipt().previous, Some(r03.receipt().hash()));
    chain.push(&r04, &later, at).unwrap();
    assert_eq!(chain.len(), 3);
}

#[test]
fn resumed_receipts_count_against_the_chain_budget() {
    let f = fixture();
    let c = Chain::new();
    let seal = f.b.seal_signer();
    let mut full = ReceiptChain::new(c.received());
    let mut logged = vec![
        state(&mut full, StatusCode::Arrived, 0, &seal),
        state(&mut full, StatusCode::Accepted, 0, &seal),
    ];
    while logged.len() < MAX_RECEIPT_CHAIN_LEN {
        logged.push(state(&mut full, StatusCode::Processing, 1, &seal));
    }
    let mut chain = ReceiptChain::resume(c.received(), &logged).unwrap();
    assert_eq!(chain.len(), MAX_RECEIPT_CHAIN_LEN);
    let one_more = chain
        .next(StatusCode::Completed, NOW + Duration::minutes(2), "")
        .unwrap()
        .sign(&seal)
        .unwrap();
    check(
        chain.push(&one_more, &f.store, NOW + Duration::minutes(2)),
        "Chain(TooLong { found: 65, max: 64 })",
    );
    logged.push(one_more);
    check(
        ReceiptChain::resume(c.received(), &logged),
        "Chain(TooLong { found: 65, max: 64 })",
    );
}

// ----- round trips -----

const AGENCIES: [&str; 5] = [
    "000.00.00.G22",
    "000.00.00.H41",
    "000.12.31.H53",
    "999.99.99.Z99",
    "001.02.03.A04",
];
const STATUSES: [u64; 9] = [1, 2, 3, 4, 5, 6, 13, 15, 16];
/// 0000-01-01 and 9999-12-31 23:59:59, the years a GeneralizedTime here can hold.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

fn agency() -> impl Strategy<Value = axis_pki::AgencyId> {
    prop::sample::select(&AGENCIES[..]).prop_map(|s| axis_pki::AgencyId::parse(s).unwrap())
}

fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (FIRST_SECOND..=LAST_SECOND, 0u32..1_000_000_000).prop_map(|(s, ns)| {
        OffsetDateTime::from_unix_timestamp(s)
            .unwrap()
            .replace_nanosecond(ns)
            .unwrap()
    })
}

fn body() -> impl Strategy<Value = EntryBody> {
    prop_oneof![
        (
            agency(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<[u8; 32]>()
        )
            .prop_map(
                |(sender, h, s, len, c)| EntryBody::Acceptance(AcceptanceEntry {
                    sender,
                    header_digest: h,
                    submission_signature_digest: s,
                    ciphertext_len: len,
                    ciphertext_digest: c,
                })
            ),
        (
            agency(),
            agency(),
            prop::sample::select(&STATUSES[..]),
            any::<[u8; 32]>(),
            any::<[u8; 32]>()
        )
            .prop_map(
                |(from, to, status, r, s)| EntryBody::Statement(StatementEntry {
                    from,
                    to,
                    status: StatusCode::from_code(status).unwrap(),
                    receipt_digest: r,
                    signature_digest: s,
                })
            ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn log_entries_round_trip(
        logged_at in instant(),
        id in any::<[u8; 16]>(),
        body in body(),
    ) {
        let entry = LogEntry {
            logged_at,
            message_id: MessageId::from_uuid(uuid::Uuid::from_bytes(id)),
            body,
        };
        let bytes = entry.encode().unwrap();
        let parsed = LogEntryBytes::parse(bytes.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &bytes);
        let whole = LogEntry {
            logged_at: logged_at.replace_nanosecond(0).unwrap(),
            ..entry
        };
        prop_assert_eq!(parsed.entry(), &whole);
        prop_assert_eq!(parsed.entry().encode().unwrap(), bytes.clone());
        prop_assert_eq!(parsed.leaf_hash(), axis_log::leaf_hash(bytes.as_bytes()));
    }

    #[test]
    fn log_proofs_round_trip(
        tree_size in any::<u64>(),
        root_hash in any::<[u8; 32]>(),
        timestamp in (FIRST_SECOND..=LAST_SECOND)
            .prop_map(|s| OffsetDateTime::from_unix_timestamp(s).unwrap()),
        signature in prop::collection::vec(any::<u8>(), 0..600),
        leaf_index in any::<u64>(),
        path in prop::collection::vec(any::<[u8; 32]>(), 0..=MAX_PATH_LEN),
    ) {
        let head = TreeHead { tree_size, root_hash, timestamp };
        let signed = head.sign(&fixture().log.signer()).unwrap();
        prop_assert_eq!(signed.head(), &head);
        let tree_head = SignedTreeHead::parse(signed.as_bytes(), signature).unwrap();
        let proof = LogProof { tree_head, leaf_index, path };
        let bytes = proof.encode();
        let parsed = LogProof::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &proof);
        prop_assert_eq!(parsed.encode(), bytes);
    }
}
