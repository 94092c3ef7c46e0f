//! The key envelope as a list: one entry per recipient, the Merkle root, audit paths, and the
//! budgets and strictness of the reader.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::cms::envelope::{Secrets, open, seal};
use crate::{EnvelopeError, RecipientKey};

fn key(a: &axis_testkit::Agency) -> RecipientKey {
    RecipientKey::from_pkcs8_der(a.enc_pkcs8.clone(), &a.enc).unwrap()
}

/// A real envelope for B (P-256) and C (RSA), in that order.
fn sealed() -> (KeyEnvelope, Secrets) {
    let f = axis_testkit::fixture();
    let mut secrets = Secrets::random().unwrap();
    let entries = seal(&mut secrets, &[f.b.enc.clone(), f.c.enc.clone()]).unwrap();
    (KeyEnvelope::from_entries(entries).unwrap(), secrets)
}

/// Distinct stand-in entries (the tree does not read them).
fn synthetic(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| der::seq(&[&der::uint(i as u64)])).collect()
}

fn mismatch(r: Result<(), Error>) -> bool {
    matches!(r, Err(Error::Envelope(EnvelopeError::KeyEnvelopeMismatch)))
}

#[test]
fn each_entry_has_one_recipient_in_order_and_opens_only_for_it() {
    let f = axis_testkit::fixture();
    let (env, secrets) = sealed();
    assert_eq!(env.len(), 2);
    let ids = env.recipient_ids().unwrap();
    assert_eq!(ids[0], RecipientId::of_certificate(f.b.enc.der()).unwrap());
    assert_eq!(ids[1], RecipientId::of_certificate(f.c.enc.der()).unwrap());
    // Each entry gives its recipient the content key…
    for (i, who) in [&f.b, &f.c].into_iter().enumerate() {
        let k = open(env.entry(i).unwrap(), &key(who)).unwrap();
        assert_eq!(k.as_bytes(), secrets.content_key.as_bytes());
    }
    // …and is nobody else's.
    assert!(matches!(
        open(env.entry(0).unwrap(), &key(&f.c)),
        Err(Error::Envelope(EnvelopeError::NoRecipientInfo))
    ));
    // The bytes read back to the same envelope.
    assert_eq!(KeyEnvelope::parse(env.as_bytes()).unwrap(), env);
}

#[test]
fn every_audit_path_leads_to_the_root_for_every_size_up_to_the_budget() {
    for n in [1, 2, 3, 5, 8, 13, 255, 256, 257, 500] {
        let env = KeyEnvelope::from_entries(synthetic(n)).unwrap();
        let leaves: Vec<_> = env.entries.iter().map(|e| axis_log::leaf_hash(e)).collect();
        let root = env.root();
        assert_eq!(root, axis_log::root_from_leaves(&leaves), "n = {n}");
        let all = env.entries_with_paths().unwrap();
        assert_eq!(all.len(), n);
        for (i, e) in all.iter().enumerate() {
            assert_eq!(e.index as usize, i);
            assert!(e.path.len() <= MAX_KEY_ENVELOPE_PATH, "n = {n}, i = {i}");
            e.verify(i, n, &root).unwrap();
        }
        // One entry alone is the same as from the batch.
        for i in [0, n / 2, n - 1] {
            assert_eq!(env.entry_with_path(i).unwrap(), all[i]);
        }
    }
    // A one-recipient tree's path is empty: its root is its leaf.
    let one = KeyEnvelope::from_entries(synthetic(1)).unwrap();
    assert!(one.entries_with_paths().unwrap()[0].path.is_empty());
    assert_eq!(one.root(), axis_log::leaf_hash(one.entry(0).unwrap()));
}

#[test]
fn an_entry_elsewhere_altered_or_with_a_wrong_path_is_refused() {
    let env = KeyEnvelope::from_entries(synthetic(5)).unwrap();
    let root = env.root();
    let good = env.entry_with_path(3).unwrap();
    good.verify(3, 5, &root).unwrap();
    // Another position than the recipient's (the index says 3, the recipient is 2).
    assert!(mismatch(good.verify(2, 5, &root)));
    // Another recipient's entry presented with its own path at our place.
    let mut other = env.entry_with_path(2).unwrap();
    other.index = 3;
    assert!(mismatch(other.verify(3, 5, &root)));
    // One flipped bit in the entry, in a path hash; a hash dropped or added.
    let mut e = good.clone();
    e.entry[4] ^= 1;
    assert!(mismatch(e.verify(3, 5, &root)));
    let mut e = good.clone();
    e.path[0][0] ^= 1;
    assert!(mismatch(e.verify(3, 5, &root)));
    let mut e = good.clone();
    e.path.pop();
    assert!(mismatch(e.verify(3, 5, &root)));
    let mut e = good.clone();
    e.path.push([0; 32]);
    assert!(mismatch(e.verify(3, 5, &root)));
    // A size whose paths are shorter or longer (the size itself comes from the signed
    // header's recipients, so it is never the sender's to choose apart from them).
    assert!(mismatch(good.verify(3, 4, &root)));
    assert!(mismatch(good.verify(3, 9, &root)));
    // Another root.
    assert!(mismatch(good.verify(3, 5, &[0; 32])));
}

