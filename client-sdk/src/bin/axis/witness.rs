//! `axis audit witness`: the witness loop. The state file holds the last head this witness
//! cosigned; it is written (synced, renamed, directory synced) before the cosignature leaves,
//! so a crash never lets a cosignature out that the witness would not remember. A head that
//! does not continue that history is refused and kept beside the state file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use axis_client::evidence::SignedTreeHead;
use axis_client::pki::KeySigner;
use axis_client::{Client, WitnessStep};

use crate::audit::{describe, every, hex, read_state, unreachable, write_atomic};

/// What the witness works with.
pub(crate) struct Witness<'a> {
    /// The state file (the last head cosigned).
    pub(crate) state: &'a Path,
    /// The witness key (a key file or a token key).
    pub(crate) key: &'a dyn KeySigner,
    /// The log signer's key (SPKI): the log followed.
    pub(crate) log_key: &'a [u8],
    /// Where to write each cosignature too.
    pub(crate) out: Option<&'a Path>,
}

/// Where a refused head is kept: beside the state file.
pub(crate) fn refused_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(".refused");
    state.with_file_name(name)
}

impl Witness<'_> {
    /// Steps every `interval` (once with `once`). A refusal ends the loop with an ALERT (exit
    /// 3); an unreachable axis is a WARNING (exit 4 with `once`, else tried again).
    pub(crate) async fn run(&self, client: &Client, interval: Duration, once: bool) -> Result<()> {
        let mut last = read_state(self.state)?;
        every(interval, once, async || self.step(client, &mut last).await).await
    }

    async fn step(&self, client: &Client, last: &mut Option<SignedTreeHead>) -> Result<()> {
        let step = match client
            .witness_step(last.as_ref(), self.log_key, self.key)
            .await
        {
            Ok(s) => s,
            Err(e) if *e.kind() == axis_client::ErrorKind::Verification => {
                return Err(anyhow::Error::new(crate::Alert(format!(
                    "REFUSED to cosign: {e}; the last head cosigned is kept in {}",
                    self.state.display()
                ))));
            }
            Err(e) if unreachable(&e) => {
                return Err(crate::Unreachable(e.to_string()).into());
            }
            Err(e) => return Err(e.into()),
        };
        match step {
            WitnessStep::Empty => {
                println!("the log is empty: nothing to cosign yet");
                Ok(())
            }
            WitnessStep::Refused { head, error } => {
                let kept = refused_path(self.state);
                write_atomic(&kept, &head.signed().encode())?;
                Err(anyhow::Error::new(crate::Alert(format!(
                    "REFUSED to cosign the {}: {error}. Both heads are signed by the log and \
                     kept as evidence: the last one cosigned in {}, the one refused in {}",
                    describe(&head),
                    self.state.display(),
                    kept.display()
                ))))
            }
            WitnessStep::Cosigned {
                head,
                cosignature,
                added,
            } => {
                // Durable first: the witness must remember every head it lets a cosignature out
                // for.
                write_atomic(self.state, &head.signed().encode())?;
                *last = Some(head.signed().clone());
                if let Some(out) = self.out {
                    write_atomic(out, cosignature.as_bytes())
                        .with_context(|| format!("writing the cosignature to {}", out.display()))?;
                }
                let held = match client.add_cosignature(&cosignature).await {
                    Ok(n) => n,
                    Err(e) if unreachable(&e) => {
                        return Err(crate::Unreachable(format!(
                            "cosigned the {}, but could not hand the cosignature to the axis: {e}",
                            describe(&head)
                        ))
                        .into());
                    }
                    Err(e) => return Err(e.into()),
                };
                println!(
                    "cosigned (+{added} entries) the {} as witness {}; the axis holds {held} \
                     cosignature(s) of it",
                    describe(&head),
                    hex(&cosignature.cosigned().witness[..8])
                );
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
