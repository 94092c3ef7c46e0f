//! `axis audit …`: bundles (export, verify, check-misbehaviour), tree heads, consistency, the
//! monitor.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use axis_client::Client;
use axis_client::evidence::{SignedTreeHead, VerifiedTreeHead, WitnessKey};

use crate::cli::AuditCommand;
use crate::commands::rfc3339;
use crate::{Alert, NotProven, Usage};

/// Largest tree-head file read.
const MAX_HEAD_FILE: u64 = 128 * 1024;

pub(crate) async fn run(client: &Client, cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Export { message_id, out } => {
            let id = crate::commands::message_id(&message_id)?;
            let bytes = client.export_evidence(&id).await?;
            write_atomic(&out, &bytes)?;
            println!(
                "evidence bundle for {id} written to {} ({} bytes); verified before writing",
                out.display(),
                bytes.len()
            );
            Ok(())
        }
        AuditCommand::Verify {
            bundle,
            root,
            log_key,
            witnesses,
            min_witnesses,
        } => verify(&bundle, &root, &log_key, &witnesses, min_witnesses),
        AuditCommand::WitnessKey {
            out,
            public,
            passphrase_file,
        } => witness_key(&out, &public, passphrase_file.as_deref()),
        AuditCommand::Witness {
            state,
            key,
            passphrase_file,
            log_key,
            out,
            interval,
            once,
        } => {
            let key = axis_client::load_key(&key, passphrase_file.as_deref())?;
            let log_key = read_log_key(&log_key)?;
            let w = crate::witness::Witness {
                state: &state,
                key: &key,
                log_key: &log_key,
                out: out.as_deref(),
            };
            w.run(client, Duration::from_secs(interval.max(1)), once)
                .await
        }
        AuditCommand::CheckMisbehaviour {
            claim,
            holding,
            root,
            log_key,
        } => check_misbehaviour(&claim, &holding, &root, &log_key, Some(client)).await,
        AuditCommand::TreeHead { size, out } => {
            let head = client.tree_head(size).await?;
            write_atomic(&out, &head.signed().encode())?;
            println!("{}", describe(&head));
            println!("saved to {}", out.display());
            Ok(())
        }
        AuditCommand::Consistency { old } => {
            let older = read_head(&old)?;
            let ext = client.check_extends(&older).await?;
            println!(
                "consistent: the log of {} entries extends the head of {} entries signed at {} ({} added)",
                ext.newer.head().tree_size,
                older.head().tree_size,
                rfc3339(older.head().timestamp),
                ext.added
            );
            println!("{}", describe(&ext.newer));
            Ok(())
        }
        AuditCommand::Monitor {
            state,
            interval,
            once,
        } => monitor(client, &state, Duration::from_secs(interval.max(1)), once).await,
    }
}

/// Largest bundle read.
const MAX_BUNDLE_FILE: u64 = axis_client::evidence::limits::MAX_BUNDLE_LEN as u64;

fn read_limited(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {what} {}", path.display()))?
        .len();
    if len > max {
        bail!(Usage(format!(
            "{} is too large to be {what}",
            path.display()
        )));
    }
    std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))
}

/// The DER inside a PEM file with one of `labels`, or the bytes themselves if not PEM.
fn der_of(bytes: Vec<u8>, labels: &[&str], path: &Path) -> Result<(String, Vec<u8>)> {
    if !bytes.starts_with(b"-----BEGIN") {
        return Ok((String::new(), bytes));
    }
    let block = pem::parse(&bytes).map_err(|e| {
        Usage(format!(
            "{} is not a readable PEM file: {e}",
            path.display()
        ))
    })?;
    if !labels.contains(&block.tag()) {
        bail!(Usage(format!(
            "{} holds a {}, expected {}",
            path.display(),
            block.tag(),
            labels.join(" or ")
        )));
    }
    Ok((block.tag().to_owned(), block.into_contents()))
}

/// A public key file: a certificate (PEM, or DER that parses as one) gives its key; a PUBLIC
/// KEY is the key.
pub(crate) fn read_public_key(path: &Path, what: &str) -> Result<Vec<u8>> {
    let (tag, key) = der_of(
        read_limited(path, 64 * 1024, what)?,
        &["CERTIFICATE", "PUBLIC KEY"],
        path,
    )?;
    Ok(if tag == "PUBLIC KEY" {
        key
    } else {
        axis_client::pki::public_key_of(&key).unwrap_or(key)
    })
}

