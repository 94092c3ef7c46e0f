//! The connection to the axis: mutual TLS to one of its nodes (with failover), the trust store
//! built from the root and the axis's trust material, this agency's verified certificates, and
//! the directory cache.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_keys::{Key, KeyPair as _};
use axis_pki::{AgencyId, KeyOp, Profile, TrustStore, VerifiedCert};
use axis_proto::v1 as pb;
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell, broadcast};

use crate::config::{ClientConfig, Credential};
use crate::dircache::DirectoryCache;
use crate::directory::Limits;
use crate::error::{Error, Result};
use crate::nodes::{self, Attempts, ConnectionEvent, Nodes, Retry};
use crate::tls::ClientTls;

/// How long trust material (issuing CAs, CRLs) fetched from the axis is used before it is fetched
/// again. While the axis is unreachable the last material stays in use up to
/// [`crate::CachePolicy::max_age`] (its CRLs still expire at their nextUpdate).
pub const TRUST_REFRESH: Duration = Duration::from_secs(10 * 60);

/// After a refresh failed because the axis was unreachable, optional refreshes (trust material,
/// directory entries) are not tried again for this long: sealing during an outage does not
/// wait for a deadline at every document.
pub(crate) const OFFLINE_BACKOFF: Duration = Duration::from_secs(30);

/// A connected client of the axis, for one agency (or an operator). Cheap to clone: clones
/// share the connections, the trust store, the directory cache and the keys.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    nodes: Nodes,
    agency: Option<AgencyId>,
    root: Vec<u8>,
    /// The TLS identity; an operator's also signs directory versions.
    tls: Credential,
    seal: Option<Credential>,
    personal: Option<Credential>,
    encryption: Option<Credential>,
    /// SubjectPublicKeyInfo of the pinned log signer.
    log_key: Option<Vec<u8>>,
    trust: Mutex<TrustCache>,
    limits: OnceCell<Limits>,
    pub(crate) directory_cache: DirectoryCache,
    /// When an optional refresh last found the axis unreachable.
    offline_since: std::sync::Mutex<Option<Instant>>,
}

/// The trust store and when it was fetched.
#[derive(Default)]
struct TrustCache {
    store: Option<(Arc<TrustStore>, Instant)>,
}

/// A verified signing identity: the key and its certificate, checked against the current trust
/// store.
pub(crate) struct KeyAndCert {
    pub(crate) key: Credential,
    pub(crate) cert: VerifiedCert,
}

