//! Upload staging: a document larger than one segment is written to the database segment by
//! segment while it is received, under an upload id the committer adopts (`Ciphertext::Staged`).
//! An upload that is refused or aborted leaves nothing behind: dropping an unkept [`Upload`]
//! removes its segments, and the janitor removes what a crashed node left
//! (`Db::discard_stale_uploads`).

use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::commit::Ciphertext;
use crate::error::{Fault, Result, ServerError};
use crate::store::{Db, SEGMENT_LEN, random_blob_id};

/// Segments written ahead of the stream: while one is being stored, the next is received and
/// hashed (the upload uses two cores instead of one).
const WRITE_AHEAD: usize = 2;

/// Ciphertext being received: held in memory up to one segment, then written segment by segment
/// under an upload id by a writer task, so storing one segment overlaps receiving the next.
/// Dropping it before [`Upload::keep`] stops the writer and removes what was written (an aborted
/// or refused upload leaves nothing behind).
pub(crate) struct Upload {
    db: Db,
    buf: Vec<u8>,
    blob_id: Option<i64>,
    seq: i64,
    writer: Option<Writer>,
    kept: bool,
}

/// The task storing staged segments, and the channel feeding it.
struct Writer {
    tx: mpsc::Sender<(i64, Vec<u8>)>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Upload {
    /// An empty upload into `db`; nothing is written until more than one segment arrived.
    pub(crate) fn new(db: Db) -> Self {
        Upload {
            db,
            buf: Vec::new(),
            blob_id: None,
            seq: 0,
            writer: None,
            kept: false,
        }
    }

    /// Appends received ciphertext; each full segment beyond the first goes to the writer. The
    /// first chunk is kept as it came (a one-chunk document is never copied here).
    pub(crate) async fn push(&mut self, data: Vec<u8>) -> Result<()> {
        if self.buf.is_empty() {
            self.buf = data;
        } else {
            self.buf.extend_from_slice(&data);
        }
        // Up to one whole segment stays in memory until the stream ends, so a document of at
        // most one segment is written inline by the commit, with no staging.
        while self.buf.len() > SEGMENT_LEN {
            let rest = self.buf.split_off(SEGMENT_LEN);
            let segment = std::mem::replace(&mut self.buf, rest);
            self.send_segment(segment).await?;
        }
        Ok(())
    }

    async fn send_segment(&mut self, segment: Vec<u8>) -> Result<()> {
        if self.writer.is_none() {
            let id = random_blob_id()?;
            self.db.begin_upload(id, OffsetDateTime::now_utc()).await?;
            self.blob_id = Some(id);
            let (tx, mut rx) = mpsc::channel::<(i64, Vec<u8>)>(WRITE_AHEAD);
            let db = self.db.clone();
            let task = tokio::spawn(async move {
                while let Some((seq, data)) = rx.recv().await {
                    db.put_segment(id, seq, &data).await?;
                }
                Ok(())
            });
            self.writer = Some(Writer { tx, task });
        }
        let seq = self.seq;
        self.seq += 1;
        let sent = match &self.writer {
            Some(w) => w.tx.send((seq, segment)).await.is_ok(),
            None => false,
        };
        if !sent {
            // The writer stopped: its error says why.
            return Err(self
                .stop_writer()
                .await
                .err()
                .unwrap_or(ServerError::invariant(
                    "the segment writer stopped without an error",
                )));
        }
        Ok(())
    }

    /// Closes the writer's channel and waits for every segment to be stored.
    async fn stop_writer(&mut self) -> Result<()> {
        match self.writer.take() {
            Some(Writer { tx, task }) => {
                drop(tx);
                task.await.map_err(|source| Fault::Task {
                    task: "segment writer",
                    source,
                })?
            }
            None => Ok(()),
        }
    }

    /// The ciphertext for the committer: inline if it never left memory; otherwise every
    /// segment is stored before this returns.
    pub(crate) async fn finish(&mut self) -> Result<Ciphertext> {
        if self.writer.is_none() {
            return Ok(Ciphertext::Inline(std::mem::take(&mut self.buf)));
        }
        if !self.buf.is_empty() {
            let last = std::mem::take(&mut self.buf);
            self.send_segment(last).await?;
        }
        self.stop_writer().await?;
        match self.blob_id {
            Some(blob_id) => Ok(Ciphertext::Staged { blob_id }),
            None => Err(ServerError::invariant("a staged upload without an id")),
        }
    }

    /// Removes what was staged, waiting for it (the refusal path: nothing is left when the
    /// caller hears "refused"). Dropped half-way, the drop's background clean-up takes over.
    pub(crate) async fn discard(mut self) {
        if let Some(Writer { tx, task }) = self.writer.take() {
            drop(tx);
            let _ = task.await;
        }
        if let Some(blob_id) = self.blob_id
            && let Err(e) = self.db.discard_upload(blob_id).await
        {
            tracing::warn!(error = %e, blob_id, "could not remove a refused upload; the janitor will");
            return;
        }
        self.kept = true;
    }

    /// The upload was committed: keep it.
    pub(crate) fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let (false, Some(blob_id)) = (self.kept, self.blob_id) {
            let db = self.db.clone();
            let writer = self.writer.take();
            tokio::spawn(async move {
                // Let the writer finish first (at most `WRITE_AHEAD` segments are queued): an
                // aborted insert may still land in the database after the removal.
                if let Some(Writer { tx, task }) = writer {
                    drop(tx);
                    let _ = task.await;
                }
                if let Err(e) = db.discard_upload(blob_id).await {
                    tracing::warn!(error = %e, blob_id, "could not remove an abandoned upload; the janitor will");
                }
            });
        }
    }
}
