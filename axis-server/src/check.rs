//! `axis-server check-config`: loads everything a node would load and says, one line per item,
//! what is right and exactly what is wrong, without starting anything.
//!
//! 1. The key passphrases: the shared one, and each key's own.
//! 2. The trust anchor: exactly one certificate, the root-ca profile, valid now.
//! 3. The issuing CAs: each verifies for the issuing-ca profile under the root, now, with the
//!    root's CRL (so a CA that does not chain to the configured root is named).
//! 4. The CRLs: each file is issued by a configured CA; the newest per CA (files, and those
//!    published to the database with `PublishCrl`) is current now and says how long it stays
//!    so; a CA without one is named (every certificate it issued would be refused).
//! 5. The node's own certificates, TLS and log signer: the profile of their slot, the key file
//!    decrypts and holds the certificate's key, a chain to the root with revocation now, and
//!    how long until they expire.
//! 6. The database (unless skipped): reachable, and the CRLs published to it.

use std::collections::HashMap;

use axis_pki::{CheckReport, Passphrase, Profile, TrustStore, check_crl_freshness, rfc3339};
use time::OffsetDateTime;

use crate::config::{Config, KeyPairFiles};
use crate::keys;
use crate::store::Db;
use crate::trust::{read_certificates, read_crl};

/// What to do about a stale CRL, for the report.
const CRL_FIX: &str = "issue a fresh one (axis-pki crl) and publish it (axis directory \
                       publish-crl), or replace the file";

/// Whether `check` reads the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    /// Connect (as a start would, creating and migrating it if needed) and read the CRLs
    /// published to it.
    Check,
    /// Leave it alone: only the files are checked.
    Skip,
}

/// Checks a configuration at `now` (see the module documentation for what is checked).
pub async fn check(config: &Config, now: OffsetDateTime, database: Database) -> CheckReport {
    let mut r = CheckReport::default();

    // Step 1.
    let shared = match keys::shared_passphrase(config) {
        Ok(Some(p)) => {
            r.ok("passphrase", format!("the shared one, from {}", p.source));
            Some(p)
        }
        Ok(None) => None,
        Err(e) => {
            r.fail("passphrase", e.to_string());
            None
        }
    };

    // Step 2.
    let root = match read_certificates(&config.trust.root) {
        Ok(certs) if certs.len() == 1 => certs.into_iter().next(),
        Ok(certs) => {
            r.fail(
                "[trust] root",
                format!(
                    "{}: {} certificates; give exactly one, the root CA (not a chain)",
                    config.trust.root.display(),
                    certs.len()
                ),
            );
            None
        }
        Err(e) => {
            r.fail("[trust] root", detail(e));
            None
        }
    };
    let Some(root) = root else {
        return r;
    };
    match TrustStore::new(vec![root.clone()], vec![], vec![])
        .and_then(|s| s.verify(&root, Profile::RootCa, now))
    {
        Ok(v) => r.ok(
            "[trust] root",
            format!("{}, valid until {}", v.subject(), rfc3339(v.not_after())),
        ),
        Err(e) => r.fail(
            "[trust] root",
            format!("{}: {e}", config.trust.root.display()),
        ),
    }

    // Step 3 (read).
    let mut intermediates = Vec::new();
    for p in &config.trust.intermediates {
        match read_certificates(p) {
            Ok(certs) => intermediates.extend(certs.into_iter().map(|c| (p.clone(), c))),
            Err(e) => r.fail("[trust] intermediates", detail(e)),
        }
    }
    let ca_ders: Vec<Vec<u8>> = intermediates.iter().map(|(_, c)| c.clone()).collect();
    let base = match TrustStore::new(vec![root.clone()], ca_ders.clone(), vec![]) {
        Ok(b) => b,
        Err(e) => {
            r.fail("[trust]", e.to_string());
            return r;
        }
    };

    // Step 6 (first: its CRLs take part in step 4).
    let mut published = Vec::new();
    if database == Database::Check {
        let url = redact(&config.database_url);
        match Db::connect(&config.database_url).await {
            Ok(db) => {
                match db.crls().await {
                    Ok(c) => {
                        r.ok(
                            "database",
                            format!("{url} answers; {} CRLs stored", c.len()),
                        );
                        published = c;
                    }
                    Err(e) => r.fail(
                        "database",
                        format!("{url}: reading the CRLs: {}", detail(e)),
                    ),
                }
                db.close().await;
            }
            Err(e) => r.fail("database", format!("{url}: {}", detail(e))),
        }
    }

    // Step 4: the newest CRL of each CA, as the node would use it.
    let mut newest: HashMap<Vec<u8>, (u64, Vec<u8>, String)> = HashMap::new();
    let files = config
        .trust
        .crls
        .iter()
        .map(|p| (p.display().to_string(), read_crl(p)));
    let stored = published
        .into_iter()
        .map(|d| ("the database".to_owned(), Ok(d)));
    for (from, der) in files.chain(stored) {
        let der = match der {
            Ok(d) => d,
            Err(e) => {
                r.fail("[trust] crls", detail(e));
                continue;
            }
        };
        match base.check_crl_issued(&der) {
            Ok(c) => {
                if newest.get(&c.issuer).is_none_or(|(n, _, _)| c.number > *n) {
                    newest.insert(c.issuer, (c.number, der, from));
                }
            }
            Err(e) => r.fail(
                "[trust] crls",
                format!("{from}: {e}; a CRL must be issued by the root or a configured issuing CA"),
            ),
        }
    }
    let mut crls = Vec::new();
    let mut crl_issuers = Vec::new();
    for (_, der, from) in newest.into_values() {
        crl_issuers.extend(check_crl_freshness(
            &mut r, &base, &der, &from, CRL_FIX, now,
        ));
        crls.push(der);
    }
    for ca in std::iter::once(&root).chain(&ca_ders) {
        if let Ok(subject) = axis_pki::subject_of(ca)
            && !crl_issuers.contains(&subject)
        {
            r.fail(
                format!("CRL of {subject}"),
                "none configured or published: every certificate this CA issued will be \
                 refused; add its CRL file to [trust] crls (axis-pki crl writes it)",
            );
        }
    }
    let store = match TrustStore::new(vec![root], ca_ders, crls) {
        Ok(s) => s,
        Err(e) => {
            r.fail("[trust]", e.to_string());
            return r;
        }
    };

    // Step 3.
    for (path, ca) in &intermediates {
        match store.verify(ca, Profile::IssuingCa, now) {
            Ok(v) => r.ok(
                "[trust] intermediates",
                format!("{}, valid until {}", v.subject(), rfc3339(v.not_after())),
            ),
            Err(e) => r.fail("[trust] intermediates", format!("{}: {e}", path.display())),
        }
    }

    // Step 5.
    let shared = shared.as_ref().map(|s| (&s.passphrase, s.source.as_str()));
    for (table, kp) in keys::key_tables(config) {
        let profile = match table {
            "tls" => Profile::AxisServerTls,
            _ => Profile::AxisLogSigner,
        };
        own(&mut r, &store, table, kp, profile, shared, now);
    }
    r
}

