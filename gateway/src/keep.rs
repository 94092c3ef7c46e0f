//! A received document on disk: its attachments written while it is opened, then made durable
//! all at once, off the async runtime.
//!
//! Opening runs on the runtime's few worker threads: a file synced there (`fsync`, several
//! milliseconds, far more when the disk is busy) stops every other task of the gateway — the
//! inbox, the DMS's calls, the store's writer. So the SDK's [`DirSink::unsynced`] only writes
//! (buffered, into the page cache) and remembers each file; [`make_durable`] then syncs them
//! all, the document's directory, the edXML package and the directory that holds them, on a
//! blocking thread, where
//! the syncs of documents kept at once are merged by the file system's journal. The store's row
//! is committed only after it returns: a document in the mailbox is on disk.

use std::io::Write as _;
use std::path::Path;

#[cfg(doc)]
use axis_client::DirSink;
use axis_client::OpenedDocument;

use crate::service::sync_dir;

/// Makes a received document durable and puts it in place (a blocking call): syncs the
/// attachment files written into `partial` (`opened`'s files) and `partial` itself, writes and syncs the edXML
/// `package`, renames `partial` to `final_dir`, and syncs their directory `dir`. A crash at any
/// point leaves either nothing the store knows of (redone at the next start) or all of it.
pub fn make_durable(
    partial: &Path,
    final_dir: &Path,
    package: &Path,
    dir: &Path,
    opened: &OpenedDocument,
) -> std::io::Result<()> {
    for f in opened.files() {
        std::fs::File::open(f)?.sync_all()?;
    }
    sync_dir(partial)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempfile_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(temp.as_file_mut());
        opened
            .write_edxml(&mut w)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        w.flush()?;
    }
    temp.as_file().sync_all()?;
    temp.persist(package).map_err(|e| e.error)?;
    std::fs::rename(partial, final_dir)?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use axis_client::signer::Attachment;
    use axis_client::{AttachmentSink as _, DirSink};

    fn attachment(name: &str) -> Attachment {
        Attachment {
            name: name.into(),
            content_type: "application/pdf".into(),
            size: 3,
            sha256: [0; 32],
            description: String::new(),
        }
    }

    #[test]
    fn a_document_opened_into_an_unsynced_sink_has_its_files_and_an_aborted_one_none() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("doc");
        let mut sink = DirSink::unsynced(&dir).unwrap();
        sink.begin(0, &attachment("a.pdf")).unwrap();
        sink.write(0, b"abc").unwrap();
        sink.end(0).unwrap();
        assert_eq!(std::fs::read(dir.join("a.pdf")).unwrap(), b"abc");
        // An unsafe name is refused before anything is written.
        assert!(sink.begin(1, &attachment("../b.pdf")).is_err());
        assert!(!d.path().join("b.pdf").exists());
        sink.begin(1, &attachment("b.pdf")).unwrap();
        sink.write(1, b"de").unwrap();
        sink.abort();
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
