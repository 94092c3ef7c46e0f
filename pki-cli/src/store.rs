//! The CA directory: its layout, its lock, its index, and loading a CA to sign with.
//!
//! ```text
//! axis-pki.json            the index (written last by every command)
//! .lock                    flock(2): exclusive for commands that change the directory, shared for reads
//! root/root.cert.pem       the root certificate (the trust anchor)
//! root/root.key.pem        its key, encrypted PKCS#8, mode 0600 (or none: the index names a
//!                          pkcs11: URI for a key on a token)
//! cas/<id>/ca.cert.pem     an issuing CA certificate
//! cas/<id>/ca.key.pem      its key, encrypted PKCS#8, mode 0600
//! certs/<SERIAL>.pem       a copy of every certificate a CA issued
//! crl/<id>.crl.pem         each CA's current CRL
//! ```

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use axis_keys::{Key, Pin, Pkcs11Uri, TokenKey};
use axis_pki::{PolicyArc, PrivateKey, Serial, TrustStore};
use time::OffsetDateTime;

use crate::certinfo::{self, CertInfo};
use crate::error::{Failure, Result, ResultExt};
use crate::fsutil::{self, MODE_PRIVATE_DIR, MODE_PUBLIC, Txn};
use crate::index::{CaRecord, CertRecord, Index, ROOT_ID};
use crate::secrets::Secret;

pub(crate) const INDEX_FILE: &str = "axis-pki.json";
pub(crate) const LOCK_FILE: &str = ".lock";
pub(crate) const ROOT_CERT: &str = "root/root.cert.pem";
pub(crate) const ROOT_KEY: &str = "root/root.key.pem";
pub(crate) const CERTS_DIR: &str = "certs";
pub(crate) const CRL_DIR: &str = "crl";
pub(crate) const CAS_DIR: &str = "cas";

/// Largest key file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Relative path of an issuing CA's certificate.
pub(crate) fn ca_cert_path(id: &str) -> String {
    format!("{CAS_DIR}/{id}/ca.cert.pem")
}

/// Relative path of an issuing CA's key.
pub(crate) fn ca_key_path(id: &str) -> String {
    format!("{CAS_DIR}/{id}/ca.key.pem")
}

/// Relative path of a CA's CRL.
pub(crate) fn crl_path(id: &str) -> String {
    format!("{CRL_DIR}/{id}.crl.pem")
}

/// Relative path of the copy of an issued certificate.
pub(crate) fn issued_path(serial: &Serial) -> String {
    format!("{CERTS_DIR}/{serial}.pem")
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reading only: a shared lock, so reads run together but never see a half-made change.
    Read,
    /// Changing the directory: an exclusive lock for the whole command.
    Write,
}

/// An open, locked CA directory. The lock is released when this is dropped.
pub(crate) struct CaDir {
    root: PathBuf,
    _lock: Option<File>,
}

fn not_a_ca_dir(dir: &Path) -> Failure {
    Failure::new(format!(
        "{} is not a CA directory ({INDEX_FILE} not found)",
        dir.display()
    ))
    .hint(
        "point --dir (or AXIS_PKI_DIR) at the directory made by `axis-pki init`, \
         or create one with `axis-pki init --name \"Axis Root CA\"`",
    )
}