/// One of the node's own certificate and key pairs.
fn own(
    r: &mut CheckReport,
    store: &TrustStore,
    table: &'static str,
    kp: &KeyPairFiles,
    profile: Profile,
    shared: Option<(&Passphrase, &str)>,
    now: OffsetDateTime,
) {
    let key = keys::load_key(table, kp, shared)
        .map_err(|e| r.fail(format!("[{table}] key"), e.to_string()))
        .ok();
    let chain = match read_certificates(&kp.cert) {
        Ok(c) => c,
        Err(e) => {
            r.fail(format!("[{table}] cert"), detail(e));
            return;
        }
    };
    let path = kp.cert.display().to_string();
    let arc = store.policy_arcs().first().cloned().unwrap_or_default();
    if axis_pki::check_slot(
        r,
        table,
        &path,
        &chain,
        key.as_ref().map(|k| k as &dyn axis_pki::KeyPair),
        profile,
        None,
        &arc,
    ) {
        axis_pki::check_verifies(r, table, &chain, profile, store, now);
    }
}

/// An error with its detail (the server's own errors hide it from clients).
fn detail(e: crate::ServerError) -> String {
    match e {
        crate::ServerError::Internal(fault) => fault.to_string(),
        crate::ServerError::Storage(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_password_is_not_printed() {
        assert_eq!(
            redact("postgres://axis:s3cret@db.example.vn/axis"),
            "postgres://axis:***@db.example.vn/axis"
        );
        assert_eq!(
            redact("sqlite:///var/lib/axis/axis.db"),
            "sqlite:///var/lib/axis/axis.db"
        );
        assert_eq!(
            redact("postgres://root@127.0.0.1/test"),
            "postgres://root@127.0.0.1/test"
        );
    }
}
