//! `axis-pki revoke`: record a revocation and publish the issuer's new CRL, in one locked step.

use std::path::Path;

use axis_pki::{CaSigner, Serial};
use time::OffsetDateTime;

use super::{find_ca, kv, make_crl, parse_reason};
use crate::cli::RevokeArgs;
use crate::error::{Failure, Result, ResultExt};
use crate::fsutil::{MODE_PUBLIC, Txn};
use crate::index::{ROOT_ID, Revocation, fmt_time};
use crate::secrets::{self, Kind};
use crate::store::{Access, CaDir};

pub(crate) fn run(dir: &Path, args: &RevokeArgs, now: OffsetDateTime) -> Result<String> {
    let serial = Serial::from_hex(args.serial.trim()).map_err(|e| {
        Failure::from(e).hint("`axis-pki list` prints every serial this directory issued")
    })?;
    let reason = parse_reason(&args.reason)?;
    let pass = secrets::get(
        Kind::Ca,
        args.ca_pass.ca_pass_file.as_deref(),
        "the key of the CA that issued the certificate",
    );

    let (ca_dir, mut index) = CaDir::open(dir, Access::Write)?;
    let mut notes = ca_dir.recover_orphans(&mut index)?;
    let root = find_ca(&index, ROOT_ID)?;
    if Serial::from_hex(&root.serial).ok().as_ref() == Some(&serial) {
        return Err(Failure::new(format!(
            "{serial} is the root CA's own certificate, which no CRL can revoke"
        ))
        .hint("a compromised root means a new hierarchy: `axis-pki init` in a new directory"));
    }
    let Some(pos) = index.find(&serial) else {
        return Err(Failure::new(format!(
            "no certificate with serial {serial} was issued from {}",
            ca_dir.root().display()
        ))
        .hint(
            "`axis-pki list` shows every serial this directory issued \
             (`openssl x509 -noout -serial -in CERT` prints a certificate's); check --dir",
        ));
    };
    let record = index.certificates[pos].clone();
    if let Some(r) = &record.revocation {
        return Err(Failure::new(format!(
            "certificate {serial} ({}) was already revoked at {} ({})",
            record.common_name,
            fmt_time(r.at),
            r.reason
        ))
        .hint("revocation is final; nothing to do (`axis-pki list` shows its status)"));
    }
    let issuer = find_ca(&index, &record.issuer)?.clone();
    let issuer_der = ca_dir.ca_cert(&issuer)?;
    let issuer_key = ca_dir.ca_key(&issuer, &pass)?;
    let signer = CaSigner::new(&issuer_der, &issuer_key, now)
        .context(format!("CA `{}`, which must sign the new CRL", issuer.id))?;

    index.certificates[pos].revocation = Some(Revocation {
        at: now,
        reason: reason.name().to_owned(),
    });
    let (crl, number, next_update) =
        make_crl(&ca_dir, &index, &issuer, &signer, args.crl_days, now)?;
    if let Some(c) = index.ca_mut(&issuer.id) {
        c.next_crl_number = number + 1;
    }
    let revoked_ca = index
        .cas
        .iter()
        .find(|c| c.id != ROOT_ID && Serial::from_hex(&c.serial).ok().as_ref() == Some(&serial))
        .map(|c| c.id.clone());

    let mut txn = Txn::new();
    txn.replace(&ca_dir.path(&issuer.crl), crl.pem().as_bytes(), MODE_PUBLIC)?;
    ca_dir.write_index(&mut txn, &index)?;
    txn.commit();

    let mut out = format!(
        "Revoked {serial} ({}, {}) for {reason}.\n",
        record.profile,
        match &record.agency_id {
            Some(a) => format!("{} ({a})", record.common_name),
            None => record.common_name.clone(),
        }
    );
    kv(
        &mut out,
        &[
            ("revoked at:", fmt_time(now)),
            (
                "CRL:",
                format!(
                    "{} (number {number}, next update {}) from CA `{}`",
                    ca_dir.path(&issuer.crl).display(),
                    fmt_time(next_update),
                    issuer.id
                ),
            ),
        ],
    );
    if let Some(id) = revoked_ca {
        notes.push(format!(
            "`{id}` is an issuing CA: every certificate it issued now fails verification"
        ));
    }
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str("Publish the new CRL wherever relying parties fetch it.\n");
    Ok(out)
}