/// Takes the lock on `path`, making sure the file locked is still the one at `path` (a
/// concurrent failing `init` may remove it).
fn lock(path: &Path, access: Access, create: bool) -> Result<Option<File>> {
    loop {
        let opened = match access {
            Access::Read => File::open(path),
            Access::Write => OpenOptions::new()
                .read(true)
                .write(true)
                .create(create)
                .truncate(false)
                .open(path),
        };
        let file = match opened {
            Ok(f) => f,
            // A directory copied without its lock file (or on read-only media): reading
            // without a lock is still safe against our own atomic renames.
            Err(e) if e.kind() == io::ErrorKind::NotFound && access == Access::Read => {
                return Ok(None);
            }
            Err(e) => return Err(Failure::io("open the lock file", path, &e)),
        };
        let try_lock = match access {
            Access::Read => file.try_lock_shared(),
            Access::Write => file.try_lock(),
        };
        match try_lock {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                eprintln!("axis-pki: waiting for another axis-pki command on this CA directory…");
                match access {
                    Access::Read => file.lock_shared(),
                    Access::Write => file.lock(),
                }
                .map_err(|e| Failure::io("lock", path, &e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Failure::io("lock", path, &e)),
        }
        if same_file(&file, path) {
            return Ok(Some(file));
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

impl CaDir {
    /// Opens and locks an initialised CA directory and reads its index.
    pub(crate) fn open(dir: &Path, access: Access) -> Result<(CaDir, Index)> {
        if !dir.join(INDEX_FILE).is_file() {
            return Err(not_a_ca_dir(dir));
        }
        let lock = lock(&dir.join(LOCK_FILE), access, true)?;
        let d = CaDir {
            root: dir.to_path_buf(),
            _lock: lock,
        };
        let index_path = d.root.join(INDEX_FILE);
        let bytes = match fs::read(&index_path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_a_ca_dir(dir)),
            Err(e) => return Err(Failure::io("read the CA index", &index_path, &e)),
        };
        let index = Index::parse(&bytes).map_err(|f| {
            f.context(format!("CA index {}", index_path.display()))
                .hint("restore the CA directory from its last backup")
        })?;
        Ok((d, index))
    }

    /// Creates and locks a new CA directory for `init`. Refuses a directory that is already
    /// initialised or holds anything else. What it creates is recorded in the returned
    /// transaction, so a failed `init` leaves nothing behind.
    pub(crate) fn create(dir: &Path) -> Result<(CaDir, Txn)> {
        let already = || {
            Failure::new(format!(
                "{} is already an initialised CA directory",
                dir.display()
            ))
            .hint(
                "a CA directory holds one root; use it as it is (`axis-pki list`), or give \
                 --dir a new directory",
            )
        };
        if dir.join(INDEX_FILE).exists() {
            return Err(already());
        }
        check_empty(dir)?;
        let mut txn = Txn::new();
        txn.create_dir_all(dir, MODE_PRIVATE_DIR)?;
        let lock_path = dir.join(LOCK_FILE);
        let created_lock = !lock_path.exists();
        let lock = lock(&lock_path, Access::Write, true)?;
        if created_lock {
            txn.record_created(&lock_path);
        }
        // Another `init` may have won the race while we waited.
        if dir.join(INDEX_FILE).exists() {
            return Err(already());
        }
        check_empty(dir)?;
        Ok((
            CaDir {
                root: dir.to_path_buf(),
                _lock: lock,
            },
            txn,
        ))
    }

    /// The CA directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// An absolute (or `--dir`-relative) path for a path relative to the directory.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes the index: always the last write of a command.
    pub(crate) fn write_index(&self, txn: &mut Txn, index: &Index) -> Result<()> {
        txn.replace(&self.path(INDEX_FILE), &index.to_bytes()?, MODE_PUBLIC)
    }

    /// A CA's certificate, DER.
    pub(crate) fn ca_cert(&self, ca: &CaRecord) -> Result<Vec<u8>> {
        certinfo::read_one(
            &self.path(&ca.cert),
            &format!("certificate of CA `{}`", ca.id),
        )
    }

    /// A CA's key: its key file decrypted with `secret`, saying which passphrase was wrong; or,
    /// when the index names a `pkcs11:` URI, the key on its token, logged in with the URI's PIN
    /// source or else `secret`. `secret` is only needed where it is used.
    pub(crate) fn ca_key(&self, ca: &CaRecord, secret: &Result<Secret>) -> Result<Key> {
        if ca.key.starts_with("pkcs11:") {
            let uri = Pkcs11Uri::parse(&ca.key).map_err(|e| {
                Failure::new(format!(
                    "the index names the key of CA `{}` by a bad URI: {e}",
                    ca.id
                ))
            })?;
            let pin = match uri.pin_source() {
                Some(_) => None,
                None => Some(Pin::from(&secret.as_ref().map_err(Clone::clone)?.pass)),
            };
            let key = TokenKey::open(&uri, pin)
                .map_err(|e| crate::tokens::failure(e).context(format!("key of CA `{}`", ca.id)))?;
            return Ok(key.into());
        }
        let secret = secret.as_ref().map_err(Clone::clone)?;
        let path = self.path(&ca.key);
        let text = fsutil::read_text(&path, MAX_KEY_FILE, &format!("key of CA `{}`", ca.id))?;
        let key = PrivateKey::from_encrypted_pem(&text, &secret.pass).map_err(|e| match e {
            axis_pki::Error::WrongPassphrase => Failure::new(format!(
                "wrong passphrase for the key of CA `{}` ({})",
                ca.id,
                path.display()
            ))
            .hint(format!(
                "the passphrase came from {}; give the one chosen when CA `{}` was created",
                secret.source, ca.id
            )),
            other => {
                Failure::from(other).context(format!("key of CA `{}` ({})", ca.id, path.display()))
            }
        })?;
        Ok(key.into())
    }

    /// The cRLNumber for the CA's next CRL: the index's counter, but never at or below the
    /// number of the CRL on disk (should a crash have come between writing the CRL and the index).
    pub(crate) fn next_crl_number(&self, ca: &CaRecord) -> Result<u64> {
        let on_disk = match fs::read(self.path(&ca.crl)) {
            Ok(bytes) => pem::parse(&bytes)
                .ok()
                .and_then(|p| axis_pki::summarize_crl(p.contents()).ok())
                .and_then(|s| s.number),
            Err(_) => None,
        };
        let n = match on_disk {
            Some(n) => ca.next_crl_number.max(n.saturating_add(1)),
            None => ca.next_crl_number,
        };
        if n == u64::MAX {
            return Err(Failure::new(format!(
                "CA `{}` has run out of CRL numbers",
                ca.id
            )));
        }
        Ok(n)
    }

    /// Reads a CA's current CRL, if any (DER).
    pub(crate) fn crl_der(&self, ca: &CaRecord) -> Result<Option<Vec<u8>>> {
        let path = self.path(&ca.crl);
        let bytes = match fsutil::read_limited(&path, 8 * 1024 * 1024, "CRL") {
            Ok(b) => b,
            Err(_) if !path.exists() => return Ok(None),
            Err(e) => return Err(e),
        };
        let der = if bytes.starts_with(b"-----") {
            let p = pem::parse(&bytes)
                .map_err(|_| Failure::new(format!("CRL {} is not PEM", path.display())))?;
            p.into_contents()
        } else {
            bytes
        };
        Ok(Some(der))
    }

    /// The trust store the directory defines: the root as the anchor, every issuing CA as an
    /// intermediate, every CA's current CRL.
    pub(crate) fn trust_store(&self, index: &Index) -> Result<TrustStore> {
        let mut anchors = Vec::new();
        let mut intermediates = Vec::new();
        let mut crls = Vec::new();
        for ca in &index.cas {
            let der = self.ca_cert(ca)?;
            if ca.id == ROOT_ID {
                anchors.push(der);
            } else {
                intermediates.push(der);
            }
            if let Some(crl) = self.crl_der(ca)? {
                crls.push(crl);
            }
        }
        TrustStore::new(anchors, intermediates, crls).context("the CA directory's trust store")
    }

    /// The PKI's policy arc, as the root certificate declares it.
    pub(crate) fn policy_arc(&self, index: &Index) -> Result<PolicyArc> {
        let root = index
            .ca(ROOT_ID)
            .ok_or_else(|| Failure::new("the index has no root CA"))?;
        PolicyArc::of_ca(&self.ca_cert(root)?)
            .context("the root certificate")?
            .ok_or_else(|| {
                Failure::from(axis_pki::Error::AnchorWithoutPolicyArc {
                    subject: root.name.clone(),
                })
            })
    }

    /// Records certificates found in `certs/` but missing from the index: a command that was
    /// interrupted after copying the certificate there but before writing the index. Such a
    /// certificate may have reached its holder, so it must stay revocable. Returns one line per
    /// certificate recorded.
    pub(crate) fn recover_orphans(&self, index: &mut Index) -> Result<Vec<String>> {
        let dir = self.path(CERTS_DIR);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Failure::io("list", &dir, &e)),
        };
        let mut notes = Vec::new();
        let mut cas: Option<Vec<(String, openssl::x509::X509)>> = None;
        let arc = self.policy_arc(index)?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure::io("list", &dir, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(hex) = name.strip_suffix(".pem") else {
                continue;
            };
            let Ok(serial) = Serial::from_hex(hex) else {
                continue;
            };
            if name.starts_with('.') || index.find(&serial).is_some() {
                continue;
            }
            let path = entry.path();
            let der = match certinfo::read_one(&path, "certificate") {
                Ok(d) => d,
                Err(e) => {
                    eprintln!(
                        "axis-pki: warning: ignoring {}: {}",
                        path.display(),
                        e.message
                    );
                    continue;
                }
            };
            let (Ok(info), Ok(x509)) = (CertInfo::of(&der), openssl::x509::X509::from_der(&der))
            else {
                continue;
            };
            if info.serial != serial {
                continue;
            }
            let cas = match &mut cas {
                Some(c) => c,
                None => cas.insert(self.ca_certs_openssl(index)?),
            };
            let issuer = cas.iter().find(|(_, ca)| {
                ca.subject_name().try_cmp(x509.issuer_name()).ok()
                    == Some(std::cmp::Ordering::Equal)
                    && ca
                        .public_key()
                        .and_then(|k| x509.verify(&k))
                        .unwrap_or(false)
            });
            let profile = axis_pki::profile_of(&der, &arc).ok().flatten();
            let (Some((issuer_id, _)), Some(profile)) = (issuer, profile) else {
                eprintln!(
                    "axis-pki: warning: {} was not issued by a CA of this directory; ignoring it",
                    path.display()
                );
                continue;
            };
            notes.push(format!(
                "recorded {serial} ({profile}, {}) from {}: it was issued by a command that \
                 was interrupted before updating the index",
                info.who(),
                path.display()
            ));
            index.certificates.push(CertRecord {
                serial: serial.to_string(),
                issuer: issuer_id.clone(),
                profile: profile.name().to_owned(),
                subject: info.subject,
                common_name: info.common_name,
                agency_id: info.agency_id.map(|a| a.to_string()),
                not_before: info.not_before,
                not_after: info.not_after,
                issued_at: info.not_before,
                path: issued_path(&serial),
                revocation: None,
                recovered: true,
            });
        }
        Ok(notes)
    }

    fn ca_certs_openssl(&self, index: &Index) -> Result<Vec<(String, openssl::x509::X509)>> {
        index
            .cas
            .iter()
            .map(|ca| {
                let der = self.ca_cert(ca)?;
                let x = openssl::x509::X509::from_der(&der)
                    .map_err(|_| Failure::from(axis_pki::Error::CertificateMalformed))?;
                Ok((ca.id.clone(), x))
            })
            .collect()
    }

    /// Counts certificate files in `certs/` that the index does not list (for `list`).
    pub(crate) fn orphan_count(&self, index: &Index) -> usize {
        let Ok(entries) = fs::read_dir(self.path(CERTS_DIR)) else {
            return 0;
        };
        entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let hex = name.strip_suffix(".pem")?.to_owned();
                Serial::from_hex(&hex).ok()
            })
            .filter(|s| index.find(s).is_none())
            .count()
    }
}

/// Refuses a directory that holds anything but a lock file.
fn check_empty(dir: &Path) -> Result<()> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut others = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name() != LOCK_FILE);
            if others.next().is_some() {
                return Err(Failure::new(format!(
                    "{} exists and is not empty; `init` needs a new or empty directory",
                    dir.display()
                ))
                .hint("give --dir a path that does not exist yet, e.g. --dir ./axis-pki-ca"));
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(Failure::new(format!(
            "{} exists and is not a directory",
            dir.display()
        ))),
        Err(e) => Err(Failure::io("read", dir, &e)),
    }
}

/// Whether `now` is past a time (for statuses).
pub(crate) fn expired(not_after: OffsetDateTime, now: OffsetDateTime) -> bool {
    now >= not_after
}
