//! Opening a delivery: verify the submission, unwrap the content key, stream the ciphertext,
//! cut it into frames, decrypt and check each, and hand attachment bytes to a sink.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axis_pki::AgencyId;
use axis_proto::v1 as pb;
use axis_signer::limits::FRAME_HEADER_LEN;
use axis_signer::{
    Attachment, DocumentId, DocumentReport, Manifest, MessageId, Opened, Opener, ReceivedDocument,
    RecipientKey, Submission,
};
use time::OffsetDateTime;

use crate::client::Client;
use crate::convert::{is_transient, status_error};
use crate::error::{Error, ErrorKind, Result};
use crate::inbox::Delivery;
use crate::nodes::{self, Attempts, Failure};

/// Largest document [`Client::open_in_memory`] accepts (ciphertext bytes).
pub const MAX_IN_MEMORY: u64 = 64 * 1024 * 1024;
/// Longest attachment name written to disk (bytes; common file systems allow 255).
const MAX_FILE_NAME: usize = 255;

/// Where the attachments of a document go while it is opened.
///
/// Calls come in order: for each attachment, `begin`, `write` any number of times, `end`. The
/// bytes passed to `write` are authenticated as coming from the sender's key holder but the
/// attachment is checked against the signed manifest (size and SHA-256) only when `end` is
/// called: keep the data provisional until then. On any failure `abort` is called: discard
/// everything written for this document. Calls run on the async task that opens the document;
/// keep them short (buffered writes are fine). A sink is `Send`, so that opening can run on
/// any task of a multi-threaded runtime (`tokio::spawn`).
pub trait AttachmentSink: Send {
    /// Attachment `index` starts; `attachment` is its entry in the verified manifest.
    fn begin(&mut self, index: usize, attachment: &Attachment) -> Result<()>;
    /// The next bytes of attachment `index`.
    fn write(&mut self, index: usize, data: &[u8]) -> Result<()>;
    /// Attachment `index` is complete and matches the signed manifest.
    fn end(&mut self, index: usize) -> Result<()>;
    /// Opening failed: discard what was written.
    fn abort(&mut self) {}
}

/// Keeps attachments in memory (small documents, tests).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The attachments' bytes, in manifest order.
    pub files: Vec<Vec<u8>>,
}

impl AttachmentSink for MemorySink {
    fn begin(&mut self, index: usize, _: &Attachment) -> Result<()> {
        if self.files.len() <= index {
            self.files.resize_with(index + 1, Vec::new);
        }
        Ok(())
    }

    fn write(&mut self, index: usize, data: &[u8]) -> Result<()> {
        if let Some(f) = self.files.get_mut(index) {
            f.extend_from_slice(data);
        }
        Ok(())
    }

    fn end(&mut self, _: usize) -> Result<()> {
        Ok(())
    }

    fn abort(&mut self) {
        self.files.clear();
    }
}

/// Writes each attachment to a file of its manifest name in a directory: first to a temporary
/// name, renamed (never over an existing file) only once its digest has been checked; on failure
/// everything written is removed. Names that are not a plain file name are refused
/// ([`check_attachment_name`]).
///
/// [`DirSink::new`] syncs each file before it is renamed. [`DirSink::unsynced`] leaves the
/// syncing to the caller, who gets the files from [`DirSink::into_saved`] — for a caller on an
/// async runtime that syncs a whole document at once on a blocking thread (the gateway).
#[derive(Debug)]
pub struct DirSink {
    dir: PathBuf,
    sync: bool,
    current: Option<(std::io::BufWriter<tempfile::NamedTempFile>, PathBuf)>,
    saved: Vec<PathBuf>,
}

/// How much of an attachment is kept in memory before it is written to its file.
const WRITE_BUFFER: usize = 64 * 1024;

impl DirSink {
    /// Writes into `dir`, which must exist; each file is synced before it is renamed.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirSink {
            dir: dir.into(),
            sync: true,
            current: None,
            saved: Vec::new(),
        }
    }

    /// Writes into `dir`, created if missing; nothing is synced (the caller syncs the files
    /// [`DirSink::into_saved`] returns, and the directory).
    pub fn unsynced(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(DirSink {
            sync: false,
            ..DirSink::new(dir)
        })
    }

    /// The files written so far (complete and checked).
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }

    /// The files written (complete and checked).
    pub fn into_saved(self) -> Vec<PathBuf> {
        self.saved
    }
}

