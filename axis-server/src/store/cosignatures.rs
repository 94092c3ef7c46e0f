//! Witnesses' cosignatures of the log's tree heads: one row per witness and head.

use super::{Db, i64_of, u64_of};
use crate::error::Result;

impl Db {
    /// Keeps `cosignature` (DER, checked by the caller) of the head of `tree_size` by the
    /// witness `witness` (its key id); a witness's first cosignature of a head is the one kept.
    /// Returns how many witnesses' cosignatures the head now has.
    pub async fn add_cosignature(
        &self,
        tree_size: u64,
        witness: &[u8; 32],
        cosignature: &[u8],
    ) -> Result<u32> {
        let size = i64_of("tree size", tree_size)?;
        let count = on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO cosignatures (tree_size, witness, cosignature) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(size)
            .bind(witness.as_slice())
            .bind(cosignature)
            .execute(&mut *p)
            .await?;
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM cosignatures WHERE tree_size = $1",
            )
            .bind(size)
            .fetch_one(&mut *p)
            .await?)
        })?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// The cosignatures kept for the head of `tree_size`, in ascending byte order (at most
    /// `max`).
    pub async fn cosignatures(&self, tree_size: u64, max: usize) -> Result<Vec<Vec<u8>>> {
        let size = i64_of("tree size", tree_size)?;
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, Vec<u8>>(
                "SELECT cosignature FROM cosignatures WHERE tree_size = $1 \
                 ORDER BY cosignature LIMIT $2",
            )
            .bind(size)
            .bind(max)
            .fetch_all(p)
            .await?)
        })
    }

    /// The largest tree size whose head has at least `min` cosignatures.
    pub async fn latest_cosigned_size(&self, min: u32) -> Result<Option<u64>> {
        let size = on_pool!(self, p => {
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT tree_size FROM cosignatures GROUP BY tree_size \
                 HAVING COUNT(*) >= $1 ORDER BY tree_size DESC LIMIT 1",
            )
            .bind(i64::from(min))
            .fetch_optional(p)
            .await?)
        })?;
        size.map(|s| u64_of("tree size", s)).transpose()
    }
}
