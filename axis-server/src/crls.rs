//! The CRL lifecycle on a node: publishing a CRL (the operator's `PublishCrl`, and a changed
//! `[trust] crls` file, both through [`publish`]), and watching how long the CRLs in force stay
//! current ([`Freshness`]): `/healthz` says `degraded` from `[trust] crl_warn_before_secs`
//! before a nextUpdate, `axis_crl_next_update_seconds{issuer}` counts down to it, and the log
//! says so once per change of state.
//!
//! Past its nextUpdate a CRL stops every certificate of its issuer (fail closed, in `pki`): new
//! connections fail their handshake, and open connections are checked again at their next call
//! (the watcher moves the trust generation on). Readiness does not change: a load balancer
//! taking every node out would not bring a fresh CRL, and the agencies of other CAs still work.
//! A fresh CRL ends the outage without a restart — published by the operator before expiry, or
//! written over the configured file at any time (the operator's own certificate is refused too
//! once the CRL has expired, so the file is the way back).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::commit::Job;
use crate::error::{Result, ServerError};
use crate::grpc::App;
use crate::trust::CrlInForce;
use axis_evidence::RevocationEntry;

/// What a publication did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Published {
    /// The CRL's number.
    pub(crate) number: u64,
    /// Certificates it lists.
    pub(crate) revoked: usize,
    /// Revocations it added, logged as entries.
    pub(crate) logged: u64,
}

/// Publishes a CRL:
///
/// 1. Within the size budget.
/// 2. Issued by a CA of the trust store (name, signature, cRLSign), current now.
/// 3. Newer (higher CRL number) than the one in force for that CA: an older or replayed CRL
///    would bring revoked certificates back.
/// 4. The revocations it adds become log entries before it takes effect, so the log records
///    when the axis started refusing each certificate.
/// 5. Stored, then every node rebuilds its trust snapshot (PostgreSQL: `axis_trust`
///    notification), so the next handshake or signature check sees it.
pub(crate) async fn publish(app: &App, der: &[u8]) -> Result<Published> {
    if der.len() > axis_pki::MAX_CRL_DER_LEN {
        return Err(ServerError::BadCrl(format!(
            "{} bytes exceeds the limit of {}",
            der.len(),
            axis_pki::MAX_CRL_DER_LEN
        )));
    }
    let now = OffsetDateTime::now_utc();
    let store = app.trust.store();
    let checked = store
        .check_crl(der, now)
        .map_err(|e| ServerError::BadCrl(e.to_string()))?;
    let mut previous: Option<&Vec<u8>> = None;
    for existing in store.crls() {
        let Ok(c) = store.check_crl_issued(existing) else {
            continue;
        };
        if c.issuer != checked.issuer {
            continue;
        }
        if c.number >= checked.number {
            return Err(ServerError::BadCrl(format!(
                "CRL number {} is not newer than the one in force ({})",
                checked.number, c.number
            )));
        }
        previous = Some(existing);
    }
    let logged = log_revocations(app, der, checked.number, previous).await?;
    app.db
        .insert_crl(&checked.issuer, checked.number, der, now)
        .await?;
    app.trust.reload(&app.db).await?;
    crate::notify::announce_trust_change(&app.db).await?;
    Ok(Published {
        number: checked.number,
        revoked: checked.revoked,
        logged,
    })
}

/// Logs every serial `crl` lists that `previous` (the CRL in force for the same issuer) did
/// not, in one batch; returns how many.
async fn log_revocations(
    app: &App,
    crl: &[u8],
    number: u64,
    previous: Option<&Vec<u8>>,
) -> Result<u64> {
    let new = axis_pki::summarize_crl(crl).map_err(|e| ServerError::BadCrl(e.to_string()))?;
    let old: std::collections::HashSet<Vec<u8>> = previous
        .and_then(|p| axis_pki::summarize_crl(p).ok())
        .map(|s| {
            s.revoked
                .iter()
                .map(|r| r.serial.as_bytes().to_vec())
                .collect()
        })
        .unwrap_or_default();
    let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, crl)
        .as_ref()
        .try_into()
        .map_err(|_| ServerError::invariant("SHA-256 digests are 32 bytes"))?;
    let jobs = new
        .revoked
        .iter()
        .filter(|r| !old.contains(r.serial.as_bytes()))
        .map(|r| {
            app.committer
                .commit(Job::Revocation(Box::new(RevocationEntry {
                    crl_digest: digest,
                    crl_number: number,
                    serial: r.serial.as_bytes().to_vec(),
                    revoked_at: r.revoked_at,
                    reason: r.reason.code(),
                })))
        });
    let results = futures_util::future::join_all(jobs).await;
    let mut n = 0;
    for r in results {
        r?;
        n += 1;
    }
    Ok(n)
}

/// How long the CRLs in force stay current: the worst of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Every CRL stays current longer than the warning time.
    Fresh,
    /// A CRL reaches its nextUpdate within the warning time: the node is degraded.
    Expiring {
        /// Its issuer.
        issuer: String,
        /// Its nextUpdate.
        next_update: OffsetDateTime,
    },
    /// A CRL is past its nextUpdate (or has none): its issuer's certificates are refused.
    Expired {
        /// Its issuer.
        issuer: String,
        /// Its nextUpdate.
        next_update: Option<OffsetDateTime>,
    },
}

