//! `axis-pki list`: the CAs, and every certificate they issued with its status.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::find_ca;
use crate::cli::ListArgs;
use crate::error::{Failure, Result};
use crate::index::{CertRecord, ROOT_ID, fmt_time};
use crate::store::{Access, CaDir, expired};

#[derive(Serialize)]
struct JsonList<'a> {
    cas: Vec<JsonCa<'a>>,
    certificates: Vec<JsonCert<'a>>,
}

#[derive(Serialize)]
struct JsonCa<'a> {
    id: &'a str,
    name: &'a str,
    serial: &'a str,
    key_type: &'a str,
    not_after: String,
    status: &'static str,
    crl: Option<JsonCrl>,
}

#[derive(Serialize)]
struct JsonCrl {
    number: Option<u64>,
    this_update: String,
    next_update: Option<String>,
    revoked: usize,
    stale: bool,
}

#[derive(Serialize)]
struct JsonCert<'a> {
    serial: &'a str,
    ca: &'a str,
    profile: &'a str,
    subject: &'a str,
    common_name: &'a str,
    agency_id: Option<&'a str>,
    not_before: String,
    not_after: String,
    status: &'static str,
    revocation: Option<JsonRevocation<'a>>,
    path: &'a str,
}

#[derive(Serialize)]
struct JsonRevocation<'a> {
    at: String,
    reason: &'a str,
}

fn status(c: &CertRecord, now: OffsetDateTime) -> &'static str {
    if c.revocation.is_some() {
        "revoked"
    } else if expired(c.not_after, now) {
        "expired"
    } else {
        "valid"
    }
}

pub(crate) fn run(dir: &Path, args: &ListArgs, now: OffsetDateTime) -> Result<String> {
    let (ca_dir, index) = CaDir::open(dir, Access::Read)?;
    if let Some(id) = &args.ca {
        find_ca(&index, id)?;
    }
    let certs: Vec<&CertRecord> = index
        .certificates
        .iter()
        .filter(|c| args.ca.as_ref().is_none_or(|id| &c.issuer == id))
        .collect();

    let mut cas = Vec::new();
    for ca in &index.cas {
        let crl = match ca_dir.crl_der(ca)? {
            Some(der) => Some(
                axis_pki::summarize_crl(&der)
                    .map_err(|e| Failure::from(e).context(format!("CRL of CA `{}`", ca.id)))?,
            ),
            None => None,
        };
        let revoked = index
            .ca_cert_record(ca)
            .is_some_and(|r| r.revocation.is_some());
        cas.push(JsonCa {
            id: &ca.id,
            name: &ca.name,
            serial: &ca.serial,
            key_type: &ca.key_type,
            not_after: fmt_time(ca.not_after),
            status: if revoked {
                "revoked"
            } else if expired(ca.not_after, now) {
                "expired"
            } else {
                "valid"
            },
            crl: crl.map(|s| JsonCrl {
                number: s.number,
                this_update: fmt_time(s.this_update),
                stale: s.next_update.is_none_or(|n| now >= n),
                next_update: s.next_update.map(fmt_time),
                revoked: s.revoked.len(),
            }),
        });
    }

    let json_certs: Vec<JsonCert<'_>> = certs
        .iter()
        .map(|c| JsonCert {
            serial: &c.serial,
            ca: &c.issuer,
            profile: &c.profile,
            subject: &c.subject,
            common_name: &c.common_name,
            agency_id: c.agency_id.as_deref(),
            not_before: fmt_time(c.not_before),
            not_after: fmt_time(c.not_after),
            status: status(c, now),
            revocation: c.revocation.as_ref().map(|r| JsonRevocation {
                at: fmt_time(r.at),
                reason: &r.reason,
            }),
            path: &c.path,
        })
        .collect();

    if args.json {
        let list = JsonList {
            cas,
            certificates: json_certs,
        };
        let mut s = serde_json::to_string_pretty(&list)
            .map_err(|e| Failure::new(format!("cannot encode the list: {e}")))?;
        s.push('\n');
        return Ok(s);
    }

    let mut out = String::from("CAs\n");
    let mut rows = vec![vec![
        "ID".to_owned(),
        "NAME".to_owned(),
        "KEY".to_owned(),
        "NOT AFTER".to_owned(),
        "STATUS".to_owned(),
        "CRL".to_owned(),
    ]];
    for ca in &cas {
        let crl = match &ca.crl {
            Some(c) => format!(
                "#{} next update {}{}",
                c.number.map_or("?".to_owned(), |n| n.to_string()),
                c.next_update.as_deref().unwrap_or("none"),
                if c.stale {
                    format!(" STALE: run `axis-pki crl --ca {}`", ca.id)
                } else {
                    String::new()
                }
            ),
            None => format!("MISSING: run `axis-pki crl --ca {}`", ca.id),
        };
        rows.push(vec![
            ca.id.to_owned(),
            ca.name.to_owned(),
            ca.key_type.to_owned(),
            ca.not_after.clone(),
            ca.status.to_owned(),
            crl,
        ]);
    }
    table(&mut out, &rows);

    out.push_str(&format!(
        "\nCertificates{}\n",
        match &args.ca {
            Some(id) if id == ROOT_ID => " issued by the root".to_owned(),
            Some(id) => format!(" issued by CA `{id}`"),
            None => String::new(),
        }
    ));
    let mut rows = vec![vec![
        "SERIAL".to_owned(),
        "CA".to_owned(),
        "PROFILE".to_owned(),
        "SUBJECT".to_owned(),
        "NOT AFTER".to_owned(),
        "STATUS".to_owned(),
    ]];
    for c in &json_certs {
        rows.push(vec![
            c.serial.to_owned(),
            c.ca.to_owned(),
            c.profile.to_owned(),
            match c.agency_id {
                Some(a) => format!("{} ({a})", c.common_name),
                None => c.common_name.to_owned(),
            },
            c.not_after.clone(),
            match &c.revocation {
                Some(r) => format!("revoked ({})", r.reason),
                None => c.status.to_owned(),
            },
        ]);
    }
    if json_certs.is_empty() {
        out.push_str("  (none)\n");
    } else {
        table(&mut out, &rows);
    }
    let orphans = ca_dir.orphan_count(&index);
    if orphans > 0 {
        out.push_str(&format!(
            "\nnote: {orphans} certificate file(s) in certs/ are not in the index (an interrupted \
             command); the next command that changes the directory records them\n"
        ));
    }
    Ok(out)
}

/// Left-aligned columns, padded by characters (names are Vietnamese).
fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let mut line = String::from(" ");
        for (i, cell) in r.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            if i + 1 < r.len() {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 1;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}
