//! The recipients' current encryption certificates, as the key-envelope check needs them: the
//! identifier (issuer and serial) of each agency's encryption certificate in the directory,
//! cached per agency.
//!
//! The cache only speeds up the common case. It is cleared whenever the directory changes (a
//! registration or an update on this node, or the `axis_directory` notification from another),
//! and a submission it would refuse is checked again against the database before it is: a
//! refusal is always decided on the directory as it is now.

use std::collections::HashMap;
use std::sync::Mutex;

use axis_pki::AgencyId;
use axis_signer::RecipientId;

use crate::error::{Result, ServerError};
use crate::store::Db;

/// Most agencies kept; past it the cache starts again (the directory holds ~111,000 units).
const MAX_CACHED: usize = 200_000;

/// Agency id → identifier of its current encryption certificate.
#[derive(Default)]
pub struct EncryptionIds {
    cached: Mutex<HashMap<AgencyId, RecipientId>>,
}

impl EncryptionIds {
    /// Forgets everything (the directory changed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AgencyId, RecipientId>> {
        self.cached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current identifier of each of `agencies` (registered ones: the caller checked),
    /// from the cache, or from the database for those not cached or when `fresh`.
    pub async fn current(
        &self,
        db: &Db,
        agencies: &[AgencyId],
        fresh: bool,
    ) -> Result<Vec<(AgencyId, RecipientId)>> {
        let mut out = Vec::with_capacity(agencies.len());
        let mut missing = Vec::new();
        {
            let cached = self.lock();
            for a in agencies {
                match cached.get(a) {
                    Some(id) if !fresh => out.push((a.clone(), id.clone())),
                    _ => missing.push(a.clone()),
                }
            }
        }
        for a in missing {
            let row = db
                .agency(a.as_str())
                .await?
                .ok_or_else(|| ServerError::RecipientUnknown(a.to_string()))?;
            let id = RecipientId::of_certificate(&row.encryption_cert)
                .map_err(|e| ServerError::stored("encryption certificate", e))?;
            let mut cached = self.lock();
            if cached.len() >= MAX_CACHED {
                cached.clear();
            }
            cached.insert(a.clone(), id.clone());
            out.push((a, id));
        }
        Ok(out)
    }
}
