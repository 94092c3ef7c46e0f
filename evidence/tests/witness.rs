//! Witnesses as a verifier relies on them: a cosignature binds one head of one log to one
//! witness and has one byte form; a witness cosigns only heads consistent with the last one it
//! cosigned; and a split view — two heads of the same size, both validly signed by the log
//! signer, shown to different parties — cannot gather K = 2 cosignatures from witnesses that
//! saw the other view.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_evidence::*;
use axis_log::Hash;
use axis_pki::{KeyAlgorithm, PrivateKey};
use axis_signer::cms::der::{self, Reader};
use axis_testkit::cms_parts::ecdsa_twin;
use axis_testkit::log::{MemoryLog, node};
use axis_testkit::*;
use time::OffsetDateTime;
use time::macros::datetime;

const HEAD_AT: OffsetDateTime = datetime!(2026-01-03 10:10 UTC);
const COSIGNED_AT: OffsetDateTime = datetime!(2026-01-03 10:11 UTC);
const AT: OffsetDateTime = datetime!(2026-01-03 10:20 UTC);

/// Exact error, shown as its `Debug` form.
#[track_caller]
fn check<T: std::fmt::Debug>(result: Result<T, Error>, expected: &str) {
    match result {
        Ok(v) => panic!("expected {expected}, got Ok({v:?})"),
        Err(e) => assert_eq!(format!("{e:?}"), expected),
    }
}

fn log_key() -> &'static [u8] {
    fixture().log.cert.public_key_der()
}

/// A log of `entries` (any bytes), its head signed by the test kit's log signer and verified.
fn head_of(entries: &[&[u8]]) -> (MemoryLog, VerifiedTreeHead) {
    let entries: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
    let log = MemoryLog::new(&entries);
    let head = log
        .head(HEAD_AT, &fixture().log.signer())
        .verify(&fixture().store, AT, Some(log_key()))
        .unwrap();
    (log, head)
}

/// The consistency proof from the first `first` leaves of `log` to all of it.
fn proof(log: &MemoryLog, first: u64) -> Vec<Hash> {
    axis_log::consistency_proof(first, log.size(), |id| node(&log.leaves, id)).unwrap()
}

struct Witness {
    key: PrivateKey,
    last: Option<TreeHead>,
}

impl Witness {
    fn new() -> Self {
        Witness {
            key: PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            last: None,
        }
    }

    fn public(&self) -> WitnessKey {
        WitnessKey::parse(self.key.public_key_der()).unwrap()
    }

    /// One witness step against `log`'s head: the proof from the last head cosigned.
    fn cosign(&mut self, log: &MemoryLog, head: &VerifiedTreeHead) -> Result<Cosignature, Error> {
        let p = match &self.last {
            Some(last) if last.tree_size < log.size() && last.tree_size > 0 => {
                proof(log, last.tree_size)
            }
            _ => vec![],
        };
        let c = cosign_next(
            self.last.as_ref(),
            head,
            &p,
            log_key(),
            &self.key,
            COSIGNED_AT,
        )?;
        self.last = Some(*head.head());
        Ok(c)
    }
}

#[test]
fn a_cosignature_binds_log_head_witness_and_time_in_one_byte_form() {
    let (_, head) = head_of(&[b"a", b"b", b"c"]);
    let w = Witness::new();
    let c = Cosignature::sign(&head, &w.key, COSIGNED_AT).unwrap();
    let body = c.cosigned();
    assert_eq!(body.log, key_id(log_key()));
    assert_eq!(body.witness, w.public().id());
    assert_eq!(body.tree_size, 3);
    assert_eq!(body.root_hash, head.head().root_hash);
    assert_eq!(body.timestamp, COSIGNED_AT);
    assert!(body.is_of(head.head(), log_key()));
    // Read back byte for byte, and verified with the witness's key only.
    let parsed = Cosignature::parse(c.as_bytes()).unwrap();
    assert_eq!(parsed, c);
    parsed.verify(&w.public()).unwrap();
    check(
        parsed.verify(&Witness::new().public()),
        "Witness(OtherWitness)",
    );
    // The first element is the cosignature's format OID: OpenSSL and asn1 decoders see it.
    let mut r = Reader::new(c.as_bytes(), "test");
    let mut s = r.sequence().unwrap();
    let signed = s.any().unwrap().raw.to_vec();
    let signature = s.octet_string().unwrap().to_vec();
    assert_eq!(
        axis_signer::cms::Format::of(&signed),
        Some(axis_signer::cms::Format::Cosignature)
    );
    // The other ECDSA value verifies too, but is not the one form a witness writes.
    let twin = der::seq(&[&signed, &der::octets(&ecdsa_twin(&signature))]);
    check(Cosignature::parse(&twin), "Witness(CosignatureNotNormal)");
    // A changed size, root or time breaks the signature; trailing bytes or a cut the parse.
    for at in [20, 60, 100, signed.len() - 3] {
        let mut bad = c.as_bytes().to_vec();
        bad[at] ^= 0x01;
        let outcome = Cosignature::parse(&bad).and_then(|p| p.verify(&w.public()));
        assert!(outcome.is_err(), "flipped byte {at} still verifies");
    }
    let mut long = c.as_bytes().to_vec();
    long.push(0);
    assert!(Cosignature::parse(&long).is_err());
    assert!(Cosignature::parse(&c.as_bytes()[..c.as_bytes().len() - 1]).is_err());
    check(
        Cosignature::parse(&vec![0x30; limits::MAX_COSIGNATURE_LEN + 1]),
        "Signer(Format(TooLarge { what: \"cosignature\", len: 513, max: 512 }))",
    );
}

