//! `axis-pki verify`: a certificate against the CA directory — chain, validity, revocation,
//! profile — as a relying party would check it.

use std::path::Path;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{kv, parse_profile};
use crate::certinfo::{self, CertInfo};
use crate::cli::VerifyArgs;
use crate::error::{Failure, Result};
use crate::index::fmt_time;
use crate::store::{Access, CaDir};

pub(crate) fn run(dir: &Path, args: &VerifyArgs, now: OffsetDateTime) -> Result<String> {
    let at = match &args.at {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
            Failure::new(format!("--at `{text}` is not an RFC 3339 time: {e}"))
                .hint("for example --at 2027-06-01T00:00:00Z")
        })?,
        None => now,
    };
    let mut certs = certinfo::read_certs(&args.cert, "certificate")?;
    let leaf = certs.remove(0);
    let mut presented = certs;
    if let Some(chain) = &args.chain {
        presented.extend(certinfo::read_certs(chain, "chain file")?);
    }
    let info = CertInfo::of(&leaf).map_err(|f| f.context(args.cert.display()))?;
    let (ca_dir, index) = CaDir::open(dir, Access::Read)?;
    let store = ca_dir.trust_store(&index)?;
    let profile = match &args.profile {
        Some(p) => parse_profile(p)?,
        // The profile under this PKI's arc (the root's).
        None => store.profile_of(&leaf)?.ok_or_else(|| {
            Failure::new(format!(
                "{} names no profile of this PKI (it was not issued by it)",
                args.cert.display()
            ))
            .hint("give the profile it must have with --profile PROFILE")
        })?,
    };

    let verified = store
        .verify_with_intermediates(&leaf, &presented, profile, at)
        .map_err(|e| {
            Failure::from(e).context(format!(
                "{} is not a valid {profile} certificate",
                args.cert.display()
            ))
        })?;

    let mut chain = vec![info.common_name.clone()];
    for der in verified.chain() {
        chain.push(CertInfo::of(der).map_or_else(|_| "?".to_owned(), |i| i.common_name));
    }
    if let Some(last) = chain.last_mut() {
        last.push_str(" (trust anchor)");
    }
    let mut out = format!(
        "OK: {} is a valid {profile} certificate at {}\n",
        args.cert.display(),
        fmt_time(at)
    );
    let mut rows = vec![
        ("profile:", verified.profile().to_string()),
        // The same rendering as `issue` and `list` (organizationIdentifier named).
        ("subject:", info.subject.clone()),
    ];
    if let Some(a) = verified.agency_id() {
        rows.push(("agency id:", a.to_string()));
    }
    if let Some(t) = verified.title() {
        rows.push(("title:", t.to_owned()));
    }
    rows.extend([
        ("serial:", verified.serial().to_string()),
        ("key:", verified.key_algorithm().to_string()),
        (
            "valid:",
            format!(
                "{} to {}",
                fmt_time(verified.not_before()),
                fmt_time(verified.not_after())
            ),
        ),
        ("chain:", chain.join(" ← ")),
        (
            "revocation:",
            format!("not revoked (CRLs in {})", ca_dir.path("crl").display()),
        ),
    ]);
    kv(&mut out, &rows);
    Ok(out)
}
