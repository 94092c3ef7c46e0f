//! `axis audit …`: tree heads, consistency, the monitor.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use axis_client::Client;
use axis_client::evidence::{SignedTreeHead, VerifiedTreeHead};

use crate::Usage;
use crate::cli::AuditCommand;
use crate::commands::rfc3339;

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
        } => verify(&bundle, &root, &log_key),
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

/// `axis audit verify`: offline.
pub(crate) fn verify(bundle: &Path, root: &Path, log_key: &Path) -> Result<()> {
    let bytes = read_limited(bundle, MAX_BUNDLE_FILE, "the bundle")?;
    let (_, root) = der_of(
        read_limited(root, 64 * 1024, "the root certificate")?,
        &["CERTIFICATE"],
        root,
    )?;
    let (tag, key) = der_of(
        read_limited(log_key, 64 * 1024, "the log key")?,
        &["CERTIFICATE", "PUBLIC KEY"],
        log_key,
    )?;
    // A certificate (PEM, or DER that parses as one) gives its key; a PUBLIC KEY is the key.
    let spki = if tag == "PUBLIC KEY" {
        key
    } else {
        axis_client::pki::public_key_of(&key).unwrap_or(key)
    };
    match axis_client::evidence::verify_bundle(&bytes, &root, &spki) {
        Ok(report) => {
            println!("{report}");
            println!(
                "VERIFIED: every signature, certificate chain, revocation status at signing time, status order and inclusion proof checked."
            );
            Ok(())
        }
        Err(e) => {
            println!("NOT VERIFIED: {e}");
            Err(anyhow::anyhow!("the evidence bundle does not verify: {e}"))
        }
    }
}

fn describe(head: &VerifiedTreeHead) -> String {
    let h = head.head();
    format!(
        "tree head: {} entries, root {}, signed at {} by {}",
        h.tree_size,
        hex(&h.root_hash),
        rfc3339(h.timestamp),
        head.signer()
    )
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn read_head(path: &Path) -> Result<SignedTreeHead> {
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

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// What one look at the log found.
enum Look {
    /// A head was seen (and saved when new).
    Seen,
    /// The axis has no head yet and none was seen before.
    Empty,
}

/// Whether an SDK error means the axis could not be asked (rather than that it answered).
fn unreachable(e: &axis_client::Error) -> bool {
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
    let mut last = if state.exists() {
        Some(read_head(state)?)
    } else {
        None
    };
    loop {
        match look(client, state, &mut last, once).await {
            Ok(Look::Seen | Look::Empty) => {}
            Err(e) if e.downcast_ref::<crate::Alert>().is_some() => {
                eprintln!(
                    "the last consistent head is kept in {}; keep it as evidence",
                    state.display()
                );
                return Err(e);
            }
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