impl KeyAndCert {
    pub(crate) fn signer(&self) -> Result<axis_signer::Signer<'_>> {
        axis_signer::Signer::new(self.key.key(), &self.cert)
            .map_err(|e| Error::config(format!("{e}")).with_source(e))
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("agency", &self.inner.agency)
            .field("endpoint", &self.inner.nodes.current_url())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the axis over mutual TLS and checks this client's own certificates.
    ///
    /// 1. TLS: the configured root is the only CA for the server's certificate, which must be
    ///    for `server_name`; the client presents its TLS certificate (and chain). The first
    ///    endpoint that answers within the deadlines is used; the others are kept for failover.
    /// 2. `Directory.GetTrustMaterial`: the issuing CAs and CRLs the axis uses become, with the
    ///    configured root, the trust store. The store checks every signature itself, so the axis
    ///    cannot inject trust; the material is fetched again after [`TRUST_REFRESH`].
    /// 3. The TLS, seal, personal-signer and encryption certificates are verified with that store
    ///    for their profiles and this agency, and each matches its key: a revoked, expired or
    ///    misplaced certificate fails here, with its name, not at the first document.
    /// 4. A pinned log signer (`log_key`) is verified for the axis-log-signer profile.
    /// 5. The axis's limits are read once (sealing checks them, also while the axis is down).
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        config.check()?;
        let ClientConfig {
            agency,
            endpoints,
            server_name,
            root,
            tls,
            seal,
            personal,
            encryption,
            log_key,
            timeouts,
            directory_cache,
        } = config;
        // Step 1.
        let nodes = Nodes::new(
            &endpoints,
            &ClientTls::new(&root, &tls, &server_name)?,
            timeouts,
        )?;
        // Step 2.
        let store = Arc::new(fetch_store(&nodes, &root, Attempts::new(nodes.len())).await?);
        let now = OffsetDateTime::now_utc();
        // Step 4 (first: the pinned key goes into the client).
        let log_key = match log_key {
            Some(der) => Some(
                store
                    .verify(&der, Profile::AxisLogSigner, now)
                    .map_err(|e| {
                        Error::config(format!(
                            "log_key: the pinned log signer certificate does not verify: {e}"
                        ))
                    })?
                    .public_key_der()
                    .to_vec(),
            ),
            None => None,
        };
        let client = Client {
            inner: Arc::new(Inner {
                nodes,
                agency,
                root,
                tls: tls.clone(),
                seal,
                personal,
                encryption,
                log_key,
                trust: Mutex::new(TrustCache {
                    store: Some((store.clone(), Instant::now())),
                }),
                limits: OnceCell::new(),
                directory_cache: DirectoryCache::new(directory_cache),
                offline_since: std::sync::Mutex::new(None),
            }),
        };
        // Step 3.
        let tls_profile = match store.profile_of(tls.certificate()) {
            Ok(Some(p @ (Profile::AgencyTlsClient | Profile::AxisOperator))) => p,
            Ok(Some(p)) => {
                return Err(Error::config(format!(
                    "[tls] cert is a {p} certificate; the axis needs an agency-tls-client (or \
                     axis-operator) certificate"
                )));
            }
            _ => {
                return Err(Error::config(
                    "[tls] cert carries no Axis profile; issue it with axis-pki",
                ));
            }
        };
        let tls_cert = verify_own(&store, &tls, tls_profile, "tls", now)?;
        if tls_profile == Profile::AgencyTlsClient {
            let me = client.me()?;
            check_agency(&tls_cert, me, "tls")?;
        }
        client.seal_at(&store, now)?;
        client.personal_at(&store, now)?;
        client.encryption_at(&store, now)?;
        // Step 5.
        client.limits().await?;
        Ok(client)
    }

    /// The endpoint calls go to now (it changes when a node fails).
    pub fn endpoint(&self) -> String {
        self.inner.nodes.current_url().to_owned()
    }

    /// The connection events from now on: each failover of a call or of the inbox, each
    /// (re)subscription of the inbox. A receiver that falls more than 256 events behind loses
    /// the oldest (`RecvError::Lagged`). Every event is also logged (`tracing`).
    pub fn events(&self) -> broadcast::Receiver<ConnectionEvent> {
        self.inner.nodes.subscribe_events()
    }

    pub(crate) fn nodes(&self) -> &Nodes {
        &self.inner.nodes
    }

    /// A unary call with the call deadline and failover ([`Nodes::unary`]).
    pub(crate) async fn call<T, F, Fut>(&self, call: &str, retry: Retry, f: F) -> Result<T>
    where
        F: FnMut(tonic::transport::Channel) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
    {
        let nodes = self.nodes();
        nodes
            .unary(
                call,
                retry,
                nodes.timeouts.call,
                Attempts::new(nodes.len()),
                f,
            )
            .await
    }

    /// Whether the axis was found unreachable less than [`OFFLINE_BACKOFF`] ago.
    pub(crate) fn recently_offline(&self) -> bool {
        self.inner
            .offline_since
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|t| t.elapsed() < OFFLINE_BACKOFF)
    }

    /// Records whether an optional refresh reached the axis.
    pub(crate) fn set_offline(&self, offline: bool) {
        if let Ok(mut g) = self.inner.offline_since.lock() {
            *g = offline.then(Instant::now);
        }
    }

    /// This client's agency, if it is an agency (not an operator) client.
    pub fn agency(&self) -> Option<&AgencyId> {
        self.inner.agency.as_ref()
    }

    /// Whether a personal signer (key and certificate) is configured: [`Client::seal`] and
    /// [`Client::send`] need one; a document without it is sealed alone
    /// ([`Client::seal_without_personal_signature`]) or signed elsewhere ([`Client::prepare`]).
    pub fn has_personal_signer(&self) -> bool {
        self.inner.personal.is_some()
    }

    pub(crate) fn me(&self) -> Result<&AgencyId> {
        self.inner.agency.as_ref().ok_or_else(|| {
            Error::config("this needs an agency configuration (`agency` is not set)")
        })
    }

    /// The configured root certificate (DER).
    pub(crate) fn root(&self) -> &[u8] {
        &self.inner.root
    }

    /// The pinned log signer key (SubjectPublicKeyInfo, DER), if configured.
    pub(crate) fn log_key(&self) -> Option<&[u8]> {
        self.inner.log_key.as_deref()
    }

    /// The trust store: the configured root with the axis's current issuing CAs and CRLs,
    /// fetched again when older than [`TRUST_REFRESH`]. While the axis is unreachable the last
    /// store is used up to [`crate::CachePolicy::max_age`]: its CRLs still expire at their
    /// nextUpdate, so revocation keeps failing closed.
    pub async fn trust_store(&self) -> Result<Arc<TrustStore>> {
        let mut cached = self.inner.trust.lock().await;
        let max_age = self.inner.directory_cache.policy().max_age;
        let usable = match cached.store.as_ref() {
            Some((store, at)) if at.elapsed() < TRUST_REFRESH => return Ok(store.clone()),
            Some((store, at)) if at.elapsed() < max_age => Some((store.clone(), at.elapsed())),
            _ => None,
        };
        if let Some((store, _)) = &usable
            && self.recently_offline()
        {
            return Ok(store.clone());
        }
        let attempts = match usable {
            Some(_) => Attempts::one_round(self.inner.nodes.len()),
            None => Attempts::new(self.inner.nodes.len()),
        };
        match fetch_store(&self.inner.nodes, &self.inner.root, attempts).await {
            Ok(store) => {
                let store = Arc::new(store);
                cached.store = Some((store.clone(), Instant::now()));
                self.set_offline(false);
                Ok(store)
            }
            Err(e) => match usable {
                Some((store, age)) if e.is_retryable() => {
                    tracing::warn!(
                        error = %e,
                        age_secs = age.as_secs(),
                        "the axis is unreachable; using the trust material fetched earlier"
                    );
                    self.set_offline(true);
                    Ok(store)
                }
                _ => Err(e),
            },
        }
    }

    /// Fetches the trust material again now (after a CRL was published, for instance).
    pub async fn refresh_trust(&self) -> Result<Arc<TrustStore>> {
        let store = Arc::new(
            fetch_store(
                &self.inner.nodes,
                &self.inner.root,
                Attempts::new(self.inner.nodes.len()),
            )
            .await?,
        );
        self.inner.trust.lock().await.store = Some((store.clone(), Instant::now()));
        self.set_offline(false);
        Ok(store)
    }

    pub(crate) fn seal_at(
        &self,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<Option<KeyAndCert>> {
        self.own(&self.inner.seal, Profile::AgencySeal, "seal", store, now)
    }

    pub(crate) fn personal_at(
        &self,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<Option<KeyAndCert>> {
        self.own(
            &self.inner.personal,
            Profile::PersonalSigner,
            "personal",
            store,
            now,
        )
    }

    pub(crate) fn encryption_at(
        &self,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<Option<KeyAndCert>> {
        self.own(
            &self.inner.encryption,
            Profile::AgencyEncryption,
            "encryption",
            store,
            now,
        )
    }

    /// The operator's key and certificate (the `[tls]` identity of an operator
    /// configuration), required: it signs directory versions.
    pub(crate) fn require_operator(
        &self,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<KeyAndCert> {
        let cert =
            verify_own(store, &self.inner.tls, Profile::AxisOperator, "tls", now).map_err(|e| {
                e.context("importing the unit directory needs an operator configuration")
            })?;
        Ok(KeyAndCert {
            key: self.inner.tls.clone(),
            cert,
        })
    }

    /// The seal, required.
    pub(crate) fn require_seal(
        &self,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<KeyAndCert> {
        self.seal_at(store, now)?.ok_or_else(|| {
            Error::config(
                "this needs the agency seal: add a [seal] cert and key to the configuration",
            )
        })
    }

    fn own(
        &self,
        cred: &Option<Credential>,
        profile: Profile,
        table: &str,
        store: &TrustStore,
        now: OffsetDateTime,
    ) -> Result<Option<KeyAndCert>> {
        let Some(cred) = cred else { return Ok(None) };
        let me = self.me().map_err(|e| e.context(format!("[{table}]")))?;
        let cert = verify_own(store, cred, profile, table, now)?;
        check_agency(&cert, me, table)?;
        Ok(Some(KeyAndCert {
            key: cred.clone(),
            cert,
        }))
    }

    /// The limits the axis enforces (asked once per client).
    pub async fn limits(&self) -> Result<Limits> {
        self.inner
            .limits
            .get_or_try_init(|| async {
                let nodes = self.nodes();
                nodes
                    .unary(
                        "get limits",
                        Retry::Always,
                        nodes.timeouts.call,
                        Attempts::new(nodes.len()),
                        |ch| async move {
                            nodes::exchange(ch)
                                .get_limits(pb::GetLimitsRequest {})
                                .await
                        },
                    )
                    .await
                    .map(Limits::from)
            })
            .await
            .cloned()
    }
}

pub(crate) async fn fetch_store(
    nodes: &Nodes,
    root: &[u8],
    attempts: Attempts,
) -> Result<TrustStore> {
    let material = nodes
        .unary(
            "get trust material",
            Retry::Always,
            nodes.timeouts.trust_material,
            attempts,
            |ch| async move {
                nodes::directory(ch)
                    .get_trust_material(pb::GetTrustMaterialRequest { history: false })
                    .await
            },
        )
        .await?;
    TrustStore::new(vec![root.to_vec()], material.intermediates, material.crls).map_err(|e| {
        Error::verification(format!(
            "the trust material from the axis is unusable: {e}; tell the axis operator"
        ))
    })
}

fn verify_own(
    store: &TrustStore,
    cred: &Credential,
    profile: Profile,
    table: &str,
    now: OffsetDateTime,
) -> Result<VerifiedCert> {
    let presented: Vec<Vec<u8>> = cred.chain().iter().skip(1).cloned().collect();
    let cert = store
        .verify_with_intermediates(cred.certificate(), &presented, profile, now)
        .map_err(|e| {
            Error::config(format!(
                "[{table}] cert does not verify as a {profile} certificate: {e}; renew or \
                 replace it"
            ))
            .with_source(e)
        })?;
    check_key(cred.key(), &cert, profile, table)?;
    Ok(cert)
}

/// The key is the certificate's, and can do what its slot needs: sign (TLS, seal, personal)
/// or open key envelopes (RSA-OAEP or ECDH, encryption). A key on a token generated for
/// another use is refused here, with its reason, rather than at the first document.
fn check_key(key: &Key, cert: &VerifiedCert, profile: Profile, table: &str) -> Result<()> {
    let wrong_type = |message: String| {
        let reason = axis_keys::reasons::TOKEN_KEY_WRONG_TYPE;
        Error::config(format!("{message} [{reason}]")).with_reason(Some(reason.to_owned()))
    };
    if key.public_key_der() != cert.public_key_der() {
        let cert_alg = axis_pki::PublicKey::from_spki_der(cert.public_key_der())
            .map(|p| p.algorithm())
            .ok();
        return Err(match cert_alg {
            Some(alg) if alg != key.algorithm() => wrong_type(format!(
                "[{table}] key {} is an {} key, but [{table}] cert is for an {alg} key;                  configure the key the certificate was issued for",
                key.location(),
                key.algorithm()
            )),
            _ => Error::config(format!(
                "[{table}] key {} does not belong to [{table}] cert; check the two",
                key.location()
            )),
        });
    }
    let op = match profile {
        Profile::AgencyEncryption if key.algorithm().is_rsa() => KeyOp::Decrypt,
        Profile::AgencyEncryption => KeyOp::Derive,
        _ => KeyOp::Sign,
    };
    if !key.permits(op) {
        return Err(wrong_type(format!(
            "[{table}] key {} is not allowed to {op} on its token; the {table} key needs it              (generate it for that use: `axis-pki` generates encryption keys to decrypt or              derive, every other key to sign)",
            key.location()
        )));
    }
    Ok(())
}

fn check_agency(cert: &VerifiedCert, me: &AgencyId, table: &str) -> Result<()> {
    match cert.agency_id() {
        Some(a) if a == me => Ok(()),
        Some(a) => Err(Error::config(format!(
            "[{table}] cert belongs to agency {a}, but the configuration is for {me}"
        ))),
        None => Err(Error::config(format!(
            "[{table}] cert carries no agency id"
        ))),
    }
}
