#![forbid(unsafe_code)]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Test harness: a real `axis-server` on port 0 over real mTLS, with a fresh database per test
//! (SQLite in a temporary directory, or a new PostgreSQL database when `AXIS_TEST_DB=postgres`),
//! identities from a throw-away PKI, and documents sealed with the real signer.

use std::path::PathBuf;
use std::sync::Arc;

pub mod fault_proxy;
pub mod gateway;
pub mod json_client;
pub mod process;
pub mod vxp_client;

use axis_pki::demo::{AgencyCreds, DemoPki, Issued};
use axis_pki::{AgencyId, Passphrase, Profile, TrustStore, VerifiedCert, to_pem};
use axis_proto::v1 as pb;
use axis_server::config::{Config, KeyPairFiles, Limits, TrustFiles};
use axis_signer::limits::DEFAULT_CHUNK_SIZE;
use axis_signer::{MessageId, RecipientKey, Sealed, SignedDocument};
use time::OffsetDateTime;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// The passphrase of every key the harness writes.
pub const PASS: &str = "axis-test-passphrase";

/// Which database the suite runs against (`AXIS_TEST_DB=postgres` for PostgreSQL).
pub fn postgres() -> bool {
    std::env::var("AXIS_TEST_DB").is_ok_and(|v| v == "postgres")
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("AXIS_TEST_PG").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A throw-away PKI with the server's identities and `n` agencies.
pub struct TestPki {
    pub pki: DemoPki,
    pub server_tls: Issued,
    pub log: Issued,
    pub operator: Issued,
    pub agencies: Vec<AgencyCreds>,
    /// Serials the issuing CA's CRL lists.
    pub revoked: Vec<axis_pki::Serial>,
}

/// Agency ids for the harness: the two demo agencies, then `000.00.01.H12`, `000.00.01.H13`, …
/// (level 2 from 01, so never one of the first two).
pub fn agency_id(i: usize) -> String {
    match i {
        0 => "000.00.00.G22".into(),
        1 => "000.00.00.H41".into(),
        n => format!("000.00.{:02}.H{:02}", 1 + n / 80, 10 + n % 80),
    }
}

impl TestPki {
    pub fn new(n: usize) -> Self {
        Self::new_at(n, OffsetDateTime::now_utc())
    }

    /// A PKI issued at `at`: its certificates last a year from then, its CRLs 90 days (a PKI
    /// from 100 days ago has stale CRLs and valid certificates).
    pub fn new_at(n: usize, at: OffsetDateTime) -> Self {
        let pki = DemoPki::new(at).unwrap();
        let agencies = (0..n)
            .map(|i| {
                pki.agency(
                    &agency_id(i),
                    &format!("Cơ quan {i}"),
                    &format!("Người ký {i}"),
                    "Chánh Văn phòng",
                )
                .unwrap()
            })
            .collect();
        TestPki {
            server_tls: pki.server_tls().unwrap(),
            log: pki.log_signer().unwrap(),
            operator: pki.operator().unwrap(),
            agencies,
            revoked: Vec::new(),
            pki,
        }
    }

    /// A throw-away PKI with these agencies: (id, name, the person with authority, title).
    pub fn with_agencies(agencies: &[(&str, &str, &str, &str)]) -> Self {
        let mut pki = TestPki::new(0);
        pki.agencies = agencies
            .iter()
            .map(|(id, name, person, title)| pki.pki.agency(id, name, person, title).unwrap())
            .collect();
        pki
    }

    pub fn crls(&self, number: u64) -> (Vec<u8>, Vec<u8>) {
        self.pki.crls(number, &self.revoked).unwrap()
    }

    /// A trust store as a relying party builds it (root, CA, current CRLs).
    pub fn store(&self) -> TrustStore {
        let (r, c) = self.crls(1);
        TrustStore::new(
            vec![self.pki.root.clone()],
            vec![self.pki.ca.clone()],
            vec![r, c],
        )
        .unwrap()
    }

    pub fn verified(&self, cert: &[u8], profile: Profile) -> VerifiedCert {
        self.store()
            .verify(cert, profile, OffsetDateTime::now_utc())
            .unwrap()
    }

    /// A trust store that lists no revocation (to sign with a certificate the axis will find
    /// revoked).
    pub fn store_without_revocations(&self) -> TrustStore {
        let (r, c) = self.pki.crls(1, &[]).unwrap();
        TrustStore::new(
            vec![self.pki.root.clone()],
            vec![self.pki.ca.clone()],
            vec![r, c],
        )
        .unwrap()
    }

    pub fn root_pem(&self) -> String {
        to_pem("CERTIFICATE", &self.pki.root)
    }

    /// A TLS identity (chain and unencrypted key) for a client.
    pub fn identity(&self, who: &Issued) -> Identity {
        let chain = format!(
            "{}{}",
            to_pem("CERTIFICATE", &who.cert),
            to_pem("CERTIFICATE", &self.pki.ca)
        );
        let key = to_pem("PRIVATE KEY", &who.key.to_pkcs8_der());
        Identity::from_pem(chain, key)
    }

    /// Writes the server's files into `dir` and returns its configuration.
    pub fn server_config(&self, dir: &std::path::Path, database_url: &str) -> Config {
        let pass = Passphrase::new(PASS.to_owned());
        let w = |name: &str, data: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, data).unwrap();
            p
        };
        let pair = |name: &str, i: &Issued| {
            KeyPairFiles::new(
                w(
                    &format!("{name}.cert.pem"),
                    to_pem("CERTIFICATE", &i.cert).as_bytes(),
                ),
                w(
                    &format!("{name}.key.pem"),
                    i.key.to_encrypted_pem(&pass).unwrap().as_bytes(),
                ),
            )
        };
        let (root_crl, ca_crl) = self.crls(1);
        Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
            database_url: database_url.to_owned(),
            passphrase_file: None,
            tls: pair("tls", &self.server_tls),
            log_signer: pair("log", &self.log),
            trust: TrustFiles::new(
                w("root.pem", to_pem("CERTIFICATE", &self.pki.root).as_bytes()),
                vec![w("ca.pem", to_pem("CERTIFICATE", &self.pki.ca).as_bytes())],
                vec![
                    w("root.crl", to_pem("X509 CRL", &root_crl).as_bytes()),
                    w("ca.crl", to_pem("X509 CRL", &ca_crl).as_bytes()),
                ],
            ),
            limits: Limits::default(),
            database: Default::default(),
            health: Default::default(),
            notify: Default::default(),
            connections: Default::default(),
            shutdown_drain_secs: 5,
            witnesses: Default::default(),
        }
    }
}

