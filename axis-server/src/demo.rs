//! A throw-away PKI and configuration for a local demo axis (`axis-server demo`), also used by
//! the integration tests to make identities in memory.
//!
//! Everything is issued by the `axis-pki` library with the real profiles: a root, an issuing
//! "CA for state agencies", the server's TLS and log-signer certificates, an operator, and for
//! each demo agency its TLS-client, seal, personal-signer and encryption certificates. Keys are
//! ECDSA P-256 (quick to make); the files are what `axis-pki` writes (PEM certificates,
//! encrypted PKCS#8 keys), so the `axis` CLI and `openssl` read them as they would real ones.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use axis_pki::{
    AgencyId, CaSigner, CrlRequest, IssueRequest, KeyAlgorithm, Passphrase, PrivateKey, Profile,
    PublicKey, RevocationReason, RevokedEntry, Serial, Subject, issue_root, to_pem,
};
use time::{Duration, OffsetDateTime};

/// Why the demo PKI could not be made.
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
}

/// A certificate (DER) and its key.
pub struct Issued {
    /// DER certificate.
    pub cert: Vec<u8>,
    /// Its private key.
    pub key: PrivateKey,
    /// Its serial.
    pub serial: Serial,
}

/// The four certificates of an agency.
pub struct AgencyCreds {
    /// Its identifier.
    pub id: AgencyId,
    /// Its official name.
    pub name: String,
    /// Agency TLS client.
    pub tls: Issued,
    /// Agency seal.
    pub seal: Issued,
    /// Personal signer (the person with authority).
    pub personal: Issued,
    /// Agency encryption.
    pub encryption: Issued,
}

/// A root and an issuing CA, able to issue leaves and CRLs.
pub struct DemoPki {
    /// DER root certificate.
    pub root: Vec<u8>,
    /// DER issuing CA certificate.
    pub ca: Vec<u8>,
    root_key: PrivateKey,
    ca_key: PrivateKey,
    /// The time everything is issued at.
    pub now: OffsetDateTime,
}

fn p256() -> Result<PrivateKey, DemoError> {
    Ok(PrivateKey::generate(KeyAlgorithm::EcdsaP256)?)
}

impl DemoPki {
    /// A new root ("Axis Demo Root CA") and issuing CA ("CA for state agencies (demo)").
    pub fn new(now: OffsetDateTime) -> Result<Self, DemoError> {
        let start = now - Duration::minutes(5);
        let root_key = p256()?;
        let root = issue_root(
            &IssueRequest {
                profile: Profile::RootCa,
                subject: Subject::new("Axis Demo Root CA"),
                not_before: start,
                not_after: start + Duration::days(3650),
                serial: Serial::random()?,
            },
            &root_key,
        )?
        .der()
        .to_vec();
        let ca_key = p256()?;
        let ca = CaSigner::new(&root, &root_key, now)?
            .issue(
                &IssueRequest {
                    profile: Profile::IssuingCa,
                    subject: Subject::new("CA for state agencies (demo)"),
                    not_before: start,
                    not_after: start + Duration::days(1825),
                    serial: Serial::random()?,
                },
                &PublicKey::from_spki_der(ca_key.public_key_der())?,
            )?
            .der()
            .to_vec();
        Ok(DemoPki {
            root,
            ca,
            root_key,
            ca_key,
            now,
        })
    }

    /// Issues a leaf from the issuing CA, valid from five minutes ago for `days`.
    pub fn issue(
        &self,
        profile: Profile,
        subject: Subject,
        days: i64,
    ) -> Result<Issued, DemoError> {
        self.issue_between(
            profile,
            subject,
            self.now - Duration::minutes(5),
            self.now + Duration::days(days),
        )
    }

