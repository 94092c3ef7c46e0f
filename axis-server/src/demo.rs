//! A throw-away demo axis on disk (`axis-server demo`): the in-memory demo PKI of `axis-pki`
//! (feature `demo`) written out as `axis-pki` writes real ones (PEM certificates, encrypted
//! PKCS#8 keys), so the `axis` CLI and `openssl` read them as they would real ones, with the
//! server's and each agency's configuration.

use std::path::{Path, PathBuf};

use axis_pki::demo::{DemoPki, Issued};
use axis_pki::{AgencyId, Passphrase, to_pem};
use time::OffsetDateTime;

/// Why the demo could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The PKI library refused something.
    #[error("PKI: {0}")]
    Pki(#[from] axis_pki::Error),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The directory exists already.
    #[error("{0} already exists; pass --fresh to replace it")]
    Exists(PathBuf),
    /// An agency given twice (or one of the built-in demo agencies).
    #[error("agency {0} is listed twice (000.00.00.G22 and 000.00.00.H41 are always there)")]
    DuplicateAgency(AgencyId),
    /// An agency name that cannot be written into the configuration.
    #[error("agency {0}: its name must be one line of at most 200 characters, not empty")]
    AgencyName(AgencyId),
}

fn write(path: &Path, bytes: &[u8], private: bool) -> Result<(), DemoError> {
    let io = |source| DemoError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    let _ = private;
    Ok(())
}

fn write_pair(
    dir: &Path,
    name: &str,
    issued: &Issued,
    ca: &[u8],
    pass: &Passphrase,
) -> Result<(), DemoError> {
    let chain = format!(
        "{}{}",
        to_pem("CERTIFICATE", &issued.cert),
        to_pem("CERTIFICATE", ca)
    );
    write(
        &dir.join(format!("{name}.cert.pem")),
        chain.as_bytes(),
        false,
    )?;
    let key = issued.key.to_encrypted_pem(pass)?;
    write(&dir.join(format!("{name}.key.pem")), key.as_bytes(), true)
}

/// The demo agencies: id, name, the person with authority, their title.
pub const DEMO_AGENCIES: [(&str, &str, &str, &str); 2] = [
    (
        "000.00.00.G22",
        "Văn phòng Chính phủ",
        "Trần Văn Sơn",
        "Bộ trưởng, Chủ nhiệm",
    ),
    (
        "000.00.00.H41",
        "UBND tỉnh Nghệ An",
        "Nguyễn Thị Hoa",
        "Phó Chủ tịch",
    ),
];

/// The person with authority and their title in an agency added with `--agency`.
const EXTRA_PERSON: (&str, &str) = ("Người ký (demo)", "Lãnh đạo");

/// Every agency of a demo: the two built-in ones, then `extra` (id, name), in order; an id
/// given twice, or a name that is not one line of 1 to 200 characters, is an error.
pub fn demo_agencies(
    extra: &[(AgencyId, String)],
) -> Result<Vec<(AgencyId, String, String, String)>, DemoError> {
    let mut all = Vec::with_capacity(DEMO_AGENCIES.len() + extra.len());
    for (id, name, person, title) in DEMO_AGENCIES {
        let id =
            AgencyId::parse(id).map_err(|source| axis_pki::Error::AgencyIdMalformed { source })?;
        all.push((id, name.to_owned(), person.to_owned(), title.to_owned()));
    }
    for (id, name) in extra {
        if all.iter().any(|(a, ..)| a == id) {
            return Err(DemoError::DuplicateAgency(id.clone()));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(DemoError::AgencyName(id.clone()));
        }
        let (person, title) = EXTRA_PERSON;
        all.push((
            id.clone(),
            name.to_owned(),
            person.to_owned(),
            title.to_owned(),
        ));
    }
    Ok(all)
}

