//! Evidence bundles as an auditor checks them, years later, with the root certificate and the
//! log key alone: a realistic bundle (a document from A to B and C, B's chain 01 → 03 → 04 →
//! 05 → 06 and C's 01 → 02, logged among unrelated entries, one signed tree head, CRLs from two
//! periods) verifies and reports who sent what to whom; every tampering fails with its own error
//! naming the element; revocation is judged as it stood at each signing time; the DER round-trips
//! and stock `openssl asn1parse` reads it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use axis_evidence::Error;
use axis_evidence::limits::*;
use axis_evidence::*;
use axis_pki::{
    AXIS_OID_ARC, AgencyId, KeyAlgorithm, Profile, RevocationReason, RevokedEntry, Subject,
};
use axis_signer::Error as SignerError;
use axis_signer::cms::Format;
use axis_signer::*;
use axis_testkit::log::MemoryLog;
use axis_testkit::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// When the axis accepted the document (the submission is sealed at `SIGNED` + 2 min).
const ACCEPTED: OffsetDateTime = datetime!(2026-01-02 9:03 UTC);
/// When the one tree head of the bundle is signed.
const HEAD_AT: OffsetDateTime = datetime!(2026-01-09 0:00 UTC);
/// The issuing CA's first CRL period ends, and its second begins.
const SECOND_PERIOD: OffsetDateTime = datetime!(2026-01-06 0:00 UTC);
/// Entries in the log before the acceptance.
const EARLIER: u64 = 5;

/// Everything made once: the package, two log signers of the fixture's CA, the CA's CRLs.
struct World {
    package: Package,
    log: Person,
    /// Another axis-log-signer certificate of the same PKI (a log the auditor does not follow).
    other_log: Person,
    /// The issuing CA's CRL for 1–6 January (number 10, lists nothing).
    first_crl: Vec<u8>,
    /// The issuing CA's CRL for 6–13 January (number 11, lists nothing).
    second_crl: Vec<u8>,
    /// The same period, listing B's seal as revoked at `SECOND_PERIOD`.
    second_crl_revoking_b: Vec<u8>,
}

fn log_signer(name: &str) -> Person {
    issue_extra(
        Profile::AxisLogSigner,
        Subject::new(name),
        KeyAlgorithm::EcdsaP256,
    )
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| World {
        package: standard_package(),
        log: log_signer("Axis log signer"),
        other_log: log_signer("Another log signer"),
        first_crl: ca_crl(10, T0, 5, vec![]),
        second_crl: ca_crl(11, SECOND_PERIOD, 7, vec![]),
        second_crl_revoking_b: ca_crl(
            11,
            SECOND_PERIOD,
            7,
            vec![RevokedEntry {
                serial: fixture().b.seal.serial().clone(),
                revoked_at: SECOND_PERIOD,
                reason: RevocationReason::KeyCompromise,
            }],
        ),
    })
}

fn log_key() -> &'static [u8] {
    world().log.cert.public_key_der()
}

/// What to put in a bundle.
struct Plan {
    /// (recipient, status, time stated, delay until logged), in log order.
    statements: Vec<(&'static Agency, StatusCode, OffsetDateTime, Duration)>,
    /// The bundle's CRLs.
    crls: Vec<Vec<u8>>,
    /// When the head is signed, and by whom.
    head_at: OffsetDateTime,
    other_log: bool,
    /// The statement whose signature value is altered before it is logged.
    bad_signature: Option<usize>,
}

/// B: 01 → 03 → 04 → 05 → 06 (the 06 in the second CRL period); C: 01 → 02; in log order.
fn standard_plan() -> Plan {
    let (f, w) = (fixture(), world());
    let s = Duration::seconds(5);
    Plan {
        statements: vec![
            (
                &f.b,
                StatusCode::Arrived,
                datetime!(2026-01-02 10:00 UTC),
                s,
            ),
            (
                &f.c,
                StatusCode::Arrived,
                datetime!(2026-01-02 10:30 UTC),
                s,
            ),
            (
                &f.b,
                StatusCode::Accepted,
                datetime!(2026-01-02 11:00 UTC),
                s,
            ),
            (
                &f.c,
                StatusCode::Rejected,
                datetime!(2026-01-02 12:00 UTC),
                s,
            ),
            (
                &f.b,
                StatusCode::Assigned,
                datetime!(2026-01-03 8:00 UTC),
                s,
            ),
            (
                &f.b,
                StatusCode::Processing,
                datetime!(2026-01-04 9:00 UTC),
                s,
            ),
            (
                &f.b,
                StatusCode::Completed,
                datetime!(2026-01-08 15:00 UTC),
                s,
            ),
        ],
        crls: vec![
            f.crls[0].clone(), // the root's, 1–31 January
            w.first_crl.clone(),
            w.second_crl.clone(),
        ],
        head_at: HEAD_AT,
        other_log: false,
        bad_signature: None,
    }
}

struct Built {
    bundle: EvidenceBundle,
    /// B's 01 signed a second time (a minute later) and logged too: another receipt.
    other_arrived: Option<LoggedEntry>,
}

/// Signs the plan's receipts with the recipients' seals, logs the acceptance and every
/// statement among unrelated entries, signs one tree head over it all, and cuts the paths.
fn build(plan: &Plan) -> Built {
    let (f, w) = (fixture(), world());
    let p = &w.package;
    let submission = p.sealed.submission.verify(&f.store, ACCEPTED).unwrap();
    let mut entries: Vec<Vec<u8>> = (0..EARLIER)
        .map(|i| format!("earlier entry {i}").into_bytes())
        .collect();
    let acceptance = LogEntry::acceptance(&submission, ACCEPTED)
        .encode()
        .unwrap();
    let acceptance_index = entries.len();
    entries.push(acceptance.as_bytes().to_vec());

    let chain_for =
        |a: &Agency| ReceiptChain::new(DocumentRef::sent(&p.document, &p.sealed, &a.id).unwrap());
    let mut chains: Vec<(AgencyId, ReceiptChain)> = Vec::new();
    let mut statements = Vec::new();
    for (i, (who, status, t, delay)) in plan.statements.iter().enumerate() {
        let position = match chains.iter().position(|(id, _)| id == &who.id) {
            Some(p) => p,
            None => {
                chains.push((who.id.clone(), chain_for(who)));
                chains.len() - 1
            }
        };
        let chain = &mut chains[position].1;
        let reason = if *status == StatusCode::Rejected {
            "Không đúng thẩm quyền giải quyết"
        } else {
            ""
        };
        // The sender states a recall (13) about the recipient's copy; the recipient the rest.
        let stating = if *status == StatusCode::RecallRequested {
            &f.a
        } else {
            *who
        };
        let signed = chain
            .next(*status, *t, reason)
            .unwrap()
            .sign(&stating.seal_signer())
            .unwrap();
        let verified = chain.push(&signed, &f.store, *t).unwrap();
        let mut entry = LogEntry::statement(verified, *t + *delay);
        let signed = if plan.bad_signature == Some(i) {
            let bad =
                SignedReceipt::parse(signed.receipt().as_bytes(), flip_last(signed.signature()))
                    .unwrap();
            if let EntryBody::Statement(st) = &mut entry.body {
                st.signature_digest = axis_signer::cms::sha256(bad.signature());
            }
            bad
        } else {
            signed
        };
        let entry = entry.encode().unwrap();
        entries.push(format!("unrelated entry {i}").into_bytes());
        statements.push((who.id.clone(), signed, entry, entries.len()));
        entries.push(statements.last().unwrap().2.as_bytes().to_vec());
    }
    // Another receipt: B's 01 again, signed a minute later, logged after everything else.
    let other = plan.statements.first().map(|&(_, _, t, delay)| {
        let t = t + Duration::minutes(1);
        let mut again = chain_for(&f.b);
        let signed = again
            .next(StatusCode::Arrived, t, "")
            .unwrap()
            .sign(&f.b.seal_signer())
            .unwrap();
        let verified = again.push(&signed, &f.store, t).unwrap();
        let entry = LogEntry::statement(verified, t + delay).encode().unwrap();
        entries.push(entry.as_bytes().to_vec());
        (entry, entries.len() - 1)
    });
    entries.extend((0..3).map(|i| format!("later entry {i}").into_bytes()));

    let memory = MemoryLog::new(&entries);
    let log = if plan.other_log { &w.other_log } else { &w.log };
    let head = memory.head(plan.head_at, &log.signer());
    Built {
        bundle: memory.bundle(
            p,
            plan.crls.clone(),
            head,
            (acceptance, acceptance_index),
            statements,
            &log.signer(),
        ),
        other_arrived: other.map(|(entry, index)| memory.logged(entry, index)),
    }
}

fn standard() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| build(&standard_plan()))
}

