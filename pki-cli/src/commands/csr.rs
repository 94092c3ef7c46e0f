//! `axis-pki csr`: a PKCS#10 request signed by a key on a token or in a file; no CA directory.

use axis_keys::{Key, KeyRef, TokenKey};
use axis_pki::{AgencyId, CheckedCsr, KeyPair, PrivateKey, Profile, Subject, make_csr};

use super::{kv, parse_profile};
use crate::cli::CsrArgs;
use crate::error::{Failure, Result, ResultExt};
use crate::fsutil::{self, MODE_PUBLIC, Txn};
use crate::secrets::{self, Kind};
use crate::tokens;

pub(crate) fn run(args: &CsrArgs) -> Result<String> {
    let profile = parse_profile(&args.profile)?;
    if profile.is_ca() {
        return Err(Failure::new(
            "CA keys need no request: `axis-pki init` and `axis-pki ca` take --key for a key on a token",
        ));
    }
    let subject = subject(args, profile)?;
    subject.check(profile)?;
    if args.out.symlink_metadata().is_ok() {
        return Err(Failure::new(format!(
            "{} already exists; axis-pki never overwrites a file",
            args.out.display()
        ))
        .hint("choose another --out"));
    }
    let key: Key =
        match KeyRef::parse(&args.key).map_err(|e| Failure::new(format!("--key: {e}")))? {
            KeyRef::Pkcs11(uri) => {
                let pin = tokens::pin(&uri, Kind::Key, args.key_pass.key_pass_file.as_deref())?;
                TokenKey::open(&uri, pin).map_err(tokens::failure)?.into()
            }
            KeyRef::File(path) => {
                let pass = secrets::get(
                    Kind::Key,
                    args.key_pass.key_pass_file.as_deref(),
                    &format!("the key {}", path.display()),
                )?;
                let text = fsutil::read_text(&path, 64 * 1024, "key")?;
                PrivateKey::from_encrypted_pem(&text, &pass.pass)
                    .context(format!("key {}", path.display()))?
                    .into()
            }
            _ => return Err(Failure::new("--key: unsupported key reference")),
        };
    let der = make_csr(&subject, &key).map_err(|e| {
        Failure::from(e).context(format!("signing the request with {}", key.location()))
    })?;
    // What the CA will check, checked here first.
    let csr = CheckedCsr::from_der(&der)?;
    csr.check_against(profile, &subject)?;
    let pem = axis_pki::to_pem("CERTIFICATE REQUEST", &der);
    let mut txn = Txn::new();
    txn.create(&args.out, pem.as_bytes(), MODE_PUBLIC)?;
    txn.commit();

    let mut out = format!(
        "Wrote a {profile} certificate request to {}.\n",
        args.out.display()
    );
    kv(
        &mut out,
        &[
            ("subject:", subject.common_name.clone()),
            ("key:", format!("{}, {}", key.algorithm(), key.location())),
        ],
    );
    out.push_str(&format!(
        "Send it to the CA: `axis-pki issue --profile {profile} --csr {} …`.\n",
        args.out.display()
    ));
    Ok(out)
}

fn subject(args: &CsrArgs, profile: Profile) -> Result<Subject> {
    let name = match (&args.name, args.dns.first()) {
        (Some(n), _) => n.clone(),
        (None, Some(d)) if profile == Profile::AxisServerTls => d.clone(),
        _ => {
            return Err(Failure::new(format!(
                "a {profile} request needs a name: give --name"
            )));
        }
    };
    let mut s = Subject::new(name);
    s.organization = args.org.clone();
    s.organizational_unit = args.ou.clone();
    s.locality = args.locality.clone();
    s.title = args.title.clone();
    s.dns_names = args.dns.clone();
    s.ip_addresses = args.ip.clone();
    s.agency_id = match &args.agency_id {
        Some(text) => Some(
            AgencyId::parse(text)
                .map_err(|e| Failure::new(format!("invalid agency id `{text}`: {e}")))?,
        ),
        None => None,
    };
    Ok(s)
}
