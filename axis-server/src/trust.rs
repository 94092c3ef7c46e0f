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

/// A CRL in force: the newest of its issuer, from the files or published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlInForce {
    /// The issuer's name (RFC 4514 string, as `axis-pki` prints it).
    pub issuer: String,
    /// Its cRLNumber.
    pub number: u64,
    /// Its nextUpdate: past it, every certificate of this issuer is refused (fail closed).
    pub next_update: Option<OffsetDateTime>,
}

/// The current trust snapshot and what it was built from.
pub struct Trust {
    anchors: Vec<Vec<u8>>,
    intermediates: Vec<Vec<u8>>,
    file_crls: Vec<Vec<u8>>,
    current: RwLock<Arc<TrustStore>>,
    /// The CRLs of `current`, summarised when it was built.
    in_force: RwLock<Arc<Vec<CrlInForce>>>,
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
            in_force: RwLock::new(Arc::new(Vec::new())),
            generation: AtomicU64::new(0),
        };
        trust.reload(db).await?;
        Ok(trust)
    }

    /// How many times the snapshot was rebuilt.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes every open connection verify its caller's certificate again at its next call
    /// (a CRL in force expired: nothing was rebuilt, but the answer changed).
    pub fn recheck_connections(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The snapshot to verify with.
    pub fn store(&self) -> Arc<TrustStore> {
        self.current
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The CRLs in force, one per issuer.
    pub fn crls_in_force(&self) -> Arc<Vec<CrlInForce>> {
        self.in_force
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
        let mut in_force: Vec<CrlInForce> = crls
            .iter()
            .filter_map(|der| axis_pki::summarize_crl(der).ok())
            .map(|s| CrlInForce {
                issuer: s.issuer,
                number: s.number.unwrap_or(0),
                next_update: s.next_update,
            })
            .collect();
        in_force.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        let store = TrustStore::new(self.anchors.clone(), self.intermediates.clone(), crls)
            .map_err(|e| Fault::TrustMaterial(format!("trust store: {e}")))?;
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(store),
            Err(p) => *p.into_inner() = Arc::new(store),
        }
        match self.in_force.write() {
            Ok(mut g) => *g = Arc::new(in_force),
            Err(p) => *p.into_inner() = Arc::new(in_force),
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}
