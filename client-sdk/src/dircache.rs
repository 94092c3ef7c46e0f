//! The directory cache: entries the SDK looked up and verified while sealing (recipients'
//! encryption certificates, this agency's own name), kept for a bounded age so that a DMS can
//! seal documents while the axis is unreachable.
//!
//! An entry is only data: whoever takes one verifies its certificate again (chain, validity,
//! CRLs in force) with the current trust store before using it, so the cache can never make a
//! revoked or expired certificate usable. Entries older than [`CachePolicy::refresh`] are looked
//! up again when the axis answers; those older than [`CachePolicy::max_age`] are never used.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axis_pki::AgencyId;

use crate::config::CachePolicy;
use crate::directory::AgencyInfo;

/// Most entries kept; the oldest goes first.
pub(crate) const MAX_ENTRIES: usize = 4096;

/// How a cached entry may be used now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cached {
    /// Younger than `refresh`: use it without asking the axis.
    Fresh(AgencyInfo),
    /// Older than `refresh`, younger than `max_age`: ask the axis, use it if the axis cannot
    /// answer.
    Usable(AgencyInfo, Duration),
    /// Not cached, or too old to use.
    Missing,
}

/// Agency id → (entry, when it was verified).
pub(crate) struct DirectoryCache {
    policy: CachePolicy,
    entries: Mutex<HashMap<AgencyId, (AgencyInfo, Instant)>>,
}

impl DirectoryCache {
    pub(crate) fn new(policy: CachePolicy) -> Self {
        DirectoryCache {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn policy(&self) -> CachePolicy {
        self.policy
    }

    /// The entry for `id` and how it may be used at `now`.
    pub(crate) fn get(&self, id: &AgencyId, now: Instant) -> Cached {
        let Ok(entries) = self.entries.lock() else {
            return Cached::Missing;
        };
        match entries.get(id) {
            Some((info, at)) => {
                let age = now.saturating_duration_since(*at);
                if age >= self.policy.max_age {
                    Cached::Missing
                } else if age < self.policy.refresh {
                    Cached::Fresh(info.clone())
                } else {
                    Cached::Usable(info.clone(), age)
                }
            }
            None => Cached::Missing,
        }
    }

    /// Keeps a verified entry, dated `now`.
    pub(crate) fn put(&self, info: AgencyInfo, now: Instant) {
        if self.policy.max_age.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&info.agency_id) {
            let max_age = self.policy.max_age;
            entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < max_age);
            if entries.len() >= MAX_ENTRIES
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(info.agency_id.clone(), (info, now));
    }

    /// Drops the entry of `id` (its certificate no longer verifies, or the directory no longer
    /// has it).
    pub(crate) fn remove(&self, id: &AgencyId) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(id);
        }
    }

    /// Drops every entry.
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str) -> AgencyInfo {
        AgencyInfo {
            agency_id: id.parse().unwrap(),
            name: format!("Cơ quan {id}"),
            parent_id: None,
            encryption_certificate: vec![1],
            seal_certificate: vec![2],
            updated_at: None,
        }
    }

    #[test]
    fn an_entry_is_fresh_then_usable_then_gone() {
        let cache = DirectoryCache::new(CachePolicy::new(
            Duration::from_secs(60),
            Duration::from_secs(3600),
        ));
        let t0 = Instant::now();
        let id: AgencyId = "000.00.00.H41".parse().unwrap();
        assert_eq!(cache.get(&id, t0), Cached::Missing);
        cache.put(info("000.00.00.H41"), t0);
        let check = |after: u64, expected: &str| {
            let got = cache.get(&id, t0 + Duration::from_secs(after));
            let kind = match got {
                Cached::Fresh(_) => "fresh",
                Cached::Usable(_, _) => "usable",
                Cached::Missing => "missing",
            };
            assert_eq!(kind, expected, "after {after} s");
        };
        check(0, "fresh");
        check(59, "fresh");
        check(60, "usable");
        check(3599, "usable");
        check(3600, "missing");
        cache.remove(&id);
        check(0, "missing");
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = DirectoryCache::new(CachePolicy::disabled());
        let t0 = Instant::now();
        cache.put(info("000.00.00.H41"), t0);
        assert_eq!(
            cache.get(&"000.00.00.H41".parse().unwrap(), t0),
            Cached::Missing
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = DirectoryCache::new(CachePolicy::default());
        let t0 = Instant::now();
        for i in 0..MAX_ENTRIES + 10 {
            let id = format!(
                "000.{:02}.{:02}.H{:02}",
                i / 6400 % 100,
                i / 80 % 80,
                10 + i % 80
            );
            cache.put(info(&id), t0 + Duration::from_millis(i as u64));
        }
        assert_eq!(cache.entries.lock().unwrap().len(), MAX_ENTRIES);
    }
}
