//! `axis-pki export`: a key, its certificate and the chain as PKCS#12.

use std::path::Path;

use axis_pki::{Pkcs12Compat, PrivateKey, export_pkcs12};

use super::kv;
use crate::certinfo::{self, CertInfo};
use crate::cli::ExportArgs;
use crate::error::{Failure, Result};
use crate::fsutil::{self, MODE_SECRET, Txn};
use crate::index::{ROOT_ID, fmt_time};
use crate::secrets::{self, Kind};
use crate::store::{Access, CaDir};

pub(crate) fn run(dir: &Path, args: &ExportArgs) -> Result<String> {
    if args.key.to_str().is_some_and(|k| k.starts_with("pkcs11:")) {
        return Err(Failure::new(
            "a key on a PKCS#11 token never leaves it: there is nothing to put in a PKCS#12 bundle",
        )
        .hint(
            "give the holder the certificate and its chain (<name>.chain.pem) instead; their \
             software uses the key on the token",
        ));
    }
    let key_pass = secrets::get(
        Kind::Key,
        args.key_pass.key_pass_file.as_deref(),
        &format!("the key {}", args.key.display()),
    )?;
    let p12_pass = secrets::get(
        Kind::P12,
        args.p12_pass.p12_pass_file.as_deref(),
        "the PKCS#12 bundle",
    )?;
    p12_pass.pass.check_strength().map_err(|e| {
        Failure::from(e)
            .context(format!(
                "passphrase for the PKCS#12 bundle (from {})",
                p12_pass.source
            ))
            .hint("choose at least 8 characters, e.g. `openssl rand -base64 24 > FILE`")
    })?;
    if args.out.symlink_metadata().is_ok() {
        return Err(Failure::new(format!(
            "{} already exists; axis-pki never overwrites a file",
            args.out.display()
        ))
        .hint("choose another --out"));
    }
    let cert_der = certinfo::read_certs(&args.cert, "certificate")?.remove(0);
    let info = CertInfo::of(&cert_der).map_err(|f| f.context(args.cert.display()))?;
    let key_text = fsutil::read_text(&args.key, 64 * 1024, "key")?;
    let key = PrivateKey::from_encrypted_pem(&key_text, &key_pass.pass).map_err(|e| match e {
        axis_pki::Error::WrongPassphrase => Failure::new(format!(
            "wrong passphrase for the key {}",
            args.key.display()
        ))
        .hint(format!(
            "the passphrase came from {}; give the one chosen when the key was issued \
             (its --new-key-pass-file or AXIS_PKI_NEW_KEY_PASS then)",
            key_pass.source
        )),
        other => Failure::from(other).context(format!("key {}", args.key.display())),
    })?;

    let (ca_dir, index) = CaDir::open(dir, Access::Read)?;
    let pos = index.find(&info.serial).ok_or_else(|| {
        Failure::new(format!(
            "certificate {} (serial {}) was not issued from {}",
            args.cert.display(),
            info.serial,
            ca_dir.root().display()
        ))
        .hint("check --dir (or AXIS_PKI_DIR): the chain is taken from the CA directory that issued it")
    })?;
    let record = &index.certificates[pos];
    let stored = certinfo::read_one(&ca_dir.path(&record.path), "issued certificate copy")?;
    if stored != cert_der {
        return Err(Failure::new(format!(
            "{} has serial {} but is not the certificate this CA directory issued with it",
            args.cert.display(),
            info.serial
        )));
    }
    if let Some(r) = &record.revocation {
        eprintln!(
            "axis-pki: warning: certificate {} was revoked at {} ({}); relying parties will reject it",
            info.serial,
            fmt_time(r.at),
            r.reason
        );
    }
    let mut chain = Vec::new();
    let mut ca_id = record.issuer.clone();
    loop {
        let ca = super::find_ca(&index, &ca_id)?;
        chain.push(ca_dir.ca_cert(ca)?);
        if ca.id == ROOT_ID {
            break;
        }
        ca_id = ROOT_ID.to_owned();
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| info.common_name.clone());
    let compat = if args.legacy {
        Pkcs12Compat::Legacy3Des
    } else {
        Pkcs12Compat::Modern
    };
    let der = export_pkcs12(&key, &cert_der, &chain, &name, &p12_pass.pass, compat)?;
    drop(ca_dir);

    let mut txn = Txn::new();
    txn.create(&args.out, &der, MODE_SECRET)?;
    txn.commit();

    let mut out = format!("Exported {} as PKCS#12.\n", info.who());
    kv(
        &mut out,
        &[
            ("file:", format!("{} (mode 0600)", args.out.display())),
            ("friendly name:", name),
            (
                "contents:",
                format!(
                    "key, certificate {}, {} CA certificate(s)",
                    info.serial,
                    chain.len()
                ),
            ),
            (
                "encryption:",
                if args.legacy {
                    "3DES with a SHA-1 MAC (legacy importers only)".to_owned()
                } else {
                    "AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC".to_owned()
                },
            ),
        ],
    );
    Ok(out)
}