impl AttachmentSink for DirSink {
    fn begin(&mut self, _: usize, attachment: &Attachment) -> Result<()> {
        check_attachment_name(&attachment.name).map_err(|e| {
            Error::verification(format!(
                "the sender named an attachment unsafely ({}); nothing was written",
                e.message()
            ))
        })?;
        let target = self.dir.join(&attachment.name);
        if target.symlink_metadata().is_ok() {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "{} already exists; remove it or open into another directory",
                    target.display()
                ),
            ));
        }
        let temp = tempfile::Builder::new()
            .prefix(".axis-partial-")
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(format!("creating a file in {}", self.dir.display()), e))?;
        self.current = Some((
            std::io::BufWriter::with_capacity(WRITE_BUFFER, temp),
            target,
        ));
        Ok(())
    }

    fn write(&mut self, _: usize, data: &[u8]) -> Result<()> {
        if let Some((w, target)) = &mut self.current {
            w.write_all(data)
                .map_err(|e| Error::io(format!("writing {}", target.display()), e))?;
        }
        Ok(())
    }

    fn end(&mut self, _: usize) -> Result<()> {
        let Some((w, target)) = self.current.take() else {
            return Ok(());
        };
        let temp = w
            .into_inner()
            .map_err(|e| Error::io(format!("writing {}", target.display()), e.into_error()))?;
        if self.sync {
            temp.as_file()
                .sync_all()
                .map_err(|e| Error::io(format!("writing {}", target.display()), e))?;
        }
        temp.persist_noclobber(&target).map_err(|e| {
            Error::io(
                format!("saving {} (remove it if it exists)", target.display()),
                e.error,
            )
        })?;
        self.saved.push(target);
        Ok(())
    }

    fn abort(&mut self) {
        // Dropping the temporary file removes it.
        self.current = None;
        for path in self.saved.drain(..) {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "could not remove a partly opened document's file");
            }
        }
    }
}

/// Checks that an attachment name is a plain file name, safe to create in a directory: not
/// empty, at most 255 bytes, no `/`, `\`, `..`, NUL or other control character, and no leading
/// `.` (no hidden files, no `.` or `..`).
pub fn check_attachment_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(format!("attachment name {name:?}: {why}")));
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > MAX_FILE_NAME {
        return bad("longer than 255 bytes");
    }
    if name.contains(['/', '\\']) {
        return bad("contains a path separator");
    }
    if name.contains("..") {
        return bad("contains \"..\"");
    }
    if name.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    if name.starts_with('.') {
        return bad("starts with a dot");
    }
    Ok(())
}

/// Cuts a byte stream, arriving in pieces of any size, into whole frames: first the
/// [`FRAME_HEADER_LEN`] clear bytes, whose length field (checked by `frame_len`) says how much
/// more to read, then exactly one frame. The buffer holds at most one frame.
#[derive(Debug, Default)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    /// Length of the frame being read, once its header is in.
    want: Option<usize>,
    /// The buffer holds a complete frame handed out by the last call.
    done: bool,
}

impl FrameReader {
    /// Takes bytes from `data` until a frame is complete and returns it, or returns `None` when
    /// `data` is used up first. Call again with the rest of `data` after handling the frame.
    pub(crate) fn next_frame<E>(
        &mut self,
        data: &mut &[u8],
        frame_len: impl FnOnce(&[u8]) -> Result<usize, E>,
    ) -> Result<Option<&mut [u8]>, E> {
        if self.done {
            self.buf.clear();
            self.want = None;
            self.done = false;
        }
        let mut frame_len = Some(frame_len);
        loop {
            let target = self.want.unwrap_or(FRAME_HEADER_LEN);
            let take = (target - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            *data = &data[take..];
            if self.buf.len() < target {
                return Ok(None);
            }
            match (self.want, frame_len.take()) {
                (None, Some(f)) => {
                    let n = f(&self.buf)?;
                    self.want = Some(n.max(FRAME_HEADER_LEN));
                    self.buf.reserve_exact(n.saturating_sub(self.buf.len()));
                }
                _ => {
                    self.done = true;
                    return Ok(Some(&mut self.buf));
                }
            }
        }
    }

    /// Whether a frame was left incomplete.
    pub(crate) fn is_partial(&self) -> bool {
        !self.done && !self.buf.is_empty()
    }
}

/// A document opened and fully verified: the submission, both signatures, every chunk and every
/// attachment digest. Acknowledge it with [`Client::acknowledge`].
#[derive(Clone, Debug)]
pub struct OpenedDocument {
    received: ReceivedDocument,
    accepted_at: OffsetDateTime,
    saved: Vec<PathBuf>,
    /// The edXML part (the manifest's first attachment), checked against the manifest.
    pub(crate) edxml_part: Option<Vec<u8>>,
}

impl OpenedDocument {
    /// The verified document, as the signer crate gives it (for receipts and archiving).
    pub fn received(&self) -> &ReceivedDocument {
        &self.received
    }

    /// The message id.
    pub fn message_id(&self) -> MessageId {
        self.received.submission().header().message_id
    }

    /// The sending agency.
    pub fn sender(&self) -> &AgencyId {
        &self.received.submission().header().sender
    }

