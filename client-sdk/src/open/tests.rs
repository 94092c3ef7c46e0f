#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::Profile;
use axis_signer::limits::MIN_CHUNK_SIZE;
use axis_signer::{AttachmentDigest, MessageId, Sealed};
use axis_testkit::demo::{NOW, demo_world as fixture};
use axis_testkit::seal::seal_for;
use proptest::prelude::*;

use super::*;

/// G22 seals `files` for H41 with `chunk_size`; returns the header part and the ciphertext.
fn seal(files: &[Vec<u8>], chunk_size: u32) -> (Sealed, Vec<u8>) {
    let f = fixture();
    let names: Vec<String> = (0..files.len()).map(|i| format!("file-{i}.pdf")).collect();
    let named: Vec<(&str, &[u8])> = names
        .iter()
        .zip(files)
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let id = MessageId::random().unwrap();
    let s = seal_for(&f.store, NOW, &f.g22, &[&f.h41], &named, id, chunk_size);
    (s.sealed, s.ciphertext)
}

/// H41 opens `pieces` (the ciphertext cut anywhere) through the frame reader into `sink`, as
/// [`Client::open`] does with the fetched chunks.
fn open_pieces<'a>(
    sealed: &Sealed,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    sink: &mut dyn AttachmentSink,
) -> Result<(ReceivedDocument, usize)> {
    let f = fixture();
    let submission = sealed.submission.verify(&f.store, NOW).unwrap();
    let enc = f.verified(&f.h41.encryption, Profile::AgencyEncryption);
    let key = RecipientKey::from_pkcs8_der(f.h41.encryption.key.to_pkcs8_der(), &enc).unwrap();
    let mut opener =
        Opener::from_key_envelope(&submission, &sealed.key_envelope, &key, &f.store, NOW).unwrap();
    let mut reader = FrameReader::default();
    let mut state = SinkState::default();
    let mut most = 0;
    for piece in pieces {
        feed(&mut reader, &mut opener, &mut state, sink, piece)?;
        most = most.max(reader.buf.capacity());
    }
    if reader.is_partial() {
        return Err(Error::verification("ends inside a frame"));
    }
    let received = opener
        .finish()
        .map_err(|e| Error::signer("the document", e))?;
    Ok((received, most))
}

/// Cuts `data` into pieces of the given sizes, cycling through them.
fn cut<'a>(data: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        let (a, b) = rest.split_at(n);
        pieces.push(a);
        pieces.push(&[][..]); // empty chunks change nothing
        rest = b;
        i += 1;
    }
    pieces
}