/// A fresh database for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        if postgres() {
            let name = format!(
                "axis_t_{}",
                axis_signer::MessageId::random().unwrap().as_uuid().simple()
            );
            let admin = postgres_admin_url();
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(b, _)| b)
                .to_owned();
            TestDb {
                url: format!("{base}/{name}"),
                pg_name: Some(name),
                _dir: dir,
            }
        } else {
            let url = format!("sqlite://{}", dir.path().join("axis.db").display());
            TestDb {
                url,
                pg_name: None,
                _dir: dir,
            }
        }
    }

    /// Drops a PostgreSQL test database (best effort).
    pub async fn drop_db(&self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) =
                <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url()).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A running axis for one test.
pub struct TestAxis {
    pub pki: Arc<TestPki>,
    pub node: Option<axis_server::Running>,
    /// The node as a process of its own ([`TestAxis::start_logged`]), instead of `node`.
    pub process: Option<process::NodeProcess>,
    pub db: TestDb,
    pub config: Config,
    pub addr: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl TestAxis {
    /// Starts a node on a fresh database and registers every agency of the PKI (through the
    /// operator's `RegisterAgency`).
    pub async fn start(pki: Arc<TestPki>) -> Self {
        Self::start_with(pki, |_| {}).await
    }

    pub async fn start_with(pki: Arc<TestPki>, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new().await;
        let mut config = pki.server_config(dir.path(), &db.url);
        tweak(&mut config);
        let node = axis_server::start(config.clone(), &Passphrase::new(PASS.to_owned()))
            .await
            .unwrap();
        let addr = node.addr;
        let axis = TestAxis {
            pki,
            node: Some(node),
            process: None,
            db,
            config,
            addr,
            _dir: dir,
        };
        register_agencies(axis.addr, &axis.pki).await;
        axis
    }

    /// As [`TestAxis::start_with`], the node a process of its own (`binary`, the
    /// `axis-test-node` the test was built with) whose log is written to `log`.
    pub async fn start_logged(
        pki: Arc<TestPki>,
        binary: &std::path::Path,
        log: &std::path::Path,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new().await;
        let mut config = pki.server_config(dir.path(), &db.url);
        tweak(&mut config);
        let node = process::NodeProcess::start_logged(binary, &config, log);
        let axis = TestAxis {
            pki,
            node: None,
            addr: node.addr,
            process: Some(node),
            db,
            config,
            _dir: dir,
        };
        register_agencies(axis.addr, &axis.pki).await;
        axis
    }

    /// The metrics listener's address.
    pub fn metrics_addr(&self) -> std::net::SocketAddr {
        match (&self.process, &self.node) {
            (Some(p), _) => p.metrics,
            (None, Some(n)) => n.metrics_addr.unwrap(),
            (None, None) => panic!("the node is stopped"),
        }
    }

    /// Another node on the same database (PostgreSQL), on its own port.
    pub async fn second_node(&self) -> axis_server::Running {
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.metrics_listen = None;
        axis_server::start(config, &Passphrase::new(PASS.to_owned()))
            .await
            .unwrap()
    }

    /// Stops the node gracefully and starts it again on the same database and port.
    pub async fn restart(&mut self) {
        if let Some(n) = self.node.take() {
            n.shutdown().await;
        }
        let mut config = self.config.clone();
        config.listen = self.addr;
        let node = axis_server::start(config, &Passphrase::new(PASS.to_owned()))
            .await
            .unwrap();
        self.node = Some(node);
    }

    pub async fn stop(mut self) {
        if let Some(n) = self.node.take() {
            n.shutdown().await;
        }
        drop(self.process.take());
        self.db.drop_db().await;
    }

    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// A TLS channel as `who`.
    pub async fn channel(&self, who: &Issued) -> Channel {
        channel_to(self.addr, &self.pki, who).await.unwrap()
    }

    pub async fn exchange(&self, who: &Issued) -> pb::exchange_client::ExchangeClient<Channel> {
        pb::exchange_client::ExchangeClient::new(self.channel(who).await)
            .max_decoding_message_size(8 * 1024 * 1024)
    }
}

/// Registers every agency of `pki` with the axis at `addr`, as its operator.
pub async fn register_agencies(addr: std::net::SocketAddr, pki: &TestPki) {
    let mut dir_client = pb::directory_client::DirectoryClient::new(
        channel_to(addr, pki, &pki.operator).await.unwrap(),
    );
    for a in &pki.agencies {
        dir_client
            .register_agency(pb::RegisterAgencyRequest {
                agency_id: a.id.to_string(),
                name: a.name.clone(),
                encryption_certificate: a.encryption.cert.clone(),
                seal_certificate: a.seal.cert.clone(),
                parent_id: String::new(),
            })
            .await
            .unwrap();
    }
}

/// Connects to `addr` as `who`.
pub async fn channel_to(
    addr: std::net::SocketAddr,
    pki: &TestPki,
    who: &Issued,
) -> Result<Channel, tonic::transport::Error> {
    endpoint_to(addr, pki, who)?.connect().await
}

/// The endpoint [`channel_to`] connects to, for a caller that sets more on it (its HTTP/2
/// keepalive, say).
pub fn endpoint_to(
    addr: std::net::SocketAddr,
    pki: &TestPki,
    who: &Issued,
) -> Result<Endpoint, tonic::transport::Error> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pki.root_pem()))
        .identity(pki.identity(who))
        .domain_name("localhost");
    Endpoint::from_shared(format!("https://{addr}"))?.tls_config(tls)
}

