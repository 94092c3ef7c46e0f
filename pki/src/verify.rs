//! Chain verification at a given time, for a required profile, with revocation by CRL that fails
//! closed. The result, [`VerifiedCert`], can only be made here.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid::Oid;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use crate::agency_id::AgencyId;
use crate::cert::{self, Serial};
use crate::crl::{self, RevocationReason};
use crate::error::Error;
use crate::key::KeyAlgorithm;
use crate::profile::{ExtendedKeyUsage, KeyUsage, PolicyArc, Profile};

/// Most certificates in a path, trust anchor included (leaf → issuing CA → root is 3).
pub const MAX_CHAIN_LEN: usize = 4;
/// Most trust anchors in a store.
pub const MAX_ANCHORS: usize = 16;
/// Most intermediate certificates in a store or presented with a leaf.
pub const MAX_INTERMEDIATES: usize = 256;
/// Most CRLs in a store.
pub const MAX_CRLS: usize = 256;
/// Most successful chain verifications a store remembers (see [`TrustStore`]); past it, one
/// is forgotten for each new one.
pub const MAX_CACHED_CHAINS: usize = 4096;

/// Signature algorithms accepted on certificates, CRLs and CSRs. SHA-1 and MD5 are refused
/// (SHAttered, 2017); x509-parser alone would accept SHA-1.
const ALLOWED_SIGNATURE_ALGORITHMS: &[&[u8]] = &[
    // sha256WithRSAEncryption, sha384WithRSAEncryption, sha512WithRSAEncryption
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
    // ecdsa-with-SHA256, ecdsa-with-SHA384
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
    &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
];

pub(crate) fn check_signature_algorithm(oid: &Oid<'_>) -> Result<(), Error> {
    if ALLOWED_SIGNATURE_ALGORITHMS.contains(&oid.as_bytes()) {
        Ok(())
    } else {
        Err(Error::SignatureAlgorithmNotAllowed {
            oid: oid.to_id_string(),
        })
    }
}

/// Extensions a certificate may mark critical and still be accepted (RFC 5280 §4.2: an unknown
/// critical extension must make the certificate unusable).
const KNOWN_CRITICAL: &[&[u8]] = &[
    &[0x55, 0x1d, 0x0f], // keyUsage
    &[0x55, 0x1d, 0x13], // basicConstraints
    &[0x55, 0x1d, 0x25], // extKeyUsage
    &[0x55, 0x1d, 0x11], // subjectAltName
    &[0x55, 0x1d, 0x20], // certificatePolicies
];

/// A CRL that [`TrustStore::check_crl`] accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedCrl {
    /// The issuer's name, raw DER (the key CRLs are grouped by).
    pub issuer: Vec<u8>,
    /// The cRLNumber (0 if absent).
    pub number: u64,
    /// How many certificates it lists.
    pub revoked: usize,
}

/// Trust anchors, intermediate CA certificates and CRLs, as DER.
///
/// Every certificate's revocation is checked against a CRL from its issuer that is current at
/// the verification time; the trust anchor itself is not revocable by CRL.
///
/// Each anchor declares its PKI's [`PolicyArc`] (its `<arc>.1.1` root-ca policy); a leaf's
/// profile is read under the arc of the anchor its path ends at, so PKIs with different arcs
/// can share a store and no verifier is configured with an arc.
///
/// Construction does the work that does not depend on the leaf: every CRL is parsed into an
/// index of revoked serials and its signature checked against the store's CA keys, and every
/// signature between store certificates is checked once. A verification then costs one
/// signature check (the leaf's) plus hash lookups, whatever the size of the CRLs.
///
/// A store also remembers each chain it verified successfully (at most
/// [`MAX_CACHED_CHAINS`]), keyed by the SHA-256 of the required profile, the leaf and the
/// presented certificates, with the interval of verification times over which every check
/// gives the same answer: from the latest notBefore of the path and thisUpdate of the CRLs
/// used, to the earliest notAfter and nextUpdate. A verification at a time inside it is
/// answered from memory (a known sender costs no signature check and no parsing here); any
/// other time, or a store built with other CRLs or anchors (a new store starts empty, and
/// [`TrustStore::with_crls`] and `clone` give one), verifies in full. Failures are never kept.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Vec<u8>>,
    /// The policy arc each anchor declares, by position.
    arcs: Vec<PolicyArc>,
    intermediates: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    crl_index: Vec<CrlInfo>,
    /// SHA-256(certificate DER ‖ issuer SPKI) for every store certificate whose signature by a
    /// store CA key verified at construction.
    verified_edges: HashSet<[u8; 32]>,
    /// Chains verified by this store, with the times their answer holds for.
    verified_chains: ChainCache,
}

