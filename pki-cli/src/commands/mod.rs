//! One module per subcommand, and what they share: parsing domain values with hints, validity
//! windows, and publishing a CRL.

mod ca;
mod crl;
mod csr;
mod export;
mod init;
mod issue;
mod list;
mod revoke;
mod verify;

use std::str::FromStr;

use axis_pki::{CaSigner, CrlRequest, IssuedCrl, KeyAlgorithm, Profile, RevocationReason};
use time::{Duration, OffsetDateTime};

use crate::cli::{Cli, Command};
use crate::error::{Failure, Result};
use crate::index::{CaRecord, Index, ROOT_ID};
use crate::store::CaDir;

/// Certificates start this long before the command runs, so that a relying party whose clock is
/// a little behind does not see them as not yet valid.
pub(crate) const BACKDATE: Duration = Duration::minutes(5);
/// Default time to a CRL's nextUpdate for an issuing CA (it publishes often).
pub(crate) const ISSUING_CRL_DAYS: u32 = 7;
/// Default time to a CRL's nextUpdate for the root (offline, signs rarely).
pub(crate) const ROOT_CRL_DAYS: u32 = 90;

/// Runs the command at `now`, returning what to print on standard output.
pub(crate) fn run(cli: Cli, now: OffsetDateTime) -> Result<String> {
    let dir = cli.dir;
    match cli.command {
        Command::Init(a) => init::run(&dir, &a, now),
        Command::Ca(a) => ca::run(&dir, &a, now),
        Command::Issue(a) => issue::run(&dir, &a, now),
        Command::Csr(a) => csr::run(&a),
        Command::Revoke(a) => revoke::run(&dir, &a, now),
        Command::Crl(a) => crl::run(&dir, &a, now),
        Command::Verify(a) => verify::run(&dir, &a, now),
        Command::List(a) => list::run(&dir, &a, now),
        Command::Export(a) => export::run(&dir, &a),
    }
}

/// Parses a profile name, with the list of profiles as the hint.
pub(crate) fn parse_profile(name: &str) -> Result<Profile> {
    Profile::from_str(name).map_err(|e| {
        Failure::new(e.to_string()).hint(
            "end-entity profiles are agency-seal, personal-signer, agency-encryption, \
             agency-tls-client, axis-server-tls, axis-log-signer and axis-operator; \
             root and issuing CAs are made with `axis-pki init` and `axis-pki ca`",
        )
    })
}

/// Parses a key type name, or takes the profile's default.
pub(crate) fn key_type(name: Option<&str>, profile: Profile) -> Result<KeyAlgorithm> {
    match name {
        None => Ok(profile.spec(KeyAlgorithm::Rsa2048).default_key),
        Some(n) => Ok(KeyAlgorithm::from_str(n)?),
    }
}

/// Parses a revocation reason name.
pub(crate) fn parse_reason(name: &str) -> Result<RevocationReason> {
    Ok(RevocationReason::from_str(name)?)
}

/// The validity window of a new certificate: from `now` − [`BACKDATE`] for `days`, or the
/// profile's default. A default that would outlive the issuer is cut at the issuer's end (and
/// says so); an explicit `--days` that would is refused by the library.
pub(crate) fn validity(
    profile: Profile,
    key: KeyAlgorithm,
    days: Option<u32>,
    issuer_not_after: Option<OffsetDateTime>,
    now: OffsetDateTime,
    notes: &mut Vec<String>,
) -> (OffsetDateTime, OffsetDateTime) {
    let not_before = now - BACKDATE;
    match days {
        Some(d) => (not_before, not_before + Duration::days(i64::from(d))),
        None => {
            let not_after = not_before + profile.spec(key).default_validity;
            match issuer_not_after {
                Some(end) if not_after > end => {
                    notes.push(format!(
                        "validity shortened to the issuing CA's end, {}",
                        crate::index::fmt_time(end)
                    ));
                    (not_before, end)
                }
                _ => (not_before, not_after),
            }
        }
    }
}

/// A CRL for `ca_id` listing every revocation the index records for it, with the next CRL
/// number. Nothing is written: the caller writes it, then the index with
/// [`Index::ca_mut`]`.next_crl_number` advanced.
pub(crate) fn make_crl(
    dir: &CaDir,
    index: &Index,
    ca: &CaRecord,
    signer: &CaSigner<'_>,
    days: Option<u32>,
    now: OffsetDateTime,
) -> Result<(IssuedCrl, u64, OffsetDateTime)> {
    let number = dir.next_crl_number(ca)?;
    let days = days.unwrap_or(if ca.id == ROOT_ID {
        ROOT_CRL_DAYS
    } else {
        ISSUING_CRL_DAYS
    });
    let next_update = now + Duration::days(i64::from(days));
    let crl = signer.issue_crl(&CrlRequest {
        this_update: now,
        next_update,
        number,
        revoked: index.revoked_by(&ca.id)?,
    })?;
    Ok((crl, number, next_update))
}

/// Looks a CA up in the index, with a hint listing the ids there are.
pub(crate) fn find_ca<'a>(index: &'a Index, id: &str) -> Result<&'a CaRecord> {
    index.ca(id).ok_or_else(|| {
        let ids: Vec<&str> = index.cas.iter().map(|c| c.id.as_str()).collect();
        Failure::new(format!("there is no CA `{id}` in this CA directory"))
            .hint(format!("the CAs are: {}", ids.join(", ")))
    })
}

/// How the output describes where a new key is: encrypted in `path`, or on its token.
pub(crate) fn describe_key(
    key: &axis_keys::Key,
    alg: KeyAlgorithm,
    path: &std::path::Path,
) -> String {
    use axis_pki::KeyPair as _;
    if key.is_token() {
        format!(
            "{alg}, on a PKCS#11 token, never outside it: {}",
            key.location()
        )
    } else {
        format!("{alg}, encrypted in {} (mode 0600)", path.display())
    }
}

/// Appends `  key: value` lines with aligned values.
pub(crate) fn kv(out: &mut String, pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        out.push_str(&format!("  {k:<width$}  {v}\n"));
    }
}