/// A document sealed by the real signer, ready to submit.
pub struct Package {
    pub begin: pb::SubmitBegin,
    pub ciphertext: Vec<u8>,
    pub sealed: Sealed,
    pub document: SignedDocument,
    pub message_id: MessageId,
}

impl Package {
    /// The Submit stream: begin, then the ciphertext in `chunk`-byte pieces.
    pub fn requests(&self, chunk: usize) -> Vec<pb::SubmitRequest> {
        let mut v = vec![pb::SubmitRequest {
            part: Some(pb::submit_request::Part::Begin(self.begin.clone())),
        }];
        v.extend(self.ciphertext.chunks(chunk).map(|c| pb::SubmitRequest {
            part: Some(pb::submit_request::Part::Chunk(c.to_vec())),
        }));
        v
    }
}

/// Seals `attachments` from `sender` to `recipients`.
pub fn seal(
    pki: &TestPki,
    sender: &AgencyCreds,
    recipients: &[&AgencyCreds],
    attachments: &[(&str, &[u8])],
) -> Package {
    seal_with_id(
        pki,
        sender,
        recipients,
        attachments,
        MessageId::random().unwrap(),
    )
}

pub fn seal_with_id(
    pki: &TestPki,
    sender: &AgencyCreds,
    recipients: &[&AgencyCreds],
    attachments: &[(&str, &[u8])],
    message_id: MessageId,
) -> Package {
    seal_as(
        &pki.store(),
        OffsetDateTime::now_utc(),
        sender,
        recipients,
        attachments,
        message_id,
    )
}

