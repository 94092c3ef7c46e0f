//! The trust material the server verifies with: the root and issuing CAs from the
//! configuration, and the CRLs in force (from the configuration files and those the operator
//! published, which the database keeps so that every node sees them). Handlers take a snapshot
//! (`Arc<TrustStore>`) per call; publishing a CRL swaps the snapshot, so a revocation takes
//! effect on the next handshake and the next call.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axis_pki::{TrustStore, certificates_from_pem};
use time::OffsetDateTime;

use crate::config::TrustFiles;
use crate::error::{Fault, Result};
use crate::store::Db;

/// The current trust snapshot and what it was built from.
pub struct Trust {
    anchors: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    file_crls: Vec<Vec<u8>>,
    current: RwLock<Arc<TrustStore>>,
    /// Bumped by every rebuild, so connections re-verify their client certificate once.
    generation: AtomicU64,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    Ok(std::fs::read(path).map_err(|source| Fault::File {
        path: path.to_owned(),
        source,
    })?)
}

/// Reads certificates from a PEM file (or one DER certificate).
pub fn read_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = read(path)?;
    if bytes.starts_with(b"-----BEGIN") {
        let text = String::from_utf8_lossy(&bytes);
        Ok(certificates_from_pem(&text, 8)
            .map_err(|e| Fault::TrustMaterial(format!("{}: {e}", path.display())))?)
    } else {
        Ok(vec![bytes])
    }
}

/// Reads a CRL (PEM `X509 CRL` or DER).
pub fn read_crl(path: &Path) -> Result<Vec<u8>> {
    let bytes = read(path)?;
    if bytes.starts_with(b"-----BEGIN") {
        let block = pem::parse(&bytes)
            .ok()
            .filter(|b| b.tag() == "X509 CRL")
            .ok_or_else(|| Fault::TrustMaterial(format!("{}: not a PEM CRL", path.display())))?;
        Ok(block.into_contents())
    } else {
        Ok(bytes)
    }
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trust")
    }
}

impl Trust {
    /// Loads the configured files and the CRLs published earlier, and builds the first snapshot.
    pub async fn load(files: &TrustFiles, db: &Db) -> Result<Self> {
        let anchors = read_certificates(&files.root)?;
        let mut intermediates = Vec::new();
        for p in &files.intermediates {
            intermediates.extend(read_certificates(p)?);
        }
        let mut file_crls = Vec::new();
        for p in &files.crls {
            file_crls.push(read_crl(p)?);
        }
        // Keep the configured CRLs in the database too: the axis hands every CRL it ever used
        // to auditors, who check old signatures with the CRLs of their time.
        let base = TrustStore::new(anchors.clone(), intermediates.clone(), Vec::new())
            .map_err(|e| Fault::TrustMaterial(format!("trust anchors: {e}")))?;
        let now = OffsetDateTime::now_utc();
        for der in &file_crls {
            if let Ok(c) = base.check_crl_issued(der) {
                db.insert_crl(&c.issuer, c.number, der, now).await?;
            }
        }
        let trust = Trust {
            anchors,
            intermediates,
            file_crls,
            current: RwLock::new(Arc::new(TrustStore::default())),
            generation: AtomicU64::new(0),
        };
        trust.reload(db).await?;
        Ok(trust)
    }

    /// How many times the snapshot was rebuilt.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The snapshot to verify with.
    pub fn store(&self) -> Arc<TrustStore> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Rebuilds the snapshot from the files and the database's CRLs, keeping the newest CRL of
    /// each issuer.
    pub async fn reload(&self, db: &Db) -> Result<()> {
        let published = db.crls().await?;
        let base = TrustStore::new(self.anchors.clone(), self.intermediates.clone(), Vec::new())
            .map_err(|e| Fault::TrustMaterial(format!("trust anchors: {e}")))?;
        let mut newest: HashMap<Vec<u8>, (u64, Vec<u8>)> = HashMap::new();
        for der in self.file_crls.iter().chain(&published) {
            // Checked at its own thisUpdate: a configured CRL that is stale now is still kept
            // (verification then fails closed with a clear "stale CRL" error, not "missing").
            let c = match base.check_crl_issued(der) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring a CRL that no configured CA issued");
                    continue;
                }
            };
            if newest.get(&c.issuer).is_none_or(|(n, _)| c.number > *n) {
                newest.insert(c.issuer, (c.number, der.clone()));
            }
        }
        let crls: Vec<Vec<u8>> = newest.into_values().map(|(_, d)| d).collect();
        let store = TrustStore::new(self.anchors.clone(), self.intermediates.clone(), crls)
            .map_err(|e| Fault::TrustMaterial(format!("trust store: {e}")))?;
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(store),
            Err(p) => *p.into_inner() = Arc::new(store),
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}
