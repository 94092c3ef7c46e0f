//! What `axis-server check-config` and `axis check-config` report, and the checks they share:
//! a configured certificate against the profile of its slot, its agency and its key; its
//! verification and remaining validity at a given time; a CRL's freshness. No I/O, no clock:
//! the callers read the files and pass the time.

use time::{Duration, OffsetDateTime};

use crate::{
    AgencyId, KeyPair, PolicyArc, Profile, TrustStore, agency_id_of, profile_of, public_key_of,
};

/// A CRL whose nextUpdate is closer than this is reported as a warning.
pub const CRL_WARN_BEFORE: Duration = Duration::DAY;
/// A certificate that expires sooner than this is reported as a warning.
pub const CERT_WARN_BEFORE: Duration = Duration::days(30);

/// How a checked item fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckLevel {
    /// As it should be.
    Ok,
    /// Works now, needs attention soon.
    Warn,
    /// Will not work.
    Fail,
}

/// One line of a [`CheckReport`]: `ok   item: message`, `WARN …` or `FAIL …`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckFinding {
    /// How it fared.
    pub level: CheckLevel,
    /// What was checked (`[tls] cert`, `CRL of CN=…`, `endpoint https://…`).
    pub item: String,
    /// What was found, and for a problem what to do.
    pub message: String,
}

impl std::fmt::Display for CheckFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.level {
            CheckLevel::Ok => "ok  ",
            CheckLevel::Warn => "WARN",
            CheckLevel::Fail => "FAIL",
        };
        write!(f, "{tag} {}: {}", self.item, self.message)
    }
}

/// Every finding of a check, in the order checked.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CheckReport {
    /// The lines.
    pub findings: Vec<CheckFinding>,
}

impl CheckReport {
    /// Adds a line.
    pub fn push(&mut self, level: CheckLevel, item: impl Into<String>, message: impl Into<String>) {
        self.findings.push(CheckFinding {
            level,
            item: item.into(),
            message: message.into(),
        });
    }

    /// Adds an `ok` line.
    pub fn ok(&mut self, item: impl Into<String>, message: impl Into<String>) {
        self.push(CheckLevel::Ok, item, message);
    }

    /// Adds a `WARN` line.
    pub fn warn(&mut self, item: impl Into<String>, message: impl Into<String>) {
        self.push(CheckLevel::Warn, item, message);
    }

    /// Adds a `FAIL` line.
    pub fn fail(&mut self, item: impl Into<String>, message: impl Into<String>) {
        self.push(CheckLevel::Fail, item, message);
    }

    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.level == CheckLevel::Fail)
    }

    /// The failures and warnings.
    pub fn problems(&self) -> impl Iterator<Item = &CheckFinding> {
        self.findings.iter().filter(|f| f.level != CheckLevel::Ok)
    }
}

/// A certificate and key configured in slot `table` (`tls`, `seal`, …), read from `path`, of
/// the PKI whose policy arc is `arc` (its root's, [`PolicyArc::of_ca`]):
///
/// 1. the leaf carries exactly `profile` (a TLS key in the seal slot is named, not found later);
/// 2. if `agency` is given, the leaf is bound to it;
/// 3. if the key decrypted, it is the leaf's key.
///
/// Adds one line for the certificate and one for the key (`key` is `None` when it could not be
/// loaded: the caller reported why). Returns whether the certificate is right for its slot.
#[allow(clippy::too_many_arguments)]
pub fn check_slot(
    r: &mut CheckReport,
    table: &str,
    path: &str,
    chain: &[Vec<u8>],
    key: Option<&dyn KeyPair>,
    profile: Profile,
    agency: Option<&AgencyId>,
    arc: &PolicyArc,
) -> bool {
    let item = format!("[{table}] cert");
    let Some(leaf) = chain.first() else {
        r.fail(item, format!("{path}: no certificate in the file"));
        return false;
    };
    let slot_ok = match (profile_of(leaf, arc), agency_id_of(leaf)) {
        (Ok(Some(p)), _) if p != profile => {
            r.fail(
                item,
                format!(
                    "{path} is {} {p} certificate; [{table}] needs {} {profile} certificate",
                    article(p),
                    article(profile)
                ),
            );
            false
        }
        (Ok(None), _) => {
            r.fail(
                item,
                format!(
                    "{path} carries no Axis profile; issue a {profile} certificate with axis-pki"
                ),
            );
            false
        }
        (Err(e), _) | (_, Err(e)) => {
            r.fail(item, format!("{path}: {e}"));
            false
        }
        (Ok(Some(_)), Ok(found)) => match (agency, found) {
            (Some(me), Some(a)) if &a != me => {
                r.fail(
                    item,
                    format!("{path} belongs to agency {a}, but the configuration is for {me}"),
                );
                false
            }
            (Some(me), None) => {
                r.fail(
                    item,
                    format!("{path} carries no agency id; it must be {me}'s"),
                );
                false
            }
            _ => {
                r.ok(
                    item,
                    format!("{path}: {} {profile} certificate", article(profile)),
                );
                true
            }
        },
    };
    if let Some(key) = key {
        let key_item = format!("[{table}] key");
        if public_key_of(leaf).is_ok_and(|pk| pk == key.public_key_der()) {
            let how = if key.location() == "key file" {
                "decrypts and is the certificate's key".to_owned()
            } else {
                format!("{} is the certificate's key", key.location())
            };
            r.ok(key_item, how);
        } else {
            r.fail(
                key_item,
                format!("does not hold the key of {path}; check the two paths"),
            );
        }
    }
    slot_ok
}