/// A chain verified successfully, as the store remembers it: what the verification decided
/// about the leaf (shared with every [`VerifiedCert`] handed out for it), where each issuer on
/// the path came from, and the verification times `[from, until)` over which every
/// time-dependent check passes alike (validity of each certificate, currency of each CRL).
///
/// No certificate is kept: the leaf and the presented certificates are the caller's again at
/// every verification (their hash is the key), and the issuers are the store's own or
/// presented ones, named by position. About 0.5 KiB with its share of the leaf's facts, where a
/// copy of the leaf and its path was ~2.5 KiB.
#[derive(Clone, Debug)]
struct CachedChain {
    leaf: Arc<LeafFacts>,
    issuers: IssuerPath,
    from: OffsetDateTime,
    until: OffsetDateTime,
}

impl CachedChain {
    /// The verified certificate again, for the `leaf` and `presented` certificates whose hash
    /// is this entry's key; `None` if an issuer's position is not there (it always is: the
    /// entry belongs to this store, and `presented` hashed the same).
    fn cert(&self, store: &TrustStore, leaf: &[u8], presented: &[Vec<u8>]) -> Option<VerifiedCert> {
        let chain = self
            .issuers
            .iter()
            .map(|source| source.in_path(store, presented).map(<[u8]>::to_vec))
            .collect::<Option<Vec<_>>>()?;
        Some(VerifiedCert {
            der: leaf.to_vec(),
            chain,
            leaf: self.leaf.clone(),
        })
    }

    /// Octets this entry holds: itself and, whole, the leaf's facts it shares.
    fn footprint(&self) -> usize {
        std::mem::size_of::<Self>() + self.leaf.footprint()
    }
}

/// Where a certificate above the leaf came from: position in the store's anchors or
/// intermediates, or among the certificates presented with the leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Anchor(usize),
    Intermediate(usize),
    Presented(usize),
}

impl Source {
    fn in_path<'a>(self, store: &'a TrustStore, presented: &'a [Vec<u8>]) -> Option<&'a [u8]> {
        match self {
            Source::Anchor(i) => store.anchors.get(i),
            Source::Intermediate(i) => store.intermediates.get(i),
            Source::Presented(i) => presented.get(i),
        }
        .map(Vec::as_slice)
    }
}

/// The issuers of a path, nearest first (at most [`MAX_CHAIN_LEN`] − 1), without a heap
/// allocation.
#[derive(Clone, Copy, Debug, Default)]
struct IssuerPath {
    sources: [Option<Source>; MAX_CHAIN_LEN - 1],
}

impl IssuerPath {
    fn push(&mut self, source: Source) -> Result<(), Error> {
        let slot = self
            .sources
            .iter_mut()
            .find(|s| s.is_none())
            .ok_or(Error::ChainTooLong { max: MAX_CHAIN_LEN })?;
        *slot = Some(source);
        Ok(())
    }

    fn iter(&self) -> impl Iterator<Item = Source> + '_ {
        self.sources.iter().map_while(|s| *s)
    }
}

/// The store's memory of verified chains, and how many verifications it answered. A clone
/// starts empty: it belongs to one store.
#[derive(Default)]
struct ChainCache(Mutex<HashMap<[u8; 32], CachedChain>>, AtomicU64);

impl Clone for ChainCache {
    fn clone(&self) -> Self {
        ChainCache::default()
    }
}

impl std::fmt::Debug for ChainCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainCache({} chains)", self.lock().len())
    }
}