    /// Issues a leaf valid between two instants (tests make expired ones).
    pub fn issue_between(
        &self,
        profile: Profile,
        subject: Subject,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Issued, DemoError> {
        let key = p256()?;
        let serial = Serial::random()?;
        let cert = CaSigner::new(&self.ca, &self.ca_key, self.now)?
            .issue(
                &IssueRequest {
                    profile,
                    subject,
                    not_before,
                    not_after,
                    serial: serial.clone(),
                },
                &PublicKey::from_spki_der(key.public_key_der())?,
            )?
            .der()
            .to_vec();
        Ok(Issued { cert, key, serial })
    }

    /// The four certificates of an agency.
    pub fn agency(
        &self,
        id: &str,
        name: &str,
        person: &str,
        title: &str,
    ) -> Result<AgencyCreds, DemoError> {
        let id =
            AgencyId::parse(id).map_err(|source| axis_pki::Error::AgencyIdMalformed { source })?;
        let subject = |cn: &str| {
            let mut s = Subject::new(cn);
            s.agency_id = Some(id.clone());
            s
        };
        let mut personal = subject(person);
        personal.title = Some(title.to_owned());
        personal.organization = Some(name.to_owned());
        Ok(AgencyCreds {
            tls: self.issue(Profile::AgencyTlsClient, subject(name), 365)?,
            seal: self.issue(Profile::AgencySeal, subject(name), 365)?,
            personal: self.issue(Profile::PersonalSigner, personal, 365)?,
            encryption: self.issue(Profile::AgencyEncryption, subject(name), 365)?,
            id,
            name: name.to_owned(),
        })
    }

    /// The server's TLS certificate for `localhost` and 127.0.0.1.
    pub fn server_tls(&self) -> Result<Issued, DemoError> {
        let mut s = Subject::new("localhost");
        s.dns_names = vec!["localhost".into()];
        s.ip_addresses = vec![IpAddr::from([127, 0, 0, 1])];
        self.issue(Profile::AxisServerTls, s, 365)
    }

    /// The log signer.
    pub fn log_signer(&self) -> Result<Issued, DemoError> {
        self.issue(
            Profile::AxisLogSigner,
            Subject::new("Axis log signer (demo)"),
            365,
        )
    }

    /// An operator.
    pub fn operator(&self) -> Result<Issued, DemoError> {
        self.issue(
            Profile::AxisOperator,
            Subject::new("Axis operator (demo)"),
            365,
        )
    }

    /// CRLs of the root and the issuing CA (in that order), the issuing CA's listing
    /// `revoked`, valid for 90 days from now.
    pub fn crls(&self, number: u64, revoked: &[Serial]) -> Result<(Vec<u8>, Vec<u8>), DemoError> {
        let req = |revoked: Vec<RevokedEntry>| CrlRequest {
            this_update: self.now - Duration::minutes(5),
            next_update: self.now + Duration::days(90),
            number,
            revoked,
        };
        let root = CaSigner::new(&self.root, &self.root_key, self.now)?
            .issue_crl(&req(vec![]))?
            .der()
            .to_vec();
        let entries = revoked
            .iter()
            .map(|s| RevokedEntry {
                serial: s.clone(),
                revoked_at: self.now - Duration::minutes(1),
                reason: RevocationReason::KeyCompromise,
            })
            .collect();
        let ca = CaSigner::new(&self.ca, &self.ca_key, self.now)?
            .issue_crl(&req(entries))?
            .der()
            .to_vec();
        Ok((root, ca))
    }
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

/// Writes a complete demo axis into `dir`:
///
/// ```text
/// axis-server.toml           the server's configuration (SQLite file axis.db beside it)
/// secrets/demo.pass          the passphrase of every key below (mode 0600)
/// pki/                       root and CA certificates, CRLs, server TLS and log signer
/// operator/axis.toml         the operator's `axis` CLI configuration and certificate
/// agencies/<ID>/axis.toml    each agency's `axis` CLI configuration and four certificates
/// ```
pub fn write_demo(dir: &Path, fresh: bool, listen: &str) -> Result<(), DemoError> {
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
    for (id, name, person, title) in DEMO_AGENCIES {
        let a = pki.agency(id, name, person, title)?;
        let d = dir.join("agencies").join(id);
        write_pair(&d, "tls", &a.tls, &pki.ca, &pass)?;
        write_pair(&d, "seal", &a.seal, &pki.ca, &pass)?;
        write_pair(&d, "personal", &a.personal, &pki.ca, &pass)?;
        write_pair(&d, "encryption", &a.encryption, &pki.ca, &pass)?;
        write(
            &d.join("axis.toml"),
            client(Some(id), &["tls", "seal", "personal", "encryption"]).as_bytes(),
            false,
        )?;
    }
    Ok(())
}
