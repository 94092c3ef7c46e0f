//! `axis check-config` ([`check_config`]): loads an agency's or the operator's configuration
//! part by part and says, one line per item, what is right and exactly what is wrong — where
//! [`crate::ClientConfig::from_file`] and [`crate::Client::connect`] stop at the first problem.
//!
//! 1. The file: TOML, the agency id, the endpoints, the deadlines, the cache.
//! 2. The root: exactly one certificate, the root-ca profile, valid now.
//! 3. Each credential: the certificate file, the key file and its passphrase (its own or the
//!    shared one), the profile of its slot, the agency id it is bound to, and that the key is
//!    the certificate's.
//! 4. The pinned log key, if any: an axis-log-signer certificate.
//! 5. Unless offline, each endpoint: a connection within the connect deadline (TCP, TLS with
//!    `server_name`, HTTP/2), then from the first that answers the trust material: each CRL is
//!    current now (and how long it stays so), each issuing CA chains to the root, each
//!    credential verifies now with revocation; and the directory's entry of this agency carries
//!    the same seal and encryption certificates as the configuration.

use std::path::Path;
use std::time::Instant;

use axis_pki::KeyPair as _;
use axis_pki::{
    CheckLevel, CheckReport, PolicyArc, Profile, TrustStore, check_crl_freshness, check_slot,
    check_verifies, rfc3339,
};
use axis_proto::v1 as pb;
use time::OffsetDateTime;

use crate::client::fetch_store;
use crate::config::{Credential, FileConfig};
use crate::error::ErrorKind;
use crate::nodes::{self, Attempts, Nodes, Retry};
use crate::tls::ClientTls;

/// Whether [`check_config`] reaches the axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckNetwork {
    /// Connect to every endpoint and verify against the axis's trust material.
    Online,
    /// Files only (revocation and the issuing CAs come from the axis, so certificates are not
    /// verified against the root).
    Offline,
}

/// A credential loaded for checking, with the profile its slot needs.
struct Loaded {
    table: &'static str,
    profile: Profile,
    credential: Credential,
}

