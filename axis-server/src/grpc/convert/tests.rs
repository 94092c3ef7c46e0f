//! What a delivery costs on the wire as the recipients grow (issue #18: a 500-recipient
//! broadcast's delivery at most twice a one-recipient delivery plus 64 octets per recipient).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axis_signer::limits::DEFAULT_CHUNK_SIZE;
use axis_signer::{KeyEnvelope, MessageId, SealRequest, Sealer};
use axis_testkit::{Agency, NOW, SIGNED, broadcast_agencies, fixture, manifest, sign};
use prost::Message as _;

use super::*;
use crate::store::{EntryRow, InboxRow, LoggedRow, MessageRow};

/// A document from the fixture's A sealed for `to`; for each recipient, the delivery the axis
/// sends it (as `delivery` builds it from the stored rows), and the whole key envelope.
fn deliveries(to: &[Agency]) -> (Vec<pb::Delivery>, Vec<u8>) {
    let f = fixture();
    let refs: Vec<&Agency> = to.iter().collect();
    let doc = sign(&manifest(&refs, &[("cong-van.pdf", b"%PDF-1.7")]));
    let certs: Vec<_> = to.iter().map(|a| a.enc.clone()).collect();
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random().unwrap(),
        document: &doc,
        recipients: &certs,
        chunk_size: DEFAULT_CHUNK_SIZE,
    })
    .unwrap();
    let mut ciphertext = Vec::new();
    sealer
        .write_attachment(b"%PDF-1.7", &mut ciphertext)
        .unwrap();
    sealer.end_attachment(&mut ciphertext).unwrap();
    let sealed = sealer
        .finish(&f.a.seal_signer(), SIGNED, &mut ciphertext)
        .unwrap();
    let submission = sealed.submission.verify(&f.store, NOW).unwrap();
    let envelope = submission.check_key_envelope(&sealed.key_envelope).unwrap();
    let h = submission.header();
    let out = envelope
        .entries_with_paths()
        .unwrap()
        .into_iter()
        .map(|e| {
            delivery(InboxRow {
                seq: 1_234_567,
                message: MessageRow {
                    message_id: h.message_id,
                    sender: h.sender.to_string(),
                    routing_header: submission.header_bytes().as_bytes().to_vec(),
                    submission_signature: submission.submission().signature().to_vec(),
                    ciphertext_len: h.ciphertext_len,
                    blob_id: 1,
                    logged: LoggedRow {
                        at: NOW,
                        leaf_index: 1_234_567,
                        entry: Vec::new(),
                        proof: Vec::new(),
                    },
                },
                entry: EntryRow {
                    path: e.path_bytes(),
                    entry: e.entry,
                    index: e.index,
                },
            })
        })
        .collect();
    (out, sealed.key_envelope)
}

#[test]
fn a_delivery_grows_by_the_header_list_alone_not_by_every_recipient_entry() {
    let many = broadcast_agencies(500);
    let (one, _) = deliveries(&many[..1]);
    let (all, whole) = deliveries(&many);
    let one = one[0].encoded_len();
    let largest = all.iter().map(|d| d.encoded_len()).max().unwrap();
    let smallest = all.iter().map(|d| d.encoded_len()).min().unwrap();
    // The target of issue #18.
    assert!(
        largest <= 2 * one + 64 * 500,
        "a 500-recipient delivery is {largest} octets; one recipient's is {one}"
    );
    // Each delivery carries one entry, not the envelope: far below the whole list.
    assert!(largest < whole.len() / 4, "{largest} vs {}", whole.len());
    // Every recipient's delivery holds its own entry at its place, with a path to the root.
    let h = axis_signer::HeaderBytes::parse(&all[0].routing_header).unwrap();
    let root = h.header().key_envelope_root;
    let envelope = KeyEnvelope::parse(&whole).unwrap();
    for (i, d) in all.iter().enumerate() {
        let e = d.key_envelope_entry.as_ref().unwrap();
        assert_eq!(e.index as usize, i);
        assert_eq!(e.entry, envelope.entry(i).unwrap());
        axis_signer::EnvelopeEntry::from_parts(e.index, e.entry.clone(), &e.path.concat())
            .unwrap()
            .verify(i, 500, &root)
            .unwrap();
    }
    // The figures for BENCHMARKS.md (`--nocapture`).
    println!(
        "delivery octets: 1 recipient {one}; 500 recipients {smallest}..{largest} \
         (target {}); whole key envelope {} (every delivery carried it before)",
        2 * one + 64 * 500,
        whole.len()
    );
}
