//! Gateways for the e2e suite: an `axis-gateway` per agency, in process, configured from files
//! as an administrator writes them (the agency's `axis.toml`, the gateway's TOML, a secret per
//! DMS), on a fresh store (SQLite, or PostgreSQL with `AXIS_TEST_DB=postgres`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use axis_pki::demo::AgencyCreds;

use crate::vxp_client::VxpClient;
use crate::{TestAxis, TestDb, TestPki, write_agency_config};

/// The systemid and secret of the test DMS at every gateway.
pub const SYSTEM: &str = "vxp.saas.01";
pub const SECRET: &[u8] = b"the-dms-shared-secret-0001";

/// A running gateway with its files.
pub struct TestGateway {
    pub running: Option<axis_gateway::Running>,
    pub config: axis_gateway::Config,
    pub config_path: PathBuf,
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

/// Writes a gateway's files for agency `a` into `dir`; `extra` is appended to its TOML.
pub fn write_gateway_config(
    dir: &Path,
    pki: &TestPki,
    a: &AgencyCreds,
    endpoints: &[String],
    database_url: &str,
    extra: &str,
) -> PathBuf {
    let agency = write_agency_config(&dir.join("agency"), pki, a, endpoints);
    write_gateway_config_for(dir, &agency, database_url, extra)
}

/// Writes a gateway's files into `dir` for the agency configuration at `agency` (key files or
/// token keys alike); `extra` is appended to its TOML.
pub fn write_gateway_config_for(
    dir: &Path,
    agency: &Path,
    database_url: &str,
    extra: &str,
) -> PathBuf {
    std::fs::write(dir.join("dms.secret"), SECRET).unwrap();
    let toml = format!(
        "agency_config = \"{}\"\nlisten = \"127.0.0.1:0\"\ndata_dir = \"data\"\n\
         database_url = \"{database_url}\"\nstatus_poll_secs = 1\n{extra}\n\
         [[vxp.systems]]\nid = \"{SYSTEM}\"\nsecret_file = \"dms.secret\"\n",
        agency.display()
    );
    let path = dir.join("axis-gateway.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

impl TestGateway {
    /// Starts agency `a`'s gateway against `axis`.
    pub async fn start(axis: &TestAxis, a: &AgencyCreds) -> Self {
        Self::start_with(axis, a, "").await
    }

    pub async fn start_with(axis: &TestAxis, a: &AgencyCreds, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new().await;
        let config_path =
            write_gateway_config(dir.path(), &axis.pki, a, &[axis.endpoint()], &db.url, extra);
        Self::run(dir, db, config_path).await
    }

    /// Starts a gateway for the agency configuration at `agency` (its keys on a token, say).
    pub async fn start_for(agency: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new().await;
        let config_path = write_gateway_config_for(dir.path(), agency, &db.url, "");
        Self::run(dir, db, config_path).await
    }

    async fn run(dir: tempfile::TempDir, db: TestDb, config_path: PathBuf) -> Self {
        let mut config = axis_gateway::Config::from_file(&config_path).unwrap();
        // Statuses are read often in tests (the file's minimum is a second).
        config.status_poll = Duration::from_millis(200);
        let running = axis_gateway::start(config.clone()).await.unwrap();
        TestGateway {
            running: Some(running),
            config,
            config_path,
            db,
            dir,
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.running.as_ref().unwrap().addr
    }

    pub fn gateway(&self) -> &axis_gateway::Gateway {
        &self.running.as_ref().unwrap().gateway
    }

    /// The legacy DMS's client of this gateway.
    pub fn dms(&self) -> VxpClient {
        VxpClient::new(self.addr(), SYSTEM, SECRET)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        self.db.drop_db().await;
    }
}
