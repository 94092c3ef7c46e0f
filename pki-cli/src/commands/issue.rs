//! `axis-pki issue`: an end-entity certificate from a profile, for a new key or a CSR.

use std::path::{Path, PathBuf};

use axis_pki::{
    AgencyId, CaSigner, CheckedCsr, IssueRequest, KeyPair, PrivateKey, Profile, PublicKey, Serial,
    Subject,
};
use time::OffsetDateTime;

use super::{find_ca, kv, parse_profile, validity};
use crate::certinfo::CertInfo;
use crate::cli::IssueArgs;
use crate::error::{Failure, Result, ResultExt};
use crate::fsutil::{self, MODE_DIR, MODE_PUBLIC, MODE_SECRET, Txn};
use crate::index::{CertRecord, Index, ROOT_ID, fmt_time};
use crate::names;
use crate::secrets::{self, Kind, Secret};
use crate::store::{self, Access, CaDir};
use crate::tokens;

/// Where the key comes from.
enum KeySource {
    Generate {
        alg: axis_pki::KeyAlgorithm,
        pass: Secret,
    },
    Csr(Box<CheckedCsr>),
    /// On a PKCS#11 token: generated there (or already there, with --use-existing-key).
    Token {
        alg: axis_pki::KeyAlgorithm,
        uri: axis_keys::Pkcs11Uri,
    },
}

/// The output files.
struct Outputs {
    dir: PathBuf,
    key: Option<PathBuf>,
    cert: PathBuf,
    chain: PathBuf,
}