    /// The DocumentId.
    pub fn document_id(&self) -> &DocumentId {
        self.received.document().manifest().document_id()
    }

    /// The manifest: edXML metadata and the attachment list.
    pub fn manifest(&self) -> &Manifest {
        self.received.document().manifest().manifest()
    }

    /// Who signed (person, then seal), when, and their certificates' status.
    pub fn report(&self) -> &DocumentReport {
        self.received.document().report()
    }

    /// When the axis accepted the document (as the delivery said).
    pub fn accepted_at(&self) -> OffsetDateTime {
        self.accepted_at
    }

    /// The files written by [`Client::open_to_dir`] (empty for other sinks unless given with
    /// [`OpenedDocument::with_files`]).
    pub fn files(&self) -> &[PathBuf] {
        &self.saved
    }

    /// The files a sink of the caller's wrote the attachments to, in manifest order (what
    /// [`Client::open_to_dir`] records itself), for [`OpenedDocument::write_edxml`], which
    /// checks each one against the signed manifest as it reads it back.
    pub fn with_files(mut self, files: Vec<PathBuf>) -> Self {
        self.saved = files;
        self
    }
}

impl Client {
    /// Opens a delivery into a sink.
    ///
    /// 1. The routing header and submission signature verify with the trust store: the sender's
    ///    agency seal, bound to the sender the header names; the header's message id and sender
    ///    are the delivery's.
    /// 2. The content key is unwrapped with this agency's decryption key (its certificate
    ///    verified), after checking the key envelope against the signed header.
    /// 3. `Fetch` streams the ciphertext; it is cut into frames (one frame in memory at a time)
    ///    and each is decrypted and checked in order. The manifest and both signatures are
    ///    verified before any attachment byte reaches the sink; each attachment's size and
    ///    SHA-256 are checked at its end. A broken stream resumes at the bytes received.
    /// 4. The stream is complete (length as signed); on any failure the sink is told to discard
    ///    what it wrote.
    /// 5. A document sent as edXML carries its package as the first attachment (the edXML
    ///    part): it must say exactly what the signed manifest says ([`crate::edxml`]).
    pub async fn open(
        &self,
        delivery: &Delivery,
        sink: &mut dyn AttachmentSink,
    ) -> Result<OpenedDocument> {
        let mut capture = crate::edxml::PartCapture::new(sink);
        let opened = self
            .open_inner(delivery, &mut capture)
            .await
            .and_then(|received| {
                // Step 5.
                let opened = OpenedDocument {
                    received,
                    accepted_at: delivery.accepted_at,
                    saved: Vec::new(),
                    edxml_part: capture.take_part(),
                };
                crate::edxml::check_part(&opened)?;
                Ok(opened)
            });
        if opened.is_err() {
            capture.abort();
        }
        opened
    }

    /// Opens a delivery and writes each attachment to a file in `dir` (created if missing); see
    /// [`DirSink`]. On failure nothing is left behind.
    pub async fn open_to_dir(
        &self,
        delivery: &Delivery,
        dir: impl AsRef<Path>,
    ) -> Result<OpenedDocument> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let mut sink = DirSink::new(dir);
        let mut opened = self.open(delivery, &mut sink).await?;
        opened.saved = sink.saved;
        Ok(opened)
    }

    /// Opens a small delivery (at most [`MAX_IN_MEMORY`] bytes) into memory; returns the
    /// attachments' bytes in manifest order.
    pub async fn open_in_memory(
        &self,
        delivery: &Delivery,
    ) -> Result<(OpenedDocument, Vec<Vec<u8>>)> {
        if delivery.size > MAX_IN_MEMORY {
            return Err(Error::invalid(format!(
                "the document is {} bytes; open documents over {MAX_IN_MEMORY} bytes into a \
                 directory or a sink",
                delivery.size
            )));
        }
        let mut sink = MemorySink::default();
        let opened = self.open(delivery, &mut sink).await?;
        let n = opened.manifest().attachments.len();
        sink.files.resize_with(n, Vec::new);
        Ok((opened, sink.files))
    }