#[test]
fn paths_from_storage_have_whole_hashes_within_the_budget() {
    let env = KeyEnvelope::from_entries(synthetic(500)).unwrap();
    let e = env.entry_with_path(321).unwrap();
    let back = EnvelopeEntry::from_parts(e.index, e.entry.clone(), &e.path_bytes()).unwrap();
    assert_eq!(back, e);
    back.verify(321, 500, &env.root()).unwrap();
    let malformed = |path: &[u8]| {
        matches!(
            EnvelopeEntry::from_parts(0, vec![], path),
            Err(Error::Format(FormatError::Malformed { .. }))
        )
    };
    assert!(malformed(&[0; 33]));
    assert!(malformed(&[0; 31]));
    assert!(malformed(&[0; 32 * (MAX_KEY_ENVELOPE_PATH + 1)]));
    assert!(EnvelopeEntry::from_parts(0, vec![], &[0; 32 * MAX_KEY_ENVELOPE_PATH]).is_ok());
}

#[test]
fn the_reader_refuses_what_is_not_a_list_of_single_recipient_entries() {
    let (env, _) = sealed();
    let e0 = env.entry(0).unwrap().to_vec();
    let e1 = env.entry(1).unwrap().to_vec();
    let list = |entries: &[&[u8]]| der::seq(entries);
    let malformed = |bytes: &[u8]| {
        matches!(
            KeyEnvelope::parse(bytes),
            Err(Error::Format(FormatError::Malformed { .. }))
        )
    };
    // Empty list.
    assert!(matches!(
        KeyEnvelope::parse(&list(&[])),
        Err(Error::Format(FormatError::NoRecipients))
    ));
    // Trailing bytes, a bare entry instead of a list, something else in the list.
    let mut trailing = env.as_bytes().to_vec();
    trailing.push(0);
    assert!(malformed(&trailing));
    assert!(malformed(&e0));
    assert!(malformed(&list(&[&e0, &der::octets(b"x")])));
    // An entry with two RecipientInfos (the version-1 form: one EnvelopedData for all): read
    // whole, it is one entry serving two, which the list never holds.
    let two = {
        let ri = |entry: &[u8]| {
            let mut r = der::Reader::new(entry, "t");
            let mut ci = r.sequence().unwrap();
            ci.oid().unwrap();
            let mut ed = ci.nested(der::context(0)).unwrap().sequence().unwrap();
            ed.u64().unwrap();
            let mut set = ed.nested(der::SET).unwrap();
            let info = set.any().unwrap().raw.to_vec();
            (info, ed.any().unwrap().raw.to_vec())
        };
        let (b, eci) = ri(&e0);
        let (c, _) = ri(&e1);
        let ed = der::seq(&[&der::uint(2), &der::set_of(vec![b, c]), &eci]);
        der::seq(&[
            &der::oid(crate::cms::oid::ENVELOPED_DATA),
            &der::tlv(der::context(0), &ed),
        ])
    };
    assert!(malformed(&list(&[&two])));
    // The version must be RFC 5652's for the one RecipientInfo (2 for key agreement).
    let mut wrong_version = e0.clone();
    let at = wrong_version
        .windows(3)
        .position(|w| w == [0x02, 0x01, 0x02])
        .unwrap();
    wrong_version[at + 2] = 0;
    assert!(malformed(&list(&[&wrong_version])));
    // More entries than recipients can be.
    let many: Vec<&[u8]> = std::iter::repeat_n(e0.as_slice(), MAX_RECIPIENTS + 1).collect();
    assert!(matches!(
        KeyEnvelope::parse(&list(&many)),
        Err(Error::Format(FormatError::TooManyRecipients {
            found: 501,
            ..
        }))
    ));
    assert_eq!(
        KeyEnvelope::parse(&list(&many[..MAX_RECIPIENTS]))
            .unwrap()
            .len(),
        MAX_RECIPIENTS
    );
    // Size budgets: the whole and each entry.
    assert!(matches!(
        KeyEnvelope::parse(&vec![0x30; MAX_KEY_ENVELOPE_LEN + 1]),
        Err(Error::Format(FormatError::TooLarge { .. }))
    ));
    let big = der::seq(&[&vec![0u8; crate::limits::MAX_KEY_ENVELOPE_ENTRY_LEN]]);
    assert!(matches!(
        KeyEnvelope::parse(&list(&[&big])),
        Err(Error::Format(FormatError::TooLarge { .. }))
    ));
}