pub(crate) fn run(dir: &Path, args: &IssueArgs, now: OffsetDateTime) -> Result<String> {
    // 1. Everything that does not need the CA directory: profile, names, key source, outputs.
    let profile = parse_profile(&args.profile)?;
    if profile.is_ca() {
        return Err(Failure::new(format!(
            "`issue` makes end-entity certificates; a {profile} certificate is made by {}",
            if profile == Profile::RootCa {
                "`axis-pki init`"
            } else {
                "`axis-pki ca`"
            }
        )));
    }
    // Needed only if the CA's key asks for it (a key file; a token without a pin-source).
    let ca_pass = secrets::get(
        Kind::Ca,
        args.ca_pass.ca_pass_file.as_deref(),
        "the issuing CA key",
    );
    let source = match (&args.csr, &args.token.key) {
        (None, Some(text)) => KeySource::Token {
            alg: super::key_type(args.key_type.as_deref(), profile)?,
            uri: tokens::parse_uri(text)?,
        },
        (Some(path), _) => {
            let bytes = fsutil::read_limited(path, 4 * axis_pki::MAX_CSR_DER_LEN as u64, "CSR")?;
            let csr = CheckedCsr::parse(&bytes).context(format!("CSR {}", path.display()))?;
            KeySource::Csr(Box::new(csr))
        }
        (None, None) => KeySource::Generate {
            alg: super::key_type(args.key_type.as_deref(), profile)?,
            pass: secrets::get_new(
                args.new_key_pass.new_key_pass_file.as_deref(),
                "the new private key",
            )?,
        },
    };
    let csr = match &source {
        KeySource::Csr(c) => Some(c.as_ref()),
        KeySource::Generate { .. } | KeySource::Token { .. } => None,
    };
    let subject = subject(args, profile, csr)?;
    subject.check(profile)?;
    if let (Some(csr), Some(path)) = (csr, &args.csr) {
        csr.check_against(profile, &subject)
            .context(format!("CSR {}", path.display()))?;
    }
    let key_file = matches!(source, KeySource::Generate { .. });
    let outputs = outputs(args, profile, &subject, key_file)?;

    // 2. The CA directory, locked for the rest of the command.
    let (ca_dir, mut index) = CaDir::open(dir, Access::Write)?;
    let mut notes = ca_dir.recover_orphans(&mut index)?;
    let ca_id = issuing_ca_id(&index, args.ca.as_deref())?;
    let ca = find_ca(&index, &ca_id)?;
    if let Some(rev) = index.ca_cert_record(ca).and_then(|r| r.revocation.as_ref()) {
        return Err(Failure::new(format!(
            "issuing CA `{ca_id}` was revoked at {} ({}); it issues nothing more",
            fmt_time(rev.at),
            rev.reason
        ))
        .hint(
            "create a new issuing CA with `axis-pki ca --id NEW-ID --name ...` and issue from it",
        ));
    }
    let ca_der = ca_dir.ca_cert(ca)?;
    let ca_key = ca_dir.ca_key(ca, &ca_pass)?;
    let signer = CaSigner::new(&ca_der, &ca_key, now).context(format!("issuing CA `{ca_id}`"))?;

    // 3. All crypto in memory.
    let mut on_token = None;
    let (generated, public) = match &source {
        KeySource::Generate { alg, .. } => {
            let k = PrivateKey::generate(*alg)?;
            let p = PublicKey::from_spki_der(k.public_key_der())?;
            (Some(k), p)
        }
        KeySource::Csr(c) => (None, c.public_key().clone()),
        KeySource::Token { alg, uri } => {
            let k = tokens::new_key(
                &args.token,
                uri,
                *alg,
                tokens::key_use(profile),
                args.new_key_pass.new_key_pass_file.as_deref(),
            )?;
            let p = PublicKey::from_spki_der(k.public_key_der())?;
            on_token = Some(k);
            (None, p)
        }
    };
    let (not_before, not_after) = validity(
        profile,
        public.algorithm(),
        args.days,
        Some(ca.not_after),
        now,
        &mut notes,
    );
    let cert = signer.issue(
        &IssueRequest {
            profile,
            subject,
            not_before,
            not_after,
            serial: Serial::random()?,
        },
        &public,
    )?;
    let key_pem = match (&generated, &source) {
        (Some(k), KeySource::Generate { pass, .. }) => Some(k.to_encrypted_pem(&pass.pass)?),
        _ => None,
    };
    let info = CertInfo::of(cert.der())?;
    let cert_pem = cert.pem();
    let chain_pem = format!("{cert_pem}{}", axis_pki::to_pem("CERTIFICATE", &ca_der));
    let copy = store::issued_path(&info.serial);
    index.certificates.push(CertRecord {
        serial: info.serial.to_string(),
        issuer: ca_id.clone(),
        profile: profile.name().to_owned(),
        subject: info.subject.clone(),
        common_name: info.common_name.clone(),
        agency_id: info.agency_id.as_ref().map(ToString::to_string),
        not_before: info.not_before,
        not_after: info.not_after,
        issued_at: now,
        path: copy.clone(),
        revocation: None,
        recovered: false,
    });

    // 4. Writes: the copy in the CA directory first (so no certificate leaves without one),
    //    then the output files, the index last.
    let mut txn = Txn::new();
    txn.create(&ca_dir.path(&copy), cert_pem.as_bytes(), MODE_PUBLIC)?;
    txn.create_dir_all(&outputs.dir, MODE_DIR)?;
    if let (Some(path), Some(pem)) = (&outputs.key, &key_pem) {
        txn.create(path, pem.as_bytes(), MODE_SECRET)?;
    }
    txn.create(&outputs.cert, cert_pem.as_bytes(), MODE_PUBLIC)?;
    txn.create(&outputs.chain, chain_pem.as_bytes(), MODE_PUBLIC)?;
    ca_dir.write_index(&mut txn, &index)?;
    txn.commit();

    let article = if profile.name().starts_with('a') {
        "an"
    } else {
        "a"
    };
    let mut out = format!(
        "Issued {article} {profile} certificate for {} from CA `{ca_id}`.\n",
        info.who()
    );
    let mut rows = vec![
        ("serial:", info.serial.to_string()),
        ("subject:", info.subject.clone()),
        (
            "key:",
            match (&outputs.key, &generated, &on_token) {
                (Some(p), Some(k), _) => format!(
                    "{}, encrypted in {} (mode 0600)",
                    k.algorithm(),
                    p.display()
                ),
                (_, _, Some(k)) => format!(
                    "{}, on a PKCS#11 token, never outside it: {}",
                    public.algorithm(),
                    k.location()
                ),
                _ => format!(
                    "{} from the CSR (the requester keeps the private key)",
                    public.algorithm()
                ),
            },
        ),
        ("certificate:", outputs.cert.display().to_string()),
        (
            "chain:",
            format!(
                "{} (certificate, then CA `{ca_id}`)",
                outputs.chain.display()
            ),
        ),
        (
            "valid:",
            format!(
                "{} to {}",
                fmt_time(info.not_before),
                fmt_time(info.not_after)
            ),
        ),
    ];
    if let Some(a) = &info.agency_id {
        rows.insert(2, ("agency id:", a.to_string()));
    }
    kv(&mut out, &rows);
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    Ok(out)
}