fn verify(bundle: &EvidenceBundle) -> Result<BundleReport, Error> {
    verify_bundle(&bundle.encode().unwrap(), &fixture().root, log_key())
}

/// Fails with `item` and a cause `cause` accepts; the error's text names the item.
#[track_caller]
fn check(bundle: &EvidenceBundle, item: BundleItem, cause: impl Fn(&Error) -> bool) {
    match verify(bundle) {
        Err(Error::BundleItem {
            item: found,
            at,
            source,
        }) => {
            assert_eq!(found, item, "{source}");
            assert!(cause(&source), "{item}: unexpected cause {source:?}");
            // The offset is where the element is in the bytes verified.
            let bytes = bundle.encode().unwrap();
            assert_eq!(at, offset_of(bundle, &bytes, &item), "{item}");
            let text = Error::BundleItem {
                item: found,
                at,
                source,
            }
            .to_string();
            assert!(
                text.starts_with(&format!("{item} at byte {at}: ")),
                "{text}"
            );
        }
        Err(other) => panic!("expected {item}, got {other:?}"),
        Ok(_) => panic!("expected {item} to fail, the bundle verified"),
    }
}

/// Where `item` starts in `bytes`, found independently of the verifier: the first occurrence
/// of its DER (an OCTET STRING around a signed item, the `Logged` or `Statement` SEQUENCE).
fn offset_of(bundle: &EvidenceBundle, bytes: &[u8], item: &BundleItem) -> usize {
    use axis_signer::cms::der;
    let find = |needle: &[u8]| -> usize {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("the element is in the bytes")
    };
    // The item at `index` of a list, counting the equal ones before it.
    let nth = |list: &[Vec<u8>], index: usize| -> usize {
        let needle = der::octets(&list[index]);
        let before = list[..index].iter().filter(|c| **c == list[index]).count();
        bytes
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle)
            .nth(before)
            .expect("the element is in the bytes")
            .0
    };
    let logged = |l: &LoggedEntry| {
        let hashes: Vec<u8> = l.path.iter().flat_map(|h| der::octets(h)).collect();
        der::seq(&[
            &der::octets(l.entry.as_bytes()),
            &der::uint(l.leaf_index),
            &der::tlv(der::SEQUENCE, &hashes),
        ])
    };
    match item {
        BundleItem::TrustAnchor => 0,
        BundleItem::Submission => find(&der::octets(bundle.submission.header().as_bytes())),
        BundleItem::Intermediate { index } => nth(&bundle.intermediates, *index),
        BundleItem::Crl { index } => nth(&bundle.crls, *index),
        BundleItem::TreeHead => find(&der::octets(bundle.tree_head.as_bytes())),
        BundleItem::Acceptance => find(&logged(&bundle.acceptance)),
        BundleItem::Statement { index, .. } => {
            let s = &bundle.statements[*index];
            find(&der::seq(&[
                &der::utf8(s.recipient.as_str()),
                &der::octets(s.receipt.receipt().as_bytes()),
                &der::octets(s.receipt.signature()),
                &logged(&s.logged),
            ]))
        }
        BundleItem::Completeness => find(&der::octets(
            bundle.completeness.as_ref().unwrap().as_bytes(),
        )),
        BundleItem::Cosignature { index } => find(bundle.cosignatures[*index].as_bytes()),
        other => panic!("no offset for {other}"),
    }
}

/// The position of `crl` in the bundle's (sorted) list.
fn crl_index(bundle: &EvidenceBundle, crl: &[u8]) -> usize {
    bundle.crls.iter().position(|c| c == crl).unwrap()
}

fn statement(index: usize, who: &Agency) -> BundleItem {
    BundleItem::Statement {
        index,
        recipient: Some(who.id.clone()),
    }
}

fn flip_last(bytes: &[u8]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    *b.last_mut().unwrap() ^= 0x01;
    b
}