impl Freshness {
    /// The state of `crls` at `now`, degraded within `warn_before` of a nextUpdate.
    pub fn of(crls: &[CrlInForce], now: OffsetDateTime, warn_before: Duration) -> Freshness {
        let earliest = crls
            .iter()
            .min_by_key(|c| c.next_update.unwrap_or(OffsetDateTime::UNIX_EPOCH));
        let Some(c) = earliest else {
            return Freshness::Fresh;
        };
        match c.next_update {
            Some(next) if next >= now + warn_before => Freshness::Fresh,
            Some(next) if next > now => Freshness::Expiring {
                issuer: c.issuer.clone(),
                next_update: next,
            },
            next_update => Freshness::Expired {
                issuer: c.issuer.clone(),
                next_update,
            },
        }
    }

    /// The state without its dates, for noticing a change.
    fn kind(&self) -> (u8, &str) {
        match self {
            Freshness::Fresh => (0, ""),
            Freshness::Expiring { issuer, .. } => (1, issuer),
            Freshness::Expired { issuer, .. } => (2, issuer),
        }
    }

    /// The `/healthz` body: `ok`, or `degraded: ` and why.
    pub fn health(&self, now: OffsetDateTime) -> String {
        let at = |t: &OffsetDateTime| axis_pki::rfc3339(*t);
        match self {
            Freshness::Fresh => "ok\n".to_owned(),
            Freshness::Expiring {
                issuer,
                next_update,
            } => format!(
                "degraded: the CRL of {issuer} expires at {} (in {} s); publish a fresh one\n",
                at(next_update),
                (*next_update - now).whole_seconds()
            ),
            Freshness::Expired {
                issuer,
                next_update,
            } => format!(
                "degraded: the CRL of {issuer} expired at {}; its certificates are refused until a fresh one is in force\n",
                next_update
                    .as_ref()
                    .map_or("(no nextUpdate)".to_owned(), at)
            ),
        }
    }
}

/// What the watcher does: how often it reads the files, how early it warns.
#[derive(Clone, Debug)]
pub(crate) struct WatchConfig {
    /// The `[trust] crls` files.
    pub(crate) files: Vec<PathBuf>,
    /// Between two reads of the files (zero: never).
    pub(crate) poll: Duration,
    /// Degraded this long before a nextUpdate.
    pub(crate) warn_before: Duration,
}

/// Once a second: the freshness of the CRLs in force (a log line at each change of state, the
/// trust generation moved on when one expires); every `poll`, the configured files, a changed
/// one published with [`publish`] (a CRL that is not acceptable is logged and the one in force
/// kept). Until `shutdown`.
pub(crate) async fn watch(app: Arc<App>, config: WatchConfig, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // What each file held when last read: the start read it.
    let mut seen: Vec<Option<Vec<u8>>> = config
        .files
        .iter()
        .map(|p| crate::trust::read_crl(p).ok())
        .collect();
    let mut last_read = tokio::time::Instant::now();
    let mut state = Freshness::Fresh;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.wait_for(|v| *v) => return,
        }
        if !config.poll.is_zero() && last_read.elapsed() >= config.poll {
            last_read = tokio::time::Instant::now();
            for (path, seen) in config.files.iter().zip(seen.iter_mut()) {
                reread(&app, path, seen).await;
            }
        }
        let now = OffsetDateTime::now_utc();
        let next = Freshness::of(&app.trust.crls_in_force(), now, config.warn_before);
        if next.kind() == state.kind() {
            continue;
        }
        match &next {
            Freshness::Fresh => tracing::info!("the CRLs in force are current: healthy again"),
            Freshness::Expiring {
                issuer,
                next_update,
            } => tracing::warn!(
                issuer,
                next_update = %axis_pki::rfc3339(*next_update),
                seconds_left = (*next_update - now).whole_seconds(),
                "a CRL expires soon: degraded; publish a fresh one (axis-pki crl, then axis directory publish-crl or replace the file)"
            ),
            Freshness::Expired { issuer, .. } => {
                tracing::error!(
                    issuer,
                    "a CRL expired: its issuer's certificates are refused until a fresh one is in force"
                );
                // Open connections verify their caller again at the next call.
                app.trust.recheck_connections();
            }
        }
        state = next;
    }
}

/// Reads `path` again; if it changed since `seen`, publishes it.
async fn reread(app: &App, path: &std::path::Path, seen: &mut Option<Vec<u8>>) {
    let der = match crate::trust::read_crl(path) {
        Ok(d) => d,
        Err(e) => {
            // Being rewritten, or removed: the CRL in force stays; said once per change.
            if seen.take().is_some() {
                tracing::warn!(file = %path.display(), error = %e, "cannot read a CRL file; keeping the CRL in force");
            }
            return;
        }
    };
    if seen.as_ref() == Some(&der) {
        return;
    }
    *seen = Some(der.clone());
    match publish(app, &der).await {
        Ok(p) => tracing::info!(
            file = %path.display(),
            number = p.number,
            revoked = p.revoked,
            logged = p.logged,
            "CRL file changed: the new CRL is in force"
        ),
        Err(e) => tracing::warn!(
            file = %path.display(),
            reason = e.reason(),
            error = %e,
            "CRL file changed but its CRL is refused; keeping the CRL in force"
        ),
    }
}

#[cfg(test)]
mod tests;