/// Writes a complete demo axis into `dir`, with the built-in agencies and `extra` ones:
///
/// ```text
/// axis-server.toml           the server's configuration (SQLite file axis.db beside it)
/// secrets/demo.pass          the passphrase of every key below (mode 0600)
/// pki/                       root and CA certificates, CRLs, server TLS and log signer
/// operator/axis.toml         the operator's `axis` CLI configuration and certificate
/// agencies/<ID>/axis.toml    each agency's `axis` CLI configuration and four certificates
/// agencies/index.tsv         one line per agency: its id, a tab, its name (to register them)
/// ```
pub fn write_demo(
    dir: &Path,
    fresh: bool,
    listen: &str,
    extra: &[(AgencyId, String)],
) -> Result<(), DemoError> {
    let agencies = demo_agencies(extra)?;
    if dir.join("axis-server.toml").exists() {
        if !fresh {
            return Err(DemoError::Exists(dir.to_owned()));
        }
        std::fs::remove_dir_all(dir).map_err(|source| DemoError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    let pki = DemoPki::new(OffsetDateTime::now_utc())?;
    let secret = {
        use ring::rand::SecureRandom;
        let mut b = [0u8; 18];
        ring::rand::SystemRandom::new()
            .fill(&mut b)
            .map_err(|_| axis_pki::Error::KeyGeneration)?;
        hex::encode(b)
    };
    write(&dir.join("secrets/demo.pass"), secret.as_bytes(), true)?;
    let pass = Passphrase::new(secret);
    let pki_dir = dir.join("pki");
    write(
        &pki_dir.join("root.cert.pem"),
        to_pem("CERTIFICATE", &pki.root).as_bytes(),
        false,
    )?;
    write(
        &pki_dir.join("state-ca.cert.pem"),
        to_pem("CERTIFICATE", &pki.ca).as_bytes(),
        false,
    )?;
    let (root_crl, ca_crl) = pki.crls(1, &[])?;
    write(
        &pki_dir.join("root.crl.pem"),
        to_pem("X509 CRL", &root_crl).as_bytes(),
        false,
    )?;
    write(
        &pki_dir.join("state-ca.crl.pem"),
        to_pem("X509 CRL", &ca_crl).as_bytes(),
        false,
    )?;
    write_pair(
        &pki_dir,
        "axis-server-tls",
        &pki.server_tls()?,
        &pki.ca,
        &pass,
    )?;
    write_pair(
        &pki_dir,
        "axis-log-signer",
        &pki.log_signer()?,
        &pki.ca,
        &pass,
    )?;

    let server = format!(
        r#"# Demo axis written by `axis-server demo`. Paths are relative to this file.
listen = "{listen}"
metrics_listen = "127.0.0.1:9464"
database_url = "sqlite://axis.db"
passphrase_file = "secrets/demo.pass"

[tls]
cert = "pki/axis-server-tls.cert.pem"
key = "pki/axis-server-tls.key.pem"

[log_signer]
cert = "pki/axis-log-signer.cert.pem"
key = "pki/axis-log-signer.key.pem"

[trust]
root = "pki/root.cert.pem"
intermediates = ["pki/state-ca.cert.pem"]
crls = ["pki/root.crl.pem", "pki/state-ca.crl.pem"]
"#
    );
    write(&dir.join("axis-server.toml"), server.as_bytes(), false)?;

    let client = |agency: Option<&str>, parts: &[&str]| {
        let mut t = String::from("# `axis` CLI configuration written by `axis-server demo`.\n");
        if let Some(a) = agency {
            t.push_str(&format!("agency = \"{a}\"\n"));
        }
        t.push_str(&format!(
            "endpoint = \"https://{listen}\"\nserver_name = \"localhost\"\nroot = \"../../pki/root.cert.pem\"\n\
             passphrase_file = \"../../secrets/demo.pass\"\nlog_key = \"../../pki/axis-log-signer.cert.pem\"\n"
        ));
        for p in parts {
            t.push_str(&format!(
                "\n[{p}]\ncert = \"{p}.cert.pem\"\nkey = \"{p}.key.pem\"\n"
            ));
        }
        t
    };
    let op_dir = dir.join("operator/axis");
    write_pair(&op_dir, "tls", &pki.operator()?, &pki.ca, &pass)?;
    write(
        &op_dir.join("axis.toml"),
        client(None, &["tls"]).as_bytes(),
        false,
    )?;
    let mut index = String::new();
    for (id, name, person, title) in &agencies {
        let a = pki.agency(id.as_str(), name, person, title)?;
        let d = dir.join("agencies").join(id.as_str());
        index.push_str(&format!("{id}\t{name}\n"));
        write_pair(&d, "tls", &a.tls, &pki.ca, &pass)?;
        write_pair(&d, "seal", &a.seal, &pki.ca, &pass)?;
        write_pair(&d, "personal", &a.personal, &pki.ca, &pass)?;
        write_pair(&d, "encryption", &a.encryption, &pki.ca, &pass)?;
        write(
            &d.join("axis.toml"),
            client(
                Some(id.as_str()),
                &["tls", "seal", "personal", "encryption"],
            )
            .as_bytes(),
            false,
        )?;
    }
    write(&dir.join("agencies/index.tsv"), index.as_bytes(), false)
}