/// Seals with the sender's certificates verified by `store` at `now` (tests sign with revoked
/// or expired certificates this way).
pub fn seal_as(
    store: &TrustStore,
    now: OffsetDateTime,
    sender: &AgencyCreds,
    recipients: &[&AgencyCreds],
    attachments: &[(&str, &[u8])],
    message_id: MessageId,
) -> Package {
    let s = axis_testkit::seal::seal_for(
        store,
        now,
        sender,
        recipients,
        attachments,
        message_id,
        DEFAULT_CHUNK_SIZE,
    );
    Package {
        begin: pb::SubmitBegin {
            routing_header: s.sealed.submission.header().as_bytes().to_vec(),
            submission_signature: s.sealed.submission.signature().to_vec(),
            key_envelope: s.sealed.key_envelope.clone(),
        },
        ciphertext: s.ciphertext,
        sealed: s.sealed,
        document: s.document,
        message_id,
    }
}

/// The recipient's decryption key.
pub fn recipient_key(pki: &TestPki, a: &AgencyCreds) -> RecipientKey {
    RecipientKey::from_pkcs8_der(
        a.encryption.key.to_pkcs8_der(),
        &pki.verified(&a.encryption.cert, Profile::AgencyEncryption),
    )
    .unwrap()
}

/// The `axis-reason` of a failed call.
pub fn reason(status: &tonic::Status) -> String {
    status
        .metadata()
        .get("axis-reason")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// The agency id of a creds set.
pub fn id(a: &AgencyCreds) -> &AgencyId {
    &a.id
}

/// A temporary directory path for test output.
pub fn temp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// An SDK credential from an issued certificate (with the issuing CA after it).
pub fn sdk_credential(i: &Issued, pki: &TestPki) -> axis_client::Credential {
    let key = axis_pki::PrivateKey::from_pkcs8_der(i.key.to_pkcs8_der()).unwrap();
    axis_client::Credential::new(vec![i.cert.clone(), pki.pki.ca.clone()], key).unwrap()
}

/// The SDK configuration of agency `a`, with all four credentials and the log key pinned.
pub fn sdk_config(
    pki: &TestPki,
    a: &AgencyCreds,
    endpoints: &[String],
) -> axis_client::ClientConfig {
    axis_client::ClientConfig::new(
        endpoints[0].clone(),
        "localhost",
        pki.pki.root.clone(),
        sdk_credential(&a.tls, pki),
    )
    .with_endpoints(endpoints.iter().cloned())
    .with_agency(a.id.clone())
    .with_seal(sdk_credential(&a.seal, pki))
    .with_personal(sdk_credential(&a.personal, pki))
    .with_encryption(sdk_credential(&a.encryption, pki))
    .with_log_key(pki.log.cert.clone())
}

/// Writes agency `a`'s `axis.toml` into `dir` as an administrator would lay it out from
/// `axis-pki` output: the root, each certificate (the TLS one with its chain), each key
/// encrypted with [`PASS`], the passphrase in `secrets/pass`. Returns the file's path.
pub fn write_agency_config(
    dir: &std::path::Path,
    pki: &TestPki,
    a: &AgencyCreds,
    endpoints: &[String],
) -> PathBuf {
    let pass = Passphrase::new(PASS.to_owned());
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    std::fs::write(dir.join("secrets/pass"), PASS).unwrap();
    std::fs::write(dir.join("root.cert.pem"), pki.root_pem()).unwrap();
    let mut tables = String::new();
    for (table, i) in [
        ("tls", &a.tls),
        ("seal", &a.seal),
        ("personal", &a.personal),
        ("encryption", &a.encryption),
    ] {
        let mut pem = to_pem("CERTIFICATE", &i.cert);
        if table == "tls" {
            pem.push_str(&to_pem("CERTIFICATE", &pki.pki.ca));
        }
        std::fs::write(dir.join(format!("{table}.cert.pem")), pem).unwrap();
        std::fs::write(
            dir.join(format!("{table}.key.pem")),
            i.key.to_encrypted_pem(&pass).unwrap().as_bytes(),
        )
        .unwrap();
        tables.push_str(&format!(
            "\n[{table}]\ncert = \"{table}.cert.pem\"\nkey = \"{table}.key.pem\"\n"
        ));
    }
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    let toml = format!(
        "agency = \"{}\"\nendpoints = [{}]\nserver_name = \"localhost\"\n\
         root = \"root.cert.pem\"\npassphrase_file = \"secrets/pass\"\n{tables}",
        a.id,
        list.join(", ")
    );
    let path = dir.join("axis.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// An agency whose four keys (TLS, seal, personal, encryption) were generated on a PKCS#11
/// token and certified by the test CA: nothing of it is a key file. Its `axis.toml` names each
/// key by `pkcs11:` URI with the token's PIN file.
pub struct TokenAgency {
    pub id: AgencyId,
    pub name: String,
    /// The seal and encryption certificates (DER), for the directory.
    pub seal: Vec<u8>,
    pub encryption: Vec<u8>,
    /// The agency's `axis.toml`.
    pub config: PathBuf,
}

/// Generates agency `id`'s four keys of type `alg` on `token` (the encryption key allowed to
/// decrypt or derive only, the others to sign only), has the test CA certify them, and writes
/// its `axis.toml` into `dir` (certificates beside it; keys as URIs; no passphrase anywhere).
pub fn token_agency(
    pki: &TestPki,
    token: &axis_testkit::softhsm::TestToken,
    dir: &std::path::Path,
    id: &str,
    alg: axis_pki::KeyAlgorithm,
    endpoints: &[String],
) -> TokenAgency {
    let (name, person) = (format!("Cơ quan {id} (token)"), format!("Người ký {id}"));
    token_agency_named(
        pki,
        token,
        dir,
        (id, &name, &person, "Chánh Văn phòng"),
        alg,
        endpoints,
    )
}

/// [`token_agency`] with its names: (id, name, the person with authority, title).
pub fn token_agency_named(
    pki: &TestPki,
    token: &axis_testkit::softhsm::TestToken,
    dir: &std::path::Path,
    (id, name, person, title): (&str, &str, &str, &str),
    alg: axis_pki::KeyAlgorithm,
    endpoints: &[String],
) -> TokenAgency {
    use axis_keys::{KeyPair as _, KeyUse, Pkcs11Uri, TokenKey};
    let agency = AgencyId::parse(id).unwrap();
    let name = name.to_owned();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("root.cert.pem"), pki.root_pem()).unwrap();
    let mut tables = String::new();
    let mut certs = std::collections::BTreeMap::new();
    for (table, profile) in [
        ("tls", Profile::AgencyTlsClient),
        ("seal", Profile::AgencySeal),
        ("personal", Profile::PersonalSigner),
        ("encryption", Profile::AgencyEncryption),
    ] {
        let usage = if table == "encryption" {
            KeyUse::Decrypt
        } else {
            KeyUse::Sign
        };
        let uri = token.uri(&format!("{id}-{table}"));
        let key = TokenKey::generate(&Pkcs11Uri::parse(&uri).unwrap(), None, alg, usage).unwrap();
        let public = axis_pki::PublicKey::from_spki_der(key.public_key_der()).unwrap();
        let mut subject = axis_pki::Subject::new(&name);
        subject.agency_id = Some(agency.clone());
        if table == "personal" {
            subject.common_name = person.to_owned();
            subject.title = Some(title.to_owned());
            subject.organization = Some(name.clone());
        }
        let cert = pki.pki.issue_for(profile, subject, 365, &public).unwrap();
        let mut pem = to_pem("CERTIFICATE", &cert);
        if table == "tls" {
            pem.push_str(&to_pem("CERTIFICATE", &pki.pki.ca));
        }
        std::fs::write(dir.join(format!("{table}.cert.pem")), pem).unwrap();
        tables.push_str(&format!(
            "\n[{table}]\ncert = \"{table}.cert.pem\"\nkey = \"{uri}\"\n"
        ));
        certs.insert(table, cert);
    }
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    let toml = format!(
        "agency = \"{agency}\"\nendpoints = [{}]\nserver_name = \"localhost\"\n\
         root = \"root.cert.pem\"\n{tables}",
        list.join(", ")
    );
    let config = dir.join("axis.toml");
    std::fs::write(&config, toml).unwrap();
    TokenAgency {
        id: agency,
        name,
        seal: certs.remove("seal").unwrap(),
        encryption: certs.remove("encryption").unwrap(),
        config,
    }
}

/// Registers token agencies with the axis at `addr`, as its operator.
pub async fn register_token_agencies(
    addr: std::net::SocketAddr,
    pki: &TestPki,
    agencies: &[&TokenAgency],
) {
    let mut dir_client = pb::directory_client::DirectoryClient::new(
        channel_to(addr, pki, &pki.operator).await.unwrap(),
    );
    for a in agencies {
        dir_client
            .register_agency(pb::RegisterAgencyRequest {
                agency_id: a.id.to_string(),
                name: a.name.clone(),
                encryption_certificate: a.encryption.clone(),
                seal_certificate: a.seal.clone(),
                parent_id: String::new(),
            })
            .await
            .unwrap();
    }
}