/// The subject from the options, with the CSR's common name and agency id as defaults.
fn subject(args: &IssueArgs, profile: Profile, csr: Option<&CheckedCsr>) -> Result<Subject> {
    // A server CSR's DNS names stand in for --dns when none are given.
    let dns_names = match csr {
        Some(c) if args.dns.is_empty() && profile == Profile::AxisServerTls => {
            c.requested_dns_names().to_vec()
        }
        _ => args.dns.clone(),
    };
    let common_name =
        match (&args.name, csr.and_then(CheckedCsr::common_name)) {
            (Some(n), _) => n.clone(),
            (None, Some(cn)) => cn.to_owned(),
            (None, None) if profile == Profile::AxisServerTls => {
                match (dns_names.first(), args.ip.first()) {
                    (Some(d), _) => d.clone(),
                    (None, Some(ip)) => ip.to_string(),
                    (None, None) => {
                        return Err(Failure::new("an axis-server-tls certificate needs a name")
                            .hint("give the server's names with --dns HOST and/or --ip ADDR"));
                    }
                }
            }
            (None, None) => {
                return Err(Failure::new(format!(
                    "a {profile} certificate needs a name: give --name"
                ))
                .hint(match profile {
                    Profile::AgencySeal | Profile::AgencyEncryption | Profile::AgencyTlsClient => {
                        "the agency's name, e.g. --name \"Văn phòng Chính phủ\""
                    }
                    Profile::PersonalSigner => {
                        "the person's full name, e.g. --name \"Trần Văn Sơn\""
                    }
                    _ => "e.g. --name \"Axis operator Nguyễn Văn An\"",
                }));
            }
        };
    let agency_id = match &args.agency_id {
        Some(text) => Some(AgencyId::parse(text).map_err(|e| {
            Failure::new(format!("invalid agency id `{}`: {e}", truncate(text))).hint(
                "an agency id (mã định danh, QCVN 102:2016) is NNN.NN.NN.LNN, e.g. 000.00.00.G22 \
                 for the Government Office or 000.00.00.H41 for a province",
            )
        })?),
        None => csr.and_then(|c| c.agency_id().cloned()),
    };
    let mut s = Subject::new(common_name);
    s.organization = args.org.clone();
    s.organizational_unit = args.ou.clone();
    s.locality = args.locality.clone();
    s.title = args.title.clone();
    s.agency_id = agency_id;
    s.dns_names = dns_names;
    s.ip_addresses = args.ip.clone();
    Ok(s)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Output paths; refuses at once if any exists (and the write refuses again, atomically).
fn outputs(
    args: &IssueArgs,
    profile: Profile,
    subject: &Subject,
    key_file: bool,
) -> Result<Outputs> {
    let base = match &args.basename {
        Some(b) => b.clone(),
        None => match &subject.agency_id {
            Some(id) => format!("{id}-{profile}"),
            None => format!("{}-{profile}", names::slug(&subject.common_name)),
        },
    };
    names::check_basename(&base)?;
    let dir = args.out.clone();
    let o = Outputs {
        key: key_file.then(|| dir.join(format!("{base}.key.pem"))),
        cert: dir.join(format!("{base}.cert.pem")),
        chain: dir.join(format!("{base}.chain.pem")),
        dir,
    };
    for p in o.key.iter().chain([&o.cert, &o.chain]) {
        if p.symlink_metadata().is_ok() {
            return Err(Failure::new(format!(
                "{} already exists; axis-pki never overwrites a file",
                p.display()
            ))
            .hint("choose another --basename or --out directory, or move the old files away"));
        }
    }
    Ok(o)
}

/// The issuing CA to use: the one named, or the only one there is.
fn issuing_ca_id(index: &Index, asked: Option<&str>) -> Result<String> {
    if let Some(id) = asked {
        if id == ROOT_ID {
            return Err(Failure::new(
                "the root issues only issuing CAs, not end-entity certificates",
            )
            .hint("create an issuing CA with `axis-pki ca --id ID --name NAME` and use --ca ID"));
        }
        return Ok(id.to_owned());
    }
    let issuing: Vec<&str> = index
        .cas
        .iter()
        .filter(|c| c.id != ROOT_ID)
        .map(|c| c.id.as_str())
        .collect();
    match issuing.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(Failure::new("this CA directory has no issuing CA yet")
            .hint("create one with `axis-pki ca --id state --name \"CA for state agencies\"`")),
        many => Err(
            Failure::new("several issuing CAs exist: choose one with --ca ID")
                .hint(format!("the issuing CAs are: {}", many.join(", "))),
        ),
    }
}
