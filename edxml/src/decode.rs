//! Attachment data, decoded as it streams: base64 (whitespace skipped) → optionally the first
//! entry of a zip archive, inflated with size and ratio budgets → size, SHA-256 and the
//! caller's sink. Memory is a few 64 KiB buffers whatever the attachment's size.

use std::io::Write;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use flate2::{Decompress, FlushDecompress, Status};

use crate::error::{Error, Limit, Problem, ZipProblem};
use crate::model::Attachment;

/// Where the bytes of each attachment go while a package is parsed.
///
/// Attachments are delivered in document order, each as `start`, any number of `write`s and
/// `end` (with its size and SHA-256 filled in). The header has been read and checked in full
/// before the first `start`; an error while decoding data (bad base64, zip bomb…) can still
/// come after some bytes were written: discard what the sink received when `parse` fails.
pub trait AttachmentSink {
    /// The next attachment begins.
    fn start(&mut self, index: usize, attachment: &Attachment) -> std::io::Result<()> {
        let _ = (index, attachment);
        Ok(())
    }
    /// Decoded (and unzipped) bytes of the current attachment.
    fn write(&mut self, index: usize, data: &[u8]) -> std::io::Result<()>;
    /// The attachment is complete; `attachment.size` and `attachment.sha256` are set.
    fn end(&mut self, index: usize, attachment: &Attachment) -> std::io::Result<()> {
        let _ = (index, attachment);
        Ok(())
    }
}

/// A sink that keeps nothing: parse to check a package and learn sizes and digests.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl AttachmentSink for Discard {
    fn write(&mut self, _: usize, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink that keeps every attachment in memory (one decoded copy each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collect(pub Vec<Vec<u8>>);

impl AttachmentSink for Collect {
    fn start(&mut self, _: usize, _: &Attachment) -> std::io::Result<()> {
        self.0.push(Vec::new());
        Ok(())
    }
    fn write(&mut self, _: usize, data: &[u8]) -> std::io::Result<()> {
        if let Some(last) = self.0.last_mut() {
            last.extend_from_slice(data);
        }
        Ok(())
    }
}

const CHUNK: usize = 64 * 1024;

/// Base64 as real producers write it: standard alphabet, padding expected but not required.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A step of the decoding pipeline.
pub(crate) trait Stage {
    fn push(&mut self, data: &[u8]) -> Result<(), Error>;
    fn finish(&mut self) -> Result<(), Error>;
}

/// The last step: counts, hashes and hands bytes to the sink.
pub(crate) struct Output<'s> {
    pub(crate) sink: &'s mut dyn AttachmentSink,
    pub(crate) index: usize,
    pub(crate) path: &'s str,
    pub(crate) digest: ring::digest::Context,
    pub(crate) size: u64,
    pub(crate) max_size: u64,
    /// Decoded bytes of earlier attachments.
    pub(crate) before: u64,
    pub(crate) max_total: u64,
}

impl Stage for Output<'_> {
    fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        self.size += data.len() as u64;
        if self.size > self.max_size {
            return Err(Error::Limit {
                limit: Limit::AttachmentSize,
                element: self.path.to_owned(),
                found: self.size,
                max: self.max_size,
            });
        }
        if self.before.saturating_add(self.size) > self.max_total {
            return Err(Error::Limit {
                limit: Limit::TotalAttachmentSize,
                element: self.path.to_owned(),
                found: self.before.saturating_add(self.size),
                max: self.max_total,
            });
        }
        self.digest.update(data);
        self.sink
            .write(self.index, data)
            .map_err(|source| Error::Io {
                index: self.index,
                source,
            })
    }
    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Decodes base64 text spread over `segments` into `out`.