/// Verifies the certificate of slot `table` (leaf first, then any CA certificates given with
/// it) for `profile` with `store` at `now` — chain to the root, validity, revocation — and says
/// how long it stays valid (a warning within [`CERT_WARN_BEFORE`]).
pub fn check_verifies(
    r: &mut CheckReport,
    table: &str,
    chain: &[Vec<u8>],
    profile: Profile,
    store: &TrustStore,
    now: OffsetDateTime,
) {
    let item = format!("[{table}] cert");
    let Some(leaf) = chain.first() else {
        return;
    };
    match store.verify_with_intermediates(leaf, &chain[1..], profile, now) {
        Ok(v) => {
            let left = v.not_after() - now;
            let msg = format!(
                "{} verifies as {profile} until {} ({} left)",
                v.subject(),
                rfc3339(v.not_after()),
                describe_duration(left)
            );
            if left < CERT_WARN_BEFORE {
                r.warn(item, format!("{msg}; renew it"));
            } else {
                r.ok(item, msg);
            }
        }
        Err(e) => r.fail(item, format!("does not verify as {profile} now: {e}")),
    }
}

/// Checks one CRL at `now` against the CAs of `store`: issued by one of them, current (and for
/// how long: a warning within [`CRL_WARN_BEFORE`]). `from` says where it came from; `fix` what
/// to do when it is stale. Returns the issuer's name when the CRL was issued by a store CA.
pub fn check_crl_freshness(
    r: &mut CheckReport,
    store: &TrustStore,
    der: &[u8],
    from: &str,
    fix: &str,
    now: OffsetDateTime,
) -> Option<String> {
    let summary = match crate::summarize_crl(der) {
        Ok(s) => s,
        Err(e) => {
            r.fail("CRL", format!("{from}: {e}"));
            return None;
        }
    };
    let item = format!("CRL of {}", summary.issuer);
    let number = summary.number.unwrap_or(0);
    if let Err(e) = store.check_crl_issued(der) {
        r.fail(
            item,
            format!("{from}: {e}; a CRL must be issued by the root or a configured issuing CA"),
        );
        return None;
    }
    match (store.check_crl(der, now), summary.next_update) {
        (Ok(_), Some(next)) => {
            let left = next - now;
            let msg = format!(
                "number {number} from {from}, current until {} ({} left)",
                rfc3339(next),
                describe_duration(left)
            );
            if left < CRL_WARN_BEFORE {
                r.warn(
                    item,
                    format!(
                        "{msg}; when it expires every certificate of this CA is refused: {fix}"
                    ),
                );
            } else {
                r.ok(item, msg);
            }
        }
        (Ok(_), None) => r.ok(item, format!("number {number} from {from}")),
        (Err(e), _) => r.fail(
            item,
            format!(
                "number {number} from {from}: {e}; every certificate of this CA is refused: {fix}"
            ),
        ),
    }
    Some(summary.issuer)
}

/// "a" or "an" before a profile's name.
fn article(p: Profile) -> &'static str {
    if p.name().starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// An instant as RFC 3339, UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// A duration as people read it: `6 d 23 h`, `5 h 12 min`, `-2 min 5 s` (already past).
pub fn describe_duration(d: Duration) -> String {
    let sign = if d.is_negative() { "-" } else { "" };
    let s = d.whole_seconds().unsigned_abs();
    let (days, hours, mins) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if days > 0 {
        format!("{sign}{days} d {hours} h")
    } else if hours > 0 {
        format!("{sign}{hours} h {mins} min")
    } else {
        format!("{sign}{mins} min {} s", s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_for_people() {
        assert_eq!(
            describe_duration(Duration::seconds(7 * 86_400 - 3600)),
            "6 d 23 h"
        );
        assert_eq!(
            describe_duration(Duration::seconds(5 * 3600 + 12 * 60)),
            "5 h 12 min"
        );
        assert_eq!(describe_duration(Duration::seconds(-125)), "-2 min 5 s");
    }

    #[test]
    fn a_report_fails_on_any_fail_line_and_lists_problems() {
        let mut r = CheckReport::default();
        r.ok("a", "fine");
        assert!(!r.failed());
        r.warn("b", "soon");
        assert!(!r.failed());
        r.fail("c", "broken");
        assert!(r.failed());
        let lines: Vec<String> = r.problems().map(ToString::to_string).collect();
        assert_eq!(lines, ["WARN b: soon", "FAIL c: broken"]);
    }
}