/// Checks a configuration file at `now` (see the module documentation).
pub async fn check_config(path: &Path, network: CheckNetwork, now: OffsetDateTime) -> CheckReport {
    let mut r = CheckReport::default();
    // Step 1.
    let file = match FileConfig::read(path) {
        Ok(f) => f,
        Err(e) => {
            r.fail("configuration", e.to_string());
            return r;
        }
    };
    let agency = match file.agency() {
        Ok(a) => a,
        Err(e) => {
            r.fail("agency", e.to_string());
            None
        }
    };
    match &agency {
        Some(a) => r.ok("agency", a.to_string()),
        None if file.agency.is_none() => r.ok("agency", "none: an operator configuration"),
        None => {}
    }
    let endpoints = match file.endpoints() {
        Ok(e) => e,
        Err(e) => {
            r.fail("endpoints", e.to_string());
            Vec::new()
        }
    };
    if file.server_name.trim().is_empty() {
        r.fail(
            "server_name",
            "empty: give the DNS name in the axis server's certificate",
        );
    }
    let timeouts = match file.timeouts() {
        Ok(t) => t,
        Err(e) => {
            r.fail("[timeouts]", e.to_string());
            crate::Timeouts::default()
        }
    };
    if let Err(e) = file.directory_cache() {
        r.fail("[directory_cache]", e.to_string());
    }

    // Step 2.
    let root = match file.root_certificate() {
        Ok(root) => {
            match TrustStore::new(vec![root.clone()], vec![], vec![])
                .and_then(|s| s.verify(&root, Profile::RootCa, now))
            {
                Ok(v) => r.ok(
                    "root",
                    format!("{}, valid until {}", v.subject(), rfc3339(v.not_after())),
                ),
                Err(e) => r.fail("root", format!("{}: {e}", file.root.display())),
            }
            Some(root)
        }
        Err(e) => {
            r.fail("root", e.to_string());
            None
        }
    };

    // Step 3.
    let arc = root
        .as_deref()
        .and_then(|r| PolicyArc::of_ca(r).ok().flatten())
        .unwrap_or_default();
    let mut shared = file.shared_passphrase();
    let mut loaded = Vec::new();
    let tls_profile = if agency.is_some() || file.agency.is_some() {
        Profile::AgencyTlsClient
    } else {
        Profile::AxisOperator
    };
    for (table, profile) in [
        ("tls", tls_profile),
        ("seal", Profile::AgencySeal),
        ("personal", Profile::PersonalSigner),
        ("encryption", Profile::AgencyEncryption),
    ] {
        let Some(fc) = file.credential(table) else {
            continue;
        };
        let chain = fc.certificates(table);
        let key = fc
            .private_key(table, &mut shared)
            .map_err(|e| r.fail(format!("[{table}] key"), e.to_string()))
            .ok();
        let chain = match chain {
            Ok(c) => c,
            Err(e) => {
                r.fail(format!("[{table}] cert"), e.to_string());
                continue;
            }
        };
        let path = fc.cert.display().to_string();
        let slot_ok = check_slot(
            &mut r,
            table,
            &path,
            &chain,
            key.as_ref().map(|k| k as &dyn axis_pki::KeyPair),
            profile,
            agency.as_ref(),
            &arc,
        );
        let key_ok = key.as_ref().is_some_and(|k| {
            axis_pki::public_key_of(&chain[0]).is_ok_and(|pk| pk == k.public_key_der())
        });
        if let (true, true, Some(key)) = (slot_ok, key_ok, key)
            && let Ok(credential) = Credential::new(chain, key)
        {
            loaded.push(Loaded {
                table,
                profile,
                credential,
            });
        }
    }

    // Step 4.
    let log_key = match file.log_key_certificate() {
        Ok(Some(c)) => match axis_pki::profile_of(&c, &arc) {
            Ok(Some(Profile::AxisLogSigner)) => Some(c),
            Ok(p) => {
                r.fail(
                    "log_key",
                    format!(
                        "{} is {}; pin the axis-log-signer certificate",
                        file.log_key.as_deref().unwrap_or(Path::new("")).display(),
                        p.map_or_else(
                            || "no Axis certificate".to_owned(),
                            |p| format!("a {p} certificate")
                        )
                    ),
                );
                None
            }
            Err(e) => {
                r.fail("log_key", e.to_string());
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            r.fail("log_key", e.to_string());
            None
        }
    };

    // Step 5.
    if network == CheckNetwork::Offline {
        r.push(
            CheckLevel::Warn,
            "axis",
            "not contacted (--offline): certificates were not verified against the root and \
             the CRLs, which come from the axis",
        );
        return r;
    }
    let (Some(root), Some(tls)) = (root, loaded.iter().find(|l| l.table == "tls")) else {
        r.fail(
            "axis",
            "not contacted: the root and a working [tls] credential are needed to connect",
        );
        return r;
    };
    let tls = match ClientTls::new(&root, &tls.credential, &file.server_name) {
        Ok(t) => t,
        Err(e) => {
            r.fail("[tls]", e.to_string());
            return r;
        }
    };
    let mut store = None;
    for url in &endpoints {
        let item = format!("endpoint {url}");
        let node = match Nodes::new(std::slice::from_ref(url), &tls, timeouts) {
            Ok(n) => n,
            Err(e) => {
                r.fail(item, e.to_string());
                continue;
            }
        };
        let started = Instant::now();
        match node.conn().await {
            Ok(_) => r.ok(
                item,
                format!(
                    "connected (TLS as {}) in {} ms",
                    file.server_name,
                    started.elapsed().as_millis()
                ),
            ),
            Err((_, failure)) => {
                r.fail(
                    item,
                    format!(
                        "{failure}; check the address, that the node runs, server_name (the \
                         name in the server's certificate) and the root"
                    ),
                );
                continue;
            }
        }
        if store.is_none() {
            match fetch_store(&node, &root, Attempts::one_round(1)).await {
                Ok(s) => store = Some((s, node)),
                Err(e) => r.fail(item_of(url, "trust material"), e.to_string()),
            }
        }
    }
    let Some((store, node)) = store else {
        r.fail(
            "axis",
            "no endpoint answered: the certificates could not be checked against its trust \
             material",
        );
        return r;
    };
    trust_material(&mut r, &store, now);
    for l in &loaded {
        check_verifies(
            &mut r,
            l.table,
            l.credential.chain(),
            l.profile,
            &store,
            now,
        );
    }
    if let Some(c) = log_key {
        match store.verify(&c, Profile::AxisLogSigner, now) {
            Ok(v) => r.ok("log_key", format!("{} verifies", v.subject())),
            Err(e) => r.fail("log_key", format!("does not verify: {e}")),
        }
    }
    if let Some(me) = &agency {
        directory_entry(&mut r, &node, me, &loaded).await;
    }
    r
}

/// Checks the axis's CRLs (freshness) and issuing CAs.
fn trust_material(r: &mut CheckReport, store: &TrustStore, now: OffsetDateTime) {
    for der in store.crls() {
        check_crl_freshness(
            r,
            store,
            der,
            "the axis",
            "tell the axis operator to publish a fresh one",
            now,
        );
    }
    for ca in store.intermediates() {
        let subject = axis_pki::subject_of(ca).unwrap_or_default();
        match store.verify(ca, Profile::IssuingCa, now) {
            Ok(v) => r.ok(
                format!("issuing CA {subject}"),
                format!("chains to the root, valid until {}", rfc3339(v.not_after())),
            ),
            Err(e) => r.fail(format!("issuing CA {subject}"), e.to_string()),
        }
    }
}

/// The directory's entry of this agency, against the configuration.
async fn directory_entry(
    r: &mut CheckReport,
    node: &Nodes,
    me: &axis_pki::AgencyId,
    loaded: &[Loaded],
) {
    let request = pb::LookupAgencyRequest {
        agency_id: me.to_string(),
    };
    let entry = node
        .unary(
            "look up this agency",
            Retry::Always,
            node.timeouts.call,
            Attempts::one_round(1),
            |ch| {
                let request = request.clone();
                async move { nodes::directory(ch).lookup_agency(request).await }
            },
        )
        .await;
    let item = format!("directory entry of {me}");
    let a = match entry {
        Ok(a) => a,
        Err(e) if *e.kind() == ErrorKind::NotFound => {
            r.fail(
                item,
                "not registered: the axis operator registers it (axis directory register) \
                 with this agency's seal and encryption certificates",
            );
            return;
        }
        Err(e) => {
            r.fail(item, e.to_string());
            return;
        }
    };
    r.ok(item.clone(), format!("registered as \"{}\"", a.name));
    for (table, listed) in [
        ("seal", &a.seal_certificate),
        ("encryption", &a.encryption_certificate),
    ] {
        if let Some(l) = loaded.iter().find(|l| l.table == table)
            && l.credential.certificate() != listed.as_slice()
        {
            r.warn(
                item.clone(),
                format!(
                    "the directory lists another {table} certificate than [{table}] cert; \
                     senders use the directory's: ask the axis operator to update it (axis \
                     directory update)"
                ),
            );
        }
    }
}

fn item_of(url: &str, what: &str) -> String {
    format!("endpoint {url} {what}")
}
