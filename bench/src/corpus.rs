//! Documents sealed before anything is timed: the real signer, the harness's PKI, with each
//! agency's certificates verified once (not once per document, as the test helper `seal` does)
//! so that sealing tens of thousands of documents takes seconds.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use axis_pki::demo::AgencyCreds;
use axis_pki::{Profile, VerifiedCert};
use axis_proto::v1 as pb;
use axis_signer::{
    AttachmentDigest, DocumentRef, Manifest, MessageId, Organization, ReceiptChain, SealRequest,
    Sealed, Sealer, SignedDocument, Signer, StatusCode,
};
use axis_testkit::sample::{filler, sample_manifest};
use axis_tests::TestPki;
use time::OffsetDateTime;

/// One agency's certificates, verified once.
pub(crate) struct Certs {
    pub(crate) seal: VerifiedCert,
    pub(crate) personal: VerifiedCert,
    pub(crate) encryption: VerifiedCert,
}

impl Certs {
    pub(crate) fn of(pki: &TestPki) -> Vec<Certs> {
        let store = pki.store();
        let now = OffsetDateTime::now_utc();
        let v = |der: &[u8], p: Profile| store.verify(der, p, now).expect("harness certificate");
        pki.agencies
            .iter()
            .map(|a| Certs {
                seal: v(&a.seal.cert, Profile::AgencySeal),
                personal: v(&a.personal.cert, Profile::PersonalSigner),
                encryption: v(&a.encryption.cert, Profile::AgencyEncryption),
            })
            .collect()
    }
}

/// A sealed document ready to submit, with its recipient's 01 receipt signed in advance.
pub(crate) struct Doc {
    pub(crate) sender: usize,
    pub(crate) recipient: usize,
    pub(crate) message_id: String,
    pub(crate) begin: pb::SubmitBegin,
    pub(crate) ciphertext: Vec<u8>,
    /// The recipient's signed 01 (Arrived), from the sender-side view of the document.
    pub(crate) ack: pb::SignedStatement,
}

impl Doc {
    /// The Submit stream: begin, then the ciphertext in `chunk`-byte pieces.
    pub(crate) fn requests(&self, chunk: usize) -> Vec<pb::SubmitRequest> {
        let mut v = Vec::with_capacity(1 + self.ciphertext.len().div_ceil(chunk));
        v.push(pb::SubmitRequest {
            part: Some(pb::submit_request::Part::Begin(self.begin.clone())),
        });
        v.extend(self.ciphertext.chunks(chunk).map(|c| pb::SubmitRequest {
            part: Some(pb::submit_request::Part::Chunk(c.to_vec())),
        }));
        v
    }
}

fn manifest(
    sender: &AgencyCreds,
    recipients: &[&AgencyCreds],
    attachment: AttachmentDigest,
) -> Manifest {
    let org = |a: &AgencyCreds| Organization::new(a.id.clone(), a.name.clone());
    let mut m = sample_manifest(
        org(sender),
        recipients.iter().map(|r| org(r)).collect(),
        OffsetDateTime::now_utc().date(),
        vec![attachment.finish("bench.pdf", "application/pdf", "")],
    );
    m.subject = "V/v đo hiệu năng trục liên thông".into();
    m
}

