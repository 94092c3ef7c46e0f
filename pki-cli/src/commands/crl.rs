//! `axis-pki crl`: publish a fresh CRL for a CA.

use std::path::Path;

use axis_pki::CaSigner;
use time::OffsetDateTime;

use super::{find_ca, kv, make_crl};
use crate::cli::CrlArgs;
use crate::error::{Result, ResultExt};
use crate::fsutil::{MODE_PUBLIC, Txn};
use crate::index::fmt_time;
use crate::secrets::{self, Kind};
use crate::store::{Access, CaDir};

pub(crate) fn run(dir: &Path, args: &CrlArgs, now: OffsetDateTime) -> Result<String> {
    let pass = secrets::get(
        Kind::Ca,
        args.ca_pass.ca_pass_file.as_deref(),
        &format!("the key of CA `{}`", args.ca),
    );
    let (ca_dir, mut index) = CaDir::open(dir, Access::Write)?;
    let notes = ca_dir.recover_orphans(&mut index)?;
    let ca = find_ca(&index, &args.ca)?.clone();
    let der = ca_dir.ca_cert(&ca)?;
    let key = ca_dir.ca_key(&ca, &pass)?;
    let signer = CaSigner::new(&der, &key, now).context(format!("CA `{}`", ca.id))?;
    let (crl, number, next_update) = make_crl(&ca_dir, &index, &ca, &signer, args.days, now)?;
    let entries = index.revoked_by(&ca.id)?.len();
    if let Some(c) = index.ca_mut(&ca.id) {
        c.next_crl_number = number + 1;
    }

    let mut txn = Txn::new();
    txn.replace(&ca_dir.path(&ca.crl), crl.pem().as_bytes(), MODE_PUBLIC)?;
    ca_dir.write_index(&mut txn, &index)?;
    txn.commit();

    let mut out = format!("Published CRL number {number} of CA `{}`.\n", ca.id);
    kv(
        &mut out,
        &[
            ("file:", ca_dir.path(&ca.crl).display().to_string()),
            ("revoked:", format!("{entries} certificate(s)")),
            ("this update:", fmt_time(now)),
            ("next update:", fmt_time(next_update)),
        ],
    );
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out.push_str("Publish it again before its next update, or relying parties will reject every certificate of this CA.\n");
    Ok(out)
}