#[test]
fn witness_keys_are_p256_only() {
    let rsa = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    check(
        WitnessKey::parse(rsa.public_key_der()),
        "Witness(WitnessKeyUnsupported)",
    );
    check(
        WitnessKey::parse(b"not a key"),
        "Witness(WitnessKeyUnsupported)",
    );
    let (_, head) = head_of(&[b"a"]);
    check(
        Cosignature::sign(&head, &rsa, COSIGNED_AT),
        "Witness(WitnessKeyUnsupported)",
    );
}

#[test]
fn consistency_is_one_rule_for_everyone() {
    let (_, h3) = head_of(&[b"a", b"b", b"c"]);
    let (big, h5) = head_of(&[b"a", b"b", b"c", b"d", b"e"]);
    let (_, forged) = head_of(&[b"a", b"b", b"x"]);
    assert_eq!(
        check_consistent(h3.head(), h5.head(), &proof(&big, 3)).unwrap(),
        2
    );
    assert_eq!(check_consistent(h3.head(), h3.head(), &[]).unwrap(), 0);
    check(
        check_consistent(h5.head(), h3.head(), &[]),
        "Witness(Shrunk { older: 5, newer: 3 })",
    );
    check(
        check_consistent(h3.head(), forged.head(), &[]),
        "Witness(SplitView { size: 3 })",
    );
    // A proof for other trees does not connect these two.
    let (other, _) = head_of(&[b"z", b"b", b"c", b"d", b"e"]);
    let e = check_consistent(h3.head(), h5.head(), &proof(&other, 3)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Witness(WitnessError::Inconsistent {
                older: 3,
                newer: 5,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn a_witness_refuses_an_inconsistent_head_and_a_head_of_another_log() {
    let (first, h3) = head_of(&[b"a", b"b", b"c"]);
    let mut w = Witness::new();
    w.cosign(&first, &h3).unwrap();
    // Rewritten history: five entries whose first three are not the ones cosigned.
    let (rewritten, h5) = head_of(&[b"a", b"X", b"c", b"d", b"e"]);
    let e = w.cosign(&rewritten, &h5).unwrap_err();
    assert!(
        matches!(e, Error::Witness(WitnessError::Inconsistent { .. })),
        "{e:?}"
    );
    // The witness still stands where it was: the honest continuation is cosigned.
    assert_eq!(w.last.unwrap().tree_size, 3);
    let (honest, h4) = head_of(&[b"a", b"b", b"c", b"d"]);
    w.cosign(&honest, &h4).unwrap();
    // A shrunk log is refused.
    check(
        w.cosign(&first, &h3),
        "Witness(Shrunk { older: 4, newer: 3 })",
    );
    // A head of another log signer (another log of the same PKI) is never cosigned.
    let wrong_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    check(
        cosign_next(None, &h4, &[], wrong_key.public_key_der(), &w.key, AT),
        "Log(LogKeyMismatch)",
    );
}

#[test]
fn a_split_view_cannot_gather_two_cosignatures_from_witnesses_that_saw_the_other_view() {
    // The axis shows history A to some parties and history B to others: two heads of size 4,
    // both validly signed with the log signer's key, sharing the first three entries.
    let (start, h3) = head_of(&[b"a", b"b", b"c"]);
    let (view_a, a4) = head_of(&[b"a", b"b", b"c", b"d"]);
    let (view_b, b4) = head_of(&[b"a", b"b", b"c", b"forged"]);
    assert_eq!(a4.head().tree_size, b4.head().tree_size);
    assert_ne!(a4.head().root_hash, b4.head().root_hash);

    // Two witnesses saw view A (one from the start, one from its head of 4)…
    let mut w1 = Witness::new();
    let mut w2 = Witness::new();
    w1.cosign(&start, &h3).unwrap();
    let a_by_1 = w1.cosign(&view_a, &a4).unwrap();
    let a_by_2 = w2.cosign(&view_a, &a4).unwrap();
    // …a third only view B.
    let mut w3 = Witness::new();
    let b_by_3 = w3.cosign(&view_b, &b4).unwrap();

    // Shown view B, the witnesses of view A refuse: same size, another root.
    for w in [&mut w1, &mut w2] {
        check(w.cosign(&view_b, &b4), "Witness(SplitView { size: 4 })");
    }
    // Nor can B be slipped in as an extension of what they cosigned.
    let (b_more, b5) = head_of(&[b"a", b"b", b"c", b"forged", b"e"]);
    let e = w1.cosign(&b_more, &b5).unwrap_err();
    assert!(
        matches!(e, Error::Witness(WitnessError::Inconsistent { .. })),
        "{e:?}"
    );

    let witnesses = [w1.public(), w2.public(), w3.public()];
    // View A gathers K = 2.
    let a = check_witnessed(
        a4.head(),
        log_key(),
        &[a_by_1.clone(), a_by_2.clone()],
        &witnesses,
        2,
    )
    .unwrap();
    assert_eq!(a.by.len(), 2);
    // View B has one, and the cosignatures of A are not evidence for it.
    check(
        check_witnessed(
            b4.head(),
            log_key(),
            std::slice::from_ref(&b_by_3),
            &witnesses,
            2,
        ),
        "Witness(TooFewCosignatures { found: 1, needed: 2, given: 3 })",
    );
    check(
        check_witnessed(b4.head(), log_key(), &[b_by_3, a_by_1], &witnesses, 2),
        "Witness(NotOfThisHead { index: 1 })",
    );
}

#[test]
fn each_witness_counts_once_and_only_given_witnesses_count() {
    let (_, head) = head_of(&[b"a", b"b"]);
    let w1 = Witness::new();
    let w2 = Witness::new();
    let stranger = Witness::new();
    let c1 = Cosignature::sign(&head, &w1.key, COSIGNED_AT).unwrap();
    let c1_again = Cosignature::sign(&head, &w1.key, AT).unwrap();
    let c2 = Cosignature::sign(&head, &w2.key, COSIGNED_AT).unwrap();
    let cs = Cosignature::sign(&head, &stranger.key, COSIGNED_AT).unwrap();
    let h = head.head();
    // The same witness twice, or named twice, is one witness.
    check(
        check_witnessed(
            h,
            log_key(),
            &[c1.clone(), c1_again, cs.clone()],
            &[w1.public(), w1.public(), w2.public()],
            2,
        ),
        "Witness(TooFewCosignatures { found: 1, needed: 2, given: 3 })",
    );
    // A stranger's cosignature is ignored; K of the given is what counts.
    let ok = check_witnessed(
        h,
        log_key(),
        &[cs, c1.clone(), c2.clone()],
        &[w1.public(), w2.public()],
        2,
    )
    .unwrap();
    assert_eq!(
        ok.by,
        vec![
            (w1.public().id(), COSIGNED_AT),
            (w2.public().id(), COSIGNED_AT)
        ]
    );
    // K = 0 asks for nothing; the same cosignatures under another log key are not of this log.
    check_witnessed(h, log_key(), &[], &[], 0).unwrap();
    let other_log = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    check(
        check_witnessed(h, other_log.public_key_der(), &[c1], &[w1.public()], 1),
        "Witness(NotOfThisHead { index: 0 })",
    );
    // A cosignature whose signature was made by another key than the one it names.
    let mut forged = c2.as_bytes().to_vec();
    let id2 = w2.public().id();
    let id1 = w1.public().id();
    let at = forged.windows(32).position(|w| w == id2).unwrap();
    forged[at..at + 32].copy_from_slice(&id1);
    let forged = Cosignature::parse(&forged).unwrap();
    check(
        check_witnessed(h, log_key(), &[forged], &[w1.public()], 1),
        "Witness(CosignatureInvalid { index: 0 })",
    );
}