impl ChainCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], CachedChain>> {
        // Entries are inserted whole: a panic elsewhere leaves none half-written.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &[u8; 32], now: OffsetDateTime) -> Option<CachedChain> {
        let hit = self
            .lock()
            .get(key)
            .filter(|c| c.from <= now && now < c.until)
            .cloned();
        if hit.is_some() {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    fn put(&self, key: [u8; 32], entry: CachedChain) {
        let mut map = self.lock();
        if map.len() >= MAX_CACHED_CHAINS && !map.contains_key(&key) {
            // Forget one (any): the cache stays bounded without a cliff where all go at once.
            if let Some(old) = map.keys().next().copied() {
                map.remove(&old);
            }
        }
        map.insert(key, entry);
    }
}

/// The cache key of one verification: what its answer depends on besides the store and time.
fn chain_key(leaf: &[u8], presented: &[Vec<u8>], required: Profile) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let profile = required.to_string();
    for part in std::iter::once(profile.as_bytes())
        .chain(std::iter::once(leaf))
        .chain(presented.iter().map(Vec::as_slice))
    {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// What a CRL says, parsed once.
#[derive(Clone, Debug)]
struct CrlInfo {
    /// Raw DER of the issuer name.
    issuer: Vec<u8>,
    number: u64,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    has_critical_extension: bool,
    /// SPKIs (DER) of the store certificates whose key verified this CRL's signature.
    verified_by: Vec<Vec<u8>>,
    /// Position in `TrustStore::crls`, to check the signature against a key from outside the
    /// store (an issuer presented with the leaf).
    position: usize,
    /// Serial (big-endian, no leading zeros) → revocation time and reason.
    revoked: HashMap<Vec<u8>, (OffsetDateTime, RevocationReason)>,
}

fn edge_key(child_der: &[u8], issuer_spki: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&(child_der.len() as u64).to_be_bytes());
    ctx.update(child_der);
    ctx.update(issuer_spki);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

impl TrustStore {
    /// Builds a store, parsing every item once so that malformed material is refused here and
    /// not at the first verification.
    pub fn new(
        anchors: Vec<Vec<u8>>,
        intermediates: Vec<Vec<u8>>,
        crls: Vec<Vec<u8>>,
    ) -> Result<Self, Error> {
        if anchors.is_empty() {
            return Err(Error::NoTrustAnchor);
        }
        budget(anchors.len(), MAX_ANCHORS)?;
        budget(intermediates.len(), MAX_INTERMEDIATES)?;
        if crls.len() > MAX_CRLS {
            return Err(Error::TooManyCrls {
                found: crls.len(),
                max: MAX_CRLS,
            });
        }
        let certs = anchors
            .iter()
            .chain(&intermediates)
            .map(|c| cert::parse(c))
            .collect::<Result<Vec<_>, _>>()?;
        let arcs = certs[..anchors.len()]
            .iter()
            .map(|c| match crate::profile::ca_arc_in(c)? {
                Some((arc, _)) => Ok(arc),
                None => Err(Error::AnchorWithoutPolicyArc {
                    subject: cert::name_to_string(c.subject()),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;

        // Signatures between store certificates, checked once. An anchor's own signature is
        // never consulted (a path ends at the anchor), so only intermediates are children.
        let mut verified_edges = HashSet::new();
        for (child_der, child) in intermediates.iter().zip(&certs[anchors.len()..]) {
            for issuer in certs
                .iter()
                .filter(|i| i.subject().as_raw() == child.issuer().as_raw())
            {
                if check_cert_signature(child, issuer.public_key()).is_ok() {
                    verified_edges.insert(edge_key(child_der, issuer.public_key().raw));
                }
            }
        }

        let mut crl_index = Vec::with_capacity(crls.len());
        for (position, der) in crls.iter().enumerate() {
            let c = crl::parse(der)?;
            let verified_by = certs
                .iter()
                .filter(|i| i.subject().as_raw() == c.issuer().as_raw())
                .filter(|i| check_crl_signature(&c, i.public_key()))
                .map(|i| i.public_key().raw.to_vec())
                .collect();
            let mut revoked = HashMap::new();
            for r in c.iter_revoked_certificates() {
                let reason = r
                    .reason_code()
                    .and_then(|(_, code)| RevocationReason::from_code(code.0))
                    .unwrap_or(RevocationReason::Unspecified);
                revoked.insert(
                    strip_zeros(r.raw_serial()).to_vec(),
                    (r.revocation_date.to_datetime(), reason),
                );
            }
            crl_index.push(CrlInfo {
                issuer: c.issuer().as_raw().to_vec(),
                number: c
                    .crl_number()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                this_update: c.last_update().to_datetime(),
                next_update: c.next_update().map(|t| t.to_datetime()),
                has_critical_extension: c.extensions().iter().any(|e| e.critical),
                verified_by,
                position,
                revoked,
            });
        }
        drop(certs);
        Ok(TrustStore {
            anchors,
            arcs,
            intermediates,
            crls,
            crl_index,
            verified_edges,
            verified_chains: ChainCache::default(),
        })
    }

    /// How many verified chains the store remembers now.
    pub fn cached_chains(&self) -> usize {
        self.verified_chains.lock().len()
    }

    /// How many verifications this store answered from its memory of verified chains (without
    /// building and checking the path again).
    pub fn chain_cache_hits(&self) -> u64 {
        self.verified_chains.1.load(Ordering::Relaxed)
    }

    /// Checks a CRL handed in from outside (an operator publishing a new one): issued by one of
    /// the store's CA certificates (same name, signature by its key, cRLSign), current at `now`,
    /// no unknown critical extension. Returns the issuer's raw DER name, the CRL number and the
    /// number of revoked entries.
    pub fn check_crl(&self, der: &[u8], now: OffsetDateTime) -> Result<CheckedCrl, Error> {
        let c = crl::parse(der)?;
        let mut name_matched = false;
        let mut signed = false;
        for ca in self.anchors.iter().chain(&self.intermediates) {
            let ca = cert::parse(ca)?;
            if ca.subject().as_raw() != c.issuer().as_raw() {
                continue;
            }
            name_matched = true;
            if check_crl_signature(&c, ca.public_key()) {
                if let Some(ku) = ca.key_usage().map_err(|_| Error::CertificateMalformed)?
                    && !ku.value.crl_sign()
                {
                    return Err(Error::CrlIssuerNotAllowed { depth: 0 });
                }
                signed = true;
                break;
            }
        }
        if !signed {
            return Err(if name_matched {
                Error::CrlBadSignature { depth: 0 }
            } else {
                Error::CrlMissing {
                    depth: 0,
                    issuer: cert::name_to_string(c.issuer()),
                }
            });
        }
        let this_update = c.last_update().to_datetime();
        if now < this_update {
            return Err(Error::CrlNotYetValid {
                depth: 0,
                this_update,
            });
        }
        match c.next_update().map(|t| t.to_datetime()) {
            Some(next) if now < next => {}
            next_update => {
                return Err(Error::CrlStale {
                    depth: 0,
                    next_update,
                });
            }
        }
        if c.extensions().iter().any(|e| e.critical) {
            return Err(Error::CrlUnsupportedCriticalExtension { depth: 0 });
        }
        Ok(CheckedCrl {
            issuer: c.issuer().as_raw().to_vec(),
            number: c
                .crl_number()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            revoked: c.iter_revoked_certificates().count(),
        })
    }

    /// [`TrustStore::check_crl`] for the store's own CRL at `index` (in the order given to
    /// [`TrustStore::new`]), at its own thisUpdate, from what construction already checked —
    /// no signature is verified again: issued by a store CA (same name, signature by its key,
    /// cRLSign), a nextUpdate after its thisUpdate, no unknown critical extension.
    pub fn check_own_crl(&self, index: usize) -> Result<CheckedCrl, Error> {
        let info = self.crl_index.get(index).ok_or(Error::CrlMalformed)?;
        let mut name_matched = false;
        let mut signer = None;
        for ca in self.anchors.iter().chain(&self.intermediates) {
            let ca = cert::parse(ca)?;
            if ca.subject().as_raw() != info.issuer.as_slice() {
                continue;
            }
            name_matched = true;
            if info.verified_by.iter().any(|k| k == ca.public_key().raw) {
                signer = Some(ca);
                break;
            }
        }
        let Some(ca) = signer else {
            let c = crl::parse(&self.crls[info.position])?;
            return Err(if name_matched {
                Error::CrlBadSignature { depth: 0 }
            } else {
                Error::CrlMissing {
                    depth: 0,
                    issuer: cert::name_to_string(c.issuer()),
                }
            });
        };
        if let Some(ku) = ca.key_usage().map_err(|_| Error::CertificateMalformed)?
            && !ku.value.crl_sign()
        {
            return Err(Error::CrlIssuerNotAllowed { depth: 0 });
        }
        match info.next_update {
            Some(next) if info.this_update < next => {}
            next_update => {
                return Err(Error::CrlStale {
                    depth: 0,
                    next_update,
                });
            }
        }
        if info.has_critical_extension {
            return Err(Error::CrlUnsupportedCriticalExtension { depth: 0 });
        }
        Ok(CheckedCrl {
            issuer: info.issuer.clone(),
            number: info.number,
            revoked: info.revoked.len(),
        })
    }

    /// The same store with only the CRLs at `keep` (positions in the order given to
    /// [`TrustStore::new`]), without checking anything again: for verifying at several times
    /// with the CRLs in force at each, from one store built once.
    pub fn with_crls(&self, keep: &[usize]) -> TrustStore {
        let mut crls = Vec::with_capacity(keep.len());
        let mut crl_index = Vec::with_capacity(keep.len());
        for &i in keep {
            if let Some(info) = self.crl_index.get(i) {
                let mut info = info.clone();
                info.position = crls.len();
                crls.push(self.crls[i].clone());
                crl_index.push(info);
            }
        }
        TrustStore {
            anchors: self.anchors.clone(),
            arcs: self.arcs.clone(),
            intermediates: self.intermediates.clone(),
            crls,
            crl_index,
            verified_edges: self.verified_edges.clone(),
            verified_chains: ChainCache::default(),
        }
    }

    /// [`TrustStore::check_crl`] at the CRL's own thisUpdate: who issued it and its number,
    /// whether or not it is current now (a stale CRL kept for history, or to fail closed with a
    /// clear "stale" error rather than "missing").
    pub fn check_crl_issued(&self, der: &[u8]) -> Result<CheckedCrl, Error> {
        let this_update = crate::crl::summarize_crl(der)?.this_update;
        self.check_crl(der, this_update)
    }

    /// The CRLs the store was built with.
    pub fn crls(&self) -> &[Vec<u8>] {
        &self.crls
    }

    /// The intermediate CA certificates the store was built with.
    pub fn intermediates(&self) -> &[Vec<u8>] {
        &self.intermediates
    }

    /// The trust anchors.
    pub fn anchors(&self) -> &[Vec<u8>] {
        &self.anchors
    }

    /// The policy arc each anchor declares, in the order of [`TrustStore::anchors`].
    pub fn policy_arcs(&self) -> &[PolicyArc] {
        &self.arcs
    }

    /// The profile `cert_der` names under the arc of any of the store's anchors, without
    /// verifying anything (to choose which profile to verify it for, or to display it).
    /// `Ok(None)` if it names none; [`Error::ProfileAmbiguous`] if two arcs read it as two
    /// profiles. [`TrustStore::verify`] reads the profile again under the arc of the anchor the
    /// path actually ends at.
    pub fn profile_of(&self, cert_der: &[u8]) -> Result<Option<Profile>, Error> {
        let cert = cert::parse(cert_der)?;
        let mut found = None;
        for (i, arc) in self.arcs.iter().enumerate() {
            if self.arcs[..i].contains(arc) {
                continue;
            }
            if let Some(p) = cert::profile_in(&cert, arc)?
                && found.replace(p).is_some_and(|q| q != p)
            {
                return Err(Error::ProfileAmbiguous);
            }
        }
        Ok(found)
    }

    /// Verifies `leaf` for `required` at `now`, building the path from the store's
    /// intermediates.
    pub fn verify(
        &self,
        leaf: &[u8],
        required: Profile,
        now: OffsetDateTime,
    ) -> Result<VerifiedCert, Error> {
        self.verify_with_intermediates(leaf, &[], required, now)
    }

    /// Verifies `leaf` for `required` at `now`; `presented` are extra intermediates sent with
    /// the leaf (a TLS chain, a CMS certificate set). They are untrusted: they only help build a
    /// path that must still end at one of the store's anchors.
    ///
    /// 1. Budgets: certificate sizes, number of presented certificates, path length
    ///    ([`MAX_CHAIN_LEN`]) — against resource exhaustion (rustls-webpki `Budget`).
    /// 2. Path building: each issuer is found by name and must have signed the certificate
    ///    below it with an allowed algorithm (RFC 5280 §6.1.3 (a)(1); no SHA-1).
    /// 3. Every certificate on the path, anchor included, is valid at `now` (§6.1.3 (a)(2)).
    /// 4. Every issuer is a CA with keyCertSign, within its pathLenConstraint (§6.1.4 (k)–(n)).
    /// 5. No certificate carries an unknown critical extension (§4.2).
    /// 6. Revocation, failing closed: for every non-anchor certificate a CRL signed by its
    ///    issuer, current at `now`, must exist and must not list it (§6.3). A missing, stale or
    ///    wrongly signed CRL is an error, never "not revoked".
    /// 7. The leaf carries the required profile's policy OID under the policy arc of the anchor
    ///    the path ends at, exactly its key usage, EKU and basic constraints — so a seal key
    ///    cannot sign as a person, nor a TLS key as a seal.
    /// 8. Agency and personal profiles carry a well-formed agency id.
    ///
    /// A chain this store verified before, at a time when the same certificates were valid and
    /// the same CRLs current, is answered from memory (see [`TrustStore`]).
    pub fn verify_with_intermediates(
        &self,
        leaf: &[u8],
        presented: &[Vec<u8>],
        required: Profile,
        now: OffsetDateTime,
    ) -> Result<VerifiedCert, Error> {
        budget(presented.len(), MAX_INTERMEDIATES)?;
        let key = chain_key(leaf, presented, required);
        if let Some(cert) = self
            .verified_chains
            .get(&key, now)
            .and_then(|c| c.cert(self, leaf, presented))
        {
            return Ok(cert);
        }
        let (cert, remembered) = self.verify_path(leaf, presented, required, now)?;
        self.verified_chains.put(key, remembered);
        Ok(cert)
    }

    /// Octets the store's memory of verified chains holds now: its entries (each with its
    /// leaf's facts counted whole) and their keys, not the table's spare capacity.
    pub fn cached_chain_bytes(&self) -> usize {
        self.verified_chains
            .lock()
            .values()
            .map(|c| c.footprint() + std::mem::size_of::<[u8; 32]>())
            .sum()
    }

    /// [`TrustStore::verify_with_intermediates`] in full, and the times its answer holds for.
    fn verify_path(
        &self,
        leaf: &[u8],
        presented: &[Vec<u8>],
        required: Profile,
        now: OffsetDateTime,
    ) -> Result<(VerifiedCert, CachedChain), Error> {
        // Step 1 (the number presented was checked by the caller).
        let leaf_cert = cert::parse(leaf)?;
        let mut path: Vec<(&[u8], X509Certificate<'_>)> = vec![(leaf, leaf_cert)];
        let mut issuers = IssuerPath::default();
        let mut seen: HashSet<&[u8]> = HashSet::new();
        seen.insert(leaf);

        // Step 2: walk up until an anchor is reached.
        loop {
            let (current_der, current) = path.last().ok_or(Error::CertificateMalformed)?;
            if self.anchors.iter().any(|a| a.as_slice() == *current_der) {
                break; // verifying an anchor itself, or the path reached one
            }
            if path.len() >= MAX_CHAIN_LEN {
                return Err(Error::ChainTooLong { max: MAX_CHAIN_LEN });
            }
            let depth = path.len() - 1;
            let issuer_raw = current.issuer().as_raw();
            let mut name_matched = false;
            let mut found = None;
            let candidates = (self.anchors.iter().enumerate())
                .map(|(i, d)| (Source::Anchor(i), d))
                .chain((presented.iter().enumerate()).map(|(i, d)| (Source::Presented(i), d)))
                .chain(
                    (self.intermediates.iter().enumerate())
                        .map(|(i, d)| (Source::Intermediate(i), d)),
                );
            for (source, der) in candidates {
                if seen.contains(der.as_slice()) {
                    continue;
                }
                let candidate = cert::parse(der)?;
                if candidate.subject().as_raw() != issuer_raw {
                    continue;
                }
                name_matched = true;
                let known = self
                    .verified_edges
                    .contains(&edge_key(current_der, candidate.public_key().raw));
                if known || check_cert_signature(current, candidate.public_key()).is_ok() {
                    found = Some((source, der.as_slice(), candidate));
                    break;
                }
            }
            match found {
                Some((source, der, c)) => {
                    seen.insert(der);
                    path.push((der, c));
                    issuers.push(source)?;
                }
                None if name_matched => return Err(Error::BadSignature { depth }),
                None => {
                    return Err(Error::UnknownIssuer {
                        depth,
                        issuer: cert::name_to_string(current.issuer()),
                    });
                }
            }
        }

        // Steps 3–5 for every certificate, 6 for every non-anchor. `from` and `until` bound
        // the times at which every time-dependent check passes as it does at `now`.
        let (mut from, mut until) = (OffsetDateTime::UNIX_EPOCH, OffsetDateTime::UNIX_EPOCH);
        let anchor_index = path.len() - 1;
        for (depth, (_, c)) in path.iter().enumerate() {
            let v = c.validity();
            let (nb, na) = (v.not_before.to_datetime(), v.not_after.to_datetime());
            (from, until) = if depth == 0 {
                (nb, na)
            } else {
                (from.max(nb), until.min(na))
            };
            if now < nb {
                return Err(Error::NotYetValid {
                    depth,
                    not_before: nb,
                });
            }
            if now >= na {
                return Err(Error::Expired {
                    depth,
                    not_after: na,
                });
            }
            for ext in c.extensions() {
                if ext.critical && !KNOWN_CRITICAL.contains(&ext.oid.as_bytes()) {
                    return Err(Error::UnsupportedCriticalExtension {
                        depth,
                        oid: ext.oid.to_id_string(),
                    });
                }
            }
            if c.signature_algorithm != c.tbs_certificate.signature {
                return Err(Error::CertificateMalformed);
            }
            if depth == anchor_index {
                continue;
            }
            let (_, issuer) = &path[depth + 1];
            // Step 4.
            let bc = issuer
                .basic_constraints()
                .map_err(|_| Error::CertificateMalformed)?;
            let Some(bc) = bc.filter(|b| b.value.ca) else {
                return Err(Error::IssuerNotCa { depth: depth + 1 });
            };
            if let Some(ku) = issuer
                .key_usage()
                .map_err(|_| Error::CertificateMalformed)?
                && !ku.value.key_cert_sign()
            {
                return Err(Error::IssuerNotCa { depth: depth + 1 });
            }
            if let Some(max) = bc.value.path_len_constraint {
                // CA certificates strictly between the leaf and this issuer.
                if depth as u32 > max {
                    return Err(Error::PathLenExceeded {
                        depth: depth + 1,
                        path_len: max,
                    });
                }
            }
            // Step 6.
            let (this_update, next_update) = self.check_revocation(depth, c, issuer, now)?;
            (from, until) = (from.max(this_update), until.min(next_update));
        }

        // Steps 7 and 8.
        let (anchor_der, _) = &path[anchor_index];
        let arc = self
            .anchors
            .iter()
            .position(|a| a.as_slice() == *anchor_der)
            .and_then(|i| self.arcs.get(i))
            .ok_or(Error::CertificateMalformed)?;
        let (_, leaf_cert) = &path[0];
        let key_alg = KeyAlgorithm::of_spki(leaf_cert.public_key()).ok_or(Error::UnsupportedKey)?;
        let found = cert::profile_in(leaf_cert, arc)?
            .ok_or(Error::ProfileMissing { expected: required })?;
        if found != required {
            return Err(Error::WrongProfile {
                expected: required,
                found,
            });
        }
        let spec = required.spec(key_alg);
        check_key_usage(leaf_cert, spec.key_usage)?;
        check_eku(leaf_cert, spec.extended_key_usage)?;
        let is_ca = leaf_cert
            .basic_constraints()
            .map_err(|_| Error::CertificateMalformed)?
            .is_some_and(|b| b.value.ca);
        if is_ca != spec.ca.is_some() {
            return Err(Error::CaFlagMismatch {
                profile: required,
                is_ca,
            });
        }
        let agency_id = match cert::agency_id_in(leaf_cert.subject()) {
            Ok(id) => id,
            Err(e) if spec.requires_agency_id => return Err(e),
            Err(_) => None,
        };
        if spec.requires_agency_id && agency_id.is_none() {
            return Err(Error::AgencyIdMissing { profile: required });
        }

        let v = leaf_cert.validity();
        let facts = Arc::new(LeafFacts {
            profile: required,
            agency_id,
            serial: Serial::from_bytes(leaf_cert.raw_serial())?,
            subject: cert::name_to_string(leaf_cert.subject()),
            common_name: leaf_cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|c| c.as_str().ok())
                .map(str::to_owned),
            title: title_of(leaf_cert),
            key_algorithm: key_alg,
            public_key: leaf_cert.public_key().raw.to_vec(),
            not_before: v.not_before.to_datetime(),
            not_after: v.not_after.to_datetime(),
        });
        let cert = VerifiedCert {
            der: leaf.to_vec(),
            chain: path[1..].iter().map(|(d, _)| d.to_vec()).collect(),
            leaf: facts.clone(),
        };
        let remembered = CachedChain {
            leaf: facts,
            issuers,
            from,
            until,
        };
        Ok((cert, remembered))
    }

    /// Step 6 for the certificate at `depth`; on success, the CRL's thisUpdate and nextUpdate
    /// (the times it is current for).
    fn check_revocation(
        &self,
        depth: usize,
        subject: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        now: OffsetDateTime,
    ) -> Result<(OffsetDateTime, OffsetDateTime), Error> {
        let issuer_spki = issuer.public_key();
        let mut name_matched = false;
        let mut best: Option<&CrlInfo> = None;
        for info in self
            .crl_index
            .iter()
            .filter(|i| i.issuer == issuer.subject().as_raw())
        {
            name_matched = true;
            let signed_by_issuer = info.verified_by.iter().any(|k| k == issuer_spki.raw)
                || self.crls.get(info.position).is_some_and(|der| {
                    crl::parse(der).is_ok_and(|c| check_crl_signature(&c, issuer_spki))
                });
            if signed_by_issuer && best.is_none_or(|b| info.number > b.number) {
                best = Some(info);
            }
        }
        let Some(c) = best else {
            return Err(if name_matched {
                Error::CrlBadSignature { depth }
            } else {
                Error::CrlMissing {
                    depth,
                    issuer: cert::name_to_string(issuer.subject()),
                }
            });
        };
        if let Some(ku) = issuer
            .key_usage()
            .map_err(|_| Error::CertificateMalformed)?
            && !ku.value.crl_sign()
        {
            return Err(Error::CrlIssuerNotAllowed { depth });
        }
        if now < c.this_update {
            return Err(Error::CrlNotYetValid {
                depth,
                this_update: c.this_update,
            });
        }
        let next_update = match c.next_update {
            Some(next) if now < next => next,
            next_update => return Err(Error::CrlStale { depth, next_update }),
        };
        // RFC 5280 §5.2: a CRL with an unknown critical extension must not be used. rcgen
        // writes none; an issuing distribution point (scoped CRL) is refused for now.
        if c.has_critical_extension {
            return Err(Error::CrlUnsupportedCriticalExtension { depth });
        }
        let serial = subject.raw_serial();
        if let Some((revoked_at, reason)) = c.revoked.get(strip_zeros(serial)) {
            return Err(Error::Revoked {
                depth,
                serial: Serial::from_bytes(serial)?,
                revoked_at: *revoked_at,
                reason: *reason,
            });
        }
        Ok((c.this_update, next_update))
    }
}

fn check_crl_signature(c: &CertificateRevocationList<'_>, key: &SubjectPublicKeyInfo<'_>) -> bool {
    check_signature_algorithm(&c.signature_algorithm.algorithm).is_ok()
        && c.verify_signature(key).is_ok()
}

fn budget(found: usize, max: usize) -> Result<(), Error> {
    if found > max {
        return Err(Error::TooManyCertificates { found, max });
    }
    Ok(())
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&x| x == 0).count();
    &b[n..]
}

fn check_cert_signature(
    cert: &X509Certificate<'_>,
    issuer_key: &SubjectPublicKeyInfo<'_>,
) -> Result<(), Error> {
    check_alg(&cert.signature_algorithm)?;
    cert.verify_signature(Some(issuer_key))
        .map_err(|_| Error::BadSignature { depth: 0 })
}

fn check_alg(alg: &AlgorithmIdentifier<'_>) -> Result<(), Error> {
    check_signature_algorithm(&alg.algorithm)
}

fn check_key_usage(cert: &X509Certificate<'_>, expected: &[KeyUsage]) -> Result<(), Error> {
    let ku = cert
        .key_usage()
        .map_err(|_| Error::CertificateMalformed)?
        .ok_or_else(|| Error::KeyUsageMismatch {
            expected: names(expected),
            found: String::new(),
        })?;
    let all = [
        KeyUsage::DigitalSignature,
        KeyUsage::NonRepudiation,
        KeyUsage::KeyEncipherment,
        KeyUsage::KeyAgreement,
        KeyUsage::KeyCertSign,
        KeyUsage::CrlSign,
    ];
    let present: Vec<KeyUsage> = all.into_iter().filter(|k| k.is_set(ku.value)).collect();
    // Bits Axis never grants (dataEncipherment, encipherOnly, decipherOnly) are a mismatch too.
    let other_bits = ku.value.flags & !all.iter().fold(0u16, |a, k| a | (1 << k.bit()));
    if other_bits != 0
        || present.len() != expected.len()
        || !expected.iter().all(|e| present.contains(e))
    {
        return Err(Error::KeyUsageMismatch {
            expected: names(expected),
            found: names(&present),
        });
    }
    Ok(())
}

fn check_eku(cert: &X509Certificate<'_>, expected: &[ExtendedKeyUsage]) -> Result<(), Error> {
    let eku = cert
        .extended_key_usage()
        .map_err(|_| Error::CertificateMalformed)?;
    let mut present = Vec::new();
    let mut other = false;
    if let Some(e) = &eku {
        if e.value.server_auth {
            present.push(ExtendedKeyUsage::ServerAuth);
        }
        if e.value.client_auth {
            present.push(ExtendedKeyUsage::ClientAuth);
        }
        other = e.value.any
            || e.value.code_signing
            || e.value.email_protection
            || e.value.time_stamping
            || e.value.ocsp_signing
            || !e.value.other.is_empty();
    }
    if other || present.len() != expected.len() || !expected.iter().all(|e| present.contains(e)) {
        let mut found = names(&present);
        if other {
            if !found.is_empty() {
                found.push_str(", ");
            }
            found.push_str("others");
        }
        return Err(Error::ExtendedKeyUsageMismatch {
            expected: names(expected),
            found,
        });
    }
    Ok(())
}

fn names<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn title_of(cert: &X509Certificate<'_>) -> Option<String> {
    let title = Oid::new(std::borrow::Cow::Borrowed(&[0x55, 0x04, 0x0c]));
    cert.subject()
        .iter_attributes()
        .find(|a| a.attr_type() == &title)
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

/// A certificate that passed [`TrustStore::verify`]: chain, time, CA constraints, revocation,
/// profile and agency id. Only the verifier constructs it; code that must act on a verified
/// identity takes this type.
#[derive(Clone, Debug)]
pub struct VerifiedCert {
    der: Vec<u8>,
    chain: Vec<Vec<u8>>,
    leaf: Arc<LeafFacts>,
}

/// What a verification decided about a leaf, besides its path: shared by the store's memory of
/// the chain and every [`VerifiedCert`] made from it.
#[derive(Debug)]
struct LeafFacts {
    profile: Profile,
    agency_id: Option<AgencyId>,
    serial: Serial,
    subject: String,
    common_name: Option<String>,
    title: Option<String>,
    key_algorithm: KeyAlgorithm,
    public_key: Vec<u8>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl LeafFacts {
    /// Octets held: the value (inside its `Arc`) and the heap it owns.
    fn footprint(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        2 * std::mem::size_of::<usize>()
            + std::mem::size_of::<Self>()
            + self.agency_id.as_ref().map_or(0, |a| a.as_str().len())
            + self.serial.as_bytes().len()
            + self.subject.capacity()
            + text(&self.common_name)
            + text(&self.title)
            + self.public_key.capacity()
    }
}

impl VerifiedCert {
    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
    /// The issuers above it, nearest first, ending with the trust anchor.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
    /// The profile it was verified for.
    pub fn profile(&self) -> Profile {
        self.leaf.profile
    }
    /// The agency it is bound to (always `Some` for agency and personal profiles).
    pub fn agency_id(&self) -> Option<&AgencyId> {
        self.leaf.agency_id.as_ref()
    }
    /// Serial number.
    pub fn serial(&self) -> &Serial {
        &self.leaf.serial
    }
    /// Subject distinguished name, printable.
    pub fn subject(&self) -> &str {
        &self.leaf.subject
    }
    /// Subject common name.
    pub fn common_name(&self) -> Option<&str> {
        self.leaf.common_name.as_deref()
    }
    /// Subject title (a personal signer's position).
    pub fn title(&self) -> Option<&str> {
        self.leaf.title.as_deref()
    }
    /// Key algorithm.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.leaf.key_algorithm
    }
    /// SubjectPublicKeyInfo, DER.
    pub fn public_key_der(&self) -> &[u8] {
        &self.leaf.public_key
    }
    /// Start of validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.leaf.not_before
    }
    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.leaf.not_after
    }
}