pub(crate) fn decode_base64(
    segments: &[&[u8]],
    out: &mut dyn Stage,
    path: &str,
) -> Result<(), Error> {
    let mut staged = vec![0u8; CHUNK];
    let mut n = 0usize;
    let mut decoded = vec![0u8; CHUNK / 4 * 3 + 3];
    let mut offset = 0u64; // base64 characters consumed before `staged`
    let mut padded = false;
    let bad = |offset: u64| Error::malformed(path, Problem::NotBase64 { offset });
    let mut flush = |staged: &[u8], offset: u64, out: &mut dyn Stage| -> Result<(), Error> {
        let len = BASE64
            .decode_slice_unchecked(staged, &mut decoded)
            .map_err(|e| match e {
                base64::DecodeError::InvalidByte(i, _)
                | base64::DecodeError::InvalidLastSymbol(i, _) => bad(offset + i as u64),
                base64::DecodeError::InvalidLength(i) => bad(offset + i as u64),
                base64::DecodeError::InvalidPadding => bad(offset + staged.len() as u64),
            })?;
        out.push(&decoded[..len])
    };
    for seg in segments {
        let mut rest: &[u8] = seg;
        while !rest.is_empty() {
            let run = rest.iter().position(|&b| is_ws(b)).unwrap_or(rest.len());
            let (mut take, tail) = rest.split_at(run);
            while !take.is_empty() {
                if padded {
                    // Padding closed the data at a chunk boundary; nothing may follow.
                    return Err(bad(offset));
                }
                let k = (CHUNK - n).min(take.len());
                staged[n..n + k].copy_from_slice(&take[..k]);
                n += k;
                take = &take[k..];
                if n == CHUNK {
                    // CHUNK is a multiple of 4, so chunks split between groups; a chunk
                    // ending in padding must be the last.
                    flush(&staged, offset, out)?;
                    padded = staged[CHUNK - 1] == b'=';
                    offset += n as u64;
                    n = 0;
                }
            }
            let ws = tail.iter().position(|&b| !is_ws(b)).unwrap_or(tail.len());
            rest = &tail[ws..];
        }
    }
    if n > 0 {
        flush(&staged[..n], offset, out)?;
    }
    out.finish()
}

/// The first entry of a zip archive, inflated as its bytes arrive.
pub(crate) struct Unzip<'o, 's> {
    next: &'o mut Output<'s>,
    state: ZipState,
    buf: Vec<u8>,
    /// Header fields.
    flags: u16,
    method: u16,
    crc_header: u32,
    stored_left: u64,
    skip: usize,
    inflate: Decompress,
    out: Vec<u8>,
    crc: crc32fast::Hasher,
    compressed: u64,
    inflated: u64,
    max_size: u64,
    max_ratio: u64,
    ratio_floor: u64,
    crc_found: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ZipState {
    Header,
    Skip,
    Data,
    Descriptor,
    Done,
}

impl<'o, 's> Unzip<'o, 's> {
    pub(crate) fn new(next: &'o mut Output<'s>, max_ratio: u64, ratio_floor: u64) -> Self {
        let max_size = next.max_size;
        Unzip {
            next,
            state: ZipState::Header,
            buf: Vec::with_capacity(30),
            flags: 0,
            method: 0,
            crc_header: 0,
            stored_left: 0,
            skip: 0,
            inflate: Decompress::new(false),
            out: vec![0u8; CHUNK],
            crc: crc32fast::Hasher::new(),
            compressed: 0,
            inflated: 0,
            max_size,
            max_ratio,
            ratio_floor,
            crc_found: None,
        }
    }

    fn zip_err(&self, p: ZipProblem) -> Error {
        Error::malformed(self.next.path, Problem::Zip(p))
    }

    fn emit(&mut self, len: usize) -> Result<(), Error> {
        self.inflated += len as u64;
        if self.inflated > self.max_size {
            return Err(Error::ZipBomb {
                element: self.next.path.to_owned(),
                limit: Limit::AttachmentSize,
                max: self.max_size,
            });
        }
        if self.inflated > self.ratio_floor
            && self.inflated > self.compressed.max(1).saturating_mul(self.max_ratio)
        {
            return Err(Error::ZipBomb {
                element: self.next.path.to_owned(),
                limit: Limit::ZipRatio,
                max: self.compressed.max(1).saturating_mul(self.max_ratio),
            });
        }
        self.crc.update(&self.out[..len]);
        self.next.push(&self.out[..len])
    }