#[test]
fn a_valid_bundle_verifies_and_reports_who_sent_what_to_whom() {
    let (f, w) = (fixture(), world());
    let report = verify(&standard().bundle).unwrap();
    println!("{report}");
    let header = w.package.sealed.submission.header().header();
    assert_eq!(report.message_id, header.message_id);
    assert_eq!(report.sender, f.a.id);
    assert_eq!(report.sender_seal.agency, f.a.id);
    assert_eq!(report.sender_seal.signer_name, f.a.name);
    assert_eq!(
        report.sender_seal.signing_time,
        SIGNED + Duration::minutes(2)
    );
    assert_eq!(report.recipients, vec![f.b.id.clone(), f.c.id.clone()]);
    assert_eq!(report.accepted_at, ACCEPTED);
    assert_eq!(report.acceptance_index, EARLIER);
    let manifest = w.package.document.manifest();
    assert_eq!(report.document_id.as_ref(), Some(manifest.document_id()));
    assert_eq!(report.manifest_digest, Some(manifest.digest()));
    let statuses = |i: usize| -> Vec<StatusCode> {
        report.timelines[i]
            .events
            .iter()
            .map(|e| e.status)
            .collect()
    };
    assert_eq!(report.timelines[0].recipient, f.b.id);
    assert_eq!(
        statuses(0),
        [
            StatusCode::Arrived,
            StatusCode::Accepted,
            StatusCode::Assigned,
            StatusCode::Processing,
            StatusCode::Completed
        ]
    );
    assert_eq!(report.timelines[1].recipient, f.c.id);
    assert_eq!(statuses(1), [StatusCode::Arrived, StatusCode::Rejected]);
    let rejected = &report.timelines[1].events[1];
    assert_eq!(rejected.stated_by, f.c.id);
    assert_eq!(rejected.seal_signer, f.c.name);
    assert_eq!(rejected.stated_at, datetime!(2026-01-02 12:00 UTC));
    assert_eq!(rejected.logged_at, datetime!(2026-01-02 12:00:05 UTC));
    assert_eq!(rejected.reason, "Không đúng thẩm quyền giải quyết");
    // Leaves: 5 earlier, the acceptance, then (unrelated, statement) pairs.
    let indices: Vec<u64> = report.timelines[0]
        .events
        .iter()
        .map(|e| e.leaf_index)
        .collect();
    assert_eq!(indices, [7, 11, 15, 17, 19]);
    assert_eq!(report.tree_head.head().timestamp, HEAD_AT);
    assert_eq!(report.tree_head.head().tree_size, 24);
    assert_eq!(report.tree_head.signer(), "Axis log signer");

    let text = report.to_string();
    for expected in [
        format!("Message {}", header.message_id),
        format!(
            "sent by {}, sealed by \"{}\" at 2026-01-02T09:02:00Z",
            f.a.id, f.a.name
        ),
        format!("to {}, {}", f.b.id, f.c.id),
        format!("document {}", manifest.document_id()),
        "accepted by the axis at 2026-01-02T09:03:00Z (log entry 5)".to_owned(),
        format!("Recipient {}: received at 2026-01-02T10:00:00Z", f.b.id),
        "2026-01-08T15:00:00Z  06 completed".to_owned(),
        "04 assigned for handling".to_owned(),
        "02 rejected, stated by 000.00.00.H53".to_owned(),
        ": \"Không đúng thẩm quyền giải quyết\"".to_owned(),
        "tree head of 24 entries".to_owned(),
        "signed at 2026-01-09T00:00:00Z by \"Axis log signer\"".to_owned(),
    ] {
        assert!(
            text.contains(&expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn a_bundle_without_statements_proves_the_submission_alone() {
    let mut plan = standard_plan();
    plan.statements.truncate(0);
    // Only the first period is needed now, but the head is still signed on 9 January.
    let report = verify(&build(&plan).bundle).unwrap();
    assert!(report.timelines.iter().all(|t| t.events.is_empty()));
    assert_eq!(report.document_id, None);
    assert!(report.to_string().contains("not received in this bundle"));
}

#[test]
fn a_receipt_signature_byte_flipped_is_not_the_one_the_axis_logged() {
    let f = fixture();
    let mut b = standard().bundle.clone();
    let r = &b.statements[2].receipt;
    b.statements[2].receipt =
        SignedReceipt::parse(r.receipt().as_bytes(), flip_last(r.signature())).unwrap();
    // Found by its digest in the log entry, before any signature is verified.
    check(&b, statement(2, &f.b), |e| {
        matches!(
            e,
            Error::Log(LogError::LogEntryMismatch {
                field: "signature digest"
            })
        )
    });
}

#[test]
fn a_receipt_signature_that_does_not_verify_is_a_bad_signature_of_that_statement() {
    let f = fixture();
    let mut plan = standard_plan();
    // B's 03, its signature value altered and logged so (an axis would refuse it; here the
    // log itself records the bad signature, so only the signature check can find it).
    plan.bad_signature = Some(2);
    check(&build(&plan).bundle, statement(2, &f.b), |e| {
        matches!(
            e,
            Error::Signer(SignerError::Signature(SignatureError::BadSignature {
                role: SignatureRole::Receipt
            }))
        )
    });
}

#[test]
fn two_statements_swapped_are_out_of_log_order() {
    let f = fixture();
    let mut b = standard().bundle.clone();
    b.statements.swap(4, 5); // B's 04 and 05
    check(&b, statement(5, &f.b), |e| {
        matches!(
            e,
            Error::Log(LogError::StatementOutOfLogOrder {
                previous: 17,
                found: 15
            })
        )
    });
}

#[test]
fn a_statement_removed_from_the_middle_breaks_the_chain() {
    let f = fixture();
    let mut b = standard().bundle.clone();
    b.statements.remove(4); // B's 04: its 05 now follows its 03
    check(&b, statement(4, &f.b), |e| {
        matches!(
            e,
            Error::Signer(SignerError::Chain(ChainError::ReceiptChainBroken {
                position: 2
            }))
        )
    });
}

#[test]
fn a_statement_filed_under_the_other_recipient_is_from_the_wrong_party() {
    let f = fixture();
    let mut b = standard().bundle.clone();
    b.statements[0].recipient = f.c.id.clone(); // B's 01 as if it were about C's copy
    check(
        &b,
        statement(0, &f.c),
        |e| matches!(e, Error::Signer(SignerError::Chain(ChainError::StatusFromWrongParty { found, .. })) if *found == f.b.id),
    );
}

#[test]
fn an_altered_intermediate_is_refused_although_signatures_carry_their_own_copy() {
    let mut b = standard().bundle.clone();
    b.intermediates[0] = flip_last(&b.intermediates[0]); // its signature
    check(&b, BundleItem::Intermediate { index: 0 }, |e| {
        matches!(
            e,
            Error::Trust(TrustError::CertificateRejected {
                source: axis_pki::Error::BadSignature { depth: 0 }
            })
        )
    });
}

#[test]
fn an_altered_crl_is_named() {
    let mut b = standard().bundle.clone();
    let index = crl_index(&b, &world().second_crl);
    b.crls[index] = flip_last(&b.crls[index]); // the second period's, signature value
    check(&b, BundleItem::Crl { index }, |e| {
        matches!(
            e,
            Error::Trust(TrustError::CrlRejected {
                source: axis_pki::Error::CrlBadSignature { .. }
            })
        )
    });
}

#[test]
fn a_crl_missing_for_a_signing_time_fails_closed() {
    let mut b = standard().bundle.clone();
    // The first period's: the submission (2 January) has no CA CRL in force.
    b.crls.remove(crl_index(&b, &world().first_crl));
    check(&b, BundleItem::Submission, |e| {
        matches!(
            e,
            Error::Signer(SignerError::Certificate(
                CertificateError::SignerCertificateRejected {
                    role: SignatureRole::Submission,
                    source: axis_pki::Error::CrlMissing { depth: 0, .. }
                }
            ))
        )
    });
}

#[test]
fn an_inclusion_path_hash_flipped_does_not_lead_to_the_root() {
    let f = fixture();
    let mut b = standard().bundle.clone();
    b.statements[3].logged.path[0][0] ^= 0x80;
    check(&b, statement(3, &f.c), |e| {
        matches!(
            e,
            Error::Log(LogError::InclusionProofInvalid {
                source: axis_log::Error::RootMismatch
            })
        )
    });
}

#[test]
fn a_leaf_index_changed_does_not_lead_to_the_root() {
    let mut b = standard().bundle.clone();
    b.acceptance.leaf_index += 1;
    check(&b, BundleItem::Acceptance, |e| {
        matches!(e, Error::Log(LogError::InclusionProofInvalid { .. }))
    });
}

#[test]
fn altered_tree_head_bytes_do_not_match_their_signature() {
    let mut b = standard().bundle.clone();
    let head = b.tree_head.clone();
    // The last byte of the root hash (the timestamp follows it: 17 bytes).
    let mut bytes = head.as_bytes().to_vec();
    let at = bytes.len() - 18;
    bytes[at] ^= 0x01;
    b.tree_head = SignedTreeHead::parse(&bytes, head.signature().to_vec()).unwrap();
    assert_ne!(b.tree_head.head().root_hash, head.head().root_hash);
    check(&b, BundleItem::TreeHead, |e| {
        matches!(
            e,
            Error::Signer(SignerError::Signature(
                SignatureError::ContentDigestMismatch {
                    role: SignatureRole::TreeHead
                }
            ))
        )
    });
}

#[test]
fn a_tree_head_signed_by_another_log_key_is_refused() {
    let mut plan = standard_plan();
    plan.other_log = true;
    let b = build(&plan).bundle;
    check(&b, BundleItem::TreeHead, |e| {
        matches!(e, Error::Log(LogError::LogKeyMismatch))
    });
    // The same bundle verifies for an auditor who follows that other log.
    let bytes = b.encode().unwrap();
    verify_bundle(
        &bytes,
        &fixture().root,
        world().other_log.cert.public_key_der(),
    )
    .unwrap();
}

#[test]
fn an_altered_routing_header_is_not_the_one_the_axis_logged() {
    let mut b = standard().bundle.clone();
    let s = &b.submission;
    // The last byte of the ciphertext digest.
    b.submission =
        Submission::parse(&flip_last(s.header().as_bytes()), s.signature().to_vec()).unwrap();
    check(&b, BundleItem::Submission, |e| {
        matches!(
            e,
            Error::Log(LogError::LogEntryMismatch {
                field: "routing header digest"
            })
        )
    });
}

#[test]
fn an_entry_that_records_another_receipt_is_refused() {
    let f = fixture();
    let built = standard();
    let mut b = built.bundle.clone();
    // B's 01 with the (included, properly signed) entry of the other 01: same message, parties
    // and status, another receipt.
    b.statements[0].logged = built.other_arrived.clone().unwrap();
    b.statements.truncate(1);
    check(&b, statement(0, &f.b), |e| {
        matches!(
            e,
            Error::Log(LogError::LogEntryMismatch {
                field: "receipt digest"
            })
        )
    });
}

#[test]
fn a_recipient_not_in_the_header_is_refused() {
    let f = fixture();
    let mut b = standard().bundle.clone();
    b.statements[1].recipient = f.d.id.clone();
    check(
        &b,
        statement(1, &f.d),
        |e| matches!(e, Error::Signer(SignerError::Chain(ChainError::NotARecipient { agency })) if *agency == f.d.id),
    );
}

#[test]
fn a_statement_logged_long_before_it_was_signed_is_refused() {
    let f = fixture();
    let mut plan = standard_plan();
    plan.statements[4].3 = -Duration::hours(1); // B's 04 "logged" an hour before it was made
    check(&build(&plan).bundle, statement(4, &f.b), |e| {
        matches!(e, Error::Log(LogError::LoggedBeforeSigned { .. }))
    });
}

#[test]
fn a_statement_logged_after_the_tree_head_is_refused() {
    let f = fixture();
    let mut plan = standard_plan();
    plan.head_at = datetime!(2026-01-08 15:00 UTC); // B's 06 is logged 5 s later
    check(&build(&plan).bundle, statement(6, &f.b), |e| {
        matches!(e, Error::Log(LogError::EntryAfterTreeHead))
    });
}

/// The CRLs of a period in which B's seal was revoked (6 January): a bundle whose CRLs hold both
/// periods.
fn plan_with_b_revoked(until: usize) -> Plan {
    let (f, w) = (fixture(), world());
    let mut plan = standard_plan();
    plan.statements.truncate(until);
    plan.crls = vec![
        f.crls[0].clone(),
        w.first_crl.clone(),
        w.second_crl_revoking_b.clone(),
    ];
    plan
}

#[test]
fn a_receipt_signed_before_its_seals_revocation_still_verifies() {
    let (f, w) = (fixture(), world());
    // B's chain up to 05 (4 January), the head on 9 January when B's seal is revoked.
    let plan = plan_with_b_revoked(6);
    let report = verify(&build(&plan).bundle).unwrap();
    assert_eq!(report.timelines[0].events.len(), 4);
    // Checked with the CRLs of the head's time instead, B's seal would be refused: the bundle
    // verifies only because each receipt is judged at its own time.
    let late = axis_pki::TrustStore::new(
        vec![f.root.clone()],
        vec![f.ca.clone()],
        vec![f.crls[0].clone(), w.second_crl_revoking_b.clone()],
    )
    .unwrap();
    assert!(matches!(
        late.verify(f.b.seal.der(), Profile::AgencySeal, HEAD_AT),
        Err(axis_pki::Error::Revoked { .. })
    ));
}

#[test]
fn a_receipt_signed_after_its_seals_revocation_fails() {
    let f = fixture();
    let plan = plan_with_b_revoked(7); // B's 06 on 8 January, after the revocation
    check(&build(&plan).bundle, statement(6, &f.b), |e| {
        matches!(e, Error::Signer(SignerError::Certificate(CertificateError::SignerRevoked { role: SignatureRole::Receipt, serial, revoked_at, .. }))
            if serial == f.b.seal.serial() && *revoked_at == SECOND_PERIOD)
    });
}

#[test]
fn the_bundle_round_trips_and_parses_strictly() {
    let b = &standard().bundle;
    let bytes = b.encode().unwrap();
    let parsed = EvidenceBundle::parse(&bytes).unwrap();
    assert_eq!(parsed.encode().unwrap(), bytes);
    assert_eq!(parsed.statements, b.statements);
    assert_eq!(parsed.tree_head, b.tree_head);
    assert_eq!(parsed.acceptance, b.acceptance);
    assert_eq!(parsed.crls, b.crls);
    assert_eq!(parsed.intermediates, b.intermediates);
    assert_eq!(
        parsed.submission.header().as_bytes(),
        b.submission.header().as_bytes()
    );

    // One byte form: nothing after it, said with where it starts.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0, 0]);
    match EvidenceBundle::parse(&longer) {
        Err(Error::Layout(e)) => {
            assert_eq!(e.element, "the bundle");
            assert_eq!(e.at, bytes.len());
            assert_eq!(e.problem, LayoutProblem::TrailingBytes { count: 2 });
            assert_eq!(
                e.to_string(),
                format!(
                    "the bundle at byte {}: 2 bytes after the end of the bundle",
                    bytes.len()
                )
            );
        }
        other => panic!("{other:?}"),
    }
    // Another Axis structure is not a bundle.
    assert!(matches!(
        EvidenceBundle::parse(b.tree_head.as_bytes()),
        Err(Error::Signer(SignerError::Format(
            FormatError::WrongFormat { .. }
        )))
    ));
    // A malformed receipt inside is named.
    let mut broken = b.clone();
    broken.statements[1].receipt = SignedReceipt::parse(
        broken.statements[1].receipt.receipt().as_bytes(),
        vec![0x30, 0x00],
    )
    .unwrap();
    let bytes = broken.encode().unwrap();
    match verify_bundle(&bytes, &fixture().root, log_key()) {
        Err(Error::BundleItem {
            item: BundleItem::Statement { index: 1, .. },
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn budgets_are_enforced_before_anything_is_read() {
    let b = &standard().bundle;
    assert!(matches!(
        EvidenceBundle::parse(&vec![0x30; MAX_BUNDLE_LEN + 1]),
        Err(Error::Signer(SignerError::Format(
            FormatError::TooLarge { .. }
        )))
    ));
    let mut many = b.clone();
    many.statements = vec![b.statements[0].clone(); MAX_BUNDLE_STATEMENTS + 1];
    assert!(matches!(
        many.encode(),
        Err(Error::Signer(SignerError::Format(FormatError::TooMany { found, max, .. }))) if found == MAX_BUNDLE_STATEMENTS + 1 && max == MAX_BUNDLE_STATEMENTS
    ));
    let mut many = b.clone();
    many.crls = vec![b.crls[0].clone(); MAX_BUNDLE_CRLS + 1];
    assert!(matches!(
        many.encode(),
        Err(Error::Signer(SignerError::Format(
            FormatError::TooMany { .. }
        )))
    ));
}

#[test]
fn openssl_asn1parse_reads_the_bundle() {
    let bytes = standard().bundle.encode().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.der");
    std::fs::write(&path, &bytes).unwrap();
    let out = openssl_ok([
        "asn1parse".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-i".as_ref(),
        "-in".as_ref(),
        path.as_os_str(),
    ]);
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains(&format!("{AXIS_OID_ARC}.2.7")), "{text}");
    // 7 statements, each with its recipient as a UTF8String.
    assert_eq!(text.matches("UTF8STRING").count(), 7, "{text}");
    // The routing header is the first OCTET STRING: cut it out and read it as DER too.
    let first = text
        .lines()
        .find(|l| l.contains("OCTET STRING"))
        .and_then(|l| l.split(':').next())
        .unwrap()
        .trim()
        .to_owned();
    let out = openssl_ok([
        "asn1parse".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        path.as_os_str(),
        "-strparse".as_ref(),
        first.as_ref(),
    ]);
    assert!(String::from_utf8_lossy(&out).contains(&format!("{AXIS_OID_ARC}.2.2")));
}

/// A small bundle with every kind of element: B's 01 → 03 and C's 01, one CRL period.
fn small() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let (f, w) = (fixture(), world());
        let mut plan = standard_plan();
        plan.statements = vec![plan.statements[0], plan.statements[1], plan.statements[2]];
        plan.crls = vec![f.crls[0].clone(), w.first_crl.clone()];
        plan.head_at = datetime!(2026-01-05 0:00 UTC);
        build(&plan)
    })
}

/// Two witnesses' keys, fixed for the test run.
fn witnesses() -> &'static [axis_pki::PrivateKey; 2] {
    static K: OnceLock<[axis_pki::PrivateKey; 2]> = OnceLock::new();
    K.get_or_init(|| {
        [(); 2].map(|()| axis_pki::PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
    })
}

fn witness_keys() -> Vec<WitnessKey> {
    witnesses()
        .iter()
        .map(|k| WitnessKey::parse(k.public_key_der()).unwrap())
        .collect()
}

/// `bundle` with both witnesses' cosignatures of its tree head, in the bundle's order
/// (version 3).
fn cosigned(bundle: &EvidenceBundle) -> EvidenceBundle {
    let head = bundle
        .tree_head
        .verify(&fixture().store, HEAD_AT, Some(log_key()))
        .unwrap();
    let mut b = bundle.clone();
    b.cosignatures = witnesses()
        .iter()
        .map(|k| Cosignature::sign(&head, k, HEAD_AT + Duration::minutes(1)).unwrap())
        .collect();
    b.cosignatures
        .sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    b
}

/// What `axis audit verify --witness W1 --witness W2 --min-witnesses 2` checks.
fn verify_witnessed(bytes: &[u8]) -> Result<Witnessed, Error> {
    let report = verify_bundle(bytes, &fixture().root, log_key())?;
    check_witnessed(
        report.tree_head.head(),
        log_key(),
        &report.cosignatures,
        &witness_keys(),
        2,
    )
}

/// The sweep: every byte of a bundle with its witnesses' cosignatures (version 3), each of its
/// eight bits flipped on its own, and not one of the results verifies with the witnesses' keys
/// — every byte is covered by a signature (a cosignature's by its witness's), a digest in
/// signed data, or a re-encoding (the crate's "one byte form"). Spread over the machine's
/// cores.
#[test]
fn every_single_bit_flip_anywhere_in_a_bundle_is_refused() {
    let bytes = cosigned(&small().bundle).encode().unwrap();
    assert_eq!(verify_witnessed(&bytes).unwrap().by.len(), 2);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let accepted: Vec<(usize, u8)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                let bytes = &bytes;
                s.spawn(move || {
                    let mut accepted = Vec::new();
                    let mut changed = bytes.clone();
                    for at in (w..bytes.len()).step_by(threads) {
                        for bit in 0..8 {
                            changed[at] ^= 1 << bit;
                            if verify_witnessed(&changed).is_ok() {
                                accepted.push((at, bit));
                            }
                            changed[at] ^= 1 << bit;
                        }
                    }
                    accepted
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert!(accepted.is_empty(), "accepted (byte, bit): {accepted:?}");
}

#[test]
fn a_cut_bundle_names_the_element_cut_and_where() {
    let b = &small().bundle;
    let bytes = b.encode().unwrap();
    // Every prefix is refused as cut short, at or before the cut, never as anything else.
    for len in 0..bytes.len() {
        match EvidenceBundle::parse(&bytes[..len]) {
            Err(Error::Layout(LayoutError {
                at,
                problem: LayoutProblem::Truncated { .. } | LayoutProblem::Unexpected { .. },
                ..
            })) => assert!(at <= len, "cut at {len}, reported at {at}"),
            other => panic!("cut at {len}: {other:?}"),
        }
    }
    // A cut inside statement 1's signature names it, from its first byte.
    use axis_signer::cms::der;
    let s = &b.statements[1];
    let sig = der::octets(s.receipt.signature());
    let start = bytes.windows(sig.len()).position(|w| w == sig).unwrap();
    let cut = start + 100;
    match EvidenceBundle::parse(&bytes[..cut]) {
        Err(Error::Layout(e)) => {
            assert_eq!(
                e.element,
                format!("statement 1 (to {}): its signature", s.recipient)
            );
            assert_eq!(e.at, start);
            assert_eq!(
                e.problem,
                LayoutProblem::Truncated {
                    declared: sig.len(),
                    available: 100
                }
            );
            assert_eq!(
                Error::Layout(e).to_string(),
                format!(
                    "evidence bundle: statement 1 (to {}): its signature at byte {start}: cut short: it declares {} bytes, 100 remain",
                    s.recipient,
                    sig.len()
                )
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_element_where_another_belongs_is_named_with_its_offset() {
    let b = &small().bundle;
    let bytes = b.encode().unwrap();
    use axis_signer::cms::der;
    // The tree head's OCTET STRING tag changed to a UTF8String's.
    let head = der::octets(b.tree_head.as_bytes());
    let at = bytes.windows(head.len()).position(|w| w == head).unwrap();
    let mut changed = bytes.clone();
    changed[at] = der::UTF8_STRING;
    match EvidenceBundle::parse(&changed) {
        Err(Error::Layout(e)) => {
            assert_eq!(e.element, "the tree head");
            assert_eq!(e.at, at);
            assert_eq!(
                e.problem,
                LayoutProblem::Unexpected {
                    expected: "an OCTET STRING"
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // A length in a longer form than needed.
    let mut changed = bytes[..at].to_vec();
    changed.extend_from_slice(&[der::OCTET_STRING, 0x82, 0x00, head[1]]);
    changed.extend_from_slice(&head[2..]);
    changed.extend_from_slice(&bytes[at + head.len()..]);
    assert!(matches!(
        EvidenceBundle::parse(&changed),
        Err(Error::Layout(LayoutError { .. })) | Err(Error::Signer(_))
    ));
}

#[test]
fn the_ca_certificates_and_crls_are_in_one_order_and_each_needed() {
    let (f, w) = (fixture(), world());
    let b = &standard().bundle;
    assert_eq!(b.crls.len(), 3);
    // Reordered, or one twice: out of order, named at the second.
    let mut swapped = b.clone();
    swapped.crls.swap(0, 1);
    check(&swapped, BundleItem::Crl { index: 1 }, |e| {
        matches!(e, Error::Trust(TrustError::OutOfOrder))
    });
    let mut twice = b.clone();
    twice.crls.insert(1, twice.crls[0].clone());
    check(&twice, BundleItem::Crl { index: 1 }, |e| {
        matches!(e, Error::Trust(TrustError::OutOfOrder))
    });
    // A CRL of a period in which nothing was signed: not needed.
    let unneeded = ca_crl(12, datetime!(2026-01-13 0:00 UTC), 7, vec![]);
    let mut extra = b.clone();
    extra.crls.push(unneeded.clone());
    extra.crls.sort();
    let index = crl_index(&extra, &unneeded);
    check(&extra, BundleItem::Crl { index }, |e| {
        matches!(e, Error::Trust(TrustError::NotNeeded))
    });
    // A CRL superseded by a higher-numbered one of the same CA in force at the same times.
    let superseded = ca_crl(9, T0, 5, vec![]);
    let mut older = b.clone();
    older.crls.push(superseded.clone());
    older.crls.sort();
    let index = crl_index(&older, &superseded);
    check(&older, BundleItem::Crl { index }, |e| {
        matches!(e, Error::Trust(TrustError::NotNeeded))
    });
    // The same CA twice: out of order; another issuing CA of the root, on no path: not needed.
    let mut twice = b.clone();
    twice.intermediates.push(f.ca.clone());
    check(&twice, BundleItem::Intermediate { index: 1 }, |e| {
        matches!(e, Error::Trust(TrustError::OutOfOrder))
    });
    let (other_ca, _) = other_issuing_ca("Another CA", 365);
    let mut more = b.clone();
    more.intermediates.push(other_ca.clone());
    more.intermediates.sort();
    let index = more
        .intermediates
        .iter()
        .position(|c| *c == other_ca)
        .unwrap();
    check(&more, BundleItem::Intermediate { index }, |e| {
        matches!(e, Error::Trust(TrustError::NotNeeded))
    });
    // What an exporter hands out: sorted, without repeats or extras, and it verifies.
    let mut messy = b.clone();
    messy.crls = vec![
        unneeded,
        w.second_crl.clone(),
        superseded,
        f.crls[0].clone(),
        w.first_crl.clone(),
        w.first_crl.clone(),
    ];
    messy.intermediates = vec![f.ca.clone(), other_ca, f.ca.clone()];
    let trimmed = messy.trimmed(&f.root, log_key()).unwrap();
    assert_eq!(trimmed.crls, b.crls);
    assert_eq!(trimmed.intermediates, b.intermediates);
    assert_eq!(trimmed.encode().unwrap(), b.encode().unwrap());
    verify(&trimmed).unwrap();
}

#[test]
fn the_tree_heads_signature_has_one_form() {
    let b = &small().bundle;
    let head = &b.tree_head;
    // The ECDSA twin (r, n − s) verifies as a signature, but is not the log signer's form.
    let twin = axis_testkit::cms_parts::CmsParts::with_twin_value(head.signature());
    let mut changed = b.clone();
    changed.tree_head = SignedTreeHead::parse(head.as_bytes(), twin).unwrap();
    check(&changed, BundleItem::TreeHead, |e| {
        matches!(
            e,
            Error::Signer(SignerError::Signature(SignatureError::NotNormalForm {
                role: SignatureRole::TreeHead,
                ..
            }))
        )
    });
    // The log signer's CA twice in its certificate set: another encoding of the same signature.
    let mut parts = axis_testkit::cms_parts::CmsParts::take_apart(head.signature());
    parts.certs.push(fixture().ca.clone());
    parts.certs.sort();
    let mut changed = b.clone();
    changed.tree_head = SignedTreeHead::parse(head.as_bytes(), parts.put_together()).unwrap();
    check(&changed, BundleItem::TreeHead, |e| {
        matches!(
            e,
            Error::Signer(SignerError::Signature(SignatureError::NotNormalForm { .. }))
        )
    });
}

/// B: 01 → 03, then the sender's recall 13 and B's refusal 16; C: 01 → 02.
fn recall_plan() -> Plan {
    let f = fixture();
    let mut plan = standard_plan();
    let s = Duration::seconds(5);
    plan.statements = vec![
        plan.statements[0],
        plan.statements[1],
        plan.statements[2],
        plan.statements[3],
        (
            &f.b,
            StatusCode::RecallRequested,
            datetime!(2026-01-03 8:00 UTC),
            s,
        ),
        (
            &f.b,
            StatusCode::ChangeRefused,
            datetime!(2026-01-03 9:00 UTC),
            s,
        ),
    ];
    plan
}

fn recall() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| build(&recall_plan()))
}

/// `bundle` without the statements `remove` picks (by index), keeping its completeness
/// statement: what someone who cut a history short without the log key can make.
fn without(
    bundle: &EvidenceBundle,
    remove: impl Fn(usize, &BundleStatement) -> bool,
) -> EvidenceBundle {
    let mut b = bundle.clone();
    b.statements = bundle
        .statements
        .iter()
        .enumerate()
        .filter(|(i, s)| !remove(*i, s))
        .map(|(_, s)| s.clone())
        .collect();
    b
}

/// Refused on the completeness statement, naming `who` as the recipient cut short.
#[track_caller]
fn check_cut(bundle: &EvidenceBundle, who: &Agency, stated: u64, found: u64) {
    check(bundle, BundleItem::Completeness, |e| {
        matches!(
            e,
            Error::Log(LogError::IncompleteChain { recipient, stated: s, found: n, .. })
                if *recipient == who.id && *s == stated && *n == found
        )
    });
    let text = verify(bundle).unwrap_err().to_string();
    assert!(
        text.contains(&format!("the history of {} is cut short", who.id)),
        "{text}"
    );
}

#[test]
fn a_complete_bundle_says_so_per_recipient() {
    let f = fixture();
    let report = verify(&standard().bundle).unwrap();
    let (c, coverage) = report.completeness.as_ref().unwrap();
    assert_eq!(*coverage, Coverage::All);
    assert_eq!(c.statement().tree_size, 24);
    assert_eq!(c.statement().chain(&f.b.id).unwrap().count, 5);
    assert_eq!(c.statement().chain(&f.c.id).unwrap().count, 2);
    let text = report.to_string();
    for expected in [
        format!(
            "Recipient {}: received at 2026-01-02T10:00:00Z; complete as of tree head 24 (5 \
             statement(s) in the log)",
            f.b.id
        ),
        "Complete for every recipient: the axis signed at 2026-01-09T00:00:00Z".to_owned(),
    ] {
        assert!(
            text.contains(&expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn a_history_cut_short_is_refused_naming_the_recipient() {
    let (f, b, r) = (fixture(), &standard().bundle, &recall().bundle);
    let last_of = |bundle: &EvidenceBundle, who: &Agency| {
        bundle
            .statements
            .iter()
            .rposition(|s| s.recipient == who.id)
            .unwrap()
    };
    // B's 06 removed.
    let six = last_of(b, &f.b);
    check_cut(&without(b, |i, _| i == six), &f.b, 5, 4);
    // C's 02 refusal removed.
    let two = last_of(b, &f.c);
    check_cut(&without(b, |i, _| i == two), &f.c, 2, 1);
    // The 16 answering a recall removed; then the 13 and the 16.
    let sixteen = last_of(r, &f.b);
    check_cut(&without(r, |i, _| i == sixteen), &f.b, 4, 3);
    check_cut(
        &without(r, |i, _| i >= sixteen - 1 && i <= sixteen),
        &f.b,
        4,
        2,
    );
    // Every status of B; every status of C.
    check_cut(&without(b, |_, s| s.recipient == f.b.id), &f.b, 5, 0);
    check_cut(&without(b, |_, s| s.recipient == f.c.id), &f.c, 2, 0);
}

#[test]
fn a_chain_of_the_right_length_must_end_at_the_stated_head() {
    // The count agrees but the chain head the log signer stated is another receipt.
    let (f, w) = (fixture(), world());
    let mut b = standard().bundle.clone();
    let signed = b.completeness.clone().unwrap();
    let mut statement = signed.statement().clone();
    let c = statement
        .chains
        .iter_mut()
        .find(|c| c.recipient == f.c.id)
        .unwrap();
    c.last.as_mut().unwrap().receipt_digest[0] ^= 1;
    b.completeness = Some(statement.sign(&w.log.signer()).unwrap());
    check(
        &b,
        BundleItem::Completeness,
        |e| matches!(e, Error::Log(LogError::ChainHeadMismatch { recipient, .. }) if *recipient == f.c.id),
    );
}

#[test]
fn a_completeness_statement_about_something_else_is_refused() {
    let (f, w) = (fixture(), world());
    let honest = standard().bundle.completeness.clone().unwrap();
    let resign = |change: &dyn Fn(&mut Completeness)| {
        let mut b = standard().bundle.clone();
        let mut s = honest.statement().clone();
        change(&mut s);
        b.completeness = Some(s.sign(&w.log.signer()).unwrap());
        b
    };
    for (change, field) in [
        (
            &(|s: &mut Completeness| s.tree_size += 1) as &dyn Fn(&mut Completeness),
            "tree size",
        ),
        (&|s: &mut Completeness| s.root_hash[0] ^= 1, "root hash"),
        (
            &|s: &mut Completeness| s.message_id = MessageId::from_uuid(uuid::Uuid::nil()),
            "message id",
        ),
        (
            &|s: &mut Completeness| s.acceptance_index += 1,
            "acceptance index",
        ),
        (
            &|s: &mut Completeness| s.issued_at = HEAD_AT - Duration::seconds(1),
            "time (before its tree head)",
        ),
        (
            &|s: &mut Completeness| s.chains.reverse(),
            "recipients (neither all of the header's, in order, nor one of them)",
        ),
    ] {
        check(
            &resign(change),
            BundleItem::Completeness,
            |e| matches!(e, Error::Log(LogError::CompletenessMismatch { field: found }) if *found == field),
        );
    }
    // Covering only B while the bundle holds C's statements too.
    let only_b = resign(&|s: &mut Completeness| s.chains.retain(|c| c.recipient == f.b.id));
    check(
        &only_b,
        BundleItem::Completeness,
        |e| matches!(e, Error::Log(LogError::NotCovered { recipient }) if *recipient == f.c.id),
    );
    // A recipient's own view: only its chain, and the statement says so.
    let mut own = without(&only_b, |_, s| s.recipient == f.c.id);
    own.completeness = only_b.completeness.clone();
    let report = verify(&own).unwrap();
    assert_eq!(
        report.completeness.unwrap().1,
        Coverage::Only(f.b.id.clone())
    );
    // Signed by another log key of the same PKI.
    let mut other = standard().bundle.clone();
    other.completeness = Some(honest.statement().sign(&w.other_log.signer()).unwrap());
    check(&other, BundleItem::Completeness, |e| {
        matches!(e, Error::Log(LogError::LogKeyMismatch))
    });
}

#[test]
fn a_version_1_bundle_proves_no_completeness() {
    let mut b = standard().bundle.clone();
    b.completeness = None;
    let bytes = b.encode().unwrap();
    match verify_bundle(&bytes, &fixture().root, log_key()) {
        Err(Error::Log(LogError::NoCompletenessProof)) => {}
        other => panic!("expected NoCompletenessProof, got {other:?}"),
    }
    let report = verify_bundle_any_version(&bytes, &fixture().root, log_key()).unwrap();
    assert!(report.completeness.is_none());
    let text = report.to_string();
    assert!(text.contains("COMPLETENESS NOT PROVEN"), "{text}");
    // The same bundle cut short verifies as well under the old rules: hence the refusal.
    let cut = without(&b, |_, s| s.recipient == fixture().b.id);
    verify_bundle_any_version(&cut.encode().unwrap(), &fixture().root, log_key()).unwrap();
}

#[test]
fn an_axis_that_signs_a_false_completeness_statement_is_caught() {
    let (f, w) = (fixture(), world());
    let honest = &standard().bundle;
    // The axis cuts B's 06 and signs a completeness statement that agrees: it verifies ...
    let six = honest
        .statements
        .iter()
        .rposition(|s| s.recipient == f.b.id)
        .unwrap();
    let mut lying = without(honest, |i, _| i == six);
    lying.completeness = Some(axis_testkit::log::completeness_of(
        &lying,
        HEAD_AT + Duration::days(1),
        &w.log.signer(),
    ));
    let claim = verify(&lying).unwrap();
    // ... but whoever holds the 06 (here: the honest bundle, same head) proves the lie.
    let held = verify(honest).unwrap();
    let found = check_misbehaviour(&claim, &held, &[]).unwrap();
    assert_eq!(found.len(), 1);
    let m = &found[0];
    assert_eq!(m.recipient, f.b.id);
    assert_eq!(m.stated.count, 4);
    assert_eq!(m.omitted.status, StatusCode::Completed);
    assert_eq!(
        m.omitted.leaf_index,
        honest.statements[six].logged.leaf_index
    );
    assert!(m.omitted.leaf_index < m.tree_size);
    let text = m.to_string();
    assert!(
        text.contains(&format!("holds 4 statement(s) for {}", f.b.id)),
        "{text}"
    );
    // An honest claim is contradicted by nothing, whatever is held.
    assert!(check_misbehaviour(&held, &held, &[]).unwrap().is_empty());
    assert!(check_misbehaviour(&held, &claim, &[]).unwrap().is_empty());
    // A version 1 bundle claims nothing.
    let mut v1 = honest.clone();
    v1.completeness = None;
    let v1 = verify_bundle_any_version(&v1.encode().unwrap(), &fixture().root, log_key()).unwrap();
    assert!(matches!(
        check_misbehaviour(&v1, &held, &[]),
        Err(Error::Log(LogError::NoCompletenessProof))
    ));
}

#[test]
fn a_bundle_carries_its_heads_cosignatures_as_version_3() {
    let plain = &small().bundle;
    let b = cosigned(plain);
    let bytes = b.encode().unwrap();
    // Version 3, read back byte for byte; without cosignatures it stays version 2.
    let version = |bytes: &[u8]| {
        Format::EvidenceBundle
            .open_versions(bytes, "test", 3)
            .unwrap()
            .1
    };
    assert_eq!(version(&bytes), 3);
    assert_eq!(version(&plain.encode().unwrap()), 2);
    assert_eq!(
        EvidenceBundle::parse(&bytes).unwrap().cosignatures,
        b.cosignatures
    );
    let witnessed = verify_witnessed(&bytes).unwrap();
    assert_eq!(witnessed.by.len(), 2);
    // Fewer than asked for: the shortfall is named.
    let report = verify_bundle(&bytes, &fixture().root, log_key()).unwrap();
    match check_witnessed(
        report.tree_head.head(),
        log_key(),
        &report.cosignatures,
        &witness_keys()[..1],
        2,
    ) {
        Err(e) => assert_eq!(
            e.to_string(),
            "the tree head is cosigned by 1 of the 1 witnesses given, 2 required"
        ),
        Ok(w) => panic!("{w}"),
    }
    // An empty list is never written: that bundle is version 2.
    assert_eq!(
        EvidenceBundle {
            cosignatures: vec![],
            ..b.clone()
        }
        .encode()
        .unwrap(),
        plain.encode().unwrap()
    );
}

#[test]
fn a_cosignature_of_another_head_is_refused_naming_it() {
    let b = cosigned(&small().bundle);
    // Another head of the same log cosigned: not evidence for this bundle's head.
    let other = standard()
        .bundle
        .tree_head
        .verify(&fixture().store, HEAD_AT, Some(log_key()))
        .unwrap();
    let mut changed = b.clone();
    changed.cosignatures = vec![Cosignature::sign(&other, &witnesses()[0], HEAD_AT).unwrap()];
    check(&changed, BundleItem::Cosignature { index: 0 }, |e| {
        matches!(e, Error::Witness(WitnessError::NotOfThisHead { index: 0 }))
    });
}

#[test]
fn cosignatures_have_one_order_and_one_per_witness() {
    let b = cosigned(&small().bundle);
    let bytes = b.encode().unwrap();
    let (first, second) = (b.cosignatures[0].as_bytes(), b.cosignatures[1].as_bytes());
    // The two swapped in the bytes (the list keeps its length).
    let at = bytes.windows(first.len()).position(|w| w == first).unwrap();
    let mut swapped = bytes[..at].to_vec();
    swapped.extend_from_slice(second);
    swapped.extend_from_slice(first);
    swapped.extend_from_slice(&bytes[at + first.len() + second.len()..]);
    match EvidenceBundle::parse(&swapped) {
        Err(Error::BundleItem {
            item,
            at: found,
            source,
        }) => {
            assert_eq!(item, BundleItem::Cosignature { index: 1 });
            assert_eq!(found, at + second.len());
            assert!(
                matches!(
                    *source,
                    Error::Witness(WitnessError::CosignaturesOutOfOrder)
                ),
                "{source}"
            );
        }
        other => panic!("{other:?}"),
    }
    // One witness twice (cosigning again a second later) is refused, and never written.
    let head = b
        .tree_head
        .verify(&fixture().store, HEAD_AT, Some(log_key()))
        .unwrap();
    let mut twice = b.clone();
    twice.cosignatures = vec![
        Cosignature::sign(&head, &witnesses()[0], HEAD_AT).unwrap(),
        Cosignature::sign(&head, &witnesses()[0], HEAD_AT + Duration::seconds(1)).unwrap(),
    ];
    twice
        .cosignatures
        .sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert!(matches!(
        twice.encode(),
        Err(Error::Witness(WitnessError::CosignaturesOutOfOrder))
    ));
}

#[test]
fn a_cut_cosignature_is_named_with_its_offset() {
    let b = cosigned(&small().bundle);
    let bytes = b.encode().unwrap();
    let second = b.cosignatures[1].as_bytes();
    let start = bytes
        .windows(second.len())
        .position(|w| w == second)
        .unwrap();
    match EvidenceBundle::parse(&bytes[..bytes.len() - 10]) {
        Err(Error::Layout(e)) => {
            assert_eq!(e.element, "cosignature 1: its signature");
            assert!(e.at > start, "{e}");
        }
        other => panic!("{other:?}"),
    }
}