    async fn open_inner(
        &self,
        delivery: &Delivery,
        sink: &mut dyn AttachmentSink,
    ) -> Result<ReceivedDocument> {
        let store = self.trust_store().await?;
        let now = OffsetDateTime::now_utc();
        let enc = self.encryption_at(&store, now)?.ok_or_else(|| {
            Error::config(
                "opening needs the agency's decryption key: add an [encryption] cert and key \
                 to the configuration",
            )
        })?;
        let id = delivery.message_id;
        // Step 1.
        let submission = Submission::parse(
            &delivery.routing_header,
            delivery.submission_signature.clone(),
        )
        .and_then(|s| s.verify(&store, now))
        .map_err(|e| Error::signer(&format!("the submission of {id}"), e))?;
        let h = submission.header();
        if h.message_id != id || h.sender != delivery.sender {
            return Err(Error::verification(format!(
                "the delivery of {id} from {} carries the routing header of {} from {}",
                delivery.sender, h.message_id, h.sender
            )));
        }
        // Step 2.
        let key = RecipientKey::new(enc.key.key().decrypter(), &enc.cert)
            .map_err(|e| Error::config(format!("[encryption] key: {e}")).with_source(e))?;
        let mut opener = Opener::new(&submission, &delivery.key_envelope_entry, &key, &store, now)
            .map_err(|e| Error::signer(&format!("the key envelope of {id}"), e))?;
        // Step 3.
        let total = h.ciphertext_len;
        let mut reader = FrameReader::default();
        let mut state = SinkState::default();
        let mut received: u64 = 0;
        let nodes = self.nodes();
        let call = format!("fetch {id}");
        let mut attempts = Attempts::new(nodes.len());
        'fetch: loop {
            let request = pb::FetchRequest {
                message_id: id.to_string(),
                offset: received,
            };
            let (index, failure) = match nodes.conn().await {
                Err((index, failure)) => {
                    nodes.failed(index, None, &call, &failure);
                    (index, failure)
                }
                Ok(conn) => {
                    let started = tokio::time::timeout(
                        nodes.timeouts.call,
                        nodes::exchange(conn.channel.clone()).fetch(request),
                    )
                    .await;
                    let failure = match started {
                        Ok(Ok(response)) => {
                            let mut stream = response.into_inner();
                            let idle = nodes.timeouts.stream_idle;
                            loop {
                                match tokio::time::timeout(idle, stream.message()).await {
                                    Ok(Ok(Some(m))) => {
                                        attempts = Attempts::new(nodes.len());
                                        received += m.chunk.len() as u64;
                                        if received > total {
                                            return Err(Error::verification(format!(
                                                "the axis sent more than the {total} bytes the \
                                                 sender signed for {id}"
                                            )));
                                        }
                                        feed(&mut reader, &mut opener, &mut state, sink, &m.chunk)?;
                                    }
                                    Ok(Ok(None)) if received == total => break 'fetch,
                                    Ok(Ok(None)) => {
                                        break Failure::Status(tonic::Status::unavailable(
                                            format!(
                                                "the axis ended the stream at byte {received} of \
                                             {total}"
                                            ),
                                        ));
                                    }
                                    Ok(Err(s)) if is_transient(&s) => break Failure::Status(s),
                                    Ok(Err(s)) => return Err(status_error(&call, &s)),
                                    Err(_) => {
                                        break Failure::Deadline {
                                            what: "the download went silent",
                                            after: idle,
                                        };
                                    }
                                }
                            }
                        }
                        Ok(Err(s)) if is_transient(&s) => Failure::Status(s),
                        Ok(Err(s)) => return Err(status_error(&call, &s)),
                        Err(_) => Failure::Deadline {
                            what: "starting the download",
                            after: nodes.timeouts.call,
                        },
                    };
                    nodes.conn_failed(&conn, &call, &failure);
                    (conn.index, failure)
                }
            };
            match attempts.failed() {
                Some(pause) => {
                    tracing::info!(%id, received, %failure, "fetch interrupted; resuming");
                    tokio::time::sleep(pause).await;
                }
                None => {
                    return Err(failure.into_error(&call, nodes.url(index), attempts.tried()));
                }
            }
        }
        // Step 4.
        if reader.is_partial() {
            return Err(Error::verification(format!(
                "the ciphertext of {id} ends inside a frame"
            )));
        }
        opener
            .finish()
            .map_err(|e| Error::signer(&format!("document {id}"), e))
    }
}

/// Which attachment the sink is in.
#[derive(Default)]
struct SinkState {
    current: Option<usize>,
}

/// Feeds fetched bytes through the frame reader, the opener and into the sink.
fn feed(
    reader: &mut FrameReader,
    opener: &mut Opener<'_>,
    state: &mut SinkState,
    sink: &mut dyn AttachmentSink,
    mut data: &[u8],
) -> Result<()> {
    let verify = |e| Error::signer("the document", e);
    while let Some(frame) = reader
        .next_frame(&mut data, |h| opener.frame_len(h))
        .map_err(verify)?
    {
        // Head frames (manifest, signatures) are kept by the opener.
        if let Opened::Attachment {
            index,
            data: bytes,
            last,
        } = opener.open_frame(frame).map_err(verify)?
        {
            if state.current != Some(index) {
                let attachment = opener
                    .document()
                    .and_then(|d| d.manifest().manifest().attachments.get(index))
                    .ok_or_else(|| Error::verification("an attachment outside the manifest"))?;
                sink.begin(index, attachment)?;
                state.current = Some(index);
            }
            sink.write(index, bytes)?;
            if last {
                sink.end(index)?;
                state.current = None;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
