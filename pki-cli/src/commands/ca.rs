//! `axis-pki ca`: an issuing CA signed by the root.

use std::path::Path;

use axis_keys::{Key, KeyUse};
use axis_pki::{CaSigner, IssueRequest, KeyPair, PrivateKey, Profile, PublicKey, Serial, Subject};
use time::OffsetDateTime;

use super::{find_ca, kv, make_crl, validity};
use crate::certinfo::CertInfo;
use crate::cli::CaArgs;
use crate::error::{Failure, Result};
use crate::fsutil::{MODE_PRIVATE_DIR, MODE_PUBLIC, MODE_SECRET};
use crate::index::{CaRecord, CertRecord, ROOT_ID, fmt_time};
use crate::names;
use crate::secrets::{self, Kind};
use crate::store::{self, Access, CaDir};
use crate::tokens;

pub(crate) fn run(dir: &Path, args: &CaArgs, now: OffsetDateTime) -> Result<String> {
    names::check_ca_id(&args.id)?;
    let alg = super::key_type(args.key_type.as_deref(), Profile::IssuingCa)?;
    let mut subject = Subject::new(args.name.clone());
    subject.organization = args.org.clone();
    subject.check(Profile::IssuingCa)?;
    // The root's passphrase (or PIN) is needed only if its key asks for it.
    let root_pass = secrets::get(
        Kind::Ca,
        args.ca_pass.ca_pass_file.as_deref(),
        "the root CA key",
    );
    let new_key_pass = args.new_key_pass.new_key_pass_file.as_deref();
    let (uri, new_pass) = match &args.token.key {
        Some(text) => (Some(tokens::parse_uri(text)?), None),
        None => (
            None,
            Some(secrets::get_new(
                new_key_pass,
                &format!("the new key of CA `{}`", args.id),
            )?),
        ),
    };

    let (ca_dir, mut index) = CaDir::open(dir, Access::Write)?;
    let mut notes = ca_dir.recover_orphans(&mut index)?;
    if index.ca(&args.id).is_some() {
        return Err(Failure::new(format!("CA `{}` already exists", args.id))
            .hint("choose another --id; `axis-pki list` shows the CAs"));
    }
    let ca_dir_rel = format!("{}/{}", store::CAS_DIR, args.id);
    if ca_dir.path(&ca_dir_rel).exists() {
        return Err(Failure::new(format!(
            "{} exists but CA `{}` is not in the index (left by an interrupted `axis-pki ca`)",
            ca_dir.path(&ca_dir_rel).display(),
            args.id
        ))
        .hint("remove that directory, or choose another --id"));
    }

    let root = find_ca(&index, ROOT_ID)?;
    let root_der = ca_dir.ca_cert(root)?;
    let root_key = ca_dir.ca_key(root, &root_pass)?;
    let root_signer = CaSigner::new(&root_der, &root_key, now)?;

    let key: Key = match &uri {
        Some(uri) => tokens::new_key(&args.token, uri, alg, KeyUse::Sign, new_key_pass)?.into(),
        None => {
            eprintln!("axis-pki: generating the key of CA `{}` ({alg})…", args.id);
            PrivateKey::generate(alg)?.into()
        }
    };
    let alg = key.algorithm();
    let public = PublicKey::from_spki_der(key.public_key_der())?;
    let (not_before, not_after) = validity(
        Profile::IssuingCa,
        alg,
        args.days,
        Some(root.not_after),
        now,
        &mut notes,
    );
    let cert = root_signer.issue(
        &IssueRequest {
            profile: Profile::IssuingCa,
            subject,
            not_before,
            not_after,
            serial: Serial::random()?,
        },
        &public,
    )?;
    let key_pem = match (key.file_key(), &new_pass) {
        (Some(k), Some(pass)) => Some(k.to_encrypted_pem(&pass.pass)?),
        _ => None,
    };
    let info = CertInfo::of(cert.der())?;
    let record = CaRecord {
        id: args.id.clone(),
        name: args.name.clone(),
        serial: info.serial.to_string(),
        key_type: alg.name().to_owned(),
        cert: store::ca_cert_path(&args.id),
        key: match &key_pem {
            Some(_) => store::ca_key_path(&args.id),
            None => key.location(),
        },
        crl: store::crl_path(&args.id),
        next_crl_number: 1,
        not_before: info.not_before,
        not_after: info.not_after,
        created_at: now,
    };
    let signer = CaSigner::new(cert.der(), &key, now)?;
    let (crl, number, next_update) =
        make_crl(&ca_dir, &index, &record, &signer, args.crl_days, now)?;
    let copy = store::issued_path(&info.serial);
    index.certificates.push(CertRecord {
        serial: info.serial.to_string(),
        issuer: ROOT_ID.to_owned(),
        profile: Profile::IssuingCa.name().to_owned(),
        subject: info.subject.clone(),
        common_name: info.common_name.clone(),
        agency_id: None,
        not_before: info.not_before,
        not_after: info.not_after,
        issued_at: now,
        path: copy.clone(),
        revocation: None,
        recovered: false,
    });
    index.cas.push(CaRecord {
        next_crl_number: number + 1,
        ..record.clone()
    });

    let mut txn = crate::fsutil::Txn::new();
    txn.create_dir_all(&ca_dir.path(&ca_dir_rel), MODE_PRIVATE_DIR)?;
    txn.create(&ca_dir.path(&copy), cert.pem().as_bytes(), MODE_PUBLIC)?;
    if let Some(pem) = &key_pem {
        txn.create(&ca_dir.path(&record.key), pem.as_bytes(), MODE_SECRET)?;
    }
    txn.create(
        &ca_dir.path(&record.cert),
        cert.pem().as_bytes(),
        MODE_PUBLIC,
    )?;
    txn.replace(&ca_dir.path(&record.crl), crl.pem().as_bytes(), MODE_PUBLIC)?;
    ca_dir.write_index(&mut txn, &index)?;
    txn.commit();

    let mut out = format!(
        "Created issuing CA `{}` (\"{}\"), signed by the root.\n",
        args.id, args.name
    );
    kv(
        &mut out,
        &[
            ("serial:", info.serial.to_string()),
            (
                "key:",
                super::describe_key(&key, alg, &ca_dir.path(&record.key)),
            ),
            (
                "certificate:",
                ca_dir.path(&record.cert).display().to_string(),
            ),
            (
                "valid:",
                format!(
                    "{} to {}",
                    fmt_time(info.not_before),
                    fmt_time(info.not_after)
                ),
            ),
            (
                "CRL:",
                format!(
                    "{} (number {number}, next update {})",
                    ca_dir.path(&record.crl).display(),
                    fmt_time(next_update)
                ),
            ),
        ],
    );
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str(&format!(
        "Next: issue certificates with `axis-pki issue --ca {} --profile PROFILE ...`.\n",
        args.id
    ));
    Ok(out)
}
