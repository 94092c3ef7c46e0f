use time::OffsetDateTime;

use super::*;

fn id(n: u8) -> MessageId {
    MessageId::from_uuid(uuid::Uuid::from_bytes([n; 16]))
}

fn logged(leaf_index: u64, duplicate: bool) -> Logged {
    Logged {
        entry: vec![leaf_index as u8],
        proof: Vec::new(),
        leaf_index,
        logged_at: OffsetDateTime::UNIX_EPOCH,
        duplicate,
    }
}

/// Jobs written one per word:
/// - `A2:h2` an acceptance of message 2 whose routing header is `h2`;
/// - `S7@3/G22#0` a statement whose hash is `[7; 32]`, on the chain of message 3 for recipient
///   `G22`, checked against a chain of length 0;
/// - `R` a revocation.
fn jobs(text: &str) -> Vec<Key<'_>> {
    let n = |s: &str| s.parse::<u8>().unwrap();
    text.split_whitespace()
        .map(|word| match word.split_at(1) {
            ("A", rest) => {
                let (m, header) = rest.split_once(':').unwrap();
                Key::Acceptance {
                    message_id: id(n(m)),
                    routing_header: header.as_bytes(),
                }
            }
            ("S", rest) => {
                let (hash, rest) = rest.split_once('@').unwrap();
                let (m, rest) = rest.split_once('/').unwrap();
                let (recipient, position) = rest.split_once('#').unwrap();
                Key::Statement {
                    hash: [n(hash); 32],
                    message_id: id(n(m)),
                    recipient,
                    position: position.parse().unwrap(),
                }
            }
            ("R", "") => Key::Revocation,
            _ => panic!("bad job {word}"),
        })
        .collect()
}

/// A database holding message 1 (header `h1`, leaf 7), statement `[9; 32]` (leaf 8) as the
/// first of the chain (message 1, G22), and two statements of the chain (message 2, H41).
fn stored() -> Stored {
    let mut s = Stored::default();
    let m = StoredMessage {
        routing_header: b"h1".to_vec(),
        logged: logged(7, true),
    };
    s.messages.insert(id(1), m);
    s.statements.insert([9; 32], logged(8, true));
    s.chains.insert((id(1), "G22".to_owned()), 1);
    s.chains.insert((id(2), "H41".to_owned()), 2);
    s
}

/// Outcomes written one per word: `n0` new leaf 0, `r7` a repeat of stored leaf 7, `s0` the
/// same as job 0, `conflict` a refused message id, `race` a lost chain race.
fn describe(o: &Outcome) -> String {
    match o {
        Outcome::New(n) => format!("n{n}"),
        Outcome::Repeat(l) => format!("r{}", l.leaf_index),
        Outcome::SameAs(j) => format!("s{j}"),
        Outcome::Refused(ServerError::MessageIdConflict(_)) => "conflict".to_owned(),
        Outcome::Refused(ServerError::ChainConflict) => "race".to_owned(),
        Outcome::Refused(e) => format!("refused {e}"),
    }
}

/// Plans `batch` against an empty database or [`stored`]; checks each job's outcome and which
/// jobs become leaves.
#[track_caller]
fn check(batch: &str, with_stored: bool, expected: &str, new: &[usize]) {
    let db = if with_stored {
        stored()
    } else {
        Stored::default()
    };
    let p = plan(&jobs(batch), &db);
    let got: Vec<String> = p.outcomes.iter().map(describe).collect();
    assert_eq!(got.join(" "), expected, "{batch}");
    assert_eq!(p.new, new, "jobs appended for {batch}");
}

const EMPTY: bool = false;
const STORED: bool = true;