    fn header(&mut self) -> Result<(), Error> {
        let b = &self.buf;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if u32_at(0) != 0x0403_4b50 {
            return Err(self.zip_err(ZipProblem::NotZip));
        }
        self.flags = u16_at(6);
        self.method = u16_at(8);
        self.crc_header = u32_at(14);
        let csize = u32_at(18);
        self.skip = usize::from(u16_at(26)) + usize::from(u16_at(28));
        if self.flags & 1 != 0 {
            return Err(self.zip_err(ZipProblem::Encrypted));
        }
        match self.method {
            8 => {}
            0 => {
                if self.flags & 8 != 0 || csize == u32::MAX {
                    return Err(self.zip_err(ZipProblem::StoredWithoutSize));
                }
                self.stored_left = u64::from(csize);
            }
            m => return Err(self.zip_err(ZipProblem::Method(m))),
        }
        self.state = ZipState::Skip;
        Ok(())
    }
}

impl Stage for Unzip<'_, '_> {
    fn push(&mut self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            match self.state {
                ZipState::Header => {
                    let k = (30 - self.buf.len()).min(data.len());
                    self.buf.extend_from_slice(&data[..k]);
                    data = &data[k..];
                    if self.buf.len() == 30 {
                        self.header()?;
                        self.buf.clear();
                    }
                }
                ZipState::Skip => {
                    let k = self.skip.min(data.len());
                    self.skip -= k;
                    data = &data[k..];
                    if self.skip == 0 {
                        self.state = ZipState::Data;
                    }
                }
                ZipState::Data if self.method == 0 => {
                    let k = usize::try_from(self.stored_left)
                        .unwrap_or(usize::MAX)
                        .min(data.len())
                        .min(CHUNK);
                    self.out[..k].copy_from_slice(&data[..k]);
                    self.compressed += k as u64;
                    self.stored_left -= k as u64;
                    data = &data[k..];
                    self.emit(k)?;
                    if self.stored_left == 0 {
                        self.crc_found = Some(self.crc_header);
                        self.state = ZipState::Done;
                    }
                }
                ZipState::Data => {
                    let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
                    let status = self
                        .inflate
                        .decompress(data, &mut self.out, FlushDecompress::None)
                        .map_err(|_| self.zip_err(ZipProblem::Corrupt))?;
                    let used = (self.inflate.total_in() - in0) as usize;
                    let made = (self.inflate.total_out() - out0) as usize;
                    self.compressed += used as u64;
                    data = &data[used..];
                    self.emit(made)?;
                    if status == Status::StreamEnd {
                        if self.flags & 8 != 0 {
                            self.state = ZipState::Descriptor;
                        } else {
                            self.crc_found = Some(self.crc_header);
                            self.state = ZipState::Done;
                        }
                    } else if used == 0 && made == 0 {
                        return Err(self.zip_err(ZipProblem::Corrupt));
                    }
                }
                ZipState::Descriptor => {
                    let k = (8 - self.buf.len()).min(data.len());
                    self.buf.extend_from_slice(&data[..k]);
                    data = &data[k..];
                    if self.buf.len() == 8 {
                        let b = &self.buf;
                        let first = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                        let second = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                        // The descriptor's signature is optional (APPNOTE 4.3.9.3).
                        self.crc_found = Some(if first == 0x0807_4b50 { second } else { first });
                        self.state = ZipState::Done;
                    }
                }
                ZipState::Done => {
                    // Later entries and the central directory: VNPT's reader takes the first
                    // entry only, and so do we.
                    data = &[];
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Error> {
        if self.state != ZipState::Done {
            return Err(self.zip_err(ZipProblem::Truncated));
        }
        let crc = std::mem::take(&mut self.crc).finalize();
        if self.crc_found != Some(crc) {
            return Err(self.zip_err(ZipProblem::Crc));
        }
        self.next.finish()
    }
}

/// Writes one file as a single-entry zip archive (deflate, data descriptor, fixed 1980-01-01
/// time: the same bytes in give the same archive out).
pub(crate) struct ZipWriter<W: Write> {
    header_len: u64,
    name: Vec<u8>,
    deflate: flate2::write::DeflateEncoder<Counting<W>>,
    crc: crc32fast::Hasher,
    size: u64,
}

/// Counts what goes through.
pub(crate) struct Counting<W> {
    inner: Option<W>,
    count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = match &mut self.inner {
            Some(w) => w.write(buf)?,
            None => buf.len(),
        };
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.inner {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

const DOS_DATE_1980: u16 = (1 << 5) | 1; // 1980-01-01
const ZIP_FLAGS: u16 = 8 | (1 << 11); // data descriptor; UTF-8 name

impl<W: Write> ZipWriter<W> {
    pub(crate) fn new(mut inner: W, name: &str) -> std::io::Result<ZipWriter<W>> {
        let name = name.as_bytes().to_vec();
        let mut h = Vec::with_capacity(30 + name.len());
        h.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        h.extend_from_slice(&20u16.to_le_bytes()); // version needed
        h.extend_from_slice(&ZIP_FLAGS.to_le_bytes());
        h.extend_from_slice(&8u16.to_le_bytes()); // deflate
        h.extend_from_slice(&0u16.to_le_bytes()); // time
        h.extend_from_slice(&DOS_DATE_1980.to_le_bytes());
        h.extend_from_slice(&[0u8; 12]); // crc, sizes: in the descriptor
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&name);
        inner.write_all(&h)?;
        // The deflate stream goes to the same writer; `Counting` borrows nothing, so the
        // inner writer moves in and out of it.
        let counting = Counting {
            inner: Some(inner),
            count: 0,
        };
        Ok(ZipWriter {
            header_len: h.len() as u64,
            name,
            deflate: flate2::write::DeflateEncoder::new(counting, flate2::Compression::new(3)),
            crc: crc32fast::Hasher::new(),
            size: 0,
        })
    }

    /// Ends the entry and writes the descriptor, the central directory and its end record.
    pub(crate) fn finish(self) -> std::io::Result<W> {
        let ZipWriter {
            header_len,
            name,
            deflate,
            crc,
            size,
        } = self;
        let counting = deflate.finish()?;
        let compressed = counting.count;
        let mut inner = counting
            .inner
            .ok_or_else(|| std::io::Error::other("zip writer without output"))?;
        let crc = crc.finalize();
        let (csize, usize_) = (
            u32::try_from(compressed).map_err(|_| std::io::Error::other("zip entry over 4 GiB"))?,
            u32::try_from(size).map_err(|_| std::io::Error::other("zip entry over 4 GiB"))?,
        );
        let mut t = Vec::with_capacity(16 + 46 + name.len() + 22);
        t.extend_from_slice(&0x0807_4b50u32.to_le_bytes());
        t.extend_from_slice(&crc.to_le_bytes());
        t.extend_from_slice(&csize.to_le_bytes());
        t.extend_from_slice(&usize_.to_le_bytes());
        let cd_offset = header_len + compressed + 16;
        let cd_start = t.len();
        t.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        t.extend_from_slice(&20u16.to_le_bytes()); // made by
        t.extend_from_slice(&20u16.to_le_bytes()); // needed
        t.extend_from_slice(&ZIP_FLAGS.to_le_bytes());
        t.extend_from_slice(&8u16.to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        t.extend_from_slice(&DOS_DATE_1980.to_le_bytes());
        t.extend_from_slice(&crc.to_le_bytes());
        t.extend_from_slice(&csize.to_le_bytes());
        t.extend_from_slice(&usize_.to_le_bytes());
        t.extend_from_slice(&(name.len() as u16).to_le_bytes());
        // Extra and comment lengths, disk number, internal (2) and external (4) attributes.
        t.extend_from_slice(&[0u8; 12]);
        t.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        t.extend_from_slice(&name);
        let cd_len = (t.len() - cd_start) as u32;
        t.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        t.extend_from_slice(&[0u8; 4]); // disk numbers
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&cd_len.to_le_bytes());
        let cd_offset =
            u32::try_from(cd_offset).map_err(|_| std::io::Error::other("zip over 4 GiB"))?;
        t.extend_from_slice(&cd_offset.to_le_bytes());
        t.extend_from_slice(&0u16.to_le_bytes());
        inner.write_all(&t)?;
        Ok(inner)
    }
}

impl<W: Write> Write for ZipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.deflate.write(buf)?;
        self.crc.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output<'s>(sink: &'s mut Collect) -> Output<'s> {
        sink.0.push(Vec::new());
        Output {
            sink,
            index: 0,
            path: "test",
            digest: ring::digest::Context::new(&ring::digest::SHA256),
            size: 0,
            max_size: u64::MAX,
            before: 0,
            max_total: u64::MAX,
        }
    }

    fn zip(data: &[u8]) -> Vec<u8> {
        let mut w = ZipWriter::new(Vec::new(), "a.txt").unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn text(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| b"Bien ban hop "[i % 13] ^ (i / 97) as u8)
            .collect()
    }

    /// The archive as APPNOTE 4.3 lays it out, read from its end as other readers do (Python's
    /// zipfile and Info-ZIP refused the central directory when its entry was two bytes long).
    #[test]
    fn the_central_directory_is_where_its_end_record_says() {
        let data = text(1000);
        let z = zip(&data);
        let u16_at = |i: usize| u16::from_le_bytes([z[i], z[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes([z[i], z[i + 1], z[i + 2], z[i + 3]]) as usize;
        let end = z.len() - 22;
        assert_eq!(u32_at(end), 0x0605_4b50);
        let (cd_len, cd_offset) = (u32_at(end + 12), u32_at(end + 16));
        assert_eq!(
            cd_offset + cd_len,
            end,
            "the directory ends where its end record begins"
        );
        assert_eq!(u32_at(cd_offset), 0x0201_4b50);
        let name_len = u16_at(cd_offset + 28);
        let (extra, comment) = (u16_at(cd_offset + 30), u16_at(cd_offset + 32));
        assert_eq!(
            46 + name_len + extra + comment,
            cd_len,
            "one entry, nothing else"
        );
        assert_eq!(&z[cd_offset + 46..cd_offset + 46 + name_len], b"a.txt");
        // The entry points at the local header, which names the same file.
        let local = u32_at(cd_offset + 42);
        assert_eq!(u32_at(local), 0x0403_4b50);
        assert_eq!(&z[local + 30..local + 30 + u16_at(local + 26)], b"a.txt");
        // Sizes and CRC agree with the data descriptor just before the directory.
        assert_eq!(u32_at(cd_offset - 16), 0x0807_4b50);
        assert_eq!(
            &z[cd_offset - 12..cd_offset],
            &z[cd_offset + 16..cd_offset + 28]
        );
        assert_eq!(u32_at(cd_offset + 24), data.len());
    }

    #[test]
    fn unzip_in_pieces_of_every_size() {
        let data = text(200_000);
        let archive = zip(&data);
        for piece in [1, 2, 7, 29, 30, 31, 4096, archive.len()] {
            let mut sink = Collect::default();
            let mut out = output(&mut sink);
            let mut unzip = Unzip::new(&mut out, 1000, 1 << 20);
            for chunk in archive.chunks(piece) {
                unzip.push(chunk).unwrap();
            }
            unzip.finish().unwrap();
            assert_eq!(sink.0[0], data, "pieces of {piece}");
        }
    }

    #[test]
    fn base64_across_chunks_and_line_breaks() {
        let data = text(3 * CHUNK + 1234);
        let encoded = BASE64.encode(&data);
        // One line; MIME lines of 76 with CRLF; and split over several text pieces at odd
        // places (as comments or CDATA sections would split it).
        let mime: String = encoded
            .as_bytes()
            .chunks(76)
            .map(|l| format!("{}\r\n", std::str::from_utf8(l).unwrap()))
            .collect();
        let (a, b) = mime.split_at(70_001);
        for segments in [
            vec![encoded.as_bytes()],
            vec![mime.as_bytes()],
            vec![a.as_bytes(), b.as_bytes()],
        ] {
            let mut sink = Collect::default();
            let mut out = output(&mut sink);
            decode_base64(&segments, &mut out, "test").unwrap();
            assert_eq!(out.size, data.len() as u64);
            assert_eq!(sink.0[0], data);
        }
    }

    #[test]
    fn padding_at_a_chunk_boundary_ends_the_data() {
        let mut first = vec![b'Q'; CHUNK - 4];
        first.extend_from_slice(b"QQ==");
        let mut sink = Collect::default();
        let mut out = output(&mut sink);
        assert!(decode_base64(&[&first, b"QUJD"], &mut out, "x").is_err());
        let mut sink = Collect::default();
        let mut out = output(&mut sink);
        decode_base64(&[&first, b"\r\n"], &mut out, "x").unwrap();
    }

    #[test]
    fn base64_errors_give_the_offset() {
        let mut sink = Collect::default();
        let mut out = output(&mut sink);
        let err = decode_base64(&[b"QUJD", b"RE=F"], &mut out, "x").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Malformed {
                    problem: Problem::NotBase64 { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        let mut sink = Collect::default();
        let mut out = output(&mut sink);
        let err = decode_base64(&[b"QUJD\nRE*F"], &mut out, "x").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Malformed {
                    problem: Problem::NotBase64 { offset: 6 },
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