fn files() -> Vec<Vec<u8>> {
    vec![
        (0..5000u32).map(|i| (i % 251) as u8).collect(),
        Vec::new(),
        vec![7u8; 2048],
        b"short".to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the network's chunking, the reader yields exactly the sender's frames, the
    /// attachments come out whole and checked, and the buffer never holds more than one frame.
    #[test]
    fn frames_are_cut_right_at_any_split_points(
        sizes in prop::collection::vec(1usize..3000, 1..12),
        chunk in prop::sample::select(vec![MIN_CHUNK_SIZE, 1500, 4096]),
    ) {
        let files = files();
        let (sealed, ciphertext) = seal(&files, chunk);
        let mut sink = MemorySink::default();
        let (received, most) = open_pieces(&sealed, cut(&ciphertext, &sizes), &mut sink).unwrap();
        prop_assert_eq!(&sink.files, &files);
        prop_assert_eq!(received.recipient(), &fixture().h41.id);
        prop_assert!(most <= FRAME_HEADER_LEN + chunk as usize + 16, "buffer grew to {}", most);
    }
}

#[test]
fn one_byte_at_a_time_and_all_at_once_give_the_same_document() {
    let files = files();
    let (sealed, ciphertext) = seal(&files, MIN_CHUNK_SIZE);
    for pieces in [cut(&ciphertext, &[1]), vec![&ciphertext[..]]] {
        let mut sink = MemorySink::default();
        open_pieces(&sealed, pieces, &mut sink).unwrap();
        assert_eq!(sink.files, files);
    }
}

#[test]
fn a_truncated_or_altered_stream_fails_verification() {
    let files = files();
    let (sealed, ciphertext) = seal(&files, MIN_CHUNK_SIZE);
    // Truncated inside the last frame, and exactly before it.
    for end in [
        ciphertext.len() - 3,
        ciphertext.len() - (FRAME_HEADER_LEN + 5 + 16),
    ] {
        let mut sink = MemorySink::default();
        let e = open_pieces(&sealed, [&ciphertext[..end]], &mut sink).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
    }
    // One flipped bit anywhere: in a frame header or in a ciphertext body.
    for at in [
        10,
        FRAME_HEADER_LEN + 3,
        ciphertext.len() / 2,
        ciphertext.len() - 1,
    ] {
        let mut bad = ciphertext.clone();
        bad[at] ^= 0x40;
        let mut sink = MemorySink::default();
        let e = open_pieces(&sealed, cut(&bad, &[700]), &mut sink).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Verification, "flip at {at}: {e}");
    }
    // Trailing bytes after the last frame.
    let mut long = ciphertext.clone();
    long.extend_from_slice(&ciphertext[..FRAME_HEADER_LEN]);
    let e = open_pieces(&sealed, [&long[..]], &mut MemorySink::default()).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
}

#[test]
fn a_directory_sink_writes_checked_files_and_removes_them_on_failure() {
    let files = files();
    let (sealed, ciphertext) = seal(&files, MIN_CHUNK_SIZE);
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DirSink::new(dir.path());
    open_pieces(&sealed, cut(&ciphertext, &[999]), &mut sink).unwrap();
    for (i, data) in files.iter().enumerate() {
        assert_eq!(
            &std::fs::read(dir.path().join(format!("file-{i}.pdf"))).unwrap(),
            data
        );
    }
    assert_eq!(sink.saved().len(), files.len());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        files.len(),
        "temp files left"
    );

    // The last attachment is altered: the earlier ones were written, and abort removes them.
    let dir = tempfile::tempdir().unwrap();
    let mut bad = ciphertext.clone();
    let n = bad.len();
    bad[n - 20] ^= 1;
    let mut sink = DirSink::new(dir.path());
    assert!(open_pieces(&sealed, [&bad[..]], &mut sink).is_err());
    assert!(!sink.saved().is_empty());
    sink.abort();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // An existing file is never overwritten.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file-2.pdf"), b"mine").unwrap();
    let mut sink = DirSink::new(dir.path());
    let e = open_pieces(&sealed, [&ciphertext[..]], &mut sink).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Io, "{e}");
    sink.abort();
    assert_eq!(
        std::fs::read(dir.path().join("file-2.pdf")).unwrap(),
        b"mine"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_directory_sink_refuses_names_that_are_not_plain_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = DirSink::new(dir.path());
    let attachment = |name: &str| {
        let mut d = AttachmentDigest::new();
        d.update(b"x");
        d.finish(name, "text/plain", "")
    };
    let e = sink.begin(0, &attachment("../evil.sh")).unwrap_err();
    assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn attachment_names_are_plain_file_names() {
    for ok in [
        "cong-van.pdf",
        "Công văn số 7816.docx",
        "a.b.c",
        "x",
        "bảng (1).xlsx",
    ] {
        assert!(check_attachment_name(ok).is_ok(), "{ok}");
    }
    let long = "a".repeat(256);
    for bad in [
        "",
        ".",
        "..",
        "../x",
        "a/b",
        "/etc/passwd",
        "a\\b",
        "C:\\x",
        "x..y",
        ".hidden",
        "nul\0byte",
        "line\nbreak",
        long.as_str(),
    ] {
        let e = check_attachment_name(bad).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}
