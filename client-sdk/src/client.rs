//! The connection to the axis: mutual TLS, the trust store built from the root and the axis's
//! trust material, and this agency's verified certificates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axis_pki::{AgencyId, PrivateKey, Profile, TrustStore, VerifiedCert};
use axis_proto::v1 as pb;
use axis_proto::v1::directory_client::DirectoryClient;
use axis_proto::v1::exchange_client::ExchangeClient;
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use zeroize::Zeroizing;

use crate::config::{ClientConfig, Credential};
use crate::convert::status_error;
use crate::directory::Limits;
use crate::error::{Error, Result};

/// How long trust material (issuing CAs, CRLs) fetched from the axis is used before it is fetched
/// again.
pub const TRUST_REFRESH: Duration = Duration::from_secs(10 * 60);

/// Largest response message accepted from the axis (a long history with many recipients).
const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A connected client of the axis, for one agency (or an operator). Cheap to clone: clones
/// share the connection, the trust store and the keys.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    channel: Channel,
    agency: Option<AgencyId>,
    root: Vec<u8>,
    seal: Option<Credential>,
    personal: Option<Credential>,
    encryption: Option<Credential>,
    /// SubjectPublicKeyInfo of the pinned log signer.
    log_key: Option<Vec<u8>>,
    trust: Mutex<Option<(Arc<TrustStore>, Instant)>>,
    limits: OnceCell<Limits>,
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
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects to the axis over mutual TLS and checks this client's own certificates.
    ///
    /// 1. TLS: the configured root is the only CA for the server's certificate, which must be
    ///    for `server_name`; the client presents its TLS certificate (and chain).
    /// 2. `Directory.GetTrustMaterial`: the issuing CAs and CRLs the axis uses become, with the
    ///    configured root, the trust store. The store checks every signature itself, so the axis
    ///    cannot inject trust; the material is fetched again after [`TRUST_REFRESH`].
    /// 3. The TLS, seal, personal-signer and encryption certificates are verified with that store
    ///    for their profiles and this agency, and each matches its key: a revoked, expired or
    ///    misplaced certificate fails here, with its name, not at the first document.
    /// 4. A pinned log signer (`log_key`) is verified for the axis-log-signer profile.
    pub async fn connect(config: ClientConfig) -> Result<Client> {
        let ClientConfig {
            agency,
            endpoint,
            server_name,
            root,
            tls,
            seal,
            personal,
            encryption,
            log_key,
            connect_timeout,
        } = config;
        // Step 1.
        let identity = {
            let chain: String = tls
                .chain()
                .iter()
                .map(|c| axis_pki::to_pem("CERTIFICATE", c))
                .collect();
            let key_pem =
                Zeroizing::new(axis_pki::to_pem("PRIVATE KEY", &tls.key().to_pkcs8_der()));
            Identity::from_pem(chain, key_pem.as_bytes())
        };
        let tls_config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(axis_pki::to_pem(
                "CERTIFICATE",
                &root,
            )))
            .identity(identity)
            .domain_name(server_name.clone());
        let channel = Endpoint::from_shared(endpoint.clone())
            .map_err(|e| Error::config(format!("endpoint = \"{endpoint}\": {e}")))?
            .tls_config(tls_config)
            .map_err(|e| {
                Error::config(format!(
                    "TLS settings: {e}; check [tls] cert and key (do they match?) and root"
                ))
            })?
            .connect_timeout(connect_timeout)
            .tcp_keepalive(Some(Duration::from_secs(30)))
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(true)
            .connect()
            .await
            .map_err(|e| {
                let mut detail = e.to_string();
                let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&e);
                while let Some(s) = source {
                    detail.push_str(": ");
                    detail.push_str(&s.to_string());
                    source = s.source();
                }
                Error::new(
                    crate::ErrorKind::Transport,
                    format!(
                        "cannot connect to the axis at {endpoint} ({detail}); check `endpoint`, \
                         `server_name` (the name in the server's certificate) and `root`"
                    ),
                )
            })?;
        // Step 2.
        let store = Arc::new(fetch_store(&channel, &root).await?);
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
                channel,
                agency,
                root,
                seal,
                personal,
                encryption,
                log_key,
                trust: Mutex::new(Some((store.clone(), Instant::now()))),
                limits: OnceCell::new(),
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
        Ok(client)
    }

    /// This client's agency, if it is an agency (not an operator) client.
    pub fn agency(&self) -> Option<&AgencyId> {
        self.inner.agency.as_ref()
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

    pub(crate) fn channel(&self) -> Channel {
        self.inner.channel.clone()
    }

    pub(crate) fn exchange(&self) -> ExchangeClient<Channel> {
        ExchangeClient::new(self.inner.channel.clone()).max_decoding_message_size(MAX_RESPONSE)
    }

    pub(crate) fn directory_client(&self) -> DirectoryClient<Channel> {
        DirectoryClient::new(self.inner.channel.clone()).max_decoding_message_size(MAX_RESPONSE)
    }

    /// The pinned log signer key (SubjectPublicKeyInfo, DER), if configured.
    pub(crate) fn log_key(&self) -> Option<&[u8]> {
        self.inner.log_key.as_deref()
    }

    /// The trust store: the configured root with the axis's current issuing CAs and CRLs,
    /// fetched again when older than [`TRUST_REFRESH`].
    pub async fn trust_store(&self) -> Result<Arc<TrustStore>> {
        let mut cached = self.inner.trust.lock().await;
        if let Some((store, at)) = cached.as_ref()
            && at.elapsed() < TRUST_REFRESH
        {
            return Ok(store.clone());
        }
        let store = fetch_store(&self.inner.channel, &self.inner.root).await?;
        let store = Arc::new(store);
        *cached = Some((store.clone(), Instant::now()));
        Ok(store)
    }

    /// Fetches the trust material again now (after a CRL was published, for instance).
    pub async fn refresh_trust(&self) -> Result<Arc<TrustStore>> {
        *self.inner.trust.lock().await = None;
        self.trust_store().await
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
                self.exchange()
                    .get_limits(pb::GetLimitsRequest {})
                    .await
                    .map(|r| Limits::from(r.into_inner()))
                    .map_err(|s| status_error("get limits", &s))
            })
            .await
            .cloned()
    }
}

async fn fetch_store(channel: &Channel, root: &[u8]) -> Result<TrustStore> {
    let material = DirectoryClient::new(channel.clone())
        .max_decoding_message_size(MAX_RESPONSE)
        .get_trust_material(pb::GetTrustMaterialRequest { history: false })
        .await
        .map_err(|s| status_error("get trust material", &s))?
        .into_inner();
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
    if !key_matches(cred.key(), &cert) {
        return Err(Error::config(format!(
            "[{table}] key does not belong to [{table}] cert; check the two paths"
        )));
    }
    Ok(cert)
}

fn key_matches(key: &PrivateKey, cert: &VerifiedCert) -> bool {
    key.public_key_der() == cert.public_key_der()
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
