//! `axis-pki init`: a new CA directory with its root.

use std::path::Path;

use axis_keys::{Key, KeyUse};
use axis_pki::{
    CaSigner, IssueRequest, KeyPair, PolicyArc, PrivateKey, Profile, Serial, Subject,
    issue_root_with_arc,
};
use time::OffsetDateTime;

use super::{kv, make_crl, validity};
use crate::certinfo::{CertInfo, colon_hex};
use crate::cli::InitArgs;
use crate::error::Result;
use crate::fsutil::{MODE_DIR, MODE_PRIVATE_DIR, MODE_PUBLIC, MODE_SECRET};
use crate::index::{CaRecord, Index, ROOT_ID, fmt_time};
use crate::secrets;
use crate::store::{self, CaDir, ROOT_CERT, ROOT_KEY};
use crate::tokens;

pub(crate) fn run(dir: &Path, args: &InitArgs, now: OffsetDateTime) -> Result<String> {
    // Everything that can be checked without the directory, first.
    let alg = super::key_type(args.key_type.as_deref(), Profile::RootCa)?;
    let mut subject = Subject::new(args.name.clone());
    subject.organization = args.org.clone();
    subject.check(Profile::RootCa)?;
    let arc = match &args.policy_arc {
        Some(text) => PolicyArc::parse(text)?,
        None => PolicyArc::default(),
    };
    let mut notes = Vec::new();
    if !arc.is_narrow() {
        notes.push(format!(
            "the policy arc {arc} has a component of 2^31 or more: Go before 1.22 (grpcurl and \
             other Go tools built before 2024) and some 32-bit X.509 parsers cannot read this \
             PKI's certificates"
        ));
    }
    let new_key_pass = args.new_key_pass.new_key_pass_file.as_deref();
    let (uri, pass) = match &args.token.key {
        Some(text) => (Some(tokens::parse_uri(text)?), None),
        None => (
            None,
            Some(secrets::get_new(new_key_pass, "the new root CA key")?),
        ),
    };

    let (ca_dir, mut txn) = CaDir::create(dir)?;

    // All crypto in memory (or on the token).
    let key: Key = match &uri {
        Some(uri) => tokens::new_key(&args.token, uri, alg, KeyUse::Sign, new_key_pass)?.into(),
        None => {
            eprintln!("axis-pki: generating the root key ({alg})…");
            PrivateKey::generate(alg)?.into()
        }
    };
    let alg = key.algorithm();
    let (not_before, not_after) = validity(Profile::RootCa, alg, args.days, None, now, &mut notes);
    let cert = issue_root_with_arc(
        &IssueRequest {
            profile: Profile::RootCa,
            subject,
            not_before,
            not_after,
            serial: Serial::random()?,
        },
        &arc,
        &key,
    )?;
    let key_pem = match (key.file_key(), &pass) {
        (Some(k), Some(pass)) => Some(k.to_encrypted_pem(&pass.pass)?),
        _ => None,
    };
    let key_location = key_pem
        .as_ref()
        .map_or_else(|| key.location(), |_| ROOT_KEY.to_owned());
    let info = CertInfo::of(cert.der())?;
    let mut index = Index::new();
    index.cas.push(CaRecord {
        id: ROOT_ID.to_owned(),
        name: args.name.clone(),
        serial: info.serial.to_string(),
        key_type: alg.name().to_owned(),
        cert: ROOT_CERT.to_owned(),
        key: key_location.clone(),
        crl: store::crl_path(ROOT_ID),
        next_crl_number: 1,
        not_before: info.not_before,
        not_after: info.not_after,
        created_at: now,
    });
    let signer = CaSigner::new(cert.der(), &key, now)?;
    let root = &index.cas[0];
    let (crl, number, next_update) = make_crl(&ca_dir, &index, root, &signer, args.crl_days, now)?;
    let crl_rel = root.crl.clone();
    if let Some(r) = index.ca_mut(ROOT_ID) {
        r.next_crl_number = number + 1;
    }

    // Then the writes, the index last.
    txn.create_dir_all(&ca_dir.path("root"), MODE_PRIVATE_DIR)?;
    txn.create_dir_all(&ca_dir.path(store::CAS_DIR), MODE_PRIVATE_DIR)?;
    txn.create_dir_all(&ca_dir.path(store::CERTS_DIR), MODE_DIR)?;
    txn.create_dir_all(&ca_dir.path(store::CRL_DIR), MODE_DIR)?;
    if let Some(pem) = &key_pem {
        txn.create(&ca_dir.path(ROOT_KEY), pem.as_bytes(), MODE_SECRET)?;
    }
    txn.create(&ca_dir.path(ROOT_CERT), cert.pem().as_bytes(), MODE_PUBLIC)?;
    txn.create(&ca_dir.path(&crl_rel), crl.pem().as_bytes(), MODE_PUBLIC)?;
    ca_dir.write_index(&mut txn, &index)?;
    txn.commit();

    let mut out = format!(
        "Created the CA directory {} with root CA \"{}\".\n",
        ca_dir.root().display(),
        args.name
    );
    kv(
        &mut out,
        &[
            ("serial:", info.serial.to_string()),
            (
                "key:",
                super::describe_key(&key, alg, &ca_dir.path(ROOT_KEY)),
            ),
            ("certificate:", ca_dir.path(ROOT_CERT).display().to_string()),
            (
                "valid:",
                format!(
                    "{} to {}",
                    fmt_time(info.not_before),
                    fmt_time(info.not_after)
                ),
            ),
            ("SHA-256:", colon_hex(&info.fingerprint)),
            ("policy arc:", format!("{arc} (profiles are {arc}.1.<n>)")),
            (
                "CRL:",
                format!(
                    "{} (number {number}, next update {})",
                    ca_dir.path(&crl_rel).display(),
                    fmt_time(next_update)
                ),
            ),
        ],
    );
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(
        "Distribute the root certificate (and its SHA-256 fingerprint) to relying parties; keep \
         its key and passphrase offline.\nNext: create an issuing CA with \
         `axis-pki ca --id ID --name NAME`.\n",
    );
    Ok(out)
}