/// The log signer's key, from its certificate or public key.
pub(crate) fn read_log_key(path: &Path) -> Result<Vec<u8>> {
    read_public_key(path, "the log key")
}

/// The root certificate (DER) and the log key (DER SubjectPublicKeyInfo) from their files.
fn trust_files(root: &Path, log_key: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let (_, root) = der_of(
        read_limited(root, 64 * 1024, "the root certificate")?,
        &["CERTIFICATE"],
        root,
    )?;
    Ok((root, read_log_key(log_key)?))
}

/// `axis audit verify`: offline. A version 1 bundle is verified in every other step and ends
/// with COMPLETENESS NOT PROVEN (exit 5).
pub(crate) fn verify(
    bundle: &Path,
    root: &Path,
    log_key: &Path,
    witnesses: &[std::path::PathBuf],
    min_witnesses: usize,
) -> Result<()> {
    if min_witnesses > witnesses.len() {
        bail!(Usage(format!(
            "--min-witnesses {min_witnesses} needs at least {min_witnesses} --witness keys, {} given",
            witnesses.len()
        )));
    }
    let bytes = read_limited(bundle, MAX_BUNDLE_FILE, "the bundle")?;
    let (root, spki) = trust_files(root, log_key)?;
    let keys = witnesses
        .iter()
        .map(|p| {
            WitnessKey::parse(&read_public_key(p, "a witness key")?)
                .map_err(|e| anyhow::Error::new(Usage(format!("{}: {e}", p.display()))))
        })
        .collect::<Result<Vec<_>>>()?;
    let verified =
        axis_client::evidence::verify_bundle_any_version(&bytes, &root, &spki).and_then(|report| {
            let witnessed = axis_client::evidence::check_witnessed(
                report.tree_head.head(),
                &spki,
                &report.cosignatures,
                &keys,
                min_witnesses,
            )?;
            Ok((report, witnessed))
        });
    match verified {
        Ok((report, _)) if report.completeness.is_none() => {
            println!("{report}");
            println!(
                "COMPLETENESS NOT PROVEN: every signature, certificate chain, revocation status \
                 at signing time, status order and inclusion proof checked, but this is a \
                 version 1 bundle: statements may have been removed from it. Export it again."
            );
            Err(NotProven(
                "a version 1 bundle has no completeness statement; export it again".to_owned(),
            )
            .into())
        }
        Ok((report, witnessed)) => {
            println!("{report}");
            if !keys.is_empty() {
                println!(
                    "The tree head is {witnessed} (of {} given, {min_witnesses} required)",
                    keys.len()
                );
            }
            println!(
                "VERIFIED: every signature, certificate chain, revocation status at signing time, status order and inclusion proof checked, and every chain is complete as of the tree head{}.",
                if min_witnesses > 0 {
                    format!(
                        "; the tree head cosigned by {min_witnesses} or more of the given witnesses"
                    )
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        Err(e) => {
            println!("NOT VERIFIED: {e}");
            Err(anyhow::anyhow!("the evidence bundle does not verify: {e}"))
        }
    }
}

/// `axis audit witness-key`: a new P-256 key, encrypted, and its public key.
pub(crate) fn witness_key(out: &Path, public: &Path, passphrase_file: Option<&Path>) -> Result<()> {
    for p in [out, public] {
        if p.symlink_metadata().is_ok() {
            bail!(Usage(format!(
                "{} already exists; a key file is never overwritten",
                p.display()
            )));
        }
    }
    let pass = read_new_passphrase(passphrase_file)?;
    let key = axis_client::pki::PrivateKey::generate(axis_client::pki::KeyAlgorithm::EcdsaP256)
        .context("generating the witness key")?;
    let pem = key
        .to_encrypted_pem(&pass)
        .context("encrypting the witness key")?;
    write_new(out, pem.as_bytes(), 0o600)?;
    let public_pem = axis_client::pki::to_pem("PUBLIC KEY", key.public_key_der());
    write_new(public, public_pem.as_bytes(), 0o644)?;
    println!(
        "witness key written to {} (encrypted), its public key to {}; key id {}",
        out.display(),
        public.display(),
        hex(&axis_client::evidence::key_id(key.public_key_der()))
    );
    Ok(())
}

/// The passphrase for a new key: the file's first line, else `AXIS_KEY_PASS`; never argv.
fn read_new_passphrase(file: Option<&Path>) -> Result<axis_client::pki::Passphrase> {
    let text = match file {
        Some(p) => String::from_utf8(read_limited(p, 4096, "the passphrase file")?)
            .map_err(|_| Usage(format!("{} is not UTF-8", p.display())))?,
        None => std::env::var(axis_client::PASSPHRASE_ENV).map_err(|_| {
            Usage(format!(
                "no passphrase: give --passphrase-file FILE or export {}",
                axis_client::PASSPHRASE_ENV
            ))
        })?,
    };
    // A trailing newline is not part of it (Passphrase::new drops it).
    let pass = axis_client::pki::Passphrase::new(text);
    pass.check_strength()
        .map_err(|e| Usage(format!("the passphrase: {e}")))?;
    Ok(pass)
}

/// Writes a file that must not exist yet, with `mode`, synced.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    sync_dir(path)
}

/// Syncs the directory holding `path`, so that a new or renamed entry survives a crash.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing the directory {}", dir.display()))
}

/// `axis audit check-misbehaviour`: both bundles verified offline; the consistency proof
/// between their heads asked of the axis only when their sizes differ (`client`).
pub(crate) async fn check_misbehaviour(
    claim: &Path,
    holding: &Path,
    root: &Path,
    log_key: &Path,
    client: Option<&Client>,
) -> Result<()> {
    use axis_client::evidence::{check_misbehaviour, verify_bundle, verify_bundle_any_version};
    let (root, spki) = trust_files(root, log_key)?;
    let claim_bytes = read_limited(claim, MAX_BUNDLE_FILE, "the claim's bundle")?;
    let held_bytes = read_limited(holding, MAX_BUNDLE_FILE, "the bundle held")?;
    let claimed = verify_bundle(&claim_bytes, &root, &spki)
        .map_err(|e| anyhow::anyhow!("the claim's bundle does not verify: {e}"))?;
    let held = verify_bundle_any_version(&held_bytes, &root, &spki)
        .map_err(|e| anyhow::anyhow!("the bundle held does not verify: {e}"))?;
    let (c, h) = (claimed.tree_head.head(), held.tree_head.head());
    let proof = if c.tree_size == h.tree_size {
        Vec::new()
    } else {
        let Some(client) = client else {
            bail!(Usage(format!(
                "the two bundles are proven under tree heads of {} and {} entries: give \
                 --config so that the consistency proof between them is asked of the axis",
                c.tree_size, h.tree_size
            )));
        };
        client
            .consistency_proof(c.tree_size.min(h.tree_size), c.tree_size.max(h.tree_size))
            .await?
    };
    let found = check_misbehaviour(&claimed, &held, &proof)
        .map_err(|e| anyhow::anyhow!("no proof either way: {e}"))?;
    if found.is_empty() {
        println!(
            "no contradiction: every statement held below tree head {} is in the claim's bundle",
            c.tree_size
        );
        return Ok(());
    }
    for m in &found {
        println!("MISBEHAVIOUR PROVEN: {m}");
    }
    println!(
        "Proof: the completeness statement in {} and the tree heads and inclusion proofs in {} \
         and {}, all signed by the same log key{}.",
        claim.display(),
        claim.display(),
        holding.display(),
        if proof.is_empty() {
            ""
        } else {
            ", with the axis's consistency proof between the two heads"
        }
    );
    Err(Alert(format!(
        "the axis signed a false completeness statement for {}",
        found
            .iter()
            .map(|m| m.recipient.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .into())
}

pub(crate) fn describe(head: &VerifiedTreeHead) -> String {
    let h = head.head();
    format!(
        "tree head: {} entries, root {}, signed at {} by {}",
        h.tree_size,
        hex(&h.root_hash),
        rfc3339(h.timestamp),
        head.signer()
    )
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn read_head(path: &Path) -> Result<SignedTreeHead> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    if len > MAX_HEAD_FILE {
        bail!(Usage(format!(
            "{} is not a tree-head file (too large)",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    SignedTreeHead::decode(&bytes).map_err(|e| {
        Usage(format!(
            "{} is not a signed tree head as `axis audit tree-head` writes it: {e}",
            path.display()
        ))
        .into()
    })
}

/// The head kept in a state file, `None` before the first run (no file).
pub(crate) fn read_state(path: &Path) -> Result<Option<SignedTreeHead>> {
    if path.exists() {
        read_head(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Replaces `path` atomically and durably: a temporary file written and synced, renamed over
/// it, the directory synced. A crash leaves the old file or the new one, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    sync_dir(path)
}

/// What one look at the log found.
enum Look {
    /// A head was seen (and saved when new).
    Seen,
    /// The axis has no head yet and none was seen before.
    Empty,
}

/// Whether an SDK error means the axis could not be asked (rather than that it answered).
pub(crate) fn unreachable(e: &axis_client::Error) -> bool {
    use axis_client::ErrorKind as K;
    matches!(e.kind(), K::Transport | K::DeadlineExceeded | K::Server)
}

/// One look: the latest head, which must extend the last one seen (kept in `state`).
async fn look(
    client: &Client,
    state: &Path,
    last: &mut Option<SignedTreeHead>,
    once: bool,
) -> Result<Look> {
    let alert = |e: axis_client::Error| -> anyhow::Error {
        anyhow::Error::new(crate::Alert(e.to_string()))
    };
    match last {
        None => match client.tree_head(None).await {
            Ok(head) => {
                write_atomic(state, &head.signed().encode())?;
                println!("first {}", describe(&head));
                *last = Some(head.signed().clone());
                Ok(Look::Seen)
            }
            Err(e) if e.reason() == Some(axis_client::reasons::LOG_UNAVAILABLE) => {
                println!("the log is empty: no head to keep yet");
                Ok(Look::Empty)
            }
            Err(e) if *e.kind() == axis_client::ErrorKind::Verification => Err(alert(e)),
            Err(e) if unreachable(&e) => Err(crate::Unreachable(e.to_string()).into()),
            Err(e) => Err(e.into()),
        },
        Some(older) => match client.check_extends(older).await {
            Ok(ext) => {
                if ext.added > 0 {
                    println!("ok: +{} entries; {}", ext.added, describe(&ext.newer));
                    write_atomic(state, &ext.newer.signed().encode())?;
                    *last = Some(ext.newer.signed().clone());
                } else if once {
                    println!("ok: no new entries; {}", describe(&ext.newer));
                }
                Ok(Look::Seen)
            }
            Err(e) if *e.kind() == axis_client::ErrorKind::Verification => Err(alert(e)),
            Err(e) if unreachable(&e) => Err(crate::Unreachable(e.to_string()).into()),
            Err(e) => Err(e.into()),
        },
    }
}

/// The monitor: the state file holds the last head seen; each newer head must extend it. A log
/// that does not (rewritten, forked, shrunk, emptied) is an ALERT and ends the monitor (exit 3)
/// whether or not `once`; an axis that cannot be reached is a WARNING: `once` ends with exit 4,
/// the loop tries again at the next interval.
async fn monitor(client: &Client, state: &Path, interval: Duration, once: bool) -> Result<()> {
    let mut last = read_state(state)?;
    every(interval, once, async || {
        match look(client, state, &mut last, once).await {
            Ok(Look::Seen | Look::Empty) => Ok(()),
            Err(e) if e.downcast_ref::<crate::Alert>().is_some() => {
                eprintln!(
                    "the last consistent head is kept in {}; keep it as evidence",
                    state.display()
                );
                Err(e)
            }
            Err(e) => Err(e),
        }
    })
    .await
}

/// Runs `step` once (`once`), or every `interval` until it fails: an unreachable axis
/// ([`crate::Unreachable`]) is only a WARNING in the loop, printed and tried again at the next
/// interval; with `once` it ends the run (exit 4). Any other error ends it.
pub(crate) async fn every(
    interval: Duration,
    once: bool,
    mut step: impl AsyncFnMut() -> Result<()>,
) -> Result<()> {
    loop {
        match step().await {
            Ok(()) => {}
            Err(e) if e.downcast_ref::<crate::Unreachable>().is_some() && !once => {
                eprintln!("{e} (will retry in {} s)", interval.as_secs());
            }
            Err(e) => return Err(e),
        }
        if once {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}