/// Seals one document from `s` to every agency of `to` with `plaintext` as its one attachment,
/// writing the ciphertext through `sink`.
pub(crate) fn seal_into(
    pki: &TestPki,
    certs: &[Certs],
    s: usize,
    to: &[usize],
    mut plaintext: impl FnMut(&mut dyn FnMut(&[u8])),
    mut sink: impl FnMut(&[u8]) -> Result<()>,
) -> Result<(SignedDocument, Sealed)> {
    let sender = &pki.agencies[s];
    let recipients: Vec<&AgencyCreds> = to.iter().map(|&r| &pki.agencies[r]).collect();
    let encryption: Vec<VerifiedCert> = to.iter().map(|&r| certs[r].encryption.clone()).collect();
    let now = OffsetDateTime::now_utc();
    let mut digest = AttachmentDigest::new();
    plaintext(&mut |d| digest.update(d));
    // The manifest names the person whose certificate signs (the axis checks it).
    let m = axis_testkit::seal::naming_signer(
        manifest(sender, &recipients, digest),
        &certs[s].personal,
    );
    let person = Signer::new(&sender.personal.key, &certs[s].personal)?;
    let seal = Signer::new(&sender.seal.key, &certs[s].seal)?;
    let document = SignedDocument::sign(m.encode()?, &person, now, &seal, now)?;
    let mut sealer = Sealer::new(SealRequest {
        message_id: MessageId::random()?,
        document: &document,
        recipients: &encryption,
        chunk_size: axis_signer::limits::DEFAULT_CHUNK_SIZE,
    })?;
    let mut out = Vec::with_capacity(2 * 1024 * 1024);
    let mut failed = None;
    plaintext(&mut |d| {
        if failed.is_none() {
            if let Err(e) = sealer.write_attachment(d, &mut out) {
                failed = Some(anyhow::Error::from(e));
            } else if out.len() >= 1024 * 1024 {
                if let Err(e) = sink(&out) {
                    failed = Some(e);
                }
                out.clear();
            }
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    sealer.end_attachment(&mut out)?;
    let sealed = sealer.finish(&seal, now, &mut out)?;
    sink(&out)?;
    Ok((document, sealed))
}

/// The recipient's 01 for a document, signed now.
pub(crate) fn arrived(
    pki: &TestPki,
    certs: &[Certs],
    r: usize,
    document: &SignedDocument,
    sealed: &Sealed,
) -> Result<pb::SignedStatement> {
    let recipient = &pki.agencies[r];
    let doc = DocumentRef::sent(document, sealed, &recipient.id)?;
    let signer = Signer::new(&recipient.seal.key, &certs[r].seal)?;
    let receipt = ReceiptChain::new(doc)
        .next(StatusCode::Arrived, OffsetDateTime::now_utc(), "")?
        .sign(&signer)?;
    Ok(pb::SignedStatement {
        statement: receipt.receipt().as_bytes().to_vec(),
        signature: receipt.signature().to_vec(),
    })
}

pub(crate) fn begin_of(sealed: &Sealed) -> pb::SubmitBegin {
    pb::SubmitBegin {
        routing_header: sealed.submission.header().as_bytes().to_vec(),
        submission_signature: sealed.submission.signature().to_vec(),
        key_envelope: sealed.key_envelope.clone(),
    }
}

/// `n` documents of `size` plaintext bytes; document `i` goes from sender `i % senders` to
/// recipient `senders + (i / senders) % recipients` (every pair gets traffic). Sealed on
/// `threads` threads.
pub(crate) fn small_docs(
    pki: &TestPki,
    certs: &[Certs],
    senders: usize,
    recipients: usize,
    n: usize,
    size: usize,
    threads: usize,
) -> Result<Vec<Doc>> {
    let pairs: Vec<(usize, usize)> = (0..n)
        .map(|i| (i % senders, senders + (i / senders) % recipients))
        .collect();
    docs_for(pki, certs, &pairs, size, threads)
}

/// One document of `size` plaintext bytes per (sender, recipient) pair of `pairs`, in order,
/// sealed on `threads` threads.
pub(crate) fn docs_for(
    pki: &TestPki,
    certs: &[Certs],
    pairs: &[(usize, usize)],
    size: usize,
    threads: usize,
) -> Result<Vec<Doc>> {
    let n = pairs.len();
    let plain = filler(7, size);
    let per = n.div_ceil(threads.max(1));
    let parts: Vec<Result<Vec<Doc>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|t| {
                let plain = &plain;
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(per);
                    for &(s, r) in &pairs[(t * per).min(n)..((t + 1) * per).min(n)] {
                        let mut ciphertext = Vec::with_capacity(size + size / 2 + 4096);
                        let (document, sealed) = seal_into(
                            pki,
                            certs,
                            s,
                            &[r],
                            |f| f(plain),
                            |d| {
                                ciphertext.extend_from_slice(d);
                                Ok(())
                            },
                        )?;
                        let ack = arrived(pki, certs, r, &document, &sealed)?;
                        out.push(Doc {
                            sender: s,
                            recipient: r,
                            message_id: sealed.submission.header().header().message_id.to_string(),
                            begin: begin_of(&sealed),
                            ciphertext,
                            ack,
                        });
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("sealing thread"))
            .collect()
    });
    let mut docs = Vec::with_capacity(n);
    for p in parts {
        docs.extend(p?);
    }
    Ok(docs)
}

/// A large document sealed into `path` (plaintext generated on the fly, never all in memory).
pub(crate) struct LargeDoc {
    pub(crate) sender: usize,
    pub(crate) recipient: usize,
    pub(crate) message_id: String,
    pub(crate) begin: pb::SubmitBegin,
    pub(crate) ciphertext_len: u64,
}

/// Seals `bytes` of plaintext from agency 0 to agency 1 into `path`.
pub(crate) fn large_doc(
    pki: &TestPki,
    certs: &[Certs],
    bytes: u64,
    path: &Path,
) -> Result<LargeDoc> {
    let block = filler(11, 1024 * 1024);
    let mut file = std::io::BufWriter::with_capacity(
        4 * 1024 * 1024,
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    let mut written = 0u64;
    let feed = |f: &mut dyn FnMut(&[u8])| {
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            f(&block[..n]);
            left -= n as u64;
        }
    };
    let (_, sealed) = seal_into(pki, certs, 0, &[1], feed, |d| {
        written += d.len() as u64;
        file.write_all(d).context("writing the sealed document")
    })?;
    file.flush()?;
    file.get_ref().sync_all()?;
    let h = sealed.submission.header().header();
    anyhow::ensure!(h.ciphertext_len == written, "ciphertext length mismatch");
    Ok(LargeDoc {
        sender: 0,
        recipient: 1,
        message_id: h.message_id.to_string(),
        begin: begin_of(&sealed),
        ciphertext_len: written,
    })
}