#[test]
fn acceptances() {
    check("A2:h2", STORED, "n0", &[0]);
    // The same message twice in a batch: one leaf; the second answers with the first's.
    check("A2:h2 A2:h2", EMPTY, "n0 s0", &[0]);
    // Another submission under an id the batch already uses; the first again after that.
    check("A2:h2 A2:x", EMPTY, "n0 conflict", &[0]);
    check("A2:h2 A2:x A2:h2", EMPTY, "n0 conflict s0", &[0]);
    // A repeat of what is stored: its evidence, nothing appended, also twice in one batch.
    check("A1:h1 A1:h1", STORED, "r7 r7", &[]);
    // Other content under a stored id, whatever else the batch holds.
    check("A1:x", STORED, "conflict", &[]);
    check("A1:x A1:h1", STORED, "conflict r7", &[]);
    // Distinct messages are independent, even with equal headers.
    check("A2:h2 A3:h2 A4:h4", STORED, "n0 n1 n2", &[0, 1, 2]);
}

#[test]
fn statements() {
    // The first of a chain, then the next one in the same batch.
    check("S1@3/G22#0 S2@3/G22#1", EMPTY, "n0 n1", &[0, 1]);
    // The same statement twice in a batch.
    check("S1@3/G22#0 S1@3/G22#0", EMPTY, "n0 s0", &[0]);
    // Two statements checked against the same chain state: the second lost the race, and a
    // refused statement does not lengthen the chain.
    check("S1@3/G22#0 S2@3/G22#0", EMPTY, "n0 race", &[0]);
    check(
        "S1@3/G22#0 S2@3/G22#0 S4@3/G22#1",
        EMPTY,
        "n0 race n1",
        &[0, 2],
    );
    // Chains are per recipient and per message.
    check(
        "S1@3/G22#0 S2@3/H41#0 S4@5/G22#0",
        EMPTY,
        "n0 n1 n2",
        &[0, 1, 2],
    );
    // A repeat of a stored statement, even one whose position is stale now.
    check("S9@1/G22#0", STORED, "r8", &[]);
    // Against a stored chain, its length is the next position; anything else lost a race.
    check("S1@1/G22#1", STORED, "n0", &[0]);
    check("S1@1/G22#0", STORED, "race", &[]);
    check("S1@2/H41#2 S2@2/H41#3", STORED, "n0 n1", &[0, 1]);
    check("S1@2/H41#3", STORED, "race", &[]);
}

#[test]
fn mixed_batches_number_leaves_in_job_order() {
    let batch = "R A2:h2 S9@1/G22#0 R A2:h2 S1@1/G22#1";
    check(batch, STORED, "n0 n1 r8 n2 s1 n3", &[0, 1, 3, 5]);
}

#[test]
fn lookups_ask_once_per_key() {
    let keys = jobs("A3:a S2@5/G22#0 A1:b A3:a S1@5/H41#0 S2@4/G22#0 R");
    let expected = Lookups {
        message_ids: vec![id(1), id(3)],
        statement_hashes: vec![[1; 32], [2; 32]],
        chain_messages: vec![id(4), id(5)],
    };
    assert_eq!(lookups(&keys), expected);
    assert_eq!(lookups(&[]), Lookups::default());
}

#[test]
fn answers_give_repeats_in_a_batch_the_first_jobs_evidence() {
    let p = plan(&jobs("A2:h2 A2:h2 A1:h1 A1:x"), &stored());
    let got = answers(p.outcomes, &[logged(10, false)]);
    let leaf = |r: &Result<Logged>| r.as_ref().map(|l| (l.leaf_index, l.duplicate)).ok();
    let leaves: Vec<_> = got.iter().map(leaf).collect();
    assert_eq!(
        leaves,
        [Some((10, false)), Some((10, true)), Some((7, true)), None]
    );
    assert!(matches!(got[3], Err(ServerError::MessageIdConflict(_))));
}

#[test]
fn answers_without_the_logged_leaves_fail_instead_of_inventing_them() {
    let p = plan(&jobs("A2:h2 A2:h2"), &Stored::default());
    let got = answers(p.outcomes, &[]);
    let internal = |r: &Result<Logged>| matches!(r, Err(ServerError::Internal(_)));
    assert!(got.iter().all(internal));
}
